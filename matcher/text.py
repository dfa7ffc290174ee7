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
from typing import Any

__all__ = [
    "SYNONYMS_PATH",
    "canonicalise",
    "char_terms",
    "has_cjk",
    "normalise",
    "prepare",
    "surface_words",
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
    from opencc import OpenCC

    return OpenCC("t2s")


def has_cjk(text: str) -> bool:
    return _CJK_RE.search(text) is not None


def normalise(text: str) -> str:
    """Full-width → half-width, traditional → simplified, case folded, punctuation → single spaces."""
    text = unicodedata.normalize("NFKC", text or "")
    if has_cjk(text):
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
def _synonym_rewriter() -> tuple[re.Pattern[str] | None, dict[str, str]]:
    mapping: dict[str, str] = {}
    for group in synonym_groups():
        canonical = group[0]
        for form in group:
            mapping.setdefault(form, canonical)
    if not mapping:
        return None, mapping
    # Longest first, so "物联网" is kept whole before its variant "物联" could match inside it.
    forms = sorted(mapping, key=lambda f: (-len(f), f))
    return re.compile("|".join(_form_pattern(f) for f in forms)), mapping


def canonicalise(normalised: str) -> str:
    """Rewrite every synonym variant in already *normalised* text to its canonical form (spaced apart)."""
    pattern, mapping = _synonym_rewriter()
    if pattern is None:
        return normalised
    out = pattern.sub(lambda m: f" {mapping[m.group(0)]} ", normalised)
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
    try:
        import Stemmer  # PyStemmer: the Snowball English stemmer in C

        stemmer = Stemmer.Stemmer("english")
        stemmer.maxCacheSize = 100_000
        return stemmer.stemWord
    except ImportError:  # pragma: no cover - depends on the environment
        return _light_stem


def _stem(word: str) -> str:
    if word.isdigit():
        return word
    return _stemmer()(word)


# --------------------------------------------------------------------------------------------------- jieba


_jieba_lock = threading.Lock()


def _user_words() -> Iterable[str]:
    from qianfan.taxonomy import CATEGORY_BY_CODE

    for cat in CATEGORY_BY_CODE.values():
        yield from cat.keywords
    for group in synonym_groups():
        yield from group


@lru_cache(maxsize=1)
def _jieba() -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    with _jieba_lock:
        tokenizer = jieba.Tokenizer()
        tokenizer.initialize()
        for word in _user_words():
            word = normalise(word)
            if has_cjk(word) and " " not in word:
                tokenizer.add_word(word)
    return tokenizer


# --------------------------------------------------------------------------------------------------- analysers


def _latin_word(word: str) -> str | None:
    if word in _EN_STOP or (len(word) == 1 and not word.isdigit()):
        return None
    return _stem(word)


def word_terms(prepared: str) -> list[str]:
    """Word-level terms of *prepared* text (see :func:`prepare`)."""
    if not has_cjk(prepared):
        return [t for t in (_latin_word(w) for w in _LATIN_RE.findall(prepared)) if t]
    out: list[str] = []
    for tok in _jieba().lcut(prepared):
        tok = tok.strip()
        if not tok:
            continue
        if has_cjk(tok):
            if tok not in _ZH_STOP:
                out.append(tok)
        else:
            out.extend(t for t in (_latin_word(w) for w in _LATIN_RE.findall(tok)) if t)
    return out


def char_terms(prepared: str) -> list[str]:
    """Character n-grams of *prepared* text: 1–3 for Chinese runs, 3–5 inside each padded, stemmed Latin word."""
    out: list[str] = []
    for run in _RUN_RE.findall(prepared):
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
    return out


def surface_words(text: str) -> dict[str, str]:
    """Map each word term of *text* to a readable form from the text itself (for explanations)."""
    prepared = prepare(text)
    out: dict[str, str] = {}
    pieces = _jieba().lcut(prepared) if has_cjk(prepared) else prepared.split(" ")
    for piece in pieces:
        for term in word_terms(piece.strip()):
            out.setdefault(term, piece.strip())
    return out
