"""What the benchmark scripts share: the production settings they run the app with, where results
go, what each result records about the code it measured, and a baseline commit's files."""

import argparse
import contextlib
import datetime as dt
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY = "bench-" + "x" * 60


def production_env(
    host: str, database: str, base: dict[str, str] | None = None, **extra: str
) -> dict[str, str]:
    """Production settings (DEBUG off, plain HTTP) on the benchmark database, over ``base``
    (the current environment when not given) and then ``extra``."""
    return {
        **(os.environ if base is None else base),
        "DEBUG": "0",
        "HTTPS": "0",
        "SECRET_KEY": SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": f"postgres://postgres@{host}:5432/{database}",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def database_parser(description: str | None) -> argparse.ArgumentParser:
    """The command line of a script that works on the benchmark's database: ``--database`` and
    ``--host`` (PostgreSQL on port 5432, user postgres), with the script's text as its help."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default="kb_bench")
    parser.add_argument("--host", default="127.0.0.1")
    return parser


def results_dir() -> Path:
    """Where the result files go: ``BENCH_RESULTS`` (relative to the repository), else bench/results.
    ``make bench-quick`` points it at bench/results/quick so a quick run never overwrites the
    committed results of ``make bench``."""
    chosen = Path(os.environ.get("BENCH_RESULTS") or "bench/results")
    path = chosen if chosen.is_absolute() else ROOT / chosen
    path.mkdir(parents=True, exist_ok=True)
    return path


def git(*args: str) -> str | None:
    """What a git command prints (its end trimmed), or None when it fails."""
    try:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    # Only the end is trimmed: a porcelain status line starts with a space (" M path").
    return done.stdout.rstrip() if done.returncode == 0 else None


def collectstatic(env: dict[str, str], root: Path = ROOT) -> None:
    """Production pages name content-hashed static files, so the manifest must exist: collect the
    static files of the code under ``root`` (this checkout, or a baseline's) with ``env``."""
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"], cwd=root, env=env, check=True
    )


@contextlib.contextmanager
def checkout(ref: str) -> Iterator[Path]:
    """The files of commit ``ref`` in a temporary folder (a detached git worktree), removed after:
    the baseline code a benchmark measures beside the working tree's."""
    with tempfile.TemporaryDirectory(prefix="bench-baseline-") as scratch:
        tree = Path(scratch) / "tree"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(tree), ref], cwd=ROOT, check=True)
        try:
            yield tree
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False)


def changed_paths(status: str) -> list[str]:
    """The paths of ``git status --porcelain`` lines, but the result files, which every run rewrites."""
    return [line[3:] for line in status.splitlines() if not line[3:].startswith("bench/results/")]


def provenance() -> dict:
    """The commit a measurement ran on, whether the working tree differed from it (outside the
    result files themselves), and the UTC time, for each results file."""
    status = git("status", "--porcelain", "--untracked-files=no")
    changed = None if status is None else changed_paths(status)
    return {
        "commit": git("rev-parse", "HEAD"),
        "dirty": None if changed is None else bool(changed),
        "dirty_files": None if changed is None else len(changed),
        "measured_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
    }
