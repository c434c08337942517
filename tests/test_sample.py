"""The committed sample campaign is exactly what sample_data/build.py writes: rebuilt into tmp_path, byte for byte."""
from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from pathlib import Path

import openpyxl
import pytest

from pipeline.check import load_checked

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "quang-tri-2025"


def _load_builder():
    spec = importlib.util.spec_from_file_location("sample_build", ROOT / "sample_data" / "build.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    return module


build = _load_builder()


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sample") / "quang-tri-2025"
    build.main(root)
    return root


def _xlsx(folder: Path) -> dict[str, Path]:
    return {p.name: p for p in sorted(folder.glob("*.xlsx"))}


def _unit_of(path: Path) -> str | None:
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        if "_meta" not in wb.sheetnames:
            return None
        return dict((k, v) for k, v, *_ in wb["_meta"].iter_rows(values_only=True)).get("unit_code")
    finally:
        wb.close()


def test_campaign_is_byte_identical(rebuilt):
    assert (rebuilt / "campaign.xlsx").read_bytes() == (SAMPLE / "campaign.xlsx").read_bytes()


def test_inbox_is_byte_identical(rebuilt):
    made, committed = _xlsx(rebuilt / "inbox"), _xlsx(SAMPLE / "inbox")
    assert made, "the builder wrote no returns"
    assert set(made) == set(committed)
    for name, path in made.items():
        assert path.read_bytes() == committed[name].read_bytes(), name


def test_rebuilding_is_idempotent(rebuilt):
    before = {n: p.read_bytes() for n, p in _xlsx(rebuilt / "inbox").items()}
    build.main(rebuilt)
    assert {n: p.read_bytes() for n, p in _xlsx(rebuilt / "inbox").items()} == before


def test_faults_name_real_units_and_dn03_sends_nothing(rebuilt):
    campaign = load_checked(rebuilt / "campaign.xlsx")
    codes = {u.code for u in campaign.units}
    assert set(build.FAULTS) <= codes
    senders = {name: _unit_of(path) for name, path in _xlsx(rebuilt / "inbox").items()}
    assert "DN03" not in senders.values()
    assert senders[build.NOT_A_RETURN] is None
    assert set(senders.values()) - {None} == codes - {"DN03"}
    assert [n for n, u in senders.items() if u == "VX09"] == sorted([build.VX09_FIRST, build.VX09_SECOND])


def test_received_times(rebuilt):
    def received(name: str) -> dt.datetime:
        mtime = (rebuilt / "inbox" / name).stat().st_mtime
        return dt.datetime.fromtimestamp(mtime, dt.timezone.utc).replace(tzinfo=None)

    assert received(build.VX09_FIRST) == dt.datetime(2025, 12, 5, 9, 0)
    assert received(build.VX09_SECOND) == dt.datetime(2025, 12, 8, 15, 30)
    late = {r.name for r in build.plan(load_checked(rebuilt / "campaign.xlsx")) if r.unit.code == "KT07"}
    for name in _xlsx(rebuilt / "inbox"):
        when = received(name)
        if name in late:
            assert when == dt.datetime(2025, 12, 12, 10, 0)
        else:
            assert dt.datetime(2025, 12, 1) <= when < dt.datetime(2025, 12, 10), name
