"""Common abbreviations of Vietnamese political and administrative news, with their expansions.

Either form finds both: a query for "UBND" also searches the phrase "Ủy ban nhân dân", and
a query containing "ủy ban nhân dân" also searches "UBND".

Sources: the pairs are standard in Vietnamese official and press writing; each abbreviation
was counted in ``../shared/corpora`` (articles containing it, of 34,045 in
party_committee_subset, baomoi_2017 and vietnews_gov, 2026-11-22): UBND 11,563; TP 11,131;
HĐND 2,866; TP.HCM 1,082; THPT 780; ĐH 631; GD-ĐT 510; ĐBQH 485; TPHCM 484; THCS 428; TW 361;
MTTQ 330; NQ 244; BCH 123; BHXH 109; TNCS 103; HTX 98; BHYT 84; NN-PTNT 59; XHCN 53; CHXHCN 51;
CAND 50; GDĐT 38; QĐND 28; KT-XH 22; BTV 17; NTM 16; ANTT 14; CCHC 13; CNXH 4; BCHTW 4; ĐTN 1.
The expansions are the compiler's (unverified against a published list, but unambiguous in
this domain). Abbreviations that fold to common syllables ("TƯ" → "tu") are left out.
"""

from __future__ import annotations

from functools import lru_cache

from .text import fold, normalize_token, syllable_texts

__all__ = ["ABBREVIATIONS", "expansions_of", "abbreviations_in", "phrases"]

ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "UBND": ("Uỷ ban nhân dân",),
    "HĐND": ("Hội đồng nhân dân",),
    "MTTQ": ("Mặt trận Tổ quốc",),
    "ĐBQH": ("Đại biểu Quốc hội",),
    "BCH": ("Ban Chấp hành",),
    "BTV": ("Ban Thường vụ",),
    "TW": ("Trung ương",),
    "BCHTW": ("Ban Chấp hành Trung ương",),
    "TP.HCM": ("Thành phố Hồ Chí Minh",),
    "TPHCM": ("Thành phố Hồ Chí Minh",),
    "TP": ("Thành phố",),
    "CNXH": ("Chủ nghĩa xã hội",),
    "CHXHCN": ("Cộng hoà xã hội chủ nghĩa",),
    "KT-XH": ("Kinh tế - xã hội",),
    "QP-AN": ("Quốc phòng - an ninh",),
    "ANTT": ("An ninh trật tự",),
    "HTX": ("Hợp tác xã",),
    "GD-ĐT": ("Giáo dục và Đào tạo",),
    "GDĐT": ("Giáo dục và Đào tạo",),
    "NN-PTNT": ("Nông nghiệp và Phát triển nông thôn",),
    "NTM": ("Nông thôn mới",),
    "CCHC": ("Cải cách hành chính",),
    "THCS": ("Trung học cơ sở",),
    "THPT": ("Trung học phổ thông",),
    "ĐTN": ("Đoàn Thanh niên",),
    "TNCS": ("Thanh niên Cộng sản",),
    "CAND": ("Công an nhân dân",),
    "QĐND": ("Quân đội nhân dân",),
    "BHXH": ("Bảo hiểm xã hội",),
    "BHYT": ("Bảo hiểm y tế",),
    "ĐH": ("Đại hội",),
    "NQ": ("Nghị quyết",),
    "XHCN": ("Xã hội chủ nghĩa",),
}


def _key(words) -> tuple[str, ...]:
    return tuple(fold(normalize_token(w)) for w in words)


@lru_cache(maxsize=1)
def _tables() -> tuple[dict, dict]:
    by_abbrev: dict[tuple[str, ...], list[list[str]]] = {}
    by_expansion: dict[tuple[str, ...], list[list[str]]] = {}
    for abbrev, expansions in ABBREVIATIONS.items():
        abbrev_syl = syllable_texts(abbrev)
        for expansion in expansions:
            exp_syl = syllable_texts(expansion)
            by_abbrev.setdefault(_key(abbrev_syl), []).append(exp_syl)
            by_expansion.setdefault(_key(exp_syl), []).append(abbrev_syl)
    return by_abbrev, by_expansion


def phrases() -> list[list[str]]:
    """Every form of two or more syllables ("Uỷ ban nhân dân", "TP.HCM"), as syllable lists:
    the phrases the query language searches on its own, whenever one form is typed."""
    by_abbrev, by_expansion = _tables()
    forms = [form for table in (by_abbrev, by_expansion) for others in table.values() for form in others]
    unique = {tuple(normalize_token(w) for w in form): None for form in forms if len(form) > 1}
    return [list(form) for form in unique]


def expansions_of(words: list[str]) -> list[list[str]]:
    """The other forms (as syllable lists) of the abbreviation or expansion `words`, if any."""
    return _others(_key(words))


def _others(key: tuple[str, ...]) -> list[list[str]]:
    by_abbrev, by_expansion = _tables()
    return by_abbrev.get(key, []) + by_expansion.get(key, [])


@lru_cache(maxsize=1)
def _longest() -> int:
    """Syllables of the longest form."""
    return max(map(len, [key for table in _tables() for key in table]))


def abbreviations_in(words: list[str]) -> list[tuple[int, int, list[list[str]]]]:
    """(start, end, other forms) for the runs of `words` that are an abbreviation or
    expansion, read from left to right, the longest run first: runs do not overlap ("Cộng
    hoà xã hội chủ nghĩa" is one, not also "xã hội chủ nghĩa" inside it)."""
    keys = _key(words)  # each word's key made once
    found = []
    start = 0
    while start < len(words):
        for end in range(min(len(words), start + _longest()), start, -1):
            others = _others(keys[start:end])
            if others:
                found.append((start, end, others))
                start = end
                break
        else:
            start += 1
    return found
