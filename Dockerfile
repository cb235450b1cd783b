# The course image: TensorFlow, Jupyter, the course package, the lessons, the exercises
# and the data, offline. Build and run it (see the book's "Set up with Docker" page):
#   make docker       # docker build -t fashion-lessons .
#   make docker-run   # mkdir -p my-work && docker run -it --rm -u $(id -u):$(id -g) -p 8888:8888 -v "$PWD/my-work":/tf/fashion-lessons fashion-lessons
# The base: TensorFlow's official image of the TensorFlow version pyproject.toml
# resolves to (a test compares it with the course's environment).
ARG BASE_IMAGE=tensorflow/tensorflow:2.21.0-jupyter
FROM ${BASE_IMAGE}

SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# The package with its dependencies. The base's TensorFlow satisfies the requirement
# (the plain `tensorflow` distribution), so pip keeps it; the check after it fails the
# build if a second TensorFlow came in anyway.
WORKDIR /opt/fashion-lessons/src
COPY pyproject.toml README.md ./
COPY fashion_lessons/ ./fashion_lessons/
COPY jupyter/ ./jupyter/
RUN python3 -m pip install --no-cache-dir . \
    && python3 -m pip check \
    && ! python3 -m pip show --quiet tensorflow-cpu 2> /dev/null

# Fashion-MNIST, copied from the build context (`make docker` puts the verified local
# copy there) into a Keras cache every user can read, and verified: no download later.
ENV KERAS_HOME=/opt/keras
COPY .image/fashion-mnist/ /opt/keras/datasets/fashion-mnist/
RUN fashion-lessons data --offline && chmod -R a+rX /opt/keras

# The lessons (MyST markdown, opened as notebooks through jupytext) and the exercises.
# They are copied into /tf/fashion-lessons when the container starts, without replacing
# what is there: mount a folder of yours there and your work outlives the container.
COPY exercises/ /opt/fashion-lessons/course/exercises/
COPY book/*.md /opt/fashion-lessons/course/lessons/
RUN mkdir -p /tf/fashion-lessons && chmod -R a+rwX /tf /opt/fashion-lessons/course

WORKDIR /tf
EXPOSE 8888
CMD ["bash", "-c", "cp -rn /opt/fashion-lessons/course/. /tf/fashion-lessons/ && exec jupyter lab --notebook-dir=/tf --ip 0.0.0.0 --no-browser --allow-root"]
