"""Benchmark-scale data: realistic Chinese offers and orders with a ground-truth ``topic`` for measuring recall.

The text comes from the same vocabulary as the demo seed (:mod:`seeds.vocab`, composed by :mod:`seeds.textgen`).
``topic`` is the product type's id (``"<category code>#<nn>"``, e.g. ``"ict.bigdata#03"``): an order and an offer
with the same topic belong together, which a matcher benchmark can use as its relevance judgement.

- :func:`generate_offers` / :func:`generate_orders` yield dicts in the JSONL format of the matcher batch command
  (money as yuan strings); about 10 offers per (fictional) SME, all in the SME's cluster.
- :func:`write_jsonl` writes any iterable of dicts, one JSON object per line (UTF-8, not ASCII-escaped).
- :func:`load_scale` inserts offers and orders *in bulk* (SQLAlchemy Core ``executemany`` in batches) with the SMEs
  and large firms that own them.  It deliberately bypasses the use cases: benchmark data, no outbox events, no
  audit records, no per-row validation beyond what the generator guarantees.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlmodel import col

from qianfan import taxonomy
from qianfan.clock import Clock, to_local
from qianfan.models import Offer, Order, Organisation, Qualification
from seeds import textgen as tg
from seeds.demo import build_plan
from seeds.vocab import BRAND_SECOND, PRODUCT_TYPES, VOCAB, CategoryVocab, ProductType

OFFER_SEED = 1_000_003
ORDER_SEED = 2_000_003
OFFERS_PER_SME = 10
ORDERS_PER_FIRM = 20
BATCH = 2_000

_CATEGORIES = taxonomy.CATEGORY_CODES
_CLUSTER_OF = {code: taxonomy.CATEGORY_BY_CODE[code].cluster for code in _CATEGORIES}
_CLUSTER_CATEGORIES = {c.code: tuple(cat.code for cat in c.categories) for c in taxonomy.CLUSTERS}
_GENERIC_QUALS = ("hnte", "zgc_hnte", "zjtx", "iso9001")


@dataclass(frozen=True, slots=True)
class ScaleSme:
    """A generated SME: offers ``[first, first + count)`` of the stream belong to it."""

    index: int
    name: str
    brand: str
    cluster: str
    district: str
    qualifications: tuple[str, ...]  # all valid
    first: int
    count: int


def _sme(rng: random.Random, index: int, first: int, count: int) -> ScaleSme:
    primary = _CATEGORIES[int(rng.random() * len(_CATEGORIES))]
    cluster = _CLUSTER_OF[primary]
    brand = tg.brand(rng)
    name = tg.company_name(brand, cluster, rng)
    district = tg.weighted(rng, tg.CLUSTER_DISTRICTS[cluster])
    quals = [q for q in _GENERIC_QUALS if rng.random() < 0.5]
    quals += [q for q in VOCAB[primary].qualifications if q not in quals and rng.random() < 0.4]
    return ScaleSme(index, name, brand, cluster, district, tuple(quals), first, count)


def _offer(rng: random.Random, i: int, sme: ScaleSme, vocab: CategoryVocab, ptype: ProductType) -> dict[str, Any]:
    lo, hi = tg.price_range_yuan(rng, vocab)
    claims = [q for q in sme.qualifications if q in vocab.qualifications or q in _GENERIC_QUALS][:3]
    return {
        "id": f"offer-{i:07d}",
        "title": tg.offer_title(rng, ptype, sme.brand),
        "description": tg.offer_description(rng, ptype, sme.name),
        "category": ptype.category,
        "district": sme.district,
        "price_min": f"{lo}.00",
        "price_max": f"{hi}.00",
        "capacity": tg.capacity(rng, vocab),
        "qualifications": claims,
        "keywords": tg.offer_keywords(rng, ptype),
        "topic": ptype.id,
    }


def _generate(n: int, seed: int) -> Iterator[tuple[ScaleSme, dict[str, Any]]]:
    rng = random.Random(seed)
    i = 0
    index = 0
    while i < n:
        count = min(OFFERS_PER_SME, n - i)
        sme = _sme(rng, index, i, count)
        cats = _CLUSTER_CATEGORIES[sme.cluster]
        for _ in range(count):
            category = cats[int(rng.random() * len(cats))]
            vocab = VOCAB[category]
            ptype = vocab.products[int(rng.random() * len(vocab.products))]
            yield sme, _offer(rng, i, sme, vocab, ptype)
            i += 1
        index += 1


def generate_offers(n: int, seed: int = OFFER_SEED) -> Iterator[dict[str, Any]]:
    """``n`` realistic offers (deterministic for a seed), each with its ground-truth ``topic``."""
    for _, offer in _generate(n, seed):
        yield offer


def generate_orders(n: int, seed: int = ORDER_SEED) -> Iterator[dict[str, Any]]:
    """``n`` realistic procurement orders (deterministic for a seed), topics spread evenly over categories."""
    rng = random.Random(seed)
    for i in range(n):
        category = _CATEGORIES[int(rng.random() * len(_CATEGORIES))]
        vocab = VOCAB[category]
        ptype = vocab.products[int(rng.random() * len(vocab.products))]
        district = tg.weighted(rng, tg.CLUSTER_DISTRICTS[_CLUSTER_OF[category]])
        required = ["hnte"] if rng.random() < 0.5 else []
        if rng.random() < 0.3:
            extra = tg.pick(rng, vocab.qualifications)
            if extra not in required:
                required.append(extra)
        yield {
            "id": f"order-{i:06d}",
            "title": tg.order_title(rng, ptype, "procurement"),
            "description": tg.order_description(rng, ptype, "procurement", district),
            "category": category,
            "district": district,
            "budget": f"{tg.order_budget_yuan(rng, vocab, 'procurement')}.00",
            "required_qualifications": required,
            "topic": ptype.id,
        }


def write_jsonl(path: Path | str, items: Iterable[Mapping[str, Any]]) -> int:
    """Write one JSON object per line (UTF-8); returns the number of lines written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    dumps = json.dumps
    with path.open("w", encoding="utf-8") as fh:
        write = fh.write
        for item in items:
            write(dumps(item, ensure_ascii=False, separators=(",", ":")))
            write("\n")
            count += 1
    return count


# --------------------------------------------------------------------- bulk insert


@dataclass(slots=True)
class ScaleReport:
    offers: int = 0
    orders: int = 0
    smes_created: int = 0
    smes_present: int = 0
    firms_created: int = 0
    firms_present: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"规模数据：写入产品/服务{self.offers}条、订单{self.orders}条，新建中小企业{self.smes_created}家"
            f"（已有{self.smes_present}家）、大企业{self.firms_created}家（已有{self.firms_present}家），"
            f"用时{self.seconds:.1f}秒。\n"
            f"Scale data: inserted {self.offers} offers and {self.orders} orders; SMEs +{self.smes_created} "
            f"({self.smes_present} present), large firms +{self.firms_created} ({self.firms_present} present), "
            f"{self.seconds:.1f} s."
        )


def _scale_org_code(seed: int, n: int, lead: str) -> str:
    """Letter-led organisation codes (the demo seed's start with a digit), unique per (seed, n)."""
    return tg.org_code_from_int((seed % 50_000) * 10_000_000 + n, lead)


@lru_cache(maxsize=1)
def _demo_names() -> frozenset[str]:
    return frozenset(o.name for o in build_plan(date(2020, 10, 16)).orgs)


def _batched(rows: list[dict[str, Any]], size: int = BATCH) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _ensure_orgs(
    conn: Connection, planned: list[dict[str, Any]], quals: dict[str, tuple[str, ...]], until: date
) -> tuple[dict[str, int], int, int]:
    """Insert the organisations not yet present (by credit code); returns credit code → id, created, present."""
    org_t = Organisation.__table__  # type: ignore[attr-defined]
    qual_t = Qualification.__table__  # type: ignore[attr-defined]
    codes = [p["credit_code"] for p in planned]
    existing: dict[str, int] = {}
    for start in range(0, len(codes), 1000):
        chunk = codes[start : start + 1000]
        for code, org_id in conn.execute(
            sa.select(col(Organisation.credit_code), col(Organisation.id)).where(
                col(Organisation.credit_code).in_(chunk)
            )
        ):
            if org_id is not None:
                existing[code] = org_id
    # names already taken, and the demo data set's names (so a later demo load never meets a scale company)
    names = set(conn.execute(sa.select(col(Organisation.name))).scalars()) | _demo_names()
    rng = random.Random(len(names))
    new = []
    for p in planned:
        if p["credit_code"] in existing:
            continue
        name = p["name"]
        tries = 0
        while name in names:  # same trade name registered already: lengthen it, as registrars require
            tries += 1
            extra = tg.pick(rng, BRAND_SECOND) if tries < 20 else str(tries)
            name = p["name"].replace("北京", f"北京{extra}", 1) if tries < 20 else f"{p['name'][:-4]}{extra}有限公司"
        names.add(name)
        new.append({**p, "name": name})
    for batch in _batched(new):
        conn.execute(sa.insert(org_t), batch)
    ids = dict(existing)
    new_codes = [p["credit_code"] for p in new]
    for start in range(0, len(new_codes), 1000):
        chunk = new_codes[start : start + 1000]
        for code, org_id in conn.execute(
            sa.select(col(Organisation.credit_code), col(Organisation.id)).where(
                col(Organisation.credit_code).in_(chunk)
            )
        ):
            if org_id is not None:
                ids[code] = org_id
    qual_rows = [
        {"organisation_id": ids[code], "code": q, "certificate_no": None, "valid_until": until}
        for code in new_codes
        for q in quals.get(code, ())
    ]
    for batch in _batched(qual_rows):
        conn.execute(sa.insert(qual_t), batch)
    return ids, len(new), len(existing)


def load_scale(
    engine: Engine,
    clock: Clock,
    n_offers: int,
    n_orders: int,
    *,
    offer_seed: int = OFFER_SEED,
    order_seed: int = ORDER_SEED,
) -> ScaleReport:
    """Bulk-insert ``n_offers`` generated offers (with ~n/10 SMEs owning them) and ``n_orders`` orders (with large
    firms posting them, ~20 orders each) in one transaction.  SMEs and firms already inserted by an earlier call
    with the same seeds are reused; offers and orders are always added."""
    started = time.perf_counter()
    now = clock.now()
    today = to_local(now).date()
    report = ScaleReport()

    smes: dict[int, ScaleSme] = {}
    offers: list[tuple[int, dict[str, Any]]] = []
    for sme, offer in _generate(n_offers, offer_seed):
        smes.setdefault(sme.index, sme)
        offers.append((sme.index, offer))
    sme_rows: list[dict[str, Any]] = []
    sme_code: dict[int, str] = {}
    quals: dict[str, tuple[str, ...]] = {}
    for sme in smes.values():
        code = tg.credit_code(sme.district, _scale_org_code(offer_seed, sme.index, "X"))
        sme_code[sme.index] = code
        quals[code] = sme.qualifications
        sme_rows.append(
            {
                "kind": "sme",
                "name": sme.name,
                "name_en": None,
                "credit_code": code,
                "district": sme.district,
                "cluster": sme.cluster,
                "description": f"{taxonomy.CLUSTER_BY_CODE[sme.cluster].name_zh}领域科技型中小企业（规模测试数据）。",
                "created_at": now,
            }
        )

    orders = list(generate_orders(n_orders, order_seed))
    firm_rows: list[dict[str, Any]] = []
    rng = random.Random(order_seed)
    for f in range(max(1, -(-n_orders // ORDERS_PER_FIRM)) if n_orders else 0):
        cluster = tg.pick(rng, taxonomy.CLUSTER_CODES)
        district = tg.weighted(rng, tg.CLUSTER_DISTRICTS[cluster])
        brand = tg.brand(rng)
        firm_rows.append(
            {
                "kind": "large_firm",
                "name": f"北京{brand}{tg.pick(rng, ('控股集团', '科技集团', '产业集团'))}有限公司",
                "name_en": None,
                "credit_code": tg.credit_code(district, _scale_org_code(order_seed, f, "Y")),
                "district": district,
                "cluster": cluster,
                "description": "大型企业（规模测试数据）。",
                "created_at": now,
            }
        )

    valid_until = today + timedelta(days=730)
    with engine.begin() as conn:
        sme_ids, report.smes_created, report.smes_present = _ensure_orgs(conn, sme_rows, quals, valid_until)
        firm_ids, report.firms_created, report.firms_present = _ensure_orgs(conn, firm_rows, {}, valid_until)

        offer_t = Offer.__table__  # type: ignore[attr-defined]
        batch: list[dict[str, Any]] = []
        for sme_index, o in offers:
            batch.append(
                {
                    "organisation_id": sme_ids[sme_code[sme_index]],
                    "kind": PRODUCT_TYPES[o["topic"]].kind,
                    "title": o["title"],
                    "description": o["description"],
                    "category": o["category"],
                    "price_min_fen": int(o["price_min"][:-3]) * 100,
                    "price_max_fen": int(o["price_max"][:-3]) * 100,
                    "capacity": o["capacity"],
                    "qualifications": o["qualifications"],
                    "keywords": o["keywords"],
                    "status": "active",
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            if len(batch) >= BATCH:
                conn.execute(sa.insert(offer_t), batch)
                report.offers += len(batch)
                batch = []
        if batch:
            conn.execute(sa.insert(offer_t), batch)
            report.offers += len(batch)

        order_t = Order.__table__  # type: ignore[attr-defined]
        firm_list = [firm_ids[r["credit_code"]] for r in firm_rows]
        order_rows = [
            {
                "organisation_id": firm_list[i // ORDERS_PER_FIRM],
                "kind": "procurement",
                "title": o["title"],
                "description": o["description"],
                "category": o["category"],
                "budget_fen": int(o["budget"][:-3]) * 100,
                "district": o["district"],
                "deadline": today + timedelta(days=30 + i % 90),
                "required_qualifications": o["required_qualifications"],
                "status": "open",
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
            for i, o in enumerate(orders)
        ]
        for chunk in _batched(order_rows):
            conn.execute(sa.insert(order_t), chunk)
        report.orders = len(order_rows)
    report.seconds = time.perf_counter() - started
    return report
