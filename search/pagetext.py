"""Page furniture: the short lines of a scraped news page that are not the article.

Toolbars ("Tăng cỡ chữ"), view counters, bare datelines and menu items are dropped from a
body by :mod:`search.corpus` and skipped by :mod:`search.metadata` when it looks for a title
or a byline. :func:`source_label` puts a collection's notes on its sources into Vietnamese.
"""

from __future__ import annotations

import re

__all__ = ["is_boilerplate", "source_label", "FURNITURE_MAX_CHARS"]

FURNITURE_MAX_CHARS = 80  # a line this long or longer is a sentence, never furniture

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
    return len(line) < FURNITURE_MAX_CHARS and _BOILERPLATE.search(line) is not None


# Notes that collections add to a source, in English, and how a Vietnamese reader is told them.
SOURCE_NOTES = {
    "aggregator; original outlet not recorded": "trang tổng hợp, không ghi báo gốc",
    "outlet not in link": "trang tổng hợp, không rõ báo gốc",
    "aggregator": "trang tổng hợp",
}
_NOTE = re.compile(r"\s*\(([^()]*)\)\s*$")


def source_label(source: str | None) -> str | None:
    """A source as shown to readers: "baomoi.com (aggregator; original outlet not recorded)"
    becomes "baomoi.com (trang tổng hợp, không ghi báo gốc)"; another note in plain English
    (ASCII words) is left out, the name kept."""
    if not source:
        return source
    m = _NOTE.search(source)
    if m is None:
        return source
    name, note = source[:m.start()].strip(), m.group(1).strip()
    if note.lower() in SOURCE_NOTES:
        return f"{name} ({SOURCE_NOTES[note.lower()]})"
    if note.isascii() and re.fullmatch(r"[A-Za-z ;,.'-]+", note) and " " in note:
        return name or source
    return source
