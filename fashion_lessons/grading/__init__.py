"""The grading side: release exercises, check a notebook, grade a class.

Modules, lowest first (each imports only those before it):

- :mod:`.types`: option and result types, :class:`~.types.CourseError`;
- :mod:`.notebooks`, :mod:`.hardening`, :mod:`.settings`, :mod:`.inert_html`,
  :mod:`.feedback_safety`, :mod:`.config`, :mod:`.nbgrader_apps`: reading notebooks, the
  nbgrader settings and preprocessors (safe feedback pages among them), running
  nbgrader's converters;
- :mod:`.release`, :mod:`.check`: ``fashion-lessons release`` and ``check``;
- :mod:`.workspace`, :mod:`.intake`, :mod:`.feedback`, :mod:`.autograde`,
  :mod:`.journal`, :mod:`.reports`: the grading folder and one submission's grading;
- :mod:`.workers`, :mod:`.pool`: each submission in a killable, sandboxed worker;
- :mod:`.transfer`, :mod:`.dask_worker`, :mod:`.distributed`: grading on a Dask cluster,
  the coordinator the only writer;
- :mod:`.pipeline`: ``fashion-lessons grade`` from start to end;
- the term around it: :mod:`.term_config`, :mod:`.submission_time`, :mod:`.late`
  (``course.toml`` and late penalties, below :mod:`.pipeline`), :mod:`.roster`,
  :mod:`.archive_checks`, :mod:`.lms_import`, :mod:`.lms_export` (``import`` and
  ``export``) and :mod:`.similarity`.
"""
