"""Deterministic demo data and benchmark-scale data for Qianfan.

- :func:`seeds.demo.load_demo` — the demo data set through the marketplace use cases (idempotent);
  :data:`seeds.demo.DEMO_USERS` lists the demo accounts (password ``qianfan-demo``).  Its parts —
  :mod:`seeds.finance`, :mod:`seeds.settlement`, :mod:`seeds.chain_finance` — share :mod:`seeds.report` and
  :mod:`seeds.textgen` and import none of each other's callers, so the package has no import loop.
- :mod:`seeds.scale` — generators of realistic offers / orders with ground-truth topics, JSONL output, bulk insert.
- :func:`seeds.load.run_seed` — what ``qianfan seed`` calls.
"""
