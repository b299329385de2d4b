"""What the benchmark scripts share: the production settings they run the app with."""

import os

SECRET_KEY = "bench-" + "x" * 60


def production_env(
    host: str, database: str, base: dict[str, str] | None = None, **extra: str
) -> dict[str, str]:
    """Production settings (DEBUG off, plain HTTP) on the benchmark database, over ``base``
    (the current environment when not given) and then ``extra``."""
    return {
        **(os.environ if base is None else base),
        "DEBUG": "0",
        "HTTPS": "0",
        "SECRET_KEY": SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": f"postgres://postgres@{host}:5432/{database}",
        "LOG_LEVEL": "WARNING",
        **extra,
    }
