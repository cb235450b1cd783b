"""Loading the real Fashion-MNIST, the search order, and damaged files."""

from __future__ import annotations

import gzip
import shutil

import numpy as np
import pytest

from fashion_lessons import data
from fashion_lessons.data import CLASS_NAMES, DataError, find_data, load_data


def test_class_names_in_label_order():
    assert CLASS_NAMES == (
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    )  # fmt: skip


def test_real_data_shapes_and_dtypes(fashion):
    (x_train, y_train), (x_test, y_test) = fashion
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert y_train.shape == (60000,) and y_train.dtype == np.uint8
    assert x_test.shape == (10000, 28, 28) and x_test.dtype == np.uint8
    assert y_test.shape == (10000,) and y_test.dtype == np.uint8


def test_real_data_class_balance_and_first_labels(fashion):
    (x_train, y_train), (x_test, y_test) = fashion
    assert np.bincount(y_train).tolist() == [6000] * 10
    assert np.bincount(y_test).tolist() == [1000] * 10
    # The published order: the first training images are an ankle boot, a T-shirt, ...
    assert y_train[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
    assert y_test[:10].tolist() == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]
    assert x_train.min() == 0 and x_train.max() == 255


def test_loaded_arrays_are_private_copies(real_data_dir):
    (x_train, _), _ = load_data(real_data_dir)
    x_train[0] = 7
    (again, _), _ = load_data(real_data_dir)
    assert again[0].max() != 7 or again[0].min() != 7


def test_debian_folder_found_when_nothing_is_set(monkeypatch):
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    if not data.DEBIAN_DIR.is_dir():
        pytest.skip("Debian's dataset-fashion-mnist is not installed here")
    source = find_data(download=False)
    assert source.directory == data.DEBIAN_DIR
    assert "Debian" in source.origin


def test_search_order(monkeypatch, tmp_path, data_copy):
    empty_debian = tmp_path / "no-debian"
    keras_home = tmp_path / "keras"
    monkeypatch.setattr(data, "DEBIAN_DIR", empty_debian)
    monkeypatch.setenv("KERAS_HOME", str(keras_home))
    monkeypatch.delenv(data.ENV_VAR, raising=False)

    # Nothing anywhere, downloads off: a clear error naming where it looked.
    with pytest.raises(DataError, match="not found") as error:
        find_data(download=False)
    assert str(empty_debian) in str(error.value)

    # The Keras cache is used when Debian's folder is absent.
    cache = keras_home / "datasets" / "fashion-mnist"
    shutil.copytree(data_copy, cache)
    assert find_data(download=False).directory == cache
    assert find_data(download=False).origin == "Keras cache"

    # Debian's folder comes before the Keras cache.
    shutil.copytree(data_copy, empty_debian)
    assert find_data(download=False).directory == empty_debian

    # The environment variable comes before both, and an explicit path before it.
    monkeypatch.setenv(data.ENV_VAR, str(data_copy))
    assert find_data(download=False).origin == data.ENV_VAR
    assert find_data(cache, download=False).directory == cache
    assert find_data(cache, download=False).origin == "path argument"


def test_explicit_bad_path_does_not_fall_back(tmp_path, monkeypatch):
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path / "missing"))
    with pytest.raises(DataError, match="does not exist"):
        load_data()
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="missing") as error:
        load_data(empty)
    assert "train-images-idx3-ubyte.gz" in str(error.value)


def test_uncompressed_files_are_accepted(data_copy, fashion):
    for file in list(data_copy.glob("*.gz")):
        file.with_suffix("").write_bytes(gzip.decompress(file.read_bytes()))
        file.unlink()
    (x_train, y_train), (x_test, y_test) = load_data(data_copy)
    assert np.array_equal(x_test, fashion[1][0]) and np.array_equal(y_train, fashion[0][1])


def _rewrite(file, transform):
    raw = gzip.decompress(file.read_bytes())
    file.write_bytes(gzip.compress(transform(raw), compresslevel=1))  # any level reads alike


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda f: f.write_bytes(f.read_bytes()[: len(f.read_bytes()) // 2]), "truncated"),
        (lambda f: f.write_bytes(b"not a gzip file at all"), "corrupt"),
        (lambda f: _rewrite(f, lambda raw: b"\x00\x00\x08\x01" + raw[4:]), "magic number"),
        (lambda f: _rewrite(f, lambda raw: raw + b"\x00" * 10), "bytes after decompression"),
        (
            lambda f: _rewrite(f, lambda raw: raw[:100] + bytes([raw[100] ^ 1]) + raw[101:]),
            "SHA-256",
        ),
    ],
    ids=["truncated-gzip", "not-gzip", "wrong-magic", "wrong-size", "tampered-pixel"],
)
def test_damaged_file_is_a_clear_error(data_copy, damage, message):
    target = data_copy / "t10k-images-idx3-ubyte.gz"
    damage(target)
    damaged = target.read_bytes()
    with pytest.raises(DataError, match=message) as error:
        load_data(data_copy, download=False)
    text = str(error.value)
    assert str(target) in text  # names the file
    assert "apt-get install --reinstall dataset-fashion-mnist" in text  # says how to fix it
    assert target.read_bytes() == damaged  # reported, never deleted or replaced


def test_damage_after_a_good_load_is_detected(data_copy):
    load_data(data_copy)
    target = data_copy / "train-labels-idx1-ubyte.gz"
    _rewrite(target, lambda raw: raw[:8] + bytes([(raw[8] + 1) % 10]) + raw[9:])
    with pytest.raises(DataError, match="SHA-256"):
        load_data(data_copy)


def test_bad_debian_copy_is_not_silently_replaced(monkeypatch, tmp_path, data_copy):
    keras_home = tmp_path / "keras"
    shutil.copytree(data_copy, keras_home / "datasets" / "fashion-mnist")
    (data_copy / "train-labels-idx1-ubyte.gz").write_bytes(b"")
    monkeypatch.setattr(data, "DEBIAN_DIR", data_copy)
    monkeypatch.setenv("KERAS_HOME", str(keras_home))
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    with pytest.raises(DataError, match="train-labels-idx1-ubyte.gz"):
        load_data(download=False)


def test_keras_loader_reads_the_prepared_cache_offline(monkeypatch, tmp_path, fashion):
    import keras
    from keras.src.backend import config

    # Keras reads KERAS_HOME once, when it is imported.
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(config, "_KERAS_DIR", str(tmp_path / "keras"))
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    target = data.prepare_keras_cache()
    assert sorted(p.name for p in target.iterdir()) == sorted(
        f"{spec.name}.gz" for spec in data.FILES.values()
    )
    (x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
    (ex_train, ey_train), (ex_test, ey_test) = fashion
    assert np.array_equal(x_train, ex_train) and np.array_equal(y_test, ey_test)
    assert np.array_equal(y_train, ey_train) and np.array_equal(x_test, ex_test)


def test_prepare_keras_cache_keeps_a_good_copy_and_refuses_a_bad_one(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    target = data.prepare_keras_cache()
    before = {p.name: p.stat().st_mtime_ns for p in target.iterdir()}
    assert data.prepare_keras_cache() == target
    assert {p.name: p.stat().st_mtime_ns for p in target.iterdir()} == before
    (target / "t10k-labels-idx1-ubyte.gz").write_bytes(b"not gzip")
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz"):
        data.prepare_keras_cache()
    assert (target / "t10k-labels-idx1-ubyte.gz").read_bytes() == b"not gzip"
