"""All tables, imported here so that ``SQLModel.metadata`` (and alembic) sees every one."""

from qianfan.models.deal import (
    Contract,
    ContractStatus,
    IntentOrder,
    IntentStatus,
    Interest,
    InterestKind,
    Match,
)
from qianfan.models.market import Offer, OfferKind, OfferStatus, Order, OrderKind, OrderStatus
from qianfan.models.organisation import Organisation, OrgKind, Qualification, User, UserRole
from qianfan.models.services import ListingStatus, Mentor, NeedStatus, ServiceNeed, ServicePackage
from qianfan.models.system import AuditEvent, OutboxEvent

__all__ = [
    "AuditEvent",
    "Contract",
    "ContractStatus",
    "IntentOrder",
    "IntentStatus",
    "Interest",
    "InterestKind",
    "ListingStatus",
    "Match",
    "Mentor",
    "NeedStatus",
    "Offer",
    "OfferKind",
    "OfferStatus",
    "Order",
    "OrderKind",
    "OrderStatus",
    "OrgKind",
    "Organisation",
    "OutboxEvent",
    "Qualification",
    "ServiceNeed",
    "ServicePackage",
    "User",
    "UserRole",
]
