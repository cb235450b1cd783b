"""The JupyterLab route: the course's environment opens a lesson (MyST markdown) and an
exercise as notebooks, and runs their cells.

JupyterLab starts from the project's environment on loopback, in a copy of the lessons
and the exercises; headless Chromium (Debian's, driven by Playwright) double-clicks a
lesson in the file browser, which must open jupytext's notebook view (the course's
``overrides.json`` makes it the default for markdown), runs its cells until one shows
output, and does the same with an exercise.
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

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
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
    shutil.copy(REPO / "exercises" / "01-load-data" / EXERCISE, root / EXERCISE)
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


@pytest.fixture(scope="module")
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"],
        )  # fmt: skip
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        yield context.new_page()
        browser.close()


_EXECUTED = (
    "([panel, done]) => { const prompts = [...panel.querySelectorAll('.jp-InputPrompt')]"
    ".map(p => p.textContent); return !prompts.some(t => t.includes('*'))"
    " && prompts.filter(t => /\\[\\d+\\]/.test(t)).length > done; }"
)


def _run_cells_until_output(page, limit: int) -> str:
    """Run the code cells one by one from the first (Shift+Enter, waiting for each to
    finish) until one shows text output; fail on the first error."""
    # The kernel is up: the status bar reads "Python 3 (ipykernel) | Idle".
    page.wait_for_function("() => /\\|\\s*Idle/.test(document.body.innerText)", timeout=180_000)
    notebook = page.locator(".jp-NotebookPanel:visible").last
    notebook.locator(".jp-CodeCell .jp-InputArea-editor").first.click()
    page.keyboard.press("Escape")  # command mode: Shift+Enter runs and moves on
    outputs = notebook.locator(".jp-OutputArea-output")
    for done in range(limit):
        page.keyboard.press("Shift+Enter")
        page.wait_for_function(_EXECUTED, arg=[notebook.element_handle(), done], timeout=180_000)
        texts = [text.strip() for text in outputs.all_inner_texts() if text.strip()]
        errors = [text for text in texts if "Traceback" in text or "Error" in text]
        assert not errors, errors[0][-2000:]
        if texts:
            return "\n".join(texts)
    shot = REPO / ".cache" / "route-tests" / "jupyterlab-no-output.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot))
    raise AssertionError(f"no cell among the first {limit} showed output; see {shot}")


def _open_by_double_click(page, url: str, token: str, folder: str, name: str) -> None:
    page.goto(f"{url}/lab/tree/{folder}?token={token}")
    item = page.locator(f".jp-DirListing-item[title*='{name}']").first
    if not item.count():
        item = page.locator(".jp-DirListing-itemText", has_text=name).first
    item.dblclick()
    page.locator(".jp-NotebookPanel:visible .jp-Notebook").last.wait_for(timeout=60_000)


def test_a_lesson_opens_as_a_notebook_and_runs(lab, page):
    url, token = lab
    _open_by_double_click(page, url, token, "book", LESSON)
    tab = page.locator(".lm-TabBar-tab.lm-mod-current").last.inner_text()
    assert LESSON in tab
    # A notebook, not the text editor: code cells (JupyterLab renders the visible ones).
    page.locator(".jp-NotebookPanel:visible .jp-CodeCell").first.wait_for(timeout=60_000)
    assert not page.locator(".jp-FileEditor:visible").count()
    output = _run_cells_until_output(page, limit=6)
    assert "Traceback" not in output and "Error" not in output, output


def test_an_exercise_opens_and_runs(lab, page):
    url, token = lab
    _open_by_double_click(page, url, token, "", EXERCISE)
    output = _run_cells_until_output(page, limit=5)
    assert "(60000, 28, 28)" in output, output
