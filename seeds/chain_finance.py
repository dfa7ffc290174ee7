"""The data-chain finance part of the demo (issue 8, parts 2 and 3): contract (order) loans and an SME's revolving
line in every state.

Loaded by :func:`seeds.demo.load_demo` after :func:`seeds.settlement.load_settlement` (so the contracts made here
come after ``HT-14`` and every earlier number stays), through the use cases only: the marketplace's and
:mod:`finance.service.settlement`'s for the contracts (the steps of :class:`seeds.settlement._Settlement`), and
:mod:`finance.service` for products, applications, risk checks, approvals, signatures, disbursements, the bank's line
decisions and repayments.  Every step runs in a unit of work whose :class:`~qianfan.clock.FrozenClock` is set to the
step's moment, all steps in time order, so each risk check sees the record as it stood then.

- **Products** (:data:`PRODUCTS`): every partner bank gets a contract-finance product beside its receivables one
  (``DD-<bank>``, advance 0.80, the receivables product's fees and spreads), and 北京中关村银行 a revolving-line
  product (``LX-ZGCB``, advance 1).
- **Contract loans at 北京中关村银行** (reviewed by demo-bank).  demo-sme-veteran, whose record is clean: its first
  deal on the platform 14 months ago (buyer demo-firm) financed, repaid by the buyer's advance and balance (the
  waterfall: principal first, then interest, the rest to the SME) and completed — all before the 12-month window of
  its suggested line, so that record stays :mod:`seeds.settlement`'s; one signed two months ago (demo-firm) financed
  and partly repaid by the buyer's advance; one risk-checked today, waiting in demo-bank's queue (demo-firm); one
  approved this morning, waiting for its signature (demo-tongqu).  北京澄观数据 (no demo account; demo-firm buys):
  rejected by demo-bank a month ago.  demo-sme (demo-firm buys): applied today and refused by the data-chain risk
  check, because demo-sme has a loan overdue (``seeds.finance``'s ``h-overdue``) — no loan of demo-sme can pass the
  check while it is (the check counts a loan marked overdue whatever the clock says, so not even in the past).
- **Revolving lines**: 北京中关村银行 (demo-bank-admin) accepted demo-sme-veteran's suggested line 45 days ago
  (¥1,340,000.00, the amount suggested then); the veteran drew 500,000.00 and repaid it before its due date, and
  drew 600,000.00 a fortnight ago, still outstanding.  北京银行 (demo-bob) declined demo-sme (the platform suggests no
  line: a loan overdue now).

Idempotent: products by bank and code, offers/orders/intent orders/contracts/plans/acceptances/payments as in
:mod:`seeds.settlement`, applications by applicant and idempotency key (``demo-cf-<key>``), a line by bank and SME;
a step runs only from the state it expects; so a second load creates nothing.  The counts go into the report under
``chain_<kind>`` (``chain_applications``, ``chain_loans``, ``chain_sme_lines`` …).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from finance import service as fs
from finance.queries.loans import payoff
from qianfan.actors import Actor
from qianfan.clock import Clock, FrozenClock, to_local
from qianfan.errors import DomainError
from qianfan.models import (
    ApplicationStatus,
    BankProduct,
    FinanceApplication,
    FinanceKind,
    Loan,
    LoanStatus,
    OrgKind,
    SmeCreditLine,
    SmeLineStatus,
)
from qianfan.money import fen_to_yuan
from qianfan.uow import UnitOfWork
from seeds import finance as fin
from seeds.report import DemoReport
from seeds.settlement import CHENGGUAN, JINGHUA, SME, TONGQU, VETERAN, Deal, _advance_and_final, _Settlement

log = logging.getLogger(__name__)

ZGCB = fin.ZGCB  # 北京中关村银行: demo-bank (reviewer), demo-bank-approver, demo-bank-admin
BOB = fin.BOB  # 北京银行: demo-bob
ICBC = fin.ICBC  # 中国工商银行北京分行: demo-icbc (admin)

# --------------------------------------------------------------------- products


@dataclass(frozen=True, slots=True)
class ChainProduct:
    bank: str
    admin: str
    data: dict[str, Any]  # ProductInput


def _contract_product(spec: fin.ProductSpec) -> ChainProduct:
    """The bank's contract-finance product: 80 % of the unpaid contract value, its receivables product's fees,
    day count, spreads and four-eyes amount."""
    short = spec.code.split("-")[0]  # CDB, ICBC, … ZGCB
    brand = spec.name.split("千帆")[0]  # 国开, 工银, … 中关村银行
    data: dict[str, Any] = {
        "kind": FinanceKind.CONTRACT.value,
        "code": f"DD-{short}",
        "name": f"{brand}千帆订单融资（数据链）",
        "advance_rate": "0.80",
        "day_count": spec.day_count,
        "arrangement_fee_bp": spec.fee_bp,
        "fee_min": spec.fee_min,
        "fee_max": spec.fee_max,
        "four_eyes_threshold": "5000000.00",
    }
    if spec.spreads_bp is not None:
        data["spreads_bp"] = spec.spreads_bp
    return ChainProduct(spec.bank, spec.admin, data)


_ZGCB_SPEC = next(p for p in fin.PRODUCTS if p.bank == ZGCB)

PRODUCTS: tuple[ChainProduct, ...] = (
    *(_contract_product(spec) for spec in fin.PRODUCTS),
    ChainProduct(
        ZGCB,
        _ZGCB_SPEC.admin,
        {
            "kind": FinanceKind.CREDIT_LINE.value,
            "code": "LX-ZGCB",
            "name": "中关村银行千帆流水贷（循环额度）",
            "advance_rate": "1",
            "day_count": _ZGCB_SPEC.day_count,
            "arrangement_fee_bp": 0,
            "four_eyes_threshold": "5000000.00",
            "spreads_bp": _ZGCB_SPEC.spreads_bp,
        },
    ),
)

# --------------------------------------------------------------------- the deals and what is financed on them


@dataclass(frozen=True, slots=True)
class Act:
    """A finance step at ``at`` from the seed's moment (negative: in the past)."""

    at: timedelta
    action: str
    args: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class ChainDeal:
    """A contract played from the listing on (:class:`seeds.settlement.Deal`) and the contract loans on it."""

    deal: Deal
    acts: tuple[Act, ...] = ()


def _d(days: float) -> timedelta:
    return timedelta(days=days)


def _h(hours: float) -> timedelta:
    return timedelta(hours=hours)


MIN2 = timedelta(minutes=2)


def _financed(key: str, start: timedelta, amount: str) -> tuple[Act, ...]:
    """A contract loan at 北京中关村银行 applied for at ``start``: risk check two minutes later, approved by demo-bank
    after 20 h, signed by the SME after 26 h and disbursed after 30 h — inside the 48-hour promise."""
    return (
        Act(start, "apply_contract", (key, ZGCB, amount)),
        Act(start + MIN2, "risk", (key,)),
        Act(start + _h(20), "approve", (key, "demo-bank")),
        Act(start + _h(26), "sign", (key,)),
        Act(start + _h(30), "disburse", (key, "demo-bank")),
    )


def _deal(
    key: str,
    buyer: str,
    supplier: str,
    order: tuple[str, str, str, str],  # title, description, category, budget
    offer: tuple[str, str, str, str, tuple[str, ...]],  # title, description, price min, max, keywords
    amount: str,
    signed: int,
    delivery_due: int,
    payments: tuple[tuple[int, str, str], ...],
    accepted: int | None = None,
    *,
    kind: str = "service",
    lead_days: tuple[int, int, int] = (17, 14, 2),
) -> Deal:
    """Listed, posted and proposed ``lead_days`` before the SME signs (by default 17, 14 and 2 days); 30 % advance
    10 days after signing and the 70 % balance 30 days after acceptance."""
    title, description, category, budget = order
    offer_title, offer_description, low, high, keywords = offer
    return Deal(
        key,
        buyer,
        supplier,
        {
            "kind": "procurement",
            "title": title,
            "description": description,
            "category": category,
            "budget": budget,
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
        listed=signed - lead_days[0],
        posted=signed - lead_days[1],
        proposed=signed - lead_days[2],
        signed=signed,
        delivery_due=delivery_due,
        plan=_advance_and_final,
        accepted=accepted,
        payments=payments,
        terms="合同签订后10日内支付30%预付款，验收合格后30日内支付余款。",
    )


REJECTION = (
    "交付物含定制开发的档案数据治理模型，需求规格说明书尚未经京华数智书面确认，交付范围与验收标准不确定，"
    "本次订单融资不予通过；需求确认后可重新申请。"
)

CHAIN_DEALS: tuple[ChainDeal, ...] = (
    # demo-sme-veteran (buyer demo-firm), its first deal on the platform 14 months ago: a software licence with
    # deployment, financed four days after it joined, delivered within the week; the advance and the balance repaid
    # the loan (principal first, then interest) and the rest of the balance reached the SME: completed.  All of it
    # more than 12 months before the seed's moment and before the window of the line decided 45 days ago, so the
    # veteran's 12-month record (4 settled deals, ¥1,340,000.00 suggested then) is that of seeds.settlement.
    ChainDeal(
        _deal(
            "cf-vet-licence",
            JINGHUA,
            VETERAN,
            (
                "委办局前置机数据交换软件采购",
                "采购委办局前置机数据交换软件标准版授权二十套，含安装部署、接口配置与操作培训，一周内完成上线。",
                "ict.egov",
                "1600000.00",
            ),
            (
                "衡远前置机数据交换软件（标准版授权与部署）",
                "政务数据共享交换前置机软件标准版授权，含安装部署、接口配置、断点续传与数据校验规则，"
                "一周内完成二十个节点上线。",
                "50000.00",
                "2000000.00",
                ("前置机", "数据交换软件", "政务数据"),
            ),
            "1500000.00",
            signed=-426,
            delivery_due=-415,
            accepted=-419,
            payments=((-422, "CF-VET-LICENCE-ADV", "450000.00"), (-412, "CF-VET-LICENCE-FINAL", "1050000.00")),
            kind="product",
            lead_days=(3, 2, 1),
        ),
        _financed("cf-vet-licence", -_d(426) + _h(2), "1200000.00"),
    ),
    # 澄观数据 (buyer demo-firm): the bank rejected it a month ago
    ChainDeal(
        _deal(
            "cf-archive",
            JINGHUA,
            CHENGGUAN,
            (
                "城建档案数字化与数据治理",
                "对城建档案开展数字化加工、目录著录与数据治理，建设档案数据资源库与智能检索服务。",
                "ict.bigdata",
                "1300000.00",
            ),
            (
                "澄观档案数据治理与智能检索服务",
                "档案数字化成果的数据清洗、著录校验与知识抽取，定制档案数据治理模型，交付智能检索与利用服务。",
                "500000.00",
                "1800000.00",
                ("档案数字化", "数据治理", "智能检索"),
            ),
            "1200000.00",
            signed=-36,
            delivery_due=45,
            payments=((-27, "CF-ARCHIVE-ADV", "360000.00"),),
        ),
        (
            Act(-_d(33), "apply_contract", ("cf-archive", ZGCB, "650000.00")),
            Act(-_d(33) + MIN2, "risk", ("cf-archive",)),
            Act(-_d(32), "reject", ("cf-archive", "demo-bank", REJECTION)),
        ),
    ),
    # demo-sme (buyer demo-firm): applied today, refused by the data-chain risk check — its loan at 北京中关村银行
    # (seeds.finance, h-overdue) is overdue
    ChainDeal(
        _deal(
            "cf-credit",
            JINGHUA,
            SME,
            (
                "区级公共信用信息平台数据治理",
                "对区级公共信用信息平台存量数据开展清洗、归集与质量评估，建设企业信用评价模型与信用报告生成功能。",
                "ict.bigdata",
                "1300000.00",
            ),
            (
                "数帆公共信用数据治理与评价服务",
                "公共信用信息的清洗归集、数据质量评估与企业信用评价模型定制开发，交付信用报告自动生成组件。",
                "500000.00",
                "1800000.00",
                ("公共信用", "数据治理", "信用评价"),
            ),
            "1100000.00",
            signed=-20,
            delivery_due=60,
            payments=((-11, "CF-CREDIT-ADV", "330000.00"),),
        ),
        (
            Act(-_h(2), "apply_contract", ("cf-credit", ZGCB, "600000.00")),
            Act(-_h(2) + MIN2, "risk", ("cf-credit",)),
        ),
    ),
    # demo-sme-veteran (buyer demo-firm): financed two months ago; the buyer's advance repaid part of the principal
    # (the contract's page shows the split); delivery due in 30 days
    ChainDeal(
        _deal(
            "cf-lifeline",
            JINGHUA,
            VETERAN,
            (
                "城市生命线监测数据汇聚平台（一期）",
                "汇聚燃气、供热、排水、桥梁等城市生命线监测数据，建设统一数据底座与风险预警专题，支撑城市运行监测中心。",
                "ict.bigdata",
                "2200000.00",
            ),
            (
                "衡远城市生命线监测数据汇聚服务",
                "燃气、供热、排水与桥梁监测数据的接入、治理与主题库建设，提供生命线风险指标计算与预警服务接口。",
                "800000.00",
                "3000000.00",
                ("城市生命线", "数据汇聚", "风险预警"),
            ),
            "2000000.00",
            signed=-62,
            delivery_due=30,
            payments=((-53, "CF-LIFELINE-ADV", "600000.00"),),
        ),
        _financed("cf-lifeline", -_d(61) + _h(3), "1500000.00"),
    ),
    # demo-sme-veteran (buyer demo-firm): risk-checked today, in demo-bank's review queue
    ChainDeal(
        _deal(
            "cf-vet-exchange",
            JINGHUA,
            VETERAN,
            (
                "政务数据共享交换平台（二期）接入扩容",
                "在共享交换通道一期基础上新增三十个委办局与街乡前置机接入，建设数据质量监测与共享调用统计功能。",
                "ict.egov",
                "1900000.00",
            ),
            (
                "衡远政务数据共享交换扩容与质量监测服务",
                "共享交换平台的前置机扩容接入、数据质量监测规则与共享调用统计看板，沿用一期接口规范，平滑扩容。",
                "500000.00",
                "2500000.00",
                ("数据共享交换", "数据质量监测", "政务数据"),
            ),
            "1800000.00",
            signed=-26,
            delivery_due=50,
            payments=((-17, "CF-VET-EXCHANGE-ADV", "540000.00"),),
        ),
        (
            Act(-_h(20), "apply_contract", ("cf-vet-exchange", ZGCB, "1000000.00")),
            Act(-_h(20) + MIN2, "risk", ("cf-vet-exchange",)),
        ),
    ),
    # demo-sme-veteran (buyer demo-tongqu): approved by demo-bank this morning, waiting for the SME's signature
    ChainDeal(
        _deal(
            "cf-vet-bridge",
            TONGQU,
            VETERAN,
            (
                "桥梁结构健康监测平台二期（新增二十座桥梁）",
                "为新增二十座城市桥梁部署结构健康监测传感与数据接入，扩展监测平台的评估模型与养护决策功能。",
                "ict.iiot",
                "1500000.00",
            ),
            (
                "衡远桥梁监测数据接入与评估模型扩展服务",
                "桥梁应变、挠度、振动等监测数据接入与边缘采集，结构状态评估模型扩展与养护建议输出。",
                "400000.00",
                "2000000.00",
                ("桥梁监测", "结构健康", "养护决策"),
            ),
            "1400000.00",
            signed=-22,
            delivery_due=40,
            payments=((-13, "CF-VET-BRIDGE-ADV", "420000.00"),),
        ),
        (
            Act(-_h(30), "apply_contract", ("cf-vet-bridge", ZGCB, "780000.00")),
            Act(-_h(30) + MIN2, "risk", ("cf-vet-bridge",)),
            Act(-_h(7), "approve", ("cf-vet-bridge", "demo-bank")),
        ),
    ),
)

# --------------------------------------------------------------------- revolving lines and drawdowns

LINE_NOTE = "依据平台近12个月结算记录的建议额度核定，循环使用，12个月后复审。"
CLOSE_NOTE = "企业已在北京中关村银行核定循环额度，本行额度未曾提用，经协商关闭。"
DECLINE_NOTE = (
    "平台未建议额度：企业当前有逾期贷款，且入驻平台不足6个月。暂不设立循环额度，待逾期结清并积累6个月以上"
    "结算记录后再评估。"
)


def _drawdown(key: str, start: timedelta, amount: str, due_days: int) -> tuple[Act, ...]:
    """A drawdown of the veteran on its line at 北京中关村银行, due ``due_days`` after the seed's date, through the
    same 48-hour path as a loan: risk check, demo-bank's approval, the SME's signature, disbursement."""
    return (
        Act(start, "apply_drawdown", (key, ZGCB, amount, due_days)),
        Act(start + MIN2, "risk", (key,)),
        Act(start + _h(20), "approve", (key, "demo-bank")),
        Act(start + _h(26), "sign", (key,)),
        Act(start + _h(30), "disburse", (key, "demo-bank")),
    )


#: (key, acts): steps on no contract.  Products come before the oldest application.
LINE_ACTS: tuple[tuple[str, tuple[Act, ...]], ...] = (
    ("products", (Act(-_d(440), "products"),)),
    # A bank reads an SME's record (and so decides a line) only where the SME applied to it or granted it access
    # (授权查询, finance.service.record_access): each SME grants the bank in its portal before the bank decides.
    (
        "line-veteran",
        (
            Act(-_d(45) - MIN2, "grant", ("demo-sme-veteran", ZGCB)),
            Act(-_d(45), "decide", (ZGCB, "demo-bank-admin", VETERAN, True, LINE_NOTE)),
        ),
    ),
    ("dd-repaid", (*_drawdown("dd-repaid", -_d(40), "500000.00", -5), Act(-_d(8), "repay", ("dd-repaid",)))),
    ("dd-open", _drawdown("dd-open", -_d(16), "600000.00", 74)),
    (
        "line-declined",
        (
            Act(-_d(3) - MIN2, "grant", ("demo-sme", BOB)),
            Act(-_d(3), "decide", (BOB, "demo-bob", SME, False, DECLINE_NOTE)),
        ),
    ),
    (
        "line-closed",
        (
            Act(-_d(60) - MIN2, "grant", ("demo-sme-veteran", ICBC)),
            Act(-_d(60), "decide", (ICBC, "demo-icbc", VETERAN, True, LINE_NOTE)),
            Act(-_d(12), "decide", (ICBC, "demo-icbc", VETERAN, False, CLOSE_NOTE)),
        ),
    ),
)

#: Who applies under each application key.
APPLICANTS: dict[str, str] = {
    **{a.args[0]: cd.deal.supplier for cd in CHAIN_DEALS for a in cd.acts if a.action == "apply_contract"},
    "dd-repaid": VETERAN,
    "dd-open": VETERAN,
}


def idempotency_key(app_key: str) -> str:
    return f"demo-cf-{app_key}"


# --------------------------------------------------------------------- loading


@dataclass(slots=True)
class _ChainFinance(_Settlement):
    apps: dict[str, int] = field(default_factory=dict)  # application key -> id

    def uow(self, days: float | timedelta = 0) -> UnitOfWork:
        at = days if isinstance(days, timedelta) else timedelta(days=days)
        return UnitOfWork(self.engine, FrozenClock(self.moment + at))

    def user(self, username: str) -> Actor:
        user_id, org_id, role = self.users[username]
        return Actor(org_id, self.orgs_by_id[org_id], user_id, role)

    @property
    def orgs_by_id(self) -> dict[int, OrgKind]:
        return {i: k for i, k in self.orgs.values()}

    def run(self) -> None:
        """Every step of every deal and line, in time order."""
        steps: list[tuple[timedelta, int, int, str, Callable[..., None], tuple[Any, ...]]] = []
        for i, chain in enumerate(CHAIN_DEALS):
            deal = chain.deal
            todo: list[tuple[int, str, tuple[Any, ...]]] = [
                (deal.listed, "offer", ()),
                (deal.posted, "order", ()),
                (deal.proposed, "propose", ()),
                (deal.signed, "sign", ()),
                (deal.signed, "plan", ()),
            ]
            if deal.accepted is not None:
                todo.append((deal.accepted, "accept", ()))
            todo += [(at, "pay", (ref, amount)) for at, ref, amount in deal.payments]
            steps += [
                (_d(at), i, j, deal.key, getattr(self, f"_do_{action}"), (at, deal, *args))
                for j, (at, action, args) in enumerate(todo)
            ]
            steps += [
                (act.at, i, len(todo) + j, deal.key, getattr(self, f"_cf_{act.action}"), (act.at, *act.args))
                for j, act in enumerate(chain.acts)
            ]
        for i, (key, acts) in enumerate(LINE_ACTS, start=len(CHAIN_DEALS)):
            steps += [
                (act.at, i, j, key, getattr(self, f"_cf_{act.action}"), (act.at, *act.args))
                for j, act in enumerate(acts)
            ]
        steps.sort(key=lambda e: (e[0], e[1], e[2]))
        for _, _, _, key, action, args in steps:
            if key in self.broken:
                continue
            try:
                action(*args)
            except DomainError as exc:  # the demo database was used since the last seed
                log.warning("demo seed: chain finance %s, step %s skipped: %s", key, action.__name__, exc)
                self.report.count(self.report.skipped, "chain_finance")
                self.broken.add(key)

    # -- products and lines
    def _cf_products(self, at: timedelta) -> None:
        r = self.report
        for product in PRODUCTS:
            bank_id = self.orgs[product.bank][0]
            with Session(self.engine) as s:
                exists = s.exec(
                    select(BankProduct.id).where(
                        BankProduct.bank_id == bank_id, BankProduct.code == product.data["code"]
                    )
                ).first()
            if exists is not None:
                r.count(r.present, "products")
                continue
            fs.create_product(self.uow(at), self.user(product.admin), product.data)
            r.count(r.created, "products")

    def _line(self, bank: str, sme: str) -> SmeCreditLine | None:
        with Session(self.engine) as s:
            return s.exec(
                select(SmeCreditLine).where(
                    SmeCreditLine.bank_id == self.orgs[bank][0], SmeCreditLine.sme_id == self.orgs[sme][0]
                )
            ).first()

    def _cf_grant(self, at: timedelta, username: str, bank: str) -> None:
        """The SME's administrator grants the bank access to its platform record (idempotent: a live grant stays)."""
        fs.grant_record_access(self.uow(at), self.user(username), self.orgs[bank][0])

    def _cf_decide(self, at: timedelta, bank: str, username: str, sme: str, accept: bool, note: str) -> None:
        r = self.report
        line = self._line(bank, sme)
        # Accepting is done once; declining a line that is active closes it, and is then done too.
        if line is not None and (accept or line.status != SmeLineStatus.ACTIVE):
            r.count(r.present, "sme_lines")
            return
        fs.decide_line(self.uow(at), self.user(username), self.orgs[sme][0], {"accept": accept, "note": note})
        r.count(r.created, "sme_lines")

    # -- applications
    def _application(self, key: str) -> FinanceApplication | None:
        with Session(self.engine) as s:
            if key in self.apps:
                return s.get(FinanceApplication, self.apps[key])
            app = s.exec(
                select(FinanceApplication).where(
                    FinanceApplication.applicant_id == self.orgs[APPLICANTS[key]][0],
                    FinanceApplication.idempotency_key == idempotency_key(key),
                )
            ).first()
        if app is not None and app.id is not None:
            self.apps[key] = app.id
        return app

    def _app(self, key: str) -> FinanceApplication:
        app = self._application(key)
        assert app is not None and app.id is not None
        return app

    def _cf_apply_contract(self, at: timedelta, key: str, bank: str, amount: str) -> None:
        r = self.report
        if self._application(key) is not None:
            r.count(r.present, "applications")
            return
        deal = next(cd.deal for cd in CHAIN_DEALS if any(a.args[:1] == (key,) for a in cd.acts))
        app = fs.apply_for_contract_finance(
            self.uow(at),
            self.actor(deal.supplier),
            {
                "contract_id": self.contracts[deal.key],
                "bank_id": self.orgs[bank][0],
                "amount": amount,
                "idempotency_key": idempotency_key(key),
            },
        )
        assert app.id is not None
        self.apps[key] = app.id
        r.count(r.created, "applications")

    def _cf_apply_drawdown(self, at: timedelta, key: str, bank: str, amount: str, due_days: int) -> None:
        r = self.report
        if self._application(key) is not None:
            r.count(r.present, "applications")
            return
        line = self._line(bank, APPLICANTS[key])
        assert line is not None and line.id is not None
        app = fs.apply_for_drawdown(
            self.uow(at),
            self.actor(APPLICANTS[key]),
            {
                "line_id": line.id,
                "amount": amount,
                "due_on": self.day(due_days),
                "idempotency_key": idempotency_key(key),
            },
        )
        assert app.id is not None
        self.apps[key] = app.id
        r.count(r.created, "applications")

    def _cf_risk(self, at: timedelta, key: str) -> None:
        app = self._app(key)
        if app.status == ApplicationStatus.SUBMITTED:
            assert app.id is not None
            fs.run_risk_check(self.uow(at), app.id)

    _IN_REVIEW = (ApplicationStatus.RISK_CHECKED, ApplicationStatus.UNDER_REVIEW)

    def _cf_approve(self, at: timedelta, key: str, username: str) -> None:
        app = self._app(key)
        if app.status in self._IN_REVIEW:
            assert app.id is not None
            fs.approve(self.uow(at), self.user(username), app.id)

    def _cf_reject(self, at: timedelta, key: str, username: str, reason: str) -> None:
        app = self._app(key)
        if app.status in self._IN_REVIEW:
            assert app.id is not None
            fs.reject(self.uow(at), self.user(username), app.id, reason)

    def _cf_sign(self, at: timedelta, key: str) -> None:
        app = self._app(key)
        if app.status == ApplicationStatus.APPROVED:
            assert app.id is not None and app.offer_terms is not None
            fs.sign_offer(self.uow(at), self.actor(APPLICANTS[key]), app.id, fs.terms_hash(app.offer_terms))

    def _loan(self, key: str) -> Loan | None:
        with Session(self.engine) as s:
            return s.exec(select(Loan).where(Loan.application_id == self._app(key).id)).first()

    def _cf_disburse(self, at: timedelta, key: str, username: str) -> None:
        r = self.report
        app = self._app(key)
        assert app.id is not None
        if app.status == ApplicationStatus.OFFER_SIGNED:
            fs.disburse(self.uow(at), self.user(username), app.id, idempotency_key(key))
            r.count(r.created, "loans")
        elif self._loan(key) is not None:
            r.count(r.present, "loans")

    def _cf_repay(self, at: timedelta, key: str) -> None:
        """The SME repays everything the loan owes (principal and interest) in one transfer."""
        r = self.report
        loan = self._loan(key)
        assert loan is not None and loan.id is not None
        if loan.status == LoanStatus.REPAID:
            r.count(r.present, "repayments")
            return
        uow = self.uow(at)
        with Session(self.engine) as s:  # the loan's payoff that day, the figure repay_loan charges
            owed = payoff(s, loan.id, to_local(uow.clock.now()).date()).total_fen
        fs.repay_loan(uow, self.actor(APPLICANTS[key]), loan.id, str(fen_to_yuan(owed)), f"{key}-repay")
        r.count(r.created, "repayments")

    def sweep(self) -> None:
        """Refresh the 48-hour flags now, as the worker's sweep would (the applications waiting today)."""
        fs.sla_sweep(self.uow())


def load_chain_finance(engine: Engine, clock: Clock, report: DemoReport) -> None:
    """Load the data-chain finance demo (after the settlement demo: it needs the veteran, the demo banks' lines for
    the buyers, and contract numbers after ``HT-14``)."""
    own = DemoReport()  # the settlement steps count offers, contracts, payments …: kept apart as chain_<kind>
    loader = _ChainFinance(engine, clock.now(), own)
    loader.read()
    loader.run()
    loader.sweep()
    for which, mine in ((report.created, own.created), (report.present, own.present), (report.skipped, own.skipped)):
        for kind, n in mine.items():
            which[f"chain_{kind}" if not kind.startswith("chain_") else kind] = n
