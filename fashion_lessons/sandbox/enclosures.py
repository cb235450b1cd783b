"""What holds a submission's memory and process bounds: cgroups, or a watchdog.

Memory and processes (:class:`~fashion_lessons.sandbox.bounds.Bounds`) are held by
cgroups where this machine lets the grader create them (cgroup v2 with the memory and
pids controllers delegated, or cgroup v1 as root), and otherwise by a watchdog thread
that sums the proportional set size (PSS) of the sandbox's processes and counts them,
killing the submission's processes beyond a bound. :func:`mechanism` says which one runs
here; :func:`enclosure` makes one for a sandbox. The same watchdog thread notices a
sized tmpfs mount of the sandbox that was filled up.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path

from fashion_lessons.sandbox.bounds import Bounds
from fashion_lessons.sandbox.processes import is_dead

CGROUP_ROOT = Path("/sys/fs/cgroup")
POLL_S = 0.01  # how often the tmpfs mounts are looked at; processes every 5th time
_FULL_BYTES = 64 * 1024  # a tmpfs with less free space than this was filled up


def own_cgroup(controller: str | None) -> str | None:
    """This process's cgroup path in the v1 hierarchy of ``controller`` (None: v2)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            if (controller is None and controllers == "") or (
                controller is not None and controller in controllers.split(",")
            ):
                return path
    return None


def _v1_parents() -> dict[str, Path] | None:
    """Writable v1 memory and pids cgroups of this process, if both exist."""
    parents = {}
    for controller in ("memory", "pids"):
        own = own_cgroup(controller)
        folder = CGROUP_ROOT / controller
        if own is None or not (folder / "cgroup.procs").exists():
            return None
        folder = folder / own.lstrip("/")
        if not os.access(folder, os.W_OK):
            return None
        parents[controller] = folder
    return parents


def _v2_parent() -> Path | None:
    """A delegated v2 cgroup of this process with memory and pids enabled for children."""
    own = own_cgroup(None)
    mount = CGROUP_ROOT if (CGROUP_ROOT / "cgroup.controllers").exists() else None
    if own is None or mount is None:
        return None
    folder = mount / own.lstrip("/")
    with contextlib.suppress(OSError):
        enabled = (folder / "cgroup.subtree_control").read_text().split()
        if {"memory", "pids"} <= set(enabled) and os.access(folder, os.W_OK):
            return folder
    return None


def mechanism() -> str:
    """``"cgroup v2"``, ``"cgroup v1"`` or ``"watchdog"``: what bounds memory and processes here."""
    if os.environ.get("FASHION_LESSONS_BOUNDS") == "watchdog":  # to test the fallback
        return "watchdog"
    if _v2_parent() is not None:
        return "cgroup v2"
    if _v1_parents() is not None:
        return "cgroup v1"
    return "watchdog"


# --- enclosures -----------------------------------------------------------------------


def _mib(value: int) -> str:
    return f"{value / 2**20:g} MiB"


def describe(bounds: Bounds, tmp_bytes: int) -> str:
    """One line for the grade log: each whole-submission bound and what holds it here."""
    return (
        f"whole-submission bounds ({mechanism()}): memory {_mib(bounds.memory_bytes)}, "
        f"{bounds.processes} processes, writes {_mib(bounds.folder_bytes)} in its folder, "
        f"{_mib(tmp_bytes)} in /tmp and {_mib(bounds.shm_bytes)} in /dev/shm (sized tmpfs)"
    )


class Enclosure:
    """Holds one sandbox (a kernel zygote and the kernels it forks) within :class:`Bounds`.

    Use: put :meth:`join_files` into :func:`~fashion_lessons.sandbox.bounds.private_launch`,
    :meth:`attach` the launched process, :meth:`arm` before each submission,
    :meth:`breach` after it, :meth:`close`.

    Parameters
    ----------
    name : str
        Unique among this process's enclosures (a slot folder's name).
    bounds : Bounds
    places : dict of str to int
        Tmpfs mount points inside the sandbox and their sizes, watched for filling up.
    """

    kind = "watchdog"

    def __init__(self, name: str, bounds: Bounds, places: dict[str, int]):
        self.name, self.bounds, self.places = name, bounds, dict(places)
        self.pid: int | None = None
        self._reasons: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._baseline: tuple[set[int], int] = (set(), 0)
        self._armed = False  # between arm() and breach(): a submission is running
        self.peak = {"memory_bytes": 0, "processes": 0}

    def join_files(self) -> list[str]:
        """``cgroup.procs`` files a launcher joins (none for the watchdog)."""
        return []

    def attach(self, pid: int) -> None:
        """Watch the sandbox whose launcher (bwrap, outside) is ``pid``."""
        self.pid = pid
        if self._thread is None:
            self._thread = threading.Thread(target=self._watch, name=f"bounds-{self.name}")
            self._thread.daemon = True
            self._thread.start()

    def arm(self) -> None:
        """Start a submission: what runs now is the baseline, and no bound is breached."""
        tree = self._tree()
        with self._lock:
            self._baseline = ({p.pid for p in tree}, sum(_pss(p.pid) for p in tree))
            self._reasons = []
            self.peak = {"memory_bytes": 0, "processes": 0}
            self._armed = True

    def breach(self) -> str | None:
        """The bounds the submission went over since :meth:`arm`, or None; disarms."""
        self._check_places(self._init_root())  # a last look: the poller may not have run
        with self._lock:
            self._armed = False
            return "; ".join(dict.fromkeys(self._reasons)) or None

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _note(self, reason: str) -> None:
        with self._lock:
            self._reasons.append(reason)

    def _tree(self) -> list:
        import psutil

        if self.pid is None:
            return []
        try:
            root = psutil.Process(self.pid)
            return [root, *root.children(recursive=True)]
        except psutil.Error:
            return []

    def _init_root(self) -> str | None:
        """``/proc/<pid>/root`` of the sandbox's PID 1, the view of its mounts."""
        import psutil

        with contextlib.suppress(psutil.Error, IndexError):
            return f"/proc/{psutil.Process(self.pid).children()[0].pid}/root"
        return None

    def _watch(self) -> None:
        root, ticks = None, 0
        while not self._stop.wait(POLL_S):
            if root is None or not os.path.exists(root):  # the zygote was replaced
                root = self._init_root()
            self._check_places(root)
            ticks += 1
            if ticks % 5 == 0:
                self._check_processes()

    def _check_places(self, root: str | None) -> None:
        if root is None or not self._armed:
            return
        for place, size in self.places.items():
            with contextlib.suppress(OSError):
                stat = os.statvfs(root + place)
                if stat.f_bavail * stat.f_frsize < _FULL_BYTES:
                    self._note(f"filled {place} (bound of {_mib(size)} written there)")

    def _check_processes(self) -> None:
        """The watchdog: sum PSS and count the processes started since :meth:`arm`."""
        if not self._armed:
            return
        tree = self._tree()
        with self._lock:
            baseline_pids, baseline_bytes = self._baseline
        new = [p for p in tree if p.pid not in baseline_pids]
        if not new:
            return
        self.peak["processes"] = max(self.peak["processes"], len(new))
        reason = None
        # Counted before memory is summed: reading the PSS of hundreds of processes takes
        # long enough on a loaded machine for a burst of them to come and go unseen.
        if len(new) > self.bounds.processes:
            reason = f"over the process bound: more than {self.bounds.processes} processes at once"
        else:
            memory = sum(_pss(p.pid) for p in tree) - baseline_bytes
            self.peak["memory_bytes"] = max(self.peak["memory_bytes"], memory)
            if memory > self.bounds.memory_bytes:
                reason = (
                    f"over the memory bound: its processes together held more than "
                    f"{_mib(self.bounds.memory_bytes)}"
                )
        if reason is not None:
            self._note(reason)
            _kill_all(new)


def _kill_all(processes: list) -> None:
    """SIGKILL ``processes`` and whatever they forked meanwhile, until none is left."""
    import psutil

    for _ in range(50):
        alive = []
        for process in processes:
            with contextlib.suppress(psutil.Error):
                alive += process.children(recursive=True)
                process.kill()
                alive.append(process)
        if not alive:
            return
        processes = [p for p in alive if not is_dead(p)]
        time.sleep(0.01)


def _pss(pid: int) -> int:
    """Proportional set size of a process in bytes (its RSS if smaps_rollup is unreadable)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    with contextlib.suppress(OSError, ValueError, IndexError):
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGESIZE")
    return 0


class _Cgroup(Enclosure):
    """An enclosure whose memory and process bounds are cgroup limits."""

    def __init__(self, name: str, bounds: Bounds, places: dict[str, int], folders: dict):
        super().__init__(name, bounds, places)
        self.folders = folders  # {"memory": Path, "pids": Path} (the same folder on v2)
        for folder in set(folders.values()):
            folder.mkdir(parents=True, exist_ok=True)

    def join_files(self) -> list[str]:
        return sorted({str(folder / "cgroup.procs") for folder in self.folders.values()})

    def arm(self) -> None:
        try:  # the bound on top of what the idle zygote holds, its file cache left out
            self._write_limits(self._held() + self.bounds.memory_bytes, self._tasks())
        except OSError:  # that cache could not be reclaimed below the new limit at once
            self._write_limits(self._usage() + self.bounds.memory_bytes, self._tasks())
        with self._lock:
            self._counters = self._events()
            self._reasons = []
            self._armed = True

    def breach(self) -> str | None:
        before = getattr(self, "_counters", {"oom_kill": 0, "max": 0})
        after = self._events()
        if after["oom_kill"] > before["oom_kill"]:
            self._note(
                f"over the memory bound: its processes together held more than "
                f"{_mib(self.bounds.memory_bytes)} ({self.kind} memory controller)"
            )
        if after["max"] > before["max"]:
            self._note(
                f"over the process bound: more than {self.bounds.processes} processes and "
                f"threads at once ({self.kind} pids controller)"
            )
        self._write_limits(None, None)  # a zygote replaced now starts unbounded
        return super().breach()

    def close(self) -> None:
        super().close()
        for folder in set(self.folders.values()):
            for _ in range(50):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:  # processes still leaving
                    time.sleep(0.1)

    def _check_processes(self) -> None:
        pass  # the kernel enforces these

    def _read(self, controller: str, name: str) -> str:
        return (self.folders[controller] / name).read_text()

    usage_file = "memory.current"  # the memory in use, named by each cgroup version
    file_cache_fields = ("active_file", "inactive_file")  # in memory.stat

    def _usage(self) -> int:
        return int(self._read("memory", self.usage_file))

    def _held(self) -> int:
        """Memory in use less the file cache, which the kernel reclaims under the limit
        (counting it would let a submission take over what the cache held at :meth:`arm`)."""
        stat = _fields(self._read("memory", "memory.stat"))
        return self._usage() - sum(stat.get(name, 0) for name in self.file_cache_fields)

    def _tasks(self) -> int:
        return int(self._read("pids", "pids.current"))

    def _write_process_limit(self, tasks: int | None) -> None:
        """Allow ``bounds.processes`` beyond the ``tasks`` running now (None: no limit)."""
        maximum = "max" if tasks is None else str(tasks + self.bounds.processes)
        (self.folders["pids"] / "pids.max").write_text(maximum)


class _CgroupV1(_Cgroup):
    kind = "cgroup v1"
    usage_file = "memory.usage_in_bytes"
    file_cache_fields = ("total_active_file", "total_inactive_file")

    def _write_limits(self, memory: int | None, tasks: int | None) -> None:
        limit = "-1" if memory is None else str(memory)
        (self.folders["memory"] / "memory.limit_in_bytes").write_text(limit)
        self._write_process_limit(tasks)

    def _events(self) -> dict[str, int]:
        oom = _fields(self._read("memory", "memory.oom_control")).get("oom_kill", 0)
        return {"oom_kill": oom, "max": _fields(self._read("pids", "pids.events")).get("max", 0)}


class _CgroupV2(_Cgroup):
    kind = "cgroup v2"

    def _write_limits(self, memory: int | None, tasks: int | None) -> None:
        folder = self.folders["memory"]
        (folder / "memory.max").write_text("max" if memory is None else str(memory))
        if (folder / "memory.swap.max").exists():
            (folder / "memory.swap.max").write_text("0")
        self._write_process_limit(tasks)

    def _events(self) -> dict[str, int]:
        memory = _fields(self._read("memory", "memory.events"))
        pids = _fields(self._read("pids", "pids.events"))
        return {"oom_kill": memory.get("oom_kill", 0), "max": pids.get("max", 0)}


def _fields(text: str) -> dict[str, int]:
    fields = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            fields[parts[0]] = int(parts[1])
    return fields


def enclosure(name: str, bounds: Bounds, places: dict[str, int]) -> Enclosure:
    """The enclosure :func:`mechanism` picks here, for one sandbox named ``name``."""
    kind = mechanism()
    group = f"fashion-lessons-{os.getpid()}-{name}"
    if kind == "cgroup v2":
        folder = _v2_parent() / group
        _remove_orphans([folder.parent])
        return _CgroupV2(name, bounds, places, {"memory": folder, "pids": folder})
    if kind == "cgroup v1":
        parents = _v1_parents()
        _remove_orphans(list(parents.values()))
        folders = {controller: parent / group for controller, parent in parents.items()}
        return _CgroupV1(name, bounds, places, folders)
    return Enclosure(name, bounds, places)


def _remove_orphans(parents: list[Path]) -> None:
    """Remove empty cgroups left by a grading process that was killed (its pid is gone)."""
    for parent in parents:
        for folder in parent.glob("fashion-lessons-*-*"):
            pid = folder.name.split("-")[2]
            if pid.isdigit() and not Path(f"/proc/{pid}").exists():
                with contextlib.suppress(OSError):
                    folder.rmdir()
