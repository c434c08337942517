"""Proposal stage: the printable award lists (Decree 30/2020 layout), read back through openpyxl and LibreOffice."""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
import shutil
import subprocess
import unicodedata

import openpyxl
import pandas as pd
import pytest

from pipeline.proposal import EMPTY_SHEET, HELD_SHEET, date_line, write_proposal

from conftest import pdf_of

HEADERS = ["STT", "Tên tập thể", "Thành tích", "Tổng điểm", "Xếp thứ", "Ghi chú"]
HELD_HEADERS = ["STT", "Khối", "Tên đơn vị", "Hình thức khen thưởng", "Lý do"]
FORMULA_NAME = '=HYPERLINK("x")'
FLAG, FLAG_ISSUER = "Cờ thi đua của UBND tỉnh", "Chủ tịch UBND tỉnh"
MERIT = "Bằng khen của Chủ tịch UBND tỉnh"
FLAG_FULL, ISSUER_FULL = "Cờ thi đua của Ủy ban nhân dân tỉnh", "Chủ tịch Ủy ban nhân dân tỉnh"
MERIT_FULL = "Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh"


def proposal(bloc, unit, name, code, award, priority, rank, warning="", issuer=FLAG_ISSUER) -> dict:
    return dict(bloc=bloc, unit=unit, name=name, short_name=name, award_code=code, award=award, issuer=issuer,
                priority=priority, rank=rank, total=96.5 - rank, grade="Xuất sắc", votes=float("nan"),
                vote_share=float("nan"), achievement=f"Dẫn đầu phong trào thi đua năm 2025 ({name})",
                reason=f"Hạng {rank} trong khối; quy tắc {code}", warning=warning)


# Out of order on purpose: bloc K2 before K1, the lower award before the flag.
PROPOSALS = [
    proposal("K1", "DV02", "Sở Tài chính", "BK_TINH", MERIT, 2, 2),
    proposal("K2", "DV04", "Sở Y tế", "CO_TINH", FLAG, 1, 1, warning="Đơn vị chưa đăng ký danh hiệu này"),
    proposal("K1", "DV01", FORMULA_NAME, "CO_TINH", FLAG, 1, 1),
]
HELD = [dict(bloc="K2", unit="DV05", name="Sở Xây dựng", award_code="CO_TINH", award=FLAG,
             reason="Đang bị điều tra")]


@pytest.fixture
def quang_tri(campaign):
    return with_settings(campaign, year=2025, place="Quảng Trị", parent_body="UBND TỈNH QUẢNG TRỊ",
                         proposal_date=dt.date(2026, 1, 5), signer_name="Nguyễn Văn A",
                         recipients=("Như trên", "Ban Thi đua - Khen thưởng, Sở Nội vụ", "Lưu: VT, TĐKT"))


@pytest.fixture
def book(tmp_path, quang_tri):
    return openpyxl.load_workbook(write_proposal(tmp_path / "proposal-2025.xlsx", quang_tri,
                                                 pd.DataFrame(PROPOSALS), pd.DataFrame(HELD)))


def with_settings(c, **kw):
    return dataclasses.replace(c, settings=dataclasses.replace(c.settings, **kw))


def texts(ws) -> list[str]:
    return [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]


def find(ws, text):
    return next(c for row in ws.iter_rows() for c in row if c.value == text)


def table(ws, headers) -> tuple[int, list[list]]:
    """The header row's number and the unit rows under it (those with a number in STT), as lists of values."""
    values = lambda r: [ws.cell(r, i + 1).value for i in range(len(headers))]  # noqa: E731
    head = next(r for r in range(1, ws.max_row + 1) if values(r) == headers)
    rows = []
    for r in range(head + 1, ws.max_row + 1):
        stt = ws.cell(r, 1).value
        if isinstance(stt, int):
            rows.append(values(r))
        elif stt is None:
            break
    return head, rows


def test_one_sheet_per_award_and_issuer_then_the_held_units(book):
    assert book.sheetnames == ["Cờ thi đua", "Bằng khen", HELD_SHEET]  # Vietnamese tabs, never rule codes
    assert f"Đề nghị tặng {FLAG_FULL} năm 2025" in texts(book["Cờ thi đua"])  # the award's name in full
    assert f"(Cấp khen: {ISSUER_FULL})" in texts(book["Cờ thi đua"])
    assert f"Đề nghị tặng {MERIT_FULL} năm 2025" in texts(book["Bằng khen"])


def test_rows_in_bloc_order_then_rank_with_reason_and_warning(book):
    ws = book["Cờ thi đua"]
    head, rows = table(ws, HEADERS)
    assert [r[:2] for r in rows] == [[1, FORMULA_NAME], [2, "Sở Y tế"]]
    # the achievement, the score and the place; Ghi chú a human note, never the machine's reason or warning
    assert rows[0][2:] == [f"Dẫn đầu phong trào thi đua năm 2025 ({FORMULA_NAME})", 95.5, 1, None]
    assert rows[1][5] is None
    assert ws.cell(head + 1, 2).value == "Khối các sở tổng hợp"  # each bloc opens with its group row
    assert all(c.font.b for c in ws[head])
    assert "Tổng số: 2 đơn vị." in texts(ws)
    assert ws.print_title_rows == f"${head}:${head}"  # the header row repeats on every printed page
    _, merit = table(book["Bằng khen"], HEADERS)
    assert [r[1] for r in merit] == ["Sở Tài chính"]


def test_held_sheet_lists_who_was_held_back_and_why(book):
    ws = book[HELD_SHEET]
    _, rows = table(ws, HELD_HEADERS)
    assert rows == [[1, "Khối các sở chuyên ngành", "Sở Xây dựng", FLAG_FULL, "Đang bị điều tra"]]
    assert ws.page_setup.paperSize == 9 and "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in texts(ws)


def test_decree_30_heading_and_signature(book):
    for name in ("Cờ thi đua", "Bằng khen"):
        ws = book[name]
        t = texts(ws)
        assert {"UBND TỈNH QUẢNG TRỊ", "HỘI ĐỒNG THI ĐUA - KHEN THƯỞNG", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                "Độc lập - Tự do - Hạnh phúc", "Quảng Trị, ngày 05 tháng 01 năm 2026", "DANH SÁCH"} <= set(t)
        motto = find(ws, "Độc lập - Tự do - Hạnh phúc").font
        assert motto.b and motto.u == "single" and motto.sz >= 13
        assert find(ws, "HỘI ĐỒNG THI ĐUA - KHEN THƯỞNG").font.b and not find(ws, "UBND TỈNH QUẢNG TRỊ").font.b
        assert find(ws, "Quảng Trị, ngày 05 tháng 01 năm 2026").font.i
        # the issuer's code and the date from the settings
        assert "(Kèm theo Tờ trình số        /TTr-HĐTĐKT ngày 05 tháng 01 năm 2026 của Hội đồng thi đua - khen thưởng)" in t
        assert find(ws, "TM. HỘI ĐỒNG THI ĐUA - KHEN THƯỞNG").font.b and find(ws, "CHỦ TỊCH").font.b
        assert find(ws, "Nguyễn Văn A").row > find(ws, "CHỦ TỊCH").row + 3  # room to sign and seal
        to = find(ws, "Nơi nhận:")
        assert to.font.b and to.font.i and to.row == find(ws, "TM. HỘI ĐỒNG THI ĐUA - KHEN THƯỞNG").row
        recipients = [ws.cell(to.row + i, 1).value for i in (1, 2)]
        # a list has no "Kính gửi", so no "Như trên"
        assert recipients == ["- Ban Thi đua - Khen thưởng, Sở Nội vụ;", "- Lưu: VT, TĐKT."]
        assert ws.cell(to.row + 3, 1).value in (None, "")


def test_print_setup_and_fonts(book):
    for ws in book:
        ps = ws.page_setup
        # A4 at 100 %: not fitted, so that Excel honours the manual page breaks; the lists portrait
        assert ps.paperSize == 9 and ps.orientation == ("landscape" if ws.title == HELD_SHEET else "portrait")
        assert not (ws.sheet_properties.pageSetUpPr and ws.sheet_properties.pageSetUpPr.fitToPage)
        assert ws.page_margins.left == pytest.approx(1.18) and ws.page_margins.top == pytest.approx(0.79)
        # Decree 30: the page number top centre from the second page, each list from 1
        assert "&P" in ws.oddHeader.center.text and ws.HeaderFooter.differentFirst
        assert not ws.firstHeader.center.text and (ps.firstPageNumber or 1) == 1 and ps.useFirstPageNumber
        assert len(ws.title) <= 31 and not re.search(r"[\[\]:*?/\\]", ws.title)
        for row in ws.iter_rows():
            for c in row:
                if c.value is not None:
                    assert c.font.name == "Times New Roman", (ws.title, c.coordinate)
    assert find(book["Cờ thi đua"], "DANH SÁCH").font.b


@pytest.mark.parametrize("day, line", [
    (dt.date(2026, 1, 5), "Quảng Trị, ngày 05 tháng 01 năm 2026"),
    (dt.date(2026, 2, 9), "Quảng Trị, ngày 09 tháng 02 năm 2026"),
    (dt.date(2026, 3, 15), "Quảng Trị, ngày 15 tháng 3 năm 2026"),
    (dt.date(2025, 12, 31), "Quảng Trị, ngày 31 tháng 12 năm 2025"),
])
def test_date_line_leading_zeros(day, line):
    assert date_line("Quảng Trị", day, 2026) == line


@pytest.mark.parametrize("day, line", [
    (dt.date(2026, 3, 15), "Quảng Trị, ngày 15 tháng 3 năm 2026"),
    (None, "Quảng Trị, ngày      tháng      năm 2026"),
])
def test_date_on_the_sheet(tmp_path, quang_tri, day, line):
    c = with_settings(quang_tri, proposal_date=day, parent_body="")
    wb = openpyxl.load_workbook(write_proposal(tmp_path / "p.xlsx", c, pd.DataFrame(PROPOSALS), pd.DataFrame(HELD)))
    ws = wb["Cờ thi đua"]
    assert find(ws, line).font.i
    # no parent body: the issuing body moves up level with the national name
    assert find(ws, "HỘI ĐỒNG THI ĐUA - KHEN THƯỞNG").row == find(ws, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM").row


def test_text_is_never_a_formula_and_is_nfc(tmp_path, quang_tri):
    rows = [dict(PROPOSALS[2], achievement="=1+1", reason="@SUM(A1:A2)"),
            dict(PROPOSALS[1], name=unicodedata.normalize("NFD", "Sở Y tế"))]
    held = [dict(HELD[0], reason='=HYPERLINK("http://example.com","x")')]
    wb = openpyxl.load_workbook(write_proposal(tmp_path / "p.xlsx", quang_tri, pd.DataFrame(rows), pd.DataFrame(held)))
    for ws in wb:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", f"{ws.title}!{c.coordinate} = {c.value}"
    _, got = table(wb["Cờ thi đua"], HEADERS)
    assert got[0][1:3] == [FORMULA_NAME, "=1+1"] and got[1][1] == "Sở Y tế"
    assert unicodedata.is_normalized("NFC", got[1][1])
    assert find(wb[HELD_SHEET], '=HYPERLINK("http://example.com","x")').data_type == "s"


def test_two_issuers_of_one_award_code_get_two_valid_sheet_names(tmp_path, quang_tri):
    code = "GIAY:KHEN/[*?]" + "X" * 30  # characters Excel refuses in sheet names, and too long
    rows = [proposal("K1", "DV03", "Sở Tư pháp", code, "Giấy khen", 3, 4, issuer="Giám đốc Sở Nội vụ"),
            proposal("K2", "DV06", "Sở Công Thương", code, "Giấy khen", 3, 3, issuer="Chủ tịch UBND huyện")]
    wb = openpyxl.load_workbook(write_proposal(tmp_path / "p.xlsx", quang_tri, pd.DataFrame(rows), pd.DataFrame(HELD)))
    # tabs by the award's short name, the issuer added where two lists share it; never the rule code
    assert wb.sheetnames == ["Giấy khen", "Giấy khen - Giám đốc Sở Nội vụ", HELD_SHEET]
    # same priority and award: issuers alphabetically
    assert "(Cấp khen: Chủ tịch Ủy ban nhân dân huyện)" in texts(wb["Giấy khen"])
    assert "(Cấp khen: Giám đốc Sở Nội vụ)" in texts(wb["Giấy khen - Giám đốc Sở Nội vụ"])
    assert not any(code[:8] in t for ws in wb for t in texts(ws))


def test_same_inputs_give_byte_identical_files(tmp_path, quang_tri):
    args = (quang_tri, pd.DataFrame(PROPOSALS), pd.DataFrame(HELD))
    a, b = write_proposal(tmp_path / "a.xlsx", *args), write_proposal(tmp_path / "b.xlsx", *args)
    assert a.read_bytes() == b.read_bytes()


def test_no_proposal_still_writes_a_valid_workbook(tmp_path, quang_tri):
    path = write_proposal(tmp_path / "out" / "p.xlsx", quang_tri, pd.DataFrame(), pd.DataFrame())
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [EMPTY_SHEET, HELD_SHEET]
    assert "Không có đơn vị nào được đề nghị khen thưởng." in texts(wb[EMPTY_SHEET])
    assert "Không có đơn vị nào." in texts(wb[HELD_SHEET])
    assert wb[EMPTY_SHEET].page_setup.paperSize == 9


# --- LibreOffice ------------------------------------------------------------------------------

def test_libreoffice_prints_the_proposal(tmp_path, quang_tri):
    src = write_proposal(tmp_path / "proposal-2025.xlsx", quang_tri, pd.DataFrame(PROPOSALS), pd.DataFrame(HELD))
    pdf = pdf_of(src, tmp_path)
    assert len(re.findall(rb"/Type\s*/Page\b", pdf.read_bytes())) >= 1
    pdftotext = shutil.which("pdftotext")
    if pdftotext:
        done = subprocess.run([pdftotext, "-layout", str(pdf), "-"], capture_output=True, text=True, timeout=60)
        text = unicodedata.normalize("NFC", done.stdout)
        assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text
        assert "Sở Y tế" in text and FORMULA_NAME in text


def test_page_breaks_keep_a_bloc_heading_with_its_first_unit_and_the_signature_with_the_table(campaign, tmp_path):
    """Thirty proposals in two blocs run over several pages: no bloc heading ends a page, and the signature
    block starts on the page of the total, right under the table."""
    rows = [proposal(b.code, f"{b.code}{i:02}", f"Đơn vị thứ {i} của {b.code}", "BK_TINH", MERIT, 2, i)
            for b in campaign.blocs for i in range(1, 16)]
    path = write_proposal(tmp_path / "p.xlsx", campaign, pd.DataFrame(rows), pd.DataFrame(HELD))
    ws = openpyxl.load_workbook(path).worksheets[0]
    breaks = sorted(b.id for b in ws.row_breaks.brk)  # a break after row id (1-based): the next page starts at id + 1
    assert breaks, "a list this long needs more than one page"
    groups = {c.row for c in ws["A"] if isinstance(c.value, str) and c.value in ("I", "II")}
    total = next(c.row for c in ws["A"] if isinstance(c.value, str) and c.value.startswith("Tổng số"))
    signature = next(c.row for c in ws["C"] if isinstance(c.value, str) and c.value.startswith("TM. "))
    for b in breaks:
        assert b not in groups  # a heading never ends a page
        assert not (total - 1 <= b < signature + 6)  # the last row, the total and the signature stay together


def test_the_tờ_trình_line_takes_the_document_code_and_the_legal_basis_sits_under_the_title(tmp_path, quang_tri):
    """doc_code is the submitting body's real code (not always its initials); the basis is the signing date's."""
    c = with_settings(quang_tri, doc_code="SNV")
    book = openpyxl.load_workbook(write_proposal(tmp_path / "p.xlsx", c, pd.DataFrame(PROPOSALS), pd.DataFrame(HELD)))
    ws = book["Cờ thi đua"]
    t = texts(ws)
    assert "(Kèm theo Tờ trình số        /TTr-SNV ngày 05 tháng 01 năm 2026 của Hội đồng thi đua - khen thưởng)" in t
    basis = next(v for v in t if v.startswith("Căn cứ "))
    assert "Luật Thi đua, khen thưởng năm 2022" in basis and "152/2025/NĐ-CP" in basis and basis.endswith(".")
    assert find(ws, basis).row > find(ws, "DANH SÁCH").row
    _, rows = table(ws, HEADERS)
    assert find(ws, basis).row < find(ws, rows[0][1]).row  # above the table
    old = with_settings(quang_tri, year=2019, proposal_date=dt.date(2019, 12, 28))
    ws = openpyxl.load_workbook(write_proposal(tmp_path / "o.xlsx", old, pd.DataFrame(PROPOSALS),
                                               pd.DataFrame(HELD)))["Cờ thi đua"]
    basis = next(v for v in texts(ws) if v.startswith("Căn cứ "))
    assert "2003" in basis and "91/2017/NĐ-CP" in basis and "152/2025" not in basis
