"""Feedback pages that keep hidden tests hidden and cannot run anything a student wrote.

Three pieces, all plugged into nbgrader's ``GenerateFeedback`` through its configuration
(:func:`feedback_config`):

- :class:`HideHiddenTests` (nbgrader's ``ClearHiddenTests``, applied to the autograded
  notebook before it is rendered) drops every ``### BEGIN HIDDEN TESTS`` …
  ``### END HIDDEN TESTS`` block; a test cell keeps its name, points, visible code and
  failure message, and its traceback (which quotes the failing lines) is cut to that
  message;
- :class:`InertOutputs` keeps the outputs a page can show without running anything
  (text, PNG/JPEG plots, HTML and Markdown, which are sanitized next) and replaces
  JavaScript, SVG, widgets and other active types by a note;
- :class:`InertHTMLExporter` sanitizes the page body with ``nh3`` (no script, no event
  handlers, no links' targets, images only as ``data:`` URLs), rebuilds the head with the
  template's styles only, and adds a strict Content-Security-Policy
  (:mod:`fashion_lessons.grading.inert_html`).
"""

from __future__ import annotations

import html
import re

import nh3
from nbconvert.exporters import HTMLExporter
from nbconvert.preprocessors import Preprocessor
from nbgrader.preprocessors import ClearHiddenTests

from fashion_lessons.grading.compiled_templates import FEEDBACK_TEMPLATES
from fashion_lessons.grading.inert_html import CSP_META

SAFE_OUTPUT_TYPES = ("text/plain", "image/png", "image/jpeg", "text/html", "text/markdown")
REMOVED_OUTPUT = "[output not shown in feedback: it could run code in the page]"

# What a notebook page needs to stay readable: text, code, tables, lists, plots.
ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "details", "div",
    "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i",
    "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "section",
    "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot",
    "th", "thead", "tr", "u", "ul", "var",
}  # fmt: skip
# Removed with their content (nh3 keeps the text of other disallowed tags).
REMOVED_WITH_CONTENT = {
    "script", "style", "svg", "math", "iframe", "object", "embed", "template", "noscript",
    "textarea", "select", "title", "head", "frameset", "noembed", "noframes", "xmp",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    # no href/action/formaction/style/on*: nothing navigates, loads or runs
    "*": {"class", "id", "title", "colspan", "rowspan", "align", "lang"},
    "img": {"src", "alt", "width", "height"},
}
_BODY = re.compile(r"<body[^>]*>(.*)</body>", re.S | re.I)
_STYLE = re.compile(r"<style[^>]*>(.*?)</style>", re.S | re.I)
_TITLE = re.compile(r"<title>(.*?)</title>", re.S | re.I)


class HideHiddenTests(ClearHiddenTests):
    """nbgrader's ``ClearHiddenTests`` for feedback: also cut tracebacks of those cells.

    IPython's traceback quotes the lines around the failing one, which may be hidden test
    code; the cell's failure message (``AssertionError: …``) is kept.
    """

    def preprocess_cell(self, cell, resources, cell_index):
        before = cell.source
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if cell.cell_type == "code" and cell.source != before:
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    message = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"
                    output["traceback"] = [message.rstrip(": ")]
        return cell, resources


class InertOutputs(Preprocessor):
    """Keep only output types a sanitized page can show; drop widget state."""

    def preprocess(self, nb, resources):
        nb.metadata.pop("widgets", None)
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, cell_index):
        for output in cell.get("outputs", []):
            data = output.get("data")
            if data is None:
                continue
            kept = {kind: value for kind, value in data.items() if kind in SAFE_OUTPUT_TYPES}
            output["data"] = kept or {"text/plain": REMOVED_OUTPUT}
        return cell, resources


def _only_data_images(tag: str, attribute: str, value: str) -> str | None:
    """Keep an image's source only when it is inline data; relative paths would load files."""
    if attribute == "src" and not value.strip().lower().startswith("data:image/"):
        return None
    return value


def sanitize_fragment(fragment: str) -> str:
    """An HTML fragment with everything active removed (nh3)."""
    return nh3.clean(
        fragment,
        tags=ALLOWED_TAGS,
        clean_content_tags=REMOVED_WITH_CONTENT,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"data"},
        attribute_filter=_only_data_images,
        strip_comments=True,
        link_rel=None,
    )


def make_inert(page: str) -> str:
    """Rebuild a full HTML page: the policy, the template's styles, a sanitized body.

    The styles come from the page's own ``<head>`` (nbconvert's and nbgrader's CSS; no
    student content is placed there); everything else in the head, scripts included, is
    dropped. Applying it twice gives the same page.
    """
    body_match = _BODY.search(page)
    head = page[: body_match.start()] if body_match else ""
    body = body_match.group(1) if body_match else page
    styles = "\n".join(f"<style>{css}</style>" for css in _STYLE.findall(head))
    title = _TITLE.search(head)
    title_text = html.unescape(nh3.clean(title.group(1), tags=set())) if title else "feedback"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"{CSP_META}\n<title>{html.escape(title_text)}</title>\n{styles}\n</head>\n"
        f"<body>\n{sanitize_fragment(body).strip()}\n</body>\n</html>\n"
    )


class InertHTMLExporter(HTMLExporter):
    """nbconvert's HTML exporter whose pages go through :func:`make_inert`; its templates are
    compiled once per process (:data:`.compiled_templates.FEEDBACK_TEMPLATES`)."""

    def _create_environment(self):
        environment = super()._create_environment()
        if not environment.is_async:  # the cached code is that of synchronous rendering
            environment.bytecode_cache = FEEDBACK_TEMPLATES
        return environment

    def from_notebook_node(self, nb, resources=None, **kw):
        output, resources = super().from_notebook_node(nb, resources, **kw)
        return make_inert(output), resources


def feedback_config(show_hidden_tests: bool = False):
    """nbgrader configuration of ``GenerateFeedback``: its template, and safe pages.

    Parameters
    ----------
    show_hidden_tests : bool, default False
        Keep the hidden tests' code in the pages (nbgrader's behaviour); the pages stay
        inert either way.

    Returns
    -------
    traitlets.config.Config
    """
    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
    from nbgrader.preprocessors import GetGrades
    from traitlets.config import Config

    config = Config()
    config.HTMLExporter.template_name = "feedback"  # nbgrader's feedback template
    steps = [GetGrades] + ([] if show_hidden_tests else [HideHiddenTests])
    config.GenerateFeedback.preprocessors = steps + [InertOutputs, CSSHTMLHeaderPreprocessor]
    config.GenerateFeedback.exporter_class = InertHTMLExporter
    config.HideHiddenTests.enforce_metadata = False  # feedback only reads, never complains
    return config
