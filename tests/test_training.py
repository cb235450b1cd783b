"""Seeded training on a real subset, and history summaries."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from fashion_lessons.models import build_model
from fashion_lessons.preprocess import scale_images
from fashion_lessons.training import (
    accuracy_gap,
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


@pytest.mark.parametrize("fit", [train, train_fast], ids=["train", "train_fast"])
@pytest.mark.parametrize(
    "count, arguments, message",
    [
        (10, {"epochs": 0}, "epochs must be at least 1"),
        (10, {"epochs": 1, "batch_size": 0}, "batch_size must be at least 1"),
        (0, {"epochs": 1}, "no images"),
    ],
    ids=["no epochs", "empty batches", "no images"],
)
def test_counts_that_train_nothing_are_rejected(subset, fit, count, arguments, message):
    (x, y), _ = subset
    model = build_model()
    weights = [w.copy() for w in model.get_weights()]
    with pytest.raises(ValueError, match=message):
        fit(model, x[:count], y[:count], verbose=0, **arguments)
    assert all(np.array_equal(a, b) for a, b in zip(weights, model.get_weights(), strict=True))


class _RecordingModel(keras.Sequential):
    """Records the images of every training batch (run eagerly, so they are NumPy)."""

    seen: list

    def train_step(self, data):
        self.seen.append(np.asarray(data[0])[:, 0, 0].round(6).tolist())
        return super().train_step(data)


def _batch_orders(seed: int, epochs: int = 3) -> list[list[list[float]]]:
    """The batches (as image ids) that ``train`` feeds in each epoch, after ``set_seed``."""
    ids = np.arange(64, dtype=np.float32) / 64
    images = np.repeat(ids[:, None, None], 28, axis=1).repeat(28, axis=2)
    labels = np.arange(64) % 10
    set_seed(seed)
    model = _RecordingModel(
        [keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(10, "softmax")]
    )
    model.seen = []
    model.compile(loss="sparse_categorical_crossentropy", run_eagerly=True)
    train(model, images, labels, epochs=epochs, batch_size=16, verbose=0, seed=seed)
    per_epoch = len(model.seen) // epochs
    return [model.seen[i * per_epoch : (i + 1) * per_epoch] for i in range(epochs)]


def test_every_epoch_sees_a_new_order_and_one_seed_repeats_it():
    first, second, third = _batch_orders(seed=0)
    assert sorted(sum(first, [])) == sorted(sum(second, []))  # every image, once per epoch
    assert first != second and second != third, "train() replayed one batch order"
    assert _batch_orders(seed=0) == [first, second, third]
    assert _batch_orders(seed=1)[0] != first


HISTORY = {
    "accuracy": [0.80, 0.85, 0.90, 0.93],
    "val_accuracy": [0.82, 0.86, 0.86, 0.85],
    "loss": [0.5, 0.4, 0.3, 0.2],
    "val_loss": [0.45, 0.40, 0.40, 0.42],
}


def test_gap_best_epoch_and_summary_from_a_dict():
    assert overfitting_gap(HISTORY) == pytest.approx(0.08)
    assert best_epoch(HISTORY) == 2  # lowest validation loss, first of the tied minima
    summary = summarize_history(HISTORY)
    assert summary.epochs == 4
    assert summary.final_train_accuracy == pytest.approx(0.93)
    assert summary.final_val_accuracy == pytest.approx(0.85)
    assert summary.best_val_accuracy == pytest.approx(0.86)
    assert summary.best_val_loss == pytest.approx(0.40)
    assert summary.final_val_loss == pytest.approx(0.42)
    assert summary.gap == pytest.approx(0.08)


def test_history_object_and_dict_agree(subset):
    history = _run(subset, seed=1)
    assert overfitting_gap(history) == pytest.approx(overfitting_gap(history.history))
    assert best_epoch(history) == int(np.argmin(history.history["val_loss"])) + 1


def test_accuracy_gap_measures_both_sides_with_evaluate(subset):
    (x, y), (x_val, y_val) = subset
    set_seed(0)
    model = build_model(dropout_rate=0.5)
    train(model, x[:1000], y[:1000], epochs=3, verbose=0)
    predicted_train = model.predict(x[:1000], verbose=0).argmax(axis=1)
    predicted_val = model.predict(x_val, verbose=0).argmax(axis=1)
    expected = (predicted_train == y[:1000]).mean() - (predicted_val == y_val).mean()
    gap = accuracy_gap(model, (x[:1000], y[:1000]), (x_val, y_val))
    assert gap == pytest.approx(expected, abs=1e-6)
    assert gap > 0  # 1,000 images, 3 epochs: it already does better on its own images


def test_history_without_validation_is_a_clear_error():
    with pytest.raises(ValueError, match="val_accuracy"):
        overfitting_gap({"accuracy": [0.9]})
    with pytest.raises(ValueError, match="val_loss"):
        best_epoch({"accuracy": [0.9], "val_accuracy": [0.8]})
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
