"""Facts about an article found from its own text: title, date, province, secretary, outlet.

Every field carries the evidence it came from, and a field without good evidence stays
``None``: a wrong province is worse than an honest "unknown". Province evidence is weighed:
a dateline ("ĐBP -"), an outlet's name or domain, statements such as "tỉnh Điện Biên" or
"Tỉnh ủy Sơn La", and the person named as Bí thư Tỉnh ủy checked against the secretaries
table on the article's date count for much; passing mentions of a province count for little.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date
from functools import lru_cache
from urllib.parse import urlsplit

from .gazetteer import Gazetteer, Province, gazetteer, name_key
from .text import canonical_tones, nfc

__all__ = ["Evidence", "Metadata", "extract", "is_boilerplate"]


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
    r"PublishingPortal|Block_\w+|Tăng cỡ chữ|Giảm cỡ chữ|lượt xem|Lượt xem|In bài viết|"
    r"^\s*(?:Thứ|Chủ nhật|Ngày|\d{1,2}:\d{2}|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4})|GMT\+7|"
    r"Trang chủ|Đăng nhập|Chia sẻ|Bình luận|^\s*\d+\s*$",
    re.IGNORECASE,
)


def is_boilerplate(line: str) -> bool:
    """True for a short line of page furniture (toolbars, view counts, bare dates)."""
    return len(line) < 80 and _BOILERPLATE.search(line) is not None


def _title(lines: list[str]) -> Evidence:
    for i, line in enumerate(lines[:12]):
        text = line.strip()
        if 10 <= len(text) <= 300 and not _BOILERPLATE.search(text) and not text.endswith(":"):
            return Evidence(text, [f"line {i + 1}: first line that is not page boilerplate"])
    return Evidence(None)


# --- dates ------------------------------------------------------------------------------

_FULL_DATES = [
    re.compile(r"(?<!\d)(\d{1,2})[/.-](\d{1,2})[/.-]((?:19|20)\d{2})(?!\d)"),
    re.compile(r"ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+((?:19|20)\d{2})", re.IGNORECASE),
]
_ISO_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})-(\d{2})-(\d{2})(?!\d)")
_DAY_MONTH = re.compile(
    r"(?:sáng|chiều|tối|trưa|đêm|ngày|hôm nay|nay)\s*(?:nay\s*)?\(?\s*(\d{1,2})/(\d{1,2})\s*\)?(?![/\d])",
    re.IGNORECASE,
)
_YEAR = re.compile(r"(?<![\d/.-])((?:19|20)\d{2})(?![\d])")
_HEADER_CHARS = 600


def _valid(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _full_dates(text: str) -> list[tuple[int, date, str]]:
    found = []
    for rx in _FULL_DATES:
        for m in rx.finditer(text):
            if day := _valid(int(m[3]), int(m[2]), int(m[1])):
                found.append((m.start(), day, m.group()))
    for m in _ISO_DATE.finditer(text):
        if day := _valid(int(m[1]), int(m[2]), int(m[3])):
            found.append((m.start(), day, m.group()))
    return sorted(found, key=lambda f: f[0])


def _date(text: str, hint: str | None) -> Evidence:
    if hint:
        found = _full_dates(hint)
        if found:
            return Evidence(found[0][1], [f"given date '{hint}'"])
    header = _full_dates(text[:_HEADER_CHARS])
    if header:
        _, day, raw = header[0]
        return Evidence(day, [f"header date '{raw}'"])
    lead = text[:_HEADER_CHARS * 2]
    m = _DAY_MONTH.search(lead)
    if m:
        years = Counter(int(y) for y in _YEAR.findall(text))
        if years:
            year, _ = years.most_common(1)[0]
            if day := _valid(year, int(m[2]), int(m[1])):
                return Evidence(day, [f"lead '{m.group().strip()}'", f"year {year}, the one the text names most"])
    return Evidence(None)


# --- provinces and secretaries ----------------------------------------------------------

_ROLE = re.compile(r"(?<![Pp]hó )(?<![Pp]hó\s)Bí\s+thư\s+(tỉnh|thành)\s+uỷ", re.IGNORECASE)
_STATEMENT = r"(?:tỉnh|Tỉnh|Tỉnh uỷ|tỉnh uỷ|Thành uỷ|thành uỷ|Đảng bộ tỉnh|Đảng bộ thành phố|UBND tỉnh|HĐND tỉnh|thành phố|Thành phố|TP\.?)"
_HONORIFIC = re.compile(r"^(?:\W|các|Các|đồng|Đồng|chí|ông|Ông|bà|Bà|anh|chị|và|với|do|của|cùng)+")
_SURNAMES = set("""Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Lò Mùa Lầu Giàng
Hầu Vừ Sùng Thào Lường Quàng Cầm Triệu Đinh Lâm Mai Trương Đào Đoàn Hà Lương Tạ Chu Cao Thái
Vương Châu Tô Lại Lưu Nông Ma Bế Hứa Tòng Điêu Khổng Kiều Quách Văn Tăng Từ Lữ Mạc Nghiêm
Thạch Danh Sơn Kim Lục Y Giáp Khuất Trịnh Âu Đàm Phùng Doãn Hầu Ngọ Ninh Bạch Bàn Chẩu Lù
Viên Thân Mã Diệp Quan Lã Đồng Hán Phương Tôn Lăng Ông Tống Cù Chế Đậu Ksor Rơ Siu Rah""".split())
_NAME_WORD = re.compile(r"[^\W\d_]+")


@lru_cache(maxsize=1)
def _province_pattern() -> re.Pattern[str]:
    names = {canonical_tones(s) for p in gazetteer().provinces for s in p.spellings
             if not s.isascii() and not s.endswith((" Province", " City"))}
    alternation = "|".join(sorted((re.escape(n) for n in names), key=len, reverse=True))
    return re.compile(rf"(?<!\w)({alternation})(?![\w])(?!\s+Phủ)")


def _name_at(words: list[re.Match[str]], i: int) -> tuple[str, int] | None:
    """A person's name of 2 to 4 capitalised words starting at words[i], if it is one."""
    if i >= len(words) or words[i].group() not in _SURNAMES:
        return None
    j = i + 1
    while j < len(words) and j - i < 4 and words[j].group()[0].isupper() and \
            words[j].start() - words[j - 1].end() == 1:
        j += 1
    if j - i < 2:
        return None
    return " ".join(w.group() for w in words[i:j]), words[j - 1].end()


def _secretary_mentions(text: str, original: str) -> list[tuple[str, str | None, str]]:
    """(name, province named with the role or None, quote) for each Bí thư Tỉnh/Thành ủy.

    `text` is `original` with canonical tones (same length), so offsets serve both."""
    found = []
    provinces = _province_pattern()
    for role in _ROLE.finditer(text):
        stated = None
        after = text[role.end():role.end() + 60]
        m = provinces.match(after.lstrip())
        if m:
            stated = m.group()
            after = after.lstrip()[m.end():]
        words = list(_NAME_WORD.finditer(after))
        name = _name_at(words, 0) if words and words[0].start() <= 1 else None
        if name is None:
            # "Trần Quốc Cường, Ủy viên Trung ương Đảng, Bí thư Tỉnh ủy": name first in its clause.
            clause_start = max(text.rfind(c, 0, role.start()) for c in ";.:\n")
            clause = text[clause_start + 1:role.start()]
            if len(clause) > 160:
                continue
            lead = _HONORIFIC.match(clause)
            words = list(_NAME_WORD.finditer(clause, lead.end() if lead else 0))
            name = _name_at(words, 0)
        if name:
            quote = original[max(0, role.start() - 80):role.end() + 40].replace("\n", " ").strip()
            found.append((name[0], stated, quote))
    return found


def _province_evidence(text: str, title: str | None, url: str | None, source: str | None,
                       day: date | None, mentions, g: Gazetteer) -> tuple[dict, dict, str | None]:
    score: dict[str, float] = defaultdict(float)
    why: dict[str, list[str]] = defaultdict(list)
    outlet = None

    def add(province: Province | None, weight: float, reason: str) -> None:
        if province is not None and reason not in why[province.code]:
            score[province.code] += weight
            why[province.code].append(reason)

    for para in text.split("\n")[:40]:
        head = para.strip().replace("–", "-")
        for o in g.outlets:
            if o.province_code and any(head.startswith(d) for d in o.datelines):
                add(g.province_by_code(o.province_code), 5, f"dateline '{head[:20]}' of {o.name}")
                outlet = outlet or o.name
    hosts = re.findall(r"(?i)\b((?:[a-z0-9-]+\.)+(?:vn|com|net|org|info))\b", text[-3000:] + " " + text[:600])
    if url:
        hosts.insert(0, urlsplit(url if "//" in url else "//" + url).hostname or "")
    if source:
        hosts.append(source)
    for host in dict.fromkeys(h.lower() for h in hosts):
        o = g.outlet_for_domain(host)
        if o and o.province_code:
            add(g.province_by_code(o.province_code), 5, f"outlet domain '{host}' ({o.name})")
            outlet = outlet or o.name
        elif o:
            outlet = outlet or o.name
    statement = re.compile(_STATEMENT + r"\s+(" + _province_pattern().pattern + r")")
    counted: Counter = Counter()
    for m in statement.finditer(text):
        p = g.province(m.group(1))
        if p and counted[p.code] < 3:
            if m.group().lower().startswith(("thành phố", "tp")) and not p.is_city:
                continue
            counted[p.code] += 1
            add(p, 2, f"'{m.group()}'")
    if title:
        for m in _province_pattern().finditer(canonical_tones(title)):
            add(g.province(m.group()), 3, f"title names '{m.group()}'")
    bare: Counter = Counter()
    for m in _province_pattern().finditer(text):
        p = g.province(m.group())
        if p and bare[p.code] < 3:
            bare[p.code] += 1
            add(p, 0.5, f"mention '{m.group()}'")
    for name, stated, _ in mentions:
        terms = g.terms_of(name)
        if day:
            terms = [t for t in terms if t.scope == "province_pre2025" and t.covers(day)]
        codes = {t.province_code for t in terms if t.scope == "province_pre2025"}
        if len(codes) == 1:
            code = codes.pop()
            when = f"on {day.isoformat()}" if day else "in the secretaries table"
            add(g.province_by_code(code), 4, f"{name}, named Bí thư, was its secretary {when}")
    return score, why, outlet


def _choose_province(score, why, g: Gazetteer) -> Evidence:
    if not score:
        return Evidence(None)
    ranked = sorted(score.items(), key=lambda kv: kv[1], reverse=True)
    code, best = ranked[0]
    second = ranked[1][1] if len(ranked) > 1 else 0.0
    if best < 3 or best < 2 * second:
        return Evidence(None, [f"evidence too weak or split: {dict((g.province_by_code(c).short_name, s) for c, s in ranked[:3])}"])
    return Evidence(g.province_by_code(code).short_name, why[code][:6])


def _choose_secretary(province: Province | None, day: date | None, mentions, g: Gazetteer) -> Evidence:
    if province is None:
        return Evidence(None)
    in_office = {name_key(t.name): t for t in (g.secretary_on(province, day) if day else
                 [t for t in g.secretaries if t.province_code == province.code and t.scope == "province_pre2025"])}
    fallback = None
    for name, stated, quote in mentions:
        stated_p = g.province(stated) if stated else None
        if stated_p and stated_p.code != province.code:
            continue
        if "thành" in quote.lower().split("bí thư")[-1][:8] and not province.is_city and stated_p is None:
            continue  # "Bí thư Thành ủy" of a provincial city is a district-level post
        term = in_office.get(name_key(name))
        if term:
            return Evidence(term.name, [f"named Bí thư: '{quote}'",
                                        f"secretary of {province.short_name} per {term.source}"])
        others = [t for t in g.terms_of(name) if t.province_code != province.code]
        if fallback is None and not others:
            fallback = Evidence(nfc(name), [f"named Bí thư: '{quote}'", "not in the secretaries table"])
    return fallback or Evidence(None)


# --- smaller fields ---------------------------------------------------------------------

_ORDINALS = {"nhất": 1, "hai": 2, "ba": 3, "tư": 4, "bốn": 4, "năm": 5, "sáu": 6, "bảy": 7, "tám": 8,
             "chín": 9, "mười": 10}
_ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50}


def _roman(text: str) -> int | None:
    if not text or any(c not in _ROMAN for c in text):
        return None
    total = 0
    for a, b in zip(text, text[1:] + " "):
        total += -_ROMAN[a] if b in _ROMAN and _ROMAN[b] > _ROMAN[a] else _ROMAN[a]
    return total


def _vietnamese_number(words: str) -> int | None:
    parts = words.lower().split()
    if not parts:
        return None
    if parts[0] == "mười":
        unit = _ORDINALS.get(parts[1], 0) if len(parts) > 1 else 0
        return 10 + (1 if len(parts) > 1 and parts[1] == "một" else unit)
    return _ORDINALS.get(parts[0])


def _conference(text: str) -> Evidence:
    m = re.search(r"(?i:hội nghị)[^.\n]{0,80}?lần thứ\s+(\d+|[IVXL]+\b|(?:[Mm]ười\s+)?\w+)", canonical_tones(text))
    if not m:
        return Evidence(None)
    raw = m.group(1)
    number = int(raw) if raw.isdigit() else _roman(raw) or _vietnamese_number(raw)
    return Evidence(number, [f"'{m.group()}'"]) if number else Evidence(None)


def _term(text: str) -> Evidence:
    m = re.search(r"\bkho[áa]\s+([IVXL]+)\b", canonical_tones(text).replace("khoá", "khoa").replace("khóa", "khoa"),
                  re.IGNORECASE)
    return Evidence(m.group(1), [f"'{m.group()}'"]) if m else Evidence(None)


def _author(lines: list[str]) -> Evidence:
    for line in reversed([l.strip() for l in lines if l.strip()][-4:]):
        m = re.fullmatch(r"(?:Tác giả:\s*|Theo\s+)?([^\W\d_]+(?: [^\W\d_]+){1,4})\.?", line)
        if m and all(w[0].isupper() for w in m.group(1).split()) and m.group(1).split()[0] in _SURNAMES:
            return Evidence(m.group(1), [f"closing line '{line}'"])
    return Evidence(None)


def extract(text: str, *, title: str | None = None, date_hint: str | None = None,
            url: str | None = None, source: str | None = None) -> Metadata:
    """Find the metadata of one article from its (NFC) text and whatever the source gave."""
    g = gazetteer()
    text = nfc(text)
    lines = text.splitlines()
    title_ev = Evidence(title, ["given title"]) if title else _title(lines)
    date_ev = _date(text, date_hint)
    scan = canonical_tones(text)
    mentions = _secretary_mentions(scan, text)
    score, why, outlet = _province_evidence(scan, title_ev.value, url, source, date_ev.value, mentions, g)
    province_ev = _choose_province(score, why, g)
    province = g.province(province_ev.value) if province_ev.value else None
    return Metadata(
        title=title_ev,
        date=date_ev,
        province=province_ev,
        province_2025=Evidence(province.name_2025, [f"{province.short_name} → {province.name_2025} (1 July 2025)"])
        if province else Evidence(None),
        secretary=_choose_secretary(province, date_ev.value, mentions, g),
        outlet=Evidence(outlet, ["dateline or domain"]) if outlet else Evidence(None),
        url=Evidence(url, ["given URL"]) if url else Evidence(None),
        conference=_conference(text),
        term=_term(text),
        author=_author(lines),
    )
