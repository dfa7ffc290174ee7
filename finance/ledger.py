"""Double-entry ledger for receivables finance (pure rules, integer fen).

Sign convention: a leg's ``amount_fen`` is **positive for a debit, negative for a credit**.  A :class:`Posting`
refuses to exist unless it has at least two legs, every leg is a non-zero ``int`` (never ``bool``/``float``/
``Decimal``) within :data:`qianfan.money.MAX_AMOUNT_FEN`, and the legs sum to exactly zero.  Consequently the
balances of all accounts over any set of postings sum to zero as well.

Accounts are identified by ``(kind, owner_id)``; the owner is the party (or loan) whose sub-ledger it is, by its
row id (an ``int``, like the postings' dimensions; the stored leg's column is text — see
:func:`owner_column`):

==========================  ===========  ==================================================================
kind                        owner        meaning (bank's books unless stated)
==========================  ===========  ==================================================================
``bank_cash``               bank         cash / clearing account of the bank
``loan_principal``          loan         principal receivable of one loan (asset)
``interest_receivable``     loan         interest accrued and not yet paid (asset)
``fee_receivable``          loan         fees charged and not yet paid (asset)
``penalty_receivable``      loan         penalty (overdue) interest accrued and not yet paid (asset)
``interest_income``         bank         interest income (P&L, credit balance)
``fee_income``              bank         fee income (P&L, credit balance)
``penalty_income``          bank         penalty interest income (P&L, credit balance)
``sme_settlement``          SME          the SME's deposit/settlement account at the bank (liability)
``core_payable``            core firm    amounts the bank owes back to the core enterprise (over-payment)
==========================  ===========  ==================================================================

Every posting also carries optional dimensions ``loan_id`` / ``bank_id`` / ``core_enterprise_id`` so that the
views :func:`balances_for_loan`, :func:`balances_for_bank`, :func:`balances_for_core_enterprise` are just
:func:`balances` over the postings tagged with that dimension (each view therefore also sums to zero).

Repayment allocation order (documented rule): **penalty interest → interest → fees → principal**; any amount
beyond everything outstanding is credited to ``core_payable`` of the paying core enterprise (to be refunded),
never silently swallowed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from qianfan.clock import ensure_utc
from qianfan.errors import InvalidInput, RuleViolation
from qianfan.money import require_fen


class AccountKind(StrEnum):
    BANK_CASH = "bank_cash"
    LOAN_PRINCIPAL = "loan_principal"
    INTEREST_RECEIVABLE = "interest_receivable"
    FEE_RECEIVABLE = "fee_receivable"
    PENALTY_RECEIVABLE = "penalty_receivable"
    INTEREST_INCOME = "interest_income"
    FEE_INCOME = "fee_income"
    PENALTY_INCOME = "penalty_income"
    SME_SETTLEMENT = "sme_settlement"
    CORE_PAYABLE = "core_payable"


@dataclass(frozen=True, slots=True, order=True)
class Account:
    kind: AccountKind
    owner_id: int  # the owner's row id, an int all the way to the ledger's row mapping

    def __post_init__(self) -> None:
        if not isinstance(self.kind, AccountKind):
            raise InvalidInput(f"未知的账户类型：{self.kind!r}", f"Unknown account kind: {self.kind!r}")
        if isinstance(self.owner_id, bool) or not isinstance(self.owner_id, int) or self.owner_id < 1:
            raise InvalidInput("账户必须有所属方标识（正整数）", "An account needs an owner id (a positive integer)")

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.owner_id}"


@dataclass(frozen=True, slots=True)
class Leg:
    account: Account
    amount_fen: int  # > 0 debit, < 0 credit

    def __post_init__(self) -> None:
        if not isinstance(self.account, Account):
            raise InvalidInput("分录的账户无效", "A leg needs an Account", detail={"account": repr(self.account)})
        require_fen(self.amount_fen, "分录金额", "A leg's amount", signed=True)
        if self.amount_fen == 0:
            raise InvalidInput(
                f"分录金额不能为零（账户 {self.account}）",
                f"A leg's amount must not be zero (account {self.account})",
            )


@dataclass(frozen=True, slots=True)
class Posting:
    """One balanced journal entry.  Construction fails unless the legs balance exactly."""

    ref: str
    occurred_at: datetime
    memo: str
    legs: tuple[Leg, ...]
    loan_id: int | None = None
    bank_id: int | None = None
    core_enterprise_id: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.ref, str) or not self.ref.strip():
            raise InvalidInput("记账凭证必须有编号", "A posting needs a reference")
        try:
            object.__setattr__(self, "occurred_at", ensure_utc(self.occurred_at))
        except (ValueError, AttributeError):
            raise InvalidInput(
                "记账时间必须带时区", "A posting's time must be timezone-aware", detail={"ref": self.ref}
            ) from None
        if not isinstance(self.legs, tuple):
            object.__setattr__(self, "legs", tuple(self.legs))
        for leg in self.legs:
            if not isinstance(leg, Leg):
                raise InvalidInput("分录格式无效", "Not a ledger leg", detail={"ref": self.ref, "leg": repr(leg)})
        if len(self.legs) < 2:
            raise RuleViolation(
                f"记账凭证至少需要两条分录（{self.ref}）",
                f"A posting needs at least two legs ({self.ref})",
                detail={"ref": self.ref, "legs": len(self.legs)},
            )
        total = sum(leg.amount_fen for leg in self.legs)
        if total != 0:
            raise RuleViolation(
                f"借贷不平衡：凭证 {self.ref} 的分录合计为 {total} 分，应为 0",
                f"Unbalanced posting {self.ref}: legs sum to {total} fen instead of 0",
                detail={"ref": self.ref, "sum_fen": total},
            )

    @property
    def total_debit_fen(self) -> int:
        return sum(leg.amount_fen for leg in self.legs if leg.amount_fen > 0)


def _legs(*pairs: tuple[Account, int]) -> tuple[Leg, ...]:
    return tuple(Leg(account, amount) for account, amount in pairs if amount != 0)


# --- helper constructors -------------------------------------------------------------------------------------


def _transfer(
    ref: str,
    occurred_at: datetime,
    memo: str,
    debit: Account,
    credit: Account,
    amount_fen: int,
    what: tuple[str, str],
    *,
    loan_id: int,
    bank_id: int,
    core_enterprise_id: int | None,
) -> Posting:
    """A two-leg posting: Dr *debit* / Cr *credit* of a positive amount, tagged with its loan, bank and debtor."""
    require_fen(amount_fen, *what)
    return Posting(
        ref,
        occurred_at,
        memo,
        _legs((debit, amount_fen), (credit, -amount_fen)),
        loan_id=loan_id,
        bank_id=bank_id,
        core_enterprise_id=core_enterprise_id,
    )


def disbursement(
    *,
    ref: str,
    occurred_at: datetime,
    loan_id: int,
    bank_id: int,
    sme_id: int,
    core_enterprise_id: int | None,
    amount_fen: int,
    memo: str = "放款 / disbursement",
) -> Posting:
    """Dr loan principal (loan) / Cr SME settlement account (SME): the bank pays the loan into the SME's account."""
    return _transfer(
        ref,
        occurred_at,
        memo,
        Account(AccountKind.LOAN_PRINCIPAL, loan_id),
        Account(AccountKind.SME_SETTLEMENT, sme_id),
        amount_fen,
        ("放款金额", "The disbursed amount"),
        loan_id=loan_id,
        bank_id=bank_id,
        core_enterprise_id=core_enterprise_id,
    )


def interest_accrual(
    *,
    ref: str,
    occurred_at: datetime,
    loan_id: int,
    bank_id: int,
    core_enterprise_id: int | None,
    amount_fen: int,
    penalty: bool = False,
    memo: str | None = None,
) -> Posting:
    """Dr interest (or penalty) receivable / Cr interest (or penalty) income.  The amount is already rounded."""
    receivable = AccountKind.PENALTY_RECEIVABLE if penalty else AccountKind.INTEREST_RECEIVABLE
    income = AccountKind.PENALTY_INCOME if penalty else AccountKind.INTEREST_INCOME
    default_memo = "计提罚息 / penalty interest accrual" if penalty else "计提利息 / interest accrual"
    return _transfer(
        ref,
        occurred_at,
        memo or default_memo,
        Account(receivable, loan_id),
        Account(income, bank_id),
        amount_fen,
        ("计提利息", "Accrued interest"),
        loan_id=loan_id,
        bank_id=bank_id,
        core_enterprise_id=core_enterprise_id,
    )


def interest_rebate(
    *, ref: str, occurred_at: datetime, loan_id: int, bank_id: int, core_enterprise_id: int | None, amount_fen: int
) -> Posting:
    """Dr interest income / Cr interest receivable: the interest accrued to the due date but not earned, written back
    when a loan is repaid before it (interest is owed to the day)."""
    return _transfer(
        ref,
        occurred_at,
        "提前还款冲回未实现利息 / unearned interest written back on early repayment",
        Account(AccountKind.INTEREST_INCOME, bank_id),
        Account(AccountKind.INTEREST_RECEIVABLE, loan_id),
        amount_fen,
        ("冲回利息", "The interest written back"),
        loan_id=loan_id,
        bank_id=bank_id,
        core_enterprise_id=core_enterprise_id,
    )


def penalty_accrual(
    *, ref: str, occurred_at: datetime, loan_id: int, bank_id: int, core_enterprise_id: int | None, amount_fen: int
) -> Posting:
    """Shorthand for :func:`interest_accrual` with ``penalty=True``."""
    return interest_accrual(
        ref=ref,
        occurred_at=occurred_at,
        loan_id=loan_id,
        bank_id=bank_id,
        core_enterprise_id=core_enterprise_id,
        amount_fen=amount_fen,
        penalty=True,
    )


def fee(
    *,
    ref: str,
    occurred_at: datetime,
    loan_id: int,
    bank_id: int,
    core_enterprise_id: int | None,
    amount_fen: int,
    memo: str = "手续费 / fee",
) -> Posting:
    """Dr fee receivable (loan) / Cr fee income (bank)."""
    return _transfer(
        ref,
        occurred_at,
        memo,
        Account(AccountKind.FEE_RECEIVABLE, loan_id),
        Account(AccountKind.FEE_INCOME, bank_id),
        amount_fen,
        ("手续费", "The fee"),
        loan_id=loan_id,
        bank_id=bank_id,
        core_enterprise_id=core_enterprise_id,
    )


def fee_deduction(
    *,
    ref: str,
    occurred_at: datetime,
    loan_id: int,
    bank_id: int,
    sme_id: int,
    core_enterprise_id: int | None,
    amount_fen: int,
    memo: str = "放款时扣收手续费 / fee deducted at disbursement",
) -> Posting:
    """Dr SME settlement (SME) / Cr fee receivable (loan): the fee is taken out of the disbursed amount."""
    return _transfer(
        ref,
        occurred_at,
        memo,
        Account(AccountKind.SME_SETTLEMENT, sme_id),
        Account(AccountKind.FEE_RECEIVABLE, loan_id),
        amount_fen,
        ("手续费", "The fee"),
        loan_id=loan_id,
        bank_id=bank_id,
        core_enterprise_id=core_enterprise_id,
    )


@dataclass(frozen=True, slots=True)
class Outstanding:
    """What a loan still owes, per component (fen, each ≥ 0)."""

    penalty_fen: int = 0
    interest_fen: int = 0
    fees_fen: int = 0
    principal_fen: int = 0

    def __post_init__(self) -> None:
        for name in ("penalty_fen", "interest_fen", "fees_fen", "principal_fen"):
            value = require_fen(getattr(self, name), "未结金额", f"Outstanding {name}", signed=True)
            if value < 0:
                raise InvalidInput(f"未结金额不能为负数：{name}={value}", f"Outstanding must not be negative: {name}")

    @property
    def total_fen(self) -> int:
        return self.penalty_fen + self.interest_fen + self.fees_fen + self.principal_fen


@dataclass(frozen=True, slots=True)
class Allocation:
    penalty_fen: int = 0
    interest_fen: int = 0
    fees_fen: int = 0
    principal_fen: int = 0
    excess_fen: int = 0

    @property
    def total_fen(self) -> int:
        return self.penalty_fen + self.interest_fen + self.fees_fen + self.principal_fen + self.excess_fen


#: The documented repayment waterfall (receivable loans and drawdowns).
ALLOCATION_ORDER: tuple[str, ...] = ("penalty", "interest", "fees", "principal")
#: A contract loan is repaid from the buyer's payments principal first, then interest, then fees (then any
#: penalty), as its signed terms state: each payment into the contract lowers the principal at risk first.
CONTRACT_ALLOCATION_ORDER: tuple[str, ...] = ("principal", "interest", "fees", "penalty")


def allocate_repayment(
    amount_fen: int, outstanding: Outstanding, order: tuple[str, ...] = ALLOCATION_ORDER
) -> Allocation:
    """Split a repayment over the components in *order* (by default penalty → interest → fees → principal); the
    rest is ``excess_fen``."""
    require_fen(amount_fen, "还款金额", "The repayment")
    if sorted(order) != sorted(ALLOCATION_ORDER):
        raise InvalidInput(
            f"还款顺序须恰好包含罚息、利息、费用、本金各一次：{order}",
            f"A repayment order names penalty, interest, fees and principal once each: {order}",
        )
    left = amount_fen
    parts: dict[str, int] = {}
    for name in order:
        due = getattr(outstanding, f"{name}_fen")
        take = min(left, due)
        parts[f"{name}_fen"] = take
        left -= take
    return Allocation(**parts, excess_fen=left)


def repayment(
    *,
    ref: str,
    occurred_at: datetime,
    loan_id: int,
    bank_id: int,
    core_enterprise_id: int | None,
    amount_fen: int,
    outstanding: Outstanding,
    memo: str = "还款 / repayment",
    excess_to: Account | None = None,
    order: tuple[str, ...] = ALLOCATION_ORDER,
) -> Posting:
    """Dr bank cash / Cr the receivables in allocation order; anything beyond what the loan owes is credited to
    *excess_to* — by default the paying core enterprise's payable (an over-payment to refund); when the debtor
    pays a financed receivable, the surplus over the loan belongs to the SME holder's settlement account."""
    alloc = allocate_repayment(amount_fen, outstanding, order)
    excess: tuple[tuple[Account, int], ...] = ()
    if alloc.excess_fen:
        if excess_to is None:
            if core_enterprise_id is None:
                raise InvalidInput(
                    "没有核心企业的贷款须指明超额还款的去向", "A loan without a core enterprise needs excess_to"
                )
            excess_to = Account(AccountKind.CORE_PAYABLE, core_enterprise_id)
        excess = ((excess_to, -alloc.excess_fen),)
    return Posting(
        ref,
        occurred_at,
        memo,
        _legs(
            (Account(AccountKind.BANK_CASH, bank_id), amount_fen),
            (Account(AccountKind.PENALTY_RECEIVABLE, loan_id), -alloc.penalty_fen),
            (Account(AccountKind.INTEREST_RECEIVABLE, loan_id), -alloc.interest_fen),
            (Account(AccountKind.FEE_RECEIVABLE, loan_id), -alloc.fees_fen),
            (Account(AccountKind.LOAN_PRINCIPAL, loan_id), -alloc.principal_fen),
            *excess,
        ),
        loan_id=loan_id,
        bank_id=bank_id,
        core_enterprise_id=core_enterprise_id,
    )


def owner_column(owner_id: int) -> str:
    """The stored form of an account's owner: ``ledger_leg.owner_id`` is a text column (changing it needs a
    migration), so the int becomes a string here, in the ledger's row mapping only — and nowhere on the way in."""
    return str(owner_id)


# --- balances and views --------------------------------------------------------------------------------------


def balances(postings: Iterable[Posting]) -> dict[Account, int]:
    """Net balance (debit positive) of every account touched; accounts netting to zero are kept (as 0)."""
    result: dict[Account, int] = defaultdict(int)
    for posting in postings:
        for leg in posting.legs:
            result[leg.account] += leg.amount_fen
    return dict(result)


def balances_for_loan(postings: Iterable[Posting], loan_id: int) -> dict[Account, int]:
    return balances(p for p in postings if p.loan_id == loan_id)


def balances_for_bank(postings: Iterable[Posting], bank_id: int) -> dict[Account, int]:
    return balances(p for p in postings if p.bank_id == bank_id)


def balances_for_core_enterprise(postings: Iterable[Posting], core_enterprise_id: int) -> dict[Account, int]:
    return balances(p for p in postings if p.core_enterprise_id == core_enterprise_id)


def outstanding_for_loan(postings: Iterable[Posting], loan_id: int) -> Outstanding:
    """What the loan still owes, read from its receivable accounts (never negative)."""
    bal = balances_for_loan(postings, loan_id)

    def owed(kind: AccountKind) -> int:
        return max(0, bal.get(Account(kind, loan_id), 0))

    return Outstanding(
        penalty_fen=owed(AccountKind.PENALTY_RECEIVABLE),
        interest_fen=owed(AccountKind.INTEREST_RECEIVABLE),
        fees_fen=owed(AccountKind.FEE_RECEIVABLE),
        principal_fen=owed(AccountKind.LOAN_PRINCIPAL),
    )


def totals_by_kind(balance_map: Mapping[Account, int]) -> dict[AccountKind, int]:
    """Collapse a balance map over owners: e.g. total principal outstanding of a bank's book."""
    result: dict[AccountKind, int] = defaultdict(int)
    for account, amount in balance_map.items():
        result[account.kind] += amount
    return dict(result)
