"""Where a new document begins in a dossier scanned as one file, from the top of each page."""

from __future__ import annotations

from classify.boundaries import PageStart, document_starts, page_ranges, start_score

FIRST = """UỶ BAN NHÂN DÂN CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM
PHƯỜNG CỔ NHUẾ 1 Độc lập - Tự do - Hạnh phúc
Số: 125/QĐ-UBND Cổ Nhuế 1, ngày 12 tháng 3 năm 2024
QUYẾT ĐỊNH
Về việc thành lập Tổ công tác"""

SCANNED_FIRST = """UY BAN NHAN DÂN CONG HOA XA HÔI CHU NGHIA VIÊT NAM
PHUONG CO NHUE 1 Độc lâp - Tu do - Hanh phúc
Số: /TB-UBND Cổ Nhuế 1, ngày tháng 01 năm 2025
THÔNG BÁO"""

CONTINUATION = """3. Giao Phòng Nội vụ chủ trì, phối hợp với các đơn vị liên quan tổ chức thực hiện
Quyết định này; báo cáo kết quả về Ủy ban nhân dân phường trước ngày 30/6/2024.
Điều 4. Quyết định có hiệu lực kể từ ngày ký."""

ANNEX = """PHỤ LỤC
DANH SÁCH THÀNH VIÊN TỔ CÔNG TÁC
(Kèm theo Quyết định số 125/QĐ-UBND ngày 12/3/2024)"""


def test_a_header_opens_a_document_and_a_body_page_does_not() -> None:
    score, why = start_score(FIRST)
    assert score >= 0.9 and {"national", "motto", "number", "date", "title"} <= set(why)
    assert start_score(SCANNED_FIRST)[0] >= 0.6  # OCR lost the diacritics and the number
    assert start_score(CONTINUATION)[0] < 0.6
    assert start_score(ANNEX)[0] < 0.6  # an annex cites its decision: it stays with it
    assert start_score("")[0] == 0


def test_pages_are_grouped_into_documents() -> None:
    tops = [FIRST, CONTINUATION, ANNEX, SCANNED_FIRST, FIRST, CONTINUATION]
    starts = document_starts(tops)
    assert [s.page for s in starts] == [1, 4, 5]
    assert page_ranges(starts, len(tops)) == [(1, 3), (4, 4), (5, 6)]
    # page 1 always opens a document, whatever it shows
    assert [s.page for s in document_starts([CONTINUATION, FIRST])] == [1, 2]
    assert page_ranges([PageStart(1, 1.0, ())], 4) == [(1, 4)]
