"""Feedback model: labels, raw features, thresholds, learned weights, the held-out adoption gate, JSON (no database)."""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher.feedback import (
    FORMAT_VERSION,
    MIN_EXAMPLES,
    MIN_PER_CLASS,
    MIN_QUERIES,
    FeedbackExample,
    FeedbackModel,
    Label,
    example_from_match,
    feature_names,
    fit_weights,
    pairwise_auc,
)
from matcher.index import Document, MatchIndex
from matcher.rank import Match, Query, Weights

NAMES = feature_names()
VARYING = ("word", "char", "title", "category", "district", "budget")  # dense and record stay 0 (never computed)


def synthetic(
    seed: int, *, signal: str | None, n_queries: int = 30, per_query: int = 10, strength: float = 8.0
) -> list[FeedbackExample]:
    """Examples with uniform raw features; with *signal*, P(positive) is a steep logistic of that feature."""
    rng = np.random.default_rng(seed)
    out: list[FeedbackExample] = []
    for q in range(n_queries):
        for d in range(per_query):
            features = {name: float(rng.random()) if name in VARYING else 0.0 for name in NAMES}
            p = 0.5 if signal is None else 1.0 / (1.0 + math.exp(-strength * (features[signal] - 0.5)))
            out.append(FeedbackExample(f"order-{q}", f"offer-{q}-{d}", features, int(rng.random() < p)))
    return out


def weight_sum(w: Weights) -> float:
    return sum(getattr(w, name) for name in NAMES)


# ------------------------------------------------------------------------------------------------ labels and examples


def test_feature_names_follow_the_weights_dataclass() -> None:
    assert tuple(f.name for f in dataclasses.fields(Weights)) == NAMES
    assert {"word", "char", "title", "category", "district", "budget", "dense"} <= set(NAMES)


def test_labels_shortlist_and_intent_are_positive_rejection_negative() -> None:
    assert (Label.SHORTLIST.target, Label.INTENT.target, Label.REJECTION.target) == (1, 1, 0)
    assert Label.INTENT.default_weight == 2.0
    assert Label.SHORTLIST.default_weight == Label.REJECTION.default_weight == 1.0
    assert Label("intent") is Label.INTENT


def test_example_from_match_divides_contributions_by_weights() -> None:
    weights = Weights(word=0.5, budget=0.1, district=0.0, dense=0.0)
    match = Match(
        doc_id="offer-1",
        score=0.8,
        title="t",
        contributions={"word": 0.25, "budget": 0.05, "district": 0.0, "dense": 0.3, "title": 0.1},
    )
    ex = example_from_match("order-1", match, Label.INTENT, weights)
    assert set(ex.features) == set(NAMES)
    assert ex.features["word"] == pytest.approx(0.5)
    assert ex.features["budget"] == pytest.approx(0.5)
    assert ex.features["title"] == pytest.approx(0.1 / weights.title)
    assert ex.features["dense"] == 0.0  # weight 0: the raw value is unknowable
    assert ex.features["district"] == 0.0
    assert ex.features["char"] == 0.0  # absent: the feature did not apply
    assert (ex.query_id, ex.doc_id, ex.label, ex.weight) == ("order-1", "offer-1", 1, 2.0)

    rejected = example_from_match("order-1", match, Label.REJECTION, weights)
    assert (rejected.label, rejected.weight) == (0, 1.0)
    bare = example_from_match("order-1", match, 1)
    assert (bare.label, bare.weight) == (1, 1.0)
    assert bare.features["word"] == pytest.approx(0.25 / Weights().word)  # default weights when none are given
    assert example_from_match("order-1", match, Label.SHORTLIST, weights, weight=3.0).weight == 3.0


def test_example_validation() -> None:
    with pytest.raises(ValueError, match="label"):
        FeedbackExample("q", 1, {}, 2)
    with pytest.raises(ValueError, match="weight"):
        FeedbackExample("q", 1, {}, 1, weight=0.0)
    with pytest.raises(ValueError, match="weight"):
        FeedbackExample("q", 1, {}, 1, weight=math.nan)


def test_raw_features_times_weights_give_the_score_of_a_real_match() -> None:
    index = MatchIndex.fit(
        [
            Document(1, "工业云PaaS平台建设与运维", keywords=("PaaS",), category="ict.iiot", district="海淀园"),
            Document(2, "工业互联网平台数据采集", category="ict.iiot", price_min_fen=5_000_000),
            Document(3, "物联网传感器数据采集终端", category="ict.iot", district="海淀园"),
        ]
    )
    weights = Weights(word=0.7, char=0.3, budget=0.2)
    query = Query("工业互联网平台", category="ict.iiot", district="海淀园", budget_fen=4_000_000)
    matches = index.search(query, k=3, weights=weights)
    assert matches
    for m in matches:
        ex = example_from_match("q", m, Label.SHORTLIST, weights)
        rebuilt = sum(getattr(weights, name) * ex.features[name] for name in NAMES)
        assert rebuilt == pytest.approx(m.score)


# ------------------------------------------------------------------------------------------------ measuring


def test_pairwise_auc_within_groups_only() -> None:
    # group a: positive 0.9 beats both negatives; group b: positive 0.1 loses to 0.5, ties 0.1 (half)
    scores = [0.9, 0.2, 0.3, 0.1, 0.5, 0.1]
    labels = [1, 0, 0, 1, 0, 0]
    groups = ["a", "a", "a", "b", "b", "b"]
    assert pairwise_auc(scores, labels, groups) == pytest.approx((2 + 0.5) / 4)
    # a positive in one group is never compared with a negative of another
    assert pairwise_auc([0.1, 0.9], [1, 0], ["a", "b"]) is None
    # pair weights are products of example weights
    assert pairwise_auc([0.9, 0.2, 0.1, 0.5], [1, 0, 1, 0], ["a", "a", "b", "b"], [3, 1, 1, 1]) == pytest.approx(3 / 4)


# ------------------------------------------------------------------------------------------------ thresholds


def test_thresholds_are_documented_values() -> None:
    assert (MIN_EXAMPLES, MIN_PER_CLASS, MIN_QUERIES) == (40, 10, 5)


def _balanced(n_queries: int, per_query: int, n_neg_total: int | None = None) -> list[FeedbackExample]:
    rng = np.random.default_rng(0)
    out = []
    i = 0
    for q in range(n_queries):
        for d in range(per_query):
            label = i % 2 if n_neg_total is None else int(i >= n_neg_total)
            features = {name: float(rng.random()) for name in VARYING}
            out.append(FeedbackExample(q, f"{q}-{d}", features, label))
            i += 1
    return out


def test_too_few_examples_keeps_the_defaults() -> None:
    assert fit_weights(_balanced(5, 7)) is None  # 35 < 40
    assert fit_weights(_balanced(5, 8)) is not None  # 40


def test_too_few_of_one_class_keeps_the_defaults() -> None:
    assert fit_weights(_balanced(10, 10, n_neg_total=9)) is None  # 9 negatives, 91 positives
    assert fit_weights(_balanced(10, 10, n_neg_total=10)) is not None
    assert fit_weights(_balanced(10, 10, n_neg_total=91)) is None  # 9 positives


def test_too_few_orders_keeps_the_defaults() -> None:
    assert fit_weights(_balanced(4, 20)) is None
    assert fit_weights(_balanced(5, 20)) is not None
    assert fit_weights(_balanced(4, 20), min_queries=4) is not None


def test_custom_thresholds() -> None:
    examples = synthetic(0, signal="budget")  # 300 examples
    assert fit_weights(examples, min_examples=301) is None
    assert fit_weights(examples, min_per_class=200) is None


# ------------------------------------------------------------------------------------------------ learning


@pytest.mark.parametrize("feature", VARYING)
def test_labels_driven_by_one_feature_raise_its_weight_and_are_adopted(feature: str) -> None:
    defaults = Weights()
    # (seed 0: with other seeds the noise coefficients of word and char can both come out negative, and the
    # retrieval veto below rightly refuses the model — see test_weights_that_switch_off_retrieval_are_never_adopted)
    model = fit_weights(synthetic(0, signal=feature), defaults=defaults)
    assert model is not None
    assert model.adopt, model.reason
    assert model.auc_default is not None and model.auc_learned is not None
    assert model.auc_learned > model.auc_default
    assert model.gain_lower is not None and model.gain_lower > 0
    learned = getattr(model.weights, feature)
    assert learned > getattr(defaults, feature)
    assert learned == max(getattr(model.weights, name) for name in VARYING)
    assert model.effective_weights == model.weights
    assert model.roc_auc_learned is not None and model.roc_auc_default is not None
    assert model.roc_auc_learned > model.roc_auc_default


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_noise_labels_are_not_adopted(seed: int) -> None:
    defaults = Weights()
    model = fit_weights(synthetic(seed, signal=None), defaults=defaults)
    if model is None:  # pragma: no cover - the synthetic set is well above the thresholds
        pytest.fail("expected a model")
    assert not model.adopt, model.reason
    assert model.effective_weights == defaults


def test_counts_and_training_record() -> None:
    examples = synthetic(2, signal="budget")
    now = datetime(2024, 6, 1, 8, 30, tzinfo=UTC)
    model = fit_weights(examples, now=now)
    assert model is not None
    assert model.n_examples == len(examples)
    assert model.n_positive == sum(e.label for e in examples)
    assert model.n_negative == len(examples) - model.n_positive
    assert model.n_queries == 30
    assert model.fitted_at == now
    assert set(model.trained_on["learned"]) == set(VARYING)
    assert set(model.trained_on["kept_default"]) == set(NAMES) - set(VARYING)
    assert model.trained_on["folds"] == 5
    assert model.trained_on["coefficients"]["budget"] > 0


def test_constant_features_keep_their_default_and_the_sum_is_preserved() -> None:
    defaults = Weights(dense=0.7, budget=0.3)
    model = fit_weights(synthetic(3, signal="budget"), defaults=defaults)
    assert model is not None
    for name in set(NAMES) - set(VARYING):
        assert getattr(model.weights, name) == getattr(defaults, name)
    assert weight_sum(model.weights) == pytest.approx(weight_sum(defaults))
    assert sum(getattr(model.weights, n) for n in VARYING) == pytest.approx(sum(getattr(defaults, n) for n in VARYING))


def test_no_varying_feature_gives_an_unadopted_model_with_the_defaults() -> None:
    examples = [FeedbackExample(q, f"{q}-{d}", dict.fromkeys(NAMES, 0.5), d % 2) for q in range(6) for d in range(10)]
    model = fit_weights(examples)
    assert model is not None
    assert not model.adopt
    assert model.weights == model.defaults == Weights()
    assert "varies" in model.reason


def test_negatively_associated_features_are_switched_off() -> None:
    examples = synthetic(4, signal="district", strength=-10.0)  # positives have a *low* district value
    model = fit_weights(examples)
    assert model is not None
    assert model.weights.district == 0.0
    assert all(getattr(model.weights, n) >= 0 for n in NAMES)


def test_weights_that_switch_off_retrieval_are_never_adopted() -> None:
    # Positives have a high budget fit and *low* word/char coverage: the learned word and char weights are 0.
    rng = np.random.default_rng(9)
    examples = []
    for q in range(30):
        for d in range(10):
            features = {name: float(rng.random()) if name in VARYING else 0.0 for name in NAMES}
            z = 8.0 * (features["budget"] - 0.5) - 4.0 * (features["word"] - 0.5) - 4.0 * (features["char"] - 0.5)
            examples.append(FeedbackExample(q, f"{q}-{d}", features, int(rng.random() < 1.0 / (1.0 + math.exp(-z)))))
    model = fit_weights(examples)
    assert model is not None
    assert model.weights.word == model.weights.char == 0.0
    assert model.auc_learned is not None and model.auc_default is not None
    assert model.auc_learned > model.auc_default + 0.05  # it would pass the held-out gate...
    assert not model.adopt  # ...but it would find no candidates
    assert "retrieval" in model.reason
    assert model.effective_weights == Weights()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    n_queries=st.integers(5, 12),
    defaults=st.builds(
        Weights,
        word=st.floats(0.01, 2.0),
        char=st.floats(0.01, 2.0),
        title=st.floats(0.01, 1.0),
        category=st.floats(0.01, 1.0),
        district=st.floats(0.01, 1.0),
        budget=st.floats(0.01, 1.0),
    ),
)
def test_learned_weights_are_non_negative_and_sum_to_the_defaults(seed: int, n_queries: int, defaults: Weights) -> None:
    rng = np.random.default_rng(seed)
    examples = [
        FeedbackExample(
            q,
            f"{q}-{d}",
            {name: float(rng.random()) * (name in VARYING) for name in NAMES},
            int(rng.random() < 0.5),
        )
        for q in range(n_queries)
        for d in range(10)
    ]
    model = fit_weights(examples, defaults=defaults)
    if model is None:
        n_pos = sum(e.label for e in examples)
        assert min(n_pos, len(examples) - n_pos) < MIN_PER_CLASS
        return
    assert all(getattr(model.weights, n) >= 0 for n in NAMES)
    assert weight_sum(model.weights) == pytest.approx(weight_sum(defaults))
    assert model.effective_weights in (model.weights, defaults)


def test_example_weights_matter() -> None:
    # Labels follow budget in orders 0-14 and district in orders 15-29; weighting the first half up favours budget.
    rng = np.random.default_rng(5)
    examples = []
    for q in range(30):
        driver = "budget" if q < 15 else "district"
        for d in range(12):
            features = {name: float(rng.random()) if name in VARYING else 0.0 for name in NAMES}
            label = int(features[driver] > 0.5)
            examples.append(FeedbackExample(q, f"{q}-{d}", features, label, weight=5.0 if q < 15 else 1.0))
    model = fit_weights(examples)
    assert model is not None
    assert model.weights.budget > model.weights.district


# ------------------------------------------------------------------------------------------------ persistence


def test_json_round_trip() -> None:
    model = fit_weights(synthetic(6, signal="budget"), now=datetime(2024, 6, 1, tzinfo=UTC))
    assert model is not None
    data = json.loads(json.dumps(model.to_json()))
    assert data["format"] == FORMAT_VERSION
    back = FeedbackModel.from_json(data)
    assert back == model
    assert back.effective_weights == model.effective_weights


def test_json_round_trip_of_an_unmeasured_model() -> None:
    examples = [FeedbackExample(q, f"{q}-{d}", dict.fromkeys(NAMES, 0.5), d % 2) for q in range(6) for d in range(10)]
    model = fit_weights(examples)
    assert model is not None and model.auc_default is None and model.fitted_at is None
    assert FeedbackModel.from_json(json.loads(json.dumps(model.to_json()))) == model


def test_json_of_an_older_feature_list_loads_with_current_defaults() -> None:
    model = fit_weights(synthetic(7, signal="budget"))
    assert model is not None
    data = model.to_json()
    del data["weights"]["dense"]
    data["weights"]["retired_feature"] = 0.4
    back = FeedbackModel.from_json(data)
    assert back.weights.dense == Weights().dense
    assert back.weights.budget == model.weights.budget


def test_json_of_another_format_is_refused() -> None:
    model = fit_weights(synthetic(8, signal="budget"))
    assert model is not None
    data = model.to_json()
    data["format"] = "qianfan-feedback/0"
    with pytest.raises(ValueError, match="format"):
        FeedbackModel.from_json(data)
