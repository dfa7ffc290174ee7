"""The large firm's journey in a real browser, as demo-firm on the seeded demo data: home → post an order (refused
once, then posted) → its ranked suppliers with their reasons → a filter → three suppliers side by side → shortlist
one → propose an intent order → deals → confirm a receivable, then a batch → repay the loan that falls due first.
Then two pages on a phone and in English."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session, col, select

from finance import service as fs
from qianfan.actors import Actor
from qianfan.clock import to_local
from qianfan.models import Loan, LoanStatus, Organisation, Receivable, ReceivableStatus, User
from qianfan.uow import UnitOfWork
from seeds import catalogue as cat

pytestmark = pytest.mark.browser

_invoices = itertools.count(1)


def _register_for_demo_firm(live: Any, titles: list[str]) -> list[int]:
    """The demo SME registers receivables against demo-firm (as it would on its own portal)."""
    with Session(live.engine) as s:
        user = s.exec(select(User).where(User.username == "demo-sme")).one()
        sme = s.get(Organisation, user.organisation_id)
        firm = s.exec(select(Organisation).where(Organisation.name == cat.DEMO_FIRM)).one()
        assert sme is not None
        actor = Actor.for_user(user, sme)
    today = to_local(live.clock.now()).date()
    ids = []
    for title in titles:
        row = fs.register_receivable(
            UnitOfWork(live.engine, live.clock),
            actor,
            {
                "title": title,
                "debtor_id": firm.id,
                "face": "420000.00",
                "issue_date": today,
                "due_date": today + timedelta(days=75),
                "invoice_numbers": [f"26119900{next(_invoices):012d}"],
            },
        )
        assert row.id is not None
        ids.append(row.id)
    return ids


def test_firm_posts_an_order_picks_a_supplier_confirms_and_repays(portal: Any, live: Any) -> None:
    window = portal("demo-firm")
    page = window.page
    window.goto("/firm")
    assert "大企业工作台" in window.text() and "待确权的应收账款" in window.text()
    window.shot("firm-home")

    # -- post an order: refused once (a budget finer than the fen), then posted
    page.get_by_role("link", name="发布订单").first.click()
    page.locator("#f-title").fill("区级政务大数据平台数据治理服务采购")
    page.locator("#f-category").select_option("ict.bigdata")
    page.locator("#f-budget").fill("5000000.005")
    page.locator("#f-district").select_option("海淀园")
    deadline = to_local(live.clock.now()).date() + timedelta(days=60)
    page.locator("#f-deadline").fill(deadline.isoformat())
    page.locator("#f-description").fill("建设区级政务数据治理平台，包括数据标准、数据质量、元数据管理与数据资产目录。")
    page.get_by_role("button", name="发布订单").click()
    page.wait_for_load_state()
    assert page.locator("#f-budget").get_attribute("aria-invalid") == "true"
    assert page.locator("#f-title").input_value() == "区级政务大数据平台数据治理服务采购"  # nothing typed is lost
    window.shot("order-refused")
    page.locator("#f-budget").fill("5000000.00")
    page.get_by_role("button", name="发布订单").click()
    page.wait_for_url("**/firm/orders/*")
    order_url = page.url
    assert "已发布" in window.flash()

    # -- the ranked suppliers, with the reasons of each
    live.settle()
    page.reload()
    assert "匹配理由" in window.text() and "共同关键词" in window.text()
    window.shot("order-ranked")
    page.locator("#f-within_budget").check()
    page.get_by_role("button", name="筛选").click()
    page.wait_for_load_state()
    assert "within_budget=1" in page.url and "清除筛选" in window.text()
    window.shot("order-filtered")

    # -- three side by side
    boxes = page.locator("input[data-compare]")
    assert boxes.count() >= 3
    for i in range(3):
        boxes.nth(i).check()
    assert page.locator("[data-compare-count]").inner_text() == "3"
    page.get_by_role("button", name="并排对比所选").click()
    page.wait_for_url("**/compare?**")
    assert page.locator("table.compare-table thead th").count() == 4  # the item column and three suppliers
    window.shot("compare")

    # -- shortlist the first one, then propose an intent order to it
    page.locator("form[action$='/shortlist'] button").first.click()
    page.wait_for_url(order_url)
    assert "已加入入围名单" in window.flash()
    page.get_by_role("link", name="发起意向订单").first.click()
    page.wait_for_url("**/propose/*")
    window.shot("propose")
    page.locator("#f-terms").fill("合同签订后支付30%预付款，验收合格后60日内支付余款。")
    page.get_by_role("button", name="签署并发出").click()
    page.wait_for_url("**/firm/deals")
    assert "意向订单" in window.flash() and "区级政务大数据平台数据治理服务采购" in window.text()
    window.shot("deals")

    # -- receivables: one confirmed on its own, two more in a batch
    batch = _register_for_demo_firm(live, ["政务数据治理服务 第一期服务费", "政务数据治理服务 第二期服务费"])
    with Session(live.engine) as s:
        firm = s.exec(select(Organisation).where(Organisation.name == cat.DEMO_FIRM)).one()
        single = s.exec(
            select(Receivable.id).where(
                Receivable.debtor_id == firm.id,
                Receivable.status == ReceivableStatus.REGISTERED,
                col(Receivable.id).not_in(batch),
            )
        ).first()
    assert single is not None, "the demo data has a receivable waiting for demo-firm's confirmation"
    window.goto("/firm/receivables")
    window.shot("receivables")
    page.locator(f"#undertake-{single}").check()
    page.get_by_role("button", name=f"确权 #{single}").click()
    page.wait_for_load_state()
    assert f"#{single} 已确权" in window.flash()
    for rid in batch:
        page.locator(f"#pick-{rid}").check()
    page.locator("#batch-undertaking").check()
    page.get_by_role("button", name="批量确权所选").click()
    page.wait_for_load_state()
    assert "已批量确权2笔" in window.flash()
    window.shot("receivables-confirmed")
    with Session(live.engine) as s:
        states = s.exec(select(Receivable.status).where(col(Receivable.id).in_([single, *batch]))).all()
    assert set(states) == {ReceivableStatus.CONFIRMED}

    # -- repay the loan that falls due first (the demo has one due within 30 days)
    window.goto("/firm/repayments")
    assert "待还贷款" in window.text()
    window.shot("repayments")
    button = page.locator("form[action^='/firm/repayments/'] button").first
    loan_id = int(button.inner_text().rsplit("#", 1)[1])
    button.click()
    page.wait_for_load_state()
    assert f"已向贷款 #{loan_id} 还款" in window.flash() and "贷款已还清" in window.flash()
    window.shot("repaid")
    with Session(live.engine) as s:
        loan = s.get(Loan, loan_id)
        assert loan is not None and loan.status == LoanStatus.REPAID


def test_firm_pages_on_a_phone_and_in_english(portal: Any) -> None:
    phone = portal("demo-firm", mobile=True)
    phone.goto("/firm/deals")
    assert "意向订单与合同" in phone.text()
    assert not phone.page.locator("#mainnav").is_visible()
    phone.shot("deals-phone")
    english = portal("demo-firm", lang="en")
    english.goto("/firm/orders")
    assert english.page.locator("html").get_attribute("lang") == "en"
    assert "My orders" in english.text() and "Post an order" in english.text()
    english.page.get_by_role("link", name="Repayments due").click()
    english.page.wait_for_load_state()
    assert "Loans to repay" in english.text()
    english.shot("repayments-en")
