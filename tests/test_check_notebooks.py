"""`make book` and `make build-strict` fail on a stored error output (issue 19, defect 6)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "check_notebooks.py"


def _nb(outputs, tags=()):
    return {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": "# title"},
            {"cell_type": "code", "execution_count": 1, "metadata": {"tags": list(tags)}, "source": "1 / 0",
             "outputs": outputs},
        ],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
    }


ERROR = {"output_type": "error", "ename": "ZeroDivisionError", "evalue": "division by zero", "traceback": []}
STDERR_TB = {"output_type": "stream", "name": "stderr",
             "text": "Traceback (most recent call last):\n  File ...\nValueError: boom\n"}
FINE = {"output_type": "stream", "name": "stdout", "text": "ok\n"}


def run(*paths):
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, paths)], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("outputs, tags, bad", [
    ([ERROR], (), True),
    ([STDERR_TB], (), True),
    ([FINE], (), False),
    ([ERROR], ("raises-exception",), False),
])
def test_script(tmp_path, outputs, tags, bad):
    p = tmp_path / "nb.ipynb"
    p.write_text(json.dumps(_nb(outputs, tags)))
    r = run(p)
    assert r.returncode == (1 if bad else 0), r.stderr
    if bad:
        assert "nb.ipynb: code cell 1 ('1 / 0')" in r.stderr


def test_unreadable_notebook_fails(tmp_path):
    p = tmp_path / "broken.ipynb"
    p.write_text("{not json")
    r = run(p)
    assert r.returncode == 1 and "cannot be read" in r.stderr


def test_the_books_notebooks_are_clean():
    r = run()
    assert r.returncode == 0, r.stderr


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
@pytest.mark.parametrize("target", ["book", "build-strict"])
def test_make_targets_run_the_check_before_building(target):
    r = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    check = next(i for i, line in enumerate(lines) if "scripts/check_notebooks.py" in line)
    build = next(i for i, line in enumerate(lines) if "jupyter-book build" in line)
    assert check < build
