"""The gazetteer: provinces before and after 1 July 2025, secretaries, outlets, spellings."""

import csv
import unicodedata
from datetime import date
from importlib import resources

import pytest

from search.gazetteer import gazetteer, key, name_key, term_years


@pytest.fixture(scope="module")
def g():
    return gazetteer()


def test_63_provinces_and_34_units(g):
    assert len(g.provinces) == 63
    assert len(g.units_2025) == 34
    assert len({p.code for p in g.provinces}) == 63
    assert len({p.name_2025 for p in g.provinces}) == 34


@pytest.mark.parametrize(
    "spelling, short_name",
    [
        ("Điện Biên", "Điện Biên"),
        ("dien bien", "Điện Biên"),
        ("Tỉnh Điện Biên", "Điện Biên"),
        ("DIEN BIEN", "Điện Biên"),
        ("Bắc Kạn", "Bắc Kạn"),
        ("Bắc Cạn", "Bắc Kạn"),
        ("bac kan", "Bắc Kạn"),
        ("TP.HCM", "Hồ Chí Minh"),
        ("TP. HCM", "Hồ Chí Minh"),
        ("TPHCM", "Hồ Chí Minh"),
        ("Thành phố Hồ Chí Minh", "Hồ Chí Minh"),
        ("TT-Huế", "Huế"),
        ("Thừa Thiên Huế", "Huế"),
        ("Thừa Thiên - Huế", "Huế"),
        ("Hòa Bình", "Hòa Bình"),
        ("Hoà Bình", "Hòa Bình"),
        ("hoa binh", "Hòa Bình"),
        ("Thanh Hoá", "Thanh Hóa"),
        ("Thanh Hóa", "Thanh Hóa"),
        ("Đắc Lắc", "Đắk Lắk"),
        ("BR-VT", "Bà Rịa - Vũng Tàu"),
        ("Thủ đô Hà Nội", "Hà Nội"),
        ("ha noi", "Hà Nội"),
        ("TP. Đà Nẵng", "Đà Nẵng"),
        ("Kontum", "Kon Tum"),
    ],
)
def test_province_by_any_spelling(g, spelling, short_name):
    assert g.province(spelling).short_name == short_name


def test_decomposed_unicode_is_the_same_spelling(g):
    assert g.province(unicodedata.normalize("NFD", "Điện Biên")).short_name == "Điện Biên"


@pytest.mark.parametrize("spelling", ["Atlantis", "Phnom Penh", "", "Tủa Chùa"])
def test_unknown_spelling_is_none(g, spelling):
    assert g.province(spelling) is None


@pytest.mark.parametrize(
    "before, after",
    [
        ("Bắc Kạn", "Thái Nguyên"),
        ("Thái Nguyên", "Thái Nguyên"),
        ("Hà Giang", "Tuyên Quang"),
        ("Hải Dương", "Hải Phòng"),
        ("Bình Dương", "Hồ Chí Minh"),
        ("Hoà Bình", "Phú Thọ"),
        ("Điện Biên", "Điện Biên"),
        ("Lạng Sơn", "Lạng Sơn"),
        ("Sơn La", "Sơn La"),
    ],
)
def test_mapping_to_2025(g, before, after):
    assert g.province(before).name_2025 == after


def test_unit_2025_lists_what_it_merged(g):
    unit = g.unit_2025("thai nguyen")
    assert (unit.short_name, unit.merged_from) == ("Thái Nguyên", ("06", "19"))
    assert [g.province_by_code(c).short_name for c in unit.merged_from] == ["Bắc Kạn", "Thái Nguyên"]


def test_province_by_code(g):
    assert g.province_by_code("11").short_name == "Điện Biên"
    assert g.province_by_code("99") is None


@pytest.mark.parametrize(
    "province, day, secretary",
    [
        ("Điện Biên", date(2023, 4, 7), "Trần Quốc Cường"),
        ("Điện Biên", date(2023, 2, 27), "Trần Quốc Cường"),
        ("Bắc Kạn", date(2024, 4, 8), "Hoàng Duy Chinh"),
        ("Lạng Sơn", date(2022, 12, 9), "Nguyễn Quốc Đoàn"),
        ("Sơn La", date(2020, 6, 29), "Nguyễn Hữu Đông"),
    ],
)
def test_secretary_on_the_seed_dates(g, province, day, secretary):
    assert [t.name for t in g.secretary_on(g.province(province), day)] == [secretary]


def test_terms_of_any_tone_style_and_normal_form(g):
    terms = g.terms_of(unicodedata.normalize("NFD", "Trần  Quốc Cường"))
    assert {t.province_code for t in terms} == {"11"}
    assert g.terms_of("Không Có Ai") == []


@pytest.mark.parametrize(
    "host, outlet, province_code",
    [
        ("baolangson.vn", "Báo Lạng Sơn", "20"),
        ("www.baolangson.vn", "Báo Lạng Sơn", "20"),
        ("dienbientv.vn", "Đài PT-TH Điện Biên (Điện Biên TV)", "11"),
        ("baodienbienphu.info.vn", "Báo Điện Biên Phủ", "11"),
        ("nld.com.vn", "Người Lao Động", ""),
    ],
)
def test_outlet_for_domain(g, host, outlet, province_code):
    found = g.outlet_for_domain(host)
    assert (found.name, found.province_code) == (outlet, province_code)


def test_unknown_domain_has_no_outlet(g):
    assert g.outlet_for_domain("example.com") is None


def test_hue_became_a_centrally_run_city_in_2025(g):
    hue = g.province("Huế")
    assert [hue.is_city_on(date(2024, 6, 1)), hue.is_city_on(date(2025, 2, 1)), hue.is_city_on(None)] == \
        [False, True, False]
    assert g.province("Đà Nẵng").is_city_on(date(2010, 1, 1)) is True
    assert g.province("Điện Biên").is_city_on(date(2025, 2, 1)) is False


@pytest.mark.parametrize("spelling", ["Tỉnh Điện Biên", "dien bien", "Điện-Biên", "  Điện Biên "])
def test_key_ignores_prefix_marks_and_punctuation(spelling):
    assert key(spelling) == "dienbien"


def test_name_key_is_nfc_canonical_lower_single_spaced():
    assert name_key("Trần  Quốc Cường") == "trần quốc cường"
    assert name_key("Nguyễn Thị Thủy") == name_key("Nguyễn Thị Thuỷ")


@pytest.mark.parametrize(
    "table, columns",
    [
        ("provinces.csv", {"source_ids", "aliases_confidence", "city_since_source"}),
        ("secretaries.csv", {"source", "confidence"}),
        ("outlets.csv", {"source", "confidence"}),
    ],
)
def test_derived_tables_keep_source_and_confidence(table, columns):
    text = resources.files("search").joinpath("data", table).read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    assert columns <= set(rows[0])
    assert all(r[c] for r in rows for c in columns if c not in ("city_since_source",))


def test_aliases_are_marked_unverified():
    text = resources.files("search").joinpath("data", "provinces.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    assert {r["aliases_confidence"] for r in rows} == {"unverified (press conventions added by the compiler)"}


@pytest.mark.parametrize("text, years", [
    ("2015-2020", (2015, 2020)),
    ("nhiệm kỳ 2010 – 2015", (2010, 2015)),
    ("2010-2015 / 2015-2020", (2010, 2020)),
    ("(2010-2015 or 2015-2020)", (2010, 2020)),
    ("khóa XIV", None),
    ("1800-1805", None),
])
def test_term_years_reads_a_term_in_the_table_and_in_text(text, years):
    assert term_years(text) == years


def test_every_term_in_the_secretaries_table_has_its_years(g):
    assert [t.term for t in g.secretaries if term_years(t.term) is None] == []
