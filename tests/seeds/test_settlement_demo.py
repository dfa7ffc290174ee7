"""The settlement demo (seeds/settlement.py) on a fresh demo load, per backend (the ``demo_db`` fixture of conftest):
a contract in every settlement state, the late buyer, the bank statement's report, idempotency, the audit chain."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import Session, col, select

from finance import settlement as rules
from finance.service import settlement as st
from qianfan.actors import Actor
from qianfan.audit import verify_chain
from qianfan.clock import to_local
from qianfan.models import (
    AuditEvent,
    BankStatementImport,
    Contract,
    ContractStatus,
    Organisation,
    StatementRowStatus,
    User,
)
from seeds.settlement import STATEMENT_FILE
from tests.seeds.conftest import DemoDb

LABELS = ("payment_plans", "acceptances", "contract_payments", "statement_imports")


def _actor(s: Session, username: str) -> Actor:
    user = s.exec(select(User).where(User.username == username)).one()
    org = s.get(Organisation, user.organisation_id)
    assert org is not None
    return Actor.for_user(user, org)


def _today(demo_db: DemoDb) -> date:
    return to_local(demo_db.clock.now()).date()


def _view(s: Session, demo_db: DemoDb, title: str, buyer_username: str) -> st.Settlement:
    """The contract's settlement as its buyer's demo account sees it (checking that the account is the buyer)."""
    buyer = _actor(s, buyer_username)
    contract = s.exec(select(Contract).where(Contract.title == title)).one()
    assert contract.buyer_id == buyer.organisation_id
    assert contract.id is not None
    return st.contract_settlement(s, buyer, contract.id, _today(demo_db))


def _kinds(view: st.Settlement) -> list[rules.InstalmentKind]:
    return [i.kind for i in view.plan.instalments]


def test_agreed_plans_on_the_programme_contracts(demo_db: DemoDb) -> None:
    K = rules.InstalmentKind
    with Session(demo_db.engine) as s:
        for title, username in (("数字政府大数据平台项目", "demo-firm"), ("工业云PaaS平台项目", "demo-yandu")):
            view = _view(s, demo_db, title, username)
            assert view.plan_agreed and view.contract.status == ContractStatus.ACTIVE
            assert _kinds(view) == [K.ADVANCE, K.ACCEPTANCE, K.RETENTION]
            amounts = [i.amount_fen for i in view.plan.instalments]
            assert amounts == [view.contract.amount_fen * p // 100 for p in (30, 60, 10)]
            assert view.paid_fen == 0 and not view.lateness.is_late


def test_default_plan_when_none_is_set(demo_db: DemoDb) -> None:
    with Session(demo_db.engine) as s:
        view = _view(s, demo_db, "智慧道路巡检系统项目", "demo-tongqu")
        assert not view.plan_agreed and view.contract.status == ContractStatus.ACTIVE
        (only,) = view.plan.instalments
        assert only.kind == rules.InstalmentKind.FINAL and only.amount_fen == view.contract.amount_fen
        assert only.days_after_acceptance == rules.MAX_PAYMENT_DAYS_AFTER_ACCEPTANCE


def test_completed_contract(demo_db: DemoDb) -> None:
    today = _today(demo_db)
    with Session(demo_db.engine) as s:
        view = _view(s, demo_db, "12345热线诉求智能分析平台（一期）", "demo-firm")
        assert view.contract.status == ContractStatus.COMPLETED
        assert view.plan_agreed and view.contract.accepted_on == today - timedelta(days=100)
        assert view.paid_fen == view.contract.amount_fen == 165_000_000
        assert view.outstanding_fen == 0 and view.surplus_fen == 0 and not view.lateness.is_late
        assert {p.source.value for p in view.payments} == {"manual", "statement"}
        # signed months ago, before its acceptance and its payments
        signed = to_local(view.contract.signed_at).date()
        assert signed == today - timedelta(days=214)
        assert all(signed <= p.paid_on <= today for p in view.payments)
        # the supplier (the demo SME) sees it too
        sme_view = st.contract_settlement(s, _actor(s, "demo-sme"), view.contract.id or 0, today)
        assert sme_view.paid_fen == view.paid_fen


def test_accepted_and_partly_paid_contract(demo_db: DemoDb) -> None:
    today = _today(demo_db)
    with Session(demo_db.engine) as s:
        view = _view(s, demo_db, "总装车间设备数据采集网关部署", "demo-yandu")
        assert view.contract.status == ContractStatus.DELIVERED
        assert view.contract.accepted_on == today - timedelta(days=20)
        assert view.paid_fen == 29_400_000 and 0 < view.outstanding_fen < view.contract.amount_fen
        assert not view.lateness.is_late and view.overdue_fen == 0
        statuses = [i.status for i in view.reconciliation.instalments]
        assert statuses[0] == rules.InstalmentStatus.PAID
        assert rules.InstalmentStatus.PAID not in statuses[1:]


def test_late_buyer(demo_db: DemoDb) -> None:
    today = _today(demo_db)
    with Session(demo_db.engine) as s:
        view = _view(s, demo_db, "集团客户数据湖建设（一期）", "demo-rongtai")
        assert view.contract.status == ContractStatus.DELIVERED and not view.plan_agreed
        assert view.contract.accepted_on == today - timedelta(days=80)
        assert view.paid_fen == 0 and view.lateness.is_late and view.lateness.days_late == 20
        late = st.late_buyers(s, _actor(s, "demo-office"), today)
        assert [(b.reference, b.days_late, b.late_fen) for b in late] == [
            (view.reference, 20, view.contract.amount_fen)
        ]


def test_every_state_present(demo_db: DemoDb) -> None:
    with Session(demo_db.engine) as s:
        statuses = set(s.exec(select(Contract.status)).all())
    assert {ContractStatus.ACTIVE, ContractStatus.DELIVERED, ContractStatus.COMPLETED} <= statuses


def test_statement_import_report(demo_db: DemoDb) -> None:
    with Session(demo_db.engine) as s:
        firm = _actor(s, "demo-firm")
        statement = s.exec(select(BankStatementImport).where(BankStatementImport.file_name == STATEMENT_FILE)).one()
        assert statement.importer_id == firm.organisation_id
        assert statement.id is not None
        result = st.statement_import(s, firm, statement.id)
        contract = s.exec(select(Contract).where(Contract.title == "12345热线诉求智能分析平台（一期）")).one()
        rows = [(r.status, r.contract_id, r.amount_fen) for r in result.rows]
        assert rows == [
            (StatementRowStatus.DUPLICATE, None, 50_000_000),
            (StatementRowStatus.UNKNOWN_REFERENCE, None, 3_600_000),
            (StatementRowStatus.MATCHED, contract.id, 65_500_000),
        ]
        assert (statement.matched_count, statement.duplicate_count, statement.unknown_count) == (1, 1, 1)
        # the office reads it too
        assert st.statement_import(s, _actor(s, "demo-office"), statement.id).statement.id == statement.id


def test_second_load_creates_nothing_in_settlement(demo_db: DemoDb) -> None:
    # the programme plans and DEALS (4 plans, 3 acceptances, 3 payments), then the veteran's VETERAN_DEALS
    # (5 plans, 5 acceptances, 9 payments: 5 advances and 4 balances)
    assert demo_db.first.created["payment_plans"] == 4 + 5
    assert demo_db.first.created["acceptances"] == 3 + 5
    assert demo_db.first.created["contract_payments"] == 3 + 9
    assert demo_db.first.created["statement_imports"] == 1
    for kind in LABELS:
        assert demo_db.second.present[kind] == demo_db.first.created[kind], kind
        assert kind not in demo_db.second.created
    assert not demo_db.second.skipped


def test_audit_chain_covers_settlement(demo_db: DemoDb) -> None:
    with Session(demo_db.engine) as s:
        report = verify_chain(s)
        actions = set(
            s.exec(
                select(AuditEvent.action).where(col(AuditEvent.entity_type).in_(["contract", "bank_statement_import"]))
            ).all()
        )
    assert report.ok and report.checked > 0
    assert {"plan_set", "accepted", "payment_recorded", "completed", "imported"} <= actions
