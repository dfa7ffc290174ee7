"""The payment → settlement part of the demo (issue 8, part 1): payment plans, acceptance, payments, a bank statement.

Loaded by :func:`seeds.demo.load_demo` after :func:`seeds.finance.load_finance`, through the use cases of
:mod:`finance.service.settlement` (and, for the deals signed months ago, :mod:`qianfan.services.marketplace`) only,
acting as the buyers' demo accounts (demo-firm, demo-yandu, demo-tongqu, demo-rongtai …).

- **The programme contracts signed today** (by :mod:`seeds.demo`): 数字政府大数据平台项目 (demo-firm) and
  工业云PaaS平台项目 (demo-yandu) get an agreed plan 30 % advance / 60 % on acceptance / 10 % retention; the others
  keep the statutory default (no plan set: the whole amount due 60 days after acceptance).  Nothing is paid on
  them: each has a receivable for its advance in the finance demo, which a payment of the advance would contradict.
- **Deals signed months ago** (:data:`DEALS`): a contract accepted 80 days ago and not paid, completed, accepted and
  partly paid cannot be made from a contract signed today, because acceptance and payments may not precede the
  signing nor follow today.  So each such deal is played from the start — the SME lists its offer, the buyer posts
  its order and proposes the intent order, the SME signs — then the plan, the acceptance and the payments, every step
  in a unit of work whose :class:`~qianfan.clock.FrozenClock` is set to the step's moment (days before the seed's
  moment), all steps of all deals in time order.  One of them is completed by a bank statement the buyer imports:
  a row matched to it, a row it had recorded by hand already (a duplicate) and a transfer with no contract reference.

Idempotent: offers and orders are found by owner and title, intent orders by order and offer, contracts by intent
order, a plan by its instalment rows, an acceptance by ``accepted_on``, payments by ``(contract, ref)`` and the
statement by importer and file name; so a second load creates nothing.  Deterministic: fixed data, dates relative
to the clock's today.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from finance import settlement as rules
from finance.service import settlement as st
from qianfan.clock import Clock, FrozenClock, to_local
from qianfan.errors import DomainError
from qianfan.models import (
    BankStatementImport,
    Contract,
    ContractInstalment,
    ContractPayment,
    ContractStatus,
    IntentOrder,
    IntentStatus,
    Offer,
    Order,
    Organisation,
    OrgKind,
    User,
    UserRole,
)
from qianfan.money import yuan_to_fen
from qianfan.services import marketplace as mkt
from qianfan.services.actors import Actor
from qianfan.uow import UnitOfWork
from seeds import catalogue as cat

if TYPE_CHECKING:
    from seeds.demo import DemoReport

log = logging.getLogger(__name__)

SME = cat.DEMO_SME  # 北京数帆智汇科技有限公司 (demo-sme)
JINGHUA = cat.DEMO_FIRM  # demo-firm
YANDU = "北京燕都智造集团股份有限公司"  # demo-yandu
RONGTAI = "北京融泰金融控股集团有限公司"  # demo-rongtai
GONGQING = "北京工擎云科技有限公司"
CHENGGUAN = "北京澄观数据技术有限公司"

#: The file name of the demo's bank statement (the import is found again by importer and file name).
STATEMENT_FILE = "京华数智-银行流水-对账单.csv"

K = rules.InstalmentKind


def _standard_terms(contract_on: date) -> list[rules.PlanTerm]:
    """30 % advance 7 days after signing, 60 % 30 days after acceptance, 10 % retention one year after it."""
    return [
        rules.PlanTerm(K.ADVANCE, 30, due_on=contract_on + timedelta(days=7)),
        rules.PlanTerm(K.ACCEPTANCE, 60, days_after_acceptance=30),
        rules.PlanTerm(K.RETENTION, 10, days_after_acceptance=365),
    ]


def _advance_and_final(contract_on: date) -> list[rules.PlanTerm]:
    """30 % advance 10 days after signing, the 70 % balance 30 days after acceptance."""
    return [
        rules.PlanTerm(K.ADVANCE, 30, due_on=contract_on + timedelta(days=10)),
        rules.PlanTerm(K.FINAL, 70, days_after_acceptance=30),
    ]


#: Plans agreed on the programme contracts signed today: (buyer, contract title, plan).
PROGRAMME_PLANS: tuple[tuple[str, str, Any], ...] = (
    (JINGHUA, "数字政府大数据平台项目", _standard_terms),
    (YANDU, "工业云PaaS平台项目", _standard_terms),
)


@dataclass(frozen=True, slots=True)
class Deal:
    """A deal signed months ago and what happened to it; days are offsets from the seed's moment (negative)."""

    key: str
    buyer: str
    supplier: str
    order: dict[str, Any]  # OrderInput without the district (the buyer's) and deadline (posting day + 30)
    offer: dict[str, Any]  # OfferInput
    amount: str
    listed: int  # the SME lists the offer
    posted: int  # the buyer posts the order
    proposed: int  # the buyer proposes the intent order (and signs it)
    signed: int  # the SME signs: the contract
    delivery_due: int
    plan: Any = None  # terms from the contract date; None: the statutory default
    accepted: int | None = None
    # (day, ref, amount) recorded by hand; a ref "txn:<bank transaction id>" is the key a statement row of that
    # transaction has (finance.settlement.StatementRow.key), so the statement reports the row as a duplicate
    payments: tuple[tuple[int, str, str], ...] = ()
    statement: tuple[int, tuple[tuple[int, str, str, str], ...]] | None = None  # (day, rows: day, txn, amount, memo)
    terms: str = ""


DEALS: tuple[Deal, ...] = (
    # completed: the advance recorded by hand, the balance in two transfers — one recorded by hand, the other
    # found in the bank statement, which completes the contract
    Deal(
        "hotline",
        JINGHUA,
        SME,
        {
            "kind": "procurement",
            "title": "12345热线诉求智能分析平台（一期）",
            "description": "建设12345热线工单文本挖掘与热点诉求识别平台，按街乡、行业、诉求类型多维分析，"
            "输出月度分析报告与未诉先办预警，数据在政务外网内处理。",
            "category": "ict.egov",
            "budget": "1800000.00",
            "required_qualifications": [],
        },
        {
            "kind": "service",
            "title": "数帆热线工单智能分析平台（私有化部署）",
            "description": "面向区级12345热线的工单语义分析平台：自动分类、热点聚类、反复诉求识别与预警看板，"
            "私有化部署于政务外网，支持与接诉即办系统对接。",
            "category": "ict.egov",
            "price_min": "800000.00",
            "price_max": "2000000.00",
            "capacity": 6,
            "qualifications": [],
            "keywords": ["12345", "接诉即办", "工单分析", "热点诉求"],
        },
        "1650000.00",
        listed=-240,
        posted=-230,
        proposed=-215,
        signed=-214,
        delivery_due=-100,
        plan=_advance_and_final,
        accepted=-100,
        payments=((-206, "JH20260001-ADV", "495000.00"), (-78, "txn:JH2026A0781", "500000.00")),
        statement=(
            -74,
            (
                (-78, "JH2026A0781", "500000.00", "12345热线平台尾款（第一笔） HT-{id}"),
                (-76, "JH2026A0762", "36000.00", "会议服务费"),
                (-75, "JH2026A0753", "655000.00", "12345热线平台尾款 HT-{id}"),
            ),
        ),
        terms="合同签订后10日内支付30%预付款，验收合格后30日内支付余款。",
    ),
    # late: accepted 80 days ago under the statutory default plan, nothing paid (20 days past the 60-day limit)
    Deal(
        "datalake",
        RONGTAI,
        CHENGGUAN,
        {
            "kind": "procurement",
            "title": "集团客户数据湖建设（一期）",
            "description": "建设集团级客户数据湖，汇聚银行、证券、保险子公司客户数据，统一客户视图并支持监管报送。",
            "category": "ict.bigdata",
            "budget": "1500000.00",
            "required_qualifications": [],
        },
        {
            "kind": "service",
            "title": "澄观金融客户数据湖实施服务",
            "description": "面向金融集团的客户数据湖实施：多源数据接入、客户主数据归并、标签体系与数据服务接口，"
            "三个月交付一期。",
            "category": "ict.bigdata",
            "price_min": "900000.00",
            "price_max": "2600000.00",
            "capacity": 4,
            "qualifications": [],
            "keywords": ["数据湖", "客户主数据", "金融数据"],
        },
        "1280000.00",
        listed=-200,
        posted=-190,
        proposed=-175,
        signed=-174,
        delivery_due=-85,
        accepted=-80,
        terms="合同未约定付款期限，验收合格后按法定期限支付。",
    ),
    # accepted 20 days ago, the advance paid, the acceptance payment due in 10 days: delivered and partly paid
    Deal(
        "gateway",
        YANDU,
        GONGQING,
        {
            "kind": "procurement",
            "title": "总装车间设备数据采集网关部署",
            "description": "为总装车间120台数控设备部署数据采集网关，接入工业云平台，实现设备状态与能耗实时监测。",
            "category": "ict.iiot",
            "budget": "1100000.00",
            "required_qualifications": [],
        },
        {
            "kind": "service",
            "title": "工擎设备数据采集网关部署服务",
            "description": "数控设备、PLC与仪表的协议适配和边缘采集网关部署，数据直连工业云平台，"
            "两周完成一个车间的接入与调试。",
            "category": "ict.iiot",
            "price_min": "300000.00",
            "price_max": "1500000.00",
            "capacity": 10,
            "qualifications": [],
            "keywords": ["数据采集", "边缘网关", "设备联网"],
        },
        "980000.00",
        listed=-130,
        posted=-120,
        proposed=-100,
        signed=-99,
        delivery_due=-25,
        plan=_standard_terms,
        accepted=-20,
        payments=((-95, "YD2026GW-ADV", "294000.00"),),
        terms="预付30%，验收合格后30日内支付60%，质保金10%于验收一年后支付。",
    ),
)


@dataclass(slots=True)
class _Settlement:
    engine: Engine
    moment: datetime
    report: DemoReport
    orgs: dict[str, tuple[int, OrgKind]] = field(default_factory=dict)
    users: dict[str, tuple[int, int, UserRole]] = field(default_factory=dict)  # username -> (user, org, role)
    contracts: dict[str, int] = field(default_factory=dict)  # deal key -> contract id
    broken: set[str] = field(default_factory=set)

    def uow(self, days: int = 0) -> UnitOfWork:
        return UnitOfWork(self.engine, FrozenClock(self.moment + timedelta(days=days)))

    def day(self, days: int) -> date:
        return to_local(self.moment + timedelta(days=days)).date()

    def read(self) -> None:
        with Session(self.engine) as s:
            self.orgs = {
                name: (oid, OrgKind(kind))
                for name, oid, kind in s.execute(
                    sa.select(col(Organisation.name), col(Organisation.id), col(Organisation.kind))
                )
            }
            self.users = {
                name: (uid, oid, UserRole(role))
                for name, uid, oid, role in s.execute(
                    sa.select(col(User.username), col(User.id), col(User.organisation_id), col(User.role))
                )
            }

    def actor(self, name: str) -> Actor:
        """The organisation's admin demo user if it has one, else the organisation itself."""
        org_id, kind = self.orgs[name]
        for u in cat.DEMO_USER_SPECS:
            if u.organisation == name and u.role == "admin" and u.username in self.users:
                user_id, _, role = self.users[u.username]
                return Actor(org_id, kind, user_id, role)
        return Actor(org_id, kind)

    def _contract(self, buyer: str, title: str) -> Contract | None:
        with Session(self.engine) as s:
            return s.exec(
                select(Contract)
                .where(Contract.buyer_id == self.orgs[buyer][0], Contract.title == title)
                .order_by(col(Contract.id))
            ).first()

    def _has_plan(self, contract_id: int) -> bool:
        with Session(self.engine) as s:
            return (
                s.exec(select(ContractInstalment.id).where(ContractInstalment.contract_id == contract_id)).first()
                is not None
            )

    def _set_plan(self, days: int, buyer: str, contract: Contract, terms: Any) -> None:
        r = self.report
        assert contract.id is not None
        if self._has_plan(contract.id):
            r.count(r.present, "payment_plans")
            return
        on = st.contract_on(contract)
        st.set_payment_plan(self.uow(days), self.actor(buyer), contract.id, percentages=terms(on))
        r.count(r.created, "payment_plans")

    # -- the programme contracts signed today
    def programme(self) -> None:
        for buyer, title, terms in PROGRAMME_PLANS:
            contract = self._contract(buyer, title)
            if contract is None or contract.status != ContractStatus.ACTIVE:
                log.warning("demo seed: no active contract %s of %s for a payment plan", title, buyer)
                self.report.count(self.report.skipped, "settlement")
                continue
            try:
                self._set_plan(0, buyer, contract, terms)
            except DomainError as exc:  # the demo database was used since the last seed
                log.warning("demo seed: payment plan of %s skipped: %s", title, exc)
                self.report.count(self.report.skipped, "settlement")

    # -- the deals signed months ago, every step in time order
    def deals(self) -> None:
        steps: list[tuple[int, int, int, Deal, str, tuple[Any, ...]]] = []
        for i, deal in enumerate(DEALS):
            todo: list[tuple[int, str, tuple[Any, ...]]] = [
                (deal.listed, "offer", ()),
                (deal.posted, "order", ()),
                (deal.proposed, "propose", ()),
                (deal.signed, "sign", ()),
            ]
            if deal.plan is not None:
                todo.append((deal.signed, "plan", ()))
            if deal.accepted is not None:
                todo.append((deal.accepted, "accept", ()))
            todo += [(at, "pay", (ref, amount)) for at, ref, amount in deal.payments]
            if deal.statement is not None:
                todo.append((deal.statement[0], "statement", ()))
            steps += [(at, i, j, deal, action, args) for j, (at, action, args) in enumerate(todo)]
        steps.sort(key=lambda e: (e[0], e[1], e[2]))
        for at, _, _, deal, action, args in steps:
            if deal.key in self.broken:
                continue
            try:
                getattr(self, f"_do_{action}")(at, deal, *args)
            except DomainError as exc:  # the demo database was used since the last seed
                log.warning("demo seed: settlement deal %s, step %s skipped: %s", deal.key, action, exc)
                self.report.count(self.report.skipped, "settlement")
                self.broken.add(deal.key)

    def _offer_id(self, deal: Deal) -> int | None:
        with Session(self.engine) as s:
            return s.exec(
                select(Offer.id).where(
                    Offer.organisation_id == self.orgs[deal.supplier][0], Offer.title == deal.offer["title"]
                )
            ).first()

    def _order_id(self, deal: Deal) -> int | None:
        with Session(self.engine) as s:
            return s.exec(
                select(Order.id).where(
                    Order.organisation_id == self.orgs[deal.buyer][0], Order.title == deal.order["title"]
                )
            ).first()

    def _intent(self, deal: Deal) -> IntentOrder | None:
        order_id, offer_id = self._order_id(deal), self._offer_id(deal)
        with Session(self.engine) as s:
            return s.exec(
                select(IntentOrder)
                .where(IntentOrder.order_id == order_id, IntentOrder.offer_id == offer_id)
                .order_by(col(IntentOrder.id))
            ).first()

    def _deal_contract(self, deal: Deal) -> Contract:
        intent = self._intent(deal)
        assert intent is not None and intent.id is not None
        with Session(self.engine) as s:
            contract = mkt.contract_for(s, intent.id)
        assert contract is not None and contract.id is not None
        self.contracts[deal.key] = contract.id
        return contract

    def _do_offer(self, at: int, deal: Deal) -> None:
        r = self.report
        if self._offer_id(deal) is not None:
            r.count(r.present, "offers")
            return
        mkt.list_offer(self.uow(at), self.actor(deal.supplier), deal.offer)
        r.count(r.created, "offers")

    def _do_order(self, at: int, deal: Deal) -> None:
        r = self.report
        if self._order_id(deal) is not None:
            r.count(r.present, "orders")
            return
        with Session(self.engine) as s:
            buyer = s.get(Organisation, self.orgs[deal.buyer][0])
            assert buyer is not None
        data = {**deal.order, "district": buyer.district, "deadline": self.day(at + 30)}
        mkt.post_order(self.uow(at), self.actor(deal.buyer), data)
        r.count(r.created, "orders")

    def _do_propose(self, at: int, deal: Deal) -> None:
        r = self.report
        if self._intent(deal) is not None:
            r.count(r.present, "intent_orders")
            return
        data = {
            "order_id": self._order_id(deal),
            "offer_id": self._offer_id(deal),
            "amount": deal.amount,
            "delivery_due": self.day(deal.delivery_due),
            "terms": deal.terms,
        }
        mkt.propose_intent_order(self.uow(at), self.actor(deal.buyer), data)
        r.count(r.created, "intent_orders")

    def _do_sign(self, at: int, deal: Deal) -> None:
        r = self.report
        intent = self._intent(deal)
        assert intent is not None and intent.id is not None
        if intent.status == IntentStatus.SIGNED:
            r.count(r.present, "contracts")
        else:
            mkt.sign_intent_order(self.uow(at), self.actor(deal.supplier), intent.id)
            r.count(r.created, "contracts")
        self._deal_contract(deal)

    def _do_plan(self, at: int, deal: Deal) -> None:
        self._set_plan(at, deal.buyer, self._deal_contract(deal), deal.plan)

    def _do_accept(self, at: int, deal: Deal) -> None:
        r = self.report
        contract = self._deal_contract(deal)
        assert contract.id is not None
        if contract.accepted_on is not None:
            r.count(r.present, "acceptances")
            return
        st.accept_delivery(self.uow(at), self.actor(deal.buyer), contract.id, self.day(at))
        r.count(r.created, "acceptances")

    def _do_pay(self, at: int, deal: Deal, ref: str, amount: str) -> None:
        r = self.report
        contract_id = self.contracts[deal.key]
        with Session(self.engine) as s:
            done = s.exec(
                select(ContractPayment.id).where(ContractPayment.contract_id == contract_id, ContractPayment.ref == ref)
            ).first()
        if done is not None:
            r.count(r.present, "contract_payments")
            return
        st.record_payment(self.uow(at), self.actor(deal.buyer), contract_id, ref, yuan_to_fen(amount), self.day(at))
        r.count(r.created, "contract_payments")

    def _do_statement(self, at: int, deal: Deal) -> None:
        r = self.report
        assert deal.statement is not None
        buyer_id = self.orgs[deal.buyer][0]
        with Session(self.engine) as s:
            done = s.exec(
                select(BankStatementImport.id).where(
                    BankStatementImport.importer_id == buyer_id, BankStatementImport.file_name == STATEMENT_FILE
                )
            ).first()
        if done is not None:
            r.count(r.present, "statement_imports")
            return
        reference = st.contract_reference(self.contracts[deal.key])
        rows = [
            {
                "交易日期": self.day(day).isoformat(),
                "交易流水号": txn,
                "金额": amount,
                "付款人": deal.buyer,
                "摘要": memo.replace("HT-{id}", reference),
            }
            for day, txn, amount, memo in deal.statement[1]
        ]
        st.import_statement(self.uow(at), self.actor(deal.buyer), STATEMENT_FILE, rows)
        r.count(r.created, "statement_imports")


def load_settlement(engine: Engine, clock: Clock, report: DemoReport) -> None:
    """Load the settlement demo (after the marketplace and finance demos: it needs their organisations, users and
    the programme contracts)."""
    loader = _Settlement(engine, clock.now(), report)
    loader.read()
    loader.deals()
    loader.programme()
