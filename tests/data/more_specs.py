"""More documents, drawn at random (seeded) to vary what real archives vary.

`more_specs(count, seed)` makes DocumentSpecs of every administrative type (and công văn,
Nghị định, Thông tư, Luật) from bodies of the Bắc Từ Liêm district, its wards, other
provinces and ministries: one- and two-line agency blocks, parent bodies above the issuer
(`UBND QUẬN BẮC TỪ LIÊM` / `UBND PHƯỜNG …`), subjects of one to three lines, signing
prefixes `TM.`/`KT.`/`TL.`/`TUQ.`/`Q.`, secrecy and urgency marks, pre-2020 layouts
(`Số: 157/QĐ-UB`, `ngày 24 / 7/ 1993`, a typed `-----*-----` rule, `CỘNG HOÀ`) and numbers
or days left blank for a hand to fill in. All names and texts are invented.

`expected(spec)` is what a classifier should read off it (`writers.expected_document` plus
the fields that depend on the variant: a blank number or day is null, never guessed).
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date
from functools import lru_cache

from schemas.vocab import document_types
from tests.data.specs import DocumentSpec, vietnamese_date
from tests.data.writers import expected_document

# (parent, issuer, place, symbol part of the issuer, unit code or None, signer kind)
_BODIES: list[tuple[str | None, str, str, str, str | None, str]] = [
    (None, "ỦY BAN NHÂN DÂN\nQUẬN BẮC TỪ LIÊM", "Bắc Từ Liêm", "UBND", "quan-bac-tu-liem", "ubnd"),
    (None, "UBND QUẬN BẮC TỪ LIÊM", "Bắc Từ Liêm", "UBND", "quan-bac-tu-liem", "ubnd"),
    ("UBND QUẬN BẮC TỪ LIÊM", "PHÒNG NỘI VỤ", "Bắc Từ Liêm", "PNV", "phong-noi-vu", "phong"),
    ("UBND QUẬN BẮC TỪ LIÊM", "PHÒNG TÀI CHÍNH - KẾ HOẠCH", "Bắc Từ Liêm", "TCKH",
     "phong-tai-chinh-ke-hoach", "phong"),
    ("ỦY BAN NHÂN DÂN QUẬN BẮC TỪ LIÊM", "PHÒNG VĂN HÓA VÀ THÔNG TIN", "Bắc Từ Liêm", "VHTT",
     "phong-van-hoa-thong-tin", "phong"),
    ("UBND QUẬN BẮC TỪ LIÊM", "PHÒNG LAO ĐỘNG - THƯƠNG BINH VÀ XÃ HỘI", "Bắc Từ Liêm",
     "LĐTBXH", "phong-lao-dong-tbxh", "phong"),
    ("UBND QUẬN BẮC TỪ LIÊM", "PHÒNG TÀI NGUYÊN VÀ MÔI TRƯỜNG", "Bắc Từ Liêm", "TNMT",
     "phong-tai-nguyen-moi-truong", "phong"),
    ("UBND QUẬN BẮC TỪ LIÊM", "THANH TRA QUẬN", "Bắc Từ Liêm", "TTr", "thanh-tra-quan",
     "thanh_tra"),
    ("UBND QUẬN BẮC TỪ LIÊM", "UBND PHƯỜNG THƯỢNG CÁT", "Thượng Cát", "UBND",
     "phuong-thuong-cat", "ubnd"),
    (None, "ỦY BAN NHÂN DÂN\nPHƯỜNG PHÚC DIỄN", "Phúc Diễn", "UBND", "phuong-phuc-dien", "ubnd"),
    (None, "UỶ BAN NHÂN DÂN\nPHƯỜNG THỤY PHƯƠNG", "Thụy Phương", "UBND", "phuong-thuy-phuong",
     "ubnd"),
    ("UBND QUẬN BẮC TỪ LIÊM", "UBND PHƯỜNG ĐÔNG NGẠC", "Đông Ngạc", "UBND", "phuong-dong-ngac",
     "ubnd"),
    ("UBND QUẬN BẮC TỪ LIÊM", "UBND PHƯỜNG CỔ NHUẾ 2", "Cổ Nhuế 2", "UBND", "phuong-co-nhue-2",
     "ubnd"),
    (None, "ỦY BAN NHÂN DÂN\nTỈNH NGHỆ AN", "Nghệ An", "UBND", None, "ubnd"),
    ("UBND TỈNH BẮC NINH", "SỞ TÀI CHÍNH", "Bắc Ninh", "STC", None, "so"),
    ("UBND HUYỆN GIA LÂM", "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO", "Gia Lâm", "PGDĐT", None, "phong"),
    ("UBND THÀNH PHỐ HÀ NỘI", "SỞ THÔNG TIN VÀ TRUYỀN THÔNG", "Hà Nội", "STTTT", None, "so"),
    (None, "ỦY BAN NHÂN DÂN\nTHÀNH PHỐ ĐÀ NẴNG", "Đà Nẵng", "UBND", None, "ubnd"),
    ("UBND HUYỆN ĐÔNG ANH", "UBND XÃ VÂN NỘI", "Vân Nội", "UBND", None, "ubnd"),
    (None, "BỘ NỘI VỤ", "Hà Nội", "BNV", None, "bo"),
    (None, "BỘ TÀI CHÍNH", "Hà Nội", "BTC", None, "bo"),
]  # fmt: skip
_OLD_BODIES: list[tuple[str | None, str, str, str, str | None, str]] = [
    (None, "UỶ BAN NHÂN DÂN\nHUYỆN TỪ LIÊM", "Từ Liêm", "UB", None, "ubnd"),
    (None, "UBND HUYỆN TỪ LIÊM", "Từ Liêm", "UB", None, "ubnd"),
    ("UBND HUYỆN TỪ LIÊM", "UBND XÃ CỔ NHUẾ", "Cổ Nhuế", "UB", None, "ubnd"),
]
_SIGNERS: dict[str, list[tuple[list[str], str | None]]] = {
    "ubnd": [
        (["TM. ỦY BAN NHÂN DÂN"], "CHỦ TỊCH"),
        (["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH"], "PHÓ CHỦ TỊCH"),
        ([], "CHỦ TỊCH"),
        (["TL. CHỦ TỊCH"], "CHÁNH VĂN PHÒNG"),
        (["TUQ. CHỦ TỊCH"], "CHÁNH VĂN PHÒNG"),
        ([], "Q. CHỦ TỊCH"),
    ],
    "phong": [([], "TRƯỞNG PHÒNG"), (["KT. TRƯỞNG PHÒNG"], "PHÓ TRƯỞNG PHÒNG")],
    "thanh_tra": [([], "CHÁNH THANH TRA"), (["KT. CHÁNH THANH TRA"], "PHÓ CHÁNH THANH TRA")],
    "so": [([], "GIÁM ĐỐC"), (["KT. GIÁM ĐỐC"], "PHÓ GIÁM ĐỐC")],
    "bo": [([], "BỘ TRƯỞNG"), (["KT. BỘ TRƯỞNG"], "THỨ TRƯỞNG")],
}
_NAME_TEXT = (
    "Nguyễn Trần Lê Phạm Hoàng Phan Vũ Đặng Bùi Đỗ Hồ Ngô Dương Lý Đinh Trịnh Lưu Mai",
    "Văn Thị Hữu Đức Minh Quang Thanh Ngọc Xuân Thu Hồng Kim Anh Thế Công Mạnh Bảo",
    "Hùng Lan Hương Tuấn Dũng Hải Nam Hà Linh Trang Sơn Thắng Bình Cường Phương Hoa Yến Thảo "
    "Khánh Long Quân Đạt Hiếu Huy Nga Thủy Tâm Vinh Thịnh Lộc Phúc Nhung Oanh Quyết Tùng Hòa",
)
_SURNAMES, _MIDDLE, _GIVEN = (part.split() for part in _NAME_TEXT)
_TOPICS = [
    "công tác cải cách hành chính",
    "chuyển đổi số và số hóa hồ sơ, tài liệu lưu trữ",
    "phòng, chống dịch bệnh mùa hè",
    "bảo đảm trật tự an toàn giao thông dịp Tết Nguyên đán",
    "quản lý trật tự xây dựng đô thị trên địa bàn",
    "thu ngân sách nhà nước và quản lý chi ngân sách",
    "tổ chức Ngày hội Đại đoàn kết toàn dân tộc",
    "tuyển sinh vào lớp 1 và lớp 6",
    "kiểm tra công tác văn thư, lưu trữ tại các đơn vị",
    "phòng cháy, chữa cháy tại khu dân cư",
    "vệ sinh môi trường, thu gom rác thải sinh hoạt",
    "chi trả trợ cấp cho người có công với cách mạng",
    "giải quyết đơn thư khiếu nại, tố cáo của công dân",
    "diễn tập phương án phòng, chống lụt bão",
    "cấp Giấy chứng nhận quyền sử dụng đất lần đầu",
    "đánh giá, xếp loại chất lượng cán bộ, công chức",
]
_LONG_TAILS = [
    " gắn với nâng cao chất lượng phục vụ người dân và doanh nghiệp trên địa bàn",
    " và triển khai nhiệm vụ trọng tâm trong thời gian tới theo chỉ đạo của Thành phố",
    ", bảo đảm an toàn, an ninh thông tin mạng trong các cơ quan hành chính nhà nước",
]
_BODY = [
    "Thực hiện chỉ đạo của cấp trên, để bảo đảm hoàn thành các nhiệm vụ được giao đúng "
    "tiến độ, chất lượng và hiệu quả, yêu cầu các đơn vị triển khai các nội dung sau.",
    "1. Rà soát, thống kê số liệu, tổng hợp kết quả thực hiện và báo cáo đúng thời hạn; "
    "chịu trách nhiệm về tính chính xác của số liệu báo cáo.",
    "2. Bố trí cán bộ đầu mối theo dõi, đôn đốc việc thực hiện; kịp thời phản ánh khó "
    "khăn, vướng mắc để được hướng dẫn, giải quyết.",
    "3. Tăng cường công tác tuyên truyền, phổ biến để cán bộ, công chức và Nhân dân biết, "
    "hưởng ứng và cùng thực hiện.",
    "Trong quá trình thực hiện, nếu có vướng mắc, các đơn vị phản ánh về Văn phòng để tổng "
    "hợp, báo cáo lãnh đạo xem xét, giải quyết./.",
]
_RECIPIENTS = ["- Như trên;", "- Lãnh đạo đơn vị;", "- Các phòng, ban liên quan;", "- Lưu: VT."]
_LEGAL = {  # type → (issuer, symbol tail, signer kind)
    "nghi_dinh": ("CHÍNH PHỦ", "NĐ-CP", "cp"),
    "thong_tu": ("BỘ NỘI VỤ", "TT-BNV", "bo"),
    "luat": ("QUỐC HỘI", "QH15", "qh"),
}
_LEGAL_SIGNERS = {
    "cp": (["TM. CHÍNH PHỦ", "KT. THỦ TƯỚNG"], "PHÓ THỦ TƯỚNG"),
    "bo": (["KT. BỘ TRƯỞNG"], "THỨ TRƯỞNG"),
    "qh": ([], "CHỦ TỊCH QUỐC HỘI"),
}
_SKIP = {"ban_do", "ban_ve_ky_thuat", "khac", "cong_van", "luat", "nghi_dinh", "thong_tu"}
_MARKS = {
    "KHẨN": "khan", "THƯỢNG KHẨN": "thuong_khan", "HỎA TỐC": "hoa_toc",
    "MẬT": "mat", "TỐI MẬT": "toi_mat", "TUYỆT MẬT": "tuyet_mat",
}  # fmt: skip
_KNOWN_UNITS = {  # (parent, issuer) → unit code, for the hand-written documents too
    **{(b[0], b[1]): b[4] for b in _BODIES if b[4]},
    ("UBND QUẬN BẮC TỪ LIÊM", "UBND PHƯỜNG CỔ NHUẾ 1"): "phuong-co-nhue-1",
    (None, "ỦY BAN NHÂN DÂN\nPHƯỜNG XUÂN ĐỈNH"): "phuong-xuan-dinh",
}
BLANK_NUMBER = "       /"
BLANK_DAY = "ngày      tháng"


def _name(rng: random.Random) -> str:
    parts = [rng.choice(_SURNAMES), rng.choice(_MIDDLE)]
    if rng.random() < 0.35:
        parts.append(rng.choice(_MIDDLE))
    return " ".join([*parts, rng.choice(_GIVEN)])


def _subject(rng: random.Random, code: str, year: int) -> str:
    topic = rng.choice(_TOPICS)
    if code in ("quyet_dinh", "to_trinh", "cong_dien", "chi_thi"):
        text = f"Về việc {topic}"
    elif code in ("ke_hoach", "chuong_trinh", "bao_cao"):
        text = f"{topic[0].upper()}{topic[1:]} năm {year}"
    else:
        text = f"{topic[0].upper()}{topic[1:]}"
    if rng.random() < 0.35:
        text += rng.choice(_LONG_TAILS)
    return text


def _one(rng: random.Random, index: int) -> DocumentSpec:
    types = [t for t in document_types() if t not in _SKIP]
    roll = rng.random()
    code = "cong_van" if roll < 0.25 else rng.choice(types)
    if roll > 0.94:
        code = rng.choice(list(_LEGAL))
    old = code not in _LEGAL and rng.random() < 0.12
    parent, issuer, place, short, unit, kind = rng.choice(_OLD_BODIES if old else _BODIES)
    year = rng.randint(1990, 2004) if old else rng.randint(2014, 2025)
    issued = date(year, rng.randint(1, 12), rng.randint(1, 28))
    if unit and issued > date(2025, 6, 30):  # the district's bodies ended on 30 June 2025
        issued = issued.replace(year=2024)
    year = issued.year
    n = rng.randint(1, 400)
    num = f"{n:02d}" if n < 10 else str(n)
    abbr = document_types()[code].abbreviation or ""
    prefix, title = rng.choice(_SIGNERS[kind])
    type_title: str | None = document_types()[code].name.upper()
    if code in _LEGAL:
        issuer, tail, skind = _LEGAL[code]
        parent, place, (prefix, title) = None, "Hà Nội", _LEGAL_SIGNERS[skind]
        number = f"{num}/{year}/{tail}"
    elif code == "cong_van":
        type_title = None
        number = f"{num}/{short}-{rng.choice(['VP', 'VX', 'TCKH', 'NV', 'KT', 'ĐT'])}"
    elif code == "thu_cong":
        type_title = rng.choice(["THƯ CẢM ƠN", "THƯ CHÚC MỪNG", "THƯ KHEN"])
        number = f"{num}/{short}-VP"
    else:
        number = f"{num}/{abbr}-{short}"
    subject = _subject(rng, code, year)
    if code == "cong_van":
        subject = (
            "V/v " + rng.choice(_TOPICS) + (rng.choice(_LONG_TAILS) if rng.random() < 0.3 else "")
        )
    key = f"gen-{index:03d}-{code}"
    spec = DocumentSpec(
        key=key,
        doc_type=code,
        issuer=issuer,
        parent=parent,
        number=number,
        type_title=type_title,
        subject=subject,
        paragraphs=rng.sample(_BODY, rng.randint(2, 4))
        if rng.random() < 0.8
        else rng.choices(_BODY, k=rng.randint(13, 17)),  # two pages: the signer on page 2
        number_label="Luật số:" if code == "luat" else "Số:",
        place=None if code == "luat" else place,
        issued_on=issued,
        signer_prefix=prefix,
        signer_title=title,
        signer_name=_name(rng),
        recipients=list(_RECIPIENTS),
        salutation=["Ủy ban nhân dân quận Bắc Từ Liêm."]
        if code in ("cong_van", "to_trinh")
        else [],
        source="generated",
    )
    mark = rng.random()
    if mark < 0.08:
        spec = replace(spec, secrecy=rng.choice(["MẬT", "TỐI MẬT", "TUYỆT MẬT"]))
    elif mark < 0.2:
        spec = replace(spec, urgency=rng.choice(["KHẨN", "THƯỢNG KHẨN", "HỎA TỐC"]))
    elif mark < 0.23:
        spec = replace(spec, secrecy="MẬT", urgency="HỎA TỐC")
    if code == "luat":  # a law prints its date at the end, where it was passed
        passed = f"Luật này được Quốc hội thông qua {vietnamese_date(issued)}."
        spec = replace(spec, paragraphs=[*spec.paragraphs, passed])
    if old:
        d, m = issued.day, issued.month
        spec = replace(
            spec,
            number=f"{num}/{abbr}-UB" if abbr else f"{num}/UB",
            date_text=rng.choice([f"ngày {d} / {m}/ {year}", f"ngày {d}/{m}/{year}"]),
            header_rule="-----*-----",
            national_name="CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        )
    blank = rng.random()
    if blank < 0.04 and not old:  # a number to be written by hand, never written
        spec = replace(spec, number=BLANK_NUMBER + spec.number.split("/", 1)[1])
    elif blank < 0.07 and not old and code != "luat":
        spec = replace(spec, date_text=f"{BLANK_DAY} {issued.month} năm {year}")
    return spec


@lru_cache(maxsize=8)
def more_specs(count: int = 120, seed: int = 7) -> tuple[DocumentSpec, ...]:
    """`count` generated documents (deterministic for a seed)."""
    rng = random.Random(seed)
    return tuple(_one(rng, i) for i in range(count))


def expected(spec: DocumentSpec) -> dict[str, str | None]:
    """What a classifier should read off `spec` (marks as codes, blanks as null)."""
    out = expected_document(spec)
    out["urgency"] = _MARKS.get(spec.urgency or "")
    out["secrecy"] = _MARKS.get(spec.secrecy or "")
    out["signer_title"] = spec.signer_title
    if spec.number.startswith(BLANK_NUMBER):
        out["number"] = None
    if spec.date_text and spec.date_text.startswith(BLANK_DAY):
        out["issued_on"] = None
    out["unit"] = _KNOWN_UNITS.get((spec.parent, spec.issuer))
    return out
