"""Train many runs of the seed's model at once, as one stacked computation.

A dropout sweep is dozens of runs of a 100,000-parameter model; alone, each spends most
of its time in Python and TensorFlow overhead rather than arithmetic. Here the runs'
weights are stacked along a leading ``runs`` axis and one compiled step trains them all.
Each run keeps everything a separate run would have: its starting weights, batch order
and dropout masks (all drawn from its own seed, so which other runs share the stack
changes its numbers only by floating-point rounding), its dropout rate, its Adam state
(Adam works element by element, so stacking changes nothing), and its early stopping.

The arithmetic is that of :func:`fashion_lessons.models.build_model` trained by ``fit``
with ``keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience,
restore_best_weights=True)``: Glorot-uniform kernels and zero biases, ReLU, inverted
dropout, softmax cross-entropy, ``keras.optimizers.Adam``. The random numbers come from
NumPy rather than Keras, so a run differs from its Keras twin as another seed would.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

PIXELS = 28 * 28
CLASSES = 10


@dataclasses.dataclass(frozen=True)
class StackedRun:
    """What one run of the stack comes down to.

    Attributes
    ----------
    history : dict of str to list of float
        Per epoch, as ``fit`` reports them: ``loss`` and ``accuracy`` (averaged over the
        epoch's batches, dropout switched on), ``val_loss`` and ``val_accuracy``. Ends
        at the epoch where the run stopped.
    accuracies : tuple of float
        Accuracy on each of ``evaluation_sets``, in inference mode, with the weights of
        the epoch with the lowest validation loss.
    """

    history: dict[str, list[float]]
    accuracies: tuple[float, ...]


def _glorot(rng: np.random.Generator, fan_in: int, fan_out: int) -> np.ndarray:
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=(fan_in, fan_out)).astype(np.float32)


def _flat(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype.kind != "f":
        raise ValueError(
            f"expected scaled images of shape (n, 28, 28) and a float dtype, "
            f"found shape {images.shape} and dtype {images.dtype}"
        )
    return images.reshape(len(images), PIXELS).astype(np.float32)


ADAM = {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}
"""``keras.optimizers.Adam``'s defaults, which the stacked update follows."""


class _Stack:
    """The stacked weights and Adam state of some runs, and the steps that use them.

    Parameters
    ----------
    runs : (r,) int ndarray
        Which runs of the caller the rows are.
    rngs : list of numpy.random.Generator
        Each run's source of batch orders and dropout masks.
    keep : (r,) float32 ndarray
        Each run's probability of keeping a hidden unit (1 − dropout rate).
    weights : list of ndarray
        Hidden kernel (r, 784, h), hidden bias (r, 1, h), output kernel (r, h, 10) and
        output bias (r, 1, 10).
    moments : (list of ndarray, list of ndarray), optional
        Adam's first and second moments, shaped like ``weights``; zeros by default.
    """

    def __init__(self, runs, rngs, keep, weights, learning_rate, data, moments=None, steps=0):
        import tensorflow as tf

        self.runs, self.rngs, self.keep = np.asarray(runs), rngs, np.asarray(keep, np.float32)
        self.learning_rate, self.data = learning_rate, data
        first, second = moments or ([np.zeros_like(w) for w in weights],) * 2
        self.weights = [tf.Variable(w) for w in weights]
        self.first = [tf.Variable(m) for m in first]
        self.second = [tf.Variable(v) for v in second]
        self.steps = tf.Variable(float(steps))
        # one trace each, whatever the batch: tracing costs more than a whole epoch
        self.train_step = tf.function(
            self._train_step,
            input_signature=[tf.TensorSpec([None, None], "int64"), tf.TensorSpec(None, "float32")],
        )
        self.measure = tf.function(
            self._measure,
            input_signature=[
                tf.TensorSpec([None, PIXELS], "float32"),
                tf.TensorSpec([None], "int32"),
            ],
        )

    @classmethod
    def start(cls, seeds, rates, hidden_units, learning_rate, images, labels):
        """New runs: Glorot-uniform kernels and zero biases drawn from each seed."""
        import tensorflow as tf

        rngs = [np.random.default_rng(seed) for seed in seeds]
        kernels = [
            (_glorot(rng, PIXELS, hidden_units), _glorot(rng, hidden_units, CLASSES))
            for rng in rngs
        ]
        runs = len(seeds)
        weights = [
            np.stack([k for k, _ in kernels]),
            np.zeros((runs, 1, hidden_units), np.float32),
            np.stack([k for _, k in kernels]),
            np.zeros((runs, 1, CLASSES), np.float32),
        ]
        data = (tf.constant(_flat(images)), tf.constant(np.asarray(labels), "int32"))
        keep = [1.0 - rate for rate in rates]
        return cls(np.arange(runs), rngs, keep, weights, learning_rate, data)

    def subset(self, rows) -> _Stack:
        """The stack of only ``rows``, each with its weights, Adam state and generator."""
        return _Stack(
            self.runs[rows],
            [self.rngs[row] for row in rows],
            self.keep[rows],
            [w.numpy()[rows] for w in self.weights],
            self.learning_rate,
            self.data,
            ([m.numpy()[rows] for m in self.first], [v.numpy()[rows] for v in self.second]),
            self.steps.numpy(),
        )

    def _logits(self, images, masks=None):
        """Logits (runs, batch, 10) of images (runs, batch, 784) or (batch, 784)."""
        import tensorflow as tf

        hidden_kernel, hidden_bias, output_kernel, output_bias = self.weights
        shared = "bi,rih->rbh" if images.shape.rank == 2 else "rbi,rih->rbh"
        hidden = tf.nn.relu(tf.einsum(shared, images, hidden_kernel) + hidden_bias)
        if masks is not None:
            hidden = hidden * masks  # (1, 1, 1) ones when no run drops units
        return tf.einsum("rbh,rho->rbo", hidden, output_kernel) + output_bias

    @staticmethod
    def _scores(logits, labels):
        """Per run: summed cross-entropy and number right, over the batch."""
        import tensorflow as tf

        labels = tf.broadcast_to(labels, tf.shape(logits)[:2])
        losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)
        right = tf.cast(
            tf.equal(tf.argmax(logits, -1, output_type=labels.dtype), labels), "float32"
        )
        return tf.reduce_sum(losses, 1), tf.reduce_sum(right, 1)

    def _train_step(self, order, masks):
        """One step for every run, on the images ``order`` (runs, batch) picks for each."""
        import tensorflow as tf

        images, labels = tf.gather(self.data[0], order), tf.gather(self.data[1], order)
        with tf.GradientTape() as tape:
            losses, right = self._scores(self._logits(images, masks), labels)
            # each run's mean loss over its batch; their sum leaves each run's gradient its own
            total = tf.reduce_sum(losses) / tf.cast(tf.shape(labels)[1], "float32")
        gradients = tape.gradient(total, self.weights)
        self.steps.assign_add(1.0)
        # Adam as keras.optimizers.Adam computes it; element by element, so per run
        beta_1, beta_2 = ADAM["beta_1"], ADAM["beta_2"]
        alpha = self.learning_rate * tf.sqrt(1 - beta_2**self.steps) / (1 - beta_1**self.steps)
        for weight, first, second, gradient in zip(
            self.weights, self.first, self.second, gradients
        ):
            first.assign_add((gradient - first) * (1 - beta_1))
            second.assign_add((tf.square(gradient) - second) * (1 - beta_2))
            weight.assign_sub(first * alpha / (tf.sqrt(second) + ADAM["epsilon"]))
        return losses, right

    def _measure(self, images, labels):
        return self._scores(self._logits(images), labels)

    def masks(self, batch: int) -> np.ndarray:
        """Inverted-dropout masks (runs, batch, hidden) for one step, from each run's seed;
        ones of shape (1, 1, 1) when no run drops units."""
        if (self.keep == 1.0).all():
            return np.ones((1, 1, 1), np.float32)
        hidden = self.weights[0].shape[-1]
        masks = np.ones((len(self.rngs), batch, hidden), np.float32)
        for run, (rng, keep) in enumerate(zip(self.rngs, self.keep)):
            if keep < 1.0:
                masks[run] = (rng.random((batch, hidden)) < keep) / keep
        return masks

    def order(self, count: int) -> np.ndarray:
        """Each run's shuffled order (runs, count) of the training images for one epoch."""
        return np.stack([rng.permutation(count) for rng in self.rngs])

    def snapshot(self) -> list[np.ndarray]:
        return [np.array(w.numpy()) for w in self.weights]

    def evaluate(self, images, labels, batch_size=2048):
        """Per run: mean cross-entropy and accuracy, in inference mode."""
        losses = np.zeros(len(self.rngs))
        right = np.zeros(len(self.rngs))
        for start in range(0, len(images), batch_size):
            loss, hits = self.measure(
                images[start : start + batch_size], labels[start : start + batch_size]
            )
            losses += loss.numpy()
            right += hits.numpy()
        return losses / len(images), right / len(images)


def _epoch(stack: _Stack, batch_size: int):
    """One pass over the images in each run's own order; fit's loss and accuracy per run."""
    count = len(stack.data[1])
    order = stack.order(count)
    steps = [
        stack.train_step(
            order[:, start : start + batch_size].astype(np.int64),
            stack.masks(len(order[0, start : start + batch_size])),
        )
        for start in range(0, count, batch_size)
    ]
    losses = np.sum([loss.numpy() for loss, _ in steps], axis=0)
    right = np.sum([hits.numpy() for _, hits in steps], axis=0)
    return losses / count, right / count


def train_stacked(
    seeds: Sequence[int],
    dropout_rates: Sequence[float],
    images: np.ndarray,
    labels: np.ndarray,
    validation_data: tuple[np.ndarray, np.ndarray],
    evaluation_sets: Sequence[tuple[np.ndarray, np.ndarray]] = (),
    epochs: int = 60,
    batch_size: int = 256,
    learning_rate: float = 0.001,
    patience: int | None = 5,
    hidden_units: int = 128,
) -> list[StackedRun]:
    """Train one run per (seed, dropout rate) pair together; stop each one early on its own.

    Parameters
    ----------
    seeds : sequence of int
        One per run: its starting weights, batch orders and dropout masks.
    dropout_rates : sequence of float in [0, 1)
        One per run: the rate of the dropout after the hidden layer (0: none).
    images, labels : (n, 28, 28) float ndarray, (n,) integer ndarray
        Scaled training images and their labels.
    validation_data : ((m, 28, 28) float ndarray, (m,) integer ndarray)
        Measured after every epoch; its loss decides early stopping.
    evaluation_sets : sequence of (images, labels)
        Measured at the end, on each run's restored weights.
    epochs, batch_size, learning_rate, hidden_units : int, int, float, int
        The most epochs any run trains, and for every run its batch size, Adam's step size
        and the hidden layer's width.
    patience : int or None, default 5
        A run stops when its validation loss has not improved for this many epochs, and
        keeps the weights of its best epoch. None trains every run for ``epochs`` and
        keeps its last weights.

    Returns
    -------
    list of StackedRun
        In the order of ``seeds``.
    """
    _check_runs(seeds, dropout_rates, images, labels)
    stack = _Stack.start(seeds, dropout_rates, hidden_units, learning_rate, images, labels)
    val_x, val_y = _flat(validation_data[0]), np.asarray(validation_data[1], np.int32)
    watch = _EarlyStopping(stack, patience)
    for epoch in range(epochs):
        watch.record(stack, epoch, (*_epoch(stack, batch_size), *stack.evaluate(val_x, val_y)))
        if watch.stopped.all():
            break
        # a stopped run costs as much as a running one: once a third of the stack has
        # stopped, go on with a smaller stack (each new stack costs a new trace)
        going = ~watch.stopped[stack.runs]
        if going.sum() <= len(going) * 2 / 3:
            stack = stack.subset(np.flatnonzero(going))
    final = watch.best if patience is not None else stack.snapshot()
    return _results(watch.history, final, stack.data, evaluation_sets)


def _results(history, weights, data, evaluation_sets) -> list[StackedRun]:
    """Each run's history, and its accuracy with ``weights`` on each evaluation set."""
    runs = len(weights[0])
    everyone = _Stack(np.arange(runs), [None] * runs, np.ones(runs), weights, 0.0, data)
    scores = [everyone.evaluate(_flat(x), np.asarray(y, np.int32))[1] for x, y in evaluation_sets]
    return [
        StackedRun(
            history={key: values[run] for key, values in history.items()},
            accuracies=tuple(float(score[run]) for score in scores),
        )
        for run in range(runs)
    ]


def _check_runs(seeds, dropout_rates, images, labels) -> None:
    """Raise ValueError unless there is one rate in [0, 1) per seed and one label per image."""
    if len(seeds) != len(dropout_rates) or not len(seeds):
        raise ValueError("give one dropout rate per seed, and at least one run")
    if not all(0.0 <= rate < 1.0 for rate in dropout_rates):
        raise ValueError(f"dropout rates must lie in [0, 1), found {list(dropout_rates)}")
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")


class _EarlyStopping:
    """Per run, as ``keras.callbacks.EarlyStopping(monitor="val_loss", restore_best_weights=True)``:
    the history, the weights of the best epoch, and whether the run has stopped.

    Rows of a stack are runs ``stack.runs`` of the caller; the arrays here are by run.
    """

    def __init__(self, stack: _Stack, patience: int | None) -> None:
        runs = len(stack.runs)
        self.patience = patience
        keys = ("loss", "accuracy", "val_loss", "val_accuracy")
        self.history = {key: [[] for _ in range(runs)] for key in keys}
        self.best_loss = np.full(runs, np.inf)
        self.best = stack.snapshot()
        self.waiting = np.zeros(runs, int)
        self.stopped = np.zeros(runs, bool)

    def record(self, stack: _Stack, epoch: int, measured) -> None:
        """Take one epoch's loss, accuracy, val_loss and val_accuracy, each (rows,)."""
        going = ~self.stopped[stack.runs]
        for row in np.flatnonzero(going):
            for key, values in zip(self.history, measured):
                self.history[key][stack.runs[row]].append(float(values[row]))
        improved = going & (measured[2] < self.best_loss[stack.runs])
        for kept, now in zip(self.best, stack.snapshot() if improved.any() else []):
            kept[stack.runs[improved]] = now[improved]
        self.best_loss[stack.runs[improved]] = measured[2][improved]
        self.waiting[stack.runs] = np.where(improved, 0, self.waiting[stack.runs] + 1)
        if self.patience is not None and epoch > 0:
            self.stopped |= self.waiting >= self.patience
