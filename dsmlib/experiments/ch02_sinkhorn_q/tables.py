"""Chapter 2, the tables the notebook prints."""

from __future__ import annotations

import math
from typing import Any

from .experiments.benchmark import BENCH_LABELS, _f


def benchmark_table(b: dict[str, Any]) -> str:
    """A Markdown table: CPU-s, wall s, sigma_2 share, CPU relative to dsmlib, agreement.

    Rows in increasing CPU time; ``n/a`` where the run lacks a value.
    """
    impl = b.get("implementations", {})
    agr = b.get("agreement", {}).get("per_implementation", {})
    if not impl:
        return "*(no stored benchmark run: run `make bench`)*"
    rows = sorted(impl, key=lambda k: impl[k].get("cpu_seconds", math.inf))
    lines = [
        "| implementation | CPU-s | wall s | of which $\\sigma_2$ (CPU-s) | CPU vs dsmlib | runs "
        "| converged | max. difference of mean $\\sigma_2$ per $T$ |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for k in rows:
        r, a = impl[k], agr.get(k, {})
        lines.append(
            f"| {BENCH_LABELS.get(k, k)} | {_f(r.get('cpu_seconds'))} | {_f(r.get('wall_seconds'))} "
            f"| {_f(r.get('sigma2_cpu_seconds'))} | {_f(r.get('cpu_vs_dsmlib'), '{:.1f}x')} "
            f"| {r.get('runs', 'n/a')} | {a.get('converged', 'n/a')} "
            f"| {_f(a.get('max_mean_diff_per_T'), '{:.1e}')} |"
        )
    return "\n".join(lines)
