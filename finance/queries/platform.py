"""The platform age of an organisation (read model): the day it counts from, gathered from its registration and
its first recorded activity; the rule is :mod:`finance.platform_age`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from finance import platform_age
from qianfan.clock import to_local
from qianfan.errors import NotFound
from qianfan.models import (
    Contract,
    FinanceApplication,
    IntentOrder,
    Interest,
    Mentor,
    Offer,
    Order,
    Organisation,
    Receivable,
    ServiceNeed,
    ServicePackage,
)


def _activities(org_id: int) -> list[tuple[Any, Any]]:
    """(timestamp column, condition naming the organisation) for each kind of recorded activity."""
    return [
        (Order.created_at, col(Order.organisation_id) == org_id),
        (Offer.created_at, col(Offer.organisation_id) == org_id),
        (Interest.created_at, col(Interest.organisation_id) == org_id),
        (IntentOrder.proposed_at, sa.or_(col(IntentOrder.buyer_id) == org_id, col(IntentOrder.supplier_id) == org_id)),
        (Contract.signed_at, sa.or_(col(Contract.buyer_id) == org_id, col(Contract.supplier_id) == org_id)),
        (Receivable.registered_at, sa.or_(col(Receivable.creditor_id) == org_id, col(Receivable.debtor_id) == org_id)),
        (
            FinanceApplication.submitted_at,
            sa.or_(col(FinanceApplication.applicant_id) == org_id, col(FinanceApplication.bank_id) == org_id),
        ),
        (ServicePackage.created_at, col(ServicePackage.organisation_id) == org_id),
        (Mentor.created_at, col(Mentor.organisation_id) == org_id),
        (ServiceNeed.created_at, col(ServiceNeed.organisation_id) == org_id),
    ]


def first_activity_at(session: Session, org_id: int) -> datetime | None:
    """When the organisation first did something recorded on the platform (``None`` if never)."""
    firsts = [session.exec(select(sa.func.min(column)).where(cond)).one() for column, cond in _activities(org_id)]
    found = [at for at in firsts if at is not None]
    return min(found) if found else None


def platform_since(session: Session, org_id: int) -> date:
    """The Beijing day the organisation's time on the platform counts from (:func:`finance.platform_age.
    platform_since`: the earlier of its registration and its first recorded activity)."""
    org = session.get(Organisation, org_id)
    if org is None:
        raise NotFound.of("企业", "Organisation", org_id)
    first = first_activity_at(session, org_id)
    return platform_age.platform_since(
        to_local(org.created_at).date(), to_local(first).date() if first is not None else None
    )
