"""The firm's home: its open orders, new matches, intent orders to sign, receivables to confirm and loans
due soon."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from fastapi import Request
from fastapi.responses import Response
from sqlmodel import Session

from api.deps import ClockDep, SessionDep
from api.web.pages.firm._shared import DUE_SOON_DAYS, firm_page, local_today
from api.web.session import FirmPage, WebUser
from finance.queries.confirmations import receivables_awaiting_confirmation_total
from finance.queries.repayments import repayments_due
from market.queries import intent_orders_awaiting_signature
from market.queries_buyer import new_matched_offer_count, open_orders_total
from qianfan.clock import Clock

NEW_MATCH_DAYS = 7


@dataclass
class HomeFigures:
    open_orders: int = 0
    open_budget_fen: int = 0
    new_matches: int = 0
    to_sign: int = 0
    to_confirm: int = 0
    to_confirm_fen: int = 0
    due_soon: int = 0
    due_soon_fen: int = 0  # the payoff of those loans today: what the repayments page shows and repaying charges
    overdue: int = 0


def _home_figures(session: Session, user: WebUser, clock: Clock) -> HomeFigures:
    actor = user.actor
    figures = HomeFigures()
    figures.open_orders, figures.open_budget_fen = open_orders_total(session, actor)
    figures.new_matches = new_matched_offer_count(session, actor, clock.now() - timedelta(days=NEW_MATCH_DAYS))
    figures.to_sign = intent_orders_awaiting_signature(session, actor)
    figures.to_confirm, figures.to_confirm_fen = receivables_awaiting_confirmation_total(session, actor)
    today = local_today(clock)
    due = repayments_due(session, actor, today, today + timedelta(days=DUE_SOON_DAYS))
    figures.due_soon, figures.due_soon_fen, figures.overdue = due.count, due.payoff_fen, due.overdue
    return figures


def home(request: Request, user: FirmPage, session: SessionDep, clock: ClockDep) -> Response:
    """``GET /firm``: added to the package's router by hand (an empty path cannot come through an included one)."""
    figures = _home_figures(session, user, clock)
    return firm_page(request, "home.html", user, figures=figures, due_days=DUE_SOON_DAYS, new_days=NEW_MATCH_DAYS)
