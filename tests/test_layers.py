"""The apps depend one way: releases (how an article changes) builds on articles (what an article
is and how it is read); nothing in articles imports releases, not even inside a function."""

import ast
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


ARTICLES = sorted(p for p in (BASE_DIR / "articles").rglob("*.py") if "migrations" not in p.parts)


@pytest.mark.parametrize("path", ARTICLES, ids=lambda p: str(p.relative_to(BASE_DIR)))
def test_articles_never_imports_releases(path):
    back_edges = {name for name in imported_modules(path) if name.split(".")[0] == "releases"}
    assert back_edges == set(), f"{path.relative_to(BASE_DIR)} imports {sorted(back_edges)}"


def test_the_check_sees_an_import_inside_a_function(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text("def f():\n    from releases.services import article_edit\n")
    assert "releases.services" in imported_modules(planted)
