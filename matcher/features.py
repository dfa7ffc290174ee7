"""Sparse BM25 views of a document corpus, fitted once and grown in place.

A :class:`Bm25View` keeps, for every document, a sparse row of *saturated term frequencies*

    w(d, t) = tf · (k1 + 1) / (tf + k1 · (1 − b + b · |d| / avgdl))

and puts the inverse document frequency on the *query* side, so the score of a document is one sparse
matrix–vector product ``W @ (idf · q)`` and the per-term products are the explanation of that score.

* ``avgdl`` is a fitted parameter (frozen between refits); ``df`` and the document count are live, so idf stays
  exact when documents are added or removed.
* New documents are transformed with the current vocabulary, which *grows* with unseen terms, and appended to a
  small row-major delta block; queries read the big column-major base block and the delta, and the delta is
  merged into the base once it is large. Nothing is refitted.

The view stores terms, not texts: documents arrive as lists of terms (see :mod:`matcher.text`), counted into a
sparse matrix like scikit-learn's ``CountVectorizer`` does (:func:`count_terms`; bulk builds may count in worker
processes and merge their vocabularies with :class:`CountMerger`).

Reading: :meth:`Bm25View.lead_postings` streams the postings of the query's *rarer* terms (the base block is
column-major, so one term's postings are one contiguous slice) for candidate generation, and
:meth:`Bm25View.score_rows` gives the exact BM25 score of chosen rows over all the query's terms (binary search in
each term's sorted postings), so neither touches the whole corpus.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["Bm25View", "CountMerger", "QueryVector", "count_terms"]

TermLists = Sequence[Sequence[str]]

#: Merge the delta block into the base once it holds this many rows (or a tenth of the base, if larger).
DELTA_MERGE_ROWS = 20_000


def count_terms(term_lists: TermLists, vocabulary: dict[str, int]) -> sp.csr_matrix:
    """Term counts of each document (a row per list), growing *vocabulary* in place with unseen terms.

    The per-term work runs in C (``dict.fromkeys``, ``map``, numpy): only the distinct new terms are touched in Python.
    """
    flat = list(itertools.chain.from_iterable(term_lists))
    for term in dict.fromkeys(flat):  # distinct terms, first seen first (a deterministic vocabulary order)
        if term not in vocabulary:
            vocabulary[term] = len(vocabulary)
    n = len(term_lists)
    cols = np.fromiter(map(vocabulary.__getitem__, flat), dtype=np.int64, count=len(flat))
    lengths = np.fromiter(map(len, term_lists), dtype=np.int64, count=n)
    rows = np.repeat(np.arange(n, dtype=np.int64), lengths)
    index_type = np.int32 if len(flat) < 2**31 and len(vocabulary) < 2**31 else np.int64
    m = sp.csr_matrix(
        (np.ones(len(flat), dtype=np.float32), (rows.astype(index_type), cols.astype(index_type))),
        shape=(n, len(vocabulary)),
    )
    m.sum_duplicates()
    m.sort_indices()
    return m


class CountMerger:
    """Stacks count matrices built with separate vocabularies (e.g. by worker processes), one part at a time.

    Each part's columns are mapped into the shared vocabulary as it arrives and its own term list is dropped, so a
    parallel build holds the remapped postings (8 bytes per entry) and one copy more while :meth:`finish` joins them.
    """

    def __init__(self) -> None:
        self.vocabulary: dict[str, int] = {}
        self._data: list[np.ndarray] = []
        self._indices: list[np.ndarray] = []
        self._indptr: list[np.ndarray] = [np.zeros(1, dtype=np.int64)]
        self._nnz = 0
        self._rows = 0

    def add(self, terms: Sequence[str], m: sp.csr_matrix) -> None:
        vocabulary = self.vocabulary
        ids = (vocabulary.setdefault(t, len(vocabulary)) for t in terms)
        remap = np.fromiter(ids, dtype=np.int64, count=len(terms))
        self._indices.append(remap[m.indices].astype(np.int32) if m.nnz else np.zeros(0, dtype=np.int32))
        self._data.append(np.asarray(m.data, dtype=np.float32))
        self._indptr.append(np.asarray(m.indptr[1:], dtype=np.int64) + self._nnz)
        self._nnz += m.nnz
        self._rows += m.shape[0]

    def finish(self) -> tuple[list[str], sp.csr_matrix]:
        index_type = np.int32 if self._nnz < 2**31 and len(self.vocabulary) < 2**31 else np.int64
        indices = np.concatenate([np.zeros(0, dtype=index_type), *self._indices]).astype(index_type, copy=False)
        self._indices = []
        data = np.concatenate([np.zeros(0, dtype=np.float32), *self._data])
        self._data = []
        indptr = np.concatenate(self._indptr).astype(index_type)
        merged = sp.csr_matrix((data, indices, indptr), shape=(self._rows, len(self.vocabulary)))
        merged.sort_indices()  # remapped columns are no longer ascending within a row
        return list(self.vocabulary), merged


@dataclass(frozen=True, slots=True)
class QueryVector:
    """A query in one view: term columns, their weights (idf), and the query's self score (normaliser)."""

    columns: np.ndarray  # int64, unique, ascending
    weights: np.ndarray  # float32, idf of each term
    self_score: float
    df: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # document frequency of each term


@dataclass
class Bm25View:
    name: str
    k1: float = 1.2
    b: float = 0.75
    vocabulary: dict[str, int] = field(default_factory=dict)
    terms: list[str] = field(default_factory=list)  # column → term
    df: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    avgdl: float = 1.0
    n_live: int = 0
    _base: sp.csc_matrix | None = None
    _delta: list[sp.csr_matrix] = field(default_factory=list)
    _delta_rows: int = 0

    # ------------------------------------------------------------------------------------------- building

    def fit(self, term_lists: TermLists) -> None:
        """Fit vocabulary, document frequencies and avgdl on the documents' terms and store them (replaces all)."""
        vocabulary: dict[str, int] = {}
        counts = count_terms(term_lists, vocabulary)
        self.fit_counts(list(vocabulary), counts)

    def fit_counts(self, terms: list[str], counts: sp.csr_matrix) -> None:
        """Fit on a ready term-count matrix whose columns are *terms*."""
        self.terms = list(terms)
        self.vocabulary = {t: i for i, t in enumerate(self.terms)}
        counts = sp.csr_matrix(counts, dtype=np.float32)
        dl = np.asarray(counts.sum(axis=1)).ravel()
        self.avgdl = float(dl.mean()) if dl.size and dl.mean() > 0 else 1.0
        self.df = np.bincount(counts.indices, minlength=len(self.vocabulary)).astype(np.int64)
        self.n_live = counts.shape[0]
        counts = self._saturate(counts, dl, in_place=True)  # the caller hands the counts over
        base = counts.tocsc()
        del counts
        base.sort_indices()
        self._base = base
        self._delta = []
        self._delta_rows = 0

    def add(self, term_lists: TermLists) -> None:
        """Append rows for new documents, growing the vocabulary with unseen terms (no refit)."""
        if not term_lists:
            return
        block = count_terms(term_lists, self.vocabulary)
        width = len(self.vocabulary)
        self.terms.extend(list(self.vocabulary)[len(self.terms) :])
        self._grow(width)
        if self.df.size < width:
            self.df = np.concatenate([self.df, np.zeros(width - self.df.size, dtype=np.int64)])
        np.add.at(self.df, block.indices, 1)
        self.n_live += block.shape[0]
        dl = np.asarray(block.sum(axis=1)).ravel()
        self._delta.append(self._saturate(block, dl))
        self._delta_rows += block.shape[0]
        base_rows = 0 if self._base is None else self._base.shape[0]
        if self._delta_rows >= max(DELTA_MERGE_ROWS, base_rows // 10):
            self.merge()

    def _grow(self, width: int) -> None:
        """Give every stored block the current vocabulary width (cheap: no data is copied)."""
        for m in ([self._base] if self._base is not None else []) + self._delta:
            if m.shape[1] < width:
                m.resize((m.shape[0], width))

    def forget(self, row: int) -> None:
        """Take a (removed) document's terms out of the document frequencies; its row stays but is masked."""
        cols = self.row(row).indices
        self.df[cols] -= 1
        self.n_live -= 1

    def merge(self) -> None:
        """Fold the delta rows into the column-major base block."""
        if not self._delta:
            return
        self._grow(len(self.vocabulary))
        parts = ([self._base] if self._base is not None else []) + self._delta
        base = sp.vstack(parts, format="csc", dtype=np.float32)
        base.sort_indices()
        self._base = base
        self._delta = []
        self._delta_rows = 0

    def _saturate(self, counts: sp.csr_matrix, dl: np.ndarray, *, in_place: bool = False) -> sp.csr_matrix:
        counts = sp.csr_matrix(counts, dtype=np.float32, copy=not in_place)
        # tf · (k1 + 1) / (tf + k1 · (1 − b + b · |d| / avgdl)), in place with one temporary (corpora are large)
        denom = np.repeat(dl.astype(np.float32), np.diff(counts.indptr))
        denom *= np.float32(self.k1 * self.b / self.avgdl)
        denom += np.float32(self.k1 * (1 - self.b))
        tf = counts.data
        denom += tf
        tf *= np.float32(self.k1 + 1)
        tf /= denom
        return counts

    # ------------------------------------------------------------------------------------------- reading

    @property
    def n_rows(self) -> int:
        return (0 if self._base is None else self._base.shape[0]) + self._delta_rows

    def idf(self, columns: np.ndarray) -> np.ndarray:
        n = max(self.n_live, 1)
        df = np.clip(self.df[columns], 0, None).astype(np.float64)
        return np.log1p((n - df + 0.5) / (df + 0.5)).astype(np.float32)

    def query(self, all_terms: Sequence[str]) -> QueryVector:
        """The query vector of a text's terms: known terms only (binary tf), weighted by idf.

        The self score (the normaliser that turns a document's score into "how much of the query it covers") counts
        every distinct query term, unknown ones at the idf of a term no document has: words the corpus has never
        seen are part of what was asked for, so a document sharing only the query's few common terms stays low.
        """
        distinct = set(all_terms)
        terms = {self.vocabulary[t] for t in distinct if t in self.vocabulary}
        columns = np.fromiter(sorted(terms), dtype=np.int64, count=len(terms))
        weights = self.idf(columns)
        n_unknown = len(distinct) - len(terms)
        unknown_idf = float(np.log1p((max(self.n_live, 1) + 0.5) / 0.5))
        n_terms = max(len(all_terms), 1)
        sat = (self.k1 + 1) / (1 + self.k1 * (1 - self.b + self.b * n_terms / self.avgdl))
        self_score = float((weights.sum() + n_unknown * unknown_idf) * sat)
        return QueryVector(columns, weights, self_score, self.df[columns].copy())

    @property
    def base_rows(self) -> int:
        return 0 if self._base is None else self._base.shape[0]

    def lead_postings(
        self, q: QueryVector, budget: int, priority: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Candidate evidence from the base block: the postings of the query's leading terms, up to *budget* postings.

        Terms are taken greedily — the *priority* terms first (e.g. the words of the order's title: what is asked
        for), each group rarest first (highest idf) — while the postings they add fit in *budget*; the very common
        terms, whose postings are long and whose weight is small, are left to :meth:`term_scores`. The rarest term
        is always taken. Returns (rows, partial scores, the columns used); rows repeat when several lead terms hit
        one document.
        """
        if self._base is None or q.columns.size == 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, np.zeros(0, dtype=np.float32), empty
        indptr = self._base.indptr
        lengths = (indptr[q.columns + 1] - indptr[q.columns]).astype(np.int64)
        keys = (lengths,) if priority is None else (lengths, ~priority)
        order = np.lexsort(keys)
        chosen: list[int] = []
        total = 0
        for j, length in zip(order.tolist(), lengths[order].tolist(), strict=True):
            if length and (total + length <= budget or not chosen):
                chosen.append(j)
                total += length
        lead = np.asarray(chosen, dtype=np.int64)
        starts = indptr[q.columns[lead]].astype(np.int64)
        ends = indptr[q.columns[lead] + 1].astype(np.int64)
        if lead.size <= 1:
            if lead.size == 0:
                empty = np.zeros(0, dtype=np.int64)
                return empty, np.zeros(0, dtype=np.float32), empty
            sl = slice(int(starts[0]), int(ends[0]))
            return self._base.indices[sl].astype(np.int64), self._base.data[sl] * q.weights[lead[0]], q.columns[lead]
        pos = np.concatenate([np.arange(a, b) for a, b in zip(starts.tolist(), ends.tolist(), strict=True)])
        w = np.repeat(q.weights[lead], ends - starts)
        return self._base.indices[pos].astype(np.int64), self._base.data[pos] * w, q.columns[lead]

    def term_scores(self, q: QueryVector, rows: np.ndarray) -> np.ndarray:
        """The (len(rows) × terms) matrix of each query term's BM25 contribution to each of *rows* (any block)."""
        out = np.zeros((rows.size, q.columns.size), dtype=np.float32)
        if rows.size == 0 or q.columns.size == 0:
            return out
        base_n = self.base_rows
        in_base = rows < base_n
        if in_base.any() and self._base is not None:
            sel = np.flatnonzero(in_base)
            r = rows[sel].astype(self._base.indices.dtype)  # the postings' own dtype: no conversion per search
            indptr, indices, data = self._base.indptr, self._base.indices, self._base.data
            for j, c in enumerate(q.columns.tolist()):
                a, b = int(indptr[c]), int(indptr[c + 1])
                if a == b:
                    continue
                posting = indices[a:b]
                pos = posting.searchsorted(r)
                hit = posting.take(pos, mode="clip") == r
                if hit.any():
                    out[sel[hit], j] = data[a + pos[hit]] * q.weights[j]
        if (~in_base).any():
            sel = np.flatnonzero(~in_base)
            sub = self.delta_postings(q.columns)
            out[sel] = sub[rows[sel] - base_n].toarray() * q.weights
        return out

    def delta_postings(self, columns: np.ndarray) -> sp.csr_matrix:
        """The (delta rows × len(columns)) saturated-tf sub-matrix of the rows added since the last merge."""
        if not self._delta:
            return sp.csr_matrix((0, columns.size), dtype=np.float32)
        parts = [m[:, columns] for m in self._delta]
        return sp.csr_matrix(sp.vstack(parts, format="csr", dtype=np.float32))

    def row(self, i: int) -> sp.csr_matrix:
        base_rows = 0 if self._base is None else self._base.shape[0]
        if i < base_rows:
            assert self._base is not None
            return sp.csr_matrix(self._base[i])
        i -= base_rows
        for m in self._delta:
            if i < m.shape[0]:
                return sp.csr_matrix(m[i])
            i -= m.shape[0]
        raise IndexError(i)

    def matrix(self) -> sp.csr_matrix:
        """All rows, row-major, at full vocabulary width (merges the delta)."""
        self.merge()
        self._grow(len(self.vocabulary))
        if self._base is None:
            return sp.csr_matrix((0, len(self.vocabulary)), dtype=np.float32)
        return sp.csr_matrix(self._base)

    # ------------------------------------------------------------------------------------------- persistence

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        m = self.matrix()
        meta = {"k1": self.k1, "b": self.b, "avgdl": self.avgdl, "n_live": self.n_live, "terms": self.terms}
        arrays = {
            "data": m.data,
            "indices": m.indices,
            "indptr": m.indptr,
            "shape": np.asarray(m.shape, dtype=np.int64),
            "df": self.df,
        }
        return meta, arrays

    @classmethod
    def from_state(cls, name: str, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> Bm25View:
        view = cls(name, k1=float(meta["k1"]), b=float(meta["b"]))
        view.terms = list(meta["terms"])
        view.vocabulary = {t: i for i, t in enumerate(view.terms)}
        view.df = arrays["df"].astype(np.int64)
        view.avgdl = float(meta["avgdl"])
        view.n_live = int(meta["n_live"])
        shape = tuple(int(x) for x in arrays["shape"])
        m = sp.csr_matrix((arrays["data"], arrays["indices"], arrays["indptr"]), shape=shape, dtype=np.float32)
        base = m.tocsc()
        base.sort_indices()
        view._base = base
        return view
