"""Deterministic demo data and benchmark-scale data for Qianfan.

- :func:`seeds.demo.load_demo` — the demo data set through the marketplace use cases (idempotent);
  :data:`seeds.demo.DEMO_USERS` lists the demo accounts (password ``qianfan-demo``).
- :mod:`seeds.scale` — generators of realistic offers / orders with ground-truth topics, JSONL output, bulk insert.
- :func:`run_seed` — what ``qianfan seed`` calls.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from qianfan.clock import Clock

__all__ = ["run_seed"]


def run_seed(
    engine: Engine,
    clock: Clock,
    *,
    demo: bool = True,
    scale: int = 0,
    out_dir: Path | None = None,
    index_dir: Path | None = None,
) -> str:
    """Load the demo data and/or a scale data set; return a short summary (Chinese first, then English).

    ``scale`` > 0 generates that many offers and ``max(1, scale // 20)`` orders.  Without ``out_dir`` they are
    bulk-inserted into the database; with ``out_dir`` they are written there as ``offers.jsonl`` and
    ``orders.jsonl`` (the matcher batch format) *instead of* being inserted, so a million-offer benchmark file
    does not fill the database.
    """
    from seeds.demo import DEMO_USERS, last_outbox_id, load_demo, match_open_orders
    from seeds.scale import generate_offers, generate_orders, load_scale, write_jsonl

    parts: list[str] = []
    if demo:
        before = last_outbox_id(engine)
        report = load_demo(engine, clock)
        parts.append(report.summary())
        parts.append(match_open_orders(engine, clock, since_outbox_id=before, index_dir=index_dir))
        accounts = "、".join(u[0] for u in DEMO_USERS)
        parts.append(f"演示账号（密码 qianfan-demo）：{accounts}\nDemo accounts (password qianfan-demo): {accounts}")
    if scale > 0:
        n_orders = max(1, scale // 20)
        if out_dir is not None:
            offers = write_jsonl(Path(out_dir) / "offers.jsonl", generate_offers(scale))
            orders = write_jsonl(Path(out_dir) / "orders.jsonl", generate_orders(n_orders))
            parts.append(
                f"规模数据：已写入{offers}条产品/服务与{orders}条订单至 {out_dir}（offers.jsonl、orders.jsonl），"
                f"未写入数据库。\nScale data: wrote {offers} offers and {orders} orders to {out_dir} "
                "(offers.jsonl, orders.jsonl); the database was not changed."
            )
        else:
            parts.append(load_scale(engine, clock, scale, n_orders).summary())
    if not parts:
        return "未执行任何操作（demo=False 且 scale=0）。\nNothing to do (demo=False and scale=0)."
    return "\n".join(parts)
