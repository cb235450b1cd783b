"""Self-check questions with instant feedback in the browser, no server.

A lesson asks a question with the ``self-check`` directive. With a bullet list the
question is multiple choice and ``:answer:`` is the number of the right item, counted
from 1; without one the reader types a number, and ``:answer:`` is that number, right
within ``:tolerance:``. Text after a ``+++`` line explains the answer; it appears once
the reader has answered right::

    :::{self-check}
    :answer: 2

    Which layer turns ten scores into probabilities?

    - `Flatten()`
    - `Dense(10, activation="softmax")`

    +++
    Softmax makes every output positive and the ten add up to 1.
    :::

The page carries the answer in a ``data-`` attribute, and ``self_check.js`` compares
the reader's choice with it: a self-check, not an exam.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util.docutils import SphinxDirective

STATIC = Path(__file__).parent / "static"


class self_check(nodes.General, nodes.Element):  # noqa: N801 - docutils names nodes in lower case
    """A question, its choices or number box, a Check button and a feedback line."""


class self_check_choice(nodes.General, nodes.Element):  # noqa: N801
    """One choice of a multiple-choice question: a radio button and its label."""


class self_check_explanation(nodes.General, nodes.Element):  # noqa: N801
    """The explanation, hidden until the reader answers right."""


class self_check_controls(nodes.General, nodes.Element):  # noqa: N801
    """The number box (for a numeric question), the Check button and the feedback line."""


class SelfCheckDirective(SphinxDirective):
    has_content = True
    option_spec = {
        "answer": directives.unchanged_required,
        "tolerance": directives.unchanged,
    }

    def run(self) -> list[nodes.Node]:
        lines = list(self.content)
        split = next((i for i, line in enumerate(lines) if line.strip() == "+++"), len(lines))
        question_lines, explain_lines = lines[:split], lines[split + 1 :]
        body = nodes.container()
        self.state.nested_parse(self.content[: len(question_lines)], self.content_offset, body)
        lists = [child for child in body.children if isinstance(child, nodes.bullet_list)]
        answer = self.options["answer"].strip()
        node = self_check(
            kind="choice" if lists else "number",
            answer=answer,
            tolerance=self.options.get("tolerance", "0"),
            serial=self.env.new_serialno("self-check"),
        )
        question = nodes.container(classes=["self-check-question"])
        for child in body.children:
            if child is not (lists[0] if lists else None):
                question += child
        node += question
        if lists:
            items = lists[0].children
            if not answer.isdigit() or not 1 <= int(answer) <= len(items):
                raise self.error(f"self-check :answer: must be a choice from 1 to {len(items)}")
            for number, item in enumerate(items, start=1):
                choice = self_check_choice(value=str(number))
                for paragraph in item.children:
                    if isinstance(paragraph, nodes.paragraph):
                        choice.extend(child.deepcopy() for child in paragraph.children)
                node += choice
        else:
            try:
                float(answer)
                float(node["tolerance"])
            except ValueError:
                raise self.error("a self-check without choices needs a numeric :answer:") from None
        node += self_check_controls()
        if explain_lines:
            explanation = self_check_explanation()
            self.state.nested_parse(
                self.content[split + 1 :], self.content_offset + split + 1, explanation
            )
            node += explanation
        return [node]


def visit_self_check(self, node: self_check) -> None:
    attributes = {
        "class": "self-check",
        "data-kind": node["kind"],
        "data-answer": node["answer"],
        "data-tolerance": node["tolerance"],
        "role": "group",
        "aria-label": "Self-check question",
    }
    text = " ".join(f'{key}="{html.escape(value)}"' for key, value in attributes.items())
    self.body.append(f"<div {text}>\n")


def depart_self_check(self, node: self_check) -> None:
    self.body.append("</div>\n")


def visit_controls(self, node: self_check_controls) -> None:
    question = node.parent
    if question["kind"] == "number":
        self.body.append(
            f'<label class="self-check-number">Your answer: <input type="text" '
            f'inputmode="decimal" name="self-check-{question["serial"]}" size="8"></label>\n'
        )
    self.body.append(
        '<button type="button" class="self-check-button">Check</button>\n'
        '<p class="self-check-feedback" role="status" aria-live="polite"></p>\n'
    )
    raise nodes.SkipNode


def visit_choice(self, node: self_check_choice) -> None:
    serial = node.parent["serial"]
    self.body.append(
        f'<label class="self-check-choice"><input type="radio" '
        f'name="self-check-{serial}" value="{node["value"]}"> '
    )


def depart_choice(self, node: self_check_choice) -> None:
    self.body.append("</label>\n")


def visit_explanation(self, node: self_check_explanation) -> None:
    self.body.append('<div class="self-check-explanation" hidden>\n')


def depart_explanation(self, node: self_check_explanation) -> None:
    self.body.append("</div>\n")


def _skip(self, node) -> None:
    raise nodes.SkipNode


def _add_static_path(app) -> None:
    app.config.html_static_path.append(str(STATIC))


def setup(app) -> dict[str, Any]:
    """Register the ``self-check`` directive, its HTML and its script."""
    skip = (_skip, None)
    app.add_node(
        self_check,
        html=(visit_self_check, depart_self_check),
        latex=skip,
        text=skip,
        man=skip,
        texinfo=skip,
    )
    app.add_node(self_check_choice, html=(visit_choice, depart_choice))
    app.add_node(self_check_explanation, html=(visit_explanation, depart_explanation))
    app.add_node(self_check_controls, html=(visit_controls, None))
    app.add_directive("self-check", SelfCheckDirective)
    app.connect("builder-inited", _add_static_path)
    app.add_js_file("self_check.js", defer="defer")
    app.add_css_file("self_check.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
