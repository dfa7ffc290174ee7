"""The authorisation matrix, generated from the route table: every ``/api/v1`` operation × every kind of
organisation (and no login) × own vs foreign ids.

Two tenants run the whole flow side by side (``tests/api/tenants.py``); the viewers are chain A's users and the
programme office, and chain B is the foreign tenant whose private texts all carry ``乙方机密``.  For each case:

- without a token → 401 (public routes excepted);
- a kind the route does not admit → 403 (or 404);
- an admitted kind on its own tenant's ids → never 401/403/404 (a state rule may still say 409/422);
- an admitted kind on the other tenant's ids → 404 (or 403), unless the route shares those records with that
  kind (the order book is open to SMEs, the offer catalogue to large firms…);
- no response is a 5xx, and no response to a viewer the route does not share with contains chain B's marker;
- after every case has run, chain B's records are exactly as they were: no write reached them.

Every operation must have a rule below: a new route without one fails the test, so the matrix grows with the API.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from api.app import create_app
from api.deps import get_clock
from finance import service as fs
from qianfan.clock import FrozenClock
from qianfan.config import Settings
from qianfan.models import (
    Contract,
    FinanceApplication,
    IntentOrder,
    Loan,
    Mentor,
    Offer,
    Order,
    OrgKind,
    Receivable,
    ReceivablePart,
    ServiceNeed,
    ServicePackage,
    SmeCreditLine,
)
from qianfan.uow import UnitOfWork
from tests.api.conftest import use_fresh_offer_index
from tests.api.routes import admitted_kinds, api_routes
from tests.api.tenants import FOREIGN_MARKER, PASSWORD, Chain, Tenants, bank_admin, build_tenants, usernames

LF, SME, BANK, OFFICE, PROVIDER = (
    OrgKind.LARGE_FIRM,
    OrgKind.SME,
    OrgKind.BANK,
    OrgKind.PROGRAMME_OFFICE,
    OrgKind.SERVICE_PROVIDER,
)
EVERYONE = frozenset(OrgKind)
VIEWERS: tuple[OrgKind | None, ...] = (None, LF, SME, BANK, PROVIDER, OFFICE)

Body = Callable[[Chain, Chain], dict[str, Any] | None]


@dataclass(frozen=True)
class Rule:
    """Who may call an operation, and with which records.

    ``kinds``: admitted kinds (``None``: public, no login needed).  ``ids``: path parameter → record name in
    ``Chain.ids``.  ``shared``: admitted kinds that may also reach the other tenant's records here.
    ``marker_ok``: kinds whose answers may contain the other tenant's texts (defaults to ``shared``).
    ``body``: JSON body from (the chain whose ids are used, the viewer's own chain).  ``form``: form body.
    """

    kinds: frozenset[OrgKind] | None
    ids: dict[str, str] = field(default_factory=dict)
    shared: frozenset[OrgKind] = frozenset()
    marker_ok: frozenset[OrgKind] | None = None
    body: Body | None = None
    form: dict[str, str] | None = None
    files: dict[str, tuple[str, bytes, str]] | None = None  # multipart uploads (with ``form`` fields, if any)
    query: Callable[[Chain], dict[str, Any]] | None = None
    bank_admin: bool = False  # called by the bank's administrator rather than its reviewer
    refusals: frozenset[int] = frozenset({403, 404})  # how the other tenant's ids may be refused

    def may_see_foreign_text(self, kind: OrgKind) -> bool:
        return kind in (self.shared if self.marker_ok is None else self.marker_ok)


def _k(*kinds: OrgKind) -> frozenset[OrgKind]:
    return frozenset(kinds)


READ_ALL = _k(LF, SME, BANK, PROVIDER, OFFICE)

#: (method, path) → rule.  Keep in the order of the route table.
RULES: dict[tuple[str, str], Rule] = {
    # --- log in, who am I, reference data
    ("POST", "/api/v1/auth/token"): Rule(None, form={"username": "nobody", "password": "wrong-password"}),
    ("POST", "/api/v1/auth/logout"): Rule(READ_ALL),
    ("GET", "/api/v1/me"): Rule(READ_ALL),
    ("GET", "/api/v1/taxonomy"): Rule(None),
    ("GET", "/api/v1/organisations"): Rule(READ_ALL),
    ("GET", "/api/v1/organisations/{organisation_id}"): Rule(READ_ALL, {"organisation_id": "sme_org"}, shared=READ_ALL),
    # --- the programme office
    ("GET", "/api/v1/stats"): Rule(_k(OFFICE)),
    ("GET", "/api/v1/stats.csv"): Rule(_k(OFFICE)),
    ("GET", "/api/v1/stats/finance-by-product"): Rule(_k(OFFICE)),
    ("GET", "/api/v1/stats/finance-by-product.csv"): Rule(_k(OFFICE)),
    ("GET", "/api/v1/audit/events"): Rule(_k(OFFICE)),
    ("GET", "/api/v1/audit/verify"): Rule(_k(OFFICE)),
    # --- orders: a large firm sees only its own; the order book is open to SMEs and service providers
    ("GET", "/api/v1/orders"): Rule(_k(LF, SME, PROVIDER, OFFICE), shared=_k(SME, PROVIDER)),
    ("POST", "/api/v1/orders"): Rule(
        _k(LF),
        body=lambda c, o: {
            "title": "矩阵测试订单",
            "category": "ict.iot",
            "budget": "100000.00",
            "district": "海淀园",
            "deadline": "2027-01-31",
        },
    ),
    ("GET", "/api/v1/orders/{order_id}"): Rule(
        _k(LF, SME, PROVIDER, OFFICE), {"order_id": "order"}, shared=_k(SME, PROVIDER)
    ),
    ("PATCH", "/api/v1/orders/{order_id}"): Rule(
        _k(LF), {"order_id": "order"}, body=lambda c, o: {"description": "矩阵测试修改"}
    ),
    ("POST", "/api/v1/orders/{order_id}/close"): Rule(_k(LF), {"order_id": "order"}),
    ("GET", "/api/v1/orders/{order_id}/matches"): Rule(_k(LF, OFFICE), {"order_id": "order"}, marker_ok=_k(LF)),
    ("POST", "/api/v1/orders/{order_id}/shortlist"): Rule(
        _k(LF), {"order_id": "order"}, body=lambda c, o: {"offer_id": c.ids["offer"], "note": "矩阵"}
    ),
    ("POST", "/api/v1/orders/{order_id}/reject"): Rule(
        _k(LF), {"order_id": "order"}, body=lambda c, o: {"offer_id": c.ids["spare_offer"], "note": "矩阵"}
    ),
    # --- offers: an SME sees only its own; the catalogue of active offers is open to large firms
    ("GET", "/api/v1/offers"): Rule(_k(SME, LF, OFFICE), shared=_k(LF)),
    ("POST", "/api/v1/offers"): Rule(
        _k(SME),
        body=lambda c, o: {
            "title": "矩阵测试产品",
            "category": "ict.iot",
            "price_min": "1000.00",
            "price_max": "2000.00",
            "capacity": 1,
        },
    ),
    ("GET", "/api/v1/offers/{offer_id}"): Rule(_k(SME, LF, OFFICE), {"offer_id": "offer"}, shared=_k(LF)),
    ("PATCH", "/api/v1/offers/{offer_id}"): Rule(
        _k(SME), {"offer_id": "offer"}, body=lambda c, o: {"description": "矩阵测试修改"}
    ),
    ("POST", "/api/v1/offers/{offer_id}/interest"): Rule(
        _k(SME), {"offer_id": "offer"}, body=lambda c, o: {"order_id": c.ids["order"], "note": "矩阵"}
    ),
    ("GET", "/api/v1/offers/{offer_id}/interests"): Rule(_k(SME), {"offer_id": "offer"}),
    ("GET", "/api/v1/offers/{offer_id}/matches"): Rule(_k(SME), {"offer_id": "offer"}, marker_ok=_k(SME)),
    ("POST", "/api/v1/offers/{offer_id}/withdraw"): Rule(_k(SME), {"offer_id": "spare_offer"}),
    # --- services: packages and mentors are a public catalogue; needs belong to their SME
    ("GET", "/api/v1/service-packages"): Rule(READ_ALL),
    ("POST", "/api/v1/service-packages"): Rule(
        _k(PROVIDER), body=lambda c, o: {"title": "矩阵服务包", "category": "ict.iot", "value": "1000.00"}
    ),
    ("GET", "/api/v1/service-packages/{package_id}"): Rule(READ_ALL, {"package_id": "package"}, shared=READ_ALL),
    ("GET", "/api/v1/mentors"): Rule(READ_ALL),
    ("POST", "/api/v1/mentors"): Rule(
        _k(PROVIDER), body=lambda c, o: {"name": "矩阵导师", "headline": "导师", "expertise": ["ict.iot"]}
    ),
    ("GET", "/api/v1/mentors/{mentor_id}"): Rule(READ_ALL, {"mentor_id": "mentor"}, shared=READ_ALL),
    ("GET", "/api/v1/service-needs"): Rule(_k(SME, PROVIDER, OFFICE), shared=_k(PROVIDER)),
    ("POST", "/api/v1/service-needs"): Rule(
        _k(SME), body=lambda c, o: {"title": "矩阵服务需求", "category": "ict.iot", "budget": "1000.00"}
    ),
    ("GET", "/api/v1/service-needs/{need_id}"): Rule(
        _k(SME, PROVIDER, OFFICE), {"need_id": "need"}, shared=_k(PROVIDER)
    ),
    ("GET", "/api/v1/service-needs/{need_id}/mentors"): Rule(_k(SME), {"need_id": "need"}),
    ("GET", "/api/v1/service-needs/{need_id}/packages"): Rule(_k(SME), {"need_id": "need"}),
    # --- deals: only the two parties (and the office)
    ("GET", "/api/v1/intent-orders"): Rule(_k(LF, SME, OFFICE)),
    ("POST", "/api/v1/intent-orders"): Rule(
        _k(LF, SME),
        body=lambda c, o: {
            "order_id": c.ids["order"],
            "offer_id": c.ids["spare_offer"],
            "amount": "1000.00",
            "delivery_due": "2026-12-31",
        },
    ),
    ("GET", "/api/v1/intent-orders/{intent_id}"): Rule(_k(LF, SME, OFFICE), {"intent_id": "intent_order"}),
    ("POST", "/api/v1/intent-orders/{intent_id}/cancel"): Rule(_k(LF, SME), {"intent_id": "intent_order"}),
    ("POST", "/api/v1/intent-orders/{intent_id}/sign"): Rule(_k(LF, SME), {"intent_id": "intent_order"}),
    ("GET", "/api/v1/contracts"): Rule(_k(LF, SME, OFFICE)),
    ("GET", "/api/v1/contracts/{contract_id}"): Rule(_k(LF, SME, OFFICE), {"contract_id": "contract"}),
    # --- receivables: the holder SME, the debtor, the bank financing it, the office
    ("GET", "/api/v1/receivables"): Rule(_k(SME, LF, BANK, OFFICE)),
    ("POST", "/api/v1/receivables"): Rule(
        _k(SME),
        body=lambda c, o: {
            "title": "矩阵应收账款",
            "contract_id": c.ids["contract"],
            "face": "100.00",
            "issue_date": "2026-11-02",
            "due_date": "2027-01-31",
        },
    ),
    ("POST", "/api/v1/receivables/confirm-batch"): Rule(
        _k(LF),
        body=lambda c, o: {"items": [{"receivable_id": c.ids["spare_receivable"], "irrevocable_undertaking": True}]},
        refusals=frozenset({404, 422}),  # all or nothing: the refusal lists each item, "not found" for foreign ids
    ),
    ("POST", "/api/v1/receivables/parts/{part_id}/split"): Rule(
        _k(SME), {"part_id": "spare_part"}, body=lambda c, o: {"amounts": ["250000.00", "250000.00"]}
    ),
    ("POST", "/api/v1/receivables/parts/{part_id}/transfer"): Rule(
        _k(SME), {"part_id": "spare_part"}, body=lambda c, o: {"to_id": o.ids["sme_org"], "amount": "1.00"}
    ),
    ("GET", "/api/v1/receivables/{receivable_id}"): Rule(_k(SME, LF, BANK, OFFICE), {"receivable_id": "receivable"}),
    ("POST", "/api/v1/receivables/{receivable_id}/confirm"): Rule(
        _k(LF), {"receivable_id": "spare_receivable"}, body=lambda c, o: {"irrevocable_undertaking": True}
    ),
    ("POST", "/api/v1/receivables/{receivable_id}/dispute"): Rule(
        _k(SME, LF), {"receivable_id": "spare_receivable"}, body=lambda c, o: {"reason": "矩阵测试"}
    ),
    ("GET", "/api/v1/receivables/{receivable_id}/payments"): Rule(
        _k(SME, LF, BANK, OFFICE), {"receivable_id": "receivable"}
    ),
    ("POST", "/api/v1/receivables/{receivable_id}/payments"): Rule(
        _k(LF), {"receivable_id": "receivable"}, body=lambda c, o: {"amount": "1.00"}
    ),
    # --- finance applications: the applicant SME, the bank addressed, the office
    ("GET", "/api/v1/finance/applications"): Rule(_k(SME, BANK, OFFICE)),
    ("POST", "/api/v1/finance/applications"): Rule(
        _k(SME),
        body=lambda c, o: {"part_id": c.ids["spare_part"], "bank_id": c.ids["bank_org"], "amount": "1000.00"},
    ),
    ("GET", "/api/v1/finance/applications/quote"): Rule(
        _k(SME), query=lambda c: {"part_id": c.ids["spare_part"], "bank_id": c.ids["bank_org"]}
    ),
    ("GET", "/api/v1/finance/applications/review-queue"): Rule(_k(BANK)),
    ("GET", "/api/v1/finance/applications/{application_id}"): Rule(
        _k(SME, BANK, OFFICE), {"application_id": "application"}
    ),
    ("POST", "/api/v1/finance/applications/{application_id}/approve"): Rule(
        _k(BANK), {"application_id": "pending_application"}, body=lambda c, o: {"note": "矩阵"}
    ),
    ("POST", "/api/v1/finance/applications/{application_id}/disburse"): Rule(
        _k(BANK), {"application_id": "pending_application"}
    ),
    ("GET", "/api/v1/finance/applications/{application_id}/offer"): Rule(
        _k(SME, BANK, OFFICE), {"application_id": "application"}
    ),
    ("POST", "/api/v1/finance/applications/{application_id}/provide-info"): Rule(
        _k(SME), {"application_id": "pending_application"}, body=lambda c, o: {"answer": "矩阵"}
    ),
    ("POST", "/api/v1/finance/applications/{application_id}/reject"): Rule(
        _k(BANK), {"application_id": "pending_application"}, body=lambda c, o: {"reason": "矩阵"}
    ),
    ("POST", "/api/v1/finance/applications/{application_id}/request-info"): Rule(
        _k(BANK), {"application_id": "pending_application"}, body=lambda c, o: {"question": "矩阵"}
    ),
    ("GET", "/api/v1/finance/applications/{application_id}/risk-report"): Rule(
        _k(SME, BANK, OFFICE), {"application_id": "application"}
    ),
    ("POST", "/api/v1/finance/applications/{application_id}/sign"): Rule(
        _k(SME), {"application_id": "pending_application"}, body=lambda c, o: {"terms_hash": "0" * 64}
    ),
    ("POST", "/api/v1/finance/applications/{application_id}/start-review"): Rule(
        _k(BANK), {"application_id": "pending_application"}
    ),
    ("GET", "/api/v1/finance/applications/{application_id}/timeline"): Rule(
        _k(SME, BANK, OFFICE), {"application_id": "application"}
    ),
    ("POST", "/api/v1/finance/applications/{application_id}/withdraw"): Rule(
        _k(SME), {"application_id": "pending_application"}
    ),
    # --- bank set-up: a bank sets its own products and lines (for any core enterprise); the office the limits
    ("GET", "/api/v1/finance/products"): Rule(_k(SME, LF, BANK, OFFICE)),
    ("POST", "/api/v1/finance/products"): Rule(
        _k(BANK), body=lambda c, o: {"code": "MATRIX", "name": "矩阵产品", "advance_rate": "0.8"}, bank_admin=True
    ),
    ("GET", "/api/v1/finance/credit-lines"): Rule(_k(BANK, OFFICE)),
    ("PUT", "/api/v1/finance/credit-lines/{core_enterprise_id}"): Rule(
        _k(BANK),
        {"core_enterprise_id": "large_firm_org"},
        shared=_k(BANK),
        body=lambda c, o: {"limit": "50000000.00"},
        bank_admin=True,
    ),
    ("PUT", "/api/v1/finance/exposure-limits/{sme_id}"): Rule(
        _k(OFFICE), {"sme_id": "sme_org"}, shared=_k(OFFICE), body=lambda c, o: {"limit": "50000000.00"}
    ),
    # --- loans: the bank's own, the borrower SME, the debtor (who repays), the office
    ("GET", "/api/v1/loans"): Rule(_k(SME, LF, BANK, OFFICE)),
    ("GET", "/api/v1/loans/{loan_id}"): Rule(_k(SME, LF, BANK, OFFICE), {"loan_id": "loan"}),
    ("GET", "/api/v1/loans/{loan_id}/ledger"): Rule(_k(SME, LF, BANK, OFFICE), {"loan_id": "loan"}),
    ("GET", "/api/v1/loans/{loan_id}/repayments"): Rule(_k(SME, LF, BANK, OFFICE), {"loan_id": "loan"}),
    ("POST", "/api/v1/loans/{loan_id}/repayments"): Rule(
        _k(SME, LF), {"loan_id": "loan"}, body=lambda c, o: {"amount": "1.00"}
    ),
    ("GET", "/api/v1/loans/{loan_id}/schedule"): Rule(_k(SME, LF, BANK, OFFICE), {"loan_id": "loan"}),
    # --- suggested credit lines: a bank reads an SME's only where the SME applied to it or granted it access
    # (授权查询; chain A's SME applied to chain A's bank, never to chain B's); the office any SME's; an SME its own
    ("GET", "/api/v1/finance/credit-suggestions/{sme_id}"): Rule(
        _k(SME, BANK, OFFICE), {"sme_id": "sme_org"}, shared=_k(OFFICE)
    ),
    # --- data-chain finance: the supplier SME applies on its contract or draws on its line; a bank decides a line
    # for an SME whose record it may read (its own row); the SME's own contract/line or 404.  Chain A's bank has no
    # contract product and its SME's line is declined, so the SME's own calls end in a rule's 422, which the matrix
    # counts as reached.
    ("GET", "/api/v1/finance/contract-quote"): Rule(
        _k(SME), query=lambda c: {"contract_id": c.ids["contract"], "bank_id": c.ids["bank_org"]}
    ),
    ("POST", "/api/v1/finance/contract-applications"): Rule(
        _k(SME),
        body=lambda c, o: {"contract_id": c.ids["contract"], "bank_id": c.ids["bank_org"], "amount": "1000.00"},
    ),
    ("POST", "/api/v1/finance/drawdowns"): Rule(
        _k(SME), body=lambda c, o: {"line_id": c.ids["sme_line"], "amount": "1000.00", "due_on": "2027-01-31"}
    ),
    ("GET", "/api/v1/finance/sme-credit-lines"): Rule(_k(SME, BANK, OFFICE)),
    ("POST", "/api/v1/finance/sme-credit-lines/{sme_id}/decision"): Rule(
        _k(BANK), {"sme_id": "sme_org"}, body=lambda c, o: {"accept": False, "note": "矩阵"}, bank_admin=True
    ),
    # --- payment → settlement: the buyer changes a contract's settlement; its supplier and the office read it
    ("GET", "/api/v1/contracts/{contract_id}/payment-plan"): Rule(_k(LF, SME, OFFICE), {"contract_id": "contract"}),
    ("PUT", "/api/v1/contracts/{contract_id}/payment-plan"): Rule(
        _k(LF),
        {"contract_id": "contract"},
        body=lambda c, o: {"percentages": [{"kind": "final", "percent": "100", "days_after_acceptance": 30}]},
    ),
    ("POST", "/api/v1/contracts/{contract_id}/acceptance"): Rule(
        _k(LF), {"contract_id": "contract"}, body=lambda c, o: {"accepted_on": "2026-11-02"}
    ),
    ("GET", "/api/v1/contracts/{contract_id}/payments"): Rule(_k(LF, SME, OFFICE), {"contract_id": "contract"}),
    ("POST", "/api/v1/contracts/{contract_id}/payments"): Rule(
        _k(LF),
        {"contract_id": "contract"},
        body=lambda c, o: {"ref": "MATRIX-1", "amount": "1.00", "paid_on": "2026-11-02"},
    ),
    ("GET", "/api/v1/contracts/{contract_id}/settlement"): Rule(_k(LF, SME, OFFICE), {"contract_id": "contract"}),
    ("POST", "/api/v1/statements"): Rule(
        _k(LF),
        body=lambda c, o: {
            "file_name": "矩阵.csv",
            "rows": [{"交易日期": "2026-11-02", "贷方金额": "1.00", "摘要": "HT-0 矩阵"}],
        },
    ),
    ("POST", "/api/v1/statements/upload"): Rule(
        _k(LF),
        files={"file": ("矩阵.csv", "交易日期,贷方金额,摘要\n2026-11-02,1.00,HT-0 矩阵\n".encode(), "text/csv")},
    ),
    ("GET", "/api/v1/statements/{import_id}"): Rule(_k(LF, OFFICE), {"import_id": "statement"}),
    ("GET", "/api/v1/settlement/late-buyers"): Rule(_k(OFFICE)),
    # --- 授权查询: an SME grants any bank on the platform access to its own record and revokes it; the grants are
    # the SME's own rows, whichever bank they name (chain B's bank included)
    ("GET", "/api/v1/record-access"): Rule(_k(SME)),
    ("POST", "/api/v1/record-access"): Rule(_k(SME), body=lambda c, o: {"bank_id": c.ids["bank_org"]}, shared=_k(SME)),
    ("POST", "/api/v1/record-access/{bank_id}/revoke"): Rule(_k(SME), {"bank_id": "bank_org"}, shared=_k(SME)),
}

#: Tables whose chain-B rows must come out of the matrix untouched, with the record names they hold.
WATCHED: dict[type[SQLModel], tuple[str, ...]] = {
    Order: ("order",),
    Offer: ("offer", "spare_offer"),
    IntentOrder: ("intent_order",),
    Contract: ("contract",),
    Receivable: ("receivable", "spare_receivable"),
    ReceivablePart: ("part", "spare_part"),
    FinanceApplication: ("application", "pending_application"),
    Loan: ("loan",),
    SmeCreditLine: ("sme_line",),
    ServiceNeed: ("need",),
    ServicePackage: ("package",),
    Mentor: ("mentor",),
}

_keys = itertools.count(1)


def _add_sme_lines(engine: Engine, clock: FrozenClock, tenants: Tenants) -> None:
    """Each chain's bank declines a revolving line for its SME (a newcomer: nothing is suggested), so the drawdown
    route has a line of each tenant to name."""
    for chain in (tenants.a, tenants.b):
        line = fs.decide_line(
            UnitOfWork(engine, clock), chain.actors[BANK], chain.org_id(SME), {"accept": False, "note": "矩阵"}
        )
        assert line.id is not None
        chain.ids["sme_line"] = line.id


def _add_grants(engine: Engine, clock: FrozenClock, tenants: Tenants) -> None:
    """Chain A's SME grants both banks access to its record, so the revocation route has a live grant to take back
    whichever runs first (chain B's bank then reads chain A's SME: the matrix's viewers are chain A's)."""
    for bank in (tenants.a, tenants.b):
        fs.grant_record_access(UnitOfWork(engine, clock), tenants.a.actors[SME], bank.org_id(BANK))


def _snapshot(engine: Engine, chain: Chain) -> dict[tuple[str, int], dict[str, Any]]:
    rows = {}
    with Session(engine) as s:
        for model, names in WATCHED.items():
            for name in names:
                row = s.get(model, chain.ids[name])
                assert row is not None
                rows[(model.__name__, chain.ids[name])] = row.model_dump()
    return rows


@dataclass
class Outcome:
    method: str
    path: str
    viewer: str
    scope: str
    status: int
    verdict: str  # "allowed" or "refused"
    problem: str | None = None


def _call(client: TestClient, method: str, path: str, rule: Rule, chain: Chain, own: Chain, token: str | None) -> Any:
    url = path
    for param, name in rule.ids.items():
        url = url.replace("{" + param + "}", str(chain.ids[name]))
    headers = {"Idempotency-Key": f"matrix-key-{next(_keys):08d}"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    kwargs: dict[str, Any] = {"headers": headers}
    if rule.query is not None:
        kwargs["params"] = rule.query(chain)
    if rule.files is not None:
        kwargs["files"] = rule.files
        if rule.form is not None:
            kwargs["data"] = rule.form
    elif rule.form is not None:
        kwargs["data"] = rule.form
    elif rule.body is not None:
        kwargs["json"] = rule.body(chain, own)
    elif method in {"POST", "PUT", "PATCH"}:
        kwargs["json"] = {}
    return client.request(method, url, **kwargs)


def _judge(rule: Rule, viewer: OrgKind | None, scope: str, status: int, text: str) -> tuple[str, str | None]:
    if status >= 500:
        return "refused", f"server error {status}"
    allowed = 200 <= status < 300
    if viewer is None:
        if rule.kinds is None:
            return ("allowed" if allowed else "refused"), None
        return "refused", None if status == 401 else f"expected 401 without a token, got {status}"
    if not rule.may_see_foreign_text(viewer) and viewer != OFFICE and FOREIGN_MARKER in text:
        return "allowed" if allowed else "refused", "the other tenant's data leaked into the answer"
    if rule.kinds is None:
        return ("allowed" if allowed else "refused"), None
    if viewer not in rule.kinds:
        return "refused", None if status in (403, 404) else f"expected 403 for {viewer.value}, got {status}"
    foreign_reachable = scope == "own" or viewer in rule.shared or viewer == OFFICE
    if foreign_reachable:
        if status in (401, 403, 404):
            return "refused", f"expected access for {viewer.value} ({scope} ids), got {status}: {text[:200]}"
        return ("allowed" if allowed else "refused"), None
    return "refused", None if status in rule.refusals else f"expected 404 on the other tenant's ids, got {status}"


def _run_matrix(tenants: Tenants, client: TestClient, engine: Engine) -> list[Outcome]:
    app = client.app
    tokens: dict[str, str] = {}
    names = usernames(tenants)

    def token_for(username: str) -> str:
        if username not in tokens:
            response = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
            assert response.status_code == 200, response.text
            tokens[username] = response.json()["access_token"]
        return tokens[username]

    outcomes: list[Outcome] = []
    missing = []
    for method, path, route in api_routes(app):  # type: ignore[arg-type]
        rule = RULES.get((method, path))
        if rule is None:
            missing.append(f"{method} {path}")
            continue
        declared = admitted_kinds(route)
        if declared and rule.kinds is not None:
            assert set(declared) == set(rule.kinds), f"{method} {path}: route admits {declared}, rule {rule.kinds}"
        # A foreign case exists when the path or the body names the other tenant's records.
        names_records = bool(rule.ids) or (
            rule.body is not None and rule.body(tenants.a, tenants.a) != rule.body(tenants.b, tenants.a)
        )
        names_records = names_records or (rule.query is not None and rule.query(tenants.a) != rule.query(tenants.b))
        scopes = ("own", "foreign") if names_records else ("own",)
        for viewer in VIEWERS:
            for scope in scopes:
                chain = tenants.a if scope == "own" else tenants.b
                username = None if viewer is None else names[viewer.value]
                if viewer == BANK and rule.bank_admin:
                    username = bank_admin(tenants)
                token = None if username is None else token_for(username)
                response = _call(client, method, path, rule, chain, tenants.a, token)
                verdict, problem = _judge(rule, viewer, scope, response.status_code, response.text)
                label = "anonymous" if viewer is None else viewer.value
                outcomes.append(Outcome(method, path, label, scope, response.status_code, verdict, problem))
                if path == "/api/v1/auth/logout" and username is not None:
                    tokens.pop(username, None)  # that token is gone: log in again for the next case
    assert not missing, "operations without an authorisation rule:\n" + "\n".join(missing)
    return outcomes


def test_authorisation_matrix(engine: Engine, clock: FrozenClock, tmp_path: Path) -> None:
    tenants = build_tenants(engine, clock)
    _add_sme_lines(engine, clock, tenants)
    _add_grants(engine, clock, tenants)
    before = _snapshot(engine, tenants.b)
    # Every viewer logs in from the same test client address: lift the per-address login limit.
    app = create_app(Settings(env="test", login_attempts_per_minute=10_000), engine=engine)
    app.dependency_overrides[get_clock] = lambda: clock
    use_fresh_offer_index(app, engine, clock, tmp_path / "offers")
    with TestClient(app) as client:
        outcomes = _run_matrix(tenants, client, engine)
    after = _snapshot(engine, tenants.b)
    changed = [key for key in before if before[key] != after[key]]

    counts = Counter((o.verdict, o.viewer) for o in outcomes)
    operations = len({(o.method, o.path) for o in outcomes})
    print(f"\nauthorisation matrix: {operations} operations, {len(outcomes)} cases")
    for viewer in ("anonymous", *(k.value for k in VIEWERS if k is not None)):
        print(f"  {viewer:>17}: allowed {counts[('allowed', viewer)]:4d}  refused {counts[('refused', viewer)]:4d}")
    by_status = Counter(o.status for o in outcomes)
    print("  by status:", dict(sorted(by_status.items())))

    problems = [o for o in outcomes if o.problem]
    assert not problems, "\n".join(f"{o.method} {o.path} as {o.viewer} ({o.scope}): {o.problem}" for o in problems[:60])
    assert not changed, f"the other tenant's records changed: {changed}"
