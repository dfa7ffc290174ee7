"""The SME's offers one by one: the list, a new offer, editing one (with its version) and withdrawing it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from api.deps import ClockDep, EngineDep, SessionDep
from api.web.pages._forms import SmePost
from api.web.pages.sme._shared import (
    FormRefusal,
    FormState,
    plain_yuan,
)
from api.web.render import form_values, redirect, render
from api.web.session import FormDep, SmePage
from market import offer_import
from market import service as marketplace
from market.access import load_offer_for
from market.queries import offers_of
from qianfan.models import (
    Offer,
    OfferKind,
)
from qianfan.uow import UnitOfWork

router = APIRouter()

OFFER_TEXT_FIELDS = ("kind", "title", "description", "category", "price_min", "price_max", "capacity", "keywords")
KIND_NAMES: dict[str, tuple[str, str]] = {
    OfferKind.PRODUCT.value: ("产品", "Product"),
    OfferKind.TECHNOLOGY.value: ("技术", "Technology"),
    OfferKind.SERVICE.value: ("服务", "Service"),
}


@router.get("/offers")
def offers_page(request: Request, user: SmePage, session: SessionDep) -> Response:
    offers = offers_of(session, user.organisation_id)
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


def _offer_form(request: Request, user: SmePage, offer: Offer | None, quals: list[str], state: FormState) -> Response:
    """The offer form (new when *offer* is None) with the qualifications ticked."""
    context = {
        "offer": offer,
        "values": state.values,
        "quals": set(quals),
        "errors": state.errors,
        "message": state.message,
        "kind_names": KIND_NAMES,
    }
    return render(request, "sme/offer_form.html", context, user=user, status_code=state.status_code)


@router.get("/offers/new")
def new_offer(request: Request, user: SmePage) -> Response:
    return _offer_form(request, user, None, [], FormState({"kind": OfferKind.PRODUCT.value}))


@router.post("/offers")
def create_offer(request: Request, user: SmePage, form: FormDep, engine: EngineDep, clock: ClockDep) -> Response:
    data, values, quals = _offer_data(form)
    try:
        offer = marketplace.list_offer(UnitOfWork(engine, clock), user.actor, data)
    except FormRefusal as exc:
        return _offer_form(request, user, None, quals, FormState.refused(values, exc))
    return redirect(
        "/sme/offers",
        ("ok", f"“{offer.title}”已上架，平台正在为它匹配订单", f"“{offer.title}” is listed; matching orders for it"),
    )


@router.get("/offers/{offer_id}/edit")
def edit_offer_page(offer_id: int, request: Request, user: SmePage, session: SessionDep) -> Response:
    offer = load_offer_for(session, user.actor, offer_id)
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
    return _offer_form(request, user, offer, list(offer.qualifications), FormState(values))


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
    offer = load_offer_for(session, user.actor, offer_id)
    data, values, quals = _offer_data(form, with_kind=False)
    version_text = form_values(form, "version")["version"]
    values["version"] = version_text
    expected = int(version_text) if version_text.isdigit() else None
    try:
        saved = marketplace.edit_offer(UnitOfWork(engine, clock), user.actor, offer_id, data, expected)
    except FormRefusal as exc:
        values["kind"] = offer.kind.value
        return _offer_form(request, user, offer, quals, FormState.refused(values, exc))
    return redirect("/sme/offers", ("ok", f"“{saved.title}”已保存", f"“{saved.title}” saved"))


@router.post("/offers/{offer_id}/withdraw")
def withdraw_offer(offer_id: int, post: SmePost) -> Response:
    ok = ("已下架，不再参与匹配", "Withdrawn; it is no longer matched")
    return post.act(marketplace.withdraw_offer, offer_id, back="/sme/offers", ok=ok)
