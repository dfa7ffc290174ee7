"""How a match is explained to a person: the reason codes, their bilingual labels, the score sentence.

A match's ``contributions`` map a *reason code* to its share of the score (they sum to the score). The codes are the
rerank features of :class:`matcher.rank.Weights`, plus ``cluster``: the half category weight a pair earns when only
the industry cluster is shared (the category code's prefix before the dot, e.g. ``ict`` in ``ict.bigdata``) — so
"same category" is said only when the category is the same.

:data:`REASON_LABELS` is the one table of labels (code → (中文, English)); pages, exports and the score sentence all
read it. Pure: no database, no ranking (the lowest module beside :mod:`matcher.document`).
"""

from __future__ import annotations

__all__ = [
    "CLUSTER_SHARE",
    "FEATURE_LABELS",
    "REASON_LABELS",
    "REASON_WEIGHT",
    "reason_label",
    "score_clause",
]

#: Every reason code of an explanation, as a person reads it: code → (中文, English).
REASON_LABELS: dict[str, tuple[str, str]] = {
    "word": ("关键词匹配", "term match"),
    "char": ("字面相近", "similar wording"),
    "title": ("标题相似", "similar title"),
    "category": ("同一类别", "same category"),
    "cluster": ("同一行业集群", "same industry cluster"),
    "district": ("同一园区", "same park"),
    "budget": ("预算匹配", "budget fits"),
    "dense": ("语义相近", "similar meaning"),
    "record": ("平台履约记录", "platform record"),
}

#: The weight of :class:`matcher.rank.Weights` a reason code is scaled by, where it is not the code's own name.
REASON_WEIGHT: dict[str, str] = {"cluster": "category"}

#: The share of the category weight a pair earns for the same industry cluster (a different category in it).
CLUSTER_SHARE = 0.5

#: The labels as one string each (``"关键词匹配 term match"``), as the score sentence writes them.
FEATURE_LABELS: dict[str, str] = {code: f"{zh} {en}" for code, (zh, en) in REASON_LABELS.items()}


def reason_label(code: str) -> tuple[str, str]:
    """(中文, English) of a reason code; an unknown code is shown as itself."""
    return REASON_LABELS.get(code, (code, code))


def score_clause(score: float, contributions: dict[str, float]) -> str:
    """``score 0.812 = 关键词匹配 term match +0.400, …``: each reason's share of the score, largest first."""
    parts = ", ".join(
        f"{FEATURE_LABELS.get(name, name)} {value:+.3f}"
        for name, value in sorted(contributions.items(), key=lambda kv: -kv[1])
    )
    return f"score {score:.3f} = {parts}"
