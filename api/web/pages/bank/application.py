"""One application with everything a reviewer needs: the receivable and its confirmation, the automatic
risk report, both parties' platform history, the financed contract, the stage timeline and the decisions allowed."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from api.deps import ClockDep, SessionDep, SettingsDep
from api.web import labels
from api.web.pages.bank._shared import APP_STATES, KIND_LABELS, LINE_STATES, LOAN_STATES, org_names
from api.web.pages.firm import SETTLEMENT_LABELS
from api.web.render import render
from api.web.session import BankPage, WebUser
from finance import pricing
from finance.queries.applications import application_file
from finance.queries.history import party_history
from finance.queries.review import approvals_with_names, confirmer_of, signature_of
from finance.schemas.applications import RiskReportPublic, TimelinePublic
from finance.service import common
from finance.service.applications import financed_on_contract
from finance.service.settlement import Settlement, settlement_of
from finance.states import FINANCE_APPLICATION, ApplicationEvent
from qianfan.clock import to_local
from qianfan.errors import DomainError
from qianfan.models import (
    ApplicationStatus,
    BankProduct,
    Contract,
    FinanceApplication,
    FinanceKind,
    OrgKind,
    ReviewDecision,
)

router = APIRouter()

#: The stages of the 48-hour clock, the parties they are charged to, the bank's decisions and contract states.
STAGE_LABELS = labels.STAGES
PARTY_LABELS: dict[str, tuple[str, str]] = {
    "platform": ("平台", "platform"),
    "bank": ("银行", "bank"),
    "sme": ("企业", "SME"),
}
DECISION_LABELS: dict[str, tuple[str, str]] = {
    "approve": ("批准", "Approved"),
    "approve_first": ("初审批准", "First approval"),
    "approve_second": ("复核批准", "Second approval"),
    "reject": ("拒绝", "Rejected"),
    "request_info": ("要求补充材料", "Information requested"),
}
CONTRACT_LABELS = labels.CONTRACT_STATES


def _default_rate(app: FinanceApplication, product: BankProduct) -> Decimal | None:
    """LPR plus the product's spread for the application's grade: the rate an approval without one gets."""
    if app.risk_grade is None:
        return None
    try:
        return pricing.annual_rate(
            common.lpr(), pricing.RiskGrade(app.risk_grade), common.product_rule(product).spreads_bp
        )
    except DomainError:
        return None


def _can(status: ApplicationStatus, event: ApplicationEvent) -> bool:
    """Whether the state machine lets the bank take *event* now; a decision on a risk-checked application starts its
    review first (as :mod:`finance.service.review` does), so it may take what a reviewed one may."""
    machine = FINANCE_APPLICATION
    if machine.can(status, event):
        return True
    return machine.can(status, ApplicationEvent.START_REVIEW) and machine.can(
        machine.transition(status, ApplicationEvent.START_REVIEW), event
    )


def _allowed(user: WebUser, status: ApplicationStatus) -> dict[str, bool]:
    """Which decisions to offer, as the state machine answers them (the use cases check the same again, and refuse
    with their own words)."""
    reviews = user.user.role in common.REVIEW_ROLES
    seconds = user.user.role in common.SECOND_APPROVER_ROLES
    return {
        "start_review": reviews and FINANCE_APPLICATION.can(status, ApplicationEvent.START_REVIEW),
        "approve": reviews and _can(status, ApplicationEvent.APPROVE),
        "second_approve": seconds and _can(status, ApplicationEvent.APPROVE_SECOND),
        "reject": reviews and _can(status, ApplicationEvent.REJECT),
        "request_info": reviews and _can(status, ApplicationEvent.REQUEST_INFO),
        "disburse": reviews and _can(status, ApplicationEvent.DISBURSE),
    }


def show_application(
    request: Request,
    user: WebUser,
    session: Session,
    settings: Any,
    now: Any,
    application_id: int,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, tuple[str, str]] | None = None,
    message: tuple[str, str] | None = None,
    failed: str = "",
    status_code: int = 200,
) -> Response:
    user.actor.require_kind(OrgKind.BANK)
    file = application_file(session, user.actor, application_id)  # another bank's application is not found
    app, product, receivable, part, loan = file.application, file.product, file.receivable, file.part, file.loan
    assert app.id is not None
    contract = file.underlying_contract
    confirmer = confirmer_of(session, receivable)
    approvals = approvals_with_names(session, app.id)
    signature = signature_of(session, app.id)
    names = org_names(
        session,
        [
            app.applicant_id,
            app.core_enterprise_id,
            receivable.creditor_id if receivable else None,
            contract.buyer_id if contract else None,
        ],
    )
    line = file.line
    chain = _contract_view(session, contract, now) if app.kind == FinanceKind.CONTRACT and contract else None
    default_values = {"amount": f"{Decimal(app.requested_fen) / 100:.2f}"}
    context = {
        "app": app,
        "product": product,
        "receivable": receivable,
        "part": part,
        "contract": contract,
        "chain": chain,
        "line": line,
        "links": _links(app),
        "kind_labels": KIND_LABELS,
        "line_states": LINE_STATES,
        "chain_links": labels.CHAIN_LINKS,
        "plan_kinds": SETTLEMENT_LABELS["kind"],
        "confirmer": confirmer,
        "approvals": approvals,
        "first_approval": next(
            (row for row in reversed(approvals) if row[0].decision == ReviewDecision.APPROVE_FIRST), None
        ),
        "signature": signature,
        "loan": loan,
        "names": names,
        "risk": RiskReportPublic.from_model(app, settings.tz),
        "timeline": TimelinePublic.from_model(app, common.intervals(session, app.id), settings.tz, now),
        "sla_now": common.sla_flag(app, now).value if app.stage else app.sla_status,
        "sme_history": party_history(session, app.applicant_id),
        "core_history": party_history(session, app.core_enterprise_id) if app.core_enterprise_id else None,
        "default_rate": _default_rate(app, product),
        "lpr": common.lpr(),
        "allowed": _allowed(user, app.status),
        "disburse_key": f"web-{app.id}-{secrets.token_hex(12)}",
        "app_states": APP_STATES,
        "loan_states": LOAN_STATES,
        "stage_labels": STAGE_LABELS,
        "party_labels": PARTY_LABELS,
        "decision_labels": DECISION_LABELS,
        "contract_labels": CONTRACT_LABELS,
        "values": values if values is not None else default_values,
        "errors": errors or {},
        "message": message,
        "failed": failed,
    }
    return render(request, "bank/application.html", context, user=user, status_code=status_code)


@dataclass(frozen=True, slots=True)
class ChainLink:
    """One link of the data chain the risk check looked at, as the report stored it."""

    code: str
    used: bool
    message_zh: str
    message_en: str


def _links(app: FinanceApplication) -> list[ChainLink]:
    """The data-chain links of the risk report (contract loans and drawdowns have them; receivables may not)."""
    report = app.risk_report or {}
    raw = report.get("links") or []
    return [
        ChainLink(
            str(x.get("code", "")),
            bool(x.get("used")),
            str(x.get("message_zh", "")),
            str(x.get("message_en", "")),
        )
        for x in raw
        if isinstance(x, dict)
    ]


@dataclass(frozen=True, slots=True)
class ContractView:
    """A financed contract as the reviewer sees it: its settlement today and what is financed on it."""

    reference: str
    settlement: Settlement
    unpaid_fen: int
    financed_fen: int
    repaid_by_buyer_fen: int  # what the buyer's payments into the contract repaid of its loan (not to the SME)


def _contract_view(session: Session, contract: Contract, now: datetime) -> ContractView:
    assert contract.id is not None
    view = settlement_of(session, contract, to_local(now).date())
    repaid = sum(
        int(p.allocation.get(key, 0))
        for p in view.payments
        if p.allocation
        for key in ("principal_fen", "interest_fen", "fees_fen", "penalty_fen")
    )
    return ContractView(
        reference=view.reference,
        settlement=view,
        unpaid_fen=max(0, contract.amount_fen - view.paid_fen),
        financed_fen=financed_on_contract(session, contract.id),
        repaid_by_buyer_fen=repaid,
    )


@router.get("/applications/{application_id}")
def application(
    application_id: int,
    request: Request,
    user: BankPage,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> Response:
    return show_application(request, user, session, settings, clock.now(), application_id)
