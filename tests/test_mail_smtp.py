"""Sending against a real SMTP server: STARTTLS and AUTH, never twice, refusals and retries, no password leaks."""
from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.policy
import socket

import pytest
from smtpserver import smtp_server, smtps_server  # noqa: F401

from pipeline.issues import ThiduaError
from pipeline.mail import VIETNAM
from pipeline.mail.message import Outgoing, compose
from pipeline.mail.smtp import SENT_COLUMNS, SmtpConfig, already_sent, config_from, load_sent, send_all

SENDER = "thiduakhenthuong@example.gov.vn"
UNITS = [("DV01", "snv@example.gov.vn", "Sở Nội vụ"), ("DV02", "stc@example.gov.vn", "Sở Tài chính"),
         ("DV03", "stp@example.gov.vn", "Sở Tư pháp")]
CLOCK = lambda: dt.datetime(2025, 11, 20, 9, 15, 42, 123456)  # noqa: E731


@pytest.fixture
def batch(tmp_path):
    """Three template messages, each with a workbook of its own bytes."""
    out = []
    for i, (code, address, name) in enumerate(UNITS):
        book = tmp_path / f"{code}.xlsx"
        book.write_bytes(b"PK\x03\x04" + bytes([i]) * 5000 + b"\r\n.\r\n" + bytes(range(256)))
        letter = Outgoing("templates", code, address, name, f"Biểu tự chấm điểm 2025 - {name}",
                          f"Kính gửi {name},\nxin gửi biểu tự chấm điểm.\n", book, f"Biểu tự chấm điểm 2025 - {name}.xlsx")
        msg = compose(letter, SENDER, "Ban Thi đua - Khen thưởng", "", dt.datetime(2025, 11, 20, 8, 0, tzinfo=VIETNAM))
        out.append(("templates", code, msg))
    return out


def config(server, security="starttls", **changes) -> SmtpConfig:
    return dataclasses.replace(SmtpConfig(server.host, server.port, security, server.user, server.password), **changes)


def send(batch, server, log, **kw):
    kw.setdefault("backoff", 0)
    return send_all(batch, kw.pop("config", None) or config(server), log, now=CLOCK, **kw)


def attachment_of(raw: bytes) -> bytes:
    (part,) = email.message_from_bytes(raw, policy=email.policy.default).iter_attachments()
    return part.get_content()


def test_starttls_auth_delivers_each_message_and_its_attachment(smtp_server, batch, tmp_path):
    log = tmp_path / "out" / "outbox" / "sent.csv"
    rows = send(batch, smtp_server, log)
    assert [r["result"] for r in rows] == ["ok", "ok", "ok"]
    assert [(r["unit"], r["to"]) for r in rows] == [(code, address) for code, address, _ in UNITS]
    assert [r["message_id"] for r in rows] == [msg["Message-ID"] for _, _, msg in batch]
    assert rows[0]["sent_at"] == "2025-11-20T09:15:42"
    assert smtp_server.logins == 1, "one connection, one login, for the whole batch"
    got = smtp_server.received
    assert [(g.mail_from, g.rcpt_tos) for g in got] == [(SENDER, [address]) for _, address, _ in UNITS]
    for (_, _, msg), g in zip(batch, got):
        assert attachment_of(g.data) == msg.get_payload()[1].get_content()
        assert g.data.rstrip(b"\r\n") == msg.as_bytes().rstrip(b"\r\n")  # the .eml is what was sent
    assert load_sent(log) == rows
    assert log.read_text(encoding="utf-8-sig").splitlines()[0] == ",".join(SENT_COLUMNS)


def test_a_second_run_sends_nothing_and_logs_nothing(smtp_server, batch, tmp_path):
    log = tmp_path / "sent.csv"
    send(batch, smtp_server, log)
    before = log.read_bytes()
    assert send(batch, smtp_server, log) == []
    assert len(smtp_server.received) == 3
    assert log.read_bytes() == before
    assert already_sent(log) == {str(msg["Message-ID"]) for _, _, msg in batch}


def test_resend_sends_again_and_logs_again(smtp_server, batch, tmp_path):
    log = tmp_path / "sent.csv"
    send(batch, smtp_server, log)
    rows = send(batch, smtp_server, log, resend=True)
    assert [r["result"] for r in rows] == ["ok"] * 3
    assert len(smtp_server.received) == 6
    assert len(load_sent(log)) == 6
    assert log.read_text(encoding="utf-8-sig").count("message_id") == 1, "the header is written once"


def test_progress_counts_every_message_sent_or_skipped(smtp_server, batch, tmp_path):
    log, seen = tmp_path / "sent.csv", []
    send(batch[:1], smtp_server, log)
    send(batch, smtp_server, log, progress=seen.append)
    assert seen == [1, 2, 3]


def test_a_refused_recipient_is_logged_and_the_others_still_go(smtp_server, batch, tmp_path):
    log = tmp_path / "sent.csv"
    smtp_server.refuse = {"stc@example.gov.vn"}
    rows = send(batch, smtp_server, log)
    assert rows[0]["result"] == rows[2]["result"] == "ok"
    assert rows[1]["result"].startswith("lỗi 550") and "mailbox unavailable" in rows[1]["result"]
    assert [g.rcpt_tos for g in smtp_server.received] == [["snv@example.gov.vn"], ["stp@example.gov.vn"]]
    assert smtp_server.refused == ["stc@example.gov.vn"], "a permanent refusal is not tried again"
    smtp_server.refuse = set()
    again = send(batch, smtp_server, log)  # what failed is not counted as sent
    assert [(r["unit"], r["result"]) for r in again] == [("DV02", "ok")]


def test_a_451_on_data_is_retried_and_delivered(smtp_server, batch, tmp_path):
    smtp_server.fail_data = 1
    rows = send(batch[:1], smtp_server, tmp_path / "sent.csv")
    assert rows[0]["result"] == "ok"
    assert len(smtp_server.received) == 1


def test_a_451_that_persists_is_logged_after_the_retries(smtp_server, batch, tmp_path):
    smtp_server.fail_data = 3
    rows = send(batch[:2], smtp_server, tmp_path / "sent.csv", retries=2)
    assert rows[0]["result"].startswith("lỗi 451") and "try again" in rows[0]["result"]
    assert rows[1]["result"] == "ok", "the next message still goes"
    assert len(smtp_server.received) == 1


def test_a_dropped_connection_is_opened_again(smtp_server, batch, tmp_path):
    smtp_server.fail_data, smtp_server.fail_reply = 1, "421 4.3.2 service shutting down"
    rows = send(batch[:2], smtp_server, tmp_path / "sent.csv", retries=1)  # the one retry must reconnect
    assert [r["result"] for r in rows] == ["ok", "ok"]
    assert smtp_server.logins == 2
    assert len(smtp_server.received) == 2


def test_ssl_security_delivers(smtps_server, batch, tmp_path):
    rows = send(batch[:1], smtps_server, tmp_path / "sent.csv", config=config(smtps_server, "ssl"))
    assert rows[0]["result"] == "ok" and smtps_server.logins == 1
    assert attachment_of(smtps_server.received[0].data) == batch[0][2].get_payload()[1].get_content()


def test_a_password_with_vietnamese_letters_logs_in(smtp_server, batch, tmp_path):
    smtp_server.password = "Mật khẩu-9f3c"
    rows = send(batch[:1], smtp_server, tmp_path / "sent.csv", config=config(smtp_server, password="Mật khẩu-9f3c"))
    assert rows[0]["result"] == "ok" and smtp_server.logins == 1


def test_a_wrong_password_stops_with_one_line_that_keeps_it_secret(smtp_server, batch, tmp_path):
    log = tmp_path / "sent.csv"
    wrong = "wrong-Pa55-7e1d"
    with pytest.raises(ThiduaError) as e:
        send(batch, smtp_server, log, config=config(smtp_server, password=wrong))
    text = str(e.value)
    assert f"{smtp_server.host}:{smtp_server.port}" in text and "535" in text
    assert wrong not in text and smtp_server.password not in text and "\n" not in text
    assert smtp_server.received == []
    assert not log.exists() or wrong not in log.read_text(encoding="utf-8-sig")


def test_the_password_is_in_no_file_and_no_repr(smtp_server, batch, tmp_path):
    log = tmp_path / "sent.csv"
    smtp_server.refuse = {"stp@example.gov.vn"}
    cfg = config(smtp_server)
    send(batch, smtp_server, log, config=cfg)
    assert smtp_server.password not in log.read_text(encoding="utf-8-sig")
    assert all(smtp_server.password.encode() not in f.read_bytes() for f in tmp_path.rglob("*") if f.is_file())
    assert smtp_server.password not in repr(cfg)


def test_no_server_at_the_start_stops_naming_host_and_port(batch, tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ThiduaError) as e:
        send_all(batch, SmtpConfig("127.0.0.1", port, "starttls", "u", "s3cret-Pa55"), tmp_path / "sent.csv", backoff=0)
    assert f"127.0.0.1:{port}" in str(e.value) and "s3cret-Pa55" not in str(e.value)
    assert not (tmp_path / "sent.csv").exists()


def test_an_untrusted_certificate_stops_the_run(smtp_server, batch, tmp_path, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "no-such-ca.pem"))
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
    with pytest.raises(ThiduaError) as e:
        send(batch, smtp_server, tmp_path / "sent.csv")
    assert f"{smtp_server.host}:{smtp_server.port}" in str(e.value)
    assert smtp_server.received == [] and smtp_server.logins == 0


def test_an_explicit_ssl_context_is_used(smtp_server, batch, tmp_path, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "no-such-ca.pem"))
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
    rows = send(batch[:1], smtp_server, tmp_path / "sent.csv", ssl_context=smtp_server.client_context())
    assert rows[0]["result"] == "ok"


def test_config_from_takes_the_environment_over_the_campaign():
    env = {"THIDUA_SMTP_HOST": "smtp.tinh.gov.vn", "THIDUA_SMTP_PORT": "2525", "THIDUA_SMTP_SECURITY": "SSL",
           "THIDUA_SMTP_USER": "tdkt@tinh.gov.vn", "THIDUA_SMTP_PASSWORD": "from-env"}
    got = config_from("mail.example.gov.vn", 587, "starttls", "campaign@example.gov.vn", env)
    assert got == SmtpConfig("smtp.tinh.gov.vn", 2525, "ssl", "tdkt@tinh.gov.vn", "from-env")
    assert "from-env" not in repr(got)
    no_auth = config_from("mail.example.gov.vn", 25, "none", "campaign@example.gov.vn", {"THIDUA_SMTP_USER": ""})
    assert no_auth.user == ""  # set but empty: no AUTH, whatever the sheet says


def test_config_from_defaults_the_port_by_security():
    assert config_from("mail.example.gov.vn", None, "starttls", "", {}).port == 587
    assert config_from("mail.example.gov.vn", "", "ssl", "", {}).port == 465
    assert config_from("mail.example.gov.vn", None, "none", "", {}).port == 25
    assert config_from("mail.example.gov.vn", None, "none", "", {"THIDUA_SMTP_SECURITY": "ssl"}).port == 465
    assert config_from("mail.example.gov.vn", 587.0, "starttls", "", {}).port == 587
    got = config_from("mail.example.gov.vn", 25, "none", "u@example.gov.vn", {})
    assert (got.host, got.security, got.user, got.password) == ("mail.example.gov.vn", "none", "u@example.gov.vn", "")


@pytest.mark.parametrize("port, security", [("abc", "starttls"), (0, "starttls"), (70000, "ssl"), (None, "tls")])
def test_config_from_refuses_a_bad_port_or_security(port, security):
    with pytest.raises(ThiduaError):
        config_from("mail.example.gov.vn", port, security, "", {})
