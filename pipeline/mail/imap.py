"""IMAP in: one folder of a mail server, strictly read-only (EXAMINE, BODY.PEEK) -> the attachments (Attachment)."""
from __future__ import annotations

import base64
import datetime as dt
import imaplib
import ipaddress
import re
import ssl
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass

from pipeline.issues import ThiduaError
from pipeline.mail import Attachment, local_iso
from pipeline.mail.inbound import PARSER, attachments, message_key

DEFAULT_PORTS = {"imaps": 993, "imap": 143}
BATCH = 50          # UIDs per FETCH: a big folder is many small responses, not one huge one
TIMEOUT = 60        # seconds a silent server is waited for
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_INTERNALDATE = re.compile(
    rb'INTERNALDATE "\s*(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([-+])(\d{2})(\d{2})"')
_UID = re.compile(rb"\bUID (\d+)")


@dataclass(frozen=True)
class ImapTarget:
    """Where to read: the server, the account and the folder (never the password)."""

    scheme: str  # "imaps" (TLS) or "imap" (plain on loopback, STARTTLS elsewhere)
    host: str
    port: int
    user: str
    folder: str

    @property
    def source(self) -> str:
        """Shown to people and kept in receipts: no user, no password."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}/{self.folder}"


def parse_url(url: str) -> ImapTarget:
    """imaps://user@host[:port]/FOLDER; the user may hold '@' (the last '@' ends it) or '%40'."""
    parts = urllib.parse.urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ThiduaError("Địa chỉ hộp thư phải bắt đầu bằng imaps:// hoặc imap:// "
                          "(IMAP URL must start with imaps://)")
    userinfo, _, hostport = parts.netloc.rpartition("@")
    if ":" in userinfo:
        raise ThiduaError("Không ghi mật khẩu trong địa chỉ hộp thư (do not put the password in the IMAP URL)")
    user = urllib.parse.unquote(userinfo)
    try:
        hostpart = urllib.parse.urlsplit("//" + hostport)
        host, port = hostpart.hostname or "", hostpart.port or DEFAULT_PORTS[scheme]
    except ValueError as e:
        raise ThiduaError(f"Cổng không hợp lệ trong địa chỉ hộp thư {hostport}: {e} "
                          f"(bad port in IMAP URL)") from e
    if not host:
        raise ThiduaError("Địa chỉ hộp thư thiếu tên máy chủ (IMAP URL has no host)")
    if not user:
        raise ThiduaError(f"Địa chỉ hộp thư thiếu tên đăng nhập, ví dụ imaps://ten@{host}/INBOX "
                          f"(IMAP URL has no user)")
    folder = urllib.parse.unquote(parts.path.strip("/")) or "INBOX"
    return ImapTarget(scheme, host, port, user, folder)


def read_imap(url: str, password: str, since: dt.date | None = None,
              ssl_context: ssl.SSLContext | None = None) -> Iterator[Attachment]:
    """Every attachment in one IMAP folder (since a date, by INTERNALDATE); nothing on the server changes.

    The URL is checked at once; the server is reached when the attachments are first asked for.
    """
    target = parse_url(url)
    return _read(target, password, since, ssl_context or ssl.create_default_context())  # honours SSL_CERT_FILE


def _read(target: ImapTarget, password: str, since: dt.date | None,
          context: ssl.SSLContext) -> Iterator[Attachment]:
    conn = _connect(target, context)
    try:
        _login(conn, target, password)
        _examine(conn, target)
        for batch in _batches(_search(conn, target, since)):
            for internaldate, raw in _fetch(conn, target, batch):
                msg = PARSER.parsebytes(raw)
                yield from attachments(msg, target.source, message_key(msg, raw), local_iso(internaldate))
    finally:
        _logout(conn)


def _connect(target: ImapTarget, context: ssl.SSLContext) -> imaplib.IMAP4:
    conn = None
    try:
        if target.scheme == "imaps":
            return imaplib.IMAP4_SSL(target.host, target.port, ssl_context=context, timeout=TIMEOUT)
        conn = imaplib.IMAP4(target.host, target.port, timeout=TIMEOUT)
        if not _is_loopback(target.host):
            conn.starttls(ssl_context=context)  # a password never crosses a network in clear
        return conn
    except (OSError, imaplib.IMAP4.error) as e:
        if conn is not None:
            conn.shutdown()
        raise ThiduaError(f"Không kết nối được máy chủ thư {target.host}:{target.port}: {e} "
                          f"(cannot connect to the IMAP server)") from e


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _login(conn: imaplib.IMAP4, target: ImapTarget, password: str) -> None:
    try:
        if (target.user + password).isascii():
            conn.login(target.user, password)
        else:  # LOGIN's quoted strings are ASCII; SASL PLAIN carries UTF-8
            conn.authenticate("PLAIN", lambda _: f"\0{target.user}\0{password}".encode())
    except (OSError, imaplib.IMAP4.error) as e:
        reason = _reason(e).replace(password, "***") if password else _reason(e)
        raise ThiduaError(f"Đăng nhập hộp thư {target.user} tại {target.host} thất bại: {reason} "
                          f"(IMAP login failed)") from e


def _examine(conn: imaplib.IMAP4, target: ImapTarget) -> None:
    try:
        status, data = conn.select(quote(utf7(target.folder)), readonly=True)  # EXAMINE: flags stay as they are
    except (OSError, imaplib.IMAP4.error) as e:
        status, data = "NO", [str(e).encode()]
    if status != "OK":
        raise ThiduaError(f"Không mở được thư mục {target.folder} trên {target.host}: {_reason(data)} "
                          f"(cannot open the IMAP folder)")


def _search(conn: imaplib.IMAP4, target: ImapTarget, since: dt.date | None) -> list[bytes]:
    criteria = ("SINCE", f"{since.day:02d}-{MONTHS[since.month - 1]}-{since.year}") if since else ("ALL",)
    data = _command(conn, target, "SEARCH", *criteria)
    return sorted((uid for line in data if line for uid in line.split()), key=int)


def _batches(uids: list[bytes]) -> Iterator[list[bytes]]:
    for i in range(0, len(uids), BATCH):
        yield uids[i:i + BATCH]


def _fetch(conn: imaplib.IMAP4, target: ImapTarget, uids: list[bytes]) -> Iterator[tuple[dt.datetime, bytes]]:
    # BODY.PEEK[]: plain BODY[] would set \Seen on every message read.
    data = _command(conn, target, "FETCH", b",".join(uids).decode(), "(UID INTERNALDATE BODY.PEEK[])")
    records: list[list[bytes]] = []
    for item in data:
        if isinstance(item, tuple):
            records.append([item[0], item[1]])
        elif isinstance(item, bytes) and records:
            records[-1][0] += b" " + item  # items the server put after the literal: "... UID 7)"
    for head, raw in sorted(records, key=lambda r: _uid(r[0])):
        when = _internaldate(head)
        if when is None:
            raise ThiduaError(f"Máy chủ {target.host} trả về INTERNALDATE không đọc được: {head[:100]!r} "
                              f"(unreadable INTERNALDATE)")
        yield when, raw


def _command(conn: imaplib.IMAP4, target: ImapTarget, name: str, *args: str) -> list:
    try:
        status, data = conn.uid(name, *args)
    except (OSError, imaplib.IMAP4.error) as e:
        status, data = "NO", [str(e).encode()]
    if status != "OK":
        raise ThiduaError(f"Lỗi đọc thư mục {target.folder} trên {target.host} ({name}): {_reason(data)} "
                          f"(IMAP {name} failed)")
    return data


def _uid(head: bytes) -> int:
    match = _UID.search(head)
    return int(match.group(1)) if match else 0


def _internaldate(head: bytes) -> dt.datetime | None:
    """INTERNALDATE as an aware datetime (imaplib.Internaldate2tuple would give local time, the zone lost)."""
    match = _INTERNALDATE.search(head)
    if not match:
        return None
    day, mon, year, hour, minute, second, sign, zh, zm = (g.decode() for g in match.groups())
    if mon.title() not in MONTHS:
        return None
    offset = dt.timedelta(hours=int(zh), minutes=int(zm)) * (-1 if sign == "-" else 1)
    try:
        return dt.datetime(int(year), MONTHS.index(mon.title()) + 1, int(day), int(hour), int(minute), int(second),
                           tzinfo=dt.timezone(offset))
    except ValueError:
        return None


def _logout(conn: imaplib.IMAP4) -> None:
    try:
        conn.logout()
    except (OSError, imaplib.IMAP4.error):
        pass  # the answers are read; a server that hangs up first changes nothing


def _reason(error) -> str:
    """The server's one-line answer, as text."""
    if isinstance(error, BaseException):  # imaplib's errors carry the server's bytes; OSError its own text
        error = error.args[0] if len(error.args) == 1 else str(error)
    if isinstance(error, list):
        error = b" ".join(x for x in error if isinstance(x, bytes)) or str(error)
    if isinstance(error, bytes):
        error = error.decode("utf-8", "replace")
    return " ".join(str(error).split())


def quote(name: str) -> str:
    """An IMAP quoted string: folder names may hold spaces."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def utf7(name: str) -> str:
    """A folder name in IMAP's modified UTF-7 (RFC 3501 §5.1.3): "~peter/mail/台北" -> "~peter/mail/&U,BTFw-"."""
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            encoded = base64.b64encode("".join(run).encode("utf-16-be")).rstrip(b"=").replace(b"/", b",")
            out.append("&" + encoded.decode("ascii") + "-")
            run.clear()

    for char in name:
        if " " <= char <= "~":
            flush()
            out.append("&-" if char == "&" else char)
        else:
            run.append(char)
    flush()
    return "".join(out)
