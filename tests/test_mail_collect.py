"""Returns that arrive by mail, through `thidua collect` and `validate`: .eml, .mbox, Maildir and Zimbra .tgz
built here in Outlook and Thunderbird style, received at the message's Date, checked against who sent them,
their evidence kept, their names made safe, feedback for the units with issues."""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import unicodedata
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from pipeline.cli import main

import factories as f
import mailbuild as mb

VN = dt.timezone(dt.timedelta(hours=7))
OFFICER = "thiduakhenthuong@example.gov.vn"  # mail_trusted in the master's example settings
ISSUES = ["Mã đơn vị", "Tệp", "Trang tính", "Ô", "Mã lỗi", "Mức độ", "Nội dung"]


def run(*args, code: int | None = 0) -> str:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    if code is not None:
        assert result.exit_code == code, result.output
    return result.output


def day(d: int, hour: int = 9) -> dt.datetime:
    return dt.datetime(2026, 12, d, hour, 0, tzinfo=VN)


def addr(unit: str) -> str:
    return f"{unit.lower()}@example.gov.vn"


def snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def mailed(tmp_path_factory):
    """The acceptance campaign's returns, mailed: every way an office sends and stores mail."""
    root = tmp_path_factory.mktemp("mailed") / "CAMPAIGN"
    campaign = f.make_campaign(root)
    made = root.parent / "made"
    ret = {u: f.write_return(made / f"{u}.xlsx", campaign, u, r.fill()).read_bytes() for u, r in f.RETURNS.items()}
    spoof = f.write_return(made / "A04-gia.xlsx", campaign, "A04", f.Ret(120, f.s(20, 20, 10, 20, 8)).fill()).read_bytes()
    nfd = unicodedata.normalize("NFD", "Biểu tự chấm điểm 2026 (Đơn vị A01).xlsx")
    pdf = b"%PDF-1.4 minh chung A01\n%%EOF\n"
    a05 = mb.thunderbird_message(addr("A05"), OFFICER, "Bản tự chấm A05", day(6), [("../../x.xlsx", ret["A05"])])
    box = [
        mb.outlook_message(addr("A01"), OFFICER, "Gửi bản tự chấm điểm", day(5), [(nfd, ret["A01"]), ("Minh chứng.pdf", pdf)]),
        mb.thunderbird_message(addr("A02"), OFFICER, "A02 gửi bản tự chấm", day(12), [("A02.xlsx", ret["A02"])]),
        mb.forwarded_message(OFFICER, OFFICER, "Fwd: bản tự chấm A03", day(11),
                             mb.outlook_message(addr("A03"), "nham@example.gov.vn", "Bản tự chấm A03", day(9),
                                                [("A03.xlsx", ret["A03"])])),
        mb.outlook_message(addr("A04"), OFFICER, "A04", day(1), [("A04.xlsx", ret["A04"])]),
        mb.outlook_message(addr("A05"), OFFICER, "A04 lần 2", day(8), [("A04 lần 2.xlsx", spoof)]),
        mb.thunderbird_message("canbo.b02@gmail.com", OFFICER, "B02", day(7), [("B02.xlsx", ret["B02"])]),
        a05,
    ]
    inbox = root / "inbox"
    mb.write_mbox(inbox / "thu-den.mbox", box)
    (inbox / "A05.eml").write_bytes(a05)  # the same message saved twice: one receipt
    (inbox / "B01.eml").write_bytes(mb.outlook_message(addr("B01"), OFFICER, "B01", day(3),
                                                       [("C:\\Windows\\x.xlsx", ret["B01"])]))
    mb.write_maildir(inbox / "Maildir", [mb.thunderbird_message(addr("B03"), OFFICER, "B03", day(2),
                                                                [("B03.xlsx", ret["B03"])])])
    # Zimbra's own date (after the deadline) wins over the Date header (before it).
    mb.write_zimbra_tgz(inbox / "zimbra.tgz", [(mb.outlook_message(addr("B04"), OFFICER, "B04", day(9),
                                                                   [("B04.xlsx", ret["B04"])]), day(11, 8))])
    (inbox / "B06.eml").write_bytes(mb.outlook_message(addr("B06"), OFFICER, "B06", day(4), [("B06.xlsx", ret["B06"])]))
    before = snapshot(inbox)
    first = run("collect", root)
    receipts_once = (root / "out" / "submissions" / "receipts.csv").read_text(encoding="utf-8")
    run("collect", root)
    validated = run("validate", root, code=1)
    with open(root / "out" / "submissions" / "receipts.csv", newline="", encoding="utf-8") as fh:
        receipts = list(csv.DictReader(fh))
    return {"root": root, "campaign": campaign, "before": before, "after": snapshot(inbox), "first": first,
            "validated": validated, "receipts": receipts, "receipts_once": receipts_once,
            "issues": f.table(root / "out" / "validation.xlsx", "Lỗi", ISSUES), "ret": ret, "pdf": pdf}


def by_unit(receipts, form="score"):
    out = {}
    for r in receipts:
        if r["form"] == form:
            out.setdefault(r["unit"], []).append(r)
    return out


def test_every_mailed_return_is_collected_once_with_its_message(mailed):
    scores = by_unit(mailed["receipts"])
    assert set(scores) == {"A01", "A02", "A03", "A04", "A05", "B01", "B02", "B03", "B04", "B06"}
    assert len(scores["A05"]) == 1  # in the mbox and in an .eml: one message
    assert len(scores["A04"]) == 2  # its own and the one mailed from A05's address
    a01 = scores["A01"][0]
    assert a01["original"] == unicodedata.normalize("NFC", "Biểu tự chấm điểm 2026 (Đơn vị A01).xlsx")
    assert (a01["sender"], a01["subject"]) == (addr("A01"), "Gửi bản tự chấm điểm")
    assert a01["message_id"].startswith("<") and a01["received"] == "2026-12-05T09:00:00"
    stored = mailed["root"] / "out" / "submissions" / a01["stored"]
    assert stored.read_bytes() == mailed["ret"]["A01"]


def test_collecting_again_adds_nothing_and_the_inbox_is_untouched(mailed):
    text = (mailed["root"] / "out" / "submissions" / "receipts.csv").read_text(encoding="utf-8")
    assert text == mailed["receipts_once"]
    assert mailed["after"] == mailed["before"]


def test_received_is_the_message_date_and_late_follows_it(mailed):
    scores = by_unit(mailed["receipts"])
    assert scores["A02"][0]["received"] == "2026-12-12T09:00:00"
    assert scores["A03"][0]["received"] == "2026-12-09T09:00:00"  # forwarded: when the unit sent it
    assert scores["A03"][0]["sender"] == addr("A03")
    assert scores["B04"][0]["received"] == "2026-12-11T08:00:00"  # Zimbra's date, not the Date header
    late = {r["Mã đơn vị"] for r in mailed["issues"] if r["Mã lỗi"] == "late"}
    assert late == {"A02", "B04"}


def test_a_return_from_another_units_address_does_not_replace_the_real_one(mailed):
    wrong = [r for r in mailed["issues"] if r["Mã lỗi"] == "sender_other_unit"]
    assert [(r["Mã đơn vị"], r["Tệp"], r["Mức độ"]) for r in wrong] == [("A04", "A04 lần 2.xlsx", "Lỗi")]
    assert not any(r["Mã đơn vị"] == "A04" and r["Mã lỗi"] == "superseded" for r in mailed["issues"])
    # A04's own return counts: it is ranked with its own total.
    run("rank", mailed["root"])
    ranked = {r["Mã đơn vị"]: r for r in f.table(mailed["root"] / "out" / "results-2026.xlsx", "Xếp hạng", ["Mã đơn vị", "Tổng điểm"])}
    assert ranked["A04"]["Tổng điểm"] == 73.63


def test_an_unknown_sender_is_a_warning_and_the_return_counts(mailed):
    rows = [r for r in mailed["issues"] if r["Mã lỗi"] == "sender_unknown"]
    assert [(r["Mã đơn vị"], r["Mức độ"]) for r in rows] == [("B02", "Cảnh báo")]
    assert "canbo.b02@gmail.com" in rows[0]["Nội dung"]


def test_evidence_is_kept_under_the_units_folder_and_is_not_an_error(mailed):
    evidence = [r for r in mailed["receipts"] if r["form"] == "evidence"]
    assert [(r["unit"], r["original"]) for r in evidence] == [("A01", "Minh chứng.pdf")]
    path = mailed["root"] / "out" / "submissions" / evidence[0]["stored"]
    assert path.parent == mailed["root"] / "out" / "submissions" / "evidence" / "A01"
    assert path.read_bytes() == mailed["pdf"]
    assert not any("Minh chứng" in r["Tệp"] for r in mailed["issues"])
    status = run("status", mailed["root"], code=None)
    assert "1 minh chứng" in status and addr("A01") in status


def test_hostile_attachment_names_are_collected_inside_out(mailed):
    out = (mailed["root"] / "out").resolve()
    names = {r["unit"]: r["original"] for r in mailed["receipts"] if r["unit"] in ("A05", "B01")}
    assert names == {"A05": "x.xlsx", "B01": "x.xlsx"}
    for r in mailed["receipts"]:
        assert out in (mailed["root"] / "out" / "submissions" / r["stored"]).resolve().parents
    assert not (mailed["root"].parent / "x.xlsx").exists() and not (mailed["root"] / "x.xlsx").exists()


def test_a_unit_with_issues_gets_feedback_whose_marked_cells_are_its_issues(mailed):
    root = mailed["root"]
    stored = by_unit(mailed["receipts"])["B06"][0]
    before = hashlib.sha256((root / "out" / "submissions" / stored["stored"]).read_bytes()).hexdigest()
    assert before == stored["sha256"]
    feedback = root / "out" / "feedback"
    cells = {(r["Trang tính"], r["Ô"]) for r in mailed["issues"] if r["Mã đơn vị"] == "B06" and r["Ô"]}
    assert cells
    wb = openpyxl.load_workbook(feedback / "B06.xlsx")
    marked = {(ws.title, c.coordinate) for ws in wb.worksheets for row in ws.iter_rows() for c in row
              if c.comment is not None}
    assert marked == cells
    valid = {r["Mã đơn vị"] for r in f.table(root / "out" / "validation.xlsx", "Tổng hợp", ["Mã đơn vị", "Tình trạng"])
             if r["Tình trạng"] == "Hợp lệ"}
    assert not any((feedback / f"{u}.xlsx").exists() for u in valid if u not in
                   {r["Mã đơn vị"] for r in mailed["issues"]})


from mailservers import dovecot  # noqa: E402,F401


def test_collect_from_an_imap_folder_reads_only_the_returns_at_their_internaldate(tmp_path, dovecot, monkeypatch):
    """`collect --imap` gets exactly the returns of the folder, received at the server's arrival time, and
    leaves every message on the server as it was (same messages, same flags: nothing marked read).
    Dovecot takes no INTERNALDATE in the future, so this campaign's deadline is a past one."""
    content = f.content()
    next(r for r in content["Thiết lập"] if r["key"] == "deadline")["value"] = "2025-12-10"
    root = tmp_path / "CAMPAIGN"
    campaign = f.make_campaign(root, content)
    past = lambda d, hour=9: day(d, hour).replace(year=2025)  # noqa: E731
    folder = "Thi đua 2026"
    ret = {u: f.write_return(tmp_path / f"{u}.xlsx", campaign, u, f.RETURNS[u].fill()).read_bytes()
           for u in ("A01", "A02")}
    arrived = {"A01": past(9, 16), "A02": past(11, 7)}  # A02 reached the server after the deadline
    for u in ret:
        dovecot.append(folder, mb.outlook_message(addr(u), OFFICER, f"Bản tự chấm {u}", past(8),
                                                  [(f"{u}.xlsx", ret[u])]), arrived[u],
                       flags="\\Seen" if u == "A01" else "")
    dovecot.append(folder, mb.thunderbird_message(addr("A03"), OFFICER, "Hỏi về mẫu", past(8), []), past(8))
    flags = dovecot.flags(folder)
    monkeypatch.setenv("THIDUA_IMAP_PASSWORD", dovecot.password)
    monkeypatch.setenv("SSL_CERT_FILE", str(dovecot.ca_path))
    run("collect", root, "--imap", dovecot.url(folder), "--since", "2025-12-01")
    assert dovecot.flags(folder) == flags
    with open(root / "out" / "submissions" / "receipts.csv", newline="", encoding="utf-8") as fh:
        receipts = list(csv.DictReader(fh))
    assert sorted((r["unit"], r["received"], r["sender"]) for r in receipts) == \
        [("A01", "2025-12-09T16:00:00", addr("A01")), ("A02", "2025-12-11T07:00:00", addr("A02"))]
    for r in receipts:
        assert (root / "out" / "submissions" / r["stored"]).read_bytes() == ret[r["unit"]]
    run("collect", root, "--imap", dovecot.url(folder))  # again: nothing new
    with open(root / "out" / "submissions" / "receipts.csv", newline="", encoding="utf-8") as fh:
        assert len(list(csv.DictReader(fh))) == 2
    run("validate", root, code=1)  # units without returns are errors
    late = {r["Mã đơn vị"] for r in f.table(root / "out" / "validation.xlsx", "Lỗi", ISSUES) if r["Mã lỗi"] == "late"}
    assert late == {"A02"}


def test_the_templates_thidua_sent_are_not_collected_as_returns(tmp_path):
    """A copy of an outgoing template (the Sent folder, a Cc to the officer) in the inbox is not a return."""
    root = tmp_path / "CAMPAIGN"
    f.make_campaign(root)
    run("mail", root, "--only", "A01")
    sent = root / "out" / "outbox" / "templates" / "A01.eml"
    (root / "inbox" / "sent-copy.eml").write_bytes(sent.read_bytes())
    run("collect", root)
    with open(root / "out" / "submissions" / "receipts.csv", newline="", encoding="utf-8") as fh:
        assert list(csv.DictReader(fh)) == []


def test_a_damaged_mailbox_is_reported_and_the_rest_is_collected(tmp_path):
    root = tmp_path / "CAMPAIGN"
    campaign = f.make_campaign(root)
    (root / "inbox" / "hong.tgz").write_bytes(b"\x1f\x8b not really gzip")
    f.write_return(root / "inbox" / "A01.xlsx", campaign, "A01", f.RETURNS["A01"].fill())
    out = run("collect", root)
    assert "hong.tgz" in out
    run("validate", root, code=1)
    rows = [r for r in f.table(root / "out" / "validation.xlsx", "Lỗi", ISSUES) if r["Tệp"] == "hong.tgz"]
    assert [r["Mã lỗi"] for r in rows] == ["unreadable"]
    valid = {r["Mã đơn vị"]: r["Tình trạng"] for r in f.table(root / "out" / "validation.xlsx", "Tổng hợp", ["Mã đơn vị", "Tình trạng"])}
    assert valid["A01"] == "Hợp lệ"


def test_the_same_attachment_in_two_messages_is_one_version(tmp_path):
    """A unit that sends its file, then sends it again (or Cc's it), has one version: no `superseded`."""
    root = tmp_path / "CAMPAIGN"
    campaign = f.make_campaign(root)
    data = f.write_return(tmp_path / "A01.xlsx", campaign, "A01", f.RETURNS["A01"].fill()).read_bytes()
    mb.write_mbox(root / "inbox" / "thu.mbox", [
        mb.outlook_message(addr("A01"), OFFICER, "Bản tự chấm", day(3), [("A01.xlsx", data)]),
        mb.thunderbird_message(addr("A01"), OFFICER, "Gửi lại bản tự chấm", day(4), [("A01 (gửi lại).xlsx", data)])])
    run("collect", root)
    run("validate", root, code=1)
    issues = f.table(root / "out" / "validation.xlsx", "Lỗi", ISSUES)
    assert not [r for r in issues if r["Mã đơn vị"] == "A01" and r["Mã lỗi"] == "superseded"]
    summary = {r["Mã đơn vị"]: r for r in f.table(root / "out" / "validation.xlsx", "Tổng hợp",
                                                  ["Mã đơn vị", "Số bản gửi", "Nhận lúc"])}
    assert summary["A01"]["Số bản gửi"] == 1 and summary["A01"]["Nhận lúc"] == dt.datetime(2026, 12, 3, 9, 0)


def test_one_walk_tells_the_files_from_the_mail_under_a_source(tmp_path):
    """collect.scan: every file under the source is a file, except office and system files, the top register, mail
    files and what is inside a Maildir; a dot-named folder is walked like any other, a linked folder is not
    entered (as Path.rglob), a linked file or Maildir counts."""
    from pipeline.collect import scan

    t = tmp_path / "inbox"
    for folder in ("a/b", "Mail/cur", "Mail/new", ".Arch/cur", ".Arch/new", "real"):
        (t / folder).mkdir(parents=True)
    for name in ("x.xlsx", "a/y.xlsx", "a/b/z.pdf", "Mail/cur/1:2,S", ".Arch/cur/msg1", "m.eml", ".h.eml", "mbox",
                 "box.tgz", "received.csv", "a/received.csv", "~$x.xlsx", ".DS_Store", ".hidden.xlsx", "real/r.xlsx",
                 "tên có dấu.xlsx"):
        (t / name).write_bytes(b"x")
    (t / "a/linkdir").symlink_to(t / "real")
    (t / "a/linkfile.xlsx").symlink_to(t / "x.xlsx")
    (t / "a/linkmail").symlink_to(t / "Mail")
    files, mail = scan([t])
    assert [name for _, name in files] == sorted([
        ".Arch/cur/msg1", ".hidden.xlsx", "a/b/z.pdf", "a/linkfile.xlsx", "a/received.csv", "a/y.xlsx", "real/r.xlsx",
        "tên có dấu.xlsx", "x.xlsx"])
    assert mail == sorted(t / n for n in ("Mail", "a/linkmail", "box.tgz", "m.eml", "mbox"))
    assert scan([t / "m.eml", t / "x.xlsx"]) == ([(t / "x.xlsx", "x.xlsx")], [t / "m.eml"])


def test_a_mailed_workbook_is_stored_under_what_its_bytes_are_as_from_a_folder(tmp_path, monkeypatch):
    """The stored copy's extension comes from the bytes, whether the file came by mail or in a folder: an .xlsx
    sent as .xls is stored as .xlsx both ways, its kind taken from its one reading (never sniffed again)."""
    import pipeline.collect
    from pipeline.collect import load_receipts

    monkeypatch.setattr(pipeline.collect, "sniff", lambda *a: pytest.fail("a workbook sniffed again"))
    root = tmp_path / "CAMPAIGN"
    campaign = f.make_campaign(root)
    data = f.write_return(tmp_path / "A01.xlsx", campaign, "A01", f.RETURNS["A01"].fill()).read_bytes()
    mb.write_mbox(root / "inbox" / "thu.mbox", [
        mb.outlook_message(addr("A01"), OFFICER, "Bản tự chấm", day(3), [("A01.xls", data)])])
    (root / "inbox" / "A01 - gửi tay.xls").write_bytes(data)
    run("collect", root)
    receipts = load_receipts(root / "out" / "submissions")
    digest = hashlib.sha256(data).hexdigest()
    assert sorted((r.original, r.stored, r.status) for r in receipts) == [
        ("A01 - gửi tay.xls", f"{digest}.xlsx", "ok"), ("A01.xls", f"{digest}.xlsx", "ok")]
    assert (root / "out" / "submissions" / f"{digest}.xlsx").read_bytes() == data
