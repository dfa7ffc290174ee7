"""The whole flow in a real browser, from a large firm's order to its repayment, across the four roles' logins
(large firm, SME, bank reviewer and approver, programme office) — every step clicked on the portals, none through
the API or a use case:

demo-firm posts an order → the worker matches it → demo-sme finds it among its matches and expresses interest →
demo-firm shortlists the SME's offer and proposes an intent order → both sign: a contract → demo-sme registers the
receivable on the contract → demo-firm confirms it (确权) → demo-sme applies in the finance wizard → the worker's
risk check → demo-bank reviews and approves → demo-sme signs the bank's offer → demo-bank-approver disburses →
90 days later demo-firm repays → demo-office sees the deal in the funnel and the audit chain verifies.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from finance import service as fs
from qianfan.clock import SHANGHAI, to_local
from qianfan.models import FinanceApplication, Loan, LoanStatus, Order
from tests.e2e.conftest import settle_overdue_loans

pytestmark = pytest.mark.browser

ORDER_TITLE = "区政务数据共享交换平台升级项目"
SME_NAME = "北京数帆智汇科技有限公司"
RECEIVABLE_TITLE = "政务数据共享交换平台升级 首期验收款"


def test_from_order_to_repayment_across_four_logins(portal: Any, live: Any) -> None:
    today = to_local(live.clock.now()).date()

    # -- the large firm posts an order
    firm = portal("demo-firm")
    page = firm.page
    firm.goto("/firm/orders/new")
    page.locator("#f-title").fill(ORDER_TITLE)
    page.locator("#f-category").select_option("ict.bigdata")
    page.locator("#f-budget").fill("3000000.00")
    page.locator("#f-district").select_option("海淀园")
    page.locator("#f-deadline").fill((today + timedelta(days=60)).isoformat())
    page.locator("#f-description").fill(
        "升级区级政务数据共享交换平台：数据共享、共享交换、政务数据目录与数字政府大数据接口，信创环境部署。"
    )
    page.get_by_role("button", name="发布订单").click()
    page.wait_for_url(re.compile(r".*/firm/orders/\d+$"))
    order_id = int(page.url.rsplit("/", 1)[1])
    firm.shot("firm-order-posted")

    # -- the worker matches it; the SME finds it among its matched orders and expresses interest
    live.settle()
    sme = portal("demo-sme")
    sme.goto("/sme/matches")
    assert ORDER_TITLE in sme.text()
    sme.shot("sme-matches")
    sme.goto(f"/sme/orders/{order_id}")
    sme.page.locator("#i-note").fill("可在45天内完成升级部署，已有同类政务平台案例。")
    sme.page.get_by_role("button", name="表达意向").click()
    sme.page.wait_for_load_state()
    assert "已向买方表达意向" in sme.flash()
    sme.shot("sme-interest")

    # -- the firm shortlists the SME's offer and proposes an intent order; both sign
    page.reload()
    card = page.locator("article.card", has_text=SME_NAME).first
    card.get_by_role("button", name="入围").click()
    page.wait_for_load_state()
    assert "已加入入围名单" in firm.flash()
    page.locator("tr", has_text=SME_NAME).get_by_role("link", name="发起意向订单").click()
    page.wait_for_url("**/propose/*")
    page.locator("#f-amount").fill("2400000.00")
    page.locator("#f-delivery_due").fill((today + timedelta(days=45)).isoformat())
    page.locator("#f-terms").fill("验收合格后90日内支付合同款。")
    page.get_by_role("button", name="签署并发出").click()
    page.wait_for_url("**/firm/deals")
    firm.shot("firm-intent-order")

    sme.goto("/sme/deals")
    sme.page.locator("tr", has_text=ORDER_TITLE).get_by_role("button", name="签署").click()
    sme.page.wait_for_load_state()
    assert "合同" in sme.text()
    sme.shot("sme-signed-contract")

    # -- the SME registers the receivable on the contract; the firm confirms it
    sme.goto("/sme/receivables/new")
    sme.page.locator("#f-title").fill(RECEIVABLE_TITLE)
    contract = sme.page.locator("#f-contract_id option", has_text=ORDER_TITLE).first.get_attribute("value")
    assert contract
    sme.page.locator("#f-contract_id").select_option(contract)
    sme.page.locator("#f-face").fill("2400000.00")
    sme.page.locator("#f-issue_date").fill(today.isoformat())
    sme.page.locator("#f-due_date").fill((today + timedelta(days=120)).isoformat())
    sme.page.locator("#f-invoice_numbers").fill("11002611220001")
    sme.page.get_by_role("button", name="登记").click()
    sme.page.wait_for_url("**/sme/receivables")
    assert RECEIVABLE_TITLE in sme.text()

    firm.goto("/firm/receivables")
    row = page.locator("tr, article", has_text=RECEIVABLE_TITLE).first
    row.locator("input[id^='undertake-']").check()
    row.get_by_role("button", name=re.compile("^确权")).click()
    page.wait_for_load_state()
    assert "已确权" in firm.flash()
    firm.shot("firm-confirmed")

    # -- the SME applies for finance at 北京中关村银行 in the wizard, once its debtor has paid its overdue loan there
    # (an SME with an overdue loan is refused by the automatic risk check for every product)
    assert settle_overdue_loans(live, "demo-sme") == 1
    sme.goto("/sme/finance/apply")
    sme.page.locator("label", has_text=RECEIVABLE_TITLE).locator("input").check()
    sme.page.get_by_role("button", name="下一步").click()
    sme.page.locator("label", has_text="北京中关村银行").first.locator("input").check()
    sme.page.get_by_role("button", name="下一步").click()
    sme.page.locator("#quote-max").wait_for()
    sme.page.locator("#f-amount").fill("1800000.00")
    sme.page.locator("#quote-message", has_text="范围内").wait_for()
    sme.page.get_by_role("button", name="下一步：核对").click()
    sme.page.wait_for_load_state()
    sme.page.get_by_role("button", name="提交申请").click()
    sme.page.wait_for_url(re.compile(r".*/sme/finance/\d+$"))
    application_id = int(sme.page.url.rsplit("/", 1)[1])
    sme.shot("sme-applied")
    live.settle()  # the automatic risk check

    # -- the bank reviews and approves; the SME signs the offer; the approver disburses
    bank = portal("demo-bank")
    bank.goto("/bank")
    assert f"/bank/applications/{application_id}" in bank.page.content()
    bank.goto(f"/bank/applications/{application_id}")
    assert "风控" in bank.text() and RECEIVABLE_TITLE in bank.text()
    bank.shot("bank-application")
    bank.page.get_by_role("button", name="开始审核").click()
    bank.page.wait_for_load_state()
    bank.page.locator("#f-amount").fill("1800000.00")
    bank.page.get_by_role("button", name="批准并发出要约").click()
    bank.page.wait_for_load_state()
    bank.shot("bank-approved")

    sme.goto(f"/sme/finance/{application_id}")
    sme.page.get_by_role("button", name="签署要约").click()
    sme.page.wait_for_load_state()
    sme.shot("sme-signed-offer")

    approver = portal("demo-bank-approver")
    approver.goto(f"/bank/applications/{application_id}")
    approver.page.get_by_role("button", name=re.compile("^放款")).click()
    approver.page.wait_for_load_state()
    assert "已放款" in approver.flash()
    approver.shot("bank-disbursed")
    with Session(live.engine) as s:
        application = s.get(FinanceApplication, application_id)
        loan = s.exec(select(Loan).where(Loan.application_id == application_id)).one()
        assert application is not None
        assert loan.disbursed_at - application.submitted_at <= timedelta(hours=48)

    # -- at maturity the large firm repays (its session of the morning has long ended: it logs in again)
    live.clock.set(datetime.combine(loan.due_date, time(10), tzinfo=SHANGHAI).astimezone(UTC))
    firm = portal("demo-firm")
    page = firm.page
    firm.goto("/firm/repayments")
    page.locator(f"form[action='/firm/repayments/{loan.id}'] button").click()
    page.wait_for_load_state()
    assert "贷款已还清" in firm.flash()
    firm.shot("firm-repaid")

    # -- the programme office sees the deal and the audit chain holds
    office = portal("demo-office")
    office.goto("/office")
    office.shot("office-funnel")
    office.goto("/office/audit")
    office.page.get_by_role("button", name="校验整条审计链").click()
    office.page.wait_for_load_state()
    assert "审计链完整" in office.page.locator("#verify-result").inner_text()
    office.shot("office-audit-verified")

    with Session(live.engine) as s:
        assert s.get(Order, order_id) is not None
        repaid = s.get(Loan, loan.id)
        assert repaid is not None and repaid.status == LoanStatus.REPAID
        assert fs.unbalanced_postings(s) == []
