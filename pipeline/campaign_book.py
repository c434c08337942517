"""Covenant writing: campaign content (rows per sheet) -> campaign.xlsx with instructions and dropdowns."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import copy

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from schemas import campaign as S

from .campaign import AWARDS, EXAMPLE_MARK, SETTINGS

FONT = "Times New Roman"
# A fixed creation date keeps the file byte-identical from run to run.
CREATED = dt.datetime(2025, 1, 1)

INSTRUCTIONS = [
    "HƯỚNG DẪN LẬP BỘ TIÊU CHÍ THI ĐUA (campaign.xlsx)",
    "",
    "Tệp này mô tả toàn bộ đợt thi đua của năm; phần mềm thidua đọc từ đây, không cần sửa mã nguồn.",
    "• Thiết lập: mỗi dòng một thông số (cột Mã giữ nguyên, chỉ sửa cột Giá trị). Ngày ký (proposal_date) quyết định",
    "  cấp khen và căn cứ pháp lý; doc_code là ký hiệu văn bản ghi sau “TTr-” trong dòng “Kèm theo Tờ trình số …”.",
    "• Khối: mã, tên khối, Trưởng khối và Phó khối (ghi mã đơn vị thành viên của khối).",
    "• Đơn vị: mỗi đơn vị một dòng; đánh dấu x ở các cột Đang xem xét kỷ luật, Đang điều tra, Đang thanh tra,",
    "  Khiếu nại chưa giải quyết nếu có (đơn vị đó không được đề nghị khen thưởng theo Nghị định 152/2025).",
    "• Tiêu chí: mã dạng cây I, I.1, I.1.a; dòng nhóm (có mục con) để trống cột Loại; điểm tối đa của các mục con",
    "  cộng lại bằng mục cha, các nhóm cộng lại bằng thang điểm. Loại: điểm (chấm theo bước điểm),",
    "  đạt/không đạt (tối đa hoặc 0), chỉ tiêu (đơn vị nhập kết quả, phần mềm tính điểm theo chỉ tiêu),",
    "  trừ điểm (đơn vị nhập số lần vi phạm, mỗi lần trừ Bước điểm). Áp dụng cho: để trống là tất cả,",
    "  hoặc ghi mã khối/mã đơn vị cách nhau bởi dấu phẩy.",
    "• Thưởng - Trừ: các khoản điểm thưởng, điểm trừ đơn vị tự kê khai, với điểm mỗi lần và mức tối đa.",
    "• Khen thưởng: quy tắc đề nghị từng hình thức khen thưởng (hạng, xếp loại, phiếu, số lượng, điều kiện).",
    "  Mã khen thưởng do đợt thi đua tự đặt (CO_TINH, BK_TINH, GIAY_KHEN... chỉ là gợi ý); các dòng cùng mã là",
    "  các cách khác nhau để được cùng một hình thức. Thứ tự ưu tiên 1 là cao nhất; mỗi đơn vị chỉ nhận hình thức",
    "  cao nhất mà đơn vị đạt.",
    "• Lịch sử: xếp loại (Xuất sắc, Tốt, Khá, Hoàn thành, Chưa hoàn thành) và khen thưởng (mã hoặc tên hình thức)",
    "  các năm trước. Đăng ký: mã khen thưởng (ở trang Khen thưởng) đơn vị đăng ký đầu năm; đăng ký hình thức cao",
    "  hơn được tính là đã đăng ký các hình thức thấp hơn.",
    "• Giá trị chọn từ danh sách (Loại, Xếp loại, Làm tròn, x...) được nhận cả khi gõ khác chữ hoa/thường, thừa",
    "  dấu cách hay không dấu; giá trị không khớp bị báo lỗi đúng ô. Cột đánh dấu: x (hoặc “có”) hoặc để trống.",
    "",
    f"Các dòng có chữ “{EXAMPLE_MARK}” và các mã VD, VD01... là dòng VÍ DỤ của mẫu trắng: sửa thành của đợt thi đua",
    f"(bỏ chữ “{EXAMPLE_MARK}”, đổi mã) hoặc xóa dòng. Còn dòng ví dụ thì thidua check báo lỗi.",
    "",
    "Sau khi sửa, chạy: thidua check <thư mục đợt thi đua> để kiểm tra.",
]

# Dropdown lists per column name, where the values are fixed.
CHOICES = {
    ("Tiêu chí", "kind"): list(S.KINDS),
    ("Tiêu chí", "explanation"): [e for e in S.EXPLANATION if e],
    ("Thưởng - Trừ", "kind"): list(S.ITEM_KINDS),
    ("Khen thưởng", "min_grade"): list(S.GRADES),
    ("Khen thưởng", "must_register"): ["x"],
    ("Khen thưởng", "quota_rounding"): ["lên", "xuống", "gần nhất"],
    ("Lịch sử", "kind"): list(S.HISTORY_KINDS),
    ("Lịch sử", "revoked"): ["x"],
    ("Đơn vị", "discipline"): ["x"], ("Đơn vị", "investigation"): ["x"],
    ("Đơn vị", "inspection"): ["x"], ("Đơn vị", "complaint"): ["x"],
}
# Columns whose dropdown only suggests: any other value may be typed (the campaign's own award codes).
SUGGEST = {("Khen thưởng", "code"): list(AWARDS)}
WIDE = {"name": 48, "text": 60, "award": 36, "issuer": 26, "issuer_before_reform": 26, "label": 48, "email": 30,
        "value": 44, "conditions": 24}


def write_campaign(path: Path, content: dict[str, list[dict]]) -> Path:
    """Write campaign.xlsx; `content` maps a sheet name to its rows (dicts by column name).

    The `Thiết lập` rows are {'key', 'value'}; their labels come from the settings table.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False})
    wb.set_properties({"title": "Bộ tiêu chí thi đua", "created": CREATED})
    base = {"font_name": FONT, "font_size": 12, "valign": "top"}
    fmt = {
        "title": wb.add_format({**base, "bold": True, "font_size": 14}),
        "text": wb.add_format({**base}),
        "wrap": wb.add_format({**base, "text_wrap": True}),
        "head": wb.add_format({**base, "bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True}),
        "date": wb.add_format({**base, "num_format": "dd/mm/yyyy", "align": "left"}),
    }
    ws = wb.add_worksheet("Hướng dẫn")
    ws.set_column(0, 0, 120, fmt["text"])
    for r, line in enumerate(INSTRUCTIONS):
        ws.write_string(r, 0, line, fmt["title"] if r == 0 else fmt["text"])
    for schema in S.SHEETS:
        rows = content.get(schema.name, [])
        if schema is S.SETTINGS:
            given = {r["key"]: r["value"] for r in rows}
            rows = [{"key": k, "label": label, "value": given.get(k)} for k, (label, _, _) in SETTINGS.items()
                    if k in given]
        ws = _sheet(wb, fmt, schema, rows)
        if schema is S.SETTINGS:
            _setting_choices(ws, rows)
    wb.close()
    return path


def _sheet(wb, fmt, schema, rows: list[dict]) -> None:
    ws = wb.add_worksheet(schema.name)
    names = list(schema.columns)
    for c, name in enumerate(names):
        ws.write_string(0, c, schema.columns[name].title, fmt["head"])
        ws.set_column(c, c, WIDE.get(name, 14), fmt["wrap"] if name in WIDE else fmt["text"])
    for r, row in enumerate(rows, start=1):
        for c, name in enumerate(names):
            value = row.get(name)
            if value is None or value == "":
                continue
            if isinstance(value, (dt.date, dt.datetime)):
                ws.write_datetime(r, c, dt.datetime.combine(value, dt.time()) if not isinstance(value, dt.datetime) else value, fmt["date"])
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                ws.write_number(r, c, value)
            else:
                ws.write_string(r, c, str(value))
        ws.set_row(r, None)
    last = max(len(rows) + 200, 500)
    for c, name in enumerate(names):
        choices = CHOICES.get((schema.name, name))
        if choices:
            ws.data_validation(1, c, last, c, {"validate": "list", "source": choices, "ignore_blank": True,
                                               "error_title": "Giá trị không hợp lệ",
                                               "error_message": "Chọn một giá trị trong danh sách."})
        suggest = SUGGEST.get((schema.name, name))
        if suggest:
            ws.data_validation(1, c, last, c, {"validate": "list", "source": suggest, "ignore_blank": True,
                                               "error_type": "information", "error_title": "Mã mới",
                                               "error_message": "Mã không có trong gợi ý: dùng được nếu đó là mã "
                                                                "của đợt thi đua."})
    if schema is S.REGISTRATIONS:  # the codes of the award rules on Khen thưởng
        code = xl_col_to_name(list(S.AWARD_RULES.columns).index("code"))
        c = names.index("award")
        ws.data_validation(1, c, last, c, {"validate": "list", "ignore_blank": True, "error_type": "warning",
                                           "source": f"='{S.AWARD_RULES.name}'!${code}$2:${code}${last + 1}",
                                           "error_title": "Mã khen thưởng",
                                           "error_message": "Dùng một mã ở cột Mã khen thưởng của trang Khen thưởng."})
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(len(rows), 1), len(names) - 1)
    return ws


def _setting_choices(ws, rows: list[dict]) -> None:
    """A dropdown on the value of each setting that takes one of a few words (level, smtp_security, ...)."""
    column = list(S.SETTINGS.columns).index("value")
    for r, row in enumerate(rows, start=1):
        choices = getattr(SETTINGS[row["key"]][1], "choices", None)
        if choices:
            ws.data_validation(r, column, r, column, {"validate": "list", "source": list(choices),
                                                      "error_title": "Giá trị không hợp lệ",
                                                      "error_message": "Chọn một giá trị trong danh sách."})


# The blank master's example rows: a complete small covenant the officer overwrites.
EXAMPLE = {
    "Thiết lập": [{"key": k, "value": v} for k, v in (
        ("campaign_id", "KTD-2026"), ("year", 2026), ("level", "tỉnh"), ("parent_body", "UBND TỈNH ..."),
        ("issuing_body", "HỘI ĐỒNG THI ĐUA - KHEN THƯỞNG"), ("doc_code", "HĐTĐKT"), ("place", "..."), ("deadline", "2026-12-10"),
        ("reply_to", "thiduakhenthuong@example.gov.vn"), ("scale", 100), ("bonus_cap", 5), ("deduction_cap", None),
        ("allow_over_scale", "không"), ("rounding", 2), ("grade_excellent", 95), ("grade_good", 85),
        ("grade_fair", 70), ("grade_complete", 50), ("quorum", "2/3"), ("leader_vote_share", 50),
        ("tie_break", "nhom:I, it_diem_tru, nhieu_diem_thuong, phieu"), ("na_policy", "quy_doi"),
        ("review_tolerance", 2), ("reform_date", "2025-07-01"), ("legal_basis", None), ("head_rotation", "pho_len_truong"),
        ("max_file_mb", 10), ("matrix_blocs", 30), ("vote_base", "thanh_vien"), ("proposal_date", None), ("signer_title", "CHỦ TỊCH"),
        ("signer_name", ""), ("recipients", "Lưu: VT, TĐKT"),
        ("mail_from", "thiduakhenthuong@example.gov.vn"), ("mail_from_name", "Ban Thi đua - Khen thưởng"),
        ("smtp_host", "mail.example.gov.vn"), ("smtp_port", None), ("smtp_security", "starttls"),
        ("smtp_user", "thiduakhenthuong@example.gov.vn"), ("mail_trusted", "thiduakhenthuong@example.gov.vn"),
        ("claim_policy", "cat"))],
    "Khối": [{"code": "K1", "name": "Khối các sở tổng hợp", "head": "DV01", "deputy": "DV02"}],
    "Đơn vị": [
        {"code": "DV01", "name": "Sở Nội vụ", "short_name": "Sở Nội vụ", "bloc": "K1", "email": "snv@example.gov.vn"},
        {"code": "DV02", "name": "Sở Tài chính", "short_name": "Sở Tài chính", "bloc": "K1", "email": "stc@example.gov.vn"},
        {"code": "DV03", "name": "Sở Tư pháp", "short_name": "Sở Tư pháp", "bloc": "K1", "email": "stp@example.gov.vn"},
    ],
    "Tiêu chí": [
        {"code": "I", "group": "I", "text": "Thực hiện nhiệm vụ chính trị, chuyên môn", "max": 60},
        {"code": "I.1", "group": "I", "text": "Tỷ lệ hoàn thành chỉ tiêu được giao (%)", "kind": "chỉ tiêu", "max": 30, "target": 100},
        {"code": "I.2", "group": "I", "text": "Chất lượng thực hiện nhiệm vụ chuyên môn", "kind": "điểm", "max": 30, "step": 0.5,
         "explanation": "khi chưa tối đa"},
        {"code": "II", "group": "II", "text": "Xây dựng Đảng, đoàn thể, cải cách hành chính", "max": 30},
        {"code": "II.1", "group": "II", "text": "Tổ chức đảng xếp loại Hoàn thành tốt nhiệm vụ trở lên", "kind": "đạt/không đạt", "max": 10},
        {"code": "II.2", "group": "II", "text": "Cải cách hành chính, chuyển đổi số", "kind": "điểm", "max": 20, "step": 0.5},
        {"code": "III", "group": "III", "text": "Công tác thi đua, khen thưởng", "max": 10},
        {"code": "III.1", "group": "III", "text": "Tham gia hoạt động của khối", "kind": "điểm", "max": 8, "step": 1},
        {"code": "III.2", "group": "III", "text": "Chậm gửi báo cáo (trừ 0,5 điểm/lần)", "kind": "trừ điểm", "max": 2, "step": 0.5},
    ],
    "Thưởng - Trừ": [
        {"code": "T1", "kind": "thưởng", "text": "Hoàn thành xuất sắc nhiệm vụ đột xuất", "points": 1, "cap": 3},
        {"code": "D1", "kind": "trừ", "text": "Bị phê bình bằng văn bản", "points": 1, "cap": 3},
    ],
    "Khen thưởng": [
        {"code": "CO_TINH", "award": "Cờ thi đua của UBND tỉnh", "issuer": "Chủ tịch UBND tỉnh", "priority": 1,
         "rank_from": 1, "rank_to": 1, "min_grade": "Xuất sắc", "min_vote_share": 50, "quota": 1},
        {"code": "BK_TINH", "award": "Bằng khen của Chủ tịch UBND tỉnh", "issuer": "Chủ tịch UBND tỉnh", "priority": 2,
         "rank_from": 2, "rank_to": 3, "min_grade": "Tốt", "quota_share": 20, "quota_rounding": "lên"},
    ],
    "Lịch sử": [{"unit": "DV01", "year": 2025, "kind": "xếp loại", "value": "Xuất sắc"}],
    "Đăng ký": [{"unit": "DV01", "award": "CO_TINH"}],
}


def marked(content: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """The content as the blank master ships it: every example row marked (texts end in “(ví dụ)”, units and
    blocs coded VD, VD01...), so `check` finds any the officer leaves in."""
    c = copy.deepcopy(content)
    codes = {b["code"]: "VD" + (str(n) if n else "") for n, b in enumerate(c.get("Khối", []))}
    codes |= {u["code"]: f"VD{n:02d}" for n, u in enumerate(c.get("Đơn vị", []), start=1)}
    recode = lambda v: codes.get(v, v) if v else v  # noqa: E731
    texts = {"Khối": ("name",), "Đơn vị": ("name", "short_name"), "Tiêu chí": ("text",), "Thưởng - Trừ": ("text",),
             "Khen thưởng": ("award",)}
    for sheet, rows in c.items():
        for row in rows:
            for col in texts.get(sheet, ()):
                if row.get(col):
                    row[col] = f"{row[col]} {EXAMPLE_MARK}"
            for col in ("code", "head", "deputy", "bloc", "unit") if sheet in ("Khối", "Đơn vị", "Lịch sử", "Đăng ký") else ():
                if col in row:
                    row[col] = recode(row[col])
    return c


if __name__ == "__main__":  # python -m pipeline.campaign_book templates/xlsx/campaign.xlsx
    import sys

    print(write_campaign(Path(sys.argv[1]), marked(EXAMPLE)))
