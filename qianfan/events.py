"""Domain events.  A use case publishes them into its unit of work; they are stored in the outbox table in the
same transaction and handed to subscribers only after the commit succeeds (a rollback drops them)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

# Topics
ORGANISATION_REGISTERED = "organisation.registered"
ORDER_POSTED = "order.posted"
ORDER_CHANGED = "order.changed"
ORDER_CLOSED = "order.closed"
OFFER_LISTED = "offer.listed"
OFFER_CHANGED = "offer.changed"
OFFER_WITHDRAWN = "offer.withdrawn"
SERVICE_PACKAGE_PUBLISHED = "service_package.published"
MENTOR_PUBLISHED = "mentor.published"
SERVICE_NEED_POSTED = "service_need.posted"
INTEREST_EXPRESSED = "interest.expressed"
INTENT_ORDER_PROPOSED = "intent_order.proposed"
INTENT_ORDER_SIGNED = "intent_order.signed"
CONTRACT_CREATED = "contract.created"
# Payment → settlement of contracts
CONTRACT_DELIVERED = "contract.delivered"
CONTRACT_PAYMENT_RECORDED = "contract.payment_recorded"
CONTRACT_SETTLED = "contract.settled"
STATEMENT_IMPORTED = "statement.imported"
# Finance
RECEIVABLE_REGISTERED = "receivable.registered"
RECEIVABLE_CONFIRMED = "receivable.confirmed"
RECEIVABLE_CANCELLED = "receivable.cancelled"
RECEIVABLE_TRANSFERRED = "receivable.transferred"
RECEIVABLE_PAID = "receivable.paid"
APPLICATION_SUBMITTED = "finance.application_submitted"
APPLICATION_RISK_PASSED = "finance.risk_passed"
APPLICATION_APPROVED = "finance.application_approved"
APPLICATION_REJECTED = "finance.application_rejected"
APPLICATION_INFO_REQUESTED = "finance.info_requested"
APPLICATION_INFO_PROVIDED = "finance.info_provided"
APPLICATION_OFFER_SIGNED = "finance.offer_signed"
APPLICATION_DISBURSED = "finance.disbursed"
APPLICATION_SLA_BREACHED = "finance.sla_breached"
LOAN_OVERDUE = "loan.overdue"
LOAN_REPAID = "loan.repaid"
CREDIT_LINE_DECIDED = "finance.credit_line_decided"
# Long jobs asked for from the web pages; the payload carries the task id the page shows the progress of.
OFFERS_IMPORT_REQUESTED = "offers.import_requested"
REFIT_REQUESTED = "matcher.refit_requested"
DEAD_LETTER_REPLAY_REQUESTED = "dead_letter.replay_requested"


@dataclass(frozen=True, slots=True)
class Event:
    topic: str
    payload: dict[str, Any] = field(default_factory=dict)
    outbox_id: int | None = None


Subscriber = Callable[[list[Event]], None]
_subscribers: list[Subscriber] = []


def subscribe(subscriber: Subscriber) -> Callable[[], None]:
    """Register a callable that receives committed events; returns a function that unregisters it."""
    _subscribers.append(subscriber)
    return lambda: _subscribers.remove(subscriber)


def dispatch_committed(events: list[Event]) -> None:
    """Hand committed events to subscribers.  Best effort: the outbox row stays for the relay if one fails."""
    if not events:
        return
    for subscriber in list(_subscribers):
        try:
            subscriber(events)
        except Exception:  # a subscriber failing must not undo a committed use case
            log.exception("event subscriber %r failed; the outbox relay will retry", subscriber)
