"""Kernels forked from a sandboxed zygote: fast, and nothing shared between students."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys

import psutil
import pytest
from helpers import WITHOUT_TENSORFLOW, forked_kernel

from fashion_lessons.grading.settings import STDERR_NOISE_PATTERN

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap not installed")


def _started_zygote(tmp_path_factory, **options):
    from fashion_lessons.sandbox import Limits
    from fashion_lessons.sandbox.zygote import Zygote

    log = tmp_path_factory.mktemp("zygote") / "zygote.log"
    zygote = Zygote(Limits(memory_bytes=3 * 2**30), log, **options)
    zygote.wait_ready()
    return zygote


@pytest.fixture(scope="module")
def warm_zygote(tmp_path_factory):
    zygote = _started_zygote(tmp_path_factory)
    yield zygote
    zygote.close()


@pytest.fixture(scope="module")
def light_zygote(tmp_path_factory):
    """A zygote without TensorFlow, for the tests that kill it: each replacement imports
    its preloads again."""
    zygote = _started_zygote(tmp_path_factory, preload=WITHOUT_TENSORFLOW)
    yield zygote
    zygote.close()


def _idle(zygote):
    """``zygote`` made idle, as between two submissions; tests count its restarts from here."""
    zygote.make_idle()
    zygote.wait_ready()
    return zygote


@pytest.fixture
def zygote(warm_zygote):
    """The module's zygote, idle: one TensorFlow import for the whole file."""
    return _idle(warm_zygote)


@pytest.fixture
def killable_zygote(light_zygote):
    """``zygote`` for the tests that kill it."""
    return _idle(light_zygote)


def test_kernels_start_with_tensorflow_imported_and_train(zygote, tmp_path):
    with forked_kernel(zygote, tmp_path) as (run, _):
        assert run("import sys; print('tensorflow' in sys.modules)") == ("ok", "True\n")
        status, text = run(
            "import keras, numpy as np\n"
            "model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])\n"
            "model.compile('sgd', 'mse')\n"
            "history = model.fit(np.ones((32, 4)), np.zeros(32), epochs=2, verbose=0)\n"
            "print(len(history.history['loss']))"
        )
        # Plain tensorflow logs its failed CUDA probe (absl lines) at first use: not output.
        assert (status, re.sub(STDERR_NOISE_PATTERN + r".*\n", "", text)) == ("ok", "2\n")


# Every place a kernel can write: /tmp, /dev (a tmpfs), /dev/shm and its work folder
# (and System V shared memory, planted below).
PLANTED = ["/tmp/planted", "/dev/planted", "/dev/shm/planted", "planted.txt"]


def test_nothing_of_one_kernel_reaches_the_next(zygote, tmp_path):
    restarts = zygote.restarts
    with forked_kernel(zygote, tmp_path) as (run, _):
        status, text = run(
            "import subprocess\n"
            "subprocess.Popen(['sleep', '600'], start_new_session=True)\n"
            f"for path in {PLANTED!r}:\n"
            "    open(path, 'w').write('x')\n"
            "import ctypes\n"
            "ctypes.CDLL('libc.so.6').shmget(0x5EED, 4096, 0o1600)  # IPC_CREAT | 0600"
        )
        assert status == "ok", text
    zygote.make_idle()
    with forked_kernel(zygote, tmp_path) as (run, _):
        status, text = run(
            "import os\n"
            "commands = [open(f'/proc/{p}/cmdline').read() for p in os.listdir('/proc')"
            " if p.isdigit()]\n"
            "print(any('sleep' in c for c in commands),"
            f" [os.path.exists(p) for p in {PLANTED!r}])\n"
            "print(len(open('/proc/sysvipc/shm').read().splitlines()) - 1)  # below a header"
        )
        assert (status, text) == ("ok", f"False {[False] * len(PLANTED)}\n0\n")
    assert zygote.restarts == restarts


def test_kernels_cannot_reach_the_zygote(zygote, tmp_path):
    control = {
        f"pipe:[{os.fstat(stream.fileno()).st_ino}]"
        for stream in (zygote.process.stdin, zygote.process.stdout)
    }
    with forked_kernel(zygote, tmp_path) as (run, _):
        status, text = run(
            "import ctypes, os\n"
            "zygote = os.getppid()\n"
            "libc = ctypes.CDLL('libc.so.6', use_errno=True)\n"
            "attached = libc.ptrace(16, zygote, 0, 0) == 0  # PTRACE_ATTACH\n"
            "try:\n"
            "    open(f'/proc/{zygote}/mem', 'rb'); memory = True\n"
            "except OSError:\n"
            "    memory = False\n"
            f"print(attached, memory, os.path.exists({str(zygote.socket_path)!r}))\n"
            "for fd in os.listdir('/proc/self/fd'):\n"
            "    try:\n"
            "        print(os.readlink(f'/proc/self/fd/{fd}'))\n"
            "    except OSError:\n"
            "        pass  # the descriptor listdir used, closed already"
        )
        assert status == "ok", text
        lines = text.splitlines()
        assert lines[0] == "False False False"  # no ptrace, no memory, no socket
        assert not control & set(lines[1:]), "a kernel holds the zygote's control pipe"


def test_a_kernel_that_kills_the_zygote_hurts_only_itself(killable_zygote, tmp_path):
    restarts = killable_zygote.restarts
    with forked_kernel(killable_zygote, tmp_path) as (run, manager):
        # a moment after the reply, which the kernel could not send once its zygote is gone
        kill = "threading.Timer(0.5, os.kill, (os.getppid(), signal.SIGKILL)).start()"
        assert run(f"import os, signal, threading\n{kill}") == ("ok", "")
        manager.provisioner.process.wait(timeout=30)  # the launcher ends with its kernel
    killable_zygote.make_idle()
    assert killable_zygote.restarts == restarts + 1
    with forked_kernel(killable_zygote, tmp_path) as (run, _):
        assert run("print(6 * 7)") == ("ok", "42\n")


def test_killing_the_launcher_kills_its_kernel(zygote, tmp_path):
    def sandboxed() -> list[psutil.Process]:
        return psutil.Process(zygote.process.pid).children(recursive=True)

    restarts, before = zygote.restarts, len(sandboxed())  # bwrap's init and the zygote
    with forked_kernel(zygote, tmp_path) as (run, manager):
        assert run("print('up')") == ("ok", "up\n")
        assert len(sandboxed()) == before + 1
        os.kill(manager.provisioner.pid, signal.SIGKILL)
        manager.provisioner.process.wait(timeout=30)
        zygote.make_idle()
        assert len(sandboxed()) == before
    assert zygote.restarts == restarts


def test_a_zygote_that_died_while_idle_is_replaced_before_use(killable_zygote, tmp_path):
    restarts = killable_zygote.restarts
    killable_zygote.process.kill()  # as the OOM killer would
    killable_zygote.process.wait()
    killable_zygote.wait_ready()
    assert killable_zygote.restarts == restarts + 1
    with forked_kernel(killable_zygote, tmp_path) as (run, _):
        assert run("print(6 * 7)") == ("ok", "42\n")


_KERNEL_START = """
import importlib, json, sys
from fashion_lessons.sandbox.kernels import KERNEL_OPTIONS
from fashion_lessons.sandbox.zygote_server import KERNEL_MODULE, KERNEL_START_MODULES
for module in (KERNEL_MODULE, *KERNEL_START_MODULES):
    importlib.import_module(module)
before = set(sys.modules)
from ipykernel.kernelapp import IPKernelApp
IPKernelApp.instance().initialize(["-f", sys.argv[1], *KERNEL_OPTIONS])
sys.__stdout__.write(json.dumps(sorted(set(sys.modules) - before)) + "\\n")
"""


def test_a_kernel_imports_no_module_from_disk_as_it_starts(tmp_path):
    """What the zygote imports before forking covers what ipykernel imports as a kernel
    starts: the kernel adds only modules built into the interpreter."""
    run = subprocess.run(
        [sys.executable, "-c", _KERNEL_START, str(tmp_path / "kernel.json")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    imported = json.loads(run.stdout.strip().splitlines()[-1])
    assert [name for name in imported if name not in sys.builtin_module_names] == []
