"""Both cores: a function mapped over work items by a pool of processes, results in the items' order.

The output is the same whatever the number of processes: results come back in order and the callers write
them in that order. `shared` (the campaign, a cache folder) reaches the workers by fork, never pickled per item.
"""
from __future__ import annotations

import gc
import multiprocessing
import os
from typing import Callable, Iterable, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# Fewer items than this are not worth starting processes for (a fork costs a few milliseconds).
SERIAL_BELOW = 16

_WORK: tuple | None = None  # (function, shared) for the forked workers


# A run builds millions of small objects (rows, cells, receipts) that live until it ends: with Python's default
# thresholds the collector walks them again every 700 allocations, a tenth of the time of a large campaign's read.
GC_THRESHOLDS = (50_000, 20, 100)
_BATCH = False  # a batch run (thidua, the benchmark): what a stage keeps is frozen, see settle


def batch_gc() -> None:
    """The collector tuned for a batch run (cycles are still collected, only less often); forked workers inherit it."""
    global _BATCH
    gc.set_threshold(*GC_THRESHOLDS)
    _BATCH = True


def settle() -> None:
    """In a batch run, every object alive now (what the stages so far made: readings, values, frames, which live
    to the end of the run) moves out of the collector's sight. Else each later full collection walks them all
    again: at 10,000 units, reading the kept readings took 0.7 s alone and 1.5-1.9 s beside an earlier stage's
    (measured). Cycles made later are still collected; elsewhere (tests, a library caller) this does nothing."""
    if _BATCH:
        gc.freeze()


def default_jobs() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _call(item):
    fn, shared = _WORK
    return fn(shared, item)


def pmap(fn: Callable[[object, T], R], items: Iterable[T], shared=None, jobs: int | None = None,
         progress: Callable[[R], None] = lambda result: None) -> list[R]:
    """[fn(shared, item) for item in items], on `jobs` processes (default: every core); `progress` is called in
    this process after each result, in order."""
    global _WORK
    items = list(items)
    jobs = min(jobs or default_jobs(), len(items))
    if jobs <= 1 or len(items) < SERIAL_BELOW or "fork" not in multiprocessing.get_all_start_methods():
        results = []
        for item in items:
            results.append(fn(shared, item))
            progress(results[-1])
        return results
    _WORK = (fn, shared)
    # The parent's objects move out of the collector's sight before the fork: a worker's garbage collection then
    # never walks (and so never copies, page by page) the campaign-sized heap it inherited.
    gc.freeze()
    try:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            results = []
            # chunks: small enough that progress moves and that the last ones end together (a chunk of 25 review
            # workbooks is ~2 s one core may wait at the end; of 6, at 10,000 units, 0.15 s), large enough that
            # sending them costs nothing (a hundredth of a worker's share: 50 returns, 2 review workbooks)
            for result in pool.imap(_call, items, chunksize=max(1, min(64, len(items) // (jobs * 100)))):
                results.append(result)
                progress(result)
            return results
    finally:
        _WORK = None
        if not _BATCH:  # a batch run keeps them frozen (settle)
            gc.unfreeze()
