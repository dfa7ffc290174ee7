"""The bank's review of an application: its queue by deadline, starting a review, approving (with four-eyes at or
above the product's amount; the rate within the legal cap), rejecting and asking the SME for information."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from finance import ledger, pricing, sla
from finance.queries.applications import review_queue_list
from finance.schemas.inputs import ApprovalInput
from finance.service import common
from finance.service.common import APP
from finance.states import ApplicationEvent, approval_event, check_second_approver
from qianfan import events
from qianfan.actors import Actor
from qianfan.errors import InvalidInput, RuleViolation
from qianfan.models import (
    ApplicationStatus,
    Approval,
    BankProduct,
    FinanceApplication,
    FinanceKind,
    OrgKind,
    ReviewDecision,
)
from qianfan.money import format_yuan
from qianfan.rows import load_row
from qianfan.uow import UnitOfWork
from qianfan.validation import parse_input

# ------------------------------------------------------------------------------------------ bank review


@dataclass(frozen=True)
class QueueItem:
    application: FinanceApplication
    sla_status: str
    overall_left: timedelta
    stage_due_at: datetime | None


def review_queue(session: Session, actor: Actor, now: datetime, *, limit: int = 200) -> list[QueueItem]:
    """The bank's open applications, the nearest 48-hour deadline first (waiting on the SME listed last)."""
    actor.require_kind(OrgKind.BANK)
    rows = review_queue_list(session, actor, limit=limit)  # applications_visible_to(actor) in REVIEW_QUEUE_STATES
    return [QueueItem(app, common.sla_flag(app, now).value, app.deadline_at - now, app.stage_due_at) for app in rows]


def _claim(uow: UnitOfWork, app: FinanceApplication) -> None:
    """A decision on a risk-checked application starts its review first."""
    if app.status == ApplicationStatus.RISK_CHECKED:
        common.transition(app, ApplicationEvent.START_REVIEW)


def start_review(uow: UnitOfWork, actor: Actor, application_id: int) -> FinanceApplication:
    user_id = common.require_user(actor, common.REVIEW_ROLES)
    with uow:
        app = common.bank_app(uow, actor, application_id)
        if app.status == ApplicationStatus.UNDER_REVIEW:
            return app
        common.transition(app, ApplicationEvent.START_REVIEW)
        uow.session.add(app)
        uow.audit(APP, application_id, "review_started", actor_id=user_id)
        uow.commit()
        return app


def _rate(app: FinanceApplication, product: BankProduct, requested: Decimal | None) -> Decimal:
    grade = pricing.RiskGrade(app.risk_grade or "D")
    default = pricing.annual_rate(common.lpr(), grade, common.product_rule(product).spreads_bp)
    if requested is None:
        return default
    if requested != requested.quantize(Decimal("0.0001")):
        raise InvalidInput("年利率最小单位为0.01%（1个基点）", "The annual rate is set in whole basis points (0.01%)")
    return pricing.require_rate_within_cap(requested, common.lpr())


def _price(
    uow: UnitOfWork, app: FinanceApplication, product: BankProduct, amount_fen: int, rate: Decimal
) -> dict[str, Any]:
    """The offer the SME sees and signs: amounts in fen, rate as a decimal string."""
    rule = common.product_rule(product)
    grade = pricing.RiskGrade(app.risk_grade or "D")
    spread_bp = int((rate - common.lpr()) * pricing.BP)
    priced = dataclasses.replace(rule, spreads_bp={grade: spread_bp})
    offer = pricing.offer(
        priced, amount_fen, grade, common.lpr(), common.today(uow), common.loan_due_date(uow.session, app)
    )
    return {
        "application_id": app.id,
        "bank_id": app.bank_id,
        "product_kind": app.kind.value,
        "repayment_order": list(
            ledger.CONTRACT_ALLOCATION_ORDER if app.kind == FinanceKind.CONTRACT else ledger.ALLOCATION_ORDER
        ),
        "product_code": offer.product_code,
        "grade": offer.grade.value,
        "principal_fen": offer.principal_fen,
        "annual_rate": str(offer.annual_rate),
        "lpr": str(common.lpr()),
        "day_count": offer.basis.value,
        "start": offer.start.isoformat(),
        "due": offer.due.isoformat(),
        "days": offer.days,
        "interest_fen": offer.interest_fen,
        "fee_fen": offer.fee_fen,
        "net_disbursed_fen": offer.net_disbursed_fen,
        "total_repayable_fen": offer.total_repayable_fen,
        "effective_annual_cost": str(offer.effective_annual_cost),
        "guarantee": "none",
        "early_repayment": "interest to the repayment day on the principal outstanding; the fee is not refunded",
        "rounding": "interest ROUND_HALF_UP to the fen",
    }


def approve(
    uow: UnitOfWork, actor: Actor, application_id: int, data: ApprovalInput | Mapping[str, Any] | None = None
) -> FinanceApplication:
    """Approve with amount and rate.  At or above the product's four-eyes amount the first approval waits for a
    second, by another person with the approver role, who confirms the first approver's terms."""
    user_id = common.require_user(actor, common.REVIEW_ROLES)
    data = parse_input(ApprovalInput, data or {})
    with uow:
        app = common.bank_app(uow, actor, application_id)
        product = load_row(uow.session, BankProduct, app.product_id, "融资产品", "Finance product")
        _claim(uow, app)
        now = uow.clock.now()
        if app.status == ApplicationStatus.AWAITING_SECOND_APPROVAL:
            if actor.role not in common.SECOND_APPROVER_ROLES:
                raise RuleViolation("复核须由具有复核权限的用户完成", "The second approval needs the approver role")
            first = uow.session.exec(
                select(Approval)
                .where(Approval.application_id == application_id, Approval.decision == ReviewDecision.APPROVE_FIRST)
                .order_by(col(Approval.id).desc())
            ).first()
            assert first is not None and first.amount_fen is not None and first.annual_rate is not None
            check_second_approver(first.user_id, user_id)
            common.transition(app, ApplicationEvent.APPROVE_SECOND)
            amount_fen, rate, decision = first.amount_fen, Decimal(first.annual_rate), ReviewDecision.APPROVE_SECOND
        else:
            amount_fen = data.amount if data.amount is not None else app.requested_fen  # fen, parsed once
            if amount_fen > app.requested_fen:
                raise RuleViolation(
                    f"批准金额不能超过申请金额{format_yuan(app.requested_fen)}",
                    f"The approved amount cannot exceed the {format_yuan(app.requested_fen)} requested",
                )
            rate = _rate(app, product, data.annual_rate)
            event = approval_event(amount_fen, product.four_eyes_threshold_fen)
            common.transition(app, event)
            decision = ReviewDecision(event.value)
        terms = _price(uow, app, product, amount_fen, rate)  # refuses terms the rules do not allow
        uow.session.add(
            Approval(
                application_id=application_id,
                user_id=user_id,
                decision=decision,
                amount_fen=amount_fen,
                annual_rate=rate,
                note=data.note,
                at=now,
            )
        )
        if app.status == ApplicationStatus.APPROVED:
            if amount_fen < app.requested_fen:  # approved lower: give the difference back
                common.release_limits(uow, app, app.requested_fen - amount_fen)
                app.requested_fen = amount_fen
            app.approved_fen = amount_fen
            app.annual_rate = rate
            app.offer_terms = terms
            app.decided_at = now
            common.enter_stage(uow, app, sla.Stage.SME_SIGNATURE)
            uow.publish(events.APPLICATION_APPROVED, application_id=application_id, applicant_id=app.applicant_id)
        uow.session.add(app)
        uow.audit(APP, application_id, decision.value, actor_id=user_id, amount_fen=amount_fen, annual_rate=str(rate))
        uow.commit()
        return app


def reject(uow: UnitOfWork, actor: Actor, application_id: int, reason: str) -> FinanceApplication:
    user_id = common.require_user(actor, common.REVIEW_ROLES)
    reason = common.required_text(reason, "reason", "拒绝时须说明理由", "A rejection needs a reason")
    with uow:
        app = common.bank_app(uow, actor, application_id)
        _claim(uow, app)
        common.finish(uow, app, ApplicationEvent.REJECT, reason[:2000])
        app.decided_at = uow.clock.now()
        uow.session.add(
            Approval(
                application_id=application_id,
                user_id=user_id,
                decision=ReviewDecision.REJECT,
                note=reason,
                at=uow.clock.now(),
            )
        )
        uow.audit(APP, application_id, "rejected", actor_id=user_id, reason=reason[:2000])
        uow.publish(events.APPLICATION_REJECTED, application_id=application_id, by="bank")
        uow.commit()
        return app


def request_info(uow: UnitOfWork, actor: Actor, application_id: int, question: str) -> FinanceApplication:
    """Ask the SME for information: the clock now runs on the SME's time until it answers."""
    user_id = common.require_user(actor, common.REVIEW_ROLES)
    question = common.required_text(question, "question", "请写明需要补充的材料", "Say what information is needed")
    with uow:
        app = common.bank_app(uow, actor, application_id)
        _claim(uow, app)
        common.transition(app, ApplicationEvent.REQUEST_INFO)
        app.info_request = question[:5000]
        common.enter_stage(uow, app, sla.Stage.INFO_REQUESTED)
        uow.session.add(
            Approval(
                application_id=application_id,
                user_id=user_id,
                decision=ReviewDecision.REQUEST_INFO,
                note=question[:5000],
                at=uow.clock.now(),
            )
        )
        uow.audit(APP, application_id, "info_requested", actor_id=user_id)
        uow.publish(events.APPLICATION_INFO_REQUESTED, application_id=application_id, applicant_id=app.applicant_id)
        uow.commit()
        return app
