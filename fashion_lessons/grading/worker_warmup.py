"""Fill, once, the caches every grading worker needs: imported by the workers' forkserver.

Each submission is graded in a process forked from that server (:mod:`.workers`), so
what the server computed before forking is inherited. Importing this module renders one
small feedback page and validates one notebook, which compiles the CSS selectors, the
regular expressions of the templates and of Pygments' Python lexer, and nbformat's schema
validator: about half a second of CPU that each worker would otherwise spend again.
"""

from __future__ import annotations


def warm_up() -> str:
    """Validate a two-cell notebook and render it as a feedback page; return the page."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    from fashion_lessons.grading.feedback_safety import InertHTMLExporter

    code = new_code_cell("x = 1\nprint(x)", outputs=[new_output("stream", text="1\n")])
    notebook = new_notebook(cells=[new_markdown_cell("*Notes* with `code`."), code])
    nbformat.validate(notebook)
    # nbgrader's feedback template extends this one
    page, _ = InertHTMLExporter(template_name="classic").from_notebook_node(notebook)
    return page


try:
    warm_up()
except Exception:  # noqa: BLE001 - only the head start is lost; workers report their own errors
    pass
