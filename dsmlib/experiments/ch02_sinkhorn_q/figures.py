"""Chapter 2, the figures (each returns a :class:`matplotlib.figure.Figure`); matplotlib is imported inside."""

from __future__ import annotations

import math
from typing import Any

from .experiments.benchmark import BENCH_LABELS, _f
from .experiments.spectra import SweepResult, sweep_experiment

__all__ = ["alg1_figure", "benchmark_figure", "grad_figure", "logdomain_figure", "story_figure"]


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


# ============================================================== HT-ALG1 and HT-GRAD
def alg1_figure(result):
    """Share of Algorithm-1 runs that miss the tolerance after K iterations, per temperature: the
    pooled rate with its Clopper-Pearson interval and each seed block's rate (log scale; zero
    counts drawn at the bottom edge).

    Parameters
    ----------
    result : Alg1Result

    Returns
    -------
    matplotlib.figure.Figure
    """
    import numpy as np

    from ...plotting import COLORS, new_figure

    T = result.temperatures
    k = result.failed.sum(axis=1)
    lo, hi = result.interval()
    N, B = result.total, result.block_size
    floor = 0.3 / N
    fig, ax = new_figure(1, width=7.0, height=3.8)
    a = ax[0, 0]
    rate = np.where(k > 0, k / N, floor)
    a.errorbar(T, rate, yerr=[rate - np.maximum(lo, floor), np.maximum(hi, floor) - rate], fmt="o",
               color=COLORS["sinkhorn"], capsize=3, label=f"all {N} runs, {100 * result.config.level:g}% interval")
    for b in range(result.failed.shape[1]):
        r = np.where(result.failed[:, b] > 0, result.failed[:, b] / B, floor)
        a.plot(T * (1 + 0.03 * (b - 2)), r, "_", ms=7, color=COLORS["softmax"], alpha=0.8,
               label=f"each seed block of {B}" if b == 0 else None)
    a.axhline(floor, color=COLORS["paper"], lw=0.8, ls=":", label="no run missed tol")
    a.set(xscale="log", yscale="log", xlabel="temperature $T$",
          ylabel=f"share of runs not converged after $K = {result.config.n_iter}$")
    a.legend(loc="upper right")
    return fig


def grad_figure(result):
    r"""The Sinkhorn projection's Jacobian in logit units, :math:`\|\partial M/\partial Z\|_2` with
    :math:`Z = S/T`: Lanczos lower bound and the bound :math:`\max_{ij}M_{ij}` (median and IQR over
    the draws), against 1 and the first-order value :math:`1/n`.

    Parameters
    ----------
    result : GradResult

    Returns
    -------
    matplotlib.figure.Figure
    """
    from ...plotting import COLORS, band, new_figure

    T = result.temperatures
    n = result.config.n
    fig, ax = new_figure(1, width=7.0, height=4.2)
    a = ax[0, 0]
    band(a, T, result.jac_lower * T[:, None], color=COLORS["sinkhorn"],
         label=r"$\|\partial M/\partial Z\|_2$ (Lanczos, lower bound)")
    band(a, T, result.jac_upper * T[:, None], color=COLORS["accent"], label=r"bound $\max_{ij}M_{ij}$")
    a.axhline(1.0, ls="--", color=COLORS["paper"], label="1")
    a.axhline(1.0 / n, ls=":", color=COLORS["theory"], label=f"$1/n$ (first order, $n = {n}$)")
    a.set(xscale="log", yscale="log", xlabel="temperature $T$", ylabel="norm of the logit Jacobian")
    a.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)
    return fig


def logdomain_figure(result):
    """Largest difference between the plain and the log-domain iterates after each recorded
    iteration count, per score scale (median over matrices and sizes; non-finite plain iterates
    drawn at the top edge), with the plain kernel's underflow marked.

    Parameters
    ----------
    result : LogDomainResult

    Returns
    -------
    matplotlib.figure.Figure
    """
    import numpy as np

    from ...plotting import COLORS, new_figure

    cfg = result.config
    sc = np.array(cfg.scales)
    top = 10.0
    d = np.where(np.isfinite(result.diff), np.maximum(result.diff, 1e-17), top)  # (nn, ns, nrec, R)
    fig, ax = new_figure(2, width=3.75, height=4.0)
    a, b = ax[0, 0], ax[0, 1]
    for j, k in enumerate(cfg.record):
        med = np.median(np.moveaxis(d[:, :, j, :], 1, 0).reshape(sc.size, -1), axis=1)
        a.plot(sc, med, "o-", ms=3, label=f"after $k = {k}$")
    a.axhline(top, ls=":", color=COLORS["softmax"], label="plain iterate not finite")
    a.set(xscale="log", yscale="log", xlabel="score scale (std of the scores)",
          ylabel="max |plain − log-domain|, median")
    a.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    share_under = np.moveaxis(result.underflow, 1, 0).reshape(sc.size, -1).mean(axis=1)
    share_bad = np.moveaxis(~result.plain_finite, 1, 0).reshape(sc.size, -1).mean(axis=1)
    b.plot(sc, share_under, "s-", color=COLORS["paper"], label=r"$e^{S-\max S}$ underflows")
    b.plot(sc, share_bad, "o--", color=COLORS["softmax"], label="plain iterate not finite")
    b.plot(sc, np.zeros_like(sc) + np.mean(~np.isfinite(result.log_err)), "^:", color=COLORS["sinkhorn"],
           label="log-domain iterate not finite")
    b.set(xscale="log", xlabel="score scale (std of the scores)", ylabel="share of matrices", ylim=(-0.05, 1.05))
    b.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2))
    return fig
