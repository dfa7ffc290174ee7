"""Login, language, keyboard, phone layout and the service provider's page in a real browser."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser


def test_login_page_by_keyboard_alone(portal: Any) -> None:
    window = portal()
    window.goto("/login")
    window.shot("login")
    page = window.page
    assert page.evaluate("document.activeElement.id") == "username"  # the form has the focus at once
    page.keyboard.type("demo-provider")
    page.keyboard.press("Tab")
    page.keyboard.type("qianfan-demo")
    page.keyboard.press("Enter")
    page.wait_for_url("**/provider")
    assert "服务包与创业导师" in window.text()
    window.shot("provider-home")
    page.keyboard.press("Tab")  # on every page the first stop is the skip link to the content
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"


def test_wrong_password_is_explained_and_nothing_typed_is_lost(portal: Any) -> None:
    window = portal()
    window.goto("/login")
    window.page.locator("#username").fill("demo-sme")
    window.page.locator("#password").fill("not-the-password")
    window.page.locator("form[action='/login'] button[type=submit]").click()
    assert "用户名或密码错误" in window.flash()
    assert window.page.locator("#username").input_value() == "demo-sme"
    window.shot("login-refused")


def test_english_switch_and_phone_menu(portal: Any) -> None:
    window = portal("demo-provider", mobile=True)
    window.page.get_by_role("link", name="English").click()
    window.page.wait_for_load_state()
    assert window.page.locator("html").get_attribute("lang") == "en"
    assert "Service packages and mentors" in window.text()
    nav = window.page.locator("#mainnav")
    assert not nav.is_visible()
    window.page.get_by_role("button", name="Menu").click()
    assert nav.is_visible()
    window.shot("provider-phone-menu-en")
