"""Read models of the bank's suggested-line pages: the SMEs a bank may pick from (those that applied to it, those
trading on the platform, or by name), the bank's line for one SME, who decided it, and the SME's latest applications
to the bank.

Which SMEs' records a bank may open is decided by the page's rule (see ``api/web/pages/bank/suggestions.py`` and
:func:`finance.service.credit_suggestion.suggest_credit_line`); these reads only gather the rows it names."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from finance.access import applications_visible_to, sme_credit_lines_visible_to
from qianfan.actors import Actor
from qianfan.models import Contract, FinanceApplication, Organisation, OrgKind, Receivable, SmeCreditLine, User

__all__ = [
    "applicant_ids",
    "decider_of",
    "latest_applications_from",
    "line_for_sme",
    "sme_names",
    "smes_named",
    "trading_sme_ids",
]


def applicant_ids(session: Session, actor: Actor) -> set[int]:
    """The organisations that applied in an application *actor* (a bank: to it) may read."""
    return set(session.exec(select(FinanceApplication.applicant_id).where(applications_visible_to(actor))).all())


def trading_sme_ids(session: Session) -> set[int]:
    """The organisations that registered a receivable or supply under a contract on the platform."""
    return set(session.exec(select(Receivable.creditor_id)).all()) | set(
        session.exec(select(Contract.supplier_id)).all()
    )


def sme_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    """The names of the SMEs among *ids* (other kinds left out), by id."""
    wanted = set(ids)
    if not wanted:
        return {}
    rows = session.exec(
        select(Organisation.id, Organisation.name).where(
            col(Organisation.id).in_(wanted), col(Organisation.kind) == OrgKind.SME
        )
    ).all()
    return {i: n for i, n in rows if i is not None}


def smes_named(session: Session, part_of_name: str, limit: int) -> list[tuple[int, str]]:
    """SMEs whose name contains *part_of_name*, by name then id, at most *limit*."""
    rows = session.exec(
        select(Organisation.id, Organisation.name)
        .where(col(Organisation.kind) == OrgKind.SME, col(Organisation.name).contains(part_of_name, autoescape=True))
        .order_by(col(Organisation.name), col(Organisation.id))
        .limit(limit)
    ).all()
    return [(i, n) for i, n in rows if i is not None]


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
