"""Reading a whole document: its size and encoding, normalisation, the title, where the meta box
begins and ends; then the body (``body.py``) and the meta box (``meta.py``) are read in turn.
"""

from __future__ import annotations

import re

from .body import link_figures, split_body
from .meta import build_meta, check_flags, read_meta
from .results import Block, ParsedPage, ParseResult, Problem, Problems

MAX_DOCUMENT_BYTES = 2 * 1024 * 1024
"""Largest accepted document, in bytes (UTF-8). Larger input is refused with an error."""

MAX_LINE_CHARS = 100_000
"""Longest accepted line, in characters. A longer line is refused with an error naming it."""

HEADER_SUFFIX = " post meta"
END_MARKER = "Similar Posts"

_TRAILING_BLANKS = re.compile(r"[ \t]+$", re.MULTILINE)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f]")
# The UTF-8 bytes of what _CONTROL_RE matches, but CR (which normalising turns into LF).
_CONTROL_BYTES = bytes((*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)))
_SURROGATE_RE = re.compile(r"[\ud800-\udfff]")
_HEADER_RE = re.compile(r"(\S+) post meta")


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


def _decode(data: object, errors: Problems) -> tuple[str, bytes] | None:
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


def _check_characters(text: str, lines: list[str], errors: Problems, raw: bytes) -> None:
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


def parse_body(
    body_text: str, *, code_language: str = "", image_sources: list[dict] | None = None
) -> tuple[list[Block], list[Problem]]:
    """Classify a body text into blocks the way documents are classified: (blocks, warnings).

    Editors edit an article's body as text; this turns it back into typed blocks.
    """
    warnings = Problems()
    lines = normalize_text(body_text).split("\n")
    positioned, _ = split_body(lines, code_language, warnings)
    link_figures(positioned, image_sources or [], warnings, line_offset=1)
    return [block for block, _, _ in positioned], warnings.result("warnings")


def parse_page(data: str | bytes) -> ParseResult:
    """Parse one page-text export.

    Returns a :class:`ParseResult`. Its ``page`` is ``None`` when there is any error;
    all errors found are listed (at most :data:`MAX_ERRORS`), each with the line and
    field it concerns. Warnings never prevent a page. Never raises for ``str`` or
    ``bytes`` input.
    """
    errors = Problems()
    warnings = Problems()

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

    entries = read_meta(lines, header + 1, end, errors, warnings)
    if errors.full:
        return finish(None)
    meta = build_meta(entries, errors)
    if "reference" not in entries:
        errors.add(None, "reference", "missing 'reference': every document needs one to identify the article")

    language = meta.get("code_language") or ""
    positioned, body_text = split_body(lines[1:header], str(language), warnings)
    figures = link_figures(positioned, meta.get("image_sources") or [], warnings, line_offset=2)
    check_flags(meta, entries, figures, warnings)

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
