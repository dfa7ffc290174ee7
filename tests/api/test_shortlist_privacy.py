"""The buyer's shortlist / rule-out note is private to the buyer (issue 16, item 5): the supplier reads only the
separate ``message_to_supplier``, in every answer the API gives it."""

from __future__ import annotations

import json

from tests.api.conftest import Market, TestClient
from tests.api.test_orders import URL, Logins, users  # noqa: F401  (the ``users`` fixture)

NOTE = "内部：报价偏高，压价百分之十"
MESSAGE = "请于本周五前提交详细报价单"


def test_the_supplier_never_reads_the_buyers_note(client: TestClient, market: Market, users: Logins) -> None:  # noqa: F811
    energy, supplier = users(market.energy), users(market.green_sme)
    offer_id, order_id = market.hvac_offer.id, market.hvac_order.id
    interest = client.post(
        f"/api/v1/offers/{offer_id}/interest", headers=supplier, json={"order_id": order_id, "note": "我方备注"}
    )
    assert interest.status_code == 200, interest.text
    assert interest.json()["note"] == "我方备注"  # the SME's own note is its own to read

    body = {"offer_id": offer_id, "note": NOTE, "message_to_supplier": MESSAGE}
    shortlisted = client.post(f"{URL}/{order_id}/shortlist", headers=energy, json=body)
    assert shortlisted.status_code == 200, shortlisted.text
    firm_view = shortlisted.json()
    assert (firm_view["note"], firm_view["message_to_supplier"]) == (NOTE, MESSAGE)  # the firm sees both

    seen = client.get(f"/api/v1/offers/{offer_id}/interests", headers=supplier)
    assert seen.status_code == 200, seen.text
    rows = {row["kind"]: row for row in seen.json()}
    assert rows["shortlist"]["message_to_supplier"] == MESSAGE and rows["shortlist"]["note"] is None
    assert rows["interest"]["note"] == "我方备注"
    assert NOTE not in seen.text and NOTE not in json.dumps(seen.json(), ensure_ascii=False)

    # ruled out instead: the same holds, and nothing else the supplier reads about the order carries the note
    rejected = client.post(
        f"{URL}/{order_id}/reject", headers=energy, json={"offer_id": offer_id, "note": NOTE + "（淘汰）"}
    )
    assert rejected.status_code == 200 and rejected.json()["message_to_supplier"] == ""
    for path in (
        f"/api/v1/offers/{offer_id}/interests",
        f"/api/v1/offers/{offer_id}",
        f"/api/v1/offers/{offer_id}/matches",
        f"{URL}/{order_id}",
        "/api/v1/intent-orders",
    ):
        response = client.get(path, headers=supplier)
        assert response.status_code == 200, (path, response.text)
        assert NOTE not in response.text, path


def test_the_interests_of_another_smes_offer_are_not_found(
    client: TestClient,
    market: Market,
    users: Logins,  # noqa: F811
) -> None:
    other = client.get(f"/api/v1/offers/{market.hvac_offer.id}/interests", headers=users(market.data_sme))
    assert other.status_code == 404
    assert (
        client.get(f"/api/v1/offers/{market.hvac_offer.id}/interests", headers=users(market.energy)).status_code == 403
    )
