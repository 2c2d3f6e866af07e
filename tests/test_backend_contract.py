"""The backend contract: what every backend (``search/backends/``) must answer, and how.

Each backend in ``BACKENDS`` indexes the same fixture corpus (the seeds, dated articles made
here, and real articles of ``../shared`` when it is there) and is asked the same questions.
The expected answers are worked out here from the documents themselves, by a plain reading
of the query semantics (``search/querylang.py``): which documents match, the totals, every
facet's counts under its own filters, the date range, the order of the sorts and the pages.
A second backend passes when it gives the same answers.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from search import querylang
from search.backends import Backend, Filters, SearchSpec, open_backend
from search.corpus import Article, read_corpus
from search.facets import FACETS, UNKNOWN
from search.indexer import document_fields, reindex
from search.scoring import TEXT_FIELDS
from search.text import fold, normalize_token, syllables

from .conftest import SEEDS, SHARED

REAL_ARTICLES = 120  # of party_committee_subset, when ../shared is there

DATED = [  # (date, title, body): a spread of dates and provinces for the filters and sorts
    ("2019-03-02", "Tỉnh ủy Lạng Sơn họp bàn kinh tế", "Tỉnh ủy Lạng Sơn tổ chức hội nghị về phát triển kinh tế xã hội."),
    ("2019-11-20", "UBND tỉnh Sơn La giao ban", "Ủy ban nhân dân tỉnh Sơn La giao ban công tác tháng 11."),
    ("2020-06-15", "Hội nghị Ban Chấp hành Đảng bộ tỉnh Điện Biên", "Ban Chấp hành Đảng bộ tỉnh Điện Biên họp hội nghị lần thứ 5."),
    ("2021-01-08", "Bí thư Tỉnh ủy Bắc Kạn thăm huyện Ba Bể", "Bí thư Tỉnh ủy Bắc Kạn làm việc tại huyện Ba Bể về nông thôn mới."),
    ("2021-09-30", "HĐND tỉnh Lạng Sơn họp kỳ họp thứ 3", "Hội đồng nhân dân tỉnh Lạng Sơn khai mạc kỳ họp thứ ba."),
    ("2022-05-05", "Tỉnh ủy Điện Biên sơ kết nghị quyết", "Tỉnh ủy Điện Biên sơ kết nghị quyết về chuyển đổi số, không có covid."),
    ("2023-07-19", "Covid và kinh tế Sơn La", "Tỉnh Sơn La phục hồi kinh tế sau covid; Tỉnh ủy Sơn La chỉ đạo."),
    ("2024-02-01", "Chúc Tết Nguyên đán", "Lời chúc Tết Nguyên đán của Tỉnh ủy Bắc Kạn gửi nhân dân."),
    ("2019-02-04", "Chúc Tết Kỷ Hợi", "Lời chúc Tết Nguyên đán Kỷ Hợi của Tỉnh uỷ Lạng Sơn."),
]

QUERIES = [
    "tỉnh ủy", "tinh uy", "hội nghị", "hoi nghi", "hội", "hợi", "hoi", "Tỉnh uỷ Lạng Sơn", "kinh tế", '"ban chấp hành"', '"ban chap hanh"',
    "UBND", "ủy ban nhân dân", "HĐND", "tỉnh ủy -covid", "covid", "điện biên OR lạng sơn",
    "bí thư tỉnh ủy điện biên trần quốc cường hội nghị", "title:covid", "nông thôn mới", "",
    "-covid", "xyzzy",
]

FILTERS = [
    Filters(),
    Filters({"province": ("Lạng Sơn",)}),
    Filters({"province": ("Lạng Sơn", "Điện Biên")}),
    Filters({"province": (UNKNOWN,)}),
    Filters({"province_2025": ("Thái Nguyên",)}),
    Filters({"year": ("2021", "2023")}),
    Filters({"province": ("Sơn La",), "year": ("2019",)}),
    Filters(date_from=20200101, date_to=20221231),
    Filters(date_from=20210101),
    Filters({"province": ("Điện Biên",)}, date_to=20230301),
    Filters({"year": (UNKNOWN, "2021")}, date_from=20210101, undated=True),
]


# --- the fixture corpus and what it holds ----------------------------------------------------

def _make_corpus(folder: Path) -> Path:
    shutil.copytree(SEEDS, folder)
    lines = [json.dumps({"id": f"d{i}", "date": day, "title": title, "body": body}, ensure_ascii=False)
             for i, (day, title, body) in enumerate(DATED)]
    (folder / "dated.jsonl").write_text("\n".join(lines), encoding="utf-8")
    real = SHARED / "corpora" / "party_committee_subset.jsonl.gz"
    if real.exists():
        with gzip.open(real, "rt", encoding="utf-8") as f:
            head = [next(f) for _ in range(REAL_ARTICLES)]
        (folder / "real.jsonl").write_text("".join(head), encoding="utf-8")
    return folder


class Truth:
    """The documents of the corpus, read directly, and the answers their text implies."""

    def __init__(self, corpus: Path):
        self.docs = {a.id: document_fields(a) for a in read_corpus(corpus) if isinstance(a, Article)}
        self.accented = {i: {f: [normalize_token(s.text) for s in syllables(d[f])] for f in TEXT_FIELDS}
                         for i, d in self.docs.items()}
        self.words = {i: {f: [fold(w) for w in ws] for f, ws in fields.items()}
                      for i, fields in self.accented.items()}
        self.reading = "folded"

    def _has(self, doc_id: str, form: list[str], fields) -> bool:
        """Whether the syllables of `form` are side by side in a field: as written (canonical
        tones) when the query reads "exact", folded when "folded", either when "loose"."""
        readings = {"exact": [(self.accented, normalize_token)], "folded": [(self.words, _folded)],
                    "loose": [(self.accented, normalize_token), (self.words, _folded)]}[self.reading]
        for table, norm in readings:
            want = [norm(w) for w in form]
            for f in fields:
                have = table[doc_id][f]
                if any(have[i:i + len(want)] == want for i in range(len(have) - len(want) + 1)):
                    return True
        return False

    def _clause(self, doc_id: str, clause) -> bool:
        fields = ("title",) if clause.field == "title" else TEXT_FIELDS
        return any(self._has(doc_id, form, fields) for form in [clause.words, *clause.alternatives])

    def matched(self, parsed, require_all: bool) -> set[str]:
        """Documents a parsed query matches: groups ORed; in a group, the positive content
        clauses ANDed (or ORed for long queries), negated clauses excluded; words read as
        ``parsed.reading`` says."""
        self.reading = parsed.reading
        out = set()
        groups = [g for g in parsed.groups if any(not c.negated for c in g)]
        for doc_id in self.docs:
            if not groups:  # nothing but negations: every document they leave
                if not any(self._clause(doc_id, c) for c in parsed.clauses if c.negated):
                    out.add(doc_id)
                continue
            for group in groups:
                positive = [c for c in group if not c.negated]
                content = [c for c in positive if not c.stop] or positive
                hits = [self._clause(doc_id, c) for c in content]
                if (all(hits) if require_all else any(hits)) and \
                        not any(self._clause(doc_id, c) for c in group if c.negated):
                    out.add(doc_id)
                    break
        return out

    def passes(self, doc_id: str, filters: Filters) -> bool:
        doc = self.docs[doc_id]
        if any(doc[f] not in values for f, values in filters.values.items()):
            return False
        if filters.dated:
            day = int(doc["date"].replace("-", "")) if doc["date"] else 0
            if day == 0:
                return filters.undated
            return (filters.date_from or 0) <= day <= (filters.date_to or 99999999)
        return True


def _folded(word: str) -> str:
    return fold(normalize_token(word))


# The embedded backend, OpenSearch on one node, and OpenSearch on three nodes with an index of
# three shards and one replica (tests/opensearch_cluster.py; skipped when no node can start).
BACKENDS = ["whoosh", pytest.param("opensearch", marks=pytest.mark.opensearch),
            pytest.param("opensearch-3shards", marks=pytest.mark.opensearch)]


def backend_location(request, base: Path) -> str:
    """Where the backend `request.param` keeps the fixture corpus."""
    if request.param == "whoosh":
        return str(base / "index")
    if request.param == "opensearch":
        return f"opensearch+{request.getfixturevalue('opensearch_one').url}/contract"
    urls = request.getfixturevalue("opensearch_three").urls
    return "opensearch+http://" + ",".join(u.removeprefix("http://") for u in urls) + \
        "/contract3?shards=3&replicas=1"


@pytest.fixture(scope="module", params=BACKENDS)
def world(request, tmp_path_factory):
    """(backend, truth) over the fixture corpus, for each backend."""
    base = tmp_path_factory.mktemp(f"contract-{request.param}")
    corpus = _make_corpus(base / "corpus")
    location = backend_location(request, base)
    reindex(corpus, location, full=True, workers=1)
    backend = open_backend(location)
    yield backend, Truth(corpus)
    backend.close()


def _all(backend: Backend, parsed, require_all: bool, filters: Filters, sort="relevance") -> list:
    return backend.search(SearchSpec(parsed, require_all, filters, sort=sort, limit=10_000)).hits


# --- the contract ---------------------------------------------------------------------------

def test_it_is_a_backend(world):
    backend, truth = world
    assert isinstance(backend, Backend)
    assert backend.is_current()
    health = backend.health()
    assert health["documents"] == len(truth.docs) and health["backend"] and health["generation"]


def test_the_fixture_has_what_the_queries_need(world):
    _, truth = world
    assert len(truth.docs) >= len(DATED) + 5
    assert {d["province"] for d in truth.docs.values()} >= {"Lạng Sơn", "Điện Biên", "Sơn La", "Bắc Kạn"}


@pytest.mark.parametrize("q", QUERIES + ["loose:hội", "loose:Tỉnh uỷ Lạng Sơn", "loose:hội nghị"])
@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: f"{dict(f.values)}-{f.date_from}-{f.date_to}-{f.undated}")
def test_matches_totals_and_facets(world, q, filters):
    backend, truth = world
    parsed = querylang.parse(q.removeprefix("loose:"))
    if q.startswith("loose:"):  # the fallback reading of a query with diacritics
        parsed = dataclasses.replace(parsed, loose=True)
    require_all = querylang.require_all(parsed)
    facet_filters = {name: filters.without(name) for name in FACETS}
    by_month = dataclasses.replace(filters, undated=True)  # as search/query.py asks for the chart
    found = backend.search(SearchSpec(parsed, require_all, filters, facet_filters, limit=0, histogram=by_month))
    matched = truth.matched(parsed, require_all)
    assert found.matched == len(matched)
    expected = {d for d in matched if truth.passes(d, filters)}
    assert found.total == len(expected)
    assert found.hits == []
    for name, under in facet_filters.items():
        counts = Counter(truth.docs[d][name] for d in matched if truth.passes(d, under))
        assert found.facets[name] == dict(counts), name
    months = Counter(truth.docs[d]["date"][:7] for d in matched if truth.passes(d, by_month))
    assert found.histogram == dict(months)  # "YYYY-MM" and UNDATED ("") for the undated
    if found.total:
        hits = _all(backend, parsed, require_all, filters)
        assert {m.doc["id"] for m in hits} == expected


@pytest.mark.parametrize("q", ["tỉnh ủy", "hoi nghi", "UBND", "bí thư tỉnh ủy điện biên trần quốc cường hội nghị"])
def test_relevance_pages_are_slices_of_one_ranking(world, q):
    backend, _ = world
    parsed = querylang.parse(q)
    everything = _all(backend, parsed, querylang.require_all(parsed), Filters())
    scores = [m.score for m in everything]
    assert scores == sorted(scores, reverse=True) and all(s > 0 for s in scores)
    for offset, limit in ((0, 3), (3, 3), (5, 10), (len(everything) - 1, 5), (len(everything), 5)):
        page = backend.search(SearchSpec(parsed, querylang.require_all(parsed), offset=offset, limit=limit))
        assert [m.doc["id"] for m in page.hits] == [m.doc["id"] for m in everything[offset:offset + limit]]


def test_no_histogram_unless_asked(world):
    backend, _ = world
    assert backend.search(SearchSpec(querylang.parse(""), limit=0)).histogram == {}


@pytest.mark.parametrize("sort", ["newest", "oldest"])
def test_date_sorts_put_undated_last(world, sort):
    backend, truth = world
    hits = _all(backend, querylang.parse(""), True, Filters(), sort=sort)
    assert len(hits) == len(truth.docs)
    dates = [m.doc["date"] for m in hits]
    dated = [d for d in dates if d]
    assert dates[:len(dated)] == dated  # undated ones after every dated one
    assert dated == sorted(dated, reverse=sort == "newest")
    page = backend.search(SearchSpec(querylang.parse(""), sort=sort, offset=2, limit=4))
    assert [m.doc["id"] for m in page.hits] == [m.doc["id"] for m in hits[2:6]]


def test_stored_documents(world):
    backend, truth = world
    for doc_id, doc in list(truth.docs.items())[:20]:
        stored = backend.document(doc_id)
        for name in ("id", "title", "body", "date", *FACETS):
            assert stored[name] == doc[name], (doc_id, name)
    assert backend.document("no/such/id") is None


def test_similar_documents_exclude_the_document_itself(world):
    backend, _ = world
    related = backend.similar("000_16468085dbf1e3df", 5)
    assert 0 < len(related) <= 5
    assert "000_16468085dbf1e3df" not in [m.doc["id"] for m in related]
    assert [m.score for m in related] == sorted((m.score for m in related), reverse=True)
    assert backend.similar("no/such/id", 5) == []


def test_vocabulary(world):
    backend, truth = world
    assert backend.word_known("tinh") and not backend.word_known("xyzzy")
    near = dict(backend.near_words("cuongg", 2))
    assert "cuong" in near and near["cuong"] == sum("cuong" in w["body"] for w in truth.words.values())
    assert all(w.startswith("c") for w in near)
    values = backend.facet_values("province")
    assert set(values) == {d["province"] for d in truth.docs.values()}


def test_a_reindex_makes_the_open_backend_stale(tmp_path):
    corpus = tmp_path / "c"
    shutil.copytree(SEEDS, corpus)
    reindex(corpus, tmp_path / "i", workers=1)
    backend = open_backend(str(tmp_path / "i"))
    assert backend.is_current()
    (corpus / "new.txt").write_text("Bài mới\n\nTỉnh ủy Lạng Sơn họp.", encoding="utf-8")
    reindex(corpus, tmp_path / "i", workers=1)
    assert not backend.is_current()
    assert backend.search(SearchSpec(querylang.parse(""), limit=0)).total == 5  # still its own generation
    assert open_backend(str(tmp_path / "i")).search(SearchSpec(querylang.parse(""), limit=0)).total == 6
