"""Template stage: one self-scoring workbook per unit, read back through openpyxl by its stable names."""
from __future__ import annotations

import datetime as dt
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from pipeline.check import load_checked
from pipeline.templates import TEMPLATE_VERSION, Fill, template_path, write_all, write_template
from schemas import returns as R

from conftest import GENERATED_AT, ROOT, make_campaign, pdf_of

SHEETS = [R.COVER_SHEET, R.SCORE_SHEET, R.ITEMS_SHEET, R.META_SHEET]
SAMPLE_SCORE_HEADERS = ["Mã", "Nội dung tiêu chí", "Điểm tối đa", "Điểm tự chấm", "Giải trình", "Chỉ tiêu", "Kết quả thực hiện"]
ITEM_HEADERS = ["Mã", "Nội dung", "Điểm", "Giải trình"]
# Criterion I.3 of the sample applies to "KT, VX, NC01, NC07" only.
I3_UNITS = {"NC01", "NC07"} | {f"KT{n:02d}" for n in range(1, 11)} | {f"VX{n:02d}" for n in range(1, 11)}


# --- reading a template by its headers -----------------------------------------------------------

def find_header(ws, wanted) -> tuple[int, dict[str, int]]:
    """The 1-based row holding every wanted header text exactly, and each text's 1-based column."""
    for row in ws.iter_rows(min_row=1, max_row=30):
        found = {c.value: c.column for c in row if isinstance(c.value, str) and c.value in wanted}
        if len(found) == len(wanted):
            return row[0].row, found
    raise AssertionError(f"no header row with {wanted} on {ws.title}")


class Sheet:
    """A table on a template sheet: header columns, the data rows by code, and the totals after them."""

    def __init__(self, ws, wanted):
        self.ws = ws
        self.head, self.col = find_header(ws, wanted)
        self.rows: dict[str, int] = {}
        r = self.head + 1
        while ws.cell(r, self.col["Mã"]).value not in (None, ""):
            self.rows[str(ws.cell(r, self.col["Mã"]).value)] = r
            r += 1
        self.after = r  # first row after the data rows

    def at(self, code: str, header: str) -> str:
        return f"{get_column_letter(self.col[header])}{self.rows[code]}"


def load(path: Path):
    return openpyxl.load_workbook(path), openpyxl.load_workbook(path, data_only=True)


def meta(wb) -> dict[str, str]:
    return {r[0]: r[1] for r in wb[R.META_SHEET].iter_rows(values_only=True) if r[0] is not None}


def refs(formula: str) -> list[str]:
    return re.findall(r"\b([A-Z]{1,3}[0-9]+)\b", formula)


def validation_for(ws, coordinate: str):
    hits = [dv for dv in ws.data_validations.dataValidation if coordinate in dv.sqref]
    assert len(hits) == 1, f"{ws.title}!{coordinate} has {len(hits)} data validations"
    return hits[0]


# --- fixtures --------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def sample_templates(tmp_path_factory, sample_campaign) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("templates")
    paths = write_all(sample_campaign, out, GENERATED_AT)
    assert paths == [template_path(out, u) for u in sample_campaign.units]
    return {u.code: template_path(out, u) for u in sample_campaign.units}


@pytest.fixture(scope="session")
def sample_books(sample_templates) -> dict[str, tuple]:
    return {code: load(path) for code, path in sample_templates.items()}


def _sample_unit_codes() -> list[str]:
    spec = importlib.util.spec_from_file_location("sample_content", ROOT / "sample_data" / "content.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [u[0] for u in module.UNITS]


UNITS = _sample_unit_codes()


# --- structure -------------------------------------------------------------------------------

def test_one_template_per_unit_under_its_bloc(sample_templates, sample_campaign):
    for unit in sample_campaign.units:
        path = sample_templates[unit.code]
        assert path.parent.name == unit.bloc and path.name == f"{unit.code}.xlsx" and path.stat().st_size > 0


@pytest.mark.parametrize("unit", UNITS)
def test_sheets_and_hidden_meta(sample_books, unit):
    wb, _ = sample_books[unit]
    assert wb.sheetnames == SHEETS
    assert {ws.title: ws.sheet_state for ws in wb} == {
        R.COVER_SHEET: "visible", R.SCORE_SHEET: "visible", R.ITEMS_SHEET: "visible", R.META_SHEET: "hidden"}


@pytest.mark.parametrize("unit", UNITS)
def test_header_texts(sample_books, unit):
    wb, _ = sample_books[unit]
    head, col = find_header(wb[R.SCORE_SHEET], SAMPLE_SCORE_HEADERS)
    assert set(col) == set(SAMPLE_SCORE_HEADERS)
    assert col["Mã"] < col["Nội dung tiêu chí"] < col["Điểm tối đa"] < col["Điểm tự chấm"] < col["Giải trình"]
    head, col = find_header(wb[R.ITEMS_SHEET], ITEM_HEADERS)
    assert set(col) == set(ITEM_HEADERS)


@pytest.mark.parametrize("unit", UNITS)
def test_meta_names_the_unit_and_the_criteria(sample_books, sample_campaign, unit):
    wb, _ = sample_books[unit]
    m = meta(wb)
    u = sample_campaign.unit(unit)
    assert set(R.META_KEYS) <= set(m)
    assert m["campaign_id"] == "QT-KTD-2025"
    assert m["unit_code"] == unit
    assert m["bloc_code"] == u.bloc == re.sub(r"\d+$", "", unit)
    assert m["template_version"] == TEMPLATE_VERSION
    assert m["criteria_digest"] == sample_campaign.digest and re.fullmatch(r"[0-9a-f]{16}", m["criteria_digest"])
    assert m["generated_at"] == "2025-11-20T08:30:00"
    assert all(c.data_type == "s" for row in wb[R.META_SHEET].iter_rows() for c in row if c.value is not None)


@pytest.mark.parametrize("unit", UNITS)
def test_only_applicable_criteria_appear(sample_books, sample_campaign, unit):
    wb, _ = sample_books[unit]
    table = Sheet(wb[R.SCORE_SHEET], SAMPLE_SCORE_HEADERS)
    codes = list(table.rows)
    assert ("I.3" in codes) == (unit in I3_UNITS)
    assert codes == [k.code for k in sample_campaign.criteria_for(sample_campaign.unit(unit))]
    every = [k.code for k in sample_campaign.criteria]
    assert codes == [c for c in every if c != "I.3" or unit in I3_UNITS]  # nothing else is dropped
    for k in sample_campaign.criteria:
        if k.code in table.rows:
            assert table.ws[table.at(k.code, "Điểm tối đa")].value == k.max
            assert table.ws[table.at(k.code, "Nội dung tiêu chí")].value == k.text


# --- inputs, locks and validation ------------------------------------------------------------

def expected_inputs(table: Sheet, campaign) -> set[str]:
    leaves = {k.code: k for k in campaign.leaves}
    cells = set()
    for code in table.rows:
        if code in leaves:
            k = leaves[code]
            cells.add(table.at(code, "Kết quả thực hiện" if k.kind in ("chỉ tiêu", "trừ điểm") else "Điểm tự chấm"))
            cells.add(table.at(code, "Giải trình"))
    return cells


def unlocked(ws) -> set[str]:
    return {c.coordinate for row in ws.iter_rows() for c in row if c.protection.locked is False}


@pytest.mark.parametrize("unit", ["NC01", "NC02", "KT09", "DN03"])
def test_only_input_cells_are_unlocked_and_each_is_validated(sample_books, sample_campaign, unit):
    wb, _ = sample_books[unit]
    scores = Sheet(wb[R.SCORE_SHEET], SAMPLE_SCORE_HEADERS)
    assert unlocked(scores.ws) == expected_inputs(scores, sample_campaign)
    items = Sheet(wb[R.ITEMS_SHEET], ITEM_HEADERS)
    assert list(items.rows) == [i.code for i in sample_campaign.items]
    assert unlocked(items.ws) == {items.at(i, h) for i in items.rows for h in ("Điểm", "Giải trình")}
    for ws in (scores.ws, items.ws):
        for coordinate in unlocked(ws):
            dv = validation_for(ws, coordinate)
            assert dv.showErrorMessage  # Excel refuses a bad value instead of accepting it silently
    for name in SHEETS:
        assert wb[name].protection.sheet is True
    assert unlocked(wb[R.COVER_SHEET]) == set() and unlocked(wb[R.META_SHEET]) == set()


def _between(dv, low: float, high: float) -> bool:
    return dv.operator in (None, "between") and float(dv.formula1) == low and float(dv.formula2) == high


@pytest.mark.parametrize("unit", ["NC01", "KT01", "DN01"])
def test_validation_bounds_follow_each_criterion(sample_books, sample_campaign, unit):
    wb, _ = sample_books[unit]
    table = Sheet(wb[R.SCORE_SHEET], SAMPLE_SCORE_HEADERS)
    ws = table.ws
    kinds_seen = set()
    for k in sample_campaign.leaves:
        if k.code not in table.rows:
            continue
        kinds_seen.add(k.kind)
        if k.kind == "điểm":
            dv = validation_for(ws, table.at(k.code, "Điểm tự chấm"))
            assert dv.type == ("whole" if k.step == 1 else "decimal")
            assert _between(dv, 0, k.max)
        elif k.kind == "đạt/không đạt":
            dv = validation_for(ws, table.at(k.code, "Điểm tự chấm"))
            assert dv.type == "list" and dv.formula1 == f'"{k.max:g},0"'
        else:  # chỉ tiêu, trừ điểm: the unit enters its result, the score is a formula
            dv = validation_for(ws, table.at(k.code, "Kết quả thực hiện"))
            assert dv.type == ("whole" if k.kind == "trừ điểm" else "decimal")
            assert dv.operator == "greaterThanOrEqual" and float(dv.formula1) == 0
            score = ws[table.at(k.code, "Điểm tự chấm")]
            assert isinstance(score.value, str) and score.value.startswith("=") and score.protection.locked is not False
        explain = validation_for(ws, table.at(k.code, "Giải trình"))
        assert explain.type == "textLength"
    assert kinds_seen == {"điểm", "đạt/không đạt", "chỉ tiêu", "trừ điểm"}
    items = Sheet(wb[R.ITEMS_SHEET], ITEM_HEADERS)
    for item in sample_campaign.items:
        dv = validation_for(items.ws, items.at(item.code, "Điểm"))
        assert dv.type == "decimal" and _between(dv, 0, item.cap)


# --- formulas and their cached values ---------------------------------------------------------

def check_sums(wb, wb_values, campaign, unit_code) -> dict[str, float]:
    """Every group and the total are SUM formulas over exactly their children, caching the sum of their cached values."""
    unit = campaign.unit(unit_code)
    criteria = campaign.criteria_for(unit)
    table = Sheet(wb[R.SCORE_SHEET], SAMPLE_SCORE_HEADERS if any(k.kind == "chỉ tiêu" for k in campaign.leaves)
                  else list(R.SCORE_HEADERS))
    values = wb_values[R.SCORE_SHEET]
    cached = {code: values[table.at(code, "Điểm tự chấm")].value for code in table.rows}
    leaves = {k.code for k in campaign.leaves}
    for k in criteria:
        if k.code in leaves:
            continue
        formula = table.ws[table.at(k.code, "Điểm tự chấm")].value
        kids = [x.code for x in criteria if x.parent == k.code]
        assert isinstance(formula, str) and formula.startswith("=SUM(")
        assert sorted(refs(formula)) == sorted(table.at(x, "Điểm tự chấm") for x in kids)
        assert cached[k.code] == pytest.approx(sum(cached[x] or 0 for x in kids))
    total_cell = f"{get_column_letter(table.col['Điểm tự chấm'])}{table.after}"
    formula = table.ws[total_cell].value
    roots = [k.code for k in criteria if k.parent is None]
    assert isinstance(formula, str) and formula.startswith("=SUM(")
    assert sorted(refs(formula)) == sorted(table.at(x, "Điểm tự chấm") for x in roots)
    total = values[total_cell].value
    assert total == pytest.approx(sum(cached[x] or 0 for x in roots))
    assert total == pytest.approx(sum(cached[x] or 0 for x in table.rows if x in leaves))
    max_cell = f"{get_column_letter(table.col['Điểm tối đa'])}{table.after}"
    assert values[max_cell].value == campaign.settings.scale
    return {**cached, "total": total}


@pytest.mark.parametrize("unit", UNITS)
def test_blank_template_subtotals_are_formulas_caching_their_sums(sample_books, sample_campaign, unit):
    wb, wb_values = sample_books[unit]
    cached = check_sums(wb, wb_values, sample_campaign, unit)
    leaves = [k for k in sample_campaign.criteria_for(sample_campaign.unit(unit)) if k in sample_campaign.leaves]
    for k in leaves:
        # nothing entered: scores blank, targets 0, deductions keep their full points (no violation yet)
        expected = {"điểm": None, "đạt/không đạt": None, "chỉ tiêu": 0, "trừ điểm": k.max}[k.kind]
        assert cached[k.code] == expected, k.code
    assert cached["total"] == sum(k.max for k in leaves if k.kind == "trừ điểm")
    assert cached["total"] == 10  # I.5 (5) + III.4 (3) + IV.4 (2)


def item_totals(wb, wb_values) -> tuple[tuple[str, float], tuple[str, float]]:
    items = Sheet(wb[R.ITEMS_SHEET], ITEM_HEADERS)
    col = get_column_letter(items.col["Điểm"])
    bonus, deduction = f"{col}{items.after}", f"{col}{items.after + 1}"
    return ((items.ws[bonus].value, wb_values[R.ITEMS_SHEET][bonus].value),
            (items.ws[deduction].value, wb_values[R.ITEMS_SHEET][deduction].value))


def test_filled_return_caches_the_sums(tmp_path, sample_campaign):
    unit = sample_campaign.unit("KT01")
    fill = Fill(
        scores={"I.1.c": 11.5, "I.2.a": 6, "I.2.b": 3, "I.2.c": 5.25, "I.4": 4.5, "II.1.a": 0, "II.1.b": 3,
                "II.2.a": 2.5, "III.1": 3, "IV.1": 2, "IV.3": 2},
        actuals={"I.1.a": 80, "I.1.b": 12, "I.3": 100, "I.5": 3, "III.4": 5, "IV.4": 0},
        explanations={"I.2.c": "Hoàn thành 5/6 nhiệm vụ đột xuất", "III.4": "Có 5 trường hợp"},
        items={"T1": (2, "Văn bản ghi nhận số 12"), "T2": (2, "Bằng khen của Bộ"), "T3": (1.5, "Sáng kiến"),
               "D1": (1, "Công văn phê bình")},
    )
    path = write_template(tmp_path / "KT01.xlsx", sample_campaign, unit, GENERATED_AT, fill)
    wb, wb_values = load(path)
    cached = check_sums(wb, wb_values, sample_campaign, "KT01")
    # target criteria show up to half their max until the bloc's best result is known; deductions step down
    computed = {"I.1.a": 4.0, "I.1.b": 4.0, "I.3": 2.5, "I.5": 3.5, "III.4": 0.0, "IV.4": 2.0, "II.3.a": 0.0}
    for code, value in {**fill.scores, **computed}.items():
        assert cached[code] == pytest.approx(value), code
    assert cached["I.1"] == pytest.approx(4 + 4 + 11.5)
    assert cached["I"] == pytest.approx(19.5 + (6 + 3 + 5.25) + 2.5 + 4.5 + 3.5)
    assert cached["total"] == pytest.approx(sum(fill.scores.values()) + sum(computed.values()))
    table = Sheet(wb[R.SCORE_SHEET], SAMPLE_SCORE_HEADERS)
    assert wb[R.SCORE_SHEET][table.at("I.2.c", "Giải trình")].value == "Hoàn thành 5/6 nhiệm vụ đột xuất"
    assert wb[R.SCORE_SHEET][table.at("I.5", "Kết quả thực hiện")].value == 3
    (bonus_f, bonus), (deduction_f, deduction) = item_totals(wb, wb_values)
    assert bonus_f.startswith("=MIN(5,SUM(") and bonus == 5  # 5.5 claimed, capped at the campaign's bonus cap
    assert deduction_f.startswith("=SUM(") and deduction == 1


def test_blank_item_totals_are_zero(sample_books):
    wb, wb_values = sample_books["NC01"]
    (bonus_f, bonus), (deduction_f, deduction) = item_totals(wb, wb_values)
    assert bonus_f.startswith("=") and deduction_f.startswith("=")
    assert bonus == 0 and deduction == 0


def test_small_campaign_templates(tmp_path, campaign):
    """A campaign with a three-level branch and a criterion restricted to a bloc and a unit."""
    paths = write_all(campaign, tmp_path, GENERATED_AT)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in paths) == [
        "K1/DV01.xlsx", "K1/DV02.xlsx", "K1/DV03.xlsx", "K2/DV04.xlsx", "K2/DV05.xlsx", "K2/DV06.xlsx"]
    for unit in campaign.units:
        wb, wb_values = load(template_path(tmp_path, unit))
        cached = check_sums(wb, wb_values, campaign, unit.code)
        assert ("I.3.a" in cached) == (unit.code in {"DV01", "DV04", "DV05", "DV06"})
        assert "I.3" in cached and "I.3.b" in cached
        assert cached["total"] == 2  # III.2, a deduction of at most 2 points with nothing entered
        assert meta(wb)["bloc_code"] == unit.bloc


# --- reproducible files, text stays text -----------------------------------------------------

def test_same_inputs_give_byte_identical_files(tmp_path, sample_campaign):
    unit = sample_campaign.unit("VX03")
    fill = Fill(scores={"I.1.c": 10}, explanations={"I.1.c": "Giải trình"}, items={"T1": (1, "Lý do")})
    a = write_template(tmp_path / "a.xlsx", sample_campaign, unit, GENERATED_AT, fill).read_bytes()
    b = write_template(tmp_path / "b.xlsx", sample_campaign, unit, GENERATED_AT, fill).read_bytes()
    assert a == b
    c = write_template(tmp_path / "c.xlsx", sample_campaign, unit, GENERATED_AT + dt.timedelta(days=1), fill).read_bytes()
    assert c != a


def test_byte_identical_across_processes(tmp_path, sample_templates):
    """Another interpreter with another hash seed writes the same bytes (no set or dict order leaks into files)."""
    script = (
        "import sys, datetime as dt; sys.path.insert(0, 'tests')\n"
        "from conftest import SAMPLE, GENERATED_AT\n"
        "from pipeline.check import load_checked\n"
        "from pipeline.templates import write_template\n"
        "c = load_checked(SAMPLE / 'campaign.xlsx')\n"
        "for code in ('NC01', 'KT05', 'DN02'):\n"
        "    write_template(sys.argv[1] + '/' + code + '.xlsx', c, c.unit(code), GENERATED_AT)\n"
    )
    for seed in ("1", "12345"):
        out = tmp_path / seed
        out.mkdir()
        subprocess.run([sys.executable, "-c", script, str(out)], cwd=ROOT, check=True, timeout=120,
                       env={**os.environ, "PYTHONHASHSEED": seed})
        for code in ("NC01", "KT05", "DN02"):
            assert (out / f"{code}.xlsx").read_bytes() == sample_templates[code].read_bytes(), (seed, code)


def test_formula_like_text_is_stored_as_text(tmp_path, sample_campaign):
    unit = sample_campaign.unit("NC03")
    fill = Fill(scores={"I.2.a": "=6"}, actuals={"I.5": "=1"},
                explanations={"I.1.c": "=1+1", "I.2.a": "@SUM(A1:A9)", "I.4": "+1-1"},
                items={"T1": ("=2", '=HYPERLINK("http://example.com","x")')})
    path = write_template(tmp_path / "NC03.xlsx", sample_campaign, unit, GENERATED_AT, fill)
    wb, _ = load(path)
    table = Sheet(wb[R.SCORE_SHEET], SAMPLE_SCORE_HEADERS)
    ws = wb[R.SCORE_SHEET]
    for code, header, typed in (("I.1.c", "Giải trình", "=1+1"), ("I.2.a", "Giải trình", "@SUM(A1:A9)"),
                                ("I.4", "Giải trình", "+1-1"), ("I.2.a", "Điểm tự chấm", "=6"),
                                ("I.5", "Kết quả thực hiện", "=1")):
        c = ws[table.at(code, header)]
        assert (c.value, c.data_type) == (typed, "s"), (code, header)
    items = Sheet(wb[R.ITEMS_SHEET], ITEM_HEADERS)
    for header, typed in (("Điểm", "=2"), ("Giải trình", '=HYPERLINK("http://example.com","x")')):
        c = items.ws[items.at("T1", header)]
        assert (c.value, c.data_type) == (typed, "s")


def test_only_score_and_total_cells_hold_formulas(tmp_path, content):
    """Text from the covenant (names, criterion texts) that looks like a formula is written as text too."""
    content["Đơn vị"][0]["name"] = "=HYPERLINK(\"http://example.com\",\"Sở\")"
    content["Tiêu chí"][2]["text"] = "=1+1"
    content["Thưởng - Trừ"][0]["text"] = "=SUM(1,2)"
    c = load_checked(make_campaign(tmp_path, content) / "campaign.xlsx")
    wb, _ = load(write_template(tmp_path / "DV01.xlsx", c, c.unit("DV01"), GENERATED_AT))
    scores = Sheet(wb[R.SCORE_SHEET], SAMPLE_SCORE_HEADERS)
    items = Sheet(wb[R.ITEMS_SHEET], ITEM_HEADERS)
    allowed = {(R.SCORE_SHEET, scores.col["Điểm tự chấm"]), (R.ITEMS_SHEET, items.col["Điểm"])}
    for ws in wb:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    assert (ws.title, cell.column) in allowed, f"{ws.title}!{cell.coordinate} = {cell.value}"
    assert wb[R.SCORE_SHEET][scores.at("I.2", "Nội dung tiêu chí")].value == "=1+1"


# --- LibreOffice ------------------------------------------------------------------------------

def test_libreoffice_converts_a_template_to_pdf(tmp_path, sample_templates):
    src = tmp_path / "VX01.xlsx"
    shutil.copyfile(sample_templates["VX01"], src)
    pdf_of(src, tmp_path)


def test_the_template_ends_with_a_place_date_and_signature_and_marks_its_total_provisional(tmp_path, campaign):
    unit = campaign.units[0]
    wb = openpyxl.load_workbook(write_template(tmp_path / "t.xlsx", campaign, unit, GENERATED_AT))
    items = [c.value for row in wb[R.ITEMS_SHEET].iter_rows() for c in row if isinstance(c.value, str)]
    assert {"THỦ TRƯỞNG ĐƠN VỊ", "(Ký tên, đóng dấu)", "NGƯỜI LẬP BIỂU"} <= set(items)
    assert any(t.startswith(f"{campaign.settings.place}, ngày") for t in items)
    scores = [c.value for row in wb[R.SCORE_SHEET].iter_rows() for c in row if isinstance(c.value, str)]
    assert "TỔNG ĐIỂM TỰ CHẤM (TẠM TÍNH)" in scores  # target and per-occurrence rows are computed later
    # nothing under `Mã` but criterion codes: the signature and notes are never read as rows
    column = [c.value for c in wb[R.ITEMS_SHEET]["A"]]
    under = [v for v in column[column.index(R.CODE) + 1:] if v]
    assert under == [i.code for i in campaign.items]


@pytest.mark.parametrize("formula", [
    "=SUM(F6,F7,F8)", "=SUM(E5:E45)", '=IF(E8="",0,MIN(2,2*E8/100))', "=MAX(0,4-0.5*N(E9))",
    "=XLOOKUP(A1,B:B,C:C)", "=SUM(FILTER(A1:A9,B1:B9>0))", "{=SUM(A1:A2*B1:B2)}", "=sum(A1:A2)", "=CONCAT(A1,B1)",
])
def test_formulas_are_written_as_xlsxwriter_would(formula):
    """QuickWorksheet skips xlsxwriter's search for newer functions only where a formula has none: every formula
    comes out as xlsxwriter itself would write it."""
    from xlsxwriter.worksheet import Worksheet

    from pipeline.workbook import QuickWorksheet

    assert QuickWorksheet()._prepare_formula(formula) == Worksheet()._prepare_formula(formula)


def _every_kind_of_cell(wb) -> None:
    """Cells of every kind xlsxwriter writes, styled by themselves, by their row, by their column and not at all."""
    bold, grey, boxed = wb.add_format({"bold": True}), wb.add_format({"bg_color": "#DDDDDD"}), wb.add_format({"border": 1})
    ws = wb.add_worksheet("Ô đủ loại")
    ws.set_row(3, 20, grey)
    ws.set_column(5, 5, 12, boxed)
    ws.set_column(6, 6, 30)
    for r in range(8):
        for col, fmt in enumerate((None, bold)):
            c = 8 * col
            ws.write_number(r, c, [0, 7, -2.5, 0.1 + 0.2, 1e20, 123456789.123456789, 1 / 3, 2 ** 53][r], fmt)
            ws.write_string(r, c + 1, ["", "Sở Nội vụ", 'a & b < c > "d"', "dòng\nmới", "_x0000_ và \x07",
                                       " cách ", "=SUM(A1)", "x" * 40][r], fmt)
            ws.write_blank(r, c + 2, None, fmt or grey)
            ws.write_datetime(r, c + 3, dt.datetime(2026, 12, 3, r, 30), fmt or bold)
            ws.write_boolean(r, c + 4, r % 2 == 0, fmt)
            ws.write_number(r, c + 5, r)  # a column's style (the row's first, on row 3)
            ws.write_string(r, c + 6, f"cột {r}")
            ws.write_formula(r, c + 7, f"=SUM(A{r + 1},F{r + 1})", fmt, [0, 3, "", "chữ", True, "#N/A", 2.5, None][r])
    ws.write_rich_string(9, 1, "đậm ", bold, "nhạt")
    ws.write_array_formula(10, 0, 11, 0, "{=A1:A2*2}")
    ws.write_dynamic_array_formula(12, 0, 12, 0, "=LEN(A1:A2)")
    ws.write_url(13, 0, "https://example.org/?a=1&b=2", string="Trang & liên kết")
    ws.write_blank(14, 0, None)  # a blank with no style is no cell at all
    ws.write_comment(15, 2, "ghi chú")
    ws.write_comment(17, 40, "ghi chú ngoài các cột có ô")  # a comment right of every cell
    ws.set_row(30, 25)  # a row with a height and no cell
    ws.set_row(33, None, grey)  # and one with a format only
    row = [(0, "Sở Nội vụ", bold), (1, "", bold), (2, 7, None), (3, -2.5, grey), (4, None, boxed), (5, None, None),
           (6, True, None), (7, dt.date(2026, 12, 3), None), (8, "x" * 20000, None), (9, "=SUM(A1)", bold),
           (10, "https://example.org", None), (11, 2 ** 53, None)]
    for r in (20, 21):
        if hasattr(ws, "write_cells"):  # QuickWorksheet: a row's cells in one call
            ws.write_cells(r, row)
        else:  # what it stands for, in xlsxwriter's own methods
            for c, value, fmt in row:
                if value is None:
                    ws.write_blank(r, c, None, fmt)
                elif isinstance(value, (int, float)) and not isinstance(value, bool):
                    ws.write_number(r, c, value, fmt)
                else:
                    ws.write_string(r, c, str(value), fmt)


def test_quick_cells_are_the_bytes_xlsxwriter_writes(tmp_path):
    """QuickWorksheet writes number, text and blank cells itself: every part of the workbook comes out the bytes
    xlsxwriter's own worksheet writes, whatever the cell's kind, value and style."""
    import zipfile

    from xlsxwriter import Workbook

    from pipeline.workbook import atomic_workbook

    options = {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    for path, wb in (("ours.xlsx", atomic_workbook(tmp_path / "ours.xlsx", options)),
                     ("xlsxwriter.xlsx", Workbook(str(tmp_path / "xlsxwriter.xlsx"), options))):
        wb.set_properties({"created": dt.datetime(2026, 12, 3)})
        _every_kind_of_cell(wb)
        wb.close()
    ours, theirs = (zipfile.ZipFile(tmp_path / n) for n in ("ours.xlsx", "xlsxwriter.xlsx"))
    assert ours.namelist() == theirs.namelist()
    for name in theirs.namelist():
        assert ours.read(name) == theirs.read(name), name
    sheet = ours.read("xl/worksheets/sheet1.xml").decode()
    assert sheet.count("<c ") > 100 and ' t="s"' in sheet and ' s="' in sheet


def test_every_formula_of_a_template_takes_the_quick_path(sample_campaign, tmp_path, monkeypatch):
    """The template's formulas (subtotals, computed scores of every kind) use only PLAIN_FUNCTIONS: none of them
    pays for xlsxwriter's search."""
    from xlsxwriter.worksheet import Worksheet

    slow = []
    monkeypatch.setattr(Worksheet, "_prepare_formula", lambda self, f, *a: slow.append(f) or f.lstrip("="))
    c = sample_campaign
    assert {k.kind for k in c.leaves} == {"điểm", "đạt/không đạt", "chỉ tiêu", "trừ điểm"}
    for unit in c.units[:3]:
        write_template(tmp_path / f"{unit.code}.xlsx", c, unit, GENERATED_AT)
    assert slow == []


def test_templates_on_two_processes_are_the_bytes_of_one(sample_campaign, tmp_path):
    """`thidua templates` writes on every core: the same files, byte for byte, and progress in the units' order."""
    made = {}
    for jobs in (1, 2):
        seen = []
        paths = write_all(sample_campaign, tmp_path / str(jobs), GENERATED_AT, seen.append, jobs=jobs)
        assert seen == list(sample_campaign.units)
        made[jobs] = {p.relative_to(tmp_path / str(jobs)): p.read_bytes() for p in paths}
    assert len(made[1]) == len(sample_campaign.units) and made[1] == made[2]
