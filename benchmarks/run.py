"""Benchmarks for Fashion Lessons: data loading, training time-to-accuracy, book build, grading.

Run ``make bench`` (or ``python benchmarks/run.py [--only NAME ...]``). Prints a table
and writes ``benchmarks/results.json``. The machine is shared and noisy, so every timing
is repeated and the median reported; alternatives are compared inside one run, as ratios.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import functools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results.json"
TARGET_ACCURACY = 0.87
# Multiply-adds of the 101,770-parameter MLP: 784·128 + 128·10 per image forward,
# ×2 FLOP per multiply-add, ×3 for forward + backward, × 60,000 images.
EPOCH_GFLOP = (784 * 128 + 128 * 10) * 2 * 3 * 60_000 / 1e9


def machine() -> dict:
    """Cores, CPU model, memory and versions, recorded with the results."""
    import keras
    import numpy
    import tensorflow as tf

    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(memory_gib, 1),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": numpy.__version__,
    }


def bench_data(repeats: int = 5) -> dict:
    """``load_data()`` in a fresh process (decode + verify) and repeated in one process."""
    code = (
        "import time; t = time.perf_counter(); "
        "from fashion_lessons.data import load_data; load_data(download=False); "
        "first = time.perf_counter() - t; t = time.perf_counter(); "
        "[load_data(download=False) for _ in range(5)]; "
        "print(first, (time.perf_counter() - t) / 5)"
    )
    firsts, repeated = [], []
    for _ in range(repeats):
        output = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.split()
        firsts.append(float(output[0]))
        repeated.append(float(output[1]))
    return {
        "first_call_s": round(statistics.median(firsts), 3),
        "repeated_call_s": round(statistics.median(repeated), 4),
    }


def _matmul_gflops() -> float:
    """Measured float32 matrix-multiply throughput: what this CPU can do at best."""
    import tensorflow as tf

    a = tf.random.normal((2048, 2048))
    tf.linalg.matmul(a, a).numpy()
    rates = []
    for _ in range(5):
        start = time.perf_counter()
        tf.linalg.matmul(a, a).numpy()
        rates.append(2 * 2048**3 / (time.perf_counter() - start) / 1e9)
    return max(rates)


def _time_to_accuracy(fast: bool, seed: int, max_epochs: int) -> dict:
    """Train one epoch at a time (timed), evaluate on the test set (untimed)."""
    from fashion_lessons.data import load_data
    from fashion_lessons.models import build_model
    from fashion_lessons.preprocess import scale_images
    from fashion_lessons.training import set_seed, train, train_fast

    (x_train, y_train), (x_test, y_test) = load_data(download=False)
    x_train, x_test = scale_images(x_train), scale_images(x_test)
    set_seed(seed)
    model = build_model()
    if fast:
        # One call for all epochs keeps the dataset's per-epoch reshuffling; a callback
        # evaluates after each epoch and its time is subtracted.
        import keras

        class Probe(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.accuracies, self.epoch_seconds, self.reached = [], [], None
                self._start = None

            def on_epoch_begin(self, epoch, logs=None):
                self._start = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                self.epoch_seconds.append(time.perf_counter() - self._start)
                accuracy = self.model.evaluate(x_test, y_test, batch_size=1024, verbose=0)[1]
                self.accuracies.append(accuracy)
                if accuracy >= TARGET_ACCURACY:
                    self.model.stop_training = True

        probe = Probe()
        train_fast(model, x_train, y_train, max_epochs, seed=seed, verbose=0, callbacks=[probe])
        accuracies, seconds = probe.accuracies, probe.epoch_seconds
    else:
        accuracies, seconds = [], []
        for epoch in range(max_epochs):
            start = time.perf_counter()
            # One call per epoch: a new shuffle seed each time, or every epoch would
            # see the first epoch's order again.
            train(model, x_train, y_train, epochs=1, verbose=0, seed=seed * 1000 + epoch)
            seconds.append(time.perf_counter() - start)
            accuracies.append(model.evaluate(x_test, y_test, batch_size=1024, verbose=0)[1])
            if accuracies[-1] >= TARGET_ACCURACY:
                break
    reached = next((i for i, a in enumerate(accuracies) if a >= TARGET_ACCURACY), None)
    return {
        "epochs": None if reached is None else reached + 1,
        "seconds": None if reached is None else sum(seconds[: reached + 1]),
        "seconds_per_epoch": statistics.median(seconds),
        "accuracies": [round(a, 4) for a in accuracies],
    }


def bench_training(repeats: int = 2, seed: int = 0, max_epochs: int = 15) -> dict:
    """Seed recipe vs ``train_fast``: wall time and epochs to 0.87 test accuracy."""
    runs = {"seed": [], "fast": []}
    for _ in range(repeats):
        # Interleave so both see the same background load.
        runs["seed"].append(_time_to_accuracy(False, seed, max_epochs))
        runs["fast"].append(_time_to_accuracy(True, seed, max_epochs))
    gflops = _matmul_gflops()
    floor = EPOCH_GFLOP / gflops
    result = {"target_accuracy": TARGET_ACCURACY, "matmul_gflops": round(gflops, 1)}
    result["epoch_floor_s"] = round(floor, 3)
    for name, trials in runs.items():
        times = [t["seconds"] for t in trials if t["seconds"] is not None]
        per_epoch = statistics.median(t["seconds_per_epoch"] for t in trials)
        result[name] = {
            "time_to_target_s": round(statistics.median(times), 2) if times else None,
            "epochs_to_target": trials[0]["epochs"],
            "seconds_per_epoch": round(per_epoch, 3),
            "epoch_vs_floor": round(per_epoch / floor, 1),
            "test_accuracy_per_epoch": trials[0]["accuracies"],
        }
    seed_time, fast_time = result["seed"]["time_to_target_s"], result["fast"]["time_to_target_s"]
    result["speedup_to_target"] = (
        round(seed_time / fast_time, 2) if seed_time and fast_time else None
    )
    return result


def bench_book(warm_repeats: int = 2) -> dict:
    """Cold build (no _build, no execution cache) and warm rebuilds with no change."""
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    if not (REPO / "_toc.yml").exists():
        return {"skipped": "no _toc.yml"}
    build = REPO / "_build"

    def run() -> float:
        start = time.perf_counter()
        subprocess.run(
            [str(jupyter_book), "build", str(REPO)],
            check=True,
            capture_output=True,
            cwd=REPO,
            env={**os.environ, "TF_NUM_INTEROP_THREADS": "1"},  # as `make book`
        )
        return time.perf_counter() - start

    backup = None
    if build.exists():
        backup = Path(tempfile.mkdtemp(prefix="book-build-")) / "_build"
        shutil.move(build, backup)
    try:
        cold = run()
        warm = [run() for _ in range(warm_repeats)]
    except BaseException:
        if backup is not None and not build.exists():
            shutil.move(backup, build)
        raise
    if backup is not None:
        shutil.rmtree(backup.parent, ignore_errors=True)
    return {"cold_s": round(cold, 1), "warm_s": round(statistics.median(warm), 1)}


def bench_sweep(train_size: int = 1000) -> dict:
    """The dropout lesson's sweep (3 rates × 5 seeds, early stopping) on the stacked path
    and on Keras' ``fit`` (``train_fast``), run by run; same data, same run, no cache."""
    from fashion_lessons.data import load_data
    from fashion_lessons.preprocess import scale_images
    from fashion_lessons.sweeps import dropout_sweep, summarize_sweep

    (x_train, y_train), (x_test, y_test) = load_data()
    arrays = (scale_images(x_train), y_train, scale_images(x_test), y_test)
    settings = dict(train_size=train_size, batch_size=256, epochs=60, patience=5)
    result = {}
    for path in ("stacked", "fast"):
        start = time.perf_counter()
        runs = dropout_sweep(*arrays, path=path, **settings)
        seconds = time.perf_counter() - start
        loss = {rate: s["best_val_loss"] for rate, s in summarize_sweep(runs).items()}
        result[path] = {
            "seconds": round(seconds, 1),
            "epochs": sum(len(run.history["val_loss"]) for run in runs),
            "best_val_loss": {str(r): f"{v.mean:.3f} ± {v.sd:.3f}" for r, v in loss.items()},
        }
    result["speedup"] = round(result["fast"]["seconds"] / result["stacked"]["seconds"], 2)
    return result


def _hand_in(submissions: Path, student: str, assignment: str, notebook) -> None:
    import nbformat

    folder = submissions / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    name = next((REPO / "solutions" / assignment).glob("*.ipynb")).name
    nbformat.write(notebook, folder / name)


def _notebook(kind: str, assignment: str):
    """The reference solution, the untouched exercise, or the reference with a wrong answer."""
    import nbformat

    folder = "exercises" if kind == "blank" else "solutions"
    notebook = nbformat.read(next((REPO / folder / assignment).glob("*.ipynb")), as_version=4)
    if kind == "wrong":  # assignment 04: accuracy as a percentage
        for cell in notebook.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") == "test_accuracy":
                cell.source = (
                    "def test_accuracy(model, images, labels):\n"
                    "    return 100 * model.evaluate(images, labels, verbose=0)[1]\n"
                )
    return notebook


class _MemoryProbe:
    """Samples the memory of all grading processes (the fork server and its workers, the
    zygotes and their kernels) every 0.5 s; keeps the peak of their sum.

    Proportional set size (PSS) splits pages shared copy-on-write (a zygote's TensorFlow
    with its kernels) between the processes sharing them, so the sum counts them once.
    Resident size stands in where PSS cannot be read.
    """

    def __init__(self):
        import threading

        self.peak_mib = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _size(process) -> int:
        import psutil

        try:
            return process.memory_full_info().pss
        except (psutil.AccessDenied, AttributeError):
            return process.memory_info().rss

    def _run(self):
        import psutil

        me = psutil.Process()
        while not self._stop.wait(0.5):
            total = 0
            for process in me.children(recursive=True):
                try:
                    total += self._size(process)
                except psutil.NoSuchProcess:
                    continue
            self.peak_mib = max(self.peak_mib, total / 2**20)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


# How kernels run: forked from a zygote in the sandbox (the default), or started afresh
# in their own sandbox (`--fresh-kernels`).
KERNEL_MODES = {
    "zygote": {"sandbox": True, "zygote": True},
    "fresh": {"sandbox": True, "zygote": False},
}


def _grade(submissions: Path, workers: int, mode: str = "zygote"):
    from fashion_lessons.grading.pipeline import grade
    from fashion_lessons.grading.types import IsolationOptions

    out = Path(tempfile.mkdtemp(prefix="bench-grade-")) / "out"
    options = IsolationOptions(**KERNEL_MODES[mode])
    with _MemoryProbe() as probe:
        start = time.perf_counter()
        report = grade(submissions, out, isolation=options, workers=workers)
        seconds = time.perf_counter() - start
    shutil.rmtree(out.parent, ignore_errors=True)
    return report, seconds, probe.peak_mib


def _run_kernel(mode: str, folder: Path, zygote, notebook) -> tuple[float, float]:
    """Start a sandboxed kernel (``fresh`` or forked from ``zygote``) and run ``notebook``.

    Returns
    -------
    (float, float)
        Seconds until the kernel is ready, and seconds executing the notebook.
    """
    from nbclient import NotebookClient

    from fashion_lessons.sandbox import install_kernelspec, kernel_manager

    data = Path(tempfile.mkdtemp(prefix="jupyter-", dir=folder))
    if mode == "zygote":
        runtime, argv = zygote.runtime, zygote.kernel_argv()
    else:
        runtime, argv = Path(tempfile.mkdtemp(prefix="fl-kernel-")), None
    name = install_kernelspec(data, folder, runtime, argv=argv)
    manager = kernel_manager(data, runtime, name)
    start = time.perf_counter()
    manager.start_kernel(cwd=str(folder), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=120)
    ready = time.perf_counter() - start
    client.stop_channels()
    start = time.perf_counter()
    NotebookClient(notebook, km=manager, timeout=300).execute()
    executed = time.perf_counter() - start
    manager.shutdown_kernel(now=True)
    if mode == "zygote":
        zygote.make_idle()
    else:
        shutil.rmtree(runtime, ignore_errors=True)
    return ready, executed


def bench_kernels(repeats: int = 2) -> dict:
    """Where a TensorFlow notebook's grading time goes: kernel start and execution,
    fresh kernel against a zygote-forked one, on the reference of assignment 04."""
    from fashion_lessons.grading.preloads import preloads_imported_by
    from fashion_lessons.sandbox import Limits
    from fashion_lessons.sandbox.zygote import Zygote

    folder = Path(tempfile.mkdtemp(prefix="bench-kernels-"))
    # What a run of assignments 01 and 02 preloads: they import no TensorFlow.
    modules = preloads_imported_by(sorted((REPO / "solutions").glob("0[12]-*/*.ipynb")))
    light = []
    for _ in range(repeats):
        start = time.perf_counter()
        with contextlib.closing(Zygote(Limits(), folder / "light.log", preload=modules)) as spare:
            spare.wait_ready()
        light.append(time.perf_counter() - start)
    start = time.perf_counter()
    zygote = Zygote(Limits(), folder / "zygote.log")
    zygote.wait_ready()
    preload = time.perf_counter() - start
    times = {"fresh": [], "zygote": []}
    try:
        for _ in range(repeats):
            for mode in times:
                times[mode].append(
                    _run_kernel(mode, folder, zygote, _notebook("ref", "04-train-evaluate"))
                )
    finally:
        zygote.close()
        shutil.rmtree(folder, ignore_errors=True)
    result = {
        "zygote_preload_s": round(preload, 2),
        "zygote_preload_light_s": round(statistics.median(light), 2),
    }
    for mode, runs in times.items():
        result[f"kernel_start_{mode}_s"] = round(statistics.median(r[0] for r in runs), 2)
        result[f"execute_04_{mode}_s"] = round(statistics.median(r[1] for r in runs), 2)
    # A forked kernel has TensorFlow, Keras and the dataset loaded: the difference in
    # execution is what a fresh kernel pays for those imports and the first data load.
    result["imports_in_fresh_kernel_s"] = round(
        result["execute_04_fresh_s"] - result["execute_04_zygote_s"], 2
    )
    return result


def bench_grading(repeats: int = 2, class_size: int = 100, compare_fresh: bool = False) -> dict:
    """Per-notebook autograde time (also with fresh kernels if ``compare_fresh``), and a
    class of ``class_size`` students on assignment 04 (0 skips it)."""
    from fashion_lessons.grading.config import assignment_ids

    assignments = assignment_ids(REPO)
    single = Path(tempfile.mkdtemp(prefix="bench-single-"))
    # The repeats are students handing in the same reference: one grading run per mode
    # (one gradebook, one zygote start) times every notebook ``repeats`` times.
    for repeat in range(repeats):
        for assignment in assignments:
            _hand_in(single, f"ref{repeat}", assignment, _notebook("ref", assignment))
    modes = ["zygote", "fresh"] if compare_fresh else ["zygote"]
    per_assignment = {mode: {a: [] for a in assignments} for mode in modes}
    for mode in modes:
        report, _, _ = _grade(single, workers=1, mode=mode)
        for result in report.results:
            per_assignment[mode][result.assignment].append(result.seconds)
    medians = {
        mode: {a: round(statistics.median(t), 2) for a, t in times.items()}
        for mode, times in per_assignment.items()
    }
    per_notebook = {mode: statistics.median(times.values()) for mode, times in medians.items()}
    result = {
        "per_notebook_s": round(per_notebook["zygote"], 2),
        "per_assignment_s": medians,
        # None when not compared, so no figure of an earlier run is kept as if current.
        "per_notebook_fresh_kernel_s": None,
        "zygote_speedup": None,
    }
    if "fresh" in per_notebook:
        result["per_notebook_fresh_kernel_s"] = round(per_notebook["fresh"], 2)
        result["zygote_speedup"] = round(per_notebook["fresh"] / per_notebook["zygote"], 2)

    if not class_size:
        shutil.rmtree(single, ignore_errors=True)
        return result
    klass = Path(tempfile.mkdtemp(prefix="bench-class-"))
    kinds = ["ref", "blank", "wrong"]
    for index in range(class_size):
        kind = kinds[index % 3]
        _hand_in(
            klass, f"{kind}{index:03d}", "04-train-evaluate", _notebook(kind, "04-train-evaluate")
        )
    for workers in (2, 1):
        report, seconds, peak = _grade(klass, workers=workers)
        graded = [r for r in report.results if r.assignment == "04-train-evaluate"]
        key = f"class{class_size}_workers{workers}"
        result[f"{key}_s"] = round(seconds, 1)
        result[f"{key}_per_minute"] = round(len(graded) / seconds * 60, 1)
        result[f"{key}_peak_grading_mib"] = round(peak)  # all grading processes (PSS)
        result[f"{key}_peak_per_worker_mib"] = round(peak / workers)
        result[f"{key}_mean_score"] = round(statistics.mean(r.score for r in graded), 2)
    shutil.rmtree(single, ignore_errors=True)
    shutil.rmtree(klass, ignore_errors=True)
    return result


def bench_dask(class_size: int = 12) -> dict:
    """A class on assignment 04 graded by the local pool (2 workers) and by a 2-worker Dask
    ``LocalCluster`` in the same run; then the time from a worker's death to its submission
    being graded again."""
    import threading

    import distributed

    from fashion_lessons.grading.pipeline import grade
    from fashion_lessons.grading.types import IsolationOptions
    from fashion_lessons.sandbox.bounds import Bounds

    assignment = "04-train-evaluate"
    klass = Path(tempfile.mkdtemp(prefix="bench-dask-class-"))
    kinds = ["ref", "blank", "wrong"]
    for index in range(class_size):
        kind = kinds[index % 3]
        _hand_in(klass, f"{kind}{index:03d}", assignment, _notebook(kind, assignment))
    options = IsolationOptions(bounds=Bounds())  # as `fashion-lessons grade` does
    result: dict = {"class_size": class_size}

    def timed(**where) -> tuple[float, list]:
        out = Path(tempfile.mkdtemp(prefix="bench-dask-")) / "out"
        start = time.perf_counter()
        report = grade(klass, out, isolation=options, **where)
        seconds = time.perf_counter() - start
        shutil.rmtree(out.parent, ignore_errors=True)
        return seconds, [
            (r.student_id, r.score) for r in report.results if r.assignment == assignment
        ]

    local_s, local_scores = timed(workers=2)
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    )
    try:
        dask_s, dask_scores = timed(scheduler=cluster.scheduler_address)
        result["local_pool_workers2_s"] = round(local_s, 1)
        result["dask_workers2_s"] = round(dask_s, 1)
        result["local_pool_per_minute"] = round(class_size / local_s * 60, 1)
        result["dask_per_minute"] = round(class_size / dask_s * 60, 1)
        result["dask_to_local_ratio"] = round(local_s / dask_s, 2)
        result["same_scores"] = local_scores == dask_scores

        # A worker killed while grading: how long until its submission is graded elsewhere.
        client = distributed.Client(cluster)
        victim = f"ref{0:03d}"
        marks: dict = {}

        def progress(line: str) -> None:
            if f"] {victim} {assignment}:" in line:
                marks["recorded"] = time.monotonic()

        def kill_when_grading() -> None:
            while "killed" not in marks:
                for worker, keys in client.processing().items():
                    if any(f"-{victim}-" in str(key) for key in keys):
                        time.sleep(3)  # well into the submission
                        pid = client.run(os.getpid, workers=[worker])[worker]
                        os.kill(pid, 9)
                        marks["killed"], marks["worker"] = time.monotonic(), worker
                        break
                time.sleep(0.05)
            while "restarted" not in marks:
                for worker, keys in client.processing().items():
                    if worker != marks["worker"] and any(victim in str(k) for k in keys):
                        marks["restarted"] = time.monotonic()
                time.sleep(0.05)

        killer = threading.Thread(target=kill_when_grading, daemon=True)
        killer.start()
        out = Path(tempfile.mkdtemp(prefix="bench-dask-kill-")) / "out"
        grade(klass, out, isolation=options, scheduler=cluster.scheduler_address,
              progress=progress)  # fmt: skip
        killer.join(timeout=60)
        shutil.rmtree(out.parent, ignore_errors=True)
        client.close()
        if "killed" in marks and "recorded" in marks:
            result["death_to_rescheduled_s"] = round(marks["restarted"] - marks["killed"], 2)
            result["death_to_regraded_s"] = round(marks["recorded"] - marks["killed"], 1)
    finally:
        cluster.close()
        shutil.rmtree(klass, ignore_errors=True)
    return result


def _calibration_s() -> float:
    """CPU seconds of a fixed single-thread workload: how fast this host is right now."""
    import hashlib

    start = time.process_time()
    digest = b"fashion-lessons"
    for _ in range(200_000):
        digest = hashlib.sha256(digest * 32).digest()
    total = 0
    for number in range(2_000_000):
        total += number * number % 7
    return time.process_time() - start


def _run_counting_cpu(command: list[str]) -> tuple[int, float, float, str]:
    """Run ``command``; its return code, wall seconds, CPU seconds and how they were counted.

    As root on cgroup v1 the command runs in a new ``cpuacct`` group, which counts every
    process it starts, daemons that outlive their parent included; elsewhere the CPU of
    the children it waited for (a lower bound).
    """
    from fashion_lessons.sandbox.enclosures import CGROUP_ROOT, own_cgroup

    own, group = own_cgroup("cpuacct"), None
    if own is not None:  # a group inside this process' own one counts towards it too
        group = CGROUP_ROOT / "cpuacct" / own.lstrip("/") / f"fashion-lessons-bench-{os.getpid()}"
        try:
            group.mkdir()
        except OSError:  # not root, or no writable cgroup v1 cpuacct hierarchy
            group = None
    join = (lambda: (group / "cgroup.procs").write_text(str(os.getpid()))) if group else None
    children = os.times()
    start = time.perf_counter()
    returncode = subprocess.run(command, cwd=REPO, preexec_fn=join).returncode
    wall = time.perf_counter() - start
    if group is None:
        after = os.times()
        cpu = after.children_user + after.children_system
        return returncode, wall, cpu - children.children_user - children.children_system, "rusage"
    procs = group / "cgroup.procs"
    deadline = time.monotonic() + 30
    while procs.read_text().split() and time.monotonic() < deadline:
        time.sleep(0.1)  # processes the command left behind, still running or exiting
    cpu = int((group / "cpuacct.usage").read_text()) / 1e9
    for pid in procs.read_text().split():
        with contextlib.suppress(OSError):  # a straggler: back to the group it came from
            (group.parent / "cgroup.procs").write_text(pid)
    with contextlib.suppress(OSError):
        group.rmdir()
    return returncode, wall, cpu, "cgroup"


def bench_tests() -> dict:
    """``make test`` with the book already built: wall and CPU seconds of the whole suite,
    and the host's speed (``_calibration_s``) measured before and after, since the same
    suite's CPU seconds follow the host's."""
    subprocess.run(["make", "book"], cwd=REPO, check=True, capture_output=True)
    before = statistics.median(_calibration_s() for _ in range(3))
    returncode, wall, cpu, counted = _run_counting_cpu(["make", "test"])
    after = statistics.median(_calibration_s() for _ in range(3))
    return {
        "passed": returncode == 0,
        "make_test_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "cpu_counted_by": counted,
        "cores_busy": round(cpu / wall, 2),
        "calibration_before_s": round(before, 3),
        "calibration_after_s": round(after, 3),
    }


BENCHMARKS = {
    "data": bench_data,
    "training": bench_training,
    "book": bench_book,
    "sweep": bench_sweep,
    "kernels": bench_kernels,
    "grading": bench_grading,
    "dask": bench_dask,
    "tests": bench_tests,
}
# Run only when asked for (``--only tests``): it is ``make test`` itself, about 5 minutes.
OPT_IN = {"tests"}
TARGETS = {
    ("training", "speedup_to_target"): (">=", 3),
    ("book", "cold_s"): ("<=", 300),
    ("book", "warm_s"): ("<=", 20),
    ("sweep", "speedup"): (">=", 2),
    ("grading", "per_notebook_s"): ("<=", 8),
    ("grading", "class100_workers2_s"): ("<=", 420),
    ("dask", "dask_to_local_ratio"): (">=", 0.9),
    ("tests", "make_test_s"): ("<=", 300),
}


def print_table(results: dict) -> None:
    print(f"\n{'benchmark':<46} {'value':>10}  target")
    for section, values in results.items():
        if section == "machine" or not isinstance(values, dict):
            continue
        for key, value in values.items():
            if isinstance(value, (dict, list)):
                continue
            target = TARGETS.get((section, key))
            verdict = ""
            if target and isinstance(value, (int, float)):
                op, limit = target
                met = value >= limit if op == ">=" else value <= limit
                verdict = f"{op} {limit} {'met' if met else 'MISSED'}"
            print(f"{section + '.' + key:<46} {value!s:>10}  {verdict}")


def _save(results: dict) -> None:
    """Write ``results.json`` atomically: a killed run leaves the previous complete file."""
    from fashion_lessons.files import write_atomic

    write_atomic(RESULTS, json.dumps(results, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=sorted(BENCHMARKS), help="run only these")
    parser.add_argument(
        "--class-size", type=int, default=100, help="students in the grading class (0: skip)"
    )
    parser.add_argument(
        "--compare-fresh-kernels",
        action="store_true",
        help="also time per-notebook grading with a fresh kernel per notebook (+1.5 min)",
    )
    parser.add_argument(
        "--dask-class-size",
        type=int,
        default=12,
        help="students graded by the local pool and by a 2-worker Dask LocalCluster",
    )
    args = parser.parse_args(argv)
    benchmarks = dict(BENCHMARKS)
    benchmarks["grading"] = functools.partial(
        bench_grading, class_size=args.class_size, compare_fresh=args.compare_fresh_kernels
    )
    benchmarks["dask"] = functools.partial(bench_dask, class_size=args.dask_class_size)
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() and args.only else {}
    results["machine"] = machine()
    for name, function in benchmarks.items():
        if name not in (args.only or set(BENCHMARKS) - OPT_IN):
            continue
        print(f"running {name} …", flush=True)
        start = time.perf_counter()
        results[name] = {**results.get(name, {}), **function()}  # keep parts not rerun
        results[name]["bench_wall_s"] = round(time.perf_counter() - start, 1)
        _save(results)
    kernels, grading = results.get("kernels", {}), results.get("grading", {})
    if "execute_04_zygote_s" in kernels and "per_assignment_s" in grading:
        # The rest of a graded submission: worker, nbgrader's database and files, feedback.
        kernels["bookkeeping_04_s"] = round(
            grading["per_assignment_s"]["zygote"]["04-train-evaluate"]
            - kernels["kernel_start_zygote_s"]
            - kernels["execute_04_zygote_s"],
            2,
        )
        _save(results)
    print_table(results)
    print(f"\nwritten to {RESULTS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
