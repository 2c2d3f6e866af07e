"""Build the index: incremental by content hash, pyvi in worker processes, atomic switch.

Layout of an index folder::

    index/
      CURRENT          JSON: the live generation, its schema version, document count
      gen-<stamp>/     a complete Whoosh index; readers open the one CURRENT names
      .reindex.lock    held (flock) while a reindex runs

A reindex copies the live generation (hard links: Whoosh never rewrites a segment file),
applies the changes, commits, then replaces CURRENT in one ``os.replace``. Readers keep
the generation they opened; a crash at any point leaves the live index as it was.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from whoosh import index as whoosh_index

from .analysis import compound_words
from .corpus import Article, Rejected, Unchanged, count_documents, read_corpus
from .errors import IndexMissing, ReindexBusy, StaleIndex
from .schema import SCHEMA_VERSION, UNKNOWN, build_schema

__all__ = ["ReindexReport", "reindex", "current_generation", "open_index"]

Progress = Callable[[int, int], None]


@dataclass
class ReindexReport:
    """What a reindex did (the JSON of ``vnsearch reindex --report``)."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    rejected: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    def as_json(self) -> dict:
        """The report as a JSON-ready dict."""
        return asdict(self)


def current_generation(index_dir: Path) -> dict | None:
    """The CURRENT record of `index_dir`, or None when there is no index."""
    try:
        return json.loads((Path(index_dir) / "CURRENT").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def open_index(index_dir: Path):
    """Open the live Whoosh index of `index_dir` (raises IndexMissing / StaleIndex)."""
    index_dir = Path(index_dir)
    current = current_generation(index_dir)
    if current is None or not (index_dir / current["generation"]).is_dir():
        raise IndexMissing(index_dir)
    if current.get("schema_version") != SCHEMA_VERSION:
        raise StaleIndex(index_dir, current.get("schema_version"), SCHEMA_VERSION)
    return whoosh_index.open_dir(str(index_dir / current["generation"]))


def _fields(article: Article) -> dict:
    """The values of one article's fields; analysis (pyvi included) runs in the writer."""
    values = article.meta.values()
    day = values["date"] or ""
    fields = {
        "id": article.id,
        "hash": article.hash,
        "title": article.title,
        "title_fold": article.title,
        "title_word": article.title,
        "body": article.body,
        "body_fold": article.body,
        "body_word": article.body,
        "date": day,
        "year": day[:4] or UNKNOWN,
        "province": values["province"] or UNKNOWN,
        "province_2025": values["province_2025"] or UNKNOWN,
        "secretary": values["secretary"] or UNKNOWN,
    }
    for name in ("url", "outlet", "conference", "term", "author"):
        if values[name] is not None:
            fields[name] = values[name]
    if article.source:
        fields["source"] = article.source
    return fields


PARALLEL_MIN_DOCS = 64  # below this, starting worker processes costs more than it saves


def _writer(ix, workers: int):
    """A writer that analyses and writes segments in `workers` processes (if more than one)."""
    if workers > 1:
        compound_words("Khởi động")  # load pyvi before forking, so the workers share it
        return ix.writer(procs=workers, multisegment=True, limitmb=128, batchsize=64)
    return ix.writer(limitmb=256)


class _Lock:
    """An exclusive flock on the index folder; the kernel drops it if the process dies."""

    def __init__(self, index_dir: Path):
        self.path = index_dir / ".reindex.lock"

    def __enter__(self):
        self.file = open(self.path, "a+")
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.file.seek(0)
            holder = self.file.read().strip() or "another process"
            self.file.close()
            raise ReindexBusy(f"another reindex of {self.path.parent} is running (pid {holder}); "
                              "wait for it to finish") from None
        self.file.seek(0)
        self.file.truncate()
        self.file.write(str(os.getpid()))
        self.file.flush()
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.file, fcntl.LOCK_UN)
        self.file.close()


DOCUMENTS = "documents.json"  # id → content hash of a generation, for incremental runs


def _known_hashes(index_dir: Path, generation: str, ix) -> dict[str, str]:
    """Id → content hash of every indexed document (from the generation's list if it has one,
    else from the stored fields, which means reading every article)."""
    try:
        return json.loads((index_dir / generation / DOCUMENTS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        with ix.searcher() as s:
            return {f["id"]: f["hash"] for f in s.all_stored_fields()}


class _Generation:
    """A new generation of the index, started only once there is something to change.

    The first ``PARALLEL_MIN_DOCS`` changes are held back: a small update is written by one
    plain writer, a large one by worker processes."""

    def __init__(self, index_dir: Path, live: str | None, workers: int):
        self.index_dir, self.live, self.workers = index_dir, live, workers
        self.name = f"gen-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}"
        self.pending: list[tuple[Article, bool]] = []
        self.ix = self.writer = self.searcher = None

    def add(self, article: Article, update: bool) -> None:
        if self.writer is None:
            self.pending.append((article, update))
            if len(self.pending) >= PARALLEL_MIN_DOCS:
                self._start(parallel=True)
            return
        self._write(article, update)

    def _write(self, article: Article, update: bool) -> None:
        if update:  # Whoosh's update_document opens a searcher per call: 10+ ms each
            self._delete(article.id)
        self.writer.add_document(**_fields(article))

    def _delete(self, doc_id: str) -> None:
        """Delete the indexed version of `doc_id` (one searcher for the whole run)."""
        if self.searcher is None:
            self.searcher = self.writer.searcher()
        self.writer.delete_by_term("id", doc_id, searcher=self.searcher)

    def _start(self, parallel: bool) -> None:
        target = self.index_dir / self.name
        if self.live:
            shutil.copytree(self.index_dir / self.live, target, copy_function=os.link)
            self.ix = whoosh_index.open_dir(str(target))
        else:
            target.mkdir()
            self.ix = whoosh_index.create_in(str(target), build_schema())
        self.writer = _writer(self.ix, self.workers if parallel else 1)
        pending, self.pending = self.pending, []
        for article, update in pending:
            self._write(article, update)

    def commit(self, removed: list[str]) -> int | None:
        """Apply deletions and commit; the new document count, or None if nothing changed."""
        if self.writer is None:
            if not self.pending and not removed and self.live:
                return None
            self._start(parallel=False)
        for doc_id in removed:
            self._delete(doc_id)
        if self.searcher is not None:
            self.searcher.close()
        self.writer.commit()
        count = self.ix.doc_count()
        self.ix.close()
        return count

    def cancel(self) -> None:
        if self.searcher is not None:
            self.searcher.close()
        if self.writer is not None:
            self.writer.cancel()
            self.ix.close()
        shutil.rmtree(self.index_dir / self.name, ignore_errors=True)


def reindex(corpus_dir: Path, index_dir: Path, full: bool = False,
            progress: Progress | None = None, workers: int | None = None) -> ReindexReport:
    """Bring the index at `index_dir` up to date with the documents in `corpus_dir`.

    Documents stream from the corpus into the writer: nothing but the ids seen is held in
    memory, and `progress(done, total)` counts documents against a quick count made first."""
    started = time.perf_counter()
    corpus_dir, index_dir = Path(corpus_dir), Path(index_dir)
    if not corpus_dir.is_dir():
        raise FileNotFoundError(f"corpus folder not found: {corpus_dir}")
    index_dir.mkdir(parents=True, exist_ok=True)
    report = ReindexReport()
    with _Lock(index_dir):
        live = None
        if not full:
            try:
                live = open_index(index_dir)
            except (IndexMissing, StaleIndex):
                live = None
        previous = (current_generation(index_dir) or {}).get("generation", "")
        known = _known_hashes(index_dir, previous, live) if live else {}
        if live:
            live.close()
        generation = _Generation(index_dir, previous if live else None, workers or os.cpu_count() or 1)
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
                    update = item.id in known
                    report.updated += update
                    report.added += not update
                    generation.add(item, update)
            removed = [doc_id for doc_id in known if doc_id not in seen]
            report.removed = len(removed)
            count = generation.commit(removed)
            if count is not None:
                # A new file replaces the hard link copied from the live generation: writing
                # through the link would change the live generation's list too.
                listing = index_dir / generation.name / DOCUMENTS
                tmp = listing.with_suffix(".tmp")
                tmp.write_text(json.dumps(hashes), encoding="utf-8")
                os.replace(tmp, listing)
        except BaseException:
            generation.cancel()
            raise
        if count is not None:
            _switch(index_dir, {"generation": generation.name, "schema_version": SCHEMA_VERSION,
                                "documents": count, "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                                "corpus": str(corpus_dir.resolve())})
            _remove_old(index_dir, keep={generation.name, previous})
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _switch(index_dir: Path, record: dict) -> None:
    tmp = index_dir / f".CURRENT.{os.getpid()}"
    tmp.write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")
    with open(tmp) as f:
        os.fsync(f.fileno())
    os.replace(tmp, index_dir / "CURRENT")


def _remove_old(index_dir: Path, keep: set[str]) -> None:
    """Delete generations other than the live one and the one before (open readers keep theirs)."""
    for path in index_dir.glob("gen-*"):
        if path.name not in keep:
            shutil.rmtree(path, ignore_errors=True)
