"""Data-chain finance (issue 8) in a real browser on the seeded demo data, every step clicked on the portals:

1. A contract goes from signed to financed to paid to settled: demo-sme-veteran's contract-finance application
   that waits in demo-bank's queue (buyer demo-firm, seeds.chain_finance ``cf-vet-exchange``) — demo-bank finds it
   by product (订单融资), reads the contract and the data-chain links, approves; the SME signs; demo-bank-approver
   disburses within the 48 hours; demo-firm accepts the delivery and pays the rest of the contract in two payments,
   which repay the loan first (the SME's contract page shows the waterfall) and complete the contract; the office
   sees the contract row of its figures by product; the ledger balances.
2. A bank sets the suggested line and the SME draws on it: demo-bank-admin reads the veteran's suggestion with its
   reasons and accepts it at the suggested amount; the veteran draws ¥100,000.00 for 60 days on /sme/credit-lines;
   demo-bank approves, the SME signs, demo-bank-approver disburses; the SME repays from its application page and
   the line's used amount is back where it was.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import Session, col, select

from finance import pricing
from finance import service as fs
from qianfan.clock import to_local
from qianfan.models import (
    ApplicationStatus,
    Contract,
    ContractPayment,
    ContractStatus,
    FinanceApplication,
    FinanceKind,
    Loan,
    LoanStatus,
    SmeCreditLine,
    User,
)
from qianfan.money import fen_to_yuan

pytestmark = pytest.mark.browser

VETERAN_CONTRACT = "政务数据共享交换平台（二期）接入扩容"  # seeds.chain_finance cf-vet-exchange


def _org_of(live: Any, username: str) -> int:
    with Session(live.engine) as s:
        return s.exec(select(User.organisation_id).where(User.username == username)).one()


def _yuan(fen: int) -> str:
    """¥1,234,567.89 as the pages print an amount in fen."""
    return f"¥{fen_to_yuan(fen):,.2f}"


def _plain(fen: int) -> str:
    """1234567.89 as a form takes it."""
    return f"{fen_to_yuan(fen):.2f}"


def _fen_of(text: str) -> int:
    """The first ¥ amount in ``text``, in fen."""
    found = re.search(r"¥([\d,]+\.\d{2})", text)
    assert found, f"no amount in {text!r}"
    return int(Decimal(found.group(1).replace(",", "")) * 100)


def _waiting_contract_application(live: Any) -> tuple[FinanceApplication, Contract]:
    veteran = _org_of(live, "demo-sme-veteran")
    with Session(live.engine) as s:
        row = s.exec(
            select(FinanceApplication, Contract)
            .join(Contract, col(Contract.id) == col(FinanceApplication.contract_id))
            .where(
                FinanceApplication.applicant_id == veteran,
                FinanceApplication.kind == FinanceKind.CONTRACT,
                FinanceApplication.status == ApplicationStatus.RISK_CHECKED,
                Contract.title == VETERAN_CONTRACT,
            )
        ).one()
    return row[0], row[1]


def test_a_contract_goes_from_signed_to_financed_to_paid_to_settled(portal: Any, live: Any) -> None:
    app, contract = _waiting_contract_application(live)
    assert app.bank_id == _org_of(live, "demo-bank") and contract.buyer_id == _org_of(live, "demo-firm")
    today = to_local(live.clock.now()).date()

    # -- demo-bank finds it in its queue by product and opens it: the contract and the data-chain links
    bank = portal("demo-bank")
    page = bank.page
    bank.goto("/bank")
    product = page.locator("#f-kind")
    product.select_option("contract")
    assert product.locator("option:checked").inner_text().startswith("订单融资")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_load_state()
    assert "kind=contract" in page.url
    rows = page.locator("main table tbody tr")
    assert rows.count() >= 1
    for i in range(rows.count()):
        assert "订单融资" in rows.nth(i).inner_text()  # only contract finance is listed
    bank.shot("bank-queue-contract-finance")
    page.get_by_role("link", name=f"申请 #{app.id}", exact=True).click()
    page.wait_for_url(f"**/bank/applications/{app.id}")
    text = bank.text()
    assert "融资的合同" in text and VETERAN_CONTRACT in text and "付款计划" in text
    assert "无（凭平台上的合同与数据链融资，由买方付款优先还款）" in text
    links = page.locator("#chain-links")
    assert "签署的意向订单" in links.inner_text()
    assert app.risk_report is not None
    report_links = app.risk_report["links"]
    assert page.locator("#chain-links tbody tr").count() == len(report_links)
    assert links.inner_text().count("✓") == sum(1 for x in report_links if x["used"]) >= 1
    assert links.inner_text().count("✗") == sum(1 for x in report_links if not x["used"])
    bank.shot("bank-contract-application")

    page.get_by_role("button", name="开始审核").click()
    page.wait_for_load_state()
    page.locator("#f-amount").fill(_plain(app.requested_fen))
    page.locator("#f-note").fill("买方京华数智付款记录良好，合同预付款已到账，同意按申请金额融资。")
    page.get_by_role("button", name="批准并发出要约").click()
    page.wait_for_load_state()
    assert "已批准" in bank.flash()
    bank.shot("bank-approved")

    # -- the SME signs the offer on its application page
    sme = portal("demo-sme-veteran")
    sme.goto(f"/sme/finance/{app.id}")
    assert "订单融资" in sme.text() and f"HT-{contract.id}" in sme.text()
    sme.page.get_by_role("button", name="签署要约").click()
    sme.page.wait_for_load_state()
    assert "已签署融资要约" in sme.flash()
    sme.shot("sme-signed-offer")

    # -- the approver disburses, within the 48 hours
    approver = portal("demo-bank-approver")
    approver.goto(f"/bank/applications/{app.id}")
    approver.page.get_by_role("button", name=re.compile("^放款")).click()
    approver.page.wait_for_load_state()
    assert "已放款" in approver.flash()
    approver.shot("bank-disbursed")
    with Session(live.engine) as s:
        submitted = s.get(FinanceApplication, app.id)
        loan = s.exec(select(Loan).where(Loan.application_id == app.id)).one()
        assert submitted is not None and submitted.submitted_at is not None
        assert loan.kind == FinanceKind.CONTRACT and loan.contract_id == contract.id
        assert loan.disbursed_at - submitted.submitted_at <= timedelta(hours=48)
    # the buyer pays 10 days later: the loan owes interest for those 10 days, to the day
    live.clock.advance(timedelta(days=10))
    today = to_local(live.clock.now()).date()
    owed_interest = pricing.interest_fen(
        loan.principal_fen,
        Decimal(loan.annual_rate),
        loan.start_date,
        loan.start_date + timedelta(days=10),
        pricing.DayCount(loan.day_count),
    )
    assert 0 < owed_interest < loan.interest_fen
    sme = portal("demo-sme-veteran")  # a new day's login (web sessions last 8 hours)

    sme.goto(f"/sme/contracts/{contract.id}")
    live_finance = sme.page.locator("#live-finance").inner_text()
    assert f"#{app.id}" in live_finance and "未还本金" in live_finance
    assert _yuan(loan.principal_fen) in live_finance
    sme.shot("sme-contract-live-loan")

    # -- the buyer accepts the delivery and pays the rest of the contract in two payments
    firm = portal("demo-firm")
    fp = firm.page
    firm.goto(f"/firm/contracts/{contract.id}")
    assert VETERAN_CONTRACT in firm.text()
    if fp.locator("#f-accepted_on").count():
        fp.locator("#f-accepted_on").fill(today.isoformat())
        fp.get_by_role("button", name="确认验收").click()
        fp.wait_for_load_state()
        assert "已验收" in firm.text()
    firm.shot("firm-contract-accepted")
    with Session(live.engine) as s:
        fresh = s.get(Contract, contract.id)
        assert fresh is not None and fresh.status == ContractStatus.DELIVERED
        paid_fen = sum(
            p.amount_fen for p in s.exec(select(ContractPayment).where(ContractPayment.contract_id == contract.id))
        )
    unpaid_fen = contract.amount_fen - paid_fen
    first_fen = loan.principal_fen  # the first payment repays the principal exactly
    second_fen = unpaid_fen - first_fen  # the second the interest, and the rest reaches the SME
    assert second_fen > owed_interest > 0

    for n, amount in enumerate((first_fen, second_fen), start=1):
        fp.locator("#f-amount").fill(_plain(amount))
        fp.locator("#f-paid_on").fill(today.isoformat())
        fp.locator("#f-reference").fill(f"HT{contract.id}-E2E-PAY-{n}")
        fp.get_by_role("button", name="登记付款").click()
        fp.wait_for_load_state()
        assert f"已登记付款 ¥{_plain(amount)}" in firm.flash()
    assert "合同已结清" in firm.flash()
    assert "已付清" in firm.text()
    firm.shot("firm-contract-paid")

    with Session(live.engine) as s:
        repaid = s.get(Loan, loan.id)
        settled = s.get(Contract, contract.id)
        assert repaid is not None and repaid.status == LoanStatus.REPAID
        assert settled is not None and settled.status == ContractStatus.COMPLETED
        splits = s.exec(
            select(ContractPayment)
            .where(ContractPayment.contract_id == contract.id, col(ContractPayment.loan_id) == loan.id)
            .order_by(col(ContractPayment.id))
        ).all()
        assert [p.amount_fen for p in splits] == [first_fen, second_fen]
        assert splits[0].allocation is not None and splits[1].allocation is not None
        assert splits[0].allocation["principal_fen"] == first_fen and splits[0].allocation["excess_fen"] == 0
        assert splits[1].allocation["interest_fen"] == owed_interest
        assert splits[1].allocation["excess_fen"] == second_fen - owed_interest

    # -- the SME's contract page shows the waterfall: principal, interest, the rest to the SME
    sme.goto(f"/sme/contracts/{contract.id}")
    waterfall = sme.page.locator("#waterfall")
    heads = waterfall.locator("thead").inner_text()
    assert "本金" in heads and "利息" in heads and "付给企业" in heads
    rows = waterfall.locator("tbody tr", has_text=f"#{loan.id}")
    assert rows.count() == 2
    first_row, second_row = rows.nth(0).inner_text(), rows.nth(1).inner_text()
    assert _yuan(first_fen) in first_row
    assert _yuan(second_fen) in second_row and _yuan(owed_interest) in second_row
    assert _yuan(second_fen - owed_interest) in second_row
    assert sme.page.locator("#live-finance").count() == 0
    assert "已完成" in sme.text()
    sme.shot("sme-contract-waterfall")

    # -- the programme office's figures by product show contract finance
    office = portal("demo-office")
    office.goto("/office/turnaround")
    row = office.page.locator("#by-product-table tr[data-kind='contract']")
    cells = row.inner_text()
    assert "订单融资" in cells
    within = re.search(r"(\d+) / (\d+)", cells)
    assert within is not None and int(within.group(2)) >= 1
    assert within.group(1) == within.group(2)  # every contract loan disbursed within 48 hours
    office.shot("office-by-product")

    with Session(live.engine) as s:
        assert fs.unbalanced_postings(s) == []


def test_a_bank_sets_the_suggested_line_and_the_sme_draws_on_it(portal: Any, live: Any) -> None:
    veteran = _org_of(live, "demo-sme-veteran")
    bank_id = _org_of(live, "demo-bank")
    today = to_local(live.clock.now()).date()

    # -- demo-bank-admin reads the suggestion with its reasons and accepts it
    admin = portal("demo-bank-admin")
    page = admin.page
    admin.goto(f"/bank/credit-suggestions/{veteran}")
    text = admin.text()
    assert "衡远" in text and "每一条依据" in text and "近12个月交易记录" in text
    assert page.locator("main .page-head .badge", has_text="建议授信").count() == 1
    suggested_fen = _fen_of(page.locator("main .kpi .value").first.inner_text())
    assert suggested_fen > 0
    assert page.locator("section[aria-labelledby='sec-reasons'] tbody tr").count() >= 3  # every reason
    with Session(live.engine) as s:
        seeded = s.exec(
            select(SmeCreditLine).where(SmeCreditLine.bank_id == bank_id, SmeCreditLine.sme_id == veteran)
        ).one()  # the line the bank accepted 45 days ago (seeds.chain_finance)
    assert _yuan(seeded.limit_fen) in page.locator("#current-line").inner_text()
    # the form starts from the line in force (at most the suggestion); the bank raises it to the suggestion
    assert page.locator("#f-limit").input_value() == _plain(min(seeded.limit_fen, suggested_fen))
    admin.shot("bank-suggestion")
    page.locator("#f-limit").fill(_plain(suggested_fen))
    page.locator("#f-note").fill("按平台建议额度续核，近12个月交易与还款记录良好。")
    page.get_by_role("button", name="接受并核定额度").click()
    page.wait_for_load_state()
    assert f"已核定循环额度 {_yuan(suggested_fen)}" in admin.flash()
    current = page.locator("#current-line").inner_text()
    assert _yuan(suggested_fen) in current and "按平台建议额度续核" in current
    admin.shot("bank-line-set")
    with Session(live.engine) as s:
        line = s.exec(
            select(SmeCreditLine).where(SmeCreditLine.bank_id == bank_id, SmeCreditLine.sme_id == veteran)
        ).one()
        assert line.limit_fen == suggested_fen and line.suggested_fen == suggested_fen
        used_before = line.used_fen
    assert line.id is not None

    # -- the veteran draws ¥100,000.00 for 60 days
    sme = portal("demo-sme-veteran")
    sp = sme.page
    sme.goto("/sme/credit-lines")
    card = sp.locator(f"#line-card-{line.id}")
    card_text = card.inner_text()
    assert _yuan(suggested_fen) in card_text and _yuan(used_before) in card_text
    assert _yuan(suggested_fen - used_before) in card_text
    sme.shot("sme-credit-lines")
    due = today + timedelta(days=60)
    card.locator("#f-amount").fill("100000.00")
    card.locator("#f-due_on").fill(due.isoformat())
    card.get_by_role("button", name="申请支用").click()
    sp.wait_for_url(re.compile(r".*/sme/finance/\d+$"))
    application_id = int(sp.url.rsplit("/", 1)[1])
    assert "支用申请已提交" in sme.flash()
    assert "循环额度" in sme.text() and due.isoformat() in sme.text()
    sme.shot("sme-drawdown-submitted")
    live.settle()  # the automatic risk check

    # -- demo-bank approves, the SME signs, demo-bank-approver disburses
    bank = portal("demo-bank")
    bank.goto("/bank?kind=credit_line")
    assert f"/bank/applications/{application_id}" in bank.page.content()
    bank.goto(f"/bank/applications/{application_id}")
    assert "支用的循环额度" in bank.text() and _yuan(suggested_fen) in bank.text()
    bank.page.get_by_role("button", name="开始审核").click()
    bank.page.wait_for_load_state()
    bank.page.locator("#f-amount").fill("100000.00")
    bank.page.get_by_role("button", name="批准并发出要约").click()
    bank.page.wait_for_load_state()
    assert "已批准" in bank.flash()
    bank.shot("bank-drawdown-approved")

    sme.goto(f"/sme/finance/{application_id}")
    sp.get_by_role("button", name="签署要约").click()
    sp.wait_for_load_state()
    assert "已签署融资要约" in sme.flash()

    approver = portal("demo-bank-approver")
    approver.goto(f"/bank/applications/{application_id}")
    approver.page.get_by_role("button", name=re.compile("^放款")).click()
    approver.page.wait_for_load_state()
    assert "已放款" in approver.flash()
    approver.shot("bank-drawdown-disbursed")
    with Session(live.engine) as s:
        application = s.get(FinanceApplication, application_id)
        loan = s.exec(select(Loan).where(Loan.application_id == application_id)).one()
        line_now = s.get(SmeCreditLine, line.id)
        assert application is not None and application.submitted_at is not None
        assert loan.kind == FinanceKind.CREDIT_LINE and loan.sme_line_id == line.id
        assert loan.principal_fen == 10_000_000 and loan.due_date == due
        assert loan.disbursed_at - application.submitted_at <= timedelta(hours=48)
        assert line_now is not None and line_now.used_fen == used_before + 10_000_000

    sme.goto("/sme/credit-lines")
    assert _yuan(used_before + 10_000_000) in sp.locator(f"#line-card-{line.id}").inner_text()

    # -- the SME repays it from its application page
    live.clock.advance(timedelta(days=20))  # repaid 20 days in: interest for those 20 days, not the whole term
    sme.goto(f"/sme/finance/{application_id}")
    repay = sp.locator("section[aria-labelledby='h-repay']")
    owed = loan.principal_fen + pricing.interest_fen(
        loan.principal_fen,
        Decimal(loan.annual_rate),
        loan.start_date,
        loan.start_date + timedelta(days=20),
        pricing.DayCount(loan.day_count),
    )
    assert owed < loan.principal_fen + loan.interest_fen
    sme = portal("demo-sme-veteran")  # a new day's login (web sessions last 8 hours)
    sp = sme.page
    sme.goto(f"/sme/finance/{application_id}")
    repay = sp.locator("section[aria-labelledby='h-repay']")
    assert sp.locator("#repay-amount").input_value() == _plain(owed)
    assert _yuan(owed) in repay.inner_text()
    sme.shot("sme-drawdown-repay")
    repay.get_by_role("button", name="还款").click()
    sp.wait_for_load_state()
    assert "还款已入账" in sme.flash()
    assert sp.locator("#h-repay").count() == 0
    with Session(live.engine) as s:
        repaid = s.get(Loan, loan.id)
        assert repaid is not None and repaid.status == LoanStatus.REPAID and repaid.repaid_fen == owed

    sme.goto("/sme/credit-lines")
    card_text = sp.locator(f"#line-card-{line.id}").inner_text()
    assert _yuan(used_before) in card_text and _yuan(suggested_fen - used_before) in card_text
    sme.shot("sme-credit-lines-after")
    with Session(live.engine) as s:
        line_after = s.get(SmeCreditLine, line.id)
        assert line_after is not None and line_after.used_fen == used_before
        assert fs.unbalanced_postings(s) == []
