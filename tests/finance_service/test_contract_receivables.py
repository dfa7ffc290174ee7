"""Receivables against a platform contract: the debtor is the contract's buyer, no invoice is needed, and the
receivables registered on one contract never exceed its amount."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from finance import service as fs
from market import service as mkt
from qianfan.errors import NotFound, RuleViolation
from qianfan.models import Contract
from tests.finance_service.conftest import World
from tests.services.conftest import offer_data, order_data


def signed_contract(world: World, amount: str = "2000000.00") -> Contract:
    order = mkt.post_order(world.uow(), world.core, order_data(world.due(30), required_qualifications=[]))
    offer = mkt.list_offer(world.uow(), world.sme, offer_data(qualifications=[]))
    intent = mkt.propose_intent_order(
        world.uow(),
        world.sme,
        {"order_id": order.id, "offer_id": offer.id, "amount": amount, "delivery_due": world.due(20)},
    )
    mkt.sign_intent_order(world.uow(), world.core, intent.id)
    with Session(world.engine) as s:
        contract = mkt.contract_for(s, intent.id)
    assert contract is not None
    return contract


def register(world: World, contract: Contract, face: str) -> object:
    return fs.register_receivable(
        world.uow(),
        world.sme,
        {
            "title": "合同项下货款",
            "contract_id": contract.id,
            "face": face,
            "issue_date": world.clock.now().date(),
            "due_date": world.due(90),
        },
    )


def test_receivables_on_a_contract_stay_within_its_amount(world: World) -> None:
    contract = signed_contract(world, "2000000.00")
    first = register(world, contract, "1500000.00")
    assert first.debtor_id == contract.buyer_id and first.invoice_numbers == []
    register(world, contract, "500000.00")  # exactly the contract amount in all
    with pytest.raises(RuleViolation) as err:
        register(world, contract, "0.01")
    assert err.value.detail == {"registered_fen": 200_000_000, "contract_fen": 200_000_000}


def test_a_cancelled_receivable_frees_its_share_of_the_contract(world: World) -> None:
    contract = signed_contract(world, "1000000.00")
    rec = register(world, contract, "1000000.00")
    fs.dispute_receivable(world.uow(), world.core, rec.id, "金额与验收单不符")
    register(world, contract, "900000.00")


def test_only_the_contracts_supplier_registers_on_it(world: World) -> None:
    contract = signed_contract(world)
    with pytest.raises(NotFound):
        fs.register_receivable(
            world.uow(),
            world.supplier,
            {
                "title": "冒名登记",
                "contract_id": contract.id,
                "face": "1000.00",
                "issue_date": world.clock.now().date(),
                "due_date": world.due(90),
            },
        )
