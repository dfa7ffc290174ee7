"""Compose realistic Chinese listing text from :mod:`seeds.vocab`.  Shared by the demo seed and the scale generator.

Everything here takes an explicit ``random.Random`` so output is reproducible, and is written to be cheap (the scale
generator produces a million offers in well under a minute): index picks instead of ``choice``/``sample`` where it
matters, no regular expressions, no Decimal arithmetic.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from hashlib import sha256
from typing import TypeVar

from qianfan import taxonomy
from qianfan.creditcode import ALPHABET, make_credit_code
from seeds.vocab import (
    BRAND_FIRST,
    BRAND_SECOND,
    CUSTOMERS,
    INDUSTRY_WORDS,
    PROOFS,
    TERMS,
    VERSIONS,
    VOCAB,
    CategoryVocab,
    ProductType,
)

T = TypeVar("T")

_BRAND_FIRST = tuple(dict.fromkeys(BRAND_FIRST))
_BRAND_SECOND = tuple(dict.fromkeys(BRAND_SECOND))

#: Beijing administrative division codes (行政区划代码) used in credit codes, by branch park.
DISTRICT_ADMIN_CODE: dict[str, str] = {
    "海淀园": "110108",
    "昌平园": "110114",
    "顺义园": "110113",
    "大兴生物医药产业基地": "110115",
    "朝阳园": "110105",
    "丰台园": "110106",
    "亦庄园": "110302",  # Beijing Economic-Technological Development Area
    "东城园": "110101",
    "西城园": "110102",
    "石景山园": "110107",
    "通州园": "110112",
    "门头沟园": "110109",
    "房山园": "110111",
    "平谷园": "110117",
    "怀柔园": "110116",
    "密云园": "110118",
    "延庆园": "110119",
}
assert set(DISTRICT_ADMIN_CODE) == set(taxonomy.DISTRICTS)

#: Where firms of a cluster tend to sit (the branch parks' leading industries); weights are relative.
CLUSTER_DISTRICTS: dict[str, tuple[tuple[str, int], ...]] = {
    "ict": (("海淀园", 10), ("朝阳园", 4), ("石景山园", 3), ("丰台园", 2), ("东城园", 1), ("西城园", 1), ("通州园", 1)),
    "ai": (("海淀园", 10), ("朝阳园", 3), ("亦庄园", 2), ("昌平园", 2), ("石景山园", 1)),
    "health": (("大兴生物医药产业基地", 8), ("昌平园", 5), ("亦庄园", 4), ("海淀园", 2), ("朝阳园", 1)),
    "mfg": (("亦庄园", 6), ("顺义园", 4), ("昌平园", 3), ("房山园", 2), ("通州园", 2), ("平谷园", 1)),
    "materials": (("房山园", 5), ("顺义园", 4), ("怀柔园", 2), ("昌平园", 2), ("密云园", 1)),
    "green": (("通州园", 4), ("昌平园", 3), ("密云园", 2), ("门头沟园", 2), ("延庆园", 2), ("怀柔园", 1)),
    "transport": (("丰台园", 5), ("顺义园", 4), ("亦庄园", 3), ("海淀园", 2)),
    "services": (("海淀园", 6), ("西城园", 3), ("东城园", 3), ("朝阳园", 3), ("石景山园", 1)),
    "aerospace": (("亦庄园", 5), ("海淀园", 3), ("丰台园", 2), ("延庆园", 2), ("怀柔园", 1)),
}
assert set(CLUSTER_DISTRICTS) == set(taxonomy.CLUSTER_CODES)


def pick(rng: random.Random, seq: Sequence[T]) -> T:
    return seq[int(rng.random() * len(seq))]


def weighted(rng: random.Random, pairs: Sequence[tuple[T, int]]) -> T:
    total = sum(w for _, w in pairs)
    x = rng.random() * total
    for item, w in pairs:
        x -= w
        if x < 0:
            return item
    return pairs[-1][0]


def brand(rng: random.Random) -> str:
    first = pick(rng, _BRAND_FIRST)
    second = pick(rng, _BRAND_SECOND)
    while second == first:
        second = pick(rng, _BRAND_SECOND)
    return first + second


def company_name(brand_name: str, cluster: str, rng: random.Random) -> str:
    """``北京{字号}{行业}有限公司``."""
    return f"北京{brand_name}{pick(rng, INDUSTRY_WORDS[cluster])}有限公司"


def credit_code(district: str, org_code: str, *, prefix: str = "91") -> str:
    """A valid 18-character unified social credit code: registration prefix, admin code, 9-char org code."""
    return make_credit_code(prefix + DISTRICT_ADMIN_CODE.get(district, "110000") + org_code)


def org_code_from_int(n: int, lead: str) -> str:
    """A 9-character organisation code: ``lead`` then ``n`` in base 31 (unique per ``n``)."""
    digits = []
    for _ in range(9 - len(lead)):
        digits.append(ALPHABET[n % 31])
        n //= 31
    return lead + "".join(reversed(digits))


def stable_org_code(name: str) -> str:
    """A 9-character organisation code derived from the name (stable across seed versions; starts with a digit,
    so it never clashes with the scale generator's letter-led codes)."""
    digest = sha256(name.encode()).digest()
    return str(digest[0] % 10) + "".join(ALPHABET[b % 31] for b in digest[1:9])


def random_org_code(rng: random.Random) -> str:
    """Random organisation code; always starts with a digit (scale data uses letters, so the two never clash)."""
    return pick(rng, "0123456789") + "".join(pick(rng, ALPHABET) for _ in range(8))


# --------------------------------------------------------------------- offers


@dataclass(frozen=True, slots=True)
class _TypeInfo:
    vocab: CategoryVocab
    ptype: ProductType
    modifiers: tuple[str, ...]  # modifiers that do not repeat the start of the product name
    customers: tuple[str, ...]


def _usable_modifiers(vocab: CategoryVocab, name: str) -> tuple[str, ...]:
    mods = tuple(m for m in vocab.modifiers if m[:2] not in name and name[:2] not in m)
    return mods or vocab.modifiers


_INFO: dict[str, _TypeInfo] = {
    p.id: _TypeInfo(v, p, _usable_modifiers(v, p.name), CUSTOMERS[taxonomy.CATEGORY_BY_CODE[v.code].cluster])
    for v in VOCAB.values()
    for p in v.products
}


def _terms_group(vocab: CategoryVocab, kind: str) -> str:
    if kind in ("service", "technology"):
        return kind
    return "software" if vocab.unit == "套" else "hardware"


def offer_title(rng: random.Random, ptype: ProductType, brand_name: str) -> str:
    info = _INFO[ptype.id]
    mod = pick(rng, info.modifiers)
    scene = pick(rng, info.vocab.scenes)
    n = ptype.name
    r = int(rng.random() * 6)
    if ptype.kind == "service":
        if r == 0:
            return f"{brand_name}{n}"
        if r in (1, 2):
            return f"{scene}{n}"
        if r == 3:
            return f"{mod}{n}"
        return f"{brand_name}{mod}{n}"
    if ptype.kind == "technology":
        if r in (0, 1):
            return f"{brand_name}{n}"
        if r == 2:
            return f"{mod}{n}"
        if r == 3:
            return f"{n}（{scene}应用）"
        return f"面向{scene}的{n}"
    if r == 0:
        return f"{brand_name}{n}"
    if r == 1:
        return f"{brand_name}{mod}{n}"
    if r == 2:
        return f"{brand_name}{n} {pick(rng, VERSIONS)}"
    if r == 3:
        return f"{mod}{n}（{scene}版）"
    if r == 4:
        return f"面向{scene}的{mod}{n}"
    return f"{brand_name}{n}（{mod}）"


def _fill(template: str, rng: random.Random) -> str:
    if "{" not in template:
        return template
    return (
        template.replace("{w}", str(2 + int(rng.random() * 14)))
        .replace("{y}", str(1 + int(rng.random() * 3)))
        .replace("{d}", str(15 + 15 * int(rng.random() * 4)))
        .replace("{h}", str(1 + int(rng.random() * 4)))
    )


def offer_description(rng: random.Random, ptype: ProductType, who: str) -> str:
    """A listing description: what it is, three capabilities, scenes, a proof point and delivery terms."""
    info = _INFO[ptype.id]
    v = info.vocab
    feats = v.features
    nf = len(feats)
    i = int(rng.random() * nf)
    j = (i + 1 + int(rng.random() * (nf - 2))) % nf
    k = (j + 1 + int(rng.random() * (nf - 2))) % nf
    if k == i:
        k = (k + 1) % nf
    scenes = v.scenes
    ns = len(scenes)
    a = int(rng.random() * ns)
    b = (a + 1 + int(rng.random() * (ns - 1))) % ns
    mods = info.modifiers
    m1 = int(rng.random() * len(mods))
    m2 = (m1 + 1 + int(rng.random() * (len(mods) - 1))) % len(mods) if len(mods) > 1 else m1
    if ptype.kind == "product":
        intro = f"是{who}自主研发的产品，主打{mods[m1]}、{mods[m2]}"
    elif ptype.kind == "technology":
        intro = f"是{who}掌握的核心技术，可通过技术许可、联合开发或技术服务方式合作"
    else:
        intro = f"是{who}提供的专业服务，特点是{mods[m1]}、{mods[m2]}"
    template, lo, hi = pick(rng, PROOFS)
    proof = template.replace("{n}", str(lo + int(rng.random() * (hi - lo + 1)))).replace(
        "{c}", pick(rng, info.customers)
    )
    terms = _fill(pick(rng, TERMS[_terms_group(v, ptype.kind)]), rng)
    where = "客户" if v.code.startswith("services.") else "场景"
    return (
        f"{ptype.name}{intro}。{feats[i]}；{feats[j]}；{feats[k]}。"
        f"可服务于{scenes[a]}、{scenes[b]}等{where}。{proof}。{terms}。"
    )


def offer_keywords(rng: random.Random, ptype: ProductType) -> list[str]:
    info = _INFO[ptype.id]
    kws = [ptype.name] if len(ptype.name) <= 32 else []
    cat_kws = info.vocab.keywords
    if cat_kws:
        kws.append(pick(rng, cat_kws))
        if len(cat_kws) > 1 and rng.random() < 0.5:
            kws.append(pick(rng, cat_kws))
    kws.append(pick(rng, info.modifiers))
    kws.append(pick(rng, info.vocab.scenes))
    return list(dict.fromkeys(kws))


_ROUND = (1_000, 5_000, 10_000, 50_000)


def price_range_yuan(rng: random.Random, vocab: CategoryVocab) -> tuple[int, int]:
    """A whole-yuan (min, max) price range typical of the category, rounded the way listings are."""
    lo, hi = vocab.price
    # log-uniform in the band so small and large listings both appear
    x = lo * (hi / lo) ** rng.random()
    step = _ROUND[0] if x < 50_000 else _ROUND[1] if x < 300_000 else _ROUND[2] if x < 2_000_000 else _ROUND[3]
    pmin = max(step, int(x // step) * step)
    pmax = int(pmin * (1.5 + rng.random() * 2.5) // step) * step
    return pmin, max(pmin, pmax)


def capacity(rng: random.Random, vocab: CategoryVocab) -> int:
    if vocab.unit in ("台", "批"):
        return 5 + int(rng.random() * 196)
    return 2 + int(rng.random() * 39)


# --------------------------------------------------------------------- orders


def investable(vocab: CategoryVocab) -> tuple[ProductType, ...]:
    """Product types an investor or acquirer looks for: products and technologies where the category has them."""
    return tuple(p for p in vocab.products if p.kind != "service") or vocab.products


def order_title(rng: random.Random, ptype: ProductType, kind: str) -> str:
    info = _INFO[ptype.id]
    n = ptype.name
    scene = pick(rng, info.vocab.scenes)
    r = int(rng.random() * 4)
    service = ptype.kind == "service"
    if kind == "investment":
        if service:
            return f"{n}领域企业股权投资"
        return f"{n}方向早期项目股权投资" if r < 2 else f"寻求{n}领域创新企业战略投资"
    if kind == "merger":
        if service:
            return f"拟收购{n}相关企业"
        if ptype.kind == "technology":
            return f"拟并购掌握{n}的科技企业" if r < 2 else f"拟并购{n}领域专精特新企业"
        return f"拟并购{n}领域专精特新企业" if r < 2 else f"{n}业务并购整合需求"
    if ptype.kind == "technology":
        base = n[:-2] if n.endswith("技术") else n
        return f"{base}技术合作项目" if r < 2 else f"{scene}{n}联合开发项目"
    if r == 0:
        return f"{scene}{n}采购项目"
    if r == 1:
        return f"{n}年度服务商遴选" if service else f"{scene}{n}建设项目"
    if r == 2:
        return f"{pick(rng, info.modifiers)}{n}集中采购"
    return f"{n}供应商征集"


def order_description(rng: random.Random, ptype: ProductType, kind: str, district: str) -> str:
    info = _INFO[ptype.id]
    v = info.vocab
    f = v.features
    i = int(rng.random() * len(f))
    j = (i + 1 + int(rng.random() * (len(f) - 1))) % len(f)
    scene = pick(rng, v.scenes)
    cluster = taxonomy.CLUSTER_BY_CODE[taxonomy.CATEGORY_BY_CODE[v.code].cluster].name_zh
    if kind == "investment":
        return (
            f"本集团围绕{cluster}产业链开展战略投资，拟投资{ptype.name}方向的科技型中小企业，单笔投资额视项目情况确定。"
            f"关注要点：{f[i]}；{f[j]}。优先考虑已在{scene}等场景实现规模化应用、核心团队稳定的企业。"
        )
    if kind == "merger":
        return (
            f"为完善{cluster}业务布局，拟通过股权收购方式并购一家{ptype.name}领域企业。"
            f"标的要求：{f[i]}；拥有稳定的{scene}客户；核心团队稳定，知识产权权属清晰，近两年财务规范。"
        )
    months = 2 + int(rng.random() * 10)
    partner = "合作方" if ptype.kind == "technology" else "供应商"
    need = "服务要求" if ptype.kind == "service" else "技术要求"
    return (
        f"因{scene}业务发展需要，现面向中关村科技型中小企业征集{ptype.name}{partner}。"
        f"主要{need}：{f[i]}；{f[j]}。"
        f"实施地点位于{district}，要求合同签订后{months}个月内完成交付并通过验收。欢迎具备相关案例的企业参与。"
    )


def order_budget_yuan(rng: random.Random, vocab: CategoryVocab, kind: str) -> int:
    lo, hi = vocab.price
    if kind == "investment":
        base = 5_000_000 * (10 ** rng.random())  # 500万 – 5000万
        return int(base // 500_000) * 500_000
    if kind == "merger":
        base = 20_000_000 * (15 ** rng.random())  # 2000万 – 3亿
        return int(base // 1_000_000) * 1_000_000
    base = lo * 2 * ((hi * 4) / (lo * 2)) ** rng.random()
    step = 10_000 if base < 1_000_000 else 100_000
    return max(step, int(base // step) * step)
