"""Point each page's Colab button at a notebook Colab can open.

The lessons are MyST-markdown notebooks (``book/*.md``). sphinx-book-theme builds the
Colab link from the source path, ``…/blob/main/book/train.md``, which Colab cannot
read. The built site carries each page's executed notebook as
``_sources/<page>.ipynb`` (the theme puts it there for the download button), so once
the site is published to the ``colab_notebook_branch`` of the repository (GitHub
Pages' ``gh-pages``), Colab opens ``…/blob/gh-pages/_sources/book/train.ipynb``: the
same page, as a notebook. Runs after the theme has added its launch buttons.
"""

from __future__ import annotations

from typing import Any


def _rewrite_colab_links(app, pagename: str, templatename, context: dict[str, Any], doctree):
    branch = app.config.colab_notebook_branch
    launch_buttons = app.config.html_theme_options.get("launch_buttons", {})
    colab_url = launch_buttons.get("colab_url", "").strip("/")
    repository = app.config.html_theme_options.get("repository_url", "").rstrip("/")
    if not (branch and colab_url and repository.startswith("https://github.com/")):
        return
    org_repo = repository.removeprefix("https://github.com/")
    notebook = f"{colab_url}/github/{org_repo}/blob/{branch}/_sources/{pagename}.ipynb"
    for group in context.get("header_buttons", []):
        for button in group.get("buttons", []) if isinstance(group, dict) else []:
            if button.get("text") == "Colab":
                button["url"] = notebook


def setup(app) -> dict[str, Any]:
    """Register the ``colab_notebook_branch`` setting and the link rewrite."""
    app.add_config_value("colab_notebook_branch", "gh-pages", "html")
    app.connect("html-page-context", _rewrite_colab_links, priority=502)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
