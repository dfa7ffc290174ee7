"""Orders and their awards as an Open Contracting Data Standard (OCDS 1.1) release package, for the programme office.

One release per order (``ocid`` = ``ocds-qianfan-<order id>``), describing its current state at its latest event:

- ``tender``: the order (title, description, budget as ``value``, its category as the item's classification, the
  period from posting to its deadline), ``tag`` ``["tender"]`` while nothing was awarded;
- ``awards``: one per *signed* intent order (意向订单, signed by both sides) with its supplier, ``tag`` gains
  ``"award"``; ``contracts``: one per contract (each comes from a signed intent order, its ``awardID``), ``tag``
  gains ``"contract"``;
- ``parties``: every organisation named in the release, with its roles (``buyer``, ``supplier``) and its unified
  social credit code (scheme ``CN-USCC``); every award's supplier is among them.

The release's ``date`` is the latest of: the order's posting or last change, its awards' (later) signatures and its
contracts' signatures.  :func:`release_package` keeps the releases whose date lies in ``[start, end)``.

Money: OCDS amounts are JSON numbers.  They are built from integer fen as ``Decimal`` yuan with two places and
written by :func:`dumps` digit for digit (``12500000.50``, never a binary float such as ``12500000.499999``), so
``json.loads(text, parse_float=Decimal)`` gives back exactly ``fen / 100``.  Currency is always ``CNY``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from qianfan import taxonomy
from qianfan.clock import SHANGHAI, ensure_utc, to_local
from qianfan.models import Contract, ContractStatus, IntentOrder, IntentStatus, Order, OrderStatus, Organisation
from qianfan.money import fen_to_yuan

OCDS_VERSION = "1.1"
OCID_PREFIX = "ocds-qianfan-"
CURRENCY = "CNY"
IDENTIFIER_SCHEME = "CN-USCC"  # 统一社会信用代码, org-id.guide
CATEGORY_SCHEME = "X-QIANFAN-CATEGORY"

_TENDER_STATUS = {OrderStatus.OPEN: "active", OrderStatus.AWARDED: "complete"}
_CONTRACT_STATUS = {
    ContractStatus.ACTIVE: "active",
    ContractStatus.DELIVERED: "active",
    ContractStatus.COMPLETED: "terminated",  # OCDS: no longer in force, completed or ended early
    ContractStatus.TERMINATED: "terminated",
}


def ocid(order_id: int) -> str:
    return f"{OCID_PREFIX}{order_id}"


def party_id(organisation_id: int) -> str:
    return f"qianfan-org-{organisation_id}"


def amount(fen: int) -> dict[str, Any]:
    """An OCDS ``Value``: exact decimal yuan (``Decimal``, written as a JSON number by :func:`dumps`)."""
    return {"amount": fen_to_yuan(fen), "currency": CURRENCY}


def _when(moment: datetime, tz: ZoneInfo) -> str:
    return to_local(ensure_utc(moment), tz).isoformat(timespec="seconds")


def _end_of_day(day: date, tz: ZoneInfo) -> str:
    return (datetime.combine(day + timedelta(days=1), time(), tz) - timedelta(seconds=1)).isoformat()


def _signed_at(intent: IntentOrder) -> datetime:
    stamps = [ensure_utc(s) for s in (intent.buyer_signed_at, intent.supplier_signed_at) if s is not None]
    return max(stamps) if stamps else ensure_utc(intent.proposed_at)


def _party(org: Organisation, roles: Iterable[str]) -> dict[str, Any]:
    assert org.id is not None
    party: dict[str, Any] = {
        "id": party_id(org.id),
        "name": org.name,
        "identifier": {"scheme": IDENTIFIER_SCHEME, "id": org.credit_code, "legalName": org.name},
        "address": {"region": org.district, "countryName": "中国"},
        "roles": sorted(set(roles)),
    }
    if org.name_en:
        party["additionalIdentifiers"] = [
            {"scheme": IDENTIFIER_SCHEME, "id": org.credit_code, "legalName": org.name_en}
        ]
    return party


def _reference(org: Organisation) -> dict[str, str]:
    assert org.id is not None
    return {"id": party_id(org.id), "name": org.name}


def release(
    order: Order,
    awards: list[IntentOrder],
    contracts: list[Contract],
    orgs: dict[int, Organisation],
    tz: ZoneInfo = SHANGHAI,
) -> tuple[datetime, dict[str, Any]]:
    """The release of *order* with its signed intent orders (*awards*) and *contracts*; returns its date too."""
    assert order.id is not None
    buyer = orgs[order.organisation_id]
    roles: dict[int, set[str]] = defaultdict(set)
    roles[order.organisation_id].add("buyer")
    moments = [ensure_utc(order.created_at), ensure_utc(order.updated_at)]
    award_ids: dict[int, str] = {}
    award_rows = []
    for intent in sorted(awards, key=lambda i: i.id or 0):
        assert intent.id is not None
        award_ids[intent.id] = f"{ocid(order.id)}-award-{intent.id}"
        roles[intent.supplier_id].add("supplier")
        roles[intent.buyer_id].add("buyer")
        signed = _signed_at(intent)
        moments.append(signed)
        award_rows.append(
            {
                "id": award_ids[intent.id],
                "title": intent.title,
                "status": "active",
                "date": _when(signed, tz),
                "value": amount(intent.amount_fen),
                "suppliers": [_reference(orgs[intent.supplier_id])],
                "contractPeriod": {"endDate": _end_of_day(intent.delivery_due, tz)},
            }
        )
    contract_rows = []
    for contract in sorted(contracts, key=lambda c: c.id or 0):
        assert contract.id is not None
        moments.append(ensure_utc(contract.signed_at))
        row: dict[str, Any] = {
            "id": f"{ocid(order.id)}-contract-{contract.id}",
            "awardID": award_ids.get(contract.intent_order_id, f"{ocid(order.id)}-award-{contract.intent_order_id}"),
            "title": contract.title,
            "status": _CONTRACT_STATUS.get(contract.status, "active"),
            "value": amount(contract.amount_fen),
            "dateSigned": _when(contract.signed_at, tz),
            "period": {
                "startDate": _when(contract.signed_at, tz),
                "endDate": _end_of_day(contract.delivery_due, tz),
            },
        }
        contract_rows.append(row)
    when = max(moments)
    tag = ["tender"] if not award_rows else ["award", "contract"] if contract_rows else ["award"]
    category = taxonomy.CATEGORY_BY_CODE.get(order.category)
    tender_status = _TENDER_STATUS.get(order.status) or ("complete" if award_rows else "unsuccessful")
    body: dict[str, Any] = {
        "ocid": ocid(order.id),
        "id": f"{ocid(order.id)}-{when.strftime('%Y%m%dT%H%M%SZ')}",
        "date": _when(when, tz),
        "tag": tag,
        "initiationType": "tender",
        "language": "zh",
        "buyer": _reference(buyer),
        "parties": [_party(orgs[org_id], roles[org_id]) for org_id in sorted(roles)],
        "tender": {
            "id": f"{ocid(order.id)}-tender",
            "title": order.title,
            "description": order.description,
            "status": tender_status,
            "value": amount(order.budget_fen),
            "procurementMethod": "open",
            "tenderPeriod": {
                "startDate": _when(order.created_at, tz),
                "endDate": _end_of_day(order.deadline, tz),
            },
            "items": [
                {
                    "id": "1",
                    "description": order.title,
                    "classification": {
                        "scheme": CATEGORY_SCHEME,
                        "id": order.category,
                        "description": category.name_zh if category is not None else order.category,
                    },
                    "deliveryAddress": {"region": order.district, "countryName": "中国"},
                }
            ],
        },
    }
    if award_rows:
        body["awards"] = award_rows
    if contract_rows:
        body["contracts"] = contract_rows
    return when, body


def release_package(
    session: Session,
    *,
    uri: str,
    published_at: datetime,
    publisher: str,
    start: datetime | None = None,
    end: datetime | None = None,
    tz: ZoneInfo = SHANGHAI,
) -> dict[str, Any]:
    """The release package of every order whose release date lies in ``[start, end)`` (either end open), oldest
    order first.  Read-only."""
    orders = list(session.exec(select(Order).order_by(col(Order.id))).all())
    awards: dict[int, list[IntentOrder]] = defaultdict(list)
    for intent in session.exec(select(IntentOrder).where(col(IntentOrder.status) == IntentStatus.SIGNED)).all():
        awards[intent.order_id].append(intent)
    intent_order_of = {i.id: i.order_id for rows in awards.values() for i in rows}
    contracts: dict[int, list[Contract]] = defaultdict(list)
    for contract in session.exec(select(Contract)).all():
        order_id = intent_order_of.get(contract.intent_order_id)
        if order_id is None:  # a contract whose intent order is not signed (not expected): looked up directly
            found = session.get(IntentOrder, contract.intent_order_id)
            if found is None:
                continue
            order_id = found.order_id
        contracts[order_id].append(contract)
    orgs = {o.id: o for o in session.exec(select(Organisation)).all() if o.id is not None}
    lower = None if start is None else ensure_utc(start)
    upper = None if end is None else ensure_utc(end)
    releases = []
    for order in orders:
        assert order.id is not None
        when, body = release(order, awards[order.id], contracts[order.id], orgs, tz)
        if (lower is None or when >= lower) and (upper is None or when < upper):
            releases.append(body)
    return {
        "uri": uri,
        "version": OCDS_VERSION,
        "publishedDate": _when(published_at, tz),
        "publisher": {"name": publisher},
        "releases": releases,
    }


def _encode(value: Any, indent: str, level: int) -> Iterable[str]:
    pad = "\n" + indent * (level + 1) if indent else ""
    end = "\n" + indent * level if indent else ""
    colon = ": " if indent else ":"
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a JSON number: {value}")
        yield format(value, "f")
    elif isinstance(value, dict):
        if not value:
            yield "{}"
            return
        yield "{"
        for i, (key, item) in enumerate(value.items()):
            yield ("," if i else "") + pad + json.dumps(str(key), ensure_ascii=False) + colon
            yield from _encode(item, indent, level + 1)
        yield end + "}"
    elif isinstance(value, list | tuple):
        if not value:
            yield "[]"
            return
        yield "["
        for i, item in enumerate(value):
            yield ("," if i else "") + pad
            yield from _encode(item, indent, level + 1)
        yield end + "]"
    elif isinstance(value, float):
        raise TypeError("floats are not written: money and figures are Decimal")
    else:
        yield json.dumps(value, ensure_ascii=False)


def dumps(package: Any, indent: int = 2) -> str:
    """JSON text of *package* with every ``Decimal`` written as the exact number it is (``format(d, "f")``);
    a ``float`` is refused, so no amount can pass through binary floating point."""
    return "".join(_encode(package, " " * indent, 0))
