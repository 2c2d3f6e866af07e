"""Page furniture: the short lines of a scraped news page that are not the article.

Toolbars ("Tăng cỡ chữ"), view counters, bare datelines and menu items are dropped from a
body by :mod:`search.corpus` and skipped by :mod:`search.metadata` when it looks for a title
or a byline.
"""

from __future__ import annotations

import re

__all__ = ["is_boilerplate", "FURNITURE_MAX_CHARS"]

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
