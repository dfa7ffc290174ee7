"""授权查询 in the SME's portal (/sme/record-access, issue 16 item 4): the SME's administrator grants a bank access to
its platform record and revokes it, and the bank's suggested-line page follows (200 while the grant lives, the 404
page otherwise); the banks it applied to are listed apart, not revocable; each grant and revocation is audited; a
user who is not the administrator is refused with the rule's message, in both languages.  On SQLite and PostgreSQL
(the parametrised ``engine`` fixture)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from accounts import organisations as orgs
from finance import service as fs
from finance.service.record_access import RECORD_ACCESS_ENTITY
from matcher.service import clear_caches
from qianfan.actors import Actor
from qianfan.clock import FrozenClock
from qianfan.models import AuditEvent, Organisation, RecordAccessGrant, User, UserRole
from tests.finance_service.conftest import World, build_world
from tests.web.conftest import Pages, new_pages

PASSWORD = "Correct-horse-9"
PAGE = "/sme/record-access"


@pytest.fixture
def world(engine: Engine, clock: FrozenClock) -> World:
    clear_caches()
    return build_world(engine, clock)


def login(pages: Pages, world: World, actor: Actor) -> None:
    with Session(world.engine) as s:
        user = s.get(User, actor.user_id)
        assert user is not None
        username = user.username
    pages.client.cookies.clear()
    pages.login(username, PASSWORD)


def main(html: str) -> str:
    """The page's own content (without the navigation)."""
    found = re.search(r"<main.*?</main>", html, re.S)
    assert found, html[:500]
    return found.group(0)


def flash(html: str) -> str:
    found = re.search(r'class="flash flash-(?:ok|error)"[^>]*>(.*?)</', html, re.S)
    assert found, html[:800]
    return found.group(1).strip()


def name_of(world: World, org_id: int) -> str:
    with Session(world.engine) as s:
        org = s.get(Organisation, org_id)
    assert org is not None
    return org.name


def suggestion(bank: Pages, world: World, expect: int) -> Any:
    return bank.get(f"/bank/credit-suggestions/{world.sme.organisation_id}", expect=expect)


def audit_actions(world: World) -> list[tuple[str, int | None, dict[str, Any]]]:
    with Session(world.engine) as s:
        rows = s.exec(
            select(AuditEvent).where(col(AuditEvent.entity_type) == RECORD_ACCESS_ENTITY).order_by(col(AuditEvent.seq))
        ).all()
    return [(r.action, r.actor_id, r.payload) for r in rows]


def test_granting_lets_that_bank_read_the_record_and_revoking_takes_it_back(
    app: FastAPI, world: World, pages: Pages
) -> None:
    bank_name, other_name = name_of(world, world.bank_id), name_of(world, world.bank2_admin.organisation_id)
    bank, other = new_pages(app), new_pages(app)
    login(bank, world, world.reviewer)
    login(other, world, world.bank2_admin)
    suggestion(bank, world, 404)  # the SME applied nowhere and granted nothing

    login(pages, world, world.sme)
    html = pages.get(PAGE).text
    assert f'href="{PAGE}" aria-current="page"' in html and ">授权查询</a>" in html  # in the SME's menu
    body = main(html)
    assert "授权后，该银行可查看本企业的平台交易记录与建议授信额度，直至您撤销。" in body
    assert "已授权的银行" in body and "您还没有授权任何银行" in body
    assert "因融资申请可查询的银行（不可撤销）" in body and "您还没有向任何银行申请融资" in body
    assert f'<option value="{world.bank_id}">{bank_name}</option>' in body
    assert f'<option value="{world.bank2_admin.organisation_id}">{other_name}</option>' in body
    assert f'<option value="{world.sme.organisation_id}">' not in body  # banks only
    assert "仅本企业管理员可授权" not in body  # the administrator may

    granted = pages.post(PAGE, {"bank_id": str(world.bank_id)})
    assert granted.headers["location"] == PAGE
    body = main(pages.follow(granted).text)
    assert flash(body) == f"已授权{bank_name}查询本企业平台记录"
    row = re.search(r"<tr>\s*<td[^>]*>" + re.escape(bank_name) + r".*?</tr>", body, re.S)
    assert row, body
    assert "有效" in row.group(0) and ">sme<" in row.group(0)  # granted by the SME's administrator (display name)
    assert f'action="/sme/record-access/{world.bank_id}/revoke"' in row.group(0)
    assert 'data-confirm="确定撤销该银行的查询授权吗？"' in row.group(0)
    assert f'<option value="{world.bank_id}">' not in body  # granted already: no longer offered

    suggestion(bank, world, 200)  # the granted bank reads the record and the suggestion
    suggestion(other, world, 404)  # another bank still does not

    revoked = pages.post(f"{PAGE}/{world.bank_id}/revoke")
    body = main(pages.follow(revoked).text)
    assert flash(body) == f"已撤销{bank_name}的查询授权"
    assert "已撤销" in body and "/revoke" not in body
    assert f'<option value="{world.bank_id}">{bank_name}</option>' in body  # may be granted again
    suggestion(bank, world, 404)

    again = pages.post(f"{PAGE}/{world.bank_id}/revoke")  # nothing live to revoke: the rule's message
    assert flash(pages.follow(again).text) != ""
    pages.client.cookies.set("qf_lang", "en")
    granted = pages.post(PAGE, {"bank_id": str(world.bank_id)})
    english = main(pages.follow(granted).text)
    assert flash(english) == f"{bank_name} may now read your platform record"
    assert "Banks you granted" in english and "Revoke this bank&#39;s access?" in english
    assert "A bank you grant may read your platform record and suggested credit line until you revoke it." in english
    revoked = pages.post(f"{PAGE}/{world.bank_id}/revoke")
    assert flash(pages.follow(revoked).text) == f"{bank_name}&#39;s access is revoked"

    sme = world.sme.user_id
    actions = audit_actions(world)
    assert [a for a, _, _ in actions] == ["granted", "revoked", "granted", "revoked"]
    for action, actor_id, payload in actions:
        assert actor_id == sme and payload["bank_id"] == world.bank_id, action
        assert payload["sme_id"] == world.sme.organisation_id
    with Session(world.engine) as s:
        grants = s.exec(select(RecordAccessGrant).order_by(col(RecordAccessGrant.id))).all()
    assert len(grants) == 2 and all(g.revoked_at is not None and g.revoked_by_user_id == sme for g in grants)


def test_the_banks_applied_to_are_listed_apart_and_cannot_be_revoked(app: FastAPI, world: World, pages: Pages) -> None:
    part = world.confirmed_part()
    world.apply(part.id)
    bank_name = name_of(world, world.bank_id)
    bank = new_pages(app)
    login(bank, world, world.reviewer)
    suggestion(bank, world, 200)  # applying to a bank is grounds of its own

    login(pages, world, world.sme)
    body = main(pages.get(PAGE).text)
    applied = body.split("因融资申请可查询的银行（不可撤销）", 1)[1].split("授权银行查询", 1)[0]
    assert bank_name in applied and world.clock.now().date().isoformat() in applied
    assert "/revoke" not in body
    refused = pages.post(f"{PAGE}/{world.bank_id}/revoke")  # there is no grant to revoke
    assert "flash-error" in pages.follow(refused).text
    suggestion(bank, world, 200)
    assert audit_actions(world) == []


def test_a_user_who_is_not_the_administrator_is_refused_with_the_message(world: World, pages: Pages) -> None:
    member_user = orgs.add_user(
        world.uow(),
        world.sme.organisation_id,
        {"username": "smemember", "display_name": "业务员", "role": UserRole.MEMBER, "password": PASSWORD},
    )
    pages.login(member_user.username, PASSWORD)
    body = main(pages.get(PAGE).text)
    assert "仅本企业管理员可授权或撤销银行的查询。" in body

    refused = pages.post(PAGE, {"bank_id": str(world.bank_id)})
    assert refused.headers["location"] == PAGE
    page = pages.follow(refused).text
    assert "flash-error" in page and "无权执行此操作" in flash(page) and "admin" in flash(page)
    pages.client.cookies.set("qf_lang", "en")
    refused = pages.post(PAGE, {"bank_id": str(world.bank_id)})
    english = pages.follow(refused).text
    assert "may not do this" in flash(english) and "Only your company&#39;s administrator" in english
    with Session(world.engine) as s:
        assert s.exec(select(RecordAccessGrant)).all() == []

    fs.grant_record_access(world.uow(), world.sme, world.bank_id)  # the administrator grants
    refused = pages.post(f"{PAGE}/{world.bank_id}/revoke")
    assert "may not do this" in flash(pages.follow(refused).text)
    with Session(world.engine) as s:
        grant = s.exec(select(RecordAccessGrant)).one()
    assert grant.revoked_at is None
    assert [a for a, _, _ in audit_actions(world)] == ["granted"]


def test_a_form_without_a_bank_or_its_token_changes_nothing(world: World, pages: Pages, client: Any) -> None:
    login(pages, world, world.sme)
    for value in ("", "abc", "1" * 13):
        refused = pages.post(PAGE, {"bank_id": value})
        assert flash(pages.follow(refused).text) == "请选择要授权的银行"
    not_a_bank = pages.post(PAGE, {"bank_id": str(world.supplier.organisation_id)})
    assert "flash-error" in pages.follow(not_a_bank).text
    forged = client.post(PAGE, data={"bank_id": str(world.bank_id), "csrf_token": "x"}, follow_redirects=False)
    assert forged.status_code == 403 and "表单已过期或来源不明" in forged.text
    with Session(world.engine) as s:
        assert s.exec(select(RecordAccessGrant)).all() == []
    pages.get(f"{PAGE}/{world.bank_id}/revoke", expect=405)
