"""Checks of a zip archive's entries before a byte is extracted: unsafe paths, zip bombs,
and files that are not valid notebooks."""

from __future__ import annotations

import dataclasses
import re
import zipfile
from pathlib import PurePosixPath


@dataclasses.dataclass(frozen=True)
class ImportLimits:
    """Caps that make a hostile archive a refusal instead of a full disk.

    Attributes
    ----------
    max_total_bytes : int
        Sum of the uncompressed sizes of all entries (the archive is refused as a whole).
    max_file_bytes : int
        Uncompressed size of one entry.
    max_ratio : float
        Uncompressed / compressed size of one entry; notebooks compress ~5-20×.
    max_entries : int
    """

    max_total_bytes: int = 512 * 2**20
    max_file_bytes: int = 64 * 2**20
    max_ratio: float = 200.0
    max_entries: int = 20_000


def unsafe_path_reason(name: str) -> str:
    """Why an entry's path may not be extracted, or ''."""
    if "\\" in name or "\x00" in name:
        return "the path contains a backslash or NUL character"
    path = PurePosixPath(name)
    if path.is_absolute() or re.match(r"^[A-Za-z]:", name):
        return "an absolute path"
    if ".." in path.parts:
        return "the path escapes the folder (..)"
    return ""


def archive_reason(infos: list[zipfile.ZipInfo], limits: ImportLimits) -> str:
    """Why the whole archive is refused (too many entries, too many bytes extracted), or ''."""
    if len(infos) > limits.max_entries:
        return f"{len(infos)} entries, over the cap of {limits.max_entries}"
    total = sum(info.file_size for info in infos)
    if total > limits.max_total_bytes:
        return (
            f"{total} bytes when extracted, over the cap of {limits.max_total_bytes} "
            "(zip bomb?); nothing was extracted"
        )
    return ""


def bomb_reason(info: zipfile.ZipInfo, limits: ImportLimits) -> str:
    if info.file_size > limits.max_file_bytes:
        return (
            f"{info.file_size} bytes when extracted, over the cap of {limits.max_file_bytes} "
            "per file (zip bomb?)"
        )
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > 1_000_000 and ratio > limits.max_ratio:
        return f"compression ratio {ratio:.0f}:1, over the cap of {limits.max_ratio:.0f}:1"
    return ""


def read_capped(archive: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes | None:
    """The entry's bytes, or None when it inflates beyond its declared size or ``cap``."""
    limit = min(info.file_size, cap)
    chunks, total = [], 0
    with archive.open(info) as stream:
        while chunk := stream.read(65536):
            total += len(chunk)
            if total > limit:
                return None
            chunks.append(chunk)
    return b"".join(chunks)


def notebook_problem(data: bytes) -> str:
    import nbformat

    try:
        notebook = nbformat.reads(data.decode("utf-8"), as_version=4)
        nbformat.validate(notebook)
    except Exception as error:  # JSON, encoding and schema errors alike
        first = (str(error).strip().splitlines() or [""])[0][:120]
        return f"not a valid Jupyter notebook ({type(error).__name__}: {first})"
    return ""
