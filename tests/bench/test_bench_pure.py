"""The benchmark's pure parts: percentiles, server times from the access log, verdicts and the
report's marks. No timing is asserted here; the benchmark itself measures."""

import math
import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import bench_http  # noqa: E402
import bench_lighthouse  # noqa: E402
import report  # noqa: E402


@given(
    st.lists(st.integers(min_value=0, max_value=10**9), min_size=1),
    st.floats(min_value=0.01, max_value=1),
)
def test_percentile_is_the_nearest_rank(values, fraction):
    ordered = sorted(values)
    chosen = bench_http.percentile(ordered, fraction)
    # Nearest rank: the smallest value with at least ``fraction`` of the values at or below it.
    at_or_below = sum(1 for value in ordered if value <= chosen)
    assert at_or_below >= math.ceil(fraction * len(ordered))
    below = sum(1 for value in ordered if value < chosen)
    assert below < max(1, math.ceil(fraction * len(ordered)))


def test_server_times_keep_measured_requests_by_kind(tmp_path):
    log = tmp_path / "access.log"
    log.write_text(
        "1500 article measure 200\n"
        "900 article warmup 200\n"
        "2500 search measure 200\n"
        "3500 article measure 200\n"
        "garbage line\n"
    )
    assert bench_http.server_times(log) == {"article": [1500, 3500], "search": [2500]}


def _row(label, median, server=None):
    return {"label": label, "median_ms": median, "server_median_ms": server, "path": "/", "paths": 1}


def _results(articles, cached_search, uncached_search, uncached_server):
    kinds = {name: (1.0, 1.0, 1.0) for name in bench_http.URLS if name not in ("health", "search")}
    cached = {"health": _row("/health", 2.0)}
    uncached = {"health": _row("/health", 2.0)}
    for name, (c, u, s) in kinds.items():
        cached[name] = _row(name, c, s)
        uncached[name] = _row(name, u, s)
    cached["search"] = _row("search", cached_search)
    uncached["search"] = _row("search", uncached_search, uncached_server)
    return {
        "articles": articles,
        "http": {"cached": {"urls": cached}, "uncached": {"urls": uncached}},
        "queries": {"health": {"pass": True}},
    }


def test_a_search_over_its_server_time_misses_and_counts_only_at_scale():
    limit = bench_http.SERVER_MS_TARGETS["uncached"]["search"]
    for articles, counted in ((bench_http.TARGET_SCALE, True), (bench_http.TARGET_SCALE - 1, False)):
        results = _results(articles, 2.0, 4.0, limit + 1)
        bench_http.judge(results)
        verdict = results["verdicts"]["search"]
        assert verdict["pass"] is False
        assert any("server" in missed for missed in verdict["missed"])
        assert results["passed"] is not counted


def test_ratios_over_their_targets_are_named_in_the_verdict():
    cached_limit = bench_http.RATIO_TARGETS["cached"]["search"]
    results = _results(bench_http.TARGET_SCALE, 2.0 * (cached_limit + 1), 4.0, 1.0)
    bench_http.judge(results)
    expected = f"cached {float(cached_limit + 1):g}× > {cached_limit}×"
    assert results["verdicts"]["search"]["missed"] == [expected]
    assert results["verdicts"]["article"] == {"pass": True, "missed": []}


def test_the_report_warns_of_sections_from_different_commits():
    parts = {
        "import": {"count": 10, "commit": "a" * 40},
        "similar": {"articles": 10, "commit": "b" * 40},
        "http": None,
        "parse": None,
    }
    notes = report.notes_for(parts)
    assert any("different commits" in note for note in notes)
    same = report.notes_for({**parts, "similar": {"articles": 10, "commit": "a" * 40}})
    assert not any("different commits" in note for note in same)


def test_the_parser_check_compares_with_its_baseline_when_there_is_one():
    def parse(share):
        return {"current_vs_baseline": share, "baseline": {"ref": "abc1234"}}

    name = f"parser ≥ {report.PARSE_SHARE:.0%} of abc1234's speed"
    assert report.step_checks(None, None, parse(report.PARSE_SHARE))[name] is True
    assert report.step_checks(None, None, parse(report.PARSE_SHARE - 0.001))[name] is False
    assert report.step_checks(None, None, {"docs_per_second_median": 7000}) == {}


def test_the_search_index_check_holds_its_share_of_the_first_import():
    run = {"docs_per_second": 1000, "peak_rss_mb": 100}
    name = f"search index ≤ {report.SEARCH_INDEX_SHARE:.0%} of the first import's time"

    def imported(share=None):
        found = {"first": run, "unchanged": run}
        return found if share is None else found | {"search_index_share": share}

    assert report.step_checks(imported(report.SEARCH_INDEX_SHARE), None)[name] is True
    assert report.step_checks(imported(report.SEARCH_INDEX_SHARE + 0.001), None)[name] is False
    assert name not in report.step_checks(imported(), None)  # no baseline run, no check


def test_a_changed_result_file_leaves_the_tree_clean():
    import common

    status = " M bench/results/parse.json\n M bench/results/http.json\nM  articles/search.py"
    assert common.changed_paths(status) == ["articles/search.py"]
    assert common.changed_paths(" M bench/results/parse.json") == []


def test_every_lighthouse_category_counts_but_seo_where_a_page_is_not_indexed():
    def page(label, noindex, **scores):
        return {"label": label, "noindex": noindex, "scores": {"performance": 0.95, "seo": 0.92, **scores}}

    pages = {
        "home": page("home", False),
        "article": page("article page", False, performance=0.89),
        "search": page("site search", True, seo=0.58),
        "browse": page("browse", False, seo=0.58),
        "docs": page("docs", False, accessibility=None),  # a category Lighthouse could not score
    }
    checks = report.lighthouse_checks({"pages": pages})
    assert {name.split(":")[0]: ok for name, ok in checks.items()} == {
        "Lighthouse, home": True,
        "Lighthouse, article page": False,
        "Lighthouse, site search": True,
        "Lighthouse, browse": False,
        "Lighthouse, docs": False,
    }
    assert report.lighthouse_checks(None) == {}


def test_a_page_is_exempt_from_seo_only_when_it_asks_not_to_be_indexed():
    def audits(*sources):
        return {
            "is-crawlable": {
                "score": 0 if sources else 1,
                "details": {"items": [{"source": s} for s in sources]},
            }
        }

    meta = {"type": "node", "snippet": '<meta name="robots" content="noindex" />'}
    robots_txt = {"type": "source-location", "url": "http://127.0.0.1/robots.txt", "line": 2}
    assert bench_lighthouse._asks_not_to_be_indexed(audits(meta)) is True
    # Blocked by robots.txt is a crawling rule of the site, not the page's own request.
    assert bench_lighthouse._asks_not_to_be_indexed(audits(robots_txt)) is False
    assert bench_lighthouse._asks_not_to_be_indexed(audits()) is False
    assert bench_lighthouse._asks_not_to_be_indexed({}) is False
