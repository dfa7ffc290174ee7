"""Value-level rules for receivables (应收账款) and the multi-tier voucher (split, transfer, payment at maturity).

Pure functions over plain values: no database, no clock (``today`` is always passed in), money in integer fen.
Every refusal is a bilingual :class:`~qianfan.errors.DomainError`:

- :class:`~qianfan.errors.InvalidInput` — the value itself is malformed (zero, negative, not an integer, blank…);
- :class:`~qianfan.errors.RuleViolation` — a business rule forbids it (due date passed, transfer to oneself…);
- :class:`~qianfan.errors.PermissionDenied` — someone other than the holder tries to transfer a part.

Rounding to the fen (``split_by_ratio``, ``allocate_payment``) uses the *largest-remainder* method: every share
is first rounded down, then the fen left over go one each to the shares with the largest fractional remainders,
ties broken by position (earlier first).  The shares therefore always sum exactly to the whole.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Hashable, Iterable, Sequence
from datetime import date
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Any, Protocol, TypeVar

from qianfan.errors import InvalidInput, PermissionDenied, RuleViolation
from qianfan.money import format_yuan, require_fen

#: The largest face amount one receivable may carry: 1,000,000,000.00 RMB (10 亿元), in fen.  Far above the
#: 30,000,000.00 cap per financing deal (a receivable may be larger than what is financed against it) and
#: far below what a column holds, so a typo of a few extra zeros is refused at registration.
MAX_RECEIVABLE_FACE_FEN = 100_000_000_000
#: Invoice numbers: 8 (paper VAT invoice) to 20 digits (全电发票) in practice; anything longer is a mistake.
MAX_INVOICE_NUMBER_LENGTH = 32
#: The most invoices one receivable may list.
MAX_INVOICES_PER_RECEIVABLE = 200
#: The most parts one split may create (each part is a row and may be transferred on, so keep it bounded).
MAX_SPLIT_PARTS = 100

H = TypeVar("H", bound=Hashable)


class PartStatus(StrEnum):
    """Status of a receivable part (or of an unsplit confirmed receivable) as far as transfers care.

    A ``StrEnum``, so a model that stores the plain string (``"held"``) compares equal.
    """

    HELD = "held"  # confirmed and in the hands of its holder: may be split, transferred or financed
    FINANCING = "financing"  # a finance application on it is in progress
    FINANCED = "financed"  # a loan was disbursed against it (at most once, ever)
    TRANSFERRED = "transferred"  # superseded: passed on to another holder
    SETTLED = "settled"  # paid at maturity


class TransferablePart(Protocol):
    """What :func:`check_transfer` reads from a part (a model row or a dataclass both fit)."""

    @property
    def holder_id(self) -> Any: ...

    @property
    def status(self) -> str: ...

    @property
    def amount_fen(self) -> int: ...


# --------------------------------------------------------------------------------------------- amounts


# --------------------------------------------------------------------------------------------- registration


def normalise_invoice_number(number: str) -> str:
    """NFKC (full-width → half-width), strip, drop inner spaces, upper case: ``" ｎo 0012 "`` → ``"NO0012"``."""
    if not isinstance(number, str):
        raise InvalidInput(f"发票号码必须是文本：{number!r}", f"An invoice number must be text: {number!r}")
    return "".join(unicodedata.normalize("NFKC", number).split()).upper()


def normalise_invoice_numbers(numbers: Iterable[str]) -> tuple[str, ...]:
    """Normalise each number, drop blanks, de-duplicate keeping the first occurrence's order."""
    seen: dict[str, None] = {}
    for raw in numbers:
        number = normalise_invoice_number(raw)
        if not number:
            continue
        if len(number) > MAX_INVOICE_NUMBER_LENGTH:
            raise InvalidInput(
                f"发票号码过长（最多{MAX_INVOICE_NUMBER_LENGTH}位）：{number}",
                f"Invoice number too long (at most {MAX_INVOICE_NUMBER_LENGTH} characters): {number}",
                detail={"field": "invoice_numbers", "value": number},
            )
        if not number.isalnum() or not number.isascii():
            raise InvalidInput(
                f"发票号码只能包含字母和数字：{number}",
                f"An invoice number may contain only letters and digits: {number}",
                detail={"field": "invoice_numbers", "value": number},
            )
        seen.setdefault(number, None)
    if len(seen) > MAX_INVOICES_PER_RECEIVABLE:
        raise InvalidInput(
            f"一笔应收账款最多关联{MAX_INVOICES_PER_RECEIVABLE}张发票，实际为{len(seen)}张",
            f"A receivable may list at most {MAX_INVOICES_PER_RECEIVABLE} invoices, got {len(seen)}",
            detail={"field": "invoice_numbers", "count": len(seen)},
        )
    return tuple(seen)


def invoice_key(debtor_id: object, number: str) -> str:
    """The value the database holds a unique index on, so the same invoice is never registered twice.

    ``f"{debtor_id}:{normalised number}"`` — two spellings of one invoice (case, spaces, full width) collide.
    """
    normalised = normalise_invoice_number(number)
    if not normalised:
        raise InvalidInput(
            "发票号码不能为空", "The invoice number must not be blank", detail={"field": "invoice_numbers"}
        )
    return f"{debtor_id}:{normalised}"


def check_registration(
    face_fen: int,
    issue_date: date,
    due_date: date,
    invoice_numbers: Iterable[str],
    today: date,
    *,
    standalone: bool = True,
) -> tuple[str, ...]:
    """Check a receivable before it is registered; return its normalised, de-duplicated invoice numbers.

    - ``0 < face_fen <= MAX_RECEIVABLE_FACE_FEN``;
    - ``issue_date <= today`` (an invoice is not issued in the future) and ``issue_date < due_date``;
    - ``due_date > today`` (a receivable already due cannot be registered for financing);
    - a stand-alone receivable (not backed by a contract or intent order on the platform) needs at least one
      invoice number; one backed by a contract may list none.
    """
    require_fen(face_fen, "应收账款面额", "Face amount")
    if face_fen > MAX_RECEIVABLE_FACE_FEN:
        raise RuleViolation(
            f"应收账款面额超出上限 {format_yuan(MAX_RECEIVABLE_FACE_FEN)}：{format_yuan(face_fen)}",
            f"Face amount exceeds the maximum of {format_yuan(MAX_RECEIVABLE_FACE_FEN)}: {format_yuan(face_fen)}",
            detail={"field": "face_fen", "value": face_fen, "max": MAX_RECEIVABLE_FACE_FEN},
        )
    if issue_date > today:
        raise InvalidInput(
            f"开票/发生日期不能晚于今天（{today}）：{issue_date}",
            f"The issue date cannot be after today ({today}): {issue_date}",
            detail={"field": "issue_date", "value": issue_date.isoformat()},
        )
    if due_date <= issue_date:
        raise InvalidInput(
            f"到期日必须晚于开票/发生日期（{issue_date}）：{due_date}",
            f"The due date must be after the issue date ({issue_date}): {due_date}",
            detail={"field": "due_date", "value": due_date.isoformat()},
        )
    if due_date <= today:
        raise RuleViolation(
            f"应收账款已到期（到期日 {due_date}），不能登记",
            f"The receivable is already due ({due_date}) and cannot be registered",
            detail={"field": "due_date", "value": due_date.isoformat(), "today": today.isoformat()},
        )
    numbers = normalise_invoice_numbers(invoice_numbers)
    if standalone and not numbers:
        raise InvalidInput(
            "未关联合同的应收账款必须填写至少一个发票号码",
            "A receivable not backed by a contract needs at least one invoice number",
            detail={"field": "invoice_numbers"},
        )
    return numbers


# --------------------------------------------------------------------------------------------- confirmation


def check_confirmation(face_fen: int, confirmed_fen: int, *, irrevocable_undertaking: bool) -> int:
    """Confirmation (确权) by the debtor: ``0 < confirmed_fen <= face_fen`` and an irrevocable undertaking.

    Returns the confirmed amount.  Who may confirm (a user of the debtor organisation) is the service's check.
    """
    require_fen(face_fen, "应收账款面额", "Face amount")
    require_fen(confirmed_fen, "确权金额", "Confirmed amount")
    if confirmed_fen > face_fen:
        raise RuleViolation(
            f"确权金额 {format_yuan(confirmed_fen)} 不能超过面额 {format_yuan(face_fen)}",
            f"The confirmed amount {format_yuan(confirmed_fen)} cannot exceed the face amount {format_yuan(face_fen)}",
            detail={"field": "confirmed_fen", "value": confirmed_fen, "max": face_fen},
        )
    if irrevocable_undertaking is not True:
        raise RuleViolation(
            "确权须由债务人作出不可撤销的付款承诺",
            "Confirmation requires the debtor's irrevocable payment undertaking",
            detail={"field": "irrevocable_undertaking"},
        )
    return confirmed_fen


# --------------------------------------------------------------------------------------------- split


def largest_remainder(total_fen: int, weights: Sequence[Fraction]) -> list[int]:
    """Shares of ``total_fen`` proportional to ``weights`` (all > 0), rounded to the fen, summing to the total.

    Round every exact share down, then give the leftover fen one each to the largest fractional remainders,
    ties broken by position (earlier first).  Only shares with a non-zero remainder get a fen, so no share
    ever exceeds its exact value rounded up.
    """
    whole = sum(weights, Fraction(0))
    exact = [total_fen * w / whole for w in weights]
    shares = [q.numerator // q.denominator for q in exact]
    leftover = total_fen - sum(shares)
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in order[:leftover]:
        shares[i] += 1
    return shares


def _check_part_count(count: int) -> None:
    if count < 2:
        raise InvalidInput(
            "拆分至少需要两个部分",
            "A split needs at least two parts",
            detail={"field": "parts", "count": count},
        )
    if count > MAX_SPLIT_PARTS:
        raise InvalidInput(
            f"一次拆分最多{MAX_SPLIT_PARTS}个部分，实际为{count}个",
            f"A split may create at most {MAX_SPLIT_PARTS} parts, got {count}",
            detail={"field": "parts", "count": count},
        )


def split(amount_fen: int, parts: Sequence[int]) -> list[int]:
    """Split a confirmed amount into the given parts: at least two, each positive, summing exactly to it."""
    require_fen(amount_fen, "拆分金额", "Amount to split")
    _check_part_count(len(parts))
    checked = [require_fen(p, f"第{i + 1}部分金额", f"Part {i + 1}") for i, p in enumerate(parts)]
    total = sum(checked)
    if total != amount_fen:
        raise RuleViolation(
            f"拆分各部分合计 {format_yuan(total)} 必须等于原金额 {format_yuan(amount_fen)}",
            f"The parts sum to {format_yuan(total)} but must sum exactly to {format_yuan(amount_fen)}",
            detail={"field": "parts", "sum": total, "expected": amount_fen},
        )
    return checked


def as_weight(value: object, index: int) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, int | Decimal | Fraction):
        raise InvalidInput(
            f"第{index + 1}个比例必须是整数或精确小数（不接受浮点数）：{value!r}",
            f"Weight {index + 1} must be an integer or an exact decimal (never a float): {value!r}",
            detail={"field": "weights", "index": index},
        )
    if isinstance(value, Decimal) and not value.is_finite():
        raise InvalidInput(f"第{index + 1}个比例无效：{value}", f"Weight {index + 1} is not valid: {value}")
    weight = Fraction(value)
    if weight <= 0:
        raise InvalidInput(
            f"第{index + 1}个比例必须大于零：{value}",
            f"Weight {index + 1} must be positive: {value}",
            detail={"field": "weights", "index": index},
        )
    return weight


def split_by_ratio(amount_fen: int, weights: Sequence[int | Decimal | Fraction]) -> list[int]:
    """Split ``amount_fen`` in proportion to ``weights`` (e.g. ``[3, 7]`` or ``[Decimal("0.25"), ...]``).

    Largest-remainder rounding to the fen, ties to the earlier part: the parts always sum to the amount.
    Refused when the amount is too small to give every part at least one fen.
    """
    require_fen(amount_fen, "拆分金额", "Amount to split")
    _check_part_count(len(weights))
    shares = largest_remainder(amount_fen, [as_weight(w, i) for i, w in enumerate(weights)])
    if min(shares) == 0:
        raise RuleViolation(
            f"金额 {format_yuan(amount_fen)} 过小，按此比例拆分会出现零金额的部分",
            f"The amount {format_yuan(amount_fen)} is too small: this ratio would leave a part of zero",
            detail={"field": "weights", "shares": shares},
        )
    return shares


# --------------------------------------------------------------------------------------------- transfer


_TRANSFER_REFUSALS: dict[str, tuple[str, str]] = {
    PartStatus.FINANCING: (
        "该应收账款正在申请融资，不能转让",
        "A finance application on it is in progress; it cannot be transferred",
    ),
    PartStatus.FINANCED: ("已融资的应收账款不能转让", "A financed receivable cannot be transferred"),
    PartStatus.TRANSFERRED: ("该应收账款已转让给他人", "It has already been transferred to someone else"),
    PartStatus.SETTLED: ("已结清的应收账款不能转让", "A settled receivable cannot be transferred"),
}


def check_transfer(part: TransferablePart, holder_id: object, to_id: object, today: date, due_date: date) -> None:
    """May ``holder_id`` transfer ``part`` to ``to_id`` today?

    Only the current holder, never to itself, only strictly before the due date (on the due date the debtor
    pays the holders of record), and only a part that is held — not one being financed, financed,
    already transferred on, or settled.
    """
    require_fen(part.amount_fen, "转让金额", "Amount transferred")
    if part.holder_id != holder_id:
        raise PermissionDenied(
            "只有当前持有人可以转让该应收账款",
            "Only the current holder may transfer this receivable",
            detail={"holder_id": part.holder_id, "requested_by": holder_id},
        )
    if to_id == holder_id:
        raise RuleViolation(
            "不能转让给自己",
            "A receivable cannot be transferred to its own holder",
            detail={"to_id": to_id},
        )
    if today >= due_date:
        raise RuleViolation(
            f"应收账款已到期（到期日 {due_date}），不能再转让",
            f"The receivable has matured ({due_date}) and can no longer be transferred",
            detail={"due_date": due_date.isoformat(), "today": today.isoformat()},
        )
    status = str(part.status)
    if status != PartStatus.HELD:
        zh, en = _TRANSFER_REFUSALS.get(
            status, (f"当前状态（{status}）不能转让", f"It cannot be transferred in its current status ({status})")
        )
        raise RuleViolation(zh, en, detail={"status": status})


# --------------------------------------------------------------------------------------------- payment


def allocate_payment(paid_fen: int, holdings: Sequence[tuple[H, int]]) -> list[tuple[H, int]]:
    """Allocate the debtor's payment at maturity across the holders of record.

    ``holdings`` is ``[(holder_id, amount_fen), ...]`` in holding order (the order parts were created); the
    result is parallel to it (a holder with two parts gets two lines).  A full payment pays every holding in
    full; a partial payment is shared pro rata by amount, rounded to the fen by largest remainder with ties
    to the earlier holding, so it sums exactly to ``paid_fen`` and never pays a holding more than it holds.
    Paying more than the total held is refused (an overpayment is not this rule's to distribute).
    """
    require_fen(paid_fen, "还款金额", "Amount paid")
    if not holdings:
        raise InvalidInput("没有可分配的持有人", "There are no holdings to allocate the payment to")
    amounts = [require_fen(a, f"第{i + 1}个持有份额", f"Holding {i + 1}") for i, (_, a) in enumerate(holdings)]
    total = sum(amounts)
    if paid_fen > total:
        raise RuleViolation(
            f"还款金额 {format_yuan(paid_fen)} 超过应收账款合计 {format_yuan(total)}",
            f"The payment {format_yuan(paid_fen)} exceeds the total held {format_yuan(total)}",
            detail={"paid_fen": paid_fen, "total_fen": total},
        )
    # A full payment is the special case where every exact share is whole: each holding is paid in full.
    shares = largest_remainder(paid_fen, [Fraction(a) for a in amounts])
    return [(holder, share) for (holder, _), share in zip(holdings, shares, strict=True)]
