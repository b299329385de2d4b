"""What the meta box and the body share: bullets, lists of bullets, and quoting a line in a message.

A bullet, and a list (a run of bullet lines), are recognised here and nowhere else: the body reads
every list block, and the meta box every entry's bullets, through :func:`bullet_run`; the meta box
tells the usual fields of its records by the table of :func:`bullet_heads`, built from the same
bullets.
"""

from __future__ import annotations

BULLET = "\u2022"
LIST_BULLET = "  " + BULLET + " "
"""How a list item or a record's field line starts: two spaces, the bullet, a space."""
RECORD_LIST_BULLET = "    " + BULLET + " "
"""How a field line of a record in a record list (entities, image sources) starts: four spaces."""
_EMPTY_BULLETS = ("  " + BULLET, "    " + BULLET)


def bullet_run(lines: list[str], index: int, stop: int) -> list[str]:
    """The texts of the run of bullet lines that starts at ``lines[index]``, ending at the first line
    that is not a bullet or at ``stop``: a list's items, or an entry's bullets. Empty when
    ``lines[index]`` is no bullet.

    A bullet line is 2 or 4 spaces, U+2022, then a space and the text, or nothing at all.
    """
    # This runs on every bullet of every document: the usual shapes are told first, with as few
    # string operations as it takes, and the loop stops at the first other line.
    texts: list[str] = []
    append = texts.append
    while index < stop:
        line = lines[index]
        if line[:4] == LIST_BULLET:
            append(line[4:])
        elif line[:1] != " ":  # (most runs end at a line that starts at the margin)
            break
        elif line[:6] == RECORD_LIST_BULLET:
            append(line[6:])
        elif line in _EMPTY_BULLETS:
            append("")
        else:
            break
        index += 1
    return texts


def bullet_heads(words: tuple[str, ...]) -> dict[str, str]:
    """A table of how bullet lines whose text starts with one of ``words`` begin: each bullet
    (:data:`LIST_BULLET`, :data:`RECORD_LIST_BULLET`) followed by the word, mapped to the word.

    The meta box looks up the part of a line before its first ``:`` here to tell, in one step,
    a bullet that holds a record's field ``<name>: <value>`` and the field's name.
    """
    return {bullet + word: word for bullet in (LIST_BULLET, RECORD_LIST_BULLET) for word in words}


def short(text: str, limit: int = 60) -> str:
    """Quote a piece of the document for a message, cut to ``limit`` characters."""
    if len(text) > limit:
        return repr(text[:limit] + "…")
    return repr(text)
