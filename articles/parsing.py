"""Parser for page-text exports (see ``docs/page-format.md``).

A page-text export is the visible text of one published article page: a title line,
the body blocks, a ``<site> post meta`` header, the meta entries, and the
``Similar Posts`` end marker. :func:`parse_page` turns such a document into a
:class:`ParsedPage` or explains, line by line, why it cannot.

The module uses the standard library only, never raises for any ``str`` or ``bytes``
input, and runs in time linear in the size of the document.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from types import MappingProxyType
from urllib.parse import urlsplit

__all__ = [
    "MAX_BODY_BLOCKS",
    "MAX_DOCUMENT_BYTES",
    "MAX_ERRORS",
    "MAX_EXTRA_ENTRIES",
    "MAX_LINE_CHARS",
    "Block",
    "ParseResult",
    "ParsedPage",
    "Problem",
    "normalize_text",
    "parse_page",
]

MAX_DOCUMENT_BYTES = 2 * 1024 * 1024
"""Largest accepted document, in bytes (UTF-8). Larger input is refused with an error."""

MAX_LINE_CHARS = 100_000
"""Longest accepted line, in characters. A longer line is refused with an error naming it."""

MAX_BODY_BLOCKS = 5_000
"""The body is split into at most this many blocks; the rest is kept as one paragraph (with a warning)."""

MAX_CLASSIFIED_LINES = 200
"""At most this many lines of one text run are inspected to tell code from prose."""

MAX_EXTRA_ENTRIES = 1_000
"""More unknown meta entries than this is an error: the document is not a page-text export."""

MAX_ERRORS = 50
"""At most this many errors (and, separately, warnings) are reported for one document."""

MAX_INT = 2**63 - 1
"""Largest accepted whole number (fits a signed 64-bit database column)."""

BULLET = "\u2022"
HEADER_SUFFIX = " post meta"
END_MARKER = "Similar Posts"
FIGURE_SEPARATOR = ". image source:"

SCALAR_KEYS = (
    "topic",
    "summary",
    "ai brief",
    "code language",
    "difficulty",
    "reading time",
    "view count",
    "reference",
    "hash",
)
LIST_KEYS = ("stack", "tools", "checklist", "notes")
RECORD_FIELDS: dict[str, tuple[str, ...]] = {
    "ai outline": ("context", "problem", "stack", "recommended action"),
    "score": ("quality", "freshness", "depth", "clarity"),
    "revision": ("status", "version", "last reviewed"),
    "flags": ("ai generated style", "has images", "image heavy", "needs human review"),
    "payload": ("source id", "generator", "paragraphs", "scenario", "seed"),
}
RECORD_LIST_FIELDS: dict[str, tuple[str, ...]] = {
    "entities": ("name", "type"),
    "image sources": ("source", "url", "caption"),
}
BLOCK_KEYS = frozenset(LIST_KEYS) | frozenset(RECORD_FIELDS) | frozenset(RECORD_LIST_FIELDS)

_SCALARS_BY_FIRST_CHAR: dict[str, tuple[str, ...]] = {
    char: tuple(sorted((key for key in SCALAR_KEYS if key[0] == char), key=len, reverse=True))
    for char in {key[0] for key in SCALAR_KEYS}
}
_INT_SCALARS = frozenset({"reading time", "view count"})

# How each record field is checked: "text", "int" (>= 0), "score" (0..100), "flag" (0/1),
# "version" (MAJOR.MINOR.PATCH), "date" (YYYY-MM-DD) or "url" (http/https).
_FIELD_TYPES: dict[str, dict[str, str]] = {
    "ai outline": dict.fromkeys(RECORD_FIELDS["ai outline"], "text"),
    "score": dict.fromkeys(RECORD_FIELDS["score"], "score"),
    "revision": {"status": "text", "version": "version", "last reviewed": "date"},
    "flags": dict.fromkeys(RECORD_FIELDS["flags"], "flag"),
    "payload": {
        "source id": "text",
        "generator": "text",
        "paragraphs": "int",
        "scenario": "text",
        "seed": "int",
    },
    "entities": {"name": "text", "type": "text"},
    "image sources": {"source": "text", "url": "url", "caption": "text"},
}

_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789 ")
_TRAILING_BLANKS = re.compile(r"[ \t]+$", re.MULTILINE)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f]")
# The UTF-8 bytes of what _CONTROL_RE matches, but CR (which normalising turns into LF).
_CONTROL_BYTES = bytes((*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)))
_SURROGATE_RE = re.compile(r"[\ud800-\udfff]")
_HEADER_RE = re.compile(r"(\S+) post meta")
# "a word character, then (" written to start with the "(": the regex engine then jumps from
# one "(" to the next instead of trying every position of the line.
_CALL_RE = re.compile(r"\((?<=\w\()")
_FLAG_RE = re.compile(r" --?[A-Za-z]")
_OPERATOR_RE = re.compile(r" = |==|!=|\+=|-=|:=|=>|->|&&|\|\|")
_SYMBOL_RE = re.compile(r"[._/=:()]")
_NOT_PROSE_RE = re.compile(r"[^\w ]|[\d_]")
_ASCII_LETTERS_AND_SPACE = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz "
_SENTENCE_END = ".!?"
_HEADING_BAD_END = ".!?:;,"


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Problem:
    """One error or warning about a document.

    ``line`` is the 1-based line number in the (normalised) document, or ``None`` when
    the problem concerns the whole document. ``field`` names what is wrong (``"title"``,
    ``"reference"``, ``"score.quality"``, ``"image sources[2].url"``, ``"body"``, ...).
    ``message`` is a sentence meant for a person.
    """

    line: int | None
    field: str
    message: str

    def as_dict(self) -> dict:
        """Return ``{"line": ..., "field": ..., "message": ...}``."""
        return {"line": self.line, "field": self.field, "message": self.message}


@dataclass
class Block:
    """One body block: a heading, paragraph, code block, list or figure.

    Only the attributes that apply to ``kind`` are meaningful; :meth:`as_dict` returns
    just those.
    """

    kind: str
    text: str = ""
    items: list[str] = field(default_factory=list)
    language: str = ""
    caption: str = ""
    source: str = ""
    image: int | None = None

    def as_dict(self) -> dict:
        """Return the block as a plain dict holding only the keys that apply to its kind."""
        if self.kind == "code":
            return {"kind": self.kind, "text": self.text, "language": self.language}
        if self.kind == "list":
            return {"kind": self.kind, "items": list(self.items)}
        if self.kind == "figure":
            return {"kind": self.kind, "caption": self.caption, "source": self.source, "image": self.image}
        return {"kind": self.kind, "text": self.text}


@dataclass
class ParsedPage:
    """Everything a valid page-text export holds, typed.

    Record dicts use snake_case keys (``recommended_action``, ``last_reviewed``, ...);
    a field missing from a present record is ``None``; an absent record is ``None``.
    """

    title: str
    site: str
    body: list[Block]
    body_text: str
    reference: str
    topic: str | None = None
    summary: str | None = None
    brief: str | None = None
    code_language: str | None = None
    difficulty: str | None = None
    reading_time: int | None = None
    view_count: int | None = None
    hash: str | None = None
    outline: dict | None = None
    scores: dict | None = None
    revision: dict | None = None
    flags: dict | None = None
    payload: dict | None = None
    stack: list[str] = field(default_factory=list)
    tools: list[str] = field(default_factory=list)
    checklist: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    entities: list[dict] = field(default_factory=list)
    image_sources: list[dict] = field(default_factory=list)
    extra: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class ParseResult:
    """The outcome of :func:`parse_page`: a page (``None`` on any error), errors and warnings."""

    page: ParsedPage | None
    errors: list[Problem]
    warnings: list[Problem]

    @property
    def ok(self) -> bool:
        """True when the document parsed without errors (warnings are allowed)."""
        return self.page is not None and not self.errors


class _Problems:
    """A list of problems capped at :data:`MAX_ERRORS`; the last slot says when some were left out."""

    def __init__(self) -> None:
        self.items: list[Problem] = []
        self.full = False

    def add(self, line: int | None, field_name: str, message: str) -> None:
        if self.full:
            return
        if len(field_name) > 80:
            field_name = field_name[:80] + "…"
        self.items.append(Problem(line, field_name, message))
        self.full = len(self.items) > MAX_ERRORS

    def __bool__(self) -> bool:
        return bool(self.items)

    def result(self, what: str) -> list[Problem]:
        if self.full:
            kept = self.items[: MAX_ERRORS - 1]
            note = f"too many {what}: only the first {len(kept)} are listed"
            return [*kept, Problem(None, "document", note)]
        return list(self.items)


# --------------------------------------------------------------------------- normalisation


def normalize_text(data: str | bytes) -> str:
    """Return the canonical text of a document.

    Bytes are decoded as strict UTF-8 (invalid input raises ``UnicodeDecodeError``;
    :func:`parse_page` reports it as an error instead). Leading byte-order marks are
    removed, CRLF and lone CR become LF, trailing spaces and tabs are removed from every
    line, and trailing blank lines are dropped so that non-empty text ends with exactly
    one newline. Whitespace-only input becomes ``""``.

    The result is deterministic and idempotent (``normalize_text(normalize_text(x)) ==
    normalize_text(x)``), so importers can hash it to recognise unchanged documents.
    """
    text = data.decode("utf-8") if isinstance(data, (bytes, bytearray, memoryview)) else data
    text = text.lstrip("\ufeff")
    # Most documents have LF line ends, no tabs and no trailing blanks: the cheap
    # one-character searches skip the work (and the slower searches) for them.
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if " \n" in text or ("\t" in text and "\t\n" in text) or text.endswith((" ", "\t")):
        text = _TRAILING_BLANKS.sub("", text)
    if len(text) > 1 and text[-1] == "\n" and text[-2] != "\n":
        return text  # already ends with exactly one newline after some text
    text = text.rstrip("\n")
    return text + "\n" if text else ""


def _short(text: str, limit: int = 60) -> str:
    """Quote a piece of the document for a message, cut to ``limit`` characters."""
    if len(text) > limit:
        return repr(text[:limit] + "…")
    return repr(text)


# --------------------------------------------------------------------------- values


def _check_int(value: str, low: int = 0, high: int = MAX_INT) -> tuple[int | None, str]:
    """Parse a whole number made of ASCII digits within ``low..high``; return (value, error)."""
    if value.isascii() and value.isdigit():  # non-empty and only 0-9
        stripped = value.lstrip("0") or "0"
        if len(stripped) > len(str(high)):
            expected = _expected_int(low, high)
            return None, f"expected {expected}, got a number that is too large ({len(stripped)} digits)"
        number = int(stripped)
        if low <= number <= high:
            return number, ""
    return None, f"expected {_expected_int(low, high)}, got {_short(value)}"


def _expected_int(low: int, high: int) -> str:
    """Describe the accepted numbers for an error message (built only when there is an error)."""
    if high == MAX_INT:
        return "a whole number (0 or more)"
    return f"a whole number from {low} to {high}"


_SCORES = {str(number): number for number in range(101)}


def _check_score(value: str) -> tuple[int | None, str]:
    """A score: a whole number from 0 to 100."""
    number = _SCORES.get(value)  # "0" to "100" as usually written; _check_int decides the rest
    if number is not None:
        return number, ""
    return _check_int(value, 0, 100)


def _check_flag(value: str) -> tuple[bool | None, str]:
    """A flag: 0 or 1, returned as a bool."""
    if value in ("0", "1"):
        return value == "1", ""
    return None, f"expected 0 or 1, got {_short(value)}"


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
        return f"expected a version MAJOR.MINOR.PATCH such as 1.5.4, got {_short(value)}"
    if any(len(part) > VERSION_PART_DIGITS for part in parts):
        return (
            f"each part of a version is a whole number of at most {VERSION_PART_DIGITS} digits "
            f"(up to {VERSION_PART_MAX:,}), got {_short(value)}"
        )
    return ""


def _check_version(value: str) -> tuple[str | None, str]:
    """A version MAJOR.MINOR.PATCH (see ``version_problem``), kept as text."""
    problem = version_problem(value)
    return (None, problem) if problem else (value, "")


def _check_date(value: str) -> tuple[datetime.date | None, str]:
    """A real calendar date written YYYY-MM-DD."""
    if not (len(value) == 10 and value[4] == "-" and value[7] == "-"):
        return None, f"expected a date YYYY-MM-DD, got {_short(value)}"
    year, month, day = value[:4], value[5:7], value[8:]
    digits = year + month + day
    if not (digits.isascii() and digits.isdigit()):
        return None, f"expected a date YYYY-MM-DD, got {_short(value)}"
    try:
        return datetime.date(int(year), int(month), int(day)), ""
    except ValueError:
        return None, f"{_short(value)} is not a real calendar date"


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
    return f"expected an absolute http or https URL, got {_short(value)}"


# How each kind of record field is checked and converted (see _FIELD_TYPES); "text" is not checked.
_CHECKERS = {
    "int": _check_int,
    "score": _check_score,
    "flag": _check_flag,
    "version": _check_version,
    "date": _check_date,
    "url": check_url,
}


# --------------------------------------------------------------------------- meta


def _is_key(text: str) -> bool:
    """True for lower-case words separated by single spaces (``^[a-z0-9]+( [a-z0-9]+)*$``)."""
    return bool(text) and text[0] != " " and text[-1] != " " and "  " not in text and set(text) <= _KEY_CHARS


def _bullet_text(line: str) -> str | None:
    """Return the text of a meta bullet (2 or 4 spaces, U+2022, space), or None if not a bullet."""
    for indent in ("  ", "    "):
        marker = indent + BULLET
        if line.startswith(marker):
            rest = line[len(marker) :]
            if rest == "":
                return ""
            if rest[0] == " ":
                return rest[1:]
    return None


def _scalar_key(line: str) -> str | None:
    """Return the scalar key the line starts with (longest key first), or None."""
    for key in _SCALARS_BY_FIRST_CHAR.get(line[:1], ()):
        if line.startswith(key):
            return key
    return None


_BLOCK_KINDS: dict[str, str] = {
    **dict.fromkeys(LIST_KEYS, "list"),
    **dict.fromkeys(RECORD_FIELDS, "record"),
    **dict.fromkeys(RECORD_LIST_FIELDS, "records"),
}
_RECORD_FIELD_NAMES: dict[str, tuple[str, ...]] = {**RECORD_FIELDS, **RECORD_LIST_FIELDS}
_LIST_BULLET = "  " + BULLET + " "
_RECORD_LIST_BULLET = "    " + BULLET + " "
# For each record (list) key: the usual start of each of its field lines, up to the ":",
# mapped to the field name (records use the list bullet, record lists the deeper one).
_FIELD_HEADS: dict[str, dict[str, str]] = {
    key: {bullet + name: name for name in names}
    for bullet, records in ((_LIST_BULLET, RECORD_FIELDS), (_RECORD_LIST_BULLET, RECORD_LIST_FIELDS))
    for key, names in records.items()
}

# ParsedPage attribute names of the scalar, record and record-list keys, in the order they are checked.
_SCALAR_NAMES = {key: "brief" if key == "ai brief" else key.replace(" ", "_") for key in SCALAR_KEYS}
_RECORD_NAMES = {key: {"ai outline": "outline", "score": "scores"}.get(key, key) for key in RECORD_FIELDS}
_RECORD_LIST_NAMES = {key: key.replace(" ", "_") for key in RECORD_LIST_FIELDS}

# For each record key, its fields in order: (name as written, snake_case name, checker or None for text).
_FIELD_SPECS: dict[str, tuple[tuple[str, str, object], ...]] = {
    key: tuple((name, name.replace(" ", "_"), _CHECKERS.get(kind)) for name, kind in types.items())
    for key, types in _FIELD_TYPES.items()
}

_NO_ITEMS: tuple = ()
_NO_FIELDS = MappingProxyType({})


class _Entry:
    """One meta entry as written: its key, kind, line and raw content.

    ``kind`` is "scalar", "list", "record", "records" (a record list), "extra" (an
    unknown key) or "skip" (a repeated key whose bullets are ignored).
    """

    # Only the container that matches the kind is created; the others stay these shared,
    # empty class defaults: documents may hold very many entries, and fewer objects (and
    # assignments) keep parsing fast.
    value = ""
    items: list | tuple = _NO_ITEMS
    fields: dict | MappingProxyType = _NO_FIELDS
    records: list | tuple = _NO_ITEMS

    def __init__(self, key: str, kind: str, line: int) -> None:
        self.key = key
        self.kind = kind
        self.line = line
        if kind == "list" or kind == "extra":
            self.items = []
        elif kind == "record":
            self.fields = {}
        elif kind == "records":
            self.records = []


def _read_meta(lines: list[str], start: int, stop: int, errors: _Problems, warnings: _Problems) -> dict:
    """Group the meta lines ``lines[start:stop]`` into entries, reporting malformed lines.

    Returns a dict key -> :class:`_Entry` for every key seen for the first time.
    Stops early once the error list is full (the page is refused anyway) or after
    more than :data:`MAX_EXTRA_ENTRIES` unknown entries.
    """
    entries: dict[str, _Entry] = {}
    current: _Entry | None = None
    extras = 0
    index = start
    while index < stop and not errors.full:
        line = lines[index]
        number = index + 1
        index += 1
        if line == "":
            current = None
            continue
        if line[0] in " \t":
            # Most meta lines are bullets of one of the two usual shapes, recognised here
            # without a call; _bullet_text decides every other indented line.
            if line.startswith(_LIST_BULLET):
                bullet = line[4:]
            elif line.startswith(_RECORD_LIST_BULLET):
                bullet = line[6:]
            else:
                bullet = _bullet_text(line)
            if bullet is None:
                errors.add(number, "post meta", f"unrecognised meta line {_short(line)}")
                current = None
            elif current is None:
                errors.add(
                    number,
                    "post meta",
                    f"unrecognised meta line {_short(line)}: a bullet must directly follow "
                    "a key that stands alone on its line",
                )
            else:
                _add_bullet(current, bullet, number, errors)
            continue

        kind = _BLOCK_KINDS.get(line)
        if kind is not None:
            current = _new_entry(entries, line, kind, number, errors)
            if current.kind == kind:  # a new entry, not a repeated key
                index = _take_usual_bullets(current, lines, index, stop)
            continue
        scalar = _scalar_key(line)
        if scalar is not None and not (
            # "summary notes" followed by bullets is an unknown key that happens to begin
            # with the word "summary", not the summary "notes".
            line.startswith(" ", len(scalar))
            and index < stop
            and _bullet_text(lines[index]) is not None
            and _is_key(line)
        ):
            current = _new_entry(entries, scalar, "scalar", number, errors)
            current.value = line[len(scalar) :].strip()
            continue
        if _is_key(line):
            extras += 1
            if extras > MAX_EXTRA_ENTRIES:
                errors.add(
                    number,
                    "post meta",
                    f"more than {MAX_EXTRA_ENTRIES} unknown meta entries; "
                    "this does not look like a page-text export (the rest of the meta was not read)",
                )
                break
            current = _new_entry(entries, line, "extra", number, errors)
            if current.kind == "extra" and not warnings.full:
                warnings.add(number, line, f"unknown meta entry {_short(line)} kept as extra meta")
            continue
        errors.add(number, "post meta", f"unrecognised meta line {_short(line)}")
        current = None
    return entries


def _take_usual_bullets(entry: _Entry, lines: list[str], index: int, stop: int) -> int:
    """Fast path of :func:`_read_meta`: add the well-formed bullets that follow a block key.

    Takes the lines ``lines[index:stop]`` for ``entry`` (a new list, record or record list)
    while each is a bullet of the usual shape that :func:`_add_bullet` would accept without
    a problem, and returns the index of the first line it left: the general loop of
    :func:`_read_meta` reads, and reports, everything from there on.
    """
    if entry.kind == "list":
        items = entry.items
        while index < stop:
            line = lines[index]
            if not line.startswith(_LIST_BULLET):
                break
            index += 1  # now the line's 1-based number
            items.append((line[4:], index))
        return index
    # A field line is "<bullet><name>:<value>"; its part before the first ":" is looked up
    # in a table of the usual "<bullet><name>" of the record's fields.
    heads = _FIELD_HEADS[entry.key]
    if entry.kind == "record":
        fields = entry.fields
        while index < stop:
            head, colon, value = lines[index].partition(":")
            name = heads.get(head)
            if name is None or not colon or name in fields:
                break
            index += 1
            fields[name] = (value.strip(), index)
        return index
    records = entry.records
    while index < stop:
        head, colon, value = lines[index].partition(":")
        name = heads.get(head)
        if name is None or not colon:
            break
        index += 1
        _add_record_field(records, name, value.strip(), index)
    return index


def _add_record_field(records: list, name: str, value: str, number: int) -> None:
    """Add a field line to a record list: a field name the last record has already starts a new one."""
    if not records or name in records[-1][1]:
        records.append((number, {}))
    records[-1][1][name] = (value, number)


def _new_entry(entries: dict, key: str, kind: str, number: int, errors: _Problems) -> _Entry:
    """Register a new entry, or report a repeated key and return a throwaway entry."""
    first = entries.get(key)
    if first is not None:
        message = f"{_short(key)} appears twice (lines {first.line} and {number}); a key may appear once"
        errors.add(number, key, message)
        return _Entry(key, "skip", number)
    entry = _Entry(key, kind, number)
    entries[key] = entry
    return entry


def _add_bullet(entry: _Entry, text: str, number: int, errors: _Problems) -> None:
    """Attach one bullet line to the entry it follows."""
    if entry.kind in ("list", "extra"):
        entry.items.append((text, number))
        return
    if entry.kind == "skip":
        return
    if entry.kind == "scalar":
        errors.add(number, entry.key, f"{entry.key!r} is a one-line entry and cannot have bullets")
        return
    allowed = _RECORD_FIELD_NAMES[entry.key]
    name, colon, value = text.partition(":")
    if not colon:
        errors.add(number, entry.key, f"expected 'name: value' in {entry.key!r}, got {_short(text)}")
        return
    if name not in allowed:
        errors.add(
            number,
            entry.key,
            f"unknown field {_short(name)} in {entry.key!r}; expected one of: {', '.join(allowed)}",
        )
        return
    value = value.strip()
    if entry.kind == "record":
        previous = entry.fields.get(name)
        if previous is not None:
            errors.add(
                number,
                f"{entry.key}.{name}",
                f"{name!r} is given twice in {entry.key!r} (lines {previous[1]} and {number})",
            )
            return
        entry.fields[name] = (value, number)
        return
    _add_record_field(entry.records, name, value, number)


def _convert_fields(
    key: str, fields: dict[str, tuple[str, int]], label: str, errors: _Problems
) -> dict[str, object]:
    """Check a record's fields and return them under snake_case names (missing -> None)."""
    result: dict[str, object] = {}
    for name, out_name, checker in _FIELD_SPECS[key]:
        found = fields.get(name)
        if found is None:
            result[out_name] = None
            continue
        raw, number = found
        if raw == "":
            errors.add(number, f"{label}.{name}", f"{name!r} has no value")
            result[out_name] = None
            continue
        if checker is None:  # a text field: any value
            result[out_name] = raw
            continue
        value, problem = checker(raw)
        if problem:
            errors.add(number, f"{label}.{name}", problem)
        result[out_name] = value
    return result


def _build_meta(entries: dict[str, _Entry], errors: _Problems) -> dict:
    """Turn the grouped entries into ParsedPage keyword arguments, checking every value."""
    meta: dict[str, object] = {}
    for key, name in _SCALAR_NAMES.items():
        entry = entries.get(key)
        if entry is None:
            continue
        if entry.value == "":
            errors.add(entry.line, key, f"{key!r} has no value; write the value right after the key")
            continue
        if key in _INT_SCALARS:
            number, problem = _check_int(entry.value)
            if problem:
                errors.add(entry.line, key, problem)
            meta[name] = number
        else:
            meta[name] = entry.value

    for key in LIST_KEYS:
        entry = entries.get(key)
        if entry is None:
            continue
        meta[key] = [text for text, _ in entry.items]
        if "" in meta[key]:
            for text, number in entry.items:
                if text == "":
                    errors.add(number, key, f"empty item in {key!r}")

    for key, name in _RECORD_NAMES.items():
        entry = entries.get(key)
        if entry is None:
            continue
        meta[name] = _convert_fields(key, entry.fields, key, errors)

    for key, name in _RECORD_LIST_NAMES.items():
        entry = entries.get(key)
        if entry is None:
            continue
        records = []
        for position, (first_line, fields) in enumerate(entry.records, start=1):
            label = f"{key}[{position}]"
            if key == "image sources" and "url" not in fields:
                errors.add(first_line, f"{label}.url", f"image source {position} has no url")
            records.append(_convert_fields(key, fields, label, errors))
        meta[name] = records

    meta["extra"] = {
        key: [text for text, _ in entry.items] for key, entry in entries.items() if entry.kind == "extra"
    }
    return meta


# --------------------------------------------------------------------------- body


_CODE_PREFIXES = (
    "import ",
    "return ",
    "return;",
    "#!",
    "$ ",
    ">>> ",
    "<?php",
    "<?=",
    "#include",
    "#define",
    "SELECT ",
    "INSERT INTO ",
    "UPDATE ",
    "DELETE FROM ",
    "CREATE ",
    "ALTER TABLE ",
    "DROP ",
    "EXPLAIN ",
    "else:",
    "try:",
    "except ",
    "except:",
    "finally:",
    "raise ",
    "await ",
    "yield ",
    "//",
    "/*",
    "*/",
    "# ",
    "-- ",
    "<!--",
    "pip install ",
    "pip3 install ",
    "npm install",
    "npm run ",
    "docker run ",
    "docker compose ",
    "kubectl ",
    "python -m ",
    "python3 -m ",
    "console.",
    "print(",
    "if __name__",
    "end;",
)
"""Line starts that mark a line as source code or a shell command on their own."""

# The code prefixes grouped by first character: one short ``startswith`` per line instead of
# trying all of them (a line can only start with a prefix that starts with its first character).
_CODE_PREFIXES_BY_FIRST_CHAR: dict[str, tuple[str, ...]] = {
    char: tuple(prefix for prefix in _CODE_PREFIXES if prefix[0] == char)
    for char in {prefix[0] for prefix in _CODE_PREFIXES}
}
_CODE_WORDS = frozenset({"return", "pass", "break", "continue", "fi", "esac"})
_DEFINITION_PREFIXES = ("def ", "async def ", "func ", "fn ", "pub fn ", "function ", "async function ")
_TYPE_PREFIXES = ("class ", "struct ", "interface ", "impl ", "enum ")
_STATEMENT_PREFIXES = ("if ", "elif ", "for ", "while ", "with ", "switch ", "match ", "} ")


def _is_from_import(stripped: str) -> bool:
    return " import " in stripped


def _is_definition(stripped: str) -> bool:
    return "(" in stripped


def _is_type(stripped: str) -> bool:
    return stripped.endswith((":", "{")) or "(" in stripped


def _is_statement(stripped: str) -> bool:
    return stripped.endswith((":", "{", "}"))


def _is_package(stripped: str) -> bool:
    return stripped.count(" ") == 1 or stripped.endswith(";")


# Line starts that make a line code only together with the rest of the line, each with the
# test that decides. No line can start with two of them, so their order does not matter; they
# are grouped by first character so that a line is compared with the few that could match.
_KEYWORD_RULES = (
    ("from ", _is_from_import),
    *((prefix, _is_definition) for prefix in _DEFINITION_PREFIXES),
    *((prefix, _is_type) for prefix in _TYPE_PREFIXES),
    *((prefix, _is_statement) for prefix in _STATEMENT_PREFIXES),
    ("package ", _is_package),
)
_KEYWORD_RULES_BY_FIRST_CHAR = {
    char: tuple(rule for rule in _KEYWORD_RULES if rule[0][0] == char)
    for char in {prefix[0] for prefix, _ in _KEYWORD_RULES}
}


def _strong_code_prefix(stripped: str) -> bool:
    """True when the line begins like source code or a shell command."""
    first = stripped[0]
    prefixes = _CODE_PREFIXES_BY_FIRST_CHAR.get(first)
    if prefixes is not None and stripped.startswith(prefixes):
        return True
    if len(stripped) <= 8 and stripped in _CODE_WORDS:  # (the length test spares hashing long lines)
        return True
    if first in "{}[]":
        return True
    if first == "@" and len(stripped) > 1 and (stripped[1].isalpha() or stripped[1] == "_"):
        head = stripped.split("(", 1)[0]
        return " " not in head
    if first == "<" and len(stripped) > 1 and (stripped[1].isalpha() or stripped[1] == "/"):
        return stripped.endswith(">")
    for prefix, decides in _KEYWORD_RULES_BY_FIRST_CHAR.get(first, ()):
        if stripped.startswith(prefix):
            return decides(stripped)
    return False


def _line_kind(line: str) -> str:
    """Classify one non-blank body line as "code", "prose" or "neutral".

    Code signals: indentation, a code-like start (``import``, ``def``, ``@decorator``,
    ``$ ``, SQL, ...), operators such as `` = ``, calls ``name(``, command-line flags
    (`` -x``, `` --name``), braces and semicolons, and code-like line endings.
    Prose signals: a sentence ending with several words, and long runs of mostly
    letters.
    """
    stripped = line.strip()
    if not stripped:
        return "neutral"
    code = 3 if line[0] in " \t" else 0
    if _strong_code_prefix(stripped):
        code += 3
    # Searching a long prose line for one character is much faster than for a regular
    # expression (or a longer string), so each search below runs only when the line holds a
    # character that every match must contain. The operators: those with "=", then the others.
    if (
        ("=" in stripped and _OPERATOR_RE.search(stripped))
        or ("-" in stripped and "->" in stripped)
        or ("&" in stripped and "&&" in stripped)
        or ("|" in stripped and "||" in stripped)
    ):
        code += 2
    if "(" in stripped and _CALL_RE.search(stripped):
        code += 1
    if "-" in stripped and _FLAG_RE.search(stripped):
        code += 2
    if ";" in stripped or "{" in stripped or "}" in stripped or ("(" in stripped and "()" in stripped):
        code += 1  # braces and semicolons
    last = stripped[-1]
    if last in "{}[](;,":
        code += 1
    elif (last == ")" or (last == ":" and stripped.endswith("):"))) and "(" in stripped:
        code += 1
    spaces = stripped.count(" ")
    if not spaces and _SYMBOL_RE.search(stripped):
        code += 1

    prose = 0
    if last in _SENTENCE_END and spaces >= 3:
        prose += 3
    if spaces >= 7 and _not_prose_count(stripped) * 10 <= len(stripped):
        prose += 2
    if code >= 2 and code > prose:
        return "code"
    if prose >= 2 and prose >= code:
        return "prose"
    return "neutral"


def _not_prose_count(text: str) -> int:
    """How many characters of ``text`` are neither letters nor spaces (digits and ``_`` count)."""
    if text.isascii():
        # For ASCII text that is every byte but A-Z, a-z and space; bytes.translate drops
        # those in C, many times faster than _NOT_PROSE_RE.findall.
        return len(text.encode("ascii").translate(None, _ASCII_LETTERS_AND_SPACE))
    return len(_NOT_PROSE_RE.findall(text))


def _is_heading(line: str) -> bool:
    """True for one short line with no sentence punctuation at its end."""
    return (
        len(line) <= 80
        and line[0] not in " \t"
        and line[-1] not in _HEADING_BAD_END
        and (line[0].isalnum() or any(char.isalnum() for char in line))
    )


def _figure_source(caption: str, following: str) -> str | None:
    """Return S when ``following`` is ``caption + ". image source: S"``, else None."""
    if not caption or caption[0] in " \t" or not following.startswith(caption):
        return None
    if not following.startswith(FIGURE_SEPARATOR, len(caption)):
        return None
    rest = following[len(caption) + len(FIGURE_SEPARATOR) :]
    if rest == "":
        return ""
    if rest[0] != " ":
        return None
    return rest[1:]


def _text_block(lines: list[str], language: str) -> Block:
    """Classify a run of consecutive non-list, non-figure lines as code, a heading or a paragraph.

    The run is code when code-looking lines outnumber prose-looking ones and make up
    at least a third of it (a long run is judged on an evenly spaced sample of
    :data:`MAX_CLASSIFIED_LINES` lines); a single short unpunctuated line is a heading; anything
    else is a paragraph (its lines joined with newlines).
    """
    if len(lines) == 1:  # the most common run, and the only one that can be a heading
        line = lines[0]
        if _line_kind(line) == "code":
            return Block(kind="code", text=line, language=language)
        if _is_heading(line):
            return Block(kind="heading", text=line)
        return Block(kind="paragraph", text=line)
    code = prose = 0
    sample = lines
    if len(lines) > MAX_CLASSIFIED_LINES:
        step = -(-len(lines) // MAX_CLASSIFIED_LINES)
        sample = lines[::step]
    for line in sample:
        kind = _line_kind(line)
        if kind == "code":
            code += 1
        elif kind == "prose":
            prose += 1
    if code and code > prose and code * 3 >= len(sample):
        return Block(kind="code", text="\n".join(lines), language=language)
    return Block(kind="paragraph", text="\n".join(lines))


def _parse_body(
    lines: list[str], language: str, warnings: _Problems
) -> tuple[list[tuple[Block, int, int]], str]:
    """Split the body lines into blocks.

    Returns ``(blocks, body_text)``; each block comes with the indexes (into ``lines``)
    of its first and last line. Blank lines separate blocks; a figure is a caption line
    directly followed by its ``. image source:`` line; list lines start with a bullet;
    every other run of lines is classified by :func:`_text_block`. Code blocks separated
    only by blank lines are joined into one, keeping those blank lines. After
    :data:`MAX_BODY_BLOCKS` blocks the rest of the body becomes one paragraph, with a
    warning (``body_text`` still holds it all).
    """
    first, last = 0, len(lines)
    while first < last and lines[first] == "":
        first += 1
    while last > first and lines[last - 1] == "":
        last -= 1
    body_text = "\n".join(lines[first:last])

    blocks: list[tuple[Block, int, int]] = []
    text_start = -1
    list_block: Block | None = None
    list_start = 0

    def close(end: int) -> None:
        nonlocal text_start, list_block
        if text_start >= 0:
            blocks.append((_text_block(lines[text_start:end], language), text_start, end - 1))
            text_start = -1
        if list_block is not None:
            blocks.append((list_block, list_start, end - 1))
            list_block = None

    index = first
    chunk_end = first
    while index < last:
        line = lines[index]
        if line == "":
            close(index)
            index += 1
            continue
        if len(blocks) >= MAX_BODY_BLOCKS and text_start < 0 and list_block is None:
            blocks.append((Block(kind="paragraph", text="\n".join(lines[index:last])), index, last - 1))
            warnings.add(
                index + 2,
                "body",
                f"the body has more than {MAX_BODY_BLOCKS} blocks; "
                f"lines {index + 2} to {last + 1} are kept as one paragraph",
            )
            break
        if index >= chunk_end:
            # First line of a run of non-blank lines: a run with no figure and no bullet
            # (most are a single heading or paragraph line) is one text block, handled
            # without looking at each line here.
            try:
                chunk_end = lines.index("", index, last)
            except ValueError:
                chunk_end = last
            run = line if chunk_end - index == 1 else "\n".join(lines[index:chunk_end])
            if FIGURE_SEPARATOR not in run and BULLET not in run:
                blocks.append((_text_block(lines[index:chunk_end], language), index, chunk_end - 1))
                index = chunk_end + 1  # (the blank line after the run closes nothing)
                continue
            # A run whose every line starts with "  • " is one list (such lines are never a
            # figure caption): each line after the first follows a "\n" in ``run``.
            if run.startswith(_LIST_BULLET) and run.count("\n" + _LIST_BULLET) == chunk_end - index - 1:
                items = [item[len(_LIST_BULLET) :] for item in lines[index:chunk_end]]
                blocks.append((Block(kind="list", items=items), index, chunk_end - 1))
                index = chunk_end + 1
                continue
        following = lines[index + 1] if index + 1 < last else ""
        source = _figure_source(line, following) if following.startswith(line) else None
        if source is not None:
            close(index)
            blocks.append((Block(kind="figure", caption=line, source=source), index, index + 1))
            index += 2
            continue
        item = _bullet_text(line) if line[0] == " " else None
        if item is not None:
            if text_start >= 0:
                close(index)
            if list_block is None:
                list_block = Block(kind="list")
                list_start = index
            list_block.items.append(item)
        else:
            if list_block is not None:
                close(index)
            if text_start < 0:
                text_start = index
        index += 1
    close(last)

    merged: list[tuple[Block, int, int]] = []
    grown: list[int] = []  # positions in ``merged`` of code blocks that took in the next one
    for block, start, stop in blocks:
        if block.kind == "code" and merged and merged[-1][0].kind == "code":
            previous, previous_start, previous_stop = merged[-1]
            if all(lines[between] == "" for between in range(previous_stop + 1, start)):
                merged[-1] = (previous, previous_start, stop)
                grown.append(len(merged) - 1)
                continue
        merged.append((block, start, stop))
    for position in dict.fromkeys(grown):  # (each block once, however many it took in)
        block, start, stop = merged[position]
        block.text = "\n".join(lines[start : stop + 1])
    return merged, body_text


# --------------------------------------------------------------------------- document


def _decode(data: object, errors: _Problems) -> tuple[str, bytes] | None:
    """Check the size and encoding of the input; return its text and UTF-8 bytes, or None after an error."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
        if len(raw) > MAX_DOCUMENT_BYTES:
            errors.add(
                None,
                "document",
                f"the document is {len(raw)} bytes; the limit is {MAX_DOCUMENT_BYTES} bytes (2 MiB)",
            )
            return None
        try:
            return raw.decode("utf-8"), raw
        except UnicodeDecodeError as exc:
            before = raw[: exc.start].decode("utf-8", "replace")
            line = before.replace("\r\n", "\n").replace("\r", "\n").count("\n") + 1
            byte = raw[exc.start] if exc.start < len(raw) else 0
            errors.add(
                line,
                "document",
                f"the file is not valid UTF-8: byte 0x{byte:02x} at byte offset {exc.start} "
                "cannot be decoded",
            )
            return None
    if isinstance(data, str):
        if len(data) <= MAX_DOCUMENT_BYTES:
            # Strict UTF-8 encoding fails exactly on unpaired surrogates, so one encode both
            # measures the document and proves it holds none (a regex search for surrogates
            # took far longer). Any problem is reported below.
            try:
                raw = data.encode("utf-8")
            except UnicodeEncodeError:
                pass
            else:
                if len(raw) <= MAX_DOCUMENT_BYTES:
                    return data, raw
        size = len(data) if len(data) > MAX_DOCUMENT_BYTES else len(data.encode("utf-8", "surrogatepass"))
        if size > MAX_DOCUMENT_BYTES:
            errors.add(
                None,
                "document",
                f"the document is more than {MAX_DOCUMENT_BYTES} bytes; "
                f"the limit is {MAX_DOCUMENT_BYTES} bytes (2 MiB)",
            )
            return None
        # Not too large, so the strict encoding above failed: the text holds a surrogate.
        match = _SURROGATE_RE.search(data)
        line = data[: match.start()].replace("\r\n", "\n").replace("\r", "\n").count("\n") + 1
        message = "the text holds an unpaired surrogate code point, which is not valid text"
        errors.add(line, "document", message)
        return None
    errors.add(None, "document", f"expected text or bytes, got {type(data).__name__}")
    return None


def _find_header(text: str) -> tuple[int | None, str]:
    """Return the line index and site of the first ``<site> post meta`` line after the title.

    ``text`` is normalised text, so every line ends with a newline.
    """
    position = text.find("\n") + 1
    marker = HEADER_SUFFIX + "\n"
    while position > 0:
        found = text.find(marker, position)
        if found < 0:
            break
        line_start = text.rfind("\n", 0, found) + 1
        line_end = found + len(HEADER_SUFFIX)
        match = _HEADER_RE.fullmatch(text, line_start, line_end)
        if match is not None:
            return text.count("\n", 0, line_start), match.group(1)
        position = line_end + 1
    return None, ""


def _check_flags(meta: dict, entries: dict[str, _Entry], figures: int, warnings: _Problems) -> None:
    """Warn when the flags contradict the images the document actually has."""
    flags = meta.get("flags")
    if not flags:
        return
    flag_entry = entries["flags"]

    def line_of(name: str) -> int:
        found = flag_entry.fields.get(name)
        return found[1] if found else flag_entry.line

    sources = len(meta.get("image_sources") or [])
    has_images = flags.get("has_images")
    if has_images is True and not sources and not figures:
        warnings.add(
            line_of("has images"),
            "flags.has images",
            "'has images' is 1 but the document has no image sources and no figures",
        )
    elif has_images is False and (sources or figures):
        warnings.add(
            line_of("has images"),
            "flags.has images",
            f"'has images' is 0 but the document has {sources} image source(s) and {figures} figure(s)",
        )
    if flags.get("image_heavy") is True and has_images is False:
        warnings.add(line_of("image heavy"), "flags.image heavy", "'image heavy' is 1 but 'has images' is 0")


def _check_characters(text: str, lines: list[str], errors: _Problems, raw: bytes) -> None:
    """Report lines holding control characters (one error per line) and over-long lines.

    ``text`` is the normalised form of the document whose UTF-8 bytes are ``raw``.
    """
    # Nearly every document has no control character at all, and its bytes tell that
    # quickly: in UTF-8 the bytes 0x00-0x1F stand only for U+0000-U+001F, and normalising
    # removes none of those but CR. _CONTROL_RE then only runs to find where they are.
    has_control = len(raw.translate(None, _CONTROL_BYTES)) < len(raw)
    position = 0
    number = 1
    while has_control and not errors.full:
        found = _CONTROL_RE.search(text, position)
        if found is None:
            break
        number += text.count("\n", position, found.start())
        line_start = text.rfind("\n", 0, found.start()) + 1
        errors.add(
            number,
            "document",
            f"binary or control characters are not allowed "
            f"(U+{ord(found.group()):04X} at column {found.start() - line_start + 1})",
        )
        line_end = text.find("\n", found.start())
        if line_end < 0:
            break
        position = line_end + 1
        number += 1
    if len(text) > MAX_LINE_CHARS and max(map(len, lines)) > MAX_LINE_CHARS:
        for index, line in enumerate(lines):
            if len(line) > MAX_LINE_CHARS:
                errors.add(
                    index + 1,
                    "document",
                    f"line {index + 1} is {len(line)} characters long; the limit is {MAX_LINE_CHARS}",
                )


def _link_figures(positioned, image_sources: list[dict], warnings: _Problems, line_offset: int) -> int:
    """Point each figure at the image source with its caption; warn for captions matching none."""
    captions: dict[str, int] = {}
    for position, source in enumerate(image_sources):
        caption = source.get("caption")
        if isinstance(caption, str) and caption not in captions:
            captions[caption] = position
    figures = 0
    for block, first, _ in positioned:
        if block.kind != "figure":
            continue
        figures += 1
        block.image = captions.get(block.caption)
        if block.image is None:
            warnings.add(
                first + line_offset,
                "body",
                f"figure caption {_short(block.caption)} matches no image source caption in the meta",
            )
    return figures


def parse_body(
    body_text: str, *, code_language: str = "", image_sources: list[dict] | None = None
) -> tuple[list[Block], list[Problem]]:
    """Classify a body text into blocks the way documents are classified: (blocks, warnings).

    Editors edit an article's body as text; this turns it back into typed blocks.
    """
    warnings = _Problems()
    lines = normalize_text(body_text).split("\n")
    positioned, _ = _parse_body(lines, code_language, warnings)
    _link_figures(positioned, image_sources or [], warnings, line_offset=1)
    return [block for block, _, _ in positioned], warnings.result("warnings")


def parse_page(data: str | bytes) -> ParseResult:
    """Parse one page-text export.

    Returns a :class:`ParseResult`. Its ``page`` is ``None`` when there is any error;
    all errors found are listed (at most :data:`MAX_ERRORS`), each with the line and
    field it concerns. Warnings never prevent a page. Never raises for ``str`` or
    ``bytes`` input.
    """
    errors = _Problems()
    warnings = _Problems()

    def finish(page: ParsedPage | None) -> ParseResult:
        problems = errors.result("errors")
        return ParseResult(page if not problems else None, problems, warnings.result("warnings"))

    decoded = _decode(data, errors)
    if decoded is None:
        return finish(None)
    text, raw = decoded
    text = normalize_text(text)
    if not text or text.isspace():  # the same as "not text.strip()", without copying the text
        errors.add(None, "document", "the document is empty")
        return finish(None)

    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()

    _check_characters(text, lines, errors, raw)
    if errors.full:
        return finish(None)

    title = lines[0].strip()
    if not title:
        errors.add(1, "title", "the first line must be the title, but it is empty")

    header, site = _find_header(text)
    if header is None:
        errors.add(
            None,
            "post meta",
            "missing the '<site> post meta' header: not a page-text export, or cut off",
        )
        return finish(None)

    try:
        end = lines.index(END_MARKER, header + 1)
    except ValueError:
        end = -1
    if end < 0:
        errors.add(
            None,
            END_MARKER,
            "missing the 'Similar Posts' end marker: the file looks truncated",
        )
        end = len(lines)

    entries = _read_meta(lines, header + 1, end, errors, warnings)
    if errors.full:
        return finish(None)
    meta = _build_meta(entries, errors)
    if "reference" not in entries:
        errors.add(None, "reference", "missing 'reference': every document needs one to identify the article")

    language = meta.get("code_language") or ""
    positioned, body_text = _parse_body(lines[1:header], str(language), warnings)
    figures = _link_figures(positioned, meta.get("image_sources") or [], warnings, line_offset=2)
    _check_flags(meta, entries, figures, warnings)

    if errors:
        return finish(None)
    reference = meta.pop("reference", None)
    page = ParsedPage(
        title=title,
        site=site,
        body=[block for block, _, _ in positioned],
        body_text=body_text,
        reference=str(reference),
        **meta,
    )
    return finish(page)
