"""Test mail: messages as Outlook and Thunderbird write them, and the mbox, Maildir and Zimbra .tgz that hold them.

Every builder returns the complete message as bytes (CRLF line ends, as on the wire). Attachments are
(file name, bytes) pairs; names are written exactly as given, so pass an NFD name to test what macOS sends.

    outlook_message(sender, to, subject, date, attachments, message_id=None)      RFC 2047 names
    thunderbird_message(sender, to, subject, date, attachments, message_id=None)  RFC 2231 names
    forwarded_message(sender, to, subject, date, inner, message_id=None)          inner as message/rfc822
    write_mbox(path, messages)
    write_maildir(path, messages, seen=())
    write_zimbra_tgz(path, messages, meta_first=True, extra=())

`date=None` leaves the Date header out; `message_id=None` makes one up, `message_id=""` leaves it out.
"""
from __future__ import annotations

import base64
import datetime as dt
import email
import email.policy
import hashlib
import io
import json
import mailbox
import mimetypes
import tarfile
import urllib.parse
from collections.abc import Iterable
from email.charset import QP, Charset
from email.header import Header
from email.mime.base import MIMEBase
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from pathlib import Path

WIRE = email.policy.compat32.clone(linesep="\r\n")  # compat32 writes hand-built header values as they are
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def outlook_message(sender: str, to: str, subject: str, date: dt.datetime | None,
                    attachments: list[tuple[str, bytes]], message_id: str | None = None) -> bytes:
    """Outlook: mixed > alternative (plain + html, quoted-printable), names as RFC 2047 words in name= and filename=."""
    msg = _envelope(MIMEMultipart("mixed"), sender, to, subject, date, message_id)
    body = MIMEMultipart("alternative")
    body.attach(_qp_text("Kính gửi Văn phòng,\nĐơn vị gửi bản tự chấm điểm.", "plain"))
    body.attach(_qp_text("<p>Kính gửi Văn phòng,<br>Đơn vị gửi bản tự chấm điểm.</p>", "html"))
    msg.attach(body)
    for name, data in attachments:
        words = encoded_words(name)
        part = _base64_part(name, data)
        part.replace_header("Content-Type", f'{_content_type(name)};\r\n\tname="{words}"')
        part["Content-Description"] = words
        part["Content-Disposition"] = f'attachment;\r\n\tfilename="{words}"; size={len(data)}'
        msg.attach(part)
    return msg.as_bytes(policy=WIRE)


def thunderbird_message(sender: str, to: str, subject: str, date: dt.datetime | None,
                        attachments: list[tuple[str, bytes]], message_id: str | None = None) -> bytes:
    """Thunderbird: mixed > plain text (base64) + attachments named with RFC 2231 filename*= (continued when long)."""
    msg = _envelope(MIMEMultipart("mixed"), sender, to, subject, date, message_id)
    msg.attach(_text("Kính gửi Văn phòng,\nĐơn vị gửi bản tự chấm điểm.\n"))
    for name, data in attachments:
        part = _base64_part(name, data)
        part.replace_header("Content-Type", f'{_content_type(name)};\r\n name="{encoded_words(name)}"')
        part["Content-Disposition"] = "attachment;" + rfc2231_param("filename", name)
        msg.attach(part)
    return msg.as_bytes(policy=WIRE)


def forwarded_message(sender: str, to: str, subject: str, date: dt.datetime | None, inner: bytes,
                      message_id: str | None = None) -> bytes:
    """A forward "as attachment": a short note, then the inner message whole as message/rfc822."""
    msg = _envelope(MIMEMultipart("mixed"), sender, to, subject, date, message_id)
    msg.attach(_text("Chuyển tiếp thư của đơn vị.\n"))
    part = MIMEMessage(email.message_from_bytes(inner, policy=email.policy.compat32))
    del part["MIME-Version"]
    part["Content-Disposition"] = 'attachment; filename="forwarded.eml"'
    msg.attach(part)
    return msg.as_bytes(policy=WIRE)


def encoded_words(text: str, chunk: int = 45) -> str:
    """`text` as RFC 2047 base64 words, split where Outlook splits: between characters, never inside one."""
    words, current = [], b""
    for char in text:
        if current and len(current + char.encode()) > chunk:
            words.append(current)
            current = b""
        current += char.encode()
    words.append(current)
    return " ".join(f"=?utf-8?B?{base64.b64encode(w).decode()}?=" for w in words)


def rfc2231_param(param: str, value: str, width: int = 40) -> str:
    """`; param*=utf-8''...` as Thunderbird writes it, as continuations `param*0*=`, `param*1*=` when long."""
    quoted = urllib.parse.quote(value, safe="")
    if len(quoted) <= width:
        return f"\r\n {param}*=utf-8''{quoted}"
    chunks, i = [], 0
    while i < len(quoted):
        end = min(i + width, len(quoted))
        while end < len(quoted) and "%" in quoted[end - 2:end]:  # never split a %XX escape
            end -= 1
        chunks.append(quoted[i:end])
        i = end
    first = f"\r\n {param}*0*=utf-8''{chunks[0]}"
    return first + "".join(f";\r\n {param}*{n}*={c}" for n, c in enumerate(chunks[1:], start=1))


def write_mbox(path: Path, messages: list[bytes]) -> Path:
    """An mbox as Thunderbird keeps one: LF line ends, a From_ line per message."""
    box = mailbox.mbox(path, create=True)
    try:
        for raw in messages:
            box.add(raw.replace(b"\r\n", b"\n"))
        box.flush()
    finally:
        box.close()
    return path


def write_maildir(path: Path, messages: list[bytes], seen: Iterable[int] = ()) -> Path:
    """A Maildir: message i in cur/ with the S (seen) flag when i is in `seen`, else in new/."""
    box = mailbox.Maildir(path, factory=None, create=True)
    seen = set(seen)
    for i, raw in enumerate(messages):
        msg = mailbox.MaildirMessage(raw)
        if i in seen:
            msg.set_subdir("cur")
            msg.set_flags("S")
        box.add(msg)
    return path


def write_zimbra_tgz(path: Path, messages: list[tuple[bytes, dt.datetime]], meta_first: bool = True,
                     extra: Iterable[tuple[str, bytes]] = ()) -> Path:
    """A Zimbra REST export (?fmt=tgz): a folder entry, then per message `Inbox/<id>-<subject>.eml.meta` and `.eml`.

    The .meta is Zimbra's ItemData JSON, whose `date` is the received time in seconds since the epoch;
    ArchiveFormatter writes it just before its .eml (`meta_first=False` puts it after). `extra` adds raw entries.
    """
    with tarfile.open(path, "w:gz") as tar:
        _add(tar, "Inbox.meta", json.dumps(_item(2, 1, "Inbox", "/Inbox", 0, 0)).encode(), 0)
        for n, (raw, received) in enumerate(messages):
            item_id = 257 + n
            when = int(received.timestamp())
            subject = str(email.message_from_bytes(raw, policy=email.policy.default)["subject"] or "")
            entry = f"Inbox/{item_id:010d}-{_entry_name(subject)}.eml"
            meta = json.dumps(_item(item_id, 5, subject, "/Inbox/" + subject, when, len(raw))).encode()
            pair = [(entry + ".meta", meta), (entry, raw)]
            for name, data in pair if meta_first else reversed(pair):
                _add(tar, name, data, when)
        for name, data in extra:
            _add(tar, name, data, 0)
    return path


def _item(item_id: int, kind: int, subject: str, item_path: str, date: int, size: int) -> dict:
    """ItemData.toJSON() of Zimbra (zm-mailbox store/.../service/util/ItemData.java): the same keys."""
    return {
        "id": item_id, "uuid": hashlib.md5(str(item_id).encode()).hexdigest(), "type": kind,
        "parent_id": -item_id if kind == 5 else 1, "folder_id": 2 if kind == 5 else 1, "index_id": 0,
        "imap_id": item_id, "date": date, "size": size, "volume_id": 0, "unread": 0, "flags": 0,
        "subject": subject, "mod_metadata": item_id, "change_date": date, "mod_content": item_id,
        "FlagStr": "", "Path": item_path, "Ver": 10,
    }


def _entry_name(subject: str) -> str:
    name = "".join("_" if c in '/\\:*?"<>|\0' else c for c in subject).strip()
    return name[:120] or "message"


def _add(tar: tarfile.TarFile, name: str, data: bytes, mtime: int) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime = len(data), mtime
    tar.addfile(info, io.BytesIO(data))


def _envelope(msg, sender: str, to: str, subject: str, date: dt.datetime | None, message_id: str | None):
    msg["From"] = _address(sender)
    msg["To"] = _address(to)
    msg["Subject"] = Header(subject, "utf-8").encode()
    if date is not None:
        msg["Date"] = format_datetime(date)
    if message_id is None:
        message_id = make_msgid(domain="example.gov.vn")
    if message_id:
        msg["Message-ID"] = message_id
    return msg


def _address(text: str) -> str:
    """ "Sở Nội vụ <snv@...>" with the display name encoded and the address left readable."""
    return formataddr(parseaddr(text), charset="utf-8")


def _text(text: str) -> MIMEText:
    part = MIMEText(text, "plain", "utf-8")  # base64, as Thunderbird sends non-ASCII text
    del part["MIME-Version"]
    return part


def _qp_text(text: str, subtype: str) -> MIMEText:
    charset = Charset("utf-8")
    charset.body_encoding = QP
    part = MIMEText(text, subtype, charset)
    del part["MIME-Version"]
    return part


def _content_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def _base64_part(name: str, data: bytes) -> MIMEBase:
    maintype, subtype = _content_type(name).split("/", 1)
    part = MIMEBase(maintype, subtype)
    del part["MIME-Version"]  # mail clients write it once, on the message
    part.set_payload(base64.encodebytes(data).decode("ascii"))
    part["Content-Transfer-Encoding"] = "base64"
    return part
