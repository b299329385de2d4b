"""Static files are collected with hashed names and served by whitenoise under gunicorn."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import BASE_DIR, run_python


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def production_env(tmp_path):
    return {
        "DEBUG": "0",
        "HTTPS": "0",
        "SECRET_KEY": "static-test-key-" + "k" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "STATIC_ROOT": str(tmp_path / "static"),
    }


def test_whitenoise_serves_hashed_compressed_files_under_gunicorn(production_env):
    collected = run_python(["manage.py", "collectstatic", "--no-input"], env=production_env)
    assert collected.returncode == 0, collected.stderr
    static_root = Path(production_env["STATIC_ROOT"])
    hashed = sorted(static_root.glob("css/site.*.css"))
    assert hashed, "collectstatic wrote no hashed copy of css/site.css"
    assert Path(str(hashed[0]) + ".gz").exists()

    port = _free_port()
    env = {**os.environ, **production_env}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}/static/css/{hashed[0].name}"
        deadline = time.monotonic() + 30
        while True:
            try:
                request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
                with urllib.request.urlopen(request, timeout=5) as response:
                    headers, status = response.headers, response.status
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert "immutable" in headers["Cache-Control"]
    assert headers["Content-Type"].startswith("text/css")
