"""Builds the sample campaign folder from content.py: `python sample_data/build.py` (seeded, byte-identical)."""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import content as C  # noqa: E402

from pipeline.campaign_book import write_campaign  # noqa: E402

CAMPAIGN = HERE / "quang-tri-2025"


def campaign_content() -> dict[str, list[dict]]:
    flags = ("discipline", "investigation", "inspection", "complaint")
    rules = [{k: v for k, v in r.items()} for r in C.AWARD_RULES]
    return {
        "Thiết lập": [{"key": k, "value": v} for k, _, v in C.SETTINGS],
        "Khối": [dict(zip(("code", "name", "head", "deputy"), b)) for b in C.BLOCS],
        "Đơn vị": [dict(zip(("code", "name", "short_name", "bloc", "email") + flags, u)) for u in C.UNITS],
        "Tiêu chí": [dict(zip(("code", "group", "text", "kind", "max", "step", "target", "applies_to", "explanation"), c))
                     for c in C.CRITERIA],
        "Thưởng - Trừ": [dict(zip(("code", "kind", "text", "points", "cap"), i)) for i in C.BONUS_DEDUCTIONS],
        "Khen thưởng": rules,
        "Lịch sử": [dict(zip(("unit", "year", "kind", "value", "revoked"), h)) for h in C.HISTORY],
        "Đăng ký": [{"unit": u, "award": a} for u, awards in C.REGISTRATIONS.items() for a in awards],
    }


def main(root: Path = CAMPAIGN) -> None:
    write_campaign(root / "campaign.xlsx", campaign_content())
    print(f"wrote {root / 'campaign.xlsx'}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else CAMPAIGN)
