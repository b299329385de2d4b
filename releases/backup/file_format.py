"""The backup's format (docs/backup.md): its name and versions, the row fields and revision
pointers a line carries, recognising a backup by its header line, and the JSON and time
encodings of its lines."""

import datetime as dt
import json
from typing import Any

FORMAT = "kb-backup"
VERSION = 2
# Version 1 predates the revision pointers: its rows carry pending_state and edited_at instead.
READS = (1, 2)
# The header is small; a first line longer than this is not one.
HEADER_MAX_BYTES = 4096

# Row fields a backup carries besides the content (which gives every other column).
ROW_FIELDS = (
    "slug", "state", "published_at", "source_digest", "source_version", "created_at", "updated_at",
)  # fmt: skip
_ROW_TIMES = ("published_at", "created_at", "updated_at")
# The Release pointers, each a revision number in a backup.
POINTERS = ("live_revision", "pending_revision", "conflict_revision")


def is_backup_header(line: bytes | str) -> bool:
    """True when ``line`` is the first line of a backup. A page-text export never starts so."""
    text = line.decode("utf-8", "replace") if isinstance(line, bytes) else line
    if not text.lstrip().startswith("{"):
        return False
    try:
        header = _json_loads(text)
    except ValueError:
        return False
    return isinstance(header, dict) and header.get("format") == FORMAT


def is_backup_file(path) -> bool:
    """True when the file at ``path`` starts with a backup header."""
    try:
        with open(path, "rb") as handle:
            return is_backup_header(handle.readline(HEADER_MAX_BYTES))
    except OSError:
        return False


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _json_dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _json_loads(text: str) -> Any:
    return json.loads(text)
