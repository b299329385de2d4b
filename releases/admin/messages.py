"""How the admin says what happened: a refused action's reason (``refused``, the admin's one
answer to the domain errors of ``releases.errors``), and a bulk action's outcome for each
article."""

from django.contrib import messages

from articles.models import Article
from releases import services


def refused(request, error: services.WorkflowError, article: Article | None = None) -> None:
    """The admin's one answer to a refused action: an error message with the reason, naming the
    article when the page is about more than one."""
    messages.error(request, f"“{article.title}”: {error.message}" if article is not None else error.message)


def _titles(articles: list[Article], limit: int = 5) -> str:
    names = ", ".join(f"“{article.title}”" for article in articles[:limit])
    return names + (f" and {len(articles) - limit} more" if len(articles) > limit else "")


def report_bulk(request, action: str, outcomes: list[tuple[Article, str, bool]]) -> None:
    """One message for the articles it worked for, one per reason for those it was refused,
    and a summary: success when all went through, a warning when some were refused, an error
    when all were."""
    label = services.RULES[action].label.lower()
    done = [article for article, _, ok in outcomes if ok]
    results: dict[str, list[Article]] = {}
    refused: dict[str, list[Article]] = {}
    for article, text, ok in outcomes:
        (results if ok else refused).setdefault(text, []).append(article)
    for result, articles in results.items():
        messages.success(request, f"{_titles(articles)}: {result}.")
    for reason, articles in refused.items():
        messages.error(request, f"{_titles(articles)}: {reason}")
    total = len(outcomes)
    if not refused:
        messages.success(request, f"{label.capitalize()}: all {total} article{'s' if total != 1 else ''}.")
    elif done:
        messages.warning(
            request, f"{label.capitalize()}: {len(done)} of {total} articles; the others were refused."
        )
    else:
        messages.error(request, f"{label.capitalize()}: none of the {total} articles (each was refused).")
