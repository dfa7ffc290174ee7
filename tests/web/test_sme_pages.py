"""The SME portal's pages through the TestClient: what each shows, what each use case did in the database, and the
refusals (another kind of organisation → 403 page, another tenant's id → 404 page, no CSRF token → 403)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from finance import service as fs
from finance.queries.loans import payoff
from market import service as marketplace
from matcher.service import clear_caches
from qianfan import events
from qianfan.actors import Actor
from qianfan.clock import FrozenClock, to_local
from qianfan.models import (
    ApplicationStatus,
    Contract,
    FinanceApplication,
    IntentOrder,
    IntentStatus,
    Interest,
    InterestKind,
    Job,
    Offer,
    OfferStatus,
    OutboxEvent,
    Receivable,
    User,
)
from tests.api.finance_world import FinanceWorld
from tests.finance_service.conftest import World, build_world
from tests.finance_service.test_settlement_service import contract
from tests.web.conftest import Pages
from tests.web.test_chain_finance_pages import contract_product, to_loan

PASSWORD = "Correct-horse-9"


@pytest.fixture
def world(engine: Engine, clock: FrozenClock) -> World:
    clear_caches()
    return build_world(engine, clock)


def login(pages: Pages, world: World, actor: Actor) -> None:
    with Session(world.engine) as s:
        user = s.get(User, actor.user_id)
        assert user is not None
        username = user.username
    pages.login(username, PASSWORD)


def offer_form(**over: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": "product",
        "title": "政务大数据治理平台",
        "description": "数据汇聚、清洗、质量评估与共享交换",
        "category": "ict.bigdata",
        "price_min": "800000.00",
        "price_max": "5000000.00",
        "capacity": "10",
        "keywords": "数据治理；政务大数据",
    }
    data.update(over)
    return data


def an_order(world: World, **over: Any) -> Any:
    data = {
        "title": "区级政务大数据治理平台采购",
        "description": "建设政务数据治理与共享交换平台",
        "category": "ict.bigdata",
        "budget": "3000000.00",
        "district": "海淀园",
        "deadline": world.due(30),
        **over,
    }
    return marketplace.post_order(world.uow(), world.core, data)


def an_offer(world: World, **over: Any) -> Offer:
    data = {**offer_form(), "keywords": ["数据治理", "政务大数据"], **over}
    return marketplace.list_offer(world.uow(), world.sme, data)


def test_every_page_of_the_menu_renders_with_designed_empty_states(world: World, pages: Pages) -> None:
    login(pages, world, world.sme)
    home = pages.get("/sme").text
    assert "<h1>工作台" in home and "上架中的产品" in home and "进行中的融资" in home
    assert "还没有产品" in pages.get("/sme/offers").text
    assert "还没有上架的产品" in pages.get("/sme/matches").text
    assert "还没有意向订单" in pages.get("/sme/deals").text
    assert "还没有应收账款" in pages.get("/sme/receivables").text
    assert "还没有融资申请" in pages.get("/sme/finance").text
    assert "没有可融资的应收账款" in pages.get("/sme/finance/apply").text
    assert 'href="/sme/offers/import/template.csv"' in pages.get("/sme/offers/import").text


def test_other_kinds_of_organisation_get_the_403_page(world: World, pages: Pages) -> None:
    login(pages, world, world.core)
    for url in ("/sme", "/sme/offers", "/sme/finance/apply", "/sme/finance/quote?part=1&product=1"):
        page = pages.get(url, expect=403)
        assert "此页面不属于您的机构类型" in page.text


def test_listing_an_offer_refusal_keeps_what_was_typed_then_edit_and_withdraw(
    world: World, pages: Pages, client: Any
) -> None:
    login(pages, world, world.sme)
    refused = pages.post("/sme/offers", offer_form(price_min="9000000"), expect=422)
    assert 'value="政务大数据治理平台"' in refused.text and 'aria-invalid="true"' in refused.text
    assert "最低价（9000000.00）不能高于最高价" in refused.text and 'value="数据治理；政务大数据"' in refused.text
    held = pages.post("/sme/offers", offer_form(qualifications="cmmi5"), expect=422)
    assert "未持有或已过期的资质" in held.text  # the rule's own message, both languages available
    assert "cmmi5" in held.text and 'id="q-cmmi5" name="qualifications" value="cmmi5" checked' in held.text
    done = pages.follow(pages.post("/sme/offers", offer_form()))
    assert "已上架" in done.text and "政务大数据治理平台" in done.text
    with Session(world.engine) as s:
        offer = s.exec(select(Offer).where(col(Offer.organisation_id) == world.sme.organisation_id)).one()
    assert offer.price_min_fen == 80_000_000 and offer.keywords == ["数据治理", "政务大数据"]
    form = pages.get(f"/sme/offers/{offer.id}/edit").text
    assert 'value="800000.00"' in form and 'name="version" value="1"' in form
    saved = pages.post(f"/sme/offers/{offer.id}/edit", {**offer_form(title="数据治理平台 V6"), "version": "1"})
    assert "已保存" in pages.follow(saved).text
    stale = pages.post(f"/sme/offers/{offer.id}/edit", {**offer_form(title="旧标题"), "version": "1"}, expect=422)
    assert "已被他人修改" in stale.text and 'value="旧标题"' in stale.text
    pages.post(f"/sme/offers/{offer.id}/withdraw")
    with Session(world.engine) as s:
        row = s.get(Offer, offer.id)
        assert row is not None and row.title == "数据治理平台 V6" and row.status == OfferStatus.WITHDRAWN
    # a form without its CSRF token changes nothing
    forged = client.post("/sme/offers", data={**offer_form(title="伪造"), "csrf_token": "x"}, follow_redirects=False)
    assert forged.status_code == 403 and "表单已过期或来源不明" in forged.text


def test_another_tenants_records_are_404_pages(world: World, pages: Pages) -> None:
    foreign = an_offer(world, title="别家的产品")
    part = world.confirmed_part("500000.00", sme=world.supplier)
    app = world.apply(part.id, "400000.00", sme=world.supplier)
    login(pages, world, world.supplier)
    own = pages.get(f"/sme/finance/{app.id}").text
    assert "48小时时间线" in own
    pages.client.cookies.clear()
    login(pages, world, world.sme)
    assert "找不到" in pages.get(f"/sme/finance/{app.id}", expect=404).text
    pages.get(f"/sme/finance/apply?part={part.id}", expect=404)
    pages.get(f"/sme/offers/{foreign.id + 1000}/edit", expect=404)
    pages.post(f"/sme/finance/{app.id}/withdraw")  # refused by the use case: not found for this SME
    with Session(world.engine) as s:
        assert s.get(FinanceApplication, app.id).status == ApplicationStatus.SUBMITTED  # type: ignore[union-attr]


def test_bulk_import_reports_each_bad_row_and_queues_the_good_ones(world: World, pages: Pages) -> None:
    login(pages, world, world.sme)
    template = pages.get("/sme/offers/import/template.csv")
    assert template.content.startswith("\ufeff".encode()) and "attachment" in template.headers["content-disposition"]
    assert pages.get("/sme/offers/import/template.xlsx").content[:2] == b"PK"
    header = "类型,名称,描述,类别代码,最低价（元）,最高价（元）,年交付能力,资质代码,关键词"
    body = "\r\n".join(
        [
            header,
            "产品,数据治理平台,,ict.bigdata,800000,5000000,10,,数据治理",
            "服务,坏行,,ict.nope,100,50,1,,",
            "技术,边缘网关,,ict.iot,1000,2000,3,,网关",
        ]
    )
    files = {"file": ("offers.csv", ("\ufeff" + body).encode(), "text/csv")}
    page = pages.post("/sme/offers/import", files=files, expect=200)
    assert re.search(r"<td[^>]*>3</td>", page.text) and "未知的类别：ict.nope" in page.text
    assert "data-job=" in page.text
    with Session(world.engine) as s:
        job = s.exec(select(Job)).one()
        event = s.exec(select(OutboxEvent).where(OutboxEvent.topic == events.OFFERS_IMPORT_REQUESTED)).one()
    assert job.total == 2 and job.started_by_user_id == world.sme.user_id
    assert [r["row"] for r in event.payload["rows"]] == [2, 4] and event.payload["task_id"] == job.task_id
    assert f"/jobs/{job.id}" in pages.get(f"/sme/offers/import/{job.id}").text
    empty = pages.post("/sme/offers/import", files={"file": ("x.pdf", b"%PDF", "application/pdf")}, expect=422)
    assert "仅支持 .csv 或 .xlsx 文件" in empty.text


def test_matches_show_the_reasons_and_interest_then_an_intent_order(world: World, pages: Pages) -> None:
    offer = an_offer(world)
    order = an_order(world)
    login(pages, world, world.sme)
    matches = pages.get("/sme/matches").text
    assert "区级政务大数据治理平台采购" in matches and "为什么匹配" in matches and "同一类别" in matches
    assert "共同关键词" in matches
    assert "区级政务大数据治理平台采购" in pages.get(f"/sme/matches?offer={offer.id}").text
    detail = pages.get(f"/sme/orders/{order.id}").text
    assert "¥3,000,000.00" in detail and "我的匹配产品" in detail and "发起意向订单" not in detail
    pages.post(f"/sme/orders/{order.id}/interest", {"offer_id": str(offer.id), "note": "可在30天内完成部署"})
    with Session(world.engine) as s:
        interest = s.exec(select(Interest)).one()
    assert interest.kind == InterestKind.INTEREST and interest.note == "可在30天内完成部署"
    marketplace.shortlist(world.uow(), world.core, order.id, offer.id)
    detail = pages.get(f"/sme/orders/{order.id}").text
    assert "买方已入围" in detail and "发起意向订单" in detail
    refused = pages.post(
        f"/sme/orders/{order.id}/propose",
        {"offer_id": str(offer.id), "amount": "2500000.00", "delivery_due": world.due(-1).isoformat()},
        expect=422,
    )
    assert "交付日期必须晚于今天" in refused.text and 'value="2500000.00"' in refused.text
    pages.post(
        f"/sme/orders/{order.id}/propose",
        {"offer_id": str(offer.id), "amount": "2500000.00", "delivery_due": world.due(60).isoformat()},
    )
    with Session(world.engine) as s:
        intent = s.exec(select(IntentOrder)).one()
    assert intent.supplier_signed_at is not None and intent.buyer_signed_at is None
    deals = pages.get("/sme/deals").text
    assert "您已签署，等待对方" in deals and "¥2,500,000.00" in deals


def test_the_supplier_reads_the_buyers_message_and_never_its_internal_note(world: World, pages: Pages) -> None:
    """Issue 16, item 5: the note a firm types when it shortlists or rules out a supplier is the firm's own; what it
    means the supplier to read is the separate message."""
    offer = an_offer(world)
    order = an_order(world)
    spare = an_offer(world, title="政务数据共享交换网关")
    login(pages, world, world.core)
    form = pages.get(f"/firm/orders/{order.id}").text
    assert "内部备注（可选，仅本企业可见）" in form and "给供应商的留言（可选，供应商可见）" in form
    pages.post(
        f"/firm/orders/{order.id}/shortlist",
        {"offer_id": str(offer.id), "note": "报价偏高，备选", "message_to_supplier": "请补充同类政务项目案例"},
    )
    pages.post(
        f"/firm/orders/{order.id}/reject",
        {"offer_id": str(spare.id), "note": "交付能力不足", "message_to_supplier": "感谢参与，本次未选用"},
    )
    with Session(world.engine) as s:
        stored = {i.offer_id: (i.note, i.message_to_supplier) for i in s.exec(select(Interest)).all()}
    assert stored == {
        offer.id: ("报价偏高，备选", "请补充同类政务项目案例"),
        spare.id: ("交付能力不足", "感谢参与，本次未选用"),
    }
    pages.client.cookies.clear()
    login(pages, world, world.sme)
    pages.post(f"/sme/orders/{order.id}/interest", {"offer_id": str(offer.id), "note": "可在30天内完成部署"})
    detail = pages.get(f"/sme/orders/{order.id}").text
    assert "买方已入围" in detail and "买方未选用" in detail
    assert "采购方留言" in detail and "请补充同类政务项目案例" in detail and "感谢参与，本次未选用" in detail
    assert "可在30天内完成部署" in detail  # the SME's own note
    assert "报价偏高" not in detail and "交付能力不足" not in detail
    pages.client.cookies.set("qf_lang", "en")
    english = pages.get(f"/sme/orders/{order.id}").text
    assert "Message from the buyer" in english and "报价偏高" not in english


def test_signing_the_buyers_intent_order_makes_a_contract_to_register_a_receivable(world: World, pages: Pages) -> None:
    offer = an_offer(world)
    order = an_order(world)
    intent = marketplace.propose_intent_order(
        world.uow(),
        world.core,
        {"order_id": order.id, "offer_id": offer.id, "amount": "2000000.00", "delivery_due": world.due(60)},
    )
    login(pages, world, world.sme)
    assert "等待您签署" in pages.get("/sme/deals").text
    assert "已签署，合同已生成" in pages.follow(pages.post(f"/sme/deals/{intent.id}/sign")).text
    with Session(world.engine) as s:
        contract = s.exec(select(Contract)).one()
        assert s.get(IntentOrder, intent.id).status == IntentStatus.SIGNED  # type: ignore[union-attr]
    assert f"/sme/receivables/new?contract={contract.id}" in pages.get("/sme/deals").text
    data = {
        "title": "平台建设第一期货款",
        "contract_id": str(contract.id),
        "face": "2500000.00",
        "issue_date": world.clock.now().date().isoformat(),
        "due_date": world.due(90).isoformat(),
    }
    over = pages.post("/sme/receivables", data, expect=422)
    assert "将超过合同金额" in over.text and 'value="平台建设第一期货款"' in over.text
    ok = pages.follow(pages.post("/sme/receivables", {**data, "face": "1200000.00"}))
    assert "等待核心企业确权" in ok.text and "¥1,200,000.00" in ok.text
    with Session(world.engine) as s:
        receivable = s.exec(select(Receivable)).one()
    assert receivable.debtor_id == world.core.organisation_id and receivable.contract_id == contract.id


def test_finance_wizard_live_maximum_one_application_per_key_and_the_timeline(
    world: World, pages: Pages, clock: FrozenClock
) -> None:
    part = world.confirmed_part("1000000.00")
    product = world.product.id
    login(pages, world, world.sme)
    assert f'value="{part.id}"' in pages.get("/sme/finance/apply").text
    step2 = pages.get(f"/sme/finance/apply?part={part.id}").text
    assert f'value="{product}"' in step2 and "第二步" in step2
    step3 = pages.get(f"/sme/finance/apply?part={part.id}&product={product}").text
    assert "¥900,000.00" in step3 and "确权金额×融资比例" in step3 and 'value="900000.00"' in step3
    quote = pages.get(f"/sme/finance/quote?part={part.id}&product={product}&amount=950000").json()
    assert quote["max_fen"] == 90_000_000 and quote["binding"] == "advance_rate" and not quote["amount_ok"]
    assert "超过可申请的最高金额¥900,000.00" in quote["message_zh"]
    assert {c["key"] for c in quote["caps"]} == {"advance_rate", "deal_cap", "bank_line", "sme_exposure"}
    over = pages.get(f"/sme/finance/apply?part={part.id}&product={product}&amount=950000&review=1").text
    assert "超过可申请的最高金额" in over and "第四步" not in over
    review = pages.get(f"/sme/finance/apply?part={part.id}&product={product}&amount=800000.00&review=1").text
    assert "第四步" in review and "¥800,000.00" in review
    key = re.search(r'name="key" value="([0-9a-f]+)"', review)
    assert key
    form = {"part": str(part.id), "product": str(product), "amount": "800000.00", "key": key.group(1)}
    first = pages.post("/sme/finance/apply", form)
    again = pages.post("/sme/finance/apply", form)  # a double submit
    assert first.headers["location"] == again.headers["location"]
    with Session(world.engine) as s:
        apps = s.exec(select(FinanceApplication)).all()
    assert len(apps) == 1 and apps[0].requested_fen == 80_000_000
    page = pages.follow(first).text
    assert "48小时时间线" in page and "自动风控" in page and 'class="countdown"' in page and "银行审核" in page
    fs.run_risk_check(world.uow(), apps[0].id)
    clock.advance(timedelta(hours=1))
    assert "撤回申请" in pages.get(f"/sme/finance/{apps[0].id}").text
    pages.post(f"/sme/finance/{apps[0].id}/withdraw")
    with Session(world.engine) as s:
        assert s.get(FinanceApplication, apps[0].id).status == ApplicationStatus.WITHDRAWN  # type: ignore[union-attr]
    assert "已撤回" in pages.get("/sme/finance").text


def test_a_refused_application_comes_back_with_the_reason(world: World, pages: Pages) -> None:
    part = world.confirmed_part("1000000.00")
    login(pages, world, world.sme)
    form = {"part": str(part.id), "product": str(world.product.id), "amount": "950000.00", "key": "k1"}
    refused = pages.post("/sme/finance/apply", form, expect=422)
    assert "第三步" in refused.text and 'role="alert"' in refused.text
    with Session(world.engine) as s:
        assert s.exec(select(FinanceApplication)).first() is None


def test_signing_the_banks_offer_from_the_application_page(world: World, pages: Pages) -> None:
    app = world.approved("800000.00")
    login(pages, world, world.sme)
    page = pages.get(f"/sme/finance/{app.id}").text
    assert "银行融资要约" in page and fs.terms_hash(app.offer_terms) in page
    wrong = pages.follow(pages.post(f"/sme/finance/{app.id}/sign", {"terms_hash": "0" * 64}))
    assert "条款与银行批准的条款不一致" in wrong.text
    done = pages.follow(pages.post(f"/sme/finance/{app.id}/sign", {"terms_hash": fs.terms_hash(app.offer_terms)}))
    assert "已签署融资要约" in done.text and "银行放款" in done.text
    with Session(world.engine) as s:
        assert s.get(FinanceApplication, app.id).status == ApplicationStatus.OFFER_SIGNED  # type: ignore[union-attr]


# ------------------------------------------------------------------------------------------ one payoff per loan


def test_the_repay_form_and_the_banks_view_of_a_loan_show_the_one_payoff_of_the_day(
    engine: Engine, clock: FrozenClock, pages: Pages
) -> None:
    """Issue 16, "one loan shows two payoffs on two pages": five days past its due date and before the maturity
    sweep has run, the SME's repay form offered the ledger's figure (no penalty yet) while repaying charges the
    penalty to the day.  The form, and the bank's view of the same loan, now show ``payoff`` of that day."""

    w = build_world(engine, clock)
    contract_product(w)
    c = contract(w)
    assert c.id is not None
    app = fs.apply_for_contract_finance(
        w.uow(), w.sme, {"contract_id": c.id, "bank_id": w.bank_id, "amount": "100000.00"}
    )
    assert app.id is not None
    loan = to_loan(w, app.id)
    assert loan.id is not None
    clock.advance(timedelta(days=(loan.due_date - to_local(clock.now()).date()).days + 5))
    today = to_local(clock.now()).date()
    with Session(engine) as s:
        figure = payoff(s, loan.id, today)
        ledger_only = fs.loan_outstanding(s, loan.id, as_of=today)
    assert figure.penalty_fen > 0 and figure.total_fen > ledger_only.total_fen  # the two figures of the contradiction
    shown = f"{figure.total_fen // 100}.{figure.total_fen % 100:02d}"

    login(pages, w, w.sme)
    page = pages.get(f"/sme/finance/{app.id}").text
    section = page[page.index('id="h-repay"') :]
    assert f'name="amount" value="{shown}"' in section

    bank_view = FinanceWorld(w, pages.client, w.sme).get(w.reviewer, f"/api/v1/loans/{loan.id}/schedule")
    assert bank_view.status_code == 200
    assert bank_view.json()["payoff_today_fen"] == figure.total_fen
    pages.client.cookies.clear()
    login(pages, w, w.reviewer)
    assert f"贷款 #{loan.id}" in pages.get(f"/bank/applications/{app.id}").text  # the bank's page of the same loan
