"""Validate stage: returns (long frames) + Campaign -> Issues, and the values of the returns that count."""
from __future__ import annotations

import math
from collections import namedtuple
from dataclasses import dataclass

import pandas as pd

from schemas import frame
from schemas import returns as R

from .campaign import Campaign, Criterion, Unit
from .collect import Receipt
from .issues import ERROR, WARNING, Issue
from .pool import settle
from .read import Return
from .templates import TEMPLATE_VERSION, computed
from .workbook import number, vn as _n, vn_time


# A file refused for one of these causes is reported once, for that cause: nothing else is said about it.
FILE_CAUSES = ("unreadable", "encrypted", "macro", "oversized", "too_large", "unsafe_xml", "html_file", "pdf_file",
               "not_a_workbook")
# One file reports at most this many issues of one kind; the rest are one summary line (more_issues).
PER_KIND = 5

# One validated value, in the columns of schemas.returns.VALUES: a tuple, not a dict (10,000 returns make 470,000).
Value = namedtuple("Value", R.VALUE_COLUMNS)


@dataclass(frozen=True)
class Received:
    """The version of a unit's return that counts, with every version received."""

    ret: Return
    receipt: Receipt
    versions: tuple[Receipt, ...]


def on_step(value: float, step: float) -> bool:
    q = value / step
    return math.isclose(q, round(q), abs_tol=1e-9)


def score_issues(k: Criterion, x: float, where: dict) -> list[Issue]:
    """A score against its criterion: pass/fail takes max or 0; else 0..max on the step. `where`: Issue position."""
    if k.kind == "đạt/không đạt" and x not in (0, k.max):
        return [Issue("pass_fail", **where, params={"value": _n(x), "max": _n(k.max)})]
    if not 0 <= x <= k.max:
        return [Issue("score_range", **where, params={"value": _n(x), "max": _n(k.max)})]
    if k.step and not on_step(x, k.step):
        return [Issue("score_step", **where, params={"value": _n(x), "step": _n(k.step)})]
    return []


def validate_return(c: Campaign, ret: Return, receipt: Receipt | None = None) -> tuple[list[Issue], list[Value]]:
    """Every problem of one return, and its values (numbers parsed) for scoring."""
    meta, file = ret.meta, (receipt.original if receipt else ret.file)
    code = meta.get("unit_code", "")
    at = lambda sheet="", cell="": dict(unit=code, file=file, sheet=sheet, cell=cell)  # noqa: E731
    issues = [Issue(i.code, i.severity, code, file, i.sheet, i.cell, i.params) for i in ret.issues]
    if any(i.code in FILE_CAUSES for i in issues):
        return [i for i in issues if i.code in FILE_CAUSES][:1], []
    found, values = _checked(c, ret, receipt, meta, file, code, at)
    return cap_issues(issues + found, file, code), values


def _checked(c: Campaign, ret: Return, receipt, meta: dict, file: str, code: str, at) -> tuple[list[Issue], list[Value]]:
    issues: list[Issue] = []
    meta_at = at(R.META_SHEET)
    if meta.get("campaign_id") != c.settings.campaign_id:
        return issues + [Issue("wrong_campaign", **meta_at, params={"found": meta.get("campaign_id", ""),
                                                                    "expected": c.settings.campaign_id})], []
    unit = c.unit(code)
    if unit is None:
        return issues + [Issue("unknown_unit", **meta_at, params={"unit": code})], []
    if meta.get("bloc_code") != unit.bloc:
        issues.append(Issue("bloc_mismatch", **meta_at, params={"found": meta.get("bloc_code", ""), "expected": unit.bloc}))
    if meta.get("template_version") != TEMPLATE_VERSION:
        issues.append(Issue("outdated_template", **meta_at, params={"found": meta.get("template_version", "?"),
                                                                    "expected": TEMPLATE_VERSION}))
    if meta.get("criteria_digest") != c.digest:
        issues.append(Issue("criteria_changed", **meta_at))
    sha = receipt.sha256 if receipt else ""
    rows = ret.rows
    criteria = [r for r in rows if r.section == "criteria"]
    found, values = _criteria(c, unit, criteria, at, file, sha, ret.formulas)
    if not len(criteria) and any(i.code in ("sheet_missing", "header_missing") for i in ret.issues):
        found = [i for i in found if i.code != "criterion_missing"]  # one cause: the sheet, said once
    issues += found
    found, items = _items(c, [r for r in rows if r.section == "items"], at, file, sha, ret.formulas)
    return issues + found, values + items


def _input(value, cell: str, at, sheet: str, issues: list, formulas: dict) -> tuple[float | None, bool, bool]:
    """(number, ok, formula_unsaved) of an input cell. `formulas`: (sheet, A1) -> whether Excel saved the value of
    the formula there. A formula in an input cell is a warning; one whose value Excel never saved (a file written
    by a script) is its own error (open the file in Excel and save it), not a missing score."""
    saved = formulas.get((sheet, cell))
    if saved is False:
        issues.append(Issue("formula_no_value", ERROR, **at(sheet, cell)))
        return None, False, True
    if saved is True:
        issues.append(Issue("formula_input", WARNING, **at(sheet, cell)))
    x, ok = read_number(value, cell, at, sheet, issues)
    return x, ok, False


def cap_issues(issues: list[Issue], file: str, unit: str) -> list[Issue]:
    """At most PER_KIND issues of one code and severity from one file; the others become one summary line
    ("và 99.990 dòng khác"), so a sheet of junk rows gives a readable report."""
    kept, extra = [], {}
    seen: dict[tuple[str, str], int] = {}
    for i in issues:
        key = (i.code, i.severity)
        seen[key] = seen.get(key, 0) + 1
        if seen[key] <= PER_KIND:
            kept.append(i)
        else:
            extra.setdefault(key, [0, i])[0] += 1
    for (code, severity), (count, first) in extra.items():
        kept.append(Issue("more_issues", severity, unit, file, first.sheet, "",
                          params={"count": f"{count:,}".replace(",", "."), "code": code}))
    return kept


def read_number(value, cell: str, at, sheet: str, issues: list) -> tuple[float | None, bool]:
    """(number, ok): a guessed number gets a warning; text such as "mười" an error."""
    x, guess = number(value)
    if guess == "not_a_number":
        issues.append(Issue("not_a_number", ERROR, **at(sheet, cell), params={"value": _shown(value)}))
        return None, False
    if guess:
        issues.append(Issue(guess, WARNING, **at(sheet, cell), params={"value": _shown(value), "number": _n(x)}))
    return x, True


def _shown(value, limit: int = 60) -> str:
    """A cell's value as quoted in a message: never thousands of characters in one line of Lỗi."""
    s = str(value)
    return s if len(s) <= limit else s[:limit] + "…"


def _criteria(c: Campaign, unit: Unit, rows: list, at, file: str, sha: str,
              formulas: dict) -> tuple[list[Issue], list[Value]]:
    issues, values = [], []
    tree = {k.code: k for k in c.criteria_for(unit)}
    leaves = {k.code: k for k in c.leaves if k.code in tree}
    seen: set[str] = set()
    for row in rows:
        if row.code not in tree:
            issues.append(Issue("criterion_unknown", **at(row.sheet, row.code_cell), params={"code": row.code}))
            continue
        if row.code in seen:
            issues.append(Issue("criterion_duplicate", **at(row.sheet, row.code_cell), params={"code": row.code}))
            continue
        seen.add(row.code)
        if row.code in leaves:
            found, value = _leaf(leaves[row.code], row, at, formulas)
            issues += found
            if value is not None:
                score, actual, cell = value
                values.append(Value(unit.code, "criteria", row.code, score, actual, row.explanation, file, row.sheet,
                                    cell, sha))
    sheet = rows[0].sheet if rows else R.SCORE_SHEET
    issues += [Issue("criterion_missing", **at(sheet), params={"code": k}) for k in leaves if k not in seen]
    return issues, values


def _leaf(k: Criterion, row, at, formulas: dict) -> tuple[list[Issue], tuple | None]:
    """The issues of one criterion's row, and its (score, actual, cell) where it counts."""
    issues: list[Issue] = []
    if computed(k):
        cell = row.actual_cell
        x, ok, _ = _input(row.actual, cell, at, row.sheet, issues, formulas)
        if x is None and ok and k.kind == "trừ điểm":
            # a blank count is taken as none, never silently: the unit is told what was assumed
            issues.append(Issue("count_blank", WARNING, **at(row.sheet, cell), params={"code": k.code}))
            x = 0.0
        if x is None:
            if ok:
                issues.append(Issue("actual_missing", **at(row.sheet, cell), params={"code": k.code}))
            return issues, None
        if x < 0:
            issues.append(Issue("actual_negative", **at(row.sheet, cell), params={"value": _n(x)}))
        below = x > 0 if k.kind == "trừ điểm" else x < (k.target or 0)
        value = (None, x, cell)
    else:
        cell = row.score_cell
        x, ok, _ = _input(row.score, cell, at, row.sheet, issues, formulas)
        if x is None:
            if ok:
                issues.append(Issue("score_missing", **at(row.sheet, cell), params={"code": k.code}))
            return issues, None
        issues += score_issues(k, x, at(row.sheet, cell))
        below = x < k.max
        value = (x, None, cell)
    needs = k.explanation == "luôn" or (k.explanation == "khi chưa tối đa" and below)
    if needs and not row.explanation:
        issues.append(Issue("explanation_missing", **at(row.sheet, row.explanation_cell), params={"code": k.code}))
    return issues, value


def _items(c: Campaign, rows: list, at, file: str, sha: str, formulas: dict) -> tuple[list[Issue], list[Value]]:
    """Bonus and deduction claims, handled like scores: over an item's cap, off its step (its points per
    occurrence) or below 0, a claim is capped, not counted or an error as `claim_policy` says, at its cell."""
    issues, values = [], []
    items = {i.code: i for i in c.items}
    bonus = 0.0
    for row in rows:
        item = items.get(row.code)
        if item is None:
            issues.append(Issue("criterion_unknown", **at(row.sheet, row.code_cell), params={"code": row.code}))
            continue
        x, ok, unsaved = _input(row.score, row.score_cell, at, row.sheet, issues, formulas)
        if x is None and ok and not unsaved and row.explanation:
            issues.append(Issue("claim_blank", WARNING, **at(row.sheet, row.score_cell), params={"code": item.code}))
        if x is None or x == 0:
            continue
        x = _claim(c, item, x, at(row.sheet, row.score_cell), issues)
        if x is None:
            continue
        if item.kind == "thưởng":
            bonus += x
        values.append(Value(row.unit, "items", row.code, x, None, row.explanation, file, row.sheet, row.score_cell,
                            sha))
    if bonus > c.settings.bonus_cap:
        sheet = rows[0].sheet if rows else R.ITEMS_SHEET
        issues.append(Issue("bonus_over_cap", WARNING, **at(sheet), params={"total": _n(bonus), "cap": _n(c.settings.bonus_cap)}))
    return issues, values


def _claim(c: Campaign, item, x: float, where: dict, issues: list) -> float | None:
    """The points a claim counts for. `cat` (the default) caps it at the item's cap and takes it to its step
    (a bonus down, a deduction up: never in the unit's favour), like the total cap; `bo` drops the claim; `loi`
    makes it an error that stops the return, the officer's choice."""
    policy = c.settings.claim_policy
    severity = ERROR if policy == "loi" else WARNING
    counted = x
    if x < 0:
        code, counted, params = "claim_negative", None, {"value": _n(x), "code": item.code}
    elif x > item.cap:
        code, counted, params = "item_over_cap", item.cap, {"value": _n(x), "cap": _n(item.cap), "code": item.code}
    elif item.points and not on_step(x, item.points):
        q = x / item.points
        steps = math.floor(q + 1e-9) if item.kind == "thưởng" else math.ceil(q - 1e-9)
        counted = min(item.cap, steps * item.points)
        code, params = "claim_step", {"value": _n(x), "step": _n(item.points), "code": item.code}
    else:
        return x
    if policy != "cat" or not counted:
        counted = None
    issues.append(Issue(code, severity, **where, params={**params, "counted": _n(counted or 0)}))
    return counted


def screen_senders(c: Campaign, receipts: list[Receipt]) -> tuple[list[Receipt], list[Issue]]:
    """Mailed files against who mailed them: from another unit's address (not a trusted one) a file does not
    count, so the unit's earlier valid version stands; from an address that is no unit's, a warning."""
    owners = {u.email.lower(): u.code for u in c.units if u.email}
    trusted = set(c.settings.mail_trusted)
    kept, issues = [], []
    for r in receipts:
        owner = owners.get(r.sender)
        if r.status != "ok" or not r.sender or r.sender in trusted or owner == r.unit:
            kept.append(r)
        elif owner is None:
            kept.append(r)
            issues.append(Issue("sender_unknown", WARNING, r.unit, r.original, params={"sender": r.sender}))
        else:
            issues.append(Issue("sender_other_unit", ERROR, r.unit, r.original,
                                params={"unit": r.unit, "sender": r.sender, "owner": owner}))
    return kept, list(dict.fromkeys(issues))


def validate(c: Campaign, received: dict[str, Received], rejected: list[Receipt] = ()) -> tuple[list[Issue], pd.DataFrame, set[str]]:
    """All returns in one pass: every issue, the values of the valid returns, and the units whose return counts."""
    issues: list[Issue] = []
    values: list[Value] = []
    valid: set[str] = set()
    deadline = c.settings.deadline.isoformat()
    for r in rejected:
        params = {"found": r.campaign_id, "expected": c.settings.campaign_id, "unit": r.unit, "reason": r.note,
                  "size": r.note, "limit": _n(c.settings.max_file_mb), "kind": r.note}
        issues.append(Issue(r.status, ERROR, r.unit if c.unit(r.unit) else "", r.original, params=params))
    for u in c.units:
        got = received.get(u.code)
        if got is None:
            issues.append(Issue("no_return", ERROR, u.code))
            continue
        found, vals = validate_return(c, got.ret, got.receipt)
        if got.receipt.received[:10] > deadline:
            found.append(Issue("late", WARNING, u.code, got.receipt.original,
                               params={"received": vn_time(got.receipt.received), "deadline": vn_time(deadline)}))
        if len(got.versions) > 1:
            found.append(Issue("superseded", WARNING, u.code, got.receipt.original,
                               params={"count": len(got.versions), "received": vn_time(got.receipt.received),
                                       "file": got.receipt.original}))
        issues += found
        if not any(i.severity == ERROR for i in found):
            valid.add(u.code)
            values += vals
    checked = R.VALUES.validate(frame(values, R.VALUES))
    settle()  # the values live to the end of the run
    return issues, checked, valid
