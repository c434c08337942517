"""The letters: for each kind of mailing, who gets which workbook, with a Vietnamese subject and body (pure)."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from ..campaign import Campaign, Unit
from ..issues import ERROR, SEVERITY_VI, Issue
from .message import Outgoing

KINDS = ("templates", "registration", "review", "reminder", "feedback")
KIND_VI = {"templates": "mẫu tự chấm điểm", "registration": "phiếu đăng ký thi đua", "review": "bảng thẩm định",
           "reminder": "thư nhắc", "feedback": "kết quả kiểm tra"}
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def _vn(d: dt.date) -> str:
    return d.strftime("%d/%m/%Y")


def file_name(*parts: str) -> str:
    """An attachment name the recipient reads: Vietnamese, without the characters Windows refuses."""
    return _UNSAFE.sub(" ", " - ".join(p for p in parts if p)).strip() + ".xlsx"


def _closing(c: Campaign) -> str:
    s = c.settings
    contact = s.reply_to or s.mail_from
    return (f"\nMọi vướng mắc xin liên hệ qua địa chỉ {contact}.\n\nTrân trọng,\n"
            f"{s.mail_from_name or s.issuing_body}\n{s.parent_body}".rstrip() + "\n")


def _deadline_line(c: Campaign, today: dt.date) -> str:
    deadline = c.settings.deadline
    days = (deadline - today).days
    if days > 0:
        return f"Hạn gửi là ngày {_vn(deadline)} (còn {days} ngày)."
    if days == 0:
        return f"Hạn gửi là hôm nay, ngày {_vn(deadline)}."
    return f"Hạn gửi ngày {_vn(deadline)} đã qua {-days} ngày; đề nghị Quý đơn vị gửi ngay."


def _to_unit(what: str, u: Unit, subject: str, body: str, attachment: Path | None, name: str,
             in_reply_to: str = "") -> Outgoing:
    return Outgoing(what, u.code, u.email, u.name, subject, body, attachment, name, in_reply_to)


# What each form asks of the unit, after "Đề nghị Quý đơn vị"; {deadline} is the campaign's.
FILL_IN = {
    "templates": (":\n"
                  "1. Mở tệp, sang trang “Tự chấm điểm”: nhập điểm tự chấm (hoặc kết quả thực hiện) và giải trình "
                  "vào các ô màu vàng;\n"
                  "2. Kê khai điểm thưởng, điểm trừ ở trang “Điểm thưởng - trừ”; minh chứng (PDF, ảnh, văn bản) "
                  "gửi kèm trong cùng thư;\n"
                  "3. Giữ nguyên tệp dạng .xlsx, tên các trang tính và cột Mã;\n"
                  "4. Gửi lại tệp đã điền trước ngày {deadline}"),
    "registration": (" đánh dấu x vào danh hiệu, hình thức khen thưởng đăng ký phấn đấu, ghi các nhiệm vụ trọng "
                     "tâm của năm, rồi gửi lại tệp đã điền"),
}
FORM_VI = {"templates": "Biểu tự chấm điểm thi đua", "registration": "Phiếu đăng ký thi đua"}


def forms(what: str, c: Campaign, units: list[Unit], path_of) -> list[Outgoing]:
    """A form to every unit: the self-scoring template (`templates`) or the start-of-year registration form
    (`registration`); `path_of(unit)` is its workbook under out/templates/ or out/registration/."""
    s = c.settings
    out = []
    for u in units:
        bloc = c.bloc(u.bloc)
        name = file_name(f"{FORM_VI[what]} {s.year}", u.short_name)
        asked = FILL_IN[what].format(deadline=_vn(s.deadline))
        body = (f"Kính gửi: {u.name},\n\n"
                f"{s.issuing_body} gửi Quý đơn vị {FORM_VI[what]} năm {s.year} "
                f"({bloc.name if bloc else u.bloc}, đợt {s.campaign_id}) trong tệp đính kèm “{name}”.\n\n"
                f"Đề nghị Quý đơn vị{asked} bằng cách trả lời thư này"
                f"{f' (địa chỉ nhận: {s.reply_to})' if s.reply_to else ''}.\n" + _closing(c))
        out.append(_to_unit(what, u, f"{FORM_VI[what]} năm {s.year} - {u.name}", body, path_of(u), name))
    return out


def review(c: Campaign, blocs: list[str], path_of) -> list[Outgoing]:
    """Each bloc's review and ballot workbook to its head unit; `path_of(bloc)` is out/review/<bloc>.xlsx."""
    s = c.settings
    out = []
    for code in blocs:
        bloc = c.bloc(code)
        head = c.unit(bloc.head) if bloc else None
        if head is None:
            continue
        name = file_name(f"Bảng thẩm định và bỏ phiếu {s.year}", f"Khối {bloc.code}")
        body = (f"Kính gửi: {head.name}, Trưởng {bloc.name},\n\n"
                f"{s.issuing_body} gửi Trưởng khối bảng thẩm định kết quả tự chấm điểm và bỏ phiếu năm {s.year} "
                f"của khối trong tệp đính kèm “{name}”.\n\n"
                "Đề nghị Trưởng khối:\n"
                "1. Trang “Thẩm định”: xem điểm tự chấm của từng đơn vị, sửa các ô màu vàng “Điểm thẩm định” "
                "khi cần, ghi lý do ở cột “Ghi chú”;\n"
                "2. Trang “Bỏ phiếu”: sau Hội nghị khối, ghi số đơn vị có mặt, số phiếu phát ra, số phiếu hợp lệ "
                "và số phiếu của từng đơn vị (suy tôn, Trưởng khối, Phó khối năm sau);\n"
                "3. Gửi lại tệp đã điền bằng cách trả lời thư này.\n" + _closing(c))
        out.append(Outgoing("review", bloc.code, head.email, head.name,
                            f"Bảng thẩm định và bỏ phiếu năm {s.year} - {bloc.name}", body, path_of(bloc.code), name))
    return out


def reminder(c: Campaign, units: list[Unit], received: dict, valid: set[str], issues: dict[str, list[Issue]],
             today: dt.date, template_of, feedback_of) -> list[Outgoing]:
    """To units that have sent nothing (with the template again) or whose newest return has errors (with its
    feedback), before or after the deadline, saying which."""
    s = c.settings
    out = []
    for u in units:
        got = received.get(u.code)
        if got is not None and u.code in valid:
            continue
        if got is None:
            what = (f"Đến ngày {_vn(today)}, {s.issuing_body} chưa nhận được bản tự chấm điểm thi đua năm "
                    f"{s.year} của Quý đơn vị.")
            attachment, name = template_of(u), file_name(f"Biểu tự chấm điểm thi đua {s.year}", u.short_name)
            fix = "Đề nghị Quý đơn vị điền biểu đính kèm và gửi lại bằng cách trả lời thư này."
        else:
            errors = sum(i.severity == ERROR for i in issues.get(u.code, []))
            when = dt.datetime.fromisoformat(got.receipt.received)
            what = (f"Bản tự chấm điểm thi đua năm {s.year} Quý đơn vị gửi lúc {when:%H:%M} ngày {when:%d/%m/%Y} "
                    f"còn {errors} lỗi nên chưa được tính.")
            attachment, name = feedback_of(u), file_name(f"Kết quả kiểm tra bản tự chấm {s.year}", u.short_name)
            fix = ("Tệp đính kèm liệt kê từng lỗi (trang tính, ô, cách sửa) và bản tự chấm với các ô cần sửa được "
                   "tô màu; đề nghị sửa ngay trên tệp đó và gửi lại bằng cách trả lời thư này.")
        body = f"Kính gửi: {u.name},\n\n{what} {_deadline_line(c, today)}\n\n{fix}\n" + _closing(c)
        out.append(_to_unit("reminder", u, f"Nhắc gửi bản tự chấm điểm thi đua năm {s.year} - {u.name}", body,
                            attachment, name))
    return out


def feedback(c: Campaign, units: list[Unit], receipts: dict, issues: dict[str, list[Issue]], feedback_of,
             limit: int = 10) -> list[Outgoing]:
    """To each unit whose return has issues, as a reply to the message the return came in, with its
    out/feedback/<unit>.xlsx; `receipts`: unit -> the receipt of the return that was checked."""
    s = c.settings
    out = []
    for u in units:
        mine = [i for i in issues.get(u.code, []) if i.code != "no_return"]
        r = receipts.get(u.code)
        if not mine or r is None or feedback_of(u) is None:
            continue
        errors = sum(i.severity == ERROR for i in mine)
        lines = [f"- {SEVERITY_VI[i.severity]}: {' '.join(p for p in (i.sheet, i.cell) if p) or 'cả tệp'}: {i.message()}"
                 for i in mine[:limit]]
        if len(mine) > limit:
            lines.append(f"- … và {len(mine) - limit} vấn đề khác (xem tệp đính kèm)")
        verdict = ("Bản tự chấm chưa được tính cho đến khi các lỗi được sửa." if errors else
                   "Bản tự chấm đã được tính; các cảnh báo dưới đây để Quý đơn vị lưu ý.")
        name = file_name(f"Kết quả kiểm tra bản tự chấm {s.year}", u.short_name)
        body = (f"Kính gửi: {u.name},\n\n"
                f"{s.issuing_body} đã nhận bản tự chấm điểm thi đua năm {s.year} của Quý đơn vị (tệp “{r.original}”) "
                f"và kiểm tra thấy {errors} lỗi, {len(mine) - errors} cảnh báo. {verdict}\n\n" + "\n".join(lines) +
                "\n\nTệp đính kèm liệt kê từng vấn đề kèm cách sửa, và bản tự chấm của Quý đơn vị với các ô cần sửa "
                "được tô màu, có ghi chú. Đề nghị sửa ngay trên tệp đó"
                f"{f' trước ngày {_vn(s.deadline)}' if errors else ''} và gửi lại bằng cách trả lời thư này.\n"
                + _closing(c))
        subject = (f"Re: {r.subject}" if r.subject and not r.subject.lower().startswith("re:") else r.subject) or \
            f"Kết quả kiểm tra bản tự chấm điểm thi đua năm {s.year} - {u.name}"
        out.append(_to_unit("feedback", u, subject, body, feedback_of(u), name, r.message_id))
    return out
