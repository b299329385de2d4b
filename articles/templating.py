"""The reader pages' template environment (Jinja2, through Django's Jinja2 backend).

Reader pages are rendered by Jinja2, which compiles a template to Python once, instead of by
Django's template engine, which walks its nodes on every render: on an uncached article page the
engine was over a third of the Python, and a list page's near half (docs/scaling.md). The admin
keeps Django's templates; it shows the meta box through ``meta_box`` below, so both render the
same template. The filters are the ones Django's templates use (``articles.templatetags``), so
each rule is written once, and Django's own filters keep their exact output (escaping,
``urlencode``, ``intcomma``).

Autoescaping is on: every value is escaped unless it was marked safe, as in Django's templates.
"""

from django.contrib.humanize.templatetags.humanize import intcomma
from django.template import defaultfilters, engines
from django.templatetags.static import static
from django.urls import reverse
from django.utils.safestring import mark_safe
from jinja2 import Environment

from articles.templatetags import article_tags, seo_tags

FILTERS = {
    # Ours: every filter Django's templates have from these libraries.
    **article_tags.register.filters,
    **seo_tags.register.filters,
    # Django's, for their exact output.
    "capfirst": defaultfilters.capfirst,
    "intcomma": intcomma,
    "linebreaksbr": defaultfilters.linebreaksbr,
    "pluralize": defaultfilters.pluralize,
    "slugify": defaultfilters.slugify,
    "truncatechars": defaultfilters.truncatechars,
    "urlencode": defaultfilters.urlencode,
}


def url(name: str, *args, **kwargs) -> str:
    """``{{ url('articles:feed') }}``: the URLconf's address of a named route."""
    return reverse(name, args=args or None, kwargs=kwargs or None)


def environment(**options) -> Environment:
    """The environment Django's Jinja2 backend renders reader pages with (settings.TEMPLATES)."""
    env = Environment(keep_trailing_newline=True, **options)
    env.filters.update(FILTERS)
    env.globals.update(url=url, static=static)
    return env


def meta_box(meta) -> str:
    """The post-meta box of some content, without links, as readers see it (for the admin)."""
    template = engines["jinja2"].get_template("articles/_meta_box.html")
    # Safe: the template escaped every value in it.
    return mark_safe(template.render({"meta": meta, "tag_links": False}))  # noqa: S308
