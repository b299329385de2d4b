"""One client address for every per-client limit: the API's rate limits and the sign-in throttle.

``X-Forwarded-For`` is trusted only as far as ``TRUSTED_PROXIES`` reverse proxies wrote it, so a
client cannot start a fresh count by sending a made-up header.
"""

import ipaddress
import itertools

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st
from rest_framework.test import APIClient

from config import throttling
from config.client_address import client_address
from tests.conftest import run_python

pytestmark = pytest.mark.django_db

LIST_URL = "/api/articles/"
LIMIT = 3


@pytest.fixture
def anon_limit(monkeypatch):
    """The anonymous API limit, lowered to LIMIT requests a minute (DRF reads its rates once, at
    import, so the throttle class is given the rate)."""
    monkeypatch.setattr(throttling.AnonRateThrottle, "rate", f"{LIMIT}/minute", raising=False)
    return LIMIT


def random_addresses():
    """A new made-up address for each request, as a client escaping the limit would send."""
    for number in itertools.count(1):
        yield str(ipaddress.IPv4Address("198.18.0.0") + number)


def refused(response) -> bool:
    if response.status_code != 429:
        assert response.status_code == 200, response.content
        return False
    assert 0 < int(response["Retry-After"]) <= 60
    return True


# -- the rule ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("proxies", "forwarded", "remote", "expected"),
    [
        (0, "203.0.113.5", "10.0.0.1", "10.0.0.1"),  # no proxy trusted: the header is ignored
        (1, "203.0.113.5", "10.0.0.1", "203.0.113.5"),
        (1, "198.51.100.66, 203.0.113.5", "10.0.0.1", "203.0.113.5"),  # the client's own entry is not used
        (2, "198.51.100.66, 203.0.113.5, 10.0.0.2", "10.0.0.1", "203.0.113.5"),
        (2, "203.0.113.5", "10.0.0.1", "10.0.0.1"),  # fewer entries than proxies: REMOTE_ADDR
        (1, "", "10.0.0.1", "10.0.0.1"),
        (1, " , 203.0.113.5 ,", "10.0.0.1", "203.0.113.5"),  # empty entries and spaces do not count
    ],
)
def test_the_client_address(rf, settings, proxies, forwarded, remote, expected):
    settings.TRUSTED_PROXIES = proxies
    request = rf.get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == expected


ENTRY = st.text(st.characters(exclude_characters=",", exclude_categories=["Cs"]), max_size=20)


@given(
    sent=st.lists(ENTRY, max_size=5),
    client=st.ip_addresses().map(str),
    hops=st.lists(st.ip_addresses().map(str), min_size=1, max_size=4),
)
def test_whatever_the_client_sends_the_proxies_entry_is_counted(sent, client, hops):
    """A chain of proxies: the first sees the client, each appends its peer to the header the
    client started; the app sees the last proxy as REMOTE_ADDR. Only the first proxy's entry names
    the client, whatever the client wrote before it."""
    from django.conf import settings
    from django.test import RequestFactory, override_settings

    header, peer = list(sent), client
    for proxy in hops:
        header.append(peer)
        peer = proxy
    request = RequestFactory().get("/", REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=", ".join(header))
    with override_settings(TRUSTED_PROXIES=len(hops)):
        assert settings.TRUSTED_PROXIES == len(hops)
        assert client_address(request) == client
    with override_settings(TRUSTED_PROXIES=0):
        assert client_address(request) == peer  # no proxy trusted: the connection's peer


# -- the anonymous API limit --------------------------------------------------------------------


def test_a_random_forwarded_header_does_not_escape_the_anonymous_limit(anon_limit):
    client, spoofed = APIClient(), random_addresses()
    for _ in range(anon_limit):
        response = client.get(LIST_URL, REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR=next(spoofed))
        assert not refused(response)
    for _ in range(3):
        response = client.get(LIST_URL, REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR=next(spoofed))
        assert refused(response)
    assert response.json()["detail"].startswith("Request was throttled")
    # Another client is counted apart.
    assert not refused(client.get(LIST_URL, REMOTE_ADDR="192.0.2.2"))


def test_behind_one_proxy_the_address_it_added_is_counted(settings, anon_limit):
    settings.TRUSTED_PROXIES = 1
    client, spoofed = APIClient(), random_addresses()

    def through_proxy(real: str, *sent: str):
        # The proxy (10.0.0.1) appends the address it saw to whatever the client sent.
        return client.get(LIST_URL, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=", ".join([*sent, real]))

    for _ in range(anon_limit):
        assert not refused(through_proxy("203.0.113.5", next(spoofed)))
    assert refused(through_proxy("203.0.113.5", next(spoofed)))  # a new left-most entry
    assert refused(through_proxy("203.0.113.5", next(spoofed), next(spoofed)))  # or two
    assert refused(through_proxy("203.0.113.5"))
    # The proxy's own address is not one shared count: another client behind it still gets in.
    assert not refused(through_proxy("203.0.113.6"))
    assert not refused(through_proxy("203.0.113.6", "203.0.113.5"))  # naming another client changes nothing


def test_signed_in_clients_are_counted_by_user_not_address(settings, anon_limit, django_user_model):
    """The anonymous limit does not apply to a token; the user limit counts the user."""
    from rest_framework.authtoken.models import Token

    user = django_user_model.objects.create_user("member", password="pw-member")
    token = Token.objects.create(user=user)
    anonymous, member = APIClient(), APIClient()
    member.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    for _ in range(anon_limit):
        assert not refused(anonymous.get(LIST_URL, REMOTE_ADDR="192.0.2.1"))
    assert refused(anonymous.get(LIST_URL, REMOTE_ADDR="192.0.2.1"))
    assert not refused(member.get(LIST_URL, REMOTE_ADDR="192.0.2.1"))


# -- the sign-in limit, the same rule ----------------------------------------------------------

SIGN_IN = "/admin/login/"


def failed_sign_in(username: str, remote: str, forwarded: str):
    return Client().post(
        SIGN_IN,
        {"username": username, "password": "wrong", "next": "/admin/"},
        REMOTE_ADDR=remote,
        HTTP_X_FORWARDED_FOR=forwarded,
    )


@pytest.mark.parametrize("proxies", [0, 1])
def test_spoofed_entries_do_not_escape_the_sign_in_limit(settings, proxies):
    """Each attempt tries another username (so only the address counts) and sends a new
    left-most X-Forwarded-For entry; behind one proxy the proxy appends the client's address."""
    settings.TRUSTED_PROXIES = proxies
    settings.SIGNIN_FAILURE_LIMIT = 3
    spoofed = random_addresses()
    remote = "10.0.0.1" if proxies else "192.0.2.1"
    suffix = ", 203.0.113.5" if proxies else ""
    for number in range(3):
        response = failed_sign_in(f"guess{number}", remote, next(spoofed) + suffix)
        assert response.status_code == 200
    refused_attempt = failed_sign_in("guess-last", remote, next(spoofed) + suffix)
    assert refused_attempt.status_code == 429 and int(refused_attempt["Retry-After"]) > 0
    if proxies:  # another client behind the same proxy is not refused
        assert failed_sign_in("guess-other", remote, "203.0.113.6").status_code == 200


def test_the_api_and_the_sign_in_count_the_same_address(rf, settings):
    """Both throttles call the one helper: for any request they name the same client."""
    from config.signin.throttle import Attempt

    settings.TRUSTED_PROXIES = 1
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.9, 203.0.113.5")
    assert throttling.AnonRateThrottle().get_ident(request) == "203.0.113.5"
    assert throttling.UserRateThrottle().get_ident(request) == "203.0.113.5"
    assert Attempt.from_request(request, "root").address == "203.0.113.5"


# -- the setting ----------------------------------------------------------------------------------

READ_SETTING = (
    "import django; django.setup(); from django.conf import settings; print(settings.TRUSTED_PROXIES)"
)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "0"),
        ({"TRUSTED_PROXIES": "2"}, "2"),
        ({"SIGNIN_TRUSTED_PROXIES": "1"}, "1"),  # the older name still counts
        ({"TRUSTED_PROXIES": "1", "SIGNIN_TRUSTED_PROXIES": "1"}, "1"),
    ],
)
def test_trusted_proxies_come_from_the_environment(env, expected):
    base = {"DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "1"}
    unset = {"TRUSTED_PROXIES": None, "SIGNIN_TRUSTED_PROXIES": None}
    result = run_python(["-c", READ_SETTING], env={**base, **unset, **env})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TRUSTED_PROXIES": "-1"}, "TRUSTED_PROXIES must be a number of proxies"),
        ({"TRUSTED_PROXIES": "one"}, "TRUSTED_PROXIES must be a number of proxies"),
        ({"TRUSTED_PROXIES": "1", "SIGNIN_TRUSTED_PROXIES": "2"}, "disagree"),
    ],
)
def test_a_bad_proxy_count_is_refused(env, message):
    base = {"DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "1"}
    unset = {"TRUSTED_PROXIES": None, "SIGNIN_TRUSTED_PROXIES": None}
    result = run_python(["-c", READ_SETTING], env={**base, **unset, **env})
    assert result.returncode != 0
    assert message in result.stderr
