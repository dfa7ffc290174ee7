"""Marketplace use cases: orders, offers, service listings, interest / shortlist, intent orders and contracts.

Each function takes an un-entered :class:`UnitOfWork`, opens it, checks the rules, writes and commits once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, Field, model_validator
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from market.access import interests_visible_to, load_offer_for
from qianfan import events
from qianfan.actors import Actor
from qianfan.clock import to_local
from qianfan.errors import Conflict, NotFound, RuleViolation
from qianfan.models import (
    Contract,
    IntentOrder,
    IntentStatus,
    Interest,
    InterestKind,
    Mentor,
    Offer,
    OfferKind,
    OfferStatus,
    Order,
    OrderKind,
    OrderStatus,
    OrgKind,
    Qualification,
    ServiceNeed,
    ServicePackage,
)
from qianfan.money import yuan_to_fen
from qianfan.rows import load_row
from qianfan.uow import UnitOfWork
from qianfan.validation import (
    CategoryCode,
    Description,
    District,
    Input,
    Name,
    QualificationCode,
    Title,
    Yuan,
    bilingual,
    parse_input,
)

MAX_CAPACITY = 1_000_000


def _check_keyword(value: str) -> str:
    value = value.strip()
    if not value or len(value) > 32:
        raise bilingual("keyword", "关键词须为1–32个字符", "A keyword has 1–32 characters")
    return value


Keyword = Annotated[str, AfterValidator(_check_keyword)]


# ---------------------------------------------------------------- inputs


class OrderInput(Input):
    kind: OrderKind = OrderKind.PROCUREMENT
    title: Title
    description: Description = ""
    category: CategoryCode
    budget: Yuan
    district: District
    deadline: date
    required_qualifications: list[QualificationCode] = Field(default_factory=list, max_length=10)


class OrderChanges(Input):
    title: Title | None = None
    description: Description | None = None
    category: CategoryCode | None = None
    budget: Yuan | None = None
    district: District | None = None
    deadline: date | None = None
    required_qualifications: list[QualificationCode] | None = Field(default=None, max_length=10)


class _PriceRange(Input):
    @model_validator(mode="after")
    def _min_le_max(self) -> _PriceRange:
        lo: Decimal | None = getattr(self, "price_min", None)
        hi: Decimal | None = getattr(self, "price_max", None)
        if lo is not None and hi is not None and lo > hi:
            raise bilingual(
                "price_range",
                f"最低价（{lo}）不能高于最高价（{hi}）",
                f"The minimum price ({lo}) must not exceed the maximum ({hi})",
            )
        return self


class OfferInput(_PriceRange):
    kind: OfferKind = OfferKind.PRODUCT
    title: Title
    description: Description = ""
    category: CategoryCode
    price_min: Yuan
    price_max: Yuan
    capacity: int = Field(ge=1, le=MAX_CAPACITY)
    qualifications: list[QualificationCode] = Field(default_factory=list, max_length=20)
    keywords: list[Keyword] = Field(default_factory=list, max_length=20)


class OfferChanges(_PriceRange):
    title: Title | None = None
    description: Description | None = None
    category: CategoryCode | None = None
    price_min: Yuan | None = None
    price_max: Yuan | None = None
    capacity: int | None = Field(default=None, ge=1, le=MAX_CAPACITY)
    qualifications: list[QualificationCode] | None = Field(default=None, max_length=20)
    keywords: list[Keyword] | None = Field(default=None, max_length=20)


class ServicePackageInput(Input):
    title: Title
    description: Description = ""
    category: CategoryCode
    value: Yuan


class MentorInput(Input):
    name: Name
    headline: Title
    bio: Description = ""
    expertise: list[CategoryCode] = Field(min_length=1, max_length=10)


class ServiceNeedInput(Input):
    title: Title
    description: Description = ""
    category: CategoryCode
    budget: Yuan | None = None


class IntentOrderInput(Input):
    order_id: int
    offer_id: int
    amount: Yuan
    delivery_due: date
    terms: Description = ""


# ---------------------------------------------------------------- helpers


def _today(uow: UnitOfWork) -> date:
    return to_local(uow.clock.now()).date()


def _check_version(row: Order | Offer, expected: int | None, what_zh: str, what_en: str) -> None:
    if expected is not None and row.version != expected:
        raise Conflict(
            f"{what_zh}已被他人修改（版本{row.version}，您提交的是{expected}），请刷新后重试",
            f"The {what_en} was changed meanwhile (version {row.version}, you sent {expected}); reload and retry",
        )


def _future_date(uow: UnitOfWork, day: date, what_zh: str, what_en: str) -> None:
    if day <= _today(uow):
        raise RuleViolation(f"{what_zh}必须晚于今天", f"The {what_en} must be after today")


def _held_qualifications(uow: UnitOfWork, organisation_id: int) -> set[str]:
    today = _today(uow)
    rows = uow.session.exec(select(Qualification).where(Qualification.organisation_id == organisation_id)).all()
    return {q.code for q in rows if q.is_valid_on(today)}


def _require_held(uow: UnitOfWork, actor: Actor, codes: list[str]) -> None:
    missing = sorted(set(codes) - _held_qualifications(uow, actor.organisation_id))
    if missing:
        raise RuleViolation(
            f"本机构未持有或已过期的资质不能用于产品：{', '.join(missing)}",
            f"Qualifications not held (or expired) cannot be claimed on an offer: {', '.join(missing)}",
            detail={"missing": missing},
        )


def _own_open_order(uow: UnitOfWork, actor: Actor, order_id: int, *, lock: bool = False) -> Order:
    order = load_row(uow.session, Order, order_id, "订单", "Order", lock=lock)
    actor.require_owner(order.organisation_id, "订单", "Order", order_id)
    return order


def _require_open(order: Order) -> None:
    if order.status != OrderStatus.OPEN:
        raise RuleViolation(
            f"订单当前状态为“{order.status.value}”，不再接受此操作",
            f"The order is {order.status.value} and no longer accepts this",
        )


def _require_active(offer: Offer) -> None:
    if offer.status != OfferStatus.ACTIVE:
        raise RuleViolation("该产品/服务已下架", "The offer has been withdrawn")


# ---------------------------------------------------------------- orders


def post_order(uow: UnitOfWork, actor: Actor, data: OrderInput | Mapping[str, Any]) -> Order:
    actor.require_kind(OrgKind.LARGE_FIRM)
    data = parse_input(OrderInput, data)
    with uow:
        _future_date(uow, data.deadline, "截止日期", "deadline")
        now = uow.clock.now()
        order = Order(
            organisation_id=actor.organisation_id,
            kind=data.kind,
            title=data.title,
            description=data.description,
            category=data.category,
            budget_fen=yuan_to_fen(data.budget),
            district=data.district,
            deadline=data.deadline,
            required_qualifications=sorted(set(data.required_qualifications)),
            created_at=now,
            updated_at=now,
        )
        uow.session.add(order)
        uow.session.flush()
        uow.publish(events.ORDER_POSTED, order_id=order.id)
        uow.commit()
        return order


def _save_changes(uow: UnitOfWork, row: Order | Offer, fields: dict[str, Any], topic: str, **payload: Any) -> None:
    """Apply checked *fields* to an order or offer, bump its version, publish *topic* and commit."""
    for key, value in fields.items():
        setattr(row, key, value)
    row.version += 1
    row.updated_at = uow.clock.now()
    uow.session.add(row)
    uow.publish(topic, **payload, version=row.version)
    uow.commit()


def edit_order(
    uow: UnitOfWork,
    actor: Actor,
    order_id: int,
    changes: OrderChanges | Mapping[str, Any],
    expected_version: int | None = None,
) -> Order:
    data = parse_input(OrderChanges, changes)
    with uow:
        order = _own_open_order(uow, actor, order_id, lock=True)
        _require_open(order)
        _check_version(order, expected_version, "订单", "order")
        fields = data.model_dump(exclude_unset=True, exclude_none=True)
        if "deadline" in fields:
            _future_date(uow, fields["deadline"], "截止日期", "deadline")
        if "budget" in fields:
            order.budget_fen = yuan_to_fen(fields.pop("budget"))
        if "required_qualifications" in fields:
            fields["required_qualifications"] = sorted(set(fields["required_qualifications"]))
        _save_changes(uow, order, fields, events.ORDER_CHANGED, order_id=order_id)
        return order


def close_order(uow: UnitOfWork, actor: Actor, order_id: int) -> Order:
    """Close an order (idempotent: closing a closed order changes nothing)."""
    with uow:
        order = _own_open_order(uow, actor, order_id, lock=True)
        if order.status == OrderStatus.CLOSED:
            return order
        now = uow.clock.now()
        order.status = OrderStatus.CLOSED
        order.closed_at = now
        order.updated_at = now
        order.version += 1
        uow.session.add(order)
        uow.publish(events.ORDER_CLOSED, order_id=order_id)
        uow.commit()
        return order


# ---------------------------------------------------------------- offers


def list_offer(uow: UnitOfWork, actor: Actor, data: OfferInput | Mapping[str, Any]) -> Offer:
    actor.require_kind(OrgKind.SME)
    data = parse_input(OfferInput, data)
    with uow:
        _require_held(uow, actor, data.qualifications)
        now = uow.clock.now()
        offer = Offer(
            organisation_id=actor.organisation_id,
            kind=data.kind,
            title=data.title,
            description=data.description,
            category=data.category,
            price_min_fen=yuan_to_fen(data.price_min),
            price_max_fen=yuan_to_fen(data.price_max),
            capacity=data.capacity,
            qualifications=sorted(set(data.qualifications)),
            keywords=list(dict.fromkeys(data.keywords)),
            created_at=now,
            updated_at=now,
        )
        uow.session.add(offer)
        uow.session.flush()
        uow.publish(events.OFFER_LISTED, offer_id=offer.id)
        uow.commit()
        return offer


def edit_offer(
    uow: UnitOfWork,
    actor: Actor,
    offer_id: int,
    changes: OfferChanges | Mapping[str, Any],
    expected_version: int | None = None,
) -> Offer:
    data = parse_input(OfferChanges, changes)
    with uow:
        offer = load_row(uow.session, Offer, offer_id, "产品/服务", "Offer", lock=True)
        actor.require_owner(offer.organisation_id, "产品/服务", "Offer", offer_id)
        _require_active(offer)
        _check_version(offer, expected_version, "产品/服务", "offer")
        fields = data.model_dump(exclude_unset=True, exclude_none=True)
        if "qualifications" in fields:
            _require_held(uow, actor, fields["qualifications"])
            fields["qualifications"] = sorted(set(fields["qualifications"]))
        if "keywords" in fields:
            fields["keywords"] = list(dict.fromkeys(fields["keywords"]))
        lo = yuan_to_fen(fields.pop("price_min")) if "price_min" in fields else offer.price_min_fen
        hi = yuan_to_fen(fields.pop("price_max")) if "price_max" in fields else offer.price_max_fen
        if lo > hi:
            raise RuleViolation("最低价不能高于最高价", "The minimum price must not exceed the maximum")
        offer.price_min_fen, offer.price_max_fen = lo, hi
        _save_changes(uow, offer, fields, events.OFFER_CHANGED, offer_id=offer_id)
        return offer


def withdraw_offer(uow: UnitOfWork, actor: Actor, offer_id: int) -> Offer:
    """Withdraw an offer (idempotent)."""
    with uow:
        offer = load_row(uow.session, Offer, offer_id, "产品/服务", "Offer", lock=True)
        actor.require_owner(offer.organisation_id, "产品/服务", "Offer", offer_id)
        if offer.status == OfferStatus.WITHDRAWN:
            return offer
        offer.status = OfferStatus.WITHDRAWN
        offer.version += 1
        offer.updated_at = uow.clock.now()
        uow.session.add(offer)
        uow.publish(events.OFFER_WITHDRAWN, offer_id=offer_id)
        uow.commit()
        return offer


# ---------------------------------------------------------------- services


def publish_service_package(
    uow: UnitOfWork, actor: Actor, data: ServicePackageInput | Mapping[str, Any]
) -> ServicePackage:
    actor.require_kind(OrgKind.SERVICE_PROVIDER)
    data = parse_input(ServicePackageInput, data)
    with uow:
        package = ServicePackage(
            organisation_id=actor.organisation_id,
            title=data.title,
            description=data.description,
            category=data.category,
            value_fen=yuan_to_fen(data.value),
            created_at=uow.clock.now(),
        )
        uow.session.add(package)
        uow.session.flush()
        uow.publish(events.SERVICE_PACKAGE_PUBLISHED, service_package_id=package.id)
        uow.commit()
        return package


def publish_mentor(uow: UnitOfWork, actor: Actor, data: MentorInput | Mapping[str, Any]) -> Mentor:
    actor.require_kind(OrgKind.SERVICE_PROVIDER)
    data = parse_input(MentorInput, data)
    with uow:
        mentor = Mentor(
            organisation_id=actor.organisation_id,
            name=data.name,
            headline=data.headline,
            bio=data.bio,
            expertise=list(dict.fromkeys(data.expertise)),
            created_at=uow.clock.now(),
        )
        uow.session.add(mentor)
        uow.session.flush()
        uow.publish(events.MENTOR_PUBLISHED, mentor_id=mentor.id)
        uow.commit()
        return mentor


def post_service_need(uow: UnitOfWork, actor: Actor, data: ServiceNeedInput | Mapping[str, Any]) -> ServiceNeed:
    actor.require_kind(OrgKind.SME)
    data = parse_input(ServiceNeedInput, data)
    with uow:
        need = ServiceNeed(
            organisation_id=actor.organisation_id,
            title=data.title,
            description=data.description,
            category=data.category,
            budget_fen=None if data.budget is None else yuan_to_fen(data.budget),
            created_at=uow.clock.now(),
        )
        uow.session.add(need)
        uow.session.flush()
        uow.publish(events.SERVICE_NEED_POSTED, service_need_id=need.id)
        uow.commit()
        return need


# ---------------------------------------------------------------- interest and shortlist
#
# A record's ``note`` is private to the organisation that wrote it (issue 16, item 5): the buyer's shortlist or
# rule-out note is for the buyer's own people, never shown to the supplier.  What the buyer means the supplier to
# read is ``message_to_supplier``, a separate, clearly labelled field.  :func:`interests_on_offer` is the supplier's
# read, and :func:`note_visible_to` the one rule for who reads a note.


def note_visible_to(interest: Interest, organisation_id: int) -> bool:
    """Whether the organisation reads the record's private ``note``: only the one that wrote it."""
    return interest.organisation_id == organisation_id


def interests_on_offer(session: Session, actor: Actor, offer_id: int) -> list[Interest]:
    """The SME's own interest and the buyers' decisions (shortlist, rule-out) on one of its offers, oldest first.
    Another organisation's offer is reported as not found.  Show a buyer's record with its ``message_to_supplier``
    only: its ``note`` is the buyer's (:func:`note_visible_to`)."""
    actor.require_kind(OrgKind.SME)
    load_offer_for(session, actor, offer_id)  # an SME reads its own offers only
    return list(
        session.exec(
            select(Interest)
            .where(col(Interest.offer_id) == offer_id, interests_visible_to(actor))
            .order_by(col(Interest.created_at), col(Interest.id))
        ).all()
    )


def _record_interest(
    uow: UnitOfWork,
    actor: Actor,
    order: Order,
    offer: Offer,
    kind: InterestKind,
    note: str,
    message_to_supplier: str = "",
) -> Interest:
    s = uow.session
    existing = s.exec(
        select(Interest).where(Interest.order_id == order.id, Interest.offer_id == offer.id, Interest.kind == kind)
    ).first()
    if existing is not None:  # idempotent
        return existing
    opposite = {
        InterestKind.SHORTLIST: InterestKind.REJECTION,
        InterestKind.REJECTION: InterestKind.SHORTLIST,
    }
    if kind in opposite:  # a buyer's later decision replaces the earlier one
        for row in s.exec(
            select(Interest).where(
                Interest.order_id == order.id, Interest.offer_id == offer.id, Interest.kind == opposite[kind]
            )
        ).all():
            s.delete(row)
    assert order.id is not None and offer.id is not None
    interest = Interest(
        order_id=order.id,
        offer_id=offer.id,
        kind=kind,
        organisation_id=actor.organisation_id,
        user_id=actor.user_id,
        note=note.strip()[:1000],
        message_to_supplier=message_to_supplier.strip()[:1000],
        created_at=uow.clock.now(),
    )
    s.add(interest)
    try:
        s.flush()
    except IntegrityError:  # a concurrent identical request won; report the stored one
        s.rollback()
        raise Conflict("该记录已存在，请刷新", "This was recorded meanwhile; reload") from None
    uow.publish(events.INTEREST_EXPRESSED, interest_id=interest.id, kind=kind.value)
    uow.commit()
    return interest


def express_interest(uow: UnitOfWork, actor: Actor, order_id: int, offer_id: int, note: str = "") -> Interest:
    """An SME says it wants to bid for an order with one of its offers."""
    actor.require_kind(OrgKind.SME)
    with uow:
        offer = load_row(uow.session, Offer, offer_id, "产品/服务", "Offer")
        actor.require_owner(offer.organisation_id, "产品/服务", "Offer", offer_id)
        _require_active(offer)
        order = load_row(uow.session, Order, order_id, "订单", "Order")
        _require_open(order)
        return _record_interest(uow, actor, order, offer, InterestKind.INTEREST, note)


def _buyer_decision(
    uow: UnitOfWork,
    actor: Actor,
    order_id: int,
    offer_id: int,
    kind: InterestKind,
    note: str,
    message_to_supplier: str,
) -> Interest:
    actor.require_kind(OrgKind.LARGE_FIRM)
    with uow:
        order = _own_open_order(uow, actor, order_id)
        _require_open(order)
        offer = load_row(uow.session, Offer, offer_id, "产品/服务", "Offer")
        _require_active(offer)
        return _record_interest(uow, actor, order, offer, kind, note, message_to_supplier)


def shortlist(
    uow: UnitOfWork, actor: Actor, order_id: int, offer_id: int, note: str = "", message_to_supplier: str = ""
) -> Interest:
    """The buyer shortlists an offer: ``note`` is its own (private), ``message_to_supplier`` what the supplier reads."""
    return _buyer_decision(uow, actor, order_id, offer_id, InterestKind.SHORTLIST, note, message_to_supplier)


def reject_offer(
    uow: UnitOfWork, actor: Actor, order_id: int, offer_id: int, note: str = "", message_to_supplier: str = ""
) -> Interest:
    """The buyer rules an offer out: ``note`` is its own (private), ``message_to_supplier`` what the supplier reads."""
    return _buyer_decision(uow, actor, order_id, offer_id, InterestKind.REJECTION, note, message_to_supplier)


# ---------------------------------------------------------------- intent orders and contracts


def _side(actor: Actor, intent: IntentOrder) -> str:
    if actor.organisation_id == intent.buyer_id:
        return "buyer"
    if actor.organisation_id == intent.supplier_id:
        return "supplier"
    raise NotFound.of("意向订单", "Intent order", intent.id)


def propose_intent_order(uow: UnitOfWork, actor: Actor, data: IntentOrderInput | Mapping[str, Any]) -> IntentOrder:
    """Either party proposes an intent order (意向订单) on an order and an offer; the proposer signs at once."""
    data = parse_input(IntentOrderInput, data)
    with uow:
        s = uow.session
        order = load_row(s, Order, data.order_id, "订单", "Order", lock=True)
        offer = load_row(s, Offer, data.offer_id, "产品/服务", "Offer")
        if actor.organisation_id not in (order.organisation_id, offer.organisation_id):
            raise NotFound.of("订单", "Order", data.order_id)
        if order.organisation_id == offer.organisation_id:
            raise RuleViolation("买卖双方不能是同一机构", "Buyer and supplier must be different organisations")
        _require_open(order)
        _require_active(offer)
        _future_date(uow, data.delivery_due, "交付日期", "delivery date")
        live = s.exec(
            select(IntentOrder).where(
                IntentOrder.order_id == order.id,
                IntentOrder.offer_id == offer.id,
                col(IntentOrder.status).in_([IntentStatus.PROPOSED, IntentStatus.SIGNED]),
            )
        ).first()
        if live is not None:
            raise Conflict(
                f"该订单与产品之间已有意向订单（编号{live.id}）",
                f"An intent order already exists for this order and offer (#{live.id})",
            )
        now = uow.clock.now()
        is_buyer = actor.organisation_id == order.organisation_id
        assert order.id is not None and offer.id is not None
        intent = IntentOrder(
            order_id=order.id,
            offer_id=offer.id,
            buyer_id=order.organisation_id,
            supplier_id=offer.organisation_id,
            title=order.title,
            amount_fen=yuan_to_fen(data.amount),
            delivery_due=data.delivery_due,
            terms=data.terms,
            proposed_by_id=actor.organisation_id,
            proposed_at=now,
            buyer_signed_at=now if is_buyer else None,
            buyer_signed_by=actor.user_id if is_buyer else None,
            supplier_signed_at=None if is_buyer else now,
            supplier_signed_by=None if is_buyer else actor.user_id,
        )
        s.add(intent)
        s.flush()
        assert intent.id is not None
        uow.audit(
            "intent_order",
            intent.id,
            "proposed",
            actor_id=actor.user_id,
            amount_fen=intent.amount_fen,
            by=actor.organisation_id,
        )
        uow.publish(events.INTENT_ORDER_PROPOSED, intent_order_id=intent.id)
        uow.commit()
        return intent


def sign_intent_order(uow: UnitOfWork, actor: Actor, intent_order_id: int) -> IntentOrder:
    """The other party signs; the intent order becomes a contract and the order is awarded."""
    with uow:
        s = uow.session
        intent = load_row(s, IntentOrder, intent_order_id, "意向订单", "Intent order", lock=True)
        side = _side(actor, intent)
        if intent.status != IntentStatus.PROPOSED:
            raise RuleViolation(
                f"意向订单状态为“{intent.status.value}”，不能签署",
                f"The intent order is {intent.status.value} and cannot be signed",
            )
        now = uow.clock.now()
        if side == "buyer":
            if intent.buyer_signed_at is not None:
                raise Conflict("买方已签署，等待供方签署", "The buyer has signed already; waiting for the supplier")
            intent.buyer_signed_at, intent.buyer_signed_by = now, actor.user_id
        else:
            if intent.supplier_signed_at is not None:
                raise Conflict("供方已签署，等待买方签署", "The supplier has signed already; waiting for the buyer")
            intent.supplier_signed_at, intent.supplier_signed_by = now, actor.user_id
        intent.status = IntentStatus.SIGNED
        intent.version += 1
        s.add(intent)
        assert intent.id is not None
        contract = Contract(
            intent_order_id=intent.id,
            buyer_id=intent.buyer_id,
            supplier_id=intent.supplier_id,
            title=intent.title,
            amount_fen=intent.amount_fen,
            delivery_due=intent.delivery_due,
            signed_at=now,
        )
        s.add(contract)
        order = load_row(s, Order, intent.order_id, "订单", "Order", lock=True)
        if order.status == OrderStatus.OPEN:
            order.status = OrderStatus.AWARDED
            order.version += 1
            order.updated_at = now
            s.add(order)
        s.flush()
        assert contract.id is not None
        uow.audit("intent_order", intent.id, "signed", actor_id=actor.user_id, by=actor.organisation_id)
        uow.audit(
            "contract",
            contract.id,
            "created",
            actor_id=actor.user_id,
            intent_order_id=intent.id,
            amount_fen=contract.amount_fen,
        )
        uow.publish(events.INTENT_ORDER_SIGNED, intent_order_id=intent.id)
        uow.publish(events.CONTRACT_CREATED, contract_id=contract.id)
        uow.commit()
        return intent


def cancel_intent_order(uow: UnitOfWork, actor: Actor, intent_order_id: int) -> IntentOrder:
    with uow:
        intent = load_row(uow.session, IntentOrder, intent_order_id, "意向订单", "Intent order", lock=True)
        _side(actor, intent)
        if intent.status == IntentStatus.CANCELLED:
            return intent
        if intent.status != IntentStatus.PROPOSED:
            raise RuleViolation("已签署的意向订单不能撤销", "A signed intent order cannot be cancelled")
        intent.status = IntentStatus.CANCELLED
        intent.version += 1
        uow.session.add(intent)
        assert intent.id is not None
        uow.audit("intent_order", intent.id, "cancelled", actor_id=actor.user_id, by=actor.organisation_id)
        uow.commit()
        return intent


def contract_for(session: Session, intent_order_id: int) -> Contract | None:
    return session.exec(select(Contract).where(Contract.intent_order_id == intent_order_id)).first()
