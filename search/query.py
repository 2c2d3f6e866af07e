"""Answer a search: parse, filter, rank (BM25F), count facets, highlight, page, suggest.

``search(index_dir, SearchRequest) -> SearchResult``; Whoosh objects never leave this
module. Facet counts are disjunctive: each facet is counted with its own filter left out, so
the other values of a facet stay visible with true counts. Counts come from the facet
columns, and only the shown hits are highlighted.
"""

from __future__ import annotations

import gc
import re
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Mapping, Sequence

from whoosh import scoring

from . import querylang, ranking
from .errors import BadQuery, UnknownDocument
from .gazetteer import gazetteer, name_key
from .highlight import mark, matches, snippet
from .indexer import current_generation, open_index
from .ranking import IndexArrays
from .schema import FACETS, UNKNOWN
from .text import fold, nfc, normalize_token, syllables

__all__ = ["SearchRequest", "SearchResult", "Hit", "FacetValue", "Document", "search",
           "get_document", "request_from_params", "UNKNOWN_LABEL", "MAX_SIZE", "MAX_QUERY_CHARS"]

UNKNOWN_LABEL = "Không rõ"
MAX_SIZE = 100
MAX_QUERY_CHARS = 500
SORTS = ("relevance", "newest", "oldest")
WEIGHTING = scoring.BM25F(B=0.75, K1=1.2, title_B=0.5, title_fold_B=0.5)


@dataclass
class SearchRequest:
    """What the user asked for; filters accept any spelling."""

    q: str = ""
    province: Sequence[str] = ()
    province_2025: Sequence[str] = ()
    secretary: Sequence[str] = ()
    year: Sequence[str] = ()
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "relevance"
    page: int = 1
    size: int = 10

    def filters(self) -> dict[str, list[str]]:
        """Facet name → the values asked for."""
        return {name: list(getattr(self, name)) for name in FACETS if getattr(self, name)}


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
    filters: dict[str, list[str]] = field(default_factory=dict)  # canonical, for the UI

    def as_json(self) -> dict:
        """The documented JSON shape (ARCHITECTURE.md)."""
        out = asdict(self)
        out.pop("filters")
        for hit in out["hits"]:
            hit.pop("title_html")
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

    def as_json(self) -> dict:
        """The documented JSON shape, without the rendered HTML."""
        out = asdict(self)
        for key in ("body_html", "title_html"):
            out.pop(key)
        out["related"] = [{k: h[k] for k in ("id", "title", "date", "province")} for h in out["related"]]
        return out


# --- request parsing (shared by the web API and the CLI) -----------------------------------

def _parse_date(raw: str, name: str) -> date | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", raw) or None
    d = None
    if m:
        try:
            d = date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            d = None
    else:
        m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", raw)
        if m:
            try:
                d = date(int(m[3]), int(m[2]), int(m[1]))
            except ValueError:
                d = None
    if d is None:
        raise BadQuery(f"'{name}' must be a date like 2023-04-07 (got {raw!r})")
    return d


def _parse_int(raw: str | None, name: str, default: int, low: int, high: int) -> int:
    if raw is None or str(raw).strip() == "":
        return default
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise BadQuery(f"'{name}' must be a whole number (got {raw!r})") from None
    if not low <= value <= high:
        raise BadQuery(f"'{name}' must be between {low} and {high} (got {value})")
    return value


def request_from_params(get_one, get_all) -> SearchRequest:
    """Build a SearchRequest from request parameters; raises BadQuery for a bad one.

    `get_one(name)` returns one value or None, `get_all(name)` every value of a repeated one."""
    q = nfc(get_one("q") or "").strip()
    if len(q) > MAX_QUERY_CHARS:
        raise BadQuery(f"the query is too long ({len(q)} characters; at most {MAX_QUERY_CHARS})")
    sort = (get_one("sort") or "relevance").strip() or "relevance"
    if sort not in SORTS:
        raise BadQuery(f"'sort' must be one of {', '.join(SORTS)} (got {sort!r})")
    request = SearchRequest(
        q=q,
        province=[v for v in get_all("province") if v.strip()],
        province_2025=[v for v in get_all("province_2025") if v.strip()],
        secretary=[v for v in get_all("secretary") if v.strip()],
        year=[v for v in get_all("year") if v.strip()],
        date_from=_parse_date(get_one("from"), "from"),
        date_to=_parse_date(get_one("to"), "to"),
        sort=sort,
        page=_parse_int(get_one("page"), "page", 1, 1, 100_000),
        size=_parse_int(get_one("size"), "size", 10, 1, MAX_SIZE),
    )
    if request.date_from and request.date_to and request.date_from > request.date_to:
        raise BadQuery("'from' is after 'to'")
    for y in request.year:
        if not (re.fullmatch(r"\d{4}", y.strip()) or _is_unknown(y)):
            raise BadQuery(f"'year' must be a year like 2023 (got {y!r})")
    return request


# --- the searcher, kept open and refreshed when the index changes ------------------------

class _Searchers:
    """One open searcher (with its arrays) per index folder, replaced when CURRENT names a
    new generation: a running server picks up a reindex without a restart."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[str, tuple[str, object, IndexArrays]] = {}

    def get(self, index_dir: Path) -> IndexArrays:
        key = str(Path(index_dir).resolve())
        current = current_generation(Path(index_dir))
        generation = current["generation"] if current else None
        with self._lock:
            cached = self._open.get(key)
            if cached and cached[0] == generation:
                return cached[2]
            ix = open_index(Path(index_dir))  # raises IndexMissing / StaleIndex
            arrays = IndexArrays(ix.searcher(weighting=WEIGHTING))
            # The previous searcher is left to the garbage collector: a request may still use it.
            self._open[key] = (generation, ix, arrays)
            # The searcher's long-lived objects need no collecting: keeping them out of the
            # collector's scans avoids 30 ms pauses in the middle of queries.
            gc.freeze()
            return arrays


_searchers = _Searchers()


# --- filters and facets ------------------------------------------------------------------

def _is_unknown(value: str) -> bool:
    return fold(value.strip().lower()) in ("khong ro", UNKNOWN, "unknown")


def _canonical(facet: str, value: str) -> str:
    """The indexed value for a filter given in any spelling."""
    value = nfc(value).strip()
    if _is_unknown(value):
        return UNKNOWN
    g = gazetteer()
    if facet == "province":
        p = g.province(value)
        return p.short_name if p else value
    if facet == "province_2025":
        u = g.unit_2025(value)
        return u.short_name if u else value
    if facet == "secretary":
        terms = g.terms_of(value)
        return terms[0].name if terms else " ".join(w.capitalize() for w in value.split())
    return value


def _secretary_values(ix: IndexArrays, wanted: str) -> list[str]:
    """Indexed secretary names matching `wanted` in any tone style or without diacritics."""
    key = fold(name_key(wanted))
    return [v for v in ix.facets["secretary"][1] if fold(name_key(v)) == key] or [wanted]


def _facet_values(counts: dict[str, int], facet: str, selected: list[str]) -> list[FacetValue]:
    for value in selected:
        counts.setdefault(value, 0)
    values = [FacetValue(UNKNOWN_LABEL if v == UNKNOWN else v, c, v in selected)
              for v, c in counts.items() if v != ""]
    if facet == "year":
        values.sort(key=lambda f: (f.value == UNKNOWN_LABEL, -int(f.value) if f.value.isdigit() else 0))
    else:
        values.sort(key=lambda f: (-f.count, f.value == UNKNOWN_LABEL, f.value))
    return values


# --- the search --------------------------------------------------------------------------

def search(index_dir: Path, request: SearchRequest) -> SearchResult:
    """Run `request` against the index at `index_dir`."""
    started = time.perf_counter()
    ix = _searchers.get(index_dir)
    parsed = querylang.parse(request.q)
    filters: dict[str, list[str]] = {}
    for facet, values in {**request.filters(), **parsed.filters}.items():
        canon = [_canonical(facet, v) for v in values]
        if facet == "secretary":
            canon = [s for v in canon for s in (_secretary_values(ix, v) if v != UNKNOWN else [v])]
        filters.setdefault(facet, [])
        filters[facet].extend(v for v in canon if v not in filters[facet])

    scored = ranking.evaluate(ix, parsed, querylang.require_all(parsed))
    relaxed = False
    if not scored.mask.any() and len(querylang.content_clauses(parsed)) > 1:
        scored = ranking.evaluate(ix, parsed, require_all=False)  # nothing has every word
        relaxed = True
    base = scored.mask
    if request.date_from or request.date_to:
        base = base & ranking.date_mask(ix, _day_number(request.date_from), _day_number(request.date_to))
    allowed = {facet: ranking.facet_mask(ix, facet, values) for facet, values in filters.items()}

    facets = {}
    for facet in FACETS:  # each facet counted with the other facets' filters only
        mask = base
        for other, ok in allowed.items():
            if other != facet:
                mask = mask & ok
        facets[facet] = _facet_values(ranking.facet_counts(ix, facet, mask), facet, filters.get(facet, []))
    matching = base
    for ok in allowed.values():
        matching = matching & ok
    total = int(matching.sum())

    hits = _page(ix, scored, matching, total, request, parsed)
    suggestion = _suggest(ix, parsed, request.q, 0 if relaxed else total)
    took = round((time.perf_counter() - started) * 1000, 2)
    return SearchResult(request.q, total, request.page, request.size, took, hits, facets,
                        suggestion, filters)


def _day_number(day: date | None) -> int | None:
    return day.year * 10000 + day.month * 100 + day.day if day else None


def _page(ix: IndexArrays, scored, matching, total: int, request: SearchRequest, parsed) -> list[Hit]:
    """The requested page of hits, highlighted (only these are read and highlighted)."""
    first = (request.page - 1) * request.size
    if first >= total:
        return []
    if parsed.empty or request.sort != "relevance":
        docs = ranking.by_date(ix, matching, first + request.size, newest=request.sort != "oldest")
        chosen = [(d, float(scored.score[d])) for d in docs[first:]]
    else:
        chosen = ranking.top(ix, scored.score, matching, first + request.size)[first:]
    terms = querylang.highlight_terms(parsed)
    return [_hit(ix.searcher.stored_fields(d), score, terms) for d, score in chosen]


def _value(stored: dict, name: str) -> str | None:
    v = stored.get(name)
    return None if v in (None, "", UNKNOWN) else v


def _hit(stored: dict, score: float, terms) -> Hit:
    body, title = stored.get("body", ""), stored.get("title", "")
    return Hit(
        id=stored["id"], title=title, date=_value(stored, "date"),
        province=_value(stored, "province"), province_2025=_value(stored, "province_2025"),
        secretary=_value(stored, "secretary"), source=_value(stored, "source"), url=_value(stored, "url"),
        score=round(float(score), 4), snippet=snippet(body, matches(body, *terms)),
        title_html=mark(title, matches(title, *terms)),
    )


# --- "did you mean" ----------------------------------------------------------------------

def _edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def _suggest(ix: IndexArrays, parsed, q: str, total: int) -> str | None:
    """A corrected query, with diacritics, when a word is unknown or the query finds nothing.

    Misspelt syllables are corrected against the folded vocabulary (nearest first, then the
    most frequent); diacritics are restored from the articles the corrected query finds,
    so "tran quoc cuongg" becomes "trần quốc cường", not the commonest "trận" or "cương"."""
    words = [w for c in parsed.clauses if not c.negated and not c.field for w in c.words]
    if not words or len(words) > 8:
        return None
    reader = ix.searcher.reader()
    corrected = [fold(normalize_token(w)) for w in words]
    known = [bool(reader.doc_frequency("body_fold", f) or reader.doc_frequency("title_fold", f))
             or not f.isalpha() for f in corrected]
    if all(known) and total > 0:
        return None

    def found(candidate_words: list[str]) -> tuple[int, ...]:
        """(documents with the words side by side, documents with all of them)."""
        return tuple(int(ranking.evaluate(ix, querylang.parse(text), require_all=True).mask.sum())
                     for text in ('"%s"' % " ".join(candidate_words), " ".join(candidate_words)))

    for i, f in enumerate(corrected):
        if known[i]:
            continue
        near = sorted((_edit_distance(f, c), -reader.doc_frequency("body_fold", c), c)
                      for c in reader.terms_within("body_fold", f, 2, prefix=1))
        near = [c for d, _, c in near if d == near[0][0]][:5] if near else []
        if near:  # of the nearest words, the one that best fits the rest of the query
            corrected[i] = max(near, key=lambda c: found(corrected[:i] + [c] + corrected[i + 1:]))
    best = ranking.evaluate(ix, querylang.parse(" ".join(corrected)), require_all=True)
    stored = [ix.searcher.stored_fields(d) for d, _ in ranking.top(ix, best.score, best.mask, 5)]
    if not stored:
        return None
    suggestion = " ".join(_restore_diacritics(corrected, [f.get("title", "") + "\n" + f.get("body", "")
                                                          for f in stored]))
    return None if suggestion == normalize_token(q) else suggestion


def _restore_diacritics(folded: list[str], texts: list[str]) -> list[str]:
    """The accented form of each folded word as the texts write it, preferring pairs seen together."""
    unigrams: Counter = Counter()
    bigrams: Counter = Counter()
    wanted = set(folded)
    for text in texts:
        previous = None
        for s in syllables(text):
            a = normalize_token(s.text)
            if fold(a) in wanted:
                unigrams[a] += 1
                if previous:
                    bigrams[previous, a] += 1
                previous = a
            else:
                previous = None
    out: list[str] = []
    for f in folded:
        forms = [a for a in unigrams if fold(a) == f] or [f]
        prev = out[-1] if out else None
        out.append(max(forms, key=lambda a: (bigrams[prev, a] if prev else 0, unigrams[a])))
    return out


# --- one document ------------------------------------------------------------------------

def get_document(index_dir: Path, doc_id: str, q: str = "", related: int = 5) -> Document:
    """The whole article `doc_id`, its text highlighted for `q`, with related articles."""
    ix = _searchers.get(index_dir)
    searcher = ix.searcher
    docnum = searcher.document_number(id=doc_id)
    if docnum is None:
        raise UnknownDocument(f"no article with id {doc_id!r}")
    stored = searcher.stored_fields(docnum)
    terms = querylang.highlight_terms(querylang.parse(q)) if q.strip() else (set(), set(), [])
    body, title = stored.get("body", ""), stored.get("title", "")
    doc = Document(
        id=doc_id, title=title, date=_value(stored, "date"), province=_value(stored, "province"),
        province_2025=_value(stored, "province_2025"), secretary=_value(stored, "secretary"),
        source=_value(stored, "source"), url=_value(stored, "url"), body=body,
        outlet=_value(stored, "outlet"), conference=stored.get("conference"),
        term=_value(stored, "term"), author=_value(stored, "author"),
        body_html=mark(body, matches(body, *terms)), title_html=mark(title, matches(title, *terms)),
    )
    if related:
        doc.related = _related(ix, docnum, stored, related)
    return doc


def _related(ix: IndexArrays, docnum: int, stored: dict, limit: int) -> list[Hit]:
    """More like this: the article's most telling words, same province first."""
    scored = ranking.more_like(ix, docnum, stored.get("title", "") + "\n" + stored.get("body", ""))
    candidates = ranking.top(ix, scored.score, scored.mask, 4 * limit)
    same = stored.get("province")
    fields = [(ix.searcher.stored_fields(d), score) for d, score in candidates]
    fields.sort(key=lambda fs: same in (None, UNKNOWN) or fs[0].get("province") != same)  # stable
    empty = (set(), set(), [])
    return [_hit(f, score, empty) for f, score in fields[:limit]]
