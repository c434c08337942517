"""Proposal stage: proposals and held units -> out/proposal-<year>.xlsx, printable lists (Decree 30/2020 layout).

What prints is what the council signs: the official name, the achievement to print on the certificate, the
score and the place. The machine's reasons, rule codes and warnings stay in the results workbook.
"""
from __future__ import annotations

import datetime as dt
import re
import types
import unicodedata
from pathlib import Path

import pandas as pd

from .campaign import Campaign, initials, legal_basis
from .templates import A4, FONT, line_height, new_workbook, text_lines

CREATED = dt.datetime(2000, 1, 1)  # fixed: the same inputs give byte-identical workbooks
HELD_SHEET = "Không đề nghị"
EMPTY_SHEET = "Đề nghị khen thưởng"
NATION, MOTTO = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"
PROPOSAL_HEADERS = ("STT", "Tên tập thể", "Thành tích", "Tổng điểm", "Xếp thứ", "Ghi chú")
HELD_HEADERS = ("STT", "Khối", "Tên đơn vị", "Hình thức khen thưởng", "Lý do")
# Column widths count Times New Roman 12 digits (the workbook's default font): between Decree 30 margins a
# portrait A4 page holds about 73 of them at 100 %, a landscape one about 113. The lists print portrait, like
# the Tờ trình they go with; the held-back units' longer reasons print landscape.
PROPOSAL_WIDTHS = (5, 18, 27, 7, 6, 7)  # the motto's line needs the 47 right of STT and the name
HELD_WIDTHS = (5, 24, 30, 22, 32)
LEFT = 2  # the issuing body and "Nơi nhận" span the first LEFT columns, the motto and signature the rest
TEXT_COLUMNS = ("bloc", "unit", "name", "short_name", "award_code", "award", "issuer", "grade", "achievement",
                "reason", "warning")
BLANK_DATE = "ngày      tháng      năm"
# Page bodies in points: A4 less the Decree 30 margins (2 cm top and bottom), and a little to spare.
PAGE_HEIGHT = {False: 722, True: 476}  # portrait, landscape
DEFAULT_ROW = 16
# Abbreviations written out in titles (Decree 30: the award's name in full).
IN_FULL = (("UBND", "Ủy ban nhân dân"), ("HĐND", "Hội đồng nhân dân"), ("TĐKT", "Thi đua - Khen thưởng"))


def date_line(place: str, day: dt.date | None, year: int) -> str:
    """Decree 30: days 1-9 and months 1-2 take a leading zero; no date leaves blanks to fill by hand."""
    if day is None:
        return f"{place}, {BLANK_DATE} {year}"
    return f"{place}, {_day(day)}"


def _day(day: dt.date) -> str:
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"ngày {day.day:02d} tháng {month} năm {day.year}"


def in_full(text: str) -> str:
    """`Cờ thi đua của UBND tỉnh` -> `Cờ thi đua của Ủy ban nhân dân tỉnh`."""
    for short, full in IN_FULL:
        text = re.sub(rf"\b{short}\b", full, text)
    return text


def short_award(award: str) -> str:
    """The award's short name for a sheet tab: `Bằng khen của Chủ tịch UBND tỉnh` -> `Bằng khen`."""
    return re.split(r"\s+của\s+", award, maxsplit=1)[0].strip() or award


def doc_code(body: str) -> str:
    """The issuing body's initials as in a document number: `Hội đồng Thi đua - Khen thưởng` -> `HĐTĐKT` (the
    fallback when the settings give no `doc_code`; `thidua check` warns of it)."""
    return initials(body)


def _t(v) -> str:
    return "" if v is None or (isinstance(v, float) and pd.isna(v)) else unicodedata.normalize("NFC", str(v)).strip()


def _height(*cells: tuple[str, float], size: int = 12) -> float:
    """Like templates.row_height: the row's tallest cell, with a little room above and below."""
    return max(text_lines(t, w, size) for t, w in cells) * line_height(size) + 4


def _roman(n: int) -> str:
    out = ""
    for value, letters in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"),
                           (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        q, n = divmod(n, value)
        out += letters * q
    return out


def _sheet_name(names: list[str], taken: set[str]) -> str:
    """The first of `names` that is free; Excel: at most 31 characters, none of []:*?/\\, unique regardless of
    case. The last resort numbers the first."""
    clean = [re.sub(r"[\[\]:*?/\\]", "_", n)[:31].strip("' ") or "Đề nghị" for n in names]
    name = next((n for n in clean if n.casefold() not in taken), None)
    k = 1
    while name is None or name.casefold() in taken:
        k += 1
        name = f"{clean[0][:31 - len(str(k)) - 3]} ({k})"
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
    def __init__(self, wb, decimals: int = 2):
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
        self.basis = add(italic=True)
        self.head = add(bold=True, border=1)
        self.stt = add(border=1)
        self.cell = add(border=1, align="left", indent=1)
        self.score = add(border=1, num_format="0." + "0" * decimals if decimals > 0 else "0")
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


def _numbers_from_page_two(ws) -> None:
    """Decree 30: the page number top centre, from the second page on, each list counting from 1.

    xlsxwriter writes no first-page header of its own (differentFirst): this sheet's headerFooter element is
    written here instead, with an empty first-page header."""
    def write(self) -> None:
        self._xml_start_tag("headerFooter", [("differentFirst", 1)])
        self._xml_data_element("oddHeader", f'&C&"{FONT},Regular"&12&P')
        self._xml_end_tag("headerFooter")
    ws._write_header_footer = types.MethodType(write, ws)
    ws.set_start_page(1)


def _page(ws, widths: tuple[int, ...], landscape: bool) -> None:
    for i, w in enumerate(widths):
        ws.set_column(i, i, w)
    ws.set_paper(A4)
    if landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    # 3 / 1.75 / 2 / 2 cm; the page number sits in the top margin
    ws.set_margins(left=1.18, right=0.69, top=0.79, bottom=0.79)
    # Printed at 100 %, not fitted: Excel ignores manual page breaks on a fitted sheet, and _paginate's keep
    # the bloc's heading with its first unit and the signature with the last rows.
    ws.center_horizontally()
    ws.hide_gridlines(2)
    _numbers_from_page_two(ws)


def _paginate(ws, header_row: int, keep: list[tuple[int, int]], last: int, landscape: bool) -> None:
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
        if y + h > PAGE_HEIGHT[landscape] and r > header_row + 1 and y > height(header_row):
            breaks.append(r)
            y = height(header_row)  # the header row repeats at the top of the new page
        y += h
        r = end + 1
    ws.set_h_pagebreaks(breaks)
    ws.print_area(0, 0, last, len(ws.col_info) - 1 if ws.col_info else 0)


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
    ws.set_row(rows, 10)
    return rows + 1


def _title(ws, f: _Formats, r: int, widths: tuple[int, ...], lines: list[str], attached: str, basis: str = "") -> int:
    last = len(widths) - 1
    for line in lines:
        _put(ws, r, 0, last, line, f.title)
        ws.set_row(r, _height((line, sum(widths) / 1.3), size=14))
        r += 1
    if attached:
        _put(ws, r, 0, last, attached, f.attached)
        ws.set_row(r, _height((attached, sum(widths) / 1.2), size=13))
        r += 1
    if basis:
        _put(ws, r, 0, last, basis, f.basis)
        ws.set_row(r, _height((basis, sum(widths) / 1.1)))
        r += 1
    ws.set_row(r, 10)
    return r + 1


def basis_line(c: Campaign) -> str:
    """"Căn cứ <law>; <decree>.": the legal basis of the signing date (or the officer's `legal_basis`), the
    same one every reason in the results workbook quotes."""
    basis = _t(legal_basis(c.settings)).rstrip(" .;")
    if not basis:
        return ""
    basis = re.sub(r"^căn cứ\s+", "", basis, flags=re.IGNORECASE)
    return f"Căn cứ {basis}."


def _attached(c: Campaign) -> str:
    """"(Kèm theo Tờ trình số …/TTr-<code> ngày … của <body>)": the number is written by hand; the code is the
    `doc_code` setting (else the issuing body's initials), the date the signing date `proposal_date` when the
    settings have one (else blanks to fill in, like the date line)."""
    s = c.settings
    when = _day(s.proposal_date) if s.proposal_date else f"{BLANK_DATE} {_signing_year(c)}"
    body = _t(s.issuing_body)
    if body.isupper():  # a heading's capitals: the sentence writes it in ordinary case
        body = body[:1] + body[1:].lower()
    return f"(Kèm theo Tờ trình số        /TTr-{_t(s.doc_code) or doc_code(body)} {when} của {in_full(body)})"


def _table(ws, f: _Formats, r: int, headers: tuple[str, ...], widths: tuple[int, ...], body: list,
           keep: list) -> int:
    """Header row (repeated on every printed page) and the body: a str is a bloc's group row, a tuple a unit's
    row (str cells are text, float cells scores, int cells places)."""
    last = len(headers) - 1
    for i, h in enumerate(headers):
        ws.write_string(r, i, h, f.head)
    ws.set_row(r, _height(*zip(headers, widths)))
    ws.repeat_rows(r)
    keep.append((r, r + 1))  # the header row with the first row under it
    r += 1
    if not body:
        _put(ws, r, 0, last, "Không có đơn vị nào.", f.stt)
        ws.set_row(r, DEFAULT_ROW + 4)
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
                if isinstance(v, float):
                    ws.write_number(r, i, v, f.score)
                elif isinstance(v, int):
                    ws.write_number(r, i, v, f.stt)
                elif v:
                    ws.write_string(r, i, v, f.note if i == last else f.cell)
                else:
                    ws.write_blank(r, i, None, f.note if i == last else f.cell)
            texts = [(v, w - 2) for i, (v, w) in enumerate(zip(row, widths[1:]), start=1)
                     if isinstance(v, str) and i < last]  # the indent takes about two digits
            note = row[-1] if isinstance(row[-1], str) else ""
            ws.set_row(r, max(_height(*texts) if texts else 0, _height((note, widths[-1] - 2), size=11)))
        r += 1
    return r


def _total(ws, f: _Formats, r: int, widths: tuple[int, ...], units: int, keep: list) -> int:
    keep.append((r - 1, r))  # the last row with the total under it
    _put(ws, r, 0, len(widths) - 1, f"Tổng số: {units} đơn vị.", f.total)
    ws.set_row(r, 24)
    ws.set_row(r + 1, DEFAULT_ROW)
    return r + 2


def _signature(ws, f: _Formats, c: Campaign, r: int, widths: tuple[int, ...]) -> int:
    """The "Nơi nhận" list on the left; on the right "TM.", the signer's title, room to sign and seal, the name.

    A list has no "Kính gửi", so "Như trên" (the addressees above) has nothing to point at and is left out."""
    s = c.settings
    recipients = [_t(x).rstrip(";.") for x in s.recipients if _t(x)]
    recipients = [x for x in recipients if x.casefold() != "như trên"]
    left = ["Nơi nhận:"] + [f"- {x}{'.' if i == len(recipients) - 1 else ';'}" for i, x in enumerate(recipients)]
    space = max(3, len(left) - 2)  # rows left blank on the right for the signature and seal
    right = [f"TM. {_t(s.issuing_body).upper()}", _t(s.signer_title).upper()] + [""] * space + [_t(s.signer_name)]
    lw, rw, last = sum(widths[:LEFT]), sum(widths[LEFT:]), len(widths) - 1
    for i, rt in enumerate(right):
        lt = left[i] if i < len(left) and recipients else ""
        _put(ws, r + i, 0, LEFT - 1, lt, f.to_head if i == 0 else f.to)
        _put(ws, r + i, LEFT, last, rt, f.sign)
        room = 72 / space if 1 < i < len(right) - 1 else 0  # about 2.5 cm between the title and the name
        ws.set_row(r + i, max(_height((lt, lw), size=11), _height((rt, rw / 1.5), size=13), room))
    return r + len(right) - 1


def human_note(p: dict) -> str:
    """Ghi chú on the signed list: empty, or a few words a reader needs (a shared place)."""
    tied = p.get("tied") == "x" or "(đồng hạng)" in p.get("reason", "")
    return "Đồng hạng" if tied else ""


def _award_sheet(ws, f: _Formats, c: Campaign, award: str, issuer: str, rows: pd.DataFrame) -> None:
    widths = PROPOSAL_WIDTHS
    _page(ws, widths, landscape=False)
    r = _heading(ws, f, c, widths)
    r = _title(ws, f, r, widths,
               ["DANH SÁCH", f"Đề nghị tặng {in_full(award)} năm {c.settings.year}", f"(Cấp khen: {in_full(issuer)})"],
               _attached(c), basis_line(c))
    body, bloc = [], None
    for p in rows.to_dict("records"):
        if p["bloc"] != bloc:
            bloc = p["bloc"]
            body.append(_bloc_name(c, bloc))
        body.append((p["name"], p["achievement"], float(p["total"]), int(p["rank"]), human_note(p)))
    keep: list[tuple[int, int]] = []
    top = r
    r = _table(ws, f, r, PROPOSAL_HEADERS, widths, body, keep)
    r = _total(ws, f, r, widths, len(rows), keep)
    end = _signature(ws, f, c, r, widths)
    # The signature never stands alone: the last unit, the total and the whole signature block on one page.
    units = [i for i, row in enumerate(body) if not isinstance(row, str)]
    last_two = top + 1 + units[-2] if len(units) > 2 else keep[-1][0]
    keep[-1] = (last_two, end)  # nor with a single row: the last two units go with it
    _paginate(ws, top, keep, end, landscape=False)


def _empty_sheet(ws, f: _Formats, c: Campaign) -> None:
    _page(ws, PROPOSAL_WIDTHS, landscape=False)
    r = _heading(ws, f, c, PROPOSAL_WIDTHS)
    r = _title(ws, f, r, PROPOSAL_WIDTHS, ["DANH SÁCH", f"Đề nghị khen thưởng năm {c.settings.year}"], "")
    _put(ws, r, 0, len(PROPOSAL_WIDTHS) - 1, "Không có đơn vị nào được đề nghị khen thưởng.", f.date)
    ws.set_row(r, 24)
    ws.print_area(0, 0, r, len(PROPOSAL_WIDTHS) - 1)


def held_by_unit(held: pd.DataFrame) -> list[dict]:
    """One entry per unit held back: its awards and all its reasons, each award's reason once."""
    units: dict[str, dict] = {}
    for h in held.to_dict("records"):
        u = units.setdefault(h["unit"], {"bloc": h["bloc"], "unit": h["unit"], "name": h["name"], "awards": [],
                                         "reasons": []})
        if h["award"] not in u["awards"]:
            u["awards"].append(h["award"])
        reason = h["reason"][:1].upper() + h["reason"][1:]
        line = f"{in_full(h['award'])}: {reason}" if reason else in_full(h["award"])
        if line not in u["reasons"]:
            u["reasons"].append(line)
    return list(units.values())


def _held_sheet(ws, f: _Formats, c: Campaign, held: pd.DataFrame) -> None:
    widths = HELD_WIDTHS
    _page(ws, widths, landscape=True)
    r = _heading(ws, f, c, widths)
    r = _title(ws, f, r, widths,
               ["DANH SÁCH", f"Đơn vị không đề nghị khen thưởng năm {c.settings.year}"],
               "(Đơn vị đạt thứ hạng xét khen thưởng nhưng không đề nghị, kèm lý do)")
    units = held_by_unit(held)
    body = [(_bloc_name(c, u["bloc"]), u["name"], "; ".join(in_full(a) for a in u["awards"]),
             "\n".join(u["reasons"]) if len(u["reasons"]) > 1 else u["reasons"][0].split(": ", 1)[-1])
            for u in units]
    keep: list[tuple[int, int]] = []
    end = _table(ws, f, r, HELD_HEADERS, widths, body, keep) - 1  # the last row written
    if units:
        end = _total(ws, f, end + 1, widths, len(units), keep) - 2  # the total's row
    _paginate(ws, r, keep, end, landscape=True)


def write_proposal(path: Path, c: Campaign, proposals: pd.DataFrame, held: pd.DataFrame) -> Path:
    """One printable list per (award, issuer), then the units held back; byte-identical for the same inputs."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = new_workbook(path, {"title": f"Danh sách đề nghị khen thưởng năm {c.settings.year}",
                             "author": _t(c.settings.issuing_body), "created": CREATED},
                      default_format_properties={"font_name": FONT, "font_size": 12})
    f = _Formats(wb, c.settings.rounding)
    proposals, held = _text(proposals), _text(held)
    taken = {HELD_SHEET.casefold()}
    if proposals.empty:
        _empty_sheet(wb.add_worksheet(EMPTY_SHEET), f, c)
    else:
        pairs = proposals.groupby(["award", "issuer"], sort=False)["priority"].min()
        for award, issuer in sorted(pairs.index, key=lambda k: (pairs[k], k)):
            rows = proposals[(proposals["award"] == award) & (proposals["issuer"] == issuer)]
            short = short_award(award)
            ws = wb.add_worksheet(_sheet_name([short, f"{short} - {issuer}"], taken))
            _award_sheet(ws, f, c, award, issuer, _ordered(c, rows, "rank"))
    _held_sheet(wb.add_worksheet(HELD_SHEET), f, c, _ordered(c, held))
    wb.close()
    return path
