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

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz, process

from matcher import text as textmod
from matcher.corpus import Corpus, analyse_fields
from matcher.dense import dense_contribution
from matcher.document import DocId, Document
from matcher.explain import CLUSTER_SHARE, FEATURE_LABELS, REASON_LABELS, REASON_WEIGHT, score_clause
from matcher.features import QueryVector

__all__ = [
    "FEATURE_LABELS",
    "REASON_LABELS",
    "RECORD_HALF",
    "Filters",
    "Match",
    "PreparedQuery",
    "Query",
    "Weights",
    "category_fit",
    "cluster_of",
    "prepare_query",
    "raw_features",
    "record_score",
    "score_clause",
    "score_pair",
    "search",
]


@dataclass(frozen=True, slots=True)
class Weights:
    """Weights of the rerank features. Text views are normalised to about 0–1, the others are 0–1 by design."""

    word: float = 0.5  # BM25 over words (jieba / stemmed English), over the query's self score
    char: float = 0.5  # BM25 over character n-grams, over the query's self score
    title: float = 0.2  # rapidfuzz token_sort_ratio of query vs offer title+keywords (word terms), /100
    category: float = 0.15  # same category; CLUSTER_SHARE of it ("cluster") for the same cluster only
    district: float = 0.05  # same branch park
    budget: float = 0.1  # 1 when the budget covers the offer's minimum price, falling to 0 at half of it
    dense: float = 1.0  # embedding similarity, rescaled per query: closest document 1, corpus average 0 (if any)
    record: float = 0.1  # the owner's record on the platform (signed intent orders, delivered contracts), 0–1


#: Reason codes left out of a match's contributions when they give nothing (the others are listed even at 0).
OMITTED_WHEN_ZERO = frozenset({"cluster"})


def cluster_of(category: str) -> str:
    """The industry cluster of a category code: its prefix before the dot (``ict`` for ``ict.bigdata``)."""
    return category.split(".", 1)[0]


def category_fit(category: str | None, codes: Iterable[str]) -> tuple[str, float] | None:
    """The category reason of *category* against *codes* (a mentor's expertise): ``("category", 1.0)`` when it is
    among them, ``("cluster", CLUSTER_SHARE)`` when only one of them shares its cluster, else ``None``."""
    if not category:
        return None
    codes = set(codes)
    if category in codes:
        return "category", 1.0
    if any(cluster_of(c) == cluster_of(category) for c in codes):
        return "cluster", CLUSTER_SHARE
    return None


def raw_features(contributions: Mapping[str, float], weights: Weights) -> dict[str, float]:
    """The raw value of each :class:`Weights` feature behind *contributions* (its reasons' sum / its weight).

    0 where the weight is 0 (the raw value is unknowable) or no reason of the feature is present. The ``cluster``
    reason counts towards ``category`` (so a cluster-only pair has a raw category value of :data:`CLUSTER_SHARE`).
    """
    out: dict[str, float] = {}
    for f in dataclasses.fields(Weights):
        w = float(getattr(weights, f.name))
        parts = [float(v) for code, v in contributions.items() if REASON_WEIGHT.get(code, code) == f.name]
        out[f.name] = sum(parts) / w if w and parts else 0.0
    return out


#: The number of deals at which the track record reaches 0.5.
RECORD_HALF = 3.0


def record_score(evidence: float) -> float:
    """The track record (0–1) of a supplier with *evidence* deals on the platform: ``1 − 1/(1 + n/3) = n/(n + 3)``.

    Evidence (counted by :func:`matcher.queries.supplier_records`): each signed intent order (意向订单) 1, each
    delivered or completed contract 1 more, a terminated contract cancels its signature. 0 without evidence, 0.25
    after one signed deal, 0.5 at three, 0.75 at nine — saturating, so volume cannot buy the top slot. It enters the
    score as ``Weights.record × record_score``.
    """
    if evidence <= 0:
        return 0.0
    return 1.0 - 1.0 / (1.0 + evidence / RECORD_HALF)


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
    #: Near-duplicate offers of the same owner folded into this match (ids, best first).
    folded: list[DocId] = field(default_factory=list)


def _as_query(query: Query | str) -> Query:
    return Query(title=query) if isinstance(query, str) else query


def _budget_fit(budget: int, price_min: np.ndarray) -> np.ndarray:
    """1 when the budget covers the offer's minimum price, falling linearly to 0 at half of it; 0 if unpriced."""
    pmin = price_min.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        fit = np.where(pmin > 0, np.clip(2.0 * budget / np.where(pmin > 0, pmin, 1.0) - 1.0, 0.0, 1.0), 0.0)
    return fit


#: Postings each text view may stream per query for candidate generation (its leading terms first): a tenth of the
#: corpus, at least MIN_LEAD_BUDGET and at most LEAD_BUDGET. The cap bounds the latency at any corpus size; below it,
#: leaving out the terms found in more than about a tenth of the documents keeps the candidates on topic. (Generated
#: offers, topic precision@10: at 1M offers a 20k budget gave 0.9895, 60k 0.9997 at p99 7 ms, 100k no better.)
LEAD_BUDGET = 60_000
MIN_LEAD_BUDGET = 5_000
#: Candidates reranked per query (at least; ``k · 10`` when k is larger).
MIN_CANDIDATES = 100


@dataclass(frozen=True, slots=True)
class PreparedQuery:
    """A query vectorised for one index state: what saving an order can compute ahead of ranking it."""

    query: Query
    vectors: dict[str, QueryVector]
    title_key: str
    dense: np.ndarray | None = field(default=None, compare=False, repr=False)
    #: Per view, which query columns come from the title and keywords (they lead candidate generation).
    head_mask: dict[str, np.ndarray] = field(default_factory=dict, compare=False, repr=False)
    #: True once the dense vector was expanded with the first pass's best documents (pseudo-relevance feedback).
    expanded: bool = False


#: Dense pseudo-relevance feedback (Rocchio): the query's vector moves towards the mean vector of the first pass's
#: best DENSE_PRF_DOCS documents, by DENSE_PRF_WEIGHT, before the final ranking (only with a dense view). The usual
#: small settings of the method, checked on the held-out SIC→NAICS set (MRR@10 0.7905 → 0.7919, Hit@10 0.9064 →
#: 0.9104, best of m ∈ {1, 3, 5} × β ∈ {0.3, 0.6, 1.0} there); it costs a second ranking pass.
DENSE_PRF_DOCS = 3
DENSE_PRF_WEIGHT = 0.3


def _expand_dense(index: Corpus, pq: PreparedQuery, first: list[Match]) -> PreparedQuery:
    assert index.dense is not None and pq.dense is not None
    rows = [index._row_of[m.doc_id] for m in first if m.doc_id in index._row_of]
    vectors = [v for v in (index.dense.vector(r) for r in rows) if v is not None]
    if not vectors:
        return dataclasses.replace(pq, expanded=True)
    v = np.asarray(pq.dense, dtype=np.float32) + np.float32(DENSE_PRF_WEIGHT) * np.mean(vectors, axis=0)
    norm = float(np.linalg.norm(v))
    return dataclasses.replace(pq, dense=(v / norm).astype(np.float32) if norm > 0 else pq.dense, expanded=True)


def prepare_query(index: Corpus, query: Query | str, weights: Weights | None = None) -> PreparedQuery:
    """Analyse *query* and map its terms into *index*'s views (and embed it, if the index has a dense view)."""
    q = _as_query(query)
    w = weights or Weights()
    words, chars, title_key = analyse_fields(q.title, q.keywords, q.description)
    vectors = {"word": index.views["word"].query(words), "char": index.views["char"].query(chars)}
    head = set(title_key.split(" "))
    word_view = index.views["word"]
    head_mask = {"word": np.fromiter((word_view.terms[c] in head for c in vectors["word"].columns.tolist()), bool)}
    return PreparedQuery(q, vectors, title_key, _query_vector(index, q, w), head_mask)


def _ok_rows(index: Corpus, rows: np.ndarray, q: Query, filters: Filters | None) -> np.ndarray:
    """Hard filters on candidate *rows*: live, every required qualification held, the filters' fields."""
    ok = np.frombuffer(index._alive, dtype=np.int8)[rows].astype(bool)
    required = tuple(q.required_qualifications) + (filters.qualifications if filters else ())
    if required:
        ok &= index.qualified(rows, required)
    if filters is not None:
        if filters.categories:
            codes = [index.code_of("category", c) for c in filters.categories]
            ok &= np.isin(index.code_array("category")[rows], codes)
        if filters.districts:
            codes = [index.code_of("district", d) for d in filters.districts]
            ok &= np.isin(index.code_array("district")[rows], codes)
        if filters.max_price_fen is not None:
            pmin = index.price_arrays()[0][rows]
            ok &= (pmin >= 0) & (pmin <= filters.max_price_fen)
    return ok


def _expanded(index: Corpus, pq: PreparedQuery, filters: Filters | None, w: Weights) -> PreparedQuery:
    """*pq* after dense pseudo-relevance feedback (a first pass over the best documents), when it applies."""
    if pq.dense is not None and index.dense is not None and DENSE_PRF_DOCS and not pq.expanded:
        first = search(
            index, dataclasses.replace(pq, expanded=True), DENSE_PRF_DOCS, filters=filters, weights=w, explain=False
        )
        return _expand_dense(index, pq, first)
    return pq


def _scales(pq: PreparedQuery, w: Weights) -> dict[str, float]:
    """Per text view, the factor that turns its BM25 sum into a contribution: weight / the query's self score."""
    view_weight = {"word": w.word, "char": w.char}
    return {
        name: view_weight.get(name, 0.0) / qv.self_score
        for name, qv in pq.vectors.items()
        if qv.columns.size and qv.self_score > 0 and view_weight.get(name, 0.0)
    }


def _dense_all(index: Corpus, pq: PreparedQuery, w: Weights) -> np.ndarray | None:
    """The dense contribution of every row (rescaled over the live rows with a vector), if the query has one."""
    if pq.dense is None or index.dense is None:
        return None
    usable = index.alive_mask() & index.dense.has_mask()
    return dense_contribution(index.dense.cosines(pq.dense), usable, w.dense)


@dataclass(slots=True)
class _Scored:
    """The exact feature contributions of candidate rows *cand* (one array per reason code, aligned with cand)."""

    cand: np.ndarray
    contrib: dict[str, np.ndarray]
    per_term: dict[str, np.ndarray]
    scale: dict[str, float]

    def total(self) -> np.ndarray:
        total = np.zeros(self.cand.size, dtype=np.float64)
        for values in self.contrib.values():
            total += values
        return total


def _score_rows(
    index: Corpus, pq: PreparedQuery, cand: np.ndarray, w: Weights, scale: dict[str, float], dense: np.ndarray | None
) -> _Scored:
    """Every feature of *pq* against the rows *cand*: the one place a (query, document) pair is scored."""
    q = pq.query
    contrib: dict[str, np.ndarray] = {}
    per_term: dict[str, np.ndarray] = {}
    for name, factor in scale.items():
        terms = index.views[name].term_scores(pq.vectors[name], cand)
        per_term[name] = terms
        contrib[name] = terms.sum(axis=1).astype(np.float64) * factor
    if dense is not None:
        contrib["dense"] = dense[cand].astype(np.float64)
    if w.title and pq.title_key:
        keys = [index.fuzz_keys[i] for i in cand]
        sims = process.cdist([pq.title_key], keys, scorer=fuzz.token_sort_ratio, dtype=np.float32)[0]
        contrib["title"] = w.title * sims.astype(np.float64) / 100.0
    if w.category and q.category:
        codes = index.code_array("category")[cand]
        same = codes == index.code_of("category", q.category)
        cluster = cluster_of(q.category)
        cluster_codes = [c for name, c in index._codes["category"].items() if cluster_of(name) == cluster]
        near = np.isin(codes, cluster_codes) & ~same
        contrib["category"] = w.category * same.astype(np.float64)
        contrib["cluster"] = w.category * CLUSTER_SHARE * near.astype(np.float64)
    if w.district and q.district:
        same = index.code_array("district")[cand] == index.code_of("district", q.district)
        contrib["district"] = w.district * same.astype(np.float64)
    if w.budget and q.budget_fen is not None:
        pmin = index.price_arrays()[0][cand]
        contrib["budget"] = w.budget * _budget_fit(q.budget_fen, pmin)
    if w.record:
        record = index.record_array()[cand]
        if record.any():
            contrib["record"] = w.record * record
    return _Scored(cand, contrib, per_term, scale)


def _match(index: Corpus, pq: PreparedQuery, scored: _Scored, pos: int, terms_by_col: list[str] | None) -> Match:
    """The :class:`Match` of candidate *pos*; explained (shared terms, sentence) unless *terms_by_col* is None."""
    row = int(scored.cand[pos])
    doc = index.documents[row]
    parts = {
        name: float(values[pos])
        for name, values in scored.contrib.items()
        if name not in OMITTED_WHEN_ZERO or values[pos] > 0
    }
    m = Match(doc_id=doc.id, score=float(sum(parts.values())), title=doc.title, contributions=parts)
    if terms_by_col is not None:
        if terms_by_col:
            shares = scored.per_term["word"][pos].astype(np.float64) * scored.scale["word"]
            best = [j for j in np.argsort(-shares, kind="stable")[:MAX_SHARED_TERMS] if shares[j] > 0]
            m.shared_terms = [SharedTerm(_surface(terms_by_col[j], doc), float(shares[j])) for j in best]
        m.why = _why(m, pq.query, doc)
    return m


def _explained_terms(index: Corpus, pq: PreparedQuery, scored: _Scored) -> list[str]:
    return _terms_of(index, pq.vectors["word"].columns) if "word" in scored.per_term else []


def search(
    index: Corpus,
    query: Query | str | PreparedQuery,
    k: int = 10,
    *,
    filters: Filters | None = None,
    weights: Weights | None = None,
    explain: bool = True,
) -> list[Match]:
    """The best *k* documents of *index* for *query*, best first, each with its explanation.

    Each result's score and explanation are those of :func:`score_pair` for the same pair (without *filters*, which
    only choose the candidates — and, with a dense view, the documents the query is expanded towards).
    """
    w = weights or Weights()
    n = len(index.documents)
    if n == 0 or k <= 0:
        return []
    pq = query if isinstance(query, PreparedQuery) else prepare_query(index, query, w)
    pq = _expanded(index, pq, filters, w)
    q = pq.query
    scale = _scales(pq, w)

    # ---- 1. candidates: the postings of each view's rarer query terms (+ the delta rows, + the dense top)
    rows_parts: list[np.ndarray] = []
    vals_parts: list[np.ndarray] = []
    for name, factor in scale.items():
        view, qv = index.views[name], pq.vectors[name]
        priority = pq.head_mask.get(name)
        rows, vals, _ = view.lead_postings(qv, min(LEAD_BUDGET, max(MIN_LEAD_BUDGET, n // 10)), priority)
        rows_parts.append(rows)
        vals_parts.append(vals * np.float32(factor))
        base_n = view.base_rows
        if view.n_rows > base_n:
            delta = np.asarray(view.delta_postings(qv.columns) @ qv.weights).ravel() * np.float32(factor)
            hit = np.flatnonzero(delta > 0)
            rows_parts.append(hit + base_n)
            vals_parts.append(delta[hit])
    n_cand = max(k * 10, MIN_CANDIDATES)
    dense_all = _dense_all(index, pq, w)
    if dense_all is not None:
        top = _top(dense_all, np.flatnonzero(dense_all > 0), n_cand)
        rows_parts.append(top)
        vals_parts.append(dense_all[top])
    if not rows_parts:
        return []
    rows = np.concatenate(rows_parts)
    vals = np.concatenate(vals_parts).astype(np.float32)
    if rows.size == 0:
        return []
    acc = np.bincount(rows, weights=vals, minlength=n)
    ok = _ok_rows(index, rows, q, filters)
    rows = rows[ok]
    if rows.size == 0:
        return []
    # Best rows by partial score (a row may repeat in `rows`: take enough positions, then dedupe).
    pick = _top(acc, rows, n_cand * 4)
    cand = np.unique(pick)
    cand = cand[np.argsort(-acc[cand], kind="stable")[:n_cand]]
    cand.sort()

    # ---- 2. exact scores of the candidates in every view, then the rerank features
    scored = _score_rows(index, pq, cand, w, scale, dense_all)
    total = scored.total()
    keep = total > 0
    order = np.lexsort((cand, -total))  # score desc, then insertion order for ties (deterministic)
    order = order[keep[order]]

    # ---- 3. fold near-duplicates of one owner, explain the top k
    kept, folded = _fold(index, cand, order, k)
    terms_by_col = _explained_terms(index, pq, scored) if explain else None
    matches: list[Match] = []
    for pos in kept:
        m = _match(index, pq, scored, pos, terms_by_col)
        m.folded = [index.documents[int(cand[f])].id for f in folded.get(pos, ())]
        matches.append(m)
    return matches


def score_pair(
    index: Corpus,
    query: Query | str | PreparedQuery,
    doc_id: DocId,
    *,
    weights: Weights | None = None,
) -> Match | None:
    """The score and explanation of one (query, document) pair: what :func:`search` gives that document.

    ``None`` when the document is not a live row of *index*, lacks a qualification the query requires, or scores
    nothing (:func:`search` would not show it). Whichever side a page starts from — an order's ranked offers, or an
    offer's ranked orders — the pair is scored here, with the order as the query and the offer index as the corpus.
    """
    row = index.row_of(doc_id)
    if row is None:
        return None
    w = weights or Weights()
    pq = query if isinstance(query, PreparedQuery) else prepare_query(index, query, w)
    pq = _expanded(index, pq, None, w)
    cand = np.asarray([row], dtype=np.int64)
    if not _ok_rows(index, cand, pq.query, None)[0]:
        return None
    scored = _score_rows(index, pq, cand, w, _scales(pq, w), _dense_all(index, pq, w))
    if scored.total()[0] <= 0:
        return None
    return _match(index, pq, scored, 0, _explained_terms(index, pq, scored))


#: Shared terms listed per match (the strongest first).
MAX_SHARED_TERMS = 8


def _surface(term: str, doc: Document) -> str:
    """How the offer itself writes *term* (its title and keywords first, then its description)."""
    head = "，".join((doc.title, *doc.keywords))
    found = textmod.surface_form(term, head)
    if found == term and term not in head and doc.description:
        found = textmod.surface_form(term, doc.description)
    return found


def _top(values: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
    """The (up to) *n* entries of *rows* with the highest *values*, unordered (one partial sort)."""
    if rows.size <= n:
        return rows
    return rows[np.argpartition(-values[rows], n - 1)[:n]]


#: Two offers of one owner whose title keys are at least this similar (rapidfuzz ratio) are near-duplicates.
FOLD_SIMILARITY = 90.0


def _fold(index: Corpus, cand: np.ndarray, order: np.ndarray, k: int) -> tuple[list[int], dict[int, list[int]]]:
    """Walk the ranking best first; an offer that nearly duplicates a better one of the same owner is folded into it."""
    kept: list[int] = []
    folded: dict[int, list[int]] = {}
    by_owner: dict[object, list[int]] = {}
    for pos in order.tolist():
        doc = index.documents[int(cand[pos])]
        if doc.owner is not None:
            key = index.fuzz_keys[int(cand[pos])]
            into = next(
                (
                    p
                    for p in by_owner.get(doc.owner, ())
                    if fuzz.ratio(key, index.fuzz_keys[int(cand[p])]) >= FOLD_SIMILARITY
                ),
                None,
            )
            if into is not None:
                folded.setdefault(into, []).append(pos)
                continue
            by_owner.setdefault(doc.owner, []).append(pos)
        if len(kept) == k:
            break
        kept.append(pos)
    return kept, folded


def _query_vector(index: Corpus, q: Query, w: Weights) -> np.ndarray | None:
    """The query's vector if the dense view can be used: given with the query, or embedded now."""
    if not w.dense or index.dense is None or index.dense.n_with_vectors == 0:
        return None
    if q.vector is not None:
        return q.vector
    if index.embedder is None:
        return None
    return index.embedder.embed_queries([q.text()])[0]


def _terms_of(index: Corpus, columns: np.ndarray) -> list[str]:
    terms = index.views["word"].terms
    return [terms[int(c)] for c in columns]


def _why(m: Match, q: Query, doc: object) -> str:
    """A short explanation: the shared terms, then each feature with its share of the score."""
    bits: list[str] = []
    if m.shared_terms:
        bits.append("共同关键词 shared terms: " + "、".join(t.term for t in m.shared_terms[:5]))
    if q.required_qualifications:
        bits.append("具备所需资质 has the required qualifications: " + "、".join(q.required_qualifications))
    bits.append(score_clause(m.score, m.contributions))
    return "; ".join(bits)
