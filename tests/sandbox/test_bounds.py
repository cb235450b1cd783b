"""Whole-submission bounds of a zygote's kernels, and what a kernel can read of the grader.

Each test runs hostile code in a real sandboxed kernel and prints how far it got before a
bound stopped it (run with ``-s`` to see the figures). The bounds are held by cgroups on
a machine that lets the grader create them, and by the watchdog everywhere (forced with
``FASHION_LESSONS_BOUNDS=watchdog``).
"""

from __future__ import annotations

import contextlib
import shutil
import threading

import pytest
from helpers import WITHOUT_TENSORFLOW, forked_kernel

from fashion_lessons.sandbox.bounds import Bounds
from fashion_lessons.sandbox.enclosures import mechanism

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap not installed")

MIB = 2**20
BOUNDS = Bounds(memory_bytes=300 * MIB, processes=64, folder_bytes=8 * MIB, shm_bytes=4 * MIB)
SECRET = "grader-secret-7f3a9c"


@pytest.fixture(scope="module", params=["cgroup", "watchdog"])
def zygote(request, tmp_path_factory):
    """A bounded zygote under each mechanism; the grader's environment holds a secret."""
    from fashion_lessons.sandbox import Limits
    from fashion_lessons.sandbox.zygote import Zygote

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FL_TEST_SECRET", SECRET)
        if request.param == "watchdog":
            patch.setenv("FASHION_LESSONS_BOUNDS", "watchdog")
        elif not mechanism().startswith("cgroup"):
            pytest.skip("this machine does not let the grader create cgroups")
        log = tmp_path_factory.mktemp("zygote") / "zygote.log"
        zygote = Zygote(Limits(memory_bytes=3 * 2**30), log, BOUNDS, preload=WITHOUT_TENSORFLOW)
        zygote.wait_ready()
        yield zygote
        zygote.close()


@contextlib.contextmanager
def bounded_kernel(zygote, tmp_path):
    """One submission's kernel: armed before, yields ``(run, enclosure)``."""

    def arm() -> None:
        zygote.make_idle()
        zygote.enclosure.arm()

    files = {"handed-in.txt": "the student's own file\n"}
    with forked_kernel(zygote, tmp_path, files, before=arm) as (run, manager):

        def run_or_die(code: str) -> tuple[str, str]:
            """``run(code)``, or ("died", "") as soon as the kernel is killed."""
            answer: list = []
            thread = threading.Thread(target=lambda: answer.append(run(code)), daemon=True)
            thread.start()
            while thread.is_alive() and manager.is_alive():
                thread.join(0.2)
            return answer[0] if answer else ("died", "")

        yield run_or_die, zygote.enclosure


def _figure(text: str) -> None:
    print(f"\nFIGURE {text}")


def test_the_submission_folder_is_a_copy_in_a_sized_tmpfs(zygote, tmp_path):
    with bounded_kernel(zygote, tmp_path) as (run, _):
        status, text = run("print(open('handed-in.txt').read(), end='')")
    assert (status, text) == ("ok", "the student's own file\n")


FILL = r"""
def fill(path):
    written = 0
    try:
        with open(path, 'wb') as stream:
            while True:
                stream.write(b'x' * 65536)
                stream.flush()
                written += 65536
    except OSError as error:
        return written, error.strerror
for place in ('big', '/dev/shm/big', '/dev/big'):
    print(place, *fill(place), sep='|')
"""


def test_bytes_written_stop_at_each_places_bound(zygote, tmp_path):
    with bounded_kernel(zygote, tmp_path) as (run, enclosure):
        status, text = run(FILL)
        assert status == "ok", text
        # the next cell's output is its own, with the folder still full
        assert run("print('next')") == ("ok", "next\n")
        reason = enclosure.breach()  # asked as the grader asks: when the notebook has run
    lines = [line.split("|") for line in text.splitlines() if "|" in line]
    written = {line[0]: line[1:] for line in lines}
    assert int(written["big"][0]) <= BOUNDS.folder_bytes
    assert written["big"][1] == "No space left on device"
    assert int(written["/dev/shm/big"][0]) <= BOUNDS.shm_bytes
    assert written["/dev/shm/big"][1] == "No space left on device"
    assert written["/dev/big"] == ["0", "Read-only file system"]
    assert "filled /dev/shm (bound of 4 MiB" in reason and "bound of 8 MiB" in reason
    _figure(
        f"{enclosure.kind}: wrote {int(written['big'][0]) / MIB:.1f} MiB in its folder "
        f"(bound 8), {int(written['/dev/shm/big'][0]) / MIB:.1f} MiB in /dev/shm (bound 4), "
        "0 in /dev"
    )
    with bounded_kernel(zygote, tmp_path) as (run, _):  # the next student starts empty
        assert run("import os; print(sorted(os.listdir('.')), os.listdir('/dev/shm'))") == (
            "ok",
            "['.ipython', 'handed-in.txt'] []\n",
        )


MEMORY = r"""
import subprocess, sys
child = (
    "open('/proc/self/oom_score_adj', 'w').write('1000')\n"
    "held = []\n"
    "while True:\n"
    "    held.append(bytearray(16 * 2**20))\n"
    "    print(len(held) * 16, flush=True)\n"
)
children = [
    subprocess.Popen([sys.executable, '-c', child], stdout=subprocess.PIPE, text=True)
    for _ in range(3)
]
for process in children:
    lines = process.stdout.read().split()
    process.wait()
    print(process.returncode, lines[-1] if lines else 0)
"""


def test_memory_of_all_processes_together_is_bounded(zygote, tmp_path):
    """Three processes, each far below the per-process cap, together meet the bound."""
    with bounded_kernel(zygote, tmp_path) as (run, enclosure):
        folder = getattr(enclosure, "folders", {}).get("memory")
        if folder is not None and (folder / "memory.max_usage_in_bytes").exists():
            baseline = int((folder / "memory.usage_in_bytes").read_text())
            (folder / "memory.max_usage_in_bytes").write_text("0")  # reset the peak
        status, text = run(MEMORY)
        peak = None
        if folder is not None and (folder / "memory.max_usage_in_bytes").exists():
            peak = int((folder / "memory.max_usage_in_bytes").read_text())
    reason = enclosure.breach()
    assert reason is not None and "memory bound" in reason and "300 MiB" in reason
    if status == "ok":  # the watchdog may have stopped the kernel itself
        results = [line.split() for line in text.splitlines()]
        assert all(code == "-9" for code, _ in results), text
        each = [int(mb) for _, mb in results]
        assert max(each) <= 300
        _figure(f"{enclosure.kind}: three children had allocated {each} MiB when killed")
    if peak is not None:
        _figure(
            f"{enclosure.kind}: peak usage {(peak - baseline) / MIB:.0f} MiB above the idle "
            f"zygote; kernel status {status}; children {text.split()}"
        )
    else:
        _figure(
            f"{enclosure.kind}: the watchdog saw at most "
            f"{enclosure.peak['memory_bytes'] / MIB:.0f} MiB above the idle zygote"
        )


# Holds what it started for a second, as a fork bomb would: on a loaded machine a burst
# that ends as soon as it peaks can fall between two of the watchdog's looks.
SPAWN = r"""
import subprocess, time
started = []
try:
    for _ in range(400):
        started.append(subprocess.Popen(['sleep', '60']))
except OSError as error:
    print('refused', len(started), error.errno)
time.sleep(1)
for process in started:
    process.kill()
"""


def test_process_count_is_bounded(zygote, tmp_path):
    with bounded_kernel(zygote, tmp_path) as (run, enclosure):
        status, text = run(SPAWN)
    reason = enclosure.breach()
    seen = (status, text, enclosure.peak["processes"])
    assert reason is not None and "process bound" in reason and "64" in reason, seen
    if enclosure.kind.startswith("cgroup"):
        assert status == "ok" and text.startswith("refused"), text
        started = int(text.split()[1])
        assert started <= 64
        _figure(f"{enclosure.kind}: {started} processes started, then fork refused")
    else:
        _figure(
            f"watchdog: saw {enclosure.peak['processes']} processes at most, then killed them all"
        )


PROC = r"""
import os
seen = []
for entry in os.listdir('/proc'):
    if not entry.isdigit() or int(entry) == os.getpid():
        continue
    for name in ('environ', 'cmdline', 'cwd', 'root', 'mem'):
        path = f'/proc/{entry}/{name}'
        try:
            if name in ('cwd', 'root'):
                seen.append((entry, name, os.readlink(path)))
            else:
                seen.append((entry, name, open(path, 'rb').read(4096).decode('latin-1')))
        except OSError as error:
            seen.append((entry, name, type(error).__name__))
print(repr(seen))
"""


def test_nothing_of_the_grader_is_readable_through_proc(zygote, tmp_path):
    import ast

    with bounded_kernel(zygote, tmp_path) as (run, _):
        status, text = run(PROC)
    assert status == "ok", text
    seen = ast.literal_eval(text)
    pids = {pid for pid, _, _ in seen}
    # Only the sandbox's PID namespace is visible: bwrap (1), the zygote (2), this kernel.
    assert "1" in pids and len(pids) <= 4, pids
    everything = "\n".join(value for _, _, value in seen)
    assert SECRET not in everything  # no environment of the grader
    assert str(tmp_path) not in everything  # no grader's folder (this test's)
    readable = {(pid, name) for pid, name, value in seen if value != "PermissionError"}
    assert ("2", "environ") not in readable and ("2", "cwd") not in readable  # the zygote
    bwrap_environ = [value for pid, name, value in seen if (pid, name) == ("1", "environ")]
    assert bwrap_environ in ([""], ["PermissionError"])
    bwrap_cmdline = [value for pid, name, value in seen if (pid, name) == ("1", "cmdline")]
    assert "--bind" not in bwrap_cmdline[0] and "--args" in bwrap_cmdline[0]
    _figure(f"/proc routes: {len(seen)} reads over pids {sorted(pids)}, none with the secret")
