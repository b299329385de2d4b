"""Mappings whose keys come from outside never break a page, even when their keys are named like
dict methods ("items", "keys", "values"): the templates loop over pairs made in Python."""

import pytest
from django.core.paginator import Paginator
from django.http import QueryDict
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from articles.models import Article
from articles.templatetags.article_tags import pairs

pytestmark = pytest.mark.django_db

RESERVED_EXTRA = {
    "items": ["value of items one", "value of items two"],
    "keys": ["value of keys"],
    "values": ["value of values"],
    "see also": ["an ordinary entry"],
}


def store_extra(article: Article, extra: dict, **more) -> Article:
    """Write the columns straight to the database, as data stored before clean_content would be."""
    Article.objects.filter(pk=article.pk).update(extra=extra, **more)
    article.refresh_from_db()
    return article


def meta_box(page: str) -> str:
    return page[page.index('class="meta-box"') :]


def test_an_article_whose_extra_has_dict_method_names_shows_every_entry(client, sample_article):
    article = store_extra(sample_article, RESERVED_EXTRA)
    assert article.extra == RESERVED_EXTRA
    response = client.get(article.get_absolute_url())
    assert response.status_code == 200
    box = meta_box(response.content.decode())
    for key, values in RESERVED_EXTRA.items():
        assert f"<dt>{key}</dt>" in box, key
        for value in values:
            assert f"<li>{value}</li>" in box, value
    # the rest of the meta box is still there
    assert "Checklist" in box and "capture the current behavior" in box


def test_other_mappings_of_the_meta_box_may_hold_such_keys_too(client, sample_article):
    payload = {**sample_article.payload, "items": "payload items", "keys": "payload keys"}
    article = store_extra(sample_article, {"get": ["value of get"]}, payload=payload)
    response = client.get(article.get_absolute_url())
    assert response.status_code == 200
    box = meta_box(response.content.decode())
    assert "<dt>get</dt>" in box and "<li>value of get</li>" in box
    assert '<span class="k">items:</span> payload items' in box
    assert '<span class="k">keys:</span> payload keys' in box


def test_the_admin_change_page_shows_the_live_meta_box_with_such_keys(client, sample_article, superuser):
    article = store_extra(sample_article, RESERVED_EXTRA)
    client.force_login(superuser)
    response = client.get(reverse("admin:articles_article_change", args=[article.pk]))
    assert response.status_code == 200
    box = response.content.decode()
    box = box[box.index('id="live-meta-box"') :]
    assert "<dt>items</dt>" in box and "<li>value of items two</li>" in box
    assert "<dt>values</dt>" in box and "<li>value of values</li>" in box


def test_pagination_keeps_a_query_parameter_named_items():
    request = RequestFactory().get("/", {"items": "x", "stack": "python", "page": "2"})
    page = Paginator(list(range(50)), 20).page(2)
    html = render_to_string("articles/_pagination.html", {"page": page, "request": request})
    assert 'href="?items=x&amp;stack=python&amp;page=1"' in html
    assert 'href="?items=x&amp;stack=python&amp;page=3"' in html


def test_the_home_page_answers_with_a_query_parameter_named_items(client, sample_article):
    assert client.get("/", {"items": "x", "keys": "y"}).status_code == 200


def test_pairs_filter():
    assert pairs({"items": [1], "a": 2}) == [("items", [1]), ("a", 2)]
    assert pairs(QueryDict("items=1&items=2&b=3")) == [("items", "2"), ("b", "3")]
    assert pairs(None) == [] and pairs("text") == [] and pairs(["a", "b"]) == []
