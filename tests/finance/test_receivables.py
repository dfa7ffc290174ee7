"""Pure rules for receivables: registration, confirmation, split, transfer, payment allocation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from finance.receivables import (
    MAX_RECEIVABLE_FACE_FEN,
    MAX_SPLIT_PARTS,
    PartStatus,
    allocate_payment,
    check_confirmation,
    check_registration,
    check_transfer,
    invoice_key,
    normalise_invoice_numbers,
    split,
    split_by_ratio,
)
from qianfan.errors import DomainError, InvalidInput, PermissionDenied, RuleViolation

TODAY = date(2026, 3, 2)
ISSUED = date(2026, 2, 1)
DUE = date(2026, 8, 31)


def _bilingual(err: DomainError) -> None:
    assert any("\u4e00" <= ch <= "\u9fff" for ch in err.message_zh), err.message_zh
    assert err.message_en and not any("\u4e00" <= ch <= "\u9fff" for ch in err.message_en), err.message_en


# --------------------------------------------------------------------------------------------- registration


def test_registration_normalises_invoice_numbers() -> None:
    numbers = check_registration(100, ISSUED, DUE, [" no0012 ", "NO0012", "", "ｎｏ 0013", "  "], TODAY)
    assert numbers == ("NO0012", "NO0013")


def test_registration_backed_by_contract_may_list_no_invoice() -> None:
    assert check_registration(100, ISSUED, DUE, [], TODAY, standalone=False) == ()


@pytest.mark.parametrize(
    ("face", "issue", "due", "numbers", "error", "field"),
    [
        (0, ISSUED, DUE, ["1"], InvalidInput, "Face amount"),
        (-1, ISSUED, DUE, ["1"], InvalidInput, "Face amount"),
        (1.5, ISSUED, DUE, ["1"], InvalidInput, "Face amount"),
        (True, ISSUED, DUE, ["1"], InvalidInput, "Face amount"),
        (MAX_RECEIVABLE_FACE_FEN + 1, ISSUED, DUE, ["1"], RuleViolation, "face_fen"),
        (100, TODAY + timedelta(days=1), DUE, ["1"], InvalidInput, "issue_date"),
        (100, ISSUED, ISSUED, ["1"], InvalidInput, "due_date"),
        (100, ISSUED, TODAY, ["1"], RuleViolation, "due_date"),
        (100, ISSUED, DUE, [], InvalidInput, "invoice_numbers"),
        (100, ISSUED, DUE, ["  ", ""], InvalidInput, "invoice_numbers"),
        (100, ISSUED, DUE, ["12-34"], InvalidInput, "invoice_numbers"),
        (100, ISSUED, DUE, ["1" * 33], InvalidInput, "invoice_numbers"),
    ],
)
def test_registration_refusals(
    face: Any, issue: date, due: date, numbers: list[str], error: type[DomainError], field: str
) -> None:
    with pytest.raises(error) as info:
        check_registration(face, issue, due, numbers, TODAY)
    _bilingual(info.value)
    assert info.value.detail["field"] == field


def test_registration_boundaries() -> None:
    assert check_registration(1, ISSUED, DUE, ["1"], TODAY) == ("1",)
    assert check_registration(MAX_RECEIVABLE_FACE_FEN, ISSUED, DUE, ["1"], TODAY) == ("1",)
    # issued today and due tomorrow is the shortest receivable accepted
    assert check_registration(1, TODAY, TODAY + timedelta(days=1), ["1"], TODAY) == ("1",)


def test_invoice_key_collides_for_two_spellings_of_one_invoice() -> None:
    assert invoice_key(7, " ab12 ") == invoice_key(7, "AB12") == "7:AB12"
    assert invoice_key(7, "AB12") != invoice_key(8, "AB12")
    with pytest.raises(InvalidInput):
        invoice_key(7, "   ")


@given(st.lists(st.text(alphabet="abcXYZ019 ", max_size=6), max_size=20))
def test_normalised_numbers_are_unique_and_idempotent(raw: list[str]) -> None:
    numbers = normalise_invoice_numbers(raw)
    assert len(set(numbers)) == len(numbers)
    assert normalise_invoice_numbers(numbers) == numbers
    assert all(n and n == n.upper() and " " not in n for n in numbers)


# --------------------------------------------------------------------------------------------- confirmation


def test_confirmation_accepts_face_or_less() -> None:
    assert check_confirmation(100, 100, irrevocable_undertaking=True) == 100
    assert check_confirmation(100, 1, irrevocable_undertaking=True) == 1


@pytest.mark.parametrize(
    ("face", "confirmed", "undertaking", "error"),
    [
        (100, 0, True, InvalidInput),
        (100, -1, True, InvalidInput),
        (100, 101, True, RuleViolation),
        (0, 0, True, InvalidInput),
        (100, 100, False, RuleViolation),
    ],
)
def test_confirmation_refusals(face: int, confirmed: int, undertaking: bool, error: type[DomainError]) -> None:
    with pytest.raises(error) as info:
        check_confirmation(face, confirmed, irrevocable_undertaking=undertaking)
    _bilingual(info.value)


# --------------------------------------------------------------------------------------------- split


def test_split_exact_parts() -> None:
    assert split(1000, [1, 999]) == [1, 999]


@pytest.mark.parametrize(
    ("amount", "parts", "error"),
    [
        (1000, [1000], InvalidInput),  # one part is not a split
        (1000, [], InvalidInput),
        (1000, [500, 499], RuleViolation),  # one fen short
        (1000, [500, 501], RuleViolation),  # one fen over
        (1000, [1000, 0], InvalidInput),
        (1000, [1001, -1], InvalidInput),
        (0, [0, 0], InvalidInput),
        (1000, [1] * (MAX_SPLIT_PARTS + 1), InvalidInput),
    ],
)
def test_split_refusals(amount: int, parts: list[int], error: type[DomainError]) -> None:
    with pytest.raises(error) as info:
        split(amount, parts)
    _bilingual(info.value)


@given(st.lists(st.integers(min_value=1, max_value=10**11), min_size=2, max_size=MAX_SPLIT_PARTS))
def test_split_accepts_any_positive_parts_summing_to_the_whole(parts: list[int]) -> None:
    assert split(sum(parts), parts) == parts


def test_split_by_ratio_largest_remainder_ties_to_the_earlier_part() -> None:
    assert split_by_ratio(100, [1, 1, 1]) == [34, 33, 33]
    assert split_by_ratio(1000, [3, 7]) == [300, 700]
    assert split_by_ratio(101, [Decimal("0.5"), Decimal("0.5")]) == [51, 50]
    assert split_by_ratio(10, [Fraction(1, 3), Fraction(2, 3)]) == [3, 7]
    assert split_by_ratio(2, [1, 1]) == [1, 1]


@pytest.mark.parametrize(
    ("amount", "weights", "error"),
    [
        (1, [1, 1], RuleViolation),  # one fen cannot be split in two
        (100, [1, 0], InvalidInput),
        (100, [1, -1], InvalidInput),
        (100, [0.5, 0.5], InvalidInput),
        (100, [Decimal("NaN"), 1], InvalidInput),
        (100, [True, 1], InvalidInput),
        (100, [1], InvalidInput),
        (0, [1, 1], InvalidInput),
    ],
)
def test_split_by_ratio_refusals(amount: int, weights: list[Any], error: type[DomainError]) -> None:
    with pytest.raises(error) as info:
        split_by_ratio(amount, weights)
    _bilingual(info.value)


@given(
    st.integers(min_value=1, max_value=10**12),
    st.lists(st.integers(min_value=1, max_value=10**6), min_size=2, max_size=30),
)
def test_split_by_ratio_parts_always_sum_to_the_whole(amount: int, weights: list[int]) -> None:
    try:
        parts = split_by_ratio(amount, weights)
    except RuleViolation:
        assert amount < len(weights) * max(weights)  # refused only when some exact share is below one fen
        return
    assert sum(parts) == amount
    assert all(p >= 1 for p in parts)
    whole = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        assert abs(Fraction(part) - Fraction(amount * weight, whole)) < 1  # within one fen of the exact share


# --------------------------------------------------------------------------------------------- transfer


@dataclass
class Part:
    holder_id: Any
    status: str
    amount_fen: int = 1000


def test_transfer_by_holder_before_maturity() -> None:
    check_transfer(Part(1, PartStatus.HELD), 1, 2, TODAY, DUE)
    check_transfer(Part(1, "held"), 1, 2, DUE - timedelta(days=1), DUE)  # plain strings from a model row


@pytest.mark.parametrize(
    ("part", "holder", "to", "today", "error"),
    [
        (Part(1, "held"), 1, 1, TODAY, RuleViolation),  # to oneself
        (Part(1, "held"), 2, 3, TODAY, PermissionDenied),  # not the holder
        (Part(1, "held"), 1, 2, DUE, RuleViolation),  # on the due date
        (Part(1, "held"), 1, 2, DUE + timedelta(days=1), RuleViolation),  # after maturity
        (Part(1, "financing"), 1, 2, TODAY, RuleViolation),
        (Part(1, "financed"), 1, 2, TODAY, RuleViolation),
        (Part(1, "transferred"), 1, 2, TODAY, RuleViolation),
        (Part(1, "settled"), 1, 2, TODAY, RuleViolation),
        (Part(1, "weird"), 1, 2, TODAY, RuleViolation),
        (Part(1, "held", 0), 1, 2, TODAY, InvalidInput),
    ],
)
def test_transfer_refusals(part: Part, holder: int, to: int, today: date, error: type[DomainError]) -> None:
    with pytest.raises(error) as info:
        check_transfer(part, holder, to, today, DUE)
    _bilingual(info.value)


# --------------------------------------------------------------------------------------------- payment


def test_full_payment_pays_everyone() -> None:
    assert allocate_payment(1000, [("a", 300), ("b", 700)]) == [("a", 300), ("b", 700)]


def test_partial_payment_pro_rata_with_ties_to_the_earlier_holding() -> None:
    assert allocate_payment(1, [("a", 1), ("b", 1)]) == [("a", 1), ("b", 0)]
    assert allocate_payment(2, [("a", 1), ("b", 1), ("c", 1)]) == [("a", 1), ("b", 1), ("c", 0)]
    assert allocate_payment(500, [("a", 300), ("b", 700)]) == [("a", 150), ("b", 350)]
    # the same holder with two parts gets one line per part, in holding order
    assert allocate_payment(3, [("a", 2), ("b", 2), ("a", 2)]) == [("a", 1), ("b", 1), ("a", 1)]


@pytest.mark.parametrize(
    ("paid", "holdings", "error"),
    [
        (0, [("a", 1)], InvalidInput),
        (-1, [("a", 1)], InvalidInput),
        (1, [], InvalidInput),
        (3, [("a", 1), ("b", 1)], RuleViolation),  # overpayment
        (1, [("a", 0), ("b", 1)], InvalidInput),
    ],
)
def test_allocate_payment_refusals(paid: int, holdings: list[tuple[str, int]], error: type[DomainError]) -> None:
    with pytest.raises(error) as info:
        allocate_payment(paid, holdings)
    _bilingual(info.value)


@st.composite
def payments(draw: st.DrawFn) -> tuple[int, list[tuple[int, int]]]:
    amounts = draw(st.lists(st.integers(min_value=1, max_value=10**10), min_size=1, max_size=30))
    paid = draw(st.integers(min_value=1, max_value=sum(amounts)))
    return paid, list(enumerate(amounts))


@given(payments())
def test_allocation_sums_to_paid_and_never_overpays(case: tuple[int, list[tuple[int, int]]]) -> None:
    paid, holdings = case
    result = allocate_payment(paid, holdings)
    assert [h for h, _ in result] == [h for h, _ in holdings]
    assert sum(a for _, a in result) == paid
    total = sum(a for _, a in holdings)
    for (_, got), (_, held) in zip(result, holdings, strict=True):
        assert 0 <= got <= held
        assert abs(Fraction(got) - Fraction(paid * held, total)) < 1
    if paid == total:
        assert result == holdings
