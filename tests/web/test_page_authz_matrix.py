"""The page authorisation matrix, generated from the route table: every web page route (GET and POST) × every kind
of organisation (and no login) × own vs foreign ids — the pages' twin of ``tests/api/test_authz_matrix.py``.

The same two tenants run the whole flow side by side (``tests/api/tenants.py``); the viewers are chain A's users and
the programme office, each in a browser of its own (session cookie, forms posted with their CSRF token, so a case
exercises the authorisation and not the CSRF guard).  Chain B is the foreign tenant whose private texts all carry
``乙方机密``.  For each case:

- without a session → a redirect to ``/login`` (public pages excepted);
- a kind the page is not for → the 403 page;
- an admitted kind on its own ids → never 401/403/404 (a GET answers as its rule says, 200 unless told);
- an admitted kind on the other tenant's ids → a GET is 404; a POST is 404, or a refusal the form shows
  (422/409, or a redirect to a page with an error message) — unless the page shares those records with that kind;
- no response is a 5xx, and no page shown to a kind it does not share with contains chain B's marker;
- after every case has run, chain B's records are exactly as they were: no write reached them.

Every page route must have a rule below: a new page without one fails the test, so the matrix grows with the site.
No leak is tolerated: the one this matrix found when it was written (any bank read any SME's record on
``/bank/credit-suggestions/{sme_id}``) is closed by the consent rule (授权查询, finance.service.record_access).
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from api.app import create_app
from api.deps import get_clock
from api.web.session import SESSION_COOKIE, csrf_for
from market import offer_import
from qianfan import jobs as job_service
from qianfan import notifications
from qianfan.clock import FrozenClock
from qianfan.config import Settings
from qianfan.models import DeadLetter, Interest, InterestKind, Notification, OrgKind
from qianfan.uow import UnitOfWork
from tests.api.conftest import use_fresh_offer_index
from tests.api.tenants import (
    FOREIGN_MARKER,
    KINDS,
    PASSWORD,
    Chain,
    Tenants,
    _reviewer,
    bank_admin,
    build_tenants,
)
from tests.api.test_authz_matrix import _add_sme_lines, _snapshot
from tests.web.conftest import Pages

LF, SME, BANK, OFFICE, PROVIDER = (
    OrgKind.LARGE_FIRM,
    OrgKind.SME,
    OrgKind.BANK,
    OrgKind.PROGRAMME_OFFICE,
    OrgKind.SERVICE_PROVIDER,
)
VIEWERS: tuple[OrgKind | None, ...] = (None, LF, SME, BANK, PROVIDER, OFFICE)
ANY = frozenset(OrgKind)  # any logged-in user
#: Routes of the application that are not pages (the API's own documents and the health check).
NOT_PAGES = frozenset({"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", "/health"})


@dataclass(frozen=True)
class Rule:
    """Who may open a page, and with which records.

    ``kinds``: admitted kinds (``None``: public, no login needed; ``ANY``: any logged-in user).  ``ids``: path
    parameter → record name in ``Chain.ids`` (``{kind}`` is replaced by the viewer's kind, for records each viewer
    has its own of).  ``shared``: admitted kinds that may also reach the other tenant's records here.  ``marker_ok``:
    kinds whose pages may show the other tenant's texts (defaults to ``shared``).  ``form`` / ``query``: sent with
    the request, from the chain whose ids are used and the viewer's own chain.  ``status``: what a GET answers its
    admitted kinds on their own ids.  ``redirect_only``: the route only redirects to the viewer's page for the id
    (which decides); ``tenanted``: the ids are no tenant's (no foreign case).  ``bank_admin``: the bank's
    administrator is the bank viewer (decisions a reviewer may not take).
    """

    kinds: frozenset[OrgKind] | None
    ids: dict[str, str] = field(default_factory=dict)
    shared: frozenset[OrgKind] = frozenset()
    marker_ok: frozenset[OrgKind] | None = None
    form: Callable[[Chain, Chain], dict[str, Any]] | None = None
    query: Callable[[Chain, Chain], dict[str, Any]] | None = None
    status: frozenset[int] = frozenset({200})
    redirect_only: bool = False
    tenanted: bool = True
    bank_admin: bool = False  # opened by the bank's administrator rather than its reviewer

    def may_see_foreign_text(self, kind: OrgKind) -> bool:
        return kind == OFFICE or kind in (self.shared if self.marker_ok is None else self.marker_ok)


def _k(*kinds: OrgKind) -> frozenset[OrgKind]:
    return frozenset(kinds)


S, F, B, OF, P = _k(SME), _k(LF), _k(BANK), _k(OFFICE), _k(PROVIDER)
REDIRECT = frozenset({303})

#: (method, path) → rule.  Keep in the order of the route table.
RULES: dict[tuple[str, str], Rule] = {
    # --- pages every user shares
    ("GET", "/"): Rule(None),
    ("GET", "/login"): Rule(None),
    ("POST", "/login"): Rule(None, form=lambda c, o: {"username": "nobody", "password": "wrong-password"}),
    ("POST", "/logout"): Rule(ANY),
    ("GET", "/lang/{code}"): Rule(None),
    ("GET", "/inbox"): Rule(ANY),
    ("POST", "/inbox/{notification_id}/read"): Rule(ANY, {"notification_id": "notification_{kind}"}),
    ("GET", "/jobs/{job_id}"): Rule(ANY, {"job_id": "job_{kind}"}, shared=OF),  # the office follows every job
    ("GET", "/finance/applications/{application_id}"): Rule(
        ANY, {"application_id": "application"}, status=REDIRECT, redirect_only=True
    ),
    ("GET", "/orders/{order_id}"): Rule(ANY, {"order_id": "order"}, status=REDIRECT, redirect_only=True),
    ("GET", "/finance/loans/{loan_id}"): Rule(ANY, {"loan_id": "loan"}, status=REDIRECT, redirect_only=True),
    ("GET", "/finance/receivables/{receivable_id}"): Rule(
        ANY, {"receivable_id": "receivable"}, status=REDIRECT, redirect_only=True
    ),
    # --- the SME's portal: offers, the order book (open to SMEs), deals, receivables, finance, contracts, lines
    ("GET", "/sme"): Rule(S),
    ("GET", "/sme/offers"): Rule(S),
    ("GET", "/sme/offers/new"): Rule(S),
    ("POST", "/sme/offers"): Rule(S),
    ("GET", "/sme/offers/{offer_id}/edit"): Rule(S, {"offer_id": "offer"}),
    ("POST", "/sme/offers/{offer_id}/edit"): Rule(
        S, {"offer_id": "offer"}, form=lambda c, o: {"title": "矩阵测试产品", "category": "ict.iot"}
    ),
    ("POST", "/sme/offers/{offer_id}/withdraw"): Rule(S, {"offer_id": "spare_offer"}),
    ("GET", "/sme/offers/import"): Rule(S),
    ("GET", "/sme/offers/import/template.csv"): Rule(S),
    ("GET", "/sme/offers/import/template.xlsx"): Rule(S),
    ("POST", "/sme/offers/import"): Rule(S),
    ("GET", "/sme/offers/import/{job_id}"): Rule(S, {"job_id": "import_job"}),
    ("GET", "/sme/matches"): Rule(S),
    ("GET", "/sme/orders/{order_id}"): Rule(S, {"order_id": "order"}, shared=S),
    ("POST", "/sme/orders/{order_id}/interest"): Rule(
        S, {"order_id": "order"}, shared=S, form=lambda c, o: {"offer_id": o.ids["spare_offer"], "note": "矩阵"}
    ),
    ("POST", "/sme/orders/{order_id}/propose"): Rule(S, {"order_id": "order"}, shared=S),
    ("GET", "/sme/deals"): Rule(S),
    ("POST", "/sme/deals/{intent_id}/sign"): Rule(S, {"intent_id": "intent_order"}),
    ("POST", "/sme/deals/{intent_id}/cancel"): Rule(S, {"intent_id": "intent_order"}),
    ("GET", "/sme/receivables"): Rule(S),
    ("GET", "/sme/receivables/new"): Rule(S),
    ("POST", "/sme/receivables"): Rule(
        S, form=lambda c, o: {"contract_id": c.ids["contract"], "title": "矩阵应收账款", "face": "100.00"}
    ),
    ("GET", "/sme/finance"): Rule(S),
    ("GET", "/sme/finance/quote"): Rule(
        S, query=lambda c, o: {"part": c.ids["spare_part"], "product": c.ids["product"], "amount": "1000.00"}
    ),
    ("GET", "/sme/finance/apply"): Rule(
        S, query=lambda c, o: {"part": c.ids["spare_part"], "product": c.ids["product"], "amount": "1000.00"}
    ),
    ("POST", "/sme/finance/apply"): Rule(
        S, form=lambda c, o: {"part": c.ids["spare_part"], "product": c.ids["product"], "amount": "1000.00"}
    ),
    ("GET", "/sme/finance/{application_id}"): Rule(S, {"application_id": "application"}),
    ("POST", "/sme/finance/{application_id}/info"): Rule(
        S, {"application_id": "pending_application"}, form=lambda c, o: {"answer": "矩阵"}
    ),
    ("POST", "/sme/finance/{application_id}/sign"): Rule(S, {"application_id": "pending_application"}),
    ("POST", "/sme/finance/{application_id}/repay"): Rule(
        S, {"application_id": "application"}, form=lambda c, o: {"amount": "1.00"}
    ),
    ("POST", "/sme/finance/{application_id}/withdraw"): Rule(S, {"application_id": "pending_application"}),
    ("GET", "/sme/contracts/{contract_id}"): Rule(S, {"contract_id": "contract"}),
    ("POST", "/sme/contracts/{contract_id}/finance"): Rule(
        S, {"contract_id": "contract"}, form=lambda c, o: {"bank_id": c.ids["bank_org"], "amount": "1000.00"}
    ),
    ("GET", "/sme/credit-lines"): Rule(S),
    ("POST", "/sme/credit-lines/{line_id}/drawdown"): Rule(
        S, {"line_id": "sme_line"}, form=lambda c, o: {"amount": "1000.00", "due_on": "2027-01-31"}
    ),
    # 授权查询: an SME grants any bank on the platform access to its own record and revokes it; the grants are the
    # SME's own rows, whichever bank they name (chain B's bank included), as the API's record-access routes
    ("GET", "/sme/record-access"): Rule(S),
    ("POST", "/sme/record-access"): Rule(S, form=lambda c, o: {"bank_id": c.ids["bank_org"]}, shared=S, marker_ok=_k()),
    ("POST", "/sme/record-access/{bank_id}/revoke"): Rule(S, {"bank_id": "bank_org"}, shared=S, marker_ok=_k()),
    # --- the large firm's portal: orders and their matches (the offer catalogue is open to large firms), deals,
    # receivables to confirm, repayments, contracts and their settlement, bank statements
    ("GET", "/firm"): Rule(F),
    ("GET", "/firm/orders"): Rule(F),
    ("GET", "/firm/orders/new"): Rule(F),
    ("POST", "/firm/orders"): Rule(F),
    ("GET", "/firm/orders/{order_id}/edit"): Rule(F, {"order_id": "order"}),
    ("POST", "/firm/orders/{order_id}/edit"): Rule(
        F, {"order_id": "order"}, form=lambda c, o: {"title": "矩阵测试订单", "category": "ict.iot"}
    ),
    ("POST", "/firm/orders/{order_id}/close"): Rule(F, {"order_id": "order"}),
    # the offer catalogue is open to large firms: another tenant's offers rank for its order
    ("GET", "/firm/orders/{order_id}"): Rule(F, {"order_id": "order"}, marker_ok=F),
    ("GET", "/firm/orders/{order_id}/compare"): Rule(
        F, {"order_id": "order"}, query=lambda c, o: {"offer": [c.ids["offer"], c.ids["spare_offer"]]}
    ),
    ("POST", "/firm/orders/{order_id}/shortlist"): Rule(
        F, {"order_id": "order"}, form=lambda c, o: {"offer_id": c.ids["offer"], "note": "矩阵"}
    ),
    ("POST", "/firm/orders/{order_id}/reject"): Rule(
        F, {"order_id": "order"}, form=lambda c, o: {"offer_id": c.ids["spare_offer"], "note": "矩阵"}
    ),
    ("GET", "/firm/orders/{order_id}/propose/{offer_id}"): Rule(F, {"order_id": "order", "offer_id": "spare_offer"}),
    ("POST", "/firm/orders/{order_id}/propose/{offer_id}"): Rule(F, {"order_id": "order", "offer_id": "spare_offer"}),
    ("GET", "/firm/deals"): Rule(F),
    ("POST", "/firm/deals/{intent_id}/sign"): Rule(F, {"intent_id": "intent_order"}),
    ("POST", "/firm/deals/{intent_id}/cancel"): Rule(F, {"intent_id": "intent_order"}),
    ("GET", "/firm/receivables"): Rule(F),
    ("POST", "/firm/receivables/{receivable_id}/confirm"): Rule(
        F, {"receivable_id": "spare_receivable"}, form=lambda c, o: {"irrevocable_undertaking": "on"}
    ),
    ("POST", "/firm/receivables/confirm-batch"): Rule(
        F, form=lambda c, o: {"receivable_id": c.ids["spare_receivable"], "irrevocable_undertaking": "on"}
    ),
    ("POST", "/firm/receivables/{receivable_id}/dispute"): Rule(
        F, {"receivable_id": "spare_receivable"}, form=lambda c, o: {"reason": "矩阵测试"}
    ),
    ("GET", "/firm/repayments"): Rule(F),
    ("POST", "/firm/repayments/{loan_id}"): Rule(F, {"loan_id": "loan"}, form=lambda c, o: {"amount": "1.00"}),
    ("GET", "/firm/contracts"): Rule(F),
    ("GET", "/firm/contracts/{contract_id}"): Rule(F, {"contract_id": "contract"}),
    ("POST", "/firm/contracts/{contract_id}/plan"): Rule(F, {"contract_id": "contract"}),
    ("POST", "/firm/contracts/{contract_id}/accept"): Rule(
        F, {"contract_id": "contract"}, form=lambda c, o: {"accepted_on": "2026-11-02"}
    ),
    ("POST", "/firm/contracts/{contract_id}/payments"): Rule(
        F, {"contract_id": "contract"}, form=lambda c, o: {"ref": "MATRIX-1", "amount": "1.00", "paid_on": "2026-11-02"}
    ),
    ("POST", "/firm/statements"): Rule(F),
    ("GET", "/firm/statements/{import_id}"): Rule(F, {"import_id": "statement"}),
    # --- the bank's portal: its review queue and applications, loans, portfolio, suggested lines for SMEs
    ("GET", "/bank"): Rule(B),
    ("GET", "/bank/applications/{application_id}"): Rule(B, {"application_id": "application"}),
    ("POST", "/bank/applications/{application_id}/start-review"): Rule(B, {"application_id": "pending_application"}),
    ("POST", "/bank/applications/{application_id}/approve"): Rule(
        B, {"application_id": "pending_application"}, form=lambda c, o: {"amount": "1000.00", "annual_rate": "4.50"}
    ),
    ("POST", "/bank/applications/{application_id}/reject"): Rule(
        B, {"application_id": "pending_application"}, form=lambda c, o: {"reason": "矩阵"}
    ),
    ("POST", "/bank/applications/{application_id}/request-info"): Rule(
        B, {"application_id": "pending_application"}, form=lambda c, o: {"question": "矩阵"}
    ),
    ("POST", "/bank/applications/{application_id}/disburse"): Rule(
        B, {"application_id": "pending_application"}, form=lambda c, o: {"idempotency_key": "matrix-disburse"}
    ),
    ("GET", "/bank/loans"): Rule(B),
    ("GET", "/bank/portfolio"): Rule(B),
    ("GET", "/bank/credit-suggestions"): Rule(B),
    # Only where the SME applied to this bank or granted it access (issue 16): another tenant's SME is a 404.
    ("GET", "/bank/credit-suggestions/{sme_id}"): Rule(B, {"sme_id": "sme_org"}),
    # As the API's decision route: a bank decides its own line for an SME whose record it may read (授权查询).
    ("POST", "/bank/credit-suggestions/{sme_id}/decision"): Rule(
        B, {"sme_id": "sme_org"}, form=lambda c, o: {"decision": "decline", "note": "矩阵"}, bank_admin=True
    ),
    ("GET", "/bank/credit-lines"): Rule(B),
    # --- the programme office sees the whole funnel
    ("GET", "/office"): Rule(OF),
    ("GET", "/office/turnaround"): Rule(OF),
    ("GET", "/office/exports"): Rule(OF),
    ("GET", "/office/exports/stats.csv"): Rule(OF),
    ("GET", "/office/exports/ocds.json"): Rule(OF),
    ("GET", "/office/operations"): Rule(OF),
    ("POST", "/office/operations/refit"): Rule(OF),
    ("POST", "/office/operations/dead-letters/{dead_letter_id}/replay"): Rule(
        OF, {"dead_letter_id": "dead_letter"}, tenanted=False
    ),
    ("GET", "/office/audit"): Rule(OF),
    ("POST", "/office/audit/verify"): Rule(OF),
    ("GET", "/office/late-buyers"): Rule(OF),
    # --- the service provider's portal
    ("GET", "/provider"): Rule(P),
    ("POST", "/provider/packages"): Rule(P, form=lambda c, o: {"title": "矩阵服务包", "category": "ict.iot"}),
}


def page_routes(app: FastAPI) -> list[tuple[str, str, Any]]:
    """(method, path, route context) for every page route (everything but the API, static files and the API's own
    documents), sorted."""
    rows = []
    for route in iter_route_contexts(app.routes):
        path = route.path
        if not isinstance(route.original_route, APIRoute) or not path or path.startswith(("/api/", "/static")):
            continue
        if path in NOT_PAGES:
            continue
        for method in sorted((route.methods or set()) - {"HEAD"}):
            rows.append((method, path, route))
    return sorted(rows, key=lambda row: (row[1], row[0]))


def page_kinds(route: Any) -> frozenset[OrgKind] | None:
    """The kinds a route's ``page_for`` dependency admits: ``ANY`` for any logged-in user, ``None`` when public."""
    names: list[str] = []
    stack = [route.dependant]
    while stack:
        dep = stack.pop()
        names.append(getattr(dep.call, "__name__", ""))
        stack.extend(dep.dependencies)
    for name in names:
        if name.startswith("page_for_"):
            values = name.removeprefix("page_for_").split("_or_")
            return frozenset(OrgKind(v) for v in values)
    return ANY if "require_user" in names else None


# ------------------------------------------------------------------------------------------------- the world


@dataclass
class World:
    tenants: Tenants
    browsers: dict[OrgKind | None, Pages]
    usernames: dict[OrgKind, str]
    admin: Pages  # the bank's administrator

    def login(self, viewer: OrgKind) -> None:
        browser = self.browsers[viewer]
        browser.client.cookies.clear()
        browser.login(self.usernames[viewer], PASSWORD)


def _extra_records(engine: Engine, clock: FrozenClock, tenants: Tenants) -> None:
    """Records the pages name that the tenants do not have: an inbox notification and a background job for each
    viewer, an offer-import job of each SME, one dead letter for the office."""
    office_org = tenants.office.organisation_id
    for chain in (tenants.a, tenants.b):
        secret = FOREIGN_MARKER if chain.name == "B" else "甲方"
        for kind in (*KINDS, OFFICE):
            # Chain B has no office: its "office" records are its SME's, foreign to the office all the same.
            org_id = (
                office_org if kind == OFFICE and chain.name == "A" else chain.org_id(kind if kind != OFFICE else SME)
            )
            actor = (
                tenants.office
                if kind == OFFICE and chain.name == "A"
                else chain.actors[kind if kind != OFFICE else SME]
            )
            if kind == BANK:
                actor = _reviewer(engine, actor)  # the bank's viewer
            notifications.notify(
                UnitOfWork(engine, clock),
                [org_id],
                kind="matrix",
                title=f"{secret}矩阵通知",
                link="/inbox",
                dedupe_key=f"matrix-{chain.name}-{kind.value}",
            )
            with Session(engine) as s:
                note = s.exec(
                    select(Notification)
                    .where(Notification.organisation_id == org_id, Notification.kind == "matrix")
                    .order_by(col(Notification.id).desc())
                ).first()
            assert note is not None and note.id is not None
            chain.ids[f"notification_{kind.value}"] = note.id
            job = job_service.start_job(
                UnitOfWork(engine, clock), "matrix", f"matrix-{chain.name}-{kind.value}", actor, total=1
            )
            assert job.id is not None
            chain.ids[f"job_{kind.value}"] = job.id
        with Session(engine) as s:  # the order is awarded already: its spare offer shortlisted as it was before
            s.add(
                Interest(
                    order_id=chain.ids["order"],
                    offer_id=chain.ids["spare_offer"],
                    kind=InterestKind.SHORTLIST,
                    organisation_id=chain.org_id(LF),
                    note=f"{secret}入围备注",
                    created_at=clock.now(),
                )
            )
            s.commit()
        imported = job_service.start_job(
            UnitOfWork(engine, clock),
            offer_import.IMPORT_OFFERS,
            f"matrix-import-{chain.name}",
            chain.actors[SME],
            total=1,
        )
        assert imported.id is not None
        chain.ids["import_job"] = imported.id
    notifications.record_dead_letter(
        UnitOfWork(engine, clock),
        task_id="matrix-dead-1",
        task_name="workers.tasks.finance.risk_check",
        args=[],
        kwargs={"application_id": 0},
        error="RuntimeError: matrix",
        attempts=5,
    )
    with Session(engine) as s:
        dead = s.exec(select(DeadLetter).where(DeadLetter.task_id == "matrix-dead-1")).one()
    for chain in (tenants.a, tenants.b):
        assert dead.id is not None
        chain.ids["dead_letter"] = dead.id


@pytest.fixture
def world(engine: Engine, clock: FrozenClock, tmp_path: Path) -> Iterator[World]:
    tenants = build_tenants(engine, clock)
    _add_sme_lines(engine, clock, tenants)
    _extra_records(engine, clock, tenants)
    # Every viewer logs in from the same test client address: lift the per-address login limit.
    app = create_app(Settings(env="test", login_attempts_per_minute=10_000), engine=engine)
    app.dependency_overrides[get_clock] = lambda: clock
    use_fresh_offer_index(app, engine, clock, tmp_path / "offers")
    names = {kind: tenants.a.usernames[kind] for kind in KINDS}
    names[OFFICE] = tenants.office_username
    with TestClient(app) as main:
        browsers: dict[OrgKind | None, Pages] = {None: Pages(main)}
        for kind in VIEWERS[1:]:
            assert kind is not None
            browsers[kind] = Pages(TestClient(app))
        w = World(tenants, browsers, names, Pages(TestClient(app)))
        for kind in VIEWERS[1:]:
            assert kind is not None
            w.login(kind)
        w.admin.login(bank_admin(tenants), PASSWORD)
        yield w


# ------------------------------------------------------------------------------------------------- the cases


@dataclass
class Outcome:
    method: str
    path: str
    viewer: str
    scope: str
    status: int
    problem: str | None = None


_n = itertools.count(1)


def _url(path: str, rule: Rule, chain: Chain, viewer: OrgKind | None) -> str:
    url = path
    for param, name in rule.ids.items():
        key = name.format(kind=(viewer or SME).value)
        url = url.replace("{" + param + "}", str(chain.ids[key]))
    return url.replace("{code}", "zh")


def _call(world: World, method: str, path: str, rule: Rule, chain: Chain, viewer: OrgKind | None) -> tuple[Any, str]:
    """The response, and the text of the page a redirect leads to (where a refused form shows its message)."""
    browser = world.admin if rule.bank_admin and viewer == BANK else world.browsers[viewer]
    http = browser.client
    url = _url(path, rule, chain, viewer)
    params = rule.query(chain, world.tenants.a) if rule.query else None
    if method == "GET":
        response = http.get(url, params=params, follow_redirects=False)
    else:
        token = http.cookies.get(SESSION_COOKIE, "")
        data = {
            "csrf_token": csrf_for(token) if token else "",
            **(rule.form(chain, world.tenants.a) if rule.form else {}),
        }
        if "idempotency_key" in data:
            data["idempotency_key"] = f"{data['idempotency_key']}-{next(_n)}"
        response = http.post(url, data=data, params=params, follow_redirects=False)
    followed = ""
    location = response.headers.get("location", "")
    if response.status_code in (302, 303) and location.startswith("/") and not location.startswith("/login"):
        followed = http.get(location, follow_redirects=False).text
    return response, followed


def _gist(text: str) -> str:
    """The page's message (its flash or error text), else the start of the answer."""
    found = re.search(r'class="(?:flash-error|error-message)[^"]*"[^>]*>(.*?)<', text, re.S) or re.search(
        r"<title>(.*?)</title>", text, re.S
    )
    return (found.group(1) if found else text[:160]).strip()


def _judge(rule: Rule, method: str, viewer: OrgKind | None, scope: str, response: Any, followed: str) -> str | None:
    status, text = response.status_code, response.text
    if status >= 500:
        return f"server error {status}: {_gist(text)}"
    if viewer is None:
        if rule.kinds is None:
            return None
        location = response.headers.get("location", "")
        return None if status == 303 and location.startswith("/login") else f"expected the login redirect, got {status}"
    if FOREIGN_MARKER in text and not rule.may_see_foreign_text(viewer):
        return "the other tenant's data leaked into the page"
    if rule.kinds is None:
        return None
    if viewer not in rule.kinds:
        return None if status == 403 else f"expected the 403 page for {viewer.value}, got {status}"
    if scope == "own" or viewer in rule.shared or rule.redirect_only:
        if status in (401, 403, 404):
            return f"expected access for {viewer.value} ({scope} ids), got {status}: {_gist(text)}"
        if method == "GET" and scope == "own" and status not in rule.status:
            return f"expected {sorted(rule.status)} on own ids, got {status}: {_gist(text)}"
        return None
    if status == 200 and method == "GET":
        return "200 on the other tenant's record"
    if method == "GET":
        return None if status == 404 else f"expected 404 on the other tenant's ids, got {status}"
    if status in (404, 409, 422) or (status == 303 and "flash-error" in followed):
        return None
    return f"the form on the other tenant's ids was not refused ({status})"


def _names(kinds: frozenset[OrgKind] | None) -> str:
    if kinds is None:
        return "everyone (public)"
    return "any logged-in user" if kinds == ANY else ", ".join(sorted(k.value for k in kinds))


def _cases(world: World, app: FastAPI) -> Iterator[tuple[str, str, Rule, OrgKind | None, str]]:
    missing: list[str] = []
    disagree: list[str] = []
    routes = page_routes(app)
    # Reads first, then writes (a write may close or withdraw one of chain A's records); logging out last.
    routes.sort(key=lambda row: (row[0] != "GET", row[1] == "/logout"))
    for method, path, route in routes:
        rule = RULES.get((method, path))
        if rule is None:
            missing.append(f"{method} {path}")
            continue
        declared = page_kinds(route)
        if declared != rule.kinds:
            disagree.append(f"{method} {path}: the route admits {_names(declared)}, the rule {_names(rule.kinds)}")
            continue
        names_records = bool(rule.ids) and rule.tenanted
        names_records = names_records or (
            rule.form is not None
            and rule.form(world.tenants.a, world.tenants.a) != rule.form(world.tenants.b, world.tenants.a)
        )
        names_records = names_records or (
            rule.query is not None
            and rule.query(world.tenants.a, world.tenants.a) != rule.query(world.tenants.b, world.tenants.a)
        )
        for viewer in VIEWERS:
            for scope in ("own", "foreign") if names_records else ("own",):
                yield method, path, rule, viewer, scope
    assert not missing, "page routes without an authorisation rule (add one to RULES):\n" + "\n".join(missing)
    assert not disagree, "rules that disagree with the route's dependency:\n" + "\n".join(disagree)


def _run(world: World, app: FastAPI) -> list[Outcome]:
    outcomes = []
    for method, path, rule, viewer, scope in _cases(world, app):
        chain = world.tenants.a if scope == "own" else world.tenants.b
        response, followed = _call(world, method, path, rule, chain, viewer)
        problem = _judge(rule, method, viewer, scope, response, followed)
        label = "anonymous" if viewer is None else viewer.value
        outcomes.append(Outcome(method, path, label, scope, response.status_code, problem))
        if path == "/logout" and viewer is not None:
            world.login(viewer)  # that session is gone: log in again for the next case
    return outcomes


def test_page_authorisation_matrix(world: World, engine: Engine) -> None:
    before = _snapshot(engine, world.tenants.b)
    app = world.browsers[None].client.app
    outcomes = _run(world, app)
    after = _snapshot(engine, world.tenants.b)
    changed = [key for key in before if before[key] != after[key]]

    routes = len({(o.method, o.path) for o in outcomes})
    print(f"\npage authorisation matrix: {routes} page routes × {len(VIEWERS)} viewers, {len(outcomes)} cases")
    by_viewer = Counter((o.viewer, o.status) for o in outcomes)
    for viewer in ("anonymous", *(k.value for k in VIEWERS if k is not None)):
        statuses = {s: n for (v, s), n in sorted(by_viewer.items()) if v == viewer}
        print(f"  {viewer:>17}: {statuses}")

    problems = [o for o in outcomes if o.problem]
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(
        f"{o.method} {o.path} as {o.viewer} ({o.scope}): {o.problem}" for o in problems[:80]
    )
    assert not changed, f"the other tenant's records changed: {changed}"
