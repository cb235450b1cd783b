"""The stacked path: many runs in one computation, each one the Keras model's arithmetic."""

from __future__ import annotations

import numpy as np
import pytest

from fashion_lessons.models import build_model
from fashion_lessons.preprocess import scale_images
from fashion_lessons.stacked import _Stack, train_stacked


@pytest.fixture(scope="module")
def images(fashion):
    """2,000 scaled training images and their labels."""
    (x_train, y_train), _ = fashion
    return scale_images(x_train[:2000]), y_train[:2000].astype(np.int32)


def test_three_stacked_steps_are_three_steps_of_keras_adam(images):
    import keras

    x, y = images
    stack = _Stack.start([0, 1], [0.0, 0.0], 128, 0.001, x, y)
    model = build_model()
    kernel, bias, out_kernel, out_bias = stack.snapshot()
    model.set_weights([kernel[1], bias[1, 0], out_kernel[1], out_bias[1, 0]])  # run 1's start
    model.compile(keras.optimizers.Adam(0.001), "sparse_categorical_crossentropy")
    for step in range(3):
        order = np.stack([np.arange(64) + 64 * step, np.arange(64) + 64 * step + 1000])
        stack.train_step(order, stack.masks(64))
        model.train_on_batch(x[order[1]], y[order[1]])
    kernel, bias, out_kernel, out_bias = stack.snapshot()
    expected = model.get_weights()
    np.testing.assert_allclose(kernel[1], expected[0], atol=2e-6)
    np.testing.assert_allclose(bias[1, 0], expected[1], atol=2e-6)
    np.testing.assert_allclose(out_kernel[1], expected[2], atol=2e-6)
    np.testing.assert_allclose(out_bias[1, 0], expected[3], atol=2e-6)
    assert not np.allclose(kernel[0], kernel[1]), "run 0 trained on other images"


def test_dropout_masks_are_inverted_and_drawn_per_run(images):
    x, y = images
    stack = _Stack.start([0, 0, 1], [0.0, 0.5, 0.5], 128, 0.001, x, y)
    masks = stack.masks(256)
    assert masks.shape == (3, 256, 128)
    assert set(np.unique(masks[0])) == {1.0}
    assert set(np.unique(masks[1])) == {0.0, 2.0}  # kept units scaled by 1 / (1 - 0.5)
    assert 0.45 < (masks[1] == 0).mean() < 0.55
    assert not np.array_equal(masks[1], masks[2]), "another seed, other masks"


def test_each_epoch_reshuffles_and_a_seed_repeats_its_orders(images):
    x, y = images
    first, second = (_Stack.start([3], [0.0], 16, 0.001, x, y) for _ in range(2))
    one, two = first.order(2000), first.order(2000)
    assert not np.array_equal(one, two), "two epochs, two orders"
    assert sorted(one[0]) == list(range(2000))
    np.testing.assert_array_equal(one, second.order(2000))
    np.testing.assert_array_equal(two, second.order(2000))


def test_each_run_stops_on_its_own_and_keeps_its_best_weights(images, fashion):
    x, y = images
    validation = (x[1000:], y[1000:])
    runs = train_stacked(
        [0, 1],
        [0.0, 0.5],
        x[:300],
        y[:300],
        validation,
        [validation],
        epochs=40,
        batch_size=32,
        patience=2,
    )
    for run in runs:
        losses = run.history["val_loss"]
        best = int(np.argmin(losses))
        assert len(losses) == best + 3 < 40, "stopped two epochs after its best"
        assert run.accuracies[0] == pytest.approx(run.history["val_accuracy"][best], abs=1e-6)
        assert set(run.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert runs[0].history != runs[1].history


@pytest.mark.parametrize(
    ("seeds", "rates", "x", "message"),
    [
        ([0, 1], [0.0], None, "one dropout rate per seed"),
        ([0], [1.0], None, r"\[0, 1\)"),
        ([0], [0.0], np.zeros((10, 28, 28), np.uint8), "scaled images"),
    ],
)
def test_bad_settings_get_a_clear_error(images, seeds, rates, x, message):
    train_x, train_y = images
    x = train_x[:10] if x is None else x
    with pytest.raises(ValueError, match=message):
        train_stacked(seeds, rates, x, train_y[:10], (train_x[:10], train_y[:10]), epochs=1)


def test_a_run_does_not_depend_on_its_companions(images):
    x, y = images
    together = _Stack.start([0, 1], [0.5, 0.2], 128, 0.001, x, y)
    alone = _Stack.start([1], [0.2], 128, 0.001, x, y)
    for _ in range(3):
        for stack in (together, alone):
            stack.train_step(stack.order(2000)[:, :64], stack.masks(64))
    for mine, theirs in zip(alone.snapshot(), together.snapshot()):
        np.testing.assert_allclose(mine[0], theirs[1], atol=1e-5)
