"""Matcher engine: normalisation, retrieval, incremental adds, persistence, explanations (no database)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

import matcher.corpus as corpus_module
from matcher.index import Document, IndexVersionError, MatchIndex
from matcher.rank import Filters, Query
from matcher.text import char_terms, normalise, prepare, word_terms

OFFERS = [
    Document(1, "工业云PaaS平台建设与运维", keywords=("PaaS", "工业互联网"), category="ict.iiot", district="海淀园"),
    Document(2, "物联网传感器数据采集终端", keywords=("IoT", "传感器"), category="ict.iot", district="昌平园"),
    Document(3, "大数据治理与数据中台咨询", category="ict.bigdata", qualifications=("hnte",)),
    Document(
        4,
        "中央空调节能改造（合同能源管理）",
        category="green.hvac",
        qualifications=("emc", "hnte"),
        price_min_fen=50_000_000,
        price_max_fen=300_000_000,
    ),
    Document(5, "人工智能视觉检测系统", keywords=("图像识别", "质检"), category="ai.cv", district="海淀园"),
    Document(6, "无人机航拍测绘服务", keywords=("无人机", "遥感"), category="aerospace.uav"),
]


@pytest.fixture(scope="module")
def index() -> MatchIndex:
    return MatchIndex.fit(OFFERS)


# ------------------------------------------------------------------------------------------------ normalisation


def test_full_width_to_half_width_and_case() -> None:
    assert normalise("ＡＢＣ１２３ＰａａＳ") == "abc123paas"
    assert normalise("Ｈｅｌｌｏ，　Ｗｏｒｌｄ！") == "hello world"


def test_traditional_to_simplified() -> None:
    assert normalise("雲計算與數據治理") == "云计算与数据治理"
    assert normalise("工業互聯網") == "工业互联网"


def test_punctuation_becomes_space() -> None:
    assert normalise("中央空调（节能改造）、合同能源管理；EMC!") == "中央空调 节能改造 合同能源管理 emc"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("工业云PaaS平台", "paas 平台"),
        ("IoT", "物联网"),
        ("大数据", "big data"),
        ("人工智能", "AI"),
        ("人工智能", "Artificial Intelligence"),
    ],
)
def test_synonyms_meet(a: str, b: str) -> None:
    shared = set(word_terms(prepare(a))) & set(word_terms(prepare(b)))
    assert shared, (a, b)


def test_synonym_variant_inside_canonical_is_not_rewritten() -> None:
    assert word_terms(prepare("物联网")) == ["物联网"]


def test_english_stop_words_and_stemming() -> None:
    terms = word_terms(prepare("Manufacturing of the Machines"))
    assert "the" not in terms and "of" not in terms
    assert word_terms(prepare("manufacture machine")) == terms


def test_char_ngrams_cover_chinese_runs() -> None:
    grams = char_terms(prepare("数据中台"))
    assert {"数据", "中台", "数据中"} <= set(grams)


# ------------------------------------------------------------------------------------------------ retrieval


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("paas 平台", 1),
        ("IoT 设备数据采集", 2),
        ("Big Data 治理", 3),
        ("中央空調節能", 4),
        ("AI 图像识别 质检", 5),
        ("无人机 航拍", 6),
    ],
)
def test_retrieves_the_right_offer(index: MatchIndex, query: str, expected: int) -> None:
    matches = index.search(Query(query), k=3)
    assert matches and matches[0].doc_id == expected


def test_scores_are_sorted_and_k_is_respected(index: MatchIndex) -> None:
    matches = index.search("数据 平台 系统", k=2)
    assert len(matches) <= 2
    assert all(a.score >= b.score for a, b in itertools.pairwise(matches))


def test_no_shared_terms_no_match(index: MatchIndex) -> None:
    assert index.search("qwxz") == []


def test_required_qualification_is_a_hard_filter(index: MatchIndex) -> None:
    q = Query("数据治理 节能改造", required_qualifications=("emc",))
    assert [m.doc_id for m in index.search(q)] == [4]
    assert index.search(Query("数据治理", required_qualifications=("iso9001",))) == []


def test_category_and_district_filters(index: MatchIndex) -> None:
    got = index.search("平台 系统 检测", filters=Filters(districts=("海淀园",)))
    assert {m.doc_id for m in got} <= {1, 5}
    got = index.search("数据", filters=Filters(categories=("ict.bigdata",)))
    assert [m.doc_id for m in got] == [3]


def test_structured_features_raise_the_score(index: MatchIndex) -> None:
    plain = index.search(Query("节能改造"))[0]
    rich = index.search(Query("节能改造", category="green.hvac", budget_fen=100_000_000))[0]
    assert rich.doc_id == plain.doc_id == 4
    assert rich.contributions["category"] > 0 and rich.contributions["budget"] > 0
    assert rich.score > plain.score


# ------------------------------------------------------------------------------------------------ explanations


def test_contributions_sum_to_the_score(index: MatchIndex) -> None:
    q = Query("工业互联网 PaaS 平台", category="ict.iiot", district="海淀园")
    for m in index.search(q, k=5):
        assert sum(m.contributions.values()) == pytest.approx(m.score, abs=1e-9)
        if m.shared_terms:
            assert sum(t.contribution for t in m.shared_terms) == pytest.approx(m.contributions["word"], rel=1e-4)
    top = index.search(q)[0]
    assert top.doc_id == 1
    assert "paas" in {t.term.lower() for t in top.shared_terms}
    assert "paas" in top.why.lower() and "score" in top.why


# ------------------------------------------------------------------------------------------------ incremental


def test_add_makes_a_new_offer_retrievable_without_refit() -> None:
    ix = MatchIndex.fit(OFFERS)
    vocab_before = len(ix.views["word"].vocabulary)
    assert all(m.doc_id != 7 for m in ix.search("量子计算 云服务"))
    ix.add([Document(7, "量子计算云服务", keywords=("量子计算",))])
    assert len(ix.views["word"].vocabulary) > vocab_before  # the vocabulary grew, nothing was refitted
    assert ix.search("量子计算")[0].doc_id == 7
    assert ix.search("paas 平台")[0].doc_id == 1  # old rows still answer


def test_replace_and_remove() -> None:
    ix = MatchIndex.fit(OFFERS)
    ix.add([Document(6, "卫星遥感影像处理")])  # same id: replaces the drone offer
    assert all(m.doc_id != 6 for m in ix.search("无人机 航拍"))
    assert ix.search("卫星遥感")[0].doc_id == 6
    assert len(ix) == len(OFFERS)
    assert ix.remove([6]) == 1
    assert all(m.doc_id != 6 for m in ix.search("卫星遥感"))
    fresh = ix.refit()
    assert len(fresh) == len(fresh.documents) == len(OFFERS) - 1


# ------------------------------------------------------------------------------------------------ persistence


def test_save_load_round_trip_gives_identical_scores(tmp_path: Path) -> None:
    ix = MatchIndex.fit(OFFERS)
    ix.add([Document("x-8", "氢能燃料电池测试", category="green.hydrogen")])
    ix.remove([2])
    ix.save(tmp_path / "idx")
    loaded = MatchIndex.load(tmp_path / "idx")
    for q in ["paas 平台", "氢能 燃料电池", "IoT 传感器", "数据治理 咨询"]:
        a = [(m.doc_id, m.score, m.contributions) for m in ix.search(q)]
        b = [(m.doc_id, m.score, m.contributions) for m in loaded.search(q)]
        assert a == b
    assert loaded.generation == ix.generation
    loaded.add([Document(9, "智慧养老平台")])
    assert loaded.search("智慧养老")[0].doc_id == 9


def test_load_refuses_another_format(tmp_path: Path) -> None:
    path = MatchIndex.fit(OFFERS).save(tmp_path / "idx")
    manifest = (path / "manifest.json").read_text(encoding="utf-8")
    (path / "manifest.json").write_text(manifest.replace("qianfan-matcher/1", "qianfan-matcher/0"), encoding="utf-8")
    with pytest.raises(IndexVersionError):
        MatchIndex.load(path)


def test_a_parallel_fit_equals_a_serial_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Large fits count in worker processes with their own vocabularies; the merged index ranks identically."""

    docs = [
        Document(i, f"{title}（{i}号）", description=desc, keywords=kw)
        for i, (title, desc, kw) in enumerate(
            itertools.islice(
                itertools.cycle(
                    [
                        ("工业云PaaS平台", "容器化部署与微服务治理", ("PaaS", "云计算")),
                        ("智慧道路巡检系统", "无人机与AI识别路面病害", ("巡检", "无人机")),
                        ("中央空调节能改造", "合同能源管理模式，节能率20%以上", ("节能", "EMC")),
                    ]
                ),
                60,
            )
        )
    ]
    serial = MatchIndex.fit(docs)
    monkeypatch.setattr(corpus_module, "PARALLEL_MIN_DOCS", 10)
    monkeypatch.setattr(corpus_module, "_CHUNK_DOCS", 7)
    parallel = MatchIndex.fit(docs)
    for q in ("paas 云平台", "道路病害巡检", "空调节能 合同能源管理"):
        a = [(m.doc_id, round(m.score, 6)) for m in serial.search(q, 10)]
        b = [(m.doc_id, round(m.score, 6)) for m in parallel.search(q, 10)]
        assert a == b and a
    assert serial.fuzz_keys == parallel.fuzz_keys
