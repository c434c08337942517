"""`thidua mail`: the outbox written as .eml files, sent through a real SMTP server (aiosmtpd on loopback,
STARTTLS and AUTH), never twice; reminders and feedback to the right units, feedback as a reply."""
from __future__ import annotations

import csv
import datetime as dt
import email
from email import policy
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.workflow import run_mail

import factories as f
import mailbuild as mb
from smtpserver import smtp_server  # noqa: F401

OFFICER = "thiduakhenthuong@example.gov.vn"
VN = dt.timezone(dt.timedelta(hours=7))


def run(*args, code: int | None = 0, env: dict | None = None):
    result = CliRunner().invoke(main, [str(a) for a in args], env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    if code is not None:
        assert result.exit_code == code, result.output
    return result.output


def parse(data: bytes):
    return email.message_from_bytes(data, policy=policy.default)


def attachment(msg) -> tuple[str, bytes]:
    part = next(msg.iter_attachments())
    return part.get_filename(), part.get_content()


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "CAMPAIGN"
    f.make_campaign(root)
    return root


def smtp_env(server) -> dict:
    return {"THIDUA_SMTP_HOST": server.host, "THIDUA_SMTP_PORT": str(server.port), "THIDUA_SMTP_SECURITY": "starttls",
            "THIDUA_SMTP_USER": server.user, "THIDUA_SMTP_PASSWORD": server.password}


def test_a_dry_run_writes_one_message_per_unit_and_sends_nothing(root):
    out = run("mail", root)
    assert "chưa gửi" in out
    campaign = f.load_checked(root / "campaign.xlsx")
    outbox = root / "out" / "outbox" / "templates"
    assert sorted(p.stem for p in outbox.glob("*.eml")) == sorted(u.code for u in campaign.units)
    for u in campaign.units:
        msg = parse((outbox / f"{u.code}.eml").read_bytes())
        assert msg["To"].addresses[0].addr_spec == u.email
        assert msg["From"].addresses[0].addr_spec == OFFICER
        assert "10/12/2026" in msg.get_body(("plain",)).get_content()
        name, data = attachment(msg)
        assert name.endswith(f"{u.short_name}.xlsx")
        assert data == (root / "out" / "templates" / u.bloc / f"{u.code}.xlsx").read_bytes()
    assert not (root / "out" / "outbox" / "sent.csv").exists()
    first = {p.name: p.read_bytes() for p in outbox.glob("*.eml")}
    run("mail", root)
    assert {p.name: p.read_bytes() for p in outbox.glob("*.eml")} == first  # same covenant, same messages


def test_send_delivers_each_template_once_through_starttls_and_auth(root, smtp_server):
    env = smtp_env(smtp_server)
    run("mail", root, "--send", env=env)
    campaign = f.load_checked(root / "campaign.xlsx")
    got = {r.rcpt_tos[0]: parse(r.data) for r in smtp_server.received}
    assert set(got) == {u.email for u in campaign.units}
    for u in campaign.units:
        assert attachment(got[u.email])[1] == (root / "out" / "templates" / u.bloc / f"{u.code}.xlsx").read_bytes()
    log = root / "out" / "outbox" / "sent.csv"
    with open(log, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert sorted(r["unit"] for r in rows) == sorted(u.code for u in campaign.units)
    assert {r["result"] for r in rows} == {"ok"}
    out = run("mail", root, "--send", env=env)
    assert len(smtp_server.received) == len(campaign.units)  # a re-run sends nothing new
    assert "đã gửi trước đó" in out
    for p in (root / "out").rglob("*"):
        if p.is_file():
            assert smtp_server.password.encode() not in p.read_bytes(), p


def test_a_refused_address_is_logged_and_the_others_are_delivered(root, smtp_server):
    smtp_server.refuse = {"a03@example.gov.vn"}
    out = run("mail", root, "--send", code=1, env=smtp_env(smtp_server))
    assert "A03" in out and "550" in out
    assert "a03@example.gov.vn" not in {r.rcpt_tos[0] for r in smtp_server.received}
    assert len(smtp_server.received) == 10
    with open(root / "out" / "outbox" / "sent.csv", newline="", encoding="utf-8") as fh:
        rows = {r["unit"]: r["result"] for r in csv.DictReader(fh)}
    assert rows["A03"] != "ok" and sum(v == "ok" for v in rows.values()) == 10
    smtp_server.refuse = set()
    run("mail", root, "--send", env=smtp_env(smtp_server))  # the retry sends only the one that failed
    assert [r.rcpt_tos[0] for r in smtp_server.received[10:]] == ["a03@example.gov.vn"]


def test_a_unit_without_an_address_stops_the_mailing_naming_its_cell(tmp_path):
    content = f.content()
    content["Đơn vị"][2]["email"] = None  # A03, row 4 of Đơn vị
    root = tmp_path / "CAMPAIGN"
    f.make_campaign(root, content)
    out = run("mail", root, code=1)
    assert "A03" in out and "Đơn vị!E4" in out
    assert not (root / "out" / "outbox").exists()


def test_only_limits_the_mailing(root):
    run("mail", root, "--only", "A01,B02")
    assert sorted(p.stem for p in (root / "out" / "outbox" / "templates").glob("*.eml")) == ["A01", "B02"]
    run("mail", root, "--only", "K9", code=1)


def mail_returns(root: Path, units: list[str]) -> dict[str, str]:
    """Each unit's return mailed as an .eml in the inbox; the Message-IDs."""
    campaign = f.load_checked(root / "campaign.xlsx")
    ids = {}
    for u in units:
        data = f.write_return(root / "made" / f"{u}.xlsx", campaign, u, f.RETURNS[u].fill()).read_bytes()
        ids[u] = f"<{u.lower()}.return@example.gov.vn>"
        (root / "inbox" / f"{u}.eml").write_bytes(mb.outlook_message(
            f"{u.lower()}@example.gov.vn", OFFICER, f"Bản tự chấm {u}", dt.datetime(2026, 12, 5, 9, tzinfo=VN),
            [(f"{u}.xlsx", data)], message_id=ids[u]))
    return ids


def test_feedback_goes_as_a_reply_with_the_units_feedback_workbook(root):
    ids = mail_returns(root, ["A01", "A02", "B06"])
    run("collect", root)
    run("mail", root, "--what", "feedback")
    outbox = root / "out" / "outbox" / "feedback"
    with_issues = {p.stem for p in (root / "out" / "feedback").glob("*.xlsx")}
    assert "B06" in with_issues and "A02" not in with_issues  # A02's return is clean
    assert {p.stem for p in outbox.glob("*.eml")} == with_issues
    msg = parse((outbox / "B06.eml").read_bytes())
    assert msg["In-Reply-To"] == ids["B06"] and ids["B06"] in msg["References"]
    assert msg["Subject"] == "Re: Bản tự chấm B06"
    assert attachment(msg)[1] == (root / "out" / "feedback" / "B06.xlsx").read_bytes()


def test_reminders_go_to_units_without_a_valid_return_and_say_where_the_deadline_stands(root):
    mail_returns(root, ["A01", "B06"])
    run("collect", root)
    before = run_mail(root, "reminder", today=dt.date(2026, 12, 7), now=dt.datetime(2026, 12, 7, 8, tzinfo=VN))
    to = {p.stem: parse(p.read_bytes()) for _, p in before}
    assert set(to) == {u for u in f.RETURNS if u not in ("A01",)} | {f.NO_RETURN} - {"A01"}
    assert "còn 3 ngày" in to["A02"].get_body(("plain",)).get_content()
    assert attachment(to["B06"])[1] == (root / "out" / "feedback" / "B06.xlsx").read_bytes()
    assert attachment(to["A02"])[1] == (root / "out" / "templates" / "K1" / "A02.xlsx").read_bytes()
    after = run_mail(root, "reminder", today=dt.date(2026, 12, 12))
    text = parse(after[0][1].read_bytes()).get_body(("plain",)).get_content()
    assert "đã qua 2 ngày" in text
