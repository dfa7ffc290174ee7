"""授权查询 (issue 16, item 4): a bank reads an SME's record and suggested line only where the SME applied to it or
granted it access; the SME grants and revokes in its portal (``/api/v1/record-access``), each an audit event.
On SQLite and PostgreSQL (the ``engine`` fixture)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from accounts import organisations as orgs
from qianfan import audit
from qianfan.actors import Actor
from qianfan.clock import FrozenClock
from qianfan.models import AuditEvent, Organisation, UserRole
from qianfan.uow import UnitOfWork
from tests.api import finance_world
from tests.api.conftest import assert_error_shape
from tests.api.finance_world import FinanceWorld

SUGGESTION = "/api/v1/finance/credit-suggestions"
ACCESS = "/api/v1/record-access"


@pytest.fixture
def fw(engine: Engine, clock: FrozenClock, client: TestClient, monkeypatch: pytest.MonkeyPatch) -> FinanceWorld:
    return finance_world.build(engine, clock, client, monkeypatch)


def test_a_foreign_bank_reads_only_while_the_sme_grants_it(fw: FinanceWorld) -> None:
    w = fw.w
    sme_id, bank2 = w.sme.organisation_id, w.bank2_admin.organisation_id
    path = f"{SUGGESTION}/{sme_id}"
    before = fw.get(w.bank2_admin, path)
    assert before.status_code == 404
    assert_error_shape(before.json(), "not_found")
    assert before.json() == fw.get(w.bank2_admin, f"{SUGGESTION}/999999").json() | {
        "message": before.json()["message"],
        "message_en": before.json()["message_en"],
    }  # the same answer as for an id that does not exist: nothing is disclosed
    assert str(sme_id) in before.json()["message_en"]

    granted = fw.post(w.sme, ACCESS, {"bank_id": bank2})
    assert granted.status_code == 200, granted.text
    g = granted.json()
    assert g["bank_id"] == bank2 and g["live"] is True and g["revoked_at"] is None and g["bank_name"]
    assert fw.post(w.sme, ACCESS, {"bank_id": bank2}).json()["id"] == g["id"]  # idempotent

    after = fw.get(w.bank2_admin, path)
    assert after.status_code == 200, after.text
    grounds = after.json()["grounds"]
    assert grounds["kind"] == "granted" and grounds["since"] == g["granted_at"]
    day = g["granted_at"][:10]
    assert day in grounds["text_zh"] and day in grounds["text_en"] and "授权" in grounds["text_zh"]

    listed = fw.get(w.sme, ACCESS).json()
    assert [x["bank_id"] for x in listed["grants"]] == [bank2] and listed["applied"] == []
    assert bank2 not in {b["id"] for b in listed["grantable"]}
    assert w.bank_id in {b["id"] for b in listed["grantable"]}

    revoked = fw.post(w.sme, f"{ACCESS}/{bank2}/revoke")
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["live"] is False and revoked.json()["revoked_by_user_id"] == w.sme.user_id
    assert fw.get(w.bank2_admin, path).status_code == 404
    again = fw.post(w.sme, f"{ACCESS}/{bank2}/revoke")  # nothing live to revoke
    assert again.status_code == 404
    assert_error_shape(again.json(), "not_found")
    listed = fw.get(w.sme, ACCESS).json()
    assert [x["live"] for x in listed["grants"]] == [False]

    with Session(fw.engine) as s:
        events = s.exec(
            select(AuditEvent).where(AuditEvent.entity_type == "record_access_grant").order_by(col(AuditEvent.seq))
        ).all()
        assert [(e.action, e.entity_id, e.actor_id) for e in events] == [
            ("granted", g["id"], w.sme.user_id),
            ("revoked", g["id"], w.sme.user_id),
        ]
        assert events[0].payload == {"sme_id": sme_id, "bank_id": bank2}
        assert audit.verify_chain(s).ok


def test_the_bank_applied_to_reads_the_record_with_the_date(fw: FinanceWorld) -> None:
    w = fw.w
    path = f"{SUGGESTION}/{w.sme.organisation_id}"
    assert fw.get(w.reviewer, path).status_code == 404
    app = w.apply(w.confirmed_part().id)
    response = fw.get(w.reviewer, path)
    assert response.status_code == 200, response.text
    grounds = response.json()["grounds"]
    assert grounds["kind"] == "applied"
    assert grounds["text_en"].startswith("The SME applied to this bank on ")
    assert grounds["since"][:10] in grounds["text_zh"]
    assert fw.get(w.bank2_admin, path).status_code == 404  # applying to one bank opens nothing to another
    listed = fw.get(w.sme, ACCESS).json()
    assert [(a["bank_id"], a["since"][:10]) for a in listed["applied"]] == [(app.bank_id, grounds["since"][:10])]
    # the office and the SME itself read without grounds
    assert fw.get(w.office, path).json()["grounds"] is None
    assert fw.get(w.sme, path).json()["grounds"] is None


def test_who_may_grant(fw: FinanceWorld) -> None:
    w = fw.w
    bank2 = w.bank2_admin.organisation_id
    assert fw.post(w.bank2_admin, ACCESS, {"bank_id": bank2}).status_code == 403
    assert fw.get(w.core, ACCESS).status_code == 403
    assert fw.get(None, ACCESS).status_code == 401
    not_a_bank = fw.post(w.sme, ACCESS, {"bank_id": w.core.organisation_id})
    assert not_a_bank.status_code == 404
    assert fw.post(w.sme, ACCESS, {"bank_id": 0}).status_code == 422
    member = _member(fw)
    refused = fw.post(member, ACCESS, {"bank_id": bank2})
    assert refused.status_code == 403, refused.text  # the SME's administrator grants, not any member
    assert fw.get(w.bank2_admin, f"{SUGGESTION}/{w.sme.organisation_id}").status_code == 404
    # another SME's grants are its own: the world's supplier sees none of the SME's
    fw.post(w.sme, ACCESS, {"bank_id": bank2})
    assert fw.get(w.supplier, ACCESS).json()["grants"] == []
    assert fw.post(w.supplier, f"{ACCESS}/{bank2}/revoke").status_code == 404
    assert fw.get(w.bank2_admin, f"{SUGGESTION}/{w.sme.organisation_id}").status_code == 200


def _member(fw: FinanceWorld) -> Actor:
    w = fw.w
    user = orgs.add_user(
        UnitOfWork(fw.engine, fw.clock),
        w.sme.organisation_id,
        {"username": "smemember", "display_name": "成员", "role": UserRole.MEMBER, "password": finance_world.PASSWORD},
    )
    with Session(fw.engine) as s:
        org = s.get(Organisation, w.sme.organisation_id)
        assert org is not None
        return Actor.for_user(user, org)
