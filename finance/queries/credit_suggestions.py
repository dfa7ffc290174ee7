"""Read models of the bank's suggested-line pages: the bank's line for one SME, who decided it, and the SME's
latest applications to the bank.

Which SMEs' records a bank may open (授权查询), and the list it picks them from, are decided once in
:mod:`finance.service.record_access` (:func:`~finance.service.record_access.readable_smes`,
:func:`~finance.service.record_access.require_record_access`); these reads only gather the rows a page names."""

from __future__ import annotations

from sqlmodel import Session, col, select

from finance.access import applications_visible_to, sme_credit_lines_visible_to
from qianfan.actors import Actor
from qianfan.models import FinanceApplication, SmeCreditLine, User

__all__ = ["decider_of", "latest_applications_from", "line_for_sme"]


def line_for_sme(session: Session, actor: Actor, sme_id: int) -> SmeCreditLine | None:
    """The revolving line *actor* (a bank) decided for *sme_id*, if any."""
    return session.exec(
        select(SmeCreditLine).where(sme_credit_lines_visible_to(actor), col(SmeCreditLine.sme_id) == sme_id)
    ).first()


def decider_of(session: Session, line: SmeCreditLine | None) -> User | None:
    """The bank's user who decided the line, if any."""
    if line is None or line.decided_by_user_id is None:
        return None
    return session.get(User, line.decided_by_user_id)


def latest_applications_from(session: Session, actor: Actor, sme_id: int, limit: int = 5) -> list[FinanceApplication]:
    """The latest applications of *sme_id* that *actor* (a bank: made to it) may read, newest first."""
    return list(
        session.exec(
            select(FinanceApplication)
            .where(applications_visible_to(actor), col(FinanceApplication.applicant_id) == sme_id)
            .order_by(col(FinanceApplication.id).desc())
            .limit(limit)
        ).all()
    )
