"""The article's date: a date the source gave, a dateline in the page header, or the lead's own day."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlsplit

from .evidence import Evidence

__all__ = ["find_date", "FIRST_YEAR", "LAST_YEAR"]

FIRST_YEAR, LAST_YEAR = 1990, 2035  # no online news about Party committees before; typos after
HEADER_LINES = 8  # the page's header: where a dateline stands, above the body
LEAD_CHARS = 400  # the lead: where the story names its own day ("Sáng 8/4, …")
BIRTH_WINDOW = 12  # "sinh" this close before a date makes it a birthday
DATELINE_MAX_CHARS = 80  # a longer line is a sentence that cites a date, not a dateline
DATELINE_MAX_LOWER_WORDS = 4  # a dateline is mostly numbers and capitalised weekdays
QUOTE_CHARS = 60  # how much of a header line the evidence quotes

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


def _valid(y: int, m: int, d: int) -> date | None:
    """The date, if it exists and is a plausible publication year."""
    try:
        return date(y, m, d) if FIRST_YEAR <= y <= LAST_YEAR else None
    except ValueError:
        return None


def _full_dates(text: str) -> list[tuple[int, date, str]]:
    """(offset, date, quote) of every complete date in `text`, in order; birthdays left out."""
    found = []
    for rx, (d, m, y) in _FULL_DATES:
        for match in rx.finditer(text):
            if "sinh" in text[max(0, match.start() - BIRTH_WINDOW):match.start()].lower():
                continue
            if day := _valid(int(match[y]), int(match[m]), int(match[d])):
                found.append((match.start(), day, match.group()))
    return sorted(found, key=lambda f: f[0])


def _is_dateline(line: str) -> bool:
    """A short line of date, weekday, time and counters, not a sentence that cites a date."""
    if len(line) > DATELINE_MAX_CHARS:
        return False
    return sum(w[0].islower() for w in re.findall(r"[^\W\d_]+", line)) <= DATELINE_MAX_LOWER_WORDS


def _context_year(header: list[str], hint: str | None, url: str | None) -> tuple[int, str] | None:
    """The year a bare day/month belongs to, from the page around the text, never its body.

    National stories name many years in their first lines (a law of 2003, a plan to 2030,
    the year a tree was planted): a year picked from the body is wrong too often."""
    if hint and (m := re.search(_YEAR, hint)):
        return int(m[1]), f"given date '{hint}'"
    for line in header:
        if _is_dateline(line) and (m := re.search(rf"(?<!\d){_YEAR}(?!\d)", line)):
            return int(m[1]), f"header line '{line[:QUOTE_CHARS]}'"
    if url and (m := _URL_YEAR.search(urlsplit(url if "//" in url else "//" + url).path)):
        return int(m[1]), f"URL '{url}'"
    return None


def find_date(text: str, lines: list[str], title: str | None, hint: str | None, url: str | None) -> Evidence:
    """The given date, else a header line's date, else the lead's own day with a sure year."""
    if hint and (found := _full_dates(hint)):
        return Evidence(found[0][1], [f"given date '{hint}'"])
    header = [l.strip() for l in lines[:HEADER_LINES] if l.strip() and l.strip() != title]
    for line in header:
        if _is_dateline(line) and (found := _full_dates(line)):
            return Evidence(found[0][1], [f"header line '{line[:QUOTE_CHARS]}'"])
    body = text[len(title):] if title and text.startswith(title) else text
    m = _LEAD_DAY.search(body, 0, LEAD_CHARS)
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
