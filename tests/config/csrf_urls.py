"""Pages for the compression tests: the same long page with and without a CSRF token, and a private one."""

from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.urls import path

FILLER = "<p>" + "words that compress well " * 200 + "</p>"


def form(request):
    token = get_token(request)
    return HttpResponse(
        f'<form method="post"><input name="csrfmiddlewaretoken" value="{token}"></form>{FILLER}'
    )


def plain(request):
    return HttpResponse(f"<form method='get'></form>{FILLER}")


def private(request):
    response = HttpResponse(FILLER)
    response["Cache-Control"] = "private, max-age=0"
    return response


urlpatterns = [path("form/", form), path("plain/", plain), path("private/", private)]
