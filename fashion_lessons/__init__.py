"""Fashion Lessons: image classification with TensorFlow/Keras on Fashion-MNIST.

Modules, in the direction data flows: ``data`` → ``preprocess`` → ``models`` →
``training`` → ``plots``; ``checks`` and ``course`` build on them; ``cli`` on everything.
Importing the package does not import TensorFlow.
"""

__version__ = "0.1.0"
