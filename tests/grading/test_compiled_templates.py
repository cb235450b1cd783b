"""Feedback templates are compiled once per process, and again only when they change."""

from __future__ import annotations

import jinja2
from nbformat.v4 import new_code_cell, new_notebook, new_output

from fashion_lessons.grading.compiled_templates import FEEDBACK_TEMPLATES, CompiledTemplates


class _CountingEnvironment(jinja2.Environment):
    """A Jinja environment that counts the templates it compiles."""

    compiled = 0

    def compile(self, *args, **kwargs):
        _CountingEnvironment.compiled += 1
        return super().compile(*args, **kwargs)


def _render(templates: dict[str, str], cache: CompiledTemplates) -> str:
    environment = _CountingEnvironment(loader=jinja2.DictLoader(templates))
    environment.bytecode_cache = cache
    return environment.get_template("page").render(name="Ada")


def test_a_new_environment_reuses_the_compiled_template_until_its_source_changes():
    cache = CompiledTemplates()
    _CountingEnvironment.compiled = 0
    assert _render({"page": "Hello {{ name }}"}, cache) == "Hello Ada"
    assert (_CountingEnvironment.compiled, len(cache)) == (1, 1)
    assert _render({"page": "Hello {{ name }}"}, cache) == "Hello Ada"
    assert _CountingEnvironment.compiled == 1  # the second environment compiled nothing
    assert _render({"page": "Bye {{ name }}"}, cache) == "Bye Ada"
    assert _CountingEnvironment.compiled == 2


def test_the_workers_warm_up_compiles_every_template_of_a_feedback_page():
    """A page rendered as ``GenerateFeedback`` renders it, by a new exporter, after the
    warm-up the grading workers inherit, adds nothing to the cache: nothing is compiled."""
    from fashion_lessons.grading.worker_warmup import feedback_exporter, warm_up

    warm_up()
    compiled = len(FEEDBACK_TEMPLATES)
    cell = new_code_cell("print('hi')", outputs=[new_output("stream", text="hi\n")])
    scores = {"notebook": "answers", "score": 1.0, "max_score": 2.0, "late_penalty": 0.0}
    page, _ = feedback_exporter().from_notebook_node(
        new_notebook(cells=[cell]), resources={"nbgrader": scores}
    )
    assert "answers (Score: 1.0 / 2.0)" in page
    assert compiled > 0 and len(FEEDBACK_TEMPLATES) == compiled
