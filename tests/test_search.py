"""search.query over the seed articles: ranking, facets, filters, highlighting, suggestions."""

import pytest

from search.errors import BadQuery, IndexMissing
from search.query import SearchRequest, request_from_params

from .conftest import DIEN_BIEN, document, search

ALL = {"000_16468085dbf1e3df", "001_045948c02f9f6eb6", "002_65fc4686f071d328",
       "003_f0cf8f3db9718a20", "004_d9390da75f2ce445"}


def ids(result):
    return [h.id for h in result.hits]


def test_name_ranks_both_dien_bien_articles_first(shared_seed_index):
    result = search(shared_seed_index, SearchRequest(q="Trần Quốc Cường"))
    assert sorted(ids(result)[:2]) == DIEN_BIEN
    assert all(h.province == "Điện Biên" for h in result.hits[:2])


def test_province_facet_counts_on_the_seeds(shared_seed_index):
    result = search(shared_seed_index, SearchRequest())
    counts = {f.value: f.count for f in result.facets["province"]}
    assert counts == {"Điện Biên": 2, "Bắc Kạn": 1, "Lạng Sơn": 1, "Sơn La": 1}
    assert {f.value: f.count for f in result.facets["province_2025"]} == {
        "Điện Biên": 2, "Thái Nguyên": 1, "Lạng Sơn": 1, "Sơn La": 1}


@pytest.mark.parametrize("spelling", ["Điện Biên", "dien bien", "Tỉnh Điện Biên", "DIEN BIEN"])
def test_province_filter_accepts_any_spelling(shared_seed_index, spelling):
    result = search(shared_seed_index, SearchRequest(q="hội nghị", filters={"province": [spelling]}))
    assert set(ids(result)) <= set(DIEN_BIEN)
    assert result.total == len(result.hits) >= 1
    assert all(h.province == "Điện Biên" for h in result.hits)


def test_province_facet_is_disjunctive(shared_seed_index):
    result = search(shared_seed_index, SearchRequest(filters={"province": ["Bắc Cạn"]}))
    assert ids(result) == ["002_65fc4686f071d328"]
    counts = {f.value: (f.count, f.selected) for f in result.facets["province"]}
    # The selected facet still shows the other provinces with their true counts.
    assert counts == {"Bắc Kạn": (1, True), "Điện Biên": (2, False), "Lạng Sơn": (1, False),
                      "Sơn La": (1, False)}


def test_two_provinces_combine_with_or(shared_seed_index):
    result = search(shared_seed_index, SearchRequest(filters={"province": ["Sơn La", "Lạng Sơn"]}))
    assert set(ids(result)) == {"003_f0cf8f3db9718a20", "004_d9390da75f2ce445"}


def test_province_2025_includes_merged_provinces(shared_seed_index):
    result = search(shared_seed_index, SearchRequest(filters={"province_2025": ["Thái Nguyên"]}))
    assert ids(result) == ["002_65fc4686f071d328"]


def test_secretary_filter_without_diacritics(shared_seed_index):
    result = search(shared_seed_index, SearchRequest(filters={"secretary": ["nguyen huu dong"]}))
    assert ids(result) == ["004_d9390da75f2ce445"]


def test_snippet_marks_the_name_in_the_original_text(shared_seed_index):
    hit = search(shared_seed_index, SearchRequest(q="tran quoc cuong")).hits[0]
    assert "<mark>Trần Quốc Cường</mark>" in hit.snippet
    assert 150 <= len(hit.snippet) <= 400


@pytest.mark.parametrize("q, marked", [
    ("tinh uy", "<mark>Tỉnh ủy</mark>"),
    ("Tỉnh uỷ", "<mark>Tỉnh ủy</mark>"),
    ("UBND", "<mark>UBND</mark>"),
    ('"ban chấp hành"', "<mark>Ban Chấp hành</mark>"),
])
def test_highlighting_for_each_kind_of_query(shared_seed_index, q, marked):
    result = search(shared_seed_index, SearchRequest(q=q))
    assert any(marked in h.snippet for h in result.hits)


# Each row: a query and the seeds it must find (exactly, as a set) — one row per requirement.
QUERIES = [
    ("Trần Quốc Cường", None, DIEN_BIEN),  # exact accents, ranked first (see above)
    ("Hoàng Duy Chinh", {"002_65fc4686f071d328"}, None),
    ("hoang duy chinh", {"002_65fc4686f071d328"}, None),  # no diacritics
    ("HOÀNG DUY CHINH", {"002_65fc4686f071d328"}, None),  # capitals
    ("Tủa Chùa", {"001_045948c02f9f6eb6"}, None),
    ("tua chua", {"001_045948c02f9f6eb6"}, None),
    ("Tỉnh uỷ Tủa Chùa", {"001_045948c02f9f6eb6"}, None),  # old tone style
    ('"lần thứ 21"', {"004_d9390da75f2ce445"}, None),  # phrase
    ('"lan thu 21"', {"004_d9390da75f2ce445"}, None),  # folded phrase
    ("MTTQ Tủa Chùa", {"001_045948c02f9f6eb6"}, None),  # 001 writes only "MTTQ"
    ('MTTQ "lần thứ 13"', {"000_16468085dbf1e3df"}, None),  # 000 writes only "mặt trận tổ quốc"
    ("mat tran to quoc", ALL, None),  # the expansion finds 001 and 004, which write "MTTQ"
    ("ĐBQH", {"002_65fc4686f071d328", "003_f0cf8f3db9718a20", "004_d9390da75f2ce445"}, None),
    ("Đại biểu Quốc hội", {"002_65fc4686f071d328", "003_f0cf8f3db9718a20", "004_d9390da75f2ce445"}, None),
    ("hội nghị -COVID", {"000_16468085dbf1e3df", "001_045948c02f9f6eb6", "002_65fc4686f071d328"}, None),
    ("Tủa Chùa OR Sơn La", None, ["001_045948c02f9f6eb6", "004_d9390da75f2ce445"]),
    ('"Tủa Chùa" OR "Sơn La"', {"001_045948c02f9f6eb6", "004_d9390da75f2ce445"}, None),
    ("title:Tủa", {"001_045948c02f9f6eb6"}, None),
    ("hội nghị province:\"Lạng Sơn\"", {"003_f0cf8f3db9718a20"}, None),
    ('Tủa "Chùa', {"001_045948c02f9f6eb6"}, None),  # stray quote: plain words
    ("Tủa Chùa AND", {"001_045948c02f9f6eb6"}, None),  # dangling operator
    ("29/6", {"004_d9390da75f2ce445"}, None),
    ("6,7%", {"000_16468085dbf1e3df"}, None),
]


@pytest.mark.parametrize("q, exactly, first", QUERIES)
def test_query_table(shared_seed_index, q, exactly, first):
    result = search(shared_seed_index, SearchRequest(q=q))
    if exactly is not None:
        assert set(ids(result)) == exactly
    if first is not None:
        assert sorted(ids(result)[:len(first)]) == sorted(first)


def test_exact_accents_rank_above_folded_only_matches(tmp_path):
    from search.indexer import reindex

    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Tin địa phương\n\nAnh ấy bị thu giữ giấy tờ tại chợ.", encoding="utf-8")
    (corpus / "b.txt").write_text("Tin địa phương\n\nĐồng chí bí thư phát biểu tại chợ.", encoding="utf-8")
    reindex(corpus, tmp_path / "i", full=True, workers=1)
    # As written, each finds one article; too few, so the other tone comes after it, said so.
    result = search(tmp_path / "i", SearchRequest(q="bí thư"))
    assert (ids(result), result.loose, result.exact, result.corrected) == (["b", "a"], True, 1, None)
    assert ids(search(tmp_path / "i", SearchRequest(q="bị thu"))) == ["a", "b"]
    # Without diacritics both match; the pyvi word "bí thư" outranks the scattered syllables.
    assert ids(search(tmp_path / "i", SearchRequest(q="bi thu"))) == ["b", "a"]


def test_did_you_mean_restores_diacritics_and_capitals_as_written(shared_seed_index):
    assert search(shared_seed_index, SearchRequest(q="tran quoc cuongg")).suggestion == "Trần Quốc Cường"
    assert search(shared_seed_index, SearchRequest(q="hoang duy chinhh")).suggestion == "Hoàng Duy Chinh"
    assert search(shared_seed_index, SearchRequest(q="hoi nghii ban chap hanh")).suggestion == "Hội nghị Ban Chấp hành"
    assert search(shared_seed_index, SearchRequest(q="Trần Quốc Cường")).suggestion is None


def test_a_misspelt_query_shows_the_corrections_results(shared_seed_index):
    result = search(shared_seed_index, SearchRequest(q="tran quoc cuongg"))
    assert result.corrected == "Trần Quốc Cường"
    assert sorted(ids(result)) == DIEN_BIEN  # the name as written is in these two
    assert "<mark>Trần Quốc Cường</mark>" in result.hits[0].snippet
    exact = search(shared_seed_index, SearchRequest(q="tran quoc cuongg", autocorrect=False))
    assert exact.corrected is None and exact.suggestion == "Trần Quốc Cường"


def test_known_words_the_filters_leave_nothing_of_are_not_corrected(shared_seed_index):
    """The name is in the Điện Biên articles only: under another province nothing is found,
    and that is the filter's doing, not a misspelling to correct into other words."""
    assert search(shared_seed_index, SearchRequest(q="Trần Quốc Cường")).exact == 2
    for q in ("Trần Quốc Cường", "tran quoc cuong"):
        result = search(shared_seed_index, SearchRequest(q=q, filters={"province": ["Sơn La"]}))
        assert (result.total, result.suggestion, result.corrected) == (0, None, None), q
    # a misspelt word is still corrected under a filter
    result = search(shared_seed_index, SearchRequest(q="tran quoc cuongg", filters={"province": ["Sơn La"]}))
    assert result.suggestion == "Trần Quốc Cường"


def test_a_query_with_diacritics_matches_the_words_as_written(tmp_path):
    from search.indexer import reindex

    corpus = tmp_path / "c"
    corpus.mkdir()
    texts = {"hoi": "Hội nghị Tỉnh ủy lần thứ 5", "hoi2": "Hội nghị cán bộ chủ chốt", "hoi3": "Hội nghị tổng kết",
             "hoi4": "Tỉnh uỷ tổ chức hội nghị", "tet": "Lời chúc Tết Nguyên đán Kỷ Hợi của Tỉnh ủy",
             "hoi5": "Khai mạc hội nghị về kinh tế"}
    for name, text in texts.items():
        (corpus / f"{name}.txt").write_text(f"{text}\n\n{text}.", encoding="utf-8")
    reindex(corpus, tmp_path / "i", full=True, workers=1)
    result = search(tmp_path / "i", SearchRequest(q="hội"))
    assert "tet" not in ids(result) and result.total == 5 and not result.loose
    assert "tet" in ids(search(tmp_path / "i", SearchRequest(q="hoi")))  # without marks: every tone
    # "ủy" = "uỷ" as written in either style
    assert set(ids(search(tmp_path / "i", SearchRequest(q="Tỉnh ủy")))) == {"hoi", "hoi4", "tet"}
    # As written, "Hới" is in no article: other tones are shown, and the result says so...
    loose = search(tmp_path / "i", SearchRequest(q="Kỷ Hới", autocorrect=False))
    assert loose.loose and ids(loose) == ["tet"]
    # ... or, better, the articles' own spelling is suggested and its results shown.
    fixed = search(tmp_path / "i", SearchRequest(q="Kỷ Hới"))
    assert (fixed.corrected, fixed.loose, ids(fixed)) == ("Kỷ Hợi", False, ["tet"])


def test_empty_query_browses_newest_first(shared_seed_index):
    result = search(shared_seed_index, SearchRequest())
    assert result.total == 5
    assert [h.date for h in result.hits] == ["2024-04-08", "2023-04-07", "2023-02-27", "2022-12-09", "2020-06-29"]


@pytest.mark.parametrize("request_", [SearchRequest(), SearchRequest(q="tinh uy", filters={"province": ["Điện Biên"]}),
                                      SearchRequest(q="hội nghị", sort="oldest", size=2)])
def test_a_search_without_facets_finds_the_same_and_counts_nothing(shared_seed_index, request_):
    """What exports and /healthz ask: the same hits and total, no facet counted."""
    from dataclasses import replace

    counted = search(shared_seed_index, request_)
    bare = search(shared_seed_index, replace(request_, facets=False))
    assert counted.facets and bare.facets == {}
    assert (ids(bare), bare.total, bare.exact) == (ids(counted), counted.total, counted.exact)


def test_sort_and_paging(shared_seed_index):
    oldest = search(shared_seed_index, SearchRequest(sort="oldest", size=2, page=1))
    assert [h.date for h in oldest.hits] == ["2020-06-29", "2022-12-09"]
    last = search(shared_seed_index, SearchRequest(sort="oldest", size=2, page=3))
    assert [h.date for h in last.hits] == ["2024-04-08"]
    beyond = search(shared_seed_index, SearchRequest(size=2, page=9))
    assert beyond.hits == [] and beyond.total == 5


def test_date_range_is_inclusive(shared_seed_index):
    from datetime import date

    result = search(shared_seed_index, SearchRequest(date_from=date(2022, 12, 9), date_to=date(2023, 4, 7)))
    assert set(ids(result)) == {"003_f0cf8f3db9718a20", "000_16468085dbf1e3df", "001_045948c02f9f6eb6"}


def params(**kw):
    lists = {k: v for k, v in kw.items() if isinstance(v, list)}
    return request_from_params(lambda k: kw.get(k) if not isinstance(kw.get(k), list) else None,
                               lambda k: lists.get(k, []))


@pytest.mark.parametrize("bad, message", [
    ({"size": "500"}, "'size' must be between 1 and 100"),
    ({"page": "0"}, "'page' must be between 1"),
    ({"page": "abc"}, "'page' must be a whole number"),
    ({"from": "2023-13-45"}, "'from' must be a date"),
    ({"sort": "random"}, "'sort' must be one of"),
    ({"q": "x" * 600}, "the query is too long"),
    ({"year": ["20x3"]}, "'year' must be a year"),
])
def test_bad_parameters_raise_bad_query(bad, message):
    with pytest.raises(BadQuery, match=message):
        params(**bad)


def test_searching_without_an_index(tmp_path):
    with pytest.raises(IndexMissing, match="run `vnsearch reindex` first"):
        search(tmp_path / "nothing", SearchRequest(q="x"))


def test_top_results_are_the_true_best_even_with_many_ties(tmp_path):
    """Whoosh's matcher replacement loses top documents; our collector must not."""
    from search.indexer import reindex

    from .conftest import SEEDS

    corpus = tmp_path / "c"
    corpus.mkdir()
    seeds = sorted(SEEDS.glob("*.txt"))
    for i in range(60):
        (corpus / f"{i:03d}.txt").write_text(seeds[i % 5].read_text(encoding="utf-8") + f"\nBản số {i}",
                                             encoding="utf-8")
    reindex(corpus, tmp_path / "i", full=True, workers=1)
    for q in ("hội nghị", "ban chấp hành đảng bộ tỉnh lần thứ", "bi thu tinh uy"):
        everything = search(tmp_path / "i", SearchRequest(q=q, size=100))
        top = search(tmp_path / "i", SearchRequest(q=q, size=15))
        assert [h.score for h in top.hits] == [h.score for h in everything.hits[:15]]


def test_related_articles_share_telling_words(shared_seed_index):
    doc = document(shared_seed_index, "000_16468085dbf1e3df")  # a provincial conference report
    related = [h.id for h in doc.related]
    assert "000_16468085dbf1e3df" not in related and 0 < len(related) <= 5
    assert related[0] == "002_65fc4686f071d328"  # another province's conference report
    assert "001_045948c02f9f6eb6" in related  # the other Điện Biên article, same secretary and period


def test_related_articles_are_on_the_story_not_on_a_shared_syllable(tmp_path):
    """Under "Chủ tịch tỉnh Phú Thọ được bầu làm Bí thư Tỉnh uỷ" all five related articles
    were Đà Nẵng land stories (its secretary then was Trần Thọ): "thọ" of "Phú Thọ"."""
    import gzip
    import json as _json

    from search.indexer import reindex

    from .conftest import shared_corpus

    lines = []
    with gzip.open(shared_corpus("party_committee_subset.jsonl.gz"), "rt", encoding="utf-8") as f:
        for line in f:
            title = _json.loads(line).get("title") or ""
            if "Đà Nẵng" in title or "được bầu" in title or "Phú Thọ" in title:
                lines.append(line)
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "news.jsonl").write_text("".join(lines), encoding="utf-8")
    reindex(corpus, tmp_path / "i", full=True, workers=1)
    hit = search(tmp_path / "i", SearchRequest(q='"Chủ tịch tỉnh Phú Thọ được bầu làm Bí thư"')).hits[0]
    related = document(tmp_path / "i", hit.id).related
    assert related and not [h.title for h in related if "Đà Nẵng" in h.title]
    assert any("được bầu" in h.title for h in related)


def test_documents_with_an_empty_field_do_not_spoil_scores(tmp_path):
    import json as _json

    from search.indexer import reindex

    corpus = tmp_path / "c"
    corpus.mkdir()
    records = [{"id": str(i), "title": "" if i % 2 else f"Bí thư Tỉnh ủy số {i}",
                "body": f"Bí thư Tỉnh ủy làm việc với huyện số {i}. " * (1 + i % 3)} for i in range(30)]
    (corpus / "news.jsonl").write_text("\n".join(_json.dumps(r, ensure_ascii=False) for r in records),
                                       encoding="utf-8")
    reindex(corpus, tmp_path / "i", full=True, workers=1)
    result = search(tmp_path / "i", SearchRequest(q="bi thu tinh uy", size=10, page=3))
    assert result.total == 30
    assert len(result.hits) == 10
    assert all(h.score > 0 for h in result.hits)


@pytest.mark.parametrize("q, clauses", [
    # A form that holds another ("xã hội chủ nghĩa" in "Cộng hoà xã hội chủ nghĩa") is one
    # run; both used to be merged, one inside the other, and the query failed (a 500).
    ("Cộng hoà xã hội chủ nghĩa", [(["Cộng", "hoà", "xã", "hội", "chủ", "nghĩa"], [["CHXHCN"]])]),
    ("BCH Ban Chấp hành Trung ương", [(["BCH"], [["Ban", "Chấp", "hành"]]),
                                      (["Ban", "Chấp", "hành", "Trung", "ương"], [["BCHTW"]])]),
    ("ủy ban nhân dân xã hội chủ nghĩa", [(["ủy", "ban", "nhân", "dân"], [["UBND"]]),
                                        (["xã", "hội", "chủ", "nghĩa"], [["XHCN"]])]),
])
def test_forms_of_abbreviations_are_read_left_to_right_without_overlap(q, clauses):
    from search import querylang

    parsed = querylang.parse(q)
    assert [(c.words, c.alternatives) for c in parsed.clauses] == clauses


def test_every_run_of_abbreviation_forms_is_searched(shared_seed_index):
    """Any sequence of abbreviations and expansions, overlapping or not, is a query."""
    import random

    from search.abbreviations import ABBREVIATIONS

    forms = [*ABBREVIATIONS, *(e for expansions in ABBREVIATIONS.values() for e in expansions)]
    rng = random.Random(5)
    for _ in range(150):
        q = " ".join(rng.choice(forms + ["tỉnh", "hội nghị", "-xã", '"ban"']) for _ in range(rng.randint(1, 5)))
        assert search(shared_seed_index, SearchRequest(q=q)).total >= 0, q


@pytest.mark.parametrize("q", ["bí thư tỉnh ủy", "bi thu tinh uy dien bien", "", '"Ban Thường vụ"', "UBND"])
def test_json_of_a_result_and_of_a_document_is_their_fields_less_the_rendered_html(shared_seed_index, q):
    """``as_json`` builds its dicts by hand (``asdict`` copied every facet value deeply): the
    same dicts as ``asdict`` less the fields the documented shape leaves out, in field order."""
    import dataclasses
    import json as _json

    result = search(shared_seed_index, SearchRequest(q=q, size=3))
    expected = dataclasses.asdict(result)
    del expected["filters"], expected["histogram"]
    for hit in expected["hits"]:
        del hit["title_html"]
    got = result.as_json()
    assert got == expected and list(got) == list(expected)
    assert [list(h) for h in got["hits"]] == [list(h) for h in expected["hits"]]
    assert got["facets"] and all(v for v in got["facets"].values())
    assert _json.loads(_json.dumps(got, ensure_ascii=False)) == got

    doc = document(shared_seed_index, result.hits[0].id)
    expected = dataclasses.asdict(doc)
    for name in ("body_html", "title_html", "facets"):
        del expected[name]
    expected["related"] = [{k: h[k] for k in ("id", "title", "date", "province")} for h in expected["related"]]
    assert doc.related and doc.as_json() == expected and list(doc.as_json()) == list(expected)
