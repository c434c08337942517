"""Covenant check: campaign.xlsx -> Campaign plus every problem in it, each at its sheet and cell."""
from __future__ import annotations

import math
import re
from pathlib import Path

from schemas import campaign as S

from .campaign import AWARDS, CONDITIONS, Campaign, build, read_settings
from .issues import ERROR, WARNING, Issue, ThiduaError
from .workbook import Book, Table, check_table, read_table, vn as _n


def load_campaign(path: Path) -> tuple[Campaign | None, list[Issue]]:
    """Read and check campaign.xlsx: the campaign (None when it cannot be built) and every problem found."""
    path = Path(path)
    if not path.is_file():
        raise ThiduaError(f"Không tìm thấy {path} (campaign workbook not found)")
    try:
        book = Book(path)
    except Exception as e:  # calamine raises several types for a file that is not a workbook
        raise ThiduaError(f"Không đọc được {path}: {e} (unreadable workbook)") from None
    file = path.name
    tables: dict[str, Table] = {}
    issues: list[Issue] = []
    for schema in S.SHEETS:
        try:
            table, found = read_table(book, schema, file)
        except Exception as e:  # a damaged sheet inside a readable zip
            raise ThiduaError(f"Không đọc được trang “{schema.name}” của {path}: {e} (damaged workbook)") from None
        issues += found
        if table is not None:
            # a cell already reported as not a number is not reported again as blank
            bad = {i.cell for i in found if i.code == "not_a_number"}
            issues += [i for i in check_table(table, schema, file) if not (i.code == "value_required" and i.cell in bad)]
            tables[schema.name] = table
    settings = None
    if S.SETTINGS.name in tables:
        settings, found = read_settings(tables[S.SETTINGS.name], file)
        issues += found
    if settings is None or any(s.name not in tables for s in (S.BLOCS, S.UNITS, S.CRITERIA)):
        return None, issues
    campaign = build(settings, tables)
    issues += cross_check(campaign, tables, file)
    return campaign, issues


def load_checked(path: Path, warnings: list[Issue] | None = None) -> Campaign:
    """The campaign for a stage that needs a sound covenant; any error in it stops the run. The warnings are
    added to `warnings` when given."""
    campaign, issues = load_campaign(path)
    if warnings is not None:
        warnings += [i for i in issues if i.severity != ERROR]
    errors = [i for i in issues if i.severity == ERROR]
    if campaign is None or errors:
        first = (errors or issues)[0]
        raise ThiduaError(f"{Path(path).name} có {len(errors)} lỗi, chạy `thidua check` để xem; "
                          f"lỗi đầu tiên: {first.where()}: {first.message()}")
    return campaign


class _At:
    """Finds the cell of a value on a campaign sheet, for pointing issues at it."""

    def __init__(self, tables: dict[str, Table], file: str):
        self.tables, self.file = tables, file

    def __call__(self, issue: str, schema, key_column: str, key, column: str, severity=ERROR, nth: int | None = None,
                 **params) -> Issue:
        """The issue at `column` of the row whose `key_column` is `key` (or of the nth data row, where keys repeat)."""
        table = self.tables.get(schema.name)
        cell = ""
        if table is not None:
            rows = table.frame.index if nth is not None else table.frame.index[table.frame[key_column] == key]
            row = rows[nth or 0] if len(rows) > (nth or 0) else None
            if row is not None:
                cell = table.cell(column, int(row))
        return Issue(issue, severity, file=self.file, sheet=schema.name, cell=cell, params=params)


def cross_check(c: Campaign, tables: dict[str, Table], file: str) -> list[Issue]:
    at = _At(tables, file)
    return (_blocs_and_units(c, at) + _criteria(c, at) + _items(c, at) + _awards(c, at) + _history(c, at))


def _blocs_and_units(c: Campaign, at: _At) -> list[Issue]:
    issues = []
    blocs = {b.code for b in c.blocs}
    for u in c.units:
        if u.bloc and u.bloc not in blocs:
            issues.append(at("unknown_bloc", S.UNITS, "code", u.code, "bloc", bloc=u.bloc))
    issues += _emails(c, at)
    for b in c.blocs:
        members = {u.code for u in c.members(b.code)}
        if not members:
            issues.append(at("empty_bloc", S.BLOCS, "code", b.code, "code", bloc=b.code))
        for role, column, unit in (("Trưởng khối", "head", b.head), ("Phó khối", "deputy", b.deputy)):
            if unit and unit not in members:
                issues.append(at("head_not_member", S.BLOCS, "code", b.code, column, role=role, unit=unit, bloc=b.code))
        if b.head and b.head == b.deputy:
            issues.append(at("head_is_deputy", S.BLOCS, "code", b.code, "deputy", bloc=b.code))
    return issues


def _emails(c: Campaign, at: _At) -> list[Issue]:
    """Mail needs every unit's address, and one address per unit to tell who sent a return."""
    issues = [at("email_missing", S.UNITS, "code", u.code, "email", WARNING, unit=u.code) for u in c.units if not u.email]
    owners: dict[str, list[str]] = {}
    for u in c.units:
        if u.email:
            owners.setdefault(u.email.lower(), []).append(u.code)
    issues += [at("email_shared", S.UNITS, "code", codes[1], "email", WARNING, email=email, units=", ".join(codes))
               for email, codes in owners.items() if len(codes) > 1]
    return issues


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, abs_tol=1e-9)


def _criteria(c: Campaign, at: _At) -> list[Issue]:
    issues = []
    codes = {k.code for k in c.criteria}
    targets = {b.code for b in c.blocs} | {u.code for u in c.units}
    children: dict[str, list] = {}
    for k in c.criteria:
        if k.parent is not None:
            children.setdefault(k.parent, []).append(k)
            if k.parent not in codes:
                issues.append(at("criterion_orphan", S.CRITERIA, "code", k.code, "code", code=k.code, parent=k.parent))
        root = k.code.split(".")[0]
        if k.group != root:
            issues.append(at("criterion_group", S.CRITERIA, "code", k.code, "group", code=k.code, expected=root))
        is_leaf = k.code not in {x.parent for x in c.criteria}
        if is_leaf != bool(k.kind):
            issues.append(at("criterion_kind", S.CRITERIA, "code", k.code, "kind", code=k.code))
        if k.kind == "trừ điểm" and k.step is None:
            issues.append(at("step_missing", S.CRITERIA, "code", k.code, "step", code=k.code, kind=k.kind))
        if k.kind in ("điểm", "trừ điểm") and k.step and not _close(round(k.max / k.step), k.max / k.step):
            issues.append(at("step_divides", S.CRITERIA, "code", k.code, "step", step=_n(k.step), max=_n(k.max)))
        if k.kind == "chỉ tiêu" and k.target is None:
            issues.append(at("target_missing", S.CRITERIA, "code", k.code, "target", code=k.code))
        for t in k.applies_to:
            if t not in targets:
                issues.append(at("applies_unknown", S.CRITERIA, "code", k.code, "applies_to", value=t))
    for parent, kids in children.items():
        node = next((k for k in c.criteria if k.code == parent), None)
        total = sum(k.max for k in kids)
        if node is not None and not _close(total, node.max):
            issues.append(at("sum_mismatch", S.CRITERIA, "code", parent, "max", code=parent, total=_n(total), expected=_n(node.max)))
    roots = [k for k in c.criteria if k.parent is None]
    total = sum(k.max for k in roots)
    if roots and not _close(total, c.settings.scale):
        issues.append(at("scale_mismatch", S.CRITERIA, "code", roots[0].code, "max", total=_n(total), scale=_n(c.settings.scale)))
    return issues


def _items(c: Campaign, at: _At) -> list[Issue]:
    return [at("item_cap", S.ITEMS, "code", i.code, "cap", cap=_n(i.cap), points=_n(i.points))
            for i in c.items if i.cap < i.points]


_CONDITION_VALUE = {"lien_tuc_xuat_sac": re.compile(r"^[1-9]$"), "da_nhan": re.compile("^(" + "|".join(AWARDS) + ")$")}


def _awards(c: Campaign, at: _At) -> list[Issue]:
    issues = []
    known = ", ".join(AWARDS)
    for n, r in enumerate(c.award_rules):
        key = ("code", r.code)  # codes repeat (two routes to one award): point at the nth row
        if r.code not in AWARDS:
            issues.append(at("award_unknown", S.AWARD_RULES, *key, "code", nth=n, award=r.code, known=known))
        for name, value in r.conditions:
            if name not in CONDITIONS or not _CONDITION_VALUE[name].match(value):
                issues.append(at("condition_invalid", S.AWARD_RULES, *key, "conditions", nth=n, condition=f"{name}={value}".rstrip("="),
                                 known="; ".join(f"{k}={v.split(':')[0]}" for k, v in CONDITIONS.items())))
        if r.rank_from and r.rank_to and r.rank_from > r.rank_to:
            issues.append(at("rank_range", S.AWARD_RULES, *key, "rank_to", nth=n, low=r.rank_from, high=r.rank_to))
        if r.quota is not None and r.quota_share is not None:
            issues.append(at("quota_both", S.AWARD_RULES, *key, "quota_share", nth=n))
    for n, (unit, award) in enumerate(c.registrations):
        if award not in AWARDS:
            issues.append(at("award_unknown", S.REGISTRATIONS, "unit", unit, "award", nth=n, award=award, known=known))
    return issues


def _history(c: Campaign, at: _At) -> list[Issue]:
    units = {u.code for u in c.units}
    # A unit merged or renamed since keeps its history rows: a warning, not an error.
    issues = [at("unknown_unit", S.HISTORY, "unit", h.unit, "unit", WARNING, unit=h.unit) for h in c.history if h.unit not in units]
    issues += [at("unknown_unit", S.REGISTRATIONS, "unit", u, "unit", nth=n, unit=u)
               for n, (u, _) in enumerate(c.registrations) if u not in units]
    return list(dict.fromkeys(issues))
