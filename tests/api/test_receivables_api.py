"""/api/v1/receivables: register, list/get with parts, confirm (one and batch), dispute, split, transfer, pay —
scoped to the organisation (foreign ids are 404 and show nothing), wrong kinds 403, no token 401."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from qianfan.clock import FrozenClock
from qianfan.models import Payment, Receivable, ReceivableStatus
from tests.api import finance_world
from tests.api.conftest import assert_error_shape, assert_no_floats
from tests.api.finance_world import FinanceWorld

URL = "/api/v1/receivables"


@pytest.fixture
def fw(engine: Engine, clock: FrozenClock, client: TestClient, monkeypatch: pytest.MonkeyPatch) -> FinanceWorld:
    return finance_world.build(engine, clock, client, monkeypatch)


def _body(fw: FinanceWorld, **over: Any) -> dict[str, Any]:
    body = {
        "title": "智慧道路巡检系统 第一期货款",
        "debtor_id": fw.w.core.organisation_id,
        "face": "1000000.00",
        "issue_date": fw.clock.now().date().isoformat(),
        "due_date": fw.w.due(90).isoformat(),
        "invoice_numbers": ["INVAPI0001"],
    }
    body.update(over)
    return body


def test_register_then_read_as_creditor_debtor_and_office(fw: FinanceWorld) -> None:
    w = fw.w
    response = fw.post(w.sme, URL, _body(fw))
    assert response.status_code == 201, response.text
    created = response.json()
    assert_no_floats(created)
    assert created["status"] == "registered" and created["face_fen"] == 100_000_000 and created["face"] == "1000000.00"
    assert created["creditor_id"] == w.sme.organisation_id and created["confirmation"] is None
    assert created["invoice_numbers"] == ["INVAPI0001"] and created["parts"] == []
    assert created["registered_at"].endswith("+08:00")
    rid = created["id"]

    for actor in (w.sme, w.core, w.office):
        listed = fw.get(actor, URL)
        assert listed.status_code == 200, listed.text
        assert [r["id"] for r in listed.json()["items"]] == [rid] and listed.json()["total"] == 1
        assert fw.get(actor, f"{URL}/{rid}").json()["id"] == rid


def test_foreign_receivables_are_404_and_never_listed(fw: FinanceWorld) -> None:
    w = fw.w
    rec = w.receivable()
    for actor in (w.supplier, w.core2):  # another SME, another large firm
        response = fw.get(actor, f"{URL}/{rec.id}")
        assert response.status_code == 404
        assert_error_shape(response.json(), "not_found")
        assert "智慧道路" not in response.text
        assert fw.get(actor, URL).json() == {"items": [], "total": 0, "limit": 20, "offset": 0}
        assert fw.get(actor, f"{URL}/{rec.id}/payments").status_code == 404
    # the debtor of another receivable cannot confirm this one, nor dispute it
    assert fw.post(w.core2, f"{URL}/{rec.id}/confirm", {"irrevocable_undertaking": True}).status_code == 404
    assert fw.post(w.core2, f"{URL}/{rec.id}/dispute", {"reason": "不认可"}).status_code == 404
    assert fw.get(w.sme, f"{URL}/{10**6}").status_code == 404


def test_list_filters_and_sort(fw: FinanceWorld) -> None:
    w = fw.w
    small = w.receivable("1000.00", days=30)
    big = w.receivable("5000.00", days=60)
    w.confirmed_part("2000.00", days=90)
    by_face = fw.get(w.sme, URL, params={"sort": "-face"}).json()
    assert [r["face_fen"] for r in by_face["items"]] == [500_000, 200_000, 100_000]
    registered = fw.get(w.sme, URL, params={"status": "registered", "sort": "due_date"}).json()
    assert [r["id"] for r in registered["items"]] == [small.id, big.id]
    window = fw.get(w.core, URL, params={"due_from": w.due(45).isoformat(), "due_to": w.due(75).isoformat()}).json()
    assert [r["id"] for r in window["items"]] == [big.id]
    paged = fw.get(w.office, URL, params={"limit": 1, "offset": 1, "sort": "face"}).json()
    assert paged["total"] == 3 and [r["face_fen"] for r in paged["items"]] == [200_000]


def test_bilingual_422s(fw: FinanceWorld) -> None:
    w = fw.w
    cases = [
        (_body(fw, face=1000.5), "face"),  # a float is refused
        (_body(fw, face="10.001"), "face"),  # below the fen
        ({k: v for k, v in _body(fw).items() if k != "title"}, "title"),
        (_body(fw, surprise=1), "surprise"),
        (_body(fw, due_date="2027-02-30"), "due_date"),
    ]
    for body, field in cases:
        response = fw.post(w.sme, URL, body)
        assert response.status_code == 422, (field, response.text)
        error = response.json()
        assert_error_shape(error, "invalid_input")
        assert error["detail"][0]["field"] == field
        assert error["detail"][0]["message"] != error["detail"][0]["message_en"]
    bad_sort = fw.get(w.sme, URL, params={"sort": "colour"})
    assert bad_sort.status_code == 422 and bad_sort.json()["detail"][0]["field"] == "sort"
    # a rule of the use case (due before issue) is a bilingual 422 too
    rule = fw.post(w.sme, URL, _body(fw, due_date=fw.clock.now().date().isoformat()))
    assert rule.status_code == 422
    assert_error_shape(rule.json(), rule.json()["error"])


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", URL),
        ("get", f"{URL}/1"),
        ("post", URL),
        ("post", f"{URL}/1/confirm"),
        ("post", f"{URL}/confirm-batch"),
        ("post", f"{URL}/1/dispute"),
        ("post", f"{URL}/parts/1/split"),
        ("post", f"{URL}/parts/1/transfer"),
        ("post", f"{URL}/1/payments"),
    ],
)
def test_no_token_is_401(client: TestClient, method: str, path: str) -> None:
    response = getattr(client, method)(path)
    assert response.status_code == 401
    assert_error_shape(response.json(), "unauthenticated")


def test_wrong_kind_is_403(fw: FinanceWorld) -> None:
    w = fw.w
    part = w.confirmed_part()
    rid = part.receivable_id
    forbidden = [
        fw.get(fw.provider, URL),
        fw.get(fw.provider, f"{URL}/{rid}"),
        fw.post(w.bank_admin, URL, _body(fw)),  # only SMEs register
        fw.post(w.core, URL, _body(fw)),
        fw.post(w.office, URL, _body(fw)),  # the office reads, never writes
        fw.post(w.sme, f"{URL}/{rid}/confirm", {"irrevocable_undertaking": True}),  # only the debtor's kind confirms
        fw.post(w.office, f"{URL}/confirm-batch", {"items": [{"receivable_id": rid}]}),
        fw.post(w.bank_admin, f"{URL}/{rid}/dispute", {"reason": "x"}),
        fw.post(w.core, f"{URL}/parts/{part.id}/split", {"amounts": ["1.00", "2.00"]}),
        fw.post(w.office, f"{URL}/parts/{part.id}/transfer", {"to_id": w.supplier.organisation_id}),
        fw.post(w.sme, f"{URL}/{rid}/payments", {"amount": "1.00"}, key="pay-by-sme-1"),
    ]
    for response in forbidden:
        assert response.status_code == 403, response.text
        assert_error_shape(response.json(), "permission_denied")


def test_confirm_shows_the_confirmation_and_one_part(fw: FinanceWorld) -> None:
    w = fw.w
    rec = w.receivable("1000000.00")
    refused = fw.post(w.core, f"{URL}/{rec.id}/confirm", {})  # no irrevocable undertaking
    assert refused.status_code == 422
    response = fw.post(w.core, f"{URL}/{rec.id}/confirm", {"confirmed": "900000.00", "irrevocable_undertaking": True})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "confirmed" and body["confirmed_fen"] == 90_000_000
    assert body["confirmation"]["confirmed"] == "900000.00" and "不可撤销" in body["confirmation"]["undertaking"]
    assert [(p["holder_id"], p["amount_fen"], p["status"]) for p in body["parts"]] == [
        (w.sme.organisation_id, 90_000_000, "held")
    ]
    again = fw.post(w.core, f"{URL}/{rec.id}/confirm", {"irrevocable_undertaking": True})
    assert again.status_code == 422 and "已确权" in again.json()["message"]
    # the confirmed receivable can no longer be disputed
    assert fw.post(w.core, f"{URL}/{rec.id}/dispute", {"reason": "晚了"}).status_code == 422


def test_dispute_by_the_debtor_and_cancel_by_the_creditor(fw: FinanceWorld) -> None:
    w = fw.w
    disputed, cancelled = w.receivable(), w.receivable()
    response = fw.post(w.core, f"{URL}/{disputed.id}/dispute", {"reason": "发票金额与验收单不符"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled" and response.json()["disputed"] is True
    assert response.json()["cancel_reason"] == "发票金额与验收单不符"
    mine = fw.post(w.sme, f"{URL}/{cancelled.id}/dispute", {"reason": "登记有误"}).json()
    assert mine["status"] == "cancelled" and mine["disputed"] is False
    empty = fw.post(w.core, f"{URL}/{w.receivable().id}/dispute", {"reason": "  "})
    assert empty.status_code == 422


def test_confirm_batch_is_all_or_nothing_and_lists_every_refusal(fw: FinanceWorld) -> None:
    w = fw.w
    first, second = w.receivable(), w.receivable()
    foreign = w.receivable(core=w.core2)
    already = w.confirmed_part().receivable_id
    items = [{"receivable_id": r, "irrevocable_undertaking": True} for r in (first.id, second.id, foreign.id, already)]
    refused = fw.post(w.core, f"{URL}/confirm-batch", {"items": items})
    assert refused.status_code == 422, refused.text
    error = refused.json()
    assert_error_shape(error, "rule_violated")
    assert sorted(d["receivable_id"] for d in error["detail"]) == sorted([foreign.id, already])
    assert {d["error"] for d in error["detail"]} == {"not_found", "rule_violated"}
    with Session(w.engine) as s:
        assert s.get(Receivable, first.id).status == ReceivableStatus.REGISTERED  # type: ignore[union-attr]
        assert s.get(Receivable, second.id).status == ReceivableStatus.REGISTERED  # type: ignore[union-attr]
    done = fw.post(w.core, f"{URL}/confirm-batch", {"items": items[:2]})
    assert done.status_code == 200, done.text
    assert done.json()["confirmed"] == 2 and {r["status"] for r in done.json()["items"]} == {"confirmed"}
    assert fw.post(w.core, f"{URL}/confirm-batch", {"items": []}).status_code == 422


def test_split_and_transfer_a_part(fw: FinanceWorld) -> None:
    w = fw.w
    part = w.confirmed_part("1000000.00")
    rid = part.receivable_id
    assert fw.post(w.supplier, f"{URL}/parts/{part.id}/split", {"amounts": ["1.00", "2.00"]}).status_code == 404
    bad_sum = fw.post(w.sme, f"{URL}/parts/{part.id}/split", {"amounts": ["1.00", "2.00"]})
    assert bad_sum.status_code == 422
    split = fw.post(w.sme, f"{URL}/parts/{part.id}/split", {"amounts": ["600000.00", "400000.00"]})
    assert split.status_code == 201, split.text
    kept, moved = split.json()
    assert (kept["amount"], moved["amount"]) == ("600000.00", "400000.00") and kept["parent_id"] == part.id
    transfer = fw.post(
        w.sme, f"{URL}/parts/{moved['id']}/transfer", {"to_id": w.supplier.organisation_id, "amount": "150000.00"}
    )
    assert transfer.status_code == 201, transfer.text
    assert transfer.json()["holder_id"] == w.supplier.organisation_id and transfer.json()["amount_fen"] == 15_000_000

    creditor_view = fw.get(w.sme, f"{URL}/{rid}").json()
    assert creditor_view["status"] == "partly_transferred"
    assert len(creditor_view["parts"]) == 5  # the whole, the split pair, the transferred half's two children
    # the supplier now holds a part: it sees the receivable, and only its own part of it
    supplier_view = fw.get(w.supplier, f"{URL}/{rid}")
    assert supplier_view.status_code == 200
    assert [p["id"] for p in supplier_view.json()["parts"]] == [transfer.json()["id"]]
    assert [r["id"] for r in fw.get(w.supplier, URL).json()["items"]] == [rid]
    # the supplier cannot move a part it does not hold
    not_held = fw.post(w.supplier, f"{URL}/parts/{kept['id']}/transfer", {"to_id": w.sme.organisation_id})
    assert not_held.status_code == 404


def test_a_bank_sees_only_the_receivables_of_its_applications(fw: FinanceWorld) -> None:
    w = fw.w
    part = w.confirmed_part()
    other = w.confirmed_part()
    assert fw.get(w.reviewer, URL).json()["total"] == 0
    assert fw.get(w.reviewer, f"{URL}/{part.receivable_id}").status_code == 404
    w.apply(part.id)
    listed = fw.get(w.reviewer, URL).json()
    assert [r["id"] for r in listed["items"]] == [part.receivable_id]
    detail = fw.get(w.reviewer, f"{URL}/{part.receivable_id}").json()
    assert [p["id"] for p in detail["parts"]] == [part.id]
    assert fw.get(w.reviewer, f"{URL}/{other.receivable_id}").status_code == 404
    assert fw.get(w.bank2_admin, f"{URL}/{part.receivable_id}").status_code == 404


def test_the_debtor_pays_once_per_idempotency_key(fw: FinanceWorld) -> None:
    w = fw.w
    part = w.confirmed_part("1000000.00")
    path = f"{URL}/{part.receivable_id}/payments"
    first = fw.post(w.core, path, {"amount": "400000.00"}, key="pay-2026-0001")
    assert first.status_code == 201, first.text
    body = first.json()
    assert_no_floats(body)
    assert body["amount_fen"] == 40_000_000 and body["allocation"][0]["holder_id"] == w.sme.organisation_id
    assert "idempotent-replayed" not in first.headers
    replay = fw.post(w.core, path, {"amount": "400000.00"}, key="pay-2026-0001")
    assert replay.status_code == 201 and replay.json() == body
    assert replay.headers["Idempotent-Replayed"] == "true"
    conflict = fw.post(w.core, path, {"amount": "1.00"}, key="pay-2026-0001")
    assert conflict.status_code == 409
    assert_error_shape(conflict.json(), "conflict")
    missing = fw.post(w.core, path, {"amount": "1.00"})
    assert missing.status_code == 422 and missing.json()["detail"][0]["field"] == "Idempotency-Key"
    short = fw.post(w.core, path, {"amount": "1.00"}, key="short")
    assert short.status_code == 422
    assert fw.post(w.core2, path, {"amount": "1.00"}, key="pay-foreign-01").status_code == 404
    with Session(w.engine) as s:
        assert len(s.exec(select(Payment)).all()) == 1
    listed = fw.get(w.sme, path)
    assert listed.status_code == 200 and [p["id"] for p in listed.json()] == [body["id"]]
    rest = fw.post(w.core, path, {"amount": "600000.00"}, key="pay-2026-0002")
    assert rest.status_code == 201
    assert fw.get(w.sme, f"{URL}/{part.receivable_id}").json()["status"] == "settled"
