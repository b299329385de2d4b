"""Helpers for the fault and concurrency tests: PostgreSQL URLs, child processes, a TCP proxy.

These tests run real processes against the test database, so they need committed rows: each
uses pytest-django's transactional database, and a serialized rollback puts back what the
migrations created (the Editors and Reviewers groups) after the tables are emptied.
"""

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.conftest import BASE_DIR


def database_url(*, host: str | None = None, port: int | None = None, name: str | None = None) -> str:
    """A DATABASE_URL for the database this test uses (the test database), optionally via a proxy."""
    from django.db import connection

    settings = connection.settings_dict
    user = quote(settings["USER"] or "postgres")
    password = f":{quote(settings['PASSWORD'])}" if settings.get("PASSWORD") else ""
    host = host or settings["HOST"] or "127.0.0.1"
    port = port or int(settings["PORT"] or 5432)
    return f"postgres://{user}{password}@{host}:{port}/{name or settings['NAME']}"


# One hash seed for every child: similar-posts scores are float32 sums whose order follows set
# iteration, so two runs over the same data agree to the last digit only with the same seed.
SAME_HASH_SEED = {"PYTHONHASHSEED": "0"}


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Our environment for a child process of the project, with `extra` on top."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "1", **SAME_HASH_SEED}
    env.update(extra or {})
    env.pop("PYTEST_CURRENT_TEST", None)
    return env


def start_python(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    """Start the project's Python in the background, in a process group of its own (so that it
    and any worker processes it starts can be signalled together by the group's id)."""
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=BASE_DIR,
        env=child_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def stop_group(process: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    """Signal the process group started by start_python (ours alone) and reap the process."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass
    try:
        process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate(timeout=30)


def wait_for(
    condition: Callable[[], object],
    timeout: float,
    interval: float = 0.05,
    what: str = "",
    diagnose: Callable[[], object] | None = None,
):
    """Poll `condition` until it returns something true; fail the test after `timeout` seconds
    (saying what `diagnose` returns then)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            details = f": {diagnose()}" if diagnose else ""
            pytest.fail(f"timed out after {timeout} s waiting for {what or condition}{details}")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class TcpProxy:
    """Forwards a local port to PostgreSQL. stop() drops every connection and refuses new ones
    (the database is gone, as far as clients can tell); start() listens on the same port again.
    With `blackhole` set, new connections are accepted and then never answered."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.port = 0
        self.blackhole = False
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> "TcpProxy":
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.1)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._stopping.clear()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    @property
    def connections(self) -> int:
        with self._lock:
            return len(self._sockets)

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            if self.blackhole:
                self._keep(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            self._keep(client, upstream)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _keep(self, *sockets: socket.socket) -> None:
        with self._lock:
            self._sockets.update(sockets)

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@pytest.fixture
def pg_proxy() -> Iterator[TcpProxy]:
    """A running proxy to the test database's server; stopped at the end of the test."""
    from django.db import connection

    settings = connection.settings_dict
    proxy = TcpProxy((settings["HOST"] or "127.0.0.1", int(settings["PORT"] or 5432))).start()
    yield proxy
    proxy.stop()


# The Redis the shared-cache tests use: .ci/run starts one and sets REQUIRE_REDIS=1, so there
# these tests fail instead of skipping when it does not answer.
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def shared_redis():
    """A Redis client on REDIS_URL's database, emptied before and after the test."""
    import redis

    server = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5)
    try:
        server.ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(f"REQUIRE_REDIS=1 but no Redis answers at {REDIS_URL}")
        pytest.skip(f"no Redis server at {REDIS_URL}")
    server.flushdb()
    yield server
    server.flushdb()


def gunicorn_database(tmp_path: Path) -> str:
    """A DATABASE_URL gunicorn's workers can open for the test database: PostgreSQL's as it is;
    SQLite's in-memory test database copied to a file."""
    from django.db import connection

    if connection.vendor != "sqlite":
        return database_url()
    path = tmp_path / "db.sqlite3"
    connection.ensure_connection()
    target = sqlite3.connect(path)
    try:
        connection.connection.backup(target)
    finally:
        target.close()
    return f"sqlite:///{path}"


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def start_gunicorn(env: dict[str, str], access_log: Path) -> tuple[subprocess.Popen, int]:
    """gunicorn with 2 workers and ``env``, answering /health: (process, port). Its access log
    names the process of each answer (``%(p)s %(s)s %(U)s``); stop it with stop_group."""
    port = free_port()
    args = [
        "-m", "gunicorn", "config.wsgi",
        "--bind", f"127.0.0.1:{port}",
        "--workers", "2",
        "--timeout", "60",
        "--access-logfile", str(access_log),
        "--access-logformat", "%(p)s %(s)s %(U)s",
    ]  # fmt: skip
    process = start_python(args, env)
    wait_for(lambda: healthy(port) or process.poll() is not None, 60, what="gunicorn")
    assert process.poll() is None, process.communicate()
    return process, port
