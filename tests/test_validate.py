"""Validation of returns: bad returns are built from a generated template (fill, then break one thing), each
named after its defect; every test asserts the issue's code, sheet and cell, never its wording."""
from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.issues import ERROR, WARNING
from pipeline.read import read_return
from pipeline.templates import Fill
from pipeline.validate import validate_return
from schemas import returns as R

import factories as f

SCORES, ITEMS, META = R.SCORE_SHEET, R.ITEMS_SHEET, R.META_SHEET
UNIT = "A02"


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    return f.make_campaign(tmp_path_factory.mktemp("validate") / "CAMPAIGN")


def good_fill() -> Fill:
    return f.RETURNS[UNIT].fill()


def write(tmp_path: Path, campaign, name: str, fill: Fill | None = None, unit: str = UNIT) -> Path:
    return f.write_return(tmp_path / f"{name}.xlsx", campaign, unit, fill or good_fill())


def check(campaign, path: Path):
    ret = read_return(path)
    return validate_return(campaign, ret)


def found(issues) -> set[tuple[str, str, str, str]]:
    return {(i.code, i.severity, i.sheet, i.cell) for i in issues}


def values_by_code(values) -> dict[str, tuple]:
    return {v.code: (v.section, v.score, v.actual, v.explanation) for v in values}


def edit(path: Path, name: str, change) -> Path:
    """Open a return with openpyxl, let `change` break it, save it under a new name."""
    wb = openpyxl.load_workbook(path)
    change(wb)
    out = path.with_name(f"{name}.xlsx")
    wb.save(out)
    return out


def header_row(ws, header: str = "Mã") -> int:
    return next(c.row for row in ws.iter_rows() for c in row if c.value == header)


def row_of(ws, code: str) -> int:
    return next(c.row for row in ws.iter_rows() for c in row if c.value == code)


# --- a good return ---------------------------------------------------------------------------

def test_a_good_return_has_no_issues(campaign, tmp_path):
    issues, values = check(campaign, write(tmp_path, campaign, "good"))
    assert issues == []
    got = values_by_code(values)
    assert got["I.1"] == ("criteria", None, 110, "")
    assert got["I.2"][1] == 18 and got["T1"] == ("items", 1, None, "Căn cứ T1")


# --- numbers as typed ------------------------------------------------------------------------

def test_decimal_comma(campaign, tmp_path):
    fill = good_fill()
    fill.scores["I.2"] = "9,5"
    path = write(tmp_path, campaign, "decimal_comma", fill)
    issues, values = check(campaign, path)
    assert found(issues) == {("decimal_comma", WARNING, SCORES, f.cell_of(path, SCORES, "I.2", R.SELF))}
    assert values_by_code(values)["I.2"][1] == 9.5


def test_number_typed_as_text(campaign, tmp_path):
    fill = good_fill()
    fill.scores["II.2"] = "17.5"
    path = write(tmp_path, campaign, "number_as_text", fill)
    issues, values = check(campaign, path)
    assert found(issues) == {("number_as_text", WARNING, SCORES, f.cell_of(path, SCORES, "II.2", R.SELF))}
    assert values_by_code(values)["II.2"][1] == 17.5


def test_words_instead_of_a_number(campaign, tmp_path):
    fill = good_fill()
    fill.scores["I.2"] = "mười"
    path = write(tmp_path, campaign, "not_a_number", fill)
    issues, _ = check(campaign, path)
    assert found(issues) == {("not_a_number", ERROR, SCORES, f.cell_of(path, SCORES, "I.2", R.SELF))}


def test_words_instead_of_an_actual(campaign, tmp_path):
    fill = good_fill()
    fill.actuals["I.1"] = "một trăm"
    path = write(tmp_path, campaign, "actual_not_a_number", fill)
    issues, _ = check(campaign, path)
    assert found(issues) == {("not_a_number", ERROR, SCORES, f.cell_of(path, SCORES, "I.1", R.ACTUAL))}


# --- scores against the covenant -------------------------------------------------------------

@pytest.mark.parametrize("name, code, value, issue", [
    ("score_above_max", "I.2", 25, "score_range"),
    ("score_negative", "III.1", -1, "score_range"),
    ("score_off_step", "I.2", 9.3, "score_step"),
    ("score_off_quarter_step", "II.2", 17.1, "score_step"),
    ("score_not_whole", "III.1", 6.5, "score_step"),
    ("pass_fail_half", "II.1", 5, "pass_fail"),
])
def test_score_against_the_covenant(campaign, tmp_path, name, code, value, issue):
    fill = good_fill()
    fill.scores[code] = value
    fill.explanations[code] = "Có minh chứng"
    path = write(tmp_path, campaign, name, fill)
    issues, _ = check(campaign, path)
    assert found(issues) == {(issue, ERROR, SCORES, f.cell_of(path, SCORES, code, R.SELF))}


def test_pass_fail_takes_zero_or_max(campaign, tmp_path):
    fill = good_fill()
    fill.scores["II.1"] = 0
    issues, values = check(campaign, write(tmp_path, campaign, "pass_fail_zero", fill))
    assert issues == [] and values_by_code(values)["II.1"][1] == 0


def test_explanation_missing_where_always_required(campaign, tmp_path):
    fill = good_fill()
    fill.explanations["I.3"] = None  # I.3: explanation "luôn"
    path = write(tmp_path, campaign, "explanation_missing", fill)
    issues, _ = check(campaign, path)
    assert found(issues) == {("explanation_missing", ERROR, SCORES, f.cell_of(path, SCORES, "I.3", R.EXPLAIN))}


def test_explanation_missing_below_the_maximum(campaign, tmp_path):
    fill = good_fill()
    fill.explanations["I.2"] = ""  # I.2: explanation "khi chưa tối đa", scored 18 of 20
    path = write(tmp_path, campaign, "explanation_missing_below_max", fill)
    issues, _ = check(campaign, path)
    assert found(issues) == {("explanation_missing", ERROR, SCORES, f.cell_of(path, SCORES, "I.2", R.EXPLAIN))}


def test_no_explanation_needed_at_the_maximum(campaign, tmp_path):
    fill = good_fill()
    fill.scores["I.2"], fill.explanations["I.2"] = 20, None
    issues, _ = check(campaign, write(tmp_path, campaign, "full_marks_no_explanation", fill))
    assert issues == []


def test_score_missing(campaign, tmp_path):
    fill = good_fill()
    del fill.scores["II.2"]
    path = write(tmp_path, campaign, "score_missing", fill)
    issues, _ = check(campaign, path)
    assert found(issues) == {("score_missing", ERROR, SCORES, f.cell_of(path, SCORES, "II.2", R.SELF))}


# --- _meta -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name, meta, issue", [
    ("wrong_campaign", {"campaign_id": "X"}, "wrong_campaign"),
    ("outdated_template", {"template_version": "2024.1"}, "outdated_template"),
    ("criteria_changed", {"criteria_digest": "0123456789abcdef"}, "criteria_changed"),
    ("bloc_mismatch", {"bloc_code": "K2"}, "bloc_mismatch"),
    ("unknown_unit", {"unit_code": "ZZ9"}, "unknown_unit"),
])
def test_meta_defects(campaign, tmp_path, name, meta, issue):
    fill = good_fill()
    fill.meta = meta
    issues, values = check(campaign, write(tmp_path, campaign, name, fill))
    # _meta is hidden and locked: the issue points at the sheet, not at a cell the unit could edit.
    assert found(issues) == {(issue, ERROR, META, "")}
    if issue in ("wrong_campaign", "unknown_unit"):
        assert values == []  # nothing of another campaign's or an unknown unit's file is used


# --- bonus and deductions --------------------------------------------------------------------

def with_policy(campaign, policy: str):
    return dataclasses.replace(campaign, settings=dataclasses.replace(campaign.settings, claim_policy=policy))


# claim_policy: cat (the default) counts the cap with a warning, bo drops the claim with a warning, loi is an
# error; never the whole return dropped for one claim unless the officer chose `loi`.
@pytest.mark.parametrize("policy, severity, counted", [("cat", WARNING, 3), ("bo", WARNING, None),
                                                       ("loi", ERROR, None)])
def test_item_over_its_cap(campaign, tmp_path, policy, severity, counted):
    fill = good_fill()
    fill.items["T1"] = (4, "Ba lần")  # T1: cap 3
    path = write(tmp_path, campaign, "item_over_cap", fill)
    issues, values = check(with_policy(campaign, policy), path)
    assert found(issues) == {("item_over_cap", severity, ITEMS, f.cell_of(path, ITEMS, "T1", R.ITEM_CLAIM))}
    assert values_by_code(values).get("T1", (None, None))[1] == counted


@pytest.mark.parametrize("code, claim, policy, severity, counted", [
    ("T2", 0.7, "cat", WARNING, 0.5),   # bonus step 0.5: down to the step
    ("D1", 1.5, "cat", WARNING, 2),     # deduction step 1: up, never in the unit's favour
    ("T2", 0.7, "bo", WARNING, None),
    ("T2", 0.7, "loi", ERROR, None),
])
def test_claim_off_its_items_step(campaign, tmp_path, code, claim, policy, severity, counted):
    fill = good_fill()
    fill.items[code] = (claim, "Lệch bước")
    path = write(tmp_path, campaign, f"claim_step_{code}_{policy}", fill)
    issues, values = check(with_policy(campaign, policy), path)
    assert found(issues) == {("claim_step", severity, ITEMS, f.cell_of(path, ITEMS, code, R.ITEM_CLAIM))}
    assert values_by_code(values).get(code, (None, None))[1] == counted


def test_negative_claim_is_not_counted(campaign, tmp_path):
    fill = good_fill()
    fill.items["T1"] = (-1, "Âm")
    path = write(tmp_path, campaign, "claim_negative", fill)
    issues, values = check(campaign, path)
    assert found(issues) == {("claim_negative", WARNING, ITEMS, f.cell_of(path, ITEMS, "T1", R.ITEM_CLAIM))}
    assert "T1" not in values_by_code(values)


def test_claim_with_explanation_and_blank_points(campaign, tmp_path):
    fill = good_fill()
    fill.items["T2"] = (None, "Có sáng kiến nhưng quên ghi điểm")
    path = write(tmp_path, campaign, "claim_blank", fill)
    issues, values = check(campaign, path)
    assert found(issues) == {("claim_blank", WARNING, ITEMS, f.cell_of(path, ITEMS, "T2", R.ITEM_CLAIM))}


def test_bonus_over_the_campaign_cap(campaign, tmp_path):
    fill = good_fill()
    fill.items["T1"], fill.items["T2"] = (3, "Ba lần"), (1.5, "Ba sáng kiến")  # 4.5 > bonus_cap 3
    path = write(tmp_path, campaign, "bonus_over_cap", fill)
    issues, values = check(campaign, path)
    # A warning about the sheet's total, not one cell: the claims stand, the total is capped when scoring.
    assert found(issues) == {("bonus_over_cap", WARNING, ITEMS, "")}
    got = values_by_code(values)
    assert (got["T1"][1], got["T2"][1]) == (3, 1.5)


def test_item_codes_like_4_10_stay_text(campaign, tmp_path):
    fill = good_fill()
    fill.items["4.10"] = (0.5, "Sáng kiến")
    path = write(tmp_path, campaign, "code_4_10", fill)
    rows = read_return(path).rows
    codes = [r.code for r in rows]
    assert "4.10" in codes and "4.1" not in codes
    assert all(isinstance(c, str) for c in codes)
    issues, values = check(campaign, path)
    assert issues == [] and values_by_code(values)["4.10"][1] == 0.5


# --- the shape of the workbook ---------------------------------------------------------------

def test_deleted_criterion_row(campaign, tmp_path):
    def delete(wb):
        ws = wb[SCORES]
        ws.delete_rows(row_of(ws, "II.1"))

    path = edit(write(tmp_path, campaign, "good"), "criterion_row_deleted", delete)
    issues, values = check(campaign, path)
    assert found(issues) == {("criterion_missing", ERROR, SCORES, "")}
    assert [i.params["code"] for i in issues] == ["II.1"]
    assert "II.1" not in values_by_code(values)


def test_inserted_row_and_moved_column_read_the_same(campaign, tmp_path):
    original = write(tmp_path, campaign, "good")

    def reshape(wb):
        ws = wb[SCORES]
        head = header_row(ws)
        ws.insert_rows(row_of(ws, "I.3"))  # a blank row inside the table
        self_col = next(c.column for c in ws[head] if c.value == R.SELF)
        last = ws.max_column
        # `Điểm tự chấm` moves past the last column; its old column is left empty.
        ws.move_range(f"{ws.cell(head, self_col).column_letter}{head}:"
                      f"{ws.cell(ws.max_row, self_col).column_letter}{ws.max_row}", cols=last - self_col + 1)
        items = wb[ITEMS]
        items.insert_rows(header_row(items) + 1)

    path = edit(original, "row_inserted_column_moved", reshape)
    wb = openpyxl.load_workbook(path)
    assert f.cell_of(path, SCORES, "I.2", R.SELF) != f.cell_of(original, SCORES, "I.2", R.SELF)
    assert wb[SCORES][f.cell_of(path, SCORES, "I.2", R.SELF)].value == 18
    before, after = check(campaign, original), check(campaign, path)
    assert after[0] == [] and before[0] == []
    assert values_by_code(after[1]) == values_by_code(before[1])
    moved = {v.code: v.cell for v in after[1]}
    assert moved["I.2"] == f.cell_of(path, SCORES, "I.2", R.SELF)  # provenance follows the move


def test_renamed_sheet(campaign, tmp_path):
    def rename(wb):
        wb[SCORES].title = "Tu cham"

    path = edit(write(tmp_path, campaign, "good"), "sheet_renamed", rename)
    issues, values = check(campaign, path)
    assert ("sheet_missing", ERROR, SCORES, "") in found(issues)
    assert {i.code for i in issues} <= {"sheet_missing", "criterion_missing"}
    assert not any(v.section == "criteria" for v in values)


# --- files that are not returns, through collect and the CLI ---------------------------------

@pytest.fixture(scope="module")
def junk(tmp_path_factory):
    """An inbox with a text file named .xlsx, a workbook without _meta and one good return."""
    root = tmp_path_factory.mktemp("junk") / "CAMPAIGN"
    c = f.make_campaign(root)
    (root / "inbox" / "rác.xlsx").write_text("đây không phải là bảng tính", encoding="utf-8")
    wb = openpyxl.Workbook()
    wb.active["A1"] = "Bảng tự chấm tự làm"
    wb.save(root / "inbox" / "không có meta.xlsx")
    f.write_return(root / "inbox" / "A01.xlsx", c, "A01", f.RETURNS["A01"].fill())
    runner = CliRunner()
    collected = runner.invoke(main, ["collect", str(root)])
    validated = runner.invoke(main, ["validate", str(root)])
    with open(root / "out" / "submissions" / "receipts.csv", newline="", encoding="utf-8") as fh:
        receipts = {r["original"]: r for r in csv.DictReader(fh)}
    issues = f.table(root / "out" / "validation.xlsx", "Lỗi", ["Mã đơn vị", "Tệp", "Trang tính", "Ô", "Mã lỗi", "Mức độ"])
    return {"collected": collected, "validated": validated, "receipts": receipts, "issues": issues}


@pytest.mark.parametrize("name, status", [("rác.xlsx", "not_a_workbook"), ("không có meta.xlsx", "not_a_return")])
def test_files_that_are_not_returns(junk, name, status):
    assert junk["collected"].exit_code == 0, junk["collected"].output
    assert junk["receipts"][name]["status"] == status
    assert junk["receipts"]["A01.xlsx"]["status"] == "ok"
    assert junk["validated"].exit_code == 1, junk["validated"].output
    assert junk["validated"].exception is None or isinstance(junk["validated"].exception, SystemExit)
    rows = [(r["Mã lỗi"], r["Mức độ"]) for r in junk["issues"] if r["Tệp"] == name]
    assert rows == [(status, "Lỗi")]


def test_the_cli_validate_exits_zero_on_warnings_only(tmp_path):
    root = tmp_path / "CAMPAIGN"
    c = f.make_campaign(root)
    for unit in f.BLOCS["K1"] + f.BLOCS["K2"]:
        fill = f.RETURNS.get(unit, f.RETURNS["A02"]).fill()
        fill.scores["I.2"] = "18"  # number typed as text: a warning
        fill.scores["I.3"] = 17
        f.write_return(root / "inbox" / f"{unit}.xlsx", c, unit, fill)
    runner = CliRunner()
    assert runner.invoke(main, ["collect", str(root)]).exit_code == 0
    result = runner.invoke(main, ["validate", str(root)])
    assert result.exit_code == 0, result.output
    codes = {r["Mã lỗi"] for r in f.table(root / "out" / "validation.xlsx", "Lỗi", ["Mã lỗi", "Mức độ"])}
    assert codes == {"number_as_text", "bonus_over_cap"}
