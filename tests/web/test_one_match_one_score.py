"""Issue 16: one order–offer pair has one score and one explanation whichever side looks at it.

Before, the firm's order page (order → ranked offers) and the SME's matched orders (offer → orders) ranked with two
different computations, so the same pair showed two scores (0.976 and 0.957 on the demo) and two lists of reasons;
and a pair sharing only the industry cluster was called "同一类别" (same category).
"""

from __future__ import annotations

import html
import re

import pytest
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from matcher.service import clear_caches
from qianfan.clock import FrozenClock
from tests.finance_service.conftest import World, build_world
from tests.web.conftest import Pages, new_pages
from tests.web.test_sme_pages import an_offer, an_order, login

pytestmark = pytest.mark.usefixtures("engine")


@pytest.fixture
def world(engine: Engine, clock: FrozenClock) -> World:
    clear_caches()
    return build_world(engine, clock)


def _sme_scores(text: str) -> dict[str, tuple[str, str]]:
    """Order title → (score, reasons cell) on the SME's matched orders."""
    row = r'<a href="/sme/orders/\d+">([^<]+)</a>.*?<span class="score">([\d.]+)</span></td>\s*<td[^>]*>(.*?)</td>'
    rows = re.findall(row, text, re.S)
    return {html.unescape(title): (score, reasons) for title, score, reasons in rows}


def _firm_scores(text: str) -> dict[str, tuple[str, str]]:
    """Offer title → (score, the card) on the firm's order page."""
    cards = re.findall(r'<article class="card">(.*?)</article>', text, re.S)
    out = {}
    for card in cards:
        title = re.search(r"<h3>\d+\. [^·]+ · ([^<]+)</h3>", card)
        score = re.search(r'<span class="score">([\d.]+)</span>', card)
        assert title and score, card[:300]
        out[html.unescape(title.group(1)).strip()] = (score.group(1), card)
    return out


def test_the_firm_and_the_sme_see_one_score_and_one_reason_list_for_a_pair(
    world: World, pages: Pages, app: FastAPI
) -> None:
    same = an_offer(world)  # ict.bigdata, the order's category
    near = an_offer(world, title="政务云数据治理运维服务", category="ict.cloud")  # same cluster (ict), other category
    order = an_order(world)
    assert same.id is not None and near.id is not None and order.id is not None

    login(pages, world, world.sme)
    sme_rows: dict[str, tuple[str, str]] = {}
    for offer in (same, near):
        found = _sme_scores(pages.get(f"/sme/matches?offer={offer.id}").text)
        assert order.title in found, found
        sme_rows[offer.title] = found[order.title]

    firm = new_pages(app)  # the buyer, in another browser
    login(firm, world, world.core)
    firm_cards = _firm_scores(firm.get(f"/firm/orders/{order.id}").text)

    for offer in (same, near):
        sme_score = sme_rows[offer.title][0]
        firm_score = firm_cards[offer.title][0]
        assert sme_score == firm_score, (offer.title, sme_score, firm_score)
    # "same category" only when the category is the same; the shared cluster is named as such, on both sides
    assert "同一类别" in sme_rows[same.title][1] and "同一类别" in firm_cards[same.title][1]
    assert "同一类别" not in sme_rows[near.title][1] and "同一类别" not in firm_cards[near.title][1]
    assert "同一行业集群" in sme_rows[near.title][1] and "同一行业集群" in firm_cards[near.title][1]
