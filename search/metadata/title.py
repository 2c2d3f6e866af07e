"""The lines that frame an article: its title at the top of the page, its byline at the bottom."""

from __future__ import annotations

import re

from ..pagetext import is_boilerplate
from .evidence import Evidence

__all__ = ["find_title", "find_author"]

TITLE_LINES = 12  # the title is among the page's first lines: toolbars and datelines come before it
TITLE_MIN_CHARS, TITLE_MAX_CHARS = 10, 300  # shorter is a menu item, longer is a paragraph
BYLINE_LINES = 12  # a byline is among the page's last lines
BYLINE_CANDIDATES = 3  # of those, the last lines of text (not furniture, not links) are tried
BYLINE_MAX_CHARS = 60  # a longer closing line is a sentence, not names

_BYLINE_PREFIX = re.compile(r"^(?:(?:Tin|Bài)(?:,| và)?\s*(?:ảnh)?|Ảnh|Tác giả|Nhóm PV)\s*:\s*", re.IGNORECASE)
_BYLINE = re.compile(r"[^\W\d_]+(?: [^\W\d_]+){1,4}(?:\s*[-,–]\s*[^\W\d_]+(?: [^\W\d_]+){1,4})*")
# Closing lines that look like a byline but are not one: a newspaper credited, a caption.
_NOT_BYLINE = re.compile(r"(?i)^(?:ông|bà|anh|chị|Tuổi Trẻ|Thanh Niên|Người Lao Động|Lao Động|Tiền Phong|"
                         r"Dân Trí|Nhân Dân|Pháp Luật|Công An Nhân Dân|Vietnamnet|VnExpress|TTXVN)(?!\w)")


def find_title(lines: list[str]) -> Evidence:
    """The first line of the page that is not furniture."""
    for i, line in enumerate(lines[:TITLE_LINES]):
        text = line.strip()
        if TITLE_MIN_CHARS <= len(text) <= TITLE_MAX_CHARS and not is_boilerplate(text) \
                and not text.endswith(":"):
            return Evidence(text, [f"line {i + 1}: first line that is not page boilerplate"])
    return Evidence(None)


def find_author(lines: list[str]) -> Evidence:
    """A byline in the last lines: "Tin, ảnh: Quang Long", "HỒ HƯƠNG/baolangson.vn", "Hương Dịu"."""
    tail = [line for line in (l.strip() for l in lines[-BYLINE_LINES:])
            if line and not is_boilerplate(line) and not line.startswith(("http", "•", "Theo "))]
    for line in reversed(tail[-BYLINE_CANDIDATES:]):
        text = _BYLINE_PREFIX.sub("", line).split("/")[0].strip().rstrip(".")
        if len(text) > BYLINE_MAX_CHARS or not _BYLINE.fullmatch(text) or _NOT_BYLINE.match(text):
            continue
        if all(w[0].isupper() for w in re.findall(r"[^\W\d_]+", text)):
            return Evidence(text, [f"closing line '{line}'"])
    return Evidence(None)
