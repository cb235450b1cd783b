"""Small file-system helpers every layer shares: atomic writing and emptying a folder."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write a temporary file next to ``path``, then rename it: never a half-written file.

    Parameters
    ----------
    path : Path
        The file to create or replace; its folder must exist.
    data : str or bytes
        ``str`` is written as UTF-8.
    """
    path = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def remove_entry(entry: Path, ignore_errors: bool = True) -> None:
    """Delete a file, link or folder tree, even one its owner made read-only.

    Parameters
    ----------
    entry : Path
    ignore_errors : bool, default True
        Leave what cannot be removed in place instead of raising ``OSError``.
    """
    failures = contextlib.suppress(OSError) if ignore_errors else contextlib.nullcontext()
    if entry.is_dir() and not entry.is_symlink():
        with contextlib.suppress(OSError):
            entry.chmod(0o700)
        empty_folder(entry, ignore_errors=ignore_errors)
        with failures:
            entry.rmdir()
    else:
        with failures:
            entry.unlink()


def empty_folder(folder: Path, keep: Path | None = None, ignore_errors: bool = True) -> None:
    """Delete everything in ``folder`` (not the folder: it may be a mount point).

    Parameters
    ----------
    folder : Path
    keep : Path, optional
        An entry below ``folder`` that stays, with the folders leading to it.
    ignore_errors : bool, default True
        Skip what cannot be removed instead of raising ``OSError``.
    """
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        if ignore_errors:
            return
        raise
    for entry in entries:
        if keep is not None and (entry == keep or entry in keep.parents):
            if entry != keep:
                empty_folder(entry, keep, ignore_errors)
            continue
        remove_entry(entry, ignore_errors)
