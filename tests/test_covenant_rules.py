"""The rules as the officer means them (issue 10): each mistake made as an officer makes it, in campaign.xlsx,
and the code, sheet and cell reported, or the outcome.

1 the reform and the law by date; 2 award codes belong to the campaign; 3 registration; 4 words that match;
6 rank says what it could not use; 7 the master's examples; 8 messages as Vietnamese sentences; 9 installable.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from pipeline.awards import propose
from pipeline.campaign import legal_basis
from pipeline.campaign_book import EXAMPLE, marked, write_campaign
from pipeline.check import load_campaign, load_checked
from pipeline.cli import main
from pipeline.issues import ERROR, WARNING
from pipeline.workflow import run_collect, run_rank, run_review
from schemas import campaign as S
from schemas import review as V

import factories as f
from conftest import MASTER, ROOT, cell, make_campaign, small_content
from test_review import edit

U, A, H, R, SET = S.UNITS, S.AWARD_RULES, S.HISTORY, S.REGISTRATIONS, S.SETTINGS


def issues_of(tmp_path, content) -> list[tuple[str, str, str, str]]:
    _, issues = load_campaign(make_campaign(tmp_path, content) / "campaign.xlsx")
    return sorted((i.code, i.severity, i.sheet, i.cell) for i in issues)


def setting(content, key, value):
    rows = content["Thiết lập"]
    row = next((r for r in rows if r["key"] == key), None)
    if row is None:
        rows.append({"key": key, "value": value})
    else:
        row["value"] = value


def setting_cell(content, key) -> str:
    from pipeline.campaign import SETTINGS
    order = [k for k in SETTINGS if k in {r["key"] for r in content["Thiết lập"]}]
    return cell(SET, "value", order.index(key))


def ranking(c, *rows) -> pd.DataFrame:
    """A ranked frame as rank() gives it: (unit, rank, total, votes) per row."""
    out = []
    for unit, rank, total, votes in rows:
        u = c.unit(unit)
        members = len(c.members(u.bloc))
        grade = next((name for name, low in c.settings.grades if total >= low), "Chưa hoàn thành")
        out.append({"bloc": u.bloc, "unit": unit, "name": u.name, "short_name": u.short_name, "rank": rank,
                    "tied": "", "total": float(total), "grade": grade, "votes": votes,
                    "vote_share": 100 * votes / members if votes is not None else float("nan")})
    return pd.DataFrame(out)


# --- 4. words that match -----------------------------------------------------------------------

def test_enumerated_values_typed_differently_mean_the_same_on_every_sheet(tmp_path, content):
    content["Tiêu chí"][2]["kind"] = "  ĐIỂM "           # case, spaces
    content["Tiêu chí"][8]["kind"] = "Dat/Khong dat"     # without diacritics
    content["Tiêu chí"][2]["explanation"] = "Khi chua toi da"
    content["Thưởng - Trừ"][2]["kind"] = "Trừ"
    content["Khen thưởng"][0]["min_grade"] = "xuất sắc"
    content["Khen thưởng"][1]["quota_rounding"] = "Len"
    content["Khen thưởng"][0]["must_register"] = "X"
    content["Đơn vị"][0]["discipline"] = "có"              # yes/no the same way as in Thiết lập
    content["Đơn vị"][1]["inspection"] = "không"
    content["Lịch sử"][0].update(kind="Xếp Loại", value="xuất  sắc")
    content["Lịch sử"][1].update(kind="khen thuong")
    setting(content, "level", "Tinh")
    setting(content, "na_policy", "quy doi")
    setting(content, "allow_over_scale", "Không")
    setting(content, "tie_break", "Nhóm:I, it diem tru")
    c, issues = load_campaign(make_campaign(tmp_path, content) / "campaign.xlsx")
    assert issues == []
    kinds = {k.code: k.kind for k in c.criteria}
    assert kinds["I.2"] == "điểm" and kinds["II.1"] == "đạt/không đạt"
    assert next(k for k in c.criteria if k.code == "I.2").explanation == "khi chưa tối đa"
    assert c.items[2].kind == "trừ"
    assert c.award_rules[0].min_grade == "Xuất sắc" and c.award_rules[0].must_register
    assert c.award_rules[1].quota_rounding == "lên"
    assert c.unit("DV01").blockers == ("discipline",) and c.unit("DV02").blockers == ()
    assert c.history[0].kind == "xếp loại" and c.history[0].value == "Xuất sắc"
    assert c.history[1].kind == "khen thưởng" and c.history[1].value == "CO_TINH"  # the title, read as its code
    assert (c.settings.level, c.settings.na_policy, c.settings.allow_over_scale) == ("tỉnh", "quy_doi", False)
    assert c.settings.tie_break == ("nhom:I", "it_diem_tru")


def test_a_lower_case_grade_in_history_keeps_the_units_history_based_award(tmp_path, content):
    """`xuất sắc` typed in Lịch sử: DV01 still has two excellent years in a row and gets the certificate."""
    content["Lịch sử"][0]["value"] = "xuất sắc"
    c = load_checked(make_campaign(tmp_path, content) / "campaign.xlsx")
    r = ranking(c, ("DV02", 1, 99, 3), ("DV03", 2, 90, 0), ("DV01", 3, 97, 0))
    proposals, _ = propose(c, r, set(c.registrations))
    assert dict(zip(proposals["unit"], proposals["award_code"]))["DV01"] == "BK_TINH"


def test_a_value_that_means_nothing_is_rejected_at_its_cell(tmp_path, content):
    content["Khen thưởng"][1]["quota_rounding"] = "làm tròn"
    content["Lịch sử"][0]["value"] = "Giỏi"
    content["Đơn vị"][3]["complaint"] = "đang có"
    found = issues_of(tmp_path, content)
    assert found == sorted([("value_invalid", ERROR, "Khen thưởng", cell(A, "quota_rounding", 1)),
                            ("value_invalid", ERROR, "Lịch sử", cell(H, "value", 0)),
                            ("value_invalid", ERROR, "Đơn vị", cell(U, "complaint", 3))])


def test_column_names_say_what_the_rule_does():
    titles = {name: c.title for name, c in A.columns.items()}
    assert titles["min_vote_share"] == "Tỷ lệ phiếu suy tôn phải trên (%)"  # strictly more than: not "tối thiểu"
    from pipeline.campaign import SETTINGS
    assert "trên" in SETTINGS["leader_vote_share"][0]


# --- 1. the reform and the law by date ---------------------------------------------------------

def test_district_issuer_is_an_error_after_the_reform_and_right_before_it(tmp_path, content):
    content["Khen thưởng"][1]["issuer"] = "Chủ tịch UBND huyện"
    setting(content, "proposal_date", "2026-01-05")
    assert issues_of(tmp_path / "after", content) == [
        ("issuer_abolished", ERROR, "Khen thưởng", cell(A, "issuer", 1))]
    setting(content, "year", 2024)
    setting(content, "deadline", "2024-12-10")
    setting(content, "proposal_date", "2025-01-06")
    assert issues_of(tmp_path / "before", content) == []


def test_quan_su_and_co_quan_are_not_districts(tmp_path, content):
    content["Khen thưởng"][1]["issuer"] = "Chỉ huy trưởng Bộ Chỉ huy Quân sự tỉnh; Thủ trưởng cơ quan"
    assert issues_of(tmp_path, content) == []


def test_district_level_campaign_after_the_reform(tmp_path, content):
    setting(content, "level", "huyện")
    assert issues_of(tmp_path / "after", content) == [("level_abolished", ERROR, "Thiết lập", setting_cell(content, "level"))]
    setting(content, "proposal_date", "2025-06-20")
    assert issues_of(tmp_path / "before", content) == []


@pytest.mark.parametrize("signed, decree", [("2019-12-28", "91/2017"), ("2024-12-30", "98/2023"),
                                            ("2025-06-30", "98/2023"), ("2025-07-01", "152/2025"),
                                            ("2026-01-05", "152/2025")])
def test_the_legal_basis_follows_the_signing_date(tmp_path, content, signed, decree):
    setting(content, "year", int(signed[:4]))
    setting(content, "deadline", f"{signed[:4]}-12-10")
    setting(content, "proposal_date", signed)
    c = load_checked(make_campaign(tmp_path, content) / "campaign.xlsx")
    basis = legal_basis(c.settings)
    assert decree in basis and ("2003" in basis) == (decree == "91/2017")


def test_a_2019_campaign_citing_a_2025_decree_is_an_error_at_its_cell(tmp_path, content):
    setting(content, "year", 2019)
    setting(content, "deadline", "2019-12-10")
    setting(content, "legal_basis", "Luật Thi đua, khen thưởng năm 2022; Nghị định số 152/2025/NĐ-CP")
    assert issues_of(tmp_path / "bad", content) == [
        ("legal_basis_date", ERROR, "Thiết lập", setting_cell(content, "legal_basis"))]
    setting(content, "legal_basis", "Luật Thi đua, Khen thưởng năm 2003; Nghị định số 91/2017/NĐ-CP; Quyết định 12/2018/QĐ-UBND")
    assert issues_of(tmp_path / "good", content) == []
    c = load_checked(make_campaign(tmp_path / "good2", content) / "campaign.xlsx")
    assert legal_basis(c.settings).startswith("Luật Thi đua, Khen thưởng năm 2003")  # the officer's words


def _year_end(root: Path, year: int, proposal_date: str | None) -> tuple[dict, dict]:
    """A small campaign ranked end to end: every text cell of results-<year>.xlsx and proposal-<year>.xlsx."""
    rows = f.content()
    setting(rows, "year", year)
    setting(rows, "deadline", f"{year}-12-10")
    setting(rows, "proposal_date", proposal_date)
    rows["Khen thưởng"].append({"code": "GIAY_KHEN", "award": "Giấy khen", "issuer": "Giám đốc Sở Nội vụ",
                                "issuer_before_reform": "Chủ tịch UBND huyện", "priority": 3, "rank_from": 1,
                                "rank_to": 5, "min_grade": "Khá"})
    rows["Lịch sử"] = []
    campaign = f.make_campaign(root, rows)
    f.fill_inbox(root, campaign)
    run_collect(root)
    run_rank(root)
    texts = {}
    for name in (f"results-{year}.xlsx", f"proposal-{year}.xlsx"):
        wb = openpyxl.load_workbook(root / "out" / name, read_only=True)
        texts[name] = " | ".join(str(v) for ws in wb for row in ws.iter_rows(values_only=True) for v in row
                                 if isinstance(v, str))
    return texts


def test_a_campaign_before_2024_and_one_after_the_reform_quote_their_law_and_issuers(tmp_path):
    """The reasons (results workbook) quote the law of the signing date; both workbooks name the issuer of that
    date and never a decree of another period. (The printed proposal carries no reasons.)"""
    before = _year_end(tmp_path / "y2019" / "CAMPAIGN", 2019, "2020-01-06")
    assert "91/2017" in before["results-2019.xlsx"] and "Khen thưởng năm 2003" in before["results-2019.xlsx"]
    for name, text in before.items():
        assert "152/2025" not in text and "98/2023" not in text, name
        assert "huyện" in text and "Giám đốc Sở Nội vụ" not in text, name  # (printed: Ủy ban nhân dân in full)
    after = _year_end(tmp_path / "y2026" / "CAMPAIGN", 2026, "2027-01-05")
    assert "152/2025" in after["results-2026.xlsx"] and "năm 2022" in after["results-2026.xlsx"]
    for name, text in after.items():
        assert "91/2017" not in text and "98/2023" not in text, name
        assert "Giám đốc Sở Nội vụ" in text and "huyện" not in text, name


# --- 2. award codes belong to the campaign -----------------------------------------------------

def test_the_campaign_defines_its_own_award_codes(tmp_path, content):
    """Two kinds of Giấy khen from different issuers and a ministry's flag: registrations and history use them."""
    content["Khen thưởng"] = [
        {"code": "CO_BO_NV", "award": "Cờ thi đua của Bộ Nội vụ", "issuer": "Bộ trưởng Bộ Nội vụ", "priority": 1,
         "rank_from": 1, "rank_to": 1, "must_register": "x"},
        {"code": "GK_SO", "award": "Giấy khen của Giám đốc Sở", "issuer": "Giám đốc Sở Nội vụ", "priority": 2,
         "rank_from": 2, "rank_to": 2, "conditions": "da_nhan=GK_XA"},
        {"code": "GK_XA", "award": "Giấy khen của Chủ tịch UBND xã", "issuer": "Chủ tịch UBND xã", "priority": 3,
         "rank_from": 3, "rank_to": 3},
    ]
    content["Đăng ký"] = [{"unit": "DV01", "award": "co_bo_nv"}, {"unit": "DV02", "award": "Giấy khen của Chủ tịch UBND xã"}]
    content["Lịch sử"] = [{"unit": "DV02", "year": 2025, "kind": "khen thưởng", "value": "GK_XA"}]
    c, issues = load_campaign(make_campaign(tmp_path, content) / "campaign.xlsx")
    assert issues == []
    assert list(c.awards) == ["CO_BO_NV", "GK_SO", "GK_XA"]
    assert set(c.registrations) == {("DV01", "CO_BO_NV"), ("DV02", "GK_XA")}
    r = ranking(c, ("DV01", 1, 99, 3), ("DV02", 2, 96, 0), ("DV03", 3, 90, 0))
    proposals, held = propose(c, r, set(c.registrations))
    got = dict(zip(proposals["unit"], proposals["award_code"]))
    assert got == {"DV01": "CO_BO_NV", "DV02": "GK_SO", "DV03": "GK_XA"}
    assert set(zip(proposals["unit"], proposals["issuer"])) >= {("DV02", "Giám đốc Sở Nội vụ")}


def test_a_registration_for_a_code_no_rule_gives_is_an_error_at_its_cell(tmp_path, content):
    content["Đăng ký"].append({"unit": "DV02", "award": "GK_SO"})
    assert issues_of(tmp_path, content) == [("award_unknown", ERROR, "Đăng ký", cell(R, "award", 2))]


def test_the_masters_award_code_dropdown_only_suggests():
    wb = openpyxl.load_workbook(MASTER)
    rules = wb["Khen thưởng"].data_validations.dataValidation
    code = [v for v in rules if "A2" in str(v.sqref)]
    assert code and code[0].errorStyle == "information" and "CO_TINH" in code[0].formula1
    reg = [v for v in wb["Đăng ký"].data_validations.dataValidation if "B2" in str(v.sqref)]
    assert reg and "Khen thưởng" in reg[0].formula1 and reg[0].errorStyle == "warning"


# --- 3. registration means what officers mean --------------------------------------------------

def _warnings(tmp_path, content, *rows) -> dict[str, str]:
    c = load_checked(make_campaign(tmp_path, content) / "campaign.xlsx")
    proposals, _ = propose(c, ranking(c, *rows), set(c.registrations))
    return {u: w for u, w in zip(proposals["unit"], proposals["warning"]) if w}


def test_registration_not_in_use_gives_no_warning_on_every_proposal(tmp_path, content):
    content["Đăng ký"] = []
    content["Khen thưởng"][0]["must_register"] = None
    assert _warnings(tmp_path, content, ("DV01", 1, 99, 3), ("DV02", 2, 90, 0), ("DV03", 3, 88, 0)) == {}


def test_registered_for_the_flag_and_proposed_a_certificate_is_no_warning_the_reverse_is(tmp_path, content):
    content["Khen thưởng"][1]["conditions"] = None
    content["Khen thưởng"][0]["must_register"] = None
    content["Đăng ký"] = [{"unit": "DV02", "award": "CO_TINH"}, {"unit": "DV01", "award": "BK_TINH"}]
    warned = _warnings(tmp_path, content, ("DV01", 1, 99, 3), ("DV02", 2, 90, 0))
    assert set(warned) == {"DV01"}  # proposed the flag, registered only the certificate


# --- 7. the master's examples cannot leak ------------------------------------------------------

def _without_examples(src: Path, dst: Path) -> Path:
    """The master as an officer empties it: every row holding an example mark or an example unit deleted."""
    wb = openpyxl.load_workbook(src)
    for ws in wb.worksheets[1:]:
        doomed = [row[0].row for row in ws.iter_rows(min_row=2)
                  if any(isinstance(c.value, str) and ("(ví dụ)" in c.value or re.fullmatch(r"VD\d*", c.value))
                         for c in row)]
        for r in reversed(doomed):
            ws.delete_rows(r)
    dst.parent.mkdir(parents=True, exist_ok=True)
    wb.save(dst)
    return dst


def test_check_on_the_blank_master_with_its_examples_removed_exits_0(tmp_path):
    folder = tmp_path / "blank"
    _without_examples(MASTER, folder / "campaign.xlsx")
    result = CliRunner().invoke(main, ["check", str(folder)])
    assert result.exit_code == 0, result.output


def test_an_example_history_row_left_after_the_units_were_replaced_is_reported(tmp_path):
    content = marked(EXAMPLE)
    content["Khối"] = small_content()["Khối"]
    content["Đơn vị"] = small_content()["Đơn vị"]
    content["Tiêu chí"], content["Thưởng - Trừ"] = small_content()["Tiêu chí"], small_content()["Thưởng - Trừ"]
    content["Khen thưởng"] = small_content()["Khen thưởng"]
    content["Đăng ký"] = []
    found = issues_of(tmp_path, content)  # the Lịch sử example (VD01) stayed
    assert ("example_row", ERROR, "Lịch sử", cell(H, "unit", 0)) in found


# --- 8. messages read as Vietnamese sentences --------------------------------------------------

REPR = re.compile(r"\('|\['|\{'|', '|\bNone\b|\bnan\b|\d\.0\b")


def test_no_python_reprs_in_covenant_messages(tmp_path, content):
    content["Đơn vị"][3]["discipline"] = "ok"
    content["Tiêu chí"][2]["kind"] = "điểm số"
    content["Tiêu chí"][2]["explanation"] = "đôi khi"
    content["Khen thưởng"][1]["top_share"] = 150
    content["Khen thưởng"][1]["quota_rounding"] = "tròn"
    content["Lịch sử"][0]["revoked"] = "rồi"
    setting(content, "na_policy", "bỏ")
    setting(content, "tie_break", "ngẫu nhiên")
    _, issues = load_campaign(make_campaign(tmp_path, content) / "campaign.xlsx")
    assert len(issues) >= 8
    for i in issues:
        assert not REPR.search(i.message()), i.message()
    discipline = next(i for i in issues if i.cell == cell(U, "discipline", 3))
    assert discipline.message().endswith("phải là “x”, “có”, “không” hoặc để trống")
    top = next(i for i in issues if i.cell == cell(A, "top_share", 1))
    assert "“150”" in top.message() and "từ 0 đến 100" in top.message()


# --- 6. rank says what it could not use --------------------------------------------------------

def test_rank_warns_of_missing_misplaced_and_stale_reviews_and_missing_ballots(tmp_path):
    root = tmp_path / "CAMPAIGN"
    campaign = f.make_campaign(root)
    late = f.NO_RETURN  # B05 sends nothing until after the review was made
    f.fill_inbox(root, campaign)
    run_collect(root)
    run_review(root, f.GENERATED_AT)
    out = root / "out" / "review"
    # K1's head fills the workbook where thidua wrote it (out/review/), not in review/
    edit(out / "K1.xlsx", out / "K1.xlsx", votes={V.LEADER: {"A01": 4}},
         counts={V.PRESENT: 5, V.ISSUED: 5, V.VALID: 5})
    # K2's review is completed in review/, without a ballot; then B05's return arrives
    edit(out / "K2.xlsx", root / "review" / "K2.xlsx", scores={("B01", "I.2"): 18.5})
    f.write_return(root / "inbox" / "B05.xlsx", campaign, late, f.RETURNS["B04"].fill())
    run_collect(root)
    result = CliRunner().invoke(main, ["rank", str(root)])
    assert result.exit_code == 0, result.output
    _, v, _, _ = run_rank(root)
    mine = {(i.code, i.params.get("bloc"), i.unit) for i in v.issues
            if i.code in ("review_missing", "review_wrong_folder", "review_unit_missing", "ballot_missing")}
    assert mine == {("review_wrong_folder", "K1", ""), ("review_unit_missing", "K2", late), ("ballot_missing", "K2", "")}
    for code in ("review_wrong_folder", "review_unit_missing", "ballot_missing"):
        assert code in result.output
    lines = f.table(root / "out" / "results-2026.xlsx", "Lỗi", ["Mã đơn vị", "Tệp", "Mã lỗi", "Mức độ", "Nội dung"])
    assert {r["Mã lỗi"] for r in lines} >= {"review_wrong_folder", "review_unit_missing", "ballot_missing"}
    assert all(r["Mức độ"] == "Cảnh báo" for r in lines
               if r["Mã lỗi"] in ("review_wrong_folder", "review_unit_missing", "ballot_missing"))
    # `thidua review` again pre-fills out/review/K2.xlsx from review/: that is not a review in the wrong folder
    run_review(root, f.GENERATED_AT)
    _, v, _, _ = run_rank(root)
    assert not [i for i in v.issues if i.code == "review_wrong_folder" and i.params.get("bloc") == "K2"]


def test_rank_warns_when_no_bloc_has_a_review_or_a_ballot(tmp_path):
    root = tmp_path / "CAMPAIGN"
    campaign = f.make_campaign(root)
    f.fill_inbox(root, campaign)
    run_collect(root)
    _, v, _, _ = run_rank(root)
    mine = sorted((i.code, i.params.get("bloc")) for i in v.issues if i.code in ("review_missing", "ballot_missing"))
    assert mine == [("ballot_missing", "K1"), ("ballot_missing", "K2"), ("review_missing", "K1"), ("review_missing", "K2")]
    assert all(i.severity == WARNING for i in v.issues if i.code in ("review_missing", "ballot_missing"))


# --- 9. installable as a package ---------------------------------------------------------------

def test_pip_install_into_a_clean_venv_gives_a_working_new_and_templates(tmp_path):
    """A wheel built from a copy of the sources (the checkout stays clean), installed without its dependencies
    into a fresh venv that borrows them from this one: `thidua new` copies the packaged master, and `templates`
    works once the officer has made the examples the campaign's own."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    for name in ("pipeline", "schemas", "templates"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", ".", "--no-deps", "-w", str(tmp_path / "wheel")], cwd=src, check=True,
                   capture_output=True, timeout=300)
    wheel = next((tmp_path / "wheel").glob("thidua-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")  # pandas & co., not thidua
    subprocess.run([*pip, "--python", str(python), "install", "--no-deps", str(wheel)], check=True,
                   capture_output=True, timeout=300)
    thidua = venv / "bin" / "thidua"
    env = {**os.environ, "PYTHONPATH": ""}
    run = lambda *a: subprocess.run([str(thidua), *map(str, a)], cwd=tmp_path, env=env, capture_output=True,  # noqa: E731
                                    text=True, timeout=300)
    where = subprocess.run([python, "-c", "import pipeline.cli as c; print(c.__file__); print(c.MASTER)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True).stdout.split()
    assert where[0].startswith(site) and where[1].startswith(site)  # the installed copy, not the checkout
    made = run("new", tmp_path / "ktd")
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "ktd" / "campaign.xlsx").read_bytes() == MASTER.read_bytes()
    assert run("check", tmp_path / "ktd").returncode == 1  # the examples are still there
    # the officer makes the examples the campaign's own
    write_campaign(tmp_path / "ktd" / "campaign.xlsx", small_content())
    assert run("check", tmp_path / "ktd").returncode == 0
    done = run("templates", tmp_path / "ktd")
    assert done.returncode == 0, done.stderr
    assert len(list((tmp_path / "ktd" / "out" / "templates").rglob("*.xlsx"))) == 6


def test_a_registration_form_for_a_campaign_code_registers_it(tmp_path, content):
    """The start-of-year form lists the campaign's own codes; ticking one registers it, no `award_unknown`."""
    from pipeline.registration import check_registration, read_registration, write_registration
    content["Khen thưởng"][1]["code"] = "GK_SO"
    content["Đăng ký"] = [{"unit": "DV01", "award": "CO_TINH"}]
    c = load_checked(make_campaign(tmp_path, content) / "campaign.xlsx")
    form = write_registration(tmp_path / "form.xlsx", c, c.unit("DV02"), f.GENERATED_AT, {"awards": {"GK_SO": "x"}})
    issues, awards = check_registration(c, read_registration(form))
    assert awards == {"GK_SO"} and not [i for i in issues if i.code == "award_unknown"]
