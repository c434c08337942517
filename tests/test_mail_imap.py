"""IMAP in: a real Dovecot on loopback; the attachments come out, the server's messages stay exactly as they were."""
from __future__ import annotations

import datetime as dt
import imaplib
import unicodedata

import pytest

from mailbuild import forwarded_message, outlook_message, thunderbird_message
from mailservers import dovecot  # noqa: F401  (the fixture)
from pipeline.issues import ThiduaError
from pipeline.mail import imap, local_iso
from pipeline.mail.imap import ImapTarget, parse_url, read_imap, utf7

VN = dt.timezone(dt.timedelta(hours=7))
FOLDER = "Bản tự chấm 2025"  # non-ASCII and spaces: modified UTF-7, quoted
NAME = "Biểu tự chấm điểm 2025 (Sở Nội vụ).xlsx"
SENT = dt.datetime(2025, 11, 9, 16, 0, tzinfo=VN)  # every Date header; the INTERNALDATEs differ
# (message, INTERNALDATE, flags) as the office's mailbox holds them
ARRIVED = [
    dt.datetime(2025, 11, 10, 8, 5, 7, tzinfo=VN),
    dt.datetime(2025, 11, 20, 23, 30, 0, tzinfo=dt.timezone.utc),   # already 21 Nov in Vietnam
    dt.datetime(2025, 12, 1, 2, 0, 59, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
]


def messages():
    inner = thunderbird_message("Sở Y tế <syt@example.gov.vn>", "vp@example.gov.vn", "Bản tự chấm",
                                SENT - dt.timedelta(days=2), [("SYT.xlsx", b"syt")], message_id="<syt@x>")
    return [
        (outlook_message("Sở Nội vụ <SNV@example.gov.vn>", "vp@example.gov.vn", "Bản tự chấm", SENT,
                         [(unicodedata.normalize("NFD", NAME), b"snv-xlsx")], message_id="<snv@x>"), "\\Seen"),
        (thunderbird_message("stc@example.gov.vn", "vp@example.gov.vn", "STC", SENT,
                             [("STC.xlsx", b"stc-xlsx"), ("Tờ trình.pdf", b"%PDF")], message_id="<stc@x>"), ""),
        (forwarded_message("vanthu@example.gov.vn", "vp@example.gov.vn", "Fwd", SENT, inner,
                           message_id="<fwd@x>"), "\\Flagged"),
    ]


@pytest.fixture(scope="module")
def filled(dovecot):
    """The folder with three messages: one seen, one unseen, one flagged; UID -> INTERNALDATE."""
    uids = {}
    for (raw, flags), when in zip(messages(), ARRIVED):
        uids[dovecot.append(FOLDER, raw, when, flags)] = when
    return dovecot, uids


def expected(since: dt.date | None = None) -> list[tuple[str, bytes, str, str]]:
    rows = [
        (NAME, b"snv-xlsx", local_iso(ARRIVED[0]), "snv@example.gov.vn"),
        ("STC.xlsx", b"stc-xlsx", local_iso(ARRIVED[1]), "stc@example.gov.vn"),
        ("Tờ trình.pdf", b"%PDF", local_iso(ARRIVED[1]), "stc@example.gov.vn"),
        # forwarded: the inner message's own Date, not when the office's server got the forward
        ("SYT.xlsx", b"syt", local_iso(SENT - dt.timedelta(days=2)), "syt@example.gov.vn"),
    ]
    days = [ARRIVED[0], ARRIVED[1], ARRIVED[1], ARRIVED[2]]
    return [r for r, d in zip(rows, days) if since is None or d.date() >= since]


def rows(attachments):
    return [(a.name, a.data, a.received, a.sender) for a in attachments]


def test_read_over_tls_trusting_ssl_cert_file(filled, monkeypatch):
    server, uids = filled
    monkeypatch.setenv("SSL_CERT_FILE", str(server.ca_path))
    atts = list(read_imap(server.url(FOLDER), server.password))
    assert rows(atts) == expected()
    assert local_iso(ARRIVED[1]) == "2025-11-21T06:30:00"
    assert {a.source for a in atts} == {f"imaps://127.0.0.1/{FOLDER}"}
    assert [a.key for a in atts] == ["<snv@x>", "<stc@x>", "<stc@x>", "<fwd@x>"]
    assert server.password not in repr(atts)


def test_the_server_is_left_exactly_as_it_was(filled):
    server, uids = filled
    before = server.flags(FOLDER)
    assert set(before) == set(uids) and "\\Seen" not in before[sorted(uids)[1]]
    list(read_imap(server.url(FOLDER), server.password, ssl_context=server.ssl_context()))
    assert server.flags(FOLDER) == before  # same UIDs, same flags: the unseen one is still unseen


def test_only_read_only_commands_are_sent(filled, monkeypatch):
    server, _ = filled
    sent = []
    original = imaplib.IMAP4.send
    monkeypatch.setattr(imaplib.IMAP4, "send", lambda self, data: sent.append(data) or original(self, data))
    list(read_imap(server.url(FOLDER), server.password, ssl_context=server.ssl_context()))
    commands = []
    for line in sent:
        tag, *words = line.decode("utf-8", "replace").upper().split()
        if words:
            commands.append(" ".join(words[:2]) if words[0] == "UID" else words[0])
    assert "EXAMINE" in commands and "SELECT" not in commands
    assert {"UID SEARCH", "UID FETCH"} <= set(commands)
    assert not {"STORE", "UID STORE", "COPY", "UID COPY", "MOVE", "UID MOVE", "EXPUNGE", "UID EXPUNGE",
                "DELETE", "APPEND"} & set(commands)
    fetches = [line for line in sent if b" FETCH " in line.upper()]
    assert fetches and all(b"BODY.PEEK[]" in line for line in fetches)


def test_since_filters_by_internaldate(filled):
    server, _ = filled
    since = dt.date(2025, 11, 15)
    got = rows(read_imap(server.url(FOLDER), server.password, since=since, ssl_context=server.ssl_context()))
    assert got == expected(since) and len(got) == 3


def test_fetch_in_batches(filled, monkeypatch):
    server, _ = filled
    monkeypatch.setattr(imap, "BATCH", 2)
    assert rows(read_imap(server.url(FOLDER), server.password, ssl_context=server.ssl_context())) == expected()


def test_plain_imap_on_loopback_non_ascii_password_default_folder(filled):
    server, _ = filled
    user = "snv@thidua.test"  # an account of its own: its INBOX holds only what this test puts there
    plain = f"imap://{user}@127.0.0.1:{server.imap_port}"
    assert list(read_imap(plain, server.accounts[user])) == []  # logged in (SASL PLAIN, UTF-8); INBOX empty
    server.append("INBOX", messages()[0][0], ARRIVED[0], user=user)
    url = f"imaps://{user}@127.0.0.1:{server.imaps_port}"
    atts = list(read_imap(url, server.accounts[user], ssl_context=server.ssl_context()))
    assert [a.name for a in atts] == [NAME] and atts[0].source == "imaps://127.0.0.1/INBOX"


def test_bad_password_is_a_thidua_error(filled):
    server, _ = filled
    with pytest.raises(ThiduaError, match="127.0.0.1") as e:
        list(read_imap(server.url(FOLDER), "sai-mat-khau", ssl_context=server.ssl_context()))
    assert "sai-mat-khau" not in str(e.value) and "login failed" in str(e.value)


def test_unknown_folder_is_a_thidua_error(filled):
    server, _ = filled
    with pytest.raises(ThiduaError, match="Không có thư mục này"):
        list(read_imap(server.url("Không có thư mục này"), server.password, ssl_context=server.ssl_context()))


def test_untrusted_certificate_is_a_thidua_error(filled, monkeypatch, tmp_path):
    import trustme
    server, _ = filled
    other_ca = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(other_ca)
    monkeypatch.setenv("SSL_CERT_FILE", str(other_ca))
    with pytest.raises(ThiduaError, match="cannot connect"):
        list(read_imap(server.url(FOLDER), server.password))


def test_connection_refused_is_a_thidua_error():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nobody listens here once closed
    with pytest.raises(ThiduaError, match=f"127.0.0.1:{port}"):
        list(read_imap(f"imaps://u@127.0.0.1:{port}/INBOX", "pw"))


@pytest.mark.parametrize("url, target", [
    ("imaps://thidua@mail.tinh.gov.vn/INBOX", ImapTarget("imaps", "mail.tinh.gov.vn", 993, "thidua", "INBOX")),
    ("imaps://thidua@tinh.gov.vn@mail.tinh.gov.vn:9993/Thi%20dua",
     ImapTarget("imaps", "mail.tinh.gov.vn", 9993, "thidua@tinh.gov.vn", "Thi dua")),
    ("IMAPS://thidua%40tinh.gov.vn@mail.tinh.gov.vn", ImapTarget("imaps", "mail.tinh.gov.vn", 993,
                                                                  "thidua@tinh.gov.vn", "INBOX")),
    ("imap://u@127.0.0.1/", ImapTarget("imap", "127.0.0.1", 143, "u", "INBOX")),
    ("imaps://u@[::1]:10993/INBOX/B%E1%BA%A3n", ImapTarget("imaps", "::1", 10993, "u", "INBOX/Bản")),
])
def test_parse_url(url, target):
    assert parse_url(url) == target


def test_source_names_no_user():
    assert parse_url("imaps://a@b.vn@mail.b.vn:9993/Thi đua").source == "imaps://mail.b.vn/Thi đua"


@pytest.mark.parametrize("url", [
    "https://u@mail.tinh.gov.vn/INBOX", "mail.tinh.gov.vn", "imaps://mail.tinh.gov.vn/INBOX",
    "imaps://u@/INBOX", "imaps://u@host:99999/INBOX", "imaps://u@host:abc/INBOX", "imaps://u:secret@host/INBOX",
])
def test_bad_urls_are_thidua_errors(url):
    with pytest.raises(ThiduaError) as e:
        parse_url(url)
    assert "secret" not in str(e.value)


def test_bad_url_fails_before_any_connection():
    with pytest.raises(ThiduaError):
        read_imap("ftp://u@host/INBOX", "pw")  # not only once iterated


def test_the_server_answers_in_its_own_time_zone(filled):
    server, uids = filled
    conn = server.connect()
    try:
        conn.select(imap.quote(utf7(FOLDER)), readonly=True)
        status, data = conn.uid("FETCH", str(min(uids)), "(INTERNALDATE)")
    finally:
        conn.logout()
    assert b'"09-Nov-2025 20:05:07 -0500"' in data[0]  # so read_imap really converts a zone


@pytest.mark.parametrize("head, when", [
    (b'1 (UID 7 INTERNALDATE "01-Dec-2025 02:00:59 -0500" BODY[] {3}',
     dt.datetime(2025, 12, 1, 7, 0, 59, tzinfo=dt.timezone.utc)),
    (b'2 (UID 8 INTERNALDATE " 3-Feb-2025 23:59:00 +0700" BODY[] {3}',
     dt.datetime(2025, 2, 3, 16, 59, tzinfo=dt.timezone.utc)),
    (b'3 (UID 9 INTERNALDATE "31-Foo-2025 00:00:00 +0000" BODY[] {3}', None),
])
def test_internaldate_parsing(head, when):
    assert imap._internaldate(head) == when


@pytest.mark.parametrize("name, encoded", [
    ("INBOX", "INBOX"),
    ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),  # RFC 3501 §5.1.3's own example
    ("Thi & đua", "Thi &- &ARE-ua"),
])
def test_modified_utf7(name, encoded):
    assert utf7(name) == encoded
