"""nbgrader configuration of the Fashion Lessons course.

`fashion-lessons release`, `check` and `grade` load this file, and plain `nbgrader ...`
commands run from this folder read it too. The settings themselves live in
fashion_lessons/grading/settings.py, which the package also uses where this file is not
installed.
"""

from fashion_lessons.grading.settings import apply_course_settings

apply_course_settings(get_config())  # noqa: F821 - provided by traitlets when loading this file
