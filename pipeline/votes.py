"""Votes: the checked ballots -> vote shares, conflicts for the conference, next year's head and deputy, margins."""
from __future__ import annotations

import pandas as pd

from .campaign import Bloc, Campaign
from .issues import WARNING, Issue
from .rank import in_rank_order
from .review import Ballot
from .workbook import vn


def share(c: Campaign, ballot: Ballot, votes: int) -> float:
    """Percent of the member units (or of the valid ballots, per the campaign's vote_base)."""
    base = ballot.valid if c.settings.vote_base == "phieu_hop_le" else len(c.members(ballot.bloc))
    return 100.0 * votes / base if base else 0.0


def with_votes(c: Campaign, totals: pd.DataFrame, ballots: dict[str, Ballot]) -> pd.DataFrame:
    """Add `votes` and `vote_share` (NaN where the bloc has no usable vote): the `phieu` tie-break reads them."""
    votes, shares = [], []
    for bloc, unit in zip(totals["bloc"], totals["unit"]):
        b = ballots.get(bloc)
        n = b.leader.get(unit, 0) if b is not None and b.ok else None
        votes.append(float("nan") if n is None else float(n))
        shares.append(float("nan") if n is None else share(c, b, n))
    return totals.assign(votes=pd.Series(votes, index=totals.index, dtype="float64"),
                         vote_share=pd.Series(shares, index=totals.index, dtype="float64"))


def conflicts(c: Campaign, ranked: pd.DataFrame, ballots: dict[str, Ballot]) -> list[Issue]:
    """The top scorer failing the leader rule, or out-voted by another unit: flagged, never resolved here."""
    issues = []
    needed = c.settings.leader_vote_share
    for bloc, rows in in_rank_order(ranked).items():
        b = ballots.get(bloc)
        if b is None or not b.ok:
            continue
        for top in (r for r in rows if r.rank == 1):
            mine = b.leader.get(top.unit, 0)
            if share(c, b, mine) <= needed:
                issues.append(Issue("leader_vote_missed", WARNING, top.unit, b.file, params={
                    "bloc": bloc, "share": f"{vn(round(share(c, b, mine), 1))}%", "needed": vn(needed)}))
            for other, n in sorted(b.leader.items()):
                if other != top.unit and n > mine:
                    issues.append(Issue("outvoted", WARNING, other, b.file, params={
                        "other": other, "other_votes": n, "bloc": bloc, "votes": mine}))
    return issues


TALLY = ["bloc", "unit", "name", "rank", "total", "votes", "vote_share", "head_votes", "deputy_votes", "note"]


def tally(c: Campaign, ranked: pd.DataFrame, ballots: dict[str, Ballot], issues: list[Issue]) -> pd.DataFrame:
    """One row per member unit of a bloc that voted: its votes, share, and what the conference must look at."""
    notes: dict[str, list[str]] = {}
    for i in issues:
        if i.code in ("leader_vote_missed", "outvoted", "quorum_missed"):
            notes.setdefault(i.unit, []).append(i.message())
    placed = {r.unit: r for r in ranked.itertuples()}
    rows = []
    for bloc in c.blocs:
        b = ballots.get(bloc.code)
        if b is None:
            continue
        for u in c.members(bloc.code):
            p = placed.get(u.code)
            n = b.leader.get(u.code, 0)
            rows.append({"bloc": bloc.code, "unit": u.code, "name": u.name,
                         "rank": int(p.rank) if p is not None else None, "total": float(p.total) if p is not None else None,
                         "votes": n, "vote_share": round(share(c, b, n), 2), "head_votes": b.head.get(u.code, 0),
                         "deputy_votes": b.deputy.get(u.code, 0),
                         "note": "; ".join(notes.get(u.code, []) or ([] if b.ok else ["Kết quả bỏ phiếu chưa hợp lệ (xem trang Lỗi)"]))})
    frame = pd.DataFrame(rows, columns=TALLY)
    order = {b.code: n for n, b in enumerate(c.blocs)}
    return frame.assign(_bloc=frame["bloc"].map(order)).sort_values(
        ["_bloc", "votes"], ascending=[True, False], kind="stable").drop(columns="_bloc").reset_index(drop=True)


BALLOTS = ["bloc", "present", "issued", "valid", "members", "quorum", "status"]


def ballots_frame(c: Campaign, ballots: dict[str, Ballot]) -> pd.DataFrame:
    """One row per bloc: units present, ballots issued and valid, and whether the vote counts."""
    q = c.settings.quorum
    rows = [{"bloc": b.code, "present": x.present, "issued": x.issued, "valid": x.valid,
             "members": len(c.members(b.code)), "quorum": f"{q.numerator}/{q.denominator}",
             "status": "Hợp lệ" if x.ok else "Không hợp lệ (xem trang Lỗi)"}
            for b in c.blocs if (x := ballots.get(b.code)) is not None]
    return pd.DataFrame(rows, columns=BALLOTS)


SUCCESSION = ["bloc", "head", "head_name", "deputy", "deputy_name", "how"]


def succession(c: Campaign, ballots: dict[str, Ballot]) -> tuple[pd.DataFrame, list[Issue]]:
    """Next year's head and deputy per bloc: elected where the ballot says so, else the campaign's rotation."""
    rows, issues = [], []
    for bloc in c.blocs:
        b = ballots.get(bloc.code)
        rotated_head, rotated_deputy = c.rotation(bloc)
        head, how_head = _elected(c, bloc, b, "head", "Trưởng khối", set(), issues)
        if head is None:
            head, how_head = rotated_head, _rotation_note(c, "head")
        deputy, how_deputy = _elected(c, bloc, b, "deputy", "Phó khối", {head}, issues)
        if deputy is None:
            deputy = rotated_deputy if rotated_deputy != head else c.next_member(bloc, head, {head})
            how_deputy = _rotation_note(c, "deputy")
        name = lambda code: c.unit(code).name if code and c.unit(code) else ""  # noqa: E731
        rows.append({"bloc": bloc.code, "head": head, "head_name": name(head), "deputy": deputy,
                     "deputy_name": name(deputy), "how": f"Trưởng khối: {how_head}; Phó khối: {how_deputy}"})
    return pd.DataFrame(rows, columns=SUCCESSION), issues


def _elected(c: Campaign, bloc: Bloc, b: Ballot | None, kind: str, role: str, exclude: set, issues: list) -> tuple[str | None, str]:
    if b is None or not b.ok:
        return None, ""
    tally = {u: n for u, n in getattr(b, kind).items() if u not in exclude and n > 0}
    if not tally:
        return None, ""
    best = max(tally.values())
    winners = sorted(u for u, n in tally.items() if n == best)
    if len(winners) > 1:
        issues.append(Issue("vote_tie", WARNING, winners[0], b.file, params={
            "role": role, "bloc": bloc.code, "units": ", ".join(winners), "votes": best}))
        return None, ""
    return winners[0], f"bầu tại hội nghị ({best}/{b.valid} phiếu hợp lệ)"


def _rotation_note(c: Campaign, kind: str) -> str:
    if c.settings.head_rotation == "giu_nguyen":
        return "giữ nguyên (không bầu)"
    return ("luân phiên: Phó khối năm nay lên Trưởng khối" if kind == "head"
            else "luân phiên: đơn vị kế tiếp trong danh sách khối")


MARGINS = ["bloc", "rank", "unit", "name", "total", "next_unit", "next_total", "margin", "note"]


def margins(c: Campaign, ranked: pd.DataFrame, places: int) -> pd.DataFrame:
    """Per bloc, for each of the top `places`: how many points separate it from the next unit."""
    rows = []
    for bloc, g in in_rank_order(ranked).items():
        for a, b in list(zip(g, g[1:]))[:places]:
            gap = round(float(a.total) - float(b.total), c.settings.rounding)
            note = ("đồng hạng" if a.rank == b.rank else "bằng điểm, tách theo tiêu chí phụ" if gap == 0
                    else f"hơn đơn vị xếp sau {vn(gap)} điểm")
            rows.append({"bloc": bloc, "rank": int(a.rank), "unit": a.unit, "name": a.name, "total": float(a.total),
                         "next_unit": b.unit, "next_total": float(b.total), "margin": gap, "note": note})
    return pd.DataFrame(rows, columns=MARGINS)
