"""Shared factories: a small valid campaign as content, written to CAMPAIGN/campaign.xlsx in tmp_path, and loaded."""
from __future__ import annotations

import copy
import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from xlsxwriter.utility import xl_col_to_name

from pipeline.campaign_book import EXAMPLE, write_campaign
from pipeline.check import load_checked

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "quang-tri-2025"
MASTER = ROOT / "templates" / "xlsx" / "campaign.xlsx"
GENERATED_AT = dt.datetime(2025, 11, 20, 8, 30, 0)


def small_content() -> dict[str, list[dict]]:
    """Two blocs of three units, every criterion kind, a three-level branch and a restricted criterion.

    Row order matters: tests compute expected cells from it (header in row 1, data from row 2).
    """
    c = copy.deepcopy(EXAMPLE)
    c["Khối"] = [
        {"code": "K1", "name": "Khối các sở tổng hợp", "head": "DV01", "deputy": "DV02"},
        {"code": "K2", "name": "Khối các sở chuyên ngành", "head": "DV04", "deputy": "DV05"},
    ]
    c["Đơn vị"] = [
        {"code": "DV01", "name": "Sở Nội vụ", "short_name": "Sở Nội vụ", "bloc": "K1", "email": "snv@example.gov.vn"},
        {"code": "DV02", "name": "Sở Tài chính", "short_name": "Sở Tài chính", "bloc": "K1", "email": "stc@example.gov.vn"},
        {"code": "DV03", "name": "Sở Tư pháp", "short_name": "Sở Tư pháp", "bloc": "K1", "email": "stp@example.gov.vn"},
        {"code": "DV04", "name": "Sở Y tế", "short_name": "Sở Y tế", "bloc": "K2", "email": "syt@example.gov.vn"},
        {"code": "DV05", "name": "Sở Xây dựng", "short_name": "Sở Xây dựng", "bloc": "K2", "email": "sxd@example.gov.vn",
         "investigation": "x"},
        {"code": "DV06", "name": "Sở Công Thương", "short_name": "Sở Công Thương", "bloc": "K2", "email": "sct@example.gov.vn"},
    ]
    c["Tiêu chí"] = [
        {"code": "I", "group": "I", "text": "Thực hiện nhiệm vụ chính trị, chuyên môn", "max": 60},                   # row 2
        {"code": "I.1", "group": "I", "text": "Tỷ lệ hoàn thành chỉ tiêu được giao (%)", "kind": "chỉ tiêu",         # row 3
         "max": 20, "target": 100},
        {"code": "I.2", "group": "I", "text": "Chất lượng thực hiện nhiệm vụ chuyên môn", "kind": "điểm",           # row 4
         "max": 20, "step": 0.5, "explanation": "khi chưa tối đa"},
        {"code": "I.3", "group": "I", "text": "Nhiệm vụ đặc thù", "max": 20},                                      # row 5
        {"code": "I.3.a", "group": "I", "text": "Nhiệm vụ riêng của khối chuyên ngành", "kind": "điểm",            # row 6
         "max": 10, "step": 1, "applies_to": "K2, DV01"},
        {"code": "I.3.b", "group": "I", "text": "Nhiệm vụ đột xuất", "kind": "điểm", "max": 10, "step": 0.5,      # row 7
         "explanation": "luôn"},
        {"code": "II", "group": "II", "text": "Xây dựng Đảng, đoàn thể, cải cách hành chính", "max": 30},          # row 8
        {"code": "II.1", "group": "II", "text": "Tổ chức đảng xếp loại Hoàn thành tốt nhiệm vụ trở lên",          # row 9
         "kind": "đạt/không đạt", "max": 10},
        {"code": "II.2", "group": "II", "text": "Cải cách hành chính, chuyển đổi số", "kind": "điểm",             # row 10
         "max": 20, "step": 0.5},
        {"code": "III", "group": "III", "text": "Công tác thi đua, khen thưởng", "max": 10},                       # row 11
        {"code": "III.1", "group": "III", "text": "Tham gia hoạt động của khối", "kind": "điểm", "max": 8,         # row 12
         "step": 1},
        {"code": "III.2", "group": "III", "text": "Chậm gửi báo cáo (trừ 0,5 điểm/lần)", "kind": "trừ điểm",       # row 13
         "max": 2, "step": 0.5},
    ]
    c["Thưởng - Trừ"] = [
        {"code": "T1", "kind": "thưởng", "text": "Hoàn thành xuất sắc nhiệm vụ đột xuất", "points": 1, "cap": 3},
        {"code": "T2", "kind": "thưởng", "text": "Sáng kiến cấp tỉnh", "points": 0.5, "cap": 1.5},
        {"code": "D1", "kind": "trừ", "text": "Bị phê bình bằng văn bản", "points": 1, "cap": 3},
    ]
    c["Khen thưởng"] = [
        {"code": "CO_TINH", "award": "Cờ thi đua của UBND tỉnh", "issuer": "Chủ tịch UBND tỉnh", "priority": 1,
         "rank_from": 1, "rank_to": 1, "min_grade": "Xuất sắc", "min_vote_share": 50, "quota": 1},
        {"code": "BK_TINH", "award": "Bằng khen của Chủ tịch UBND tỉnh", "issuer": "Chủ tịch UBND tỉnh", "priority": 2,
         "rank_from": 2, "rank_to": 3, "min_grade": "Tốt", "quota_share": 20, "quota_rounding": "lên",
         "conditions": "lien_tuc_xuat_sac=2"},
    ]
    c["Lịch sử"] = [
        {"unit": "DV01", "year": 2025, "kind": "xếp loại", "value": "Xuất sắc"},
        {"unit": "DV04", "year": 2025, "kind": "khen thưởng", "value": "Cờ thi đua của UBND tỉnh"},
    ]
    c["Đăng ký"] = [{"unit": "DV01", "award": "CO_TINH"}, {"unit": "DV04", "award": "BK_TINH"}]
    return c


def cell(schema, column: str, index: int) -> str:
    """The A1 cell of `column` in data row `index` (0-based) of a sheet written by write_campaign."""
    return f"{xl_col_to_name(list(schema.columns).index(column))}{index + 2}"


def make_campaign(tmp_path: Path, content: dict) -> Path:
    """Write CAMPAIGN/campaign.xlsx under tmp_path and return the campaign folder."""
    folder = Path(tmp_path) / "CAMPAIGN"
    write_campaign(folder / "campaign.xlsx", content)
    return folder


@pytest.fixture
def content() -> dict[str, list[dict]]:
    return small_content()


@pytest.fixture
def campaign_dir(tmp_path, content) -> Path:
    return make_campaign(tmp_path, content)


@pytest.fixture
def campaign(campaign_dir):
    return load_checked(campaign_dir / "campaign.xlsx")


@pytest.fixture(scope="session")
def sample_campaign():
    return load_checked(SAMPLE / "campaign.xlsx")


SOFFICE_MISSING = "soffice missing: apt-get install libreoffice-calc-nogui"


def pdf_of(src: Path, tmp_path: Path) -> Path:
    """`src` printed to PDF by LibreOffice headless (its own profile, so runs never share state).

    Skips where LibreOffice is missing, except under CI, which installs it: there a missing soffice fails."""
    return pdfs_of([Path(src)], tmp_path)[Path(src)]


def pdfs_of(srcs: list[Path], tmp_path: Path) -> dict[Path, Path]:
    """Several workbooks printed to PDF by one LibreOffice run (it starts once: 3-5 s saved per file).

    Names must differ by stem. Skips or fails where LibreOffice is missing, as pdf_of does."""
    soffice = shutil.which("soffice")
    if soffice is None:
        if os.environ.get("CI"):
            pytest.fail(SOFFICE_MISSING)
        pytest.skip(SOFFICE_MISSING)
    out = tmp_path / "pdf"
    profile = (tmp_path / "lo-profile").as_uri()
    done = subprocess.run([soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
                           "--outdir", str(out), *map(str, srcs)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    pdfs = {Path(s): out / f"{Path(s).stem}.pdf" for s in srcs}
    for src, pdf in pdfs.items():
        assert pdf.is_file() and pdf.read_bytes().startswith(b"%PDF"), (src, done.stdout, done.stderr)
    return pdfs


POPPLER_MISSING = "pdftotext missing: apt-get install poppler-utils"


def pdf_pages(pdf: Path, layout: bool = True) -> list[str]:
    """The text of each page of `pdf` (pdftotext -layout, NFC; without `layout`, in reading order, where a cell's
    wrapped lines stay together); skips or fails without poppler as pdf_of does."""
    import unicodedata

    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        if os.environ.get("CI"):
            pytest.fail(POPPLER_MISSING)
        pytest.skip(POPPLER_MISSING)
    done = subprocess.run([pdftotext, *(["-layout"] if layout else []), str(pdf), "-"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    pages = unicodedata.normalize("NFC", done.stdout).split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages
