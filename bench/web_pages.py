"""How long each page of the web portals takes, as each demo account sees it, against a running server.

    make run                                    # in one terminal (the demo data, web + worker + beat)
    python -m bench.web_pages [--base http://127.0.0.1:8000] [--repeat 7]    # or: make bench-pages

Each demo account logs in through the login form (CSRF token and cookie, like a browser), then fetches every page
of its menu ``--repeat`` times after one warm-up fetch.  Printed per page: the status, the median and the slowest
time (ms, client side over loopback, HTML only — assets are cached by a browser) and the page size.  A page that
does not answer 200 makes the exit code 1, so the script doubles as a smoke test of ``make run``.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time

import httpx

from api.web.render import NAV
from qianfan.models import OrgKind

ACCOUNTS: dict[OrgKind, str] = {
    OrgKind.SME: "demo-sme",
    OrgKind.LARGE_FIRM: "demo-firm",
    OrgKind.BANK: "demo-bank",
    OrgKind.PROGRAMME_OFFICE: "demo-office",
    OrgKind.SERVICE_PROVIDER: "demo-provider",
}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _login(client: httpx.Client, username: str, password: str) -> None:
    page = client.get("/login")
    token = _CSRF.search(page.text)
    if token is None:
        raise SystemExit(f"no login form at {client.base_url}/login")
    answer = client.post("/login", data={"username": username, "password": password, "csrf_token": token.group(1)})
    if answer.status_code != 303:
        raise SystemExit(f"login as {username} failed: HTTP {answer.status_code}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--password", default="qianfan-demo")
    args = parser.parse_args(argv)

    failures = 0
    all_times: list[float] = []
    print(f"{'account':<14} {'page':<22} {'status':>6} {'median ms':>10} {'max ms':>8} {'KiB':>6}")
    for kind, username in ACCOUNTS.items():
        with httpx.Client(base_url=args.base, timeout=60) as client:
            _login(client, username, args.password)
            for href, _zh, _en in NAV[kind]:
                client.get(href)  # warm-up: caches, the offer index
                times, status, size = [], 0, 0
                for _ in range(args.repeat):
                    started = time.perf_counter()
                    response = client.get(href)
                    times.append((time.perf_counter() - started) * 1000)
                    status, size = response.status_code, len(response.content)
                failures += status != 200
                all_times.extend(times)
                print(
                    f"{username:<14} {href:<22} {status:>6} {statistics.median(times):>10.0f} {max(times):>8.0f}"
                    f" {size / 1024:>6.0f}"
                )
    print(
        f"all pages: median {statistics.median(all_times):.0f} ms, slowest {max(all_times):.0f} ms, "
        f"{failures} page(s) not 200"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
