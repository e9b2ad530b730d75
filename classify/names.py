"""Vietnamese personal names: which words are surnames, and OCR's slips on their marks.

A name is surname, middle name(s), given name. OCR of a signer's name under a seal often
loses or changes one mark (`Quần` for `Quân`, `Hồñg` for `Hồng`) or the whole surname. A
word is set right only when it is no known name word, and exactly one known word of its role
differs from it by one or two marks; otherwise it stays as read.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from rapidfuzz.distance import Levenshtein

from classify.text import fold

_SURNAMES = (
    "Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Đoàn Đinh Cao "
    "Trịnh Lưu Mai Tô Hà Tạ Lâm Chu Quách Kiều Thái Lương Vương Triệu Phùng Khúc Đào Mạc "
    "Lại Thân Tăng Tống Từ Nông Hứa Giang Lục Doãn La Diệp Âu Bạch Châu Tiêu Kha Cù Lò "
    "Lã Đàm Đồng Nghiêm Phí Thạch Trương Ninh Lữ Lạc Hàn Tôn Bế Hầu Khổng Khương Đường Trình "
    "Mẫn Đới Viên Văn Công Quang Kim Phó Vi Ma Bạc Quan Hoa"
)
# Rare as surnames, common as middle names: a name that starts with one lost its surname.
# (`Ông`, `Bà` are left out: they are `Mr`, `Mrs`, and what is left of `Công` under a seal.)
_MIDDLE_FIRST = {"văn", "công", "quang", "kim", "hoa", "phó", "vi", "ma", "bạc", "quan"}
_MIDDLE = (
    "Văn Thị Hữu Đức Minh Quang Thanh Ngọc Xuân Thu Hồng Kim Anh Thế Công Mạnh Bảo Hoàng Quốc "
    "Đình Trọng Tiến Thành Hải Phương Mai Diệu Thúy Bích Khánh Tuấn Việt Duy Gia Nhật Hoài "
    "Huy Trung Như Cẩm Mỹ Phúc Tất Viết Đăng Bá Chí Hùng Xuân Vĩnh Khắc Hồng Lệ Tuyết Thùy Hòa"
)
_GIVEN = (
    "Hùng Lan Hương Tuấn Dũng Hải Nam Hà Linh Trang Sơn Thắng Bình Cường Phương Hoa Yến Thảo "
    "Khánh Long Quân Đạt Hiếu Huy Nga Thủy Tâm Vinh Thịnh Lộc Phúc Nhung Oanh Quyết Tùng Hòa "
    "Thành Hạnh Hằng Hiền Hoài Huệ Hưng Khoa Khôi Lâm Liên Loan Mai My Mỹ Nhân Như Phong Phú "
    "Quốc Quý Quỳnh Sang Tài Tân Thái Thiện Thông Thư Thương Tiến Toàn Trí Trinh Trọng Trung "
    "Tú Tuyết Uyên Vân Việt Vy An Bích Chi Chính Cúc Diệp Dung Duy Dương Đông Giang Hân Hậu "
    "Hiệp Kiên Lực Luân Mạnh Nghĩa Ngân Nguyên Nhi Ninh Phát Phi Phước Sinh Thạch Thắm Thuận "
    "Thúy Thùy Tình Toản Trâm Triều Trúc Trường Tường Tuyên Vi Xuyến Định Điệp Hào Hiển Huân "
    "Huyền Khải Khang Khanh Khiêm Lập Liêm Lợi Mẫn Nguyệt Nhàn Phượng Quyên Quyền Sỹ Tấn "
    "Thăng Thơ Thức Tiên Tín Trà Tuân Tuệ Vượng Xuân Anh Minh Ngọc Thanh Thu Đức Hồng Kim "
    "Lương Chiến Đào Hạ Thoa Yên Vũ Hiên Hợp Lành Lụa Thảo Nhung Hoan Hậu Khuê Đại Nhật"
)


def _marks_key(word: str) -> str:
    return unicodedata.normalize("NFD", word.lower())


@lru_cache(maxsize=1)
def _vocab() -> dict[str, dict[str, list[str]]]:
    out: dict[str, dict[str, list[str]]] = {}
    for role, text in (("surname", _SURNAMES), ("middle", _MIDDLE), ("given", _GIVEN)):
        table: dict[str, list[str]] = {}
        for word in dict.fromkeys(text.split()):
            table.setdefault(fold(word), []).append(word)
        out[role] = table
    return out


def is_surname(word: str) -> bool:
    """A known surname, not one that is far more often a middle name (`Văn`, `Công`)."""
    return word in _vocab()["surname"].get(fold(word), []) and word.lower() not in _MIDDLE_FIRST


def is_name_word(word: str) -> bool:
    """A known word of names, whatever its case (`xuân`)."""
    cap = word[:1].upper() + word[1:].lower()
    return any(cap in table.get(fold(word), []) for table in _vocab().values())


def known_surname(word: str) -> bool:
    """Folded, any known surname (OCR may have changed a mark)."""
    return fold(word) in _vocab()["surname"] and word.lower() not in _MIDDLE_FIRST


def _repair_word(word: str, role: str) -> str:
    table = _vocab()[role]
    candidates = table.get(fold(word), [])
    if not candidates or word in candidates:
        return word
    key = _marks_key(word)
    scored = sorted((Levenshtein.distance(key, _marks_key(c)), c) for c in candidates)
    best, choice = scored[0]
    if best > 2 or (len(scored) > 1 and scored[1][0] == best):
        return word  # too far, or two known words as close: leave it as read
    return choice[:1].upper() + choice[1:] if word[:1].isupper() else choice


def repair_name(words: list[str]) -> list[str]:
    """The words of a name (surname first) with marks OCR misread set right where sure."""
    out = []
    last = len(words) - 1
    for i, word in enumerate(words):
        role = "surname" if i == 0 else ("given" if i == last else "middle")
        out.append(_repair_word(word, role))
    return out
