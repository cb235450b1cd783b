"""The test-suite benchmark counts the CPU of every process a command starts."""

from __future__ import annotations

import importlib.util
import sys

import pytest
from helpers import REPO

# A child that starts a grandchild and exits at once: the grandchild, orphaned, burns
# about half a second of CPU after its parent has gone, as the suite's daemons do.
ORPHAN = (
    "import os, time\n"
    "if os.fork() == 0:\n"
    "    end = time.process_time() + 0.5\n"
    "    while time.process_time() < end:\n"
    "        pass\n"
    "    os._exit(0)\n"
)


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_run", REPO / "benchmarks" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_cpu_of_an_orphaned_grandchild_is_counted(bench):
    returncode, wall, cpu, counted = bench._run_counting_cpu([sys.executable, "-c", ORPHAN])
    assert returncode == 0 and wall > 0
    if counted != "cgroup":
        pytest.skip("no cgroup v1 cpuacct group can be made here: only waited-for children count")
    assert cpu >= 0.45, f"counted {cpu:.2f} CPU-s, the orphan alone burns 0.5"


def test_the_calibration_is_a_positive_cpu_time(bench):
    assert 0 < bench._calibration_s() < 60
