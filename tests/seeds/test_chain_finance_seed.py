"""The data-chain finance demo (seeds/chain_finance.py) on a fresh demo load, per backend (the ``demo_db`` fixture of
conftest): the products, contract loans and revolving lines in every state, the buyer's payments splitting into the
waterfall, no contract financed beyond its unpaid value, the veteran's line and drawdowns, the ledger, the audit
chain and the 48-hour clock; a second load creates nothing."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session, col, select

from finance import service as fs
from finance.service.applications import financed_on_contract
from qianfan.actors import Actor
from qianfan.audit import verify_chain
from qianfan.clock import ensure_utc, to_local
from qianfan.models import (
    ApplicationStatus,
    AuditEvent,
    BankProduct,
    Contract,
    ContractPayment,
    ContractStatus,
    FinanceApplication,
    FinanceKind,
    Loan,
    LoanStatus,
    Organisation,
    OrgKind,
    SmeLineStatus,
    User,
)
from seeds.chain_finance import BOB, CLOSE_NOTE, DECLINE_NOTE, ICBC, REJECTION, ZGCB, idempotency_key
from tests.seeds.conftest import DemoDb


def _actor(s: Session, username: str) -> Actor:
    user = s.exec(select(User).where(User.username == username)).one()
    org = s.get(Organisation, user.organisation_id)
    assert org is not None
    return Actor.for_user(user, org)


def _org_id(s: Session, name: str) -> int:
    org_id = s.exec(select(Organisation.id).where(Organisation.name == name)).one()
    assert org_id is not None
    return org_id


def _today(demo_db: DemoDb) -> date:
    return to_local(demo_db.clock.now()).date()


def _app(s: Session, key: str) -> FinanceApplication:
    return s.exec(select(FinanceApplication).where(FinanceApplication.idempotency_key == idempotency_key(key))).one()


def _loan(s: Session, app: FinanceApplication) -> Loan:
    return s.exec(select(Loan).where(Loan.application_id == app.id)).one()


def _paid(s: Session, contract_id: int) -> int:
    return int(
        s.exec(
            select(sa.func.coalesce(sa.func.sum(ContractPayment.amount_fen), 0)).where(
                ContractPayment.contract_id == contract_id
            )
        ).one()
    )


def test_products_of_every_kind(demo_db: DemoDb) -> None:
    with Session(demo_db.engine) as s:
        products = s.exec(select(BankProduct)).all()
        by_bank: dict[int, dict[FinanceKind, list[BankProduct]]] = {}
        for p in products:
            by_bank.setdefault(p.bank_id, {}).setdefault(p.kind, []).append(p)
        banks = s.exec(select(Organisation.id).where(Organisation.kind == OrgKind.BANK)).all()
        assert len(banks) == 7 and set(by_bank) == set(banks)
        for bank_id in banks:
            assert bank_id is not None
            kinds = by_bank[bank_id]
            (receivable,) = kinds[FinanceKind.RECEIVABLE]
            (contract,) = kinds[FinanceKind.CONTRACT]  # one each: applying needs no product id
            assert contract.code.startswith("DD-") and "订单融资" in contract.name and contract.is_active
            assert Decimal(contract.advance_rate) == Decimal("0.8")
            assert (contract.arrangement_fee_bp, contract.fee_min_fen, contract.fee_max_fen) == (
                receivable.arrangement_fee_bp,
                receivable.fee_min_fen,
                receivable.fee_max_fen,
            )
            assert contract.spreads_bp == receivable.spreads_bp
        (line_product,) = by_bank[_org_id(s, ZGCB)][FinanceKind.CREDIT_LINE]
        assert line_product.code == "LX-ZGCB" and "循环额度" in line_product.name
        assert sum(len(k.get(FinanceKind.CREDIT_LINE, [])) for k in by_bank.values()) == 1


def test_contract_loans_in_every_state(demo_db: DemoDb) -> None:
    with Session(demo_db.engine) as s:
        apps = s.exec(select(FinanceApplication).where(FinanceApplication.kind == FinanceKind.CONTRACT)).all()
        assert Counter(a.status for a in apps) == {
            ApplicationStatus.RISK_CHECKED: 1,
            ApplicationStatus.APPROVED: 1,
            ApplicationStatus.DISBURSED: 2,
            ApplicationStatus.REJECTED: 2,
        }
        loans = s.exec(select(Loan).where(Loan.kind == FinanceKind.CONTRACT)).all()
        assert sorted(ln.status for ln in loans) == sorted([LoanStatus.REPAID, LoanStatus.REPAID_PARTIALLY])
        for loan in loans:
            assert loan.contract_id is not None and loan.part_id is None
        zgcb = _org_id(s, ZGCB)
        veteran = _actor(s, "demo-sme-veteran").organisation_id
        firm = _actor(s, "demo-firm").organisation_id
        assert {a.bank_id for a in apps} == {zgcb}

        # waiting in demo-bank's queue, risk-checked; the report says which links of the chain it used
        queued = _app(s, "cf-vet-exchange")
        queue = fs.review_queue(s, _actor(s, "demo-bank"), demo_db.clock.now())
        assert queued.id in {i.application.id for i in queue if i.application.kind == FinanceKind.CONTRACT}
        assert queued.status == ApplicationStatus.RISK_CHECKED and queued.applicant_id == veteran
        assert queued.core_enterprise_id == firm and queued.active_contract_id == queued.contract_id
        assert queued.risk_report is not None and queued.risk_report["passed"]
        used = {link["code"] for link in queued.risk_report["links"] if link["used"]}
        assert {"intent_order", "contract", "buyer_payments", "sme_delivery"} <= used

        # approved by demo-bank, waiting for the veteran's signature
        approved = _app(s, "cf-vet-bridge")
        assert approved.status == ApplicationStatus.APPROVED and approved.applicant_id == veteran
        assert approved.offer_terms is not None and approved.core_enterprise_id == _org_id(
            s, "北京通衢路桥建设集团有限公司"
        )

        # rejected by the bank, with its reason; and demo-sme refused by the risk check for its overdue loan
        rejected = _app(s, "cf-archive")
        assert rejected.status == ApplicationStatus.REJECTED and rejected.decision_reason == REJECTION
        assert rejected.risk_report is not None and rejected.risk_report["passed"]
        refused = _app(s, "cf-credit")
        assert refused.applicant_id == _actor(s, "demo-sme").organisation_id
        assert refused.status == ApplicationStatus.REJECTED and refused.risk_report is not None
        assert [f["code"] for f in refused.risk_report["hard_failures"]] == ["sme_loan_overdue"]
        for app in (rejected, refused):  # a finished application frees its contract
            assert app.active_contract_id is None


def test_the_buyers_payments_split_into_the_waterfall(demo_db: DemoDb) -> None:
    with Session(demo_db.engine) as s:
        firm = _actor(s, "demo-firm").organisation_id
        # partly repaid: the buyer's advance went to the principal first
        running = _loan(s, _app(s, "cf-lifeline"))
        assert running.status == LoanStatus.REPAID_PARTIALLY and running.due_date > _today(demo_db)
        assert running.contract_id is not None
        contract = s.get(Contract, running.contract_id)
        assert contract is not None and contract.buyer_id == firm and contract.status == ContractStatus.ACTIVE
        (advance,) = s.exec(select(ContractPayment).where(ContractPayment.contract_id == contract.id)).all()
        assert advance.loan_id == running.id and advance.allocation is not None
        assert advance.allocation["principal_fen"] == advance.amount_fen > 0
        assert advance.allocation["excess_fen"] == 0
        assert running.principal_outstanding_fen == running.principal_fen - advance.amount_fen > 0

        # repaid in full by the advance and the balance; the rest of the balance reached the SME: completed
        repaid = _loan(s, _app(s, "cf-vet-licence"))
        assert repaid.status == LoanStatus.REPAID and repaid.principal_outstanding_fen == 0
        assert repaid.repaid_at is not None and to_local(repaid.repaid_at).date() <= repaid.due_date
        done = s.get(Contract, repaid.contract_id)
        assert done is not None and done.buyer_id == firm and done.status == ContractStatus.COMPLETED
        payments = s.exec(
            select(ContractPayment).where(ContractPayment.contract_id == done.id).order_by(col(ContractPayment.id))
        ).all()
        assert len(payments) == 2 and all(p.loan_id == repaid.id and p.allocation for p in payments)
        allocations = [p.allocation for p in payments if p.allocation is not None]
        assert sum(a["principal_fen"] for a in allocations) == repaid.principal_fen
        # repaid before its due date: interest to the day (the rest of the term's accrual written back)
        earned = sum(a["interest_fen"] for a in allocations)
        assert 0 < earned < repaid.interest_fen
        bal = fs.balances(s, loan_id=repaid.id)
        assert -bal[f"interest_income:{repaid.bank_id}"] == earned and bal[f"interest_receivable:{repaid.id}"] == 0
        for p, a in zip(payments, allocations, strict=True):
            assert sum(a[k] for k in ("principal_fen", "interest_fen", "fees_fen", "penalty_fen", "excess_fen")) == (
                p.amount_fen
            )
        assert allocations[-1]["excess_fen"] > 0 and _paid(s, done.id or 0) == done.amount_fen


def test_no_contract_financed_beyond_its_unpaid_value(demo_db: DemoDb) -> None:
    with Session(demo_db.engine) as s:
        contracts = s.exec(select(Contract)).all()
        assert len(contracts) == 14 + 6
        financed_any = 0
        for c in contracts:
            assert c.id is not None
            financed = financed_on_contract(s, c.id)
            assert 0 <= financed <= c.amount_fen - _paid(s, c.id), c.title
            financed_any += financed > 0
        assert financed_any >= 3
        # one live contract finance at a time: the live ones hold their contract
        live = s.exec(select(FinanceApplication).where(col(FinanceApplication.active_contract_id).is_not(None))).all()
        assert len({a.active_contract_id for a in live}) == len(live) == 3


def test_the_veterans_line_and_drawdowns(demo_db: DemoDb) -> None:
    today = _today(demo_db)
    with Session(demo_db.engine) as s:
        veteran = _actor(s, "demo-sme-veteran")
        lines = {x.bank_id: x for x in fs.lines_of(s, veteran)}
        assert len(lines) == 2
        line, closed = lines[_org_id(s, ZGCB)], lines[_org_id(s, ICBC)]
        assert line.bank_id == _org_id(s, ZGCB) and line.status == SmeLineStatus.ACTIVE
        # 中国工商银行北京分行 set a line 60 days ago, never drawn, and closed it 12 days ago
        assert closed.bank_id == _org_id(s, ICBC) and closed.status == SmeLineStatus.CLOSED
        assert closed.limit_fen == closed.used_fen == 0 and closed.note == CLOSE_NOTE
        assert closed.suggested_fen > 0 and to_local(closed.decided_at).date() == today - timedelta(days=12)
        assert line.limit_fen == line.suggested_fen == 134_000_000  # ¥1,340,000.00, the amount suggested
        assert line.suggestion["amount_fen"] == 134_000_000 and line.suggestion["has_line"] is True
        decided_by = s.get(User, line.decided_by_user_id)
        assert decided_by is not None and decided_by.username == "demo-bank-admin"
        assert to_local(line.decided_at).date() == today - timedelta(days=45)
        assert line.expires_on is not None and line.expires_on > today

        drawdowns = s.exec(select(Loan).where(Loan.kind == FinanceKind.CREDIT_LINE).order_by(col(Loan.id))).all()
        assert [(d.status, d.sme_line_id) for d in drawdowns] == [
            (LoanStatus.REPAID, line.id),
            (LoanStatus.DISBURSED, line.id),
        ]
        repaid, running = drawdowns
        assert repaid.repaid_at is not None and to_local(repaid.repaid_at).date() <= repaid.due_date
        assert running.due_date > today and running.principal_outstanding_fen == 60_000_000
        # what is drawn is what the drawdowns still owe in principal
        assert line.used_fen == sum(d.principal_outstanding_fen for d in drawdowns) == 60_000_000
        assert {
            a.status for a in s.exec(select(FinanceApplication).where(FinanceApplication.sme_line_id == line.id))
        } == {ApplicationStatus.DISBURSED}

        # the 12-month record behind the line is seeds.settlement's; the drawdown repaid on time now adds to it
        suggestion = fs.suggest_credit_line(s, _actor(s, "demo-bank"), veteran.organisation_id, today)
        record = suggestion.record
        assert (record.settled_deals, record.settled_fen, record.deliveries) == (4, 385_000_000, 5)
        assert (record.loans_repaid_on_time, record.loans_overdue_now, record.defaults) == (1, 0, 0)


def test_a_bank_declined_another_smes_line(demo_db: DemoDb) -> None:
    with Session(demo_db.engine) as s:
        sme = _actor(s, "demo-sme")
        (line,) = fs.lines_of(s, sme)
        assert line.bank_id == _org_id(s, BOB) and line.status == SmeLineStatus.DECLINED
        assert line.limit_fen == line.used_fen == line.suggested_fen == 0 and line.note == DECLINE_NOTE
        assert line.suggestion["has_line"] is False
        decided_by = s.get(User, line.decided_by_user_id)
        assert decided_by is not None and decided_by.username == "demo-bob"
        assert {ln.id for ln in fs.lines_of(s, _actor(s, "demo-bob"))} == {line.id}


def test_ledger_audit_and_the_48_hour_clock(demo_db: DemoDb) -> None:
    with Session(demo_db.engine) as s:
        assert fs.unbalanced_postings(s) == []
        assert verify_chain(s).ok
        actions = set(
            s.exec(
                select(AuditEvent.action).where(
                    col(AuditEvent.entity_type) == "sme_credit_line",
                )
            ).all()
        )
        assert {"active", "declined"} <= actions
        apps = s.exec(select(FinanceApplication).where(FinanceApplication.kind != FinanceKind.RECEIVABLE)).all()
        now = demo_db.clock.now()
        for app in apps:
            if app.status == ApplicationStatus.DISBURSED:
                loan = _loan(s, app)
                assert ensure_utc(loan.disbursed_at) - ensure_utc(app.submitted_at) < timedelta(hours=48)
            elif app.status in (ApplicationStatus.RISK_CHECKED, ApplicationStatus.APPROVED):
                assert now - ensure_utc(app.submitted_at) < timedelta(hours=48) and app.sla_status != "breached"


def test_second_load_creates_nothing_in_chain_finance(demo_db: DemoDb) -> None:
    first, second = demo_db.first, demo_db.second
    chain = {k: n for k, n in first.created.items() if k.startswith("chain_")}
    assert chain == {
        "chain_products": 8,
        "chain_offers": 6,
        "chain_orders": 6,
        "chain_intent_orders": 6,
        "chain_contracts": 6,
        "chain_payment_plans": 6,
        "chain_acceptances": 1,
        "chain_contract_payments": 7,
        "chain_applications": 8,
        "chain_loans": 4,
        "chain_repayments": 1,
        "chain_sme_lines": 4,  # decisions: accepted, declined, and a line set then closed
    }
    assert not [k for k in second.created if k.startswith("chain_")]
    for kind, n in chain.items():
        assert second.present[kind] == n, kind
    assert not first.skipped and not second.skipped
