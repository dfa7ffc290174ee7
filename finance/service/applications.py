"""The SME's side of a receivables finance application: what it may ask for (quote), applying (every limit
reserved in one transaction), answering the bank, withdrawing, and signing the offer it was shown."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlmodel import select

from finance import limits, sla
from finance.schemas.inputs import ApplicationInput
from finance.service import common, products
from finance.service.common import APP, financed_on_contract
from finance.states import FINANCEABLE_RECEIVABLE_STATES, REVIEW_QUEUE_STATES, ApplicationEvent
from qianfan import events
from qianfan.actors import Actor
from qianfan.errors import Conflict, NotFound, RuleViolation
from qianfan.models import (
    BankProduct,
    FinanceApplication,
    OrgKind,
    PartState,
    Receivable,
    ReceivablePart,
    Signature,
)
from qianfan.rows import load_row
from qianfan.uow import UnitOfWork
from qianfan.validation import parse_input

# ------------------------------------------------------------------------------------------ quote and apply


@dataclass(frozen=True)
class Quote:
    """What the SME may ask for before applying: the maximum and the limit that binds it."""

    max_amount_fen: int
    binding_constraint: str
    limits_fen: dict[str, int]
    due_date: date
    product_id: int


def quote(uow: UnitOfWork, actor: Actor, part_id: int, bank_id: int, product_id: int | None = None) -> Quote:
    actor.require_kind(OrgKind.SME)
    with uow:
        part, receivable, product = _checked_part(uow, actor, part_id, bank_id, product_id, for_update=False)
        line = common.credit_line(uow.session, bank_id, receivable.debtor_id, lock=False)
        result = limits.max_amount(
            part.amount_fen - part.paid_fen,  # the advance is on what the debtor still owes on the part
            Decimal(product.advance_rate),
            (line.limit_fen - line.used_fen) if line else 0,
            common.exposure_remaining(uow.session, actor.organisation_id),
        )
        assert product.id is not None
        return Quote(
            result.amount_fen,
            str(result.binding_constraint),
            {str(k): v for k, v in result.limits_fen.items()},
            receivable.due_date,
            product.id,
        )


def _checked_part(
    uow: UnitOfWork, actor: Actor, part_id: int, bank_id: int, product_id: int | None, *, for_update: bool
) -> tuple[Any, Receivable, BankProduct]:
    part = load_row(uow.session, ReceivablePart, part_id, "应收账款份额", "Receivable part", lock=for_update)
    if part.holder_id != actor.organisation_id:
        raise NotFound.of("应收账款份额", "Receivable part", part_id)
    if part.status == PartState.FINANCING:
        raise Conflict(
            "该应收账款正在申请融资，不能重复申请", "A finance application on this receivable is already in progress"
        )
    if part.status == PartState.FINANCED:
        raise RuleViolation(
            "该应收账款已融资，每笔应收账款只能融资一次",
            "This receivable is already financed; a receivable is financed at most once",
        )
    if part.status != PartState.HELD:
        raise RuleViolation(
            f"该份额当前状态为“{part.status.value}”，不能融资",
            f"The part is {part.status.value} and cannot be financed",
        )
    receivable = load_row(uow.session, Receivable, part.receivable_id, "应收账款", "Receivable")
    if receivable.status not in FINANCEABLE_RECEIVABLE_STATES:
        raise RuleViolation(
            "应收账款须经债务人确权后才能融资", "A receivable must be confirmed by the debtor before it can be financed"
        )
    common.organisation(uow.session, bank_id, OrgKind.BANK, "银行", "Bank")
    product = products.product_of_kind(uow.session, bank_id, product_id)
    limits.tenor(common.today(uow), receivable.due_date, product.max_tenor_months)
    return part, receivable, product


def apply_for_finance(uow: UnitOfWork, actor: Actor, data: ApplicationInput | Mapping[str, Any]) -> FinanceApplication:
    """The holder applies to a bank.  Within one transaction: lock the part, the bank's line for the debtor and
    the SME's exposure (always in that order), check every limit, reserve the amount and start the 48-hour clock.
    The same idempotency key returns the first application; twenty concurrent applications yield one."""
    actor.require_kind(OrgKind.SME)
    data = parse_input(ApplicationInput, data)
    requested = data.amount  # fen, parsed once from the yuan given
    with uow:
        if data.idempotency_key:
            # Retries of one request queue on the part's row lock, so a concurrent retry finds the first one.
            common.lock_part(uow.session, data.part_id)
            previous = uow.session.exec(
                select(FinanceApplication).where(
                    FinanceApplication.applicant_id == actor.organisation_id,
                    FinanceApplication.idempotency_key == data.idempotency_key,
                )
            ).first()
            if previous is not None:
                if (previous.part_id, previous.bank_id, previous.requested_fen) != (
                    data.part_id,
                    data.bank_id,
                    requested,
                ):
                    raise Conflict(
                        "该幂等键已用于另一笔融资申请", "This idempotency key was used for another finance application"
                    )
                return previous
        part, receivable, product = _checked_part(
            uow, actor, data.part_id, data.bank_id, data.product_id, for_update=True
        )
        extra: dict[limits.BindingConstraint, int] = {}
        if receivable.contract_id is not None:
            # Finance on the receivables of a contract and the contract loan together stay within its unpaid value.
            extra[limits.BindingConstraint.CONTRACT_HEADROOM] = common.contract_headroom(uow, receivable.contract_id)
        line = common.credit_line(uow.session, data.bank_id, receivable.debtor_id, lock=True)
        if line is None:
            raise RuleViolation(
                "该银行尚未对该核心企业授信，请选择其他银行",
                "This bank has no credit line for the debtor; choose another bank",
            )
        exp = common.exposure(uow, actor.organisation_id, lock=True)
        limits.check_request(
            requested,
            part.amount_fen - part.paid_fen,  # the advance is on what the debtor still owes on the part
            Decimal(product.advance_rate),
            line.limit_fen - line.used_fen,
            exp.limit_fen - exp.used_fen,
            extra,
        )
        now = uow.clock.now()
        line.used_fen += requested
        line.updated_at = now
        exp.used_fen += requested
        exp.updated_at = now
        part.status = PartState.FINANCING
        part.version += 1
        assert product.id is not None and part.id is not None and receivable.id is not None
        app = FinanceApplication(
            applicant_id=actor.organisation_id,
            applicant_user_id=actor.user_id,
            bank_id=data.bank_id,
            product_id=product.id,
            core_enterprise_id=receivable.debtor_id,
            receivable_id=receivable.id,
            part_id=part.id,
            active_part_id=part.id,
            contract_id=receivable.contract_id,
            idempotency_key=data.idempotency_key,
            requested_fen=requested,
            submitted_at=now,
            deadline_at=sla.overall_due_at(now),
        )
        for row in (line, exp, part, app):
            uow.session.add(row)
        uow.session.flush()
        common.enter_stage(uow, app, sla.Stage.RISK_CHECK)
        assert app.id is not None
        uow.audit(APP, app.id, "submitted", actor_id=actor.user_id, part_id=part.id, requested_fen=requested)
        uow.publish(events.APPLICATION_SUBMITTED, application_id=app.id)
        uow.commit()
        return app


def provide_info(uow: UnitOfWork, actor: Actor, application_id: int, answer: str) -> FinanceApplication:
    actor.require_kind(OrgKind.SME)
    answer = common.required_text(answer, "answer", "补充内容不能为空", "The answer must not be empty")
    with uow:
        app = common.own_app(uow, actor, application_id)
        common.transition(app, ApplicationEvent.PROVIDE_INFO)
        app.info_response = answer[:5000]
        common.enter_stage(uow, app, sla.Stage.BANK_REVIEW)
        uow.audit(APP, application_id, "info_provided", actor_id=actor.user_id)
        uow.publish(events.APPLICATION_INFO_PROVIDED, application_id=application_id, bank_id=app.bank_id)
        uow.commit()
        return app


def withdraw(uow: UnitOfWork, actor: Actor, application_id: int) -> FinanceApplication:
    actor.require_kind(OrgKind.SME)
    with uow:
        app = common.own_app(uow, actor, application_id)
        common.finish(uow, app, ApplicationEvent.WITHDRAW, "申请人撤回 / withdrawn by the applicant")
        uow.audit(APP, application_id, "withdrawn", actor_id=actor.user_id)
        uow.commit()
        return app


# ------------------------------------------------------------------------------------------ sign and disburse


def sign_offer(uow: UnitOfWork, actor: Actor, application_id: int, terms_hash: str) -> Signature:
    """The SME accepts the offer it was shown: it sends back the hash of those terms, which must match."""
    actor.require_kind(OrgKind.SME)
    user_id = common.require_user(actor)
    with uow:
        app = common.own_app(uow, actor, application_id)
        existing = uow.session.exec(select(Signature).where(Signature.application_id == application_id)).first()
        if existing is not None and existing.terms_hash == terms_hash:
            return existing  # a retried click
        common.transition(app, ApplicationEvent.SIGN_OFFER)
        assert app.offer_terms is not None
        expected = common.terms_hash(app.offer_terms)
        if terms_hash != expected:
            raise Conflict(
                "您签署的条款与银行批准的条款不一致，请刷新后重新查看要约",
                "The terms you signed differ from the approved offer; reload and review the offer",
                detail={"expected_terms_hash": expected},
            )
        now = uow.clock.now()
        signature = Signature(
            application_id=application_id,
            user_id=user_id,
            organisation_id=actor.organisation_id,
            terms=app.offer_terms,
            terms_hash=expected,
            signed_at=now,
        )
        uow.session.add(signature)
        app.signed_at = now
        common.enter_stage(uow, app, sla.Stage.DISBURSEMENT)
        uow.audit(APP, application_id, "signed", actor_id=user_id, terms_hash=expected)
        uow.publish(events.APPLICATION_OFFER_SIGNED, application_id=application_id, bank_id=app.bank_id)
        uow.commit()
        return signature


# Kept importable from here for the pages and tests that name them (api/web/pages/bank.py and sme.py,
# api/routes/finance.py, tests/seeds): their homes are finance.states and finance.service.common.
__all__ = [
    "REVIEW_QUEUE_STATES",
    "ApplicationInput",
    "Quote",
    "apply_for_finance",
    "financed_on_contract",
    "provide_info",
    "quote",
    "sign_offer",
    "withdraw",
]
