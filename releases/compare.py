"""Field-by-field comparison of two revisions' content, for the compare view.

Text fields give an inline word diff, lists the items added and removed, records (scores,
flags, revision, outline, payload) each changed field as old -> new. Pure Python: the
template escapes every piece, so hostile text stays text.
"""

import difflib
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


def _show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_show(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "; ".join(_show(v) for v in value)
    return str(value)


def _word_diff(old: str, new: str) -> list[tuple[str, str]]:
    a, b = old.split(" "), new.split(" ")
    pieces = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            pieces.append(("=", " ".join(a[i1:i2])))
        else:
            if i2 > i1:
                pieces.append(("-", " ".join(a[i1:i2])))
            if j2 > j1:
                pieces.append(("+", " ".join(b[j1:j2])))
    return pieces


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
            change.pieces = _word_diff(before or "", after or "")
        elif key in LIST_FIELDS:
            change.kind = "list"
            before_items = [_show(item) for item in before or []]
            after_items = [_show(item) for item in after or []]
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
                            _show(before_record.get(name)),
                            _show(after_record.get(name)),
                        )
                    )
        else:
            change.old, change.new = _show(before), _show(after)
        changes.append(change)
    return changes
