"""Feedback: one unit's issues + its stored return -> out/feedback/<unit>.xlsx, the list to fix and a marked copy."""
from __future__ import annotations

import datetime as dt
import io
import os
import tempfile
import unicodedata
import zipfile
from collections import defaultdict
from pathlib import Path

import openpyxl
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils.cell import coordinate_to_tuple
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.writer.excel import ExcelWriter
from xlsxwriter.utility import xl_col_to_name

from ..issues import ERROR, SEVERITY_VI, WARNING, Issue, ThiduaError
from ..templates import A4, FONT, row_height

SHEET = "Cần sửa"
AUTHOR = "thidua"  # author of the comments written here: a feedback file sent back is recognised by it
FILLS = {ERROR: "FFFFB4B4", WARNING: "FFFFD966"}  # stronger than the template's pale input yellow
INPUT_FILL = "FFFFF2CC"  # the template's input cells (templates._Formats.input), restored on a re-sent feedback
COPYABLE = (".xlsx", ".xlsm")

HOW_TO_FIX: dict[str, str] = {
    "score_range": "Nhập lại điểm tự chấm trong khoảng từ 0 đến điểm tối đa của tiêu chí (cột “Điểm tối đa”).",
    "score_step": "Chấm theo bước điểm ghi ở cột “Cách chấm” (ví dụ bước 0,5: 8 hoặc 8,5; bước 1: số nguyên).",
    "pass_fail": "Tiêu chí đạt/không đạt: nhập đúng điểm tối đa nếu đạt, nhập 0 nếu không đạt.",
    "not_a_number": "Xóa chữ trong ô, nhập bằng số (ví dụ 9,5 hoặc 10), không viết số bằng chữ.",
    "decimal_comma": "Số đang ở dạng chữ: kiểm tra số được đọc như ở cột Nội dung là đúng, nên nhập lại bằng số.",
    "thousands_dot": "Kiểm tra số được đọc như ở cột Nội dung là đúng; không dùng dấu chấm ngăn cách hàng nghìn.",
    "number_as_text": "Ô đang chứa chữ: xóa rồi nhập lại bằng số (bỏ dấu nháy ' hay khoảng trắng ở đầu).",
    "explanation_missing": "Ghi giải trình vào cột “Giải trình”, nêu minh chứng (số văn bản, kết quả cụ thể).",
    "score_missing": "Nhập điểm tự chấm vào ô màu vàng ở cột “Điểm tự chấm”.",
    "actual_missing": "Nhập kết quả thực hiện bằng số vào cột “Kết quả thực hiện”; tiêu chí trừ điểm thì nhập "
                      "số lần vi phạm (0 nếu không có).",
    "actual_negative": "Nhập kết quả thực hiện là số từ 0 trở lên.",
    "criterion_missing": "Không xóa dòng tiêu chí: lấy lại dòng bị thiếu từ mẫu gốc (hoặc chép sang mẫu mới) "
                         "rồi chấm điểm tiêu chí đó.",
    "criterion_unknown": "Không thêm dòng, không sửa cột “Mã”: trả mã về đúng như mẫu hoặc xóa dòng thêm vào.",
    "criterion_duplicate": "Mỗi tiêu chí chỉ một dòng: xóa dòng lặp, giữ lại một dòng có điểm đúng.",
    "item_over_cap": "Giảm điểm kê khai của khoản này, không quá mức ghi ở cột “Tối đa”.",
    "bonus_over_cap": "Không bắt buộc sửa: chỉ tính đến mức tối đa điểm thưởng; có thể bớt khoản thưởng cho "
                      "đúng mức tối đa.",
    "outdated_template": "Chép điểm và giải trình sang mẫu mới nhất đã gửi cho đơn vị, rồi gửi lại tệp mẫu mới.",
    "criteria_changed": "Bộ tiêu chí đã thay đổi: dùng mẫu mới nhất đã gửi cho đơn vị và chấm lại theo mẫu đó.",
    "bloc_mismatch": "Dùng đúng mẫu đã gửi cho đơn vị mình; nếu đơn vị đã chuyển khối, liên hệ cơ quan thường trực.",
    "wrong_campaign": "Dùng mẫu của đợt thi đua này (tệp gửi kèm thư hướng dẫn), không dùng mẫu của đợt khác.",
    "unknown_unit": "Dùng đúng mẫu đã gửi cho đơn vị mình; không sửa trang ẩn _meta, không dùng tệp của đơn vị khác.",
    "sheet_missing": "Không đổi tên, không xóa trang tính: trả lại tên trang như trong mẫu hoặc chép sang mẫu gốc.",
    "header_missing": "Không sửa dòng tiêu đề của bảng: trả lại tên các cột như trong mẫu hoặc chép sang mẫu gốc.",
    "unreadable": "Tệp hỏng hoặc không phải tệp Excel: mở thử trên máy, lưu lại dạng .xlsx rồi gửi lại.",
    "encrypted": "Bỏ mật khẩu mở tệp (Tệp > Thông tin > Bảo vệ sổ làm việc > Mã hóa bằng mật khẩu: để trống), "
                 "lưu rồi gửi lại.",
    "macro": "Lưu lại dạng “Sổ làm việc Excel (*.xlsx)”, không dùng .xlsm, rồi gửi lại.",
    "oversized": "Xóa hình ảnh, trang tính thừa (minh chứng gửi riêng), lưu lại rồi gửi tệp nhỏ hơn mức tối đa.",
    "late": "Không cần sửa tệp; đơn vị lưu ý gửi đúng hạn. Cơ quan thường trực xem xét theo quy định.",
    "superseded": "Không cần sửa: bản nhận sau cùng được dùng. Nếu bản đó chưa đúng, gửi lại bản đúng.",
    "not_a_return": "Điền vào tệp mẫu tự chấm gửi kèm thư (có trang ẩn _meta) rồi gửi lại; không tự lập bảng mới.",
    "no_return": "Điền mẫu tự chấm gửi kèm thư và gửi lại trước hạn.",
    "sender_other_unit": "Gửi bản tự chấm từ địa chỉ thư điện tử của chính đơn vị, không nhờ đơn vị khác gửi hộ.",
    "sender_unknown": "Gửi từ địa chỉ thư điện tử đã đăng ký của đơn vị; nếu đã đổi địa chỉ, báo cơ quan thường "
                      "trực cập nhật.",
    # what a unit can do about a file its office damaged (issue codes of pipeline.intake and validate)
    "formula_no_value": "Mở tệp bằng Excel hoặc LibreOffice, lưu lại (để công thức có giá trị), rồi gửi lại.",
    "formula_input": "Nhập số vào ô, không nhập công thức.",
    "external_link": "Xóa liên kết tới tệp khác, nhập trực tiếp số liệu vào ô, lưu lại rồi gửi.",
    "wrong_extension": "Lưu tệp bằng Excel dạng “Sổ làm việc Excel (.xlsx)” và gửi lại, không đổi đuôi tệp.",
    "html_file": "Tệp là trang web đổi tên: mở mẫu gốc bằng Excel, điền và lưu dạng .xlsx rồi gửi lại.",
    "pdf_file": "Không gửi bản PDF thay bản tự chấm: điền mẫu .xlsx và gửi lại (PDF gửi kèm làm minh chứng).",
    "not_a_workbook": "Gửi lại đúng tệp mẫu tự chấm (.xlsx) đã điền.",
    "too_large": "Tệp quá lớn hoặc bị hỏng: lưu lại mẫu gốc đã điền, không chèn ảnh vào bảng, rồi gửi lại.",
    "unsafe_xml": "Tệp bị sửa bằng công cụ lạ: điền lại vào mẫu gốc bằng Excel và gửi lại.",
    "too_many_rows": "Xóa các dòng thừa ở cuối bảng (chỉ giữ các dòng tiêu chí của mẫu) rồi gửi lại.",
    "text_too_long": "Rút gọn phần giải trình (dưới 32.767 ký tự); tài liệu dài gửi kèm làm minh chứng.",
    "legacy_encoding": "Gõ lại nội dung bằng bảng mã Unicode (Unikey: bảng mã Unicode, kiểu gõ Telex hoặc VNI).",
    "count_blank": "Nhập số lần vi phạm (0 nếu không có), không để trống.",
    "claim_blank": "Nhập số điểm đề nghị thưởng, trừ; nếu không đề nghị, xóa cả phần giải trình của dòng đó.",
    "claim_step": "Kê khai điểm thưởng, trừ theo số điểm mỗi lần của khoản đó (cột “Điểm mỗi lần”).",
    "claim_negative": "Nhập số điểm dương; khoản trừ đã được tính là điểm trừ.",
}
FALLBACK = "Xem nội dung và sửa theo trang “Hướng dẫn” của mẫu; cần hỗ trợ, liên hệ cơ quan thường trực."

HEADERS = (("STT", 6), ("Trang tính", 18), ("Ô", 8), ("Mức độ", 11), ("Nội dung", 55), ("Cách sửa", 60))
WIDTH = sum(w for _, w in HEADERS)


def how_to_fix(code: str) -> str:
    return HOW_TO_FIX.get(code, FALLBACK)


def message(issue: Issue) -> str:
    """The Vietnamese message; a code not (yet) in MESSAGES, or params it lacks, still reads as something."""
    try:
        return issue.message("vi")
    except (KeyError, IndexError, ValueError):
        params = "; ".join(f"{k}: {v}" for k, v in issue.params.items())
        return f"Vấn đề “{issue.code}”" + (f" ({params})" if params else "")


def clean(value) -> str:
    """Text as written to the workbook: NFC, no characters XML cannot hold, within Excel's cell limit."""
    return ILLEGAL_CHARACTERS_RE.sub("", unicodedata.normalize("NFC", str(value)))[:32767]


def write_feedback(path: Path, unit_code: str, unit_name: str, issues: list[Issue], stored: Path | None,
                   campaign_title: str, created: dt.datetime) -> Path:
    """`Cần sửa` (the issues, how to fix each) first, then a copy of the stored return with every issue's cell
    filled and commented. The stored file is only read; same inputs give the same bytes."""
    path = Path(path)
    if stored is not None and path.resolve() == Path(stored).resolve():
        raise ThiduaError(f"feedback would overwrite the stored return {stored}")
    wb, note = _copy(stored, issues)
    if wb is None:
        wb = openpyxl.Workbook()
        wb.remove(wb.active)
    else:
        _mark(wb, issues)
    ws = wb.create_sheet(SHEET, 0)
    order = {name: n for n, name in enumerate(wb.sheetnames)}
    _write_list(ws, unit_code, unit_name, sorted(issues, key=lambda i: _position(i, order)), campaign_title,
                created, note)
    for other in wb.worksheets:
        other.sheet_view.tabSelected = False  # several selected tabs would open as a group
    wb.active = 0
    ws.sheet_view.tabSelected = True
    for view in wb.views:
        view.firstSheet = 0
    _save(wb, path, created)
    return path


# --- the copy ------------------------------------------------------------------------------------------

def _copy(stored: Path | None, issues: list[Issue]):
    """(workbook, None) for a copy of the stored return, or (None, what the list sheet says instead)."""
    if stored is None:
        return None, "Đơn vị gửi lại bản tự chấm đã sửa theo danh sách dưới đây."
    stored = Path(stored)
    suffix = stored.suffix.lower()
    if suffix not in COPYABLE:
        return None, (f"Tệp đơn vị gửi ({suffix or 'không rõ loại'}) không phải dạng .xlsx nên không sao chép được "
                      "vào đây: điền vào mẫu .xlsx đã gửi cho đơn vị, sửa theo danh sách dưới đây rồi gửi lại.")
    if any(i.code == "oversized" for i in issues):
        return None, "Tệp đơn vị gửi quá lớn nên không sao chép vào đây: sửa theo danh sách dưới đây rồi gửi lại."
    try:
        # From bytes: the stored original is never opened for writing, and no handle stays open on it.
        wb = openpyxl.load_workbook(io.BytesIO(stored.read_bytes()), keep_vba=False, keep_links=False)
    except Exception:  # openpyxl raises many types for damaged, encrypted or foreign files
        return None, ("Không mở được tệp đơn vị gửi nên không sao chép được vào đây: sửa theo danh sách dưới đây, "
                      "lưu dạng .xlsx rồi gửi lại.")
    for ws in list(wb.worksheets):
        if _same_name(ws.title, SHEET):
            wb.remove(ws)  # a feedback file sent back: its old list goes, the new one is written
    _unmark(wb)
    return wb, None


def _same_name(a: str, b: str) -> bool:
    return unicodedata.normalize("NFC", a).strip().casefold() == unicodedata.normalize("NFC", b).strip().casefold()


def _unmark(wb) -> None:
    """Undo the marks of an earlier feedback in a file sent back, so only this run's issues are marked."""
    ours = {c[-6:] for c in FILLS.values()}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.comment is None or cell.comment.author != AUTHOR:
                    continue
                cell.comment = None
                rgb = cell.fill.fgColor.rgb
                if isinstance(rgb, str) and rgb[-6:] in ours:
                    cell.fill = PatternFill() if cell.protection.locked else PatternFill("solid", fgColor=INPUT_FILL)


def _target(wb, issue: Issue):
    """The cell an issue names, if it is one of this workbook's (a merged area's top-left cell stands for it)."""
    if not issue.sheet or not issue.cell:
        return None
    ws = next((w for w in wb.worksheets if w.title == issue.sheet), None)
    ws = ws or next((w for w in wb.worksheets if _same_name(w.title, issue.sheet)), None)
    if ws is None:
        return None
    try:
        row, col = coordinate_to_tuple(issue.cell.replace("$", "").upper())
    except (ValueError, TypeError):
        return None
    for area in ws.merged_cells.ranges:
        if area.min_row <= row <= area.max_row and area.min_col <= col <= area.max_col:
            row, col = area.min_row, area.min_col
    return ws.cell(row, col)


def _mark(wb, issues: list[Issue]) -> None:
    at: dict = defaultdict(list)
    for i in issues:
        cell = _target(wb, i)
        if cell is not None:
            at[(cell.parent.title, cell.coordinate)].append((i, cell))
    for found in at.values():
        cell = found[0][1]
        severity = ERROR if any(i.severity == ERROR for i, _ in found) else WARNING
        cell.fill = PatternFill("solid", fgColor=FILLS[severity])
        notes = [f"{SEVERITY_VI.get(i.severity, i.severity)}: {message(i)}\nCách sửa: {how_to_fix(i.code)}"
                 for i, _ in found]
        if cell.comment is not None:  # the unit's own note stays, under ours
            notes.append(cell.comment.text)
        text = clean("\n\n".join(notes))
        lines = sum(1 + len(line) // 45 for line in text.split("\n"))
        cell.comment = Comment(text, AUTHOR, height=min(600, 18 + 15 * lines), width=320)


# --- the list ------------------------------------------------------------------------------------------

def _position(i: Issue, order: dict) -> tuple:
    """Errors first, then by sheet as the workbook orders them, then by row and column."""
    try:
        row, col = coordinate_to_tuple(i.cell.replace("$", "").upper()) if i.cell else (0, 0)
    except (ValueError, TypeError):
        row, col = 0, 0
    return (i.severity != ERROR, bool(i.sheet), order.get(i.sheet, len(order)), i.sheet, row, col)


def _write_list(ws, unit_code: str, unit_name: str, issues: list[Issue], campaign_title: str,
                created: dt.datetime, note: str | None) -> None:
    font = Font(name=FONT, size=12)
    bold = Font(name=FONT, size=12, bold=True)
    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    wrap = Alignment(wrap_text=True, vertical="top")
    last = len(HEADERS)

    def put(row: int, col: int, value, **style):
        cell = ws.cell(row, col)
        cell.value = clean(value) if isinstance(value, str) else value
        if isinstance(value, str):
            cell.data_type = "s"  # text from anyone stays text: "=..." is never a formula
        for k, v in {"font": font, "alignment": wrap, **style}.items():
            setattr(cell, k, v)
        return cell

    errors = sum(i.severity == ERROR for i in issues)
    warnings = len(issues) - errors
    if errors:
        counts = (f"Có {errors} lỗi và {warnings} cảnh báo. Bản tự chấm có lỗi chưa được tính điểm; "
                  "cảnh báo không làm mất điểm nhưng cần kiểm tra lại.")
    else:
        counts = f"Có {warnings} cảnh báo: bản tự chấm vẫn được tính điểm, đề nghị kiểm tra lại."
    how = note or ("Sửa các ô tô màu trong bảng tự chấm (màu đỏ: lỗi; màu vàng: cảnh báo; di chuột lên ô để xem "
                   "ghi chú) rồi gửi lại tệp này. Nội dung không gắn với ô nào (cột “Ô” để trống) thì sửa theo cột "
                   "“Cách sửa”. Không cần xóa trang “Cần sửa” trước khi gửi.")
    files = ", ".join(dict.fromkeys(i.file for i in issues if i.file))
    lines = [("CÁC NỘI DUNG CẦN SỬA TRONG BẢN TỰ CHẤM", Font(name=FONT, size=14, bold=True)),
             (campaign_title, Font(name=FONT, size=12, italic=True)),
             (f"Đơn vị: {unit_name} (mã {unit_code})", bold)]
    lines += [(f"Tệp đã nhận: {files}", font)] if files else []
    lines += [(counts, font), (how, bold), (f"Bản được kiểm tra nhận lúc {created.strftime('%H:%M ngày %d/%m/%Y')}.", font)]
    for r, (value, style) in enumerate(lines, start=1):
        align = Alignment(wrap_text=True, vertical="top", horizontal="center" if r <= 2 else "left")
        put(r, 1, value, font=style, alignment=align)
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=last)
        ws.row_dimensions[r].height = row_height((clean(value), WIDTH), size=style.sz or 12)

    head = len(lines) + 2
    for c, (title, width) in enumerate(HEADERS, start=1):
        put(head, c, title, font=bold, border=box, fill=PatternFill("solid", fgColor="FFDDEBF7"),
            alignment=Alignment(wrap_text=True, horizontal="center", vertical="center"))
        ws.column_dimensions[xl_col_to_name(c - 1)].width = width
    for n, i in enumerate(issues, start=1):
        r = head + n
        text, fix = message(i), how_to_fix(i.code)
        values = (n, i.sheet, i.cell, SEVERITY_VI.get(i.severity, i.severity), text, fix)
        for c, value in enumerate(values, start=1):
            cell = put(r, c, value, border=box)
            if c in (1, 3):
                cell.alignment = Alignment(wrap_text=True, vertical="top", horizontal="center")
        if i.severity in FILLS:
            ws.cell(r, 4).fill = PatternFill("solid", fgColor=FILLS[i.severity])  # the legend of the copy's colours
        ws.row_dimensions[r].height = row_height((clean(text), HEADERS[4][1]), (clean(fix), HEADERS[5][1]),
                                                 (clean(i.sheet), HEADERS[1][1]))

    ws.freeze_panes = ws.cell(head + 1, 1)
    ws.print_title_rows = f"{head}:{head}"
    ws.page_setup.paperSize = A4
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_margins.left, ws.page_margins.right, ws.page_margins.top, ws.page_margins.bottom = 0.5, 0.4, 0.6, 0.6
    ws.oddFooter.center.text = "Trang &P/&N"
    ws.print_options.horizontalCentered = True


# --- writing the same bytes every time -----------------------------------------------------------------

class _FixedZip(zipfile.ZipFile):
    """A zip whose entries all carry `date_time`: openpyxl otherwise stamps each entry with the clock."""

    def __init__(self, file, date_time: tuple, **kwargs):
        super().__init__(file, "w", zipfile.ZIP_DEFLATED, allowZip64=True, **kwargs)
        self.date_time = date_time

    def writestr(self, name, data, *args, **kwargs):
        if not isinstance(name, zipfile.ZipInfo):
            info = zipfile.ZipInfo(name, self.date_time)
            info.compress_type = self.compression
            info.external_attr = 0o600 << 16
            name = info
        super().writestr(name, data, *args, **kwargs)

    def write(self, filename, arcname=None, *args, **kwargs):
        # openpyxl writes each sheet to a temporary file first; its mtime must not reach the zip
        self.writestr(arcname or os.path.basename(filename), Path(filename).read_bytes())


def _save(wb, path: Path, created: dt.datetime) -> None:
    """Save with the document's times set to `created` and every zip entry at `created`, atomically."""
    if created.tzinfo is not None:
        created = created.astimezone(dt.timezone.utc).replace(tzinfo=None)
    wb.properties.created = wb.properties.modified = created  # openpyxl's save_workbook would set `modified` to now
    stamp = created.timetuple()[:6] if created.year >= 1980 else (1980, 1, 1, 0, 0, 0)  # zip times start in 1980
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        with _FixedZip(tmp, stamp) as archive:
            ExcelWriter(wb, archive).write_data()
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
