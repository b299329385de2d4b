"""What the parser returns: problems, body blocks, the parsed page and the result of a parse."""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_ERRORS = 50
"""At most this many errors (and, separately, warnings) are reported for one document."""


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


class Problems:
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
