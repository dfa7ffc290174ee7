"""Payment → settlement of matched deals (pure rules): payment plans, reconciliation, bank statements, late
payment by the buyer and the contract-loan waterfall.

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

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Any

from finance.ledger import CONTRACT_ALLOCATION_ORDER, Outstanding, allocate_repayment
from finance.receivables import as_weight, largest_remainder
from qianfan.errors import Conflict, DomainError, InvalidInput, RuleViolation
from qianfan.money import format_yuan, require_fen, yuan_to_fen

#: The most instalments one plan may have (each becomes a row; a monthly plan over five years fits).
MAX_INSTALMENTS = 60
#: The furthest a due date may lie after acceptance: ten years of warranty is already unusual.
MAX_DAYS_AFTER_ACCEPTANCE = 3660
#: Large firms pay SMEs within 60 days of delivery acceptance unless the contract says a shorter period.
MAX_PAYMENT_DAYS_AFTER_ACCEPTANCE = 60
#: Percentages of a plan sum to exactly this.
HUNDRED_PERCENT = 100


class InstalmentKind(StrEnum):
    ADVANCE = "advance"  # 预付款
    ACCEPTANCE = "acceptance"  # 验收款 (milestone on delivery acceptance)
    FINAL = "final"  # 尾款
    RETENTION = "retention"  # 质保金

    @property
    def label_zh(self) -> str:
        return _KIND_ZH[self]


_KIND_ZH = {
    InstalmentKind.ADVANCE: "预付款",
    InstalmentKind.ACCEPTANCE: "验收款",
    InstalmentKind.FINAL: "尾款",
    InstalmentKind.RETENTION: "质保金",
}


def _require_date(value: object, what_zh: str, what_en: str) -> date:
    if not isinstance(value, date) or hasattr(value, "hour"):
        raise InvalidInput(
            f"{what_zh}必须是日期：{value!r}", f"{what_en} must be a date: {value!r}", detail={"field": what_en}
        )
    return value


# --------------------------------------------------------------------------------------------- payment plan


@dataclass(frozen=True, slots=True)
class Instalment:
    """One instalment: a kind, an amount in fen, and either a fixed ``due_on`` or ``days_after_acceptance``."""

    kind: InstalmentKind
    amount_fen: int
    due_on: date | None = None
    days_after_acceptance: int | None = None

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "kind", InstalmentKind(self.kind))
        except ValueError:
            raise InvalidInput(
                f"未知的付款类型：{self.kind!r}", f"Unknown instalment kind: {self.kind!r}", detail={"field": "kind"}
            ) from None
        require_fen(self.amount_fen, f"{self.kind.label_zh}金额", f"The {self.kind.value} amount")
        if (self.due_on is None) == (self.days_after_acceptance is None):
            raise InvalidInput(
                f"{self.kind.label_zh}须给出固定付款日期或验收后天数（二者取一）",
                f"The {self.kind.value} instalment needs either a fixed due date or days after acceptance, not both",
                detail={"field": "due", "kind": self.kind.value},
            )
        if self.due_on is not None:
            _require_date(self.due_on, "付款日期", "The due date")
        else:
            days = self.days_after_acceptance
            if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_DAYS_AFTER_ACCEPTANCE:
                raise InvalidInput(
                    f"验收后天数必须是 0 到 {MAX_DAYS_AFTER_ACCEPTANCE} 之间的整数：{days!r}",
                    f"Days after acceptance must be an integer from 0 to {MAX_DAYS_AFTER_ACCEPTANCE}: {days!r}",
                    detail={"field": "days_after_acceptance", "value": repr(days)},
                )
            if self.kind is InstalmentKind.ADVANCE:
                raise InvalidInput(
                    "预付款须有固定付款日期（不能以验收为起点）",
                    "An advance needs a fixed due date (it cannot depend on acceptance)",
                    detail={"field": "due_on", "kind": self.kind.value},
                )

    def due_date(self, acceptance_on: date | None) -> date | None:
        """The resolved due date; ``None`` while it waits for an acceptance date not yet known."""
        if self.due_on is not None:
            return self.due_on
        if acceptance_on is None:
            return None
        assert self.days_after_acceptance is not None
        return acceptance_on + timedelta(days=self.days_after_acceptance)


@dataclass(frozen=True, slots=True)
class PaymentPlan:
    """A contract's payment plan.  Construction fails unless it satisfies every rule of the module docstring."""

    contract_amount_fen: int
    contract_on: date
    instalments: tuple[Instalment, ...]

    def __post_init__(self) -> None:
        require_fen(self.contract_amount_fen, "合同金额", "The contract amount")
        _require_date(self.contract_on, "合同日期", "The contract date")
        if not isinstance(self.instalments, tuple):
            object.__setattr__(self, "instalments", tuple(self.instalments))
        count = len(self.instalments)
        if count == 0:
            raise InvalidInput(
                "付款计划至少需要一期", "A payment plan needs at least one instalment", detail={"field": "instalments"}
            )
        if count > MAX_INSTALMENTS:
            raise InvalidInput(
                f"付款计划最多{MAX_INSTALMENTS}期，实际为{count}期",
                f"A payment plan may have at most {MAX_INSTALMENTS} instalments, got {count}",
                detail={"field": "instalments", "count": count},
            )
        for i, item in enumerate(self.instalments):
            if not isinstance(item, Instalment):
                raise InvalidInput(
                    f"第{i + 1}期格式无效", f"Instalment {i + 1} is not an Instalment", detail={"index": i}
                )
            if item.due_on is not None and item.due_on < self.contract_on:
                raise RuleViolation(
                    f"第{i + 1}期（{item.kind.label_zh}）付款日期 {item.due_on} 早于合同日期 {self.contract_on}",
                    f"Instalment {i + 1} ({item.kind.value}) is due on {item.due_on}, "
                    f"before the contract date {self.contract_on}",
                    detail={"index": i, "due_on": item.due_on.isoformat(), "contract_on": self.contract_on.isoformat()},
                )
        retentions = [i for i, item in enumerate(self.instalments) if item.kind is InstalmentKind.RETENTION]
        if len(retentions) > 1:
            raise RuleViolation(
                f"付款计划最多一期质保金，实际为{len(retentions)}期",
                f"A payment plan may have at most one retention instalment, got {len(retentions)}",
                detail={"field": "instalments", "retention_indexes": retentions},
            )
        if retentions and retentions[0] != count - 1:
            raise RuleViolation(
                "质保金必须是付款计划的最后一期",
                "The retention must be the last instalment of the plan",
                detail={"field": "instalments", "retention_index": retentions[0]},
            )
        total = sum(item.amount_fen for item in self.instalments)
        if total != self.contract_amount_fen:
            gap = total - self.contract_amount_fen
            more_zh, more_en = ("多", "more") if gap > 0 else ("少", "less")
            raise RuleViolation(
                f"付款计划合计 {format_yuan(total)} 与合同金额 {format_yuan(self.contract_amount_fen)} 不符："
                f"{more_zh} {format_yuan(abs(gap))}",
                f"The plan sums to {format_yuan(total)}, {format_yuan(abs(gap))} {more_en} than the contract amount "
                f"{format_yuan(self.contract_amount_fen)}; it must sum exactly",
                detail={"field": "instalments", "sum": total, "expected": self.contract_amount_fen, "gap": gap},
            )

    def due_dates(self, acceptance_on: date | None) -> tuple[date | None, ...]:
        """Every instalment's due date (``None`` where it awaits acceptance); checks the acceptance date."""
        if acceptance_on is not None:
            _require_date(acceptance_on, "验收日期", "The acceptance date")
            if acceptance_on < self.contract_on:
                raise RuleViolation(
                    f"验收日期 {acceptance_on} 早于合同日期 {self.contract_on}",
                    f"The acceptance date {acceptance_on} is before the contract date {self.contract_on}",
                    detail={"acceptance_on": acceptance_on.isoformat(), "contract_on": self.contract_on.isoformat()},
                )
        return tuple(item.due_date(acceptance_on) for item in self.instalments)


@dataclass(frozen=True, slots=True)
class PlanTerm:
    """One line of a plan given as a percentage of the contract amount (``int`` or exact ``Decimal``)."""

    kind: InstalmentKind
    percent: int | Decimal
    due_on: date | None = None
    days_after_acceptance: int | None = None


def _percent(value: Fraction) -> str:
    return f"{Decimal(value.numerator) / Decimal(value.denominator):f}"


def plan_from_percentages(contract_amount_fen: int, contract_on: date, terms: Sequence[PlanTerm]) -> PaymentPlan:
    """A plan whose instalments are the given percentages of the contract amount, summing exactly to it.

    The percentages must sum to exactly 100; the amounts are rounded to the fen by largest remainder (ties to
    the earlier instalment), so e.g. 30 % / 60 % / 10 % of ¥1,000,000.01 gives ¥300,000.00 / ¥600,000.01 /
    ¥100,000.00.  Refused when the amount is too small to give every instalment at least one fen.
    """
    require_fen(contract_amount_fen, "合同金额", "The contract amount")
    if not terms:
        raise InvalidInput(
            "付款计划至少需要一期", "A payment plan needs at least one instalment", detail={"field": "terms"}
        )
    weights = [as_weight(term.percent, i) for i, term in enumerate(terms)]
    total = sum(weights, Fraction(0))
    if total != HUNDRED_PERCENT:
        raise RuleViolation(
            f"各期比例合计为 {_percent(total)}%，必须正好是 100%",
            f"The percentages sum to {_percent(total)}% but must sum to exactly 100%",
            detail={"field": "terms", "sum": _percent(total)},
        )
    amounts = largest_remainder(contract_amount_fen, weights)
    if min(amounts) == 0:
        raise RuleViolation(
            f"合同金额 {format_yuan(contract_amount_fen)} 过小，按此比例会出现零金额的一期",
            f"The contract amount {format_yuan(contract_amount_fen)} is too small: an instalment would be zero",
            detail={"field": "terms", "amounts": amounts},
        )
    return PaymentPlan(
        contract_amount_fen,
        contract_on,
        tuple(
            Instalment(term.kind, amount, term.due_on, term.days_after_acceptance)
            for term, amount in zip(terms, amounts, strict=True)
        ),
    )


def standard_plan(
    contract_amount_fen: int,
    contract_on: date,
    *,
    advance_percent: int | Decimal = 30,
    acceptance_percent: int | Decimal = 60,
    retention_percent: int | Decimal = 10,
    advance_days: int = 7,
    acceptance_days: int = 30,
    retention_days: int = 365,
) -> PaymentPlan:
    """The usual 预付款 / 验收款 / 质保金 plan (default 30 % / 60 % / 10 %).

    The advance is due ``advance_days`` after signing; the acceptance payment ``acceptance_days`` after
    acceptance; the retention ``retention_days`` after acceptance (a one-year warranty).  A zero percentage
    leaves that instalment out.
    """
    _require_date(contract_on, "合同日期", "The contract date")
    if isinstance(advance_days, bool) or not isinstance(advance_days, int) or advance_days < 0:
        raise InvalidInput(
            f"预付款天数必须是非负整数：{advance_days!r}",
            f"The advance days must be a non-negative integer: {advance_days!r}",
            detail={"field": "advance_days"},
        )
    candidates = [
        PlanTerm(InstalmentKind.ADVANCE, advance_percent, due_on=contract_on + timedelta(days=advance_days)),
        PlanTerm(InstalmentKind.ACCEPTANCE, acceptance_percent, days_after_acceptance=acceptance_days),
        PlanTerm(InstalmentKind.RETENTION, retention_percent, days_after_acceptance=retention_days),
    ]
    return plan_from_percentages(contract_amount_fen, contract_on, [t for t in candidates if t.percent != 0])


# --------------------------------------------------------------------------------------------- reconciliation


@dataclass(frozen=True, slots=True)
class Payment:
    """A payment recorded against a contract: a unique reference, an amount in fen and the day it was paid."""

    ref: str
    amount_fen: int
    paid_on: date

    def __post_init__(self) -> None:
        if not isinstance(self.ref, str) or not self.ref.strip():
            raise InvalidInput("付款记录必须有编号", "A payment needs a reference", detail={"field": "ref"})
        object.__setattr__(self, "ref", self.ref.strip())
        require_fen(self.amount_fen, "付款金额", "The payment amount")
        _require_date(self.paid_on, "付款日期", "The payment date")


class InstalmentStatus(StrEnum):
    PAID = "paid"  # 已付清
    OVERDUE = "overdue"  # 已逾期: the due date has passed and something is outstanding
    DUE = "due"  # 今日到期
    PARTLY_PAID = "partly_paid"  # 部分支付, not yet due
    NOT_YET_DUE = "not_yet_due"  # 未到期
    AWAITING_ACCEPTANCE = "awaiting_acceptance"  # 待验收: the due date depends on an acceptance not yet made


@dataclass(frozen=True, slots=True)
class InstalmentState:
    index: int
    kind: InstalmentKind
    amount_fen: int
    due_date: date | None
    paid_fen: int
    status: InstalmentStatus
    days_overdue: int

    @property
    def outstanding_fen(self) -> int:
        return self.amount_fen - self.paid_fen


@dataclass(frozen=True, slots=True)
class PaymentAllocation:
    """``amount_fen`` of payment ``payment_ref`` went to instalment ``index`` (``None`` = surplus)."""

    payment_ref: str
    index: int | None
    amount_fen: int


@dataclass(frozen=True, slots=True)
class Reconciliation:
    as_of: date
    instalments: tuple[InstalmentState, ...]
    allocations: tuple[PaymentAllocation, ...]
    received_fen: int  # Σ unique payments counted (dated on or before as_of)
    surplus_fen: int  # paid beyond the whole plan: to refund or to agree on, never lost
    duplicate_refs: tuple[str, ...]  # references seen more than once (counted once)
    later_refs: tuple[str, ...]  # payments dated after as_of, not counted in this view

    @property
    def paid_fen(self) -> int:
        return sum(s.paid_fen for s in self.instalments)

    @property
    def outstanding_fen(self) -> int:
        return sum(s.outstanding_fen for s in self.instalments)

    @property
    def overdue_fen(self) -> int:
        return sum(s.outstanding_fen for s in self.instalments if s.status is InstalmentStatus.OVERDUE)


def unique_payments(payments: Iterable[Payment]) -> tuple[tuple[Payment, ...], tuple[str, ...]]:
    """De-duplicate by reference: ``(unique payments in date order then reference, duplicated references)``.

    The same reference recorded again with the same amount and date is the same payment (idempotent replay);
    with a different amount or date it is a conflict, refused rather than guessed.
    """
    seen: dict[str, Payment] = {}
    duplicates: dict[str, None] = {}
    for payment in payments:
        if not isinstance(payment, Payment):
            raise InvalidInput("付款记录格式无效", "Not a Payment", detail={"value": repr(payment)})
        first = seen.setdefault(payment.ref, payment)
        if first is payment:
            continue
        if first != payment:
            raise Conflict(
                f"付款编号 {payment.ref} 重复出现但金额或日期不同：{format_yuan(first.amount_fen)} {first.paid_on}"
                f" 与 {format_yuan(payment.amount_fen)} {payment.paid_on}",
                f"Payment {payment.ref} appears twice with a different amount or date: "
                f"{format_yuan(first.amount_fen)} on {first.paid_on} vs {format_yuan(payment.amount_fen)} "
                f"on {payment.paid_on}",
                detail={"ref": payment.ref},
            )
        duplicates.setdefault(payment.ref, None)
    ordered = tuple(sorted(seen.values(), key=lambda p: (p.paid_on, p.ref)))
    return ordered, tuple(sorted(duplicates))


def allocation_order(plan: PaymentPlan, acceptance_on: date | None) -> list[int]:
    """Instalment indexes oldest-due first: dated ones by due date, then those awaiting acceptance by offset."""
    due = plan.due_dates(acceptance_on)

    def key(i: int) -> tuple[int, date, int, int]:
        resolved = due[i]
        if resolved is not None:
            return (0, resolved, 0, i)
        return (1, date.min, plan.instalments[i].days_after_acceptance or 0, i)

    return sorted(range(len(plan.instalments)), key=key)


def _status(due: date | None, amount: int, paid: int, as_of: date) -> tuple[InstalmentStatus, int]:
    """Precedence: paid, then overdue / due today (timing first), then partly paid, awaiting acceptance, not due."""
    if paid >= amount:
        return InstalmentStatus.PAID, 0
    if due is not None and as_of > due:
        return InstalmentStatus.OVERDUE, (as_of - due).days
    if due is not None and as_of == due:
        return InstalmentStatus.DUE, 0
    if paid > 0:
        return InstalmentStatus.PARTLY_PAID, 0
    if due is None:
        return InstalmentStatus.AWAITING_ACCEPTANCE, 0
    return InstalmentStatus.NOT_YET_DUE, 0


def reconcile_payments(
    plan: PaymentPlan, payments: Iterable[Payment], as_of: date, *, acceptance_on: date | None = None
) -> Reconciliation:
    """Allocate the contract's payments to its plan as of a day and report each instalment.

    Payments are de-duplicated by reference (:func:`unique_payments`); those dated after ``as_of`` are left out
    (listed in ``later_refs``).  In date order, each payment fills the instalments oldest-due first
    (:func:`allocation_order`), a partial payment filling an instalment partly; what is left after the whole
    plan is paid is ``surplus_fen``.  Hence Σ paid = Σ unique payments − surplus and no instalment is overpaid.
    """
    _require_date(as_of, "对账日期", "The as-of date")
    due = plan.due_dates(acceptance_on)
    unique, duplicates = unique_payments(payments)
    counted = [p for p in unique if p.paid_on <= as_of]
    later = tuple(p.ref for p in unique if p.paid_on > as_of)
    order = allocation_order(plan, acceptance_on)
    paid = [0] * len(plan.instalments)
    allocations: list[PaymentAllocation] = []
    surplus = 0
    cursor = 0  # position in `order` of the first instalment not yet paid in full
    for payment in counted:
        left = payment.amount_fen
        while left and cursor < len(order):
            i = order[cursor]
            take = min(left, plan.instalments[i].amount_fen - paid[i])
            paid[i] += take
            left -= take
            allocations.append(PaymentAllocation(payment.ref, i, take))
            if paid[i] == plan.instalments[i].amount_fen:
                cursor += 1
        if left:
            surplus += left
            allocations.append(PaymentAllocation(payment.ref, None, left))
    states = []
    for i, item in enumerate(plan.instalments):
        status, days = _status(due[i], item.amount_fen, paid[i], as_of)
        states.append(InstalmentState(i, item.kind, item.amount_fen, due[i], paid[i], status, days))
    return Reconciliation(
        as_of=as_of,
        instalments=tuple(states),
        allocations=tuple(allocations),
        received_fen=sum(p.amount_fen for p in counted),
        surplus_fen=surplus,
        duplicate_refs=duplicates,
        later_refs=later,
    )


@dataclass(frozen=True, slots=True)
class Punctuality:
    """How a buyer paid one contract's plan as of a day: instalments paid in full by their due date, paid in full
    after it, and the worst delay in days (paid late, or still overdue)."""

    on_time: int = 0
    late: int = 0
    max_days_late: int = 0


def punctuality(
    plan: PaymentPlan, payments: Iterable[Payment], as_of: date, *, acceptance_on: date | None = None
) -> Punctuality:
    """An instalment is paid on the date of the payment that completed it (:func:`reconcile_payments`' order)."""
    recon = reconcile_payments(plan, payments, as_of, acceptance_on=acceptance_on)
    paid_on = {p.ref: p.paid_on for p in unique_payments(payments)[0]}
    completed: dict[int, date] = {}
    for alloc in recon.allocations:
        if alloc.index is not None:
            completed[alloc.index] = paid_on[alloc.payment_ref]  # the last allocation is the completing one
    on_time = late = worst = 0
    for state in recon.instalments:
        if state.status is InstalmentStatus.PAID and state.due_date is not None:
            delay = (completed[state.index] - state.due_date).days
            if delay > 0:
                late += 1
                worst = max(worst, delay)
            else:
                on_time += 1
        elif state.status is InstalmentStatus.OVERDUE:
            worst = max(worst, state.days_overdue)
    return Punctuality(on_time, late, worst)


# --------------------------------------------------------------------------------------------- bank statements


#: A statement file is at most this large (a month of a busy account is far smaller).
MAX_STATEMENT_BYTES = 2 * 1024 * 1024


def read_statement_csv(data: bytes | str) -> list[dict[str, str]]:
    """A CSV bank statement as exported by online banking — UTF-8 (with or without BOM) or GBK — into its data rows
    as column → text (blank lines dropped); InvalidInput naming what is wrong with the file."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > MAX_STATEMENT_BYTES:
        raise InvalidInput(
            f"文件不能超过 {MAX_STATEMENT_BYTES // 1024} KB",
            f"The file may be at most {MAX_STATEMENT_BYTES // 1024} KB",
            detail={"field": "file"},
        )
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes nearly any bytes
        raise InvalidInput("文件须是 UTF-8 或 GBK 编码的 CSV", "The file must be a CSV in UTF-8 or GBK")
    if "\x00" in text:
        raise InvalidInput(
            "文件不是 CSV 文本文件，请从网银导出 CSV 格式", "Not a CSV text file; export CSV from your bank"
        )
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        rows = [
            {str(k): (v if isinstance(v, str) else "") for k, v in row.items() if k is not None}
            for row in reader
            if any(isinstance(v, str) and v.strip() for v in row.values())
        ]
    except csv.Error as exc:
        raise InvalidInput(f"CSV 格式有误：{exc}", f"The CSV is malformed: {exc}", detail={"field": "file"}) from None
    if not rows:
        raise InvalidInput(
            "对账单没有数据行（第一行应为列名）", "The statement has no rows (the first line holds the headers)"
        )
    return rows


def _header(name: object) -> str:
    """``" 交易日期 "`` / ``"Transaction_Date"`` → a comparable key (NFKC, lower case, no spaces/_/-/:)."""
    text = unicodedata.normalize("NFKC", str(name)).strip().lower()
    return re.sub(r"[\s_\-:()（）]+", "", text)


#: Column names seen on Chinese and English bank statements (compared after :func:`_header`).
STATEMENT_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "date": ("交易日期", "日期", "记账日期", "入账日期", "交易时间", "date", "transactiondate", "valuedate",
             "bookingdate", "postingdate"),
    "amount": ("金额", "交易金额", "贷方金额", "贷方发生额", "收入金额", "收入", "入账金额", "amount", "credit",
               "creditamount", "transactionamount"),
    "debit": ("借方金额", "借方发生额", "支出金额", "支出", "debit", "debitamount"),
    "reference": ("摘要", "附言", "用途", "备注", "交易附言", "交易摘要", "reference", "memo", "remark", "remarks",
                  "description", "purpose", "narrative"),
    "payer": ("付款人", "付款人名称", "付款方", "对方户名", "对方账户名称", "对方名称", "对方单位", "payer",
              "payername", "counterparty", "counterpartyname"),
    "transaction_id": ("交易流水号", "流水号", "银行流水号", "交易编号", "交易参考号", "transactionid", "txnid",
                       "bankreference", "transactionreference"),
}  # fmt: skip
_ALIASES = {_header(alias): field for field, aliases in STATEMENT_COLUMNS.items() for alias in aliases}

_DATE_PATTERNS = (
    re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日?"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
)
_TIME = re.compile(r"\d{1,2}:\d{2}(:\d{2})?")
_CURRENCY = re.compile(r"^(?:¥|rmb|cny)|(?:元|rmb|cny)$")
#: Yuan with optional thousands separators and decimals: ``1,234,567.89`` or ``1234567.89`` (sign checked later).
_AMOUNT = re.compile(r"-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")


@dataclass(frozen=True, slots=True)
class StatementRow:
    """An incoming payment read from a bank statement (``line`` counts data rows from 1)."""

    line: int
    booked_on: date
    amount_fen: int
    reference: str
    payer: str
    transaction_id: str | None = None

    @property
    def key(self) -> str:
        """The transaction key: ``txn:<bank id>`` when the bank gives one, else date|amount|reference|payer."""
        if self.transaction_id:
            return f"txn:{self.transaction_id}"
        return f"{self.booked_on.isoformat()}|{self.amount_fen}|{_norm(self.reference)}|{_norm(self.payer)}"

    def as_payment(self) -> Payment:
        """The payment to record against the matched contract; its reference is the transaction key."""
        return Payment(self.key, self.amount_fen, self.booked_on)


def _norm(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).upper()


def _text(value: object) -> str:
    if value is None:
        return ""
    return unicodedata.normalize("NFKC", str(value)).strip()


def _parse_date(value: object) -> date:
    """``2026-03-02``, ``2026/3/2``, ``2026.03.02``, ``20260302``, ``2026年3月2日``, optionally with a time."""
    if isinstance(value, datetime):  # a spreadsheet reader's cell
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    for pattern in _DATE_PATTERNS:
        found = pattern.match(text)
        if found is None:
            continue
        rest = text[found.end() :].strip()
        if rest and not _TIME.fullmatch(rest):
            continue
        try:
            return date(*(int(g) for g in found.groups()))
        except ValueError:
            break
    raise InvalidInput(f"交易日期无法识别：{value!r}", f"Not a recognisable date: {value!r}", detail={"field": "date"})


def _parse_amount(value: object) -> int:
    """Yuan as text (``"1,234.50"``, ``"¥1,234.50"``, ``"1234.5元"``) or ``int``/``Decimal`` → fen; floats refused.

    A negative amount is an outgoing payment and is refused like garbage; sub-fen amounts are refused by
    :func:`qianfan.money.yuan_to_fen`.
    """
    if isinstance(value, bool | float):
        raise InvalidInput(
            f"金额不能是浮点数：{value!r}（请按文本读取该列）",
            f"An amount must not be a float: {value!r} (read the column as text)",
            detail={"field": "amount"},
        )
    if isinstance(value, int | Decimal):
        amount = Decimal(value)
    else:
        text = _CURRENCY.sub("", _text(value).replace(" ", "").lower()).removeprefix("+")
        if not _AMOUNT.fullmatch(text):
            raise InvalidInput(f"金额格式无效：{value!r}", f"Not a valid amount: {value!r}", detail={"field": "amount"})
        amount = Decimal(text.replace(",", ""))
    if not amount.is_finite():
        raise InvalidInput(f"金额格式无效：{value!r}", f"Not a valid amount: {value!r}", detail={"field": "amount"})
    if amount < 0:
        raise InvalidInput(
            f"金额为负（支出），不是收款：{value!r}",
            f"A negative amount is an outgoing payment, not a receipt: {value!r}",
            detail={"field": "amount"},
        )
    return yuan_to_fen(amount)


def parse_statement_row(row: Mapping[str, Any], line: int) -> StatementRow:
    """Read one statement row (a dict from ``csv.DictReader``); InvalidInput naming what is wrong.

    Columns are recognised by :data:`STATEMENT_COLUMNS` whatever their case, width or spacing.  Needed: a date,
    an incoming amount (a credit; a row with only a debit is an outgoing payment) and a reference (摘要).
    """
    fields: dict[str, object] = {}
    for name, value in row.items():
        field = _ALIASES.get(_header(name))
        if field and field not in fields and _text(value):
            fields[field] = value
    if "date" not in fields:
        raise InvalidInput("缺少交易日期", "The transaction date is missing", detail={"field": "date"})
    booked_on = _parse_date(fields["date"])
    if "amount" not in fields:
        if "debit" in fields:
            raise InvalidInput(
                "该行为支出（借方），不是收款", "The row is an outgoing (debit) payment, not a receipt",
                detail={"field": "debit"},
            )  # fmt: skip
        raise InvalidInput("缺少金额", "The amount is missing", detail={"field": "amount"})
    amount = _parse_amount(fields["amount"])
    reference = _text(fields.get("reference"))
    if not reference:
        raise InvalidInput("缺少摘要/附言", "The reference (memo) is missing", detail={"field": "reference"})
    txn = _norm(_text(fields.get("transaction_id"))) or None
    return StatementRow(line, booked_on, amount, reference, _text(fields.get("payer")), txn)


class RowStatus(StrEnum):
    MATCHED = "matched"  # 已匹配
    DUPLICATE = "duplicate"  # 重复
    UNKNOWN_REFERENCE = "unknown_reference"  # 无法识别的合同
    INVALID = "invalid"  # 无效行


@dataclass(frozen=True, slots=True)
class StatementLine:
    line: int
    status: RowStatus
    row: StatementRow | None = None
    contract_id: object | None = None
    reason_zh: str = ""
    reason_en: str = ""

    @property
    def amount_fen(self) -> int:
        return self.row.amount_fen if self.row is not None else 0


@dataclass(frozen=True, slots=True)
class StatementReport:
    lines: tuple[StatementLine, ...]

    def count(self, status: RowStatus) -> int:
        return sum(1 for line in self.lines if line.status is status)

    def total_fen(self, status: RowStatus) -> int:
        return sum(line.amount_fen for line in self.lines if line.status is status)

    @property
    def totals(self) -> dict[RowStatus, tuple[int, int]]:
        """``{status: (rows, amount_fen)}`` for every status (zeros included)."""
        return {status: (self.count(status), self.total_fen(status)) for status in RowStatus}

    def matched_by_contract(self) -> dict[object, int]:
        result: dict[object, int] = {}
        for line in self.lines:
            if line.status is RowStatus.MATCHED:
                result[line.contract_id] = result.get(line.contract_id, 0) + line.amount_fen
        return result

    def payments_for(self, contract_id: object) -> tuple[Payment, ...]:
        """The matched rows of a contract as :class:`Payment` (reference = transaction key) to reconcile."""
        return tuple(
            line.row.as_payment()
            for line in self.lines
            if line.status is RowStatus.MATCHED and line.row is not None and line.contract_id == contract_id
        )


ReferenceMatcher = Callable[[str], object | None] | Mapping[str, object]


def _mapping_matcher(mapping: Mapping[str, object]) -> Callable[[str], object | None]:
    """Exact match on the normalised reference, else the one contract whose reference occurs in the text as a
    whole token (``HT-1`` is not found inside ``HT-12``); two different contracts named at once are refused."""
    table = {_norm(key): value for key, value in mapping.items() if _norm(key)}
    patterns = [(re.compile(rf"(?<![0-9A-Z]){re.escape(key)}(?![0-9A-Z])"), value) for key, value in table.items()]

    def match(reference: str) -> object | None:
        if _norm(reference) in table:
            return table[_norm(reference)]
        text = unicodedata.normalize("NFKC", reference).upper()  # spaces kept: they separate references
        found: list[object] = []
        for pattern, value in patterns:
            if pattern.search(text) and value not in found:
                found.append(value)
        if len(found) > 1:
            raise RuleViolation(
                f"摘要同时提到多个合同：{reference}",
                f"The reference names more than one contract: {reference}",
                detail={"reference": reference},
            )
        return found[0] if found else None

    return match


def _duplicate(number: int, row: StatementRow, zh: str, en: str) -> StatementLine:
    return StatementLine(number, RowStatus.DUPLICATE, row, reason_zh=zh, reason_en=en)


def reconcile_statement(
    rows: Iterable[Mapping[str, Any]],
    match_reference: ReferenceMatcher,
    *,
    recorded_keys: Iterable[str] = (),
    as_of: date | None = None,
) -> StatementReport:
    """Classify each statement row: invalid → duplicate → unknown reference → matched, in that order.

    With ``as_of`` (the importing day), a row booked after it is invalid: a statement cannot hold tomorrow's money,
    and a payment is never recorded with a future date (as :func:`finance.service.settlement.record_payment`).

    A row is a duplicate when its transaction key (:attr:`StatementRow.key`) is in ``recorded_keys`` (already
    recorded) or appeared on an earlier row of the file; so a payment is never counted twice.  Without a bank
    transaction id, two genuinely separate transfers with the same date, amount, reference and payer look the
    same: the second is reported as a duplicate for a person to check, never silently counted.
    ``match_reference`` is a function (reference → contract id or ``None``; it may raise a DomainError, taken as
    the reason) or a mapping of contract references to contract ids.
    """
    matcher = _mapping_matcher(match_reference) if isinstance(match_reference, Mapping) else match_reference
    recorded = set(recorded_keys)
    first_line: dict[str, int] = {}  # transaction key → the line that first carried it in this file
    lines: list[StatementLine] = []
    for number, raw in enumerate(rows, start=1):
        try:
            row = parse_statement_row(raw, number)
        except DomainError as err:
            lines.append(StatementLine(number, RowStatus.INVALID, reason_zh=err.message_zh, reason_en=err.message_en))
            continue
        if as_of is not None and row.booked_on > as_of:
            lines.append(
                StatementLine(
                    number,
                    RowStatus.INVALID,
                    reason_zh=f"记账日期 {row.booked_on} 晚于今天 {as_of}",
                    reason_en=f"Booked on {row.booked_on}, after today ({as_of})",
                )
            )
            continue
        if row.key in recorded:
            lines.append(_duplicate(number, row, "该笔交易此前已记录", "This transaction was recorded before"))
            continue
        if row.key in first_line:
            earlier = first_line[row.key]
            lines.append(
                _duplicate(number, row, f"与第{earlier}行是同一笔交易", f"The same transaction as line {earlier}")
            )
            continue
        first_line[row.key] = number
        try:
            contract_id = matcher(row.reference)
        except DomainError as err:
            lines.append(
                StatementLine(
                    number, RowStatus.UNKNOWN_REFERENCE, row, reason_zh=err.message_zh, reason_en=err.message_en
                )
            )
            continue
        if contract_id is None:
            lines.append(
                StatementLine(
                    number,
                    RowStatus.UNKNOWN_REFERENCE,
                    row,
                    reason_zh=f"摘要中没有可识别的合同编号：{row.reference}",
                    reason_en=f"No known contract reference in: {row.reference}",
                )
            )
            continue
        lines.append(StatementLine(number, RowStatus.MATCHED, row, contract_id))
    return StatementReport(tuple(lines))


# --------------------------------------------------------------------------------------------- late payment


@dataclass(frozen=True, slots=True)
class LateInstalment:
    index: int
    kind: InstalmentKind
    deadline: date | None  # the day by which it must be paid (None: awaiting acceptance)
    outstanding_fen: int
    days_late: int
    capped: bool  # the contract allowed longer than the statutory limit; the limit applies


@dataclass(frozen=True, slots=True)
class Lateness:
    as_of: date
    statutory_deadline: date | None  # acceptance + 60 days, once acceptance is known
    lines: tuple[LateInstalment, ...]

    @property
    def late_lines(self) -> tuple[LateInstalment, ...]:
        return tuple(line for line in self.lines if line.days_late > 0)

    @property
    def is_late(self) -> bool:
        return bool(self.late_lines)

    @property
    def days_late(self) -> int:
        """Days since the earliest deadline missed (0 when not late)."""
        return max((line.days_late for line in self.lines), default=0)

    @property
    def late_fen(self) -> int:
        return sum(line.outstanding_fen for line in self.late_lines)


#: The instalments that pay for what was delivered, hence within the statutory limit after acceptance.
_DUE_ON_DELIVERY = frozenset({InstalmentKind.ACCEPTANCE, InstalmentKind.FINAL})


def buyer_lateness(
    plan: PaymentPlan,
    payments: Iterable[Payment],
    acceptance_on: date | None,
    today: date,
    *,
    limit_days: int = MAX_PAYMENT_DAYS_AFTER_ACCEPTANCE,
) -> Lateness:
    """Is the buyer late, by how many days and with how much?

    Payments are allocated as in :func:`reconcile_payments` (as of ``today``).  Each instalment's deadline is
    its contractual due date, except that an acceptance or final payment is due at the latest ``limit_days``
    after acceptance (a shorter contractual term stands, a longer one is capped).  Advances keep their own date;
    retention is due at the end of its warranty.  An instalment is late from the day after its deadline while
    anything of it is outstanding.
    """
    if isinstance(limit_days, bool) or not isinstance(limit_days, int) or limit_days <= 0:
        raise InvalidInput(
            f"付款期限天数必须是正整数：{limit_days!r}",
            f"The payment limit must be a positive number of days: {limit_days!r}",
            detail={"field": "limit_days"},
        )
    recon = reconcile_payments(plan, payments, today, acceptance_on=acceptance_on)
    statutory = acceptance_on + timedelta(days=limit_days) if acceptance_on is not None else None
    lines = []
    for state in recon.instalments:
        deadline = state.due_date
        capped = False
        if statutory is not None and state.kind in _DUE_ON_DELIVERY and deadline is not None and deadline > statutory:
            capped, deadline = True, statutory
        late = (today - deadline).days if deadline is not None and state.outstanding_fen and today > deadline else 0
        lines.append(LateInstalment(state.index, state.kind, deadline, state.outstanding_fen, late, capped))
    return Lateness(today, statutory, tuple(lines))


# --------------------------------------------------------------------------------------------- waterfall


@dataclass(frozen=True, slots=True)
class SettlementSplit:
    """Where a buyer's payment into a financed contract goes (fen): the loan's components, then the SME."""

    penalty_fen: int
    interest_fen: int
    fees_fen: int
    principal_fen: int
    sme_fen: int

    @property
    def loan_fen(self) -> int:
        return self.penalty_fen + self.interest_fen + self.fees_fen + self.principal_fen

    @property
    def total_fen(self) -> int:
        return self.loan_fen + self.sme_fen


def split_buyer_payment(payment_fen: int, owed: Outstanding) -> SettlementSplit:
    """Repay the contract loan first — principal, then interest, then fees, then any penalty, as its terms state
    (:data:`finance.ledger.CONTRACT_ALLOCATION_ORDER`) — and the rest to the SME; exact to the fen.

    The same waterfall the ledger posts (:func:`finance.ledger.allocate_repayment`), whose ``excess_fen`` is the
    SME's share.
    """
    if not isinstance(owed, Outstanding):
        raise InvalidInput("贷款欠款格式无效", "What the loan owes must be an Outstanding", detail={"owed": repr(owed)})
    require_fen(payment_fen, "买方付款金额", "The buyer's payment")
    alloc = allocate_repayment(payment_fen, owed, CONTRACT_ALLOCATION_ORDER)
    return SettlementSplit(alloc.penalty_fen, alloc.interest_fen, alloc.fees_fen, alloc.principal_fen, alloc.excess_fen)
