"""Data-chain finance use cases: a contract loan from signed to financed to repaid by the buyer's payments (the
waterfall on the ledger), the contract's headroom shared with its receivables, and a revolving line a bank sets
from its suggestion with a drawdown repaid by the SME — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import Session, select

from finance import ledger, pricing
from finance import service as fs
from finance.credit_suggestion import TradeRecord
from finance.service import credit_suggestion as cs
from finance.service.common import financed_on_contract
from qianfan import audit
from qianfan.errors import Conflict, InvalidInput, NotFound, PermissionDenied, RuleViolation
from qianfan.models import (
    ApplicationStatus,
    Contract,
    ContractPayment,
    ContractStatus,
    FinanceApplication,
    FinanceKind,
    Loan,
    LoanStatus,
    ReceivablePart,
    SmeCreditLine,
    SmeLineStatus,
)
from tests.finance_service.conftest import World, exposure_used, get, grant_access, line_used
from tests.finance_service.test_settlement_service import SIGNED, contract, later, plan_30_70


def products(world: World) -> tuple[int, int]:
    """The bank's contract-finance product (80 % of the unpaid value) and its revolving-line product."""
    contract_product = fs.create_product(
        world.uow(),
        world.bank_admin,
        {"kind": "contract", "code": "DD1", "name": "千帆订单融资", "advance_rate": "0.8", "arrangement_fee_bp": 10,
         "fee_min": "100.00", "fee_max": "50000.00", "spreads_bp": {"A": 50, "B": 100, "C": 180, "D": 300}},
    )  # fmt: skip
    line_product = fs.create_product(
        world.uow(),
        world.bank_admin,
        {"kind": "credit_line", "code": "LX1", "name": "千帆流水贷", "advance_rate": "1",
         "spreads_bp": {"A": 80, "B": 130, "C": 200, "D": 350}},
    )  # fmt: skip
    assert contract_product.id is not None and line_product.id is not None
    return contract_product.id, line_product.id


def apply_on(world: World, contract_id: int, amount: str, **kw: Any) -> FinanceApplication:
    return fs.apply_for_contract_finance(
        world.uow(), world.sme, {"contract_id": contract_id, "bank_id": world.bank_id, "amount": amount, **kw}
    )


def through_to_loan(world: World, app: FinanceApplication) -> Loan:
    assert app.id is not None
    checked = fs.run_risk_check(world.uow(), app.id)
    assert checked.status == ApplicationStatus.RISK_CHECKED, checked.risk_report
    approved = fs.approve(world.uow(), world.reviewer, app.id)
    assert approved.offer_terms is not None
    fs.sign_offer(world.uow(), world.sme, app.id, fs.terms_hash(approved.offer_terms))
    return fs.disburse(world.uow(), world.reviewer, app.id, f"disb-{app.id}")


def test_contract_loan_signed_financed_repaid_by_the_buyer_and_settled(world: World) -> None:
    products(world)
    c = contract(world)  # 1,000,000.00, delivery in 20 days
    assert c.id is not None
    plan_30_70(world, c.id)
    quote = fs.contract_quote(world.uow(), world.sme, c.id, world.bank_id)
    assert quote.max_amount_fen == 80_000_000 and quote.binding_constraint == "advance_rate"
    assert quote.unpaid_fen == 100_000_000 and quote.financed_fen == 0

    app = apply_on(world, c.id, "700000.00", idempotency_key="k1")
    assert app.kind == FinanceKind.CONTRACT and app.active_contract_id == c.id and app.due_on is not None
    assert apply_on(world, c.id, "700000.00", idempotency_key="k1").id == app.id  # a retry is the same one
    with pytest.raises(Conflict):  # at most once at a time
        apply_on(world, c.id, "10000.00")
    assert line_used(world) == 70_000_000 and exposure_used(world) == 70_000_000

    loan = through_to_loan(world, app)
    assert loan.kind == FinanceKind.CONTRACT and loan.contract_id == c.id and loan.part_id is None
    assert loan.core_enterprise_id == world.core.organisation_id
    report = get(world, FinanceApplication, app.id).risk_report
    assert report is not None
    used = {link["code"] for link in report["links"] if link["used"]}
    assert {"intent_order", "contract"} <= used  # the report says which links of the chain it used
    assert get(world, FinanceApplication, app.id).offer_terms["repayment_order"] == list(  # type: ignore[index]
        ledger.CONTRACT_ALLOCATION_ORDER
    )

    # the advance is paid by the buyer: it repays principal first
    fs.record_payment(world.uow(), world.core, c.id, "PAY-ADV", 30_000_000, later(world, 3))
    loan = get(world, Loan, loan.id)
    assert loan.principal_outstanding_fen == 40_000_000 and loan.status == LoanStatus.REPAID_PARTIALLY
    pay = _payment(world, c.id, "PAY-ADV")
    assert pay.loan_id == loan.id and pay.allocation is not None
    assert pay.allocation["principal_fen"] == 30_000_000 and pay.allocation["excess_fen"] == 0
    assert line_used(world) == 40_000_000  # repaid principal frees the buyer's line and the SME's exposure

    fs.accept_delivery(world.uow(), world.core, c.id, later(world, 2))
    with pytest.raises(Conflict):  # still financed: no second contract loan
        apply_on(world, c.id, "10000.00")
    fs.record_payment(world.uow(), world.core, c.id, "PAY-ACC", 70_000_000, world.clock.now().date())
    loan = get(world, Loan, loan.id)
    assert loan.status == LoanStatus.REPAID and loan.principal_outstanding_fen == 0
    pay = _payment(world, c.id, "PAY-ACC")
    assert pay.allocation is not None
    # repaid before its due date: interest to the day on what was outstanding — 700,000.00 for the 3 days to the
    # advance, 400,000.00 for the 2 days after — and the rest of the accrued interest is written back
    rate, basis = Decimal(loan.annual_rate), pricing.DayCount(loan.day_count)
    start = loan.start_date
    earned = pricing.interest_fen(70_000_000, rate, start, start + timedelta(days=3), basis) + pricing.interest_fen(
        40_000_000, rate, start + timedelta(days=3), start + timedelta(days=5), basis
    )
    assert 0 < earned < loan.interest_fen
    assert pay.allocation["principal_fen"] == 40_000_000
    assert pay.allocation["interest_fen"] == earned and pay.allocation["fees_fen"] == 0
    owed_after_advance = 40_000_000 + earned  # the fee was taken from the disbursement
    assert pay.allocation["excess_fen"] == 70_000_000 - owed_after_advance  # the rest reaches the SME
    assert get(world, FinanceApplication, app.id).active_contract_id is None
    assert get(world, Contract, c.id).status == ContractStatus.COMPLETED
    assert line_used(world) == 0 and exposure_used(world) == 0
    with Session(world.engine) as s:
        assert fs.unbalanced_postings(s) == []
        assert audit.verify_chain(s).ok
        owed = fs.balances(s, loan_id=loan.id)
    # the loan's receivables are all repaid; the SME's settlement account got its share of the last payment
    assert all(v == 0 for k, v in owed.items() if k.split(":")[0] in {"loan_principal", "interest_receivable"})
    assert -owed[f"interest_income:{world.bank_id}"] == earned  # the bank earned interest to the day
    sme_account = f"{ledger.AccountKind.SME_SETTLEMENT.value}:{world.sme.organisation_id}"
    # credited: the disbursement net of the fee, and the rest of the last payment
    assert -owed[sme_account] == loan.principal_fen - loan.fee_fen + pay.allocation["excess_fen"]


def _payment(world: World, contract_id: int, ref: str) -> ContractPayment:
    with Session(world.engine) as s:
        row = s.exec(
            select(ContractPayment).where(ContractPayment.contract_id == contract_id, ContractPayment.ref == ref)
        ).one()
    return row


def test_contract_loan_and_receivable_loans_share_the_unpaid_value(world: World) -> None:
    products(world)
    c = contract(world)
    assert c.id is not None
    plan_30_70(world, c.id)
    fs.record_payment(world.uow(), world.core, c.id, "PAY-1", 30_000_000, SIGNED)  # unpaid now 700,000.00
    rec = fs.register_receivable(
        world.uow(),
        world.sme,
        {"debtor_id": world.core.organisation_id, "contract_id": c.id, "title": "验收款", "face": "600000.00",
         "issue_date": SIGNED, "due_date": world.due(60), "invoice_numbers": ["INVCH1"]},
    )  # fmt: skip
    fs.confirm_receivable(world.uow(), world.core, {"receivable_id": rec.id, "irrevocable_undertaking": True})
    with Session(world.engine) as s:
        part = s.exec(select(ReceivablePart).where(ReceivablePart.receivable_id == rec.id)).one()
    fs.apply_for_finance(world.uow(), world.sme, {"part_id": part.id, "bank_id": world.bank_id, "amount": "500000.00"})
    with Session(world.engine) as s:
        assert financed_on_contract(s, c.id) == 50_000_000
    with pytest.raises(RuleViolation) as err:  # 700,000 unpaid − 500,000 financed leaves 200,000
        apply_on(world, c.id, "200000.01")
    assert err.value.detail["binding_constraint"] == "contract_headroom"
    app = apply_on(world, c.id, "200000.00")
    assert app.requested_fen == 20_000_000
    with Session(world.engine) as s:
        assert financed_on_contract(s, c.id) == 70_000_000  # exactly the unpaid value, never more


def test_contract_finance_refusals(world: World) -> None:
    products(world)
    c = contract(world)
    assert c.id is not None
    with pytest.raises(NotFound):  # only the supplier applies
        fs.apply_for_contract_finance(
            world.uow(), world.supplier, {"contract_id": c.id, "bank_id": world.bank_id, "amount": "1.00"}
        )
    with pytest.raises(RuleViolation) as err:  # over unpaid value × 80 %
        apply_on(world, c.id, "800000.01")
    assert "合同未付金额×融资比例" in err.value.message_zh and "unpaid contract value" in err.value.message_en
    fs.accept_delivery(world.uow(), world.core, c.id, SIGNED)
    with Session(world.engine) as s:
        assert get(world, Contract, c.id).status == ContractStatus.DELIVERED
        s.close()
    with pytest.raises(RuleViolation):  # delivered: contract finance is before delivery
        apply_on(world, c.id, "1000.00")


def test_a_declined_application_frees_the_contract(world: World) -> None:
    products(world)
    c = contract(world)
    assert c.id is not None
    app = apply_on(world, c.id, "100000.00")
    assert app.id is not None
    fs.run_risk_check(world.uow(), app.id)
    fs.reject(world.uow(), world.reviewer, app.id, "资料不全")
    assert get(world, FinanceApplication, app.id).active_contract_id is None
    assert line_used(world) == 0
    again = apply_on(world, c.id, "100000.00")
    assert again.id != app.id


# --------------------------------------------------------------------------------------------- revolving lines


def test_no_line_without_a_suggestion(world: World) -> None:
    products(world)
    with pytest.raises(NotFound):  # the SME neither applied to the bank nor granted it access (授权查询)
        fs.decide_line(world.uow(), world.bank_admin, world.sme.organisation_id, {"accept": False})
    grant_access(world)
    with pytest.raises(RuleViolation):  # the world's SME is new: the platform suggests no line
        fs.decide_line(world.uow(), world.bank_admin, world.sme.organisation_id, {"accept": True})
    row = fs.decide_line(world.uow(), world.bank_admin, world.sme.organisation_id, {"accept": False, "note": "新户"})
    assert row.status == SmeLineStatus.DECLINED and row.limit_fen == 0 and row.suggestion["has_line"] is False


def drawdown_due(world: World, days: int = 90) -> date:
    return world.clock.now().date() + timedelta(days=days)


@pytest.fixture
def established(monkeypatch: pytest.MonkeyPatch, world: World) -> int:
    """The world's SME with an established 12-month record (the pure rule then suggests a line): the record is
    what the database query would gather for an SME like demo-sme-veteran, so the suggestion itself is real."""

    def record(session: Session, sme_id: int, today: date) -> TradeRecord:
        return TradeRecord(
            as_of=today, months_on_platform=14, settled_fen=385_000_000, settled_deals=5,
            largest_deal_fen=120_000_000, distinct_buyers=3, deliveries=5, on_time_delivery_share=Decimal(1),
        )  # fmt: skip

    monkeypatch.setattr(cs, "trade_record", record)
    grant_access(world)
    with Session(world.engine) as s:
        suggestion = fs.suggest_credit_line(s, world.bank_admin, world.sme.organisation_id, world.clock.now().date())
    assert suggestion.has_line
    return suggestion.amount_fen


def test_a_bank_accepts_the_suggested_line_and_the_sme_draws_and_repays(world: World, established: int) -> None:
    products(world)
    sme_id = world.sme.organisation_id
    with pytest.raises(RuleViolation):  # never above the suggestion
        fs.decide_line(
            world.uow(), world.bank_admin, sme_id, {"accept": True, "limit": str(Decimal(established) / 100 + 1)}
        )
    with pytest.raises(PermissionDenied):  # a reviewer does not set lines
        fs.decide_line(world.uow(), world.reviewer, sme_id, {"accept": True})
    line = fs.decide_line(world.uow(), world.bank_admin, sme_id, {"accept": True, "note": "按建议授信"})
    assert line.status == SmeLineStatus.ACTIVE and line.limit_fen == established == line.suggested_fen
    assert line.expires_on is not None and line.suggestion["reasons"]
    with Session(world.engine) as s:
        assert [x.id for x in fs.lines_of(s, world.sme)] == [line.id]
        assert fs.lines_of(s, world.bank2_admin) == []

    draw = {"line_id": line.id, "amount": "500000.00", "due_on": drawdown_due(world)}
    with pytest.raises(RuleViolation) as err:
        fs.apply_for_drawdown(world.uow(), world.sme, {**draw, "amount": str(Decimal(established) / 100 + 1)})
    assert err.value.detail["binding_constraint"] == "sme_line"
    with pytest.raises(NotFound):  # another SME's line
        fs.apply_for_drawdown(world.uow(), world.supplier, draw)
    app = fs.apply_for_drawdown(world.uow(), world.sme, draw)
    assert app.kind == FinanceKind.CREDIT_LINE and app.core_enterprise_id is None
    assert get(world, SmeCreditLine, line.id).used_fen == 50_000_000
    loan = through_to_loan(world, app)
    assert loan.kind == FinanceKind.CREDIT_LINE and loan.sme_line_id == line.id and loan.due_date == draw["due_on"]
    with pytest.raises(RuleViolation):  # something is drawn: the line cannot be closed
        fs.decide_line(world.uow(), world.bank_admin, sme_id, {"accept": False})

    later(world, 30)  # repaid after 30 of its 90 days: interest for those 30 days, not the whole term
    today = world.clock.now().date()
    with Session(world.engine) as s:
        payoff = fs.loan_outstanding(s, loan.id, as_of=today)  # type: ignore[arg-type]
        contractual = fs.loan_outstanding(s, loan.id)  # type: ignore[arg-type]
    thirty = pricing.interest_fen(
        loan.principal_fen, Decimal(loan.annual_rate), loan.start_date, today, pricing.DayCount(loan.day_count)
    )
    assert payoff.interest_fen == thirty < contractual.interest_fen == loan.interest_fen
    with pytest.raises(InvalidInput):  # more than settles the loan today is refused, not kept
        fs.repay_loan(world.uow(), world.sme, loan.id, Decimal(contractual.total_fen) / 100, "repay-0")  # type: ignore[arg-type]
    fs.repay_loan(world.uow(), world.sme, loan.id, Decimal(payoff.total_fen) / 100, "repay-1")  # type: ignore[arg-type]
    assert get(world, Loan, loan.id).status == LoanStatus.REPAID
    assert get(world, SmeCreditLine, line.id).used_fen == 0  # revolving: repaid principal is available again
    assert exposure_used(world) == 0
    closed = fs.decide_line(world.uow(), world.bank_admin, sme_id, {"accept": False, "note": "到期不续"})
    assert closed.status == SmeLineStatus.CLOSED and closed.limit_fen == 0
    with pytest.raises(RuleViolation):
        fs.apply_for_drawdown(world.uow(), world.sme, draw)
    with Session(world.engine) as s:
        assert fs.unbalanced_postings(s) == [] and audit.verify_chain(s).ok
