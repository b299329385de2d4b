"""Field-by-field comparison of two revisions' content, for the compare view.

Text fields give an inline diff (lines, then words), lists the items added and removed, records (scores,
flags, revision, outline, payload) each changed field as old -> new. Pure Python: the
template escapes every piece, so hostile text stays text.
"""

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

LABELS = {
    "title": "Title",
    "topic": "Topic",
    "summary": "Summary",
    "brief": "AI brief",
    "outline": "AI outline",
    "stack": "Stack",
    "tools": "Tools",
    "code_language": "Code language",
    "difficulty": "Difficulty",
    "reading_time": "Reading time",
    "view_count": "View count",
    "scores": "Scores",
    "revision": "Revision",
    "hash": "Hash",
    "flags": "Flags",
    "checklist": "Checklist",
    "entities": "Entities",
    "image_sources": "Image sources",
    "payload": "Payload",
    "notes": "Notes",
    "extra": "Extra meta",
    "body_text": "Body",
}
TEXT_FIELDS = {"title", "topic", "summary", "brief", "body_text"}
LIST_FIELDS = {"stack", "tools", "checklist", "notes", "entities", "image_sources"}
RECORD_FIELDS = {"outline", "scores", "revision", "flags", "payload", "extra"}


@dataclass
class FieldChange:
    key: str
    label: str
    kind: str  # "text", "list", "record" or "value"
    pieces: list[tuple[str, str]] = field(default_factory=list)  # text: (op, words) op in =,-,+
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # record: (name, old, new)
    old: str = ""
    new: str = ""


def show_value(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {show_value(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "; ".join(show_value(v) for v in value)
    return str(value)


# A line with its line end (CRLF, CR or LF), or the last line when it has none.
_LINE_RE = re.compile(r"[^\r\n]*(?:\r\n?|\n)|[^\r\n]+")
# Runs of whitespace, kept as tokens of their own by re.split.
_SPACE_RE = re.compile(r"(\s+)")
# difflib takes time up to quadratic in the length of what it matches. Past these sizes (on
# either side, once the common start and end are set aside) the lines are not matched but
# diffed word by word as one run, and the words of a run are not matched but shown as removed
# and added whole. Documents are at most 2 MiB; a compare page stays well under a second.
MAX_DIFF_LINES = 20_000
MAX_WORD_DIFF_TOKENS = 1_000


def diff_text(old: str, new: str) -> list[tuple[str, str]]:
    """An inline diff of two texts: pieces (op, text), op "=" (both), "-" (old only) or "+" (new only).

    The "=" and "-" pieces joined give ``old`` exactly, the "=" and "+" pieces ``new``. Lines are
    matched first, ignoring their line ends (so CRLF against LF costs only the line ends); each
    run of changed lines is then diffed word by word, whitespace runs being tokens of their own,
    so a reflowed paragraph shows as changed whitespace between unchanged words. Pieces never
    repeat an op twice in a row, and a "-" comes before the "+" next to it; identical texts give
    one "=" piece (none when empty).
    """
    pieces = _Pieces()
    if old == new:
        pieces.add("=", old)
        return pieces.result()
    a, b = _LINE_RE.findall(old), _LINE_RE.findall(new)
    a_keys = [line.rstrip("\r\n") for line in a]
    b_keys = [line.rstrip("\r\n") for line in b]
    start, a_stop, b_stop = _common_ends(a_keys, b_keys)
    _equal_lines(pieces, a[:start], b[:start], a_keys[:start])
    a_middle, b_middle = a_keys[start:a_stop], b_keys[start:b_stop]
    if len(a_middle) > MAX_DIFF_LINES or len(b_middle) > MAX_DIFF_LINES:
        _word_diff(pieces, "".join(a[start:a_stop]), "".join(b[start:b_stop]))
    else:
        # (autojunk, the default: among many lines, lines as common as blank ones anchor no
        # match; the word diff of the runs between matches still finds them equal.)
        for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a_middle, b_middle).get_opcodes():
            i1, i2, j1, j2 = i1 + start, i2 + start, j1 + start, j2 + start
            if op == "equal":
                _equal_lines(pieces, a[i1:i2], b[j1:j2], a_keys[i1:i2])
            else:
                _word_diff(pieces, "".join(a[i1:i2]), "".join(b[j1:j2]))
    _equal_lines(pieces, a[a_stop:], b[b_stop:], a_keys[a_stop:])
    return pieces.result()


class _Pieces:
    """Diff pieces being built: each op's texts are joined once at the end (a text of many
    unchanged lines would otherwise be copied again for every line added to it)."""

    def __init__(self) -> None:
        self.ops: list[str] = []
        self.texts: list[list[str]] = []

    def add(self, op: str, text: str) -> None:
        """Add a piece, to the last one when it has the same op; empty text adds nothing."""
        if not text:
            return
        if self.ops and self.ops[-1] == op:
            self.texts[-1].append(text)
        elif op == "-" and self.ops and self.ops[-1] == "+":
            # a removal next to an addition goes before it: "-" and "+" pieces are read apart
            if len(self.ops) > 1 and self.ops[-2] == "-":
                self.texts[-2].append(text)
            else:
                self.ops.insert(-1, "-")
                self.texts.insert(-1, [text])
        else:
            self.ops.append(op)
            self.texts.append([text])

    def result(self) -> list[tuple[str, str]]:
        return [(op, "".join(texts)) for op, texts in zip(self.ops, self.texts, strict=True)]


def _common_ends(a: list, b: list) -> tuple[int, int, int]:
    """(start, a_stop, b_stop): a[:start] == b[:start] and a[a_stop:] == b[b_stop:], both longest."""
    start, limit = 0, min(len(a), len(b))
    while start < limit and a[start] == b[start]:
        start += 1
    a_stop, b_stop = len(a), len(b)
    while a_stop > start and b_stop > start and a[a_stop - 1] == b[b_stop - 1]:
        a_stop -= 1
        b_stop -= 1
    return start, a_stop, b_stop


def _equal_lines(pieces: _Pieces, a: list[str], b: list[str], keys: list[str]) -> None:
    """Add lines equal but, maybe, for their line ends."""
    for line, other, key in zip(a, b, keys, strict=True):
        if line == other:
            pieces.add("=", line)
        else:
            pieces.add("=", key)
            pieces.add("-", line[len(key) :])
            pieces.add("+", other[len(key) :])


def _word_diff(pieces: _Pieces, old: str, new: str) -> None:
    """Add the word-by-word diff of two runs of lines."""
    a = [token for token in _SPACE_RE.split(old) if token]
    b = [token for token in _SPACE_RE.split(new) if token]
    start, a_stop, b_stop = _common_ends(a, b)
    pieces.add("=", "".join(a[:start]))
    if a_stop - start > MAX_WORD_DIFF_TOKENS or b_stop - start > MAX_WORD_DIFF_TOKENS:
        pieces.add("-", "".join(a[start:a_stop]))
        pieces.add("+", "".join(b[start:b_stop]))
    else:
        # Whitespace is junk: it never anchors a match on its own (unrelated sentences do not
        # share their spaces), but joins the words it sits between when the same on both sides.
        a_middle, b_middle = a[start:a_stop], b[start:b_stop]
        matcher = difflib.SequenceMatcher(str.isspace, a_middle, b_middle, autojunk=False)
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            if op == "equal":
                pieces.add("=", "".join(a_middle[i1:i2]))
            else:
                pieces.add("-", "".join(a_middle[i1:i2]))
                pieces.add("+", "".join(b_middle[j1:j2]))
    pieces.add("=", "".join(a[a_stop:]))


def compare_contents(old: dict[str, Any], new: dict[str, Any]) -> list[FieldChange]:
    """The fields that differ between two content dicts, in the order of the post-meta box."""
    changes = []
    for key, label in LABELS.items():
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        change = FieldChange(key=key, label=label, kind="value")
        if key in TEXT_FIELDS:
            change.kind = "text"
            change.pieces = diff_text(before or "", after or "")
        elif key in LIST_FIELDS:
            change.kind = "list"
            before_items = [show_value(item) for item in before or []]
            after_items = [show_value(item) for item in after or []]
            change.removed = [item for item in before_items if item not in after_items]
            change.added = [item for item in after_items if item not in before_items]
            if not change.added and not change.removed:
                change.removed, change.added = ["(order)"], ["(new order)"]
        elif key in RECORD_FIELDS:
            change.kind = "record"
            before_record, after_record = before or {}, after or {}
            for name in dict.fromkeys([*before_record, *after_record]):
                if before_record.get(name) != after_record.get(name):
                    change.changes.append(
                        (
                            name.replace("_", " "),
                            show_value(before_record.get(name)),
                            show_value(after_record.get(name)),
                        )
                    )
        else:
            change.old, change.new = show_value(before), show_value(after)
        changes.append(change)
    return changes
