"""End-to-end effect of the feedback model (:mod:`matcher.feedback`) with simulated buyers.

    .venv/bin/python -m bench.feedback                               # 20,000 offers, 300 + 300 orders, 5 cohorts
    .venv/bin/python -m bench.feedback --offers 5000 --train 100 --test 100 --seeds 2

**Data.** ``seeds.scale.generate_offers`` / ``generate_orders`` (fixed seeds): realistic Chinese offers and
procurement orders, each with a ground-truth product ``topic``. The offers are indexed lexically (no dense view: the
``dense`` feature never varies, so it keeps its default weight). An order's required qualifications are hard filters,
its category, park and budget are soft features, exactly as the platform ranks them.

**Simulated buyers.** Their preference is hidden from the learner; it only sees what they do with the top 20 shown:

* grade of an offer for an order: 0 when the product topic differs (the buyer wants that kind of product), otherwise
  1 + [the budget covers the offer's minimum price] + [the offer is in the order's park] — so 1 to 3. Buyers care
  about price fit and proximity more than the default weights assume (budget 0.1 and park 0.05, against 1.0 for the
  two text views);
* a buyer examines the offer at rank r (1-based) with probability ``1 / (1 + (r - 1) / 10)`` (1 at the top, 0.35 at
  rank 20); an examined offer is shortlisted with probability 0.05 / 0.30 / 0.65 / 0.90 for grade 0 / 1 / 2 / 3 and
  rejected otherwise; the best shortlisted offer of grade ≥ 2 (then the higher ranked) becomes an intent order with
  probability 0.5. The shortlists, intent orders and rejections are the labels (:func:`example_from_match`);
* control: *random buyers* examine the same way but shortlist with probability 0.35 whatever the offer (the first
  one shortlisted gets the intent order, with probability 0.5) — a model learned from them must not be adopted.

The shown lists are ranked with the default weights (the logging policy). :func:`matcher.feedback.fit_weights`
trains on the labels of the training orders; the held-out orders are then ranked with the default and with the
learned weights (top 20, as shown) and scored against the hidden preference:

* MRR@10 — reciprocal rank of the first offer the buyer would accept (same topic, budget covers its minimum price);
* NDCG@10 — gains ``2^grade − 1``; the ideal is the best ten grades among every offer passing the order's filters.

Each scenario is run for ``--seeds`` cohorts of buyers (seeds ``BUYER_SEED + i``; the orders, offers and shown lists
stay the same). Per cohort, differences come with a paired bootstrap 95 % interval over the test orders (fixed seed);
over the cohorts, the summary gives how often the model was adopted, the mean [min, max] difference of the learned
weights, and the mean difference of what the platform would actually rank with (learned if adopted, else the
defaults). Output: tables, then one final JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from matcher.feedback import FeedbackExample, FeedbackModel, Label, example_from_match, feature_names, fit_weights
from matcher.index import Document, MatchIndex
from matcher.rank import Match, Query, Weights
from qianfan.money import yuan_to_fen
from seeds.scale import generate_offers, generate_orders

K_SHOWN = 20
K_EVAL = 10
BUYER_SEED = 20_240_611  # cohort i uses BUYER_SEED + i
BOOTSTRAP_SEED = 7
BOOTSTRAP_ROUNDS = 2_000
SHORTLIST_BY_GRADE = (0.05, 0.30, 0.65, 0.90)
RANDOM_SHORTLIST = 0.35
INTENT_PROBABILITY = 0.5


def examine_probability(rank: int) -> float:
    """Probability that a buyer looks at the offer shown at *rank* (0-based)."""
    return 1.0 / (1.0 + rank / 10.0)


# ------------------------------------------------------------------------------------------------ data


def to_document(offer: dict[str, Any]) -> Document:
    return Document(
        id=offer["id"],
        title=offer["title"],
        description=offer.get("description") or "",
        keywords=tuple(offer.get("keywords") or ()),
        category=offer.get("category"),
        district=offer.get("district"),
        qualifications=tuple(offer.get("qualifications") or ()),
        price_min_fen=yuan_to_fen(offer["price_min"]) if offer.get("price_min") else None,
        price_max_fen=yuan_to_fen(offer["price_max"]) if offer.get("price_max") else None,
        capacity=offer.get("capacity"),
    )


def to_query(order: dict[str, Any]) -> Query:
    return Query(
        title=order["title"],
        description=order.get("description") or "",
        keywords=tuple(order.get("keywords") or ()),
        category=order.get("category"),
        district=order.get("district"),
        required_qualifications=tuple(order.get("required_qualifications") or ()),
        budget_fen=yuan_to_fen(order["budget"]) if order.get("budget") else None,
    )


@dataclass
class Corpus:
    """The offers as arrays, to grade every offer for an order at once (the hidden preference)."""

    row_of: dict[str, int]
    topic: np.ndarray
    district: np.ndarray
    price_min: np.ndarray
    has_qual: dict[str, np.ndarray]
    topic_code: dict[str, int]
    district_code: dict[str, int]

    @classmethod
    def of(cls, offers: Sequence[dict[str, Any]]) -> Corpus:
        topics: dict[str, int] = {}
        districts: dict[str, int] = {}
        n = len(offers)
        has_qual: dict[str, np.ndarray] = {}
        for i, o in enumerate(offers):
            for q in o.get("qualifications") or ():
                has_qual.setdefault(q, np.zeros(n, dtype=bool))[i] = True
        return cls(
            row_of={o["id"]: i for i, o in enumerate(offers)},
            topic=np.array([topics.setdefault(o["topic"], len(topics)) for o in offers]),
            district=np.array([districts.setdefault(o.get("district") or "", len(districts)) for o in offers]),
            price_min=np.array([yuan_to_fen(o["price_min"]) for o in offers], dtype=np.int64),
            has_qual=has_qual,
            topic_code=topics,
            district_code=districts,
        )

    def grades(self, order: dict[str, Any]) -> np.ndarray:
        """The hidden grade (0–3) of every offer for *order*."""
        same_topic = self.topic == self.topic_code.get(order["topic"], -1)
        fits = yuan_to_fen(order["budget"]) >= self.price_min
        near = self.district == self.district_code.get(order.get("district") or "", -1)
        return same_topic * (1 + fits.astype(np.int64) + near.astype(np.int64))

    def accepts(self, order: dict[str, Any]) -> np.ndarray:
        """Offers the buyer would accept: the right product at a price the budget covers."""
        return (self.topic == self.topic_code.get(order["topic"], -1)) & (
            yuan_to_fen(order["budget"]) >= self.price_min
        )

    def eligible(self, order: dict[str, Any]) -> np.ndarray:
        mask = np.ones(self.topic.size, dtype=bool)
        for q in order.get("required_qualifications") or ():
            mask &= self.has_qual.get(q, np.zeros(self.topic.size, dtype=bool))
        return mask


# ------------------------------------------------------------------------------------------------ buyers


def simulate(
    order: dict[str, Any], shown: list[Match], corpus: Corpus, rng: np.random.Generator, *, random_buyer: bool
) -> list[FeedbackExample]:
    """What one buyer does with the offers shown for *order* (ranked with the default weights)."""
    grades = corpus.grades(order)
    labelled: list[tuple[Match, Label, int]] = []
    for rank, m in enumerate(shown):
        if rng.random() >= examine_probability(rank):
            continue
        grade = int(grades[corpus.row_of[str(m.doc_id)]])
        p = RANDOM_SHORTLIST if random_buyer else SHORTLIST_BY_GRADE[grade]
        labelled.append((m, Label.SHORTLIST if rng.random() < p else Label.REJECTION, grade))
    shortlisted = [
        i for i, (_, label, g) in enumerate(labelled) if label is Label.SHORTLIST and (random_buyer or g >= 2)
    ]
    if shortlisted and rng.random() < INTENT_PROBABILITY:
        best = shortlisted[0] if random_buyer else max(shortlisted, key=lambda i: (labelled[i][2], -i))
        m, _, g = labelled[best]
        labelled[best] = (m, Label.INTENT, g)
    return [example_from_match(order["id"], m, label, Weights()) for m, label, _ in labelled]


# ------------------------------------------------------------------------------------------------ metrics


def order_metrics(order: dict[str, Any], ranked: list[Match], corpus: Corpus) -> tuple[float, float]:
    """MRR@10 and NDCG@10 of one ranked list against the buyer's hidden preference."""
    grades = corpus.grades(order)
    accepts = corpus.accepts(order)
    rows = [corpus.row_of[str(m.doc_id)] for m in ranked[:K_EVAL]]
    rr = next((1.0 / (r + 1) for r, row in enumerate(rows) if accepts[row]), 0.0)
    discount = 1.0 / np.log2(np.arange(2, K_EVAL + 2))
    gains = np.array([2.0 ** grades[row] - 1.0 for row in rows])
    dcg = float((gains * discount[: gains.size]).sum())
    ideal = np.sort(grades[corpus.eligible(order)])[::-1][:K_EVAL]
    idcg = float(((2.0**ideal - 1.0) * discount[: ideal.size]).sum())
    return rr, (dcg / idcg if idcg > 0 else 0.0)


def evaluate(
    index: MatchIndex, orders: Sequence[dict[str, Any]], corpus: Corpus, weights: Weights
) -> tuple[np.ndarray, np.ndarray]:
    per = [order_metrics(o, index.search(to_query(o), K_SHOWN, weights=weights, explain=False), corpus) for o in orders]
    arr = np.array(per, dtype=np.float64).reshape(-1, 2)
    return arr[:, 0], arr[:, 1]


def bootstrap_ci(diff: np.ndarray, seed: int = BOOTSTRAP_SEED) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, diff.size, size=(BOOTSTRAP_ROUNDS, diff.size))].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return float(lo), float(hi)


# ------------------------------------------------------------------------------------------------ run


@dataclass
class Run:
    scenario: str  # "preference" or "random"
    seed: int  # the buyers' seed
    model: FeedbackModel | None
    n_labels: int
    metrics: dict[str, dict[str, Any]]  # "mrr@10" / "ndcg@10" → default, learned, diff, ci95, adopted


def run_buyers(
    scenario: str,
    seed: int,
    index: MatchIndex,
    train_orders: Sequence[dict[str, Any]],
    shown: Sequence[list[Match]],
    test_orders: Sequence[dict[str, Any]],
    corpus: Corpus,
    baseline: tuple[np.ndarray, np.ndarray],
) -> Run:
    """One cohort of buyers labels the training lists; fit, then evaluate the learned weights on the test orders."""
    random_buyer = scenario == "random"
    rng = np.random.default_rng(seed)
    examples = [
        ex
        for o, ms in zip(train_orders, shown, strict=True)
        for ex in simulate(o, ms, corpus, rng, random_buyer=random_buyer)
    ]
    model = fit_weights(examples)
    metrics: dict[str, dict[str, Any]] = {}
    if model is not None:
        mrr_l, ndcg_l = evaluate(index, test_orders, corpus, model.weights)
        for key, base, learned in (("mrr@10", baseline[0], mrr_l), ("ndcg@10", baseline[1], ndcg_l)):
            lo, hi = bootstrap_ci(learned - base)
            metrics[key] = {
                "default": float(base.mean()),
                "learned": float(learned.mean()),
                "diff": float((learned - base).mean()),
                "ci95": [lo, hi],
                "adopted": float((learned if model.adopt else base).mean()),
            }
    return Run(scenario, seed, model, len(examples), metrics)


def summarise(runs: Sequence[Run]) -> dict[str, Any]:
    """Per scenario, over the buyer seeds: how often the model was adopted, and the learned / adopted differences."""
    out: dict[str, Any] = {}
    for scenario in dict.fromkeys(r.scenario for r in runs):
        rs = [r for r in runs if r.scenario == scenario and r.model is not None]
        entry: dict[str, Any] = {
            "runs": sum(r.scenario == scenario for r in runs),
            "adopted": sum(bool(r.model and r.model.adopt) for r in rs),
        }
        for key in ("mrr@10", "ndcg@10"):
            learned = [r.metrics[key]["diff"] for r in rs]
            adopted = [r.metrics[key]["adopted"] - r.metrics[key]["default"] for r in rs]
            if learned:
                entry[key] = {
                    "learned_diff_mean": float(np.mean(learned)),
                    "learned_diff_min": float(np.min(learned)),
                    "learned_diff_max": float(np.max(learned)),
                    "adopted_diff_mean": float(np.mean(adopted)),
                }
        out[scenario] = entry
    return out


def _f(v: float | None, spec: str = ".3f") -> str:
    return "—" if v is None else format(v, spec)


def report(runs: Sequence[Run], summary: dict[str, Any], baseline: tuple[np.ndarray, np.ndarray]) -> None:
    print(f"default weights on the test orders: MRR@10 {baseline[0].mean():.3f}, NDCG@10 {baseline[1].mean():.3f}\n")
    print(f"{'buyers':<14} {'labels':>6} {'pos/neg':>9} {'held-out AUC def→learned':>25} {'adopt':>6}  "
          f"{'MRR@10 learned  Δ [95% CI]':<32} {'NDCG@10 learned  Δ [95% CI]':<32}")  # fmt: skip
    for r in runs:
        name = f"{r.scenario} #{r.seed - BUYER_SEED}"
        m = r.model
        if m is None:
            print(f"{name:<14} {r.n_labels:>6} {'below the thresholds: default weights':>42}")
            continue
        cells = []
        for key in ("mrr@10", "ndcg@10"):
            x = r.metrics[key]
            lo, hi = x["ci95"]
            cells.append(f"{x['learned']:.3f}  {x['diff']:+.3f} [{lo:+.3f}, {hi:+.3f}]")
        auc = f"{_f(m.auc_default)} → {_f(m.auc_learned)}"
        print(
            f"{name:<14} {r.n_labels:>6} {f'{m.n_positive}/{m.n_negative}':>9} {auc:>25} "
            f"{'yes' if m.adopt else 'no':>6}  {cells[0]:<32} {cells[1]:<32}"
        )
    print(f"\n{'over seeds':<14} {'adopted':>8}  {'Δ MRR@10 learned: mean [min, max]':<36} {'adopted':>8}  "
          f"{'Δ NDCG@10 learned: mean [min, max]':<36} {'adopted':>8}")  # fmt: skip
    for scenario, e in summary.items():
        cells = []
        for key in ("mrr@10", "ndcg@10"):
            x = e.get(key)
            if x is None:
                cells.append(f"{'—':<36} {'—':>8}")
                continue
            spread = f"{x['learned_diff_mean']:+.3f} [{x['learned_diff_min']:+.3f}, {x['learned_diff_max']:+.3f}]"
            cells.append(f"{spread:<36} {x['adopted_diff_mean']:>+8.3f}")
        adopted = f"{e['adopted']}/{e['runs']}"
        print(f"{scenario:<14} {adopted:>8}  {cells[0]}  {cells[1]}")
    print('("adopted": what the platform gets — the learned weights when the model was adopted, else the defaults)\n')
    names = feature_names()
    print(f"{'weights':<14} " + " ".join(f"{n:>8}" for n in names))
    print(f"{'default':<14} " + " ".join(f"{getattr(Weights(), n):>8.3f}" for n in names))
    for r in runs:
        if r.model is not None:
            name = f"{r.scenario} #{r.seed - BUYER_SEED}"
            print(f"{name:<14} " + " ".join(f"{getattr(r.model.weights, n):>8.3f}" for n in names))
    print()
    for r in runs:
        if r.model is not None:
            print(f"{r.scenario} #{r.seed - BUYER_SEED}: {r.model.reason}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench.feedback", description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--offers", type=int, default=20_000, help="offers in the index (default 20,000)")
    ap.add_argument("--train", type=int, default=300, help="orders whose buyers give feedback (default 300)")
    ap.add_argument("--test", type=int, default=300, help="held-out orders to evaluate on (default 300)")
    ap.add_argument("--seeds", type=int, default=5, help="buyer cohorts (seeds) per scenario (default 5)")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    offers = list(generate_offers(args.offers))
    orders = list(generate_orders(args.train + args.test))
    train_orders, test_orders = orders[: args.train], orders[args.train :]
    corpus = Corpus.of(offers)
    index = MatchIndex.fit(to_document(o) for o in offers)
    t_index = time.perf_counter() - t0
    sizes = f"{len(train_orders)} training, {len(test_orders)} test orders"
    print(f"indexed {len(offers):,} offers in {t_index:.1f} s; {sizes}", file=sys.stderr)

    shown = [index.search(to_query(o), K_SHOWN, explain=False) for o in train_orders]
    baseline = evaluate(index, test_orders, corpus, Weights())
    runs = [
        run_buyers(scenario, BUYER_SEED + i, index, train_orders, shown, test_orders, corpus, baseline)
        for scenario in ("preference", "random")
        for i in range(args.seeds)
    ]
    summary = summarise(runs)
    seconds = time.perf_counter() - t0
    report(runs, summary, baseline)
    print(f"\n{seconds:.1f} s in all (indexing {t_index:.1f} s)")
    print(
        json.dumps(
            {
                "bench": "feedback",
                "offers": len(offers),
                "train_orders": len(train_orders),
                "test_orders": len(test_orders),
                "default": {"mrr@10": float(baseline[0].mean()), "ndcg@10": float(baseline[1].mean())},
                "summary": summary,
                "runs": [
                    {
                        "scenario": r.scenario,
                        "seed": r.seed,
                        "labels": r.n_labels,
                        "model": r.model.to_json() if r.model is not None else None,
                        **r.metrics,
                    }
                    for r in runs
                ],
                "seconds": round(seconds, 1),
            },
            ensure_ascii=False,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
