"""Contracts of a unit's return: the sheets and headers of the template, and the long frame read from it."""
from __future__ import annotations

from schemas import contracts

SCORE_SHEET = "Tự chấm điểm"
ITEMS_SHEET = "Điểm thưởng - trừ"
META_SHEET = "_meta"
COVER_SHEET = "Hướng dẫn"

# Header texts (stable names, SPEC.md); the reader finds tables by these.
CODE, TEXT, MAX, SELF, EXPLAIN = "Mã", "Nội dung tiêu chí", "Điểm tối đa", "Điểm tự chấm", "Giải trình"
TARGET, ACTUAL, HOW = "Chỉ tiêu", "Kết quả thực hiện", "Cách chấm"
ITEM_TEXT, ITEM_KIND, ITEM_POINTS, ITEM_CAP, ITEM_CLAIM = "Nội dung", "Loại", "Điểm mỗi lần", "Tối đa", "Điểm"

SCORE_HEADERS = (CODE, TEXT, MAX, SELF, EXPLAIN)
ITEM_HEADERS = (CODE, ITEM_TEXT, ITEM_CLAIM, EXPLAIN)
META_KEYS = ("campaign_id", "unit_code", "bloc_code", "template_version", "criteria_digest", "generated_at")

# The start-of-year registration form (đăng ký thi đua): titles aimed for and key tasks.
FORM_SCORE, FORM_REGISTRATION = "score", "registration"  # the `form` key of _meta
REGISTRATION_SHEET = "Đăng ký danh hiệu"
TASKS_SHEET = "Nhiệm vụ trọng tâm"
AWARD, REGISTER, NOTE = "Hình thức khen thưởng", "Đăng ký", "Ghi chú"
TASK_NO, TASK, TASK_TARGET = "STT", "Nhiệm vụ trọng tâm", "Chỉ tiêu, kết quả dự kiến"
REGISTRATION_HEADERS = (CODE, AWARD, REGISTER, NOTE)
TASK_HEADERS = (TASK_NO, TASK, TASK_TARGET)
REGISTER_MARK = "x"  # the only mark that registers a title; blank does not
TASK_ROWS = 10

# The columns of a return's rows (RETURN_ROWS), as the reader builds them: known without pandera.
RETURN_COLUMNS = ("unit", "file", "section", "sheet", "row", "code", "code_cell", "score", "score_cell", "actual",
                  "actual_cell", "explanation", "explanation_cell")
# The columns of the validated values (VALUES), as validate builds them.
VALUE_COLUMNS = ("unit", "section", "code", "score", "actual", "explanation", "file", "sheet", "cell", "sha256")


def _contracts() -> dict:
    import pandera.pandas as pa

    # One row per criterion or bonus/deduction item read from one return, values as typed.
    RETURN_ROWS = pa.DataFrameSchema(
        {
            "unit": pa.Column(str, description="Unit code from the return's _meta"),
            "file": pa.Column(str, description="Stored file name of the return"),
            "section": pa.Column(str, pa.Check.isin(("criteria", "items")), description="criteria or items sheet"),
            "sheet": pa.Column(str, description="Sheet the row was read from"),
            "row": pa.Column(int, pa.Check.ge(1), description="Excel row number"),
            "code": pa.Column(str, description="Criterion or item code, always text ('4.10' stays '4.10')"),
            "code_cell": pa.Column(str, description="A1 cell of the code"),
            "score": pa.Column(object, nullable=True, description="Self score (or claimed points) as typed"),
            "score_cell": pa.Column(str, description="A1 cell of the score"),
            "actual": pa.Column(object, nullable=True, description="Actual result or count of occurrences, as typed"),
            "actual_cell": pa.Column(str, description="A1 cell of the actual result ('' when the sheet has none)"),
            "explanation": pa.Column(str, description="Explanation, NFC text"),
            "explanation_cell": pa.Column(str, description="A1 cell of the explanation"),
        },
        name="return_rows",
        coerce=False,
    )

    # The validated values of the returns that count: one row per unit and criterion or item.
    VALUES = pa.DataFrameSchema(
        {
            "unit": pa.Column(str, description="Unit code"),
            "section": pa.Column(str, pa.Check.isin(("criteria", "items")), description="criteria or items"),
            "code": pa.Column(str, description="Criterion or item code"),
            "score": pa.Column(float, nullable=True, description="Self score or claimed points (None for computed kinds)"),
            "actual": pa.Column(float, nullable=True, description="Actual result or occurrences of a computed criterion"),
            "explanation": pa.Column(str, description="The unit's explanation"),
            "file": pa.Column(str, description="Original file name"),
            "sheet": pa.Column(str, description="Sheet of the value"),
            "cell": pa.Column(str, description="A1 cell of the value"),
            "sha256": pa.Column(str, description="Hash of the stored file"),
        },
        name="values",
    )
    assert tuple(RETURN_ROWS.columns) == RETURN_COLUMNS and tuple(VALUES.columns) == VALUE_COLUMNS
    return {'RETURN_ROWS': RETURN_ROWS, 'VALUES': VALUES}


__getattr__ = contracts(globals(), _contracts)
