"""The grading sandbox, probed from inside a real sandboxed Jupyter kernel."""

from __future__ import annotations

import shutil
import socket
import sys
import threading
from pathlib import Path

import pytest
from helpers import REPO, WITHOUT_TENSORFLOW, started_kernel

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap not installed")


@pytest.fixture(scope="module", params=["fresh", "zygote"])
def kernel(request, tmp_path_factory):
    """A sandboxed kernel whose notebook is in one student's grading folder.

    ``fresh`` starts the kernel in its own sandbox, with the student's folder as its
    scratch folder; ``zygote`` forks it from a sandboxed zygote, with the zygote's work
    folder (a copy of the student's folder) as its scratch folder.
    """
    from fashion_lessons.sandbox import Limits, check_sandbox, install_kernelspec
    from fashion_lessons.sandbox.zygote import Zygote

    check_sandbox()
    base = tmp_path_factory.mktemp("sandbox")
    folder, runtime, data = base / "alice", base / "runtime", base / "jupyter"
    for path in (folder, runtime, data, base / "bob"):
        path.mkdir()
    (base / "bob" / "answers.txt").write_text("bob's work")
    limits = Limits(memory_bytes=3 * 2**30)
    zygote = None
    if request.param == "zygote":
        zygote = Zygote(limits, base / "zygote.log", preload=WITHOUT_TENSORFLOW)
        zygote.wait_ready()
        scratch, runtime = zygote.work, zygote.runtime
        name = install_kernelspec(data, folder, runtime, argv=zygote.kernel_argv())
    else:
        scratch = folder
        name = install_kernelspec(data, scratch, runtime, limits)
    with started_kernel(data, runtime, name, folder) as (run, _):
        yield run, base, scratch
    if zygote is not None:
        zygote.close()


def test_runs_as_an_unprivileged_user_in_its_scratch_folder(kernel):
    run, _, scratch = kernel
    status, text = run("import os; print(os.getuid(), os.getcwd())")
    assert status == "ok"
    assert text.split() == ["1000", str(scratch)]


def test_the_kernel_writes_no_history_file_in_the_students_folder(kernel):
    run, _, _ = kernel
    code = "import os; print([f for _, _, fs in os.walk('.') for f in fs if 'history' in f])"
    assert run(code) == ("ok", "[]\n")


def test_tensorflow_runs_one_thread_per_pool(kernel):
    run, _, _ = kernel
    pools = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")
    assert run(f"import os; print(*(os.environ[name] for name in {pools}))") == ("ok", "1 1\n")


def test_can_use_the_package_and_the_dataset(kernel):
    run, _, _ = kernel
    status, text = run(
        "from fashion_lessons.data import load_data\nprint(load_data(download=False)[1][0].shape)"
    )
    assert status == "ok", text
    assert text.strip() == "(10000, 28, 28)"


def test_cannot_read_the_repository_solutions_home_or_other_students(kernel, tmp_path):
    run, base, _ = kernel
    probe = Path.home() / f".fashion-lessons-probe-{tmp_path.name}"
    probe.write_text("instructor secret")
    try:
        for path in (REPO / "README.md", REPO / "solutions", base / "bob" / "answers.txt", probe):
            code = f"import pathlib; p = pathlib.Path({str(path)!r}); print(p.read_text())"
            status, text = run(code)
            assert status == "error", f"the sandbox could read {path}: {text}"
    finally:
        probe.unlink()


def test_writes_outside_scratch_never_reach_the_host(kernel):
    run, base, scratch = kernel
    for path in (base / "bob" / "evil.txt", base / "evil.txt", Path("/evil.txt")):
        run(f"open({str(path)!r}, 'w').write('x')")
        assert not path.exists(), f"the sandbox wrote {path} on the host"
    for path in ("/usr/evil.txt", sys.prefix + "/evil.txt"):
        assert run(f"open({path!r}, 'w').write('x')")[0] == "error"
    status, _ = run("open('notes.txt', 'w').write('mine')")
    assert status == "ok" and (scratch / "notes.txt").read_text() == "mine"


def test_no_network_not_even_loopback(kernel):
    run, _, _ = kernel
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    accepted = []
    threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True).start()
    status, text = run(f"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=3)")
    server.close()
    assert status == "error" and not accepted, "the sandbox reached a loopback server"


def test_memory_bomb_hits_the_cap(kernel):
    run, _, _ = kernel
    status, text = run("hog = bytearray(8 * 2**30)")
    assert (status, text) == ("error", "MemoryError")
    assert run("print('still alive')") == ("ok", "still alive\n")


def test_private_tmp_is_mounted_before_every_bind(tmp_path):
    """Binds below /tmp (a checkout in /tmp, as CI makes) must not vanish under the tmpfs."""
    from fashion_lessons.sandbox import sandbox_command

    argv = sandbox_command(["true"], tmp_path)
    tmpfs = argv.index("--tmpfs")
    binds = [i for i, arg in enumerate(argv) if arg in ("--bind", "--ro-bind")]
    assert argv[tmpfs + 1] == "/tmp"
    assert binds and all(i > tmpfs for i in binds[1:])  # binds[0] is /usr


def test_the_whole_package_folder_is_shown_to_kernels(tmp_path):
    """The bind is the package's root folder, so sandboxed code imports every subpackage."""
    import subprocess

    import fashion_lessons
    from fashion_lessons.sandbox import PACKAGE_ROOT, sandbox_command

    assert PACKAGE_ROOT == Path(fashion_lessons.__file__).resolve().parent
    argv = sandbox_command(["true"], tmp_path)
    bound = {argv[i + 1] for i, arg in enumerate(argv) if arg == "--ro-bind"}
    assert str(PACKAGE_ROOT) in bound or str(PACKAGE_ROOT).startswith("/usr/")
    probe = (
        "import fashion_lessons.checks, fashion_lessons.grading.types, "
        "fashion_lessons.sandbox.bubblewrap as b; print(b.PACKAGE_ROOT)"
    )
    run = subprocess.run(
        sandbox_command([sys.executable, "-c", probe], tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == str(PACKAGE_ROOT)
