"""Fill, once, the caches every grading worker needs: imported by the workers' forkserver.

Each submission is graded in a process forked from that server (:mod:`.workers`), so
what the server computed before forking is inherited. Importing this module renders one
small feedback page as ``GenerateFeedback`` does and validates one notebook, which
compiles nbgrader's feedback templates (:mod:`.compiled_templates`), the CSS selectors,
the regular expressions of the templates and of Pygments' Python lexer, and nbformat's
schema validator: most of a second of CPU that each worker would otherwise spend again.
"""

from __future__ import annotations


def feedback_exporter():
    """A new exporter configured as ``GenerateFeedback`` configures it: nbgrader's
    ``feedback`` template, found in the template folders the application adds."""
    from nbgrader.converters import GenerateFeedback

    from fashion_lessons.grading.feedback_safety import InertHTMLExporter, feedback_config

    return InertHTMLExporter(config=GenerateFeedback(config=feedback_config()).config)


def warm_up() -> str:
    """Validate a two-cell notebook and render it as a feedback page; return the page."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    code = new_code_cell("x = 1\nprint(x)", outputs=[new_output("stream", text="1\n")])
    notebook = new_notebook(cells=[new_markdown_cell("*Notes* with `code`."), code])
    nbformat.validate(notebook)
    scores = {"notebook": "warm-up", "score": 0.0, "max_score": 1.0, "late_penalty": 0.0}
    page, _ = feedback_exporter().from_notebook_node(notebook, resources={"nbgrader": scores})
    return page


try:
    warm_up()
except Exception:  # noqa: BLE001 - only the head start is lost; workers report their own errors
    pass
