"""Payment plans (付款计划) of a contract (pure rules): instalments of a kind, each with a positive amount and a
fixed due date or a number of days after the delivery acceptance; a plan sums exactly to the contract amount.
:func:`plan_from_percentages` builds one by largest remainder; :func:`standard_plan` is the statutory default."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from finance.receivables import as_weight, largest_remainder
from qianfan.errors import InvalidInput, RuleViolation
from qianfan.money import format_yuan, require_fen

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


def require_date(value: object, what_zh: str, what_en: str) -> date:
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
            require_date(self.due_on, "付款日期", "The due date")
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
        require_date(self.contract_on, "合同日期", "The contract date")
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
            require_date(acceptance_on, "验收日期", "The acceptance date")
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
    require_date(contract_on, "合同日期", "The contract date")
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
