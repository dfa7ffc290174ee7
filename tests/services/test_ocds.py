"""The OCDS 1.1 release package of orders and awards: its shape, the parties, the exact amounts and the period."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import Session, select

from market import ocds
from qianfan.models import Contract, IntentOrder, IntentStatus, Order, Organisation
from tests.services.test_stats import bj, build_world, order

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
RELEASE_FIELDS = {"ocid", "id", "date", "tag", "initiationType", "buyer", "parties", "tender"}


def package(session: Session, start: datetime | None = None, end: datetime | None = None) -> dict[str, Any]:
    built = ocds.release_package(
        session, uri="https://example.test/ocds.json", published_at=NOW, publisher="管委会", start=start, end=end
    )
    # What is downloaded: the text, read back with exact decimals.
    result: dict[str, Any] = json.loads(ocds.dumps(built), parse_float=Decimal)
    return result


def test_shape_parties_and_exact_amounts(session: Session) -> None:
    world = build_world(session)
    big = order(session, world.firm_b, 1_250_000_050, bj(11, 20))  # 12,500,000.50: no float could keep it
    session.commit()
    data = package(session)
    assert data["version"] == "1.1" and data["uri"] == "https://example.test/ocds.json"
    assert data["publishedDate"] == "2026-12-01T10:00:00+08:00" and data["publisher"] == {"name": "管委会"}
    releases = data["releases"]
    assert isinstance(releases, list)
    orders = {o.id: o for o in session.exec(select(Order)).all()}
    assert [r["ocid"] for r in releases] == [f"ocds-qianfan-{i}" for i in sorted(orders)]
    for rel in releases:
        assert rel.keys() >= RELEASE_FIELDS
        row = orders[int(rel["ocid"].removeprefix("ocds-qianfan-"))]
        assert rel["initiationType"] == "tender"
        assert rel["tender"]["value"] == {"amount": Decimal(row.budget_fen) / 100, "currency": "CNY"}
        assert {"id", "title", "description", "value", "status", "tenderPeriod"} <= rel["tender"].keys()
        parties = {p["id"]: p for p in rel["parties"]}
        assert "buyer" in parties[rel["buyer"]["id"]]["roles"]
        for award in rel.get("awards", []):
            assert {"id", "status", "value", "suppliers"} <= award.keys()
            for supplier in award["suppliers"]:
                assert "supplier" in parties[supplier["id"]]["roles"]
                assert parties[supplier["id"]]["name"] == supplier["name"]
        award_ids = {a["id"] for a in rel.get("awards", [])}
        for contract in rel.get("contracts", []):
            assert contract["awardID"] in award_ids
    by_ocid = {r["ocid"]: r for r in releases}
    assert by_ocid[f"ocds-qianfan-{big.id}"]["tender"]["value"]["amount"] == Decimal("12500000.50")
    assert by_ocid[f"ocds-qianfan-{big.id}"]["tag"] == ["tender"]

    (intent,) = session.exec(select(IntentOrder).where(IntentOrder.status == IntentStatus.SIGNED)).all()
    (contract,) = session.exec(select(Contract)).all()
    awarded = by_ocid[f"ocds-qianfan-{intent.order_id}"]
    assert awarded["tag"] == ["award", "contract"]
    (award,) = awarded["awards"]  # the proposed (unsigned) intent order of the same order is no award
    assert award["value"]["amount"] == Decimal(intent.amount_fen) / 100
    supplier = session.get(Organisation, intent.supplier_id)
    assert supplier is not None
    assert award["suppliers"] == [{"id": f"qianfan-org-{supplier.id}", "name": supplier.name}]
    (published_contract,) = awarded["contracts"]
    assert published_contract["value"] == {"amount": Decimal(contract.amount_fen) / 100, "currency": "CNY"}
    assert published_contract["awardID"] == award["id"] and published_contract["status"] == "active"
    # the release's date is its latest event: the contract's signature on 4 November
    assert awarded["date"] == "2026-11-04T12:00:00+08:00"
    party = next(p for p in awarded["parties"] if p["id"] == award["suppliers"][0]["id"])
    assert party["identifier"] == {"scheme": "CN-USCC", "id": supplier.credit_code, "legalName": supplier.name}


def test_period_keeps_releases_dated_in_it(session: Session) -> None:
    build_world(session)
    october = package(session, start=bj(10, 1, 0), end=bj(11, 1, 0))["releases"]
    assert isinstance(october, list)
    # a1 (posted in October) is dated by its contract in November; only orders whose latest event is in October
    assert october == []
    november = package(session, start=bj(11, 1, 0), end=bj(12, 1, 0))["releases"]
    assert isinstance(november, list) and len(november) == 4
    assert package(session, start=bj(12, 1, 0))["releases"] == []


def test_an_empty_database_gives_an_empty_package(session: Session) -> None:
    data = package(session)
    assert data["releases"] == []


def test_dumps_writes_decimals_digit_for_digit_and_refuses_floats() -> None:
    text = ocds.dumps({"a": [Decimal("12500000.50"), Decimal("0.10")], "b": "中文", "c": None, "d": {}}, indent=0)
    assert text == '{"a":[12500000.50,0.10],"b":"中文","c":null,"d":{}}'
    assert json.loads(ocds.dumps({"x": [1, True, "y"]})) == {"x": [1, True, "y"]}
    with pytest.raises(TypeError):
        ocds.dumps({"amount": 0.1})
