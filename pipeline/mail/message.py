"""Messages out: one Outgoing (Vietnamese text, an .xlsx attached) -> an RFC 5322 message and its .eml file."""
from __future__ import annotations

import base64
import datetime as dt
import email.message
import email.parser
import email.policy
import email.utils
import hashlib
import json
import unicodedata
import urllib.parse
from dataclasses import dataclass
from email import base64mime
from email.headerregistry import Address
from pathlib import Path

from ..workbook import atomic
from . import VIETNAM

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# CRLF for SMTP and .eml files. 76, not 78: Python folds encoded words to the line length, and at 78 it
# writes 76-character words, past RFC 2047's 75. refold_source="none" keeps the attachment headers as
# written below: refolding would turn the RFC 2047 name into RFC 2231 and split filename* into sections.
POLICY = email.policy.SMTP.clone(max_line_length=76, refold_source="none")

MAX_LINE = 998        # RFC 5322 section 2.1.1
WORD_BYTES = 42       # UTF-8 bytes per encoded word: 56 base64 characters, a 68-character word


@dataclass(frozen=True)
class Outgoing:
    """One message the officer sends: what it is, to whom, and the workbook it carries."""

    what: str              # templates | registration | review | reminder | feedback
    recipient: str         # unit or bloc code: the .eml's file name
    to: str                # address
    to_name: str           # display name (Vietnamese)
    subject: str
    body: str              # plain text, Vietnamese
    attachment: Path | None
    attachment_name: str   # the Vietnamese file name the recipient sees
    in_reply_to: str = ""  # Message-ID this answers (feedback replies to the unit's return)


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text or "")


def _attachment_bytes(out: Outgoing) -> bytes:
    return Path(out.attachment).read_bytes() if out.attachment else b""


def message_id(out: Outgoing, sender: str) -> str:
    """A Message-ID that is the same for the same message, so a rerun can tell what was already sent."""
    data = _attachment_bytes(out)
    fields = [_nfc(f) for f in (out.what, out.recipient, out.to.lower(), out.subject, out.body)]
    fields.append(hashlib.sha256(data).hexdigest())
    digest = hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode("utf-8")).hexdigest()
    domain = sender.rpartition("@")[2].strip().lower() or "thidua.invalid"
    return f"<{digest[:32]}.thidua@{domain}>"


def compose(out: Outgoing, sender: str, sender_name: str, reply_to: str,
            date: dt.datetime) -> email.message.EmailMessage:
    """The message as sent and as written to the outbox: plain Vietnamese text and the workbook."""
    if date.tzinfo is None:
        date = date.replace(tzinfo=VIETNAM)  # the officer's clock
    msg = email.message.EmailMessage(policy=POLICY)
    # Written pre-encoded: Python's folder can put the space between two encoded words outside both, where
    # readers drop it ("Tòa án nhândân"), so the words are made here with their spaces inside.
    msg.set_raw("From", _address(sender_name, sender))
    msg.set_raw("To", _address(out.to_name, out.to))
    if reply_to:
        msg.set_raw("Reply-To", _address(sender_name, reply_to))
    msg.set_raw("Subject", _phrase(out.subject))
    msg["Date"] = email.utils.format_datetime(date)
    msg["Message-ID"] = message_id(out, sender)
    if out.in_reply_to:
        msg["In-Reply-To"] = out.in_reply_to
        msg["References"] = out.in_reply_to
    # Quoted-printable keeps the message 7-bit, so no server needs 8BITMIME.
    msg.set_content(_nfc(out.body), charset="utf-8", cte="quoted-printable")
    if out.attachment:
        msg.make_mixed()
        msg.attach(_attachment_part(_attachment_bytes(out), _nfc(out.attachment_name or Path(out.attachment).name)))
        # A boundary from the Message-ID, not random: the same message is the same .eml on every run.
        msg.set_boundary("=_thidua_" + msg["Message-ID"].strip("<>").split(".")[0])
    return msg


def _attachment_part(data: bytes, name: str) -> email.message.EmailMessage:
    """The workbook with its name given twice, for readers of either standard.

    RFC 2231 `filename*` is what Thunderbird, Zimbra and Outlook 2007+ read; Outlook before 2007 and
    Exchange's fallback read Content-Type `name`, which they expect RFC 2047 encoded. The headers are
    parsed from text because Python, given the name, would write only RFC 2231 (and split it).
    """
    head = (f'Content-Type: {XLSX};\r\n name="{_encoded_words(name)}"\r\n'
            f"Content-Disposition: attachment;\r\n {_rfc2231('filename', name)}\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n")
    part = email.parser.BytesParser(email.message.EmailMessage, policy=POLICY).parsebytes(head.encode("ascii"))
    # the body set as its base64 lines, not parsed: the parser's feed of ~1,500 lines was a fifth of `mail`
    part.set_payload(base64.encodebytes(data).decode("ascii").replace("\n", "\r\n"))
    return part


def _encoded_words(text: str) -> str:
    """RFC 2047 words, one to a folded line, cut between characters and, where one is near, after a space:
    a reader that wrongly keeps the fold's whitespace (CPython gh-128110) then still sees whole words."""
    chunks, chunk = [], ""
    for char in text:
        if chunk and len((chunk + char).encode("utf-8")) > WORD_BYTES:
            cut = chunk.rfind(" ") + 1
            cut = cut if cut > len(chunk) // 2 else len(chunk)
            chunks.append(chunk[:cut])
            chunk = chunk[cut:]
        chunk += char
    chunks.append(chunk)
    return "\r\n ".join(base64mime.header_encode(c.encode("utf-8"), "utf-8") for c in chunks)


def _phrase(text: str) -> str:
    """Header text as it goes on the wire: ASCII as it is, anything else as RFC 2047 words (NFC)."""
    text = _nfc(text)
    return text if text.isascii() else _encoded_words(text)


def _address(name: str, addr: str) -> str:
    """`Name <addr>`, the display name quoted (ASCII) or encoded (Vietnamese); the address itself is ASCII."""
    str(Address(addr_spec=addr))  # a malformed address fails here, not at the server
    name = _nfc(name)
    if not name:
        return addr
    if name.isascii():
        return email.utils.formataddr((name, addr))
    return f"{_encoded_words(name)}\r\n <{addr}>"


def _rfc2231(param: str, text: str) -> str:
    """`param*=utf-8''…` on one line; RFC 2231 sections only past the 998-octet line limit."""
    quoted = urllib.parse.quote(text, safe="")
    whole = f"{param}*=utf-8''{quoted}"
    if len(whole) + 2 <= MAX_LINE:
        return whole
    sections, rest = [], quoted
    while rest:
        cut = min(len(rest), 60)
        while "%" in rest[max(0, cut - 2):cut]:  # never split a %XX escape
            cut -= 1
        sections.append(rest[:cut])
        rest = rest[cut:]
    first = f"{param}*0*=utf-8''{sections[0]}"
    return ";\r\n ".join([first] + [f"{param}*{i}*={s}" for i, s in enumerate(sections[1:], 1)])


def write_eml(msg: email.message.Message, path: Path) -> Path:
    """The message's exact bytes (CRLF) in `path`, folders created."""
    path = Path(path)
    with atomic(path) as tmp:  # a run killed mid-write leaves no half message in the outbox
        Path(tmp).write_bytes(msg.as_bytes(policy=POLICY))
    return path
