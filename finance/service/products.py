"""Bank set-up: a bank's finance products and its credit lines for core enterprises, and the programme office's
exposure limit per SME; which product of a kind an application is on."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pydantic import Field
from sqlmodel import Session, col, select

from finance import limits, pricing
from finance.service import common
from qianfan.actors import Actor
from qianfan.errors import Conflict, InvalidInput, NotFound, RuleViolation
from qianfan.models import (
    BankProduct,
    CreditLine,
    FinanceKind,
    OrgKind,
    UserRole,
)
from qianfan.money import format_yuan, yuan_to_fen
from qianfan.uow import UnitOfWork
from qianfan.validation import Input, Name, Yuan, parse_input

# ------------------------------------------------------------------------------------------ inputs


class ProductInput(Input):
    kind: FinanceKind = FinanceKind.RECEIVABLE
    code: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")
    name: Name
    advance_rate: Decimal = Field(gt=0, le=1, max_digits=5, decimal_places=4)
    day_count: pricing.DayCount = pricing.DayCount.ACT_360
    spreads_bp: dict[pricing.RiskGrade, int | None] = Field(default_factory=lambda: dict(pricing.DEFAULT_SPREADS_BP))
    arrangement_fee_bp: int = Field(default=0, ge=0, le=1000)
    fee_min: Yuan | None = None
    fee_max: Yuan | None = None
    four_eyes_threshold: Yuan = Decimal("5000000.00")
    max_tenor_months: int = Field(default=limits.MAX_TENOR_MONTHS, ge=1, le=limits.MAX_TENOR_MONTHS)


# ------------------------------------------------------------------------------------------ bank set-up


def create_product(uow: UnitOfWork, actor: Actor, data: ProductInput | Mapping[str, Any]) -> BankProduct:
    actor.require_kind(OrgKind.BANK)
    common.require_user(actor, frozenset({UserRole.ADMIN}))
    data = parse_input(ProductInput, data)
    with uow:
        row = BankProduct(
            bank_id=actor.organisation_id,
            kind=data.kind,
            code=data.code,
            name=data.name,
            advance_rate=data.advance_rate,
            day_count=data.day_count.value,
            spreads_bp={g.value: v for g, v in data.spreads_bp.items()},
            arrangement_fee_bp=data.arrangement_fee_bp,
            fee_min_fen=yuan_to_fen(data.fee_min) if data.fee_min is not None else 0,
            fee_max_fen=yuan_to_fen(data.fee_max) if data.fee_max is not None else 0,
            four_eyes_threshold_fen=yuan_to_fen(data.four_eyes_threshold),
            max_tenor_months=data.max_tenor_months,
            created_at=uow.clock.now(),
        )
        common.product_rule(row)  # the pure rules validate the whole product (fee range, spreads…)
        exists = uow.session.exec(
            select(BankProduct.id).where(BankProduct.bank_id == actor.organisation_id, BankProduct.code == data.code)
        ).first()
        if exists is not None:
            raise Conflict(f"产品代码已存在：{data.code}", f"A product with code {data.code} exists")
        uow.session.add(row)
        uow.session.flush()
        uow.audit("bank_product", row.id or 0, "created", actor_id=actor.user_id, code=data.code)
        uow.commit()
        return row


def set_credit_line(uow: UnitOfWork, actor: Actor, core_enterprise_id: int, limit: Yuan | str | int) -> CreditLine:
    """The bank grants (or changes) its line for a core enterprise; it cannot go below what is in use."""
    actor.require_kind(OrgKind.BANK)
    common.require_user(actor, frozenset({UserRole.ADMIN, UserRole.APPROVER}))
    limit_fen = yuan_to_fen(limit, allow_zero=True)
    with uow:
        common.organisation(uow.session, core_enterprise_id, OrgKind.LARGE_FIRM, "核心企业", "Core enterprise")
        line = common.credit_line(uow.session, actor.organisation_id, core_enterprise_id, lock=True)
        now = uow.clock.now()
        if line is None:
            line = CreditLine(
                bank_id=actor.organisation_id,
                core_enterprise_id=core_enterprise_id,
                limit_fen=limit_fen,
                updated_at=now,
            )
        elif limit_fen < line.used_fen:
            raise RuleViolation(
                f"授信额度不能低于已占用的{format_yuan(line.used_fen)}",
                f"The line cannot be set below the {format_yuan(line.used_fen)} in use",
                detail={"used_fen": line.used_fen},
            )
        line.limit_fen = limit_fen
        line.updated_at = now
        uow.session.add(line)
        uow.session.flush()
        uow.audit("credit_line", line.id or 0, "set", actor_id=actor.user_id, limit_fen=limit_fen)
        uow.commit()
        return line


def set_exposure_limit(uow: UnitOfWork, actor: Actor, sme_id: int, limit: Yuan | str | int) -> int:
    """The programme office sets an SME's total exposure limit (not below what it already uses)."""
    actor.require_kind(OrgKind.PROGRAMME_OFFICE)
    limit_fen = yuan_to_fen(limit, allow_zero=True)
    with uow:
        common.organisation(uow.session, sme_id, OrgKind.SME, "中小企业", "SME")
        row = common.exposure(uow, sme_id, lock=True)
        if limit_fen < row.used_fen:
            raise RuleViolation(
                f"敞口限额不能低于已占用的{format_yuan(row.used_fen)}",
                f"The exposure limit cannot be set below the {format_yuan(row.used_fen)} in use",
            )
        row.limit_fen = limit_fen
        row.updated_at = uow.clock.now()
        uow.session.add(row)
        uow.audit("exposure_limit", sme_id, "set", actor_id=actor.user_id, limit_fen=limit_fen)
        uow.commit()
        return limit_fen


def product_of_kind(
    session: Session, bank_id: int, product_id: int | None, kind: FinanceKind = FinanceKind.RECEIVABLE
) -> BankProduct:
    """The bank's active product of ``kind`` (its only one when ``product_id`` is omitted)."""
    stmt = select(BankProduct).where(
        BankProduct.bank_id == bank_id, BankProduct.kind == kind, col(BankProduct.is_active).is_(True)
    )
    if product_id is not None:
        row = session.exec(stmt.where(BankProduct.id == product_id)).first()
        if row is None:
            raise NotFound.of("融资产品", "Finance product", product_id)
        return row
    rows = session.exec(stmt.order_by(col(BankProduct.id))).all()
    if len(rows) != 1:
        zh, en = PRODUCT_NAMES[kind]
        raise InvalidInput(
            f"该银行没有（或有多个）{zh}产品，请指定产品",
            f"The bank has no (or several) {en} products: choose one",
            detail={"field": "product_id", "products": [r.id for r in rows]},
        )
    return rows[0]


PRODUCT_NAMES: dict[FinanceKind, tuple[str, str]] = {
    FinanceKind.RECEIVABLE: ("应收账款融资", "receivables finance"),
    FinanceKind.CONTRACT: ("订单融资", "contract (order) finance"),
    FinanceKind.CREDIT_LINE: ("循环额度", "revolving line"),
}
