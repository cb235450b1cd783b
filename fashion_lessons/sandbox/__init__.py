"""Run untrusted notebooks: the bubblewrap sandbox, warm zygote kernels, process helpers.

- :mod:`~fashion_lessons.sandbox.bubblewrap`: the ``bwrap`` command line and its limits;
- :mod:`~fashion_lessons.sandbox.bounds`: whole-submission bounds, sized tmpfs mounts and
  a launch that hides the grader; :mod:`~fashion_lessons.sandbox.enclosures`: the cgroups
  or watchdog that hold them;
- :mod:`~fashion_lessons.sandbox.kernels`: kernelspecs whose kernels run in it;
- :mod:`~fashion_lessons.sandbox.zygote`: the grader's handle on a warm zygote;
- :mod:`~fashion_lessons.sandbox.zygote_server`: the zygote and the kernel launcher;
- :mod:`~fashion_lessons.sandbox.processes`: killing process trees, ``prctl``.

The names below are importable from the package itself, as the book and the benchmarks
do (``from fashion_lessons.sandbox import Limits``).
"""

from fashion_lessons.sandbox.bubblewrap import (
    INSTALL_HINT,
    PACKAGE_ROOT,
    SANDBOX_UID,
    Limits,
    SandboxUnavailable,
    check_sandbox,
    find_bwrap,
    sandbox_command,
)
from fashion_lessons.sandbox.kernels import KERNEL_NAME, install_kernelspec, kernel_manager

__all__ = [
    "INSTALL_HINT",
    "KERNEL_NAME",
    "PACKAGE_ROOT",
    "SANDBOX_UID",
    "Limits",
    "SandboxUnavailable",
    "check_sandbox",
    "find_bwrap",
    "install_kernelspec",
    "kernel_manager",
    "sandbox_command",
]
