"""The import service: page-text documents in, articles and revisions out.

Documents are read as a stream and written in batches, so memory stays flat and the database
sees a few statements per batch rather than per document. Each document is still atomic: a
document that fails validation never reaches the database, and when the database refuses a
batch, the batch is written again one document per transaction so that only the culprit fails.

The modules, each on one idea:

- ``documents``: where documents come from (files, directories, standard input) and the item
  that carries one through the pipeline.
- ``parsing``: parsing and validating one document, in this process or in parse workers.
- ``writer``: one batch decided against the database (the action layer's rule) and written.
- ``pipeline``: the run: reading, skipping unchanged documents, parsing ahead, batches and their
  transactions, retries, statistics, the report and the similar-posts refresh.
- ``results``: what an import reports, per document and for the run.

This package's names below are its entry point for the rest of the project.
"""

from releases.importing.documents import Source, UnreadableSource, iter_sources
from releases.importing.parsing import default_workers, parse_document
from releases.importing.pipeline import DatabaseUnavailable, Importer, import_document, import_documents
from releases.importing.results import OUTCOMES, DocumentResult, ImportReport

__all__ = [
    "OUTCOMES",
    "DatabaseUnavailable",
    "DocumentResult",
    "ImportReport",
    "Importer",
    "Source",
    "UnreadableSource",
    "default_workers",
    "import_document",
    "import_documents",
    "iter_sources",
    "parse_document",
]
