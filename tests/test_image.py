"""The course image, built and run for real (``make test-image``; minutes, not in ``make test``).

No Docker engine runs here and no image registry is reachable, so podman (as root, with
``tests/image/containers.conf``) builds and runs the image, and the base is a stand-in
for the Dockerfile's default ``tensorflow/tensorflow:<version>-jupyter``: a Debian root
file system made by mmdebstrap, with the same TensorFlow version from PyPI and Jupyter
(``tests/image/tensorflow-jupyter.Dockerfile``). The course image is built with the
Makefile's own command (``make docker``) and run with its own (``make docker-run``'s), then:
Jupyter answers on its port, a lesson opens as a notebook, ``fashion-lessons check``
gives the reference exercise full marks inside the container, the data loads with the
network off, and what was written in the mounted folder outlives the container.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from routes import CACHE, REPO, check_score, filled_exercise, run, tensorflow_version

pytestmark = [
    pytest.mark.image,
    pytest.mark.skipif(not shutil.which("podman"), reason="podman is not installed"),
]

CONTAINERS_CONF = REPO / "tests" / "image" / "containers.conf"
DEBIAN = "localhost/fashion-lessons-test/debian:bookworm"
IMAGE = "fashion-lessons"
CONTAINER = "fashion-lessons-test"
TIMES: dict[str, float] = {}
# podman keeps the Dockerfile's SHELL only in Docker's image format; RUN steps reach PyPI
# through the host's network, trusting the host's certificate authorities.
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
BUILD_FLAGS = ["--format", "docker", "--network", "host", "-v", f"{CA_BUNDLE}:{CA_BUNDLE}:ro"]


def podman(*arguments, timeout=1800, check=True) -> subprocess.CompletedProcess:
    result = run(["podman", *arguments], timeout=timeout, env=_env())
    if check:
        assert result.returncode == 0, f"podman {arguments[:3]}:\n{result.stderr[-4000:]}"
    return result


def _env() -> dict[str, str]:
    return {**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF)}


def _timed(name: str, started: float) -> None:
    TIMES[name] = time.perf_counter() - started


def _base_image() -> str:
    """The stand-in for tensorflow/tensorflow:<version>-jupyter, built once and kept."""
    version = tensorflow_version()
    base = f"localhost/fashion-lessons-test/tensorflow:{version}-jupyter"
    if podman("image", "exists", base, check=False).returncode == 0:
        return base
    started = time.perf_counter()
    if podman("image", "exists", DEBIAN, check=False).returncode != 0:
        rootfs = CACHE / "debian-bookworm.tar"
        rootfs.parent.mkdir(parents=True, exist_ok=True)
        made = run(
            ["mmdebstrap", "--variant=apt", "--include=python3,python3-pip,ca-certificates",
             "bookworm", rootfs],
            timeout=1800,
        )  # fmt: skip
        assert made.returncode == 0, made.stderr[-4000:]
        podman("import", rootfs, DEBIAN)
        rootfs.unlink()
    podman(
        "build", *BUILD_FLAGS, "--build-arg", f"TENSORFLOW_VERSION={version}",
        "--build-arg", f"DEBIAN_IMAGE={DEBIAN}", "-f", REPO / "tests" / "image" /
        "tensorflow-jupyter.Dockerfile", "-t", base, REPO / "tests" / "image",
    )  # fmt: skip
    _timed("stand-in base (mmdebstrap + TensorFlow + Jupyter)", started)
    return base


@pytest.fixture(scope="module")
def image():
    base = _base_image()
    started = time.perf_counter()
    built = run(
        ["make", "--no-print-directory", "docker", "DOCKER=podman",
         f"DOCKER_BUILD_FLAGS={' '.join(BUILD_FLAGS)} --build-arg BASE_IMAGE={base}"],
        cwd=REPO, env=_env(), timeout=1800,
    )  # fmt: skip
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-4000:]
    _timed("course image (make docker)", started)
    yield IMAGE
    size = int(podman("image", "inspect", "--format", "{{.Size}}", IMAGE).stdout)
    report = [f"image {IMAGE}: {size / 1e9:.2f} GB"]
    report += [f"{name}: {seconds:.0f} s" for name, seconds in TIMES.items()]
    (CACHE / "image-report.txt").write_text("\n".join(report) + "\n")
    print("\n" + "\n".join(report))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run_command(work: Path, port: int) -> list[str]:
    """``make docker-run``'s command, detached, on a free port, with ``work`` mounted."""
    lines = run(["make", "--no-print-directory", "-n", "docker-run"], cwd=REPO).stdout
    command = next(line for line in lines.splitlines() if " run " in line)
    command = command.replace("$(id -u)", str(os.getuid())).replace("$(id -g)", str(os.getgid()))
    words = shlex.split(command.replace('"$PWD/my-work"', shlex.quote(str(work))))
    assert words[:3] == ["docker", "run", "-it"], words
    words[words.index("-p") + 1] = f"127.0.0.1:{port}:8888"
    return ["run", "-d", "--name", CONTAINER, *words[3:]]


@pytest.fixture(scope="module")
def container(image, tmp_path_factory):
    """(base URL, token, work folder) of the image started by the documented command."""
    work = tmp_path_factory.mktemp("my-work")
    podman("rm", "-f", CONTAINER, check=False)
    port = _free_port()
    started = time.perf_counter()
    podman(*_run_command(work, port))
    url, token = f"http://127.0.0.1:{port}", None
    try:
        for _ in range(240):
            logs = podman("logs", CONTAINER, check=False)
            found = re.search(r"token=([0-9a-f]+)", logs.stdout + logs.stderr)
            if found:
                token = found.group(1)
                try:
                    urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
                    break
                except OSError:
                    pass
            time.sleep(0.5)
        else:
            raise AssertionError(f"Jupyter did not answer:\n{logs.stdout}{logs.stderr}"[-4000:])
        _timed("container start until Jupyter answers", started)
        yield url, token, work
    finally:
        podman("rm", "-f", CONTAINER, check=False)


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)


def test_the_base_is_the_tensorflow_of_the_course(image):
    version = podman("run", "--rm", image, "python3", "-m", "pip", "list", "--format", "json")
    packages = {p["name"].lower(): p["version"] for p in json.loads(version.stdout)}
    assert packages["tensorflow"] == tensorflow_version()
    assert "tensorflow-cpu" not in packages


def test_jupyter_answers_and_opens_a_lesson_as_a_notebook(container):
    url, token, _ = container
    lesson = _get(f"{url}/api/contents/fashion-lessons/lessons/load.md?type=notebook&token={token}")
    assert lesson["type"] == "notebook"
    code = [cell for cell in lesson["content"]["cells"] if cell["cell_type"] == "code"]
    assert len(code) >= 3
    settings = _get(f"{url}/lab/api/settings/@jupyterlab/docmanager-extension:plugin?token={token}")
    # JupyterLab applies the environment's overrides.json to the setting's default.
    viewers = settings["schema"]["properties"]["defaultViewers"].get("default", {})
    assert viewers.get("markdown") == "Jupytext Notebook", settings


def test_check_gives_the_reference_exercise_full_marks_inside(container):
    _, _, work = container
    filled_exercise(work / "mine" / "load_data.ipynb")
    started = time.perf_counter()
    check = podman(
        "exec", "-w", "/tf/fashion-lessons/mine", CONTAINER,
        "fashion-lessons", "check", "load_data.ipynb", check=False,
    )  # fmt: skip
    _timed("fashion-lessons check in the container", started)
    earned, total = check_score(check.stdout)
    assert check.returncode == 0 and earned == total > 0, check.stdout[-3000:]


def test_the_data_loads_with_the_network_off(image):
    data = podman("run", "--rm", "--network", "none", image, "fashion-lessons", "data", "--offline")
    assert "60000" in data.stdout.replace(",", ""), data.stdout


def test_work_in_the_mounted_folder_outlives_the_container(container, image):
    _, _, work = container
    # The container copied the course into the mounted folder when it started.
    exercise = work / "exercises" / "01-load-data" / "load_data.ipynb"
    assert exercise.is_file() and (work / "lessons" / "load.md").is_file()
    inside = "/tf/fashion-lessons/exercises/01-load-data/load_data.ipynb"
    podman("exec", CONTAINER, "bash", "-c", f"echo 'my answer' >> {inside}")
    podman("rm", "-f", CONTAINER)
    assert exercise.read_text().endswith("my answer\n")
    # Started again on the same folder, it keeps the student's version.
    podman(*_run_command(work, _free_port()))
    try:
        for _ in range(60):
            if "Jupyter" in (podman("logs", CONTAINER, check=False).stderr or ""):
                break
            time.sleep(0.5)
        assert exercise.read_text().endswith("my answer\n")
    finally:
        podman("rm", "-f", CONTAINER, check=False)
