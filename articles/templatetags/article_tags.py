"""Template filters of the reader site and the admin."""

from collections.abc import Mapping

from django import template
from django.core.files.storage import default_storage
from django.utils.safestring import mark_safe
from markupsafe import Markup, escape
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import TextLexer, get_lexer_by_name
from pygments.util import ClassNotFound

from articles import models
from articles.bounded_cache import ByteBoundedCache, digest_key
from articles.parsing import check_url
from articles.writing import tag_slug

register = template.Library()
FORMATTER = HtmlFormatter(cssclass="highlight", wrapcode=True)
# Highlighted code blocks, remembered per process: at most 8 MB in all, and no block whose HTML
# is over 1 MB (a 2 MB document's code highlights to several times its size; it is made again).
HIGHLIGHTED = ByteBoundedCache(8 * 2**20, max_entry_fraction=1 / 8)


@register.filter
def label(key: str) -> str:
    """``needs_human_review`` -> ``needs human review``."""
    return str(key).replace("_", " ")


@register.filter
def pairs(mapping) -> list[tuple]:
    """``{% for key, value in mapping|pairs %}``: a mapping's (key, value) pairs, made in Python.

    Use it instead of ``mapping.items`` for any mapping whose keys come from outside (extra
    meta, a payload, the query string): a template looks ``mapping.items`` up as the key "items"
    first, so a mapping with an entry of that name loops over the entry instead and the page
    fails. A QueryDict gives each key with its last value, as ``.items`` did. Anything that is
    not a mapping gives no pairs.
    """
    return list(mapping.items()) if isinstance(mapping, Mapping) else []


@register.filter
def at(sequence, index):
    """``items|at:2``: the item at an index, or None when there is none."""
    try:
        return sequence[int(index)]
    except (TypeError, ValueError, IndexError, KeyError):
        return None


@register.filter
def safe_url(url) -> str:
    """An http(s) URL as it is; anything else (javascript:, data:, relative) becomes ''."""
    url = str(url or "")
    return url if url.startswith(("https://", "http://")) and check_url(url)[0] else ""


@register.filter
def media_url(name) -> str:
    """The public URL of a stored upload."""
    return default_storage.url(name) if name else ""


@register.filter
def highlight_code(block) -> str:
    """A code block as highlighted HTML (Pygments escapes the code; classes, no inline styles)."""
    return mark_safe(_highlighted(block.get("text") or "", block.get("language") or "text"))  # noqa: S308


def _highlighted(text: str, language: str) -> str:
    """Pygments' HTML for a piece of code, remembered under a digest of the code and language
    (the same text always gives the same HTML) while it fits in ``HIGHLIGHTED``."""
    return HIGHLIGHTED.get_or_make(digest_key(language, text), lambda: _highlight(text, language))


def _highlight(text: str, language: str) -> str:
    try:
        lexer = get_lexer_by_name(language)
    except ClassNotFound:
        lexer = TextLexer()
    return highlight(text, lexer, FORMATTER)


@register.filter
def tag_list(links) -> str:
    """An article's tags as a list of links (``Article.tag_links``), or nothing when it has none.

    Made here rather than by a template loop: a list page shows some 140 tags, and the loop's
    nodes were a fifth of the page's rendering. Escaped by markupsafe's compiled ``escape``, as
    every value in Jinja2's templates is (Django's templates take its ``Markup`` as safe)."""
    if not links:
        return ""
    items = "".join(
        f'<li><a href="{escape(link.get_absolute_url())}" class="tag tag-{escape(link.kind)}">'
        f"{escape(link.name)}</a></li>"
        for link in links
    )
    return Markup(f'<ul class="tags" aria-label="Tags">{items}</ul>')  # noqa: S704 (every value escaped)


@register.filter
def options(choices, selected) -> str:
    """The ``<option>`` elements of a filter's choices, the one whose value is ``selected``
    marked selected; a choice is a value, or a (value, label) pair.

    Made here rather than by a template loop, as ``tag_list`` is: the home page offers about a
    hundred tags and values, and their loop's nodes were a tenth of its rendering."""
    pairs_ = ((choice, choice) if isinstance(choice, str) else choice for choice in choices or ())
    return Markup(  # noqa: S704 (every value escaped)
        "".join(
            f'<option value="{escape(value)}"{" selected" if value == selected else ""}>'
            f"{escape(text)}</option>"
            for value, text in pairs_
        )
    )


@register.filter
def tag_url(name: str, kind: str) -> str:
    """The browse page of a stack or tool tag by name (every name has a slug)."""
    return models.tag_url(kind, tag_slug(name))


@register.filter
def entity_url(entity) -> str:
    """The page of an entity of the meta box ('' when its type or name makes no address)."""
    return models.entity_url(entity.get("type") or "", tag_slug(entity.get("name") or ""))
