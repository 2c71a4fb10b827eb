"""The book's figure style and a few shared plot helpers.

Call :func:`use_style` once per notebook (the chapters do it in their imports cell).
Nothing here runs at import time.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["COLORS", "MAX_WIDTH", "STYLE", "band", "log_boxplot", "new_figure", "use_style"]

#: one colour per role, used by every chapter
COLORS = {
    "sinkhorn": "#1f77b4",
    "softmax": "#d62728",
    "theory": "#2ca02c",
    "paper": "#7f7f7f",
    "skip": "#9467bd",
    "noskip": "#ff7f0e",
    "accent": "#8c564b",
}

STYLE: dict[str, Any] = {
    "figure.figsize": (7.0, 4.0),
    "figure.dpi": 150,
    "savefig.dpi": 150,
    "figure.autolayout": True,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "font.size": 10,
    "lines.linewidth": 1.6,
    "image.cmap": "viridis",
    "svg.hashsalt": "dsmlib",
}


def use_style() -> None:
    """Apply the book's matplotlib style (also sets PNG output for notebooks)."""
    import matplotlib as mpl

    mpl.rcParams.update(STYLE)
    try:  # inline backend: PNG only, so stored notebooks stay small and deterministic
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("png")
    except Exception:  # pragma: no cover - outside IPython
        pass


#: the widest figure the book's text column shows at full size (inches)
MAX_WIDTH = 7.5


def new_figure(ncols: int = 1, nrows: int = 1, *, width: float = 7.0, height: float = 4.0, **kw: Any):
    """``plt.subplots`` with the book's sizing.

    ``width`` is per column and ``height`` per row; the total width is capped at
    :data:`MAX_WIDTH` inches (the book's column at >= 90 CSS px per inch), so a figure is
    never shrunk on the page until its text is unreadable. Use at most two columns.
    """
    import matplotlib.pyplot as plt

    if ncols > 2:
        raise ValueError(f"ncols must be at most 2 (stack further panels in rows), got {ncols}")
    total = min(width * ncols, MAX_WIDTH)
    return plt.subplots(nrows, ncols, figsize=(total, height * nrows), squeeze=False, **kw)


def band(ax, x: ArrayLike, samples: ArrayLike, *, color: str, label: str, q: Sequence[float] = (25, 50, 75)):
    """Median line with an interquartile band of ``samples`` (shape (len(x), R))."""
    lo, mid, hi = np.percentile(np.asarray(samples), q, axis=-1)
    ax.fill_between(x, lo, hi, color=color, alpha=0.25, linewidth=0)
    ax.plot(x, mid, color=color, label=label)
    return ax


def log_boxplot(ax, positions: ArrayLike, samples: Sequence[ArrayLike], *, color: str, label: str, width: float = 0.35, offset: float = 0.0):
    """Box plots (median, IQR, whiskers to non-outliers) on a log y-axis, one per position."""
    pos = np.asarray(positions, dtype=float) + offset
    bp = ax.boxplot(
        [np.asarray(s) for s in samples],
        positions=pos,
        widths=width,
        patch_artist=True,
        showfliers=False,
        manage_ticks=False,
    )
    for patch in bp["boxes"]:
        patch.set(facecolor=color, alpha=0.35, edgecolor=color)
    for key in ("whiskers", "caps", "medians"):
        for line in bp[key]:
            line.set(color=color)
    ax.set_yscale("log")
    ax.plot([], [], color=color, linewidth=6, alpha=0.35, label=label)
    return bp
