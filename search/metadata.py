"""Facts about an article found from its own text: title, date, province, secretary, outlet.

Every field carries the evidence it came from, and a field without good evidence stays
``None``: a wrong province is worse than an honest "unknown". Province evidence is weighed:
a dateline ("ĐBP -"), an outlet's domain, statements such as "tỉnh Điện Biên" or "Tỉnh ủy
Sơn La", the title, and the person named as Bí thư Tỉnh ủy checked against the secretaries
table count for much; passing mentions count for little. An article that speaks about many
provinces at once (a national round-up) gets no province at all.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from functools import lru_cache
from urllib.parse import urlsplit

from .gazetteer import Gazetteer, Province, SecretaryTerm, gazetteer, name_key
from .text import canonical_tones, has_diacritics, nfc

__all__ = ["Evidence", "Metadata", "extract", "is_boilerplate"]

# Bump when extraction changes what it finds: the next incremental reindex re-reads everything.
EXTRACTOR_VERSION = "2"


@dataclass
class Evidence:
    """One field's value with the reasons it was chosen."""

    value: object
    evidence: list[str] = field(default_factory=list)


@dataclass
class Metadata:
    """What :func:`extract` found; ``None`` where the text does not tell."""

    title: Evidence
    date: Evidence  # value: datetime.date
    province: Evidence  # value: short name, "Điện Biên"
    province_2025: Evidence
    secretary: Evidence
    outlet: Evidence
    url: Evidence
    conference: Evidence  # value: int, the "Hội nghị lần thứ N"
    term: Evidence  # value: Roman numeral, "XIV" from "khóa XIV"
    author: Evidence

    def values(self) -> dict[str, object]:
        """Field name → value (dates as ISO strings)."""
        out = {}
        for name, ev in asdict(self).items():
            value = ev["value"]
            out[name] = value.isoformat() if isinstance(value, date) else value
        return out

    def as_json(self) -> dict[str, dict[str, object]]:
        """Field name → {"value", "evidence"}, JSON-ready."""
        values = self.values()
        return {name: {"value": values[name], "evidence": getattr(self, name).evidence}
                for name in values}


# --- title ------------------------------------------------------------------------------

_BOILERPLATE = re.compile(
    # toolbars and counters anywhere in a short line
    r"PublishingPortal|Block_\w+|Tăng cỡ chữ|Giảm cỡ chữ|lượt xem|In bài viết|GMT\+7|"
    # a line that opens with a weekday, a bare date or a clock time
    r"^\s*(?:Thứ\s+(?:[2-7]|hai|ba|tư|năm|sáu|bảy)(?!\w)|Chủ nhật|Ngày\s+\d|\d{1,2}:\d{2}|"
    r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4})|"
    # a line that is only a menu item, a number or punctuation
    r"^\s*(?:Trang chủ|Đăng nhập|Chia sẻ|Bình luận|Tin khác|Tin liên quan|Back To Top|Xem lịch phát sóng|"
    r"Tìm kiếm theo ngày|[•·]?\s*Từ khóa|[\d.,]+|\W*)\s*$",
    re.IGNORECASE,
)


def is_boilerplate(line: str) -> bool:
    """True for a short line of page furniture (toolbars, view counts, bare dates)."""
    return len(line) < 80 and _BOILERPLATE.search(line) is not None


def _title(lines: list[str]) -> Evidence:
    """The first line of the page that is not furniture."""
    for i, line in enumerate(lines[:12]):
        text = line.strip()
        if 10 <= len(text) <= 300 and not is_boilerplate(text) and not text.endswith(":"):
            return Evidence(text, [f"line {i + 1}: first line that is not page boilerplate"])
    return Evidence(None)


# --- dates ------------------------------------------------------------------------------

_YEAR = r"((?:19|20)\d{2})"
_FULL_DATES = [  # (pattern, index of the day, month and year groups)
    (re.compile(rf"(?<![\d/.-])(\d{{1,2}})([/.-])(\d{{1,2}})\2{_YEAR}(?!\d)"), (1, 3, 4)),
    (re.compile(rf"ngày\s+(\d{{1,2}})\s+tháng\s+(\d{{1,2}})\s+năm\s+{_YEAR}", re.IGNORECASE), (1, 2, 3)),
    (re.compile(rf"(?<![\d/.-]){_YEAR}-(\d{{2}})-(\d{{2}})(?!\d)"), (3, 2, 1)),
]
# The lead's own day: "Sáng 8/4", "Chiều nay (7/4)", "Ngày 18-6", "Ngày 16/11/2018".
_TIME_WORD = r"(?<!\w)(?:sáng|chiều|tối|trưa|đêm|ngày|hôm nay|hôm qua|nay)\s*(?:nay\s*)?(?:ngày\s*)?\(?\s*"
_LEAD_DAY = re.compile(_TIME_WORD + r"(\d{1,2})\s*([/-])\s*(\d{1,2})(?!\d)(?:\s*\2\s*((?:19|20)\d{2}))?",
                       re.IGNORECASE)
_URL_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?:[/_-]?(?:0[1-9]|1[0-2]))?[/_-]")
_FIRST_YEAR, _LAST_YEAR = 1990, 2035  # no online news about Party committees before; typos after
_HEADER_LINES = 8
_LEAD_CHARS = 400


def _valid(y: int, m: int, d: int) -> date | None:
    """The date, if it exists and is a plausible publication year."""
    try:
        return date(y, m, d) if _FIRST_YEAR <= y <= _LAST_YEAR else None
    except ValueError:
        return None


def _full_dates(text: str) -> list[tuple[int, date, str]]:
    """(offset, date, quote) of every complete date in `text`, in order; birthdays left out."""
    found = []
    for rx, (d, m, y) in _FULL_DATES:
        for match in rx.finditer(text):
            if "sinh" in text[max(0, match.start() - 12):match.start()].lower():
                continue
            if day := _valid(int(match[y]), int(match[m]), int(match[d])):
                found.append((match.start(), day, match.group()))
    return sorted(found, key=lambda f: f[0])


def _is_dateline(line: str) -> bool:
    """A short line of date, weekday, time and counters, not a sentence that cites a date."""
    if len(line) > 80:
        return False
    return sum(w[0].islower() for w in re.findall(r"[^\W\d_]+", line)) <= 4


def _context_year(header: list[str], hint: str | None, url: str | None) -> tuple[int, str] | None:
    """The year a bare day/month belongs to, from the page around the text, never its body.

    National stories name many years in their first lines (a law of 2003, a plan to 2030,
    the year a tree was planted): a year picked from the body is wrong too often."""
    if hint and (m := re.search(_YEAR, hint)):
        return int(m[1]), f"given date '{hint}'"
    for line in header:
        if _is_dateline(line) and (m := re.search(rf"(?<!\d){_YEAR}(?!\d)", line)):
            return int(m[1]), f"header line '{line[:60]}'"
    if url and (m := _URL_YEAR.search(urlsplit(url if "//" in url else "//" + url).path)):
        return int(m[1]), f"URL '{url}'"
    return None


def _date(text: str, lines: list[str], title: str | None, hint: str | None, url: str | None) -> Evidence:
    """The given date, else a header line's date, else the lead's own day with a sure year."""
    if hint and (found := _full_dates(hint)):
        return Evidence(found[0][1], [f"given date '{hint}'"])
    header = [l.strip() for l in lines[:_HEADER_LINES] if l.strip() and l.strip() != title]
    for line in header:
        if _is_dateline(line) and (found := _full_dates(line)):
            return Evidence(found[0][1], [f"header line '{line[:60]}'"])
    body = text[len(title):] if title and text.startswith(title) else text
    m = _LEAD_DAY.search(body, 0, _LEAD_CHARS)
    if m is None:
        return Evidence(None)
    # A complete date opening a sentence is the story's; inside one it cites an earlier
    # decision ("Quyết định … ngày 17-5-2013"), so only its day/month shape is kept.
    opens = body[:m.start()].rstrip()[-1:] in ("", ".", "!", "?", "-", "–", ")", ":")
    if m[4] and opens and (day := _valid(int(m[4]), int(m[3]), int(m[1]))):
        return Evidence(day, [f"lead '{m.group().strip()}'"])
    if m[4]:
        return Evidence(None, [f"lead cites '{m.group().strip()}' inside a sentence"])
    year = _context_year(header, hint, url)
    if year and (day := _valid(year[0], int(m[3]), int(m[1]))):
        return Evidence(day, [f"lead '{m.group().strip()}'", f"year {year[0]} from the {year[1]}"])
    return Evidence(None, [f"lead '{m.group().strip()}' but no year around it"])


# --- people's names ---------------------------------------------------------------------

_SURNAMES = set("""Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Lò Mùa Lầu Giàng
Hầu Vừ Sùng Thào Lường Quàng Cầm Triệu Đinh Lâm Mai Trương Đào Đoàn Hà Lương Tạ Chu Cao Thái
Vương Châu Tô Lại Lưu Nông Ma Bế Hứa Tòng Điêu Khổng Kiều Quách Văn Tăng Từ Lữ Mạc Nghiêm
Thạch Danh Sơn Kim Lục Y Giáp Khuất Trịnh Âu Đàm Phùng Doãn Ngọ Ninh Bạch Bàn Chẩu Lù
Viên Thân Mã Diệp Quan Lã Đồng Hán Phương Tôn Lăng Tống Cù Chế Đậu Ksor Rơ Siu Rah
Huỳnh Lò Vi Hoàng Quản Ung Uông Thiều Yên La Lò""".split())
# Words that end a name: a title or the next clause, never a given name in practice.
_NOT_IN_NAME = set("""Chủ Phó Uỷ Ủy Bí Giám Tổng Bộ Ban Tỉnh Huyện Ảnh Sáng Chiều Tối Ngày Theo Tại
Và Cùng Các Trong Hội Phát Kết Thủ Trưởng Đại Thường Nguyên Tân Ông Bà UBND HĐND""".split())
_NAME_WORD = re.compile(r"[^\W\d_]+")
# Capitalised words that may stand right before a name: honorifics and titles.
_BEFORE_NAME = set("""Ông Bà Anh Chị Đồng Chí Đại Biểu Bí Thư Tỉnh Thành Uỷ Ủy Tân Nguyên Cựu Đ/c Tướng Tá
Giám Đốc Chủ Tịch Trưởng Phó Sáng Chiều Tối Ngày Theo Tại Khi Và Cùng Với Của Các TS ThS GS PGS KS""".split())


def _name_at(words: list[re.Match[str]], i: int, text: str) -> tuple[str, int] | None:
    """A person's name of 2 to 4 capitalised words starting at words[i], and where it ends."""
    if i >= len(words) or words[i].group() not in _SURNAMES:
        return None
    if i > 0 and text[words[i - 1].end():words[i].start()] == " " and words[i - 1].group()[0].isupper() \
            and words[i - 1].group() not in _BEFORE_NAME:
        return None  # the tail of a longer name: "Êban Y Phu", "Phi La Văn"
    j = i + 1
    while j < len(words) and j - i < 4:
        word = words[j].group()
        if not word[0].isupper() or word.isupper() and len(word) > 1 or word in _NOT_IN_NAME:
            break
        if text[words[j - 1].end():words[j].start()] != " ":
            break
        j += 1
    if j - i < 2:
        return None
    return " ".join(w.group() for w in words[i:j]), words[j - 1].end()


# --- where provinces are named ----------------------------------------------------------

# Statements that a text is about a province, by the words in front of its name. The text is
# not rewritten to one tone style (too slow on 50,000 articles): "uỷ"/"ủy" are both spelt out.
_UY = r"(?:uỷ|ủy)"
_PARTY = rf"(?:Tỉnh|tỉnh|Thành|thành) {_UY}\s+|(?:Đảng|đảng) bộ\s+(?:tỉnh\s+|thành phố\s+)?|(?:Bí|bí) thư\s+"
_ADMIN = (r"(?:UBND|HĐND|(?:Uỷ|Ủy) ban nhân dân|Hội đồng nhân dân|Đoàn đại biểu Quốc hội)\s+(?:tỉnh\s+)?|"
          r"(?:Tỉnh|tỉnh)\s+")
_CITY = r"TP\.?\s?|T\.P\.?\s?|(?:Thành|thành) phố\s+"
_UNIT_BEFORE = re.compile(rf"(?<!\w)(?:(?P<party>{_PARTY})|(?P<admin>{_ADMIN}))?(?P<city>{_CITY})?$")
# Names that are also a person's or an organisation's name count only after "TP"/"tỉnh"…:
# "Đoàn TNCS Hồ Chí Minh", "tư tưởng Hồ Chí Minh"; "Sài Gòn" names companies and a newspaper.
_NEEDS_UNIT = {"Hồ Chí Minh", "HCM"}
_NEVER = {"Sài Gòn"}
_OLD_STYLE = {"oà": "òa", "oá": "óa", "oả": "ỏa", "oã": "õa", "oạ": "ọa", "oè": "òe", "oé": "óe",
              "oẻ": "ỏe", "oẽ": "õe", "oẹ": "ọe", "uỳ": "ùy", "uý": "úy", "uỷ": "ủy", "uỹ": "ũy", "uỵ": "ụy"}


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
    canonical = canonical_tones(name)
    old = re.sub(r"(?:o[àáảãạèéẻẽẹ]|u[ỳýỷỹỵ])(?![^\W\d_])", lambda m: _OLD_STYLE[m.group()], canonical)
    return {name, canonical, old}


@lru_cache(maxsize=1)
def _name_pattern() -> re.Pattern[str]:
    """Every safe spelling of every province, in both tone styles, longest first."""
    g = gazetteer()
    cores = {c for p in g.provinces for s in p.spellings if (c := _core(s))}
    cores |= {p.short_name for p in g.provinces}  # ASCII short names: "Gia Lai", "Long An"
    names = {variant for c in cores for variant in _styles(c)}
    escaped = (re.escape(n).replace(r"\ ", r"\s+").replace(r"\-", "[-–—]") for n in names)
    return re.compile(rf"(?<!\w)(?P<name>{'|'.join(sorted(escaped, key=len, reverse=True))})"
                      r"(?!\w)(?!\s+(?:Phủ|Dương)\b)")


def _looks_like_person(text: str, start: int) -> bool:
    """True when the words just before `start` read as the start of a person's or firm's name."""
    before = re.search(r"([^\W\d_]+)\s([^\W\d_]+)?\s?$", text[max(0, start - 30):start])
    if before is None:
        return False
    last = before.group(2) or before.group(1)
    prev = before.group(1) if before.group(2) else None
    if not last[0].isupper() or last.isupper():
        return False
    return last in _SURNAMES or (prev is not None and prev[0].isupper() and not prev.isupper())


_BIRTHPLACE = re.compile(r"(?i)(?<!\w)(?:quê|sinh|nguyên quán)(?!\w)[^.;!?\n]*$")


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


def _places(text: str, day: date | None, g: Gazetteer) -> list[Place]:
    """Every naming of a province in `text`, classified by the words in front of it."""
    found = []
    for m in _name_pattern().finditer(text):
        province = g.province(m["name"])
        if province is None or _BIRTHPLACE.search(text, max(0, m.start() - 80), m.start()):
            continue  # someone's birthplace or home town says nothing of what the text is about
        unit = _UNIT_BEFORE.search(text, max(0, m.start() - 45), m.start())
        kind = _kind(unit, m["name"], province, day)
        if kind is None or kind == "bare" and _looks_like_person(text, m.start()):
            continue  # "Trương Hoà Bình", "Quốc Cường Gia Lai"
        found.append(Place(province, kind, unit.start(), m.end(), text[unit.start():m.end()]))
    return _mark_lists(text, found)


_LIST_GLUE = re.compile(r"\s*(?:,|;|/|-|–|—|và|hoặc|với)?\s*")


def _mark_lists(text: str, places: list[Place]) -> list[Place]:
    """Make provinces named in a row ("Hà Nội, Hải Phòng, tỉnh Lạng Sơn…") count as listed.

    A list says the text is about several provinces, or about none in particular."""
    listed = set()
    for a, b in zip(places, places[1:]):
        if a.province.code != b.province.code and _LIST_GLUE.fullmatch(text, a.end, b.start):
            listed.update((id(a), id(b)))
    return [replace(p, kind="listed") if id(p) in listed else p for p in places]


# --- who is named Bí thư ----------------------------------------------------------------

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
_APPOINTED = re.compile(r"(?i)(?<!\w)(?:bầu|giữ chức|làm|phân công|chỉ định|điều động|nhận|trúng cử|tái cử|đắc cử)(?!\w)")
_TERM_AFTER = re.compile(r"\s*,?\s*(?i:nhiệm kỳ)\s*(?:19|20)\d{2}\s*[-–]\s*((?:19|20)\d{2})")
_COMMITTEE = re.compile(rf"\s+(?P<c>(?i:tỉnh|thành))\s+(?i:{_UY})(?!\s*viên)(?!\w)")
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
    if len(gap) > 160 or _GAP_START.match(gap) is None or _GAP_END.search(gap) is None:
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
    names = _name_pattern().pattern.split("(?P<name>", 1)[1]
    return re.compile(rf"(?:tỉnh\s+)?(?P<city>{_CITY})?(?P<name>{names}")


def _name_after(text: str, pos: int, lead: re.Pattern[str]) -> tuple[str, int] | None:
    """The name that starts right after `lead` at `pos`, if any."""
    if (m := lead.match(text, pos)) is None:
        return None
    words = list(_NAME_WORD.finditer(text, m.end(), m.end() + 60))
    return _name_at(words, 0, text) if words and words[0].start() == m.end() else None


def _clause_start(text: str, pos: int) -> int:
    """Where the clause holding `pos` begins (at most 300 characters back)."""
    return max((m.end() for m in _CLAUSE_END.finditer(text, max(0, pos - 300), pos)), default=max(0, pos - 300))


def _name_before(text: str, role_start: int) -> tuple[str, int] | None:
    """The person a clause names just before its "Bí thư …": "Trần Quốc Cường, Uỷ viên …, Bí thư"."""
    clause = text[_clause_start(text, role_start):role_start]
    words = list(_NAME_WORD.finditer(clause))
    best, i = None, 0
    while i < len(words):
        if name := _name_at(words, i, clause):
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
    before = text[max(0, role.start() - 12):role.start()]
    return bool(_FORMER_WORD.search(before) or _FORMER_CLAUSE.search(text, clause, role.start())
                or _OLD_YEAR.search(text, clause, role.start()))


def _mentions(text: str, day: date | None, g: Gazetteer) -> list[Mention]:
    """Everyone named as Bí thư Tỉnh ủy / Thành ủy (or "Bí thư <province>") in `text`."""
    found = []
    for role in _ROLE.finditer(text):
        if _NOT_ROLE.search(text, max(0, role.start() - 12), role.start()):
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
        quote = text[max(0, role.start() - 80):role.end() + 60].replace("\n", " ").strip()
        found.append(Mention(canonical_tones(name[0]), committee, stated, _is_former(text, clause, role), quote,
                             int(term[1]) if past else None))
    return found


# --- the province -----------------------------------------------------------------------

_WEIGHT = {"party": 2.0, "admin": 2.0, "city": 2.0, "local": 1.0, "bare": 0.5, "listed": 0.5}
_CAP = {"party": 3, "admin": 3, "city": 3, "local": 2, "bare": 3, "listed": 2}  # how many of each count
_STRONG = 5.0  # dateline, outlet domain
_SECRETARY = 5.0  # someone named Bí thư who, per the table, led exactly one province
_TITLE = 3.0
_LEAD = 1.0  # named in the first sentences of the body
_LEAD_SPAN = 300
_ENOUGH = 5.0  # below this, the text does not say where it is from (two statements deep in it, say)
# A story that opens with national actors (the Prime Minister, a ministry, the National
# Assembly) names provinces in passing: the venue, a court, a company's seat. Unless it
# names the province's Party committee, it needs more evidence.
_ENOUGH_NATIONAL = 7.0
# A province that neither the title, the lead, an outlet nor a known secretary names is, more
# often than not, a venue or a comparison: the body must dwell on it, and in a national story
# it is a side topic whatever the body says.
_ENOUGH_UNANCHORED = 10.0
_NATIONAL = re.compile(  # the actors, not titles in apposition ("Uỷ viên Bộ Chính trị, Bí thư…")
    r"Thủ tướng|Chính phủ|(?<![Bb]iểu )Quốc hội|(?<!viên )Bộ Chính trị|(?<!viên )Ban Bí thư|Tổng Bí thư|"
    r"Chủ tịch nước|(?<!\w)Bộ (?!Chỉ huy)(?:trưởng|[A-ZĐ])|Thứ trưởng|Tổng cục|[Tt]ối cao|APEC|toàn quốc|cả nước")


@dataclass
class _Scores:
    """Evidence per province (by code): a score and the reasons, as they are found."""

    score: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    why: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    outlet: str | None = None
    party: set[str] = field(default_factory=set)  # provinces whose Party committee or outlet is named
    anchored: set[str] = field(default_factory=set)  # named by the title, the lead, an outlet, a secretary

    def add(self, province: Province | None, weight: float, reason: str, anchor: bool = False) -> None:
        """Count `reason` once for `province`; an anchor is evidence of where the story is told."""
        if province is not None and reason not in self.why[province.code]:
            self.score[province.code] += weight
            self.why[province.code].append(reason)
            if anchor:
                self.anchored.add(province.code)


@lru_cache(maxsize=1)
def _dateline_pattern() -> tuple[re.Pattern[str], dict[str, object]]:
    """A pattern for every outlet's dateline ("ĐBP -", "BBK -"), and the outlet of each."""
    outlets = {d: o for o in gazetteer().outlets for d in o.datelines}
    alternation = "|".join(re.escape(d) for d in sorted(outlets, key=len, reverse=True))
    return re.compile(rf"^\s*(?:{alternation})"), outlets


def _outlet_evidence(text: str, url: str | None, source: str | None, s: _Scores, g: Gazetteer) -> None:
    """Datelines opening a paragraph and outlet domains in the URL, source or the page's edges."""
    pattern, outlets = _dateline_pattern()
    for para in text.split("\n")[:40]:
        if m := pattern.match(para.replace("–", "-")):
            o = outlets[m.group().strip()]
            s.outlet = s.outlet or o.name
            if o.province_code:
                s.add(g.province_by_code(o.province_code), _STRONG, f"dateline '{m.group().strip()}' of {o.name}", True)
                s.party.add(o.province_code)
    edges = text[:300] + " " + text[-600:]
    hosts = re.findall(r"(?i)(?<![\w.-])((?:[a-z0-9-]+\.)+(?:vn|com|net|org|info))(?![\w-])", edges)
    if url:
        hosts.insert(0, urlsplit(url if "//" in url else "//" + url).hostname or "")
    if source:
        hosts.append(source.split()[0] if source.split() else "")
    for host in dict.fromkeys(h.lower() for h in hosts if h):
        if o := g.outlet_for_domain(host):
            s.outlet = s.outlet or o.name
            if o.province_code:
                s.add(g.province_by_code(o.province_code), _STRONG, f"outlet domain '{host}' ({o.name})", True)
                s.party.add(o.province_code)


def _place_evidence(places: list[Place], title_places: list[Place], lead: range, s: _Scores) -> None:
    """Weigh the namings of provinces: statements much, bare names little, lists less."""
    grouped: dict[tuple[str, str], list[Place]] = defaultdict(list)
    for p in places:
        grouped[(p.province.code, p.kind)].append(p)
    for (code, kind), group in grouped.items():
        n = min(len(group), _CAP[kind])
        if kind == "party":
            s.party.add(code)
        label = "mention" if kind == "bare" else kind
        s.add(group[0].province, _WEIGHT[kind] * n, f"{label} '{group[0].quote}'" + (f" ×{n}" if n > 1 else ""))
    for p in title_places:
        if p.kind not in ("local", "listed"):
            s.add(p.province, _TITLE, f"title names '{p.quote}'", True)
    # News names its place in the opening sentence; a round-up names provinces further down.
    for p in places:
        if p.start in lead and p.kind != "listed":
            s.add(p.province, _LEAD, f"the lead names '{p.quote}'", True)


def _secretary_evidence(mentions: list[Mention], day: date | None, title: str, s: _Scores,
                        g: Gazetteer) -> None:
    """Someone named Bí thư whom the table knows as one province's secretary (then) points to it;
    so does a title about someone the text names Bí thư of a province ("Bí thư Nhân thăm …")."""
    title_key = name_key(title)
    for m in mentions:
        if m.former:
            continue
        if m.stated is not None and name_key(m.name) in title_key:
            s.add(m.stated, _TITLE, f"title names {m.name}, Bí thư of {m.stated.short_name}", True)
        terms = [t for t in g.terms_of(m.name) if t.scope == "province_pre2025" and (day is None or t.covers(day))]
        codes = {t.province_code for t in terms}
        if len(codes) == 1 and (m.stated is None or m.stated.code in codes):
            when = f"on {day.isoformat()}" if day else "per the secretaries table"
            code = codes.pop()
            s.add(g.province_by_code(code), _SECRETARY, f"{m.name}, named Bí thư, led it {when}", True)
            s.party.add(code)


def _choose_province(s: _Scores, national: str | None, g: Gazetteer) -> Evidence:
    """The province with clearly the most evidence, or None with the reason."""
    if not s.score:
        return Evidence(None)
    ranked = sorted(s.score.items(), key=lambda kv: kv[1], reverse=True)
    code, best = ranked[0]
    second = ranked[1][1] if len(ranked) > 1 else 0.0
    others = sum(v for _, v in ranked[1:] if v >= _WEIGHT["party"])
    shown = {g.province_by_code(c).short_name: v for c, v in ranked[:4]}
    if best < _ENOUGH:
        return Evidence(None, [f"evidence too weak: {shown}"])
    if national and best < _ENOUGH_NATIONAL and code not in s.party:
        return Evidence(None, [f"a national story ('{national}') with weak evidence for one province: {shown}"])
    if code not in s.anchored and (national or best < _ENOUGH_UNANCHORED):
        return Evidence(None, [f"named only further down the text, not in its title or lead: {shown}"])
    if best < 2 * second:
        return Evidence(None, [f"evidence split between provinces: {shown}"])
    if best < others:
        return Evidence(None, [f"the text speaks of many provinces: {shown}"])
    runner_up = f", next {next(iter(list(shown)[1:]), 'none')} {second:g}" if len(ranked) > 1 else ""
    return Evidence(g.province_by_code(code).short_name, s.why[code][:6] + [f"score {best:g}{runner_up}"])


# --- the secretary ----------------------------------------------------------------------

def _past_term(m: Mention, province: Province, day: date | None, g: Gazetteer) -> bool:
    """True when the post is named with a term that is over ("Bí thư … nhiệm kỳ 2010-2015"):
    before the article's year, or (undated) no later than the table's first record for the province."""
    if m.term_end is None:
        return False
    if day is not None:
        return m.term_end < day.year
    starts = [_term_start_year(t) for t in g.secretaries
              if t.province_code == province.code and t.scope == "province_pre2025"]
    return bool(starts) and m.term_end <= min(starts)


def _term_start_year(term: SecretaryTerm) -> int:
    years = re.findall(r"\d{4}", term.term)
    return term.start.year if term.start else int(years[0]) if years else _LAST_YEAR


def _fits(m: Mention, province: Province, day: date | None) -> bool:
    """True when `m` may name the secretary of `province` (not a city's, another's, a former one)."""
    if m.former or (m.stated is not None and m.stated.code != province.code):
        return False
    # "Thành ủy" of a provincial city is a district-level post.
    return not m.committee or (m.committee == "thành") == province.is_city_on(day)


def _choose_secretary(province: Province | None, day: date | None, mentions: list[Mention],
                      s: _Scores, national: bool, g: Gazetteer) -> Evidence:
    """The person named Bí thư of `province`, confirmed by the table or else named unambiguously."""
    if province is None:
        return Evidence(None)
    in_office = g.secretary_on(province, day) if day else \
        [t for t in g.secretaries if t.province_code == province.code and t.scope == "province_pre2025"]
    by_key = {name_key(t.name): t for t in in_office}
    # "Bí thư Thành ủy X" without a province is this province's only when no other province
    # is in view, and, in a national story, when the province itself is the clear subject.
    alone = sum(v >= _WEIGHT["party"] for v in s.score.values()) == 1
    clear = alone and (not national or province.code in s.party or s.score[province.code] >= _ENOUGH_NATIONAL)
    untabled: dict[str, Mention] = {}
    for m in mentions:
        if not _fits(m, province, day):
            continue
        if term := by_key.get(name_key(m.name)):
            return Evidence(term.name, [f"named Bí thư: '{m.quote}'",
                                        f"secretary of {province.short_name} per {term.source}"])
        if g.terms_of(m.name):
            continue  # the table knows this person, but not as this province's secretary then
        if m.stated is not None or clear:
            # A past term stays in the count: with it, the text names more than one secretary.
            untabled.setdefault(name_key(m.name), m)
    # A dated table entry in office that day outweighs an unknown name; an undated one
    # ("2015-2020", no start) only says the person held the post at some time in the term.
    known_then = day is not None and any(t.start is not None for t in in_office)
    if len(untabled) == 1 and not known_then:
        m = next(iter(untabled.values()))
        if _past_term(m, province, day, g):
            return Evidence(None, [f"{m.name} is named Bí thư for a term that is over: '{m.quote}'"])
        return Evidence(nfc(m.name), [f"named Bí thư: '{m.quote}'", "not in the secretaries table"])
    if len(untabled) > 1:
        return Evidence(None, [f"several people named Bí thư: {', '.join(m.name for m in untabled.values())}"])
    return Evidence(None)


# --- smaller fields ---------------------------------------------------------------------

_UNITS = {"một": 1, "mốt": 1, "nhất": 1, "hai": 2, "ba": 3, "tư": 4, "bốn": 4, "năm": 5, "lăm": 5,
          "sáu": 6, "bảy": 7, "tám": 8, "chín": 9}
_ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50}


def _roman(text: str) -> int | None:
    """"XIV" → 14; None for anything else."""
    if not text or any(c not in _ROMAN for c in text):
        return None
    total = 0
    for a, b in zip(text, text[1:] + " "):
        total += -_ROMAN[a] if b in _ROMAN and _ROMAN[b] > _ROMAN[a] else _ROMAN[a]
    return total


def _vietnamese_number(words: str) -> int | None:
    """"mười" → 10, "mười lăm" → 15, "hai mươi mốt" → 21, "tư" → 4."""
    parts = words.lower().split()
    if not parts:
        return None
    if parts[0] == "mười":
        return 10 + (_UNITS.get(parts[1], 0) if len(parts) > 1 else 0)
    if len(parts) > 1 and parts[1] == "mươi" and parts[0] in _UNITS:
        return 10 * _UNITS[parts[0]] + (_UNITS.get(parts[2], 0) if len(parts) > 2 else 0)
    return _UNITS.get(parts[0])


_CONFERENCE = re.compile(
    r"(?i:hội nghị)(?P<between>[^.\n]{0,80}?)(?i:lần)\s+(?i:thứ)\s+"
    r"(?P<n>\d+|[IVXL]+\b|(?i:(?:mười|hai mươi|ba mươi)(?:\s+(?:một|mốt|hai|ba|tư|bốn|năm|lăm|sáu|bảy|tám|chín))?|"
    r"nhất|hai|ba|tư|bốn|năm|sáu|bảy|tám|chín)(?!\w))(?P<after>[^.\n]{0,40})"
)


def _conference(text: str) -> Evidence:
    """The number of the provincial committee's conference ("Hội nghị … lần thứ Mười" → 10)."""
    for m in _CONFERENCE.finditer(text):
        if "trung ương" in (m["between"] + m["after"][:30]).lower():
            continue  # a Central Committee plenum, not the province's
        raw = m["n"]
        number = int(raw) if raw.isdigit() else _roman(raw) or _vietnamese_number(raw)
        if number:
            return Evidence(number, [f"'{m.group().strip()}'"])
    return Evidence(None)


_TERM = re.compile(
    rf"(?:(?i:đảng bộ)(?:\s+(?i:tỉnh|thành phố))?|(?i:tỉnh|thành)\s+(?i:{_UY}))[^.;\n]{{0,30}}?"
    r"(?i:khoá|khóa)\s+(?P<n>[IVXL]+)(?!\w)|(?i:lần thứ)\s+\w+\s*[(,]\s*(?i:khoá|khóa)\s+(?P<n2>[IVXL]+)(?!\w)"
)


def _term(text: str) -> Evidence:
    """The term of the province's Party committee ("Ban Chấp hành Đảng bộ tỉnh khóa XIV")."""
    for m in _TERM.finditer(text):
        before = m.group()
        if "quốc hội" in before.lower() or "trung ương" in before.lower():
            continue
        return Evidence(m["n"] or m["n2"], [f"'{m.group().strip()}'"])
    return Evidence(None)


_BYLINE_PREFIX = re.compile(r"^(?:(?:Tin|Bài)(?:,| và)?\s*(?:ảnh)?|Ảnh|Tác giả|Nhóm PV)\s*:\s*", re.IGNORECASE)
_BYLINE = re.compile(r"[^\W\d_]+(?: [^\W\d_]+){1,4}(?:\s*[-,–]\s*[^\W\d_]+(?: [^\W\d_]+){1,4})*")
# Closing lines that look like a byline but are not one: a newspaper credited, a caption.
_NOT_BYLINE = re.compile(r"(?i)^(?:ông|bà|anh|chị|Tuổi Trẻ|Thanh Niên|Người Lao Động|Lao Động|Tiền Phong|"
                         r"Dân Trí|Nhân Dân|Pháp Luật|Công An Nhân Dân|Vietnamnet|VnExpress|TTXVN)(?!\w)")


def _author(lines: list[str]) -> Evidence:
    """A byline in the last lines: "Tin, ảnh: Quang Long", "HỒ HƯƠNG/baolangson.vn", "Hương Dịu"."""
    tail = [line for line in (l.strip() for l in lines[-12:])
            if line and not is_boilerplate(line) and not line.startswith(("http", "•", "Theo "))][-3:]
    for line in reversed(tail):
        text = _BYLINE_PREFIX.sub("", line).split("/")[0].strip().rstrip(".")
        if len(text) > 60 or not _BYLINE.fullmatch(text) or _NOT_BYLINE.match(text):
            continue
        if all(w[0].isupper() for w in re.findall(r"[^\W\d_]+", text)):
            return Evidence(text, [f"closing line '{line}'"])
    return Evidence(None)


def extract(text: str, *, title: str | None = None, date_hint: str | None = None,
            url: str | None = None, source: str | None = None) -> Metadata:
    """Find the metadata of one article from its (NFC) text and whatever the source gave."""
    g = gazetteer()
    text = nfc(text)
    lines = text.splitlines()
    title_ev = Evidence(title, ["given title"]) if title else _title(lines)
    date_ev = _date(text, lines, title_ev.value, date_hint, url)
    day = date_ev.value
    mentions = _mentions(text, day, g)
    scores = _Scores()
    _outlet_evidence(text, url, source, scores, g)
    body_start = len(title_ev.value) if title_ev.value and text.startswith(title_ev.value) else 0
    lead = range(body_start, body_start + _LEAD_SPAN)
    _place_evidence(_places(text, day, g), _places(title_ev.value or "", day, g), lead, scores)
    _secretary_evidence(mentions, day, title_ev.value or "", scores, g)
    national = _NATIONAL.search(text, 0, lead.stop)
    province_ev = _choose_province(scores, national and national.group(), g)
    province = g.province(province_ev.value) if province_ev.value else None
    return Metadata(
        title=title_ev,
        date=date_ev,
        province=province_ev,
        province_2025=Evidence(province.name_2025, [f"{province.short_name} → {province.name_2025} (1 July 2025)"])
        if province else Evidence(None),
        secretary=_choose_secretary(province, day, mentions, scores, national is not None, g),
        outlet=Evidence(scores.outlet, ["dateline or domain"]) if scores.outlet else Evidence(None),
        url=Evidence(url, ["given URL"]) if url else Evidence(None),
        conference=_conference(text),
        term=_term(text),
        author=_author(lines),
    )
