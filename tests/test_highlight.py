"""search.highlight: marks on the original text, the same by regex as token by token."""

import pytest

from search.highlight import _matches_by_syllables, mark, matches, snippet
from search.querylang import highlight_terms, parse

from .conftest import SEEDS

QUERIES = ["Trần Quốc Cường", "tran quoc cuong", "bi thu tinh uy", "Tỉnh uỷ", "UBND", "ủy ban nhân dân",
           '"ban chấp hành"', '"ban chap hanh" dang bo', "hội nghị -covid", "MTTQ Tủa Chùa", "29/6", "6,7%",
           "Sơn La", "son la", "khóa XIV", "khoá xiv", "quốc phòng an ninh", "Điện Biên OR Lạng Sơn"]


@pytest.mark.parametrize("q", QUERIES)
def test_regex_marks_equal_token_by_token_marks(q):
    terms = highlight_terms(parse(q))
    for path in sorted(SEEDS.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        assert matches(text, *terms) == _matches_by_syllables(text, *terms)


@pytest.mark.parametrize("q, text, marked", [
    ("tinh uy", "Ban Thường vụ Tỉnh ủy và tỉnh uỷ", "Ban Thường vụ <mark>Tỉnh ủy</mark> và <mark>tỉnh uỷ</mark>"),
    ("Tỉnh ủy", "Tỉnh uỷ, tinh uy", "<mark>Tỉnh uỷ</mark>, tinh uy"),
    ("loose:bí thư", "anh bị thu giữ", "anh <mark>bị thu</mark> giữ"),  # matched other tones: mark them
    ("bí thư", "anh bị thu giữ", "anh bị thu giữ"),  # matched as written only: not the other tones
    ("UBND", "Chủ tịch Ủy ban nhân dân tỉnh và UBND huyện",
     "Chủ tịch <mark>Ủy ban nhân dân</mark> tỉnh và <mark>UBND</mark> huyện"),
    ("a", "<b>a</b> & b", "&lt;b&gt;<mark>a</mark>&lt;/b&gt; &amp; b"),
    ("ho", "Hồ Chí Minh, hộ nghèo, Hoà", "<mark>Hồ</mark> Chí Minh, <mark>hộ</mark> nghèo, Hoà"),
])
def test_marks(q, text, marked):
    import dataclasses

    parsed = parse(q.removeprefix("loose:"))
    if q.startswith("loose:"):
        parsed = dataclasses.replace(parsed, loose=True)
    assert mark(text, matches(text, *highlight_terms(parsed))) == marked


def test_snippet_is_around_the_best_passage():
    text = ("Mở đầu không liên quan. " * 30) + "Đồng chí Trần Quốc Cường, Bí thư Tỉnh ủy, phát biểu. " + \
           ("Phần kết không liên quan. " * 30)
    out = snippet(text, matches(text, *highlight_terms(parse("Trần Quốc Cường"))))
    assert "<mark>Trần Quốc Cường</mark>" in out
    assert out.startswith("… ") and out.endswith(" …")
    assert len(out) < 320


def test_the_pyvi_dictionary_is_in_our_tone_style():
    import importlib.util
    from pathlib import Path

    from search.text import canonical_tones

    package = Path(importlib.util.find_spec("pyvi").submodule_search_locations[0])
    text = (package / "models" / "words.txt").read_text(encoding="utf-8").lower()
    assert canonical_tones(text) == text


@pytest.mark.parametrize("q, text, marked", [
    # the query's words as units: not the "uỷ" of "Uỷ viên" or "Thành uỷ", not a lone "tỉnh"
    ("bí thư tỉnh ủy", "Ông A, Uỷ viên Ban Thường vụ, Bí thư Tỉnh uỷ, Chủ nhiệm Uỷ ban Kiểm tra "
     "Thành uỷ, về tỉnh làm việc.",
     "Ông A, Uỷ viên Ban Thường vụ, <mark>Bí thư Tỉnh uỷ</mark>, Chủ nhiệm Uỷ ban Kiểm tra "
     "Thành uỷ, về tỉnh làm việc."),
    ("bi thu tinh uy", "Bí thư Thành ủy, Tỉnh ủy viên, ủy viên", "<mark>Bí thư</mark> Thành ủy, <mark>Tỉnh ủy</mark> viên, ủy viên"),
    # a name: "văn" of "văn phòng" is another word
    ("Nguyễn Văn", "Ông Nguyễn Văn Bình đến văn phòng.", "Ông <mark>Nguyễn Văn</mark> Bình đến văn phòng."),
    # a word of the query standing alone is marked where it is not part of another word
    ("hội nghị kinh tế", "Hội nghị bàn về kinh tế, nền kinh tế số.",
     "<mark>Hội nghị</mark> bàn về <mark>kinh tế</mark>, nền <mark>kinh tế</mark> số."),
    ("covid kinh tế", "Covid làm kinh tế chậm lại", "<mark>Covid</mark> làm <mark>kinh tế</mark> chậm lại"),
    # nothing matched as a unit: what matched is still marked
    ("bí thư tỉnh ủy", "Tỉnh uỷ họp.", "<mark>Tỉnh uỷ</mark> họp."),
    ("bí thư tỉnh ủy", "Thành uỷ viên và bí mật", "Thành <mark>uỷ</mark> viên và <mark>bí</mark> mật"),
    ("Trần Quốc Cường", "Chủ tịch nước Trần Đại Quang bàn về quốc phòng.",
     "Chủ tịch nước <mark>Trần</mark> Đại Quang bàn về quốc phòng."),
])
def test_marks_are_units_of_the_query(q, text, marked):
    terms = highlight_terms(parse(q))
    assert mark(text, matches(text, *terms)) == marked
    assert matches(text, *terms) == _matches_by_syllables(text, *terms)


def test_one_marker_marks_every_text_as_each_would_be_marked_alone():
    """A results page makes one Marker per query and marks each hit's title and body with it:
    each text is marked as it is alone, and as token by token (real articles, with texts
    that fall back to the folded forms and texts that do not, one after the other)."""
    import gzip
    import json

    from search.highlight import Marker

    from .conftest import shared_corpus

    with gzip.open(shared_corpus("vntc_politics.jsonl.gz"), "rt", encoding="utf-8") as f:
        records = [json.loads(line) for _, line in zip(range(60), f)]
    texts = [t for r in records for t in (r.get("title", ""), r.get("body", ""))]
    import dataclasses

    queries = [parse(q) for q in QUERIES + ["bí thư", "Hội đồng nhân dân", "kinh te xa hoi", "đại hội đảng bộ"]]
    for parsed in queries + [dataclasses.replace(p, loose=True) for p in queries]:  # loose: may fall back
        terms = highlight_terms(parsed)
        marker = Marker(*terms)
        for text in texts:
            spans = marker.spans(text)
            assert spans == matches(text, *terms) == _matches_by_syllables(text, *terms), (terms, text[:80])


def test_the_dictionary_holds_each_line_of_pyvis_word_list_as_one_word():
    """``lexicon.words`` keeps strings; each multi-syllable line of pyvi's list, split on any
    spaces as before, is one word in both forms, and nothing else is."""
    import importlib.util
    from pathlib import Path

    from search.lexicon import is_word, words
    from search.text import fold

    package = Path(importlib.util.find_spec("pyvi").submodule_search_locations[0])
    lines = (package / "models" / "words.txt").read_text(encoding="utf-8").lower().splitlines()
    accented = {tuple(line.split()) for line in lines if " " in line.strip()}
    folded = {tuple(fold(line).split()) for line in lines if " " in line.strip()}
    assert len(accented) > 20_000
    assert words() == ({" ".join(w) for w in accented}, {" ".join(w) for w in folded})
    assert all(is_word(w) for w in accented) and all(is_word(w, accented=False) for w in folded)
    assert is_word(("tỉnh", "uỷ")) and is_word(("tinh", "uy"), accented=False)
    assert not is_word(("tỉnh",)) and not is_word(("uỷ", "tỉnh")) and not is_word(("tinh", "uy"))


def test_an_accented_lookup_does_not_fold_the_dictionary():
    """The folded set is built only when a folded word is looked up (a server's first query
    with diacritics does not wait for it)."""
    from search import lexicon

    lexicon._accented.cache_clear()
    lexicon._folded.cache_clear()
    assert lexicon.is_word(("bí", "thư"))
    assert lexicon._folded.cache_info().currsize == 0
    assert lexicon.is_word(("bi", "thu"), accented=False)
    assert lexicon._folded.cache_info().currsize == 1
