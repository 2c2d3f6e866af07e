"""The Flask front end: pages, API, escaping, errors; the HTML is parsed, links are followed."""

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup

from search.query import FacetValue, Hit, Index, SearchResult
from web import create_app, views

from .conftest import DIEN_BIEN

CCUONG = "Trần Quốc Cường"


@pytest.fixture
def client(shared_seed_index):
    return create_app({"INDEX_DIR": str(shared_seed_index), "TESTING": True}).test_client()


def page(response):
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def query(href: str) -> dict[str, list[str]]:
    """The parameters of a link, checking it points at the search page."""
    parts = urlsplit(href)
    assert parts.path == "/search", href
    return parse_qs(parts.query)


def facet_links(soup, facet: str) -> dict[str, str]:
    """Value name → toggle href of one facet (top values and "Xem thêm" alike)."""
    return {a.select_one(".name").contents[0].strip(): a["href"]
            for a in soup.select(f"#facet-{facet}-box a.value")}


def build(tmp_path, files: dict[str, str]):
    """A client over an index of `files` (name → text) built in tmp_path."""
    from search.indexer import reindex

    corpus = tmp_path / "c"
    corpus.mkdir()
    for name, text in files.items():
        (corpus / name).write_text(text, encoding="utf-8")
    reindex(corpus, tmp_path / "i", full=True, workers=1)
    return create_app({"INDEX_DIR": str(tmp_path / "i"), "TESTING": True}).test_client()


def fake_result(total=0, page=1, size=10, facets=None, hits=(), took_ms=52.3, q="x", suggestion=None):
    empty = {name: [] for name in ("province", "province_2025", "secretary", "year")}
    return SearchResult(query=q, total=total, page=page, size=size, took_ms=took_ms, hits=list(hits),
                        facets={**empty, **(facets or {})}, suggestion=suggestion)


@pytest.fixture
def fake_search(monkeypatch, shared_seed_index):
    """A client whose searches return the SearchResult given to `answer(result)`."""
    box = {}
    monkeypatch.setattr(Index, "search", lambda index, request: box["result"])
    client = create_app({"INDEX_DIR": str(shared_seed_index), "TESTING": True}).test_client()

    def answer(result):
        box["result"] = result
        return client

    return answer


# --- the search page -----------------------------------------------------------------------

def test_search_page_shows_marks_and_province_facet(client):
    r = client.get(f"/search?q={CCUONG}")
    assert r.status_code == 200
    soup = page(r)
    hits = soup.select("li.hit")
    assert sorted(urlsplit(h.select_one("h3 a")["href"]).path.removeprefix("/doc/") for h in hits[:2]) == DIEN_BIEN
    assert f"<mark>{CCUONG}</mark>" in r.get_data(as_text=True)
    assert set(facet_links(soup, "province")) == {"Điện Biên", "Bắc Kạn", "Lạng Sơn"}
    assert soup.select_one("[role=search] input[name=q]")["value"] == CCUONG
    assert re.fullmatch(r"Kết quả 1–4 trong 4 \((< 0,01|0,\d\d) giây\)", soup.select_one("[role=status]").text)


def test_search_box_is_labelled_and_keeps_the_filters_but_not_the_page(client):
    soup = page(client.get("/search?q=tinh+uy&province=Điện Biên&sort=newest&page=2"))
    form = soup.select_one("form[role=search]")
    assert (form["action"], form["method"]) == ("/search", "get")
    box = form.select_one("input[name=q]")
    assert form.select_one(f"label[for={box['id']}]").text == "Tìm kiếm bài viết"
    assert [(i["name"], i["value"]) for i in form.select("input[type=hidden]")] == [
        ("province", "Điện Biên"), ("sort", "newest")]
    assert soup.html["lang"] == "vi"


def _hits(n):
    return [Hit(id=f"d{i}", title=f"Bài {i}", date=None, province=None, province_2025=None, secretary=None,
                source=None, url=None, score=1.0, snippet="") for i in range(n)]


@pytest.mark.parametrize("total, page_, took, status", [
    (1234, 1, 52.3, "Kết quả 1–10 trong 1.234 (0,05 giây)"),
    (772, 3, 52.3, "Kết quả 21–30 trong 772 (0,05 giây)"),
    (25, 3, 9.99, "Kết quả 21–25 trong 25 (< 0,01 giây)"),
    (1234, 200, 10.0, "1.234 kết quả (0,01 giây)"),  # a page past the last
    (0, 1, 3.0, "Không có kết quả nào (< 0,01 giây)"),
])
def test_status_line_in_vietnamese(fake_search, total, page_, took, status):
    shown = min(10, max(0, total - (page_ - 1) * 10))
    result = fake_result(total=total, page=page_, took_ms=took, hits=_hits(shown))
    soup = page(fake_search(result).get(f"/search?q=x&page={page_}"))
    assert soup.select_one("[role=status]").text == status
    assert (soup.select_one("form.sort") is not None) == (total > 0)  # no sort menu without results


def test_a_hit_shows_date_province_secretary_outlet_and_snippet(tmp_path):
    record = {"id": "7", "title": "Bí thư Tỉnh ủy Điện Biên làm việc", "date": "2023-04-07",
              "source": "baodienbienphu.com.vn", "url": "https://baodienbienphu.com.vn/tin/7",
              "body": "Đồng chí Trần Quốc Cường, Bí thư Tỉnh ủy Điện Biên, làm việc với huyện Mường Nhé."}
    client = build(tmp_path, {"news.jsonl": json.dumps(record, ensure_ascii=False) + "\n"})
    soup = page(client.get("/search?q=muong+nhe"))
    hit = soup.select_one("li.hit")
    assert hit.select_one("h3 a")["href"] == "/doc/news/7?q=muong+nhe"
    assert hit.select_one("time")["datetime"] == "2023-04-07"
    assert [s.get_text() for s in hit.select(".meta > *")] == [
        "07/04/2023", "Tỉnh: Điện Biên", f"Bí thư {CCUONG}", "Nguồn: baodienbienphu.com.vn"]
    assert "<mark>Mường Nhé</mark>" in str(hit.select_one(".snippet"))


def test_clicking_a_province_narrows_the_results(client):
    soup = page(client.get(f"/search?q={CCUONG}"))
    href = facet_links(soup, "province")["Điện Biên"]
    assert query(href) == {"q": [CCUONG], "province": ["Điện Biên"]}
    narrowed = page(client.get(href))
    assert len(narrowed.select("li.hit")) == 2
    selected = narrowed.select("#facet-province-box a.selected")
    assert [a["aria-current"] for a in selected] == ["true"]
    assert "Điện Biên" in selected[0].text
    # Clicking the selected value again removes the filter.
    assert query(selected[0]["href"]) == {"q": [CCUONG]}
    chips = narrowed.select(".chips a")
    assert [c.text.strip() for c in chips] == ["Tỉnh, thành: Điện Biên ×", "Xóa bộ lọc"]
    assert chips[0]["aria-label"] == "Bỏ lọc Tỉnh, thành: Điện Biên"
    assert query(chips[0]["href"]) == {"q": [CCUONG]}
    assert narrowed.select_one("#filters summary .badge").text == "1 đang dùng"


def test_facets_are_or_within_and_across_with_their_own_toggles(client):
    years = ["2023", "2022", "2020"]
    soup = page(client.get("/search?province=Điện Biên&province=Lạng Sơn&year=2023&year=2022&year=2020"))
    assert len(soup.select("li.hit")) == 3
    links = facet_links(soup, "province")
    assert query(links["Sơn La"]) == {"province": ["Điện Biên", "Lạng Sơn", "Sơn La"], "year": years}
    assert query(links["Lạng Sơn"]) == {"province": ["Điện Biên"], "year": years}
    assert query(facet_links(soup, "year")["2023"]) == {"province": ["Điện Biên", "Lạng Sơn"], "year": ["2022", "2020"]}
    chips = soup.select(".chips a")
    assert [c.text.strip() for c in chips] == [
        "Tỉnh, thành: Điện Biên ×", "Tỉnh, thành: Lạng Sơn ×", "Năm: 2023 ×", "Năm: 2022 ×", "Năm: 2020 ×",
        "Xóa bộ lọc"]
    assert query(chips[-1]["href"]) == {}


def test_a_filter_typed_without_diacritics_shows_and_toggles_its_canonical_value(client):
    soup = page(client.get("/search?q=tinh+uy&province=dien+bien&secretary=tran+quoc+cuong"))
    assert [c.text.strip() for c in soup.select(".chips a.chip")] == [
        "Tỉnh, thành: Điện Biên ×", f"Bí thư Tỉnh ủy: {CCUONG} ×"]
    assert query(facet_links(soup, "province")["Điện Biên"]) == {"q": ["tinh uy"], "secretary": ["tran quoc cuong"]}
    assert query(soup.select_one(".chips a.chip")["href"]) == {"q": ["tinh uy"], "secretary": ["tran quoc cuong"]}


def test_a_province_by_its_old_spelling_is_one_value(client):
    soup = page(client.get("/search?province=Bắc Cạn"))
    assert [c.text.strip() for c in soup.select(".chips a.chip")] == ["Tỉnh, thành: Bắc Kạn ×"]
    assert query(facet_links(soup, "province")["Bắc Kạn"]) == {}
    assert len(soup.select("li.hit")) == 1


def test_unknown_value_is_khong_ro_and_selects_the_unknown(client):
    soup = page(client.get("/search?secretary=Không rõ"))
    assert soup.select("li.hit") == []
    chip = soup.select_one(".chips a.chip")
    assert chip.text.strip() == "Bí thư Tỉnh ủy: Không rõ ×"
    unknown = soup.select_one("#facet-secretary-box a.unknown")
    assert unknown["class"] == ["value", "selected", "unknown"]
    assert query(unknown["href"]) == {}


def test_many_facet_values_show_the_top_ten_then_xem_them(fake_search):
    names = [f"Người {i:02d}" for i in range(25)]
    values = [FacetValue(n, 100 - i, n == "Người 20") for i, n in enumerate(names)]
    values.append(FacetValue("Không rõ", 500, False))
    soup = page(fake_search(fake_result(total=900, facets={"secretary": values})).get(
        "/search?q=x&secretary=Người 20"))
    box = soup.select_one("#facet-secretary-box")
    top = [li["data-value"] for li in box.select(":scope > ul.values > li")]
    assert top == names[:10] + ["Người 20", "Không rõ"]
    more = box.select_one("details.more")
    assert more.summary.text == "Xem thêm 14 giá trị"
    assert [li["data-value"] for li in more.select("li")] == [n for n in names[10:] if n != "Người 20"]
    assert query(more.select_one("a.value")["href"]) == {"q": ["x"], "secretary": ["Người 20", "Người 10"]}


def test_facet_boxes_suggest_names_and_submit_a_filter_with_the_state(client):
    soup = page(client.get("/search?q=tinh+uy&year=2023&sort=oldest&page=2"))
    form = soup.select_one("#facet-province-box form.find")
    assert (form["action"], form["method"]) == ("/search", "get")
    assert [(i["name"], i["value"]) for i in form.select("input[type=hidden]")] == [
        ("q", "tinh uy"), ("year", "2023"), ("sort", "oldest")]
    box = form.select_one("input[list]")
    assert (box["name"], box["data-facet-filter"]) == ("province", "facet-province-box")
    assert form.select_one(f"label[for={box['id']}]").text == "Lọc theo tỉnh, thành"
    options = [o["value"] for o in soup.select(f"datalist#{box['list']} option")]
    assert {"Điện Biên", "Hà Nội", "Hồ Chí Minh", "Bắc Kạn"} <= set(options) and len(options) >= 63
    secretaries = [o["value"] for o in soup.select("#facet-secretary-box datalist option")]
    assert CCUONG in secretaries and "Nguyễn Quốc Đoàn" in secretaries
    assert len(soup.select("#facet-province_2025-box datalist option")) >= 34
    assert soup.select("#facet-year-box form.find") == []


def test_date_range_and_sort_forms_carry_the_state(client):
    soup = page(client.get("/search?q=tinh+uy&province=Điện Biên&from=1/1/2023&to=2023-03-31&sort=oldest&page=2"))
    dates = soup.select_one("form.dates")
    assert [(i["name"], i["value"]) for i in dates.select("input[type=hidden]")] == [
        ("q", "tinh uy"), ("province", "Điện Biên"), ("sort", "oldest")]
    assert (dates.select_one("input#from")["value"], dates.select_one("input#to")["value"]) == ("2023-01-01", "2023-03-31")
    assert dates.select_one("input#from")["type"] == "date"
    sort = soup.select_one("form.sort")
    assert [(i["name"], i["value"]) for i in sort.select("input[type=hidden]")] == [
        ("q", "tinh uy"), ("province", "Điện Biên"), ("from", "1/1/2023"), ("to", "2023-03-31")]
    assert [(o["value"], o.text, o.has_attr("selected")) for o in sort.select("select#sort option")] == [
        ("relevance", "Liên quan nhất", False), ("newest", "Mới nhất", False), ("oldest", "Cũ nhất", True)]
    assert sort.select_one("label[for=sort]").text == "Sắp xếp"
    chips = {c.text.strip(): query(c["href"]) for c in soup.select(".chips a.chip")}
    assert chips["Từ ngày 01/01/2023 ×"] == {"q": ["tinh uy"], "province": ["Điện Biên"], "to": ["2023-03-31"],
                                           "sort": ["oldest"]}
    assert "Đến ngày 31/03/2023 ×" in chips


def test_date_range_filters_and_sort_orders(client):
    soup = page(client.get("/search?from=2023-01-01&to=2023-12-31&sort=oldest"))
    assert [h.select_one("time")["datetime"] for h in soup.select("li.hit")] == ["2023-02-27", "2023-04-07"]
    soup = page(client.get("/search?q=tinh+uy&sort=newest"))
    dates = [h.select_one("time")["datetime"] for h in soup.select("li.hit")]
    assert dates == sorted(dates, reverse=True) and len(dates) == 5


def test_an_empty_query_browses_newest_first(client):
    soup = page(client.get("/search"))
    assert soup.select_one("[role=status]").text.startswith("Kết quả 1–5 trong 5 ")
    assert soup.select_one("select#sort option[selected]")["value"] == "newest"


def test_pagination_of_the_seeds(client):
    soup = page(client.get("/search?q=tinh+uy&size=2&sort=newest"))
    nav = soup.select_one("nav.pages[aria-label='Phân trang']")
    assert nav.select_one("[aria-current=page]").text == "Trang 1"
    assert nav.select_one("a[rel=prev]") is None
    assert query(nav.select_one("a[rel=next]")["href"]) == {"q": ["tinh uy"], "sort": ["newest"], "size": ["2"],
                                                            "page": ["2"]}
    second = page(client.get(nav.select_one("a[rel=next]")["href"]))
    assert second.select_one("ol.hits")["start"] == "3"
    assert query(second.select_one("a[rel=prev]")["href"]) == {"q": ["tinh uy"], "sort": ["newest"], "size": ["2"]}
    ids = {h.select_one("h3 a")["href"] for p in (soup, second) for h in p.select("li.hit")}
    assert len(ids) == 4


def test_pagination_with_many_pages_has_gaps(fake_search):
    soup = page(fake_search(fake_result(total=1000, page=50)).get("/search?q=x&page=50"))
    items = soup.select("nav.pages li")
    texts = [li.get_text(" ", strip=True) for li in items]
    assert texts == ["‹ Trang trước", "1", "…", "48", "49", "Trang 50", "51", "52", "…", "100", "Trang sau ›"]
    links = {a.text: a["href"] for a in soup.select("nav.pages a")}
    assert query(links["1"]) == {"q": ["x"]}
    assert query(links["100"]) == {"q": ["x"], "page": ["100"]}
    assert query(links["Trang sau ›"]) == {"q": ["x"], "page": ["51"]}
    assert soup.select_one("nav.pages a[aria-label='Trang 48']")["href"] == links["48"]


def test_a_page_past_the_last_says_so(client):
    soup = page(client.get("/search?q=tinh+uy&page=9"))
    empty = soup.select_one(".empty")
    assert empty.h2.text == "Trang này không có kết quả"
    assert empty.p.text == "Có 5 kết quả, trên 1 trang. Về trang đầu"
    assert query(empty.a["href"]) == {"q": ["tinh uy"]}


def test_did_you_mean(client):
    soup = page(client.get("/search?q=tran+quoc+cuongg&province=Điện Biên"))
    suggestion = soup.select_one(".suggestion")
    assert suggestion.text == "Đang hiện kết quả cho Trần Quốc Cường; tìm chính xác tran quoc cuongg"
    first, exact = suggestion.select("a")
    assert query(first["href"]) == {"q": ["Trần Quốc Cường"], "province": ["Điện Biên"]}
    assert query(exact["href"]) == {"q": ["tran quoc cuongg"], "province": ["Điện Biên"], "exact": ["1"]}
    soup = page(client.get(exact["href"]))
    assert soup.select_one(".suggestion").text == "Có phải bạn muốn tìm: Trần Quốc Cường"


def test_empty_state_helps(client):
    soup = page(client.get("/search?q=xqzwv&province=Sơn La"))
    empty = soup.select_one(".empty")
    assert empty.h2.text == "Không tìm thấy bài viết nào cho “xqzwv”"
    links = {a.text: a["href"] for a in empty.select("a")}
    assert query(links["bỏ các bộ lọc"]) == {"q": ["xqzwv"]}
    assert query(links["xem tất cả bài viết"]) == {}
    assert soup.select_one("[role=status]").text.startswith("Không có kết quả nào (")
    assert soup.select_one("form.sort") is None
    tips = {a.text: query(a["href"]) for a in empty.select("a")}
    assert tips["bi thu tinh uy"] == {"q": ["bi thu tinh uy"]}
    assert tips['"hội nghị ban chấp hành"'] == {"q": ['"hội nghị ban chấp hành"']}


def test_home_page_lists_latest(client):
    soup = page(client.get("/"))
    assert soup.select_one("h2.latest").text == "Bài viết mới nhất"
    assert len(soup.select("li.hit")) == 5
    assert soup.select_one(".latest-bar a").text == "Xem tất cả 5 bài ›"
    assert soup.select(".chips") == [] and soup.select("nav.pages") == []


# --- escaping and security ------------------------------------------------------------------

def test_query_is_escaped(client):
    r = client.get("/search?q=<script>alert(1)</script>&province=<b>x</b>")
    body = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "<script>alert(1)</script>" not in body and "<b>x</b>" not in body
    assert "&lt;script&gt;" in body and "&lt;b&gt;x&lt;/b&gt;" in body


def test_article_text_is_escaped(tmp_path):
    client = build(tmp_path, {"x.txt": "Tiêu đề <b>đậm</b> của bài\n\nNội dung <img src=x onerror=alert(1)> Tỉnh ủy & nhân dân."})
    for url in ("/search?q=tinh+uy", "/doc/x?q=tinh+uy"):
        body = client.get(url).get_data(as_text=True)
        assert "<img src=x" not in body and "<b>đậm</b>" not in body
        assert "&lt;img src=x onerror=alert(1)&gt;" in body
        assert "<mark>Tỉnh ủy</mark> &amp; nhân dân" in body
    snippet = client.get("/api/search?q=tinh+uy").get_json()["hits"][0]["snippet"]
    assert "&lt;img" in snippet and "<mark>Tỉnh ủy</mark>" in snippet


def test_only_web_urls_become_links(tmp_path):
    lines = [{"id": "a", "title": "Tỉnh ủy A", "body": "Tỉnh ủy họp.", "url": "javascript:alert(1)"},
             {"id": "b", "title": "Tỉnh ủy B", "body": "Tỉnh ủy họp.", "url": "https://example.vn/b?x=1&y=2"}]
    client = build(tmp_path, {"n.jsonl": "\n".join(json.dumps(r) for r in lines)})
    bad = page(client.get("/doc/n/a"))
    assert not [a for a in bad.select("a[href]") if "javascript" in a["href"]]
    good = page(client.get("/doc/n/b"))
    original = good.select_one("a.original")
    assert (original["href"], original["rel"]) == ("https://example.vn/b?x=1&y=2", ["noopener", "noreferrer", "nofollow"])


def test_security_headers(client):
    for url in ("/", "/search?q=x", "/doc/000_16468085dbf1e3df", "/static/style.css", "/api/search?q=x", "/nope"):
        with client.get(url) as r:
            csp = r.headers["Content-Security-Policy"]
            assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "object-src 'none'" in csp
            assert r.headers["X-Content-Type-Options"] == "nosniff"
            assert r.headers["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("url", ["/", "/search?q=tinh+uy&province=Điện Biên", "/doc/000_16468085dbf1e3df?q=x",
                                 "/search?q=" + "a" * 600, "/nope"])
def test_no_inline_script_or_style(client, url):
    soup = page(client.get(url))
    assert [s.get("src") for s in soup.select("script")] == ["/static/app.js"]
    assert soup.select("[style]") == [] and soup.select("style") == []
    assert not [t for t in soup.find_all(True) if any(a.startswith("on") for a in t.attrs)]


def test_static_files_are_served(client):
    with client.get("/static/app.js") as js:
        assert js.status_code == 200 and "javascript" in js.headers["Content-Type"]
        assert "data-facet-filter" in js.get_data(as_text=True)
    for name in ("style.css", "favicon.svg"):
        with client.get(f"/static/{name}") as r:
            assert r.status_code == 200


def test_a_too_long_query_gets_a_friendly_message(client):
    long = "bí thư " * 80
    r = client.get("/search", query_string={"q": long, "province": "Điện Biên"})
    assert r.status_code == 400
    soup = page(r)
    assert soup.select_one("[role=alert] h1").text == "Không thể tìm"
    assert "Câu tìm kiếm quá dài (559 ký tự). Hãy rút gọn còn tối đa 500 ký tự." in soup.select_one("[role=alert]").text
    assert soup.select_one("[role=search] input[name=q]")["value"] == long
    assert client.get("/api/search", query_string={"q": long}).status_code == 400


@pytest.mark.parametrize("params, message", [
    ("size=500", "Số kết quả mỗi trang phải từ 1 đến 100."),
    ("page=0", "Số trang không hợp lệ."),
    ("from=2023-02-30", "Ngày trong ô “Từ ngày” không hợp lệ."),
    ("to=hôm qua", "Ngày trong ô “Đến ngày” không hợp lệ."),
    ("from=2024-01-01&to=2023-01-01", "Ngày trong ô “Từ ngày” đang sau ngày trong ô “Đến ngày”."),
    ("sort=x", "Cách sắp xếp không hợp lệ."),
])
def test_bad_parameter_on_the_page_is_a_message(client, params, message):
    r = client.get(f"/search?q=x&{params}")
    assert r.status_code == 400
    soup = page(r)
    assert soup.select_one("[role=alert] p").text == message
    assert query(soup.select_one("[role=alert] a")["href"]) == {"q": ["x"]}


# --- the article page ---------------------------------------------------------------------

def test_doc_page_highlights_and_links_facets(client):
    r = client.get("/doc/000_16468085dbf1e3df?q=tran+quoc+cuong")
    soup = page(r)
    assert r.status_code == 200
    assert soup.select_one("h1").text == "Hội nghị Ban Chấp hành Đảng bộ tỉnh lần thứ 13"
    paragraphs = soup.select(".body p")
    assert len(paragraphs) > 5
    assert f"<mark>{CCUONG}</mark>" in str(soup.select_one(".body"))
    links = {dt.text: query(dt.find_next("dd").a["href"]) for dt in soup.select(".docmeta dt") if dt.find_next("dd").a}
    assert links == {"Ngày": {"year": ["2023"]}, "Tỉnh, thành": {"province": ["Điện Biên"]},
                     "Tỉnh sau sáp nhập 2025": {"province_2025": ["Điện Biên"]},
                     "Bí thư Tỉnh ủy": {"secretary": [CCUONG]}}
    assert soup.select_one(".docmeta time").text == "07/04/2023"
    assert soup.select_one(".hl-note a")["href"] == "/doc/000_16468085dbf1e3df"
    related = soup.select(".related li a")
    assert related and all(a["href"].startswith("/doc/") for a in related)
    assert "000_16468085dbf1e3df" not in {a["href"] for a in related}
    assert soup.select_one("a.original") is None  # the seeds have no URL


def test_doc_page_unknown_values_link_to_the_unknown_filter(tmp_path):
    client = build(tmp_path, {"u.txt": "Một bài viết\n\nNội dung không nói tỉnh nào."})
    soup = page(client.get("/doc/u"))
    links = {dt.text: (dt.find_next("dd").text, query(dt.find_next("dd").a["href"])) for dt in soup.select(".docmeta dt")}
    assert links["Tỉnh, thành"] == ("Không rõ", {"province": ["Không rõ"]})
    assert links["Bí thư Tỉnh ủy"] == ("Không rõ", {"secretary": ["Không rõ"]})


def test_doc_back_link_returns_to_the_results_of_this_site_only(client):
    url = "/doc/000_16468085dbf1e3df?q=tinh+uy"
    came_from = "/search?q=tinh+uy&province=%C4%90i%E1%BB%87n+Bi%C3%AAn&page=1"
    back = page(client.get(url, headers={"Referer": "http://localhost" + came_from})).select_one(".back a")
    assert back["href"] == came_from
    back = page(client.get(url, headers={"Referer": "http://evil.example/search?q=x"})).select_one(".back a")
    assert back["href"] == "/search?q=tinh+uy"


@pytest.mark.parametrize("html, paragraphs", [
    ("a\n\nb\nc", ["a", "b", "c"]),
    ("x <mark>Tỉnh\nủy</mark> y", ["x <mark>Tỉnh</mark>", "<mark>ủy</mark> y"]),
    ("<mark>a\n\nb\n\nc</mark>", ["<mark>a</mark>", "<mark>b</mark>", "<mark>c</mark>"]),
    ("\n\n  \n", []),
])
def test_paragraphs_keep_marks_balanced(html, paragraphs):
    assert views._paragraphs(html) == paragraphs


def test_unknown_doc_is_404_in_style(client):
    r = client.get("/doc/nope")
    assert r.status_code == 404
    soup = page(r)
    assert soup.h1.text == "Không tìm thấy bài viết"
    assert soup.select_one("form[role=search]") is not None


# --- API, health, errors --------------------------------------------------------------------

def test_api_shape(client):
    r = client.get("/api/search?q=tinh+uy&province=dien+bien&size=1")
    assert r.status_code == 200
    data = r.get_json()
    assert list(data) == ["query", "total", "page", "size", "took_ms", "hits", "facets", "suggestion",
                          "corrected", "loose", "exact", "undated"]
    assert (data["query"], data["total"], data["page"], data["size"]) == ("tinh uy", 2, 1, 1)
    assert set(data["hits"][0]) == {"id", "title", "date", "province", "province_2025", "secretary",
                                    "source", "url", "score", "snippet"}
    assert set(data["facets"]) == {"province", "province_2025", "secretary", "year"}
    assert data["facets"]["province"][0] == {"value": "Điện Biên", "count": 2, "selected": True}
    assert isinstance(data["took_ms"], float)


@pytest.mark.parametrize("params", ["size=500", "page=0", "from=2023-02-30", "sort=x", "page=abc"])
def test_api_bad_parameter_is_400_with_error(client, params):
    r = client.get(f"/api/search?q=x&{params}")
    assert r.status_code == 400
    assert set(r.get_json()) == {"error"}


def test_api_doc(client):
    r = client.get("/api/doc/003_f0cf8f3db9718a20")
    data = r.get_json()
    assert r.status_code == 200
    assert (data["province"], data["secretary"], data["date"]) == ("Lạng Sơn", "Nguyễn Quốc Đoàn", "2022-12-09")
    assert data["body"].startswith("Chiều 8/12, Ban Chấp hành Đảng bộ tỉnh")
    assert client.get("/api/doc/nope").status_code == 404
    assert set(client.get("/api/doc/nope").get_json()) == {"error"}


def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.get_json()["status"] == "ok" and r.get_json()["documents"] == 5


def test_no_index_page_says_so(tmp_path):
    client = create_app({"INDEX_DIR": str(tmp_path / "none"), "TESTING": True}).test_client()
    r = client.get("/search?q=x")
    assert r.status_code == 503
    assert "Chưa có chỉ mục" in r.get_data(as_text=True) and "vnsearch reindex" in r.get_data(as_text=True)
    assert client.get("/").status_code == 503
    assert client.get("/doc/x").status_code == 503
    assert client.get("/api/search?q=x").status_code == 503
    assert client.get("/healthz").status_code == 503


def test_unknown_page_is_404_in_style(client):
    r = client.get("/no/such/page")
    assert r.status_code == 404
    soup = page(r)
    assert soup.h1.text == "Không tìm thấy trang"
    assert soup.select_one("link[rel=stylesheet]")["href"] == "/static/style.css"
    assert client.get("/api/nope").get_json() == {"error": "not found"}


def test_wrong_method_is_405_in_style(client):
    r = client.post("/search")
    assert r.status_code == 405
    assert page(r).h1.text == "Lỗi 405"


def test_server_error_is_500_in_style_without_traceback(shared_seed_index):
    app = create_app({"INDEX_DIR": str(shared_seed_index), "TESTING": True, "PROPAGATE_EXCEPTIONS": False})

    def boom():
        raise RuntimeError("secret detail")

    app.add_url_rule("/boom", "boom", boom)
    app.add_url_rule("/api/boom", "api_boom", boom)
    client = app.test_client()
    r = client.get("/boom")
    body = r.get_data(as_text=True)
    assert r.status_code == 500
    assert page(r).h1.text == "Lỗi máy chủ"
    assert "Traceback" not in body and "secret detail" not in body and "RuntimeError" not in body
    assert r.headers["Content-Security-Policy"].startswith("default-src 'self'")
    api = client.get("/api/boom")
    assert (api.status_code, api.get_json()) == (500, {"error": "internal error"})


def test_compiled_templates_are_kept_between_starts(tmp_path, monkeypatch):
    """A second app (a server started again) loads the pages Jinja compiled for the first
    from the template cache instead of compiling them again."""
    import jinja2

    cache = tmp_path / "templates"
    cache.mkdir()
    first = create_app({"INDEX_DIR": str(tmp_path / "index"), "TEMPLATE_CACHE": str(cache)})
    names = first.jinja_env.list_templates()
    for name in names:
        first.jinja_env.get_template(name)
    assert len(list(cache.iterdir())) == len(names)

    def compile_again(*args, **kwargs):
        raise AssertionError("compiled again")

    monkeypatch.setattr(jinja2.Environment, "compile", compile_again)
    second = create_app({"INDEX_DIR": str(tmp_path / "index"), "TEMPLATE_CACHE": str(cache)})
    for name in names:
        second.jinja_env.get_template(name)
    assert second.test_client().get("/").status_code == 503  # no index yet: the page says so


@pytest.mark.parametrize("damage", ["unwritable", "garbage"])
def test_a_template_cache_that_fails_is_no_cache(tmp_path, seed_index, damage):
    """Pages render as without a cache when its folder cannot be written, or when what it
    holds is not a compiled template."""
    cache = tmp_path / "templates"
    if damage == "unwritable":
        cache.write_text("a file where the folder should be")
    else:
        cache.mkdir()
        create_app({"INDEX_DIR": str(seed_index), "TEMPLATE_CACHE": str(cache)}).jinja_env.get_template("search.html")
        for stored in cache.iterdir():
            stored.write_bytes(b"\x00not bytecode")
    app = create_app({"INDEX_DIR": str(seed_index), "TEMPLATE_CACHE": str(cache)})
    page = app.test_client().get("/search?q=bí thư")
    assert page.status_code == 200 and "Điện Biên" in page.get_data(as_text=True)


def test_the_template_cache_can_be_turned_off(tmp_path):
    assert create_app({"INDEX_DIR": str(tmp_path), "TEMPLATE_CACHE": False}).jinja_env.bytecode_cache is None
    assert create_app({"INDEX_DIR": str(tmp_path)}).jinja_env.bytecode_cache is not None
