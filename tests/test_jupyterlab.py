"""The JupyterLab route: the course's environment opens a lesson (MyST markdown) and an
exercise as notebooks, and runs their cells.

JupyterLab starts from the project's environment on loopback, in a copy of the lessons
and the exercises; headless Chromium (Debian's, driven by Playwright) double-clicks a
lesson in the file browser, which must open jupytext's notebook view (the course's
``overrides.json`` makes it the default for markdown), runs its cells until one shows
output, and runs an exercise (filled in with its reference answers) to its last cell.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from helpers import CHROMIUM
from routes import filled_exercise

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LESSON = "load.md"
EXERCISE = "load_data.ipynb"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """(base URL, token) of JupyterLab serving a copy of book/ and exercises/."""
    root = tmp_path_factory.mktemp("jupyterlab")
    shutil.copytree(REPO / "book", root / "book", ignore=shutil.ignore_patterns("_ext"))
    filled_exercise(root / "exercises" / EXERCISE)
    port, token = _free_port(), secrets.token_hex(16)
    log = (root / "jupyterlab.log").open("w")
    # No settings of this machine's user: what opens a lesson comes from the environment.
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "JUPYTER_CONFIG_DIR": str(root / ".config")}
    env["JUPYTERLAB_SETTINGS_DIR"] = str(root / ".settings")
    env["JUPYTERLAB_WORKSPACES_DIR"] = str(root / ".workspaces")
    server = subprocess.Popen(
        [str(BIN / "jupyter"), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
         *(["--allow-root"] if os.getuid() == 0 else [])],
        cwd=root, stdout=log, stderr=subprocess.STDOUT,
        env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(360):
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
                break
            except OSError:
                assert server.poll() is None, (root / "jupyterlab.log").read_text()[-3000:]
                time.sleep(0.5)
        else:
            raise AssertionError("JupyterLab did not answer within three minutes")
        yield url, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)
        log.close()


@pytest.fixture
def page(browser):
    """A fresh browser context per test: what one test opened does not follow the next."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    yield context.new_page()
    context.close()


_FINISHED = (
    "panel => { const prompts = [...panel.querySelectorAll('.jp-InputPrompt')]"
    ".map(p => p.textContent); return prompts.some(t => /\\[\\d+\\]/.test(t))"
    " && !prompts.some(t => t.includes('*'))"
    " && /\\|\\s*Idle/.test(document.body.innerText); }"
)


def _screenshot(page, name: str) -> Path:
    shot = REPO / ".cache" / "route-tests" / f"jupyterlab-{name}.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot))
    return shot


def _run_all(page, name: str) -> list[str]:
    """Run → Run All Cells, wait until the kernel is idle again; the cells' text outputs.

    JupyterLab stops at the first cell that raises, as a student would see it.
    """
    page.wait_for_function("() => /\\|\\s*Idle/.test(document.body.innerText)", timeout=180_000)
    notebook = page.locator(".jp-NotebookPanel:visible").last
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
    try:
        page.wait_for_function(_FINISHED, arg=notebook.element_handle(), timeout=300_000)
    except Exception as error:
        raise AssertionError(f"{error}; see {_screenshot(page, name)}") from None
    _screenshot(page, name)
    outputs = notebook.locator(".jp-OutputArea-output").all_inner_texts()
    return [text.strip() for text in outputs if text.strip()]


def _open_by_double_click(page, url: str, token: str, folder: str, name: str) -> None:
    # A new workspace (``reset``): nothing a previous visit left open comes back.
    page.goto(f"{url}/lab/tree/{folder}?reset&token={token}")
    item = page.locator(f".jp-DirListing-item[title*='{name}']").first
    if not item.count():
        item = page.locator(".jp-DirListing-itemText", has_text=name).first
    try:
        item.dblclick()
    except Exception as error:
        raise AssertionError(f"{error}; see {_screenshot(page, 'open-' + name)}") from None
    page.locator(".jp-NotebookPanel:visible .jp-Notebook").last.wait_for(timeout=60_000)


def test_a_lesson_opens_as_a_notebook_and_runs(lab, page):
    url, token = lab
    _open_by_double_click(page, url, token, "book", LESSON)
    tab = page.locator(".lm-TabBar-tab.lm-mod-current").last.inner_text()
    assert LESSON in tab
    # A notebook, not the text editor: code cells (JupyterLab renders the visible ones).
    page.locator(".jp-NotebookPanel:visible .jp-CodeCell").first.wait_for(timeout=60_000)
    assert not page.locator(".jp-FileEditor:visible").count()
    outputs = _run_all(page, "lesson")
    assert outputs, "the lesson's cells showed no output"
    assert not [text for text in outputs if "Traceback" in text], outputs


def test_an_exercise_opens_and_runs(lab, page):
    url, token = lab
    _open_by_double_click(page, url, token, "exercises", EXERCISE)
    outputs = _run_all(page, "exercise")
    # With the reference answers, every cell runs; the last one prints the summary.
    assert not [text for text in outputs if "Traceback" in text], outputs
    assert any("'count': 60000" in text for text in outputs), outputs
