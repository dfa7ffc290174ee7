"""The payment → settlement part of the demo (issue 8, part 1): payment plans, acceptance, payments, a bank statement.

Loaded by :func:`seeds.demo.load_demo` after :func:`seeds.finance.load_finance`, through the use cases of
:mod:`finance.service.settlement` (and, for the deals signed months ago, :mod:`market.service`) only,
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
- **An SME with an established history** (:data:`VETERAN`, demo account ``demo-sme-veteran``): registered through
  the organisation use case with a clock 430 days back (about 14 months), then :data:`VETERAN_DEALS` played the
  same way after the deals above (so their contracts keep their numbers): four contracts for three buyers
  delivered on time and paid in full within the last 12 months, and a fifth accepted a fortnight ago whose balance
  is a receivable the buyer confirmed.  No loan.  A bank's suggested credit line for it is a line, not "no line".

Idempotent: offers and orders are found by owner and title, intent orders by order and offer, contracts by intent
order, a plan by its instalment rows, an acceptance by ``accepted_on``, payments by ``(contract, ref)``, the
statement by importer and file name, the veteran by credit code or name and its receivable by contract and title;
so a second load creates nothing.  Deterministic: fixed data, dates relative to the clock's today.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from accounts import organisations as orgs
from finance import service as fs
from finance import settlement as rules
from finance.service import settlement as st
from market import service as mkt
from qianfan.actors import Actor
from qianfan.clock import Clock, FrozenClock, to_local
from qianfan.creditcode import make_credit_code
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
    Receivable,
    ReceivableStatus,
    User,
    UserRole,
)
from qianfan.money import yuan_to_fen
from qianfan.uow import UnitOfWork
from seeds import catalogue as cat
from seeds import textgen as tg
from seeds.report import DemoReport

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
    # a receivable of the supplier on the contract, confirmed by the buyer: (registered, confirmed, face, due) days
    receivable: tuple[int, int, str, int] | None = None


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


# --------------------------------------------------------------------- an SME with an established platform history

#: 北京衡远数联科技有限公司 (demo-sme-veteran): registered 430 days before the seed's moment (about 14 months), with
#: four contracts completed in the last 12 months for three buyers, all delivered on time and paid in full, and a
#: fifth accepted a fortnight ago whose balance is a receivable the buyer confirmed — so the bank's suggested credit
#: line (finance.credit_suggestion) has a record to grow a line from.  It has no loan.
VETERAN = "北京衡远数联科技有限公司"
VETERAN_REGISTERED = -430
TONGQU = "北京通衢路桥建设集团有限公司"  # demo-tongqu

VETERAN_ORG: dict[str, Any] = {
    "kind": "sme",
    "name": VETERAN,
    "name_en": "Beijing Hengyuan Shulian Technology Co., Ltd.",
    "district": "海淀园",
    "cluster": "ict",
    "description": "专注数据集成、工业物联网与智慧交通数据服务的科技型中小企业，2019年成立，现有员工86人，"
    "2025年入驻千帆平台，已为多家平台大企业完成数据平台与设备联网项目交付。",
    "qualifications": [],
}

VETERAN_USER_SPECS: tuple[cat.DemoUser, ...] = (
    cat.DemoUser(
        "demo-sme-veteran",
        VETERAN,
        "admin",
        "孙嘉明（衡远数联）",
        "老牌中小企业：近12个月4笔合同按时交付并全额回款；中关村银行已按建议核定循环额度，并有订单融资",
        "Established SME: 4 contracts delivered on time and paid in full in the last 12 months; 北京中关村银行 "
        "set its suggested revolving line, and it has contract (order) loans",
    ),
)
VETERAN_USERS: list[tuple[str, str, str, str]] = [
    (u.username, u.organisation, u.description_zh, u.description_en) for u in VETERAN_USER_SPECS
]


def _veteran_deal(
    key: str,
    buyer: str,
    order: tuple[str, str, str],  # title, description, category
    offer: tuple[str, str, str, str, str, tuple[str, ...]],  # kind, title, description, price min, max, keywords
    amount: str,
    posted: int,
    accepted: int,
    *,
    paid: bool = True,
    receivable: tuple[int, int, str, int] | None = None,
) -> Deal:
    """A deal of the veteran: listed 10 days before the order, proposed 10 days after it and signed 2 days later;
    30 % advance (paid 8 days after signing) and the 70 % balance 30 days after acceptance (paid 24 days after
    it, if ``paid``); accepted 5 days before the delivery due date (on time)."""
    fen = yuan_to_fen(amount)
    advance = fen * 30 // 100
    signed = posted + 12
    payments = [(signed + 8, f"{key.upper()}-ADV", f"{advance // 100}.{advance % 100:02d}")]
    if paid:
        rest = fen - advance
        payments.append((accepted + 24, f"{key.upper()}-FINAL", f"{rest // 100}.{rest % 100:02d}"))
    title, description, category = order
    kind, offer_title, offer_description, low, high, keywords = offer
    return Deal(
        key,
        buyer,
        VETERAN,
        {
            "kind": "procurement",
            "title": title,
            "description": description,
            "category": category,
            "budget": amount,
            "required_qualifications": [],
        },
        {
            "kind": kind,
            "title": offer_title,
            "description": offer_description,
            "category": category,
            "price_min": low,
            "price_max": high,
            "capacity": 5,
            "qualifications": [],
            "keywords": list(keywords),
        },
        amount,
        listed=posted - 10,
        posted=posted,
        proposed=posted + 10,
        signed=signed,
        delivery_due=accepted + 5,
        plan=_advance_and_final,
        accepted=accepted,
        payments=tuple(payments),
        terms="合同签订后10日内支付30%预付款，验收合格后30日内支付余款。",
        receivable=receivable,
    )


VETERAN_DEALS: tuple[Deal, ...] = (
    _veteran_deal(
        "hy-exchange",
        JINGHUA,
        (
            "委办局数据共享交换通道升级",
            "升级区级政务数据共享交换通道，新增二十个委办局前置机接入与数据质量校验，支持增量同步与断点续传。",
            "ict.egov",
        ),
        (
            "service",
            "衡远政务数据交换通道实施服务",
            "政务数据共享交换通道的前置机部署、接口适配与数据质量校验规则配置，支持增量同步与断点续传，"
            "三个月完成一个区的委办局接入。",
            "300000.00",
            "1500000.00",
            ("数据共享交换", "前置机", "政务数据"),
        ),
        "860000.00",
        posted=-400,
        accepted=-305,
    ),
    _veteran_deal(
        "hy-energy",
        YANDU,
        (
            "焊装车间能耗监测系统建设",
            "为焊装车间建设分项计量与能耗监测系统，接入电、气、水表计三百余块，实现能耗看板与异常告警。",
            "ict.iiot",
        ),
        (
            "service",
            "衡远车间能耗监测系统集成服务",
            "工厂车间分项计量表计接入、边缘采集与能耗分析看板，支持异常告警与月度能耗报告，可与工业云平台对接。",
            "400000.00",
            "2000000.00",
            ("能耗监测", "分项计量", "工业物联网"),
        ),
        "1200000.00",
        posted=-330,
        accepted=-236,
    ),
    _veteran_deal(
        "hy-bridge",
        TONGQU,
        (
            "桥梁结构健康监测数据平台",
            "建设桥梁结构健康监测数据平台，汇聚应变、位移、振动传感器数据，提供阈值告警与养护决策报表。",
            "ict.iiot",
        ),
        (
            "product",
            "衡远桥梁结构监测数据平台",
            "面向路桥养护单位的结构健康监测数据平台：传感器数据接入、时序存储、阈值告警与养护决策报表，"
            "支持私有化部署。",
            "300000.00",
            "1200000.00",
            ("桥梁监测", "结构健康", "时序数据"),
        ),
        "740000.00",
        posted=-260,
        accepted=-165,
    ),
    _veteran_deal(
        "hy-catalogue",
        JINGHUA,
        (
            "公共数据资源目录梳理与编目",
            "梳理全区公共数据资源目录，完成信息资源编目、数据元标准化与目录系统上线，形成年度数据资源清单。",
            "ict.bigdata",
        ),
        (
            "service",
            "衡远公共数据资源编目服务",
            "公共数据资源目录梳理、信息资源编目与数据元标准化，交付目录系统与年度数据资源清单。",
            "300000.00",
            "1600000.00",
            ("数据资源目录", "数据编目", "数据治理"),
        ),
        "1050000.00",
        posted=-200,
        accepted=-104,
    ),
    # accepted a fortnight ago: the advance paid, the balance (due in 16 days) a receivable the buyer confirmed
    _veteran_deal(
        "hy-twin",
        YANDU,
        (
            "涂装线设备数字孪生看板",
            "为涂装线建设设备数字孪生看板，接入关键设备运行参数，实现三维可视化监控与故障预警。",
            "ict.iiot",
        ),
        (
            "product",
            "衡远产线数字孪生看板",
            "产线设备三维建模与运行参数实时映射，提供可视化监控、故障预警与停机分析，可接入主流工业云平台。",
            "300000.00",
            "1500000.00",
            ("数字孪生", "设备监控", "故障预警"),
        ),
        "680000.00",
        posted=-120,
        accepted=-14,
        paid=False,
        receivable=(-13, -11, "476000.00", 16),
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
        for u in (*cat.DEMO_USER_SPECS, *VETERAN_USER_SPECS):
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
    def deals(self, deals: tuple[Deal, ...] = DEALS) -> None:
        steps: list[tuple[int, int, int, Deal, str, tuple[Any, ...]]] = []
        for i, deal in enumerate(deals):
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
            if deal.receivable is not None:
                todo += [(deal.receivable[0], "receivable", ()), (deal.receivable[1], "confirm", ())]
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

    def _receivable(self, deal: Deal) -> Receivable | None:
        with Session(self.engine) as s:
            return s.exec(
                select(Receivable)
                .where(
                    Receivable.creditor_id == self.orgs[deal.supplier][0],
                    Receivable.contract_id == self.contracts[deal.key],
                    Receivable.title == _receivable_title(deal),
                )
                .order_by(col(Receivable.id))
            ).first()

    def _do_receivable(self, at: int, deal: Deal) -> None:
        r = self.report
        assert deal.receivable is not None
        if self._receivable(deal) is not None:
            r.count(r.present, "receivables")
            return
        _, _, face, due = deal.receivable
        data = {
            "title": _receivable_title(deal),
            "contract_id": self.contracts[deal.key],
            "face": face,
            "issue_date": self.day(at),
            "due_date": self.day(due),
        }
        fs.register_receivable(self.uow(at), self.actor(deal.supplier), data)
        r.count(r.created, "receivables")

    def _do_confirm(self, at: int, deal: Deal) -> None:
        rec = self._receivable(deal)
        assert rec is not None
        if rec.status == ReceivableStatus.REGISTERED:
            fs.confirm_receivable(
                self.uow(at), self.actor(deal.buyer), {"receivable_id": rec.id, "irrevocable_undertaking": True}
            )

    # -- the SME with an established history: registered months ago, then its deals
    def veteran(self) -> None:
        r = self.report
        data = {**VETERAN_ORG, "credit_code": _veteran_credit_code()}
        users = [cat.demo_user_input(u) for u in VETERAN_USER_SPECS]
        with Session(self.engine) as s:
            org = s.exec(
                select(Organisation).where(
                    (col(Organisation.credit_code) == data["credit_code"]) | (col(Organisation.name) == VETERAN)
                )
            ).first()
        if org is None:
            orgs.register_organisation(self.uow(VETERAN_REGISTERED), data, users)
            r.count(r.created, "organisations")
            for _ in users:
                r.count(r.created, "users")
        else:
            r.count(r.present, "organisations")
            assert org.id is not None
            for user in users:
                if user["username"] in self.users:
                    r.count(r.present, "users")
                    continue
                orgs.add_user(self.uow(), org.id, user)
                r.count(r.created, "users")
        self.read()
        self.deals(VETERAN_DEALS)


def _receivable_title(deal: Deal) -> str:
    return f"{deal.order['title']}（验收后余款）"


def _veteran_credit_code() -> str:
    admin = tg.DISTRICT_ADMIN_CODE[VETERAN_ORG["district"]]
    return make_credit_code("91" + admin + tg.stable_org_code(VETERAN))


def load_settlement(engine: Engine, clock: Clock, report: DemoReport) -> None:
    """Load the settlement demo (after the marketplace and finance demos: it needs their organisations, users and
    the programme contracts)."""
    loader = _Settlement(engine, clock.now(), report)
    loader.read()
    loader.deals()
    loader.programme()
    loader.veteran()
