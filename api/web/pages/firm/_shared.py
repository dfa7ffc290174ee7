"""What several sections of the large firm's portal share: the labels of states, the page renderer, the
firm's own order, organisation names, and the contract settlement's labels and rows (the SME's and the bank's
pages use those too)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlmodel import Session

from accounts.queries import organisation_names
from api.web import labels
from api.web.render import field_errors, render
from api.web.session import WebUser
from finance import service as fs
from finance import settlement as settlement_rules
from market.access import ORDER, load_order_for
from matcher.explain import REASON_LABELS
from qianfan.clock import Clock, to_local
from qianfan.errors import DomainError, InvalidInput, NotFound
from qianfan.models import IntentStatus, LoanStatus, Order, OrderKind, OrderStatus, ReceivableStatus

DUE_SOON_DAYS = 30

#: Labels of states: value → (中文, English, badge tone).
ORDER_KINDS = {
    OrderKind.PROCUREMENT.value: ("采购订单", "Procurement"),
    OrderKind.INVESTMENT.value: ("投资需求", "Investment"),
    OrderKind.MERGER.value: ("并购需求", "Merger"),
}
STATES = {
    "order": {
        OrderStatus.OPEN.value: ("开放中", "Open", "ok"),
        OrderStatus.AWARDED.value: ("已定标", "Awarded", "info"),
        OrderStatus.CLOSED.value: ("已关闭", "Closed", "muted"),
    },
    "intent": {
        IntentStatus.PROPOSED.value: ("待签署", "Awaiting signature", "warn"),
        IntentStatus.SIGNED.value: ("已签署", "Signed", "ok"),
        IntentStatus.CANCELLED.value: ("已撤销", "Cancelled", "muted"),
    },
    "receivable": {
        ReceivableStatus.REGISTERED.value: ("待确权", "Awaiting confirmation", "warn"),
        ReceivableStatus.CONFIRMED.value: ("已确权", "Confirmed", "ok"),
        ReceivableStatus.SPLIT.value: ("已拆分", "Split", "info"),
        ReceivableStatus.PARTLY_TRANSFERRED.value: ("部分转让", "Partly transferred", "info"),
        ReceivableStatus.FINANCED.value: ("已融资", "Financed", "info"),
        ReceivableStatus.SETTLED.value: ("已结清", "Settled", "muted"),
        ReceivableStatus.CANCELLED.value: ("已撤销", "Cancelled", "muted"),
    },
    "loan": {
        LoanStatus.DISBURSED.value: ("已放款", "Disbursed", "info"),
        LoanStatus.REPAID_PARTIALLY.value: ("部分还款", "Partly repaid", "warn"),
        LoanStatus.OVERDUE.value: ("已逾期", "Overdue", "bad"),
        LoanStatus.REPAID.value: ("已还清", "Repaid", "muted"),
    },
    "contract": {
        value: (*labels.CONTRACT_STATES[value], tone)
        for value, tone in (("active", "info"), ("delivered", "ok"), ("completed", "muted"), ("terminated", "bad"))
    },
}


#: The matcher's one table of reason labels (code → (中文, English)).
FEATURES = REASON_LABELS


def firm_page(request: Request, template: str, user: WebUser, status_code: int = 200, **context: Any) -> Response:
    page = {"states": STATES, "order_kinds": ORDER_KINDS, "features": FEATURES, **context}
    return render(request, f"firm/{template}", page, user=user, status_code=status_code)


def local_today(clock: Clock) -> date:
    return to_local(clock.now()).date()


def own_order(session: Session, user: WebUser, order_id: int) -> Order:
    """An order the firm posted (read through ``market.access``); any other is a 404 page."""
    order = load_order_for(session, user.actor, order_id)
    if order.organisation_id != user.organisation_id:
        raise NotFound.of(*ORDER, order_id)
    return order


def org_names(session: Session, ids: set[int]) -> dict[int, str]:
    return organisation_names(session, ids)


def refusal(exc: DomainError) -> tuple[dict[str, tuple[str, str]], tuple[str, str] | None]:
    """Field errors of an InvalidInput; any other refusal is a message for the whole form."""
    errors = field_errors(exc) if isinstance(exc, InvalidInput) else {}
    return errors, (None if errors else (exc.message_zh, exc.message_en))


#: Names of the settlement's kinds and states, ``value → (中文, English[, badge tone])``; the SME's page uses them too.
SETTLEMENT_LABELS: dict[str, dict[str, tuple[str, ...]]] = {
    "kind": {
        "advance": ("预付款", "Advance"),
        "acceptance": ("验收款", "On acceptance"),
        "final": ("尾款", "Final payment"),
        "retention": ("质保金", "Retention"),
    },
    "instalment": {
        "paid": ("已付清", "Paid", "ok"),
        "overdue": ("已逾期", "Overdue", "bad"),
        "due": ("今日到期", "Due today", "warn"),
        "partly_paid": ("部分支付", "Partly paid", "info"),
        "not_yet_due": ("未到期", "Not yet due", "muted"),
        "awaiting_acceptance": ("待验收", "Awaiting acceptance", "muted"),
    },
    "row": {
        "matched": ("已匹配", "Matched", "ok"),
        "duplicate": ("重复", "Duplicate", "warn"),
        "unknown_reference": ("无法识别的合同", "Unknown reference", "bad"),
        "invalid": ("无效行", "Invalid", "bad"),
    },
    "source": {
        "manual": ("手工登记", "Recorded by hand"),
        "statement": ("对账单导入", "Bank statement"),
    },
}


@dataclass
class InstalmentRow:
    """One instalment of a plan as the pages show it: its state as of today and its deadline under the 60-day rule."""

    state: settlement_rules.InstalmentState
    deadline: date | None
    capped: bool
    days_late: int


def settlement_rows(view: fs.Settlement) -> list[InstalmentRow]:
    """The plan's instalments with their statutory deadlines (shared with the SME's contract page)."""
    late = {line.index: line for line in view.lateness.lines}
    rows = []
    for state in view.reconciliation.instalments:
        line = late.get(state.index)
        rows.append(
            InstalmentRow(
                state,
                line.deadline if line else state.due_date,
                bool(line and line.capped),
                line.days_late if line else 0,
            )
        )
    return rows
