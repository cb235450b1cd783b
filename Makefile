# Thin targets: each one calls the CLI or a tool. `make help` lists them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The course image (see Dockerfile and the book's "Set up with Docker" page). DOCKER may
# be podman; DOCKER_BUILD_FLAGS adds build options (e.g. --build-arg BASE_IMAGE=...).
DOCKER ?= docker
DOCKER_BUILD_FLAGS ?=
DOCKER_IMAGE := fashion-lessons
# Where the image's run command keeps the student's work (the lessons, the exercises).
WORK_FOLDER := my-work
# Debian packages the course uses: the dataset, the browser for the site test, the grading sandbox.
APT_PACKAGES := dataset-fashion-mnist chromium bubblewrap
# What `make test-image` adds: podman (no Docker engine needed) and mmdebstrap for its base.
IMAGE_APT_PACKAGES := podman runc mmdebstrap uidmap

.PHONY: help install system-deps test test-routes test-image lint train book release grade bench dist publish docker docker-data docker-run clean

help:
	@echo "make install   create .venv, install the package and its test tools (and Debian packages when root)"
	@echo "make book      build the course website into _build/html"
	@echo "make docker    build the course's Docker image ($(DOCKER_IMAGE))"
	@echo "make docker-run  run Jupyter in that image on http://127.0.0.1:8888"
	@echo "make test      run the test suite"
	@echo "make test-routes  install the course into fresh environments (pip, Colab; minutes)"
	@echo "make test-image  build the course image with podman and try it (minutes)"
	@echo "make dist      build the wheel and the sdist into dist/ and check them"
	@echo "make publish   build the site and push it to the gh-pages branch (GitHub Pages)"
	@echo "make train     train the seed's model for 5 epochs"
	@echo "make release   regenerate exercises/ from solutions/ with nbgrader"
	@echo "make grade     grade SUBMISSIONS=dir into OUT=dir"
	@echo "make bench     run the benchmarks (minutes)"

install: system-deps $(STAMP)

# An editable install leaves out the wheel's data files: JupyterLab's settings (open the
# markdown lessons as notebooks) are copied into the environment here.
$(STAMP): pyproject.toml jupyter/overrides.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	install -D -m 644 jupyter/overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	touch $@

system-deps:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		missing=""; \
		for package in $(APT_PACKAGES); do \
			dpkg -s $$package >/dev/null 2>&1 || missing="$$missing $$package"; \
		done; \
		if [ -n "$$missing" ]; then \
			echo "installing Debian packages:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
				apt-get install -y -qq --no-install-recommends $$missing; \
		fi; \
	else \
		echo "Not root on a Debian-like system: install '$(APT_PACKAGES)' yourself if you can."; \
		echo "Without dataset-fashion-mnist the data is read from FASHION_MNIST_DIR or the"; \
		echo "Keras cache (~/.keras/datasets/fashion-mnist), or downloaded once through Keras."; \
	fi

# The browser test runs on a real build, so the site is built (or refreshed) first.
# More workers than cores, so one worker's waits (kernels starting, deliberate timeouts)
# are filled with another's work; each file stays on one worker, so the graded classes its
# tests share are graded once; the longest files go out first (tests/file_order.py), so
# the run does not end waiting on one of them.
TEST_WORKERS ?= 4
test: install book
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=15

# The course image, built on a stand-in base (mmdebstrap) and tried with podman.
# The pip and Colab routes: the wheel and the exercises in fresh environments (minutes).
test-routes: install
	$(BIN)/python -m pytest -m route tests/test_colab.py tests/test_package.py

test-image: install
	$(MAKE) --no-print-directory system-deps APT_PACKAGES="$(IMAGE_APT_PACKAGES)"
	$(BIN)/python -m pytest -m image -s tests/test_image.py

lint: install
	$(BIN)/ruff check fashion_lessons tests benchmarks
	$(BIN)/ruff format --check fashion_lessons tests benchmarks

train: install
	$(BIN)/fashion-lessons train --epochs 5 --seed 0

# Regenerates exercises/ from solutions/ through nbgrader (byte-identical on a rerun).
release: install
	$(BIN)/fashion-lessons release

# make grade SUBMISSIONS=folder/of/<student>/<assignment>/<notebook>.ipynb OUT=grading-output
grade: install
	@test -n "$(SUBMISSIONS)" -a -n "$(OUT)" || { echo "usage: make grade SUBMISSIONS=dir OUT=dir"; exit 2; }
	$(BIN)/fashion-lessons grade "$(SUBMISSIONS)" --out "$(OUT)"

# Executes every lesson; unchanged pages come from the execution cache in _build/.
# One inter-op thread: for models this small, fit's steps run about a quarter faster.
book: install
	TF_NUM_INTEROP_THREADS=1 $(BIN)/jupyter-book build --warningiserror --keep-going .
	@echo "open _build/html/index.html in a browser, or serve it:"
	@echo "  $(BIN)/python -m http.server --directory _build/html 8000"

# The wheel and the sdist, checked by twine.
dist: install
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
	$(BIN)/twine check --strict dist/*

# The site, pushed to the gh-pages branch that GitHub Pages serves and Colab reads.
publish: book
	$(BIN)/python -m pip install --quiet ghp-import
	$(BIN)/ghp-import --no-jekyll --push --force _build/html

# The image takes the data from its build context: the verified local copy, found (or
# downloaded once) by the package.
docker-data: install
	rm -rf .image/fashion-mnist && mkdir -p .image/fashion-mnist
	cp "$$($(BIN)/python -c 'from fashion_lessons.data import find_data; print(find_data().directory)')"/*.gz .image/fashion-mnist/

docker: docker-data
	$(DOCKER) build $(if $(DOCKER_BUILD_FLAGS),$(DOCKER_BUILD_FLAGS) )-t $(DOCKER_IMAGE) .

docker-run:
	mkdir -p $(WORK_FOLDER)
	$(DOCKER) run -it --rm -u $$(id -u):$$(id -g) -p 8888:8888 -v "$$PWD/$(WORK_FOLDER)":/tf/fashion-lessons $(DOCKER_IMAGE)

# Minutes, not part of `make test`: prints a table and writes benchmarks/results.json.
bench: install
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf _build .pytest_cache dist .image
