"""The finance read models the bank's and the SME's pages read through (issue 16): one application with its rows
read through ``finance.access`` (another SME's or another bank's is not found), the parts an SME can finance, the
approved-not-disbursed group taken from the state machine, and a party's platform age as ``finance.platform_age``
defines it."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from finance.queries.applications import APPROVED_NOT_DISBURSED_STATES, application_file, review_queue_list
from finance.queries.history import party_history
from finance.queries.platform import platform_since
from finance.queries.receivables import financeable_parts, held_part
from finance.states import FINANCE_APPLICATION, ApplicationEvent
from qianfan.errors import NotFound
from qianfan.models import ApplicationStatus
from tests.finance_service.conftest import World


def test_an_application_file_is_read_through_access(world: World) -> None:
    loan = world.disbursed("800000.00")
    with Session(world.engine) as s:
        for reader in (world.sme, world.reviewer, world.office):
            file = application_file(s, reader, loan.application_id)
            assert file.loan is not None and file.loan.id == loan.id
            assert file.receivable is not None and file.part is not None and file.product.id is not None
        for stranger in (world.supplier, world.bank2_admin, world.core2):
            with pytest.raises(NotFound):
                application_file(s, stranger, loan.application_id)


def test_the_parts_an_sme_can_finance_are_its_own_held_parts(world: World) -> None:
    part = world.confirmed_part("1000000.00")
    with Session(world.engine) as s:
        assert [p.id for p, _ in financeable_parts(s, world.sme)] == [part.id]
        assert financeable_parts(s, world.supplier) == []
        assert held_part(s, world.sme, part.id) is not None and held_part(s, world.supplier, part.id) is None
    world.apply(part.id)
    with Session(world.engine) as s:
        assert financeable_parts(s, world.sme) == []  # in an application now
        assert [a.status for a in review_queue_list(s, world.bank2_admin)] == []


def test_approved_not_disbursed_are_the_states_from_which_the_machine_signs_or_disburses() -> None:
    assert set(APPROVED_NOT_DISBURSED_STATES) == {
        s
        for s in ApplicationStatus
        if FINANCE_APPLICATION.can(s, ApplicationEvent.SIGN_OFFER)
        or FINANCE_APPLICATION.can(s, ApplicationEvent.DISBURSE)
    }


def test_a_partys_record_counts_its_platform_age_by_the_one_definition(world: World) -> None:
    world.confirmed_part("1000000.00")
    with Session(world.engine) as s:
        for org in (world.sme.organisation_id, world.core.organisation_id):
            record = party_history(s, org)
            assert record.on_platform_since == platform_since(s, org)
