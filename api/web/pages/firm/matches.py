"""An order's ranked suppliers with their explanations, side-by-side comparison, shortlist / rule out, and
proposing an intent order to a shortlisted supplier."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlmodel import Session
from starlette.datastructures import FormData

from api.deps import ClockDep, EngineDep, SessionDep
from api.routes.lists import OfferIndexDep, PathId, QualifiedRankQuery, ranked
from api.web.pages._forms import FirmGet, FirmPost, Page
from api.web.pages.firm._shared import FEATURES, firm_page, local_today, own_order, refusal
from api.web.render import act, form_values, redirect
from api.web.session import FirmPage, FormDep, WebUser
from market import service as marketplace
from market.queries_buyer import (
    decisions_on_offers,
    intent_orders_on_order,
    offers_with_suppliers,
    shortlisted_offer,
    shortlisted_offers,
)
from matcher import service as matching
from qianfan import taxonomy
from qianfan.errors import DomainError, InvalidInput, NotFound
from qianfan.models import IntentOrder, Offer, Order
from qianfan.money import fen_to_yuan
from qianfan.uow import UnitOfWork

router = APIRouter()

INTENT_FIELDS = ("amount", "delivery_due", "terms")
MATCHES_SHOWN = 20


@dataclass
class Candidate:
    """A ranked offer with everything that explains it."""

    rank: int
    offer: Offer
    supplier: str
    district: str
    score: float
    reasons: list[tuple[str, str, float]]  # (中文, English, contribution), largest first
    shared_terms: list[str]
    held: list[str]  # required qualifications the supplier holds today
    missing: list[str]  # required qualifications it does not hold
    other_qualifications: list[str]
    within_budget: bool
    record: float
    folded: int = 0
    decision: str = ""  # shortlist / rejection
    intent: IntentOrder | None = None
    flags: dict[str, bool] = field(default_factory=dict)


@dataclass
class MatchFilters:
    district: str = ""
    qualification: str = ""
    min_score: str = ""
    within_budget: bool = False
    error: tuple[str, str] | None = None

    @property
    def active(self) -> bool:
        return bool(self.district or self.qualification or self.min_score or self.within_budget)

    def query(self) -> QualifiedRankQuery:
        data: dict[str, Any] = {"limit": MATCHES_SHOWN}
        if self.district:
            data["district"] = [self.district]
        if self.qualification:
            data["qualification"] = [self.qualification]
        if self.min_score:
            data["min_score"] = self.min_score
        return QualifiedRankQuery.model_validate(data)


def _filters(request: Request) -> MatchFilters:
    params = request.query_params
    filters = MatchFilters(
        district=params.get("district", "").strip(),
        qualification=params.get("qualification", "").strip(),
        min_score=params.get("min_score", "").strip(),
        within_budget=params.get("within_budget") in ("1", "on", "true"),
    )
    if filters.district and filters.district not in taxonomy.DISTRICTS:
        filters.district, filters.error = "", ("未知的园区", "Unknown branch park")
    if filters.qualification and filters.qualification not in taxonomy.QUALIFICATION_BY_CODE:
        filters.qualification, filters.error = "", ("未知的资质", "Unknown qualification")
    if filters.min_score:
        try:
            Decimal(filters.min_score)
            filters.query()
        except (InvalidOperation, ValidationError):
            filters.min_score = ""
            filters.error = ("最低得分须为0到100之间的数字，如 0.5", "The minimum score is a number, 0 to 100")
    return filters


def _rank(page: Page, store: Any, order: Order, filters: MatchFilters) -> tuple[list[matching.RankedItem], int]:
    query = filters.query()
    rank_filters = query.filters(
        max_price_fen=order.budget_fen if filters.within_budget else None, qualifications=query.qualification
    )
    assert order.id is not None
    order_id = order.id

    def rank(offset: int, limit: int) -> matching.RankedPage:
        return matching.rank_offers_for_order(
            page.engine,
            page.clock,
            order_id,
            filters=rank_filters,
            offset=offset,
            limit=limit,
            actor=page.user.actor,
            store=store,
        )

    items, total, _ = ranked(rank, query)
    return items, total


def _candidates(page: Page, order: Order, items: list[matching.RankedItem], first_rank: int = 1) -> list[Candidate]:
    ids = [item.id for item in items]
    if not ids:
        return []
    session, clock, actor = page.session, page.clock, page.user.actor
    assert order.id is not None
    offers = offers_with_suppliers(session, actor, ids)
    org_ids = {offer.organisation_id for offer, _ in offers.values()}
    held = matching.valid_qualifications(session, org_ids, local_today(clock))
    records = matching.supplier_records(session, org_ids)
    decisions = decisions_on_offers(session, actor, order.id, ids)
    intents = intent_orders_on_order(session, actor, order.id, ids)
    required = list(order.required_qualifications)
    out: list[Candidate] = []
    for rank, item in enumerate(items, first_rank):
        found = offers.get(item.id)
        if found is None:
            continue
        offer, org = found
        holds = held.get(offer.organisation_id, frozenset())
        reasons = [
            (*FEATURES.get(name, (name, name)), value)
            for name, value in sorted(item.contributions.items(), key=lambda kv: -kv[1])
            if value > 0
        ]
        out.append(
            Candidate(
                rank=rank,
                offer=offer,
                supplier=org.name,
                district=org.district or "—",
                score=item.score,
                reasons=reasons,
                shared_terms=[term for term, _ in item.shared_terms[:8]],
                held=[q for q in required if q in holds],
                missing=[q for q in required if q not in holds],
                other_qualifications=sorted(holds - set(required)),
                within_budget=offer.price_min_fen <= order.budget_fen,
                record=records.get(offer.organisation_id, 0.0),
                folded=len(item.folded),
                decision=decisions.get(item.id, ""),
                intent=intents.get(item.id),
            )
        )
    return out


def _shortlisted(session: Session, user: WebUser, order: Order) -> list[tuple[Offer, str, IntentOrder | None]]:
    assert order.id is not None
    intents = intent_orders_on_order(session, user.actor, order.id)
    shortlist = shortlisted_offers(session, user.actor, order.id)
    return [(offer, name, intents.get(offer.id or 0)) for offer, name in shortlist]


@router.get("/orders/{order_id}")
def order_page(order_id: PathId, page: FirmGet, store: OfferIndexDep) -> Response:
    request, user, session = page.request, page.user, page.session
    order = own_order(session, user, order_id)
    filters = _filters(request)
    items, total = _rank(page, store, order, filters)
    candidates = _candidates(page, order, items)
    return firm_page(
        request,
        "order.html",
        user,
        order=order,
        candidates=candidates,
        total=total,
        filters=filters,
        shortlisted=_shortlisted(session, user, order),
    )


@router.get("/orders/{order_id}/compare")
def compare(order_id: PathId, page: FirmGet, store: OfferIndexDep) -> Response:
    request, user = page.request, page.user
    order = own_order(page.session, user, order_id)
    wanted: list[int] = []
    for raw in request.query_params.getlist("offer"):
        if raw.isdigit() and int(raw) not in wanted:
            wanted.append(int(raw))
    if not 2 <= len(wanted) <= 4:
        return redirect(
            f"/firm/orders/{order_id}",
            ("error", "请勾选2至4家供应商再进行对比", "Tick two to four suppliers to compare them side by side"),
        )
    items, _ = _rank(page, store, order, MatchFilters(min_score="0"))
    by_id = {item.id: (rank, item) for rank, item in enumerate(items, 1)}
    missing = [i for i in wanted if i not in by_id]
    if missing:
        raise NotFound.of("匹配的供应商", "Ranked offer", missing[0])
    columns: list[Candidate] = []
    for offer_id in wanted:
        rank, item = by_id[offer_id]
        columns.extend(_candidates(page, order, [item], rank))
    feature_names = [name for name in FEATURES if any(name in by_id[i][1].contributions for i in wanted)]
    contributions = {offer_id: dict(by_id[offer_id][1].contributions) for offer_id in wanted}
    return firm_page(
        request,
        "compare.html",
        user,
        order=order,
        columns=columns,
        feature_names=feature_names,
        contributions=contributions,
    )


def _offer_id(form: FormData) -> int:
    raw = form.get("offer_id")
    if not isinstance(raw, str) or not raw.isdigit():
        raise InvalidInput("请选择供应商", "Choose a supplier", detail={"field": "offer_id"})
    return int(raw)


def _texts(form: FormData) -> tuple[str, str]:
    """The buyer's internal note (private to the firm) and its message to the supplier (the supplier reads it)."""
    values = form_values(form, "note", "message_to_supplier")
    return values["note"][:1000], values["message_to_supplier"][:1000]


@router.post("/orders/{order_id}/shortlist")
def shortlist(order_id: PathId, user: FirmPage, form: FormDep, engine: EngineDep, clock: ClockDep) -> Response:
    back = f"/firm/orders/{order_id}"
    return act(
        lambda: marketplace.shortlist(UnitOfWork(engine, clock), user.actor, order_id, _offer_id(form), *_texts(form)),
        ok_url=back,
        ok=("已加入入围名单，可向其发起意向订单", "Shortlisted; you can now propose an intent order"),
        back_url=back,
    )


@router.post("/orders/{order_id}/reject")
def reject(order_id: PathId, user: FirmPage, form: FormDep, engine: EngineDep, clock: ClockDep) -> Response:
    back = f"/firm/orders/{order_id}"
    return act(
        lambda: marketplace.reject_offer(
            UnitOfWork(engine, clock), user.actor, order_id, _offer_id(form), *_texts(form)
        ),
        ok_url=back,
        ok=("已淘汰该供应商", "Supplier ruled out"),
        back_url=back,
    )


# ------------------------------------------------------------------------------------------ intent orders


def _propose_form(
    request: Request,
    user: WebUser,
    order: Order,
    offer: Offer,
    supplier: str,
    values: dict[str, str],
    errors: dict[str, tuple[str, str]] | None = None,
    message: tuple[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return firm_page(
        request,
        "propose.html",
        user,
        status_code=status_code,
        order=order,
        offer=offer,
        supplier=supplier,
        values=values,
        errors=errors or {},
        message=message,
    )


@router.get("/orders/{order_id}/propose/{offer_id}")
def propose_page(request: Request, order_id: PathId, offer_id: PathId, user: FirmPage, session: SessionDep) -> Response:
    order = own_order(session, user, order_id)
    offer, supplier = shortlisted_offer(session, user.actor, order_id, offer_id)
    amount = min(order.budget_fen, max(offer.price_min_fen, 1))
    values = {"amount": str(fen_to_yuan(amount)), "delivery_due": order.deadline.isoformat(), "terms": ""}
    return _propose_form(request, user, order, offer, supplier, values)


@router.post("/orders/{order_id}/propose/{offer_id}")
def propose(order_id: PathId, offer_id: PathId, post: FirmPost) -> Response:
    request, user = post.request, post.user
    order = own_order(post.session, user, order_id)
    offer, supplier = shortlisted_offer(post.session, user.actor, order_id, offer_id)
    values = post.values(*INTENT_FIELDS)
    try:
        intent = marketplace.propose_intent_order(
            post.uow(), user.actor, {"order_id": order_id, "offer_id": offer_id, **values}
        )
    except DomainError as exc:
        errors, message = refusal(exc)
        return _propose_form(request, user, order, offer, supplier, values, errors, message, status_code=422)
    return redirect(
        "/firm/deals",
        (
            "ok",
            f"意向订单 #{intent.id} 已发出并由我方签署，等待{supplier}签署",
            f"Intent order #{intent.id} proposed and signed by you; waiting for {supplier} to sign",
        ),
    )
