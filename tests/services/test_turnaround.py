"""The application → disbursement times against the 48-hour promise (``stats.turnaround``): the histogram's
buckets, the percentiles, the share and the breaches, over the statistics tests' hand-built world."""

from __future__ import annotations

from decimal import Decimal

from sqlmodel import Session

from reports import stats
from reports.stats import Scope
from tests.services.test_stats import bj, build_world

HOUR = 3_600_000_000


def test_histogram_buckets_are_closed_above_and_48_hours_is_within() -> None:
    buckets = stats.histogram([0, 6 * HOUR, 6 * HOUR + 1, 48 * HOUR, 48 * HOUR + 1, 72 * HOUR, 500 * HOUR])
    assert [(b.low_hours, b.high_hours, b.count) for b in buckets] == [
        (0, 6, 2),
        (6, 12, 1),
        (12, 24, 0),
        (24, 36, 0),
        (36, 48, 1),
        (48, 72, 2),
        (72, None, 1),
    ]
    assert [b.within_promise for b in buckets] == [True, True, True, True, True, False, False]
    assert sum(b.count for b in stats.histogram([])) == 0


def test_turnaround_of_the_world_agrees_with_the_figures(session: Session) -> None:
    world = build_world(session)
    result = stats.turnaround(session)
    figures = stats.programme_stats(session)
    assert result.count == figures.applications_disbursed == 5
    assert result.within_promise == figures.disbursed_within_48h == 4
    assert result.within_promise_share == figures.disbursed_within_48h_share == Decimal("0.8000")
    assert result.hours_p50 == figures.disbursal_hours_p50 == Decimal("30.00")
    assert result.hours_p95 == figures.disbursal_hours_p95 == Decimal("49.60")
    # 10 h, 20 h, 30 h, 48 h (within), 50 h
    assert [b.count for b in result.buckets] == [0, 1, 1, 1, 1, 1, 0]
    assert [d.hours for d in result.disbursals] == [Decimal(h) for h in ("30.00", "10.00", "20.00", "48.00", "50.00")]
    (breach,) = result.breaches
    assert breach.hours == Decimal("50.00") and breach.principal_fen == 50_000
    assert breach.sme_id == world.sme_x.id and breach.bank_name.startswith("统计测试机构")
    assert breach.disbursed_at == bj(11, 13)


def test_turnaround_takes_the_scope_of_the_figures(session: Session) -> None:
    build_world(session)
    october = Scope(start=bj(10, 1, 0), end=bj(11, 1, 0))
    assert [d.hours for d in stats.turnaround(session, october).disbursals] == [Decimal("30.00")]
    green = stats.turnaround(session, Scope(cluster="green"))
    assert green.count == 1 and green.breaches == []
    nothing = stats.turnaround(session, Scope(district="西城园"))  # the bank's district: loans count for the SME
    assert nothing.count == 0 and nothing.hours_p50 is None and nothing.within_promise_share is None
