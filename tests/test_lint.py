"""The code base stays ruff-clean (lint and format)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from helpers import REPO

RUFF = Path(sys.executable).parent / "ruff"
PATHS = ["fashion_lessons", "tests", "benchmarks", "nbgrader_config.py"]


def test_ruff_lint():
    result = subprocess.run([str(RUFF), "check", *PATHS], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:]


def test_ruff_format():
    result = subprocess.run(
        [str(RUFF), "format", "--check", *PATHS], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout[-3000:]
