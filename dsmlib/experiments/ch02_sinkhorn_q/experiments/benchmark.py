"""Chapter 2, the stored ``make bench`` run: loading and summarising it."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

__all__ = ["BENCH_LABELS", "_f", "benchmark_summary", "load_benchmark"]


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
