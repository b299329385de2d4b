"""The anonymous read cache shared through Redis by two gunicorn worker processes.

One worker builds a reader page and stores it; the other serves what is stored. To tell a page
served from Redis from one built again, the test changes the stored entry in Redis between the
two requests (the same number of bytes, so the stored value stays readable): only an answer
read from Redis carries the change. Skipped only when no Redis server answers (TEST_REDIS_URL,
tests/faults/conftest.py); .ci/run starts one and makes its absence a failure.

Which worker accepts a connection is the kernel's choice, so the test makes it, as
test_shared_throttle.py does: a first request is held open half-sent, which keeps one worker
busy while the next request goes to the other. Gunicorn's access log names each answer's process.
"""

import signal
import socket

import pytest

from tests.faults.conftest import REDIS_URL, gunicorn_database, start_gunicorn, stop_group, wait_for

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ORIGINAL = b"production checklist"
CHANGED = b"PRODUCTION CHECKLIST"  # as long as ORIGINAL


@pytest.fixture
def gunicorn(tmp_path, shared_redis, sample_article):
    """gunicorn with 2 workers on the test database (with the sample article: SQLite's is copied
    when it starts) and CACHE_URL naming Redis: (port, access log)."""
    access_log = tmp_path / "access.log"
    env = {
        "DATABASE_URL": gunicorn_database(tmp_path),
        "DEBUG": "1",  # static files by their plain names: no collectstatic needed
        "CACHE_URL": REDIS_URL,
        "READ_CACHE": "1",
        "LOG_LEVEL": "WARNING",
        "STATIC_ROOT": str(tmp_path / "static"),
    }
    process, port = start_gunicorn(env, access_log)
    try:
        yield port, access_log
    finally:
        stop_group(process, signal.SIGTERM)


def request_bytes(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/html\r\nConnection: close\r\n".encode()


def read_answer(sock: socket.socket) -> tuple[int, bytes]:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    sock.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def get(port: int, path: str) -> tuple[int, bytes]:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(request_bytes(path) + b"\r\n")
    return read_answer(sock)


def test_a_shared_redis_cache_serves_every_process(shared_redis, gunicorn, sample_article):
    port, access_log = gunicorn
    path = f"/articles/{sample_article.slug}/"
    before = set(shared_redis.keys())
    held = socket.create_connection(("127.0.0.1", port), timeout=30)
    held.sendall(request_bytes(path))  # headers unfinished: the worker that took it waits

    status, built = get(port, path)  # so the other worker builds the page and stores it
    assert status == 200 and ORIGINAL in built and CHANGED not in built
    stored = [key for key in set(shared_redis.keys()) - before if ORIGINAL in (shared_redis.get(key) or b"")]
    assert stored, "the page was not stored in Redis"
    for key in stored:
        shared_redis.set(key, shared_redis.get(key).replace(ORIGINAL, CHANGED), keepttl=True)

    held.sendall(b"\r\n")
    status, served = read_answer(held)
    assert status == 200
    assert served == built.replace(ORIGINAL, CHANGED), "the second worker did not serve the stored page"

    def page_lines():
        lines = access_log.read_text().splitlines() if access_log.exists() else []
        return [line.split() for line in lines if line.endswith(path)]

    answers = wait_for(lambda: len(page_lines()) >= 2 and page_lines(), 10, what="the access log")
    assert len(answers) == 2 and answers[0][0] != answers[1][0], f"not two processes: {answers}"
    shared_redis.delete(*stored)


def test_the_held_request_keeps_its_worker_busy(gunicorn):
    """The premise of the test above: while one worker waits for a request's end, another answers."""
    port, _ = gunicorn
    held = socket.create_connection(("127.0.0.1", port), timeout=30)
    held.sendall(request_bytes("/health"))
    assert get(port, "/health")[0] == 200
    held.sendall(b"\r\n")
    assert read_answer(held)[0] == 200
