"""The ``fashion-lessons`` command: argument parsing only; the work lives in the modules."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from fashion_lessons.data import CLASS_NAMES, DataError
from fashion_lessons.term_commands import (
    TERM_FILE_HELP,
    add_term_commands,
    at_least_one,
    print_error,
    term_errors,
    term_file,
)

GIB = 2**30


def command_data(args: argparse.Namespace) -> int:
    """Find and verify the data; print where it came from and the count per class."""
    import numpy as np

    from fashion_lessons.data import find_data, load_arrays

    source = find_data(args.path, download=not args.offline)
    arrays = load_arrays(source)
    print(f"Fashion-MNIST found in {source.directory}")
    print(f"  via: {source.origin}")
    print("  all four files verified (SHA-256 of the decompressed bytes)")
    print(f"  train: {arrays['x_train'].shape} images, test: {arrays['x_test'].shape} images\n")
    train_counts = np.bincount(arrays["y_train"], minlength=10)
    test_counts = np.bincount(arrays["y_test"], minlength=10)
    print(f"  {'label':>5}  {'class':<12} {'train':>6} {'test':>6}")
    for label, name in enumerate(CLASS_NAMES):
        print(f"  {label:>5}  {name:<12} {train_counts[label]:>6} {test_counts[label]:>6}")
    print(f"  {'':>5}  {'total':<12} {train_counts.sum():>6} {test_counts.sum():>6}")
    return 0


def _plot_file_problem(path: Path) -> str:
    """Why matplotlib could not save a figure as ``path`` ('' if it can)."""
    from matplotlib.backend_bases import FigureCanvasBase

    kinds = FigureCanvasBase.get_supported_filetypes()
    if not path.parent.is_dir():
        return f"{path.parent}: no such folder to write the plot in"
    if path.suffix.lstrip(".").lower() not in kinds:
        return f"{path}: not an image file name; end it in .png (or .{', .'.join(sorted(kinds))})"
    return ""


def command_train(args: argparse.Namespace) -> int:
    """Train the seed's model and report training accuracy, test accuracy and the gap."""
    import time

    from fashion_lessons.data import load_data
    from fashion_lessons.preprocess import scale_images

    if args.plot and (problem := _plot_file_problem(Path(args.plot))):
        print_error(problem)  # before training, not after it
        return 2
    (x_train, y_train), (x_test, y_test) = load_data(download=not args.offline)
    if args.limit is not None:
        x_train, y_train = x_train[: args.limit], y_train[: args.limit]
    x_train, x_test = scale_images(x_train), scale_images(x_test)

    from fashion_lessons.models import build_model
    from fashion_lessons.training import set_seed, summarize_history, train

    set_seed(args.seed)
    start = time.perf_counter()
    try:  # both check their arguments before any training
        model = build_model(dropout_rate=args.dropout)
        history = train(
            model,
            x_train,
            y_train,
            epochs=args.epochs,
            validation_data=(x_test, y_test),
            batch_size=args.batch_size,
            verbose=2 if args.quiet_progress else 1,
        )
    except ValueError as error:
        print_error(str(error))
        return 2
    seconds = time.perf_counter() - start
    summary = summarize_history(history)
    print(f"\ntrained on {len(x_train)} images for {args.epochs} epochs in {seconds:.1f} s")
    print(f"training accuracy: {summary.final_train_accuracy:.4f}")
    print(f"test accuracy:     {summary.final_val_accuracy:.4f}")
    print(f"gap (train - test): {summary.gap:+.4f}")
    if args.plot:
        from fashion_lessons.plots import plot_learning_curves

        figure = plot_learning_curves(history)
        figure.savefig(args.plot, dpi=100)
        print(f"learning curves written to {args.plot}")
    return 0


def command_release(args: argparse.Namespace) -> int:
    """Regenerate exercises/ from solutions/ through nbgrader."""
    from fashion_lessons.grading.release import release

    for path in release():
        print(f"wrote {path}")
    return 0


def command_check(args: argparse.Namespace) -> int:
    """Run a filled-in exercise in a fresh kernel; print every test's verdict and points."""
    from fashion_lessons.grading.check import check_notebook, format_check_report
    from fashion_lessons.grading.types import ExecutionOptions

    print(f"running {args.notebook} from top to bottom in a fresh kernel ...", flush=True)
    report = check_notebook(args.notebook, execution=ExecutionOptions(timeout=args.timeout))
    print(format_check_report(report))
    return 0 if report.has_passed else 1


def command_grade(args: argparse.Namespace) -> int:
    """Grade SUBMISSIONS/<student>/<assignment>/<notebook>.ipynb into OUT."""
    from fashion_lessons.grading.pipeline import grade
    from fashion_lessons.grading.term_config import load_term_config
    from fashion_lessons.grading.types import CourseError, ExecutionOptions, IsolationOptions
    from fashion_lessons.sandbox.bounds import Bounds

    if args.kernel and not args.no_sandbox:
        raise CourseError("--kernel chooses an unsandboxed kernel; add --no-sandbox with it")
    try:
        term = load_term_config(term_file(args.term))
    except term_errors() as error:
        print_error(str(error))
        return 2
    execution = ExecutionOptions(
        kernel_name=args.kernel, timeout=args.timeout, show_hidden_tests=args.show_hidden_tests
    )
    isolation = IsolationOptions(
        sandbox=not args.no_sandbox,
        wall_clock_s=args.wall_clock,
        memory_bytes=int(args.memory_gib * GIB),
        zygote=not args.fresh_kernels,
        bounds=Bounds(memory_bytes=int(args.memory_gib * GIB)),
    )
    if args.no_sandbox:
        print("warning: grading WITHOUT the sandbox: students' code runs with your rights")
    report = grade(
        args.submissions,
        args.out,
        **({"root": Path(args.course)} if args.course else {}),
        execution=execution,
        isolation=isolation,
        workers=args.workers,
        replace_other_run=args.fresh,
        progress=lambda line: print(line, flush=True),
        scheduler=args.scheduler,
        term=term,
    )
    print()
    print(report.summary)
    print(f"\ngrades:    {report.grades_csv}")
    print(f"feedback:  {report.out / 'feedback'}")
    print(f"histogram: {report.histogram}")
    return 0


def command_worker(args: argparse.Namespace) -> int:
    """Run one Dask worker that grades submissions sent by ``grade --scheduler``."""
    from fashion_lessons.grading.dask_worker import run_worker

    return run_worker([args.scheduler, *args.options])


def _add_isolation_arguments(grade: argparse.ArgumentParser) -> None:
    """How submissions are isolated; the defaults are those of the option type."""
    from fashion_lessons.grading.types import IsolationOptions

    defaults = IsolationOptions()
    grade.add_argument(
        "--wall-clock",
        type=float,
        default=defaults.wall_clock_s,
        help="seconds one submission may take in all, kernel start included "
        f"(default: {defaults.wall_clock_s:g})",
    )
    memory_gib = defaults.memory_bytes / GIB
    grade.add_argument(
        "--memory-gib",
        type=float,
        default=memory_gib,
        help="memory cap of each kernel, and of all a submission's processes together "
        f"(default: {memory_gib:g})",
    )
    grade.add_argument(
        "--no-sandbox",
        action="store_true",
        help="run students' code unprotected, with your rights (only for trusted work)",
    )
    grade.add_argument(
        "--fresh-kernels",
        action="store_true",
        help="start every sandboxed kernel afresh instead of forking it from a process "
        "with TensorFlow imported (slower: every TensorFlow notebook imports it anew)",
    )


def _add_course_commands(commands) -> None:
    """``data`` and ``train``: the lessons' steps from the command line."""
    data = commands.add_parser("data", help="find and verify Fashion-MNIST, count each class")
    data.add_argument("--path", help="folder with the four .gz files (default: search)")
    data.add_argument("--offline", action="store_true", help="never download")
    data.set_defaults(run=command_data)

    train = commands.add_parser("train", help="train the seed's model and report accuracy")
    train.add_argument("--epochs", type=int, default=5)
    train.add_argument("--dropout", type=float, default=0.0, help="dropout rate in [0, 1)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument(
        "--limit", type=at_least_one, help="train on the first N training images only"
    )
    train.add_argument("--batch-size", type=int, default=32)
    train.add_argument("--plot", help="write the learning curves to this PNG file")
    train.add_argument("--offline", action="store_true", help="never download")
    train.add_argument(
        "--quiet-progress", action="store_true", help="one line per epoch, no progress bar"
    )
    train.set_defaults(run=command_train)


def _add_grading_commands(commands) -> None:
    """``release``, ``check`` and ``grade``."""
    release = commands.add_parser(
        "release", help="regenerate exercises/ from solutions/ (instructors)"
    )
    release.set_defaults(run=command_release)

    check = commands.add_parser(
        "check", help="run a filled-in exercise and show each test's verdict (students)"
    )
    check.add_argument("notebook", help="the exercise notebook (.ipynb) to check")
    check.add_argument("--timeout", type=int, help="seconds a cell may run (default: config)")
    check.set_defaults(run=command_check)

    grade = commands.add_parser(
        "grade", help="autograde a folder of submissions into OUT (instructors)"
    )
    grade.add_argument(
        "submissions", help="folder of <student_id>/<assignment_id>/<notebook>.ipynb"
    )
    grade.add_argument(
        "--out", required=True, help="output folder: gradebook, feedback, grades.csv"
    )
    grade.add_argument(
        "--course",
        help="course folder with nbgrader_config.py and solutions/ (default: this package's clone)",
    )
    grade.add_argument("--kernel", help="Jupyter kernel to run submissions in (default: config)")
    grade.add_argument("--timeout", type=int, help="seconds a cell may run (default: config)")
    grade.add_argument(
        "--workers",
        type=at_least_one,
        default=os.cpu_count() or 1,
        help="submissions graded in parallel (default: the number of cores)",
    )
    _add_isolation_arguments(grade)
    grade.add_argument(
        "--fresh", action="store_true", help="replace the grades of another run in OUT"
    )
    grade.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="grade on the workers of this Dask scheduler (e.g. tcp://host:8786) instead of "
        "a local pool; workers are started with `fashion-lessons worker ADDRESS`",
    )
    grade.add_argument(
        "--show-hidden-tests",
        action="store_true",
        help="show the hidden tests' code in feedback pages (hidden by default)",
    )
    grade.add_argument("--term", help=TERM_FILE_HELP)
    grade.set_defaults(run=command_grade)


def _add_worker_command(commands) -> None:
    """``worker``: a Dask worker with the course's grading plugin."""
    worker = commands.add_parser(
        "worker",
        help="start a Dask worker that grades for `grade --scheduler` (instructors)",
        description="Start Dask's worker with the course's grading plugin; every option of "
        "`dask worker` applies (--nthreads, --memory-limit, --local-directory ...).",
    )
    worker.add_argument("scheduler", metavar="SCHEDULER_ADDRESS", help="e.g. tcp://host:8786")
    worker.add_argument("options", nargs=argparse.REMAINDER, help="options of `dask worker`")
    worker.set_defaults(run=command_worker)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fashion-lessons",
        description="Fashion Lessons: image classification with Keras on Fashion-MNIST.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_course_commands(commands)
    _add_grading_commands(commands)
    _add_worker_command(commands)
    add_term_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's C++ chatter out
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except DataError as error:
        print_error(str(error))
        return 2
    except Exception as error:
        from fashion_lessons.grading.types import CourseError

        if not isinstance(error, CourseError):
            raise
        print_error(str(error))
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
