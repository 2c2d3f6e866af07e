"""Real OpenSearch nodes (tools/opensearch-node) do what the OpenSearch backend relies on.

Vietnamese text reaches OpenSearch already analysed by vnsearch, as whitespace-separated tokens,
so only OpenSearch's core is exercised here: whitespace analysis, BM25, aggregations,
post_filter, global statistics, more_like_this, the alias switch of a reindex, and a 3-node
cluster losing a node and getting it back.
"""

from __future__ import annotations

import pytest
from opensearchpy import OpenSearch, helpers

from .opensearch_cluster import OpenSearchCluster, available

pytestmark = pytest.mark.opensearch

TEXT = {"type": "text", "analyzer": "whitespace", "similarity": "vn_bm25"}
SETTINGS = {
    "number_of_shards": 2,
    "number_of_replicas": 0,
    "similarity": {"vn_bm25": {"type": "BM25", "k1": 1.6, "b": 0.75}},
}
MAPPINGS = {
    "properties": {
        "title": TEXT,
        "title_folded": TEXT,
        "body": TEXT,
        "province": {"type": "keyword"},
        "year": {"type": "integer"},
    }
}
# Tokens as vnsearch's analysis gives them: lower-cased syllables, and a folded copy.
ARTICLES = [
    {"_id": "db-1", "title": "bí thư tỉnh ủy điện biên", "title_folded": "bi thu tinh uy dien bien",
     "body": "bí thư tỉnh ủy thăm huyện mường nhé", "province": "Điện Biên", "year": 2023},
    {"_id": "db-2", "title": "hội nghị tỉnh ủy điện biên", "title_folded": "hoi nghi tinh uy dien bien",
     "body": "tỉnh ủy điện biên tổng kết nghị quyết", "province": "Điện Biên", "year": 2024},
    {"_id": "lc-1", "title": "bí thư tỉnh ủy lào cai", "title_folded": "bi thu tinh uy lao cai",
     "body": "bí thư làm việc với huyện bát xát", "province": "Lào Cai", "year": 2024},
    {"_id": "hn-1", "title": "thành ủy hà nội", "title_folded": "thanh uy ha noi",
     "body": "bị thu hồi đất dự án", "province": "Hà Nội", "year": 2022},
]


def _skip_unless_available() -> None:
    reason = available()
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    """One single-node cluster shared by this module's single-node tests (a JVM start is slow)."""
    _skip_unless_available()
    cluster = OpenSearchCluster(tmp_path_factory.mktemp("opensearch-1"), nodes=1, name="vn-single")
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="module")
def client(node):
    with OpenSearch(hosts=[node.url]) as client:
        yield client


@pytest.fixture
def articles(client, request):
    """An index of ARTICLES named after the test, refreshed, deleted afterwards."""
    name = request.node.name.lower().replace("_", "-")
    client.indices.create(index=name, body={"settings": SETTINGS, "mappings": MAPPINGS})
    ok, errors = helpers.bulk(client, ({"_index": name, **a} for a in ARTICLES), refresh=True)
    assert (ok, errors) == (len(ARTICLES), [])
    yield name
    client.indices.delete(index=name)


def _ids(response) -> list[str]:
    return [hit["_id"] for hit in response["hits"]["hits"]]


def test_whitespace_analyzer_keeps_vietnamese_syllables(client, articles):
    tokens = client.indices.analyze(index=articles, body={"field": "title", "text": "Bí thư tỉnh ủy"})
    assert [t["token"] for t in tokens["tokens"]] == ["Bí", "thư", "tỉnh", "ủy"]


def test_match_ranks_with_bm25_on_both_copies(client, articles):
    exact = client.search(index=articles, body={"query": {"match": {"title": "bí thư"}}})
    assert sorted(_ids(exact)) == ["db-1", "lc-1"]
    folded = client.search(index=articles, body={"query": {"match": {"title_folded": "bi thu"}}})
    assert sorted(_ids(folded)) == ["db-1", "lc-1"]
    # "bị thu" shares no token with "bí thư": diacritics are distinct tokens, not folded away.
    assert _ids(client.search(index=articles, body={"query": {"match": {"body": "bị thu"}}})) == ["hn-1"]
    explained = client.explain(index=articles, id="db-1", body={"query": {"match": {"title": "thư"}}})
    assert "k1" in str(explained["explanation"]) and explained["matched"] is True


def test_terms_aggregation_and_post_filter(client, articles):
    body = {
        "query": {"match": {"title": {"query": "tỉnh ủy", "operator": "and"}}},
        "aggs": {
            "province": {"terms": {"field": "province"}},
            "recent": {"filter": {"range": {"year": {"gte": 2024}}}},
        },
        "post_filter": {"term": {"province": "Lào Cai"}},
    }
    response = client.search(index=articles, body=body)
    assert _ids(response) == ["lc-1"]  # the post_filter narrows the hits...
    buckets = {b["key"]: b["doc_count"] for b in response["aggregations"]["province"]["buckets"]}
    assert buckets == {"Điện Biên": 2, "Lào Cai": 1}  # ...but not the facets
    assert response["aggregations"]["recent"]["doc_count"] == 2


def test_more_like_this(client, articles):
    body = {"query": {"more_like_this": {
        "fields": ["title"], "like": [{"_index": articles, "_id": "db-1"}],
        "min_term_freq": 1, "min_doc_freq": 1}}}
    ids = _ids(client.search(index=articles, body=body))
    # db-1 itself is left out; the articles sharing "tỉnh ủy" and a place or "bí thư" come first.
    assert set(ids[:2]) == {"db-2", "lc-1"} and "db-1" not in ids


def _routings_to_two_shards(client, index: str) -> tuple[str, str]:
    """Two routing values whose documents land on different shards of `index`."""
    seen: dict[int, str] = {}
    for n in range(100):
        routing = f"r{n}"
        shard = client.search_shards(index=index, routing=routing)["shards"][0][0]["shard"]
        seen.setdefault(shard, routing)
        if len(seen) == 2:
            return seen[min(seen)], seen[max(seen)]
    raise AssertionError("every routing value went to one shard")


def test_dfs_query_then_fetch_scores_with_global_statistics(client):
    index = "dfs"
    client.indices.create(index=index, body={"settings": SETTINGS, "mappings": MAPPINGS})
    try:
        crowded, sparse = _routings_to_two_shards(client, index)
        # The same article on two shards; one shard also has many other articles with "tỉnh".
        docs = [{"_id": "a", "_routing": crowded, "title": "tỉnh ủy"},
                {"_id": "b", "_routing": sparse, "title": "tỉnh ủy"},
                {"_id": "c", "_routing": sparse, "title": "thành ủy"}]
        docs += [{"_id": f"f{i}", "_routing": crowded, "title": f"tỉnh số {i}"} for i in range(20)]
        helpers.bulk(client, ({"_index": index, **d} for d in docs), refresh=True)
        query = {"query": {"match": {"title": "tỉnh"}}, "size": 30}

        def scores(search_type):
            hits = client.search(index=index, body=query, search_type=search_type)["hits"]["hits"]
            return {h["_id"]: h["_score"] for h in hits}

        local = scores("query_then_fetch")
        assert local["a"] != pytest.approx(local["b"])  # each shard's own document frequencies
        global_ = scores("dfs_query_then_fetch")
        assert global_["a"] == pytest.approx(global_["b"])  # the same statistics everywhere
    finally:
        client.indices.delete(index=index)


def test_alias_switch_is_atomic(client):
    for version, titles in (("v1", ["tỉnh ủy cũ"]), ("v2", ["tỉnh ủy mới", "bí thư mới"])):
        client.indices.create(index=f"alias-{version}", body={"settings": SETTINGS, "mappings": MAPPINGS})
        helpers.bulk(client, ({"_index": f"alias-{version}", "title": t} for t in titles), refresh=True)
    try:
        client.indices.put_alias(index="alias-v1", name="alias-live")
        assert client.count(index="alias-live")["count"] == 1
        client.indices.update_aliases(body={"actions": [
            {"remove": {"index": "alias-v1", "alias": "alias-live"}},
            {"add": {"index": "alias-v2", "alias": "alias-live"}},
        ]})
        assert list(client.indices.get_alias(name="alias-live")) == ["alias-v2"]
        assert client.count(index="alias-live")["count"] == 2
        hits = client.search(index="alias-live", body={"query": {"match": {"title": "mới"}}})
        assert {h["_index"] for h in hits["hits"]["hits"]} == {"alias-v2"}
    finally:
        client.indices.delete(index="alias-v1,alias-v2")


def _wait_green(client, index: str) -> dict:
    # opensearch-py 3 takes `timeout` for the request's own timeout unless `request_timeout` is
    # given too; then it goes to OpenSearch as the health call's wait.
    return client.cluster.health(index=index, wait_for_status="green", timeout="90s", request_timeout=100)


def test_three_nodes_survive_losing_one(tmp_path):
    _skip_unless_available()
    cluster = OpenSearchCluster(tmp_path, nodes=3, name="vn-three")
    cluster.start()
    try:
        with OpenSearch(hosts=cluster.urls) as client:
            _lose_a_node_and_get_it_back(cluster, client)
    finally:
        cluster.stop()


def _lose_a_node_and_get_it_back(cluster: OpenSearchCluster, client: OpenSearch) -> None:
    client.indices.create(index="spread", body={
        "settings": {**SETTINGS, "number_of_shards": 3, "number_of_replicas": 1,
                     # the lost node's replicas wait for it instead of being rebuilt elsewhere
                     "unassigned.node_left.delayed_timeout": "10m"},
        "mappings": MAPPINGS})
    docs = [{"_index": "spread", "_id": str(i), "title": f"tỉnh ủy số {i}"} for i in range(30)]
    helpers.bulk(client, docs, refresh=True)
    health = _wait_green(client, "spread")
    assert (health["status"], health["number_of_nodes"], health["active_shards"]) == ("green", 3, 6)

    # First a node that only holds shards, then the elected cluster manager (a new election).
    for lose_manager in (False, True):
        manager = client.cat.cluster_manager(format="json")[0]["node"]
        lost = next(i for i, n in enumerate(cluster.nodes) if (n.name == manager) == lose_manager)
        cluster.stop_node(lost)
        assert cluster.wait_for("yellow", nodes=2, timeout=60)["status"] == "yellow"
        # The client still lists the stopped node: it fails over to the others.
        response = client.search(index="spread", body={"query": {"match": {"title": "tỉnh"}}, "size": 0},
                                 search_type="dfs_query_then_fetch")
        assert (response["hits"]["total"]["value"], response["_shards"]["failed"]) == (30, 0)

        cluster.start_node(lost)
        health = _wait_green(client, "spread")
        assert (health["status"], health["number_of_nodes"]) == ("green", 3)
        assert client.count(index="spread")["count"] == 30
