"""scale_images: values, dtype, no side effects, and every kind of bad input."""

from __future__ import annotations

import numpy as np
import pytest

from fashion_lessons.preprocess import scale_images


def test_scales_to_unit_range_as_float32(fashion):
    images = fashion[1][0][:500]
    before = images.copy()
    scaled = scale_images(images)
    assert scaled.dtype == np.float32 and scaled.shape == images.shape
    assert scaled.min() == 0.0 and scaled.max() == 1.0
    np.testing.assert_allclose(scaled, images / 255.0, rtol=1e-6)
    assert np.array_equal(images, before)


def test_single_image_and_lists_are_accepted():
    image = np.full((28, 28), 51, dtype=np.uint8)
    assert scale_images(image).shape == (28, 28)
    np.testing.assert_allclose(scale_images(image.tolist()), 0.2, rtol=1e-6)


def test_already_float_input_in_range_is_accepted():
    images = np.linspace(0, 255, 2 * 28 * 28).reshape(2, 28, 28)
    assert scale_images(images).max() == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("bad", "error", "found"),
    [
        (np.zeros((5, 784), dtype=np.uint8), ValueError, "(5, 784)"),
        (np.zeros((2, 28, 28, 1), dtype=np.uint8), ValueError, "(2, 28, 28, 1)"),
        (np.zeros((28,), dtype=np.uint8), ValueError, "(28,)"),
        (np.full((1, 28, 28), 256.0), ValueError, "256"),
        (np.full((1, 28, 28), -1, dtype=np.int16), ValueError, "-1"),
        (np.full((1, 28, 28), np.nan), ValueError, "NaN"),
        (np.full((1, 28, 28), "a"), TypeError, "<U1"),
        (np.zeros((1, 28, 28), dtype=bool), TypeError, "bool"),
        (np.zeros((1, 28, 28), dtype=object), TypeError, "object"),
    ],
    ids=["flat", "channel-axis", "1d", "above-255", "negative", "nan", "strings", "bool", "object"],
)
def test_bad_input_says_what_was_expected_and_found(bad, error, found):
    with pytest.raises(error, match="expected") as raised:
        scale_images(bad)
    assert found in str(raised.value)
