"""The demo data set, loaded through the marketplace use cases.

:func:`build_plan` is pure: from a date and a seed it produces every organisation, offer, order, listing, interest and
intent order as plain data (deterministic: one ``random.Random(seed)``, dates relative to ``today``).
:func:`load_demo` applies the plan through the domains' use cases — one unit of work per use case, as the application
itself does — skipping whatever already exists (organisations by credit code or name, users by username, offers and
orders by owner and title, …), so a second run creates nothing and only reads.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from accounts import organisations as orgs
from market import service as mkt
from qianfan import taxonomy
from qianfan.actors import Actor
from qianfan.clock import Clock, to_local
from qianfan.creditcode import make_credit_code
from qianfan.errors import DomainError
from qianfan.models import (
    IntentOrder,
    IntentStatus,
    Interest,
    InterestKind,
    Mentor,
    Offer,
    Order,
    Organisation,
    OrgKind,
    ServiceNeed,
    ServicePackage,
    User,
    UserRole,
)
from qianfan.uow import UnitOfWork
from seeds import catalogue as cat
from seeds import textgen as tg
from seeds.chain_finance import load_chain_finance
from seeds.finance import load_finance
from seeds.report import DemoReport
from seeds.settlement import VETERAN_USERS, load_settlement
from seeds.vocab import VOCAB, ProductType

log = logging.getLogger(__name__)

#: 16 October 2020: the day the programme's first intent orders were signed.
DEMO_SEED = 20201016
GENERATED_SMES = 212
OFFERS_PER_SME = (9, 11)  # inclusive range for generated SMEs
SERVICE_NEED_SMES = 40
MARKET_INTEREST_ORDERS = 30  # generated orders that receive interest from generated SMEs

DEMO_USERS = [*cat.DEMO_USERS, *VETERAN_USERS]  # the last: the SME with a history (seeds.settlement)
DEMO_PASSWORD = cat.DEMO_PASSWORD

# --------------------------------------------------------------------- the plan (pure data)

OfferKey = tuple[str, str]  # (SME name, offer title)
OrderKey = tuple[str, str]  # (buyer name, order title)


@dataclass(slots=True)
class PlannedOrg:
    kind: str
    name: str
    data: dict[str, Any]  # OrganisationInput
    users: list[dict[str, Any]] = field(default_factory=list)  # UserInput
    brand: str = ""


@dataclass(slots=True)
class PlannedListing:
    """An offer, order, service package, mentor or service need, owned by ``org``."""

    org: str
    key: str  # natural key within the owner: the title (the name for mentors)
    data: dict[str, Any]
    topic: str | None = None


@dataclass(frozen=True, slots=True)
class PlannedInterest:
    kind: str  # InterestKind value
    order: OrderKey
    offer: OfferKey
    note: str = ""


@dataclass(frozen=True, slots=True)
class PlannedIntent:
    order: OrderKey
    offer: OfferKey
    amount: str  # yuan
    delivery_due: date
    terms: str
    proposer: str  # "buyer" or "supplier"
    signed: bool


@dataclass(slots=True)
class DemoPlan:
    orgs: list[PlannedOrg] = field(default_factory=list)
    offers: list[PlannedListing] = field(default_factory=list)
    orders: list[PlannedListing] = field(default_factory=list)
    packages: list[PlannedListing] = field(default_factory=list)
    mentors: list[PlannedListing] = field(default_factory=list)
    needs: list[PlannedListing] = field(default_factory=list)
    interests: list[PlannedInterest] = field(default_factory=list)
    intents: list[PlannedIntent] = field(default_factory=list)


def _qualification_rows(rng: random.Random, today: date, items: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
    rows = []
    for code, status in items:
        if status == "expired":
            until = today - timedelta(days=10 + int(rng.random() * 390))
        elif status == "expiring":
            until = today + timedelta(days=5 + int(rng.random() * 55))
        else:
            until = today + timedelta(days=120 + int(rng.random() * 980))
        issued = until.year - 3
        number = f"{int(rng.random() * 10**6):06d}"
        cert = {
            "hnte": f"GR{issued}11{number}",
            "zgc_hnte": f"ZGC{issued}{number}",
            "zjtx": f"BJZJTX{issued}{number[:4]}",
            "zjtx_giant": f"XJR{issued}{number[:4]}",
            "nmpa": f"京械注准{issued}2{number}",
            "emc": f"EMC-BJ-{issued}-{number[:4]}",
            "mlps3": f"11010899{number}-{issued}",
        }.get(code, f"{code.upper()}-{issued}-{number}")
        rows.append({"code": code, "certificate_no": cert, "valid_until": until})
    return rows


def _org_data(spec: cat.OrgSpec, qualifications: list[dict[str, Any]]) -> dict[str, Any]:
    admin = spec.admin_code or tg.DISTRICT_ADMIN_CODE[spec.district]
    return {
        "kind": spec.kind,
        "name": spec.name,
        "name_en": spec.name_en,
        "credit_code": make_credit_code(spec.prefix + admin + tg.stable_org_code(spec.name)),
        "district": spec.district,
        "cluster": spec.cluster,
        "description": spec.description,
        "qualifications": qualifications,
    }


def _held(org: PlannedOrg, today: date) -> list[str]:
    return [q["code"] for q in org.data["qualifications"] if q["valid_until"] >= today + timedelta(days=5)]


def _order_data(spec: cat.OrderSpec, today: date) -> dict[str, Any]:
    return {
        "kind": "procurement",
        "title": spec.title,
        "description": spec.description,
        "category": spec.category,
        "budget": spec.budget,
        "district": spec.district,
        "deadline": today + timedelta(days=spec.deadline_days),
        "required_qualifications": list(spec.required_qualifications),
    }


def _offer_data(spec: cat.OfferSpec) -> dict[str, Any]:
    return {
        "kind": spec.kind,
        "title": spec.title,
        "description": spec.description,
        "category": spec.category,
        "price_min": spec.price_min,
        "price_max": spec.price_max,
        "capacity": spec.capacity,
        "qualifications": list(spec.qualifications),
        "keywords": list(spec.keywords),
    }


class _Titles:
    """Globally unique listing titles (no two SMEs share an offer text)."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def take(self, make: Callable[[], str], fallback_suffix: str) -> str:
        for _ in range(8):
            title = make()
            if title not in self.seen:
                self.seen.add(title)
                return title
        n = 2
        while f"{title}（{fallback_suffix}{n}）" in self.seen:
            n += 1
        title = f"{title}（{fallback_suffix}{n}）"
        self.seen.add(title)
        return title


def build_plan(today: date, seed: int = DEMO_SEED) -> DemoPlan:
    """Everything the demo contains, as data.  Same ``today`` and ``seed`` → the same plan, item for item."""
    rng = random.Random(seed)
    plan = DemoPlan()
    names: set[str] = set()
    titles = _Titles()

    def add_org(spec: cat.OrgSpec, users: list[dict[str, Any]] | None = None, brand: str = "") -> PlannedOrg:
        planned = PlannedOrg(
            spec.kind, spec.name, _org_data(spec, _qualification_rows(rng, today, spec.qualifications)), [], brand
        )
        planned.users = users or []
        plan.orgs.append(planned)
        names.add(spec.name)
        return planned

    users_by_org: dict[str, list[dict[str, Any]]] = {}
    for u in cat.DEMO_USER_SPECS:
        users_by_org.setdefault(u.organisation, []).append(cat.demo_user_input(u))

    # -- programme office, banks, guarantor, large firms, providers
    add_org(cat.PROGRAMME_OFFICE, users_by_org.get(cat.PROGRAMME_OFFICE.name))
    for bank in cat.BANKS:
        add_org(bank, users_by_org.get(bank.name))
    add_org(cat.GUARANTOR)
    for firm in cat.LARGE_FIRMS:
        add_org(firm.org, users_by_org.get(firm.org.name))
    for provider in cat.PROVIDERS:
        add_org(provider.org, users_by_org.get(provider.org.name))

    # -- SMEs that fit the programme projects, with hand-written offers
    for anchor in cat.ANCHOR_SMES:
        add_org(anchor.org, users_by_org.get(anchor.org.name))
        for offer in anchor.offers:
            titles.seen.add(offer.title)
            plan.offers.append(PlannedListing(anchor.org.name, offer.title, _offer_data(offer)))

    # -- generated SMEs across every cluster and category
    smes: list[PlannedOrg] = []
    categories = taxonomy.CATEGORY_CODES
    for i in range(GENERATED_SMES):
        primary = categories[i % len(categories)]
        cluster = taxonomy.CATEGORY_BY_CODE[primary].cluster
        siblings = [c.code for c in taxonomy.CLUSTER_BY_CODE[cluster].categories if c.code != primary]
        secondary: list[str] = []
        if siblings:
            secondary.append(tg.pick(rng, siblings))
        if rng.random() < 0.25:
            secondary.append(tg.pick(rng, categories))
        cats = [primary, *dict.fromkeys(c for c in secondary if c != primary)]
        district = tg.weighted(rng, tg.CLUSTER_DISTRICTS[cluster])
        while True:
            brand = tg.brand(rng)
            name = tg.company_name(brand, cluster, rng)
            if name not in names:
                break
        quals = _generated_qualifications(rng, cats)
        offers_n = OFFERS_PER_SME[0] + int(rng.random() * (OFFERS_PER_SME[1] - OFFERS_PER_SME[0] + 1))
        ptypes = _pick_product_types(rng, cats, offers_n)
        founded = today.year - 1 - int(rng.random() * 15)
        staff = 12 + int(rng.random() * 260)
        main_line = "、".join(dict.fromkeys(p.name for p in ptypes[:3]))
        desc = (
            f"{taxonomy.CLUSTER_BY_CODE[cluster].name_zh}领域科技型中小企业，成立于{founded}年，现有员工{staff}人，"
            f"研发人员占比{35 + int(rng.random() * 45)}%。主营{main_line}等。"
        )
        spec = cat.OrgSpec("sme", name, None, district, cluster, desc, tuple(quals))
        org = add_org(spec, brand=brand)
        smes.append(org)
        held = _held(org, today)
        for ptype in ptypes:
            title = titles.take(partial(tg.offer_title, rng, ptype, brand), brand)
            plan.offers.append(PlannedListing(name, title, _generated_offer(rng, ptype, title, name, held), ptype.id))

    # -- orders: the six programme projects, the hand-written extras, then generated ones per firm
    for hand in (*cat.PROGRAMME_ORDERS, *cat.EXTRA_ORDERS):
        plan.orders.append(PlannedListing(hand.firm, hand.title, _order_data(hand, today)))
    order_titles: set[OrderKey] = {(o.org, o.key) for o in plan.orders}
    for firm in cat.LARGE_FIRMS:
        kinds = ["procurement"] * firm.orders
        if firm.invests:
            kinds.append("investment")
            if rng.random() < 0.6:
                kinds.append("merger")
        for n, kind in enumerate(kinds):
            own = [c for c in firm.buys if taxonomy.CATEGORY_BY_CODE[c].cluster == firm.org.cluster] or firm.buys
            category = firm.buys[n % len(firm.buys)] if kind == "procurement" else tg.pick(rng, own)
            vocab = VOCAB[category]
            pool = vocab.products if kind == "procurement" else tg.investable(vocab)
            ptype = tg.pick(rng, pool)
            district = (
                firm.org.district if kind != "procurement" or rng.random() < 0.7 else tg.pick(rng, taxonomy.DISTRICTS)
            )
            for _ in range(8):
                title = tg.order_title(rng, ptype, kind)
                if (firm.org.name, title) not in order_titles:
                    break
            order_titles.add((firm.org.name, title))
            required = []
            if kind == "procurement":
                if rng.random() < 0.6:
                    required.append("hnte")
                if rng.random() < 0.4:
                    required.append(tg.pick(rng, vocab.qualifications))
            data = {
                "kind": kind,
                "title": title,
                "description": tg.order_description(rng, ptype, kind, district),
                "category": category,
                "budget": f"{tg.order_budget_yuan(rng, vocab, kind)}.00",
                "district": district,
                "deadline": today + timedelta(days=20 + int(rng.random() * 100)),
                "required_qualifications": sorted(set(required)),
            }
            plan.orders.append(PlannedListing(firm.org.name, title, data, ptype.id))

    # -- service packages and mentors
    mentor_names: set[str] = set()
    headlines: set[str] = set()
    for provider in cat.PROVIDERS:
        for package in provider.packages:
            plan.packages.append(PlannedListing(provider.org.name, package.title, _package_data(package)))
        for _ in range(provider.mentors):
            while True:
                person = tg.pick(rng, cat.SURNAMES) + tg.pick(rng, cat.GIVEN)
                if person not in mentor_names:
                    mentor_names.add(person)
                    break
            expertise = list(dict.fromkeys([tg.pick(rng, provider.focus), tg.pick(rng, provider.focus)]))
            field_name = taxonomy.CATEGORY_BY_CODE[expertise[0]].name_zh
            templates = cat.MENTOR_HEADLINES_SERVICES if expertise[0].startswith("services.") else cat.MENTOR_HEADLINES
            for _ in range(8):
                headline = (
                    tg.pick(rng, templates)
                    .replace("{field}", field_name)
                    .replace("{n}", str(8 + int(rng.random() * 18)))
                )
                if headline not in headlines:
                    break
            headlines.add(headline)
            areas = "、".join(taxonomy.CATEGORY_BY_CODE[c].name_zh for c in expertise)
            bio = f"{tg.pick(rng, cat.MENTOR_BIOS)}可辅导方向：{areas}。"
            plan.mentors.append(
                PlannedListing(
                    provider.org.name,
                    person,
                    {"name": person, "headline": headline, "bio": bio, "expertise": expertise},
                )
            )
    for package in cat.GUARANTOR_PACKAGES:
        plan.packages.append(PlannedListing(cat.GUARANTOR.name, package.title, _package_data(package)))

    # -- SMEs' service needs
    for org in rng.sample(smes, SERVICE_NEED_SMES):
        title, category, budget, description = tg.pick(rng, cat.SERVICE_NEEDS)
        plan.needs.append(
            PlannedListing(
                org.name,
                title,
                {"title": title, "description": description, "category": category, "budget": budget},
            )
        )

    _plan_deals(plan, rng, today)
    return plan


def _generated_qualifications(rng: random.Random, cats: list[str]) -> list[tuple[str, str]]:
    wanted: list[str] = []
    if rng.random() < 0.7:
        wanted.append("hnte")
    if rng.random() < 0.45:
        wanted.append("zgc_hnte")
    if rng.random() < 0.3:
        wanted.append("zjtx")
        if rng.random() < 0.15:
            wanted.append("zjtx_giant")
    if rng.random() < 0.55:
        wanted.append("iso9001")
    for code in VOCAB[cats[0]].qualifications:
        if rng.random() < 0.45:
            wanted.append(code)
    out = []
    for code in dict.fromkeys(wanted):
        x = rng.random()
        out.append((code, "expired" if x < 0.1 else "expiring" if x < 0.18 else "valid"))
    return out


def _pick_product_types(rng: random.Random, cats: list[str], n: int) -> list[ProductType]:
    """Mostly the primary category, distinct product types while they last."""
    pool: list[ProductType] = []
    for i, code in enumerate(cats):
        products = list(VOCAB[code].products)
        rng.shuffle(products)
        pool.extend(products if i == 0 else products[: max(2, len(products) // 3)])
    chosen = pool[:n]
    while len(chosen) < n:  # a small category: list a second variant of one of its types
        chosen.append(tg.pick(rng, pool))
    return chosen


def _generated_offer(
    rng: random.Random, ptype: ProductType, title: str, company: str, held: list[str]
) -> dict[str, Any]:
    vocab = VOCAB[ptype.category]
    lo, hi = tg.price_range_yuan(rng, vocab)
    relevant = [q for q in held if q in vocab.qualifications or q in ("hnte", "zjtx", "zjtx_giant", "zgc_hnte")]
    claims = relevant[: 1 + int(rng.random() * 3)]
    return {
        "kind": ptype.kind,
        "title": title,
        "description": tg.offer_description(rng, ptype, company),
        "category": ptype.category,
        "price_min": f"{lo}.00",
        "price_max": f"{hi}.00",
        "capacity": tg.capacity(rng, vocab),
        "qualifications": claims,
        "keywords": tg.offer_keywords(rng, ptype),
    }


def _package_data(package: cat.PackageSpec) -> dict[str, Any]:
    return {
        "title": package.title,
        "description": package.description,
        "category": package.category,
        "value": package.value,
    }


def _plan_deals(plan: DemoPlan, rng: random.Random, today: date) -> None:
    """Interest, shortlists and intent orders: the programme story first, then ordinary market activity."""
    p = {o.key: (o.org, o.key) for o in plan.orders if o.key in cat.PROGRAMME_TITLES}
    offers_by_cat: dict[str, list[PlannedListing]] = {}
    anchor_names = {a.org.name for a in cat.ANCHOR_SMES}
    for offer in plan.offers:
        if offer.org not in anchor_names:
            offers_by_cat.setdefault(offer.data["category"], []).append(offer)

    def generated(category: str, k: int) -> list[OfferKey]:
        pool = offers_by_cat.get(category, [])
        return [(o.org, o.key) for o in rng.sample(pool, min(k, len(pool)))]

    sme = cat.DEMO_SME
    gov = p["数字政府大数据平台项目"]
    paas = p["工业云PaaS平台项目"]
    iaas = p["工业云IaaS平台项目"]
    road = p["智慧道路巡检系统项目"]
    care = p["智慧城市养老数字化平台项目"]
    hvac = p["中央空调智慧能源技术节能项目"]
    hotline = (cat.DEMO_FIRM, "接诉即办智能分析系统建设项目")
    governance = ("北京融泰金融控股集团有限公司", "集团数据治理平台建设项目")

    INT, SHORT, REJ = InterestKind.INTEREST.value, InterestKind.SHORTLIST.value, InterestKind.REJECTION.value
    story: list[tuple[str, OrderKey, OfferKey, str]] = [
        (INT, gov, (sme, "数帆政务大数据中台 V5"), "可承担数据中台与数据治理两个标段，已完成信创适配与等保三级测评。"),
        (INT, gov, ("北京澄观数据技术有限公司", "澄观城市数据湖平台"), "可承担数据中台标段。"),
        (SHORT, gov, (sme, "数帆政务大数据中台 V5"), "区级政务数据项目案例充分，进入商务谈判。"),
        (REJ, gov, ("北京澄观数据技术有限公司", "澄观城市数据湖平台"), "ISO/IEC 27001 认证已过期，暂不符合资质要求。"),
        (
            INT,
            paas,
            ("北京工擎云科技有限公司", "工擎工业云PaaS平台 V3.0"),
            "已服务多家装备制造企业，可三个月内上线首批工业APP。",
        ),
        (SHORT, paas, ("北京工擎云科技有限公司", "工擎工业云PaaS平台 V3.0"), "方案匹配度高。"),
        (
            INT,
            iaas,
            ("北京算岳云计算技术有限公司", "算岳私有云IaaS平台"),
            "支持x86与ARM混合资源池，已通过等保三级测评。",
        ),
        (SHORT, iaas, ("北京算岳云计算技术有限公司", "算岳私有云IaaS平台"), ""),
        (INT, road, ("北京路眸智能科技有限公司", "路眸智慧道路巡检系统"), "可先在两个养护片区试点一个月。"),
        (SHORT, road, ("北京路眸智能科技有限公司", "路眸智慧道路巡检系统"), "试点效果良好。"),
        (INT, care, ("北京安颐智慧健康科技有限公司", "安颐智慧养老服务平台"), "平台已在三个街道运行。"),
        (INT, care, ("北京禾熠养老科技有限公司", "社区养老驿站管理系统"), "可承担驿站管理模块。"),
        (SHORT, care, ("北京安颐智慧健康科技有限公司", "安颐智慧养老服务平台"), ""),
        (SHORT, care, ("北京禾熠养老科技有限公司", "社区养老驿站管理系统"), "需补充等保三级测评证明。"),
        (INT, hvac, ("北京冷衡节能科技有限公司", "冷衡中央空调AI群控节能系统"), "采用合同能源管理模式，客户零投入。"),
        (SHORT, hvac, ("北京冷衡节能科技有限公司", "冷衡中央空调AI群控节能系统"), ""),
        (INT, hotline, (sme, "接诉即办数据分析服务"), "已为两个区提供接诉即办数据分析。"),
        (INT, governance, (sme, "数帆数据治理平台"), "可私有化部署，内置金融数据标准模板。"),
        (SHORT, governance, (sme, "数帆数据治理平台"), ""),
    ]
    # a few generated competitors on the programme projects
    for order, category in ((gov, "ict.bigdata"), (paas, "ict.iiot"), (iaas, "ict.cloud"), (road, "transport.road")):
        for k, competitor in enumerate(generated(category, 2)):
            story.append((INT, order, competitor, ""))
            if k == 0:
                story.append((SHORT, order, competitor, ""))
    for kind, order_key, offer_key, note in story:
        plan.interests.append(PlannedInterest(kind, order_key, offer_key, note))

    def due(days: int) -> date:
        return today + timedelta(days=days)

    pay = "合同签订后支付30%预付款，验收合格后60日内支付余款。"
    plan.intents += [
        PlannedIntent(gov, (sme, "数帆政务大数据中台 V5"), "8600000.00", due(150),
                      "数据中台与数据治理标段。" + pay, "buyer", True),
        PlannedIntent(paas, ("北京工擎云科技有限公司", "工擎工业云PaaS平台 V3.0"), "5200000.00", due(120),
                      "平台建设及首批十个工业APP。" + pay, "supplier", True),
        PlannedIntent(road, ("北京路眸智能科技有限公司", "路眸智慧道路巡检系统"), "3950000.00", due(90),
                      "四个养护片区巡检系统建设及一年运营。" + pay, "buyer", True),
        PlannedIntent(hvac, ("北京冷衡节能科技有限公司", "冷衡中央空调AI群控节能系统"), "6800000.00", due(180),
                      "合同能源管理：节能设备投资与改造，按节能量分享收益，分享期六年。", "buyer", True),
        PlannedIntent(governance, (sme, "数帆数据治理平台"), "2450000.00", due(100), pay, "buyer", True),
        # waiting for the other side's signature (something to do in the demo)
        PlannedIntent(iaas, ("北京算岳云计算技术有限公司", "算岳私有云IaaS平台"), "7600000.00", due(150),
                      "一期资源池建设。" + pay, "buyer", False),
        PlannedIntent(care, ("北京安颐智慧健康科技有限公司", "安颐智慧养老服务平台"), "2680000.00", due(120),
                      "平台建设及首期三万名老人服务接入。" + pay, "supplier", False),
        PlannedIntent(hotline, (sme, "接诉即办数据分析服务"), "1180000.00", due(90),
                      "一年期热线工单数据分析服务。", "supplier", False),
    ]  # fmt: skip

    # ordinary market activity on generated procurement orders
    generated_orders = [o for o in plan.orders if o.topic is not None and o.data["kind"] == "procurement"]
    for listing in rng.sample(generated_orders, min(MARKET_INTEREST_ORDERS, len(generated_orders))):
        key = (listing.org, listing.key)
        candidates = [o for o in offers_by_cat.get(listing.data["category"], []) if o.topic == listing.topic]
        candidates += [o for o in offers_by_cat.get(listing.data["category"], []) if o.topic != listing.topic]
        picked = candidates[: 1 + int(rng.random() * 3)]
        for n, cand in enumerate(picked):
            plan.interests.append(PlannedInterest(INT, key, (cand.org, cand.key), ""))
            if n == 0 and rng.random() < 0.6:
                plan.interests.append(PlannedInterest(SHORT, key, (cand.org, cand.key), "进入下一轮沟通。"))
                if rng.random() < 0.3:
                    budget = int(listing.data["budget"].split(".")[0])
                    amount = max(10_000, budget * (50 + int(rng.random() * 40)) // 100 // 1000 * 1000)
                    plan.intents.append(
                        PlannedIntent(key, (cand.org, cand.key), f"{amount}.00", due(60 + int(rng.random() * 120)),
                                      pay, "buyer", rng.random() < 0.5)
                    )  # fmt: skip


# --------------------------------------------------------------------- loading


class _Loader:
    def __init__(self, engine: Engine, clock: Clock, report: DemoReport) -> None:
        self.engine = engine
        self.clock = clock
        self.report = report
        self.orgs: dict[str, tuple[int, OrgKind]] = {}
        self.codes: dict[str, str] = {}  # credit code -> organisation name
        self.user_ids: dict[str, int] = {}  # username -> id
        self.offers: dict[OfferKey, int] = {}
        self.orders: dict[OrderKey, int] = {}

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.engine, self.clock)

    def actor(self, org_name: str, username: str | None = None) -> Actor:
        org_id, kind = self.orgs[org_name]
        if username and username in self.user_ids:
            role = next(u.role for u in cat.DEMO_USER_SPECS if u.username == username)
            return Actor(org_id, kind, self.user_ids[username], UserRole(role))
        return Actor(org_id, kind)

    # -- reads of what exists
    def _read_orgs(self, session: Session) -> None:
        rows = session.execute(
            sa.select(
                col(Organisation.name), col(Organisation.id), col(Organisation.kind), col(Organisation.credit_code)
            )
        )
        self.orgs = {}
        self.codes = {}
        for name, org_id, kind, code in rows:
            self.orgs[name] = (org_id, OrgKind(kind))
            self.codes[code] = name

    def _read_users(self, session: Session) -> None:
        self.user_ids = {name: uid for name, uid in session.execute(sa.select(col(User.username), col(User.id)))}

    def load(self, plan: DemoPlan) -> None:
        r = self.report
        with Session(self.engine) as s:
            self._read_orgs(s)
            self._read_users(s)
        # organisations and their demo users
        for org in plan.orgs:
            code = org.data["credit_code"]
            found = self.orgs.get(self.codes[code]) if code in self.codes else self.orgs.get(org.name)
            if found is not None:  # found by credit code (authoritative) or by name
                self.orgs[org.name] = found
                r.count(r.present, "organisations")
                for user in org.users:
                    if user["username"] in self.user_ids:
                        r.count(r.present, "users")
                        continue
                    created = orgs.add_user(self.uow(), found[0], user)
                    assert created.id is not None
                    self.user_ids[created.username] = created.id
                    r.count(r.created, "users")
                continue
            registered = orgs.register_organisation(self.uow(), org.data, org.users)
            assert registered.id is not None
            self.orgs[org.name] = (registered.id, registered.kind)
            r.count(r.created, "organisations")
            for _ in org.users:
                r.count(r.created, "users")
        with Session(self.engine) as s:
            self._read_users(s)
            names = {self.orgs[o.name][0]: o.name for o in plan.orgs}  # the demo's own organisations
            self.offers = {
                (names.get(o, ""), t): i
                for o, t, i in s.execute(sa.select(col(Offer.organisation_id), col(Offer.title), col(Offer.id)))
            }
            self.orders = {
                (names.get(o, ""), t): i
                for o, t, i in s.execute(sa.select(col(Order.organisation_id), col(Order.title), col(Order.id)))
            }
            packages = {
                (names.get(o, ""), t)
                for o, t in s.execute(sa.select(col(ServicePackage.organisation_id), col(ServicePackage.title)))
            }
            mentors = {
                (names.get(o, ""), n) for o, n in s.execute(sa.select(col(Mentor.organisation_id), col(Mentor.name)))
            }
            needs = {
                (names.get(o, ""), t)
                for o, t in s.execute(sa.select(col(ServiceNeed.organisation_id), col(ServiceNeed.title)))
            }
            interests = {
                (a, b, InterestKind(k))
                for a, b, k in s.execute(sa.select(col(Interest.order_id), col(Interest.offer_id), col(Interest.kind)))
            }
            intents = {
                (o, f): (i, IntentStatus(st))
                for o, f, i, st in s.execute(
                    sa.select(
                        col(IntentOrder.order_id),
                        col(IntentOrder.offer_id),
                        col(IntentOrder.id),
                        col(IntentOrder.status),
                    )
                )
            }

        for offer in plan.offers:
            key = (offer.org, offer.key)
            if key in self.offers:
                r.count(r.present, "offers")
                continue
            listed = mkt.list_offer(self.uow(), self.actor(offer.org), offer.data)
            assert listed.id is not None
            self.offers[key] = listed.id
            r.count(r.created, "offers")
        for order in plan.orders:
            key = (order.org, order.key)
            if key in self.orders:
                r.count(r.present, "orders")
                continue
            created_order = mkt.post_order(self.uow(), self.actor(order.org), order.data)
            assert created_order.id is not None
            self.orders[key] = created_order.id
            r.count(r.created, "orders")
        for package in plan.packages:
            if (package.org, package.key) in packages:
                r.count(r.present, "service_packages")
                continue
            mkt.publish_service_package(self.uow(), self.actor(package.org), package.data)
            r.count(r.created, "service_packages")
        for mentor in plan.mentors:
            if (mentor.org, mentor.key) in mentors:
                r.count(r.present, "mentors")
                continue
            mkt.publish_mentor(self.uow(), self.actor(mentor.org), mentor.data)
            r.count(r.created, "mentors")
        for need in plan.needs:
            if (need.org, need.key) in needs:
                r.count(r.present, "service_needs")
                continue
            mkt.post_service_need(self.uow(), self.actor(need.org), need.data)
            r.count(r.created, "service_needs")

        for interest in plan.interests:
            order_id, offer_id = self.orders[interest.order], self.offers[interest.offer]
            if (order_id, offer_id, InterestKind(interest.kind)) in interests:
                r.count(r.present, "interests")
                continue
            try:
                if interest.kind == InterestKind.INTEREST:
                    mkt.express_interest(
                        self.uow(), self._user_actor(interest.offer[0]), order_id, offer_id, interest.note
                    )
                elif interest.kind == InterestKind.SHORTLIST:
                    mkt.shortlist(self.uow(), self._user_actor(interest.order[0]), order_id, offer_id, interest.note)
                else:
                    mkt.reject_offer(self.uow(), self._user_actor(interest.order[0]), order_id, offer_id, interest.note)
            except DomainError as exc:  # the demo database was used since the last seed
                log.warning("demo seed: interest %s skipped: %s", interest, exc)
                r.count(r.skipped, "interests")
                continue
            interests.add((order_id, offer_id, InterestKind(interest.kind)))
            r.count(r.created, "interests")

        for intent in plan.intents:
            order_id, offer_id = self.orders[intent.order], self.offers[intent.offer]
            buyer = self._user_actor(intent.order[0])
            supplier = self._user_actor(intent.offer[0])
            try:
                existing = intents.get((order_id, offer_id))
                if existing is None:
                    proposer = buyer if intent.proposer == "buyer" else supplier
                    data = {
                        "order_id": order_id,
                        "offer_id": offer_id,
                        "amount": intent.amount,
                        "delivery_due": intent.delivery_due,
                        "terms": intent.terms,
                    }
                    proposed = mkt.propose_intent_order(self.uow(), proposer, data)
                    assert proposed.id is not None
                    existing = (proposed.id, proposed.status)
                    r.count(r.created, "intent_orders")
                else:
                    r.count(r.present, "intent_orders")
                if intent.signed and existing[1] == IntentStatus.PROPOSED:
                    signer = supplier if intent.proposer == "buyer" else buyer
                    mkt.sign_intent_order(self.uow(), signer, existing[0])
                    r.count(r.created, "contracts")
                elif intent.signed and existing[1] == IntentStatus.SIGNED:
                    r.count(r.present, "contracts")
            except DomainError as exc:
                log.warning("demo seed: intent order %s skipped: %s", intent, exc)
                r.count(r.skipped, "intent_orders")

    def _user_actor(self, org_name: str) -> Actor:
        """The organisation's demo user if it has one (so signatures name a person), else the organisation."""
        for u in cat.DEMO_USER_SPECS:
            if u.organisation == org_name and u.role == "admin":
                return self.actor(org_name, u.username)
        return self.actor(org_name)


def load_demo(engine: Engine, clock: Clock, *, seed: int = DEMO_SEED) -> DemoReport:
    """Load the demo data set through the use cases (idempotent; dates relative to ``clock.now()``)."""
    started = time.perf_counter()
    today = to_local(clock.now()).date()
    report = DemoReport()
    _Loader(engine, clock, report).load(build_plan(today, seed))
    load_finance(engine, clock, report)
    load_settlement(engine, clock, report)
    load_chain_finance(engine, clock, report)
    report.seconds = time.perf_counter() - started
    return report
