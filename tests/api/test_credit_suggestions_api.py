"""/api/v1/finance/credit-suggestions/{sme_id}: the suggested revolving line with its reasons, read by a bank the
SME applied to or granted access (授权查询), by the office, by an SME for itself only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from finance import service as fs
from qianfan.clock import FrozenClock
from tests.api import finance_world
from tests.api.conftest import assert_error_shape, assert_no_floats
from tests.api.finance_world import FinanceWorld

URL = "/api/v1/finance/credit-suggestions"


@pytest.fixture
def fw(engine: Engine, clock: FrozenClock, client: TestClient, monkeypatch: pytest.MonkeyPatch) -> FinanceWorld:
    return finance_world.build(engine, clock, client, monkeypatch)


def test_a_bank_reads_the_suggestion_and_its_reasons(fw: FinanceWorld) -> None:
    w = fw.w
    for n, (face, core) in enumerate([("1000000.00", w.core), ("2000000.00", w.core2), ("3000000.00", w.core)]):
        part = w.confirmed_part(face, core=core)
        fs.pay_receivable(w.uow(), core, part.receivable_id, face, f"api-pay-{n}")
    w.clock.advance(timedelta(days=190))
    path = f"{URL}/{w.sme.organisation_id}"
    assert fw.get(w.reviewer, path).status_code == 404  # the SME has applied nowhere and granted nothing
    fs.grant_record_access(w.uow(), w.sme, w.bank_id)
    response = fw.get(w.reviewer, path)
    assert response.status_code == 200, response.text
    body = response.json()
    assert_no_floats(body)
    # 30 − 5 (two buyers) + 5 (three confirmations) = 30 % of 6,000,000.00
    assert body["has_line"] is True and body["rate_pct"] == 30
    assert body["amount_fen"] == 180_000_000 and body["amount"] == "1800000.00"
    assert body["tenor_months"] == 12 and body["revolving"] is True
    assert body["record"]["settled_fen"] == "600000000" and body["record"]["distinct_buyers"] == "2"
    for reason in body["reasons"]:
        assert reason["value"] == body["record"][reason["figure"]]
    assert {r["code"] for r in body["reasons"]} >= {"settled_volume", "buyer_concentration"}
    assert body["grounds"]["kind"] == "granted"
    assert fw.get(w.bank2_admin, path).status_code == 404
    fs.grant_record_access(w.uow(), w.sme, w.bank2_admin.organisation_id)
    for actor in (w.bank2_admin, w.office, w.sme):
        assert fw.get(actor, path).json()["amount_fen"] == 180_000_000


def test_who_may_read(fw: FinanceWorld) -> None:
    w = fw.w
    path = f"{URL}/{w.sme.organisation_id}"
    newcomer = fw.get(w.sme, path).json()
    assert newcomer["has_line"] is False and [r["code"] for r in newcomer["reasons"]] == ["too_new", "too_few_deals"]
    response = fw.get(w.supplier, path)  # another SME
    assert response.status_code == 404
    assert_error_shape(response.json(), "not_found")
    assert fw.get(w.core, path).status_code == 403
    assert fw.get(fw.provider, path).status_code == 403
    assert fw.get(None, path).status_code == 401
    assert fw.get(w.office, f"{URL}/{w.core.organisation_id}").status_code == 404  # not an SME
    assert fw.get(w.office, f"{URL}/0").status_code == 422
