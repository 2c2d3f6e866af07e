"""The embedded backend: Whoosh stores, numpy ranks (``ranking.py``), a folder of generations.

Whoosh (pinned at 2.7.4) keeps the postings, positions, facet columns and stored fields of
each generation; ``ranking.py`` reads postings into arrays and does the per-document work
(BM25, masks, facet counts, top-k) with numpy. The folder layout, the atomic switch and the
lock belong to ``search/store.py``. No Whoosh object leaves this module.

Writing: a generation is a Whoosh index; an incremental run hard-links the live one
(Whoosh never rewrites a segment file), applies the changes and commits; large changes are
analysed (pyvi included) in worker processes by Whoosh's multiprocessing writer. Every
writer gathers its postings by term (``termpool.py``) instead of sorting them one by one,
takes a text's postings from our formats as one list (``_field_index``), and pickles its
postings blocks at protocol 3 (``_dumps``).
"""

from __future__ import annotations

import gc
import importlib
import io
import os
import pickle
import shutil
import sys
import threading
import traceback
import types
import warnings
import weakref
from bisect import bisect_right
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
from whoosh import index as whoosh_index
from whoosh.codec import whoosh3
from whoosh.codec.whoosh3 import STORED_COLUMN, W3FieldWriter
from whoosh.fields import FieldType
from whoosh.filedb import structfile
from whoosh.filedb.filestore import FileStorage
from whoosh.writing import SegmentWriter

from ..analysis import compound_words
from ..errors import IndexDamaged, IndexMissing, NoSpace, StaleIndex, VnsearchError
from ..facets import FACETS
from ..schema import SCHEMA_VERSION, build_schema
from ..scoring import TEXT_FIELDS, stream
from ..store import MIN_FREE, Store, die_with_parent, estimate_index_bytes
from . import columns, ranking
from .termpool import TermPool, write_postings
from . import Filters, Match, Matches, SearchSpec

__all__ = ["WhooshBackend", "WhooshWriter", "open_backend", "open_writer"]

BODY_FOLD, TITLE_FOLD = stream("body", "folded"), stream("title", "folded")


LINE_CHUNK = 4096  # bytes looked at at once for the end of a line


class MappedFile:
    """A read-only file over a memoryview of a mapped segment, read without being copied.

    Whoosh==2.7.4 maps a compound segment, then wraps each file of it in a ``BufferFile``
    whose ``BytesIO(view)`` copies the whole file into memory: every reader open copied
    every segment (600 MB per process at 51,000 articles, again in each server worker).
    This reads the mapped pages instead, shared by every process. Each thread has its own
    position once it has moved one (Whoosh seeks, then reads: with one position, two
    threads reading postings at once could read each other's bytes); a thread that has
    not reads from the last position any thread set, as with one position."""

    def __init__(self, buf):
        self._view = memoryview(buf)
        self._shared = 0
        self._mine = threading.local()

    def _at(self) -> int:
        return getattr(self._mine, "pos", self._shared)

    def _move(self, pos: int) -> int:
        self._mine.pos = self._shared = pos
        return pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._at(), io.SEEK_END: len(self._view)}[whence]
        return self._move(base + offset)

    def tell(self) -> int:
        return self._at()

    def read(self, n: int | None = -1) -> bytes:
        at = self._at()
        end = len(self._view) if n is None or n < 0 else min(at + n, len(self._view))
        self._move(max(at, end))
        return bytes(self._view[at:end])

    def readinto(self, b) -> int:
        data = self.read(len(b))
        b[:len(data)] = data
        return len(data)

    def readline(self, n: int | None = -1) -> bytes:  # pickle.load wants one
        at = self._at()
        end = len(self._view) if n is None or n < 0 else min(at + n, len(self._view))
        for start in range(at, end, LINE_CHUNK):  # not a copy of the rest of the file
            cut = bytes(self._view[start:min(start + LINE_CHUNK, end)]).find(b"\n")
            if cut >= 0:
                return self.read(start + cut + 1 - at)
        return self.read(end - at)

    def close(self) -> None:
        self._view = memoryview(b"")  # the map itself is the compound storage's to close


def _mapped_buffer_file(self, buf, name=None, onclose=None):
    """``structfile.BufferFile.__init__`` with a ``MappedFile`` instead of a ``BytesIO`` copy."""
    self._buf, self._name, self.onclose = buf, name, onclose
    self.file = MappedFile(buf)
    self.is_real, self.is_closed = False, False


structfile.BufferFile.__init__ = _mapped_buffer_file

_whoosh_field_index = FieldType.index


def _field_index(self, value, **kwargs):
    """``FieldType.index``, the same postings: from a format that gives a whole text's at once
    (``analysis.SyllablePositions``, ``analysis.CompoundFrequency``) as one list, instead of
    a generator over its generator that encodes each word by a call."""
    if not kwargs and isinstance(value, str) and hasattr(self.format, "postings"):
        found = self.format.postings(value, self.analyzer)
        if found is not None:
            return found
    return _whoosh_field_index(self, value, **kwargs)


FieldType.index = _field_index


_segment_writer_init = SegmentWriter.__init__


def _segment_writer_with_pool(self, ix, poolclass=None, **kwargs):
    """``SegmentWriter.__init__`` that uses its ``poolclass`` argument (Whoosh==2.7.4 takes
    it and always makes a ``PostingPool``): the multiprocessing writer hands its arguments
    to the writers of its worker processes, so ``ix.writer(procs=2, poolclass=TermPool)``
    gives every one a ``TermPool`` (``termpool.py``)."""
    _segment_writer_init(self, ix, **kwargs)
    if poolclass is not None:
        self.pool = poolclass(self._tempstorage, self.newsegment, limitmb=kwargs.get("limitmb", 128))


SegmentWriter.__init__ = _segment_writer_with_pool
_whoosh_flush_segment = SegmentWriter._flush_segment


def _flush_segment(self):
    """``SegmentWriter._flush_segment``, its pool's postings written by term when it is a
    ``TermPool`` and the codec Whoosh 3's (``termpool.write_postings``: the same bytes);
    otherwise Whoosh's, which reads a ``TermPool``'s postings one by one."""
    if not (isinstance(self.pool, TermPool) and isinstance(self.fieldwriter, W3FieldWriter)):
        return _whoosh_flush_segment(self)
    self.perdocwriter.close()
    lengths = self.per_document_reader() if self.codec.length_stats else None
    write_postings(self.fieldwriter, self.schema, lengths, self.pool)
    self.fieldwriter.close()
    if lengths:
        lengths.close()


SegmentWriter._flush_segment = _flush_segment


def _dumps(obj, protocol=None) -> bytes:
    """Whoosh 3's pickles of its postings blocks, at pickle protocol 3 instead of 2.

    At protocol 2, Python pickles each posting's positions (bytes) as a call that encodes
    them from a latin-1 string: 10 times the time of protocol 3 to write and to read a
    block of 128 postings, and twice the bytes before compression (1.7 times after).
    ``pickle.loads`` reads either, so Whoosh's own reader, ``ranking._blocks`` and the
    segments of older builds are unchanged."""
    return pickle.dumps(obj, 3)


whoosh3.dumps = _dumps

MORPH_EN = "whoosh.lang.morph_en"


def _defer_english_morphology() -> None:
    """Let Whoosh's English word variations be compiled when first used, not at every start.

    Opening a searcher imports ``whoosh.query``, whose ``Variations`` query imports
    ``morph_en``: compiling its regular expressions takes 8 ms of each process's start, and
    vnsearch never asks for English variations. Until someone does, the module is a
    stand-in whose ``variations`` imports the real one and hands the call on."""
    if MORPH_EN in sys.modules:
        return
    stand_in = types.ModuleType(MORPH_EN, "Stands for whoosh.lang.morph_en until its first use.")

    def variations(word):
        if sys.modules.get(MORPH_EN) is stand_in:
            del sys.modules[MORPH_EN]
        return importlib.import_module(MORPH_EN).variations(word)

    stand_in.variations = variations
    sys.modules[MORPH_EN] = stand_in


_defer_english_morphology()


def _open(store: Store):
    """(CURRENT record, the live Whoosh index, its mapped arrays); raises IndexMissing or
    StaleIndex (also for arrays missing or of an older version: a reindex then rebuilds)."""
    record, folder = store.live()
    if record.get("schema_version") != SCHEMA_VERSION:
        raise StaleIndex(store.root, record.get("schema_version"), SCHEMA_VERSION)
    store.verify(folder)
    with _damaged(store):
        ix = whoosh_index.open_dir(str(folder))
    missing = [name for name in FACETS if name not in ix.schema or not ix.schema[name].column_type]
    if missing:
        ix.close()
        raise StaleIndex(store.root, SCHEMA_VERSION, SCHEMA_VERSION, missing_facets=missing)
    with _damaged(store):
        saved = columns.load(folder)
    if saved is None:
        ix.close()
        raise StaleIndex(store.root, SCHEMA_VERSION, SCHEMA_VERSION,
                         arrays=(columns.version(folder), columns.VERSION))
    return record, ix, saved


@contextmanager
def _damaged(store: Store):
    """Whoosh failing to read files that passed the manifest check (or a generation without
    one) is a damaged index, not a crash; permissions stay what they are."""
    try:
        yield
    except (VnsearchError, PermissionError):
        raise
    except Exception as e:  # EOFError, struct.error, zlib.error, UnpicklingError, EmptyIndexError...
        raise IndexDamaged(store.root, f"{type(e).__name__}: {e}") from e


def open_backend(location: str) -> "WhooshBackend":
    """The live generation of the index folder `location`."""
    store = Store(location)
    record, ix, saved = _open(store)
    try:
        with _damaged(store):
            return WhooshBackend(store, record, ix, saved)
    except BaseException:
        ix.close()
        saved.close()
        raise


def open_writer(location: str) -> "WhooshWriter":
    return WhooshWriter(Store(location))


class WhooshBackend:
    """One open generation: a Whoosh searcher and its arrays."""

    name = "whoosh"
    # Every read goes through a map (the compound segments, the .npy arrays) or os.pread (the
    # stored fields), never a file position, so server workers forked after the open share it.
    forkable = True

    def __init__(self, store: Store, record: dict, ix, saved: columns.Saved):
        self.store, self.record, self._ix = store, record, ix
        self.location = str(store.root)
        self.generation = record["generation"]
        self.arrays = ranking.IndexArrays(ix.searcher(), tuple(FACETS), saved)
        self._searcher = self.arrays.searcher
        self._stored = saved.stored
        # A backend replaced by a refresh is dropped, not closed (a search may still use it):
        # its files are closed when it goes, instead of left to the collector's warnings.
        self._closer = weakref.finalize(self, _close_whoosh, self._searcher, ix, saved)

    def is_current(self) -> bool:
        return (self.store.current() or {}).get("generation") == self.generation

    # -- searching -------------------------------------------------------------------------

    def search(self, spec: SearchSpec) -> Matches:
        ix = self.arrays
        scored = ranking.evaluate(ix, spec.query, spec.require_all)
        masks = _Masks(ix, scored.mask)
        matching = masks.under(spec.filters)
        total = int(matching.sum())
        facets = {facet: ranking.facet_counts(ix, facet, masks.docs(filters))
                  for facet, filters in spec.facets.items()}
        hits: list[Match] = []
        end = spec.offset + spec.limit
        if spec.limit > 0 and spec.offset < total:
            if spec.sort == "relevance":
                chosen = ranking.top(ix, scored.score, matching, end)[spec.offset:]
            else:
                docs = ranking.by_date(ix, matching, end, newest=spec.sort == "newest")[spec.offset:]
                chosen = [(d, float(scored.score[d])) for d in docs]
            hits = [Match(self._stored(d), score) for d, score in chosen]
        histogram = ranking.month_counts(ix, masks.docs(spec.histogram)) if spec.histogram else {}
        return Matches(int(scored.mask.sum()), total, hits, facets, histogram)

    def _docnum(self, doc_id: str) -> int | None:
        return self._searcher.document_number(id=doc_id)

    def document(self, doc_id: str) -> dict[str, Any] | None:
        docnum = self._docnum(doc_id)
        return None if docnum is None else self._stored(docnum)

    def similar(self, doc_id: str, limit: int) -> list[Match]:
        docnum = self._docnum(doc_id)
        if docnum is None:
            return []
        stored = self._stored(docnum)
        scored = ranking.more_like(self.arrays, docnum, stored.get("title", ""), stored.get("body", ""))
        return [Match(self._stored(d), score)
                for d, score in ranking.top(self.arrays, scored.score, scored.mask, limit)]

    def facet_values(self, facet: str) -> list[str]:
        return list(self.arrays.facets[facet][1])

    def word_known(self, word: str, accented: bool = False) -> bool:
        fields = TEXT_FIELDS if accented else (BODY_FOLD, TITLE_FOLD)
        common = self.arrays.saved.table  # the common terms' postings: known without Whoosh
        if any(word in common.get(f, ()) for f in fields):
            return True
        reader = self._searcher.reader()
        return any(reader.doc_frequency(f, word) for f in fields)

    def near_words(self, folded: str, distance: int) -> list[tuple[str, int]]:
        return self.arrays.saved.near_words(folded, distance)

    def health(self) -> dict[str, Any]:
        return {"backend": self.name, "documents": self._searcher.doc_count(),
                "generation": self.generation, "built_at": self.record.get("built_at")}

    def close(self) -> None:
        self._closer()


class _StoredFields:
    """A document's stored fields, read from its segment's stored column: what Whoosh's
    ``searcher.stored_fields`` returns, without its three layers of dispatch and the check of
    each field against the schema (a generation's documents store only its schema's fields):
    how the build reads them all to write them again uncompressed (``columns.py``)."""

    def __init__(self, leaves):
        self.starts = [offset for _, offset in leaves]
        self.columns = [reader._perdoc._cached_reader("_stored", STORED_COLUMN) for reader, _ in leaves]

    def __call__(self, docnum: int) -> dict[str, Any]:
        i = bisect_right(self.starts, docnum) - 1
        return self.columns[i][docnum - self.starts[i]] or {}


def _close_whoosh(searcher, ix, saved: columns.Saved) -> None:
    searcher.close()
    ix.close()
    saved.close()


class _Masks:
    """The query's documents under one or another set of filters (each mask made once)."""

    def __init__(self, ix: ranking.IndexArrays, matched):
        self.ix, self.matched = ix, matched
        self._facet: dict[tuple[str, tuple[str, ...]], Any] = {}
        self._dated: dict[tuple[int | None, int | None, bool], Any] = {}
        self._docs: dict[tuple, Any] = {}

    def docs(self, filters: Filters):
        """The numbers of the documents :meth:`under` `filters` keeps, found once per set of
        filters: the facets counted under the same filters (all of them when there are
        none) and the histogram share them."""
        key = (tuple(sorted(filters.values.items())), filters.date_from, filters.date_to, filters.undated)
        if key not in self._docs:
            self._docs[key] = np.flatnonzero(self.under(filters))
        return self._docs[key]

    def under(self, filters: Filters):
        mask = self.matched
        if filters.dated:
            span = (filters.date_from, filters.date_to, filters.undated)
            if span not in self._dated:
                self._dated[span] = ranking.date_mask(self.ix, *span)
            mask = mask & self._dated[span]
        for facet, values in filters.values.items():
            k = (facet, tuple(values))
            if k not in self._facet:
                self._facet[k] = ranking.facet_mask(self.ix, facet, list(values))
            mask = mask & self._facet[k]
        return mask


# --- writing ---------------------------------------------------------------------------

PARALLEL_MIN_DOCS = 64  # below this, starting worker processes costs more than it saves
CHECK_EVERY = 64  # documents between two looks at the free space and the workers
_pool_parent: int | None = None  # while set, this pid's forked children are analysis workers


def _die_with_parent() -> None:
    """In a forked analysis worker: have the kernel kill it when the reindex dies (kill -9
    included), so no orphan keeps working on a generation nobody will switch to."""
    global _pool_parent
    parent, _pool_parent = _pool_parent, None
    if parent is not None:
        die_with_parent(parent)


os.register_at_fork(after_in_child=_die_with_parent)


class WhooshWriter:
    """The write side of an index folder."""

    def __init__(self, store: Store):
        self.store = store
        self.location = str(store.root)

    def lock(self):
        return self.store.lock()

    def clear_unfinished(self) -> list[str]:
        """Remove the generations crashed reindexes left half-built (call it holding the lock)."""
        return self.store.clear_unfinished()

    def known(self) -> dict[str, str] | None:
        try:
            record, ix, saved = _open(self.store)
        except (IndexMissing, StaleIndex, IndexDamaged):  # build afresh
            return None
        saved.close()
        try:
            listing = self.store.hashes(record["generation"])
            if listing is None:  # an older generation without its list: read the stored fields
                with ix.searcher() as s:
                    listing = {f["id"]: f["hash"] for f in s.all_stored_fields()}
            return listing
        finally:
            ix.close()

    def begin(self, incremental: bool, workers: int, corpus: str = "") -> "WhooshBuild":
        live = self.store.current() if incremental else None
        return WhooshBuild(self.store, live["generation"] if live else None, workers, corpus)


def _whoosh_fields(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A document's fields as the schema names them: each text field fed to its three streams."""
    fields = {k: v for k, v in doc.items() if v is not None}
    for name in TEXT_FIELDS:
        for kind in ("folded", "compound"):
            fields[stream(name, kind)] = doc[name]
    return fields


def _close_files(obj, depth: int = 6, seen: set | None = None) -> None:
    """Close the files a Whoosh writer stopped by an error (a full disk) still holds, so the
    space is given back with the folder (its own cancel leaves them to the collector)."""
    seen = set() if seen is None else seen
    if id(obj) in seen or depth < 0:
        return
    seen.add(id(obj))
    if isinstance(obj, io.IOBase):
        try:
            obj.close()
        except (OSError, ValueError):
            pass
        return
    values = obj.values() if isinstance(obj, dict) else obj if isinstance(obj, (list, tuple)) else \
        vars(obj).values() if hasattr(obj, "__dict__") and not isinstance(obj, type) else ()
    for value in values:
        _close_files(value, depth - 1, seen)


class WhooshBuild:
    """A new generation, started only once there is something to change.

    The first ``PARALLEL_MIN_DOCS`` changes are held back: a small update is written by one
    plain writer, a large one by worker processes."""

    def __init__(self, store: Store, live: str | None, workers: int, corpus: str):
        self.store, self.live, self.workers, self.corpus = store, live, workers, corpus
        self.folder = store.new_generation()
        self.pending: list[tuple[Mapping[str, Any], bool]] = []
        self.ix = self.writer = self.searcher = None
        self.switched = self.committed = False
        self.needed, self.added = 0, 0

    @contextmanager
    def _space(self):
        """A full disk (ENOSPC, a quota) met while writing becomes one NoSpace."""
        try:
            yield
        except OSError as e:
            if Store.is_no_space(e):
                # The frames of the failed write hold files open on the full disk: let go
                # of them now, so their space is given back with the folder.
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ResourceWarning)
                    traceback.clear_frames(e.__traceback__)
                    gc.collect()
                raise self.store.no_space(e, self.needed) from None
            raise

    def add(self, doc: Mapping[str, Any], update: bool) -> None:
        self.added += 1
        with self._space():
            if self.writer is None:
                self.pending.append((doc, update))
                if len(self.pending) >= PARALLEL_MIN_DOCS:
                    self._start(parallel=True)
                return
            if self.added % CHECK_EVERY == 0:
                self._check()
            self._write(doc, update)

    def _check(self, space: bool = True) -> None:
        """Stop before the disk is full, and when an analysis worker died (Whoosh would wait
        for it, or commit without its documents)."""
        free = self.store.free_bytes() if space else MIN_FREE
        if free < MIN_FREE:
            raise NoSpace(self.store.root, max(self.needed, MIN_FREE), free)
        dead = [t.exitcode for t in getattr(self.writer, "tasks", ()) if t.exitcode]
        if dead:
            raise RuntimeError(f"an analysis worker of the reindex died (exit code {dead[0]}); "
                               "the live index is unchanged")

    def _write(self, doc: Mapping[str, Any], update: bool) -> None:
        if update:  # Whoosh's update_document opens a searcher per call: 10+ ms each
            self._delete(doc["id"])
        self.writer.add_document(**_whoosh_fields(doc))

    def _delete(self, doc_id: str) -> None:
        """Delete the indexed version of `doc_id` (one searcher for the whole run)."""
        if self.searcher is None:
            self.searcher = self.writer.searcher()
        self.writer.delete_by_term("id", doc_id, searcher=self.searcher)

    def _start(self, parallel: bool) -> None:
        global _pool_parent
        since = (self.store.root / self.live).stat().st_mtime if self.live else None
        self.needed = estimate_index_bytes(Path(self.corpus), since) if self.corpus else 0
        self.store.need_space(self.needed)
        if self.live:
            shutil.copytree(self.store.root / self.live, self.folder, copy_function=os.link)
            self.ix = whoosh_index.open_dir(str(self.folder))
        else:
            self.folder.mkdir()
            self.ix = whoosh_index.create_in(str(self.folder), build_schema())
        if parallel and self.workers > 1:
            compound_words("Khởi động")  # load pyvi before forking, so the workers share it
            _pool_parent = os.getpid()
            self.writer = self.ix.writer(procs=self.workers, multisegment=True, limitmb=128, batchsize=64,
                                         poolclass=TermPool)
        else:
            self.writer = self.ix.writer(limitmb=256, poolclass=TermPool)
        pending, self.pending = self.pending, []
        for doc, update in pending:
            self._write(doc, update)

    def commit(self, removed: Iterable[str], hashes: Mapping[str, str]) -> int | None:
        with self._space():
            return self._commit(list(removed), hashes)

    def _commit(self, removed: list[str], hashes: Mapping[str, str]) -> int | None:
        global _pool_parent
        if self.writer is None:
            if not self.pending and not removed and self.live:
                return None
            self._start(parallel=False)
        for doc_id in removed:
            self._delete(doc_id)
        if self.searcher is not None:
            self.searcher.close()
        self.writer.commit()
        self.committed, _pool_parent = True, None
        self._check(space=False)  # a worker that died took its documents with it: do not switch
        count = self.ix.doc_count()
        self.ix.close()
        self._write_arrays()
        self.store.write_hashes(self.folder, dict(hashes))
        self.store.write_manifest(self.folder, linked_from=self.live)
        self.store.switch(self.folder, schema_version=SCHEMA_VERSION, documents=count,
                          facets=list(FACETS), corpus=self.corpus)
        self.switched = True
        return count

    def _write_arrays(self) -> None:
        """The generation's arrays as .npy files (``columns.py``), read from what was committed,
        in two processes when the build has several workers.

        Read without mapping the segments: this reads nearly all of their postings, and
        mapped, every page read stayed in the reindex's resident memory (580 of its 770 MB
        peak at 51,000 articles, growing with the corpus); read, they are only the page
        cache's, and one thread reads (the shared file position is safe). ~25 % slower."""
        with self._arrays() as arrays:
            columns.write(self.folder, arrays, arrays.searcher.reader(), BODY_FOLD, _StoredFields(arrays.leaves),
                          reopen=self._arrays if self.workers > 1 else None)

    @contextmanager
    def _arrays(self):
        """An ``IndexArrays`` over the committed generation, from its own files."""
        ix = FileStorage(str(self.folder), supports_mmap=False).open_index()
        try:
            with ix.searcher() as searcher:
                yield ranking.IndexArrays(searcher, tuple(FACETS))
        finally:
            ix.close()

    def cancel(self) -> None:
        global _pool_parent
        _pool_parent = None
        if self.switched:
            return
        try:
            if self.searcher is not None:
                self.searcher.close()
            if self.writer is not None and not self.committed:
                _close_files(self.writer)  # before Whoosh's cancel drops them unclosed
                self.writer.cancel()
        except Exception:  # noqa: BLE001 - a writer that failed mid-way may not cancel cleanly
            pass
        finally:
            for task in getattr(self.writer, "tasks", ()):  # Whoosh's cancel never reaches them
                if task.is_alive():
                    task.terminate()
                    task.join(5)
            if self.ix is not None:
                self.ix.close()
            self.store.discard(self.folder)
