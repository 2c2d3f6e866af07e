"""People's names in running text: "Trần Quốc Cường", told apart from places and titles."""

from __future__ import annotations

import re

__all__ = ["SURNAMES", "NAME_WORD", "name_at"]

NAME_MIN_WORDS, NAME_MAX_WORDS = 2, 4  # a surname and a given name, up to two middle names

SURNAMES = set("""Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Lò Mùa Lầu Giàng
Hầu Vừ Sùng Thào Lường Quàng Cầm Triệu Đinh Lâm Mai Trương Đào Đoàn Hà Lương Tạ Chu Cao Thái
Vương Châu Tô Lại Lưu Nông Ma Bế Hứa Tòng Điêu Khổng Kiều Quách Văn Tăng Từ Lữ Mạc Nghiêm
Thạch Danh Sơn Kim Lục Y Giáp Khuất Trịnh Âu Đàm Phùng Doãn Ngọ Ninh Bạch Bàn Chẩu Lù
Viên Thân Mã Diệp Quan Lã Đồng Hán Phương Tôn Lăng Tống Cù Chế Đậu Ksor Rơ Siu Rah
Huỳnh Lò Vi Hoàng Quản Ung Uông Thiều Yên La Lò""".split())
# Words that end a name: a title or the next clause, never a given name in practice.
_NOT_IN_NAME = set("""Chủ Phó Uỷ Ủy Bí Giám Tổng Bộ Ban Tỉnh Huyện Ảnh Sáng Chiều Tối Ngày Theo Tại
Và Cùng Các Trong Hội Phát Kết Thủ Trưởng Đại Thường Nguyên Tân Ông Bà UBND HĐND""".split())
NAME_WORD = re.compile(r"[^\W\d_]+")
# Capitalised words that may stand right before a name: honorifics and titles.
_BEFORE_NAME = set("""Ông Bà Anh Chị Đồng Chí Đại Biểu Bí Thư Tỉnh Thành Uỷ Ủy Tân Nguyên Cựu Đ/c Tướng Tá
Giám Đốc Chủ Tịch Trưởng Phó Sáng Chiều Tối Ngày Theo Tại Khi Và Cùng Với Của Các TS ThS GS PGS KS""".split())


def name_at(words: list[re.Match[str]], i: int, text: str) -> tuple[str, int] | None:
    """A person's name of 2 to 4 capitalised words starting at words[i], and where it ends."""
    if i >= len(words) or words[i].group() not in SURNAMES:
        return None
    if i > 0 and text[words[i - 1].end():words[i].start()] == " " and words[i - 1].group()[0].isupper() \
            and words[i - 1].group() not in _BEFORE_NAME:
        return None  # the tail of a longer name: "Êban Y Phu", "Phi La Văn"
    j = i + 1
    while j < len(words) and j - i < NAME_MAX_WORDS:
        word = words[j].group()
        if not word[0].isupper() or word.isupper() and len(word) > 1 or word in _NOT_IN_NAME:
            break
        if text[words[j - 1].end():words[j].start()] != " ":
            break
        j += 1
    if j - i < NAME_MIN_WORDS:
        return None
    return " ".join(w.group() for w in words[i:j]), words[j - 1].end()
