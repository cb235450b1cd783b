"""The import path of the hardening preprocessors in grading folders' ``nbgrader_config.py``.

A grading folder holds its own copy of the course's nbgrader configuration, which may
import the preprocessors from here; they live in :mod:`fashion_lessons.grading.hardening`.
"""

from fashion_lessons.grading.hardening import (
    CapOutputs,
    DisarmTampering,
    RestoreMissingCells,
    disarm,
    tampering_notes,
)

__all__ = ["CapOutputs", "DisarmTampering", "RestoreMissingCells", "disarm", "tampering_notes"]
