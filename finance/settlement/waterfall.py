"""The contract-loan waterfall (pure rules): the buyer's payment into a financed contract repays the contract loan
first, penalty → interest → fees → principal (:func:`finance.ledger.allocate_repayment`), the rest goes to the SME."""

from __future__ import annotations

from dataclasses import dataclass

from finance.ledger import CONTRACT_ALLOCATION_ORDER, Outstanding, allocate_repayment
from qianfan.errors import InvalidInput
from qianfan.money import require_fen

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
