"""Chapter 5, the figures (matplotlib, the book's style) and the live explorer.

Each ``fig_*`` function takes experiment results and returns the figure; the notebook shows it
with the caption stored in the cell's metadata.
"""

from __future__ import annotations

from typing import Any
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from ...attention import prefix_products, random_attention_scores
from ...plotting import COLORS, log_boxplot, new_figure
from ...sinkhorn import row_softmax, sinkhorn
from ...spectra import rank_one_residual

from .experiments.collapse import CollapseResult, LambdaResult, collapse_fit
from .experiments.mixing import MixingResult
from .experiments.products import FLOOR, METHODS, LawFit, PathResult, RandomProductsResult
from .experiments.theorems import CUBIC_TOL, LINEAR_AMAX, SANDecayResult, Theorem1Result, Theorem2Result

__all__ = [
    "fig_collapse",
    "fig_exp_vs_dexp",
    "fig_lambda",
    "fig_local_exponents",
    "fig_mixing",
    "fig_paths",
    "fig_random_products",
    "fig_thm1",
    "fig_thm2",
    "fig_thm45",
    "plot_products",
    "products_explorer",
    "products_player",
]


def fig_random_products(rp: RandomProductsResult) -> Figure:
    """RC Fig. 5's layout: residual of random products by depth, scales by row, skips by column."""
    fig, axes = new_figure(2, len(rp.config.scales), width=4.6, height=3.2, sharex=True)
    for s, c in enumerate(rp.config.scales):
        for k, title in enumerate(("no skip", "half the factors $= I$")):
            ax = axes[s, k]
            for m, method in enumerate(METHODS):
                log_boxplot(ax, rp.depths, list(rp.residual[s, m, k].T), color=COLORS[method], label=method,
                            width=0.35, offset=(-0.2, 0.2)[m])
            ax.set_title(f"$c = {c:g}$, {title}")
            ax.set_ylim(1e-17, 2)
            if s == len(rp.config.scales) - 1:
                ax.set_xlabel("depth $t$ (factors)")
            if k == 0:
                ax.set_ylabel(r"$\sigma_2(P_t)/\sigma_1(P_t)$")
    axes[0, 0].legend(loc="lower left")
    return fig


def fig_exp_vs_dexp(rp: RandomProductsResult, san: SANDecayResult, fits: dict[tuple[str, str], LawFit]) -> Figure:
    """Median residual of random products and of a random pure SAN, with both fitted laws."""
    fig, ax = plt.subplots(figsize=(7, 4.6))
    for m, method in enumerate(METHODS):
        col = COLORS[method]
        for what, x, R, mk in (("products", rp.depths, rp.residual[0, m, 0], "s"),
                               ("SAN", san.layers, san.residual[m], "o")):
            lo, mid, hi = np.percentile(R, [25, 50, 75], axis=0)
            ax.fill_between(x, lo, hi, color=col, alpha=0.15, linewidth=0)
            ax.plot(x, mid, mk, color=col, ms=4, label=f"{what}, {method}")
            f = fits[what, method]
            xx = np.linspace(x[0], x[-1], 200)
            ax.plot(xx, np.exp(f.exp_params[0] + f.exp_params[1] * xx), "--", color=col, lw=0.9)
            ax.plot(xx, np.exp(-np.exp(f.dexp_params[0] + f.dexp_params[1] * xx)), ":", color=col, lw=1.2)
    ax.axhspan(1e-17, FLOOR, color="0.85", zorder=0, label="float64 floor")
    ax.plot([], [], "k--", lw=0.9, label="exponential fit")
    ax.plot([], [], "k:", lw=1.2, label="doubly exponential fit")
    ax.set_yscale("log")
    ax.set_ylim(1e-17, 3)
    ax.set_xlim(-0.5, rp.depths[-1] + 0.5)
    ax.set_xlabel("depth $t$ (factors or layers)")
    ax.set_ylabel("normalised residual $r$")
    ax.legend(ncol=3, loc="lower center", bbox_to_anchor=(0.5, 1.0))
    return fig


def fig_thm1(t1: Theorem1Result, d_qk: int = 32) -> Figure:
    """LHS over RC's Theorem 1 bound and over the corrected first-order bound, against the score spread."""
    ratio_paper, ratio_corr = t1.lhs / t1.paper_rhs, t1.lhs / t1.corrected_rhs
    c1 = t1.config
    fig, axes = new_figure(2, 1, width=4.8, height=3.6, sharey=True)
    j = c1.d_qks.index(d_qk)
    cols = ["#2ca02c", "#1f77b4", "#9467bd", "#8c564b"]
    for ax, ratio, title in ((axes[0, 0], ratio_paper, "RC Theorem 1"),
                             (axes[0, 1], ratio_corr, "corrected (first order)")):
        for i, n in enumerate(c1.ns):
            col = cols[i % len(cols)]
            x = np.median(t1.amax[1, i, j, 0], axis=-1)
            ax.plot(x, np.median(ratio[1, i, j, 0], axis=-1), "-o", ms=3, color=col, label=f"aligned, $n = {n}$")
            xr = np.median(t1.amax[0, i, j, 0], axis=-1)
            ax.plot(xr, ratio[0, i, j, 0].max(axis=-1), "--", color=col, label=f"random (max), $n = {n}$")
            if ratio is ratio_paper:
                ax.axhline(np.sqrt(n), color=col, ls=":", lw=0.8, label=rf"$\sqrt{{n}}$, $n = {n}$")
        ax.axhline(1, color="k", lw=1)
        ax.axvline(LINEAR_AMAX, color="0.6", lw=0.8)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(title)
        ax.set_xlabel(r"score spread $\max_{ij}|A_{ij}|$")
    axes[0, 0].set_ylabel("LHS / RHS")
    fig.legend(*axes[0, 0].get_legend_handles_labels(), ncol=3, loc="upper center", bbox_to_anchor=(0.5, 0.0))
    return fig


def fig_thm2(t2: Theorem2Result) -> Figure:
    """Residual through aligned and random SANs against RC's Theorem 2 bound and the corrected one."""
    rel = t2.reliable
    fig, ax = plt.subplots(figsize=(6.4, 4))
    L = np.arange(t2.config.n_layers + 1)
    for r, col in ((min(1, len(t2.config.rhos) - 1), COLORS["sinkhorn"]), (0, COLORS["theory"])):
        ok = rel[1, r].all(axis=0)
        ax.plot(L[ok], np.median(t2.log_lhs[1, r], axis=0)[ok], "o-", color=col,
                label=rf"aligned, $\|R\|_2 = {t2.config.rhos[r]:g}$")
        ax.plot(L, np.median(t2.log_bound("paper")[1, r], axis=0), "--", color=col, lw=1)
        ax.plot(L, np.median(t2.log_bound("corrected")[1, r], axis=0), ":", color=col, lw=1.5)
        okr = rel[0, r].all(axis=0)
        ax.plot(L[okr], np.median(t2.log_lhs[0, r], axis=0)[okr], "s-", color="0.5", ms=3,
                label="random (median)" if r == 1 else None)
    ax.set_ylim(-45, 2)
    ax.set_xlabel("layers $L$")
    ax.set_ylabel(r"$\log_{10}\|\mathrm{res}(\mathrm{SAN}_L(X))\|_2$")
    ax.plot([], [], "k--", lw=1, label="RC bound")
    ax.plot([], [], "k:", label="corrected constant")
    ax.legend(ncol=3, loc="lower center", bbox_to_anchor=(0.5, 1.0))
    return fig


def fig_thm45(t4: Theorem2Result, t5: Theorem2Result, rho_index: int = 1) -> Figure:
    """RC Theorem 5 (LHS over bound against the score spread) and Theorem 4 (residual by depth)."""
    fig, axes = new_figure(2, 1, width=3.6, height=3.4)
    ax = axes[0, 0]
    g5 = t5.log_lhs[..., 1] - t5.log_bound("paper")[..., 1]  # (kind, rho, trial)
    for kind, name, col, agg in ((1, "aligned (median)", COLORS["sinkhorn"], np.median),
                                 (0, "random (max)", "0.5", np.max)):
        x = np.median(t5.amax_in[kind, :, :, 0], axis=-1)
        ax.plot(x, 10 ** agg(g5[kind], axis=-1), "o-", color=col, ms=4, label=name)
    ax.axhline(1, color="k", lw=1)
    ax.axhline(np.sqrt(t5.config.n), color=COLORS["theory"], ls=":", label=r"$\sqrt{n}$")
    ax.axvline(LINEAR_AMAX, color="0.6", lw=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"score spread $\max_{ij}|A_{ij}|$")
    ax.set_ylabel("LHS / RC bound")
    ax.set_title(f"RC Thm. 5 ($H = {t5.config.n_heads}$, one layer)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3))
    ax = axes[0, 1]
    Ls = np.arange(t4.config.n_layers + 1)
    ok = t4.reliable[1, rho_index].all(axis=0)
    ax.plot(Ls[ok], np.median(t4.log_lhs[1, rho_index], axis=0)[ok], "o-", color=COLORS["sinkhorn"],
            label="aligned, measured")
    ax.plot(Ls, np.median(t4.log_bound("paper")[1, rho_index], axis=0), "--", color="k", lw=1, label="RC bound")
    ax.plot(Ls, np.median(t4.log_bound("corrected")[1, rho_index], axis=0), ":", color=COLORS["theory"],
            lw=1.5, label="corrected constant")
    ax.set_ylim(-40, 2)
    ax.set_xlabel("layers $L$")
    ax.set_ylabel(r"$\log_{10}\|\mathrm{res}(\mathrm{SAN}_h(X))\|_2$")
    ax.set_title(rf"RC Thm. 4 (one head), $\|R\|_2 = {t4.config.rhos[rho_index]:g}$")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3))
    return fig


def fig_collapse(col: CollapseResult) -> Figure:
    """Median residual by layer of random pure Sinkhorn SANs, one panel per size, with both laws."""
    c = col.config
    fig, axes = new_figure(len(c.sizes), 1, width=3.6, height=3.4, sharey=True)
    for s, (n, d, dqk, H) in enumerate(c.sizes):
        ax = axes[0, s]
        for g, mk in zip(range(len(c.regimes)), "osd"):
            rel = col.reliable[s, g]
            keep = rel.mean(axis=0) >= 0.5
            Ls = np.arange(rel.shape[-1])[keep]
            med = np.median(np.where(rel, col.log_res[s, g], -np.inf), axis=0)[keep]
            lab = "standard" if g == 0 else rf"$\|R\|_2 = {c.small_rhos[g - 1]:g}$"
            ax.plot(Ls, med, mk + "-", ms=4, label=lab)
        f = collapse_fit(col, s, 0)
        x0 = np.median(col.log_res[s, 0, :, 0])
        tt = np.linspace(1, c.n_layers, 50)
        ln10 = np.log(10)
        ax.plot(tt, x0 + (f.exp_params[0] + f.exp_params[1] * tt) / ln10, "--", color="0.4", lw=1,
                label="exponential fit")
        ax.plot(tt, x0 - np.exp(f.dexp_params[0] + f.dexp_params[1] * tt) / ln10, ":", color="k", lw=1.5,
                label="doubly exp. fit")
        ax.set_title(f"$n = {n}$, $d = {d}$, $H = {H}$")
        ax.set_xlabel(r"layer $\ell$")
    axes[0, 0].set_ylabel(r"$\log_{10}\|\mathrm{res}(X_\ell)\|_2$ (median)")
    fig.legend(*axes[0, 0].get_legend_handles_labels(), ncol=3, loc="upper center", bbox_to_anchor=(0.5, 0.0))
    return fig


def fig_local_exponents(col: CollapseResult) -> Figure:
    """Local exponent of each layer at its actual input against that input's score spread."""
    if col.local_k is None:
        raise ValueError("the result carries no local exponents")
    c = col.config
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    markers = "os^v"
    for s, (n, *_) in enumerate(c.sizes):
        for ell in range(c.n_layers):
            ax.plot(col.amax_in[s, 0, :, ell], col.local_k[s, :, ell], markers[ell % 4], ms=3, alpha=0.5,
                    color=(COLORS["sinkhorn"], COLORS["theory"])[s % 2],
                    label=rf"$n = {n}$, layer {ell + 1}")
    ax.axhspan(3 - CUBIC_TOL, 3 + CUBIC_TOL, color="0.9", zorder=0, label=r"$3 \pm 0.3$")
    ax.axvline(LINEAR_AMAX, color="0.6", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel(r"input score spread $\max|A_{ij}|$ of the layer")
    ax.set_ylabel(r"local exponent $k_\ell$")
    ax.legend(ncol=4, loc="lower center", bbox_to_anchor=(0.5, 1.0), fontsize="small")
    return fig


def fig_lambda(lam: LambdaResult) -> Figure:
    """RC-LAM: the coefficient, the decay factor and the score spread by initialisation and size."""
    med = lambda a: np.median(a, axis=-1)  # noqa: E731
    C, dec = med(lam.coefficient), med(lam.decay_factor)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    x = np.arange(len(lam.config.inits))
    for s, (size, mk) in enumerate(zip(lam.config.sizes, "os")):
        off = (-0.12, 0.12)[s % 2]
        ax.plot(x + off, C[s], mk, color=COLORS["theory"], label=f"$C$, {size[0]}")
        ax.plot(x + off, dec[s], mk, color=COLORS["sinkhorn"], label=r"$C\|R\|_2^2$, " + size[0])
        ax.plot(x + off, dec[s] * np.sqrt(size[1]), mk, color=COLORS["sinkhorn"], mfc="none",
                label=r"corrected $C\sqrt{n}\|R\|_2^2$, " + size[0])
        ax.plot(x + off, med(lam.score_max[s]), mk, color=COLORS["softmax"], mfc="none",
                label=r"$\max|A_{ij}|$, " + size[0])
    ax.axhline(1, color="k", lw=1, label="1 (decay threshold)")
    ax.axhline(LINEAR_AMAX, color="0.5", ls=":", lw=1, label="$10^{-2}$ (first order)")
    ax.set_yscale("log")
    ax.set_xticks(x, lam.config.inits)
    ax.set_ylabel("median over networks")
    ax.set_xlabel("initialisation")
    ax.legend(ncol=3, loc="lower center", bbox_to_anchor=(0.5, 1.0), fontsize="small")
    return fig


def fig_mixing(mix: MixingResult) -> Figure:
    r"""RC-MIX: distance of products to :math:`J/n` by depth, against :math:`\prod\sigma_2`."""
    c = mix.config
    t = np.arange(1, c.depth + 1)
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    cols = (COLORS["sinkhorn"], COLORS["theory"], "#9467bd")
    for s, scale in enumerate(c.scales):
        col = cols[s % 3]
        d = np.where(mix.dist[s] > FLOOR, mix.dist[s], np.nan)
        ax.plot(t, np.nanmedian(d, axis=0), "o-", ms=3, color=col, label=rf"Sinkhorn factors, $c = {scale:g}$")
        ax.plot(t, np.median(mix.bound[s], axis=0), "--", color=col, lw=1, label=rf"$\prod\sigma_2$, $c = {scale:g}$")
    ax.plot(t, np.median(mix.perm_dist, axis=0), "k-", lw=1, label="permutation factors")
    ax.axhspan(1e-17, FLOOR, color="0.85", zorder=0, label="float64 floor")
    ax.set_yscale("log")
    ax.set_ylim(1e-17, 3)
    ax.set_xlabel("factors $t$")
    ax.set_ylabel(r"$\|P_1\cdots P_t - J/n\|_2$ (median)")
    ax.legend(ncol=3, loc="lower center", bbox_to_anchor=(0.5, 1.0), fontsize="small")
    return fig


def fig_paths(paths: PathResult) -> Figure:
    """RC Sec. 4.1 path sampling on a random SAN with skips: residual of path products by depth."""
    fig, ax = plt.subplots(figsize=(7, 3.8))
    for m, method in enumerate(METHODS):
        R = np.maximum(paths.residual[m, 1], 1e-17)  # values below the float floor are shown at 1e-17
        log_boxplot(ax, paths.depths, list(R), color=COLORS[method], label=method, offset=(-0.2, 0.2)[m])
    ax.set_ylim(3e-18, 2)
    ax.set_xlabel("path depth $t$")
    ax.set_ylabel(r"$\sigma_2(P_t)/\sigma_1(P_t)$")
    ax.legend(ncol=2, loc="lower center", bbox_to_anchor=(0.5, 1.0))
    return fig


def plot_products(n: int = 64, scale: float = 1.0, depth: int = 16, method: str = "both", seed: int = 0) -> Figure:
    """20 fresh random products (the explorer's and the player's frame)."""
    S = random_attention_scores(int(n), scale=scale, size=(20, int(depth)), rng=seed)
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for m in METHODS if method == "both" else (method,):
        F = sinkhorn(S, warn=False) if m == "sinkhorn" else row_softmax(S)
        r = rank_one_residual(prefix_products(F))
        log_boxplot(ax, np.arange(1, int(depth) + 1), list(r.T), color=COLORS[m], label=m)
    ax.set_ylim(1e-17, 2)
    ax.set_xlabel("depth $t$")
    ax.set_ylabel(r"$\sigma_2/\sigma_1$")
    ax.set_title(f"$n = {int(n)}$, $c = {scale:.2g}$")
    ax.legend(ncol=2, loc="lower center", bbox_to_anchor=(0.5, 1.1))
    return fig


def products_explorer() -> Any:
    """Live explorer of :func:`plot_products` (draws only once a control moves)."""
    import ipywidgets as w
    from ... import widgets

    state = {"live": False}

    def show(**kw: Any) -> None:
        if state["live"]:
            plot_products(**kw)
            plt.show()

    ui = widgets.explorer(
        show,
        n=w.IntSlider(64, 8, 128, 8),
        scale=w.FloatLogSlider(1.0, base=10, min=-1, max=1, step=0.1),
        depth=w.IntSlider(16, 2, 24),
        method=w.Dropdown(options=["both", "softmax", "sinkhorn"]),
    )
    state["live"] = True
    return ui


def products_player() -> Any:
    """Kernel-free player: :func:`plot_products` at score scale 3 for n = 8, 16, 32, 64."""
    from ... import widgets

    return widgets.frame_player(lambda n: plot_products(n=n, scale=3.0, depth=12), [8, 16, 32, 64],
                                label="tokens n (score scale c = 3)", fmt=str, start=3, dpi=150)
