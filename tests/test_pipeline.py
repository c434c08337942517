"""Acceptance for "Returns to ranking": filled returns in the inbox -> `collect` -> `rank` -> results workbooks.

Every unit's total, grade and rank on `Xếp hạng` is checked against an exact recomputation from what the
units typed (tests/factories.py: DOMAIN.md's target formula, deductions, capped bonus, half-up rounding,
competition ranking with the campaign's tie-break chain).
"""
from __future__ import annotations

import csv
import hashlib
import shutil
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from pipeline.cli import main

import factories as f

RANKING = ["Mã khối", "Mã đơn vị", "Tên đơn vị", "Điểm tự chấm", "Điểm thẩm định", "Điểm thưởng", "Điểm trừ",
           "Tổng điểm", "Xếp loại", "Thứ hạng", "Đồng hạng"]
ISSUES = ["Mã đơn vị", "Tệp", "Trang tính", "Ô", "Mã lỗi", "Mức độ", "Nội dung"]
UNRANKED = ["Mã khối", "Mã đơn vị", "Tên đơn vị"]
YEAR = 2026


def run(*args) -> str:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == 0, result.output
    return result.output


def snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    """Every file under `folder`: content hash and modification time (ns)."""
    return {str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    """The acceptance campaign, collected once and ranked twice; what each step left behind."""
    root = tmp_path_factory.mktemp("acceptance") / "CAMPAIGN"
    campaign = f.make_campaign(root)
    f.fill_inbox(root, campaign)
    before = snapshot(root / "inbox")
    run("collect", root)
    run("rank", root)
    out = root / "out"
    first = {name: (out / name).read_bytes() for name in (f"results-{YEAR}.xlsx", "validation.xlsx")}
    run("rank", root)
    second = {name: (out / name).read_bytes() for name in first}
    return {"root": root, "campaign": campaign, "before": before, "after": snapshot(root / "inbox"),
            "first": first, "second": second, "results": out / f"results-{YEAR}.xlsx",
            "validation": out / "validation.xlsx"}


def test_the_designed_ranks_are_what_the_oracle_computes():
    """Guards the test data: the ties planted in factories.RETURNS are really there."""
    expected = f.expected_results(f.RETURNS, set(f.EXPECTED_RANKS))
    assert {u: (e["rank"], e["tied"]) for u, e in expected.items()} == f.EXPECTED_RANKS
    # A04 and A05 are a half-up case: 73.625 -> 73.63 (Python's round gives 73.62).
    assert expected["A04"]["total"] == Decimal("73.63") and round(73.625, 2) == 73.62


def test_ranking_matches_an_independent_computation(ran):
    rows = f.table(ran["results"], "Xếp hạng", RANKING)
    got = {r["Mã đơn vị"]: r for r in rows}
    expected = f.expected_results(f.RETURNS, set(f.EXPECTED_RANKS))
    assert set(got) == set(expected)
    for unit, e in expected.items():
        row = got[unit]
        assert row["Mã khối"] == e["bloc"], unit
        assert isinstance(row["Tổng điểm"], (int, float)), unit  # scores are numbers, never text
        assert Decimal(str(row["Tổng điểm"])) == e["total"], unit
        assert row["Xếp loại"] == e["grade"], unit
        assert isinstance(row["Thứ hạng"], int) and row["Thứ hạng"] == e["rank"], unit
        assert (row["Đồng hạng"] or "") == e["tied"], unit


def test_tie_break_splits_equal_totals_and_flags_what_stays_tied(ran):
    got = {r["Mã đơn vị"]: r for r in f.table(ran["results"], "Xếp hạng", RANKING)}
    # Equal totals, group I 50 vs 46.5: the chain (nhom:I first) separates them.
    assert got["A02"]["Tổng điểm"] == got["A03"]["Tổng điểm"] == 86.5
    assert (got["A02"]["Thứ hạng"], got["A03"]["Thứ hạng"]) == (2, 3)
    assert not got["A02"]["Đồng hạng"] and not got["A03"]["Đồng hạng"]
    # Equal on the total and on every key of the chain: a shared rank, 1, 2, 2, 4.
    assert [got[u]["Thứ hạng"] for u in ("B03", "B01", "B02", "B04")] == [1, 2, 2, 4]
    assert got["B01"]["Đồng hạng"] == got["B02"]["Đồng hạng"] == "x"
    assert got["A04"]["Thứ hạng"] == got["A05"]["Thứ hạng"] == 4


def test_the_bloc_best_comes_from_valid_returns_only(ran):
    """B06 typed 200 but its return has an error: B03's 130 is the bloc's best and earns the full 20."""
    got = {r["Mã đơn vị"]: r for r in f.table(ran["results"], "Xếp hạng", RANKING)}
    assert "B06" not in got
    assert got["B03"]["Điểm tự chấm"] == 100


def test_two_runs_give_byte_identical_workbooks(ran):
    for name in ran["first"]:
        assert ran["first"][name] == ran["second"][name], name


def test_the_same_inputs_in_another_folder_give_byte_identical_workbooks(ran, tmp_path):
    """Nothing of the folder, the clock or the run leaks into the workbooks."""
    root = tmp_path / "elsewhere"
    (root / "inbox").mkdir(parents=True)
    shutil.copy2(ran["root"] / "campaign.xlsx", root / "campaign.xlsx")
    for p in (ran["root"] / "inbox").iterdir():
        shutil.copy2(p, root / "inbox" / p.name)  # copy2 keeps the receipt time (mtime)
    run("collect", root)
    run("rank", root)
    for name in ran["first"]:
        assert (root / "out" / name).read_bytes() == ran["first"][name], name


def test_the_inbox_is_never_touched(ran):
    assert ran["before"] == ran["after"]
    assert len(ran["before"]) == len(f.RETURNS)


def test_a_unit_without_a_return_is_listed(ran):
    unranked = {r["Mã đơn vị"]: r for r in f.table(ran["results"], "Không xếp hạng", UNRANKED)}
    assert set(unranked) == {f.NO_RETURN, f.INVALID}
    assert unranked[f.NO_RETURN]["Mã khối"] == "K2"
    issues = f.table(ran["validation"], "Lỗi", ISSUES)
    no_return = [r for r in issues if r["Mã lỗi"] == "no_return"]
    assert [(r["Mã đơn vị"], r["Mức độ"]) for r in no_return] == [(f.NO_RETURN, "Lỗi")]


def test_an_invalid_return_is_reported_at_its_cell(ran):
    inbox_file = ran["root"] / "inbox" / f.INBOX_NAMES[f.INVALID]
    cell = f.cell_of(inbox_file, "Tự chấm điểm", "I.2", "Điểm tự chấm")
    issues = f.table(ran["validation"], "Lỗi", ISSUES)
    mine = [(r["Tệp"], r["Trang tính"], r["Ô"], r["Mã lỗi"], r["Mức độ"]) for r in issues if r["Mã đơn vị"] == f.INVALID]
    assert mine == [(f.INBOX_NAMES[f.INVALID], "Tự chấm điểm", cell, "not_a_number", "Lỗi")]


FORMULA_FREE = {"results": ("Lỗi", "Xếp hạng", "Nguồn số liệu", "Không xếp hạng"), "validation": ("Lỗi", "Tổng hợp")}


@pytest.mark.parametrize("book", sorted(FORMULA_FREE))
def test_text_from_returns_never_becomes_a_formula(ran, book):
    """An explanation `=HYPERLINK("x")`, a score `=SUM(1,2)` and a file named `=HYPERLINK(B06).xlsx` stay text."""
    wb = openpyxl.load_workbook(ran[book], data_only=False)
    seen = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if ws.title in FORMULA_FREE[book]:
                    assert c.data_type != "f", f"{ws.title}!{c.coordinate} {c.value!r}"
                if isinstance(c.value, str) and c.value.startswith("="):
                    assert c.data_type == "s", f"{ws.title}!{c.coordinate} {c.value!r}"
                    seen.add(c.value)
    assert f.INBOX_NAMES[f.INVALID] in seen  # the file name is there, as text


def test_collect_keeps_every_version_and_the_newest_counts(tmp_path):
    root = tmp_path / "CAMPAIGN"
    campaign = f.make_campaign(root)
    k1 = {u: r for u, r in f.RETURNS.items() if u.startswith("A")}
    f.fill_inbox(root, campaign, k1)
    # A second, different return from A02, received two days after the first; its name sorts first,
    # so only the receipt time can make it win.
    newer = f.Ret(110, f.s(20, 17, 10, 17.5, 6), items={"T1": 1})
    old_file = root / "inbox" / f.INBOX_NAMES["A02"]
    new_file = f.write_return(root / "inbox" / "A02 - bản cũ.xlsx", campaign, "A02", newer.fill(), mtime=f.ARRIVED + 2 * 86400)
    assert sorted(p.name for p in (old_file, new_file))[0] == new_file.name
    run("collect", root)
    run("rank", root)
    stored = root / "out" / "submissions"
    for p in (old_file, new_file):
        digest = hashlib.sha256(p.read_bytes()).hexdigest()
        assert (stored / f"{digest}.xlsx").read_bytes() == p.read_bytes()
    with open(stored / "receipts.csv", newline="", encoding="utf-8") as fh:
        a02 = sorted(r["original"] for r in csv.DictReader(fh) if r["unit"] == "A02")
    assert a02 == sorted([old_file.name, new_file.name])
    got = {r["Mã đơn vị"]: r for r in f.table(root / "out" / f"results-{YEAR}.xlsx", "Xếp hạng", RANKING)}
    expected = f.expected_results({**k1, "A02": newer}, set(k1))
    assert Decimal(str(got["A02"]["Tổng điểm"])) == expected["A02"]["total"] == Decimal("88.5")
    assert got["A02"]["Thứ hạng"] == expected["A02"]["rank"]
    issues = f.table(root / "out" / "validation.xlsx", "Lỗi", ISSUES)
    assert [(r["Mã đơn vị"], r["Tệp"], r["Mức độ"]) for r in issues if r["Mã lỗi"] == "superseded"] == \
        [("A02", new_file.name, "Cảnh báo")]


def test_collect_twice_adds_nothing_and_a_later_version_wins(tmp_path):
    """Receipts persist between runs; a version dropped in later is kept beside the first and counts."""
    root = tmp_path / "CAMPAIGN"
    campaign = f.make_campaign(root)
    k1 = {u: r for u, r in f.RETURNS.items() if u.startswith("A")}
    f.fill_inbox(root, campaign, k1)
    run("collect", root)
    run("collect", root)
    receipts = root / "out" / "submissions" / "receipts.csv"
    assert len(receipts.read_text(encoding="utf-8").splitlines()) == 1 + len(k1)
    newer = f.Ret(110, f.s(20, 17, 10, 17.5, 6), items={"T1": 1})
    f.write_return(root / "inbox" / "A02 - lần 2.xlsx", campaign, "A02", newer.fill(), mtime=f.ARRIVED + 86400)
    run("collect", root)
    assert len(receipts.read_text(encoding="utf-8").splitlines()) == 2 + len(k1)
    run("rank", root)
    got = {r["Mã đơn vị"]: r for r in f.table(root / "out" / f"results-{YEAR}.xlsx", "Xếp hạng", RANKING)}
    assert got["A02"]["Tổng điểm"] == 88.5
