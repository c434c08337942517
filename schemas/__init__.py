"""Pandera contracts: one schema per sheet of campaign.xlsx and per stage boundary.

Each column carries its header as the schema's `title` (the exact text a person
sees in the workbook) and a `description`; readers map headers to column names
through these schemas, so the contract lives in one place.
"""

from __future__ import annotations


def contracts(namespace: dict, build):
    """A module's __getattr__ (PEP 562) that builds its pandera schemas, `build()`, on first use: the constants
    beside them (sheet names, headers) are read by `collect`, which never needs pandas or pandera (~0.9 s to
    import)."""
    def __getattr__(name: str):
        if not namespace.get("_built"):
            namespace["_built"] = True
            namespace.update(build())
            if name in namespace:
                return namespace[name]
        raise AttributeError(f"module {namespace['__name__']!r} has no attribute {name!r}")
    return __getattr__


def frame(rows: list[dict], schema) -> "pd.DataFrame":
    """Rows as a frame the schema accepts, also when there are none: float columns as float64, values as typed
    (object) kept as objects, text columns as pandas infers them: `str` where every value is text (pandera checks
    that dtype once, not each value), object where one is not (and the contract reports it), str when empty."""
    import pandas as pd

    out = pd.DataFrame(rows, columns=list(schema.columns))
    kinds = {k: str(col.dtype) for k, col in schema.columns.items()}
    floats = [k for k, kind in kinds.items() if kind == "float64"]
    out[floats] = out[floats].astype("float64")
    return out.astype({k: (str if kind.startswith("str") else object) for k, kind in kinds.items()
                       if kind == "object" or kind.startswith("str") and out.empty})


def columns(df, *names: str):
    """The values of `names`, row by row, as plain Python values: a zip of the columns as lists (iterating a
    pandas string column yields one boxed element at a time, several times slower at a campaign's size)."""
    return zip(*(df[n].tolist() for n in names))
