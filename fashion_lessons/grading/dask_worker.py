"""A Dask worker that grades: warm bounded zygotes, a private course, one task per submission.

Each Dask worker runs :class:`GradingPlugin`, which keeps one warm, sandboxed, bounded
kernel zygote per worker thread and replaces one that dies. A task (:func:`grade_remote`)
builds a private copy of the course in the worker's local directory (once per course),
autogrades the submission there exactly as the local pool does, and returns the
autograded folder, the feedback pages and the gradebook rows
(:mod:`fashion_lessons.grading.transfer`); the worker keeps nothing of a student.

``fashion-lessons worker ADDRESS [dask worker options]`` (or ``python -m
fashion_lessons.grading.dask_worker ADDRESS ...``, which ``dask-jobqueue`` can run as its
``worker_command``) starts Dask's own worker with this plugin. The coordinator's side is
:mod:`fashion_lessons.grading.distributed`.
"""

from __future__ import annotations

import dataclasses
import os
import queue
import shutil
import sys
import threading
import time
import uuid
from pathlib import Path

from distributed import WorkerPlugin

from fashion_lessons.grading.feedback import forget_submission
from fashion_lessons.grading.pool import autograde_with_zygote, start_zygotes
from fashion_lessons.grading.transfer import (
    export_grades,
    read_folder,
    unpack_course,
    write_folder,
)
from fashion_lessons.grading.types import CourseError, IsolationOptions, SubmissionResult
from fashion_lessons.grading.workers import autograde_isolated
from fashion_lessons.grading.workspace import GradingCourse, prepare_grading
from fashion_lessons.sandbox.bounds import Bounds
from fashion_lessons.sandbox.bubblewrap import check_sandbox
from fashion_lessons.sandbox.enclosures import mechanism
from fashion_lessons.sandbox.zygote_server import PRELOAD as ALL_PRELOADS

PLUGIN_NAME = "fashion-lessons-grading"
PRELOAD = "fashion_lessons.grading.dask_worker"  # this module, by the name Dask imports it
COURSE_FOLDERS = ("submitted", "autograded", "feedback")
PLUGIN_WAIT_S = 10  # how long a task waits for a plugin being replaced


class GradingPlugin(WorkerPlugin):
    """Keeps a Dask worker's warm sandboxed kernels and its private copies of the course.

    Every coordinator registers a new plugin as it starts (a run resumed after its
    coordinator was killed, say), and Dask then tears the old one down. Submissions still
    grading with the old plugin keep its zygotes and folder until they end: the plugin
    is retired, not destroyed.

    Parameters
    ----------
    isolation : IsolationOptions, optional
        Sandbox, wall-clock limit, memory cap, zygotes and whole-submission bounds; by
        default those of ``fashion-lessons grade`` (bounds on).
    preload : tuple of str, default all the course's notebooks import
        What the zygotes import for their kernels (see
        :func:`fashion_lessons.grading.preloads.kernel_preloads`).
    """

    name = PLUGIN_NAME

    def __init__(
        self, isolation: IsolationOptions | None = None, preload: tuple[str, ...] = ALL_PRELOADS
    ):
        self.isolation = isolation or IsolationOptions(bounds=Bounds())
        self.preload = tuple(preload)

    def setup(self, worker) -> None:
        # Grading forks a process per submission; a daemonic worker may not have children.
        import multiprocessing

        multiprocessing.current_process().daemon = False
        # A folder of its own: the plugin it replaces may still be grading in its folder.
        self.home = Path(worker.local_directory) / "fashion-lessons" / uuid.uuid4().hex[:12]
        self.home.mkdir(parents=True)
        self.courses: dict[str, GradingCourse] = {}
        self.lock = threading.Lock()
        if self.isolation.sandbox:
            check_sandbox()
        self.slots = worker.state.nthreads
        self.zygotes: list | None = None  # started by the first submission
        self.idle: queue.Queue = queue.Queue()
        self.holders = 0  # submissions being graded with this plugin
        self.retired = False  # replaced: closed once no submission holds it

    def teardown(self, worker) -> None:
        """Retire; close the zygotes and remove the folder once no submission holds them."""
        with self.lock:
            self.retired = True
            close = self.holders == 0
        if close:
            self._close()

    def hold(self) -> bool:
        """Keep the zygotes and the folder for one more submission; False once closed."""
        with self.lock:
            if self.retired and self.holders == 0:  # closed
                return False
            self.holders += 1
            return True

    def release(self) -> None:
        """One submission held by :meth:`hold` is over."""
        with self.lock:
            self.holders -= 1
            close = self.retired and self.holders == 0
        if close:
            self._close()

    def _close(self) -> None:
        for zygote in self.zygotes or ():
            zygote.close()
        shutil.rmtree(self.home, ignore_errors=True)

    def warm_up(self) -> list:
        """This worker's zygotes, one per thread, started by the first submission (they
        preload while its course is prepared): a plugin replaced before it grades
        anything costs nothing."""
        with self.lock:
            if self.zygotes is None:
                self.zygotes = start_zygotes(self.home, self.isolation, self.slots, self.preload)
                for zygote in self.zygotes:
                    self.idle.put(zygote)
            return self.zygotes

    def course(self, source: bytes, fingerprint: str) -> GradingCourse:
        """This worker's private grading course built from ``source`` (once per course)."""
        with self.lock:
            if fingerprint not in self.courses:
                folder = self.home / "courses" / fingerprint[:16]
                shutil.rmtree(folder, ignore_errors=True)
                unpack_course(source, folder / "source")
                self.courses[fingerprint] = prepare_grading(folder / "out", folder / "source")
            return self.courses[fingerprint]

    def autograde(
        self, course: GradingCourse, student: str, assignment: str, execution
    ) -> SubmissionResult:
        """Autograde a collected submission with an idle zygote of this worker."""
        if not self.warm_up():
            return autograde_isolated(course, student, assignment, self.isolation, execution)
        zygote = self.idle.get()
        try:
            return autograde_with_zygote(
                course, student, assignment, zygote, self.isolation, execution
            )
        finally:
            zygote.make_idle()  # nothing of this student reaches the next one
            self.idle.put(zygote)


def _held_plugin(worker) -> GradingPlugin:
    """The worker's grading plugin, held (:meth:`GradingPlugin.hold`) for one submission.

    While a coordinator replaces it there is, for a moment, none or only a closed one.
    """
    deadline = time.monotonic() + PLUGIN_WAIT_S
    while True:
        plugin = worker.plugins.get(PLUGIN_NAME)
        if plugin is not None and plugin.hold():
            return plugin
        if time.monotonic() > deadline:
            raise CourseError(f"worker {worker.address} runs without the course's grading plugin")
        time.sleep(0.05)


def grade_remote(job: dict) -> dict:
    """A Dask task: autograde one submission on this worker; return what the coordinator records.

    Parameters
    ----------
    job : dict
        ``course`` and ``fingerprint`` (:func:`~fashion_lessons.grading.transfer.pack_course`),
        ``student``, ``assignment``, ``files`` (the submission folder, relative path to
        bytes) and ``execution`` (ExecutionOptions or None).

    Returns
    -------
    dict
        ``result`` (SubmissionResult fields), ``autograded`` and ``feedback`` (relative
        path to bytes), ``grades`` (:func:`~fashion_lessons.grading.transfer.export_grades`),
        ``worker`` (its address) and ``bounds`` (what held them there).
    """
    from distributed import get_worker

    worker = get_worker()
    plugin = _held_plugin(worker)
    try:
        plugin.warm_up()
        course = plugin.course(job["course"], job["fingerprint"])
        return _grade_in(course, plugin, job, worker.address)
    finally:
        plugin.release()


def _grade_in(course: GradingCourse, plugin: GradingPlugin, job: dict, address: str) -> dict:
    """:func:`grade_remote` in the worker's private ``course``."""
    student, assignment = job["student"], job["assignment"]
    folders = {name: course.out / name / student / assignment for name in COURSE_FOLDERS}
    for folder in folders.values():
        shutil.rmtree(folder, ignore_errors=True)
    write_folder(folders["submitted"], job["files"])
    try:
        result = plugin.autograde(course, student, assignment, job["execution"])
        return {
            "result": dataclasses.asdict(result),
            "autograded": read_folder(folders["autograded"]),
            "feedback": read_folder(folders["feedback"]),
            "grades": export_grades(course, student, assignment),
            "worker": address,
            "bounds": mechanism() if plugin.isolation.bounds is not None else "none",
        }
    finally:  # the worker keeps nothing of a student
        forget_submission(course, student, assignment)
        for folder in folders.values():
            shutil.rmtree(folder, ignore_errors=True)


async def dask_setup(worker) -> None:
    """Dask's preload hook: give a worker started with ``--preload`` the grading plugin."""
    await worker.plugin_add(GradingPlugin(), name=PLUGIN_NAME)


def check_scheduler_address(address: str) -> None:
    """Raise :class:`CourseError` unless ``address`` names a host and port (``tcp://host:8786``)."""
    from distributed.comm.addressing import get_address_host_port

    try:
        get_address_host_port(address)
    except ValueError as error:
        raise CourseError(
            f"{address}: not a scheduler address ({error}); expected e.g. tcp://host:8786"
        ) from error


def run_worker(argv: list[str]) -> int:
    """Run Dask's worker command with the grading plugin preloaded.

    Parameters
    ----------
    argv : list of str
        ``SCHEDULER_ADDRESS`` and any option of ``dask worker`` (``--nthreads``,
        ``--memory-limit``, ``--local-directory`` ...).

    Returns
    -------
    int
        The worker's exit code.
    """
    from distributed.cli.dask_worker import main

    if argv and not argv[0].startswith("-"):
        check_scheduler_address(argv[0])
    # Each submission is graded in a child process: the worker must not be daemonic.
    os.environ["DASK_DISTRIBUTED__WORKER__DAEMON"] = "False"

    try:
        main(args=[*argv, "--preload", PRELOAD], prog_name="fashion-lessons worker")
    except SystemExit as stop:
        return int(stop.code or 0)
    return 0


if __name__ == "__main__":
    sys.exit(run_worker(sys.argv[1:]))
