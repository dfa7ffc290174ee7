"""Locust user classes of the HTTP load test (issue 6).  ``python -m bench.api_load`` prepares a database, starts
the API and runs these headless; they can also be run by hand against a server the driver prepared::

    QIANFAN_LOAD_PLAN=var/api-load/plan.json locust -f bench/locustfile.py --headless -u 20 -r 20 -t 60s \\
        --host http://127.0.0.1:8765 FirmMatchUser SmeMatchUser

The plan (JSON, written by the driver) names the accounts each kind of user acts as, with a bearer token obtained
by logging in once per account (``token``; without one the user logs in itself on start), the ids each may use
(a firm's open orders, an SME's active offers and fresh confirmed receivable parts) and the banks to apply to.
Several simulated users may share an account; they then share its parts, each part applied for once.

Scenarios (user classes): matches — ``FirmMatchUser`` + ``SmeMatchUser``; finance — ``FinanceUser`` (quote, apply
with an ``Idempotency-Key``, read the application back, list); review — ``BankReviewUser`` (the review queue and
one application from it).  ``QIANFAN_LOAD_WAIT`` is the think time in seconds (``0``, the default: closed loop, as
fast as the server answers; ``a,b``: uniform between a and b).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode

from locust import FastHttpUser, between, constant, task

API = "/api/v1"
APPLICATIONS = f"{API}/finance/applications"
#: Requested per application: under the advance (0.80–0.90) of the 100,000.00 parts the driver creates.
APPLY_AMOUNT = os.environ.get("QIANFAN_LOAD_AMOUNT", "50000.00")


def _wait_time() -> Callable[..., float]:
    raw = os.environ.get("QIANFAN_LOAD_WAIT", "0").strip()
    if "," in raw:
        low, high = (float(x) for x in raw.split(",", 1))
        return between(low, high)
    return constant(float(raw or 0))


class Plan:
    """The driver's plan, read once per locust process; parts are handed out from one queue per account."""

    _loaded: Plan | None = None

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.banks: list[int] = list(data.get("bank_ids", []))
        self._next: dict[str, Iterator[int]] = {}
        self._parts: dict[str, deque[int]] = {
            account["username"]: deque(account.get("parts", [])) for account in data.get("smes", [])
        }
        self.exhausted: set[str] = set()

    @classmethod
    def get(cls) -> Plan:
        if cls._loaded is None:
            path = os.environ.get("QIANFAN_LOAD_PLAN")
            if not path:
                raise RuntimeError("QIANFAN_LOAD_PLAN is not set: run python -m bench.api_load, or point it at a plan")
            with open(path, encoding="utf-8") as f:
                cls._loaded = cls(json.load(f))
        return cls._loaded

    def account(self, role: str) -> dict[str, Any]:
        """The next account of *role* (round robin over the simulated users of this process)."""
        accounts: list[dict[str, Any]] = self.data[role]
        if not accounts:
            raise RuntimeError(f"the plan has no {role} accounts")
        counter = self._next.setdefault(role, itertools.count())
        return accounts[next(counter) % len(accounts)]

    def take_part(self, username: str) -> int | None:
        parts = self._parts.get(username)
        if parts:
            return parts.popleft()
        if username not in self.exhausted:
            self.exhausted.add(username)
            print(f"[locustfile] no fresh receivable part left for {username}", flush=True)
        return None


class ApiUser(FastHttpUser):
    """A logged-in user of one kind (``role``: a list in the plan)."""

    abstract = True
    role = ""
    wait_time = _wait_time()

    def on_start(self) -> None:
        self.plan = Plan.get()
        self.account = self.plan.account(self.role)
        token = self.account.get("token") or self._login()
        self.auth = {"Authorization": f"Bearer {token}"}

    def _login(self) -> str:
        form = {"username": self.account["username"], "password": self.account["password"]}
        with self.client.post(
            f"{API}/auth/token",
            data=urlencode(form),
            catch_response=True,
            name="POST /auth/token",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ) as response:
            if response.status_code != 200:
                response.failure("login " + _failure(response.status_code, response.text))
                raise RuntimeError(f"cannot log in as {self.account['username']}")
            token: str = response.json()["access_token"]
            return token

    def get(self, path: str, name: str, **query: Any) -> Any:
        """GET *path* (with *query*) as this user; the decoded body, or None when the answer was not 200."""
        url = f"{path}?{urlencode(query, doseq=True)}" if query else path
        with self.client.get(url, headers=self.auth, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(_failure(response.status_code, response.text))
                return None
            return response.json()


def _failure(status: int, text: str | None) -> str:
    """A short description of a failed answer that groups alike failures: ``500 internal_error: <message_en>``
    for the API's error bodies (the per-error reference is left out; it is in the server's log)."""
    try:
        body = json.loads(text or "")
    except ValueError:
        body = None
    if isinstance(body, dict) and "error" in body:
        return f"{status} {body['error']}: {str(body.get('message_en') or '')[:160]}"
    return f"{status}: {(text or '')[:160]}"


def _items(body: Any) -> list[Any]:
    """The rows of a page (``{"items": [...]}``) or of a bare list."""
    if isinstance(body, dict):
        items = body.get("items", [])
        return items if isinstance(items, list) else []
    return body if isinstance(body, list) else []


# ------------------------------------------------------------------------------------------ scenario: matches


class FirmMatchUser(ApiUser):
    """A large firm reading the ranked offers for one of its open orders."""

    role = "firms"

    @task
    def order_matches(self) -> None:
        order_id = random.choice(self.account["orders"])
        self.get(f"{API}/orders/{order_id}/matches", "GET /orders/{id}/matches", limit=20)


class SmeMatchUser(ApiUser):
    """An SME reading the ranked open orders for one of its active offers."""

    role = "sme_matchers"

    @task
    def offer_matches(self) -> None:
        offer_id = random.choice(self.account["offers"])
        self.get(f"{API}/offers/{offer_id}/matches", "GET /offers/{id}/matches", limit=20)


# ------------------------------------------------------------------------------------------ scenario: finance


class FinanceUser(ApiUser):
    """An SME financing a fresh confirmed receivable part: quote, apply, read the application back, list."""

    role = "smes"

    @task
    def finance_one_part(self) -> None:
        part_id = self.plan.take_part(self.account["username"])
        if part_id is None:  # nothing left to apply for: keep reading
            self.get(APPLICATIONS, "GET /finance/applications", limit=20)
            return
        bank_id = random.choice(self.plan.banks)
        self.get(f"{APPLICATIONS}/quote", "GET /finance/applications/quote", part_id=part_id, bank_id=bank_id)
        body = {"part_id": part_id, "bank_id": bank_id, "amount": APPLY_AMOUNT}
        headers = {**self.auth, "Idempotency-Key": f"load-{uuid.uuid4().hex}"}
        application_id = None
        with self.client.post(
            APPLICATIONS, json=body, headers=headers, name="POST /finance/applications", catch_response=True
        ) as response:
            if response.status_code not in (200, 201):
                response.failure(_failure(response.status_code, response.text))
            else:
                application_id = response.json().get("id")
        if application_id is not None:
            self.get(f"{APPLICATIONS}/{application_id}", "GET /finance/applications/{id}")
        self.get(APPLICATIONS, "GET /finance/applications", limit=20)


# ------------------------------------------------------------------------------------------ scenario: review


class BankReviewUser(ApiUser):
    """A bank reviewer polling the review queue (nearest deadline first) and opening one application of it."""

    role = "banks"

    @task
    def review(self) -> None:
        queue = _items(self.get(f"{APPLICATIONS}/review-queue", "GET /finance/applications/review-queue"))
        ids = [row.get("id") or (row.get("application") or {}).get("id") for row in queue if isinstance(row, dict)]
        ids = [i for i in ids if i]
        if ids:
            self.get(f"{APPLICATIONS}/{random.choice(ids[:20])}", "GET /finance/applications/{id} (bank)")
