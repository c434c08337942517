"""Contracts of the campaign workbook (campaign.xlsx), one schema per sheet."""
from __future__ import annotations

from schemas import contracts

KINDS = ("điểm", "đạt/không đạt", "chỉ tiêu", "trừ điểm")
EXPLANATION = ("", "luôn", "khi chưa tối đa")
ITEM_KINDS = ("thưởng", "trừ")
GRADES = ("Xuất sắc", "Tốt", "Khá", "Hoàn thành")
FAILED = "Chưa hoàn thành"  # the grade below the lowest threshold
HISTORY_KINDS = ("xếp loại", "khen thưởng")
MARK = ("", "x")
ROUNDING = ("lên", "xuống", "gần nhất")
# A yes/no column takes x (or "có") for yes and blank (or "không") for no, on every sheet.
YES_NO = {"có": "x", "không": ""}


def listing(values, last: str = "hoặc") -> str:
    """Values as people write a list: “a”, “b” hoặc “c” (a blank written as “để trống”)."""
    words = [f"“{v}”" for v in values if v != ""] + (["để trống"] if "" in values else [])
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + f" {last} " + words[-1]


def _contracts() -> dict:
    import pandera.pandas as pa

    def col(title: str, description: str, dtype=None, *checks, nullable=True, unique=False, choices=None,
            aliases=None) -> pa.Column:
        """A column; `choices` makes it an enumerated one: what is typed is matched to a choice the same way on every
        sheet (pipeline.campaign.match: case, spaces, NFC, diacritics where unambiguous; `aliases` map other words
        to a choice), and anything else is rejected at its cell."""
        if choices is not None:
            allowed = tuple(choices) + (("",) if nullable and "" not in choices else ())
            shown = allowed + tuple(a for a in (aliases or {}) if a not in allowed)
            checks = checks + (pa.Check.isin(allowed, error="phải là " + listing(shown)),)
        metadata = {"choices": tuple(choices), "aliases": dict(aliases or {})} if choices is not None else None
        return pa.Column(dtype, list(checks), title=title, description=description,
                         nullable=nullable, unique=unique, required=True, metadata=metadata)

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
            "email": col("Email", "Where templates are sent", str, pa.Check.str_matches(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", error="email dạng ten@donvi.gov.vn")),
            "discipline": col("Đang xem xét kỷ luật", "x: under disciplinary review (no award)", str, choices=MARK, aliases=YES_NO),
            "investigation": col("Đang điều tra", "x: under investigation (no award)", str, choices=MARK, aliases=YES_NO),
            "inspection": col("Đang thanh tra", "x: under inspection (no award)", str, choices=MARK, aliases=YES_NO),
            "complaint": col("Khiếu nại chưa giải quyết", "x: unresolved complaint (no award)", str, choices=MARK, aliases=YES_NO),
        },
        name="Đơn vị",
    )

    CRITERIA = pa.DataFrameSchema(
        {
            "code": col("Mã", "Tree code: I, I.1, I.1.a", str, pa.Check.str_matches(r"^[IVXLC]+(\.[0-9A-Za-z]+)*$", error="mã dạng I, I.1, I.1.a"), nullable=False, unique=True),
            "group": col("Nhóm", "Root code of the criterion's group (I, II, ...)", str),
            "text": col("Nội dung tiêu chí", "The criterion as signed in the covenant", str, nullable=False),
            "kind": col("Loại", "điểm | đạt/không đạt | chỉ tiêu | trừ điểm; blank for a group row", str, choices=KINDS),
            "max": col("Điểm tối đa", "Maximum points", float, pa.Check.gt(0), nullable=False),
            "step": col("Bước điểm", "Scoring step (points); per occurrence for trừ điểm", float, pa.Check.gt(0)),
            "target": col("Chỉ tiêu", "Target value of a chỉ tiêu criterion", float, pa.Check.ge(0)),
            "applies_to": col("Áp dụng cho", "Blank: all units; else bloc or unit codes, comma separated", str),
            "explanation": col("Yêu cầu giải trình", "'' | luôn | khi chưa tối đa", str, choices=EXPLANATION),
        },
        name="Tiêu chí",
    )

    ITEMS = pa.DataFrameSchema(
        {
            "code": col("Mã", "Code of the bonus or deduction item", str, code_check(), nullable=False, unique=True),
            "kind": col("Loại", "thưởng | trừ", str, nullable=False, choices=ITEM_KINDS),
            "text": col("Nội dung", "What earns the bonus or the deduction", str, nullable=False),
            "points": col("Điểm mỗi lần", "Points per occurrence", float, pa.Check.gt(0), nullable=False),
            "cap": col("Tối đa", "Most points the item can give or take", float, pa.Check.gt(0), nullable=False),
        },
        name="Thưởng - Trừ",
    )

    AWARD_RULES = pa.DataFrameSchema(
        {
            "code": col("Mã khen thưởng", "The campaign's own code of the award (CO_TINH, BK_TINH, GIAY_KHEN ... are suggestions; "
                         "any code will do); rules with the same code give the same award", str, code_check(), nullable=False),
            "award": col("Hình thức khen thưởng", "Title printed on the proposal", str, nullable=False),
            "issuer": col("Cấp khen", "Who confers it (after the two-tier reform)", str, nullable=False),
            "issuer_before_reform": col("Cấp khen trước cải cách", "Who conferred it before reform_date; blank: same", str),
            "priority": col("Thứ tự ưu tiên", "1 = highest award; a unit gets the highest it qualifies for", float, pa.Check.ge(1), nullable=False),
            "rank_from": col("Hạng từ", "Best rank that qualifies", float, pa.Check.ge(1)),
            "rank_to": col("Hạng đến", "Worst rank that qualifies", float, pa.Check.ge(1)),
            "top_share": col("Tốp tỷ lệ (%)", "Qualifies when its rank is at most this share of the bloc's members, rounded "
                              "down, at least 1 (50 % of 7 members: ranks 1-3)", float, pa.Check.in_range(0, 100)),
            "min_grade": col("Xếp loại tối thiểu", "Lowest grade that qualifies", str, choices=GRADES),
            "min_score": col("Điểm tối thiểu", "Lowest total that qualifies", float, pa.Check.ge(0)),
            "min_vote_share": col("Tỷ lệ phiếu suy tôn phải trên (%)", "Vote share needed, strictly more than", float, pa.Check.in_range(0, 100)),
            "must_register": col("Phải đăng ký", "x: only units that registered for it (or for a higher award)", str,
                                 choices=MARK, aliases=YES_NO),
            "quota": col("Số lượng", "Most units per bloc", float, pa.Check.ge(0)),
            "quota_share": col("Tỷ lệ số lượng (%)", "Most units per bloc as a share of its members", float, pa.Check.in_range(0, 100)),
            "quota_rounding": col("Làm tròn", "lên | xuống | gần nhất (a share never rounds to 0 unless xuống)", str, choices=ROUNDING),
            "conditions": col("Điều kiện", "Conditions over history, e.g. lien_tuc_xuat_sac=2", str),
        },
        name="Khen thưởng",
    )

    HISTORY = pa.DataFrameSchema(
        {
            "unit": col("Mã đơn vị", "Unit code", str, nullable=False),
            "year": col("Năm", "Year of the grade or award", float, pa.Check.in_range(1990, 2100), nullable=False),
            "kind": col("Loại", "xếp loại | khen thưởng", str, nullable=False, choices=HISTORY_KINDS),
            "value": col("Nội dung", "The grade (Xuất sắc, Tốt, Khá, Hoàn thành, Chưa hoàn thành), or the award: its code "
                                     "on Khen thưởng or its title", str, nullable=False),
            "revoked": col("Đã thu hồi", "x: the award was revoked", str, choices=MARK, aliases=YES_NO),
        },
        name="Lịch sử",
    )

    REGISTRATIONS = pa.DataFrameSchema(
        {
            "unit": col("Mã đơn vị", "Unit code", str, nullable=False),
            "award": col("Mã khen thưởng", "Code (on Khen thưởng) of the award the unit registered for", str, nullable=False),
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
    return {'BLOCS': BLOCS, 'UNITS': UNITS, 'CRITERIA': CRITERIA, 'ITEMS': ITEMS, 'AWARD_RULES': AWARD_RULES, 'HISTORY': HISTORY, 'REGISTRATIONS': REGISTRATIONS, 'SETTINGS': SETTINGS, 'SHEETS': SHEETS}


__getattr__ = contracts(globals(), _contracts)
