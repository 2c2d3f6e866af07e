"""The read side: an :class:`Index` answers searches and shows documents, on any backend.

``open_index(location) -> Index``; ``index.search(SearchRequest) -> SearchResult``,
``index.document(id) -> Document``, ``index.health()``. Everything that is vnsearch rather
than storage happens here and in the modules it calls: the query language
(``querylang``), filters' canonical spelling (``facets``), disjunctive facets (each facet
counted with its own filter left out, so the other values stay visible with true counts),
relaxing an all-words query that finds nothing, paging, highlighting (``highlight``, only
the shown hits), "did you mean", and the order of related articles. The backend
(``search/backends/``) stores and ranks.

An Index is a handle on a location: it opens the backend on first use and, on
:meth:`Index.refresh`, reopens it when a reindex has switched the live data, so a server
holds one Index for its whole life.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field, fields, replace
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Mapping

from . import querylang
from .backends import SORTS, Backend, Filters, Match, SearchSpec, open_backend
from .errors import BadQuery, UnknownDocument
from .facets import FACETS, MAX_VALUES, UNKNOWN, UNKNOWN_LABEL
from .highlight import Marker, mark, snippet
from .text import canonical_tones, edit_distance, fold, nfc, normalize_token, syllable_texts

__all__ = ["Index", "open_index", "SearchRequest", "SearchResult", "Hit", "FacetValue", "Document",
           "request_from_params", "UNKNOWN_LABEL", "MAX_SIZE", "MAX_QUERY_CHARS", "SORTS"]

MAX_SIZE = 100
MAX_PAGE = 100_000
MAX_QUERY_CHARS = 500
SUGGEST_MAX_WORDS = 8  # longer queries get no "did you mean"
SUGGEST_DISTANCE = 2  # edits between a typed syllable and a suggested one
SUGGEST_CANDIDATES = 5  # nearest words tried per unknown syllable
SUGGEST_SAMPLE = 5  # best documents read to restore the suggestion's diacritics
RELATED_POOL = 4  # candidates per related article wanted, before same-province ordering
MIN_EXACT = 3  # a query with diacritics that finds fewer, as written, also shows folded matches
RELATED_MIN = 0.12  # a related article is at least this alike, with its boosts (1.0: the article itself)
RELATED_BOOST = 0.5  # how much sharing the province, the secretary or the period raises one
RELATED_SAME = ("province", "secretary")  # the facts a related article gains by sharing
RELATED_DAYS = 366  # "the same period": published within a year of each other


@dataclass
class SearchRequest:
    """What the user asked for. `filters`: facet name → values in any spelling."""

    q: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "relevance"
    page: int = 1
    size: int = 10
    autocorrect: bool = True  # show a corrected query's results when the typed one finds none
    histogram: bool = False  # count the results by month too (SearchResult.histogram)
    snippets: bool = True  # highlight the hits (exports and feeds of titles need none)
    facets: bool = True  # count every facet's values (False: SearchResult.facets empty, undated 0)


@lru_cache(maxsize=None)
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


def _plain(obj, leave_out: tuple[str, ...] = ()) -> dict:
    """A dataclass's fields as a dict, in their order, values as they are: what ``asdict``
    gives for fields of plain values, without its deep copy of each (``asdict`` of a result
    page, with its facets' hundreds of values, took 2 ms)."""
    return {name: getattr(obj, name) for name in _field_names(type(obj)) if name not in leave_out}


@dataclass
class FacetValue:
    """One value of a facet with how many results it would give."""

    value: str
    count: int
    selected: bool


@dataclass
class Hit:
    """One result, ready to show."""

    id: str
    title: str
    date: str | None
    province: str | None
    province_2025: str | None
    secretary: str | None
    source: str | None
    url: str | None
    score: float
    snippet: str
    title_html: str = ""


@dataclass
class SearchResult:
    """The answer to a SearchRequest (the JSON of the API and of ``search --json``)."""

    query: str
    total: int
    page: int
    size: int
    took_ms: float
    hits: list[Hit]
    facets: dict[str, list[FacetValue]]
    suggestion: str | None = None
    corrected: str | None = None  # the query whose results are shown, when not the typed one
    loose: bool = False  # the words as written found (almost) nothing: other tones matched too
    exact: int = 0  # how many of `total` have the words as written (all of them unless `loose`)
    undated: int = 0  # articles a date range left out because they have no date
    filters: dict[str, list[str]] = field(default_factory=dict)  # canonical, for the UI
    # "YYYY-MM" → results dated that month, "" → undated ones (when `histogram` was asked)
    histogram: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict:
        """The documented JSON shape (ARCHITECTURE.md)."""
        out = _plain(self, ("filters", "histogram"))
        out["hits"] = [_plain(hit, ("title_html",)) for hit in self.hits]
        out["facets"] = {name: [_plain(v) for v in values] for name, values in self.facets.items()}
        return out


@dataclass
class Document:
    """One whole article (``/api/doc/<id>`` and the article page)."""

    id: str
    title: str
    date: str | None
    province: str | None
    province_2025: str | None
    secretary: str | None
    source: str | None
    url: str | None
    body: str
    outlet: str | None
    conference: int | None
    term: str | None
    author: str | None
    body_html: str = ""
    title_html: str = ""
    related: list[Hit] = field(default_factory=list)
    facets: dict[str, str | None] = field(default_factory=dict)  # every registered facet's value

    def as_json(self) -> dict:
        """The documented JSON shape, without the rendered HTML."""
        out = _plain(self, ("body_html", "title_html", "facets"))
        out["related"] = [{k: getattr(h, k) for k in ("id", "title", "date", "province")} for h in self.related]
        return out


# --- request parsing (shared by the web API and the CLI) -----------------------------------

def _parse_date(raw: str | None, name: str) -> date | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    for pattern, order in ((r"(\d{4})-(\d{1,2})-(\d{1,2})", (1, 2, 3)), (r"(\d{1,2})/(\d{1,2})/(\d{4})", (3, 2, 1))):
        m = re.fullmatch(pattern, raw)
        if m:
            try:
                return date(*(int(m[i]) for i in order))
            except ValueError:
                break
    raise BadQuery(f"'{name}' must be a date like 2023-04-07 (got {raw!r})", parameter=name)


def _parse_int(raw: str | None, name: str, default: int, low: int, high: int) -> int:
    if raw is None or str(raw).strip() == "":
        return default
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise BadQuery(f"'{name}' must be a whole number (got {raw!r})", parameter=name) from None
    if not low <= value <= high:
        raise BadQuery(f"'{name}' must be between {low} and {high} (got {value})", parameter=name,
                       reason="range")
    return value


def request_from_params(get_one: Callable[[str], str | None],
                        get_all: Callable[[str], list[str]]) -> SearchRequest:
    """Build a SearchRequest from request parameters; raises BadQuery for a bad one.

    `get_one(name)` returns one value or None, `get_all(name)` every value of a repeated
    one; each registered facet is a repeatable parameter of its name."""
    q = nfc(get_one("q") or "").strip()
    if len(q) > MAX_QUERY_CHARS:
        raise BadQuery(f"the query is too long ({len(q)} characters; at most {MAX_QUERY_CHARS})",
                       parameter="q", reason="too_long")
    sort = (get_one("sort") or "relevance").strip() or "relevance"
    if sort not in SORTS:
        raise BadQuery(f"'sort' must be one of {', '.join(SORTS)} (got {sort!r})", parameter="sort")
    filters = {}
    for name, facet in FACETS.items():
        values = [v for v in get_all(name) if v.strip()]
        if len(values) > MAX_VALUES:
            raise BadQuery(f"too many '{name}' values ({len(values)}; at most {MAX_VALUES})",
                           parameter=name, reason="too_many")
        for value in values:
            facet.check(value)
        if values:
            filters[name] = values
    request = SearchRequest(
        q=q, filters=filters,
        date_from=_parse_date(get_one("from"), "from"),
        date_to=_parse_date(get_one("to"), "to"),
        sort=sort,
        page=_parse_int(get_one("page"), "page", 1, 1, MAX_PAGE),
        size=_parse_int(get_one("size"), "size", 10, 1, MAX_SIZE),
        autocorrect=(get_one("exact") or "").strip() not in ("1", "true"),
    )
    if request.date_from and request.date_to and request.date_from > request.date_to:
        raise BadQuery("'from' is after 'to'", parameter="from", reason="order")
    return request


def _day_number(day: date | None) -> int | None:
    return day.year * 10000 + day.month * 100 + day.day if day else None


def _value(stored: Mapping[str, Any], name: str) -> Any:
    v = stored.get(name)
    return None if v in (None, "", UNKNOWN) else v


def _hit(stored: Mapping[str, Any], score: float, marker: Marker, snippets: bool = True) -> Hit:
    body, title = stored.get("body", ""), stored.get("title", "")
    if not snippets:
        body, marker = "", NO_MARKS
    return Hit(
        id=stored["id"], title=title, date=_value(stored, "date"),
        province=_value(stored, "province"), province_2025=_value(stored, "province_2025"),
        secretary=_value(stored, "secretary"), source=_value(stored, "source"), url=_value(stored, "url"),
        score=round(float(score), 4), snippet=snippet(body, marker.spans(body)),
        title_html=mark(title, marker.spans(title)),
    )


def _facet_values(name: str, counts: dict[str, int], selected: list[str]) -> list[FacetValue]:
    """A facet's values with their counts, in the facet's order; selected ones always listed.

    Values the facet takes as one (``Facet.merge_key``) are counted together under the form
    most articles have."""
    facet = FACETS[name]
    for value in selected:
        counts.setdefault(value, 0)
    chosen, key = set(selected), facet.merge_key
    groups: dict[str, list] = {}  # key → [the most frequent (count, value), total, any selected]
    for v, c in counts.items():
        if v == "":
            continue
        group = groups.get(k := v if v == UNKNOWN else key(v))
        if group is None:
            groups[k] = [(c, v), c, v in chosen]
        else:
            group[0], group[1], group[2] = max(group[0], (c, v)), group[1] + c, group[2] or v in chosen
    values = [FacetValue(UNKNOWN_LABEL if shown == UNKNOWN else shown, total, on)
              for (_, shown), total, on in groups.values()]
    values.sort(key=lambda f: facet.order(f.value, f.count))
    return values


NO_MARKS = Marker(set(), set(), [])  # marks nothing


# --- the index -----------------------------------------------------------------------------

class Index:
    """The searchable index at one location (an index folder, or a backend's address)."""

    def __init__(self, location: str | Path, opener: Callable[[str], Backend] = open_backend):
        self.location = str(location)
        self._opener = opener
        self._backend: Backend | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Index({self.location!r})"

    def __enter__(self) -> "Index":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def backend(self) -> Backend:
        """The open backend (opened on first use; raises IndexMissing / StaleIndex)."""
        backend = self._backend
        if backend is None:
            with self._lock:
                if self._backend is None:
                    self._backend = self._opener(self.location)
                backend = self._backend
        return backend

    def refresh(self) -> bool:
        """Open the backend, or reopen it when the live data has changed since; True if it
        did. A search in flight keeps the backend it started with."""
        backend = self._backend
        if backend is not None and backend.is_current():
            return False
        with self._lock:
            if self._backend is not backend:  # another thread refreshed meanwhile
                return True
            self._backend = self._opener(self.location)
        return True

    def close(self) -> None:
        """Let go of the backend; the next use opens it again."""
        with self._lock:
            backend, self._backend = self._backend, None
        if backend is not None:
            backend.close()

    # -- searching -------------------------------------------------------------------------

    def search(self, request: SearchRequest) -> SearchResult:
        """Run `request`: hits of the asked page, highlighted, the total, every facet's counts.

        A query with diacritics matches its words as written; only when that finds fewer than
        ``MIN_EXACT`` articles do other tones match too (`loose`). When the query finds nothing,
        or only such loose or partial matches, and its correction finds articles with every
        word, the correction's results are shown (`corrected`), unless `autocorrect` is off."""
        started = time.perf_counter()
        backend = self.backend
        parsed = querylang.parse(request.q)
        filters = self._filters(backend, request, parsed)
        # "Không rõ" of the year asks for the undated articles, also beside a date range.
        dated_facets = [name for name, f in FACETS.items() if f.of_date]
        want_undated = any(UNKNOWN in filters.get(name, ()) for name in dated_facets)
        allowed = Filters({k: tuple(v) for k, v in filters.items()},
                          _day_number(request.date_from), _day_number(request.date_to), undated=want_undated)
        counted: dict[str, Filters] = {}  # facet → the filters it is counted under (the other facets'), when asked
        if request.facets:
            counted = {name: allowed.without(name) for name in FACETS}
            for name in dated_facets:  # so that its "Không rõ" can be chosen with a range
                counted[name] = replace(counted[name], undated=True)
        sort = "newest" if parsed.empty and request.sort == "relevance" else request.sort
        spec = SearchSpec(parsed, querylang.require_all(parsed), allowed, facets=counted, sort=sort,
                          offset=(request.page - 1) * request.size, limit=request.size,
                          histogram=replace(allowed, undated=True) if request.histogram else None)
        found, relaxed = _run(backend, spec)
        loose, exact_total = False, found.total
        if parsed.accented and found.total < MIN_EXACT:
            wider = replace(parsed, loose=True)
            alt, alt_relaxed = _run(backend, replace(spec, query=wider))
            if alt.total > found.total or (relaxed and not alt_relaxed and alt.total):
                found, parsed, loose = alt, wider, True
                exact_total, relaxed = (0 if relaxed else exact_total), alt_relaxed
        suggestion = self._suggest(backend, parsed, request.q, 0 if relaxed else found.matched)
        corrected = None
        if suggestion and request.autocorrect and (not found.total or relaxed or loose):
            fixed = querylang.parse(suggestion)
            alt = backend.search(replace(spec, query=fixed, require_all=querylang.require_all(fixed)))
            if alt.total:
                found, parsed, corrected, loose, exact_total = alt, fixed, suggestion, False, alt.total
        undated = 0  # what the date range leaves out for want of a date
        if allowed.dated and not want_undated and dated_facets:
            undated = found.facets.get(dated_facets[0], {}).get(UNKNOWN, 0)
        marker = Marker(*querylang.highlight_terms(parsed))
        hits = [_hit(m.doc, m.score, marker, request.snippets) for m in found.hits]
        facets = {name: _facet_values(name, found.facets.get(name, {}), filters.get(name, []))
                  for name in counted}
        took = round((time.perf_counter() - started) * 1000, 2)
        return SearchResult(request.q, found.total, request.page, request.size, took, hits, facets,
                            suggestion, corrected, loose, exact_total if loose else found.total, undated, filters,
                            found.histogram)

    def _filters(self, backend: Backend, request: SearchRequest, parsed) -> dict[str, list[str]]:
        """Facet → indexed values, from the request's filters and the query's (province:…);
        a facet named in the query replaces the same facet's request filter."""
        out: dict[str, list[str]] = {}
        asked = {**{k: v for k, v in request.filters.items() if v}, **parsed.filters}
        for name, values in asked.items():
            facet = FACETS.get(name)
            if facet is None:
                raise BadQuery(f"unknown filter {name!r} (known: {', '.join(FACETS)})", parameter=name)
            chosen = out.setdefault(name, [])
            for raw in values:
                value = facet.canonical(raw)
                indexed = [value] if value == UNKNOWN else facet.matching(value, backend.facet_values(name))
                chosen.extend(v for v in indexed if v not in chosen)
        return out

    # -- "did you mean" --------------------------------------------------------------------

    def _suggest(self, backend: Backend, parsed, q: str, matched: int) -> str | None:
        """A corrected query, with diacritics, when a word is unknown or the query finds nothing
        even without the filters (`matched`). Words all known that find articles outside the
        filters are not corrected: the filters leave nothing, and
        "Nguyễn Nhân Chiến" in a province without him must not become "nguyên nhân Chiến".

        Misspelt syllables are corrected against the folded vocabulary (nearest first, then
        the one that best fits the rest of the query); diacritics are restored from the
        articles the corrected query finds, so "tran quoc cuongg" becomes "trần quốc cường",
        not the commonest "trận" or "cương"."""
        words = [w for c in parsed.clauses if not c.negated and not c.field for w in c.words]
        if not words or len(words) > SUGGEST_MAX_WORDS:
            return None
        corrected = [fold(normalize_token(w)) for w in words]
        # A word typed with diacritics is known when it is written so in some article.
        known = [not f.isalpha() or (backend.word_known(normalize_token(w), accented=True) if parsed.accented
                                     else backend.word_known(f)) for w, f in zip(words, corrected)]
        if all(known) and matched > 0:
            return None

        def count(text: str) -> int:
            return backend.search(SearchSpec(querylang.parse(text), require_all=True, limit=0)).matched

        def best_fit(i: int, near: list[str]) -> str:
            """Of the nearest words for word `i`, the first found side by side with the rest of
            the query in the most documents, then with all of it in the most. The phrase count
            is the costly one (positions): it is skipped for a word that cannot win, found with
            the other words in fewer documents than the best so far has them side by side."""
            if len(near) == 1:
                return near[0]
            best, best_counts = near[0], (-1, -1)
            for word in near:
                text = " ".join(corrected[:i] + [word] + corrected[i + 1:])
                together = count(text)
                if together < best_counts[0]:
                    continue
                counts = (count(f'"{text}"') if together else 0, together)
                if counts > best_counts:
                    best, best_counts = word, counts
            return best

        for i, f in enumerate(corrected):
            if known[i]:
                continue
            near = sorted((edit_distance(f, w), -df, w) for w, df in backend.near_words(f, SUGGEST_DISTANCE))
            near = [w for d, _, w in near if d == near[0][0]][:SUGGEST_CANDIDATES] if near else []
            if near:  # of the nearest words, the one that best fits the rest of the query
                corrected[i] = best_fit(i, near)
        best = backend.search(SearchSpec(querylang.parse(" ".join(corrected)), require_all=True,
                                         limit=SUGGEST_SAMPLE))
        if not best.hits:
            return None
        texts = [m.doc.get("title", "") + "\n" + m.doc.get("body", "") for m in best.hits]
        suggestion = " ".join(_restore_diacritics(corrected, texts))
        return None if normalize_token(suggestion) == normalize_token(q) else suggestion

    # -- one document ----------------------------------------------------------------------

    def document(self, doc_id: str, q: str = "", related: int = 5) -> Document:
        """The whole article `doc_id`, its text highlighted for `q`, with related articles."""
        backend = self.backend
        stored = backend.document(doc_id)
        if stored is None:
            raise UnknownDocument(doc_id)
        marker = Marker(*querylang.highlight_terms(querylang.parse(q))) if q.strip() else NO_MARKS
        body, title = stored.get("body", ""), stored.get("title", "")
        doc = Document(
            id=doc_id, title=title, date=_value(stored, "date"), province=_value(stored, "province"),
            province_2025=_value(stored, "province_2025"), secretary=_value(stored, "secretary"),
            source=_value(stored, "source"), url=_value(stored, "url"), body=body,
            outlet=_value(stored, "outlet"), conference=stored.get("conference"),
            term=_value(stored, "term"), author=_value(stored, "author"),
            body_html=mark(body, marker.spans(body)), title_html=mark(title, marker.spans(title)),
            facets={name: _value(stored, name) for name in FACETS},
        )
        if related:
            doc.related = self._related(backend, doc_id, stored, related)
        return doc

    def _related(self, backend: Backend, doc_id: str, stored: Mapping[str, Any], limit: int) -> list[Hit]:
        """More like this: articles sharing the article's telling words, raised when they
        share its province, its secretary or its period; those too little alike are left
        out, so the list may be shorter, never padded with unrelated stories."""
        ranked = []
        for m in backend.similar(doc_id, RELATED_POOL * limit):
            shared = sum(_value(stored, name) is not None and m.doc.get(name) == stored.get(name)
                         for name in RELATED_SAME)
            score = m.score * (1 + RELATED_BOOST * shared + RELATED_BOOST * _same_period(stored, m.doc))
            if score >= RELATED_MIN:
                ranked.append((score, m))
        ranked.sort(key=lambda sm: -sm[0])  # stable: the backend's order among equals
        return [_hit(m.doc, score, NO_MARKS) for score, m in ranked[:limit]]

    def health(self) -> dict[str, Any]:
        """``{"status": "ok", "backend", "documents", "generation", ...}``; raises when the
        index cannot be used (IndexMissing, StaleIndex...)."""
        return {"status": "ok", **self.backend.health()}


def _same_period(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two articles are dated within ``RELATED_DAYS`` of each other."""
    try:
        return abs((date.fromisoformat(a["date"]) - date.fromisoformat(b["date"])).days) <= RELATED_DAYS
    except (KeyError, TypeError, ValueError):
        return False


def open_index(location: str | Path) -> Index:
    """The index at `location`, opened now (raises IndexMissing / StaleIndex)."""
    index = Index(location)
    index.backend  # noqa: B018 - open it, so a missing index is reported here
    return index


# --- helpers of "did you mean" -------------------------------------------------------------

def _restore_diacritics(folded: list[str], texts: list[str]) -> list[str]:
    """Each folded word as the texts write it: its accented form (preferring pairs seen
    together), capitalised as the texts write the words together ("Trần Quốc Cường"), else
    as they write each word most ("hội nghị")."""
    unigrams: Counter = Counter()
    bigrams: Counter = Counter()
    surfaces: Counter = Counter()
    wanted = set(folded)
    runs: list[list[tuple[str, str]]] = []  # (accented, as written) of the wanted words in a row
    # The texts' syllables repeat: each written form is normalised once (a few thousand
    # syllables, a few hundred forms): (accented, as written in canonical tones) when wanted.
    forms: dict[str, tuple[str, str] | None] = {}
    for text in texts:
        previous = None
        run: list[tuple[str, str]] = []
        for surface in syllable_texts(text):
            if surface not in forms:
                a = normalize_token(surface)
                forms[surface] = (a, canonical_tones(surface)) if fold(a) in wanted else None
            form = forms[surface]
            if form is not None:
                a, written = form
                unigrams[a] += 1
                surfaces[a, written] += 1
                if previous:
                    bigrams[previous, a] += 1
                previous = a
                run.append(form)
            else:
                previous = None
                runs.append(run)
                run = []
        runs.append(run)
    chosen: list[str] = []
    for f in folded:
        forms = [a for a in unigrams if fold(a) == f] or [f]
        prev = chosen[-1] if chosen else None
        chosen.append(max(forms, key=lambda a: (bigrams[prev, a] if prev else 0, unigrams[a])))
    together: Counter = Counter()
    n = len(chosen)
    for run in runs:
        for i in range(len(run) - n + 1):
            if [a for a, _ in run[i:i + n]] == chosen:
                together[tuple(w for _, w in run[i:i + n])] += 1
    if together:
        return list(together.most_common(1)[0][0])
    return [max((c, w) for (x, w), c in surfaces.items() if x == a)[1] if unigrams[a] else a for a in chosen]


def _run(backend: Backend, spec: SearchSpec):
    """(the backend's answer, whether it is relaxed): an all-words query that finds nothing
    is asked again with any of its words."""
    found = backend.search(spec)
    if not found.matched and spec.require_all and len(querylang.content_clauses(spec.query)) > 1:
        return backend.search(replace(spec, require_all=False)), True
    return found, False
