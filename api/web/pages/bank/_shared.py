"""What several sections of the bank's pages share: the labels of states and products, and organisation
names."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session

from accounts.queries import organisation_names
from api.web import labels

#: Application and loan states in both languages, by value.
APP_STATES = labels.APPLICATION_STATES
LOAN_STATES = labels.LOAN_STATES
#: The finance products (a badge on every application and loan) and the states of an SME's revolving line.
KIND_LABELS = labels.FINANCE_KINDS
LINE_STATES = labels.SME_LINE_STATES


def org_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """The names of the organisations among *ids* (``None`` left out), by id."""
    return organisation_names(session, [i for i in ids if i is not None])
