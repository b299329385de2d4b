"""GET /health of a real gunicorn server while PostgreSQL goes away and comes back.

The server reaches the database through a TCP proxy in this process: stopping the proxy drops
every connection and refuses new ones, as a database that went down would; starting it again on
the same port is the database coming back. The server is never restarted.
"""

import json
import signal
import urllib.error
import urllib.request

import pytest

from tests.faults.conftest import database_url, free_port, start_python, stop_group, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def get_health(port: int, timeout: float = 20) -> tuple[int, dict] | None:
    """(status, JSON body) of GET /health, or None when the server does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
    except OSError:
        return None


@pytest.fixture
def server(pg_proxy):
    """gunicorn serving the project, its database behind `pg_proxy`; yields its port."""
    port = free_port()
    env = {
        "DATABASE_URL": database_url(port=pg_proxy.port),
        "DEBUG": "0",
        "SECRET_KEY": "health-recovery-test-key-" + "x" * 40,
        "HTTPS": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
    }
    args = [
        "-m",
        "gunicorn",
        "config.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        "--timeout",
        "60",
    ]
    process = start_python(args, env)
    try:
        wait_for(lambda: get_health(port, timeout=5) or process.poll() is not None, 60, what="gunicorn")
        assert process.poll() is None, process.communicate()
        yield port
    finally:
        stop_group(process, signal.SIGTERM)


def test_health_is_503_while_the_database_is_down_and_200_once_it_is_back(server, pg_proxy):
    assert get_health(server) == (200, {"ok": True, "database": "ok"})
    for _ in range(2):  # down and back twice: the first recovery leaves nothing behind
        pg_proxy.stop()
        for _ in range(2):  # the broken pooled connection, then a refused new one
            status, body = get_health(server)
            assert status == 503 and body["ok"] is False
            assert body["database"].startswith("OperationalError"), body
        pg_proxy.start()
        assert get_health(server) == (200, {"ok": True, "database": "ok"})


def test_health_answers_503_promptly_when_the_database_hangs(server, pg_proxy):
    assert get_health(server)[0] == 200
    pg_proxy.stop()
    pg_proxy.blackhole = True
    pg_proxy.start()
    try:
        answer = get_health(server, timeout=15)
    finally:
        pg_proxy.stop()  # lets a request still waiting on the database fail now
    assert answer is not None, "no answer within 15 s"
    assert answer[0] == 503
