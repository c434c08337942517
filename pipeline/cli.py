"""Command line: one click group, one subcommand per stage; no logic beyond wiring and printing."""
from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
from functools import wraps
from pathlib import Path

import click

from . import __version__
from .issues import SEVERITY_VI, ThiduaError, has_errors

MASTER = Path(__file__).resolve().parents[1] / "templates" / "xlsx" / "campaign.xlsx"


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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="thidua")
def main():
    """thidua: chấm điểm, xếp hạng và đề nghị khen thưởng khối thi đua.

    \b
    Year-end work of an emulation bloc, one command per stage. A campaign is a folder:
      CAMPAIGN/campaign.xlsx   the covenant (settings, blocs, units, criteria, awards)
      CAMPAIGN/inbox/          returns from units, as they arrive
      CAMPAIGN/review/         the bloc heads' completed review workbooks
      CAMPAIGN/out/            everything thidua writes (deletable, rebuildable)

    \b
    Order of work: new -> check -> templates -> (units fill in) -> collect ->
    validate -> review -> rank.
    """


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


def generated_at(campaign_file: Path) -> dt.datetime:
    """When templates count as made: SOURCE_DATE_EPOCH, else when campaign.xlsx was last saved.

    Never 'now', so the same covenant gives byte-identical templates on every run.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    stamp = int(epoch) if epoch and epoch.isdigit() else int(campaign_file.stat().st_mtime)
    return dt.datetime.fromtimestamp(stamp, dt.timezone.utc).replace(tzinfo=None)


@main.command()
@CAMPAIGN
@_stops_cleanly
def templates(campaign):
    """Tạo mẫu tự chấm điểm. Reads campaign.xlsx; writes CAMPAIGN/out/templates/<bloc>/<unit>.xlsx, one per unit."""
    from .check import load_checked
    from .templates import template_path, write_template

    c = load_checked(campaign / "campaign.xlsx")
    out = campaign / "out" / "templates"
    when = generated_at(campaign / "campaign.xlsx")
    with click.progressbar(c.units, label="Tạo mẫu", file=sys.stderr,
                           item_show_func=lambda u: u.code if u else "") as units:
        for unit in units:
            write_template(template_path(out, unit), c, unit, when)
    click.echo(f"Đã tạo {len(c.units)} mẫu trong {out}")
