"""Chapter 2, the figures (each returns a :class:`matplotlib.figure.Figure`); matplotlib is imported inside."""

from __future__ import annotations

import math
from typing import Any

from .experiments.benchmark import BENCH_LABELS, _f
from .experiments.spectra import SweepResult, sweep_experiment


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


# ============================================================== the book's story figure
def story_figure(result: SweepResult | None = None):
    r"""The book's story in one figure: :math:`\sigma_2` vs temperature with its IQR band.

    Parameters
    ----------
    result : SweepResult, optional
        Defaults to the (disk-cached) :func:`sweep_experiment` at the papers' sizes.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from ...plotting import COLORS, band

    r = sweep_experiment() if result is None else result
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    band(ax, r.temperatures, r.sigma2, color=COLORS["sinkhorn"], label=r"median $\sigma_2(M)$, IQR band")
    ax.set_xscale("log")
    ax.set_xlabel("Sinkhorn temperature $T$")
    ax.set_ylabel(r"$\sigma_2(M)$")
    ax.set_ylim(0, 1.02)
    ax.set_title(rf"The homogeneity trap: $n={r.config.n}$, {r.sigma2.shape[1]} DSMs per $T$")
    ax.legend(loc="upper right")
    return fig
