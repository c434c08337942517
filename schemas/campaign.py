"""Contracts of the campaign workbook (campaign.xlsx), one schema per sheet."""
from __future__ import annotations

import pandera.pandas as pa

KINDS = ("điểm", "đạt/không đạt", "chỉ tiêu", "trừ điểm")
EXPLANATION = ("", "luôn", "khi chưa tối đa")
ITEM_KINDS = ("thưởng", "trừ")
GRADES = ("Xuất sắc", "Tốt", "Khá", "Hoàn thành")
HISTORY_KINDS = ("xếp loại", "khen thưởng")
MARK = ("", "x")


def col(title: str, description: str, dtype=None, *checks, nullable=True, unique=False) -> pa.Column:
    return pa.Column(dtype, list(checks), title=title, description=description,
                     nullable=nullable, unique=unique, required=True)


def code_check() -> pa.Check:
    return pa.Check.str_matches(r"^[A-Za-z0-9_.\-]+$", error="mã chỉ gồm chữ, số, . _ -")


BLOCS = pa.DataFrameSchema(
    {
        "code": col("Mã khối", "Short code of the bloc, used in file names", str, code_check(), nullable=False, unique=True),
        "name": col("Tên khối", "Official name of the bloc", str, nullable=False),
        "head": col("Trưởng khối", "Unit code of this year's head unit", str, nullable=True),
        "deputy": col("Phó khối", "Unit code of this year's deputy unit", str, nullable=True),
    },
    name="Khối",
)

UNITS = pa.DataFrameSchema(
    {
        "code": col("Mã đơn vị", "Short code of the unit, stable across years", str, code_check(), nullable=False, unique=True),
        "name": col("Tên đơn vị", "Official name as printed on certificates", str, nullable=False),
        "short_name": col("Tên viết tắt", "Name used in tables and charts", str),
        "bloc": col("Mã khối", "Code of the unit's bloc", str, nullable=False),
        "email": col("Email", "Where templates are sent", str, pa.Check.str_matches(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", error="email không hợp lệ")),
        "discipline": col("Đang xem xét kỷ luật", "x: under disciplinary review (no award)", str, pa.Check.isin(MARK)),
        "investigation": col("Đang điều tra", "x: under investigation (no award)", str, pa.Check.isin(MARK)),
        "inspection": col("Đang thanh tra", "x: under inspection (no award)", str, pa.Check.isin(MARK)),
        "complaint": col("Khiếu nại chưa giải quyết", "x: unresolved complaint (no award)", str, pa.Check.isin(MARK)),
    },
    name="Đơn vị",
)

CRITERIA = pa.DataFrameSchema(
    {
        "code": col("Mã", "Tree code: I, I.1, I.1.a", str, pa.Check.str_matches(r"^[IVXLC]+(\.[0-9A-Za-z]+)*$", error="mã dạng I, I.1, I.1.a"), nullable=False, unique=True),
        "group": col("Nhóm", "Root code of the criterion's group (I, II, ...)", str),
        "text": col("Nội dung tiêu chí", "The criterion as signed in the covenant", str, nullable=False),
        "kind": col("Loại", "điểm | đạt/không đạt | chỉ tiêu | trừ điểm; blank for a group row", str, pa.Check.isin(("",) + KINDS)),
        "max": col("Điểm tối đa", "Maximum points", float, pa.Check.gt(0), nullable=False),
        "step": col("Bước điểm", "Scoring step (points); per occurrence for trừ điểm", float, pa.Check.gt(0)),
        "target": col("Chỉ tiêu", "Target value of a chỉ tiêu criterion", float, pa.Check.ge(0)),
        "applies_to": col("Áp dụng cho", "Blank: all units; else bloc or unit codes, comma separated", str),
        "explanation": col("Yêu cầu giải trình", "'' | luôn | khi chưa tối đa", str, pa.Check.isin(EXPLANATION)),
    },
    name="Tiêu chí",
)

ITEMS = pa.DataFrameSchema(
    {
        "code": col("Mã", "Code of the bonus or deduction item", str, code_check(), nullable=False, unique=True),
        "kind": col("Loại", "thưởng | trừ", str, pa.Check.isin(ITEM_KINDS), nullable=False),
        "text": col("Nội dung", "What earns the bonus or the deduction", str, nullable=False),
        "points": col("Điểm mỗi lần", "Points per occurrence", float, pa.Check.gt(0), nullable=False),
        "cap": col("Tối đa", "Most points the item can give or take", float, pa.Check.gt(0), nullable=False),
    },
    name="Thưởng - Trừ",
)

AWARD_RULES = pa.DataFrameSchema(
    {
        "code": col("Mã khen thưởng", "Award code: CO_TINH, BK_TINH, GIAY_KHEN, CO_CP ...", str, nullable=False),
        "award": col("Hình thức khen thưởng", "Title printed on the proposal", str, nullable=False),
        "issuer": col("Cấp khen", "Who confers it (after the two-tier reform)", str, nullable=False),
        "issuer_before_reform": col("Cấp khen trước cải cách", "Who conferred it before reform_date; blank: same", str),
        "priority": col("Thứ tự ưu tiên", "1 = highest award; a unit gets the highest it qualifies for", float, pa.Check.ge(1), nullable=False),
        "rank_from": col("Hạng từ", "Best rank that qualifies", float, pa.Check.ge(1)),
        "rank_to": col("Hạng đến", "Worst rank that qualifies", float, pa.Check.ge(1)),
        "top_share": col("Tốp tỷ lệ (%)", "Qualifies when in the top share of the bloc", float, pa.Check.in_range(0, 100)),
        "min_grade": col("Xếp loại tối thiểu", "Lowest grade that qualifies", str, pa.Check.isin(("",) + GRADES)),
        "min_score": col("Điểm tối thiểu", "Lowest total that qualifies", float, pa.Check.ge(0)),
        "min_vote_share": col("Tỷ lệ phiếu tối thiểu (%)", "Vote share needed, strictly more than", float, pa.Check.in_range(0, 100)),
        "must_register": col("Phải đăng ký", "x: only units that registered for it", str, pa.Check.isin(MARK)),
        "quota": col("Số lượng", "Most units per bloc", float, pa.Check.ge(0)),
        "quota_share": col("Tỷ lệ số lượng (%)", "Most units per bloc as a share of its members", float, pa.Check.in_range(0, 100)),
        "quota_rounding": col("Làm tròn", "lên | xuống | gần nhất (a share never rounds to 0 unless xuống)", str, pa.Check.isin(("", "lên", "xuống", "gần nhất"))),
        "conditions": col("Điều kiện", "Conditions over history, e.g. lien_tuc_xuat_sac=2", str),
    },
    name="Khen thưởng",
)

HISTORY = pa.DataFrameSchema(
    {
        "unit": col("Mã đơn vị", "Unit code", str, nullable=False),
        "year": col("Năm", "Year of the grade or award", float, pa.Check.in_range(1990, 2100), nullable=False),
        "kind": col("Loại", "xếp loại | khen thưởng", str, pa.Check.isin(HISTORY_KINDS), nullable=False),
        "value": col("Nội dung", "The grade, or the award's title", str, nullable=False),
        "revoked": col("Đã thu hồi", "x: the award was revoked", str, pa.Check.isin(MARK)),
    },
    name="Lịch sử",
)

REGISTRATIONS = pa.DataFrameSchema(
    {
        "unit": col("Mã đơn vị", "Unit code", str, nullable=False),
        "award": col("Mã khen thưởng", "Award code the unit registered for", str, nullable=False),
    },
    name="Đăng ký",
)

SETTINGS = pa.DataFrameSchema(
    {
        "key": col("Mã", "Setting key (do not translate)", str, nullable=False, unique=True),
        "label": col("Nội dung", "What the setting means", str),
        "value": col("Giá trị", "The setting's value", None),
    },
    name="Thiết lập",
)

# Sheet order in campaign.xlsx (after the instructions sheet).
SHEETS = (SETTINGS, BLOCS, UNITS, CRITERIA, ITEMS, AWARD_RULES, HISTORY, REGISTRATIONS)

