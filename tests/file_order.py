"""A pytest plugin: the longest test files first, by their seconds in the runs before.

pytest-xdist's ``--dist loadfile --no-loadscope-reorder`` hands out whole files in
collection order, so with the longest first the last files to finish are short ones and
no worker sits idle at the end. The seconds are kept in pytest's cache; without them the
order is unchanged.
"""

from __future__ import annotations

import collections

FILE_SECONDS = "fashion-lessons/file-seconds"
"""pytest's cache key for each test file's seconds in the runs before."""

_seconds: collections.Counter = collections.Counter()


def _file(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def pytest_collection_modifyitems(config, items):
    """Sort by file, longest first. The sort is stable (a file's tests keep their order)
    and the same in every pytest-xdist worker, as pytest-xdist requires."""
    cache = getattr(config, "cache", None)
    seconds = cache.get(FILE_SECONDS, {}) if cache is not None else {}
    items.sort(key=lambda item: -seconds.get(_file(item.nodeid), 0.0))


def pytest_runtest_logreport(report):
    _seconds[_file(report.nodeid)] += report.duration


def pytest_sessionfinish(session):
    """Record each file's seconds: in pytest-xdist's controller, not in its workers."""
    cache = getattr(session.config, "cache", None)
    if cache is None or hasattr(session.config, "workerinput") or not _seconds:
        return
    cache.set(FILE_SECONDS, {**cache.get(FILE_SECONDS, {}), **_seconds})
