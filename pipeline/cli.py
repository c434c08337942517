"""Command line: one click group, one subcommand per stage; no logic beyond wiring and printing."""
from __future__ import annotations

import os
import shutil
import sys
from dataclasses import replace
from functools import wraps
from pathlib import Path

import click

from . import __version__
from .issues import SEVERITY_VI, ThiduaError, has_errors

# The blank master: package data once installed (pipeline/master/), templates/xlsx/ in a source checkout.
MASTER = next((p for p in (Path(__file__).resolve().parent / "master" / "campaign.xlsx",
                           Path(__file__).resolve().parents[1] / "templates" / "xlsx" / "campaign.xlsx") if p.is_file()),
              Path(__file__).resolve().parents[1] / "templates" / "xlsx" / "campaign.xlsx")


def _stops_cleanly(f):
    """ThiduaError becomes one line on stderr and exit 1; never a traceback for bad input."""
    @wraps(f)
    def run(*args, **kwargs):
        try:
            return f(*args, **kwargs)
        except ThiduaError as e:
            click.secho(f"Lỗi: {e}", fg="red", err=True)
            sys.exit(1)
    return run


def _campaign_dir(ctx, param, value) -> Path:
    path = Path(value)
    if not (path / "campaign.xlsx").is_file():
        raise click.BadParameter(f"{path} không có campaign.xlsx (not a campaign folder; create one with `thidua new`)")
    return path


CAMPAIGN = click.argument("campaign", type=click.Path(file_okay=False), callback=_campaign_dir)
# Writing templates, reading returns and writing/reading review workbooks run on this many processes; the outputs
# are the same whatever the number.
JOBS = click.option("--jobs", "-j", type=click.IntRange(min=1), default=None, metavar="N",
                    help="Processes for writing templates, reading returns and review workbooks (default: every core).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="thidua")
def main():
    """thidua: chấm điểm, xếp hạng và đề nghị khen thưởng khối thi đua.

    \b
    Year-end work of an emulation bloc, one command per stage. A campaign is a folder:
      CAMPAIGN/campaign.xlsx   the covenant (settings, blocs, units, criteria, awards)
      CAMPAIGN/inbox/          returns from units, as they arrive
      CAMPAIGN/review/         the bloc heads' completed review workbooks
      CAMPAIGN/out/            everything thidua writes (deletable, rebuildable; out/cache/
                               keeps what reading each file found, so it is read once)

    \b
    Order of work: new -> check -> templates [--registration] -> mail (templates
    out) -> (units fill in, reply by mail) -> collect [mailbox, --imap] -> validate
    -> mail --what feedback / reminder -> review -> mail --what review -> (bloc
    heads review, conference votes; completed reviews into CAMPAIGN/review/) -> rank.

    templates, collect, validate, status, review and rank work on every core
    (--jobs N to choose); the outputs are the same whatever the number.
    """
    from .pool import batch_gc

    batch_gc()


@main.command()
@click.argument("directory", type=click.Path(file_okay=False))
@_stops_cleanly
def new(directory):
    """Tạo đợt thi đua mới: DIRECTORY/campaign.xlsx (from the blank master), inbox/, review/."""
    target = Path(directory)
    if (target / "campaign.xlsx").exists():
        raise ThiduaError(f"{target / 'campaign.xlsx'} đã có; không ghi đè (already exists, not overwritten)")
    if not MASTER.is_file():
        raise ThiduaError(f"Không tìm thấy mẫu {MASTER} (master template missing)")
    for sub in ("inbox", "review"):
        (target / sub).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(MASTER, target / "campaign.xlsx")
    click.echo(f"Đã tạo {target / 'campaign.xlsx'}: mở bằng Excel, điền các trang, rồi chạy `thidua check {target}`.")


@main.command()
@CAMPAIGN
@_stops_cleanly
def check(campaign):
    """Kiểm tra campaign.xlsx. Reads CAMPAIGN/campaign.xlsx; prints every problem with its sheet and cell.

    Exit 0 when there is no error, 1 when there is one.
    """
    from .check import load_campaign

    _, issues = load_campaign(campaign / "campaign.xlsx")
    for i in issues:
        click.echo(f"{SEVERITY_VI[i.severity]} [{i.sheet}] {i.cell or '-'} {i.code}: {i.message()}")
    if has_errors(issues):
        click.secho(f"{sum(i.severity == 'error' for i in issues)} lỗi trong campaign.xlsx.", fg="red", err=True)
        sys.exit(1)
    click.secho("campaign.xlsx hợp lệ." + (f" ({len(issues)} cảnh báo)" if issues else ""), fg="green")


@main.command()
@CAMPAIGN
@click.option("--registration", is_flag=True,
              help="Mẫu đăng ký thi đua đầu năm (danh hiệu, nhiệm vụ trọng tâm) thay cho mẫu tự chấm. "
                   "The start-of-year registration form instead of the score template.")
@JOBS
@_stops_cleanly
def templates(campaign, registration, jobs):
    """Tạo mẫu tự chấm điểm; với --registration, mẫu đăng ký thi đua đầu năm. Reads campaign.xlsx;
    writes CAMPAIGN/out/templates/<bloc>/<unit>.xlsx, one per unit; with --registration the registration
    form (titles aimed for, key tasks) to CAMPAIGN/out/registration/<bloc>/<unit>.xlsx instead."""
    from . import registration as forms
    from . import templates as scores
    from .check import load_checked
    from .workflow import generated_at

    c = load_checked(campaign / "campaign.xlsx")
    from .workbook import run_lock

    module, folder = (forms, "registration") if registration else (scores, "templates")
    out = campaign / "out" / folder
    with run_lock(campaign / "out"), _bar("Tạo mẫu đăng ký" if registration else "Tạo mẫu", len(c.units)) as bar:
        module.write_all(c, out, generated_at(campaign / "campaign.xlsx"), lambda unit: bar.update(1), jobs=jobs)
    click.echo(f"Đã tạo {len(c.units)} mẫu {'đăng ký thi đua' if registration else 'tự chấm'} trong {out}")


def _bar(label: str, length: int):
    return click.progressbar(length=length, label=label, file=sys.stderr, show_pos=True)


@main.command()
@CAMPAIGN
@click.argument("sources", nargs=-1, type=click.Path(path_type=Path))
@click.option("--imap", "imap_url", metavar="URL", default="",
              help="Also read an IMAP folder, read-only: imaps://user@host[:port]/FOLDER. Password from "
                   "THIDUA_IMAP_PASSWORD (or THIDUA_SMTP_PASSWORD), else asked.")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d", "%d/%m/%Y"]), default=None,
              help="With --imap: only messages from this day on (2025-12-01 or 01/12/2025).")
@JOBS
@_stops_cleanly
def collect(campaign, sources, imap_url, since, jobs):
    """Thu nhận bản tự chấm. Reads CAMPAIGN/inbox/ (or SOURCES): workbooks (.xlsx .xlsm .xls .ods), mail
    (.eml, .mbox, Maildir folders, a Zimbra export .tgz) and, with --imap, a mailbox folder on the server
    (nothing there is flagged, moved or deleted). Every workbook, and every workbook attached to a message, is
    copied unchanged to out/submissions/<sha256>.<ext> with a receipt in out/submissions/receipts.csv (sender,
    Date, Message-ID of a mailed one); other attachments (minh chứng: PDF, images, Word) go to
    out/submissions/evidence/<unit>/. A mailed return is received at its message's Date; a plain file at the
    time in inbox/received.csv, else its modification time. Nothing in the inbox is modified or moved.

    \b
    Example:
      thidua collect CAMPAIGN CAMPAIGN/inbox thu-tu-cham.mbox
      thidua collect CAMPAIGN --imap imaps://thiduakhenthuong@mail.tinh.gov.vn/INBOX --since 2025-12-01
    """
    from .collect import STATUS
    from .folder import Paths, run_collect

    password = _password("THIDUA_IMAP_PASSWORD", imap_url.split("//", 1)[-1].rsplit("@", 1)[0]) if imap_url else ""
    # How many files the mailboxes hold is known only once read: the bar counts, without a total.
    with click.progressbar((x for x in ()), label="Thu nhận", file=sys.stderr, show_pos=True) as bar:
        receipts = run_collect(campaign, list(sources) or None, lambda r: bar.update(1), imap_url, password,
                               since.date() if since else None, jobs)
    for r in receipts:
        mark = "✓" if r.status == "ok" else "·" if r.status == "evidence" else "✗"
        kind = "phiếu đăng ký thi đua, " if r.form == "registration" else ""
        sender = f" từ {r.sender}" if r.sender else ""
        click.echo(f"{mark} {r.received.replace('T', ' ')}  {r.unit or '-':6} {r.original}{sender}  {kind}"
                   f"{STATUS[r.status]}" + (f" ({r.note})" if r.note else ""))
    click.echo(f"{len(receipts)} tệp đã nhận; lưu tại {Paths(campaign).submissions}")


def _password(variable: str, user: str) -> str:
    """From the environment, else asked without echo; never written anywhere."""
    return (os.environ.get(variable) or os.environ.get("THIDUA_SMTP_PASSWORD")
            or click.prompt(f"Mật khẩu của {user}", hide_input=True, err=True))


@main.command()
@CAMPAIGN
@click.option("--what", type=click.Choice(["templates", "registration", "review", "reminder", "feedback"]),
              default="templates", show_default=True, help="Which mailing.")
@click.option("--send", is_flag=True, help="Send through SMTP. Without it nothing leaves the machine.")
@click.option("--resend", is_flag=True, help="With --send: send again what sent.csv says was sent.")
@click.option("--only", multiple=True, metavar="CODE",
              help="Only these units (or the units of these blocs); repeat or separate by commas.")
@_stops_cleanly
def mail(campaign, what, send, resend, only):
    """Gửi thư cho các đơn vị. Writes one message per recipient to out/outbox/<what>/<unit or bloc>.eml
    (To the unit's email on the Đơn vị sheet; for review the bloc head unit), a Vietnamese subject and text
    and the workbook attached: templates (out/templates/), registration (out/registration/), review
    (out/review/, after `thidua review`), reminder (to units that sent nothing, or whose newest return has
    errors, with the template or their feedback), feedback (out/feedback/<unit>.xlsx, as a reply to the
    message the return came in). Without --send this is a dry run: nothing leaves the machine. With --send
    the messages go through the SMTP server of the Thiết lập sheet (smtp_host, smtp_port, smtp_security,
    smtp_user; THIDUA_SMTP_HOST, THIDUA_SMTP_PORT, THIDUA_SMTP_SECURITY, THIDUA_SMTP_USER override them; the
    password from THIDUA_SMTP_PASSWORD, else asked, never saved) and are logged in out/outbox/sent.csv; a
    re-run sends only what has not been sent.

    \b
    Example:
      thidua mail CAMPAIGN                      # dry run: look at out/outbox/templates/*.eml
      thidua mail CAMPAIGN --send               # send every unit its template
      thidua mail CAMPAIGN --what reminder --send
      thidua mail CAMPAIGN --what feedback --send --only DV03
    """
    from .workflow import Paths, run_mail

    codes = tuple(x.strip() for item in only for x in item.split(",") if x.strip())
    written = run_mail(campaign, what, codes)
    out = Paths(campaign).outbox
    if not written:
        click.echo(f"Không có thư {what} nào cần gửi.")
        return
    if not send:
        for msg, path in written:
            click.echo(f"  {msg['To']}  {path.relative_to(campaign)}")
        click.secho(f"Chạy thử: đã ghi {len(written)} thư vào {out / what}; chưa gửi thư nào. "
                    "Thêm --send để gửi (dry run: nothing sent).", fg="yellow")
        return
    _send(campaign, what, written, resend)


def _send(campaign: Path, what: str, written: list, resend: bool) -> None:
    from .check import load_checked
    from .mail import smtp
    from .workflow import Paths

    s = load_checked(campaign / "campaign.xlsx").settings
    config = smtp.config_from(s.smtp_host, s.smtp_port, s.smtp_security, s.smtp_user)
    if not config.host:
        raise ThiduaError("Chưa có máy chủ gửi thư: điền smtp_host ở trang Thiết lập hoặc đặt THIDUA_SMTP_HOST")
    if config.user and not config.password:
        config = replace(config, password=click.prompt(f"Mật khẩu SMTP của {config.user}", hide_input=True, err=True))
    log = Paths(campaign).outbox / "sent.csv"
    messages = [(what, path.stem, msg) for msg, path in written]
    with _bar(f"Gửi thư qua {config.host}", len(messages)) as bar:
        rows = smtp.send_all(messages, config, log, resend, lambda done: bar.update(1))
    failed = [r for r in rows if r["result"] != "ok"]
    for r in failed:
        click.secho(f"Không gửi được {r['unit']} <{r['to']}>: {r['result']}", fg="red", err=True)
    skipped = len(messages) - len(rows)
    click.secho(f"Đã gửi {len(rows) - len(failed)} thư" + (f", {len(failed)} không gửi được" if failed else "")
                + (f", {skipped} đã gửi trước đó (bỏ qua; --resend để gửi lại)" if skipped else "")
                + f". Nhật ký: {log}", fg="red" if failed else "green")
    if failed:
        sys.exit(1)


@main.command()
@CAMPAIGN
@JOBS
@_stops_cleanly
def status(campaign, jobs):
    """Tình hình nộp bài. Reads out/submissions/ (after collect) and CAMPAIGN/review/; prints per unit:
    returned (versions; when and from which address the one that counts came), late, missing, has errors,
    evidence files; per bloc: the completed review and the
    ballot, and how many registration forms came in."""
    from .workflow import run_validate, unit_summary, year_end_status

    v = run_validate(campaign, jobs=jobs)
    frame = unit_summary(v)
    for bloc, rows in frame.groupby("bloc", sort=False):
        click.secho(f"Khối {bloc}", bold=True)
        for r in rows.itertuples():
            color = {"Hợp lệ": "green", "Gửi muộn": "yellow", "Có lỗi": "red", "Chưa gửi": "red"}[r.status]
            click.echo(f"  {r.unit:6} {r.name[:44]:44} " + click.style(f"{r.status:9}", fg=color)
                       + f" {r.versions} bản  {r.received}  {r.errors} lỗi, {r.warnings} cảnh báo"
                       + (f"  từ {r.sender}" if r.sender else "") + (f"  {r.evidence} minh chứng" if r.evidence else ""))
    counts = frame["status"].value_counts()
    click.echo(", ".join(f"{k}: {n}" for k, n in counts.items()))
    for r in year_end_status(campaign, v).itertuples():
        review = (f"bảng thẩm định {r.review}: {r.changed} điểm điều chỉnh, {r.issues} vấn đề" if r.review
                  else click.style("chưa có bảng thẩm định", fg="yellow"))
        click.echo(f"Khối {r.bloc}: {review}; bỏ phiếu {r.ballot}; phiếu đăng ký thi đua {r.forms}/{r.members}")


def _print_issues(v) -> None:
    from .issues import ERROR

    errors = [i for i in v.issues if i.severity == ERROR]
    for i in (errors + [i for i in v.issues if i.severity != ERROR])[:60]:
        click.echo(f"{SEVERITY_VI[i.severity]:8} {i.unit or '-':6} {i.where() or '-'}  {i.code}: {i.message()}")
    if len(v.issues) > 60:
        click.echo(f"... và {len(v.issues) - 60} vấn đề khác (xem out/validation.xlsx)")
    click.echo(f"{len(errors)} lỗi, {len(v.issues) - len(errors)} cảnh báo; "
               f"{len(v.valid)}/{len(v.campaign.units)} đơn vị có bản tự chấm hợp lệ.")


@main.command()
@CAMPAIGN
@JOBS
@_stops_cleanly
def validate(campaign, jobs):
    """Kiểm tra bản tự chấm. Reads out/submissions/ (after collect); writes out/validation.xlsx
    (sheet Lỗi: unit, file, sheet, cell, code, severity, message) and, for every unit with issues,
    out/feedback/<unit>.xlsx: its own issues with how to fix them, and a copy of its return with each problem
    cell coloured and commented (send them with `thidua mail --what feedback`). Exit 1 if any return has an
    error."""
    from .workflow import Paths, run_validate

    v = run_validate(campaign, feedback=True, jobs=jobs)
    _print_issues(v)
    click.echo(f"Đã ghi {campaign / 'out' / 'validation.xlsx'}")
    feedback = sorted(Paths(campaign).feedback.glob("*.xlsx")) if Paths(campaign).feedback.is_dir() else []
    if feedback:
        click.echo(f"Đã ghi {len(feedback)} tệp phản hồi cho đơn vị trong {Paths(campaign).feedback}")
    if has_errors(v.issues):
        sys.exit(1)


@main.command()
@CAMPAIGN
@JOBS
@_stops_cleanly
def review(campaign, jobs):
    """Bảng thẩm định, bỏ phiếu cho Trưởng khối. Reads out/submissions/ (after collect); writes
    out/review/<bloc>.xlsx per bloc: sheet Thẩm định (self scores beside editable reviewed scores, a note
    column) and sheet Bỏ phiếu (votes for the leading unit, next year's head and deputy; units present,
    ballots issued and valid). Completed workbooks go in CAMPAIGN/review/, where `rank` reads them; a
    re-run (after a late return) starts from them, so nothing typed there is lost."""
    from .workflow import Paths, generated_at, run_review

    c_file = campaign / "campaign.xlsx"
    paths, v = run_review(campaign, generated_at(c_file), jobs=jobs)
    _print_issues(v)
    for path in paths:
        click.echo(f"Đã ghi {path}")
    click.echo(f"Trưởng khối điền, gửi lại; đặt bảng đã điền vào {Paths(campaign).reviews} rồi chạy `thidua rank`.")


@main.command()
@CAMPAIGN
@JOBS
@_stops_cleanly
def rank(campaign, jobs):
    """Chấm điểm, xếp hạng, đề nghị khen thưởng. Reads out/submissions/ (after collect), the completed
    reviews and votes in CAMPAIGN/review/, registrations; writes out/validation.xlsx,
    out/results-<year>.xlsx (ranking, proposals and units held back with reasons, vote tally, next year's
    head and deputy, margins) and out/proposal-<year>.xlsx (the printable lists, one sheet per award and
    issuer). Each bloc's sheet lists every member and what rank could not use (a missing review or ballot). A
    campaign of more than 50,000 scores writes their sources to out/results-<year>-nguon-so-lieu.csv. Ranks what
    is valid, lists what it left out and why; exit 0 when written."""
    from .workflow import Paths, run_rank

    path, v, ranked, year_end = run_rank(campaign, jobs=jobs)
    _print_issues(v)
    for r in year_end.proposals.itertuples():
        click.echo(f"Đề nghị  {r.bloc:4} {r.unit:6} {r.short_name[:30]:30} {r.award} ({r.issuer})"
                   + (f"  ⚠ {r.warning}" if r.warning else ""))
    for r in year_end.held.itertuples():
        click.echo(f"Không đề nghị {r.unit:6} {r.award}: {r.reason}")
    for r in year_end.succession.itertuples():
        click.echo(f"Khối {r.bloc} năm {v.campaign.settings.year + 1}: Trưởng khối {r.head}, Phó khối {r.deputy}")
    click.secho(f"Kết quả: {path}", fg="green")
    click.secho(f"Danh sách đề nghị: {Paths(campaign).out / f'proposal-{v.campaign.settings.year}.xlsx'}", fg="green")
