"""Automatic risk control: hard rules, the monotone points table, the stored JSON report."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from finance.limits import MAX_DEAL_FEN
from finance.risk import RiskFacts, RiskGrade, RiskReport, assess, grade_for
from qianfan.creditcode import make_credit_code
from qianfan.errors import InvalidInput

SME = make_credit_code("91110108MA0000001")
DEBTOR = make_credit_code("91110000100000002")
LIMIT = 2 * MAX_DEAL_FEN


def facts(**overrides: Any) -> RiskFacts:
    base: dict[str, Any] = {
        "sme_credit_code": SME,
        "debtor_credit_code": DEBTOR,
        "requested_fen": 1_000_000,
        "advance_limit_fen": LIMIT,
        "bank_line_remaining_fen": LIMIT,
        "sme_exposure_remaining_fen": LIMIT,
        "sme_delivered_contracts": 10,
        "sme_confirmed_receivables": 5,
        "sme_confirmed_amount_fen": 10_000_000,
        "sme_days_on_platform": 400,
        "debtor_on_time_repayments": 20,
    }
    base.update(overrides)
    return RiskFacts(**base)


def _is_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def test_clean_application_passes_with_grade_a() -> None:
    report = assess(facts())
    assert report.passed and report.hard_failures == []
    assert report.score == 85 and report.grade is RiskGrade.A


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"sme_credit_code": "91110108MA0000001X"}, "sme_credit_code_invalid"),
        ({"sme_credit_code": ""}, "sme_credit_code_invalid"),
        ({"debtor_credit_code": DEBTOR[:-1] + ("0" if DEBTOR[-1] != "0" else "1")}, "debtor_credit_code_invalid"),
        ({"sme_deregistered": True}, "sme_deregistered"),
        ({"debtor_deregistered": True}, "debtor_deregistered"),
        ({"receivable_confirmed": False}, "not_confirmed"),
        ({"already_financed": True}, "already_financed"),
        ({"overdue": True}, "overdue"),
        ({"debtor_in_default": True}, "debtor_in_default"),
        ({"requested_fen": 0}, "amount_not_positive"),
        ({"requested_fen": -1}, "amount_not_positive"),
        ({"advance_limit_fen": 999_999}, "over_advance_limit"),
        ({"requested_fen": MAX_DEAL_FEN + 1}, "over_deal_cap"),
        ({"bank_line_remaining_fen": 0}, "over_bank_line"),
        ({"sme_exposure_remaining_fen": 999_999}, "over_sme_exposure"),
    ],
)
def test_each_hard_rule_fails_alone_with_bilingual_message(overrides: dict[str, Any], code: str) -> None:
    report = assess(facts(**overrides))
    assert not report.passed
    assert [r.code for r in report.hard_failures] == [code]
    reason = report.hard_failures[0]
    assert _is_cjk(reason.message_zh) and not _is_cjk(reason.message_en)


def test_limit_boundaries_one_fen() -> None:
    assert assess(facts(requested_fen=MAX_DEAL_FEN)).passed  # exactly 30,000,000.00
    assert not assess(facts(requested_fen=MAX_DEAL_FEN + 1)).passed  # one fen over
    assert assess(facts(requested_fen=1, advance_limit_fen=1, bank_line_remaining_fen=1)).passed
    over = assess(facts(requested_fen=2, advance_limit_fen=1, bank_line_remaining_fen=1, sme_exposure_remaining_fen=1))
    assert [r.code for r in over.hard_failures] == ["over_advance_limit", "over_bank_line", "over_sme_exposure"]
    assert over.hard_failures[0].figure == 1


def test_all_failures_are_reported_not_only_the_first() -> None:
    report = assess(facts(receivable_confirmed=False, already_financed=True, debtor_in_default=True))
    assert {r.code for r in report.hard_failures} == {"not_confirmed", "already_financed", "debtor_in_default"}


@pytest.mark.parametrize(
    "bad",
    [
        {"sme_delivered_contracts": -1},
        {"debtor_max_days_late": -1},
        {"advance_limit_fen": -1},
        {"requested_fen": 1.5},
        {"requested_fen": True},
        {"overdue": "no"},
    ],
)
def test_malformed_facts_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput) as info:
        facts(**bad)
    assert list(bad) == info.value.detail["fields"]
    assert _is_cjk(info.value.message_zh)


def test_new_sme_weak_debtor_history_grades_low() -> None:
    report = assess(
        facts(
            sme_delivered_contracts=0,
            sme_confirmed_receivables=0,
            sme_confirmed_amount_fen=0,
            sme_days_on_platform=0,
            debtor_on_time_repayments=0,
            debtor_max_days_late=120,
            sme_disputes=3,
        )
    )
    assert report.passed  # the grade informs the bank and the price; it does not refuse by itself
    assert report.score == -55 and report.grade is RiskGrade.D


@pytest.mark.parametrize(
    ("score", "grade"), [(85, "A"), (65, "A"), (64, "B"), (45, "B"), (44, "C"), (25, "C"), (24, "D"), (-55, "D")]
)
def test_grade_thresholds(score: int, grade: str) -> None:
    assert grade_for(score) == grade


GRADE_ORDER = {RiskGrade.A: 0, RiskGrade.B: 1, RiskGrade.C: 2, RiskGrade.D: 3}

history = st.fixed_dictionaries(
    {
        "sme_delivered_contracts": st.integers(0, 50),
        "sme_confirmed_receivables": st.integers(0, 20),
        "sme_confirmed_amount_fen": st.integers(0, 10**9),
        "sme_disputes": st.integers(0, 5),
        "sme_days_on_platform": st.integers(0, 1000),
        "debtor_on_time_repayments": st.integers(0, 50),
        "debtor_max_days_late": st.integers(0, 200),
    }
)


@given(history, st.integers(0, 50))
def test_more_delivered_contracts_never_worsen_the_grade(base: dict[str, int], extra: int) -> None:
    before = assess(facts(**base))
    after = assess(facts(**{**base, "sme_delivered_contracts": base["sme_delivered_contracts"] + extra}))
    assert after.score >= before.score
    assert GRADE_ORDER[after.grade] <= GRADE_ORDER[before.grade]


@given(history, st.integers(0, 50), st.integers(0, 200))
def test_better_debtor_record_never_worsens_the_grade(base: dict[str, int], more_on_time: int, less_late: int) -> None:
    before = assess(facts(**base))
    better = {
        **base,
        "debtor_on_time_repayments": base["debtor_on_time_repayments"] + more_on_time,
        "debtor_max_days_late": max(0, base["debtor_max_days_late"] - less_late),
    }
    after = assess(facts(**better))
    assert after.score >= before.score
    assert GRADE_ORDER[after.grade] <= GRADE_ORDER[before.grade]


@given(history)
def test_score_is_the_sum_of_reason_points_and_hard_rules_do_not_depend_on_history(base: dict[str, int]) -> None:
    report = assess(facts(**base))
    assert report.score == sum(r.points or 0 for r in report.reasons)
    assert report.passed
    assert all(_is_cjk(r.message_zh) and not _is_cjk(r.message_en) for r in report.reasons)


def test_report_json_round_trip() -> None:
    report = assess(facts(overdue=True, debtor_max_days_late=100))
    text = report.to_json()
    data = json.loads(text)
    assert data["grade"] == "B" and data["score"] == 55 and data["passed"] is False
    assert data["hard_failures"][0]["code"] == "overdue"
    assert "已逾期" in text  # Chinese kept readable, not \u-escaped
    assert RiskReport.from_json(text) == report
    assert dataclasses.is_dataclass(report)
