# A stand-in for TensorFlow's official image tensorflow/tensorflow:<version>-jupyter,
# for machines that cannot reach an image registry: the same recipe (the system's
# Python 3.11 with pip, TensorFlow and Jupyter from PyPI, notebooks in /tf, Jupyter on
# port 8888) on a Debian root file system made by mmdebstrap.
ARG DEBIAN_IMAGE=localhost/fashion-lessons-test/debian:bookworm
FROM ${DEBIAN_IMAGE}
ARG TENSORFLOW_VERSION
ENV LANG=C.UTF-8
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# Debian marks its Python as managed by apt; the official image's Python is not.
# hadolint ignore=DL3013
RUN rm -f /usr/lib/python3*/EXTERNALLY-MANAGED \
    && ln -sf /usr/bin/python3 /usr/local/bin/python \
    && python3 -m pip install --no-cache-dir "tensorflow==${TENSORFLOW_VERSION}" jupyter matplotlib \
    && mkdir -p /tf /.local && chmod -R a+rwx /tf /.local
WORKDIR /tf
EXPOSE 8888
CMD ["bash", "-c", "jupyter notebook --notebook-dir=/tf --ip 0.0.0.0 --no-browser --allow-root"]
