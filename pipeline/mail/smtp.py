"""Sending: composed messages -> the SMTP server, one connection for the batch, each logged in sent.csv."""
from __future__ import annotations

import base64
import copy
import csv
import os
import smtplib
import ssl
import time
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from email.utils import getaddresses
from pathlib import Path

from ..issues import ThiduaError
from .message import POLICY

SECURITY_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
SENT_COLUMNS = ["what", "unit", "to", "message_id", "sent_at", "result"]
TIMEOUT = 60  # seconds a silent server is given before the attempt counts as failed


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: str  # starttls | ssl | none
    user: str = ""
    password: str = field(default="", repr=False)  # never printed, never logged


def config_from(host: str, port: int | str | None, security: str, user: str, environ=os.environ) -> SmtpConfig:
    """The campaign's SMTP settings, overridden by THIDUA_SMTP_*; the password only from the environment."""
    host = (environ.get("THIDUA_SMTP_HOST") or host or "").strip()
    security = (environ.get("THIDUA_SMTP_SECURITY") or security or "starttls").strip().lower()
    if security not in SECURITY_PORTS:
        raise ThiduaError(f"Bảo mật SMTP “{security}” không hợp lệ; dùng: {', '.join(SECURITY_PORTS)} "
                          "(smtp_security must be starttls, ssl or none)")
    return SmtpConfig(host, _port(environ.get("THIDUA_SMTP_PORT") or port, security), security,
                      # set but empty, THIDUA_SMTP_USER means no AUTH (a relay that takes mail from this host)
                      environ.get("THIDUA_SMTP_USER", user or "").strip(), environ.get("THIDUA_SMTP_PASSWORD", ""))


def _port(value, security: str) -> int:
    if value is None or str(value).strip() == "":
        return SECURITY_PORTS[security]
    try:
        port = int(str(value).strip().removesuffix(".0"))  # a port typed in Excel arrives as 587.0
    except ValueError:
        port = 0
    if not 0 < port < 65536:
        raise ThiduaError(f"Cổng SMTP “{value}” không hợp lệ: phải là số từ 1 đến 65535 "
                          "(smtp_port must be 1-65535)")
    return port


def load_sent(log: Path) -> list[dict]:
    """The rows of sent.csv, oldest first; none when it does not exist yet."""
    log = Path(log)
    if not log.is_file():
        return []
    with log.open(newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def already_sent(log: Path) -> set[str]:
    """Message-IDs the server accepted in an earlier run."""
    return {r["message_id"] for r in load_sent(log) if r.get("result") == "ok" and r.get("message_id")}


def _append(log: Path, row: dict) -> None:
    """One row, on disk before the next message goes, so a crash cannot forget what was sent."""
    log.parent.mkdir(parents=True, exist_ok=True)
    new = not log.is_file() or log.stat().st_size == 0
    # utf-8-sig: Excel reads the Vietnamese right; in append mode Python writes the BOM only at the start.
    with log.open("a", newline="", encoding="utf-8-sig") as f:
        writer = csv.DictWriter(f, SENT_COLUMNS)
        if new:
            writer.writeheader()
        writer.writerow(row)
        f.flush()
        os.fsync(f.fileno())


def send_all(messages: list[tuple[str, str, Message]], config: SmtpConfig, log: Path, resend: bool = False,
             progress=lambda done: None, retries: int = 3, backoff: float = 1.0, ssl_context=None,
             now=datetime.now) -> list[dict]:
    """Send what sent.csv does not show as sent (everything with `resend`); the rows written in this run."""
    log = Path(log)
    done = set() if resend else already_sent(log)
    rows: list[dict] = []
    session = _Session(config, ssl_context)
    try:
        for count, (what, unit, msg) in enumerate(messages, 1):
            mid = str(msg.get("Message-ID") or "").strip()
            if not (mid and mid in done):
                rcpts = _addresses(msg, "To", "Cc", "Bcc")
                result = _scrub(_deliver(session, msg, rcpts, retries, backoff), config.password)
                row = {"what": what, "unit": unit, "to": ", ".join(rcpts), "message_id": mid,
                       "sent_at": now().isoformat(timespec="seconds"), "result": result}
                _append(log, row)
                rows.append(row)
                if result == "ok" and mid:
                    done.add(mid)  # the same message twice in one batch goes once
            progress(count)
    finally:
        session.close()
    return rows


class _ConnectFailed(ThiduaError):
    """The server cannot be reached or will not let us in: no message can go."""

    def __init__(self, text: str, transient: bool):
        super().__init__(text)
        self.transient = transient


class _Session:
    """The batch's one connection: opened when first needed, opened again after the server drops it."""

    def __init__(self, config: SmtpConfig, context):
        self.config, self.context = config, context
        self.smtp: smtplib.SMTP | None = None
        self.opened = False

    def client(self) -> smtplib.SMTP:
        if self.smtp is None:
            self.smtp = _connect(self.config, self.context or ssl.create_default_context())
            self.opened = True
        return self.smtp

    def forget_closed(self) -> None:
        """smtplib closes the socket itself on some replies (421); the next try must connect again."""
        if self.smtp is not None and self.smtp.sock is None:
            self.smtp = None

    def drop(self) -> None:
        if self.smtp is not None:
            self.smtp.close()
        self.smtp = None

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass  # everything is sent and logged; a rude goodbye changes nothing
        self.drop()


def _connect(config: SmtpConfig, context: ssl.SSLContext) -> smtplib.SMTP:
    """A connected, secured and (with a user) logged-in client, or one clear line naming host and port."""
    where = f"{config.host}:{config.port} ({config.security})"
    client = None
    try:
        if config.security == "ssl":
            client = smtplib.SMTP_SSL(config.host, config.port, timeout=TIMEOUT, context=context)
        else:
            client = smtplib.SMTP(config.host, config.port, timeout=TIMEOUT)
        client.ehlo()
        if config.security == "starttls":
            client.starttls(context=context)
            client.ehlo()  # RFC 3207: what the server offers is asked again once encrypted
        if config.user:
            _login(client, config.user, config.password)
        return client
    except smtplib.SMTPAuthenticationError as e:
        failure = (f"Máy chủ gửi thư {where} từ chối đăng nhập tài khoản {config.user}: {_reply(e)} "
                   "(authentication failed: check the user and THIDUA_SMTP_PASSWORD)", False)
    except smtplib.SMTPNotSupportedError as e:
        missing = "STARTTLS" if "STARTTLS" in str(e) else "đăng nhập (AUTH)"
        failure = (f"Máy chủ gửi thư {where} không hỗ trợ {missing}; "
                   f"kiểm tra smtp_security và smtp_port (server does not support it: {e})", False)
    except ssl.SSLError as e:
        failure = f"Không thiết lập được kết nối bảo mật tới {where}: {e} (TLS failed)", False
    except smtplib.SMTPResponseException as e:
        failure = f"Máy chủ gửi thư {where} từ chối kết nối: {_reply(e)} (server refused)", 400 <= e.smtp_code < 500
    except (smtplib.SMTPException, OSError) as e:
        failure = f"Không kết nối được máy chủ gửi thư {where}: {str(e) or type(e).__name__} (cannot connect)", True
    if client is not None:
        client.close()
    raise _ConnectFailed(_scrub(failure[0], config.password), failure[1])


def _login(client: smtplib.SMTP, user: str, password: str) -> None:
    """AUTH; smtplib encodes credentials as ASCII, so a password with Vietnamese letters goes as UTF-8 PLAIN."""
    if (user + password).isascii():
        client.login(user, password)
        return
    if "PLAIN" not in client.esmtp_features.get("auth", "").upper().split():
        raise smtplib.SMTPNotSupportedError("AUTH PLAIN, needed for a non-ASCII password, not offered")
    token = base64.b64encode(b"\0" + user.encode("utf-8") + b"\0" + password.encode("utf-8")).decode("ascii")
    code, reply = client.docmd("AUTH", "PLAIN " + token)
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, reply)


def _deliver(session: _Session, msg: Message, rcpts: list[str], retries: int, backoff: float) -> str:
    """"ok", or why the server would not take the message; transient failures are tried again."""
    if msg.get("Bcc"):
        msg = copy.copy(msg)
        del msg["Bcc"]  # the envelope carries them; the header would show them to everyone
    sender = (_addresses(msg, "Sender") or _addresses(msg, "From") or [""])[0]
    try:
        data = msg.as_bytes(policy=POLICY)
    except (UnicodeError, ValueError) as e:
        return f"lỗi: thư không tạo được ({e})"
    if not rcpts:
        return "lỗi: thư không có người nhận"
    failure = ""
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(backoff * 2 ** (attempt - 1))
        final, failure = _attempt(session, sender, rcpts, data, last=attempt == retries)
        if final is not None:
            return final
        session.forget_closed()
    return failure


def _attempt(session: _Session, sender: str, rcpts: list[str], data: bytes, last: bool) -> tuple[str | None, str]:
    """One try: (the final result, "") or (None, why it may work next time)."""
    try:
        refused = session.client().sendmail(sender, rcpts, data)
    except _ConnectFailed as e:
        if not (e.transient and session.opened) or last:
            raise  # the first connection, a refused login, or a server gone for good: nothing more can go
        return None, str(e)
    except smtplib.SMTPRecipientsRefused as e:
        failure = "; ".join(_reply(code, text, addr if len(rcpts) > 1 else "")
                            for addr, (code, text) in e.recipients.items())
        transient = all(400 <= code < 500 for code, _ in e.recipients.values())
        return (None, failure) if transient else (failure, "")
    except smtplib.SMTPResponseException as e:  # sender or data refused
        return (None, _reply(e)) if 400 <= e.smtp_code < 500 else (_reply(e), "")
    except UnicodeError as e:
        return f"lỗi: địa chỉ không gửi được qua SMTP ({e})", ""
    except (smtplib.SMTPException, OSError) as e:  # dropped, reset, timed out
        session.drop()
        return None, f"lỗi kết nối: {str(e) or type(e).__name__}"
    if refused:  # some recipients took it, some did not: sending again would repeat it to the first
        return "; ".join(_reply(code, text, addr) for addr, (code, text) in refused.items()), ""
    return "ok", ""


def _reply(code, text=None, addr: str = "") -> str:
    """A server reply as people read it: “lỗi 550: 5.1.1 mailbox unavailable”."""
    if isinstance(code, smtplib.SMTPResponseException):
        code, text = code.smtp_code, code.smtp_error
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = " ".join(str(text or "").split())[:300]
    return f"lỗi {code}: {text}" + (f" ({addr})" if addr else "")


def _scrub(text: str, password: str) -> str:
    """Whatever a server echoes, the password never reaches a file or a screen."""
    return text.replace(password, "***") if password else text


def _addresses(msg: Message, *names: str) -> list[str]:
    found: list[str] = []
    for name in names:
        for value in msg.get_all(name, []):
            parsed = getattr(value, "addresses", None)
            if parsed is not None:
                found += [a.addr_spec for a in parsed if a.addr_spec]
            else:
                found += [a for _, a in getaddresses([str(value)]) if a]
    return found
