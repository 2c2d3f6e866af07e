"""The search page beyond the list of hits: results over time, by province, exports, feeds."""

import csv
import io
import json
from urllib.parse import parse_qs, urlsplit

import feedparser
import pytest
from bs4 import BeautifulSoup

from search.export import COLUMNS, csv_lines, hits as export_hits
from search.facets import FACETS
from search.query import Index, SearchRequest
from web import create_app, views

from .test_web import fake_result, fake_search  # noqa: F401 - fake_search is a fixture


@pytest.fixture(scope="module")
def client(shared_seed_index):
    return create_app({"INDEX_DIR": str(shared_seed_index), "TESTING": True}).test_client()


def page(response):
    assert response.status_code == 200, response.status_code
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def query(href):
    return parse_qs(urlsplit(href).query)


# --- results over time ---------------------------------------------------------------------

def test_a_long_span_is_charted_by_year_with_links_and_a_table(client):
    soup = page(client.get("/search?q=tỉnh+ủy"))
    chart = soup.select_one("figure.chart")
    rows = [(tr.th.text, tr.td.text, query(tr.a["href"])) for tr in chart.select("tbody tr")]
    # The seeds: 2020-06, 2022-12, 2023-02, 2023-04, 2024-04: 47 months, so years, 2021 empty.
    assert [(label, n) for label, n, _ in rows] == [
        ("Năm 2020", "1"), ("Năm 2021", "0"), ("Năm 2022", "1"), ("Năm 2023", "2"), ("Năm 2024", "1")]
    assert rows[3][2] == {"q": ["tỉnh ủy"], "from": ["2023-01-01"], "to": ["2023-12-31"]}
    svg = chart.select_one("svg")
    assert svg["aria-hidden"] == "true"  # the table is the text alternative; bars are for the mouse
    bars = svg.select("a")
    assert [a.title.text for a in bars] == ["Năm 2020: 1 bài", "Năm 2021: 0 bài", "Năm 2022: 1 bài",
                                            "Năm 2023: 2 bài", "Năm 2024: 1 bài"]
    assert all(a["tabindex"] == "-1" for a in bars)
    assert [a["href"] for a in bars] == [tr.a["href"] for tr in chart.select("tbody tr")]
    heights = [float(r["height"]) for r in svg.select("rect.bar")]
    assert heights == [58.0, 58.0, 116.0, 58.0]  # the tallest bar fills the chart (less a margin)
    assert "nhiều nhất: năm 2023 (2 bài)" in chart.figcaption.text


def test_a_short_span_is_charted_by_month_and_a_bar_narrows_to_its_month(client):
    soup = page(client.get("/search?from=2022-12-01&to=2023-04-30&province=Điện Biên&page=2"))
    rows = {tr.th.text: (tr.td.text, query(tr.a["href"])) for tr in soup.select("figure.chart tbody tr")}
    assert list(rows) == ["Tháng 2/2023", "Tháng 3/2023", "Tháng 4/2023"]
    assert rows["Tháng 2/2023"] == ("1", {"province": ["Điện Biên"], "from": ["2023-02-01"], "to": ["2023-02-28"]})
    assert rows["Tháng 3/2023"][0] == "0"


def test_undated_articles_are_counted_beside_the_chart(shared_seed_index):
    result = fake_result(total=3)
    result.histogram = {"2023-01": 2, "": 7}
    app = create_app({"INDEX_DIR": str(shared_seed_index), "TESTING": True})
    with app.test_request_context("/search"):
        chart = views._chart(result, [])
    assert chart["undated"] == 7 and [b["count"] for b in chart["bars"]] == [2]


def test_no_chart_without_dated_results(client):
    assert page(client.get("/search?q=xqzwv")).select_one("figure.chart") is None
    assert page(client.get("/")).select_one("figure.chart") is None  # the home page stays short


def test_periods_fill_the_gaps_and_choose_years_past_36_months():
    assert views._periods({"2023-11": 1, "2024-02": 3}) == (
        "month", [("2023-11", 1), ("2023-12", 0), ("2024-01", 0), ("2024-02", 3)])
    assert views._periods({"2020-01": 1, "2022-12": 1}) == (
        "month", [(f"{y}-{m:02d}", int((y, m) in ((2020, 1), (2022, 12)))) for y in (2020, 2021, 2022)
                  for m in range(1, 13)])
    assert views._periods({"2020-01": 1, "2023-01": 2, "": 5}) == (
        "year", [("2020", 1), ("2021", 0), ("2022", 0), ("2023", 2)])
    assert views._periods({"": 4}) == ("month", [])


def test_the_api_shape_is_unchanged(client):
    data = client.get("/api/search?q=tỉnh+ủy").get_json()
    assert "histogram" not in data


# --- by province ---------------------------------------------------------------------------

@pytest.mark.parametrize("units, n", [("province", 63), ("province_2025", 34)])
def test_the_province_view_lists_every_unit_with_a_filtering_link(client, units, n):
    soup = page(client.get(f"/search?q=tỉnh+ủy&view=provinces&units={units}"))
    rows = [(tr.th.text, int(tr.td.text), query(tr.a["href"])) for tr in soup.select("table.province-table tbody tr")]
    assert len(rows) == n
    counted = [(name, count) for name, count, _ in rows if count]
    if units == "province":
        assert counted == [("Điện Biên", 2), ("Bắc Kạn", 1), ("Lạng Sơn", 1), ("Sơn La", 1)]
    else:
        assert counted == [("Điện Biên", 2), ("Lạng Sơn", 1), ("Sơn La", 1), ("Thái Nguyên", 1)]
    assert rows[0][2] == {"q": ["tỉnh ủy"], "view": ["provinces"], "units": [units], units: ["Điện Biên"]}
    assert soup.select_one("ol.hits") is None and soup.select_one("nav.pages") is None
    current = [a.text for a in soup.select(".provinces .switch a[aria-current]")]
    assert current == [views.UNITS[units], "Nhiều bài nhất"]


def test_the_province_view_sorts_by_name(client):
    soup = page(client.get("/search?view=provinces&order=name"))
    names = [tr.th.text for tr in soup.select("table.province-table tbody tr")]
    assert names[:4] == ["An Giang", "Bắc Giang", "Bắc Kạn", "Bạc Liêu"] and len(names) == 63  # A–Z without marks
    links = {a.text: query(a["href"]) for a in soup.select(".provinces .switch a")}
    assert links["Nhiều bài nhất"] == {"view": ["provinces"], "order": ["count"]}


def test_the_province_view_ignores_unknown_choices(client):
    soup = page(client.get("/search?view=provinces&units=<x>&order=<y>"))
    assert len(soup.select("table.province-table tbody tr")) == 63


# --- exports -------------------------------------------------------------------------------

def test_the_page_links_exports_and_the_feed_with_the_search_parameters(client):
    soup = page(client.get("/search?q=tỉnh+ủy&province=Điện Biên&sort=oldest&page=2&size=5&view=provinces"))
    links = {a.text: a["href"] for a in soup.select("nav.take a")}
    for name, path in (("Tải CSV", "/export.csv"), ("Tải JSONL", "/export.jsonl"), ("Theo dõi (Atom)", "/feed")):
        assert urlsplit(links[name]).path == path
        assert query(links[name]) == {"q": ["tỉnh ủy"], "province": ["Điện Biên"], "sort": ["oldest"]}
    alternate = soup.select_one("head link[rel=alternate]")
    assert alternate["type"] == "application/atom+xml" and alternate["href"] == links["Theo dõi (Atom)"]


def test_csv_export_has_a_bom_the_columns_and_every_result(client):
    r = client.get("/export.csv?q=tỉnh+ủy&sort=newest")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert r.headers["Content-Disposition"] == 'attachment; filename="vnsearch.csv"'
    data = r.get_data()
    assert data.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert tuple(rows[0]) == COLUMNS
    assert [(row["date"], row["province"]) for row in rows] == [
        ("2024-04-08", "Bắc Kạn"), ("2023-04-07", "Điện Biên"), ("2023-02-27", "Điện Biên"),
        ("2022-12-09", "Lạng Sơn"), ("2020-06-29", "Sơn La")]


def test_jsonl_export_matches_the_api(client):
    r = client.get("/export.jsonl?q=tỉnh+ủy&province=dien+bien")
    assert r.mimetype == "application/x-ndjson"
    rows = [json.loads(line) for line in r.get_data(as_text=True).splitlines()]
    api = client.get("/api/search?q=tỉnh+ủy&province=dien+bien").get_json()["hits"]
    assert rows == [{k: h[k] for k in COLUMNS} for h in api]


def test_exports_refuse_bad_parameters_like_the_api(client):
    r = client.get("/export.csv?from=yesterday")
    assert r.status_code == 400 and "from" in r.get_json()["error"]


def test_exports_read_every_page_and_stop_at_the_bound(shared_seed_index, monkeypatch):
    monkeypatch.setattr("search.export.EXPORT_PAGE", 2)
    with Index(shared_seed_index) as index:
        assert len(list(export_hits(index, SearchRequest(page=3, size=1)))) == 5
        assert [h.id for h in export_hits(index, SearchRequest(sort="oldest"), limit=3)] == [
            h.id for h in index.search(SearchRequest(sort="oldest", size=3)).hits]


def test_csv_cells_with_commas_quotes_and_newlines_survive():
    from search.query import Hit

    hit = Hit(id="a", title='Hội nghị "lần 2", khóa\nXII', date=None, province="Điện Biên", province_2025=None,
              secretary=None, source=None, url=None, score=1.5, snippet="")
    text = "".join(csv_lines([hit], bom=False))
    assert list(csv.reader(io.StringIO(text)))[1] == ["a", 'Hội nghị "lần 2", khóa\nXII', "", "Điện Biên",
                                                      "", "", "", "", "1.5"]


# --- feeds ---------------------------------------------------------------------------------

def test_the_feed_is_atom_newest_first_with_absolute_links(client):
    r = client.get("/feed?q=tỉnh+ủy&sort=oldest", base_url="https://tin.example.vn")
    assert r.status_code == 200 and r.mimetype == "application/atom+xml"
    feed = feedparser.parse(r.get_data())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.title == "vnsearch: “tỉnh ủy”"
    assert feed.feed.link == "https://tin.example.vn/search?q=t%E1%BB%89nh+%E1%BB%A7y"
    dates = [e.updated_parsed[:3] for e in feed.entries]
    assert dates == [(2024, 4, 7), (2023, 4, 6), (2023, 2, 26), (2022, 12, 8), (2020, 6, 28)]  # UTC of +07:00 midnight
    first = feed.entries[0]
    assert first.link == "https://tin.example.vn/doc/002_65fc4686f071d328"
    assert first.id == "tag:vnsearch,2024:doc/002_65fc4686f071d328"
    assert first.tags[0].term == "Bắc Kạn" and first.summary


def test_the_feed_escapes_titles_and_leaves_undated_articles_out(fake_search):
    from search.query import Hit

    hits = [Hit(id="x/1", title="A <b>&</b> “B”", date="2024-01-02", province=None, province_2025=None,
                secretary=None, source=None, url=None, score=1.0, snippet="<mark>a</mark> &lt;script&gt;"),
            Hit(id="x/2", title="undated", date=None, province=None, province_2025=None,
                secretary=None, source=None, url=None, score=1.0, snippet="")]
    r = fake_search(fake_result(total=2, hits=hits)).get("/feed?q=<b>")
    feed = feedparser.parse(r.get_data())
    assert not feed.bozo
    assert [e.title for e in feed.entries] == ["A <b>&</b> “B”"]
    assert feed.entries[0].summary == "a <script>"
    assert feed.feed.title == "vnsearch: “<b>”"
    assert b"<b>" not in r.get_data()  # escaped in the XML


def test_a_bad_feed_request_is_a_page_in_vietnamese(client):
    r = client.get("/feed?from=2023-13-45")
    assert r.status_code == 400 and "Từ ngày" in r.get_data(as_text=True)


def test_every_facet_is_named_in_feed_titles():
    assert views._feed_title([("q", "x"), *((name, "v") for name in FACETS)]).count(": v") == len(FACETS)
