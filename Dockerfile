# The course image: the environment a student works in is the one that grades them.
# Build: docker build -t fashion-lessons .   (or: make docker)
# Run:   docker run -it --rm -u $(id -u) -p 8888:8888 fashion-lessons   (or: make docker-run)
FROM tensorflow/tensorflow:2.18.0-jupyter

# The base image already has TensorFlow, Jupyter, NumPy and Matplotlib. Install the
# tools the course adds, then this package without its dependencies, so pip does not
# pull a second TensorFlow (the package asks for tensorflow-cpu on Linux).
RUN python -m pip install --no-cache-dir \
        "matplotlib>=3.8" \
        "nbgrader>=0.9.5,<0.10" \
        "jupytext>=1.16"

WORKDIR /opt/fashion-lessons
COPY pyproject.toml README.md ./
COPY fashion_lessons/ ./fashion_lessons/
RUN python -m pip install --no-cache-dir --no-deps /opt/fashion-lessons

# Fetch and verify Fashion-MNIST once, at build time, into a cache every user can read,
# so the container works offline.
ENV KERAS_HOME=/opt/keras
RUN python -c "from fashion_lessons.data import load_data; load_data()" \
    && chmod -R a+rX /opt/keras

# /tf is the notebook directory of the TensorFlow image: students find the exercises
# and the lessons (MyST markdown, opened as notebooks through jupytext) there.
COPY exercises/ /tf/fashion-lessons/exercises/
COPY book/*.md /tf/fashion-lessons/lessons/
RUN chmod -R a+rwX /tf/fashion-lessons

WORKDIR /tf
EXPOSE 8888
