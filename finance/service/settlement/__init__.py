"""Payment → settlement of contracts (the database side of :mod:`finance.settlement`): the payment plan and delivery
acceptance (:mod:`.plans`), the buyer's payments (:mod:`.payments`), bank-statement imports (:mod:`.statements`), the
settlement view and the office's list of late buyers (:mod:`.views`), on what they share (:mod:`.contracts`).  This
package's namespace re-exports their public names.

Who does what:

- Only the contract's **buyer** (a large firm, by a named user) changes its settlement: sets the plan, accepts the
  delivery, records payments and imports its own bank statements.  The supplier (SME) and the programme office
  read a contract's settlement; to any other organisation the contract does not exist (NotFound).
- A **bank statement** is imported by the buyer whose account it is.  Its rows are matched only against that
  buyer's contracts: a reference to another buyer's contract is reported as an unknown reference.

Decisions:

- **Contract reference** (:func:`contract_reference`): ``HT-<contract id>`` (合同), e.g. ``HT-42``, found anywhere in
  a statement row's memo as a whole token (``HT-4`` is not found inside ``HT-42``; ``HT42`` and ``ht-42`` match
  too); a memo that is nothing but the contract id (``42``) matches as well.  Two contracts in one memo: unknown.
- **No agreed plan**: until the buyer sets one, the contract is paid under the statutory default — the whole
  amount as one final payment (尾款) due 60 days after acceptance.
- **Surplus**: a payment beyond what is outstanding is recorded, never refused; reconciliation reports it as
  ``surplus_fen`` (to refund or to agree on), as :func:`finance.settlement.reconcile_payments` does.
- **Completion**: the contract becomes ``completed`` once it is accepted (delivered) and its plan is paid in full;
  paying in full before acceptance leaves it active until the acceptance.
- **Idempotency**: a payment is unique per ``(contract, ref)`` in the database; a statement row's reference is its
  transaction key, and a bank transaction is unique per ``(buyer, key)``; so a payment is never counted twice, a
  second import of the same statement records nothing and reports the rows as duplicates.  Imports by the same
  buyer queue on a row lock of the buyer's organisation.
"""

from finance.service.settlement.contracts import (
    CONTRACT_ENTITY,
    MAX_FILE_NAME,
    MAX_KEY_CHARS,
    MAX_STATEMENT_ROWS,
    OPEN_CONTRACT,
    REFERENCE_PREFIX,
    STATEMENT_ENTITY,
    contract_on,
    contract_reference,
    default_plan,
    readable_contract,
    stored_key,
)
from finance.service.settlement.payments import (
    RecordedPayment,
    record_payment,
    repay_from_contract_payment,
)
from finance.service.settlement.plans import (
    accept_delivery,
    set_payment_plan,
)
from finance.service.settlement.statements import (
    StatementImportResult,
    import_statement,
    statement_import,
)
from finance.service.settlement.views import (
    LateBuyer,
    Settlement,
    contract_settlement,
    late_buyers,
    settlement_of,
)

__all__ = [
    "CONTRACT_ENTITY",
    "MAX_FILE_NAME",
    "MAX_KEY_CHARS",
    "MAX_STATEMENT_ROWS",
    "OPEN_CONTRACT",
    "REFERENCE_PREFIX",
    "STATEMENT_ENTITY",
    "LateBuyer",
    "RecordedPayment",
    "Settlement",
    "StatementImportResult",
    "accept_delivery",
    "contract_on",
    "contract_reference",
    "contract_settlement",
    "default_plan",
    "import_statement",
    "late_buyers",
    "readable_contract",
    "record_payment",
    "repay_from_contract_payment",
    "set_payment_plan",
    "settlement_of",
    "statement_import",
    "stored_key",
]
