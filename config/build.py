"""Which build of the code answers: the read cache keys its stored answers by it.

A stored page holds the HTML of the templates and the hashed static names of the build that made
it. Served by another build, after a deploy, it would show the old markup for up to
``READ_CACHE_TIMEOUT`` seconds and name stylesheets and scripts that the new build's static files
may no longer hold. So each build has its own entries, and they all share the namespaces whose
tokens say which data changed (``articles.read_cache``): during a rolling deploy the old and the
new processes each serve their own pages, and a live change invalidates both.

``BUILD_ID`` in the environment names the build (a deploy sets it, e.g. to the commit); without
it, the build is named by a digest of what makes an answer: the project's code, templates and
static sources, and the pinned requirements.
"""

import hashlib
import os
from pathlib import Path

SOURCES = ("articles", "releases", "config", "templates", "static", "requirements.txt")
SKIPPED_DIRS = {"__pycache__"}


def source_digest(base: Path, sources: tuple[str, ...] = SOURCES) -> str:
    """A digest of the files under ``sources`` (relative to ``base``): their paths and contents."""
    digest = hashlib.sha256()
    for source in sources:
        root = base / source
        files = [root] if root.is_file() else sorted(_files(root))
        for path in files:
            digest.update(path.relative_to(base).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _files(root: Path):
    for directory, subdirectories, names in os.walk(root):
        subdirectories[:] = [name for name in subdirectories if name not in SKIPPED_DIRS]
        for name in names:
            if not name.endswith(".pyc"):
                yield Path(directory) / name


def build_id(base: Path) -> str:
    return os.environ.get("BUILD_ID", "").strip() or source_digest(base)
