"""Hostile requests to every endpoint and parameter (hypothesis): never a 5xx, never a
traceback, never an unescaped reflection; every answer small and quick."""

from __future__ import annotations

import time
from urllib.parse import quote

import feedparser
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from web import create_app

MARKER = '<x-fuzz a="1">'  # must never reach an HTML page unescaped
PATHS = ["/", "/search", "/doc/000_16468085dbf1e3df", "/doc/{text}", "/api/search", "/api/doc/{text}",
         "/api/doc/000_16468085dbf1e3df", "/healthz", "/export.csv", "/export.jsonl", "/feed"]
NAMES = ["q", "province", "province_2025", "secretary", "year", "from", "to", "sort", "page", "size", "x",
         "view", "units", "order", "exact"]
HOSTS = ["localhost", "localhost:5000", "a" * 64 + ".vn", "a..b", "", " ", "[::1]", "h\x00st", "é.vn",
         "x" * 300, "evil.com/<script>", "localhost:-1", "127.0.0.1:99999"]

texts = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
    st.sampled_from(["Điện Biên", "dien bien", "Không rõ", "2023", "2023-02-30", "-1", "0", "10000000000000",
                     "relevance", "newest", '"unclosed', "NOT", "title:", "province:\"", MARKER, "\x00\x1b[31m",
                     "\u202e", "%", "%%", "a" * 201, "a" * 600]),
    st.integers(0, 12_000).map(lambda n: "v" * n),
)
raw_bytes = st.binary(max_size=30).map(lambda b: "".join(f"%{c:02X}" for c in b))  # bad UTF-8 too


@st.composite
def requests(draw):
    path = draw(st.sampled_from(PATHS))
    if "{text}" in path:
        path = path.format(text=quote(draw(texts)[:200], safe="/"))
    pairs = []
    for _ in range(draw(st.integers(0, 6))):
        name = draw(st.sampled_from(NAMES))
        value = quote(draw(texts), safe="") if draw(st.booleans()) else draw(raw_bytes)
        pairs.append(f"{name}={value}" * draw(st.sampled_from([1, 1, 1, 2, 25, 200])))
    query = "&".join(p for p in "&".join(pairs).split("&") if p)
    headers = {}
    if draw(st.booleans()):
        headers["Host"] = draw(st.one_of(st.sampled_from(HOSTS), st.text(max_size=80)))
    if draw(st.integers(0, 9)) == 0:
        headers["Referer"] = draw(st.sampled_from(["http://localhost/search?q=" + MARKER, "\x00", "x" * 20_000]))
    return path + ("?" + query if query else ""), headers


@pytest.fixture(scope="module")
def client(shared_seed_index):
    app = create_app({"INDEX_DIR": str(shared_seed_index)})  # not TESTING: errors go to the handlers
    return app.test_client()


@settings(max_examples=200, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(requests())
def test_no_request_breaks_the_server(client, request_and_headers):
    target, headers = request_and_headers
    try:
        started = time.perf_counter()
        r = client.get(target, headers={k: v for k, v in headers.items() if "\n" not in v and "\r" not in v})
        took = time.perf_counter() - started
    except ValueError:  # the test client refuses some header values outright (no server would see them)
        return
    body = r.get_data(as_text=True)
    assert r.status_code < 500, (target[:300], headers, r.status_code, body[:500])
    assert "Traceback" not in body
    assert len(r.data) < 2_000_000, (target[:300], len(r.data))
    assert took < 5, (target[:300], took)
    if r.mimetype in ("text/html", "application/atom+xml"):
        assert MARKER not in body
    if target.startswith("/feed") and r.status_code == 200:
        assert feedparser.parse(r.data).version == "atom10", target[:300]
    if target.startswith(("/api/", "/healthz")) or (target.startswith("/export") and r.status_code != 200):
        assert r.is_json, (target[:300], r.status_code, body[:200])
