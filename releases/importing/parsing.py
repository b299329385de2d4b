"""Parsing and validating one document's text, pure and picklable so that parse workers in
other processes can run it, and the pool of those workers."""

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from articles.bulk import JSONText, encode_json
from articles.content import article_field_values, content_from_page, validate_content
from articles.models import Article
from articles.parsing import parse_page
from releases import parse_workers
from releases.importing.results import _problem_dict


def parse_document(
    job: tuple[str, str],
) -> tuple[dict | None, list[dict], list[dict], tuple[JSONText, dict[str, Any]] | None]:
    """Parse and validate one document's text:
    (content or None, errors, warnings, (snapshot, columns) or None).

    Pure and picklable, so that parse workers in other processes can run it. The revision's
    snapshot (the content's JSON text) and the article's column values, JSON columns encoded,
    are made here too, in the worker, so that the process writing to the database has less
    to do.
    """
    path, text = job
    parsed = parse_page(text)
    warnings = [_problem_dict(path, warning) for warning in parsed.warnings]
    if not parsed.ok:
        return None, [_problem_dict(path, error) for error in parsed.errors], warnings, None
    content = content_from_page(parsed.page)
    columns = article_field_values(content)
    problems = validate_content(content, columns)
    if problems:
        return None, [_problem_dict(path, problem) for problem in problems], warnings, None
    for name in JSON_COLUMNS:
        if columns[name] is not None:
            columns[name] = encode_json(columns[name])
    return content, [], warnings, (encode_json(content), columns)


JSON_COLUMNS = frozenset(
    field.attname for field in Article._meta.concrete_fields if field.get_internal_type() == "JSONField"
)


def default_workers() -> int:
    """Parse workers for a large import: one core is left to the writer and the database."""
    return max(0, (os.cpu_count() or 1) - 1)


def _parse_pool(workers: int) -> ProcessPoolExecutor:
    # Fresh interpreters ("spawn"): a forked child would share the parent's database socket.
    # A worker that dies breaks the pool with an error instead of hanging the import.
    return ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"), initializer=parse_workers.init_worker
    )
