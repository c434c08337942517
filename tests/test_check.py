"""Covenant check: good campaigns have no issues; each planted fault is reported with its code, sheet and cell."""
from __future__ import annotations

import io
import re
import string
import zipfile
from pathlib import Path

import openpyxl
import pytest

import pipeline.check
from pipeline.campaign import SETTINGS
from pipeline.campaign_book import EXAMPLE, marked, write_campaign
from pipeline.check import load_campaign, load_checked
from pipeline.issues import ERROR, MESSAGES, WARNING, Issue, ThiduaError
from schemas import campaign as S

from conftest import MASTER, SAMPLE, cell, make_campaign, small_content


def triples(issues: list[Issue]) -> list[tuple[str, str, str, str]]:
    return sorted((i.code, i.severity, i.sheet, i.cell) for i in issues)


# --- good campaigns --------------------------------------------------------------------------

def test_sample_campaign_has_no_issues():
    campaign, issues = load_campaign(SAMPLE / "campaign.xlsx")
    assert issues == []
    assert campaign is not None
    assert len(campaign.units) == 31 and {b.code for b in campaign.blocs} == {"NC", "KT", "VX", "DN"}


def test_master_campaign_has_only_its_marked_examples():
    """Every example row of the blank master is marked, so `check` names each one and nothing else."""
    campaign, issues = load_campaign(MASTER)
    assert campaign is not None and campaign.settings.campaign_id == "KTD-2026"
    assert issues and {i.code for i in issues} == {"example_row"}
    assert {i.sheet for i in issues} == {"Khối", "Đơn vị", "Tiêu chí", "Thưởng - Trừ", "Khen thưởng", "Lịch sử", "Đăng ký"}


def test_master_is_the_example_content(tmp_path):
    """The shipped blank master reads back as the marked EXAMPLE rows it is built from (`make master`)."""
    fresh = make_campaign(tmp_path, marked(EXAMPLE)) / "campaign.xlsx"
    assert load_campaign(MASTER)[0] == load_campaign(fresh)[0]
    assert MASTER.read_bytes() == fresh.read_bytes()


def test_small_campaign_is_valid_and_complete(campaign_dir):
    campaign, issues = load_campaign(campaign_dir / "campaign.xlsx")
    assert issues == []
    assert [b.code for b in campaign.blocs] == ["K1", "K2"]
    assert [u.code for u in campaign.members("K2")] == ["DV04", "DV05", "DV06"]
    assert {k.kind for k in campaign.leaves} == set(S.KINDS)
    assert campaign.unit("DV05").blockers == ("investigation",)
    i3a = next(k for k in campaign.criteria if k.code == "I.3.a")
    assert i3a.applies_to == ("K2", "DV01")
    assert [campaign.applies(i3a, u) for u in campaign.units] == [True, False, False, True, True, True]
    assert campaign.award_rules[1].conditions == (("lien_tuc_xuat_sac", "2"),)


def test_write_campaign_is_byte_identical(tmp_path, content):
    a = write_campaign(tmp_path / "a" / "campaign.xlsx", content).read_bytes()
    b = write_campaign(tmp_path / "b" / "campaign.xlsx", content).read_bytes()
    assert a == b


# --- planted faults --------------------------------------------------------------------------

def set_row(sheet: str, index: int, **values):
    def mutate(content):
        content[sheet][index].update(values)
    return mutate


def add_row(sheet: str, row: dict):
    def mutate(content):
        content[sheet].append(row)
    return mutate


def set_setting(key: str, value):
    def mutate(content):
        rows = content["Thiết lập"]
        row = next(r for r in rows if r["key"] == key)
        row["value"] = value
    return mutate


def both(*mutations):
    def mutate(content):
        for m in mutations:
            m(content)
    return mutate


def drop_setting(key: str):
    def mutate(content):
        content["Thiết lập"] = [r for r in content["Thiết lập"] if r["key"] != key]
    return mutate


def setting_cell(key: str) -> str:
    """Settings are written in the order of pipeline.campaign.SETTINGS, only the keys given."""
    given = {r["key"] for r in small_content()["Thiết lập"]}
    order = [k for k in SETTINGS if k in given]
    return cell(S.SETTINGS, "value", order.index(key))


def delete_sheet(name: str):
    def post(path):
        wb = openpyxl.load_workbook(path)
        del wb[name]
        wb.save(path)
    return post


def rename_header(sheet: str, old: str, new: str):
    def post(path):
        wb = openpyxl.load_workbook(path)
        ws = wb[sheet]
        hit = [c for c in ws[1] if c.value == old]
        assert len(hit) == 1
        hit[0].value = new
        wb.save(path)
    return post


U, B, K, I, A, R, H = S.UNITS, S.BLOCS, S.CRITERIA, S.ITEMS, S.AWARD_RULES, S.REGISTRATIONS, S.HISTORY

# id -> (mutation of the content, mutation of the written file, expected (code, severity, sheet, cell) list)
FAULTS = {
    "unit_in_unknown_bloc": (set_row("Đơn vị", 5, bloc="K9"), None,
                             [("unknown_bloc", ERROR, "Đơn vị", cell(U, "bloc", 5))]),
    "head_not_member": (set_row("Khối", 0, head="DV04"), None,
                        [("head_not_member", ERROR, "Khối", cell(B, "head", 0))]),
    "deputy_not_member": (set_row("Khối", 1, deputy="DV01"), None,
                          [("head_not_member", ERROR, "Khối", cell(B, "deputy", 1))]),
    "head_is_deputy": (set_row("Khối", 0, deputy="DV01"), None,
                       [("head_is_deputy", ERROR, "Khối", cell(B, "deputy", 0))]),
    "empty_bloc": (add_row("Khối", {"code": "K3", "name": "Khối không có đơn vị"}), None,
                   [("empty_bloc", ERROR, "Khối", cell(B, "code", 2))]),
    "duplicate_criterion_code": (set_row("Tiêu chí", 5, code="I.3.a"), None,
                                 [("duplicate", ERROR, "Tiêu chí", cell(K, "code", 4)),
                                  ("duplicate", ERROR, "Tiêu chí", cell(K, "code", 5))]),
    "orphan_criterion": (add_row("Tiêu chí", {"code": "I.9.a", "group": "I", "text": "Mục không có cha", "kind": "điểm",
                                              "max": 5, "step": 1}), None,
                         [("criterion_orphan", ERROR, "Tiêu chí", cell(K, "code", 12))]),
    "wrong_group": (set_row("Tiêu chí", 2, group="II"), None,
                    [("criterion_group", ERROR, "Tiêu chí", cell(K, "group", 2))]),
    "leaf_without_kind": (set_row("Tiêu chí", 10, kind=None), None,
                          [("criterion_kind", ERROR, "Tiêu chí", cell(K, "kind", 10))]),
    "group_with_kind": (set_row("Tiêu chí", 0, kind="điểm"), None,
                        [("criterion_kind", ERROR, "Tiêu chí", cell(K, "kind", 0))]),
    "children_not_summing": (set_row("Tiêu chí", 5, max=8), None,
                             [("sum_mismatch", ERROR, "Tiêu chí", cell(K, "max", 3))]),
    "groups_not_summing_to_scale": (set_setting("scale", 90), None,
                                    [("scale_mismatch", ERROR, "Tiêu chí", cell(K, "max", 0))]),
    "step_not_dividing_max": (set_row("Tiêu chí", 2, step=0.3), None,
                              [("step_divides", ERROR, "Tiêu chí", cell(K, "step", 2))]),
    "deduction_without_step": (set_row("Tiêu chí", 11, step=None), None,
                               [("step_missing", ERROR, "Tiêu chí", cell(K, "step", 11))]),
    "target_kind_without_target": (set_row("Tiêu chí", 1, target=None), None,
                                   [("target_missing", ERROR, "Tiêu chí", cell(K, "target", 1))]),
    "applies_to_unknown_code": (set_row("Tiêu chí", 4, applies_to="K2, ZZ9"), None,
                                [("applies_unknown", ERROR, "Tiêu chí", cell(K, "applies_to", 4))]),
    "item_cap_below_points": (set_row("Thưởng - Trừ", 1, cap=0.25), None,
                              [("item_cap", ERROR, "Thưởng - Trừ", cell(I, "cap", 1))]),
    "award_code_with_spaces": (set_row("Khen thưởng", 1, code="BK TINH!"), None,
                               [("value_invalid", ERROR, "Khen thưởng", cell(A, "code", 1)),
                                ("award_unknown", ERROR, "Đăng ký", cell(R, "award", 1))]),
    "unknown_registered_award": (set_row("Đăng ký", 1, award="HUAN_CHUONG"), None,
                                 [("award_unknown", ERROR, "Đăng ký", cell(R, "award", 1))]),
    "bad_condition_value": (set_row("Khen thưởng", 1, conditions="lien_tuc_xuat_sac=hai"), None,
                            [("condition_invalid", ERROR, "Khen thưởng", cell(A, "conditions", 1))]),
    "unknown_condition": (set_row("Khen thưởng", 1, conditions="da_nhan=CO_TINH; moi_nam=1"), None,
                          [("condition_invalid", ERROR, "Khen thưởng", cell(A, "conditions", 1))]),
    "rank_from_after_rank_to": (set_row("Khen thưởng", 1, rank_from=4, rank_to=2), None,
                                [("rank_range", ERROR, "Khen thưởng", cell(A, "rank_to", 1))]),
    "quota_and_quota_share": (set_row("Khen thưởng", 0, quota_share=10), None,
                              [("quota_both", ERROR, "Khen thưởng", cell(A, "quota_share", 0))]),
    "text_in_number_column": (set_row("Tiêu chí", 2, step="mười"), None,
                              [("not_a_number", ERROR, "Tiêu chí", cell(K, "step", 2))]),
    "invalid_kind": (set_row("Tiêu chí", 2, kind="điểm số"), None,
                     [("value_invalid", ERROR, "Tiêu chí", cell(K, "kind", 2))]),
    "invalid_unit_flag": (set_row("Đơn vị", 3, discipline="ok"), None,
                          [("value_invalid", ERROR, "Đơn vị", cell(U, "discipline", 3))]),
    "blank_required_value": (set_row("Đơn vị", 2, name=None), None,
                             [("value_required", ERROR, "Đơn vị", cell(U, "name", 2))]),
    "registration_for_unknown_unit": (set_row("Đăng ký", 1, unit="DV99"), None,
                                      [("unknown_unit", ERROR, "Đăng ký", cell(R, "unit", 1))]),
    "history_of_unknown_unit_warns": (set_row("Lịch sử", 1, unit="DV99"), None,
                                      [("unknown_unit", WARNING, "Lịch sử", cell(H, "unit", 1))]),
    "history_grade_that_is_no_grade": (set_row("Lịch sử", 0, value="Giỏi"), None,
                                       [("value_invalid", ERROR, "Lịch sử", cell(H, "value", 0))]),
    "history_award_that_is_no_award_warns": (both(set_row("Khen thưởng", 1, conditions="da_nhan=CO_TINH"),
                                                  set_row("Lịch sử", 1, value="Cờ thi đua tỉnh")), None,
                                             [("history_award_unknown", WARNING, "Lịch sử", cell(H, "value", 1))]),
    "example_unit_left_in": (set_row("Đơn vị", 2, name="Sở Tư pháp (ví dụ)"), None,
                             [("example_row", ERROR, "Đơn vị", cell(U, "name", 2))]),
    "district_issuer_after_reform": (set_row("Khen thưởng", 1, issuer="Chủ tịch UBND huyện"), None,
                                     [("issuer_abolished", ERROR, "Khen thưởng", cell(A, "issuer", 1))]),
    "district_level_after_reform": (set_setting("level", "Huyện"), None,
                                    [("level_abolished", ERROR, "Thiết lập", setting_cell("level"))]),
    "legal_basis_not_in_force": (set_setting("legal_basis", "Nghị định số 91/2017/NĐ-CP"), None,
                                 [("legal_basis_date", ERROR, "Thiết lập", setting_cell("legal_basis"))]),
    "sheet_missing": (None, delete_sheet("Khen thưởng"),
                      [("sheet_missing", ERROR, "Khen thưởng", "")]),
    "header_renamed": (None, rename_header("Tiêu chí", "Điểm tối đa", "Điểm"),
                       [("header_missing", ERROR, "Tiêu chí", "A1")]),
    "setting_blank": (set_setting("campaign_id", None), None,
                      [("setting_missing", ERROR, "Thiết lập", setting_cell("campaign_id"))]),
    "setting_row_missing": (drop_setting("issuing_body"), None,
                            [("setting_missing", ERROR, "Thiết lập", "")]),
    "setting_invalid_choice": (set_setting("level", "quốc gia"), None,
                               [("setting_invalid", ERROR, "Thiết lập", setting_cell("level"))]),
    "setting_invalid_date": (set_setting("deadline", "31/02/2026"), None,
                             [("setting_invalid", ERROR, "Thiết lập", setting_cell("deadline"))]),
    "setting_invalid_number": (set_setting("year", "hai nghìn"), None,
                               [("setting_invalid", ERROR, "Thiết lập", setting_cell("year"))]),
    "unit_without_email_warns": (set_row("Đơn vị", 2, email=None), None,
                                 [("email_missing", WARNING, "Đơn vị", cell(U, "email", 2))]),
    "two_units_one_email_warns": (set_row("Đơn vị", 4, email="snv@example.gov.vn"), None,
                                  [("email_shared", WARNING, "Đơn vị", cell(U, "email", 4))]),
    "invalid_sender_address": (set_setting("mail_from", "thiduakhenthuong"), None,
                               [("setting_invalid", ERROR, "Thiết lập", setting_cell("mail_from"))]),
    "invalid_trusted_address": (set_setting("mail_trusted", "a@tinh.gov.vn; truong khoi"), None,
                                [("setting_invalid", ERROR, "Thiết lập", setting_cell("mail_trusted"))]),
    "invalid_smtp_security": (set_setting("smtp_security", "tls"), None,
                              [("setting_invalid", ERROR, "Thiết lập", setting_cell("smtp_security"))]),
    "invalid_smtp_port": (set_setting("smtp_port", 70000), None,
                          [("setting_invalid", ERROR, "Thiết lập", setting_cell("smtp_port"))]),
    "doc_code_blank_warns": (set_setting("doc_code", None), None,
                             [("doc_code_derived", WARNING, "Thiết lập", setting_cell("doc_code"))]),
    "doc_code_row_missing_warns_at_the_issuing_body": (drop_setting("doc_code"), None,
                                                      [("doc_code_derived", WARNING, "Thiết lập",
                                                        setting_cell("issuing_body"))]),
    "doc_code_with_spaces": (set_setting("doc_code", "Sở Nội vụ"), None,
                             [("setting_invalid", ERROR, "Thiết lập", setting_cell("doc_code"))]),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_planted_fault_is_reported_at_its_cell(tmp_path, fault):
    mutate, post, expected = FAULTS[fault]
    content = small_content()
    if mutate:
        mutate(content)
    path = make_campaign(tmp_path, content) / "campaign.xlsx"
    if post:
        post(path)
    campaign, issues = load_campaign(path)
    assert triples(issues) == sorted(expected)
    assert all(i.file == "campaign.xlsx" for i in issues)
    for i in issues:  # every message template gets all its placeholders
        assert i.message("vi") and i.message("en")
    if any(i.severity == ERROR for i in issues):
        with pytest.raises(ThiduaError):
            load_checked(path)
    else:
        assert load_checked(path) is not None


def _covenant_codes() -> set[str]:
    """Every issue code the covenant check can raise, read off its source (Issue("code", ...) and at("code", ...))."""
    root = Path(pipeline.check.__file__).parent
    src = "".join((root / name).read_text(encoding="utf-8") for name in ("check.py", "campaign.py", "workbook.py"))
    return set(re.findall(r"\b(?:Issue|at)\(\s*\"([a-z_]+)\"", src))


def test_faults_cover_every_covenant_code():
    """Each code the covenant check can report is planted above (so its messages are formatted) and has messages."""
    codes = _covenant_codes()
    assert "head_not_member" in codes and "not_a_number" in codes  # the scan itself works
    assert codes <= set(MESSAGES)
    produced = {code for _, _, expected in FAULTS.values() for code, *_ in expected}
    assert codes <= produced


@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_vietnamese_and_english_messages_share_placeholders(code):
    vi, en = MESSAGES[code]
    fields = lambda s: {f for _, f, _, _ in string.Formatter().parse(s) if f}  # noqa: E731
    assert fields(vi) == fields(en)


def test_missing_criteria_sheet_gives_no_campaign(tmp_path, content):
    path = make_campaign(tmp_path, content) / "campaign.xlsx"
    delete_sheet("Tiêu chí")(path)
    campaign, issues = load_campaign(path)
    assert campaign is None
    assert triples(issues) == [("sheet_missing", ERROR, "Tiêu chí", "")]


def test_several_faults_are_all_reported(tmp_path, content):
    set_row("Khối", 0, head="DV04")(content)
    set_row("Tiêu chí", 2, step=0.3)(content)
    set_row("Khen thưởng", 1, rank_from=4, rank_to=2)(content)
    campaign, issues = load_campaign(make_campaign(tmp_path, content) / "campaign.xlsx")
    assert {(i.code, i.cell) for i in issues} == {("head_not_member", "C2"), ("step_divides", "F4"), ("rank_range", "G3")}


ROW_BY_FIRST_KEY = pytest.mark.xfail(
    strict=True,
    reason="BUG: pipeline/check.py _At.__call__ points at the FIRST row whose key column matches "
           "(table.frame.index[frame[key_column] == key][0]); award rules are keyed by their code, which may repeat "
           "(the sample has BK_TINH twice), and registrations by unit, so a fault in a later row is reported "
           "at an earlier, correct row")


def test_fault_in_second_rule_with_the_same_award_code_points_at_that_rule(tmp_path, content):
    rules = content["Khen thưởng"]
    rules.append({**rules[1], "rank_from": None, "rank_to": None, "quota_share": None,
                  "conditions": "lien_tuc_xuat_sac=x"})  # a second BK_TINH rule, with a bad condition
    campaign, issues = load_campaign(make_campaign(tmp_path, content) / "campaign.xlsx")
    assert triples(issues) == [("condition_invalid", ERROR, "Khen thưởng", cell(A, "conditions", 2))]


def test_unknown_award_in_a_units_second_registration_points_at_that_row(tmp_path, content):
    content["Đăng ký"].append({"unit": "DV01", "award": "HUAN_CHUONG"})
    campaign, issues = load_campaign(make_campaign(tmp_path, content) / "campaign.xlsx")
    assert triples(issues) == [("award_unknown", ERROR, "Đăng ký", cell(R, "award", 2))]


def test_decimal_comma_text_in_covenant_is_a_number(tmp_path, content):
    set_row("Tiêu chí", 2, step="0,5")(content)
    campaign, issues = load_campaign(make_campaign(tmp_path, content) / "campaign.xlsx")
    assert issues == []
    assert next(k for k in campaign.criteria if k.code == "I.2").step == 0.5


# --- files that are not workbooks ------------------------------------------------------------

def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buf.getvalue()


def _rezip(source: bytes, change) -> bytes:
    """A copy of an xlsx with its parts changed by `change(name, data) -> data | None` (None drops the part)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(source)) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            data = change(info.filename, zin.read(info.filename))
            if data is not None:
                zout.writestr(info, data)
    return out.getvalue()


def _sheet_part(source: bytes, sheet: str) -> str:
    """The zip part holding `sheet` (xlsxwriter numbers them in order of creation)."""
    names = openpyxl.load_workbook(io.BytesIO(source), read_only=True).sheetnames
    return f"xl/worksheets/sheet{names.index(sheet) + 1}.xml"


NOT_WORKBOOKS = {
    "empty": lambda good: b"",
    "plain_text": lambda good: "Mã,Tên\nDV01,Sở Nội vụ\n".encode(),
    "binary_noise": lambda good: bytes(range(256)) * 20,
    "truncated_xlsx": lambda good: good[: len(good) // 2],
    "zip_without_workbook": lambda good: _zip({"readme.txt": b"not a workbook"}),
    "pdf": lambda good: b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n",
}


@pytest.mark.parametrize("kind", list(NOT_WORKBOOKS))
def test_file_that_is_not_a_workbook_raises_thidua_error(tmp_path, kind):
    good = make_campaign(tmp_path / "good", small_content()) / "campaign.xlsx"
    bad = tmp_path / "campaign.xlsx"
    bad.write_bytes(NOT_WORKBOOKS[kind](good.read_bytes()))
    with pytest.raises(ThiduaError):
        load_campaign(bad)
    with pytest.raises(ThiduaError):
        load_checked(bad)


CORRUPT_PARTS = {
    "broken_sheet_xml": lambda good: _rezip(good, lambda n, d: d[: len(d) // 2] if n == _sheet_part(good, "Tiêu chí") else d),
    "shared_strings_missing": lambda good: _rezip(good, lambda n, d: None if n == "xl/sharedStrings.xml" else d),
}


@pytest.mark.parametrize("kind", sorted(CORRUPT_PARTS))
def test_workbook_with_corrupt_part_raises_thidua_error(tmp_path, kind):
    good = make_campaign(tmp_path / "good", small_content()) / "campaign.xlsx"
    bad = tmp_path / "campaign.xlsx"
    bad.write_bytes(CORRUPT_PARTS[kind](good.read_bytes()))
    with pytest.raises(ThiduaError):
        load_campaign(bad)


def test_missing_file_raises_thidua_error(tmp_path):
    with pytest.raises(ThiduaError):
        load_campaign(tmp_path / "nowhere" / "campaign.xlsx")
