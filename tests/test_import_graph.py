"""The import graph of dsmlib is one-way and has no circle.

Layers, lowest first (a module may import its own layer or lower ones, never a higher one):

0. mechanisms and infrastructure: ``sinkhorn``, ``spectra``, ``projections``, ``attention``,
   ``noise``, ``residual``, ``verdicts``, ``cache``, ``plotting``, ``widgets``, ``trained``, ...
1. experiments: every module of ``dsmlib.experiments`` that is not a check or a view of a chapter
   (``experiments.py``, ``experiments/*``, ``analysis.py``, ``_format.py``, ...);
2. checks and a chapter's own views: ``checks.py``, ``tables.py``, ``figures.py``, and a chapter
   package's ``__init__`` (which names them);
3. the registry, ``dsmlib.claims``;
4. the views, ``dsmlib.ledger_view`` and ``dsmlib.book_view``.

Edges are the imports a module's source states (at any depth, ``from . import x`` resolved to
the submodule ``x`` where there is one), read with :mod:`ast` -- nothing is imported.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "dsmlib"

LAYERS = ("mechanism", "experiment", "check", "registry", "view")
#: modules of a chapter package that sit on the checks layer
CHECK_LAYER_NAMES = {"checks", "tables", "figures"}


def module_name(path: Path, root: Path = ROOT) -> str:
    rel = path.relative_to(root.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the package: dotted name -> file (``weights/`` and caches excluded)."""
    return {module_name(p, root): p for p in sorted(root.rglob("*.py")) if "__pycache__" not in p.parts}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The dsmlib modules that ``name`` (source at ``path``) imports, at any depth of its code."""
    is_pkg = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
            out.update(t for t in targets if t.split(".")[0] == "dsmlib")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_pkg else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.split(".")[0] != "dsmlib":
                continue
            subs = [f"{mod}.{a.name}" for a in node.names if f"{mod}.{a.name}" in known]
            out.update(subs)
            if len(subs) < len(node.names):
                out.add(mod)
    return {m for m in out if m != name}


def unresolved(root: Path = ROOT) -> list[str]:
    """Imports of a dsmlib module that does not exist (e.g. a relative import with one dot too few)."""
    mods = modules(root)
    known = set(mods)
    bad = []
    for name, path in mods.items():
        for target in imports_of(name, path, known):
            if target not in known:
                bad.append(f"{name} imports {target}")
    return sorted(bad)


def layer(name: str, is_package: bool = False) -> int:
    """The layer of a dsmlib module (see the module docstring)."""
    parts = name.split(".")
    if name in ("dsmlib.ledger_view", "dsmlib.book_view"):
        return LAYERS.index("view")
    if name == "dsmlib.claims":
        return LAYERS.index("registry")
    if len(parts) >= 2 and parts[1] == "experiments":
        if len(parts) == 2:
            return LAYERS.index("experiment")
        if parts[-1] in CHECK_LAYER_NAMES or (is_package and len(parts) == 3 and parts[2].startswith(("ch", "bk"))):
            return LAYERS.index("check")
        return LAYERS.index("experiment")
    return LAYERS.index("mechanism")


def graph(root: Path = ROOT) -> tuple[dict[str, set[str]], dict[str, int]]:
    mods = modules(root)
    known = set(mods)
    edges = {m: {t for t in imports_of(m, p, known) if t in known} for m, p in mods.items()}
    layers = {m: layer(m, p.name == "__init__.py") for m, p in mods.items()}
    return edges, layers


def upward_edges(edges: dict[str, set[str]], layers: dict[str, int]) -> list[tuple[str, str]]:
    """Every import of a module from a higher layer."""
    return sorted((a, b) for a, ts in edges.items() for b in ts if layers[b] > layers[a])


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import circle (as a list of modules, first repeated last), or None."""
    WHITE, GREY, BLACK = 0, 1, 2
    colour = dict.fromkeys(edges, WHITE)
    stack: list[str] = []

    def visit(u: str) -> list[str] | None:
        colour[u] = GREY
        stack.append(u)
        for v in sorted(edges.get(u, ())):
            if colour.get(v, BLACK) == GREY:
                return stack[stack.index(v):] + [v]
            if colour.get(v) == WHITE:
                found = visit(v)
                if found:
                    return found
        stack.pop()
        colour[u] = BLACK
        return None

    for u in sorted(edges):
        if colour[u] == WHITE:
            found = visit(u)
            if found:
                return found
    return None


# ---------------------------------------------------------------- the checker can fail
def test_checker_finds_a_cycle_and_an_upward_edge_in_a_synthetic_graph():
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert find_cycle(edges) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    layers = {"a": 0, "b": 1, "c": 0, "d": 2}
    assert upward_edges(edges, layers) == [("a", "b")]


def test_checker_reads_relative_and_nested_imports(tmp_path):
    """A synthetic package whose check module imports the registry inside a function."""
    pkg = tmp_path / "dsmlib"
    (pkg / "experiments" / "ch09_x").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "claims.py").write_text("from .experiments.ch09_x import checks\n")
    (pkg / "experiments" / "__init__.py").write_text("")
    (pkg / "experiments" / "ch09_x" / "__init__.py").write_text("from . import checks, experiments\n")
    (pkg / "experiments" / "ch09_x" / "experiments.py").write_text("import numpy\n")
    (pkg / "experiments" / "ch09_x" / "checks.py").write_text(
        "from .experiments import f\n\ndef g():\n    from ...claims import evaluate\n"
    )
    edges, layers = graph(pkg)
    assert edges["dsmlib.experiments.ch09_x"] == {"dsmlib.experiments.ch09_x.checks", "dsmlib.experiments.ch09_x.experiments"}
    assert "dsmlib.claims" in edges["dsmlib.experiments.ch09_x.checks"]
    assert upward_edges(edges, layers) == [("dsmlib.experiments.ch09_x.checks", "dsmlib.claims")]
    assert find_cycle(edges) == ["dsmlib.claims", "dsmlib.experiments.ch09_x.checks", "dsmlib.claims"]


def test_checker_reports_an_import_of_a_missing_module(tmp_path):
    """A function-level ``from ..plotting import x`` one level short resolves to no module."""
    pkg = tmp_path / "dsmlib"
    (pkg / "experiments" / "ch09_x").mkdir(parents=True)
    for f in ("__init__.py", "plotting.py", "experiments/__init__.py", "experiments/ch09_x/__init__.py"):
        (pkg / f).write_text("")
    (pkg / "experiments" / "ch09_x" / "figures.py").write_text("def f():\n    from ..plotting import COLORS\n")
    assert unresolved(pkg) == ["dsmlib.experiments.ch09_x.figures imports dsmlib.experiments.plotting"]
    (pkg / "experiments" / "ch09_x" / "figures.py").write_text("def f():\n    from ...plotting import COLORS\n")
    assert unresolved(pkg) == []


# ---------------------------------------------------------------- the real package
def test_every_import_of_dsmlib_names_an_existing_module():
    assert unresolved() == []


def test_the_layers_are_assigned_as_designed():
    edges, layers = graph()
    assert layers["dsmlib.sinkhorn"] == layers["dsmlib.verdicts"] == 0
    assert layers["dsmlib.claims"] == 3 and layers["dsmlib.ledger_view"] == 4
    assert layers["dsmlib.experiments.ch06_trained_attention.experiments"] == 1
    assert layers["dsmlib.experiments.ch06_trained_attention.checks"] == 2
    assert layers["dsmlib.experiments.ch06_trained_attention"] == 2


def test_no_module_imports_a_layer_above_it():
    edges, layers = graph()
    bad = [f"{a} ({LAYERS[layers[a]]}) imports {b} ({LAYERS[layers[b]]})" for a, b in upward_edges(edges, layers)]
    assert not bad, "\n".join(bad)


def test_there_is_no_import_circle():
    edges, _ = graph()
    assert find_cycle(edges) is None, " -> ".join(find_cycle(edges) or [])


@pytest.mark.parametrize("module", ["dsmlib.claims", "dsmlib.verdicts"])
def test_the_registry_and_the_verdicts_import_no_view(module):
    edges, _ = graph()
    assert "dsmlib.ledger_view" not in edges[module]
