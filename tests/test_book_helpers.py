"""The package code the book relies on: cached experiments and figures shown with alt text.

Training here is real but small: a few thousand real images for two epochs.
"""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from fashion_lessons import plots
from fashion_lessons.experiments import ExperimentConfig, ExperimentResult, run_experiment
from fashion_lessons.preprocess import scale_images
from fashion_lessons.sweeps import Spread, compare, dropout_sweep, summarize_sweep

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SMALL = {"epochs": 2, "batch_size": 64, "seed": 0, "validation_size": 1000}


@pytest.fixture(scope="module")
def small(fashion):
    """4,000 scaled training images (the last 1,000 validate) and 2,000 test images."""
    (x_train, y_train), (x_test, y_test) = fashion
    return scale_images(x_train[:4000]), y_train[:4000], scale_images(x_test[:2000]), y_test[:2000]


@pytest.fixture(scope="module")
def cached_run(small, tmp_path_factory):
    cache = tmp_path_factory.mktemp("experiments")
    first = run_experiment(*small, ExperimentConfig(**SMALL), cache_dir=cache)
    return cache, first


def test_a_run_trains_and_measures(cached_run):
    _, result = cached_run
    assert isinstance(result, ExperimentResult) and not result.cached
    assert len(result.history["accuracy"]) == len(result.history["val_accuracy"]) == 2
    # Without early stopping the kept weights are the last epoch's.
    assert result.validation_accuracy == pytest.approx(result.history["val_accuracy"][-1])
    for accuracy in (result.train_accuracy, result.test_accuracy, result.validation_accuracy):
        assert 0.6 < accuracy <= 1.0  # well above chance (0.1) after two epochs
    assert result.gap == pytest.approx(result.train_accuracy - result.validation_accuracy)
    assert result.best_epoch == int(np.argmin(result.history["val_loss"])) + 1
    assert result.fit_train_accuracy == result.history["accuracy"][-1]
    assert result.seconds > 0


def test_a_second_run_reads_the_cache(cached_run, small):
    cache, first = cached_run
    files = list(cache.glob("experiment-*.json"))
    assert [file.name for file in files] == [f"experiment-{first.config.key()}.json"]
    again = run_experiment(*small, ExperimentConfig(**SMALL), cache_dir=cache)
    assert again.cached
    assert again.history == first.history
    assert (again.train_accuracy, again.test_accuracy) == (
        first.train_accuracy,
        first.test_accuracy,
    )


def test_the_cache_key_covers_every_setting():
    keys = {
        ExperimentConfig().key(),
        ExperimentConfig(dropout_rate=0.2).key(),
        ExperimentConfig(epochs=21).key(),
        ExperimentConfig(batch_size=32).key(),
        ExperimentConfig(seed=1).key(),
        ExperimentConfig(validation_size=5000).key(),
        ExperimentConfig(hidden_units=64).key(),
        ExperimentConfig(learning_rate=0.01).key(),
        ExperimentConfig(train_size=1000).key(),
        ExperimentConfig(path="fast").key(),
        ExperimentConfig(path="stacked").key(),
        ExperimentConfig(patience=3).key(),
    }
    assert len(keys) == 12
    assert ExperimentConfig().key() == ExperimentConfig().key()


def test_a_damaged_cache_file_is_recomputed_not_used(small, tmp_path):
    config = ExperimentConfig(**{**SMALL, "epochs": 1})
    file = tmp_path / f"experiment-{config.key()}.json"
    file.write_text('{"config": ')  # a half-written file
    result = run_experiment(*small, config, cache_dir=tmp_path)
    assert not result.cached
    assert json.loads(file.read_text())["test_accuracy"] == result.test_accuracy
    assert not list(tmp_path.glob("*.tmp")), "a temporary file was left behind"


def test_a_cache_file_for_other_settings_is_not_used(small, tmp_path):
    config = ExperimentConfig(**{**SMALL, "epochs": 1})
    file = tmp_path / f"experiment-{config.key()}.json"
    other = dict(ExperimentConfig(**SMALL).__dict__)
    file.write_text(json.dumps({"config": other, "history": {}, "train_accuracy": 1.0}))
    assert not run_experiment(*small, config, cache_dir=tmp_path).cached


def test_unscaled_images_are_refused_with_a_hint(fashion):
    (x_train, y_train), (x_test, y_test) = fashion
    with pytest.raises(ValueError, match="255"):
        run_experiment(x_train[:2000], y_train[:2000], x_test[:100], y_test[:100])


def test_labels_must_match_images(small):
    x_train, y_train, x_test, y_test = small
    with pytest.raises(ValueError, match="differ in length"):
        run_experiment(x_train, y_train[:-1], x_test, y_test, ExperimentConfig(**SMALL))


def test_dropout_sweep_shares_every_setting_but_the_rate_and_seed(small, cached_run):
    cache, first = cached_run
    settings = {key: value for key, value in SMALL.items() if key != "seed"}
    results = dropout_sweep(*small, rates=(0.0, 0.5), seeds=(0, 1), cache_dir=cache, **settings)
    assert [(r.config.dropout_rate, r.config.seed) for r in results] == [
        (0.0, 0),
        (0.0, 1),
        (0.5, 0),
        (0.5, 1),
    ]
    assert results[0].cached and results[0].history == first.history
    assert results[1].history != first.history, "another seed, another run"
    assert results[3].config == ExperimentConfig(**{**SMALL, "dropout_rate": 0.5, "seed": 1})
    summary = summarize_sweep(results)
    assert list(summary) == [0.0, 0.5]
    gaps = summary[0.5]["gap"]
    assert gaps.values == (results[2].gap, results[3].gap)
    assert gaps.mean == pytest.approx((results[2].gap + results[3].gap) / 2)


@pytest.mark.parametrize("path", ["seed", "stacked"])
def test_early_stopping_keeps_the_best_epochs_weights(small, tmp_path, path):
    config = ExperimentConfig(
        **{**SMALL, "epochs": 30, "patience": 2, "train_size": 500, "path": path}
    )
    result = run_experiment(*small, config, cache_dir=tmp_path)
    history = result.history
    assert len(history["val_loss"]) < 30, "validation loss on 500 images should turn up"
    assert len(history["val_loss"]) == result.best_epoch + 2
    best = result.best_epoch - 1
    assert result.validation_accuracy == pytest.approx(history["val_accuracy"][best], abs=1e-6)


def test_compare_words_the_verdict_from_the_spread():
    low, high = Spread((0.80, 0.81, 0.79)), Spread((0.90, 0.91, 0.89))
    assert compare(low, high, "higher", "lower") == "higher"
    assert compare(high, low, "higher", "lower") == "lower"
    assert compare(low, Spread((0.78, 0.83, 0.80)), "higher", "lower") == "no clear difference"
    assert Spread((0.5,)).sd == 0.0


def test_as_image_shows_the_png_with_the_figures_alt_text(fashion):
    (x_train, y_train), _ = fashion
    figure = plots.plot_image_grid(x_train, y_train, rows=2, columns=2)
    shown = plots.as_image(figure)
    assert shown.alt_text == figure.alt_text and shown.alt_text
    assert shown._repr_png_().startswith(PNG_SIGNATURE)
    markup = shown._repr_html_()
    encoded = markup.split('src="data:image/png;base64,', 1)[1].split('"', 1)[0]
    assert base64.b64decode(encoded) == shown.png
    assert 'alt="A 2 by 2 grid' in markup


def test_as_image_escapes_the_alt_text():
    from matplotlib.figure import Figure

    figure = Figure()
    figure.add_subplot().plot(np.arange(3))
    figure.alt_text = 'A "quoted" <tag> & more'
    markup = plots.as_image(figure)._repr_html_()
    assert 'alt="A &quot;quoted&quot; &lt;tag&gt; &amp; more"' in markup


def test_a_stacked_sweep_trains_together_and_caches_each_run(small, tmp_path):
    settings = {"epochs": 2, "batch_size": 64, "validation_size": 1000, "path": "stacked"}
    runs = dropout_sweep(*small, rates=(0.0, 0.5), seeds=(0, 1), cache_dir=tmp_path, **settings)
    assert len(list(tmp_path.glob("experiment-*.json"))) == 4
    assert len({json.dumps(run.history) for run in runs}) == 4, "each run is its own"
    alone = run_experiment(*small, runs[3].config)  # seed 1, rate 0.5, in a stack of one
    for key, values in alone.history.items():  # equal but for float rounding in the matmuls
        np.testing.assert_allclose(values, runs[3].history[key], rtol=2e-3, atol=0.01)
    assert alone.test_accuracy == pytest.approx(runs[3].test_accuracy, abs=0.01)
    again = dropout_sweep(*small, rates=(0.0, 0.5), seeds=(0, 1), cache_dir=tmp_path, **settings)
    assert all(run.cached for run in again)
    assert [run.history for run in again] == [run.history for run in runs]
