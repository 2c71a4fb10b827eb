"""Chapter 4, the figures (each returns a :class:`matplotlib.figure.Figure`); matplotlib is imported inside."""

from __future__ import annotations

import numpy as np
from scipy import stats
from ... import random_dsm, sigma2
from ...residual import forward

from .experiments.common import _pool_index, make_inputs
from .experiments.deep import DeepResult, EscapeResult
from .experiments.detail import DetailDecayResult, detail_rates
from .experiments.pairs import NoisyPairResult, RES_COLLAPSE_MARGIN, RES_KEEP_LEVEL, skip_pair_law
from .experiments.paths import PathResult, RESIDUAL_FLOOR, mixture_table
from .experiments.walk import IdentityDepthResult, THETA_ID_DEG, identity_depth_law, walk_fits
from .tables import MIXING_LABELS, _LABELS

__all__ = [
    "angle_figure",
    "detail_figure",
    "escape_figure",
    "explore_network",
    "frame_figure",
    "mixture_axes",
    "pair_figure",
    "path_figure",
    "proof_step_figure",
    "walk_figure",
]


def _figure(ncols: int = 1, nrows: int = 1, *, width: float = 3.65, height: float = 3.0):
    """The book's figure (:func:`dsmlib.plotting.new_figure`) with constrained layout.

    Constrained layout keeps legends placed below the axes (``_legend_below``) inside the
    figure, also when it is saved without ``bbox_inches="tight"`` (the frame player). Two
    columns are 7.3 in wide, so that the notebook's tight-bbox PNG stays within 7.5 in.
    """
    from ...plotting import new_figure

    return new_figure(ncols, nrows, width=width, height=height, layout="constrained")


def _legend_below(ax, handles=None, labels=None, *, ncol: int = 1, **kw):
    """A legend under the axes (below the x label), off the data."""
    from matplotlib.transforms import ScaledTranslation

    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    below = ax.transAxes + ScaledTranslation(0, -0.5, ax.figure.dpi_scale_trans)
    return ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0),
                     bbox_transform=below, ncol=ncol, borderaxespad=0.0, **kw)


def _tcolor(t: int, nT: int):
    """Colour of temperature ``t`` of ``nT`` (viridis without its pale yellow end)."""
    import matplotlib.pyplot as plt

    return plt.get_cmap("viridis")(0.85 * t / max(1, nT - 1))


def proof_step_figure(result: DeepResult, t: int):
    """Bound ratio, mean fraction and norm growth per layer at temperature index ``t``."""
    import matplotlib.pyplot as plt

    show = [("skip+LN", "relu", "perp"), ("skip+C", "identity", "perp"), ("skip", "relu", "perp"),
            ("skip", "identity", "perp"), ("skip", "identity", "mean")]
    colors = plt.get_cmap("tab10").colors  # the 4th, red, is the identity skip without centring
    fig, axs = _figure(2, 2, height=2.8)
    ax = [axs[0, 0], axs[0, 1], axs[1, 0]]
    L = result.config.depth
    for j, v in enumerate(show):
        k = result.variants.index(v)
        kw = dict(color=colors[j], label=_LABELS[v])
        ax[0].plot(np.arange(L), result.bound_ratio_q[t, k, :, 1], **kw)
        ax[0].fill_between(np.arange(L), result.bound_ratio_q[t, k, :, 0],
                           result.bound_ratio_q[t, k, :, 2], color=colors[j], alpha=0.2, lw=0)
        ax[1].plot(np.arange(L + 1), np.maximum(result.meanfrac_q[t, k, :, 1], 1e-17), **kw)
        ax[2].plot(np.arange(L + 1), result.lognorm_q[t, k, :, 1] / np.log(10), **kw)
    ax[0].axhline(1, color="k", lw=1, ls="--", label="bound: ratio = 1")
    ax[0].set(yscale="log", xlabel=r"layer $\ell$",
              ylabel=r"$\|\phi(M_\ell x_\ell)\| / (\sigma_2(M_\ell)\|x_\ell\|)$",
              title="step ratio (bound holds below 1)")
    ax[1].set(yscale="log", xlabel=r"layer $\ell$", ylabel=r"$|\bar x_\ell|\sqrt{n} / \|x_\ell\|$",
              title="mean fraction")
    ax[2].set(xlabel=r"layer $\ell$", ylabel=r"$\log_{10}\|x_\ell\|/\|x_0\|$", title="norm growth")
    h, lab = ax[0].get_legend_handles_labels()
    axs[1, 1].axis("off")
    axs[1, 1].legend(h, lab, loc="center", title=rf"$T = {result.config.temperatures[t]:.3g}$")
    return fig


def angle_figure(result: DeepResult, phi: str = "identity"):
    """Median angle(x_l, x_0) and angle between two inputs vs depth, every temperature."""
    from matplotlib.lines import Line2D

    fig, ax = _figure(2, 1, height=3.6)
    ax = ax[0]
    L = result.config.depth
    ls = np.arange(L + 1)
    arch = "skip+C" if phi == "identity" else "skip+LN"
    k = result.variants.index((arch, phi, "perp"))
    kn = result.variants.index(("noskip+LN", "identity", "perp"))
    nT = len(result.config.temperatures)
    for t, T in enumerate(result.config.temperatures):
        col = _tcolor(t, nT)
        lab = rf"$T = {T:.3g}$, $\tilde\sigma_2 = {result.sigma2_q[t, 1]:.2f}$"
        ax[0].plot(ls, np.degrees(result.angle0_q[t, k, :, 1]), color=col, label=lab)
        ax[0].fill_between(ls, np.degrees(result.angle0_q[t, k, :, 0]),
                           np.degrees(result.angle0_q[t, k, :, 2]), color=col, alpha=0.2, lw=0)
        u = result.rel_update_q[t, k, :, 1].mean()
        ax[0].plot(ls, np.degrees(np.minimum(u * np.sqrt(ls), np.pi / 2)), color=col, ls=":", lw=1)
        ax[1].plot(ls, np.degrees(result.pair_q[t, k, :, 1]), color=col, label=lab)
    ax[0].plot(ls, np.degrees(result.angle0_q[0, kn, :, 1]), color="k", ls="--", lw=1)
    for t in range(nT):
        ax[1].plot(ls, np.degrees(result.pair_q[t, kn, :, 1]), color=_tcolor(t, nT),
                   ls="--", lw=1)
    ax[0].set(xlabel=r"depth $L$", ylabel=r"$\angle(x_L, x_0)$ [deg]", ylim=(0, 95),
              title=_LABELS[(arch, phi, "perp")])
    ax[1].set(xlabel=r"depth $L$", ylabel=r"$\angle(x_L, x_L')$ [deg]", ylim=(0, 95),
              title="two inputs")
    h, lab = ax[0].get_legend_handles_labels()
    h += [Line2D([], [], color="0.3", ls=":", lw=1), Line2D([], [], color="0.3", ls="--", lw=1)]
    lab += [r"random walk $u\sqrt{L}$", "no skip + LN, id"]
    fig.legend(h, lab, loc="outside lower center", ncol=2)
    return fig


def escape_figure(result: EscapeResult):
    """Angle to the input (ReLU + LN) and norm growth (identity, centred) for each mixing."""
    import matplotlib.pyplot as plt

    colors = plt.get_cmap("tab10").colors
    fig, ax = _figure(2, 1, height=3.3)
    ax = ax[0]
    L = result.config.depth
    ls = np.arange(L + 1)
    for k, name in enumerate(result.mixings):
        lab = MIXING_LABELS.get(name, name).replace(
            r"\tilde\sigma_2$", rf"\tilde\sigma_2 = {result.alpha:.1f}$")
        kw = dict(color=colors[k], label=lab, ls="--" if name == "row-softmax" else "-")
        ax[0].plot(ls, np.degrees(result.angle0_q[k, 1, :, 1]), **kw)
        ax[1].plot(ls, result.lognorm_q[k, 0, :, 1] / np.log(10), **kw)
    ax[0].set(xlabel=r"depth $L$", ylabel=r"$\angle(x_L, x_0)$ [deg]", title="ReLU + LN: angle")
    ax[1].set(xlabel=r"depth $L$", ylabel=r"$\log_{10}\|x_L\|/\|x_0\|$",
              title="identity, centred: norm")
    h, lab = ax[0].get_legend_handles_labels()
    fig.legend(h, lab, loc="outside lower center", ncol=2)
    return fig


def path_figure(result: PathResult):
    """Rank-one residual of path products vs depth (log boxplots) and path-length histogram."""
    from matplotlib.lines import Line2D
    from scipy.stats import binom

    from ...plotting import COLORS, log_boxplot

    fig, axs = _figure(2, 2, height=3.0)
    ax = [axs[0, 0], axs[0, 1], axs[1, 0]]
    t = np.asarray(result.config.depths)
    names = {"sinkhorn": "Sinkhorn", "softmax": "row-softmax"}
    for m, meth in enumerate(result.methods):
        a = ax[m]
        log_boxplot(a, t, list(result.noskip[m]), color=COLORS["noskip"],
                    label=r"no skip (all $t$ factors)", offset=-0.3, width=0.5)
        log_boxplot(a, t, list(result.skip[m]), color=COLORS["skip"],
                    label="skip (each factor w.p. 1/2)", offset=0.3, width=0.5)
        a.plot(t, np.median(result.lazy[m], axis=1), color=COLORS["accent"], marker="^", ms=4,
               label=r"$\prod (I+P_\ell)/2$ (top: median; bottom right: mean)")
        a.axhline(RESIDUAL_FLOOR, color="k", lw=0.8, ls=":")
        a.set(yscale="log", xlabel=r"path depth $t$", ylabel=r"$\sigma_2(P_t)/\sigma_1(P_t)$",
              title=names.get(meth, meth))
        a.set_xticks(t)
        a.set_xticklabels([str(x) if x in (1, 2, 4, 8, 12, 16, 20) else "" for x in t])
    j = len(t) - 1
    k = result.lengths[0, j]
    ax[2].hist(k, bins=np.arange(t[j] + 2) - 0.5, density=True, color=COLORS["skip"], alpha=0.6,
               label="sampled")
    kk = np.arange(t[j] + 1)
    ax[2].plot(kk, binom.pmf(kk, t[j], 0.5), "k.-", label=rf"$\mathrm{{Binomial}}({t[j]}, 1/2)$")
    ax[2].set(xlabel="kept factors (path length)", ylabel="frequency",
              title=rf"path lengths at $t = {t[j]}$", ylim=(0, 1.45 * binom.pmf(t[j] // 2, t[j], 0.5)))
    ax[2].legend(loc="upper center", ncol=2)
    mixture_axes(axs[1, 1], result, "sinkhorn", legend=False)
    h, lab = ax[0].get_legend_handles_labels()
    h2, lab2 = axs[1, 1].get_legend_handles_labels()
    keep = {"mean, no skip", "mean, paths with skips", "path-length mixture"}
    h += [hh for hh, ll in zip(h2, lab2) if ll in keep] + [Line2D([], [], color="k", lw=0.8, ls=":")]
    lab += [ll for ll in lab2 if ll in keep] + ["float64 floor"]
    fig.legend(h, lab, loc="outside lower center", ncol=2)
    return fig


def mixture_axes(ax, result: PathResult, method: str = "sinkhorn", *, legend: bool = True) -> None:
    """Mean residual of the skip network against the path-length mixture prediction."""
    from ...plotting import COLORS

    rows = mixture_table(result, method)
    t = [r["t"] for r in rows]
    ax.plot(t, [r["noskip"] for r in rows], "o-", color=COLORS["noskip"], ms=3, label="mean, no skip")
    ax.plot(t, [r["bernoulli"] for r in rows], "s-", color=COLORS["skip"], ms=3,
            label="mean, paths with skips")
    ax.plot(t, [r["predicted"] for r in rows], "--", color=COLORS["theory"],
            label="path-length mixture")
    ax.plot(t, [r["measured"] for r in rows], "^-", color=COLORS["accent"], ms=4,
            label=r"$\prod (I+P_\ell)/2$")
    name = {"sinkhorn": "Sinkhorn", "softmax": "row-softmax"}.get(method, method)
    ax.set(yscale="log", xlabel=r"depth $t$", ylabel="mean residual",
           title=f"{name}: skip network vs mixture")
    if legend:
        ax.legend(loc="lower left")


def explore_network(T: float = 0.3, depth: int = 64, skip: bool = True, phi: str = "identity",
                    norm: str = "LN", trials: int = 200, seed: int = 0):
    """Small live version of :func:`deep_experiment` for the explorer: angle and norm vs depth."""
    rng = np.random.default_rng(seed)
    n = 64
    x, _ = make_inputs(n, trials, 0.0 if norm != "mean" else 1.0, 0.9, rng)
    pool = random_dsm(n, T, size=max(2 * depth, 128), rng=rng, warn=False)
    idx = _pool_index(rng, trials, pool.shape[0], depth)
    tr = forward(pool, idx, x[:, :, None], phi=phi, skip=skip, layer_norm=norm == "LN",
                 center=norm == "centre")
    fig, ax = _figure(2, 1, height=3.2)
    ax = ax[0]
    ls = np.arange(depth + 1)
    a = np.degrees(np.arccos(tr.cos0[:, :, 0]))
    ax[0].plot(ls, np.median(a, axis=1))
    ax[0].fill_between(ls, *np.percentile(a, [25, 75], axis=1), alpha=0.25, lw=0)
    ax[0].set(xlabel=r"depth $L$", ylabel=r"$\angle(x_L, x_0)$ [deg]", ylim=(0, 95),
              title=rf"$T = {T:.3g}$, median $\sigma_2 = {np.median(sigma2(pool)):.2f}$")
    ax[1].plot(ls, np.median(np.log10(tr.norm[:, :, 0] / tr.norm[0, :, 0]), axis=1))
    ax[1].set(xlabel=r"depth $L$", ylabel=r"$\log_{10}\|x_L\|/\|x_0\|$",
              title=f"{'skip' if skip else 'no skip'}, {phi}, {norm}")
    return fig


def frame_figure(result: DeepResult, T: float):
    """One frame of the static explorer: angle to the input and between two inputs at ``T``."""
    t = list(result.config.temperatures).index(T)
    V = result.variants
    fig, ax = _figure(2, 1, height=3.3)
    ax = ax[0]
    ls = np.arange(result.config.depth + 1)
    for v in (("skip+C", "identity", "perp"), ("skip+LN", "relu", "perp"),
              ("noskip+LN", "identity", "perp")):
        k = V.index(v)
        ax[0].plot(ls, np.degrees(result.angle0_q[t, k, :, 1]), label=_LABELS[v])
        pair = np.degrees(result.pair_q[t, k, :, 1]) if result.pair_q[t, k, 0, 1] > 0 else np.nan * ls
        ax[1].plot(ls, pair, label=_LABELS[v])
    ax[0].set(xlabel=r"depth $L$", ylabel=r"$\angle(x_L, x_0)$ [deg]", ylim=(0, 95),
              title=rf"$T = {T:.3g}$, $\tilde\sigma_2 = {result.sigma2_q[t, 1]:.2f}$")
    ax[1].set(xlabel=r"depth $L$", ylabel=r"$\angle(x_L, x_L')$ [deg]", ylim=(0, 95),
              title="two inputs")
    h, lab = ax[0].get_legend_handles_labels()
    fig.legend(h, lab, loc="outside lower center", ncol=3)
    return fig


def pair_figure(result: NoisyPairResult):
    """HT-RES: mean pair cosine vs depth for three blocks, and the final cosines at the largest T.

    Left: skip around the whole block (solid), skip around HT's block (dash-dot), HT's block
    without skip (dashed); the pre-LN block is within 0.02 of the solid line and not drawn.
    Right: histograms of the final cosines of all pairs at the largest temperature.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from ...plotting import COLORS

    c = result.config
    fig, ax = _figure(2, 1, height=3.6)
    ax = ax[0]
    ls = np.arange(1, c.depth + 1)
    nT = len(c.temperatures)
    styles = {0: dict(ls="-"), 2: dict(ls="-.", lw=1.3), 1: dict(ls="--", lw=1.1)}
    for t, T in enumerate(c.temperatures):
        col = _tcolor(t, nT)
        g = result.net_mean_cos[t, :, 1:].mean(axis=-1)
        lab = rf"$T = {T:.3g}$, $\tilde\sigma_2 = {result.sigma2_med[t]:.3f}$"
        for a, kw in styles.items():
            ax[0].plot(ls, g[a], color=col, label=lab if a == 0 else None, **kw)
    ax[0].plot(ls, skip_pair_law(c, ls), color="k", ls=":", lw=1)
    ax[0].axhspan(-RES_COLLAPSE_MARGIN, RES_COLLAPSE_MARGIN, color="0.85", lw=0)
    ax[0].axhline(RES_KEEP_LEVEL, color="0.5", lw=0.8)
    ax[0].set(xscale="log", xlabel=r"depth $L$", ylabel=r"mean $\cos\angle(x_L, x_L')$",
              ylim=(-0.1, 1.02), title="mean cosine of a pair")
    t = nT - 1
    bins = np.linspace(-0.5, 1.0, 61)
    hist = ((1, COLORS["noskip"]), (2, COLORS["theory"]), (0, COLORS["skip"]))
    for a, col in hist:
        ax[1].hist(result.cos_final[t, a], bins=bins, density=True, color=col, alpha=0.5)
    z = np.linspace(-0.5, 0.5, 201)
    ax[1].plot(z, stats.norm.pdf(z, 0, 1 / np.sqrt(c.n - 1)), color="k", lw=1.0)
    ax[1].set(yscale="log", ylim=(1e-2, None), xlabel=rf"$\cos\angle(x_L, x_L')$ at $L = {c.depth}$",
              ylabel="density", title=rf"{c.pairs} pairs, $T = {c.temperatures[t]:.3g}$")
    h, lab = ax[0].get_legend_handles_labels()
    h += [Line2D([], [], color="0.3"), Line2D([], [], color="0.3", ls="-.", lw=1.3),
          Line2D([], [], color="0.3", ls="--", lw=1.1),
          Line2D([], [], color="k", ls=":", lw=1), Patch(color="0.85"), Line2D([], [], color="0.5", lw=0.8)]
    lab += [r"$\mathrm{LN}(x + Mx + \xi)$", r"$x + \mathrm{LN}(Mx + \xi)$", r"$\mathrm{LN}(Mx + \xi)$, no skip",
            r"noise-only law $c_0e^{-L\nu^2/n}$", rf"collapse margin $\pm{RES_COLLAPSE_MARGIN:g}$",
            f"level {RES_KEEP_LEVEL:g}"]
    h += [Patch(color=col, alpha=0.5) for _, col in hist] + [Line2D([], [], color="k", lw=1.0)]
    lab += [r"histogram, $\mathrm{LN}(Mx + \xi)$", r"histogram, $x + \mathrm{LN}(Mx + \xi)$",
            r"histogram, $\mathrm{LN}(x + Mx + \xi)$", r"$N(0, 1/(n-1))$"]
    fig.legend(h, lab, loc="outside lower center", ncol=3)
    return fig


def detail_figure(result: DetailDecayResult):
    """HT-ACC: median log10 detail vs depth per temperature (left) and the rate per layer vs sigma2 (right)."""
    from ...plotting import COLORS

    c = result.config
    fig, ax = _figure(2, 1, height=3.2)
    ax = ax[0]
    nT = len(c.temperatures)
    ls = np.arange(c.depth + 1)
    for t, T in enumerate(c.temperatures):
        logd = np.concatenate([np.zeros((1, c.trials)), -np.cumsum(result.logdec[t], axis=0)])
        ax[0].plot(ls, np.median(logd, axis=1) / np.log(10), color=_tcolor(t, nT),
                   label=rf"$T = {T:g}$, $\tilde\sigma_2 = {result.sigma2_q[t, 1]:.3g}$")
    perm = np.concatenate([[0.0], -np.cumsum(np.median(result.perm_logdec, axis=1))]) / np.log(10)
    ax[0].plot(ls, perm, color="k", ls="--", label=r"permutations, $\sigma_2 = 1$")
    ax[0].set(xlabel=r"depth $L$", ylabel=r"$\log_{10}\| x_L\|/\| x_0\|$ (median)",
              title="detail of a mean-free input")
    rows = detail_rates(result)
    s2 = np.array([r["sigma2"] for r in rows])
    ax[1].plot(s2, [r["rate"] for r in rows], "o-", color=COLORS["skip"], label="measured, per layer")
    ax[1].plot(s2, [r["bound_rate"] for r in rows], "s--", color=COLORS["theory"],
               label=r"$-\ln\sigma_2$ (compounded Lemma 2)")
    ax[1].set(xscale="log", xlabel=r"median $\sigma_2$", ylabel=r"decay $-\ln(\| x_{\ell+1}\|/\| x_\ell\|)$",
              title="decay rate per layer")
    h0, l0 = ax[0].get_legend_handles_labels()
    h1, l1 = ax[1].get_legend_handles_labels()
    fig.legend(h0 + h1, l0 + l1, loc="outside lower center", ncol=3)
    return fig


def walk_figure(result: IdentityDepthResult):
    """HT-DEEP: median angle vs depth (fresh and fixed matrices) and the identity depth vs sigma2."""
    from matplotlib.lines import Line2D

    c = result.config
    fits = walk_fits(result)
    kappa = float(np.exp(np.mean(np.log([f.kappa for f in fits if f.n_window >= 3]))))
    kf = float(np.exp(np.mean(np.log([f.kappa_fixed for f in fits]))))
    fig, ax = _figure(2, 1, height=3.6)
    ax = ax[0]
    nT = len(c.temperatures)
    L = result.checkpoints.astype(float)
    Lf = result.fixed_checkpoints.astype(float)
    for t, f in enumerate(fits):
        col = _tcolor(t, nT)
        th = np.degrees(result.fresh_q[t])
        ok = np.isfinite(th[:, 1])
        ax[0].plot(L[ok], th[ok, 1], "o", color=col, ms=3,
                   label=rf"$T = {f.T:.3g}$, $\tilde\sigma_2 = {f.sigma2:.3f}$")
        ax[0].fill_between(L[ok], th[ok, 0], th[ok, 2], color=col, alpha=0.2, lw=0)
        ax[0].plot(L[ok], np.degrees(kappa * f.sigma2 * np.sqrt(L[ok])), color=col, lw=1)
        ax[0].plot(Lf, np.degrees(result.fixed_q[t, :, 1]), color=col, ls="--", lw=1)
    ax[0].axhline(THETA_ID_DEG, color="0.4", lw=0.8, ls=":")
    ax[0].axhline(90, color="0.4", lw=0.8, ls=":")
    ax[0].set(xscale="log", yscale="log", ylim=(0.1, 120), xlabel=r"depth $L$",
              ylabel=r"median $\angle(x_L, x_0)$ [deg]", title="angle to the input")
    h, lab = ax[0].get_legend_handles_labels()
    h += [Line2D([], [], color="0.3", lw=1), Line2D([], [], color="0.3", ls="--", lw=1),
          Line2D([], [], color="0.4", lw=0.8, ls=":")]
    lab += [r"fresh $M_\ell$: $\kappa\sigma_2\sqrt{L}$", r"one fixed $M$",
            rf"${THETA_ID_DEG:g}^\circ$ and $90^\circ$"]
    _legend_below(ax[0], h, lab, ncol=1)
    s = np.geomspace(min(f.sigma2 for f in fits) / 2, max(f.sigma2 for f in fits) * 2, 50)
    ax[1].plot(s, identity_depth_law(s, kappa), color="C0",
               label=rf"$(\theta^*/(\kappa\sigma_2))^2$, $\kappa = {kappa:.2f}$")
    ax[1].plot(s, identity_depth_law(s, kf, fixed=True), color="C3", ls="--",
               label=rf"fixed: $\theta^*/(\kappa_f\sigma_2)$, $\kappa_f = {kf:.2f}$")
    ax[1].plot([f.sigma2 for f in fits], [f.L_id for f in fits], "o", color="C0",
               label="measured, fresh")
    ax[1].plot([f.sigma2 for f in fits], [f.L_id_fixed for f in fits], "s", color="C3", mfc="none",
               label="measured, fixed")
    ax[1].set(xscale="log", yscale="log", xlabel=r"$\tilde\sigma_2$",
              ylabel=rf"$L_{{\mathrm{{id}}}}$: angle $< {THETA_ID_DEG:g}^\circ$",
              title="identity depth")
    _legend_below(ax[1], ncol=1)
    return fig
