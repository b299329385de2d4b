"""Fixtures of the security tests: the four roles and clients signed in as each."""

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

ROLES = ("anonymous", "editor", "reviewer", "superuser")


@pytest.fixture
def role_user(request):
    """``role_user(role)``: the user of a role (None for anonymous)."""

    def user(role: str):
        return None if role == "anonymous" else request.getfixturevalue(role)

    return user


@pytest.fixture
def browser_as(role_user):
    """``browser_as(role)``: a test client with an admin session for the role (none for anonymous)."""

    def make(role: str, **options) -> Client:
        client = Client(**options)
        user = role_user(role)
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def api_as(role_user):
    """``api_as(role)``: an API client sending the role's token (no credentials for anonymous)."""

    def make(role: str, **options) -> APIClient:
        client = APIClient(**options)
        user = role_user(role)
        if user is not None:
            token, _ = Token.objects.get_or_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make
