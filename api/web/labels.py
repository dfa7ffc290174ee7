"""Names of states and stages as people read them, ``value → (中文, English)``, shared by every portal.

The finance state machines carry their own labels (:mod:`finance.states`); the contract states and the stages of
the 48-hour clock are named here once.
"""

from __future__ import annotations

from finance.states import FINANCE_APPLICATION, LOAN, RECEIVABLE

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
