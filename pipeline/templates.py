"""Template stage: Campaign -> one self-scoring workbook per unit (xlsxwriter), byte-identical run to run."""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from pathlib import Path

import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

from schemas import returns as R

from .campaign import Campaign, Criterion, Unit
from .pool import pmap
from .workbook import atomic_workbook, number

TEMPLATE_VERSION = "2025.1"
FONT = "Times New Roman"
A4 = 9


@dataclass
class Fill:
    """Values to pre-fill, as a unit would type them (a str stays text): for the sample and for tests."""

    scores: dict = field(default_factory=dict)        # criterion code -> self score
    actuals: dict = field(default_factory=dict)       # criterion code -> actual result / occurrences
    explanations: dict = field(default_factory=dict)  # criterion code -> text
    items: dict = field(default_factory=dict)         # item code -> (points, explanation)
    meta: dict = field(default_factory=dict)          # _meta overrides (an outdated template, a wrong unit)


def template_path(out: Path, unit: Unit) -> Path:
    return Path(out) / unit.bloc / f"{unit.code}.xlsx"


def computed(c: Criterion) -> bool:
    """Criteria whose score the pipeline computes from what the unit enters in `Kết quả thực hiện`."""
    return c.kind in ("chỉ tiêu", "trừ điểm")


def provisional(c: Criterion, actual: float | None) -> float:
    """The score the template shows before the bloc's best result is known (target: up to half the max)."""
    if actual is None:
        return c.max if c.kind == "trừ điểm" else 0.0
    if c.kind == "trừ điểm":
        return max(0.0, c.max - (c.step or 0) * actual)
    if not c.target:
        return 0.5 * c.max
    return min(0.5 * c.max, 0.5 * c.max * actual / c.target)


def _num(v) -> float | None:
    return number(v)[0] if isinstance(v, (int, float)) and not isinstance(v, bool) else None


CHARS_PER_UNIT = 1.1  # Times New Roman 12 fits about 1.25 Vietnamese characters per column-width unit; less a margin


@functools.lru_cache(maxsize=1 << 16)  # a campaign's names and criteria recur on every sheet
def text_lines(text: str, width: float, size: float = 12, chars_per_unit: float = CHARS_PER_UNIT) -> int:
    """How many lines `text` wraps to in a column `width` units wide: words wrapped greedily, each paragraph
    on its own lines, a word wider than the column broken."""
    cap = max(1.0, width * chars_per_unit * 12 / size)
    text = str(text)
    if len(text) <= cap and "\n" not in text:
        return 1  # fits as it is: most cells
    lines = 0
    for para in str(text).split("\n"):
        used, n = 0.0, 1
        for word in para.split(" "):  # runs of spaces take room too ("ngày      tháng")
            need = len(word) + (1 if used else 0)
            if used and used + need > cap:
                n, used = n + 1, 0.0
                need = len(word)
            while need > cap:  # a word wider than the column
                n, need = n + 1, need - cap
            used += need
        lines += n
    return lines


def line_height(size: float = 12) -> float:
    """Points per wrapped line (LibreOffice and Excel set Times New Roman 12 at about 14 pt)."""
    return size * 1.25 + 1


def row_height(*cells: tuple[str, float], size: int = 12) -> float:
    """Rows do not grow by themselves in a file nobody has opened: size them for their wrapped text."""
    lines = max((text_lines(t, w, size) for t, w in cells if t), default=1)
    return max(1, lines) * line_height(size) + 2


def _fmt(x: float) -> str:
    return f"{x:g}".replace(".", ",")


class _Formats:
    def __init__(self, wb):
        base = {"font_name": FONT, "font_size": 12, "valign": "vcenter", "border": 1}
        add = lambda **kw: wb.add_format({**base, **kw})  # noqa: E731
        self.head = add(bold=True, align="center", text_wrap=True, bg_color="#DDEBF7")
        self.group = add(bold=True, text_wrap=True, bg_color="#F2F2F2")
        self.group_num = add(bold=True, num_format="0.00", bg_color="#F2F2F2")
        self.text = add(text_wrap=True)
        self.num = add(num_format="0.00")
        self.input = add(num_format="0.00", locked=False, bg_color="#FFF2CC")
        self.input_text = add(text_wrap=True, locked=False, bg_color="#FFF2CC")
        self.hint = add(italic=True, font_size=10, text_wrap=True, font_color="#595959")
        self.total = add(bold=True, bg_color="#DDEBF7")
        self.total_num = add(bold=True, num_format="0.00", bg_color="#DDEBF7")
        plain = {"font_name": FONT, "font_size": 12}
        self.title = wb.add_format({**plain, "bold": True, "font_size": 14, "align": "center"})
        self.subtitle = wb.add_format({**plain, "italic": True, "align": "center"})
        self.plain = wb.add_format({**plain, "text_wrap": True, "valign": "top"})
        self.bold = wb.add_format({**plain, "bold": True, "valign": "top"})


def write_template(path: Path, campaign: Campaign, unit: Unit, generated_at: dt.datetime,
                   fill: Fill | None = None) -> Path:
    """Write one unit's template; with `fill`, a return as the unit would send it back."""
    fill = fill or Fill()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = new_workbook(path, {"title": f"Tự chấm điểm thi đua {campaign.settings.year} - {unit.name}",
                             "author": campaign.settings.issuing_body, "created": generated_at})
    f = _Formats(wb)
    criteria = campaign.criteria_for(unit)
    _cover(wb, f, campaign, unit)
    _scores(wb, f, campaign, unit, criteria, fill)
    _items(wb, f, campaign, fill)
    print_areas(wb)
    write_meta(wb, campaign, generated_at, {"unit_code": unit.code, "bloc_code": unit.bloc, "form": "score",
                                            **fill.meta})
    wb.close()
    return path


def print_areas(wb) -> None:
    """Every visible sheet without a print area prints what was written on it, nothing beyond."""
    for ws in wb.worksheets():
        if not ws.print_area_range and ws.dim_rowmax is not None and ws.dim_colmax is not None:
            ws.print_area(0, 0, ws.dim_rowmax, ws.dim_colmax)


def new_workbook(path: Path, properties: dict, **options) -> xlsxwriter.Workbook:
    """An xlsxwriter workbook in which text is always written as text, never read as a formula, link or number;
    `properties` fix its document properties (a fixed `created` keeps the file byte-identical)."""
    # Times New Roman by default: it sets the width of a column unit, and prints alike in Excel and in
    # LibreOffice (Liberation Serif), where Calibri falls back to a wider font and pushes columns off the page.
    options.setdefault("default_format_properties", {"font_name": FONT, "font_size": 12})
    # in_memory: the parts are zipped from memory, not each through a temporary file (~1 ms apiece, per sheet)
    wb = atomic_workbook(path, {"strings_to_formulas": False, "strings_to_urls": False,
                                "strings_to_numbers": False, "in_memory": True, **options})
    wb.set_properties(properties)
    return wb


def write_meta(wb, c: Campaign, generated_at: dt.datetime, keys: dict) -> None:
    """The hidden, protected `_meta` sheet every workbook thidua sends out carries (key/value rows)."""
    who = {k: keys[k] for k in ("unit_code", "bloc_code") if k in keys}
    meta = {"campaign_id": c.settings.campaign_id, **who, "template_version": TEMPLATE_VERSION,
            "criteria_digest": c.digest, "generated_at": generated_at.isoformat(timespec="seconds"),
            "form": keys.get("form", ""), "year": str(c.settings.year), **keys}
    ws = wb.add_worksheet(R.META_SHEET)
    for r, (k, v) in enumerate(meta.items()):
        ws.write_string(r, 0, k)
        ws.write_string(r, 1, str(v))
    ws.protect()
    ws.hide()
    lock_structure(wb)


def lock_structure(wb) -> None:
    """Protect the workbook's structure, without a password: hidden sheets stay hidden, none is renamed, moved or
    deleted by accident (Review > Protect Workbook lifts it). xlsxwriter has no call for it: its workbookPr
    element is followed here by the workbookProtection element the schema puts next."""
    if getattr(wb, "_thidua_locked", False):
        return
    write_pr = wb._write_workbook_pr

    def write() -> None:
        write_pr()
        wb._xml_empty_tag("workbookProtection", [("lockStructure", 1)])
    wb._write_workbook_pr = write
    wb._thidua_locked = True


def write_cover(wb, f: _Formats, title: str, subtitle: str, rows: list[tuple[str, str]]) -> None:
    """The instructions sheet: a title, then label/text rows sized for their wrapped text."""
    ws = wb.add_worksheet(R.COVER_SHEET)
    ws.set_column(0, 0, 28)
    ws.set_column(1, 1, 70)
    ws.merge_range(0, 0, 0, 1, title, f.title)
    ws.merge_range(1, 0, 1, 1, subtitle, f.subtitle)
    for r, (k, v) in enumerate(rows, start=3):
        ws.write_string(r, 0, k, f.bold)
        ws.write_string(r, 1, v, f.plain)
        ws.set_row(r, row_height((v, 70)))
    ws.set_paper(A4)
    ws.fit_to_pages(1, 0)
    ws.protect()


def _cover(wb, f: _Formats, c: Campaign, unit: Unit) -> None:
    s = c.settings
    bloc = c.bloc(unit.bloc)
    skipped = [k for k in c.leaves if not c.applies(k, unit)]
    rows = [
        ("Đợt thi đua", s.campaign_id),
        ("Đơn vị", f"{unit.name} (mã {unit.code})"),
        ("Khối thi đua", bloc.name if bloc else unit.bloc),
        ("Hạn gửi", s.deadline.strftime("%d/%m/%Y")),
        ("Gửi về", s.reply_to or s.issuing_body),
        ("Cách điền", "1. Sang trang “Tự chấm điểm”: nhập điểm tự chấm vào các ô màu vàng, trong khoảng 0 đến "
                      "điểm tối đa, theo bước điểm ghi ở cột “Cách chấm”; ghi giải trình khi tiêu chí yêu cầu."),
        ("", "2. Tiêu chí chỉ tiêu: nhập kết quả thực hiện (số), phần mềm tính điểm theo chỉ tiêu và "
             "đơn vị cao nhất khối. Tiêu chí trừ điểm: nhập số lần vi phạm (0 nếu không có)."),
        ("", "3. Trang “Điểm thưởng - trừ”: kê khai điểm thưởng, điểm trừ kèm giải trình, minh chứng."),
        ("", "4. Không đổi tên trang tính, không thêm bớt dòng, không sửa cột Mã. Giữ nguyên tệp .xlsx "
             "và gửi lại qua thư điện tử."),
        ("Tiêu chí không áp dụng", "; ".join(f"{k.code} {k.text}" for k in skipped) or "Không có"),
    ]
    write_cover(wb, f, f"BẢNG TỰ CHẤM ĐIỂM THI ĐUA NĂM {s.year}", s.issuing_body, rows)


def _scores(wb, f: _Formats, c: Campaign, unit: Unit, criteria: tuple[Criterion, ...], fill: Fill) -> None:
    ws = wb.add_worksheet(R.SCORE_SHEET)
    has_actuals = any(computed(k) for k in c.leaves)
    headers = [R.CODE, R.TEXT, R.MAX] + ([R.TARGET, R.ACTUAL] if has_actuals else []) + [R.SELF, R.EXPLAIN, R.HOW]
    col = {h: i for i, h in enumerate(headers)}
    # about 150 units: landscape A4 at 80 % or more
    widths = {R.CODE: 7, R.TEXT: 50, R.MAX: 9, R.TARGET: 9, R.ACTUAL: 11, R.SELF: 10, R.EXPLAIN: 32, R.HOW: 22}
    for h, i in col.items():
        ws.set_column(i, i, widths[h])
    last = len(headers) - 1
    ws.merge_range(0, 0, 0, last, f"BẢNG TỰ CHẤM ĐIỂM THI ĐUA NĂM {c.settings.year}", f.title)
    ws.merge_range(1, 0, 1, last, f"{unit.name} - {unit.code}", f.subtitle)
    head = 3
    ws.set_row(head, 33)
    for h, i in col.items():
        ws.write_string(head, i, h, f.head)
    leaves = {k.code for k in c.leaves}
    row_of = {k.code: head + 1 + n for n, k in enumerate(criteria)}
    value: dict[str, float] = {}
    # Children before parents so every subtotal's cached value is known when it is written.
    for k in sorted(criteria, key=lambda k: -k.depth):
        r = row_of[k.code]
        if k.code in leaves:
            value[k.code] = _leaf(ws, f, c, k, r, col, fill, widths)
        else:
            kids = [x for x in criteria if x.parent == k.code]
            value[k.code] = sum(value[x.code] for x in kids)
            cells = ",".join(xl_rowcol_to_cell(row_of[x.code], col[R.SELF]) for x in kids)
            ws.write_formula(r, col[R.SELF], f"=SUM({cells})", f.group_num, value[k.code])
            ws.write_string(r, col[R.CODE], k.code, f.group)
            ws.write_string(r, col[R.TEXT], k.text, f.group)
            ws.set_row(r, row_height((k.text, widths[R.TEXT])))
            ws.write_number(r, col[R.MAX], k.max, f.group_num)
            for h in set(headers) - {R.CODE, R.TEXT, R.MAX, R.SELF}:
                ws.write_blank(r, col[h], None, f.group)
    total_row = head + 1 + len(criteria)
    roots = [k for k in criteria if k.parent is None]
    cells = ",".join(xl_rowcol_to_cell(row_of[k.code], col[R.SELF]) for k in roots)
    # The total's label sits under `Nội dung tiêu chí` with a blank `Mã`, so readers never take it for a criterion.
    ws.write_blank(total_row, col[R.CODE], None, f.total)
    provisional_total = any(computed(k) for k in criteria)
    ws.write_string(total_row, col[R.TEXT], "TỔNG ĐIỂM TỰ CHẤM (TẠM TÍNH)" if provisional_total else "TỔNG ĐIỂM TỰ CHẤM",
                    f.total)
    if provisional_total:
        # the target and per-occurrence rows are computed again by thidua; a blank return is not a score
        note = ("Điểm tạm tính: điểm tiêu chí chỉ tiêu được tính lại theo kết quả cao nhất khối; tiêu chí trừ điểm "
                "để trống được tính đủ điểm.")
        ws.write_string(total_row + 1, col[R.TEXT], note, f.hint)  # never in `Mã`: not a criterion
        ws.set_row(total_row + 1, row_height((note, widths[R.TEXT]), size=10))
    ws.write_number(total_row, col[R.MAX], sum(k.max for k in roots), f.total_num)
    ws.write_formula(total_row, col[R.SELF], f"=SUM({cells})", f.total_num, sum(value[k.code] for k in roots))
    ws.freeze_panes(head + 1, 2)
    ws.repeat_rows(head)
    ws.set_paper(A4)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.5, right=0.4, top=0.6, bottom=0.6)
    ws.set_footer("&CTrang &P/&N")
    ws.protect("", {"format_columns": True, "format_rows": True})


def _leaf(ws, f: _Formats, c: Campaign, k: Criterion, r: int, col: dict, fill: Fill, widths: dict) -> float:
    """Write one criterion row; returns the value its score cell shows."""
    ws.write_string(r, col[R.CODE], k.code, f.text)
    ws.write_string(r, col[R.TEXT], k.text, f.text)
    ws.write_number(r, col[R.MAX], k.max, f.num)
    if R.TARGET in col:
        ws.write_blank(r, col[R.TARGET], None, f.num) if k.target is None else ws.write_number(r, col[R.TARGET], k.target, f.num)
    if computed(k):
        actual = fill.actuals.get(k.code)
        write_input(ws, r, col[R.ACTUAL], actual, f.input)
        a = xl_rowcol_to_cell(r, col[R.ACTUAL])
        shown = provisional(k, _num(actual))
        if k.kind == "trừ điểm":
            formula = f"=MAX(0,{k.max:g}-{k.step or 0:g}*N({a}))"
            ws.data_validation(r, col[R.ACTUAL], r, col[R.ACTUAL], {
                "validate": "integer", "criteria": ">=", "value": 0,
                "input_title": "Số lần vi phạm", "input_message": f"Nhập số lần (số nguyên ≥ 0); mỗi lần trừ {_fmt(k.step or 0)} điểm.",
                "error_title": "Không hợp lệ", "error_message": "Số lần phải là số nguyên từ 0 trở lên."})
            how = f"Nhập số lần vi phạm; trừ {_fmt(k.step or 0)} điểm/lần"
        else:
            t = k.target or 0
            formula = (f'=IF({a}="",0,MIN({0.5 * k.max:g},{0.5 * k.max:g}*{a}/{t:g}))' if t
                       else f'=IF({a}="",0,{0.5 * k.max:g})')
            ws.data_validation(r, col[R.ACTUAL], r, col[R.ACTUAL], {
                "validate": "decimal", "criteria": ">=", "value": 0,
                "input_title": "Kết quả thực hiện", "input_message": f"Nhập kết quả đạt được (số ≥ 0); chỉ tiêu: {_fmt(t)}.",
                "error_title": "Không hợp lệ", "error_message": "Kết quả phải là số từ 0 trở lên."})
            how = (f"Nhập kết quả. Đạt chỉ tiêu: {_fmt(0.5 * k.max)} điểm (tạm tính, chưa đạt: theo tỷ lệ); vượt chỉ "
                   f"tiêu được đến {_fmt(k.max)} điểm, tùy kết quả cao nhất khối" if k.target else
                   f"Nhập kết quả; điểm tạm tính {_fmt(0.5 * k.max)}, điểm chính thức theo kết quả cao nhất khối")
        ws.write_formula(r, col[R.SELF], formula, f.num, shown)
    else:
        score = fill.scores.get(k.code)
        write_input(ws, r, col[R.SELF], score, f.input)
        if R.ACTUAL in col:
            ws.write_blank(r, col[R.ACTUAL], None, f.num)
        shown = _num(score) or 0.0
        _score_validation(ws, r, col[R.SELF], k)
        how = (f"Đạt: {_fmt(k.max)}; không đạt: 0" if k.kind == "đạt/không đạt"
               else f"Từ 0 đến {_fmt(k.max)}" + (f", bước {_fmt(k.step)}" if k.step else ""))
    note = {"luôn": "; bắt buộc giải trình", "khi chưa tối đa": "; giải trình nếu dưới tối đa"}.get(k.explanation, "")
    ws.write_string(r, col[R.HOW], how + note, f.hint)
    explanation = fill.explanations.get(k.code)
    ws.set_row(r, row_height((k.text, widths[R.TEXT]), (how + note, widths[R.HOW] * 1.2),
                             (str(explanation or ""), widths[R.EXPLAIN])))
    write_input(ws, r, col[R.EXPLAIN], explanation, f.input_text)
    ws.data_validation(r, col[R.EXPLAIN], r, col[R.EXPLAIN], {
        "validate": "length", "criteria": "<=", "value": 2000, "input_title": "Giải trình",
        "input_message": ("Bắt buộc giải trình, nêu minh chứng." if k.explanation == "luôn" else
                          "Giải trình khi chấm dưới điểm tối đa." if k.explanation == "khi chưa tối đa" else
                          "Ghi giải trình, minh chứng (nếu có)."),
        "error_title": "Quá dài", "error_message": "Giải trình tối đa 2000 ký tự."})
    return shown


def _score_validation(ws, r: int, c: int, k: Criterion) -> None:
    alert = {"error_title": "Điểm không hợp lệ", "input_title": f"Điểm tự chấm (tối đa {_fmt(k.max)})"}
    if k.kind == "đạt/không đạt":
        if float(k.max).is_integer():
            rule = {"validate": "list", "source": [f"{k.max:g}", "0"]}
        else:
            cell = xl_rowcol_to_cell(r, c)
            rule = {"validate": "custom", "value": f"=OR({cell}=0,{cell}={k.max:g})"}
        msg = f"Đạt: {_fmt(k.max)} điểm; không đạt: 0."
    elif k.step == 1:
        rule = {"validate": "integer", "criteria": "between", "minimum": 0, "maximum": k.max}
        msg = f"Nhập số nguyên từ 0 đến {_fmt(k.max)}."
    else:
        rule = {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": k.max}
        msg = f"Nhập số từ 0 đến {_fmt(k.max)}" + (f", theo bước {_fmt(k.step)}." if k.step else ".")
    ws.data_validation(r, c, r, c, {**rule, **alert, "input_message": msg, "error_message": msg})


def write_input(ws, r: int, c: int, value, fmt) -> None:
    """An input cell as its value is: a number, text (from anyone: never a formula), or a blank for None or ""."""
    ws.write_cells(r, [(c, None if value == "" else value, fmt)])


def _items(wb, f: _Formats, c: Campaign, fill: Fill) -> None:
    ws = wb.add_worksheet(R.ITEMS_SHEET)
    headers = [R.CODE, R.ITEM_KIND, R.ITEM_TEXT, R.ITEM_POINTS, R.ITEM_CAP, R.ITEM_CLAIM, R.EXPLAIN]
    for i, (h, w) in enumerate(zip(headers, (7, 8, 50, 9, 9, 10, 36))):
        ws.set_column(i, i, w)
    ws.merge_range(0, 0, 0, len(headers) - 1, "KÊ KHAI ĐIỂM THƯỞNG, ĐIỂM TRỪ", f.title)
    ws.merge_range(1, 0, 1, len(headers) - 1,
                   f"Tổng điểm thưởng tối đa {_fmt(c.settings.bonus_cap)} điểm; ghi rõ giải trình, minh chứng.", f.subtitle)
    head = 3
    for i, h in enumerate(headers):
        ws.write_string(head, i, h, f.head)
    claim, sums = headers.index(R.ITEM_CLAIM), {"thưởng": [], "trừ": []}
    for n, item in enumerate(c.items):
        r = head + 1 + n
        points, why = fill.items.get(item.code, (None, None))
        for i, v in enumerate((item.code, item.kind, item.text)):
            ws.write_string(r, i, v, f.text)
        ws.set_row(r, row_height((item.text, 50), (str(why or ""), 36)))
        ws.write_number(r, 3, item.points, f.num)
        ws.write_number(r, 4, item.cap, f.num)
        write_input(ws, r, claim, points, f.input)
        write_input(ws, r, claim + 1, why, f.input_text)
        msg = f"Từ 0 đến {_fmt(item.cap)} điểm ({_fmt(item.points)} điểm mỗi lần)."
        ws.data_validation(r, claim, r, claim, {"validate": "decimal", "criteria": "between", "minimum": 0,
                                                "maximum": item.cap, "input_title": "Điểm kê khai", "input_message": msg,
                                                "error_title": "Điểm không hợp lệ", "error_message": msg})
        ws.data_validation(r, claim + 1, r, claim + 1, {"validate": "length", "criteria": "<=", "value": 2000,
                                                        "input_title": "Giải trình", "input_message": "Nêu căn cứ, minh chứng."})
        sums[item.kind].append((xl_rowcol_to_cell(r, claim), _num(points) or 0.0))
    r = head + 1 + len(c.items)
    cap = c.settings.bonus_cap
    for label, kind in (("Tổng điểm thưởng (đã áp mức tối đa)", "thưởng"), ("Tổng điểm trừ", "trừ")):
        cells = ",".join(x for x, _ in sums[kind]) or "0"
        total = sum(v for _, v in sums[kind])
        formula, shown = (f"=MIN({cap:g},SUM({cells}))", min(cap, total)) if kind == "thưởng" else (f"=SUM({cells})", total)
        ws.write_blank(r, 0, None, f.total)
        ws.write_blank(r, 1, None, f.total)
        ws.merge_range(r, 2, r, claim - 1, label, f.total)
        ws.write_formula(r, claim, formula, f.total_num, shown)
        r += 1
    # from `Nội dung` on: nothing under `Mã` but item codes
    write_signature(wb, ws, r + 1, 2, len(headers) - 1, 3, date_line_blank(c),
                    ("NGƯỜI LẬP BIỂU", "(Ký, ghi rõ họ tên)"), ("THỦ TRƯỞNG ĐƠN VỊ", "(Ký tên, đóng dấu)"))
    ws.freeze_panes(head + 1, 0)
    ws.repeat_rows(head)
    ws.set_paper(A4)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.set_footer("&CTrang &P/&N")
    ws.protect("", {"format_columns": True, "format_rows": True})


def date_line_blank(c: Campaign) -> str:
    """The place-and-date line a unit fills in by hand when it signs (Decree 30)."""
    return f"{c.settings.place}, ngày      tháng      năm {c.settings.deadline.year}"


def write_signature(wb, ws, r: int, first: int, last: int, split: int, date_line: str,
                    left: tuple[str, str] | None, right: tuple[str, str], right_width: float = 40) -> int:
    """The place-and-date line, then who signs (the title, how: "(Ký tên, đóng dấu)") and room to sign:
    `left` over columns first..split-1, `right` over split..last (`right_width` units wide, for the rows'
    heights). Returns the last row used."""
    plain = {"font_name": FONT, "font_size": 12, "align": "center", "valign": "top", "text_wrap": True}
    italic = wb.add_format({**plain, "italic": True})
    bold = wb.add_format({**plain, "bold": True})

    def put(row, a, b, text, fmt):
        if b > a:
            ws.merge_range(row, a, row, b, "", fmt)
        ws.write_string(row, a, text, fmt)

    r += 1
    put(r, split, last, date_line, italic)
    ws.set_row(r, max(20, row_height((date_line, right_width))))
    for i, fmt in ((0, bold), (1, italic)):
        if left:
            put(r + 1 + i, first, split - 1, left[i], fmt)
        put(r + 1 + i, split, last, right[i], fmt)
        ws.set_row(r + 1 + i, max(18, row_height((right[i], right_width / 1.2))))
    for i in range(3, 7):  # room to sign and seal, about 2.5 cm
        ws.set_row(r + i, 18)
    return r + 6


def write_all(campaign: Campaign, out: Path, generated_at: dt.datetime, progress=None,
              writer=write_template, jobs: int | None = None) -> list[Path]:
    """Every unit's workbook under out/<bloc>/<unit>.xlsx: the score template, or what `writer` makes, written on
    `jobs` processes (the same bytes whatever the number: 2,000 templates take ~29 s on one core)."""
    done = pmap(_write_unit, list(campaign.units), (campaign, out, generated_at, writer), jobs,
                lambda written: progress(written[0]) if progress else None)
    return [path for _, path in done]


def _write_unit(shared: tuple, unit: Unit) -> tuple[Unit, Path]:
    campaign, out, generated_at, writer = shared
    return unit, writer(template_path(out, unit), campaign, unit, generated_at)
