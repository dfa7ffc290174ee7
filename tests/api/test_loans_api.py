"""/api/v1/loans: list/get scoped to the bank, the borrower SME, the debtor and the office; what is owed; the
repayments and the ledger; direct repayment once per Idempotency-Key."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from finance import service as fs
from qianfan.clock import FrozenClock
from qianfan.models import LedgerPosting
from tests.api import finance_world
from tests.api.conftest import assert_error_shape, assert_no_floats
from tests.api.finance_world import FinanceWorld

URL = "/api/v1/loans"


@pytest.fixture
def fw(engine: Engine, clock: FrozenClock, client: TestClient, monkeypatch: pytest.MonkeyPatch) -> FinanceWorld:
    return finance_world.build(engine, clock, client, monkeypatch)


def _repayment_postings(fw: FinanceWorld, loan_id: int) -> list[str]:
    with Session(fw.engine) as s:
        refs = s.exec(select(LedgerPosting.ref).where(LedgerPosting.loan_id == loan_id)).all()
        return [r for r in refs if ":repay:" in r]


def test_loans_are_scoped_to_their_parties(fw: FinanceWorld) -> None:
    w = fw.w
    loan = w.disbursed("800000.00")
    path = f"{URL}/{loan.id}"
    for actor in (w.reviewer, w.bank_admin, w.sme, w.core, w.office):
        response = fw.get(actor, path)
        assert response.status_code == 200, response.text
        body = response.json()
        assert_no_floats(body)
        assert body["principal_fen"] == 80_000_000 and body["principal"] == "800000.00"
        assert body["status"] == "disbursed" and body["disbursed_at"].endswith("+08:00")
        assert [x["id"] for x in fw.get(actor, URL).json()["items"]] == [loan.id]
        for sub in ("schedule", "repayments", "ledger"):
            assert fw.get(actor, f"{path}/{sub}").status_code == 200
    for actor in (w.supplier, w.core2, w.bank2_admin):
        response = fw.get(actor, path)
        assert response.status_code == 404
        assert_error_shape(response.json(), "not_found")
        assert fw.get(actor, URL).json()["total"] == 0
        for sub in ("schedule", "repayments", "ledger"):
            assert fw.get(actor, f"{path}/{sub}").status_code == 404
    assert fw.get(fw.provider, URL).status_code == 403
    assert fw.get(fw.provider, path).status_code == 403
    for sub in ("", "/schedule", "/repayments", "/ledger"):
        assert fw.get(None, f"{path}{sub}").status_code == 401
    assert fw.post(None, f"{path}/repayments", {"amount": "1.00"}, key="no-token-0001").status_code == 401


def test_list_filters_and_sort(fw: FinanceWorld) -> None:
    w = fw.w
    near = w.disbursed("100000.00", days=30)
    far = w.disbursed("300000.00", days=120)
    assert [x["id"] for x in fw.get(w.office, URL).json()["items"]] == [near.id, far.id]
    assert [x["id"] for x in fw.get(w.office, URL, params={"sort": "-principal"}).json()["items"]] == [far.id, near.id]
    window = fw.get(w.reviewer, URL, params={"due_from": w.due(60).isoformat()}).json()
    assert [x["id"] for x in window["items"]] == [far.id]
    assert fw.get(w.sme, URL, params={"status": "repaid"}).json()["total"] == 0
    bad = fw.get(w.sme, URL, params={"sort": "interest"})
    assert bad.status_code == 422
    assert_error_shape(bad.json(), "invalid_input")
    assert bad.json()["detail"][0]["field"] == "sort" and "不支持" in bad.json()["detail"][0]["message"]


def test_schedule_and_ledger(fw: FinanceWorld) -> None:
    w = fw.w
    loan = w.disbursed("800000.00", days=90)
    schedule = fw.get(w.sme, f"{URL}/{loan.id}/schedule").json()
    assert_no_floats(schedule)
    assert schedule["principal_fen"] == 80_000_000 and schedule["penalty_fen"] == 0
    assert schedule["interest_fen"] == loan.interest_fen and schedule["fees_fen"] == 0  # the fee is deducted
    assert schedule["total_fen"] == 80_000_000 + loan.interest_fen and schedule["days_to_due"] == 90
    ledger = fw.get(w.reviewer, f"{URL}/{loan.id}/ledger").json()
    assert_no_floats(ledger)
    assert [p["ref"].split(":")[-1] for p in ledger] == ["disbursement", "interest", "fee", "fee-deduction"]
    assert all(p["balanced"] and sum(leg["amount_fen"] for leg in p["legs"]) == 0 for p in ledger)
    assert fw.get(w.core, f"{URL}/{loan.id}/repayments").json() == []


def test_repayment_is_once_per_idempotency_key(fw: FinanceWorld) -> None:
    w = fw.w
    loan = w.disbursed("800000.00")
    path = f"{URL}/{loan.id}/repayments"
    w.clock.advance(timedelta(days=(loan.due_date - w.clock.now().date()).days))  # at maturity: the whole interest
    first = fw.post(w.core, path, {"amount": "100000.00"}, key="repay-2027-0001")
    assert first.status_code == 201, first.text
    body = first.json()
    assert_no_floats(body)
    assert body["kind"] == "direct" and body["amount_fen"] == 10_000_000 and body["loan_status"] == "repaid_partially"
    allocation = body["allocation"]
    assert allocation["interest_fen"] == loan.interest_fen  # interest first, then principal
    assert allocation["principal_fen"] == 10_000_000 - loan.interest_fen and allocation["excess_fen"] == 0
    replay = fw.post(w.core, path, {"amount": "100000.00"}, key="repay-2027-0001")
    assert replay.status_code == 201 and replay.json() == body
    assert replay.headers["Idempotent-Replayed"] == "true"
    conflict = fw.post(w.core, path, {"amount": "200000.00"}, key="repay-2027-0001")
    assert conflict.status_code == 409
    assert_error_shape(conflict.json(), "conflict")
    assert len(_repayment_postings(fw, loan.id)) == 1

    missing = fw.post(w.core, path, {"amount": "1.00"})
    assert missing.status_code == 422 and missing.json()["detail"][0]["field"] == "Idempotency-Key"
    floaty = fw.post(w.core, path, {"amount": 1.5}, key="repay-float-0001")
    assert floaty.status_code == 422 and floaty.json()["detail"][0]["field"] == "amount"
    too_much = fw.post(w.sme, path, {"amount": "900000.00"}, key="repay-too-much-01")
    assert too_much.status_code == 422 and too_much.json()["detail"]["owed_fen"] > 0
    for actor in (w.reviewer, w.office):
        assert fw.post(actor, path, {"amount": "1.00"}, key="repay-not-yours-1").status_code == 403
    assert fw.post(w.core2, path, {"amount": "1.00"}, key="repay-foreign-001").status_code == 404
    assert fw.post(w.supplier, path, {"amount": "1.00"}, key="repay-foreign-002").status_code == 404

    owed = fw.get(w.sme, f"{URL}/{loan.id}/schedule").json()
    rest = fw.post(w.sme, path, {"amount": owed["total"]}, key="repay-2027-0002")  # the SME repays the rest
    assert rest.status_code == 201, rest.text
    assert rest.json()["loan_status"] == "repaid"
    repayments = fw.get(w.reviewer, path).json()
    assert [r["amount_fen"] for r in repayments] == [10_000_000, owed["total_fen"]]
    assert fw.get(w.reviewer, f"{URL}/{loan.id}/schedule").json()["total_fen"] == 0
    assert fw.post(w.core, path, {"amount": "1.00"}, key="repay-2027-0003").status_code == 409  # already repaid
    with Session(fw.engine) as s:
        assert fs.unbalanced_postings(s) == []


def test_an_overdue_loan_owes_penalty_and_a_receivable_payment_shows_as_a_repayment(fw: FinanceWorld) -> None:
    w = fw.w
    loan = w.disbursed("800000.00", days=30)
    fw.clock.advance(timedelta(days=40))
    fs.maturity_sweep(w.uow())
    schedule = fw.get(w.core, f"{URL}/{loan.id}/schedule").json()
    assert schedule["status"] == "overdue" and schedule["days_to_due"] == -10 and schedule["penalty_fen"] > 0
    assert fw.get(w.office, URL, params={"status": "overdue"}).json()["total"] == 1
    part_receivable = fw.get(w.core, f"{URL}/{loan.id}").json()["receivable_id"]
    paid = fw.post(w.core, f"/api/v1/receivables/{part_receivable}/payments", {"amount": "1000000.00"}, key="pay-0001")
    assert paid.status_code == 201, paid.text
    line: dict[str, Any] = paid.json()["allocation"][0]
    assert line["loan_id"] == loan.id and line["loan"]["penalty_fen"] == schedule["penalty_fen"]
    (repayment,) = fw.get(w.sme, f"{URL}/{loan.id}/repayments").json()
    assert repayment["kind"] == "receivable_payment" and repayment["amount_fen"] == 100_000_000
    assert repayment["allocation"]["excess_fen"] > 0 and repayment["loan_status"] == "repaid"
    assert fw.get(w.sme, f"{URL}/{loan.id}").json()["status"] == "repaid"
