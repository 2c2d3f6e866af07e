"""The committee's meeting and term: "Hội nghị … lần thứ Mười" → 10, "Đảng bộ tỉnh khóa XIV" → "XIV"."""

from __future__ import annotations

import re

from .evidence import Evidence
from .places import UY

__all__ = ["find_conference", "find_term"]

CONFERENCE_GAP = 80  # at most this many characters between "Hội nghị" and its "lần thứ"
CONFERENCE_AFTER = 40  # the text read after the number, where "Trung ương" would say whose plenum
CENTRAL_AFTER = 30  # of that, how much may name the Central Committee
TERM_GAP = 30  # at most this many characters between "Tỉnh ủy"/"Đảng bộ tỉnh" and its "khóa"

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
    rf"(?i:hội nghị)(?P<between>[^.\n]{{0,{CONFERENCE_GAP}}}?)(?i:lần)\s+(?i:thứ)\s+"
    r"(?P<n>\d+|[IVXL]+\b|(?i:(?:mười|hai mươi|ba mươi)(?:\s+(?:một|mốt|hai|ba|tư|bốn|năm|lăm|sáu|bảy|tám|chín))?|"
    rf"nhất|hai|ba|tư|bốn|năm|sáu|bảy|tám|chín)(?!\w))(?P<after>[^.\n]{{0,{CONFERENCE_AFTER}}})"
)


def find_conference(text: str) -> Evidence:
    """The number of the provincial committee's conference ("Hội nghị … lần thứ Mười" → 10)."""
    for m in _CONFERENCE.finditer(text):
        if "trung ương" in (m["between"] + m["after"][:CENTRAL_AFTER]).lower():
            continue  # a Central Committee plenum, not the province's
        raw = m["n"]
        number = int(raw) if raw.isdigit() else _roman(raw) or _vietnamese_number(raw)
        if number:
            return Evidence(number, [f"'{m.group().strip()}'"])
    return Evidence(None)


_TERM = re.compile(
    rf"(?:(?i:đảng bộ)(?:\s+(?i:tỉnh|thành phố))?|(?i:tỉnh|thành)\s+(?i:{UY}))[^.;\n]{{0,{TERM_GAP}}}?"
    r"(?i:khoá|khóa)\s+(?P<n>[IVXL]+)(?!\w)|(?i:lần thứ)\s+\w+\s*[(,]\s*(?i:khoá|khóa)\s+(?P<n2>[IVXL]+)(?!\w)"
)


def find_term(text: str) -> Evidence:
    """The term of the province's Party committee ("Ban Chấp hành Đảng bộ tỉnh khóa XIV")."""
    low = text.lower()
    if "khoá" not in low and "khóa" not in low:  # in every match: most texts are done here
        return Evidence(None)
    for m in _TERM.finditer(text):
        before = m.group()
        if "quốc hội" in before.lower() or "trung ương" in before.lower():
            continue
        return Evidence(m["n"] or m["n2"], [f"'{m.group().strip()}'"])
    return Evidence(None)
