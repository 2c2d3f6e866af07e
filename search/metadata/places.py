"""Where a text names provinces, and how: "Tỉnh ủy Sơn La", "UBND tỉnh", "TP HCM", a bare name, a list."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from typing import Iterator

from ..gazetteer import Gazetteer, Province, gazetteer
from ..text import canonical_tones, display_tones, has_diacritics, nfc
from .names import SURNAMES

__all__ = ["Place", "find_places", "name_pattern", "UY", "CITY"]

PERSON_WINDOW = 30  # how far before a bare name to look for a person's or firm's name it ends
BIRTHPLACE_WINDOW = 80  # how far before a name "quê", "sinh" make it someone's home town
UNIT_WINDOW = 45  # how far before a name its unit ("Ban Thường vụ Tỉnh ủy", "UBND tỉnh") is read

# Statements that a text is about a province, by the words in front of its name. The text is
# not rewritten to one tone style (too slow on 50,000 articles): "uỷ"/"ủy" are both spelt out.
UY = r"(?:uỷ|ủy)"
_PARTY = rf"(?:Tỉnh|tỉnh|Thành|thành) {UY}\s+|(?:Đảng|đảng) bộ\s+(?:tỉnh\s+|thành phố\s+)?|(?:Bí|bí) thư\s+"
_ADMIN = (r"(?:UBND|HĐND|(?:Uỷ|Ủy) ban nhân dân|Hội đồng nhân dân|Đoàn đại biểu Quốc hội)\s+(?:tỉnh\s+)?|"
          r"(?:Tỉnh|tỉnh)\s+")
CITY = r"TP\.?\s?|T\.P\.?\s?|(?:Thành|thành) phố\s+"
_UNIT_BEFORE = re.compile(rf"(?<!\w)(?:(?P<party>{_PARTY})|(?P<admin>{_ADMIN}))?(?P<city>{CITY})?$")
# Names that are also a person's or an organisation's name count only after "TP"/"tỉnh"…:
# "Đoàn TNCS Hồ Chí Minh", "tư tưởng Hồ Chí Minh"; "Sài Gòn" names companies and a newspaper.
_NEEDS_UNIT = {"Hồ Chí Minh", "HCM"}
_NEVER = {"Sài Gòn"}
_BIRTHPLACE = re.compile(r"(?i)(?<!\w)(?:quê|sinh|nguyên quán)(?!\w)[^.;!?\n]*$")
_LIST_GLUE = re.compile(r"\s*(?:,|;|/|-|–|—|và|hoặc|với)?\s*")


@dataclass(frozen=True)
class Place:
    """One naming of a province in the text."""

    province: Province
    kind: str  # "party", "admin", "city" (TP + a centrally-run city), "local" (a provincial city),
    # "bare" (the name alone), "listed" (one of several provinces named in a row)
    start: int
    end: int
    quote: str


def _core(spelling: str) -> str | None:
    """The part of a spelling the pattern looks for, or None when it is unsafe to look for."""
    core = re.sub(r"^(?:TP\.?\s|TP\.|Thành phố\s+|Tỉnh\s+)", "", nfc(spelling))
    if core in _NEVER or core.endswith((" Province", " City")):
        return None
    if has_diacritics(core) or re.search(r"[A-Z]{2}", core):
        return core  # "Điện Biên", "TT-Huế", "HCM", "TPHCM", "BR-VT"
    return None


def _styles(name: str) -> set[str]:
    """`name` in both tone styles: "Thanh Hoá" and "Thanh Hóa"."""
    return {name, canonical_tones(name), display_tones(name)}


@lru_cache(maxsize=1)
def name_pattern() -> re.Pattern[str]:
    """Every safe spelling of every province, in both tone styles, longest first."""
    g = gazetteer()
    cores = {c for p in g.provinces for s in p.spellings if (c := _core(s))}
    cores |= {p.short_name for p in g.provinces}  # ASCII short names: "Gia Lai", "Long An"
    names = {variant for c in cores for variant in _styles(c)}
    escaped = (re.escape(n).replace(r"\ ", r"\s+").replace(r"\-", "[-–—]") for n in names)
    return re.compile(rf"(?<!\w)(?P<name>{'|'.join(sorted(escaped, key=len, reverse=True))})"
                      r"(?!\w)(?!\s+(?:Phủ|Dương)\b)")


@lru_cache(maxsize=1)
def _name_scan() -> re.Pattern[str]:
    r"""``name_pattern`` without its leading ``(?<!\w)``: the regex engine then skips ahead to
    the letters a name can begin with, instead of trying every name at every position (4x
    faster on real articles); ``_names`` checks the character before."""
    pattern = name_pattern().pattern
    assert pattern.startswith(r"(?<!\w)")
    return re.compile(pattern[len(r"(?<!\w)"):])


def _names(text: str) -> Iterator[re.Match[str]]:
    """The matches of ``name_pattern().finditer(text)``, the same ones."""
    search, pos = _name_scan().search, 0
    while m := search(text, pos):
        start = m.start()
        if start and (text[start - 1].isalnum() or text[start - 1] == "_"):  # a word's character
            pos = start + 1  # inside a word: as the lookbehind, try again one further on
            continue
        yield m
        pos = m.end()


def _looks_like_person(text: str, start: int) -> bool:
    """True when the words just before `start` read as the start of a person's or firm's name."""
    before = re.search(r"([^\W\d_]+)\s([^\W\d_]+)?\s?$", text[max(0, start - PERSON_WINDOW):start])
    if before is None:
        return False
    last = before.group(2) or before.group(1)
    prev = before.group(1) if before.group(2) else None
    if not last[0].isupper() or last.isupper():
        return False
    return last in SURNAMES or (prev is not None and prev[0].isupper() and not prev.isupper())


def _kind(unit: re.Match[str], name: str, province: Province, day: date | None) -> str | None:
    """How a naming speaks of its province, from the words before it; None: not a naming."""
    city = unit["city"] or name.startswith("TP")  # "TPHCM" glues its "TP"
    if name in _NEEDS_UNIT and not (unit["party"] or unit["admin"] or city):
        return None
    if unit["party"]:
        # "Thành ủy Lạng Sơn" is the committee of a city inside the province.
        city_committee = unit["party"].lower().startswith("thành")
        return "local" if city_committee and not province.is_city_on(day) else "party"
    if unit["admin"]:
        return "admin"
    if city:
        return "city" if province.is_city_on(day) else "local"
    return "bare"


def find_places(text: str, day: date | None, g: Gazetteer) -> list[Place]:
    """Every naming of a province in `text`, classified by the words in front of it."""
    found = []
    for m in _names(text):
        province = g.province(m["name"])
        if province is None or _BIRTHPLACE.search(text, max(0, m.start() - BIRTHPLACE_WINDOW), m.start()):
            continue  # someone's birthplace or home town says nothing of what the text is about
        unit = _UNIT_BEFORE.search(text, max(0, m.start() - UNIT_WINDOW), m.start())
        kind = _kind(unit, m["name"], province, day)
        if kind is None or kind == "bare" and _looks_like_person(text, m.start()):
            continue  # "Trương Hoà Bình", "Quốc Cường Gia Lai"
        found.append(Place(province, kind, unit.start(), m.end(), text[unit.start():m.end()]))
    return _mark_lists(text, found)


def _mark_lists(text: str, places: list[Place]) -> list[Place]:
    """Make provinces named in a row ("Hà Nội, Hải Phòng, tỉnh Lạng Sơn…") count as listed.

    A list says the text is about several provinces, or about none in particular."""
    listed = set()
    for a, b in zip(places, places[1:]):
        if a.province.code != b.province.code and _LIST_GLUE.fullmatch(text, a.end, b.start):
            listed.update((id(a), id(b)))
    return [replace(p, kind="listed") if id(p) in listed else p for p in places]
