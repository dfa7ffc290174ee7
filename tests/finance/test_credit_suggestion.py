"""Suggested revolving credit line from settled trade (finance.credit_suggestion): concrete records worked by hand,
then properties over any record."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from finance.credit_suggestion import (
    MAX_LINE_FEN,
    Effect,
    TradeRecord,
    suggest,
    volume_cap_fen,
)
from qianfan.errors import InvalidInput

D = Decimal
TODAY = date(2026, 11, 23)

STRONG = TradeRecord(
    as_of=TODAY,
    months_on_platform=18,
    settled_fen=4_000_000_000,  # 40,000,000.00
    settled_deals=12,
    largest_deal_fen=800_000_000,
    distinct_buyers=4,
    deliveries=12,
    on_time_delivery_share=D("0.9167"),
    confirmed_receivables=10,
    confirmed_fen=3_000_000_000,
    loans_repaid_on_time=4,
)


def codes(s: object) -> list[str]:
    return [r.code for r in s.reasons]  # type: ignore[attr-defined]


def test_a_strong_sme_gets_forty_percent_of_its_volume() -> None:
    s = suggest(STRONG)
    # 30 base + 5 (4 loans repaid on time) + 5 (10 confirmations); 91.67% on time and 4 buyers: ±0
    assert s.has_line and s.rate_pct == 40
    assert s.amount_fen == 1_600_000_000  # 40,000,000.00 × 40% = 16,000,000.00, under 3 × 8,000,000.00
    assert (s.tenor_months, s.revolving, s.review_by) == (12, True, date(2027, 11, 23))
    assert not s.blocking
    by_code = {r.code: r for r in s.reasons}
    assert by_code["settled_volume"].value == "4000000000" and by_code["settled_volume"].effect == Effect.PLUS
    assert by_code["on_time_delivery"].value == "0.9167" and by_code["on_time_delivery"].points == 0
    assert "91.67%" in by_code["on_time_delivery"].text_zh
    assert by_code["loans_repaid_on_time"].points == 5 and by_code["confirmed_receivables"].points == 5


def test_the_programme_cap_and_the_largest_deal_cap() -> None:
    big = replace(STRONG, settled_fen=20_000_000_000, largest_deal_fen=5_000_000_000)  # 200 million in 12 months
    s = suggest(big)
    assert s.amount_fen == MAX_LINE_FEN and "programme_cap" in codes(s)
    lumpy = replace(STRONG, largest_deal_fen=400_000_000)  # 3 × 4,000,000.00 = 12,000,000.00 < 16,000,000.00
    s = suggest(lumpy)
    assert s.amount_fen == 1_200_000_000 and "largest_deal_cap" in codes(s)
    capped = next(r for r in s.reasons if r.code == "largest_deal_cap")
    assert capped.figure == "largest_deal_fen" and capped.value == "400000000" and capped.effect == Effect.MINUS


def test_rounded_down_to_ten_thousand_yuan() -> None:
    s = suggest(replace(STRONG, settled_fen=4_123_456_789))
    assert s.amount_fen == 1_649_000_000  # 16,493,827.15 → 16,490,000.00


def test_a_newcomer_gets_no_line_and_is_told_why() -> None:
    newcomer = TradeRecord(as_of=TODAY, months_on_platform=2, settled_fen=50_000_000, settled_deals=1,
                           largest_deal_fen=50_000_000, distinct_buyers=1)  # fmt: skip
    s = suggest(newcomer)
    assert not s.has_line and s.amount_fen == 0
    assert codes(s) == ["too_new", "too_few_deals"]
    assert all(r.effect == Effect.BLOCKING for r in s.reasons)
    assert s.reasons[0].value == "2" and "6" in s.reasons[0].text_en


def test_an_overdue_loan_blocks_and_so_does_a_default() -> None:
    s = suggest(replace(STRONG, loans_overdue_now=1))
    assert not s.has_line and codes(s) == ["overdue_now"]
    s = suggest(replace(STRONG, defaults=1, loans_overdue_now=1))
    assert codes(s) == ["default", "overdue_now"] and s.amount_fen == 0


def test_one_buyer_only_lowers_the_rate() -> None:
    one = replace(STRONG, distinct_buyers=1)
    s = suggest(one)
    assert s.rate_pct == 30 and s.amount_fen == 1_200_000_000
    conc = next(r for r in s.reasons if r.code == "buyer_concentration")
    assert (conc.figure, conc.value, conc.effect, conc.points) == ("distinct_buyers", "1", Effect.MINUS, -10)


def test_a_poor_record_can_work_out_to_no_line() -> None:
    poor = replace(STRONG, distinct_buyers=1, on_time_delivery_share=D("0.5"), loans_repaid_on_time=0,
                   loans_repaid_late=3, disputes=2, confirmed_receivables=0)  # fmt: skip
    s = suggest(poor)  # 30 − 10 − 10 − 10 − 10 → 0
    assert not s.has_line and s.amount_fen == 0 and codes(s)[-1] == "below_unit"


def test_no_deliveries_recorded_is_neutral() -> None:
    s = suggest(replace(STRONG, deliveries=0, on_time_delivery_share=D(0)))
    assert s.amount_fen == suggest(STRONG).amount_fen and "no_deliveries" in codes(s)


@pytest.mark.parametrize(
    "change",
    [
        {"settled_fen": -1},
        {"settled_deals": 1.0},
        {"on_time_delivery_share": 0.9},
        {"on_time_delivery_share": D("1.01")},
        {"largest_deal_fen": 5_000_000_000},  # more than the volume
        {"distinct_buyers": 13},  # more buyers than deals
        {"defaults": True},
    ],
)
def test_bad_records_are_refused(change: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        replace(STRONG, **change)


def test_to_json_is_stable_and_exact() -> None:
    text = suggest(STRONG).to_json()
    assert '"amount_fen": 1600000000' in text and '"on_time_delivery_share": "0.9167"' in text


# ------------------------------------------------------------------------------------------------ properties


@st.composite
def records(draw: st.DrawFn) -> TradeRecord:
    deals = draw(st.integers(0, 200))
    settled = draw(st.integers(0, 10**12)) if deals else 0
    return TradeRecord(
        as_of=draw(st.dates(date(2020, 1, 1), date(2035, 12, 31))),
        months_on_platform=draw(st.integers(0, 120)),
        settled_fen=settled,
        settled_deals=deals,
        largest_deal_fen=draw(st.integers(0, settled)),
        distinct_buyers=draw(st.integers(0, deals)),
        deliveries=draw(st.integers(0, 200)),
        on_time_delivery_share=draw(st.decimals(0, 1, places=4)),
        confirmed_receivables=draw(st.integers(0, 50)),
        confirmed_fen=draw(st.integers(0, 10**12)),
        disputes=draw(st.integers(0, 5)),
        loans_repaid_on_time=draw(st.integers(0, 20)),
        loans_repaid_late=draw(st.integers(0, 5)),
        loans_overdue_now=draw(st.sampled_from([0, 0, 0, 1])),
        defaults=draw(st.sampled_from([0, 0, 0, 1, 2])),
    )


@given(records())
def test_the_amount_is_within_every_cap(record: TradeRecord) -> None:
    s = suggest(record)
    assert 0 <= s.amount_fen <= MAX_LINE_FEN
    assert s.amount_fen <= volume_cap_fen(record)
    assert s.amount_fen <= 3 * record.largest_deal_fen
    assert s.amount_fen % 1_000_000 == 0
    assert s.has_line == (s.amount_fen > 0) == (not s.blocking)


@given(records(), st.decimals(0, 1, places=4), st.decimals(0, 1, places=4))
def test_more_on_time_never_lowers_the_amount(record: TradeRecord, a: Decimal, b: Decimal) -> None:
    low, high = sorted((a, b))
    assert (
        suggest(replace(record, on_time_delivery_share=low)).amount_fen
        <= suggest(replace(record, on_time_delivery_share=high)).amount_fen
    )


@given(records(), st.integers(1, 5))
def test_any_default_means_no_line(record: TradeRecord, defaults: int) -> None:
    s = suggest(replace(record, defaults=defaults))
    assert not s.has_line and s.amount_fen == 0 and "default" in codes(s)


@given(records())
def test_every_reason_names_a_figure_of_the_record_with_its_exact_value(record: TradeRecord) -> None:
    names = {f.name for f in fields(TradeRecord)}
    for reason in suggest(record).reasons:
        assert reason.figure in names
        assert reason.value == str(getattr(record, reason.figure))
