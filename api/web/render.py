"""Rendering pages: the Jinja2 environment, the filters every template uses, flash messages, and the
Post/Redirect/Get helpers that turn a use case's answer into the next page.

Pages are served with their own Content-Security-Policy: scripts, styles and images only from this site, no inline
script or style (so templates use classes, never ``style=`` or ``onclick=``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, unquote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from api.web.i18n import LANGS, html_lang, lang_of, translator
from api.web.session import CSRF_FIELD, WebUser
from qianfan import taxonomy
from qianfan.clock import SHANGHAI, to_local
from qianfan.errors import DomainError
from qianfan.models import OrgKind
from qianfan.money import format_wan, format_yuan

WEB_DIR = Path(__file__).parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"

PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
)
FLASH_COOKIE = "qf_flash"

T = TypeVar("T")

#: The navigation of each kind of organisation: (path, 中文, English).  The first entry is the home page.
NAV: dict[OrgKind, list[tuple[str, str, str]]] = {
    OrgKind.SME: [
        ("/sme", "工作台", "Home"),
        ("/sme/offers", "我的产品", "My offers"),
        ("/sme/matches", "匹配订单", "Matched orders"),
        ("/sme/deals", "意向订单", "Intent orders"),
        ("/sme/receivables", "应收账款", "Receivables"),
        ("/sme/finance", "融资", "Finance"),
        ("/sme/credit-lines", "循环额度", "Credit lines"),
        ("/sme/record-access", "授权查询", "Record access"),
        ("/inbox", "消息", "Inbox"),
    ],
    OrgKind.LARGE_FIRM: [
        ("/firm", "工作台", "Home"),
        ("/firm/orders", "订单", "Orders"),
        ("/firm/deals", "意向订单", "Intent orders"),
        ("/firm/contracts", "合同结算", "Contracts"),
        ("/firm/receivables", "应收确权", "Confirm receivables"),
        ("/firm/repayments", "到期还款", "Repayments due"),
        ("/inbox", "消息", "Inbox"),
    ],
    OrgKind.BANK: [
        ("/bank", "审批队列", "Review queue"),
        ("/bank/loans", "放款与贷款", "Loans"),
        ("/bank/portfolio", "敞口与授信", "Exposure"),
        ("/bank/credit-suggestions", "建议授信", "Suggested lines"),
        ("/bank/credit-lines", "企业循环额度", "SME lines"),
        ("/inbox", "消息", "Inbox"),
    ],
    OrgKind.PROGRAMME_OFFICE: [
        ("/office", "对接漏斗", "Funnel"),
        ("/office/turnaround", "48小时时效", "48-hour promise"),
        ("/office/exports", "数据导出", "Exports"),
        ("/office/operations", "后台任务", "Operations"),
        ("/office/late-buyers", "逾期付款", "Late buyers"),
        ("/office/audit", "审计链", "Audit chain"),
        ("/inbox", "消息", "Inbox"),
    ],
    OrgKind.SERVICE_PROVIDER: [
        ("/provider", "服务包与导师", "Packages and mentors"),
        ("/inbox", "消息", "Inbox"),
    ],
}

KIND_NAMES: dict[OrgKind, tuple[str, str]] = {
    OrgKind.SME: ("中小企业", "SME"),
    OrgKind.LARGE_FIRM: ("大企业", "Large firm"),
    OrgKind.BANK: ("银行", "Bank"),
    OrgKind.PROGRAMME_OFFICE: ("管委会", "Programme office"),
    OrgKind.SERVICE_PROVIDER: ("服务机构", "Service provider"),
}


# ------------------------------------------------------------------------------------------ filters


def yuan(fen: int | None) -> str:
    """``123456789`` fen → ``¥1,234,567.89`` (exact, never through a float)."""
    return "—" if fen is None else format_yuan(fen)


def wan(fen: int | None) -> str:
    """``193000000000`` fen → ``193,000.00万元``: how Chinese business users read budgets."""
    return "—" if fen is None else format_wan(fen)


def local_dt(moment: datetime | None) -> str:
    return "—" if moment is None else to_local(moment, SHANGHAI).strftime("%Y-%m-%d %H:%M")


def iso(moment: datetime | None) -> str:
    """A machine-readable instant for ``<time datetime>`` and the countdown script."""
    return "" if moment is None else to_local(moment, SHANGHAI).isoformat(timespec="seconds")


def day(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = to_local(value, SHANGHAI).date()
    return value.isoformat()


def percent(value: Decimal | float | int | None, places: int = 1) -> str:
    if value is None:
        return "—"
    return f"{Decimal(str(value)) * 100:.{places}f}%"


def hours(value: Decimal | float | int | None) -> str:
    return "—" if value is None else f"{Decimal(str(value)):.1f}"


templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.filters.update(yuan=yuan, wan=wan, local_dt=local_dt, iso=iso, day=day, percent=percent, hours=hours)
templates.env.globals.update(LANGS=LANGS)


# ------------------------------------------------------------------------------------------ taxonomy


def _taxonomy_helpers(lang: str) -> dict[str, Any]:
    """Category, cluster and qualification names in the page's language, and the options of their selects."""

    def name(item: Any) -> str:
        return str(item.name_en if lang == "en" else item.name_zh)

    def cat_name(code: str | None) -> str:
        cat = taxonomy.CATEGORY_BY_CODE.get(code or "")
        return name(cat) if cat is not None else (code or "—")

    def cluster_name(code: str | None) -> str:
        cluster = taxonomy.CLUSTER_BY_CODE.get(code or "")
        return name(cluster) if cluster is not None else (code or "—")

    def qual_name(code: str | None) -> str:
        qual = taxonomy.QUALIFICATION_BY_CODE.get(code or "")
        return name(qual) if qual is not None else (code or "—")

    category_options = [
        (cat.code, f"{name(cluster)} / {name(cat)}") for cluster in taxonomy.CLUSTERS for cat in cluster.categories
    ]
    return {
        "cat_name": cat_name,
        "cluster_name": cluster_name,
        "qual_name": qual_name,
        "category_options": category_options,
        "cluster_options": [(c.code, name(c)) for c in taxonomy.CLUSTERS],
        "district_options": [(d, d) for d in taxonomy.DISTRICTS],
        "qualification_options": [(q.code, name(q)) for q in taxonomy.QUALIFICATIONS],
    }


# ------------------------------------------------------------------------------------------ flash messages


def set_flash(response: Response, kind: str, zh: str, en: str) -> None:
    """A one-time message for the next page (``kind``: ok, error, info)."""
    value = quote(json.dumps({"kind": kind, "zh": zh, "en": en}, ensure_ascii=False))
    response.set_cookie(FLASH_COOKIE, value, max_age=120, httponly=True, samesite="lax", path="/")


def _read_flash(request: Request) -> dict[str, str] | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    try:
        data = json.loads(unquote(raw))
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("kind") not in {"ok", "error", "info"}:
        return None
    return {k: str(data.get(k, ""))[:500] for k in ("kind", "zh", "en")}


# ------------------------------------------------------------------------------------------ pages


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    user: WebUser | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """Render *template* with the page context every template relies on: ``t`` (zh/en), ``lang``, ``user``,
    ``csrf`` (a hidden input for forms), ``nav`` and the pending flash message."""
    lang = lang_of(request)
    t = translator(lang)
    csrf_value = user.csrf if user is not None else ""
    page: dict[str, Any] = {
        "request": request,
        "lang": lang,
        "html_lang": html_lang(lang),
        "t": t,
        "user": user,
        "kind_name": (t(*KIND_NAMES[user.kind]) if user is not None and user.kind in KIND_NAMES else ""),
        "nav": [] if user is None else NAV.get(user.kind, []),
        "path": request.url.path,
        "csrf_value": csrf_value,
        "csrf": Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, csrf_value),
        "flash": _read_flash(request),
        "here": request.url.path + ("?" + request.url.query if request.url.query else ""),
    }
    page.update(_taxonomy_helpers(lang))
    page.update(context or {})
    response = templates.TemplateResponse(request, template, page, status_code=status_code)
    if page["flash"] is not None:
        response.delete_cookie(FLASH_COOKIE, path="/")
    response.headers["Content-Security-Policy"] = PAGE_CSP
    response.headers["Cache-Control"] = "no-store"
    return response


def redirect(url: str, flash: tuple[str, str, str] | None = None) -> RedirectResponse:
    """303 See Other to *url*, with an optional flash ``(kind, zh, en)`` for the page it leads to."""
    response = RedirectResponse(url, status_code=303)
    if flash is not None:
        set_flash(response, *flash)
    return response


def error_flash(exc: DomainError) -> tuple[str, str, str]:
    return ("error", exc.message_zh, exc.message_en)


def act(run: Callable[[], T], *, ok_url: str | Callable[[T], str], ok: tuple[str, str], back_url: str) -> Response:
    """Post/Redirect/Get for a button: run the use case; on success go to *ok_url* with the *ok* message, on a
    domain error go back to *back_url* with the error's own message (the rule that refused, in both languages)."""
    try:
        result = run()
    except DomainError as exc:
        return redirect(back_url, error_flash(exc))
    target = ok_url(result) if callable(ok_url) else ok_url
    return redirect(target, ("ok", *ok))


def field_errors(exc: DomainError) -> dict[str, tuple[str, str]]:
    """``InvalidInput.detail`` (``[{"field", "message", "message_en"}]``) → ``{field: (zh, en)}`` for a form."""
    errors: dict[str, tuple[str, str]] = {}
    detail = exc.detail
    if isinstance(detail, list):
        for item in detail:
            if isinstance(item, dict) and "field" in item:
                field = str(item["field"])
                errors.setdefault(field, (str(item.get("message", "")), str(item.get("message_en", ""))))
    return errors


def form_values(form: Mapping[str, Any], *names: str) -> dict[str, str]:
    """The submitted text of *names* (stripped), to fill a form again after a refusal: nothing typed is lost."""
    values: dict[str, str] = {}
    for name in names:
        value = form.get(name)
        values[name] = value.strip() if isinstance(value, str) else ""
    return values
