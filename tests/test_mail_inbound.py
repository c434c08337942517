"""Inbound mail: attachments out of Outlook and Thunderbird messages, .eml, mbox, Maildir and Zimbra .tgz."""
from __future__ import annotations

import datetime as dt
import gzip
import mailbox
import os
import unicodedata
from pathlib import Path

import pytest

from mailbuild import (forwarded_message, outlook_message, thunderbird_message, write_maildir, write_mbox,
                       write_zimbra_tgz)
from pipeline.issues import ThiduaError
from pipeline.mail import local_iso
from pipeline.mail.inbound import PARSER, attachments, is_mail_source, message_key, read_mail, sanitise

VN = dt.timezone(dt.timedelta(hours=7))
NAME = "Biểu tự chấm điểm 2025 (Sở Nội vụ).xlsx"
NAME_NFD = unicodedata.normalize("NFD", NAME)
XLSX = b"PK\x03\x04 not really a workbook \x00\xff"
PDF = b"%PDF-1.4 signed cover letter"
SENT = dt.datetime(2025, 12, 1, 9, 30, tzinfo=VN)
SENDER = "Sở Nội vụ <SNV@Example.gov.vn>"
SUBJECT = "Bản tự chấm điểm năm 2025 của Sở Nội vụ"
BUILDERS = [outlook_message, thunderbird_message]


def found(raw: bytes, received: str | None = None):
    msg = PARSER.parsebytes(raw)
    return list(attachments(msg, "thu.eml", message_key(msg, raw), received))


def unit_message(build=outlook_message, files=((NAME_NFD, XLSX),), date=SENT, message_id=None) -> bytes:
    return build(SENDER, "vanphong@example.gov.vn", SUBJECT, date, list(files), message_id=message_id)


def listing(root: Path) -> dict[str, object]:
    """Every file under root with its bytes and mtime: what "nothing changed" compares."""
    return {str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()} | {
        str(p.relative_to(root)) + "/": b"" for p in root.rglob("*") if p.is_dir()}


@pytest.mark.parametrize("build", BUILDERS, ids=["outlook", "thunderbird"])
def test_nfd_name_decodes_to_nfc_with_exact_bytes(build):
    raw = unit_message(build, message_id="<r1@example.gov.vn>")
    [att] = found(raw)
    assert att.name == NAME and unicodedata.is_normalized("NFC", att.name)
    assert att.data == XLSX
    assert att.sender == "snv@example.gov.vn"
    assert att.subject == SUBJECT
    assert att.received == "2025-12-01T09:30:00"
    assert att.message_id == att.key == "<r1@example.gov.vn>"
    assert att.source == "thu.eml"


def test_builders_write_the_clients_encodings():
    """The tests above are only worth something if the names really travel encoded as each client does."""
    outlook, thunderbird = unit_message(outlook_message), unit_message(thunderbird_message)
    disposition = outlook.split(b"Content-Disposition: attachment;", 1)[1].split(b"\r\n\r\n", 1)[0]
    assert disposition.count(b"=?utf-8?B?") >= 2  # one name split over several encoded words
    assert b"filename*0*=utf-8''" in thunderbird and b"filename*1*=" in thunderbird
    assert NAME_NFD.encode() not in outlook + thunderbird


def test_several_attachments_in_order_body_parts_are_not_attachments():
    raw = unit_message(outlook_message, files=[(NAME_NFD, XLSX), ("Công văn.pdf", PDF), ("b.xls", b"xls")])
    assert PARSER.parsebytes(raw).get_payload()[0].get_content_type() == "multipart/alternative"
    assert [(a.name, a.data) for a in found(raw)] == [(NAME, XLSX), ("Công văn.pdf", PDF), ("b.xls", b"xls")]


def test_forwarded_message_attachment_found_once_with_the_inner_date():
    inner = unit_message(thunderbird_message, message_id="<inner@snv.example.gov.vn>")
    forwarded_at = SENT + dt.timedelta(days=3)
    raw = forwarded_message("Văn thư <VT@example.gov.vn>", "vanphong@example.gov.vn", "Fwd: " + SUBJECT,
                            forwarded_at, inner, message_id="<fwd@example.gov.vn>")
    [att] = found(raw, received=local_iso(forwarded_at + dt.timedelta(hours=1)))
    assert (att.name, att.data) == (NAME, XLSX)
    assert att.received == local_iso(SENT)  # when the unit sent it, not when it was forwarded or fetched
    assert att.sender == "snv@example.gov.vn"
    assert att.message_id == "<inner@snv.example.gov.vn>"
    assert att.key == "<fwd@example.gov.vn>"


def test_received_override_applies_to_the_outer_message():
    [att] = found(unit_message(), received="2025-12-02T08:00:00")
    assert att.received == "2025-12-02T08:00:00"


def test_no_date_gives_empty_received_and_a_bad_date_too():
    assert found(unit_message(date=None))[0].received == ""
    raw = unit_message().replace(b"Date: Mon, 01 Dec 2025 09:30:00 +0700", b"Date: 31/12/2025 gio 25")
    assert b"gio 25" in raw
    assert found(raw)[0].received == ""


def test_pdf_is_returned_too():
    [att] = found(unit_message(files=[("Tờ trình.pdf", PDF)]))
    assert (att.name, att.data) == ("Tờ trình.pdf", PDF)


HANDWRITTEN = (
    "From: =?utf-8?B?U+G7nyBZIHThur8=?= <SYT@example.gov.vn>\r\n"
    "Subject: =?utf-8?Q?B=E1=BA=A3n_t=E1=BB=B1_ch=E1=BA=A5m?=\r\n"
    "Date: Tue, 2 Dec 2025 01:00:00 +0000\r\n"
    "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
    "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nbody\r\n"
    "--b\r\nContent-Type: text/html; charset=utf-8\r\nContent-Disposition: inline\r\n\r\n<p>body</p>\r\n"
    "--b\r\nContent-Type: application/vnd.ms-excel; name==?utf-8?B?Qmnhu4N1IHPhu5EgMS54bHM=?=\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\nAAEC\r\n"
    "--b\r\nContent-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\nUEsDBA==\r\n"
    "--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment\r\n\r\nghi chu\r\n"
    "--b\r\nContent-Type: application/octet-stream\r\n"
    "Content-Disposition: attachment; filename=\"" + "Báo cáo.xlsx" + "\"\r\n\r\nraw\r\n"
    "--b--\r\n"
).encode()


def test_handwritten_message_unquoted_words_unnamed_sheet_raw_utf8():
    atts = found(HANDWRITTEN)
    assert [(a.name, a.data) for a in atts] == [
        ("Biểu số 1.xls", b"\x00\x01\x02"),        # RFC 2047 words in an unquoted name=
        ("tep-dinh-kem-2.xlsx", b"PK\x03\x04"),    # a spreadsheet type with no name at all
        ("tep-dinh-kem-3.txt", b"ghi chu"),        # disposition attachment with no name
        ("Báo cáo.xlsx", b"raw"),                  # raw UTF-8 in the header
    ]
    assert {a.sender for a in atts} == {"syt@example.gov.vn"}
    assert atts[0].subject == "Bản tự chấm" and atts[0].received == "2025-12-02T08:00:00"
    assert atts[0].message_id == "" and atts[0].key.startswith("sha256:")


def test_malformed_headers_never_raise():
    raw = (b"From: <<<@@@>>> \"unterminated\r\nDate: \xff\xfe\r\nMessage-ID: \r\nSubject: =?bogus?Q?x=ZZ?=\r\n"
           b"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n"
           b"Content-Type: application/pdf; name*0*=utf-8''%E1%BB; name*1*=%87.pdf\r\n"
           b"Content-Disposition: attachment; filename*=bogus''%FF%FE.pdf; ;;; =\r\n"
           b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64\r\n--b--\r\n")
    [att] = found(raw)
    assert att.received == "" and att.message_id == ""
    assert att.name.endswith(".pdf")


@pytest.mark.parametrize("name, safe", [
    ("../../x.xlsx", "x.xlsx"),
    ("C:\\Windows\\x.xlsx", "x.xlsx"),
    ("/etc/passwd", "passwd"),
    ("..", "tep-dinh-kem"),
    (".", "tep-dinh-kem"),
    ("", "tep-dinh-kem"),
    ("  ..hidden.xlsx", "hidden.xlsx"),
    (".xlsx", "tep-dinh-kem.xlsx"),
    ('a<b>c:d"e|f?g*h\x00\x1f\u202e.xlsx', "abcdefgh.xlsx"),
    ("CON.xlsx", "_CON.xlsx"),
    (NAME_NFD, NAME),
])
def test_sanitise(name, safe):
    assert sanitise(name) == safe


def test_sanitise_caps_length_keeping_the_extension():
    long = sanitise("điểm " * 100 + ".xlsx")
    assert long.endswith(".xlsx") and len(long) <= 150 and len(long.encode()) <= 180
    assert sanitise("x" * 400 + ".xlsm") == "x" * 145 + ".xlsm"


@pytest.mark.parametrize("name, expected", [
    ("thu.eml", True), ("Thu.EML", True), ("hop.mbox", True), ("mbox", True), ("inbox.mbx", True),
    ("zimbra.tgz", True), ("zimbra.tar.gz", True), ("bieu.xlsx", False), ("ghi-chu.txt", False),
])
def test_is_mail_source_files(tmp_path, name, expected):
    assert is_mail_source(tmp_path / name) is expected


def test_is_mail_source_folders(tmp_path):
    maildir = write_maildir(tmp_path / "Maildir", [])
    plain = tmp_path / "returns"
    plain.mkdir()
    assert is_mail_source(maildir) and not is_mail_source(plain)


def test_read_eml(tmp_path):
    path = tmp_path / "Sở Nội vụ.eml"
    path.write_bytes(unit_message(files=[(NAME_NFD, XLSX), ("c.pdf", PDF)]))
    atts = list(read_mail(path))
    assert [(a.name, a.data, a.source) for a in atts] == [(NAME, XLSX, path.name), ("c.pdf", PDF, path.name)]


def test_read_mbox_in_order_and_untouched(tmp_path, monkeypatch):
    messages = [unit_message(outlook_message, [(f"{i}.xlsx", bytes([i]))], SENT + dt.timedelta(hours=i))
                for i in range(3)]
    path = write_mbox(tmp_path / "thu.mbox", messages)
    before = listing(tmp_path)
    for method in ("lock", "__setitem__", "add", "remove"):  # a lock leaves no trace once released
        monkeypatch.setattr(mailbox.mbox, method, lambda *a, **k: pytest.fail("the mbox was locked or changed"))
    atts = list(read_mail(path))
    assert [(a.name, a.data, a.received) for a in atts] == [
        (f"{i}.xlsx", bytes([i]), local_iso(SENT + dt.timedelta(hours=i))) for i in range(3)]
    assert {a.source for a in atts} == {"thu.mbox"}
    assert listing(tmp_path) == before  # no lock file, no rewrite


def test_read_maildir_new_and_cur_untouched(tmp_path):
    messages = [unit_message(thunderbird_message, [(f"{i}.xlsx", bytes([i]))]) for i in range(4)]
    path = write_maildir(tmp_path / "Maildir", messages, seen={1, 3})
    assert len(os.listdir(path / "new")) == 2 and len(os.listdir(path / "cur")) == 2
    before = listing(tmp_path)
    first = list(read_mail(path))
    box = mailbox.Maildir(path, factory=None, create=False)
    assert [a.data for a in first] == [found(box.get_bytes(k))[0].data for k in sorted(box.keys())]
    assert sorted(a.data for a in first) == [bytes([i]) for i in range(4)]
    assert {a.source for a in first} == {"Maildir"}
    assert listing(tmp_path) == before  # nothing moved from new/ to cur/, no flag changed
    assert list(read_mail(path)) == first  # a stable order


def zimbra_messages():
    """Two messages whose Zimbra received dates differ from their Date headers."""
    return [
        (unit_message(outlook_message, [("a.xlsx", b"a")], SENT, message_id="<a@x>"),
         dt.datetime(2025, 12, 3, 7, 15, 42, tzinfo=dt.timezone.utc)),
        (unit_message(thunderbird_message, [("b.xlsx", b"b")], SENT, message_id="<b@x>"),
         dt.datetime(2025, 12, 4, 23, 59, 1, tzinfo=dt.timezone.utc)),
    ]


@pytest.mark.parametrize("meta_first", [True, False], ids=["meta-before-eml", "meta-after-eml"])
def test_zimbra_meta_date_wins_and_nothing_is_written(tmp_path, monkeypatch, meta_first):
    evil = unit_message(files=[("evil.xlsx", b"e")], message_id="<evil@x>")
    extra = [("../../evil.eml", evil), ("/tmp/abs-evil.eml", evil), ("Contacts/0000000300-An.vcf", b"BEGIN:VCARD")]
    path = write_zimbra_tgz(tmp_path / "zimbra.tgz", zimbra_messages(), meta_first=meta_first, extra=extra)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)  # an extracting reader would write relative to here
    before = listing(tmp_path)
    atts = list(read_mail(path))
    got = {a.name: a.received for a in atts}
    assert got["a.xlsx"] == "2025-12-03T14:15:42" and got["b.xlsx"] == "2025-12-05T06:59:01"
    assert got["evil.xlsx"] == local_iso(SENT)  # no .meta: the Date header
    assert {a.source for a in atts} == {"zimbra.tgz"}
    assert listing(tmp_path) == before
    assert not Path("/tmp/abs-evil.eml").exists()


def test_zimbra_meta_without_a_usable_date_falls_back_to_the_header(tmp_path):
    import io
    import json
    import tarfile
    raw = unit_message(files=[("a.xlsx", b"a")])
    path = tmp_path / "z.tgz"
    with tarfile.open(path, "w:gz") as tar:
        for name, data in [("Inbox/1-a.eml.meta", json.dumps({"date": "hôm qua"}).encode()), ("Inbox/1-a.eml", raw)]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    assert [a.received for a in read_mail(path)] == [local_iso(SENT)]


@pytest.mark.parametrize("content", [
    b"\x1f\x8b\x08\x00 this is not really gzip",  # gzip magic, broken stream
    b"plain text, not gzip at all",
    None,                                          # a real tgz cut in half
], ids=["bad-gzip", "not-gzip", "truncated"])
def test_corrupt_tgz_is_a_thidua_error(tmp_path, content):
    path = tmp_path / "hong.tgz"
    if content is None:
        write_zimbra_tgz(path, zimbra_messages())
        content = path.read_bytes()[: len(path.read_bytes()) // 2]
    path.write_bytes(content)
    with pytest.raises(ThiduaError, match="hong.tgz"):
        list(read_mail(path))


@pytest.mark.parametrize("content", [gzip.compress(b"\x00" * 100, mtime=0), bytes(range(256)) * 4, b"%PDF-1.4\n%\xe2\xe3\n"],
                         ids=["gzip", "binary", "pdf"])
def test_binary_file_named_eml_is_a_thidua_error(tmp_path, content):
    path = tmp_path / "khong-phai-thu.eml"
    path.write_bytes(content)
    with pytest.raises(ThiduaError, match="khong-phai-thu.eml"):
        list(read_mail(path))


def test_missing_file_is_a_thidua_error(tmp_path):
    with pytest.raises(ThiduaError, match="khong-co.mbox"):
        list(read_mail(tmp_path / "khong-co.mbox"))


@pytest.mark.parametrize("message_id", ["<same@example.gov.vn>", ""], ids=["message-id", "hash"])
def test_same_message_in_eml_and_mbox_has_the_same_key(tmp_path, message_id):
    raw = unit_message(message_id=message_id)
    eml = tmp_path / "thu.eml"
    eml.write_bytes(raw)
    other = unit_message(files=[("khac.xlsx", b"k")], message_id=message_id and "<other@example.gov.vn>")
    box = write_mbox(tmp_path / "thu.mbox", [raw, other])
    [from_eml] = read_mail(eml)
    from_mbox = list(read_mail(box))
    assert from_mbox[0].key == from_eml.key
    assert from_mbox[1].key != from_eml.key
    if message_id:
        assert from_eml.key == message_id
    else:
        assert from_eml.key.startswith("sha256:")
