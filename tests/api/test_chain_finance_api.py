"""Data-chain finance over HTTP: contract (order) finance — quote, apply, the risk report's links, the review path,
disbursement and repayment by the buyer's payments into the contract — and revolving lines — a bank's decision on
the suggested line, a drawdown, its loan and the SME's repayment; who may call what, bilingual 422s naming the
binding limit, and the office's figures by product.  On SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from finance import service as fs
from qianfan import audit
from qianfan.actors import Actor
from qianfan.clock import FrozenClock
from tests.api import finance_world
from tests.api.conftest import assert_error_shape, assert_no_floats
from tests.api.finance_world import FinanceWorld
from tests.finance_service.test_settlement_service import contract, plan_30_70

FIN = "/api/v1/finance"
QUOTE = f"{FIN}/contract-quote"
CONTRACT_APPS = f"{FIN}/contract-applications"
LINES = f"{FIN}/sme-credit-lines"
DRAWDOWNS = f"{FIN}/drawdowns"
APPS = f"{FIN}/applications"
BY_PRODUCT = "/api/v1/stats/finance-by-product"


@pytest.fixture
def fw(engine: Engine, clock: FrozenClock, client: TestClient, monkeypatch: pytest.MonkeyPatch) -> FinanceWorld:
    return finance_world.build(engine, clock, client, monkeypatch)


def _product(fw: FinanceWorld, kind: str, code: str, advance_rate: str) -> int:
    response = fw.post(
        fw.w.bank_admin,
        f"{FIN}/products",
        {
            "kind": kind,
            "code": code,
            "name": f"千帆{code}",
            "advance_rate": advance_rate,
            "arrangement_fee_bp": 10,
            "fee_min": "100.00",
            "fee_max": "50000.00",
            "spreads_bp": {"A": 50, "B": 100, "C": 180, "D": 300},
        },
    )
    assert response.status_code == 201, response.text
    assert response.json()["kind"] == kind
    return int(response.json()["id"])


def _through_to_loan(fw: FinanceWorld, app_id: int, tag: str) -> dict[str, Any]:
    """The bank approves, the SME signs the offer, the bank disburses — all over HTTP."""
    w = fw.w
    approved = fw.post(w.reviewer, f"{APPS}/{app_id}/approve", {"note": "同意"}, key=f"{tag}-approve")
    assert approved.status_code == 200, approved.text
    terms_hash = fw.get(w.sme, f"{APPS}/{app_id}/offer").json()["terms_hash"]
    signed = fw.post(w.sme, f"{APPS}/{app_id}/sign", {"terms_hash": terms_hash}, key=f"{tag}-sign")
    assert signed.status_code == 200, signed.text
    loan = fw.post(w.reviewer, f"{APPS}/{app_id}/disburse", key=f"{tag}-disburse")
    assert loan.status_code == 201, loan.text
    assert_no_floats(loan.json())
    return dict(loan.json())


def _assert_422(response: Any, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["message"] and body["message_en"] and body["message"] != body["message_en"]
    if field is not None:
        assert_error_shape(body, "invalid_input")
        assert body["detail"][0]["field"] == field
        assert body["detail"][0]["message"] and body["detail"][0]["message_en"]
    return dict(body)


# --------------------------------------------------------------------------------------------- contract finance


def test_a_contract_loan_from_quote_to_repaid_by_the_buyer(fw: FinanceWorld) -> None:
    w = fw.w
    _product(fw, "contract", "DD1", "0.8")
    c = contract(w)  # 1,000,000.00 signed between the world's core enterprise and its SME
    assert c.id is not None
    plan_30_70(w, c.id)

    quote = fw.get(w.sme, QUOTE, params={"contract_id": c.id, "bank_id": w.bank_id})
    assert quote.status_code == 200, quote.text
    q = quote.json()
    assert_no_floats(q)
    assert q["max_amount_fen"] == 80_000_000 and q["max_amount"] == "800000.00"
    assert q["binding_constraint"] == "advance_rate" and q["limits"]["advance_rate"] == "800000.00"
    assert q["limits_fen"]["contract_headroom"] == 100_000_000
    assert q["unpaid"] == "1000000.00" and q["financed_fen"] == 0 and q["contract_id"] == c.id

    body = {"contract_id": c.id, "bank_id": w.bank_id, "amount": "700000.00"}
    applied = fw.post(w.sme, CONTRACT_APPS, body, key="contract-apply-0001")
    assert applied.status_code == 201, applied.text
    app = applied.json()
    assert_no_floats(app)
    assert app["kind"] == "contract" and app["contract_id"] == c.id and app["status"] == "submitted"
    assert app["receivable_id"] is None and app["part_id"] is None and app["sme_line_id"] is None
    assert app["core_enterprise_id"] == w.core.organisation_id and app["due_on"] == q["due_date"]
    assert app["requested"] == "700000.00" and app["stage"] == "risk_check"
    replay = fw.post(w.sme, CONTRACT_APPS, body, key="contract-apply-0001")
    assert replay.status_code == 201 and replay.json() == app and replay.headers["Idempotent-Replayed"] == "true"
    again = fw.post(w.sme, CONTRACT_APPS, {**body, "amount": "10000.00"})  # a contract is financed once at a time
    assert again.status_code == 409
    assert_error_shape(again.json(), "conflict")
    assert again.json()["detail"]["application_id"] == app["id"]
    financed = fw.get(w.sme, QUOTE, params={"contract_id": c.id, "bank_id": w.bank_id}).json()
    assert financed["financed_fen"] == 70_000_000

    # the same pipeline as receivables: read by the applicant, its bank and the office; listed by kind
    for actor in (w.sme, w.reviewer, w.office):
        assert fw.get(actor, f"{APPS}/{app['id']}").json()["kind"] == "contract"
        listed = fw.get(actor, APPS, params={"kind": "contract"}).json()
        assert [a["id"] for a in listed["items"]] == [app["id"]]
    assert fw.get(w.sme, APPS, params={"kind": "credit_line"}).json()["total"] == 0
    assert fw.get(w.bank2_admin, f"{APPS}/{app['id']}").status_code == 404

    fs.run_risk_check(w.uow(), app["id"])  # what the worker does after submission
    report = fw.get(w.reviewer, f"{APPS}/{app['id']}/risk-report").json()
    assert_no_floats(report)
    assert report["checked"] is True and report["passed"] is True, report
    used = {link["code"] for link in report["links"] if link["used"]}
    assert {"intent_order", "contract"} <= used  # the report says which links of the data chain it used
    assert all(link["message"] and link["message_en"] for link in report["links"])
    queue = fw.get(w.reviewer, f"{APPS}/review-queue").json()
    assert [(i["id"], i["kind"]) for i in queue["items"]] == [(app["id"], "contract")]

    fw.clock.advance(timedelta(hours=2))
    loan = _through_to_loan(fw, app["id"], "contract-flow")
    assert loan["kind"] == "contract" and loan["contract_id"] == c.id and loan["principal_fen"] == 70_000_000
    assert loan["part_id"] is None and loan["receivable_id"] is None and loan["sme_line_id"] is None
    assert loan["core_enterprise_id"] == w.core.organisation_id
    loan_path = f"/api/v1/loans/{loan['id']}"
    for actor in (w.sme, w.core, w.reviewer, w.office):  # the buyer sees the loan on its contract
        assert fw.get(actor, loan_path).json()["kind"] == "contract", actor
    assert [x["id"] for x in fw.get(w.office, "/api/v1/loans", params={"kind": "contract"}).json()["items"]] == [
        loan["id"]
    ]
    assert fw.get(w.office, "/api/v1/loans", params={"contract_id": c.id}).json()["total"] == 1
    assert fw.get(w.supplier, loan_path).status_code == 404
    # a contract loan is repaid by the buyer's payments into the contract, or directly by its SME only
    direct = fw.post(w.core, f"{loan_path}/repayments", {"amount": "1.00"}, key="contract-direct-core")
    assert direct.status_code == 404

    # the buyer pays the advance through the settlement API: it repays the loan's principal first
    fw.clock.advance(timedelta(days=3))
    today = fw.clock.now().date().isoformat()
    paid = fw.post(
        w.core, f"/api/v1/contracts/{c.id}/payments", {"ref": "PAY-ADV", "amount": "300000.00", "paid_on": today}
    )
    assert paid.status_code == 201, paid.text
    split = paid.json()["payment"]  # the payment says which loan it repaid and how it was split
    assert split["loan_id"] == loan["id"] and split["loan_split"]["principal_fen"] == 30_000_000
    after_advance = fw.get(w.sme, loan_path).json()
    assert after_advance["status"] == "repaid_partially" and after_advance["principal_outstanding_fen"] == 40_000_000
    (first,) = fw.get(w.sme, f"{loan_path}/repayments").json()
    assert first["kind"] == "contract_payment" and first["amount_fen"] == 30_000_000
    assert first["allocation"]["principal_fen"] == 30_000_000 and first["allocation"]["excess_fen"] == 0

    accepted = fw.post(w.core, f"/api/v1/contracts/{c.id}/acceptance", {"accepted_on": today})
    assert accepted.status_code == 200, accepted.text
    fw.clock.advance(timedelta(days=2))
    rest = {"ref": "PAY-ACC", "amount": "700000.00", "paid_on": fw.clock.now().date().isoformat()}
    assert fw.post(w.core, f"/api/v1/contracts/{c.id}/payments", rest).status_code == 201
    repaid = fw.get(w.sme, loan_path).json()
    assert repaid["status"] == "repaid" and repaid["principal_outstanding_fen"] == 0
    repayments = fw.get(w.office, f"{loan_path}/repayments").json()
    assert [r["kind"] for r in repayments] == ["contract_payment", "contract_payment"]
    last = repayments[1]["allocation"]
    # principal, then interest, then fees; the rest of the buyer's payment reaches the SME
    # repaid 5 days into its term: interest to the day, less than the term's (the rest is written back)
    assert last["principal_fen"] == 40_000_000 and 0 < last["interest_fen"] < repaid["interest_fen"]
    assert last["excess_fen"] == 70_000_000 - 40_000_000 - last["interest_fen"] - last["fees_fen"]
    assert all(p["balanced"] for p in fw.get(w.office, f"{loan_path}/ledger").json())
    assert fw.get(w.sme, f"/api/v1/contracts/{c.id}/settlement").json()["status"] == "completed"
    with Session(fw.engine) as s:
        assert fs.unbalanced_postings(s) == []
        assert audit.verify_chain(s).ok

    # the office's figures by product count it, with its turnaround
    figures = fw.get(w.office, BY_PRODUCT)
    assert figures.status_code == 200, figures.text
    assert_no_floats(figures.json())
    rows = {r["kind"]: r for r in figures.json()["products"]}
    assert list(rows) == ["receivable", "contract", "credit_line"]
    assert rows["contract"]["label"] == "订单融资" and rows["contract"]["applications"] == 1
    assert rows["contract"]["disbursed_count"] == 1 and rows["contract"]["disbursed"] == "700000.00"
    assert rows["contract"]["repaid_fen"] == 70_000_000 and rows["contract"]["outstanding"] == "0.00"
    assert rows["contract"]["median_hours"] == "2.0" and rows["contract"]["within_48h"] == 1
    assert rows["credit_line"]["disbursed_count"] == 0 and rows["credit_line"]["median_hours"] is None


def test_contract_finance_refusals(fw: FinanceWorld) -> None:
    w = fw.w
    _product(fw, "contract", "DD1", "0.8")
    c = contract(w)
    assert c.id is not None
    params = {"contract_id": c.id, "bank_id": w.bank_id}
    body = {"contract_id": c.id, "bank_id": w.bank_id, "amount": "1000.00"}
    for actor in (w.core, w.reviewer, w.office, fw.provider):  # only SMEs ask for contract finance
        assert fw.get(actor, QUOTE, params=params).status_code == 403
        response = fw.post(actor, CONTRACT_APPS, body)
        assert response.status_code == 403
        assert_error_shape(response.json(), "permission_denied")
    assert fw.get(None, QUOTE, params=params).status_code == 401
    assert fw.post(None, CONTRACT_APPS, body).status_code == 401
    # another SME's contract is not found
    for response in (fw.get(w.supplier, QUOTE, params=params), fw.post(w.supplier, CONTRACT_APPS, body)):
        assert response.status_code == 404
        assert_error_shape(response.json(), "not_found")
    # a bank without a contract-finance product: the SME must choose one (bilingual)
    other = _assert_422(fw.get(w.sme, QUOTE, params={**params, "bank_id": w.bank2_admin.organisation_id}))
    assert other["detail"]["field"] == "product_id"
    # bad input
    _assert_422(fw.post(w.sme, CONTRACT_APPS, {**body, "amount": 1000.5}), "amount")
    _assert_422(fw.post(w.sme, CONTRACT_APPS, {**body, "contract_id": 0}), "contract_id")
    _assert_422(fw.post(w.sme, CONTRACT_APPS, {**body, "part_id": 1}), "part_id")  # unknown field
    _assert_422(fw.get(w.sme, QUOTE, params={"contract_id": c.id}), "bank_id")
    _assert_422(fw.post(w.sme, CONTRACT_APPS, body, key="bad key!"), "Idempotency-Key")

    # over unpaid value × 80 %: the rule's 422 names the advance rate
    over = _assert_422(fw.post(w.sme, CONTRACT_APPS, {**body, "amount": "800000.01"}))
    assert_error_shape(over, "rule_violated")
    assert over["detail"]["binding_constraint"] == "advance_rate"

    # the contract's headroom is shared with its receivables' loans: 700,000 unpaid − 500,000 financed
    plan_30_70(w, c.id)
    fs.record_payment(w.uow(), w.core, c.id, "PAY-1", 30_000_000, fw.clock.now().date())
    registered = fs.register_receivable(
        w.uow(),
        w.sme,
        {"debtor_id": w.core.organisation_id, "contract_id": c.id, "title": "验收款", "face": "600000.00",
         "issue_date": fw.clock.now().date(), "due_date": w.due(60), "invoice_numbers": ["INVAPI1"]},
    )  # fmt: skip
    assert registered.id is not None
    fs.confirm_receivable(w.uow(), w.core, {"receivable_id": registered.id, "irrevocable_undertaking": True})
    with w.uow() as u:
        (part,) = fs.live_parts(u, registered.id)
    assert part.id is not None
    w.apply(part.id, "500000.00")
    quote = fw.get(w.sme, QUOTE, params=params).json()
    assert quote["binding_constraint"] == "contract_headroom" and quote["max_amount"] == "200000.00"
    headroom = _assert_422(fw.post(w.sme, CONTRACT_APPS, {**body, "amount": "200000.01"}))
    assert headroom["detail"]["binding_constraint"] == "contract_headroom"
    assert fw.post(w.sme, CONTRACT_APPS, {**body, "amount": "200000.00"}).status_code == 201

    # delivered: contract finance is applied for before delivery
    later = contract(w)
    assert later.id is not None
    fs.accept_delivery(w.uow(), w.core, later.id, fw.clock.now().date())
    delivered = _assert_422(fw.post(w.sme, CONTRACT_APPS, {**body, "contract_id": later.id}))
    assert_error_shape(delivered, "rule_violated")


# --------------------------------------------------------------------------------------------- revolving lines


def _history(fw: FinanceWorld) -> None:
    """Three settled receivables with two buyers and 190 days on the platform: a suggested line of 1,800,000.00
    (as in test_credit_suggestions_api)."""
    w = fw.w
    for n, (face, core) in enumerate([("1000000.00", w.core), ("2000000.00", w.core2), ("3000000.00", w.core)]):
        part = w.confirmed_part(face, core=core)
        fs.pay_receivable(w.uow(), core, part.receivable_id, face, f"line-pay-{n}")
    w.clock.advance(timedelta(days=190))


def _decide(fw: FinanceWorld, actor: Actor | None, sme_id: int, body: dict[str, Any]) -> Any:
    return fw.post(actor, f"{LINES}/{sme_id}/decision", body)


def test_a_bank_sets_a_line_the_sme_draws_and_repays(fw: FinanceWorld) -> None:
    w = fw.w
    _product(fw, "credit_line", "LX1", "1")
    _history(fw)
    sme_id = w.sme.organisation_id
    assert fw.get(w.bank_admin, LINES).json()["total"] == 0

    # who may decide, and within what
    assert _decide(fw, w.reviewer, sme_id, {"accept": True}).status_code == 403  # a reviewer does not set lines
    for actor in (w.sme, w.core, w.office, fw.provider):
        assert _decide(fw, actor, sme_id, {"accept": True}).status_code == 403
    assert _decide(fw, None, sme_id, {"accept": True}).status_code == 401
    not_sme = _decide(fw, w.bank_admin, w.core.organisation_id, {"accept": True})
    assert not_sme.status_code == 404
    assert_error_shape(not_sme.json(), "not_found")
    # 授权查询: the SME applied nowhere, so the bank reads its record (and sets a line) once the SME grants it
    assert _decide(fw, w.bank_admin, sme_id, {"accept": True}).status_code == 404
    fs.grant_record_access(w.uow(), w.sme, w.bank_id)
    above = _assert_422(_decide(fw, w.bank_admin, sme_id, {"accept": True, "limit": "1800000.01"}))
    assert above["detail"]["suggested_fen"] == 180_000_000
    _assert_422(_decide(fw, w.bank_admin, sme_id, {"accept": True, "limit": 1000.5}), "limit")
    _assert_422(_decide(fw, w.bank_admin, sme_id, {"accept": "maybe"}), "accept")
    _assert_422(_decide(fw, w.bank_admin, 0, {"accept": True}), "sme_id")

    decided = _decide(fw, w.bank_admin, sme_id, {"accept": True, "limit": "1000000.00", "note": "按建议下调"})
    assert decided.status_code == 200, decided.text
    line = decided.json()
    assert_no_floats(line)
    assert line["status"] == "active" and line["limit_fen"] == 100_000_000 and line["limit"] == "1000000.00"
    assert line["available"] == "1000000.00" and line["used_fen"] == 0 and line["suggested"] == "1800000.00"
    assert line["note"] == "按建议下调" and line["expires_on"] and line["bank_id"] == w.bank_id
    assert line["suggestion_as_of"] == fw.clock.now().date().isoformat()
    codes = {r["code"] for r in line["reasons"]}
    assert {"settled_volume", "buyer_concentration"} <= codes and all(r["figure"] for r in line["reasons"])

    # who sees the lines
    for actor in (w.bank_admin, w.reviewer, w.sme, w.office):
        assert [x["id"] for x in fw.get(actor, LINES).json()["items"]] == [line["id"]], actor
    for actor in (w.bank2_admin, w.supplier):
        assert fw.get(actor, LINES).json()["total"] == 0
    for actor in (w.core, fw.provider):
        assert fw.get(actor, LINES).status_code == 403
    assert fw.get(w.office, LINES, params={"status": "declined"}).json()["total"] == 0
    assert fw.get(w.office, LINES, params={"sme_id": sme_id}).json()["total"] == 1
    _assert_422(fw.get(w.office, LINES, params={"status": "open"}), "status")

    # a drawdown
    due_on = (fw.clock.now() + timedelta(days=90)).date().isoformat()
    body = {"line_id": line["id"], "amount": "300000.00", "due_on": due_on}
    for actor in (w.core, w.reviewer, w.office):
        assert fw.post(actor, DRAWDOWNS, body).status_code == 403
    assert fw.post(w.supplier, DRAWDOWNS, body).status_code == 404  # not its line
    _assert_422(fw.post(w.sme, DRAWDOWNS, {**body, "due_on": "2026-13-01"}), "due_on")
    _assert_422(fw.post(w.sme, DRAWDOWNS, {**body, "amount": "-1.00"}), "amount")
    _assert_422(fw.post(w.sme, DRAWDOWNS, {**body, "idempotency_key": "x"}), "idempotency_key")
    too_far = (fw.clock.now() + timedelta(days=800)).date().isoformat()
    assert_error_shape(_assert_422(fw.post(w.sme, DRAWDOWNS, {**body, "due_on": too_far})), "rule_violated")
    drawn = fw.post(w.sme, DRAWDOWNS, body, key="drawdown-0001")
    assert drawn.status_code == 201, drawn.text
    app = drawn.json()
    assert app["kind"] == "credit_line" and app["sme_line_id"] == line["id"] and app["due_on"] == due_on
    assert app["contract_id"] is None and app["part_id"] is None and app["core_enterprise_id"] is None
    assert fw.post(w.sme, DRAWDOWNS, body, key="drawdown-0001").headers["Idempotent-Replayed"] == "true"
    over = _assert_422(fw.post(w.sme, DRAWDOWNS, {**body, "amount": "700000.01"}))
    assert over["detail"]["binding_constraint"] == "sme_line"
    (reserved,) = fw.get(w.sme, LINES).json()["items"]
    assert reserved["used"] == "300000.00" and reserved["available"] == "700000.00"

    fs.run_risk_check(w.uow(), app["id"])
    report = fw.get(w.sme, f"{APPS}/{app['id']}/risk-report").json()
    assert report["passed"] is True and any(link["used"] for link in report["links"])
    fw.clock.advance(timedelta(hours=5))
    loan = _through_to_loan(fw, app["id"], "drawdown-flow")
    assert loan["kind"] == "credit_line" and loan["sme_line_id"] == line["id"] and loan["principal"] == "300000.00"
    assert loan["core_enterprise_id"] is None and loan["receivable_id"] is None and loan["contract_id"] is None
    loan_path = f"/api/v1/loans/{loan['id']}"
    assert fw.get(w.core, loan_path).status_code == 404  # no buyer behind a drawdown
    assert fw.get(w.core, "/api/v1/loans").json()["total"] == 0
    assert fw.get(w.sme, "/api/v1/loans", params={"kind": "credit_line"}).json()["total"] == 1
    # a line with money drawn cannot be declined
    _assert_422(_decide(fw, w.bank_admin, sme_id, {"accept": False}))

    # the SME repays everything it owes at maturity
    fw.clock.advance(timedelta(days=30))
    owed = fw.get(w.sme, f"{loan_path}/schedule").json()
    payoff = {"amount": owed["payoff_today"]}
    assert fw.post(w.core, f"{loan_path}/repayments", payoff, key="drawdown-repay-c").status_code == 404
    repaid = fw.post(w.sme, f"{loan_path}/repayments", payoff, key="drawdown-repay-1")
    assert repaid.status_code == 201, repaid.text
    assert repaid.json()["kind"] == "direct" and repaid.json()["loan_status"] == "repaid"
    (freed,) = fw.get(w.bank_admin, LINES).json()["items"]
    assert freed["used_fen"] == 0 and freed["available"] == "1000000.00"  # repaid principal frees the line
    with Session(fw.engine) as s:
        assert fs.unbalanced_postings(s) == []
        assert audit.verify_chain(s).ok

    rows = {r["kind"]: r for r in fw.get(w.office, BY_PRODUCT).json()["products"]}
    assert rows["credit_line"]["disbursed_fen"] == 30_000_000 and rows["credit_line"]["median_hours"] == "5.0"
    assert rows["credit_line"]["repaid"] == "300000.00" and rows["credit_line"]["outstanding_fen"] == 0
    assert rows["credit_line"]["label"] == "循环额度（流水贷）"


def test_a_newcomer_line_is_declined_not_drawn(fw: FinanceWorld) -> None:
    w = fw.w
    sme_id = w.sme.organisation_id
    fs.grant_record_access(w.uow(), w.sme, w.bank_id)  # 授权查询: a newcomer has applied nowhere
    refused = _assert_422(_decide(fw, w.bank_admin, sme_id, {"accept": True}))  # nothing suggested
    assert_error_shape(refused, "rule_violated")
    declined = _decide(fw, w.approver, sme_id, {"accept": False, "note": "新户，暂不授信"})
    assert declined.status_code == 200, declined.text
    line = declined.json()
    assert line["status"] == "declined" and line["limit_fen"] == 0 and line["available_fen"] == 0
    assert [r["code"] for r in line["reasons"]] == ["too_new", "too_few_deals"]
    due_on = (fw.clock.now() + timedelta(days=30)).date().isoformat()
    drawn = _assert_422(fw.post(w.sme, DRAWDOWNS, {"line_id": line["id"], "amount": "1.00", "due_on": due_on}))
    assert_error_shape(drawn, "rule_violated")


# --------------------------------------------------------------------------------------------- products and figures


def test_products_of_each_kind(fw: FinanceWorld) -> None:
    w = fw.w
    contract_id = _product(fw, "contract", "DD9", "0.7")
    listed = {p["id"]: p["kind"] for p in fw.get(w.sme, f"{FIN}/products").json()["items"]}
    assert listed == {w.product.id: "receivable", contract_id: "contract"}
    bad = fw.post(
        w.bank_admin, f"{FIN}/products", {"kind": "mortgage", "code": "X1", "name": "房贷", "advance_rate": "0.5"}
    )
    _assert_422(bad, "kind")


def test_figures_by_product_for_the_office_only(fw: FinanceWorld) -> None:
    w = fw.w
    for actor in (w.sme, w.core, w.reviewer, fw.provider):
        for path in (BY_PRODUCT, f"{BY_PRODUCT}.csv"):
            response = fw.get(actor, path)
            assert response.status_code == 403
            assert_error_shape(response.json(), "permission_denied")
    assert fw.get(None, BY_PRODUCT).status_code == 401
    w.disbursed("800000.00")
    body = fw.get(w.office, BY_PRODUCT, params={"month": "2026-11"}).json()
    assert body["period_start"] == "2026-11-01T00:00:00+08:00" and body["filters"]["month"] == "2026-11"
    rows = {r["kind"]: r for r in body["products"]}
    assert rows["receivable"]["disbursed"] == "800000.00" and rows["receivable"]["median_hours"] == "0.0"
    assert rows["receivable"]["outstanding_fen"] == 80_000_000 and rows["contract"]["applications"] == 0
    empty = fw.get(w.office, BY_PRODUCT, params={"from": "2026-12-01", "to": "2026-12-31"}).json()
    assert all(r["disbursed_count"] == 0 for r in empty["products"])
    _assert_422(fw.get(w.office, BY_PRODUCT, params={"month": "2026-13"}), "month")
    conflicting = _assert_422(fw.get(w.office, BY_PRODUCT, params={"month": "2026-11", "from": "2026-11-01"}))
    assert_error_shape(conflicting, "invalid_input")
    _assert_422(fw.get(w.office, BY_PRODUCT, params={"cluster": "ict"}), "cluster")  # no such filter here

    exported = fw.get(w.office, f"{BY_PRODUCT}.csv")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert exported.content.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert table[0][0] == "产品 / Product" and [r[0] for r in table[1:]] == ["receivable", "contract", "credit_line"]
    assert table[1][5] == "800000.00" and table[2][8] == ""  # no contract loan: no median
