"""Collect stage: inbox files -> content-addressed copies under out/submissions/ and one receipt per file."""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import shutil
import unicodedata
import zipfile
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from schemas import returns as R

from .campaign import Campaign
from .read import read_meta
from .workbook import Book

SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods"}
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
RECEIPTS = "receipts.csv"
# An optional register in a source folder (columns file, received): when each file arrived, where the
# file's own modification time cannot be trusted (a copy, a git checkout).
REGISTER = "received.csv"
# Receipt status -> Vietnamese reason shown to the officer (a score return or a registration form alike).
STATUS = {
    "ok": "Đúng mẫu",
    "not_a_return": "Không phải mẫu của đợt thi đua (không có trang _meta hoặc loại mẫu lạ)",
    "wrong_campaign": "Mẫu của đợt thi đua khác",
    "unknown_unit": "Mã đơn vị trong tệp không có trong danh sách",
    "unreadable": "Không đọc được tệp",
    "encrypted": "Tệp có đặt mật khẩu",
    "macro": "Tệp có chứa macro",
    "oversized": "Tệp vượt dung lượng cho phép",
}


@dataclass(frozen=True)
class Receipt:
    received: str  # ISO time the file arrived (its modification time in the inbox)
    original: str  # name as received, relative to the source given
    sha256: str
    size: int
    stored: str  # file name under out/submissions/
    status: str  # a key of STATUS
    unit: str = ""
    campaign_id: str = ""
    note: str = ""
    form: str = R.FORM_SCORE  # the _meta `form`: score (tự chấm) or registration (đăng ký); old receipts: score


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def find_files(sources: list[Path]) -> list[tuple[Path, str]]:
    """Workbooks under the sources, with the name to show; sorted so every run sees the same order."""
    found = []
    for src in sources:
        if src.is_file():
            found.append((src, src.name))
        elif src.is_dir():
            found += [(p, str(p.relative_to(src))) for p in src.rglob("*")
                      if p.is_file() and p.suffix.lower() in SUFFIXES and not p.name.startswith(("~$", "."))]
    return sorted(set(found), key=lambda x: x[1])


def inspect(path: Path, campaign: Campaign) -> tuple[str, str, str, str, str]:
    """(status, unit, campaign_id, note, form) of one file, without changing it.

    A file whose form cannot be told (unreadable, no _meta) counts as a score return: it is reported there.
    """
    unknown = R.FORM_SCORE
    size = path.stat().st_size
    if size > campaign.settings.max_file_mb * 1024 * 1024:
        return "oversized", "", "", f"{size / 1048576:.1f} MB", unknown
    with open(path, "rb") as f:
        head = f.read(8)
    if head == OLE_MAGIC and path.suffix.lower() in (".xlsx", ".xlsm"):
        return "encrypted", "", "", "", unknown  # Excel wraps a password-protected xlsx in an OLE container
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            if any(n.lower().endswith("vbaproject.bin") for n in z.namelist()):
                return "macro", "", "", "", unknown
    try:
        meta = read_meta(Book(path))
    except Exception as e:  # calamine raises several types for damaged files
        return "unreadable", "", "", str(e)[:200], unknown
    if not meta.get("unit_code"):
        return "not_a_return", "", "", "", unknown
    unit, cid, form = meta["unit_code"], meta.get("campaign_id", ""), meta.get("form") or R.FORM_SCORE
    if form not in (R.FORM_SCORE, R.FORM_REGISTRATION):
        return "not_a_return", unit, cid, f"form={form}", unknown
    if cid != campaign.settings.campaign_id:
        return "wrong_campaign", unit, cid, "", form
    if campaign.unit(unit) is None:
        return "unknown_unit", unit, cid, "", form
    return "ok", unit, cid, "", form


VIETNAM = dt.timezone(dt.timedelta(hours=7))


def received_time(path: Path) -> str:
    """The file's modification time in Vietnam's time, where deadlines are set."""
    return dt.datetime.fromtimestamp(int(path.stat().st_mtime), VIETNAM).replace(tzinfo=None).isoformat()


def read_register(sources: list[Path]) -> dict[str, str]:
    """File name (as shown) -> received time, from each source folder's received.csv."""
    times = {}
    for src in sources:
        path = src / REGISTER
        if src.is_dir() and path.is_file():
            with open(path, newline="", encoding="utf-8-sig") as f:
                for row in csv.DictReader(f):
                    name, when = unicodedata.normalize("NFC", row.get("file") or ""), row.get("received") or ""
                    try:
                        times[name] = dt.datetime.fromisoformat(when.strip()).isoformat()
                    except ValueError:
                        continue
    return times


def collect(campaign: Campaign, sources: list[Path], store: Path, progress=lambda item: None) -> list[Receipt]:
    """Copy every file into `store` by content hash (never touching the source) and record a receipt.

    The same bytes under the same name are one receipt; receipts from earlier runs are kept.
    """
    store.mkdir(parents=True, exist_ok=True)
    receipts = {(r.sha256, r.original): r for r in load_receipts(store)}
    register = read_register(sources)
    for path, name in find_files(sources):
        digest = sha256(path)
        stored = digest + path.suffix.lower()
        if not (store / stored).exists():
            shutil.copyfile(path, store / stored)
        if (digest, name) not in receipts:
            status, unit, cid, note, form = inspect(store / stored, campaign)
            when = register.get(unicodedata.normalize("NFC", name)) or received_time(path)
            receipts[(digest, name)] = Receipt(when, name, digest, path.stat().st_size, stored,
                                               status, unit, cid, note, form)
        progress(receipts[(digest, name)])
    result = sorted(receipts.values(), key=lambda r: (r.received, r.original, r.sha256))
    save_receipts(store, result)
    return result


def load_receipts(store: Path) -> list[Receipt]:
    """The receipts of earlier runs; a receipts.csv older than the `form` column reads as score returns."""
    path = store / RECEIPTS
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as f:
        return [Receipt(**{**row, "size": int(row["size"]), "form": row.get("form") or R.FORM_SCORE})
                for row in csv.DictReader(f)]


def save_receipts(store: Path, receipts: list[Receipt]) -> None:
    with open(store / RECEIPTS, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=[x.name for x in fields(Receipt)])
        w.writeheader()
        w.writerows(asdict(r) for r in receipts)


def latest(receipts: list[Receipt], form: str = R.FORM_SCORE) -> dict[str, list[Receipt]]:
    """Each unit's files of one form, newest last: the last one counts, the others are kept and listed.

    A registration form is never a unit's score return, and a score return never its registration.
    """
    by_unit: dict[str, list[Receipt]] = {}
    for r in sorted(receipts, key=lambda r: (r.received, r.original)):
        if r.status == "ok" and r.form == form:
            versions = by_unit.setdefault(r.unit, [])
            if r.sha256 not in {v.sha256 for v in versions}:
                versions.append(r)
    return by_unit
