"""thidua's own cache (out/cache/kept.sqlite, safe to delete): what a run learnt from a file, kept for the next run
under a key of the file's bytes and of the code that read it, so a changed reader never serves an old reading.

One SQLite file, not a file per entry: 10,000 returns cost 10,000 file creations and opens otherwise (on ext4
the creations alone were a quarter of collect's time). Only ever written by thidua: an entry that cannot be loaded,
or is not of the expected type, is a miss (the file is read again), a damaged database is started afresh, and a
cache that cannot be written only makes the next run slower; none of them is ever an error.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import sqlite3
from pathlib import Path
from types import ModuleType

# Keys per SELECT (SQLite's limit on bound parameters is 999 in older builds).
BATCH = 900


def code_fingerprint(*modules: ModuleType, extra: str = "") -> str:
    """A short hash of the modules' source files (and `extra`, e.g. a library's version)."""
    h = hashlib.sha256(extra.encode())
    for module in modules:
        h.update(Path(module.__file__).read_bytes())
    return h.hexdigest()[:16]


def key(*parts: str) -> str:
    """One key for `parts`, joined unambiguously."""
    return hashlib.sha256(chr(0).join(parts).encode()).hexdigest()[:32]


class Shelf:
    """Kept objects by key in one SQLite file. `put` holds new entries in memory and `flush` writes them in one
    transaction: a pool's worker hands its entries back to the parent (`taken`), which alone writes the file."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.pending: dict[str, bytes] = {}
        self._db: sqlite3.Connection | None = None
        self._pid = 0

    def _connect(self) -> sqlite3.Connection:
        if self._db is None or self._pid != os.getpid():  # a forked worker never uses its parent's connection
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=60)
            self._db.execute("PRAGMA synchronous = OFF")  # a cache: a lost write is a miss, not a loss
            self._db.execute("CREATE TABLE IF NOT EXISTS kept (key TEXT PRIMARY KEY, value BLOB NOT NULL)")
            self._pid = os.getpid()
        return self._db

    def get_many(self, keys: list[str], kind: type) -> dict[str, object]:
        """key -> the object kept under it, for the keys that have one of type `kind`."""
        found = {k: v for k, v in ((k, _loads(self.pending[k])) for k in keys if k in self.pending)}
        wanted = [k for k in keys if k not in found]
        if wanted and self.path.is_file():
            try:
                db = self._connect()
                for i in range(0, len(wanted), BATCH):
                    part = wanted[i:i + BATCH]
                    rows = db.execute(f"SELECT key, value FROM kept WHERE key IN ({','.join('?' * len(part))})", part)
                    found.update((k, _loads(v)) for k, v in rows)
            except (sqlite3.Error, OSError):
                self.close()
        return {k: v for k, v in found.items() if isinstance(v, kind)}

    def get(self, key: str, kind: type):
        return self.get_many([key], kind).get(key)

    def put(self, key: str, obj) -> None:
        self.pending[key] = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)

    def taken(self) -> dict[str, bytes]:
        """The entries put since the last call (a worker's, for its parent to `keep`), no longer pending here."""
        taken, self.pending = self.pending, {}
        return taken

    def keep(self, entries: dict[str, bytes]) -> None:
        self.pending.update(entries)

    def flush(self) -> None:
        """Write the pending entries; a damaged file is replaced by a new one, an unwritable one left alone."""
        entries = self.taken()
        for attempt in (1, 2):
            if not entries:
                return
            try:
                with self._connect() as db:
                    db.executemany("INSERT OR REPLACE INTO kept (key, value) VALUES (?, ?)", entries.items())
                return
            except (sqlite3.Error, OSError) as e:
                self.close()
                if type(e) is sqlite3.DatabaseError and attempt == 1:  # not a database, or a damaged one: ours
                    self.path.unlink(missing_ok=True)
                    continue
                return  # a full or read-only disk: the next run reads the files again

    def close(self) -> None:
        if self._db is not None and self._pid == os.getpid():
            self._db.close()
        self._db = None


def _loads(data: bytes):
    try:
        return pickle.loads(data)
    except (EOFError, pickle.UnpicklingError, AttributeError, ImportError, TypeError, ValueError, IndexError,
            KeyError, MemoryError):
        return None
