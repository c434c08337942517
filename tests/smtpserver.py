"""A real SMTP server for tests: aiosmtpd on 127.0.0.1 with STARTTLS (or implicit TLS), AUTH, and chosen failures.

Use it by importing the fixtures into a test module:

    from smtpserver import smtp_server, smtps_server  # noqa: F401

`smtp_server` speaks STARTTLS on a free port, requires TLS before AUTH and AUTH before MAIL, and accepts
`server.user`/`server.password` (LOGIN or PLAIN; a test may change both); `smtps_server` is the same
behind implicit TLS (smtp security "ssl"), offering AUTH without requiring it. Both set SSL_CERT_FILE
to the test CA for the test's duration, so `ssl.create_default_context()` trusts the server.
Each received message is in `server.received` (mail_from, rcpt_tos, raw bytes); `server.refuse` holds
recipient addresses answered 550 (`server.refused` lists each refusal), `server.fail_data` how many DATA commands are answered 451 first
(`server.fail_reply` to answer otherwise), `server.logins` counts successful AUTHs: one per connection.
"""
from __future__ import annotations

import os
import socket
import ssl
from dataclasses import dataclass, field
from pathlib import Path

import pytest

try:
    import trustme
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword
    MISSING = ""
except ImportError as e:  # the fixtures say so when used; importing this module never fails
    MISSING = str(e)

HOST = "127.0.0.1"
USER = "thiduakhenthuong@example.gov.vn"
PASSWORD = "s3cret-Pa55-9f3c"  # distinctive, so a test can look for it in every file written


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes  # the message as the server got it (CRLF, dot-unstuffed)


@dataclass
class Server:
    host: str
    port: int
    ca_pem: Path          # the test CA, for SSL_CERT_FILE or ssl.create_default_context(cafile=...)
    user: str = USER
    password: str = PASSWORD
    received: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)  # RCPT TO these addresses: 550
    refused: list[str] = field(default_factory=list)  # each RCPT TO answered 550, in order
    fail_data: int = 0                              # the next N DATA commands get `fail_reply`
    fail_reply: str = "451 4.3.0 temporary failure, try again"  # "421 ..." makes smtplib drop the connection
    logins: int = 0                                 # successful AUTH commands (one per connection)

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_pem))


class _Handler:
    def __init__(self, server: Server):
        self.server = server

    async def handle_RCPT(self, smtp, session, envelope, address, rcpt_options):
        if address.lower() in {a.lower() for a in self.server.refuse}:
            self.server.refused.append(address)
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, smtp, session, envelope):
        if self.server.fail_data > 0:
            self.server.fail_data -= 1
            return self.server.fail_reply
        data = envelope.original_content or envelope.content
        self.server.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(data)))
        return "250 OK"


def _authenticator(server: Server):
    def check(smtp, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == server.user.encode("utf-8")
              and auth_data.password == server.password.encode("utf-8"))
        server.logins += ok
        return AuthResult(success=ok, handled=False)
    return check


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


_CA: list = []  # one test CA for the session: (trustme.CA, its PEM file)


def _test_ca(tmp_path_factory):
    _require()
    if not _CA:
        ca = trustme.CA()
        pem = tmp_path_factory.mktemp("smtp-ca") / "ca.pem"
        ca.cert_pem.write_to_path(str(pem))
        _CA.append((ca, pem))
    return _CA[0]


def _require() -> None:
    if MISSING:
        if os.environ.get("CI"):
            pytest.fail(f"aiosmtpd and trustme are needed for the SMTP tests: {MISSING}", pytrace=False)
        pytest.skip(f"aiosmtpd or trustme not installed: {MISSING}")


def _serve(ca_and_pem, monkeypatch, implicit_tls: bool):
    ca, pem = ca_and_pem
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(HOST, "localhost").configure_cert(context)
    server = Server(HOST, _free_port(), pem)
    if implicit_tls:
        # aiosmtpd counts only STARTTLS as TLS: behind implicit TLS it would hide AUTH, and it warns
        # when AUTH is required without it. The whole connection is encrypted, so AUTH is offered at once.
        tls = {"ssl_context": context, "auth_require_tls": False}
    else:
        tls = {"tls_context": context, "require_starttls": True, "auth_required": True, "auth_require_tls": True}
    controller = Controller(_Handler(server), hostname=HOST, port=server.port, authenticator=_authenticator(server),
                            ready_timeout=10, **tls)
    monkeypatch.setenv("SSL_CERT_FILE", str(pem))
    controller.start()
    return server, controller


@pytest.fixture
def smtp_server(tmp_path_factory, monkeypatch):
    """STARTTLS on a free port of 127.0.0.1 (security "starttls")."""
    server, controller = _serve(_test_ca(tmp_path_factory), monkeypatch, implicit_tls=False)
    yield server
    controller.stop()


@pytest.fixture
def smtps_server(tmp_path_factory, monkeypatch):
    """Implicit TLS on a free port of 127.0.0.1 (security "ssl")."""
    server, controller = _serve(_test_ca(tmp_path_factory), monkeypatch, implicit_tls=True)
    yield server
    controller.stop()
