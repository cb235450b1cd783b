"""Fixes to what sphinx-book-theme, myst-nb and sphinx-thebe do on their own.

Each lesson's notebook becomes downloadable with its outputs and openable on Colab, and
every page loads without console errors:

1. The lessons are MyST-markdown notebooks (``book/*.md``). The theme builds the Colab
   link from the source path, ``…/blob/main/book/train.md``, which Colab cannot read.
   The built site carries each page's executed notebook as ``_sources/<page>.ipynb``
   (the theme puts it there for the download button), so once the site is published to
   the ``colab_notebook_branch`` of the repository (GitHub Pages' ``gh-pages``), Colab
   opens ``…/blob/gh-pages/_sources/book/train.ipynb``: the same page, as a notebook.
   That notebook starts with the cell that installs the course where it is missing
   (``solutions/header.ipynb``'s install cell, asking for the ``book`` extra, since the
   lessons use myst-nb), so it runs on Colab as it is.
2. With ``execute_notebooks: cache``, myst-nb 1.x writes ``_build/jupyter_execute/
   <page>.ipynb`` without outputs when the page comes from the execution cache (it
   renders the cached outputs but saves the unmerged notebook). Before the theme copies
   that file for the download button, merge the cached outputs back in.
3. With Sphinx 7, sphinx-thebe 0.3.1 registers its ``const THEBE_JS_URL = …`` snippet
   twice, which throws a SyntaxError in every page: duplicate inline scripts are dropped.
4. Without a ``default_mode`` the theme logs "Got invalid theme mode" as a console error
   on every page: the default becomes ``auto`` (follow the reader's system setting).
5. Keras' ``model.summary()`` prints with rich's colours, which fail text contrast on
   the output background, and long inline code widens a phone's page: ``static/site.css``
   shows output text in the page's colour and lets inline code wrap.
6. The course's coordinates (``repository:`` of ``_config.yml``, the package's version)
   become MyST substitutions: ``{{ clone_commands }}`` (a code block),
   ``{{ pip_install }}`` (a code block) and ``{{ colab_<notebook> }}`` (an "Open in
   Colab" link per exercise).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import nbformat

from fashion_lessons.coordinates import read_coordinates
from fashion_lessons.grading.header import PLACEHOLDER, fill_placeholders

INSTALL_CELL_ID = "course-install"


def _install_cell_source(root: Path) -> str:
    """The header's install cell, asking for the package with what the lessons need."""
    header = nbformat.read(root / "solutions" / "header.ipynb", as_version=4)
    template = next(
        cell.source
        for cell in header.cells
        if cell.cell_type == "code" and "package_requirement" in PLACEHOLDER.findall(cell.source)
    )
    return fill_placeholders(
        template, {"package_requirement": read_coordinates(root).requirement("book")}
    )


def _add_install_cell(app, pagename: str, templatename, context, doctree) -> None:
    notebook_file = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if not notebook_file.is_file():
        return
    notebook = nbformat.read(notebook_file, as_version=4)
    if any(cell.get("id") == INSTALL_CELL_ID for cell in notebook.cells):
        return
    cell = nbformat.v4.new_code_cell(_install_cell_source(Path(app.srcdir)))
    cell.id = INSTALL_CELL_ID
    notebook.cells.insert(0, cell)
    nbformat.write(notebook, notebook_file)


def _substitutions(app, config) -> None:
    root = Path(app.srcdir)
    coordinates = read_coordinates(root)
    values = {
        "clone_commands": "```sh\n"
        f"{coordinates.clone_command}\n"
        f"cd {coordinates.folder}\n"
        "make install\n"
        "```",
        "pip_install": f'```sh\npython -m pip install "{coordinates.requirement()}"\n```',
    }
    for notebook in sorted((root / "exercises").glob("*/*.ipynb")):
        path = notebook.relative_to(root).as_posix()
        values[f"colab_{notebook.stem}"] = f"[Open in Colab]({coordinates.colab_url(path)})"
    config.myst_substitutions = {**values, **(config.myst_substitutions or {})}


def _restore_cached_outputs(app, pagename: str, templatename, context, doctree) -> None:
    if app.config.nb_execution_mode != "cache":
        return
    notebook_file = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if not notebook_file.is_file():
        return
    notebook = nbformat.read(notebook_file, as_version=4)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    if not code_cells or any(cell.get("outputs") for cell in code_cells):
        return
    from jupyter_cache import get_cache

    cache_path = app.config.nb_execution_cache_path or Path(app.outdir).parent / ".jupyter_cache"
    try:
        _, merged = get_cache(cache_path).merge_match_into_notebook(notebook)
    except KeyError:  # not in the cache: nothing to restore
        return
    nbformat.write(merged, notebook_file)


def _rewrite_colab_links(app, pagename: str, templatename, context, doctree) -> None:
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


def _drop_duplicate_scripts(app, pagename: str, templatename, context, doctree) -> None:
    seen, unique = set(), []
    for script in context.get("script_files", []):
        attributes = getattr(script, "attributes", {}) or {}
        # The same snippet comes once with filename None and once with "".
        filename = str(getattr(script, "filename", script) or "")
        key = (filename, tuple(sorted((str(k), str(v)) for k, v in attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    if "script_files" in context:
        context["script_files"] = unique


def _default_mode(app, config) -> None:
    config.html_context.setdefault("default_mode", "auto")


def _extension_digest() -> str:
    """A hash of this folder's code, scripts and styles.

    Registered as a config value, so Sphinx re-reads every page when one of them
    changes (it does not track extension files on its own).
    """
    digest = hashlib.sha256()
    for file in sorted(Path(__file__).parent.rglob("*")):
        if file.is_file() and file.suffix in {".py", ".js", ".css"}:
            digest.update(file.name.encode() + file.read_bytes())
    return digest.hexdigest()[:16]


def setup(app) -> dict[str, Any]:
    """Register the ``colab_notebook_branch`` setting, the page hooks and the self-checks."""
    app.setup_extension("self_check")  # also serves book/_ext/static
    app.add_css_file("site.css")
    app.add_config_value("site_extension_digest", _extension_digest(), "env")
    app.add_config_value("colab_notebook_branch", "gh-pages", "html")
    app.connect("config-inited", _default_mode, priority=900)
    app.connect("config-inited", _substitutions, priority=900)
    # The theme copies the notebook and adds its launch buttons at priority 501.
    app.connect("html-page-context", _restore_cached_outputs, priority=400)
    app.connect("html-page-context", _add_install_cell, priority=450)
    app.connect("html-page-context", _rewrite_colab_links, priority=502)
    app.connect("html-page-context", _drop_duplicate_scripts, priority=503)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
