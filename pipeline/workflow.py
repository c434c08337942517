"""The stages wired over a campaign folder: what each command does, file in, files out."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .campaign import Campaign
from .check import load_checked
from .collect import Receipt, collect, latest, load_receipts
from .issues import ERROR, Issue, ThiduaError
from .awards import propose
from .proposal import write_proposal
from .rank import rank
from .read import check_rows, read_return
from .registration import registrations
from .report import YearEnd, write_results, write_validation
from .review import load_reviews, self_scores
from .review import write_all as write_reviews
from .score import matrix, totals, with_review
from .validate import Received, validate
from .votes import ballots_frame, conflicts, margins, succession, tally, with_votes

REASON_VI = {"no_return": "Chưa gửi bản tự chấm", "errors": "Bản tự chấm có lỗi (xem trang Lỗi)"}


@dataclass
class Paths:
    root: Path

    @property
    def campaign(self) -> Path:
        return self.root / "campaign.xlsx"

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def out(self) -> Path:
        return self.root / "out"

    @property
    def submissions(self) -> Path:
        return self.out / "submissions"

    @property
    def reviews(self) -> Path:
        """Completed reviews, put here by the officer (never written by thidua)."""
        return self.root / "review"


def run_collect(root: Path, sources: list[Path] | None = None, progress=lambda r: None) -> list[Receipt]:
    p = Paths(root)
    c = load_checked(p.campaign)
    sources = sources or [p.inbox]
    missing = [s for s in sources if not s.exists()]
    if missing:
        raise ThiduaError(f"Không tìm thấy {missing[0]} (source not found)")
    return collect(c, sources, p.submissions, progress)


@dataclass
class Validation:
    campaign: Campaign
    issues: list[Issue]
    values: pd.DataFrame
    valid: set[str]
    received: dict[str, Received]
    receipts: list[Receipt]


def run_validate(root: Path, progress=lambda unit: None) -> Validation:
    """Read the newest version of every unit's return and check it; writes out/validation.xlsx."""
    p = Paths(root)
    c = load_checked(p.campaign)
    receipts = load_receipts(p.submissions)
    received = {}
    for unit, versions in latest(receipts).items():
        newest = versions[-1]
        received[unit] = Received(read_return(p.submissions / newest.stored, newest.original), newest, tuple(versions))
        progress(unit)
    check_rows([r.ret for r in received.values()])
    rejected = [r for r in receipts if r.status != "ok" and r.form == "score"]
    issues, values, valid = validate(c, received, rejected)
    write_validation(p.out / "validation.xlsx", c, issues, unit_summary(c, issues, received, valid))
    return Validation(c, issues, values, valid, received, receipts)


def by_unit(issues: list[Issue]) -> dict[str, list[Issue]]:
    grouped: dict[str, list[Issue]] = {}
    for i in issues:
        grouped.setdefault(i.unit, []).append(i)
    return grouped


def unit_summary(c: Campaign, issues: list[Issue], received: dict[str, Received], valid: set[str]) -> pd.DataFrame:
    """One row per unit: returned or not, how many versions, errors and warnings."""
    rows = []
    grouped = by_unit(issues)
    for u in c.units:
        mine = grouped.get(u.code, [])
        got = received.get(u.code)
        errors = sum(i.severity == ERROR for i in mine)
        late = any(i.code == "late" for i in mine)
        status = ("Chưa gửi" if got is None else "Có lỗi" if errors else "Gửi muộn" if late else "Hợp lệ")
        rows.append({"bloc": u.bloc, "unit": u.code, "name": u.name, "status": status,
                     "versions": len(got.versions) if got else 0,
                     "received": got.receipt.received.replace("T", " ") if got else "",
                     "errors": errors, "warnings": len(mine) - errors})
    return pd.DataFrame(rows)


def unranked_units(c: Campaign, v: Validation) -> pd.DataFrame:
    grouped = by_unit(v.issues)
    rows = [{"bloc": u.bloc, "unit": u.code, "name": u.name,
             "reason": REASON_VI["no_return"] if u.code not in v.received else
             REASON_VI["errors"] + ": " + "; ".join(sorted({i.message() for i in grouped.get(u.code, []) if i.severity == ERROR}))[:500]}
            for u in c.units if u.code not in v.valid]
    return pd.DataFrame(rows, columns=["bloc", "unit", "name", "reason"])


def year_end_status(root: Path, v: Validation) -> pd.DataFrame:
    """Per bloc: the completed review (file, scores changed, issues), the ballot, registrations received."""
    c = v.campaign
    m = matrix(c, v.values)
    issues, reviewed, ballots = load_reviews(c, Paths(root).reviews, m)
    current = self_scores(m)
    forms = {r.unit for r in v.receipts if r.form == "registration" and r.status == "ok"}
    rows = []
    for b in c.blocs:
        mine = reviewed[reviewed["unit"].isin([u.code for u in c.members(b.code)])]
        changed = sum(abs(x - current[(u, k)]) > 1e-9 for u, k, x in zip(mine["unit"], mine["code"], mine["reviewed"]))
        ballot = ballots.get(b.code)
        files = set(mine["file"]) | ({ballot.file} if ballot else set())
        rows.append({"bloc": b.code, "review": ", ".join(sorted(files)), "changed": int(changed),
                     "issues": sum(i.file in files for i in issues),
                     "ballot": "chưa có" if ballot is None else "hợp lệ" if ballot.ok else "không hợp lệ",
                     "forms": sum(u.code in forms for u in c.members(b.code)), "members": len(c.members(b.code))})
    return pd.DataFrame(rows)


def run_review(root: Path, generated_at, progress=lambda bloc: None) -> tuple[list[Path], Validation]:
    """Validate and score; write out/review/<bloc>.xlsx for each bloc head, pre-filled with the self scores,
    or with what a completed review already in CAMPAIGN/review/ says (a re-run after a late return loses
    nothing the bloc head typed)."""
    p = Paths(root)
    v = run_validate(root)
    c = v.campaign
    m = matrix(c, v.values)
    found, reviewed, ballots = load_reviews(c, p.reviews, m)
    m = with_review(m, reviewed)
    ranked = rank(c, with_votes(c, totals(c, v.values, m), ballots))
    v.issues = v.issues + found
    return write_reviews(c, p.out / "review", m, ranked, generated_at, progress, ballots), v


def run_rank(root: Path, progress=lambda unit: None) -> tuple[Path, Validation, pd.DataFrame, YearEnd]:
    """Validate, apply the completed reviews and votes, score, rank and propose awards;
    writes out/results-<year>.xlsx and out/proposal-<year>.xlsx."""
    p = Paths(root)
    v = run_validate(root, progress)
    c = v.campaign
    m = matrix(c, v.values)
    review_issues, reviewed, ballots = load_reviews(c, p.reviews, m)
    m = with_review(m, reviewed)
    ranked = rank(c, with_votes(c, totals(c, v.values, m), ballots))
    vote_issues = conflicts(c, ranked, ballots)
    next_heads, tie_issues = succession(c, ballots)
    reg_issues, registered, _ = registrations(c, v.receipts, p.submissions)
    proposals, held = propose(c, ranked, registered)
    issues = v.issues + review_issues + vote_issues + tie_issues + reg_issues
    places = max([3] + [r.rank_to or 0 for r in c.award_rules])
    year_end = YearEnd(proposals, held, tally(c, ranked, ballots, issues), ballots_frame(c, ballots), next_heads,
                       margins(c, ranked, places))
    year = c.settings.year
    path = p.out / f"results-{year}.xlsx"
    write_results(path, c, ranked, m, unranked_units(c, v), issues, year_end)
    write_proposal(p.out / f"proposal-{year}.xlsx", c, proposals, held)
    v.issues = issues
    return path, v, ranked, year_end
