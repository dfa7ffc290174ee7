from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

import pytest

from finance import states
from finance.states import (
    FINANCE_APPLICATION,
    LOAN,
    RECEIVABLE,
    ApplicationEvent,
    ApplicationState,
    LoanEvent,
    LoanState,
    ReceivableEvent,
    ReceivableState,
    StateMachine,
    approval_event,
    check_confirmer,
    check_second_approver,
    check_transfer_before_maturity,
)
from qianfan.errors import InvalidInput, RuleViolation

MACHINES: list[tuple[StateMachine[Any, Any], type[StrEnum], type[StrEnum]]] = [
    (RECEIVABLE, ReceivableState, ReceivableEvent),
    (FINANCE_APPLICATION, ApplicationState, ApplicationEvent),
    (LOAN, LoanState, LoanEvent),
]

ILLEGAL = [
    pytest.param(machine, state, event, id=f"{machine.name_en}:{state}:{event}")
    for machine, states, events in MACHINES
    for state in states
    for event in events
    if (state, event) not in machine.table
]
LEGAL = [
    pytest.param(machine, state, event, new, id=f"{machine.name_en}:{state}:{event}")
    for machine, _, _ in MACHINES
    for (state, event), new in machine.table.items()
]


@pytest.mark.parametrize(("machine", "state", "event"), ILLEGAL)
def test_every_pair_outside_the_table_is_refused(machine: StateMachine[Any, Any], state: Any, event: Any) -> None:
    assert event not in machine.allowed(state)
    assert not machine.can(state, event)
    with pytest.raises(RuleViolation) as err:
        machine.transition(state, event)
    e = err.value
    assert e.message_zh and e.message_en
    assert e.message.index(e.message_zh) < e.message.index(e.message_en)  # Chinese first
    assert e.detail["state"] == str(state) and e.detail["event"] == str(event)
    assert e.detail["allowed"] == [str(x) for x in machine.allowed(state)]


@pytest.mark.parametrize(("machine", "state", "event", "new"), LEGAL)
def test_every_pair_in_the_table_moves(machine: StateMachine[Any, Any], state: Any, event: Any, new: Any) -> None:
    assert machine.transition(state, event) == new
    assert event in machine.allowed(state)


def test_generic_message_names_state_and_action() -> None:
    with pytest.raises(RuleViolation) as err:
        FINANCE_APPLICATION.transition(ApplicationState.REJECTED, ApplicationEvent.APPROVE)
    assert "已拒绝" in err.value.message_zh and "批准" in err.value.message_zh
    assert err.value.message_en == "cannot approve a finance application that is rejected (final state)"


@pytest.mark.parametrize(
    ("machine", "state", "event", "zh", "en"),
    [
        (
            FINANCE_APPLICATION,
            ApplicationState.UNDER_REVIEW,
            ApplicationEvent.DISBURSE,
            "放款前必须先获批准",
            "cannot disburse before approval",
        ),
        (
            FINANCE_APPLICATION,
            ApplicationState.SUBMITTED,
            ApplicationEvent.DISBURSE,
            "放款前必须先获批准",
            "cannot disburse before approval",
        ),
        (
            FINANCE_APPLICATION,
            ApplicationState.APPROVED,
            ApplicationEvent.DISBURSE,
            "签署融资要约",
            "signed the offer",
        ),
        (
            FINANCE_APPLICATION,
            ApplicationState.DISBURSED,
            ApplicationEvent.DISBURSE,
            "不能重复放款",
            "already been disbursed",
        ),
        (RECEIVABLE, ReceivableState.SETTLED, ReceivableEvent.FINANCE, "已结清", "settled receivable cannot be"),
        (RECEIVABLE, ReceivableState.FINANCED, ReceivableEvent.FINANCE, "只能融资一次", "at most once"),
        (RECEIVABLE, ReceivableState.REGISTERED, ReceivableEvent.FINANCE, "确权", "must be confirmed"),
        (RECEIVABLE, ReceivableState.CONFIRMED, ReceivableEvent.CANCEL, "不可撤销", "irrevocable"),
        (RECEIVABLE, ReceivableState.FINANCED, ReceivableEvent.TRANSFER, "已融资", "cannot be transferred"),
        (LOAN, LoanState.REPAID, LoanEvent.REPAY_PARTIAL, "已还清", "already repaid"),
    ],
)
def test_specific_refusals(machine: StateMachine[Any, Any], state: Any, event: Any, zh: str, en: str) -> None:
    with pytest.raises(RuleViolation) as err:
        machine.transition(state, event)
    assert zh in err.value.message_zh
    assert en in err.value.message_en


def test_happy_paths() -> None:
    s = ApplicationState.SUBMITTED
    for ev in [
        ApplicationEvent.PASS_RISK_CHECK,
        ApplicationEvent.START_REVIEW,
        ApplicationEvent.REQUEST_INFO,
        ApplicationEvent.PROVIDE_INFO,
        approval_event(3_000_000_000, 1_000_000_000),
        ApplicationEvent.APPROVE_SECOND,
        ApplicationEvent.SIGN_OFFER,
        ApplicationEvent.DISBURSE,
    ]:
        s = FINANCE_APPLICATION.transition(s, ev)
    assert s is ApplicationState.DISBURSED
    assert FINANCE_APPLICATION.terminal(s)
    r = ReceivableState.REGISTERED
    for rev in [ReceivableEvent.CONFIRM, ReceivableEvent.SPLIT, ReceivableEvent.TRANSFER, ReceivableEvent.FINANCE]:
        r = RECEIVABLE.transition(r, rev)
    assert RECEIVABLE.transition(r, ReceivableEvent.SETTLE) is ReceivableState.SETTLED
    loan = LoanState.DISBURSED
    for lev in [LoanEvent.REPAY_PARTIAL, LoanEvent.MARK_OVERDUE, LoanEvent.REPAY_PARTIAL, LoanEvent.REPAY_FULL]:
        loan = LOAN.transition(loan, lev)
    assert loan is LoanState.REPAID


def test_approval_event_four_eyes() -> None:
    assert approval_event(999, 1000) is ApplicationEvent.APPROVE
    assert approval_event(1000, 1000) is ApplicationEvent.APPROVE_FIRST
    assert approval_event(10**12, None) is ApplicationEvent.APPROVE
    check_second_approver(1, 2)
    with pytest.raises(RuleViolation, match="四眼"):
        check_second_approver(1, 1)


def test_check_confirmer() -> None:
    check_confirmer("sme", "core", "core")
    with pytest.raises(RuleViolation) as err:
        check_confirmer("sme", "core", "sme")
    assert err.value.message == "债权人不能确权自己的应收账款 / the creditor cannot confirm its own receivable"
    with pytest.raises(RuleViolation, match="only the debtor"):
        check_confirmer("sme", "core", "someone-else")
    with pytest.raises(InvalidInput):
        check_confirmer("x", "x", "x")


def test_transfer_only_before_maturity() -> None:
    check_transfer_before_maturity(date(2026, 6, 30), date(2026, 6, 29))
    with pytest.raises(RuleViolation, match="after maturity"):
        check_transfer_before_maturity(date(2026, 6, 30), date(2026, 6, 30))


def test_the_state_groups_are_the_ones_the_machines_answer() -> None:
    """The groups pages and use cases filter on are named once here, and agree with the transition tables."""
    from_table = {s for (s, e) in RECEIVABLE.table if e == ReceivableEvent.FINANCE}
    assert set(states.FINANCEABLE_RECEIVABLE_STATES) == from_table
    assert set(states.CONFIRMED_RECEIVABLE_STATES) == from_table | {ReceivableState.FINANCED}
    app = FINANCE_APPLICATION.table
    assert set(states.BEFORE_SIGNATURE_STATES) == {s for (s, e) in app if e == ApplicationEvent.WITHDRAW}
    assert set(states.OPEN_APPLICATION_STATES) == {s for (s, e) in app if e == ApplicationEvent.EXPIRE}
    assert set(states.BEFORE_APPROVAL_STATES) == {
        s for s in states.BEFORE_SIGNATURE_STATES if not FINANCE_APPLICATION.can(s, ApplicationEvent.SIGN_OFFER)
    }
    assert set(states.REVIEW_QUEUE_STATES) == set(states.BEFORE_APPROVAL_STATES) - {ApplicationState.SUBMITTED}
