"""The course's nbgrader settings, the one source ``nbgrader_config.py`` and the code read.

``nbgrader_config.py`` at the course root calls :func:`apply_course_settings`, so plain
``nbgrader ...`` commands run there see them; :func:`fashion_lessons.grading.config.default_config`
applies the same settings where no course folder is installed (``fashion-lessons check`` in
the course's Docker image).
"""

from __future__ import annotations

KERNEL_NAME = "python3"
"""Every notebook's kernel. "python3" resolves to the Python that runs nbgrader
(jupyter_client replaces the kernelspec's "python" by ``sys.executable``), i.e. the
course's environment, which has fashion_lessons installed."""

CELL_TIMEOUT_S = 120
"""Per-cell limit: importing TensorFlow takes seconds and the graded notebooks train on
2,000 images for at most 3 epochs; 120 s leaves room for a loaded machine."""

IOPUB_TIMEOUT_S = 30
"""How long to wait for a finished cell's output. nbclient's default, 4 s, is too short
for a large figure on a loaded machine: the cell would fail and a correct answer lose its
points."""

# nbgrader scores a test cell 0 when it wrote anything to stderr. TensorFlow writes C++
# log lines to stderr at import and at first use (TF_CPP_MIN_LOG_LEVEL does not silence
# the absl "I0000 ..." ones), and Keras emits Python warnings (e.g. about `input_shape`);
# none of it means a wrong answer. IgnorePattern drops a stderr output that matches this
# expression. nbgrader applies it in autograde only and it is disabled by default, hence
# `enabled`; `fashion-lessons check` adds it to validation too.
STDERR_NOISE_PATTERN = (
    r"(?m)^("
    r"WARNING: All log messages before absl::InitializeLog\(\)"  # absl preamble
    r"|[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\]"  # absl/glog line prefix
    r"|To enable the following instructions:"  # continuation of cpu_feature_guard
    r"|WARNING:(tensorflow|absl):"  # TensorFlow's Python logger
    r"|\S+\.py:\d+: \w*Warning: "  # a Python warning (UserWarning, DeprecationWarning ...)
    r")"
)


def apply_course_settings(config) -> None:
    """Set the course's nbgrader settings on a traitlets ``Config`` (or a config file's ``c``).

    Parameters
    ----------
    config : traitlets.config.Config
        Changed in place: course folders, header, kernel, cell timeout, stderr filter,
        and the autograding pipeline with the hardening preprocessors.
    """
    # Reference solutions (nbgrader "source") in, student exercises ("release") out.
    config.CourseDirectory.course_id = "fashion-lessons"
    config.CourseDirectory.source_directory = "solutions"
    config.CourseDirectory.release_directory = "exercises"
    # Name, collaborators, how to check one's work and hand it in, and a cell that installs
    # the course where it is missing (Colab), on top of every exercise; FillHeader writes
    # the repository and version (_config.yml, fashion_lessons.__version__) into it.
    config.IncludeHeaderFooter.header = "solutions/header.ipynb"
    config.Execute.kernel_name = KERNEL_NAME
    config.Execute.timeout = CELL_TIMEOUT_S
    config.Execute.iopub_timeout = IOPUB_TIMEOUT_S
    config.IgnorePattern.enabled = True
    config.IgnorePattern.pattern = STDERR_NOISE_PATTERN
    # A test cell a student deleted comes back from the source notebook when grading.
    config.OverwriteCells.add_missing_cells = True
    _apply_release_pipeline(config)
    _apply_autograde_pipeline(config)


def _apply_release_pipeline(config) -> None:
    """nbgrader's release steps with the header filled in right after it is included."""
    from nbgrader.converters import GenerateAssignment
    from nbgrader.preprocessors import IncludeHeaderFooter

    from fashion_lessons.grading.header import FillHeader

    steps = list(GenerateAssignment.class_traits()["preprocessors"].default())
    steps.insert(steps.index(IncludeHeaderFooter) + 1, FillHeader)
    config.GenerateAssignment.preprocessors = steps


def _apply_autograde_pipeline(config) -> None:
    """nbgrader's default autograde steps with the hardening preprocessors in place.

    Missing test cells are restored without nbgrader 0.9.6's crashes, statements that
    tamper with the grader are removed before running, and every output is capped by
    bytes after running.
    """
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import (
        AssignLatePenalties,
        CheckCellMetadata,
        ClearOutput,
        DeduplicateIds,
        Execute,
        IgnorePattern,
        LimitOutput,
        OverwriteKernelspec,
        SaveAutoGrades,
    )

    from fashion_lessons.grading.hardening import CapOutputs, DisarmTampering, RestoreMissingCells

    config.Autograde.sanitize_preprocessors = [
        ClearOutput,
        DeduplicateIds,
        OverwriteKernelspec,
        RestoreMissingCells,
        DisarmTampering,
        CheckCellMetadata,
    ]
    config.Autograde.autograde_preprocessors = [
        Execute,
        IgnorePattern,
        ClearMetadataPreprocessor,
        LimitOutput,
        CapOutputs,
        SaveAutoGrades,
        AssignLatePenalties,
        CheckCellMetadata,
    ]
