"""Text normalisation and analysis for Chinese (and English) business text.

The pipeline, shared by offers and orders so that both sides always meet on the same terms:

1. :func:`normalise` — NFKC (full-width → half-width), traditional → simplified (OpenCC ``t2s``), case folding,
   punctuation → spaces, whitespace collapsed.
2. :func:`canonicalise` — the synonym table (``data/synonyms.tsv``) rewrites variants to one canonical form, so
   "IoT" and "物联网", "big data" and "大数据" become the same term.
3. Two analysers over the canonical text:

   * :func:`word_terms` — words: jieba (with a domain user dictionary built from the taxonomy keywords and the
     synonym table) for Chinese; for Latin script, lower-case words without English stop words, stemmed with the
     Snowball stemmer (PyStemmer) when it is installed, or a light suffix stripper otherwise.
   * :func:`char_terms` — character n-grams: 1–3-grams of Chinese runs, 3–5-grams of each (stemmed) Latin word
     padded with spaces, which catch partial matches segmentation misses.

Everything here is pure and deterministic; jieba and OpenCC are loaded lazily, once per process.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import opencc
from opencc import OpenCC

from qianfan.taxonomy import CATEGORY_BY_CODE

try:
    import Stemmer  # PyStemmer: the Snowball English stemmer in C
except ImportError:  # pragma: no cover - depends on the environment
    Stemmer = None

__all__ = [
    "SYNONYMS_PATH",
    "analyse_chars",
    "analyse_words",
    "canonicalise",
    "char_terms",
    "has_cjk",
    "normalise",
    "prepare",
    "surface_form",
    "synonym_groups",
    "word_terms",
]

SYNONYMS_PATH = Path(__file__).with_name("data") / "synonyms.tsv"

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RE = re.compile(f"[{_CJK}]")
#: Anything that is neither a letter/digit nor CJK becomes a space ("_" too, as it is a \w character).
_PUNCT_RE = re.compile(r"[^\w]|_")
_SPACE_RE = re.compile(r"\s+")
#: A token run: a Chinese run, or a Latin/digit run.
_RUN_RE = re.compile(f"[{_CJK}]+|[a-z0-9]+")
_LATIN_RE = re.compile(r"[a-z0-9]+")


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


# A small list of English function words: general, nothing domain-specific.
_EN_STOP = _wordset(
    """a about above after again against all also am an and any are as at be because been before being below
    between both but by can could did do does doing down during each etc few for from further had has have having
    he her here hers herself him himself his how i if in into is it its itself just may me might more most must my
    myself no nor not now of off on once only or other others our ours ourselves out over own same shall she should
    so some such than that the their theirs them themselves then there these they this those through to too under
    until up upon us very via was we were what when where which while who whom why will with within without would
    you your yours yourself yourselves"""
)
# Chinese function words and empty business filler; single characters are handled by the n-gram view anyway.
_ZH_STOP = _wordset(
    """的 了 和 与 及 或 等 是 在 对 为 有 中 个 并 将 把 被 从 向 于 以 之 其 该 各 等等 以及 或者 并且 而且 相关 有关
    方面 进行 一个 一种 我们 我司 贵司 本公司 公司 企业 需求 需要 提供 要求 项目"""
)


# --------------------------------------------------------------------------------------------------- normalise


@lru_cache(maxsize=1)
def _opencc() -> Any:
    return OpenCC("t2s")


@lru_cache(maxsize=1)
def _t2s_trigger() -> frozenset[str]:
    """The characters whose presence can make OpenCC's ``t2s`` change a text (from its own dictionaries).

    For every dictionary entry that converts to something else, the characters that differ (all of the key's when
    the lengths differ) are collected; a text with none of them converts to itself, so it skips the (slow, pure
    Python) converter. Almost all business text on the platform is already simplified.
    """
    trigger: set[str] = set()
    folder = Path(opencc.__file__).with_name("dictionary")
    for name in ("TSPhrases.txt", "TSCharacters.txt"):
        for line in (folder / name).read_text(encoding="utf-8").splitlines():
            key, _, values = line.partition("\t")
            value = values.split(" ")[0] if values else key
            if not key or value == key:
                continue
            if len(value) == len(key):
                trigger.update(a for a, b in zip(key, value, strict=True) if a != b)
            else:
                trigger.update(key)
    return frozenset(trigger)


def has_cjk(text: str) -> bool:
    return _CJK_RE.search(text) is not None


def normalise(text: str) -> str:
    """Full-width → half-width, traditional → simplified, case folded, punctuation → single spaces."""
    text = unicodedata.normalize("NFKC", text or "")
    if not _t2s_trigger().isdisjoint(text):
        text = _opencc().convert(text)
    text = text.casefold()
    text = _PUNCT_RE.sub(" ", text)
    return _SPACE_RE.sub(" ", text).strip()


# --------------------------------------------------------------------------------------------------- synonyms


def _load_synonyms(path: Path) -> tuple[tuple[str, ...], ...]:
    groups: list[tuple[str, ...]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        forms = tuple(dict.fromkeys(f for f in (normalise(c) for c in line.split("\t")) if f))
        if len(forms) >= 2:
            groups.append(forms)
    return tuple(groups)


@lru_cache(maxsize=1)
def synonym_groups() -> tuple[tuple[str, ...], ...]:
    """The synonym groups, normalised; the first form of each group is the canonical one."""
    return _load_synonyms(SYNONYMS_PATH)


def _form_pattern(form: str) -> str:
    pat = re.escape(form).replace(r"\ ", " ")
    if form[0].isascii() and form[0].isalnum():
        pat = r"(?<![a-z0-9])" + pat
    if form[-1].isascii() and form[-1].isalnum():
        pat += r"(?![a-z0-9])"
    return pat


@lru_cache(maxsize=1)
def _synonym_forms() -> tuple[tuple[str, ...], dict[str, str]]:
    """Every variant (longest first) and its canonical form."""
    mapping: dict[str, str] = {}
    for group in synonym_groups():
        canonical = group[0]
        for form in group:
            mapping.setdefault(form, canonical)
    # Longest first, so "物联网" is kept whole before its variant "物联" could match inside it.
    return tuple(sorted(mapping, key=lambda f: (-len(f), f))), mapping


@lru_cache(maxsize=1)
def _synonym_first_chars() -> dict[str, tuple[str, ...]]:
    """Variants by their first character, so a text is only tested against the variants that could start in it."""
    by_first: dict[str, list[str]] = {}
    for form in _synonym_forms()[0]:
        by_first.setdefault(form[0], []).append(form)
    return {c: tuple(forms) for c, forms in by_first.items()}


@lru_cache(maxsize=4096)
def _rewriter(forms: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(_form_pattern(f) for f in forms))


def canonicalise(normalised: str) -> str:
    """Rewrite every synonym variant in already *normalised* text to its canonical form (spaced apart).

    One big alternation over every variant is slow in Python's regex engine, so the variants present in the text
    are found first with plain substring tests and only they are compiled (cached) into the rewriting pattern.
    """
    order, mapping = _synonym_forms()
    by_first = _synonym_first_chars()
    found = {f for c in set(normalised) if c in by_first for f in by_first[c] if f in normalised}
    if not found:
        return normalised
    present = tuple(f for f in order if f in found)
    out = _rewriter(present).sub(lambda m: f" {mapping[m.group(0)]} ", normalised)
    return _SPACE_RE.sub(" ", out).strip()


def prepare(text: str) -> str:
    """normalise + canonicalise: the text both analysers read."""
    return canonicalise(normalise(text))


# --------------------------------------------------------------------------------------------------- stemming


def _light_stem(word: str) -> str:
    """A conservative English suffix stripper, used only when PyStemmer is not installed."""
    if len(word) <= 3 or not word.isalpha():
        return word
    for suffix, repl in (
        ("ational", "ate"),
        ("ization", "ize"),
        ("ations", "ate"),
        ("ation", "ate"),
        ("ments", ""),
        ("ment", ""),
        ("ings", ""),
        ("ing", ""),
        ("ies", "y"),
        ("ied", "y"),
        ("ers", ""),
        ("er", ""),
        ("ed", ""),
        ("es", ""),
        ("s", ""),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            return word[: -len(suffix)] + repl
    return word


@lru_cache(maxsize=1)
def _stemmer() -> Callable[[str], str]:
    if Stemmer is None:  # pragma: no cover - depends on the environment
        return _light_stem
    stemmer = Stemmer.Stemmer("english")
    stemmer.maxCacheSize = 100_000
    return stemmer.stemWord


def _stem(word: str) -> str:
    if word.isdigit():
        return word
    return _stemmer()(word)


# --------------------------------------------------------------------------------------------------- jieba


_jieba_lock = threading.Lock()


def _user_words() -> Iterable[str]:
    for cat in CATEGORY_BY_CODE.values():
        yield from cat.keywords
    for group in synonym_groups():
        yield from group


class _Segmenter(Protocol):
    def cut(self, text: str) -> list[str]: ...


class _PyJieba:
    """The reference jieba (pure Python), used when the jieba-rs binding is not installed."""

    def __init__(self) -> None:
        import jieba  # noqa: PLC0415 — 239 ms, +10 MB: see _jieba()

        jieba.setLogLevel(logging.WARNING)
        self._tokenizer = jieba.Tokenizer()
        self._tokenizer.initialize()

    def add_word(self, word: str) -> None:
        self._tokenizer.add_word(word)

    def cut(self, text: str) -> list[str]:
        return list(self._tokenizer.lcut(text))


class _RustJieba:
    """jieba's algorithm and dictionary in Rust (``rjieba``, the jieba-rs binding): same segmentation, ~7× faster."""

    def __init__(self) -> None:
        import rjieba  # noqa: PLC0415 — 340 ms, +33 MB: see _jieba()

        self._jieba = rjieba.Jieba()

    def add_word(self, word: str) -> None:
        self._jieba.add_word(word, None, None)  # frequency suggested from the dictionary, as jieba.add_word does

    def cut(self, text: str) -> list[str]:
        return list(self._jieba.cut(text))


@lru_cache(maxsize=1)
def _jieba() -> _Segmenter:
    """The segmenter with the domain user dictionary (taxonomy keywords and synonym forms) loaded, once.

    The segmenter is imported on first analysis (in the classes above), not at module top: importing ``rjieba``
    costs 340 ms and +33 MB RSS (``jieba`` 239 ms, +10 MB), measured on the 2-core dev box with numpy already
    loaded — paid otherwise by every process that merely imports the matcher (the API, every Celery worker, the
    command line).
    """
    with _jieba_lock:
        segmenter: _RustJieba | _PyJieba
        try:
            segmenter = _RustJieba()
        except ImportError:  # pragma: no cover - depends on the environment
            segmenter = _PyJieba()
        for word in _user_words():
            word = normalise(word)
            if has_cjk(word) and " " not in word:
                segmenter.add_word(word)
    return segmenter


# --------------------------------------------------------------------------------------------------- analysers


def _latin_word(word: str) -> str | None:
    if word in _EN_STOP or (len(word) == 1 and not word.isdigit()):
        return None
    return _stem(word)


def word_terms(prepared: str) -> list[str]:
    """Word-level terms of *prepared* text (see :func:`prepare`)."""
    out: list[str] = []
    for chunk in prepared.split(" "):
        if chunk:
            out.extend(_chunk_words(chunk))
    return out


def char_terms(prepared: str) -> list[str]:
    """Character n-grams of *prepared* text: 1–3 for Chinese runs, 3–5 inside each padded, stemmed Latin word."""
    out: list[str] = []
    for chunk in prepared.split(" "):
        if chunk:
            out.extend(_chunk_ngrams(chunk))
    return out


# Business text repeats its clauses (boilerplate, keyword lists, product names): each clause is analysed once and
# memoised (bounded caches), which makes indexing several times faster on real catalogues.
_CHUNK_CACHE = 1 << 18


def _chunk_words(chunk: str) -> tuple[str, ...]:
    if not has_cjk(chunk):
        return tuple(t for t in (_latin_word(w) for w in _LATIN_RE.findall(chunk)) if t)
    out: list[str] = []
    for tok in _jieba().cut(chunk):
        if has_cjk(tok):
            if tok not in _ZH_STOP:
                out.append(tok)
        else:
            out.extend(t for t in (_latin_word(w) for w in _LATIN_RE.findall(tok)) if t)
    return tuple(out)


def _chunk_ngrams(chunk: str) -> tuple[str, ...]:
    out: list[str] = []
    for run in _RUN_RE.findall(chunk):
        if has_cjk(run):
            n = len(run)
            for size in (1, 2, 3):
                out.extend(run[i : i + size] for i in range(n - size + 1))
        else:
            word = _latin_word(run)
            if not word:
                continue
            padded = f" {word} "
            n = len(padded)
            if n <= 3:
                out.append(padded)
                continue
            for size in (3, 4, 5):
                out.extend(padded[i : i + size] for i in range(n - size + 1))
    return tuple(out)


# Raw punctuation (full- or half-width) ends a clause; synonyms and words never span it, so clauses are analysed
# independently and memoised whole (normalisation included).
# (Joining marks such as - / . & + ' stay inside a clause: "machine-learning" still meets "machine learning".)
_CLAUSE_RE = re.compile(r"[，。；：！？、,;:!?()（）\[\]【】{}《》〈〉「」『』“”\"…—\n\r\t|]+")


@lru_cache(maxsize=_CHUNK_CACHE)
def _clause_words(clause: str) -> tuple[str, ...]:
    return tuple(word_terms(prepare(clause)))


@lru_cache(maxsize=_CHUNK_CACHE)
def _clause_chars(clause: str) -> tuple[str, ...]:
    return tuple(char_terms(prepare(clause)))


def _clauses(text: str) -> list[str]:
    return [c for c in _CLAUSE_RE.split(text or "") if c and not c.isspace()]


def warm_up() -> None:
    """Load the segmenter, the converter tables and the synonym table now (before forking workers)."""
    _jieba()
    _t2s_trigger()
    _synonym_first_chars()


def analyse_words(text: str) -> list[str]:
    """``word_terms(prepare(text))``, computed clause by clause with a bounded memo."""
    out: list[str] = []
    for clause in _clauses(text):
        out.extend(_clause_words(clause))
    return out


def analyse_chars(text: str) -> list[str]:
    """``char_terms(prepare(text))``, computed clause by clause with a bounded memo."""
    out: list[str] = []
    for clause in _clauses(text):
        out.extend(_clause_chars(clause))
    return out


_WORD_RE = re.compile(r"[A-Za-z0-9\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]+")


@lru_cache(maxsize=1)
def _variants() -> dict[str, tuple[str, ...]]:
    """Canonical form → every form of its synonym group (as the table writes them, longest first)."""
    out: dict[str, tuple[str, ...]] = {}
    for group in synonym_groups():
        out[group[0]] = tuple(sorted(group, key=len, reverse=True))
    return out


def surface_form(term: str, text: str) -> str:
    """How *text* itself writes the analysed *term* (for explanations), without analysing the whole text:

    a term found verbatim is its own form; a stemmed Latin word is matched against the text's words by stem
    ("paa" → "PaaS"); a canonical synonym by its variants ("物联网" → "IoT"). Otherwise the term itself.
    """
    if term in text:
        return term
    lowered = text.casefold()
    if not has_cjk(term):
        for word in _WORD_RE.findall(text):
            folded = unicodedata.normalize("NFKC", word).casefold()
            if folded == term or _latin_word(folded) == term:
                return word
    for form in _variants().get(term, ()):
        at = lowered.find(form)
        if at >= 0:
            return text[at : at + len(form)]
    return term
