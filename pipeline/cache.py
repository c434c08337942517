"""thidua's own cache (out/cache/, safe to delete): what a run learnt from a file, kept for the next run under a
key of the file's bytes and of the code that read it, so a changed reader never serves an old reading.

Only ever written by thidua: an entry that cannot be loaded, or is not of the expected type, is a miss (the
file is read again), never an error.
"""
from __future__ import annotations

import hashlib
import pickle
from pathlib import Path
from types import ModuleType

from .workbook import atomic


def code_fingerprint(*modules: ModuleType, extra: str = "") -> str:
    """A short hash of the modules' source files (and `extra`, e.g. a library's version)."""
    h = hashlib.sha256(extra.encode())
    for module in modules:
        h.update(Path(module.__file__).read_bytes())
    return h.hexdigest()[:16]


def entry(folder: Path, *key: str) -> Path:
    """The file of the entry for `key` (its parts joined unambiguously) under `folder`."""
    return Path(folder) / f"{hashlib.sha256(chr(0).join(key).encode()).hexdigest()[:32]}.pickle"


def load(path: Path, kind: type):
    """The object kept at `path` if it is a `kind`, else None."""
    try:
        with open(path, "rb") as f:
            obj = pickle.load(f)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, TypeError, ValueError,
            IndexError, KeyError):
        return None
    return obj if isinstance(obj, kind) else None


def store(path: Path, obj) -> None:
    """Keep `obj` at `path`, written whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic(path) as tmp:
        tmp.write_bytes(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))
