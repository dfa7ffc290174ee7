"""The data-chain risk rules (contract loans before delivery, drawdowns on a revolving line), the contract's
headroom, the buyer's punctuality and the extra limits of the maximum amount."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from finance import limits
from finance.data_chain import (
    ContractFacts,
    DrawdownFacts,
    SmeRecord,
    assess_contract,
    assess_drawdown,
    contract_headroom_fen,
)
from finance.risk import RiskFacts, RiskReport, assess, sme_loan_failures
from finance.settlement import Payment, punctuality, standard_plan
from qianfan.creditcode import credit_code_problem, normalise_credit_code
from qianfan.errors import InvalidInput, RuleViolation

FAST = settings(max_examples=200, deadline=None)
TODAY = date(2026, 11, 23)
SME_CODE = "91110108MA01AAAA0X"
BUYER_CODE = "91110000100000000X"


def _valid(code: str) -> str:
    """A valid unified social credit code with the check digit computed (the rules check it)."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    for c in alphabet:
        candidate = code[:-1] + c
        if credit_code_problem(normalise_credit_code(candidate)) is None:
            return candidate
    raise AssertionError(code)


SME = SmeRecord(credit_code=_valid(SME_CODE), delivered_contracts=4, delivered_on_time=4, settled_fen_12m=300_000_000,
                days_on_platform=400)  # fmt: skip
GOOD = ContractFacts(
    sme=SME, buyer_credit_code=_valid(BUYER_CODE), delivery_due=TODAY + timedelta(days=20), today=TODAY,
    matched=True, match_score_pct=87, buyer_paid_on_time=6, requested_fen=50_000_000, advance_limit_fen=80_000_000,
    contract_headroom_fen=100_000_000, bank_line_remaining_fen=10**10, sme_exposure_remaining_fen=10**10,
)  # fmt: skip


def failures(report: RiskReport) -> set[str]:
    return {r.code for r in report.hard_failures}


def test_a_clean_contract_passes_and_says_which_links_it_used() -> None:
    report = assess_contract(GOOD)
    assert report.passed, report.hard_failures
    links = {link.code: link.used for link in report.links}
    assert links == {
        "match": True,
        "intent_order": True,
        "contract": True,
        "buyer_payments": True,
        "sme_delivery": True,
        "sme_settlement": True,
    }
    assert "87%" in next(link.message_zh for link in report.links if link.code == "match")
    assert report.to_dict()["links"][0]["code"] == "match"
    assert RiskReport.from_json(report.to_json()) == report
    # match 10 + intent 10 + buyer on time (6) 20 + delivered (4) 20 + on time 5 + volume 5 + age 10 = 80
    assert report.score == 80 and report.grade.value == "A"


def test_a_newcomer_chain_says_what_it_could_not_use() -> None:
    report = assess_contract(
        replace(GOOD, sme=SmeRecord(credit_code=SME.credit_code), matched=False, match_score_pct=None,
                buyer_paid_on_time=0)
    )  # fmt: skip
    links = {link.code: link.used for link in report.links}
    assert not links["match"] and not links["buyer_payments"] and not links["sme_delivery"]
    assert report.passed and report.grade.value == "D"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"contract_active": False}, "contract_not_active"),
        ({"delivery_due": TODAY - timedelta(days=1)}, "delivery_overdue"),
        ({"already_financed": True}, "already_financed"),
        ({"buyer_max_days_late": 91}, "buyer_in_default"),
        ({"requested_fen": 0}, "amount_not_positive"),
        ({"requested_fen": 80_000_001}, "over_advance_limit"),
        ({"contract_headroom_fen": 49_999_999}, "over_contract_headroom"),
        ({"bank_line_remaining_fen": 1}, "over_bank_line"),
        ({"sme_exposure_remaining_fen": 1}, "over_sme_exposure"),
        ({"deal_cap_fen": 1}, "over_deal_cap"),
        ({"sme": replace(SME, overdue_loans=1)}, "sme_loan_overdue"),
        ({"sme": replace(SME, defaults=1)}, "sme_default"),
        ({"buyer_credit_code": "123"}, "buyer_credit_code_invalid"),
    ],
)
def test_each_hard_rule_refuses_with_its_reason(change: dict[str, object], code: str) -> None:
    report = assess_contract(replace(GOOD, **change))  # type: ignore[arg-type]
    assert not report.passed and code in failures(report)


def test_a_drawdown_on_an_active_line_passes_and_hard_rules_refuse() -> None:
    facts = DrawdownFacts(sme=SME, line_limit_fen=134_000_000, line_remaining_fen=100_000_000,
                          requested_fen=50_000_000, sme_exposure_remaining_fen=10**10)  # fmt: skip
    report = assess_drawdown(facts)
    assert report.passed and report.links[0].code == "credit_line"
    assert "over_sme_line" in failures(assess_drawdown(replace(facts, requested_fen=100_000_001)))
    assert "line_not_active" in failures(assess_drawdown(replace(facts, line_active=False)))
    assert "line_expired" in failures(assess_drawdown(replace(facts, line_expired=True)))


@pytest.mark.parametrize("bad", [-1, 1.0, True, "1"])
def test_facts_refuse_bad_counts(bad: object) -> None:
    with pytest.raises(InvalidInput):
        replace(GOOD, buyer_paid_on_time=bad)  # type: ignore[arg-type]


@FAST
@given(st.integers(0, 40), st.integers(0, 40), st.integers(0, 200), st.integers(0, 200))
def test_property_a_better_buyer_record_never_lowers_the_score(on_time: int, more: int, late: int, less: int) -> None:
    worse = assess_contract(replace(GOOD, buyer_paid_on_time=on_time, buyer_max_days_late=late + less))
    better = assess_contract(replace(GOOD, buyer_paid_on_time=on_time + more, buyer_max_days_late=late))
    assert better.score >= worse.score


@FAST
@given(st.integers(1, 10**12), st.integers(0, 10**12), st.integers(0, 10**12))
def test_property_headroom(contract_fen: int, paid: int, financed: int) -> None:
    room = contract_headroom_fen(contract_fen, paid, financed)
    assert room == max(0, contract_fen - paid - financed) >= 0
    assert room + financed <= max(contract_fen - paid, financed)  # what is financed plus the room ≤ unpaid


@pytest.mark.parametrize("bad", [(-1, 0, 0), (1, 1.0, 0), (1, 0, True)])
def test_headroom_refuses_bad_amounts(bad: tuple[object, object, object]) -> None:
    with pytest.raises(InvalidInput):
        contract_headroom_fen(*bad)  # type: ignore[arg-type]


def test_the_contract_headroom_can_bind_the_maximum_and_is_named_on_refusal() -> None:
    extra = {limits.BindingConstraint.CONTRACT_HEADROOM: 20_000_000}
    result = limits.max_amount(100_000_000, Decimal("0.8"), 10**10, 10**10, extra)
    assert result.amount_fen == 20_000_000 and result.binding_constraint is limits.BindingConstraint.CONTRACT_HEADROOM
    overdrawn = limits.max_amount(
        100_000_000, Decimal("0.8"), 10**10, 10**10, {limits.BindingConstraint.CONTRACT_HEADROOM: -5}
    )  # already overdrawn: nothing more
    assert overdrawn.amount_fen == 0
    with pytest.raises(RuleViolation) as err:
        limits.check_request(20_000_001, 100_000_000, Decimal("0.8"), 10**10, 10**10,
                             {limits.BindingConstraint.CONTRACT_HEADROOM: 20_000_000})  # fmt: skip
    assert err.value.detail["exceeded"] == [{"limit": "contract_headroom", "limit_fen": 20_000_000}]
    assert "合同未付金额" in err.value.message_zh


def test_punctuality_counts_on_time_late_and_the_worst_delay() -> None:
    signed = date(2026, 1, 5)
    plan = standard_plan(100_000_000, signed)  # advance day 7, acceptance 30 days after acceptance, retention
    accepted = date(2026, 3, 1)
    pays = [
        Payment("A", 30_000_000, signed + timedelta(days=7)),  # on the day: on time
        Payment("B", 40_000_000, accepted + timedelta(days=30)),  # part of the acceptance instalment
        Payment("C", 20_000_000, accepted + timedelta(days=42)),  # completes it 12 days late
    ]
    p = punctuality(plan, pays, date(2026, 6, 1), acceptance_on=accepted)
    assert (p.on_time, p.late, p.max_days_late) == (1, 1, 12)
    overdue = punctuality(plan, pays[:1], date(2026, 6, 1), acceptance_on=accepted)
    assert (
        overdue.on_time == 1 and overdue.late == 0 and overdue.max_days_late == (date(2026, 6, 1) - accepted).days - 30
    )


def test_an_sme_with_an_overdue_loan_is_refused_by_every_product_with_one_reason() -> None:
    """Issue 16: the receivables check passed an SME the contract check refused for an overdue loan.  One hard
    rule (``finance.risk.sme_loan_failures``) now refuses it for receivables, contract loans and drawdowns."""
    late = replace(SME, overdue_loans=1, defaults=1)
    receivable = assess(
        RiskFacts(
            sme_credit_code=late.credit_code, debtor_credit_code=GOOD.buyer_credit_code, requested_fen=1,
            advance_limit_fen=10, bank_line_remaining_fen=10, sme_exposure_remaining_fen=10,
            sme_overdue_loans=late.overdue_loans, sme_defaults=late.defaults,
        )
    )  # fmt: skip
    contract = assess_contract(replace(GOOD, sme=late))
    drawdown = assess_drawdown(
        DrawdownFacts(
            sme=late, line_limit_fen=10**9, line_remaining_fen=10**9, requested_fen=1, sme_exposure_remaining_fen=10**9
        )
    )
    expected = sme_loan_failures(1, 1)
    assert [r.code for r in expected] == ["sme_loan_overdue", "sme_default"]
    for report in (receivable, contract, drawdown):
        assert not report.passed and [r for r in report.hard_failures if r.code.startswith("sme_")] == expected
