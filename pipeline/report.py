"""Report stage: ranks, matrices, issues and provenance -> out/results-<year>.xlsx and out/validation.xlsx."""
from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from xlsxwriter.utility import xl_rowcol_to_cell

import schemas

from .campaign import Campaign
from .templates import new_workbook, row_height
from .inputs import CODES as INPUT_CODES
from .issues import ISSUE_COLUMNS, Issue, to_frame
from .score import round_half_up
from .workbook import atomic, csv_safe_column, vn

FONT = "Times New Roman"
CREATED = dt.datetime(2000, 1, 1)  # fixed: the same inputs give byte-identical workbooks

RANKING = {  # column -> stable header (SPEC.md)
    "bloc": "Mã khối", "unit": "Mã đơn vị", "name": "Tên đơn vị", "self_total": "Điểm tự chấm",
    "reviewed_total": "Điểm thẩm định", "bonus": "Điểm thưởng", "deduction": "Điểm trừ", "total": "Tổng điểm",
    "grade": "Xếp loại", "rank": "Thứ hạng", "tied": "Đồng hạng",
    # where criteria do not apply to a unit: the sum as scored, the criteria left out, the factor (na_policy)
    "raw_total": "Cộng điểm các tiêu chí áp dụng", "na_left_out": "Tiêu chí không áp dụng",
    "na_factor": "Hệ số quy đổi", "votes": "Phiếu suy tôn",
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
# Column widths (Calibri 11 digits); what is not listed is a number or a code: NARROW.
WIDTHS = {"instead": 22, "review_note": 40, "name": 26, "tie_note": 34, "reason": 46, "achievement": 36,
          "warning": 22, "award": 22, "issuer": 18, "note": 36, "how": 40, "head_name": 28, "deputy_name": 28,
          "proposal": 20, "status": 14, "message": 66, "message_en": 60, "file": 28, "sheet": 13, "sha256": 30,
          "grade": 9, "received": 17, "sender": 24, "code": 9, "unit": 8, "bloc": 6, "severity": 8, "cell": 6,
          "value": 8, "next_unit": 9, "margin": 9, "self_total": 8, "reviewed_total": 8, "bonus": 7,
          "deduction": 7, "total": 8, "rank": 7, "tied": 7, "votes": 7, "vote_share": 7, "raw_total": 9,
          "na_left_out": 10, "na_factor": 8}
NARROW = 8
# Landscape A4 less 1 cm margins: about 1,045 pixels; LibreOffice gives a column about 8.6 per width unit
# (Times New Roman 11), Excel a little less.
PRINT_PX, PX_PER_UNIT, LEAST_SCALE = 1045, 8.6, 75
# More provenance rows than this go to a CSV beside the workbook (Excel opens a 400,000-row sheet slowly, and
# the sheet is data to look up, not to read): the sheet then says where they are.
PROVENANCE_IN_BOOK = 50_000
# Not for paper: kept for scripts and filters, outside the print area at the table's right.
ISSUES_OFF_PAPER = ("code", "message_en")
RESCALE = ("raw_total", "na_left_out", "na_factor")  # also in the note, in words


MATRIX_TOTAL, NOT_APPLICABLE = "Tổng", "KAD"
COUNTS = {"rank", "votes", "head_votes", "deputy_votes", "members", "present", "issued", "valid", "versions",
          "errors", "warnings", "evidence"}
SHARES = {"vote_share"}
FACTORS = {"na_factor"}
WHEN = {"received"}  # written as real dates, shown dd/mm/yyyy hh:mm


def _when(v) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(v).strip())
    except ValueError:
        return None


class Book:
    """An xlsxwriter workbook with the house formats; text is always written as text, every wrapped cell's row
    sized for it, every table printed landscape at no less than 75 %."""

    def __init__(self, path: Path, decimals: int = 2):
        path.parent.mkdir(parents=True, exist_ok=True)
        # The default font sets the width of a column unit: Times New Roman prints the same everywhere (Liberation
        # Serif where it is missing), where Calibri falls back to wider fonts and pushes columns off the page.
        self.wb = new_workbook(path, {"created": CREATED}, nan_inf_to_errors=True,
                               default_format_properties={"font_name": FONT, "font_size": 11})
        base = {"font_name": FONT, "font_size": 11}
        self.text = self.wb.add_format({**base, "text_wrap": True, "valign": "top"})
        points = "0." + "0" * decimals if decimals > 0 else "0"  # scores with the campaign's decimals (rounding)
        self.num = self.wb.add_format({**base, "num_format": points, "valign": "top"})
        self.factor = self.wb.add_format({**base, "num_format": "0.0###", "valign": "top"})
        self.int = self.wb.add_format({**base, "num_format": "0", "valign": "top", "align": "center"})
        self.head = self.wb.add_format({**base, "bold": True, "text_wrap": True, "bg_color": "#DDEBF7", "border": 1,
                                        "valign": "vcenter", "align": "center"})
        self.title = self.wb.add_format({**base, "bold": True, "font_size": 14})
        self.line = self.wb.add_format(base)  # one line, overflowing into the empty cells at its right
        self.diff = self.wb.add_format({"bg_color": "#FCE4D6"})
        self.warn = self.wb.add_format({**base, "italic": True, "text_wrap": True, "valign": "top",
                                        "font_color": "#9C0006"})
        self.small = self.wb.add_format({**base, "italic": True, "font_size": 9, "align": "right"})
        self.small_num = self.wb.add_format({**base, "italic": True, "font_size": 9, "num_format": "0.##"})
        self.na = self.wb.add_format({**base, "align": "center", "font_color": "#808080", "bg_color": "#EDEDED"})
        self.num_bold = self.wb.add_format({**base, "num_format": points, "bold": True})
        self.share = self.wb.add_format({**base, "num_format": "0.0", "valign": "top"})
        self.when = self.wb.add_format({**base, "num_format": "dd/mm/yyyy hh:mm", "valign": "top", "align": "left"})
        self.wrapped: dict[tuple[object, int], list] = {}
        self.widths: dict[tuple[str, int], float] = {}

    def table(self, name: str, frame: pd.DataFrame, headers: dict[str, str], title: str = "", top: int = 0,
              ws=None, table_name: str | None = None, off_paper: tuple[str, ...] = ()):
        """Write `frame` as an Excel table (filters, banded rows) under an optional title; returns the sheet."""
        ws = ws or self.wb.add_worksheet(name)
        if title:
            ws.write_string(top, 0, title, self.title)
            top += 2
        # Columns for scripts, not for paper, go last, out of the print area.
        cols = [c for c in headers if c not in off_paper] + [c for c in headers if c in off_paper]
        for c, col in enumerate(cols):
            self.column(ws, c, WIDTHS.get(col, NARROW))
        for c, col in enumerate(cols):
            self.fit(ws, top, c, headers[col], bold=True, least=30)
        for r, row in enumerate(schemas.columns(frame, *cols), start=top + 1):
            for c, v in enumerate(row):
                self.cell(ws, r, c, v, cols[c])
        ws.add_table(top, 0, top + max(len(frame), 1), len(cols) - 1, {
            "columns": [{"header": headers[c], "header_format": self.head} for c in cols],
            "style": "Table Style Light 9", "name": table_name, "autofilter": True})
        ws.freeze_panes(top + 1, 1 if "name" not in cols else cols.index("name") + 1)
        printed = len([c for c in cols if c not in off_paper])
        self.page(ws, printed, top + max(len(frame), 1))
        ws.repeat_rows(top)
        return ws

    def note(self, ws, r: int, cols: int, text: str) -> None:
        """One wrapped line across the first `cols` columns of row `r` (a warning above a table)."""
        ws.merge_range(r, 0, r, cols - 1, text, self.warn)
        width = sum(self.widths.get((ws.name, c), NARROW) for c in range(cols))
        ws.set_row(r, max(15, row_height((text, width / 1.05), size=11)))

    def column(self, ws, c: int, width: float) -> None:
        ws.set_column(c, c, width)
        self.widths[(ws.name, c)] = width

    def fit(self, ws, r: int, c: int, text: str, bold: bool = False, least: float = 0) -> None:
        """Row `r` will hold `text` wrapped in column `c` (rows nobody has opened do not grow by themselves);
        sized at close, when every column has its final width."""
        self.wrapped.setdefault((ws, r), []).append((c, text, bold, least))

    def _grow_rows(self) -> None:
        for (ws, r), cells in self.wrapped.items():
            need = max(max(least, row_height((t, self.widths.get((ws.name, c), NARROW) / (1.35 if bold else 1)),
                                             size=11)) for c, t, bold, least in cells)
            if need > 15:
                ws.set_row(r, need)

    def page(self, ws, cols: int, last_row: int) -> None:
        """Landscape A4; the first `cols` columns at the largest scale up to 100 % that fits them across, never
        below 75 % (a wider sheet prints across pages, its key columns repeated)."""
        px = sum(self.widths.get((ws.name, c), NARROW) * PX_PER_UNIT for c in range(cols))
        scale = max(LEAST_SCALE, min(100, int(PRINT_PX * 100 / max(px, 1))))
        ws.set_paper(9)
        ws.set_landscape()
        ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
        ws.set_print_scale(scale)
        ws.print_area(0, 0, max(last_row, 0), cols - 1)
        ws.set_footer(f'&C&"{FONT},Regular"&10Trang &P')

    def cell(self, ws, r: int, c: int, v, col: str = "") -> None:
        if v is None or (isinstance(v, float) and pd.isna(v)):
            ws.write_blank(r, c, None, self.text)
        elif isinstance(v, bool):
            ws.write_string(r, c, "x" if v else "", self.text)
        elif isinstance(v, (int,)) or col in COUNTS:
            ws.write_number(r, c, v, self.int)  # counts and votes as whole numbers
        elif isinstance(v, float):
            ws.write_number(r, c, v, self.share if col in SHARES else self.factor if col in FACTORS else self.num)
        elif col in WHEN and _when(v) is not None:
            ws.write_datetime(r, c, _when(v), self.when)  # a real date, shown dd/mm/yyyy
        else:
            ws.write_string(r, c, str(v), self.text)
            self.fit(ws, r, c, str(v))

    def close(self):
        self._grow_rows()
        self.wb.close()


def write_validation(path: Path, c: Campaign, issues: list[Issue], summary: pd.DataFrame) -> Path:
    """out/validation.xlsx: sheet `Lỗi` (one row per issue) and `Tổng hợp` (one row per unit)."""
    book = Book(path)
    frame = to_frame(issues)
    frame.columns = list(ISSUE_COLUMNS)
    book.table("Lỗi", frame, ISSUE_COLUMNS, table_name="Loi", off_paper=ISSUES_OFF_PAPER)
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
    book = Book(path, c.settings.rounding)
    summary = book.wb.add_worksheet("Tổng hợp")
    if year_end is not None:
        award = dict(zip(year_end.proposals["unit"], year_end.proposals["award"]))
        ranked = ranked.assign(proposal=ranked["unit"].map(award).fillna(""))
        notes = _notes(year_end)
        ranked = ranked.assign(tie_note=[_why(notes.get(u), t) for u, t in zip(
            ranked["unit"], ranked["tie_note"] if "tie_note" in ranked.columns else [""] * len(ranked))])
    if "na_left_out" in ranked.columns:
        ranked = ranked.assign(tie_note=[_with_rescale(note, r) for note, r in zip(
            ranked["tie_note"] if "tie_note" in ranked.columns else [""] * len(ranked),
            ranked[list(RESCALE)].itertuples(index=False))])
    columns = {k: v for k, v in RANKING.items() if k in ranked.columns}
    _reviewed_differs(book, book.table("Xếp hạng", ranked, columns, table_name="XepHang", off_paper=RESCALE),
                      columns, 0, len(ranked))
    _summary(book, summary, c, ranked, unranked, year_end)
    if year_end is not None:
        _year_end(book, c, year_end)
    # Split by bloc once: filtering the whole matrix per bloc is quadratic in a large campaign.
    ranked_by_bloc = dict(tuple(ranked.groupby("bloc", sort=False))) if len(ranked) else {}
    matrix_by_bloc = dict(tuple(m.groupby("bloc", sort=False))) if len(m) else {}
    left_out = _not_ranked_rows(c, unranked)
    missing = _missing_inputs(issues)
    # the bloc's sheet also names each member left out, with why; the chart's short names sit off paper
    bloc_columns = {**columns, "short_name": "Tên gọi tắt"}
    off_paper = RESCALE + ("short_name",)
    printed = [k for k in bloc_columns if k not in off_paper]
    in_sheet = printed + [k for k in bloc_columns if k in off_paper]  # the order Book.table writes them in
    for bloc in c.blocs:
        rows = ranked_by_bloc.get(bloc.code, ranked.iloc[0:0])
        out = left_out.get(bloc.code)
        shown = pd.concat([rows, out], ignore_index=True) if out is not None and len(rows) else (
            out if out is not None else rows)
        ws = book.table(f"Khối {bloc.code}", shown.reindex(columns=list(bloc_columns)), bloc_columns,
                        title=f"{bloc.name}: xếp hạng năm {c.settings.year}", table_name=f"Khoi_{bloc.code}",
                        off_paper=off_paper)
        if bloc.code in missing:  # rank could not use everything: said where the bloc's result is read
            book.note(ws, 1, len(printed), "Lưu ý: " + "; ".join(missing[bloc.code]))
        _reviewed_differs(book, ws, columns, 2, len(rows))
        if len(rows):
            # the chart sits under the table: printed with it
            ws.print_area(0, 0, 2 + len(shown) + 4 + (80 + 30 * len(rows)) // 20, len(printed) - 1)
            _chart(book, ws, f"Khối {bloc.code}", len(rows), in_sheet.index("short_name"), in_sheet.index("total"),
                   c.settings.scale, len(shown))
        if len(c.blocs) <= c.settings.matrix_blocs:  # 500 matrix sheets would be unreadable and slow to open
            _matrix(book, c, bloc.code, matrix_by_bloc.get(bloc.code, m.iloc[0:0]))
    book.table("Không xếp hạng", unranked, UNRANKED, table_name="KhongXepHang")
    frame = to_frame(issues)
    frame.columns = list(ISSUE_COLUMNS)
    book.table("Lỗi", frame, ISSUE_COLUMNS, table_name="Loi", off_paper=ISSUES_OFF_PAPER)
    prov = _provenance(m)
    beside = provenance_csv(path)
    if len(prov) > PROVENANCE_IN_BOOK:
        _write_csv(beside, prov, PROVENANCE)
        ws = book.wb.add_worksheet("Nguồn số liệu")
        ws.write_string(0, 0, f"Nguồn của {len(prov):,} điểm số (tệp, trang tính, ô, SHA-256) ghi ở tệp "
                        f"{beside.name} cùng thư mục (mở bằng Excel).".replace(",", "."), book.line)
    else:
        beside.unlink(missing_ok=True)  # an earlier, larger run's CSV would now be stale
        book.table("Nguồn số liệu", prov, PROVENANCE, table_name="NguonSoLieu", off_paper=("sha256",))
    book.close()
    return path


def provenance_csv(results: Path) -> Path:
    """Where the provenance of a campaign too large for one sheet is written: beside the results workbook."""
    return results.with_name(f"{results.stem}-nguon-so-lieu.csv")


def _write_csv(path: Path, frame: pd.DataFrame, headers: dict[str, str]) -> None:
    """A CSV Excel opens as Vietnamese (UTF-8 with a BOM), Vietnamese headers, text that is never a formula."""
    with atomic(path) as tmp, open(tmp, "w", newline="", encoding="utf-8-sig") as f:
        w = csv.writer(f)
        w.writerow(headers.values())
        columns = [csv_safe_column(frame[c].tolist()) for c in headers]
        w.writerows(zip(*columns))


def _with_rescale(note, r) -> str:
    """The note, then how a total with criteria that do not apply was reached (`r`: raw_total, na_left_out,
    na_factor; the columns stay off paper, for scripts and filters)."""
    note = "" if note is None or (isinstance(note, float) and pd.isna(note)) else str(note)
    if not isinstance(r.na_left_out, str) or not r.na_left_out:
        return note
    how = (f"Tiêu chí không áp dụng: {r.na_left_out}; cộng các tiêu chí áp dụng {vn(r.raw_total)}"
           + (f", quy đổi × {vn(r.na_factor)}" if pd.notna(r.na_factor) else ", tính đủ điểm tiêu chí không áp dụng"))
    return f"{note}. {how}" if note else how


def _not_ranked_rows(c: Campaign, unranked: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Per bloc, its members left out of the ranking as rows of its sheet: no rank, the note says why."""
    if not len(unranked):
        return {}
    rows = unranked.assign(short_name=[c.unit(u).short_name if c.unit(u) else u for u in unranked["unit"]],
                           tie_note=["Không xếp hạng: " + str(r) for r in unranked["reason"]])
    return dict(tuple(rows.drop(columns="reason").groupby("bloc", sort=False)))


def _missing_inputs(issues: list[Issue]) -> dict[str, list[str]]:
    """Per bloc, what rank could not use (pipeline.inputs), in Vietnamese."""
    found: dict[str, list[str]] = {}
    for i in issues:
        if i.code in INPUT_CODES and i.params.get("bloc"):
            found.setdefault(i.params["bloc"], []).append(i.message())
    return found


def _notes(y: YearEnd) -> dict[str, list[str]]:
    """Per unit, what it is proposed for and why it is held back from an award (grouped once: a filter of the
    proposals per unit grows with the square of the campaign)."""
    notes: dict[str, list[str]] = {}
    for u, a in zip(y.proposals["unit"], y.proposals["award"]):
        notes.setdefault(u, []).append(f"Đề nghị tặng {a}")
    for u, a, r in zip(y.held["unit"], y.held["award"], y.held["reason"]):
        notes.setdefault(u, []).append(f"Không đề nghị {a}: {r}")
    return notes


def _why(parts: list[str] | None, tie_note) -> str:
    """A ranked unit's note: what it is proposed for, or why not (`parts`, from _notes); then what its place
    says (a tie)."""
    parts = list(parts or ["Không đề nghị khen thưởng: chưa đạt điều kiện của hình thức nào (thứ hạng, xếp loại, điểm)"])
    tie = "" if tie_note is None or (isinstance(tie_note, float) and pd.isna(tie_note)) else str(tie_note)
    return ". ".join(parts + ([tie] if tie else []))


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
    book.column(ws, 0, 34)
    for i in range(1, 9):
        book.column(ws, i, {4: 30, 7: 18, 8: 18}.get(i, 11))
    ws.write_string(0, 0, f"KẾT QUẢ CHẤM ĐIỂM, XẾP HẠNG THI ĐUA NĂM {c.settings.year}", book.title)
    ws.write_string(1, 0, f"{c.settings.issuing_body} - đợt {c.settings.campaign_id}", book.line)
    heads = ["Khối thi đua", "Số đơn vị", "Được xếp hạng", "Không xếp hạng", "Dẫn đầu", "Điểm cao nhất"]
    if y is not None:
        heads += ["Số đơn vị được đề nghị", f"Trưởng khối {c.settings.year + 1}", f"Phó khối {c.settings.year + 1}"]
        nexts = {r.bloc: r for r in y.succession.itertuples()}
    for i, h in enumerate(heads):
        ws.write_string(3, i, h, book.head)
        book.fit(ws, 3, i, h, bold=True)
    by_bloc = dict(tuple(ranked.groupby("bloc", sort=False))) if len(ranked) else {}
    unranked_in = unranked["bloc"].value_counts().to_dict() if len(unranked) else {}
    proposed_in = y.proposals["bloc"].value_counts().to_dict() if y is not None and len(y.proposals) else {}
    for r, bloc in enumerate(c.blocs, start=4):
        rows = by_bloc.get(bloc.code, ranked.iloc[0:0])
        top = rows[rows["rank"] == 1]
        ws.write_string(r, 0, bloc.name, book.text)
        book.fit(ws, r, 0, bloc.name)
        ws.write_number(r, 1, len(c.members(bloc.code)), book.int)
        ws.write_number(r, 2, len(rows), book.int)
        ws.write_number(r, 3, int(unranked_in.get(bloc.code, 0)), book.int)
        leader = _leader(top, y)
        ws.write_string(r, 4, leader, book.text)
        book.fit(ws, r, 4, leader)
        if len(rows):
            ws.write_number(r, 5, float(rows["total"].max()), book.num)
        if y is not None:
            ws.write_number(r, 6, int(proposed_in.get(bloc.code, 0)), book.int)
            n = nexts.get(bloc.code)
            for col, code in ((7, n.head if n else ""), (8, n.deputy if n else "")):
                unit = c.unit(code)
                ws.write_string(r, col, unit.short_name if unit else code, book.text)
                book.fit(ws, r, col, unit.short_name if unit else code)
    book.page(ws, len(heads), 4 + len(c.blocs))
    ws.activate()


def _leader(top: pd.DataFrame, y: YearEnd | None) -> str:
    """The bloc's leader: its first-placed units, except one held back from an award, which is named as the
    top scorer with why it does not lead."""
    held = set(y.held["unit"]) if y is not None else set()
    lead = [s for u, s in zip(top["unit"], top["short_name"]) if u not in held]
    out = [s for u, s in zip(top["unit"], top["short_name"]) if u in held]
    text = "; ".join(lead)
    if out:
        text = (text + ". " if text else "Không có đơn vị dẫn đầu: ") + \
            f"{'; '.join(out)} điểm cao nhất nhưng không được đề nghị (xem Không đề nghị)"
    return text


def _chart(book: Book, ws, sheet: str, n: int, name_col: int, total_col: int, scale: float, below: int) -> None:
    """The first `n` rows' totals as bars named by column `name_col`; placed under the table's `below` rows."""
    chart = book.wb.add_chart({"type": "bar"})
    first, last = 3, 3 + n - 1
    under = 3 + below - 1
    chart.add_series({"name": "Tổng điểm", "categories": [sheet, first, name_col, last, name_col],
                      "values": [sheet, first, total_col, last, total_col], "data_labels": {"value": True}})
    chart.set_title({"name": "Tổng điểm", "name_font": {"name": FONT}})
    # Bars on the campaign's scale from 0, so blocs compare by eye; every unit named.
    chart.set_y_axis({"reverse": True, "num_font": {"name": FONT, "size": 9}, "interval_unit": 1})
    chart.set_x_axis({"min": 0, "max": scale, "num_font": {"name": FONT}})
    chart.set_legend({"none": True})
    chart.set_size({"width": 900, "height": 80 + 30 * n})
    ws.insert_chart(under + 3, 0, chart)
    if below > 4:
        ws.set_h_pagebreaks([under + 3])  # a chart is never cut in two by a page: under a long table it starts one


def _matrix(book: Book, c: Campaign, bloc: str, rows: pd.DataFrame) -> None:
    """Units × criteria of one bloc (`rows`: its part of the matrix): final, self and reviewed blocks."""
    ws = book.wb.add_worksheet(f"Ma trận {bloc}")
    codes, unit_codes = set(rows["code"]), set(rows["unit"])
    leaves = [k for k in c.leaves if k.code in codes] or list(c.leaves)
    units = [u for u in c.members(bloc) if u.code in unit_codes]
    digits = c.settings.rounding
    ws.write_string(0, 0, f"Ma trận điểm: đơn vị × tiêu chí (khối {bloc})", book.title)
    top = 2
    for block, (label, col) in enumerate((("Điểm cuối cùng", "final"), ("Điểm tự chấm", "self"), ("Điểm thẩm định", "reviewed"))):
        r0 = top + block * (len(units) + 4)
        ws.write_string(r0, 0, label, book.title)
        # each criterion's maximum above its code (the label row), its text in the legend below
        ws.write_string(r0, 1, "Điểm tối đa", book.small)
        for j, k in enumerate(leaves):
            ws.write_number(r0, 2 + j, k.max, book.small_num)
        ws.write_number(r0, 2 + len(leaves), sum(k.max for k in leaves), book.small_num)
        ws.write_string(r0 + 1, 0, "Mã đơn vị", book.head)
        ws.write_string(r0 + 1, 1, "Tên đơn vị", book.head)
        for j, k in enumerate(leaves):
            ws.write_string(r0 + 1, 2 + j, k.code, book.head)
        ws.write_string(r0 + 1, 2 + len(leaves), MATRIX_TOTAL, book.head)
        grid = (rows.pivot_table(index="unit", columns="code", values=col, aggfunc="first") if len(rows)
                else pd.DataFrame()).reindex(index=[u.code for u in units], columns=[k.code for k in leaves])
        for i, (u, line) in enumerate(zip(units, grid.to_numpy())):
            ws.write_string(r0 + 2 + i, 0, u.code, book.text)
            ws.write_string(r0 + 2 + i, 1, u.short_name, book.text)
            book.fit(ws, r0 + 2 + i, 1, u.short_name)
            for j, (k, v) in enumerate(zip(leaves, line)):
                if not c.applies(k, u):
                    ws.write_string(r0 + 2 + i, 2 + j, NOT_APPLICABLE, book.na)
                else:
                    # rounded as displayed: what a reader adds up is what the cell holds
                    book.cell(ws, r0 + 2 + i, 2 + j, None if pd.isna(v) else round_half_up(float(v), digits))
            # a number, not a formula: the results workbook holds no formula (nothing a return typed could become one)
            ws.write_number(r0 + 2 + i, 2 + len(leaves),
                            round_half_up(float(pd.Series(line, dtype="float64").sum()), digits), book.num_bold)
        for j, k in enumerate(leaves if units else ()):
            # colours by the share of each criterion's own maximum: a 2 of 2 is as green as a 10 of 10
            ws.conditional_format(r0 + 2, 2 + j, r0 + 1 + len(units), 2 + j, {
                "type": "3_color_scale", "min_type": "num", "min_value": 0, "mid_type": "num",
                "mid_value": k.max / 2, "max_type": "num", "max_value": k.max})
        if col == "reviewed" and units:
            # Highlight reviewed scores that differ from the self score (the self block sits just above).
            gap = len(units) + 4
            a = xl_rowcol_to_cell(r0 + 2, 2, row_abs=False, col_abs=False)
            b = xl_rowcol_to_cell(r0 + 2 - gap, 2, row_abs=False, col_abs=False)
            ws.conditional_format(r0 + 2, 2, r0 + 1 + len(units), 1 + len(leaves),
                                  {"type": "formula", "criteria": f'=AND(ISNUMBER({a}),{a}<>{b})', "format": book.diff})
    legend = top + 3 * (len(units) + 4)
    ws.write_string(legend, 1, "Tiêu chí", book.title)
    ws.write_string(legend + 1, 1, f"{NOT_APPLICABLE}: tiêu chí không áp dụng với đơn vị; Tổng: cộng các tiêu chí "
                    "(chưa tính điểm thưởng, điểm trừ, quy đổi)", book.line)
    for i, k in enumerate(leaves):
        # column A stays empty: the legend is never taken for a unit's row
        ws.write_string(legend + 2 + i, 1, k.code, book.text)
        ws.write_string(legend + 2 + i, 2, f"{k.text} (tối đa {k.max:g})", book.line)
    book.column(ws, 0, 9)
    book.column(ws, 1, 24)
    ws.set_column(2, 1 + len(leaves), 7)
    ws.set_column(2 + len(leaves), 2 + len(leaves), 8)
    ws.freeze_panes(top + 2, 2)
    # Data more than a document: printed at 75 % across as many pages as the criteria need, the units'
    # code and name repeated on each.
    ws.set_paper(9)
    ws.set_landscape()
    ws.set_print_scale(LEAST_SCALE)
    ws.repeat_columns(0, 1)
    ws.print_across()
