"""Browser tests: Playwright (the Python package) driving Debian's Chromium (``/usr/bin/chromium``) against the
real app served by uvicorn on a free port, on a SQLite database loaded with the demo data.

- The server's clock is a :class:`FrozenClock` the test moves (a loan's maturity is 90 days away).
- An inline worker thread relays the outbox and runs the background jobs (risk check, matching, notifications,
  imports) in-process, as ``make run``'s worker would.
- :class:`Portal` is one person's browser window: it logs in through the login form, fails the test on any
  console error or uncaught page error, checks basic accessibility on each page it is asked to, and keeps a
  screenshot of each page under ``artifacts/screenshots/<test module>/`` (``QIANFAN_ARTIFACTS`` moves it).

Without Chromium the tests skip locally and fail under CI (``.ci/run`` installs it when missing).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from api.app import create_app
from api.deps import get_clock
from finance.queries.loans import payoff
from finance.service.loans import repay_loan
from qianfan.actors import Actor
from qianfan.clock import FrozenClock, to_local
from qianfan.config import Settings
from qianfan.db import make_engine
from qianfan.models import Loan, LoanStatus, Organisation, User
from qianfan.money import fen_to_yuan
from qianfan.uow import UnitOfWork

CHROMIUM = os.environ.get("QIANFAN_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("QIANFAN_ARTIFACTS", Path(__file__).resolve().parents[2] / "artifacts"))
DEMO_PASSWORD = "qianfan-demo"
A11Y_SCRIPT = (Path(__file__).parent / "a11y.js").read_text(encoding="utf-8")
#: Flags for Chromium as root on a machine with a closed network (no background calls home).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--lang=zh-CN",  # the browser's own widgets (date pickers) as the platform's users see them
]

pytestmark = pytest.mark.browser


def _need_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    message = f"Chromium not found at {CHROMIUM} (apt-get install chromium; .ci/run does)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


# ------------------------------------------------------------------------------------------ the seeded database


#: Events of the seed left pending whose background work is not worth waiting for in a test: the seed has stored
#: every open order's matches already (``order.posted`` would only tell the SMEs again).
DONE_BY_THE_TEMPLATE = (
    "order.posted",
    "organisation.registered",
    "mentor.published",
    "service_package.published",
    "service_need.posted",
    "interest.expressed",
)


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, datetime]:
    """A migrated SQLite file with the demo data and its matches (and the offer index beside it), made once per
    test process; each module copies it."""
    _need_chromium()
    from sqlmodel import Session, col, update

    from qianfan.migrate import upgrade
    from qianfan.models import OutboxEvent
    from seeds.load import run_seed

    directory = tmp_path_factory.mktemp("seeded")
    path = directory / "qianfan.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    start = datetime.now(UTC).replace(microsecond=0)
    engine = make_engine(url)
    clock = FrozenClock(start)
    run_seed(engine, clock, index_dir=directory / "index")
    with Session(engine) as session:
        session.exec(
            update(OutboxEvent)
            .where(col(OutboxEvent.dispatched_at).is_(None), col(OutboxEvent.topic).in_(DONE_BY_THE_TEMPLATE))
            .values(dispatched_at=start)
        )
        session.commit()
    engine.dispose()
    return path, start


# ------------------------------------------------------------------------------------------ the live server


@dataclass
class LiveServer:
    url: str
    engine: Engine
    clock: FrozenClock
    index_dir: Path
    worker_errors: list[str] = field(default_factory=list)
    #: Rounds the inline worker finished with nothing pending and nothing running (see :meth:`settle`).
    idle_rounds: int = 0

    def settle(self, timeout: float = 30.0) -> None:
        """Wait until the inline worker has relayed every pending event and finished running its jobs (two idle
        rounds after this call: the jobs a request published, and the events those jobs published, are done)."""
        deadline = time.monotonic() + timeout
        start = self.idle_rounds
        while self.idle_rounds < start + 2:
            assert time.monotonic() < deadline, "the inline worker did not settle"
            time.sleep(0.05)
        assert not self.worker_errors, self.worker_errors


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _inline_worker(server: LiveServer, stop: threading.Event) -> None:
    from qianfan.outbox import relay_all
    from tests.workers.conftest import JOB_FUNCTIONS
    from workers.context import Context
    from workers.relay import Job, make_send

    ctx = Context(server.engine, server.clock, index_dir=server.index_dir)
    while not stop.is_set():
        queued: list[Job] = []

        def collect(job: Job, task_id: str | None, into: list[Job] = queued) -> None:
            into.append(job)

        try:
            relay_all(server.engine, make_send(collect))
            for job in queued:
                function = JOB_FUNCTIONS.get(job.task)
                if function is not None:
                    function(ctx, **job.kwargs)
        except Exception as exc:  # reported by LiveServer.settle, not swallowed
            server.worker_errors.append(f"{type(exc).__name__}: {exc}")
        if not queued:
            server.idle_rounds += 1
        stop.wait(0.1)


@pytest.fixture(scope="module")
def live(seeded_template: tuple[Path, datetime], tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The app on a copy of the seeded database, served on a free port, with its inline worker."""
    from api.routes.lists import get_offer_index
    from matcher.service import clear_caches, offer_index_store

    template, start = seeded_template
    directory = tmp_path_factory.mktemp("live")
    shutil.copy(template, directory / "qianfan.db")
    shutil.copytree(template.parent / "index", directory / "index")
    settings = Settings(var_dir=directory, database_url=f"sqlite:///{directory / 'qianfan.db'}", env="test")
    engine = make_engine(settings.database_url)
    clock = FrozenClock(start)
    index_dir = directory / "index"
    app = create_app(settings=settings, engine=engine)
    app.dependency_overrides[get_clock] = lambda: clock
    clear_caches()
    app.dependency_overrides[get_offer_index] = lambda: offer_index_store(engine, clock, index_dir)

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"

    live_server = LiveServer(f"http://127.0.0.1:{port}", engine, clock, index_dir)
    stop = threading.Event()
    worker = threading.Thread(target=_inline_worker, args=(live_server, stop), daemon=True)
    worker.start()
    yield live_server
    stop.set()
    server.should_exit = True
    thread.join(10)
    worker.join(10)
    engine.dispose()
    clear_caches()


# ------------------------------------------------------------------------------------------ the browser


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    _need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Portal:
    """One person's browser window on the live server."""

    def __init__(self, browser: Any, live: LiveServer, shots: Path, *, mobile: bool = False, lang: str = "zh") -> None:
        viewport = {"width": 390, "height": 844} if mobile else {"width": 1366, "height": 900}
        self.context = browser.new_context(
            base_url=live.url,
            viewport=viewport,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            is_mobile=mobile,
            has_touch=mobile,
        )
        self.context.set_default_timeout(15_000)
        self.live = live
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.documents: set[str] = set()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on("response", self._response)
        self.page.on("dialog", lambda dialog: dialog.accept())  # data-confirm questions are answered yes
        self.shots = shots
        self.shots.mkdir(parents=True, exist_ok=True)
        if lang == "en":
            self.context.add_cookies([{"name": "qf_lang", "value": "en", "url": live.url}])

    def _response(self, response: Any) -> None:
        if response.request.resource_type == "document":
            self.documents.add(response.url)  # a refused form is answered 4xx on purpose, with its page
        elif response.status >= 400:
            self.errors.append(f"{response.status} for {response.request.resource_type} {response.url}")

    def _console(self, message: Any) -> None:
        if message.type != "error":
            return
        # Chromium logs every 4xx document as "Failed to load resource"; documents are checked by the tests, and
        # any other resource that fails is recorded by _response.
        if message.text.startswith("Failed to load resource"):
            return
        self.errors.append(f"console {message.type}: {message.text}")

    def goto(self, path: str) -> Any:
        response = self.page.goto(path)
        assert response is not None and response.ok, f"{path}: {response.status if response else 'no response'}"
        return response

    def login(self, username: str, password: str = DEMO_PASSWORD) -> None:
        self.goto("/login")
        self.page.locator("#username").fill(username)
        self.page.locator("#password").fill(password)
        self.page.locator("form[action='/login'] button[type=submit]").click()
        self.page.wait_for_load_state()
        assert "/login" not in self.page.url, f"login as {username} failed: {self.page.url}"

    def shot(self, name: str, *, a11y: bool = True) -> Path:
        """Screenshot the whole page as ``<NN>-<name>.png``, after checking its accessibility."""
        if a11y:
            self.check_a11y(name)
        existing = len(list(self.shots.glob("*.png")))
        path = self.shots / f"{existing + 1:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def check_a11y(self, where: str = "") -> None:
        problems = self.page.evaluate(A11Y_SCRIPT)
        assert not problems, f"accessibility problems on {where or self.page.url}: {problems}"

    def text(self) -> str:
        return str(self.page.locator("main").inner_text())

    def flash(self) -> str:
        return str(self.page.locator(".flash").first.inner_text())

    def close(self) -> None:
        self.context.close()
        assert not self.errors, f"console errors: {self.errors}"


@pytest.fixture(scope="module")
def shots(request: pytest.FixtureRequest) -> Path:
    """This module's screenshot folder, emptied of an earlier run's pictures."""
    folder = ARTIFACTS / "screenshots" / request.module.__name__.rsplit(".", 1)[-1]
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


@pytest.fixture
def portal(browser: Any, live: LiveServer, shots: Path) -> Iterator[Any]:
    """``portal(username=None, mobile=False, lang="zh")`` opens a window (logged in when a username is given);
    every window is checked for console errors when the test ends."""
    opened: list[Portal] = []

    def open_portal(username: str | None = None, *, mobile: bool = False, lang: str = "zh") -> Portal:
        window = Portal(browser, live, shots, mobile=mobile, lang=lang)
        opened.append(window)
        if username:
            window.login(username)
        return window

    yield open_portal
    for window in opened:
        window.close()


def settle_overdue_loans(live: LiveServer, sme_username: str) -> int:
    """Each debtor repays the SME's overdue loans at today's payoff (through the use case), so the SME may apply
    again: an SME with an overdue loan is refused by the automatic risk check for every product (finance.risk).
    The demo keeps demo-sme's loan at 北京中关村银行 overdue; journeys in which demo-sme applies today start with
    its debtor paying it.  Returns how many loans were repaid."""
    with Session(live.engine) as s:
        sme_user = s.exec(select(User).where(User.username == sme_username)).one()
        overdue = s.exec(
            select(Loan).where(Loan.sme_id == sme_user.organisation_id, Loan.status == LoanStatus.OVERDUE)
        ).all()
        payers = []
        for loan in overdue:
            assert loan.id is not None and loan.core_enterprise_id is not None
            org = s.get(Organisation, loan.core_enterprise_id)
            user = s.exec(select(User).where(User.organisation_id == loan.core_enterprise_id)).first()
            assert org is not None and user is not None
            payers.append((loan.id, Actor.for_user(user, org)))
    today = to_local(live.clock.now()).date()
    for loan_id, actor in payers:
        with Session(live.engine) as s:
            owed = payoff(s, loan_id, today).total_fen
        repay_loan(UnitOfWork(live.engine, live.clock), actor, loan_id, fen_to_yuan(owed), f"e2e-settle-{loan_id}")
    return len(payers)
