"""Reading the body: the lines between the title and the meta header, split into blocks
(headings, paragraphs, code, lists and figures).

Blank lines separate blocks. A figure is a caption line directly followed by
``<caption>. image source: <source>``; a list is a run of bullet lines (:func:`lines.bullet_run`,
the rule the meta box's bullets follow too); every other run of lines is a heading, a paragraph
or code, told apart line by line (:func:`_line_kind`) by weighing signals of code against
signals of prose.
"""

from __future__ import annotations

import re

from .lines import BULLET, bullet_run, short
from .results import Block, Problems

MAX_BODY_BLOCKS = 5_000
"""The body is split into at most this many blocks; the rest is kept as one paragraph (with a warning)."""

MAX_CLASSIFIED_LINES = 200
"""At most this many lines of one text run are inspected to tell code from prose."""

FIGURE_SEPARATOR = ". image source:"

# --------------------------------------------------------------------------- weighing one line
#
# _line_kind adds the weight of every signal a line shows to its code score or its prose score.
# The line is code when its code score is at least CODE_MIN_SCORE and above its prose score,
# prose when its prose score is at least PROSE_MIN_SCORE and not below its code score, and
# neutral otherwise (neutral lines count for neither side of a run). Weights come in three
# strengths: 3, a signal that decides a line on its own and outweighs one prose signal; 2, one
# that decides a line unless prose signals weigh as much; 1, one that needs a second signal,
# because prose shows it too now and then.

INDENT_WEIGHT = 3
"""An indented line: paragraphs start at the margin (``docs/page-format.md``), code is indented to
show its structure, and list items are told by their bullet before lines are weighed."""
CODE_START_WEIGHT = 3
"""A line that begins like code or a command (``import``, ``def f(``, ``$ ``, SQL, ``@name``...)."""
OPERATOR_WEIGHT = 2
"""An operator such as `` = ``, ``==``, ``->`` or ``&&``: prose writes these as words."""
FLAG_WEIGHT = 2
"""A command-line flag, `` -x`` or `` --name``: prose has dashes too, but rarely one before a letter."""
CALL_WEIGHT = 1
"""``name(`` with no space: code calls, but prose sometimes writes a parenthesis so too."""
PUNCTUATION_WEIGHT = 1
"""A semicolon, a brace or ``()`` anywhere in the line: prose has semicolons."""
CODE_END_WEIGHT = 1
"""The line ends with a bracket, ``;`` or ``,``, or with ``)`` or ``):`` after a ``(``: code
continues on the next line; prose too ends a line with a parenthesis or a comma."""
SYMBOL_WORD_WEIGHT = 1
"""A single word holding ``. _ / = : ( )``: a path, a dotted name, a URL, or a word at a sentence's end."""
CODE_MIN_SCORE = 2
"""One medium signal, or two weak ones, make a line code."""

SENTENCE_WEIGHT = 3
"""A line ending with ``.``, ``!`` or ``?`` after at least SENTENCE_MIN_SPACES + 1 words: a sentence."""
SENTENCE_MIN_SPACES = 3
"""Four words: shorter lines ending with a full stop are as often code (``x = 1.``, ``cd ..``)."""
WORDY_WEIGHT = 2
"""A long line of mostly letters: prose, even without a full stop at its end."""
WORDY_MIN_SPACES = 7
"""Eight words or more: enough that a comment or a command with words is not taken for prose."""
WORDY_MAX_OTHER_SHARE = 10
"""Of a wordy line at most one character in this many is neither a letter nor a space."""
PROSE_MIN_SCORE = 2
"""One prose signal makes a line prose (when code signals do not weigh more)."""

CODE_RUN_ONE_IN = 3
"""A run of lines is code when its code lines outnumber its prose lines and are at least one in
this many of its lines: code has blank-looking lines (a lone ``}``, a short call) that count as
neither."""
HEADING_MAX_CHARS = 80
"""A heading is one line of at most this many characters (and no sentence punctuation at its end)."""

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
    letters. The weights and thresholds are the constants above.
    """
    stripped = line.strip()
    if not stripped:
        return "neutral"
    code = INDENT_WEIGHT if line[0] in " \t" else 0
    if _strong_code_prefix(stripped):
        code += CODE_START_WEIGHT
    code += _mark_weight(stripped)
    last = stripped[-1]
    if last in "{}[](;,":
        code += CODE_END_WEIGHT
    elif (last == ")" or (last == ":" and stripped.endswith("):"))) and "(" in stripped:
        code += CODE_END_WEIGHT
    spaces = stripped.count(" ")
    if not spaces and _SYMBOL_RE.search(stripped):
        code += SYMBOL_WORD_WEIGHT
    prose = 0
    if last in _SENTENCE_END and spaces >= SENTENCE_MIN_SPACES:
        prose += SENTENCE_WEIGHT
    if spaces >= WORDY_MIN_SPACES and _not_prose_count(stripped) * WORDY_MAX_OTHER_SHARE <= len(stripped):
        prose += WORDY_WEIGHT
    if code >= CODE_MIN_SCORE and code > prose:
        return "code"
    if prose >= PROSE_MIN_SCORE and prose >= code:
        return "prose"
    return "neutral"


def _mark_weight(stripped: str) -> int:
    """The code weight of the marks anywhere in a line: operators, calls, flags, braces and semicolons."""
    weight = 0
    # Searching a long prose line for one character is much faster than for a regular
    # expression (or a longer string), so each search below runs only when the line holds a
    # character that every match must contain. The operators: those with "=", then the others.
    if (
        ("=" in stripped and _OPERATOR_RE.search(stripped))
        or ("-" in stripped and "->" in stripped)
        or ("&" in stripped and "&&" in stripped)
        or ("|" in stripped and "||" in stripped)
    ):
        weight += OPERATOR_WEIGHT
    if "(" in stripped and _CALL_RE.search(stripped):
        weight += CALL_WEIGHT
    if "-" in stripped and _FLAG_RE.search(stripped):
        weight += FLAG_WEIGHT
    if ";" in stripped or "{" in stripped or "}" in stripped or ("(" in stripped and "()" in stripped):
        weight += PUNCTUATION_WEIGHT
    return weight


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
        len(line) <= HEADING_MAX_CHARS
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
    if code and code > prose and code * CODE_RUN_ONE_IN >= len(sample):
        return Block(kind="code", text="\n".join(lines), language=language)
    return Block(kind="paragraph", text="\n".join(lines))


def split_body(
    lines: list[str], language: str, warnings: Problems
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
    blocks: list[tuple[Block, int, int]] = []
    index = first
    while index < last:
        if lines[index] == "":
            index += 1
            continue
        # A run of non-blank lines, lines[index:end]: most are a single heading or paragraph
        # line, and a run that can hold no figure and no bullet is one text block.
        try:
            end = lines.index("", index, last)
        except ValueError:
            end = last
        run = lines[index] if end - index == 1 else "\n".join(lines[index:end])
        if FIGURE_SEPARATOR in run or BULLET in run:  # (no bullet line without a bullet)
            if not _split_run(lines, index, end, last, language, blocks, warnings):
                break
        elif len(blocks) < MAX_BODY_BLOCKS:
            blocks.append((_text_block(lines[index:end], language), index, end - 1))
        else:
            _keep_the_rest(lines, index, last, blocks, warnings)
            break
        index = end + 1
    return _join_code_blocks(lines, blocks), "\n".join(lines[first:last])


def _split_run(
    lines: list[str],
    start: int,
    end: int,
    last: int,
    language: str,
    blocks: list[tuple[Block, int, int]],
    warnings: Problems,
) -> bool:
    """Split the run ``lines[start:end]`` into figures, lists and text blocks, appended to ``blocks``.

    A text block runs up to the next figure or list; a list up to the first line that is not a
    bullet. Returns False when the block limit was reached and the body's rest was kept whole.
    """
    text_start = -1  # the first line of the text block being gathered, if any
    index = start
    while index < end:
        # At the start of a block, not inside one; a list just taken ends only where the next
        # block starts, so the limit is not checked there either.
        if (
            text_start < 0
            and (index == start or blocks[-1][0].kind == "figure")
            and len(blocks) >= MAX_BODY_BLOCKS
        ):
            _keep_the_rest(lines, index, last, blocks, warnings)
            return False
        line = lines[index]
        items = bullet_run(lines, index, end)
        source = None
        if not items:  # (a bullet line is never a caption: captions start at the margin)
            following = lines[index + 1] if index + 1 < last else ""
            source = _figure_source(line, following) if following.startswith(line) else None
            if source is None:
                if text_start < 0:
                    text_start = index
                index += 1
                continue
        if text_start >= 0:
            blocks.append((_text_block(lines[text_start:index], language), text_start, index - 1))
            text_start = -1
        if items:
            stop = index + len(items)
            blocks.append((Block(kind="list", items=items), index, stop - 1))
            index = stop
        else:
            blocks.append((Block(kind="figure", caption=line, source=source), index, index + 1))
            index += 2
    if text_start >= 0:
        blocks.append((_text_block(lines[text_start:end], language), text_start, end - 1))
    return True


def _keep_the_rest(
    lines: list[str], index: int, last: int, blocks: list[tuple[Block, int, int]], warnings: Problems
) -> None:
    """Past :data:`MAX_BODY_BLOCKS` blocks: the body's lines from ``index`` on become one paragraph."""
    blocks.append((Block(kind="paragraph", text="\n".join(lines[index:last])), index, last - 1))
    warnings.add(
        index + 2,
        "body",
        f"the body has more than {MAX_BODY_BLOCKS} blocks; "
        f"lines {index + 2} to {last + 1} are kept as one paragraph",
    )


def _join_code_blocks(lines: list[str], blocks: list[tuple[Block, int, int]]) -> list[tuple[Block, int, int]]:
    """Join code blocks separated only by blank lines into one, keeping those blank lines."""
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
    return merged


def link_figures(positioned, image_sources: list[dict], warnings: Problems, line_offset: int) -> int:
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
                f"figure caption {short(block.caption)} matches no image source caption in the meta",
            )
    return figures
