"""The class that one real grading run grades for several test files (``graded`` in
``conftest.py``); its students:

- ``ref`` hands in the reference solutions themselves (test cells, hidden tests and all);
- ``blank`` hands in the untouched exercises;
- ``wrong`` hands in the reference with one plausible mistake per assignment (``WRONG``);
- ``variant`` answers two assignments in other spellings than the reference (``VARIANT``);
- ``broken`` hands in a file that is not JSON and a notebook whose kernel dies.
"""

from __future__ import annotations

from pathlib import Path

from helpers import ASSIGNMENTS, exercise, hand_in, solution, with_answer

# One plausible mistake per assignment: (grade_id of the answer cell, its new source).
WRONG = {
    "01-load-data": (
        "class_name",
        "def class_name(label):\n    return CLASS_NAMES[label]  # no check of the range\n",
    ),
    "02-scale-pixels": (
        "scale_pixels",
        "def scale_pixels(images):\n    return images / 255  # float64, not float32\n",
    ),
    "03-build-model": (
        "build_model",
        "def build_model():\n"
        "    model = keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Flatten(),\n"
        "        keras.layers.Dense(128, activation='sigmoid'),\n"
        "        keras.layers.Dense(10, activation='softmax')])\n"
        "    model.compile(optimizer='adam', loss='sparse_categorical_crossentropy',\n"
        "        metrics=['accuracy'])\n"
        "    return model\n",
    ),
    "04-train-evaluate": (
        "test_accuracy",
        "def test_accuracy(model, images, labels):\n"
        "    _, accuracy = model.evaluate(images, labels, verbose=0)\n"
        "    return 100 * accuracy  # a percentage, not a fraction\n",
    ),
    "05-overfitting": (
        "best_epoch",
        "def best_epoch(history):\n"
        "    metrics = getattr(history, 'history', history)\n"
        "    return int(np.argmax(metrics['val_accuracy']))  # counts from 0\n",
    ),
    "06-dropout": (
        "build_dropout_model",
        "def build_dropout_model(rate):\n"
        "    # no check of the rate: Keras itself accepts a rate of 1\n"
        "    model = keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Flatten(),\n"
        "        keras.layers.Dense(128, activation='relu'), keras.layers.Dropout(rate),\n"
        "        keras.layers.Dense(10, activation='softmax')])\n"
        "    model.compile(optimizer='adam', loss='sparse_categorical_crossentropy',\n"
        "        metrics=['accuracy'])\n"
        "    return model\n",
    ),
}

# Right answers spelled differently from the reference.
VARIANT = {
    # Keras warns on stderr ("Do not pass an `input_shape`...") the first time this runs,
    # which is inside the first test cell: only IgnorePattern keeps the full marks.
    "03-build-model": (
        "build_model",
        "import tensorflow as tf\n\n"
        "def build_model():\n"
        "    model = keras.models.Sequential()\n"
        "    model.add(keras.layers.Flatten(input_shape=(28, 28)))\n"
        "    model.add(keras.layers.Dense(128, activation=tf.nn.relu))\n"
        "    model.add(keras.layers.Dense(10, activation=keras.activations.softmax))\n"
        "    model.compile(optimizer=keras.optimizers.Adam(),\n"
        "        loss=keras.losses.SparseCategoricalCrossentropy(),\n"
        "        metrics=[keras.metrics.SparseCategoricalAccuracy()])\n"
        "    return model\n",
    ),
    "06-dropout": (
        "build_dropout_model",
        "def build_dropout_model(rate):\n"
        "    if rate < 0 or rate >= 1:\n"
        "        raise ValueError('rate must be in [0, 1)')\n"
        "    inputs = keras.Input((28, 28))\n"
        "    x = keras.layers.Reshape((784,))(inputs)\n"
        "    x = keras.layers.Dense(128, activation='relu')(x)\n"
        "    x = keras.layers.Dropout(rate=rate)(x)\n"
        "    outputs = keras.layers.Dense(10, activation='softmax')(x)\n"
        "    model = keras.Model(inputs=inputs, outputs=outputs)\n"
        "    model.compile('adam', keras.losses.sparse_categorical_crossentropy, metrics=['acc'])\n"
        "    return model\n",
    ),
}

KILL_KERNEL = "import os\n\nos._exit(1)\n"


def hand_in_class(submissions: Path) -> None:
    """Write the five students' hand-ins into ``submissions``."""
    for assignment in ASSIGNMENTS:
        hand_in(submissions, "ref", assignment, solution(assignment))
        hand_in(submissions, "blank", assignment, exercise(assignment))
        grade_id, code = WRONG[assignment]
        hand_in(submissions, "wrong", assignment, with_answer(solution(assignment), grade_id, code))
    for assignment, (grade_id, code) in VARIANT.items():
        notebook = with_answer(solution(assignment), grade_id, code)
        hand_in(submissions, "variant", assignment, notebook)
    hand_in(submissions, "broken", "01-load-data", '{"cells": [ this is not JSON')
    dying = with_answer(solution("02-scale-pixels"), "scale_pixels", KILL_KERNEL)
    hand_in(submissions, "broken", "02-scale-pixels", dying)
    (submissions / "broken" / "99-unknown").mkdir()
