"""Template filters of the reader site and the admin."""

from django import template

register = template.Library()


@register.filter
def label(key: str) -> str:
    """``needs_human_review`` -> ``needs human review``."""
    return str(key).replace("_", " ")
