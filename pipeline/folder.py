"""The campaign folder: where every stage reads and writes (Paths), and `collect`, wired over it.

Apart from workflow.py because `thidua collect` runs often, as returns trickle in, and needs none of what the
later stages import (pandas, pandera, xlsxwriter's writer): only the files, calamine and the kept campaign.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .cache import Shelf
from .check import load_checked
from .collect import Receipt, collect
from .issues import ThiduaError
from .workbook import locked


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
    def feedback(self) -> Path:
        return self.out / "feedback"

    @property
    def outbox(self) -> Path:
        return self.out / "outbox"

    @property
    def cache(self) -> Path:
        """thidua's own cache (safe to delete): what checking campaign.xlsx and reading each stored return
        found, and what `review` wrote."""
        return self.out / "cache"

    @property
    def kept(self) -> Shelf:
        """The checked campaign.xlsx and what reading each stored return found, so that a file is read once (by
        collect, for validate and the next run): pipeline/cache.py."""
        return Shelf(self.cache / "kept.sqlite")

    @property
    def written(self) -> Path:
        """What `review` wrote into out/review/ (file -> SHA-256): `rank` reads only what changed there since."""
        return self.cache / "review-written.json"

    @property
    def reviews(self) -> Path:
        """Completed reviews, put here by the officer (never written by thidua)."""
        return self.root / "review"


@locked
def run_collect(root: Path, sources: list[Path] | None = None, progress=lambda r: None, imap: str = "",
                password: str = "", since=None, jobs: int | None = None) -> list[Receipt]:
    """Collect the inbox (or the sources given) and, with `imap`, an IMAP folder read-only."""
    p = Paths(root)
    c = load_checked(p.campaign, shelf=p.kept)
    sources = sources if sources is not None else ([] if imap and not p.inbox.exists() else [p.inbox])
    missing = [s for s in sources if not s.exists()]
    if missing:
        raise ThiduaError(f"Không tìm thấy {missing[0]} (source not found)")
    if imap:
        from .mail.imap import read_imap
    mail = read_imap(imap, password, since) if imap else ()
    return collect(c, sources, p.submissions, progress, mail, p.kept, jobs)
