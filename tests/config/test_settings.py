"""Settings come from the environment and are secure by default."""

from tests.conftest import run_python

PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "x7#kP2@qL9!vR4$mN8^wT1&zB6*cF3(hJ5)dG0-sY2+eU7=aQ4_iO9~pK1",
    "ALLOWED_HOSTS": "kb.example.com",
    "HTTPS": None,
    "CSRF_TRUSTED_ORIGINS": None,
}


def test_refuses_to_start_without_secret_key_when_debug_is_off():
    result = run_python(["manage.py", "check"], env={"DEBUG": "0", "SECRET_KEY": None})
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_starts_without_secret_key_in_debug():
    result = run_python(["manage.py", "check"], env={"DEBUG": "1", "SECRET_KEY": None})
    assert result.returncode == 0, result.stderr


def test_deploy_check_is_clean_in_production():
    result = run_python(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env=PRODUCTION)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_deploy_check_warns_for_plain_http():
    """HTTPS=0 is for local runs only: the deploy check says so."""
    result = run_python(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env={**PRODUCTION, "HTTPS": "0"}
    )
    assert result.returncode != 0
    assert "SECURE_SSL_REDIRECT" in result.stderr + result.stdout


def test_bad_boolean_is_named():
    result = run_python(["manage.py", "check"], env={"DEBUG": "maybe"})
    assert result.returncode != 0
    assert "DEBUG must be 0 or 1" in result.stderr


def test_media_storage_comes_from_the_environment():
    code = (
        "import django; django.setup(); from django.core.files.storage import storages; "
        "print(type(storages['default']).__name__)"
    )
    env = {"DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "1"}
    default = run_python(["-c", code], env=env)
    assert default.returncode == 0, default.stderr
    assert default.stdout.strip() == "FileSystemStorage"
    other = run_python(
        ["-c", code], env={**env, "MEDIA_STORAGE": "django.core.files.storage.InMemoryStorage"}
    )
    assert other.returncode == 0, other.stderr
    assert other.stdout.strip() == "InMemoryStorage"
