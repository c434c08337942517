"""Feedback workbooks: a broken return (filled from a template, then broken), its real issues, and the
out/feedback/<unit>.xlsx made from them; tests assert cells, fills, comments and bytes, never wording."""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import pickle
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from pipeline import issues as issues_module
from pipeline.issues import ERROR, MESSAGES, SEVERITY_VI, WARNING, Issue
from pipeline.mail import feedback as fb
from pipeline.mail.feedback import FILLS, HOW_TO_FIX, SHEET, write_feedback
from pipeline.read import read_return
from pipeline.validate import validate_return
from schemas import returns as R

import factories as f

SCORES, ITEMS, META = R.SCORE_SHEET, R.ITEMS_SHEET, R.META_SHEET
UNIT = "A02"
CREATED = dt.datetime(2026, 12, 12, 9, 0, 0)
ROOT = Path(__file__).resolve().parents[1]
HEADERS = ["STT", "Trang tính", "Ô", "Mức độ", "Nội dung", "Cách sửa"]
RETURN_CODES = [
    "score_range", "score_step", "pass_fail", "not_a_number", "decimal_comma", "thousands_dot", "number_as_text",
    "explanation_missing", "score_missing", "actual_missing", "actual_negative", "criterion_missing",
    "criterion_unknown", "criterion_duplicate", "item_over_cap", "bonus_over_cap", "outdated_template",
    "criteria_changed", "bloc_mismatch", "wrong_campaign", "unknown_unit", "sheet_missing", "header_missing",
    "unreadable", "encrypted", "macro", "oversized", "late", "superseded", "not_a_return",
    "sender_other_unit", "sender_unknown",
]


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    return f.make_campaign(tmp_path_factory.mktemp("feedback") / "CAMPAIGN")


def broken_fill():
    """A02's good return with a score over its max, "mười" as a score, a missing explanation, a bonus over the
    cap and "6,0" typed as text (a warning on a cell)."""
    fill = f.RETURNS[UNIT].fill()
    fill.scores["I.2"] = 25                      # max 20
    fill.scores["II.2"] = "mười"
    fill.explanations["I.3"] = None              # explanation "luôn"
    fill.items["T1"], fill.items["T2"] = (3, "Ba lần"), (1.5, "Ba sáng kiến")  # 4.5 > bonus_cap 3
    fill.scores["III.1"] = "6,0"
    return fill


@pytest.fixture(scope="module")
def broken(campaign, tmp_path_factory):
    """The stored return, its real issues (+ a late warning and a second issue on one cell) and the feedback."""
    root = tmp_path_factory.mktemp("broken")
    stored = f.write_return(root / "submissions" / "ab12cd.xlsx", campaign, UNIT, broken_fill())
    found, _ = validate_return(campaign, read_return(stored, "A02 - bản tự chấm.xlsx"))
    i2 = f.cell_of(stored, SCORES, "I.2", R.SELF)
    late = Issue("late", WARNING, UNIT, "A02 - bản tự chấm.xlsx", params={"received": "2026-12-11 08:00",
                                                                        "deadline": "2026-12-10"})
    # A warning on the cell that also has an error, listed before it: the cell must still show the error.
    same_cell = Issue("number_as_text", WARNING, UNIT, "A02 - bản tự chấm.xlsx", SCORES, i2,
                      params={"value": "25", "number": "25"})
    issues = [same_cell] + found + [late]
    sha = hashlib.sha256(stored.read_bytes()).hexdigest()
    mtime = stored.stat().st_mtime_ns
    out = write_feedback(root / "out" / "feedback" / f"{UNIT}.xlsx", UNIT, "Đơn vị A02", issues, stored,
                         campaign.settings.campaign_id, CREATED)
    return {"stored": stored, "issues": issues, "out": out, "sha": sha, "mtime": mtime, "root": root}


def cells_of(issues) -> set[tuple[str, str]]:
    return {(i.sheet, i.cell) for i in issues if i.sheet and i.cell}


def marked(path: Path) -> dict[tuple[str, str], str]:
    """(sheet, cell) -> fill colour of every cell outside `Cần sửa` that carries one of the feedback fills."""
    wb = openpyxl.load_workbook(path)
    return {(ws.title, c.coordinate): c.fill.fgColor.rgb
            for ws in wb.worksheets if ws.title != SHEET
            for row in ws.iter_rows() for c in row
            if c.fill.fill_type == "solid" and c.fill.fgColor.rgb in FILLS.values()}


def comments(path: Path) -> dict[tuple[str, str], str]:
    wb = openpyxl.load_workbook(path)
    return {(ws.title, c.coordinate): c.comment.text for ws in wb.worksheets
            for row in ws.iter_rows() for c in row if c.comment is not None}


def listed(path: Path) -> list[dict]:
    return f.table(path, SHEET, HEADERS)


# --- the marked copy -------------------------------------------------------------------------------------

def test_the_issues_are_the_real_ones(broken):
    stored = broken["stored"]
    got = {(i.code, i.sheet, i.cell) for i in broken["issues"]}
    assert {("score_range", SCORES, f.cell_of(stored, SCORES, "I.2", R.SELF)),
            ("not_a_number", SCORES, f.cell_of(stored, SCORES, "II.2", R.SELF)),
            ("explanation_missing", SCORES, f.cell_of(stored, SCORES, "I.3", R.EXPLAIN)),
            ("decimal_comma", SCORES, f.cell_of(stored, SCORES, "III.1", R.SELF)),
            ("bonus_over_cap", ITEMS, ""), ("late", "", "")} <= got


def test_exactly_the_issue_cells_are_marked(broken):
    got = marked(broken["out"])
    assert set(got) == cells_of(broken["issues"])
    for (sheet, cell), colour in got.items():
        severities = {i.severity for i in broken["issues"] if (i.sheet, i.cell) == (sheet, cell)}
        assert colour == FILLS[ERROR if ERROR in severities else WARNING], (sheet, cell)
    assert set(got.values()) == {FILLS[ERROR], FILLS[WARNING]}  # the broken return has both


def test_each_marked_cell_has_one_comment_with_all_its_messages(broken):
    notes = comments(broken["out"])
    assert set(notes) == cells_of(broken["issues"])  # comments on no other cell either
    for i in broken["issues"]:
        if i.sheet and i.cell:
            assert i.message("vi") in notes[(i.sheet, i.cell)]
            assert HOW_TO_FIX[i.code] in notes[(i.sheet, i.cell)]
    i2 = (SCORES, f.cell_of(broken["stored"], SCORES, "I.2", R.SELF))
    assert sum(i.sheet == i2[0] and i.cell == i2[1] for i in broken["issues"]) == 2


def test_the_original_sheets_and_their_protection_are_kept(broken):
    before = openpyxl.load_workbook(broken["stored"])
    after = openpyxl.load_workbook(broken["out"])
    assert after.sheetnames == [SHEET] + before.sheetnames
    for ws in before.worksheets:
        copy = after[ws.title]
        assert copy.sheet_state == ws.sheet_state
        assert bool(copy.protection.sheet) == bool(ws.protection.sheet) is True
        assert (copy.protection.formatColumns, copy.protection.formatRows) == (ws.protection.formatColumns,
                                                                             ws.protection.formatRows)
        assert len(copy.data_validations.dataValidation) == len(ws.data_validations.dataValidation)
        assert copy.print_title_rows == ws.print_title_rows
    assert after[META].sheet_state == "hidden"
    cell = f.cell_of(broken["stored"], SCORES, "I.2", R.SELF)
    assert after[SCORES][cell].protection.locked is False  # the unit can still type the fix


def test_the_stored_return_is_never_changed(broken):
    assert hashlib.sha256(broken["stored"].read_bytes()).hexdigest() == broken["sha"]
    assert broken["stored"].stat().st_mtime_ns == broken["mtime"]
    assert sorted(p.name for p in broken["stored"].parent.iterdir()) == [broken["stored"].name]


def test_writing_over_the_stored_return_is_refused(broken):
    with pytest.raises(issues_module.ThiduaError):
        write_feedback(broken["stored"], UNIT, "Đơn vị A02", broken["issues"], broken["stored"], "X", CREATED)
    assert hashlib.sha256(broken["stored"].read_bytes()).hexdigest() == broken["sha"]


def test_the_copy_is_still_the_same_return(campaign, broken):
    copy, stored = read_return(broken["out"]), read_return(broken["stored"])
    assert copy.meta == stored.meta and copy.meta["unit_code"] == UNIT
    again, _ = validate_return(campaign, copy)
    first, _ = validate_return(campaign, stored)
    assert {(i.code, i.sheet, i.cell) for i in again} == {(i.code, i.sheet, i.cell) for i in first}
    book = CalamineWorkbook.from_path(str(broken["out"]))
    assert book.sheet_names == openpyxl.load_workbook(broken["out"]).sheetnames


def test_the_fixed_copy_is_a_clean_return(campaign, broken, tmp_path):
    """What the unit does: type the fixes into the marked cells of the feedback file and send it back."""
    out, stored = broken["out"], broken["stored"]
    wb = openpyxl.load_workbook(out)
    ws = wb[SCORES]
    ws[f.cell_of(stored, SCORES, "I.2", R.SELF)] = 18
    ws[f.cell_of(stored, SCORES, "II.2", R.SELF)] = 17.5
    ws[f.cell_of(stored, SCORES, "III.1", R.SELF)] = 6
    ws[f.cell_of(stored, SCORES, "I.3", R.EXPLAIN)] = "Báo cáo số 12/BC"
    wb[ITEMS][f.cell_of(stored, ITEMS, "T2", R.ITEM_CLAIM)] = None
    wb[ITEMS][f.cell_of(stored, ITEMS, "T2", R.EXPLAIN)] = None  # the claim withdrawn, its explanation too
    wb.save(tmp_path / "fixed.xlsx")
    issues, values = validate_return(campaign, read_return(tmp_path / "fixed.xlsx"))
    assert issues == []
    assert {v.code: v.score for v in values}["I.2"] == 18


def test_a_feedback_file_sent_back_is_marked_afresh(campaign, broken, tmp_path):
    """The unit fixes only some cells of its feedback file and sends it back: the old marks go."""
    out, stored = broken["out"], broken["stored"]
    wb = openpyxl.load_workbook(out)
    wb[SCORES][f.cell_of(stored, SCORES, "I.2", R.SELF)] = 18
    wb[SCORES][f.cell_of(stored, SCORES, "I.3", R.EXPLAIN)] = "Báo cáo số 12/BC"
    wb.save(tmp_path / "sent back.xlsx")
    issues, _ = validate_return(campaign, read_return(tmp_path / "sent back.xlsx"))
    assert {i.code for i in issues} == {"not_a_number", "decimal_comma", "bonus_over_cap"}
    again = write_feedback(tmp_path / "again.xlsx", UNIT, "Đơn vị A02", issues, tmp_path / "sent back.xlsx",
                           "X", CREATED)
    assert openpyxl.load_workbook(again).sheetnames.count(SHEET) == 1
    assert set(marked(again)) == cells_of(issues)
    assert set(comments(again)) == cells_of(issues)
    assert len(listed(again)) == len(issues)
    fixed = openpyxl.load_workbook(again)[SCORES][f.cell_of(stored, SCORES, "I.2", R.SELF)]
    assert fixed.fill.fgColor.rgb == fb.INPUT_FILL  # back to the template's input colour


def test_an_issue_on_a_merged_or_absent_cell(broken, tmp_path):
    extra = [Issue("header_missing", ERROR, UNIT, "x.xlsx", SCORES, "B1", params={"headers": "Mã"}),
             Issue("sheet_missing", ERROR, UNIT, "x.xlsx", "Không có trang này", "A1", params={"sheet": "?"}),
             Issue("criterion_unknown", ERROR, UNIT, "x.xlsx", SCORES, "not a cell", params={"code": "Z"})]
    out = write_feedback(tmp_path / "merged.xlsx", UNIT, "Đơn vị A02", extra, broken["stored"], "X", CREATED)
    assert set(marked(out)) == {(SCORES, "A1")}  # B1 lies in the merged title A1:H1
    assert len(listed(out)) == 3


# --- the list ----------------------------------------------------------------------------------------------

def test_the_list_sheet_comes_first_and_names_every_issue(broken):
    wb = openpyxl.load_workbook(broken["out"])
    assert wb.sheetnames[0] == SHEET and wb.active.title == SHEET
    assert [ws.title for ws in wb.worksheets if ws.sheet_view.tabSelected] == [SHEET]
    rows = listed(broken["out"])
    issues = broken["issues"]
    assert len(rows) == len(issues)
    assert [r["STT"] for r in rows] == list(range(1, len(issues) + 1))
    assert sorted((r["Trang tính"] or "", r["Ô"] or "", r["Nội dung"]) for r in rows) == \
        sorted((i.sheet, i.cell, i.message("vi")) for i in issues)
    assert all(r["Cách sửa"] and r["Cách sửa"].strip() for r in rows)
    assert {r["Mức độ"] for r in rows} == {SEVERITY_VI[ERROR], SEVERITY_VI[WARNING]}
    # errors first: they are what stops the return counting
    severities = [r["Mức độ"] for r in rows]
    assert severities == sorted(severities, key=lambda s: s != SEVERITY_VI[ERROR])
    title = " ".join(str(c.value) for row in wb[SHEET].iter_rows(max_row=8) for c in row if c.value)
    assert "Đơn vị A02" in title and "KTD-TEST-2026" in title


def test_the_list_is_readable_and_printable(broken):
    ws = openpyxl.load_workbook(broken["out"])[SHEET]
    cells = [c for row in ws.iter_rows() for c in row if c.value not in (None, "")]
    assert {c.font.name for c in cells} == {"Times New Roman"}
    assert all(c.alignment.wrap_text for c in cells)
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
    head = next(c.row for c in cells if c.value == "STT")
    assert ws.print_title_rows == f"${head}:${head}"
    for r in range(head + 1, ws.max_row + 1):
        longest = max(len(str(ws.cell(r, c).value or "")) for c in (5, 6))
        assert ws.row_dimensions[r].height >= 15 * (longest // 70 + 1), r


def test_how_to_fix_covers_every_return_code():
    for code in RETURN_CODES:
        assert code in MESSAGES, code
        assert HOW_TO_FIX.get(code, "").strip(), code
    assert all(unicodedata.is_normalized("NFC", v) for v in HOW_TO_FIX.values())
    assert fb.how_to_fix("a_code_nobody_wrote") == fb.FALLBACK != ""


def test_an_unknown_code_is_still_listed(broken, tmp_path):
    issue = Issue("a_code_nobody_wrote", ERROR, UNIT, "x.xlsx", SCORES, "F7", params={"value": "?"})
    rows = listed(write_feedback(tmp_path / "unknown.xlsx", UNIT, "Đơn vị A02", [issue], broken["stored"],
                                 "X", CREATED))
    assert len(rows) == 1 and rows[0]["Cách sửa"] == fb.FALLBACK and "a_code_nobody_wrote" in rows[0]["Nội dung"]


# --- bytes and text ----------------------------------------------------------------------------------------

def test_same_inputs_give_the_same_bytes(campaign, broken, tmp_path):
    again = write_feedback(tmp_path / "again.xlsx", UNIT, "Đơn vị A02", broken["issues"], broken["stored"],
                           campaign.settings.campaign_id, CREATED)
    assert again.read_bytes() == broken["out"].read_bytes()
    props = openpyxl.load_workbook(again).properties
    assert props.created == props.modified == CREATED  # not the stored file's times, not now


def test_same_bytes_in_another_process_later(broken, tmp_path):
    """Another interpreter (another hash seed), at least one zip time-step later: nothing may carry 'now'."""
    (tmp_path / "issues.pkl").write_bytes(pickle.dumps(broken["issues"]))
    script = ("import pickle, sys, datetime as dt; from pathlib import Path; "
              "from pipeline.mail.feedback import write_feedback; "
              "write_feedback(Path(sys.argv[1]), 'A02', 'Đơn vị A02', pickle.loads(Path(sys.argv[2]).read_bytes()), "
              "Path(sys.argv[3]), 'KTD-TEST-2026', dt.datetime(2026, 12, 12, 9, 0, 0))")
    wait = 2.1 - (time.time() - broken["out"].stat().st_mtime)
    if wait > 0:
        time.sleep(wait)
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "other.xlsx"), str(tmp_path / "issues.pkl"),
                           str(broken["stored"])], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "other.xlsx").read_bytes() == broken["out"].read_bytes()


def test_text_is_never_written_as_a_formula(broken, tmp_path, monkeypatch):
    monkeypatch.setitem(MESSAGES, "formula_like", ("=1+1 {value}", "=1+1 {value}"))
    cell = f.cell_of(broken["stored"], SCORES, "I.2", R.SELF)
    issue = Issue("formula_like", ERROR, UNIT, "=HYPERLINK(\"x\").xlsx", SCORES, cell, params={"value": "\x07=A1"})
    out = write_feedback(tmp_path / "formula.xlsx", UNIT, '=HYPERLINK("http://x","y")', [issue], broken["stored"],
                         "=SUM(1)", CREATED)
    ws = openpyxl.load_workbook(out)[SHEET]
    texts = [c for row in ws.iter_rows() for c in row if isinstance(c.value, str) and "=" in c.value]
    assert any(c.value == "=1+1 =A1" for c in texts)  # the control character is dropped, the text kept
    assert any(c.value == "=SUM(1)" for c in texts)
    assert all(c.data_type == "s" for c in texts)
    grid = CalamineWorkbook.from_path(str(out)).get_sheet_by_name(SHEET).to_python()
    assert "=1+1 =A1" in {v for row in grid for v in row}  # a formula would read back as its (empty) value
    assert comments(out)[(SCORES, cell)].startswith("Lỗi: =1+1 =A1")


def test_a_units_text_starting_with_equals_stays_text_in_the_copy(campaign, tmp_path):
    fill = f.RETURNS["A01"].fill()  # its I.3 explanation is '=HYPERLINK("x")'
    stored = f.write_return(tmp_path / "A01.xlsx", campaign, "A01", fill)
    issue = Issue("score_range", ERROR, "A01", "A01.xlsx", SCORES, f.cell_of(stored, SCORES, "I.2", R.SELF),
                  params={"value": "25", "max": "20"})
    out = write_feedback(tmp_path / "fb.xlsx", "A01", "Đơn vị A01", [issue], stored, "X", CREATED)
    got = openpyxl.load_workbook(out)[SCORES][f.cell_of(stored, SCORES, "I.3", R.EXPLAIN)]
    assert (got.value, got.data_type) == ('=HYPERLINK("x")', "s")
    assert {r.code: r.explanation for r in read_return(out).rows}["I.3"] == '=HYPERLINK("x")'


def test_all_text_is_nfc(broken, tmp_path):
    name = unicodedata.normalize("NFD", "Sở Nội vụ")
    out = write_feedback(tmp_path / "nfc.xlsx", UNIT, name, broken["issues"], broken["stored"],
                         unicodedata.normalize("NFD", "Đợt thi đua năm 2026"), CREATED)
    wb = openpyxl.load_workbook(out)
    texts = [c.value for row in wb[SHEET].iter_rows() for c in row if isinstance(c.value, str)]
    assert any("Sở Nội vụ" in t for t in texts) and any("Đợt thi đua năm 2026" in t for t in texts)
    assert all(unicodedata.is_normalized("NFC", t) for t in texts + list(comments(out).values()))


# --- files that cannot be copied -----------------------------------------------------------------------

@pytest.mark.parametrize("name, data", [
    ("A02.ods", b"PK\x03\x04 not really an OpenDocument spreadsheet"),
    ("A02.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504),
    ("A02.xlsx", "đây không phải là bảng tính".encode()),
    (None, None),
])
def test_a_file_that_cannot_be_copied_gives_only_the_list(broken, tmp_path, name, data):
    stored = None
    if name:
        stored = tmp_path / name
        stored.write_bytes(data)
    issues = [Issue("unreadable", ERROR, UNIT, name or "", params={"reason": "hỏng"}),
              Issue("score_range", ERROR, UNIT, name or "", SCORES, "F7", params={"value": "25", "max": "20"})]
    out = write_feedback(tmp_path / "out" / "A02.xlsx", UNIT, "Đơn vị A02", issues, stored, "X", CREATED)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == [SHEET] and wb.active.title == SHEET
    assert len(listed(out)) == 2 and comments(out) == {}
    assert CalamineWorkbook.from_path(str(out)).sheet_names == [SHEET]
    if stored is not None:
        assert stored.read_bytes() == data
