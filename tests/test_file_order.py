"""The test-order plugin (``file_order.py``): longest files first after a first run."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

FILES = {
    "test_a_quick.py": "def test_one():\n    pass\n\ndef test_two():\n    pass\n",
    "test_b_slow.py": "import time\n\ndef test_one():\n    time.sleep(0.6)\n\n"
    "def test_two():\n    pass\n",
    "test_c_middle.py": "import time\n\ndef test_one():\n    time.sleep(0.3)\n",
}


def _collected(pytester: pytest.Pytester) -> list[str]:
    run = pytester.runpytest_subprocess("-p", "file_order", "--collect-only", "-q")
    return [line for line in run.outlines if "::" in line]


def test_files_run_longest_first_after_a_run_and_keep_their_tests_order(pytester, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).parent))  # where file_order.py is
    pytester.makepyfile(**{name.removesuffix(".py"): text for name, text in FILES.items()})
    files = [line.split("::")[0] for line in _collected(pytester)]
    assert files == sorted(files) and len(files) == 5  # no record yet: pytest's own order
    pytester.runpytest_subprocess("-p", "file_order").assert_outcomes(passed=5)
    assert _collected(pytester) == [
        "test_b_slow.py::test_one",
        "test_b_slow.py::test_two",
        "test_c_middle.py::test_one",
        "test_a_quick.py::test_one",
        "test_a_quick.py::test_two",
    ]
