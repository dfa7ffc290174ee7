"""The SME's portal (中小企业): offers (one by one or imported from a spreadsheet), the open orders matched to them
with the reasons, interest and intent orders, receivables, and the finance wizard with its 48-hour timeline.

Routes are thin: they read (scoped to the SME's own organisation), call one use case, and render.  Another
organisation's record answers with the 404 page, as the use cases report it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import and_, func, or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from api.deps import ClockDep, EngineDep, SessionDep, SettingsDep
from api.finance_schemas import TimelinePublic
from api.web import labels
from api.web.pages.firm import SETTLEMENT_LABELS, settlement_rows
from api.web.render import act, field_errors, form_values, redirect, render
from api.web.session import FormDep, SmePage, WebUser
from finance import service as fs
from finance.limits import BindingConstraint, add_months
from finance.service import common as finance_common
from finance.service.applications import REVIEW_QUEUE_STATES
from market import offer_import
from market import service as marketplace
from matcher import service as matching
from qianfan import jobs as job_service
from qianfan import notifications
from qianfan.clock import Clock, to_local
from qianfan.errors import Conflict, DomainError, InvalidInput, NotFound, RuleViolation
from qianfan.models import (
    ApplicationStatus,
    BankProduct,
    Contract,
    ContractStatus,
    CreditLine,
    FinanceApplication,
    FinanceKind,
    IntentOrder,
    IntentStatus,
    Interest,
    InterestKind,
    Loan,
    LoanStatus,
    Offer,
    OfferKind,
    OfferStatus,
    Order,
    OrderStatus,
    Organisation,
    OrgKind,
    PartState,
    Receivable,
    ReceivablePart,
    ReceivableStatus,
    SmeCreditLine,
    SmeLineStatus,
)
from qianfan.money import MAX_DEAL_FEN, fen_to_yuan, format_yuan, yuan_to_fen
from qianfan.uow import UnitOfWork

router = APIRouter(prefix="/sme", include_in_schema=False)

#: Refusals a form shows beside what was typed (422); a record that is not the SME's stays a 404 page.
FormRefusal = (InvalidInput, RuleViolation, Conflict)

OFFER_TEXT_FIELDS = ("kind", "title", "description", "category", "price_min", "price_max", "capacity", "keywords")
KIND_NAMES: dict[str, tuple[str, str]] = {
    OfferKind.PRODUCT.value: ("产品", "Product"),
    OfferKind.TECHNOLOGY.value: ("技术", "Technology"),
    OfferKind.SERVICE.value: ("服务", "Service"),
}
INTENT_NAMES: dict[str, tuple[str, str]] = {
    IntentStatus.PROPOSED.value: ("待签署", "Proposed"),
    IntentStatus.SIGNED.value: ("双方已签署", "Signed by both"),
    IntentStatus.CANCELLED.value: ("已撤销", "Cancelled"),
}
INTEREST_NAMES: dict[str, tuple[str, str]] = {
    InterestKind.INTEREST.value: ("已表达意向", "Interest expressed"),
    InterestKind.SHORTLIST.value: ("买方已入围", "Shortlisted by the buyer"),
    InterestKind.REJECTION.value: ("买方未选用", "Not selected by the buyer"),
}
#: The matcher's features, as a person reads them.
REASON_NAMES: dict[str, tuple[str, str]] = {
    "word": ("关键词相同", "Shared keywords"),
    "char": ("描述用词相近", "Similar wording"),
    "title": ("标题相似", "Similar title"),
    "category": ("类别相同", "Same category"),
    "district": ("同一园区", "Same branch park"),
    "budget": ("预算覆盖报价", "Budget covers your price"),
    "dense": ("语义相近", "Similar meaning"),
    "record": ("平台履约记录", "Track record on the platform"),
}
RECEIVABLE_NAMES = labels.RECEIVABLE_STATES
APPLICATION_NAMES = labels.APPLICATION_STATES
STAGE_NAMES = labels.STAGES
MAIN_STAGES = ("risk_check", "bank_review", "sme_signature", "disbursement")
CAP_NAMES: dict[str, tuple[str, str]] = {c.value: (c.label_zh, c.label_en) for c in BindingConstraint}
OPEN_APPLICATION_STATES = (
    ApplicationStatus.SUBMITTED,
    *REVIEW_QUEUE_STATES,
    ApplicationStatus.APPROVED,
    ApplicationStatus.OFFER_SIGNED,
)
BEFORE_SIGNATURE = (ApplicationStatus.SUBMITTED, *REVIEW_QUEUE_STATES, ApplicationStatus.APPROVED)
MATCHES_PER_OFFER = 20
MATCHES_SHOWN = 60


# ------------------------------------------------------------------------------------------ small reads


def _names(session: Session, ids: Sequence[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.exec(select(Organisation.id, Organisation.name).where(col(Organisation.id).in_(set(ids)))).all()
    return {i: n for i, n in rows if i is not None}


def _my_offers(session: Session, org_id: int, *, active_only: bool = False) -> list[Offer]:
    stmt = select(Offer).where(col(Offer.organisation_id) == org_id)
    if active_only:
        stmt = stmt.where(col(Offer.status) == OfferStatus.ACTIVE)
    return list(session.exec(stmt.order_by(col(Offer.status), col(Offer.id).desc())).all())


def _own_offer(session: Session, org_id: int, offer_id: int) -> Offer:
    offer = session.get(Offer, offer_id)
    if offer is None or offer.organisation_id != org_id:
        raise NotFound.of("产品/服务", "Offer", offer_id)
    return offer


def _receivable_scope(org_id: int) -> Any:
    """Receivables the SME registered or holds a part of (as the API's list scopes them)."""
    held = select(ReceivablePart.receivable_id).where(col(ReceivablePart.holder_id) == org_id)
    return or_(col(Receivable.creditor_id) == org_id, col(Receivable.id).in_(held))


def _financeable_parts(session: Session, org_id: int) -> list[tuple[ReceivablePart, Receivable]]:
    """The parts the SME holds of confirmed receivables, not yet in an application: what it can finance."""
    rows = session.exec(
        select(ReceivablePart, Receivable)
        .join(Receivable, col(Receivable.id) == col(ReceivablePart.receivable_id))
        .where(
            col(ReceivablePart.holder_id) == org_id,
            col(ReceivablePart.status) == PartState.HELD,
            col(Receivable.status).in_(
                [ReceivableStatus.CONFIRMED, ReceivableStatus.SPLIT, ReceivableStatus.PARTLY_TRANSFERRED]
            ),
        )
        .order_by(col(Receivable.due_date), col(ReceivablePart.id))
    ).all()
    return [(p, r) for p, r in rows]


def _own_application(session: Session, org_id: int, application_id: int) -> FinanceApplication:
    app = session.get(FinanceApplication, application_id)
    if app is None or app.applicant_id != org_id:
        raise NotFound.of("融资申请", "Finance application", application_id)
    return app


def _reasons(item: matching.RankedItem) -> list[tuple[str, str, float]]:
    """The features that lifted a match, largest first: ``(中文, English, share)``."""
    out = []
    for name, value in sorted(item.contributions.items(), key=lambda kv: -kv[1]):
        if value <= 0.0005:
            continue
        zh, en = REASON_NAMES.get(name, (name, name))
        out.append((zh, en, value))
    return out


def _ranked_for_offer(engine: Any, clock: Any, user: Any, offer_id: int, limit: int) -> list[matching.RankedItem]:
    return matching.rank_orders_for_offer(engine, clock, offer_id, limit=limit, actor=user.actor).items


# ------------------------------------------------------------------------------------------ home


@router.get("")
def home(request: Request, user: SmePage, session: SessionDep, clock: ClockDep) -> Response:
    org = user.organisation_id
    offers = _my_offers(session, org)
    active = [o for o in offers if o.status == OfferStatus.ACTIVE]
    offer_ids = [o.id for o in offers if o.id is not None]
    waiting = session.exec(
        select(func.count())
        .select_from(IntentOrder)
        .where(
            col(IntentOrder.supplier_id) == org,
            col(IntentOrder.status) == IntentStatus.PROPOSED,
            col(IntentOrder.supplier_signed_at).is_(None),
        )
    ).one()
    interested = (
        session.exec(
            select(func.count(func.distinct(Interest.order_id))).where(col(Interest.offer_id).in_(offer_ids))
        ).one()
        if offer_ids
        else 0
    )
    confirmed = session.exec(
        select(func.count(), func.coalesce(func.sum(ReceivablePart.amount_fen), 0))
        .select_from(ReceivablePart)
        .join(Receivable, col(Receivable.id) == col(ReceivablePart.receivable_id))
        .where(
            col(ReceivablePart.holder_id) == org,
            col(ReceivablePart.status) == PartState.HELD,
            col(Receivable.status) != ReceivableStatus.REGISTERED,
        )
    ).one()
    in_progress = session.exec(
        select(FinanceApplication)
        .where(
            col(FinanceApplication.applicant_id) == org,
            col(FinanceApplication.status).in_(OPEN_APPLICATION_STATES),
        )
        .order_by(col(FinanceApplication.deadline_at))
    ).all()
    inbox = notifications.inbox(session, user.user_id, limit=5)
    context = {
        "active_offers": len(active),
        "offers_total": len(offers),
        "interested": int(interested),
        "waiting": int(waiting),
        "confirmed_count": int(confirmed[0]),
        "confirmed_fen": int(confirmed[1]),
        "in_progress": in_progress,
        "inbox": inbox,
        "now": clock.now(),
    }
    return render(request, "sme/home.html", context, user=user)


# ------------------------------------------------------------------------------------------ offers


@router.get("/offers")
def offers_page(request: Request, user: SmePage, session: SessionDep) -> Response:
    offers = _my_offers(session, user.organisation_id)
    return render(request, "sme/offers.html", {"offers": offers, "kind_names": KIND_NAMES}, user=user)


def _offer_data(form: FormData, *, with_kind: bool = True) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """The use case's input from the form, the typed text (to show again) and the ticked qualifications."""
    values = form_values(form, *OFFER_TEXT_FIELDS)
    quals = [q for q in form.getlist("qualifications") if isinstance(q, str) and q]
    data: dict[str, Any] = {
        "title": values["title"],
        "description": values["description"],
        "category": values["category"],
        "price_min": values["price_min"],
        "price_max": values["price_max"],
        "capacity": values["capacity"],
        "qualifications": quals,
        "keywords": offer_import.split_list(values["keywords"]),
    }
    if with_kind:
        data["kind"] = values["kind"] or OfferKind.PRODUCT.value
    return data, values, quals


def _offer_form(
    request: Request,
    user: SmePage,
    *,
    offer: Offer | None,
    values: dict[str, str],
    quals: list[str],
    errors: dict[str, tuple[str, str]] | None = None,
    message: tuple[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "offer": offer,
        "values": values,
        "quals": set(quals),
        "errors": errors or {},
        "message": message,
        "kind_names": KIND_NAMES,
    }
    return render(request, "sme/offer_form.html", context, user=user, status_code=status_code)


def _refused(exc: DomainError) -> tuple[dict[str, tuple[str, str]], tuple[str, str] | None]:
    errors = field_errors(exc) if isinstance(exc, InvalidInput) else {}
    if "__root__" in errors:  # a rule across fields (the price range)
        errors["price_max"] = errors.pop("__root__")
    message = None if errors else (exc.message_zh, exc.message_en)
    return errors, message


@router.get("/offers/new")
def new_offer(request: Request, user: SmePage) -> Response:
    return _offer_form(request, user, offer=None, values={"kind": OfferKind.PRODUCT.value}, quals=[])


@router.post("/offers")
def create_offer(request: Request, user: SmePage, form: FormDep, engine: EngineDep, clock: ClockDep) -> Response:
    data, values, quals = _offer_data(form)
    try:
        offer = marketplace.list_offer(UnitOfWork(engine, clock), user.actor, data)
    except FormRefusal as exc:
        errors, message = _refused(exc)
        return _offer_form(
            request, user, offer=None, values=values, quals=quals, errors=errors, message=message, status_code=422
        )
    return redirect(
        "/sme/offers",
        ("ok", f"“{offer.title}”已上架，平台正在为它匹配订单", f"“{offer.title}” is listed; matching orders for it"),
    )


@router.get("/offers/{offer_id}/edit")
def edit_offer_page(offer_id: int, request: Request, user: SmePage, session: SessionDep) -> Response:
    offer = _own_offer(session, user.organisation_id, offer_id)
    values = {
        "kind": offer.kind.value,
        "title": offer.title,
        "description": offer.description,
        "category": offer.category,
        "price_min": plain_yuan(offer.price_min_fen),
        "price_max": plain_yuan(offer.price_max_fen),
        "capacity": str(offer.capacity),
        "keywords": "；".join(offer.keywords),
        "version": str(offer.version),
    }
    return _offer_form(request, user, offer=offer, values=values, quals=list(offer.qualifications))


@router.post("/offers/{offer_id}/edit")
def save_offer(
    offer_id: int,
    request: Request,
    user: SmePage,
    form: FormDep,
    session: SessionDep,
    engine: EngineDep,
    clock: ClockDep,
) -> Response:
    offer = _own_offer(session, user.organisation_id, offer_id)
    data, values, quals = _offer_data(form, with_kind=False)
    version_text = form_values(form, "version")["version"]
    values["version"] = version_text
    expected = int(version_text) if version_text.isdigit() else None
    try:
        saved = marketplace.edit_offer(UnitOfWork(engine, clock), user.actor, offer_id, data, expected)
    except FormRefusal as exc:
        errors, message = _refused(exc)
        values["kind"] = offer.kind.value
        return _offer_form(
            request, user, offer=offer, values=values, quals=quals, errors=errors, message=message, status_code=422
        )
    return redirect("/sme/offers", ("ok", f"“{saved.title}”已保存", f"“{saved.title}” saved"))


@router.post("/offers/{offer_id}/withdraw")
def withdraw_offer(offer_id: int, user: SmePage, form: FormDep, engine: EngineDep, clock: ClockDep) -> Response:
    return act(
        lambda: marketplace.withdraw_offer(UnitOfWork(engine, clock), user.actor, offer_id),
        ok_url="/sme/offers",
        ok=("已下架，不再参与匹配", "Withdrawn; it is no longer matched"),
        back_url="/sme/offers",
    )


# ------------------------------------------------------------------------------------------ bulk import


def _import_page(request: Request, user: SmePage, status_code: int = 200, **context: Any) -> Response:
    page = {
        "columns": offer_import.COLUMNS,
        "max_rows": offer_import.MAX_ROWS,
        "max_kb": offer_import.MAX_BYTES // 1024,
        "check": None,
        "file_error": None,
        "job": None,
        **context,
    }
    return render(request, "sme/import.html", page, user=user, status_code=status_code)


@router.get("/offers/import")
def import_page(request: Request, user: SmePage) -> Response:
    return _import_page(request, user)


@router.get("/offers/import/template.csv")
def import_template_csv(user: SmePage) -> Response:
    return Response(
        offer_import.template_csv(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="offers-template.csv"'},
    )


@router.get("/offers/import/template.xlsx")
def import_template_xlsx(user: SmePage) -> Response:
    return Response(
        offer_import.template_xlsx(),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": 'attachment; filename="offers-template.xlsx"'},
    )


@router.post("/offers/import")
async def upload_offers(
    request: Request, user: SmePage, form: FormDep, session: SessionDep, engine: EngineDep, clock: ClockDep
) -> Response:
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        message = ("请选择要上传的文件", "Choose a file to upload")
        return _import_page(request, user, status_code=422, file_error=message)
    data = await upload.read(offer_import.MAX_BYTES + 1)
    filename = upload.filename
    # Only reading the upload is asynchronous: checking the rows and queueing the job talk to the database, in a
    # worker thread so that the event loop keeps serving other requests meanwhile.
    return await run_in_threadpool(lambda: _check_and_queue(request, user, session, engine, clock, filename, data))


def _check_and_queue(
    request: Request, user: WebUser, session: Session, engine: Engine, clock: Clock, filename: str, data: bytes
) -> Response:
    try:
        rows = offer_import.read_rows(filename, data)
    except InvalidInput as exc:
        return _import_page(request, user, status_code=422, file_error=(exc.message_zh, exc.message_en))
    today = to_local(clock.now()).date()
    check = offer_import.check_rows(rows, offer_import.held_qualifications(session, user.organisation_id, today))
    if not check.valid:
        return _import_page(request, user, status_code=422, check=check, filename=filename)
    job = offer_import.request_import(UnitOfWork(engine, clock), user.actor, check.valid)
    return _import_page(request, user, check=check, job=job, filename=filename)


@router.get("/offers/import/{job_id}")
def import_progress(job_id: int, request: Request, user: SmePage, session: SessionDep) -> Response:
    job = job_service.job_for(session, user.actor, job_id)
    if job.kind != offer_import.IMPORT_OFFERS:
        raise NotFound.of("导入任务", "Import", job_id)
    return _import_page(request, user, job=job)


# ------------------------------------------------------------------------------------------ matches and orders


@router.get("/matches")
def matches_page(
    request: Request, user: SmePage, session: SessionDep, engine: EngineDep, clock: ClockDep, offer: int | None = None
) -> Response:
    offers = _my_offers(session, user.organisation_id, active_only=True)
    chosen = [o for o in offers if offer is None or o.id == offer]
    if offer is not None and not chosen:
        _own_offer(session, user.organisation_id, offer)  # another SME's id: 404; a withdrawn one of mine: empty
    found: list[tuple[matching.RankedItem, Offer]] = []
    for o in chosen:
        assert o.id is not None
        found += [(item, o) for item in _ranked_for_offer(engine, clock, user, o.id, MATCHES_PER_OFFER)]
    found.sort(key=lambda pair: -pair[0].score)
    found = found[:MATCHES_SHOWN]
    order_ids = [item.id for item, _ in found]
    orders = (
        {o.id: o for o in session.exec(select(Order).where(col(Order.id).in_(order_ids))).all()} if order_ids else {}
    )
    buyers = _names(session, [o.organisation_id for o in orders.values()])
    rows = [
        {"item": item, "offer": o, "order": orders[item.id], "reasons": _reasons(item)}
        for item, o in found
        if item.id in orders
    ]
    context = {
        "rows": rows,
        "offers": offers,
        "offer_options": [(str(o.id), o.title) for o in offers],
        "chosen": offer,
        "buyers": buyers,
    }
    return render(request, "sme/matches.html", context, user=user)


def _order_page(
    request: Request,
    user: SmePage,
    session: SessionDep,
    engine: Any,
    clock: Any,
    order_id: int,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, tuple[str, str]] | None = None,
    message: tuple[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound.of("订单", "Order", order_id)
    buyer = session.get(Organisation, order.organisation_id)
    offers = _my_offers(session, user.organisation_id, active_only=True)
    mine: list[dict[str, Any]] = []
    if order.status == OrderStatus.OPEN:
        for o in offers:
            assert o.id is not None
            for item in _ranked_for_offer(engine, clock, user, o.id, matching.MAX_PAGE):
                if item.id == order_id:
                    mine.append({"offer": o, "item": item, "reasons": _reasons(item)})
        mine.sort(key=lambda m: -m["item"].score)
    offer_ids = [o.id for o in _my_offers(session, user.organisation_id) if o.id is not None]
    interests = (
        session.exec(
            select(Interest, Offer.title)
            .join(Offer, col(Offer.id) == col(Interest.offer_id))
            .where(col(Interest.order_id) == order_id, col(Interest.offer_id).in_(offer_ids))
            .order_by(col(Interest.created_at))
        ).all()
        if offer_ids
        else []
    )
    shortlisted = {i.offer_id for i, _ in interests if i.kind == InterestKind.SHORTLIST}
    intents = session.exec(
        select(IntentOrder).where(
            col(IntentOrder.order_id) == order_id, col(IntentOrder.supplier_id) == user.organisation_id
        )
    ).all()
    live = {i.offer_id for i in intents if i.status in (IntentStatus.PROPOSED, IntentStatus.SIGNED)}
    proposable = [o for o in offers if o.id in shortlisted and o.id not in live]
    context = {
        "order": order,
        "buyer": buyer,
        "mine": mine,
        "offers": offers,
        "interests": interests,
        "intents": intents,
        "proposable": proposable,
        "proposable_options": [(str(o.id), o.title) for o in proposable],
        "values": values or {},
        "errors": errors or {},
        "message": message,
        "interest_names": INTEREST_NAMES,
        "intent_names": INTENT_NAMES,
    }
    return render(request, "sme/order.html", context, user=user, status_code=status_code)


@router.get("/orders/{order_id}")
def order_page(
    order_id: int, request: Request, user: SmePage, session: SessionDep, engine: EngineDep, clock: ClockDep
) -> Response:
    return _order_page(request, user, session, engine, clock, order_id)


@router.post("/orders/{order_id}/interest")
def express_interest(order_id: int, user: SmePage, form: FormDep, engine: EngineDep, clock: ClockDep) -> Response:
    values = form_values(form, "offer_id", "note")
    back = f"/sme/orders/{order_id}"
    if not values["offer_id"].isdigit():
        return redirect(back, ("error", "请选择用于响应的产品", "Choose the offer to respond with"))
    return act(
        lambda: marketplace.express_interest(
            UnitOfWork(engine, clock), user.actor, order_id, int(values["offer_id"]), values["note"]
        ),
        ok_url=back,
        ok=(
            "已向买方表达意向，买方入围后可发起意向订单",
            "Interest sent; once the buyer shortlists you, propose an intent order",
        ),
        back_url=back,
    )


@router.post("/orders/{order_id}/propose")
def propose_intent(
    order_id: int,
    request: Request,
    user: SmePage,
    form: FormDep,
    session: SessionDep,
    engine: EngineDep,
    clock: ClockDep,
) -> Response:
    values = form_values(form, "offer_id", "amount", "delivery_due", "terms")
    data = {
        "order_id": order_id,
        "offer_id": values["offer_id"] or None,
        "amount": values["amount"],
        "delivery_due": values["delivery_due"] or None,
        "terms": values["terms"],
    }
    try:
        intent = marketplace.propose_intent_order(UnitOfWork(engine, clock), user.actor, data)
    except FormRefusal as exc:
        errors, message = _refused(exc)
        return _order_page(
            request,
            user,
            session,
            engine,
            clock,
            order_id,
            values=values,
            errors=errors,
            message=message,
            status_code=422,
        )
    return redirect(
        "/sme/deals",
        (
            "ok",
            f"意向订单 {intent.id} 已发起并由您签署，等待买方签署",
            f"Intent order {intent.id} proposed and signed by you; waiting for the buyer",
        ),
    )


# ------------------------------------------------------------------------------------------ intent orders


@router.get("/deals")
def deals_page(request: Request, user: SmePage, session: SessionDep) -> Response:
    org = user.organisation_id
    intents = session.exec(
        select(IntentOrder)
        .where(or_(col(IntentOrder.supplier_id) == org, col(IntentOrder.buyer_id) == org))
        .order_by(col(IntentOrder.proposed_at).desc())
    ).all()
    contracts = session.exec(
        select(Contract).where(col(Contract.supplier_id) == org).order_by(col(Contract.signed_at).desc())
    ).all()
    registered = (
        dict(
            session.exec(
                select(Receivable.contract_id, func.sum(Receivable.face_fen))
                .where(
                    col(Receivable.contract_id).in_([c.id for c in contracts]),
                    col(Receivable.status) != ReceivableStatus.CANCELLED,
                )
                .group_by(col(Receivable.contract_id))
            ).all()
        )
        if contracts
        else {}
    )
    names = _names(session, [i.buyer_id for i in intents] + [c.buyer_id for c in contracts])
    context = {
        "intents": intents,
        "contracts": contracts,
        "registered": {k: int(v or 0) for k, v in registered.items()},
        "names": names,
        "intent_names": INTENT_NAMES,
        "org": org,
    }
    return render(request, "sme/deals.html", context, user=user)


@router.post("/deals/{intent_id}/sign")
def sign_intent(intent_id: int, user: SmePage, form: FormDep, engine: EngineDep, clock: ClockDep) -> Response:
    return act(
        lambda: marketplace.sign_intent_order(UnitOfWork(engine, clock), user.actor, intent_id),
        ok_url="/sme/deals",
        ok=(
            "已签署，合同已生成；交付后可登记应收账款",
            "Signed: the contract exists; after delivery, register the receivable",
        ),
        back_url="/sme/deals",
    )


@router.post("/deals/{intent_id}/cancel")
def cancel_intent(intent_id: int, user: SmePage, form: FormDep, engine: EngineDep, clock: ClockDep) -> Response:
    return act(
        lambda: marketplace.cancel_intent_order(UnitOfWork(engine, clock), user.actor, intent_id),
        ok_url="/sme/deals",
        ok=("意向订单已撤销", "Intent order cancelled"),
        back_url="/sme/deals",
    )


# ------------------------------------------------------------------------------------------ receivables


@router.get("/receivables")
def receivables_page(request: Request, user: SmePage, session: SessionDep) -> Response:
    org = user.organisation_id
    receivables = session.exec(
        select(Receivable).where(_receivable_scope(org)).order_by(col(Receivable.registered_at).desc())
    ).all()
    ids = [r.id for r in receivables if r.id is not None]
    parts = (
        session.exec(
            select(ReceivablePart)
            .where(col(ReceivablePart.receivable_id).in_(ids), col(ReceivablePart.holder_id) == org)
            .order_by(col(ReceivablePart.id))
        ).all()
        if ids
        else []
    )
    by_receivable: dict[int, list[ReceivablePart]] = {}
    for part in parts:
        if part.status in (PartState.SPLIT, PartState.TRANSFERRED):
            continue
        by_receivable.setdefault(part.receivable_id, []).append(part)
    context = {
        "receivables": receivables,
        "parts": by_receivable,
        "names": _names(session, [r.debtor_id for r in receivables]),
        "status_names": RECEIVABLE_NAMES,
    }
    return render(request, "sme/receivables.html", context, user=user)


RECEIVABLE_FIELDS = ("title", "contract_id", "debtor_id", "face", "issue_date", "due_date", "invoice_numbers")


def _receivable_form(
    request: Request,
    user: SmePage,
    session: Session,
    *,
    values: dict[str, str],
    errors: dict[str, tuple[str, str]] | None = None,
    message: tuple[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    contracts = session.exec(
        select(Contract)
        .where(col(Contract.supplier_id) == user.organisation_id, col(Contract.status) != ContractStatus.TERMINATED)
        .order_by(col(Contract.signed_at).desc())
    ).all()
    firms = session.exec(
        select(Organisation.id, Organisation.name)
        .where(col(Organisation.kind) == OrgKind.LARGE_FIRM)
        .order_by(col(Organisation.name))
    ).all()
    names = _names(session, [c.buyer_id for c in contracts])
    context = {
        "values": values,
        "errors": errors or {},
        "message": message,
        "contract_options": [
            (str(c.id), f"#{c.id} {c.title}（{names.get(c.buyer_id, '')}，{format_yuan(c.amount_fen)}）")
            for c in contracts
        ],
        "debtor_options": [(str(i), n) for i, n in firms],
    }
    return render(request, "sme/receivable_form.html", context, user=user, status_code=status_code)


@router.get("/receivables/new")
def new_receivable(
    request: Request, user: SmePage, session: SessionDep, clock: ClockDep, contract: int | None = None
) -> Response:
    values = {"contract_id": str(contract) if contract else "", "issue_date": to_local(clock.now()).date().isoformat()}
    return _receivable_form(request, user, session, values=values)


@router.post("/receivables")
def register_receivable(
    request: Request, user: SmePage, form: FormDep, session: SessionDep, engine: EngineDep, clock: ClockDep
) -> Response:
    values = form_values(form, *RECEIVABLE_FIELDS)
    data: dict[str, Any] = {
        "title": values["title"],
        "face": values["face"],
        "issue_date": values["issue_date"] or None,
        "due_date": values["due_date"] or None,
        "invoice_numbers": offer_import.split_list(values["invoice_numbers"]),
    }
    for key in ("contract_id", "debtor_id"):
        if values[key]:
            data[key] = values[key]
    try:
        receivable = fs.register_receivable(UnitOfWork(engine, clock), user.actor, data)
    except FormRefusal as exc:
        errors, message = _refused(exc)
        return _receivable_form(request, user, session, values=values, errors=errors, message=message, status_code=422)
    return redirect(
        "/sme/receivables",
        (
            "ok",
            f"应收账款“{receivable.title}”已登记，等待核心企业确权",
            f"Receivable “{receivable.title}” registered; waiting for the core enterprise to confirm it",
        ),
    )


# ------------------------------------------------------------------------------------------ finance


@router.get("/finance")
def finance_page(request: Request, user: SmePage, session: SessionDep) -> Response:
    apps = session.exec(
        select(FinanceApplication)
        .where(col(FinanceApplication.applicant_id) == user.organisation_id)
        .order_by(col(FinanceApplication.submitted_at).desc())
    ).all()
    receivable_ids = {a.receivable_id for a in apps if a.receivable_id is not None}
    receivables = (
        {r.id: r for r in session.exec(select(Receivable).where(col(Receivable.id).in_(receivable_ids))).all()}
        if receivable_ids
        else {}
    )
    contract_ids = {a.contract_id for a in apps if a.contract_id is not None}
    contracts = (
        {c.id: c for c in session.exec(select(Contract).where(col(Contract.id).in_(contract_ids))).all()}
        if contract_ids
        else {}
    )
    context = {
        "apps": apps,
        "receivables": receivables,
        "contracts": contracts,
        "kind_names": labels.FINANCE_KINDS,
        "names": _names(session, [a.bank_id for a in apps]),
        "status_names": APPLICATION_NAMES,
        "open_states": {s.value for s in OPEN_APPLICATION_STATES},
        "financeable": len(_financeable_parts(session, user.organisation_id)),
    }
    return render(request, "sme/finance.html", context, user=user)


def _products(session: Session) -> list[tuple[BankProduct, str]]:
    """The receivables-finance products the wizard offers (contract finance is on the contract's page, drawdowns
    on /sme/credit-lines)."""
    rows = session.exec(
        select(BankProduct, Organisation.name)
        .join(Organisation, col(Organisation.id) == col(BankProduct.bank_id))
        .where(col(BankProduct.is_active).is_(True), col(BankProduct.kind) == RECEIVABLE)
        .order_by(col(BankProduct.id))
    ).all()
    return [(p, n) for p, n in rows]


def _quote_view(
    engine: Any, clock: Any, user: SmePage, part_id: int, product: BankProduct, amount_text: str
) -> dict[str, Any]:
    """The live maximum for (part, product) and what it says about *amount_text*: every cap, which one binds,
    and whether the amount may be asked for.  A refusal of the quote itself is a message, not an error."""
    assert product.id is not None
    try:
        quote = fs.quote(UnitOfWork(engine, clock), user.actor, part_id, product.bank_id, product.id)
    except (InvalidInput, RuleViolation, Conflict) as exc:
        return {"ok": False, "message_zh": exc.message_zh, "message_en": exc.message_en, "caps": []}
    caps = [
        {
            "key": key,
            "zh": CAP_NAMES.get(key, (key, key))[0],
            "en": CAP_NAMES.get(key, (key, key))[1],
            "fen": value,
            "text": format_yuan(value),
            "binding": key == quote.binding_constraint,
        }
        for key, value in quote.limits_fen.items()
    ]
    view: dict[str, Any] = {
        "ok": True,
        "max_fen": quote.max_amount_fen,
        "max_text": format_yuan(quote.max_amount_fen),
        "max_plain": plain_yuan(quote.max_amount_fen),
        "binding": quote.binding_constraint,
        "binding_zh": CAP_NAMES.get(quote.binding_constraint, ("", ""))[0],
        "binding_en": CAP_NAMES.get(quote.binding_constraint, ("", ""))[1],
        "caps": caps,
        "due_date": quote.due_date.isoformat(),
        "amount_ok": False,
        "amount_fen": None,
        "message_zh": "",
        "message_en": "",
    }
    if amount_text:
        try:
            amount_fen = yuan_to_fen(amount_text)
        except DomainError as exc:
            view["message_zh"], view["message_en"] = exc.message_zh, exc.message_en
            return view
        view["amount_fen"] = amount_fen
        view["amount_text"] = format_yuan(amount_fen)
        if amount_fen > quote.max_amount_fen:
            view["message_zh"] = (
                f"申请金额{format_yuan(amount_fen)}超过可申请的最高金额{format_yuan(quote.max_amount_fen)}"
                f"（受限于：{view['binding_zh']}）"
            )
            view["message_en"] = (
                f"{format_yuan(amount_fen)} is above the maximum of {format_yuan(quote.max_amount_fen)} "
                f"(limited by the {view['binding_en']})"
            )
        else:
            view["amount_ok"] = True
    return view


def plain_yuan(fen: int) -> str:
    """Fen as a plain yuan string for an input (``142200000`` → ``1422000.00``), exact."""
    return f"{fen // 100}.{fen % 100:02d}"


@router.get("/finance/quote")
def finance_quote(
    user: SmePage,
    session: SessionDep,
    engine: EngineDep,
    clock: ClockDep,
    part: int = 0,
    product: int = 0,
    amount: str = "",
) -> JSONResponse:
    """The wizard's live maximum (``sme.js``): the same quote use case the page shows, as JSON."""
    row = session.get(BankProduct, product) if product else None
    if row is None or not row.is_active:
        body: dict[str, Any] = {
            "ok": False,
            "message_zh": "请选择融资产品",
            "message_en": "Choose a finance product",
            "caps": [],
        }
    else:
        body = _quote_view(engine, clock, user, part, row, amount.strip()[:32])
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


def _wizard(
    request: Request,
    user: SmePage,
    session: Session,
    engine: Any,
    clock: Any,
    *,
    part: int | None,
    product: int | None,
    amount: str,
    review: bool,
    error: tuple[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    parts = _financeable_parts(session, user.organisation_id)
    products = _products(session)
    chosen_part = next(((p, r) for p, r in parts if p.id == part), None)
    if part is not None and chosen_part is None:
        held = session.get(ReceivablePart, part)
        if held is None or held.holder_id != user.organisation_id:
            raise NotFound.of("应收账款份额", "Receivable part", part)
    chosen_product = next(((p, n) for p, n in products if p.id == product), None)
    debtor = None
    if chosen_part is not None:
        debtor = session.get(Organisation, chosen_part[1].debtor_id)
    quote = None
    if chosen_part is not None and chosen_product is not None and chosen_part[0].id is not None:
        quote = _quote_view(engine, clock, user, chosen_part[0].id, chosen_product[0], amount)
    step = 1 if chosen_part is None else 2 if chosen_product is None else 3
    if step == 3 and review and quote and quote.get("amount_ok"):
        step = 4
    context = {
        "step": step,
        "parts": parts,
        "products": products,
        "chosen_part": chosen_part,
        "chosen_product": chosen_product,
        "debtor": debtor,
        "amount": amount,
        "quote": quote,
        "error": error,
        "key": uuid.uuid4().hex,
        "max_deal": MAX_DEAL_FEN,
    }
    return render(request, "sme/apply.html", context, user=user, status_code=status_code)


@router.get("/finance/apply")
def apply_page(
    request: Request,
    user: SmePage,
    session: SessionDep,
    engine: EngineDep,
    clock: ClockDep,
    part: int | None = None,
    product: int | None = None,
    amount: str = "",
    review: str = "",
) -> Response:
    return _wizard(
        request,
        user,
        session,
        engine,
        clock,
        part=part,
        product=product,
        amount=amount.strip()[:32],
        review=bool(review),
    )


@router.post("/finance/apply")
def submit_application(
    request: Request, user: SmePage, form: FormDep, session: SessionDep, engine: EngineDep, clock: ClockDep
) -> Response:
    values = form_values(form, "part", "product", "amount", "key")
    part = int(values["part"]) if values["part"].isdigit() else None
    product_id = int(values["product"]) if values["product"].isdigit() else None
    product = session.get(BankProduct, product_id) if product_id else None
    data = {
        "part_id": part,
        "bank_id": product.bank_id if product else None,
        "product_id": product_id,
        "amount": values["amount"],
        "idempotency_key": values["key"][:64] or None,
    }
    try:
        app = fs.apply_for_finance(UnitOfWork(engine, clock), user.actor, data)
    except FormRefusal as exc:
        session.rollback()
        return _wizard(
            request,
            user,
            session,
            engine,
            clock,
            part=part,
            product=product_id,
            amount=values["amount"],
            review=False,
            error=(exc.message_zh, exc.message_en),
            status_code=422,
        )
    return redirect(
        f"/sme/finance/{app.id}",
        ("ok", "融资申请已提交，48小时计时开始", "Application submitted; the 48-hour clock has started"),
    )


RECEIVABLE = FinanceKind.RECEIVABLE


@router.get("/finance/{application_id}")
def application_page(
    application_id: int,
    request: Request,
    user: SmePage,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> Response:
    app = _own_application(session, user.organisation_id, application_id)
    assert app.id is not None
    now = clock.now()
    timeline = TimelinePublic.from_model(app, finance_common.intervals(session, app.id), settings.tz, now)
    entered = {s.stage for s in timeline.stages}
    upcoming = [s for s in MAIN_STAGES if s not in entered] if app.finished_at is None else []
    receivable = session.get(Receivable, app.receivable_id) if app.receivable_id is not None else None
    contract = session.get(Contract, app.contract_id) if app.contract_id is not None else None
    line = session.get(SmeCreditLine, app.sme_line_id) if app.sme_line_id is not None else None
    terms_hash = fs.terms_hash(app.offer_terms) if app.offer_terms else ""
    loan = session.exec(select(Loan).where(col(Loan.application_id) == app.id)).first()
    # The SME repays its contract loans and drawdowns itself (a receivable loan is repaid by its debtor); a
    # contract loan is also repaid by the buyer's payments into the contract before the SME is paid the rest.
    owed = None
    if loan is not None and loan.id is not None and loan.status != LoanStatus.REPAID and loan.kind != RECEIVABLE:
        owed = fs.loan_outstanding(session, loan.id, as_of=to_local(now).date())  # to settle it today
    context = {
        "app": app,
        "owed": owed,
        "repay_amount": str(fen_to_yuan(owed.total_fen)) if owed is not None else "",
        "repay_key": f"web-{uuid.uuid4().hex}",
        "contract": contract,
        "line": line,
        "kind_names": labels.FINANCE_KINDS,
        "line_states": labels.SME_LINE_STATES,
        "loan": loan,
        "loan_names": labels.LOAN_STATES,
        "timeline": timeline,
        "upcoming": upcoming,
        "receivable": receivable,
        "bank": session.get(Organisation, app.bank_id),
        "product": session.get(BankProduct, app.product_id),
        "debtor": session.get(Organisation, app.core_enterprise_id) if app.core_enterprise_id is not None else None,
        "status_names": APPLICATION_NAMES,
        "stage_names": STAGE_NAMES,
        "terms_hash": terms_hash,
        "can_withdraw": app.status in BEFORE_SIGNATURE,
        "now": now,
    }
    return render(request, "sme/application.html", context, user=user)


@router.post("/finance/{application_id}/info")
def provide_info(application_id: int, user: SmePage, form: FormDep, engine: EngineDep, clock: ClockDep) -> Response:
    answer = form_values(form, "answer")["answer"]
    here = f"/sme/finance/{application_id}"
    return act(
        lambda: fs.provide_info(UnitOfWork(engine, clock), user.actor, application_id, answer),
        ok_url=here,
        ok=("材料已补充，银行继续审核", "Information sent; the bank continues its review"),
        back_url=here,
    )


@router.post("/finance/{application_id}/sign")
def sign_offer(application_id: int, user: SmePage, form: FormDep, engine: EngineDep, clock: ClockDep) -> Response:
    terms_hash = form_values(form, "terms_hash")["terms_hash"]
    here = f"/sme/finance/{application_id}"
    return act(
        lambda: fs.sign_offer(UnitOfWork(engine, clock), user.actor, application_id, terms_hash),
        ok_url=here,
        ok=("已签署融资要约，等待银行放款", "Offer signed; waiting for the bank to disburse"),
        back_url=here,
    )


@router.post("/finance/{application_id}/repay")
def repay_loan(
    application_id: int, user: SmePage, form: FormDep, session: SessionDep, engine: EngineDep, clock: ClockDep
) -> Response:
    """Repay the loan of a contract-finance application or a drawdown (once per rendered form's key)."""
    app = _own_application(session, user.organisation_id, application_id)
    loan = session.exec(select(Loan).where(col(Loan.application_id) == app.id)).first()
    here = f"/sme/finance/{application_id}"
    if loan is None or loan.id is None:
        return redirect(here, ("error", "该申请尚未放款，没有可还的贷款", "Nothing is lent on this application yet"))
    values = form_values(form, "amount", "idempotency_key")
    loan_id = loan.id
    session.rollback()  # the use case writes in its own unit of work
    return act(
        lambda: fs.repay_loan(
            UnitOfWork(engine, clock), user.actor, loan_id, values["amount"], values["idempotency_key"]
        ),
        ok_url=here,
        ok=("还款已入账", "Repayment recorded"),
        back_url=here,
    )


@router.post("/finance/{application_id}/withdraw")
def withdraw_application(
    application_id: int, user: SmePage, form: FormDep, engine: EngineDep, clock: ClockDep
) -> Response:
    here = f"/sme/finance/{application_id}"
    return act(
        lambda: fs.withdraw(UnitOfWork(engine, clock), user.actor, application_id),
        ok_url=here,
        ok=("申请已撤回，额度已释放", "Application withdrawn; the limits are released"),
        back_url=here,
    )


# ------------------------------------------------------------------------------------------ contract settlement


def _own_contract(session: Session, org_id: int, contract_id: int) -> Contract:
    contract = session.get(Contract, contract_id)
    if contract is None or contract.supplier_id != org_id:
        raise NotFound.of("合同", "Contract", contract_id)
    return contract


def _contract_products(session: Session, buyer_id: int) -> list[tuple[BankProduct, str]]:
    """Active contract-finance products of the banks that have a credit line for the buyer, with the bank's name."""
    rows = session.exec(
        select(BankProduct, Organisation.name)
        .join(Organisation, col(Organisation.id) == col(BankProduct.bank_id))
        .join(
            CreditLine,
            and_(col(CreditLine.bank_id) == col(BankProduct.bank_id), col(CreditLine.core_enterprise_id) == buyer_id),
        )
        .where(col(BankProduct.kind) == FinanceKind.CONTRACT, col(BankProduct.is_active).is_(True))
        .order_by(col(Organisation.name), col(BankProduct.id))
    ).all()
    return [(p, n) for p, n in rows]


def refusal_fields(exc: DomainError) -> dict[str, tuple[str, str]]:
    """The form fields a refusal names: an ``InvalidInput``'s list, a rule's ``{"field": …}``, or the amount when
    a limit refused it (``binding_constraint``)."""
    if isinstance(exc, InvalidInput):
        errors = field_errors(exc)
        if errors:
            return errors
    detail = exc.detail
    if isinstance(detail, dict):
        if isinstance(detail.get("field"), str):
            return {str(detail["field"]): (exc.message_zh, exc.message_en)}
        if "binding_constraint" in detail or "max_amount_fen" in detail:
            return {"amount": (exc.message_zh, exc.message_en)}
    return {}


#: The limits as they read for a contract: the advance is on the unpaid contract value, not a confirmed amount.
CONTRACT_CAP_NAMES: dict[str, tuple[str, str]] = {
    **CAP_NAMES,
    BindingConstraint.ADVANCE_RATE.value: ("未付合同金额×融资比例", "unpaid contract value × advance rate"),
}


def _contract_quote_view(
    engine: Any, clock: Any, user: WebUser, contract_id: int, product: BankProduct
) -> dict[str, Any]:
    """The live maximum on the contract at this product's bank (:func:`fs.contract_quote`), every limit named."""
    assert product.id is not None
    try:
        quote = fs.contract_quote(UnitOfWork(engine, clock), user.actor, contract_id, product.bank_id, product.id)
    except FormRefusal as exc:
        return {"ok": False, "message": (exc.message_zh, exc.message_en)}
    return {
        "ok": True,
        "quote": quote,
        "binding": CONTRACT_CAP_NAMES.get(
            quote.binding_constraint, (quote.binding_constraint, quote.binding_constraint)
        ),
        "caps": [
            (CONTRACT_CAP_NAMES.get(key, (key, key)), value, key == quote.binding_constraint)
            for key, value in quote.limits_fen.items()
        ],
        "max_plain": plain_yuan(quote.max_amount_fen),
    }


def _contract_page(
    request: Request,
    user: WebUser,
    session: Session,
    engine: Any,
    clock: Clock,
    contract_id: int,
    *,
    product_id: int | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, tuple[str, str]] | None = None,
    message: tuple[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    contract = _own_contract(session, user.organisation_id, contract_id)
    view = fs.contract_settlement(session, user.actor, contract_id, to_local(clock.now()).date())
    live = session.exec(
        select(FinanceApplication).where(col(FinanceApplication.active_contract_id) == contract_id)
    ).first()
    history = session.exec(
        select(FinanceApplication)
        .where(
            col(FinanceApplication.contract_id) == contract_id,
            col(FinanceApplication.kind) == FinanceKind.CONTRACT,
        )
        .order_by(col(FinanceApplication.id).desc())
    ).all()
    loans = {
        loan.application_id: loan
        for loan in session.exec(
            select(Loan).where(col(Loan.contract_id) == contract_id, col(Loan.kind) == FinanceKind.CONTRACT)
        ).all()
    }
    can_apply = contract.status == ContractStatus.ACTIVE and live is None
    products = _contract_products(session, contract.buyer_id) if can_apply else []
    chosen = next(((p, n) for p, n in products if p.id == product_id), None)
    if chosen is None and len(products) == 1:
        chosen = products[0]
    quote = _contract_quote_view(engine, clock, user, contract_id, chosen[0]) if chosen is not None else None
    if values is None:
        values = {"amount": quote["max_plain"] if quote and quote["ok"] else ""}
    values["product"] = str(chosen[0].id) if chosen is not None else ""
    context = {
        "contract": contract,
        "buyer": _names(session, [contract.buyer_id]).get(contract.buyer_id, "—"),
        "view": view,
        "rows": settlement_rows(view),
        "labels": SETTLEMENT_LABELS,
        "contract_names": labels.CONTRACT_STATES,
        "live": live,
        "history": history,
        "loans": loans,
        "bank_names": _names(session, [a.bank_id for a in history]),
        "can_apply": can_apply,
        "products": products,
        "product_options": [(str(p.id), f"{n} · {p.name}（{percent_text(p.advance_rate)}）") for p, n in products],
        "chosen": chosen,
        "quote": quote,
        "values": values,
        "errors": errors or {},
        "message": message,
        "key": uuid.uuid4().hex,
        "waterfall": [p for p in view.payments if p.allocation],
        "waterfall_parts": labels.WATERFALL,
        "status_names": APPLICATION_NAMES,
        "loan_names": labels.LOAN_STATES,
    }
    return render(request, "sme/contract.html", context, user=user, status_code=status_code)


def percent_text(rate: Any) -> str:
    """An advance rate as a percentage (``0.8000`` → ``80%``), exact."""
    return f"{(Decimal(str(rate)) * 100).normalize():f}%"


@router.get("/contracts/{contract_id}")
def contract_page(
    contract_id: int,
    request: Request,
    user: SmePage,
    session: SessionDep,
    engine: EngineDep,
    clock: ClockDep,
    product: int | None = None,
) -> Response:
    """The settlement of a contract the SME supplies under (read-only: the plan, the payments, what is overdue and
    whether the buyer is late under the 60-day rule), its contract finance — the live maximum at a chosen bank and
    the application form before delivery, or the live application — and the waterfall of every buyer payment that
    repaid the contract loan.  Any other contract is a 404 page."""
    return _contract_page(request, user, session, engine, clock, contract_id, product_id=product)


@router.post("/contracts/{contract_id}/finance")
def apply_contract_finance(
    contract_id: int,
    request: Request,
    user: SmePage,
    form: FormDep,
    session: SessionDep,
    engine: EngineDep,
    clock: ClockDep,
) -> Response:
    """Apply for contract (order) finance → :func:`fs.apply_for_contract_finance` (idempotent on the form's key)."""
    _own_contract(session, user.organisation_id, contract_id)
    values = form_values(form, "product", "amount", "key")
    product_id = int(values["product"]) if values["product"].isdigit() and len(values["product"]) < 12 else None
    product = session.get(BankProduct, product_id) if product_id else None
    try:
        if product is None or product.kind != FinanceKind.CONTRACT or not product.is_active:
            raise InvalidInput(
                "请选择提供订单融资的银行",
                "Choose a bank that offers contract finance",
                detail=[{"field": "product", "message": "请选择银行", "message_en": "Choose a bank"}],
            )
        app = fs.apply_for_contract_finance(
            UnitOfWork(engine, clock),
            user.actor,
            {
                "contract_id": contract_id,
                "bank_id": product.bank_id,
                "product_id": product.id,
                "amount": values["amount"],
                "idempotency_key": values["key"][:64] or None,
            },
        )
    except FormRefusal as exc:
        session.rollback()
        return _contract_page(
            request,
            user,
            session,
            engine,
            clock,
            contract_id,
            product_id=product_id,
            values={"amount": values["amount"]},
            errors=refusal_fields(exc),
            message=(exc.message_zh, exc.message_en),
            status_code=422,
        )
    return redirect(
        f"/sme/finance/{app.id}",
        (
            "ok",
            "订单融资申请已提交，48小时计时开始",
            "Contract finance application submitted; the 48-hour clock has started",
        ),
    )


# ------------------------------------------------------------------------------------------ revolving lines

DRAWDOWN_FIELDS = ("amount", "due_on", "product", "key")


@dataclass(frozen=True, slots=True)
class LineView:
    """One of the SME's lines at a bank, with the products it may draw through (none: the bank offers no
    drawdown product yet)."""

    line: SmeCreditLine
    bank_name: str
    products: list[BankProduct]
    today: date

    @property
    def usable(self) -> bool:
        return self.line.status == SmeLineStatus.ACTIVE and not self.expired

    @property
    def expired(self) -> bool:
        return self.line.expires_on is not None and self.line.expires_on < self.today

    @property
    def available_fen(self) -> int:
        return max(0, self.line.limit_fen - self.line.used_fen) if self.usable else 0

    @property
    def product_options(self) -> list[tuple[str, str]]:
        return [(str(p.id), p.name) for p in self.products]

    @property
    def latest_due(self) -> date | None:
        """The latest due date a drawdown may have: the line's expiry and the product's tenor, whichever first."""
        if not self.products:
            return self.line.expires_on
        tenor = add_months(self.today, max(p.max_tenor_months for p in self.products))
        return min(tenor, self.line.expires_on) if self.line.expires_on else tenor


def _credit_lines_page(
    request: Request,
    user: WebUser,
    session: Session,
    clock: Clock,
    *,
    line_id: int | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, tuple[str, str]] | None = None,
    message: tuple[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    today = to_local(clock.now()).date()
    lines = fs.lines_of(session, user.actor)
    names = _names(session, [x.bank_id for x in lines])
    bank_ids = {x.bank_id for x in lines}
    products: dict[int, list[BankProduct]] = {}
    if bank_ids:
        for p in session.exec(
            select(BankProduct)
            .where(
                col(BankProduct.bank_id).in_(bank_ids),
                col(BankProduct.kind) == FinanceKind.CREDIT_LINE,
                col(BankProduct.is_active).is_(True),
            )
            .order_by(col(BankProduct.id))
        ).all():
            products.setdefault(p.bank_id, []).append(p)
    views = [LineView(x, names.get(x.bank_id, "—"), products.get(x.bank_id, []), today) for x in lines]
    views.sort(key=lambda v: (not v.usable, v.bank_name))
    drawdowns = session.exec(
        select(FinanceApplication)
        .where(
            col(FinanceApplication.applicant_id) == user.organisation_id,
            col(FinanceApplication.kind) == FinanceKind.CREDIT_LINE,
        )
        .order_by(col(FinanceApplication.id).desc())
        .limit(50)
    ).all()
    suggestion = None
    if not any(v.usable for v in views):
        suggestion = fs.suggest_credit_line(session, user.actor, user.organisation_id, today)
    context = {
        "views": views,
        "line_states": labels.SME_LINE_STATES,
        "drawdowns": drawdowns,
        "bank_names": _names(session, [a.bank_id for a in drawdowns]),
        "status_names": APPLICATION_NAMES,
        "open_states": {s.value for s in OPEN_APPLICATION_STATES},
        "s": suggestion,
        "reasons": [
            (
                r,
                labels.FIGURE_LABELS.get(r.figure, (r.figure, r.figure)),
                labels.figure_text(r.figure, r.value),
                labels.EFFECT_LABELS[r.effect.value],
            )
            for r in (suggestion.reasons if suggestion else ())
        ],
        "line_id": line_id,
        "values": values or {},
        "errors": errors or {},
        "message": message,
        "key": uuid.uuid4().hex,
        "today": today,
    }
    return render(request, "sme/credit_lines.html", context, user=user, status_code=status_code)


@router.get("/credit-lines")
def credit_lines_page(request: Request, user: SmePage, session: SessionDep, clock: ClockDep) -> Response:
    """The SME's revolving lines at each bank (limit, used, available, expiry, status) with a drawdown form on each
    usable line; without one, the platform's suggestion for the SME itself and every reason behind it."""
    return _credit_lines_page(request, user, session, clock)


@router.post("/credit-lines/{line_id}/drawdown")
def draw_down(
    line_id: int,
    request: Request,
    user: SmePage,
    form: FormDep,
    session: SessionDep,
    engine: EngineDep,
    clock: ClockDep,
) -> Response:
    """Draw on a line → :func:`fs.apply_for_drawdown` (idempotent on the form's key); another SME's line is 404."""
    line = session.get(SmeCreditLine, line_id)
    if line is None or line.sme_id != user.organisation_id:
        raise NotFound.of("循环额度", "Revolving line", line_id)
    values = form_values(form, *DRAWDOWN_FIELDS)
    data: dict[str, Any] = {
        "line_id": line_id,
        "amount": values["amount"],
        "due_on": values["due_on"] or None,
        "idempotency_key": values["key"][:64] or None,
    }
    if values["product"].isdigit() and len(values["product"]) < 12:
        data["product_id"] = int(values["product"])
    try:
        app = fs.apply_for_drawdown(UnitOfWork(engine, clock), user.actor, data)
    except FormRefusal as exc:
        session.rollback()
        return _credit_lines_page(
            request,
            user,
            session,
            clock,
            line_id=line_id,
            values=values,
            errors=refusal_fields(exc),
            message=(exc.message_zh, exc.message_en),
            status_code=422,
        )
    return redirect(
        f"/sme/finance/{app.id}",
        ("ok", "支用申请已提交，48小时计时开始", "Drawdown submitted; the 48-hour clock has started"),
    )
