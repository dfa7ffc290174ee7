"""Read models of a bank's review of one application, beside :func:`finance.queries.applications.application_file`:
the decisions taken on it and by whom, the SME's signature, who confirmed the receivable, and each party's record on
the platform with its platform age (:mod:`finance.platform_age`, the one definition).

The application is read through :func:`finance.access.load_application_for` first; these take its id."""

from __future__ import annotations

from sqlmodel import Session, col, select

from qianfan.models import Approval, Receivable, Signature, User

__all__ = ["approvals_with_names", "confirmer_of", "signature_of"]


def approvals_with_names(session: Session, application_id: int) -> list[tuple[Approval, str | None]]:
    """The bank's decisions on the application in the order they were taken, each with its user's display name."""
    rows = session.exec(
        select(Approval, User.display_name)
        .join(User, col(User.id) == col(Approval.user_id))
        .where(col(Approval.application_id) == application_id)
        .order_by(col(Approval.id))
    ).all()
    return [(approval, name) for approval, name in rows]


def signature_of(session: Session, application_id: int) -> Signature | None:
    """The SME's signature of the application's offer, if it signed."""
    return session.exec(select(Signature).where(col(Signature.application_id) == application_id)).first()


def confirmer_of(session: Session, receivable: Receivable | None) -> User | None:
    """The debtor's user who confirmed (确权) the receivable, if it is confirmed."""
    if receivable is None or receivable.confirmed_by is None:
        return None
    return session.get(User, receivable.confirmed_by)
