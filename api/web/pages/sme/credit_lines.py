"""The SME's revolving lines at each bank and drawing on one; without a usable line, the platform's suggestion."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from api.web import labels
from api.web.pages._forms import Page, SmeGet, SmePost
from api.web.pages.sme._shared import (
    APPLICATION_NAMES,
    FormRefusal,
    FormState,
    org_names,
)
from api.web.render import redirect, render
from finance import service as fs
from finance.access import load_sme_credit_line_for
from finance.limits import add_months
from finance.queries.applications import LATEST_ID_FIRST, ApplicationFilter, application_list
from finance.queries.credit_lines import sme_credit_line_list
from finance.queries.products import active_products_by_bank
from finance.states import OPEN_APPLICATION_STATES
from qianfan.clock import to_local
from qianfan.models import BankProduct, FinanceApplication, FinanceKind, SmeCreditLine, SmeLineStatus

router = APIRouter()

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


def _credit_lines_page(page: Page, *, line_id: int | None = None, state: FormState | None = None) -> Response:
    """The SME's lines; *state* is the drawdown form of line *line_id* after a refusal."""
    user, session = page.user, page.session
    state = state or FormState()
    today = to_local(page.clock.now()).date()
    lines = sme_credit_line_list(session, user.actor)
    names = org_names(session, [x.bank_id for x in lines])
    products = active_products_by_bank(session, user.actor, {x.bank_id for x in lines}, FinanceKind.CREDIT_LINE)
    views = [LineView(x, names.get(x.bank_id, "—"), products.get(x.bank_id, []), today) for x in lines]
    views.sort(key=lambda v: (not v.usable, v.bank_name))
    drawdowns: list[FinanceApplication] = application_list(
        session,
        user.actor,
        ApplicationFilter(kind=FinanceKind.CREDIT_LINE),
        order_by=LATEST_ID_FIRST,
        limit=50,
    )
    suggestion = None
    if not any(v.usable for v in views):
        suggestion = fs.suggest_credit_line(session, user.actor, user.organisation_id, today)
    context = {
        "views": views,
        "line_states": labels.SME_LINE_STATES,
        "drawdowns": drawdowns,
        "bank_names": org_names(session, [a.bank_id for a in drawdowns]),
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
        "values": state.values,
        "errors": state.errors,
        "message": state.message,
        "key": uuid.uuid4().hex,
        "today": today,
    }
    return render(page.request, "sme/credit_lines.html", context, user=user, status_code=state.status_code)


@router.get("/credit-lines")
def credit_lines_page(page: SmeGet) -> Response:
    """The SME's revolving lines at each bank (limit, used, available, expiry, status) with a drawdown form on each
    usable line; without one, the platform's suggestion for the SME itself and every reason behind it."""
    return _credit_lines_page(page)


@router.post("/credit-lines/{line_id}/drawdown")
def draw_down(line_id: int, post: SmePost) -> Response:
    """Draw on a line → :func:`fs.apply_for_drawdown` (idempotent on the form's key); another SME's line is 404."""
    user, session = post.user, post.session
    load_sme_credit_line_for(session, user.actor, line_id)  # another SME's line is not found
    values = post.values(*DRAWDOWN_FIELDS)
    data: dict[str, Any] = {
        "line_id": line_id,
        "amount": values["amount"],
        "due_on": values["due_on"] or None,
        "idempotency_key": values["key"][:64] or None,
    }
    if values["product"].isdigit() and len(values["product"]) < 12:
        data["product_id"] = int(values["product"])
    try:
        app = fs.apply_for_drawdown(post.uow(), user.actor, data)
    except FormRefusal as exc:
        session.rollback()
        state = FormState.limited(values, exc)
        return _credit_lines_page(post, line_id=line_id, state=state)
    return redirect(
        f"/sme/finance/{app.id}",
        ("ok", "支用申请已提交，48小时计时开始", "Drawdown submitted; the 48-hour clock has started"),
    )
