"""Pages of long lists that count only as far as anyone reads.

Counting every row of a list means reading every row: at 100,000 live articles the home page's
exact count took longer than the rest of the page (6 to 15 ms, and 23 to 61 ms for a busy tag),
and a common search word's count as long again as ranking it. Nobody reads the 4,000th page,
so a list counts up to a limit and says "more than" past it (as search engines do).

Every page still exists: past the limit a page is found by reading one row beyond it (a page
with no rows is a 404, as before), and ``has_next`` comes from that extra row, not the count.
The reader pages and the API count to 1,000 (:data:`COUNT_LIMIT`; the API's answer says whether
its ``count`` is exact, ``articles.api.views.ArticlePagination``). The API counted to 10,000
before: for a common tag and difficulty that was 5 of an uncached filtered list's 14 ms at
100,000 articles (a merge of some 60,000 index entries), and for a common search word the
reading of 10,000 matching rows, a quarter of the answer.
"""

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.utils.functional import cached_property

COUNT_LIMIT = 1000
MAX_OFFSET = 10_000_000  # rows skipped to reach a page: deeper is no page (and no huge OFFSET)


class CappedPaginator(Paginator):
    """A paginator whose ``count`` stops at ``count_limit + 1``; ``capped`` says it stopped.

    Below the limit it is Django's paginator. Past it, ``num_pages`` is a lower bound (the pages
    the counted rows fill) and any page number that has rows is a page.
    """

    count_limit = COUNT_LIMIT

    def __init__(self, object_list, per_page, *, count_limit: int | None = None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        if count_limit is not None:
            self.count_limit = count_limit

    @cached_property
    def count(self) -> int:
        # Only the rows' keys: a count needs no column, and an annotation left in the counted
        # subquery is computed for every row counted (a search's rank, for up to 1,001 rows).
        return self.object_list.order_by().values("pk")[: self.count_limit + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.count_limit

    def validate_number(self, number):
        if not self.capped:
            return super().validate_number(number)
        # Past the limit the last page is unknown: page() finds out by reading the page.
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        if (number - 1) * self.per_page > MAX_OFFSET:
            raise EmptyPage(self.error_messages["no_results"])
        return number

    def page(self, number):
        if not self.capped:
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows:
            raise EmptyPage(self.error_messages["no_results"])
        return CappedPage(rows[: self.per_page], number, self, more=len(rows) > self.per_page)


class CappedPage(Page):
    """A page of a capped list: whether a next page exists comes from the row read past it."""

    def __init__(self, object_list, number, paginator, *, more: bool):
        super().__init__(object_list, number, paginator)
        self.more = more

    def has_next(self) -> bool:
        return self.more

    def next_page_number(self) -> int:
        if not self.more:
            raise EmptyPage(self.paginator.error_messages["no_results"])
        return self.number + 1

    def end_index(self) -> int:
        return self.start_index() + len(self.object_list) - 1
