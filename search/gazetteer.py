"""Provinces, provincial Party secretaries and outlets, looked up by any spelling.

The tables in ``search/data/`` are derived from the team's reference files by
``tools/derive_data.py`` and keep their source and confidence columns (see
``search/data/SOURCES.md``). Lookups accept any spelling, with or without diacritics,
with or without "Tỉnh"/"Thành phố"/"TP." in front: "dien bien", "Tỉnh Điện Biên",
"Bắc Cạn", "TP.HCM".
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import lru_cache
from importlib import resources

from .text import canonical_tones, display_tones, fold, nfc

__all__ = ["Province", "Unit2025", "SecretaryTerm", "Outlet", "Gazetteer", "gazetteer", "key", "name_key",
           "term_years", "TERM_YEARS"]

# A Party term by its years, "2015-2020" or "2010 – 2015": the groups are its first and last year.
TERM_YEARS = r"((?:19|20)\d{2})\s*[-–]\s*((?:19|20)\d{2})"
_TERM_YEARS = re.compile(TERM_YEARS)


def term_years(text: str) -> tuple[int, int] | None:
    """The first and last year of the term(s) written in `text`, None when it names none.

    "2015-2020" → (2015, 2020); "nhiệm kỳ 2010 – 2015" → (2010, 2015); the secretaries table's
    "2010-2015 / 2015-2020" (two terms) → (2010, 2020)."""
    spans = _TERM_YEARS.findall(text)
    return (int(spans[0][0]), int(spans[-1][1])) if spans else None


@dataclass(frozen=True)
class Province:
    """A province or centrally-run city as it was before 1 July 2025."""

    code: str
    name: str  # official: "Tỉnh Điện Biên"
    short_name: str  # "Điện Biên": the value used in facets
    spellings: tuple[str, ...]
    code_2025: str
    name_2025: str
    is_city: bool  # centrally-run city (today): its Party committee is a "Thành ủy"
    city_since: date | None = None  # when that is recent (Huế: 2025-01-01)

    def is_city_on(self, day: date | None) -> bool:
        """True when the province was a centrally-run city on `day` (unknown day: the older status)."""
        if not self.is_city or self.city_since is None:
            return self.is_city
        return day is not None and day >= self.city_since


@dataclass(frozen=True)
class Unit2025:
    """One of the 34 provincial units from 1 July 2025."""

    code: str
    name: str
    short_name: str
    merged_from: tuple[str, ...]  # codes of the pre-2025 provinces


@dataclass(frozen=True)
class SecretaryTerm:
    """Someone's time as Bí thư Tỉnh ủy / Thành ủy of one province; dates may be unknown."""

    province_code: str
    scope: str  # "province_pre2025" or "province_2025"
    name: str
    term: str
    start: date | None
    end: date | None  # the sourced end, else the compiler's inferred end, else None
    source: str
    confidence: str

    def covers(self, day: date) -> bool:
        """True when `day` falls within this term, as far as its dates are known."""
        first, last = term_years(self.term) or (None, 0)
        if self.start is None and self.end is None:
            return first is not None and first <= day.year <= last
        start = self.start or (date(first, 1, 1) if first else None)
        return (start is None or start <= day) and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class Outlet:
    """A news outlet with the province it covers (empty for national outlets)."""

    province_code: str
    name: str
    domain: str
    datelines: tuple[str, ...]
    confidence: str


_PREFIX = re.compile(r"^(?:tinh|thanh pho|tp\.?|t\.p\.?)\s*(?=\w)")


def key(spelling: str) -> str:
    """Comparison key: folded, lower-case, without a unit prefix or punctuation."""
    text = fold(nfc(spelling)).lower().strip()
    text = _PREFIX.sub("", text)
    return re.sub(r"[^a-z0-9]", "", text)


def name_key(name: str) -> str:
    """Comparison key for a person's name: canonical tones, lower-case, single spaces."""
    return " ".join(canonical_tones(nfc(name)).lower().split())


def _date(raw: str, end: bool = False) -> date | None:
    m = re.match(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", raw or "")
    if not m:
        return None
    year, month, day = int(m[1]), m[2], m[3]
    if month is None:
        return date(year, 12, 31) if end else date(year, 1, 1)
    if day is None:
        first = date(year, int(month), 1)
        if end:  # the month's last day
            return (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        return first
    return date(year, int(month), int(day))


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files("search").joinpath("data").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


class Gazetteer:
    """All reference tables, indexed for lookup by any spelling."""

    def __init__(self) -> None:
        self.provinces: list[Province] = []
        self.units_2025: list[Unit2025] = []
        self.secretaries: list[SecretaryTerm] = []
        self.outlets: list[Outlet] = []
        self._by_key: dict[str, Province] = {}
        self._unit_by_key: dict[str, Unit2025] = {}
        self._by_code: dict[str, Province] = {}
        self._terms_by_name: dict[str, list[SecretaryTerm]] = {}
        self._load()

    def _load(self) -> None:
        for r in _rows("provinces_2025.csv"):
            # Names are shown in one tone style ("Hòa Bình" beside "Thanh Hóa"); any spelling finds them.
            unit = Unit2025(r["code_2025"], display_tones(r["name_2025"]), display_tones(r["short_name"]),
                            tuple(r["merged_from_codes"].split("|")))
            self.units_2025.append(unit)
            for spelling in (unit.name, unit.short_name):
                self._unit_by_key[key(spelling)] = unit
        for r in _rows("provinces.csv"):
            spellings = [r["name"], r["short_name"], r["ascii_name"], *r["aliases"].split("|")]
            province = Province(
                code=r["code"], name=display_tones(r["name"]), short_name=display_tones(r["short_name"]),
                spellings=tuple(dict.fromkeys(s for s in spellings if s)),
                code_2025=r["code_2025"], name_2025=display_tones(r["name_2025"]),
                is_city=r["unit_type"] == "Thành phố Trung ương",
                city_since=_date(r["city_since"]),
            )
            self.provinces.append(province)
            self._by_code[province.code] = province
            for spelling in province.spellings:
                k = key(spelling.removesuffix(" Province").removesuffix(" City"))
                self._by_key.setdefault(k, province)
                self._by_key.setdefault(key(spelling), province)
        for r in _rows("secretaries.csv"):
            self.secretaries.append(SecretaryTerm(
                province_code=r["province_code"], scope=r["scope"], name=display_tones(nfc(r["name"])),
                term=r["term"], start=_date(r["start"]),
                end=_date(r["end"], end=True) or _date(r["end_inferred"], end=True),
                source=r["source"], confidence=r["confidence"],
            ))
        for r in _rows("outlets.csv"):
            datelines = tuple(d.strip() for d in re.split(r"\s*/\s*|\s*;\s*", r["dateline_abbrev"])
                              if d.strip() and "photo" not in d and "'" not in d)
            self.outlets.append(Outlet(r["province_code"], r["outlet_name"], r["domain"].lower(),
                                       datelines, r["confidence"]))
        self.secretaries = [self._with_successor_end(t) for t in self.secretaries]
        for term in self.secretaries:
            self._terms_by_name.setdefault(name_key(term.name), []).append(term)

    def _with_successor_end(self, term: SecretaryTerm) -> SecretaryTerm:
        """Close an open dated term the day before the next person's recorded start."""
        if term.start is None or term.end is not None:
            return term
        later = [t.start for t in self.secretaries
                 if t.province_code == term.province_code and t.scope == term.scope
                 and t.start is not None and t.start > term.start and name_key(t.name) != name_key(term.name)]
        if not later:
            return term
        return replace(term, end=min(later) - timedelta(days=1))

    def province(self, spelling: str) -> Province | None:
        """The pre-2025 province for any spelling of its name, or None."""
        return self._by_key.get(key(spelling))

    def province_by_code(self, code: str) -> Province | None:
        """The pre-2025 province with this GSO code."""
        return self._by_code.get(code)

    def unit_2025(self, spelling: str) -> Unit2025 | None:
        """The post-2025 unit for any spelling of its name, or None."""
        return self._unit_by_key.get(key(spelling))

    def terms_of(self, name: str) -> list[SecretaryTerm]:
        """Every recorded term of the person with this name (any tone style)."""
        return list(self._terms_by_name.get(name_key(name), ()))

    def secretary_on(self, province: Province, day: date) -> list[SecretaryTerm]:
        """Recorded secretaries of `province` on `day`; dated terms win over undated ones."""
        terms = [t for t in self.secretaries
                 if t.scope == "province_pre2025" and t.province_code == province.code and t.covers(day)]
        dated = [t for t in terms if t.start or t.end]
        return dated or terms

    def outlet_for_domain(self, host: str) -> Outlet | None:
        """The outlet whose domain is `host` or a parent domain of it."""
        host = host.lower().removeprefix("www.")
        for outlet in self.outlets:
            if outlet.domain and (host == outlet.domain or host.endswith("." + outlet.domain)):
                return outlet
        return None


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """The shared, lazily loaded gazetteer."""
    return Gazetteer()
