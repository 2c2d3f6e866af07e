"""The Flask front end: pages, API, escaping, errors."""

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup

from web import create_app

from .conftest import DIEN_BIEN


@pytest.fixture
def client(seed_index):
    return create_app({"INDEX_DIR": str(seed_index), "TESTING": True}).test_client()


def page(response):
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def test_search_page_shows_marks_and_province_facet(client):
    r = client.get("/search?q=Trần Quốc Cường")
    assert r.status_code == 200
    soup = page(r)
    hits = soup.select("li.hit")
    assert sorted(urlsplit(h.select_one("h3 a")["href"]).path.removeprefix("/doc/") for h in hits[:2]) == DIEN_BIEN
    assert "<mark>Trần Quốc Cường</mark>" in r.get_data(as_text=True)
    facet = {a.select_one(".name").text: a["href"] for a in soup.select("#facet-province ~ ul a")}
    assert set(facet) == {"Điện Biên", "Bắc Kạn", "Lạng Sơn"}
    assert soup.select_one("[role=search] input[name=q]")["value"] == "Trần Quốc Cường"
    assert soup.select_one("[role=status]").text.startswith("Tìm thấy 4 kết quả")


def test_clicking_a_province_narrows_the_results(client):
    soup = page(client.get("/search?q=Trần Quốc Cường"))
    href = next(a["href"] for a in soup.select("#facet-province ~ ul a") if "Điện Biên" in a.text)
    assert parse_qs(urlsplit(href).query) == {"q": ["Trần Quốc Cường"], "province": ["Điện Biên"]}
    narrowed = page(client.get(href))
    assert len(narrowed.select("li.hit")) == 2
    selected = narrowed.select_one("#facet-province ~ ul a.selected")
    assert "Điện Biên" in selected.text
    # Clicking the selected value again removes the filter.
    assert parse_qs(urlsplit(selected["href"]).query) == {"q": ["Trần Quốc Cường"]}
    chips = narrowed.select(".chips a")
    assert [c.text.strip() for c in chips] == ["Tỉnh, thành: Điện Biên ×", "Xóa bộ lọc"]


def test_query_is_escaped(client):
    r = client.get("/search?q=<script>alert(1)</script>")
    body = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;" in body


def test_article_text_is_escaped(tmp_path):
    from search.indexer import reindex

    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "x.txt").write_text("Tiêu đề <b>đậm</b> của bài\n\nNội dung <img src=x onerror=alert(1)> Tỉnh ủy & nhân dân.",
                                  encoding="utf-8")
    reindex(corpus, tmp_path / "i", full=True, workers=1)
    client = create_app({"INDEX_DIR": str(tmp_path / "i"), "TESTING": True}).test_client()
    for url in ("/search?q=tinh+uy", "/doc/x?q=tinh+uy"):
        body = client.get(url).get_data(as_text=True)
        assert "<img src=x" not in body and "<b>đậm</b>" not in body
        assert "&lt;img src=x onerror=alert(1)&gt;" in body
        assert "<mark>Tỉnh ủy</mark> &amp; nhân dân" in body
    snippet = client.get("/api/search?q=tinh+uy").get_json()["hits"][0]["snippet"]
    assert "&lt;img" in snippet and "<mark>Tỉnh ủy</mark>" in snippet


def test_api_shape(client):
    r = client.get("/api/search?q=tinh+uy&province=dien+bien&size=1")
    assert r.status_code == 200
    data = r.get_json()
    assert set(data) == {"query", "total", "page", "size", "took_ms", "hits", "facets", "suggestion"}
    assert (data["query"], data["total"], data["page"], data["size"]) == ("tinh uy", 2, 1, 1)
    assert set(data["hits"][0]) == {"id", "title", "date", "province", "province_2025", "secretary",
                                    "source", "url", "score", "snippet"}
    assert set(data["facets"]) == {"province", "province_2025", "secretary", "year"}
    assert data["facets"]["province"][0] == {"value": "Điện Biên", "count": 2, "selected": True}
    assert isinstance(data["took_ms"], float)


@pytest.mark.parametrize("query", ["size=500", "page=0", "from=2023-02-30", "sort=x", "page=abc"])
def test_api_bad_parameter_is_400_with_error(client, query):
    r = client.get(f"/api/search?q=x&{query}")
    assert r.status_code == 400
    assert set(r.get_json()) == {"error"}


def test_bad_parameter_on_the_page_is_a_message(client):
    r = client.get("/search?q=x&size=500")
    assert r.status_code == 400
    assert "Không thể tìm" in r.get_data(as_text=True)


def test_api_doc(client):
    r = client.get("/api/doc/003_f0cf8f3db9718a20")
    data = r.get_json()
    assert r.status_code == 200
    assert (data["province"], data["secretary"], data["date"]) == ("Lạng Sơn", "Nguyễn Quốc Đoàn", "2022-12-09")
    assert data["body"].startswith("Chiều 8/12, Ban Chấp hành Đảng bộ tỉnh")
    assert client.get("/api/doc/nope").status_code == 404
    assert set(client.get("/api/doc/nope").get_json()) == {"error"}


def test_doc_page_highlights_and_links_facets(client):
    r = client.get("/doc/000_16468085dbf1e3df?q=tran+quoc+cuong")
    soup = page(r)
    assert r.status_code == 200
    assert soup.select_one("h1").text == "Hội nghị Ban Chấp hành Đảng bộ tỉnh lần thứ 13"
    assert "<mark>Trần Quốc Cường</mark>" in r.get_data(as_text=True)
    links = {dt.text: parse_qs(urlsplit(dt.find_next("dd").a["href"]).query)
             for dt in soup.select(".docmeta dt") if dt.find_next("dd").a}
    assert links["Tỉnh, thành"] == {"province": ["Điện Biên"]}
    assert links["Sau sáp nhập 2025"] == {"province_2025": ["Điện Biên"]}
    assert links["Bí thư"] == {"secretary": ["Trần Quốc Cường"]}
    assert links["Ngày"] == {"year": ["2023"]}


def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.get_json()["status"] == "ok" and r.get_json()["documents"] == 5


def test_no_index_page_says_so(tmp_path):
    client = create_app({"INDEX_DIR": str(tmp_path / "none"), "TESTING": True}).test_client()
    r = client.get("/search?q=x")
    assert r.status_code == 503
    assert "Chưa có chỉ mục" in r.get_data(as_text=True) and "vnsearch reindex" in r.get_data(as_text=True)
    assert client.get("/api/search?q=x").status_code == 503
    assert client.get("/healthz").status_code == 503


def test_unknown_page_is_404_in_style(client):
    r = client.get("/no/such/page")
    assert r.status_code == 404
    assert "Không tìm thấy trang này" in r.get_data(as_text=True)


def test_security_headers(client):
    r = client.get("/")
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "same-origin"


def test_home_page_lists_latest(client):
    soup = page(client.get("/"))
    assert soup.select_one("h2.latest").text == "Bài viết mới nhất"
    assert len(soup.select("li.hit")) == 5
