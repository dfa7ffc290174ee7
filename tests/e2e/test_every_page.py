"""Every demo account opens every page of its menu, in Chinese on a laptop and in English on a phone: each answers
200, has no console error, passes the accessibility checks, fits the phone's width, and is kept as a screenshot."""

from __future__ import annotations

from typing import Any

import pytest

from api.web.render import NAV
from qianfan.models import OrgKind

pytestmark = pytest.mark.browser

ACCOUNTS = {
    OrgKind.SME: "demo-sme",
    OrgKind.LARGE_FIRM: "demo-firm",
    OrgKind.BANK: "demo-bank",
    OrgKind.PROGRAMME_OFFICE: "demo-office",
    OrgKind.SERVICE_PROVIDER: "demo-provider",
}


@pytest.mark.parametrize("kind", list(ACCOUNTS), ids=[k.value for k in ACCOUNTS])
def test_every_menu_page_of_each_role(portal: Any, kind: OrgKind) -> None:
    window = portal(ACCOUNTS[kind])
    for href, _zh, en in NAV[kind]:
        window.goto(href)
        assert window.page.locator("h1").count() >= 1
        link = window.page.locator(f'#mainnav a[href="{href}"]')
        assert link.get_attribute("aria-current") == "page", f"{href} is not marked as the current page"
        window.shot(f"{kind.value}-{en.lower().replace(' ', '-').replace('/', '')}")
    phone = portal(ACCOUNTS[kind], mobile=True, lang="en")
    for href, _zh, _en in NAV[kind]:
        phone.goto(href)
        assert phone.page.locator("html").get_attribute("lang") == "en"
        phone.check_a11y(href)
        # usable on a phone: nothing makes the page itself scroll sideways (wide tables scroll in their own box)
        overflow = phone.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{href} is {overflow}px wider than the phone's screen"
    phone.shot(f"{kind.value}-phone-en")
