"""The results workbook answers "why" where the officer looks first (issue 9 item 2, issue 10 item 6): each
bloc's sheet names every member (ranked or not, with why), what rank could not use, totals reached with
criteria that do not apply, matrices rounded as shown, a chart named with the units' short names."""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from pipeline import workflow

import factories as f

NA_CRITERION = "II.2"  # applies to bloc K1 only: K2's totals are rescaled (na_policy quy_doi)


@pytest.fixture(scope="module")
def ranked(tmp_path_factory):
    root = tmp_path_factory.mktemp("results") / "CAMPAIGN"
    rows = f.content()
    rows["Tiêu chí"] = [{**r, "applies_to": "K1"} if r["code"] == NA_CRITERION else r for r in rows["Tiêu chí"]]
    campaign = f.make_campaign(root, rows)
    f.fill_inbox(root, campaign)
    workflow.run_collect(root)
    path, v, ranking, _ = workflow.run_rank(root)
    return {"path": path, "campaign": campaign, "v": v, "ranking": ranking}


def bloc_rows(path: Path, bloc: str) -> list[dict]:
    return f.table(path, f"Khối {bloc}", ["Mã đơn vị", "Tên đơn vị", "Ghi chú"])


def test_every_member_is_on_its_bloc_sheet_with_a_note(ranked):
    c, v = ranked["campaign"], ranked["v"]
    for bloc in c.blocs:
        rows = {r["Mã đơn vị"]: r for r in bloc_rows(ranked["path"], bloc.code)}
        assert set(rows) == {u.code for u in c.members(bloc.code)}
        for unit, r in rows.items():
            assert r["Ghi chú"], unit
            if unit in v.valid:
                assert isinstance(r["Thứ hạng"], int)
            else:  # B06's return has an error: listed, not ranked, and why
                assert r["Thứ hạng"] is None and r["Ghi chú"].startswith("Không xếp hạng: "), unit
    assert "B06" not in v.valid


def test_a_bloc_sheet_says_what_rank_could_not_use(ranked):
    """No completed review and no ballot in the campaign: each bloc's sheet says so above its table."""
    for bloc in ranked["campaign"].blocs:
        note = openpyxl.load_workbook(ranked["path"])[f"Khối {bloc.code}"]["A2"].value
        assert note.startswith("Lưu ý: ") and "chưa có bảng thẩm định" in note and "bỏ phiếu" in note, note
        assert bloc.code in note


def test_a_rescaled_total_shows_its_raw_sum_the_criteria_left_out_and_the_factor(ranked):
    c = ranked["campaign"]
    factor = 100 / (100 - next(k.max for k in c.leaves if k.code == NA_CRITERION))
    rows = {r["Mã đơn vị"]: r for r in f.table(ranked["path"], "Xếp hạng", ["Mã đơn vị", "Hệ số quy đổi"])}
    for unit, r in rows.items():
        if unit.startswith("B"):
            assert r["Tiêu chí không áp dụng"] == NA_CRITERION
            assert r["Hệ số quy đổi"] == pytest.approx(round(factor, 4))
            assert r["Điểm thẩm định"] == pytest.approx(r["Cộng điểm các tiêu chí áp dụng"] * factor, abs=0.011)
            assert f"Tiêu chí không áp dụng: {NA_CRITERION}" in r["Ghi chú"]
            assert "quy đổi × " + f"{round(factor, 4):g}".replace(".", ",") in r["Ghi chú"]
        else:
            assert r["Tiêu chí không áp dụng"] is None and "không áp dụng" not in (r["Ghi chú"] or "")


def test_matrix_values_are_rounded_as_shown(ranked):
    ws = openpyxl.load_workbook(ranked["path"])["Ma trận K1"]
    numbers = [c for row in ws.iter_rows() for c in row if isinstance(c.value, float) and c.row > 3]
    assert numbers
    for cell in numbers:
        assert round(cell.value, 2) == cell.value, cell.coordinate
        assert cell.number_format in ("0.00", "0.##"), cell.coordinate


def test_the_chart_names_units_by_their_short_names(ranked):
    path, c = ranked["path"], ranked["campaign"]
    book = openpyxl.load_workbook(path)
    with zipfile.ZipFile(path) as z:
        charts = [z.read(n).decode() for n in sorted(z.namelist()) if n.startswith("xl/charts/chart")]
    assert len(charts) == len(c.blocs)
    for xml in charts:
        ref = re.search(r"<c:cat>.*?<c:f>(.*?)</c:f>", xml, re.S).group(1)
        sheet, cells = ref.rsplit("!", 1)
        ws = book[sheet.strip("'")]
        names = [ws[a].value for a in _cells(cells)]
        bloc = sheet.strip("'").split()[-1]
        ranked_units = [u for u in c.members(bloc) if u.code in ranked["v"].valid]
        assert sorted(names) == sorted(u.short_name for u in ranked_units)


def _cells(ref: str) -> list[str]:
    first, last = ref.replace("$", "").split(":")
    col, a, b = re.match(r"([A-Z]+)(\d+)", first).group(1), int(first[len(re.match(r"[A-Z]+", first).group()):]), \
        int(last[len(re.match(r"[A-Z]+", last).group()):])
    return [f"{col}{r}" for r in range(a, b + 1)]
