"""Factories for the pipeline, validation and scoring tests: a two-bloc campaign, filled returns, an exact oracle.

The oracle (`expected_results`) recomputes totals, grades and ranks from the fills with exact fractions,
following DOMAIN.md's Scoring section, without calling the pipeline's scoring code.
"""
from __future__ import annotations

import copy
import datetime as dt
import os
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import openpyxl

from pipeline.campaign_book import EXAMPLE, write_campaign
from pipeline.check import load_checked
from pipeline.templates import Fill, write_template

GENERATED_AT = dt.datetime(2026, 11, 1, 8, 0, 0)
# Every return "arrives" at a fixed time before the deadline (2026-12-10), so receipts are stable.
ARRIVED = dt.datetime(2026, 12, 1, 9, 0, 0, tzinfo=dt.timezone.utc).timestamp()

TARGET = 100
BONUS_CAP = 3
SCALE = 100
TIE_BREAK = "nhom:I, it_diem_tru, nhieu_diem_thuong"
GRADES = (("Xuất sắc", 95), ("Tốt", 85), ("Khá", 70), ("Hoàn thành", 50))

# code -> (group, kind, max, step, explanation)
LEAVES = {
    "I.1": ("I", "chỉ tiêu", 20, None, ""),
    "I.2": ("I", "điểm", 20, 0.5, "khi chưa tối đa"),
    "I.3": ("I", "điểm", 20, 0.5, "luôn"),
    "II.1": ("II", "đạt/không đạt", 10, None, ""),
    "II.2": ("II", "điểm", 20, 0.25, ""),
    "III.1": ("III", "điểm", 8, 1, ""),
    "III.2": ("III", "trừ điểm", 2, 0.5, ""),
}
# code -> (kind, points, cap)
ITEMS = {"T1": ("thưởng", 1, 3), "T2": ("thưởng", 0.5, 1.5), "4.10": ("thưởng", 0.5, 1), "D1": ("trừ", 1, 3)}

BLOCS = {"K1": ["A01", "A02", "A03", "A04", "A05"], "K2": ["B01", "B02", "B03", "B04", "B05", "B06"]}


def content() -> dict[str, list[dict]]:
    """campaign.xlsx rows: two blocs (5 and 6 units), every criterion kind, bonus and deduction items."""
    c = copy.deepcopy(EXAMPLE)
    settings = {r["key"]: r for r in c["Thiết lập"]}
    settings["bonus_cap"]["value"] = BONUS_CAP
    settings["tie_break"]["value"] = TIE_BREAK
    settings["campaign_id"]["value"] = "KTD-TEST-2026"
    c["Khối"] = [
        {"code": "K1", "name": "Khối các sở tổng hợp", "head": "A01", "deputy": "A02"},
        {"code": "K2", "name": "Khối các sở chuyên ngành", "head": "B01", "deputy": "B02"},
    ]
    c["Đơn vị"] = [{"code": u, "name": f"Đơn vị {u}", "short_name": f"ĐV {u}", "bloc": b, "email": f"{u.lower()}@example.gov.vn"}
                   for b, units in BLOCS.items() for u in units]
    texts = {"I": "Nhiệm vụ chính trị, chuyên môn", "II": "Xây dựng Đảng, cải cách hành chính", "III": "Công tác thi đua"}
    rows = []
    for group, gmax in (("I", 60), ("II", 30), ("III", 10)):
        rows.append({"code": group, "group": group, "text": texts[group], "max": gmax})
        for code, (g, kind, mx, step, expl) in LEAVES.items():
            if g == group:
                row = {"code": code, "group": g, "text": f"Tiêu chí {code}", "kind": kind, "max": mx}
                if step is not None:
                    row["step"] = step
                if kind == "chỉ tiêu":
                    row["target"] = TARGET
                if expl:
                    row["explanation"] = expl
                rows.append(row)
    c["Tiêu chí"] = rows
    c["Thưởng - Trừ"] = [{"code": k, "kind": kind, "text": f"Khoản {k}", "points": p, "cap": cap}
                         for k, (kind, p, cap) in ITEMS.items()]
    c["Lịch sử"] = [{"unit": "A01", "year": 2025, "kind": "xếp loại", "value": "Xuất sắc"}]
    c["Đăng ký"] = [{"unit": "A01", "award": "CO_TINH"}]
    return c


def make_campaign(root: Path, rows: dict | None = None):
    """Write ROOT/campaign.xlsx (+ inbox/) and load it checked."""
    root = Path(root)
    write_campaign(root / "campaign.xlsx", rows or content())
    (root / "inbox").mkdir(parents=True, exist_ok=True)
    return load_checked(root / "campaign.xlsx")


@dataclass
class Ret:
    """What a unit typed: one score per judged criterion, an actual/count per computed one, item claims."""

    actual: float  # I.1
    scores: dict  # I.2, I.3, II.1, II.2, III.1
    late: float = 0  # III.2: occurrences
    items: dict = field(default_factory=dict)  # item code -> points
    explanations: dict = field(default_factory=dict)

    def fill(self, **extra) -> Fill:
        explanations = {"I.2": "Có minh chứng", "I.3": "Báo cáo số 12/BC", **self.explanations}
        return Fill(scores=dict(self.scores), actuals={"I.1": self.actual, "III.2": self.late},
                    explanations=explanations, items={k: (v, f"Căn cứ {k}") for k, v in self.items.items()}, **extra)


def s(i2, i3, ii1, ii2, iii1) -> dict:
    return {"I.2": i2, "I.3": i3, "II.1": ii1, "II.2": ii2, "III.1": iii1}


# The returns of the acceptance campaign. Designed ties (tie_break = nhom:I, it_diem_tru, nhieu_diem_thuong):
#   K1: A02 and A03 both 86.5, group I 50 vs 46.5 -> split: A02 2nd, A03 3rd, neither tied;
#       A04 and A05 both 73.625 -> 73.63 (half up; banker's would give 73.62), group I 42.625 each,
#       deduction 1 each, bonus 0.5 each -> they share 4th, both marked 'x'.
#   K2: B03 is the best (130); B06's 200 is in a return with an error and must not count as the best;
#       B01 and B02 both 87.5, group I 48, no deduction, bonus 3 -> share 2nd ('x'), B04 4th (1, 2, 2, 4).
#   B05 sends nothing.
RETURNS: dict[str, Ret] = {
    "A01": Ret(120, s(19.5, 18, 10, 18.75, 7), late=1, items={"T1": 3, "T2": 1.5},
               explanations={"I.3": '=HYPERLINK("x")'}),
    "A02": Ret(110, s(18, 17, 10, 17.5, 6), items={"T1": 1}),
    "A03": Ret(100, s(19, 17.5, 10, 20, 8)),
    "A04": Ret(91.25, s(17.5, 16, 10, 15, 5), late=1, items={"4.10": 0.5, "D1": 1}),
    "A05": Ret(96.25, s(17, 16, 10, 15, 5), late=1, items={"T2": 0.5, "D1": 1}),
    "B01": Ret(100, s(19, 19, 10, 18, 7), late=1, items={"T1": 2, "T2": 1}),
    "B02": Ret(80, s(20, 20, 10, 18, 7), late=1, items={"T1": 3}),
    "B03": Ret(130, s(20, 20, 10, 20, 8), items={"T1": 2}),
    "B04": Ret(110, s(18.5, 18, 10, 15.75, 7)),
    "B06": Ret(200, {**s(20, 20, 10, 20, 8), "I.2": "=SUM(1,2)"}),
}
NO_RETURN = "B05"
INVALID = "B06"
EXPECTED_RANKS = {"A01": (1, ""), "A02": (2, ""), "A03": (3, ""), "A04": (4, "x"), "A05": (4, "x"),
                  "B03": (1, ""), "B01": (2, "x"), "B02": (2, "x"), "B04": (4, "")}
INBOX_NAMES = {u: f"{u} - bản tự chấm.xlsx" for u in RETURNS} | {INVALID: "=HYPERLINK(B06).xlsx"}


def write_return(path: Path, campaign, unit_code: str, fill: Fill, mtime: float = ARRIVED) -> Path:
    write_template(path, campaign, campaign.unit(unit_code), GENERATED_AT, fill=fill)
    os.utime(path, (mtime, mtime))
    return path


def fill_inbox(root: Path, campaign, returns: dict[str, Ret] = RETURNS) -> None:
    for unit, ret in returns.items():
        write_return(Path(root) / "inbox" / INBOX_NAMES.get(unit, f"{unit}.xlsx"), campaign, unit, ret.fill())


# --- the oracle ------------------------------------------------------------------------------

def F(x) -> Fraction:
    return Fraction(str(x))


def half_up(x: Fraction, digits: int = 2) -> Decimal:
    return (Decimal(x.numerator) / Decimal(x.denominator)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def target_points(m, t, a, best) -> Fraction:
    """DOMAIN.md: below T 0.5·M·A/T; at T 0.5·M; the bloc's best M; above T 0.5·M + 0.5·M·(A−T)/(L−T)."""
    m, t, a, best = F(m), F(t), F(a), F(best)
    if a == best and a >= t:
        return m
    if a < t:
        return m / 2 * a / t
    if a == t:
        return m / 2
    return m / 2 + m / 2 * (a - t) / (best - t)


def unit_parts(ret: Ret, best) -> dict:
    """Exact criterion points, bonus (capped) and deductions of one return."""
    points = {"I.1": target_points(LEAVES["I.1"][2], TARGET, ret.actual, best),
              "III.2": max(Fraction(0), F(LEAVES["III.2"][2]) - F(LEAVES["III.2"][3]) * F(ret.late))}
    points.update({k: F(v) for k, v in ret.scores.items()})
    bonus = min(F(BONUS_CAP), sum((F(v) for k, v in ret.items.items() if ITEMS[k][0] == "thưởng"), Fraction(0)))
    deduction = sum((F(v) for k, v in ret.items.items() if ITEMS[k][0] == "trừ"), Fraction(0))
    return {"points": points, "bonus": bonus, "deduction": deduction,
            "group:I": sum(v for k, v in points.items() if LEAVES[k][0] == "I")}


def expected_results(returns: dict[str, Ret], valid: set[str]) -> dict[str, dict]:
    """unit -> total (Decimal, 2 places), grade, rank, tied: recomputed from what the units typed."""
    bloc_of = {u: b for b, units in BLOCS.items() for u in units}
    out = {}
    for bloc in BLOCS:
        mine = {u: r for u, r in returns.items() if u in valid and bloc_of[u] == bloc}
        if not mine:
            continue
        best = max(r.actual for r in mine.values())
        for u, r in mine.items():
            p = unit_parts(r, best)
            raw = min(F(SCALE), sum(p["points"].values()) + p["bonus"] - p["deduction"])
            total = half_up(raw)
            out[u] = {"total": total, "grade": next((g for g, low in GRADES if total >= low), "Chưa hoàn thành"),
                      # the tie-break chain of TIE_BREAK: more group I, fewer deductions, more bonus
                      "key": (total, p["group:I"], -p["deduction"], p["bonus"]), "bloc": bloc}
    for u, e in out.items():
        peers = [v for v in out.values() if v["bloc"] == e["bloc"]]
        e["rank"] = 1 + sum(v["key"] > e["key"] for v in peers)
        e["tied"] = "x" if sum(v["key"] == e["key"] for v in peers) > 1 else ""
    return out


# --- reading outputs -------------------------------------------------------------------------

def table(path: Path, sheet: str, headers: list[str]) -> list[dict]:
    """Rows of the table on `sheet` whose header row holds every one of `headers`, as dicts by header."""
    wb = openpyxl.load_workbook(path, data_only=False)
    ws = wb[sheet]
    rows = list(ws.iter_rows(values_only=True))
    for i, row in enumerate(rows):
        at = {v: c for c, v in enumerate(row) if isinstance(v, str)}
        if all(h in at for h in headers):
            return [{h: r[at[h]] for h in at} for r in rows[i + 1:] if any(v is not None for v in r)]
    raise AssertionError(f"no header row with {headers} on {sheet}")


def cell_of(path: Path, sheet: str, code: str, header: str) -> str:
    """The A1 address, found with openpyxl, of the `header` column in the row whose `Mã` is `code`."""
    ws = openpyxl.load_workbook(path)[sheet]
    head = None
    for row in ws.iter_rows():
        if head is None:
            values = {c.value: c.column_letter for c in row if isinstance(c.value, str)}
            if "Mã" in values and header in values:
                head = values
            continue
        for c in row:
            if c.column_letter == head["Mã"] and c.value == code:
                return f"{head[header]}{c.row}"
    raise AssertionError(f"{code} not found on {sheet}")
