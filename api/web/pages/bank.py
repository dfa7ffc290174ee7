"""The bank's pages (银行): the review queue by 48-hour deadline, one application with everything a reviewer needs
(receivable and its confirmation, the automatic risk report, both parties' platform history, the stage timeline)
and its decisions — start review, approve, reject, ask for information, disburse exactly once — then the bank's
loans and its exposure per core enterprise against the credit lines.

Every decision is one use case of :mod:`finance.service`; the use cases check the user's role (reviewer, approver)
and the application's state, and a refusal is shown in both languages.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import func
from sqlmodel import Session, col, select

from api.deps import ClockDep, EngineDep, SessionDep, SettingsDep
from api.finance_schemas import RiskReportPublic, TimelinePublic
from api.params import MAX_ID
from api.web import labels
from api.web.pages.firm import SETTLEMENT_LABELS
from api.web.render import act, field_errors, form_values, redirect, render, yuan
from api.web.session import BankPage, FormDep, WebUser
from finance import credit_suggestion as cs
from finance import pricing
from finance import service as fs
from finance.limits import add_months
from finance.service import common
from finance.service.applications import REVIEW_QUEUE_STATES, financed_on_contract
from finance.service.chain_finance import LINE_DECIDERS
from finance.service.credit_suggestion import WINDOW_MONTHS
from finance.service.history import party_history
from finance.service.settlement import Settlement, settlement_of
from qianfan.clock import to_local
from qianfan.errors import Conflict, DomainError, InvalidInput, NotFound, RuleViolation
from qianfan.models import (
    ApplicationStatus,
    Approval,
    BankProduct,
    Contract,
    CreditLine,
    FinanceApplication,
    FinanceKind,
    Loan,
    LoanStatus,
    Organisation,
    OrgKind,
    Receivable,
    ReceivablePart,
    ReviewDecision,
    Signature,
    SmeCreditLine,
    SmeLineStatus,
    User,
)
from qianfan.uow import UnitOfWork

router = APIRouter(prefix="/bank", include_in_schema=False)

#: Application and loan states in both languages, by value.
APP_STATES = labels.APPLICATION_STATES
LOAN_STATES = labels.LOAN_STATES
#: The loan filter of /bank/loans: current (running, partly repaid), overdue, repaid.
LOAN_FILTERS: dict[str, tuple[LoanStatus, ...]] = {
    "current": (LoanStatus.DISBURSED, LoanStatus.REPAID_PARTIALLY),
    "overdue": (LoanStatus.OVERDUE,),
    "repaid": (LoanStatus.REPAID,),
}
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
#: The finance products (a badge on every application and loan) and the states of an SME's revolving line.
KIND_LABELS = labels.FINANCE_KINDS
LINE_STATES = labels.SME_LINE_STATES
#: Utilisation of a credit line above which the portfolio page highlights it.
HIGH_UTILISATION = Decimal("0.8")
APPROVE_FIELDS = ("amount", "annual_rate", "note")
DECISION_FIELDS = (*APPROVE_FIELDS, "reason", "question")


def _names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.exec(select(Organisation.id, Organisation.name).where(col(Organisation.id).in_(wanted))).all()
    return {i: n for i, n in rows if i is not None}


# ------------------------------------------------------------------------------------------ the review queue


@router.get("")
def queue(
    request: Request, user: BankPage, session: SessionDep, clock: ClockDep, state: str = "", kind: str = ""
) -> Response:
    now = clock.now()
    items = fs.review_queue(session, user.actor, now)
    counts = {flag: sum(1 for i in items if i.sla_status == flag) for flag in ("breached", "at_risk")}
    state = state if state in {s.value for s in REVIEW_QUEUE_STATES} else ""
    kind = kind if kind in KIND_LABELS else ""
    shown = [
        i
        for i in items
        if (not state or i.application.status.value == state) and (not kind or i.application.kind.value == kind)
    ]
    ids = [i.application.applicant_id for i in shown] + [i.application.core_enterprise_id for i in shown]
    context = {
        "items": shown,
        "total": len(items),
        "counts": counts,
        "state": state,
        "state_options": [(s.value, APP_STATES[s.value]) for s in REVIEW_QUEUE_STATES],
        "kind": kind,
        "kind_options": list(KIND_LABELS.items()),
        "kind_counts": {k: sum(1 for i in items if i.application.kind.value == k) for k in KIND_LABELS},
        "kind_labels": KIND_LABELS,
        "names": _names(session, ids),
        "app_states": APP_STATES,
    }
    return render(request, "bank/queue.html", context, user=user)


# ------------------------------------------------------------------------------------------ one application


def _own_application(session: Session, user: WebUser, application_id: int) -> FinanceApplication:
    app = session.get(FinanceApplication, application_id)
    if app is None:
        raise NotFound.of("融资申请", "Finance application", application_id)
    common.require_bank_of(app, user.actor)  # another bank's application does not exist for this one
    return app


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


def _allowed(user: WebUser, status: ApplicationStatus) -> dict[str, bool]:
    """Which decisions to offer (the use cases check the same again, and refuse with their own words)."""
    reviews = user.user.role in common.REVIEW_ROLES
    seconds = user.user.role in common.SECOND_APPROVER_ROLES
    open_review = status in (ApplicationStatus.RISK_CHECKED, ApplicationStatus.UNDER_REVIEW)
    return {
        "start_review": reviews and status == ApplicationStatus.RISK_CHECKED,
        "approve": reviews and open_review,
        "second_approve": seconds and status == ApplicationStatus.AWAITING_SECOND_APPROVAL,
        "reject": reviews
        and (open_review or status in (ApplicationStatus.INFO_REQUESTED, ApplicationStatus.AWAITING_SECOND_APPROVAL)),
        "request_info": reviews and open_review,
        "disburse": reviews and status == ApplicationStatus.OFFER_SIGNED,
    }


def _detail(
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
    app = _own_application(session, user, application_id)
    assert app.id is not None
    product = session.get(BankProduct, app.product_id)
    receivable = session.get(Receivable, app.receivable_id) if app.receivable_id is not None else None
    part = session.get(ReceivablePart, app.part_id) if app.part_id is not None else None
    assert product is not None
    contract_id = app.contract_id or (receivable.contract_id if receivable is not None else None)
    contract = session.get(Contract, contract_id) if contract_id else None
    confirmer = session.get(User, receivable.confirmed_by) if receivable and receivable.confirmed_by else None
    approvals = session.exec(
        select(Approval, User.display_name)
        .join(User, col(User.id) == col(Approval.user_id))
        .where(Approval.application_id == app.id)
        .order_by(col(Approval.id))
    ).all()
    signature = session.exec(select(Signature).where(Signature.application_id == app.id)).first()
    loan = session.exec(select(Loan).where(Loan.application_id == app.id)).first()
    names = _names(
        session,
        [
            app.applicant_id,
            app.core_enterprise_id,
            receivable.creditor_id if receivable else None,
            contract.buyer_id if contract else None,
        ],
    )
    line = session.get(SmeCreditLine, app.sme_line_id) if app.sme_line_id is not None else None
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
    return _detail(request, user, session, settings, clock.now(), application_id)


def _back(application_id: int) -> str:
    return f"/bank/applications/{application_id}"


@router.post("/applications/{application_id}/start-review")
def start_review(application_id: int, user: BankPage, form: FormDep, engine: EngineDep, clock: ClockDep) -> Response:
    return act(
        lambda: fs.start_review(UnitOfWork(engine, clock), user.actor, application_id),
        ok_url=_back(application_id),
        ok=("已开始审核", "Review started"),
        back_url=_back(application_id),
    )


def _refused(
    request: Request,
    user: WebUser,
    session: Session,
    settings: Any,
    clock: Any,
    application_id: int,
    exc: DomainError,
    values: dict[str, str],
    failed: str,
) -> Response:
    """The page again, with what was typed, the fields the use case named and its message in both languages."""
    session.rollback()  # read what the refused unit of work left (nothing), not an older snapshot
    return _detail(
        request,
        user,
        session,
        settings,
        clock.now(),
        application_id,
        values=values,
        errors=field_errors(exc) if isinstance(exc, InvalidInput) else {},
        message=(exc.message_zh, exc.message_en),
        failed=failed,
        status_code=422,
    )


def _rate_percent(text: str) -> Decimal | None:
    """The annual rate typed in per cent (``4.25``) as the decimal the use case takes (``0.0425``)."""
    if not text:
        return None
    try:
        value = Decimal(text.rstrip("%").strip())
    except InvalidOperation:
        raise InvalidInput(
            "年利率请填写数字（百分比），如 4.25",
            "Enter the annual rate as a number in per cent, e.g. 4.25",
            detail=[{"field": "annual_rate", "message": "请填写数字，如 4.25", "message_en": "A number, e.g. 4.25"}],
        ) from None
    if not value.is_finite():
        raise InvalidInput(
            "年利率请填写数字（百分比），如 4.25",
            "Enter the annual rate as a number in per cent, e.g. 4.25",
            detail=[{"field": "annual_rate", "message": "请填写数字，如 4.25", "message_en": "A number, e.g. 4.25"}],
        )
    return value / 100


@router.post("/applications/{application_id}/approve")
def approve(
    application_id: int,
    request: Request,
    user: BankPage,
    form: FormDep,
    session: SessionDep,
    settings: SettingsDep,
    engine: EngineDep,
    clock: ClockDep,
) -> Response:
    values = form_values(form, *APPROVE_FIELDS)
    try:
        data: dict[str, Any] = {"note": values["note"]}
        if values["amount"]:
            data["amount"] = values["amount"]
        rate = _rate_percent(values["annual_rate"])
        if rate is not None:
            data["annual_rate"] = rate
        app = fs.approve(UnitOfWork(engine, clock), user.actor, application_id, data)
    except DomainError as exc:
        return _refused(request, user, session, settings, clock, application_id, exc, values, "approve")
    if app.status == ApplicationStatus.AWAITING_SECOND_APPROVAL:
        ok = (
            "初审已批准：金额达到双人审批标准，待另一位审批人复核",
            "First approval given: the amount needs a second approver",
        )
    else:
        ok = ("已批准，融资要约已发给企业签署", "Approved: the offer has gone to the SME to sign")
    return redirect(_back(application_id), ("ok", *ok))


@router.post("/applications/{application_id}/reject")
def reject(
    application_id: int,
    request: Request,
    user: BankPage,
    form: FormDep,
    session: SessionDep,
    settings: SettingsDep,
    engine: EngineDep,
    clock: ClockDep,
) -> Response:
    values = form_values(form, "reason")
    try:
        fs.reject(UnitOfWork(engine, clock), user.actor, application_id, values["reason"])
    except DomainError as exc:
        return _refused(request, user, session, settings, clock, application_id, exc, values, "reject")
    return redirect(
        _back(application_id), ("ok", "已拒绝该申请，额度已释放", "Application rejected; the limits are released")
    )


@router.post("/applications/{application_id}/request-info")
def request_info(
    application_id: int,
    request: Request,
    user: BankPage,
    form: FormDep,
    session: SessionDep,
    settings: SettingsDep,
    engine: EngineDep,
    clock: ClockDep,
) -> Response:
    values = form_values(form, "question")
    try:
        fs.request_info(UnitOfWork(engine, clock), user.actor, application_id, values["question"])
    except DomainError as exc:
        return _refused(request, user, session, settings, clock, application_id, exc, values, "request_info")
    return redirect(
        _back(application_id),
        ("ok", "已要求企业补充材料，时钟计入企业一方", "Information requested; the clock now runs on the SME's time"),
    )


@router.post("/applications/{application_id}/disburse")
def disburse(application_id: int, user: BankPage, form: FormDep, engine: EngineDep, clock: ClockDep) -> Response:
    key = form.get("idempotency_key")
    return act(
        lambda: fs.disburse(UnitOfWork(engine, clock), user.actor, application_id, key if isinstance(key, str) else ""),
        ok_url=_back(application_id),
        ok=("已放款，贷款已生成", "Disbursed: the loan is running"),
        back_url=_back(application_id),
    )


# ------------------------------------------------------------------------------------------ loans


@router.get("/loans")
def loans(request: Request, user: BankPage, session: SessionDep, clock: ClockDep, state: str = "") -> Response:
    state = state if state in LOAN_FILTERS else ""
    rows = fs.loans_of(session, user.actor, LOAN_FILTERS.get(state))
    every = rows if not state else fs.loans_of(session, user.actor)
    waiting = session.exec(
        select(FinanceApplication)
        .where(
            FinanceApplication.bank_id == user.organisation_id,
            col(FinanceApplication.status).in_([ApplicationStatus.OFFER_SIGNED, ApplicationStatus.APPROVED]),
        )
        .order_by(col(FinanceApplication.deadline_at), col(FinanceApplication.id))
    ).all()
    signed = [a for a in waiting if a.status == ApplicationStatus.OFFER_SIGNED]
    approved = [a for a in waiting if a.status == ApplicationStatus.APPROVED]
    ids = [x.sme_id for x in rows] + [x.core_enterprise_id for x in rows]
    ids += [a.applicant_id for a in waiting] + [a.core_enterprise_id for a in waiting]
    running = [x for x in every if x.status != LoanStatus.REPAID]
    context = {
        "loans": rows,
        "state": state,
        "signed": signed,
        "approved": approved,
        "names": _names(session, ids),
        "loan_states": LOAN_STATES,
        "kind_labels": KIND_LABELS,
        "totals": {
            "count": len(running),
            "outstanding": sum(x.principal_outstanding_fen for x in running),
            "overdue": sum(1 for x in every if x.status == LoanStatus.OVERDUE),
            "overdue_fen": sum(x.principal_outstanding_fen for x in every if x.status == LoanStatus.OVERDUE),
        },
        "now": clock.now(),
    }
    return render(request, "bank/loans.html", context, user=user)


# ------------------------------------------------------------------------------------------ portfolio


@dataclass(frozen=True, slots=True)
class LineRow:
    """One core enterprise's line at this bank: what is used, by loans and by applications still open."""

    core_enterprise_id: int
    name: str
    limit_fen: int
    used_fen: int
    utilisation: Decimal
    loans: int
    loans_fen: int
    updated_at: datetime

    @property
    def remaining_fen(self) -> int:
        return self.limit_fen - self.used_fen

    @property
    def reserved_fen(self) -> int:
        """Reserved by applications not yet disbursed (the line also carries the loans' unpaid principal)."""
        return max(0, self.used_fen - self.loans_fen)

    @property
    def high(self) -> bool:
        return self.utilisation > HIGH_UTILISATION

    @property
    def meter(self) -> str:
        return f"{self.utilisation * 100:.1f}"


@router.get("/portfolio")
def portfolio(request: Request, user: BankPage, session: SessionDep) -> Response:
    lines = session.exec(
        select(CreditLine, Organisation.name)
        .join(Organisation, col(Organisation.id) == col(CreditLine.core_enterprise_id))
        .where(CreditLine.bank_id == user.organisation_id)
    ).all()
    outstanding = {
        core: (int(n), int(total or 0))
        for core, n, total in session.exec(
            select(Loan.core_enterprise_id, func.count(), func.sum(Loan.principal_outstanding_fen))
            .where(Loan.bank_id == user.organisation_id, Loan.status != LoanStatus.REPAID)
            .group_by(col(Loan.core_enterprise_id))
        ).all()
    }
    rows = []
    for line, name in lines:
        utilisation = Decimal(line.used_fen) / Decimal(line.limit_fen) if line.limit_fen else Decimal(0)
        loans_n, loans_fen = outstanding.get(line.core_enterprise_id, (0, 0))
        rows.append(
            LineRow(
                core_enterprise_id=line.core_enterprise_id,
                name=name,
                limit_fen=line.limit_fen,
                used_fen=line.used_fen,
                utilisation=utilisation,
                loans=loans_n,
                loans_fen=loans_fen,
                updated_at=line.updated_at,
            )
        )
    rows.sort(key=lambda r: (-r.utilisation, r.name))
    limit_total = sum(r.limit_fen for r in rows)
    used_total = sum(r.used_fen for r in rows)
    context = {
        "rows": rows,
        "limit_total": limit_total,
        "used_total": used_total,
        "utilisation_total": Decimal(used_total) / Decimal(limit_total) if limit_total else Decimal(0),
        "high_count": sum(1 for r in rows if r.high),
        "threshold": HIGH_UTILISATION,
    }
    return render(request, "bank/portfolio.html", context, user=user)


# ------------------------------------------------------------------------------------------ suggested credit lines

#: The figures of the 12-month trade record and a reason's effect (shared with the SME's own page).
FIGURE_LABELS = labels.FIGURE_LABELS
EFFECT_LABELS = labels.EFFECT_LABELS
figure_text = labels.figure_text
SME_SEARCH_LIMIT = 30


def _candidate_smes(session: Session, bank_id: int) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """The SMEs that applied to this bank, and the other SMEs with receivables or contracts on the platform."""
    applied = set(
        session.exec(select(FinanceApplication.applicant_id).where(FinanceApplication.bank_id == bank_id)).all()
    )
    trading = set(session.exec(select(Receivable.creditor_id)).all()) | set(
        session.exec(select(Contract.supplier_id)).all()
    )
    names = dict(
        (i, n)
        for i, n in session.exec(
            select(Organisation.id, Organisation.name).where(
                col(Organisation.id).in_(applied | trading), Organisation.kind == OrgKind.SME
            )
        ).all()
        if i is not None
    )
    by_name = sorted(names.items(), key=lambda item: (item[1], item[0]))
    return [x for x in by_name if x[0] in applied], [x for x in by_name if x[0] not in applied]


@router.get("/credit-suggestions")
def credit_suggestions(
    request: Request, user: BankPage, session: SessionDep, sme_id: str = "", q: str = ""
) -> Response:
    """Pick an SME: from those that applied to this bank or trade on the platform, or by a part of its name."""
    if sme_id.strip().isdigit() and 1 <= int(sme_id) <= MAX_ID:
        return redirect(f"/bank/credit-suggestions/{int(sme_id)}")
    applied, trading = _candidate_smes(session, user.organisation_id)
    q = q.strip()[:100]
    found: list[tuple[int, str]] | None = None
    if q:
        found = [
            (i, n)
            for i, n in session.exec(
                select(Organisation.id, Organisation.name)
                .where(Organisation.kind == OrgKind.SME, col(Organisation.name).contains(q, autoescape=True))
                .order_by(col(Organisation.name), col(Organisation.id))
                .limit(SME_SEARCH_LIMIT + 1)
            ).all()
            if i is not None
        ]
    errors = {}
    if sme_id.strip():
        errors["sme_id"] = ("请选择一家企业", "Choose an SME")
    context = {
        "applied": applied,
        "trading": trading,
        "options": applied + trading,
        "found": found[:SME_SEARCH_LIMIT] if found is not None else None,
        "more": found is not None and len(found) > SME_SEARCH_LIMIT,
        "values": {"q": q, "sme_id": ""},
        "errors": errors,
        "limit": SME_SEARCH_LIMIT,
    }
    return render(request, "bank/credit_suggestions.html", context, user=user, status_code=422 if errors else 200)


LINE_FIELDS = ("decision", "limit", "note")


def _line_of(session: Session, bank_id: int, sme_id: int) -> SmeCreditLine | None:
    return session.exec(
        select(SmeCreditLine).where(SmeCreditLine.bank_id == bank_id, SmeCreditLine.sme_id == sme_id)
    ).first()


def _plain_yuan(fen: int) -> str:
    """Fen as a plain yuan string for an input (``134000000`` → ``1340000.00``), exact."""
    return f"{fen // 100}.{fen % 100:02d}"


def _suggestion_page(
    request: Request,
    user: WebUser,
    session: Session,
    today: date,
    sme_id: int,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, tuple[str, str]] | None = None,
    message: tuple[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    if not 1 <= sme_id <= MAX_ID:
        raise NotFound.of("中小企业", "SME", sme_id)
    suggestion = fs.suggest_credit_line(session, user.actor, sme_id, today)
    sme = session.get(Organisation, sme_id)
    assert sme is not None
    record = suggestion.record
    line = _line_of(session, user.organisation_id, sme_id)
    decider = session.get(User, line.decided_by_user_id) if line and line.decided_by_user_id else None
    if values is None:
        current = line.limit_fen if line is not None and line.status == SmeLineStatus.ACTIVE else 0
        default = min(current, suggestion.amount_fen) if current else suggestion.amount_fen
        values = {"limit": _plain_yuan(default) if suggestion.has_line else "", "note": ""}
    context = {
        "sme": sme,
        "s": suggestion,
        "line": line,
        "decider": decider,
        "line_states": LINE_STATES,
        "can_decide": user.user.role in LINE_DECIDERS,
        "values": values,
        "errors": errors or {},
        "message": message,
        "reasons": [
            (
                r,
                FIGURE_LABELS.get(r.figure, (r.figure, r.figure)),
                figure_text(r.figure, r.value),
                EFFECT_LABELS[r.effect.value],
            )
            for r in suggestion.reasons
        ],
        "record_rows": [
            (label, figure_text(figure, record.value_of(figure))) for figure, label in FIGURE_LABELS.items()
        ],
        "window_start": add_months(today, -WINDOW_MONTHS),
        "applications": session.exec(
            select(FinanceApplication)
            .where(FinanceApplication.bank_id == user.organisation_id, FinanceApplication.applicant_id == sme_id)
            .order_by(col(FinanceApplication.id).desc())
            .limit(5)
        ).all(),
        "app_states": APP_STATES,
        "kind_labels": KIND_LABELS,
        "rules": {
            "base": cs.BASE_RATE_PCT,
            "max_rate": cs.MAX_RATE_PCT,
            "multiple": cs.LARGEST_DEAL_MULTIPLE,
            "cap_fen": cs.MAX_LINE_FEN,
            "unit_fen": cs.ROUND_UNIT_FEN,
            "min_months": cs.MIN_MONTHS_ON_PLATFORM,
            "min_deals": cs.MIN_SETTLED_DEALS,
        },
    }
    return render(request, "bank/credit_suggestion.html", context, user=user, status_code=status_code)


@router.get("/credit-suggestions/{sme_id}")
def credit_suggestion(sme_id: int, request: Request, user: BankPage, session: SessionDep, clock: ClockDep) -> Response:
    """The suggested revolving line of one SME with every reason and the 12-month record behind it, the bank's
    current line for it, and (for an admin or approver) the form to accept or decline the suggestion."""
    return _suggestion_page(request, user, session, to_local(clock.now()).date(), sme_id)


def form_field_errors(exc: DomainError) -> dict[str, tuple[str, str]]:
    """The fields a refusal names: an ``InvalidInput``'s list, or a rule's ``{"field": …}`` detail."""
    if isinstance(exc, InvalidInput):
        return field_errors(exc)
    detail = exc.detail
    if isinstance(detail, dict) and isinstance(detail.get("field"), str):
        return {detail["field"]: (exc.message_zh, exc.message_en)}
    return {}


@router.post("/credit-suggestions/{sme_id}/decision")
def decide_suggested_line(
    sme_id: int,
    request: Request,
    user: BankPage,
    form: FormDep,
    session: SessionDep,
    engine: EngineDep,
    clock: ClockDep,
) -> Response:
    """Accept the suggested line (at most the suggestion) or decline it, with a note → :func:`fs.decide_line`."""
    values = form_values(form, *LINE_FIELDS)
    accept = values["decision"] == "accept"
    data: dict[str, Any] = {"accept": accept, "note": values["note"]}
    if accept and values["limit"]:
        data["limit"] = values["limit"]
    try:
        if values["decision"] not in ("accept", "decline"):
            raise InvalidInput(
                "请选择接受或拒绝",
                "Choose to accept or to decline",
                detail=[{"field": "decision", "message": "请选择接受或拒绝", "message_en": "Accept or decline"}],
            )
        line = fs.decide_line(UnitOfWork(engine, clock), user.actor, sme_id, data)
    except (InvalidInput, RuleViolation, Conflict) as exc:
        session.rollback()
        return _suggestion_page(
            request,
            user,
            session,
            to_local(clock.now()).date(),
            sme_id,
            values=values,
            errors=form_field_errors(exc),
            message=(exc.message_zh, exc.message_en),
            status_code=422,
        )
    if line.status == SmeLineStatus.ACTIVE:
        ok = (
            f"已核定循环额度 {yuan(line.limit_fen)}，到期日 {line.expires_on}；企业现在可以支用",
            f"Revolving line of {yuan(line.limit_fen)} set, expiring {line.expires_on}; the SME may now draw on it",
        )
    elif line.status == SmeLineStatus.CLOSED:
        ok = ("已关闭该企业的循环额度", "The SME's revolving line is closed")
    else:
        ok = ("已拒绝建议额度", "The suggested line is declined")
    return redirect(f"/bank/credit-suggestions/{sme_id}", ("ok", *ok))


# ------------------------------------------------------------------------------------------ the bank's SME lines


@dataclass(frozen=True, slots=True)
class SmeLineRow:
    line: SmeCreditLine
    sme_name: str
    decided_by: str
    drawdowns_open: int

    @property
    def available_fen(self) -> int:
        return max(0, self.line.limit_fen - self.line.used_fen) if self.line.status == SmeLineStatus.ACTIVE else 0


@router.get("/credit-lines")
def credit_lines(request: Request, user: BankPage, session: SessionDep, clock: ClockDep) -> Response:
    """The revolving lines this bank set for SMEs (or declined), from the platform's suggestions."""
    lines = fs.lines_of(session, user.actor)
    names = _names(session, [x.sme_id for x in lines])
    user_ids = {x.decided_by_user_id for x in lines if x.decided_by_user_id is not None}
    people = (
        {u.id: u.display_name or u.username for u in session.exec(select(User).where(col(User.id).in_(user_ids)))}
        if user_ids
        else {}
    )
    line_ids = [x.id for x in lines if x.id is not None]
    open_counts: dict[int, int] = {}
    if line_ids:
        for line_id, n in session.exec(
            select(Loan.sme_line_id, func.count())
            .where(col(Loan.sme_line_id).in_(line_ids), Loan.status != LoanStatus.REPAID)
            .group_by(col(Loan.sme_line_id))
        ).all():
            if line_id is not None:
                open_counts[line_id] = int(n)
    rows = [
        SmeLineRow(
            x,
            names.get(x.sme_id, "—"),
            people.get(x.decided_by_user_id, "—") if x.decided_by_user_id else "—",
            open_counts.get(x.id or 0, 0),
        )
        for x in lines
    ]
    rows.sort(key=lambda r: (r.line.status != SmeLineStatus.ACTIVE, r.sme_name))
    active = [r for r in rows if r.line.status == SmeLineStatus.ACTIVE]
    context = {
        "rows": rows,
        "line_states": LINE_STATES,
        "today": to_local(clock.now()).date(),
        "totals": {
            "active": len(active),
            "limit": sum(r.line.limit_fen for r in active),
            "used": sum(r.line.used_fen for r in active),
            "available": sum(r.available_fen for r in active),
        },
    }
    return render(request, "bank/credit_lines.html", context, user=user)
