"""The OpenSearch backend against the embedded one, on real nodes (tests/opensearch_cluster.py).

Both backends index the contract's fixture corpus; every query of a set covering words,
unaccented words, phrases, abbreviations, NOT, every filter, date ranges, sorts and paging
must give the same totals and facet counts, the same ordered ids and scores within
``RTOL``. Scores cannot be equal to the last bit: each engine keeps a document's length in
one lossy byte with its own encoding (Whoosh's ``length_to_byte``, Lucene's
``SmallFloat.intToByte4``), and averages lengths its own way (Whoosh over every document,
from the lossy bytes; Lucene exactly, over the documents that have the field). So two
documents whose scores differ by less than twice the tolerance may come in either order
(a near-tie); anything else must be in the same place. The check is shown to fail when
each shard scores with its own statistics (``query_then_fetch``) on an uneven index.

Operations: a node lost during searches, the whole cluster down (503, one CLI line) and
back, a failed reindex, an incremental reindex, the lock, a stale mapping.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from opensearchpy import OpenSearch, helpers

from search import querylang
from search.backends import Filters, Matches, SearchSpec, open_backend
from search.backends import opensearch as osb
from search.cli import cli
from search.corpus import Article, read_corpus
from search.errors import BackendUnavailable, ReindexBusy, StaleIndex
from search.facets import FACETS, UNKNOWN
from search.indexer import document_fields, reindex
from web import create_app

from .conftest import SEEDS, shared_corpus
from .opensearch_cluster import free_ports
from .test_backend_contract import _make_corpus

pytestmark = pytest.mark.opensearch

# Relative score tolerance: the largest difference seen is 6.1 % on the fixture corpus and 8.8 %
# on 5,000 articles of the four corpora (bench/opensearch_latency.py --limit 5000).
RTOL = 0.10
ATOL = 1e-4

QUERY_SET = [
    "tỉnh ủy", "tinh uy", "hội nghị", "hoi nghi", "hội", "hoi", "kinh tế", "Tỉnh uỷ Lạng Sơn",
    '"ban chấp hành"', '"ban chap hanh"', '"tỉnh ủy lạng sơn"', "UBND", "ủy ban nhân dân", "HĐND",
    "tỉnh ủy -covid", "tỉnh ủy NOT covid", 'kinh tế -"lạng sơn"', "covid", "điện biên OR lạng sơn",
    "title:covid", "title:tết", "bí thư tỉnh ủy điện biên trần quốc cường hội nghị", "nông thôn mới",
    "loose:hội", "loose:hội nghị", "", "-covid", "xyzzy",
]
FILTER_SET = [
    Filters(),
    Filters({"province": ("Lạng Sơn",)}),
    Filters({"province": ("Lạng Sơn", "Điện Biên")}),
    Filters({"province": (UNKNOWN,)}),
    Filters({"province_2025": ("Thái Nguyên",)}),
    Filters({"secretary": ("Trần Quốc Cường",)}),
    Filters({"year": ("2021", "2023")}),
    Filters({"province": ("Sơn La",), "year": ("2019",)}),
    Filters(date_from=20200101, date_to=20221231),
    Filters(date_from=20210101),
    Filters(date_to=20200101),
    Filters({"year": (UNKNOWN, "2021")}, date_from=20210101, undated=True),
]
PAGES = [(0, 10), (10, 10), (3, 4), (0, 200)]


def _parse(q: str):
    parsed = querylang.parse(q.removeprefix("loose:"))
    return dataclasses.replace(parsed, loose=True) if q.startswith("loose:") else parsed


def _three(cluster) -> str:
    return ",".join(u.removeprefix("http://") for u in cluster.urls)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return _make_corpus(tmp_path_factory.mktemp("same") / "corpus")


@pytest.fixture(scope="module")
def whoosh(corpus):
    location = corpus.parent / "whoosh"
    reindex(corpus, location, full=True, workers=1)
    backend = open_backend(str(location))
    yield backend
    backend.close()


@pytest.fixture(scope="module", params=["1node", "3shards"])
def opensearch(request, corpus):
    if request.param == "1node":
        location = f"opensearch+{request.getfixturevalue('opensearch_one').url}/same1"
    else:
        location = f"opensearch+http://{_three(request.getfixturevalue('opensearch_three'))}/same3?shards=3&replicas=1"
    reindex(corpus, location, full=True, workers=2)  # analysed by 2 processes: same order, same seq
    backend = open_backend(location)
    yield backend
    backend.close()


def _spec(q: str, filters: Filters, sort="relevance", offset=0, limit=10) -> SearchSpec:
    parsed = _parse(q)
    return SearchSpec(parsed, querylang.require_all(parsed), filters, {n: filters.without(n) for n in FACETS},
                      sort=sort, offset=offset, limit=limit)


def assert_same(expected, found, label: str = "") -> float:
    """Same counts, same ids in the same order but for near-ties, scores within RTOL; returns
    the largest relative score difference."""
    assert (found.matched, found.total) == (expected.matched, expected.total), label
    assert found.facets == expected.facets, label
    want = [m.doc["id"] for m in expected.hits]
    got = [m.doc["id"] for m in found.hits]
    assert len(got) == len(want), label
    score = {m.doc["id"]: m.score for m in expected.hits}
    worst = 0.0
    for m in found.hits:
        if m.doc["id"] not in score:
            # a near-tie at the page's edge: it must score like the one it displaced
            continue
        reference = score[m.doc["id"]]
        assert m.score == pytest.approx(reference, rel=RTOL, abs=ATOL), (label, m.doc["id"], m.score, reference)
        if reference:
            worst = max(worst, abs(m.score - reference) / reference)
    for i, (a, b) in enumerate(zip(got, want)):
        if a != b:  # only documents whose embedded scores are within twice the tolerance may swap
            sa, sb = score.get(a, expected.hits[i].score), expected.hits[i].score
            assert abs(sa - sb) <= 2 * RTOL * max(sa, sb) + ATOL, (label, i, a, b, sa, sb)
            assert found.hits[i].score == pytest.approx(sb, rel=RTOL, abs=ATOL), (label, i, a, b)
    return worst


def test_same_answers_as_the_embedded_backend(whoosh, opensearch):
    shared_corpus("party_committee_subset.jsonl.gz")  # the counts below need its real articles
    worst, compared, same_place = 0.0, 0, 0
    sharded = opensearch.config["shards"] > 1  # slower to ask: the first page of each filter only
    asked = [(filters, "relevance", page) for filters in FILTER_SET
             for page in (PAGES if filters == Filters() else PAGES[:1 if sharded else 2])]
    asked += [(filters, sort, page) for filters in FILTER_SET[:2] + FILTER_SET[8:9]
              for sort in ("newest", "oldest") for page in PAGES[1:3]]
    first = first_same = 0
    for q in QUERY_SET:
        for filters, sort, (offset, limit) in asked:
            spec = _spec(q, filters, sort, offset, limit)
            expected, found = whoosh.search(spec), opensearch.search(spec)
            label = f"{q!r} {filters} {sort} {offset}+{limit}"
            if sort != "relevance":  # dates, then index order: exactly the same
                assert [m.doc["id"] for m in found.hits] == [m.doc["id"] for m in expected.hits], label
            worst = max(worst, assert_same(expected, found, label))
            compared += len(found.hits)
            same_place += sum(a.doc["id"] == b.doc["id"] for a, b in zip(found.hits, expected.hits))
            if found.hits and offset == 0:
                first += 1
                first_same += found.hits[0].doc["id"] == expected.hits[0].doc["id"]
    # Near-ties are common deep in long result lists of a small corpus; the best hit almost never moves.
    assert compared > 2500 and same_place / compared > 0.8 and first_same / first > 0.95, \
        (compared, same_place, first, first_same)
    print(f"\n{opensearch.location}: {compared} hits compared, {same_place / compared:.1%} in the same place "
          f"(first hit: {first_same}/{first}), largest relative score difference {worst:.2%}")


def test_stored_documents_similar_and_vocabulary_agree(whoosh, opensearch):
    shared_corpus("party_committee_subset.jsonl.gz")  # one of the documents is a real article
    for doc_id in ["000_16468085dbf1e3df", "dated/d3", "real/vietnews/test/019090"]:
        assert opensearch.document(doc_id) == whoosh.document(doc_id)
        expected, found = whoosh.similar(doc_id, 8), opensearch.similar(doc_id, 8)
        assert expected and found
        assert_same(Matches(0, 0, expected, {}), Matches(0, 0, found, {}), f"similar {doc_id}")
    for word in ("cuongg", "tinj", "bienn", "hoii", "xyzzy"):
        assert opensearch.near_words(word, 2) == sorted(whoosh.near_words(word, 2)), word
    for word, accented in (("tinh", False), ("tỉnh", True), ("tinh", True), ("xyzzy", False)):
        assert opensearch.word_known(word, accented) == whoosh.word_known(word, accented)
    for facet in FACETS:
        assert sorted(opensearch.facet_values(facet)) == sorted(whoosh.facet_values(facet))


def test_the_check_fails_with_per_shard_statistics(opensearch_three, corpus, whoosh):
    """Most documents on one shard, a few on the others: query_then_fetch scores each shard with
    its own document frequencies and the comparison above fails; dfs_query_then_fetch passes."""
    client = OpenSearch(hosts=opensearch_three.urls)
    name, alias = "uneven-1", "uneven"
    client.indices.create(index=name, body=osb.index_body(alias, shards=3, replicas=0))
    routes: dict[int, str] = {}
    for n in range(200):
        shard = client.search_shards(index=name, routing=f"r{n}")["shards"][0][0]["shard"]
        routes.setdefault(shard, f"r{n}")
    docs = [document_fields(a) for a in read_corpus(corpus) if isinstance(a, Article)]
    actions = []
    for seq, doc in enumerate(docs):
        day = doc["date"]
        body = osb.analysed({**doc, "seq": seq, "date_num": int(day.replace("-", "")) if day else None})
        routing = routes[0] if seq % 10 else routes[1 + (seq // 10) % 2]  # 90 % on shard 0
        actions.append({"_index": name, "_id": doc["id"], "_routing": routing, **body})
    helpers.bulk(client, actions, refresh=True)
    meta = osb._meta(client, name)
    client.indices.put_mapping(index=name, body={"_meta": {"vnsearch": {**meta, "committed_at": "now"}}})
    client.indices.put_alias(index=name, name=alias)
    backend = open_backend(f"opensearch+http://{_three(opensearch_three)}/{alias}")
    try:
        queries = ["tỉnh ủy", "hoi nghi", "kinh tế", "UBND", "điện biên OR lạng sơn"]
        for q in queries:  # global statistics: the same answers
            assert_same(whoosh.search(_spec(q, Filters(), limit=50)), backend.search(_spec(q, Filters(), limit=50)), q)
        backend.search_type = "query_then_fetch"
        failures = 0
        for q in queries:
            try:
                assert_same(whoosh.search(_spec(q, Filters(), limit=50)), backend.search(_spec(q, Filters(), limit=50)), q)
            except AssertionError:
                failures += 1
        assert failures == len(queries)
    finally:
        backend.close()
        client.indices.delete(index=name)
        client.close()


# --- writing ---------------------------------------------------------------------------------

def _seeds(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    return corpus


def _ours(client: OpenSearch, alias: str) -> list[str]:
    return sorted(client.indices.get(index=f"{alias}-*"))


def _indexing(client: OpenSearch, index: str) -> tuple[int, int]:
    stats = client.indices.stats(index=index, metric="indexing")["indices"][index]["primaries"]["indexing"]
    return stats["index_total"], stats["delete_total"]


def test_incremental_reindex_sends_only_what_changed(opensearch_one, tmp_path):
    location = f"opensearch+{opensearch_one.url}/incr"
    client = OpenSearch(hosts=[opensearch_one.url])
    corpus = _seeds(tmp_path)
    first = reindex(corpus, location, workers=1)
    assert (first.added, first.unchanged) == (5, 0)
    backend = open_backend(location)
    built = backend.generation
    assert _indexing(client, built) == (5, 0)

    assert reindex(corpus, location, workers=1).unchanged == 5  # nothing changed: no new index
    assert _ours(client, "incr") == [built] and backend.is_current()

    changed = sorted(corpus.glob("*.txt"))
    changed[0].write_text(changed[0].read_text(encoding="utf-8") + "\nThêm một đoạn về Tỉnh ủy.", encoding="utf-8")
    changed[1].unlink()
    (corpus / "new.txt").write_text("Bài mới\n\nTỉnh ủy Lạng Sơn họp bàn kinh tế.", encoding="utf-8")
    report = reindex(corpus, location, workers=1)
    assert (report.added, report.updated, report.removed, report.unchanged) == (1, 1, 1, 3)
    assert not backend.is_current()
    fresh = open_backend(location)
    assert _indexing(client, fresh.generation) == (2, 1)  # a clone of the live index, then the changes
    assert fresh.health()["documents"] == 5
    assert _ours(client, "incr") == sorted([built, fresh.generation])  # the previous one is kept
    spec = SearchSpec(querylang.parse(""), sort="newest", limit=10)
    assert len(fresh.search(spec).hits) == 5
    assert fresh.search(SearchSpec(querylang.parse("kinh tế Lạng Sơn"))).total >= 1
    # the updated document is now the last added (as in the embedded index's order)
    ids = [m.doc["id"] for m in fresh.search(SearchSpec(querylang.parse(""), sort="relevance", limit=10)).hits]
    assert ids[-2:] == [changed[0].stem, "new"]

    (corpus / "new2.txt").write_text("Bài mới nữa\n\nThành ủy Hà Nội.", encoding="utf-8")
    reindex(corpus, location, workers=1)
    third = open_backend(location)
    assert _ours(client, "incr") == sorted([fresh.generation, third.generation])  # the oldest deleted
    for b in (backend, fresh, third):
        b.close()
    client.close()


def test_a_failed_reindex_leaves_the_alias_where_it_was(opensearch_one, tmp_path, monkeypatch):
    location = f"opensearch+{opensearch_one.url}/failing"
    client = OpenSearch(hosts=[opensearch_one.url])
    corpus = _seeds(tmp_path)
    reindex(corpus, location, workers=1)
    live = open_backend(location).generation
    monkeypatch.setattr(osb, "BATCH_DOCS", 2)  # so that _bulk requests went out before the failure

    def fail(done, total):
        if done == 4:
            raise RuntimeError("stopped mid-bulk")

    with pytest.raises(RuntimeError, match="stopped mid-bulk"):
        reindex(corpus, location, full=True, workers=1, progress=fail)
    assert osb._alias_target(client, "failing") == live
    assert _ours(client, "failing") == [live]  # the half-built index was deleted
    assert reindex(corpus, location, workers=1).unchanged == 5  # the lock was released
    client.close()


def test_one_reindex_at_a_time(opensearch_one, tmp_path):
    location = f"opensearch+{opensearch_one.url}/locked"
    writer, other = osb.open_writer(location), osb.open_writer(location)
    with writer.lock():
        with pytest.raises(ReindexBusy, match=f"process {os.getpid()}"):
            with other.lock():
                pass
    with other.lock():  # released
        pass
    # A lock left by a process of this host that is gone is cleared.
    writer.client.index(index=osb.LOCK_INDEX, id="locked", refresh=True, body={
        "host": os.uname().nodename, "pid": 2 ** 22 + 7, "started": "2026-01-01T00:00:00+00:00", "heartbeat": time.time()})
    with other.lock():
        pass
    # So is one whose owner has not written for LOCK_STALE_SECONDS, wherever it runs.
    writer.client.index(index=osb.LOCK_INDEX, id="locked", refresh=True, body={
        "host": "elsewhere", "pid": 1, "started": "2026-01-01T00:00:00+00:00", "heartbeat": time.time() - osb.LOCK_STALE_SECONDS - 1})
    with other.lock():
        pass


def test_an_index_of_another_mapping_version_is_stale(opensearch_one, tmp_path):
    location = f"opensearch+{opensearch_one.url}/stale"
    reindex(_seeds(tmp_path), location, workers=1)
    backend = open_backend(location)
    meta = osb._meta(backend.client, backend.generation)
    backend.client.indices.put_mapping(index=backend.generation, body={"_meta": {"vnsearch": {
        **meta, "mapping_version": osb.MAPPING_VERSION - 1}}})
    with pytest.raises(StaleIndex, match="reindex --full"):
        open_backend(location)
    assert osb.open_writer(location).known() is None  # the next reindex sends everything
    backend.close()


# --- operations ------------------------------------------------------------------------------

def test_an_unreachable_cluster_is_one_line():
    port = free_ports(1)[0]
    location = f"opensearch+http://127.0.0.1:{port}"
    with pytest.raises(BackendUnavailable, match=f"the search cluster at http://127.0.0.1:{port} is unavailable"):
        open_backend(location)
    result = CliRunner().invoke(cli, ["search", "tỉnh ủy", "--backend", location])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: the search cluster at http://127.0.0.1:{port} is unavailable")
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
    client = create_app({"INDEX_DIR": location, "TESTING": True}).test_client()
    assert client.get("/api/search?q=x").status_code == 503
    health = client.get("/healthz")
    assert health.status_code == 503 and health.json["status"] == "unavailable"


def _api(client, q="tỉnh ủy"):
    response = client.get(f"/api/search?q={q}")
    return response.status_code, response.json


def test_a_node_down_keeps_answering_the_cluster_down_is_a_503_then_recovers(opensearch_three, tmp_path):
    """Runs last: it stops nodes of the shared cluster, and starts them again."""
    cluster = opensearch_three
    location = f"opensearch+http://{_three(cluster)}/down?shards=3&replicas=1"
    reindex(_seeds(tmp_path), location, workers=1)
    OpenSearch(hosts=cluster.urls).cluster.health(index="down", wait_for_status="green", timeout="60s",
                                                  request_timeout=70)
    app = create_app({"INDEX_DIR": location, "TESTING": True})
    client = app.test_client()
    status, before = _api(client)
    assert status == 200 and before["total"] > 0
    health = client.get("/healthz").json
    assert (health["backend"], health["cluster"]["number_of_nodes"], health["cluster"]["status"]) == \
        ("opensearch", 3, "green")

    cluster.stop_node(2)  # one node of three: every shard has a copy elsewhere
    cluster.wait_for("yellow", nodes=2, timeout=60)
    for _ in range(5):
        status, during = _api(client)
        assert status == 200 and during["total"] == before["total"]
    assert client.get("/healthz").json["cluster"]["number_of_nodes"] == 2

    cluster.stop()  # every node
    status, body = _api(client)
    assert status == 503 and "the search cluster at http://127.0.0.1:" in body["error"] and "unavailable" in body["error"]
    page = client.get("/search?q=t%E1%BB%89nh")
    assert page.status_code == 503 and "Máy chủ tìm kiếm" in page.get_data(as_text=True)
    assert client.get("/healthz").status_code == 503
    result = CliRunner().invoke(cli, ["search", "tỉnh ủy", "--backend", location])
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1
    assert "is unavailable" in result.output and "Traceback" not in result.output

    cluster.start()
    OpenSearch(hosts=cluster.urls).cluster.health(wait_for_status="green", timeout="90s", request_timeout=100)
    deadline = time.monotonic() + 60
    while (status := _api(client)[0]) != 200 and time.monotonic() < deadline:
        time.sleep(0.5)
    status, after = _api(client)
    assert status == 200 and after["total"] == before["total"]
    assert json.dumps(after["hits"]) == json.dumps(before["hits"])
