"""Issues: every problem found in the data, with its position and a message in Vietnamese and English."""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

ERROR, WARNING = "error", "warning"
SEVERITY_VI = {ERROR: "Lỗi", WARNING: "Cảnh báo"}


class ThiduaError(Exception):
    """What stops a run (unreadable campaign, missing folder); the CLI prints one line and exits 1."""


# code -> (Vietnamese, English); the same {placeholders} in both.
MESSAGES: dict[str, tuple[str, str]] = {
    # campaign.xlsx
    "sheet_missing": ("Thiếu trang tính “{sheet}”", "Sheet “{sheet}” is missing"),
    "header_missing": ("Không tìm thấy dòng tiêu đề có các cột: {headers}", "No header row with the columns: {headers}"),
    "value_invalid": ("Giá trị “{value}” không hợp lệ ở cột “{column}”: {rule}", "Value “{value}” is not valid in column “{column}”: {rule}"),
    "value_required": ("Cột “{column}” không được để trống", "Column “{column}” must not be blank"),
    "duplicate": ("“{value}” bị trùng ở cột “{column}”", "“{value}” is duplicated in column “{column}”"),
    "not_a_number": ("“{value}” không phải là số", "“{value}” is not a number"),
    "setting_missing": ("Thiếu thiết lập “{key}” ({label})", "Setting “{key}” ({label}) is missing"),
    "setting_invalid": ("Thiết lập “{key}” = “{value}” không hợp lệ: {rule}", "Setting “{key}” = “{value}” is not valid: {rule}"),
    "unknown_bloc": ("Mã khối “{bloc}” không có trong trang Khối", "Bloc code “{bloc}” is not on the Khối sheet"),
    "head_not_member": ("{role} “{unit}” không phải thành viên của khối {bloc}", "{role} “{unit}” is not a member of bloc {bloc}"),
    "head_is_deputy": ("Trưởng khối và Phó khối của khối {bloc} trùng nhau", "Head and deputy of bloc {bloc} are the same unit"),
    "empty_bloc": ("Khối {bloc} không có đơn vị nào", "Bloc {bloc} has no units"),
    "criterion_orphan": ("Tiêu chí {code} không có tiêu chí cha {parent}", "Criterion {code} has no parent {parent}"),
    "criterion_group": ("Cột Nhóm của tiêu chí {code} phải là {expected}", "The group of criterion {code} must be {expected}"),
    "criterion_kind": ("Tiêu chí lá {code} phải có Loại; tiêu chí có mục con thì để trống", "Leaf criterion {code} needs a kind; a criterion with children leaves it blank"),
    "sum_mismatch": ("Tổng điểm tối đa các mục con của {code} là {total}, khác {expected}", "The maxima under {code} add up to {total}, not {expected}"),
    "scale_mismatch": ("Tổng điểm tối đa các nhóm là {total}, khác thang điểm {scale}", "The groups add up to {total}, not the scale {scale}"),
    "step_divides": ("Bước điểm {step} không chia hết điểm tối đa {max}", "Step {step} does not divide the maximum {max}"),
    "step_missing": ("Tiêu chí {code} loại “{kind}” cần Bước điểm", "Criterion {code} of kind “{kind}” needs a step"),
    "target_missing": ("Tiêu chí chỉ tiêu {code} chưa có giá trị Chỉ tiêu", "Target criterion {code} has no target value"),
    "applies_unknown": ("“{value}” trong Áp dụng cho không phải mã khối hay mã đơn vị", "“{value}” in applies-to is neither a bloc nor a unit code"),
    "item_cap": ("Điểm tối đa {cap} nhỏ hơn điểm mỗi lần {points}", "The cap {cap} is below the points per occurrence {points}"),
    "award_unknown": ("Mã khen thưởng “{award}” không thuộc danh mục: {known}", "Award code “{award}” is not one of: {known}"),
    "condition_invalid": ("Điều kiện “{condition}” không hợp lệ; dùng: {known}", "Condition “{condition}” is not valid; use: {known}"),
    "rank_range": ("Hạng từ {low} lớn hơn Hạng đến {high}", "Rank from {low} is after rank to {high}"),
    "quota_both": ("Chỉ ghi Số lượng hoặc Tỷ lệ số lượng, không ghi cả hai", "Give a quota or a quota share, not both"),
    "unknown_unit": ("Mã đơn vị “{unit}” không có trong trang Đơn vị", "Unit code “{unit}” is not on the Đơn vị sheet"),
}


@dataclass(frozen=True)
class Issue:
    code: str
    severity: str = ERROR
    unit: str = ""
    file: str = ""
    sheet: str = ""
    cell: str = ""
    params: dict = field(default_factory=dict, compare=False, hash=False)

    def message(self, lang: str = "vi") -> str:
        vi, en = MESSAGES[self.code]
        return (vi if lang == "vi" else en).format(**self.params)

    def where(self) -> str:
        return " ".join(p for p in (self.file, f"[{self.sheet}]" if self.sheet else "", self.cell) if p)


def has_errors(issues: list[Issue]) -> bool:
    return any(i.severity == ERROR for i in issues)


ISSUE_COLUMNS = {
    "unit": "Mã đơn vị", "file": "Tệp", "sheet": "Trang tính", "cell": "Ô",
    "code": "Mã lỗi", "severity": "Mức độ", "message": "Nội dung", "message_en": "Message (English)",
}


def to_frame(issues: list[Issue]) -> pd.DataFrame:
    """Issues as a table with the stable Vietnamese headers of the `Lỗi` sheet."""
    rows = [
        {"unit": i.unit, "file": i.file, "sheet": i.sheet, "cell": i.cell, "code": i.code,
         "severity": SEVERITY_VI[i.severity], "message": i.message("vi"), "message_en": i.message("en")}
        for i in issues
    ]
    return pd.DataFrame(rows, columns=list(ISSUE_COLUMNS)).rename(columns=ISSUE_COLUMNS)
