"""Killing a process tree: every descendant dies, and a zombie counts as dead."""

from __future__ import annotations

import subprocess
import sys
import time

import psutil
import pytest

from fashion_lessons.sandbox.processes import KILL_WAIT_S, kill_tree

# `chain.py DEPTH`: starts a chain of DEPTH descendants, prints their ids (child first)
# and sleeps, never waiting for its child.
CHAIN = """\
import subprocess, sys, time
depth = int(sys.argv[1])
ids = []
if depth:
    child = subprocess.Popen(
        [sys.executable, __file__, str(depth - 1)], stdout=subprocess.PIPE, text=True
    )
    ids = [str(child.pid), *child.stdout.readline().split()]
print(" ".join(ids), flush=True)
time.sleep(600)
"""


@pytest.fixture
def chain(tmp_path):
    """Start a chain of processes; yield (the first one's id, its descendants' ids)."""
    script = tmp_path / "chain.py"
    script.write_text(CHAIN, encoding="utf-8")
    started = []

    def start(depth: int) -> tuple[int, list[int]]:
        first = subprocess.Popen(
            [sys.executable, str(script), str(depth)], stdout=subprocess.PIPE, text=True
        )
        started.append(first)
        return first.pid, [int(pid) for pid in first.stdout.readline().split()]

    yield start
    for first in started:
        kill_tree(first.pid)
        first.wait()
        first.stdout.close()


def _is_dead(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_kill_tree_kills_the_process_and_every_descendant(chain):
    first, descendants = chain(2)
    pids = [first, *descendants]
    assert len(pids) == 3 and not any(map(_is_dead, pids))
    kill_tree(first)
    assert all(map(_is_dead, pids))


def test_kill_tree_does_not_wait_for_a_zombie_to_be_reaped(chain):
    """A killed process whose parent never reaps it stays a zombie: it is dead all the same."""
    _, (child,) = chain(1)
    started = time.monotonic()
    kill_tree(child)
    elapsed = time.monotonic() - started
    assert psutil.Process(child).status() == psutil.STATUS_ZOMBIE  # killed, not reaped
    assert elapsed < KILL_WAIT_S / 2, f"kill_tree waited {elapsed:.1f} s for the zombie"
