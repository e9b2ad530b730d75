"""Administrative documents of the Bắc Từ Liêm district, written for these tests.

They follow the layout and wording of Decree 30/2020/NĐ-CP. The plan number and date
(251/KH-UBND, 29/5/2023) and its 17 indicators / 7 task groups / 70 tasks are those of the
plan sohoa models, and the plan's signer is the one of the example record in the design
notes; every other number, sentence and person's name is invented.
"""

from __future__ import annotations

from datetime import date

from tests.data.specs import DocumentSpec

_DISTRICT = "ỦY BAN NHÂN DÂN\nQUẬN BẮC TỪ LIÊM"

KE_HOACH_251 = DocumentSpec(
    key="kh-251-ubnd",
    doc_type="ke_hoach",
    issuer=_DISTRICT,
    number="251/KH-UBND",
    type_title="KẾ HOẠCH",
    subject=(
        "Ứng dụng công nghệ thông tin, phát triển chính quyền số và bảo đảm an toàn "
        "thông tin mạng quận Bắc Từ Liêm năm 2023"
    ),
    place="Bắc Từ Liêm",
    issued_on=date(2023, 5, 29),
    paragraphs=[
        "Căn cứ Nghị định số 30/2020/NĐ-CP ngày 05 tháng 3 năm 2020 của Chính phủ về công "
        "tác văn thư;",
        "Ủy ban nhân dân quận Bắc Từ Liêm ban hành Kế hoạch ứng dụng công nghệ thông tin, "
        "phát triển chính quyền số và bảo đảm an toàn thông tin mạng năm 2023 như sau:",
        "I. MỤC ĐÍCH, YÊU CẦU",
        "1. Mục đích",
        "Đẩy mạnh ứng dụng công nghệ thông tin trong hoạt động của các cơ quan, đơn vị; nâng "
        "cao chất lượng giải quyết thủ tục hành chính, phục vụ người dân và doanh nghiệp ngày "
        "càng tốt hơn.",
        "Phát triển dữ liệu số của quận; từng bước số hóa hồ sơ, tài liệu lưu trữ của các "
        "phòng, ban chuyên môn và Ủy ban nhân dân 13 phường, bảo đảm kết nối, chia sẻ dữ liệu "
        "với các hệ thống thông tin của Thành phố.",
        "2. Yêu cầu",
        "Các nhiệm vụ phải được triển khai đồng bộ, có trọng tâm, trọng điểm, gắn với trách "
        "nhiệm của người đứng đầu; bảo đảm an toàn, an ninh thông tin mạng trong quá trình "
        "triển khai.",
        "II. CHỈ TIÊU",
        "Kế hoạch gồm 17 chỉ tiêu, 07 nhóm nhiệm vụ với 70 nhiệm vụ cụ thể. Phấn đấu đến hết "
        "năm 2023: 100% văn bản đi, đến (trừ văn bản mật) được xử lý trên môi trường mạng; "
        "100% hồ sơ thủ tục hành chính được số hóa khi tiếp nhận; tối thiểu 30% hồ sơ, tài "
        "liệu lưu trữ được số hóa và cập nhật vào cơ sở dữ liệu.",
        "III. NHIỆM VỤ TRỌNG TÂM",
        "1. Phát triển hạ tầng số",
        "Duy trì, nâng cấp mạng nội bộ, hệ thống hội nghị truyền hình trực tuyến từ quận đến "
        "phường; trang bị máy quét tài liệu tốc độ cao cho bộ phận văn thư, lưu trữ.",
        "2. Phát triển dữ liệu số",
        "Rà soát, thống kê hồ sơ, tài liệu lưu trữ tại các phòng, ban và phường; xây dựng "
        "danh mục hồ sơ cần số hóa theo thứ tự ưu tiên; tổ chức số hóa, nhập siêu dữ liệu "
        "theo quy định tại Thông tư số 02/2019/TT-BNV ngày 24 tháng 01 năm 2019 của Bộ Nội vụ.",
        "3. Phát triển chính quyền số",
        "Sử dụng hiệu quả Hệ thống quản lý văn bản và điều hành; 100% cán bộ, công chức được "
        "cấp và sử dụng chữ ký số trong giải quyết công việc.",
        "IV. TỔ CHỨC THỰC HIỆN",
        "1. Văn phòng HĐND và UBND quận chủ trì, phối hợp với Phòng Văn hóa và Thông tin "
        "hướng dẫn, đôn đốc các đơn vị triển khai Kế hoạch; tổng hợp, báo cáo kết quả thực "
        "hiện về Ủy ban nhân dân quận trước ngày 15 tháng 12 năm 2023.",
        "2. Phòng Tài chính - Kế hoạch tham mưu bố trí kinh phí thực hiện Kế hoạch theo quy định.",
        "3. Ủy ban nhân dân các phường xây dựng kế hoạch triển khai tại đơn vị, bảo đảm hoàn "
        "thành các chỉ tiêu được giao.",
        "Trên đây là Kế hoạch ứng dụng công nghệ thông tin, phát triển chính quyền số và bảo "
        "đảm an toàn thông tin mạng quận Bắc Từ Liêm năm 2023, yêu cầu các đơn vị nghiêm túc "
        "triển khai thực hiện./.",
    ],
    signer_prefix=["TM. ỦY BAN NHÂN DÂN"],
    signer_title="CHỦ TỊCH",
    signer_name="Nguyễn Văn Thành",
    recipients=[
        "- UBND Thành phố;",
        "- Sở Thông tin và Truyền thông;",
        "- TT Quận ủy, TT HĐND quận;",
        "- Chủ tịch, các PCT UBND quận;",
        "- Các phòng, ban, đơn vị thuộc quận;",
        "- UBND 13 phường;",
        "- Lưu: VT, VHTT.",
    ],
)

CONG_VAN_12 = DocumentSpec(
    key="cv-12-ubnd-vx",
    doc_type="cong_van",
    issuer=_DISTRICT,
    number="12/UBND-VX",
    type_title=None,
    subject="V/v đẩy nhanh tiến độ số hóa hồ sơ, tài liệu lưu trữ năm 2024",
    place="Bắc Từ Liêm",
    issued_on=date(2024, 1, 8),
    salutation=["- Các phòng, ban, đơn vị thuộc quận;", "- Ủy ban nhân dân 13 phường."],
    paragraphs=[
        "Thực hiện Kế hoạch số 251/KH-UBND ngày 29 tháng 5 năm 2023 của Ủy ban nhân dân quận "
        "về ứng dụng công nghệ thông tin, phát triển chính quyền số và bảo đảm an toàn thông "
        "tin mạng năm 2023, đến nay việc số hóa hồ sơ, tài liệu lưu trữ tại một số đơn vị còn "
        "chậm, chưa đạt chỉ tiêu đề ra.",
        "Để bảo đảm hoàn thành nhiệm vụ phát triển dữ liệu số, Ủy ban nhân dân quận yêu cầu "
        "các đơn vị thực hiện một số nội dung sau:",
        "1. Rà soát toàn bộ hồ sơ, tài liệu đang bảo quản tại đơn vị, lập danh mục hồ sơ đề "
        "nghị số hóa, gửi về Phòng Nội vụ trước ngày 31 tháng 01 năm 2024.",
        "2. Bố trí công chức làm công tác văn thư, lưu trữ phối hợp với đơn vị tư vấn quét, "
        "nhập siêu dữ liệu; bảo đảm hồ sơ sau số hóa được trả lại đúng vị trí trong hộp, kệ.",
        "3. Bản số hóa phải bảo đảm độ phân giải tối thiểu 200 dpi, định dạng PDF, tên tệp "
        "gồm mã hồ sơ và số thứ tự văn bản trong hồ sơ.",
        "4. Định kỳ hằng tháng báo cáo tiến độ về Ủy ban nhân dân quận (qua Phòng Văn hóa và "
        "Thông tin) để tổng hợp.",
        "Ủy ban nhân dân quận yêu cầu Thủ trưởng các đơn vị nghiêm túc triển khai thực hiện./.",
    ],
    signer_prefix=["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH"],
    signer_title="PHÓ CHỦ TỊCH",
    signer_name="Nguyễn Thị Thu Hương",
    recipients=[
        "- Như trên;",
        "- Chủ tịch UBND quận (để b/c);",
        "- Phòng Nội vụ;",
        "- Lưu: VT, VX.",
    ],
)

THONG_BAO_45 = DocumentSpec(
    key="tb-45-pnv",
    doc_type="thong_bao",
    parent="UBND QUẬN BẮC TỪ LIÊM",
    issuer="PHÒNG NỘI VỤ",
    number="45/TB-PNV",
    type_title="THÔNG BÁO",
    subject="Lịch giao nhận hồ sơ, tài liệu nộp lưu vào Kho lưu trữ quận năm 2024",
    place="Bắc Từ Liêm",
    issued_on=date(2024, 3, 15),
    paragraphs=[
        "Căn cứ Luật Lưu trữ ngày 11 tháng 11 năm 2011;",
        "Căn cứ Kế hoạch thu thập hồ sơ, tài liệu vào Kho lưu trữ quận năm 2024 đã được Ủy "
        "ban nhân dân quận phê duyệt;",
        "Phòng Nội vụ thông báo lịch giao nhận hồ sơ, tài liệu nộp lưu như sau:",
        "1. Từ ngày 01 tháng 4 đến ngày 12 tháng 4 năm 2024: Văn phòng HĐND và UBND quận, "
        "Phòng Tư pháp, Phòng Tài chính - Kế hoạch, Thanh tra quận.",
        "2. Từ ngày 15 tháng 4 đến ngày 26 tháng 4 năm 2024: Phòng Tài nguyên và Môi trường, "
        "Phòng Quản lý đô thị, Phòng Kinh tế.",
        "3. Từ ngày 06 tháng 5 đến ngày 17 tháng 5 năm 2024: Ủy ban nhân dân các phường "
        "Thượng Cát, Liên Mạc, Thụy Phương, Tây Tựu, Minh Khai, Phú Diễn, Phúc Diễn.",
        "4. Từ ngày 20 tháng 5 đến ngày 31 tháng 5 năm 2024: Ủy ban nhân dân các phường Đông "
        "Ngạc, Đức Thắng, Xuân Đỉnh, Xuân Tảo, Cổ Nhuế 1, Cổ Nhuế 2.",
        "Hồ sơ giao nộp phải được chỉnh lý hoàn chỉnh, có mục lục hồ sơ và biên bản giao "
        "nhận (02 bản). Địa điểm giao nhận: Kho lưu trữ quận, tầng 1, trụ sở Ủy ban nhân dân "
        "quận.",
        "Đề nghị các đơn vị bố trí cán bộ giao nộp đúng thời gian quy định; nếu có vướng "
        "mắc, liên hệ Phòng Nội vụ để được hướng dẫn./.",
    ],
    signer_title="TRƯỞNG PHÒNG",
    signer_name="Phạm Quang Vinh",
    recipients=["- Các phòng, ban thuộc quận;", "- UBND 13 phường;", "- Lưu: VT."],
)

QUYET_DINH_86 = DocumentSpec(
    key="qd-86-ubnd-cn1",
    doc_type="quyet_dinh",
    parent="UBND QUẬN BẮC TỪ LIÊM",
    issuer="UBND PHƯỜNG CỔ NHUẾ 1",
    number="86/QĐ-UBND",
    type_title="QUYẾT ĐỊNH",
    subject=(
        "Về việc thành lập Tổ số hóa hồ sơ, tài liệu lưu trữ của Ủy ban nhân dân phường Cổ Nhuế 1"
    ),
    place="Cổ Nhuế 1",
    issued_on=date(2024, 2, 5),
    paragraphs=[
        "CHỦ TỊCH ỦY BAN NHÂN DÂN PHƯỜNG CỔ NHUẾ 1",
        "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;",
        "Căn cứ Nghị định số 30/2020/NĐ-CP ngày 05 tháng 3 năm 2020 của Chính phủ về công "
        "tác văn thư;",
        "Căn cứ Công văn số 12/UBND-VX ngày 08 tháng 01 năm 2024 của Ủy ban nhân dân quận "
        "Bắc Từ Liêm về việc đẩy nhanh tiến độ số hóa hồ sơ, tài liệu lưu trữ năm 2024;",
        "Theo đề nghị của công chức Văn phòng - Thống kê phường.",
        "QUYẾT ĐỊNH:",
        "Điều 1. Thành lập Tổ số hóa hồ sơ, tài liệu lưu trữ của Ủy ban nhân dân phường Cổ "
        "Nhuế 1, gồm các ông (bà) có tên sau:",
        "1. Bà Nguyễn Thị Lan, Phó Chủ tịch Ủy ban nhân dân phường, Tổ trưởng;",
        "2. Ông Đỗ Văn Hùng, công chức Văn phòng - Thống kê, Tổ phó;",
        "3. Bà Lê Thị Thanh Mai, nhân viên văn thư, lưu trữ, thành viên;",
        "4. Ông Hoàng Minh Tuấn, công chức Địa chính - Xây dựng, thành viên.",
        "Điều 2. Tổ số hóa có nhiệm vụ rà soát, phân loại, lập danh mục và tổ chức số hóa hồ "
        "sơ, tài liệu lưu trữ của phường từ năm 2014 đến năm 2023; bảo đảm bản số hóa đúng, "
        "đủ, rõ nét và được cập nhật vào cơ sở dữ liệu của quận. Tổ tự giải thể sau khi hoàn "
        "thành nhiệm vụ.",
        "Điều 3. Quyết định này có hiệu lực kể từ ngày ký. Văn phòng Ủy ban nhân dân phường, "
        "các ông (bà) có tên tại Điều 1 chịu trách nhiệm thi hành Quyết định này./.",
    ],
    signer_title="CHỦ TỊCH",
    signer_name="Trần Văn Bình",
    recipients=["- Như Điều 3;", "- UBND quận (để b/c);", "- Phòng Nội vụ quận;", "- Lưu: VT."],
)

BAO_CAO_128 = DocumentSpec(
    key="bc-128-ubnd-xd",
    doc_type="bao_cao",
    issuer="ỦY BAN NHÂN DÂN\nPHƯỜNG XUÂN ĐỈNH",
    number="128/BC-UBND",
    type_title="BÁO CÁO",
    subject="Kết quả số hóa hồ sơ, tài liệu lưu trữ 6 tháng đầu năm 2024",
    place="Xuân Đỉnh",
    issued_on=date(2024, 6, 20),
    urgency="KHẨN",
    paragraphs=[
        "Thực hiện Công văn số 12/UBND-VX ngày 08 tháng 01 năm 2024 của Ủy ban nhân dân quận "
        "Bắc Từ Liêm, Ủy ban nhân dân phường Xuân Đỉnh báo cáo kết quả số hóa hồ sơ, tài liệu "
        "lưu trữ 6 tháng đầu năm 2024 như sau:",
        "I. KẾT QUẢ THỰC HIỆN",
        "1. Tổng số hồ sơ đã rà soát: 1.245 hồ sơ, tương ứng 38.760 trang tài liệu, gồm hồ sơ "
        "hành chính, hồ sơ địa chính và hồ sơ hộ tịch từ năm 2014 đến năm 2023.",
        "2. Số hồ sơ đã số hóa: 412 hồ sơ (12.930 trang), đạt 33% kế hoạch năm; 100% bản số "
        "hóa đạt độ phân giải 300 dpi, định dạng PDF.",
        "3. Số hồ sơ đã nhập siêu dữ liệu và kiểm tra chất lượng: 356 hồ sơ.",
        "II. KHÓ KHĂN, VƯỚNG MẮC",
        "Một số tài liệu giai đoạn trước năm 2015 bị ố vàng, mờ chữ, đóng dấu đè lên chữ ký, "
        "chữ viết tay khó nhận dạng; máy quét hiện có tốc độ thấp, thường xuyên phải bảo trì.",
        "III. ĐỀ XUẤT, KIẾN NGHỊ",
        "Đề nghị Ủy ban nhân dân quận hỗ trợ bổ sung 01 máy quét tài liệu khổ A3 và kinh phí "
        "thuê nhân công nhập liệu trong 6 tháng cuối năm 2024.",
        "Ủy ban nhân dân phường Xuân Đỉnh trân trọng báo cáo./.",
    ],
    signer_prefix=["TM. ỦY BAN NHÂN DÂN"],
    signer_title="CHỦ TỊCH",
    signer_name="Vũ Thị Hồng Nhung",
    recipients=[
        "- UBND quận Bắc Từ Liêm;",
        "- Phòng Văn hóa và Thông tin quận;",
        "- Lưu: VT.",
    ],
)

ADMIN_DOCUMENTS: tuple[DocumentSpec, ...] = (
    KE_HOACH_251,
    CONG_VAN_12,
    THONG_BAO_45,
    QUYET_DINH_86,
    BAO_CAO_128,
)
