"""Awards stage: ranked units + the campaign's award rules -> proposals with their reasons, and who is held back.

Pure: no files. What comes out is a proposal for the emulation council, never a decision.
For each bloc the rules are taken highest award first (priority 1); a unit gets the highest award it qualifies
for and nothing below it (one award per unit per year). For each rule a unit must first *merit* it (rank range,
top share, grade, score, history conditions); a unit that merits it is then *held back* when a gate fails:
status blockers (Decree 152/2025), the vote threshold, registration, or the quota.
"""
from __future__ import annotations

import math
import pandas as pd

from .campaign import AWARDS, BLOCKERS, AwardRule, Campaign, decree, legal_basis
from .rank import in_rank_order
from .score import round_half_up
from .workbook import vn

PROPOSALS = ["bloc", "unit", "name", "short_name", "award_code", "award", "issuer", "priority", "rank", "total",
             "grade", "votes", "vote_share", "achievement", "reason", "warning"]
HELD = ["bloc", "unit", "name", "award_code", "award", "reason", "instead"]
ORDINAL = {1: "dẫn đầu", 2: "đứng thứ Nhì", 3: "đứng thứ Ba"}
NOT_REGISTERED = "Đơn vị chưa đăng ký danh hiệu này đầu năm"


def issuer(c: Campaign, rule: AwardRule) -> str:
    """Who confers the award: before the two-tier reform date the rule's earlier issuer (a district chairman).

    The decision falls when the proposal is signed (the proposal_date setting), else at the end of the year.
    """
    return rule.issuer_before_reform if not c.settings.after_reform and rule.issuer_before_reform else rule.issuer


class Registered(dict):
    """unit -> the highest priority (smallest number) among the awards it registered for; `in_use` when anybody
    registered at all (the Đăng ký sheet or a form)."""

    def __init__(self, c: Campaign, registered: set[tuple[str, str]]):
        super().__init__()
        self.in_use = bool(registered)
        priority = {code: c.award_priority(code) for code in {code for _, code in registered}}
        for unit, code in registered:
            if priority[code] is not None:
                self[unit] = min(self.get(unit, priority[code]), priority[code])

    def covers(self, unit: str, rule: AwardRule) -> bool:
        """Registered for this award or a higher one: a unit that aimed for the flag and is proposed for a
        certificate of merit did register."""
        return unit in self and self[unit] <= rule.priority


def top_places(rule: AwardRule, members: int) -> int:
    """How many places `Tốp tỷ lệ (%)` covers: the share of the members rounded down, at least 1."""
    return max(1, math.floor(round(members * rule.top_share / 100, 9)))


def quota(rule: AwardRule, members: int) -> tuple[int | None, str]:
    """(most units per bloc or None, how it was worked out). A share never rounds to 0 unless the rule
    says `xuống`, and then the note says so."""
    if rule.quota is not None:
        return rule.quota, f"hạn mức {rule.quota} đơn vị/khối"
    if rule.quota_share is None:
        return None, ""
    exact = members * rule.quota_share / 100
    how = rule.quota_rounding or "lên"
    n = {"lên": math.ceil(round(exact, 9)), "xuống": math.floor(round(exact, 9)),
         "gần nhất": int(round_half_up(exact, 0))}[how]
    note = f"hạn mức {vn(rule.quota_share)}% × {members} đơn vị = {vn(round(exact, 2))}, làm tròn {how} = {n}"
    if n == 0 and how != "xuống":
        n, note = 1, note + ", tối thiểu 1"
    return n, note


def _grade_ok(c: Campaign, grade: str, least: str) -> bool:
    order = [name for name, _ in c.settings.grades] + ["Chưa hoàn thành"]
    return order.index(grade) <= order.index(least) if grade in order and least in order else False


_HISTORY: dict[int, tuple[Campaign, dict]] = {}  # the last campaign's history by (unit, kind): indexed once


def _history(c: Campaign, unit: str, kind: str) -> dict[int, set[str]]:
    """year -> what the unit's history of that kind records (revoked rows left out); read only."""
    kept = _HISTORY.get(id(c))
    if kept is None or kept[0] is not c:
        index: dict[tuple[str, str], dict[int, set[str]]] = {}
        for h in c.history:
            if not h.revoked:
                index.setdefault((h.unit, h.kind), {}).setdefault(h.year, set()).add(h.value)
        _HISTORY.clear()
        kept = _HISTORY[id(c)] = (c, index)
    return kept[1].get((unit, kind), {})


def _conditions(c: Campaign, rule: AwardRule, unit: str, grade: str) -> list[str]:
    """What the unit's award history lacks for the rule's conditions (empty: all met)."""
    year, missing = c.settings.year, []
    for name, value in rule.conditions:
        if name == "lien_tuc_xuat_sac":
            n = int(value)
            grades = _history(c, unit, "xếp loại")
            years = range(year - n + 1, year)
            if grade != "Xuất sắc" or any("Xuất sắc" not in grades.get(y, set()) for y in years):
                missing.append(f"chưa đủ {n} năm liên tục xếp loại Xuất sắc ({year - n + 1}-{year})")
        elif name == "da_nhan":
            titles = {value, AWARDS.get(value, "")} | {r.award for r in c.award_rules if r.code == value}
            if not titles & _history(c, unit, "khen thưởng").get(year - 1, set()):
                missing.append(f"năm {year - 1} chưa được tặng {AWARDS.get(value, value)}")
    return missing


def _merit(c: Campaign, rule: AwardRule, row, members: int) -> list[str]:
    """Why the unit does not merit the rule on results and history (empty: it does)."""
    why = []
    if rule.rank_from is not None and row.rank < rule.rank_from or rule.rank_to is not None and row.rank > rule.rank_to:
        span = f"{rule.rank_from or 1}-{rule.rank_to}" if rule.rank_to else f"từ {rule.rank_from}"
        why.append(f"hạng {row.rank} ngoài hạng {span}")
    if rule.top_share is not None and row.rank > top_places(rule, members):
        why.append(f"ngoài tốp {vn(rule.top_share)}% của khối (hạng 1-{top_places(rule, members)})")
    if rule.min_grade and not _grade_ok(c, row.grade, rule.min_grade):
        why.append(f"xếp loại {row.grade}, cần {rule.min_grade}")
    if rule.min_score is not None and row.total < rule.min_score:
        why.append(f"{vn(row.total)} điểm, cần {vn(rule.min_score)}")
    return why + _conditions(c, rule, row.unit, row.grade)


def _gates(c: Campaign, rule: AwardRule, row, registered: Registered) -> list[str]:
    """Why a unit that merits the rule is held back from it (empty: it passes)."""
    unit = c.unit(row.unit)
    why = [f"{BLOCKERS[b]} ({decree(c.settings)}: không đề nghị khen thưởng)" for b in unit.blockers]
    if rule.min_vote_share is not None:
        if pd.isna(row.vote_share):
            why.append("chưa có kết quả bỏ phiếu hợp lệ của khối")
        elif row.vote_share <= rule.min_vote_share:
            why.append(f"được {vn(round(row.vote_share, 1))}% phiếu suy tôn, cần trên {vn(rule.min_vote_share)}%")
    if rule.must_register and not registered.covers(row.unit, rule):
        why.append("không đăng ký danh hiệu này đầu năm")
    return why


def propose(c: Campaign, ranked: pd.DataFrame, registered: set[tuple[str, str]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(proposals, held): one proposal per awarded unit with its reason; each unit held back from an award it
    would otherwise get, with why. `ranked` carries rank, tied, total, grade, votes, vote_share per unit."""
    proposals, held = [], []
    registered = Registered(c, registered)
    rules = sorted(enumerate(c.award_rules), key=lambda x: (x[1].priority, x[0]))
    by_bloc = in_rank_order(ranked)  # split once, not per bloc (nor per rule)
    for bloc in c.blocs:
        if bloc.code not in by_bloc:
            continue
        rows = by_bloc[bloc.code]
        members = len(c.members(bloc.code))
        awarded: dict[str, int] = {}  # unit -> priority of its award
        bloc_held = []
        for _, rule in rules:
            merit = [r for r in rows if r.unit not in awarded and not _merit(c, rule, r, members)]
            candidates = []
            for r in merit:
                gates = _gates(c, rule, r, registered)
                if gates:
                    bloc_held.append((rule, r, "; ".join(gates)))
                else:
                    candidates.append(r)
            most, note = quota(rule, members)
            chosen, over = _within_quota(candidates, most)
            for r, why in over:
                bloc_held.append((rule, r, f"{why} ({note})"))
            for r in chosen:
                awarded[r.unit] = rule.priority
                proposals.append(_proposal(c, bloc, rule, r, members, note, registered))
        # Held back from an award only matters when the unit did not get one as high elsewhere.
        held += [(rule, r, why) for rule, r, why in bloc_held if awarded.get(r.unit, math.inf) > rule.priority]
    got = {p["unit"]: p["award"] for p in proposals}
    held_rows = [{"bloc": r.bloc, "unit": r.unit, "name": r.name, "award_code": rule.code, "award": rule.award,
                  "reason": why, "instead": got.get(r.unit, "")} for rule, r, why in held]
    held_frame = pd.DataFrame(held_rows, columns=HELD).drop_duplicates(["unit", "award_code"])
    order = {b.code: n for n, b in enumerate(c.blocs)}
    frame = pd.DataFrame(proposals, columns=PROPOSALS)
    frame = frame.sort_values(["bloc", "rank", "unit"], key=lambda s: s.map(order) if s.name == "bloc" else s,
                              kind="stable")
    return frame.reset_index(drop=True), held_frame.reset_index(drop=True)


def _within_quota(candidates: list, most: int | None) -> tuple[list, list[tuple[object, str]]]:
    """Best ranks first up to the quota. Units tied at the boundary are all held for the conference, never
    picked by code or by chance."""
    if most is None or len(candidates) <= most:
        return candidates, []
    chosen = [r for r in candidates if sum(1 for x in candidates if x.rank <= r.rank) <= most]
    boundary = [r for r in candidates if r not in chosen and sum(1 for x in candidates if x.rank < r.rank) < most]
    over = [(r, "đồng hạng ở ranh giới số lượng: Hội nghị khối xem xét") for r in boundary]
    over += [(r, "vượt số lượng") for r in candidates if r not in chosen and r not in boundary]
    return chosen, over


def _rule_text(c: Campaign, rule: AwardRule, rule_bloc: str = "") -> list[str]:
    """What the rule asks, in words, for the proposal's reason."""
    year, parts = c.settings.year, []
    if rule.rank_from is not None or rule.rank_to is not None:
        low, high = rule.rank_from or 1, rule.rank_to
        parts.append(f"hạng {low}" if low == high else f"hạng {low}-{high}" if high else f"từ hạng {low}")
    if rule.top_share is not None:
        parts.append(f"tốp {vn(rule.top_share)}% của khối (hạng 1-{top_places(rule, len(c.members(rule_bloc)))})"
                     if rule_bloc else f"tốp {vn(rule.top_share)}% của khối")
    if rule.min_grade:
        parts.append(f"xếp loại từ {rule.min_grade}")
    if rule.min_score is not None:
        parts.append(f"từ {vn(rule.min_score)} điểm")
    if rule.min_vote_share is not None:
        parts.append(f"trên {vn(rule.min_vote_share)}% phiếu suy tôn")
    for name, value in rule.conditions:
        parts.append(f"{value} năm liên tục xếp loại Xuất sắc ({year - int(value) + 1}-{year})" if name == "lien_tuc_xuat_sac"
                     else f"năm {year - 1} đã được tặng {AWARDS.get(value, value)}")
    return parts


def _proposal(c: Campaign, bloc, rule: AwardRule, r, members: int, quota_note: str, registered: Registered) -> dict:
    year = c.settings.year
    ranked_in = f"{ORDINAL.get(r.rank, f'xếp thứ {r.rank}')} {bloc.name}"
    if any(name == "lien_tuc_xuat_sac" for name, _ in rule.conditions):
        n = next(int(v) for name, v in rule.conditions if name == "lien_tuc_xuat_sac")
        achievement = f"Đã có thành tích hoàn thành xuất sắc nhiệm vụ {n} năm liên tục ({year - n + 1}-{year})"
    elif r.rank == 1:
        achievement = f"Đã hoàn thành xuất sắc toàn diện nhiệm vụ công tác năm {year}, {ranked_in}"
    else:
        achievement = f"Đã có thành tích xuất sắc trong phong trào thi đua năm {year}, {ranked_in}"
    votes = "" if pd.isna(r.votes) or not r.votes else f"; {int(r.votes)} phiếu suy tôn ({vn(round(r.vote_share, 1))}%)"
    reason = (f"Hạng {r.rank}/{members} khối {bloc.code}" + (" (đồng hạng)" if r.tied == "x" else "")
              + f"; {vn(r.total)} điểm, xếp loại {r.grade}{votes}; quy tắc {rule.code}: "
              + ", ".join(_rule_text(c, rule, bloc.code) + ([quota_note] if quota_note else []))
              + f"; căn cứ {legal_basis(c.settings)}")
    # Registration is in use when somebody registered (the Đăng ký sheet or the forms); then a proposal above
    # what the unit registered for is a warning the officer must see.
    warning = NOT_REGISTERED if registered.in_use and not registered.covers(r.unit, rule) else ""
    return {"bloc": bloc.code, "unit": r.unit, "name": r.name, "short_name": r.short_name, "award_code": rule.code,
            "award": rule.award, "issuer": issuer(c, rule), "priority": rule.priority, "rank": int(r.rank),
            "total": float(r.total), "grade": r.grade, "votes": r.votes, "vote_share": r.vote_share,
            "achievement": achievement, "reason": reason, "warning": warning}
