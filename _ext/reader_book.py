"""Local Sphinx extension: the code one click away, and the book's own page furniture.

- **The source archive.** At the end of an HTML build, the book's source is written to
  ``dsm-book-source.tar.gz`` at the root of the output: ``git archive HEAD`` when the book is
  a git checkout (the committed tree, nothing else), otherwise the files of the tree without
  environments, build output and caches (:data:`EXCLUDE`). A header button on every page links
  to it (after sphinx-book-theme's own buttons).
- **A downloaded notebook says how to get dsmlib.** Every ``.ipynb`` under ``_sources/`` (what
  the page's download button serves) gets a first Markdown cell, injected here and never in
  the source notebooks: download the archive, ``make setup``, open with ``.venv/bin/jupyter lab``.
- **A repository link when one is configured.** ``repository: url:`` in ``_config.yml`` turns
  on sphinx-book-theme's repository button and the "clone" line of "Run it yourself"
  (substitution ``{{ get_the_code }}``); jupyter-book's default URL (its own repository) counts
  as none.
- **Static furniture** from ``_static/``: ``book.css`` (verdict bars, paper boxes, tables that
  wrap inside the column, one search box), ``book.js`` (the "expand all evidence" control,
  search snippets without raw TeX) and ``ledger.js`` (the ledger's filters, sorting and URL state).
"""

from __future__ import annotations

import fnmatch
import json
import os
import subprocess
import tarfile
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

#: the archive's file name, at the root of the HTML output
ARCHIVE = "dsm-book-source.tar.gz"
#: the folder every path of the archive sits in
PREFIX = "dsm-book"
#: what a non-git tree leaves out of the archive (names matched at any depth)
EXCLUDE = (".venv*", "_build", ".cache", ".pytest_cache", ".hypothesis", "__pycache__", "*.egg-info",
           ".git", ".ipynb_checkpoints", ".DS_Store", ARCHIVE)
#: jupyter-book's default ``repository.url`` (its own repository): not this book's
JB_DEFAULT_REPO = "https://github.com/executablebooks/jupyter-book"
#: marks the injected cell (so a second build does not inject it twice)
CELL_MARK = "dsm-book-get-dsmlib"

STATIC = Path(__file__).resolve().parent.parent / "_static"


def repository_url(config: Any) -> str:
    """This book's repository URL from the theme options, or ``""`` when none is configured."""
    url = str((config.html_theme_options or {}).get("repository_url", "") or "").strip()
    return "" if url.rstrip("/") in ("", JB_DEFAULT_REPO) else url


def _config_inited(app: Sphinx, config: Any) -> None:
    opts = dict(config.html_theme_options or {})
    url = repository_url(config)
    opts["repository_url"] = url
    opts["use_repository_button"] = bool(url)
    if not url:
        opts["use_issues_button"] = False
        opts["use_edit_page_button"] = False
        opts["use_source_button"] = False
    config.html_theme_options = opts
    subs = dict(getattr(config, "myst_substitutions", {}) or {})
    subs.setdefault(
        "get_the_code",
        f"(or clone the repository: `git clone {url}`)" if url else "",
    )
    config.myst_substitutions = subs
    if STATIC.is_dir() and str(STATIC) not in [str(Path(app.confdir, p).resolve()) for p in config.html_static_path]:
        config.html_static_path = [*config.html_static_path, str(STATIC)]
    # jupyter-book already lists every file of _static; a plain Sphinx build gets them here
    names = lambda files: {f[0] if isinstance(f, (tuple, list)) else str(f) for f in files}  # noqa: E731
    if "book.css" not in names(config.html_css_files):
        config.html_css_files = [*config.html_css_files, "book.css"]
    for js in ("book.js", "ledger.js"):
        if js not in names(config.html_js_files):
            config.html_js_files = [*config.html_js_files, js]




def _page_context(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    buttons = context.get("header_buttons")
    if buttons is None or "pathto" not in context:
        return
    buttons.insert(0, {
        "type": "link",
        "url": context["pathto"](ARCHIVE, 1),
        "tooltip": "Download the book's source: code, notebooks, Makefile (then make setup)",
        "icon": "fas fa-file-zipper",
        "text": "source",
        "label": "source-archive-button",
        "classes": "source-archive",
    })


# ---- the archive ---------------------------------------------------------------------------

def _git_head(root: Path) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=60, check=True)
        top = subprocess.run(["git", "-C", str(root), "rev-parse", "--show-toplevel"], capture_output=True,
                             text=True, timeout=60, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    if Path(top.stdout.strip()).resolve() != root.resolve():
        return None  # the book is not the repository's root: archive its files instead
    return out.stdout.strip() or None


def _excluded(rel: Path) -> bool:
    return any(fnmatch.fnmatch(part, pat) for part in rel.parts for pat in EXCLUDE)


def _tree_files(root: Path, outdir: Path) -> list[Path]:
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        d = Path(dirpath)
        dirnames[:] = sorted(n for n in dirnames
                             if not _excluded((d / n).relative_to(root)) and (d / n).resolve() != outdir.resolve())
        files += [d / f for f in sorted(filenames) if not _excluded((d / f).relative_to(root))]
    return files


def write_archive(root: Path, outdir: Path, stampdir: Path) -> Path:
    """Write ``outdir/ARCHIVE`` from the committed tree (git) or the files of ``root``.

    A git archive is re-made only when ``HEAD`` changes (its commit is stamped in ``stampdir``).
    """
    target = outdir / ARCHIVE
    head = _git_head(root)
    stamp = stampdir / (ARCHIVE + ".commit")
    if head:
        if target.exists() and stamp.exists() and stamp.read_text().strip() == head:
            return target
        tmp = target.with_name(target.name + ".part")
        subprocess.run(["git", "-C", str(root), "archive", "--format=tar.gz", f"--prefix={PREFIX}/",
                        "-o", str(tmp), "HEAD"], check=True, timeout=600)
        tmp.replace(target)
        stampdir.mkdir(parents=True, exist_ok=True)
        stamp.write_text(head + "\n")
        return target
    stamp.unlink(missing_ok=True)
    tmp = target.with_name(target.name + ".part")
    with tarfile.open(tmp, "w:gz") as tar:
        for f in _tree_files(root, outdir):
            tar.add(f, arcname=f"{PREFIX}/{f.relative_to(root).as_posix()}", recursive=False)
    tmp.replace(target)
    return target


# ---- the downloaded notebook's first cell --------------------------------------------------

def get_dsmlib_cell(docname: str, url: str, baseurl: str) -> dict:
    """The Markdown cell that opens a downloaded notebook: how to get ``dsmlib`` and run it."""
    where = f"{baseurl.rstrip('/')}/{ARCHIVE}" if baseurl else f"`{ARCHIVE}`, the *source* button in the header of every page of the book"
    clone = f" (or `git clone {url}`)" if url else ""
    path = docname + ".ipynb"
    text = (
        "> **This notebook is a page of the book *Collapse in doubly-stochastic deep networks*.** "
        "It imports the book's library `dsmlib`, which ships with the book's source, not with pip. To run it:\n"
        ">\n"
        f"> 1. download the book's source, {where}{clone}, and unpack it: "
        f"`tar xzf {ARCHIVE} && cd {PREFIX}`;\n"
        "> 2. `make setup` (Python 3.11+): creates `.venv` with `dsmlib` and the pinned requirements "
        "(`make book` and `make test` run it too);\n"
        f"> 3. `.venv/bin/jupyter lab {path}` opens this notebook, next to `dsmlib/`, with the book's kernel."
    )
    return {"cell_type": "markdown", "id": CELL_MARK, "metadata": {"tags": [CELL_MARK]},
            "source": text.splitlines(keepends=True)}


def inject_cells(outdir: Path, url: str, baseurl: str) -> int:
    """Put :func:`get_dsmlib_cell` first in every notebook under ``outdir/_sources``; how many changed."""
    changed = 0
    for path in sorted((outdir / "_sources").rglob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf8"))
        cells = nb.get("cells", [])
        if cells and CELL_MARK in (cells[0].get("metadata", {}).get("tags") or []):
            continue
        docname = path.relative_to(outdir / "_sources").with_suffix("").as_posix()
        nb["cells"] = [get_dsmlib_cell(docname, url, baseurl), *cells]
        if nb.get("nbformat_minor", 0) < 5:
            nb["cells"][0].pop("id")
        path.write_text(json.dumps(nb, ensure_ascii=False, indent=1) + "\n", encoding="utf8")
        changed += 1
    return changed


def _build_finished(app: Sphinx, exc: Exception | None) -> None:
    if exc is not None or app.builder.format != "html":
        return
    outdir = Path(app.builder.outdir)
    root = Path(app.srcdir)
    try:
        archive = write_archive(root, outdir, Path(app.doctreedir))
    except (OSError, subprocess.SubprocessError, tarfile.TarError) as e:
        logger.warning(f"reader_book: could not write the source archive: {e}")
    else:
        logger.info(f"reader_book: source archive {archive.relative_to(outdir)} ({archive.stat().st_size >> 20} MB)")
    n = inject_cells(outdir, repository_url(app.config), str(app.config.html_baseurl or ""))
    if n:
        logger.info(f"reader_book: 'how to get dsmlib' cell put first in {n} downloadable notebooks")


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", _config_inited)
    app.connect("html-page-context", _page_context, priority=600)
    app.connect("build-finished", _build_finished)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


__all__ = ["ARCHIVE", "EXCLUDE", "get_dsmlib_cell", "inject_cells", "repository_url", "setup", "write_archive"]
