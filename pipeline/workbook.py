"""Reading workbooks cell by cell: sheets as rows, tables found by their header texts, values cleaned."""
from __future__ import annotations

import contextlib
import datetime as dt
import functools
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from python_calamine import CalamineWorkbook
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import CellBlankTuple, CellNumberTuple, CellStringTuple, Worksheet

from .intake import Limits, Refused, check_file, opened
from .issues import ERROR, WARNING, Issue

if TYPE_CHECKING:
    import pandas as pd

_SPACES = re.compile(r"[\s\u00a0\u2007\u202f\ufeff]+")
# Zero-width characters a paste from the web or Word leaves in a cell: never part of a match.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\u00ad"))


def text(value) -> str:
    """A cell as clean text: NFC, no non-breaking or repeated spaces, integral floats without '.0'."""
    if value is None or value == "":
        return ""
    # nothing to normalise, the common case kept quick: a printable string has no whitespace but " " (no
    # tab, non-breaking or zero-width space), so only NFC and doubled spaces could change it
    if type(value) is str and value.isprintable() and "  " not in value and unicodedata.is_normalized("NFC", value):
        return value.strip(" ")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        value = value.date()
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return _SPACES.sub(" ", unicodedata.normalize("NFC", str(value).translate(_INVISIBLE))).strip()


@functools.lru_cache(maxsize=4096, typed=True)  # typed: 1, 1.0 and True are three cells
def header_key(value) -> str:
    """A header as it is matched (cached: every return holds the same few dozen header texts)."""
    return text(value).casefold()


_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")
_THOUSANDS_DOT = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+(,\d+)?$")
_PLAIN = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)$")


def number(value) -> tuple[float | None, str | None]:
    """A cell as a number, and the code of what had to be guessed.

    Returns (None, None) for a blank cell, (None, 'not_a_number') for text such as "mười";
    "9,5" reads as 9.5 ('decimal_comma'), "1.000" as 1000 ('thousands_dot'),
    "9.5" typed as text as 9.5 ('number_as_text').
    """
    if value is None or value == "":
        return None, None
    if isinstance(value, bool):
        return None, "not_a_number"
    if isinstance(value, (int, float)):
        return (None, None) if value != value else (float(value), None)  # NaN: a blank cell that passed pandas
    s = text(value).replace(" ", "")
    if s == "":
        return None, None
    if _DECIMAL_COMMA.match(s):
        return float(s.replace(",", ".")), "decimal_comma"
    if _THOUSANDS_DOT.match(s):
        return float(s.replace(".", "").replace(",", ".")), "thousands_dot"
    if _PLAIN.match(s):
        return float(s), "number_as_text"
    return None, "not_a_number"


def vn(x: float) -> str:
    """A number as a Vietnamese reader writes it: 2,5 and 10."""
    return f"{x:g}".replace(".", ",")


def vn_time(iso: str) -> str:
    """A received time (ISO) as a Vietnamese reader writes it: 09:30 10/12/2025; a date alone: 10/12/2025."""
    when = dt.datetime.fromisoformat(iso)
    return when.strftime("%d/%m/%Y") if len(iso) <= 10 else when.strftime("%H:%M %d/%m/%Y")


@functools.lru_cache(maxsize=1 << 16)
def cell_name(row: int, col: int) -> str:
    """Zero-based row and column to Excel's A1 (cached: every return names the same few hundred cells)."""
    return xl_rowcol_to_cell(row, col)


# A workbook up to this size is read into memory once for every use (a return is ~15 KB, a results workbook a few MB).
IN_MEMORY = 64 * 1024 * 1024


class Book:
    """One workbook opened for reading, known by its bytes and checked before any XML is parsed
    (`check_file`: raises Refused); sheets come back as rows at their real positions."""

    def __init__(self, path: Path, limits: "Limits | None" = None, data: bytes | None = None):
        """`data`: the file's bytes when they are already read (collect), else the file is read here: whole, once,
        when it is small (a zip in memory is checked without zipfile's reader, see intake._inflate_bounded)."""
        self.path = Path(path)
        if data is None and self.path.stat().st_size <= IN_MEMORY:
            data = self.path.read_bytes()
        source = self.path if data is None else data
        self.facts = check_file(source, limits or Limits())
        try:
            if data is None and self.path.suffix.lower() == f".{self.facts.kind}":
                self._book = CalamineWorkbook.from_path(str(path))
            else:  # in memory, or saved under another extension: calamine tells the format from the bytes
                with opened(source) as f:
                    self._book = CalamineWorkbook.from_filelike(f)
        except Exception as e:  # noqa: BLE001 - calamine raises several types for a damaged workbook
            raise Refused("unreadable", str(e)[:200], self.facts.kind) from None
        self.sheet_names = list(self._book.sheet_names)
        self._sheets: dict = {}

    def _sheet(self, sheet: str):
        if sheet not in self._sheets:  # calamine reads a whole sheet per call: once is enough
            self._sheets[sheet] = self._book.get_sheet_by_name(sheet)
        return self._sheets[sheet]

    def rows(self, sheet: str, limit: int | None = None) -> list[list]:
        """The sheet's rows; with `limit`, at most that many (a sheet of junk rows costs no more than that)."""
        data = self._sheet(sheet)
        if limit is None or (data.start[0] if data.start else 0) + data.height <= limit:
            return data.to_python(skip_empty_area=False)  # in one call: a third quicker than row by row
        rows = []
        for _ in range(data.start[0] if data.start else 0):
            rows.append([])
            if len(rows) >= limit:
                return rows
        for row in data.iter_rows():
            if len(rows) >= limit:
                break
            rows.append([None] * (data.start[1] if data.start else 0) + list(row))
        return rows

    def height(self, sheet: str) -> int:
        """How many rows the sheet has (up to its last used row)."""
        data = self._sheet(sheet)
        return (data.start[0] if data.start else 0) + data.height

    def formulas(self, sheet: str) -> dict[str, bool]:
        """A1 -> whether Excel saved its value, for every formula cell of an .xlsx sheet ({} for other formats)."""
        return self.facts.formulas.get(sheet, {})

    def find_sheet(self, name: str) -> str | None:
        """The sheet's real name, matched the way a person would (case, spaces and NFC ignored)."""
        wanted = header_key(name)
        return next((s for s in self.sheet_names if header_key(s) == wanted), None)


def find_header(rows: list[list], wanted: list[str], search_rows: int = 30) -> tuple[int, dict[str, int]] | None:
    """The first row holding every wanted header, and each header's column."""
    keys = {header_key(h): h for h in wanted}
    for r, row in enumerate(rows[:search_rows]):
        found = {}
        for c, v in enumerate(row):
            k = header_key(v)
            if k in keys and keys[k] not in found:
                found[keys[k]] = c
        if len(found) == len(keys):
            return r, found
    return None


def find_table(book: Book, name: str, headers: tuple, issues: list, severity: str = ERROR, **where):
    """(sheet, rows, header row, columns) of the table under `headers` on sheet `name`, or None with the
    missing sheet or header row added to `issues` (at `where`: unit, file)."""
    sheet = book.find_sheet(name)
    if sheet is None:
        issues.append(Issue("sheet_missing", severity, **where, sheet=name, params={"sheet": name}))
        return None
    rows = book.rows(sheet)
    found = find_header(rows, list(headers))
    if found is None:
        issues.append(Issue("header_missing", severity, **where, sheet=sheet, cell="A1",
                            params={"headers": ", ".join(headers)}))
        return None
    return sheet, rows, *found


@dataclass(frozen=True)
class Table:
    """A table read off a sheet: values by column name, indexed by the Excel row number."""

    sheet: str
    frame: pd.DataFrame
    columns: dict[str, int]  # column name -> zero-based column index

    def cell(self, column: str, excel_row: int) -> str:
        return f"{xl_col_to_name(self.columns[column])}{excel_row}"


def read_table(book: Book, schema, file: str = "") -> tuple[Table | None, list[Issue]]:
    """Read the sheet named by `schema.name` (a pandera DataFrameSchema) through its header row, typed by the
    schema; no checks yet."""
    import pandas as pd  # pandas and pandera only where a table is read: `collect` needs neither

    sheet = book.find_sheet(schema.name)
    if sheet is None:
        return None, [Issue("sheet_missing", file=file, sheet=schema.name, params={"sheet": schema.name})]
    rows = book.rows(sheet)
    titles = {name: c.title for name, c in schema.columns.items()}
    found = find_header(rows, list(titles.values()))
    if found is None:
        return None, [Issue("header_missing", file=file, sheet=sheet, cell="A1",
                            params={"headers": ", ".join(titles.values())})]
    header_row, at = found
    columns = {name: at[title] for name, title in titles.items()}
    issues: list[Issue] = []
    records, index = [], []
    for r in range(header_row + 1, len(rows)):
        row = rows[r]
        raw = {name: (row[c] if c < len(row) else "") for name, c in columns.items()}
        if all(text(v) == "" for v in raw.values()):
            continue
        record = {}
        for name, v in raw.items():
            if schema.columns[name].dtype is not None and str(schema.columns[name].dtype) == "float64":
                # the covenant is the officer's own file: "9,5" typed as text is taken without a warning
                value, guess = number(v)
                if guess == "not_a_number":
                    issues.append(Issue("not_a_number", file=file, sheet=sheet, cell=cell_name(r, columns[name]),
                                        params={"value": text(v)}))
                record[name] = value
            elif schema.columns[name].dtype is None:
                record[name] = v if not isinstance(v, str) else text(v)
            else:
                record[name] = text(v) if text(v) != "" else None
        records.append(record)
        index.append(r + 1)
    frame = pd.DataFrame(records, index=pd.Index(index, name="row"), columns=list(columns))
    for name, c in schema.columns.items():
        if str(c.dtype) == "float64":
            frame[name] = frame[name].astype("float64")
        elif c.dtype is not None:
            frame[name] = frame[name].astype(object)
    return Table(sheet, frame, columns), issues


_RULES = [
    (re.compile(r"^greater_than\((.*)\)$"), "phải lớn hơn {0}"),
    (re.compile(r"^greater_than_or_equal_to\((.*)\)$"), "phải từ {0} trở lên"),
    (re.compile(r"^in_range\((.*), (.*)\)$"), "phải từ {0} đến {1}"),
    (re.compile(r"^isin\((.*)\)$"), "phải là một trong: {0}"),
]


def _rule(check: str) -> str:
    for pattern, vi in _RULES:
        m = pattern.match(check)
        if m:
            return vi.format(*m.groups())
    return check


def check_table(table: Table, schema, file: str = "", unit: str = "") -> list[Issue]:
    """Validate a table with its pandera schema; each failure becomes an Issue at its cell."""
    import pandas as pd
    import pandera.pandas as pa

    try:
        schema.validate(table.frame, lazy=True)
        return []
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
    issues = []
    for case in cases.itertuples():
        if case.index is None or pd.isna(case.index) or case.column not in table.columns:
            continue
        column = schema.columns[case.column].title
        where = dict(unit=unit, file=file, sheet=table.sheet, cell=table.cell(case.column, int(case.index)))
        check = str(case.check)
        if check == "not_nullable":
            issues.append(Issue("value_required", params={"column": column}, **where))
        elif check == "field_uniqueness":
            issues.append(Issue("duplicate", params={"column": column, "value": case.failure_case}, **where))
        elif check.startswith("dtype("):
            continue  # reported by read_table as not_a_number
        else:
            issues.append(Issue("value_invalid", params={"column": column, "value": case.failure_case, "rule": _rule(check)}, **where))
    return sorted(set(issues), key=lambda i: (i.sheet, _cell_order(i.cell), i.code))


def _cell_order(cell: str) -> tuple[int, str]:
    m = re.match(r"([A-Z]+)(\d+)", cell or "")
    return (int(m.group(2)), m.group(1).rjust(3)) if m else (0, "")


# --- outputs written whole or not at all; one run at a time ------------------------------------------------------

def temp_path(path: Path, own: bool = False) -> Path:
    """Where `path` is written before it is renamed into place: beside it, hidden, not ending in .xlsx. One name
    per target (runs hold the campaign's lock, processes of one run write different targets): what a killed run
    left is overwritten, with no scan of a folder that may hold thousands of files. `own`: a name of this process
    too, for a target several processes may write at once (the same bytes, content-addressed)."""
    path = Path(path)
    return path.with_name(f".{path.name}.{os.getpid()}.tmp" if own else f".{path.name}.tmp")


@contextlib.contextmanager
def atomic(path: Path, own: bool = False):
    """Yield a temporary path (`own`: see temp_path); when the block ends without error, rename it onto `path`
    (os.replace is atomic), else remove it. A run killed mid-write leaves the previous file whole."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(path, own)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


# The functions of the formulas thidua writes (subtotals, computed scores): all Excel 2007's, none of the newer
# ones that need a "_xlfn." prefix in the file.
PLAIN_FUNCTIONS = frozenset({"SUM", "IF", "MIN", "MAX", "N", "ROUND", "AND", "OR", "ABS", "COUNT", "COUNTA"})
_FUNCTION = re.compile(r"\b([A-Za-z_][A-Za-z0-9._]*)\(")


class QuickWorksheet(Worksheet):
    """A worksheet that writes the same bytes as xlsxwriter's own, quicker where thidua writes most:

    - a formula of PLAIN_FUNCTIONS is kept as it is: xlsxwriter tries some 30 regular expressions on every formula
      for the newer functions (46 µs against 2.5 µs a formula: 10 CPU-seconds for 10,000 templates of 23 formulas);
    - a number, text or blank cell is written in one step: xlsxwriter builds each cell's attributes as a list and
      escapes each of them, its cell name and style number included, which cannot need it (a third of writing a
      review workbook); the row loop visits each row's cells, not every column of the sheet's width for each
      row, twice. Any other cell, and any other formula, goes through xlsxwriter's own code.
    """

    def _prepare_formula(self, formula, expand_future_functions=False):
        if "{" in formula or "}" in formula or "_xlfn." in formula or \
                not set(_FUNCTION.findall(formula)) <= PLAIN_FUNCTIONS:
            return super()._prepare_formula(formula, expand_future_functions)
        return formula[1:] if formula.startswith("=") else formula

    def write_cells(self, row: int, cells) -> None:
        """Several cells of one row, (column, value, format) each: text, a number, or None for a blank, stored as
        write_string, write_number and write_blank store them, without their decorator, two calls and a
        namedtuple's Python constructor a cell. Text is never taken for a formula or a link; a very long text, a
        number that is not finite and any other value go through xlsxwriter's own methods."""
        if self.constant_memory:  # rows are written out as they come: xlsxwriter's own methods
            for col, value, fmt in cells:
                self._write_value(row, col, value, fmt)
            return
        table, strings, check, longest = self.table[row], self.str_table._get_shared_string_index, \
            self._check_dimensions, self.xls_strmax // 2
        for col, value, fmt in cells:
            kind = type(value)
            if value is None:
                if fmt is not None and not check(row, col):
                    table[col] = _blank((fmt,))
            elif kind is str and len(value) <= longest:
                if not check(row, col):
                    table[col] = _string((strings(value), fmt))
            elif (kind is float or kind is int) and value - value == 0:
                if not check(row, col):
                    table[col] = _number((value, fmt))
            else:
                self._write_value(row, col, value, fmt)

    def _write_value(self, row: int, col: int, value, fmt) -> None:
        if value is None:
            self.write_blank(row, col, None, fmt)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            self.write_number(row, col, value, fmt)
        else:
            self.write_string(row, col, str(value), fmt)

    def _calculate_spans(self) -> None:
        # xlsxwriter's spans (each block of 16 rows: its first and last used column), from each row's own cells
        # instead of a test of every column of the sheet's width
        spans, lo, hi = {}, None, None
        first, last = self.dim_colmin, self.dim_colmax
        for row in range(self.dim_rowmin, self.dim_rowmax + 1):
            cols = list(self.table[row]) if row in self.table else []
            if row in self.comments:  # as xlsxwriter counts them: within the dimensions only
                cols += [c for c in self.comments[row] if first <= c <= last]
            if cols:
                lo, hi = min(cols) if lo is None else min(lo, *cols), max(cols) if hi is None else max(hi, *cols)
            if (row + 1) % 16 == 0 or row == self.dim_rowmax:
                if lo is not None:
                    spans[row // 16] = f"{lo + 1}:{hi + 1}"
                lo = hi = None
        self.row_spans = spans

    def _write_rows(self) -> None:
        if self.constant_memory:
            return super()._write_rows()
        self._calculate_spans()
        table, row_info, col_info, comments, write = self.table, self.row_info, self.col_info, self.comments, self.fh.write
        for row in range(self.dim_rowmin, self.dim_rowmax + 1):
            cells = table[row]
            if not (row in row_info or row in comments or cells):
                continue
            info = row_info.get(row)
            if not cells:  # a row with a format, a height or a comment only
                self._write_empty_row(row, self.row_spans.get(row // 16), info)
                continue
            self._write_row(row, self.row_spans.get(row // 16), info)
            row_format = info.row_format if info else None
            for col in sorted(cells):
                cell = cells[col]
                kind = cell.__class__.__name__
                if kind not in _QUICK_CELLS:
                    self._write_cell(row, col, cell)
                    continue
                # the cell's style: its own, else its row's, else its column's (xlsxwriter's order)
                style = cell.format or row_format or (col in col_info and col_info[col].column_format)
                tag = f'<c r="{cell_name(row, col)}" s="{style._get_xf_index()}"' if style else \
                    f'<c r="{cell_name(row, col)}"'
                if kind == "String":  # an index into the shared strings
                    write(f'{tag} t="s"><v>{cell.string}</v></c>')
                elif kind == "Blank":
                    write(f"{tag}/>")
                else:
                    write(f"{tag}><v>{cell.number:.16G}</v></c>")
            write("</row>")


# The cells QuickWorksheet writes itself (xlsxwriter's cell tuples, by their class names).
_QUICK_CELLS = frozenset({"Number", "Datetime", "String", "Blank"})
# xlsxwriter's cell tuples made from a tuple, with no Python call
_blank, _string, _number = (functools.partial(tuple.__new__, t) for t in (CellBlankTuple, CellStringTuple,
                                                                             CellNumberTuple))



def atomic_workbook(path: Path, options: dict):
    """An xlsxwriter workbook for `path` that is written to a temporary file and renamed into place on close."""
    class _Atomic(Workbook):
        worksheet_class = QuickWorksheet

        def close(self):
            try:
                super().close()
                os.replace(self.filename, final)
            finally:
                if Path(self.filename).exists():
                    Path(self.filename).unlink()

    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    return _Atomic(str(temp_path(final)), options)


_HELD: dict[str, tuple[int, int]] = {}  # lock file -> (descriptor, depth): a run calls other runs


@contextlib.contextmanager
def run_lock(folder: Path):
    """Hold `folder`/.thidua.lock for the length of a run; a second run on the same campaign stops with a clear
    message instead of writing into out/ at the same time. Re-entrant within one process."""
    import fcntl

    from .issues import ThiduaError

    folder = Path(folder)
    if not folder.parent.is_dir():  # no campaign folder: the run stops with its own message, nothing is created
        yield
        return
    folder.mkdir(exist_ok=True)
    key = str((folder / ".thidua.lock").resolve())
    if key in _HELD:
        fd, depth = _HELD[key]
        _HELD[key] = (fd, depth + 1)
    else:
        fd = os.open(key, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise ThiduaError(f"Một lệnh thidua khác đang chạy trên đợt thi đua này ({folder}): chờ lệnh đó xong "
                              "rồi chạy lại (another thidua run holds this campaign)") from None
        _HELD[key] = (fd, 1)
    try:
        yield
    finally:
        fd, depth = _HELD[key]
        if depth == 1:
            del _HELD[key]
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
        else:
            _HELD[key] = (fd, depth - 1)


def locked(run):
    """A workflow run_* function (first argument: the campaign folder) under the campaign's run lock."""
    import functools

    @functools.wraps(run)
    def wrapper(root, *args, **kwargs):
        with run_lock(Path(root) / "out"):
            return run(root, *args, **kwargs)
    return wrapper


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: str) -> str:
    """Text for a CSV cell that a spreadsheet will not take for a formula: a leading = + - @ gets a quote."""
    return "'" + value if isinstance(value, str) and value.startswith(_FORMULA_START) else value


def csv_safe_column(values: list) -> list:
    """csv_safe of every value of a column, touching only the values that need it (a column of 400,000 values
    holds a few thousand distinct ones, and almost never one that starts like a formula)."""
    risky = {v for v in set(values) if isinstance(v, str) and v.startswith(_FORMULA_START)}
    return [csv_safe(v) if v in risky else v for v in values] if risky else values


def csv_unsafe(value: str) -> str:
    """csv_safe undone when a CSV of ours is read back."""
    return value[1:] if isinstance(value, str) and value.startswith("'") and value[1:2] and \
        value[1:].startswith(_FORMULA_START) else value


__all__ = ["Book", "Table", "ERROR", "WARNING", "number", "text", "find_header", "read_table", "check_table", "cell_name"]
