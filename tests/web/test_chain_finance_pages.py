"""The data-chain finance pages (issue 8): the SME's contract finance on its contract page (the live maximum with
the binding limit named, one application per form key, a refused amount kept with the limit named, the live
application, the waterfall of the buyer's payments), its revolving lines (/sme/credit-lines: drawdown form, its own
suggestion when it has no line), the bank's queue filtered by product, the application page of a contract loan (the
contract and the data-chain links), the decision on a suggested line and /bank/credit-lines, and the programme
office's figures by product — with the refusals: wrong kind of user (403 page) and another tenant's id (404 page)."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from finance import pricing
from finance import service as fs
from qianfan.clock import FrozenClock
from qianfan.models import FinanceApplication, FinanceKind, Loan, SmeCreditLine, SmeLineStatus
from tests.finance_service.conftest import World, build_world
from tests.finance_service.test_settlement_service import contract, plan_30_70
from tests.web.conftest import Pages
from tests.web.test_bank_pages import login
from tests.web.test_credit_and_late_pages import main, three_settled_deals

_KEY = re.compile(r'name="key" value="([^"]+)"')


def contract_product(w: World) -> int:
    product = fs.create_product(
        w.uow(),
        w.bank_admin,
        {"kind": "contract", "code": "DD1", "name": "千帆订单融资", "advance_rate": "0.8", "arrangement_fee_bp": 10,
         "fee_min": "100.00", "fee_max": "50000.00", "spreads_bp": {"A": 50, "B": 100, "C": 180, "D": 300}},
    )  # fmt: skip
    assert product.id is not None
    return product.id


def line_product(w: World) -> int:
    product = fs.create_product(
        w.uow(),
        w.bank_admin,
        {"kind": "credit_line", "code": "LX1", "name": "千帆流水贷", "advance_rate": "1",
         "spreads_bp": {"A": 80, "B": 130, "C": 200, "D": 350}},
    )  # fmt: skip
    assert product.id is not None
    return product.id


def applications(engine: Engine, kind: FinanceKind) -> list[FinanceApplication]:
    with Session(engine) as s:
        return list(s.exec(select(FinanceApplication).where(col(FinanceApplication.kind) == kind)).all())


def key_of(html: str) -> str:
    found = _KEY.search(html)
    assert found, "no idempotency key in the form"
    return found.group(1)


def to_loan(w: World, app_id: int) -> Loan:
    fs.run_risk_check(w.uow(), app_id)
    approved = fs.approve(w.uow(), w.reviewer, app_id)
    assert approved.offer_terms is not None
    fs.sign_offer(w.uow(), w.sme, app_id, fs.terms_hash(approved.offer_terms))
    return fs.disburse(w.uow(), w.reviewer, app_id, f"web-disb-{app_id}")


# ------------------------------------------------------------------------------------------ contract finance


def test_the_sme_applies_for_contract_finance_once_per_form(engine: Engine, clock: FrozenClock, pages: Pages) -> None:
    w = build_world(engine, clock)
    product_id = contract_product(w)
    c = contract(w)  # ¥1,000,000.00, not yet delivered
    assert c.id is not None
    plan_30_70(w, c.id)
    url = f"/sme/contracts/{c.id}"
    login(pages, engine, w.sme)
    body = main(pages.get(url).text)
    assert "订单融资" in body and 'id="contract-quote"' in body  # the only bank with a product and a line is chosen
    quote = body[body.index('id="contract-quote"') :]
    assert "¥800,000.00" in quote and "¥1,000,000.00" in quote  # 80 % of the unpaid value
    assert "受限于：未付合同金额×融资比例" in quote
    assert "合同未付金额减去该合同上已有的融资" in quote  # every limit named
    key = key_of(body)

    refused = pages.post(f"{url}/finance", {"product": product_id, "amount": "900000.00", "key": key}, expect=422).text
    refused_body = main(refused)
    assert 'value="900000.00"' in refused_body  # what was typed is kept
    assert 'aria-invalid="true"' in refused_body and "最高可申请¥800,000.00" in refused_body
    assert "超过" in refused_body and "融资比例" in refused_body  # the limit is named
    assert applications(engine, FinanceKind.CONTRACT) == []

    form = {"product": product_id, "amount": "700000.00", "key": key}
    first = pages.post(f"{url}/finance", form)
    (app,) = applications(engine, FinanceKind.CONTRACT)
    assert first.headers["location"] == f"/sme/finance/{app.id}"
    again = pages.post(f"{url}/finance", form)  # the same form submitted twice: no second application
    assert again.headers["location"] == f"/sme/finance/{app.id}"
    assert len(applications(engine, FinanceKind.CONTRACT)) == 1
    assert app.requested_fen == 70_000_000 and app.contract_id == c.id

    body = main(pages.get(url).text)
    assert 'id="live-finance"' in body and f'<a href="/sme/finance/{app.id}">' in body
    assert "<form" not in body.split('id="contract-finance"')[1].split("</section>")[0]  # no second form
    listing = main(pages.get("/sme/finance").text)
    assert "订单融资" in listing and f'<a href="/sme/contracts/{c.id}">HT-{c.id}' in listing
    detail = main(pages.get(f"/sme/finance/{app.id}").text)
    assert f'<a href="/sme/contracts/{c.id}">HT-{c.id}' in detail and "买方（还款来源）" in detail

    pages.client.cookies.set("qf_lang", "en")
    english = main(pages.get(f"/sme/finance/{app.id}").text)
    assert "Contract finance" in english and "Buyer (repays first)" in english


def test_contract_finance_refusals(engine: Engine, clock: FrozenClock, pages: Pages) -> None:
    w = build_world(engine, clock)
    product_id = contract_product(w)
    c = contract(w)
    assert c.id is not None
    login(pages, engine, w.supplier)  # another SME: the contract does not exist for it
    pages.get(f"/sme/contracts/{c.id}", expect=404)
    pages.post(f"/sme/contracts/{c.id}/finance", {"product": product_id, "amount": "1.00", "key": "x"}, expect=404)
    login(pages, engine, w.reviewer)  # a bank: not its kind of page
    assert "此页面不属于您的机构类型" in pages.get(f"/sme/contracts/{c.id}", expect=403).text
    login(pages, engine, w.sme)
    no_bank = main(pages.post(f"/sme/contracts/{c.id}/finance", {"product": "", "amount": "1.00"}, expect=422).text)
    assert "请选择提供订单融资的银行" in no_bank and 'value="1.00"' in no_bank
    forged = pages.client.post(
        f"/sme/contracts/{c.id}/finance", data={"product": product_id, "amount": "1.00"}, follow_redirects=False
    )  # no CSRF token
    assert forged.status_code == 403
    assert applications(engine, FinanceKind.CONTRACT) == []
    fs.accept_delivery(w.uow(), w.core, c.id, clock.now().date())  # delivered: contract finance is before delivery
    body = main(pages.get(f"/sme/contracts/{c.id}").text)
    assert "订单融资须在交付前申请" in body and f'action="/sme/contracts/{c.id}/finance"' not in body


def test_the_waterfall_the_bank_view_and_the_office_by_product(
    engine: Engine, clock: FrozenClock, pages: Pages
) -> None:
    w = build_world(engine, clock)
    contract_product(w)
    c = contract(w)
    assert c.id is not None
    plan_30_70(w, c.id)
    app = fs.apply_for_contract_finance(
        w.uow(), w.sme, {"contract_id": c.id, "bank_id": w.bank_id, "amount": "700000.00"}
    )
    assert app.id is not None
    receivable_app = w.apply(w.confirmed_part().id)
    fs.run_risk_check(w.uow(), app.id)
    fs.run_risk_check(w.uow(), receivable_app.id)

    # the bank's queue: a product badge on every row and a filter by product
    login(pages, engine, w.reviewer)
    queue = main(pages.get("/bank").text)
    assert "订单融资" in queue and "应收账款融资" in queue
    only = main(pages.get("/bank?kind=contract").text)
    assert f"/bank/applications/{app.id}" in only and f"/bank/applications/{receivable_app.id}" not in only
    none = main(pages.get("/bank?kind=credit_line").text)
    assert "没有符合筛选条件的该产品申请" in none
    page = main(pages.get(f"/bank/applications/{app.id}").text)
    assert "融资的合同" in page and f"HT-{c.id}" in page and "¥1,000,000.00" in page  # the contract and unpaid
    assert "该合同上已有融资" in page and "¥700,000.00" in page and "付款计划" in page
    links = page[page.index('id="chain-links"') :].split("</table>")[0]
    assert "签署的意向订单" in links and "✓" in links  # the data-chain links and whether each was used
    with Session(engine) as s:
        stored = s.get(FinanceApplication, app.id)
        assert stored is not None and stored.risk_report is not None
        report_links = stored.risk_report["links"]
    for link in report_links:
        assert link["message_zh"] in links
    assert links.count("✓") == sum(1 for x in report_links if x["used"])
    assert links.count("✗") == sum(1 for x in report_links if not x["used"])
    receivable_page = main(pages.get(f"/bank/applications/{receivable_app.id}").text)
    assert "应收账款与确权" in receivable_page  # the receivable view is unchanged

    loan = to_loan(w, app.id)
    assert "订单融资" in main(pages.get("/bank/loans").text)
    fs.record_payment(w.uow(), w.core, c.id, "PAY-ADV", 30_000_000, clock.now().date())

    login(pages, engine, w.sme)
    body = main(pages.get(f"/sme/contracts/{c.id}").text)
    waterfall = body[body.index('id="waterfall"') :].split("</table>")[0]
    assert f"#{loan.id}" in waterfall and "¥300,000.00" in waterfall and "付给企业" in waterfall
    assert 'id="live-finance"' in body and "¥400,000.00" in body  # principal outstanding after the advance

    login(pages, engine, w.office)
    office = main(pages.get("/office/turnaround").text)
    table = office[office.index('id="by-product-table"') :].split("</table>")[0]
    contract_row = re.search(r'<tr data-kind="contract">(.*?)</tr>', table, re.S)
    assert contract_row is not None
    cells = contract_row.group(1)
    assert "订单融资" in cells and "¥700,000.00" in cells and "¥400,000.00" in cells and "¥300,000.00" in cells
    assert "1 / 1" in cells  # disbursed within 48 hours
    figures = {r.kind: r for r in fs_by_product(engine)}
    assert figures["contract"].disbursed_fen == 70_000_000 and figures["contract"].repaid_fen == 30_000_000
    assert f">{figures['contract'].median_hours}<" in cells
    assert '<tr data-kind="credit_line">' in table and '<tr data-kind="receivable">' in table
    login(pages, engine, w.sme)
    pages.get("/office/turnaround", expect=403)


def fs_by_product(engine: Engine) -> list[Any]:
    from reports.finance_by_product import finance_by_product

    with Session(engine) as s:
        return finance_by_product(s)


# ------------------------------------------------------------------------------------------ revolving lines


def test_the_bank_decides_a_suggested_line_and_the_sme_draws_on_it(
    engine: Engine, clock: FrozenClock, pages: Pages
) -> None:
    w = build_world(engine, clock)
    line_product(w)
    three_settled_deals(w)  # the platform suggests ¥1,800,000.00
    sme_id = w.sme.organisation_id
    url = f"/bank/credit-suggestions/{sme_id}"
    fs.grant_record_access(w.uow(), w.sme, w.bank_id)  # 授权查询: the SME applied nowhere yet

    login(pages, engine, w.reviewer)  # a reviewer reads, but does not set lines
    body = main(pages.get(url).text)
    assert "核定或拒绝额度须由本行管理员或审批人操作" in body and 'action="/bank/credit-suggestions' not in body
    pages.post(f"{url}/decision", {"decision": "accept", "limit": "100.00"}, expect=403)

    login(pages, engine, w.bank_admin)
    body = main(pages.get(url).text)
    assert f'action="{url}/decision"' in body and 'value="1800000.00"' in body  # defaults to the suggestion
    refused = main(pages.post(f"{url}/decision", {"decision": "accept", "limit": "1800000.01"}, expect=422).text)
    assert 'value="1800000.01"' in refused and "不超过建议额度¥1,800,000.00" in refused
    assert 'aria-invalid="true"' in refused
    done = pages.follow(pages.post(f"{url}/decision", {"decision": "accept", "limit": "1000000.00", "note": "首批"}))
    assert "已核定循环额度 ¥1,000,000.00" in done.text
    with Session(engine) as s:
        line = s.exec(select(SmeCreditLine).where(col(SmeCreditLine.sme_id) == sme_id)).one()
    assert line.status == SmeLineStatus.ACTIVE and line.limit_fen == 100_000_000 and line.note == "首批"
    assert 'id="current-line"' in main(done.text) and "¥1,000,000.00" in main(done.text)
    lines = main(pages.get("/bank/credit-lines").text)
    assert f'<a href="/bank/credit-suggestions/{sme_id}">' in lines and "¥1,000,000.00" in lines and "首批" not in lines
    assert 'href="/bank/credit-lines" aria-current="page"' in pages.get("/bank/credit-lines").text
    for not_an_sme in (w.core.organisation_id, 999_999):
        pages.post(f"/bank/credit-suggestions/{not_an_sme}/decision", {"decision": "decline"}, expect=404)

    login(pages, engine, w.bank2_admin)  # another bank has no line for it
    assert "本行还没有为企业核定循环额度" in main(pages.get("/bank/credit-lines").text)

    # the SME draws on the line
    login(pages, engine, w.sme)
    html = pages.get("/sme/credit-lines").text
    assert 'href="/sme/credit-lines" aria-current="page"' in html  # in the SME's menu
    body = main(html)
    assert "¥1,000,000.00" in body and 'id="own-suggestion"' not in body  # it has a line: no suggestion shown
    key = key_of(body)
    due = (clock.now() + timedelta(days=90)).date().isoformat()
    draw = f"/sme/credit-lines/{line.id}/drawdown"
    refused = main(pages.post(draw, {"amount": "1000000.01", "due_on": due, "key": key}, expect=422).text)
    assert 'value="1000000.01"' in refused and f'value="{due}"' in refused
    assert "企业循环额度的剩余额度" in refused  # the limit is named
    first = pages.post(draw, {"amount": "300000.00", "due_on": due, "key": key})
    (app,) = applications(engine, FinanceKind.CREDIT_LINE)
    assert first.headers["location"] == f"/sme/finance/{app.id}" and app.requested_fen == 30_000_000
    assert pages.post(draw, {"amount": "300000.00", "due_on": due, "key": key}).headers["location"] == (
        f"/sme/finance/{app.id}"
    )
    assert len(applications(engine, FinanceKind.CREDIT_LINE)) == 1
    body = main(pages.get("/sme/credit-lines").text)
    assert "¥700,000.00" in body and f'<a href="/sme/finance/{app.id}">' in body  # available after the drawdown
    detail = main(pages.get(f"/sme/finance/{app.id}").text)
    assert "循环额度" in detail and due in detail

    fs.run_risk_check(w.uow(), app.id)
    login(pages, engine, w.reviewer)
    page = main(pages.get(f"/bank/applications/{app.id}").text)
    assert "支用的循环额度" in page and "¥1,000,000.00" in page and due in page
    assert 'id="chain-links"' in page and "银行循环额度" in page
    assert f"/bank/applications/{app.id}" in main(pages.get("/bank?kind=credit_line").text)

    login(pages, engine, w.supplier)  # another SME: the line does not exist for it
    pages.post(draw, {"amount": "1.00", "due_on": due, "key": "z"}, expect=404)
    own = main(pages.get("/sme/credit-lines").text)  # no line: its own suggestion, with the reasons
    assert 'id="own-suggestion"' in own and "暂不建议授信" in own and "近12个月结清交易 0 笔" in own
    login(pages, engine, w.reviewer)
    pages.get("/sme/credit-lines", expect=403)
    login(pages, engine, w.sme)
    pages.get("/bank/credit-lines", expect=403)
    pages.post(f"{url}/decision", {"decision": "decline"}, expect=403)


def test_a_bank_declines_a_line_with_a_note(engine: Engine, clock: FrozenClock, pages: Pages) -> None:
    w = build_world(engine, clock)
    url = f"/bank/credit-suggestions/{w.supplier.organisation_id}"
    fs.grant_record_access(w.uow(), w.supplier, w.bank_id)  # 授权查询: the SME applied nowhere yet
    login(pages, engine, w.approver)
    body = main(pages.get(url).text)
    assert "平台不建议为该企业设立额度" in body and 'value="accept"' not in body  # nothing to accept
    pages.follow(pages.post(f"{url}/decision", {"decision": "decline", "note": "新户，待积累交易"}))
    body = main(pages.get(url).text)
    assert "已拒绝" in body and "新户，待积累交易" in body
    assert "已拒绝" in main(pages.get("/bank/credit-lines").text)
    bad = main(pages.post(f"{url}/decision", {"decision": "maybe"}, expect=422).text)
    assert "请选择接受或拒绝" in bad


def test_the_sme_repays_a_contract_loan_once_and_the_firm_does_not_see_it_to_repay(
    engine: Engine, clock: FrozenClock, pages: Pages
) -> None:
    w = build_world(engine, clock)
    contract_product(w)
    c = contract(w)
    assert c.id is not None
    app = fs.apply_for_contract_finance(
        w.uow(), w.sme, {"contract_id": c.id, "bank_id": w.bank_id, "amount": "100000.00"}
    )
    assert app.id is not None
    loan = to_loan(w, app.id)
    clock.advance(timedelta(days=10))  # repaid 10 days in: interest for those days (the fee came out at payout)
    owed = loan.principal_fen + pricing.interest_fen(
        loan.principal_fen,
        Decimal(loan.annual_rate),
        loan.start_date,
        loan.start_date + timedelta(days=10),
        pricing.DayCount(loan.day_count),
    )
    assert owed < loan.principal_fen + loan.interest_fen

    login(pages, engine, w.core)  # the buyer repays through its payments into the contract, not here
    assert f"#{loan.id}" not in main(pages.get("/firm/repayments").text)

    login(pages, engine, w.sme)
    page = pages.get(f"/sme/finance/{app.id}").text
    section = main(page)[main(page).index('id="h-repay"') :]
    assert "采购方向合同付款时，先偿还本贷款" in section and f'value="{owed // 100}.{owed % 100:02d}"' in section
    key = re.search(r'name="idempotency_key" value="([^"]+)"', section)
    assert key is not None
    form = {"amount": f"{owed // 100}.{owed % 100:02d}", "idempotency_key": key.group(1)}
    pages.post(f"/sme/finance/{app.id}/repay", form)
    pages.post(f"/sme/finance/{app.id}/repay", form)  # the same rendered form twice: repaid once
    with Session(engine) as s:
        stored = s.get(Loan, loan.id)
        assert stored is not None and stored.status.value == "repaid" and stored.repaid_fen == owed
        assert s.get(FinanceApplication, app.id).active_contract_id is None  # type: ignore[union-attr]
    assert 'id="h-repay"' not in pages.get(f"/sme/finance/{app.id}").text
