"""Collect stage: inbox files and mail -> content-addressed copies under out/submissions/, one receipt per file."""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import os
import re
import shutil
import unicodedata
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Iterable, Iterator

from schemas import returns as R

from .cache import Shelf
from .campaign import Campaign
from .issues import ThiduaError
from .mail import VIETNAM, Attachment
from .mail.inbound import SPREADSHEETS as SUFFIXES
from .mail.inbound import is_mail_name, is_maildir, is_mail_source, read_mail, sanitise
from .pool import pmap
from .read import read_stored
from .intake import Limits, sniff
from .workbook import atomic, csv_safe, csv_unsafe

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
    "too_large": "Tệp giải nén quá lớn (nghi tệp nén độc hại)",
    "unsafe_xml": "Tệp có khai báo DTD/thực thể XML (không an toàn)",
    "html_file": "Tệp là trang web (HTML) đổi tên thành tệp Excel",
    "pdf_file": "Tệp là PDF đổi tên thành tệp Excel",
    "not_a_workbook": "Tệp không phải bảng tính Excel/LibreOffice",
    "evidence": "Minh chứng kèm theo thư (lưu tại evidence/)",
}
# Names a workbook may come under (a web page saved from Excel, no extension at all): a file so named that is no
# workbook is reported; any other file that is no workbook (a PDF, a picture) is evidence.
NOT_EVIDENCE = SUFFIXES | {".htm", ".html", ".mht", ".mhtml", ".bin", ""}
EVIDENCE = "evidence"  # form and status of a mailed attachment that is not a workbook: the units' minh chứng
NOBODY = "_chua_ro_don_vi"  # evidence folder for a message whose unit cannot be told


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
    form: str = R.FORM_SCORE  # the _meta `form`: score (tự chấm), registration (đăng ký) or evidence; old receipts: score
    sender: str = ""      # a mailed file: the From address, lower case
    message_id: str = ""  # a mailed file: the Message-ID of the message it came in (feedback replies to it)
    subject: str = ""
    source: str = ""      # where it was read: the inbox folder, a mailbox file, an IMAP folder

    @property
    def key(self) -> tuple[str, str, str]:
        """The same bytes under the same name in the same message (or none) are one receipt."""
        return self.sha256, self.original, self.message_id


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def scan(sources: list[Path]) -> tuple[list[tuple[Path, str]], list[Path]]:
    """What the sources hold, from one walk that reads each folder once (a file's kind from its folder entry, never
    a stat of its own): (every file with the name to show, sorted so every run sees the same order; the mail
    sources, .eml and .mbox files, Maildir folders and Zimbra exports, in path order). What is inside a Maildir is
    its mail, not files; as Path.rglob does, a linked folder is not entered."""
    files: set[tuple[Path, str]] = set()
    mail: list[Path] = []
    for src in sources:
        if is_mail_source(src):
            mail.append(src)
        elif src.is_file():
            files.add((src, shown(Path(src.name))))
        elif src.is_dir():
            found: list[Path] = []
            _walk(src, src, files, found)
            mail += sorted(found)
    return sorted(files, key=lambda x: x[1]), mail


def _walk(src: Path, folder: Path, files: set, mail: list) -> None:
    try:
        with os.scandir(folder) as entries:
            entries = list(entries)
    except PermissionError:
        return
    for e in entries:
        path = Path(e.path)
        if e.is_dir():
            if not e.name.startswith(".") and is_maildir(path):
                mail.append(path)
            elif not e.is_symlink():
                _walk(src, path, files, mail)
        elif e.is_file():
            if is_mail_name(e.name):
                if not e.name.startswith("."):
                    mail.append(path)
            # Every file gets a receipt, whatever its name or extension (its bytes say what it is); only the
            # office programs' and file systems' own files and the received.csv register are not returns.
            elif not system_file(e.name) and not (folder == src and e.name == REGISTER):
                files.add((path, shown(path.relative_to(src))))


def system_file(name: str) -> bool:
    """Excel's and LibreOffice's lock files, macOS and Windows folder files, a kept-empty-folder marker."""
    return name.startswith(("~$", ".~lock.", "._")) or name in (".DS_Store", "Thumbs.db", "desktop.ini", ".gitkeep")


def shown(relative: Path) -> str:
    """A file's name as people see it, whatever bytes the file system holds (never a failed write of the receipt)."""
    return os.fsencode(str(relative)).decode("utf-8", "replace")


def inspect(path: Path, campaign: Campaign, file: str = "", shelf: Shelf | None = None,
            data: bytes | None = None) -> tuple[str, str, str, str, str, str]:
    """(status, unit, campaign_id, note, form, kind) of one submission, without changing it: `path` its stored
    copy, or with `data` (its bytes, read already) where it is to be stored. The file is read in full once,
    here, and the reading put on `shelf` for validate (read once); `kind` is what its bytes are ("" when it was
    not read: oversized).

    A file whose form cannot be told (unreadable, no _meta) counts as a score return: it is reported there.
    """
    unknown = R.FORM_SCORE
    size = path.stat().st_size if data is None else len(data)
    if size > max_bytes(campaign):
        return "oversized", "", "", f"{size / 1048576:.1f} MB", unknown, ""
    file = file or path.name
    ret = read_stored(path, file, shelf, Limits.of(campaign.settings.max_file_mb), data)
    kind = ret.kind
    if ret.refused:  # known by its bytes before any XML is parsed, or damaged: one status, one cause
        reason = str(ret.issues[0].params.get("reason", "")) if ret.issues else ""
        if ret.refused in ("pdf_file", "not_a_workbook") and stored_suffix(kind, file) not in NOT_EVIDENCE:
            return EVIDENCE, "", "", reason, EVIDENCE, kind  # a PDF or a picture named as one: minh chứng
        if ret.refused == "unreadable" and ("password" in reason.lower() or "encrypt" in reason.lower()):
            return "encrypted", "", "", reason, unknown, kind
        return ret.refused, "", "", reason, unknown, kind
    meta = ret.meta
    if not meta.get("unit_code"):
        return "not_a_return", "", "", "", unknown, kind
    unit, cid, form = meta["unit_code"], meta.get("campaign_id", ""), meta.get("form") or R.FORM_SCORE
    if form not in (R.FORM_SCORE, R.FORM_REGISTRATION):
        return "not_a_return", unit, cid, f"form={form}", unknown, kind
    if cid != campaign.settings.campaign_id:
        return "wrong_campaign", unit, cid, "", form, kind
    if campaign.unit(unit) is None:
        return "unknown_unit", unit, cid, "", form, kind
    return "ok", unit, cid, "", form, kind


def max_bytes(campaign: Campaign) -> int:
    """The largest file the campaign reads (max_file_mb)."""
    return int(campaign.settings.max_file_mb * 1024 * 1024)


def received_time(path: Path) -> str:
    """The file's modification time in Vietnam's time, where deadlines are set."""
    return vietnam_time(path.stat().st_mtime)


def vietnam_time(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(int(timestamp), VIETNAM).replace(tzinfo=None).isoformat()


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


def collect(campaign: Campaign, sources: list[Path], store: Path, progress=lambda item: None,
            mail: Iterable[Attachment] = (), shelf: Shelf | None = None, jobs: int | None = 1) -> list[Receipt]:
    """Copy every file, and every attachment of every message, into `store` by content hash (never touching the
    source) and record a receipt. `mail`: attachments read elsewhere (an IMAP folder). New files are read on
    `jobs` processes, their readings kept on `shelf` for validate.

    The same bytes under the same name in the same message are one receipt; receipts of earlier runs are kept.
    """
    store.mkdir(parents=True, exist_ok=True)
    receipts = {r.key: r for r in load_receipts(store)}
    kept = {r.sha256: r.stored for r in receipts.values() if r.stored and r.form != EVIDENCE}
    known = {r.key[:2]: r.stored for r in receipts.values() if not r.message_id}  # received from a folder

    def arrived(done: tuple[Receipt, bool, dict]) -> None:
        receipt, new, readings = done
        if shelf:
            shelf.keep(readings)  # the worker's readings, written here (one writer, one transaction)
        progress(receipts.setdefault(receipt.key, receipt) if new else receipts[receipt.key])
    files, boxes = scan(sources)
    # Each file is read once, on the pool: hashed, and when it is new, stored and read from the same bytes.
    pmap(_taken_in, files, (campaign, store, shelf, kept, known, read_register(sources)), jobs, arrived)
    for message in _messages(mail):
        for r in _collect_message(message, receipts, store, campaign, shelf):
            progress(r)
    for box in boxes:
        try:
            for message in _messages(_dated(read_mail(box), received_time(box))):
                for r in _collect_message(message, receipts, store, campaign, shelf):
                    progress(r)
        except ThiduaError as e:  # a damaged mailbox is reported like a damaged file; the others are read
            bad = Receipt(received_time(box), box.name, sha256(box) if box.is_file() else "", 0, "", "unreadable",
                          note=str(e)[:200], source=str(box.parent))
            progress(receipts.setdefault(bad.key, bad))
    result = sorted(receipts.values(), key=lambda r: (r.received, r.original, r.sha256))
    if shelf:
        shelf.flush()
    save_receipts(store, result)
    return result


def stored_suffix(kind: str, name: str) -> str:
    """The extension a stored copy gets: what the bytes are (`kind`, as intake.sniff tells), never a part of a
    strange name."""
    if kind in ("xlsx", "xlsm", "xlsb", "ods", "xls"):
        return "." + kind
    suffix = Path(name).suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else ".bin"


def stored_name(digest: str, kind: str, source: Path | bytes, name: str) -> str:
    """A new submission's name under out/submissions/: its hash, and the extension its kind gives (the kind its
    reading found; sniffed from `source` only when it was not read)."""
    return digest + stored_suffix(kind or sniff(source), name)


def _taken_in(shared: tuple, item: tuple[Path, str]) -> tuple[Receipt, bool, dict]:
    """One source file, read once: hashed, and when its receipt is new, its contents read from those bytes and its
    copy stored under the name its kind gives; a copy deleted since is stored again. -> (receipt, new, the
    readings this put on the shelf, for the parent to write)."""
    campaign, store, shelf, kept, known, register = shared
    path, name = item
    data, digest, size, mtime = _read_in(path, max_bytes(campaign))
    receipt = Receipt(register.get(unicodedata.normalize("NFC", name)) or vietnam_time(mtime), name, digest, size,
                      "", "", source=str(path.parent))
    stored = known.get(receipt.key[:2])
    if stored is not None:  # received before
        if stored:
            _store(store / stored, data, path)
        return replace(receipt, stored=stored), False, {}
    # read before it is stored (a reading is kept by the bytes' hash), so that its kind names the copy
    status, unit, cid, note, form, kind = inspect(store / digest if data is not None else path, campaign, name,
                                                  shelf, data)
    stored = kept.get(digest) or stored_name(digest, kind, path if data is None else data, path.name)
    _store(store / stored, data, path)
    receipt = replace(receipt, stored=stored, status=status, unit=unit, campaign_id=cid, note=note, form=form)
    return receipt, True, shelf.taken() if shelf else {}


def _read_in(path: Path, most: int) -> tuple[bytes | None, str, int, float]:
    """(bytes, sha256, size, modification time) of a file from one open; past `most` bytes the file is hashed in
    blocks and its bytes are not held (None): it is refused as oversized, never read."""
    with open(path, "rb") as f:
        st = os.fstat(f.fileno())
        if st.st_size > most:
            return None, hashlib.file_digest(f, "sha256").hexdigest(), st.st_size, st.st_mtime
        data = f.read()
    return data, hashlib.sha256(data).hexdigest(), len(data), st.st_mtime


def _receive(receipts: dict, a: Attachment, store: Path, campaign: Campaign, shelf: Shelf | None) -> Receipt:
    """The receipt already kept for this workbook's bytes, name and message (its copy stored again if deleted
    since), or the workbook read, stored under the name its kind gives, and kept."""
    digest = hashlib.sha256(a.data).hexdigest()
    key = (digest, a.name, a.message_id)
    if key not in receipts:
        status, unit, cid, note, form, kind = inspect(store / digest, campaign, a.name, shelf, a.data)
        receipts[key] = replace(_mailed(a, digest, stored_name(digest, kind, a.data, a.name), ""),
                                status=status, unit=unit, campaign_id=cid, note=note, form=form)
    _store(store / receipts[key].stored, a.data)
    return receipts[key]


def _dated(attachments: Iterable[Attachment], fallback: str) -> Iterator[Attachment]:
    """A message with no Date counts as received when its mailbox file was last changed."""
    for a in attachments:
        yield a if a.received else replace(a, received=fallback)


def _messages(*streams: Iterable[Attachment]) -> Iterator[list[Attachment]]:
    """Attachments grouped by the message that carries them (they arrive one message after another)."""
    group: list[Attachment] = []
    for stream in streams:
        for a in stream:
            if group and (a.key, a.message_id) != (group[0].key, group[0].message_id):
                yield group
                group = []
            group.append(a)
    if group:
        yield group


# The Message-IDs of mail.message.compose: a template thidua itself sent (a copy in Sent, a Cc, a forward of
# it) is not a unit's return.
OURS = re.compile(r"^<[0-9a-f]{32}\.thidua@")


def _collect_message(message: list[Attachment], receipts: dict, store: Path, campaign: Campaign,
                     shelf: Shelf | None = None) -> list[Receipt]:
    """A message's workbooks are submissions; its other files are evidence, filed under the unit whose workbook
    came with them, or else the unit whose address sent them."""
    message = [a for a in message if not OURS.match(a.message_id)]
    if not message:
        return []
    done = []
    for a in message:
        if Path(a.name).suffix.lower() in SUFFIXES:
            done.append(_receive(receipts, a, store, campaign, shelf))
    units = [r.unit for r in done if r.status == "ok"]
    sender = message[0].sender
    unit = units[0] if units else next((u.code for u in campaign.units if u.email and u.email.lower() == sender), NOBODY)
    for a in message:
        if Path(a.name).suffix.lower() not in SUFFIXES:
            digest = hashlib.sha256(a.data).hexdigest()
            folder = Path(EVIDENCE) / sanitise(unit)
            stored = folder / a.name
            if (store / stored).exists() and sha256(store / stored) != digest:
                stored = folder / f"{digest[:8]}-{a.name}"  # another file of the same name: both kept
            _store(store / stored, a.data)
            receipt = _mailed(a, digest, stored.as_posix(), unit if unit != NOBODY else "")
            receipts.setdefault(receipt.key, Receipt(**{**asdict(receipt), "status": EVIDENCE, "form": EVIDENCE}))
            done.append(receipts[receipt.key])
    return done


def _mailed(a: Attachment, digest: str, stored: str, unit: str) -> Receipt:
    return Receipt(a.received or "", a.name, digest, len(a.data), stored, "", unit, sender=a.sender,
                   message_id=a.message_id, subject=a.subject, source=a.source)


def _store(path: Path, data: bytes | None, source: Path | None = None) -> None:
    """Write `data` (or copy the file `source`) at `path`, inside out/submissions/ where names are hashes or
    sanitised, unless it is there: whole or not at all, the source only read. Two processes may store the same
    bytes at once (one file under two names): each writes its own temporary."""
    if not path.exists():
        with atomic(path, own=True) as tmp:
            if data is None:
                shutil.copyfile(source, tmp)
            else:
                tmp.write_bytes(data)


def load_receipts(store: Path) -> list[Receipt]:
    """The receipts of earlier runs; a receipts.csv older than the `form` column reads as score returns."""
    path = store / RECEIPTS
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as f:
        names = {x.name for x in fields(Receipt)}
        return [Receipt(**{**{k: v for k, v in row.items() if k in names}, "size": int(row["size"]),
                           "form": row.get("form") or R.FORM_SCORE}) for row in _unescaped(csv.DictReader(f))]


def _unescaped(rows):
    for row in rows:
        yield {k: csv_unsafe(v) for k, v in row.items()}


def save_receipts(store: Path, receipts: list[Receipt]) -> None:
    """receipts.csv, written whole or not at all; text a spreadsheet could take for a formula is quoted."""
    names = [x.name for x in fields(Receipt)]
    with atomic(store / RECEIPTS) as tmp, open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(names)
        # each field read as it is: dataclasses.asdict deep-copies every value (10,000 receipts: 0.17 s, now 0.06 s)
        w.writerows([csv_safe(getattr(r, n)) for n in names] for r in receipts)


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
