"""Who a text names as Bí thư of a province's Party committee: "Bí thư Tỉnh ủy X Trần Văn A" and the like."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from ..gazetteer import TERM_YEARS, Gazetteer, Province, term_years
from ..text import canonical_tones
from .names import NAME_WORD, name_at
from .places import CITY, UY, name_pattern

__all__ = ["Mention", "find_mentions"]

ROLE_PREFIX_CHARS = 12  # how far before "Bí thư" a "Phó", "Tổng", "nguyên" is read
APPOSITION_MAX_CHARS = 160  # a longer gap between a name and its "Bí thư" is more than titles
NAME_AFTER_CHARS = 60  # how far after the post its holder's name is looked for
CLAUSE_MAX_CHARS = 300  # how far back the clause holding a "Bí thư" may begin
QUOTE_BEFORE_CHARS, QUOTE_AFTER_CHARS = 80, 60  # the text around a mention that its evidence quotes


@dataclass(frozen=True)
class Mention:
    """Someone named as Bí thư of a province's Party committee."""

    name: str
    committee: str  # "tỉnh", "thành" or "" for the headline style "Bí thư Đà Nẵng Trương Quang Nghĩa"
    stated: Province | None  # the province named with the post, if any
    former: bool  # "nguyên Bí thư", "thôi giữ chức Bí thư": not the secretary at the time
    quote: str
    term_end: int | None = None  # a past post: "ông X - Bí thư Tỉnh uỷ nhiệm kỳ 2010-2015" → 2015


_ROLE = re.compile(r"(?<!\w)[Bb]í\s+[Tt]hư(?!\w)")
_NOT_ROLE = re.compile(r"(?i:phó|tổng|ban|quyền)\s*$")
_FORMER_WORD = re.compile(r"(?i:nguyên|cựu)\s*$")
_FORMER_CLAUSE = re.compile(
    r"(?i)(?<!\w)(?:từng|thôi|nguyên là|trước đây|trước đó|khi còn là|lúc là|dưới thời|thời kỳ|những năm|"
    r"khi ấy|khi đó|lúc ấy|lúc đó|thời điểm đó|thời điểm ấy)(?!\w)")
# "tháng 10-1981, Bí thư Thành ủy Võ Văn Kiệt…": a year before online news is history.
_OLD_YEAR = re.compile(r"(?<!\d)(?:19[0-8]\d|199[0-4])(?!\d)")
_APPOINTED = re.compile(
    r"(?i)(?<!\w)(?:bầu|giữ chức|làm|phân công|chỉ định|điều động|nhận|trúng cử|tái cử|đắc cử)(?!\w)")
_TERM_AFTER = re.compile(rf"\s*,?\s*(?i:nhiệm kỳ)\s*{TERM_YEARS}")
_COMMITTEE = re.compile(rf"\s+(?P<c>(?i:tỉnh|thành))\s+(?i:{UY})(?!\s*viên)(?!\w)")
_DIRECT_LEAD = re.compile(r" (?:(?:ông|bà|đồng chí) )?")
_COMMA_LEAD = re.compile(r",\s*(?:(?:ông|bà|đồng chí)\s+)?")
_CLAUSE_END = re.compile(r"[.;:!?\n]")
_SPACES = re.compile(r"\s*")
# "Theo đại biểu X, Bí thư Tỉnh uỷ phải …": X is quoted about the secretary, not the secretary.
_QUOTING = re.compile(r"(?i)(?<!\w)theo(?:\s+[^\W\d_]+){0,2}\s*$")
# Between a name and its "Bí thư …": titles in apposition ("…, Uỷ viên Trung ương Đảng, "),
# or an election ("bầu ông X - Phó Bí thư Tỉnh uỷ - giữ chức Bí thư …", "ông X, tân Bí thư").
_GAP_START = re.compile(r"\s*(?:[,–(-]|(?:được|tiếp tục|vừa|giữ|làm|tân)(?!\w))")
_GAP_END = re.compile(r"(?:[,–(-]\s*(?:tân|đương kim)?|(?:giữ chức(?: vụ)?|làm|tân))\s*$")
# A verb in between: the name is not the one the post belongs to.
_GAP_VERB = re.compile(r"(?i)(?<!\w)(?:cho biết|cho rằng|nói|đề nghị|yêu cầu|trao|công bố|chúc mừng|thay)(?!\w)")
_HONORIFIC = re.compile(r"(?i)(?<!\w)(?:ông|bà|đồng chí)\s+([^\W\d_])")


def _apposition(gap: str) -> bool:
    """True when `gap` only lists the titles of the person just before it."""
    if not gap.strip():
        return True
    if len(gap) > APPOSITION_MAX_CHARS or _GAP_START.match(gap) is None or _GAP_END.search(gap) is None:
        return False
    second_person = any(m.group(1).isupper() for m in _HONORIFIC.finditer(gap))
    return not second_person and _GAP_VERB.search(gap) is None


def _place_at(text: str, pos: int, g: Gazetteer) -> tuple[Province, bool, int] | None:
    """(province, written with TP/thành phố, end) for a province name right at `pos`."""
    m = _bare_place().match(text, pos)
    if m is None or (province := g.province(m["name"])) is None:
        return None
    return province, bool(m["city"]), m.end()


@lru_cache(maxsize=1)
def _bare_place() -> re.Pattern[str]:
    """A province name right where a "Bí thư Tỉnh ủy" ends: "Điện Biên", "TP. HCM", "tỉnh Nghệ An"."""
    names = name_pattern().pattern.split("(?P<name>", 1)[1]
    return re.compile(rf"(?:tỉnh\s+)?(?P<city>{CITY})?(?P<name>{names}")


def _name_after(text: str, pos: int, lead: re.Pattern[str]) -> tuple[str, int] | None:
    """The name that starts right after `lead` at `pos`, if any."""
    if (m := lead.match(text, pos)) is None:
        return None
    words = list(NAME_WORD.finditer(text, m.end(), m.end() + NAME_AFTER_CHARS))
    return name_at(words, 0, text) if words and words[0].start() == m.end() else None


def _clause_start(text: str, pos: int) -> int:
    """Where the clause holding `pos` begins (at most CLAUSE_MAX_CHARS back)."""
    back = max(0, pos - CLAUSE_MAX_CHARS)
    return max((m.end() for m in _CLAUSE_END.finditer(text, back, pos)), default=back)


def _name_before(text: str, role_start: int) -> tuple[str, int] | None:
    """The person a clause names just before its "Bí thư …": "Trần Quốc Cường, Uỷ viên …, Bí thư"."""
    clause = text[_clause_start(text, role_start):role_start]
    words = list(NAME_WORD.finditer(clause))
    best, i = None, 0
    while i < len(words):
        if name := name_at(words, i, clause):
            if _apposition(clause[name[1]:]) and not _QUOTING.search(clause, 0, words[i].start()):
                best = name
            i += len(name[0].split())
        else:
            i += 1
    return best


def _post(text: str, pos: int, day: date | None, g: Gazetteer) -> tuple[str, Province | None, int] | None:
    """What follows "Bí thư" at `pos`: (committee, province named, end) when it is a provincial post."""
    committee, stated = "", None
    if c := _COMMITTEE.match(text, pos):
        committee, pos = c["c"].lower(), c.end()
    if place := _place_at(text, _SPACES.match(text, pos).end(), g):
        province, with_city, end = place
        if with_city and not province.is_city_on(day):
            return None  # "Bí thư Thành ủy TP Thanh Hoá": a city inside a province
        return committee, province, end
    return (committee, stated, pos) if committee else None  # not Bí thư Huyện ủy, Đảng ủy, chi bộ…


def _is_former(text: str, clause: int, role: re.Match[str]) -> bool:
    """"nguyên Bí thư", "từng là Bí thư", "thôi giữ chức", "dưới thời", a year long gone."""
    before = text[max(0, role.start() - ROLE_PREFIX_CHARS):role.start()]
    return bool(_FORMER_WORD.search(before) or _FORMER_CLAUSE.search(text, clause, role.start())
                or _OLD_YEAR.search(text, clause, role.start()))


def find_mentions(text: str, day: date | None, g: Gazetteer) -> list[Mention]:
    """Everyone named as Bí thư Tỉnh ủy / Thành ủy (or "Bí thư <province>") in `text`."""
    found = []
    for role in _ROLE.finditer(text):
        if _NOT_ROLE.search(text, max(0, role.start() - ROLE_PREFIX_CHARS), role.start()):
            continue  # Phó Bí thư, Tổng Bí thư, Ban Bí thư
        if (post := _post(text, role.end(), day, g)) is None:
            continue
        committee, stated, pos = post
        # "Bí thư Tỉnh uỷ X Trần Văn A" first; then "Trần Văn A, …, Bí thư Tỉnh uỷ"; and only
        # then "Bí thư Tỉnh uỷ X, ông Trần Văn A" (after a name, that comma starts the next person).
        name = _name_after(text, pos, _DIRECT_LEAD) or _name_before(text, role.start()) \
            or _name_after(text, pos, _COMMA_LEAD)
        if name is None or g.province(name[0]) is not None:
            continue  # no name, or a place read as one: "… cho Hà Nội, Bí thư Thành uỷ"
        clause = _clause_start(text, role.start())
        # "bầu ông X giữ chức Bí thư … nhiệm kỳ 2010-2015" names the term just begun; without
        # such a verb, the term names a past post ("ông X - Bí thư Tỉnh uỷ nhiệm kỳ 2010-2015").
        term = _TERM_AFTER.match(text, pos)
        past = term is not None and not _APPOINTED.search(text, clause, role.start())
        quote = text[max(0, role.start() - QUOTE_BEFORE_CHARS):role.end() + QUOTE_AFTER_CHARS]
        found.append(Mention(canonical_tones(name[0]), committee, stated, _is_former(text, clause, role),
                             quote.replace("\n", " ").strip(), term_years(term.group())[1] if past else None))
    return found
