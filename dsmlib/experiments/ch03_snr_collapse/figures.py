"""Chapter 3, the figures (each returns a :class:`matplotlib.figure.Figure`); matplotlib is imported inside."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from .experiments.collapse import CollapseResult, WedinResult
from .experiments.e2 import E2Result, e2_stats
from .experiments.irrev import IrrevResult
from .experiments.escape import ESCAPE, MIXER_LABELS, MIXERS, TRAP, EscapeResult, median_ci
from .experiments.proof import E2_DIST_MARGIN, E2_DIST_MARGIN_COHERENT, ProofResult, proof_steps
from .experiments.snr import (
    Lemma3Result,
    LevyResult,
    SNRResult,
    Theorem1Result,
    lemma3_sup,
    theorem1_cells,
)

__all__ = [
    "e2_figure",
    "escape_figure",
    "hist_figure",
    "irrev_figure",
    "lemma3_figure",
    "levy_figure",
    "proof_figure",
    "snr_figure",
    "theorem1_figure",
    "transition_figure",
    "wedin_figure",
]


# ----------------------------------------------------------------------------- figures
def hist_figure(cos_out: NDArray, n: int, title: str, *, ax=None):
    r"""Histogram of output cosines with the predicted :math:`\mathcal N(0, 1/(n-1))` density overlaid."""
    import matplotlib.pyplot as plt

    from ...plotting import COLORS

    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=(5.2, 3.4))
    bins = np.linspace(-1, 1, 81)
    ax.hist(cos_out, bins=bins, density=True, color=COLORS["sinkhorn"], alpha=0.6, label=r"measured $\langle u,v\rangle$")
    t = np.linspace(-1, 1, 401)
    ax.plot(t, stats.norm.pdf(t, 0, 1 / np.sqrt(n - 1)), color=COLORS["theory"], label=r"$\mathcal{N}(0, 1/(n-1))$")
    ax.set_xlabel(r"output cosine $\langle u, v\rangle$")
    ax.set_ylabel("density")
    ax.set_xlim(-1, 1)
    ax.set_xticks([-1, -0.5, 0, 0.5, 1])
    ax.set_title(title)
    ax.legend(loc="upper left")
    return fig if fig is not None else ax.figure


def lemma3_figure(result: Lemma3Result):
    """Worst ratio of Lemma 3 against r = ||delta|| / ||b||: sampling, searches, closed form, constants."""
    import matplotlib.pyplot as plt

    from ...plotting import COLORS

    r = result.r
    fig, ax = plt.subplots(figsize=(7.0, 5.0))
    ax.axvspan(r.min(), 0.5, color=COLORS["paper"], alpha=0.12, label=r"side condition $\|\delta\|\leq\|b\|/2$")
    ax.plot(r, result.ratio_random.max(axis=1), "o", ms=3, color=COLORS["sinkhorn"], label="max over random pairs")
    ax.plot(r, result.ratio_opt, "-", color=COLORS["accent"], label="max over the angle (search)")
    ok = np.isfinite(result.ratio_full)
    ax.plot(r[ok], result.ratio_full[ok], "x", color=COLORS["softmax"], label=r"L-BFGS over $\delta\in\mathbb{R}^n$")
    rr = np.logspace(np.log10(r.min()), np.log10(r.max()), 400)
    ax.plot(rr, lemma3_sup(rr), ":", color=COLORS["theory"], label="closed-form supremum")
    ax.axhline(4, color=COLORS["paper"], ls="--", label="paper's constant 4")
    ax.axhline(2, color=COLORS["theory"], ls="--", lw=1, label="sharp constant 2")
    ax.set_xscale("log")
    ax.set_xlabel(r"$r = \|\delta\|/\|b\|$")
    ax.set_ylabel(r"$\|a/\|a\| - b/\|b\|\| \;/\; r$")
    ax.set_ylim(0, 4.4)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    return fig


def snr_figure(result: SNRResult):
    r"""Ratio exact :math:`\gamma` / approximation of Eq. 4 per temperature (random and worst-case :math:`x_\perp`)."""
    import matplotlib.pyplot as plt

    from ...plotting import COLORS

    c = result.config
    ratio = result.gamma_exact / result.gamma_approx
    fig, ax = plt.subplots(figsize=(7.0, 4.6))
    pos = np.arange(len(c.temperatures))
    ax.boxplot(list(ratio), positions=pos, widths=0.5, showfliers=False, patch_artist=True,
               boxprops={"facecolor": COLORS["sinkhorn"], "alpha": 0.35})
    ax.plot(pos, np.nanmedian(result.gamma_top / result.gamma_approx, axis=1), "D", color=COLORS["softmax"],
            label=r"$x_\perp$ = top right singular vector on $\mathcal{V}_\perp$")
    ax.axhline(c.nu / result.e_norm, color=COLORS["theory"], ls="--", label=r"$\nu/\mathbb{E}\|P_\perp\xi\|$ (upper bound)")
    ax.axhline(1, color=COLORS["paper"], ls=":", label="approximation exact")
    ax.plot([], [], lw=6, color=COLORS["sinkhorn"], alpha=0.35, label=r"random unit $x_\perp$ (1000 DSMs)")
    ax.set_xticks(pos, [f"{t:g}" for t in c.temperatures])
    ax.set_xlabel("temperature $T$")
    ax.set_ylabel(r"$\gamma_{\rm exact} / (\sigma_2\|x_\perp\|/\nu)$")
    ax.set_ylim(0, 1.2)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    return fig


def levy_figure(result: LevyResult):
    """Tail of |<u,v>| on S^{n-2}: exact, sampled, Lévy's bound (and the n-version of Theorem 1)."""
    import matplotlib.pyplot as plt

    from ...plotting import COLORS

    c, e = result.config, result.eps
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    p = result.count / c.pairs
    ax.semilogy(e[p > 0], p[p > 0], "o", ms=3, color=COLORS["sinkhorn"], label=f"sampled ({c.pairs} pairs)")
    ax.semilogy(e, result.exact, color=COLORS["theory"], label="exact (Beta law)")
    ax.semilogy(e, result.bound, "--", color=COLORS["paper"], label=r"Lévy: $2e^{-(n-2)\varepsilon^2/2}$")
    ax.semilogy(e, 2 * np.exp(-c.n * e**2 / 2), ":", color=COLORS["softmax"], label=r"Theorem 1: $2e^{-n\varepsilon^2/2}$")
    ax.axhline(1, color="k", lw=0.6)
    ax.set_ylim(1e-12, 3)
    ax.set_xlabel(r"$\varepsilon$")
    ax.set_ylabel(r"$P(|\langle u,v\rangle|\geq\varepsilon)$")
    ax.legend(loc="lower left")
    return fig


def theorem1_figure(result: Theorem1Result):
    """Left: status of each (gamma, eps) cell; right: ||u - u_noise|| / gamma against 4 and 4 E||P xi|| / ||P xi||."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    from ...plotting import COLORS

    c = result.config
    cells = theorem1_cells(result)
    fig, (ax, bx) = plt.subplots(2, 1, figsize=(7.0, 8.4), gridspec_kw={"height_ratios": [1.4, 1]})
    cmap = ListedColormap(["#dddddd", COLORS["theory"], "#fdd49e", COLORS["softmax"]])
    ax.imshow(cells["status"] + 1, cmap=cmap, vmin=0, vmax=3, aspect="auto", origin="lower")
    ax.set_xticks(range(len(c.eps)), [f"{e:g}" for e in c.eps])
    ax.set_yticks(range(len(c.gammas)), [f"{g:g}" for g in c.gammas])
    ax.set_xlabel(r"$\varepsilon$")
    ax.set_ylabel(r"$\gamma$")
    ax.set_title(r"status of each cell $(\gamma, \varepsilon)$")
    for lab, col in zip([r"outside ($\gamma > 1/8$)", "informative", "vacuous", "violated"], cmap.colors):
        ax.plot([], [], "s", ms=9, color=col, label=lab)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=4)
    g = np.asarray(c.gammas)
    k = int(np.argmin(np.abs(g - 0.0625)))
    bx.hist(result.u_shift[k] / g[k], bins=60, density=True, color=COLORS["sinkhorn"], alpha=0.6,
            label=r"$\|u-u_{noise}\|/\gamma$")
    bx.hist(4 * result.e_norm / result.xi_norm[k], bins=60, density=True, color=COLORS["accent"], alpha=0.5,
            label=r"Lemma 3 bound $4\,\mathbb{E}\|P_\perp\xi\|/\|P_\perp\xi\|$")
    bx.axvline(4, color=COLORS["paper"], ls="--", label=r"proof's claim $4$")
    bx.set_xlabel(rf"multiple of $\gamma$ ($\gamma = {g[k]:g}$)")
    bx.set_ylabel("density")
    bx.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    return fig


def transition_figure(result: CollapseResult):
    r"""Mean output cosine against median :math:`\gamma` over the temperature grid, with the signal-only prediction."""
    import matplotlib.pyplot as plt

    from ...plotting import COLORS

    c = result.config
    g = np.median(result.gamma, axis=1)
    m = result.cos_out.mean(axis=1)
    se = result.cos_out.std(axis=1, ddof=1) / np.sqrt(result.cos_out.shape[1])
    fig, ax = plt.subplots(figsize=(7.0, 4.8))
    ax.errorbar(g, m, yerr=1.96 * se, fmt="o", color=COLORS["sinkhorn"], label=r"mean $\langle u,v\rangle$ (95% CI)")
    ax.plot(g, result.cos_pred.mean(axis=1), "-", color=COLORS["theory"],
            label=r"$\langle s,s'\rangle/\sqrt{(\|s\|^2+\mathbb{E}\|P_\perp\xi\|^2)(\|s'\|^2+\cdot)}$")
    ax.axhline(c.input_cos, color=COLORS["paper"], ls=":", label=f"input cosine {c.input_cos:g}")
    ax.axvline(0.1, color=COLORS["softmax"], ls="--", lw=1, label=r"$\gamma = 0.1$")
    for gi, mi, T in zip(g, m, c.temperatures):
        ax.annotate(f"$T = {T:g}$", (gi, mi), textcoords="offset points", xytext=(4, -12), fontsize=9)
    ax.set_xscale("log")
    ax.set_xlabel(r"median spectral SNR $\gamma$")
    ax.set_ylabel(r"output cosine")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2)
    return fig


def wedin_figure(result: WedinResult):
    """Both sides of Wedin's bound in the paper's application, and the adversarial search."""
    import matplotlib.pyplot as plt

    from ...plotting import COLORS

    c = result.config
    g = np.asarray(c.gammas)
    fig, (ax, bx) = plt.subplots(2, 1, figsize=(7.5, 7.6))
    ax.loglog(g, np.median(result.rhs_data, axis=1), "s-", color=COLORS["paper"], label=r"RHS $\|E\|/\Delta$ (data matrix)")
    ax.loglog(g, np.median(result.rhs_cov, axis=1), "^-", color=COLORS["accent"], label=r"RHS $\|E\|/\Delta$ (covariance)")
    ax.loglog(g, np.median(result.sin_data, axis=1), "o-", color=COLORS["sinkhorn"], label=r"LHS $\|\sin\Theta\|$ (noise vs noise+signal)")
    ax.loglog(g, np.median(result.sin_signal, axis=1), "o--", color=COLORS["theory"], label=r"$\sin\angle(v_1(B), s)$")
    ax.axhline(1, color="k", lw=0.6)
    ax.set_xlabel(r"$\gamma$")
    ax.set_ylabel("median over seeds")
    ax.set_title("paper's application", fontsize=10)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    bx.scatter(result.search_rhs, result.search_lhs, s=5, color=COLORS["sinkhorn"], label=r"pairs $(A, E)$")
    t = np.linspace(0, 1, 200)
    bx.plot(t, t, "--", color=COLORS["paper"], label=r"stated bound $\|E\|/\Delta$")
    with np.errstate(divide="ignore"):
        bx.plot(t[t < 0.5], (t / (1 - t))[t < 0.5], color=COLORS["theory"], label=r"$\|E\|/(\Delta-\|E\|)$")
    bx.set_xlabel(r"$\|E\|/\Delta$")
    bx.set_ylabel(r"$\|\sin\Theta\|$")
    bx.set_ylim(-0.02, 1.05)
    bx.set_title(r"search: $r = 1$, $\|E\| < \Delta$", fontsize=10)
    bx.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


def proof_figure(result: ProofResult):
    """Failure probability of each step against the stated term, as a function of eps (largest gamma of the grid)."""
    import matplotlib.pyplot as plt

    from ...plotting import COLORS

    st = proof_steps(result)
    e = st["eps"]
    k = len(st["gamma"]) - 1
    fig, ax = plt.subplots(figsize=(7.5, 5.6))
    ax.semilogy(e, st["stated"], "k--", label=r"stated $2e^{-n\varepsilon^2/2}$")
    ax.semilogy(e, st["levy"], ":", color=COLORS["paper"], label=r"step 3 bound $2e^{-(n-2)\varepsilon^2/2}$")
    ax.semilogy(e, np.maximum(st["p1_exact"], 1e-12), "-", color=COLORS["accent"], label=r"step 1 event fails (exact)")
    ax.semilogy(e, np.full_like(e, st["p2"][k]), "-", color=COLORS["softmax"],
                label=r"step 2 as written fails: $\|P_\perp\xi\| < \mathbb{E}\|P_\perp\xi\|$")
    ax.semilogy(e, np.maximum(st["p3_exact"], 1e-12), "-", color=COLORS["theory"], label="step 3 event fails (exact)")
    pc = st["p_chain"][k]
    ax.semilogy(e[pc > 0], pc[pc > 0], "o", color=COLORS["sinkhorn"], ms=4,
                label=rf"proof's events fail (sampled, $\gamma = {st['gamma'][k]:g}$)")
    ps = st["p_stmt"][k]
    ax.semilogy(e[ps > 0], ps[ps > 0], "x", color=COLORS["softmax"], ms=5, label="statement fails (sampled)")
    ax.axhline(1, color="k", lw=0.6)
    ax.set_ylim(1e-10, 3)
    ax.set_xlabel(r"$\varepsilon$")
    ax.set_ylabel("failure probability")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)
    return fig


def e2_figure(result: E2Result):
    """Empirical CDF minus the Beta law, per low-SNR setting, with the DKW band and the Gaussian reference."""
    import matplotlib.pyplot as plt

    from ...plotting import COLORS

    c = result.config
    a = (c.n - 2) / 2
    beta = stats.beta(a, a, loc=-1, scale=2)
    s0 = 1 / np.sqrt(c.n - 1)
    fig, ax = plt.subplots(figsize=(7.0, 4.8))
    t = np.linspace(-0.6, 0.6, 1201)
    cols = [COLORS["sinkhorn"], COLORS["accent"], COLORS["softmax"]]
    for k, (T, x) in enumerate(zip(c.t_low, result.cos_low)):
        xs = np.sort(x.ravel())
        Fn = np.searchsorted(xs, t, side="right") / xs.size
        ax.plot(t, Fn - beta.cdf(t), color=cols[k % 3], lw=1,
                label=rf"$T = {T:g}$, median $\gamma$ = {np.median(result.gamma_low[k]):.2g}")
    ax.plot(t, stats.norm.cdf(t, 0, s0) - beta.cdf(t), "--", color=COLORS["theory"], label=r"$\mathcal{N}(0, 1/(n-1))$")
    band = e2_stats(result.cos_low[0], c.n, band_at="dsms")["band"]
    ax.axhspan(-band, band, color="0.85", label="DKW band (95%, at the number of DSMs)")
    ax.axhline(E2_DIST_MARGIN_COHERENT, color=COLORS["paper"], ls=":", label="equivalence margin")
    ax.axhline(-E2_DIST_MARGIN_COHERENT, color=COLORS["paper"], ls=":")
    ax.axhline(E2_DIST_MARGIN, color=COLORS["paper"], ls="-.", lw=0.8, label="first edition's margin")
    ax.axhline(-E2_DIST_MARGIN, color=COLORS["paper"], ls="-.", lw=0.8)
    ax.set_xlabel(r"output cosine $t$")
    ax.set_ylabel(r"$F_R(t) - F_{\rm Beta}(t)$")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2)
    return fig


def irrev_figure(result: IrrevResult):
    """Left: noiseless recovery error against the condition number on V_perp; right: recovered fraction vs sigma_2."""
    import matplotlib.pyplot as plt

    from ...plotting import COLORS

    c = result.config
    fig, (a, b) = plt.subplots(1, 2, figsize=(7.5, 4.4))
    cmap = plt.get_cmap("viridis")
    nT = len(c.temperatures)
    for i, T in enumerate(c.temperatures):
        col = cmap(i / max(nT - 1, 1))
        a.scatter(result.cond[i], np.maximum(result.rec_err[i], 1e-17), s=3, color=col, alpha=0.5, label=f"$T = {T:g}$")
        b.scatter(result.sigma2[i], result.r2[i], s=3, color=col, alpha=0.5)
    k = np.logspace(0, max(np.log10(result.cond.max()) + 0.5, 2), 50)
    a.plot(k, k * 1.1e-16, "--", color=COLORS["theory"], label=r"$\kappa\cdot\epsilon_{\rm mach}$")
    a.set(xscale="log", yscale="log", xlabel=r"condition number of $M$ on $\mathcal{V}_\perp$",
          ylabel=r"recovery error, no noise")
    a.legend(handles=a.get_legend_handles_labels()[0][-1:], loc="upper left")
    fig.legend(*(x[:-1] for x in a.get_legend_handles_labels()), loc="lower center", ncol=5, markerscale=3,
               bbox_to_anchor=(0.5, 0.0), title="temperature (left and right panels)", title_fontsize=9)
    b.scatter([], [], s=3, color="k", label=rf"noise $\nu = {c.nu:g}$")
    b.plot(np.median(result.sigma2, axis=1), np.median(result.r2_matched, axis=1), "s-", ms=3, color=COLORS["softmax"],
           label=r"noise scaled with $\sigma_2$ (fixed $\sigma_2/\nu$)")
    b.set(xscale="log", xlabel=r"$\sigma_2(M)$", ylabel="recovered signal fraction (LMMSE)", ylim=(0, 1.02))
    b.legend(loc="upper left")
    fig.set_layout_engine("tight", rect=(0, 0.17, 1, 1))  # room for the temperature legend
    return fig


def escape_figure(result: EscapeResult):
    """Median output pair cosine (95 % interval) and median SNR against temperature, one line per mixer."""
    import matplotlib.pyplot as plt

    from ...plotting import COLORS

    c = result.config
    T = np.asarray(c.temperatures)
    cols = {"dsm": COLORS["sinkhorn"], "scaled": COLORS["theory"], "softmax": COLORS["softmax"],
            "free": COLORS["paper"]}
    marks = {"dsm": "o-", "scaled": "s-", "softmax": "x--", "free": "^:"}
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(7.4, 4.0))
    for k, name in enumerate(MIXERS):
        q = np.array([median_ci(result.cos[k, i]) for i in range(T.size)])
        ax.plot(T, q[:, 0], marks[name], color=cols[name], label=MIXER_LABELS[name])
        ax.fill_between(T, q[:, 1], q[:, 2], color=cols[name], alpha=0.2, lw=0)
        bx.plot(T, np.median(result.gamma[k], axis=1), marks[name], color=cols[name])
    ax.axhline(ESCAPE, color="k", lw=0.6, ls="--")
    ax.axhline(TRAP, color="k", lw=0.6, ls=":")
    ax.text(T[0], ESCAPE + 0.02, "escapes", fontsize=8)
    ax.text(T[0], TRAP + 0.02, "trapped below", fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("temperature $T$")
    ax.set_ylabel(r"median output pair cosine $\langle u, v\rangle$")
    bx.axhline(0.1, color="k", lw=0.6, ls=":")
    bx.set_xscale("log")
    bx.set_yscale("log")
    bx.set_xlabel("temperature $T$")
    bx.set_ylabel(r"median spectral SNR $\gamma$")
    fig.legend(loc="lower center", bbox_to_anchor=(0.5, -0.08), ncol=2)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    return fig
