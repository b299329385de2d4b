"""What an import reports: each document's outcome with its warnings and errors, and the run's
counts (the restore of a backup reports in the same shape)."""

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from articles.parsing import Problem

OUTCOMES = ("created", "updated", "unchanged", "stale", "failed")


@dataclass
class DocumentResult:
    path: str
    outcome: str
    reference: str | None = None
    slug: str | None = None
    warnings: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    article_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "outcome": self.outcome,
            "reference": self.reference,
            "slug": self.slug,
            "warnings": self.warnings,
            "errors": self.errors,
        }


@dataclass
class ImportReport:
    counts: Counter = field(default_factory=Counter)
    warnings: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    touched_ids: set[int] = field(default_factory=set)

    def add(self, result: DocumentResult) -> None:
        self.counts[result.outcome] += 1
        self.warnings.extend(result.warnings)
        self.errors.extend(result.errors)

    @property
    def failed(self) -> int:
        return self.counts["failed"]

    def as_dict(self) -> dict[str, Any]:
        return {
            **{outcome: self.counts[outcome] for outcome in OUTCOMES},
            "warnings": self.warnings,
            "errors": self.errors,
        }


def _problem_dict(path: str, problem: Problem) -> dict[str, Any]:
    return {"path": path, **problem.as_dict()}
