"""/api/v1/finance: quote, apply (Idempotency-Key), list/get scoped to applicant, bank and office, the risk report,
the review queue, decisions, the offer and its signature, disbursement exactly once, the 48-hour timeline, bank
set-up; and the whole path over HTTP with the ledger balanced."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from finance import service as fs
from qianfan import audit
from qianfan.clock import FrozenClock
from qianfan.models import FinanceApplication, Loan, LoanStatus
from tests.api import finance_world
from tests.api.conftest import assert_error_shape, assert_no_floats
from tests.api.finance_world import FinanceWorld

APPS = "/api/v1/finance/applications"


@pytest.fixture
def fw(engine: Engine, clock: FrozenClock, client: TestClient, monkeypatch: pytest.MonkeyPatch) -> FinanceWorld:
    return finance_world.build(engine, clock, client, monkeypatch)


def _apply(fw: FinanceWorld, part_id: int, amount: str = "800000.00", key: str | None = None) -> Any:
    return fw.post(fw.w.sme, APPS, {"part_id": part_id, "bank_id": fw.w.bank_id, "amount": amount}, key=key)


def _count(fw: FinanceWorld, model: Any) -> int:
    with Session(fw.engine) as s:
        return len(s.exec(select(model)).all())


def test_quote_gives_the_maximum_and_the_binding_limit(fw: FinanceWorld) -> None:
    w = fw.w
    part = w.confirmed_part("1000000.00")
    params = {"part_id": part.id, "bank_id": w.bank_id}
    response = fw.get(w.sme, f"{APPS}/quote", params=params)
    assert response.status_code == 200, response.text
    quote = response.json()
    assert_no_floats(quote)
    assert quote["max_amount_fen"] == 90_000_000 and quote["max_amount"] == "900000.00"
    assert quote["binding_constraint"] == "advance_rate" and quote["product_id"] == w.product.id
    assert quote["limits"]["advance_rate"] == "900000.00"
    assert fw.get(w.supplier, f"{APPS}/quote", params=params).status_code == 404  # not its part
    assert fw.get(w.reviewer, f"{APPS}/quote", params=params).status_code == 403
    missing = fw.get(w.sme, f"{APPS}/quote", params={"part_id": part.id})
    assert missing.status_code == 422 and missing.json()["detail"][0]["field"] == "bank_id"


def test_apply_is_idempotent_per_key(fw: FinanceWorld) -> None:
    w = fw.w
    part = w.confirmed_part()
    first = _apply(fw, part.id, key="apply-2026-11-02-0001")
    assert first.status_code == 201, first.text
    body = first.json()
    assert_no_floats(body)
    assert body["status"] == "submitted" and body["requested"] == "800000.00" and body["stage"] == "risk_check"
    assert body["deadline_at"] == "2026-11-04T09:30:00+08:00"  # 48 hours, shown in Beijing time
    replay = _apply(fw, part.id, key="apply-2026-11-02-0001")
    assert replay.status_code == 201 and replay.json() == body
    assert replay.headers["Idempotent-Replayed"] == "true"
    conflict = _apply(fw, part.id, "700000.00", key="apply-2026-11-02-0001")
    assert conflict.status_code == 409
    assert_error_shape(conflict.json(), "conflict")
    assert _count(fw, FinanceApplication) == 1
    # without a key, a second application on the same part is refused by the part's state
    again = _apply(fw, part.id)
    assert again.status_code == 409 and again.json()["message_en"]
    # a key longer than the use case's 64 characters still works (passed down as a digest)
    other = w.confirmed_part()
    long_key = "k" * 100
    assert _apply(fw, other.id, key=long_key).status_code == 201
    assert _apply(fw, other.id, key=long_key).headers["Idempotent-Replayed"] == "true"
    assert _count(fw, FinanceApplication) == 2


def test_apply_bilingual_422s(fw: FinanceWorld) -> None:
    w = fw.w
    part = w.confirmed_part()
    cases = [
        ({"part_id": part.id, "bank_id": w.bank_id, "amount": 800000.5}, "amount"),
        ({"bank_id": w.bank_id, "amount": "1.00"}, "part_id"),
        ({"part_id": 0, "bank_id": w.bank_id, "amount": "1.00"}, "part_id"),
        # the use case's key comes from the Idempotency-Key header, never from the body
        ({"part_id": part.id, "bank_id": w.bank_id, "amount": "1.00", "idempotency_key": "k-1"}, "idempotency_key"),
    ]
    for body, field in cases:
        response = fw.post(w.sme, APPS, body)
        assert response.status_code == 422, response.text
        assert_error_shape(response.json(), "invalid_input")
        detail = response.json()["detail"][0]
        assert detail["field"] == field and detail["message"] and detail["message_en"]
    bad_key = fw.post(w.sme, APPS, {"part_id": part.id, "bank_id": w.bank_id, "amount": "1.00"}, key="bad key!")
    assert bad_key.status_code == 422 and bad_key.json()["detail"][0]["field"] == "Idempotency-Key"
    over = _apply(fw, part.id, "950000.00")  # above the advance limit: the rule's own bilingual 422
    assert over.status_code == 422
    assert "900000" in over.json()["message"].replace(",", "") or over.json()["detail"]


def test_applications_are_scoped_to_applicant_bank_and_office(fw: FinanceWorld) -> None:
    w = fw.w
    app = w.apply(w.confirmed_part().id)
    path = f"{APPS}/{app.id}"
    for actor in (w.sme, w.reviewer, w.bank_admin, w.office):
        assert fw.get(actor, path).status_code == 200, actor
        assert [a["id"] for a in fw.get(actor, APPS).json()["items"]] == [app.id]
        assert fw.get(actor, f"{path}/timeline").status_code == 200
        assert fw.get(actor, f"{path}/risk-report").status_code == 200
    for actor in (w.supplier, w.bank2_admin):  # another SME, another bank
        response = fw.get(actor, path)
        assert response.status_code == 404
        assert_error_shape(response.json(), "not_found")
        assert fw.get(actor, APPS).json()["total"] == 0
        for sub in ("risk-report", "offer", "timeline"):
            assert fw.get(actor, f"{path}/{sub}").status_code == 404
    for actor in (w.core, fw.provider):  # large firms and service providers have no applications
        assert fw.get(actor, APPS).status_code == 403
        assert fw.get(actor, path).status_code == 403
    assert fw.get(None, APPS).status_code == 401
    assert fw.get(None, path).status_code == 401
    # writes are refused to the office, and to the other side's kind
    assert fw.post(w.office, f"{path}/withdraw").status_code == 403
    assert fw.post(w.office, f"{path}/approve").status_code == 403
    assert fw.post(w.sme, f"{path}/approve").status_code == 403
    assert fw.post(w.reviewer, f"{path}/withdraw").status_code == 403
    assert fw.post(w.bank2_admin, f"{path}/reject", {"reason": "不是本行的"}).status_code == 404
    assert fw.post(w.supplier, f"{path}/withdraw").status_code == 404


def test_list_filters(fw: FinanceWorld) -> None:
    w = fw.w
    first = w.apply(w.confirmed_part().id, "100000.00")
    fw.clock.advance(timedelta(hours=1))
    second = w.apply(w.confirmed_part().id, "200000.00")
    fs.withdraw(w.uow(), w.sme, first.id)
    listed = fw.get(w.sme, APPS).json()
    assert [a["id"] for a in listed["items"]] == [second.id, first.id]
    assert [a["id"] for a in fw.get(w.sme, APPS, params={"status": "withdrawn"}).json()["items"]] == [first.id]
    assert [a["id"] for a in fw.get(w.office, APPS, params={"sort": "-requested"}).json()["items"]] == [
        second.id,
        first.id,
    ]
    today = fw.clock.now().date()
    assert fw.get(w.sme, APPS, params={"submitted_from": (today + timedelta(days=1)).isoformat()}).json()["total"] == 0
    assert fw.get(w.sme, APPS, params={"submitted_to": today.isoformat()}).json()["total"] == 2
    assert fw.get(w.sme, APPS, params={"status": "nonsense"}).status_code == 422


def test_review_path_offer_sign_and_disburse_once(fw: FinanceWorld) -> None:
    w = fw.w
    part = w.confirmed_part("1000000.00")
    app_id = _apply(fw, part.id, "900000.00", key="apply-review-path-1").json()["id"]
    path = f"{APPS}/{app_id}"
    unchecked = fw.get(w.reviewer, f"{path}/risk-report").json()
    assert unchecked["checked"] is False and unchecked["grade"] is None
    assert fw.get(w.reviewer, f"{APPS}/review-queue").json()["total"] == 0  # waiting for the risk check

    fs.run_risk_check(w.uow(), app_id)  # what the worker does after submission
    report = fw.get(w.reviewer, f"{path}/risk-report").json()
    assert_no_floats(report)
    assert report["checked"] is True and report["passed"] is True and report["grade"] in "ABCD"
    assert report["reasons"] and {"code", "message", "message_en"} <= set(report["reasons"][0])
    queue = fw.get(w.reviewer, f"{APPS}/review-queue")
    assert queue.status_code == 200, queue.text
    assert [i["id"] for i in queue.json()["items"]] == [app_id]
    assert queue.json()["items"][0]["overall_left_seconds"] == 48 * 3600
    assert fw.get(w.sme, f"{APPS}/review-queue").status_code == 403
    assert fw.get(w.bank2_admin, f"{APPS}/review-queue").json()["total"] == 0
    assert fw.get(w.sme, f"{path}/offer").status_code == 409  # not approved yet

    started = fw.post(w.reviewer, f"{path}/start-review")
    assert started.status_code == 200 and started.json()["status"] == "under_review"
    asked = fw.post(w.reviewer, f"{path}/request-info", {"question": "请补充验收单"})
    assert asked.json()["status"] == "info_requested" and asked.json()["info_request"] == "请补充验收单"
    assert fw.post(w.sme, f"{path}/provide-info", {"answer": ""}).status_code == 422
    answered = fw.post(w.sme, f"{path}/provide-info", {"answer": "验收单编号YS-118"})
    assert answered.json()["status"] == "under_review"

    fw.clock.advance(timedelta(hours=2))
    approved = fw.post(w.reviewer, f"{path}/approve", {"note": "同意"}, key="approve-review-path-1")
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved" and approved.json()["approved"] == "900000.00"
    assert approved.json()["annual_rate"] is not None and approved.json()["stage"] == "sme_signature"
    replay = fw.post(w.reviewer, f"{path}/approve", {"note": "同意"}, key="approve-review-path-1")
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.json() == approved.json()
    assert fw.post(w.reviewer, f"{path}/approve", {"note": "改了"}, key="approve-review-path-1").status_code == 409

    offer = fw.get(w.sme, f"{path}/offer")
    assert offer.status_code == 200
    terms = offer.json()
    assert_no_floats(terms)
    assert terms["terms"]["principal_fen"] == 90_000_000 and terms["terms"]["guarantee"] == "none"
    assert terms["terms_hash"] == fs.terms_hash(terms["terms"]) and len(terms["terms_hash"]) == 64
    assert fw.get(w.reviewer, f"{path}/offer").json()["terms_hash"] == terms["terms_hash"]

    wrong = fw.post(w.sme, f"{path}/sign", {"terms_hash": "0" * 64}, key="sign-review-path-0")
    assert wrong.status_code == 409 and wrong.json()["detail"]["expected_terms_hash"] == terms["terms_hash"]
    assert fw.post(w.sme, f"{path}/sign", {"terms_hash": "XYZ"}).status_code == 422
    signed = fw.post(w.sme, f"{path}/sign", {"terms_hash": terms["terms_hash"]}, key="sign-review-path-1")
    assert signed.status_code == 200, signed.text
    assert signed.json()["terms_hash"] == terms["terms_hash"]
    again = fw.post(w.sme, f"{path}/sign", {"terms_hash": terms["terms_hash"]}, key="sign-review-path-1")
    assert again.headers["Idempotent-Replayed"] == "true"

    no_key = fw.post(w.reviewer, f"{path}/disburse")
    assert no_key.status_code == 422 and no_key.json()["detail"][0]["field"] == "Idempotency-Key"
    assert fw.post(w.sme, f"{path}/disburse", key="disburse-by-sme-1").status_code == 403
    assert fw.post(w.bank2_admin, f"{path}/disburse", key="disburse-other-1").status_code == 404
    loan = fw.post(w.reviewer, f"{path}/disburse", key="disburse-review-path-1")
    assert loan.status_code == 201, loan.text
    assert_no_floats(loan.json())
    assert loan.json()["principal_fen"] == 90_000_000 and loan.json()["receivable_id"] == part.receivable_id
    replayed = fw.post(w.reviewer, f"{path}/disburse", key="disburse-review-path-1")
    assert replayed.status_code == 201 and replayed.json() == loan.json()
    assert replayed.headers["Idempotent-Replayed"] == "true"
    # another key after disbursement: refused, still one loan
    assert fw.post(w.reviewer, f"{path}/disburse", key="disburse-review-path-2").status_code == 409
    assert _count(fw, Loan) == 1

    timeline = fw.get(w.sme, f"{path}/timeline").json()
    assert_no_floats(timeline)
    assert timeline["status"] == "disbursed" and timeline["sla_status"] == "on_track"
    assert [s["stage"] for s in timeline["stages"]] == [
        "risk_check",
        "bank_review",
        "info_requested",
        "bank_review",
        "sme_signature",
        "disbursement",
    ]
    assert [s["party"] for s in timeline["stages"]][:3] == ["platform", "bank", "sme"]
    assert all(s["left_at"] is not None for s in timeline["stages"])
    assert timeline["stages"][3]["duration_seconds"] == 2 * 3600 and timeline["breach"]["breached"] is False
    assert timeline["elapsed_seconds"] == 2 * 3600 and timeline["deadline_at"].endswith("+08:00")


def test_timeline_flags_an_application_at_risk_and_breached(fw: FinanceWorld) -> None:
    w = fw.w
    app = w.apply(w.confirmed_part().id)
    fs.run_risk_check(w.uow(), app.id)
    fw.clock.advance(timedelta(hours=20))  # 4 of the bank's 24 review hours left: under a quarter
    at_risk = fw.get(w.reviewer, f"{APPS}/{app.id}/timeline").json()
    assert at_risk["sla_status"] == "at_risk" and at_risk["stage"] == "bank_review"
    assert at_risk["stages"][-1]["left_at"] is None and at_risk["stages"][-1]["over_budget"] is False
    assert fw.get(w.reviewer, f"{APPS}/{app.id}").json()["sla_status"] == "at_risk"
    fw.clock.advance(timedelta(hours=29))
    breached = fw.get(w.office, f"{APPS}/{app.id}/timeline").json()
    assert breached["sla_status"] == "breached" and breached["overall_left_seconds"] < 0
    assert breached["breach"] == {
        "breached": True,
        "responsible": "bank",
        "excess_seconds": {"bank": 14 * 3600},  # 49 h in review against the bank's 35 h allowance
    }
    assert breached["stages"][-1]["over_budget"] is True


def test_reject_and_withdraw(fw: FinanceWorld) -> None:
    w = fw.w
    rejected = w.apply(w.confirmed_part().id)
    fs.run_risk_check(w.uow(), rejected.id)
    assert fw.post(w.reviewer, f"{APPS}/{rejected.id}/reject", {"reason": ""}).status_code == 422
    response = fw.post(w.reviewer, f"{APPS}/{rejected.id}/reject", {"reason": "核心企业付款记录不佳"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "rejected" and response.json()["decision_reason"] == "核心企业付款记录不佳"
    withdrawn = w.apply(w.confirmed_part().id)
    response = fw.post(w.sme, f"{APPS}/{withdrawn.id}/withdraw")
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    assert fw.post(w.sme, f"{APPS}/{withdrawn.id}/withdraw").status_code == 422  # already final


def test_bank_setup_and_exposure_limits(fw: FinanceWorld) -> None:
    w = fw.w
    product = {
        "code": "RF2",
        "name": "订单快贷",
        "advance_rate": "0.85",
        "arrangement_fee_bp": 5,
        "fee_min": "100.00",
        "fee_max": "20000.00",
        "spreads_bp": {"A": 60, "B": 120, "C": 200, "D": None},
    }
    created = fw.post(w.bank_admin, "/api/v1/finance/products", product)
    assert created.status_code == 201, created.text
    assert created.json()["advance_rate"] == "0.85" and created.json()["four_eyes_threshold"] == "5000000.00"
    assert fw.post(w.bank_admin, "/api/v1/finance/products", product).status_code == 409  # same code
    assert fw.post(w.reviewer, "/api/v1/finance/products", {**product, "code": "RF3"}).status_code == 403  # role
    assert fw.post(w.sme, "/api/v1/finance/products", product).status_code == 403
    assert fw.post(w.bank_admin, "/api/v1/finance/products", {**product, "advance_rate": 0.8}).status_code == 422
    listed = fw.get(w.sme, "/api/v1/finance/products", params={"bank_id": w.bank_id}).json()
    assert [p["code"] for p in listed["items"]] == ["RF1", "RF2"]
    assert fw.get(fw.provider, "/api/v1/finance/products").status_code == 403

    core_id = w.core.organisation_id
    line = fw.put(w.bank_admin, f"/api/v1/finance/credit-lines/{core_id}", {"limit": "20000000.00"})
    assert line.status_code == 200, line.text
    assert line.json()["limit_fen"] == 2_000_000_000 and line.json()["used"] == "0.00"
    assert fw.put(w.reviewer, f"/api/v1/finance/credit-lines/{core_id}", {"limit": "1.00"}).status_code == 403
    assert fw.put(w.office, f"/api/v1/finance/credit-lines/{core_id}", {"limit": "1.00"}).status_code == 403
    assert fw.put(w.bank_admin, f"/api/v1/finance/credit-lines/{core_id}", {"limit": 1.5}).status_code == 422
    not_a_firm = fw.put(w.bank_admin, f"/api/v1/finance/credit-lines/{w.sme.organisation_id}", {"limit": "1.00"})
    assert not_a_firm.status_code == 404
    lines = fw.get(w.bank_admin, "/api/v1/finance/credit-lines").json()
    assert lines["total"] == 2 and fw.get(w.bank2_admin, "/api/v1/finance/credit-lines").json()["total"] == 0
    assert fw.get(w.sme, "/api/v1/finance/credit-lines").status_code == 403

    sme_id = w.sme.organisation_id
    limit = fw.put(w.office, f"/api/v1/finance/exposure-limits/{sme_id}", {"limit": "500000.00"})
    assert limit.status_code == 200
    assert limit.json() == {"sme_id": sme_id, "limit_fen": 50_000_000, "limit": "500000.00"}
    assert fw.put(w.bank_admin, f"/api/v1/finance/exposure-limits/{sme_id}", {"limit": "1.00"}).status_code == 403
    quote = fw.get(w.sme, f"{APPS}/quote", params={"part_id": w.confirmed_part().id, "bank_id": w.bank_id})
    assert quote.status_code == 422 and quote.json()["detail"]["field"] == "product_id"  # two products now
    params = {"part_id": w.confirmed_part().id, "bank_id": w.bank_id, "product_id": created.json()["id"]}
    quote = fw.get(w.sme, f"{APPS}/quote", params=params)
    assert quote.status_code == 200, quote.text
    assert quote.json()["binding_constraint"] == "sme_exposure" and quote.json()["max_amount"] == "500000.00"


def test_the_whole_path_over_http_keeps_the_ledger_balanced(fw: FinanceWorld) -> None:
    w = fw.w
    registered = fw.post(
        w.sme,
        "/api/v1/receivables",
        {
            "title": "工业云PaaS平台 验收款",
            "debtor_id": w.core.organisation_id,
            "face": "2000000.00",
            "issue_date": fw.clock.now().date().isoformat(),
            "due_date": w.due(60).isoformat(),
            "invoice_numbers": ["FLOW0001", "FLOW0002"],
        },
    )
    assert registered.status_code == 201, registered.text
    rid = registered.json()["id"]
    confirmed = fw.post(w.core, f"/api/v1/receivables/{rid}/confirm", {"irrevocable_undertaking": True})
    assert confirmed.status_code == 200, confirmed.text
    (part,) = confirmed.json()["parts"]
    quote = fw.get(w.sme, f"{APPS}/quote", params={"part_id": part["id"], "bank_id": w.bank_id}).json()
    applied = _apply(fw, part["id"], quote["max_amount"], key="flow-apply-0001")
    assert applied.status_code == 201, applied.text
    app_id = applied.json()["id"]
    fs.run_risk_check(w.uow(), app_id)  # the worker's step
    fw.clock.advance(timedelta(hours=1))
    assert fw.post(w.reviewer, f"{APPS}/{app_id}/approve", key="flow-approve-0001").status_code == 200
    terms_hash = fw.get(w.sme, f"{APPS}/{app_id}/offer").json()["terms_hash"]
    assert fw.post(w.sme, f"{APPS}/{app_id}/sign", {"terms_hash": terms_hash}, key="flow-sign-0001").status_code == 200
    disbursed = fw.post(w.reviewer, f"{APPS}/{app_id}/disburse", key="flow-disburse-0001")
    assert disbursed.status_code == 201, disbursed.text
    loan_id = disbursed.json()["id"]
    assert fw.get(w.sme, f"/api/v1/receivables/{rid}").json()["status"] == "financed"

    fw.clock.advance(timedelta(days=60))  # maturity: the debtor repays the loan, then pays the rest to the SME
    owed = fw.get(w.core, f"/api/v1/loans/{loan_id}/schedule").json()
    repaid = fw.post(w.core, f"/api/v1/loans/{loan_id}/repayments", {"amount": owed["total"]}, key="flow-repay-0001")
    assert repaid.status_code == 201, repaid.text
    assert repaid.json()["loan_status"] == "repaid" and repaid.json()["amount"] == owed["total"]
    loan = fw.get(w.sme, f"/api/v1/loans/{loan_id}").json()
    assert loan["status"] == "repaid" and loan["principal_outstanding_fen"] == 0
    ledger = fw.get(w.office, f"/api/v1/loans/{loan_id}/ledger").json()
    assert ledger and all(p["balanced"] for p in ledger)
    with Session(fw.engine) as s:
        assert fs.unbalanced_postings(s) == []
        assert sum(fs.balances(s).values()) == 0
        assert s.get(Loan, loan_id).status == LoanStatus.REPAID  # type: ignore[union-attr]
        assert audit.verify_chain(s).ok


def test_four_eyes_above_the_threshold(fw: FinanceWorld) -> None:
    w = fw.w
    app = w.apply(w.confirmed_part("7000000.00").id, "6000000.00")
    fs.run_risk_check(w.uow(), app.id)
    first = fw.post(w.reviewer, f"{APPS}/{app.id}/approve", {"annual_rate": "0.06"})
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "awaiting_second_approval" and first.json()["approved"] is None
    assert fw.get(w.sme, f"{APPS}/{app.id}/offer").status_code == 409
    assert fw.post(w.reviewer, f"{APPS}/{app.id}/approve").status_code == 422  # not a second time by the same role
    assert fw.post(w.reviewer, f"{APPS}/{app.id}/approve", {"annual_rate": 0.06}).status_code == 422  # no floats
    second = fw.post(w.approver, f"{APPS}/{app.id}/approve", key="second-approval-01")
    assert second.status_code == 200, second.text
    assert second.json()["status"] == "approved" and second.json()["annual_rate"] == "0.06"
    assert fw.get(w.sme, f"{APPS}/{app.id}/offer").json()["terms"]["principal_fen"] == 600_000_000
