"""The firm's orders: the list, post a new one, edit and close it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import col
from starlette.datastructures import FormData

from api.deps import ClockDep, EngineDep, SessionDep
from api.routes.lists import PathId
from api.web.pages._forms import FirmPost
from api.web.pages.firm._shared import STATES, firm_page, own_order, refusal
from api.web.render import act, form_values, redirect
from api.web.session import FirmPage, FormDep, WebUser
from market import service as marketplace
from market.queries import OrderFilters, orders_page
from market.queries_buyer import match_counts
from qianfan.errors import DomainError
from qianfan.models import Order, OrderKind, OrderStatus
from qianfan.money import fen_to_yuan
from qianfan.uow import UnitOfWork

router = APIRouter()

ORDER_FIELDS = ("kind", "title", "description", "category", "budget", "district", "deadline")
PAGE_SIZE = 20
#: Latest posted first, ties by id.
NEWEST_FIRST = (col(Order.created_at).desc(), col(Order.id).desc())


def _page_number(value: str | None) -> int:
    try:
        return max(0, min(int(value or 0), 500))
    except ValueError:
        return 0


@router.get("/orders")
def orders(request: Request, user: FirmPage, session: SessionDep, status: str = "", page: str = "") -> Response:
    number = _page_number(page)
    if status not in STATES["order"]:
        status = ""
    # The firm's own orders (in one status when asked), newest first.
    filters = OrderFilters(status=OrderStatus(status) if status else None, organisation_id=user.organisation_id)
    listed, total = orders_page(
        session, user.actor, filters, order_by=NEWEST_FIRST, limit=PAGE_SIZE, offset=number * PAGE_SIZE
    )
    rows = [order for order, _ in listed]
    has_next = number * PAGE_SIZE + len(rows) < total
    matches = match_counts(session, user.actor, [o.id for o in rows if o.id is not None])
    return firm_page(
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
    return firm_page(
        request,
        "order_form.html",
        user,
        status_code=status_code,
        values=values,
        errors=errors or {},
        message=message,
        order=order,
    )


@router.get("/orders/new")
def new_order(request: Request, user: FirmPage) -> Response:
    return _order_form(request, user, values={"kind": OrderKind.PROCUREMENT.value, "required_qualifications": []})


@router.post("/orders")
def post_order(request: Request, user: FirmPage, form: FormDep, engine: EngineDep, clock: ClockDep) -> Response:
    values = _order_values(form)
    try:
        order = marketplace.post_order(UnitOfWork(engine, clock), user.actor, values)
    except DomainError as exc:
        errors, message = refusal(exc)
        return _order_form(request, user, values=values, errors=errors, message=message, status_code=422)
    return redirect(
        f"/firm/orders/{order.id}",
        ("ok", f"订单“{order.title}”已发布，正在为您匹配供应商", f"Order “{order.title}” posted; matching suppliers"),
    )


@router.get("/orders/{order_id}/edit")
def edit_order_page(request: Request, order_id: PathId, user: FirmPage, session: SessionDep) -> Response:
    order = own_order(session, user, order_id)
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
def edit_order(order_id: PathId, post: FirmPost) -> Response:
    request, user = post.request, post.user
    order = own_order(post.session, user, order_id)
    values = _order_values(post.form)
    values["version"] = post.values("version")["version"]
    changes = {k: v for k, v in values.items() if k not in ("kind", "version")}
    try:
        version = int(values["version"]) if values["version"] else None
        marketplace.edit_order(post.uow(), user.actor, order_id, changes, version)
    except ValueError:
        return redirect(f"/firm/orders/{order_id}/edit", ("error", "表单版本无效，请重新打开", "Reload the form"))
    except DomainError as exc:
        errors, message = refusal(exc)
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
