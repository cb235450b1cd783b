"""Fashion Lessons: image classification with TensorFlow/Keras on Fashion-MNIST.

Layers, each importing only those below it:

- ``cli``: the ``fashion-lessons`` command;
- ``grading``: release exercises, check a notebook, grade a class (nbgrader);
- ``sandbox``: bubblewrap, warm zygote kernels, process helpers;
- the course library, in the direction data flows: ``data`` → ``preprocess`` →
  ``models`` → ``training`` → ``experiments``, ``plots``, ``checks``;
- ``files``: small file-system helpers.

Importing the package does not import TensorFlow.
"""

__version__ = "0.1.0"
