"""The book's own result BK-SIG2T, the figures (each returns a :class:`matplotlib.figure.Figure`)."""

from __future__ import annotations

import numpy as np

from .experiments import MARGIN_LAW, LawSummary, odd_spread_law, sigma2_law, sigma2_law_leading

__all__ = ["law_figure", "order_figure"]


def _colours(ns):
    import matplotlib.pyplot as plt

    cmap = plt.get_cmap("viridis")
    return {n: cmap(k / (len(ns) - 0.5)) for k, n in enumerate(ns)}


def _two_panels(s: LawSummary, height: float):
    """The figure with its two panels, a colour per ``n``, the measured temperatures and a fine grid over them.

    Returns
    -------
    fig : matplotlib.figure.Figure
    a, b : matplotlib.axes.Axes
        Left and right panel.
    col : dict
        ``n`` -> colour.
    T : ndarray, shape (nT,)
    Tf : ndarray, shape (100,)
        Log-spaced over ``[T.min(), T.max()]``.
    """
    from ...plotting import new_figure

    col = _colours(s.ns)
    T = s.temperatures
    Tf = np.logspace(np.log10(T.min()), np.log10(T.max()), 100)
    fig, ax = new_figure(2, width=3.75, height=height)
    return fig, ax[0, 0], ax[0, 1], col, T, Tf


def law_figure(s: LawSummary):
    """Left: mean sigma_2 against the law and its leading term; right: |law / mean - 1| with 95 % bars.

    Parameters
    ----------
    s : LawSummary

    Returns
    -------
    matplotlib.figure.Figure
    """
    from ...plotting import COLORS

    fig, a, b, col, T, Tf = _two_panels(s, height=4.6)
    for k, n in enumerate(s.ns):
        c = col[n]
        a.plot(T, s.mean[k], "o", ms=3.5, color=c, label=f"$n = {n}$")
        a.plot(Tf, sigma2_law(n, Tf), "-", color=c, lw=1)
        a.plot(Tf, sigma2_law_leading(n, Tf), ":", color=c, lw=1)
        b.errorbar(T, np.abs(s.err_law[k]), yerr=1.96 * s.se_rel[k], fmt="-o", ms=3, color=c, lw=1, capsize=2)
        b.plot(T, np.abs(s.err_leading[k]), ":", color=c)
    a.plot([], [], "-", color="k", lw=1, label=r"law $\kappa(n)/(nT)\,(1-1/120T^2)$")
    a.plot([], [], ":", color="k", lw=1, label=r"$1/(T\sqrt{3n})$")
    a.set(xscale="log", yscale="log", xlabel="temperature $T$", ylabel=r"mean $\sigma_2(M)$")
    a.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    b.axhline(MARGIN_LAW, ls="--", color=COLORS["paper"], lw=1, label=f"margin ({100 * MARGIN_LAW:g} %)")
    b.plot([], [], "-o", ms=3, color="k", label="law (95 % bars)")
    b.plot([], [], ":", color="k", label=r"$1/(T\sqrt{3n})$")
    b.set(xscale="log", yscale="log", xlabel="temperature $T$",
          ylabel=r"$|\mathrm{law}/\mathrm{mean}\;\sigma_2 - 1|$")
    b.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=1)
    return fig


def order_figure(s: LawSummary):
    """Left: the finite-T part 1 - mean(sigma_2 nT/||Q||) against 1/(120 T^2); right: the spread of the
    per-DSM 1/T coefficient against 1/(4 sqrt(15 n)).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from ...plotting import COLORS

    fig, a, b, col, T, Tf = _two_panels(s, height=4.4)
    for k, n in enumerate(s.ns):
        a.plot(T, -s.rho[k], "o", ms=3.5, color=col[n], label=f"$n = {n}$")
    a.plot(Tf, 1 / (120 * Tf**2), "-", color=COLORS["theory"], label=r"$1/(120\,T^2)$")
    a.set(xscale="log", yscale="log", xlabel="temperature $T$",
          ylabel=r"$1 - \mathrm{mean}\;\sigma_2\, nT/\|Q(d)\|_2$")
    a.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    nn = np.array(s.ns, dtype=float)
    b.plot(nn, s.a_sd, "o", color=COLORS["sinkhorn"], label="measured (per-DSM fits)")
    b.plot(nn, odd_spread_law(nn), "-", color=COLORS["theory"], label=r"$1/(4\sqrt{15n})$")
    b.set(xscale="log", yscale="log", xlabel="$n$", xticks=nn, xticklabels=[str(int(n)) for n in nn],
          ylabel=r"sd of the $1/T$ coefficient $a(d)$")
    b.xaxis.set_minor_formatter(plt.NullFormatter())
    b.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2))
    return fig
