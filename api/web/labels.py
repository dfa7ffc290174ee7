"""Names of states and stages as people read them, ``value → (中文, English)``, shared by every portal.

The finance state machines carry their own labels (:mod:`finance.states`); the contract states, the stages of
the 48-hour clock, the finance products and the figures of a suggested credit line are named here once.
"""

from __future__ import annotations

from decimal import Decimal

from finance.limits import BindingConstraint
from finance.states import FINANCE_APPLICATION, LOAN, RECEIVABLE
from qianfan.models import FinanceKind, SmeLineStatus
from qianfan.money import format_yuan

Labels = dict[str, tuple[str, str]]

APPLICATION_STATES: Labels = {s.value: label for s, label in FINANCE_APPLICATION.state_labels.items()}
LOAN_STATES: Labels = {s.value: label for s, label in LOAN.state_labels.items()}
RECEIVABLE_STATES: Labels = {s.value: label for s, label in RECEIVABLE.state_labels.items()}

CONTRACT_STATES: Labels = {
    "active": ("履行中", "Active"),
    "delivered": ("已交付", "Delivered"),
    "completed": ("已完成", "Completed"),
    "terminated": ("已终止", "Terminated"),
}

#: The stages of the 48-hour clock (``finance.sla``), application to disbursement.
STAGES: Labels = {
    "risk_check": ("自动风控", "Risk check"),
    "bank_review": ("银行审核", "Bank review"),
    "info_requested": ("企业补充材料", "SME providing information"),
    "sme_signature": ("企业签约", "SME signature"),
    "disbursement": ("银行放款", "Disbursement"),
}

#: The finance zone's products (``FinanceApplication.kind``, ``Loan.kind``, ``BankProduct.kind``).
FINANCE_KINDS: Labels = {
    FinanceKind.RECEIVABLE.value: ("应收账款融资", "Receivables finance"),
    FinanceKind.CONTRACT.value: ("订单融资", "Contract finance"),
    FinanceKind.CREDIT_LINE.value: ("循环额度", "Revolving line"),
}

#: A bank's revolving line for an SME (``SmeCreditLine.status``).
SME_LINE_STATES: Labels = {
    SmeLineStatus.ACTIVE.value: ("有效", "Active"),
    SmeLineStatus.DECLINED.value: ("已拒绝", "Declined"),
    SmeLineStatus.CLOSED.value: ("已关闭", "Closed"),
}

#: The limits of a finance amount (``finance.limits.BindingConstraint``), as the rule names them.
CAPS: Labels = {c.value: (c.label_zh, c.label_en) for c in BindingConstraint}

#: The links of the data chain a risk check looks at (``finance.data_chain``).
CHAIN_LINKS: Labels = {
    "match": ("平台撮合", "Platform match"),
    "intent_order": ("签署的意向订单", "Signed intent order"),
    "contract": ("合同", "Contract"),
    "buyer_payments": ("买方付款记录", "Buyer's payment record"),
    "sme_delivery": ("企业交付记录", "SME's delivery record"),
    "sme_settlement": ("企业结算与还款记录", "SME's settlement and loan record"),
    "credit_line": ("银行循环额度", "The bank's revolving line"),
}

#: The split of a buyer's payment that repaid a contract loan (``ContractPayment.allocation``), in the order the
#: loan is repaid, then what reaches the SME.
WATERFALL: tuple[tuple[str, str, str], ...] = (
    ("principal_fen", "本金", "Principal"),
    ("interest_fen", "利息", "Interest"),
    ("fees_fen", "费用", "Fees"),
    ("penalty_fen", "罚息", "Penalty interest"),
    ("excess_fen", "付给企业", "To the SME"),
)

#: The figures of the 12-month trade record (:class:`finance.credit_suggestion.TradeRecord`) as people read them,
#: in the order the record table shows them.
FIGURE_LABELS: Labels = {
    "months_on_platform": ("入驻平台月数", "Months on the platform"),
    "settled_fen": ("近12个月结清交易额", "Trade settled in 12 months"),
    "settled_deals": ("近12个月结清交易笔数", "Deals settled in 12 months"),
    "largest_deal_fen": ("单笔最大交易额", "Largest single deal"),
    "distinct_buyers": ("结清交易的买方数", "Distinct buyers of the settled deals"),
    "deliveries": ("近12个月交付笔数", "Deliveries in 12 months"),
    "on_time_delivery_share": ("按时交付比例", "Share delivered on time"),
    "confirmed_receivables": ("买方确权应收账款笔数", "Receivables confirmed by buyers"),
    "confirmed_fen": ("买方确权金额", "Amount confirmed by buyers"),
    "disputes": ("买方拒绝确权次数", "Receivables disputed by buyers"),
    "loans_repaid_on_time": ("按时还清贷款笔数", "Loans repaid on time"),
    "loans_repaid_late": ("逾期后还清贷款笔数", "Loans repaid late"),
    "loans_overdue_now": ("当前逾期贷款笔数", "Loans overdue now"),
    "defaults": ("违约贷款笔数（历史）", "Loans in default (ever)"),
}
#: How a reason's effect on the amount is shown: (中文, English, badge tone).
EFFECT_LABELS: dict[str, tuple[str, str, str]] = {
    "+": ("+ 增加", "+ Raises", "ok"),
    "-": ("− 减少", "− Lowers", "warn"),
    "0": ("0 无影响", "0 No effect", "muted"),
    "blocking": ("阻止授信", "Blocks the line", "bad"),
}


def figure_text(figure: str, value: str) -> str:
    """A figure's exact value as shown: money in yuan (exact, from the fen integer), the on-time share as the exact
    decimal and its percentage, counts as they are."""
    if figure.endswith("_fen"):
        return format_yuan(int(value))
    if figure == "on_time_delivery_share":
        return f"{value} = {(Decimal(value) * 100).normalize():f}%"
    return value


#: What either side of an intent order is told when it cancels it.
INTENT_CANCELLED = ("意向订单已撤销", "Intent order cancelled")
