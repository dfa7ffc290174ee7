"""The bank's suggested credit lines and the office's late buyers in a real browser on the seeded demo data:
demo-bank opens 建议授信 from its menu — which lists only the SMEs that applied to it or granted it access (授权查询),
each with its grounds — picks demo-sme (北京数帆智汇科技有限公司) in the select and reads its suggestion with the
grounds and every reason, finds it again by name (a search never lists an SME without grounds, whose page is a
404), and reaches a suggestion from an application; the same page in English; demo-office opens 逾期付款 from its
menu and from the funnel, and on a phone.

demo-sme gets no line because it has an overdue loan — its only blocking reason: it has traded on the platform
for about seven months, past the six a line needs.  The page shows that reason, which is what a bank would see
today.  The demo's one SME with a line, demo-sme-veteran, is checked by tests/seeds/test_credit_demo.py."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, col, select

from finance import service as fs
from qianfan.models import FinanceApplication, Organisation, OrgKind, User

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


def _readable_and_others(live: Any) -> tuple[set[int], set[int]]:
    """The SMEs demo-bank may read now (授权查询), and every other SME of the demo."""
    with Session(live.engine) as s:
        bank_id = _org_of(live, "demo-bank")
        readable = {r.sme_id for r in fs.readable_smes(s, bank_id, live.clock.now())}
        smes = set(s.exec(select(Organisation.id).where(Organisation.kind == OrgKind.SME)).all())
    return readable, {i for i in smes if i is not None} - readable


def test_the_bank_reads_a_suggested_line(portal: Any, live: Any) -> None:
    sme_id = _org_of(live, "demo-sme")
    window = portal("demo-bank")
    page = window.page
    page.locator("#mainnav").get_by_role("link", name="建议授信").click()
    page.wait_for_load_state()
    assert page.url.endswith("/bank/credit-suggestions")
    text = window.text()
    assert "建议授信额度" in text and "申请过本行融资的企业" in text
    assert "仅显示向本行申请过融资或授权本行查询的企业" in text and "在平台有交易" not in text
    assert f"{DEMO_SME} · 该企业于" in text and "向本行申请融资" in text  # each SME with its grounds, dated
    window.shot("suggestions")

    page.locator("#f-sme_id").select_option(str(sme_id))
    page.get_by_role("button", name="查看建议授信").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/bank/credit-suggestions/{sme_id}")
    text = window.text()
    assert DEMO_SME in text and "暂不建议授信" in text and "阻止授信的原因" in text
    assert "查询依据 该企业于" in text and "向本行申请融资" in page.locator("#grounds").inner_text()
    blocking = page.locator("section[aria-labelledby=sec-block]").inner_text()
    assert "当前逾期贷款" in blocking and "入驻平台" not in blocking  # overdue now; long enough on the platform
    assert "loans_overdue_now" in text
    assert "近12个月交易记录" in text and "额度怎么算" in text and "¥30,000,000.00" in text
    assert "核定或拒绝额度须由本行管理员或审批人操作" in text
    assert page.locator("main form[method=post]").count() == 0  # a reviewer reads; an approver decides
    assert page.locator("main table tbody tr").count() >= 1  # every blocking reason: here the overdue loan
    window.shot("suggestion-demo-sme")

    window.goto("/bank/credit-suggestions")
    page.locator("#f-q").fill("数帆")
    page.get_by_role("button", name="查找").click()
    page.wait_for_load_state()
    assert "q=" in page.url and "查找结果" in window.text()
    page.get_by_role("link", name=DEMO_SME).first.click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/bank/credit-suggestions/{sme_id}")

    # a search matching every SME of the demo lists only those this bank may read, and any other is a 404
    readable, others = _readable_and_others(live)
    window.goto("/bank/credit-suggestions?q=北京")
    links = page.locator("section[aria-labelledby=sec-found] li a")
    listed = {int(h.rsplit("/", 1)[1]) for h in links.evaluate_all("as => as.map(a => a.getAttribute('href'))")}
    assert sme_id in listed and listed <= readable and others
    response = page.goto(f"/bank/credit-suggestions/{min(others)}")
    assert response is not None and response.status == 404 and "找不到该页面或记录" in window.text()

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
    assert "Grounds The SME applied to this bank on" in text
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
