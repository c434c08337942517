"""Year-end inputs: the reviews and ballots `rank` found (and those it found in the wrong place) -> a warning for
each bloc whose proposal would otherwise be made from missing inputs without the officer being told.

Pure: the caller reads the folders (CAMPAIGN/review/, and out/review/ where a bloc head may have typed by mistake).
"""
from __future__ import annotations

import pandas as pd

from schemas import columns

from .campaign import Campaign
from .issues import WARNING, Issue

WRONG_FOLDER = "out/review/"
# What missing_inputs reports, each about one bloc (params["bloc"]): also shown on that bloc's results sheet.
CODES = ("review_wrong_folder", "review_missing", "review_unit_missing", "ballot_missing")


def missing_inputs(c: Campaign, valid: set[str], current: dict[tuple[str, str], float], reviewed: pd.DataFrame,
                   ballots: dict, elsewhere: tuple[pd.DataFrame, dict] | None = None) -> list[Issue]:
    """Per bloc with valid returns: no completed review in review/, a review filled in out/review/ instead, a valid
    unit the review does not cover (its return came after the review was made), no recorded ballot.

    `current` is the self score per (unit, criterion); `reviewed` and `ballots` what load_reviews found in
    review/; `elsewhere` the same read from out/review/.
    """
    issues: list[Issue] = []
    other_rows, other_ballots = elsewhere if elsewhere is not None else (reviewed.iloc[0:0], {})
    # Split by bloc once: a filter of the whole review per bloc grows with the square of the campaign.
    bloc_of = {u.code: u.bloc for u in c.units}
    mine_by_bloc = _by_bloc(reviewed, bloc_of)
    theirs_by_bloc = _by_bloc(other_rows, bloc_of)
    for bloc in c.blocs:
        units = [u.code for u in c.members(bloc.code) if u.code in valid]
        if not units:
            continue  # nothing to rank: its units are listed as not ranked
        mine = mine_by_bloc.get(bloc.code, reviewed.iloc[0:0])
        mine = mine[mine["unit"].isin(units)]
        files = sorted(set(mine["file"]))
        # Typed in out/review/: a score neither the self score nor what review/ says (a re-run of `thidua review`
        # pre-fills out/review/ from review/), or a ballot review/ does not have.
        done = {(u, k): x for u, k, x in columns(mine, "unit", "code", "reviewed")}
        theirs = theirs_by_bloc.get(bloc.code, other_rows.iloc[0:0])
        theirs = theirs[theirs["unit"].isin(units)]
        typed = [f for u, k, x, f in columns(theirs, "unit", "code", "reviewed", "file")
                 if (u, k) in current and abs(x - current[(u, k)]) > 1e-9 and abs(x - done.get((u, k), x + 1)) > 1e-9]
        other_ballot = other_ballots.get(bloc.code) if bloc.code not in ballots else None
        misplaced = sorted(set(typed) | ({other_ballot.file} if other_ballot is not None else set()))
        params = {"bloc": bloc.code}
        if misplaced:
            issues.append(Issue("review_wrong_folder", WARNING, file=misplaced[0],
                                params={**params, "found": WRONG_FOLDER + misplaced[0]}))
        if not files and not misplaced:
            issues.append(Issue("review_missing", WARNING, params=params))
        covered = set(mine["unit"])
        for unit in units:
            if files and unit not in covered:
                issues.append(Issue("review_unit_missing", WARNING, unit=unit, file=files[-1],
                                    params={**params, "unit": unit, "file": files[-1]}))
        if bloc.code not in ballots and other_ballot is None:
            issues.append(Issue("ballot_missing", WARNING, params=params))
    return issues


def _by_bloc(rows: pd.DataFrame, bloc_of: dict[str, str]) -> dict[str, pd.DataFrame]:
    if not len(rows):
        return {}
    return dict(tuple(rows.groupby(rows["unit"].map(bloc_of), sort=False)))
