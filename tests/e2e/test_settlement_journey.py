"""Contract settlement in a real browser, as demo-firm on the seeded demo data: the contracts list → one contract's
settlement → set a 30/60/10 payment plan → accept the delivery (confirmed in a dialog) → record a payment → import a
small bank statement CSV (one row matched, one duplicate, one unknown reference) → its report → the contract shows
what is paid.  Then demo-sme, the supplier, reads the same settlement, and the contract page on a phone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, select

from qianfan.clock import to_local
from qianfan.models import Contract, ContractPayment, ContractStatus, Organisation, User
from seeds import catalogue as cat

pytestmark = pytest.mark.browser


def _open_contract(live: Any) -> int:
    """A contract demo-firm buys from demo-sme that is still active, not accepted and unpaid."""
    with Session(live.engine) as s:
        firm = s.exec(select(Organisation).where(Organisation.name == cat.DEMO_FIRM)).one()
        sme_user = s.exec(select(User).where(User.username == "demo-sme")).one()
        paid = select(ContractPayment.contract_id)
        contract_id = s.exec(
            select(Contract.id)
            .where(
                Contract.buyer_id == firm.id,
                Contract.supplier_id == sme_user.organisation_id,
                Contract.status == ContractStatus.ACTIVE,
                col(Contract.accepted_on).is_(None),
                col(Contract.id).not_in(paid),
            )
            .order_by(col(Contract.id))
        ).first()
    assert contract_id is not None, "the demo data has an open contract between demo-firm and demo-sme"
    return contract_id


def test_firm_settles_a_contract_and_the_sme_sees_it(portal: Any, live: Any, tmp_path: Path) -> None:
    ident = _open_contract(live)
    today = to_local(live.clock.now()).date()
    window = portal("demo-firm")
    page = window.page
    window.goto("/firm")
    page.locator('#mainnav a[href="/firm/contracts"]').click()
    page.wait_for_url("**/firm/contracts")
    assert "合同结算" in window.text() and f"HT-{ident}" in window.text()
    window.shot("contracts")

    page.locator(f'a[href="/firm/contracts/{ident}"]').first.click()
    page.wait_for_url(f"**/firm/contracts/{ident}")
    assert "尚未验收" in window.text() and "付款计划" in window.text()
    window.shot("contract")

    # -- the plan: 30 % advance in a week, 60 % 30 days after acceptance, 10 % retention for a year
    page.locator("#f-advance_percent").fill("30")
    page.locator("#f-advance_due_on").fill(today.isoformat())
    page.locator("#f-acceptance_percent").fill("60")
    page.locator("#f-acceptance_days").fill("30")
    page.locator("#f-final_percent").fill("")
    page.locator("#f-retention_percent").fill("10")
    page.locator("#f-retention_days").fill("365")
    page.get_by_role("button", name="保存付款计划").click()
    page.wait_for_load_state()
    assert "付款计划已保存" in window.flash() and "验收后 30 天" in window.text()

    # -- accept the delivery today (a dialog asks first; the portal answers yes)
    page.locator("#f-accepted_on").fill(today.isoformat())
    page.get_by_role("button", name="确认验收").click()
    page.wait_for_load_state()
    assert "已于" in window.flash() and "60日规则" in window.flash()
    window.shot("accepted")

    # -- record a payment by hand
    with Session(live.engine) as s:
        contract = s.get(Contract, ident)
        assert contract is not None
        amount = contract.amount_fen
    advance = amount * 30 // 100
    page.locator("#f-amount").fill(f"{advance // 100}.{advance % 100:02d}")
    page.locator("#f-paid_on").fill(today.isoformat())
    page.locator("#f-reference").fill(f"WEB-PAY-{ident}")
    page.get_by_role("button", name="登记付款").click()
    page.wait_for_load_state()
    assert "已登记付款" in window.flash()
    window.shot("payment-recorded")

    # -- a bank statement: one row matched, the same row again (duplicate), one unknown reference
    csv_file = tmp_path / "招商银行对账单.csv"
    day = today.isoformat()
    csv_file.write_text(
        "交易日期,贷方金额,摘要,付款人,交易流水号\n"
        f"{day},12345.67,验收款 HT-{ident},{cat.DEMO_FIRM},CMB-{ident}-1\n"
        f"{day},12345.67,验收款 HT-{ident},{cat.DEMO_FIRM},CMB-{ident}-1\n"
        f"{day},800.00,HT-987654321 服务费,{cat.DEMO_FIRM},CMB-{ident}-2\n",
        encoding="utf-8-sig",
    )
    page.locator("#f-file").set_input_files(str(csv_file))
    page.get_by_role("button", name="导入并对账").click()
    page.wait_for_url("**/firm/statements/*")
    assert "1 笔已匹配入账，1 笔重复，1 笔无法识别" in window.flash()
    text = window.text()
    assert "已匹配" in text and "重复" in text and "无法识别的合同" in text and "¥12,345.67" in text
    window.shot("statement-report")

    page.locator(f'a[href="/firm/contracts/{ident}"]').first.click()
    page.wait_for_url(f"**/firm/contracts/{ident}")
    paid = advance + 1_234_567
    paid_text = f"¥{paid // 100:,}.{paid % 100:02d}"
    assert paid_text in window.text() and "对账单导入" in window.text()
    window.shot("contract-paid")
    with Session(live.engine) as s:
        amounts = s.exec(select(ContractPayment.amount_fen).where(ContractPayment.contract_id == ident)).all()
    assert sorted(amounts) == sorted([advance, 1_234_567])

    # -- the supplier reads the same settlement, read-only
    sme = portal("demo-sme")
    sme.goto("/sme/deals")
    sme.page.locator(f'a[href="/sme/contracts/{ident}"]').first.click()
    sme.page.wait_for_url(f"**/sme/contracts/{ident}")
    assert paid_text in sme.text() and "买方已于" in sme.text() and "未逾期" in sme.text()
    assert sme.page.locator("main form").count() == 0
    sme.shot("sme-contract")

    # -- the contract page on a phone
    phone = portal("demo-firm", mobile=True)
    phone.goto(f"/firm/contracts/{ident}")
    overflow = phone.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the contract page is {overflow}px wider than the phone's screen"
    phone.shot("contract-phone")
