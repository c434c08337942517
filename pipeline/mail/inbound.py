"""Inbound mail: an .eml, mbox, Maildir or Zimbra .tgz, read-only -> every attachment it carries (Attachment)."""
from __future__ import annotations

import datetime as dt
import email.errors
import email.header
import email.utils
import hashlib
import json
import mailbox
import mimetypes
import re
import tarfile
import unicodedata
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from pipeline.issues import ThiduaError
from pipeline.mail import Attachment, local_iso

SPREADSHEETS = {".xlsx", ".xlsm", ".xls", ".ods"}

# Content types that are a spreadsheet even when the part carries no file name.
SPREADSHEET_TYPES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.ms-excel.sheet.macroenabled.12": ".xlsm",
    "application/vnd.ms-excel": ".xls",
    "application/x-msexcel": ".xls",
    "application/vnd.oasis.opendocument.spreadsheet": ".ods",
}

FALLBACK_NAME = "tep-dinh-kem"
MAX_NAME_CHARS = 150
MAX_NAME_BYTES = 180  # ext4 and most file systems allow 255 bytes; a Vietnamese letter takes up to 3
WINDOWS_ILLEGAL = set('<>:"|?*')
WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}

PARSER = BytesParser(policy=policy.default)
_RAW_PARAM = re.compile(r'(?:^|;)\s*(?:file)?name\s*=\s*("(?:[^"\\]|\\.)*"|[^;]+)', re.IGNORECASE)


def is_mail_source(path: Path) -> bool:
    """Whether collect should read `path` as mail rather than as a returned file."""
    return is_maildir(path) if path.is_dir() else is_mail_name(path.name)


def is_maildir(folder: Path) -> bool:
    return (folder / "cur").is_dir() and (folder / "new").is_dir()


def is_mail_name(name: str) -> bool:
    """A mail file's name: a message (.eml), a mailbox (mbox), a Zimbra export (.tgz)."""
    name = name.lower()
    return name == "mbox" or name.endswith((".eml", ".mbox", ".mbx", ".tgz", ".tar.gz"))


def read_mail(path: Path) -> Iterator[Attachment]:
    """Every attachment of every message in a mail file or folder, in a stable order; nothing is written."""
    try:
        yield from _reader(path)(path)
    except ThiduaError:
        raise
    except Exception as e:  # a corrupt archive or mailbox stops the run with one line naming the file
        raise ThiduaError(f"Không đọc được hộp thư {path.name}: {e} (unreadable mailbox)") from e


def _reader(path: Path):
    name = path.name.lower()
    if path.is_dir():
        return _read_maildir
    if name.endswith((".tgz", ".tar.gz")):
        return _read_zimbra
    if name.endswith(".eml"):
        return _read_eml
    return _read_mbox


def _read_eml(path: Path) -> Iterator[Attachment]:
    raw = path.read_bytes()
    msg = PARSER.parsebytes(raw)
    if not msg.keys():  # `email` parses anything; a file with no header at all is not a message
        raise ThiduaError(f"Tệp {path.name} không phải thư điện tử (not a mail message)")
    yield from attachments(msg, path.name, message_key(msg, raw))


def _read_mbox(path: Path) -> Iterator[Attachment]:
    # Never lock or flush: another program (Thunderbird) may own the file.
    box = mailbox.mbox(path, create=False)
    try:
        keys = box.keys()
        if not keys and path.stat().st_size:
            raise ThiduaError(f"Tệp {path.name} không phải hộp thư mbox (not an mbox file)")
        for key in keys:
            yield from _from_bytes(box.get_bytes(key), path.name)
    finally:
        box.close()


def _read_maildir(path: Path) -> Iterator[Attachment]:
    # Reading a Maildir through `mailbox` neither moves new/ to cur/ nor changes flags.
    box = mailbox.Maildir(path, factory=None, create=False)
    for key in sorted(box.keys()):
        yield from _from_bytes(box.get_bytes(key), path.name)


def _read_zimbra(path: Path) -> Iterator[Attachment]:
    """A Zimbra REST export (?fmt=tgz), streamed: per message `X.eml` and its item data `X.eml.meta` (JSON)."""
    metas: dict[str, dict] = {}
    pending: list[tuple[str, bytes]] = []
    with path.open("rb") as f, tarfile.open(fileobj=f, mode="r|gz") as tar:
        for member in tar:
            if not member.isfile() or not member.name.endswith((".eml", ".meta")):
                continue
            data = tar.extractfile(member).read()
            if member.name.endswith(".meta"):
                metas[member.name] = _json(data)
            elif (meta := _meta_for(metas, member.name)) is not None:
                yield from _from_bytes(data, path.name, _zimbra_date(meta))
            else:
                pending.append((member.name, data))  # its .meta may still come later in the stream
    for name, data in pending:
        yield from _from_bytes(data, path.name, _zimbra_date(_meta_for(metas, name) or {}))


def _meta_for(metas: dict[str, dict], eml: str) -> dict | None:
    # Zimbra names the item data "<entry>.meta" ("Inbox/0000000257-Subject.eml.meta"); also accept "<stem>.meta".
    return metas.get(eml + ".meta", metas.get(eml[: -len(".eml")] + ".meta"))


def _json(data: bytes) -> dict:
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _zimbra_date(meta: dict) -> str | None:
    """The item's received date: Zimbra's `date`, seconds since the epoch (milliseconds accepted too)."""
    try:
        seconds = float(meta["date"])
        if seconds > 1e11:  # no mail was received after the year 5138: this is milliseconds
            seconds /= 1000
        return local_iso(dt.datetime.fromtimestamp(seconds, dt.timezone.utc))
    except (KeyError, TypeError, ValueError, OverflowError, OSError):
        return None


def _from_bytes(raw: bytes, source: str, received: str | None = None) -> Iterator[Attachment]:
    msg = PARSER.parsebytes(raw)
    yield from attachments(msg, source, message_key(msg, raw), received)


def message_key(msg: EmailMessage, raw: bytes) -> str:
    """The outermost message's identity: its Message-ID, else a hash of its bytes with line ends made LF."""
    message_id = _message_id(msg)
    if message_id:
        return message_id
    # The same message saved as .eml (CRLF) and kept in an mbox (LF) must hash alike.
    return "sha256:" + hashlib.sha256(raw.replace(b"\r\n", b"\n").rstrip(b"\n")).hexdigest()


def attachments(msg: EmailMessage, source: str, key: str, received: str | None = None) -> Iterator[Attachment]:
    """The attachments of one message, forwarded messages included; `received` overrides the outer Date only."""
    outer = _Carrier(msg, received)
    for n, (part, carrier) in enumerate(_attached_parts(msg, outer), start=1):
        yield Attachment(
            name=sanitise(_filename(part) or _unnamed(part, n)),
            data=_payload(part),
            received=carrier.received,
            sender=carrier.sender,
            message_id=carrier.message_id,
            subject=carrier.subject,
            source=source,
            key=key,
        )


class _Carrier:
    """What the receipt keeps of the message that directly carries an attachment."""

    def __init__(self, msg: EmailMessage, received: str | None = None, outer: _Carrier | None = None):
        self.received = received if received is not None else _date(msg)
        if not self.received and outer is not None:
            self.received = outer.received  # a forward is sent after what it forwards: the best bound left
        self.sender = _text(_sender(msg))
        self.message_id = _message_id(msg)
        self.subject = _text(" ".join(_header(msg, "subject").split()))


def _attached_parts(entity: EmailMessage, carrier: _Carrier) -> Iterator[tuple[EmailMessage, _Carrier]]:
    ctype = entity.get_content_type()
    if ctype == "message/rfc822":
        inner = _inner_message(entity)
        if inner is not None:
            yield from _attached_parts(inner, _Carrier(inner, outer=carrier))
        return
    if ctype == "multipart/report":
        return  # a bounce carries our own outgoing message, not a unit's return
    if entity.is_multipart():
        for sub in entity.get_payload():
            yield from _attached_parts(sub, carrier)
    elif _is_attachment(entity):
        yield entity, carrier


def _inner_message(part: EmailMessage) -> EmailMessage | None:
    payload = part.get_payload()
    if isinstance(payload, list):
        return payload[0] if payload else None
    # Some clients base64-encode the forwarded message, so `email` leaves it unparsed.
    data = part.get_payload(decode=True)
    return PARSER.parsebytes(data) if data else None


def _is_attachment(part: EmailMessage) -> bool:
    if _filename(part) or part.get_content_type() in SPREADSHEET_TYPES:
        return True
    try:
        return part.get_content_disposition() == "attachment"
    except Exception:  # a malformed Content-Disposition is no reason to stop
        return False


def _filename(part: EmailMessage) -> str:
    """The part's file name, decoded (RFC 2231, RFC 2047 words, raw UTF-8), NFC; "" when it has none."""
    try:
        name = part.get_filename() or ""
    except Exception:
        name = ""
    if not name or "=?" in name:
        # `email` gives up on encoded words in an unquoted value (name==?utf-8?B?...?=); read the raw header.
        name = _raw_filename(part) or name
    if "=?" in name:
        name = _decode_words(name)
    return _text(name.strip())


def _text(value: str) -> str:
    """NFC text; bytes `email` could not decode (kept as surrogates) become U+FFFD."""
    value = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return unicodedata.normalize("NFC", value)


def _raw_filename(part: EmailMessage) -> str:
    for header in ("content-disposition", "content-type"):
        match = _RAW_PARAM.search(" ".join(_raw(part, header).split()))
        if match:
            return match.group(1).strip().strip('"')
    return ""


def _decode_words(text: str) -> str:
    try:
        return str(email.header.make_header(email.header.decode_header(text)))
    except (LookupError, UnicodeError, ValueError, email.errors.HeaderParseError):
        return text


def _unnamed(part: EmailMessage, n: int) -> str:
    ctype = part.get_content_type()
    ext = SPREADSHEET_TYPES.get(ctype) or mimetypes.guess_extension(ctype) or ""
    return f"{FALLBACK_NAME}-{n}{ext}"


def _payload(part: EmailMessage) -> bytes:
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def sanitise(name: str) -> str:
    """A safe file name: the last path part only, no control or Windows-illegal characters, NFC, never empty."""
    name = re.split(r"[/\\]", unicodedata.normalize("NFC", name))[-1]
    name = "".join(c for c in name if c not in WINDOWS_ILLEGAL and not unicodedata.category(c).startswith("C"))
    bare = name.strip(" .")
    if name.lstrip(" ").startswith(".") and "." not in bare:
        bare = f"{FALLBACK_NAME}.{bare}" if bare else ""  # ".xlsx" keeps its extension
    name = _shorten(bare) or FALLBACK_NAME
    if name.split(".")[0].upper() in WINDOWS_RESERVED:
        name = "_" + name
    return name


def _shorten(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext) > 16:
        stem, ext = name, ""
    suffix = f".{ext}" if ext else ""
    stem = stem[: max(MAX_NAME_CHARS - len(suffix), 0)]
    while stem and len((stem + suffix).encode()) > MAX_NAME_BYTES:
        stem = stem[:-1]
    stem = stem.rstrip(" .")
    return stem + suffix if stem else ""


def _raw(msg: EmailMessage, name: str) -> str:
    for key, value in msg.raw_items():
        if key.lower() == name:
            return str(value)
    return ""


def _header(msg: EmailMessage, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # the header parser can still raise on rare malformed input
        value = _decode_words(_raw(msg, name))
    return "" if value is None else str(value)


def _date(msg: EmailMessage) -> str:
    raw = " ".join(_raw(msg, "date").split())
    try:
        return local_iso(email.utils.parsedate_to_datetime(raw))
    except (TypeError, ValueError, IndexError, OverflowError):
        return ""


def _sender(msg: EmailMessage) -> str:
    try:
        addresses = msg["from"].addresses
        address = addresses[0].addr_spec if addresses else ""
    except Exception:  # no From, or one `email` cannot parse into addresses
        address = email.utils.parseaddr(_header(msg, "from"))[1]
    return address.strip().lower()


def _message_id(msg: EmailMessage) -> str:
    return _text(" ".join(_raw(msg, "message-id").split()))
