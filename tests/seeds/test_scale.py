"""The scale generator: deterministic, realistic text, the JSONL format, and a bulk insert of exactly n rows."""

from __future__ import annotations

import json
import re
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from qianfan import taxonomy
from qianfan.clock import FrozenClock
from qianfan.creditcode import is_valid_credit_code
from qianfan.models import Offer, Order, Organisation, OrgKind, Qualification
from seeds.load import run_seed
from seeds.scale import _demo_names, generate_offers, generate_orders, load_scale, write_jsonl
from seeds.vocab import PRODUCT_TYPES

CJK = re.compile(r"[\u4e00-\u9fff]")
YUAN = re.compile(r"^[1-9][0-9]*\.[0-9]{2}$")
OFFER_KEYS = {
    "id", "title", "description", "category", "district", "price_min", "price_max", "capacity",
    "qualifications", "keywords", "topic",
}  # fmt: skip
ORDER_KEYS = {"id", "title", "description", "category", "district", "budget", "required_qualifications", "topic"}


def test_generators_are_deterministic() -> None:
    assert list(generate_offers(500, seed=7)) == list(generate_offers(500, seed=7))
    assert list(generate_orders(200, seed=7)) == list(generate_orders(200, seed=7))
    assert list(generate_offers(50, seed=7)) != list(generate_offers(50, seed=8))
    # a prefix of a longer run is the shorter run
    assert list(generate_offers(120, seed=3))[:100] == list(generate_offers(100, seed=3))


def test_offers_are_realistic() -> None:
    offers = list(generate_offers(3000, seed=11))
    assert len(offers) == 3000
    assert len({o["id"] for o in offers}) == 3000
    for o in offers:
        assert set(o) == OFFER_KEYS
        ptype = PRODUCT_TYPES[o["topic"]]
        assert ptype.category == o["category"]
        assert CJK.search(o["title"]) and ptype.name in o["title"]  # a term of the category's vocabulary
        assert CJK.search(o["description"]) and len(o["description"]) >= 60
        assert o["district"] in taxonomy.DISTRICTS
        assert YUAN.match(o["price_min"]) and YUAN.match(o["price_max"])
        assert int(o["price_min"][:-3]) <= int(o["price_max"][:-3])
        assert isinstance(o["capacity"], int) and o["capacity"] > 0
        assert set(o["qualifications"]) <= set(taxonomy.QUALIFICATION_BY_CODE)
        assert o["keywords"] and all(0 < len(k) <= 32 for k in o["keywords"])
    assert {o["category"] for o in offers} == set(taxonomy.CATEGORY_CODES)
    assert len({o["topic"] for o in offers}) > 300


def test_orders_are_realistic() -> None:
    orders = list(generate_orders(1000, seed=5))
    for o in orders:
        assert set(o) == ORDER_KEYS
        ptype = PRODUCT_TYPES[o["topic"]]
        assert ptype.category == o["category"]
        assert CJK.search(o["title"]) and ptype.name in o["title"] + o["description"]
        assert YUAN.match(o["budget"])
        assert o["district"] in taxonomy.DISTRICTS
        assert set(o["required_qualifications"]) <= set(taxonomy.QUALIFICATION_BY_CODE)


def test_write_jsonl_round_trip(tmp_path: Path) -> None:
    items = list(generate_offers(100, seed=1))
    path = tmp_path / "sub" / "offers.jsonl"
    assert write_jsonl(path, items) == 100
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == items
    assert "\\u" not in lines[0]  # Chinese is written as Chinese


def test_run_seed_writes_jsonl_without_touching_the_database(
    tmp_path: Path, sqlite_engine: Engine, clock: FrozenClock
) -> None:
    summary = run_seed(sqlite_engine, clock, demo=False, scale=400, out_dir=tmp_path)
    assert "offers.jsonl" in summary and "规模数据" in summary
    assert len((tmp_path / "offers.jsonl").read_text(encoding="utf-8").splitlines()) == 400
    assert len((tmp_path / "orders.jsonl").read_text(encoding="utf-8").splitlines()) == 20


def test_load_scale_inserts_exactly_n(engine: Engine, clock: FrozenClock) -> None:
    report = load_scale(engine, clock, 3000, 150)
    assert (report.offers, report.orders, report.smes_created, report.firms_created) == (3000, 150, 300, 8)
    with Session(engine) as s:
        assert s.execute(sa.select(sa.func.count()).select_from(Offer)).scalar_one() == 3000
        assert s.execute(sa.select(sa.func.count()).select_from(Order)).scalar_one() == 150
        orgs = s.exec(select(Organisation)).all()
        assert sum(o.kind == OrgKind.SME for o in orgs) == 300
        assert all(is_valid_credit_code(o.credit_code) for o in orgs)
        assert s.execute(sa.select(sa.func.count()).select_from(Qualification)).scalar_one() > 0
        assert not {o.name for o in orgs} & _demo_names()  # a later demo load never meets a scale company
        offer = s.exec(select(Offer).limit(1)).one()
        assert offer.price_min_fen > 0 and offer.created_at == clock.now()
    # a second call reuses the SMEs and firms and adds the offers again
    again = load_scale(engine, clock, 3000, 150)
    assert (again.smes_created, again.smes_present, again.offers) == (0, 300, 3000)
    with Session(engine) as s:
        assert s.execute(sa.select(sa.func.count()).select_from(Offer)).scalar_one() == 6000
