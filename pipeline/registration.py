"""Registration stage: the start-of-year form (đăng ký thi đua) out to every unit, and back.

Out: one workbook per unit (xlsxwriter, the house style of templates.py): the titles it aims for and its
key tasks. Back: the forms collected with the score returns (`_meta` form = registration), read by their
header texts and checked leniently; with the campaign sheet `Đăng ký` they give the set of
(unit, award code) registered, which the award proposals weigh.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NamedTuple


from schemas import returns as R

from .campaign import AWARDS, Campaign, Unit
from .collect import Receipt, latest
from .issues import ERROR, WARNING, Issue, has_errors
from .read import read_meta
from . import templates
from .templates import (A4, FONT, _Formats, date_line_blank, new_workbook, print_areas, row_height, write_cover,
                        write_input, write_meta, write_signature)
from .workbook import Book, cell_name, find_table, text, vn_time

# Marks in `Đăng ký` read as "not registered" (with a warning); any other mark but x reads as registered.
NO_MARKS = {"0", "không", "ko", "k", "no", "n", "-"}
TWO_LINES = 31.2  # a blank key-task row leaves room to write


def award_codes(c: Campaign) -> list[tuple[str, str]]:
    """(code, title) of every award the campaign's rules give, each code once, in priority order."""
    titles: dict[str, str] = {}
    for rule in sorted(c.award_rules, key=lambda r: r.priority):
        titles.setdefault(rule.code, rule.award or AWARDS.get(rule.code, rule.code))
    return list(titles.items())


def award_titles(c: Campaign) -> dict[str, str]:
    """code -> the award's name with who confers it, as the form prints it: "Bằng khen của Chủ tịch UBND tỉnh
    (Chủ tịch UBND tỉnh khen)" reads twice, so the issuer is added only where the name does not say it."""
    from .awards import issuer

    out = {}
    for code, title in award_codes(c):
        by = sorted({issuer(c, r) for r in c.award_rules if r.code == code and issuer(c, r)})
        extra = [b for b in by if b.casefold() not in title.casefold()]
        out[code] = f"{title} (cấp khen: {', '.join(extra)})" if extra else title
    return out


# --- out: the form ------------------------------------------------------------------------------

def write_registration(path: Path, c: Campaign, unit: Unit, generated_at: dt.datetime,
                       fill: dict | None = None) -> Path:
    """One unit's registration form; with `fill` ({"awards": {code: "x"}, "tasks": [(task, target)],
    "meta": {...}}) the form as the unit would send it back."""
    fill = fill or {}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = new_workbook(path, {"title": f"Đăng ký thi đua {c.settings.year} - {unit.name}",
                             "author": c.settings.issuing_body, "created": generated_at})
    f = _Formats(wb)
    _cover(wb, f, c, unit)
    _awards(wb, f, c, unit, fill.get("awards", {}))
    _tasks(wb, f, c, unit, fill.get("tasks", ()))
    print_areas(wb)
    write_meta(wb, c, generated_at, {"unit_code": unit.code, "bloc_code": unit.bloc, "form": R.FORM_REGISTRATION,
                                     **fill.get("meta", {})})
    wb.close()
    return path


def _cover(wb, f: _Formats, c: Campaign, unit: Unit) -> None:
    s = c.settings
    bloc = c.bloc(unit.bloc)
    titles = award_titles(c)
    must = [titles[code] for code, _ in award_codes(c) if any(r.must_register for r in c.award_rules if r.code == code)]
    rows = [
        ("Đợt thi đua", s.campaign_id),
        ("Đơn vị", f"{unit.name} (mã {unit.code})"),
        ("Khối thi đua", bloc.name if bloc else unit.bloc),
        ("Gửi về", s.reply_to or s.issuing_body),
        ("Cách điền", f"1. Trang “{R.REGISTRATION_SHEET}”: đánh x vào cột “{R.REGISTER}” ở dòng danh hiệu, hình thức "
                      "khen thưởng đơn vị đăng ký phấn đấu; để trống nếu không đăng ký."),
        ("", f"2. Trang “{R.TASKS_SHEET}”: ghi các nhiệm vụ trọng tâm của năm (tối đa {R.TASK_ROWS}) và chỉ tiêu, "
             "kết quả dự kiến của từng nhiệm vụ."),
        ("", "3. Không đổi tên trang tính, không sửa cột Mã. Giữ nguyên tệp .xlsx và gửi lại qua thư điện tử."),
        ("Danh hiệu bắt buộc đăng ký", "; ".join(must) or "Không có"),
        ("Lưu ý", "Không đăng ký danh hiệu bắt buộc đăng ký thì không được đề nghị danh hiệu đó; đề nghị danh hiệu "
                  "khác mà đơn vị chưa đăng ký sẽ kèm cảnh báo."),
    ]
    write_cover(wb, f, f"BẢN ĐĂNG KÝ THI ĐUA NĂM {s.year}", s.issuing_body, rows)


def _sheet(wb, f: _Formats, name: str, title: str, subtitle: str, headers: tuple, widths: tuple):
    """A sheet with its title and its header row (row 4); returns it with the header's row index."""
    ws = wb.add_worksheet(name)
    for i, w in enumerate(widths):
        ws.set_column(i, i, w)
    ws.merge_range(0, 0, 0, len(headers) - 1, title, f.title)
    ws.merge_range(1, 0, 1, len(headers) - 1, subtitle, f.subtitle)
    head = 3
    for i, h in enumerate(headers):
        ws.write_string(head, i, h, f.head)
    return ws, head


def _finish(ws, head: int) -> None:
    ws.freeze_panes(head + 1, 0)
    ws.repeat_rows(head)
    ws.set_paper(A4)
    ws.fit_to_pages(1, 0)
    ws.set_footer("&CTrang &P/&N")
    ws.protect("", {"format_columns": True, "format_rows": True})


_LONG_TEXT = {"validate": "length", "criteria": "<=", "value": 2000,
              "error_title": "Quá dài", "error_message": "Tối đa 2000 ký tự."}


def _awards(wb, f: _Formats, c: Campaign, unit: Unit, marks: dict) -> None:
    ws, head = _sheet(wb, f, R.REGISTRATION_SHEET, f"ĐĂNG KÝ DANH HIỆU THI ĐUA NĂM {c.settings.year}",
                      f"{unit.name} - {unit.code}", R.REGISTRATION_HEADERS, (12, 50, 10, 26))
    ws.set_column(0, 0, 12, None, {"hidden": True})  # the award code: read back by thidua, not for the reader
    mark = wb.add_format({"font_name": FONT, "font_size": 12, "valign": "vcenter", "align": "center", "border": 1,
                          "locked": False, "bg_color": "#FFF2CC"})
    titles = award_titles(c)
    for n, (code, _) in enumerate(award_codes(c)):
        r = head + 1 + n
        ws.write_string(r, 0, code, f.text)
        ws.write_string(r, 1, titles[code], f.text)
        ws.set_row(r, row_height((titles[code], 50)))
        write_input(ws, r, 2, marks.get(code), mark)
        ws.data_validation(r, 2, r, 2, {
            "validate": "list", "source": [R.REGISTER_MARK], "input_title": "Đăng ký",
            "input_message": "Đánh x nếu đơn vị đăng ký danh hiệu này; để trống nếu không.",
            "error_title": "Không hợp lệ", "error_message": "Chỉ đánh x hoặc để trống."})
        ws.write_blank(r, 3, None, f.input_text)
        ws.data_validation(r, 3, r, 3, {**_LONG_TEXT, "input_title": "Ghi chú", "input_message": "Ghi chú (nếu có)."})
    _finish(ws, head)


def _tasks(wb, f: _Formats, c: Campaign, unit: Unit, tasks) -> None:
    ws, head = _sheet(wb, f, R.TASKS_SHEET, f"ĐĂNG KÝ NHIỆM VỤ TRỌNG TÂM NĂM {c.settings.year}",
                      f"{unit.name} - {unit.code}", R.TASK_HEADERS, (6, 52, 30))
    tasks = list(tasks)
    for n in range(max(R.TASK_ROWS, len(tasks))):
        r = head + 1 + n
        task, target = tasks[n] if n < len(tasks) else (None, None)
        ws.write_number(r, 0, n + 1, f.text)
        write_input(ws, r, 1, task, f.input_text)
        write_input(ws, r, 2, target, f.input_text)
        ws.set_row(r, max(TWO_LINES, row_height((str(task or ""), 52), (str(target or ""), 30))))
        ws.data_validation(r, 1, r, 1, {**_LONG_TEXT, "input_title": "Nhiệm vụ trọng tâm",
                                        "input_message": "Nêu một nhiệm vụ trọng tâm của năm."})
        ws.data_validation(r, 2, r, 2, {**_LONG_TEXT, "input_title": "Chỉ tiêu, kết quả dự kiến",
                                        "input_message": "Chỉ tiêu hoặc kết quả đơn vị phấn đấu đạt."})
    # The reader stops at the blank row under the tasks: the signature below is not a task.
    write_signature(wb, ws, head + max(R.TASK_ROWS, len(tasks)) + 1, 0, 2, 2, date_line_blank(c), None,
                    ("THỦ TRƯỞNG ĐƠN VỊ", "(Ký tên, đóng dấu)"), right_width=30)
    _finish(ws, head)


def write_all(c: Campaign, out: Path, generated_at: dt.datetime, progress=None, jobs: int | None = None) -> list[Path]:
    """Every unit's registration form under out/<bloc>/<unit>.xlsx, on `jobs` processes."""
    return templates.write_all(c, out, generated_at, progress, writer=write_registration, jobs=jobs)


# --- back: reading and checking -----------------------------------------------------------------

class Mark(NamedTuple):
    code: str       # award code as read
    code_cell: str  # A1 of the code
    value: str      # what the unit typed in `Đăng ký` ("" for blank)
    cell: str       # A1 of that mark


@dataclass
class Registration:
    """What one registration form holds, as typed, and what stopped reading it."""

    file: str
    meta: dict[str, str]
    sheet: str = R.REGISTRATION_SHEET  # the sheet's real name in the file
    marks: list[Mark] = field(default_factory=list)
    tasks: list[tuple[str, str]] = field(default_factory=list)  # (task, target)
    issues: list[Issue] = field(default_factory=list)


def read_registration(path: Path, file: str | None = None) -> Registration:
    """Read a form by its header texts; never raises: a damaged file comes back with an `unreadable` issue."""
    file = file or Path(path).name
    try:
        return _read(Book(path), file)
    except Exception as e:  # calamine raises several types for damaged files
        return Registration(file, {}, issues=[Issue("unreadable", file=file, params={"reason": str(e)[:200]})])


def _read(book: Book, file: str) -> Registration:
    meta = read_meta(book)
    reg = Registration(file, meta)
    where = dict(unit=meta.get("unit_code", ""), file=file)
    got = find_table(book, R.REGISTRATION_SHEET, (R.CODE, R.REGISTER), reg.issues, ERROR, **where)
    if got:
        reg.sheet, rows, head, at = got
        for r in range(head + 1, len(rows)):
            cells = rows[r] + [None] * (max(at.values()) + 1 - len(rows[r]))
            code = text(cells[at[R.CODE]])
            if code:
                reg.marks.append(Mark(code, cell_name(r, at[R.CODE]), text(cells[at[R.REGISTER]]),
                                      cell_name(r, at[R.REGISTER])))
    got = find_table(book, R.TASKS_SHEET, (R.TASK, R.TASK_TARGET), reg.issues, WARNING, **where)
    if got:
        _, rows, head, at = got
        heads = [text(v) for v in rows[head]]
        no = heads.index(R.TASK_NO) if R.TASK_NO in heads else None
        for r in range(head + 1, len(rows)):
            cells = rows[r] + [None] * (max([*at.values(), no or 0]) + 1 - len(rows[r]))
            task, target = text(cells[at[R.TASK]]), text(cells[at[R.TASK_TARGET]])
            if not (task or target or (no is not None and text(cells[no]))):
                break  # the blank row under the table: what follows is the signature
            if task or target:
                reg.tasks.append((task, target))
    return reg


def check_registration(c: Campaign, reg: Registration) -> tuple[list[Issue], set[str]]:
    """Every problem of one form and the award codes it registers. Lenient: only what makes the form
    unusable is an error (unreadable, wrong campaign, unknown unit, no registration table)."""
    code = reg.meta.get("unit_code", "")
    issues = [replace(i, unit=code) for i in reg.issues]
    if not reg.meta and has_errors(issues):
        return issues, set()  # unreadable: nothing more to say
    meta_at = dict(unit=code, file=reg.file, sheet=R.META_SHEET)
    if reg.meta.get("campaign_id") != c.settings.campaign_id:
        return issues + [Issue("wrong_campaign", **meta_at, params={"found": reg.meta.get("campaign_id", ""),
                                                                    "expected": c.settings.campaign_id})], set()
    unit = c.unit(code)
    if unit is None:
        return issues + [Issue("unknown_unit", **meta_at, params={"unit": code})], set()
    if reg.meta.get("bloc_code") != unit.bloc:
        issues.append(Issue("bloc_mismatch", WARNING, **meta_at,
                            params={"found": reg.meta.get("bloc_code", ""), "expected": unit.bloc}))
    registered = set()
    for m in reg.marks:
        mark = m.value.casefold()
        if not mark:
            continue
        yes = mark not in NO_MARKS
        if mark != R.REGISTER_MARK:
            issues.append(Issue("registration_mark" if yes else "registration_mark_no", WARNING, code, reg.file,
                                reg.sheet, m.cell, params={"value": m.value, "award": m.code}))
        if yes and m.code not in c.awards:
            issues.append(Issue("award_unknown", WARNING, code, reg.file, reg.sheet, m.code_cell,
                                params={"award": m.code, "known": ", ".join(c.awards)}))
        elif yes:
            registered.add(m.code)
    return issues, registered


def task_lines(tasks: list[tuple[str, str]]) -> list[str]:
    """Key tasks as lines of text: "task (target)"."""
    return [f"{task} ({target})" if target else task for task, target in tasks]


def registrations(c: Campaign, receipts: list[Receipt], store: Path
                  ) -> tuple[list[Issue], set[tuple[str, str]], dict[str, list[str]]]:
    """(issues, registered, tasks) from the collected forms (the newest of each unit counts) and the
    campaign sheet `Đăng ký`: registered is the set of (unit, award code), tasks each unit's key tasks."""
    forms = [r for r in receipts if r.form == R.FORM_REGISTRATION]
    issues = [Issue(r.status, ERROR, r.unit if c.unit(r.unit) else "", r.original, R.META_SHEET,
                    params={"found": r.campaign_id, "expected": c.settings.campaign_id, "unit": r.unit})
              for r in forms if r.status != "ok"]  # wrong_campaign, unknown_unit: the only rejections with a form
    registered, tasks = set(c.registrations), {}
    for unit, versions in latest(forms, R.FORM_REGISTRATION).items():
        newest = versions[-1]
        reg = read_registration(store / newest.stored, newest.original)
        found, awards = check_registration(c, reg)
        if len(versions) > 1:
            found.append(Issue("registration_superseded", WARNING, unit, newest.original,
                               params={"count": len(versions), "received": vn_time(newest.received),
                                       "file": newest.original}))
        issues += found
        if not has_errors(found):
            registered |= {(unit, a) for a in awards}
            tasks[unit] = task_lines(reg.tasks)
    return issues, registered, tasks
