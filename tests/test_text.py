"""search.text: NFC, canonical tone placement, folding, syllables with exact offsets."""

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search.text import canonical_tones, fold, has_diacritics, nfc, normalize_token, syllables

# (one spelling, the other spelling): both must index alike.
TONE_STYLES = [
    ("hòa", "hoà"), ("Hòa Bình", "Hoà Bình"), ("ủy", "uỷ"), ("Ủy ban", "Uỷ ban"), ("thủy", "thuỷ"),
    ("khóa", "khoá"), ("òa", "oà"), ("òe", "oè"), ("úy", "uý"), ("tùy", "tuỳ"), ("lòa", "loà"),
    ("khỏe", "khoẻ"), ("họa", "hoạ"), ("thúy", "thuý"), ("qúy", "quý"), ("Thanh Hóa", "Thanh Hoá"),
]


@pytest.mark.parametrize("old, new", TONE_STYLES)
def test_tone_styles_meet_in_one_canonical_form(old, new):
    assert normalize_token(old) == normalize_token(new)
    assert len(canonical_tones(old)) == len(old)


@pytest.mark.parametrize("word", ["hoàng", "người", "khuỷu", "ngoài", "giữa", "gì", "quốc", "tuổi",
                                  "mùa", "thuở", "Tỉnh", "Đảng", "COVID", "nghiêng", "quyết"])
def test_unambiguous_syllables_are_left_alone(word):
    assert canonical_tones(word) == word


@pytest.mark.parametrize("text, folded", [
    ("Đảng bộ tỉnh Điện Biên", "Dang bo tinh Dien Bien"),
    ("đ Đ", "d D"),
    ("Tỉnh ủy", "Tinh uy"),
    ("dương đường", "duong duong"),
    ("Hồ Chí Minh", "Ho Chi Minh"),
    ("Ăn ương ơi ư ê ô â", "An uong oi u e o a"),
])
def test_fold_removes_every_mark_and_keeps_length(text, folded):
    assert fold(text) == folded
    assert len(fold(text)) == len(text)


def test_nfd_input_becomes_nfc():
    decomposed = unicodedata.normalize("NFD", "Tỉnh ủy Điện Biên")
    assert decomposed != "Tỉnh ủy Điện Biên"
    assert nfc(decomposed) == "Tỉnh ủy Điện Biên"


@pytest.mark.parametrize("text, expected", [("Tỉnh ủy", True), ("đi", True), ("tinh uy", False), ("UBND", False)])
def test_has_diacritics(text, expected):
    assert has_diacritics(text) is expected


def test_syllables_keep_numbers_and_dates_whole():
    text = "Ngày 29/06/2020, đạt 6,7% và 47.525 suất; Nghị quyết 23-NQ/TU"
    assert [s.text for s in syllables(text)] == [
        "Ngày", "29/06/2020", "đạt", "6,7", "và", "47.525", "suất", "Nghị", "quyết", "23", "NQ", "TU"]


VIETNAMESE = "aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ"
pieces = st.one_of(
    st.text(alphabet=VIETNAMESE + VIETNAMESE.upper(), min_size=1, max_size=8),
    st.sampled_from(["47.525", "6,7%", "29/06/2020", "23-NQ/TU", "TP.HCM", "(7/4)", "–", "…", "“", "\n\n"]),
    st.integers(0, 10**6).map(str),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(pieces, max_size=30), st.sampled_from(["NFC", "NFD"]), st.sampled_from([" ", "  ", ", ", " - "]))
def test_every_syllable_is_its_own_surface_in_the_nfc_text(parts, form, sep):
    raw = unicodedata.normalize(form, sep.join(parts))
    text = nfc(raw)
    for s in syllables(text):
        assert text[s.start:s.end] == s.text
    assert len(canonical_tones(text)) == len(text)
    assert len(fold(text)) == len(text)


@pytest.mark.parametrize("text, shown", [
    ("Hoà Bình", "Hòa Bình"), ("Thanh Hoá", "Thanh Hóa"), ("Khánh Hòa", "Khánh Hòa"), ("Tỉnh uỷ", "Tỉnh ủy"),
    ("HOÀ BÌNH", "HÒA BÌNH"), ("Nguyễn Thị Thuý", "Nguyễn Thị Thúy"), ("quý", "quý"), ("Hoàng", "Hoàng"),
    ("khoẻ", "khỏe"), ("Thừa Thiên Huế", "Thừa Thiên Huế"),
])
def test_names_are_shown_in_one_tone_style(text, shown):
    from search.text import display_tones

    assert display_tones(text) == shown
    assert len(display_tones(text)) == len(text)
