"""What the meta box and the body share: bullets, lists of bullets, and quoting a line in a message.

A bullet is recognised here and nowhere else (:func:`bullet_texts`), and so is a list, a run of
bullet lines (:func:`list_end`): the meta box reads every entry's bullets, and the body every list
block, through them.
"""

from __future__ import annotations

BULLET = "\u2022"
LIST_BULLET = "  " + BULLET + " "
"""How a list item or a record's field line starts: two spaces, the bullet, a space."""
RECORD_LIST_BULLET = "    " + BULLET + " "
"""How a field line of a record in a record list (entities, image sources) starts: four spaces."""
_EMPTY_BULLETS = ("  " + BULLET, "    " + BULLET)


def bullet_texts(lines: list[str], start: int, stop: int) -> list[str | None]:
    """For each of ``lines[start:stop]``, the text of the bullet it is, or None when it is none.

    A bullet line is 2 or 4 spaces, U+2022, then a space and the text, or nothing at all.
    """
    # Most body lines start with no space at all, most meta lines with a bullet: each is told
    # with as few string operations as it takes (this runs on every line of every document).
    return [
        None
        if line[:1] != " "
        else line[4:]
        if line[:4] == LIST_BULLET
        else line[6:]
        if line[:6] == RECORD_LIST_BULLET
        else ("" if line in _EMPTY_BULLETS else None)
        for line in lines[start:stop]
    ]


def list_end(texts: list[str | None], index: int) -> int:
    """Where the list that starts at ``texts[index]`` ends: the list is the run of bullets
    (:func:`bullet_texts`) up to the first line that is not one, or to the end of ``texts``."""
    try:
        return texts.index(None, index)
    except ValueError:
        return len(texts)


def short(text: str, limit: int = 60) -> str:
    """Quote a piece of the document for a message, cut to ``limit`` characters."""
    if len(text) > limit:
        return repr(text[:limit] + "…")
    return repr(text)
