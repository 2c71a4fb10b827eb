"""The book's local Sphinx extension ``_ext/reader_book.py``: the source archive holds the
tree without environments and caches, and every downloadable notebook gets, once, a first
cell saying how to get dsmlib."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import types
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "_ext"))
reader_book = pytest.importorskip("reader_book")


def _tree(root: Path) -> None:
    for rel in ("README.md", "Makefile", "dsmlib/__init__.py", "chapters/01_a.ipynb", ".venv/bin/python",
                ".venv-latest/x", "_build/html/index.html", ".cache/dsmlib/x.npz", "dsmlib/__pycache__/a.pyc",
                "dsmlib.egg-info/PKG-INFO"):
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("x")


def test_archive_of_a_plain_tree_leaves_out_environments_build_output_and_caches(tmp_path):
    root = tmp_path / "book"
    _tree(root)
    out = root / "_build" / "html"
    path = reader_book.write_archive(root, out, tmp_path / "stamps")
    with tarfile.open(path) as tar:
        names = set(tar.getnames())
    assert {"dsm-book/README.md", "dsm-book/Makefile", "dsm-book/dsmlib/__init__.py", "dsm-book/chapters/01_a.ipynb"} <= names
    assert not [n for n in names if any(x in n for x in (".venv", "_build", ".cache", "__pycache__", "egg-info"))]


def test_archive_of_a_git_checkout_is_the_committed_tree(tmp_path):
    root = tmp_path / "book"
    _tree(root)
    git = ["git", "-C", str(root), "-c", "user.email=a@b", "-c", "user.name=t"]
    try:
        subprocess.run([*git, "init", "-q"], check=True)
        subprocess.run([*git, "add", "README.md", "Makefile", "dsmlib/__init__.py"], check=True)
        subprocess.run([*git, "commit", "-qm", "x"], check=True)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("git not usable here")
    (root / "uncommitted.txt").write_text("not in the archive")
    path = reader_book.write_archive(root, root / "_build" / "html", tmp_path / "stamps")
    with tarfile.open(path) as tar:
        names = set(tar.getnames())
    assert "dsm-book/README.md" in names and "dsm-book/uncommitted.txt" not in names
    assert "dsm-book/chapters/01_a.ipynb" not in names  # never committed


def test_downloaded_notebooks_open_with_how_to_get_dsmlib_once(tmp_path):
    src = tmp_path / "_sources" / "chapters"
    src.mkdir(parents=True)
    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
          "cells": [{"cell_type": "markdown", "id": "a", "metadata": {}, "source": ["# Title"]}]}
    (src / "02_x.ipynb").write_text(json.dumps(nb))
    assert reader_book.inject_cells(tmp_path, "", "") == 1
    assert reader_book.inject_cells(tmp_path, "", "") == 0  # idempotent
    cells = json.loads((src / "02_x.ipynb").read_text())["cells"]
    first = "".join(cells[0]["source"])
    assert cells[0]["cell_type"] == "markdown" and len(cells) == 2
    assert "make setup" in first and "dsm-book-source.tar.gz" in first
    assert ".venv/bin/jupyter lab chapters/02_x.ipynb" in first
    with_repo = "".join(reader_book.get_dsmlib_cell("intro", "https://example.org/r", "https://book.example")["source"])
    assert "git clone https://example.org/r" in with_repo and "https://book.example/dsm-book-source.tar.gz" in with_repo


def test_repository_button_only_for_a_configured_repository():
    conf = types.SimpleNamespace(html_theme_options={"repository_url": reader_book.JB_DEFAULT_REPO})
    assert reader_book.repository_url(conf) == ""
    conf.html_theme_options = {"repository_url": "https://example.org/dsm-book"}
    assert reader_book.repository_url(conf) == "https://example.org/dsm-book"
    conf.html_theme_options = {}
    assert reader_book.repository_url(conf) == ""
