r"""Chapter 1, the figures (each returns a :class:`matplotlib.figure.Figure`; matplotlib is imported inside)
and the Explore panel (a live explorer and the kernel-free player)."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from ... import random_dsm, singular_values
from ...birkhoff import block_diagonal
from .._format import mtex as _m
from .experiments.noise import ConcentrationResult, NoiseResult
from .experiments.pieces import chi_mean
from .experiments.spectra import PFResult, SpectraBundle
from .experiments.strict import STRICT_MARGIN, StrictResult

__all__ = [
    "aa_figure",
    "eigenvalue_figure",
    "l1_figure",
    "l2_figure",
    "l2s_figure",
    "pf_figure",
    "r1_figure",
    "sigma1_figure",
    "spectrum_explorer",
    "spectrum_figure",
    "spectrum_player",
]


def _style():
    import matplotlib.pyplot as plt

    from ...plotting import COLORS, new_figure

    return plt, COLORS, new_figure


def eigenvalue_figure(n: int = 64):
    """Eigenvalues in the complex plane: a Sinkhorn DSM and three non-positive DSMs (2 x 2 panels)."""
    plt, COLORS, new_figure = _style()
    cyc = np.roll(np.eye(n), 1, axis=1)
    half = random_dsm(n // 2, 0.3, rng=4, tol=1e-14, n_iter=2000)
    mats = {
        "Sinkhorn DSM, $T = 0.03$": random_dsm(n, 0.03, rng=3),
        "cyclic permutation": cyc,
        "block-diagonal DSM": block_diagonal(np.stack([half, half])),
        r"$(I + \mathrm{cycle})/2$": (np.eye(n) + cyc) / 2,
    }
    colors = [COLORS[k] for k in ("sinkhorn", "softmax", "accent", "skip")]
    fig, axes = new_figure(2, 2, width=3.6, height=3.5)
    for ax, (name, A), c in zip(axes.flat, mats.items(), colors):
        lam = np.linalg.eigvals(A)
        ax.add_patch(plt.Circle((0, 0), 1, fill=False, color=COLORS["paper"], lw=1))
        ax.scatter(lam.real, lam.imag, s=12, color=c)
        ax.set(title=name, aspect="equal", xlim=(-1.15, 1.15), ylim=(-1.15, 1.15))
    for ax in axes[1]:
        ax.set_xlabel(r"Re $\lambda$")
    for ax in axes[:, 0]:
        ax.set_ylabel(r"Im $\lambda$")
    return fig


def sigma1_figure(bundle: SpectraBundle):
    r""":math:`|\sigma_1 - 1|` against the marginal error, per temperature, with :math:`e^2` and the bound."""
    plt, COLORS, new_figure = _style()
    spec = bundle.spectra
    fig, axes = new_figure(width=7.0, height=4.2)
    ax = axes[0, 0]
    cmap = plt.get_cmap("viridis")
    Ts = spec.config.temperatures
    for i, T in enumerate(Ts):
        e = np.maximum(spec.err[i, 0], 1e-16)
        dev = np.maximum(np.abs(spec.sigma1[i, 0] - 1), 1e-17)
        ax.scatter(e, dev, s=5, alpha=0.5, label=f"$T = {T:g}$", color=cmap(i / max(len(Ts) - 1, 1)))
    e = np.logspace(-16, -1.5, 50)
    ax.plot(e, e**2, "--", color=COLORS["theory"], label=r"$e^2$")
    ax.plot(e, np.sqrt(1 + e) - 1, ":", color=COLORS["theory"], label=r"$\sqrt{1+e}-1$ (bound)")
    ax.axhline(1e-7, color=COLORS["paper"], lw=1, label=r"HT's $10^{-7}$")
    ax.set(xscale="log", yscale="log", xlabel=r"marginal error $e(M)$", ylabel=r"$|\sigma_1(M) - 1|$", ylim=(1e-17, 1e-2))
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), markerscale=3)
    return fig


def pf_figure(pf: PFResult):
    r""":math:`\sigma_1 - 1` per family: primitive non-DSMs with :math:`\rho = 1` against DSMs."""
    plt, COLORS, new_figure = _style()
    valid = np.arange(pf.primitive.shape[1]) < pf.count[:, None]
    fig, axes = new_figure(width=7.5, height=4.0)
    ax = axes[0, 0]
    cols = [COLORS[c] for c in ("softmax", "noskip", "accent", "sinkhorn", "theory", "skip", "paper")]
    for k in range(len(pf.names)):
        v = valid[k]
        y = np.maximum(pf.sigma1[k, v] - 1, 1e-16)
        x = k + 0.3 * (np.random.default_rng(k).random(v.sum()) - 0.5)  # seeded jitter
        ax.scatter(x, y, s=4, color=cols[k % len(cols)], alpha=0.5)
    ax.axhline(1e-7, color=COLORS["paper"], ls="--", lw=1, label=r"$10^{-7}$ (HT App. C)")
    ticks = [n.replace(" T=", "\n$T = ") + "$" if "T=" in n else n.replace(" ", "\n") for n in pf.names]
    ax.set_xticks(range(len(pf.names)), ticks)
    ax.set(yscale="log", ylim=(1e-17, 1e2), ylabel=r"$\sigma_1(A) - 1$ (floored at $10^{-16}$)")
    ax.set_title(r"all have $\rho(A) = 1$; left three: primitive, not DSMs")
    ax.legend(loc="upper right")
    return fig


def l2_figure(bundle: SpectraBundle, T: float = 0.1):
    r"""Norm on :math:`\mathcal V_\perp` against :math:`\sigma_2` (left) and the row-Softmax excess (right)."""
    plt, COLORS, new_figure = _style()
    spec, special = bundle.spectra, bundle.special
    fig, axes = new_figure(2, width=3.75, height=3.8)
    a, b = axes[0]
    i = spec.config.temperatures.index(T)
    a.scatter(special.bk_sigma2, special.bk_restricted, s=5, color=COLORS["theory"], label="Birkhoff DSM")
    a.scatter(spec.sigma2[i, 0], spec.restricted[i], s=5, color=COLORS["sinkhorn"], label=f"Sinkhorn DSM, $T = {T:g}$")
    a.scatter(special.sm_sigma2, special.sm_restricted, s=5, color=COLORS["softmax"], label="row Softmax")
    a.plot([0, 1], [0, 1], color=COLORS["paper"], lw=1)
    a.set(xlabel=r"$\sigma_2(M)$", ylabel=r"$\|M\|_{\mathcal{V}_\perp}$")
    a.legend(loc="upper left", markerscale=3)
    b.hist(special.sm_restricted / special.sm_sigma2 - 1, bins=40, color=COLORS["softmax"])
    b.set(xlabel=r"$\|S\|_{\mathcal{V}_\perp}/\sigma_2(S) - 1$ (row Softmax)", ylabel="count")
    return fig


def l2s_figure(result: StrictResult):
    r"""HT-L2S: :math:`1 - \sigma_2` of Algorithm-1 DSMs against :math:`T` (left); the primitive
    :math:`M = BQ` family's :math:`\sigma_2`, :math:`|\lambda_2|` and two-layer norm (right)."""
    plt, COLORS, new_figure = _style()
    c = result.config
    T = np.asarray(c.temperatures)
    gap = np.where(result.converged, 1 - result.sigma2, np.nan)
    fig, axes = new_figure(2, width=3.75, height=3.8)
    a, b = axes[0]
    lo, med, hi = (np.nanpercentile(gap, q, axis=-1) for q in (0, 50, 100))
    a.fill_between(T, lo, hi, color=COLORS["sinkhorn"], alpha=0.25, lw=0, label="min to max")
    a.plot(T, med, "o-", ms=3, color=COLORS["sinkhorn"], label="median")
    a.axhline(STRICT_MARGIN * c.tol, color=COLORS["paper"], ls="--", lw=1, label=r"resolution $\tau$")
    a.set(xscale="log", yscale="log", xlabel="temperature $T$", ylabel=r"$1 - \sigma_2(M)$, converged DSMs",
          ylim=(1e-6, 2))
    a.legend(loc="lower right")
    prim = result.bq_primitive
    data = [result.bq_sigma2[prim], result.bq_lam2[prim], result.bq_restricted_sq[prim]]
    labels = [r"$\sigma_2(M)$", r"$|\lambda_2(M)|$", r"$\|M^2\|_{\mathcal{V}_\perp}$"]
    for k, (x, col) in enumerate(zip(data, ("softmax", "accent", "theory"))):
        jit = k + 0.3 * (np.random.default_rng(k).random(x.size) - 0.5)  # seeded jitter
        b.scatter(jit, x, s=4, alpha=0.4, color=COLORS[col])
    b.set_xticks(range(3), labels)
    b.set(ylim=(0, 1.05), ylabel=f"primitive $M = BQ$ ($n = {c.n}$)")
    return fig


def r1_figure(noise: NoiseResult, level: float = 0.999):
    """Running Monte-Carlo mean of the projected-noise norm with its confidence band, the paper's value
    and the exact chi mean."""
    plt, COLORS, new_figure = _style()
    n, nu = noise.config.n, noise.config.nu
    paper, exact = nu * np.sqrt((n - 1) / n), float(nu / np.sqrt(n) * chi_mean(n - 1))
    x = noise.big_norms
    R = np.unique(np.logspace(2, np.log10(x.size), 60).astype(int))
    cs, cs2 = np.cumsum(x), np.cumsum(x**2)
    m = cs[R - 1] / R
    half = stats.t.ppf(0.5 + level / 2, R - 1) * np.sqrt((cs2[R - 1] / R - m**2) / (R - 1))
    fig, axes = new_figure(width=7.0, height=4.0)
    ax = axes[0, 0]
    ax.fill_between(R, m - half, m + half, color=COLORS["sinkhorn"], alpha=0.25, lw=0)
    ax.plot(R, m, color=COLORS["sinkhorn"], label=f"Monte-Carlo mean, {100 * level:g} % CI")
    ax.axhline(paper, color=COLORS["paper"], ls="--", label=r"paper: $\nu\sqrt{(n-1)/n}$")
    ax.axhline(exact, color=COLORS["theory"],
               label=r"exact: $\frac{\nu}{\sqrt{n}}\sqrt{2}\,\Gamma(\frac{n}{2})/\Gamma(\frac{n-1}{2})$")
    ax.axvline(noise.norms.size, color="k", lw=0.8, ls=":", label=f"the paper's $R = {noise.norms.size}$")
    ax.set(xscale="log", xlabel="number of draws $R$", ylabel=r"mean of $\|\mathcal{P}_\perp\xi\|_2$",
           ylim=(0.0975, 0.1005))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    return fig


def l1_figure(noise: NoiseResult):
    r"""Histogram of a coordinate of :math:`u` against the exact law, with the anisotropic control."""
    plt, COLORS, new_figure = _style()
    m = noise.config.n - 1
    law = stats.beta((m - 1) / 2, (m - 1) / 2, loc=-1, scale=2)
    t = np.linspace(-0.6, 0.6, 300)
    fig, axes = new_figure(width=7.0, height=4.0)
    ax = axes[0, 0]
    ax.hist(noise.coords[0], bins=80, density=True, color=COLORS["sinkhorn"], alpha=0.5,
            label=r"$\mathcal{P}_\perp\xi$, isotropic $\xi$")
    ax.hist(noise.aniso_coords, bins=80, density=True, histtype="step", color=COLORS["softmax"],
            label="anisotropic control")
    ax.plot(t, law.pdf(t), color=COLORS["theory"], label=r"uniform on $\mathbb{S}^{n-2}$ (exact)")
    ax.set(xlabel=r"$\langle u, w\rangle$", ylabel="density")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


def aa_figure(conc: ConcentrationResult, ks: tuple[int, ...] = (1, 5, 63, 1000)):
    """Exact chi tails around sqrt(k), the Monte-Carlo projected tail and the bound 2 exp(-t^2/2)."""
    plt, COLORS, new_figure = _style()
    fig, axes = new_figure(width=7.0, height=4.2)
    ax = axes[0, 0]
    for j, k in enumerate(conc.config.ks):
        if k in ks:
            ax.plot(conc.t, conc.exact[j], label=f"exact, $k = {k}$",
                    color=plt.get_cmap("viridis")(j / len(conc.config.ks)))
    ax.plot(conc.mc_t, np.where(conc.mc_tail > 0, conc.mc_tail, np.nan), "o", ms=3, color=COLORS["softmax"],
            label=f"Monte Carlo, projected form ($R = {conc.mc_n}$)")
    ax.plot(conc.t, np.minimum(2 * np.exp(-conc.t**2 / 2), 1), "--", color=COLORS["theory"], label=r"$2e^{-t^2/2}$")
    ax.set(yscale="log", ylim=(1e-12, 2), xlabel="$t$", ylabel=r"$\Pr(|\,\|g_k\| - \sqrt{k}\,| \geq t)$")
    ax.legend(loc="lower left")
    return fig


# ----------------------------------------------------------------------------- Explore
def spectrum_figure(T: float, n: int = 64):
    """Eigenvalues and singular values of one Algorithm 1 DSM (seed 0) at temperature ``T``."""
    plt, COLORS, new_figure = _style()
    M, info = random_dsm(int(n), T, rng=0, return_info=True, warn=False)
    lam, s = np.linalg.eigvals(M), singular_values(M)
    fig, axes = new_figure(2, width=3.6, height=3.6)
    a, b = axes[0]
    a.add_patch(plt.Circle((0, 0), 1, fill=False, color=COLORS["paper"], lw=1))
    a.scatter(lam.real, lam.imag, s=10, color=COLORS["sinkhorn"])
    a.set(aspect="equal", xlim=(-1.1, 1.1), ylim=(-1.1, 1.1), xlabel=r"Re $\lambda$", ylabel=r"Im $\lambda$",
          title=f"$T = {T:.3g}$, $n = {int(n)}$\nmarginal error {_m(f'{info.err:.0e}')}")
    b.semilogy(np.arange(1, len(s) + 1), s, ".", color=COLORS["sinkhorn"])
    b.set(xlabel="index $i$", ylabel=r"$\sigma_i(M)$", ylim=(1e-4, 2))
    return fig


def spectrum_explorer() -> Any:
    """Live sliders over ``T`` and ``n`` that redraw :func:`spectrum_figure` (draws only once a slider moves)."""
    import matplotlib.pyplot as plt
    from ipywidgets import FloatLogSlider, IntSlider

    from ...widgets import explorer

    live = {"on": False}  # the first call (on creation) draws nothing, so no figure is stored

    def show(T=0.1, n=64):
        if live["on"]:
            spectrum_figure(T, n)
            plt.show()

    ui = explorer(show, T=FloatLogSlider(value=0.1, base=10, min=-2.5, max=1, step=0.1, description="T"),
                  n=IntSlider(value=64, min=4, max=128, step=4, description="n"))
    live["on"] = True
    return ui


def spectrum_player(temperatures=(0.01, 0.03, 0.1, 0.3, 1.0, 10.0), start: int = 2) -> Any:
    """The kernel-free player over :func:`spectrum_figure` at a few temperatures."""
    from ...widgets import frame_player

    return frame_player(spectrum_figure, list(temperatures), label="temperature T", fmt=lambda T: f"T = {T:g}",
                        start=start, dpi=150)
