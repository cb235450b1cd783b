"""Shared fixtures: the real dataset, folders holding copies of it to damage, and a
runner for sandboxed kernels."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

import pytest

# TensorFlow's C++ info lines are noise in test logs.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parent.parent


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


@contextlib.contextmanager
def started_kernel(data: Path, runtime: Path, name: str, cwd: Path):
    """Start the kernel of a kernelspec written by ``install_kernelspec``.

    Yields
    ------
    (run, manager)
        ``run(code)`` executes code and returns the reply status with the text (or error
        name) printed; ``manager`` is the kernel's ``KernelManager``.
    """
    from fashion_lessons.sandbox import kernel_manager

    manager = kernel_manager(data, runtime, name)
    manager.start_kernel(cwd=str(cwd))
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)

    def run(code: str) -> tuple[str, str]:
        pieces = []

        def collect(message):
            content = message["content"]
            pieces.append(content.get("text") or content.get("ename") or "")

        reply = client.execute_interactive(code, timeout=60, output_hook=collect)
        return reply["content"]["status"], "".join(pieces)

    try:
        yield run, manager
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
