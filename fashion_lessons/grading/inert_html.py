"""What makes a page the grader writes inert: a strict Content-Security-Policy.

The policy allows inline styles and ``data:`` images (plots) and nothing else: no script of
any kind, no fetches, frames, fonts, media or objects, no form submission, no ``<base>``.
It is a ``<meta http-equiv>``, so it holds when the file is opened from disk; navigation by
a click on a link cannot be forbidden by a policy, which is why links are also rewritten by
the sanitizer (:mod:`fashion_lessons.grading.feedback_safety`).
"""

from __future__ import annotations

import html

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
    "form-action 'none'; base-uri 'none'; frame-src 'none'; object-src 'none'"
)
CSP_META = f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">'


def page(title: str, body_html: str, style: str = "") -> str:
    """A complete HTML document with the policy; ``body_html`` must already be safe."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
        f"{CSP_META}\n<title>{html.escape(title)}</title>\n"
        f"<style>{style}</style></head>\n<body>\n{body_html}\n</body></html>\n"
    )
