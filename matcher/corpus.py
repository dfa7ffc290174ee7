"""The index's data: fitted sparse views of the corpus plus the structured fields the ranker filters on.

:class:`Corpus` builds, updates, persists and reads the rows; ranking them is :mod:`matcher.rank`, and
:class:`matcher.index.MatchIndex` is a corpus that can also search itself (the engine's public face).  The layers,
lowest first: :mod:`matcher.document` → :mod:`matcher.dense` / :mod:`matcher.features` → this module →
:mod:`matcher.rank` → :mod:`matcher.index`; every import at module top, none going back up.
"""

from __future__ import annotations

import gc
import hashlib
import json
import multiprocessing as mp
import os
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import numpy as np

from matcher import text as textmod
from matcher.dense import DenseView, Embedder, VectorBatch, embed_documents, embedding_text, text_hash
from matcher.document import DocId, Document
from matcher.features import Bm25View, CountMerger, count_terms

__all__ = ["FORMAT_VERSION", "VIEWS", "Corpus", "IndexVersionError", "analyse_fields", "analysis_version"]

FORMAT_VERSION = "qianfan-matcher/1"
#: Bumped whenever the analysers change in a way that makes stored rows incompatible.
_ANALYSERS = "word:jieba(title,keywords,description)+snowball|char(title,keywords):zh1-3,en3-5|v2"


class IndexVersionError(RuntimeError):
    """A saved index was written by another format or text analysis: refit it from the documents."""


def analysis_version() -> str:
    """A fingerprint of the text analysis (analysers, synonym table, stemmer) that stored rows depend on."""
    h = hashlib.sha256(_ANALYSERS.encode())
    h.update(textmod.SYNONYMS_PATH.read_bytes())
    h.update(getattr(textmod._stemmer(), "__qualname__", "").encode())
    return h.hexdigest()[:16]


VIEWS = ("word", "char")
#: Fits of at least this many documents analyse their text in worker processes (one per core).
PARALLEL_MIN_DOCS = 50_000
_CHUNK_DOCS = 10_000

Fields = tuple[str, Sequence[str], str]  # title, keywords, description


def analyse_fields(title: str, keywords: Sequence[str], description: str) -> tuple[list[str], list[str], str]:
    """The terms a document (or a query) contributes to each view, and its title key for fuzzy matching.

    * word view: words of the title, keywords and description;
    * char view: character n-grams of the title and keywords only — n-grams rescue partial matches in the short
      naming fields, while long descriptions would only add noise (and most of the index size);
    * title key: the title's and keywords' words, for the rapidfuzz rerank feature.

    The parts are joined as separate clauses, so each keyword is analysed once for the whole corpus (memoised).
    """
    head = "，".join((title, *keywords))
    head_words = textmod.analyse_words(head)
    words = head_words + textmod.analyse_words(description) if description else head_words
    return words, textmod.analyse_chars(head), " ".join(head_words)


def _fields(doc: Document) -> Fields:
    return doc.title, doc.keywords, doc.description


def _count_chunk(items: Sequence[Fields]) -> tuple[list[str], Any, list[str], Any, list[str]]:
    """Analyse and count a chunk of documents with a local vocabulary (runs in a worker process)."""
    words, chars, keys = [], [], []
    for title, keywords, description in items:
        w, c, key = analyse_fields(title, keywords, description)
        words.append(w)
        chars.append(c)
        keys.append(key)
    wv: dict[str, int] = {}
    cv: dict[str, int] = {}
    wm = count_terms(words, wv)
    cm = count_terms(chars, cv)
    return list(wv), wm, list(cv), cm, keys


def _fit_views(views: dict[str, Bm25View], docs: Sequence[Document], workers: int | None = None) -> list[str]:
    """Analyse and count *docs* (in worker processes when large), fit every view on them; returns the title keys."""
    n_workers = workers if workers is not None else min(os.cpu_count() or 1, 4)

    def chunks() -> Iterator[list[Fields]]:  # made as the workers ask for them, not all at once
        for i in range(0, len(docs), _CHUNK_DOCS):
            yield [_fields(d) for d in docs[i : i + _CHUNK_DOCS]]
        if not docs:
            yield []

    word, char = CountMerger(), CountMerger()
    keys: list[str] = []

    def consume(results: Iterable[tuple[list[str], Any, list[str], Any, list[str]]]) -> None:
        for word_terms, word_counts, char_terms, char_counts, chunk_keys in results:
            word.add(word_terms, word_counts)
            char.add(char_terms, char_counts)
            keys.extend(chunk_keys)

    if len(docs) >= PARALLEL_MIN_DOCS and n_workers > 1 and "fork" in mp.get_all_start_methods():
        textmod.warm_up()  # load the segmenter once, before forking: the workers share it copy-on-write
        # Frozen objects are never visited by the collector, so the workers do not copy the parent's heap (every
        # page an object's GC header lives on would be copied on first touch).
        gc.freeze()
        try:
            with mp.get_context("fork").Pool(n_workers) as pool:
                consume(pool.imap(_count_chunk, chunks(), chunksize=1))  # in order; merged as each chunk arrives
        finally:
            gc.unfreeze()
    else:
        consume(_count_chunk(c) for c in chunks())
    # One view at a time: its merged counts become its column-major block before the next view is joined.
    views["word"].fit_counts(*word.finish())
    views["char"].fit_counts(*char.finish())
    return keys


@dataclass
class Corpus:
    views: dict[str, Bm25View]
    documents: list[Document] = field(default_factory=list)
    fuzz_keys: list[str] = field(default_factory=list)
    generation: int = 0
    _alive: array = field(default_factory=lambda: array("b"))
    _row_of: dict[DocId, int] = field(default_factory=dict)
    _codes: dict[str, dict[str, int]] = field(default_factory=lambda: {"category": {}, "district": {}})
    _category: array = field(default_factory=lambda: array("q"))
    _district: array = field(default_factory=lambda: array("q"))
    _price_min: array = field(default_factory=lambda: array("q"))
    _price_max: array = field(default_factory=lambda: array("q"))
    _record: array = field(default_factory=lambda: array("d"))
    _qual_rows: dict[str, array] = field(default_factory=dict)
    #: Qualification codes as bits of one int64 per row (the first 63 codes), for the hard filter on candidates.
    _qual_bit: dict[str, int] = field(default_factory=dict)
    _qual_bits: array = field(default_factory=lambda: array("q"))
    #: The dense view (one vector per row) and the embedder that fills it and embeds queries; both optional.
    dense: DenseView | None = None
    embedder: Embedder | None = field(default=None, repr=False, compare=False)

    # ------------------------------------------------------------------------------------------- building

    @classmethod
    def empty(cls) -> Self:
        return cls(views={name: Bm25View(name) for name in VIEWS})

    @classmethod
    def fit(cls, documents: Iterable[Document], *, embedder: Embedder | None = None, embed: bool = True) -> Self:
        """Fit every view on *documents* (the offer corpus) and store them.

        With an *embedder* the index gets a dense view; its vectors are computed now when *embed* is true, else they
        stay pending for the workers (:meth:`attach_vectors`, :meth:`embed_pending`).
        """
        index = cls.empty()
        docs = _dedupe(documents)
        keys = _fit_views(index.views, docs)
        for doc, key in zip(docs, keys, strict=True):
            index._append_fields(doc, key)
        if embedder is not None:
            index.enable_dense(embedder, embed=embed)
        return index

    def refit(self) -> Self:
        """A new index fitted on the live documents (fresh idf/avgdl, removed rows dropped).

        Document vectors are carried over (same content, same vector): a refit never embeds a text twice.
        """
        live = self.live_documents()
        fresh = type(self).fit(live)
        if self.dense is not None:
            fresh.embedder = self.embedder
            fresh.dense = DenseView(self.dense.model, self.dense.dim)
            fresh.dense.append_rows([text_hash(embedding_text(d)) for d in live])
            old_rows = np.fromiter((self._row_of[d.id] for d in live), dtype=np.int64, count=len(live))
            keep = self.dense.has_mask()[old_rows] if old_rows.size else np.zeros(0, dtype=bool)
            if keep.any():
                fresh.dense.set_rows(np.flatnonzero(keep), self.dense._vectors[old_rows[keep]])
            if fresh.embedder is not None:
                fresh.embed_pending()
        fresh.generation = self.generation + 1
        return fresh

    def add(
        self,
        documents: Iterable[Document],
        *,
        vectors: VectorBatch | None = None,
        embed: bool | None = None,
    ) -> None:
        """Add new documents, or replace documents whose id is already indexed, without a refit.

        Dense view: *vectors* (computed elsewhere) are attached at once; otherwise the new rows are embedded now when
        *embed* is true, or by default when the index has an embedder; with ``embed=False`` they stay pending.
        """
        docs = _dedupe(documents)
        self.remove([d.id for d in docs if d.id in self._row_of])
        analysed = [analyse_fields(*_fields(d)) for d in docs]
        for i, view in enumerate(self.views.values()):
            view.add([a[i] for a in analysed])
        for doc, a in zip(docs, analysed, strict=True):
            self._append_fields(doc, a[2])
        if self.dense is not None:
            self.dense.append_rows([text_hash(embedding_text(d)) for d in docs])
            if vectors is not None:
                self.attach_vectors(vectors)
            elif self.embedder is not None and embed is not False:
                self.attach_vectors(embed_documents(self.embedder, docs))
        self.generation += 1

    # ------------------------------------------------------------------------------------------- dense view

    def enable_dense(self, embedder: Embedder, *, embed: bool = True) -> None:
        """Give the index a dense view for *embedder* (all rows pending), and embed the live rows if *embed*."""
        self.embedder = embedder
        self.dense = DenseView(embedder.key, embedder.dim)
        self.dense.append_rows([text_hash(embedding_text(d)) for d in self.documents])
        if embed:
            self.embed_pending()

    def attach_vectors(self, batch: VectorBatch) -> int:
        """Attach document vectors computed by a worker; returns how many were attached.

        A vector is dropped when its document was removed or edited since (the content hash differs).
        """
        if self.dense is None:
            raise ValueError("this index has no dense view (fit it with an embedder, or call enable_dense)")
        if batch.model != self.dense.model:
            raise ValueError(f"vectors of model {batch.model!r}, the index holds {self.dense.model!r}")
        rows: list[int] = []
        picks: list[int] = []
        for i, (doc_id, h) in enumerate(zip(batch.ids, batch.hashes, strict=True)):
            row = self._row_of.get(doc_id)
            if row is not None and self._alive[row] and self.dense.row_hash(row) == h:
                rows.append(row)
                picks.append(i)
        if rows:
            self.dense.set_rows(np.asarray(rows, dtype=np.int64), batch.vectors[np.asarray(picks, dtype=np.int64)])
        return len(rows)

    def pending_documents(self) -> list[Document]:
        """Live documents whose vector is not attached yet (the workers' queue)."""
        if self.dense is None:
            return []
        pending = self.alive_mask() & ~self.dense.has_mask()
        return [self.documents[i] for i in np.flatnonzero(pending)]

    def embed_pending(self, batch_size: int = 256) -> int:
        """Embed every pending live document with the index's embedder (what a background worker runs)."""
        if self.embedder is None or self.dense is None:
            return 0
        docs = self.pending_documents()
        return self.attach_vectors(embed_documents(self.embedder, docs, batch_size)) if docs else 0

    def remove(self, ids: Iterable[DocId]) -> int:
        """Withdraw documents; returns how many were live. Their rows are masked, their terms leave the idf."""
        n = 0
        for doc_id in ids:
            row = self._row_of.pop(doc_id, None)
            if row is None or not self._alive[row]:
                continue
            self._alive[row] = 0
            for view in self.views.values():
                view.forget(row)
            n += 1
        if n:
            self.generation += 1
        return n

    def _append_fields(self, doc: Document, fuzz_key: str | None = None) -> None:
        row = len(self.documents)
        self.documents.append(doc)
        if fuzz_key is None:
            fuzz_key = analyse_fields(doc.title, doc.keywords, "")[2]
        self.fuzz_keys.append(fuzz_key)
        self._alive.append(1)
        self._row_of[doc.id] = row
        self._category.append(self._code("category", doc.category))
        self._district.append(self._code("district", doc.district))
        self._price_min.append(-1 if doc.price_min_fen is None else int(doc.price_min_fen))
        self._price_max.append(-1 if doc.price_max_fen is None else int(doc.price_max_fen))
        self._record.append(min(max(float(doc.record), 0.0), 1.0))
        bits = 0
        for q in doc.qualifications:
            self._qual_rows.setdefault(q, array("q")).append(row)
            bit = self._qual_bit.setdefault(q, len(self._qual_bit))
            if bit < 63:
                bits |= 1 << bit
        self._qual_bits.append(bits)

    def _code(self, kind: str, value: str | None) -> int:
        if not value:
            return -1
        table = self._codes[kind]
        return table.setdefault(value, len(table))

    # ------------------------------------------------------------------------------------------- reading

    def __len__(self) -> int:
        return int(np.frombuffer(self._alive, dtype=np.int8).sum()) if self._alive else 0

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._row_of

    def row_of(self, doc_id: DocId) -> int | None:
        """The row of a live document (``None`` when it was never indexed or has been removed)."""
        return self._row_of.get(doc_id)

    def live_documents(self) -> list[Document]:
        alive = self._alive
        return [d for i, d in enumerate(self.documents) if alive[i]]

    def alive_mask(self) -> np.ndarray:
        return np.frombuffer(self._alive, dtype=np.int8).astype(bool) if self._alive else np.zeros(0, dtype=bool)

    def code_array(self, kind: str) -> np.ndarray:
        arr = self._category if kind == "category" else self._district
        return np.frombuffer(arr, dtype=np.int64) if arr else np.zeros(0, dtype=np.int64)

    def code_of(self, kind: str, value: str | None) -> int:
        return self._codes[kind].get(value or "", -2)

    def price_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        if not self._price_min:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.frombuffer(self._price_min, dtype=np.int64), np.frombuffer(self._price_max, dtype=np.int64)

    def record_array(self) -> np.ndarray:
        return np.frombuffer(self._record, dtype=np.float64) if self._record else np.zeros(0, dtype=np.float64)

    def qualified(self, rows: np.ndarray, qualifications: Sequence[str]) -> np.ndarray:
        """Which of *rows* hold every one of *qualifications* (bit tests; postings for rare codes beyond 63)."""
        required = list(dict.fromkeys(qualifications))
        if not required:
            return np.ones(rows.size, dtype=bool)
        if any(q not in self._qual_bit for q in required):
            return np.zeros(rows.size, dtype=bool)
        if all(self._qual_bit[q] < 63 for q in required):
            need = 0
            for q in required:
                need |= 1 << self._qual_bit[q]
            bits = np.frombuffer(self._qual_bits, dtype=np.int64)[rows]
            return (bits & np.int64(need)) == np.int64(need)
        return self.rows_with_all(required)[rows]

    def rows_with_all(self, qualifications: Sequence[str]) -> np.ndarray:
        """Boolean mask of the rows holding every one of *qualifications* (vectorised over postings)."""
        n = len(self.documents)
        required = list(dict.fromkeys(qualifications))
        if not required:
            return np.ones(n, dtype=bool)
        hits = np.zeros(n, dtype=np.int64)
        for q in required:
            rows = self._qual_rows.get(q)
            if rows is None:
                return np.zeros(n, dtype=bool)
            hits += np.bincount(np.frombuffer(rows, dtype=np.int64), minlength=n)
        return hits == len(required)

    # ------------------------------------------------------------------------------------------- persistence

    def save(self, path: str | Path) -> Path:
        """Write the index to the directory *path* (created if needed): manifest.json + arrays.npz."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, np.ndarray] = {}
        views_meta: dict[str, Any] = {}
        for name, view in self.views.items():
            meta, arrs = view.state()
            views_meta[name] = meta
            arrays.update({f"{name}.{key}": value for key, value in arrs.items()})
        arrays["alive"] = self.alive_mask().astype(np.int8)
        manifest: dict[str, Any] = {
            "format": FORMAT_VERSION,
            "analysis": analysis_version(),
            "generation": self.generation,
            "views": views_meta,
            "documents": [d.to_json() for d in self.documents],
        }
        if self.dense is not None:
            dense_meta, dense_arrays = self.dense.state()
            manifest["dense"] = dense_meta
            arrays.update({f"dense.{key}": value for key, value in dense_arrays.items()})
        tmp_manifest = path / "manifest.json.tmp"
        tmp_manifest.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
        savez: Any = np.savez
        with open(path / "arrays.npz.tmp", "wb") as fh:
            savez(fh, **arrays)
        (path / "arrays.npz.tmp").replace(path / "arrays.npz")
        tmp_manifest.replace(path / "manifest.json")
        return path

    @classmethod
    def load(cls, path: str | Path, *, embedder: Embedder | None = None) -> Self:
        """Read an index written by :meth:`save`; raises :class:`IndexVersionError` if it must be refitted.

        With an *embedder*, stored vectors of another model are not used: every row's vector becomes pending.
        """
        path = Path(path)
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("format") != FORMAT_VERSION:
            raise IndexVersionError(f"index format {manifest.get('format')!r}, expected {FORMAT_VERSION!r}")
        if manifest.get("analysis") != analysis_version():
            raise IndexVersionError("the text analysis changed since this index was saved; refit it")
        with np.load(path / "arrays.npz", allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
        index = cls(
            views={
                name: Bm25View.from_state(
                    name,
                    meta,
                    {k.split(".", 1)[1]: v for k, v in arrays.items() if k.startswith(name + ".")},
                )
                for name, meta in manifest["views"].items()
            }
        )
        alive = arrays["alive"]
        for row, d in enumerate(manifest["documents"]):
            doc = Document.from_json(d)
            index._append_fields(doc)
            if not alive[row]:
                index._alive[row] = 0
                index._row_of.pop(doc.id, None)
        index.generation = int(manifest["generation"])
        if "dense" in manifest:
            index.dense = DenseView.from_state(
                manifest["dense"], {k.split(".", 1)[1]: v for k, v in arrays.items() if k.startswith("dense.")}
            )
        if embedder is not None:
            if index.dense is not None and index.dense.model == embedder.key:
                index.embedder = embedder
            else:
                index.enable_dense(embedder, embed=False)
        return index


def _dedupe(documents: Iterable[Document]) -> list[Document]:
    """The last version of each id wins (a batch may carry an offer and its later edit)."""
    by_id: dict[DocId, Document] = {}
    for d in documents:
        by_id.pop(d.id, None)
        by_id[d.id] = d
    return list(by_id.values())
