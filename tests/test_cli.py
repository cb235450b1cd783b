"""The fashion-lessons command, run as a user runs it."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import environment, hand_in, run_cli, solution


def test_data_reports_source_and_counts():
    result = run_cli("data", "--offline")
    assert result.returncode == 0, result.stderr
    assert "verified" in result.stdout
    assert "via:" in result.stdout
    assert result.stdout.count("6000   1000") == 10
    assert "60000  10000" in result.stdout


def test_data_missing_is_a_short_error_without_traceback(tmp_path):
    result = run_cli("data", env=environment(FASHION_MNIST_DIR=str(tmp_path / "nowhere")))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "does not exist" in result.stderr and "FASHION_MNIST_DIR" in result.stderr


def test_data_corrupt_is_a_short_error_naming_the_file(data_copy):
    (data_copy / "t10k-labels-idx1-ubyte.gz").write_bytes(b"\x1f\x8b garbage")
    result = run_cli("data", env=environment(FASHION_MNIST_DIR=str(data_copy)))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "t10k-labels-idx1-ubyte.gz" in result.stderr


def test_an_error_never_breaks_a_long_path(capsys):
    from fashion_lessons.term_commands import print_error

    path = "/tmp/" + "a-very-long-folder-name/" * 6 + "t10k-labels-idx1-ubyte.gz"
    print_error(f"{path}: the file is damaged; install the dataset again or point elsewhere")
    lines = capsys.readouterr().err.splitlines()
    assert any(path in line for line in lines), lines
    assert len(lines) > 1, "the rest of the message is still wrapped"


def test_train_on_a_subset_reports_accuracies_and_writes_the_plot(tmp_path):
    plot = tmp_path / "curves.png"
    result = run_cli(
        "train", "--epochs", "1", "--limit", "3000", "--quiet-progress", "--plot", str(plot)
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = {
        line.split(":")[0].strip(): line.split(":")[1].strip()
        for line in result.stdout.splitlines()
        if ":" in line
    }
    train_accuracy = float(lines["training accuracy"])
    test_accuracy = float(lines["test accuracy"])
    assert 0.5 < train_accuracy <= 1 and 0.5 < test_accuracy <= 1
    assert (
        float(lines["gap (train - test)"]) == round(train_accuracy - test_accuracy, 4)
        or abs(float(lines["gap (train - test)"]) - (train_accuracy - test_accuracy)) < 2e-4
    )
    assert plot.read_bytes()[:4] == b"\x89PNG"


def test_unknown_command_is_a_usage_error():
    result = run_cli("fly")
    assert result.returncode == 2 and "usage" in result.stderr


def _main(argv: list[str], capsys) -> tuple[int, str]:
    """Run ``fashion-lessons ARGV`` in this process: its exit code and what it printed."""
    from fashion_lessons.cli import main

    try:
        code = main([str(arg) for arg in argv])
    except SystemExit as stop:  # argparse's usage errors
        code = stop.code
    captured = capsys.readouterr()
    return code, captured.out + captured.err


GRADE = ["grade", "{submissions}", "--out", "{out}"]
TRAIN = ["train", "--offline", "--limit", "100"]
BAD_INPUT = {
    "no workers": ([*GRADE, "--workers", "0"], "at least 1"),
    "negative timeout": ([*GRADE, "--timeout", "-5"], "timeout"),
    "no memory": ([*GRADE, "--memory-gib", "0"], "memory cap"),
    "no time": ([*GRADE, "--wall-clock", "0"], "wall-clock"),
    "missing term file": ([*GRADE, "--term", "nowhere.toml"], "nowhere.toml"),
    "not a course": ([*GRADE, "--course", "{empty}"], "not a course folder"),
    "no submissions": (["grade", "{empty}/nowhere", "--out", "{out}"], "no such folder"),
    "OUT in SUBMISSIONS": (["grade", "{submissions}", "--out", "{submissions}/out"], "hold one"),
    "SUBMISSIONS in OUT": (["grade", "{submissions}", "--out", "{tmp}"], "hold one another"),
    "malformed scheduler": ([*GRADE, "--scheduler", "host"], "not a scheduler address"),
    "worker's malformed scheduler": (["worker", "host"], "not a scheduler address"),
    "check without time": (["check", "{notebook}", "--timeout", "0"], "timeout"),
    "no epochs": ([*TRAIN, "--epochs", "0"], "epochs"),
    "no images": (["train", "--offline", "--limit", "0"], "at least 1"),
    "empty batches": ([*TRAIN, "--batch-size", "0"], "batch_size"),
    "dropout of 1": ([*TRAIN, "--dropout", "1"], "dropout_rate"),
    "plot in no folder": ([*TRAIN, "--plot", "{empty}/nowhere/curves.png"], "no such folder"),
    "plot not an image": ([*TRAIN, "--plot", "{empty}/curves.txt"], "not an image file name"),
    "no pairs": (["similarity", "{empty}", "--top", "0"], "at least 1"),
}  # fmt: skip


@pytest.mark.parametrize("argv, expected", BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_input_is_one_clear_error_before_any_work(argv, expected, tmp_path, capsys):
    submissions, empty = tmp_path / "submissions", tmp_path / "empty"
    empty.mkdir()
    notebook = hand_in(submissions, "ada", "02-scale-pixels", solution("02-scale-pixels"))
    places = {"submissions": submissions, "out": tmp_path / "out", "empty": empty, "tmp": tmp_path}
    code, printed = _main([arg.format(notebook=notebook, **places) for arg in argv], capsys)
    assert code == 2, printed
    assert expected in " ".join(printed.split()) and "Traceback" not in printed, printed
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert written == [Path(p) for p in ("empty", *_parents(notebook.relative_to(tmp_path)))]


def _parents(path: Path) -> list[Path]:
    """``path`` and the folders leading to it, shortest first."""
    return [*reversed(path.parents[:-1]), path]
