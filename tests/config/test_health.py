"""GET /health: 200 after a real query, 503 when the database cannot be reached."""

import json

import pytest

from tests.conftest import run_python

PROBE = (
    "import django, json; django.setup();"
    "from django.test import Client;"
    "r = Client().get('/health');"
    "print(json.dumps({'status': r.status_code, 'body': json.loads(r.content)}))"
)


@pytest.mark.django_db
def test_health_answers_ok_after_a_real_query(client, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"ok": True, "database": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_health_needs_no_login_and_refuses_writes(client):
    assert client.post("/health").status_code == 405


@pytest.mark.parametrize(
    "database_url",
    ["postgres://postgres@127.0.0.1:1/unreachable", "sqlite:////nonexistent-dir/for/health/db.sqlite3"],
    ids=["postgres-refused", "sqlite-unopenable"],
)
def test_health_answers_503_when_the_database_is_unreachable(database_url):
    result = run_python(
        ["-c", PROBE],
        env={"DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "1", "DATABASE_URL": database_url},
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["status"] == 503
    assert answer["body"]["ok"] is False
    assert answer["body"]["database"].startswith("OperationalError")
