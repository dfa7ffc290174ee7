"""What several sections of the SME's portal share: the label tables, the refusal a form shows, the names of
organisations, and amounts as an input shows them."""

from __future__ import annotations

from dataclasses import dataclass, field

from accounts.queries import organisation_names
from api.web import labels
from api.web.render import field_errors
from finance.limits import BindingConstraint
from qianfan.errors import Conflict, DomainError, InvalidInput, RuleViolation
from qianfan.models import IntentStatus

#: Refusals a form shows beside what was typed (422); a record that is not the SME's stays a 404 page.
FormRefusal = (InvalidInput, RuleViolation, Conflict)

INTENT_NAMES: dict[str, tuple[str, str]] = {
    IntentStatus.PROPOSED.value: ("待签署", "Proposed"),
    IntentStatus.SIGNED.value: ("双方已签署", "Signed by both"),
    IntentStatus.CANCELLED.value: ("已撤销", "Cancelled"),
}
APPLICATION_NAMES = labels.APPLICATION_STATES
CAP_NAMES: dict[str, tuple[str, str]] = {c.value: (c.label_zh, c.label_en) for c in BindingConstraint}


#: The names of organisations by id (``accounts.queries.organisation_names``), as the sections have called it.
org_names = organisation_names


def refused(exc: DomainError) -> tuple[dict[str, tuple[str, str]], tuple[str, str] | None]:
    """A form's own refusal: the fields it names (a rule across the price range on the upper price), or else its
    message above the form."""
    errors = field_errors(exc) if isinstance(exc, InvalidInput) else {}
    if "__root__" in errors:  # a rule across fields (the price range)
        errors["price_max"] = errors.pop("__root__")
    message = None if errors else (exc.message_zh, exc.message_en)
    return errors, message


def plain_yuan(fen: int) -> str:
    """Fen as a plain yuan string for an input (``142200000`` → ``1422000.00``), exact."""
    return f"{fen // 100}.{fen % 100:02d}"


def refusal_fields(exc: DomainError) -> dict[str, tuple[str, str]]:
    """The form fields a refusal names: an ``InvalidInput``'s list, a rule's ``{"field": …}``, or the amount when
    a limit refused it (``binding_constraint``)."""
    if isinstance(exc, InvalidInput):
        errors = field_errors(exc)
        if errors:
            return errors
    detail = exc.detail
    if isinstance(detail, dict):
        if isinstance(detail.get("field"), str):
            return {str(detail["field"]): (exc.message_zh, exc.message_en)}
        if "binding_constraint" in detail or "max_amount_fen" in detail:
            return {"amount": (exc.message_zh, exc.message_en)}
    return {}


@dataclass(frozen=True, slots=True)
class FormState:
    """A form as its page shows it: what was typed, a refusal beside each field it names, the message above the form,
    and the status (422 once a use case refused it).  A page given no state shows its form as it first opens."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, tuple[str, str]] = field(default_factory=dict)
    message: tuple[str, str] | None = None
    status_code: int = 200

    @classmethod
    def refused(cls, values: dict[str, str], exc: DomainError) -> FormState:
        """The form again after its own refusal (:func:`refused`): the fields named, or else the message."""
        errors, message = refused(exc)
        return cls(values, errors, message, 422)

    @classmethod
    def limited(cls, values: dict[str, str], exc: DomainError) -> FormState:
        """The form again after a finance refusal: its message, and the fields it names (:func:`refusal_fields`)."""
        return cls(values, refusal_fields(exc), (exc.message_zh, exc.message_en), 422)
