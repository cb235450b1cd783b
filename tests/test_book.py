"""The course website: built for real, checked as HTML and in a real browser.

A session fixture builds the book with ``jupyter-book build`` when ``_build/html`` is
missing or older than the book's sources (``make test`` builds it first anyway). The
browser tests drive Debian's Chromium through Playwright against a local HTTP server;
the browser reaches nothing else, and a page that asks another host for anything fails.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import html
import http.server
import json
import os
import re
import subprocess
import threading
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
BUILD = REPO / "_build"
SITE = BUILD / "html"

# The pages in reading order: (source name, words the page title must contain).
PAGES = [
    ("welcome", "Welcome"),
    ("docker", "Docker"),
    ("load", "Load"),
    ("scale", "Scale"),
    ("model", "Build the model"),
    ("train", "Train, evaluate, predict"),
    ("overfitting", "overfitting"),
    ("dropout", "dropout"),
    ("faster", "train faster"),
    ("exercises", "Graded exercises"),
    ("instructors", "instructors"),
    ("references", "References"),
]
EXECUTABLE = ["load", "scale", "model", "train", "overfitting", "dropout", "faster"]
LESSONS = ["load", "scale", "model", "train", "overfitting", "dropout"]


def _sources() -> list[Path]:
    return [
        REPO / "_config.yml",
        REPO / "_toc.yml",
        REPO / "references.bib",
        *sorted((REPO / "book").rglob("*.md")),
        *sorted((REPO / "book" / "_ext").rglob("*.py")),
        *sorted((REPO / "book" / "_ext").rglob("*.js")),
        *sorted((REPO / "book" / "_ext").rglob("*.css")),
    ]


def _site_is_stale() -> bool:
    outputs = list(SITE.rglob("*.html")) if SITE.is_dir() else []
    if not outputs or not (SITE / "index.html").exists():
        return True
    newest_output = max(path.stat().st_mtime for path in outputs)
    return max(path.stat().st_mtime for path in _sources()) > newest_output


@pytest.fixture(scope="session")
def site() -> Path:
    """The built site, rebuilt (warnings are errors) when missing or out of date."""
    if _site_is_stale():
        result = subprocess.run(
            [
                str(REPO / ".venv" / "bin" / "jupyter-book"),
                "build",
                "--warningiserror",
                "--keep-going",
                ".",
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
            timeout=900,
        )
        assert result.returncode == 0, (
            f"book build failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
    assert (SITE / "index.html").is_file()
    return SITE


class _Collector(HTMLParser):
    """Collects <img> and <a> attributes, element ids and visible text of one page."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str | None]] = []
        self.links: list[dict[str, str | None]] = []
        self.ids: set[str] = set()
        self.text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "id" in attributes:
            self.ids.add(attributes["id"])
        if tag == "img":
            self.images.append(attributes)
        elif tag == "a":
            self.links.append(attributes)
        elif tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


@functools.cache
def _parse(path: Path) -> _Collector:
    collector = _Collector()
    collector.feed(path.read_text(encoding="utf-8"))
    return collector


def _page_text(path: Path) -> str:
    return re.sub(r"\s+", " ", html.unescape("".join(_parse(path).text)))


# --- the build ------------------------------------------------------------------------


def test_toc_lists_the_pages_in_order(site):
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    files = [toc["root"]] + [chapter["file"] for chapter in toc["chapters"]]
    assert files == [f"book/{name}" for name, _ in PAGES]


def test_every_page_is_built_with_its_title_in_the_navigation(site):
    navigation = _page_text(site / "book" / "welcome.html")
    positions = []
    for name, title in PAGES:
        page = site / "book" / f"{name}.html"
        assert page.is_file(), f"{page} was not built"
        heading = re.search(r"<h1>(.*?)<", page.read_text(encoding="utf-8"), re.S)
        assert heading and title.lower() in heading.group(1).lower(), (name, heading)
        positions.append(navigation.find(html.unescape(heading.group(1)).strip()))
    assert all(position >= 0 for position in positions)
    assert positions[1:] == sorted(positions[1:]), "sidebar order differs from the toc"


@pytest.mark.parametrize("name", EXECUTABLE)
def test_lessons_were_executed_without_errors(site, name):
    notebook = json.loads((BUILD / "jupyter_execute" / "book" / f"{name}.ipynb").read_text())
    code_cells = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert code_cells, f"{name} has no code cells"
    outputs = [output for cell in code_cells for output in cell.get("outputs", [])]
    assert outputs, f"{name} was not executed"
    errors = [output for output in outputs if output["output_type"] == "error"]
    assert not errors, f"{name}: {errors[0].get('ename')}: {errors[0].get('evalue')}"


# --- numbers come from the run ----------------------------------------------------------


def _glued(name: str) -> dict[str, str]:
    """The text/plain value of every glued variable of an executed lesson.

    myst-nb moves glue outputs out of the executed notebook into ``<page>.glue.json``.
    """
    file = BUILD / "jupyter_execute" / "book" / f"{name}.glue.json"
    return {
        key: output["data"]["text/plain"] for key, output in json.loads(file.read_text()).items()
    }


def test_parameter_count_in_the_prose_is_the_models(site):
    glued = _glued("model")
    assert int(glued["total_params"]) == 101_770
    text = _page_text(site / "book" / "model.html")
    assert "= 101,770" in text
    assert "784 · 128 = 100,352 weights" in text


def test_dropout_table_shows_the_mean_and_sd_of_the_cached_sweep(site):
    import statistics

    runs: dict[tuple[int, float], list[dict]] = {}
    for file in (BUILD / "experiments").glob("experiment-*.json"):
        stored = json.loads(file.read_text())
        config = stored["config"]
        if config["path"] == "stacked" and config["patience"] == 5:
            runs.setdefault((config["train_size"], config["dropout_rate"]), []).append(stored)
    text = _page_text(site / "book" / "dropout.html")
    for size in (1000, 5000):
        for rate in (0.0, 0.2, 0.5):
            seeds = runs[(size, rate)]
            assert len(seeds) == 5, (size, rate, len(seeds))
            loss = [min(run["history"]["val_loss"]) for run in seeds]
            val = [run["validation_accuracy"] for run in seeds]
            gap = [run["train_accuracy"] - run["validation_accuracy"] for run in seeds]
            cells = [
                f"{size:,}",
                f"{rate:g}",
                f"{statistics.mean(loss):.3f} ± {statistics.stdev(loss):.3f}",
                f"{statistics.mean(val):.3f} ± {statistics.stdev(val):.3f}",
                f"{statistics.mean(gap):.3f} ± {statistics.stdev(gap):.3f}",
            ]
            assert " ".join(cells) in text, f"dropout table row not found: {cells}"


def test_overfitting_page_marks_the_epoch_of_lowest_validation_loss(site):
    glued = _glued("overfitting")
    runs = [
        json.loads(file.read_text()) for file in (BUILD / "experiments").glob("experiment-*.json")
    ]
    full = next(
        run
        for run in runs
        if run["config"]["train_size"] is None and run["config"]["dropout_rate"] == 0.0
    )
    val_loss = full["history"]["val_loss"]
    assert int(glued["best_epoch"]) == val_loss.index(min(val_loss)) + 1
    text = _page_text(site / "book" / "overfitting.html")
    assert f"Validation loss is lowest in epoch {glued['best_epoch']}" in text


def test_training_page_numbers_come_from_its_run(site):
    glued = _glued("train")
    text = _page_text(site / "book" / "train.html")
    assert f"to {float(glued['train_accuracy']):.3f} in the last" in text
    assert f"classifies {float(glued['test_accuracy']):.1%} of the test images" in text
    # Seeded 5 epochs at batch size 32 on the full data: the seed's story.
    assert 0.86 < float(glued["train_accuracy"]) < 0.92
    assert 0.84 < float(glued["test_accuracy"]) < 0.90


def _prose(markdown: str) -> str:
    """Markdown without front matter, code cells, code spans and glue roles."""
    markdown = re.sub(r"\A---\n.*?\n---\n", "", markdown, flags=re.S)
    markdown = re.sub(r"```.*?```", "", markdown, flags=re.S)
    markdown = re.sub(r"\{glue:[a-z]+\}`[^`]*`", "", markdown)
    markdown = re.sub(r"\{cite:[a-z]+\}`[^`]*`", "", markdown)
    return re.sub(r"`[^`]*`", "", markdown)


@pytest.mark.parametrize("name", EXECUTABLE)
def test_no_measured_number_is_typed_into_the_prose(name):
    prose = _prose((REPO / "book" / f"{name}.md").read_text())
    typed = re.findall(r"\b0\.\d{3,}\b|\b\d+(?:\.\d+)?\s?%", prose)
    assert not typed, f"{name}.md types measured numbers into prose, glue them: {typed}"


def test_the_typed_number_check_can_fail():
    assert re.findall(r"\b0\.\d{3,}\b", _prose("Test accuracy is 0.866 here.\n"))


# --- figures, buttons, references -----------------------------------------------------


def _html_pages(site: Path) -> list[Path]:
    return sorted(path for path in site.rglob("*.html") if "_static" not in path.parts)


def test_every_image_has_alt_text(site):
    checked = 0
    for page in _html_pages(site):
        for image in _parse(page).images:
            checked += 1
            assert (image.get("alt") or "").strip(), (
                f"{page.name}: <img src={image.get('src', '')[:60]}> has no alt"
            )
    figures = sum(
        1
        for image in _parse(site / "book" / "dropout.html").images
        if image["src"].startswith("data:image/png")
    )
    assert figures >= 1 and checked >= 20


@pytest.mark.parametrize("name", EXECUTABLE)
def test_launch_and_download_buttons_point_at_the_page(site, name):
    config = yaml.safe_load((REPO / "_config.yml").read_text())
    repository = config["repository"]["url"].rstrip("/")
    org_repo = repository.removeprefix("https://github.com/")
    hrefs = [link.get("href") or "" for link in _parse(site / "book" / f"{name}.html").links]
    binder = [href for href in hrefs if href.startswith(config["launch_buttons"]["binderhub_url"])]
    assert binder == [
        f"https://mybinder.org/v2/gh/{org_repo}/{config['repository']['branch']}?urlpath=tree/book/{name}.md"
    ]
    assert (REPO / "book" / f"{name}.md").is_file()
    downloads = {href for href in hrefs if href.startswith("../_sources/")}
    assert {f"../_sources/book/{name}.md", f"../_sources/book/{name}.ipynb"} <= downloads
    assert any(href.startswith(repository) for href in hrefs), "no repository button"


@pytest.mark.parametrize("name", EXECUTABLE)
def test_colab_button_opens_this_pages_notebook(site, name):
    import jupytext

    config = yaml.safe_load((REPO / "_config.yml").read_text())
    org_repo = config["repository"]["url"].rstrip("/").removeprefix("https://github.com/")
    branch = config["sphinx"]["config"]["colab_notebook_branch"]
    hrefs = [link.get("href") or "" for link in _parse(site / "book" / f"{name}.html").links]
    colab = [href for href in hrefs if href.startswith("https://colab.research.google.com/")]
    assert colab == [
        f"https://colab.research.google.com/github/{org_repo}/blob/{branch}/_sources/book/{name}.ipynb"
    ]
    # The linked notebook is this page's source, as published with the site.
    published = json.loads((site / "_sources" / "book" / f"{name}.ipynb").read_text())
    source = jupytext.read(REPO / "book" / f"{name}.md")

    def code(cells):
        return ["".join(cell["source"]).strip() for cell in cells if cell["cell_type"] == "code"]

    # After the cell that installs the course where it is missing (Colab).
    published_code = code(published["cells"])
    assert "%pip install --quiet" in published_code[0]
    assert published_code[1:] == code(source.cells)


def test_references_page_lists_the_papers(site):
    text = _page_text(site / "book" / "references.html").lower()
    for expected in (
        "Overfitting and Undercomputing in Machine Learning",
        "ACM Computing Surveys",
        "Dropout: A Simple Way to Prevent Neural Networks from Overfitting",
        "Journal of Machine Learning Research",
        "1708.07747",
        "Gradient-Based Learning Applied to Document Recognition",
        "MNIST",
    ):
        assert expected.lower() in text, expected
    assert "references.html#id" in (site / "book" / "dropout.html").read_text(encoding="utf-8")


def test_docker_page_explains_every_flag_of_the_seed_command(site):
    text = _page_text(site / "book" / "docker.html")
    assert (
        "docker run -it -u 501 --rm -p 8888:8888 tensorflow/tensorflow:latest-py3-jupyter" in text
    )
    for flag in ("-it", "-u 501", "--rm", "-p 8888:8888", "latest-jupyter", "token"):
        assert flag in text, flag


# --- no solutions on the student site ----------------------------------------------------

MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
# Lines a lesson legitimately shares with a solution: the course's own idioms, which the
# lessons teach before the exercises ask for them. Anything else found on the site fails.
COMMON_LINES = {
    "pass",
    "raise NotImplementedError()",
    "model = build_model()",
    "for label, name in enumerate(CLASS_NAMES):",
}


def _solution_lines() -> set[str]:
    """Non-trivial lines that only appear inside solution and hidden-test regions.

    Reads every ``solutions/**/*.ipynb``. A line that the notebooks also show outside
    those regions (a visible test repeating a call, say) is public, not secret.
    """
    secret, public = set(), set()
    for notebook_file in sorted((REPO / "solutions").rglob("*.ipynb")):
        notebook = json.loads(notebook_file.read_text())
        for cell in notebook["cells"]:
            source = cell["source"]
            source = "".join(source) if isinstance(source, list) else source
            inside = False
            for line in source.splitlines():
                stripped = line.strip()
                if "BEGIN SOLUTION" in stripped or "BEGIN HIDDEN TESTS" in stripped:
                    inside = True
                elif "END SOLUTION" in stripped or "END HIDDEN TESTS" in stripped:
                    inside = False
                elif not inside:
                    public.add(stripped)
                elif len(stripped) >= 20 and not stripped.startswith("#"):
                    secret.add(stripped)
    lesson = _lesson_code_lines()
    secret -= public | COMMON_LINES
    return {line for line in secret if not any(line in taught for taught in lesson)}


def _lesson_code_lines() -> set[str]:
    """Lines of the lessons' own code cells: what the book teaches is public.

    The lessons show the plain Keras code of the seed's model (as the exercises' answers
    also are), so those lines appear in both places by design.
    """
    lines = set()
    for page in (REPO / "book").glob("*.md"):
        for cell in re.findall(r"```\{code-cell\}[^\n]*\n(.*?)```", page.read_text(), re.S):
            lines.update(line.strip() for line in cell.splitlines())
    return lines


def _site_texts(site: Path) -> dict[Path, str]:
    files = [
        path
        for path in site.rglob("*")
        if path.is_file()
        and path.suffix in {".html", ".ipynb", ".md", ".txt", ".js"}
        and "_static" not in path.parts
    ]
    return {
        path: html.unescape(path.read_text(encoding="utf-8", errors="replace")) for path in files
    }


def _code_blocks(path: Path, text: str) -> list[str]:
    """The code a published file shows: <pre> blocks, notebook code cells, fenced blocks.

    Prose may name the markers (the instructors' page explains them); code may not.
    """
    if path.suffix == ".ipynb":
        cells = json.loads(text)["cells"]
        return ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"]
    if path.suffix in {".md", ".txt"}:
        return re.findall(r"^(?:```|~~~).*?^(?:```|~~~)", text, flags=re.S | re.M)
    blocks = re.findall(r"<pre\b.*?</pre>", text, flags=re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", block)) for block in blocks]


def _marker_leaks(texts: dict[Path, str]) -> list[tuple[str, str]]:
    return [
        (path.name, marker)
        for path, text in texts.items()
        for block in _code_blocks(path, text)
        for marker in MARKERS
        if marker in block
    ]


def test_site_contains_no_solution_markers(site):
    texts = _site_texts(site)
    assert len(texts) > 20
    blocks = [block for path, text in texts.items() for block in _code_blocks(path, text)]
    assert len(blocks) > 50, "suspiciously little code found on the site"
    assert not _marker_leaks(texts)


def test_site_contains_no_solution_code(site):
    lines = _solution_lines()
    if not list((REPO / "solutions").rglob("*.ipynb")):
        pytest.fail("solutions/ holds no notebooks: the solution-code check would check nothing")
    assert lines, "solution notebooks exist but no solution lines were extracted"
    texts = _site_texts(site)
    leaks = [
        (path.relative_to(site), line)
        for path, text in texts.items()
        for line in lines
        if line in text
    ]
    assert not leaks, f"solution code on the site: {leaks[:5]}"


def test_the_solution_check_would_catch_a_leak(tmp_path):
    code = '<div class="highlight"><pre><span class="c1">### BEGIN SOLUTION</span>\n</pre></div>'
    (tmp_path / "page.html").write_text("<p>Prose may say `### BEGIN SOLUTION`.</p>" + code)
    (tmp_path / "prose.html").write_text("<p>Prose may say ### BEGIN HIDDEN TESTS.</p>")
    leaks = _marker_leaks(_site_texts(tmp_path))
    assert leaks == [("page.html", "### BEGIN SOLUTION")]


# --- in a real browser -------------------------------------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass


@contextlib.contextmanager
def _serving(folder: Path):
    """Serve ``folder`` on 127.0.0.1 at a free port, in a thread; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="session")
def server(site):
    """``_build/html`` served on 127.0.0.1 at a free port; yields the base URL."""
    with _serving(site) as base:
        yield base


# Nothing listens here: every request that goes through this proxy fails.
DEAD_PROXY = "http://127.0.0.1:9"


class _Visit:
    """A browser context that reaches the site's server and nothing else, with one page
    that loads the site's pages one after another, as a reader follows links.

    Every request to another host or port goes to a dead proxy and fails, as offline;
    each one is recorded, as are console errors and uncaught errors, per page loaded.
    The page and its HTTP cache are kept from one load to the next.
    """

    def __init__(self, browser, base: str) -> None:
        host = urllib.parse.urlsplit(base).netloc
        # "<-loopback>" removes the implicit bypass of every local address.
        self.context = browser.new_context(
            proxy={"server": DEAD_PROXY, "bypass": f"<-loopback>,{host}"}
        )
        self.page = self.context.new_page()
        self.base = base
        self.foreign_requests: list[str] = []
        self.console_errors: list[tuple[str, str]] = []
        self.page_errors: list[str] = []
        self.page.on("request", self._request)
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.page_errors.append(str(error)))

    def _request(self, request):
        if not request.url.startswith((self.base + "/", "data:")):
            self.foreign_requests.append(request.url)

    def _console(self, message):
        if message.type == "error":
            self.console_errors.append((message.text, message.location.get("url", "")))

    def load(self, url: str):
        """Load ``url`` and wait until the network is idle; the records start anew."""
        self.foreign_requests.clear()
        self.console_errors.clear()
        self.page_errors.clear()
        response = self.page.goto(url, wait_until="load")
        self.page.wait_for_load_state("networkidle")
        return response

    def __enter__(self) -> _Visit:
        return self

    def __exit__(self, *exc_info) -> None:
        self.context.close()


def _page_urls(site: Path, base: str) -> list[str]:
    return [f"{base}/{path.relative_to(site).as_posix()}" for path in _html_pages(site)]


def test_every_page_loads_cleanly_in_chromium(surveys):
    """No error, no broken image: the desktop visits the layout test below shares."""
    pages = surveys("desktop")
    assert len(pages) >= len(PAGES)
    for url, page in pages.items():
        assert page.status == 200, url
        assert not page.load_errors, f"{url}: uncaught errors {page.load_errors}"
        assert not page.console_errors, f"{url}: {page.console_errors}"
        assert not page.foreign_requests, f"{url}: requests to other hosts {page.foreign_requests}"
        assert not page.broken_images, f"{url}: images that did not load: {page.broken_images}"


def test_only_the_sites_own_server_is_reached(site, browser, server):
    """Another host, another server on this machine, or this server by another name:
    each request is recorded and fails; the site's own files load."""
    image = next((site / "_images").glob("*.png")).name
    local = f"{server}/_images/{image}"
    with _serving(site) as other, _Visit(browser, server) as visit:
        foreign = [
            "https://cdn.example/x.png",
            f"{other}/_images/{image}",
            local.replace("127.0.0.1", "localhost"),
        ]
        visit.load(f"{server}/book/welcome.html")
        loaded = visit.page.evaluate(
            "async urls => Promise.all(urls.map(url => new Promise(done => {"
            " const image = new Image(); image.onload = () => done(true);"
            " image.onerror = () => done(false); image.src = url; })))",
            [local, *foreign],
        )
        assert loaded == [True, False, False, False]
        assert sorted(visit.foreign_requests) == sorted(foreign)


def test_the_load_check_would_catch_a_page_that_needs_another_host(tmp_path, browser):
    (tmp_path / "page.html").write_text(
        "<html><head><script src='https://cdn.example/lib.js'></script></head>"
        "<body><p>offline?</p></body></html>"
    )
    with _serving(tmp_path) as base, _Visit(browser, base) as visit:
        assert visit.load(f"{base}/page.html").status == 200
        assert visit.foreign_requests == ["https://cdn.example/lib.js"]
        assert any("cdn.example/lib.js" in url for _, url in visit.console_errors)
        visit.load(f"{base}/page.html")  # the records are per load, not cumulative
        assert visit.foreign_requests == ["https://cdn.example/lib.js"]


@dataclasses.dataclass
class _Response:
    status: int
    content_type: str
    text: str


def _get(url: str) -> _Response:
    """GET ``url`` of the local server, with no proxy; an HTTP error is a response too."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=30) as response:
            body = response.read().decode("utf-8", errors="replace")
            return _Response(response.status, response.headers.get_content_type(), body)
    except urllib.error.HTTPError as error:
        return _Response(error.code, error.headers.get_content_type(), "")


def test_every_internal_link_resolves(site, server):
    """Every <a href> on the site's own host answers 200, and its #anchor exists there."""
    pages: dict[str, tuple[int, set[str], list[str]]] = {}

    def fetch(url: str) -> tuple[int, set[str], list[str]]:
        if url not in pages:
            response = _get(url)
            ids, hrefs = set(), []
            if response.status == 200 and response.content_type == "text/html":
                collector = _Collector()
                collector.feed(response.text)
                ids = collector.ids
                hrefs = [link["href"] for link in collector.links if link.get("href")]
            pages[url] = (response.status, ids, hrefs)
        return pages[url]

    problems, checked = [], 0
    for url in _page_urls(site, server):
        for href in fetch(url)[2]:
            absolute = urllib.parse.urljoin(url, href)
            if not absolute.startswith(server + "/"):
                continue
            checked += 1
            target, _, fragment = absolute.partition("#")
            status, ids, _ = fetch(target)
            if status != 200:
                problems.append(f"{url} -> {href}: HTTP {status}")
            elif fragment and ids and urllib.parse.unquote(fragment) not in ids:
                problems.append(f"{url} -> {href}: no element with id {fragment!r}")
    assert checked > 100, f"suspiciously few internal links were checked ({checked})"
    assert not problems, "\n".join(problems[:20])


def test_the_link_check_would_catch_a_broken_link(server):
    assert _get(f"{server}/book/no-such-page.html").status == 404


def test_search_finds_dropout(server, browser):
    with _Visit(browser, server) as visit:
        visit.page.goto(f"{server}/search.html?q=dropout", wait_until="load")
        results = visit.page.locator("#search-results ul.search li a")
        results.first.wait_for(timeout=20_000)
        hrefs = results.evaluate_all("links => links.map(link => link.getAttribute('href'))")
        assert any("book/dropout.html" in href for href in hrefs), hrefs
        assert not visit.console_errors and not visit.foreign_requests


def test_colab_button_in_the_browser_points_at_the_dropout_notebook(server, browser):
    with _Visit(browser, server) as visit:
        visit.page.goto(f"{server}/book/dropout.html", wait_until="load")
        link = visit.page.locator("a[href*='colab.research.google.com']")
        assert link.count() == 1
        href = link.get_attribute("href")
        notebook = href.split("/blob/", 1)[1].split("/", 1)[1]
        assert notebook == "_sources/book/dropout.ipynb"
        response = _get(f"{server}/{notebook}")
        assert response.status == 200
        cells = json.loads(response.text)["cells"]
        assert any("dropout_sweep" in "".join(cell["source"]) for cell in cells)


# --- self-checks, and every page at desktop and phone width ------------------------------


VIEWPORTS = {"desktop": (1280, 900), "phone": (390, 844)}

OVERFLOWS = """() => {
    const column = document.querySelector("article.bd-article") || document.querySelector("main");
    const limit = column.getBoundingClientRect().right + 1;
    const problems = [];
    for (const element of column.querySelectorAll("img, table, .self-check")) {
        // A table may scroll inside its own container; that container must fit.
        let box = element;
        let parent = element.parentElement;
        for (; parent && parent !== column; parent = parent.parentElement) {
            const style = getComputedStyle(parent);
            if (["auto", "scroll"].includes(style.overflowX)) { box = parent; break; }
        }
        const right = box.getBoundingClientRect().right;
        const what = element.getAttribute("alt") || element.className || "";
        if (right > limit) {
            problems.push(`${element.tagName} ${what.slice(0, 60)} ends at ${Math.round(right)}`);
        }
    }
    const pageWidth = document.documentElement.scrollWidth;
    if (pageWidth > window.innerWidth + 1) {
        problems.push(`the page scrolls sideways: ${pageWidth} > ${window.innerWidth}`);
    }
    return problems;
}"""


def _answer(question, right: bool) -> str:
    """Answer one self-check right or wrong; return the feedback it shows."""
    kind = question.get_attribute("data-kind")
    answer = question.get_attribute("data-answer")
    if kind == "number":
        value = float(answer) if right else float(answer) + 10
        question.locator("input[type=text]").fill(f"{value:g}")
        question.locator(".self-check-button").click()
    else:
        choices = question.locator("input[type=radio]")
        values = [choices.nth(i).get_attribute("value") for i in range(choices.count())]
        pick = answer if right else next(value for value in values if value != answer)
        question.locator(f"input[type=radio][value='{pick}']").check()
    return question.locator(".self-check-feedback").inner_text()


@dataclasses.dataclass
class _PageSurvey:
    """One visit of a page at one viewport: how it loaded, then its layout and self-checks.

    ``answers`` holds, per self-check: the feedback to a wrong answer, whether the
    explanation stayed hidden then, the feedback to the right answer, and whether the
    explanation (if any) showed then.
    """

    status: int | None
    load_errors: list[str]
    console_errors: list[tuple[str, str]]
    foreign_requests: list[str]
    broken_images: list[str]
    overflows: list[str]
    answers: list[tuple[str, bool, str, bool]]
    page_errors: list[str]


def _survey_page(visit: _Visit, url: str) -> _PageSurvey:
    """Load ``url`` in ``visit``'s page; record how it loaded, its layout, its self-checks."""
    response = visit.load(url)
    load_errors = list(visit.page_errors)
    console_errors = list(visit.console_errors)
    foreign_requests = list(visit.foreign_requests)
    broken = visit.page.evaluate(
        "() => Array.from(document.images)"
        ".filter(image => !image.complete || image.naturalWidth === 0)"
        ".map(image => image.src.slice(0, 80))"
    )
    overflows = visit.page.evaluate(OVERFLOWS)
    answers = []
    questions = visit.page.locator(".self-check")
    for index in range(questions.count()):
        question = questions.nth(index)
        question.scroll_into_view_if_needed()
        wrong = _answer(question, right=False)
        hidden = question.locator(".self-check-explanation").is_hidden()
        right = _answer(question, right=True)
        explanation = question.locator(".self-check-explanation")
        shown = explanation.count() == 0 or explanation.is_visible()
        answers.append((wrong, hidden, right, shown))
    return _PageSurvey(
        response.status if response is not None else None,
        load_errors,
        console_errors,
        foreign_requests,
        broken,
        overflows,
        answers,
        list(visit.page_errors),
    )


@pytest.fixture(scope="module")
def surveys(site, server, browser):
    """Every page visited once per viewport (``VIEWPORTS``), by URL, in one browser page
    per viewport; each viewport's visits are made the first time a test asks for them
    and shared after."""
    done: dict[str, dict[str, _PageSurvey]] = {}

    def survey(viewport: str) -> dict[str, _PageSurvey]:
        if viewport not in done:
            width, height = VIEWPORTS[viewport]
            with _Visit(browser, server) as visit:
                visit.page.set_viewport_size({"width": width, "height": height})
                done[viewport] = {url: _survey_page(visit, url) for url in _page_urls(site, server)}
        return done[viewport]

    return survey


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_every_page_fits_its_column_and_self_checks_answer(surveys, viewport):
    problems, answered = {}, 0
    for url, page in surveys(viewport).items():
        if page.overflows:
            problems[url] = page.overflows
        name = url.rsplit("/", 1)[-1].removesuffix(".html")
        if name in LESSONS:
            assert 2 <= len(page.answers) <= 4, f"{name} has {len(page.answers)} self-checks"
        for index, (wrong, hidden, right, shown) in enumerate(page.answers):
            assert wrong.startswith("✗"), (url, index, wrong)
            assert hidden, (url, index, "the explanation showed after a wrong answer")
            assert right.startswith("✓"), (url, index, right)
            assert shown, (url, index, "the explanation did not show after the right answer")
            answered += 1
        assert not page.page_errors, f"{url}: {page.page_errors}"
    assert not problems, f"at {VIEWPORTS[viewport][0]} px: {problems}"
    assert answered >= 2 * len(LESSONS)


def test_the_overflow_check_would_catch_a_wide_figure(site, server, browser):
    with _Visit(browser, server) as visit:
        visit.page.set_viewport_size({"width": 390, "height": 844})
        visit.page.goto(f"{server}/book/load.html", wait_until="load")
        visit.page.evaluate(
            "() => { const img = document.querySelector('article.bd-article img');"
            " img.style.maxWidth = 'none'; img.style.width = '900px'; }"
        )
        assert visit.page.evaluate(OVERFLOWS)


CONTRAST = """() => {
    const luminance = (rgb) => {
        const [r, g, b] = rgb.match(/[\\d.]+/g).slice(0, 3).map(Number).map((v) => {
            v /= 255;
            return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
        });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const background = (element) => {
        for (let e = element; e; e = e.parentElement) {
            const colour = getComputedStyle(e).backgroundColor;
            if (colour && !colour.startsWith("rgba(0, 0, 0, 0)") && colour !== "transparent") {
                return colour;
            }
        }
        return "rgb(255, 255, 255)";
    };
    const worst = [];
    for (const span of document.querySelectorAll(".cell_output pre span")) {
        if (!span.textContent.trim()) continue;
        const a = luminance(getComputedStyle(span).color);
        const b = luminance(background(span));
        const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
        if (ratio < 4.5) worst.push(`${span.textContent.trim().slice(0, 20)}: ${ratio.toFixed(2)}`);
    }
    return worst;
}"""


def test_model_summary_text_has_enough_contrast(site, server, browser):
    for name in ("model", "dropout"):
        with _Visit(browser, server) as visit:
            visit.page.emulate_media(color_scheme="light")
            visit.page.goto(f"{server}/book/{name}.html", wait_until="load")
            spans = visit.page.locator(".cell_output pre span")
            assert spans.count() > 5, "the page shows the summary's styled text"
            low = visit.page.evaluate(CONTRAST)
            assert not low, f"{name}: text below 4.5:1 contrast: {low[:5]}"
            # The check itself sees rich's cyan (1.57:1 on the output background).
            visit.page.evaluate(
                "() => document.querySelector('.cell_output pre').insertAdjacentHTML("
                "'beforeend', '<span style=\"color: #00d7ff !important\">None</span>')"
            )
            assert visit.page.evaluate(CONTRAST)


def test_class_names_in_running_text_are_lower_case_with_the_right_article(site):
    text = _page_text(site / "book" / "train.html") + _page_text(site / "book" / "load.html")
    assert not re.search(r"\ba (ankle|a|e|i|o|u)", text.lower().replace("a lot", "")), (
        "'a' before a vowel in generated text"
    )
    for name in ("Ankle boot", "T-shirt/top", "Sneaker", "Pullover", "Trouser"):
        assert f"is a {name}" not in text and f"is an {name}" not in text
