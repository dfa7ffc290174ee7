"""/api/v1/contracts/{id}/payment-plan, /acceptance, /payments, /settlement, /api/v1/statements and
/api/v1/settlement/late-buyers: the buyer writes, the supplier and the office read, another tenant gets 404."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from qianfan.clock import FrozenClock
from tests.api import finance_world
from tests.api.conftest import assert_error_shape, assert_no_floats
from tests.api.finance_world import FinanceWorld
from tests.finance_service.test_settlement_service import contract

C = "/api/v1/contracts"


@pytest.fixture
def fw(engine: Engine, clock: FrozenClock, client: TestClient, monkeypatch: pytest.MonkeyPatch) -> FinanceWorld:
    return finance_world.build(engine, clock, client, monkeypatch)


def test_plan_acceptance_payments_and_settlement(fw: FinanceWorld) -> None:
    w = fw.w
    cid = contract(w).id
    today = w.clock.now().date()

    plan = fw.get(w.sme, f"{C}/{cid}/payment-plan")
    assert plan.status_code == 200, plan.text
    assert plan.json()["agreed"] is False and plan.json()["reference"] == f"HT-{cid}"

    body = {
        "percentages": [
            {"kind": "advance", "percent": "30", "due_on": today.isoformat()},
            {"kind": "acceptance", "percent": "70", "days_after_acceptance": 30},
        ]
    }
    assert fw.put(w.sme, f"{C}/{cid}/payment-plan", body).status_code == 403
    assert fw.put(w.core2, f"{C}/{cid}/payment-plan", body).status_code == 404
    put = fw.put(w.core, f"{C}/{cid}/payment-plan", body)
    assert put.status_code == 200, put.text
    assert [i["amount"] for i in put.json()["instalments"]] == ["300000.00", "700000.00"]
    wrong = fw.put(w.core, f"{C}/{cid}/payment-plan", {"instalments": [{"kind": "final", "amount": "1.00",
                                                                          "days_after_acceptance": 1}]})  # fmt: skip
    assert wrong.status_code == 422 and wrong.json()["detail"]["gap"] == 100 - 100_000_000
    assert fw.put(w.core, f"{C}/{cid}/payment-plan", {**body, "extra": 1}).status_code == 422

    pay = {"ref": "BANK-1", "amount": "300000.00", "paid_on": today.isoformat()}
    assert fw.post(w.sme, f"{C}/{cid}/payments", pay).status_code == 403
    r = fw.post(w.core2, f"{C}/{cid}/payments", pay)
    assert r.status_code == 404, r.text
    first = fw.post(w.core, f"{C}/{cid}/payments", pay, key="settle-pay-0001")
    assert first.status_code == 201, first.text
    assert first.json()["created"] is True and first.json()["payment"]["amount_fen"] == 30_000_000
    replay = fw.post(w.core, f"{C}/{cid}/payments", pay, key="settle-pay-0001")
    assert replay.json() == first.json() and replay.headers.get("Idempotent-Replayed") == "true"
    again = fw.post(w.core, f"{C}/{cid}/payments", pay)  # same reference without a key: the same payment
    assert again.status_code == 201 and again.json()["created"] is False
    conflict = fw.post(w.core, f"{C}/{cid}/payments", {**pay, "amount": "1.00"})
    assert conflict.status_code == 409
    assert_error_shape(conflict.json(), "conflict")

    w.clock.advance(timedelta(days=1))
    accepted = fw.post(w.core, f"{C}/{cid}/acceptance", {"accepted_on": today.isoformat()})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "delivered" and accepted.json()["accepted_on"] == today.isoformat()
    assert fw.post(w.sme, f"{C}/{cid}/acceptance", {"accepted_on": today.isoformat()}).status_code == 403

    over = fw.post(
        w.core, f"{C}/{cid}/payments", {"ref": "BANK-2", "amount": "800000.00", "paid_on": today.isoformat()}
    )
    assert over.status_code == 201 and over.json()["surplus"] == "100000.00" and over.json()["completed"] is True

    for actor in (w.core, w.sme, w.office):
        view = fw.get(actor, f"{C}/{cid}/settlement")
        assert view.status_code == 200, view.text
        data = view.json()
        assert_no_floats(data)
        assert data["status"] == "completed" and data["paid"] == "1000000.00" and data["surplus_fen"] == 10_000_000
        assert [i["status"] for i in data["plan"]["instalments"]] == ["paid", "paid"]
        assert len(fw.get(actor, f"{C}/{cid}/payments").json()) == 2
    for actor in (w.core2, w.supplier):
        assert fw.get(actor, f"{C}/{cid}/settlement").status_code == 404
        assert fw.get(actor, f"{C}/{cid}/payments").status_code == 404
    assert fw.get(w.bank_admin, f"{C}/{cid}/settlement").status_code == 403


def test_statement_import_by_rows_and_csv(fw: FinanceWorld) -> None:
    w = fw.w
    cid = contract(w).id
    d = w.clock.now().date().isoformat()
    rows = [
        {"交易日期": d, "贷方金额": "100.00", "摘要": f"HT-{cid}", "交易流水号": "A1"},
        {"交易日期": d, "贷方金额": "100.00", "摘要": f"HT-{cid}", "交易流水号": "A1"},
        {"交易日期": d, "贷方金额": "5.00", "摘要": "HT-999999", "交易流水号": "A2"},
        {"交易日期": d, "贷方金额": "x", "摘要": f"HT-{cid}", "交易流水号": "A3"},
    ]
    assert fw.post(w.sme, "/api/v1/statements", {"file_name": "a.csv", "rows": rows}).status_code == 403
    response = fw.post(w.core, "/api/v1/statements", {"file_name": "a.csv", "rows": rows})
    assert response.status_code == 201, response.text
    report = response.json()
    assert [r["status"] for r in report["rows"]] == ["matched", "duplicate", "unknown_reference", "invalid"]
    assert report["matched"] == "100.00" and report["duplicate_count"] == 1 and report["invalid_count"] == 1

    text = "交易日期,贷方金额,摘要,交易流水号\n" + f'{d},100.00,HT-{cid},A1\n{d},"1,000.00",HT-{cid},A4\n'
    second = fw.post(w.core, "/api/v1/statements", {"file_name": "b.csv", "csv": "\ufeff" + text})
    assert second.status_code == 201, second.text
    assert [r["status"] for r in second.json()["rows"]] == ["duplicate", "matched"]
    paid = fw.get(w.sme, f"{C}/{cid}/settlement").json()["received"]
    assert paid == "1100.00"

    sid = report["id"]
    assert fw.get(w.core, f"/api/v1/statements/{sid}").json()["rows"] == report["rows"]
    assert fw.get(w.office, f"/api/v1/statements/{sid}").status_code == 200
    assert fw.get(w.core2, f"/api/v1/statements/{sid}").status_code == 404
    assert fw.get(w.sme, f"/api/v1/statements/{sid}").status_code == 403

    both = fw.post(w.core, "/api/v1/statements", {"file_name": "c.csv", "rows": rows, "csv": text})
    assert both.status_code == 422
    control = fw.post(w.core, "/api/v1/statements", {"file_name": "c.csv", "rows": [{"摘要": "a\u0000b"}]})
    assert control.status_code == 422


def test_statement_upload_as_a_file_utf8_or_gbk(fw: FinanceWorld) -> None:
    w = fw.w
    cid = contract(w).id
    d = w.clock.now().date().isoformat()
    text = "交易日期,贷方金额,摘要,交易流水号\n" + f"{d},100.00,HT-{cid} 预付款,U1\n{d},100.00,HT-{cid} 预付款,U1\n"
    url = "/api/v1/statements/upload"

    def upload(actor: Any, data: bytes, **form: str) -> Any:
        return fw.client.post(url, headers=fw.h(actor), files={"file": ("网银.csv", data, "text/csv")}, data=form)

    assert upload(w.sme, text.encode()).status_code == 403
    first = upload(w.core, text.encode("gbk"))  # online banking in China often exports GBK
    assert first.status_code == 201, first.text
    report = first.json()
    assert report["file_name"] == "网银.csv" and [r["status"] for r in report["rows"]] == ["matched", "duplicate"]
    again = upload(w.core, ("\ufeff" + text).encode("utf-8"), file_name="三月对账单.csv")  # UTF-8 with BOM
    assert again.status_code == 201 and again.json()["file_name"] == "三月对账单.csv"
    assert [r["status"] for r in again.json()["rows"]] == ["duplicate", "duplicate"]  # recorded once, ever
    assert fw.get(w.sme, f"{C}/{cid}/settlement").json()["received"] == "100.00"
    empty = upload(w.core, b"")
    assert empty.status_code == 422 and "没有数据行" in empty.json()["message"]
    binary = upload(w.core, b"\x00\x01PK")
    assert binary.status_code == 422 and "CSV" in binary.json()["message_en"]
    big = upload(w.core, b"a" * (2 * 1024 * 1024 + 1))
    # refused by the request-size limit (413) or, under a larger limit, by the 2 MB file limit (422)
    assert big.status_code in {413, 422} and ("large" in big.json()["message_en"] or "KB" in big.json()["message_en"])


def test_late_buyers_for_the_office(fw: FinanceWorld) -> None:
    w = fw.w
    cid = contract(w).id
    today = w.clock.now().date()
    assert fw.post(w.core, f"{C}/{cid}/acceptance", {"accepted_on": today.isoformat()}).status_code == 200
    w.clock.advance(timedelta(days=61))
    late = fw.get(w.office, "/api/v1/settlement/late-buyers")
    assert late.status_code == 200, late.text
    page = late.json()
    assert [(r["contract_id"], r["days_late"], r["late_amount"]) for r in page["items"]] == [(cid, 1, "1000000.00")]
    assert (page["total"], page["limit"], page["offset"]) == (1, 20, 0)
    assert fw.get(w.office, "/api/v1/settlement/late-buyers?offset=1").json()["items"] == []
    assert fw.get(w.office, "/api/v1/settlement/late-buyers?limit=0").status_code == 422
    assert fw.get(w.core, "/api/v1/settlement/late-buyers").status_code == 403
    view = fw.get(w.sme, f"{C}/{cid}/settlement").json()
    assert view["late"] is True and view["overdue"] == "1000000.00"
