"""The bank's suggested credit lines and the office's late buyers in a real browser on the seeded demo data:
demo-bank opens 建议授信 from its menu, picks demo-sme (北京数帆智汇科技有限公司) in the select and reads its
suggestion with every reason, finds another SME by name, and reaches a suggestion from an application; the same
page in English; demo-office opens 逾期付款 from its menu and from the funnel, and on a phone.

demo-sme gets no line (it joined the platform on the seed's day and has an overdue loan): the page shows the
blocking reasons, which is what a bank would see today.  The demo's one SME with a line, demo-sme-veteran, is
checked by tests/seeds/test_credit_demo.py."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, col, select

from qianfan.models import FinanceApplication, User

pytestmark = pytest.mark.browser

DEMO_SME = "北京数帆智汇科技有限公司"


def _org_of(live: Any, username: str) -> int:
    with Session(live.engine) as s:
        return s.exec(select(User.organisation_id).where(User.username == username)).one()


def _an_application(live: Any) -> FinanceApplication:
    with Session(live.engine) as s:
        row = s.exec(
            select(FinanceApplication)
            .where(FinanceApplication.bank_id == _org_of(live, "demo-bank"))
            .order_by(col(FinanceApplication.id))
        ).first()
    assert row is not None, "the demo bank has no application"
    return row


def test_the_bank_reads_a_suggested_line(portal: Any, live: Any) -> None:
    sme_id = _org_of(live, "demo-sme")
    window = portal("demo-bank")
    page = window.page
    page.locator("#mainnav").get_by_role("link", name="建议授信").click()
    page.wait_for_load_state()
    assert page.url.endswith("/bank/credit-suggestions")
    assert "建议授信额度" in window.text() and "申请过本行融资的企业" in window.text()
    window.shot("suggestions")

    page.locator("#f-sme_id").select_option(str(sme_id))
    page.get_by_role("button", name="查看建议授信").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/bank/credit-suggestions/{sme_id}")
    text = window.text()
    assert DEMO_SME in text and "暂不建议授信" in text and "阻止授信的原因" in text
    assert "当前逾期贷款" in text and "loans_overdue_now" in text
    assert "近12个月交易记录" in text and "额度怎么算" in text and "¥30,000,000.00" in text
    assert "核定或拒绝额度须由本行管理员或审批人操作" in text
    assert page.locator("main form[method=post]").count() == 0  # a reviewer reads; an approver decides
    assert page.locator("main table tbody tr").count() >= 2
    window.shot("suggestion-demo-sme")

    window.goto("/bank/credit-suggestions")
    page.locator("#f-q").fill("数帆")
    page.get_by_role("button", name="查找").click()
    page.wait_for_load_state()
    assert "q=" in page.url and "查找结果" in window.text()
    page.get_by_role("link", name=DEMO_SME).first.click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/bank/credit-suggestions/{sme_id}")

    app = _an_application(live)
    window.goto(f"/bank/applications/{app.id}")
    page.get_by_role("link", name="查看建议授信").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/bank/credit-suggestions/{app.applicant_id}")
    assert "每一条依据" in window.text()

    english = portal("demo-bank", lang="en")
    english.goto(f"/bank/credit-suggestions/{sme_id}")
    text = english.text()
    assert "No line suggested" in text and "Every reason" in text and "The 12-month trade record" in text
    assert "A line is set or declined by the bank" in text
    english.shot("suggestion-en")


def test_the_office_sees_the_late_buyers(portal: Any, live: Any) -> None:
    window = portal("demo-office")
    page = window.page
    page.get_by_role("link", name="查看逾期付款的大企业").click()  # from the funnel
    page.wait_for_load_state()
    assert page.url.endswith("/office/late-buyers")
    window.goto("/office")
    page.locator("#mainnav").get_by_role("link", name="逾期付款").click()
    page.wait_for_load_state()
    assert page.url.endswith("/office/late-buyers")
    text = window.text()
    assert "逾期付款的大企业" in text and "逾期合同" in text
    rows = page.locator("main table tbody tr")
    assert rows.count() >= 1  # the demo's delivered contract accepted 80 days ago and unpaid
    first = rows.first.inner_text()
    assert "HT-" in first and " 天" in first and "¥" in first
    window.shot("late-buyers")

    phone = portal("demo-office", mobile=True)
    phone.goto("/office/late-buyers")
    assert "逾期天数" in phone.text()
    overflow = phone.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than a phone"
    phone.shot("late-buyers-phone")
