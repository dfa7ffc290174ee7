"""The SME's journey in a real browser, as demo-sme on the seeded demo data: home, offers (one listed by hand, a
small spreadsheet imported with one bad row), matched orders with their reasons, interest in an order,
receivables, and the finance wizard with its live maximum, up to the 48-hour timeline.  One page on a phone, one
in English."""

from __future__ import annotations

import re
from typing import Any

import pytest

pytestmark = pytest.mark.browser


IMPORT_CSV = "\r\n".join(
    [
        "类型,名称,描述,类别代码,最低价（元）,最高价（元）,年交付能力,资质代码,关键词",
        "产品,数帆数据资产目录系统,数据资产盘点与目录编制,ict.bigdata,300000,2000000,8,hnte,数据资产;数据目录",
        "服务,这一行的类别不存在,,ict.nope,100,50,1,,",
        "服务,数帆数据安全评估服务,数据分类分级与安全评估,ict.security,150000,800000,20,,数据安全;分类分级",
    ]
)


def test_offers_import_matches_and_interest(portal: Any, live: Any) -> None:
    window = portal("demo-sme")
    page = window.page
    window.goto("/sme")
    assert "上架中的产品" in window.text()
    window.shot("home")

    window.goto("/sme/offers")
    window.shot("offers")
    page.get_by_role("link", name="发布产品").first.click()
    page.locator("#f-title").fill("数帆城市运行监测平台")
    page.locator("#f-category").select_option("ict.bigdata")
    page.locator("#f-price_min").fill("600000.00")
    page.locator("#f-price_max").fill("100000.00")  # refused: below the minimum
    page.locator("#f-capacity").fill("6")
    page.locator("#f-keywords").fill("城市运行；一网统管")
    window.shot("offer-form")
    page.locator("form[action='/sme/offers'] button[type=submit]").click()
    assert "不能高于最高价" in window.text()
    assert page.locator("#f-title").input_value() == "数帆城市运行监测平台"  # nothing typed is lost
    page.locator("#f-price_max").fill("3000000.00")
    page.locator("form[action='/sme/offers'] button[type=submit]").click()
    page.wait_for_url("**/sme/offers")
    assert "已上架" in window.flash() and "数帆城市运行监测平台" in window.text()

    window.goto("/sme/offers/import")
    window.shot("import")
    page.locator("#f-file").set_input_files(
        files=[{"name": "offers.csv", "mimeType": "text/csv", "buffer": ("\ufeff" + IMPORT_CSV).encode()}]
    )
    page.get_by_role("button", name="检查并导入").click()
    page.wait_for_load_state()
    text = window.text()
    assert "有效 2 行" in text.replace("\n", "") or "有效" in text
    assert "未知的类别：ict.nope" in text
    live.settle()
    page.locator(".job[data-status=succeeded]").wait_for(timeout=45_000)  # app.js polled /jobs/{id} to the end
    assert page.locator(".job progress").get_attribute("value") in ("100", "100.0")
    page.locator(".job-message", has_text="新建 2").wait_for()
    window.shot("import-done")
    window.goto("/sme/offers")
    assert "数帆数据资产目录系统" in window.text() and "数帆数据安全评估服务" in window.text()

    live.settle()
    window.goto("/sme/matches")
    assert "为什么匹配" in window.text() and "同一类别" in window.text()
    window.shot("matches")
    page.locator("table a[href^='/sme/orders/']").first.click()
    page.wait_for_url(re.compile(r".*/sme/orders/\d+$"))
    assert "我的匹配产品" in window.text()
    page.locator("#i-note").fill("可在30天内完成部署")
    page.get_by_role("button", name="表达意向").click()
    page.wait_for_load_state()
    assert "已向买方表达意向" in window.flash()
    window.shot("order")

    window.goto("/sme/deals")
    window.shot("deals")
    window.goto("/sme/receivables")
    assert "已确权" in window.text()
    window.shot("receivables")


def test_finance_wizard_live_maximum_to_the_timeline(portal: Any, live: Any) -> None:
    window = portal("demo-sme")
    page = window.page
    window.goto("/sme/finance")
    window.shot("finance")
    page.get_by_role("link", name="申请融资").first.click()
    page.wait_for_url("**/sme/finance/apply")
    window.shot("apply-step1")
    page.get_by_role("button", name="下一步").click()
    page.wait_for_url(re.compile(r".*part=\d+$"))
    window.shot("apply-step2")
    page.get_by_role("button", name="下一步").click()
    page.wait_for_url(re.compile(r".*product=\d+.*"))
    maximum = page.locator("#quote-max").inner_text()
    assert maximum.startswith("¥") and "受限于" in page.locator("#quote-binding").inner_text()
    page.locator("#f-amount").fill("99999999")
    page.locator("#quote-message", has_text="超过可申请的最高金额").wait_for()
    assert page.locator("#quote-message").get_attribute("class") == "error"
    window.shot("apply-over-the-cap")
    page.locator("#f-amount").fill("100000.00")
    page.locator("#quote-message", has_text="范围内").wait_for()
    page.locator("#f-product").select_option(index=1)  # another bank: the maximum is asked for again
    page.locator("#quote-caps tr").nth(3).wait_for()
    window.shot("apply-step3")
    page.get_by_role("button", name="下一步：核对").click()
    page.wait_for_load_state()
    assert "第四步" in window.text() and "¥100,000.00" in window.text()
    window.shot("apply-review")
    page.get_by_role("button", name="提交申请").click()
    page.wait_for_url(re.compile(r".*/sme/finance/\d+$"))
    assert "48小时计时开始" in window.flash()
    assert "48小时时间线" in window.text() and "自动风控" in window.text()
    assert page.locator("time.countdown").count() >= 2  # the 48 hours and the current stage, live (app.js)
    assert page.locator("time.countdown").first.inner_text().startswith("剩余")
    window.shot("application-timeline")
    live.settle()  # the automatic risk check runs in the worker
    page.reload()
    assert page.locator("ol.timeline li").nth(1).get_attribute("class") in ("done", "breached")
    window.shot("application-after-risk-check")


def test_matches_on_a_phone_and_receivables_in_english(portal: Any) -> None:
    phone = portal("demo-sme", mobile=True)
    phone.goto("/sme/finance")
    assert "融资申请" in phone.text()
    phone.shot("finance-phone")
    english = portal("demo-sme", lang="en")
    english.goto("/sme/receivables")
    assert "Receivables" in english.text() and "Debtor (core enterprise)" in english.text()
    english.shot("receivables-en")
