"""Review stage: out/review/<bloc>.xlsx written, edited with openpyxl as an officer would in Excel, put back in
CAMPAIGN/review/ and read back: reviewed scores become final, ballots give vote shares, conflicts and next year's
head and deputy. Real workbooks throughout; assertions on codes, cells and values, never message wording.
"""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from types import SimpleNamespace

import openpyxl
import pytest

from pipeline.campaign_book import write_campaign
from pipeline.collect import collect
from pipeline.review import Ballot, load_reviews
from pipeline.score import matrix
from pipeline.votes import succession
from pipeline.workflow import run_rank, run_review
from schemas import review as V

import factories as f

WHEN = dt.datetime(2026, 12, 15, 8, 0, 0)
K1 = f.BLOCS["K1"]  # A01 (head) .. A05; A02 deputy
REVIEW_HEADERS = ["Mã đơn vị", "Mã", "Điểm tối đa", "Điểm tự chấm", "Điểm thẩm định", "Ghi chú"]
VOTE_HEADERS = ["Mã đơn vị", "Tên đơn vị", "Phiếu suy tôn", "Phiếu Trưởng khối", "Phiếu Phó khối"]
RANKING = ["Mã khối", "Mã đơn vị", "Tên đơn vị", "Điểm tự chấm", "Điểm thẩm định", "Điểm thưởng", "Điểm trừ",
           "Tổng điểm", "Xếp loại", "Thứ hạng", "Đồng hạng"]
PROVENANCE = ["Mã đơn vị", "Mã", "Giá trị", "Tệp", "Trang tính", "Ô"]
FULL = {V.PRESENT: 5, V.ISSUED: 5, V.VALID: 5}


# --- helpers ----------------------------------------------------------------------------------

def _head(ws, *headers) -> tuple[int, dict[str, str]]:
    """(row, {header: column letter}) of the first row holding every one of `headers`, as exact cell texts."""
    for row in ws.iter_rows():
        at = {c.value: c.column_letter for c in row if isinstance(c.value, str)}
        if all(h in at for h in headers):
            return row[0].row, at
    raise AssertionError(f"no header row with {headers} on {ws.title}")


def review_cell(ws, unit: str, code: str, header: str = V.REVIEWED) -> str:
    head, at = _head(ws, V.UNIT, V.CODE, header)
    for r in range(head + 1, ws.max_row + 1):
        if ws[f"{at[V.UNIT]}{r}"].value == unit and ws[f"{at[V.CODE]}{r}"].value == code:
            return f"{at[header]}{r}"
    raise AssertionError(f"{unit} {code} not on {ws.title}")


def vote_cell(ws, unit: str, header: str) -> str:
    head, at = _head(ws, V.UNIT, header)
    r = next(r for r in range(head + 1, ws.max_row + 1) if ws[f"{at[V.UNIT]}{r}"].value == unit)
    return f"{at[header]}{r}"


def count_cell(ws, label: str) -> str:
    head, at = _head(ws, V.KEY, V.VALUE)
    r = next(r for r in range(head + 1, ws.max_row + 1) if ws[f"{at[V.KEY]}{r}"].value == label)
    return f"{at[V.VALUE]}{r}"


def sheet(path: Path, name: str):
    return openpyxl.load_workbook(path)[name]


def put(ws, ref: str, value) -> None:
    ws[ref] = value
    if isinstance(value, str):
        ws[ref].data_type = "s"  # typed as text (Excel's leading '), even "=..."


def edit(src: Path, dst: Path, scores=None, votes=None, counts=None, meta=None, cells=None) -> Path:
    """Open the review as an officer would, type into it, save it as `dst`.

    scores {(unit, code): reviewed or (reviewed, note)}; votes {header: {unit: n}}; counts {label: n};
    meta {key: value}; cells {(sheet, A1): value}.
    """
    wb = openpyxl.load_workbook(src)
    ws, vs = wb[V.REVIEW_SHEET], wb[V.VOTES_SHEET]
    for (unit, code), value in (scores or {}).items():
        reviewed, note = value if isinstance(value, tuple) else (value, None)
        put(ws, review_cell(ws, unit, code), reviewed)
        if note is not None:
            put(ws, review_cell(ws, unit, code, V.NOTE), note)
    for header, tally in (votes or {}).items():
        for unit, n in tally.items():
            put(vs, vote_cell(vs, unit, header), n)
    for label, n in (counts or {}).items():
        put(vs, count_cell(vs, label), n)
    for key, value in (meta or {}).items():
        ms = wb["_meta"]
        put(ms, next(f"B{c.row}" for c in ms["A"] if c.value == key), value)
    for (name, ref), value in (cells or {}).items():
        put(wb[name], ref, value)
    dst.parent.mkdir(parents=True, exist_ok=True)
    wb.save(dst)
    return dst


def found(issues, *codes) -> list[tuple]:
    return [(i.code, i.severity, i.unit, i.file, i.sheet, i.cell) for i in issues if not codes or i.code in codes]


def by_unit(path: Path, name: str, headers: list[str]) -> dict[str, dict]:
    return {r["Mã đơn vị"]: r for r in f.table(path, name, headers)}


def matrices(path: Path, bloc: str) -> dict[str, dict[tuple[str, str], float | None]]:
    """The `Ma trận <bloc>` blocks of a results workbook: label -> {(unit, code): value}."""
    out, label, codes = {}, None, None
    for row in sheet(path, f"Ma trận {bloc}").iter_rows(values_only=True):
        if row[0] in ("Điểm cuối cùng", "Điểm tự chấm", "Điểm thẩm định"):
            label, codes = row[0], None
            out[label] = {}
        elif row[0] == "Mã đơn vị":
            codes = row[2:]
        elif label and codes and row[0]:
            # the criteria only: not the `Tổng` column, nor a not-applicable cell's mark
            out[label].update({(row[0], k): v for k, v in zip(codes, row[2:])
                               if k and k != "Tổng" and not isinstance(v, str)})
    return out


def with_settings(root: Path, **values) -> None:
    """Rewrite ROOT/campaign.xlsx with some settings changed (the criteria, hence every return, stay valid)."""
    rows = f.content()
    for r in rows["Thiết lập"]:
        if r["key"] in values:
            r["value"] = values.pop(r["key"])
    rows["Thiết lập"] += [{"key": k, "value": v} for k, v in values.items()]
    write_campaign(root / "campaign.xlsx", rows)


# --- fixtures ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """The acceptance campaign of factories.py, collected, its reviews written and ranked without any review."""
    root = tmp_path_factory.mktemp("review") / "CAMPAIGN"
    campaign = f.make_campaign(root)
    f.fill_inbox(root, campaign)
    collect(campaign, [root / "inbox"], root / "out" / "submissions")
    paths, _ = run_review(root, WHEN)
    results, v, _, _ = run_rank(root)
    c, m = v.campaign, matrix(v.campaign, v.values)
    return SimpleNamespace(root=root, c=c, values=v.values, m=m, review={p.stem: p for p in paths},
                           ranking=by_unit(results, "Xếp hạng", RANKING),
                           self=dict(zip(zip(m["unit"], m["code"]), m["self"])))


@pytest.fixture
def camp(base, tmp_path) -> Path:
    """A private copy of the collected campaign, with an empty CAMPAIGN/review/ to put completed reviews in."""
    root = tmp_path / "CAMPAIGN"
    shutil.copytree(base.root, root)
    return root


def load(base, tmp_path, name: str = "K1.xlsx", **changes):
    """Edit K1's review into tmp/review/<name> and read the folder back: issues, reviewed, ballots, the edited workbook."""
    folder = tmp_path / "review"
    path = edit(base.review["K1"], folder / name, **changes)
    issues, reviewed, ballots = load_reviews(base.c, folder, base.m)
    return issues, reviewed, ballots, openpyxl.load_workbook(path)


def finals(base, reviewed) -> dict[tuple[str, str], float]:
    m = matrix(base.c, base.values, reviewed)
    return dict(zip(zip(m["unit"], m["code"]), m["final"]))


# --- 1. the workbook that goes out ------------------------------------------------------------

def test_review_workbook_sheets_meta_and_headers(base):
    wb = openpyxl.load_workbook(base.review["K1"])
    assert wb.sheetnames == [V.REVIEW_SHEET, V.VOTES_SHEET, "_meta"]
    assert wb["_meta"].sheet_state == "hidden"
    assert wb[V.REVIEW_SHEET].sheet_state == wb[V.VOTES_SHEET].sheet_state == "visible"
    meta = {k: v for k, v in wb["_meta"].iter_rows(values_only=True)}
    assert (meta["form"], meta["bloc_code"], meta["campaign_id"]) == ("review", "K1", "KTD-TEST-2026")
    _head(wb[V.REVIEW_SHEET], *REVIEW_HEADERS)
    _head(wb[V.VOTES_SHEET], *VOTE_HEADERS)
    vs = wb[V.VOTES_SHEET]
    assert [vs[count_cell(vs, label)].value for label in (V.PRESENT, V.ISSUED, V.VALID)] == [None, None, None]


@pytest.mark.parametrize("bloc", ["K1", "K2"])
def test_one_row_per_unit_and_criterion_prefilled_with_the_self_score(base, bloc):
    ws = sheet(base.review[bloc], V.REVIEW_SHEET)
    head, at = _head(ws, *REVIEW_HEADERS)
    rows = [{h: ws[f"{at[h]}{r}"].value for h in REVIEW_HEADERS} for r in range(head + 1, ws.max_row + 1)
            if ws[f"{at[V.UNIT]}{r}"].value and ws[f"{at[V.CODE]}{r}"].value not in (None, *f.ITEMS)]
    got = [(r[V.UNIT], r[V.CODE]) for r in rows]
    expected = [(u, k) for (u, k) in base.self if u in f.BLOCS[bloc]]
    # K2: B05 sent nothing, B06's return has an error: neither is there to review.
    assert sorted(got) == sorted(expected) and len(got) == len(set(got))
    if bloc == "K2":
        assert {u for u, _ in got} == {"B01", "B02", "B03", "B04"}
    maxima = {k.code: k.max for k in base.c.leaves}
    for r in rows:
        key = (r[V.UNIT], r[V.CODE])
        assert r[V.SELF] == r[V.REVIEWED] == pytest.approx(base.self[key], abs=1e-12), key
        assert r[V.MAX] == maxima[r[V.CODE]] and r[V.NOTE] is None, key


def test_only_reviewed_and_note_cells_are_unlocked_and_the_sheets_are_protected(base):
    wb = openpyxl.load_workbook(base.review["K1"])
    ws, vs = wb[V.REVIEW_SHEET], wb[V.VOTES_SHEET]
    assert ws.protection.sheet and vs.protection.sheet
    for unit, code in [("A01", "I.2"), ("A03", "II.1"), ("A05", "III.2")]:
        for header in (V.REVIEWED, V.NOTE):
            assert ws[review_cell(ws, unit, code, header)].protection.locked is False, (unit, code, header)
        for header in (V.UNIT, V.CODE, V.MAX, V.SELF):
            assert ws[review_cell(ws, unit, code, header)].protection.locked is True, (unit, code, header)
    for unit in K1:
        for header in (V.LEADER, V.HEAD, V.DEPUTY):
            assert vs[vote_cell(vs, unit, header)].protection.locked is False
        assert vs[vote_cell(vs, unit, V.UNIT)].protection.locked is True
    for label in (V.PRESENT, V.ISSUED, V.VALID):
        assert vs[count_cell(vs, label)].protection.locked is False


def test_reviewed_cells_carry_data_validation_to_the_criterion_maximum(base):
    ws = sheet(base.review["K1"], V.REVIEW_SHEET)
    rules = {str(ref): dv for dv in ws.data_validations.dataValidation for ref in dv.sqref.ranges}
    maxima = {k.code: k.max for k in base.c.leaves}
    for unit in K1:
        for code, most in maxima.items():
            dv = rules[review_cell(ws, unit, code)]
            assert dv.type == "decimal" and dv.operator in (None, "between"), (unit, code)
            assert float(dv.formula1) == 0 and float(dv.formula2) == most, (unit, code)
    assert review_cell(ws, "A01", "I.2", V.SELF) not in rules


def test_criteria_that_do_not_apply_to_a_unit_are_not_in_its_review(tmp_path):
    rows = f.content()
    for r in rows["Tiêu chí"]:
        if r["code"] == "III.1":
            r["applies_to"] = "K2, A01"
    root = tmp_path / "CAMPAIGN"
    campaign = f.make_campaign(root, rows)
    f.fill_inbox(root, campaign, {u: r for u, r in f.RETURNS.items() if u in K1})
    collect(campaign, [root / "inbox"], root / "out" / "submissions")
    paths, v = run_review(root, WHEN)
    assert v.valid == set(K1)
    ws = sheet(paths[0], V.REVIEW_SHEET)
    head, at = _head(ws, *REVIEW_HEADERS)
    codes: dict[str, list] = {}
    for r in range(head + 1, ws.max_row + 1):
        if ws[f"{at[V.CODE]}{r}"].value and ws[f"{at[V.CODE]}{r}"].value not in f.ITEMS:
            codes.setdefault(ws[f"{at[V.UNIT]}{r}"].value, []).append(ws[f"{at[V.CODE]}{r}"].value)
    assert codes["A01"] == list(f.LEAVES)
    for u in K1[1:]:
        assert codes[u] == [k for k in f.LEAVES if k != "III.1"], u


# --- 2. an unchanged review ---------------------------------------------------------------------

def test_an_unchanged_review_changes_nothing(base, camp):
    (camp / "review").mkdir()
    for bloc in ("K1", "K2"):
        shutil.copy(base.review[bloc], camp / "review" / f"{bloc}.xlsx")
    results, v, _, year_end = run_rank(camp)
    assert [i for i in v.issues if i.file in ("K1.xlsx", "K2.xlsx")] == []
    assert by_unit(results, "Xếp hạng", RANKING) == base.ranking
    for bloc in ("K1", "K2"):
        blocks = matrices(results, bloc)
        assert blocks["Điểm cuối cùng"] == blocks["Điểm tự chấm"] == blocks["Điểm thẩm định"]
        # the matrix holds the scores rounded as shown (the campaign's 2 decimals)
        assert blocks["Điểm tự chấm"] == pytest.approx({k: x for k, x in base.self.items() if k[0] in f.BLOCS[bloc]},
                                                      abs=0.005 + 1e-9)
    assert len(year_end.ballots) == 0


def test_no_vote_recorded_means_no_ballot_and_no_issue(base, tmp_path):
    issues, reviewed, ballots, _ = load(base, tmp_path)
    assert issues == [] and ballots == {}
    assert len(reviewed) == sum(1 for u, _ in base.self if u in K1)
    assert finals(base, reviewed) == base.self


# --- 3. acceptance: an openpyxl edit changes exactly the finals it should ------------------------

def test_an_edited_review_changes_exactly_the_edited_finals(base, camp):
    name = "K1 - thẩm định.xlsx"
    path = edit(base.review["K1"], camp / "review" / name, scores={
        ("A02", "I.2"): 19.5,                                      # +1.5: within the tolerance (2), no note needed
        ("A03", "II.2"): (15, "Chưa có minh chứng chuyển đổi số"),  # -5: beyond it, with a note
    })
    ws = sheet(path, V.REVIEW_SHEET)
    cells = {("A02", "I.2"): review_cell(ws, "A02", "I.2"), ("A03", "II.2"): review_cell(ws, "A03", "II.2")}
    results, v, ranked, _ = run_rank(camp)
    assert [i for i in v.issues if i.file == name] == []

    final, self_ = {}, {}
    for bloc in ("K1", "K2"):
        blocks = matrices(results, bloc)
        final |= blocks["Điểm cuối cùng"]
        self_ |= blocks["Điểm tự chấm"]
    assert self_ == pytest.approx(base.self, abs=0.005 + 1e-9)  # rounded as shown
    assert {k: x for k, x in final.items() if x != self_[k]} == {("A02", "I.2"): 19.5, ("A03", "II.2"): 15}
    assert set(final) == set(self_)

    delta = {"A02": 1.5, "A03": -5.0}
    got = by_unit(results, "Xếp hạng", RANKING)
    assert set(got) == set(base.ranking)
    for unit, before in base.ranking.items():
        row, d = got[unit], delta.get(unit, 0.0)
        assert row["Điểm tự chấm"] == before["Điểm tự chấm"], unit
        assert row["Điểm thẩm định"] == round(before["Điểm thẩm định"] + d, 2), unit
        assert row["Tổng điểm"] == round(before["Tổng điểm"] + d, 2), unit
    assert (got["A02"]["Điểm tự chấm"], got["A02"]["Điểm thẩm định"], got["A02"]["Tổng điểm"]) == (85.5, 87, 88)
    assert (got["A03"]["Điểm tự chấm"], got["A03"]["Điểm thẩm định"], got["A03"]["Tổng điểm"]) == (86.5, 81.5, 81.5)

    source = {(r["Mã đơn vị"], r["Mã"]): r for r in f.table(results, "Nguồn số liệu", PROVENANCE)}
    for key, value in ((("A02", "I.2"), 19.5), (("A03", "II.2"), 15)):
        r = source[key]
        assert (r["Giá trị"], r["Tệp"], r["Trang tính"], r["Ô"]) == (value, name, V.REVIEW_SHEET, cells[key])
    for key, r in source.items():
        if key not in cells:
            assert r["Giá trị"] == pytest.approx(base.self[key]), key
        if key[0] not in K1:  # no review for K2: every number still points at the unit's return
            assert r["Trang tính"] == "Tự chấm điểm" and r["Tệp"] == f.INBOX_NAMES.get(key[0], f"{key[0]}.xlsx"), key


# --- 4. validation of a completed review ------------------------------------------------------

@pytest.mark.parametrize("key, typed, code, severity, final", [
    (("A01", "I.2"), 20.5, "score_range", "error", 19.5),       # above the maximum 20: the self score stands
    (("A01", "III.2"), -0.5, "score_range", "error", 1.5),
    (("A01", "I.2"), 19.3, "score_step", "error", 19.5),        # step 0.5
    (("A01", "I.2"), "mười", "not_a_number", "error", 19.5),
    (("A01", "I.2"), None, "review_blank", "warning", 19.5),    # cleared: the self score stands
    (("A01", "I.2"), "19,5", "decimal_comma", "warning", 19.5),
    (("A01", "I.2"), ("9,5", "Không đạt yêu cầu"), "decimal_comma", "warning", 9.5),
])
def test_a_reviewed_score_is_checked_at_its_cell(base, tmp_path, key, typed, code, severity, final):
    issues, reviewed, _, wb = load(base, tmp_path, scores={key: typed})
    cell = review_cell(wb[V.REVIEW_SHEET], *key)
    assert found(issues) == [(code, severity, key[0], "K1.xlsx", V.REVIEW_SHEET, cell)]
    assert finals(base, reviewed) == {**base.self, key: final}


def test_a_pass_fail_criterion_takes_max_or_zero(base, tmp_path):
    issues, reviewed, _, wb = load(base, tmp_path, scores={("A02", "II.1"): (5, "Chỉ đạt một phần"),
                                                                     ("A04", "II.1"): 0})
    cell = review_cell(wb[V.REVIEW_SHEET], "A02", "II.1")
    note = review_cell(wb[V.REVIEW_SHEET], "A04", "II.1", V.NOTE)  # 10 -> 0 without a note
    assert found(issues) == [("pass_fail", "error", "A02", "K1.xlsx", V.REVIEW_SHEET, cell),
                             ("review_note_missing", "warning", "A04", "K1.xlsx", V.REVIEW_SHEET, note)]
    assert finals(base, reviewed) == {**base.self, ("A04", "II.1"): 0}


@pytest.mark.parametrize("typed, flagged", [
    (15, True),                            # 20 -> 15, beyond the tolerance of 2, no note
    ((15, "Thiếu minh chứng"), False),     # the same with a note
    (18, False),                           # exactly the tolerance
    (17.5, True),                          # just beyond it
])
def test_a_large_change_needs_a_note(base, tmp_path, typed, flagged):
    issues, reviewed, _, wb = load(base, tmp_path, scores={("A03", "II.2"): typed})
    note = review_cell(wb[V.REVIEW_SHEET], "A03", "II.2", V.NOTE)
    expected = [("review_note_missing", "warning", "A03", "K1.xlsx", V.REVIEW_SHEET, note)] if flagged else []
    assert found(issues) == expected
    value = typed[0] if isinstance(typed, tuple) else typed
    assert finals(base, reviewed) == {**base.self, ("A03", "II.2"): value}  # a warning: the reviewed score counts


def test_the_tolerance_comes_from_the_campaign(base, camp):
    with_settings(camp, review_tolerance=5)
    edit(base.review["K1"], camp / "review" / "K1.xlsx", scores={("A03", "II.2"): 15, ("A02", "I.2"): 12})
    _, v, _, _ = run_rank(camp)
    ws = sheet(camp / "review" / "K1.xlsx", V.REVIEW_SHEET)
    assert found(v.issues, "review_note_missing") == [
        ("review_note_missing", "warning", "A02", "K1.xlsx", V.REVIEW_SHEET, review_cell(ws, "A02", "I.2", V.NOTE))]


def test_a_unit_not_in_the_bloc_is_refused(base, tmp_path):
    ws = sheet(base.review["K1"], V.REVIEW_SHEET)
    unit_cell = review_cell(ws, "A01", "I.2", V.UNIT)
    issues, reviewed, _, _ = load(base, tmp_path, scores={("A01", "I.2"): 10},
                                  cells={(V.REVIEW_SHEET, unit_cell): "B01"})  # B01 is in K2
    assert found(issues) == [("review_unit", "error", "B01", "K1.xlsx", V.REVIEW_SHEET, unit_cell)]
    assert "B01" not in set(reviewed["unit"])
    assert finals(base, reviewed) == base.self  # neither B01's nor A01's I.2 moves


def test_a_criterion_the_unit_was_not_scored_on_is_ignored(base, tmp_path):
    ws = sheet(base.review["K1"], V.REVIEW_SHEET)
    code_cell = review_cell(ws, "A01", "I.2", V.CODE)
    issues, reviewed, _, _ = load(base, tmp_path, scores={("A01", "I.2"): 10}, cells={(V.REVIEW_SHEET, code_cell): "IX.9"})
    assert found(issues) == [("review_not_scored", "warning", "A01", "K1.xlsx", V.REVIEW_SHEET, review_cell(ws, "A01", "I.2"))]
    assert finals(base, reviewed) == base.self


def test_a_self_score_changed_since_the_review_was_made_is_flagged(base, tmp_path):
    """A02 sent a new return (I.2 18 -> 20) after its review went out: the review's self column is stale."""
    m = base.m.copy()
    m.loc[(m["unit"] == "A02") & (m["code"] == "I.2"), "self"] = 20.0
    folder = tmp_path / "review"
    edit(base.review["K1"], folder / "K1.xlsx")
    issues, _, _ = load_reviews(base.c, folder, m)
    ws = sheet(folder / "K1.xlsx", V.REVIEW_SHEET)
    assert found(issues) == [("review_stale", "warning", "A02", "K1.xlsx", V.REVIEW_SHEET, review_cell(ws, "A02", "I.2"))]
    assert (issues[0].params["shown"], issues[0].params["self"]) == ("18", "20")


def test_a_review_from_another_campaign_is_refused(base, tmp_path):
    issues, reviewed, ballots, _ = load(base, tmp_path, scores={("A01", "I.2"): 10},
                                        votes={V.LEADER: {"A01": 5}}, counts=FULL,
                                        meta={"campaign_id": "KTD-KHAC-2026"})
    assert found(issues) == [("wrong_campaign", "error", "", "K1.xlsx", "_meta", "")]
    assert len(reviewed) == 0 and ballots == {}
    assert finals(base, reviewed) == base.self


def test_of_two_reviews_of_one_bloc_the_later_name_wins(base, tmp_path):
    folder = tmp_path / "review"
    edit(base.review["K1"], folder / "K1-b.xlsx", scores={("A01", "I.2"): 18.5},
         votes={V.LEADER: {"A01": 4}}, counts=FULL)
    edit(base.review["K1"], folder / "K1-a.xlsx", scores={("A01", "I.2"): 19, ("A02", "I.2"): 17},
         votes={V.LEADER: {"A01": 3}}, counts=FULL)
    issues, reviewed, ballots = load_reviews(base.c, folder, base.m)
    assert found(issues) == [("review_superseded", "warning", "", "K1-a.xlsx", "", "")]
    assert issues[0].params["file"] == "K1-b.xlsx"
    assert set(reviewed["file"]) == {"K1-b.xlsx"}
    assert finals(base, reviewed) == {**base.self, ("A01", "I.2"): 18.5}  # A02's 17 from K1-a is gone
    assert ballots["K1"].file == "K1-b.xlsx" and ballots["K1"].leader == {"A01": 4}


# --- 5. votes -----------------------------------------------------------------------------------

def test_a_complete_valid_ballot(base, tmp_path):
    issues, _, ballots, _ = load(base, tmp_path, votes={V.LEADER: {"A01": 4, "A02": 1}, V.HEAD: {"A02": 5},
                                                        V.DEPUTY: {"A03": 3, "A04": 2}}, counts=FULL)
    assert issues == []
    assert ballots == {"K1": Ballot("K1", "K1.xlsx", 5, 5, 5, {"A01": 4, "A02": 1}, {"A02": 5},
                                    {"A03": 3, "A04": 2}, ok=True)}


@pytest.mark.parametrize("vote_base, shares", [("thanh_vien", {"A01": 60, "A02": 20}),      # of 5 members
                                               ("phieu_hop_le", {"A01": 75, "A02": 25})])   # of 4 valid
def test_vote_shares_reach_the_results(base, camp, vote_base, shares):
    with_settings(camp, vote_base=vote_base)
    edit(base.review["K1"], camp / "review" / "K1.xlsx", votes={V.LEADER: {"A01": 3, "A02": 1}},
         counts={V.PRESENT: 5, V.ISSUED: 5, V.VALID: 4})
    results, v, _, _ = run_rank(camp)
    assert found(v.issues, "leader_vote_missed", "outvoted") == []
    got = by_unit(results, "Xếp hạng", RANKING + ["Phiếu suy tôn", "Tỷ lệ phiếu (%)"])
    assert {u: (got[u]["Phiếu suy tôn"], got[u]["Tỷ lệ phiếu (%)"]) for u in K1} == {
        "A01": (3, shares["A01"]), "A02": (1, shares["A02"]), "A03": (0, 0), "A04": (0, 0), "A05": (0, 0)}
    assert got["B01"]["Phiếu suy tôn"] is None and got["B01"]["Tỷ lệ phiếu (%)"] is None  # K2 did not vote


def test_votes_break_a_tie_when_the_chain_says_so(base, camp):
    """A04 and A05 are level on the total and every other key; with `phieu` in the chain A05's vote splits them."""
    with_settings(camp, tie_break="nhom:I, it_diem_tru, nhieu_diem_thuong, phieu")
    edit(base.review["K1"], camp / "review" / "K1.xlsx", votes={V.LEADER: {"A01": 4, "A05": 1}}, counts=FULL)
    results, _, _, _ = run_rank(camp)
    got = by_unit(results, "Xếp hạng", RANKING)
    assert (got["A05"]["Thứ hạng"], got["A04"]["Thứ hạng"]) == (4, 5)
    assert not got["A04"]["Đồng hạng"] and not got["A05"]["Đồng hạng"]
    assert base.ranking["A04"]["Thứ hạng"] == base.ranking["A05"]["Thứ hạng"] == 4  # tied without the vote


@pytest.mark.parametrize("counts, leader, code, where", [
    ((4, 5, 4), {"A01": 3}, "votes_issued", V.ISSUED),      # more ballots issued than units present
    ((5, 4, 5), {"A01": 3}, "votes_valid", V.VALID),        # more valid ballots than issued
    ((5, 5, 4), {"A01": 5}, "votes_over", "A01"),           # a unit with more votes than valid ballots
    ((5, 5, 4), {"A01": 3, "A02": 2}, "votes_total", "A01"),  # more votes cast than valid ballots
    ((3, 3, 3), {"A01": 3}, "quorum_missed", V.PRESENT),    # 3 of 5 present, below 2/3
    ((6, 5, 5), {"A01": 3}, "votes_present", V.PRESENT),    # more present than the bloc has members
    (None, {"A01": 3}, "votes_counts_missing", None),       # votes typed, counts left blank
])
def test_a_faulty_ballot_is_flagged_and_not_used(base, tmp_path, counts, leader, code, where):
    typed = dict(zip((V.PRESENT, V.ISSUED, V.VALID), counts)) if counts else {}
    issues, _, ballots, wb = load(base, tmp_path, votes={V.LEADER: leader}, counts=typed)
    vs = wb[V.VOTES_SHEET]
    cell = "" if where is None else vote_cell(vs, where, V.LEADER) if where in K1 else count_cell(vs, where)
    unit = where if where in K1 and code != "votes_total" else ""  # a column total belongs to no one unit
    assert found(issues) == [(code, "error", unit, "K1.xlsx", V.VOTES_SHEET, cell)]
    assert ballots["K1"].ok is False


def test_a_faulty_ballot_gives_no_shares_and_no_conflicts(base, camp):
    # A01 tops the bloc with 1 vote of 5 and is out-voted: with a usable ballot both would be flagged.
    edit(base.review["K1"], camp / "review" / "K1.xlsx", votes={V.LEADER: {"A01": 1, "A02": 3}},
         counts={V.PRESENT: 4, V.ISSUED: 5, V.VALID: 4})
    results, v, _, year_end = run_rank(camp)
    assert [i.code for i in v.issues if i.file == "K1.xlsx"] == ["votes_issued"]
    got = by_unit(results, "Xếp hạng", RANKING + ["Phiếu suy tôn", "Tỷ lệ phiếu (%)"])
    assert all(got[u]["Phiếu suy tôn"] is None and got[u]["Tỷ lệ phiếu (%)"] is None for u in K1)
    assert list(year_end.ballots["status"]) == ["Không hợp lệ (xem trang Lỗi)"]


@pytest.mark.parametrize("leader, expected", [
    ({"A01": 3, "A02": 2}, []),                                            # 60% > 50%, nobody has more
    ({"A01": 2, "A02": 1}, [("leader_vote_missed", "A01")]),                # 40%: not above 50%
    ({"A01": 2, "A02": 3}, [("leader_vote_missed", "A01"), ("outvoted", "A02")]),
    ({"A01": 2, "A03": 2}, [("leader_vote_missed", "A01")]),                # as many votes is not more
])
def test_vote_conflicts_are_flagged_for_the_conference_not_resolved(base, camp, leader, expected):
    edit(base.review["K1"], camp / "review" / "K1.xlsx", votes={V.LEADER: leader}, counts=FULL)
    results, v, _, _ = run_rank(camp)
    conflicts = [(i.code, i.severity, i.unit, i.file) for i in v.issues if i.code in ("leader_vote_missed", "outvoted")]
    assert conflicts == [(code, "warning", unit, "K1.xlsx") for code, unit in expected]
    got = by_unit(results, "Xếp hạng", RANKING)
    assert {u: got[u]["Thứ hạng"] for u in K1} == {u: base.ranking[u]["Thứ hạng"] for u in K1}  # ranks stand


def test_the_leader_share_must_be_above_the_setting(base, camp):
    """vote_base phieu_hop_le, 2 of 4 valid ballots: exactly 50% is not "more than 50%"."""
    with_settings(camp, vote_base="phieu_hop_le")
    edit(base.review["K1"], camp / "review" / "K1.xlsx", votes={V.LEADER: {"A01": 2, "A02": 2}},
         counts={V.PRESENT: 4, V.ISSUED: 4, V.VALID: 4})
    _, v, _, _ = run_rank(camp)
    assert [(i.code, i.unit) for i in v.issues if i.code in ("leader_vote_missed", "outvoted")] == \
        [("leader_vote_missed", "A01")]


# --- 6. next year's head and deputy -------------------------------------------------------------

def ballot(head=None, deputy=None, ok=True, bloc="K1") -> Ballot:
    return Ballot(bloc, f"{bloc}.xlsx", 5, 5, 5, {}, head or {}, deputy or {}, ok=ok)


def heads(frame) -> dict[str, tuple[str, str]]:
    return {r.bloc: (r.head, r.deputy) for r in frame.itertuples()}


def test_elected_head_and_deputy(base):
    frame, issues = succession(base.c, {"K1": ballot({"A03": 4, "A04": 1}, {"A03": 3, "A05": 2})})
    # A03 is head; its deputy votes do not count, A05 is the deputy. K2 did not vote: rotation.
    assert heads(frame) == {"K1": ("A03", "A05"), "K2": ("B02", "B03")}
    assert issues == []
    assert frame.set_index("bloc").loc["K1", "head_name"] == "Đơn vị A03"


def test_no_ballot_rotates_the_deputy_to_head(base):
    frame, issues = succession(base.c, {})
    assert heads(frame) == {"K1": ("A02", "A03"), "K2": ("B02", "B03")}
    assert issues == []


def test_a_faulty_ballot_is_not_an_election(base):
    frame, issues = succession(base.c, {"K1": ballot({"A04": 5}, {"A05": 5}, ok=False)})
    assert heads(frame)["K1"] == ("A02", "A03") and issues == []


def test_a_tied_head_election_is_flagged_and_rotation_applies(base):
    frame, issues = succession(base.c, {"K1": ballot({"A03": 2, "A04": 2, "A05": 1}, {"A05": 3})})
    assert heads(frame)["K1"] == ("A02", "A05")
    assert found(issues) == [("vote_tie", "warning", "A03", "K1.xlsx", "", "")]
    assert issues[0].params["units"] == "A03, A04"


def test_rotation_wraps_around_the_member_list(tmp_path):
    rows = f.content()
    rows["Khối"][0].update(head="A04", deputy="A05")
    c = f.make_campaign(tmp_path / "CAMPAIGN", rows)
    frame, _ = succession(c, {})
    assert heads(frame)["K1"] == ("A05", "A01")


def test_giu_nguyen_keeps_head_and_deputy(tmp_path):
    rows = f.content()
    next(r for r in rows["Thiết lập"] if r["key"] == "head_rotation")["value"] = "giu_nguyen"
    c = f.make_campaign(tmp_path / "CAMPAIGN", rows)
    assert c.settings.head_rotation == "giu_nguyen"
    frame, _ = succession(c, {})
    assert heads(frame) == {"K1": ("A01", "A02"), "K2": ("B01", "B02")}
    frame, _ = succession(c, {"K1": ballot({"A04": 5}, {"A05": 5})})
    assert heads(frame)["K1"] == ("A04", "A05")  # an election still decides


def test_the_succession_reaches_the_results(base, camp):
    edit(base.review["K1"], camp / "review" / "K1.xlsx", votes={V.HEAD: {"A03": 5}, V.DEPUTY: {"A04": 5}},
         counts=FULL)
    results, _, _, _ = run_rank(camp)
    rows = {r["Mã khối"]: r for r in f.table(results, "Trưởng, Phó khối 2027", ["Mã khối", "Trưởng khối", "Phó khối"])}
    assert (rows["K1"]["Trưởng khối"], rows["K1"]["Phó khối"]) == ("A03", "A04")
    assert (rows["K2"]["Trưởng khối"], rows["K2"]["Phó khối"]) == ("B02", "B03")


# --- 7. text typed in a review stays text -------------------------------------------------------

FORMULA = '=HYPERLINK("http://x")'


def formulas_and_texts(path: Path) -> tuple[list[str], set[str]]:
    wb = openpyxl.load_workbook(path)
    bad = [f"{ws.title}!{c.coordinate}" for ws in wb.worksheets for row in ws.iter_rows() for c in row
           if c.data_type == "f" and not ws.title.startswith(("Ma trận", "Khối"))]
    texts = {c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row
             if c.data_type == "s" and isinstance(c.value, str)}
    return bad, texts


def test_formula_text_typed_into_a_review_is_written_as_text(base, camp):
    ws = sheet(base.review["K1"], V.REVIEW_SHEET)
    edit(base.review["K1"], camp / "review" / "K1.xlsx",
         scores={("A03", "II.2"): (15, FORMULA)},
         cells={(V.REVIEW_SHEET, review_cell(ws, "A05", "I.2", V.UNIT)): '=HYPERLINK("http://y")'})
    results, v, _, _ = run_rank(camp)
    assert ('review_unit', '=HYPERLINK("http://y")') in [(i.code, i.unit) for i in v.issues]
    bad, texts = formulas_and_texts(results)
    assert bad == []
    assert '=HYPERLINK("http://y")' in texts  # on `Lỗi`, as text


def test_the_review_note_reaches_the_results_as_text(base, camp):
    edit(base.review["K1"], camp / "review" / "K1.xlsx", scores={("A03", "II.2"): (15, FORMULA)})
    results, _, _, _ = run_rank(camp)
    bad, texts = formulas_and_texts(results)
    assert bad == []
    assert FORMULA in texts


# --- precision of the pre-filled reviewed score ------------------------------------------------

def test_an_untouched_review_keeps_every_final_bit_for_bit(base, tmp_path):
    folder = tmp_path / "review"
    folder.mkdir()
    shutil.copy(base.review["K2"], folder / "K2.xlsx")
    issues, reviewed, _ = load_reviews(base.c, folder, base.m)
    assert issues == []
    assert base.self[("B04", "I.1")] == 40 / 3  # B04's actual 110 against B03's best 130: a repeating decimal
    assert finals(base, reviewed) == base.self


# --- 8. a re-run keeps what the bloc head typed ------------------------------------------------

def test_review_rerun_carries_a_completed_review_over(base, camp):
    """After a late return the officer runs `thidua review` again: K1's new workbook starts from the completed
    review in CAMPAIGN/review/ (scores, notes, votes, counts), K2's from the self scores; the original is untouched."""
    done = edit(base.review["K1"], camp / "review" / "K1.xlsx", scores={("A03", "II.2"): (15, "Thiếu minh chứng")},
                votes={V.LEADER: {"A01": 4, "A02": 1}, V.HEAD: {"A02": 5}}, counts=FULL)
    before = done.read_bytes()
    paths, _ = run_review(camp, WHEN)
    again = {p.stem: openpyxl.load_workbook(p) for p in paths}
    ws, vs = again["K1"][V.REVIEW_SHEET], again["K1"][V.VOTES_SHEET]
    assert ws[review_cell(ws, "A03", "II.2")].value == 15
    assert ws[review_cell(ws, "A03", "II.2", V.NOTE)].value == "Thiếu minh chứng"
    assert ws[review_cell(ws, "A02", "I.2")].value == base.self[("A02", "I.2")]  # untouched rows: the self score
    assert [vs[vote_cell(vs, u, V.LEADER)].value for u in ("A01", "A02", "A03")] == [4, 1, None]
    assert vs[vote_cell(vs, "A02", V.HEAD)].value == 5
    assert [vs[count_cell(vs, label)].value for label in (V.PRESENT, V.ISSUED, V.VALID)] == [5, 5, 5]
    k2 = again["K2"][V.REVIEW_SHEET]
    k2_self = {(u, k): s for (u, k), s in base.self.items() if u.startswith("B")}
    assert {key: k2[review_cell(k2, *key)].value for key in k2_self} == pytest.approx(k2_self, abs=1e-12)
    assert done.read_bytes() == before  # CAMPAIGN/review/ is read, never written


# --- bonus and deduction claims, reviewed like scores (issues 9 and 10) --------------------------

def claim_rows(path: Path) -> dict[tuple[str, str], dict]:
    ws = sheet(path, V.REVIEW_SHEET)
    head, at = _head(ws, *REVIEW_HEADERS)
    return {(ws[f"{at[V.UNIT]}{r}"].value, ws[f"{at[V.CODE]}{r}"].value): {h: ws[f"{at[h]}{r}"].value for h in REVIEW_HEADERS}
            for r in range(head + 1, ws.max_row + 1) if ws[f"{at[V.CODE]}{r}"].value in f.ITEMS}


def test_each_unit_has_a_reviewable_row_per_bonus_and_deduction_item(base):
    rows = claim_rows(base.review["K1"])
    units = {u for u, _ in base.self if u in K1}
    assert set(rows) == {(u, k) for u in units for k in f.ITEMS}
    # pre-filled with what the unit claimed (0 for nothing), its cap as the maximum
    assert rows[("A01", "T1")][V.SELF] == rows[("A01", "T1")][V.REVIEWED] == 3
    assert rows[("A03", "T1")][V.SELF] == 0 and rows[("A01", "T1")][V.MAX] == 3


def test_each_unit_starts_a_page_named_in_full_and_a_blocked_unit_is_marked(base):
    ws = sheet(base.review["K2"], V.REVIEW_SHEET)
    head, at = _head(ws, *REVIEW_HEADERS)
    firsts = {}
    for r in range(head + 1, ws.max_row + 1):
        u = ws[f"{at[V.UNIT]}{r}"].value
        if u and u not in firsts:
            firsts[u] = r
    breaks = {b.id for b in ws.row_breaks.brk}  # a break after row id: the next page starts at id + 1
    for u, first in list(firsts.items())[1:]:
        assert first - 2 in breaks, u  # the unit's heading row opens the page
    for u, first in firsts.items():
        heading = ws.cell(first - 1, 2).value
        unit = base.c.unit(u)
        assert heading.startswith(f"{u} - {unit.name}")
        assert ("NGHỊ ĐỊNH 152/2025" in heading) == bool(unit.blockers), heading


def test_a_reviewed_claim_counts_with_the_tolerance_and_note_rules(base, camp):
    src = base.review["K1"]
    edit(src, camp / "review" / "K1.xlsx", scores={
        ("A01", "T1"): 0,                                   # 3 off the claim (tolerance 2), no note: a warning
        ("A02", "T1"): (9, "quá mức"),                      # above the cap: an error, the claim stands
        ("A03", "D1"): (2, "Bị phê bình bằng văn bản 2 lần"),  # a deduction the unit did not declare
    })
    results, v, ranked, _ = run_rank(camp)
    at = {(i.code, i.unit): i for i in v.issues if i.file == "K1.xlsx"}
    assert at[("review_note_missing", "A01")].cell == review_cell(sheet(src, V.REVIEW_SHEET), "A01", "T1", V.NOTE)
    assert at[("score_range", "A02")].cell == review_cell(sheet(src, V.REVIEW_SHEET), "A02", "T1")
    got = by_unit(results, "Xếp hạng", RANKING)
    before = base.ranking
    assert before["A01"]["Điểm thưởng"] == 3 and got["A01"]["Điểm thưởng"] == 1.5  # T1 3 + T2 1.5 capped at 3; now T2 only
    assert got["A02"]["Điểm thưởng"] == before["A02"]["Điểm thưởng"]
    assert got["A03"]["Điểm trừ"] == before["A03"]["Điểm trừ"] + 2
    assert got["A03"]["Tổng điểm"] == pytest.approx(before["A03"]["Tổng điểm"] - 2)
    # a re-made review starts from what the bloc head typed
    paths, _ = run_review(camp, WHEN)
    rows = claim_rows(next(p for p in paths if p.stem == "K1"))
    assert rows[("A03", "D1")][V.REVIEWED] == 2 and rows[("A03", "D1")][V.NOTE] == "Bị phê bình bằng văn bản 2 lần"


# --- at scale: both cores, one rule per criterion, what rank need not read again --------------

def _ranked(base):
    from pipeline.rank import rank
    from pipeline.score import totals
    from pipeline.votes import with_votes
    return rank(base.c, with_votes(base.c, totals(base.c, base.values, base.m), {}))


def test_two_processes_write_the_bytes_one_writes_and_read_back_the_same(base, tmp_path, monkeypatch):
    import pipeline.pool
    from pipeline.review import claims_to_review, write_all
    monkeypatch.setattr(pipeline.pool, "SERIAL_BELOW", 1)  # two blocs: every one through the pool
    ranked, claims = _ranked(base), claims_to_review(base.values)
    written, seen = {}, {}
    for jobs in (1, 2):
        out = tmp_path / f"out{jobs}"
        got = []
        paths = write_all(base.c, out, base.m, ranked, WHEN, got.append, None, claims, jobs, tmp_path / f"w{jobs}.json")
        assert [b.code for b in got] == [b.code for b in base.c.blocs]  # progress per bloc, in order
        written[jobs] = {p.name: p.read_bytes() for p in paths}
        assert (tmp_path / f"w{jobs}.json").read_bytes() == (tmp_path / "w1.json").read_bytes()
    assert set(written[1]) == {"K1.xlsx", "K2.xlsx"} and written[2] == written[1]
    # read back on one and two processes: edited, faulty, superseded and foreign reviews alike
    folder = tmp_path / "review"
    edit(base.review["K1"], folder / "K1.xlsx", scores={("A01", "I.2"): (0, "sai"), ("A02", "I.3"): 99,
                                                        ("A03", "T1"): 1}, counts=FULL, votes={V.LEADER: {"A01": 4}})
    edit(base.review["K1"], folder / "K1b.xlsx", scores={("A04", "I.2"): 0})  # after K1.xlsx: it wins
    edit(base.review["K2"], folder / "K2.xlsx", counts={V.PRESENT: 9, V.ISSUED: 1, V.VALID: 1})
    edit(base.review["K2"], folder / "other.xlsx", meta={"campaign_id": "X"})
    for jobs in (1, 2):
        issues, reviewed, ballots = load_reviews(base.c, folder, base.m, base.values, jobs=jobs)
        seen[jobs] = (issues, reviewed, ballots)
    assert seen[2][0] == seen[1][0] and seen[2][2] == seen[1][2]
    pd_testing = pytest.importorskip("pandas.testing")
    pd_testing.assert_frame_equal(seen[2][1], seen[1][1])
    codes = {i.code for i in seen[1][0]}
    assert {"review_superseded", "wrong_campaign", "score_range", "votes_present"} <= codes
    got = {(u, k): x for u, k, x in zip(seen[1][1]["unit"], seen[1][1]["code"], seen[1][1]["reviewed"])}
    assert base.self[("A04", "I.2")] != 0 and got[("A04", "I.2")] == 0  # K1b.xlsx, the later name, counts
    assert got[("A01", "I.2")] == base.self[("A01", "I.2")]  # not K1.xlsx's 0


def test_every_reviewed_cell_and_claim_is_under_a_rule_to_its_maximum(base):
    """One rule per criterion (and per bonus or deduction item) over many cells: each reviewed cell still
    carries its own criterion's maximum, and no other cell is under a score rule."""
    ws = sheet(base.review["K2"], V.REVIEW_SHEET)
    rules = {}
    for dv in ws.data_validations.dataValidation:
        for ref in dv.sqref.ranges:
            for row in ws[ref.coord] if ":" in ref.coord else [[ws[ref.coord]]]:
                for cell in row:
                    assert cell.coordinate not in rules, cell.coordinate  # one rule a cell
                    rules[cell.coordinate] = dv
    maxima = {k.code: k.max for k in base.c.leaves} | {i.code: i.cap for i in base.c.items}
    units = {u for u, _ in base.self if u in f.BLOCS["K2"]}
    reviewed = set()
    for unit in units:
        for code, most in maxima.items():
            where = review_cell(ws, unit, code)
            dv = rules[where]
            assert dv.type == "decimal" and float(dv.formula1) == 0 and float(dv.formula2) == most, (unit, code)
            reviewed.add(where)
    score_rules = {c for c, dv in rules.items() if dv.type == "decimal"}
    assert score_rules == reviewed


def test_a_rule_over_many_cells_is_split_and_still_covers_each(base, tmp_path, monkeypatch):
    import pipeline.review
    monkeypatch.setattr(pipeline.review, "CELLS_PER_RULE", 2)
    from pipeline.review import write_all
    path = write_all(base.c, tmp_path / "out", base.m, _ranked(base), WHEN)[0]
    ws = sheet(path, V.REVIEW_SHEET)
    rules = {str(ref): dv for dv in ws.data_validations.dataValidation for ref in dv.sqref.ranges}
    assert all(len(dv.sqref.ranges) <= 2 for dv in ws.data_validations.dataValidation)
    for unit in K1:
        for k in base.c.leaves:
            assert float(rules[review_cell(ws, unit, k.code)].formula2) == k.max


def test_workbooks_untouched_since_written_are_skipped_a_changed_one_is_read(base, tmp_path, monkeypatch):
    import pipeline.review
    from pipeline.review import untouched, write_all
    out, record = tmp_path / "out" / "review", tmp_path / "cache" / "written.json"
    write_all(base.c, out, base.m, _ranked(base), WHEN, record=record)
    assert untouched(out, record) == {"K1.xlsx", "K2.xlsx"}
    assert untouched(out, tmp_path / "none.json") == set()  # no record: everything is read
    read = []
    real = pipeline.review.read_review
    monkeypatch.setattr(pipeline.review, "read_review", lambda path, file=None: read.append(Path(path).name)
                        or real(path, file))
    issues, reviewed, ballots = load_reviews(base.c, out, base.m, skip=untouched(out, record))
    assert read == [] and issues == [] and not len(reviewed) and ballots == {}
    edit(out / "K1.xlsx", out / "K1.xlsx", scores={("A01", "I.2"): 0})  # typed into out/review/ by mistake
    (out / "extra.xlsx").write_bytes((out / "K2.xlsx").read_bytes())  # not in the record: read
    issues, reviewed, _ = load_reviews(base.c, out, base.m, skip=untouched(out, record))
    assert sorted(read) == ["K1.xlsx", "extra.xlsx"]
    assert ("A01", "I.2") in set(zip(reviewed["unit"], reviewed["code"]))
