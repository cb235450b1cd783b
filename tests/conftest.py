"""Shared fixtures: the real dataset and folders holding copies of it to damage.

Plain helpers (the repository path, hand-ins, the CLI, kernels) are in ``helpers.py``."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# TensorFlow's C++ info lines are noise in test logs.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The folder the package finds the real data in (Debian's package in CI)."""
    from fashion_lessons.data import find_data

    return find_data(download=False).directory


@pytest.fixture(scope="session")
def fashion(real_data_dir):
    """The real dataset, loaded once: ((x_train, y_train), (x_test, y_test))."""
    from fashion_lessons.data import load_data

    return load_data(real_data_dir, download=False)


@pytest.fixture
def data_copy(tmp_path, real_data_dir) -> Path:
    """A writable copy of the four real .gz files."""
    target = tmp_path / "fashion-mnist"
    target.mkdir()
    for file in real_data_dir.iterdir():
        shutil.copy(file, target / file.name)
    return target
