"""Read stage: one stored return -> its _meta and a long DataFrame of values with their cells."""
from __future__ import annotations

import functools
import sys
from collections import namedtuple
from dataclasses import dataclass, field
from pathlib import Path

from schemas import frame
from schemas import returns as R

from .cache import Shelf, code_fingerprint, key
from .issues import WARNING, Issue
from .pool import pmap, settle
from .intake import Limits, Refused, legacy_vietnamese
from .workbook import Book, cell_name, find_header, text

# A return's tables have a few dozen rows: a sheet is read no further than this (100,000 junk rows cost nothing).
ROW_CAP = 5000
# Excel keeps at most this many characters in a cell: longer text is cut, so every workbook written still opens.
TEXT_LIMIT = 32767


@dataclass
class Return:
    """What one file holds: its _meta, its rows (schemas.returns.RETURN_ROWS) and what stopped reading."""

    file: str
    meta: dict[str, str]
    rows: list  # Row records, one per table row, in sheet order (columns of schemas.returns.RETURN_ROWS)
    issues: list[Issue] = field(default_factory=list)
    formulas: dict[tuple[str, str], bool] = field(default_factory=dict)  # (sheet, A1) -> Excel saved its value
    refused: str = ""  # the code of what stopped reading the file at all (unreadable, too_large ...), if anything
    kind: str = ""  # what the bytes are (intake.sniff's kinds: xlsx, ods, xls, pdf ...): a stored copy's extension

    # Kept (out/cache/kept.sqlite) and sent between processes with its rows as plain tuples: a namedtuple costs
    # a Python call per row to pickle and to load (a return's reading: 64 -> 37 µs to pickle, 101 -> 80 µs to load).
    def __reduce__(self):
        return _loaded, (self.file, self.meta, [tuple(r) for r in self.rows], self.issues, self.formulas, self.refused,
                         self.kind)


def read_meta(book: Book) -> dict[str, str]:
    sheet = book.find_sheet(R.META_SHEET)
    if sheet is None:
        return {}
    return {text(r[0]): text(r[1]) for r in book.rows(sheet) if len(r) >= 2 and text(r[0])}


def read_return(path: Path, file: str | None = None, limits: Limits | None = None, data: bytes | None = None) -> Return:
    """Read a return by its header texts, never by fixed addresses; `file` is the name shown to people, `data`
    the file's bytes when they are already read.

    A file that cannot be read comes back with no rows and its one issue (`refused` set), never an exception.
    """
    file = file or Path(path).name
    try:
        book = Book(path, limits, data)
    except Refused as e:  # known by its bytes, or a workbook calamine cannot open: one cause, one issue
        return Return(file, {}, [], [Issue(e.code, file=file, params={"reason": e.reason})], refused=e.code,
                      kind=e.kind)
    except Exception as e:  # noqa: BLE001 - the file cannot be read at all (gone, a folder)
        return _unreadable(file, e, "")
    try:
        return _read(book, file)
    except Exception as e:  # noqa: BLE001 - calamine raises several types for damaged sheets
        return _unreadable(file, e, book.facts.kind)


def _unreadable(file: str, e: Exception, kind: str) -> Return:
    return Return(file, {}, [], [Issue("unreadable", file=file, params={"reason": str(e)[:200]})],
                  refused="unreadable", kind=kind)


# --- read once: a stored return's reading kept in out/cache/kept.sqlite, keyed by its bytes, its name and this reader

@functools.lru_cache(maxsize=1)
def fingerprint() -> str:
    """This reader's code and calamine's version: a changed reader never serves an old reading."""
    import python_calamine
    from schemas import returns
    from . import intake, issues, workbook

    return code_fingerprint(sys.modules[__name__], intake, issues, workbook, returns,
                            extra=getattr(python_calamine, "__version__", ""))


def reading_key(stored: Path, file: str, limits: Limits | None) -> str:
    # a stored submission is named by its SHA-256 (and the extension its kind gives): its stem stands for its bytes
    return key("return", Path(stored).stem, file, str(limits), fingerprint())


def read_stored(stored: Path, file: str, shelf: Shelf | None = None, limits: Limits | None = None,
                data: bytes | None = None) -> Return:
    """read_return of a stored submission (`data`: its bytes, if read already), through `shelf`: a file read by
    collect is not read again by validate, and an unchanged submission not on the next run. A new reading is put
    on the shelf (the caller flushes it)."""
    if shelf is None:
        return read_return(stored, file, limits, data)
    k = reading_key(stored, file, limits)
    ret = _kept(shelf.get(k, Return), file)
    if ret is None:
        ret = read_return(stored, file, limits, data)
        shelf.put(k, ret)
    return ret


def _kept(ret: Return | None, file: str) -> Return | None:
    return ret if ret is not None and ret.file == file else None


def _read_one(limits: Limits | None, item: tuple[Path, str]) -> Return:
    return read_return(item[0], item[1], limits)


def read_all(stored: list[tuple[Path, str]], shelf: Shelf | None = None, limits: Limits | None = None,
             jobs: int | None = 1, progress=lambda ret: None) -> list[Return]:
    """read_stored of every (stored file, name shown), in order: kept readings loaded here (one query), the
    others read on `jobs` processes and kept."""
    keys = [reading_key(path, file, limits) for path, file in stored] if shelf else []
    kept = shelf.get_many(keys, Return) if shelf else {}
    found = [_kept(kept.get(k), file) for k, (_, file) in zip(keys, stored)] if shelf else [None] * len(stored)
    for ret in found:
        if ret is not None:
            progress(ret)
    missing = [i for i, ret in enumerate(found) if ret is None]
    for i, ret in zip(missing, pmap(_read_one, [stored[i] for i in missing], limits, jobs, progress)):
        found[i] = ret
        if shelf:
            shelf.put(keys[i], ret)
    if shelf:
        shelf.flush()
    settle()  # the readings live to the end of the run
    return found


def _read(book: Book, file: str) -> Return:
    meta = read_meta(book)
    unit = meta.get("unit_code", "")
    rows, issues, formulas = [], [], {}
    suffix = Path(file).suffix  # the name it was sent under, not the stored copy's
    if suffix.lower() != f".{book.facts.kind}":
        issues.append(Issue("wrong_extension", WARNING, unit, file, params={"kind": book.facts.kind,
                                                                           "suffix": suffix or "(không có)"}))
    if book.facts.external_links:
        issues.append(Issue("external_link", WARNING, unit, file, params={"count": book.facts.external_links}))
    for section, sheet_name, headers, columns in (
        ("criteria", R.SCORE_SHEET, R.SCORE_HEADERS, {"score": R.SELF, "actual": R.ACTUAL, "explanation": R.EXPLAIN}),
        ("items", R.ITEMS_SHEET, R.ITEM_HEADERS, {"score": R.ITEM_CLAIM, "actual": None, "explanation": R.EXPLAIN}),
    ):
        sheet = book.find_sheet(sheet_name)
        if sheet is None:
            issues.append(Issue("sheet_missing", unit=unit, file=file, sheet=sheet_name, params={"sheet": sheet_name}))
            continue
        grid = book.rows(sheet, ROW_CAP)
        if len(grid) >= ROW_CAP and book.height(sheet) > ROW_CAP:
            issues.append(Issue("too_many_rows", WARNING, unit, file, sheet, cell_name(ROW_CAP, 0),
                                params={"rows": book.height(sheet), "cap": ROW_CAP}))
        formulas.update({(sheet, a1): saved for a1, saved in book.formulas(sheet).items()})
        wanted = list(headers) + ([R.ACTUAL] if section == "criteria" else [])
        found = find_header(grid, wanted) or find_header(grid, list(headers))
        if found is None:
            issues.append(Issue("header_missing", unit=unit, file=file, sheet=sheet, cell="A1",
                                params={"headers": ", ".join(headers)}))
            continue
        head, at = found
        # each column's index once (None: the table has no such column), then one pass over the rows
        code_c, score_c, expl_c = at[R.CODE], at[columns["score"]], at[columns["explanation"]]
        actual_c = at.get(columns["actual"]) if columns["actual"] else None
        for r in range(head + 1, len(grid)):
            line = grid[r]
            width = len(line)
            code = text(line[code_c]) if code_c < width else ""
            if not code:
                continue
            rows.append(Row(
                unit=unit, file=file, section=section, sheet=sheet, row=r + 1, code=code,
                code_cell=cell_name(r, code_c),
                score=cell_value(line[score_c]) if score_c < width else None, score_cell=cell_name(r, score_c),
                actual=(cell_value(line[actual_c]) if actual_c < width else None) if actual_c is not None else None,
                actual_cell=cell_name(r, actual_c) if actual_c is not None else "",
                explanation=_cut(text(line[expl_c]) if expl_c < width else "", sheet, cell_name(r, expl_c), issues,
                                 unit, file),
                explanation_cell=cell_name(r, expl_c),
            ))
    return Return(file, meta, rows, issues, formulas, kind=book.facts.kind)


def _cut(value: str, sheet: str, cell: str, issues: list, unit: str, file: str) -> str:
    """Text past Excel's cell limit is cut (with a warning at its cell) so the outputs that copy it still open;
    text typed in a legacy Vietnamese encoding is a warning at its cell, with the Unicode text where certain."""
    legacy = legacy_vietnamese(value[:2000])
    if legacy:
        issues.append(Issue("legacy_encoding", WARNING, unit, file, sheet, cell,
                            params={"encoding": legacy[0], "converted": legacy[1][:200] or "—"}))
    if len(value) <= TEXT_LIMIT:
        return value
    issues.append(Issue("text_too_long", WARNING, unit, file, sheet, cell,
                        params={"length": len(value), "limit": TEXT_LIMIT}))
    return value[:TEXT_LIMIT - 1] + "…"


# Plain records, not a frame per file: building a DataFrame cost ~90 % of reading a return (profiled).
Row = namedtuple("Row", R.RETURN_COLUMNS)
_as_row = functools.partial(tuple.__new__, Row)  # a Row from a plain tuple, with no Python call


def _loaded(file: str, meta: dict, rows: list[tuple], issues: list, formulas: dict, refused: str, kind: str
            ) -> Return:
    return Return(file, meta, list(map(_as_row, rows)), issues, formulas, refused, kind)


# Rows per pandera call of check_rows: a frame this size stays in the processor's cache (470,000 rows of 10,000
# returns took 0.70-0.85 s in one frame, 0.60 s in frames of 50,000; 94,000 rows 0.13 s and 0.12 s).
CHECK_ROWS = 50_000


def check_rows(returns: list[Return]) -> None:
    """The stage boundary: every return's rows against RETURN_ROWS, in frames of CHECK_ROWS rows, not one per
    return (pandera's fixed cost per call is several times calamine's whole read of a return)."""
    rows = [row for r in returns for row in r.rows]
    for start in range(0, len(rows), CHECK_ROWS):
        R.RETURN_ROWS.validate(frame(rows[start:start + CHECK_ROWS], R.RETURN_ROWS))


def cell_value(v):
    """Keep numbers as numbers and text as clean text; a blank cell is None."""
    if v is None or (isinstance(v, str) and text(v) == ""):
        return None
    return text(v) if isinstance(v, str) else v
