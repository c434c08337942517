"""Proposal stage: proposals and held units -> out/proposal-<year>.xlsx, printable lists (Decree 30/2020 layout)."""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from pathlib import Path

import pandas as pd

from .campaign import Campaign
from .templates import A4, FONT, new_workbook, row_height

CREATED = dt.datetime(2000, 1, 1)  # fixed: the same inputs give byte-identical workbooks
HELD_SHEET = "Không đề nghị"
EMPTY_SHEET = "Đề nghị khen thưởng"
NATION, MOTTO = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"
PROPOSAL_HEADERS = ("STT", "Tên đơn vị", "Thành tích", "Hình thức khen thưởng", "Ghi chú")
HELD_HEADERS = ("STT", "Khối", "Tên đơn vị", "Hình thức khen thưởng", "Lý do")
# Column widths count Times New Roman 12 digits (the workbook's default font): landscape A4 between
# Decree 30 margins holds about 113 of them at 100 %, so the long achievement and reason texts print
# at full size instead of being shrunk onto a portrait page.
PROPOSAL_WIDTHS = (5, 32, 32, 17, 27)
HELD_WIDTHS = (5, 32, 26, 22, 28)
CHARS_PER_WIDTH = 1.1  # Vietnamese text in Times New Roman: about 1.2 characters per digit width, less a margin
LEFT = 2  # the issuing body and "Nơi nhận" span the first LEFT columns, the motto and signature the rest
TEXT_COLUMNS = ("bloc", "unit", "name", "short_name", "award_code", "award", "issuer", "grade", "achievement",
                "reason", "warning")
BLANK_DATE = "ngày      tháng      năm"


def date_line(place: str, day: dt.date | None, year: int) -> str:
    """Decree 30: days 1-9 and months 1-2 take a leading zero; no date leaves blanks to fill by hand."""
    if day is None:
        return f"{place}, {BLANK_DATE} {year}"
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"{place}, ngày {day.day:02d} tháng {month} năm {day.year}"


def _t(v) -> str:
    return "" if v is None or (isinstance(v, float) and pd.isna(v)) else unicodedata.normalize("NFC", str(v)).strip()


def _height(*cells: tuple[str, float], size: int = 12) -> float:
    """Like templates.row_height, counting the lines of each paragraph of a multi-line text."""
    return max(sum(row_height((p, w * CHARS_PER_WIDTH), size=size) for p in t.split("\n")) for t, w in cells) + 4


def _roman(n: int) -> str:
    out = ""
    for value, letters in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"),
                           (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        q, n = divmod(n, value)
        out += letters * q
    return out


def _sheet_name(code: str, taken: set[str]) -> str:
    """Excel: at most 31 characters, none of []:*?/\\, unique regardless of case."""
    base = re.sub(r"[\[\]:*?/\\]", "_", code)[:31].strip("'") or "DE_NGHI"
    name, n = base, 1
    while name.casefold() in taken:
        n += 1
        name = f"{base[:31 - len(str(n)) - 1]}-{n}"
    taken.add(name.casefold())
    return name


def _ordered(c: Campaign, frame: pd.DataFrame, *keys: str) -> pd.DataFrame:
    """Blocs in the covenant's order (unknown blocs last), then the given keys; stable, so ties keep input order."""
    if frame.empty:
        return frame
    order = {b.code: i for i, b in enumerate(c.blocs)}
    return (frame.assign(_bloc=frame["bloc"].map(order).fillna(len(order)))
            .sort_values(["_bloc", *keys], kind="stable").drop(columns="_bloc"))


def _bloc_name(c: Campaign, code: str) -> str:
    bloc = c.bloc(code)
    return bloc.name if bloc else code


def _signing_year(c: Campaign) -> int:
    """The year the list is signed: the proposal date's, else the year after the campaign's."""
    return c.settings.proposal_date.year if c.settings.proposal_date else c.settings.year + 1


def _text(frame: pd.DataFrame) -> pd.DataFrame:
    """Every text column as NFC str, missing values as "": what reaches a cell is always a string."""
    return frame.assign(**{k: frame[k].map(_t) for k in TEXT_COLUMNS if k in frame.columns})


class _Formats:
    def __init__(self, wb):
        def add(size=12, **kw):
            return wb.add_format({"font_name": FONT, "font_size": size, "align": "center", "valign": "vcenter",
                                  "text_wrap": True, **kw})
        self.parent = add()
        self.body = add(bold=True)
        self.rule = add(8, valign="top")
        self.nation = add(bold=True)
        self.motto = add(13, bold=True, underline=1)
        self.date = add(13, italic=True)
        self.title = add(14, bold=True)
        self.attached = add(13, italic=True)
        self.head = add(bold=True, border=1)
        self.stt = add(border=1)
        self.cell = add(border=1, align="left", indent=1)
        self.note = add(11, border=1, align="left", indent=1)
        self.group_stt = add(bold=True, border=1)
        self.group = add(bold=True, border=1, align="left", indent=1)
        self.total = add(13, align="left", valign="bottom")
        # The signature block's rows also hold "Nơi nhận": both hang from the top so each column reads evenly.
        self.sign = add(13, bold=True, valign="top")
        self.to_head = add(bold=True, italic=True, align="left", valign="top")
        self.to = add(11, align="left", valign="top")


def _put(ws, r: int, c1: int, c2: int, text: str, fmt) -> None:
    """Text from anywhere goes in with write_string, merged or not: never a formula or a link."""
    if c2 > c1:
        ws.merge_range(r, c1, r, c2, "", fmt)
    ws.write_string(r, c1, text, fmt)


def _page(ws, widths: tuple[int, ...]) -> None:
    for i, w in enumerate(widths):
        ws.set_column(i, i, w)
    ws.set_paper(A4)
    ws.set_landscape()
    ws.set_margins(left=1.18, right=0.69, top=0.79, bottom=0.79)  # 3 / 1.75 / 2 / 2 cm
    # Printed at 100 %, not fitted: Excel ignores manual page breaks on a fitted sheet, and _paginate's keep
    # the bloc's heading with its first unit and the signature with the last row.
    ws.center_horizontally()
    ws.hide_gridlines(2)
    ws.set_footer(f'&C&"{FONT},Regular"&11Trang &P/&N')


PAGE_HEIGHT = 470  # points: landscape A4 (595 pt) less the 2 cm margins top and bottom, and a little to spare
DEFAULT_ROW = 16


def _paginate(ws, header_row: int, keep: list[tuple[int, int]], last: int) -> None:
    """Manual page breaks so no block in `keep` (first row, last row) is split across pages, every page
    below the repeated header row; xlsxwriter cannot ask the spreadsheet where its pages fall."""
    # xlsxwriter keeps the heights set_row was given, in pixels (4/3 of a point)
    height = lambda r: 0.75 * ws.row_sizes[r][0] if ws.row_sizes.get(r, [None])[0] else DEFAULT_ROW  # noqa: E731
    ends: dict[int, int] = {}
    for a, b in sorted(keep):  # overlapping blocks are one: heading, group row and first unit together
        start = next((s for s, e in ends.items() if s <= a <= e), a)
        ends[start] = max(b, ends.get(start, b))
    breaks, y, r = [], 0.0, 0
    while r <= last:
        end = ends.get(r, r)
        h = sum(height(i) for i in range(r, end + 1))
        if y + h > PAGE_HEIGHT and r > header_row + 1 and y > height(header_row):
            breaks.append(r)
            y = height(header_row)  # the header row repeats at the top of the new page
        y += h
        r = end + 1
    ws.set_h_pagebreaks(breaks)


def _heading(ws, f: _Formats, c: Campaign, widths: tuple[int, ...]) -> int:
    """Issuing body top left, national motto top right, place and date under the motto; returns the next row."""
    s = c.settings
    issuing = _t(s.issuing_body).upper()
    left = ([(_t(s.parent_body).upper(), f.parent, 12)] if _t(s.parent_body) else []) + [(issuing, f.body, 12)]
    # Decree 30: a rule under the issuing body, a third to a half of its length; small type keeps it close.
    left.append(("_" * min(max(len(issuing) // 2, 8), 24), f.rule, 0))
    right = [(NATION, f.nation, 12), (MOTTO, f.motto, 13), ("", f.parent, 0),
             (date_line(_t(s.place), s.proposal_date, _signing_year(c)), f.date, 13)]
    blank = ("", f.parent, 0)  # size 0: a thin 10 pt row
    lw, rw, last = sum(widths[:LEFT]), sum(widths[LEFT:]), len(widths) - 1
    rows = max(len(left), len(right))
    left, right = left + [blank] * (rows - len(left)), right + [blank] * (rows - len(right))
    for r, ((lt, lf, ls), (rt, rf, rs)) in enumerate(zip(left, right)):
        _put(ws, r, 0, LEFT - 1, lt, lf)
        _put(ws, r, LEFT, last, rt, rf)
        # Bold capitals run wider than the average text _height assumes.
        ws.set_row(r, max(_height((t, w / 1.5), size=z) if z else 10 for t, w, z in ((lt, lw, ls), (rt, rw, rs))))
    return rows + 1


def _title(ws, f: _Formats, r: int, widths: tuple[int, ...], lines: list[str], attached: str) -> int:
    last = len(widths) - 1
    for line in lines:
        _put(ws, r, 0, last, line, f.title)
        ws.set_row(r, _height((line, sum(widths) / 1.3), size=14))
        r += 1
    if attached:
        _put(ws, r, 0, last, attached, f.attached)
        r += 1
    return r + 1


def _table(ws, f: _Formats, r: int, headers: tuple[str, ...], widths: tuple[int, ...], body: list,
           keep: list, name_at: int = 0) -> int:
    """Header row (repeated on every printed page) and the body: a str is a bloc's group row, a tuple a unit's row
    (its official name at `name_at`: a unit on two rows counts once in the total)."""
    last = len(headers) - 1
    for i, h in enumerate(headers):
        ws.write_string(r, i, h, f.head)
    ws.set_row(r, _height(*zip(headers, widths)))
    ws.repeat_rows(r)
    keep.append((r, r + 1))  # the header row with the first row under it
    r += 1
    if not body:
        _put(ws, r, 0, last, "Không có đơn vị nào.", f.stt)
        return r + 1
    n = groups = 0
    for row in body:
        if isinstance(row, str):
            keep.append((r, r + 1))  # a bloc's heading row with its first unit
            groups += 1
            ws.write_string(r, 0, _roman(groups), f.group_stt)
            _put(ws, r, 1, last, row, f.group)
            ws.set_row(r, _height((row, sum(widths[1:]))))
        else:
            n += 1
            ws.write_number(r, 0, n, f.stt)
            for i, v in enumerate(row, start=1):
                ws.write_string(r, i, v, f.note if i == last else f.cell)
            ws.set_row(r, max(_height(*zip(row[:-1], widths[1:-1])), _height((row[-1], widths[-1]), size=11)))
        r += 1
    keep.append((r - 1, r))  # the last row with the total under it
    units = len({row[name_at] for row in body if not isinstance(row, str)})
    _put(ws, r, 0, last, f"Tổng số: {units} đơn vị.", f.total)
    ws.set_row(r, 24)
    return r + 2


def _signature(ws, f: _Formats, c: Campaign, r: int, widths: tuple[int, ...]) -> int:
    """The "Nơi nhận" list on the left; on the right "TM.", the signer's title, room to sign and seal, the name."""
    s = c.settings
    recipients = [_t(x).rstrip(";.") for x in s.recipients if _t(x)]
    left = ["Nơi nhận:"] + [f"- {x}{'.' if i == len(recipients) - 1 else ';'}" for i, x in enumerate(recipients)]
    space = max(4, len(left) - 2)  # rows left blank on the right for the signature and seal
    right = [f"TM. {_t(s.issuing_body).upper()}", _t(s.signer_title).upper()] + [""] * space + [_t(s.signer_name)]
    lw, rw, last = sum(widths[:LEFT]), sum(widths[LEFT:]), len(widths) - 1
    for i, rt in enumerate(right):
        lt = left[i] if i < len(left) and recipients else ""
        _put(ws, r + i, 0, LEFT - 1, lt, f.to_head if i == 0 else f.to)
        _put(ws, r + i, LEFT, last, rt, f.sign)
        room = 80 / space if 1 < i < len(right) - 1 else 0  # about 3 cm between the title and the name
        ws.set_row(r + i, max(_height((lt, lw), size=11), _height((rt, rw / 1.5), size=13), room))
    return r + len(right) - 1


def _award_sheet(ws, f: _Formats, c: Campaign, award: str, issuer: str, rows: pd.DataFrame) -> None:
    _page(ws, PROPOSAL_WIDTHS)
    r = _heading(ws, f, c, PROPOSAL_WIDTHS)
    r = _title(ws, f, r, PROPOSAL_WIDTHS,
               ["DANH SÁCH", f"Đề nghị tặng {award} năm {c.settings.year}", f"(Cấp khen: {issuer})"],
               f"(Kèm theo Tờ trình số        /TTr-        {BLANK_DATE} {_signing_year(c)})")
    body, bloc = [], None
    for p in rows.to_dict("records"):
        if p["bloc"] != bloc:
            bloc = p["bloc"]
            body.append(_bloc_name(c, bloc))
        note = p["reason"] + (f"\nCảnh báo: {p['warning']}" if p["warning"] else "")
        body.append((p["name"], p["achievement"], p["award"], note))
    keep: list[tuple[int, int]] = []
    top = r
    r = _table(ws, f, r, PROPOSAL_HEADERS, PROPOSAL_WIDTHS, body, keep)
    end = _signature(ws, f, c, r, PROPOSAL_WIDTHS)
    keep[-1] = (keep[-1][0], end)  # the last row, the total and the whole signature block on one page
    _paginate(ws, top, keep, end)


def _empty_sheet(ws, f: _Formats, c: Campaign) -> None:
    _page(ws, PROPOSAL_WIDTHS)
    r = _heading(ws, f, c, PROPOSAL_WIDTHS)
    r = _title(ws, f, r, PROPOSAL_WIDTHS, ["DANH SÁCH", f"Đề nghị khen thưởng năm {c.settings.year}"], "")
    _put(ws, r, 0, len(PROPOSAL_WIDTHS) - 1, "Không có đơn vị nào được đề nghị khen thưởng.", f.date)


def _held_sheet(ws, f: _Formats, c: Campaign, held: pd.DataFrame) -> None:
    _page(ws, HELD_WIDTHS)
    r = _heading(ws, f, c, HELD_WIDTHS)
    r = _title(ws, f, r, HELD_WIDTHS,
               ["DANH SÁCH", f"Đơn vị không đề nghị khen thưởng năm {c.settings.year}"],
               "(Đơn vị đạt thứ hạng xét khen thưởng nhưng không đề nghị, kèm lý do)")
    body = [(_bloc_name(c, h["bloc"]), h["name"], h["award"], h["reason"]) for h in held.to_dict("records")]
    keep: list[tuple[int, int]] = []
    end = _table(ws, f, r, HELD_HEADERS, HELD_WIDTHS, body, keep, name_at=1)
    _paginate(ws, r, keep, end)


def write_proposal(path: Path, c: Campaign, proposals: pd.DataFrame, held: pd.DataFrame) -> Path:
    """One printable list per (award, issuer), then the units held back; byte-identical for the same inputs."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = new_workbook(path, {"title": f"Danh sách đề nghị khen thưởng năm {c.settings.year}",
                             "author": _t(c.settings.issuing_body), "created": CREATED},
                      default_format_properties={"font_name": FONT, "font_size": 12})
    f = _Formats(wb)
    proposals, held = _text(proposals), _text(held)
    taken = {HELD_SHEET.casefold()}
    if proposals.empty:
        _empty_sheet(wb.add_worksheet(EMPTY_SHEET), f, c)
    else:
        pairs = proposals.groupby(["award", "issuer"], sort=False)["priority"].min()
        for award, issuer in sorted(pairs.index, key=lambda k: (pairs[k], k)):
            rows = proposals[(proposals["award"] == award) & (proposals["issuer"] == issuer)]
            ws = wb.add_worksheet(_sheet_name(rows["award_code"].iloc[0], taken))
            _award_sheet(ws, f, c, award, issuer, _ordered(c, rows, "rank"))
    _held_sheet(wb.add_worksheet(HELD_SHEET), f, c, _ordered(c, held))
    wb.close()
    return path
