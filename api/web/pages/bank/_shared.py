"""What several sections of the bank's pages share: the labels of states and products, and organisation
names."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from api.web import labels
from qianfan.models import Organisation

#: Application and loan states in both languages, by value.
APP_STATES = labels.APPLICATION_STATES
LOAN_STATES = labels.LOAN_STATES
#: The finance products (a badge on every application and loan) and the states of an SME's revolving line.
KIND_LABELS = labels.FINANCE_KINDS
LINE_STATES = labels.SME_LINE_STATES


def org_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.exec(select(Organisation.id, Organisation.name).where(col(Organisation.id).in_(wanted))).all()
    return {i: n for i, n in rows if i is not None}
