"""State machines for receivables, finance applications and loans (pure rules).

A :class:`StateMachine` is a transition table ``{(state, event): new_state}`` plus bilingual labels.
``transition`` refuses every pair not in the table with a :class:`~qianfan.errors.RuleViolation` whose message
names the state and the action (Chinese first, then English); a few well-known refusals have a more specific
message (e.g. "放款前必须先获批准 / cannot disburse before approval").  ``allowed(state)`` lists the events.

Receivable (应收账款)::

    registered --confirm--> confirmed --split--> split
    registered --cancel--> cancelled          (a confirmed receivable is irrevocable: no cancel after confirm)
    confirmed | split | partly_transferred --transfer--> partly_transferred
    confirmed | split | partly_transferred --finance--> financed
    confirmed | split | partly_transferred | financed --settle--> settled

  Splitting creates new part receivables that start in ``confirmed``; the parent moves to ``split``.

FinanceApplication (融资申请)::

    submitted --pass_risk_check--> risk_checked --start_review--> under_review
    submitted --fail_risk_check--> rejected
    under_review --request_info--> info_requested --provide_info--> under_review
    under_review --approve--> approved                     (below the bank's four-eyes amount)
    under_review --approve_first--> awaiting_second_approval --approve_second--> approved   (four-eyes)
    under_review | awaiting_second_approval --reject--> rejected
    approved --sign_offer--> offer_signed --disburse--> disbursed
    any state before offer_signed --withdraw--> withdrawn (by the SME)
    any state before disbursed --expire--> expired (the offer or the application lapsed)

Loan (贷款)::

    disbursed | repaid_partially --repay_partial--> repaid_partially
    disbursed | repaid_partially | overdue --repay_full--> repaid
    disbursed | repaid_partially --mark_overdue--> overdue --repay_partial--> overdue
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Generic, TypeVar

from qianfan.errors import InvalidInput, RuleViolation

# The states are the tables' own column enums, so a stored status is a state of its machine with no conversion.
from qianfan.models.finance import ApplicationStatus as ApplicationState
from qianfan.models.finance import LoanStatus as LoanState
from qianfan.models.finance import ReceivableStatus as ReceivableState

S = TypeVar("S", bound=StrEnum)
E = TypeVar("E", bound=StrEnum)


@dataclass(frozen=True)
class StateMachine(Generic[S, E]):
    name_zh: str
    name_en: str
    table: Mapping[tuple[S, E], S]
    state_labels: Mapping[S, tuple[str, str]]
    event_labels: Mapping[E, tuple[str, str]]
    #: Specific refusals: ``(state, event) -> (message_zh, message_en)``; ``(None, event)`` applies to any state.
    refusals: Mapping[tuple[S | None, E], tuple[str, str]] = field(default_factory=dict)

    def allowed(self, current: S) -> tuple[E, ...]:
        return tuple(event for (state, event) in self.table if state == current)

    def can(self, current: S, event: E) -> bool:
        return (current, event) in self.table

    def terminal(self, current: S) -> bool:
        return not self.allowed(current)

    def transition(self, current: S, event: E) -> S:
        try:
            return self.table[(current, event)]
        except KeyError:
            pass
        state_zh, state_en = self.state_labels.get(current, (str(current), str(current)))
        event_zh, event_en = self.event_labels.get(event, (str(event), str(event)))
        allowed = self.allowed(current)
        detail = {
            "machine": self.name_en,
            "state": str(current),
            "event": str(event),
            "allowed": [str(e) for e in allowed],
        }
        specific = self.refusals.get((current, event)) or self.refusals.get((None, event))
        if specific:
            zh, en = specific
        else:
            zh = f"{self.name_zh}当前为「{state_zh}」，不能{event_zh}"
            en = f"cannot {event_en} a {self.name_en} that is {state_en}"
        if not allowed:
            zh += "（已是终态）"
            en += " (final state)"
        raise RuleViolation(zh, en, detail=detail)


# --- Receivable ----------------------------------------------------------------------------------------------


class ReceivableEvent(StrEnum):
    CONFIRM = "confirm"
    SPLIT = "split"
    TRANSFER = "transfer"
    FINANCE = "finance"
    SETTLE = "settle"
    CANCEL = "cancel"


_R, _RE = ReceivableState, ReceivableEvent
#: Confirmed by the debtor and not yet financed, settled or cancelled: the states from which a receivable may be
#: transferred or financed (``finance`` is allowed from exactly these).
FINANCEABLE_RECEIVABLE_STATES: tuple[ReceivableState, ...] = (_R.CONFIRMED, _R.SPLIT, _R.PARTLY_TRANSFERRED)
#: Confirmed by the debtor at some point (financeable, or financed since).
CONFIRMED_RECEIVABLE_STATES: tuple[ReceivableState, ...] = (*FINANCEABLE_RECEIVABLE_STATES, _R.FINANCED)
_OPEN_CONFIRMED = FINANCEABLE_RECEIVABLE_STATES

RECEIVABLE = StateMachine[ReceivableState, ReceivableEvent](
    name_zh="应收账款",
    name_en="receivable",
    table={
        (_R.REGISTERED, _RE.CONFIRM): _R.CONFIRMED,
        (_R.REGISTERED, _RE.CANCEL): _R.CANCELLED,
        (_R.CONFIRMED, _RE.SPLIT): _R.SPLIT,
        **{(s, _RE.TRANSFER): _R.PARTLY_TRANSFERRED for s in _OPEN_CONFIRMED},
        **{(s, _RE.FINANCE): _R.FINANCED for s in _OPEN_CONFIRMED},
        **{(s, _RE.SETTLE): _R.SETTLED for s in (*_OPEN_CONFIRMED, _R.FINANCED)},
    },
    state_labels={
        _R.REGISTERED: ("已登记", "registered"),
        _R.CONFIRMED: ("已确权", "confirmed"),
        _R.SPLIT: ("已拆分", "split"),
        _R.PARTLY_TRANSFERRED: ("已部分转让", "partly transferred"),
        _R.FINANCED: ("已融资", "financed"),
        _R.SETTLED: ("已结清", "settled"),
        _R.CANCELLED: ("已撤销", "cancelled"),
    },
    event_labels={
        _RE.CONFIRM: ("确权", "confirm"),
        _RE.SPLIT: ("拆分", "split"),
        _RE.TRANSFER: ("转让", "transfer"),
        _RE.FINANCE: ("申请融资", "finance"),
        _RE.SETTLE: ("结清", "settle"),
        _RE.CANCEL: ("撤销", "cancel"),
    },
    refusals={
        (_R.SETTLED, _RE.FINANCE): ("已结清的应收账款不能融资", "a settled receivable cannot be financed"),
        (_R.FINANCED, _RE.FINANCE): (
            "该应收账款已融资，每笔应收账款只能融资一次",
            "this receivable is already financed; a receivable is financed at most once",
        ),
        (_R.REGISTERED, _RE.FINANCE): (
            "应收账款须经债务人确权后才能融资",
            "a receivable must be confirmed by the debtor before it can be financed",
        ),
        (_R.REGISTERED, _RE.SPLIT): ("未确权的应收账款不能拆分", "an unconfirmed receivable cannot be split"),
        (_R.REGISTERED, _RE.TRANSFER): ("未确权的应收账款不能转让", "an unconfirmed receivable cannot be transferred"),
        (_R.FINANCED, _RE.TRANSFER): ("已融资的应收账款不能转让", "a financed receivable cannot be transferred"),
        **{
            (s, _RE.CONFIRM): ("应收账款已确权，确权不可重复", "the receivable is already confirmed")
            for s in (*_OPEN_CONFIRMED, _R.FINANCED, _R.SETTLED)
        },
        **{
            (s, _RE.CANCEL): (
                "已确权的应收账款不可撤销（确权为不可撤销的付款承诺）",
                "a confirmed receivable cannot be cancelled (the payment undertaking is irrevocable)",
            )
            for s in (*_OPEN_CONFIRMED, _R.FINANCED, _R.SETTLED)
        },
    },
)


def check_confirmer(creditor_id: str, debtor_id: str, actor_org_id: str) -> None:
    """Only a user of the debtor organisation may confirm (确权) a receivable — never the creditor."""
    if creditor_id == debtor_id:
        raise InvalidInput(
            "应收账款的债权人与债务人不能是同一机构",
            "the creditor and the debtor of a receivable must be different organisations",
            detail={"creditor_id": creditor_id, "debtor_id": debtor_id},
        )
    if actor_org_id == creditor_id:
        raise RuleViolation(
            "债权人不能确权自己的应收账款",
            "the creditor cannot confirm its own receivable",
            detail={"creditor_id": creditor_id, "actor_org_id": actor_org_id},
        )
    if actor_org_id != debtor_id:
        raise RuleViolation(
            "只有债务人（核心企业）可以确权该应收账款",
            "only the debtor (core enterprise) can confirm this receivable",
            detail={"debtor_id": debtor_id, "actor_org_id": actor_org_id},
        )


def check_transfer_before_maturity(due_date: date, today: date) -> None:
    """A receivable (or part) can be transferred only before its due date."""
    if today >= due_date:
        raise RuleViolation(
            f"应收账款已于 {due_date.isoformat()} 到期，到期后不能转让",
            f"the receivable matured on {due_date.isoformat()}; it cannot be transferred after maturity",
            detail={"due_date": due_date.isoformat(), "today": today.isoformat()},
        )


# --- Finance application -------------------------------------------------------------------------------------


class ApplicationEvent(StrEnum):
    PASS_RISK_CHECK = "pass_risk_check"
    FAIL_RISK_CHECK = "fail_risk_check"
    START_REVIEW = "start_review"
    REQUEST_INFO = "request_info"
    PROVIDE_INFO = "provide_info"
    APPROVE = "approve"
    APPROVE_FIRST = "approve_first"
    APPROVE_SECOND = "approve_second"
    REJECT = "reject"
    SIGN_OFFER = "sign_offer"
    DISBURSE = "disburse"
    WITHDRAW = "withdraw"
    EXPIRE = "expire"


_A, _AE = ApplicationState, ApplicationEvent
#: Waiting on the bank's review (or on the SME's answer to it): the bank's review queue.
REVIEW_QUEUE_STATES: tuple[ApplicationState, ...] = (
    _A.RISK_CHECKED,
    _A.UNDER_REVIEW,
    _A.AWAITING_SECOND_APPROVAL,
    _A.INFO_REQUESTED,
)
#: Before the bank's approval: submitted or in review.
BEFORE_APPROVAL_STATES: tuple[ApplicationState, ...] = (_A.SUBMITTED, *REVIEW_QUEUE_STATES)
#: Before the SME's signature: the SME may still withdraw.
BEFORE_SIGNATURE_STATES: tuple[ApplicationState, ...] = (*BEFORE_APPROVAL_STATES, _A.APPROVED)
#: Open: the part (or contract, or line) is reserved and the limits are held, and no loan exists yet.
OPEN_APPLICATION_STATES: tuple[ApplicationState, ...] = (*BEFORE_SIGNATURE_STATES, _A.OFFER_SIGNED)
_BEFORE_SIGNATURE = BEFORE_SIGNATURE_STATES
_BEFORE_APPROVAL = BEFORE_APPROVAL_STATES

FINANCE_APPLICATION = StateMachine[ApplicationState, ApplicationEvent](
    name_zh="融资申请",
    name_en="finance application",
    table={
        (_A.SUBMITTED, _AE.PASS_RISK_CHECK): _A.RISK_CHECKED,
        (_A.SUBMITTED, _AE.FAIL_RISK_CHECK): _A.REJECTED,
        (_A.RISK_CHECKED, _AE.START_REVIEW): _A.UNDER_REVIEW,
        (_A.UNDER_REVIEW, _AE.REQUEST_INFO): _A.INFO_REQUESTED,
        (_A.INFO_REQUESTED, _AE.PROVIDE_INFO): _A.UNDER_REVIEW,
        (_A.UNDER_REVIEW, _AE.APPROVE): _A.APPROVED,
        (_A.UNDER_REVIEW, _AE.APPROVE_FIRST): _A.AWAITING_SECOND_APPROVAL,
        (_A.AWAITING_SECOND_APPROVAL, _AE.APPROVE_SECOND): _A.APPROVED,
        (_A.UNDER_REVIEW, _AE.REJECT): _A.REJECTED,
        (_A.AWAITING_SECOND_APPROVAL, _AE.REJECT): _A.REJECTED,
        (_A.INFO_REQUESTED, _AE.REJECT): _A.REJECTED,  # the SME never answered
        (_A.APPROVED, _AE.SIGN_OFFER): _A.OFFER_SIGNED,
        (_A.OFFER_SIGNED, _AE.DISBURSE): _A.DISBURSED,
        **{(s, _AE.WITHDRAW): _A.WITHDRAWN for s in _BEFORE_SIGNATURE},
        **{(s, _AE.EXPIRE): _A.EXPIRED for s in (*_BEFORE_SIGNATURE, _A.OFFER_SIGNED)},
    },
    state_labels={
        _A.SUBMITTED: ("已提交", "submitted"),
        _A.RISK_CHECKED: ("已通过风控", "risk-checked"),
        _A.UNDER_REVIEW: ("银行审核中", "under bank review"),
        _A.INFO_REQUESTED: ("待补充材料", "waiting for information"),
        _A.AWAITING_SECOND_APPROVAL: ("待复核", "awaiting second approval"),
        _A.APPROVED: ("已批准", "approved"),
        _A.OFFER_SIGNED: ("已签约", "offer signed"),
        _A.DISBURSED: ("已放款", "disbursed"),
        _A.REJECTED: ("已拒绝", "rejected"),
        _A.WITHDRAWN: ("已撤回", "withdrawn"),
        _A.EXPIRED: ("已过期", "expired"),
    },
    event_labels={
        _AE.PASS_RISK_CHECK: ("通过风控", "pass the risk check of"),
        _AE.FAIL_RISK_CHECK: ("风控拒绝", "fail the risk check of"),
        _AE.START_REVIEW: ("开始审核", "start reviewing"),
        _AE.REQUEST_INFO: ("要求补充材料", "request information on"),
        _AE.PROVIDE_INFO: ("补充材料", "provide information for"),
        _AE.APPROVE: ("批准", "approve"),
        _AE.APPROVE_FIRST: ("初审批准", "give first approval to"),
        _AE.APPROVE_SECOND: ("复核批准", "give second approval to"),
        _AE.REJECT: ("拒绝", "reject"),
        _AE.SIGN_OFFER: ("签署融资要约", "sign the offer of"),
        _AE.DISBURSE: ("放款", "disburse"),
        _AE.WITHDRAW: ("撤回", "withdraw"),
        _AE.EXPIRE: ("过期", "expire"),
    },
    refusals={
        **{(s, _AE.DISBURSE): ("放款前必须先获批准", "cannot disburse before approval") for s in _BEFORE_APPROVAL},
        (_A.APPROVED, _AE.DISBURSE): (
            "放款前中小企业必须先签署融资要约",
            "cannot disburse before the SME has signed the offer",
        ),
        (_A.DISBURSED, _AE.DISBURSE): ("该申请已放款，不能重复放款", "this application has already been disbursed"),
        **{
            (s, _AE.SIGN_OFFER): ("签约前必须先获批准", "cannot sign an offer before approval")
            for s in _BEFORE_APPROVAL
        },
    },
)


def approval_event(amount_fen: int, four_eyes_threshold_fen: int | None) -> ApplicationEvent:
    """``APPROVE`` below the bank's four-eyes amount; ``APPROVE_FIRST`` (a second approver needed) at or above it.

    ``None`` means the bank has no four-eyes rule.
    """
    if four_eyes_threshold_fen is not None and amount_fen >= four_eyes_threshold_fen:
        return ApplicationEvent.APPROVE_FIRST
    return ApplicationEvent.APPROVE


def check_second_approver(first_approver_id: int, second_approver_id: int) -> None:
    """Four-eyes: the second approval must come from a different person."""
    if first_approver_id == second_approver_id:
        raise RuleViolation(
            "复核人不能与初审批准人为同一人（四眼原则）",
            "the second approver must be a different person from the first (four-eyes rule)",
            detail={"approver_id": first_approver_id},
        )


# --- Loan ----------------------------------------------------------------------------------------------------


class LoanEvent(StrEnum):
    REPAY_PARTIAL = "repay_partial"
    REPAY_FULL = "repay_full"
    MARK_OVERDUE = "mark_overdue"


_L, _LE = LoanState, LoanEvent

LOAN = StateMachine[LoanState, LoanEvent](
    name_zh="贷款",
    name_en="loan",
    table={
        (_L.DISBURSED, _LE.REPAY_PARTIAL): _L.REPAID_PARTIALLY,
        (_L.REPAID_PARTIALLY, _LE.REPAY_PARTIAL): _L.REPAID_PARTIALLY,
        (_L.OVERDUE, _LE.REPAY_PARTIAL): _L.OVERDUE,
        (_L.DISBURSED, _LE.REPAY_FULL): _L.REPAID,
        (_L.REPAID_PARTIALLY, _LE.REPAY_FULL): _L.REPAID,
        (_L.OVERDUE, _LE.REPAY_FULL): _L.REPAID,
        (_L.DISBURSED, _LE.MARK_OVERDUE): _L.OVERDUE,
        (_L.REPAID_PARTIALLY, _LE.MARK_OVERDUE): _L.OVERDUE,
    },
    state_labels={
        _L.DISBURSED: ("已放款", "disbursed"),
        _L.REPAID_PARTIALLY: ("部分还款", "partly repaid"),
        _L.OVERDUE: ("已逾期", "overdue"),
        _L.REPAID: ("已还清", "repaid"),
    },
    event_labels={
        _LE.REPAY_PARTIAL: ("部分还款", "partly repay"),
        _LE.REPAY_FULL: ("全额还款", "fully repay"),
        _LE.MARK_OVERDUE: ("标记逾期", "mark overdue"),
    },
    refusals={
        (_L.REPAID, _LE.REPAY_PARTIAL): ("贷款已还清，不能再还款", "the loan is already repaid"),
        (_L.REPAID, _LE.REPAY_FULL): ("贷款已还清，不能再还款", "the loan is already repaid"),
        (_L.REPAID, _LE.MARK_OVERDUE): ("已还清的贷款不能标记逾期", "a repaid loan cannot be marked overdue"),
        (_L.OVERDUE, _LE.MARK_OVERDUE): ("贷款已是逾期状态", "the loan is already overdue"),
    },
)

#: A loan still owed: every state the loan machine can still leave (disbursed, partly repaid, overdue).
OPEN_LOAN_STATES: tuple[LoanState, ...] = tuple(state for state in LoanState if not LOAN.terminal(state))
#: Owed and not overdue: the states the maturity sweep may mark overdue.
CURRENT_LOAN_STATES: tuple[LoanState, ...] = tuple(
    state for state in OPEN_LOAN_STATES if LOAN.can(state, LoanEvent.MARK_OVERDUE)
)
