"""Messages out: Vietnamese headers and the attachment name survive the bytes, Message-IDs are stable."""
from __future__ import annotations

import datetime as dt
import email
import email.policy
import email.utils
import re
import unicodedata
from email.header import decode_header, make_header

import pytest

from pipeline.mail import VIETNAM
from pipeline.mail.message import XLSX, Outgoing, compose, message_id, write_eml

NFD = lambda s: unicodedata.normalize("NFD", s)  # noqa: E731  what a Mac keyboard or a copied file name gives
NFC = lambda s: unicodedata.normalize("NFC", s)  # noqa: E731

SENDER, SENDER_NAME = "thiduakhenthuong@example.gov.vn", "Ban Thi đua - Khen thưởng tỉnh Quảng Trị"
LONG_NAME = "Biểu tự chấm điểm thi đua năm 2025 - Sở Nông nghiệp và Phát triển nông thôn tỉnh Quảng Trị.xlsx"
WHEN = dt.datetime(2025, 11, 20, 8, 30, tzinfo=VIETNAM)
ENCODED_WORD = re.compile(rb"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")


@pytest.fixture
def workbook(tmp_path):
    path = tmp_path / "DV01.xlsx"
    path.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 40 + b"\r\n.\r\n\x00end")  # a lone dot line, CRLF, NUL
    return path


def outgoing(workbook, **changes) -> Outgoing:
    fields = dict(what="templates", recipient="DV01", to="snv@example.gov.vn", to_name=NFD("Sở Nội vụ tỉnh Quảng Trị"),
                  subject=NFD("Gửi biểu tự chấm điểm thi đua năm 2025 - Sở Nông nghiệp và Phát triển nông thôn"),
                  body=NFD("Kính gửi Sở Nội vụ,\n\nBan Thi đua gửi biểu tự chấm điểm năm 2025.\nTrân trọng.\n"),
                  attachment=workbook, attachment_name=NFD(LONG_NAME))
    fields.update(changes)
    return Outgoing(**fields)


def raw_of(out: Outgoing, reply_to: str = "nhanbai@example.gov.vn") -> bytes:
    return compose(out, SENDER, NFD(SENDER_NAME), reply_to, WHEN).as_bytes()


def display_name(msg, header: str) -> str:
    """The display name as RFC 2047 section 6.2 reads it: whitespace between encoded words is dropped.

    policy.default's address parser keeps it (CPython gh-128110, fixed after 3.13), so a name folded
    between two words would compare with a doubled space; the legacy decoder follows the RFC.
    """
    raw = next(value for name, value in msg.raw_items() if name.lower() == header.lower())
    return email.utils.parseaddr(str(make_header(decode_header(raw))))[0]


def parsed(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def attachment_headers(raw: bytes) -> list[bytes]:
    """The attachment part's header block, unfolded into one line per header."""
    part = raw[raw.index(b"Content-Type: " + XLSX.encode()):]
    head = part[:part.index(b"\r\n\r\n")]
    return re.split(rb"\r\n(?![ \t])", head)


def test_headers_decode_to_nfc_text(workbook):
    msg = parsed(raw_of(outgoing(workbook)))
    assert display_name(msg, "From") == NFC(SENDER_NAME)
    assert " ".join(msg["From"].addresses[0].display_name.split()) == NFC(SENDER_NAME)
    assert msg["From"].addresses[0].addr_spec == SENDER
    assert display_name(msg, "To") == NFC("Sở Nội vụ tỉnh Quảng Trị")
    assert msg["Reply-To"].addresses[0].addr_spec == "nhanbai@example.gov.vn"
    assert str(msg["Subject"]) == NFC("Gửi biểu tự chấm điểm thi đua năm 2025 - Sở Nông nghiệp và Phát triển nông thôn")
    assert msg["Date"].datetime == WHEN
    assert msg["MIME-Version"] == "1.0"
    assert msg["Message-ID"] == message_id(outgoing(workbook), SENDER)
    assert "In-Reply-To" not in msg and "References" not in msg


@pytest.mark.parametrize("text", ["Kết quả kiểm tra bản tự chấm điểm thi đua năm 2025 - Tòa án nhân dân tỉnh Quảng Trị",
                                  "Công ty TNHH MTV Quản lý khai thác công trình thủy lợi Quảng Trị"])
def test_no_space_is_lost_between_encoded_words(workbook, text):
    """RFC 2047 readers drop the whitespace between encoded words: every space must be inside a word."""
    msg = parsed(compose(outgoing(workbook, subject=text, to_name=text), SENDER, SENDER_NAME, "", WHEN).as_bytes())
    raw = dict((k.lower(), v) for k, v in msg.raw_items())
    assert str(make_header(decode_header(raw["subject"]))) == text
    assert display_name(msg, "To") == text
    assert " ".join(msg["To"].addresses[0].display_name.split()) == text  # and Python's own parser agrees


def test_no_reply_to_when_none_is_given(workbook):
    assert "Reply-To" not in parsed(raw_of(outgoing(workbook), reply_to=""))


def test_body_is_nfc_utf8_plain_text(workbook):
    body = parsed(raw_of(outgoing(workbook))).get_body(("plain",))
    assert body.get_content_type() == "text/plain" and body.get_content_charset() == "utf-8"
    assert body.get_content().replace("\r\n", "\n") == NFC("Kính gửi Sở Nội vụ,\n\nBan Thi đua gửi biểu tự chấm điểm năm 2025.\nTrân trọng.\n")


def test_attachment_has_the_nfc_name_and_the_exact_bytes(workbook):
    (part,) = parsed(raw_of(outgoing(workbook))).iter_attachments()
    assert part.get_content_type() == XLSX
    assert part["Content-Transfer-Encoding"] == "base64"
    assert part.get_content_disposition() == "attachment"
    assert part.get_filename() == NFC(LONG_NAME)
    assert part["Content-Type"].params["name"] == NFC(LONG_NAME)  # the RFC 2047 name, for old Outlook
    assert part.get_content() == workbook.read_bytes()


def test_attachment_names_in_both_encodings_on_the_raw_lines(workbook):
    content_type, disposition = [h for h in attachment_headers(raw_of(outgoing(workbook)))
                                 if h.lower().startswith((b"content-type", b"content-disposition"))]
    assert re.match(rb'Content-Type: ' + re.escape(XLSX.encode()) + rb';\r\n name="=\?utf-8\?b\?', content_type)
    assert b"name*" not in content_type  # Python's own folding would have rewritten it as RFC 2231
    assert re.match(rb"Content-Disposition: attachment;\r\n filename\*=utf-8''[A-Za-z0-9%._~-]+$", disposition)
    assert b"filename*=utf-8''Bi%E1%BB%83u%20t%E1%BB%B1%20ch%E1%BA%A5m" in disposition  # NFC bytes, not NFD


def test_long_name_encoded_words_stay_within_rfc_2047_limits(workbook):
    raw = raw_of(outgoing(workbook))
    content_type = attachment_headers(raw)[0]
    words = ENCODED_WORD.findall(content_type)
    assert len(words) > 1, "a name this long needs several encoded words"
    assert all(len(w) <= 75 for w in words)
    assert all(len(w) <= 75 for w in ENCODED_WORD.findall(raw[:raw.index(b"\r\n\r\n")]))  # Subject, From, To
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998


def test_lines_are_crlf_and_seven_bit(workbook):
    raw = raw_of(outgoing(workbook))
    assert raw.isascii()
    assert b"\n" not in raw.replace(b"\r\n", b"")


def test_message_id_is_stable_and_follows_the_attachment(workbook, tmp_path):
    first, again = message_id(outgoing(workbook), SENDER), message_id(outgoing(workbook), SENDER)
    assert first == again
    assert re.fullmatch(r"<[0-9a-f]{32}\.thidua@example\.gov\.vn>", first)
    assert parsed(raw_of(outgoing(workbook)))["Message-ID"] == parsed(raw_of(outgoing(workbook)))["Message-ID"]
    workbook.write_bytes(workbook.read_bytes() + b"changed")
    assert message_id(outgoing(workbook), SENDER) != first
    assert message_id(outgoing(workbook, recipient="DV02"), SENDER) != message_id(outgoing(workbook), SENDER)


def test_reply_carries_in_reply_to_and_references(workbook):
    msg = parsed(raw_of(outgoing(workbook, what="feedback", in_reply_to="<abc.123@snv.example.gov.vn>")))
    assert msg["In-Reply-To"] == "<abc.123@snv.example.gov.vn>"
    assert msg["References"] == "<abc.123@snv.example.gov.vn>"


def test_message_without_attachment_is_plain_text(workbook):
    msg = parsed(raw_of(outgoing(workbook, what="reminder", attachment=None, attachment_name="")))
    assert msg.get_content_type() == "text/plain"
    assert list(msg.iter_attachments()) == []


def test_naive_date_is_read_as_vietnam_time(workbook):
    msg = compose(outgoing(workbook), SENDER, SENDER_NAME, "", dt.datetime(2025, 11, 20, 8, 30))
    assert parsed(msg.as_bytes())["Date"].datetime == WHEN


def test_write_eml_writes_crlf_bytes_that_parse_back(workbook, tmp_path):
    msg = compose(outgoing(workbook), SENDER, SENDER_NAME, "", WHEN)
    path = write_eml(msg, tmp_path / "outbox" / "templates" / "DV01.eml")
    raw = path.read_bytes()
    assert path.parent.is_dir() and raw.endswith(b"\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert raw == msg.as_bytes()
    (part,) = parsed(raw).iter_attachments()
    assert part.get_filename() == NFC(LONG_NAME) and part.get_content() == workbook.read_bytes()
    assert b"filename*=utf-8''" in raw and b'name="=?utf-8?b?' in raw
