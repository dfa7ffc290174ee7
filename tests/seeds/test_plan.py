"""The demo plan as pure data (no database): deterministic, complete and consistent with the use cases' rules."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from qianfan import taxonomy
from qianfan.creditcode import is_valid_credit_code
from seeds import catalogue as cat
from seeds.demo import DEMO_USERS, build_plan
from seeds.settlement import VETERAN_USERS
from seeds.textgen import stable_org_code
from seeds.vocab import PRODUCT_TYPES, VOCAB

TODAY = date(2026, 11, 2)


def test_plan_is_deterministic() -> None:
    a, b = build_plan(TODAY), build_plan(TODAY)
    assert [(o.org, o.data) for o in a.offers] == [(o.org, o.data) for o in b.offers]
    assert [o.data for o in a.orgs] == [o.data for o in b.orgs]
    assert a.interests == b.interests and a.intents == b.intents
    other = build_plan(TODAY, seed=7)
    assert [o.key for o in other.offers] != [o.key for o in a.offers]


def test_dates_follow_today() -> None:
    later = build_plan(TODAY + timedelta(days=100))
    plan = build_plan(TODAY)
    assert [o.key for o in later.offers] == [o.key for o in plan.offers]  # text does not depend on the date
    gov = next(o for o in later.orders if o.key == "数字政府大数据平台项目")
    assert gov.data["deadline"] == TODAY + timedelta(days=145)


def test_plan_contents() -> None:
    plan = build_plan(TODAY)
    kinds = Counter(o.kind for o in plan.orgs)
    assert kinds["sme"] >= 200 and kinds["large_firm"] >= 20 and kinds["bank"] == 7
    assert kinds["service_provider"] >= 20 and kinds["programme_office"] == 1
    assert len(plan.offers) >= 2000
    assert {o.key for o in plan.orders} >= set(cat.PROGRAMME_TITLES)
    assert sum(1 for i in plan.intents if i.signed and i.order[1] in cat.PROGRAMME_TITLES) >= 2
    users = [u["username"] for o in plan.orgs for u in o.users]
    # every demo account but the veteran SME's, which seeds.settlement registers months before the seed's day
    assert sorted(users) == sorted(u[0] for u in DEMO_USERS if u[0] not in {v[0] for v in VETERAN_USERS})


def test_plan_respects_the_use_case_rules() -> None:
    plan = build_plan(TODAY)
    orgs = {o.name: o for o in plan.orgs}
    codes = [o.data["credit_code"] for o in plan.orgs]
    assert len(set(codes)) == len(codes) and all(is_valid_credit_code(c) for c in codes)
    assert len(orgs) == len(plan.orgs)
    for offer in plan.offers:
        org = orgs[offer.org]
        assert org.kind == "sme"
        held = {q["code"] for q in org.data["qualifications"] if q["valid_until"] > TODAY}
        assert set(offer.data["qualifications"]) <= held, (offer.org, offer.key)
        assert offer.data["category"] in taxonomy.CATEGORY_BY_CODE
        assert 0 < int(offer.data["price_min"].split(".")[0]) <= int(offer.data["price_max"].split(".")[0])
        assert len(offer.data["title"]) <= 200 and all(len(k) <= 32 for k in offer.data["keywords"])
    titles = [o.key for o in plan.offers]
    assert len(set(titles)) == len(titles)
    for order in plan.orders:
        assert orgs[order.org].kind == "large_firm"
        assert order.data["deadline"] > TODAY
    for intent in plan.intents:
        assert intent.delivery_due > TODAY


def test_generated_offers_use_their_category_vocabulary() -> None:
    plan = build_plan(TODAY)
    generated = [o for o in plan.offers if o.topic is not None]
    assert len(generated) >= 2000
    for offer in generated:
        ptype = PRODUCT_TYPES[offer.topic]  # type: ignore[index]
        assert ptype.category == offer.data["category"]
        assert ptype.name in offer.data["title"] and ptype.name in offer.data["description"]
        assert offer.org in offer.data["description"]


def test_vocabulary_covers_every_category() -> None:
    assert set(VOCAB) == set(taxonomy.CATEGORY_CODES)
    for vocab in VOCAB.values():
        assert len(vocab.products) >= 5 and len(vocab.features) >= 5 and len(vocab.scenes) >= 5
        assert set(vocab.qualifications) <= set(taxonomy.QUALIFICATION_BY_CODE)
        assert 0 < vocab.price[0] < vocab.price[1]


def test_stable_org_codes() -> None:
    assert stable_org_code("北京银行") == stable_org_code("北京银行")
    assert stable_org_code("北京银行")[0].isdigit()
    assert stable_org_code("北京银行") != stable_org_code("北京中关村银行")
