"""Content of the sample campaign: a province's 2025 emulation campaign modelled on the seeds."""

from __future__ import annotations

# ---------------------------------------------------------------------------
# 1. Campaign settings: (key, Vietnamese label, value)
# ---------------------------------------------------------------------------
SETTINGS = [
    ("campaign_id", "Mã đợt thi đua", "QT-KTD-2025"),
    ("year", "Năm thi đua", 2025),
    ("level", "Cấp tổ chức", "tỉnh"),
    ("parent_body", "Cơ quan chủ quản", "UBND TỈNH QUẢNG TRỊ"),
    ("issuing_body", "Cơ quan ban hành", "HỘI ĐỒNG THI ĐUA - KHEN THƯỞNG"),
    ("doc_code", "Ký hiệu văn bản của cơ quan trình", "HĐTĐKT"),
    ("place", "Địa danh (ghi ngày tháng)", "Quảng Trị"),
    ("deadline", "Hạn nộp bản tự chấm", "2025-12-10"),
    ("reply_to", "Email nhận bản tự chấm", "thiduakhenthuong@quangtri.gov.vn"),
    ("scale", "Thang điểm", 100),
    ("bonus_cap", "Điểm thưởng tối đa", 5),
    ("deduction_cap", "Điểm trừ tối đa (để trống: không giới hạn)", None),
    ("allow_over_scale", "Tổng điểm được vượt thang điểm", "không"),
    ("rounding", "Số chữ số thập phân khi làm tròn tổng điểm", 2),
    ("grade_excellent", "Xuất sắc: điểm tối thiểu", 95),
    ("grade_good", "Tốt: điểm tối thiểu", 85),
    ("grade_fair", "Khá: điểm tối thiểu", 70),
    ("grade_complete", "Hoàn thành: điểm tối thiểu", 50),
    ("quorum", "Tỷ lệ đơn vị có mặt tối thiểu", "2/3"),
    ("leader_vote_share", "Tỷ lệ phiếu suy tôn dẫn đầu (lớn hơn, %)", 50),
    ("tie_break", "Thứ tự tách đồng hạng", "nhom:I, it_diem_tru, nhieu_diem_thuong, phieu"),
    ("na_policy", "Tiêu chí không áp dụng", "quy_doi"),
    ("review_tolerance", "Chênh lệch điểm thẩm định cần ghi chú", 2),
    ("reform_date", "Ngày chính quyền hai cấp có hiệu lực", "2025-07-01"),
    ("legal_basis", "Căn cứ pháp lý (để trống: theo ngày ký)", None),
    ("head_rotation", "Luân phiên Trưởng khối khi không bầu", "pho_len_truong"),
    ("max_file_mb", "Dung lượng tệp tối đa (MB)", 10),
    ("matrix_blocs", "Số khối tối đa có trang ma trận điểm", 30),
    ("vote_base", "Tỷ lệ phiếu tính trên", "thanh_vien"),
    ("proposal_date", "Ngày ký danh sách đề nghị khen thưởng", "2026-01-05"),
    ("signer_title", "Chức vụ người ký", "CHỦ TỊCH"),
    ("signer_name", "Họ và tên người ký", "Nguyễn Văn Hùng"),
    ("recipients", "Nơi nhận", "Như trên; Ban Thi đua - Khen thưởng, Sở Nội vụ; Các khối thi đua; Lưu: VT, TĐKT"),
    ("mail_from", "Email gửi mẫu", "thiduakhenthuong@quangtri.gov.vn"),
    ("mail_from_name", "Tên người gửi", "Ban Thi đua - Khen thưởng tỉnh Quảng Trị"),
    ("smtp_host", "Máy chủ SMTP", "mail.quangtri.gov.vn"),
    ("smtp_port", "Cổng SMTP", 587),
    ("smtp_security", "Bảo mật SMTP", "starttls"),
    ("smtp_user", "Tài khoản SMTP", "thiduakhenthuong@quangtri.gov.vn"),
    ("mail_trusted", "Email tin cậy", "thiduakhenthuong@quangtri.gov.vn"),
]

# ---------------------------------------------------------------------------
# 2. Emulation blocs: (code, name, head unit code, deputy unit code)
# ---------------------------------------------------------------------------
BLOCS = [
    ("NC", "Khối thi đua Nội chính", "NC04", "NC07"),
    ("KT", "Khối thi đua các sở quản lý kinh tế", "KT01", "KT03"),
    ("VX", "Khối thi đua các sở văn hóa - xã hội", "VX02", "VX03"),
    ("DN", "Khối thi đua các doanh nghiệp nhà nước", "DN01", "DN02"),
]

# ---------------------------------------------------------------------------
# 3. Units: (code, official name, short name, bloc code, email,
#            discipline_review, investigation, inspection, complaint)
# ---------------------------------------------------------------------------
UNITS = [
    # Khối thi đua Nội chính (8)
    ("NC01", "Công an tỉnh Quảng Trị", "Công an tỉnh", "NC", "congantinh@quangtri.gov.vn", "", "", "", ""),
    ("NC02", "Bộ Chỉ huy Quân sự tỉnh Quảng Trị", "Bộ CHQS tỉnh", "NC", "bchqs@quangtri.gov.vn", "", "", "", ""),
    ("NC03", "Bộ Chỉ huy Bộ đội Biên phòng tỉnh Quảng Trị", "Bộ CH BĐBP tỉnh", "NC", "bdbp@quangtri.gov.vn", "", "", "", ""),
    ("NC04", "Viện kiểm sát nhân dân tỉnh Quảng Trị", "Viện KSND tỉnh", "NC", "vksnd@quangtri.gov.vn", "", "", "", ""),
    ("NC05", "Tòa án nhân dân tỉnh Quảng Trị", "TAND tỉnh", "NC", "tand@quangtri.gov.vn", "", "", "", ""),
    ("NC06", "Thanh tra tỉnh Quảng Trị", "Thanh tra tỉnh", "NC", "thanhtra@quangtri.gov.vn", "", "", "", ""),
    ("NC07", "Sở Tư pháp tỉnh Quảng Trị", "Sở Tư pháp", "NC", "stp@quangtri.gov.vn", "", "", "", ""),
    ("NC08", "Cục Thi hành án dân sự tỉnh Quảng Trị", "Cục THADS tỉnh", "NC", "thads@quangtri.gov.vn", "", "", "", ""),
    # Khối thi đua các sở quản lý kinh tế (10)
    ("KT01", "Sở Tài chính tỉnh Quảng Trị", "Sở Tài chính", "KT", "stc@quangtri.gov.vn", "", "", "", ""),
    ("KT02", "Sở Công Thương tỉnh Quảng Trị", "Sở Công Thương", "KT", "sct@quangtri.gov.vn", "", "", "", ""),
    ("KT03", "Sở Nông nghiệp và Môi trường tỉnh Quảng Trị", "Sở NN&MT", "KT", "snnmt@quangtri.gov.vn", "", "", "", ""),
    ("KT04", "Sở Xây dựng tỉnh Quảng Trị", "Sở Xây dựng", "KT", "sxd@quangtri.gov.vn", "", "", "", ""),
    ("KT05", "Sở Khoa học và Công nghệ tỉnh Quảng Trị", "Sở KH&CN", "KT", "skhcn@quangtri.gov.vn", "", "", "", ""),
    ("KT06", "Ban Quản lý Khu kinh tế tỉnh Quảng Trị", "BQL Khu kinh tế", "KT", "bqlkkt@quangtri.gov.vn", "", "", "", ""),
    ("KT07", "Thuế tỉnh Quảng Trị", "Thuế tỉnh", "KT", "thuetinh@quangtri.gov.vn", "", "", "", ""),
    ("KT08", "Quỹ Đầu tư phát triển tỉnh Quảng Trị", "Quỹ ĐTPT tỉnh", "KT", "quydtpt@quangtri.gov.vn", "", "", "", ""),
    ("KT09", "Ban Quản lý dự án đầu tư xây dựng các công trình giao thông tỉnh Quảng Trị", "BQLDA Giao thông", "KT", "bqldagt@quangtri.gov.vn", "", "x", "", ""),
    ("KT10", "Ban Quản lý dự án đầu tư xây dựng các công trình dân dụng và công nghiệp tỉnh Quảng Trị", "BQLDA DD&CN", "KT", "bqldadd@quangtri.gov.vn", "", "", "", ""),
    # Khối thi đua các sở văn hóa - xã hội (10)
    ("VX01", "Sở Giáo dục và Đào tạo tỉnh Quảng Trị", "Sở GD&ĐT", "VX", "sgddt@quangtri.gov.vn", "", "", "", ""),
    ("VX02", "Sở Y tế tỉnh Quảng Trị", "Sở Y tế", "VX", "syt@quangtri.gov.vn", "", "", "", ""),
    ("VX03", "Sở Văn hóa, Thể thao và Du lịch tỉnh Quảng Trị", "Sở VHTT&DL", "VX", "svhttdl@quangtri.gov.vn", "", "", "", ""),
    ("VX04", "Sở Nội vụ tỉnh Quảng Trị", "Sở Nội vụ", "VX", "snv@quangtri.gov.vn", "", "", "", ""),
    ("VX05", "Sở Dân tộc và Tôn giáo tỉnh Quảng Trị", "Sở DT&TG", "VX", "sdttg@quangtri.gov.vn", "", "", "", ""),
    ("VX06", "Bảo hiểm xã hội tỉnh Quảng Trị", "BHXH tỉnh", "VX", "bhxh@quangtri.gov.vn", "", "", "", ""),
    ("VX07", "Báo và Phát thanh, Truyền hình Quảng Trị", "Báo và PT-TH", "VX", "baoptth@quangtri.gov.vn", "", "", "", ""),
    ("VX08", "Trung tâm Kiểm soát bệnh tật tỉnh Quảng Trị", "CDC tỉnh", "VX", "cdc@quangtri.gov.vn", "", "", "", ""),
    ("VX09", "Bệnh viện Đa khoa tỉnh Quảng Trị", "BVĐK tỉnh", "VX", "bvdk@quangtri.gov.vn", "", "", "", ""),
    ("VX10", "Trường Cao đẳng Quảng Trị", "Trường CĐ Quảng Trị", "VX", "truongcd@quangtri.gov.vn", "", "", "", ""),
    # Khối thi đua các doanh nghiệp nhà nước (3)
    ("DN01", "Công ty TNHH MTV Xổ số kiến thiết Quảng Trị", "Công ty XSKT", "DN", "xskt@quangtri.gov.vn", "", "", "", ""),
    ("DN02", "Công ty TNHH MTV Quản lý khai thác công trình thủy lợi Quảng Trị", "Công ty Thủy lợi", "DN", "ctthuyloi@quangtri.gov.vn", "", "", "", ""),
    ("DN03", "Công ty TNHH MTV Lâm nghiệp Bến Hải", "Công ty LN Bến Hải", "DN", "lnbenhai@quangtri.gov.vn", "", "", "", ""),
]

# ---------------------------------------------------------------------------
# 4. Criteria: (code, group, text, kind, max_points, step, target, applies_to,
#               explanation)
# kind: "" (group or internal node), "điểm", "đạt/không đạt", "chỉ tiêu",
#       "trừ điểm" (max = points available, step = points per occurrence)
# explanation: "", "luôn", "khi chưa tối đa"
# ---------------------------------------------------------------------------
CRITERIA = [
    # I. 60 điểm
    ("I", "I", "Thực hiện nhiệm vụ chính trị, chuyên môn được giao", "", 60, None, None, "", ""),
    ("I.1", "I", "Kết quả thực hiện các chỉ tiêu, nhiệm vụ trọng tâm năm 2025", "", 30, None, None, "", ""),
    ("I.1.a", "I", "Tỷ lệ hoàn thành các chỉ tiêu, nhiệm vụ được UBND tỉnh giao trong năm (%)", "chỉ tiêu", 10, None, 100, "", "khi chưa tối đa"),
    ("I.1.b", "I", "Số nhiệm vụ trọng tâm đã đăng ký thi đua đầu năm được hoàn thành (nhiệm vụ)", "chỉ tiêu", 8, None, 10, "", ""),
    ("I.1.c", "I", "Chất lượng, hiệu quả thực hiện nhiệm vụ chuyên môn thuộc ngành, lĩnh vực phụ trách", "điểm", 12, 0.5, None, "", "khi chưa tối đa"),
    ("I.2", "I", "Công tác tham mưu, chỉ đạo, điều hành", "", 15, None, None, "", ""),
    ("I.2.a", "I", "Tham mưu ban hành văn bản chỉ đạo, điều hành theo Chương trình công tác năm 2025 của UBND tỉnh", "điểm", 6, 0.5, None, "", ""),
    ("I.2.b", "I", "Ban hành kế hoạch công tác năm 2025 của cơ quan, đơn vị đúng thời hạn", "đạt/không đạt", 3, None, None, "", ""),
    ("I.2.c", "I", "Thực hiện nhiệm vụ đột xuất do Tỉnh ủy, UBND tỉnh giao", "điểm", 6, 0.25, None, "", "luôn"),
    ("I.3", "I", "Tỷ lệ hồ sơ thủ tục hành chính được giải quyết đúng hạn và trước hạn (%)", "chỉ tiêu", 5, None, 100, "KT, VX, NC01, NC07", ""),
    ("I.4", "I", "Công tác thanh tra, kiểm tra; tiếp công dân, giải quyết khiếu nại, tố cáo thuộc thẩm quyền", "điểm", 5, 0.5, None, "", "khi chưa tối đa"),
    ("I.5", "I", "Nhiệm vụ UBND tỉnh giao bị quá hạn xử lý trên Hệ thống quản lý văn bản và điều hành (trừ 0,5 điểm/nhiệm vụ)", "trừ điểm", 5, 0.5, None, "", "luôn"),
    # II. 20 điểm
    ("II", "II", "Công tác xây dựng Đảng, đoàn thể; cải cách hành chính, chuyển đổi số", "", 20, None, None, "", ""),
    ("II.1", "II", "Công tác xây dựng Đảng và các đoàn thể", "", 8, None, None, "", ""),
    ("II.1.a", "II", "Tổ chức đảng của cơ quan, đơn vị được xếp loại \"Hoàn thành tốt nhiệm vụ\" trở lên", "đạt/không đạt", 3, None, None, "", "khi chưa tối đa"),
    ("II.1.b", "II", "Công đoàn cơ sở, Đoàn Thanh niên, Hội Cựu chiến binh cơ quan hoàn thành tốt nhiệm vụ", "điểm", 3, 0.5, None, "", ""),
    ("II.1.c", "II", "Học tập, quán triệt nghị quyết của Đảng; thực hiện Chỉ thị số 05-CT/TW của Bộ Chính trị", "điểm", 2, 0.5, None, "", ""),
    ("II.2", "II", "Cải cách hành chính", "", 6, None, None, "", ""),
    ("II.2.a", "II", "Thực hiện kế hoạch cải cách hành chính; rà soát, đơn giản hóa thủ tục hành chính", "điểm", 3, 0.5, None, "", ""),
    ("II.2.b", "II", "Chấp hành chế độ công vụ, văn hóa công sở; giao tiếp, ứng xử chuẩn mực với tổ chức, cá nhân", "đạt/không đạt", 3, None, None, "", ""),
    ("II.3", "II", "Chuyển đổi số", "", 6, None, None, "", ""),
    ("II.3.a", "II", "Tỷ lệ văn bản đi được ký số và gửi, nhận trên môi trường điện tử (trừ văn bản mật) (%)", "chỉ tiêu", 3, None, 95, "", ""),
    ("II.3.b", "II", "Ứng dụng công nghệ thông tin, khai thác cơ sở dữ liệu phục vụ chỉ đạo, điều hành; thực hiện Đề án 06", "điểm", 3, 0.5, None, "", ""),
    # III. 10 điểm
    ("III", "III", "Thực hành tiết kiệm, chống lãng phí; phòng, chống tham nhũng, tiêu cực; chấp hành kỷ luật, kỷ cương", "", 10, None, None, "", ""),
    ("III.1", "III", "Xây dựng và thực hiện Chương trình thực hành tiết kiệm, chống lãng phí năm 2025", "điểm", 3, 0.5, None, "", ""),
    ("III.2", "III", "Công khai, minh bạch tài chính, tài sản công; kê khai tài sản, thu nhập đúng quy định", "đạt/không đạt", 2, None, None, "", ""),
    ("III.3", "III", "Thực hiện các biện pháp phòng ngừa tham nhũng, tiêu cực; kiểm soát xung đột lợi ích", "điểm", 2, 0.5, None, "", ""),
    ("III.4", "III", "Cán bộ, công chức, viên chức vi phạm kỷ luật lao động, văn hóa công vụ bị nhắc nhở bằng văn bản (trừ 1 điểm/trường hợp)", "trừ điểm", 3, 1, None, "", "luôn"),
    # IV. 10 điểm
    ("IV", "IV", "Công tác thi đua, khen thưởng và tham gia hoạt động của khối", "", 10, None, None, "", ""),
    ("IV.1", "IV", "Ban hành kế hoạch, phát động phong trào thi đua; đăng ký thi đua và ký kết giao ước thi đua đúng hạn", "đạt/không đạt", 2, None, None, "", ""),
    ("IV.2", "IV", "Phát hiện, bồi dưỡng, nhân rộng điển hình tiên tiến; hồ sơ đề nghị khen thưởng đúng quy định", "điểm", 3, 0.5, None, "", "khi chưa tối đa"),
    ("IV.3", "IV", "Tham gia đầy đủ hội nghị, hoạt động giao lưu, kiểm tra chéo do khối tổ chức", "điểm", 3, 1, None, "", ""),
    ("IV.4", "IV", "Chậm gửi báo cáo, hồ sơ thi đua cho Trưởng khối (trừ 0,5 điểm/lần)", "trừ điểm", 2, 0.5, None, "", ""),
]

# ---------------------------------------------------------------------------
# 5. Bonus and deduction items: (code, kind, text, points per occurrence, cap)
# ---------------------------------------------------------------------------
BONUS_DEDUCTIONS = [
    ("T1", "thưởng", "Hoàn thành xuất sắc nhiệm vụ đột xuất do Tỉnh ủy, UBND tỉnh giao, được ghi nhận bằng văn bản", 1, 2),
    ("T2", "thưởng", "Được Thủ tướng Chính phủ, Bộ, ngành Trung ương tặng Cờ thi đua hoặc Bằng khen trong năm", 1, 2),
    ("T3", "thưởng", "Có sáng kiến, giải pháp được Hội đồng sáng kiến tỉnh công nhận có phạm vi ảnh hưởng cấp tỉnh", 0.5, 1.5),
    ("T4", "thưởng", "Đăng cai tổ chức hội nghị, hoạt động giao lưu, kiểm tra chéo của khối", 1, 1),
    ("D1", "trừ", "Bị UBND tỉnh, Chủ tịch UBND tỉnh phê bình bằng văn bản", 1, 3),
    ("D2", "trừ", "Có cán bộ, công chức, viên chức, người lao động bị xử lý kỷ luật từ hình thức khiển trách trở lên", 0.5, 2),
    ("D3", "trừ", "Để xảy ra khiếu nại, tố cáo đông người, vượt cấp thuộc phạm vi quản lý", 2, 4),
]

# ---------------------------------------------------------------------------
# 6. Award rules
# ---------------------------------------------------------------------------
AWARD_RULES = [
    {
        "code": "CO_TINH",
        "award": "Cờ thi đua của UBND tỉnh",
        "issuer": "Chủ tịch UBND tỉnh",
        "issuer_before_reform": "",
        "priority": 1,
        "rank_from": 1,
        "rank_to": 1,
        "top_share": None,
        "min_grade": "Xuất sắc",
        "min_score": None,
        "min_vote_share": 50,
        "must_register": "x",
        "quota": 1,
        "quota_share": None,
        "quota_rounding": "",
        "conditions": "",
    },
    {
        "code": "BK_TINH",
        "award": "Bằng khen của Chủ tịch UBND tỉnh",
        "issuer": "Chủ tịch UBND tỉnh",
        "issuer_before_reform": "",
        "priority": 2,
        "rank_from": 2,
        "rank_to": 3,
        "top_share": None,
        "min_grade": "Tốt",
        "min_score": None,
        "min_vote_share": None,
        "must_register": "",
        "quota": None,
        "quota_share": 20,
        "quota_rounding": "lên",
        "conditions": "",
    },
    {
        "code": "GIAY_KHEN",
        "award": "Giấy khen",
        "issuer": "Giám đốc Sở Nội vụ",
        "issuer_before_reform": "Chủ tịch UBND huyện",
        "priority": 3,
        "rank_from": None,
        "rank_to": None,
        "top_share": 50,
        "min_grade": "Tốt",
        "min_score": 85,
        "min_vote_share": None,
        "must_register": "",
        "quota": None,
        "quota_share": None,
        "quota_rounding": "",
        "conditions": "",
    },
    {
        "code": "BK_TINH",
        "award": "Bằng khen của Chủ tịch UBND tỉnh",
        "issuer": "Chủ tịch UBND tỉnh",
        "issuer_before_reform": "",
        "priority": 2,
        "rank_from": None,
        "rank_to": None,
        "top_share": None,
        "min_grade": "Xuất sắc",
        "min_score": None,
        "min_vote_share": None,
        "must_register": "",
        "quota": None,
        "quota_share": None,
        "quota_rounding": "",
        "conditions": "lien_tuc_xuat_sac=2",
    },
]

# ---------------------------------------------------------------------------
# 7. History: (unit code, year, kind, value, revoked)
# kind: "xếp loại" (value = grade) or "khen thưởng" (value = award name)
# Two excellent years in a row (2024 here, 2025 in the returns) earn the certificate of merit (rule
# lien_tuc_xuat_sac=2) outside the ranks it is given for: KT03, 4th of its bloc, and DN01, first of its bloc
# but not registered for the flag. VX06's certificate of 2024 was revoked (false declaration).
# ---------------------------------------------------------------------------
HISTORY = [
    # 2023
    ("NC04", 2023, "xếp loại", "Xuất sắc", ""),
    ("NC04", 2023, "khen thưởng", "Cờ thi đua của UBND tỉnh", ""),
    ("NC01", 2023, "xếp loại", "Tốt", ""),
    ("KT01", 2023, "xếp loại", "Xuất sắc", ""),
    ("KT01", 2023, "khen thưởng", "Cờ thi đua của UBND tỉnh", ""),
    ("KT03", 2023, "xếp loại", "Tốt", ""),
    ("KT06", 2023, "khen thưởng", "Giấy khen", ""),
    ("VX02", 2023, "xếp loại", "Xuất sắc", ""),
    ("VX02", 2023, "khen thưởng", "Cờ thi đua của UBND tỉnh", ""),
    ("VX05", 2023, "xếp loại", "Khá", ""),
    ("DN01", 2023, "xếp loại", "Tốt", ""),
    ("DN02", 2023, "xếp loại", "Xuất sắc", ""),
    ("DN02", 2023, "khen thưởng", "Cờ thi đua của UBND tỉnh", ""),
    # 2024
    ("NC04", 2024, "xếp loại", "Xuất sắc", ""),
    ("NC01", 2024, "xếp loại", "Xuất sắc", ""),
    ("NC01", 2024, "khen thưởng", "Cờ thi đua của UBND tỉnh", ""),
    ("NC05", 2024, "khen thưởng", "Bằng khen của Chủ tịch UBND tỉnh", ""),
    ("NC07", 2024, "xếp loại", "Tốt", ""),
    ("KT01", 2024, "xếp loại", "Xuất sắc", ""),
    ("KT01", 2024, "khen thưởng", "Bằng khen của Chủ tịch UBND tỉnh", ""),
    ("KT03", 2024, "xếp loại", "Xuất sắc", ""),
    ("KT03", 2024, "khen thưởng", "Cờ thi đua của UBND tỉnh", ""),
    ("KT02", 2024, "xếp loại", "Tốt", ""),
    ("KT09", 2024, "xếp loại", "Tốt", ""),
    ("VX01", 2024, "xếp loại", "Xuất sắc", ""),
    ("VX01", 2024, "khen thưởng", "Cờ thi đua của UBND tỉnh", ""),
    ("VX02", 2024, "xếp loại", "Xuất sắc", ""),
    ("VX03", 2024, "xếp loại", "Tốt", ""),
    ("VX03", 2024, "khen thưởng", "Giấy khen", ""),
    ("VX06", 2024, "khen thưởng", "Bằng khen của Chủ tịch UBND tỉnh", "x"),
    ("VX10", 2024, "xếp loại", "Hoàn thành", ""),
    ("DN01", 2024, "xếp loại", "Xuất sắc", ""),
    ("DN01", 2024, "khen thưởng", "Cờ thi đua của UBND tỉnh", ""),
    ("DN02", 2024, "xếp loại", "Tốt", ""),
]

# ---------------------------------------------------------------------------
# 8. Registrations at the start of the year: unit code -> award codes
# As in the seeds, every unit registers for the provincial flag, most also for the chairman's certificate of
# merit, the smaller ones for the lower certificate. Two exceptions the results show:
# - DN01 (flag 2024) registered for the certificate of merit only: first of its bloc in 2025, it is held back
#   from the flag ("không đăng ký") and proposed for the certificate through two excellent years;
# - KT07 (Thuế tỉnh, a central agency rewarded by its ministry) registered for the lower certificate only: ranked
#   3rd, it is proposed for the certificate of merit, a title above what it registered for, with the warning
#   "chưa đăng ký". (Units that registered for the flag and are proposed for a certificate get no warning.)
# ---------------------------------------------------------------------------
REGISTRATIONS = {
    "NC01": ["CO_TINH", "BK_TINH"],
    "NC02": ["CO_TINH", "BK_TINH", "GIAY_KHEN"],
    "NC03": ["CO_TINH", "GIAY_KHEN"],
    "NC04": ["CO_TINH", "BK_TINH"],
    "NC05": ["CO_TINH", "BK_TINH"],
    "NC06": ["CO_TINH", "GIAY_KHEN"],
    "NC07": ["CO_TINH", "BK_TINH"],
    "NC08": ["CO_TINH", "GIAY_KHEN"],
    "KT01": ["CO_TINH", "BK_TINH"],
    "KT02": ["CO_TINH", "BK_TINH", "GIAY_KHEN"],
    "KT03": ["CO_TINH", "BK_TINH"],
    "KT04": ["CO_TINH", "GIAY_KHEN"],
    "KT05": ["CO_TINH", "BK_TINH", "GIAY_KHEN"],
    "KT06": ["CO_TINH", "BK_TINH"],
    "KT07": ["GIAY_KHEN"],
    "KT08": ["CO_TINH", "GIAY_KHEN"],
    "KT09": ["CO_TINH", "BK_TINH"],
    "KT10": ["CO_TINH", "GIAY_KHEN"],
    "VX01": ["CO_TINH", "BK_TINH", "GIAY_KHEN"],
    "VX02": ["CO_TINH", "BK_TINH", "GIAY_KHEN"],
    "VX03": ["CO_TINH", "BK_TINH"],
    "VX04": ["CO_TINH", "BK_TINH", "GIAY_KHEN"],
    "VX05": ["CO_TINH", "GIAY_KHEN"],
    "VX06": ["CO_TINH", "BK_TINH"],
    "VX07": ["CO_TINH", "GIAY_KHEN"],
    "VX08": ["CO_TINH", "BK_TINH"],
    "VX09": ["CO_TINH", "GIAY_KHEN"],
    "VX10": ["CO_TINH", "GIAY_KHEN"],
    "DN01": ["BK_TINH"],
    "DN02": ["CO_TINH", "BK_TINH"],
    "DN03": ["CO_TINH", "GIAY_KHEN"],
}

# ---------------------------------------------------------------------------
# 9. Strength profiles used to generate self scores (0.80 .. 0.99; see build.py):
# about 0.93 and up gives 95+ (Xuất sắc), 0.88-0.92 85-94 (Tốt), lower 70-84 (Khá).
# Equal profiles in a bloc give equal scores: NC01 = NC07 (their bonus and deduction items then
# cancel out: a tie the chain breaks), VX01 = VX02 (a tie left to the conference).
# ---------------------------------------------------------------------------
PROFILES = {
    "NC01": 0.94,
    "NC02": 0.90,
    "NC03": 0.89,
    "NC04": 0.95,
    "NC05": 0.92,
    "NC06": 0.86,
    "NC07": 0.94,
    "NC08": 0.83,
    "KT01": 0.95,
    "KT02": 0.91,
    "KT03": 0.90,
    "KT04": 0.87,
    "KT05": 0.88,
    "KT06": 0.92,
    "KT07": 0.93,
    "KT08": 0.85,
    "KT09": 0.96,
    "KT10": 0.82,
    "VX01": 0.91,
    "VX02": 0.91,
    "VX03": 0.94,
    "VX04": 0.90,
    "VX05": 0.87,
    "VX06": 0.93,
    "VX07": 0.86,
    "VX08": 0.89,
    "VX09": 0.84,
    "VX10": 0.81,
    "DN01": 0.95,
    "DN02": 0.90,
    "DN03": 0.84,
}
