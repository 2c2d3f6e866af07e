"""Build the index: incremental by content hash, into any backend, switched atomically.

``reindex(corpus_dir, location)`` reads the corpus (``search/corpus.py``), compares each
document's content hash with the one the live index holds, and writes only what changed
into a new state of the backend at `location` (``search/backends/``), which readers see
only once it is complete. Analysis (pyvi included) runs inside the backend's writer, in
worker processes for large changes. One reindex runs at a time per location.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from .backends import STORED_FIELDS, open_writer
from .corpus import Article, Rejected, Unchanged, count_documents, read_corpus
from .facets import FACETS

__all__ = ["ReindexReport", "reindex", "document_fields"]

Progress = Callable[[int, int], None]


@dataclass
class ReindexReport:
    """What a reindex did (the JSON of ``vnsearch reindex --report``)."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    rejected: list[dict[str, str]] = field(default_factory=list)
    warnings: list[dict[str, str]] = field(default_factory=list)  # indexed, but: {"path", "warning"}
    cleared: list[str] = field(default_factory=list)  # half-built states of crashed runs, removed
    seconds: float = 0.0

    def as_json(self) -> dict:
        """The report as a JSON-ready dict."""
        return asdict(self)


def document_fields(article: Article) -> dict[str, Any]:
    """What a backend stores of an article: text, date, a value per facet, shown fields."""
    values = article.meta.values()
    doc: dict[str, Any] = {"id": article.id, "hash": article.hash, "title": article.title,
                           "body": article.body, "date": values["date"] or ""}
    for facet in FACETS.values():
        doc[facet.name] = facet.value_of(values)
    for name in (n for n in STORED_FIELDS if n not in FACETS):
        value = article.source if name == "source" else values.get(name)
        if value is not None:
            doc[name] = value
    return doc


def reindex(corpus_dir: Path, index: Path | str, full: bool = False,
            progress: Progress | None = None, workers: int | None = None,
            stage: Callable[[str], None] | None = None) -> ReindexReport:
    """Bring the index at `index` (a folder, or a backend location) up to date with the
    documents in `corpus_dir`.

    Documents stream from the corpus into the writer: nothing but the ids seen is held in
    memory, and `progress(done, total)` counts documents against a quick count made first;
    `stage(text)` says when the last step (the backend's commit: minutes for a large
    corpus) begins."""
    started = time.perf_counter()
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise FileNotFoundError(f"corpus folder not found: {corpus_dir}")
    writer = open_writer(index)
    report = ReindexReport()
    with writer.lock():
        clear = getattr(writer, "clear_unfinished", None)  # what crashed runs left behind
        report.cleared = clear() if clear else []
        known = None if full else writer.known()
        build = writer.begin(incremental=known is not None, workers=workers or os.cpu_count() or 1,
                             corpus=str(corpus_dir.resolve()))
        known = known or {}
        total = count_documents(corpus_dir) if progress else 0
        seen: set[str] = set()
        hashes: dict[str, str] = {}
        try:
            for done, item in enumerate(read_corpus(corpus_dir, known), 1):
                if progress:
                    progress(done, max(total, done))
                if isinstance(item, Rejected):
                    report.rejected.append({"path": item.path, "reason": item.reason})
                elif item.id in seen:
                    report.rejected.append({"path": getattr(item, "path", item.id),
                                            "reason": f"duplicate document id {item.id!r}"})
                elif isinstance(item, Unchanged):
                    seen.add(item.id)
                    report.unchanged += 1
                    hashes[item.id] = known[item.id]
                else:
                    seen.add(item.id)
                    hashes[item.id] = item.hash
                    report.warnings.extend({"path": item.path, "warning": w} for w in item.warnings)
                    update = item.id in known
                    report.updated += update
                    report.added += not update
                    build.add(document_fields(item), update)
            removed = [doc_id for doc_id in known if doc_id not in seen]
            report.removed = len(removed)
            if stage:
                stage(f"read {len(seen):,} article{'' if len(seen) == 1 else 's'}; finishing the new index "
                      "(the analysis workers' last documents, then the arrays and checksums it is opened with)")
            build.commit(removed, hashes)
        except BaseException:
            build.cancel()
            raise
    report.seconds = round(time.perf_counter() - started, 3)
    return report
