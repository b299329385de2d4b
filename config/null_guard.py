"""Refuse a NUL character in what a request names: its path, query string, form body or credentials.

No page, API route or admin view has a use for U+0000, and PostgreSQL refuses it in any text it
compares ("A string literal cannot contain NUL"), so a NUL that reached a query would be a 500.
One check here, before any view, answers 400 instead: the site's 400 page, or under /api/ a JSON
answer naming each parameter (as the API's own validation does). It reads a form body only where
Django parses one anyway (a POST of a form) or the body is small URL-encoded text; JSON and
text/plain bodies are left to the views, whose validation refuses NUL in text fields itself.
"""

from django.conf import settings
from django.http import QueryDict

from config.errors import bad_request

NUL = "\x00"
MESSAGE = "Null characters are not allowed."
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class NullCharacterGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        errors = null_character_errors(request)
        if errors:
            return bad_request(request, errors=errors)
        return self.get_response(request)


def null_character_errors(request) -> dict[str, list[str]]:
    """Where the request holds a NUL: parameter or field name -> messages; "detail" for the rest."""
    errors: dict[str, list[str]] = {}
    if NUL in request.path:
        errors["detail"] = ["The address holds a null character (%00); no page has one."]
    _check_params(request.GET, errors)
    if request.content_type in FORM_TYPES:
        if request.method == "POST":
            # (Django drops non-printable characters from the names of uploaded files itself.)
            _check_params(request.POST, errors)
        elif request.content_type == FORM_TYPES[0]:
            _check_params(QueryDict(request.body, encoding=request.encoding), errors)
    # Credentials looked up in the database: the session key and an API token.
    session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME, "")
    if NUL in session_key or NUL in request.META.get("HTTP_AUTHORIZATION", ""):
        errors.setdefault("detail", []).append("The credentials hold a null character.")
    return errors


def _check_params(params: QueryDict, errors: dict[str, list[str]]) -> None:
    for name, values in params.lists():
        if NUL in name:
            errors.setdefault("detail", []).append("A parameter name holds a null character.")
        elif any(NUL in value for value in values):
            errors.setdefault(name, []).append(MESSAGE)
