"""The firm's home: its open orders, new matches, intent orders to sign, receivables to confirm and loans
due soon."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from fastapi import Request
from fastapi.responses import Response
from sqlmodel import Session, col, select

from api.deps import ClockDep, SessionDep
from api.web.pages.firm._shared import DUE_SOON_DAYS, firm_page, local_today
from api.web.session import FirmPage, WebUser
from finance import service as fs
from qianfan.clock import Clock
from qianfan.models import (
    IntentOrder,
    IntentStatus,
    LoanStatus,
    Match,
    Order,
    OrderStatus,
    Receivable,
    ReceivableStatus,
)

NEW_MATCH_DAYS = 7
OPEN_LOANS = (LoanStatus.DISBURSED, LoanStatus.REPAID_PARTIALLY, LoanStatus.OVERDUE)


@dataclass
class HomeFigures:
    open_orders: int = 0
    open_budget_fen: int = 0
    new_matches: int = 0
    to_sign: int = 0
    to_confirm: int = 0
    to_confirm_fen: int = 0
    due_soon: int = 0
    due_soon_fen: int = 0
    overdue: int = 0


def _home_figures(session: Session, user: WebUser, clock: Clock) -> HomeFigures:
    org = user.organisation_id
    figures = HomeFigures()
    count, budget = session.exec(
        select(sa.func.count(), sa.func.coalesce(sa.func.sum(Order.budget_fen), 0)).where(
            col(Order.organisation_id) == org, col(Order.status) == OrderStatus.OPEN
        )
    ).one()
    figures.open_orders, figures.open_budget_fen = int(count), int(budget)
    since = clock.now() - timedelta(days=NEW_MATCH_DAYS)
    figures.new_matches = int(
        session.exec(
            select(sa.func.count(sa.distinct(col(Match.offer_id))))
            .join(Order, col(Order.id) == col(Match.order_id))
            .where(
                col(Order.organisation_id) == org,
                col(Order.status) == OrderStatus.OPEN,
                col(Match.created_at) >= since,
            )
        ).one()
    )
    figures.to_sign = int(
        session.exec(
            select(sa.func.count()).where(
                col(IntentOrder.buyer_id) == org,
                col(IntentOrder.status) == IntentStatus.PROPOSED,
                col(IntentOrder.buyer_signed_at).is_(None),
            )
        ).one()
    )
    count, face = session.exec(
        select(sa.func.count(), sa.func.coalesce(sa.func.sum(Receivable.face_fen), 0)).where(
            col(Receivable.debtor_id) == org, col(Receivable.status) == ReceivableStatus.REGISTERED
        )
    ).one()
    figures.to_confirm, figures.to_confirm_fen = int(count), int(face)
    horizon = local_today(clock) + timedelta(days=DUE_SOON_DAYS)
    for loan in fs.loans_of(session, user.actor, OPEN_LOANS):
        if loan.status == LoanStatus.OVERDUE:
            figures.overdue += 1
        if loan.due_date <= horizon:
            assert loan.id is not None
            figures.due_soon += 1
            figures.due_soon_fen += fs.loan_outstanding(session, loan.id).total_fen
    return figures


def home(request: Request, user: FirmPage, session: SessionDep, clock: ClockDep) -> Response:
    """``GET /firm``: added to the package's router by hand (an empty path cannot come through an included one)."""
    figures = _home_figures(session, user, clock)
    return firm_page(request, "home.html", user, figures=figures, due_days=DUE_SOON_DAYS, new_days=NEW_MATCH_DAYS)
