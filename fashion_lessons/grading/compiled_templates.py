"""Compiled Jinja templates kept for the life of the process, shared by every exporter.

nbconvert gives each exporter its own Jinja environment, and each environment compiles
every template it renders: for a feedback page, nine templates and about 0.2 s of CPU.
With this cache the templates are compiled once per process; a grading worker forked
after :mod:`fashion_lessons.grading.worker_warmup` compiles none.
"""

from __future__ import annotations

import jinja2


class CompiledTemplates(jinja2.BytecodeCache):
    """Jinja's bytecode of each template, in memory, by template name and file.

    Jinja checks each entry against the checksum of the template's current source, so an
    edited template is compiled again. Environments that share it must compile alike: the
    same extensions and the same ``enable_async``.
    """

    def __init__(self) -> None:
        self._bytecode: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        bytecode = self._bytecode.get(bucket.key)
        if bytecode is not None:
            bucket.bytecode_from_string(bytecode)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._bytecode[bucket.key] = bucket.bytecode_to_string()

    def clear(self) -> None:
        self._bytecode.clear()

    def __len__(self) -> int:
        return len(self._bytecode)


FEEDBACK_TEMPLATES = CompiledTemplates()
"""The cache of the feedback pages' exporter (:class:`.feedback_safety.InertHTMLExporter`)."""
