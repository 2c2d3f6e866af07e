"""What a storage backend must answer, and how one is chosen.

vnsearch keeps everything that makes it vnsearch above this line: Vietnamese analysis, the
query language, filters' canonical spelling, which facet is counted under which filters
(disjunctive facets), paging, highlighting, "did you mean" and the ordering of related
articles all live in ``search/query.py`` and its helpers. A backend stores analysed
documents and answers the few questions below. The embedded default is Whoosh with a numpy
engine (``search/backends/whoosh.py``); a distributed one (OpenSearch) answers the same
questions with its own sharding, global BM25 statistics and aggregations.

A backend is named by a location: a folder path (or ``whoosh:PATH``) is the embedded
backend; ``<scheme>:...`` picks another registered in :data:`SCHEMES`.

The questions are shaped so that a sharded backend can answer them where the data lives:
one :class:`SearchSpec` asks for the top hits, the total and every facet's counts (each
under the filters the caller chose for it) in one round trip, and nothing in the protocol
needs a mask over every document of the corpus.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ContextManager, Iterable, Mapping, Protocol, runtime_checkable

from ..errors import BackendUnavailable

if TYPE_CHECKING:
    from ..querylang import ParsedQuery

__all__ = ["STORED_FIELDS", "Filters", "SearchSpec", "Match", "Matches", "Backend", "Writer", "Build",
           "open_backend", "open_writer", "SCHEMES", "SORTS", "UNDATED"]

SORTS = ("relevance", "newest", "oldest")
UNDATED = ""  # the key of the undated documents in Matches.histogram
# Fields every backend stores and shows but does not search, besides id, hash, title, body,
# date and the facet columns.
STORED_FIELDS = ("source", "url", "outlet", "conference", "term", "author")

# scheme → module; the module has open_backend(location) and open_writer(location).
SCHEMES = {"whoosh": "search.backends.whoosh", "opensearch": "search.backends.opensearch"}


@dataclass(frozen=True)
class Filters:
    """Which documents may count: facet values (OR within a facet, AND across facets) and a
    date range (YYYYMMDD integers, either end open; a range leaves undated articles out
    unless `undated`).

    Facet values are the indexed ones (canonical spelling; ``facets.UNKNOWN`` for "Không rõ")."""

    values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    date_from: int | None = None
    date_to: int | None = None
    undated: bool = False  # with a date range, articles without a date pass too

    def without(self, facet: str) -> "Filters":
        """The same filters with one facet's left out (how that facet is counted)."""
        return Filters({k: v for k, v in self.values.items() if k != facet}, self.date_from, self.date_to,
                       self.undated)

    @property
    def dated(self) -> bool:
        return self.date_from is not None or self.date_to is not None


@dataclass(frozen=True)
class SearchSpec:
    """One question to a backend.

    `query` is parsed by ``search/querylang.py``; `require_all` says whether every content
    clause must match (short queries) or any may (long ones, ranked by how many). The hits
    and `total` are under `filters`; each facet in `facets` is counted under its own
    Filters. `sort` is "relevance" (score, then index order), "newest" or "oldest" (date,
    undated last, then index order). `offset`/`limit` select the hits to return (`limit`
    0: counts only). `histogram`: when given, the documents under these Filters are also
    counted by month (a date histogram, :attr:`Matches.histogram`)."""

    query: ParsedQuery
    require_all: bool = True
    filters: Filters = Filters()
    facets: Mapping[str, Filters] = field(default_factory=dict)
    sort: str = "relevance"
    offset: int = 0
    limit: int = 10
    histogram: Filters | None = None


@dataclass
class Match:
    """One hit: its stored fields (``id``, ``title``, ``body``, ``date`` as YYYY-MM-DD or
    "", the facet columns with ``facets.UNKNOWN`` for unknown, ``source``, ``url``,
    ``outlet``, ``conference``, ``term``, ``author`` when known) and its score."""

    doc: dict[str, Any]
    score: float


@dataclass
class Matches:
    """A backend's answer to a SearchSpec.

    `matched`: documents the query matches before any filter (0 tells the caller to relax
    an all-words query); `total`: under the filters; `facets`: facet → value → count, values
    with no document left out; `histogram` (when the spec asked for one): "YYYY-MM" → count,
    months with no document left out, and ``UNDATED`` → the undated documents (when any)."""

    matched: int
    total: int
    hits: list[Match]
    facets: dict[str, dict[str, int]]
    histogram: dict[str, int] = field(default_factory=dict)


@runtime_checkable
class Backend(Protocol):
    """The read side of one index, as opened at one moment (one generation)."""

    location: str  # where it was opened from, for messages
    generation: str  # which state of the data it reads
    # A backend may also set ``forkable = True`` (absent: False): a forked process (a server's
    # worker) may go on using it open, nothing in it being shared but read-only maps.

    def is_current(self) -> bool:
        """Whether the location still serves `generation` (False once a reindex switched)."""

    def search(self, spec: SearchSpec) -> Matches:
        """Hits, totals and facet counts for `spec` (BM25 over the streams of
        ``search/scoring.py``, phrases and abbreviation forms as ``querylang`` parses them)."""

    def document(self, doc_id: str) -> dict[str, Any] | None:
        """The stored fields of one document (as in :class:`Match`), or None."""

    def similar(self, doc_id: str, limit: int) -> list[Match]:
        """Up to `limit` other documents sharing the most telling words of `doc_id`, best
        first, scored relative to the document itself (1.0: as alike as it is to itself)."""

    def facet_values(self, facet: str) -> list[str]:
        """Every indexed value of a facet (to match names typed in another tone style)."""

    def word_known(self, word: str, accented: bool = False) -> bool:
        """Whether a syllable occurs in any title or body: folded, or when `accented`, as
        written (canonical tones, lower case)."""

    def near_words(self, folded: str, distance: int) -> list[tuple[str, int]]:
        """Folded body syllables within `distance` edits of `folded` sharing its first
        letter, each with its document frequency (for "did you mean")."""

    def health(self) -> dict[str, Any]:
        """``{"backend": name, "documents": n, "generation": ...}`` and whatever else tells
        an operator the backend is well; raises a VnsearchError when it is not."""

    def close(self) -> None:
        """Release files or connections (searches in flight may still finish)."""


class Build(Protocol):
    """A new state of the index being written; nobody sees it before :meth:`commit`."""

    def add(self, doc: Mapping[str, Any], update: bool) -> None:
        """Write one document (fields as :func:`search.indexer.document_fields` gives them);
        `update`: an older version with the same id exists and must go."""

    def commit(self, removed: Iterable[str], hashes: Mapping[str, str]) -> int | None:
        """Delete `removed`, record the id → content hash list, and switch readers to the new
        state atomically. The new document count, or None when there was nothing to change."""

    def cancel(self) -> None:
        """Throw the new state away; the live one stays as it was."""


class Writer(Protocol):
    """The write side of an index location."""

    location: str

    def lock(self) -> ContextManager:
        """One reindex at a time: raises ReindexBusy when another holds it."""

    def known(self) -> dict[str, str] | None:
        """Id → content hash of the live documents, or None when there is no usable live
        index (missing, or built by another schema): then everything is written anew."""

    def begin(self, incremental: bool, workers: int) -> Build:
        """Start a new state: a copy of the live one when `incremental`, else empty."""


_SCHEME = re.compile(r"^([a-z][a-z0-9]*)(\+[a-z]+)?:(.*)$")


def _resolve(location: str | Path) -> tuple[str, str]:
    """(the backend's module, the location it is given) for a location string or path.

    ``whoosh:PATH`` and a bare path are the embedded backend (given PATH); another scheme,
    ``opensearch+http://host:9200``, is given the whole string."""
    text = str(location)
    m = _SCHEME.match(text)
    if m is None or (m[2] is None and not m[3].startswith("//") and m[1] not in SCHEMES):
        return SCHEMES["whoosh"], text  # a path (which may contain a colon)
    if m[1] not in SCHEMES:
        raise BackendUnavailable(f"unknown backend {m[1]!r} in {text!r} (known: {', '.join(SCHEMES)})")
    return SCHEMES[m[1]], (m[3] if m[1] == "whoosh" else text)


def open_backend(location: str | Path) -> Backend:
    """The read side at `location` (raises IndexMissing, StaleIndex, BackendUnavailable)."""
    module, where = _resolve(location)
    return importlib.import_module(module).open_backend(where)


def open_writer(location: str | Path) -> Writer:
    """The write side at `location`."""
    module, where = _resolve(location)
    return importlib.import_module(module).open_writer(where)
