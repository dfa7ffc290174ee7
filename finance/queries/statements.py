"""Read models of bank-statement imports: the imports an organisation made, newest first (the report of one import
is :func:`finance.service.settlement.statement_import`)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from finance.access import statement_imports_visible_to
from qianfan.actors import Actor
from qianfan.models import BankStatementImport

__all__ = ["statement_imports_made_by"]


def statement_imports_made_by(session: Session, actor: Actor, *, limit: int) -> list[BankStatementImport]:
    """The bank statements *actor* imported itself, latest first (ties by id)."""
    return list(
        session.exec(
            select(BankStatementImport)
            .where(statement_imports_visible_to(actor), col(BankStatementImport.importer_id) == actor.organisation_id)
            .order_by(col(BankStatementImport.imported_at).desc(), col(BankStatementImport.id).desc())
            .limit(limit)
        ).all()
    )
