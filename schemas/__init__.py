"""Pandera contracts: one schema per sheet of campaign.xlsx and per stage boundary.

Each column carries its header as the schema's `title` (the exact text a person
sees in the workbook) and a `description`; readers map headers to column names
through these schemas, so the contract lives in one place.
"""

import pandas as pd
import pandera.pandas as pa


def frame(rows: list[dict], schema: pa.DataFrameSchema) -> pd.DataFrame:
    """Rows as a frame the schema accepts, also when there are none: float columns as float64, text columns
    as Python objects (str), or as str when empty, where pandas cannot tell an empty object column's type."""
    out = pd.DataFrame(rows, columns=list(schema.columns))
    floats = [k for k, col in schema.columns.items() if str(col.dtype) == "float64"]
    texts = [k for k, col in schema.columns.items() if str(col.dtype).startswith("str")]
    out[floats] = out[floats].astype("float64")
    return out.astype({k: str if out.empty else object for k in texts})
