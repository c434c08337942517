"""The start-of-year registration form (đăng ký thi đua): written, filled, collected, read back and checked."""
from __future__ import annotations

import csv
import datetime as dt
import os

import openpyxl
import pytest
from click.testing import CliRunner

from pipeline.check import load_checked
from pipeline.cli import main
from pipeline.collect import collect, latest, load_receipts
from pipeline.issues import ERROR, WARNING
from pipeline.registration import check_registration, read_registration, registrations, write_registration
from pipeline.templates import write_template
from schemas import returns as R

from conftest import make_campaign

GENERATED_AT = dt.datetime(2026, 1, 5, 8, 0, 0)
JAN = dt.datetime(2026, 1, 20, 9, 0, 0).timestamp()
DAY = 86400
EPOCH = 1767600000  # 2026-01-05 08:00:00 UTC
# The small campaign's rules, in priority order: CO_TINH on row 5, BK_TINH on row 6; `Đăng ký` is column C.
MARK_CELL = {"CO_TINH": "C5", "BK_TINH": "C6"}


def form(path, campaign, unit="DV02", mtime=None, **fill):
    """Write a unit's form as it would come back; `mtime` is when it 'arrived'."""
    path = write_registration(path, campaign, campaign.unit(unit) or campaign.units[0], GENERATED_AT, fill)
    if mtime:
        os.utime(path, (mtime, mtime))
    return path


def read_back(path, campaign):
    return check_registration(campaign, read_registration(path))


# --- the workbook ----------------------------------------------------------------------------

def test_the_form_lists_each_award_once_in_priority_order_with_x_inputs(tmp_path, campaign):
    path = form(tmp_path / "DV02.xlsx", campaign)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [R.COVER_SHEET, R.REGISTRATION_SHEET, R.TASKS_SHEET, R.META_SHEET]
    ws = wb[R.REGISTRATION_SHEET]
    assert [c.value for c in ws[4]] == list(R.REGISTRATION_HEADERS)
    assert [(ws[f"A{r}"].value, ws[f"B{r}"].value) for r in (5, 6)] == [
        ("CO_TINH", "Cờ thi đua của UBND tỉnh (cấp khen: Chủ tịch UBND tỉnh)"),  # the name, with its issuer
        ("BK_TINH", "Bằng khen của Chủ tịch UBND tỉnh")]  # whose name already says it
    assert ws.column_dimensions["A"].hidden  # the codes are read back, not shown
    assert ws["A7"].value is None
    assert ws.protection.sheet and not ws["C5"].protection.locked and ws["A5"].protection.locked
    lists = [(str(v.sqref), v.formula1) for v in ws.data_validations.dataValidation if v.type == "list"]
    assert lists == [("C5", '"x"'), ("C6", '"x"')]
    tasks = wb[R.TASKS_SHEET]
    assert [c.value for c in tasks[4]] == list(R.TASK_HEADERS)
    assert [tasks[f"A{r}"].value for r in range(5, 15)] == list(range(1, 11))
    assert not tasks["B5"].protection.locked and not tasks["C14"].protection.locked
    meta = {r[0]: r[1] for r in wb[R.META_SHEET].iter_rows(values_only=True)}
    assert wb[R.META_SHEET].sheet_state == "hidden"
    assert set(R.META_KEYS) <= set(meta)
    assert (meta["form"], meta["unit_code"], meta["bloc_code"]) == ("registration", "DV02", "K1")
    assert meta["year"] == str(campaign.settings.year)
    assert wb[R.COVER_SHEET]["B5"].value.startswith("Sở Tài chính")


def test_an_award_with_two_rules_is_listed_once(tmp_path, content):
    rules = content["Khen thưởng"]
    rules.insert(0, {**rules[1], "priority": 3, "rank_from": 1, "rank_to": 5, "conditions": ""})  # a second route
    rules.append({"code": "GIAY_KHEN", "award": "Giấy khen", "issuer": "Giám đốc Sở", "priority": 4, "rank_from": 4,
                  "rank_to": 5})
    campaign = load_checked(make_campaign(tmp_path, content) / "campaign.xlsx")
    ws = openpyxl.load_workbook(form(tmp_path / "DV02.xlsx", campaign))[R.REGISTRATION_SHEET]
    assert [ws[f"A{r}"].value for r in range(5, 9)] == ["CO_TINH", "BK_TINH", "GIAY_KHEN", None]


def test_the_same_campaign_gives_byte_identical_forms(tmp_path, campaign):
    fill = {"awards": {"CO_TINH": "x"}, "tasks": [("Giải ngân vốn đầu tư công", "100%")]}
    assert form(tmp_path / "a.xlsx", campaign, **fill).read_bytes() == form(tmp_path / "b.xlsx", campaign, **fill).read_bytes()


# --- reading and checking one form -----------------------------------------------------------

def test_a_filled_form_reads_back_to_its_registrations_and_tasks(tmp_path, campaign):
    tasks = [("Giải ngân 100% vốn đầu tư công", "100%"), ("Chuyển đổi số", "")]
    path = form(tmp_path / "DV02.xlsx", campaign, awards={"CO_TINH": "x", "BK_TINH": "X"}, tasks=tasks)
    reg = read_registration(path)
    assert reg.tasks == tasks
    assert read_back(path, campaign) == ([], {"CO_TINH", "BK_TINH"})


def test_a_blank_form_registers_nothing(tmp_path, campaign):
    assert read_back(form(tmp_path / "DV02.xlsx", campaign), campaign) == ([], set())


@pytest.mark.parametrize("mark, code, registers", [("có", "registration_mark", True), (1, "registration_mark", True),
                                                   ("không", "registration_mark_no", False)])
def test_a_mark_other_than_x_is_a_warning_at_its_cell(tmp_path, campaign, mark, code, registers):
    path = form(tmp_path / "DV02.xlsx", campaign, awards={"CO_TINH": "x", "BK_TINH": mark})
    issues, awards = read_back(path, campaign)
    assert [(i.code, i.severity, i.unit, i.sheet, i.cell) for i in issues] == [
        (code, WARNING, "DV02", R.REGISTRATION_SHEET, MARK_CELL["BK_TINH"])]
    assert issues[0].params["value"] == str(mark) and "BK_TINH" in issues[0].message()
    assert awards == ({"CO_TINH", "BK_TINH"} if registers else {"CO_TINH"})


@pytest.mark.parametrize("meta, code", [({"campaign_id": "KTD-KHAC-2026"}, "wrong_campaign"),
                                        ({"unit_code": "ZZ99"}, "unknown_unit")])
def test_a_form_of_another_campaign_or_an_unknown_unit_is_an_error(tmp_path, campaign, meta, code):
    path = form(tmp_path / "x.xlsx", campaign, awards={"CO_TINH": "x"}, meta=meta)
    issues, awards = read_back(path, campaign)
    assert [(i.code, i.severity, i.sheet) for i in issues] == [(code, ERROR, R.META_SHEET)]
    assert awards == set()


def test_a_damaged_file_is_an_unreadable_issue_never_an_exception(tmp_path, campaign):
    path = tmp_path / "hỏng.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a workbook")
    issues, awards = read_back(path, campaign)
    assert [i.code for i in issues] == ["unreadable"] and awards == set()


def test_text_that_looks_like_a_formula_stays_text(tmp_path, campaign):
    path = form(tmp_path / "DV02.xlsx", campaign, tasks=[("=1+1", "=SUM(A1:A2)")])
    cell = openpyxl.load_workbook(path)[R.TASKS_SHEET]["B5"]
    assert (cell.value, cell.data_type) == ("=1+1", "s")
    assert read_registration(path).tasks == [("=1+1", "=SUM(A1:A2)")]


# --- collected with the score returns --------------------------------------------------------

def test_a_registration_form_is_collected_but_never_taken_as_a_score_return(tmp_path, campaign):
    inbox, store = tmp_path / "inbox", tmp_path / "store"
    score = write_template(inbox / "DV02 tự chấm.xlsx", campaign, campaign.unit("DV02"), GENERATED_AT)
    os.utime(score, (JAN, JAN))
    form(inbox / "DV02 đăng ký.xlsx", campaign, mtime=JAN + DAY, awards={"CO_TINH": "x"})
    receipts = collect(campaign, [inbox], store)
    assert {(r.original, r.status, r.form) for r in receipts} == {
        ("DV02 tự chấm.xlsx", "ok", "score"), ("DV02 đăng ký.xlsx", "ok", "registration")}
    assert [r.original for r in latest(receipts)["DV02"]] == ["DV02 tự chấm.xlsx"]
    assert [r.original for r in latest(receipts, "registration")["DV02"]] == ["DV02 đăng ký.xlsx"]
    assert [r.form for r in load_receipts(store)] == [r.form for r in receipts]  # the form survives receipts.csv
    issues, registered, _ = registrations(campaign, receipts, store)
    assert issues == [] and ("DV02", "CO_TINH") in registered


def test_the_later_form_wins_and_the_campaign_sheet_is_added(tmp_path, campaign):
    inbox, store = tmp_path / "inbox", tmp_path / "store"
    # The later version's name sorts first: only the time it arrived can make it win.
    form(inbox / "DV02 b.xlsx", campaign, mtime=JAN, awards={"CO_TINH": "x"}, tasks=[("Cũ", "")])
    form(inbox / "DV02 a.xlsx", campaign, mtime=JAN + DAY, awards={"BK_TINH": "x"}, tasks=[("Mới", "95%")])
    issues, registered, tasks = registrations(campaign, collect(campaign, [inbox], store), store)
    assert registered == {("DV02", "BK_TINH"), ("DV01", "CO_TINH"), ("DV04", "BK_TINH")}  # + the `Đăng ký` sheet
    assert tasks == {"DV02": ["Mới (95%)"]}
    assert [(i.code, i.severity, i.unit, i.file) for i in issues] == [
        ("registration_superseded", WARNING, "DV02", "DV02 a.xlsx")]


def test_a_form_with_warnings_counts_and_one_of_another_campaign_does_not(tmp_path, campaign):
    inbox, store = tmp_path / "inbox", tmp_path / "store"
    form(inbox / "DV02.xlsx", campaign, mtime=JAN, awards={"CO_TINH": "có"})
    form(inbox / "DV03.xlsx", campaign, "DV03", mtime=JAN, awards={"CO_TINH": "x"}, meta={"campaign_id": "KTD-CU-2024"})
    form(inbox / "ZZ.xlsx", campaign, mtime=JAN, awards={"CO_TINH": "x"}, meta={"unit_code": "ZZ99"})
    receipts = collect(campaign, [inbox], store)
    assert {(r.original, r.status, r.form) for r in receipts} == {
        ("DV02.xlsx", "ok", "registration"), ("DV03.xlsx", "wrong_campaign", "registration"),
        ("ZZ.xlsx", "unknown_unit", "registration")}
    issues, registered, _ = registrations(campaign, receipts, store)
    assert sorted((i.code, i.severity, i.unit, i.file) for i in issues) == [
        ("registration_mark", WARNING, "DV02", "DV02.xlsx"), ("unknown_unit", ERROR, "", "ZZ.xlsx"),
        ("wrong_campaign", ERROR, "DV03", "DV03.xlsx")]
    assert registered == {("DV02", "CO_TINH"), ("DV01", "CO_TINH"), ("DV04", "BK_TINH")}
    assert all(i.message() and i.message("en") for i in issues)


def test_receipts_written_before_the_form_column_still_load_as_score_returns(tmp_path):
    old = ["received", "original", "sha256", "size", "stored", "status", "unit", "campaign_id", "note"]
    with open(tmp_path / "receipts.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(old)
        w.writerow(["2025-12-01T09:00:00", "DV01.xlsx", "ab" * 32, "1234", "ab.xlsx", "ok", "DV01", "KTD", ""])
    receipts = load_receipts(tmp_path)
    assert [(r.unit, r.size, r.form) for r in receipts] == [("DV01", 1234, "score")]
    assert list(latest(receipts)) == ["DV01"] and latest(receipts, "registration") == {}


# --- the command -----------------------------------------------------------------------------

def test_templates_registration_writes_one_form_per_unit(campaign_dir, campaign):
    env = {"SOURCE_DATE_EPOCH": str(EPOCH)}
    result = CliRunner().invoke(main, ["templates", "--registration", str(campaign_dir)], env=env)
    assert result.exit_code == 0, result.output
    out = campaign_dir / "out" / "registration"
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert written == sorted(f"{u.bloc}/{u.code}.xlsx" for u in campaign.units)
    assert not (campaign_dir / "out" / "templates").exists()
    for u in campaign.units:
        wb = openpyxl.load_workbook(out / u.bloc / f"{u.code}.xlsx", read_only=True)
        meta = {r[0]: r[1] for r in wb[R.META_SHEET].iter_rows(values_only=True)}
        wb.close()
        assert (meta["form"], meta["unit_code"], meta["generated_at"]) == ("registration", u.code, "2026-01-05T08:00:00")
    first = {p: p.read_bytes() for p in out.rglob("*.xlsx")}
    assert CliRunner().invoke(main, ["templates", "--registration", str(campaign_dir)], env=env).exit_code == 0
    assert {p: p.read_bytes() for p in out.rglob("*.xlsx")} == first


def test_the_form_ends_with_a_signature_that_is_never_read_as_a_task(tmp_path, campaign):
    path = form(tmp_path / "DV02.xlsx", campaign)
    wb = openpyxl.load_workbook(path)
    ws = wb[R.TASKS_SHEET]
    put = lambda ref, v: ws.__setitem__(ref, v)  # noqa: E731
    put("B5", "Nhiệm vụ một")
    put("B9", "Nhiệm vụ năm")  # rows left blank between tasks are not the end of the table
    wb.save(path)
    texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert "THỦ TRƯỞNG ĐƠN VỊ" in texts and "(Ký tên, đóng dấu)" in texts
    assert any(t.startswith(f"{campaign.settings.place}, ngày") for t in texts)
    assert read_registration(path).tasks == [("Nhiệm vụ một", ""), ("Nhiệm vụ năm", "")]
