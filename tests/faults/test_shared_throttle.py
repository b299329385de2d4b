"""The anonymous API limit under gunicorn with two workers: one count with a shared cache.

DRF keeps each client's request times in the default cache. With ``CACHE_URL`` naming a shared
cache (a file cache in a temporary folder, and Redis as across machines) both workers read and
write the same count, so the limit holds for the whole server. With the in-memory default each
worker counts on its own, as README says; the second case shows it, and so shows that the requests
really reach both workers.

Which worker accepts a connection is the kernel's choice, so the test makes it: a first request
is held open half-sent, which keeps one worker busy while the next requests go to the other; then
it is completed. Gunicorn's access log names the process of each answer.
"""

import ipaddress
import re
import signal
import socket
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.faults.conftest import REDIS_URL, gunicorn_database, start_gunicorn, stop_group, wait_for

# No transaction held open: SQLite's in-memory test database can then be copied to a file.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

LIMIT = 5
PATH = "/api/articles/"


@pytest.fixture
def serve(tmp_path):
    """``serve(cache_url)``: gunicorn with 2 workers on the test database, the anonymous limit at
    LIMIT a minute and X-Forwarded-For not trusted; returns (port, access log path)."""
    started = []
    database = gunicorn_database(tmp_path)

    def start(cache_url: str) -> tuple[int, Path]:
        access_log = tmp_path / f"access-{len(started)}.log"
        env = {
            "DATABASE_URL": database,
            "DEBUG": "0",
            "SECRET_KEY": "shared-throttle-test-key-" + "t" * 40,
            "HTTPS": "0",
            "ALLOWED_HOSTS": "127.0.0.1",
            "LOG_LEVEL": "WARNING",
            "STATIC_ROOT": str(tmp_path / "static"),
            "API_THROTTLE_ANON": f"{LIMIT}/minute",
            "CACHE_URL": cache_url,
            "TRUSTED_PROXIES": "0",
            "SIGNIN_TRUSTED_PROXIES": "",
        }
        process, port = start_gunicorn(env, access_log)
        started.append(process)
        return port, access_log

    yield start
    for process in started:
        stop_group(process, signal.SIGTERM)


def spoofed_addresses():
    number = 0
    while True:
        number += 1
        yield str(ipaddress.IPv4Address("198.18.0.0") + number)


def get(port: int, forwarded: str) -> tuple[int, str | None]:
    """(status, Retry-After) of one request on a fresh connection."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{PATH}",
        headers={"Accept": "application/json", "X-Forwarded-For": forwarded, "Connection": "close"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers.get("Retry-After")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Retry-After")


class HalfSentRequest:
    """A request whose headers are not finished: the worker that accepted it waits for the rest."""

    def __init__(self, port: int, forwarded: str):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.sendall(
            f"GET {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n"
            f"X-Forwarded-For: {forwarded}\r\nConnection: close\r\n".encode()
        )

    def finish(self) -> tuple[int, str | None]:
        self.sock.sendall(b"\r\n")
        data = b""
        while chunk := self.sock.recv(65536):
            data += chunk
        self.sock.close()
        head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
        status = int(head.split(" ", 2)[1])
        retry_after = re.search(r"^Retry-After:\s*(\S+)", head, re.MULTILINE | re.IGNORECASE)
        return status, retry_after.group(1) if retry_after else None


def requests_over_both_workers(port: int, total: int) -> list[tuple[int, str | None]]:
    """``total`` requests, each with a new made-up X-Forwarded-For, on fresh connections, spread
    over both workers: the first three go to one while a half-sent request holds the other, the
    held one comes fourth, the rest go wherever the kernel sends them."""
    addresses = spoofed_addresses()
    held = HalfSentRequest(port, next(addresses))
    answers = [get(port, next(addresses)) for _ in range(3)]
    answers.append(held.finish())
    answers += [get(port, next(addresses)) for _ in range(total - 4)]
    return answers


def worker_pids(access_log: Path) -> set[str]:
    def logged():
        lines = access_log.read_text().splitlines() if access_log.exists() else []
        return [line for line in lines if line.endswith(PATH)]

    lines = wait_for(lambda: len(logged()) >= 8 and logged(), 10, what="the access log")
    return {line.split()[0] for line in lines}


@pytest.fixture(params=["file", "redis"])
def shared_cache_url(request, tmp_path):
    """A cache both workers share: files in a temporary folder, or Redis (as across machines)."""
    if request.param == "redis":
        request.getfixturevalue("shared_redis")
        return REDIS_URL
    return f"file://{tmp_path / 'cache'}"


def test_a_shared_cache_makes_one_limit_for_every_worker(serve, shared_cache_url):
    port, access_log = serve(shared_cache_url)
    answers = requests_over_both_workers(port, LIMIT + 3)
    assert len(worker_pids(access_log)) == 2, "the requests did not reach both workers"
    statuses = [status for status, _ in answers]
    assert statuses == [200] * LIMIT + [429] * 3, statuses
    for status, retry_after in answers:
        if status == 429:
            assert retry_after is not None and 0 < int(retry_after) <= 60


def test_with_the_in_memory_cache_each_worker_counts_alone(serve):
    """README's caveat: without CACHE_URL each process keeps its own count, so two workers let
    more than the limit through. (This is what the shared cache above prevents.)"""
    port, access_log = serve("locmem://")
    answers = requests_over_both_workers(port, LIMIT + 3)
    assert len(worker_pids(access_log)) == 2, "the requests did not reach both workers"
    served = sum(status == 200 for status, _ in answers)
    assert served > LIMIT, [status for status, _ in answers]
