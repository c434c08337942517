"""Scale (issue 12), as behaviour: the process pool gives the one-process result, a return is read once (and
not again on the next run), and no stage scans a whole campaign-sized table once per bloc or per unit.

The seconds are measured by `make bench`, never here.
"""
from __future__ import annotations

import collections
import dataclasses
import csv
import hashlib
import importlib.util
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import pipeline.pool
import pipeline.read
import pipeline.review
from pipeline import report, workflow
from pipeline.campaign_book import write_campaign
from pipeline.check import load_checked

import factories as f

ROOT = Path(__file__).resolve().parents[1]


def _bench():
    """bench/run.py, for its synthetic campaign of N units in blocs of ~20 (not a package: loaded by path)."""
    if "thidua_bench" not in sys.modules:
        spec = importlib.util.spec_from_file_location("thidua_bench", ROOT / "bench" / "run.py")
        sys.modules[spec.name] = module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return sys.modules["thidua_bench"]


def synthetic(root: Path, units: int) -> Path:
    """A campaign of `units` units with every return filled in its inbox."""
    bench = _bench()
    root.mkdir(parents=True)
    write_campaign(root / "campaign.xlsx", bench.content(units))
    bench.generate_returns(load_checked(root / "campaign.xlsx"), root / "inbox", 2026, 1, 0.0)
    return root


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and "cache" not in p.parts}


@pytest.fixture
def acceptance(tmp_path):
    root = tmp_path / "CAMPAIGN"
    f.fill_inbox(root, f.make_campaign(root))
    return root


# --- both cores -------------------------------------------------------------------------------------------

def test_two_processes_write_what_one_writes(acceptance, monkeypatch):
    """collect, validate, review (out and back) and rank on a pool (every item through it) write the same bytes
    as one process."""
    monkeypatch.setattr(pipeline.pool, "SERIAL_BELOW", 1)
    outs = {}
    for jobs in (1, 2):
        shutil.rmtree(acceptance / "out", ignore_errors=True)
        shutil.rmtree(acceptance / "review", ignore_errors=True)
        workflow.run_collect(acceptance, jobs=jobs)
        workflow.run_validate(acceptance, jobs=jobs)
        workflow.run_review(acceptance, workflow.generated_at(acceptance / "campaign.xlsx"), jobs=jobs)
        shutil.copytree(acceptance / "out" / "review", acceptance / "review")
        workflow.run_rank(acceptance, jobs=jobs)
        outs[jobs] = digest(acceptance / "out")
    assert {"submissions/receipts.csv", "validation.xlsx", "review/K1.xlsx", "review/K2.xlsx"} <= set(outs[1])
    assert outs[2] == outs[1]


def test_one_content_under_many_names_on_two_processes_is_stored_once_with_a_receipt_each(acceptance, monkeypatch):
    """collect reads each file once on the pool, so two workers may store the same bytes at the same time: each
    writes its own temporary, and what is left is one whole copy, a receipt per name, no temporary file, and the
    inbox as it was."""
    monkeypatch.setattr(pipeline.pool, "SERIAL_BELOW", 1)
    inbox = acceptance / "inbox"
    original = next(inbox.glob("*A01*.xlsx"))
    for k in range(12):
        shutil.copy2(original, inbox / f"bản sao {k} - {original.name}")
    before = digest(inbox)
    receipts = workflow.run_collect(acceptance, jobs=2)
    store = workflow.Paths(acceptance).submissions
    copies = [r for r in receipts if r.sha256 == hashlib.sha256(original.read_bytes()).hexdigest()]
    assert len(copies) == 13 and len({r.stored for r in copies}) == 1 and {r.status for r in copies} == {"ok"}
    assert (store / copies[0].stored).read_bytes() == original.read_bytes()
    assert not [p for p in store.rglob("*") if p.name.endswith(".tmp")]
    assert digest(inbox) == before


def test_rank_reads_out_review_only_where_it_changed_since_review_wrote_it(acceptance, monkeypatch):
    """A bloc head who typed into out/review/ by mistake is still told (review_wrong_folder); the workbooks as
    `review` wrote them are not read again on every `rank`."""
    workflow.run_collect(acceptance)
    workflow.run_review(acceptance, workflow.generated_at(acceptance / "campaign.xlsx"))
    read = []
    real = pipeline.review.read_review
    monkeypatch.setattr(pipeline.review, "read_review", lambda path, file=None: read.append(Path(path).name)
                        or real(path, file))
    workflow.run_rank(acceptance, jobs=1)
    assert read == []  # review/ is empty, out/review/ untouched
    typed = acceptance / "out" / "review" / "K1.xlsx"
    book = openpyxl.load_workbook(typed)
    ws = book["Thẩm định"]
    head = next(r for r in ws.iter_rows(max_row=10) if any(c.value == "Điểm thẩm định" for c in r))
    col = next(c.column for c in head if c.value == "Điểm thẩm định")
    cell = next(ws.cell(r, col) for r in range(head[0].row + 1, ws.max_row + 1)
                if isinstance(ws.cell(r, col).value, (int, float)) and ws.cell(r, col + 1).value is None
                and ws.cell(r, 3).value)
    cell.value = max(0, cell.value - 1)
    book.save(typed)
    _, v, *_ = workflow.run_rank(acceptance, jobs=1)
    assert read == ["K1.xlsx"]
    assert [i.params["bloc"] for i in v.issues if i.code == "review_wrong_folder"] == ["K1"]


def test_a_batch_run_freezes_what_its_stages_keep_and_a_library_caller_is_left_alone(acceptance, monkeypatch):
    """In a batch run (`thidua`, the benchmark) the readings and values a stage keeps leave the collector's sight
    (each full collection walked them all again: 0.7 s to read 10,000 kept readings became 1.5-1.9 s); a caller
    that is not a batch run keeps the collector as it was. The results are the same either way."""
    import gc

    workflow.run_collect(acceptance, jobs=1)
    monkeypatch.setattr(pipeline.pool, "_BATCH", False)  # a CLI test before this one in this process set it
    before = gc.get_freeze_count()
    plain = workflow.run_validate(acceptance, jobs=1)
    assert gc.get_freeze_count() == before
    monkeypatch.setattr(pipeline.pool, "_BATCH", True)
    try:
        batch = workflow.run_validate(acceptance, jobs=1)
        frozen = gc.get_freeze_count()
        assert frozen > before + 1000
    finally:
        gc.unfreeze()  # this test process goes on
    assert batch.values.equals(plain.values) and [i.message() for i in batch.issues] == [i.message() for i in plain.issues]


def test_the_pool_keeps_the_order_and_reports_progress_in_it():
    seen = []
    got = pipeline.pool.pmap(lambda shared, x: shared * x, range(40), 3, jobs=2, progress=seen.append)
    assert got == seen == [3 * x for x in range(40)]


# --- read once --------------------------------------------------------------------------------------------

@pytest.fixture
def counted(monkeypatch):
    """Counts the real reads of a return (read_return), in this process: one job."""
    calls = []
    real = pipeline.read.read_return

    def read_return(path, file=None, limits=None, data=None):
        calls.append(file)
        return real(path, file, limits, data)
    monkeypatch.setattr(pipeline.read, "read_return", read_return)
    return calls


def test_collect_reads_each_return_once_and_validate_takes_its_reading(acceptance, counted):
    workflow.run_collect(acceptance, jobs=1)
    stored = sum(1 for r in workflow.load_receipts(workflow.Paths(acceptance).submissions) if r.form == "score")
    assert len(counted) == stored > 0
    first = workflow.run_validate(acceptance, jobs=1)
    workflow.run_collect(acceptance, jobs=1)  # nothing new: nothing read
    second = workflow.run_validate(acceptance, jobs=1)
    assert len(counted) == stored
    assert [i.message() for i in second.issues] == [i.message() for i in first.issues]
    assert second.values.equals(first.values)


def test_a_changed_reader_or_a_damaged_cache_is_read_again(acceptance, counted, monkeypatch):
    workflow.run_collect(acceptance, jobs=1)
    before = workflow.run_validate(acceptance, jobs=1)
    n = len(counted)
    kept = workflow.Paths(acceptance).cache / "kept.sqlite"
    with sqlite3.connect(kept) as db:  # damaged entries: never trusted, never an error
        db.execute("UPDATE kept SET value = ?", (b"not a pickle",))
    db.close()
    again = workflow.run_validate(acceptance, jobs=1)
    assert len(counted) == 2 * n and again.values.equals(before.values)
    kept.write_bytes(b"not a database")  # a crash or a disk error: started afresh
    again = workflow.run_validate(acceptance, jobs=1)
    assert len(counted) == 3 * n and again.values.equals(before.values)
    workflow.run_validate(acceptance, jobs=1)
    assert len(counted) == 3 * n  # the new file serves the next run
    monkeypatch.setattr(pipeline.read, "fingerprint", lambda: "a newer reader")
    workflow.run_validate(acceptance, jobs=1)
    assert len(counted) == 4 * n


def test_a_changed_covenant_is_read_again(acceptance):
    rows = f.content()
    workflow.run_collect(acceptance, jobs=1)
    assert workflow.run_validate(acceptance).campaign.unit("A01").name != "Sở mới đổi tên"
    rows["Đơn vị"] = [{**u, "name": "Sở mới đổi tên"} if u["code"] == "A01" else u for u in rows["Đơn vị"]]
    write_campaign(acceptance / "campaign.xlsx", rows)
    assert workflow.run_validate(acceptance).campaign.unit("A01").name == "Sở mới đổi tên"


def test_collect_imports_neither_pandas_nor_pandera(acceptance):
    """`thidua collect` runs as returns trickle in: with the covenant kept from the first run, receiving and
    reading a new return imports what reading needs, not pandas or pandera (~0.9 s of imports)."""
    workflow.run_collect(acceptance, jobs=1)  # the first run checks campaign.xlsx (pandera) and keeps it
    late = acceptance / "inbox" / "late" / "A01 gửi lại.xlsx"
    late.parent.mkdir()
    f.write_return(late, load_checked(acceptance / "campaign.xlsx"), "A01", f.RETURNS["A01"].fill())
    script = ("import sys\nfrom pipeline.cli import main\n"
              "try:\n    main(['collect', sys.argv[1]])\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
              "print(sorted(m for m in ('pandas', 'pandera', 'numpy', 'openpyxl') if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", script, str(acceptance)], capture_output=True, text=True,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert "late/A01 gửi lại.xlsx" in done.stdout and "✓" in done.stdout

# --- no quadratic corners ---------------------------------------------------------------------------------

class Scans:
    """Per line of pipeline/ code, how many values its comparisons and membership tests went over, counting
    columns of at least `size` values. A line that filters the whole table once per bloc or per unit goes over
    four times as many when the campaign doubles; one that groups once, or filters a bloc's own part, twice."""

    def __init__(self, monkeypatch, size: int):
        self.size = size
        self.scanned: collections.Counter = collections.Counter()
        for name in ("__eq__", "__ne__", "isin"):
            monkeypatch.setattr(pd.Series, name, self._counting(getattr(pd.Series, name)))

    def _counting(self, real):
        def op(series, *args, **kwargs):
            if len(series) >= self.size:
                self.scanned[self._caller()] += len(series)
            return real(series, *args, **kwargs)
        return op

    @staticmethod
    def _caller() -> str:
        frame = sys._getframe(2)
        while frame is not None and PIPELINE not in frame.f_code.co_filename:
            frame = frame.f_back
        return f"{Path(frame.f_code.co_filename).name}:{frame.f_lineno}" if frame else "?"


PIPELINE = str(ROOT / "pipeline")



def test_the_rows_contract_still_catches_a_reader_that_gives_no_text(acceptance):
    """check_rows lets pandas infer the text columns (a `str` column is checked once, not value by value): a
    number or a blank where the contract wants text still fails it, with the value."""
    import pandera.errors

    ret = pipeline.read.read_return(next((acceptance / "inbox").glob("*A01*.xlsx")))
    pipeline.read.check_rows([ret])
    for field, wrong in (("code", 4), ("explanation", None), ("sheet", 1.5)):
        bad = dataclasses.replace(ret, rows=[ret.rows[0]._replace(**{field: wrong})] + ret.rows[1:])
        with pytest.raises(pandera.errors.SchemaError, match=field):
            pipeline.read.check_rows([ret, bad])


def test_the_rows_contract_holds_for_every_frame_of_rows(acceptance, monkeypatch):
    """check_rows checks in frames of CHECK_ROWS rows: a wrong row in the last frame fails as one in the first."""
    import pandera.errors

    monkeypatch.setattr(pipeline.read, "CHECK_ROWS", 5)
    ret = pipeline.read.read_return(next((acceptance / "inbox").glob("*A01*.xlsx")))
    assert len(ret.rows) > 2 * 5
    pipeline.read.check_rows([ret, ret])
    bad = dataclasses.replace(ret, rows=ret.rows[:-1] + [ret.rows[-1]._replace(code=4)])
    with pytest.raises(pandera.errors.SchemaError, match="code"):
        pipeline.read.check_rows([ret, bad])


def test_no_stage_scans_the_whole_campaign_per_bloc_or_per_unit(tmp_path, monkeypatch):
    """Review out and back, votes, rank, awards and both result workbooks, at 60 and 120 units (3 and 6 blocs):
    no line of the pipeline goes over more than about twice the values when the campaign doubles."""
    scanned = {}
    for units in (60, 120):
        root = synthetic(tmp_path / f"u{units}", units)
        workflow.run_collect(root, jobs=1)
        with monkeypatch.context() as m:
            counter = Scans(m, units)
            workflow.run_review(root, workflow.generated_at(root / "campaign.xlsx"), jobs=1)
            shutil.copytree(root / "out" / "review", root / "review")
            workflow.run_rank(root, jobs=1)
        scanned[units] = counter.scanned
    small, large = scanned[60], scanned[120]
    assert sum(small.values()) > 0  # the counter sees the stages' work
    grows = {line: (small.get(line, 0), n) for line, n in large.items() if n > 2.5 * small.get(line, 0)}
    assert not grows, f"values scanned at 60 and 120 units: {grows}"


# --- the results workbook at scale ------------------------------------------------------------------------

def _sheets(path: Path) -> list[str]:
    return openpyxl.load_workbook(path, read_only=True).sheetnames


def test_provenance_past_the_sheet_goes_to_a_csv_beside_the_workbook(acceptance, monkeypatch):
    workflow.run_collect(acceptance)
    path, v, ranked, _ = workflow.run_rank(acceptance)
    in_book = f.table(path, "Nguồn số liệu", ["Mã đơn vị", "Mã", "Giá trị", "Tệp", "Trang tính", "Ô"])
    beside = report.provenance_csv(path)
    assert len(in_book) > 10 and not beside.exists()

    monkeypatch.setattr(report, "PROVENANCE_IN_BOOK", 10)
    path, *_ = workflow.run_rank(acceptance)
    with open(beside, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [{k: r[k] for k in ("Mã đơn vị", "Mã", "Tệp", "Ô")} for r in rows] == \
        [{k: str(r[k]) for k in ("Mã đơn vị", "Mã", "Tệp", "Ô")} for r in in_book]
    assert float(rows[0]["Giá trị"]) == in_book[0]["Giá trị"]
    note = openpyxl.load_workbook(path)["Nguồn số liệu"]["A1"].value
    assert beside.name in note and f"{len(rows)}" in note.replace(".", "")

    monkeypatch.setattr(report, "PROVENANCE_IN_BOOK", 50_000)
    workflow.run_rank(acceptance)
    assert not beside.exists()  # no stale CSV beside a workbook that holds the provenance itself


def test_the_provenance_csv_never_holds_a_formula(tmp_path):
    """Text from returns (a file named "=HYPERLINK(...)") reaches the CSV quoted, the other values as they are."""
    frame = pd.DataFrame({"file": ["A01.xlsx", '=HYPERLINK("http://x")', "A01.xlsx"], "cell": ["F9", "-F10", "@G2"],
                          "value": [9.5, 4.0, 0.0]})
    path = tmp_path / "nguon.csv"
    report._write_csv(path, frame, {"file": "Tệp", "cell": "Ô", "value": "Giá trị"})
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows == [["Tệp", "Ô", "Giá trị"], ["A01.xlsx", "F9", "9.5"], ["\'=HYPERLINK(\"http://x\")", "\'-F10", "4.0"],
                    ["A01.xlsx", "\'@G2", "0.0"]]


def test_matrix_sheets_only_up_to_matrix_blocs(acceptance):
    workflow.run_collect(acceptance)
    path, *_ = workflow.run_rank(acceptance)
    assert {"Ma trận K1", "Ma trận K2", "Khối K1", "Khối K2"} <= set(_sheets(path))
    rows = f.content()
    rows["Thiết lập"] = [{**r, "value": 1} if r["key"] == "matrix_blocs" else r for r in rows["Thiết lập"]]
    write_campaign(acceptance / "campaign.xlsx", rows)
    path, *_ = workflow.run_rank(acceptance)
    sheets = _sheets(path)
    assert {"Khối K1", "Khối K2"} <= set(sheets) and not any(s.startswith("Ma trận") for s in sheets)
