"""Reading the meta box: the entries after the ``<site> post meta`` header, grouped by key, then
checked and converted into the keyword arguments of a :class:`ParsedPage`.

An entry is a key line (a scalar key with its value on the same line, or a key standing alone)
and the bullet lines that directly follow it (:func:`lines.bullet_run`): a list's items, a
record's ``name: value`` fields, or the fields of the records of a record list.
"""

from __future__ import annotations

from types import MappingProxyType

from .lines import bullet_heads, bullet_run, short
from .results import Problems
from .values import CHECKERS, check_int

MAX_EXTRA_ENTRIES = 1_000
"""More unknown meta entries than this is an error: the document is not a page-text export."""

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

_BLOCK_KINDS: dict[str, str] = {
    **dict.fromkeys(LIST_KEYS, "list"),
    **dict.fromkeys(RECORD_FIELDS, "record"),
    **dict.fromkeys(RECORD_LIST_FIELDS, "records"),
}
_RECORD_FIELD_NAMES: dict[str, tuple[str, ...]] = {**RECORD_FIELDS, **RECORD_LIST_FIELDS}
_RECORD_FIELD_SETS = {key: frozenset(names) for key, names in _RECORD_FIELD_NAMES.items()}
_FIELD_HEADS = {key: bullet_heads(names) for key, names in _RECORD_FIELD_NAMES.items()}

# ParsedPage attribute names of the scalar, record and record-list keys, in the order they are checked.
_SCALAR_NAMES = {key: "brief" if key == "ai brief" else key.replace(" ", "_") for key in SCALAR_KEYS}
_RECORD_NAMES = {key: {"ai outline": "outline", "score": "scores"}.get(key, key) for key in RECORD_FIELDS}
_RECORD_LIST_NAMES = {key: key.replace(" ", "_") for key in RECORD_LIST_FIELDS}

# For each record key, its fields in order: (name as written, snake_case name, checker or None for text).
_FIELD_SPECS: dict[str, tuple[tuple[str, str, object], ...]] = {
    key: tuple((name, name.replace(" ", "_"), CHECKERS.get(kind)) for name, kind in types.items())
    for key, types in _FIELD_TYPES.items()
}

_NO_ITEMS: tuple = ()
_NO_FIELDS = MappingProxyType({})


def is_key(text: str) -> bool:
    """True for lower-case words separated by single spaces (``^[a-z0-9]+( [a-z0-9]+)*$``)."""
    return bool(text) and text[0] != " " and text[-1] != " " and "  " not in text and set(text) <= _KEY_CHARS


def _scalar_key(line: str) -> str | None:
    """Return the scalar key the line starts with (longest key first), or None."""
    for key in _SCALARS_BY_FIRST_CHAR.get(line[:1], ()):
        if line.startswith(key):
            return key
    return None


class Entry:
    """One meta entry as written: its key, kind, line and raw content.

    ``kind`` is "scalar", "list", "record", "records" (a record list), "extra" (an
    unknown key) or "skip" (a repeated key whose bullets are ignored). The bullets of a list
    or an extra entry are ``items``, item ``n`` on line ``line + 1 + n``; a record's are
    ``fields`` (name -> (value, line)), a record list's ``records`` ((first line, fields) each).
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
        if kind == "record":
            self.fields = {}
        elif kind == "records":
            self.records = []


def _other_key(line: str, bullets_follow: bool) -> tuple[str, str | None]:
    """(key, kind) of a meta line that is neither indented nor a block key: a scalar key and the
    value after it, an unknown key ("extra"), or (line, None) when it is no key at all.

    ``bullets_follow`` tells whether the next line is a bullet.
    """
    scalar = _scalar_key(line)
    if scalar is not None and not (
        # "summary notes" followed by bullets is an unknown key that happens to begin
        # with the word "summary", not the summary "notes".
        line.startswith(" ", len(scalar)) and bullets_follow and is_key(line)
    ):
        return scalar, "scalar"
    if is_key(line):
        return line, "extra"
    return line, None


def read_meta(lines: list[str], start: int, stop: int, errors: Problems, warnings: Problems) -> dict:
    """Group the meta lines ``lines[start:stop]`` into entries, reporting malformed lines.

    Returns a dict key -> :class:`Entry` for every key seen for the first time.
    Stops early once the error list is full (the page is refused anyway) or after
    more than :data:`MAX_EXTRA_ENTRIES` unknown entries.
    """
    entries: dict[str, Entry] = {}
    extras = 0
    index = start
    while index < stop and not errors.full:
        line = lines[index]
        index += 1  # the next line's index, and this line's number
        if line == "":
            continue
        number = index
        if line[0] in " \t":
            # Bullets are read with the key line before them: an indented line met here is an error.
            _refuse_indented(line, bool(bullet_run(lines, index - 1, index)), number, errors)
            continue
        block = _BLOCK_KINDS.get(line)
        if block is None:
            bullets = bullet_run(lines, index, stop)
            key, kind = _other_key(line, bool(bullets))
            if kind is None:
                errors.add(number, "post meta", f"unrecognised meta line {short(line)}")
                continue
            if kind == "extra":
                extras += 1
                if extras > MAX_EXTRA_ENTRIES:
                    errors.add(
                        number,
                        "post meta",
                        f"more than {MAX_EXTRA_ENTRIES} unknown meta entries; "
                        "this does not look like a page-text export (the rest of the meta was not read)",
                    )
                    break
        else:
            key, kind = line, block
        entry = entries.get(key)
        if entry is None:
            entry = entries[key] = Entry(key, kind, number)
        else:
            entry = _repeated(entry, number, errors)
        if kind == "scalar":
            entry.value = line[len(key) :].strip()
        elif entry.kind == "extra" and not warnings.full:
            warnings.add(number, line, f"unknown meta entry {short(line)} kept as extra meta")
        if block is not None:
            if entry.kind == "record" or entry.kind == "records":
                # Most of a record's bullets are fields written the usual way, read in one step each.
                index = _take_usual_fields(entry, lines, index, stop)
            bullets = bullet_run(lines, index, stop)
        if bullets:
            _TAKE_BULLETS[entry.kind](entry, bullets, index + 1, errors)
            index += len(bullets)
    return entries


def _refuse_indented(line: str, is_bullet: bool, number: int, errors: Problems) -> None:
    message = f"unrecognised meta line {short(line)}"
    if is_bullet:
        message += ": a bullet must directly follow a key that stands alone on its line"
    errors.add(number, "post meta", message)


def _repeated(first: Entry, number: int, errors: Problems) -> Entry:
    """Report a key seen again on line ``number``; a throwaway entry takes what follows it."""
    key = first.key
    message = f"{short(key)} appears twice (lines {first.line} and {number}); a key may appear once"
    errors.add(number, key, message)
    return Entry(key, "skip", number)


# How the bullets that directly follow an entry's key line are taken, by the entry's kind. Each
# gets the entry, the bullets' texts, the line number of the first (bullet n is on line first + n)
# and the error list.


def _take_items(entry: Entry, items: list[str], first: int, errors: Problems) -> None:
    """A list or an extra entry: its bullets are its items."""
    entry.items = items


def _refuse_bullets(entry: Entry, items: list[str], first: int, errors: Problems) -> None:
    """A scalar entry: its value is on its key line, so each bullet is an error."""
    for number in range(first, first + len(items)):
        errors.add(number, entry.key, f"{entry.key!r} is a one-line entry and cannot have bullets")


def _ignore_bullets(entry: Entry, items: list[str], first: int, errors: Problems) -> None:
    """A repeated key, already reported: its bullets are ignored."""


def _take_record(entry: Entry, items: list[str], first: int, errors: Problems) -> None:
    """The ``name: value`` bullets of a record: each field once."""
    key = entry.key
    allowed = _RECORD_FIELD_SETS[key]
    fields = entry.fields
    for number, text in enumerate(items, first):
        name, colon, value = text.partition(":")
        if not colon or name not in allowed:
            _refuse_field(key, text, number, errors)
        elif name in fields:
            errors.add(
                number,
                f"{key}.{name}",
                f"{name!r} is given twice in {key!r} (lines {fields[name][1]} and {number})",
            )
        else:
            fields[name] = (value.strip(), number)


def _take_records(entry: Entry, items: list[str], first: int, errors: Problems) -> None:
    """The ``name: value`` bullets of a record list: a field name the last record already has
    starts the next record."""
    key = entry.key
    allowed = _RECORD_FIELD_SETS[key]
    records = entry.records
    for number, text in enumerate(items, first):
        name, colon, value = text.partition(":")
        if not colon or name not in allowed:
            _refuse_field(key, text, number, errors)
            continue
        _add_record_field(records, name, value.strip(), number)


def _add_record_field(records: list, name: str, value: str, number: int) -> None:
    """Add a field to a record list: the list's first field, and a field name the last record
    already has, start the next record; any other field joins the last record, whichever path
    (the usual fields' or the general one) began it."""
    if not records or name in records[-1][1]:
        records.append((number, {}))
    records[-1][1][name] = (value, number)


def _take_usual_fields(entry: Entry, lines: list[str], index: int, stop: int) -> int:
    """Take the fields of a new record or record list written the usual way, from ``lines[index]``
    on; return the index of the first line left for the general path (:data:`_TAKE_BULLETS`).

    A field line is a bullet whose text is ``<name>:<value>``: its part before the first ``:`` is
    looked up in the table of bullet heads of the record's field names (:func:`lines.bullet_heads`),
    which tells the bullet and the name in one step. A field given twice, and every line the table
    does not know, stop this and are read by the general path, which reports them.
    """
    heads = _FIELD_HEADS[entry.key]
    if entry.kind == "record":
        fields = entry.fields
        while index < stop:
            head, colon, value = lines[index].partition(":")
            name = heads.get(head)
            if name is None or not colon or name in fields:
                break
            index += 1  # now the line's number
            fields[name] = (value.strip(), index)
        return index
    records = entry.records
    while index < stop:
        head, colon, value = lines[index].partition(":")
        name = heads.get(head)
        if name is None or not colon:
            break
        index += 1  # now the line's number
        _add_record_field(records, name, value.strip(), index)
    return index


def _refuse_field(key: str, text: str, number: int, errors: Problems) -> None:
    allowed = _RECORD_FIELD_NAMES[key]
    name, colon, _ = text.partition(":")
    if not colon:
        errors.add(number, key, f"expected 'name: value' in {key!r}, got {short(text)}")
    else:
        errors.add(
            number, key, f"unknown field {short(name)} in {key!r}; expected one of: {', '.join(allowed)}"
        )


_TAKE_BULLETS = {
    "list": _take_items,
    "extra": _take_items,
    "record": _take_record,
    "records": _take_records,
    "scalar": _refuse_bullets,
    "skip": _ignore_bullets,
}


def _convert_fields(
    key: str, fields: dict[str, tuple[str, int]], label: str, errors: Problems
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


def build_meta(entries: dict[str, Entry], errors: Problems) -> dict:
    """Turn the grouped entries into ParsedPage keyword arguments, checking every value."""
    meta: dict[str, object] = {}
    _build_scalars(entries, meta, errors)
    _build_lists(entries, meta, errors)
    for key, name in _RECORD_NAMES.items():
        entry = entries.get(key)
        if entry is not None:
            meta[name] = _convert_fields(key, entry.fields, key, errors)
    for key, name in _RECORD_LIST_NAMES.items():
        entry = entries.get(key)
        if entry is not None:
            meta[name] = _convert_records(entry, errors)
    meta["extra"] = {key: list(entry.items) for key, entry in entries.items() if entry.kind == "extra"}
    return meta


def _build_scalars(entries: dict[str, Entry], meta: dict, errors: Problems) -> None:
    for key, name in _SCALAR_NAMES.items():
        entry = entries.get(key)
        if entry is None:
            continue
        if entry.value == "":
            errors.add(entry.line, key, f"{key!r} has no value; write the value right after the key")
            continue
        if key in _INT_SCALARS:
            number, problem = check_int(entry.value)
            if problem:
                errors.add(entry.line, key, problem)
            meta[name] = number
        else:
            meta[name] = entry.value


def _build_lists(entries: dict[str, Entry], meta: dict, errors: Problems) -> None:
    for key in LIST_KEYS:
        entry = entries.get(key)
        if entry is None:
            continue
        items = meta[key] = list(entry.items)
        if "" in items:
            for number, text in enumerate(items, start=entry.line + 1):
                if text == "":
                    errors.add(number, key, f"empty item in {key!r}")


def _convert_records(entry: Entry, errors: Problems) -> list[dict]:
    key = entry.key
    records = []
    for position, (first_line, fields) in enumerate(entry.records, start=1):
        label = f"{key}[{position}]"
        if key == "image sources" and "url" not in fields:
            errors.add(first_line, f"{label}.url", f"image source {position} has no url")
        records.append(_convert_fields(key, fields, label, errors))
    return records


def check_flags(meta: dict, entries: dict[str, Entry], figures: int, warnings: Problems) -> None:
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
