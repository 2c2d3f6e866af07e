"""The facet registry: spelling, order, and a new facet declared once, seen everywhere."""

import json

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

from search.cli import cli
from search.errors import BadQuery, StaleIndex
from search.facets import FACETS, UNKNOWN, UNKNOWN_LABEL, Facet, registered
from search.indexer import reindex
from search.query import SearchRequest, open_index, request_from_params
from web import create_app


def test_the_product_facets_in_their_order():
    assert list(FACETS) == ["province", "province_2025", "secretary", "year"]
    assert FACETS["province_2025"].option == "--province-2025"
    assert all(f.label for f in FACETS.values())


@pytest.mark.parametrize("facet, typed, canonical", [
    ("province", "dien bien", "Điện Biên"), ("province", "Tỉnh Bắc Cạn", "Bắc Kạn"),
    ("province", "DIEN BIEN", "Điện Biên"), ("province_2025", "thai nguyen", "Thái Nguyên"),
    ("secretary", "trần quốc cường", "Trần Quốc Cường"), ("year", "2023", "2023"),
    ("province", "Không rõ", UNKNOWN), ("secretary", "khong ro", UNKNOWN),
])
def test_any_spelling_becomes_the_indexed_value(facet, typed, canonical):
    assert FACETS[facet].canonical(typed) == canonical


def test_a_typed_value_names_a_shown_one():
    province = FACETS["province"]
    assert province.same("dien bien", "Điện Biên") and province.same("Bắc Cạn", "Bắc Kạn")
    assert not province.same("Lạng Sơn", "Điện Biên")
    assert province.same("khong ro", UNKNOWN_LABEL)


def test_year_values_newest_first_unknown_last():
    year = FACETS["year"]
    values = sorted([("2019", 5), (UNKNOWN_LABEL, 9), ("2023", 1)], key=lambda v: year.order(*v))
    assert [v for v, _ in values] == ["2023", "2019", UNKNOWN_LABEL]
    province = FACETS["province"]
    values = sorted([("Sơn La", 1), (UNKNOWN_LABEL, 3), ("Điện Biên", 3)], key=lambda v: province.order(*v))
    assert [v for v, _ in values] == ["Điện Biên", UNKNOWN_LABEL, "Sơn La"]


def test_bad_facet_values_name_their_parameter():
    with pytest.raises(BadQuery) as bad:
        request_from_params({}.get, lambda name: ["20x3"] if name == "year" else [])
    assert bad.value.parameter == "year"
    with pytest.raises(BadQuery) as long:
        request_from_params({}.get, lambda name: ["x" * 1000] if name == "secretary" else [])
    assert (long.value.parameter, long.value.reason) == ("secretary", "too_long")


OUTLET = Facet("outlet", "Cơ quan báo", lambda meta: meta.get("outlet"), placeholder="Gõ tên báo…",
               help="Only articles of this outlet (repeatable).")


def test_a_facet_added_through_the_registry_alone_reaches_api_cli_and_page(corpus, tmp_path):
    with registered(OUTLET):
        index = tmp_path / "index"
        reindex(corpus, index, workers=1)

        # the library
        with open_index(index) as ix:
            result = ix.search(SearchRequest(filters={"outlet": ["Báo Lạng Sơn"]}))
        assert [h.id for h in result.hits] == ["003_f0cf8f3db9718a20"]
        counts = {f.value: f.count for f in result.facets["outlet"]}
        assert counts == {"Báo Lạng Sơn": 1, "Báo Điện Biên Phủ": 1, "Đài PT-TH Điện Biên (Điện Biên TV)": 1,
                          UNKNOWN_LABEL: 2}  # disjunctive: the other outlets keep their counts

        # the API
        client = create_app({"INDEX_DIR": str(index), "TESTING": True}).test_client()
        api = client.get("/api/search?outlet=Báo Lạng Sơn").get_json()
        assert api["total"] == 1 and [h["id"] for h in api["hits"]] == ["003_f0cf8f3db9718a20"]
        assert list(api["facets"]) == ["province", "province_2025", "secretary", "year", "outlet"]

        # the page: a facet box with its label and filter box, a chip, the article's facts
        soup = BeautifulSoup(client.get("/search?q=tỉnh ủy&outlet=Báo Lạng Sơn").get_data(as_text=True),
                             "html.parser")
        box = soup.select_one("#facet-outlet-box")
        assert box is not None and "Cơ quan báo" in soup.get_text()
        assert soup.select_one("input[placeholder='Gõ tên báo…']") is not None
        assert any("Cơ quan báo: Báo Lạng Sơn" in c.get_text() for c in soup.select(".chip, .chips a"))
        article = client.get("/doc/003_f0cf8f3db9718a20").get_data(as_text=True)
        assert "Cơ quan báo" in article

        # the CLI
        runner = CliRunner()
        out = runner.invoke(cli, ["search", "--index", str(index), "--outlet", "Báo Lạng Sơn", "--json"])
        assert out.exit_code == 0, out.output
        assert [h["id"] for h in json.loads(out.output)["hits"]] == ["003_f0cf8f3db9718a20"]
        assert "--outlet" in runner.invoke(cli, ["search", "--help"]).output
    assert "outlet" not in FACETS
    assert "--outlet" not in CliRunner().invoke(cli, ["search", "--help"]).output


def test_an_index_built_before_a_facet_existed_is_refused_as_stale(seed_index):
    with registered(OUTLET):
        with pytest.raises(StaleIndex, match="without the facet 'outlet'.*reindex --full"):
            open_index(seed_index)


def test_one_person_spelt_two_ways_is_one_facet_value():
    from search.query import _facet_values

    values = _facet_values("secretary", {"Phạm Quang Nghị": 12, "Phạm Quang Nghi": 1, UNKNOWN: 4}, [])
    assert [(v.value, v.count) for v in values] == [("Phạm Quang Nghị", 13), (UNKNOWN_LABEL, 4)]
    chosen = _facet_values("secretary", {"Phạm Quang Nghị": 12, "Phạm Quang Nghi": 1}, ["Phạm Quang Nghi"])
    assert [(v.value, v.count, v.selected) for v in chosen] == [("Phạm Quang Nghị", 13, True)]


@pytest.mark.parametrize("name", ["province", "province_2025", "year"])
def test_facet_values_of_facets_without_merging_are_each_value_once(name):
    """Facets whose values are each their own: every value once with its own count ("" left
    out, "_" shown as "Không rõ"), the selected ones marked (listed even without articles),
    in the facet's order."""
    from search import query

    counts = {"Điện Biên": 5, "Sơn La": 5, "Hà Nội": 9, UNKNOWN: 2, "": 1, "2021": 3, "Lạng Sơn": 0}
    values = query._facet_values(name, dict(counts), ["Sơn La", "Cà Mau"])
    want = {("Không rõ" if v == UNKNOWN else v): c for v, c in counts.items() if v} | {"Cà Mau": 0}
    assert {v.value: v.count for v in values} == want and len(values) == len(want)
    assert {v.value for v in values if v.selected} == {"Sơn La", "Cà Mau"}
    order = [FACETS[name].order(v.value, v.count) for v in values]
    assert order == sorted(order)
