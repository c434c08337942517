"""The stages wired over a campaign folder: what each command does, file in, files out (Paths and collect live in
folder.py, which imports no pandas; both are found here too)."""
from __future__ import annotations

import datetime as dt
import email
import email.parser
import os
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pandas as pd

from schemas import columns

from .campaign import Campaign
from .check import load_checked
from .collect import EVIDENCE, Receipt, latest, load_receipts
from .folder import Paths, run_collect  # noqa: F401 (the stages' callers find both here too)
from .issues import ERROR, Issue, ThiduaError
from .awards import propose
from .proposal import write_proposal
from .inputs import missing_inputs
from .rank import rank
from .intake import Limits
from .read import check_rows, read_all
from .registration import registrations
from .report import YearEnd, write_results, write_validation
from .review import apply_claims, claims_to_review, load_reviews, self_scores, untouched
from .review import write_all as write_reviews
from .score import matrix, totals, with_review
from .mail import VIETNAM as VN
from .validate import Received, screen_senders, validate
from .votes import ballots_frame, conflicts, margins, succession, tally, with_votes
from .workbook import locked

REASON_VI = {"no_return": "Chưa gửi bản tự chấm", "errors": "Bản tự chấm có lỗi (xem trang Lỗi)"}


@dataclass
class Validation:
    campaign: Campaign
    issues: list[Issue]
    values: pd.DataFrame
    valid: set[str]
    received: dict[str, Received]
    receipts: list[Receipt]


@locked
def run_validate(root: Path, progress=lambda unit: None, feedback: bool = False, jobs: int | None = None) -> Validation:
    """Read the newest version of every unit's return and check it; writes out/validation.xlsx and, with
    `feedback`, out/feedback/<unit>.xlsx for every unit with issues."""
    p = Paths(root)
    c = load_checked(p.campaign, shelf=p.kept)
    receipts, sender_issues = screen_senders(c, load_receipts(p.submissions))
    received = read_latest(c, p, receipts, progress, jobs)
    check_rows([r.ret for r in received.values()])
    rejected = [r for r in receipts if r.status != "ok" and r.form == "score"]
    issues, values, valid = validate(c, received, rejected)
    issues = sender_issues + issues
    v = Validation(c, issues, values, valid, received, receipts)
    write_validation(p.out / "validation.xlsx", c, issues, unit_summary(v))
    if feedback:
        write_feedbacks(p, v)
    return v


def read_latest(c: Campaign, p: Paths, receipts: list[Receipt], progress=lambda unit: None,
                jobs: int | None = None) -> dict[str, Received]:
    """Each unit's newest score return, read (or its reading from collect kept in the cache), with its versions."""
    newest = latest(receipts)
    rets = read_all([(p.submissions / v[-1].stored, v[-1].original) for v in newest.values()], p.kept,
                    Limits.of(c.settings.max_file_mb), jobs, lambda ret: progress(ret.meta.get("unit_code", "")))
    return {unit: Received(ret, versions[-1], tuple(versions)) for (unit, versions), ret in zip(newest.items(), rets)}


def write_feedbacks(p: Paths, v: Validation) -> list[Path]:
    """out/feedback/<unit>.xlsx for each unit with issues about a file it sent; a unit with nothing wrong gets
    none (an earlier run's feedback for it is removed: out/ is ours)."""
    from .mail.feedback import write_feedback  # openpyxl: imported only by the commands that write feedback

    c = v.campaign
    newest = {r.unit: r for r in v.receipts if r.form == "score" and r.unit}  # receipts are oldest first
    newest.update({u: got.receipt for u, got in v.received.items()})
    grouped = by_unit(v.issues)
    written = []
    for u in c.units:
        mine = [i for i in grouped.get(u.code, []) if i.code != "no_return"]
        if mine and u.code in newest:
            r = newest[u.code]
            title = f"{c.settings.issuing_body} - đợt thi đua {c.settings.campaign_id}"
            # Dated by when the checked return came: the same returns give byte-identical feedback.
            written.append(write_feedback(p.feedback / f"{u.code}.xlsx", u.code, u.name, mine,
                                          p.submissions / r.stored, title, dt.datetime.fromisoformat(r.received)))
    for old in p.feedback.glob("*.xlsx") if p.feedback.is_dir() else ():
        if old not in written:
            old.unlink()
    return written


def by_unit(issues: list[Issue]) -> dict[str, list[Issue]]:
    grouped: dict[str, list[Issue]] = {}
    for i in issues:
        grouped.setdefault(i.unit, []).append(i)
    return grouped


def unit_summary(v: Validation) -> pd.DataFrame:
    """One row per unit: returned or not, how many versions, who sent the one that counts and when, errors,
    warnings and evidence files."""
    rows = []
    grouped = by_unit(v.issues)
    evidence: dict[str, int] = {}
    for r in v.receipts:
        if r.form == EVIDENCE and r.unit:
            evidence[r.unit] = evidence.get(r.unit, 0) + 1
    for u in v.campaign.units:
        mine = grouped.get(u.code, [])
        got = v.received.get(u.code)
        errors = sum(i.severity == ERROR for i in mine)
        late = any(i.code == "late" for i in mine)
        status = ("Chưa gửi" if got is None else "Có lỗi" if u.code not in v.valid else "Gửi muộn" if late
                  else "Hợp lệ")
        rows.append({"bloc": u.bloc, "unit": u.code, "name": u.name, "status": status,
                     "versions": len(got.versions) if got else 0,
                     "received": got.receipt.received.replace("T", " ") if got else "",
                     "sender": got.receipt.sender if got else "",
                     "errors": errors, "warnings": len(mine) - errors, "evidence": evidence.get(u.code, 0)})
    return pd.DataFrame(rows, columns=["bloc", "unit", "name", "status", "versions", "received", "sender", "errors",
                                       "warnings", "evidence"])


def unranked_units(c: Campaign, v: Validation) -> pd.DataFrame:
    grouped = by_unit(v.issues)
    rows = [{"bloc": u.bloc, "unit": u.code, "name": u.name,
             "reason": REASON_VI["no_return"] if u.code not in v.received else
             REASON_VI["errors"] + ": " + "; ".join(sorted({i.message() for i in grouped.get(u.code, []) if i.severity == ERROR}))[:500]}
            for u in c.units if u.code not in v.valid]
    return pd.DataFrame(rows, columns=["bloc", "unit", "name", "reason"])


@locked
def run_mail(root: Path, what: str, only: tuple[str, ...] = (), today: dt.date | None = None,
             now: dt.datetime | None = None) -> list[tuple[EmailMessage, Path]]:
    """Write one message per recipient of `what` under out/outbox/<what>/<unit or bloc>.eml; nothing is sent.

    templates and registration write the workbooks first where they are missing; review needs `thidua review`
    to have run; reminder and feedback validate the returns (and write out/feedback/) first."""
    from . import registration as forms
    from . import templates as scores
    from .mail import message, outbox

    p = Paths(root)
    warnings: list[Issue] = []
    c = load_checked(p.campaign, warnings, p.kept)
    s = c.settings
    sender = s.mail_from or s.reply_to
    if not sender:
        raise ThiduaError("Chưa có email người gửi: điền mail_from ở trang Thiết lập của campaign.xlsx "
                          "(no sender address: set mail_from)")
    today = today or dt.date.today()
    units = _chosen(c, only, what)
    folder = {"templates": p.out / "templates", "registration": p.out / "registration"}.get(what)
    if folder is not None:
        module = forms if what == "registration" else scores
        if not all(scores.template_path(folder, u).is_file() for u in units):
            module.write_all(c, folder, generated_at(p.campaign))
    unit_file = lambda folder: (lambda u: scores.template_path(folder, u))  # noqa: E731
    feedback_of = lambda u: (p.feedback / f"{u.code}.xlsx") if (p.feedback / f"{u.code}.xlsx").is_file() else None  # noqa: E731
    if folder is not None:
        letters = outbox.forms(what, c, units, unit_file(folder))
    elif what == "review":
        blocs = list(dict.fromkeys(u.bloc for u in units)) if only else [b.code for b in c.blocs]
        missing = [b for b in blocs if not (p.out / "review" / f"{b}.xlsx").is_file()]
        if missing:
            raise ThiduaError(f"Chưa có bảng thẩm định của khối {', '.join(missing)}: chạy `thidua review` trước "
                              "(no review workbook yet: run `thidua review`)")
        letters = outbox.review(c, blocs, lambda b: p.out / "review" / f"{b}.xlsx")
    else:
        v = run_validate(root, feedback=True)
        grouped = by_unit(v.issues)
        if what == "reminder":
            letters = outbox.reminder(c, units, v.received, v.valid, grouped, today,
                                      unit_file(p.out / "templates"), feedback_of)
            if any(l.attachment and not l.attachment.is_file() for l in letters):
                scores.write_all(c, p.out / "templates", generated_at(p.campaign))
        else:
            newest = {u: got.receipt for u, got in v.received.items()}
            letters = outbox.feedback(c, units, newest, grouped, feedback_of)
    _need_addresses(letters, warnings)
    out = p.outbox / what
    written = []
    for letter in letters:
        path = out / f"{letter.recipient}.eml"
        msg = message.compose(letter, sender, s.mail_from_name or s.issuing_body, s.reply_to,
                              _kept_date(path, message.message_id(letter, sender)) or now or dt.datetime.now(VN))
        written.append((msg, message.write_eml(msg, path)))
    if not only and out.is_dir():  # a unit that has since returned gets no stale reminder
        for old in set(out.glob("*.eml")) - {w for _, w in written}:
            old.unlink()
    return written


def _chosen(c: Campaign, only: tuple[str, ...], what: str) -> list:
    """The units (for review: the members of the blocs) named by --only, or all; an unknown code stops the run."""
    if not only:
        return list(c.units)
    blocs = {b.code for b in c.blocs}
    unknown = [x for x in only if c.unit(x) is None and x not in blocs]
    if unknown:
        raise ThiduaError(f"Không có đơn vị hay khối nào mã {', '.join(unknown)} (unknown code in --only)")
    return [u for u in c.units if u.code in only or u.bloc in only]


def _need_addresses(letters, warnings: list[Issue]) -> None:
    """Every recipient needs an address before anything is written: name the Đơn vị cells that lack one."""
    lacking = [l.recipient for l in letters if not l.to]
    if lacking:
        cells = {i.params.get("unit"): i.cell for i in warnings if i.code == "email_missing"}
        where = ", ".join(f"{u} (Đơn vị!{cells[u]})" if cells.get(u) else u for u in lacking)
        raise ThiduaError(f"Chưa có email của: {where}; điền cột Email ở trang Đơn vị rồi chạy lại "
                          "(units without an email address)")


def _kept_date(path: Path, message_id: str) -> dt.datetime | None:
    """The Date of the same message written before: an unchanged message stays byte-identical."""
    if not path.is_file():
        return None
    with open(path, "rb") as f:  # its headers only: the attachment's 100 KB of base64 is not parsed
        old = email.parser.BytesParser(policy=policy.default).parse(f, headersonly=True)
    try:
        return old["Date"].datetime if old["Message-ID"] == message_id and old["Date"] else None
    except (TypeError, ValueError, AttributeError):
        return None


def generated_at(campaign_file: Path) -> dt.datetime:
    """When workbooks sent out count as made: SOURCE_DATE_EPOCH, else when campaign.xlsx was last saved.

    Never 'now', so the same covenant gives byte-identical templates on every run.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    stamp = int(epoch) if epoch and epoch.isdigit() else int(campaign_file.stat().st_mtime)
    return dt.datetime.fromtimestamp(stamp, dt.timezone.utc).replace(tzinfo=None)


def year_end_status(root: Path, v: Validation) -> pd.DataFrame:
    """Per bloc: the completed review (file, scores changed, issues), the ballot, registrations received."""
    c = v.campaign
    m = matrix(c, v.values)
    current = self_scores(m)
    issues, reviewed, ballots = load_reviews(c, Paths(root).reviews, m, current=current)
    forms = {r.unit for r in v.receipts if r.form == "registration" and r.status == "ok"}
    rows = []
    for b in c.blocs:
        mine = reviewed[reviewed["unit"].isin([u.code for u in c.members(b.code)])]
        changed = sum(abs(x - current[(u, k)]) > 1e-9 for u, k, x in columns(mine, "unit", "code", "reviewed"))
        ballot = ballots.get(b.code)
        files = set(mine["file"]) | ({ballot.file} if ballot else set())
        rows.append({"bloc": b.code, "review": ", ".join(sorted(files)), "changed": int(changed),
                     "issues": sum(i.file in files for i in issues),
                     "ballot": "chưa có" if ballot is None else "hợp lệ" if ballot.ok else "không hợp lệ",
                     "forms": sum(u.code in forms for u in c.members(b.code)), "members": len(c.members(b.code))})
    return pd.DataFrame(rows)


@locked
def run_review(root: Path, generated_at, progress=lambda bloc: None, jobs: int | None = None
               ) -> tuple[list[Path], Validation]:
    """Validate and score; write out/review/<bloc>.xlsx for each bloc head, pre-filled with the self scores,
    or with what a completed review already in CAMPAIGN/review/ says (a re-run after a late return loses
    nothing the bloc head typed)."""
    p = Paths(root)
    v = run_validate(root, jobs=jobs)
    c = v.campaign
    m = matrix(c, v.values)
    found, reviewed, ballots = load_reviews(c, p.reviews, m, v.values, jobs)
    m = with_review(m, reviewed)
    ranked = rank(c, with_votes(c, totals(c, apply_claims(v.values, reviewed), m), ballots))
    v.issues = v.issues + found
    return write_reviews(c, p.out / "review", m, ranked, generated_at, progress, ballots,
                         claims_to_review(v.values, reviewed), jobs, p.written), v


@locked
def run_rank(root: Path, progress=lambda unit: None, jobs: int | None = None
             ) -> tuple[Path, Validation, pd.DataFrame, YearEnd]:
    """Validate, apply the completed reviews and votes, score, rank and propose awards;
    writes out/results-<year>.xlsx and out/proposal-<year>.xlsx."""
    p = Paths(root)
    v = run_validate(root, progress, jobs=jobs)
    c = v.campaign
    m = matrix(c, v.values)
    current = self_scores(m)  # every self score by (unit, criterion): built once for the reviews and the inputs
    review_issues, reviewed, ballots = load_reviews(c, p.reviews, m, v.values, jobs, current=current)
    values = apply_claims(v.values, reviewed)  # the bloc heads' reviewed bonus and deduction claims
    reviewed = reviewed[reviewed["section"] == "criteria"]
    # out/review/ as thidua wrote it holds nothing typed: only a workbook changed there since is read
    elsewhere = load_reviews(c, p.out / "review", m, jobs=jobs, skip=untouched(p.out / "review", p.written))[1:]
    input_issues = missing_inputs(c, v.valid, current, reviewed, ballots, elsewhere)
    m = with_review(m, reviewed)
    ranked = rank(c, with_votes(c, totals(c, values, m), ballots))
    vote_issues = conflicts(c, ranked, ballots)
    next_heads, tie_issues = succession(c, ballots)
    reg_issues, registered, _ = registrations(c, v.receipts, p.submissions)
    proposals, held = propose(c, ranked, registered)
    issues = v.issues + review_issues + input_issues + vote_issues + tie_issues + reg_issues
    places = max([3] + [r.rank_to or 0 for r in c.award_rules])
    year_end = YearEnd(proposals, held, tally(c, ranked, ballots, issues), ballots_frame(c, ballots), next_heads,
                       margins(c, ranked, places))
    year = c.settings.year
    path = p.out / f"results-{year}.xlsx"
    write_results(path, c, ranked, m, unranked_units(c, v), issues, year_end)
    write_proposal(p.out / f"proposal-{year}.xlsx", c, proposals, held)
    v.issues = issues
    return path, v, ranked, year_end
