"""Payment → settlement of matched deals (pure rules): payment plans (:mod:`.plan`), reconciliation
(:mod:`.reconciliation`), bank statements (:mod:`.statements`), late payment by the buyer (:mod:`.lateness`) and the
contract-loan waterfall (:mod:`.waterfall`).  This package's namespace re-exports each module's public names.

Pure functions over plain values: no database, no clock (``as_of`` / ``today`` is always passed in), money in
integer fen.  Every refusal is a bilingual :class:`~qianfan.errors.DomainError`.

**Payment plan** (付款计划) of a contract: instalments of a kind — advance 预付款, acceptance 验收款, final 尾款,
retention 质保金 — each with a positive amount and a due date that is either fixed (``due_on``) or
``days_after_acceptance`` of the delivery acceptance (验收), resolved once acceptance is known.  A plan sums
*exactly* to the contract amount, no fixed due date is before the contract date, an advance has a fixed date,
and there is at most one retention, the last instalment.  :func:`plan_from_percentages` builds one from
percentages by largest remainder (the helper of :mod:`finance.receivables`), so it always sums exactly.

**Reconciliation** (:func:`reconcile_payments`): unique payments (a payment reference seen twice counts once),
taken in date order, fill the instalments oldest-due first — dated instalments by due date, then those still
awaiting acceptance by their offset, ties by plan position.  Anything beyond the plan is ``surplus_fen``,
reported and never lost.

**Bank statements** (:func:`parse_statement_row`, :func:`reconcile_statement`): tolerant of Chinese and English
column names; a row is matched, a duplicate, of unknown reference, or invalid (with a reason in both languages).
The transaction key is the bank's transaction id when the file has one, else date + amount + reference + payer.

**Late payment** (:func:`buyer_lateness`): under the 2025 rules on paying SMEs (《保障中小企业款项支付条例》),
a large firm pays what falls due on delivery within :data:`MAX_PAYMENT_DAYS_AFTER_ACCEPTANCE` (60) days of
acceptance unless the contract says a shorter period; a longer contractual term is capped at 60 days.
Retention money (质保金) is held lawfully until its own due date (the end of the warranty), so it is not capped.

**Waterfall** (:func:`split_buyer_payment`): the buyer's payment into a financed contract repays the contract
loan first, penalty → interest → fees → principal (:func:`finance.ledger.allocate_repayment`), and the rest
goes to the SME.
"""

from finance.settlement.lateness import (
    LateInstalment,
    Lateness,
    buyer_lateness,
)
from finance.settlement.plan import (
    HUNDRED_PERCENT,
    MAX_DAYS_AFTER_ACCEPTANCE,
    MAX_INSTALMENTS,
    MAX_PAYMENT_DAYS_AFTER_ACCEPTANCE,
    Instalment,
    InstalmentKind,
    PaymentPlan,
    PlanTerm,
    plan_from_percentages,
    standard_plan,
)
from finance.settlement.reconciliation import (
    InstalmentState,
    InstalmentStatus,
    Payment,
    PaymentAllocation,
    Punctuality,
    Reconciliation,
    allocation_order,
    punctuality,
    reconcile_payments,
    unique_payments,
)
from finance.settlement.statements import (
    MAX_STATEMENT_BYTES,
    STATEMENT_COLUMNS,
    ReferenceMatcher,
    RowStatus,
    StatementLine,
    StatementReport,
    StatementRow,
    parse_statement_row,
    read_statement_csv,
    reconcile_statement,
)
from finance.settlement.waterfall import (
    SettlementSplit,
    split_buyer_payment,
)

__all__ = [
    "HUNDRED_PERCENT",
    "MAX_DAYS_AFTER_ACCEPTANCE",
    "MAX_INSTALMENTS",
    "MAX_PAYMENT_DAYS_AFTER_ACCEPTANCE",
    "MAX_STATEMENT_BYTES",
    "STATEMENT_COLUMNS",
    "Instalment",
    "InstalmentKind",
    "InstalmentState",
    "InstalmentStatus",
    "LateInstalment",
    "Lateness",
    "Payment",
    "PaymentAllocation",
    "PaymentPlan",
    "PlanTerm",
    "Punctuality",
    "Reconciliation",
    "ReferenceMatcher",
    "RowStatus",
    "SettlementSplit",
    "StatementLine",
    "StatementReport",
    "StatementRow",
    "allocation_order",
    "buyer_lateness",
    "parse_statement_row",
    "plan_from_percentages",
    "punctuality",
    "read_statement_csv",
    "reconcile_payments",
    "reconcile_statement",
    "split_buyer_payment",
    "standard_plan",
    "unique_payments",
]
