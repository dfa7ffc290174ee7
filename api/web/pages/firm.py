"""The large firm's portal (大企业 / core enterprise): home figures, orders (post, edit, close), the ranked suppliers
of an order with their explanations, side-by-side comparison, shortlist / reject, intent orders (propose, sign,
cancel) and contracts, confirmation (确权) of the receivables it owes, and repayment of the loans on them.

Routes are thin: each write calls one use case (``market.service``, ``finance.service``); reads are
small queries scoped to the firm's own organisation, or the matcher's live ranking (``rank_offers_for_order``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from api.deps import ClockDep, EngineDep, SessionDep
from api.routes.lists import OfferIndexDep, PathId, QualifiedRankQuery, ranked
from api.web import labels
from api.web.render import act, error_flash, field_errors, form_values, redirect, render
from api.web.session import FirmPage, FormDep, WebUser
from finance import service as fs
from finance import settlement as settlement_rules
from market import service as marketplace
from matcher import service as matching
from matcher.rank import FEATURE_LABELS
from qianfan import taxonomy
from qianfan.clock import Clock, to_local
from qianfan.errors import DomainError, InvalidInput, NotFound
from qianfan.models import (
    BankStatementImport,
    Contract,
    ContractStatus,
    FinanceKind,
    IntentOrder,
    IntentStatus,
    Interest,
    InterestKind,
    Loan,
    LoanStatus,
    Match,
    Offer,
    Order,
    OrderKind,
    OrderStatus,
    Organisation,
    Receivable,
    ReceivableStatus,
)
from qianfan.money import fen_to_yuan, yuan_to_fen
from qianfan.uow import UnitOfWork

router = APIRouter(prefix="/firm", include_in_schema=False)

ORDER_FIELDS = ("kind", "title", "description", "category", "budget", "district", "deadline")
INTENT_FIELDS = ("amount", "delivery_due", "terms")
PAGE_SIZE = 20
MATCHES_SHOWN = 20
DUE_SOON_DAYS = 30
NEW_MATCH_DAYS = 7
OPEN_LOANS = (LoanStatus.DISBURSED, LoanStatus.REPAID_PARTIALLY, LoanStatus.OVERDUE)
CONFIRMED_STATES = (
    ReceivableStatus.CONFIRMED,
    ReceivableStatus.SPLIT,
    ReceivableStatus.PARTLY_TRANSFERRED,
    ReceivableStatus.FINANCED,
    ReceivableStatus.SETTLED,
)

#: Labels of states: value → (中文, English, badge tone).
ORDER_KINDS = {
    OrderKind.PROCUREMENT.value: ("采购订单", "Procurement"),
    OrderKind.INVESTMENT.value: ("投资需求", "Investment"),
    OrderKind.MERGER.value: ("并购需求", "Merger"),
}
STATES = {
    "order": {
        OrderStatus.OPEN.value: ("开放中", "Open", "ok"),
        OrderStatus.AWARDED.value: ("已定标", "Awarded", "info"),
        OrderStatus.CLOSED.value: ("已关闭", "Closed", "muted"),
    },
    "intent": {
        IntentStatus.PROPOSED.value: ("待签署", "Awaiting signature", "warn"),
        IntentStatus.SIGNED.value: ("已签署", "Signed", "ok"),
        IntentStatus.CANCELLED.value: ("已撤销", "Cancelled", "muted"),
    },
    "receivable": {
        ReceivableStatus.REGISTERED.value: ("待确权", "Awaiting confirmation", "warn"),
        ReceivableStatus.CONFIRMED.value: ("已确权", "Confirmed", "ok"),
        ReceivableStatus.SPLIT.value: ("已拆分", "Split", "info"),
        ReceivableStatus.PARTLY_TRANSFERRED.value: ("部分转让", "Partly transferred", "info"),
        ReceivableStatus.FINANCED.value: ("已融资", "Financed", "info"),
        ReceivableStatus.SETTLED.value: ("已结清", "Settled", "muted"),
        ReceivableStatus.CANCELLED.value: ("已撤销", "Cancelled", "muted"),
    },
    "loan": {
        LoanStatus.DISBURSED.value: ("已放款", "Disbursed", "info"),
        LoanStatus.REPAID_PARTIALLY.value: ("部分还款", "Partly repaid", "warn"),
        LoanStatus.OVERDUE.value: ("已逾期", "Overdue", "bad"),
        LoanStatus.REPAID.value: ("已还清", "Repaid", "muted"),
    },
    "contract": {
        value: (*labels.CONTRACT_STATES[value], tone)
        for value, tone in (("active", "info"), ("delivered", "ok"), ("completed", "muted"), ("terminated", "bad"))
    },
}


def _feature_label(name: str) -> tuple[str, str]:
    """The matcher's own label of a feature (``"关键词匹配 term match"``) as (中文, English)."""
    label = FEATURE_LABELS.get(name, name)
    zh, _, en = label.partition(" ")
    return zh, en or zh


FEATURES = {name: _feature_label(name) for name in FEATURE_LABELS}


def _page(request: Request, template: str, user: WebUser, status_code: int = 200, **context: Any) -> Response:
    page = {"states": STATES, "order_kinds": ORDER_KINDS, "features": FEATURES, **context}
    return render(request, f"firm/{template}", page, user=user, status_code=status_code)


def _today(clock: Clock) -> date:
    return to_local(clock.now()).date()


def _own_order(session: Session, user: WebUser, order_id: int) -> Order:
    order = session.get(Order, order_id)
    if order is None or order.organisation_id != user.organisation_id:
        raise NotFound.of("订单", "Order", order_id)
    return order


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.exec(select(Organisation.id, Organisation.name).where(col(Organisation.id).in_(sorted(ids))))
    return {oid: name for oid, name in rows.all() if oid is not None}


def _page_number(value: str | None) -> int:
    try:
        return max(0, min(int(value or 0), 500))
    except ValueError:
        return 0


# ------------------------------------------------------------------------------------------ home


@dataclass
class HomeFigures:
    open_orders: int = 0
    open_budget_fen: int = 0
    new_matches: int = 0
    to_sign: int = 0
    to_confirm: int = 0
    to_confirm_fen: int = 0
    due_soon: int = 0
    due_soon_fen: int = 0
    overdue: int = 0


def _home_figures(session: Session, user: WebUser, clock: Clock) -> HomeFigures:
    org = user.organisation_id
    figures = HomeFigures()
    count, budget = session.exec(
        select(sa.func.count(), sa.func.coalesce(sa.func.sum(Order.budget_fen), 0)).where(
            col(Order.organisation_id) == org, col(Order.status) == OrderStatus.OPEN
        )
    ).one()
    figures.open_orders, figures.open_budget_fen = int(count), int(budget)
    since = clock.now() - timedelta(days=NEW_MATCH_DAYS)
    figures.new_matches = int(
        session.exec(
            select(sa.func.count(sa.distinct(col(Match.offer_id))))
            .join(Order, col(Order.id) == col(Match.order_id))
            .where(
                col(Order.organisation_id) == org,
                col(Order.status) == OrderStatus.OPEN,
                col(Match.created_at) >= since,
            )
        ).one()
    )
    figures.to_sign = int(
        session.exec(
            select(sa.func.count()).where(
                col(IntentOrder.buyer_id) == org,
                col(IntentOrder.status) == IntentStatus.PROPOSED,
                col(IntentOrder.buyer_signed_at).is_(None),
            )
        ).one()
    )
    count, face = session.exec(
        select(sa.func.count(), sa.func.coalesce(sa.func.sum(Receivable.face_fen), 0)).where(
            col(Receivable.debtor_id) == org, col(Receivable.status) == ReceivableStatus.REGISTERED
        )
    ).one()
    figures.to_confirm, figures.to_confirm_fen = int(count), int(face)
    horizon = _today(clock) + timedelta(days=DUE_SOON_DAYS)
    for loan in fs.loans_of(session, user.actor, OPEN_LOANS):
        if loan.status == LoanStatus.OVERDUE:
            figures.overdue += 1
        if loan.due_date <= horizon:
            assert loan.id is not None
            figures.due_soon += 1
            figures.due_soon_fen += fs.loan_outstanding(session, loan.id).total_fen
    return figures


@router.get("")
def home(request: Request, user: FirmPage, session: SessionDep, clock: ClockDep) -> Response:
    figures = _home_figures(session, user, clock)
    return _page(request, "home.html", user, figures=figures, due_days=DUE_SOON_DAYS, new_days=NEW_MATCH_DAYS)


# ------------------------------------------------------------------------------------------ orders


@router.get("/orders")
def orders(request: Request, user: FirmPage, session: SessionDep, status: str = "", page: str = "") -> Response:
    number = _page_number(page)
    conditions: list[Any] = [col(Order.organisation_id) == user.organisation_id]
    if status in STATES["order"]:
        conditions.append(col(Order.status) == OrderStatus(status))
    else:
        status = ""
    rows = list(
        session.exec(
            select(Order)
            .where(*conditions)
            .order_by(col(Order.created_at).desc(), col(Order.id).desc())
            .offset(number * PAGE_SIZE)
            .limit(PAGE_SIZE + 1)
        ).all()
    )
    has_next = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    ids = [o.id for o in rows if o.id is not None]
    matches: dict[int, int] = {}
    if ids:
        counted = session.exec(
            select(Match.order_id, sa.func.count()).where(col(Match.order_id).in_(ids)).group_by(col(Match.order_id))
        ).all()
        matches = {order_id: int(n) for order_id, n in counted}
    return _page(
        request,
        "orders.html",
        user,
        orders=rows,
        matches=matches,
        status=status,
        page=number,
        has_next=has_next,
        params=f"&status={status}" if status else "",
    )


def _order_values(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = form_values(form, *ORDER_FIELDS)
    values["required_qualifications"] = [q for q in form.getlist("required_qualifications") if isinstance(q, str)]
    return values


def _order_form(
    request: Request,
    user: WebUser,
    *,
    values: dict[str, Any],
    errors: dict[str, tuple[str, str]] | None = None,
    message: tuple[str, str] | None = None,
    order: Order | None = None,
    status_code: int = 200,
) -> Response:
    return _page(
        request,
        "order_form.html",
        user,
        status_code=status_code,
        values=values,
        errors=errors or {},
        message=message,
        order=order,
    )


def _refused(exc: DomainError) -> tuple[dict[str, tuple[str, str]], tuple[str, str] | None]:
    """Field errors of an InvalidInput; any other refusal is a message for the whole form."""
    errors = field_errors(exc) if isinstance(exc, InvalidInput) else {}
    return errors, (None if errors else (exc.message_zh, exc.message_en))


@router.get("/orders/new")
def new_order(request: Request, user: FirmPage) -> Response:
    return _order_form(request, user, values={"kind": OrderKind.PROCUREMENT.value, "required_qualifications": []})


@router.post("/orders")
def post_order(request: Request, user: FirmPage, form: FormDep, engine: EngineDep, clock: ClockDep) -> Response:
    values = _order_values(form)
    try:
        order = marketplace.post_order(UnitOfWork(engine, clock), user.actor, values)
    except DomainError as exc:
        errors, message = _refused(exc)
        return _order_form(request, user, values=values, errors=errors, message=message, status_code=422)
    return redirect(
        f"/firm/orders/{order.id}",
        ("ok", f"订单“{order.title}”已发布，正在为您匹配供应商", f"Order “{order.title}” posted; matching suppliers"),
    )


@router.get("/orders/{order_id}/edit")
def edit_order_page(request: Request, order_id: PathId, user: FirmPage, session: SessionDep) -> Response:
    order = _own_order(session, user, order_id)
    values: dict[str, Any] = {
        "kind": order.kind.value,
        "title": order.title,
        "description": order.description,
        "category": order.category,
        "budget": str(fen_to_yuan(order.budget_fen)),
        "district": order.district,
        "deadline": order.deadline.isoformat(),
        "required_qualifications": list(order.required_qualifications),
        "version": str(order.version),
    }
    return _order_form(request, user, values=values, order=order)


@router.post("/orders/{order_id}/edit")
def edit_order(
    request: Request,
    order_id: PathId,
    user: FirmPage,
    form: FormDep,
    session: SessionDep,
    engine: EngineDep,
    clock: ClockDep,
) -> Response:
    order = _own_order(session, user, order_id)
    values = _order_values(form)
    values["version"] = form_values(form, "version")["version"]
    changes = {k: v for k, v in values.items() if k not in ("kind", "version")}
    try:
        version = int(values["version"]) if values["version"] else None
        marketplace.edit_order(UnitOfWork(engine, clock), user.actor, order_id, changes, version)
    except ValueError:
        return redirect(f"/firm/orders/{order_id}/edit", ("error", "表单版本无效，请重新打开", "Reload the form"))
    except DomainError as exc:
        errors, message = _refused(exc)
        return _order_form(request, user, values=values, errors=errors, message=message, order=order, status_code=422)
    return redirect(f"/firm/orders/{order_id}", ("ok", "订单已修改", "Order updated"))


@router.post("/orders/{order_id}/close")
def close_order(order_id: PathId, user: FirmPage, form: FormDep, engine: EngineDep, clock: ClockDep) -> Response:
    return act(
        lambda: marketplace.close_order(UnitOfWork(engine, clock), user.actor, order_id),
        ok_url=f"/firm/orders/{order_id}",
        ok=("订单已关闭，不再接受新的供应商", "Order closed; it takes no new suppliers"),
        back_url=f"/firm/orders/{order_id}",
    )


# ------------------------------------------------------------------------------------------ ranked suppliers


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


def _rank(
    engine: Any, clock: Clock, store: Any, user: WebUser, order: Order, filters: MatchFilters
) -> tuple[list[matching.RankedItem], int]:
    query = filters.query()
    rank_filters = query.filters(
        max_price_fen=order.budget_fen if filters.within_budget else None, qualifications=query.qualification
    )
    assert order.id is not None
    order_id = order.id

    def rank(offset: int, limit: int) -> matching.RankedPage:
        return matching.rank_offers_for_order(
            engine, clock, order_id, filters=rank_filters, offset=offset, limit=limit, actor=user.actor, store=store
        )

    items, total, _ = ranked(rank, query)
    return items, total


def _candidates(
    session: Session, clock: Clock, order: Order, items: list[matching.RankedItem], first_rank: int = 1
) -> list[Candidate]:
    ids = [item.id for item in items]
    if not ids:
        return []
    rows = session.exec(
        select(Offer, Organisation)
        .join(Organisation, col(Organisation.id) == col(Offer.organisation_id))
        .where(col(Offer.id).in_(ids))
    ).all()
    offers = {offer.id: (offer, org) for offer, org in rows}
    org_ids = {offer.organisation_id for offer, _ in rows}
    held = matching.valid_qualifications(session, org_ids, _today(clock))
    records = matching.supplier_records(session, org_ids)
    decisions: dict[int, str] = {}
    for interest in session.exec(
        select(Interest).where(
            col(Interest.order_id) == order.id,
            col(Interest.offer_id).in_(ids),
            col(Interest.kind).in_([InterestKind.SHORTLIST, InterestKind.REJECTION]),
        )
    ).all():
        decisions[interest.offer_id] = interest.kind.value
    intents = {
        intent.offer_id: intent
        for intent in session.exec(
            select(IntentOrder)
            .where(col(IntentOrder.order_id) == order.id, col(IntentOrder.offer_id).in_(ids))
            .order_by(col(IntentOrder.id))
        ).all()
    }
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


def _shortlisted(session: Session, order: Order) -> list[tuple[Offer, str, IntentOrder | None]]:
    rows = session.exec(
        select(Offer, Organisation.name)
        .join(Interest, col(Interest.offer_id) == col(Offer.id))
        .join(Organisation, col(Organisation.id) == col(Offer.organisation_id))
        .where(col(Interest.order_id) == order.id, col(Interest.kind) == InterestKind.SHORTLIST)
        .order_by(col(Interest.created_at))
    ).all()
    intents = {
        intent.offer_id: intent
        for intent in session.exec(
            select(IntentOrder).where(col(IntentOrder.order_id) == order.id).order_by(col(IntentOrder.id))
        ).all()
    }
    return [(offer, name, intents.get(offer.id or 0)) for offer, name in rows]


@router.get("/orders/{order_id}")
def order_page(
    request: Request,
    order_id: PathId,
    user: FirmPage,
    session: SessionDep,
    engine: EngineDep,
    clock: ClockDep,
    store: OfferIndexDep,
) -> Response:
    order = _own_order(session, user, order_id)
    filters = _filters(request)
    items, total = _rank(engine, clock, store, user, order, filters)
    candidates = _candidates(session, clock, order, items)
    return _page(
        request,
        "order.html",
        user,
        order=order,
        candidates=candidates,
        total=total,
        filters=filters,
        shortlisted=_shortlisted(session, order),
    )


@router.get("/orders/{order_id}/compare")
def compare(
    request: Request,
    order_id: PathId,
    user: FirmPage,
    session: SessionDep,
    engine: EngineDep,
    clock: ClockDep,
    store: OfferIndexDep,
) -> Response:
    order = _own_order(session, user, order_id)
    wanted: list[int] = []
    for raw in request.query_params.getlist("offer"):
        if raw.isdigit() and int(raw) not in wanted:
            wanted.append(int(raw))
    if not 2 <= len(wanted) <= 4:
        return redirect(
            f"/firm/orders/{order_id}",
            ("error", "请勾选2至4家供应商再进行对比", "Tick two to four suppliers to compare them side by side"),
        )
    items, _ = _rank(engine, clock, store, user, order, MatchFilters(min_score="0"))
    by_id = {item.id: (rank, item) for rank, item in enumerate(items, 1)}
    missing = [i for i in wanted if i not in by_id]
    if missing:
        raise NotFound.of("匹配的供应商", "Ranked offer", missing[0])
    columns: list[Candidate] = []
    for offer_id in wanted:
        rank, item = by_id[offer_id]
        columns.extend(_candidates(session, clock, order, [item], rank))
    feature_names = [name for name in FEATURES if any(name in by_id[i][1].contributions for i in wanted)]
    contributions = {offer_id: dict(by_id[offer_id][1].contributions) for offer_id in wanted}
    return _page(
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


def _note(form: FormData) -> str:
    return form_values(form, "note")["note"][:1000]


@router.post("/orders/{order_id}/shortlist")
def shortlist(order_id: PathId, user: FirmPage, form: FormDep, engine: EngineDep, clock: ClockDep) -> Response:
    back = f"/firm/orders/{order_id}"
    return act(
        lambda: marketplace.shortlist(UnitOfWork(engine, clock), user.actor, order_id, _offer_id(form), _note(form)),
        ok_url=back,
        ok=("已加入入围名单，可向其发起意向订单", "Shortlisted; you can now propose an intent order"),
        back_url=back,
    )


@router.post("/orders/{order_id}/reject")
def reject(order_id: PathId, user: FirmPage, form: FormDep, engine: EngineDep, clock: ClockDep) -> Response:
    back = f"/firm/orders/{order_id}"
    return act(
        lambda: marketplace.reject_offer(UnitOfWork(engine, clock), user.actor, order_id, _offer_id(form), _note(form)),
        ok_url=back,
        ok=("已淘汰该供应商", "Supplier ruled out"),
        back_url=back,
    )


# ------------------------------------------------------------------------------------------ intent orders


def _shortlisted_offer(session: Session, order: Order, offer_id: int) -> tuple[Offer, str]:
    row = session.exec(
        select(Offer, Organisation.name)
        .join(Interest, col(Interest.offer_id) == col(Offer.id))
        .join(Organisation, col(Organisation.id) == col(Offer.organisation_id))
        .where(
            col(Interest.order_id) == order.id,
            col(Interest.offer_id) == offer_id,
            col(Interest.kind) == InterestKind.SHORTLIST,
        )
    ).first()
    if row is None:
        raise NotFound.of("入围供应商", "Shortlisted offer", offer_id)
    return row[0], row[1]


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
    return _page(
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
    order = _own_order(session, user, order_id)
    offer, supplier = _shortlisted_offer(session, order, offer_id)
    amount = min(order.budget_fen, max(offer.price_min_fen, 1))
    values = {"amount": str(fen_to_yuan(amount)), "delivery_due": order.deadline.isoformat(), "terms": ""}
    return _propose_form(request, user, order, offer, supplier, values)


@router.post("/orders/{order_id}/propose/{offer_id}")
def propose(
    request: Request,
    order_id: PathId,
    offer_id: PathId,
    user: FirmPage,
    form: FormDep,
    session: SessionDep,
    engine: EngineDep,
    clock: ClockDep,
) -> Response:
    order = _own_order(session, user, order_id)
    offer, supplier = _shortlisted_offer(session, order, offer_id)
    values = form_values(form, *INTENT_FIELDS)
    try:
        intent = marketplace.propose_intent_order(
            UnitOfWork(engine, clock), user.actor, {"order_id": order_id, "offer_id": offer_id, **values}
        )
    except DomainError as exc:
        errors, message = _refused(exc)
        return _propose_form(request, user, order, offer, supplier, values, errors, message, status_code=422)
    return redirect(
        "/firm/deals",
        (
            "ok",
            f"意向订单 #{intent.id} 已发出并由我方签署，等待{supplier}签署",
            f"Intent order #{intent.id} proposed and signed by you; waiting for {supplier} to sign",
        ),
    )


@router.get("/deals")
def deals(request: Request, user: FirmPage, session: SessionDep) -> Response:
    org = user.organisation_id
    intents = list(
        session.exec(
            select(IntentOrder)
            .where(col(IntentOrder.buyer_id) == org)
            .order_by(col(IntentOrder.proposed_at).desc(), col(IntentOrder.id).desc())
            .limit(200)
        ).all()
    )
    contracts = list(
        session.exec(
            select(Contract).where(col(Contract.buyer_id) == org).order_by(col(Contract.signed_at).desc()).limit(200)
        ).all()
    )
    names = _names(session, {i.supplier_id for i in intents} | {c.supplier_id for c in contracts})
    waiting = [i for i in intents if i.status == IntentStatus.PROPOSED and i.buyer_signed_at is None]
    others = [i for i in intents if i not in waiting]
    return _page(
        request, "deals.html", user, waiting=waiting, intents=others, contracts=contracts, names=names, org_id=org
    )


@router.post("/deals/{intent_id}/sign")
def sign_intent(intent_id: PathId, user: FirmPage, form: FormDep, engine: EngineDep, clock: ClockDep) -> Response:
    return act(
        lambda: marketplace.sign_intent_order(UnitOfWork(engine, clock), user.actor, intent_id),
        ok_url="/firm/deals",
        ok=("已签署意向订单，合同已生成", "Intent order signed; the contract is in place"),
        back_url="/firm/deals",
    )


@router.post("/deals/{intent_id}/cancel")
def cancel_intent(intent_id: PathId, user: FirmPage, form: FormDep, engine: EngineDep, clock: ClockDep) -> Response:
    return act(
        lambda: marketplace.cancel_intent_order(UnitOfWork(engine, clock), user.actor, intent_id),
        ok_url="/firm/deals",
        ok=("意向订单已撤销", "Intent order cancelled"),
        back_url="/firm/deals",
    )


# ------------------------------------------------------------------------------------------ receivables


def _receivables_page(
    request: Request,
    user: WebUser,
    session: Session,
    *,
    failures: list[dict[str, Any]] | None = None,
    failure_message: tuple[str, str] | None = None,
    ticked: set[int] | None = None,
    status_code: int = 200,
) -> Response:
    org = user.organisation_id
    pending = list(
        session.exec(
            select(Receivable)
            .where(col(Receivable.debtor_id) == org, col(Receivable.status) == ReceivableStatus.REGISTERED)
            .order_by(col(Receivable.due_date), col(Receivable.id))
            .limit(500)
        ).all()
    )
    confirmed = list(
        session.exec(
            select(Receivable)
            .where(col(Receivable.debtor_id) == org, col(Receivable.status).in_(CONFIRMED_STATES))
            .order_by(col(Receivable.confirmed_at).desc(), col(Receivable.id).desc())
            .limit(100)
        ).all()
    )
    names = _names(session, {r.creditor_id for r in pending} | {r.creditor_id for r in confirmed})
    return _page(
        request,
        "receivables.html",
        user,
        status_code=status_code,
        pending=pending,
        confirmed=confirmed,
        names=names,
        failures=failures or [],
        failure_message=failure_message,
        ticked=ticked or set(),
    )


@router.get("/receivables")
def receivables(request: Request, user: FirmPage, session: SessionDep) -> Response:
    return _receivables_page(request, user, session)


def _undertaking(form: FormData) -> bool:
    return form.get("irrevocable_undertaking") in ("true", "on", "1")


@router.post("/receivables/{receivable_id}/confirm")
def confirm_receivable(
    receivable_id: PathId, user: FirmPage, form: FormDep, engine: EngineDep, clock: ClockDep
) -> Response:
    data = {"receivable_id": receivable_id, "irrevocable_undertaking": _undertaking(form)}
    return act(
        lambda: fs.confirm_receivable(UnitOfWork(engine, clock), user.actor, data),
        ok_url="/firm/receivables",
        ok=(f"应收账款 #{receivable_id} 已确权", f"Receivable #{receivable_id} confirmed"),
        back_url="/firm/receivables",
    )


@router.post("/receivables/confirm-batch")
def confirm_batch(
    request: Request, user: FirmPage, form: FormDep, session: SessionDep, engine: EngineDep, clock: ClockDep
) -> Response:
    ids = sorted({int(v) for v in form.getlist("receivable_id") if isinstance(v, str) and v.isdigit()})
    if not ids:
        return redirect(
            "/firm/receivables", ("error", "请先勾选要批量确权的应收账款", "Tick the receivables to confirm first")
        )
    undertaking = _undertaking(form)
    items = [{"receivable_id": i, "irrevocable_undertaking": undertaking} for i in ids]
    try:
        done = fs.confirm_receivables(UnitOfWork(engine, clock), user.actor, items)
    except DomainError as exc:
        failures = exc.detail if isinstance(exc.detail, list) else []
        return _receivables_page(
            request,
            user,
            session,
            failures=[f for f in failures if isinstance(f, dict)],
            failure_message=(exc.message_zh, exc.message_en),
            ticked=set(ids),
            status_code=422,
        )
    return redirect(
        "/firm/receivables",
        ("ok", f"已批量确权{len(done)}笔应收账款", f"{len(done)} receivables confirmed in one batch"),
    )


@router.post("/receivables/{receivable_id}/dispute")
def dispute_receivable(
    receivable_id: PathId, user: FirmPage, form: FormDep, engine: EngineDep, clock: ClockDep
) -> Response:
    reason = form_values(form, "reason")["reason"]
    return act(
        lambda: fs.dispute_receivable(UnitOfWork(engine, clock), user.actor, receivable_id, reason),
        ok_url="/firm/receivables",
        ok=(
            f"已拒绝确权应收账款 #{receivable_id}，债权人会收到您的理由",
            f"Receivable #{receivable_id} disputed; the creditor sees your reason",
        ),
        back_url="/firm/receivables",
    )


# ------------------------------------------------------------------------------------------ repayments


@dataclass
class LoanRow:
    loan: Loan
    owed_fen: int
    principal_fen: int
    interest_fen: int
    fees_fen: int
    penalty_fen: int
    days: int  # days to the due date (negative: overdue)
    sme: str
    bank: str
    key: str  # the idempotency key of this page's repayment form

    @property
    def tone(self) -> str:
        if self.days < 0:
            return "breached"
        return "at-risk" if self.days <= 7 else ""

    @property
    def amount(self) -> str:
        return str(fen_to_yuan(self.owed_fen))


@router.get("/repayments")
def repayments(request: Request, user: FirmPage, session: SessionDep, clock: ClockDep) -> Response:
    today = _today(clock)
    # The firm repays the receivable loans it owes; a contract loan is repaid by its payments into the contract
    # (shown on the contract's page) and a drawdown by the SME.
    loans = [loan for loan in fs.loans_of(session, user.actor) if loan.kind == FinanceKind.RECEIVABLE]
    names = _names(session, {loan.sme_id for loan in loans} | {loan.bank_id for loan in loans})
    open_rows: list[LoanRow] = []
    repaid: list[Loan] = []
    for loan in loans:
        if loan.status == LoanStatus.REPAID:
            repaid.append(loan)
            continue
        assert loan.id is not None
        owed = fs.loan_outstanding(session, loan.id, as_of=today)  # to settle it today: interest to the day
        open_rows.append(
            LoanRow(
                loan=loan,
                owed_fen=owed.total_fen,
                principal_fen=owed.principal_fen,
                interest_fen=owed.interest_fen,
                fees_fen=owed.fees_fen,
                penalty_fen=owed.penalty_fen,
                days=(loan.due_date - today).days,
                sme=names.get(loan.sme_id, "—"),
                bank=names.get(loan.bank_id, "—"),
                key=f"web-{uuid.uuid4().hex}",
            )
        )
    return _page(
        request,
        "repayments.html",
        user,
        loans=open_rows,
        repaid=repaid,
        names=names,
        total_fen=sum(row.owed_fen for row in open_rows),
        soon_days=DUE_SOON_DAYS,
    )


@router.post("/repayments/{loan_id}")
def repay(loan_id: PathId, user: FirmPage, form: FormDep, engine: EngineDep, clock: ClockDep) -> Response:
    values = form_values(form, "amount", "idempotency_key")
    try:
        result = fs.repay_loan(
            UnitOfWork(engine, clock), user.actor, loan_id, values["amount"], values["idempotency_key"]
        )
    except DomainError as exc:
        return redirect("/firm/repayments", error_flash(exc))
    if result.get("replayed"):
        return redirect(
            "/firm/repayments",
            (
                "info",
                f"贷款 #{loan_id} 的这笔还款已处理过，没有重复扣款",
                f"This repayment of loan #{loan_id} was already made; nothing was paid twice",
            ),
        )
    repaid = result.get("status") == LoanStatus.REPAID.value
    return redirect(
        "/firm/repayments",
        (
            "ok",
            f"已向贷款 #{loan_id} 还款 ¥{values['amount']}" + ("，贷款已还清" if repaid else ""),
            f"Repaid ¥{values['amount']} on loan #{loan_id}" + ("; the loan is repaid in full" if repaid else ""),
        ),
    )


# ------------------------------------------------------------------------------------------ contract settlement

#: Names of the settlement's kinds and states, ``value → (中文, English[, badge tone])``; the SME's page uses them too.
SETTLEMENT_LABELS: dict[str, dict[str, tuple[str, ...]]] = {
    "kind": {
        "advance": ("预付款", "Advance"),
        "acceptance": ("验收款", "On acceptance"),
        "final": ("尾款", "Final payment"),
        "retention": ("质保金", "Retention"),
    },
    "instalment": {
        "paid": ("已付清", "Paid", "ok"),
        "overdue": ("已逾期", "Overdue", "bad"),
        "due": ("今日到期", "Due today", "warn"),
        "partly_paid": ("部分支付", "Partly paid", "info"),
        "not_yet_due": ("未到期", "Not yet due", "muted"),
        "awaiting_acceptance": ("待验收", "Awaiting acceptance", "muted"),
    },
    "row": {
        "matched": ("已匹配", "Matched", "ok"),
        "duplicate": ("重复", "Duplicate", "warn"),
        "unknown_reference": ("无法识别的合同", "Unknown reference", "bad"),
        "invalid": ("无效行", "Invalid", "bad"),
    },
    "source": {
        "manual": ("手工登记", "Recorded by hand"),
        "statement": ("对账单导入", "Bank statement"),
    },
}
PLAN_KINDS = ("advance", "acceptance", "final", "retention")
PLAN_FIELDS = (*(f"{kind}_percent" for kind in PLAN_KINDS), "advance_due_on", "acceptance_days", "final_days",
               "retention_days")  # fmt: skip
PAYMENT_FIELDS = ("amount", "paid_on", "reference", "idempotency_key")
CONTRACTS_SHOWN = 200
IMPORTS_SHOWN = 20


@dataclass
class InstalmentRow:
    """One instalment of a plan as the pages show it: its state as of today and its deadline under the 60-day rule."""

    state: settlement_rules.InstalmentState
    deadline: date | None
    capped: bool
    days_late: int


def settlement_rows(view: fs.Settlement) -> list[InstalmentRow]:
    """The plan's instalments with their statutory deadlines (shared with the SME's contract page)."""
    late = {line.index: line for line in view.lateness.lines}
    rows = []
    for state in view.reconciliation.instalments:
        line = late.get(state.index)
        rows.append(
            InstalmentRow(
                state,
                line.deadline if line else state.due_date,
                bool(line and line.capped),
                line.days_late if line else 0,
            )
        )
    return rows


@dataclass
class ContractRow:
    contract: Contract
    supplier: str
    view: fs.Settlement


def _percent_text(amount_fen: int, total_fen: int) -> str:
    value = Decimal(amount_fen * 100) / Decimal(total_fen)
    return f"{value.quantize(Decimal('0.0001')).normalize():f}"


def _plan_values(view: fs.Settlement) -> dict[str, str]:
    """The plan form filled with the contract's plan (the statutory default until one is set)."""
    values = dict.fromkeys(PLAN_FIELDS, "")
    values.update(acceptance_days="30", final_days="60", retention_days="365")
    values["advance_due_on"] = (view.plan.contract_on + timedelta(days=7)).isoformat()
    for item in view.plan.instalments:
        kind = item.kind.value
        values[f"{kind}_percent"] = _percent_text(item.amount_fen, view.plan.contract_amount_fen)
        if item.due_on is not None and kind == "advance":
            values["advance_due_on"] = item.due_on.isoformat()
        elif item.days_after_acceptance is not None and kind != "advance":
            values[f"{kind}_days"] = str(item.days_after_acceptance)
    return values


def _own_contract(session: Session, user: WebUser, contract_id: int) -> Contract:
    """A contract the firm buys under; any other is a 404 page."""
    contract = session.get(Contract, contract_id)
    if contract is None or contract.buyer_id != user.organisation_id:
        raise NotFound.of("合同", "Contract", contract_id)
    return contract


def _recent_imports(session: Session, user: WebUser) -> list[BankStatementImport]:
    return list(
        session.exec(
            select(BankStatementImport)
            .where(col(BankStatementImport.importer_id) == user.organisation_id)
            .order_by(col(BankStatementImport.imported_at).desc(), col(BankStatementImport.id).desc())
            .limit(IMPORTS_SHOWN)
        ).all()
    )


def _contracts_page(
    request: Request,
    user: WebUser,
    session: Session,
    clock: Clock,
    *,
    import_error: tuple[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    today = _today(clock)
    contracts = list(
        session.exec(
            select(Contract)
            .where(col(Contract.buyer_id) == user.organisation_id)
            .order_by(col(Contract.signed_at).desc(), col(Contract.id).desc())
            .limit(CONTRACTS_SHOWN)
        ).all()
    )
    names = _names(session, {c.supplier_id for c in contracts})
    rows = []
    for contract in contracts:
        assert contract.id is not None
        view = fs.contract_settlement(session, user.actor, contract.id, today)
        rows.append(ContractRow(contract, names.get(contract.supplier_id, "—"), view))
    return _page(
        request,
        "contracts.html",
        user,
        status_code=status_code,
        rows=rows,
        late_count=sum(1 for r in rows if r.view.lateness.is_late),
        outstanding_fen=sum(r.view.outstanding_fen for r in rows),
        overdue_fen=sum(r.view.overdue_fen for r in rows),
        imports=_recent_imports(session, user),
        import_error=import_error,
        labels=SETTLEMENT_LABELS,
        max_kb=settlement_rules.MAX_STATEMENT_BYTES // 1024,
    )


@router.get("/contracts")
def contracts(request: Request, user: FirmPage, session: SessionDep, clock: ClockDep) -> Response:
    return _contracts_page(request, user, session, clock)


def _contract_page(
    request: Request,
    user: WebUser,
    session: Session,
    clock: Clock,
    contract_id: int,
    *,
    status_code: int = 200,
    plan: dict[str, str] | None = None,
    accept: dict[str, str] | None = None,
    pay: dict[str, str] | None = None,
    errors: dict[str, tuple[str, str]] | None = None,
    message: tuple[str, str, str] | None = None,
    import_error: tuple[str, str] | None = None,
) -> Response:
    """The contract's settlement and its forms; a refused form comes back with what was typed, its errors and a
    message at its top (``message``: (form, 中文, English))."""
    contract = _own_contract(session, user, contract_id)
    today = _today(clock)
    view = fs.contract_settlement(session, user.actor, contract_id, today)
    open_ = contract.status in (ContractStatus.ACTIVE, ContractStatus.DELIVERED)
    return _page(
        request,
        "contract.html",
        user,
        status_code=status_code,
        contract=contract,
        supplier=_names(session, {contract.supplier_id}).get(contract.supplier_id, "—"),
        view=view,
        rows=settlement_rows(view),
        today=today,
        labels=SETTLEMENT_LABELS,
        can_plan=open_ and not view.payments,
        can_accept=contract.accepted_on is None and contract.status == ContractStatus.ACTIVE,
        can_pay=open_,
        plan_values=plan or _plan_values(view),
        accept_values=accept or {"accepted_on": today.isoformat()},
        pay_values=pay or {"paid_on": today.isoformat(), "idempotency_key": f"web-{uuid.uuid4().hex}"},
        errors=errors or {},
        message=message,
        import_error=import_error,
        max_kb=settlement_rules.MAX_STATEMENT_BYTES // 1024,
    )


@router.get("/contracts/{contract_id}")
def contract_page(
    request: Request, contract_id: PathId, user: FirmPage, session: SessionDep, clock: ClockDep
) -> Response:
    return _contract_page(request, user, session, clock, contract_id)


def _form_field(exc: DomainError, fields: tuple[str, ...], default: str) -> dict[str, tuple[str, str]]:
    """The field a refusal names (``detail["field"]``) when the form has it, else the form's *default* field."""
    detail = exc.detail
    name = str(detail.get("field", "")) if isinstance(detail, dict) else ""
    return {name if name in fields else default: (exc.message_zh, exc.message_en)}


def _plan_terms(values: dict[str, str]) -> tuple[list[settlement_rules.PlanTerm], dict[str, tuple[str, str]]]:
    """The plan form → percentage terms (a blank or zero percentage leaves that instalment out) and field errors."""
    terms: list[settlement_rules.PlanTerm] = []
    errors: dict[str, tuple[str, str]] = {}
    for kind in PLAN_KINDS:
        name = f"{kind}_percent"
        raw = values[name].removesuffix("%").strip()
        if not raw:
            continue
        try:
            percent = Decimal(raw)
        except InvalidOperation:
            percent = Decimal("NaN")
        if not percent.is_finite() or not 0 <= percent <= 100:
            errors[name] = (
                "比例须是 0 到 100 之间的数字，如 30 或 12.5",
                "A percentage from 0 to 100, e.g. 30 or 12.5",
            )
            continue
        if percent == 0:
            continue
        weight: int | Decimal = int(percent) if percent == percent.to_integral_value() else percent
        instalment = settlement_rules.InstalmentKind(kind)
        if kind == "advance":
            try:
                due = date.fromisoformat(values["advance_due_on"])
            except ValueError:
                errors["advance_due_on"] = ("请填写预付款的付款日期", "Give the date the advance is due")
                continue
            terms.append(settlement_rules.PlanTerm(instalment, weight, due_on=due))
            continue
        days = values[f"{kind}_days"]
        if not (days.isascii() and days.isdigit()) or int(days) > settlement_rules.MAX_DAYS_AFTER_ACCEPTANCE:
            errors[f"{kind}_days"] = (
                f"验收后天数须是 0 到 {settlement_rules.MAX_DAYS_AFTER_ACCEPTANCE} 的整数",
                f"Days after acceptance: a whole number from 0 to {settlement_rules.MAX_DAYS_AFTER_ACCEPTANCE}",
            )
            continue
        terms.append(settlement_rules.PlanTerm(instalment, weight, days_after_acceptance=int(days)))
    if not terms and not errors:
        errors["final_percent"] = ("请至少填写一期的比例", "Give the percentage of at least one instalment")
    return terms, errors


@router.post("/contracts/{contract_id}/plan")
def set_plan(
    request: Request,
    contract_id: PathId,
    user: FirmPage,
    form: FormDep,
    session: SessionDep,
    engine: EngineDep,
    clock: ClockDep,
) -> Response:
    _own_contract(session, user, contract_id)
    values = form_values(form, *PLAN_FIELDS)
    terms, errors = _plan_terms(values)
    if not errors:
        try:
            fs.set_payment_plan(UnitOfWork(engine, clock), user.actor, contract_id, percentages=terms)
        except DomainError as exc:
            message = ("plan", exc.message_zh, exc.message_en)
            return _contract_page(request, user, session, clock, contract_id, status_code=422, plan=values,
                                  message=message)  # fmt: skip
        return redirect(
            f"/firm/contracts/{contract_id}",
            ("ok", "付款计划已保存，各期到期日见下表", "Payment plan saved; each instalment's due date is below"),
        )
    return _contract_page(request, user, session, clock, contract_id, status_code=422, plan=values, errors=errors)


@router.post("/contracts/{contract_id}/accept")
def accept_delivery(
    request: Request,
    contract_id: PathId,
    user: FirmPage,
    form: FormDep,
    session: SessionDep,
    engine: EngineDep,
    clock: ClockDep,
) -> Response:
    _own_contract(session, user, contract_id)
    values = form_values(form, "accepted_on")
    try:
        accepted_on = date.fromisoformat(values["accepted_on"])
    except ValueError:
        errors = {"accepted_on": ("请填写验收日期", "Give the date the delivery was accepted")}
        return _contract_page(request, user, session, clock, contract_id, status_code=422, accept=values, errors=errors)
    try:
        fs.accept_delivery(UnitOfWork(engine, clock), user.actor, contract_id, accepted_on)
    except DomainError as exc:
        errors = _form_field(exc, ("accepted_on",), "accepted_on")
        return _contract_page(request, user, session, clock, contract_id, status_code=422, accept=values, errors=errors)
    deadline = accepted_on + timedelta(days=settlement_rules.MAX_PAYMENT_DAYS_AFTER_ACCEPTANCE)
    return redirect(
        f"/firm/contracts/{contract_id}",
        (
            "ok",
            f"已于 {accepted_on} 验收；验收款与尾款最迟应于 {deadline} 前付清（60日规则）",
            f"Accepted on {accepted_on}; the acceptance and final payments are due by {deadline} at the latest "
            "(the 60-day rule)",
        ),
    )


@router.post("/contracts/{contract_id}/payments")
def record_payment(
    request: Request,
    contract_id: PathId,
    user: FirmPage,
    form: FormDep,
    session: SessionDep,
    engine: EngineDep,
    clock: ClockDep,
) -> Response:
    _own_contract(session, user, contract_id)
    values = form_values(form, *PAYMENT_FIELDS)
    errors: dict[str, tuple[str, str]] = {}
    amount_fen = 0
    try:
        amount_fen = yuan_to_fen(values["amount"])
    except DomainError as exc:
        errors["amount"] = (exc.message_zh, exc.message_en)
    try:
        paid_on = date.fromisoformat(values["paid_on"])
    except ValueError:
        errors["paid_on"] = ("请填写付款日期", "Give the date of the payment")
    ref = values["reference"] or values["idempotency_key"]
    if not ref:
        errors["reference"] = ("请填写付款的银行流水号或凭证号", "Give the payment's bank reference")
    if errors:
        return _contract_page(request, user, session, clock, contract_id, status_code=422, pay=values, errors=errors)
    try:
        done = fs.record_payment(UnitOfWork(engine, clock), user.actor, contract_id, ref, amount_fen, paid_on)
    except DomainError as exc:
        errors = _form_field(exc, ("amount", "paid_on", "reference"), "amount")
        if isinstance(exc, InvalidInput):
            return _contract_page(request, user, session, clock, contract_id, status_code=422, pay=values,
                                  errors=errors)  # fmt: skip
        message = ("pay", exc.message_zh, exc.message_en)
        return _contract_page(request, user, session, clock, contract_id, status_code=422, pay=values, message=message)
    here = f"/firm/contracts/{contract_id}"
    amount = fen_to_yuan(amount_fen)
    if not done.created:
        return redirect(
            here,
            (
                "info",
                f"这笔付款（{ref}）已登记过，没有重复记录",
                f"This payment ({ref}) was recorded before; not twice",
            ),
        )
    zh, en = f"已登记付款 ¥{amount}", f"Payment of ¥{amount} recorded"
    if done.surplus_fen:
        surplus = fen_to_yuan(done.surplus_fen)
        zh, en = zh + f"；超出应付 ¥{surplus}，请与供应商约定退还", en + f"; ¥{surplus} beyond what is owed, to refund"
    if done.completed:
        zh, en = zh + "；合同已结清", en + "; the contract is settled"
    return redirect(here, ("ok", zh, en))


@router.post("/statements")
async def upload_statement(
    request: Request, user: FirmPage, form: FormDep, session: SessionDep, engine: EngineDep, clock: ClockDep
) -> Response:
    back = form_values(form, "contract_id")["contract_id"]
    contract_id = int(back) if back.isascii() and back.isdigit() and 0 < int(back) < 2**31 else None

    def refused(zh: str, en: str) -> Response:
        if contract_id is not None:
            return _contract_page(request, user, session, clock, contract_id, status_code=422, import_error=(zh, en))
        return _contracts_page(request, user, session, clock, import_error=(zh, en), status_code=422)

    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return refused("请选择要导入的对账单文件（CSV）", "Choose the statement file (CSV) to import")
    data = await upload.read(settlement_rules.MAX_STATEMENT_BYTES + 1)
    filename = upload.filename
    # Only reading the upload is asynchronous: the import and the pages talk to the database, in a worker thread
    # so that the event loop keeps serving other requests meanwhile.
    return await run_in_threadpool(lambda: _import_and_answer(user, engine, clock, filename, data, refused))


def _import_and_answer(
    user: WebUser,
    engine: Engine,
    clock: Clock,
    filename: str,
    data: bytes,
    refused: Callable[[str, str], Response],
) -> Response:
    try:
        rows = settlement_rules.read_statement_csv(data)
        result = fs.import_statement(UnitOfWork(engine, clock), user.actor, filename, rows)
    except DomainError as exc:
        return refused(exc.message_zh, exc.message_en)
    statement = result.statement
    return redirect(
        f"/firm/statements/{statement.id}",
        (
            "ok",
            f"对账单已导入：{statement.matched_count} 笔已匹配入账，{statement.duplicate_count} 笔重复，"
            f"{statement.unknown_count} 笔无法识别，{statement.invalid_count} 行无效",
            f"Statement imported: {statement.matched_count} matched and recorded, {statement.duplicate_count} "
            f"duplicate, {statement.unknown_count} unknown reference, {statement.invalid_count} invalid",
        ),
    )


@router.get("/statements/{import_id}")
def statement_report(request: Request, import_id: PathId, user: FirmPage, session: SessionDep) -> Response:
    result = fs.statement_import(session, user.actor, import_id)
    titles = dict(
        session.exec(
            select(Contract.id, Contract.title).where(
                col(Contract.id).in_(sorted({r.contract_id for r in result.rows if r.contract_id is not None}))
            )
        ).all()
    )
    return _page(
        request,
        "statement.html",
        user,
        statement=result.statement,
        rows=result.rows,
        titles=titles,
        labels=SETTLEMENT_LABELS,
    )
