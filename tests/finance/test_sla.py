from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from finance.sla import (
    DEFAULT_POLICY,
    Party,
    SlaPolicy,
    SlaStatus,
    Stage,
    StageInterval,
    add_working_days,
    attribute_breach,
    count_working_days,
    flag,
    is_workday,
    next_working_day,
    overall_due_at,
    stage_due_at,
    status,
    watch_window,
)
from qianfan.clock import FrozenClock
from qianfan.errors import InvalidInput

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
H = timedelta(hours=1)


def test_default_budgets_fit_48h() -> None:
    assert overall_due_at(T0) == T0 + 48 * H
    assert stage_due_at(Stage.RISK_CHECK, T0) == T0 + H
    assert stage_due_at(Stage.BANK_REVIEW, T0) == T0 + 24 * H
    assert stage_due_at(Stage.SME_SIGNATURE, T0) == T0 + 12 * H
    assert stage_due_at(Stage.DISBURSEMENT, T0) == T0 + 11 * H
    assert DEFAULT_POLICY.allowance(Party.BANK) == 35 * H
    assert DEFAULT_POLICY.allowance(Party.PLATFORM) == H
    assert DEFAULT_POLICY.allowance(Party.SME) == 12 * H


def test_policy_refuses_budgets_over_48h() -> None:
    budgets = dict(DEFAULT_POLICY.budgets)
    budgets[Stage.BANK_REVIEW] = 25 * H
    with pytest.raises(InvalidInput, match="exceed"):
        SlaPolicy(budgets=budgets)


def test_overall_exactly_at_48h_boundary() -> None:
    clock = FrozenClock(T0)
    clock.advance(48 * H)
    at = status(clock.now(), T0)
    assert at.overall_status is SlaStatus.AT_RISK  # on time, nothing left
    assert at.overall_left == timedelta(0)
    clock.advance(timedelta(microseconds=1))
    assert status(clock.now(), T0).status is SlaStatus.BREACHED


def test_overall_at_risk_threshold_25_percent() -> None:
    # 25 % of 48 h = 12 h left: exactly 12 h left is still on track, a microsecond less is at risk
    assert status(T0 + 36 * H, T0).overall_status is SlaStatus.ON_TRACK
    assert status(T0 + 36 * H + timedelta(microseconds=1), T0).overall_status is SlaStatus.AT_RISK


def test_stage_at_risk_and_breached() -> None:
    entered = T0 + H
    # bank review 24 h: at risk below 6 h left
    assert status(entered + 18 * H, T0, Stage.BANK_REVIEW, entered).status is SlaStatus.ON_TRACK
    r = status(entered + 18 * H + timedelta(seconds=1), T0, Stage.BANK_REVIEW, entered)
    assert r.status is SlaStatus.AT_RISK and r.overall_status is SlaStatus.ON_TRACK
    r = status(entered + 24 * H + timedelta(seconds=1), T0, Stage.BANK_REVIEW, entered)
    assert r.stage_status is SlaStatus.BREACHED and r.status is SlaStatus.BREACHED
    assert r.overall_status is SlaStatus.ON_TRACK
    # risk check 1 h: at risk below 15 min
    assert status(T0 + 45 * timedelta(minutes=1), T0, Stage.RISK_CHECK, T0).status is SlaStatus.ON_TRACK
    assert status(T0 + 46 * timedelta(minutes=1), T0, Stage.RISK_CHECK, T0).status is SlaStatus.AT_RISK


def test_status_refuses_naive_and_missing_entry() -> None:
    with pytest.raises(ValueError):
        status(datetime(2026, 1, 1), T0)
    with pytest.raises(InvalidInput):
        status(T0, T0, Stage.BANK_REVIEW)


def test_status_accepts_shanghai_times() -> None:
    local = T0.astimezone(ZoneInfo("Asia/Shanghai"))
    assert overall_due_at(local) == T0 + 48 * H


def _path(*spans: tuple[Stage, float]) -> list[StageInterval]:
    out, t = [], T0
    for stage, hours in spans:
        out.append(StageInterval(stage, t, t + hours * H))
        t += hours * H
    return out


def test_on_time_disbursement_is_not_a_breach() -> None:
    ivs = _path((Stage.RISK_CHECK, 1), (Stage.BANK_REVIEW, 24), (Stage.SME_SIGNATURE, 12), (Stage.DISBURSEMENT, 11))
    b = attribute_breach(T0, ivs, now=T0 + 100 * H, finished_at=T0 + 48 * H)
    assert not b.breached and b.responsible is None and b.excess == {}


def test_bank_review_overrun_is_the_banks_breach() -> None:
    ivs = _path((Stage.RISK_CHECK, 0.5), (Stage.BANK_REVIEW, 30), (Stage.SME_SIGNATURE, 10), (Stage.DISBURSEMENT, 9))
    b = attribute_breach(T0, ivs, now=T0 + 49.5 * H, finished_at=T0 + 49.5 * H)
    assert b.breached and b.responsible is Party.BANK
    assert b.excess == {Party.BANK: 4 * H}


def test_info_requested_time_is_charged_to_the_sme() -> None:
    ivs = _path(
        (Stage.RISK_CHECK, 1),
        (Stage.BANK_REVIEW, 10),
        (Stage.INFO_REQUESTED, 20),
        (Stage.BANK_REVIEW, 8),
        (Stage.SME_SIGNATURE, 6),
    )
    # still waiting for disbursement at 50 h: open interval runs to now
    ivs.append(StageInterval(Stage.DISBURSEMENT, T0 + 45 * H))
    b = attribute_breach(T0, ivs, now=T0 + 50 * H)
    assert b.breached and b.responsible is Party.SME
    assert b.excess == {Party.SME: 14 * H}


def test_unrecorded_time_and_slow_risk_check_are_the_platforms() -> None:
    b = attribute_breach(T0, [], now=T0 + 49 * H)
    assert b.breached and b.responsible is Party.PLATFORM
    ivs = _path((Stage.RISK_CHECK, 5), (Stage.BANK_REVIEW, 20), (Stage.SME_SIGNATURE, 12), (Stage.DISBURSEMENT, 12))
    b = attribute_breach(T0, ivs, now=T0 + 49 * H, finished_at=T0 + 49 * H)
    assert b.responsible is Party.PLATFORM and b.excess == {Party.PLATFORM: 4 * H}


def test_open_application_not_yet_breached() -> None:
    ivs = [StageInterval(Stage.BANK_REVIEW, T0 + H)]
    b = attribute_breach(T0, ivs, now=T0 + 48 * H)
    assert not b.breached and b.excess == {Party.BANK: 12 * H}


# --- working days (chinese_calendar data: National Day 2025 = Oct 1–8, make-up Sat Oct 11; 2026 = Oct 1–7,
# make-up Sat Oct 10) --------------------------------------------------------------------------------------


def test_national_day_2025_and_make_up_saturday() -> None:
    assert is_workday(date(2025, 9, 30))
    assert not any(is_workday(date(2025, 10, d)) for d in range(1, 9))
    assert is_workday(date(2025, 9, 28))  # Sunday, make-up working day
    assert is_workday(date(2025, 10, 11))  # Saturday, make-up working day
    assert add_working_days(date(2025, 9, 30), 1) == date(2025, 10, 9)
    assert add_working_days(date(2025, 9, 30), 3) == date(2025, 10, 11)
    assert add_working_days(date(2025, 9, 30), 4) == date(2025, 10, 13)
    assert add_working_days(date(2025, 10, 9), -1) == date(2025, 9, 30)
    assert count_working_days(date(2025, 9, 27), date(2025, 10, 13)) == 6  # 28, 29, 30, 9, 10, 11


def test_national_day_2026_and_make_up_saturday() -> None:
    assert not is_workday(date(2026, 10, 5))  # Monday inside the holiday
    assert is_workday(date(2026, 10, 10))  # Saturday, make-up working day
    assert not is_workday(date(2026, 10, 11))
    assert add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert add_working_days(date(2026, 9, 30), 3) == date(2026, 10, 10)
    assert next_working_day(date(2026, 10, 1)) == date(2026, 10, 8)
    assert next_working_day(date(2026, 9, 30)) == date(2026, 9, 30)
    assert add_working_days(date(2026, 10, 3), 0) == date(2026, 10, 3)


def test_years_without_calendar_data_are_refused() -> None:
    with pytest.raises(InvalidInput, match="no Chinese holiday data"):
        is_workday(date(2099, 1, 5))
    with pytest.raises(InvalidInput):
        is_workday(datetime(2026, 1, 5, tzinfo=UTC))


def test_flag_breached_only_when_the_48_hours_are_broken() -> None:
    start = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
    deadline = start + timedelta(hours=48)
    review_due = stage_due_at(Stage.BANK_REVIEW, start)  # 24 h review budget
    # bank review overran its own 24 h budget but 20 h of the 48 remain: at risk, not breached
    assert flag(start + timedelta(hours=28), deadline, Stage.BANK_REVIEW, review_due) is SlaStatus.AT_RISK
    # early in the stage: on track
    assert flag(start + timedelta(hours=2), deadline, Stage.BANK_REVIEW, review_due) is SlaStatus.ON_TRACK
    # less than a quarter of the stage budget left (under 6 h of 24): at risk
    assert flag(start + timedelta(hours=19), deadline, Stage.BANK_REVIEW, review_due) is SlaStatus.AT_RISK
    # less than 12 h overall left: at risk whatever the stage
    assert flag(start + timedelta(hours=37), deadline) is SlaStatus.AT_RISK
    # the deadline itself is still on time; a microsecond later it is breached
    assert flag(deadline, deadline) is SlaStatus.AT_RISK
    assert flag(deadline + timedelta(microseconds=1), deadline) is SlaStatus.BREACHED


def test_watch_window_covers_every_at_risk_threshold() -> None:
    assert watch_window() > DEFAULT_POLICY.overall / 4
    assert all(watch_window() > b / 4 for b in DEFAULT_POLICY.budgets.values())
