"""Turn raw Fashion-MNIST pixels into network inputs."""

from __future__ import annotations

import numpy as np

IMAGE_SHAPE = (28, 28)


def validate_images(images) -> np.ndarray:
    """Check that ``images`` are Fashion-MNIST pixels and return them as an array.

    Parameters
    ----------
    images : (n, 28, 28) or (28, 28) array-like of numbers in 0–255

    Returns
    -------
    ndarray
        The same values, as an array (not copied when already one).

    Raises
    ------
    TypeError
        If the values are not real numbers.
    ValueError
        If the shape is not (n, 28, 28) or (28, 28), or a value lies outside 0–255.
    """
    array = np.asarray(images)
    if array.dtype == bool or not (
        np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)
    ):
        raise TypeError(
            f"expected images of integer or float pixel values, found dtype {array.dtype}"
        )
    if array.shape[-2:] != IMAGE_SHAPE or array.ndim not in (2, 3):
        raise ValueError(
            f"expected images of shape (n, 28, 28) or (28, 28), found shape {array.shape}"
        )
    if array.size:
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            raise ValueError("expected finite pixel values in 0–255, found NaN or infinity")
        low, high = array.min(), array.max()
        if low < 0 or high > 255:
            raise ValueError(f"expected pixel values in 0–255, found values from {low} to {high}")
    return array


def scale_images(images) -> np.ndarray:
    """Scale pixel values from 0–255 to 0–1.

    Parameters
    ----------
    images : (n, 28, 28) or (28, 28) array-like of numbers in 0–255
        Usually uint8 pixels as loaded by :func:`fashion_lessons.data.load_data`.

    Returns
    -------
    ndarray of float32, same shape
        ``images / 255``; the input is left unchanged.

    Raises
    ------
    TypeError, ValueError
        See :func:`validate_images`.
    """
    array = validate_images(images)
    return array.astype(np.float32) / np.float32(255)
