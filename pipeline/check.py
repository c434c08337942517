"""Covenant check: campaign.xlsx -> Campaign plus every problem in it, each at its sheet and cell."""
from __future__ import annotations

import hashlib
import math
import re
import sys
from dataclasses import replace
from pathlib import Path

from schemas import campaign as S

from .campaign import (AWARDS, EXAMPLE_CODE, EXAMPLE_MARK, OLD_HEADERS, Campaign, build, canonical, cited_out_of_force,
                       initials, law_in_force, read_settings, word_key)
from .issues import ERROR, WARNING, Issue, ThiduaError
from .workbook import Book, Table, check_table, header_key, read_table, text, vn as _n


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
            schema = _as_written(book, schema)
            table, found = read_table(book, schema, file)
        except Exception as e:  # a damaged sheet inside a readable zip
            raise ThiduaError(f"Không đọc được trang “{schema.name}” của {path}: {e} (damaged workbook)") from None
        issues += found
        if table is not None:
            # every enumerated value read as the choice it means, before the schema rejects what means none
            table = replace(table, frame=canonical(table.frame, schema))
            # a cell already reported as not a number is not reported again as blank
            bad = {i.cell for i in found if i.code == "not_a_number"}
            issues += [_readable(i) for i in check_table(table, schema, file)
                       if not (i.code == "value_required" and i.cell in bad)]
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


def _as_written(book: Book, schema):
    """The sheet's schema with each renamed column under the header the file has: an older campaign.xlsx keeps
    an earlier header text (OLD_HEADERS), read as the same column."""
    old = OLD_HEADERS.get(schema.name)
    sheet = book.find_sheet(schema.name) if old else None
    if sheet is None:
        return schema
    heads = {header_key(v) for row in book.rows(sheet, limit=30) for v in row}
    renamed = {}
    for name, titles in old.items():
        if header_key(schema.columns[name].title) not in heads:
            renamed[name] = next((t for t in titles if header_key(t) in heads), None)
    renamed = {k: v for k, v in renamed.items() if v}
    if not renamed:
        return schema
    return schema.update_columns({name: {"title": title} for name, title in renamed.items()})


def load_checked(path: Path, warnings: list[Issue] | None = None, shelf=None) -> Campaign:
    """The campaign for a stage that needs a sound covenant; any error in it stops the run. The warnings are
    added to `warnings` when given. With `shelf` (out/cache/kept.sqlite), an unchanged campaign.xlsx is not
    read and checked again: every stage starts with it."""
    campaign, issues = _load_kept(Path(path), shelf) if shelf is not None else load_campaign(path)
    if warnings is not None:
        warnings += [i for i in issues if i.severity != ERROR]
    errors = [i for i in issues if i.severity == ERROR]
    if campaign is None or errors:
        first = (errors or issues)[0]
        raise ThiduaError(f"{Path(path).name} có {len(errors)} lỗi, chạy `thidua check` để xem; "
                          f"lỗi đầu tiên: {first.where()}: {first.message()}")
    return campaign


def _load_kept(path: Path, shelf) -> tuple[Campaign | None, list[Issue]]:
    """load_campaign, kept on the shelf by the file's bytes and the code that checks it."""
    import python_calamine

    from . import cache, campaign as model, issues as messages, workbook as reader

    try:
        data = path.read_bytes()
    except OSError:
        return load_campaign(path)  # says what is wrong with the path
    code = cache.code_fingerprint(sys.modules[__name__], model, messages, reader, S,
                                  extra=getattr(python_calamine, "__version__", ""))
    k = cache.key("campaign", hashlib.sha256(data).hexdigest(), path.name, code)
    found = shelf.get(k, tuple)
    if found is None:
        found = load_campaign(path)
        shelf.put(k, found)
        shelf.flush()
    return found
    found = load_campaign(path)
    kept.store(entry, found)
    return found


def _readable(issue: Issue) -> Issue:
    """A value in a message as the officer typed it: 150, not 150.0."""
    value = issue.params.get("value")
    if isinstance(value, float):
        return replace(issue, params={**issue.params, "value": _n(value)})
    return issue


def _with(issue: Issue, **params) -> Issue:
    return replace(issue, params={**issue.params, **params})


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
    return (_examples(c, at) + _blocs_and_units(c, at) + _criteria(c, at) + _items(c, at) + _awards(c, at)
            + _history(c, at) + _documents(c, at))


# Where the blank master's example rows carry their mark, and where they name an example unit.
# (schema, columns) by the schema's name in schemas.campaign: its pandera schemas are built when first used
_EXAMPLE_TEXTS = (("BLOCS", ("name",)), ("UNITS", ("name", "short_name")), ("CRITERIA", ("text",)),
                  ("ITEMS", ("text",)), ("AWARD_RULES", ("award",)))
_EXAMPLE_UNITS = (("HISTORY", "unit"), ("REGISTRATIONS", "unit"))


def _examples(c: Campaign, at: _At) -> list[Issue]:
    """Every example row of the blank master still there: a text marked “(ví dụ)”, or a history or registration
    row of an example unit (a VD code that is no real unit, or a marked one)."""
    issues, mark = [], word_key(EXAMPLE_MARK, accents=False)
    marked_units = set()
    for name, columns in _EXAMPLE_TEXTS:
        schema = getattr(S, name)
        table = at.tables.get(schema.name)
        for row, record in (table.frame.iterrows() if table is not None else ()):
            hit = next((col for col in columns if mark in word_key(record[col] or "", accents=False)), None)
            if hit:
                issues.append(Issue("example_row", file=at.file, sheet=table.sheet, cell=table.cell(hit, int(row)),
                                    params={"value": record[hit]}))
                if schema is S.UNITS:
                    marked_units.add(record["code"])
    real = {u.code for u in c.units} - marked_units
    for name, column in _EXAMPLE_UNITS:
        table = at.tables.get(getattr(S, name).name)
        for row, record in (table.frame.iterrows() if table is not None else ()):
            code = record[column] or ""
            if code in marked_units or (EXAMPLE_CODE.match(code) and code not in real):
                issues.append(Issue("example_row", file=at.file, sheet=table.sheet, cell=table.cell(column, int(row)),
                                    params={"value": code}))
    return issues


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


def _awards(c: Campaign, at: _At) -> list[Issue]:
    """Award codes are the campaign's own: registrations and `da_nhan` name one of them (or a suggested code)."""
    issues = []
    codes = list(c.awards)
    known = S.listing(codes) if codes else "chưa có quy tắc nào ở trang Khen thưởng"
    for n, r in enumerate(c.award_rules):
        key = ("code", r.code)  # codes repeat (two routes to one award): point at the nth row
        for name, value in r.conditions:
            ok = (re.fullmatch(r"[1-9]", value) if name == "lien_tuc_xuat_sac"
                  else value in c.awards or value in AWARDS if name == "da_nhan" else False)
            if not ok:
                issues.append(at("condition_invalid", S.AWARD_RULES, *key, "conditions", nth=n,
                                 condition=f"{name}={value}".rstrip("="),
                                 known="lien_tuc_xuat_sac=N (N từ 1 đến 9 năm) hoặc da_nhan=MÃ (mã khen thưởng ở trang này)"))
        if r.rank_from and r.rank_to and r.rank_from > r.rank_to:
            issues.append(at("rank_range", S.AWARD_RULES, *key, "rank_to", nth=n, low=r.rank_from, high=r.rank_to))
        if r.quota is not None and r.quota_share is not None:
            issues.append(at("quota_both", S.AWARD_RULES, *key, "quota_share", nth=n))
    rules_read = at.tables.get(S.AWARD_RULES.name) is not None  # without the sheet, its own error says enough
    for n, (unit, award) in enumerate(c.registrations):
        if rules_read and award not in c.awards:
            issues.append(at("award_unknown", S.REGISTRATIONS, "unit", unit, "award", nth=n, award=award, known=known))
    return issues + _reform(c, at)


# District-level issuers after the two-tier reform: huyện, quận, thị xã (without diacritics only where unambiguous:
# "quan" is also "cơ quan", "quân sự").
_DISTRICT = re.compile(r"\b(huyện|quận|thị xã)\b")
_DISTRICT_PLAIN = re.compile(r"\b(huyen|thi xa)\b")


def _district(issuer: str) -> bool:
    return bool(_DISTRICT.search(word_key(issuer)) or _DISTRICT_PLAIN.search(word_key(issuer, accents=False)))


def _reform(c: Campaign, at: _At) -> list[Issue]:
    """The law by the signing date: no district issuer or district campaign once districts are gone, and a
    legal basis in force on that date."""
    s, issues = c.settings, []
    signed, reform = s.signing_date.strftime("%d/%m/%Y"), s.reform_date.strftime("%d/%m/%Y")
    if s.after_reform:
        for n, r in enumerate(c.award_rules):
            if _district(r.issuer):
                issues.append(at("issuer_abolished", S.AWARD_RULES, "code", r.code, "issuer", nth=n, issuer=r.issuer,
                                 award=r.code, signed=signed, reform=reform))
        if s.level == "huyện":
            issues.append(at("level_abolished", S.SETTINGS, "key", "level", "value", signed=signed, reform=reform))
    wrong = cited_out_of_force(s.legal_basis, s.signing_date)
    if wrong:
        issues.append(at("legal_basis_date", S.SETTINGS, "key", "legal_basis", "value", signed=signed,
                         cited=S.listing(wrong, "và").replace("“", "").replace("”", ""),
                         expected="; ".join(law_in_force(s.signing_date))))
    return issues


def _documents(c: Campaign, at: _At) -> list[Issue]:
    """The proposal lists name the Tờ trình they go with (“…/TTr-<code>”): without `doc_code` the code is made
    from the issuing body's initials, which may not be the body's real code. One warning, at `doc_code`'s
    value (or, where the row is missing, at the issuing body it was made from)."""
    s = c.settings
    table = at.tables.get(S.SETTINGS.name)
    typed = table is not None and any(k == "doc_code" and text(v) for k, v in zip(table.frame["key"], table.frame["value"]))
    if s.doc_code or typed:  # a code typed wrong is already an error at its cell
        return []
    issue = at("doc_code_derived", S.SETTINGS, "key", "doc_code", "value", WARNING, code=initials(s.issuing_body),
               body=s.issuing_body)
    if not issue.cell:
        issue = replace(issue, cell=at("doc_code_derived", S.SETTINGS, "key", "issuing_body", "value").cell)
    return [issue]


def _history(c: Campaign, at: _At) -> list[Issue]:
    units = {u.code for u in c.units}
    # A unit merged or renamed since keeps its history rows: a warning, not an error.
    issues = [at("unknown_unit", S.HISTORY, "unit", h.unit, "unit", WARNING, unit=h.unit) for h in c.history if h.unit not in units]
    grades = S.GRADES + (S.FAILED,)
    # A grade typed so that it means none would silently lose the unit a history-based award.
    title = S.HISTORY.columns["value"].title
    issues += [_with(at("value_invalid", S.HISTORY, "unit", h.unit, "value", nth=n, value=h.value,
                        rule="xếp loại phải là " + S.listing(grades)), column=title)
               for n, h in enumerate(c.history) if h.kind == "xếp loại" and h.value not in grades]
    if any(name == "da_nhan" for r in c.award_rules for name, _ in r.conditions):
        issues += [at("history_award_unknown", S.HISTORY, "unit", h.unit, "value", WARNING, nth=n, value=h.value)
                   for n, h in enumerate(c.history)
                   if h.kind == "khen thưởng" and h.value not in c.awards and h.value not in AWARDS]
    issues += [at("unknown_unit", S.REGISTRATIONS, "unit", u, "unit", nth=n, unit=u)
               for n, (u, _) in enumerate(c.registrations) if u not in units]
    return list(dict.fromkeys(issues))
