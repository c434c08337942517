"""Award rules: who is proposed, who is held back and why, quotas, history, issuers by date (pipeline.awards)."""
from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd
import pytest

from pipeline.awards import NOT_REGISTERED, issuer, propose, quota
from pipeline.campaign import AwardRule, HistoryRow, Unit

FLAG = AwardRule("CO_TINH", "Cờ thi đua của UBND tỉnh", "Chủ tịch UBND tỉnh", "", 1, rank_from=1, rank_to=1,
                 min_grade="Xuất sắc", min_vote_share=50, must_register=True, quota=1)
MERIT = AwardRule("BK_TINH", "Bằng khen của Chủ tịch UBND tỉnh", "Chủ tịch UBND tỉnh", "", 2, rank_from=2, rank_to=3,
                  min_grade="Tốt", quota_share=20, quota_rounding="lên")
PAPER = AwardRule("GIAY_KHEN", "Giấy khen", "Giám đốc Sở Nội vụ", "Chủ tịch UBND huyện", 3, top_share=50,
                  min_grade="Tốt", min_score=85)
STREAK = AwardRule("BK_TINH", "Bằng khen của Chủ tịch UBND tỉnh", "Chủ tịch UBND tỉnh", "", 2,
                   min_grade="Xuất sắc", conditions=(("lien_tuc_xuat_sac", "2"),))


def with_rules(c, *rules, units=None, history=(), **settings):
    return dataclasses.replace(c, award_rules=tuple(rules), units=units or c.units, history=tuple(history),
                               settings=dataclasses.replace(c.settings, **settings))


def bloc_of(n: int, code="K"):
    """A campaign bloc of n plain units K01..Kn, replacing the fixture's units."""
    return tuple(Unit(f"{code}{i:02}", f"Đơn vị {i}", f"ĐV {i}", "K1", f"dv{i}@example.gov.vn") for i in range(1, n + 1))


def ranking(c, *rows) -> pd.DataFrame:
    """rows: (unit, rank, total, votes or None); grade follows the campaign's thresholds; tied where ranks repeat."""
    ranks = [r[1] for r in rows]
    members = {u.code: u for u in c.units}
    out = []
    for unit, rank, total, votes in rows:
        u = members[unit]
        grade = next((g for g, low in c.settings.grades if total >= low), "Chưa hoàn thành")
        share = float("nan") if votes is None else 100 * votes / len(c.members(u.bloc))
        out.append({"bloc": u.bloc, "unit": unit, "name": u.name, "short_name": u.short_name, "rank": rank,
                    "tied": "x" if ranks.count(rank) > 1 else "", "total": total, "grade": grade,
                    "votes": float("nan") if votes is None else float(votes), "vote_share": share})
    return pd.DataFrame(out)


def everyone(c, *codes) -> set:
    return {(u.code, code) for u in c.units for code in codes}


def proposed(frame) -> dict[str, str]:
    return dict(zip(frame["unit"], frame["award_code"]))


def held(frame) -> dict[tuple[str, str], str]:
    return {(u, a): why for u, a, why in zip(frame["unit"], frame["award_code"], frame["reason"])}


@pytest.fixture
def ten(campaign):
    return with_rules(campaign, FLAG, MERIT, PAPER, units=bloc_of(10))


def test_leader_with_votes_gets_the_flag_second_and_third_the_merit(ten):
    r = ranking(ten, ("K01", 1, 97, 8), ("K02", 2, 93, 1), ("K03", 3, 90, 1), ("K04", 4, 88, 0), ("K05", 5, 86, 0),
                ("K06", 6, 80, 0))
    p, h = propose(ten, r, everyone(ten, "CO_TINH", "BK_TINH", "GIAY_KHEN"))
    assert proposed(p) == {"K01": "CO_TINH", "K02": "BK_TINH", "K03": "BK_TINH", "K04": "GIAY_KHEN", "K05": "GIAY_KHEN"}
    flag = p[p["unit"] == "K01"].iloc[0]
    assert "Hạng 1/10" in flag["reason"] and "97 điểm" in flag["reason"] and "80%" in flag["reason"]
    assert "dẫn đầu" in flag["achievement"] and flag["issuer"] == "Chủ tịch UBND tỉnh"
    assert "hạn mức 20% × 10 đơn vị = 2, làm tròn lên = 2" in p[p["unit"] == "K02"].iloc[0]["reason"]
    assert h.empty  # nobody who merits an award is kept from one


def test_one_award_per_unit_the_highest(ten):
    """K01 merits the flag, the streak merit and the paper certificate: it is proposed once, for the flag."""
    c = with_rules(ten, FLAG, STREAK, PAPER, units=ten.units,
                   history=[HistoryRow("K01", ten.settings.year - 1, "xếp loại", "Xuất sắc")])
    r = ranking(c, ("K01", 1, 97, 8), ("K02", 2, 90, 1))
    p, h = propose(c, r, everyone(c, "CO_TINH", "BK_TINH", "GIAY_KHEN"))
    assert list(p["unit"]) == ["K01", "K02"] and proposed(p)["K01"] == "CO_TINH"
    assert proposed(p)["K02"] == "GIAY_KHEN"
    assert h.empty


def test_blocked_top_scorer_is_held_back_with_the_reason_and_nobody_inherits_the_flag(ten):
    units = tuple(dataclasses.replace(u, blockers=("investigation",)) if u.code == "K01" else u for u in ten.units)
    c = with_rules(ten, FLAG, MERIT, PAPER, units=units)
    r = ranking(c, ("K01", 1, 98, 8), ("K02", 2, 93, 1), ("K03", 3, 90, 1))
    p, h = propose(c, r, everyone(c, "CO_TINH"))
    assert "K01" not in set(p["unit"])
    assert "CO_TINH" not in set(p["award_code"])  # the flag goes to rank 1 only: the council decides
    why = held(h)[("K01", "CO_TINH")]
    assert "đang bị điều tra" in why and "152/2025" in why
    assert ("K01", "GIAY_KHEN") in held(h)  # held from every award it would otherwise get
    assert proposed(p)["K02"] == "BK_TINH"


def test_vote_threshold_missed_is_held_back_not_silently_passed(ten):
    r = ranking(ten, ("K01", 1, 97, 5), ("K02", 2, 93, 4))  # 5 of 10 members = 50 %, not above 50 %
    p, h = propose(ten, r, everyone(ten, "CO_TINH"))
    assert "CO_TINH" not in set(p["award_code"])
    assert "được 50% phiếu suy tôn, cần trên 50%" in held(h)[("K01", "CO_TINH")]
    assert proposed(p)["K01"] == "GIAY_KHEN"  # still merits the lower award


def test_no_recorded_vote_holds_back_an_award_that_needs_votes(ten):
    r = ranking(ten, ("K01", 1, 97, None))
    p, h = propose(ten, r, everyone(ten, "CO_TINH"))
    assert "chưa có kết quả bỏ phiếu" in held(h)[("K01", "CO_TINH")]


def test_must_register_holds_back_and_unregistered_proposals_carry_a_warning(ten):
    r = ranking(ten, ("K01", 1, 97, 8), ("K02", 2, 93, 1))
    p, h = propose(ten, r, {("K09", "GIAY_KHEN")})  # registration in use: somebody registered
    assert "không đăng ký" in held(h)[("K01", "CO_TINH")]
    merit = p[p["unit"] == "K02"].iloc[0]
    assert merit["award_code"] == "BK_TINH" and merit["warning"] == NOT_REGISTERED
    p, _ = propose(ten, r, {("K01", "CO_TINH"), ("K02", "BK_TINH")})
    assert set(p["warning"]) == {""}
    p, _ = propose(ten, r, {("K01", "CO_TINH"), ("K02", "CO_TINH")})  # aimed higher: no warning
    assert set(p["warning"]) == {""}
    p, h = propose(ten, r, set())  # nobody registered: registration not in use, no warning
    assert set(p["warning"]) == {""} and "không đăng ký" in held(h)[("K01", "CO_TINH")]


def test_ties_at_the_quota_boundary_are_all_held_for_the_conference(ten):
    """Quota 2 (20 % of 10): rank 2 is in; ranks 3 and 3 tie for the one place left: neither is picked."""
    r = ranking(ten, ("K01", 1, 80, 0), ("K02", 2, 93, 1), ("K03", 3, 90, 1), ("K04", 3, 90, 1))
    p, h = propose(ten, r, everyone(ten, "BK_TINH"))
    # Held from the merit, both still merit the lower paper certificate (top half, Tốt, ≥ 85).
    assert proposed(p) == {"K02": "BK_TINH", "K03": "GIAY_KHEN", "K04": "GIAY_KHEN"}
    for unit in ("K03", "K04"):
        assert "đồng hạng ở ranh giới số lượng" in held(h)[(unit, "BK_TINH")]
        assert "hạn mức 20% × 10 đơn vị = 2" in held(h)[(unit, "BK_TINH")]


def test_ties_inside_the_quota_are_all_proposed(ten):
    r = ranking(ten, ("K01", 1, 80, 0), ("K02", 2, 93, 1), ("K03", 2, 93, 1), ("K04", 4, 90, 1))
    p, h = propose(ten, r, everyone(ten, "BK_TINH"))
    assert {u for u, a in proposed(p).items() if a == "BK_TINH"} == {"K02", "K03"}
    assert "(đồng hạng)" in p[p["unit"] == "K02"].iloc[0]["reason"]


def test_beyond_the_quota_is_held_with_the_quota_written_down(campaign):
    c = with_rules(campaign, dataclasses.replace(MERIT, rank_to=5, quota_share=20), units=bloc_of(5))
    r = ranking(c, ("K01", 1, 80, 0), ("K02", 2, 93, 1), ("K03", 3, 92, 1), ("K04", 4, 91, 1))
    p, h = propose(c, r, everyone(c, "BK_TINH"))
    assert proposed(p) == {"K02": "BK_TINH"}
    assert held(h)[("K03", "BK_TINH")].startswith("vượt số lượng (hạn mức 20% × 5 đơn vị = 1")


@pytest.mark.parametrize("rounding, expected, note", [
    ("lên", 1, "= 0,6, làm tròn lên = 1"),
    ("", 1, "= 0,6, làm tròn lên = 1"),
    ("gần nhất", 1, "= 0,6, làm tròn gần nhất = 1"),
    ("xuống", 0, "= 0,6, làm tròn xuống = 0"),
])
def test_share_of_a_three_unit_bloc_never_silently_rounds_to_zero(rounding, expected, note):
    n, how = quota(dataclasses.replace(MERIT, quota_rounding=rounding), 3)
    assert n == expected and note in how


def test_a_share_that_rounds_to_zero_is_lifted_to_one_and_says_so():
    n, how = quota(dataclasses.replace(MERIT, quota_share=10, quota_rounding="gần nhất"), 3)
    assert n == 1 and how.endswith("làm tròn gần nhất = 0, tối thiểu 1")


def test_three_unit_bloc_end_to_end(campaign):
    """DN-like bloc: 20 % of 3 rounds up to 1 merit; with `xuống` the merit is held, the reason says why."""
    c = with_rules(campaign, FLAG, MERIT, units=bloc_of(3))
    r = ranking(c, ("K01", 1, 96, 3), ("K02", 2, 92, 0), ("K03", 3, 91, 0))
    p, h = propose(c, r, everyone(c, "CO_TINH", "BK_TINH"))
    assert proposed(p) == {"K01": "CO_TINH", "K02": "BK_TINH"}
    assert held(h)[("K03", "BK_TINH")].startswith("vượt số lượng (hạn mức 20% × 3 đơn vị = 0,6, làm tròn lên = 1")
    c = with_rules(campaign, FLAG, dataclasses.replace(MERIT, quota_rounding="xuống"), units=bloc_of(3))
    p, h = propose(c, r, everyone(c, "CO_TINH", "BK_TINH"))
    assert proposed(p) == {"K01": "CO_TINH"}
    assert "làm tròn xuống = 0" in held(h)[("K02", "BK_TINH")]


def test_quota_count(ten):
    assert quota(FLAG, 10) == (1, "hạn mức 1 đơn vị/khối")
    assert quota(PAPER, 10) == (None, "")


def test_history_condition_two_excellent_years(ten):
    last = ten.settings.year - 1
    history = [HistoryRow("K05", last, "xếp loại", "Xuất sắc"), HistoryRow("K06", last, "xếp loại", "Tốt"),
               HistoryRow("K07", last, "xếp loại", "Xuất sắc", revoked=True)]
    c = with_rules(ten, FLAG, STREAK, history=history)
    year = c.settings.year
    r = ranking(c, ("K01", 1, 97, 8), ("K05", 5, 95.5, 0), ("K06", 6, 95.2, 0), ("K07", 7, 95.1, 0))
    p, h = propose(c, r, everyone(c, "CO_TINH", "BK_TINH"))
    assert proposed(p) == {"K01": "CO_TINH", "K05": "BK_TINH"}  # K01 merits the streak too, but has the flag
    k05 = p[p["unit"] == "K05"].iloc[0]
    assert k05["achievement"].endswith(f"2 năm liên tục ({year - 1}-{year})")
    assert h.empty  # K06 and K07 do not merit it: not held back, just not proposed


def test_history_condition_previous_award(ten):
    rule = AwardRule("CO_CP", "Cờ thi đua của Chính phủ", "Thủ tướng Chính phủ", "", 1, rank_from=1, rank_to=1,
                     conditions=(("da_nhan", "CO_TINH"),))
    year = ten.settings.year
    c = with_rules(ten, rule, history=[HistoryRow("K01", year - 1, "khen thưởng", "Cờ thi đua của UBND tỉnh")])
    assert proposed(propose(c, ranking(c, ("K01", 1, 97, 8)), set())[0]) == {"K01": "CO_CP"}
    c = with_rules(ten, rule, history=[HistoryRow("K01", year - 1, "khen thưởng", "Cờ thi đua của UBND tỉnh", revoked=True)])
    assert propose(c, ranking(c, ("K01", 1, 97, 8)), set())[0].empty  # a revoked award does not count


@pytest.mark.parametrize("year, proposal_date, expected", [
    (2024, None, "Chủ tịch UBND huyện"),                     # decided at the end of 2024: before the reform
    (2025, None, "Giám đốc Sở Nội vụ"),                      # end of 2025: after 01/07/2025
    (2024, dt.date(2025, 1, 6), "Chủ tịch UBND huyện"),
    (2025, dt.date(2025, 6, 30), "Chủ tịch UBND huyện"),     # signed the day before the reform
    (2025, dt.date(2025, 7, 1), "Giám đốc Sở Nội vụ"),       # signed on the day it takes effect
])
def test_issuer_before_and_after_the_two_tier_reform(campaign, year, proposal_date, expected):
    c = with_rules(campaign, PAPER, year=year, proposal_date=proposal_date, reform_date=dt.date(2025, 7, 1))
    assert issuer(c, PAPER) == expected
    assert issuer(c, FLAG) == "Chủ tịch UBND tỉnh"  # no earlier issuer: the same before and after


def test_issuer_follows_the_reform_date_setting(campaign):
    c = with_rules(campaign, PAPER, year=2025, proposal_date=None, reform_date=dt.date(2026, 3, 1))
    assert issuer(c, PAPER) == "Chủ tịch UBND huyện"


def test_proposals_in_the_issuers_sheet_carry_the_issuer(ten):
    c = with_rules(ten, PAPER, units=ten.units, year=2024)
    p, _ = propose(c, ranking(c, ("K01", 1, 90, None)), set())
    assert list(p["issuer"]) == ["Chủ tịch UBND huyện"]


def test_grade_score_and_top_share_are_merit_not_held(ten):
    r = ranking(ten, ("K01", 1, 84, 9), ("K02", 2, 86, 0), ("K03", 6, 90, 0))
    p, h = propose(ten, r, everyone(ten, "CO_TINH", "BK_TINH", "GIAY_KHEN"))
    # K01: Khá, merits nothing; K02: Tốt, rank 2, gets the merit; K03: outside the top 50 %, merits nothing.
    assert proposed(p) == {"K02": "BK_TINH"}
    assert h.empty
