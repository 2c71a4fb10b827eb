"""Chapter 2's benchmark section: the table and figure of ``benchmarks/bench_sinkhorn.json``.

``make bench`` (``benchmarks/bench_sinkhorn.py``) times the HT Exp. 1 sweep with dsmlib and
the libraries a user would pick and stores the run in a JSON file; the functions here only
*present* that stored run (timings depend on the machine and are not reproducible, so the
chapter shows them under a cell that nbval ignores). Nothing here measures anything.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

__all__ = ["BENCH_LABELS", "benchmark_figure", "benchmark_summary", "benchmark_table", "load_benchmark"]

#: reader-facing names of the implementations in the benchmark JSON, in display order
BENCH_LABELS = {
    "dsmlib": "dsmlib (compiled kernels)",
    "dsmlib_numpy": "dsmlib, numpy path (before issue 14)",
    "numpy_batched": "15-line batched numpy loop",
    "torch_bmm": "torch bmm loop",
    "pot_batch_sinkhorn": 'POT solve_batch, "sinkhorn"',
    "pot_loop": "POT ot.sinkhorn, looped",
    "ott_scaling": "ott-jax, scaling (jit+vmap)",
    "ott_lse": "ott-jax, log-sum-exp (jit+vmap)",
    "pot_batch_log": 'POT solve_batch, "log_sinkhorn"',
    "loop": "Algorithm 1 as written, per trial",
}


def load_benchmark(path: str | Path) -> dict[str, Any]:
    """The stored benchmark run (``{}`` if the file does not exist)."""
    p = Path(path)
    return json.loads(p.read_text()) if p.exists() else {}


def _f(x: Any, fmt: str = "{:.2f}") -> str:
    return fmt.format(x) if isinstance(x, (int, float)) and math.isfinite(x) else "n/a"


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


def benchmark_summary(b: dict[str, Any]) -> dict[str, str]:
    """The numbers the chapter's text quotes, as display strings (``n/a`` if absent)."""
    impl = b.get("implementations", {})
    fl = b.get("floor", {})
    cpu = {k: v.get("cpu_seconds") for k, v in impl.items()}
    ds = cpu.get("dsmlib")

    def ratio(k: str) -> str:
        v = cpu.get(k)
        return _f(v / ds, "{:.1f}") if isinstance(v, (int, float)) and ds else "n/a"

    share = impl.get("dsmlib", {}).get("sigma2_cpu_seconds")
    comp = b.get("compile_seconds", {})
    first = comp.get("numba_first_call_this_process", {})
    return {
        "dsmlib_cpu": _f(ds),
        "vs_pot_loop": ratio("pot_loop"),
        "vs_numpy_path": ratio("dsmlib_numpy"),
        "vs_loop": ratio("loop"),
        "vs_numpy_batched": ratio("numpy_batched"),
        "vs_pot_batch": ratio("pot_batch_sinkhorn"),
        "vs_ott": ratio("ott_scaling"),
        "sigma2_share": _f(100 * share / ds, "{:.0f}") if isinstance(share, (int, float)) and ds else "n/a",
        "floor_cpu": _f(fl.get("compute_floor_cpu_seconds")),
        "over_floor": _f(fl.get("dsmlib_over_floor"), "{:.1f}"),
        "gemm_gflops": _f(fl.get("gemm_gflops"), "{:.0f}"),
        "sweep_gflop": _f(fl.get("sweep_gflop", {}).get("total"), "{:.1f}"),
        "numba_cold": _f(comp.get("numba_cold"), "{:.0f}"),
        "numba_load": _f(sum(first.values()) if first else None),
        "exponent_n": _f(b.get("growth", {}).get("exponent_n_at_const_Rn2")),
        "exponent_R": _f(b.get("growth", {}).get("exponent_R_at_n64")),
        "iterations_identical": str(b.get("iterations_identical_to_numpy", "n/a")),
    }


def benchmark_figure(b: dict[str, Any]):
    """Two panels: CPU-seconds per implementation (log scale, sigma_2 share hatched, the
    machine's compute floor) and dsmlib's cost growth with n (R n^2 fixed) and with R.

    Returns
    -------
    matplotlib.figure.Figure or None
        None if the run has no implementations.
    """
    from ...plotting import COLORS, new_figure

    impl = b.get("implementations", {})
    if not impl:
        return None
    rows = sorted(impl, key=lambda k: impl[k].get("cpu_seconds", math.inf), reverse=True)
    fig, axes = new_figure(2, width=3.75, height=3.6)
    ax = axes[0, 0]
    y = range(len(rows))
    tot = [impl[k]["cpu_seconds"] for k in rows]
    sig = [impl[k].get("sigma2_cpu_seconds", 0.0) for k in rows]
    col = [COLORS["sinkhorn"] if k.startswith("dsmlib") else COLORS["paper"] for k in rows]
    ax.barh(y, tot, color=col, alpha=0.85, label="Sinkhorn + $\\sigma_2$")
    ax.barh(y, sig, color="none", edgecolor="black", hatch="///", linewidth=0.5, label="of which $\\sigma_2$")
    floor = b.get("floor", {}).get("compute_floor_cpu_seconds")
    if isinstance(floor, (int, float)):
        ax.axvline(floor, color=COLORS["theory"], ls="--", lw=1.2, label="compute floor")
    ax.set_yticks(list(y), [BENCH_LABELS.get(k, k).split(" (")[0] for k in rows], fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("CPU-seconds for the sweep (log scale)")
    ax.set_title("HT Exp. 1 sweep: 16 T x 1000 DSMs")
    ax.legend(loc="upper right", fontsize=7)

    ax = axes[0, 1]
    g = b.get("growth", {})
    pts = [v for v in g.values() if isinstance(v, dict)]
    # the points at R n^2 = 64^2 x 1000 (to the rounding of R), and the large-R point at n = 64
    const = sorted((v for v in pts if v["n"] * v["n"] * v["R"] <= 64 * 64 * 1000 * 1.1), key=lambda v: v["n"])
    if const:
        ax.loglog([v["n"] for v in const], [v["cpu"] for v in const], "o-", color=COLORS["sinkhorn"],
                  label=f"$R n^2$ fixed (slope {_f(g.get('exponent_n_at_const_Rn2'))})")
    big = [v for v in pts if v["n"] == 64 and v["R"] > 1000]
    base = next((v for v in const if v["n"] == 64), None)
    if big and base:
        ax.text(0.03, 0.86, f"$n=64$: $R$ = 1000 \u2192 {big[0]['R']:,}\nCPU \u00d7{big[0]['cpu'] / base['cpu']:.1f} "
                f"(slope {_f(g.get('exponent_R_at_n64'))} in $R$)", transform=ax.transAxes, ha="left",
                va="top", fontsize=8)
    from matplotlib.ticker import FormatStrFormatter, NullFormatter, ScalarFormatter

    ax.xaxis.set_major_formatter(ScalarFormatter())  # plain numbers on the log axes
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.yaxis.set_minor_formatter(FormatStrFormatter("%g"))
    if const:
        ax.set_xticks([v["n"] for v in const])
    ax.set_xlabel("matrix size $n$ (log scale)")
    ax.set_ylabel("CPU-seconds (dsmlib, whole sweep)")
    ax.set_title("Cost growth")
    ax.legend(loc="upper left", fontsize=7)
    return fig
