"""No runtime module holds more than one idea: none is over 600 lines (migrations aside)."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ("articles", "releases", "config", "corpus")
LIMIT = 600


def runtime_modules() -> list[Path]:
    return sorted(
        path
        for package in RUNTIME
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.relative_to(ROOT).parts
    )


def test_the_runtime_packages_are_found():
    names = {path.relative_to(ROOT).as_posix() for path in runtime_modules()}
    assert {"articles/models.py", "releases/api.py", "config/settings.py"} <= names


@pytest.mark.parametrize("path", runtime_modules(), ids=lambda path: path.relative_to(ROOT).as_posix())
def test_no_runtime_module_is_over_600_lines(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= LIMIT, f"{path.relative_to(ROOT)} has {lines} lines: split it by idea"
