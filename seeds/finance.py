"""The finance part of the demo: bank products, credit lines, receivables, applications and loans in every state.

Loaded by :func:`seeds.demo.load_demo` after the marketplace data, through the real use cases of
:mod:`finance.service` only.  Each :class:`Story` is one receivable and what happens to it, as steps at fixed
offsets from the seed's moment ``T`` (history months ago, today's queue a few hours ago).  All steps of all stories
run in time order, each with a :class:`~qianfan.clock.FrozenClock` set to its moment, so what the risk check sees
(an SME's confirmed receivables and its own loans, a debtor's payment record) is what existed at that moment: an
application passes the check only if the SME had no loan past its due date then.  Then the maturity sweep and the
48-hour sweep run at ``T``: the overdue loan is marked, applications near their deadline are flagged.

Idempotent: products are found by bank and code, credit lines by bank and core enterprise, receivables by creditor
and title, applications by their idempotency key, payments by theirs; a step runs only from the state it expects
(a receivable still registered is confirmed, an application still submitted is risk-checked…), so a second load
creates nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from hashlib import sha256
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from finance import service as fs
from qianfan.actors import Actor
from qianfan.clock import Clock, FrozenClock, to_local
from qianfan.errors import DomainError
from qianfan.models import (
    ApplicationStatus,
    BankProduct,
    Contract,
    ContractStatus,
    CreditLine,
    ExposureLimit,
    FinanceApplication,
    Loan,
    Organisation,
    OrgKind,
    PartState,
    Payment,
    Receivable,
    ReceivablePart,
    ReceivableStatus,
    User,
    UserRole,
)
from qianfan.money import yuan_to_fen
from qianfan.uow import UnitOfWork
from seeds import catalogue as cat
from seeds.report import DemoReport

log = logging.getLogger(__name__)

ZGCB = "北京中关村银行"
BOB = "北京银行"
ICBC = "中国工商银行北京分行"
SME = cat.DEMO_SME  # 北京数帆智汇科技有限公司 (demo-sme)
CHENGGUAN = "北京澄观数据技术有限公司"
GONGQING = "北京工擎云科技有限公司"
LUMOU = "北京路眸智能科技有限公司"
LENGHENG = "北京冷衡节能科技有限公司"
HEYI = "北京禾熠养老科技有限公司"
ANYI = "北京安颐智慧健康科技有限公司"
JINGHUA = cat.DEMO_FIRM  # 北京京华数智城市科技集团有限公司 (demo-firm)
YANDU = "北京燕都智造集团股份有限公司"
TONGQU = "北京通衢路桥建设集团有限公司"
YIKANG = "北京颐康养老产业集团有限公司"
JIATAI = "北京嘉泰商业置业集团有限公司"
RONGTAI = "北京融泰金融控股集团有限公司"

# --------------------------------------------------------------------- banks: products and credit lines


@dataclass(frozen=True, slots=True)
class ProductSpec:
    bank: str
    admin: str  # the bank's admin demo user
    code: str
    name: str
    advance_rate: str
    day_count: str
    fee_bp: int
    fee_min: str
    fee_max: str
    line: int  # yuan: the bank's standard line per core enterprise (scaled by LINE_SCALE)
    spreads_bp: dict[str, int | None] | None = None  # None: the platform defaults (grade D not financed)


PRODUCTS: tuple[ProductSpec, ...] = (
    ProductSpec("国家开发银行北京分行", "demo-cdb", "CDB-QF-RF", "国开千帆科技应收账款融资", "0.85", "ACT/365F",
                5, "500.00", "20000.00", 300_000_000, {"A": 40, "B": 80, "C": 150, "D": None}),
    ProductSpec(ICBC, "demo-icbc", "ICBC-QF-RF", "工银千帆e融", "0.90", "ACT/360",
                10, "200.00", "30000.00", 200_000_000),
    ProductSpec("中国农业银行北京分行", "demo-abc", "ABC-QF-RF", "农银千帆应收融", "0.85", "ACT/360",
                10, "200.00", "30000.00", 150_000_000),
    ProductSpec("中国银行北京分行", "demo-boc", "BOC-QF-RF", "中银千帆保理e贷", "0.80", "ACT/360",
                8, "300.00", "25000.00", 150_000_000),
    ProductSpec("中国建设银行北京分行", "demo-ccb", "CCB-QF-RF", "建行千帆链e融", "0.90", "ACT/360",
                10, "200.00", "30000.00", 200_000_000),
    ProductSpec(BOB, "demo-bob", "BOB-QF-RF", "京行千帆应收融", "0.90", "ACT/360",
                12, "300.00", "40000.00", 100_000_000),
    # the demo bank also finances newcomers (grade D) at a higher spread
    ProductSpec(ZGCB, "demo-bank-admin", "ZGCB-QF-RF", "中关村银行千帆科创应收融", "0.90", "ACT/360",
                15, "500.00", "50000.00", 60_000_000, {"A": 60, "B": 120, "C": 200, "D": 320}),
)  # fmt: skip

#: The core enterprises of the programme projects (buyers in the demo's contracts) and how large a line each gets.
LINE_SCALE: dict[str, float] = {
    JINGHUA: 1.0,
    YANDU: 1.0,
    "北京云岭数据科技集团有限公司": 0.8,
    TONGQU: 0.6,
    YIKANG: 0.4,
    JIATAI: 0.6,
    RONGTAI: 1.0,
}

#: The programme office's exposure limits for the SMEs that finance most (others keep the platform default).
EXPOSURE_LIMITS: tuple[tuple[str, str], ...] = ((SME, "30000000.00"), (LENGHENG, "20000000.00"))

# --------------------------------------------------------------------- stories


@dataclass(frozen=True, slots=True)
class Step:
    at: timedelta  # from the seed's moment (negative: in the past)
    action: str
    args: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class Story:
    key: str  # short and unique: idempotency keys and invoice numbers derive from it
    creditor: str
    debtor: str
    title: str
    face: str
    registered: timedelta  # when the SME registered it (from the seed's moment)
    due_days: int  # due date: the seed's date + this many days
    contract: str | None = None  # title of the signed programme contract behind it; else stand-alone
    invoices: int = 2  # stand-alone receivables carry this many invoice numbers
    steps: tuple[Step, ...] = ()

    def invoice_numbers(self) -> list[str]:
        """Deterministic 20-digit numbers in the style of a fully digitalised e-invoice (全电发票)."""
        out = []
        for n in range(self.invoices if self.contract is None else 0):
            digest = int.from_bytes(sha256(f"{self.key}:{n}".encode()).digest()[:8], "big")
            out.append(f"2611{digest % 10**16:016d}")
        return out


def _d(days: float) -> timedelta:
    return timedelta(days=days)


def _h(hours: float) -> timedelta:
    return timedelta(hours=hours)


T0 = timedelta(0)
MIN2 = timedelta(minutes=2)


def _financed(start: timedelta, bank_user: str, holder: str, bank: str, amount: str) -> tuple[Step, ...]:
    """Apply at ``start``, risk check two minutes later, approval after 20 h, signature after 26 h and
    disbursement after 30 h: a loan well inside the 48-hour promise."""
    return (
        Step(start, "apply", (holder, bank, amount, None)),
        Step(start + MIN2, "risk"),
        Step(start + _h(20), "approve", (bank_user,)),
        Step(start + _h(26), "sign", (holder,)),
        Step(start + _h(30), "disburse", (bank_user,)),
    )


STORIES: tuple[Story, ...] = (
    # ---- history: a receivable paid on time, loans repaid, overdue, partly repaid, running
    Story("h-settled", SME, JINGHUA, "区级政务数据共享交换平台二期 验收款", "1850000.00", -_d(150), -70,
          steps=(Step(-_d(148), "confirm"), Step(-_d(72), "pay", ("1850000.00", 1)))),
    Story("h-repaid", SME, JINGHUA, "接诉即办热线数据分析服务（2026年上半年）", "960000.00", -_d(110), -15,
          steps=(Step(-_d(109), "confirm"), *_financed(-_d(108), "demo-bank", SME, ZGCB, "860000.00"),
                 Step(-_d(16), "pay", ("960000.00", 1)))),
    # due yesterday and not repaid: overdue since today, with a day's penalty interest.  The risk check refuses any
    # application of an SME with a loan overdue (finance.risk.sme_loan_failures, every product), so demo-sme's
    # applications in today's queue (q-approved, q-signed) were submitted while this loan was still current; the
    # ones it makes from today on are refused (seeds.chain_finance's HT-20)
    Story("h-overdue", SME, RONGTAI, "金融数据标准管理咨询服务费", "2200000.00", -_d(100), -1,
          steps=(Step(-_d(99), "confirm"), *_financed(-_d(99) + _h(3), "demo-bank", SME, ZGCB, "1980000.00"))),
    Story("h-partial", SME, JINGHUA, "城市运行监测中心可视化大屏开发", "3000000.00", -_d(60), 25,
          steps=(Step(-_d(59), "confirm"), *_financed(-_d(58), "demo-bank", SME, ZGCB, "2600000.00"),
                 Step(-_d(5), "pay", ("1200000.00", 1)))),
    # by now the demo SME has five confirmed receivables and its debtor an on-time payment: grade C, which
    # 北京银行 finances at its standard spread
    Story("c-running", SME, JINGHUA, "政务服务一网通办系统升级 验收款", "4200000.00", -_d(21), 70,
          steps=(Step(-_d(19), "confirm"), *_financed(-_d(19) + _h(3), "demo-bob", SME, BOB, "3600000.00"))),
    # ---- the review queue today (北京中关村银行: demo-bank reviews, demo-bank-approver second-approves)
    Story("q-approved", SME, JINGHUA, "区级政务云平台运维服务费（2026年第三季度）", "1260000.00", -_d(5), 80,
          steps=(Step(-_d(3), "confirm"), Step(-_h(40), "apply", (SME, ZGCB, "1100000.00", None)),
                 Step(-_h(40) + MIN2, "risk"), Step(-_h(6), "approve", ("demo-bank",)))),
    Story("q-signed", SME, RONGTAI, "数据资产目录梳理服务费", "980000.00", -_d(5), 75,
          steps=(Step(-_d(4), "confirm"), Step(-_h(30), "apply", (SME, ZGCB, "850000.00", None)),
                 Step(-_h(30) + MIN2, "risk"), Step(-_h(20), "approve", ("demo-bank",)),
                 Step(-_h(3), "sign", (SME,)))),
    Story("q-info", LENGHENG, JIATAI, "冷站群控节能改造（首座综合体）节能收益分享款", "1350000.00", -_d(6), 90,
          steps=(Step(-_d(5), "confirm"), Step(-_h(38), "apply", (LENGHENG, ZGCB, "1200000.00", None)),
                 Step(-_h(38) + MIN2, "risk"),
                 Step(-_h(4), "request_info", ("demo-bank", "请补充第三方机构出具的节能量测量与验证（M&V）报告，"
                                               "以及嘉泰商业盖章的节能量确认单。")))),
    Story("q-review", LUMOU, TONGQU, "城市道路病害AI识别试点服务费", "860000.00", -_d(6), 60,
          steps=(Step(-_d(5), "confirm"), Step(-_h(20), "apply", (LUMOU, ZGCB, "770000.00", None)),
                 Step(-_h(20) + MIN2, "risk"))),
    Story("q-rejected", HEYI, YIKANG, "社区养老驿站管理系统（试点街道）", "420000.00", -_d(7), 60,
          steps=(Step(-_d(6), "confirm"), Step(-_d(3), "apply", (HEYI, ZGCB, "370000.00", None)),
                 Step(-_d(3) + MIN2, "risk"),
                 Step(-_d(2) - _h(2), "reject", ("demo-bank", "未提供网络安全等级保护三级测评证明，驿站管理系统"
                                                 "尚未通过颐康养老验收，本次申请不予通过。")))),
    # a newcomer (grade D) at a bank whose product does not finance grade D: refused by the risk check
    Story("q-risk-refused", ANYI, YIKANG, "智慧养老服务平台试运行服务费", "680000.00", -_d(4), 45,
          steps=(Step(-_d(3), "confirm"), Step(-_d(2), "apply", (ANYI, ICBC, "600000.00", None)),
                 Step(-_d(2) + MIN2, "risk"))),
    Story("q-disputed", CHENGGUAN, JINGHUA, "城市数据湖平台扩容服务费", "1520000.00", -_d(6), 60,
          steps=(Step(-_d(5), "dispute", ("扩容节点尚未完成验收，发票金额与合同约定不符，暂不确权。",)),)),
    # ---- the signed programme contracts, today
    Story("p-gov-advance", SME, JINGHUA, "数字政府大数据平台项目 预付款（30%）", "2580000.00", T0, 60,
          contract="数字政府大数据平台项目",
          steps=(Step(T0, "confirm"), Step(T0, "transfer", (CHENGGUAN, "1000000.00")),
                 Step(T0, "apply", (CHENGGUAN, ZGCB, "900000.00", "1000000.00")))),
    Story("p-gov-progress", SME, JINGHUA, "数字政府大数据平台项目 数据中台标段进度款（40%）", "3440000.00", T0, 120,
          contract="数字政府大数据平台项目"),
    Story("p-paas-advance", GONGQING, YANDU, "工业云PaaS平台项目 预付款（30%）", "1560000.00", T0, 45,
          contract="工业云PaaS平台项目",
          steps=(Step(T0, "confirm"), Step(T0, "split", ("600000.00", "480000.00", "480000.00")),
                 Step(T0, "apply", (GONGQING, ZGCB, "540000.00", "600000.00")), Step(T0, "risk"))),
    Story("p-road-advance", LUMOU, TONGQU, "智慧道路巡检系统项目 预付款（30%）", "1185000.00", T0, 45,
          contract="智慧道路巡检系统项目"),
    Story("p-hvac-works", LENGHENG, JIATAI, "中央空调智慧能源技术节能项目 第一阶段改造工程款", "6120000.00", T0, 180,
          contract="中央空调智慧能源技术节能项目",
          steps=(Step(T0, "confirm"), Step(T0, "apply", (LENGHENG, ZGCB, "5500000.00", None)), Step(T0, "risk"),
                 Step(T0, "approve", ("demo-bank",)))),
    Story("p-governance-advance", SME, RONGTAI, "集团数据治理平台建设项目 预付款（30%）", "735000.00", T0, 40,
          contract="集团数据治理平台建设项目", steps=(Step(T0, "confirm"),)),
)  # fmt: skip


# --------------------------------------------------------------------- loading


@dataclass(slots=True)
class _StoryState:
    receivable_id: int | None = None
    application_id: int | None = None
    broken: bool = False


@dataclass(slots=True)
class _Finance:
    engine: Engine
    moment: datetime
    report: DemoReport
    orgs: dict[str, tuple[int, OrgKind]] = field(default_factory=dict)
    users: dict[str, tuple[int, int, UserRole]] = field(default_factory=dict)  # username -> (user, org, role)
    states: dict[str, _StoryState] = field(default_factory=dict)

    # -- helpers
    def uow(self, at: timedelta = T0) -> UnitOfWork:
        return UnitOfWork(self.engine, FrozenClock(self.moment + at))

    @property
    def today(self) -> date:
        return to_local(self.moment).date()

    def org_id(self, name: str) -> int:
        return self.orgs[name][0]

    def actor(self, name: str) -> Actor:
        """The organisation's admin demo user if it has one, else the organisation itself."""
        for u in cat.DEMO_USER_SPECS:
            if u.organisation == name and u.role == "admin" and u.username in self.users:
                return self.user(u.username)
        org_id, kind = self.orgs[name]
        return Actor(org_id, kind)

    def user(self, username: str) -> Actor:
        user_id, org_id, role = self.users[username]
        return Actor(org_id, self.orgs_by_id[org_id], user_id, role)

    @property
    def orgs_by_id(self) -> dict[int, OrgKind]:
        return {i: k for i, k in self.orgs.values()}

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

    # -- banks and limits
    def banks(self, at: timedelta) -> None:
        r = self.report
        for spec in PRODUCTS:
            bank_id = self.org_id(spec.bank)
            admin = self.user(spec.admin)
            with Session(self.engine) as s:
                exists = s.exec(
                    select(BankProduct.id).where(BankProduct.bank_id == bank_id, BankProduct.code == spec.code)
                ).first()
                lines = set(s.exec(select(CreditLine.core_enterprise_id).where(CreditLine.bank_id == bank_id)).all())
            if exists is not None:
                r.count(r.present, "bank_products")
            else:
                data: dict[str, Any] = {
                    "code": spec.code,
                    "name": spec.name,
                    "advance_rate": spec.advance_rate,
                    "day_count": spec.day_count,
                    "arrangement_fee_bp": spec.fee_bp,
                    "fee_min": spec.fee_min,
                    "fee_max": spec.fee_max,
                    "four_eyes_threshold": "5000000.00",
                }
                if spec.spreads_bp is not None:
                    data["spreads_bp"] = spec.spreads_bp
                fs.create_product(self.uow(at), admin, data)
                r.count(r.created, "bank_products")
            for firm, scale in LINE_SCALE.items():
                if self.org_id(firm) in lines:
                    r.count(r.present, "credit_lines")
                    continue
                line = int(spec.line * scale) // 1_000_000 * 1_000_000
                fs.set_credit_line(self.uow(at), admin, self.org_id(firm), f"{line}.00")
                r.count(r.created, "credit_lines")
        office = self.actor(cat.PROGRAMME_OFFICE.name)
        for sme, exposure in EXPOSURE_LIMITS:
            with Session(self.engine) as s:
                row = s.exec(select(ExposureLimit).where(ExposureLimit.sme_id == self.org_id(sme))).first()
            if row is not None and row.limit_fen == yuan_to_fen(exposure):
                r.count(r.present, "exposure_limits")
                continue
            fs.set_exposure_limit(self.uow(at), office, self.org_id(sme), exposure)
            r.count(r.created, "exposure_limits")

    # -- stories
    def run(self) -> None:
        events: list[tuple[timedelta, int, int, Story, Step]] = []
        for i, story in enumerate(STORIES):
            events.append((story.registered, i, -1, story, Step(story.registered, "register")))
            events.extend((step.at, i, j, story, step) for j, step in enumerate(story.steps))
        events.sort(key=lambda e: (e[0], e[1], e[2]))
        for _, _, _, story, step in events:
            state = self.states.setdefault(story.key, _StoryState())
            if state.broken:
                continue
            try:
                self.step(story, step, state)
            except DomainError as exc:  # the demo database was used since the last seed
                log.warning("demo seed: finance story %s, step %s skipped: %s", story.key, step.action, exc)
                self.report.count(self.report.skipped, "finance")
                state.broken = True

    def step(self, story: Story, step: Step, state: _StoryState) -> None:
        action: Callable[[Story, Step, _StoryState], None] = getattr(self, f"_do_{step.action}")
        if step.action != "register" and state.receivable_id is None:
            state.receivable_id = self._find_receivable(story)
            if state.receivable_id is None:
                state.broken = True
                return
        action(story, step, state)

    def _find_receivable(self, story: Story) -> int | None:
        with Session(self.engine) as s:
            return s.exec(
                select(Receivable.id)
                .where(Receivable.creditor_id == self.org_id(story.creditor), Receivable.title == story.title)
                .order_by(col(Receivable.id))
            ).first()

    def _receivable(self, state: _StoryState) -> Receivable:
        with Session(self.engine) as s:
            row = s.get(Receivable, state.receivable_id)
            assert row is not None
            return row

    def _parts(self, state: _StoryState) -> list[ReceivablePart]:
        with Session(self.engine) as s:
            return list(
                s.exec(
                    select(ReceivablePart)
                    .where(ReceivablePart.receivable_id == state.receivable_id)
                    .order_by(col(ReceivablePart.id))
                ).all()
            )

    def _application(self, story: Story, state: _StoryState, holder: str | None = None) -> FinanceApplication | None:
        with Session(self.engine) as s:
            if state.application_id is not None:
                return s.get(FinanceApplication, state.application_id)
            assert holder is not None
            app = s.exec(
                select(FinanceApplication).where(
                    FinanceApplication.applicant_id == self.org_id(holder),
                    FinanceApplication.idempotency_key == f"demo-{story.key}",
                )
            ).first()
            if app is not None:
                state.application_id = app.id
            return app

    def _do_register(self, story: Story, step: Step, state: _StoryState) -> None:
        r = self.report
        state.receivable_id = self._find_receivable(story)
        if state.receivable_id is not None:
            r.count(r.present, "receivables")
            return
        contract_id = None
        if story.contract is not None:
            with Session(self.engine) as s:
                contract_id = s.exec(
                    select(Contract.id).where(
                        Contract.supplier_id == self.org_id(story.creditor),
                        Contract.buyer_id == self.org_id(story.debtor),
                        Contract.title == story.contract,
                        Contract.status != ContractStatus.TERMINATED,
                    )
                ).first()
            if contract_id is None:
                log.warning("demo seed: finance story %s skipped: no contract %s", story.key, story.contract)
                r.count(r.skipped, "finance")
                state.broken = True
                return
        registered_on = to_local(self.moment + step.at).date()
        data: dict[str, Any] = {
            "title": story.title,
            "face": story.face,
            "issue_date": registered_on - timedelta(days=0 if story.contract else 3),
            "due_date": self.today + timedelta(days=story.due_days),
            "invoice_numbers": story.invoice_numbers(),
        }
        if contract_id is not None:
            data["contract_id"] = contract_id
        else:
            data["debtor_id"] = self.org_id(story.debtor)
        rec = fs.register_receivable(self.uow(step.at), self.actor(story.creditor), data)
        state.receivable_id = rec.id
        r.count(r.created, "receivables")

    def _do_confirm(self, story: Story, step: Step, state: _StoryState) -> None:
        if self._receivable(state).status == ReceivableStatus.REGISTERED:
            fs.confirm_receivable(
                self.uow(step.at),
                self.actor(story.debtor),
                {"receivable_id": state.receivable_id, "irrevocable_undertaking": True},
            )

    def _do_dispute(self, story: Story, step: Step, state: _StoryState) -> None:
        if self._receivable(state).status == ReceivableStatus.REGISTERED:
            assert state.receivable_id is not None
            fs.dispute_receivable(self.uow(step.at), self.actor(story.debtor), state.receivable_id, step.args[0])

    def _root_held(self, story: Story, state: _StoryState) -> ReceivablePart | None:
        parts = self._parts(state)
        if len(parts) == 1 and parts[0].status == PartState.HELD:
            return parts[0]
        return None  # already split or transferred

    def _do_split(self, story: Story, step: Step, state: _StoryState) -> None:
        part = self._root_held(story, state)
        if part is not None:
            assert part.id is not None
            fs.split_part(self.uow(step.at), self.actor(story.creditor), part.id, list(step.args))

    def _do_transfer(self, story: Story, step: Step, state: _StoryState) -> None:
        to, amount = step.args
        part = self._root_held(story, state)
        if part is not None:
            assert part.id is not None
            fs.transfer_part(self.uow(step.at), self.actor(story.creditor), part.id, self.org_id(to), amount)

    def _do_apply(self, story: Story, step: Step, state: _StoryState) -> None:
        r = self.report
        holder, bank, amount, part_amount = step.args
        if self._application(story, state, holder) is not None:
            r.count(r.present, "finance_applications")
            return
        holder_id = self.org_id(holder)
        held = [p for p in self._parts(state) if p.holder_id == holder_id and p.status == PartState.HELD]
        if part_amount is not None:
            held = [p for p in held if p.amount_fen == yuan_to_fen(part_amount)]
        if not held:
            log.warning("demo seed: finance story %s: no part of %s to finance", story.key, holder)
            r.count(r.skipped, "finance")
            state.broken = True
            return
        app = fs.apply_for_finance(
            self.uow(step.at),
            self.actor(holder),
            {
                "part_id": held[0].id,
                "bank_id": self.org_id(bank),
                "amount": amount,
                "idempotency_key": f"demo-{story.key}",
            },
        )
        state.application_id = app.id
        r.count(r.created, "finance_applications")

    def _app(self, story: Story, state: _StoryState) -> FinanceApplication:
        app = self._application(story, state)
        assert app is not None and app.id is not None
        return app

    def _do_risk(self, story: Story, step: Step, state: _StoryState) -> None:
        app = self._app(story, state)
        if app.status == ApplicationStatus.SUBMITTED:
            assert app.id is not None
            fs.run_risk_check(self.uow(step.at), app.id)

    _IN_REVIEW = (ApplicationStatus.RISK_CHECKED, ApplicationStatus.UNDER_REVIEW)

    def _do_approve(self, story: Story, step: Step, state: _StoryState) -> None:
        app = self._app(story, state)
        if app.status in self._IN_REVIEW:  # a first approval at or above 5,000,000.00 waits for a second
            assert app.id is not None
            fs.approve(self.uow(step.at), self.user(step.args[0]), app.id)

    def _do_request_info(self, story: Story, step: Step, state: _StoryState) -> None:
        app = self._app(story, state)
        if app.status in self._IN_REVIEW:
            assert app.id is not None
            fs.request_info(self.uow(step.at), self.user(step.args[0]), app.id, step.args[1])

    def _do_reject(self, story: Story, step: Step, state: _StoryState) -> None:
        app = self._app(story, state)
        if app.status in self._IN_REVIEW:
            assert app.id is not None
            fs.reject(self.uow(step.at), self.user(step.args[0]), app.id, step.args[1])

    def _do_sign(self, story: Story, step: Step, state: _StoryState) -> None:
        app = self._app(story, state)
        if app.status == ApplicationStatus.APPROVED:
            assert app.id is not None and app.offer_terms is not None
            fs.sign_offer(self.uow(step.at), self.actor(step.args[0]), app.id, fs.terms_hash(app.offer_terms))

    def _do_disburse(self, story: Story, step: Step, state: _StoryState) -> None:
        r = self.report
        app = self._app(story, state)
        assert app.id is not None
        if app.status == ApplicationStatus.OFFER_SIGNED:
            fs.disburse(self.uow(step.at), self.user(step.args[0]), app.id, f"demo-{story.key}")
            r.count(r.created, "loans")
        elif app.status == ApplicationStatus.DISBURSED:
            r.count(r.present, "loans")

    def _do_pay(self, story: Story, step: Step, state: _StoryState) -> None:
        r = self.report
        amount, n = step.args
        key = f"demo-{story.key}-{n}"
        with Session(self.engine) as s:
            done = s.exec(
                select(Payment.id).where(Payment.receivable_id == state.receivable_id, Payment.idempotency_key == key)
            ).first()
        if done is not None:
            r.count(r.present, "payments")
            return
        assert state.receivable_id is not None
        fs.pay_receivable(self.uow(step.at), self.actor(story.debtor), state.receivable_id, amount, key)
        r.count(r.created, "payments")

    # -- sweeps and counts
    def sweeps(self) -> None:
        fs.maturity_sweep(self.uow())
        fs.sla_sweep(self.uow())

    def counts(self) -> dict[str, dict[str, int]]:
        with Session(self.engine) as s:

            def by_status(column: Any) -> dict[str, int]:
                rows = s.execute(sa.select(column, sa.func.count()).group_by(column)).all()
                return {str(getattr(k, "value", k)): int(n) for k, n in rows}

            out = {
                "receivables": by_status(col(Receivable.status)),
                "applications": by_status(col(FinanceApplication.status)),
                "loans": by_status(col(Loan.status)),
            }
            disputed = s.execute(
                sa.select(sa.func.count()).select_from(Receivable).where(col(Receivable.disputed).is_(True))
            ).scalar_one()
            at_risk = s.execute(
                sa.select(sa.func.count())
                .select_from(FinanceApplication)
                .where(col(FinanceApplication.sla_status) == "at_risk")
            ).scalar_one()
        out["flags"] = {"disputed": int(disputed), "at_risk": int(at_risk)}
        return out


#: Products, credit lines and exposure limits are in place before the oldest story.
SETUP_AT = -_d(160)


def load_finance(engine: Engine, clock: Clock, report: DemoReport) -> None:
    """Load the finance demo (after the marketplace demo: it needs its organisations, users and contracts)."""
    loader = _Finance(engine, clock.now(), report)
    loader.read()
    loader.banks(SETUP_AT)
    loader.run()
    loader.sweeps()
    report.finance = loader.counts()
