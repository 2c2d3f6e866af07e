"""The distributed backend: an OpenSearch cluster stores, shards, replicates, scores and counts.

Location: ``opensearch+http://host:9200`` (several nodes: ``opensearch+http://h1:9200,h2:9200``),
optionally with the alias name as a path (``.../news``) or ``?alias=news`` (default
``vnsearch``), and ``?shards=3&replicas=1`` for the indexes a reindex creates (default 1
and 0). ``VNSEARCH_BACKEND`` or ``--backend`` pass it to the CLI and the web app.

Analysis stays ours. Each document is sent with, per text field, the three streams of
``search/scoring.py`` produced by ``search/analysis.py`` (accented and folded syllables,
pyvi compounds) as whitespace-joined tokens, into fields mapped with OpenSearch's
``whitespace`` analyzer and a BM25 similarity per stream with the K1/B of ``scoring.py``.
So segmentation, tone canon and folding are the embedded backend's, with no plugin.

Searching mirrors ``ranking.evaluate`` clause by clause: what only matches goes into
``bool.filter``, what only scores into ``should``, a clause's abbreviation forms into a
``dis_max`` (the best form's score), so a document's score is the same sum of per-stream
BM25s as the embedded engine's (OpenSearch's "BM25" keeps the ``(k1 + 1)`` numerator of
``ranking.py``: Lucene's LegacyBM25Similarity). ``dfs_query_then_fetch`` gives every shard the global statistics.
What remains different is the document length each engine keeps (both store it in one
lossy byte, with different encodings) and the average length (Lucene's is exact): scores
agree within 10 % (9 % at most seen; tests/test_opensearch_backend.py), and only documents
scoring that close may come in another order.

Writing: a reindex builds a NEW concrete index (``<alias>-<time>-<random>``): empty for a
full one, a ``_clone`` of the live index for an incremental one (segments are hard-linked,
so it takes a second whatever the size), then ``_bulk`` sends the changed documents
(analysed in local worker processes for large changes) and deletes the removed ones.
Commit refreshes, checks the count, and moves the alias in one ``_aliases`` call; the
index before stays (the previous state), older ones are deleted. A failed reindex deletes
its new index; the alias never moved. One reindex at a time: a lock document created with
``op_type=create`` in the ``vnsearch-locks`` index, removed at the end.
"""

from __future__ import annotations

import multiprocessing
import os
import secrets
import signal
import socket
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Iterable, Iterator, Mapping
from urllib.parse import parse_qs, urlsplit

from opensearchpy import OpenSearch
from opensearchpy import exceptions as oe

from ..analysis import accented_analyzer, compound_analyzer, compound_words, folded_analyzer
from ..errors import BackendUnavailable, IndexMissing, ReindexBusy, StaleIndex, VnsearchError
from ..facets import FACETS
from ..querylang import Clause, ParsedQuery, compound_terms
from ..schema import SCHEMA_VERSION
from ..scoring import B, COMPOUND, EXACT, FIELD_BOOST, FOLDED_WHEN_EXACT, K1, TEXT_FIELDS, all_streams, idf, stream
from ..store import die_with_parent, process_alive
from ..text import edit_distance, fold, normalize_token
from . import UNDATED, Filters, Match, Matches, SearchSpec
# The related articles' choice of words, shared with the embedded engine (one definition).
from .ranking import COMMON_SHARE, TELLING_TERMS, TITLE_TELLS, _telling

__all__ = ["OpenSearchBackend", "OpenSearchWriter", "open_backend", "open_writer", "MAPPING_VERSION",
           "BackendError", "analysed", "index_body", "parse_location"]

# Bump when the mapping or what is sent changes: an index built with another version (or
# another analysis, schema.SCHEMA_VERSION) is refused until `vnsearch reindex --full`.
MAPPING_VERSION = 1
DEFAULT_ALIAS = "vnsearch"
LOCK_INDEX = "vnsearch-locks"
LOCK_STALE_SECONDS = 10 * 60  # a lock whose owner has not written for this long is abandoned
HEARTBEAT_SECONDS = 30
BATCH_DOCS = 200  # documents per _bulk request (a few MB of text and streams)
PARALLEL_MIN_DOCS = 64  # below this, starting worker processes costs more than it saves
RETRIES = 6  # attempts of a _bulk on 429, 5xx, a timeout or a lost connection (0.5 s doubling)
FACET_SIZE = 10_000  # terms buckets per facet: more than any facet has values (counts stay exact)
MAX_RESULT_WINDOW = 10_000_000  # query.MAX_PAGE × MAX_SIZE: every page the embedded backend serves
SEARCH_TYPE = "dfs_query_then_fetch"
BODY_FOLD, TITLE_FOLD = stream("body", "folded"), stream("title", "folded")
HIDDEN = ("seq", "date_num")  # indexed for sorting and ranges, not part of a stored document


class BackendError(VnsearchError):
    """The cluster refused a request (a 4xx other than 404): a mapping or query it cannot take."""


# --- location and connection -----------------------------------------------------------------

def parse_location(location: str) -> dict[str, Any]:
    """``opensearch+http://h1:9200,h2:9200/alias?shards=3&replicas=1`` → hosts, alias, shards..."""
    text = location.removeprefix("opensearch+")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BackendUnavailable(f"not an OpenSearch location: {location!r} "
                                 "(expected opensearch+http://host:9200[/alias])")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    alias = (parts.path.strip("/") or query.get("alias") or DEFAULT_ALIAS).lower()
    hosts = [f"{parts.scheme}://{h}" for h in parts.netloc.split(",") if h]
    try:
        shards, replicas = int(query.get("shards", 1)), int(query.get("replicas", 0))
    except ValueError:
        raise BackendUnavailable(f"shards and replicas must be whole numbers in {location!r}") from None
    shown = ",".join(h.split("@")[-1] for h in parts.netloc.split(","))  # no password in messages
    return {"hosts": hosts, "alias": alias, "shards": shards, "replicas": replicas,
            "explicit_shards": "shards" in query, "where": f"{parts.scheme}://{shown}"}


def _client(hosts: list[str]) -> OpenSearch:
    # Requests fail over to the other nodes (a dead one is retried after a while); a timeout is
    # retried elsewhere too.
    return OpenSearch(hosts=hosts, timeout=30, max_retries=len(hosts), retry_on_timeout=True)


def _unavailable(where: str, error: Exception) -> BackendUnavailable:
    detail = getattr(error, "error", None) or type(error).__name__
    info = getattr(error, "info", None)
    if isinstance(error, oe.ConnectionError):
        info = getattr(error, "info", None)
        detail = f"{type(info).__name__}: {info}" if isinstance(info, Exception) else str(error)
    elif isinstance(info, dict):
        reason = (info.get("error") or {}).get("reason") if isinstance(info.get("error"), dict) else info.get("error")
        detail = f"{getattr(error, 'status_code', '')} {reason or detail}".strip()
    out = BackendUnavailable(f"the search cluster at {where} is unavailable: {' '.join(str(detail).split())[:300]}")
    out.location, out.detail = where, str(detail)
    return out


@contextmanager
def _calling(where: str) -> Iterator[None]:
    """The client's failures as vnsearch errors: unreachable, timed out, overloaded or failing
    (5xx, 429) → BackendUnavailable; another refusal → BackendError. 404s stay NotFoundError."""
    try:
        yield
    except oe.NotFoundError:
        raise
    except oe.ConnectionError as e:  # ConnectionTimeout and SSLError included
        raise _unavailable(where, e) from None
    except oe.TransportError as e:
        status = e.status_code if isinstance(e.status_code, int) else 503
        if status >= 500 or status == 429:
            raise _unavailable(where, e) from None
        raise BackendError(f"the search cluster at {where} refused a request ({status}): {e.error}: "
                           f"{str(e.info)[:300]}") from None


def open_backend(location: str) -> "OpenSearchBackend":
    """The index the alias of `location` points to (IndexMissing, StaleIndex, BackendUnavailable)."""
    return OpenSearchBackend(location)


def open_writer(location: str) -> "OpenSearchWriter":
    return OpenSearchWriter(location)


def _alias_target(client: OpenSearch, alias: str) -> str | None:
    """The concrete index `alias` points to, or None."""
    try:
        found = client.indices.get_alias(name=alias)
    except oe.NotFoundError:
        return None
    return sorted(found)[0] if found else None


def _meta(client: OpenSearch, index: str) -> dict:
    mapping = client.indices.get_mapping(index=index)
    return (next(iter(mapping.values()))["mappings"].get("_meta") or {}).get("vnsearch") or {}


def _check_meta(meta: dict, where: str) -> None:
    found = (meta.get("mapping_version"), meta.get("schema_version"))
    if found != (MAPPING_VERSION, SCHEMA_VERSION):
        raise StaleIndex(where, f"{found[0]}/{found[1]}", f"{MAPPING_VERSION}/{SCHEMA_VERSION} (mapping/schema)")
    missing = [name for name in FACETS if name not in meta.get("facets", ())]
    if missing:
        raise StaleIndex(where, SCHEMA_VERSION, SCHEMA_VERSION, missing_facets=missing)


# --- the index: settings, mapping, documents -----------------------------------------------

def index_body(alias: str, shards: int, replicas: int, corpus: str = "") -> dict:
    """Settings and mapping of a concrete index vnsearch builds."""
    text = {"type": "text", "analyzer": "whitespace", "search_analyzer": "whitespace"}
    streams = {
        name: {**text, "similarity": f"bm25_{name}",
               # positions for the syllable streams (phrases); compounds only boost
               "index_options": "freqs" if name.endswith("_word") else "positions"}
        for name in all_streams()
    }
    keyword = {"type": "keyword"}
    return {
        "settings": {
            "number_of_shards": shards, "number_of_replicas": replicas,
            "refresh_interval": "-1",  # the data changes only in a build, which refreshes at commit
            "max_result_window": MAX_RESULT_WINDOW,
            "similarity": {f"bm25_{name}": {"type": "BM25", "k1": K1, "b": B[name]} for name in all_streams()},
        },
        "mappings": {
            "dynamic": False,  # stored fields (source, url, ...) are kept in _source, not indexed
            "_source": {"excludes": ["s.*"]},  # the token streams are indexed, not stored
            "_meta": {"vnsearch": {"mapping_version": MAPPING_VERSION, "schema_version": SCHEMA_VERSION,
                                   "facets": list(FACETS), "alias": alias, "corpus": corpus,
                                   "created_at": _now()}},
            "properties": {
                "id": keyword, "hash": {"type": "keyword", "index": False},
                "seq": {"type": "long"},  # the order documents were added: the embedded docnum order
                "date": keyword, "date_num": {"type": "integer"},  # YYYYMMDD, absent when undated
                **{name: keyword for name in FACETS},
                "s": {"properties": streams},
            },
        },
    }


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


_ANALYZERS: dict[str, Any] = {}


def analysed(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A document as sent: its fields (None left out) and ``s``, each stream of each text field
    as the tokens of ``search/analysis.py`` joined by spaces (pyvi runs here)."""
    if not _ANALYZERS:
        _ANALYZERS.update(accented=accented_analyzer(), folded=folded_analyzer(), compound=compound_analyzer())
    out = {k: v for k, v in doc.items() if v is not None}
    out["s"] = {stream(name, kind): " ".join(t.text for t in analyzer(doc.get(name) or ""))
                for name in TEXT_FIELDS for kind, analyzer in _ANALYZERS.items()}
    return out


def _stored(source: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in source.items() if k not in HIDDEN and k != "s"}


# --- queries: ranking.evaluate, clause by clause --------------------------------------------

def _field(name: str) -> str:
    return f"s.{name}"


def _term(name: str, term: str, weight: float | None = None) -> dict:
    """A term of one stream; with `weight`, it scores weight × BM25 as ranking._term does
    (OpenSearch's "BM25" is Lucene's LegacyBM25Similarity, with the (k1 + 1) numerator)."""
    if weight is None:
        return {"term": {_field(name): term}}
    return {"term": {_field(name): {"value": term, "boost": weight}}}


def _any(queries: list[dict]) -> dict:
    return queries[0] if len(queries) == 1 else {"bool": {"should": queries, "minimum_should_match": 1}}


def _fields(clause: Clause) -> tuple[str, ...]:
    return ("title",) if clause.field == "title" else TEXT_FIELDS


def _word(word: str, fields: tuple[str, ...], reading: str) -> tuple[list[dict], list[dict]]:
    """(queries that match, queries that score) of one word (ranking._words_scored)."""
    accented = normalize_token(word)
    folded = fold(accented)
    match, score = [], []
    for name in fields:
        if reading != "folded":
            match.append(_term(name, accented))
            score.append(_term(name, accented, FIELD_BOOST[name] * EXACT))
            score.append(_term(stream(name, "folded"), folded, FIELD_BOOST[name] * FOLDED_WHEN_EXACT))
            if reading == "loose":
                match.append(_term(stream(name, "folded"), folded))
        else:
            match.append(_term(stream(name, "folded"), folded))
            score.append(_term(stream(name, "folded"), folded, FIELD_BOOST[name]))
    return match, score


def _form(words: list[str], fields: tuple[str, ...], reading: str) -> tuple[dict, dict]:
    """(match, score) of a word or a phrase (ranking._form): a word scores wherever one of its
    terms is (also where it does not match); a phrase only where it matches."""
    if len(words) == 1:
        match, score = _word(words[0], fields, reading)
        return _any(match), {"bool": {"should": score}}
    score = [q for w in words for q in _word(w, fields, reading)[1]]
    phrases = []
    for name in fields:
        if reading != "folded":
            phrases.append({"match_phrase": {_field(name): " ".join(normalize_token(w) for w in words)}})
        if reading != "exact":
            phrases.append({"match_phrase": {_field(stream(name, "folded")):
                                             " ".join(fold(normalize_token(w)) for w in words)}})
    match = _any(phrases)
    return match, {"bool": {"filter": [match], "should": score}}


def _clause(clause: Clause, reading: str) -> tuple[dict, dict]:
    """(match, score): any form matches; the best form's score (ranking._clause's maximum)."""
    forms = [_form(f, _fields(clause), reading) for f in [clause.words, *clause.alternatives]]
    if len(forms) == 1:
        return forms[0]
    return _any([m for m, _ in forms]), {"dis_max": {"queries": [s for _, s in forms], "tie_breaker": 0.0}}


def _group(group: list[Clause], require_all: bool, reading: str) -> dict | None:
    positive = [c for c in group if not c.negated]
    content = [c for c in positive if not c.stop] or positive
    if not content:
        return None
    clauses = [_clause(c, reading) for c in content]
    matches = [m for m, _ in clauses]
    mask: dict = {"filter": matches} if require_all else {"should": matches, "minimum_should_match": 1}
    negated = [_clause(c, reading)[0] for c in group if c.negated]
    if negated:
        mask["must_not"] = negated
    should = [s for _, s in clauses]
    should += [_term(field, term, FIELD_BOOST[name] * COMPOUND)
               for name, field, term in compound_terms(positive, reading != "folded")]
    return {"bool": {"filter": [{"bool": mask}], "should": should}}


def query_of(parsed: ParsedQuery, require_all: bool) -> dict:
    """The bool query whose matches and scores are ranking.evaluate's."""
    groups = [g for g in (_group(g, require_all, parsed.reading) for g in parsed.groups) if g]
    if not groups:  # nothing but negations: every document they leave, score 0
        negated = [_clause(c, parsed.reading)[0] for c in parsed.clauses if c.negated]
        return {"bool": {"filter": [{"match_all": {}}], **({"must_not": negated} if negated else {})}}
    return groups[0] if len(groups) == 1 else {"bool": {"should": groups, "minimum_should_match": 1}}


def filter_of(filters: Filters) -> dict | None:
    """Facet values (OR within a facet, AND across) and the date range, as a filter."""
    clauses: list[dict] = [{"terms": {facet: list(values)}} for facet, values in filters.values.items()]
    if filters.dated:
        span = {k: v for k, v in (("gte", filters.date_from), ("lte", filters.date_to)) if v is not None}
        dated = {"range": {"date_num": span}}
        clauses.append(_any([dated, {"bool": {"must_not": [{"exists": {"field": "date_num"}}]}}])
                       if filters.undated else dated)
    return {"bool": {"filter": clauses}} if clauses else None


def _histogram(agg: dict) -> dict[str, int]:
    """Matches.histogram from the month buckets (keys YYYYMM00) and the undated count."""
    out = {}
    for b in agg["months"]["buckets"]:
        month = int(b["key"]) // 100
        out[f"{month // 100:04d}-{month % 100:02d}"] = b["doc_count"]
    if agg["undated"]["doc_count"]:
        out[UNDATED] = agg["undated"]["doc_count"]
    return out


SORTS = {
    "relevance": [{"_score": "desc"}, {"seq": "asc"}],
    "newest": [{"date_num": {"order": "desc", "missing": "_last"}}, {"seq": "asc"}],
    "oldest": [{"date_num": {"order": "asc", "missing": "_last"}}, {"seq": "asc"}],
}


# --- the read side ---------------------------------------------------------------------------

class OpenSearchBackend:
    """The concrete index an alias pointed to when opened."""

    name = "opensearch"
    search_type = SEARCH_TYPE  # tests set "query_then_fetch" to show what per-shard statistics do

    def __init__(self, location: str):
        self.config = parse_location(location)
        self.where, self.alias = self.config["where"], self.config["alias"]
        self.location = f"{self.where}/{self.alias}"
        self.client = _client(self.config["hosts"])
        with self._calling():
            target = _alias_target(self.client, self.alias)
            if target is None:
                raise IndexMissing(self.location)
            self.meta = _meta(self.client, target)
        _check_meta(self.meta, self.location)
        self.generation = target

    def _calling(self):
        return _calling(self.where)

    def is_current(self) -> bool:
        try:
            with self._calling():
                return _alias_target(self.client, self.alias) == self.generation
        except BackendUnavailable:
            return True  # unreachable: the search itself says so (503), no reopening meanwhile

    def _search(self, body: dict, search_type: str | None = None, **params) -> dict:
        with self._calling():
            return self.client.search(index=self.generation, body=body,
                                      search_type=search_type or self.search_type,
                                      allow_partial_search_results="false", **params)

    def search(self, spec: SearchSpec) -> Matches:
        aggs: dict[str, Any] = {"_matched": {"filter": {"match_all": {}}}}
        for facet, filters in spec.facets.items():
            aggs[facet] = {"filter": filter_of(filters) or {"match_all": {}},
                           "aggs": {"values": {"terms": {"field": facet, "size": FACET_SIZE}}}}
        if spec.histogram is not None:  # date_num is YYYYMMDD: buckets of 100 are months
            aggs["_histogram"] = {"filter": filter_of(spec.histogram) or {"match_all": {}}, "aggs": {
                "months": {"histogram": {"field": "date_num", "interval": 100, "min_doc_count": 1}},
                "undated": {"missing": {"field": "date_num"}}}}
        body: dict[str, Any] = {"query": query_of(spec.query, spec.require_all), "aggs": aggs,
                                "from": spec.offset if spec.limit > 0 else 0, "size": max(spec.limit, 0),
                                "track_total_hits": True, "track_scores": True,
                                "sort": SORTS[spec.sort]}
        post = filter_of(spec.filters)
        if post:
            body["post_filter"] = post
        found = self._search(body)
        result = found["aggregations"]
        facets = {facet: {b["key"]: b["doc_count"] for b in result[facet]["values"]["buckets"]}
                  for facet in spec.facets}
        hits = [Match(_stored(h["_source"]), float(h["_score"] or 0.0)) for h in found["hits"]["hits"]]
        histogram = _histogram(result["_histogram"]) if spec.histogram is not None else {}
        return Matches(result["_matched"]["doc_count"], found["hits"]["total"]["value"], hits, facets, histogram)

    def _get(self, doc_id: str) -> dict | None:
        found = self._search({"query": {"term": {"id": doc_id}}, "size": 1}, search_type="query_then_fetch")
        hits = found["hits"]["hits"]
        return hits[0] if hits else None

    def document(self, doc_id: str) -> dict[str, Any] | None:
        hit = self._get(doc_id)
        return None if hit is None else _stored(hit["_source"])

    def similar(self, doc_id: str, limit: int) -> list[Match]:
        """ranking.more_like, term for term: the article's telling words (``ranking._telling``:
        dictionary words and names in the compound stream, other syllables as written; title
        words counting more), weighted tf·idf with document frequencies from one filters
        aggregation, each scoring weight × BM25; scores relative to the article's own."""
        hit = self._get(doc_id)
        if hit is None:
            return []
        stored = hit["_source"]
        counts = _telling(stored.get("body", ""))
        for key, n in _telling(stored.get("title", "")).items():
            counts[key] += TITLE_TELLS * n
        if not counts:
            return []
        keys = {f"{i}": key for i, key in enumerate(counts)}
        found = self._search({"size": 0, "track_total_hits": True, "query": {"match_all": {}}, "aggs": {
            "df": {"filters": {"filters": {k: _term(f, t) for k, (f, t) in keys.items()}}}}},
            search_type="query_then_fetch")
        n = found["hits"]["total"]["value"]
        buckets = found["aggregations"]["df"]["buckets"]
        weighted = []
        for k, (field, term) in keys.items():
            df = buckets[k]["doc_count"]
            if 1 < df < max(3, n // COMMON_SHARE):  # words of one document, or of most, tell nothing
                weighted.append((counts[field, term] * idf(n, df), field, term))
        chosen = sorted(weighted, reverse=True)[:TELLING_TERMS]
        if not chosen:
            return []
        should = [_term(field, term, weight) for weight, field, term in chosen]
        searches = [{"query": {"bool": {"should": should, "filter": [{"term": {"id": doc_id}}]}}, "size": 1},
                    {"query": {"bool": {"should": should, "minimum_should_match": 1,
                                        "must_not": [{"term": {"id": doc_id}}]}},
                     "size": limit, "sort": SORTS["relevance"], "track_scores": True}]
        lines = [part for body in searches for part in ({"index": self.generation}, body)]
        with self._calling():
            itself, others = self.client.msearch(body=lines, search_type=self.search_type)["responses"]
        for reply in (itself, others):
            if "error" in reply:
                raise _unavailable(self.where, RuntimeError(str(reply["error"])[:300]))
        own = itself["hits"]["hits"][0]["_score"] if itself["hits"]["hits"] else 0.0
        scale = 1.0 / own if own else 1.0
        return [Match(_stored(h["_source"]), float(h["_score"]) * scale) for h in others["hits"]["hits"]]

    def facet_values(self, facet: str) -> list[str]:
        found = self._search({"size": 0, "aggs": {"v": {"terms": {"field": facet, "size": FACET_SIZE}}}},
                             search_type="query_then_fetch")
        return [b["key"] for b in found["aggregations"]["v"]["buckets"]]

    def word_known(self, word: str, accented: bool = False) -> bool:
        fields = TEXT_FIELDS if accented else (BODY_FOLD, TITLE_FOLD)
        found = self._search({"size": 0, "track_total_hits": 1, "terminate_after": 1,
                              "query": _any([_term(f, word) for f in fields])}, search_type="query_then_fetch")
        return found["hits"]["total"]["value"] > 0

    def near_words(self, folded: str, distance: int) -> list[tuple[str, int]]:
        """Folded body words within `distance` edits sharing the first letter, with their
        document frequencies: the term suggester (Lucene's DirectSpellChecker over the terms
        of every shard, frequencies summed), kept to plain Levenshtein distance as Whoosh's
        terms_within counts it (the suggester counts a transposition as one edit)."""
        if not folded:
            return []
        found = self._search({"size": 0, "suggest": {"near": {"text": folded, "term": {
            "field": _field(BODY_FOLD), "analyzer": "whitespace", "max_edits": min(max(distance, 1), 2),
            "prefix_length": 1, "min_word_length": 1, "suggest_mode": "always", "accuracy": 0.0,
            "size": 100, "shard_size": 1000, "max_inspections": 50, "max_term_freq": 1.0,
            "string_distance": "internal", "sort": "frequency"}}}}, search_type="query_then_fetch")
        out = {}
        for entry in found.get("suggest", {}).get("near", []):
            for option in entry["options"]:
                word = option["text"]
                if edit_distance(folded, word) <= distance and word[:1] == folded[:1]:
                    out[word] = option["freq"]
        with self._calling():  # the word itself, when it is there (terms_within includes it)
            df = self.client.count(index=self.generation, body={"query": _term(BODY_FOLD, folded)})["count"]
        if df:
            out[folded] = df
        return sorted(out.items())

    def health(self) -> dict[str, Any]:
        with self._calling():
            cluster = self.client.cluster.health(request_timeout=10)
            documents = self.client.count(index=self.generation)["count"]
            target = _alias_target(self.client, self.alias)
        if cluster["status"] == "red":
            raise BackendUnavailable(f"the search cluster at {self.where} is red "
                                     f"({cluster['unassigned_shards']} shards unassigned)")
        return {"backend": self.name, "documents": documents, "generation": self.generation,
                "alias": self.alias, "alias_points_to": target, "built_at": self.meta.get("committed_at"),
                "cluster": {k: cluster[k] for k in ("cluster_name", "status", "number_of_nodes",
                                                    "active_shards", "unassigned_shards")},
                "hosts": self.where}

    def close(self) -> None:
        self.client.close()


# --- the write side --------------------------------------------------------------------------

class OpenSearchWriter:
    """The write side of an alias: the lock, the live hashes, new builds."""

    def __init__(self, location: str):
        self.config = parse_location(location)
        self.where, self.alias = self.config["where"], self.config["alias"]
        self.location = f"{self.where}/{self.alias}"
        self.client = _client(self.config["hosts"])
        self._beat = 0.0

    def _calling(self):
        return _calling(self.where)

    # -- the lock ----------------------------------------------------------------------------

    @contextmanager
    def lock(self):
        """One reindex per alias: a document `alias` in ``vnsearch-locks``, created with
        op_type=create (only one creation can succeed). A lock whose owner is a dead process
        of this host, or whose heartbeat (written every 30 s by a running reindex) is older
        than 10 minutes, is cleared and taken."""
        with self._calling():
            self._take()
        try:
            yield self
        finally:
            try:
                with self._calling():
                    self.client.delete(index=LOCK_INDEX, id=self.alias, refresh=True)
            except (oe.NotFoundError, BackendUnavailable, BackendError):
                pass

    def _take(self) -> None:
        try:
            self.client.indices.create(index=LOCK_INDEX, body={"settings": {
                "number_of_shards": 1, "auto_expand_replicas": "0-1", "index.hidden": True},
                "mappings": {"dynamic": False}})  # read by id only
        except oe.RequestError as e:
            if e.error != "resource_already_exists_exception":
                raise
        owner = {"host": socket.gethostname(), "pid": os.getpid(), "started": _now(), "heartbeat": time.time()}
        for _ in range(2):
            try:
                self.client.index(index=LOCK_INDEX, id=self.alias, body=owner, op_type="create", refresh=True)
                self._beat = time.monotonic()
                return
            except oe.ConflictError:
                pass
            try:
                held = self.client.get(index=LOCK_INDEX, id=self.alias)
            except oe.NotFoundError:
                continue  # released meanwhile
            h = held["_source"]
            dead = h.get("host") == owner["host"] and not process_alive(int(h.get("pid", 0)))
            silent = time.time() - float(h.get("heartbeat", 0)) > LOCK_STALE_SECONDS
            if not (dead or silent):
                raise ReindexBusy(f"another reindex of {self.location} is running (process {h.get('pid')} on "
                                  f"{h.get('host')}, since {h.get('started')}); wait for it to finish")
            try:  # only the lock we read: another run may have cleared it and taken it since
                self.client.delete(index=LOCK_INDEX, id=self.alias, if_seq_no=held["_seq_no"],
                                   if_primary_term=held["_primary_term"], refresh=True)
            except (oe.ConflictError, oe.NotFoundError):
                pass
        raise ReindexBusy(f"another reindex of {self.location} took the lock just now; try again")

    def heartbeat(self) -> None:
        """Tell other runs the lock's owner is alive (at most every HEARTBEAT_SECONDS)."""
        if time.monotonic() - self._beat < HEARTBEAT_SECONDS:
            return
        self._beat = time.monotonic()
        try:
            with self._calling():
                self.client.update(index=LOCK_INDEX, id=self.alias, body={"doc": {"heartbeat": time.time()}})
        except oe.NotFoundError:
            raise ReindexBusy(f"the lock on {self.location} was cleared by another run (this one was "
                              f"silent for {LOCK_STALE_SECONDS // 60} minutes); the alias was not moved") from None

    # -- what is there -----------------------------------------------------------------------

    def live(self) -> str | None:
        """The concrete index the alias points to, if it is usable by this vnsearch."""
        with self._calling():
            target = _alias_target(self.client, self.alias)
            if target is None:
                return None
            try:
                _check_meta(_meta(self.client, target), self.location)
            except StaleIndex:
                return None
            if self.config["explicit_shards"]:  # a clone keeps the live index's shards
                settings = self.client.indices.get_settings(index=target, name="index.number_of_shards")
                if int(settings[target]["settings"]["index"]["number_of_shards"]) != self.config["shards"]:
                    return None
        return target

    def known(self) -> dict[str, str] | None:
        target = self.live()
        if target is None:
            return None
        out: dict[str, str] = {}
        after = None
        with self._calling():
            while True:
                body = {"size": 10_000, "sort": [{"seq": "asc"}], "_source": ["id", "hash"],
                        "query": {"match_all": {}}}
                if after is not None:
                    body["search_after"] = after
                hits = self.client.search(index=target, body=body)["hits"]["hits"]
                for h in hits:
                    out[h["_source"]["id"]] = h["_source"]["hash"]
                if len(hits) < 10_000:
                    return out
                after = hits[-1]["sort"]

    def clear_unfinished(self) -> list[str]:
        """Delete indexes of this alias that crashed reindexes left uncommitted (holding the lock)."""
        with self._calling():
            cleared = [name for name, meta in self._ours().items() if not meta.get("committed_at")]
            for name in cleared:
                self.client.indices.delete(index=name)
        return cleared

    def _ours(self) -> dict[str, dict]:
        """Concrete index → vnsearch _meta, for the indexes built for this alias."""
        try:
            found = self.client.indices.get_mapping(index=f"{self.alias}-*")
        except oe.NotFoundError:
            return {}
        out = {}
        for name, body in found.items():
            meta = (body["mappings"].get("_meta") or {}).get("vnsearch") or {}
            if meta.get("alias") == self.alias:
                out[name] = meta
        return out

    def begin(self, incremental: bool, workers: int, corpus: str = "") -> "OpenSearchBuild":
        return OpenSearchBuild(self, self.live() if incremental else None, workers, corpus)


def _die_with_parent() -> None:
    """In an analysis worker: be killed with the reindex (``store.die_with_parent``)."""
    die_with_parent(os.getppid())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which cancels


class OpenSearchBuild:
    """A new concrete index, created only once there is something to change."""

    def __init__(self, writer: OpenSearchWriter, live: str | None, workers: int, corpus: str):
        self.writer, self.client, self.live = writer, writer.client, live
        self.workers, self.corpus = workers, corpus
        self.index: str | None = None
        self.pending: list[dict] = []
        self.pool = None
        self.seq = 0
        self.sent = 0  # documents sent to the new index (the changed ones)
        self.switched = False

    def _calling(self):
        return self.writer._calling()

    def _start(self) -> None:
        alias = self.writer.alias
        self.index = f"{alias}-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
        cfg = self.writer.config
        with self._calling():
            if self.live:
                # A copy of the live index in a second (hard-linked segments); it must be
                # read-only to be cloned, which it is anyway: only builds write, into new indexes.
                self.client.indices.put_settings(index=self.live, body={"index.blocks.write": True})
                self.client.indices.clone(index=self.live, target=self.index, body={"settings": {
                    "index.blocks.write": None, "index.number_of_replicas": cfg["replicas"]}},
                    wait_for_active_shards=1, request_timeout=120)
                meta = _meta(self.client, self.index)
                meta.pop("committed_at", None)
                self.client.indices.put_mapping(index=self.index, body={"_meta": {"vnsearch": {
                    **meta, "created_at": _now(), "cloned_from": self.live, "corpus": self.corpus}}})
                top = self.client.search(index=self.index, body={"size": 0, "aggs": {"seq": {"max": {"field": "seq"}}}})
                self.seq = int(top["aggregations"]["seq"]["value"] or 0) + 1
            else:
                self.client.indices.create(index=self.index, body=index_body(alias, cfg["shards"], cfg["replicas"],
                                                                             self.corpus),
                                           wait_for_active_shards=1, request_timeout=120)

    def add(self, doc: Mapping[str, Any], update: bool) -> None:
        """Queue one document (an update replaces the old version: same _id, a new seq)."""
        if self.index is None:
            self._start()
        day = doc.get("date") or ""
        fields = {**doc, "seq": self.seq, "date_num": int(day.replace("-", "")) if day else None}
        self.seq += 1
        self.pending.append(fields)
        if len(self.pending) >= BATCH_DOCS:
            self._flush()

    def _analyse(self, docs: list[dict]) -> list[dict]:
        if self.workers > 1 and len(docs) >= PARALLEL_MIN_DOCS:
            if self.pool is None:
                compound_words("Khởi động")  # pyvi loaded before forking: the workers share it
                self.pool = multiprocessing.get_context("fork").Pool(self.workers, initializer=_die_with_parent)
            return self.pool.map(analysed, docs, chunksize=max(1, len(docs) // (4 * self.workers)))
        return [analysed(d) for d in docs]

    def _flush(self) -> None:
        docs, self.pending = self.pending, []
        if not docs:
            return
        actions: list[dict] = []
        for d in self._analyse(docs):
            actions += [{"index": {"_index": self.index, "_id": d["id"]}}, d]
        self._bulk(actions)
        self.sent += len(docs)
        self.writer.heartbeat()

    def _bulk(self, actions: list[dict]) -> None:
        """Send one _bulk, retrying the whole request on 429/5xx/timeouts/lost connections and
        the items refused with 429 (0.5 s, doubling); other item failures stop the build."""
        delay = 0.5
        for attempt in range(RETRIES):
            try:
                reply = self.client.bulk(body=actions, request_timeout=120)
            except (oe.ConnectionError, oe.TransportError) as e:
                status = getattr(e, "status_code", None)
                retry = isinstance(e, oe.ConnectionError) or status == 429 or \
                    (isinstance(status, int) and status >= 500) or not isinstance(status, int)
                if not retry or attempt == RETRIES - 1:
                    with self._calling():
                        raise
                time.sleep(delay)
                delay *= 2
                continue
            if not reply["errors"]:
                return
            again: list[dict] = []
            for i, item in enumerate(reply["items"]):
                op, result = next(iter(item.items()))
                status = result.get("status", 0)
                if status < 300 or (op == "delete" and status == 404):
                    continue
                if status == 429 or status >= 500:
                    again += actions[2 * i:2 * i + 2] if op == "index" else [actions[2 * i]]
                    continue
                raise BackendError(f"the search cluster at {self.writer.where} refused document "
                                   f"{result.get('_id')!r}: {result.get('error')}")
            if not again or attempt == RETRIES - 1:
                if again:
                    raise _unavailable(self.writer.where, RuntimeError(f"{len(again)} documents refused (429)"))
                return
            actions = again
            time.sleep(delay)
            delay *= 2

    def commit(self, removed: Iterable[str], hashes: Mapping[str, str]) -> int | None:
        removed = list(removed)
        if self.index is None:
            if not removed and self.live:
                return None  # nothing changed: no new index
            self._start()
        self._flush()
        for start in range(0, len(removed), BATCH_DOCS * 5):
            self._bulk([{"delete": {"_index": self.index, "_id": i}} for i in removed[start:start + BATCH_DOCS * 5]])
        alias = self.writer.alias
        with self._calling():
            self.client.indices.refresh(index=self.index)
            count = self.client.count(index=self.index)["count"]
            if count != len(hashes):
                raise RuntimeError(f"the new index {self.index} has {count} documents, {len(hashes)} were expected; "
                                   "the alias was not moved")
            meta = _meta(self.client, self.index)
            self.client.indices.put_mapping(index=self.index, body={"_meta": {"vnsearch": {
                **meta, "committed_at": _now(), "documents": count}}})
            before = sorted(self.client.indices.get_alias(name=alias)) if self.client.indices.exists_alias(
                name=alias) else []
            actions = [{"remove": {"index": name, "alias": alias}} for name in before]
            actions.append({"add": {"index": self.index, "alias": alias}})
            self.client.indices.update_aliases(body={"actions": actions})  # the atomic switch
            self.switched = True
            keep = {self.index, *before}
            for name, meta in self.writer._ours().items():  # the previous state stays, older ones go
                if name not in keep and meta.get("committed_at"):
                    self.client.indices.delete(index=name)
        self._close_pool()
        return count

    def _close_pool(self) -> None:
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
            self.pool = None

    def cancel(self) -> None:
        """Delete the new index; the alias never moved."""
        self._close_pool()
        if self.switched or self.index is None:
            return
        try:
            with self._calling():
                self.client.indices.delete(index=self.index)
        except (oe.NotFoundError, VnsearchError):
            pass  # unreachable: clear_unfinished deletes it at the next reindex

