"""nbgrader configuration of the Fashion Lessons course.

`fashion-lessons release`, `check` and `grade` (fashion_lessons/course.py) load this file;
plain `nbgrader ...` commands run from this folder read it too. The Execute and
IgnorePattern settings are repeated in fashion_lessons.course.default_config(), which
`fashion-lessons check` uses where this file is not installed (a test keeps them equal).
"""

c = get_config()  # noqa: F821 - provided by traitlets when nbgrader loads this file

# The course: reference solutions (nbgrader "source") in, student exercises ("release") out.
c.CourseDirectory.course_id = "fashion-lessons"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"

# Name, collaborators, how to check one's work and hand it in, and a cell that installs
# the course where it is missing (Colab), on top of every exercise. FillHeader writes the
# repository and version (_config.yml, fashion_lessons.__version__) into that cell.
c.IncludeHeaderFooter.header = "solutions/header.ipynb"

# Every notebook runs in this kernel. "python3" resolves to the Python that runs nbgrader
# (jupyter_client replaces the kernelspec's "python" by sys.executable), i.e. the course's
# virtual environment, which has fashion_lessons installed. The grading pipeline can swap
# it (fashion_lessons.course.GradingOptions.kernel_name).
c.Execute.kernel_name = "python3"

# Per-cell limit: importing TensorFlow takes ~5 s and the graded notebooks train on 2,000
# images for at most 3 epochs (a few seconds); 120 s leaves room for a loaded machine.
c.Execute.timeout = 120

# nbgrader scores a test cell 0 when it wrote anything to stderr. TensorFlow writes C++
# log lines to stderr at import and at first use (TF_CPP_MIN_LOG_LEVEL does not silence
# the absl "I0000 ..." ones), and Keras emits Python warnings (e.g. about `input_shape`);
# none of it means a wrong answer. IgnorePattern drops a stderr output that matches this
# expression. nbgrader applies it in autograde only and it is disabled by default, hence
# `enabled`; `fashion-lessons check` adds it to validation too.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = (
    r"(?m)^("
    r"WARNING: All log messages before absl::InitializeLog\(\)"  # absl preamble
    r"|[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\]"  # absl/glog line prefix
    r"|To enable the following instructions:"  # continuation of cpu_feature_guard
    r"|WARNING:(tensorflow|absl):"  # TensorFlow's Python logger
    r"|\S+\.py:\d+: \w*Warning: "  # a Python warning (UserWarning, DeprecationWarning ...)
    r")"
)

# A test cell a student deleted comes back from the source notebook when grading.
c.OverwriteCells.add_missing_cells = True

# Harden autograding (fashion_lessons/hardening.py): restore missing test cells without
# nbgrader 0.9.6's crashes, remove statements that tamper with the grader before running,
# and cap every output by bytes after running. The rest is nbgrader's default pipeline.
from nbconvert.preprocessors import ClearMetadataPreprocessor  # noqa: E402
from nbgrader.converters import GenerateAssignment  # noqa: E402
from nbgrader.preprocessors import (  # noqa: E402
    AssignLatePenalties,
    CheckCellMetadata,
    ClearOutput,
    DeduplicateIds,
    Execute,
    IgnorePattern,
    IncludeHeaderFooter,
    LimitOutput,
    OverwriteKernelspec,
    SaveAutoGrades,
)

from fashion_lessons.hardening import CapOutputs, DisarmTampering, RestoreMissingCells  # noqa: E402
from fashion_lessons.header import FillHeader  # noqa: E402

c.Autograde.sanitize_preprocessors = [
    ClearOutput,
    DeduplicateIds,
    OverwriteKernelspec,
    RestoreMissingCells,
    DisarmTampering,
    CheckCellMetadata,
]
c.Autograde.autograde_preprocessors = [
    Execute,
    IgnorePattern,
    ClearMetadataPreprocessor,
    LimitOutput,
    CapOutputs,
    SaveAutoGrades,
    AssignLatePenalties,
    CheckCellMetadata,
]

# nbgrader's release pipeline with the header filled in right after it is included.
_release_steps = list(GenerateAssignment.class_traits()["preprocessors"].default())
_release_steps.insert(_release_steps.index(IncludeHeaderFooter) + 1, FillHeader)
c.GenerateAssignment.preprocessors = _release_steps
