"""Review stage: per bloc, the head unit's workbook (self scores beside editable reviewed scores, the ballot)
goes out to out/review/<bloc>.xlsx; the completed ones come back from CAMPAIGN/review/ and are checked."""
from __future__ import annotations

import datetime as dt
import functools
import json
from collections import namedtuple
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from schemas import columns, frame
from schemas import review as V
from schemas.returns import META_SHEET

from .campaign import BLOCKERS, Bloc, Campaign
from .collect import sha256
from .issues import ERROR, WARNING, Issue
from .pool import pmap
from .read import cell_value, read_meta
from .templates import FONT, new_workbook, print_areas, row_height, write_input, write_meta, write_signature
from .validate import read_number, score_issues
from .workbook import Book, atomic, cell_name, find_header, find_table, text, vn

A4 = 9
FORM = "review"
SUBTOTAL = "Cộng điểm các tiêu chí (chưa tính điểm thưởng, điểm trừ)"


# --- writing --------------------------------------------------------------------------------

def review_path(out: Path, bloc: Bloc) -> Path:
    return Path(out) / f"{bloc.code}.xlsx"


def write_review(path: Path, c: Campaign, bloc: Bloc, rows: dict[str, list], placed: dict[str, tuple],
                 generated_at: dt.datetime, ballot: Ballot | None = None, claims: dict[str, dict] | None = None) -> Path:
    """The bloc head's workbook: `rows` the score matrix by unit (unit_rows), `placed` the bloc's provisional
    ranking (bloc_ranks).

    The reviewed cells are pre-filled with the final scores: the self score, or what an earlier completed
    review (merged onto the matrix by score.with_review) said, with its note; `ballot` carries the votes typed.
    `claims` (unit_claims: per unit its bonus and deduction claims, with what an earlier review set) gives each
    unit reviewable rows under its criteria."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = new_workbook(path, {"title": f"Thẩm định, bỏ phiếu {bloc.name} năm {c.settings.year}",
                             "author": c.settings.issuing_body, "created": generated_at})
    f = _formats(wb)
    _scores(wb, f, c, bloc, rows, claims)
    _ballot(wb, f, c, bloc, placed, ballot)
    print_areas(wb)
    write_meta(wb, c, generated_at, {"bloc_code": bloc.code, "form": FORM})
    wb.close()
    return path


def unit_rows(m: pd.DataFrame) -> dict[str, list[tuple]]:
    """The score matrix as plain rows by unit, (code, self, final, review note), in matrix order: built once for
    every bloc's workbook (pandas per row cost most of writing one)."""
    out: dict[str, list[tuple]] = {}
    if not len(m):
        return out
    notes = m["review_note"].tolist() if "review_note" in m.columns else [None] * len(m)
    for (unit, code, self_, final), note in zip(columns(m, "unit", "code", "self", "final"), notes):
        out.setdefault(unit, []).append((code, float(self_), float(final), note if isinstance(note, str) else ""))
    return out


def bloc_ranks(ranked: pd.DataFrame) -> dict[str, dict[str, tuple[float, int]]]:
    """The provisional ranking as plain records: {bloc: {unit: (total, rank)}}, built once for every workbook."""
    out: dict[str, dict[str, tuple[float, int]]] = {}
    if len(ranked):
        for bloc, unit, total, rank in columns(ranked, "bloc", "unit", "total", "rank"):
            out.setdefault(bloc, {})[unit] = (float(total), int(rank))
    return out


def unit_claims(claims: pd.DataFrame | None) -> dict[str, dict] | None:
    """claims_to_review's frame by unit and item: {unit: {code: (claimed, reviewed or None, note)}}."""
    if claims is None:
        return None
    out: dict[str, dict] = {}
    reviewed = claims["reviewed"].tolist() if "reviewed" in claims.columns else [None] * len(claims)
    notes = claims["note"].tolist() if "note" in claims.columns else [""] * len(claims)
    for (unit, code, score), done, note in zip(columns(claims, "unit", "code", "score"), reviewed, notes):
        out.setdefault(unit, {})[code] = (float(score) if pd.notna(score) else 0.0,
                                          float(done) if done is not None and pd.notna(done) else None,
                                          note if isinstance(note, str) else "")
    return out


@functools.lru_cache(maxsize=1 << 14)
def _height(*cells: tuple[str, float]) -> float:
    """templates.row_height, once per distinct text: a bloc's rows repeat the same criteria and (mostly empty)
    notes on every unit."""
    return row_height(*cells)


def _formats(wb) -> dict:
    base = {"font_name": FONT, "font_size": 12, "valign": "vcenter", "border": 1}
    add = lambda **kw: wb.add_format({**base, **kw})  # noqa: E731
    plain = {"font_name": FONT, "font_size": 12}
    return {
        "head": add(bold=True, align="center", text_wrap=True, bg_color="#DDEBF7"),
        "text": add(text_wrap=True), "num": add(num_format="0.00"), "int": add(num_format="0", align="center"),
        "input": add(num_format="0.00", locked=False, bg_color="#FFF2CC"),
        "input_int": add(num_format="0", locked=False, bg_color="#FFF2CC", align="center"),
        "input_text": add(text_wrap=True, locked=False, bg_color="#FFF2CC"),
        "total": add(bold=True, bg_color="#F2F2F2", text_wrap=True),
        "total_num": add(bold=True, num_format="0.00", bg_color="#F2F2F2"),
        "unit_head": add(bold=True, text_wrap=True, bg_color="#DDEBF7"),
        "claim": add(text_wrap=True, italic=True), "claim_num": add(num_format="0.00", italic=True),
        "title": wb.add_format({**plain, "bold": True, "font_size": 14, "align": "center"}),
        "hint": wb.add_format({**plain, "italic": True, "font_size": 11, "text_wrap": True, "valign": "top"}),
    }


def blocker_note(c: Campaign, unit) -> str:
    return (", ".join(BLOCKERS[b] for b in unit.blockers) + " (Nghị định 152/2025: không đề nghị khen thưởng)"
            if unit.blockers else "")


def _scores(wb, f: dict, c: Campaign, bloc: Bloc, by_unit: dict[str, list], claims: dict[str, dict] | None) -> None:
    ws = wb.add_worksheet(V.REVIEW_SHEET)
    headers = [V.UNIT, V.NAME, V.CODE, V.TEXT, V.MAX, V.SELF, V.REVIEWED, V.NOTE]
    widths = [10, 22, 8, 50, 9, 10, 11, 36]
    col = {h: i for i, h in enumerate(headers)}
    for i, w in enumerate(widths):
        ws.set_column(i, i, w)
    last = len(headers) - 1
    ws.merge_range(0, 0, 0, last, f"THẨM ĐỊNH KẾT QUẢ TỰ CHẤM ĐIỂM NĂM {c.settings.year}: {bloc.name.upper()}", f["title"])
    ws.merge_range(1, 0, 1, last, "Trưởng khối nhập điểm thẩm định vào cột màu vàng (đã điền sẵn bằng điểm tự chấm), "
                   "cả điểm thưởng, điểm trừ đơn vị kê khai (dưới các tiêu chí của đơn vị); "
                   f"chênh lệch quá {vn(c.settings.review_tolerance)} điểm so với điểm tự chấm phải ghi rõ lý do ở cột "
                   "Ghi chú. Không sửa cột Mã đơn vị, Mã. Mỗi đơn vị in trên một trang.", f["hint"])
    ws.set_row(1, 50)
    head = 3
    ws.set_row(head, 33)
    for h, i in col.items():
        ws.write_string(head, i, h, f["head"])
    leaves = {k.code: k for k in c.leaves}
    unit_col, name_col, code_col, text_col, max_col, self_col, reviewed_col, note_col = (
        col[h] for h in (V.UNIT, V.NAME, V.CODE, V.TEXT, V.MAX, V.SELF, V.REVIEWED, V.NOTE))
    text_f, num_f, input_f, note_f = f["text"], f["num"], f["input"], f["input_text"]
    rules: dict[tuple, list[str]] = {}  # (criterion or item, code) -> its reviewed cells: one validation each
    r = head + 1
    breaks = []
    for u in c.members(bloc.code):
        rows = by_unit.get(u.code)
        if not rows:
            continue  # no valid return: nothing to review
        if r > head + 1:
            breaks.append(r)  # each unit on its own page, under the repeated header
        # The unit's heading: its full name and any status that bars an award. No code under `Mã đơn vị`
        # or `Mã`, so it is never read back as a score.
        heading = f"{u.code} - {u.name}" + (f": {blocker_note(c, u).upper()}" if u.blockers else "")
        ws.write_blank(r, 0, None, f["unit_head"])
        ws.merge_range(r, 1, r, last, "", f["unit_head"])
        ws.write_string(r, 1, heading, f["unit_head"])
        ws.set_row(r, row_height((heading, sum(widths[1:]) / 1.2)))
        r += 1
        first = r
        for code, self_, final, note in rows:  # ~900 rows a workbook: the look-ups are made once, above
            k = leaves[code]
            ws.write_cells(r, ((unit_col, u.code, text_f), (name_col, u.short_name, text_f), (code_col, k.code, text_f),
                               (text_col, k.text, text_f), (max_col, k.max, num_f), (self_col, self_, num_f),
                               (reviewed_col, final, input_f), (note_col, note or None, note_f)))
            rules.setdefault(("criterion", k.code), []).append(cell_name(r, reviewed_col))
            ws.set_row(r, _height((k.text, 50), (note, 36)))
            r += 1
        # The unit's sum of criteria: a formula with its value, so the head sees the effect of an adjustment.
        ws.write_blank(r, col[V.UNIT], None, f["total"])
        ws.write_string(r, col[V.NAME], u.short_name, f["total"])
        ws.write_blank(r, col[V.CODE], None, f["total"])
        ws.write_string(r, col[V.TEXT], SUBTOTAL, f["total"])
        ws.set_row(r, _height((SUBTOTAL, 50 / 1.2)))
        sums = {V.MAX: sum(leaves[x[0]].max for x in rows), V.SELF: sum(x[1] for x in rows),
                V.REVIEWED: sum(x[2] for x in rows)}
        for h, value in sums.items():
            a, b = cell_name(first, col[h]), cell_name(r - 1, col[h])
            ws.write_formula(r, col[h], f"=SUM({a}:{b})", f["total_num"], float(value))
        ws.write_blank(r, col[V.NOTE], None, f["total"])
        r += 1
        if claims is not None:
            r = _claim_rows(ws, f, c, u, r, col, claims.get(u.code, {}), rules)
    items = {i.code: i for i in c.items}
    for (kind, code), cells in rules.items():
        _rule(ws, cells, *(_score_rule(leaves[code]) if kind == "criterion" else _claim_rule(items[code])))
    ws.set_h_pagebreaks(breaks)
    ws.freeze_panes(head + 1, 3)
    ws.repeat_rows(head)
    write_signature(wb, ws, r, 1, last, 4, f"{c.settings.place}, ngày      tháng      năm {c.settings.year + 1}",
                    None, ("TM. ĐƠN VỊ TRƯỞNG KHỐI", "(Ký tên, đóng dấu)"))
    _page(ws)
    ws.protect("", {"format_columns": True, "format_rows": True, "autofilter": True})


def _claim_rows(ws, f: dict, c: Campaign, u, r: int, col: dict, got: dict, rules: dict[tuple, list[str]]) -> int:
    """One reviewable row per bonus or deduction item under the unit's criteria: what the unit claimed (0 when
    nothing) and the reviewed points, pre-filled with the claim (or an earlier review's figure)."""
    for item in c.items:
        claim, earlier, note = got.get(item.code, (0.0, None, ""))
        reviewed = earlier if earlier is not None else claim
        label = f"{'Điểm thưởng' if item.kind == 'thưởng' else 'Điểm trừ'}: {item.text}"
        ws.write_string(r, col[V.UNIT], u.code, f["claim"])
        ws.write_string(r, col[V.NAME], u.short_name, f["claim"])
        ws.write_string(r, col[V.CODE], item.code, f["claim"])
        ws.write_string(r, col[V.TEXT], label, f["claim"])
        ws.write_number(r, col[V.MAX], item.cap, f["claim_num"])
        ws.write_number(r, col[V.SELF], claim, f["claim_num"])
        ws.write_number(r, col[V.REVIEWED], reviewed, f["input"])
        write_input(ws, r, col[V.NOTE], note or None, f["input_text"])
        rules.setdefault(("item", item.code), []).append(cell_name(r, col[V.REVIEWED]))
        ws.set_row(r, _height((label, 50), (note, 36)))
        r += 1
    return r


# Cells per data validation: one rule covers every unit's cell of a criterion (a validation per cell made the
# XML of a large bloc's workbook several times its data); Excel reads long lists, kept in moderate pieces.
CELLS_PER_RULE = 256


def _rule(ws, cells: list[str], title: str, msg: str, maximum: float) -> None:
    for i in range(0, len(cells), CELLS_PER_RULE):
        part = cells[i:i + CELLS_PER_RULE]
        ws.data_validation(part[0], {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": maximum,
                                     "input_title": title, "input_message": msg, "error_title": "Điểm không hợp lệ",
                                     "error_message": msg, "multi_range": " ".join(part)})


def _score_rule(k) -> tuple[str, str, float]:
    msg = (f"Đạt: {vn(k.max)} điểm; không đạt: 0." if k.kind == "đạt/không đạt"
           else f"Nhập số từ 0 đến {vn(k.max)}" + (f", theo bước {vn(k.step)}." if k.step else "."))
    return "Điểm thẩm định", msg, k.max


def _claim_rule(item) -> tuple[str, str, float]:
    return ("Điểm thưởng, trừ thẩm định", f"Từ 0 đến {vn(item.cap)} điểm ({vn(item.points)} điểm mỗi lần).",
            item.cap)


def _ballot(wb, f: dict, c: Campaign, bloc: Bloc, placed: dict[str, tuple[float, int]], ballot: Ballot | None
            ) -> None:
    ws = wb.add_worksheet(V.VOTES_SHEET)
    headers = [V.UNIT, V.NAME, V.TOTAL, V.RANK, V.LEADER, V.HEAD, V.DEPUTY]
    for i, w in enumerate((10, 44, 12, 11, 12, 12, 12)):
        ws.set_column(i, i, w)
    last = len(headers) - 1
    members = c.members(bloc.code)
    ws.merge_range(0, 0, 0, last, f"KẾT QUẢ BỎ PHIẾU HỘI NGHỊ TỔNG KẾT NĂM {c.settings.year}: {bloc.name.upper()}", f["title"])
    ws.merge_range(1, 0, 1, last, "Thư ký hội nghị nhập số phiếu vào các ô màu vàng: phiếu suy tôn đơn vị dẫn đầu khối, "
                   f"phiếu bầu Trưởng khối, Phó khối năm {c.settings.year + 1}; và số đơn vị có mặt, số phiếu phát ra, "
                   "số phiếu hợp lệ ở bảng dưới. Bỏ trống nếu không bầu (Trưởng, Phó khối luân phiên theo quy định).",
                   f["hint"])
    ws.set_row(1, 50)
    head = 3
    ws.set_row(head, 33)
    for i, h in enumerate(headers):
        ws.write_string(head, i, h, f["head"])
    order = {u: n for n, u in enumerate(sorted(placed, key=lambda u: (placed[u][1], u)))}
    rows = sorted(members, key=lambda u: (order.get(u.code, len(order)), u.code))
    for n, u in enumerate(rows):
        r = head + 1 + n
        ws.write_string(r, 0, u.code, f["text"])
        name = u.name + (f" ({blocker_note(c, u)})" if u.blockers else "")
        ws.write_string(r, 1, name, f["text"])
        ws.set_row(r, row_height((name, 44), ("" if u.code in placed else "Không xếp hạng", 11)))
        got = placed.get(u.code)
        if got is not None:
            ws.write_number(r, 2, got[0], f["num"])
            ws.write_number(r, 3, got[1], f["int"])
        else:
            ws.write_string(r, 2, "", f["text"])
            ws.write_string(r, 3, "Không xếp hạng", f["text"])
        for i, kind in zip((4, 5, 6), V.VOTE_COLUMNS):
            write_input(ws, r, i, getattr(ballot, kind).get(u.code) if ballot else None, f["input_int"])
    _counts_rule(ws, head + 1, 4, head + len(rows), 6, len(members))
    r = head + len(rows) + 2
    ws.write_string(r, 0, V.KEY, f["head"])
    ws.write_string(r, 1, V.VALUE, f["head"])
    for n, (key, label) in enumerate(V.COUNT_KEYS.items(), start=1):
        ws.write_string(r + n, 0, label, f["text"])
        write_input(ws, r + n, 1, (getattr(ballot, key) or None) if ballot else None, f["input_int"])
    _counts_rule(ws, r + 1, 1, r + len(V.COUNT_KEYS), 1, len(members))
    ws.set_column(0, 0, 18)
    s = c.settings
    next_head, next_deputy = c.rotation(bloc)
    note_row = r + len(V.COUNT_KEYS) + 2
    ws.set_row(note_row, 50)
    ws.merge_range(note_row, 0, note_row, last,
                    f"Trưởng khối năm {s.year}: {bloc.head or '-'}; Phó khối: {bloc.deputy or '-'}. Nếu không bầu, năm "
                    f"{s.year + 1} theo luân phiên: Trưởng khối {next_head or '-'}, Phó khối {next_deputy or '-'}. "
                    f"Đơn vị dẫn đầu cần đứng thứ nhất và được trên {vn(s.leader_vote_share)}% phiếu suy tôn; "
                    f"hội nghị hợp lệ khi có mặt từ {s.quorum.numerator}/{s.quorum.denominator} số đơn vị thành viên.",
                    f["hint"])
    write_signature(wb, ws, note_row + 1, 0, last, 2, f"{s.place}, ngày      tháng      năm {s.year + 1}",
                    ("THƯ KÝ HỘI NGHỊ", "(Ký, ghi rõ họ tên)"), ("TM. ĐƠN VỊ TRƯỞNG KHỐI", "(Ký tên, đóng dấu)"))
    ws.freeze_panes(head + 1, 2)
    _page(ws)
    if len(members) <= 20:
        ws.fit_to_pages(1, 1)  # the minutes of a vote on one page, signatures under the counts
    ws.protect("", {"format_columns": True, "format_rows": True})


def _counts_rule(ws, r0: int, c0: int, r1: int, c1: int, most: int) -> None:
    msg = f"Số nguyên từ 0 đến {most} (số đơn vị thành viên)."
    ws.data_validation(r0, c0, r1, c1, {"validate": "integer", "criteria": "between", "minimum": 0, "maximum": most,
                                        "input_title": "Số phiếu", "input_message": msg,
                                        "error_title": "Không hợp lệ", "error_message": msg})


def _page(ws) -> None:
    ws.set_paper(A4)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.5, right=0.4, top=0.6, bottom=0.6)
    ws.set_footer("&CTrang &P/&N")


def write_all(c: Campaign, out: Path, m: pd.DataFrame, ranked: pd.DataFrame, generated_at: dt.datetime,
              progress=lambda bloc: None, ballots: dict | None = None, claims: pd.DataFrame | None = None,
              jobs: int | None = None, record: Path | None = None) -> list[Path]:
    """One review workbook per bloc under out/<bloc>.xlsx, written on `jobs` processes (the same bytes whatever
    the number); `claims` as claims_to_review gives them. With `record` (a JSON file in out/cache/), what was
    written is recorded there, so that `rank` knows an untouched workbook from one typed into by mistake."""
    out = Path(out)
    shared = (c, out, unit_rows(m), bloc_ranks(ranked), generated_at, ballots or {}, unit_claims(claims))
    paths = [p for _, p in pmap(_write_bloc, list(c.blocs), shared, jobs, lambda done: progress(done[0]))]
    if record is not None:
        record.parent.mkdir(parents=True, exist_ok=True)
        with atomic(record) as tmp:
            tmp.write_text(json.dumps({p.name: sha256(p) for p in paths}, ensure_ascii=False, indent=0,
                                      sort_keys=True), encoding="utf-8")
    return paths


def _write_bloc(shared: tuple, b: Bloc) -> tuple[Bloc, Path]:
    c, out, rows, ranks, generated_at, ballots, claims = shared
    return b, write_review(review_path(out, b), c, b, rows, ranks.get(b.code, {}), generated_at,
                           ballots.get(b.code), claims)


def untouched(folder: Path, record: Path) -> set[str]:
    """The workbooks in `folder` still exactly as write_all wrote them, by its `record` (nothing typed there)."""
    try:
        record = json.loads(Path(record).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    if not isinstance(record, dict):
        return set()
    return {name for name, digest in record.items() if isinstance(digest, str)
            and (Path(folder) / name).is_file() and sha256(Path(folder) / name) == digest}


# --- reading back ---------------------------------------------------------------------------

class ReviewRow(NamedTuple):
    """One unit and criterion (or bonus/deduction item) read back from a review, values as typed
    (the columns of schemas.review.REVIEW_ROWS)."""

    unit: str
    code: str
    self: object
    reviewed: object
    note: str
    unit_cell: str
    cell: str
    note_cell: str


class VoteRow(NamedTuple):
    """One unit of the vote sheet, counts as typed (schemas.review.VOTE_ROWS)."""

    unit: str
    leader: object
    head: object
    deputy: object
    leader_cell: str
    head_cell: str
    deputy_cell: str


# frames are built from the rows as tuples: their fields are the schemas' columns, in order
assert ReviewRow._fields == tuple(V.REVIEW_ROWS.columns) and VoteRow._fields == tuple(V.VOTE_ROWS.columns)
REVIEWED_COLUMNS = tuple(V.REVIEWED_SCORES.columns)
# One reviewed score (or claim) as check_review finds it, in the columns of REVIEWED_SCORES.
Reviewed = namedtuple("Reviewed", REVIEWED_COLUMNS)


@dataclass
class ReviewReturn:
    """What one completed review holds, values as typed, and what stopped reading it. Plain records: a frame
    per file (and its validation) cost most of reading one back; load_reviews checks them all at once."""

    file: str
    meta: dict[str, str]
    rows: list[ReviewRow]
    votes: list[VoteRow]
    counts: dict[str, tuple[object, str]] = field(default_factory=dict)  # present/issued/valid -> (value, cell)
    issues: list[Issue] = field(default_factory=list)


def read_review(path: Path, file: str | None = None) -> ReviewReturn:
    """Read a review by its header texts; a damaged file is an `unreadable` issue, never an exception."""
    file = file or Path(path).name
    try:
        book = Book(path)
        return _read(book, file)
    except Exception as e:  # calamine raises several types for damaged files
        return ReviewReturn(file, {}, [], [], issues=[Issue("unreadable", file=file, params={"reason": str(e)[:200]})])


def _read(book: Book, file: str) -> ReviewReturn:
    meta, issues = read_meta(book), []
    rows, votes, counts = [], [], {}
    at = lambda line, i: line[i] if i < len(line) else None  # noqa: E731
    got = find_table(book, V.REVIEW_SHEET, V.REVIEW_HEADERS, issues, file=file)
    if got:
        sheet, grid, head, col = got
        # each column's index once: a review has ~1,000 rows
        unit_c, code_c, self_c, reviewed_c, note_c = (col[h] for h in (V.UNIT, V.CODE, V.SELF, V.REVIEWED, V.NOTE))
        for r in range(head + 1, len(grid)):
            line = grid[r]
            unit, code = text(at(line, unit_c)), text(at(line, code_c))
            if unit and code:  # unit subtotal rows have no criterion code
                rows.append(ReviewRow(unit, code, cell_value(at(line, self_c)), cell_value(at(line, reviewed_c)),
                                      text(at(line, note_c)), cell_name(r, unit_c), cell_name(r, reviewed_c),
                                      cell_name(r, note_c)))
    got = find_table(book, V.VOTES_SHEET, V.VOTE_HEADERS, issues, file=file)
    if got:
        sheet, grid, head, col = got
        r = head + 1
        while r < len(grid) and text(at(grid[r], col[V.UNIT])):
            line = grid[r]
            heads = [col[h] for h in V.VOTE_COLUMNS.values()]
            votes.append(VoteRow(text(at(line, col[V.UNIT])), *(cell_value(at(line, h)) for h in heads),
                                 *(cell_name(r, h) for h in heads)))
            r += 1
        found = find_header(grid[r:], [V.KEY, V.VALUE], search_rows=10)
        if found is None:
            issues.append(Issue("header_missing", file=file, sheet=sheet, cell=cell_name(r, 0),
                                params={"headers": f"{V.KEY}, {V.VALUE}"}))
        else:
            kv_head, kv = found
            labels = {label: key for key, label in V.COUNT_KEYS.items()}
            for rr in range(r + kv_head + 1, min(len(grid), r + kv_head + 1 + 10)):
                key = labels.get(text(at(grid[rr], kv[V.KEY])))
                if key:
                    counts[key] = (cell_value(at(grid[rr], kv[V.VALUE])), cell_name(rr, kv[V.VALUE]))
    return ReviewReturn(file, meta, rows, votes, counts, issues)


def check_rows(rows: list[tuple], votes: list[tuple]) -> None:
    """The stage boundary, once for all reviews: rows as tuples in the order of ReviewRow and VoteRow (the
    schemas' columns), one frame and one pandera call each."""
    if rows:
        V.REVIEW_ROWS.validate(frame(rows, V.REVIEW_ROWS))
    if votes:
        V.VOTE_ROWS.validate(frame(votes, V.VOTE_ROWS))


# --- checking -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Ballot:
    """The conference's vote in one bloc, as recorded and checked; `ok` when shares may be used."""

    bloc: str
    file: str
    present: int
    issued: int
    valid: int
    leader: dict[str, int]
    head: dict[str, int]
    deputy: dict[str, int]
    ok: bool


def self_scores(m: pd.DataFrame) -> dict[tuple[str, str], float]:
    """(unit, criterion) -> the current self score, from the score matrix before review."""
    return {(u, k): s for u, k, s in columns(m, "unit", "code", "self")}


def claim_scores(values: pd.DataFrame) -> dict[tuple[str, str], float]:
    """(unit, item) -> the points the unit's return claims, as counted (the validated values)."""
    items = values[values["section"] == "items"]
    return {(u, k): float(x) for u, k, x in columns(items, "unit", "code", "score") if pd.notna(x)}


def claims_to_review(values: pd.DataFrame, reviewed: pd.DataFrame | None = None) -> pd.DataFrame:
    """The claims a review workbook shows: unit, code, score, and reviewed, note where a completed review set them."""
    items = values[values["section"] == "items"][["unit", "code", "score"]]
    if reviewed is not None and len(reviewed) and "section" in reviewed.columns:
        done = reviewed[reviewed["section"] == "items"][["unit", "code", "reviewed", "note"]]
        items = items.merge(done, on=["unit", "code"], how="outer")
    return items.reset_index(drop=True)


def apply_claims(values: pd.DataFrame, reviewed: pd.DataFrame) -> pd.DataFrame:
    """The values with each reviewed claim's points in place of the unit's (a claim the bloc head added where
    the unit claimed nothing becomes a row, pointing at the review's cell)."""
    if reviewed is None or not len(reviewed) or "section" not in reviewed.columns:
        return values
    done = reviewed[reviewed["section"] == "items"]
    if not len(done):
        return values
    out = values.copy()
    key = list(zip(out["unit"], out["code"], out["section"]))
    where = {k: i for i, k in zip(out.index, key)}
    extra = []
    for r in done.itertuples():
        i = where.get((r.unit, r.code, "items"))
        if i is not None:
            out.loc[i, ["score", "file", "sheet", "cell", "sha256"]] = [r.reviewed, r.file, r.sheet, r.cell, ""]
        elif r.reviewed:
            extra.append({"unit": r.unit, "section": "items", "code": r.code, "score": r.reviewed, "actual": None,
                          "explanation": r.note, "file": r.file, "sheet": r.sheet, "cell": r.cell, "sha256": ""})
    return pd.concat([out, pd.DataFrame(extra, columns=out.columns)], ignore_index=True) if extra else out


def _claim_check(c: Campaign, r, file: str, claims: dict, item) -> tuple[list[Issue], Reviewed | None]:
    """A reviewed claim checked like a reviewed score: a number, 0 to the item's cap, on its step (the points per
    occurrence); over the tolerance from the claim without a note, a warning."""
    where = dict(unit=r.unit, file=file, sheet=V.REVIEW_SHEET, cell=r.cell)
    found: list[Issue] = []
    x, _ = read_number(r.reviewed, r.cell, lambda sheet, cell: dict(unit=r.unit, file=file, sheet=sheet, cell=cell),
                       V.REVIEW_SHEET, found)
    if x is None:
        return found, None  # blank: the unit's claim stands
    if not 0 <= x <= item.cap:
        found.append(Issue("score_range", **where, params={"value": vn(x), "max": vn(item.cap)}))
    elif item.points and abs(x / item.points - round(x / item.points)) > 1e-9:
        found.append(Issue("score_step", **where, params={"value": vn(x), "step": vn(item.points)}))
    claim = claims.get((r.unit, r.code), 0.0)
    if abs(x - claim) > c.settings.review_tolerance + 1e-9 and not r.note and not found:
        found.append(Issue("review_note_missing", WARNING, r.unit, file, V.REVIEW_SHEET, r.note_cell,
                           params={"code": r.code, "self": vn(claim), "reviewed": vn(x),
                                   "tolerance": vn(c.settings.review_tolerance)}))
    if any(i.severity == ERROR for i in found) or abs(x - claim) <= 1e-9:
        return found, None
    return found, Reviewed(unit=r.unit, code=r.code, reviewed=x, note=r.note, file=file, sheet=V.REVIEW_SHEET,
                           cell=r.cell, section="items")


def check_review(c: Campaign, ret: ReviewReturn, current: dict[tuple[str, str], float],
                 claims: dict[tuple[str, str], float] | None = None
                 ) -> tuple[list[Issue], list[Reviewed], Ballot | None]:
    """Every problem of one review, the reviewed scores that count (rows of schemas.review.REVIEWED_SCORES),
    and the ballot (None when none was recorded).

    `current` is every current self score (self_scores: built once for all reviews). A reviewed score with
    an error does not count: that criterion keeps its self score. With `claims` (claim_scores) the bonus and
    deduction rows are checked the same way and a changed claim comes back as a row of section `items`;
    without, they are left alone.
    """
    file, meta = ret.file, ret.meta
    issues = [Issue(i.code, i.severity, "", file, i.sheet, i.cell, i.params) for i in ret.issues]
    empty: list[Reviewed] = []
    if meta.get("campaign_id") != c.settings.campaign_id:
        return issues + [Issue("wrong_campaign", file=file, sheet=META_SHEET, params={
            "found": meta.get("campaign_id", ""), "expected": c.settings.campaign_id})], empty, None
    bloc = c.bloc(meta.get("bloc_code", ""))
    if bloc is None or meta.get("form") != FORM:
        return issues + [Issue("review_not_a_review", file=file, sheet=META_SHEET,
                               params={"bloc": meta.get("bloc_code", "")})], empty, None
    members = {u.code for u in c.members(bloc.code)}
    leaves = {k.code: k for k in c.leaves}
    items = {i.code: i for i in c.items}
    reviewed = []
    for r in ret.rows:
        where = dict(unit=r.unit, file=file, sheet=V.REVIEW_SHEET, cell=r.cell)
        if r.unit not in members:
            issues.append(Issue("review_unit", unit=r.unit, file=file, sheet=V.REVIEW_SHEET, cell=r.unit_cell,
                                params={"unit": r.unit, "bloc": bloc.code}))
            continue
        if r.code in items and r.code not in leaves:
            if claims is not None:
                found, row = _claim_check(c, r, file, claims, items[r.code])
                issues += found
                reviewed += [row] if row else []
            continue
        k = leaves.get(r.code)
        if (r.unit, r.code) not in current or k is None:
            issues.append(Issue("review_not_scored", WARNING, **where, params={"code": r.code}))
            continue
        found: list[Issue] = []
        if type(r.reviewed) is float and r.reviewed == r.reviewed:  # a number typed as one (nearly every cell)
            x = r.reviewed
        else:
            x, ok = read_number(r.reviewed, r.cell, lambda sheet, cell: dict(unit=r.unit, file=file, sheet=sheet,
                                                                              cell=cell), V.REVIEW_SHEET, found)
        if x is None:
            issues += found or [Issue("review_blank", WARNING, **where, params={"code": r.code})]
            continue
        found += score_issues(k, x, where)
        self_now = current[(r.unit, r.code)]
        shown = r.self if type(r.self) is float and r.self == r.self else \
            read_number(r.self, "", lambda *_: {}, "", [])[0]
        if shown is not None and abs(shown - self_now) > 1e-9:
            found.append(Issue("review_stale", WARNING, **where, params={"code": r.code, "shown": vn(shown), "self": vn(self_now)}))
            if abs(x - shown) <= 1e-9:  # left as pre-filled: the unit's newer self score stands
                issues += found
                continue
        if abs(x - self_now) <= 1e-9:
            x = self_now  # the cell holds the self score to 15 digits; keep it bit for bit
        if abs(x - self_now) > c.settings.review_tolerance + 1e-9 and not r.note and not any(
                i.severity == ERROR for i in found):
            found.append(Issue("review_note_missing", WARNING, r.unit, file, V.REVIEW_SHEET, r.note_cell,
                               params={"code": r.code, "self": vn(self_now), "reviewed": vn(x),
                                       "tolerance": vn(c.settings.review_tolerance)}))
        issues += found
        if not any(i.severity == ERROR for i in found):
            reviewed.append(Reviewed(unit=r.unit, code=r.code, reviewed=x, note=r.note, file=file,
                                     sheet=V.REVIEW_SHEET, cell=r.cell, section="criteria"))
    found, ballot = _ballot_check(c, bloc, ret)
    return issues + found, reviewed, ballot


def _ballot_check(c: Campaign, bloc: Bloc, ret: ReviewReturn) -> tuple[list[Issue], Ballot | None]:
    """The recorded vote: counts are whole numbers, valid ≤ issued ≤ present ≤ members, no unit over the valid
    ballots, and a quorum present. Any of these failing leaves the vote unusable (ok=False), never guessed."""
    file, issues = ret.file, []
    members = {u.code for u in c.members(bloc.code)}
    where = lambda cell, unit="": dict(unit=unit, file=file, sheet=V.VOTES_SHEET, cell=cell)  # noqa: E731

    def count(value, cell, unit="") -> int | None:
        x, _ = read_number(value, cell, lambda sheet, c_: where(c_, unit), V.VOTES_SHEET, issues)
        if x is not None and (x < 0 or not float(x).is_integer()):
            issues.append(Issue("votes_not_count", **where(cell, unit), params={"value": vn(x)}))
            return None
        return None if x is None else int(x)

    tallies: dict[str, dict[str, int]] = {"leader": {}, "head": {}, "deputy": {}}
    for r in ret.votes:
        if r.unit not in members:
            issues.append(Issue("review_unit", **where(r.leader_cell, r.unit), params={"unit": r.unit, "bloc": bloc.code}))
            continue
        for kind in tallies:
            n = count(getattr(r, kind), getattr(r, f"{kind}_cell"), r.unit)
            if n:
                tallies[kind][r.unit] = n
    numbers = {k: count(*ret.counts.get(k, (None, ""))) for k in V.COUNT_KEYS}
    if not any(tallies.values()) and all(v is None for v in numbers.values()):
        return issues, None  # no vote recorded in this bloc
    bad = any(i.severity == ERROR for i in issues)
    missing = [V.COUNT_KEYS[k] for k, v in numbers.items() if v is None]
    if missing:
        issues.append(Issue("votes_counts_missing", file=file, sheet=V.VOTES_SHEET, params={"missing": ", ".join(missing)}))
        return issues, Ballot(bloc.code, file, 0, 0, 0, *tallies.values(), ok=False)
    present, issued, valid = numbers["present"], numbers["issued"], numbers["valid"]
    cells = {k: ret.counts[k][1] for k in V.COUNT_KEYS}
    if present > len(members):
        issues.append(Issue("votes_present", **where(cells["present"]), params={"present": present, "members": len(members)}))
    if issued > present:
        issues.append(Issue("votes_issued", **where(cells["issued"]), params={"issued": issued, "present": present}))
    if valid > issued:
        issues.append(Issue("votes_valid", **where(cells["valid"]), params={"valid": valid, "issued": issued}))
    by_cell = {(r.unit, kind): getattr(r, f"{kind}_cell") for r in ret.votes for kind in tallies}
    for kind, tally in tallies.items():
        over = [(unit, n) for unit, n in tally.items() if n > valid]
        for unit, n in over:
            issues.append(Issue("votes_over", **where(by_cell[(unit, kind)], unit), params={"votes": n, "valid": valid}))
        if not over and sum(tally.values()) > valid:  # one name per ballot: no more votes cast than valid ballots
            issues.append(Issue("votes_total", **where(by_cell[(next(iter(tally)), kind)]), params={
                "column": V.VOTE_COLUMNS[kind], "total": sum(tally.values()), "valid": valid}))
    quorum = c.settings.quorum
    if present < quorum * len(members):
        issues.append(Issue("quorum_missed", **where(cells["present"]), params={
            "present": present, "members": len(members), "quorum": f"{quorum.numerator}/{quorum.denominator}"}))
    ok = not bad and not any(i.severity == ERROR for i in issues)
    return issues, Ballot(bloc.code, file, present, issued, valid, *tallies.values(), ok=ok)


def load_reviews(c: Campaign, folder: Path, m: pd.DataFrame, values: pd.DataFrame | None = None,
                 jobs: int | None = None, skip: set[str] = frozenset(), current: dict | None = None
                 ) -> tuple[list[Issue], pd.DataFrame, dict[str, Ballot]]:
    """Every completed review under `folder` (CAMPAIGN/review/): issues, reviewed scores and ballots by bloc;
    with the validated `values`, the reviewed bonus and deduction claims too (rows of section `items`:
    apply_claims). Files are read and checked on `jobs` processes; `skip` names files not to read (untouched);
    `current`: self_scores(m), when the caller has it already.

    Files are taken in name order; where two files review one bloc, the later name wins and a warning says so.
    """
    issues: list[Issue] = []
    frames: dict[str, list[tuple]] = {}  # bloc -> its reviewed scores, REVIEWED_COLUMNS
    ballots: dict[str, Ballot] = {}
    seen: dict[str, str] = {}
    files = sorted(p for p in Path(folder).glob("*") if p.suffix.lower() in (".xlsx", ".xlsm", ".ods", ".xls")
                   and not p.name.startswith(("~$", ".")) and p.name not in skip) if Path(folder).is_dir() else []
    if not files:  # nothing to read (out/review/ as written): no look-up tables to build
        return issues, V.REVIEWED_SCORES.validate(frame([], V.REVIEWED_SCORES)), ballots
    shared = (c, self_scores(m) if current is None else current, claim_scores(values) if values is not None else None)
    done = pmap(_read_and_check, files, shared, jobs)
    check_rows([r for d in done for r in d[2]], [v for d in done for v in d[3]])
    for file, bloc, _, _, found, reviewed, ballot in done:
        issues += found
        if not any(i.code in ("wrong_campaign", "review_not_a_review", "unreadable") for i in found):
            if bloc in seen:
                issues.append(Issue("review_superseded", WARNING, file=seen[bloc], params={"bloc": bloc, "file": file}))
                ballots.pop(bloc, None)
            seen[bloc] = file
            frames[bloc] = reviewed
            if ballot is not None:
                ballots[bloc] = ballot
    reviewed = V.REVIEWED_SCORES.validate(frame([r for rows in frames.values() for r in rows], V.REVIEWED_SCORES))
    return issues, reviewed, ballots


def _read_and_check(shared: tuple, path: Path) -> tuple:
    """One review read and checked (on a worker): file, bloc, rows and votes read, issues, reviewed scores and the
    ballot. Rows go back as plain tuples (REVIEWED_COLUMNS for the scores): a NamedTuple or dict per row cost
    more to send back to the parent than to read."""
    c, current, claims = shared
    ret = read_review(path)
    found, reviewed, ballot = check_review(c, ret, current, claims)
    return (ret.file, ret.meta.get("bloc_code", ""), [tuple(r) for r in ret.rows], [tuple(v) for v in ret.votes],
            found, [tuple(r) for r in reviewed], ballot)
