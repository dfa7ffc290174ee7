"""The demo seed, loaded once per backend (see conftest): contents, idempotency, validity, determinism."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session, col, select

from finance.service import review_queue, unbalanced_postings
from qianfan import taxonomy
from qianfan.actors import Actor
from qianfan.audit import verify_chain
from qianfan.clock import ensure_utc, to_local
from qianfan.creditcode import is_valid_credit_code
from qianfan.models import (
    ApplicationStatus,
    Approval,
    BankProduct,
    Contract,
    CreditLine,
    FinanceApplication,
    FinanceKind,
    IntentOrder,
    IntentStatus,
    Interest,
    InterestKind,
    LedgerPosting,
    Loan,
    LoanStatus,
    Mentor,
    Offer,
    Order,
    OrderStatus,
    Organisation,
    OrgKind,
    PartState,
    Qualification,
    Receivable,
    ReceivablePart,
    ReceivableStatus,
    ServiceNeed,
    ServicePackage,
    User,
    UserRole,
)
from qianfan.security import verify_password
from seeds.demo import DEMO_PASSWORD, DEMO_USERS
from tests.seeds.conftest import DemoDb, Snapshot

BANKS = (
    "国家开发银行北京分行",
    "中国工商银行北京分行",
    "中国农业银行北京分行",
    "中国银行北京分行",
    "中国建设银行北京分行",
    "北京银行",
    "北京中关村银行",
)
PROGRAMME_TITLES = (
    "数字政府大数据平台项目",
    "工业云PaaS平台项目",
    "工业云IaaS平台项目",
    "智慧道路巡检系统项目",
    "智慧城市养老数字化平台项目",
    "中央空调智慧能源技术节能项目",
)


def _count(session: Session, model: type, *where: object) -> int:
    stmt = sa.select(sa.func.count()).select_from(model)
    for cond in where:
        stmt = stmt.where(cond)  # type: ignore[arg-type]
    return int(session.execute(stmt).scalar_one())


def test_counts(demo_db: DemoDb) -> None:
    with Session(demo_db.engine) as s:
        assert _count(s, Organisation, col(Organisation.kind) == OrgKind.SME) >= 200
        assert _count(s, Offer) >= 2000
        assert _count(s, Organisation, col(Organisation.kind) == OrgKind.LARGE_FIRM) >= 20
        assert _count(s, Organisation, col(Organisation.kind) == OrgKind.SERVICE_PROVIDER) >= 20
        assert _count(s, Organisation, col(Organisation.kind) == OrgKind.PROGRAMME_OFFICE) == 1
        assert _count(s, ServicePackage) >= 30
        assert _count(s, Mentor) >= 20
        assert _count(s, ServiceNeed) >= 20
        assert _count(s, Order) >= 80
        kinds = set(s.exec(select(Order.kind).distinct()).all())
        assert {str(k) for k in kinds} == {"procurement", "investment", "merger"}
        # every cluster and every category has offers
        assert set(s.exec(select(Offer.category).distinct()).all()) == set(taxonomy.CATEGORY_CODES)
        clusters = s.exec(select(Organisation.cluster).where(Organisation.kind == OrgKind.SME).distinct()).all()
        assert set(clusters) == set(taxonomy.CLUSTER_CODES)
        districts = s.exec(select(Organisation.district).where(Organisation.kind == OrgKind.SME).distinct()).all()
        assert len(set(districts)) >= 12


def test_banks_guarantor_and_programme_office(demo_db: DemoDb) -> None:
    with Session(demo_db.engine) as s:
        banks = s.exec(select(Organisation).where(Organisation.kind == OrgKind.BANK)).all()
        assert {b.name for b in banks} == set(BANKS)
        guarantor = s.exec(select(Organisation).where(Organisation.name == "中关村科技融资担保有限公司")).one()
        assert guarantor.kind == OrgKind.SERVICE_PROVIDER  # lends nothing; see seeds/catalogue.py
        office = s.exec(select(Organisation).where(Organisation.kind == OrgKind.PROGRAMME_OFFICE)).one()
        assert office.credit_code.startswith("11")  # a government body's registration prefix


def test_programme_orders_and_signed_intent_orders(demo_db: DemoDb) -> None:
    with Session(demo_db.engine) as s:
        orders = {o.title: o for o in s.exec(select(Order).where(col(Order.title).in_(PROGRAMME_TITLES))).all()}
        assert set(orders) == set(PROGRAMME_TITLES)
        for order in orders.values():
            owner = s.get(Organisation, order.organisation_id)
            assert owner is not None and owner.kind == OrgKind.LARGE_FIRM
            assert order.description and order.required_qualifications
        signed = [
            title
            for title, order in orders.items()
            if s.exec(
                select(IntentOrder).where(IntentOrder.order_id == order.id, IntentOrder.status == IntentStatus.SIGNED)
            ).first()
            is not None
        ]
        assert len(signed) >= 2
        for title in signed:
            assert orders[title].status == OrderStatus.AWARDED
        contract_titles = set(s.exec(select(Contract.title)).all())
        assert set(signed) <= contract_titles
        # intent orders waiting for a signature, and interest / shortlists on the programme projects
        assert s.exec(select(IntentOrder).where(IntentOrder.status == IntentStatus.PROPOSED)).first() is not None
        ids = [o.id for o in orders.values()]
        kinds = set(s.exec(select(Interest.kind).where(col(Interest.order_id).in_(ids))).all())
        assert {InterestKind.INTEREST, InterestKind.SHORTLIST, InterestKind.REJECTION} <= kinds


def test_demo_users(demo_db: DemoDb) -> None:
    expected_roles = {
        "demo-sme": (OrgKind.SME, UserRole.ADMIN),
        "demo-firm": (OrgKind.LARGE_FIRM, UserRole.ADMIN),
        "demo-bank": (OrgKind.BANK, UserRole.REVIEWER),
        "demo-bank-approver": (OrgKind.BANK, UserRole.APPROVER),
        "demo-bank-admin": (OrgKind.BANK, UserRole.ADMIN),
        **{f"demo-{b}": (OrgKind.BANK, UserRole.ADMIN) for b in ("cdb", "icbc", "abc", "boc", "ccb", "bob")},
        **{
            f"demo-{f}": (OrgKind.LARGE_FIRM, UserRole.ADMIN)
            for f in ("yandu", "tongqu", "yikang", "jiatai", "rongtai")
        },
        "demo-office": (OrgKind.PROGRAMME_OFFICE, UserRole.ADMIN),
        "demo-provider": (OrgKind.SERVICE_PROVIDER, UserRole.ADMIN),
        "demo-sme-veteran": (OrgKind.SME, UserRole.ADMIN),  # registered by seeds.settlement, months ago
    }
    assert [u[0] for u in DEMO_USERS] == list(expected_roles)
    with Session(demo_db.engine) as s:
        users = {u.username: u for u in s.exec(select(User)).all()}
        assert set(users) == set(expected_roles)  # the demo seed creates no other accounts
        for username, (kind, role) in expected_roles.items():
            user = users[username]
            org = s.get(Organisation, user.organisation_id)
            assert org is not None
            assert (org.kind, user.role) == (kind, role)
            assert org.name == next(u[1] for u in DEMO_USERS if u[0] == username)
            assert user.password_hash.startswith("$argon2id$")
            assert verify_password(user.password_hash, DEMO_PASSWORD)
            assert not verify_password(user.password_hash, "wrong-password")
        assert s.get(Organisation, users["demo-bank"].organisation_id).name == "北京中关村银行"  # type: ignore[union-attr]
        firm_id = users["demo-firm"].organisation_id
        gov = s.exec(select(Order).where(Order.title == "数字政府大数据平台项目")).one()
        assert gov.organisation_id == firm_id
        # the demo SME has offers fitting the programme order it won, and a contract to finance
        sme_id = users["demo-sme"].organisation_id
        sme_categories = set(s.exec(select(Offer.category).where(Offer.organisation_id == sme_id)).all())
        assert {"ict.bigdata", "ict.egov"} <= sme_categories
        assert s.exec(select(Contract).where(Contract.supplier_id == sme_id)).first() is not None


def test_second_run_creates_nothing(demo_db: DemoDb) -> None:
    assert demo_db.first.created_total > 2000
    assert demo_db.second.created_total == 0, demo_db.second.created
    assert not demo_db.second.skipped
    assert demo_db.counts_after_second == demo_db.after_first.counts
    assert demo_db.second.present["offers"] == demo_db.first.created["offers"]
    for kind in ("bank_products", "credit_lines", "receivables", "finance_applications", "loans", "payments"):
        assert demo_db.second.present[kind] == demo_db.first.created[kind] > 0, kind
    assert demo_db.second.seconds < max(2.0, demo_db.first.seconds / 3)


def test_credit_codes_categories_districts_valid(demo_db: DemoDb) -> None:
    with Session(demo_db.engine) as s:
        orgs = s.exec(select(Organisation)).all()
        assert all(is_valid_credit_code(o.credit_code) for o in orgs)
        assert all(o.district in taxonomy.DISTRICTS for o in orgs)
        assert all(o.cluster is None or o.cluster in taxonomy.CLUSTER_BY_CODE for o in orgs)
        assert len({o.name for o in orgs}) == len(orgs)
        for model in (Offer, Order, ServicePackage, ServiceNeed):
            cats = set(s.exec(select(model.category).distinct()).all())
            assert cats <= set(taxonomy.CATEGORY_CODES), model
        for mentor in s.exec(select(Mentor)).all():
            assert mentor.expertise and set(mentor.expertise) <= set(taxonomy.CATEGORY_CODES)
        assert set(s.exec(select(Order.district).distinct()).all()) <= set(taxonomy.DISTRICTS)
        quals = s.exec(select(Qualification)).all()
        assert {q.code for q in quals} <= set(taxonomy.QUALIFICATION_BY_CODE)
        for offer in s.exec(select(Offer)).all():
            assert set(offer.qualifications) <= set(taxonomy.QUALIFICATION_BY_CODE)


def test_some_qualifications_expire(demo_db: DemoDb) -> None:
    today = to_local(demo_db.clock.now()).date()
    with Session(demo_db.engine) as s:
        quals = s.exec(select(Qualification)).all()
    expired = [q for q in quals if q.valid_until is not None and q.valid_until < today]
    expiring = [q for q in quals if q.valid_until is not None and today <= q.valid_until < today + timedelta(days=60)]
    assert len(expired) >= 10 and len(expiring) >= 10


def test_money_is_positive_integer_fen(demo_db: DemoDb) -> None:
    with Session(demo_db.engine) as s:
        for offer in s.exec(select(Offer)).all():
            assert isinstance(offer.price_min_fen, int) and isinstance(offer.price_max_fen, int)
            assert 0 < offer.price_min_fen <= offer.price_max_fen
            assert offer.capacity > 0
        for order in s.exec(select(Order)).all():
            assert isinstance(order.budget_fen, int) and order.budget_fen > 0
        for package in s.exec(select(ServicePackage)).all():
            assert isinstance(package.value_fen, int) and package.value_fen > 0
        for need in s.exec(select(ServiceNeed)).all():
            assert need.budget_fen is None or (isinstance(need.budget_fen, int) and need.budget_fen > 0)
        for intent in s.exec(select(IntentOrder)).all():
            assert isinstance(intent.amount_fen, int) and 0 < intent.amount_fen <= 3_000_000_000
        for contract in s.exec(select(Contract)).all():
            assert isinstance(contract.amount_fen, int) and contract.amount_fen > 0


def test_offer_texts_are_distinct_and_chinese(demo_db: DemoDb) -> None:
    with Session(demo_db.engine) as s:
        rows = s.execute(sa.select(col(Offer.title), col(Offer.description), col(Offer.keywords))).all()
    assert len({r[0] for r in rows}) == len(rows)
    assert len({r[1] for r in rows}) == len(rows)
    for title, description, keywords in rows:
        assert any("\u4e00" <= ch <= "\u9fff" for ch in title)
        assert len(description) >= 40, title
        assert keywords


def test_audit_chain_intact(demo_db: DemoDb) -> None:
    with Session(demo_db.engine) as s:
        report = verify_chain(s)
    assert report.ok and report.checked > 0


def test_two_fresh_loads_are_identical(demo_db: DemoDb, reference_demo: Snapshot) -> None:
    """This backend's fresh load and a fresh load into a database of its own produce the same rows, in order."""
    assert demo_db.after_first.offer_titles == reference_demo.offer_titles
    assert demo_db.after_first.orders == reference_demo.orders
    assert demo_db.after_first.credit_codes == reference_demo.credit_codes
    assert demo_db.after_first.counts == reference_demo.counts


# --------------------------------------------------------------------- the finance demo (seeds/finance.py)

APPLICATION_STATES = {
    ApplicationStatus.SUBMITTED,
    ApplicationStatus.RISK_CHECKED,
    ApplicationStatus.INFO_REQUESTED,
    ApplicationStatus.AWAITING_SECOND_APPROVAL,
    ApplicationStatus.APPROVED,
    ApplicationStatus.OFFER_SIGNED,
    ApplicationStatus.DISBURSED,
    ApplicationStatus.REJECTED,
}


def _user_actor(s: Session, username: str) -> Actor:
    user = s.exec(select(User).where(User.username == username)).one()
    org = s.get(Organisation, user.organisation_id)
    assert org is not None
    return Actor.for_user(user, org)


def test_finance_every_state(demo_db: DemoDb) -> None:
    with Session(demo_db.engine) as s:
        receivables = s.exec(select(Receivable)).all()
        assert {r.status for r in receivables} == set(ReceivableStatus)
        assert any(r.disputed and r.status == ReceivableStatus.CANCELLED for r in receivables)
        assert any(r.contract_id is not None for r in receivables)
        assert any(r.contract_id is None and r.invoice_numbers for r in receivables)
        apps = s.exec(select(FinanceApplication)).all()
        assert {a.status for a in apps} >= APPLICATION_STATES
        # a rejection by the bank and one by the risk check (grade D at a bank that does not finance it)
        rejected = [a for a in apps if a.status == ApplicationStatus.REJECTED]
        assert any("风险等级D" in a.decision_reason for a in rejected)
        assert any("风险等级" not in a.decision_reason for a in rejected)
        loans = s.exec(select(Loan)).all()
        assert {ln.status for ln in loans} == set(LoanStatus)
        overdue = next(ln for ln in loans if ln.status == LoanStatus.OVERDUE)
        assert overdue.penalty_accrued_fen > 0 and overdue.overdue_at is not None
        # a part transferred to a supplier SME that applies for finance on it
        transferred = s.exec(select(ReceivablePart).where(ReceivablePart.status == PartState.SPLIT)).all()
        assert transferred
        for r in receivables:
            assert 10_000_000 <= r.face_fen <= 3_000_000_000  # 100,000.00 … 30,000,000.00
        for a in apps:
            assert 10_000_000 <= a.requested_fen <= 3_000_000_000


def test_finance_banks_products_and_lines(demo_db: DemoDb) -> None:
    with Session(demo_db.engine) as s:
        banks = {b.id: b.name for b in s.exec(select(Organisation).where(Organisation.kind == OrgKind.BANK)).all()}
        every = s.exec(select(BankProduct)).all()
        products = [p for p in every if p.kind == FinanceKind.RECEIVABLE]
        assert sorted(banks[p.bank_id] for p in products) == sorted(BANKS)  # one receivables product per bank
        # and an order-finance (data-chain) product per bank; 北京中关村银行 also lends on revolving lines
        assert sorted(banks[p.bank_id] for p in every if p.kind == FinanceKind.CONTRACT) == sorted(BANKS)
        assert [banks[p.bank_id] for p in every if p.kind == FinanceKind.CREDIT_LINE] == ["北京中关村银行"]
        for p in products:
            assert Decimal("0.8") <= Decimal(p.advance_rate) <= Decimal("0.95")
            assert p.four_eyes_threshold_fen == 500_000_000
            assert p.arrangement_fee_bp > 0 and 0 < p.fee_min_fen < p.fee_max_fen
        assert sorted(p.day_count for p in products).count("ACT/365F") == 1
        zgc = next(p for p in products if banks[p.bank_id] == "北京中关村银行")
        assert zgc.spreads_bp.get("D") is not None  # it finances newcomers
        buyers = {o.organisation_id for o in s.exec(select(Order).where(col(Order.title).in_(PROGRAMME_TITLES))).all()}
        lines = s.exec(select(CreditLine)).all()
        for bank_id in banks:
            assert buyers <= {ln.core_enterprise_id for ln in lines if ln.bank_id == bank_id}


def test_finance_queue_of_the_demo_bank(demo_db: DemoDb) -> None:
    with Session(demo_db.engine) as s:
        reviewer = _user_actor(s, "demo-bank")
        approver = _user_actor(s, "demo-bank-approver")
        assert reviewer.organisation_id == approver.organisation_id
        queue = review_queue(s, reviewer, demo_db.clock.now())
        statuses = {item.application.status for item in queue}
        assert {ApplicationStatus.RISK_CHECKED, ApplicationStatus.AWAITING_SECOND_APPROVAL} <= statuses
        assert ApplicationStatus.INFO_REQUESTED in statuses
        waiting = next(
            i.application for i in queue if i.application.status == ApplicationStatus.AWAITING_SECOND_APPROVAL
        )
        assert waiting.requested_fen >= 500_000_000
        first = s.exec(select(Approval).where(Approval.application_id == waiting.id)).one()
        assert first.user_id == reviewer.user_id != approver.user_id  # demo-bank-approver may second-approve
        # near the 48-hour deadline: submitted about 40 hours ago, flagged by the sweep
        at_risk = [a for a in s.exec(select(FinanceApplication)).all() if a.sla_status == "at_risk"]
        assert len(at_risk) >= 2
        now = demo_db.clock.now()
        assert any(timedelta(hours=36) <= now - ensure_utc(a.submitted_at) < timedelta(hours=48) for a in at_risk)
        assert not [a for a in s.exec(select(FinanceApplication)).all() if a.sla_status == "breached"]


def test_finance_ledger_balanced_and_summary(demo_db: DemoDb) -> None:
    with Session(demo_db.engine) as s:
        assert unbalanced_postings(s) == []
        assert s.exec(select(LedgerPosting)).first() is not None
        assert verify_chain(s).ok
    text = demo_db.first.summary()
    assert "融资申请" in text and "finance applications" in text and "待复核1" in text
    assert demo_db.first.finance["loans"] == {"disbursed": 1, "repaid_partially": 1, "overdue": 1, "repaid": 1}
