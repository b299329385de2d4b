"""Parse speed: documents per second of ``articles.parsing.parse_page``, no database.

    python bench/bench_parse.py                          # the working tree's parser
    python bench/bench_parse.py --baseline HEAD~1        # and the parser of a commit, interleaved

Parses the sample article and ``--count`` synthesized documents (``corpus.generator``, shape
``--shape``), all of them once per round, for ``--rounds`` rounds, and reports the median rate.
With ``--baseline REF`` the parser as it was at that commit (``articles/parsing.py`` or the
``articles/parsing/`` package) is loaded beside the current one and the rounds alternate between
the two, so both see the same machine load. Both parsers must agree on every document. Prints a
JSON object and writes it to parse.json in the results folder (``BENCH_RESULTS``, else bench/results).
"""

import argparse
import contextlib
import gc
import importlib.util
import json
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "articles" / "fixtures" / "samples" / "anp-ref-035445-8950.txt"

sys.path.insert(0, str(ROOT))

from common import checkout, git, provenance, results_dir  # noqa: E402


def load_baseline(tree: Path):
    """The parser of a baseline checkout (``common.checkout``) as a module of its own (it imports
    nothing of the project): the ``articles/parsing/`` package, or the ``articles/parsing.py``
    module it replaced."""
    package = tree / "articles" / "parsing"
    if package.is_dir():
        spec = importlib.util.spec_from_file_location(
            "baseline_parsing", package / "__init__.py", submodule_search_locations=[str(package)]
        )
    elif (tree / "articles" / "parsing.py").is_file():
        spec = importlib.util.spec_from_file_location("baseline_parsing", tree / "articles" / "parsing.py")
    else:
        raise SystemExit("the baseline has no articles/parsing.py or articles/parsing/")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def documents(count: int, shape: str) -> list[str]:
    from corpus.generator import synthesize

    return [
        SAMPLE.read_text(encoding="utf-8"),
        *(doc.text for doc in synthesize(count, seed=2026, difficulty=shape)),
    ]


def one_round(parse_page, docs: list[str]) -> float:
    """Documents per second of CPU time of one pass over ``docs`` (a full collection first, so none
    is owed). CPU time, not wall time: on a shared machine the time spent waiting for a CPU would
    swamp a difference of a few per cent."""
    gc.collect()
    start = time.process_time()
    for text in docs:
        parse_page(text)
    return len(docs) / (time.process_time() - start)


def outcome(result) -> tuple:
    page = result.page
    return (
        [p.as_dict() for p in result.errors],
        [p.as_dict() for p in result.warnings],
        None if page is None else (page.title, page.body_text, [b.as_dict() for b in page.body], page.extra),
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=3000, help="Synthesized documents besides the sample.")
    parser.add_argument("--shape", default="combination", help="The synthesizer's shape of documents.")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--baseline", metavar="REF", help="Also time the parser of this commit, interleaved.")
    parser.add_argument("--out", type=Path, help="Result file (default: parse.json in the results folder).")
    args = parser.parse_args()
    args.out = args.out or results_dir() / "parse.json"

    from articles.parsing import parse_page

    docs = documents(args.count, args.shape)
    parsers = {"current": parse_page}
    with checkout(args.baseline) if args.baseline else contextlib.nullcontext() as tree:
        if tree is not None:
            parsers["baseline"] = load_baseline(tree).parse_page
            for text in docs:
                assert outcome(parse_page(text)) == outcome(parsers["baseline"](text)), text[:80]
        for parse in parsers.values():  # warm up
            one_round(parse, docs[: max(1, len(docs) // 10)])
        rates: dict[str, list[float]] = {name: [] for name in parsers}
        order = list(parsers.items())
        for _ in range(args.rounds):
            for name, parse in order:
                rates[name].append(one_round(parse, docs))
            order.reverse()  # (A B B A ...: a drift in the machine's speed favours neither)

    median = {name: round(statistics.median(values)) for name, values in rates.items()}
    result = {
        **provenance(),
        "python": platform.python_version(),
        "documents": len(docs),
        "shape": args.shape,
        "rounds": args.rounds,
        "docs_per_second_median": median["current"],
        "docs_per_second_rounds": [round(value) for value in rates["current"]],
    }
    if args.baseline:
        result["baseline"] = {
            "ref": args.baseline,
            "sha": git("rev-parse", args.baseline),
            "docs_per_second_median": median["baseline"],
            "docs_per_second_rounds": [round(value) for value in rates["baseline"]],
        }
        result["current_vs_baseline"] = round(median["current"] / median["baseline"], 3)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
