"""Reader pages."""

from django.shortcuts import render

from articles.selectors import article_for_reader


def article_detail(request, slug):
    article = article_for_reader(slug=slug, user=request.user)
    return render(request, "articles/detail.html", {"article": article})
