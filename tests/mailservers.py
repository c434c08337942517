"""Test mail servers: a real Dovecot IMAP server on loopback, with TLS from a test CA (trustme).

Use it in a test module with `from mailservers import dovecot` and a `dovecot` argument:

    def test_x(dovecot):
        uid = dovecot.append("INBOX", message_bytes, internaldate, flags="\\\\Seen")
        read_imap(dovecot.url("INBOX"), dovecot.password, ssl_context=dovecot.ssl_context())

One server serves the whole session; tests keep apart by folder names (test_mail_imap uses the folder
"Bản tự chấm 2025" and the INBOX of the second account, snv@thidua.test). Needs Debian's `dovecot-imapd`.
"""
from __future__ import annotations

import datetime as dt
import imaplib
import os
import pwd
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline.mail.imap import quote, utf7

START_TIMEOUT = 15  # seconds
SERVER_TZ = "EST5"  # POSIX: UTC-5 all year, no tzdata needed
# Users have an '@' in their names, as on government mail servers; the second has a non-ASCII password.
ACCOUNTS = {"vanphong@thidua.test": "MatKhau-Thu-2025", "snv@thidua.test": "mật khẩu thử"}


@dataclass
class Dovecot:
    """A running Dovecot: where it listens, who may log in, and helpers to fill and inspect its folders."""

    host: str
    imap_port: int
    imaps_port: int
    user: str
    password: str
    ca_path: Path       # PEM of the CA that signed the server's certificate (for SSL_CERT_FILE)
    log_path: Path
    maildir: Path       # the user's Maildir on disk
    accounts: dict[str, str]  # every user -> password (`user` is one of them)

    def url(self, folder: str = "INBOX", tls: bool = True) -> str:
        """imaps://user@127.0.0.1:port/folder, the user and folder percent-encoded."""
        scheme, port = ("imaps", self.imaps_port) if tls else ("imap", self.imap_port)
        user = urllib.parse.quote(self.user, safe="")
        return f"{scheme}://{user}@{self.host}:{port}/{urllib.parse.quote(folder)}"

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's CA and nothing else."""
        return ssl.create_default_context(cafile=str(self.ca_path))

    def connect(self, user: str | None = None) -> imaplib.IMAP4:
        """A logged-in plain connection, as `user` (default: `self.user`); the caller logs out."""
        user = user or self.user
        conn = imaplib.IMAP4(self.host, self.imap_port, timeout=10)
        conn.authenticate("PLAIN", lambda _: f"\0{user}\0{self.accounts[user]}".encode())
        return conn

    def append(self, folder: str, message: bytes, internaldate: dt.datetime, flags: str = "",
               user: str | None = None) -> int:
        """Put one message in `folder` (created when missing) with that INTERNALDATE; its UID."""
        conn = self.connect(user)
        try:
            name = quote(utf7(folder))
            conn.create(name)  # "already exists" is fine
            status, data = conn.append(name, f"({flags})" if flags else None,
                                       imaplib.Time2Internaldate(internaldate), message)
            assert status == "OK", data
            return int(re.search(rb"APPENDUID \d+ (\d+)", data[0]).group(1))
        finally:
            conn.logout()

    def flags(self, folder: str) -> dict[int, set[str]]:
        """UID -> flags of every message in `folder`, read with EXAMINE; \\Recent left out (it is per session)."""
        conn = self.connect()
        try:
            status, data = conn.select(quote(utf7(folder)), readonly=True)
            assert status == "OK", data
            status, data = conn.uid("FETCH", "1:*", "(UID FLAGS)")
            result = {}
            for line in data:
                if isinstance(line, bytes) and b"UID" in line:
                    uid = int(re.search(rb"UID (\d+)", line).group(1))
                    flags = re.search(rb"FLAGS \(([^)]*)\)", line).group(1).decode().split()
                    result[uid] = set(flags) - {"\\Recent"}
            return result
        finally:
            conn.logout()


@pytest.fixture(scope="session")
def dovecot(tmp_path_factory) -> Dovecot:
    """Dovecot on 127.0.0.1 (imap and imaps on free ports), one user, Maildir storage; stopped after the session."""
    binary = shutil.which("dovecot") or ("/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None)
    if binary is None:
        message = "Dovecot is not installed: apt-get install dovecot-imapd"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI installs it: a missing server there is a broken setup, not a skip
        pytest.skip(message)
    # Dovecot's own processes (auth as `dovecot`, mail as the mail user) must reach the files: pytest's
    # temporary folders are private to us, so the server lives in a folder of its own, world-traversable.
    root = Path(tempfile.mkdtemp(prefix="thidua-dovecot-"))
    root.chmod(0o755)
    try:
        server, process = _start(binary, root)
        yield server
        _stop(process)
        shutil.copy(server.log_path, tmp_path_factory.mktemp("dovecot") / "dovecot.log")  # kept for a look
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _start(binary: str, root: Path) -> tuple[Dovecot, subprocess.Popen]:
    ca_path = _certificates(root)
    (root / "passwd").write_text("".join(f"{u}:{{PLAIN}}{p}\n" for u, p in ACCOUNTS.items()), encoding="utf-8")
    for attempt in range(3):  # a free port can be taken between asking and binding
        imap_port, imaps_port = _free_port(), _free_port()
        log_path = root / "dovecot.log"
        log_path.unlink(missing_ok=True)
        conf = _write_config(root, imap_port, imaps_port)
        with open(root / "stderr.log", "wb") as stderr:
            # The server's clock is 5 hours behind UTC, so INTERNALDATEs come with a -0500 zone to convert.
            process = subprocess.Popen([binary, "-F", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=stderr,
                                       env={**os.environ, "TZ": SERVER_TZ})
        if _wait_listening(process, ["127.0.0.1"], [imap_port, imaps_port]):
            user, password = next(iter(ACCOUNTS.items()))
            server = Dovecot("127.0.0.1", imap_port, imaps_port, user, password, ca_path, log_path,
                             root / "mail" / user / "Maildir", dict(ACCOUNTS))
            return server, process
        status = process.poll()
        _stop(process)
        if "in use" not in _logs(root):
            break
    how = f"exited with status {status}" if status is not None else f"did not listen within {START_TIMEOUT} s"
    pytest.fail(f"Dovecot {how}:\n{_logs(root)}")


def _certificates(root: Path) -> Path:
    import trustme  # only the mail tests need it

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert.private_key_pem.write_to_path(root / "server.key")
    cert.cert_chain_pems[0].write_to_path(root / "server.pem")
    ca.cert_pem.write_to_path(root / "ca.pem")
    return root / "ca.pem"


def _write_config(root: Path, imap_port: int, imaps_port: int) -> Path:
    mail_user = _mail_user()
    mail = root / "mail"
    mail.mkdir(exist_ok=True)
    os.chown(mail, mail_user.pw_uid, mail_user.pw_gid)
    conf = root / "dovecot.conf"
    conf.write_text(CONFIG.format(
        root=root, imap_port=imap_port, imaps_port=imaps_port, uid=mail_user.pw_uid, gid=mail_user.pw_gid,
        **_service_users(),
    ), encoding="utf-8")
    return conf


def _mail_user() -> pwd.struct_passwd:
    # Dovecot refuses mail access as root (uid 0): as root, mail is kept as the `dovecot` user.
    return pwd.getpwnam("dovecot") if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())


def _service_users() -> dict[str, str]:
    if os.geteuid() == 0:
        return {"internal_user": "dovecot", "login_user": "dovenull", "login_chroot": "login", "anvil_chroot": "empty"}
    me = pwd.getpwuid(os.geteuid()).pw_name
    return {"internal_user": me, "login_user": me, "login_chroot": "", "anvil_chroot": ""}  # chroot needs root


CONFIG = """\
# Written by tests/mailservers.py: a throwaway server on loopback.
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
default_internal_user = {internal_user}
default_login_user = {login_user}
ssl = yes
ssl_cert = <{root}/server.pem
ssl_key = <{root}/server.key
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:~/Maildir
mail_fsync = never
first_valid_uid = {uid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
service imap-login {{
  chroot = {login_chroot}
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot = {anvil_chroot}
  # no growing delay for every login after the bad-password tests
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_listening(process: subprocess.Popen, hosts: list[str], ports: list[int]) -> bool:
    deadline = time.monotonic() + START_TIMEOUT
    waiting = list(ports)
    while waiting and time.monotonic() < deadline and process.poll() is None:
        try:
            socket.create_connection((hosts[0], waiting[0]), timeout=1).close()
            waiting.pop(0)
        except OSError:
            time.sleep(0.05)
    return not waiting and process.poll() is None


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()  # the master stops its children before it exits
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _logs(root: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in (root / "dovecot.log", root / "stderr.log") if p.exists())
