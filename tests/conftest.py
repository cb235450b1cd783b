"""Shared fixtures: the real dataset, folders holding copies of it to damage, and Chromium.

Plain helpers (the repository path, hand-ins, the CLI, kernels) are in ``helpers.py``."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from fashion_lessons.sandbox.bubblewrap import TENSORFLOW_THREADS

# TensorFlow's C++ info lines are noise in test logs.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# `make test` runs more pytest workers than cores: TensorFlow's default pools, a thread per
# core in each process, would only compete for the same cores (as in the sandbox's kernels).
for _name, _value in TENSORFLOW_THREADS.items():
    os.environ.setdefault(_name, _value)

pytest_plugins = ["file_order"]


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


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, driven by Playwright: one per pytest process, since a
    second Playwright cannot start while the first one's event loop runs."""
    from helpers import CHROMIUM

    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: apt-get install chromium (make install does it as root)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()
