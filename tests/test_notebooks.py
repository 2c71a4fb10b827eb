"""The stored notebooks: executed, error-free, reproducible-looking and CDN-free.

Strict nbval passes a notebook stored *without* outputs silently, so these checks make
sure every chapter was really executed before it was committed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb")) + [ROOT / "intro.ipynb"]
ADDRESS = re.compile(r"at 0x[0-9a-f]{6,}")
#: Markdown emphasis that ``ledger_view.escape_md`` escaped: it would show as literal asterisks
ESCAPED_EMPHASIS = re.compile(r"\\\*\\\*|\\\*[A-Za-z][^*$\n]{0,80}?\\\*")


def _code_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_executed_and_clean(path):
    nb = json.loads(path.read_text())
    assert nb["metadata"].get("kernelspec", {}).get("name") == "python3"
    assert "widgets" not in nb["metadata"], "widget state in metadata makes the HTML load a CDN"
    cells = _code_cells(nb)
    assert cells, "no code cells"
    counts = [c.get("execution_count") for c in cells]
    assert all(isinstance(n, int) for n in counts), "some code cells were never executed"
    assert counts == sorted(counts), "cells were executed out of order"
    assert any(c.get("outputs") for c in cells), "no stored outputs: nbval would compare nothing"
    for c in cells:
        tags = c.get("metadata", {}).get("tags", [])
        for out in c.get("outputs", []):
            assert out["output_type"] != "error", f"stored error output in cell {c['source'][:60]!r}"
            data = out.get("data", {})
            if "application/vnd.jupyter.widget-view+json" in data:
                assert "remove-output" in tags, "a widget output would reach the HTML (CDN): tag it remove-output"
                assert "nbval-ignore-output" in tags
            text = "".join(data.get("text/plain", "")) + "".join(out.get("text", ""))
            if "nbval-ignore-output" not in tags:
                assert not ADDRESS.search(text), f"memory address in a compared output: {text[:80]!r}"
            md = "".join(data.get("text/markdown", ""))
            hit = ESCAPED_EMPHASIS.search(md)
            assert not hit, f"escaped Markdown emphasis shows as asterisks: {md[max(0, hit.start() - 60):hit.end() + 20]!r}"
