"""Chapter 7 figures (the book's style, :mod:`dsmlib.plotting`); each returns the Figure."""

from __future__ import annotations

import numpy as np

from ... import mhc
from ...plotting import COLORS, new_figure
from .checks import BF16_LEVEL, DS_TOL, GAIN_BOUND, GAMMA_HIGH, GAMMA_LOW, HOMOGENISED, KEEP, ds_quantiles
from .experiments import (
    LAYERS,
    LEARNED_GAP,
    N_STREAMS,
    DSResult,
    GainResult,
    LineResult,
    NormResult,
    S2Result,
    line_sigma2,
)

__all__ = ["RECIPE_COLORS", "RECIPE_MARKERS", "explore_figure", "fig_ds", "fig_gain", "fig_line", "fig_norm", "fig_s2"]

#: one colour per recipe
RECIPE_COLORS = {
    "v4": "#1f77b4", "paper": "#7f7f7f", "megatron": "#17becf", "lucidrains": "#ff7f0e",
    "tokenbender": "#9467bd", "mhc_lite_sinkhorn": "#2ca02c", "mhc_lite": "#d62728",
}
#: one marker per recipe (curves that coincide stay visible)
RECIPE_MARKERS = dict(zip(RECIPE_COLORS, "osD^vx+"))
#: values below this are drawn at it (float64 floor of sigma_2 of products)
DRAW_FLOOR = 1e-17


def _depth_marks(ax, layers=LAYERS):
    for L in layers:
        ax.axvline(2 * L, color="0.6", lw=0.8, ls=":")
        ax.text(2 * L, 1.0, f" L={L}", transform=ax.get_xaxis_transform(), fontsize=8, va="bottom", ha="center")


def fig_s2(result: S2Result):
    """sigma_2 of the running products against depth (median, IQR band), HT's bound dashed, log scale."""
    fig, axes = new_figure(1, 1, width=7.2, height=4.4)
    ax = axes[0, 0]
    k = np.arange(1, result.product.shape[-1] + 1)
    for i, name in enumerate(result.recipes):
        c = RECIPE_COLORS[name]
        lo, mid, hi = np.percentile(np.maximum(result.product[i], DRAW_FLOOR), [25, 50, 75], axis=0)
        ax.fill_between(k, lo, hi, color=c, alpha=0.2, lw=0)
        ax.plot(k, mid, color=c, label=name)
        ax.plot(k, np.maximum(np.median(result.bound[i], axis=0), DRAW_FLOOR), color=c, ls="--", lw=1)
    ax.axhline(KEEP, color="k", lw=0.8)
    ax.axhline(HOMOGENISED, color="k", lw=0.8, ls="-.")
    _depth_marks(ax, result.config.layers)
    ax.set_yscale("log")
    ax.set_ylim(DRAW_FLOOR / 3, 3)
    ax.set_xlabel("factors $k$ (two per layer)")
    ax.set_ylabel(r"$\sigma_2(H_k\cdots H_1)$")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
    return fig


def fig_line(result: LineResult):
    """sigma_2 of 2L identical factors against the per-factor sigma_2, the line s*, the reported matrices."""
    fig, axes = new_figure(1, 1, width=7.0, height=3.6)
    ax = axes[0, 0]
    s = np.linspace(0.9, 1.0, 400)
    for L, c in zip(result.config.layers, ("#1f77b4", "#ff7f0e", "#2ca02c")):
        ax.plot(s, s ** (2 * L), color=c, label=f"$L = {L}$: $s^{{{2 * L}}}$")
        ax.axvline(line_sigma2(L), color=c, ls=":", lw=1)
    for i, r in enumerate(result.readings):
        ax.plot(result.reported_s2[i] * np.ones(len(result.config.layers)), result.reported_product[i], "kx" if i else "ko",
                ms=6, label=f"reported ({r})")
    ax.axhline(0.5, color="k", lw=0.8)
    ax.set_yscale("log")
    ax.set_ylim(1e-6, 1.5)
    ax.set_xlabel(r"per-factor $\sigma_2$")
    ax.set_ylabel(r"$\sigma_2$ of the product of $2L$ factors")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
    return fig


def fig_ds(result: DSResult):
    """95th-percentile distance from doubly stochastic against effective logit range, one panel per precision."""
    q = np.maximum(ds_quantiles(result), DRAW_FLOOR)
    r = np.asarray(result.config.ranges)
    fig, axes = new_figure(2, 2, width=3.7, height=3.0, sharex=True, sharey=True)
    for j, dt in enumerate(result.dtypes):
        ax = axes.flat[j]
        for i, name in enumerate(result.recipes):
            ax.plot(r, q[i, j], "-", marker=RECIPE_MARKERS[name], ms=4, mfc="none", color=RECIPE_COLORS[name],
                    label=name)
        ax.axhline(DS_TOL, color="k", lw=0.8)
        ax.axhline(BF16_LEVEL, color="k", lw=0.8, ls=":")
        ax.axvline(LEARNED_GAP, color="0.5", lw=0.8, ls="--")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(dt)
        ax.set_xlabel(r"effective logit range $\max - \min$ of $L/\tau$")
        ax.set_ylabel("distance from DS")
    leg = axes.flat[3]
    leg.axis("off")
    leg.legend(*axes.flat[0].get_legend_handles_labels(), loc="center")
    return fig


def fig_gain(result: GainResult, dtype: str = "bfloat16"):
    """Forward and backward composite Amax gain against depth (max over chains), learned-like logits."""
    fig, axes = new_figure(2, 1, width=3.7, height=3.4, sharey=True)
    d = result.config.gain_dtypes.index(dtype)
    s = result.settings.index("learned")
    k = np.arange(1, result.config.depth + 1)
    for ax, side, arr in ((axes[0, 0], "forward (row sums)", result.forward),
                          (axes[0, 1], "backward (column sums)", result.backward)):
        for i, name in enumerate(result.recipes):
            ax.plot(k, arr[i, s, d].max(axis=0), color=RECIPE_COLORS[name], label=name)
        ax.axhline(GAIN_BOUND, color=COLORS["paper"], ls="--", lw=1, label="reported bound 1.6")
        ax.axhline(1.0, color="k", lw=0.6)
        ax.set_title(side)
        ax.set_xlabel("factors $k$")
    axes[0, 0].set_ylabel("Amax gain of the composite (max over chains)")
    axes[0, 1].legend(loc="center", ncol=2, fontsize=8)  # the empty band between 1.15 and 1.55
    return fig


def fig_norm(result: NormResult):
    """Left: stream-difference ratio ||Ux||/||x|| against depth per pre-norm; right: cosine with the
    original differences against gamma (HT's regimes shaded)."""
    fig, axes = new_figure(2, 1, width=3.7, height=3.4)
    ax = axes[0, 0]
    depths = np.asarray(result.config.depths)
    styles = {"none": ("k", "-"), "rms": ("#1f77b4", "--"), "layernorm": ("#ff7f0e", ":"), "across": ("#d62728", "-")}
    for j, n in enumerate(result.norms):
        c, ls = styles[n]
        ax.plot(depths, np.median(result.ratio[j], axis=-1), color=c, ls=ls, label=n)
    ax.set_yscale("log")
    ax.set_xlabel("factors $k$")
    ax.set_ylabel(r"$\|Ux\|_F/\|x\|_F$ after the norm")
    ax.legend(loc="lower left")
    ax = axes[0, 1]
    g = np.median(result.gamma, axis=-1)
    ax.plot(g, np.median(result.cosine[result.norms.index("across")], axis=-1), "o", ms=3, color="#d62728")
    ax.axvspan(g.min() / 1.5, GAMMA_LOW, color="0.85", lw=0)
    ax.axvspan(GAMMA_HIGH, g.max() * 1.5, color="0.92", lw=0)
    ax.set_xscale("log")
    ax.set_xlabel(r"$\gamma = \|UPx_0\|/\nu$")
    ax.set_ylabel("cosine with the original differences")
    return fig


def explore_figure(scale: float = 0.014, depth: int = 122, *, chains: int = 16, seed: int = 0):
    """sigma_2 of products of ``depth`` factors for every recipe at logits of standard deviation
    ``scale`` (effective, around each recipe's static initial bias), ``chains`` seeded stacks: the
    Explore section's frame (kernel-free player) and live plot."""
    import math

    fig, axes = new_figure(1, 1, width=6.6, height=3.6)
    ax = axes[0, 0]
    k = np.arange(1, int(depth) + 1)
    rng = np.random.default_rng(seed)
    for name, r in mhc.RECIPES.items():
        base = mhc.init_logits(name, N_STREAMS, rng=0) if r.init == "static" else np.zeros((N_STREAMS, N_STREAMS))
        L = base + scale * r.tau * rng.standard_normal((chains, int(depth)) + base.shape)
        P = mhc.product_sigma2(mhc.h_res(L, name), transpose=r.transpose_on_apply)
        ax.plot(k, np.maximum(np.median(P, axis=0), DRAW_FLOOR), color=RECIPE_COLORS[name], label=name)
    ax.axhline(KEEP, color="k", lw=0.8)
    ax.set_yscale("log")
    ax.set_ylim(DRAW_FLOOR / 3, 3)
    ax.set_xlabel("factors $k$")
    ax.set_ylabel(r"median $\sigma_2(H_k\cdots H_1)$")
    ax.set_title(f"logit noise s.d. {scale:g} (effective), {math.ceil(depth / 2)} layers")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
    return fig
