"""Every workbook kind of the sample, printed through LibreOffice and read back from the PDF as a reader sees it
(issue 9): no empty page, lists that take the pages their rows need, page numbers from each list's second page,
every unit's name; and every wrapped cell tall enough for its text, in every workbook thidua writes."""
from __future__ import annotations

import importlib.util
import re
import shutil
import sys
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from openpyxl.utils import get_column_letter

from pipeline.cli import main
from pipeline.check import load_checked
from pipeline.proposal import HELD_SHEET, PAGE_HEIGHT
from pipeline.templates import text_lines

from conftest import ROOT, pdf_pages, pdfs_of

# A generous reading of LibreOffice: Times New Roman holds about 1.25 characters of Vietnamese text per
# column-width unit at 12 pt, and a line takes at least 1.15 times the font size.
CHARS_PER_UNIT, LINE = 1.25, 1.15
DEFAULT_WIDTH, DEFAULT_HEIGHT = 8.43, 15.0


@pytest.fixture(scope="module")
def sample_out(tmp_path_factory) -> Path:
    """The sample run end to end into a copy: templates, registration forms, reviews, validation, results."""
    root = tmp_path_factory.mktemp("print") / "qt"
    # built afresh (test_sample proves the committed sample is what build.py makes)
    spec = importlib.util.spec_from_file_location("sample_build_print", ROOT / "sample_data" / "build.py")
    build = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = build  # its dataclass looks itself up there
    spec.loader.exec_module(build)
    build.main(root)
    runner = CliRunner()
    for args in (["templates"], ["templates", "--registration"], ["collect"], ["validate"], ["review"], ["rank"]):
        done = runner.invoke(main, [*args, str(root)])
        assert done.exit_code in (0, 1) and (root / "out").is_dir(), (args, done.output)
    return root / "out"


@pytest.fixture(scope="module")
def printed(sample_out, tmp_path_factory) -> dict[str, list[str]]:
    """kind -> the text of each printed page; one LibreOffice run for all six kinds."""
    folder = tmp_path_factory.mktemp("kinds")
    kinds = {"template": sample_out / "templates" / "KT" / "KT01.xlsx",
             "registration": sample_out / "registration" / "VX" / "VX01.xlsx",
             "review": sample_out / "review" / "NC.xlsx", "validation": sample_out / "validation.xlsx",
             "results": sample_out / "results-2025.xlsx", "proposal": sample_out / "proposal-2025.xlsx"}
    copies = {k: shutil.copy(v, folder / f"{k}.xlsx") for k, v in kinds.items()}
    pdfs = pdfs_of([Path(p) for p in copies.values()], folder)
    pages = {k: pdf_pages(pdfs[Path(p)]) for k, p in copies.items()}
    # in reading order, where a name wrapped in its cell is still one run of text
    return {**pages, "results_flow": pdf_pages(pdfs[Path(copies["results"])], layout=False)}


@pytest.mark.parametrize("kind", ["template", "registration", "review", "validation", "results", "proposal"])
def test_no_printed_page_is_empty(printed, kind):
    pages = printed[kind]
    assert pages
    empty = [n for n, text in enumerate(pages, start=1) if not re.sub(r"\s|\d", "", text)]
    assert not empty, f"{kind}: pages {empty} print nothing but a page number"


def _lists(pages: list[str]) -> list[list[str]]:
    """The proposal's printed lists: each starts at a page carrying the national motto."""
    lists: list[list[str]] = []
    for text in pages:
        if "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text:
            lists.append([])
        lists[-1].append(text)
    return lists


def test_proposal_lists_take_the_pages_their_rows_need_numbered_from_page_two(printed, sample_out):
    book = openpyxl.load_workbook(sample_out / "proposal-2025.xlsx")
    lists = _lists(printed["proposal"])
    assert len(lists) == len(book.sheetnames)
    for ws, pages in zip(book, lists):
        # LibreOffice breaks the pages where the proposal's layout put its breaks, and nowhere else
        assert len(pages) == len(ws.row_breaks.brk) + 1, ws.title
        heights = sum((ws.row_dimensions[r].height or 16) for r in range(1, ws.max_row + 1))
        landscape = ws.page_setup.orientation == "landscape"
        assert len(pages) <= heights // PAGE_HEIGHT[landscape] + 1, ws.title  # no page wasted
        first_lines = [next((x.strip() for x in p.splitlines() if x.strip()), "") for p in pages]
        assert not first_lines[0].isdigit()  # Decree 30: no number on a list's first page
        assert first_lines[1:] == [str(n) for n in range(2, len(pages) + 1)], ws.title  # each list from 1
    assert len(lists[0]) == 1  # the sample's flag list, two units, is one page
    assert "Tổng số: 2 đơn vị." in lists[0][0] and "TM. HỘI ĐỒNG THI ĐUA - KHEN THƯỞNG" in lists[0][0]
    for pages in lists[:-1]:
        assert "TM. HỘI ĐỒNG" in pages[-1] and "STT" in pages[-1]  # the signature under rows of its table


def test_every_unit_name_in_the_ranking_is_printed(printed, sample_out):
    flat = re.sub(r"\s+", "", "".join(printed["results_flow"]))
    ws = openpyxl.load_workbook(sample_out / "results-2025.xlsx")["Xếp hạng"]
    header = [c.value for c in ws[1]]
    names = [r[header.index("Tên đơn vị")] for r in ws.iter_rows(min_row=2, values_only=True) if r[0]]
    assert len(names) > 20
    missing = [n for n in names if re.sub(r"\s+", "", n) not in flat]
    assert not missing


def test_proposal_sheets_carry_no_rule_code_nor_reasoning_and_count_held_units(sample_out):
    c = load_checked(sample_out.parent / "campaign.xlsx")
    codes = {r.code for r in c.award_rules}
    book = openpyxl.load_workbook(sample_out / "proposal-2025.xlsx")
    for ws in book:
        assert ws.title not in codes
        for row in ws.iter_rows(values_only=True):
            for v in row:
                if isinstance(v, str):
                    assert not any(code in v for code in codes), (ws.title, v)
                    assert not re.search(r"quy tắc|Cảnh báo|Hạng \d+/\d+|lien_tuc|da_nhan|_", v.replace("___", "")), (
                        ws.title, v)
    held = book[HELD_SHEET]
    units = [r[2] for r in held.iter_rows(values_only=True) if isinstance(r[0], int)]
    assert len(units) == len(set(units)) > 0
    total = next(v for r in held.iter_rows(values_only=True) for v in r if isinstance(v, str) and v.startswith("Tổng số"))
    assert total == f"Tổng số: {len(units)} đơn vị."


def _widths(ws) -> dict[int, float]:
    widths: dict[int, float] = {}
    for key, dim in ws.column_dimensions.items():
        lo, hi = (dim.min or 0), (dim.max or 0)
        for col in range(lo, hi + 1):
            widths[col] = dim.width if dim.width else DEFAULT_WIDTH
    return widths


def short_rows(path: Path) -> list[str]:
    """Cells with wrapped text whose row is lower than the text needs at the column's (or merge's) width."""
    wb = openpyxl.load_workbook(path)
    found = []
    for ws in wb:
        if ws.sheet_state != "visible":
            continue
        widths = _widths(ws)
        width = lambda a, b: sum(widths.get(i, DEFAULT_WIDTH) for i in range(a, b + 1))  # noqa: E731
        merged = {(m.min_row, m.min_col): m for m in ws.merged_cells.ranges}
        for row in ws.iter_rows():
            for c in row:
                if not isinstance(c.value, str) or not c.value.strip() or not c.alignment.wrap_text:
                    continue
                m = merged.get((c.row, c.column))
                if m is not None and m.max_row > m.min_row:
                    continue  # a cell over several rows: its rows share the height
                w = width(c.column, m.max_col if m is not None else c.column)
                size = c.font.sz or 11
                need = text_lines(c.value, w, size, CHARS_PER_UNIT) * size * LINE
                have = ws.row_dimensions[c.row].height or DEFAULT_HEIGHT
                if have + 0.5 < need:
                    found.append(f"{path.name} {ws.title}!{c.coordinate}: {have:g} < {need:.0f} pt for {c.value[:40]!r}")
    return found


def test_every_wrapped_cell_has_a_row_that_holds_its_text(sample_out):
    books = sorted(sample_out.rglob("*.xlsx"))
    books = [p for p in books if "submissions" not in p.parts]
    assert len(books) > 60
    short = [x for p in books for x in short_rows(p)]
    assert not short, "\n".join(short[:40]) + f"\n... {len(short)} in all"


def test_printed_sheets_have_a_print_area_and_title_and_hidden_sheets_stay_hidden(sample_out):
    books = {"template": sample_out / "templates" / "KT" / "KT01.xlsx",
             "registration": sample_out / "registration" / "VX" / "VX01.xlsx",
             "review": sample_out / "review" / "NC.xlsx", "results": sample_out / "results-2025.xlsx",
             "proposal": sample_out / "proposal-2025.xlsx", "validation": sample_out / "validation.xlsx"}
    for kind, path in books.items():
        wb = openpyxl.load_workbook(path)
        if "_meta" in wb.sheetnames:
            assert wb["_meta"].sheet_state == "hidden" and wb.security.lockStructure, kind  # no password
            assert not wb.security.workbookPassword, kind
        for ws in wb:
            if ws.sheet_state != "visible" or ws.title.startswith("Ma trận"):
                continue  # the matrices print across pages, their unit columns repeated
            assert ws.print_area, (kind, ws.title)
            scale = ws.page_setup.scale
            assert scale is None or scale >= 75, (kind, ws.title, scale)
