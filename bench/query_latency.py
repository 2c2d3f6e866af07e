"""Query latency of vnsearch against tantivy and SQLite FTS5 over the same documents (issue 5).

The corpora of ``../shared/corpora`` (baomoi_2017, vietnews_gov, vntc_politics,
vmds_clusters; about 50,800 articles; not party_committee_subset, whose ids repeat the
others') are indexed once by vnsearch (``reindex(..., full=False)``: a no-op when the index
is up to date). The peers are then built from vnsearch's own stored fields, so every engine
holds exactly the same documents (title + body) and the same facet values (province,
province_2025, secretary, year as vnsearch extracted them):

* ``tantivy``       tantivy's "default" tokenizer (words, lower case): a query without
                    diacritics only finds text written without them;
* ``tantivy-fold``  the same plus ASCII folding ("bi thu" finds "Bí thư", đ→d);
* ``fts5``          SQLite FTS5, ``unicode61 remove_diacritics 2`` (which, unlike the others,
                    does not fold "đ" to "d").

Each engine runs every query of a fixed mix (``bench/queries_latency.txt``, made once from
the index with a fixed seed and then reused, so runs are comparable) in two modes:

* ``top10``   the 10 best documents by BM25 (all words required), their stored documents
              fetched: vnsearch through its backend's ``search`` (``SearchSpec``, no facets);
* ``full``    what the search page needs: the 10 best, the total, the counts of all four
              facets (disjunctive: each facet counted with only the other facets' filters,
              as vnsearch does) and a highlighted snippet of each hit's body and title:
              vnsearch through ``Index.search`` (the real user path; it also checks
              for a "did you mean" suggestion), tantivy with term aggregations over raw fast
              fields and ``SnippetGenerator``, FTS5 with ``GROUP BY`` over the matches joined
              to a metadata table plus ``snippet()`` / ``highlight()``.

The peers get the query's words ANDed (vnsearch requires every word of a query of up to four
content words) over title and body; filters become term filters (tantivy) or a join on
the metadata table (FTS5). Timing interleaves the engines per query, in a shuffled
(seeded) order, so load from other processes hits all engines alike. Pass 0 runs every
query once for the first time (cold caches: vnsearch keeps posting arrays in memory; what
a server reads in the background as it starts, pyvi's dictionary and rapidfuzz, is read
first here too, by the server's own ``web.server._warm``) and is reported apart; passes 1..N are the warm measurements, each reported, then per query the
best of them (the least disturbed by other processes: the machine may be shared). Time spent
in Python's garbage collector inside vnsearch's calls is counted and reported (it stays in
the times: a server pays it too). The cold start of a fresh process (open the index, first
query) is measured in a subprocess. Finally the slowest vnsearch queries of the ``full``
mode are profiled section by section (evaluate, postings, facets, top, stored fields,
highlighting, suggestion) and with cProfile.

Without ``--corpus``/``--index`` the four files are linked under ``--work`` and indexed
there (a full build takes about 20 minutes on 2 cores); the peers are built from it in
under a minute and kept in ``--work/peers`` until vnsearch's index generation changes.

Run from the repository root::

    .venv/bin/python bench/query_latency.py                     # corpora linked under --work
    .venv/bin/python bench/query_latency.py --corpus /tmp/full/corpus --index /tmp/full/index
    .venv/bin/python bench/query_latency.py --limit 40 --passes 1   # a quick look

Exits 0 with "skipped: ..." when ``../shared`` is not there.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import platform
import pstats
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from peers import tantivy_folding_analyzer  # noqa: E402 (bench/ is the script folder)

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CORPORA = SHARED / "corpora"
CORPUS_FILES = ("baomoi_2017.jsonl.gz", "vietnews_gov.jsonl.gz", "vntc_politics.jsonl.gz",
                "vmds_clusters.jsonl.gz")
QUERIES_FILE = Path(__file__).resolve().parent / "queries_latency.txt"
SEED = 20240605
QUERY_COUNT = 240
K = 10
SNIPPET_CHARS = 260  # vnsearch's snippet size
FACETS = ("province", "province_2025", "secretary", "year")
PEER_VERSION = 1  # bump when the peers' build changes, so cached peers are rebuilt
MODES = ("top10", "full")
ENGINES = ("vnsearch", "tantivy", "tantivy-fold", "fts5")
TARGET_P50, TARGET_P95 = 30.0, 100.0

# Whoosh 2.7.4 and pyvi have invalid escapes: Python warns when it compiles them.
warnings.filterwarnings("ignore", category=SyntaxWarning)
sys.path.insert(0, str(ROOT))


# --- the query mix ---------------------------------------------------------------------------

@dataclass(frozen=True)
class LatencyQuery:
    """One query of the mix: the text as a user types it, and optional filters."""

    text: str
    province: tuple[str, ...] = ()
    year: tuple[str, ...] = ()
    kind: str = ""  # how it was made (for the report only)

    @property
    def filters(self) -> dict[str, list[str]]:
        return {name: list(v) for name, v in (("province", self.province), ("year", self.year)) if v}

    @property
    def words(self) -> list[str]:
        """The words the peers search for: lower case, no punctuation."""
        return re.findall(r"[^\W_]+", self.text.lower())

    def label(self) -> str:
        extra = "".join(f" [{k}={'|'.join(v)}]" for k, v in self.filters.items())
        return self.text + extra


# Hand-written queries of the domain (provincial Party and government news), 1 to 4 words.
DOMAIN_QUERIES = """bí thư
tỉnh ủy
thành ủy
bí thư tỉnh ủy
hội nghị ban chấp hành
ban thường vụ
ban chấp hành đảng bộ
đại hội đảng bộ
UBND
HĐND tỉnh
UBND tỉnh
kinh tế xã hội
phòng chống tham nhũng
xây dựng đảng
chỉnh đốn đảng
nghị quyết trung ương
chủ tịch UBND
phó bí thư
ủy ban kiểm tra
kỷ luật đảng viên
bộ chính trị
quốc hội
thủ tướng chính phủ
an toàn giao thông
biển đông
cải cách hành chính
ngân sách nhà nước
đầu tư công
giải phóng mặt bằng
xây dựng nông thôn mới
biến đổi khí hậu
tai nạn giao thông
giá xăng
học sinh
bầu cử đại biểu
tham nhũng
nông thôn mới
thu hút đầu tư
tiếp xúc cử tri
mặt trận tổ quốc
cán bộ chủ chốt
quy hoạch
dịch cúm
lũ lụt
an ninh quốc phòng
doanh nghiệp nhà nước
TP.HCM
chống buôn lậu
""".strip().splitlines()


def _frequent_terms(reader, fieldname: str) -> list[tuple[str, int]]:
    """(term, document frequency) of a Whoosh field, most frequent first, then alphabetical."""
    terms = []
    for term, info in reader.iter_field(fieldname):
        text = term.decode("utf-8") if isinstance(term, bytes) else term
        terms.append((text, info.doc_frequency()))
    terms.sort(key=lambda t: (-t[1], t[0]))
    return terms


def make_queries(ix, n: int = QUERY_COUNT, seed: int = SEED) -> list[LatencyQuery]:
    """The fixed mix: domain phrases, provinces, Party secretaries' names, syllables and
    compound words from three frequency bands, 3-4 word windows of articles; about a third
    typed without diacritics, about a quarter with a province and/or year filter."""
    from search.querylang import STOPWORDS
    from search.text import fold

    rng = random.Random(seed)
    reader = ix.searcher.reader()
    n_docs = int(ix.live.sum())

    def ok_word(w: str) -> bool:
        return w.isalpha() and len(w) > 1 and w not in STOPWORDS

    syllables = [(t, df) for t, df in _frequent_terms(reader, "body") if ok_word(t)]
    compounds = [(t, df) for t, df in _frequent_terms(reader, "body_word")
                 if "_" in t and all(ok_word(p) for p in t.split("_")) and t.count("_") <= 2
                 and fold(t) != t]  # the accented form of a compound (pyvi indexes both)

    def band(terms, low: float, high: float, k: int, kind: str) -> list[tuple[str, str]]:
        """k terms whose document frequency lies in [low, high] (fractions of the documents
        when < 1, counts otherwise)."""
        lo = low * n_docs if low < 1 else low
        hi = high * n_docs if high < 1 else high
        pool = [t for t, df in terms if lo <= df <= hi]
        return [(t.replace("_", " "), kind) for t in rng.sample(pool, min(k, len(pool)))]

    picked: list[tuple[str, str]] = [(q, "domain") for q in DOMAIN_QUERIES]
    provinces = [v for v in _by_count(ix, "province") if v != "_"]
    secretaries = [v for v in _by_count(ix, "secretary") if v != "_"]
    picked += [(p, "province") for p in provinces[:8]]
    others = provinces[8:40]
    picked += [(f"tỉnh ủy {p}", "province") for p in rng.sample(others, min(4, len(others)))]
    picked += [(f"bí thư {p}", "province") for p in rng.sample(others, min(4, len(others)))]
    picked += [(s, "person") for s in secretaries[:6]]
    picked += [(s, "person") for s in rng.sample(secretaries[6:], min(6, len(secretaries[6:])))]
    picked += band(syllables, 0.10, 0.60, 14, "syllable-common")
    picked += band(syllables, 200, 2000, 14, "syllable-medium")
    picked += band(syllables, 3, 30, 14, "syllable-rare")
    picked += band(compounds, 0.05, 0.60, 12, "compound-common")
    picked += band(compounds, 100, 1000, 12, "compound-medium")
    picked += band(compounds, 3, 30, 12, "compound-rare")
    picked += [(a + " " + b, "two-common") for (a, _), (b, _) in
               zip(band(syllables, 0.05, 0.40, 10, ""), band(syllables, 0.05, 0.40, 10, ""))]
    picked += _windows(ix, rng, max(30, n - len(picked) + 10))  # a few spare for duplicates
    seen: set[str] = set()
    unique = []
    for text, kind in picked:
        key = fold(text.lower())
        if key not in seen and 1 <= len(text.split()) <= 4:
            seen.add(key)
            unique.append((text, kind))
    unique = unique[:n]

    years = [y for y in _by_count(ix, "year") if y != "_"][:8]
    queries = []
    for i, (text, kind) in enumerate(unique):
        if kind != "domain" and rng.random() < 0.33:
            text = fold(text).lower()  # typed without diacritics
            kind += "/no-diacritics"
        elif kind == "domain" and i % 4 == 3:
            text = fold(text).lower()
            kind += "/no-diacritics"
        province: tuple[str, ...] = ()
        year: tuple[str, ...] = ()
        r = rng.random()
        if r < 0.14:
            province = (rng.choice(provinces[:20]),)
        elif r < 0.22:
            year = (rng.choice(years),)
        elif r < 0.27:
            province, year = (rng.choice(provinces[:10]),), (rng.choice(years[:4]),)
        queries.append(LatencyQuery(text, province, year, kind))
    return queries


def _by_count(ix, facet: str) -> list[str]:
    """A facet's values, most documents first."""
    codes, values = ix.facets[facet]
    counts = np.bincount(codes[ix.live], minlength=len(values))
    return [values[i] for i in np.argsort(-counts, kind="stable") if counts[i]]


def _windows(ix, rng: random.Random, k: int) -> list[tuple[str, str]]:
    """k runs of 3-4 consecutive syllables from the bodies of random articles."""
    from search.querylang import STOPWORDS
    from search.text import syllables

    live = np.flatnonzero(ix.live)
    out = []
    while len(out) < k:
        stored = ix.searcher.stored_fields(int(rng.choice(live)))
        words = [s.text for s in syllables(stored.get("body", "")[:3000])]
        size = rng.choice((3, 4))
        if len(words) < size + 10:
            continue
        start = rng.randrange(len(words) - size)
        window = words[start:start + size]
        if all(w.isalpha() and w.lower() not in STOPWORDS for w in window):
            out.append((" ".join(window).lower() if rng.random() < 0.7 else " ".join(window),
                        f"window-{size}"))
    return out


def save_queries(path: Path, queries: list[LatencyQuery]) -> None:
    lines = ["# Query mix of bench/query_latency.py: query<TAB>province filter<TAB>year filter<TAB>kind",
             f"# Made once from the index of the four corpora (seed {SEED}); kept so runs are comparable.",
             "# Regenerate with --regenerate-queries. Several filter values are separated by '|'."]
    lines += ["\t".join((q.text, "|".join(q.province), "|".join(q.year), q.kind)) for q in queries]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def load_queries(path: Path) -> list[LatencyQuery]:
    queries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        text, province, year, kind = (line.split("\t") + ["", "", ""])[:4]
        queries.append(LatencyQuery(text, tuple(filter(None, province.split("|"))),
                                    tuple(filter(None, year.split("|"))), kind))
    return queries


# --- engines ---------------------------------------------------------------------------------

Result = tuple[list[str], int]  # (ids of the top hits, total matches or -1 when not counted)


class VnSearch:
    """vnsearch through its library API."""

    name = "vnsearch"

    def __init__(self, index_dir: Path, warm: bool = True):
        from search import open_index

        self.index_dir = index_dir
        self.index = open_index(index_dir)
        if warm:  # as `vnsearch serve` does while it already listens
            from web.server import _warm

            _warm()
        self.ix = self.index.backend.arrays  # the embedded backend's arrays (peers, profile)

    def top10(self, q: LatencyQuery) -> Result:
        from search import querylang
        from search.backends import Filters, SearchSpec

        parsed = querylang.parse(q.text)
        spec = SearchSpec(parsed, querylang.require_all(parsed),
                          Filters({k: tuple(v) for k, v in q.filters.items() if v}), limit=K)
        return [m.doc["id"] for m in self.index.backend.search(spec).hits], -1

    def full(self, q: LatencyQuery) -> Result:
        from search import SearchRequest

        result = self.index.search(SearchRequest(
            q=q.text, filters={"province": list(q.province), "year": list(q.year)}, size=K))
        return [h.id for h in result.hits], result.total


def _tantivy_index(folder: Path, ascii_fold: bool, create: bool):
    """The tantivy index in `folder`: title and body analysed by "default" (+ ASCII folding),
    stored for snippets; id stored; the facets as raw, fast text fields."""
    import tantivy

    tokenizer = "default_fold" if ascii_fold else "default"
    if create:
        builder = tantivy.SchemaBuilder()
        builder.add_text_field("id", stored=True, tokenizer_name="raw")
        builder.add_text_field("title", stored=True, tokenizer_name=tokenizer)
        builder.add_text_field("body", stored=True, tokenizer_name=tokenizer)
        for name in FACETS:
            builder.add_text_field(name, fast=True, tokenizer_name="raw")
        ix = tantivy.Index(builder.build(), path=str(folder))
    else:
        ix = tantivy.Index.open(str(folder))
    if ascii_fold:
        ix.register_tokenizer(tokenizer, tantivy_folding_analyzer())
    return ix


class Tantivy:
    """tantivy (python binding): AND of the words over title and body."""

    def __init__(self, folder: Path, ascii_fold: bool, facet_sizes: dict[str, int]):
        import tantivy

        self.t = tantivy
        self.name = "tantivy-fold" if ascii_fold else "tantivy"
        self.ix = _tantivy_index(folder, ascii_fold, create=False)
        self.schema = self.ix.schema
        self.searcher = self.ix.searcher()
        self.facet_sizes = facet_sizes  # all values of each facet are asked for

    def _text_query(self, q: LatencyQuery):
        return self.ix.parse_query(" ".join(q.words), ["title", "body"], conjunction_by_default=True)

    def _filtered(self, text_query, filters: dict[str, list[str]]):
        if not filters:
            return text_query
        t = self.t
        parts = [(t.Occur.Must, text_query)]
        parts += [(t.Occur.Must, t.Query.term_set_query(self.schema, name, values))
                  for name, values in filters.items()]
        return t.Query.boolean_query(parts)

    def top10(self, q: LatencyQuery) -> Result:
        query = self._filtered(self._text_query(q), q.filters)
        hits = self.searcher.search(query, K, count=False).hits
        return [self.searcher.doc(address)["id"][0] for _, address in hits], -1

    def full(self, q: LatencyQuery) -> Result:
        t, searcher = self.t, self.searcher
        text_query = self._text_query(q)
        filters = q.filters
        found = searcher.search(self._filtered(text_query, filters), K, count=True)
        docs = [searcher.doc(address) for _, address in found.hits]
        body = t.SnippetGenerator.create(searcher, text_query, self.schema, "body")
        body.set_max_num_chars(SNIPPET_CHARS)
        title = t.SnippetGenerator.create(searcher, text_query, self.schema, "title")
        title.set_max_num_chars(1000)
        for doc in docs:
            body.snippet_from_doc(doc).to_html()
            title.snippet_from_doc(doc).to_html()
        # Disjunctive facets: one aggregation request per distinct set of filters.
        groups: dict[tuple, list[str]] = defaultdict(list)
        for facet in FACETS:
            groups[tuple(sorted((k, tuple(v)) for k, v in filters.items() if k != facet))].append(facet)
        counts = {}
        for other, facets in groups.items():
            agg = {f: {"terms": {"field": f, "size": self.facet_sizes[f]}} for f in facets}
            counts.update(searcher.aggregate(self._filtered(text_query, {k: list(v) for k, v in other}), agg))
        return [d["id"][0] for d in docs], found.count


class Fts5:
    """SQLite FTS5 (unicode61 remove_diacritics 2): AND of the words, bm25 order.

    The top 10 rowids are selected first, then snippet() / highlight() run for those 10 rows
    only (about twice as fast as calling them in the ranked query, which SQLite evaluates for
    every match before sorting). Facet values live in an ordinary table `meta` keyed by rowid,
    counted with GROUP BY over the matches (materialised once per query)."""

    name = "fts5"

    def __init__(self, path: Path):
        self.db = sqlite3.connect(path)
        self.db.execute("PRAGMA cache_size = -262144")  # 256 MB, like vnsearch's postings cache
        self.db.execute("PRAGMA mmap_size = 1073741824")

    @staticmethod
    def _match(q: LatencyQuery) -> str:
        return " ".join(f'"{w}"' for w in q.words)

    @staticmethod
    def _where(filters: dict[str, list[str]], table: str = "m") -> tuple[str, list[str]]:
        sql, params = [], []
        for name, values in filters.items():
            sql.append(f"{table}.{name} IN ({','.join('?' * len(values))})")
            params.extend(values)
        return " AND ".join(sql), params

    def _top_rowids(self, q: LatencyQuery) -> list[int]:
        where, params = self._where(q.filters)
        if where:
            sql = ("SELECT docs.rowid FROM docs CROSS JOIN meta m ON m.rowid = docs.rowid "
                   f"WHERE docs MATCH ? AND {where} ORDER BY bm25(docs) LIMIT {K}")
        else:
            sql = f"SELECT rowid FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT {K}"
        return [r[0] for r in self.db.execute(sql, [self._match(q), *params])]

    def top10(self, q: LatencyQuery) -> Result:
        rowids = self._top_rowids(q)
        if not rowids:
            return [], -1
        rows = dict((r[0], r[1:]) for r in self.db.execute(
            f"SELECT rowid, doc_id, title, body FROM docs WHERE rowid IN ({','.join(map(str, rowids))})"))
        return [rows[r][0] for r in rowids], -1

    def full(self, q: LatencyQuery) -> Result:
        match = self._match(q)
        rowids = self._top_rowids(q)
        ids = []
        if rowids:
            rows = {r[0]: r[1:] for r in self.db.execute(
                "SELECT rowid, doc_id, highlight(docs, 1, '<mark>', '</mark>'), "
                "snippet(docs, 2, '<mark>', '</mark>', '…', 48) FROM docs "
                f"WHERE docs MATCH ? AND rowid IN ({','.join(map(str, rowids))})", [match])}
            ids = [rows[r][0] for r in rowids]
        # Facet counts (disjunctive) and the total in one statement over the matches.
        arms, params = [], [match]
        filters = q.filters
        for facet in (*FACETS, None):
            where, p = self._where({k: v for k, v in filters.items() if k != facet})
            if facet is None and not where:
                arms.append("SELECT '', '', count(*) FROM hits")  # the total needs no metadata
                continue
            column = f"m.{facet}" if facet else "''"
            arms.append(f"SELECT '{facet or ''}', {column}, count(*) FROM hits CROSS JOIN meta m "
                        f"ON m.rowid = hits.r {'WHERE ' + where if where else ''}"
                        f"{' GROUP BY 2' if facet else ''}")
            params.extend(p)
        sql = ("WITH hits(r) AS MATERIALIZED (SELECT rowid FROM docs WHERE docs MATCH ?) "
               + " UNION ALL ".join(arms))
        total = 0
        for facet, value, count in self.db.execute(sql, params):
            if facet == "":
                total = count
        return ids, total


# --- building the peers from vnsearch's stored documents -----------------------------------

def build_peers(vn: VnSearch, work: Path, generation: str) -> Path:
    """tantivy, tantivy-fold and FTS5 indexes of vnsearch's live documents in work/peers
    (kept while vnsearch's generation and the peers' build are unchanged)."""
    import tantivy

    folder = work / "peers"
    stamp = {"vnsearch_generation": generation, "peer_version": PEER_VERSION}
    stamp_file = folder / "STAMP.json"
    if stamp_file.is_file() and json.loads(stamp_file.read_text()) == stamp:
        return folder
    print(f"building the peers in {folder} (from vnsearch's stored fields) ...", flush=True)
    started = time.perf_counter()
    shutil.rmtree(folder, ignore_errors=True)
    for name in ("tantivy", "tantivy-fold"):
        (folder / name).mkdir(parents=True)
    writers = [_tantivy_index(folder / name, name.endswith("fold"), create=True)
               .writer(heap_size=200_000_000, num_threads=1) for name in ("tantivy", "tantivy-fold")]
    db = sqlite3.connect(folder / "fts5.sqlite")
    db.execute("CREATE VIRTUAL TABLE docs USING fts5(doc_id UNINDEXED, title, body, "
               "tokenize = 'unicode61 remove_diacritics 2')")
    db.execute("CREATE TABLE meta (rowid INTEGER PRIMARY KEY, province TEXT, province_2025 TEXT, "
               "secretary TEXT, year TEXT)")
    searcher = vn.ix.searcher
    live = np.flatnonzero(vn.ix.live)
    for i, docnum in enumerate(live, 1):
        s = searcher.stored_fields(int(docnum))
        facets = {f: s.get(f) or "_" for f in FACETS}
        for w in writers:
            w.add_document(tantivy.Document(id=s["id"], title=s.get("title", ""), body=s.get("body", ""),
                                            **facets))
        db.execute("INSERT INTO docs (rowid, doc_id, title, body) VALUES (?, ?, ?, ?)",
                   (i, s["id"], s.get("title", ""), s.get("body", "")))
        db.execute("INSERT INTO meta VALUES (?, ?, ?, ?, ?)", (i, *facets.values()))
        if i % 10000 == 0:
            print(f"  {i}/{len(live)} documents", flush=True)
    for w in writers:
        w.commit()
        w.wait_merging_threads()
    db.execute("INSERT INTO docs(docs) VALUES ('optimize')")
    for f in FACETS:
        db.execute(f"CREATE INDEX meta_{f} ON meta({f})")
    db.commit()
    db.close()
    stamp_file.write_text(json.dumps(stamp))
    print(f"  peers built in {time.perf_counter() - started:.0f} s", flush=True)
    return folder


# --- timing --------------------------------------------------------------------------------

@dataclass
class Timings:
    """Milliseconds per (engine, mode), per pass, in query order; plus results for checks."""

    ms: dict[tuple[str, str, int], list[float]] = field(default_factory=lambda: defaultdict(list))
    gc_ms: dict[tuple[str, str, int], list[float]] = field(default_factory=lambda: defaultdict(list))
    full_gcs: dict[tuple[str, str, int], list[int]] = field(default_factory=lambda: defaultdict(list))
    totals: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    answers: dict[tuple[str, str], list[dict]] = field(default_factory=lambda: defaultdict(list))  # pass 0 ids


class GcClock:
    """Time spent in Python's garbage collector (and how many full collections) while on."""

    def __init__(self):
        self.ms, self.full, self._start = 0.0, 0, 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.ms += (time.perf_counter() - self._start) * 1000
            self.full += info["generation"] == 2

    def reset(self) -> None:
        self.ms, self.full = 0.0, 0

    def close(self) -> None:
        gc.callbacks.remove(self._callback)


def run_passes(engines: dict[str, object], queries: list[LatencyQuery], passes: int) -> Timings:
    """Pass 0 (first sight of every query) and `passes` warm passes; the engine×mode pairs
    of a query run one after the other in an order shuffled per query."""
    timings = Timings()
    pairs = [(e, m) for e in engines for m in MODES]
    rng = random.Random(SEED)
    clock = GcClock()  # the collector runs in the server too: its pauses stay in the times
    for p in range(passes + 1):
        gc.collect()
        started = time.perf_counter()
        for q in queries:
            order = pairs[:]
            rng.shuffle(order)
            for engine, mode in order:
                run: Callable[[LatencyQuery], Result] = getattr(engines[engine], mode)
                clock.reset()
                t0 = time.perf_counter()
                ids, total = run(q)
                timings.ms[engine, mode, p].append((time.perf_counter() - t0) * 1000)
                timings.gc_ms[engine, mode, p].append(clock.ms)
                timings.full_gcs[engine, mode, p].append(clock.full)
                if p == 0 and mode == "full":
                    timings.totals[engine].append(total)
                if p == 0:
                    timings.answers[engine, mode].append({"query": q.label(), "ids": list(ids), "total": total})
        print(f"  pass {p} ({'first run of each query' if p == 0 else 'warm'}): "
              f"{time.perf_counter() - started:.0f} s", flush=True)
    clock.close()
    return timings


def print_gc(timings: Timings, queries: list[LatencyQuery], passes: int) -> None:
    """How much of vnsearch's time (warm passes) was Python's garbage collector."""
    print("\nPython garbage collection inside the timed vnsearch calls (warm passes):")
    for mode in MODES:
        for p in range(1, passes + 1):
            ms = np.asarray(timings.ms["vnsearch", mode, p])
            gc_ms = np.asarray(timings.gc_ms["vnsearch", mode, p])
            full = np.asarray(timings.full_gcs["vnsearch", mode, p])
            slow = ms >= np.percentile(ms, 95)
            net = stats(list(ms - gc_ms))
            print(f"  {mode:<6} pass {p}: {gc_ms.sum():6.0f} ms of GC in {len(ms)} queries, {int(full.sum())} full "
                  f"collections (mean {gc_ms[full > 0].mean() if full.any() else 0:.0f} ms each incl. the young "
                  f"ones); {int((full[slow] > 0).sum())} of the {int(slow.sum())} queries ≥ p95 had one; "
                  f"without GC time p50 {net['p50']:.1f} p95 {net['p95']:.1f} p99 {net['p99']:.1f}")


def best_of(timings: Timings, engine: str, mode: str, passes: int) -> np.ndarray:
    """Each query's fastest time over the warm passes."""
    return np.min([timings.ms[engine, mode, p] for p in range(1, passes + 1)], axis=0)


def stats(values: list[float]) -> dict[str, float]:
    a = np.asarray(values)
    return {"p50": float(np.percentile(a, 50)), "p95": float(np.percentile(a, 95)),
            "p99": float(np.percentile(a, 99)), "mean": float(a.mean()), "max": float(a.max())}


def print_table(title: str, timings: Timings, engines: list[str], p: int) -> dict:
    rows = {(e, m): stats(timings.ms[e, m, p]) for e in engines for m in MODES}
    print(f"\n{title}")
    head = (f"  {'engine':<13} {'mode':<6} {'p50':>8} {'p95':>8} {'p99':>8} {'mean':>8} {'max':>8}"
            f"   {'vn/peer p50':>11} {'vn/peer p95':>11}")
    print(head)
    print("  " + "-" * (len(head) - 2))
    for (e, m), s in rows.items():
        if e == "vnsearch":
            ratio = ""
        else:
            vn = rows["vnsearch", m]
            ratio = f"   {vn['p50'] / s['p50']:>11.2f} {vn['p95'] / s['p95']:>11.2f}"
        print(f"  {e:<13} {m:<6} {s['p50']:>8.2f} {s['p95']:>8.2f} {s['p99']:>8.2f} "
              f"{s['mean']:>8.2f} {s['max']:>8.1f}{ratio}")
    full, fts_top = rows["vnsearch", "full"], rows.get(("fts5", "top10"))
    print(f"  target: vnsearch full p50 {full['p50']:.1f} ms (≤ {TARGET_P50:.0f}: "
          f"{'met' if full['p50'] <= TARGET_P50 else 'NOT met'}), p95 {full['p95']:.1f} ms "
          f"(≤ {TARGET_P95:.0f}: {'met' if full['p95'] <= TARGET_P95 else 'NOT met'})")
    if fts_top:
        print(f"  vnsearch full vs fts5 top10 alone: p50 {full['p50'] / fts_top['p50']:.2f}x, "
              f"p95 {full['p95'] / fts_top['p95']:.2f}x "
              f"({'faster' if full['p50'] < fts_top['p50'] and full['p95'] < fts_top['p95'] else 'NOT faster'})")
    for peer in ("tantivy", "tantivy-fold"):
        if (peer, "top10") in rows:
            t = rows[peer, "top10"]
            print(f"  vnsearch full vs {peer} top10 alone: p50 {full['p50'] / t['p50']:.1f}x, "
                  f"p95 {full['p95'] / t['p95']:.1f}x")
    return rows


def print_agreement(queries: list[LatencyQuery], timings: Timings, engines: list[str]) -> None:
    """How many documents each engine matched (full mode): a check that they do similar work."""
    print("\nmatches per query (full mode, total): median, queries with none, and the median ratio to vnsearch")
    vn = np.asarray(timings.totals["vnsearch"], dtype=float)
    for e in engines:
        t = np.asarray(timings.totals[e], dtype=float)
        both = (vn > 0) & (t > 0)
        ratio = f"   median {e}/vnsearch {float(np.median(t[both] / vn[both])):.2f}" if both.any() and e != "vnsearch" else ""
        print(f"  {e:<13} median {np.median(t):>7.0f}   none {int((t == 0).sum()):>3}{ratio}")
    folded_d = [q for q in queries if not _has_marks(q.text) and re.search(r"\bd", q.text.lower())]
    print(f"  ({len(folded_d)} queries are typed without diacritics and contain a word starting with 'd';"
          " FTS5's remove_diacritics does not fold 'đ', so it misses 'đ' words for them)")


def _has_marks(text: str) -> bool:
    from search.text import has_diacritics

    return has_diacritics(text)


# --- profile of vnsearch's slow queries ------------------------------------------------------

class Sections:
    """Exclusive wall time of wrapped functions, keyed by their call path ("suggest>evaluate")."""

    def __init__(self):
        self.stack: list[str] = []
        self.child: list[float] = []
        self.times: Counter = Counter()
        self.restore: list[Callable[[], None]] = []

    def wrap(self, owner, attr: str, name: str) -> None:
        original = getattr(owner, attr)
        had_own = attr in vars(owner)  # a module's function; else a method found on the class

        def wrapper(*args, **kwargs):
            key = f"suggest>{name}" if self.stack and self.stack[0] == "suggest" else name
            self.stack.append(name)
            self.child.append(0.0)
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - t0
                children = self.child.pop()
                self.stack.pop()
                self.times[key] += elapsed - children
                if self.child:
                    self.child[-1] += elapsed

        setattr(owner, attr, wrapper)
        self.restore.append(lambda: setattr(owner, attr, original) if had_own else delattr(owner, attr))

    def undo(self) -> None:
        for r in reversed(self.restore):
            r()


def profile_slow(vn: VnSearch, queries: list[LatencyQuery], timings: Timings, passes: int) -> None:
    """Per-section breakdown of the slowest vnsearch 'full' queries, and a cProfile of them."""
    from search import query as Q, querylang
    from search.backends import ranking

    per_query = best_of(timings, "vnsearch", "full", passes)
    order = np.argsort(-per_query)
    p95 = np.percentile(per_query, 95)
    slow = [int(i) for i in order[:min(15, max(12, int((per_query >= p95).sum())))]]
    ix = vn.ix
    sec = Sections()
    sec.wrap(querylang, "parse", "parse")
    sec.wrap(ranking, "evaluate", "evaluate")
    sec.wrap(ix, "postings", "postings")
    sec.wrap(ix, "phrase_docs", "phrase_docs")
    sec.wrap(ranking, "facet_mask", "facets")
    sec.wrap(ranking, "facet_counts", "facets")
    sec.wrap(Q, "_facet_values", "facets")
    sec.wrap(ranking, "top", "top")
    sec.wrap(vn.index.backend, "_stored", "stored_fields")
    sec.wrap(Q.Marker, "spans", "highlight")
    sec.wrap(Q, "snippet", "highlight")
    sec.wrap(Q, "mark", "highlight")
    sec.wrap(Q.Index, "_suggest", "suggest")
    columns = ["parse", "evaluate", "postings", "phrase_docs", "facets", "top", "stored_fields",
               "highlight", "suggest", "suggest>*"]
    short = {"phrase_docs": "phrases", "stored_fields": "stored", "suggest>*": "sugg>*"}

    def measure(q: LatencyQuery, reps: int = 3) -> tuple[float, Counter]:
        runs = []
        for _ in range(reps):
            sec.times = Counter()
            t0 = time.perf_counter()
            vn.full(q)
            runs.append(((time.perf_counter() - t0) * 1000, sec.times))
        total, times = sorted(runs, key=lambda r: r[0])[len(runs) // 2]
        return total, times

    def row(total: float, times: Counter) -> list[float]:
        ms = {k: v * 1000 for k, v in times.items()}
        cells = [ms.get(c, 0.0) for c in columns[:-1]]
        cells.append(sum(v for k, v in ms.items() if k.startswith("suggest>")))
        return [total] + cells + [total - sum(cells)]

    header = ["total"] + columns + ["other"]
    print("\nvnsearch 'full' mode: where the time goes (ms of own time; median of 3 warm runs). 'evaluate' is\n"
          "  its numpy work, 'postings' (posting arrays from the cache or disk) and 'phrases' (phrase checks)\n"
          "  are called by it; 'highlight' = Marker.spans() + snippet() + mark(); 'sugg>*' = work the suggestion\n"
          "  check causes; 'other' = the rest of search() (filters, dataclasses, ...).")
    print(f"  {'query':<44}" + "".join(f"{short.get(h, h):>10}" for h in header) + f"{'matches':>9}")
    sums = np.zeros(len(header))
    for i in slow:
        q = queries[i]
        total, times = measure(q)
        cells = row(total, times)
        sums += cells
        print(f"  {q.label()[:44]:<44}" + "".join(f"{c:>10.2f}" for c in cells)
              + f"{timings.totals['vnsearch'][i]:>9}")
    print(f"  {'(slow queries, mean)':<44}" + "".join(f"{c / len(slow):>10.2f}" for c in sums))
    everything = np.zeros(len(header))
    for q in queries:
        everything += row(*measure(q, reps=1))
    print(f"  {'(all queries, mean)':<44}" + "".join(f"{c / len(queries):>10.2f}" for c in everything))
    sec.undo()

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(3):
        for i in slow:
            vn.full(queries[i])
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(18)
    print("\ncProfile of the slow queries (3 runs each), by own time:")
    print("\n".join("  " + line for line in out.getvalue().splitlines()
                    if line.strip() and not line.startswith(("   Ordered", "   List reduced"))))


# --- cold start ------------------------------------------------------------------------------

def cold_probe(index_dir: str, query: str) -> None:
    """(In a fresh process) time the import, opening the index (facet and date columns read),
    the first query (BM25 length norms computed, postings read) and the same query again."""
    t0 = time.perf_counter()
    from search import SearchRequest, open_index
    t1 = time.perf_counter()
    index = open_index(index_dir)
    t2 = time.perf_counter()
    first = index.search(SearchRequest(q=query, size=K))
    t3 = time.perf_counter()
    index.search(SearchRequest(q=query, size=K))
    t4 = time.perf_counter()
    print(json.dumps({"import_ms": (t1 - t0) * 1000, "open_ms": (t2 - t1) * 1000,
                      "first_ms": (t3 - t2) * 1000, "second_ms": (t4 - t3) * 1000, "total": first.total}))


def cold_start(index_dir: Path, query: str) -> dict:
    out = subprocess.run([sys.executable, "-W", "ignore", __file__, "--cold-probe", str(index_dir), query],
                         capture_output=True, text=True, cwd=ROOT, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- the run ---------------------------------------------------------------------------------

def prepare_corpus(work: Path) -> Path:
    """work/corpus: symlinks to the four corpus files."""
    corpus = work / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    for name in CORPUS_FILES:
        link = corpus / name
        if not link.exists():
            link.unlink(missing_ok=True)
            link.symlink_to(CORPORA / name)
    return corpus


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, help="folder of the four .jsonl.gz files (default: linked under --work)")
    parser.add_argument("--index", type=Path, help="vnsearch index folder (default: --work/index)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/vnsearch-latency"),
                        help="where the peers' indexes (and the default corpus / index) are kept")
    parser.add_argument("--passes", type=int, default=2, help="warm timing passes (after the first)")
    parser.add_argument("--limit", type=int, help="only the first N queries of the mix")
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated subset of " + ",".join(ENGINES))
    parser.add_argument("--queries", type=Path, default=QUERIES_FILE,
                        help="the query mix (made from the index when missing)")
    parser.add_argument("--regenerate-queries", action="store_true", help="rewrite the --queries file")
    parser.add_argument("--no-profile", action="store_true", help="skip the profile of slow queries")
    parser.add_argument("--no-reindex", action="store_true",
                        help="use the index as it is (skip the incremental reindex of --corpus)")
    parser.add_argument("--cold-probe", nargs=2, metavar=("INDEX", "QUERY"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.cold_probe:
        cold_probe(*args.cold_probe)
        return 0

    if not CORPORA.is_dir() and args.corpus is None:
        print(f"skipped: {SHARED} not found (the corpora live in ../shared/corpora)")
        return 0
    corpus = args.corpus or prepare_corpus(args.work)
    if not corpus.is_dir() or not any(p.exists() for p in corpus.iterdir()):
        print(f"skipped: no corpus files in {corpus} (is ../shared there?)")
        return 0
    index_dir = args.index or args.work / "index"
    engines_wanted = [e for e in args.engines.split(",") if e]
    if "vnsearch" not in engines_wanted:
        engines_wanted.insert(0, "vnsearch")

    print("command:", " ".join([Path(sys.executable).name, *sys.argv]))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores (shared with other work, so noisy), "
          f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, numpy {np.__version__}")

    from search.indexer import reindex
    from search.store import Store

    if not args.no_reindex:
        started = time.perf_counter()
        report = reindex(corpus, index_dir, full=False, workers=2)
        print(f"vnsearch reindex (incremental): {time.perf_counter() - started:.1f} s, added {report.added}, "
              f"updated {report.updated}, unchanged {report.unchanged}, rejected {len(report.rejected)}")
    current = Store(index_dir).current()

    if args.regenerate_queries or not args.queries.is_file():
        from search import open_index

        queries = make_queries(open_index(index_dir).backend.arrays)
        save_queries(args.queries, queries)
        print(f"wrote {len(queries)} queries to {args.queries}")
    queries = load_queries(args.queries)[:args.limit]
    # Cold start before this process opens anything (the OS file cache is warm by now).
    cold = cold_start(index_dir, queries[0].text)

    vn = VnSearch(index_dir)
    n_docs = int(vn.ix.live.sum())
    peers_dir = build_peers(vn, args.work, current["generation"])
    sizes = {f: len(vn.ix.facets[f][1]) + 1 for f in FACETS}
    engines: dict[str, object] = {"vnsearch": vn}
    opened = {}
    for name in engines_wanted[1:]:
        t0 = time.perf_counter()
        if name == "fts5":
            engines[name] = Fts5(peers_dir / "fts5.sqlite")
        else:
            engines[name] = Tantivy(peers_dir / name, name.endswith("fold"), sizes)
        opened[name] = (time.perf_counter() - t0) * 1000

    kinds = Counter(q.kind.split("/")[0] for q in queries)
    print(f"\ndocuments: {n_docs:,} (vnsearch generation {current['generation']}, corpus {corpus})")
    print(f"queries: {len(queries)} from {args.queries}; "
          f"{sum(not _has_marks(q.text) for q in queries)} without diacritics, "
          f"{sum(bool(q.filters) for q in queries)} with filters; "
          f"words per query: {dict(sorted(Counter(len(q.text.split()) for q in queries).items()))}")
    print("  kinds: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    print(f"cold start of vnsearch in a fresh process (index files in the OS cache): import "
          f"{cold['import_ms']:.0f} ms, open index {cold['open_ms']:.0f} ms, first query "
          f"{cold['first_ms']:.0f} ms, same query again {cold['second_ms']:.1f} ms  ({queries[0].text!r})")
    print("peers opened in: " + ", ".join(f"{k} {v:.0f} ms" for k, v in opened.items()))

    print(f"\ntiming: pass 0 + {args.passes} warm passes, engines and modes interleaved per query ...")
    timings = run_passes(engines, queries, args.passes)
    names = list(engines)
    print_table("pass 0: first run of each query (vnsearch's posting arrays not cached yet), ms",
                timings, names, 0)
    tables = [print_table(f"pass {p}: warm, ms", timings, names, p) for p in range(1, args.passes + 1)]
    print_agreement(queries, timings, names)
    print_gc(timings, queries, args.passes)
    if not args.no_profile:
        profile_slow(vn, queries, timings, args.passes)
    best = Timings()
    for e in names:
        for m in MODES:
            best.ms[e, m, 0] = list(best_of(timings, e, m, args.passes))
    tables.append(print_table(f"per query, the best of the {args.passes} warm passes (least disturbed by "
                              "other processes), ms", best, names, 0))

    slowest = np.argsort(-best_of(timings, "vnsearch", "full", args.passes))
    print("\nslowest vnsearch 'full' queries (best of the warm passes, ms; other columns the same way):")
    print(f"  {'full':>8} {'top10':>8}  {'query':<56} {'matches':>7} {'fts5 top10':>10} {'fts5 full':>10} "
          f"{'tfold top10':>11} {'tfold full':>10}")
    for i in slowest[:15]:
        b = {(e, m): best_of(timings, e, m, args.passes)[i] for e in names for m in MODES}
        peers = "".join(f" {b[e, m]:>10.1f}" if (e, m) in b else f" {'-':>10}"
                        for e in ("fts5", "tantivy-fold") for m in MODES)
        print(f"  {b['vnsearch', 'full']:8.1f} {b['vnsearch', 'top10']:8.1f}  {queries[i].label()[:56]:<56} "
              f"{timings.totals['vnsearch'][i]:>7}{peers}")
    first = np.asarray(timings.ms["vnsearch", "top10", 0])
    print("\nslowest first runs (pass 0) of vnsearch top10, against the best warm run: the cost is reading a\n"
          "term's postings for the first time and, for an abbreviation and its expansion (UBND, NQ, ĐH, KT-XH, TP),\n"
          "Whoosh's phrase check of the expansion; both are cached afterwards")
    for i in np.argsort(-first)[:10]:
        print(f"  {first[i]:8.1f} ms (warm {best_of(timings, 'vnsearch', 'top10', args.passes)[i]:5.1f})  "
              f"{queries[i].label()[:60]:<60} matches {timings.totals['vnsearch'][i]}")
    json_out = args.work / "latency.json"
    json_out.write_text(json.dumps({
        "documents": n_docs, "queries": [q.label() for q in queries], "cold": cold,
        "tables": [{f"{e} {m}": s for (e, m), s in t.items()} for t in tables],
        "per_query_ms": {f"{e} {m} pass{p}": v for (e, m, p), v in timings.ms.items()},
        "totals": timings.totals,
        # vnsearch's answers (ids in order, totals): bench/same_results.py compares two runs
        "answers": {m: timings.answers["vnsearch", m] for m in MODES}}, indent=1, ensure_ascii=False))
    print(f"\n(numbers also in {json_out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
