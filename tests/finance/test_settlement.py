"""Pure rules for payment → settlement: plans, reconciliation, bank statements, late payment, loan waterfall."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from finance.ledger import Outstanding, allocate_repayment
from finance.settlement import (
    MAX_INSTALMENTS,
    Instalment,
    InstalmentKind,
    InstalmentStatus,
    Payment,
    PaymentPlan,
    PlanTerm,
    RowStatus,
    StatementRow,
    buyer_lateness,
    parse_statement_row,
    plan_from_percentages,
    reconcile_payments,
    reconcile_statement,
    split_buyer_payment,
    standard_plan,
    unique_payments,
)
from qianfan.errors import Conflict, DomainError, InvalidInput, RuleViolation
from qianfan.money import MAX_AMOUNT_FEN

SIGNED = date(2026, 3, 2)
ACCEPTED = date(2026, 6, 1)
K = InstalmentKind
S = InstalmentStatus
FAST = settings(max_examples=200, deadline=None)


def _bilingual(err: DomainError) -> None:
    assert any("\u4e00" <= ch <= "\u9fff" for ch in err.message_zh), err.message_zh
    assert err.message_en and not any("\u4e00" <= ch <= "\u9fff" for ch in err.message_en), err.message_en


def _plan() -> PaymentPlan:
    """¥1,280,000.00 for a batch of precision bearings: 30 % advance, 60 % 30 days after acceptance, 10 % a year."""
    return standard_plan(128_000_000, SIGNED)


# --------------------------------------------------------------------------------------------- plans


def test_standard_plan_30_60_10() -> None:
    plan = _plan()
    assert [i.kind for i in plan.instalments] == [K.ADVANCE, K.ACCEPTANCE, K.RETENTION]
    assert [i.amount_fen for i in plan.instalments] == [38_400_000, 76_800_000, 12_800_000]
    assert plan.instalments[0].due_on == date(2026, 3, 9)
    assert plan.due_dates(None) == (date(2026, 3, 9), None, None)
    assert plan.due_dates(ACCEPTED) == (date(2026, 3, 9), date(2026, 7, 1), date(2027, 6, 1))


def test_percentages_round_by_largest_remainder_and_sum_exactly() -> None:
    plan = standard_plan(100_000_001, SIGNED)  # ¥1,000,000.01
    assert [i.amount_fen for i in plan.instalments] == [30_000_000, 60_000_001, 10_000_000]
    thirds = plan_from_percentages(
        100,
        SIGNED,
        [
            PlanTerm(K.ADVANCE, Decimal("33.33"), due_on=SIGNED),
            PlanTerm(K.ACCEPTANCE, Decimal("33.33"), days_after_acceptance=30),
            PlanTerm(K.FINAL, Decimal("33.34"), days_after_acceptance=60),
        ],
    )
    assert [i.amount_fen for i in thirds.instalments] == [33, 33, 34]


def test_standard_plan_zero_percent_leaves_instalment_out() -> None:
    plan = standard_plan(50_000_000, SIGNED, advance_percent=0, acceptance_percent=97, retention_percent=3)
    assert [(i.kind, i.amount_fen) for i in plan.instalments] == [(K.ACCEPTANCE, 48_500_000), (K.RETENTION, 1_500_000)]


def test_plan_with_fixed_and_offset_dates() -> None:
    plan = PaymentPlan(
        2_000_000_00,
        SIGNED,
        (
            Instalment(K.ADVANCE, 20_000_000, due_on=date(2026, 3, 10)),
            Instalment(K.ACCEPTANCE, 100_000_000, days_after_acceptance=15),
            Instalment(K.FINAL, 74_000_000, due_on=date(2026, 12, 31)),
            Instalment(K.RETENTION, 6_000_000, days_after_acceptance=730),
        ),
    )
    assert plan.due_dates(ACCEPTED)[1:] == (date(2026, 6, 16), date(2026, 12, 31), date(2028, 5, 31))


@pytest.mark.parametrize(
    ("amounts", "zh", "en"),
    [
        ([30_000_000, 60_000_000], "少 ¥100,000.00", "¥100,000.00 less"),
        ([30_000_000, 60_000_000, 10_000_001], "多 ¥0.01", "¥0.01 more"),
    ],
)
def test_plan_must_sum_exactly_and_says_by_how_much(amounts: list[int], zh: str, en: str) -> None:
    kinds = [K.ADVANCE, K.ACCEPTANCE, K.FINAL]
    with pytest.raises(RuleViolation) as caught:
        PaymentPlan(
            100_000_000, SIGNED, tuple(Instalment(k, a, due_on=SIGNED) for k, a in zip(kinds, amounts, strict=False))
        )
    assert zh in caught.value.message_zh and en in caught.value.message_en
    assert caught.value.detail["gap"] == sum(amounts) - 100_000_000
    _bilingual(caught.value)


@pytest.mark.parametrize(
    ("instalments", "error", "needle"),
    [
        ((), InvalidInput, "at least one"),
        ((Instalment(K.ADVANCE, 100, due_on=SIGNED - timedelta(days=1)),), RuleViolation, "before the contract"),
        (
            (Instalment(K.RETENTION, 50, days_after_acceptance=365), Instalment(K.FINAL, 50, due_on=SIGNED)),
            RuleViolation,
            "must be the last",
        ),
        (
            (
                Instalment(K.RETENTION, 50, days_after_acceptance=1),
                Instalment(K.RETENTION, 50, days_after_acceptance=2),
            ),
            RuleViolation,
            "at most one retention",
        ),
        (tuple(Instalment(K.FINAL, 1, due_on=SIGNED) for _ in range(MAX_INSTALMENTS + 1)), InvalidInput, "at most"),
    ],
)
def test_plan_refusals(instalments: tuple[Instalment, ...], error: type[DomainError], needle: str) -> None:
    with pytest.raises(error) as caught:
        PaymentPlan(sum(i.amount_fen for i in instalments) or 100, SIGNED, instalments)
    assert needle in caught.value.message_en
    _bilingual(caught.value)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"kind": K.FINAL, "amount_fen": 0, "due_on": SIGNED}, "must be positive"),
        ({"kind": K.FINAL, "amount_fen": 1.5, "due_on": SIGNED}, "integer number of fen"),
        ({"kind": K.FINAL, "amount_fen": True, "due_on": SIGNED}, "integer number of fen"),
        ({"kind": K.FINAL, "amount_fen": MAX_AMOUNT_FEN + 1, "due_on": SIGNED}, "out of range"),
        ({"kind": K.FINAL, "amount_fen": 1}, "either a fixed due date"),
        ({"kind": K.FINAL, "amount_fen": 1, "due_on": SIGNED, "days_after_acceptance": 3}, "either a fixed"),
        ({"kind": K.FINAL, "amount_fen": 1, "days_after_acceptance": -1}, "Days after acceptance"),
        ({"kind": K.FINAL, "amount_fen": 1, "days_after_acceptance": 99_999}, "Days after acceptance"),
        ({"kind": K.ADVANCE, "amount_fen": 1, "days_after_acceptance": 0}, "advance needs a fixed"),
        ({"kind": "deposit", "amount_fen": 1, "due_on": SIGNED}, "Unknown instalment kind"),
        ({"kind": K.FINAL, "amount_fen": 1, "due_on": datetime(2026, 3, 2, 9)}, "must be a date"),
    ],
)
def test_instalment_refusals(kwargs: dict[str, object], needle: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        Instalment(**kwargs)  # type: ignore[arg-type]
    assert needle in caught.value.message_en
    _bilingual(caught.value)


def test_instalment_kind_accepts_the_stored_string() -> None:
    assert Instalment("retention", 1, days_after_acceptance=365).kind is K.RETENTION  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("terms", "error", "needle"),
    [
        ([PlanTerm(K.ADVANCE, 30, due_on=SIGNED), PlanTerm(K.FINAL, 60, due_on=SIGNED)], RuleViolation, "90%"),
        ([PlanTerm(K.ADVANCE, Decimal("100.5"), due_on=SIGNED)], RuleViolation, "100.5%"),
        ([PlanTerm(K.ADVANCE, 30.0, due_on=SIGNED), PlanTerm(K.FINAL, 70, due_on=SIGNED)], InvalidInput, "float"),  # type: ignore[arg-type]
        ([PlanTerm(K.ADVANCE, -10, due_on=SIGNED), PlanTerm(K.FINAL, 110, due_on=SIGNED)], InvalidInput, "positive"),
        ([], InvalidInput, "at least one"),
    ],
)
def test_percentage_refusals(terms: list[PlanTerm], error: type[DomainError], needle: str) -> None:
    with pytest.raises(error) as caught:
        plan_from_percentages(100_000_000, SIGNED, terms)
    assert needle in caught.value.message_en
    _bilingual(caught.value)


def test_percentages_refused_when_an_instalment_would_be_zero() -> None:
    with pytest.raises(RuleViolation, match="too small"):
        standard_plan(5, SIGNED)


# --------------------------------------------------------------------------------------------- reconciliation


def test_reconcile_partial_payments_oldest_due_first() -> None:
    plan = _plan()  # 384,000 / 768,000 / 128,000
    payments = [
        Payment("BK-001", 38_400_000, date(2026, 3, 9)),  # the advance, on time
        Payment("BK-002", 50_000_000, date(2026, 6, 20)),  # part of the acceptance payment
        Payment("BK-001", 38_400_000, date(2026, 3, 9)),  # the same bank record imported again
    ]
    recon = reconcile_payments(plan, payments, date(2026, 7, 10), acceptance_on=ACCEPTED)
    assert [(s.paid_fen, s.outstanding_fen, s.status) for s in recon.instalments] == [
        (38_400_000, 0, S.PAID),
        (50_000_000, 26_800_000, S.OVERDUE),
        (0, 12_800_000, S.NOT_YET_DUE),
    ]
    assert recon.instalments[1].days_overdue == 9  # due 2026-07-01
    assert recon.duplicate_refs == ("BK-001",)
    assert recon.received_fen == recon.paid_fen == 88_400_000
    assert recon.overdue_fen == 26_800_000 and recon.surplus_fen == 0


def test_one_payment_spans_instalments_and_surplus_is_reported() -> None:
    plan = _plan()
    recon = reconcile_payments(
        plan, [Payment("BK-9", 130_000_000, date(2026, 7, 1))], date(2026, 7, 1), acceptance_on=ACCEPTED
    )
    assert all(s.status is S.PAID for s in recon.instalments)
    assert recon.surplus_fen == 2_000_000  # ¥20,000.00 paid too much: to be refunded, never lost
    assert [(a.index, a.amount_fen) for a in recon.allocations] == [
        (0, 38_400_000),
        (1, 76_800_000),
        (2, 12_800_000),
        (None, 2_000_000),
    ]


def test_statuses_before_acceptance_and_on_the_due_day() -> None:
    plan = _plan()
    before = reconcile_payments(plan, [Payment("p1", 1_000, date(2026, 3, 3))], date(2026, 3, 9))
    assert [s.status for s in before.instalments] == [S.DUE, S.AWAITING_ACCEPTANCE, S.AWAITING_ACCEPTANCE]
    early = reconcile_payments(plan, [Payment("p1", 38_500_000, date(2026, 3, 3))], date(2026, 3, 5))
    assert [s.status for s in early.instalments] == [S.PAID, S.PARTLY_PAID, S.AWAITING_ACCEPTANCE]
    nothing = reconcile_payments(plan, [], date(2026, 3, 3))
    assert nothing.instalments[0].status is S.NOT_YET_DUE and nothing.paid_fen == 0


def test_payments_after_as_of_are_not_counted() -> None:
    recon = reconcile_payments(_plan(), [Payment("late", 100, date(2026, 4, 1))], date(2026, 3, 31))
    assert recon.paid_fen == 0 and recon.later_refs == ("late",)


def test_dated_instalments_are_filled_before_those_awaiting_acceptance() -> None:
    plan = PaymentPlan(
        300,
        SIGNED,
        (
            Instalment(K.ACCEPTANCE, 100, days_after_acceptance=10),
            Instalment(K.FINAL, 100, due_on=date(2026, 4, 1)),
            Instalment(K.RETENTION, 100, days_after_acceptance=365),
        ),
    )
    pay = [Payment("p", 150, date(2026, 3, 20))]
    assert [s.paid_fen for s in reconcile_payments(plan, pay, date(2026, 3, 20)).instalments] == [50, 100, 0]
    # once accepted on 2026-03-10 the acceptance payment (due 03-20) is older than the final (04-01)
    after = reconcile_payments(plan, pay, date(2026, 3, 20), acceptance_on=date(2026, 3, 10))
    assert [s.paid_fen for s in after.instalments] == [100, 50, 0]


def test_same_reference_with_a_different_amount_is_a_conflict() -> None:
    with pytest.raises(Conflict) as caught:
        unique_payments([Payment("BK-1", 100, SIGNED), Payment("BK-1", 200, SIGNED)])
    _bilingual(caught.value)


@pytest.mark.parametrize(
    ("args", "needle"),
    [(("", 100, SIGNED), "reference"), (("x", 0, SIGNED), "positive"), (("x", 1, "2026-03-02"), "must be a date")],
)
def test_payment_refusals(args: tuple[object, object, object], needle: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        Payment(*args)  # type: ignore[arg-type]
    assert needle in caught.value.message_en


def test_acceptance_before_the_contract_is_refused() -> None:
    with pytest.raises(RuleViolation, match="before the contract date"):
        reconcile_payments(_plan(), [], ACCEPTED, acceptance_on=SIGNED - timedelta(days=1))


# --------------------------------------------------------------------------------------------- bank statements


def _row(**columns: object) -> dict[str, object]:
    return {k.replace("_", " "): v for k, v in columns.items()}


def test_parse_chinese_bank_columns() -> None:
    row = parse_statement_row(
        {
            "交易日期": "2026年3月9日",
            "金额": "￥384,000.00",
            "摘要": "QF-HT-2026-0017 预付款",
            "付款人": "北京某重工集团",
        },
        1,
    )
    assert row == StatementRow(1, date(2026, 3, 9), 38_400_000, "QF-HT-2026-0017 预付款", "北京某重工集团")
    assert row.key == "2026-03-09|38400000|QF-HT-2026-0017预付款|北京某重工集团"


def test_parse_english_columns_with_transaction_id_and_time() -> None:
    row = parse_statement_row(
        {
            " Transaction Date ": "2026/03/09 10:15:00",
            "Credit Amount": "1,234.5",
            "Memo": "QF-HT-2026-0017",
            "Payer Name": "ACME",
            "Transaction_ID": "ｔｘｎ 0001",
        },
        7,
    )
    assert (row.booked_on, row.amount_fen, row.transaction_id, row.key) == (
        date(2026, 3, 9),
        123_450,
        "TXN0001",
        "txn:TXN0001",
    )


@pytest.mark.parametrize(
    ("row", "needle"),
    [
        ({"交易日期": "2026-03-09", "金额": 384000.0, "摘要": "x"}, "float"),
        ({"交易日期": "2026-03-09", "金额": "三十八万", "摘要": "x"}, "Not a valid amount"),
        ({"交易日期": "2026-03-09", "金额": "1,2,3", "摘要": "x"}, "Not a valid amount"),
        ({"交易日期": "2026-03-09", "金额": "-500.00", "摘要": "x"}, "outgoing"),
        ({"交易日期": "2026-03-09", "金额": "0.00", "摘要": "x"}, "greater than zero"),
        ({"交易日期": "2026-03-09", "金额": "10.005", "摘要": "x"}, "exact to the fen"),
        ({"交易日期": "2026-03-09", "金额": "NaN", "摘要": "x"}, "Not a valid amount"),
        ({"交易日期": "2026-03-09", "借方金额": "500.00", "摘要": "x"}, "outgoing"),
        ({"交易日期": "2026-03-09", "摘要": "x"}, "amount is missing"),
        ({"交易日期": "2026-02-30", "金额": "1", "摘要": "x"}, "recognisable date"),
        ({"交易日期": "下周一", "金额": "1", "摘要": "x"}, "recognisable date"),
        ({"金额": "1", "摘要": "x"}, "date is missing"),
        ({"交易日期": "2026-03-09", "金额": "1", "摘要": "  "}, "reference"),
    ],
)
def test_parse_refusals(row: dict[str, object], needle: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_statement_row(row, 1)
    assert needle in caught.value.message_en
    assert any("\u4e00" <= ch <= "\u9fff" for ch in caught.value.message_zh)  # the English echoes the cell


def test_parse_accepts_int_decimal_and_dates_from_a_spreadsheet() -> None:
    row = parse_statement_row({"date": datetime(2026, 3, 9, 8), "amount": 12, "reference": "r"}, 1)
    assert (row.booked_on, row.amount_fen) == (date(2026, 3, 9), 1200)
    assert parse_statement_row({"日期": "20260309", "收入": Decimal("0.01"), "附言": "r"}, 1).amount_fen == 1


CONTRACTS = {"QF-HT-2026-0017": "contract-17", "QF-HT-2026-0001": "contract-1"}


def test_statement_report_row_by_row() -> None:
    rows = [
        {"交易日期": "2026-03-09", "金额": "384,000.00", "摘要": "QF-HT-2026-0017 预付款", "付款人": "某重工"},
        {"交易日期": "2026-03-09", "金额": "384,000.00", "摘要": "QF-HT-2026-0017 预付款", "付款人": "某重工"},
        {"交易日期": "2026-03-10", "金额": "50,000.00", "摘要": "货款", "付款人": "某重工"},
        {"交易日期": "2026-03-10", "金额": "5万", "摘要": "QF-HT-2026-0001", "付款人": "某集团"},
        {"交易日期": "2026-03-11", "金额": "10,000.00", "摘要": "qf-ht-2026-0001", "付款人": "某集团"},
        {"交易日期": "2026-03-12", "金额": "1.00", "摘要": "QF-HT-2026-00011", "付款人": "某集团"},
        {"交易日期": "2026-03-12", "金额": "2.00", "摘要": "QF-HT-2026-0001 QF-HT-2026-0017", "付款人": "某集团"},
        {"交易日期": "2026-03-01", "金额": "7.00", "摘要": "QF-HT-2026-0017", "付款人": "x"},
    ]
    already = {"2026-03-01|700|QF-HT-2026-0017|X"}
    report = reconcile_statement(rows, CONTRACTS, recorded_keys=already)
    assert [line.status for line in report.lines] == [
        RowStatus.MATCHED,
        RowStatus.DUPLICATE,
        RowStatus.UNKNOWN_REFERENCE,
        RowStatus.INVALID,
        RowStatus.MATCHED,
        RowStatus.UNKNOWN_REFERENCE,  # 0001 is not found inside 00011
        RowStatus.UNKNOWN_REFERENCE,  # names two contracts
        RowStatus.DUPLICATE,  # recorded by an earlier import
    ]
    assert "Not a valid amount" in report.lines[3].reason_en and "金额格式无效" in report.lines[3].reason_zh
    assert "more than one contract" in report.lines[6].reason_en
    assert (
        report.lines[1].reason_en == "The same transaction as line 1"
        and report.lines[1].reason_zh == "与第1行是同一笔交易"
    )
    assert report.lines[7].reason_en == "This transaction was recorded before"
    assert report.matched_by_contract() == {"contract-17": 38_400_000, "contract-1": 1_000_000}
    assert report.totals == {
        RowStatus.MATCHED: (2, 39_400_000),
        RowStatus.DUPLICATE: (2, 38_400_700),
        RowStatus.UNKNOWN_REFERENCE: (3, 5_000_300),
        RowStatus.INVALID: (1, 0),
    }
    assert [p.amount_fen for p in report.payments_for("contract-17")] == [38_400_000]


def test_a_statement_row_booked_after_today_is_invalid() -> None:
    rows = [
        {"交易日期": "2026-03-09", "金额": "100.00", "摘要": "QF-HT-2026-0017", "付款人": "某重工"},
        {"交易日期": "2026-03-10", "金额": "200.00", "摘要": "QF-HT-2026-0017", "付款人": "某重工"},
    ]
    report = reconcile_statement(rows, CONTRACTS, as_of=date(2026, 3, 9))
    assert [line.status for line in report.lines] == [RowStatus.MATCHED, RowStatus.INVALID]
    assert report.lines[1].reason_zh == "记账日期 2026-03-10 晚于今天 2026-03-09"
    assert report.lines[1].reason_en == "Booked on 2026-03-10, after today (2026-03-09)"
    assert report.matched_by_contract() == {"contract-17": 10_000}
    same_day = reconcile_statement(rows, CONTRACTS, as_of=date(2026, 3, 10))
    assert [line.status for line in same_day.lines] == [RowStatus.MATCHED, RowStatus.MATCHED]


def test_statement_with_a_function_matcher_and_bank_transaction_ids() -> None:
    rows = [
        {"date": "2026-03-09", "amount": "100.00", "reference": "HT17", "txn id": "A1"},
        {"date": "2026-03-09", "amount": "100.00", "reference": "HT17", "txn id": "A2"},  # a second, real transfer
        {"date": "2026-03-09", "amount": "100.00", "reference": "HT17", "txn id": "a1"},  # the first, repeated
    ]
    report = reconcile_statement(rows, lambda ref: "c17" if ref == "HT17" else None)
    assert [line.status for line in report.lines] == [RowStatus.MATCHED, RowStatus.MATCHED, RowStatus.DUPLICATE]
    # importing the same file again is a no-op: every key is already recorded
    keys = {line.row.key for line in report.lines if line.row is not None}
    again = reconcile_statement(rows, lambda ref: "c17", recorded_keys=keys)
    assert again.count(RowStatus.DUPLICATE) == 3 and again.total_fen(RowStatus.MATCHED) == 0
    recon = reconcile_payments(standard_plan(30_000, SIGNED), report.payments_for("c17"), date(2026, 3, 9))
    assert recon.received_fen == 20_000


# --------------------------------------------------------------------------------------------- late payment


def test_buyer_late_after_the_contract_term() -> None:
    plan = _plan()  # acceptance payment 30 days after acceptance: shorter than 60, so the contract's term stands
    paid = [Payment("BK-001", 38_400_000, date(2026, 3, 9)), Payment("BK-002", 50_000_000, date(2026, 6, 20))]
    late = buyer_lateness(plan, paid, ACCEPTED, date(2026, 7, 16))
    assert late.statutory_deadline == date(2026, 7, 31)
    assert late.is_late and late.days_late == 15 and late.late_fen == 26_800_000
    assert [(x.kind, x.deadline, x.days_late) for x in late.late_lines] == [(K.ACCEPTANCE, date(2026, 7, 1), 15)]


def test_a_longer_contract_term_is_capped_at_60_days() -> None:
    plan = PaymentPlan(
        100_000_000,
        SIGNED,
        (
            Instalment(K.FINAL, 95_000_000, days_after_acceptance=90),
            Instalment(K.RETENTION, 5_000_000, days_after_acceptance=365),
        ),
    )
    on_deadline = buyer_lateness(plan, [], ACCEPTED, date(2026, 7, 31))
    assert not on_deadline.is_late and on_deadline.lines[0].capped
    assert on_deadline.lines[0].deadline == date(2026, 7, 31)
    late = buyer_lateness(plan, [Payment("p", 90_000_000, date(2026, 7, 1))], ACCEPTED, date(2026, 8, 10))
    assert (late.days_late, late.late_fen) == (10, 5_000_000)  # the retention is not due before its warranty ends
    assert buyer_lateness(plan, [Payment("p", 95_000_000, date(2026, 8, 1))], ACCEPTED, date(2026, 8, 10)).late_fen == 0


def test_not_late_before_acceptance_unless_a_fixed_date_passed() -> None:
    plan = _plan()
    assert not buyer_lateness(plan, [Payment("a", 38_400_000, date(2026, 3, 9))], None, date(2027, 1, 1)).is_late
    unpaid = buyer_lateness(plan, [], None, date(2026, 3, 19))
    assert (unpaid.is_late, unpaid.days_late, unpaid.late_fen, unpaid.statutory_deadline) == (
        True,
        10,
        38_400_000,
        None,
    )


def test_lateness_refuses_a_bad_limit() -> None:
    with pytest.raises(InvalidInput):
        buyer_lateness(_plan(), [], ACCEPTED, ACCEPTED, limit_days=0)


# --------------------------------------------------------------------------------------------- waterfall


def test_waterfall_repays_the_loan_first() -> None:
    owed = Outstanding(penalty_fen=12_345, interest_fen=456_789, fees_fen=30_000, principal_fen=60_000_000)
    split = split_buyer_payment(76_800_000, owed)
    assert (split.penalty_fen, split.interest_fen, split.fees_fen, split.principal_fen) == (
        12_345,
        456_789,
        30_000,
        60_000_000,
    )
    assert split.sme_fen == 76_800_000 - 60_499_134 and split.total_fen == 76_800_000
    short = split_buyer_payment(60_400_000, owed)  # principal first, then interest
    assert (short.penalty_fen, short.interest_fen, short.fees_fen, short.principal_fen, short.sme_fen) == (
        0,
        400_000,
        0,
        60_000_000,
        0,
    )
    tiny = split_buyer_payment(400_000, owed)
    assert (tiny.principal_fen, tiny.interest_fen, tiny.sme_fen) == (400_000, 0, 0)


@pytest.mark.parametrize("payment", [0, -1, 1.0, True])
def test_waterfall_refuses_bad_payments(payment: object) -> None:
    with pytest.raises(InvalidInput):
        split_buyer_payment(payment, Outstanding())  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------- properties

amounts = st.integers(min_value=1, max_value=10**12)


@st.composite
def random_plans(draw: st.DrawFn) -> PaymentPlan:
    n = draw(st.integers(min_value=1, max_value=6))
    percents = draw(st.lists(st.integers(min_value=1, max_value=100), min_size=n, max_size=n))
    total = draw(st.integers(min_value=max(n * 100, 1), max_value=10**11))
    kinds = [K.ADVANCE] + [K.ACCEPTANCE] * (n - 2) + [K.RETENTION] if n > 1 else [K.FINAL]
    scale = sum(percents)
    # percentages as exact Decimals summing to 100: p_i * 100 / scale, the last one taking the remainder
    decimals = [(Decimal(p) * 100 / scale).quantize(Decimal("0.0001")) for p in percents[:-1]]
    decimals.append(Decimal(100) - sum(decimals, Decimal(0)))
    terms = [
        PlanTerm(k, d, due_on=SIGNED) if k is K.ADVANCE else PlanTerm(k, d, days_after_acceptance=30 * (i + 1))
        for i, (k, d) in enumerate(zip(kinds, decimals, strict=True))
    ]
    return plan_from_percentages(total, SIGNED, terms)


@FAST
@given(random_plans())
def test_property_percentage_plans_sum_exactly(plan: PaymentPlan) -> None:
    assert sum(i.amount_fen for i in plan.instalments) == plan.contract_amount_fen
    assert all(i.amount_fen > 0 for i in plan.instalments)


@FAST
@given(amounts, st.integers(min_value=0, max_value=100), st.integers(min_value=0, max_value=100))
def test_property_standard_plans_sum_exactly(total: int, a: int, b: int) -> None:
    low, high = sorted((a, b))
    percents = (low, high - low, 100 - high)
    try:
        plan = standard_plan(
            total, SIGNED, advance_percent=low, acceptance_percent=high - low, retention_percent=100 - high
        )
    except RuleViolation:  # only below ¥1.00 can a non-zero percentage round to zero fen
        assert total < 100
        return
    assert sum(i.amount_fen for i in plan.instalments) == total
    assert len(plan.instalments) == sum(1 for p in percents if p)


payment_lists = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=30), st.integers(min_value=1, max_value=60_000_000), st.integers(0, 200)
    ),
    max_size=25,
)


@FAST
@given(payment_lists, st.randoms(use_true_random=False), st.sampled_from([None, ACCEPTED]), st.integers(0, 500))
def test_property_reconciliation_conserves_money(
    raw: list[tuple[int, int, int]], rnd: random.Random, acceptance: date | None, offset: int
) -> None:
    # references are drawn from a small pool so that the same payment recurs; a reference always means one payment
    by_ref = {f"BK-{ref}": Payment(f"BK-{ref}", amount, SIGNED + timedelta(days=day)) for ref, amount, day in raw}
    payments = [by_ref[f"BK-{ref}"] for ref, _, _ in raw]
    plan = _plan()
    as_of = SIGNED + timedelta(days=offset)
    recon = reconcile_payments(plan, payments, as_of, acceptance_on=acceptance)
    counted = sum(p.amount_fen for p in by_ref.values() if p.paid_on <= as_of)
    assert recon.received_fen == counted
    assert recon.paid_fen == counted - recon.surplus_fen
    assert recon.surplus_fen == max(0, counted - plan.contract_amount_fen)
    assert all(0 <= s.paid_fen <= s.amount_fen for s in recon.instalments)
    assert sum(a.amount_fen for a in recon.allocations) == counted
    # duplicates and their order change nothing
    shuffled = payments + payments[: len(payments) // 2]
    rnd.shuffle(shuffled)
    assert reconcile_payments(plan, shuffled, as_of, acceptance_on=acceptance).instalments == recon.instalments


@FAST
@given(
    st.integers(min_value=1, max_value=10**12),
    st.integers(0, 10**9),
    st.integers(0, 10**10),
    st.integers(0, 10**8),
    st.integers(0, 10**12),
)
def test_property_waterfall(payment: int, penalty: int, interest: int, fees: int, principal: int) -> None:
    owed = Outstanding(penalty, interest, fees, principal)
    split = split_buyer_payment(payment, owed)
    parts = (split.penalty_fen, split.interest_fen, split.fees_fen, split.principal_fen, split.sme_fen)
    assert sum(parts) == payment and min(parts) >= 0
    assert split.penalty_fen <= penalty and split.interest_fen <= interest
    assert split.fees_fen <= fees and split.principal_fen <= principal
    assert split.loan_fen == min(payment, owed.total_fen)
    assert split.sme_fen == max(0, payment - owed.total_fen)
    # principal → interest → fees → penalty: a later component is touched only once every earlier one is repaid
    assert split.interest_fen == 0 or split.principal_fen == principal
    assert split.fees_fen == 0 or split.interest_fen == interest
    assert split.penalty_fen == 0 or split.fees_fen == fees
    assert allocate_repayment(payment, owed).excess_fen == split.sme_fen


@FAST
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.integers(1, 10**9), st.sampled_from(["QF-1", "QF-2", "??"]), st.booleans()),
        max_size=20,
    )
)
def test_property_statement_never_double_counts(raw: list[tuple[int, int, str, bool]]) -> None:
    rows = [
        {"交易日期": (SIGNED + timedelta(days=d)).isoformat(), "金额": f"{a // 100:,}.{a % 100:02d}", "摘要": r}
        | ({"金额": "oops"} if bad else {})
        for d, a, r, bad in raw
    ]
    report = reconcile_statement(rows, {"QF-1": 1, "QF-2": 2})
    assert len(report.lines) == len(rows)
    assert sum(n for n, _ in report.totals.values()) == len(rows)
    valid_keys = {line.row.key for line in report.lines if line.row is not None}
    first_time = [line for line in report.lines if line.status in (RowStatus.MATCHED, RowStatus.UNKNOWN_REFERENCE)]
    assert len(first_time) == len(valid_keys)  # every distinct transaction counted exactly once
    assert sum(report.matched_by_contract().values()) == report.total_fen(RowStatus.MATCHED)
