"""Contracts of the bloc head's review workbook (out/review/<bloc>.xlsx) and what is read back from it."""
from __future__ import annotations

from schemas import contracts

REVIEW_SHEET = "Thẩm định"
VOTES_SHEET = "Bỏ phiếu"

# Header texts (stable names, SPEC.md); the reader finds tables by these.
UNIT, NAME, CODE, TEXT, MAX = "Mã đơn vị", "Tên đơn vị", "Mã", "Nội dung tiêu chí", "Điểm tối đa"
SELF, REVIEWED, NOTE = "Điểm tự chấm", "Điểm thẩm định", "Ghi chú"
TOTAL, RANK = "Tổng điểm tạm tính", "Thứ hạng tạm tính"
LEADER, HEAD, DEPUTY = "Phiếu suy tôn", "Phiếu Trưởng khối", "Phiếu Phó khối"
KEY, VALUE = "Nội dung", "Giá trị"
PRESENT, ISSUED, VALID = "Số đơn vị có mặt", "Số phiếu phát ra", "Số phiếu hợp lệ"

REVIEW_HEADERS = (UNIT, CODE, MAX, SELF, REVIEWED, NOTE)
VOTE_HEADERS = (UNIT, NAME, LEADER, HEAD, DEPUTY)
COUNT_KEYS = {"present": PRESENT, "issued": ISSUED, "valid": VALID}
VOTE_COLUMNS = {"leader": LEADER, "head": HEAD, "deputy": DEPUTY}


def _contracts() -> dict:
    import pandera.pandas as pa

    # One row per unit and criterion read back from a review, values as typed.
    REVIEW_ROWS = pa.DataFrameSchema(
        {
            "unit": pa.Column(str, description="Unit code"),
            "code": pa.Column(str, description="Criterion code"),
            "self": pa.Column(object, nullable=True, description="Self score shown when the review was made"),
            "reviewed": pa.Column(object, nullable=True, description="Reviewed score as typed by the bloc head"),
            "note": pa.Column(str, description="The bloc head's note, NFC text"),
            "unit_cell": pa.Column(str, description="A1 cell of the unit code"),
            "cell": pa.Column(str, description="A1 cell of the reviewed score"),
            "note_cell": pa.Column(str, description="A1 cell of the note"),
        },
        name="review_rows",
        coerce=False,
    )

    # One row per unit of the bloc on the vote sheet, counts as typed.
    VOTE_ROWS = pa.DataFrameSchema(
        {
            "unit": pa.Column(str, description="Unit code"),
            "leader": pa.Column(object, nullable=True, description="Votes to lead the bloc (suy tôn)"),
            "head": pa.Column(object, nullable=True, description="Votes for next year's head unit"),
            "deputy": pa.Column(object, nullable=True, description="Votes for next year's deputy unit"),
            "leader_cell": pa.Column(str), "head_cell": pa.Column(str), "deputy_cell": pa.Column(str),
        },
        name="vote_rows",
        coerce=False,
    )

    # The reviewed scores that count: one row per unit and criterion.
    REVIEWED_SCORES = pa.DataFrameSchema(
        {
            "unit": pa.Column(str), "code": pa.Column(str),
            "reviewed": pa.Column(float, pa.Check.ge(0), description="Reviewed score, the final score"),
            "note": pa.Column(str), "file": pa.Column(str), "sheet": pa.Column(str), "cell": pa.Column(str),
            "section": pa.Column(str, pa.Check.isin(("criteria", "items")),
                                 description="criteria: a criterion's score; items: a bonus or deduction claim's points"),
        },
        name="reviewed",
    )
    return {'REVIEW_ROWS': REVIEW_ROWS, 'VOTE_ROWS': VOTE_ROWS, 'REVIEWED_SCORES': REVIEWED_SCORES}


__getattr__ = contracts(globals(), _contracts)
