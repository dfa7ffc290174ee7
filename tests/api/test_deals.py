"""/api/v1/intent-orders and /api/v1/contracts: propose, sign (a contract is born), cancel; the two parties and the
programme office read them, another firm or SME finds nothing (404 / empty lists), banks and service providers are
refused (403)."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from qianfan.models import OrgKind
from tests.api.conftest import Market, TestClient, assert_error_shape, assert_no_floats
from tests.api.test_orders import Logins

INTENTS = "/api/v1/intent-orders"
CONTRACTS = "/api/v1/contracts"


@pytest.fixture
def users(client: TestClient, session: Session) -> Logins:
    return Logins(client, session)


def _proposal(market: Market, **change: object) -> dict[str, object]:
    return {
        "order_id": market.hvac_order.id,
        "offer_id": market.hvac_offer.id,
        "amount": "9800000.00",
        "delivery_due": "2027-06-30",
        "terms": "分三期交付，验收后付款",
        **change,
    }


def test_routes_need_a_token(client: TestClient) -> None:
    for method, url in [
        ("GET", INTENTS),
        ("POST", INTENTS),
        ("GET", f"{INTENTS}/1"),
        ("POST", f"{INTENTS}/1/sign"),
        ("POST", f"{INTENTS}/1/cancel"),
        ("GET", CONTRACTS),
        ("GET", f"{CONTRACTS}/1"),
    ]:
        response = client.request(method, url, json={})
        assert response.status_code == 401, (method, url)
        assert_error_shape(response.json(), "unauthenticated")


def test_propose_sign_and_contract(client: TestClient, market: Market, users: Logins) -> None:
    buyer, supplier = users(market.energy), users(market.green_sme)
    proposed = client.post(INTENTS, headers=buyer, json=_proposal(market))
    assert proposed.status_code == 201, proposed.text
    intent = proposed.json()
    assert_no_floats(intent)
    assert (intent["amount_fen"], intent["amount"]) == (980_000_000, "9800000.00")
    assert (intent["buyer_id"], intent["supplier_id"], intent["proposed_by_id"]) == (
        market.energy.id,
        market.green_sme.id,
        market.energy.id,
    )
    assert (intent["buyer_name"], intent["supplier_name"]) == ("北京京能集团有限责任公司", "北京绿能智控科技有限公司")
    assert intent["status"] == "proposed" and intent["contract_id"] is None
    assert intent["buyer_signed_at"] == "2026-11-02T09:30:00+08:00" and intent["supplier_signed_at"] is None

    # The proposer has signed already; the other side's signature makes the contract.
    twice = client.post(f"{INTENTS}/{intent['id']}/sign", headers=buyer)
    assert twice.status_code == 409
    assert_error_shape(twice.json(), "conflict")
    signed = client.post(f"{INTENTS}/{intent['id']}/sign", headers=supplier)
    assert signed.status_code == 200, signed.text
    body = signed.json()
    assert body["status"] == "signed" and body["contract_id"] is not None
    assert body["supplier_signed_at"] == "2026-11-02T09:30:00+08:00"
    assert client.get(f"/api/v1/orders/{market.hvac_order.id}", headers=buyer).json()["status"] == "awarded"

    contract = client.get(f"{CONTRACTS}/{body['contract_id']}", headers=supplier).json()
    assert_no_floats(contract)
    assert contract == {
        "id": body["contract_id"],
        "intent_order_id": intent["id"],
        "buyer_id": market.energy.id,
        "buyer_name": "北京京能集团有限责任公司",
        "supplier_id": market.green_sme.id,
        "supplier_name": "北京绿能智控科技有限公司",
        "title": "园区中央空调节能改造",
        "amount_fen": 980_000_000,
        "amount": "9800000.00",
        "delivery_due": "2027-06-30",
        "status": "active",
        "signed_at": "2026-11-02T09:30:00+08:00",
        "delivered_at": None,
    }
    office = users.kind(OrgKind.PROGRAMME_OFFICE)
    for headers in (buyer, supplier, office):
        intents = client.get(INTENTS, headers=headers).json()
        assert [item["id"] for item in intents["items"]] == [intent["id"]]
        assert intents["items"][0]["contract_id"] == body["contract_id"]
        assert client.get(f"{INTENTS}/{intent['id']}", headers=headers).json() == body
        assert client.get(CONTRACTS, headers=headers).json()["items"] == [contract]
    # Signed intent orders cannot be cancelled.
    cancelled = client.post(f"{INTENTS}/{intent['id']}/cancel", headers=supplier)
    assert cancelled.status_code == 422
    assert_error_shape(cancelled.json(), "rule_violated")


def test_other_tenants_see_nothing(client: TestClient, market: Market, users: Logins) -> None:
    intent = client.post(INTENTS, headers=users(market.green_sme), json=_proposal(market)).json()
    assert intent["proposed_by_id"] == market.green_sme.id
    signed = client.post(f"{INTENTS}/{intent['id']}/sign", headers=users(market.energy)).json()

    for outsider in (users(market.tech), users(market.data_sme)):
        assert client.get(INTENTS, headers=outsider).json() == {"items": [], "total": 0, "limit": 20, "offset": 0}
        assert client.get(CONTRACTS, headers=outsider).json()["total"] == 0
        for method, url in [
            ("GET", f"{INTENTS}/{intent['id']}"),
            ("POST", f"{INTENTS}/{intent['id']}/sign"),
            ("POST", f"{INTENTS}/{intent['id']}/cancel"),
            ("GET", f"{CONTRACTS}/{signed['contract_id']}"),
        ]:
            response = client.request(method, url, headers=outsider)
            assert response.status_code == 404, (method, url)
            assert_error_shape(response.json(), "not_found")
            assert "空调" not in response.text and "9800000" not in response.text

    for kind in (OrgKind.BANK, OrgKind.SERVICE_PROVIDER):
        refused = users.kind(kind)
        for method, url in [
            ("GET", INTENTS),
            ("GET", f"{INTENTS}/{intent['id']}"),
            ("POST", INTENTS),
            ("GET", CONTRACTS),
            ("GET", f"{CONTRACTS}/{signed['contract_id']}"),
        ]:
            response = client.request(method, url, headers=refused, json=_proposal(market))
            assert response.status_code == 403, (kind, method, url)
            assert_error_shape(response.json(), "permission_denied")
    # The programme office reads but does not propose or sign.
    office = users.kind(OrgKind.PROGRAMME_OFFICE)
    assert client.post(f"{INTENTS}/{intent['id']}/sign", headers=office).status_code == 403
    # A third party cannot propose on someone else's order and offer.
    third = client.post(INTENTS, headers=users(market.data_sme), json=_proposal(market))
    assert third.status_code == 404


def test_cancel_and_propose_again(client: TestClient, market: Market, users: Logins) -> None:
    buyer, supplier = users(market.energy), users(market.green_sme)
    intent = client.post(INTENTS, headers=supplier, json=_proposal(market)).json()
    duplicate = client.post(INTENTS, headers=buyer, json=_proposal(market))
    assert duplicate.status_code == 409
    assert_error_shape(duplicate.json(), "conflict")
    cancelled = client.post(f"{INTENTS}/{intent['id']}/cancel", headers=buyer)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert client.post(f"{INTENTS}/{intent['id']}/cancel", headers=supplier).json()["status"] == "cancelled"
    late = client.post(f"{INTENTS}/{intent['id']}/sign", headers=buyer)
    assert late.status_code == 422
    again = client.post(INTENTS, headers=buyer, json=_proposal(market, amount="9500000"))
    assert again.status_code == 201 and again.json()["amount"] == "9500000.00"
    for params, expected in [
        ({"status": "cancelled"}, [intent["id"]]),
        ({"status": "proposed"}, [again.json()["id"]]),
        ({"sort": "amount"}, [again.json()["id"], intent["id"]]),
        ({"offer_id": market.governance_offer.id}, []),
    ]:
        body = client.get(INTENTS, headers=buyer, params=params).json()
        assert [item["id"] for item in body["items"]] == expected, params


def test_idempotency_key_replays_the_proposal(client: TestClient, market: Market, users: Logins) -> None:
    buyer = {**users(market.energy), "Idempotency-Key": "propose-hvac-0001"}
    first = client.post(INTENTS, headers=buyer, json=_proposal(market))
    second = client.post(INTENTS, headers=buyer, json=_proposal(market))
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    other = client.post(INTENTS, headers=buyer, json=_proposal(market, amount="1"))
    assert other.status_code == 409  # the same key for another request


def test_proposal_validation(client: TestClient, market: Market, users: Logins) -> None:
    buyer = users(market.energy)
    for change, field in [
        ({"amount": "abc"}, "amount"),
        ({"amount": 9800000.5}, "amount"),
        ({"delivery_due": "soon"}, "delivery_due"),
        ({"order_id": None}, "order_id"),
        ({"buyer_id": 1}, "buyer_id"),
    ]:
        response = client.post(INTENTS, headers=buyer, json=_proposal(market, **change))
        assert response.status_code == 422, (change, response.text)
        body = response.json()
        assert_error_shape(body, "invalid_input")
        assert body["detail"][0]["field"] == field
        assert body["message"] != body["message_en"]
    past = client.post(INTENTS, headers=buyer, json=_proposal(market, delivery_due="2026-11-01"))
    assert past.status_code == 422
    assert_error_shape(past.json(), "rule_violated")
    closed = client.post(
        INTENTS, headers=users(market.tech), json=_proposal(market, order_id=market.cloud_investment.id)
    )
    assert closed.status_code == 422
    assert client.get(f"{INTENTS}/987654", headers=buyer).status_code == 404
    assert client.get(f"{CONTRACTS}/0", headers=buyer).status_code == 422
