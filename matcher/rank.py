"""Retrieve, rerank and explain.

1. **Retrieve.** For each view (word terms, character n-grams) the query becomes an idf-weighted sparse vector and
   every document's BM25 score is one sparse product over the postings of the query's terms; each view's score is
   divided by the query's own BM25 score in that view (so it reads as "how much of the order is covered", about
   0–1) and the views are summed with their weights. When the index has a dense view (:mod:`matcher.dense`) and the
   query a vector (given, or embedded now by the index's embedder), the dense score joins the sum:
   ``w.dense · max(0, (cos − mean) / (max − mean))`` over the live rows — 1 for the semantically closest document,
   0 at or below the corpus average — so documents found by meaning alone become candidates too. Hard filters
   (withdrawn, required qualifications, category, district, price ceiling) are boolean masks; the best
   ``max(k·8, 64)`` candidates come from one ``numpy.argpartition`` — no Python loop over the corpus.
2. **Rerank** the candidates: rapidfuzz similarity of the query to the offer's title and keywords, and structured
   features when both sides have them (category, district, budget vs price range).
3. **Explain**: every :class:`Match` carries each feature's contribution (they sum to the score) and the shared
   terms with their share of the word-view contribution, rendered as a sentence a buyer understands.

Default weights (documented, not learned; a feedback model may later replace them): see :class:`Weights`.

The dense weight (1.0, equal to the two lexical views together) was set on principle — the lexical evidence and
the semantic evidence count the same — and only checked on the held-out SIC→NAICS 2017 concordance, where MRR@10
is flat for weights 0.5–1.5 (0.787–0.789); it was never looked at on NAICS→ISIC, the issue's reported set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from rapidfuzz import fuzz, process

from matcher import text as textmod
from matcher.dense import dense_contribution

if TYPE_CHECKING:
    from matcher.features import QueryVector
    from matcher.index import DocId, MatchIndex

__all__ = ["Filters", "Match", "Query", "Weights", "search"]


@dataclass(frozen=True, slots=True)
class Weights:
    """Weights of the rerank features. Text views are normalised to about 0–1, the others are 0–1 by design."""

    word: float = 0.5  # BM25 over words (jieba / stemmed English), over the query's self score
    char: float = 0.5  # BM25 over character n-grams, over the query's self score
    title: float = 0.2  # rapidfuzz token_sort_ratio of query vs offer title+keywords (word terms), /100
    category: float = 0.15  # same category; half of it for the same cluster (prefix before the dot)
    district: float = 0.05  # same branch park
    budget: float = 0.1  # 1 when the budget covers the offer's minimum price, falling to 0 at half of it
    dense: float = 1.0  # embedding similarity, rescaled per query: closest document 1, corpus average 0 (if any)


@dataclass(frozen=True, slots=True)
class Query:
    """An order (or service need) to rank offers for."""

    title: str
    description: str = ""
    keywords: tuple[str, ...] = ()
    category: str | None = None
    district: str | None = None
    required_qualifications: tuple[str, ...] = ()
    budget_fen: int | None = None
    #: The order's embedding, when it was vectorised as it was saved; else the index's embedder computes it.
    vector: np.ndarray | None = field(default=None, compare=False, repr=False)

    def text(self) -> str:
        return " ".join(p for p in (self.title, " ".join(self.keywords), self.description) if p)


@dataclass(frozen=True, slots=True)
class Filters:
    """Hard filters on top of the query's own required qualifications."""

    categories: tuple[str, ...] = ()
    districts: tuple[str, ...] = ()
    qualifications: tuple[str, ...] = ()
    max_price_fen: int | None = None  # offers whose minimum price is above this are not shown


@dataclass(frozen=True, slots=True)
class SharedTerm:
    term: str  # the readable form, as written in the offer (or the order)
    contribution: float


@dataclass(slots=True)
class Match:
    doc_id: DocId
    score: float
    title: str
    contributions: dict[str, float] = field(default_factory=dict)
    shared_terms: list[SharedTerm] = field(default_factory=list)
    why: str = ""


def _as_query(query: Query | str) -> Query:
    return Query(title=query) if isinstance(query, str) else query


def _mask(index: MatchIndex, query: Query, filters: Filters | None) -> np.ndarray:
    mask = index.alive_mask()
    required = tuple(query.required_qualifications) + (filters.qualifications if filters else ())
    if required:
        mask &= index.rows_with_all(required)
    if filters is not None:
        if filters.categories:
            codes = [index.code_of("category", c) for c in filters.categories]
            mask &= np.isin(index.code_array("category"), codes)
        if filters.districts:
            codes = [index.code_of("district", d) for d in filters.districts]
            mask &= np.isin(index.code_array("district"), codes)
        if filters.max_price_fen is not None:
            pmin, _ = index.price_arrays()
            mask &= (pmin >= 0) & (pmin <= filters.max_price_fen)
    return mask


def _budget_fit(budget: int, price_min: int) -> float:
    if price_min <= 0:
        return 0.0
    if budget >= price_min:
        return 1.0
    return max(0.0, 2.0 * budget / price_min - 1.0)


def search(
    index: MatchIndex,
    query: Query | str,
    k: int = 10,
    *,
    filters: Filters | None = None,
    weights: Weights | None = None,
    explain: bool = True,
) -> list[Match]:
    """The best *k* documents of *index* for *query*, best first, each with its explanation."""
    q = _as_query(query)
    w = weights or Weights()
    n = len(index.documents)
    if n == 0 or k <= 0:
        return []
    prepared = textmod.prepare(q.text())

    # ---- 1. retrieval: one sparse product per view over the query terms' postings (+ one dense product)
    view_weight = {"word": w.word, "char": w.char}
    text_score = np.zeros(n, dtype=np.float32)
    per_view: dict[str, np.ndarray] = {}
    qvecs: dict[str, QueryVector] = {}
    for name, view in index.views.items():
        qv = view.query(prepared)
        qvecs[name] = qv
        if qv.columns.size == 0 or qv.self_score <= 0:
            continue
        raw, _ = view.scores(qv)
        scaled = raw * np.float32(view_weight.get(name, 0.0) / qv.self_score)
        per_view[name] = scaled
        text_score += scaled
    qvec = _query_vector(index, q, w)
    if qvec is not None and index.dense is not None:
        usable = index.alive_mask() & index.dense.has_mask()
        per_view["dense"] = dense_contribution(index.dense.cosines(qvec), usable, w.dense)
        text_score += per_view["dense"]

    mask = _mask(index, q, filters) & (text_score > 0)
    n_ok = int(mask.sum())
    if n_ok == 0:
        return []
    masked = np.where(mask, text_score, -np.inf)
    n_cand = min(n_ok, max(k * 8, 64))
    cand = np.argpartition(-masked, n_cand - 1)[:n_cand] if n_cand < n else np.flatnonzero(mask)
    cand = cand[np.isfinite(masked[cand])]

    # ---- 2. rerank the candidates
    contrib: dict[str, np.ndarray] = {name: s[cand].astype(np.float64) for name, s in per_view.items()}
    qkey = " ".join(textmod.word_terms(textmod.prepare(" ".join((q.title, *q.keywords)))))
    if w.title and qkey:
        keys = [index.fuzz_keys[i] for i in cand]
        sims = process.cdist([qkey], keys, scorer=fuzz.token_sort_ratio, dtype=np.float32)[0]
        contrib["title"] = w.title * sims.astype(np.float64) / 100.0
    if w.category and q.category:
        codes = index.code_array("category")[cand]
        same = codes == index.code_of("category", q.category)
        cluster = q.category.split(".", 1)[0]
        cluster_codes = [c for name, c in index._codes["category"].items() if name.split(".", 1)[0] == cluster]
        near = np.isin(codes, cluster_codes) & ~same
        contrib["category"] = w.category * (same + 0.5 * near)
    if w.district and q.district:
        same = index.code_array("district")[cand] == index.code_of("district", q.district)
        contrib["district"] = w.district * same.astype(np.float64)
    if w.budget and q.budget_fen is not None:
        pmin, _ = index.price_arrays()
        fit = np.array([_budget_fit(q.budget_fen, int(pmin[i])) for i in cand])
        contrib["budget"] = w.budget * fit

    total = np.zeros(cand.size, dtype=np.float64)
    for values in contrib.values():
        total += values
    order = np.lexsort((cand, -total))[:k]  # score desc, then insertion order for ties (deterministic)

    # ---- 3. explain the top k
    matches: list[Match] = []
    word_terms: list[tuple[int, np.ndarray]] = []
    if explain and "word" in per_view:
        qv = qvecs["word"]
        sub = index.views["word"].postings(qv.columns)[cand[order]].toarray().astype(np.float64)
        word_terms = list(enumerate(sub * qv.weights.astype(np.float64) * (w.word / qv.self_score)))
        terms_by_col = _terms_of(index, qv.columns)
    for rank, pos in enumerate(order):
        row = int(cand[pos])
        doc = index.documents[row]
        parts = {name: float(values[pos]) for name, values in contrib.items()}
        m = Match(doc_id=doc.id, score=float(sum(parts.values())), title=doc.title, contributions=parts)
        if explain:
            if word_terms:
                shares = word_terms[rank][1]
                surface = textmod.surface_words(" ".join((doc.title, *doc.keywords, doc.description)))
                m.shared_terms = [
                    SharedTerm(surface.get(terms_by_col[j], terms_by_col[j]), float(shares[j]))
                    for j in np.argsort(-shares)
                    if shares[j] > 0
                ]
            m.why = _why(m, q, doc)
        matches.append(m)
    return matches


def _query_vector(index: MatchIndex, q: Query, w: Weights) -> np.ndarray | None:
    """The query's vector if the dense view can be used: given with the query, or embedded now."""
    if not w.dense or index.dense is None or index.dense.n_with_vectors == 0:
        return None
    if q.vector is not None:
        return q.vector
    if index.embedder is None:
        return None
    return index.embedder.embed_queries([q.text()])[0]


def _terms_of(index: MatchIndex, columns: np.ndarray) -> list[str]:
    terms = index.views["word"].terms
    return [terms[int(c)] for c in columns]


_LABELS = {
    "word": "关键词匹配 term match",
    "char": "字面相近 similar wording",
    "title": "标题相似 similar title",
    "category": "同一类别 same category",
    "district": "同一园区 same park",
    "budget": "预算匹配 budget fits",
    "dense": "语义相近 similar meaning",
}


def _why(m: Match, q: Query, doc: object) -> str:
    """A short explanation: the shared terms, then each feature with its share of the score."""
    bits: list[str] = []
    if m.shared_terms:
        bits.append("共同关键词 shared terms: " + "、".join(t.term for t in m.shared_terms[:5]))
    if q.required_qualifications:
        bits.append("具备所需资质 has the required qualifications: " + "、".join(q.required_qualifications))
    parts = ", ".join(
        f"{_LABELS.get(name, name)} {value:+.3f}"
        for name, value in sorted(m.contributions.items(), key=lambda kv: -kv[1])
    )
    bits.append(f"score {m.score:.3f} = {parts}")
    return "; ".join(bits)
