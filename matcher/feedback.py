"""Learning the rerank weights from buyers' feedback — and measuring, not assuming, whether it helps.

**Labels.** What a buyer does with a ranked offer is a label for the (order, offer) pair shown:

* a shortlist (加入候选) and an intent order (意向订单, proposed or signed) are *positive* — an intent order is the
  stronger signal and counts twice by default (:attr:`Label.default_weight`);
* a rejection (不合适) is *negative*. Offers that were shown but not acted on are not labels at all.

An example keeps the *raw* feature values of the pair (``contribution / weight`` of each :class:`Match` feature, see
:func:`example_from_match`), so labels gathered under one set of weights can train the next.

**Default weights policy.** The ranker uses the documented defaults of :class:`matcher.rank.Weights` until a model
is both *possible* and *proven*:

1. possible — at least :data:`MIN_EXAMPLES` (40) labels, at least :data:`MIN_PER_CLASS` (10) positives *and* 10
   negatives, from at least :data:`MIN_QUERIES` (5) orders; below that :func:`fit_weights` returns ``None``. Forty
   labels is about five per rerank feature, the least a regularised logistic regression turns into stable signs;
   ten per class keeps a balanced fit from resting on a handful of one kind; five orders allow a 5-fold split by
   order.
2. proven — the learned weights are adopted (:attr:`FeedbackModel.adopt`) only when, on orders held out by a
   :class:`~sklearn.model_selection.GroupKFold` split (the orders of a fold are never seen by the weights that
   score them), they order the labels better than the defaults: the within-order pairwise ranking accuracy (the
   probability a positive outranks a negative shown for the same order, ties count half — a per-order ROC AUC)
   must rise by at least :data:`MIN_GAIN` (0.005) *and* the one-sided 95 % lower bound of that rise, with orders as
   the sampling units, must be above zero. Otherwise the defaults stay and :attr:`FeedbackModel.reason` says why.
   Learned weights that set every lexical retrieval view (:data:`RETRIEVAL_VIEWS`: word, char) to 0 are never
   adopted either: those views find the candidates, and without a dense view the ranker would return nothing — a
   failure the measure on already-shown offers cannot see.

**The model.** A scikit-learn ``LogisticRegression`` (L2, ``C=1``, ``class_weight="balanced"``, features standardised
with the examples' weights) on the raw features that vary among the examples. Its coefficients, brought back to
the raw scale (``coef / std``), become the rerank weights: negative ones are set to 0 (a feature the buyers do not
reward is switched off, not made to punish), and the rest are scaled so that the learned weights sum to what the
defaults of the same features sum to — the scores stay on the same scale, so thresholds and explanations keep
their meaning. A feature that never varies among the examples (never computed, or a weight of 0 that hides its raw
value) keeps its default weight. The feature list is ``dataclasses.fields(Weights)``: a new rerank feature is
learned as soon as it appears in the matches' contributions.

**A limit to keep in mind.** Labels exist only for offers that were shown, and the shown offers are the ones the
current weights ranked first. A feature those weights already saturate among the shown offers (nearly every shown
offer is in the order's category, say) carries little information in the labels and may be weakened, although it
still matters for the offers further down. The held-out measure above cannot see that; ``bench/feedback.py``
measures the end-to-end effect on fresh rankings with simulated buyers.

**Persistence.** :meth:`FeedbackModel.to_json` / :meth:`FeedbackModel.from_json` — plain JSON values, no pickle; a
saved model of an older feature list loads with the current defaults for the features it does not know.

The module is pure: no database, no clock (pass ``now`` to stamp a model), no web or task framework.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import numpy as np

from matcher.document import DocId
from matcher.rank import Match, Weights, raw_features

__all__ = [
    "FORMAT_VERSION",
    "MIN_EXAMPLES",
    "MIN_GAIN",
    "MIN_PER_CLASS",
    "MIN_QUERIES",
    "RETRIEVAL_VIEWS",
    "FeedbackExample",
    "FeedbackModel",
    "Label",
    "example_from_match",
    "feature_names",
    "fit_weights",
    "pairwise_auc",
]

#: Written into every saved model; bumped when the JSON layout changes.
FORMAT_VERSION = "qianfan-feedback/1"
#: Fewer labels than this: no model, the default weights stay.
MIN_EXAMPLES = 40
#: Fewer positives or fewer negatives than this: no model.
MIN_PER_CLASS = 10
#: Labels from fewer orders than this: no model (the effect is measured on held-out orders).
MIN_QUERIES = 5
#: The held-out pairwise accuracy must rise by at least this much for the learned weights to be adopted.
MIN_GAIN = 0.005
#: Cross-validation folds (fewer when there are fewer orders).
CV_FOLDS = 5
#: Inverse L2 strength of the logistic regression (on standardised features).
C_DEFAULT = 1.0
_Z95 = 1.6448536269514722  # one-sided 95 % normal quantile
#: The views that find the candidates (matcher.rank, step 1); weights that switch them all off are never adopted.
RETRIEVAL_VIEWS = ("word", "char")
_CONSTANT = 1e-12  # a feature whose values span less than this is constant


class Label(StrEnum):
    """What the buyer did with an offer shown for an order."""

    SHORTLIST = "shortlist"  # put on the order's shortlist: positive
    INTENT = "intent"  # an intent order (意向订单) proposed or signed: positive, the strongest signal
    REJECTION = "rejection"  # marked as not suitable: negative

    @property
    def target(self) -> int:
        """1 for a positive label, 0 for a negative one."""
        return 0 if self is Label.REJECTION else 1

    @property
    def default_weight(self) -> float:
        """The example weight the label carries by default: an intent order counts twice."""
        return 2.0 if self is Label.INTENT else 1.0


def feature_names() -> tuple[str, ...]:
    """The rerank features, in :class:`Weights` order (new fields are picked up automatically)."""
    return tuple(f.name for f in dataclasses.fields(Weights))


@dataclass(frozen=True, slots=True)
class FeedbackExample:
    """One labelled (order, offer) pair: raw feature values, 1 (positive) or 0 (negative), and a weight > 0."""

    query_id: str | int
    doc_id: DocId
    features: dict[str, float]
    label: int
    weight: float = 1.0

    def __post_init__(self) -> None:
        if self.label not in (0, 1):
            raise ValueError(f"label must be 0 or 1, got {self.label!r}")
        if not (self.weight > 0 and math.isfinite(self.weight)):
            raise ValueError(f"weight must be a positive number, got {self.weight!r}")


def example_from_match(
    query_id: str | int,
    match: Match,
    label: Label | int,
    weights: Weights | None = None,
    *,
    weight: float | None = None,
) -> FeedbackExample:
    """The example for *match* (ranked with *weights*, the defaults if ``None``) labelled *label*.

    Each raw feature is ``contribution / weight``; it is 0 when the weight is 0 (the raw value is unknowable) or the
    match has no contribution for it (the feature did not apply). A :class:`Label` gives the target and the default
    example weight; a bare ``0``/``1`` weighs 1. *weight* overrides either.
    """
    features = raw_features(match.contributions, weights or Weights())
    if isinstance(label, Label):
        target, default_weight = label.target, label.default_weight
    else:
        target, default_weight = int(label), 1.0
    return FeedbackExample(query_id, match.doc_id, features, target, default_weight if weight is None else weight)


# ------------------------------------------------------------------------------------------------ measuring


@dataclass(frozen=True, slots=True)
class _PerQuery:
    pairs: float  # sum of pair weights
    auc: float  # weighted share of pairs the scores order correctly (ties count half)


def _query_auc(scores: np.ndarray, labels: np.ndarray, weights: np.ndarray) -> _PerQuery | None:
    pos, neg = labels == 1, labels == 0
    if not pos.any() or not neg.any():
        return None
    diff = scores[pos][:, None] - scores[neg][None, :]
    tol = 1e-12 * max(1.0, float(np.abs(scores).max()))
    wins = (diff > tol) + 0.5 * (np.abs(diff) <= tol)
    pw = weights[pos][:, None] * weights[neg][None, :]
    total = float(pw.sum())
    return _PerQuery(total, float((wins * pw).sum()) / total)


def pairwise_auc(
    scores: Sequence[float] | np.ndarray,
    labels: Sequence[int] | np.ndarray,
    groups: Sequence[Any] | np.ndarray,
    weights: Sequence[float] | np.ndarray | None = None,
) -> float | None:
    """Within-group pairwise ranking accuracy: the (weighted) share of (positive, negative) pairs of the same group
    that *scores* put in the right order, ties counting half. ``None`` when no group holds both labels."""
    s, y, g = np.asarray(scores, dtype=np.float64), np.asarray(labels), _group_codes(groups)
    w = np.ones(s.size) if weights is None else np.asarray(weights, dtype=np.float64)
    per = [_query_auc(s[g == q], y[g == q], w[g == q]) for q in np.unique(g)]
    usable = [p for p in per if p is not None]
    total = sum(p.pairs for p in usable)
    return sum(p.pairs * p.auc for p in usable) / total if total else None


def _group_codes(groups: Sequence[Any] | np.ndarray) -> np.ndarray:
    codes: dict[Any, int] = {}
    return np.fromiter((codes.setdefault(q, len(codes)) for q in groups), dtype=np.int64, count=len(groups))


# ------------------------------------------------------------------------------------------------ the model


def _weights_to_json(w: Weights) -> dict[str, float]:
    return {name: float(getattr(w, name)) for name in feature_names()}


def _weights_from_json(d: Mapping[str, Any]) -> Weights:
    known = set(feature_names())
    return Weights(**{k: float(v) for k, v in d.items() if k in known})


def _opt_float(v: Any) -> float | None:
    return None if v is None else float(v)


@dataclass(frozen=True, slots=True)
class FeedbackModel:
    """Rerank weights learned from feedback, with the held-out measure that decides whether they are used."""

    weights: Weights  # the learned weights (the defaults when no feature could be learned)
    defaults: Weights  # what they were measured against
    adopt: bool  # True only when the held-out measure shows the learned weights rank the labels better
    reason: str  # why they are (not) adopted, in one sentence
    n_examples: int
    n_positive: int
    n_negative: int
    n_queries: int
    #: Held-out within-order pairwise accuracy (per-order ROC AUC, pair-weighted) of the default / learned weights.
    auc_default: float | None
    auc_learned: float | None
    #: One-sided 95 % lower bound of ``auc_learned - auc_default`` (orders as the sampling units).
    gain_lower: float | None
    #: Held-out ROC AUC of the scores pooled over all orders (for reference: it also rewards ranking orders).
    roc_auc_default: float | None
    roc_auc_learned: float | None
    fitted_at: datetime | None = None
    #: How the model was trained: features (learned / kept at the default), thresholds, folds, coefficients, etc.
    trained_on: dict[str, Any] = field(default_factory=dict)

    @property
    def effective_weights(self) -> Weights:
        """The weights to rank with: the learned ones when adopted, else the defaults."""
        return self.weights if self.adopt else self.defaults

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values (``json.dumps`` them as they are)."""
        return {
            "format": FORMAT_VERSION,
            "weights": _weights_to_json(self.weights),
            "defaults": _weights_to_json(self.defaults),
            "adopt": self.adopt,
            "reason": self.reason,
            "n_examples": self.n_examples,
            "n_positive": self.n_positive,
            "n_negative": self.n_negative,
            "n_queries": self.n_queries,
            "auc_default": self.auc_default,
            "auc_learned": self.auc_learned,
            "gain_lower": self.gain_lower,
            "roc_auc_default": self.roc_auc_default,
            "roc_auc_learned": self.roc_auc_learned,
            "fitted_at": self.fitted_at.isoformat() if self.fitted_at is not None else None,
            "trained_on": self.trained_on,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> FeedbackModel:
        if d.get("format") != FORMAT_VERSION:
            raise ValueError(f"feedback model format {d.get('format')!r}, expected {FORMAT_VERSION!r}")
        fitted = d.get("fitted_at")
        return cls(
            weights=_weights_from_json(d["weights"]),
            defaults=_weights_from_json(d["defaults"]),
            adopt=bool(d["adopt"]),
            reason=str(d["reason"]),
            n_examples=int(d["n_examples"]),
            n_positive=int(d["n_positive"]),
            n_negative=int(d["n_negative"]),
            n_queries=int(d["n_queries"]),
            auc_default=_opt_float(d.get("auc_default")),
            auc_learned=_opt_float(d.get("auc_learned")),
            gain_lower=_opt_float(d.get("gain_lower")),
            roc_auc_default=_opt_float(d.get("roc_auc_default")),
            roc_auc_learned=_opt_float(d.get("roc_auc_learned")),
            fitted_at=datetime.fromisoformat(fitted) if fitted else None,
            trained_on=dict(d.get("trained_on") or {}),
        )


@dataclass(frozen=True, slots=True)
class _Fit:
    vector: np.ndarray  # learned weight per feature (all features, defaults where constant)
    coefficients: dict[str, float]  # standardised logistic-regression coefficients of the varying features


def _learn(
    x: np.ndarray, y: np.ndarray, sw: np.ndarray, varying: np.ndarray, default_vec: np.ndarray, c: float
) -> _Fit | None:
    """Fit the logistic regression on the varying features and turn it into non-negative rerank weights."""
    # scikit-learn is imported where a model is fitted, not at module top: the four modules used here cost 3.3 s
    # and +76 MB RSS to import (measured on the 2-core dev box, numpy already loaded), and every process that
    # ranks imports this module (the store reads a saved model) while only the retraining task fits one.
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415 — scikit-learn: 3.3 s, +76 MB (measured, above)
    from sklearn.preprocessing import StandardScaler  # noqa: PLC0415 — scikit-learn, as above

    cols = np.flatnonzero(varying)
    xv = x[:, cols]
    scaler = StandardScaler().fit(xv, sample_weight=sw)
    # newton-cholesky: the same L2 objective as lbfgs, several times faster with a handful of features
    lr = LogisticRegression(C=c, class_weight="balanced", solver="newton-cholesky", max_iter=200)
    lr.fit(scaler.transform(xv), y, sample_weight=sw)
    beta = lr.coef_[0]
    raw = np.maximum(beta / scaler.scale_, 0.0)
    budget = float(default_vec[cols].sum())
    if raw.sum() <= 0 or budget <= 0:
        return None
    vector = default_vec.copy()
    vector[cols] = raw * (budget / raw.sum())
    names = feature_names()
    return _Fit(vector, {names[int(j)]: float(b) for j, b in zip(cols, beta, strict=True)})


def _gain_lower_bound(per_default: list[_PerQuery], per_learned: list[_PerQuery]) -> float | None:
    """One-sided 95 % lower bound of the pair-weighted mean per-order gain (cluster-robust standard error)."""
    m = len(per_default)
    if m < 2:
        return None
    w = np.array([p.pairs for p in per_default])
    d = np.array([b.auc - a.auc for a, b in zip(per_default, per_learned, strict=True)])
    mean = float((w * d).sum() / w.sum())
    se = math.sqrt(float((w**2 * (d - mean) ** 2).sum()) * m / (m - 1)) / float(w.sum())
    return mean - _Z95 * se


def fit_weights(
    examples: Iterable[FeedbackExample],
    *,
    defaults: Weights = Weights(),
    min_examples: int = MIN_EXAMPLES,
    min_per_class: int = MIN_PER_CLASS,
    min_queries: int = MIN_QUERIES,
    min_gain: float = MIN_GAIN,
    folds: int = CV_FOLDS,
    c: float = C_DEFAULT,
    now: datetime | None = None,
) -> FeedbackModel | None:
    """Learn rerank weights from *examples* and measure them against *defaults* on held-out orders.

    ``None`` (keep the defaults) below the thresholds; otherwise a :class:`FeedbackModel` whose ``adopt`` says
    whether the learned weights beat the defaults out of sample (see the module documentation). *now* only stamps
    the model's ``fitted_at``.
    """
    # scikit-learn's import cost, measured, is written in _learn.
    from sklearn.metrics import roc_auc_score  # noqa: PLC0415 — scikit-learn: 3.3 s, +76 MB (measured in _learn)
    from sklearn.model_selection import GroupKFold  # noqa: PLC0415 — scikit-learn, as above

    exs = list(examples)
    names = feature_names()
    n = len(exs)
    y = np.fromiter((e.label for e in exs), dtype=np.int64, count=n)
    n_pos = int(y.sum())
    n_neg = n - n_pos
    groups = _group_codes([e.query_id for e in exs])
    n_queries = int(np.unique(groups).size)
    if n < min_examples or min(n_pos, n_neg) < min_per_class or n_queries < max(min_queries, 2):
        return None

    x = np.array([[float(e.features.get(name, 0.0)) for name in names] for e in exs], dtype=np.float64)
    sw = np.fromiter((e.weight for e in exs), dtype=np.float64, count=n)
    default_vec = np.array([float(getattr(defaults, name)) for name in names])
    varying = np.ptp(x, axis=0) > _CONSTANT
    trained_on: dict[str, Any] = {
        "features": list(names),
        "learned": [nm for nm, v in zip(names, varying, strict=True) if v],
        "kept_default": [nm for nm, v in zip(names, varying, strict=True) if not v],
        "min_examples": min_examples,
        "min_per_class": min_per_class,
        "min_queries": min_queries,
        "min_gain": min_gain,
        "C": c,
        "model": "sklearn LogisticRegression (L2, class_weight=balanced, newton-cholesky, standardised features)",
    }

    def model(
        weights: Weights,
        adopt: bool,
        reason: str,
        aucs: tuple[float | None, float | None, float | None] = (None, None, None),
        roc_aucs: tuple[float | None, float | None] = (None, None),
    ) -> FeedbackModel:
        return FeedbackModel(
            weights=weights,
            defaults=defaults,
            adopt=adopt,
            reason=reason,
            n_examples=n,
            n_positive=n_pos,
            n_negative=n_neg,
            n_queries=n_queries,
            auc_default=aucs[0],
            auc_learned=aucs[1],
            gain_lower=aucs[2],
            roc_auc_default=roc_aucs[0],
            roc_auc_learned=roc_aucs[1],
            fitted_at=now,
            trained_on=trained_on,
        )

    if not varying.any():
        return model(defaults, False, "no feature varies among the labelled matches: nothing to learn")
    full = _learn(x, y, sw, varying, default_vec, c)
    if full is None:
        return model(defaults, False, "no feature is positively associated with the positive labels")
    trained_on["coefficients"] = full.coefficients

    # ---- held-out measure: every order is scored by weights fitted without it
    n_splits = min(folds, n_queries)
    trained_on["folds"] = n_splits
    s_default = x @ default_vec
    s_learned = np.full(n, np.nan)
    for train, test in GroupKFold(n_splits=n_splits).split(x, y, groups):
        if np.unique(y[train]).size < 2:
            continue  # one class only in this training fold: its orders stay unmeasured
        fold_varying = varying & (np.ptp(x[train], axis=0) > _CONSTANT)
        fit = _learn(x[train], y[train], sw[train], fold_varying, default_vec, c) if fold_varying.any() else None
        s_learned[test] = x[test] @ (fit.vector if fit is not None else default_vec)
    scored = np.isfinite(s_learned)
    per_default: list[_PerQuery] = []
    per_learned: list[_PerQuery] = []
    for q in np.unique(groups[scored]):
        rows = scored & (groups == q)
        a = _query_auc(s_default[rows], y[rows], sw[rows])
        b = _query_auc(s_learned[rows], y[rows], sw[rows])
        if a is not None and b is not None:
            per_default.append(a)
            per_learned.append(b)
    roc_default = roc_learned = None
    if scored.any() and np.unique(y[scored]).size == 2:
        roc_default = float(roc_auc_score(y[scored], s_default[scored], sample_weight=sw[scored]))
        roc_learned = float(roc_auc_score(y[scored], s_learned[scored], sample_weight=sw[scored]))
    trained_on["held_out_orders_with_pairs"] = len(per_default)

    weights = Weights(**{name: float(v) for name, v in zip(names, full.vector, strict=True)})
    if not per_default:
        auc_d = auc_l = lower = None
        adopt, reason = False, "no held-out order has both a positive and a negative label: the effect is unmeasured"
    else:
        total = sum(p.pairs for p in per_default)
        auc_d = sum(p.pairs * p.auc for p in per_default) / total
        auc_l = sum(p.pairs * p.auc for p in per_learned) / total
        lower = _gain_lower_bound(per_default, per_learned)
        gain = auc_l - auc_d
        adopt = gain >= min_gain and lower is not None and lower > 0
        if adopt:
            reason = f"held-out pairwise accuracy {auc_d:.3f} → {auc_l:.3f} (95 % lower bound of the gain {lower:+.3f})"
        elif gain < min_gain:
            reason = f"held-out pairwise accuracy {auc_d:.3f} → {auc_l:.3f}: gain below {min_gain}"
        else:
            bound = "unknown (one order)" if lower is None else f"{lower:+.3f}"
            reason = f"held-out pairwise accuracy {auc_d:.3f} → {auc_l:.3f}: gain not significant (lower bound {bound})"
        retrieval = [name for name in RETRIEVAL_VIEWS if name in names and getattr(defaults, name) > 0]
        if adopt and retrieval and all(getattr(weights, name) == 0 for name in retrieval):
            adopt = False
            reason += (
                f"; not adopted: the learned weights switch off every lexical retrieval view ({', '.join(retrieval)}),"
                " so an index without a dense view would find no candidates"
            )
    return model(weights, adopt, reason, (auc_d, auc_l, lower), (roc_default, roc_learned))
