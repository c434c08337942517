"""Command line through click's CliRunner: exit codes, what is printed, and the files written."""
from __future__ import annotations

import datetime as dt
import io
import os
import zipfile

import openpyxl
import pytest
from click.testing import CliRunner

from pipeline.cli import main

from conftest import MASTER, make_campaign, small_content

# What each subcommand's help must say it reads or writes.
MENTIONS = {
    "new": ["campaign.xlsx", "inbox/", "review/"],
    "check": ["campaign.xlsx"],
    "templates": ["campaign.xlsx", "out/templates/<bloc>/<unit>.xlsx"],
    "collect": ["inbox/", "out/submissions/"],
    "status": ["out/submissions/"],
    "validate": ["out/submissions/", "out/validation.xlsx"],
    "rank": ["out/results-<year>.xlsx", "out/proposal-<year>.xlsx", "CAMPAIGN/review/"],
    "review": ["out/review/<bloc>.xlsx", "CAMPAIGN/review/"],
}
EPOCH = 1763627400  # 2025-11-20 08:30:00 UTC


def run(*args, env=None):
    return CliRunner().invoke(main, [str(a) for a in args], env=env)


def assert_clean(result):
    """No Python exception escaped: the command ended through sys.exit, never a traceback."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output


def broken_campaign(tmp_path):
    c = small_content()
    c["Khối"][0]["head"] = "DV04"  # a head unit from another bloc: head_not_member at Khối!C2
    return make_campaign(tmp_path, c)


# --- help ------------------------------------------------------------------------------------

def test_main_help_lists_the_commands_and_the_folder():
    result = run("--help")
    assert result.exit_code == 0
    assert_clean(result)
    for word in ("campaign.xlsx", "inbox/", "out/", "new", "check", "templates"):
        assert word in result.output
    for name in main.commands:
        assert name in result.output


@pytest.mark.parametrize("command", sorted(set(main.commands) | {"new", "check", "templates"}))
def test_each_subcommand_help_says_what_it_reads_and_writes(command):
    result = run(command, "--help")
    assert result.exit_code == 0, result.output
    assert_clean(result)
    assert f"Usage: main {command}" in result.output or f"{command} [OPTIONS]" in result.output
    for word in MENTIONS.get(command, []):
        assert word in result.output, word
    if command not in MENTIONS:  # a newer command: at least its help names a file or folder
        assert any(w in result.output for w in (".xlsx", "out/", "inbox", ".eml", "CAMPAIGN")), result.output


# --- new -------------------------------------------------------------------------------------

def test_new_creates_a_campaign_folder_from_the_master(tmp_path):
    target = tmp_path / "ktd-2026"
    result = run("new", target)
    assert result.exit_code == 0, result.output
    assert_clean(result)
    assert (target / "campaign.xlsx").read_bytes() == MASTER.read_bytes()
    assert (target / "inbox").is_dir() and (target / "review").is_dir()
    assert list((target / "inbox").iterdir()) == [] and list((target / "review").iterdir()) == []
    checked = run("check", target)  # the master's example rows are marked: check names them until removed
    assert checked.exit_code == 1
    assert all("example_row" in line for line in checked.output.splitlines() if line.startswith("Lỗi ["))


def test_new_refuses_to_overwrite(tmp_path):
    target = tmp_path / "ktd"
    assert run("new", target).exit_code == 0
    (target / "campaign.xlsx").write_bytes(b"the officer's own work")
    result = run("new", target)
    assert result.exit_code == 1
    assert_clean(result)
    assert "Lỗi" in result.output
    assert (target / "campaign.xlsx").read_bytes() == b"the officer's own work"


def test_new_into_an_existing_empty_folder(tmp_path):
    target = tmp_path / "existing"
    target.mkdir()
    assert run("new", target).exit_code == 0
    assert (target / "campaign.xlsx").is_file()


# --- check -----------------------------------------------------------------------------------

def test_check_good_campaign_exits_0(campaign_dir):
    result = run("check", campaign_dir)
    assert result.exit_code == 0, result.output
    assert_clean(result)
    assert "Lỗi" not in result.output


def test_check_sample_campaign_exits_0():
    from conftest import SAMPLE
    result = run("check", SAMPLE)
    assert result.exit_code == 0, result.output


def test_check_broken_campaign_exits_1_and_prints_the_cell(tmp_path):
    result = run("check", broken_campaign(tmp_path))
    assert result.exit_code == 1
    assert_clean(result)
    line = next(line for line in result.output.splitlines() if "head_not_member" in line)
    assert "[Khối]" in line and " C2 " in line


def test_check_warnings_only_exits_0(tmp_path):
    c = small_content()
    c["Lịch sử"][1]["unit"] = "DV99"  # history of a unit merged away: a warning
    result = run("check", make_campaign(tmp_path, c))
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if "unknown_unit" in line)
    assert "[Lịch sử]" in line and " A3 " in line


def test_check_criterion_fault_exits_1_without_traceback(tmp_path):
    c = small_content()
    c["Tiêu chí"][2]["group"] = "II"  # I.2 in group II: criterion_group at Tiêu chí!B4
    result = run("check", make_campaign(tmp_path, c))
    assert_clean(result)
    assert result.exit_code == 1
    assert " B4 " in next(line for line in result.output.splitlines() if "criterion_group" in line)


@pytest.mark.parametrize("where", ["empty_folder", "missing_folder"])
def test_check_without_campaign_xlsx_is_a_usage_error(tmp_path, where):
    folder = tmp_path / "not-a-campaign"
    if where == "empty_folder":
        folder.mkdir()
    result = run("check", folder)
    assert result.exit_code == 2
    assert_clean(result)
    assert "campaign.xlsx" in result.output


def test_check_unreadable_campaign_exits_1_with_one_line(tmp_path):
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "campaign.xlsx").write_bytes(b"this is not a workbook")
    result = run("check", folder)
    assert result.exit_code == 1
    assert_clean(result)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Lỗi")


def test_check_corrupt_sheet_exits_1_without_traceback(tmp_path):
    folder = make_campaign(tmp_path, small_content())
    path = folder / "campaign.xlsx"
    source, out = path.read_bytes(), io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(source)) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            zout.writestr(info, data[: len(data) // 2] if info.filename == "xl/worksheets/sheet3.xml" else data)
    path.write_bytes(out.getvalue())
    result = run("check", folder)
    assert_clean(result)
    assert result.exit_code == 1


# --- templates -------------------------------------------------------------------------------

def test_templates_writes_one_workbook_per_unit(campaign_dir, campaign):
    result = run("templates", campaign_dir, env={"SOURCE_DATE_EPOCH": str(EPOCH)})
    assert result.exit_code == 0, result.output
    assert_clean(result)
    out = campaign_dir / "out" / "templates"
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert written == sorted(f"{u.bloc}/{u.code}.xlsx" for u in campaign.units)
    assert len(written) == 6
    for u in campaign.units:
        wb = openpyxl.load_workbook(out / u.bloc / f"{u.code}.xlsx", read_only=True)
        meta = {r[0]: r[1] for r in wb["_meta"].iter_rows(values_only=True)}
        wb.close()
        assert (meta["unit_code"], meta["bloc_code"], meta["generated_at"]) == (u.code, u.bloc, "2025-11-20T08:30:00")


def test_templates_run_twice_gives_the_same_bytes(campaign_dir, campaign):
    out = campaign_dir / "out" / "templates"
    env = {"SOURCE_DATE_EPOCH": str(EPOCH)}
    assert run("templates", campaign_dir, env=env).exit_code == 0
    first = {p: p.read_bytes() for p in out.rglob("*.xlsx")}
    assert run("templates", campaign_dir, env=env).exit_code == 0
    assert {p: p.read_bytes() for p in out.rglob("*.xlsx")} == first


def test_templates_are_dated_by_the_campaign_file(campaign_dir):
    """Without SOURCE_DATE_EPOCH the templates carry campaign.xlsx's modification time, never 'now'."""
    os.utime(campaign_dir / "campaign.xlsx", (EPOCH, EPOCH))
    env = {k: None for k in ("SOURCE_DATE_EPOCH",)}
    assert run("templates", campaign_dir, env=env).exit_code == 0
    wb = openpyxl.load_workbook(campaign_dir / "out" / "templates" / "K2" / "DV05.xlsx", read_only=True)
    meta = {r[0]: r[1] for r in wb["_meta"].iter_rows(values_only=True)}
    wb.close()
    assert dt.datetime.fromisoformat(meta["generated_at"]) == dt.datetime(2025, 11, 20, 8, 30)


def test_templates_on_broken_campaign_exits_1_with_one_line(tmp_path):
    folder = broken_campaign(tmp_path)
    result = run("templates", folder)
    assert result.exit_code == 1
    assert_clean(result)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Lỗi"), result.output
    assert "C2" in lines[0]  # it names the first error's cell
    assert not (folder / "out" / "templates").exists()


def test_templates_without_campaign_xlsx_is_a_usage_error(tmp_path):
    result = run("templates", tmp_path)
    assert result.exit_code == 2
    assert_clean(result)


# --- review and rank on the sample: the year end ----------------------------------------------

@pytest.fixture
def sample_copy(tmp_path):
    import shutil

    from conftest import SAMPLE

    folder = tmp_path / "qt"
    shutil.copytree(SAMPLE, folder, ignore=shutil.ignore_patterns("out"))
    assert run("collect", folder).exit_code == 0
    return folder


def test_review_writes_one_workbook_per_bloc_and_never_touches_review(sample_copy):
    before = {p.name: p.read_bytes() for p in (sample_copy / "review").iterdir()}
    result = run("review", sample_copy)
    assert result.exit_code == 0, result.output
    assert_clean(result)
    written = sorted(p.name for p in (sample_copy / "out" / "review").iterdir())
    assert written == ["DN.xlsx", "KT.xlsx", "NC.xlsx", "VX.xlsx"]
    assert {p.name: p.read_bytes() for p in (sample_copy / "review").iterdir()} == before
    assert "review" in result.output


def test_rank_prints_proposals_held_back_units_and_next_heads(sample_copy):
    result = run("rank", sample_copy)
    assert result.exit_code == 0, result.output
    assert_clean(result)
    assert "Đề nghị  NC   NC04" in result.output and "Cờ thi đua của UBND tỉnh" in result.output
    assert "Không đề nghị KT09" in result.output and "đang bị điều tra" in result.output
    assert "Khối NC năm 2026: Trưởng khối NC01, Phó khối NC02" in result.output
    assert (sample_copy / "out" / "proposal-2025.xlsx").is_file()
    first = {n: (sample_copy / "out" / n).read_bytes() for n in ("results-2025.xlsx", "proposal-2025.xlsx")}
    assert run("rank", sample_copy).exit_code == 0
    assert {n: (sample_copy / "out" / n).read_bytes() for n in first} == first  # deterministic


def test_a_damaged_review_is_an_issue_not_a_traceback(sample_copy):
    (sample_copy / "review" / "NC.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    result = run("rank", sample_copy)
    assert result.exit_code == 0, result.output
    assert_clean(result)
    assert "NC.xlsx" in result.output and "unreadable" in result.output
    # Without NC's review and ballot: its head and deputy come from the rotation rule (deputy NC07 becomes head).
    assert "Khối NC năm 2026: Trưởng khối NC07" in result.output


def test_status_before_collect_and_after_shows_the_year_end(sample_copy, tmp_path):
    """Before anything is collected status still answers (no traceback); after, each bloc's review and ballot."""
    import shutil

    from conftest import SAMPLE

    fresh = tmp_path / "fresh"
    shutil.copytree(SAMPLE, fresh, ignore=shutil.ignore_patterns("out"))
    result = run("status", fresh)
    assert result.exit_code == 0, result.output
    assert_clean(result)
    assert "Chưa gửi: 31" in result.output
    result = run("status", sample_copy)
    assert result.exit_code == 0, result.output
    assert "Khối KT: bảng thẩm định KT.xlsx: 3 điểm điều chỉnh, 1 vấn đề; bỏ phiếu hợp lệ" in result.output
    assert "Khối VX: bảng thẩm định VX.xlsx" in result.output and "phiếu đăng ký thi đua 10/10" in result.output


@pytest.mark.parametrize("command", ["validate", "review", "rank"])
def test_year_end_commands_on_a_campaign_with_no_returns_yet(campaign_dir, command):
    """Nothing collected: every unit is reported missing, the workbooks are still written, never a traceback."""
    result = run(command, campaign_dir)
    assert_clean(result)
    assert result.exit_code == (1 if command == "validate" else 0), result.output
    assert "0/6 đơn vị có bản tự chấm hợp lệ" in result.output


def test_help_does_not_load_pandas():
    """`thidua --help` answers at once: the command line imports what a command needs when it runs."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", "import sys, pipeline.cli; print(sorted(m for m in "
                           "('pandas', 'pandera', 'openpyxl', 'xlsxwriter') if m in sys.modules))"],
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
