"""Benchmark: a synthetic campaign of N units -> filled returns -> every stage timed with its peak memory.

    python bench/run.py [--units 10000 [MORE ...]] [--workdir DIR] [--keep] [--reuse] [--sample 500] [--faulty PCT]
                        [--no-trace] [--json FILE]

Builds campaign.xlsx (4 groups, 40 leaves of all four kinds on a 100-point scale, blocs of ~20 units) with
pipeline.campaign_book.write_campaign and one filled return per unit with pipeline.templates.write_template
(seeded random valid scores, `--faulty` percent of them given one defect; written by `--jobs` processes).
Then, in this process and its `--jobs` workers, times the stages as `thidua rank` runs them: load_checked,
collect (which reads each new return once, keeping the reading), the kept readings of
every stored return, validate, the validation report, score (matrix, totals), rank and write_results. Last, on
the same sample of files, the project's reader against python-calamine's bare read (the floor) and the naive
one (pandas.read_excel with openpyxl, plus openpyxl.load_workbook for _meta); then the goals of issue 12 as
ratios measured in this one run, and with several sizes each stage's growth from the smallest to the largest.

Memory per stage: the Python heap's peak (tracemalloc, absolute and above the stage's start) and the process's
peak RSS (resource.getrusage; reset per stage through /proc/self/clear_refs where Linux allows it, otherwise
the peak so far). tracemalloc slows allocation-heavy code: `--no-trace` times the stages without it.
"""
from __future__ import annotations

import argparse
import collections
import contextlib
import copy
import datetime as dt
import gc
import hashlib
import json
import multiprocessing
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import pandas as pd
from python_calamine import CalamineWorkbook

import pipeline
import pipeline.read
import schemas
from pipeline.campaign import Campaign
from pipeline.campaign_book import EXAMPLE, write_campaign
from pipeline.check import load_checked
from pipeline.collect import collect
from pipeline.pool import batch_gc, default_jobs
from pipeline.issues import ERROR
from pipeline.awards import propose
from pipeline.proposal import write_proposal
from pipeline.rank import rank
from pipeline.read import read_return
from pipeline.report import YearEnd, write_results, write_validation
from pipeline.inputs import missing_inputs
from pipeline.review import load_reviews, self_scores, untouched
from pipeline.review import write_all as write_reviews
from pipeline.score import matrix, totals, with_review
from pipeline.votes import ballots_frame, margins, succession, tally, with_votes
from pipeline.templates import Fill, write_template
from pipeline.validate import validate
from pipeline.workflow import Paths, Validation, read_latest, unit_summary, unranked_units

from schemas import returns as R

GENERATED_AT = dt.datetime(2026, 11, 1, 8, 0, 0)
# Every return "arrives" at one fixed time before the deadline (2026-12-10): no `late` warnings, stable receipts.
ARRIVED = dt.datetime(2026, 12, 1, 9, 0, 0, tzinfo=dt.timezone.utc).timestamp()
LATE = dt.datetime(2026, 12, 12, 10, 0, 0, tzinfo=dt.timezone.utc).timestamp()
# --faulty: one defect per faulty return, in turn: two warnings (the unit still ranks) and two errors.
DEFECTS = ("decimal_comma", "late", "score_range", "explanation_missing")
BLOC_SIZE = 20
KINDS = ("điểm", "đạt/không đạt", "chỉ tiêu", "trừ điểm")
# group -> (title, max per leaf); 10 leaves each: 40 + 30 + 20 + 10 = 100 points.
GROUPS = {"I": ("Thực hiện nhiệm vụ chính trị, chuyên môn được giao", 4),
          "II": ("Xây dựng Đảng, đoàn thể, cải cách hành chính, chuyển đổi số", 3),
          "III": ("Công tác thi đua, khen thưởng, phối hợp trong khối", 2),
          "IV": ("Chấp hành chế độ báo cáo, kỷ luật, kỷ cương hành chính", 1)}
LEAVES_PER_GROUP = 10
ITEMS = [{"code": "T1", "kind": "thưởng", "text": "Hoàn thành xuất sắc nhiệm vụ đột xuất được giao", "points": 1, "cap": 3},
         {"code": "T2", "kind": "thưởng", "text": "Sáng kiến được công nhận cấp tỉnh", "points": 0.5, "cap": 1.5},
         {"code": "D1", "kind": "trừ", "text": "Bị phê bình bằng văn bản", "points": 1, "cap": 2}]
MARKER = ".bench.json"
PREVIOUS = ".previous"  # earlier runs' outputs, moved aside before a reused folder's run and deleted after it


def discard_previous(root: Path) -> None:
    shutil.rmtree(root / PREVIOUS, ignore_errors=True)


def warm(inbox: Path) -> None:
    """Every return read once, untimed: calamine's bare read that collect is compared with reads the stored
    copies from the page cache, so collect reads the inbox from there too (this VM drops files not read for a
    few minutes: reading 10,000 returns from its disk added ~2 s to collect, measured)."""
    for p in inbox.rglob("*"):
        if p.is_file():
            p.read_bytes()


# --- synthetic campaign ----------------------------------------------------------------------------

def content(n: int) -> dict[str, list[dict]]:
    """campaign.xlsx rows for n units in blocs of ~BLOC_SIZE."""
    c = copy.deepcopy(EXAMPLE)
    settings = {r["key"]: r for r in c["Thiết lập"]}
    settings["campaign_id"]["value"] = "KTD-BENCH-2026"
    n_blocs = max(1, round(n / BLOC_SIZE))
    units = [{"code": f"DV{i:05d}", "name": f"Đơn vị thi đua số {i}", "short_name": f"ĐV {i}",
              "bloc": f"K{i * n_blocs // n + 1:03d}", "email": f"dv{i:05d}@example.gov.vn"} for i in range(1, n + 1)]
    members: dict[str, list[str]] = {}
    for u in units:
        members.setdefault(u["bloc"], []).append(u["code"])
    c["Khối"] = [{"code": b, "name": f"Khối thi đua số {b[1:]}", "head": m[0], "deputy": m[1] if len(m) > 1 else None}
                 for b, m in members.items()]
    c["Đơn vị"] = units
    rows = []
    for g, (title, leaf_max) in GROUPS.items():
        rows.append({"code": g, "group": g, "text": title, "max": leaf_max * LEAVES_PER_GROUP})
        for j in range(1, LEAVES_PER_GROUP + 1):
            kind = KINDS[(j - 1) % 4]
            row = {"code": f"{g}.{j}", "group": g, "kind": kind, "max": leaf_max,
                   "text": f"Tiêu chí {g}.{j}: {kind}, thực hiện các nhiệm vụ, chỉ tiêu năm theo kế hoạch được giao"}
            if kind == "điểm":
                row["step"] = 0.5 if j % 3 else 0.25
                row["explanation"] = ("khi chưa tối đa", "luôn", "")[j % 3]
            elif kind == "chỉ tiêu":
                row["target"] = 100 if j % 2 else 50
                row["explanation"] = "khi chưa tối đa"
            elif kind == "trừ điểm":
                row["step"] = 0.5
            rows.append(row)
    c["Tiêu chí"] = rows
    c["Thưởng - Trừ"] = ITEMS
    c["Lịch sử"] = [{"unit": "DV00001", "year": 2025, "kind": "xếp loại", "value": "Xuất sắc"}]
    c["Đăng ký"] = [{"unit": "DV00001", "award": "CO_TINH"}]
    return c


def make_fill(c: Campaign, index: int, seed: int, faulty: float = 0.0) -> tuple[Fill, str]:
    """Random valid scores for one unit, from a generator of its own (the same whichever process draws it),
    and the defect put in it ("" for none; `faulty` percent of the returns get one)."""
    rng = random.Random(seed * 1_000_003 + index)
    fill = Fill()
    for k in c.leaves:
        below = False
        if k.kind == "điểm":
            steps = round(k.max / k.step)
            n = rng.randint(steps // 2, steps)
            fill.scores[k.code] = n * k.step
            below = n < steps
        elif k.kind == "đạt/không đạt":
            fill.scores[k.code] = k.max if rng.random() < 0.9 else 0
            below = fill.scores[k.code] == 0
        elif k.kind == "chỉ tiêu":
            fill.actuals[k.code] = round(rng.uniform(0.6, 1.4) * k.target, 1)
            below = fill.actuals[k.code] < k.target
        else:
            fill.actuals[k.code] = rng.choice((0, 0, 0, 1, 2))
        if k.explanation == "luôn" or below or rng.random() < 0.2:
            fill.explanations[k.code] = f"Theo Báo cáo số {rng.randint(1, 999)}/BC ngày {rng.randint(1, 28)}/11/2026, kèm minh chứng."
    for item in ITEMS:
        times = rng.choice((0, 0, 1, 2))
        if times:
            fill.items[item["code"]] = (min(item["cap"], times * item["points"]), "Quyết định khen, văn bản kèm theo.")
    defect = DEFECTS[rng.randrange(len(DEFECTS))] if rng.random() * 100 < faulty else ""
    judged = [k for k in c.leaves if k.kind == "điểm"]
    if defect == "decimal_comma":
        k = rng.choice(judged)
        fill.scores[k.code] = f"{fill.scores[k.code]:g}".replace(".", ",") + ("" if fill.scores[k.code] % 1 else ",0")
    elif defect == "score_range":
        k = rng.choice(judged)
        fill.scores[k.code] = k.max + 1
    elif defect == "explanation_missing":
        k = rng.choice([k for k in judged if k.explanation == "luôn"])
        fill.explanations.pop(k.code, None)
    return fill, defect


_CAMPAIGN: Campaign | None = None


def _init(campaign: Campaign) -> None:
    global _CAMPAIGN
    _CAMPAIGN = campaign


def _write_one(job: tuple[int, str, int, float]) -> str:
    index, inbox, seed, faulty = job
    unit = _CAMPAIGN.units[index]
    fill, defect = make_fill(_CAMPAIGN, index, seed, faulty)
    path = write_template(Path(inbox) / f"{unit.code} tu cham 2026.xlsx", _CAMPAIGN, unit, GENERATED_AT, fill=fill)
    when = LATE if defect == "late" else ARRIVED
    os.utime(path, (when, when))
    return defect


def generate_returns(c: Campaign, inbox: Path, seed: int, jobs: int, faulty: float) -> collections.Counter:
    """Every unit's filled return in inbox/; the count of each defect put in."""
    inbox.mkdir(parents=True, exist_ok=True)
    work = [(i, str(inbox), seed, faulty) for i in range(len(c.units))]
    defects: collections.Counter = collections.Counter()
    _init(c)
    pool = multiprocessing.get_context("fork").Pool(jobs, initializer=_init, initargs=(c,)) if jobs > 1 else None
    with pool or contextlib.nullcontext():
        results = pool.imap_unordered(_write_one, work, chunksize=25) if pool else map(_write_one, work)
        for done, defect in enumerate(results, 1):
            defects[defect] += 1
            if done % 1000 == 0:
                log(f"  generated {done}/{len(work)} returns")
    del defects[""]
    return defects


def code_fingerprint() -> str:
    """Which pipeline code was measured: a hash of pipeline/ and schemas/ sources, and the newest change."""
    files = sorted(f for pkg in (pipeline, schemas) for f in Path(pkg.__file__).parent.glob("*.py"))
    digest = hashlib.sha256(b"".join(f.name.encode() + f.read_bytes() for f in files)).hexdigest()[:12]
    newest = max(files, key=lambda f: f.stat().st_mtime)
    when = dt.datetime.fromtimestamp(newest.stat().st_mtime).isoformat(sep=" ", timespec="seconds")
    return f"{digest} (newest {newest.parent.name}/{newest.name}, {when})"


# --- measuring -----------------------------------------------------------------------------------

def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _reset_rss_peak() -> bool:
    """Linux: writing 5 to clear_refs resets the peak RSS that getrusage reports."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


@dataclass
class Row:
    stage: str
    seconds: float
    count: int = 0
    per: str = ""
    heap_peak: float | None = None
    heap_added: float | None = None
    rss_peak: float | None = None


@dataclass
class Meter:
    trace: bool
    rows: list[Row] = field(default_factory=list)
    rss_per_stage: bool = False

    @contextlib.contextmanager
    def stage(self, name: str, count: int = 0, per: str = ""):
        """Time the block; the block may set row.count once it knows it."""
        row = Row(name, 0.0, count, per)
        log(f"- {name} ...")
        self.rss_per_stage = _reset_rss_peak()
        start_heap = 0
        if self.trace:
            tracemalloc.reset_peak()
            start_heap = tracemalloc.get_traced_memory()[0]
        t0 = time.perf_counter()
        yield row
        row.seconds = time.perf_counter() - t0
        if self.trace:
            peak = tracemalloc.get_traced_memory()[1]
            row.heap_peak, row.heap_added = peak / 2**20, (peak - start_heap) / 2**20
        row.rss_peak = _maxrss_mb()
        self.rows.append(row)
        log(f"  {row.seconds:.2f} s")

    def add(self, row: Row) -> None:
        self.rows.append(row)


def table(rows: list[Row], rss_per_stage: bool) -> str:
    mb = lambda x: "-" if x is None else f"{x:,.1f}"  # noqa: E731
    head = ("stage", "seconds", "rate", "heap peak MB", "heap +MB", "RSS peak MB" + ("" if rss_per_stage else " (so far)"))
    lines = []
    for r in rows:
        rate = f"{r.count / r.seconds:,.1f} {r.per}/s" if r.count and r.seconds > 0 else "-"
        lines.append((r.stage, f"{r.seconds:,.2f}", rate, mb(r.heap_peak), mb(r.heap_added), mb(r.rss_peak)))
    widths = [max(len(x[i]) for x in [head] + lines) for i in range(len(head))]
    fmt = lambda cells: "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))  # noqa: E731
    rule = "-" * len(fmt(head))
    return "\n".join([fmt(head), rule] + [fmt(x) for x in lines] + [rule])


# --- the naive reader --------------------------------------------------------------------------------

def naive_read(path: Path) -> tuple[dict, dict]:
    """What a first script would do: every sheet through pandas + openpyxl, then _meta through openpyxl again."""
    sheets = pd.read_excel(path, sheet_name=None, engine="openpyxl")
    wb = openpyxl.load_workbook(path)
    meta = {r[0]: r[1] for r in wb[R.META_SHEET].iter_rows(values_only=True) if r and r[0]}
    wb.close()
    return sheets, meta


def bare_read(path: Path) -> int:
    """The floor: python-calamine reading every sheet of the file into Python rows, nothing else."""
    book = CalamineWorkbook.from_path(str(path))
    return sum(len(book.get_sheet_by_name(name).to_python()) for name in book.sheet_names)


def time_all(read, files: list[Path], label: str = "") -> float:
    """Seconds for `read` over every file (one warm-up read first, not counted)."""
    read(files[0])
    t0 = time.perf_counter()
    for i, p in enumerate(files, 1):
        read(p)
        if label and i % 100 == 0:
            log(f"  {label} {i}/{len(files)}")
    return time.perf_counter() - t0


def compare_readers(files: list[Path]) -> dict[str, float]:
    """Milliseconds per file for the project's reader, calamine's bare read and the naive reader, same files."""
    n = len(files)
    return {"project_ms": 1000 * time_all(read_return, files) / n, "calamine_ms": 1000 * time_all(bare_read, files) / n,
            "naive_ms": 1000 * time_all(naive_read, files, "naive reader") / n}


# --- main ------------------------------------------------------------------------------------------

def _wanted(args, units: int) -> dict:
    return {"units": units, "seed": args.seed, "faulty": args.faulty}


def _reusable(root: Path, args, units: int) -> bool:
    marker = root / MARKER
    if not (args.reuse and marker.is_file()):
        return False
    kept = json.loads(marker.read_text())
    return {k: kept.get(k) for k in _wanted(args, units)} == _wanted(args, units)


def prepare(root: Path, args, units: int) -> list[Row]:
    """campaign.xlsx and inbox/ (or reuse them from an earlier --keep run); returns the setup rows."""
    if _reusable(root, args, units):
        log(f"reusing {root} (campaign.xlsx and {units} returns)")
        # The last run's outputs are moved aside, and deleted once this run is timed (discard_previous): on
        # ext4, files created just after 10,000 were deleted cost ~0.5 ms each to allocate, against ~0.03 ms
        # (measured here), a cost of the file system's recent deletions, not of the pipeline.
        aside = root / PREVIOUS / f"{time.time_ns()}"
        aside.mkdir(parents=True)
        for name in ("out", "review"):
            if (root / name).exists():
                (root / name).rename(aside / name)
        return []
    rows = []
    t0 = time.perf_counter()
    write_campaign(root / "campaign.xlsx", content(units))
    rows.append(Row("setup: write campaign.xlsx", time.perf_counter() - t0, units, "units"))
    c = load_checked(root / "campaign.xlsx")
    log(f"generating {units} returns with {args.jobs} process(es) ...")
    t0 = time.perf_counter()
    defects = generate_returns(c, root / "inbox", args.seed, args.jobs, args.faulty)
    rows.append(Row(f"setup: generate returns ({args.jobs} proc)", time.perf_counter() - t0, units, "files"))
    (root / MARKER).write_text(json.dumps({**_wanted(args, units), "defects": defects}))
    return rows


def stages(root: Path, meter: Meter, units: int, jobs: int) -> dict:
    """Every stage of `thidua rank`, in this process (and its `jobs` workers), as workflow.run_collect,
    run_validate and run_rank chain them."""
    p = Paths(root)
    with meter.stage("load_checked campaign.xlsx", units, "units"):
        c = load_checked(p.campaign)

    # collect reads every new return in full (kept in out/cache/kept.sqlite); validate takes the readings from there
    with meter.stage(f"collect (and read, {jobs} proc)", per="files") as row:
        receipts = collect(c, [p.inbox], p.submissions, shelf=p.kept, jobs=jobs)
        row.count = len(receipts)

    with meter.stage("read: the readings kept by collect", per="files") as row:
        received = read_latest(c, p, receipts, jobs=jobs)
        row.count = len(received)

    # The rows' contract, checked once for all returns where the pipeline does it so (workflow.run_validate).
    check_rows = getattr(pipeline.read, "check_rows", None)
    if check_rows is not None:
        with meter.stage("read: check_rows (pandera, all returns)", len(received), "files"):
            check_rows([r.ret for r in received.values()])

    with meter.stage("validate", len(c.units), "units"):
        rejected = [r for r in receipts if r.status != "ok"]
        issues, values, valid = validate(c, received, rejected)

    v = Validation(c, issues, values, valid, received, receipts)
    with meter.stage("validation.xlsx (unit_summary + write)", len(c.units), "units"):
        write_validation(p.out / "validation.xlsx", c, issues, unit_summary(v))

    with meter.stage("score: matrix", len(valid), "units"):
        m = matrix(c, values)
    with meter.stage("score: totals", len(valid), "units"):
        t = totals(c, values, m)

    # The year end: every bloc head gets a review workbook and sends it back unchanged (read and checked
    # in full, each score compared with the self score), then votes, awards and the proposal lists.
    with meter.stage(f"review: write review workbooks ({jobs} proc)", len(c.blocs), "blocs"):
        ranked0 = rank(c, t)
        written = write_reviews(c, p.out / "review", m, ranked0, dt.datetime(2026, 12, 15), jobs=jobs,
                                record=p.written)
    (root / "review").mkdir(exist_ok=True)
    for path in written:
        shutil.copyfile(path, root / "review" / path.name)
    with meter.stage(f"review: read and check completed reviews ({jobs} proc)", len(c.blocs), "blocs"):
        current = self_scores(m)
        review_issues, reviewed, ballots = load_reviews(c, root / "review", m, jobs=jobs, current=current)
    with meter.stage("inputs: out/review/ untouched? what rank could not use", len(c.blocs), "blocs"):
        elsewhere = load_reviews(c, p.out / "review", m, jobs=jobs, skip=untouched(p.out / "review", p.written))[1:]
        review_issues += missing_inputs(c, valid, current, reviewed, ballots, elsewhere)
    with meter.stage("score with reviews (merge + totals + votes)", len(valid), "units"):
        m = with_review(m, reviewed)
        t = with_votes(c, totals(c, values, m), ballots)

    with meter.stage("rank", len(t), "units"):
        ranked = rank(c, t)

    with meter.stage("awards: propose", len(ranked), "units"):
        proposals, held = propose(c, ranked, set(c.registrations))
        heads, _ = succession(c, ballots)
        year_end = YearEnd(proposals, held, tally(c, ranked, ballots, []), ballots_frame(c, ballots), heads,
                           margins(c, ranked, 3))

    with meter.stage("report (unranked + write_results)", len(ranked), "units"):
        results = write_results(p.out / f"results-{c.settings.year}.xlsx", c, ranked, m, unranked_units(c, v),
                                issues + review_issues, year_end)
    with meter.stage("proposal workbook", len(proposals), "proposals"):
        write_proposal(p.out / f"proposal-{c.settings.year}.xlsx", c, proposals, held)

    kinds = ", ".join(f"{k}: {sum(x.kind == k for x in c.leaves)}" for k in KINDS)
    return {"campaign": f"{len(c.units)} units, {len(c.blocs)} blocs, {len(c.leaves)} leaves ({kinds}), {len(c.items)} items",
            "units": len(c.units), "receipts": len(receipts), "valid": len(valid), "ranked": len(ranked),
            "issues": len(issues), "errors": sum(i.severity == ERROR for i in issues),
            "codes": dict(collections.Counter(i.code for i in issues)), "results_mb": results.stat().st_size / 2**20,
            "stored": sorted({p.submissions / x.receipt.stored for x in received.values()})}


def run(root: Path, args, units: int) -> dict:
    """One size: set up (or reuse), time every stage, compare the readers; prints the report, returns the figures."""
    code = code_fingerprint()
    setup = prepare(root, args, units)
    warm(root / "inbox")
    defects = json.loads((root / MARKER).read_text()).get("defects", {})
    meter = Meter(trace=not args.no_trace)
    if meter.trace:
        tracemalloc.start()
    done = stages(root, meter, units, args.jobs)
    if meter.trace:
        tracemalloc.stop()
    # the stages' data is gone (what a batch run froze included, pool.settle): the readers are compared, and the
    # next size runs, without a big live heap for the GC to walk
    gc.unfreeze()
    gc.collect()

    log(f"calamine's bare read of all {len(done['stored'])} stored returns ...")
    floor_s = time_all(bare_read, done["stored"])
    sample = sorted(random.Random(args.seed).sample(done["stored"], min(len(done["stored"]), args.sample)))
    log(f"comparing readers on {len(sample)} files (tracemalloc off) ...")
    readers = compare_readers(sample)

    total_s = sum(r.seconds for r in meter.rows)
    ingest_ms = 1000 * sum(r.seconds for r in meter.rows if r.stage.startswith(("collect", "read"))) / max(1, done["receipts"])
    print(f"\nthidua benchmark: {done['campaign']}; workdir {root}")
    print(f"pipeline code: {code}")
    if defects:
        print(f"defects put in: {defects}")
    print(f"returns: {done['receipts']} received, {done['valid']} valid, {done['ranked']} ranked; "
          f"issues: {done['issues']} ({done['errors']} errors){' ' + repr(done['codes']) if done['codes'] else ''}; "
          f"results {done['results_mb']:.1f} MB; "
          f"tracemalloc {'on (its overhead is in the seconds: --no-trace for clean timings)' if meter.trace else 'off'}\n")
    rows = setup + meter.rows + [Row("pipeline stages total", total_s, done["units"], "units")]
    print(table(rows, meter.rss_per_stage))
    n = len(sample)
    print(f"\nreaders on the same {n} files (tracemalloc off), ms per file: project read_return "
          f"{readers['project_ms']:.1f}, calamine bare read {readers['calamine_ms']:.1f}, naive "
          f"pandas.read_excel(openpyxl) + openpyxl.load_workbook {readers['naive_ms']:.1f}")
    print("goals (issue 12), as ratios measured in this run:")
    print(f"  whole pipeline / calamine's bare read of every return: {total_s / floor_s:.1f}x (goal <= 6x; "
          f"{total_s:.1f} s against {floor_s:.1f} s)")
    print(f"  ingest (collect + read) per file / bare read per file: {ingest_ms / readers['calamine_ms']:.1f}x "
          f"(goal <= 2x; against the bare read of all {len(done['stored'])} returns above, "
          f"{ingest_ms / (1000 * floor_s / max(1, len(done['stored']))):.1f}x)")
    print(f"  naive reader / project reader: {readers['naive_ms'] / readers['project_ms']:.1f}x (goal >= 15x)")
    print(f"  peak RSS: {max(r.rss_peak or 0 for r in meter.rows):,.0f} MB (goal <= 2048 MB)")
    return {"units": done["units"], "stages": {r.stage: round(r.seconds, 4) for r in meter.rows},
            "total_s": round(total_s, 4), "peak_rss_mb": round(max(r.rss_peak or 0 for r in meter.rows), 1),
            "readers": {k: round(v, 3) for k, v in readers.items()}, "bare_read_all_s": round(floor_s, 4),
            "ingest_ms": round(ingest_ms, 3)}


def linearity(runs: list[dict]) -> None:
    """Per stage, its time at the largest size over its time at the smallest (goal: at most 1.1 x the size ratio)."""
    small, large = runs[0], runs[-1]
    factor = large["units"] / small["units"]
    print(f"\nlinearity: {large['units']} units against {small['units']} ({factor:g}x the units; goal per stage "
          f"<= {1.1 * factor:.1f}x)")
    for stage, seconds in large["stages"].items():
        base = small["stages"].get(stage)
        if base and base > 0.01:
            ratio = seconds / base
            print(f"  {stage:55} {ratio:6.1f}x{'  over' if ratio > 1.1 * factor else ''}")


def run_alone(root: Path, args, units: int) -> dict:
    """One size of several in a process of its own, as each `thidua` command runs: a size timed after another in
    the same process found the heap the first left behind (its stages that take new memory ran up to 1.6x
    slower than alone, measured), and the first size ran with cold caches."""
    figures = root / ".bench-figures.json"
    command = [sys.executable, str(Path(__file__).resolve()), "--units", str(units), "--workdir", str(root), "--keep",
               "--keep-previous", "--sample", str(args.sample), "--seed", str(args.seed), "--jobs", str(args.jobs),
               "--faulty", str(args.faulty), "--json", str(figures)]
    command += (["--reuse"] if args.reuse else []) + (["--no-trace"] if args.no_trace else [])
    subprocess.run(command, check=True)
    try:
        return json.loads(figures.read_text())
    finally:
        figures.unlink(missing_ok=True)


def main(argv=None) -> int:
    batch_gc()  # as `thidua` runs
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, nargs="+", default=[10000],
                    help="number of units (default 10000); several sizes (2000 10000) also print each stage's "
                         "growth from the smallest to the largest")
    ap.add_argument("--workdir", type=Path, help="empty or new folder (default: a new folder under /tmp); with "
                                                  "several sizes, one subfolder per size")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument("--reuse", action="store_true", help="reuse campaign.xlsx and inbox/ of a kept run of the same --units/--seed (implies --keep)")
    ap.add_argument("--sample", type=int, default=500, help="files for the reader comparison (default min(N, 500))")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--jobs", type=int, default=default_jobs(),
                    help=f"processes generating returns and running the stages (default: every core, {default_jobs()})")
    ap.add_argument("--faulty", type=float, default=0.0,
                    help="percent of returns given one defect (decimal comma, late, score over max, missing "
                         "explanation); default 0: every return valid")
    ap.add_argument("--no-trace", action="store_true", help="time the stages without tracemalloc")
    ap.add_argument("--json", type=Path, help="also write the figures: {units, stages, total_s, peak_rss_mb, readers}"
                                              " (a list of them for several sizes)")
    ap.add_argument("--keep-previous", action="store_true", help=argparse.SUPPRESS)  # a size run by the bench itself
    args = ap.parse_args(argv)
    if min(args.units) < 2:
        ap.error("--units must be at least 2")
    args.keep = args.keep or args.reuse  # a folder worth reusing is worth keeping
    base = args.workdir.resolve() if args.workdir else Path(tempfile.mkdtemp(prefix="thidua-bench-", dir="/tmp"))
    runs = []
    folder = lambda units: base / f"units-{units}" if len(args.units) > 1 or not args.workdir else base  # noqa: E731
    for units in sorted(args.units):
        root = folder(units)
        if root.exists() and any(root.iterdir()) and not _reusable(root, args, units):
            ap.error(f"{root} is not empty (give an empty or new folder, or --reuse one kept by a run "
                     f"with the same --units, --seed and --faulty)")
        root.mkdir(parents=True, exist_ok=True)
        try:
            runs.append(run(root, args, units) if len(args.units) == 1 else run_alone(root, args, units))
        finally:
            if not args.keep:
                shutil.rmtree(root, ignore_errors=True)
    if not args.keep_previous:
        for units in args.units:  # after every size is timed: a deletion slows the file creations that follow it
            discard_previous(folder(units))
    if len(runs) > 1:
        linearity(runs)
    if args.json:
        args.json.write_text(json.dumps(runs[0] if len(runs) == 1 else runs, indent=2, ensure_ascii=False))
    if args.keep:
        log(f"kept {base}")
    elif not args.workdir:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
