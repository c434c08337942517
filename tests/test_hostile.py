"""Hostile and broken returns (issue 11): each file is made from a generated template, filled validly, then broken
in one way, and the test is named after the defect. Each asserts the code and where it points, that the other
units' results are unchanged and that nothing in the inbox was modified."""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
import unicodedata
import zipfile
import zlib
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.collect import load_receipts
from pipeline.issues import ERROR, MESSAGES, WARNING
from pipeline.intake import sheet_parts
from pipeline.workbook import run_lock
from pipeline.workflow import run_collect, run_validate
from schemas import returns as R

import factories as f

SCORES, ITEMS = R.SCORE_SHEET, R.ITEMS_SHEET
ROOT = Path(__file__).resolve().parents[1]
VICTIM = "B05"  # sends nothing in the acceptance campaign: a broken file of its own changes nobody else's result


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """The acceptance campaign collected and validated once: what every other unit's result must stay."""
    root = tmp_path_factory.mktemp("hostile") / "CAMPAIGN"
    campaign = f.make_campaign(root)
    f.fill_inbox(root, campaign)
    run_collect(root)
    v = run_validate(root)
    good = root.parent / "good.xlsx"
    f.write_return(good, campaign, VICTIM, f.RETURNS["A02"].fill())
    return {"root": root, "campaign": campaign, "results": results(v), "good": good}


def results(v) -> dict[str, tuple]:
    """Per unit other than the victim: its issues and its values, as comparable tuples."""
    issues = {}
    for i in v.issues:
        issues.setdefault(i.unit, set()).add((i.code, i.severity, i.sheet, i.cell))
    clean = lambda x: None if x is None or x != x else x  # noqa: E731  (NaN, a computed score, equals itself)
    values = {}
    for u, code, score, actual in zip(v.values["unit"], v.values["code"], v.values["score"], v.values["actual"]):
        values.setdefault(u, set()).add((code, clean(score), clean(actual)))
    return {u: (frozenset(issues.get(u, ())), frozenset(values.get(u, ())))
            for u in set(values) | set(issues) if u not in (VICTIM, "")}


def hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def drop(base, tmp_path, name: str, data: bytes):
    """A copy of the campaign with `data` added to its inbox as `name`, collected and validated: (receipt of the
    file, issues about it, the validation), with the checks every test shares."""
    root = tmp_path / "CAMPAIGN"
    shutil.copytree(base["root"], root)
    shutil.rmtree(root / "out")
    path = root / "inbox" / name
    path.write_bytes(data)
    os.utime(path, (f.ARRIVED, f.ARRIVED))
    before = hashes(root / "inbox")
    receipts = run_collect(root)
    v = run_validate(root)
    assert hashes(root / "inbox") == before  # nothing received is modified
    assert results(v) == base["results"]     # the other units' results are unchanged
    mine = [r for r in receipts if r.original == name]
    assert len(mine) == 1  # every file gets a receipt
    return mine[0], [i for i in v.issues if i.file == name or (i.unit == VICTIM and i.code != "no_return")], v


def rezip(src: Path, change=None, add: dict | None = None) -> bytes:
    """The workbook's zip rewritten: `change(name, data) -> data` on every member, `add` members appended."""
    out = src.with_name(f"re-{src.name}")
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            zout.writestr(info.filename, change(info.filename, data) if change else data)
        for name, data in (add or {}).items():
            zout.writestr(name, data)
    return out.read_bytes()


def sheet_xml(path: Path, sheet: str) -> str:
    with zipfile.ZipFile(path) as z:
        return sheet_parts(z.read("xl/workbook.xml"), z.read("xl/_rels/workbook.xml.rels"))[sheet]


def on_sheet(path: Path, sheet: str, edit) -> bytes:
    part = sheet_xml(path, sheet)
    return rezip(path, lambda name, data: edit(data.decode()).encode() if name == part else data)


def codes(issues) -> set[tuple[str, str, str, str]]:
    return {(i.code, i.severity, i.sheet, i.cell) for i in issues}


# --- 2. know the file by its bytes ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["B05.xls", "B05.ods", "B05", "B05.xlsm"])
def test_xlsx_saved_under_the_wrong_extension_is_read_as_xlsx(base, tmp_path, name):
    receipt, issues, v = drop(base, tmp_path, name, base["good"].read_bytes())
    assert (receipt.status, receipt.unit) == ("ok", VICTIM)
    assert receipt.stored.endswith(".xlsx")
    assert VICTIM in v.valid
    assert codes(issues) == {("wrong_extension", WARNING, "", "")}


@pytest.mark.skipif(shutil.which("soffice") is None, reason="needs LibreOffice to save an .xls and an .ods")
def test_real_xls_and_ods_saved_as_xlsx_are_read_as_what_they_are(base, tmp_path):
    work = tmp_path / "conv"
    work.mkdir()
    shutil.copy(base["good"], work / "B05.xlsx")
    for kind in ("xls", "ods"):
        subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{work}/profile", "--convert-to", kind,
                        "--outdir", str(work), str(work / "B05.xlsx")], check=True, capture_output=True, timeout=120)
    for kind in ("xls", "ods"):
        receipt, issues, v = drop(base, tmp_path / kind, "B05.xlsx", (work / f"B05.{kind}").read_bytes())
        assert (receipt.status, receipt.unit, receipt.stored[-4:]) == ("ok", VICTIM, f".{kind}"[-4:])
        assert ("wrong_extension", WARNING, "", "") in codes(issues)
        assert VICTIM in v.valid or {i.code for i in issues if i.severity == ERROR} <= {"formula_no_value"}


FAKE_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + "EncryptionInfo".encode("utf-16-le") + bytes(64) + \
    "EncryptedPackage".encode("utf-16-le") + bytes(4000)


@pytest.mark.parametrize("defect, data, code", [
    ("password_protected", lambda good: FAKE_OLE, "encrypted"),
    ("html_renamed_xlsx", lambda good: b"<html><body><table><tr><td>B05</td></tr></table></body></html>", "html_file"),
    ("pdf_renamed_xlsx", lambda good: b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n", "pdf_file"),
    ("word_document_renamed_xlsx", lambda good: rezip_docx(), "not_a_workbook"),
    ("macro_bearing", lambda good: rezip(good, add={"xl/vbaProject.bin": b"\x00" * 100}), "macro"),
    ("truncated_zip", lambda good: good.read_bytes()[:3000], "unreadable"),
])
def test_a_file_that_is_not_a_plain_workbook_gets_one_issue_for_its_cause(base, tmp_path, defect, data, code):
    receipt, issues, v = drop(base, tmp_path, f"{defect}.xlsx", data(base["good"]))
    assert receipt.status == code
    # One root cause, one issue: never also "wrong campaign" with an empty campaign id.
    assert [(i.code, i.severity) for i in issues] == [(code, ERROR)]


def rezip_docx() -> bytes:
    import io
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<document/>")
    return buf.getvalue()


# --- 3. bounded cost before parsing ---------------------------------------------------------------------------

BILLION_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + "".join(f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 9))
                  + ']>')


def test_xml_with_entity_declarations_is_refused_as_unsafe(base, tmp_path):
    def entities(xml: str) -> str:
        prolog = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        assert xml.startswith(prolog)
        return xml.replace(prolog, BILLION_LAUGHS, 1)

    data = on_sheet(base["good"], SCORES, entities)
    receipt, issues, v = drop(base, tmp_path, "entities.xlsx", data)
    assert receipt.status == "unsafe_xml"
    assert [(i.code, i.severity) for i in issues] == [("unsafe_xml", ERROR)]


DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


@pytest.mark.parametrize("head, unsafe", [
    (DECLARATION + "<sst><si><t>Sở Nội vụ</t></si></sst>", False),
    (DECLARATION + '<!DOCTYPE x [<!ENTITY a "b">]><sst/>', True),
    (DECLARATION + "<!--" + "đệm " * 2000 + "-->" + '<!DOCTYPE x [<!ENTITY a "b">]><sst/>', True),  # past 4 KB
    (DECLARATION + "<!-- <sst> không phải gốc -->\n<?pi x?>\n<!doctype x><sst/>", True),
    (" " * 509 + '<!DOCTYPE x><sst/>', True),  # the declaration cut across the first block read
    ((DECLARATION + '<!DOCTYPE x><sst/>').encode("utf-16"), True),
    (b"\xfe\xff" + (DECLARATION + '<!entity a "b"><sst/>').encode("utf-16-be"), True),
    (DECLARATION + "<sst>" + "&lt;!DOCTYPE là chữ&gt; " * 300 + "</sst>", False),  # text, not a declaration
], ids=["plain", "dtd", "dtd after 4 KB of comments", "comment and pi first", "across a block", "utf-16",
        "utf-16 big-endian", "the words in the text"])
def test_a_dtd_anywhere_before_the_root_element_is_found(head, unsafe):
    """The head of an XML part is read as far as its prolog goes (declaration, comments, processing
    instructions) and no further: a DTD there is refused however far it is pushed; a plain part costs one small
    read."""
    from pipeline.intake import PROLOG_STEP, Refused, _no_dtd, _reader

    data = head if isinstance(head, bytes) else head.encode()
    asked = []
    more = _reader(data)

    def counted(n):
        asked.append(n)
        return more(n)
    if unsafe:
        with pytest.raises(Refused) as refused:
            _no_dtd(counted, "xl/sharedStrings.xml")
        assert refused.value.code == "unsafe_xml"
    else:
        _no_dtd(counted, "xl/sharedStrings.xml")
        assert sum(asked) <= 2 * PROLOG_STEP


def test_a_dtd_pushed_past_4_kb_of_comments_is_refused(base, tmp_path):
    def padded(xml: str) -> str:
        prolog = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        return xml.replace(prolog, prolog + "<!--" + "x" * 8000 + "-->" + BILLION_LAUGHS.split("?>", 1)[1], 1)

    receipt, issues, v = drop(base, tmp_path, "padded.xlsx", on_sheet(base["good"], SCORES, padded))
    assert receipt.status == "unsafe_xml"
    assert [(i.code, i.severity) for i in issues] == [("unsafe_xml", ERROR)]


def test_too_many_zip_members_is_refused(base, tmp_path):
    data = rezip(base["good"], add={f"xl/media/junk{i}.bin": b"x" for i in range(2500)})
    receipt, issues, v = drop(base, tmp_path, "members.xlsx", data)
    assert receipt.status == "too_large"


def bomb(path: Path, gigabytes: float = 1.1, lie: bool = False) -> Path:
    """A valid return with one more member of zeros that inflates to `gigabytes` (made in 1 MB blocks)."""
    out = path.with_name("bomb.xlsx")
    block = bytes(1 << 20)
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info))
        with zout.open("xl/media/image1.bin", "w", force_zip64=True) as m:
            for _ in range(int(gigabytes * 1024)):
                m.write(block)
    if lie:  # declared sizes of 1 byte in the local header and the central directory: only the bytes tell
        data = bytearray(out.read_bytes())
        with zipfile.ZipFile(out) as z:
            info = z.getinfo("xl/media/image1.bin")
        out.write_bytes(bytes(_lie(data, info)))
    return out


def _lie(data: bytearray, info) -> bytearray:
    # zip64 extra fields hold the real sizes: rewrite them (local header and central directory) to 1 byte.
    real = info.file_size.to_bytes(8, "little")
    count = 0
    i = data.find(real)
    while i != -1:
        data[i:i + 8] = (1).to_bytes(8, "little")
        count += 1
        i = data.find(real, i + 8)
    assert count >= 1
    return data


PROBE = """
import json, resource, sys, time
from pathlib import Path
from pipeline.workflow import run_collect
start = time.perf_counter()
receipts = run_collect(Path(sys.argv[1]))
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"status": [r.status for r in receipts], "seconds": seconds, "peak_mb": peak}))
"""


@pytest.fixture(scope="module")
def bombs(base, tmp_path_factory):
    folder = tmp_path_factory.mktemp("bombs")
    made = {}
    for lie in (False, True):
        src = folder / f"lie{lie}" / "B05.xlsx"
        src.parent.mkdir()
        shutil.copy(base["good"], src)
        made[lie] = bomb(src, lie=lie)
    return made


@pytest.mark.parametrize("lie", [False, True], ids=["honest_sizes", "lying_sizes"])
def test_zip_bomb_past_1_gb_is_refused_in_seconds_and_little_memory(base, bombs, tmp_path, lie):
    root = tmp_path / "CAMPAIGN"
    root.mkdir()
    shutil.copy(base["root"] / "campaign.xlsx", root / "campaign.xlsx")
    (root / "inbox").mkdir()
    shutil.copy(bombs[lie], root / "inbox" / "bomb.xlsx")
    before = hashes(root / "inbox")
    done = subprocess.run([sys.executable, "-c", PROBE, str(root)], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout.strip().splitlines()[-1])
    print("zip bomb", "lying" if lie else "honest", got)
    assert got["status"] == ["too_large"]
    assert got["seconds"] < 5, got
    assert got["peak_mb"] < 300, got
    assert hashes(root / "inbox") == before


def junk_rows(count: int):
    def edit(xml: str) -> str:
        last = max(int(n) for n in re.findall(r'<row r="(\d+)"', xml))
        rows = "".join(f'<row r="{last + k}"><c r="A{last + k}" t="inlineStr"><is><t>RAC{k}</t></is></c>'
                       f'<c r="F{last + k}"><v>{k}</v></c></row>' for k in range(1, count + 1))
        xml = re.sub(r'<dimension ref="[^"]*"/>', "", xml)
        return xml.replace("</sheetData>", rows + "</sheetData>", 1)
    return edit


def test_100000_junk_rows_cost_seconds_and_a_handful_of_issues(base, tmp_path):
    data = on_sheet(base["good"], SCORES, junk_rows(100_000))
    start = time.perf_counter()
    receipt, issues, v = drop(base, tmp_path, "junk_rows.xlsx", data)
    seconds = time.perf_counter() - start
    assert seconds < 10, seconds
    assert receipt.status == "ok"
    kinds = {}
    for i in issues:
        kinds[i.code] = kinds.get(i.code, 0) + 1
    assert kinds.get("criterion_unknown", 0) <= 5
    assert kinds["more_issues"] == 1
    assert ("too_many_rows", WARNING, SCORES) in {(i.code, i.severity, i.sheet) for i in issues}
    assert len(issues) < 20


# --- 1. every file gets a receipt -----------------------------------------------------------------------------

STRANGE = ["=HYPERLINK(\"x\").xlsx", "+cmd.xlsx", "-2+3.xlsx", "@SUM(A1).xlsx", "a\\b\\c.xlsx",
           "..xlsx", "tab\tbell\x07.xlsx", "x" * 200 + ".xlsx", "không đuôi", "báo cáo.PDF", "a.xlsx\u202egpj.exe"]


def test_strange_file_names_get_receipts_safe_names_and_csv_that_is_not_a_formula(base, tmp_path):
    root = tmp_path / "CAMPAIGN"
    shutil.copytree(base["root"], root)
    shutil.rmtree(root / "out")
    good = base["good"].read_bytes()
    for name in STRANGE:
        (root / "inbox" / name).write_bytes(good)
    before = hashes(root / "inbox")
    receipts = {r.original: r for r in run_collect(root)}
    v = run_validate(root)
    assert hashes(root / "inbox") == before
    assert results(v) == base["results"]
    for name in STRANGE:
        r = receipts[name]
        assert (r.status, r.unit) == ("ok", VICTIM), name  # read like any other, whatever its name
        assert re.fullmatch(r"[0-9a-f]{64}\.xlsx", r.stored)
        assert (root / "out" / "submissions" / r.stored).is_file()
    assert VICTIM in v.valid
    store = root / "out" / "submissions"
    with open(store / "receipts.csv", newline="", encoding="utf-8") as fh:
        cells = [c for row in csv.reader(fh) for c in row]
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)
    assert {r.original for r in load_receipts(store)} >= set(STRANGE)  # the names read back as received


def test_a_pdf_named_pdf_in_the_inbox_is_evidence_not_an_error(base, tmp_path):
    receipt, issues, v = drop(base, tmp_path, "minh chứng.pdf", b"%PDF-1.7\n%%EOF\n")
    assert (receipt.status, receipt.form) == ("evidence", "evidence")
    assert issues == []


# --- 4. cells that lie ----------------------------------------------------------------------------------------

def _cell_xml(cell: str, inner):
    def edit(xml: str) -> str:
        pattern = re.compile(rf'<c r="{cell}"([^>]*?)(/>|>(.*?)</c>)', re.S)
        m = pattern.search(xml)
        assert m, cell
        return xml[:m.start()] + inner(m) + xml[m.end():]
    return edit


def test_formula_without_a_saved_value_is_its_own_error_not_a_missing_score(base, tmp_path):
    cell = f.cell_of(base["good"], SCORES, "I.2", R.SELF)
    data = on_sheet(base["good"], SCORES, _cell_xml(cell, lambda m: f'<c r="{cell}"{m.group(1)}><f>18+1</f></c>'))
    receipt, issues, v = drop(base, tmp_path, "formula_no_value.xlsx", data)
    assert codes(issues) == {("formula_no_value", ERROR, SCORES, cell)}
    assert VICTIM not in v.valid


def test_formula_in_an_input_cell_is_a_warning_and_its_value_counts(base, tmp_path):
    cell = f.cell_of(base["good"], SCORES, "I.2", R.SELF)
    data = on_sheet(base["good"], SCORES, _cell_xml(cell, lambda m: f'<c r="{cell}"{m.group(1)}><f>18+1</f><v>19</v></c>'))
    receipt, issues, v = drop(base, tmp_path, "formula_input.xlsx", data)
    assert codes(issues) == {("formula_input", WARNING, SCORES, cell)}
    mine = v.values[(v.values["unit"] == VICTIM) & (v.values["code"] == "I.2")]
    assert list(mine["score"]) == [19]



MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


@pytest.mark.parametrize("sheet", [
    f'<worksheet xmlns="{MAIN}"><sheetData><row r="2"><c r="B2"><f>1+1</f><v>2</v></c>'
    '<c r="C2"><f>B2*2</f></c></row></sheetData></worksheet>',
    f'<x:worksheet xmlns:x="{MAIN}"><x:sheetData><x:row r="2"><x:c r="B2"><x:f>1+1</x:f><x:v>2</x:v></x:c>'
    '<x:c r="C2"><x:f>B2*2</x:f></x:c></x:row></x:sheetData></x:worksheet>',
    # the root in the default namespace, the cells under a prefix bound to it too
    f'<worksheet xmlns="{MAIN}" xmlns:y="{MAIN}"><sheetData><row r="2"><y:c r="B2"><y:f>1+1</y:f><y:v>2</y:v>'
    '</y:c><c r="C2"><f>B2*2</f></c></row></sheetData></worksheet>',
    f'<x:worksheet xmlns:x="{MAIN}" xmlns="{MAIN}"><sheetData><row r="2"><x:c r="B2"><x:f>1+1</x:f><x:v>2</x:v>'
    '</x:c><c r="C2"><f>B2*2</f></c></row></sheetData></x:worksheet>',
], ids=["plain", "prefixed", "mixed", "mixed under a prefixed root"])
def test_formula_cells_are_found_under_any_prefix(sheet):
    from pipeline.intake import formula_cells

    data = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + sheet).encode()
    assert formula_cells(data) == {"B2": True, "C2": False}

def _damaged(good: bytes, how: str) -> bytes:
    """The return's zip with its score sheet's bytes damaged in one way, every header left as it was."""
    data = bytearray(good)
    with zipfile.ZipFile(io.BytesIO(good)) as z:
        i = z.getinfo(next(n for n in z.namelist() if n.startswith("xl/worksheets/")))
    at = i.header_offset
    start = at + 30 + int.from_bytes(data[at + 26:at + 28], "little") + int.from_bytes(data[at + 28:at + 30], "little")
    if how == "local_header":
        data[at:at + 4] = b"XX\x03\x04"
    elif how == "deflate_stream":
        data[start:start + 8] = b"\xff" * 8
    elif how == "crc":  # the central directory gives the sheet another CRC than its bytes have
        header = bytes(data).rfind(i.filename.encode()) - 46
        data[header + 16:header + 20] = (i.CRC ^ 1).to_bytes(4, "little")
    elif how == "declared_size":  # the central directory says one byte fewer than the sheet inflates to
        header = bytes(data).rfind(i.filename.encode()) - 46
        assert int.from_bytes(data[header + 24:header + 28], "little") == i.file_size
        data[header + 24:header + 28] = (i.file_size - 1).to_bytes(4, "little")
    return bytes(data)


@pytest.mark.parametrize("how", ["local_header", "deflate_stream", "crc", "declared_size"])
def test_a_return_damaged_inside_its_zip_is_refused_from_memory_as_from_disk(base, tmp_path, how):
    """A return is checked from its bytes in memory (intake._inflate_bounded, not zipfile's reader): a damaged
    local header, deflate stream, CRC or declared size is refused as unreadable there, as zipfile refuses it."""
    from pipeline.intake import Limits, Refused, check_file

    data = _damaged(base["good"].read_bytes(), how)
    path = tmp_path / "damaged.xlsx"
    path.write_bytes(data)
    with pytest.raises(Refused) as from_memory:
        check_file(data, Limits())
    with zipfile.ZipFile(path) as z, pytest.raises((zipfile.BadZipFile, zlib.error)):  # zipfile's reader, on disk
        for name in z.namelist():
            z.read(name)
    assert from_memory.value.code == "unreadable"
    receipt, issues, v = drop(base, tmp_path, "damaged.xlsx", data)
    assert receipt.status == "unreadable" and [i.code for i in issues] == ["unreadable"]


def test_a_return_read_from_memory_has_the_facts_zipfiles_reader_finds(base):
    """The same kind, links and formula cells, whether the zip is read from memory or through zipfile."""
    from pipeline.intake import Facts, Limits, _check_zip, check_file

    data = base["good"].read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        through_zipfile = _check_zip(z, "xlsx", Limits())  # no bytes given: zipfile's reader, in blocks
    from_memory = check_file(data, Limits())
    assert isinstance(from_memory, Facts) and from_memory == through_zipfile
    assert sum(len(cells) for cells in from_memory.formulas.values()) > 5


def test_link_to_an_external_workbook_is_a_warning_never_followed(base, tmp_path):
    data = rezip(base["good"], add={"xl/externalLinks/externalLink1.xml":
                                    b'<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>'})
    receipt, issues, v = drop(base, tmp_path, "external_link.xlsx", data)
    assert codes(issues) == {("external_link", WARNING, "", "")}
    assert VICTIM in v.valid


def test_blank_count_of_a_deduction_criterion_is_a_warning_not_a_silent_zero(base, tmp_path):
    path = tmp_path / "src.xlsx"
    fill = f.RETURNS["A02"].fill()
    fill.actuals["III.2"] = None
    f.write_return(path, base["campaign"], VICTIM, fill)
    cell = f.cell_of(path, SCORES, "III.2", R.ACTUAL)
    receipt, issues, v = drop(base, tmp_path, "count_blank.xlsx", path.read_bytes())
    assert codes(issues) == {("count_blank", WARNING, SCORES, cell)}


# --- 5. text that lies ----------------------------------------------------------------------------------------

def test_zero_width_nbsp_and_nfd_never_change_a_match(base, tmp_path):
    path = tmp_path / "src.xlsx"
    shutil.copy(base["good"], path)
    wb = openpyxl.load_workbook(path)
    ws = wb[SCORES]
    for row in ws.iter_rows():
        for c in row:
            if c.value == "I.2":
                c.value = "I.2\u200b"
            elif c.value == "II.1":
                c.value = "\u00a0II.1\u00a0"
    wb[SCORES].title = unicodedata.normalize("NFD", SCORES)  # the sheet's name decomposed, as a Mac may save it
    wb.save(path)
    receipt, issues, v = drop(base, tmp_path, "invisible.xlsx", path.read_bytes())
    assert receipt.status == "ok"
    assert not any(i.severity == ERROR for i in issues), issues
    assert {"I.2", "II.1"} <= set(v.values[v.values["unit"] == VICTIM]["code"])


def test_explanation_past_excels_cell_limit_is_cut_with_a_warning(base, tmp_path):
    # Excel never saves such a cell, but a script or another program does
    cell = f.cell_of(base["good"], SCORES, "I.3", R.EXPLAIN)
    long = "Báo cáo " * 5000  # 40,000 characters
    data = on_sheet(base["good"], SCORES, _cell_xml(
        cell, lambda m: f'<c r="{cell}" t="inlineStr"><is><t>{long}</t></is></c>'))
    receipt, issues, v = drop(base, tmp_path, "long_text.xlsx", data)
    assert codes(issues) == {("text_too_long", WARNING, SCORES, cell)}
    mine = v.values[(v.values["unit"] == VICTIM) & (v.values["code"] == "I.3")]
    assert len(mine["explanation"].iloc[0]) <= 32767


# --- 6. nothing lost on a crash -------------------------------------------------------------------------------

KILLER = """
import os, signal, sys
real = os.replace
def replace(src, dst, *a, **k):
    if str(dst).endswith("results-2026.xlsx"):
        with open(src, "r+b") as fh:  # half of the new workbook written, then the run is killed
            fh.truncate(os.path.getsize(src) // 2)
        os.kill(os.getpid(), signal.SIGKILL)
    return real(src, dst, *a, **k)
os.replace = replace
from pipeline.cli import main
main(["rank", sys.argv[1]])
"""


def test_rank_killed_mid_write_leaves_the_previous_results_whole(base, tmp_path):
    root = tmp_path / "CAMPAIGN"
    shutil.copytree(base["root"], root)
    assert CliRunner().invoke(main, ["rank", str(root)]).exit_code == 0
    results_path = root / "out" / "results-2026.xlsx"
    previous = results_path.read_bytes()
    done = subprocess.run([sys.executable, "-c", KILLER, str(root)], capture_output=True, cwd=ROOT, timeout=300)
    assert done.returncode == -9, done.stderr
    assert results_path.read_bytes() == previous
    assert "Xếp hạng" in openpyxl.load_workbook(results_path).sheetnames  # whole and readable
    # and the next run cleans up and writes it again
    assert CliRunner().invoke(main, ["rank", str(root)]).exit_code == 0
    assert not list((root / "out").glob(".results-2026.xlsx.*"))


def test_a_second_run_on_the_same_campaign_stops_with_a_clear_message(base, tmp_path):
    root = tmp_path / "CAMPAIGN"
    shutil.copytree(base["root"], root)
    holder = subprocess.Popen([sys.executable, "-c",
                               "import sys, time\nfrom pathlib import Path\nfrom pipeline.workbook import run_lock\n"
                               "with run_lock(Path(sys.argv[1]) / 'out'):\n    print('held', flush=True)\n"
                               "    time.sleep(60)\n", str(root)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert holder.stdout.readline().strip() == "held"
        result = CliRunner().invoke(main, ["rank", str(root)])
        assert result.exit_code == 1
        assert "thidua" in result.output and "Traceback" not in result.output
    finally:
        holder.kill()
        holder.wait()
    with run_lock(root / "out"):  # free again once the other run has ended
        pass


# --- 7. the catalogue -----------------------------------------------------------------------------------------

def test_every_issue_code_is_in_the_catalogue():
    catalogue = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^### `([a-z_]+)`", catalogue, re.M))
    used = set(MESSAGES)
    for path in (ROOT / "pipeline").rglob("*.py"):
        used |= set(re.findall(r'Issue\(\s*"([a-z_]+)"', path.read_text(encoding="utf-8")))
    assert used - listed == set(), f"missing from docs/errors.md: {sorted(used - listed)}"


# --- whatever is typed, validate never raises -----------------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40)
VALUES = st.one_of(
    st.none(), _TEXT, st.integers(-10**12, 10**12), st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(), st.datetimes(min_value=dt.datetime(1900, 3, 1)),
    _TEXT.map(lambda s: "=" + s), st.sampled_from(["=1/0", "=SUM(A1:A3)", "=[1]Sheet1!A1", "9,5", "1.000", "mười"]),
    st.just("𝕏" * 33000), st.text(st.characters(min_codepoint=0x10000, max_codepoint=0x1FFFF), min_size=1, max_size=5),
)


@pytest.fixture(scope="module")
def inputs(base):
    """The generated template's every input cell: (sheet, A1)."""
    good, c = base["good"], base["campaign"]
    cells = []
    for k in c.leaves:
        for header in (R.ACTUAL if k.kind in ("chỉ tiêu", "trừ điểm") else R.SELF, R.EXPLAIN):
            cells.append((SCORES, f.cell_of(good, SCORES, k.code, header)))
    for item in c.items:
        cells += [(ITEMS, f.cell_of(good, ITEMS, item.code, h)) for h in (R.ITEM_CLAIM, R.EXPLAIN)]
    return cells


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_validate_never_raises_whatever_is_typed_in_the_input_cells(base, inputs, tmp_path_factory, data):
    from pipeline.read import check_rows, read_return
    from pipeline.validate import validate_return

    wb = openpyxl.load_workbook(base["good"])
    for sheet, cell in inputs:
        wb[sheet][cell].value = data.draw(VALUES)
    path = tmp_path_factory.mktemp("typed") / "typed.xlsx"
    wb.save(path)
    ret = read_return(path)
    check_rows([ret])
    issues, values = validate_return(base["campaign"], ret)
    for i in issues:
        assert i.message("vi") and i.message("en")


@pytest.mark.parametrize("typed, encoding, converted", [
    ("Hoµn thµnh tèt nhiÖm vô", "TCVN3 (ABC)", "Hoàn thành tốt nhiệm vụ"),
    ("Sôû Noäi vuï coâng taùc", "VNI", "—"),
])
def test_explanation_typed_in_a_legacy_encoding_is_a_warning_at_its_cell(base, tmp_path, typed, encoding, converted):
    path = tmp_path / "src.xlsx"
    fill = f.RETURNS["A02"].fill()
    fill.explanations["I.3"] = typed
    f.write_return(path, base["campaign"], VICTIM, fill)
    cell = f.cell_of(path, SCORES, "I.3", R.EXPLAIN)
    receipt, issues, v = drop(base, tmp_path, "legacy.xlsx", path.read_bytes())
    assert codes(issues) == {("legacy_encoding", WARNING, SCORES, cell)}
    assert (issues[0].params["encoding"], issues[0].params["converted"]) == (encoding, converted)
