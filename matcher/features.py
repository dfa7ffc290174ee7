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

Like scikit-learn's ``CountVectorizer`` (which it uses for the bulk fit), the view is driven by an analyser that
maps a text to its list of terms.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer

__all__ = ["Bm25View", "QueryVector"]

Analyser = Callable[[str], list[str]]

#: Merge the delta block into the base once it holds this many rows (or a tenth of the base, if larger).
DELTA_MERGE_ROWS = 20_000


@dataclass(frozen=True, slots=True)
class QueryVector:
    """A query in one view: term columns, their weights (idf), and the query's self score (normaliser)."""

    columns: np.ndarray  # int64, unique, ascending
    weights: np.ndarray  # float32, idf of each term
    self_score: float


@dataclass
class Bm25View:
    name: str
    analyser: Analyser
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

    def fit(self, texts: Sequence[str]) -> None:
        """Fit vocabulary, document frequencies and avgdl on *texts* and store their rows (replaces everything)."""
        cv = CountVectorizer(analyzer=self.analyser, dtype=np.float32)
        counts = cv.fit_transform(texts) if len(texts) else sp.csr_matrix((0, 0), dtype=np.float32)
        terms = cv.get_feature_names_out() if len(texts) else np.array([], dtype=object)
        # CountVectorizer sorts its vocabulary; keep that order (deterministic).
        self.terms = [str(t) for t in terms]
        self.vocabulary = {t: i for i, t in enumerate(self.terms)}
        counts = sp.csr_matrix(counts)
        dl = np.asarray(counts.sum(axis=1)).ravel()
        self.avgdl = float(dl.mean()) if dl.size and dl.mean() > 0 else 1.0
        self.df = np.bincount(counts.indices, minlength=len(self.vocabulary)).astype(np.int64)
        self.n_live = counts.shape[0]
        self._base = self._saturate(counts, dl).tocsc()
        self._delta = []
        self._delta_rows = 0

    def add(self, texts: Sequence[str]) -> None:
        """Append rows for *texts*, growing the vocabulary with unseen terms (no refit)."""
        if not texts:
            return
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        vocab = self.vocabulary
        for r, text in enumerate(texts):
            counts: dict[int, int] = {}
            for term in self.analyser(text):
                col = vocab.get(term)
                if col is None:
                    col = vocab[term] = len(vocab)
                    self.terms.append(term)
                counts[col] = counts.get(col, 0) + 1
            for col, n in counts.items():
                rows.append(r)
                cols.append(col)
                vals.append(n)
        width = len(vocab)
        block = sp.csr_matrix(
            (np.asarray(vals, dtype=np.float32), (np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64))),
            shape=(len(texts), width),
        )
        block.sum_duplicates()
        self._grow(width)
        if self.df.size < width:
            self.df = np.concatenate([self.df, np.zeros(width - self.df.size, dtype=np.int64)])
        np.add.at(self.df, block.indices, 1)
        self.n_live += len(texts)
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
        self._base = sp.vstack(parts, format="csc", dtype=np.float32)
        self._delta = []
        self._delta_rows = 0

    def _saturate(self, counts: sp.csr_matrix, dl: np.ndarray) -> sp.csr_matrix:
        counts = sp.csr_matrix(counts, dtype=np.float32, copy=True)
        lengths = np.repeat(dl.astype(np.float32), np.diff(counts.indptr))
        tf = counts.data
        counts.data = (tf * (self.k1 + 1) / (tf + self.k1 * (1 - self.b + self.b * lengths / self.avgdl))).astype(
            np.float32
        )
        return counts

    # ------------------------------------------------------------------------------------------- reading

    @property
    def n_rows(self) -> int:
        return (0 if self._base is None else self._base.shape[0]) + self._delta_rows

    def idf(self, columns: np.ndarray) -> np.ndarray:
        n = max(self.n_live, 1)
        df = np.clip(self.df[columns], 0, None).astype(np.float64)
        return np.log1p((n - df + 0.5) / (df + 0.5)).astype(np.float32)

    def query(self, text: str) -> QueryVector:
        """The query vector of *text*: known terms only (binary tf), weighted by idf."""
        all_terms = self.analyser(text)
        terms = {self.vocabulary[t] for t in all_terms if t in self.vocabulary}
        columns = np.fromiter(sorted(terms), dtype=np.int64, count=len(terms))
        weights = self.idf(columns)
        n_terms = max(len(all_terms), 1)
        sat = (self.k1 + 1) / (1 + self.k1 * (1 - self.b + self.b * n_terms / self.avgdl))
        self_score = float(weights.sum() * sat)
        return QueryVector(columns, weights, self_score)

    def postings(self, columns: np.ndarray) -> sp.csr_matrix:
        """The (n_rows × len(columns)) saturated-tf sub-matrix of the query's terms, row-major."""
        parts: list[Any] = []
        if self._base is not None:
            parts.append(self._base[:, columns])
        parts.extend(m[:, columns] for m in self._delta)
        if not parts:
            return sp.csr_matrix((0, columns.size), dtype=np.float32)
        if len(parts) == 1:
            return sp.csr_matrix(parts[0])
        return sp.csr_matrix(sp.vstack(parts, format="csr", dtype=np.float32))

    def scores(self, q: QueryVector) -> tuple[np.ndarray, sp.csr_matrix]:
        """Raw BM25 scores of every row for *q*, and the postings sub-matrix they came from."""
        sub = self.postings(q.columns)
        return np.asarray(sub @ q.weights, dtype=np.float32).ravel(), sub

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
    def from_state(cls, name: str, analyser: Analyser, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> Bm25View:
        view = cls(name, analyser, k1=float(meta["k1"]), b=float(meta["b"]))
        view.terms = list(meta["terms"])
        view.vocabulary = {t: i for i, t in enumerate(view.terms)}
        view.df = arrays["df"].astype(np.int64)
        view.avgdl = float(meta["avgdl"])
        view.n_live = int(meta["n_live"])
        shape = tuple(int(x) for x in arrays["shape"])
        m = sp.csr_matrix((arrays["data"], arrays["indices"], arrays["indptr"]), shape=shape, dtype=np.float32)
        view._base = m.tocsc()
        return view
