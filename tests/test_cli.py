"""The fashion-lessons command, run as a user runs it."""

from __future__ import annotations

from helpers import environment, run_cli


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
    from fashion_lessons.cli import _print_error

    path = "/tmp/" + "a-very-long-folder-name/" * 6 + "t10k-labels-idx1-ubyte.gz"
    _print_error(f"{path}: the file is damaged; install the dataset again or point elsewhere")
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
