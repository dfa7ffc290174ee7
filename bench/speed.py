"""Matcher speed at scale against bm25s and tantivy, on generated Chinese offers and orders (issue 3).

    python -m bench match --offers 200k                    # table on stderr, one JSON line last on stdout
    .venv/bin/python -m bench.speed --offers 20000 --orders 1000 --systems ours,bm25s

Data: ``seeds.scale.generate_offers(N)`` and ``generate_orders(Q)`` (fixed seeds; ``--seed S`` adds S to both).
Every generated offer and order carries the product type it was made from (``topic``): an offer is relevant to an
order when the topics are equal.  With ~44 (20k offers) to ~2,200 (1M) relevant offers per order (457 topics),
``recall_at_10`` is the share of the top-10 results whose topic equals the order's topic — **precision@10 against
the generator's topic ground truth** (fewer than 10 results count the missing ones as misses).

Systems, run in this order in one process on the same corpus and queries (each one is freed, garbage-collected and
the C heap trimmed before the next starts):

* ``ours`` — :class:`matcher.index.MatchIndex` with the full path the API uses: retrieval + rerank + explanations
  (``explain=True``), with the order's category, district, required qualifications (a hard filter: the peers apply
  it too, inside their indexes — a bm25s weight mask, a tantivy MUST clause per qualification) and budget.
  No dense view: document embeddings are computed by workers in the background and are not part
  of this benchmark.  When :mod:`matcher.rank` offers a way to vectorise a query separately (``prepare_query`` or
  ``MatchIndex.prepare``), orders are vectorised first, as when they are saved, ``vectorise_ms`` reports that step,
  and the latency is that of ranking the prepared order; otherwise ``vectorise_ms`` is the time of
  ``prepare`` + ``word_terms`` + ``char_terms`` on the order's text and the latency includes it.  Its fit may use
  several processes (the peers index in one thread); queries run in one.
* ``bm25s`` — jieba tokens (jieba's segmentation as ours runs it — jieba-rs with the same domain words — after the
  same normalisation, :func:`matcher.text.prepare`), the numba
  backend when numba is installed, else numpy; single-threaded retrieval.
* ``tantivy`` — tantivy-py, an in-memory index built with one writer thread, BM25 on one text field.  Tokens
  (default): tantivy's own character 1–2-gram tokenizer over the normalised text; ``--tantivy-tokenizer jieba``:
  the same jieba tokens as bm25s, space-joined, through the whitespace tokenizer.  n-grams are the default because
  they rank better (precision@10 at 20k offers 0.928 against 0.890 with jieba tokens, at 200k 0.997 against 0.986)
  and build faster (measured with Python jieba then: 28 s against 129 s at 200k), but queries are slower, as single
  characters have long postings (p50 26 ms against 6 ms at 200k).  A query is a disjunction of its terms (a repeated
  term is boosted by its count).

Peers index the offer text ``title + keywords + description`` (what ``Document.text`` gives ours); their queries are
the order's ``title + description``.  Peers using jieba share one jieba tokenisation of the corpus: its time is
added to each such peer's ``build_s``, and since the tokenised corpus stays in memory while the peer runs, its
``peak_mb`` is measured above the memory before that tokenisation.

Measures per system: ``build_s`` (wall time of indexing, text analysis included); ``peak_mb`` (peak memory during
build and all searches above the baseline before the system, sampled every 10 ms: this process's RSS plus the unique
memory of its child processes — ours forks workers to fit large corpora; ``processes`` says how many ran at once);
``p50_ms`` / ``p99_ms`` (one order at a time after a warm-up); ``qps`` (all orders in one batch call: ``search_many``
for ours, one ``retrieve`` for bm25s, a loop for tantivy, which has no batch call); ``recall_at_10`` as above; and
``vectorise_ms`` (median time to turn one order into the system's query terms; ``latency_includes_vectorise`` says
whether the latency contains it).
``recall_ceiling_at_10`` is the best precision@10 reachable under the hard qualification filter (for every system).
Analysers (jieba's dictionaries, OpenCC) are loaded before any timer starts.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import importlib.util
import inspect
import json
import os
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matcher.index import Document, MatchIndex
    from matcher.rank import Query

K = 10
DEFAULT_ORDERS = 1_000
WARMUP = 20
SYSTEMS = ("ours", "bm25s", "tantivy")
PEER_PACKAGES = {"bm25s": "bm25s", "tantivy": "tantivy"}
TANTIVY_TOKENIZERS = ("jieba", "ngram")
METRIC_NOTE = (
    "recall_at_10 = precision@10 against the generator's topic (an offer is relevant if its topic equals the order's)"
)
DENSE_NOTE = "document embeddings are computed by workers in the background and are not part of this benchmark"

_COUNT_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([km]?)\s*$", re.IGNORECASE)


def parse_count(value: str) -> int:
    """``20000``, ``20_000``, ``200k``, ``1m``, ``1.5M`` → an int."""
    m = _COUNT_RE.match(value.replace("_", "").replace(",", ""))
    if not m:
        raise ValueError(f"not a count: {value!r} (use e.g. 20000, 200k, 1m)")
    n = float(m.group(1)) * {"": 1, "k": 1_000, "m": 1_000_000}[m.group(2).lower()]
    if n < 1 or n != int(n):
        raise ValueError(f"not a positive whole count: {value!r}")
    return int(n)


def missing_peers(systems: Sequence[str]) -> list[str]:
    """The requested peer systems whose package is not installed."""
    return [s for s in systems if s in PEER_PACKAGES and importlib.util.find_spec(PEER_PACKAGES[s]) is None]


# --------------------------------------------------------------------------------------------------- memory


def _rss_reader() -> Callable[[], int] | None:
    """A function returning this process's RSS in bytes: psutil, else /proc/self/statm, else None."""
    try:
        import psutil

        proc = psutil.Process()
        return lambda: int(proc.memory_info().rss)
    except ImportError:
        pass
    page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
    if os.path.exists("/proc/self/statm"):

        def statm() -> int:
            with open("/proc/self/statm", "rb") as fh:
                return int(fh.read().split()[1]) * page

        return statm
    return None


_RSS = _rss_reader()


def release_memory() -> None:
    """Collect garbage and hand freed C-heap pages back to the OS, so the next baseline is honest."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def rss() -> int:
    return _RSS() if _RSS is not None else 0


def _child_pids() -> list[int]:
    """This process's child processes (e.g. workers forked for a parallel fit), from /proc or psutil."""
    pids: list[int] = []
    tasks = f"/proc/{os.getpid()}/task"
    if os.path.isdir(tasks):
        for tid in os.listdir(tasks):
            with contextlib.suppress(OSError), open(f"{tasks}/{tid}/children", "rb") as fh:
                pids.extend(int(p) for p in fh.read().split())
        return pids
    with contextlib.suppress(ImportError):
        import psutil

        pids = [c.pid for c in psutil.Process().children()]
    return pids


def _child_uss(pid: int) -> int:
    """Memory unique to a child process (its copy-on-write copies and own allocations); 0 if unreadable."""
    try:
        import psutil

        return int(psutil.Process(pid).memory_full_info().uss)
    except Exception:  # no psutil, or the child exited or is not ours to read: count nothing
        return 0


class PeakSampler:
    """Samples memory every *interval* seconds in a thread: this process's RSS plus the unique memory (USS) of its
    child processes, so a fit that forks workers is counted whole.  ``peak`` is the highest total seen (bytes),
    ``max_children`` the most child processes seen at once."""

    def __init__(self, interval: float = 0.01) -> None:
        self.interval = interval
        self.peak = rss()
        self.max_children = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def sample(self) -> None:
        children = _child_pids()
        self.max_children = max(self.max_children, len(children))
        self.peak = max(self.peak, rss() + sum(_child_uss(pid) for pid in children))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


# --------------------------------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Corpus:
    offers: list[dict[str, Any]]
    orders: list[dict[str, Any]]

    @property
    def offer_topics(self) -> list[str]:
        return [o["topic"] for o in self.offers]

    def offer_texts(self) -> list[str]:
        """The text every system indexes per offer: title + keywords + description (``Document.text``)."""
        return [" ".join(p for p in (o["title"], " ".join(o["keywords"]), o["description"]) if p) for o in self.offers]

    def order_texts(self) -> list[str]:
        return [" ".join(p for p in (o["title"], o["description"]) if p) for o in self.orders]


def make_corpus(n_offers: int, n_orders: int, seed: int = 0) -> Corpus:
    from seeds.scale import OFFER_SEED, ORDER_SEED, generate_offers, generate_orders

    return Corpus(
        offers=list(generate_offers(n_offers, seed=OFFER_SEED + seed)),
        orders=list(generate_orders(n_orders, seed=ORDER_SEED + seed)),
    )


def filtered_ceiling(corpus: Corpus) -> float:
    """The best precision@10 a system applying the orders' required qualifications as a hard filter can reach
    (every system does): per order, min(10, offers of its topic holding them all) / 10, averaged."""
    by_topic: dict[str, list[frozenset[str]]] = {}
    for o in corpus.offers:
        by_topic.setdefault(o["topic"], []).append(frozenset(o["qualifications"]))
    total = 0
    for order in corpus.orders:
        required = set(order["required_qualifications"])
        ok = sum(1 for quals in by_topic.get(order["topic"], ()) if required <= quals)
        total += min(K, ok)
    return total / (K * len(corpus.orders)) if corpus.orders else 0.0


def precision_at_k(results: Sequence[Sequence[int]], order_topics: Sequence[str], offer_topics: Sequence[str]) -> float:
    """Mean share of the top-K rows whose topic is the order's (missing results count as misses)."""
    if not results:
        return 0.0
    hits = sum(
        sum(offer_topics[row] == topic for row in rows[:K]) for rows, topic in zip(results, order_topics, strict=True)
    )
    return hits / (K * len(results))


# --------------------------------------------------------------------------------------------------- systems


@dataclass
class Outcome:
    """What one system produced: its figures (JSON-ready) and the top-K rows per order."""

    name: str
    figures: dict[str, Any] = field(default_factory=dict)


class System:
    """One engine under test.  ``build`` indexes, ``search_one`` / ``search_batch`` return top-K corpus rows."""

    name = ""
    extra: dict[str, Any]

    def __init__(self) -> None:
        self.extra = {}

    def build(self, corpus: Corpus) -> None:
        raise NotImplementedError

    def prepare(self, i: int) -> Any:
        """Order *i* turned into what ``search_one`` takes (its vectorised form when the system has one)."""
        raise NotImplementedError

    def vectorise_one(self, i: int) -> None:
        """Turn order *i* into the system's query terms (timed as ``vectorise_ms``)."""
        raise NotImplementedError

    latency_includes_vectorise = True

    def search_one(self, prepared: Any) -> list[int]:
        raise NotImplementedError

    def search_batch(self) -> list[list[int]]:
        raise NotImplementedError

    def close(self) -> None:
        """Drop every reference to the index."""

    # The peers honour the same hard filter as ours, inside their index: bm25s with a weight mask of the offers
    # holding every qualification the order requires, tantivy with a MUST clause per required qualification.
    offer_quals: list[frozenset[str]]
    order_required: list[frozenset[str]]

    def _remember_filter(self, corpus: Corpus) -> None:
        self.offer_quals = [frozenset(o["qualifications"]) for o in corpus.offers]
        self.order_required = [frozenset(o["required_qualifications"]) for o in corpus.orders]

    def _mask(self, required: frozenset[str]) -> np.ndarray:
        """The offers holding every one of *required* (cached per set: what a peer's filter would index)."""
        cache: dict[frozenset[str], np.ndarray] = self.__dict__.setdefault("_masks", {})
        mask = cache.get(required)
        if mask is None:
            mask = np.fromiter((required <= q for q in self.offer_quals), dtype=bool, count=len(self.offer_quals))
            cache[required] = mask
        return mask


def _jieba_tokens(prepared_text: str) -> list[str]:
    """jieba's segmentation, run by the same Rust implementation (jieba-rs, with the same domain words) ours uses:
    the peers' build time then measures their indexing, not a slower copy of the tokenizer."""
    from matcher import text as textmod

    return [t for t in (w.strip() for w in textmod._jieba().cut(prepared_text)) if t]


def _warm_up(systems: Sequence[str]) -> None:
    """Import the systems' modules and load jieba (default and ours), OpenCC and the synonym table once, before any
    timer starts or memory baseline is taken."""
    import jieba

    from matcher import index as _index  # noqa: F401  (numpy, scipy and rapidfuzz come with it)
    from matcher import rank as _rank  # noqa: F401
    from matcher import text as textmod

    for name in systems:
        if name in PEER_PACKAGES:
            importlib.import_module(PEER_PACKAGES[name])

    jieba.setLogLevel(60)
    jieba.initialize()
    sample = textmod.prepare("預熱 warm-up 大数据平台 IoT")
    textmod.word_terms(sample)
    textmod.char_terms(sample)
    _jieba_tokens(sample)


class Ours(System):
    name = "ours"

    def __init__(self) -> None:
        super().__init__()
        self.index: MatchIndex | None = None
        self.queries: list[Query] = []
        self.preparer: Callable[[Query], Any] | None = None
        self.rows: dict[Any, int] = {}

    @staticmethod
    def documents(corpus: Corpus) -> list[Document]:
        from matcher.index import Document
        from qianfan.money import yuan_to_fen

        return [
            Document(
                id=o["id"],
                title=o["title"],
                description=o["description"],
                keywords=tuple(o["keywords"]),
                category=o["category"],
                district=o["district"],
                qualifications=tuple(o["qualifications"]),
                price_min_fen=yuan_to_fen(o["price_min"]),
                price_max_fen=yuan_to_fen(o["price_max"]),
                capacity=o["capacity"],
            )
            for o in corpus.offers
        ]

    @staticmethod
    def make_queries(corpus: Corpus) -> list[Query]:
        from matcher.rank import Query
        from qianfan.money import yuan_to_fen

        return [
            Query(
                title=o["title"],
                description=o["description"],
                category=o["category"],
                district=o["district"],
                required_qualifications=tuple(o["required_qualifications"]),
                budget_fen=yuan_to_fen(o["budget"]),
            )
            for o in corpus.orders
        ]

    def build(self, corpus: Corpus) -> None:
        from matcher.index import MatchIndex

        docs = self.documents(corpus)
        self.queries = self.make_queries(corpus)
        self.rows = {o["id"]: i for i, o in enumerate(corpus.offers)}
        t = time.perf_counter()
        self.index = MatchIndex.fit(docs)
        self.extra["build_s"] = time.perf_counter() - t
        del docs
        self.preparer = self._find_preparer()
        self.latency_includes_vectorise = self.preparer is None
        self.extra["dense"] = DENSE_NOTE
        self.extra.setdefault("query_vectoriser", "none: prepare+word_terms+char_terms timed, search vectorises")

    def _find_preparer(self) -> Callable[[Query], Any] | None:
        """``matcher.rank.prepare_query`` or ``MatchIndex.prepare``, when the matcher has one and it works."""
        import matcher.rank as rank

        index = self.index
        assert index is not None
        candidates: list[tuple[str, Callable[[Query], Any]]] = []
        fn = getattr(rank, "prepare_query", None)
        if callable(fn):
            params = [
                p
                for p in inspect.signature(fn).parameters.values()
                if p.default is inspect.Parameter.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            ]
            if len(params) >= 2:
                candidates.append(("matcher.rank.prepare_query(index, query)", lambda q: fn(index, q)))
            else:
                candidates.append(("matcher.rank.prepare_query(query)", fn))
        meth = getattr(index, "prepare", None)
        if callable(meth):
            candidates.append(("MatchIndex.prepare(query)", meth))
        for label, candidate in candidates:
            try:
                prepared = candidate(self.queries[0])
                index.search(prepared, k=K)
            except (TypeError, AttributeError, ValueError) as exc:
                print(
                    f"ours: query vectoriser {label} not usable ({exc}); vectorising inside search",
                    file=sys.stderr,
                )
                continue
            self.extra["query_vectoriser"] = label
            return candidate
        return None

    def prepare(self, i: int) -> Any:
        q = self.queries[i]
        return self.preparer(q) if self.preparer is not None else q

    def vectorise_one(self, i: int) -> None:
        if self.preparer is not None:
            self.preparer(self.queries[i])
            return
        from matcher import text as textmod

        prepared = textmod.prepare(self.queries[i].text())
        textmod.word_terms(prepared)
        textmod.char_terms(prepared)

    def _rows_of(self, matches: Sequence[Any]) -> list[int]:
        return [self.rows[m.doc_id] for m in matches]

    def search_one(self, prepared: Any) -> list[int]:
        assert self.index is not None
        return self._rows_of(self.index.search(prepared, k=K))

    def search_batch(self) -> list[list[int]]:
        assert self.index is not None
        return [self._rows_of(ms) for ms in self.index.search_many(self.queries, k=K)]

    def close(self) -> None:
        self.index = None
        self.queries = []
        self.preparer = None
        self.rows = {}


class JiebaCorpus:
    """The corpus tokenised once with jieba for the peers (space-joined tokens per offer), and how long it took."""

    def __init__(self) -> None:
        self.docs: list[str] | None = None
        self.seconds = 0.0

    def get(self, texts: Sequence[str]) -> list[str]:
        if self.docs is None:
            from matcher import text as textmod

            t = time.perf_counter()
            self.docs = [" ".join(_jieba_tokens(textmod.prepare(x))) for x in texts]
            self.seconds = time.perf_counter() - t
        return self.docs

    def clear(self) -> None:
        self.docs = None


class Bm25s(System):
    name = "bm25s"

    def __init__(self, tokens: JiebaCorpus) -> None:
        super().__init__()
        self.tokens = tokens
        self.retriever: Any = None
        self.qtexts: list[str] = []

    @staticmethod
    def query_tokens(text: str) -> list[str]:
        from matcher import text as textmod

        return _jieba_tokens(textmod.prepare(text))

    def build(self, corpus: Corpus) -> None:
        import bm25s

        self.qtexts = corpus.order_texts()
        self._remember_filter(corpus)
        texts = corpus.offer_texts()
        jdocs = self.tokens.get(texts)
        del texts
        backend = "numba" if importlib.util.find_spec("numba") is not None else "numpy"
        t = time.perf_counter()
        vocab: dict[str, int] = {}
        ids = [[vocab.setdefault(tok, len(vocab)) for tok in doc.split(" ")] for doc in jdocs]
        self.retriever = bm25s.BM25(backend=backend)
        self.retriever.index((ids, vocab), show_progress=False)
        del ids
        self.extra["build_s"] = self.tokens.seconds + time.perf_counter() - t
        self.extra.update(tokenizer="jieba", backend=backend, tokenise_s=round(self.tokens.seconds, 2))

    def prepare(self, i: int) -> Any:
        return i, self.qtexts[i]

    def vectorise_one(self, i: int) -> None:
        self.query_tokens(self.qtexts[i])

    def search_one(self, prepared: Any) -> list[int]:
        i, text = prepared
        required = self.order_required[i]
        mask = self._mask(required).astype(np.float32) if required else None
        results, scores = self.retriever.retrieve(
            [self.query_tokens(text)], k=K, show_progress=False, n_threads=0, weight_mask=mask
        )
        return [int(j) for j, sc in zip(results[0], scores[0], strict=True) if sc > 0]

    def search_batch(self) -> list[list[int]]:
        out: list[list[int]] = [[] for _ in self.qtexts]
        groups: dict[frozenset[str], list[int]] = {}
        for i, required in enumerate(self.order_required):
            groups.setdefault(required, []).append(i)
        for required, members in groups.items():  # one retrieve per filter (bm25s takes one mask per call)
            mask = self._mask(required).astype(np.float32) if required else None
            qtok = [self.query_tokens(self.qtexts[i]) for i in members]
            results, scores = self.retriever.retrieve(qtok, k=K, show_progress=False, n_threads=0, weight_mask=mask)
            for i, row, sc in zip(members, results, scores, strict=True):
                out[i] = [int(j) for j, v in zip(row, sc, strict=True) if v > 0]
        return out

    def close(self) -> None:
        self.retriever = None


class Tantivy(System):
    name = "tantivy"
    FIELD = "body"

    def __init__(self, tokens: JiebaCorpus, tokenizer: str = "ngram") -> None:
        super().__init__()
        if tokenizer not in TANTIVY_TOKENIZERS:
            raise ValueError(f"tantivy tokenizer must be one of {TANTIVY_TOKENIZERS}, not {tokenizer!r}")
        self.tokens = tokens
        self.tokenizer = tokenizer
        self.index: Any = None
        self.searcher: Any = None
        self.schema: Any = None
        self.analyzer: Any = None
        self.qtexts: list[str] = []

    def _analyzer(self) -> Any:
        import tantivy

        return tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.ngram(min_gram=1, max_gram=2)).build()

    def query_terms(self, text: str) -> list[str]:
        from matcher import text as textmod

        prepared = textmod.prepare(text)
        if self.tokenizer == "jieba":
            return _jieba_tokens(prepared)
        return [t for t in self.analyzer.analyze(prepared) if t.strip()]

    def build(self, corpus: Corpus) -> None:
        import tantivy

        from matcher import text as textmod

        self.qtexts = corpus.order_texts()
        self._remember_filter(corpus)
        texts = corpus.offer_texts()
        t_tok = 0.0
        if self.tokenizer == "jieba":
            bodies: Iterator[str] | list[str] = self.tokens.get(texts)
            t_tok = self.tokens.seconds
        else:
            bodies = (textmod.prepare(x) for x in texts)
        t = time.perf_counter()
        builder = tantivy.SchemaBuilder()
        name = "whitespace" if self.tokenizer == "jieba" else "zh_ngram"
        builder.add_text_field(self.FIELD, stored=False, tokenizer_name=name, index_option="freq")
        builder.add_integer_field("row", stored=False, indexed=False, fast=True)
        builder.add_text_field("quals", stored=False, tokenizer_name="raw")
        self.schema = builder.build()
        self.index = tantivy.Index(self.schema)
        if self.tokenizer == "ngram":
            self.analyzer = self._analyzer()
            self.index.register_tokenizer(name, self._analyzer())
        writer = self.index.writer(heap_size=256_000_000, num_threads=1)
        for row, (body, offer) in enumerate(zip(bodies, corpus.offers, strict=True)):
            writer.add_document(tantivy.Document(body=body, row=row, quals=list(offer["qualifications"])))
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()
        self.searcher = self.index.searcher()
        self.extra["build_s"] = t_tok + time.perf_counter() - t
        self.extra.update(tokenizer=self.tokenizer, writer_threads=1, segments=self.searcher.num_segments)
        if self.tokenizer == "jieba":
            self.extra["tokenise_s"] = round(t_tok, 2)

    def _query(self, text: str, required: frozenset[str] = frozenset()) -> Any:
        import tantivy

        clauses = []
        for term, count in Counter(self.query_terms(text)).items():
            q = tantivy.Query.term_query(self.schema, self.FIELD, term)
            clauses.append((tantivy.Occur.Should, q if count == 1 else tantivy.Query.boost_query(q, float(count))))
        query = tantivy.Query.boolean_query(clauses)
        if not required:
            return query
        musts = [
            (tantivy.Occur.Must, tantivy.Query.term_query(self.schema, "quals", code)) for code in sorted(required)
        ]
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, query), *musts])

    def prepare(self, i: int) -> Any:
        return i, self.qtexts[i]

    def vectorise_one(self, i: int) -> None:
        self.query_terms(self.qtexts[i])

    def search_one(self, prepared: Any) -> list[int]:
        i, text = prepared
        hits = self.searcher.search(self._query(text, self.order_required[i]), K, count=False).hits
        if not hits:
            return []
        return [int(r) for r in self.searcher.fast_field_values("row", [addr for _, addr in hits])]

    def search_batch(self) -> list[list[int]]:
        return [self.search_one(self.prepare(i)) for i in range(len(self.qtexts))]

    def close(self) -> None:
        self.searcher = None
        self.index = None
        self.schema = None
        self.analyzer = None


# --------------------------------------------------------------------------------------------------- runner


def measure(system: System, corpus: Corpus, baseline: int, log: Callable[[str], None]) -> Outcome:
    """Build, warm up, time each order alone, then all orders in one batch; memory sampled throughout."""
    n = len(corpus.orders)
    with PeakSampler() as sampler:
        log(f"{system.name}: building the index over {len(corpus.offers):,} offers")
        system.build(corpus)
        build_s = float(system.extra.pop("build_s"))
        log(f"{system.name}: built in {build_s:.1f} s; {n:,} orders one at a time")
        for i in range(min(WARMUP, n)):
            system.search_one(system.prepare(i))
        vectorise = []
        for i in range(n):
            t = time.perf_counter()
            system.vectorise_one(i)
            vectorise.append((time.perf_counter() - t) * 1000)
        latency = []
        single: list[list[int]] = []
        for i in range(n):
            prepared = system.prepare(i)
            t = time.perf_counter()
            rows = system.search_one(prepared)
            latency.append((time.perf_counter() - t) * 1000)
            single.append(rows)
        log(f"{system.name}: {n:,} orders in one batch")
        t = time.perf_counter()
        batch = system.search_batch()
        batch_s = time.perf_counter() - t
    order_topics = [o["topic"] for o in corpus.orders]
    offer_topics = corpus.offer_topics
    figures: dict[str, Any] = {
        "build_s": round(build_s, 2),
        "peak_mb": round((sampler.peak - baseline) / 2**20, 1) if _RSS is not None else None,
        "p50_ms": round(float(np.percentile(latency, 50)), 2),
        "p99_ms": round(float(np.percentile(latency, 99)), 2),
        "qps": round(n / batch_s, 1) if batch_s > 0 else None,
        "recall_at_10": round(precision_at_k(single, order_topics, offer_topics), 4),
        "vectorise_ms": round(float(np.percentile(vectorise, 50)), 3),
        "latency_includes_vectorise": system.latency_includes_vectorise,
        "batch_recall_at_10": round(precision_at_k(batch, order_topics, offer_topics), 4),
        "orders": n,
        "processes": 1 + sampler.max_children,
        **system.extra,
    }
    return Outcome(system.name, figures)


def run(
    n_offers: int,
    n_orders: int = DEFAULT_ORDERS,
    systems: Sequence[str] = SYSTEMS,
    seed: int = 0,
    tantivy_tokenizer: str = "ngram",
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run the benchmark: ``{"offers": N, "<system>": {figures}, ...}``, systems in the order ours, bm25s, tantivy."""
    say = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    unknown = [s for s in systems if s not in SYSTEMS]
    if unknown:
        raise ValueError(f"unknown systems {unknown}; choose from {', '.join(SYSTEMS)}")
    t0 = time.perf_counter()
    corpus = make_corpus(n_offers, n_orders, seed)
    say(f"generated {n_offers:,} offers and {n_orders:,} orders in {time.perf_counter() - t0:.1f} s")
    _warm_up(systems)
    tokens = JiebaCorpus()
    result: dict[str, Any] = {"offers": n_offers}
    order = [s for s in SYSTEMS if s in systems]
    uses_tokens = {"bm25s": True, "tantivy": tantivy_tokenizer == "jieba"}
    token_baseline: int | None = None
    for pos, name in enumerate(order):
        release_memory()
        baseline = rss()
        system: System
        if name == "ours":
            system = Ours()
        else:
            if uses_tokens[name]:
                # the shared tokenised corpus counts towards each peer using it: measure above the memory before it
                token_baseline = baseline if token_baseline is None else min(token_baseline, baseline)
                baseline = token_baseline
            system = Bm25s(tokens) if name == "bm25s" else Tantivy(tokens, tantivy_tokenizer)
        outcome = measure(system, corpus, baseline, say)
        outcome.figures["recall_ceiling_at_10"] = round(filtered_ceiling(corpus), 4)
        system.close()
        del system
        if not any(uses_tokens.get(later, False) for later in order[pos + 1 :]):
            tokens.clear()
        result[name] = outcome.figures
        say(f"{name}: {json.dumps(outcome.figures, ensure_ascii=False)}")
    release_memory()
    say(f"whole benchmark {time.perf_counter() - t0:.1f} s")
    return result


def render_table(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"matcher speed, {result['offers']:,} offers",
        caption=f"{METRIC_NOTE}; ours: {DENSE_NOTE}",
    )
    cols = ("build_s", "peak_mb", "vectorise_ms", "p50_ms", "p99_ms", "qps", "recall_at_10")
    table.add_column("system")
    for c in cols:
        table.add_column(c, justify="right")
    table.add_column("notes")
    for name in SYSTEMS:
        fig = result.get(name)
        if fig is None:
            continue
        notes = ", ".join(
            f"{k}={fig[k]}" for k in ("tokenizer", "backend", "tokenise_s", "query_vectoriser") if k in fig
        )
        table.add_row(name, *("—" if fig.get(c) is None else f"{fig[c]:,}" for c in cols), notes)
    Console(stderr=True, width=160).print(table)


def benchmark(
    offers: int,
    orders: int = DEFAULT_ORDERS,
    systems: str = ",".join(SYSTEMS),
    seed: int = 0,
    tantivy_tokenizer: str = "ngram",
) -> int:
    """The command: drop peers that are not installed (saying so), run, print the table and the JSON line last."""
    chosen = [s.strip() for s in systems.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in SYSTEMS]
    if unknown or not chosen:
        print(f"未知系统 / unknown systems: {unknown or systems!r}; choose from {', '.join(SYSTEMS)}", file=sys.stderr)
        return 2
    missing = missing_peers(chosen)
    if missing:
        print(
            f"未安装对比系统 {', '.join(missing)}，仅运行其余系统，请运行 pip install -e '.[bench]' / "
            f"peer(s) {', '.join(missing)} not installed, running the others only: pip install -e '.[bench]'",
            file=sys.stderr,
        )
        chosen = [s for s in chosen if s not in missing]
    if not chosen:
        return 2
    result = run(offers, orders, chosen, seed, tantivy_tokenizer)
    render_table(result)
    print(json.dumps(result, ensure_ascii=False), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench.speed", description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--offers", type=parse_count, default=parse_count("20k"), help="corpus size: 20000, 200k, 1m")
    ap.add_argument("--orders", type=parse_count, default=DEFAULT_ORDERS, help="orders (queries), default 1000")
    ap.add_argument("--systems", default=",".join(SYSTEMS), help="comma-separated: ours,bm25s,tantivy")
    ap.add_argument("--seed", type=int, default=0, help="added to the generators' fixed seeds")
    ap.add_argument("--tantivy-tokenizer", choices=TANTIVY_TOKENIZERS, default="ngram")
    args = ap.parse_args(argv)
    return benchmark(args.offers, args.orders, args.systems, args.seed, args.tantivy_tokenizer)


if __name__ == "__main__":
    raise SystemExit(main())
