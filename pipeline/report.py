"""Report stage: ranks, matrices, issues and provenance -> out/results-<year>.xlsx and out/validation.xlsx."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from xlsxwriter.utility import xl_rowcol_to_cell

from .campaign import Campaign
from .templates import new_workbook
from .issues import ISSUE_COLUMNS, Issue, to_frame

FONT = "Times New Roman"
CREATED = dt.datetime(2000, 1, 1)  # fixed: the same inputs give byte-identical workbooks

RANKING = {  # column -> stable header (SPEC.md)
    "bloc": "Mã khối", "unit": "Mã đơn vị", "name": "Tên đơn vị", "self_total": "Điểm tự chấm",
    "reviewed_total": "Điểm thẩm định", "bonus": "Điểm thưởng", "deduction": "Điểm trừ", "total": "Tổng điểm",
    "grade": "Xếp loại", "rank": "Thứ hạng", "tied": "Đồng hạng", "votes": "Phiếu suy tôn",
    "vote_share": "Tỷ lệ phiếu (%)", "proposal": "Đề nghị khen thưởng", "tie_note": "Ghi chú",
}
PROPOSED = {"bloc": "Mã khối", "unit": "Mã đơn vị", "name": "Tên đơn vị", "award": "Hình thức khen thưởng",
            "issuer": "Cấp khen", "reason": "Lý do", "achievement": "Thành tích", "warning": "Cảnh báo"}
HELD = {"bloc": "Mã khối", "unit": "Mã đơn vị", "name": "Tên đơn vị", "award": "Hình thức khen thưởng", "reason": "Lý do",
        "instead": "Được đề nghị hình thức khác"}
TALLY = {"bloc": "Mã khối", "unit": "Mã đơn vị", "name": "Tên đơn vị", "rank": "Thứ hạng", "total": "Tổng điểm",
         "votes": "Phiếu suy tôn", "vote_share": "Tỷ lệ phiếu (%)", "head_votes": "Phiếu Trưởng khối",
         "deputy_votes": "Phiếu Phó khối", "note": "Ghi chú"}
BALLOTS = {"bloc": "Mã khối", "members": "Số đơn vị thành viên", "present": "Số đơn vị có mặt",
           "issued": "Số phiếu phát ra", "valid": "Số phiếu hợp lệ", "quorum": "Tỷ lệ có mặt tối thiểu",
           "status": "Kết quả bỏ phiếu"}
SUCCESSION = {"bloc": "Mã khối", "head": "Trưởng khối", "head_name": "Tên đơn vị Trưởng khối", "deputy": "Phó khối",
              "deputy_name": "Tên đơn vị Phó khối", "how": "Căn cứ"}
MARGINS = {"bloc": "Mã khối", "rank": "Thứ hạng", "unit": "Mã đơn vị", "name": "Tên đơn vị", "total": "Tổng điểm",
           "next_unit": "Đơn vị xếp sau", "next_total": "Điểm đơn vị xếp sau", "margin": "Cách biệt (điểm)",
           "note": "Ghi chú"}


@dataclass
class YearEnd:
    """What the conference and the awards add to the ranking (pipeline.awards, pipeline.votes frames)."""

    proposals: pd.DataFrame
    held: pd.DataFrame
    tally: pd.DataFrame
    ballots: pd.DataFrame
    succession: pd.DataFrame
    margins: pd.DataFrame
UNRANKED = {"bloc": "Mã khối", "unit": "Mã đơn vị", "name": "Tên đơn vị", "reason": "Lý do không xếp hạng"}
PROVENANCE = {"unit": "Mã đơn vị", "code": "Mã", "value": "Giá trị", "file": "Tệp", "sheet": "Trang tính",
              "cell": "Ô", "sha256": "SHA-256", "review_note": "Ghi chú thẩm định"}
WIDTHS = {"instead": 30, "review_note": 50, "name": 44, "tie_note": 48, "reason": 70, "achievement": 60, "warning": 30, "award": 30, "issuer": 22,
          "note": 50, "how": 60, "head_name": 40, "deputy_name": 40, "proposal": 30, "status": 24, "message": 70, "message_en": 60, "file": 34, "sheet": 18,
          "sha256": 30, "grade": 14}


class Book:
    """An xlsxwriter workbook with the house formats; text is always written as text."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.wb = new_workbook(path, {"created": CREATED}, nan_inf_to_errors=True)
        base = {"font_name": FONT, "font_size": 11}
        self.text = self.wb.add_format({**base, "text_wrap": True, "valign": "top"})
        self.num = self.wb.add_format({**base, "num_format": "0.00", "valign": "top"})
        self.int = self.wb.add_format({**base, "num_format": "0", "valign": "top", "align": "center"})
        self.head = self.wb.add_format({**base, "bold": True, "text_wrap": True, "bg_color": "#DDEBF7", "border": 1,
                                        "valign": "vcenter", "align": "center"})
        self.title = self.wb.add_format({**base, "bold": True, "font_size": 14})
        self.diff = self.wb.add_format({"bg_color": "#FCE4D6"})

    def table(self, name: str, frame: pd.DataFrame, headers: dict[str, str], title: str = "", top: int = 0,
              ws=None, table_name: str | None = None):
        """Write `frame` as an Excel table (filters, banded rows) under an optional title; returns the sheet."""
        ws = ws or self.wb.add_worksheet(name)
        if title:
            ws.write_string(top, 0, title, self.title)
            top += 2
        cols = list(headers)
        ws.set_row(top, 30)  # headers wrap; a row nobody has opened does not grow by itself
        for c, col in enumerate(cols):
            ws.set_column(c, c, WIDTHS.get(col, 13))
        for r, row in enumerate(frame[cols].itertuples(index=False), start=top + 1):
            for c, v in enumerate(row):
                self.cell(ws, r, c, v, cols[c])
        ws.add_table(top, 0, top + max(len(frame), 1), len(cols) - 1, {
            "columns": [{"header": headers[c], "header_format": self.head} for c in cols],
            "style": "Table Style Light 9", "name": table_name, "autofilter": True})
        ws.freeze_panes(top + 1, 0)
        ws.set_paper(9)
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(top)
        return ws

    def cell(self, ws, r: int, c: int, v, col: str = "") -> None:
        if v is None or (isinstance(v, float) and pd.isna(v)):
            ws.write_blank(r, c, None, self.text)
        elif isinstance(v, bool):
            ws.write_string(r, c, "x" if v else "", self.text)
        elif isinstance(v, (int,)) or col == "rank":
            ws.write_number(r, c, v, self.int)
        elif isinstance(v, float):
            ws.write_number(r, c, v, self.num)
        else:
            ws.write_string(r, c, str(v), self.text)

    def close(self):
        self.wb.close()


def write_validation(path: Path, c: Campaign, issues: list[Issue], summary: pd.DataFrame) -> Path:
    """out/validation.xlsx: sheet `Lỗi` (one row per issue) and `Tổng hợp` (one row per unit)."""
    book = Book(path)
    frame = to_frame(issues)
    frame.columns = list(ISSUE_COLUMNS)
    book.table("Lỗi", frame, ISSUE_COLUMNS, table_name="Loi")
    book.table("Tổng hợp", summary, SUMMARY, table_name="TongHop")
    book.close()
    return path


SUMMARY = {"bloc": "Mã khối", "unit": "Mã đơn vị", "name": "Tên đơn vị", "status": "Tình trạng",
           "versions": "Số bản gửi", "received": "Nhận lúc", "sender": "Người gửi", "errors": "Số lỗi",
           "warnings": "Số cảnh báo", "evidence": "Số tệp minh chứng"}


def write_results(path: Path, c: Campaign, ranked: pd.DataFrame, m: pd.DataFrame, unranked: pd.DataFrame,
                  issues: list[Issue], year_end: YearEnd | None = None) -> Path:
    """out/results-<year>.xlsx: summary, Xếp hạng, proposals, votes, next heads, margins, per bloc ranking +
    chart and matrices, issues, provenance."""
    book = Book(path)
    summary = book.wb.add_worksheet("Tổng hợp")
    if year_end is not None:
        award = dict(zip(year_end.proposals["unit"], year_end.proposals["award"]))
        ranked = ranked.assign(proposal=ranked["unit"].map(award).fillna(""))
    columns = {k: v for k, v in RANKING.items() if k in ranked.columns}
    _reviewed_differs(book, book.table("Xếp hạng", ranked, columns, table_name="XepHang"), columns, 0, len(ranked))
    _summary(book, summary, c, ranked, unranked, year_end)
    if year_end is not None:
        _year_end(book, c, year_end)
    # Split by bloc once: filtering the whole matrix per bloc is quadratic in a large campaign.
    ranked_by_bloc = dict(tuple(ranked.groupby("bloc", sort=False))) if len(ranked) else {}
    matrix_by_bloc = dict(tuple(m.groupby("bloc", sort=False))) if len(m) else {}
    for bloc in c.blocs:
        rows = ranked_by_bloc.get(bloc.code, ranked.iloc[0:0])
        ws = book.table(f"Khối {bloc.code}", rows, columns, title=f"{bloc.name}: xếp hạng năm {c.settings.year}",
                        table_name=f"Khoi_{bloc.code}")
        _reviewed_differs(book, ws, columns, 2, len(rows))
        if len(rows):
            _chart(book, ws, f"Khối {bloc.code}", len(rows), list(columns).index("name"), list(columns).index("total"))
        _matrix(book, c, bloc.code, matrix_by_bloc.get(bloc.code, m.iloc[0:0]))
    book.table("Không xếp hạng", unranked, UNRANKED, table_name="KhongXepHang")
    frame = to_frame(issues)
    frame.columns = list(ISSUE_COLUMNS)
    book.table("Lỗi", frame, ISSUE_COLUMNS, table_name="Loi")
    prov = _provenance(m)
    book.table("Nguồn số liệu", prov, PROVENANCE, table_name="NguonSoLieu")
    book.close()
    return path


def _reviewed_differs(book: Book, ws, columns: dict, header_row: int, n: int) -> None:
    """Highlight a reviewed total that differs from the self total (the bloc head changed a score)."""
    if not n:
        return
    cols = list(columns)
    a = xl_rowcol_to_cell(header_row + 1, cols.index("reviewed_total"), row_abs=False, col_abs=True)
    b = xl_rowcol_to_cell(header_row + 1, cols.index("self_total"), row_abs=False, col_abs=True)
    ws.conditional_format(header_row + 1, cols.index("reviewed_total"), header_row + n, cols.index("reviewed_total"),
                          {"type": "formula", "criteria": f"={a}<>{b}", "format": book.diff})


def _provenance(m: pd.DataFrame) -> pd.DataFrame:
    """Where each final score comes from: the review where the bloc head reviewed it, else the unit's return."""
    if not len(m):
        return pd.DataFrame(columns=list(PROVENANCE))
    by_review = m["reviewed"].notna()
    return m.assign(value=m["final"],
                    file=m["file"].where(~by_review, m["review_file"]),
                    sheet=m["sheet"].where(~by_review, "Thẩm định"),
                    cell=m["cell"].where(~by_review, m["review_cell"]),
                    sha256=m["sha256"].where(~by_review, ""))[list(PROVENANCE)]


def _year_end(book: Book, c: Campaign, y: YearEnd) -> None:
    """The conference's sheets: proposals, held back, votes, next year's heads, margins."""
    year = c.settings.year
    book.table("Đề nghị khen thưởng", y.proposals, PROPOSED, title=f"Đề nghị khen thưởng năm {year}",
               table_name="DeNghi")
    book.table("Không đề nghị", y.held, HELD, title="Đơn vị không được đề nghị dù đạt kết quả, và lý do",
               table_name="KhongDeNghi")
    ws = book.table("Bỏ phiếu", y.ballots, BALLOTS, title=f"Kết quả bỏ phiếu hội nghị tổng kết năm {year}",
                    table_name="PhieuKhoi")
    book.table("", y.tally, TALLY, title="Phiếu của từng đơn vị", top=len(y.ballots) + 5, ws=ws,
               table_name="PhieuDonVi")
    book.table(f"Trưởng, Phó khối {year + 1}", y.succession, SUCCESSION,
               title=f"Trưởng khối, Phó khối năm {year + 1}", table_name="TruongPhoKhoi")
    book.table("Cách biệt điểm", y.margins, MARGINS,
               title="Cách biệt điểm giữa các vị trí dẫn đầu (số điểm làm thay đổi thứ tự)", table_name="CachBiet")


def _summary(book: Book, ws, c: Campaign, ranked: pd.DataFrame, unranked: pd.DataFrame, y: YearEnd | None) -> None:
    ws.set_column(0, 0, 40)
    ws.set_column(1, 8, 16)
    ws.write_string(0, 0, f"KẾT QUẢ CHẤM ĐIỂM, XẾP HẠNG THI ĐUA NĂM {c.settings.year}", book.title)
    ws.write_string(1, 0, f"{c.settings.issuing_body} - đợt {c.settings.campaign_id}", book.text)
    heads = ["Khối thi đua", "Số đơn vị", "Được xếp hạng", "Không xếp hạng", "Dẫn đầu", "Điểm cao nhất"]
    if y is not None:
        heads += ["Số đơn vị được đề nghị", f"Trưởng khối {c.settings.year + 1}", f"Phó khối {c.settings.year + 1}"]
        nexts = {r.bloc: r for r in y.succession.itertuples()}
    for i, h in enumerate(heads):
        ws.write_string(3, i, h, book.head)
    for r, bloc in enumerate(c.blocs, start=4):
        rows = ranked[ranked["bloc"] == bloc.code]
        top = rows[rows["rank"] == 1]
        ws.write_string(r, 0, bloc.name, book.text)
        ws.write_number(r, 1, len(c.members(bloc.code)), book.int)
        ws.write_number(r, 2, len(rows), book.int)
        ws.write_number(r, 3, int((unranked["bloc"] == bloc.code).sum()) if len(unranked) else 0, book.int)
        ws.write_string(r, 4, "; ".join(top["short_name"]) if len(top) else "", book.text)
        if len(rows):
            ws.write_number(r, 5, float(rows["total"].max()), book.num)
        if y is not None:
            ws.write_number(r, 6, int((y.proposals["bloc"] == bloc.code).sum()), book.int)
            n = nexts.get(bloc.code)
            for col, code in ((7, n.head if n else ""), (8, n.deputy if n else "")):
                unit = c.unit(code)
                ws.write_string(r, col, unit.short_name if unit else code, book.text)
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.activate()


def _chart(book: Book, ws, sheet: str, n: int, name_col: int, total_col: int) -> None:
    chart = book.wb.add_chart({"type": "bar"})
    first, last = 3, 3 + n - 1
    chart.add_series({"name": "Tổng điểm", "categories": [sheet, first, name_col, last, name_col],
                      "values": [sheet, first, total_col, last, total_col], "data_labels": {"value": True}})
    chart.set_title({"name": "Tổng điểm", "name_font": {"name": FONT}})
    chart.set_y_axis({"reverse": True, "num_font": {"name": FONT}})
    chart.set_x_axis({"num_font": {"name": FONT}})
    chart.set_legend({"none": True})
    chart.set_size({"width": 720, "height": 40 + 28 * n})
    ws.insert_chart(last + 3, 0, chart)


def _matrix(book: Book, c: Campaign, bloc: str, rows: pd.DataFrame) -> None:
    """Units × criteria of one bloc (`rows`: its part of the matrix): final, self and reviewed blocks."""
    ws = book.wb.add_worksheet(f"Ma trận {bloc}")
    codes, unit_codes = set(rows["code"]), set(rows["unit"])
    leaves = [k for k in c.leaves if k.code in codes] or list(c.leaves)
    units = [u for u in c.members(bloc) if u.code in unit_codes]
    ws.write_string(0, 0, f"Ma trận điểm: đơn vị × tiêu chí (khối {bloc})", book.title)
    top = 2
    for block, (label, col) in enumerate((("Điểm cuối cùng", "final"), ("Điểm tự chấm", "self"), ("Điểm thẩm định", "reviewed"))):
        r0 = top + block * (len(units) + 4)
        ws.write_string(r0, 0, label, book.title)
        ws.write_string(r0 + 1, 0, "Mã đơn vị", book.head)
        ws.write_string(r0 + 1, 1, "Tên đơn vị", book.head)
        for j, k in enumerate(leaves):
            ws.write_string(r0 + 1, 2 + j, k.code, book.head)
        grid = (rows.pivot_table(index="unit", columns="code", values=col, aggfunc="first") if len(rows)
                else pd.DataFrame()).reindex(index=[u.code for u in units], columns=[k.code for k in leaves])
        for i, (u, line) in enumerate(zip(units, grid.to_numpy())):
            ws.write_string(r0 + 2 + i, 0, u.code, book.text)
            ws.write_string(r0 + 2 + i, 1, u.short_name, book.text)
            for j, v in enumerate(line):
                book.cell(ws, r0 + 2 + i, 2 + j, None if pd.isna(v) else float(v))
        if units:
            ws.conditional_format(r0 + 2, 2, r0 + 1 + len(units), 1 + len(leaves), {"type": "3_color_scale"})
        if col == "reviewed" and units:
            # Highlight reviewed scores that differ from the self score (the self block sits just above).
            gap = len(units) + 4
            a = xl_rowcol_to_cell(r0 + 2, 2, row_abs=False, col_abs=False)
            b = xl_rowcol_to_cell(r0 + 2 - gap, 2, row_abs=False, col_abs=False)
            ws.conditional_format(r0 + 2, 2, r0 + 1 + len(units), 1 + len(leaves),
                                  {"type": "formula", "criteria": f'=AND(ISNUMBER({a}),{a}<>{b})', "format": book.diff})
    ws.set_column(0, 0, 10)
    ws.set_column(1, 1, 26)
    ws.set_column(2, 1 + len(leaves), 7)
    ws.freeze_panes(top + 2, 2)
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
