"""Backup and restore of the whole knowledge base as JSON lines (docs/backup.md).

``export_backup`` streams every article, in primary-key order and in chunks, as one JSON object
per line: its row (workflow state and bookkeeping), the row's content with tags, entities and
image sources in order, its revision pointers (``releases.models.Release``, by revision number),
every revision and its audit trail. The first line is a header that names the format, the last
a closing line that counts the articles, so a backup is recognised by its first line and a
cut-short one by its missing last line.

``restore_backup`` reads such a file back (format version 2, or version 1 from before the
pointers, which it derives as migration releases 0007 does), one transaction per article, into
an empty database or one that already holds some of the articles (a merge: nothing is
duplicated). Every revision's content passes the one content validator
(``articles.content.clean_content``). It adds no revision or audit event of its own, and
rebuilds similar posts at the end: an operator's run that brings the corpus back learns the
weights from it again, as ``rebuild_similar`` does. Its report has the importer's shape
(``releases.importing.ImportReport``).

The modules, each on one idea:

- ``file_format``: the format's name and versions, what a line carries, recognising a backup.
- ``export``: writing the backup, chunk by chunk, from one snapshot.
- ``records``: reading and checking one article line (and deriving a version 1 line's pointers).
- ``merge``: restoring one article: created, or merged into the one here by the merge rule.
- ``restore``: reading a backup file line by line, one transaction per article, and its report.

This package's names below are its entry point for the rest of the project.
"""

from releases.backup.export import export_backup
from releases.backup.file_format import (
    FORMAT,
    HEADER_MAX_BYTES,
    POINTERS,
    VERSION,
    is_backup_file,
    is_backup_header,
)
from releases.backup.restore import restore_backup

__all__ = [
    "FORMAT",
    "HEADER_MAX_BYTES",
    "POINTERS",
    "VERSION",
    "export_backup",
    "is_backup_file",
    "is_backup_header",
    "restore_backup",
]
