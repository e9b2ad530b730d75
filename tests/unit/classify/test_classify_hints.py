"""Learning from corrections: the next record of the same kind comes out right."""

from __future__ import annotations

from classify import Correction, Hints, PageInput, classify


def _page(header: list[str], number: str = "Số: 21/TB-UBND", signer: str = "Nguyễn Văn Thành",
          title: str = "THÔNG BÁO") -> PageInput:  # fmt: skip
    text = "\n".join(
        [*header, number, "", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
         "Thượng Cát, ngày 12 tháng 3 năm 2019", "", title, "Lịch tiếp công dân tháng 4", "",
         "Căn cứ quy định hiện hành;", "", "TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH", signer]
    )  # fmt: skip
    return PageInput(1, text)


UNUSUAL = ["ĐẢNG ỦY - UBND", "PHƯỜNG THƯỢNG CÁT"]


def test_an_unusual_header_is_learned() -> None:
    first = classify([_page(UNUSUAL)])
    assert first.unit is None and first.header == "ĐẢNG ỦY - UBND / PHƯỜNG THƯỢNG CÁT"
    fix = Correction(
        header=first.header,
        fields={"unit": "phuong-thuong-cat", "issuer": "Ủy ban nhân dân phường Thượng Cát"},
    )
    hints = Hints.from_corrections([fix])
    again = classify([_page(UNUSUAL)], hints=hints)
    assert again.unit == "phuong-thuong-cat"
    assert again.document.issuer == "Ủy ban nhân dân phường Thượng Cát"
    # the same header read with OCR errors is still that unit
    noisy = classify([_page(["ĐẢNG ỦY - UBND", "PHUONG THUONG CAT"])], hints=hints)
    assert noisy.unit == "phuong-thuong-cat"
    # another header is not
    other = classify([_page(["ĐẢNG ỦY - UBND", "PHƯỜNG XUÂN TẢO"])], hints=hints)
    assert other.unit != "phuong-thuong-cat"


def test_numbers_in_headers_must_agree() -> None:
    fix = Correction("CHI BỘ KHU PHỐ 1 / UBND PHƯỜNG CỔ NHUẾ 1", {"unit": "phuong-co-nhue-1"})
    hints = Hints.from_corrections([fix])
    assert hints.header_for("CHI BỘ KHU PHỐ 1 / UBND PHƯỜNG CỔ NHUẾ 2") is None
    assert hints.header_for("CHI BO KHU PHO 1 / UBND PHUONG CO NHUE 1") is not None


def test_later_corrections_win() -> None:
    first, then = {"unit": "phuong-tay-tuu"}, {"unit": "phuong-lien-mac"}
    hints = Hints.from_corrections([Correction("X / Y", first), Correction("X / Y", then)])
    found = hints.header_for("X / Y")
    assert found is not None and found[0].values["unit"] == "phuong-lien-mac"


def test_a_confirmed_signer_name_sets_ocr_right() -> None:
    hints = Hints.from_corrections(
        [Correction(None, {"signer": "Nguyễn Văn Thành"}, {"signer": "Nguyen Van Thanh"})]
    )
    result = classify([_page(UNUSUAL, signer="Nguyen Van Thanh")], hints=hints)
    assert result.document.signer == "Nguyễn Văn Thành"
    assert classify([_page(UNUSUAL, signer="Nguyễn Văn Thạnh")], hints=hints).document.signer == (
        "Nguyễn Văn Thạnh"  # a full reading of another name is left alone
    )
    assert hints.signer_for("Nguyễn Văn Thànk") == "Nguyễn Văn Thành"
    assert hints.signer_for("Trần Văn Bình") is None


def test_a_symbol_type_part_is_learned() -> None:
    page = _page(["UBND PHƯỜNG THƯỢNG CÁT"], number="Số: 05/KHPH-UBND", title="")
    first = classify([page])
    assert first.document.type != "ke_hoach"
    fix = Correction(first.header, {"type": "ke_hoach"}, {"code_notation": "KHPH-UBND"})
    again = classify([page], hints=Hints.from_corrections([fix]))
    assert again.document.type == "ke_hoach"


def test_hints_are_a_pure_function_of_corrections() -> None:
    fixes = [Correction("A / B", {"unit": "phuong-tay-tuu", "place": "Tây Tựu"})]
    assert Hints.from_corrections(fixes) == Hints.from_corrections(list(fixes))
