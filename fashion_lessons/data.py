"""Find, verify and load Fashion-MNIST, offline first.

The data is looked for, in order, in

1. an explicit ``path`` argument, or the ``FASHION_MNIST_DIR`` environment variable;
2. Debian's package ``dataset-fashion-mnist`` (``/usr/share/datasets/fashion-mnist``);
3. the Keras cache (``$KERAS_HOME/datasets/fashion-mnist`` or ``~/.keras/datasets/fashion-mnist``);
4. a download through Keras (only on a networked machine, only when nothing above exists).

Every file is checked by the SHA-256 of its *decompressed* bytes, because Debian
recompresses the upstream files: the ``.gz`` bytes differ, the contents do not.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import os
import zlib
from pathlib import Path

import numpy as np

CLASS_NAMES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
"""The ten class names; ``CLASS_NAMES[label]`` names a label 0–9."""

ENV_VAR = "FASHION_MNIST_DIR"
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")


@dataclasses.dataclass(frozen=True)
class _FileSpec:
    name: str
    magic: int
    header_bytes: int
    shape: tuple[int, ...]
    sha256: str

    @property
    def size(self) -> int:
        return self.header_bytes + int(np.prod(self.shape))


# SHA-256 of the decompressed IDX files published by Zalando Research.
FILES: dict[str, _FileSpec] = {
    "x_train": _FileSpec(
        "train-images-idx3-ubyte",
        2051,
        16,
        (60000, 28, 28),
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    ),
    "y_train": _FileSpec(
        "train-labels-idx1-ubyte",
        2049,
        8,
        (60000,),
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    ),
    "x_test": _FileSpec(
        "t10k-images-idx3-ubyte",
        2051,
        16,
        (10000, 28, 28),
        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    ),
    "y_test": _FileSpec(
        "t10k-labels-idx1-ubyte",
        2049,
        8,
        (10000,),
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    ),
}

_HOW_TO_FIX = (
    "Delete or replace this file with an intact copy: on Debian/Ubuntu run "
    "'sudo apt-get install --reinstall dataset-fashion-mnist', or point "
    f"{ENV_VAR} at a folder holding the four original .gz files."
)


class DataError(Exception):
    """The Fashion-MNIST data is missing, incomplete or corrupt.

    The message names the file, says what is wrong and how to fix it.
    """


@dataclasses.dataclass(frozen=True)
class DataSource:
    """Where the data was found.

    Attributes
    ----------
    directory : Path
        The folder holding the four IDX files.
    origin : str
        How it was found: ``"path argument"``, ``"FASHION_MNIST_DIR"``,
        ``"Debian package dataset-fashion-mnist"``, ``"Keras cache"`` or ``"Keras download"``.
    """

    directory: Path
    origin: str

    def __str__(self) -> str:
        return f"{self.directory} ({self.origin})"


def keras_cache_dir() -> Path:
    """Return the folder where ``keras.datasets.fashion_mnist`` caches its files."""
    keras_home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(keras_home) / "datasets" / "fashion-mnist"


def _file_in(directory: Path, spec: _FileSpec) -> Path | None:
    """Return the gzip or plain copy of ``spec`` in ``directory``, if any."""
    for candidate in (directory / f"{spec.name}.gz", directory / spec.name):
        if candidate.is_file():
            return candidate
    return None


def _has_any_file(directory: Path) -> bool:
    return any(_file_in(directory, spec) is not None for spec in FILES.values())


def find_data(path: str | os.PathLike | None = None, *, download: bool = True) -> DataSource:
    """Find the folder holding Fashion-MNIST, without reading it.

    Parameters
    ----------
    path : str or PathLike, optional
        An explicit folder. When given (or when ``FASHION_MNIST_DIR`` is set) it must
        hold the data: there is no fallback to other places.
    download : bool, default True
        Whether to download through Keras when no copy is found anywhere.

    Returns
    -------
    DataSource

    Raises
    ------
    DataError
        If the explicit folder lacks the files, or nothing is found and ``download``
        is false or fails.
    """
    explicit = [(path, "path argument"), (os.environ.get(ENV_VAR), ENV_VAR)]
    for value, origin in explicit:
        if value:
            directory = Path(value).expanduser()
            if not directory.is_dir():
                raise DataError(
                    f"{directory}: the Fashion-MNIST folder given by the {origin} does not "
                    f"exist. Expected a folder holding "
                    f"{', '.join(s.name + '.gz' for s in FILES.values())}. "
                    f"Fix the path, or unset {ENV_VAR} to use the default locations."
                )
            return DataSource(directory, origin)

    for directory, origin in (
        (DEBIAN_DIR, "Debian package dataset-fashion-mnist"),
        (keras_cache_dir(), "Keras cache"),
    ):
        # A folder with any of the files is used (and verified); a bad copy is an
        # error, never a reason to look elsewhere.
        if directory.is_dir() and _has_any_file(directory):
            return DataSource(directory, origin)

    if not download:
        raise DataError(
            "Fashion-MNIST was not found: no data in "
            f"{DEBIAN_DIR} (Debian package dataset-fashion-mnist) or {keras_cache_dir()} "
            f"(Keras cache), and {ENV_VAR} is not set. Install it with "
            "'sudo apt-get install dataset-fashion-mnist', or set "
            f"{ENV_VAR} to a folder holding the four .gz files."
        )
    return _download()


def _download() -> DataSource:  # pragma: no cover - needs the network, never run in tests
    import keras

    try:
        keras.datasets.fashion_mnist.load_data()
    except Exception as error:
        raise DataError(
            "Fashion-MNIST was not found locally and the download through Keras failed "
            f"({error}). Install it with 'sudo apt-get install dataset-fashion-mnist', or "
            f"set {ENV_VAR} to a folder holding the four .gz files."
        ) from error
    return DataSource(keras_cache_dir(), "Keras download")


def _read_verified(file: Path, spec: _FileSpec) -> np.ndarray:
    """Decompress, check and decode one IDX file."""

    def fail(problem: str) -> DataError:
        return DataError(f"{file}: {problem}. {_HOW_TO_FIX}")

    try:
        if file.suffix == ".gz":
            with gzip.open(file, "rb") as stream:
                raw = stream.read()
        else:
            raw = file.read_bytes()
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise fail(f"the gzip stream is truncated or corrupt ({error})") from error
    except OSError as error:
        raise fail(f"cannot be read ({error})") from error

    if len(raw) != spec.size:
        raise fail(f"has {len(raw):,} bytes after decompression, expected {spec.size:,}")
    magic = int.from_bytes(raw[:4], "big")
    if magic != spec.magic:
        raise fail(f"has magic number {magic}, expected {spec.magic} for {spec.name}")
    digest = hashlib.sha256(raw).hexdigest()
    if digest != spec.sha256:
        raise fail(
            f"has SHA-256 {digest[:16]}… of its decompressed bytes, expected "
            f"{spec.sha256[:16]}…: the contents were changed"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=spec.header_bytes).reshape(spec.shape)


def _signature(directory: Path) -> tuple:
    """Identify the files on disk, so a changed file is re-verified."""
    signature = []
    for spec in FILES.values():
        file = _file_in(directory, spec)
        if file is None:
            raise DataError(
                f"{directory / (spec.name + '.gz')}: missing from the Fashion-MNIST folder "
                f"{directory}. {_HOW_TO_FIX}"
            )
        stat = file.stat()
        signature.append((spec.name, str(file.resolve()), stat.st_size, stat.st_mtime_ns))
    return tuple(signature)


_cache: dict[tuple, dict[str, np.ndarray]] = {}


def load_arrays(source: DataSource) -> dict[str, np.ndarray]:
    """Load and verify the four arrays from ``source``; cached per process.

    Returns
    -------
    dict
        ``x_train`` (60000, 28, 28) uint8, ``y_train`` (60000,) uint8,
        ``x_test`` (10000, 28, 28) uint8, ``y_test`` (10000,) uint8. The arrays are
        read-only and shared; copy them before changing them.
    """
    signature = _signature(source.directory)
    if signature not in _cache:
        arrays = {}
        for (key, spec), (_, file, _, _) in zip(FILES.items(), signature):
            array = _read_verified(Path(file), spec)
            array.flags.writeable = False
            arrays[key] = array
        _cache.clear()  # keep one copy in memory, not one per folder ever loaded
        _cache[signature] = arrays
    return _cache[signature]


def load_data(
    path: str | os.PathLike | None = None, *, download: bool = True
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load Fashion-MNIST exactly as ``keras.datasets.fashion_mnist.load_data()`` does.

    Parameters
    ----------
    path : str or PathLike, optional
        Folder holding the four IDX files (``.gz`` or uncompressed). Defaults to the
        search order in the module docstring.
    download : bool, default True
        Whether a download through Keras is allowed when no local copy exists.

    Returns
    -------
    (x_train, y_train), (x_test, y_test)
        ``x_train`` (60000, 28, 28) uint8, ``y_train`` (60000,) uint8,
        ``x_test`` (10000, 28, 28) uint8, ``y_test`` (10000,) uint8. Fresh writable
        copies: changing them does not affect later calls.

    Raises
    ------
    DataError
        If a file is missing, truncated, corrupt or not the published one.
    """
    arrays = load_arrays(find_data(path, download=download))
    return (
        (arrays["x_train"].copy(), arrays["y_train"].copy()),
        (arrays["x_test"].copy(), arrays["y_test"].copy()),
    )


def prepare_keras_cache(path: str | os.PathLike | None = None) -> Path:
    """Put a verified local copy where ``keras.datasets.fashion_mnist.load_data()`` looks.

    Keras reads ``<Keras cache>/<file>.gz`` when it exists and downloads only the files
    that are missing, so after this call the plain Keras loader works offline. Files
    already in the Keras cache are verified and kept; each missing one is written from
    the local copy (gzip-compressed, as Keras expects), through a temporary file, so an
    interrupted copy leaves nothing half-written.

    Parameters
    ----------
    path : str or PathLike, optional
        Folder holding the local copy; defaults to the search order of :func:`find_data`
        (never a download).

    Returns
    -------
    Path
        The Keras cache folder, holding the four ``.gz`` files.

    Raises
    ------
    DataError
        If no local copy exists, or a file in it or in the Keras cache is not the
        published one.
    """
    import shutil
    import tempfile

    source = find_data(path, download=False)
    load_arrays(source)  # verifies every file of the source
    target = keras_cache_dir()
    if source.directory.resolve() == target.resolve():
        return target
    target.mkdir(parents=True, exist_ok=True)
    for spec in FILES.values():
        destination = target / f"{spec.name}.gz"
        if destination.exists():
            _read_verified(destination, spec)
            continue
        origin = _file_in(source.directory, spec)
        handle, temporary = tempfile.mkstemp(dir=target, suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as stream:
                if origin.suffix == ".gz":
                    with origin.open("rb") as compressed:
                        shutil.copyfileobj(compressed, stream)
                else:
                    with (
                        origin.open("rb") as plain,
                        gzip.GzipFile(fileobj=stream, mode="wb") as out,
                    ):
                        shutil.copyfileobj(plain, out)
            os.replace(temporary, destination)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return target
