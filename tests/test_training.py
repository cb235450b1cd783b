"""Seeded training on a real subset, and history summaries."""

from __future__ import annotations

import numpy as np
import pytest

from fashion_lessons.models import build_model
from fashion_lessons.preprocess import scale_images
from fashion_lessons.training import (
    best_epoch,
    history_dict,
    overfitting_gap,
    scaled_learning_rate,
    set_seed,
    summarize_history,
    train,
    train_fast,
)


@pytest.fixture(scope="module")
def subset(fashion):
    (x_train, y_train), (x_test, y_test) = fashion
    return (scale_images(x_train[:4000]), y_train[:4000]), (
        scale_images(x_test[:2000]),
        y_test[:2000],
    )


def _run(subset, seed):
    (x, y), validation = subset
    set_seed(seed)
    return train(build_model(), x, y, epochs=2, validation_data=validation, verbose=0)


def test_short_training_clears_an_accuracy_floor_and_is_seeded(subset):
    history = _run(subset, seed=0)
    metrics = history_dict(history)
    assert len(metrics["accuracy"]) == 2
    # 4,000 images, 2 epochs: chance is 0.10; this model reaches about 0.78.
    assert metrics["val_accuracy"][-1] > 0.70
    assert metrics["accuracy"][-1] > metrics["accuracy"][0]
    again = history_dict(_run(subset, seed=0))
    assert again["val_accuracy"] == pytest.approx(metrics["val_accuracy"], abs=1e-6)


def test_mismatched_lengths_are_rejected(subset):
    (x, y), _ = subset
    with pytest.raises(ValueError, match="differ in length"):
        train(build_model(), x[:10], y[:9], epochs=1, verbose=0)


HISTORY = {
    "accuracy": [0.80, 0.85, 0.90, 0.93],
    "val_accuracy": [0.82, 0.86, 0.86, 0.85],
    "loss": [0.5, 0.4, 0.3, 0.2],
}


def test_gap_best_epoch_and_summary_from_a_dict():
    assert overfitting_gap(HISTORY) == pytest.approx(0.08)
    assert best_epoch(HISTORY) == 2  # first of the tied maxima
    summary = summarize_history(HISTORY)
    assert summary.epochs == 4
    assert summary.final_train_accuracy == pytest.approx(0.93)
    assert summary.final_val_accuracy == pytest.approx(0.85)
    assert summary.best_val_accuracy == pytest.approx(0.86)
    assert summary.gap == pytest.approx(0.08)


def test_history_object_and_dict_agree(subset):
    history = _run(subset, seed=1)
    assert overfitting_gap(history) == pytest.approx(overfitting_gap(history.history))
    assert best_epoch(history) == int(np.argmax(history.history["val_accuracy"])) + 1


def test_history_without_validation_is_a_clear_error():
    with pytest.raises(ValueError, match="val_accuracy"):
        overfitting_gap({"accuracy": [0.9]})
    with pytest.raises(TypeError, match="History"):
        overfitting_gap([0.9, 0.8])


def test_fast_path_learns_repeatably_with_a_scaled_learning_rate(subset):
    (x, y), validation = subset

    def run():
        set_seed(0)
        model = build_model()
        history = train_fast(model, x, y, epochs=3, validation_data=validation, verbose=0)
        return model, history_dict(history)

    model, metrics = run()
    assert len(metrics["accuracy"]) == 3
    assert metrics["val_accuracy"][-1] > 0.70
    assert float(model.optimizer.learning_rate) == pytest.approx(scaled_learning_rate(256))
    assert run()[1]["val_accuracy"] == pytest.approx(metrics["val_accuracy"], abs=1e-6)


def test_learning_rate_scales_with_the_square_root_of_the_batch():
    assert scaled_learning_rate(32) == pytest.approx(0.001)
    assert scaled_learning_rate(128) == pytest.approx(0.002)
    assert scaled_learning_rate(512) == pytest.approx(0.004)
