"""Intake: a received file known by its bytes and checked before any XML is parsed (zip sizes, members, ratio,
DTDs); formula cells found; Vietnamese typed in legacy encodings recognised."""
from __future__ import annotations

import functools
import io
import os
import re
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


# --- Vietnamese typed in a legacy encoding ------------------------------------------------------------------------

# TCVN3 (ABC, the .Vn fonts): a byte per letter, shown by a Unicode font as Latin-1 ("Hoµn thµnh", "C«ng t¸c").
_TCVN3 = dict(zip(
    [0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8, 0xA9, 0xAA, 0xAB, 0xAC, 0xAD, 0xAE,
     0xB5, 0xB6, 0xB7, 0xB8, 0xB9, 0xBB, 0xBC, 0xBD, 0xBE, 0xC6, 0xC7, 0xC8, 0xC9, 0xCA, 0xCB,
     0xCC, 0xCE, 0xCF, 0xD0, 0xD1, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8, 0xDC, 0xDD, 0xDE,
     0xDF, 0xE1, 0xE2, 0xE3, 0xE4, 0xE5, 0xE6, 0xE7, 0xE8, 0xE9, 0xEA, 0xEB, 0xEC, 0xED, 0xEE,
     0xEF, 0xF1, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF7, 0xF8, 0xF9, 0xFA, 0xFB, 0xFC, 0xFD, 0xFE],
    "ĂÂÊÔƠƯĐăâêôơưđ" "àảãáạằẳẵắặầẩẫấậ" "èẻẽéẹềểễếệìỉĩíị" "òỏõóọồổỗốộờởỡớợ" "ùủũúụừửữứựỳỷỹýỵ"))
_VIETNAMESE_LATIN1 = set("àáâãèéêìíòóôõùúýÀÁÂÃÈÉÊÌÍÒÓÔÕÙÚÝ")
# Letters only Vietnamese in Unicode has: text holding one is already Unicode.
_UNICODE_ONLY = re.compile("[ăđơưĂĐƠƯ\u1ea0-\u1ef9]")
# VNI Windows: a base letter followed by Latin-1 marks ("Sôû Noäi vuï" for "Sở Nội vụ").
_VNI_CHARS = set("øùúûõïâêáàåãäéèüëôöñòóìíîÂÊÁÀÅÃÄÉÈÜËÔÖÑ")


def legacy_vietnamese(value: str) -> tuple[str, str] | None:
    """(encoding, converted text or "") when `value` looks like Vietnamese typed in TCVN3 or VNI and shown as
    Unicode; converted only where unambiguous (TCVN3). None for ordinary text."""
    if not value or _UNICODE_ONLY.search(value) or value.isascii():
        return None
    high = [i for i, ch in enumerate(value) if 0xA1 <= ord(ch) <= 0xFE]
    # VNI's tone marks are Latin-1 letters no Vietnamese word has, right after a vowel ("aø", "oä")
    vni = [i for i in high if i and value[i] in "øûõïåäëü" and value[i - 1] in "aeiouyAEIOUYâêôÂÊÔ"]
    if len(high) >= 2 and vni and all(value[i] in _VNI_CHARS for i in high):
        return "VNI", ""
    strict = [i for i in high if value[i] not in _VIETNAMESE_LATIN1 and ord(value[i]) in _TCVN3]
    if strict and sum(ord(value[i]) in _TCVN3 for i in high) >= 2:
        return "TCVN3 (ABC)", "".join(_TCVN3.get(ord(ch), ch) for ch in value)
    return None


# --- a file known by its bytes, checked before any XML is parsed ------------------------------------------------

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MB = 1024 * 1024
# What zipfile raises for an archive it cannot open: a damaged one (BadZipFile, OSError, KeyError, ValueError), one
# compressed with a method it lacks (NotImplementedError), one with an encrypted member (RuntimeError).
ZIP_ERRORS = (zipfile.BadZipFile, OSError, KeyError, ValueError, NotImplementedError, RuntimeError)
DAMAGED_ZIP = "tệp nén bị hỏng hoặc thiếu (damaged zip)"


class Refused(Exception):
    """A file thidua will not parse: `code` is its issue code (too_large, unsafe_xml, encrypted, html_file ...),
    `kind` what its bytes are, as sniff tells (a stored copy is named by it)."""

    def __init__(self, code: str, reason: str = "", kind: str = ""):
        super().__init__(reason or code)
        self.code, self.reason, self.kind = code, reason, kind


@dataclass(frozen=True)
class Limits:
    """Bounds checked before parsing. The defaults follow max_file_mb's default (10 MB): a member may inflate to
    five times that, the whole file to ten times."""

    member_bytes: int = 50 * MB
    total_bytes: int = 100 * MB
    members: int = 2000
    ratio: float = 200.0  # inflated / compressed, for members past 1 MB

    @classmethod
    def of(cls, max_file_mb: float) -> "Limits":
        return cls(member_bytes=int(5 * max_file_mb * MB), total_bytes=int(10 * max_file_mb * MB))


@dataclass(frozen=True)
class Facts:
    kind: str  # xlsx, xlsm, xlsb, ods, xls
    external_links: int = 0  # links to other workbooks (never followed)
    formulas: dict = field(default_factory=dict)  # sheet name -> {A1: Excel saved its value} (.xlsx only)


_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
# the same in UTF-16, either byte order: the words encoded, never the pattern's own syntax (which never matched)
_DTD16 = re.compile(b"|".join(re.escape(f"<!{word}".encode(order)) for word in ("DOCTYPE", "ENTITY")
                              for order in ("utf-16-le", "utf-16-be")), re.IGNORECASE)


def opened(source: Path | bytes):
    """A binary file of `source`: the file, or its bytes in memory."""
    return io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else open(source, "rb")


def sniff(source: Path | bytes) -> str:
    """What the bytes are: xlsx, xlsm, xlsb, ods, xls, encrypted, html, pdf, zip (another zip) or unknown."""
    with opened(source) as f:
        head = f.read(2048)
        if head.startswith(OLE_MAGIC):
            f.seek(0)
            data = f.read(64 * MB)
            if "EncryptedPackage".encode("utf-16-le") in data or "EncryptionInfo".encode("utf-16-le") in data:
                return "encrypted"  # Excel wraps a password-protected .xlsx in an OLE container
            return "xls" if "Workbook".encode("utf-16-le") in data or "Book".encode("utf-16-le") in data else "unknown"
        if head.startswith(b"%PDF"):
            return "pdf"
        if head.startswith(b"PK"):
            try:
                f.seek(0)
                with zipfile.ZipFile(f) as z:
                    return _zip_kind(z)
            except ZIP_ERRORS:
                return "damaged"  # a zip, cut short or broken
    lowered = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if lowered.startswith((b"<!doctype html", b"<html", b"mime-version")) or b"<html" in lowered or \
            b"<\x00h\x00t\x00m\x00l" in head.lower():
        return "html"  # also Excel's "Web page" (.htm, .mht) saves renamed .xls/.xlsx
    return "unknown"


def _zip_kind(z: zipfile.ZipFile) -> str:
    names = set(z.namelist())
    if "mimetype" in names and z.getinfo("mimetype").file_size < 200:
        if z.read("mimetype").startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
            return "ods"
    if "xl/workbook.xml" in names:
        return "xlsm" if any(n.lower().endswith("vbaproject.bin") for n in names) else "xlsx"
    if "xl/workbook.bin" in names:
        return "xlsb"
    return "zip"


def check_file(source: Path | bytes, limits: Limits) -> Facts:
    """The file's kind and facts, or Refused: never a workbook that is not one, an encrypted or macro-bearing one,
    a zip that inflates past the limits (checked on the declared sizes, then on the bytes actually inflated, read
    in blocks), or XML with a DTD (entities are never expanded). The zip is opened once: the same pass finds the
    formula cells of every sheet. `source`: the file, or its bytes already read. A refusal carries the kind."""
    kind = "damaged"  # a zip, until it is known to be more
    try:
        with opened(source) as f:
            if not f.read(2).startswith(b"PK"):
                kind = sniff(source)
                _refuse(kind)
                return Facts(kind)  # xls: its cells are calamine's to read
            f.seek(0)
            try:
                z = zipfile.ZipFile(f)
                kind = _zip_kind(z)
            except ZIP_ERRORS:
                raise Refused("unreadable", DAMAGED_ZIP) from None
            with z:
                _refuse(kind)
                try:
                    return _check_zip(z, kind, limits, source if isinstance(source, (bytes, bytearray)) else None)
                except (*ZIP_ERRORS, zipfile.LargeZipFile, EOFError, zlib.error) as e:  # a damaged or lying archive
                    raise Refused("unreadable", str(e)[:200]) from None
    except Refused as e:
        e.kind = e.kind or kind
        raise


def _refuse(kind: str) -> None:
    """Refused for every kind that is not a workbook thidua reads."""
    if kind in ("encrypted", "html", "pdf"):
        raise Refused({"encrypted": "encrypted", "html": "html_file", "pdf": "pdf_file"}[kind])
    if kind in ("zip", "unknown"):
        raise Refused("not_a_workbook", kind)
    if kind == "damaged":
        raise Refused("unreadable", DAMAGED_ZIP)
    if kind == "xlsm":
        raise Refused("macro")


# The parts kept from the inflating pass of an .xlsx: its sheets (to find formula cells) and what names them.
_BOOK_PARTS = ("xl/workbook.xml", "xl/_rels/workbook.xml.rels")


def _check_zip(z: zipfile.ZipFile, kind: str, limits: Limits, data: bytes | None = None) -> Facts:
    infos = z.infolist()
    if len(infos) > limits.members:
        raise Refused("too_large", f"{len(infos)} thành phần (tối đa {limits.members})")
    declared = sum(i.file_size for i in infos)
    if declared > limits.total_bytes:
        raise Refused("too_large", f"giải nén {declared / MB:.0f} MB (tối đa {limits.total_bytes / MB:.0f} MB)")
    for i in infos:
        if i.flag_bits & 1:
            raise Refused("encrypted")
        if i.file_size > limits.member_bytes:
            raise Refused("too_large", f"{i.filename}: {i.file_size / MB:.0f} MB (tối đa {limits.member_bytes / MB:.0f} MB)")
        if i.compress_size > i.file_size + i.file_size // 100 + 1024:
            # deflate never grows data this much: the declared size is a lie (a bomb hiding its size)
            raise Refused("too_large", f"{i.filename}: kích thước khai báo {i.file_size} byte không khớp dữ liệu nén")
        if i.file_size > MB and i.file_size > limits.ratio * max(i.compress_size, 1):
            raise Refused("too_large", f"{i.filename}: nén {i.file_size / max(i.compress_size, 1):.0f} lần")
    # Deflate makes at most DEFLATE_MAX_RATIO bytes of one: when even that keeps every member within the limits,
    # no member can inflate past them, whatever its header says, and only what is read anyway is inflated (the
    # sheets, for their formula cells; the head of each XML part, for a DTD). Else every byte is inflated.
    bounded = all(i.compress_type in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) for i in infos) and \
        sum(_most(i) for i in infos) <= limits.total_bytes and all(_most(i) <= limits.member_bytes for i in infos)
    if bounded and data is not None:
        kept = _inflate_bounded(data, infos, kind)
    else:
        kept = _inflate_blocks(z, infos, kind, limits, bounded)
    links = sum(1 for i in infos if i.filename.lower().startswith("xl/externallinks/") and
                i.filename.lower().endswith(".xml"))
    return Facts(kind, links, _formulas_by_sheet(kept))


def _kept(name: str, kind: str) -> bool:
    """Whether a member is kept from the inflating pass: an .xlsx's sheets (to find formula cells) and what names them."""
    name = name.lower()
    return kind == "xlsx" and (name.startswith("xl/worksheets/") and name.endswith(".xml") or name in _BOOK_PARTS)


def _is_xml(name: str) -> bool:
    return name.lower().endswith((".xml", ".rels", ".vml"))


def _no_dtd(more, name: str) -> bytes:
    """The head of an XML part, read through `more(n)` (up to n more bytes, b"" at the part's end) until its root
    element starts; Refused (unsafe_xml) where a DTD or an entity declaration comes first. A DTD can stand only
    before the root element, after the declaration, comments and processing instructions: the head is read as
    far as they go, up to PROLOG_MOST (a part in UTF-16: its first 4 KB). Returns the bytes read."""
    head = more(PROLOG_STEP)
    while True:
        if _DTD.search(head) or _DTD16.search(head):
            raise Refused("unsafe_xml", name)
        if _root_started(head) or len(head) >= PROLOG_MOST:
            return head
        block = more(len(head))  # twice as far each time
        if not block:
            return head
        head += block


# What may stand before a DTD or the root element: white space, processing instructions (the declaration), comments.
_MISC = re.compile(rb"(?:\s+|<\?.*?\?>|<!--.*?-->)*", re.S)
PROLOG_STEP = 512
PROLOG_MOST = MB  # no real part has a megabyte before its root element; a padded one is not held in memory


def _root_started(head: bytes) -> bool:
    """Whether `head` reaches the root element (or anything else that ends the prolog)."""
    if head[:2] in (b"\xff\xfe", b"\xfe\xff", b"<\x00", b"\x00<"):  # UTF-16
        return len(head) >= HEAD
    rest = head[_MISC.match(head, 3 if head.startswith(b"\xef\xbb\xbf") else 0).end():][:9]
    if len(rest) < 2:
        return rest[:1] not in (b"", b"<")  # text before any tag ends it (not XML); else more is needed
    if rest[:1] != b"<":
        return True
    if rest[1:2] == b"?":
        return False  # an unfinished processing instruction
    if rest[1:2] == b"!":  # an unfinished comment or declaration needs more; anything else here is not XML
        return len(rest) == 9 and not rest.startswith(b"<!--")
    return True  # <name: the root element


def _reader(data) -> Callable[[int], bytes]:
    """more(n) over bytes already in memory."""
    at = 0

    def more(n: int) -> bytes:
        nonlocal at
        chunk = bytes(data[at:at + n])
        at += len(chunk)
        return chunk
    return more


def _inflater(body) -> Callable[[int], bytes]:
    """more(n) inflating a raw deflate stream as far as asked."""
    d, pending = zlib.decompressobj(-15), body

    def more(n: int) -> bytes:
        nonlocal pending
        out = d.decompress(pending, n)
        pending = d.unconsumed_tail
        return out
    return more


def _inflate_blocks(z: zipfile.ZipFile, infos: list, kind: str, limits: Limits, bounded: bool) -> dict[str, bytes]:
    """The kept members, through zipfile, in blocks: every member inflated and counted against the limits (or,
    `bounded`, only the kept ones and the head of each XML part)."""
    total, kept = 0, {}
    for i in infos:
        keep, xml = _kept(i.filename, kind), _is_xml(i.filename)
        if bounded and not (keep or xml):
            continue
        # zipfile stops at the declared size and checks the CRC: a member that lies about its size fails here
        with z.open(i) as member:
            head = _no_dtd(member.read, i.filename) if xml else member.read(HEAD)
            if bounded and not keep:
                continue
            got, blocks = len(head), [head]
            while block := member.read(MB):
                got += len(block)
                if got > limits.member_bytes or total + got > limits.total_bytes:
                    raise Refused("too_large", f"{i.filename}: quá {limits.member_bytes / MB:.0f} MB")
                if keep:
                    blocks.append(block)
        total += got
        if keep:  # within the limits just checked
            kept[i.filename] = b"".join(blocks)
    return kept


def _inflate_bounded(data: bytes, infos: list, kind: str) -> dict[str, bytes]:
    """The kept members of a zip held in memory whose every member is bounded within the limits (stored or
    deflated): inflated straight from its bytes with zlib, the head of each other XML part only. zipfile's
    reader costs ~10 µs a member around the inflating; its checks are kept: a member whose bytes are not its
    declared size and CRC is refused as damaged."""
    view, kept = memoryview(data), {}
    for i in infos:
        keep, xml = _kept(i.filename, kind), _is_xml(i.filename)
        if not (keep or xml):
            continue
        at = i.header_offset
        if view[at:at + 4] != b"PK\x03\x04":
            raise Refused("unreadable", f"{i.filename}: tệp nén bị hỏng (damaged zip)")
        start = at + 30 + int.from_bytes(view[at + 26:at + 28], "little") + int.from_bytes(view[at + 28:at + 30], "little")
        body = view[start:start + i.compress_size]
        more = _reader(body) if i.compress_type == zipfile.ZIP_STORED else _inflater(body)
        try:
            if not keep:  # an XML part: its head only
                _no_dtd(more, i.filename)
                continue
            got = more(i.file_size + 1)  # one byte past the declared size tells a lie
        except zlib.error as e:
            raise Refused("unreadable", f"{i.filename}: {e}") from None
        if len(got) != i.file_size or zlib.crc32(got) != i.CRC:
            raise Refused("unreadable", f"{i.filename}: kích thước hoặc CRC không khớp (damaged zip)")
        if xml:
            _no_dtd(_reader(got), i.filename)
        kept[i.filename] = got
    return kept


# How far a part in UTF-16 is searched for a DTD, and the first block read of any other member.
HEAD = 4096
# The most bytes deflate makes of one (258 bytes from two bits: 1032), with room to spare.
DEFLATE_MAX_RATIO = 1100


def _most(info: zipfile.ZipInfo) -> int:
    """The most bytes a stored or deflated member can inflate to, whatever its header declares."""
    return info.compress_size * (DEFLATE_MAX_RATIO if info.compress_type == zipfile.ZIP_DEFLATED else 1)


_FORMULA = re.compile(rb"<(\w+:)?f[\s>/]")


# The sheet's root tag, and the prefixes it binds the sheet's namespace to ("" for the default namespace).
_ROOT = re.compile(rb"<(?:\w+:)?worksheet\b[^>]*>")
_BINDS_MAIN = re.compile(rb'xmlns(?::(\w+))?="http://schemas.openxmlformats.org/spreadsheetml/2006/main"')


def _formula_tag(data: bytes) -> re.Pattern:
    """The formula tag of this sheet: `<f`, or `<x:f` where the root binds the namespace to `x`, found at memchr
    speed; any prefix where the root binds it to none or to several. A sheet's scan was mostly trying each of
    its thousands of tags against an optional prefix."""
    root = _ROOT.search(data, 0, 4096)
    bound = {m.group(1) or b"" for m in _BINDS_MAIN.finditer(root.group(0))} if root else set()
    return _prefixed_formula(bound.pop()) if len(bound) == 1 else _FORMULA


@functools.lru_cache(maxsize=16)
def _prefixed_formula(prefix: bytes) -> re.Pattern:
    return re.compile(b"<" + (re.escape(prefix) + b":" if prefix else b"") + rb"f[\s>/]")


_CELL = re.compile(rb"<(?:\w+:)?c\s[^>]*>")
_REF = re.compile(rb'\br="([A-Z]+[0-9]+)"')
CELL_TAG_MAX = 1024  # bytes of a <c ...> tag's attributes, at most (r, s, t, cm, vm, ph: well under this)
_VALUE = re.compile(rb"<(?:\w+:)?(?:v|is)>(?!</)")


def _formulas_by_sheet(parts: dict[str, bytes]) -> dict[str, dict[str, bool]]:
    """Sheet name -> {A1: has a saved value} for the sheets holding a formula; the workbook's XML is parsed only
    when there is one."""
    with_formulas = {name: data for name, data in parts.items()
                     if name.startswith("xl/worksheets/") and _formula_tag(data).search(data)}
    if not with_formulas:
        return {}
    sheets = sheet_parts(parts.get(_BOOK_PARTS[0], b""), parts.get(_BOOK_PARTS[1], b""))
    return {sheet: formula_cells(with_formulas[part]) for sheet, part in sheets.items() if part in with_formulas}


def formula_cells(data: bytes) -> dict[str, bool]:
    """A1 -> has a saved value, for the formula cells of one sheet's XML. A scan for the few formula tags, not a
    parse of every cell: a sheet of 100,000 junk rows costs one pass over its bytes."""
    found = {}
    for m in _formula_tag(data).finditer(data):
        # the cell's opening tag is the tag just before its formula (its attributes only): looked for within a
        # bounded window, never through the whole sheet before it (that was quadratic in the number of formulas)
        start = data.rfind(b"<", max(0, m.start() - CELL_TAG_MAX), m.start())
        tag = _CELL.match(data, start) if start >= 0 else None
        ref = _REF.search(tag.group(0)) if tag else None
        if not ref:
            continue
        end = data.find(b"c>", m.end())
        body = data[m.start():end if end >= 0 else len(data)]
        found[ref.group(1).decode()] = bool(_VALUE.search(body)) or b't="str"' in tag.group(0) and b"<v/>" not in body
    return found


@functools.lru_cache(maxsize=64)
def sheet_parts(workbook: bytes, rels: bytes) -> dict[str, str]:
    """Sheet name -> its part in the zip, from xl/workbook.xml and its relations (DTDs were refused already).
    Cached by the bytes: the returns of a campaign come from one template, so they share these two parts."""
    from defusedxml import ElementTree as ET

    try:
        book, links = ET.fromstring(workbook), ET.fromstring(rels)
    except Exception:  # noqa: BLE001 - malformed or forbidden XML: no formula is found, calamine reports the file
        return {}
    rel = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    targets = {r.get("Id"): r.get("Target") for r in links.iter()}
    parts = {}
    for s in book.iter():
        target = targets.get(s.get(rel)) if s.tag.endswith("}sheet") else None
        if target:
            target = target.lstrip("/") if target.startswith("/") else "xl/" + target
            parts[s.get("name")] = os.path.normpath(target).replace(os.sep, "/")
    return parts
