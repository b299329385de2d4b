"""Parser for page-text exports (see ``docs/page-format.md``).

A page-text export is the visible text of one published article page: a title line,
the body blocks, a ``<site> post meta`` header, the meta entries, and the
``Similar Posts`` end marker. :func:`parse_page` turns such a document into a
:class:`ParsedPage` or explains, line by line, why it cannot.

The package uses the standard library only (no Django), never raises for any ``str`` or
``bytes`` input, and runs in time linear in the size of the document. Its modules follow what
they read:

- ``document``: the whole document (size, encoding, normalisation, title, header, end marker);
- ``body``: the body's blocks; ``meta``: the meta box's entries; ``values``: one meta value;
- ``lines``: what the body and the meta box share (bullets and lists);
- ``results``: what a parse returns.
"""

from .body import FIGURE_SEPARATOR, MAX_BODY_BLOCKS, MAX_CLASSIFIED_LINES
from .document import (
    END_MARKER,
    HEADER_SUFFIX,
    MAX_DOCUMENT_BYTES,
    MAX_LINE_CHARS,
    normalize_text,
    parse_body,
    parse_page,
)
from .lines import BULLET
from .meta import BLOCK_KEYS, LIST_KEYS, MAX_EXTRA_ENTRIES, RECORD_FIELDS, RECORD_LIST_FIELDS, SCALAR_KEYS
from .results import MAX_ERRORS, Block, ParsedPage, ParseResult, Problem
from .values import MAX_INT, VERSION_PART_DIGITS, VERSION_PART_MAX, check_url, parse_version, version_problem

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
    # Also imported across the project (the content validator, forms, backups, templates):
    "VERSION_PART_DIGITS",
    "VERSION_PART_MAX",
    "check_url",
    "parse_body",
    "parse_version",
    "version_problem",
    # The format's constants.
    "BLOCK_KEYS",
    "BULLET",
    "END_MARKER",
    "FIGURE_SEPARATOR",
    "HEADER_SUFFIX",
    "LIST_KEYS",
    "MAX_CLASSIFIED_LINES",
    "MAX_INT",
    "RECORD_FIELDS",
    "RECORD_LIST_FIELDS",
    "SCALAR_KEYS",
]
