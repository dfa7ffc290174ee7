"""Languages of the web pages: Simplified Chinese first, English on request.

Templates and page code carry both texts side by side — ``t("发布订单", "Post an order")`` — so a page can never
lack a translation and nobody hunts through a catalogue.  The choice is a cookie set by ``/lang/{code}``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from starlette.requests import Request

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")
LANG_COOKIE = "qf_lang"

Translate = Callable[[str, str], str]


def lang_of(request: Request) -> Lang:
    """The page language: the ``qf_lang`` cookie, else Chinese (the platform's users read Chinese first)."""
    value = request.cookies.get(LANG_COOKIE, "")
    return "en" if value == "en" else "zh"


def translator(lang: Lang) -> Translate:
    def t(zh: str, en: str) -> str:
        return en if lang == "en" else zh

    return t


def html_lang(lang: Lang) -> str:
    return "en" if lang == "en" else "zh-CN"
