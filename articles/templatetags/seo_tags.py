"""Template filters for the head of the reader pages (articles/seo.py builds what they show)."""

from django import template
from django.utils.safestring import mark_safe

from articles import seo

register = template.Library()


@register.filter
def page_title(text) -> str:
    """``{{ heading|page_title }}``: the page's ``<title>`` text, at most 70 characters."""
    return seo.page_title(text)


@register.filter
def json_ld(data) -> str:
    """``{{ data|json_ld }}``: a ``<script type="application/ld+json">`` data block. The JSON escapes
    ``<``, ``>`` and ``&``, so nothing in the data can end the element; browsers never execute it."""
    return mark_safe(f'<script type="application/ld+json">{seo.json_for_script(data)}</script>')  # noqa: S308
