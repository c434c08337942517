"""Score stage: validated values (+ reviewed scores) + Campaign -> criterion matrix and unit totals."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

from schemas import columns

from .campaign import Campaign, Criterion


def round_half_up(x: float, digits: int) -> float:
    """Rounding as officers do it (2,345 -> 2,35), not banker's rounding."""
    return float(Decimal(repr(round(x, 9))).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def target_score(k: Criterion, actual: float, best: float) -> float:
    """DOMAIN.md's target formula: below target 0.5·M·A/T, at target 0.5·M, the bloc's best M, between them linear."""
    m, t = k.max, k.target or 0.0
    if actual >= best and actual >= t:
        return m
    if actual < t:  # t > 0 here: an actual cannot be below a zero target
        return 0.5 * m * actual / t
    if best <= t:
        return 0.5 * m
    return 0.5 * m + 0.5 * m * (actual - t) / (best - t)


def deduction_score(k: Criterion, occurrences: float) -> float:
    return max(0.0, k.max - (k.step or 0.0) * occurrences)


def grade(c: Campaign, total: float) -> str:
    return next((name for name, low in c.settings.grades if total >= low), "Chưa hoàn thành")


def matrix(c: Campaign, values: pd.DataFrame, reviewed: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per unit and applicable leaf: max, self, reviewed, final score, and where it came from."""
    crit = values[values["section"] == "criteria"]
    leaves = {k.code: k for k in c.leaves}
    bloc_of = {u.code: u.bloc for u in c.units}
    crit = crit.assign(bloc=crit["unit"].map(bloc_of))
    # The bloc's best actual per target criterion, among the returns that count.
    best = crit.dropna(subset=["actual"]).groupby(["bloc", "code"])["actual"].max().to_dict()
    kept = ("unit", "code", "actual", "file", "sheet", "cell", "sha256")
    # column by column, no record per row; the values' own columns as they are typed (a list of 400,000 strings
    # is typed again by pandas: a third of the matrix), the new bloc column as a list
    out: dict[str, object] = {"bloc": crit["bloc"].tolist()}
    out.update((name, crit[name].array if len(crit) else crit[name].tolist()) for name in kept)
    groups, maxima, scores = [], [], []
    for bloc, code, actual, score in columns(crit, "bloc", "code", "actual", "score"):
        k = leaves[code]
        if k.kind == "chỉ tiêu":
            score = target_score(k, actual, best[(bloc, code)])
        elif k.kind == "trừ điểm":
            score = deduction_score(k, actual)
        groups.append(k.group)
        maxima.append(k.max)
        scores.append(score)
    out.update(group=groups, max=maxima, self=scores)
    m = pd.DataFrame(out, columns=["bloc", "unit", "code", "group", "max", "actual", "self", "file", "sheet", "cell",
                                   "sha256"])
    return with_review(m, reviewed)


REVIEW_COLUMNS = {"reviewed": "reviewed", "note": "review_note", "file": "review_file", "cell": "review_cell"}


def with_review(m: pd.DataFrame, reviewed: pd.DataFrame | None) -> pd.DataFrame:
    """The matrix with the bloc heads' reviewed scores (and where they were typed); `final` is the reviewed
    score where there is one, else the self score."""
    m = m.drop(columns=[*REVIEW_COLUMNS.values(), "final"], errors="ignore")
    if reviewed is not None and len(reviewed):
        m = m.merge(reviewed[["unit", "code", *REVIEW_COLUMNS]].rename(columns=REVIEW_COLUMNS),
                    on=["unit", "code"], how="left")
    else:
        m = m.assign(**{col: None for col in REVIEW_COLUMNS.values()})
    m["reviewed"] = m["reviewed"].astype("float64")
    m["final"] = m["reviewed"].fillna(m["self"]).astype("float64")
    return m


def _base(c: Campaign, unit_code: str, scores) -> float:
    """Sum of the criteria (`scores`: the unit's scores, or their sum), with not-applicable criteria handled by the
    campaign's policy."""
    total = float(scores.sum()) if hasattr(scores, "sum") else float(scores)
    left_out = _left_out(c, unit_code)
    if not left_out:
        return total
    if c.settings.na_policy == "du_diem":
        return total + sum(k.max for k in left_out)
    return total * _factor(c, left_out)


def _left_out(c: Campaign, unit_code: str) -> list:
    """The criteria that do not apply to the unit."""
    unit = c.unit(unit_code)
    return [k for k in c.leaves if not c.applies(k, unit)]


def _factor(c: Campaign, left_out: list) -> float:
    """quy_doi: the scale over the maxima of the criteria that apply."""
    return c.settings.scale / (sum(k.max for k in c.leaves) - sum(k.max for k in left_out))


def totals(c: Campaign, values: pd.DataFrame, m: pd.DataFrame) -> pd.DataFrame:
    """Per unit: self and reviewed totals, bonus, deductions, total, grade and group subtotals.

    Grouped once for all units (a look-up per unit of the whole matrix grows with the square of the campaign)."""
    s = c.settings
    kinds = {i.code: i.kind for i in c.items}
    bonus: dict[str, float] = {}
    deduction: dict[str, float] = {}
    claims = values[values["section"] == "items"]
    for unit, code, x in columns(claims, "unit", "code", "score"):
        into = bonus if kinds[code] == "thưởng" else deduction if kinds[code] == "trừ" else None
        if into is not None:
            into[unit] = into.get(unit, 0.0) + x
    groups = [k.code for k in c.criteria if k.parent is None]
    by_unit = m.groupby("unit", sort=False)
    sums = by_unit[["self", "final"]].sum()
    by_group = m.groupby(["unit", "group"], sort=False)["final"].sum().to_dict()
    rows = []
    for unit, self_sum, final_sum in zip(sums.index, sums["self"], sums["final"]):
        u = c.unit(unit)
        plus = min(s.bonus_cap, float(bonus.get(unit, 0.0)))
        minus = float(deduction.get(unit, 0.0))
        if s.deduction_cap is not None:
            minus = min(minus, s.deduction_cap)
        self_total = _base(c, unit, self_sum)
        final = _base(c, unit, final_sum)
        total = final + plus - minus
        if not s.allow_over_scale:
            total = min(total, s.scale)
        total = round_half_up(total, s.rounding)
        row = {"bloc": u.bloc, "unit": unit, "name": u.name, "short_name": u.short_name,
               "self_total": round_half_up(self_total, s.rounding),
               "reviewed_total": round_half_up(final, s.rounding),
               "bonus": plus, "deduction": minus, "total": total, "grade": grade(c, total)}
        left_out = _left_out(c, unit)
        if left_out:  # how a total with criteria that do not apply was reached (shown beside it)
            row["raw_total"] = round_half_up(float(final_sum), s.rounding)
            row["na_left_out"] = ", ".join(k.code for k in left_out)
            row["na_factor"] = round(_factor(c, left_out), 4) if s.na_policy == "quy_doi" else None
        for g in groups:
            # rounded so that equal subtotals reached by different sums compare equal in the tie-break
            row[f"group:{g}"] = round(float(by_group.get((unit, g), 0.0)), 9)
        rows.append(row)
    names = ["bloc", "unit", "name", "short_name", "self_total", "reviewed_total", "bonus", "deduction", "total",
             "grade", *(f"group:{g}" for g in groups)]
    if any("na_left_out" in r for r in rows):
        names += ["raw_total", "na_left_out", "na_factor"]
    return pd.DataFrame(rows, columns=names)  # the columns also when nobody has a valid return yet
