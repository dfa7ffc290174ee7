"""The whole flow through HTTP only, with four logins: a large firm posts an order, an SME finds it among its
matches, both sign an intent order, the SME registers the receivable on the contract, the large firm confirms it,
the SME applies, the bank approves and disburses, and the large firm repays at maturity.  At the end the ledger
balances, the audit chain verifies and the programme office's figures count the deal.

The one step not taken over HTTP is the automatic risk check, which the workers run after an application is
submitted (``workers.tasks.finance``); the test calls the same use case, as the worker would."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from finance import service as fs
from qianfan import audit
from qianfan.clock import FrozenClock
from qianfan.models import OrgKind, UserRole
from qianfan.uow import UnitOfWork
from tests.api.conftest import TEST_PASSWORD, add_organisation, add_user, assert_no_floats, use_fresh_offer_index
from tests.services.conftest import credit_code


class Http:
    """One user's calls, as a client would make them: on a 401 (the 15-minute access token ran out while the
    clock moved on) spend the refresh token for a new pair, or log in again once that has expired too; raise with
    the body on an unexpected status."""

    def __init__(self, client: TestClient, username: str) -> None:
        self.client = client
        self.username = username
        self._login()

    def _login(self) -> None:
        tokens = self.client.post("/api/v1/auth/token", data={"username": self.username, "password": TEST_PASSWORD})
        assert tokens.status_code == 200, tokens.text
        self._use(tokens.json())

    def _use(self, tokens: dict[str, Any]) -> None:
        self.headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        self.refresh_token = tokens["refresh_token"]

    def _renew(self) -> None:
        form = {"grant_type": "refresh_token", "refresh_token": self.refresh_token}
        refreshed = self.client.post("/api/v1/auth/token", data=form)
        if refreshed.status_code == 200:
            self._use(refreshed.json())
        else:
            self._login()

    def call(self, method: str, url: str, expect: int = 200, key: str | None = None, **kw: Any) -> Any:
        def send() -> Any:
            headers = dict(self.headers)
            if key:
                headers["Idempotency-Key"] = key
            return self.client.request(method, url, headers=headers, **kw)

        response = send()
        if response.status_code == 401:
            self._renew()
            response = send()
        assert response.status_code == expect, f"{method} {url}: {response.status_code} {response.text}"
        body = response.json() if response.content else None
        assert_no_floats(body)
        return body

    def get(self, url: str, **kw: Any) -> Any:
        return self.call("GET", url, **kw)

    def post(self, url: str, json: Any = None, expect: int = 200, key: str | None = None) -> Any:
        return self.call("POST", url, expect=expect, key=key, json=json)


def test_order_to_repayment_through_the_api(
    app: FastAPI, client: TestClient, engine: Engine, session: Session, clock: FrozenClock, tmp_path: Path
) -> None:
    use_fresh_offer_index(app, engine, clock, tmp_path / "offers")
    # Valid unified social credit codes: the risk check verifies the SME's check digit.
    firm_org = add_organisation(
        session,
        "北京京华数智城市科技集团有限公司",
        kind=OrgKind.LARGE_FIRM,
        cluster="ict",
        credit_code=credit_code(901),
    )
    sme_org = add_organisation(
        session, "北京数帆智汇科技有限公司", kind=OrgKind.SME, cluster="ict", credit_code=credit_code(902)
    )
    bank_org = add_organisation(session, "北京中关村银行股份有限公司", kind=OrgKind.BANK, credit_code=credit_code(903))
    office_org = add_organisation(
        session, "中关村科技园区管理委员会", kind=OrgKind.PROGRAMME_OFFICE, credit_code=credit_code(904)
    )
    add_user(session, firm_org, "e2e-firm")
    add_user(session, sme_org, "e2e-sme")
    add_user(session, bank_org, "e2e-bank-admin")
    add_user(session, bank_org, "e2e-reviewer", UserRole.REVIEWER)
    add_user(session, office_org, "e2e-office")
    firm, sme = Http(client, "e2e-firm"), Http(client, "e2e-sme")
    bank_admin, reviewer = Http(client, "e2e-bank-admin"), Http(client, "e2e-reviewer")
    office = Http(client, "e2e-office")
    today = clock.now().date()

    # The bank sets up a product and a credit line for the large firm.
    bank_admin.post(
        "/api/v1/finance/products",
        # This bank also lends to newcomers to the platform (grade D), at a higher spread.
        {
            "code": "QF-RF",
            "name": "千帆应收账款融资",
            "advance_rate": "0.9",
            "spreads_bp": {"A": 50, "B": 100, "C": 180, "D": 300},
        },
        expect=201,
    )
    bank_admin.call("PUT", f"/api/v1/finance/credit-lines/{firm_org.id}", json={"limit": "100000000.00"})

    # 1. The SME lists its platform; the large firm posts the order.
    offer = sme.post(
        "/api/v1/offers",
        {
            "kind": "technology",
            "title": "政务大数据平台与数据治理系统",
            "description": "数据中台、数据治理、政务数据共享交换，已在多个区县上线",
            "category": "ict.bigdata",
            "price_min": "1000000.00",
            "price_max": "8000000.00",
            "capacity": 5,
            "keywords": ["数据中台", "数据治理", "政务"],
        },
        expect=201,
    )
    order = firm.post(
        "/api/v1/orders",
        {
            "title": "数字政府大数据平台建设",
            "description": "建设区级政务大数据平台：数据中台、数据治理与共享交换",
            "category": "ict.bigdata",
            "budget": "5000000.00",
            "district": "海淀园",
            "deadline": (today + timedelta(days=45)).isoformat(),
        },
        expect=201,
    )

    # 2. The SME sees the order among its matches and says it is interested; the firm shortlists the offer.
    matches = sme.get(f"/api/v1/offers/{offer['id']}/matches")
    assert order["id"] in [entry["item"]["id"] for entry in matches["items"]]
    sme.post(f"/api/v1/offers/{offer['id']}/interest", {"order_id": order["id"], "note": "可两周内进场"})
    ranked = firm.get(f"/api/v1/orders/{order['id']}/matches")
    assert ranked["items"][0]["item"]["id"] == offer["id"]
    firm.post(f"/api/v1/orders/{order['id']}/shortlist", {"offer_id": offer["id"]})

    # 3. The firm proposes an intent order (signing it), the SME signs: a contract.
    intent = firm.post(
        "/api/v1/intent-orders",
        {
            "order_id": order["id"],
            "offer_id": offer["id"],
            "amount": "4800000.00",
            "delivery_due": (today + timedelta(days=30)).isoformat(),
            "terms": "分两期交付，验收后90天付款",
        },
        expect=201,
    )
    signed = sme.post(f"/api/v1/intent-orders/{intent['id']}/sign")
    assert signed["status"] == "signed"
    (contract,) = sme.get("/api/v1/contracts")["items"]
    assert contract["amount"] == "4800000.00"

    # 4. The SME registers the receivable on the contract; the firm confirms it.
    receivable = sme.post(
        "/api/v1/receivables",
        {
            "title": "数字政府大数据平台 一期验收款",
            "contract_id": contract["id"],
            "face": "2400000.00",
            "issue_date": today.isoformat(),
            "due_date": (today + timedelta(days=90)).isoformat(),
        },
        expect=201,
    )
    confirmed = firm.post(f"/api/v1/receivables/{receivable['id']}/confirm", {"irrevocable_undertaking": True})
    (part,) = confirmed["parts"]

    # 5. The SME asks what it can borrow and applies; the risk check runs; the bank reviews and approves.
    quote = sme.get("/api/v1/finance/applications/quote", params={"part_id": part["id"], "bank_id": bank_org.id})
    assert quote["max_amount"] == "2160000.00"  # 90 % of the confirmed 2,400,000.00
    application = sme.post(
        "/api/v1/finance/applications",
        {"part_id": part["id"], "bank_id": bank_org.id, "amount": "2000000.00"},
        expect=201,
        key="e2e-apply-000001",
    )
    again = sme.post(
        "/api/v1/finance/applications",
        {"part_id": part["id"], "bank_id": bank_org.id, "amount": "2000000.00"},
        expect=201,
        key="e2e-apply-000001",
    )
    assert again["id"] == application["id"]  # a retry is the same application
    checked = fs.run_risk_check(UnitOfWork(engine, clock), application["id"])
    assert checked.status == "risk_checked", (checked.status, checked.risk_report)
    queue = reviewer.get("/api/v1/finance/applications/review-queue")
    assert [item["id"] for item in queue["items"]] == [application["id"]]
    clock.advance(timedelta(hours=2))
    reviewer.post(f"/api/v1/finance/applications/{application['id']}/start-review")
    approved = reviewer.post(f"/api/v1/finance/applications/{application['id']}/approve", key="e2e-approve-01")
    assert approved["status"] == "approved"

    # 6. The SME signs the offer it was shown; the bank disburses, once.
    offer_terms = sme.get(f"/api/v1/finance/applications/{application['id']}/offer")
    sme.post(
        f"/api/v1/finance/applications/{application['id']}/sign",
        {"terms_hash": offer_terms["terms_hash"]},
        key="e2e-sign-000001",
    )
    clock.advance(timedelta(hours=3))
    loan = reviewer.post(
        f"/api/v1/finance/applications/{application['id']}/disburse", expect=201, key="e2e-disburse-01"
    )
    timeline = sme.get(f"/api/v1/finance/applications/{application['id']}/timeline")
    assert timeline["sla_status"] == "on_track"

    # 7. At maturity the large firm pays what the loan still owes; the loan is repaid.
    clock.advance(timedelta(days=90))
    owed = firm.get(f"/api/v1/loans/{loan['id']}/schedule")
    repaid = firm.post(
        f"/api/v1/loans/{loan['id']}/repayments", {"amount": owed["total"]}, expect=201, key="e2e-repay-0001"
    )
    assert repaid["loan_status"] == "repaid"
    assert sme.get(f"/api/v1/loans/{loan['id']}")["status"] == "repaid"
    ledger = office.get(f"/api/v1/loans/{loan['id']}/ledger")
    assert ledger and all(posting["balanced"] for posting in ledger)

    # The books balance, the audit chain verifies, and the programme office counts the deal.
    with Session(engine) as s:
        assert fs.unbalanced_postings(s) == []
        assert audit.verify_chain(s).ok
    assert office.get("/api/v1/audit/verify")["ok"] is True
    figures = office.get("/api/v1/stats")["total"]
    assert figures["intent_orders_signed"] == 1 and figures["applications_disbursed"] == 1
    assert figures["financed_amount"] == "2000000.00" and figures["receivables_confirmed"] == 1
    assert figures["disbursal_hours_p50"] == "5.00" and figures["disbursed_within_48h_share"] == "1.0000"
