"""The Atom feed of the latest live articles."""

import re

from django.contrib.syndication.views import Feed
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape

from articles import selectors, seo
from articles.models import Article

# What XML 1.0 cannot carry: C0 controls other than tab, line feed and carriage return, lone
# surrogates, U+FFFE and U+FFFF. Django's feed writer refuses the controls with an exception.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_WHITESPACE_CONTROLS = str.maketrans({"\x0b": " ", "\x0c": " "})


def xml_text(value):
    """``value`` with every character XML cannot hold removed (vertical tab and form feed become a
    space); lists and tuples item by item; anything that is not text as it is."""
    if isinstance(value, str):
        return _NOT_XML.sub("", value.translate(_WHITESPACE_CONTROLS))
    if isinstance(value, list | tuple):
        return type(value)(xml_text(item) for item in value)
    return value


class XmlSafeAtom1Feed(Atom1Feed):
    """Atom whose items can hold any stored text: the one place the feed's items are built, so no
    control character in a title, summary or tag name can make the feed fail."""

    def add_item(self, **kwargs):
        super().add_item(**{name: xml_text(value) for name, value in kwargs.items()})


class LatestArticlesFeed(Feed):
    feed_type = XmlSafeAtom1Feed
    title = "Release knowledge base: latest articles"
    link = "/"
    subtitle = "The latest live articles."
    # RFC 4287 wants an author on the feed or on every entry: the site speaks for its articles.
    author_name = seo.SITE_NAME

    def items(self):
        live = Article.objects.live().order_by("-published_at", "-id").with_tag_links()
        return selectors.with_live_dates(live)[:30]

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        # Atom declares the summary as HTML: escaped, the plain text stays text in feed readers.
        return escape(item.summary or item.topic or "")

    def item_categories(self, item):
        return [link.name for link in item.tag_links]

    def item_updateddate(self, item):
        return selectors.live_dates(item)["modified"]

    def item_pubdate(self, item):
        return item.published_at
