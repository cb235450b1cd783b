"""The course's nbgrader settings: one source for the config file and the code."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

from helpers import REPO

from fashion_lessons.grading.config import default_config, load_config

DATA = Path(__file__).resolve().parent / "data"


def test_python3_kernel_is_this_python():
    """The configured kernel runs the Python that grades (the one with fashion_lessons)."""
    from jupyter_client.manager import KernelManager

    config = load_config(REPO)
    manager = KernelManager(kernel_name=config.Execute.kernel_name)
    assert manager.format_kernel_cmd()[0] == sys.executable


def test_config_file_and_code_read_one_source():
    """nbgrader_config.py holds no settings of its own: it applies the package's."""
    from_file = load_config(REPO)
    defaults = default_config()
    for section, values in defaults.items():
        for key, value in values.items():
            assert from_file[section][key] == value, f"{section}.{key} differs"
    text = (REPO / "nbgrader_config.py").read_text(encoding="utf-8")
    assert "apply_course_settings(get_config())" in text
    assert not re.search(r"^c\.", text, flags=re.M), "a setting typed into the config file"


def test_a_grading_folder_config_from_before_the_layers_still_loads(tmp_path):
    """A grading folder keeps its own copy of nbgrader_config.py, which may import the
    preprocessors from fashion_lessons.hardening; it loads to the same settings."""
    shutil.copy(DATA / "nbgrader_config_ff9c44b.py", tmp_path / "nbgrader_config.py")
    old = load_config(tmp_path)
    assert "from fashion_lessons.hardening import" in (tmp_path / "nbgrader_config.py").read_text()
    # Settings learnt after ff9c44b: plain tensorflow's absl lines may have one-digit
    # seconds ("E0000 00:00:1795..."), and releasing fills in the exercises' header
    # (a grading folder never releases); a large figure's output may take longer than
    # nbclient's 4 s to arrive on a loaded machine.
    changed = {
        ("IgnorePattern", "pattern"),
        ("GenerateAssignment", "preprocessors"),
        ("Execute", "iopub_timeout"),
    }
    for section, values in default_config().items():
        for key, value in values.items():
            if (section, key) not in changed:
                assert old[section][key] == value, f"{section}.{key} differs"
    assert re.compile(old["IgnorePattern"]["pattern"]).pattern.startswith("(?m)^(")
