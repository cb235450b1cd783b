"""Feedback pages: no hidden test line, nothing active, through real nbgrader runs.

The graded class shared with the pipeline tests (``graded`` in ``conftest.py``: every
assignment's reference and one wrong answer, the untouched exercises, broken hand-ins) and
one hostile student graded here, whose code displays script, SVG, JavaScript, remote
resources and links. Their feedback is rendered twice more from the same gradebooks: with
``show_hidden_tests``, and as nbgrader renders it without this package's protection. Every
check is run on the unprotected pages too and must fail there, so a check that cannot fail
is caught.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import nbformat
import pytest
from helpers import ASSIGNMENTS, REPO, hand_in, solution

from fashion_lessons.grading.feedback_safety import feedback_config, make_inert

MALLORY = ("mallory", "01-load-data")

HOSTILE_CODE = r'''
from IPython.display import HTML, SVG, Javascript, Markdown, display
import matplotlib.pyplot as plt

display(HTML("""
<p id="student-text">my table follows</p>
<script>window.__ran = (window.__ran || 0) + 1; document.title = "pwned";</script>
<img src="x" onerror="window.__ran = (window.__ran || 0) + 1">
<img src="http://remote.invalid/pixel.png">
<link rel="stylesheet" href="http://remote.invalid/style.css">
<iframe src="http://remote.invalid/frame"></iframe>
<a id="js-link" href="javascript:window.__ran=(window.__ran||0)+1">click me</a>
<a id="web-link" href="http://remote.invalid/">a web link</a>
<form action="http://remote.invalid/collect"><button id="send">send</button></form>
<div style="background: url(http://remote.invalid/bg.png)">styled</div>
"""))
display(Javascript("window.__ran = (window.__ran || 0) + 1"))
display(SVG('<svg xmlns="http://www.w3.org/2000/svg"><script>window.__ran=(window.__ran||0)+1'
            '</script><circle r="5"/></svg>'))
display(Markdown('<img src="y" onerror="window.__ran=(window.__ran||0)+1"> '
                 '[markdown link](javascript:alert(1))'))
plt.plot([0, 1, 2], [0, 1, 4])
plt.show()
print("plain text stays readable")
'''
HOSTILE_MARKDOWN = (
    '<meta http-equiv="refresh" content="0; url=http://remote.invalid/">\n'
    '<img src="z" onerror="window.__ran=(window.__ran||0)+1">\n\nMy notes.'
)


def _hostile_notebook():
    notebook = nbformat.read(solution("01-load-data"), as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(HOSTILE_CODE))
    notebook.cells.append(nbformat.v4.new_markdown_cell(HOSTILE_MARKDOWN))
    return notebook


def _generate_feedback(course, student, assignment, config, folder):
    from nbgrader.converters import GenerateFeedback
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    merged = Config(course.config)
    merged.merge(config)
    merged.CourseDirectory.feedback_directory = folder
    coursedir = CourseDirectory(config=merged)
    coursedir.assignment_id, coursedir.student_id = assignment, student
    app = GenerateFeedback(coursedir=coursedir, config=merged)
    app.force = True
    app.start()


PROTECTED_PAIRS = [(s, a) for a in ASSIGNMENTS for s in ("ref", "wrong")]


@pytest.fixture(scope="module")
def feedback(graded_later, tmp_path_factory):
    """Folders of feedback pages: protected, hidden tests shown, nbgrader's default."""
    from nbconvert.exporters import HTMLExporter
    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
    from nbgrader.preprocessors import GetGrades
    from traitlets.config import Config

    from fashion_lessons.grading.pipeline import grade
    from fashion_lessons.grading.workspace import open_grading

    root = tmp_path_factory.mktemp("feedback")
    hand_in(root / "submissions", "mallory", "01-load-data", _hostile_notebook())
    # the real pipeline (sandboxed, warm kernels); its feedback is the protected one
    report = grade(root / "submissions", root / "mallory-out")
    class_out, _ = graded_later()  # graded on another worker meanwhile, or here now
    default = Config()
    default.GenerateFeedback.preprocessors = [GetGrades, CSSHTMLHeaderPreprocessor]
    default.GenerateFeedback.exporter_class = HTMLExporter
    renders = {"shown": feedback_config(show_hidden_tests=True), "nbgrader": default}
    for out, pairs in ((class_out, PROTECTED_PAIRS), (report.out, [MALLORY])):
        course = open_grading(out)
        for pair in pairs:
            for name, config in renders.items():
                _generate_feedback(course, *pair, config, str(root / name))
    return {
        "mallory": next(r for r in report.results if r.assignment == MALLORY[1]),
        "protected": class_out / "feedback",
        "mallory_page": report.out / "feedback" / MALLORY[0] / MALLORY[1] / "load_data.html",
        "shown": root / "shown",
        "nbgrader": root / "nbgrader",
    }


def hidden_lines() -> set[str]:
    """Every line of every hidden block that the released exercises do not also show."""
    released = ""
    for path in (REPO / "exercises").rglob("*.ipynb"):
        released += "\n".join(c.source for c in nbformat.read(path, 4).cells)
    lines = set()
    for path in (REPO / "solutions").rglob("*.ipynb"):
        for cell in nbformat.read(path, 4).cells:
            blocks = re.findall(
                r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", cell.source, re.S
            )
            for block in blocks:
                lines |= {
                    line.strip()
                    for line in block.splitlines()
                    if len(line.strip()) > 8 and line.strip() not in released
                }
    assert len(lines) > 20  # the course has hidden tests worth hiding
    return lines


def page_text(path: Path) -> str:
    """What a reader sees: the page without tags, entities decoded, spacing normalized."""
    text = html.unescape(re.sub(r"<[^>]+>", "", path.read_text(encoding="utf-8")))
    return " ".join(text.split())


def leaked(folder: Path) -> list[tuple[str, str]]:
    lines = hidden_lines()
    found = []
    for page in sorted(folder.rglob("*.html")):
        text = page_text(page)
        found += [(page.name, line) for line in lines if " ".join(line.split()) in text]
    return found


def test_every_page_is_rendered(feedback):
    for name in ("protected", "shown", "nbgrader"):
        for student, assignment in PROTECTED_PAIRS:
            page = feedback[name] / student / assignment / f"{ASSIGNMENTS[assignment]}.html"
            assert page.stat().st_size > 1000, page
    mallory = feedback["mallory"]
    assert mallory.score == mallory.max_score and not mallory.reason, mallory


def test_no_hidden_line_in_any_feedback_page(feedback):
    """Every page handed back to the class (failure pages included), and mallory's."""
    assert len(list(feedback["protected"].rglob("*.html"))) >= 2 * len(ASSIGNMENTS)
    assert leaked(feedback["protected"]) == []
    assert leaked(feedback["mallory_page"].parent) == []


def test_the_leak_check_fails_when_hidden_tests_are_shown(feedback):
    assert len(leaked(feedback["shown"])) > 20
    assert len(leaked(feedback["nbgrader"])) > 20


def test_feedback_keeps_names_points_messages_and_visible_code(feedback):
    page = feedback["protected"] / "wrong" / "01-load-data" / "load_data.html"
    text = page_text(page)
    assert "test_class_name" in text  # the failing test's name
    assert "ValueError" in text or "AssertionError" in text  # its failure message
    assert re.search(r"\d+(\.\d+)? / \d+", text)  # points
    visible = [
        c.source.split("### BEGIN HIDDEN TESTS")[0].strip().splitlines()[-1]
        for c in nbformat.read(solution("01-load-data"), as_version=4).cells
        if "### BEGIN HIDDEN TESTS" in c.source
    ]
    assert all(" ".join(line.split()) in text for line in visible)


def active_content(page: str) -> list[str]:
    """Markup that could run, load or navigate: tags and attributes, never text."""
    from html.parser import HTMLParser

    found = []

    class Finder(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag in ("script", "iframe", "object", "embed", "svg", "link", "base", "form"):
                found.append(tag)
            if tag == "meta" and dict(attrs).get("http-equiv", "").lower() == "refresh":
                found.append("meta refresh")
            for name, value in attrs:
                value = (value or "").strip().lower()
                if name.startswith("on"):
                    found.append("event handler")
                if name in ("href", "src", "action", "formaction", "srcset", "xlink:href"):
                    found.append(f"{name}={value[:11]}" if not value.startswith("data:") else "")
                if name == "style" and "url(" in value:
                    found.append("style url")

    Finder().feed(page)
    return sorted({item for item in found if item})


def test_every_protected_page_is_inert(feedback):
    for page in feedback["protected"].rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert active_content(text) == [], page
        assert "Content-Security-Policy" in text, page
    mallory = feedback["mallory_page"].read_text()
    assert active_content(mallory) == [] and "Content-Security-Policy" in mallory
    assert "data:image/png;base64," in mallory  # the plot is kept
    assert "plain text stays readable" in mallory and "my table follows" in mallory


def test_the_inertness_check_fails_on_nbgrader_pages(feedback):
    mallory = (feedback["nbgrader"] / "mallory/01-load-data/load_data.html").read_text()
    found = active_content(mallory)
    assert {"script", "event handler", "href=javascript:"} <= set(found), found


def test_make_inert_is_idempotent(feedback):
    page = feedback["mallory_page"].read_text()
    assert make_inert(page) == page


def visit(browser, page_path: Path) -> dict:
    """Open a page from disk; every request but the page itself is recorded and aborted."""
    context = browser.new_context(java_script_enabled=True)
    page = context.new_page()
    requests, ran = [], []
    # every hostile script sets window.__ran: report it even if the page navigates away
    page.expose_function("__reportRan", lambda value: ran.append(value))
    page.add_init_script(
        "(() => { let count = 0; Object.defineProperty(window, '__ran', {configurable: true,"
        " get() { return count; }, set(value) { count = value; window.__reportRan(value); }"
        "}); })()"
    )

    def block(route):
        if route.request.url != page_path.as_uri():
            requests.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    page.route("**/*", block)
    page.goto(page_path.as_uri())
    page.wait_for_timeout(1500)  # time for onerror handlers, a refresh and lazy loads
    for selector in ("#js-link", "#web-link", "#send"):
        if page.locator(selector).count():
            page.locator(selector).first.click(timeout=2000, no_wait_after=True)
    page.wait_for_timeout(500)
    state = {
        "ran": len(ran),
        "title_changed": page.title() == "pwned",
        "url": page.url,
        "requests": requests,
        "plots": page.evaluate(
            "Array.from(document.images).filter(i => i.src.startsWith('data:image/png')"
            " && i.naturalWidth > 0).length"
        ),
        "text": page.inner_text("body"),
    }
    context.close()
    return state


def test_a_hostile_page_runs_nothing_and_loads_nothing_in_chromium(feedback, browser):
    state = visit(browser, feedback["mallory_page"])
    assert state["ran"] == 0 and not state["title_changed"]
    assert state["requests"] == []
    assert state["url"].endswith("load_data.html")  # no navigation
    assert state["plots"] >= 1  # the plot is shown
    assert "plain text stays readable" in state["text"]


def test_the_browser_check_fails_on_an_unprotected_page(feedback, browser):
    state = visit(browser, feedback["nbgrader"] / "mallory/01-load-data/load_data.html")
    assert state["ran"] > 0 or state["title_changed"]
    assert any("remote.invalid" in url for url in state["requests"])


def test_make_inert_on_a_small_page():
    page = (
        "<html><head><title>t</title><script src=http://remote.invalid/a.js></script>"
        "<style>b{color:red}</style></head><body><p onclick=go()>hi "
        '<a href="javascript:go()">js</a> <a href="http://remote.invalid">web</a></p>'
        '<img src="data:image/png;base64,AAAA"><img src="http://remote.invalid/x.png">'
        "<svg><script>go()</script></svg><form action=http://remote.invalid><button>b"
        "</button></form></body></html>"
    )
    assert {"script", "event handler", "href=javascript:"} <= set(active_content(page))
    inert = make_inert(page)
    assert active_content(inert) == []
    assert "<style>b{color:red}</style>" in inert and 'src="data:image/png;base64,AAAA"' in inert
    assert "hi" in inert and "web" in inert
