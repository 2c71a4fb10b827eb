"""Refuse to build the book from notebooks that hold a stored error.

The book is built from the notebooks' stored outputs (``execute_notebooks: "off"`` in
``_config.yml``), so a cell that raised when the notebook was last executed would put its
traceback into the HTML, and ``jupyter-book build`` exits 0 on it. ``make book`` and
``make build-strict`` run this script first; it exits 1, naming each notebook and cell, if a
notebook

* has an ``error`` output (a cell that raised), or
* has a ``stderr`` stream holding a Python traceback (an exception printed by a callback),
* or cannot be read as a notebook.

A cell tagged ``raises-exception`` (Jupyter Book's tag for a cell that is *meant* to raise)
is allowed to hold an error output.

Usage: python scripts/check_notebooks.py [NOTEBOOK ...]   (default: every notebook of the book)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRACEBACK = "Traceback (most recent call last)"


def default_notebooks() -> list[Path]:
    """The book's notebooks: ``chapters/*.ipynb`` and the top-level ``*.ipynb``."""
    return sorted(ROOT.glob("*.ipynb")) + sorted((ROOT / "chapters").glob("*.ipynb"))


def problems(path: Path) -> list[str]:
    """Human-readable problems of one notebook (empty if it is clean)."""
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        cells = nb["cells"]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        return [f"{path}: cannot be read as a notebook ({exc})"]
    out = []
    n_code = 0
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        n_code += 1
        tags = cell.get("metadata", {}).get("tags", []) or []
        src = "".join(cell.get("source", ""))
        first = next((line for line in src.splitlines() if line.strip()), "").strip()[:70]
        where = f"{path}: code cell {n_code} ({first!r})"
        for o in cell.get("outputs", []) or []:
            kind = o.get("output_type")
            if kind == "error" and "raises-exception" not in tags:
                out.append(f"{where} holds a stored error: {o.get('ename', '?')}: {o.get('evalue', '')}"[:300])
            elif kind == "stream" and o.get("name") == "stderr" and TRACEBACK in "".join(o.get("text", "")):
                out.append(f"{where} printed a traceback to stderr")
    return out


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] if argv else default_notebooks()
    if not paths:
        print("check_notebooks: no notebooks found", file=sys.stderr)
        return 1
    found = [p for path in paths for p in problems(path)]
    for p in found:
        print(f"error: {p}", file=sys.stderr)
    if found:
        print(
            f"check_notebooks: {len(found)} problem(s); fix the cell and re-execute the notebook "
            "(make execute) before building the book",
            file=sys.stderr,
        )
        return 1
    print(f"check_notebooks: {len(paths)} notebooks, no stored errors")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
