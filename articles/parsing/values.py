"""Reading one value of the meta box: whole numbers, scores, flags, versions, dates and URLs.

Each checker takes the value as written and returns ``(value, "")`` or ``(None, message)``;
``CHECKERS`` maps the kinds of record fields to them.
"""

from __future__ import annotations

import datetime
from urllib.parse import urlsplit

from .lines import short

MAX_INT = 2**63 - 1
"""Largest accepted whole number (fits a signed 64-bit database column)."""


def check_int(value: str, low: int = 0, high: int = MAX_INT) -> tuple[int | None, str]:
    """Parse a whole number made of ASCII digits within ``low..high``; return (value, error)."""
    if value.isascii() and value.isdigit():  # non-empty and only 0-9
        stripped = value.lstrip("0") or "0"
        if len(stripped) > len(str(high)):
            expected = _expected_int(low, high)
            return None, f"expected {expected}, got a number that is too large ({len(stripped)} digits)"
        number = int(stripped)
        if low <= number <= high:
            return number, ""
    return None, f"expected {_expected_int(low, high)}, got {short(value)}"


def _expected_int(low: int, high: int) -> str:
    """Describe the accepted numbers for an error message (built only when there is an error)."""
    if high == MAX_INT:
        return "a whole number (0 or more)"
    return f"a whole number from {low} to {high}"


_SCORES = {str(number): number for number in range(101)}


def _check_score(value: str) -> tuple[int | None, str]:
    """A score: a whole number from 0 to 100."""
    number = _SCORES.get(value)  # "0" to "100" as usually written; check_int decides the rest
    if number is not None:
        return number, ""
    return check_int(value, 0, 100)


def _check_flag(value: str) -> tuple[bool | None, str]:
    """A flag: 0 or 1, returned as a bool."""
    if value in ("0", "1"):
        return value == "1", ""
    return None, f"expected 0 or 1, got {short(value)}"


# A version is MAJOR.MINOR.PATCH, each part a whole number of at most nine digits: every part fits
# a 32-bit integer, the three fit the 40-character version columns, and a version read back always
# parses again. The parser, the content validator (edits, the API, the admin, restores) and the
# version bumps of publishing and rolling back all go through parse_version and version_problem.
VERSION_PART_DIGITS = 9
VERSION_PART_MAX = 10**VERSION_PART_DIGITS - 1


def parse_version(value: str | None) -> tuple[int, int, int] | None:
    """(major, minor, patch) of a valid version, else None (see ``version_problem``)."""
    if not value or version_problem(value):
        return None
    major, minor, patch = (int(part) for part in value.split("."))
    return major, minor, patch


def version_problem(value: str) -> str:
    """What is wrong with a version string, or "" when it is a valid MAJOR.MINOR.PATCH."""
    parts = value.split(".")
    if len(parts) != 3 or not all(part.isascii() and part.isdigit() for part in parts):
        return f"expected a version MAJOR.MINOR.PATCH such as 1.5.4, got {short(value)}"
    if any(len(part) > VERSION_PART_DIGITS for part in parts):
        return (
            f"each part of a version is a whole number of at most {VERSION_PART_DIGITS} digits "
            f"(up to {VERSION_PART_MAX:,}), got {short(value)}"
        )
    return ""


def _check_version(value: str) -> tuple[str | None, str]:
    """A version MAJOR.MINOR.PATCH (see ``version_problem``), kept as text."""
    problem = version_problem(value)
    return (None, problem) if problem else (value, "")


def _check_date(value: str) -> tuple[datetime.date | None, str]:
    """A real calendar date written YYYY-MM-DD."""
    if not (len(value) == 10 and value[4] == "-" and value[7] == "-"):
        return None, f"expected a date YYYY-MM-DD, got {short(value)}"
    year, month, day = value[:4], value[5:7], value[8:]
    digits = year + month + day
    if not (digits.isascii() and digits.isdigit()):
        return None, f"expected a date YYYY-MM-DD, got {short(value)}"
    try:
        return datetime.date(int(year), int(month), int(day)), ""
    except ValueError:
        return None, f"{short(value)} is not a real calendar date"


def check_url(value: str) -> tuple[str | None, str]:
    """Accept only absolute http(s) URLs with a host and no whitespace."""
    # str.split() splits at exactly the characters \s matches (str.isspace()), so a non-empty
    # value without whitespace comes back whole; much faster than a regex search for \s.
    if value and value.split() != [value]:
        return None, _url_problem(value) + " (it contains whitespace)"
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        return None, _url_problem(value)
    # The scheme as written, lower-case: the database's check (imagesource_url_http) compares the
    # text, and PostgreSQL's comparison is case-sensitive.
    if not value.startswith(("http://", "https://")) or not parts.netloc or not host:
        return None, _url_problem(value)
    return value, ""


def _url_problem(value: str) -> str:
    """The message for a refused URL (built only when there is one to report)."""
    return f"expected an absolute http or https URL, got {short(value)}"


# How each kind of record field is checked and converted (see meta._FIELD_TYPES); "text" is not checked.
CHECKERS = {
    "int": check_int,
    "score": _check_score,
    "flag": _check_flag,
    "version": _check_version,
    "date": _check_date,
    "url": check_url,
}
