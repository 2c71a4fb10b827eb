"""Chapter 4, what the experiments share: the architectures and variants, inputs, pool indices, growth ratios."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from ..._format import sig as _sig

__all__ = [
    "ARCHS",
    "PAIRED",
    "SATURATION_THRESHOLD",
    "VARIANTS",
    "_Q",
    "_boot_growth",
    "_pct",
    "_pool_index",
    "_tex",
    "growth_ratio",
    "make_inputs",
    "variant_index",
]


#: architectures: residual flag, post-LayerNorm flag, centring flag ('+C': re-centre after
#: each block, i.e. the mean-free stream of exact arithmetic)
ARCHS: dict[str, tuple[bool, bool, bool]] = {
    "skip": (True, False, False),
    "skip+C": (True, False, True),
    "skip+LN": (True, True, False),
    "noskip": (False, False, False),
    "noskip+LN": (False, True, False),
}
#: (architecture, phi, input) with input 'perp' (mean-free) or 'mean'
VARIANTS: tuple[tuple[str, str, str], ...] = (
    ("skip", "identity", "perp"),
    ("skip", "identity", "mean"),
    ("skip", "relu", "perp"),
    ("skip", "relu", "mean"),
    ("skip+C", "identity", "perp"),
    ("skip+LN", "identity", "perp"),
    ("skip+LN", "relu", "perp"),
    ("noskip", "identity", "mean"),
    ("noskip", "relu", "perp"),
    ("noskip+LN", "identity", "perp"),
)
#: variants whose second input (for the angle between two inputs) is run too
PAIRED: tuple[tuple[str, str, str], ...] = (
    ("skip", "relu", "perp"),
    ("skip+C", "identity", "perp"),
    ("skip+LN", "identity", "perp"),
    ("skip+LN", "relu", "perp"),
    ("noskip+LN", "identity", "perp"),
)
_Q = (25.0, 50.0, 75.0)
#: growth ratio separating "still growing" from "saturated" (sqrt(L) growth gives 0.41,
#: linear growth 1, a plateau 0)
SATURATION_THRESHOLD = 0.2


def _pct(x: float) -> str:
    """A fraction as a percentage with 3 significant digits."""
    return _sig(100 * float(x), 3)


def _tex(x: float, digits: int = 2) -> str:
    r"""``x`` rounded as :func:`~dsmlib.experiments._format.sig`, written for ``$...$`` maths.

    The digits are those of ``sig``; an exponent ``6.2e+02`` becomes ``6.2\times10^{2}``.
    """
    s = _sig(x, digits)
    if "e" not in s:
        return s
    mant, exp = s.split("e")
    return rf"{mant}\times10^{{{int(exp)}}}"


def variant_index(arch: str, phi: str, inp: str) -> int:
    """Position of ``(arch, phi, inp)`` in :data:`VARIANTS`."""
    return VARIANTS.index((arch, phi, inp))


def make_inputs(
    n: int, trials: int, mean_level: float, pair_cos: float, rng: np.random.Generator
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    r"""Pairs of inputs :math:`x_0 = \mu\mathbf 1 + g_\perp`, :math:`x_0' = \mu\mathbf 1 + g'_\perp`.

    :math:`g_\perp` is a centred Gaussian vector rescaled to norm :math:`\sqrt n`;
    :math:`g'_\perp = c\,g_\perp + \sqrt{1-c^2}\,h_\perp` with :math:`h_\perp \perp g_\perp`
    of the same norm, so :math:`\cos\angle(g_\perp, g'_\perp) = c` exactly.

    Returns
    -------
    x, x2 : ndarray, shape (trials, n)
    """
    if not (-1.0 <= pair_cos <= 1.0) or n < 3 or trials < 1:
        raise ValueError("need n >= 3, trials >= 1 and |pair_cos| <= 1")
    g = rng.standard_normal((trials, n))
    h = rng.standard_normal((trials, n))
    g -= g.mean(-1, keepdims=True)
    h -= h.mean(-1, keepdims=True)
    g *= np.sqrt(n) / np.linalg.norm(g, axis=-1, keepdims=True)
    h -= (h * g).sum(-1, keepdims=True) / n * g
    h *= np.sqrt(n) / np.linalg.norm(h, axis=-1, keepdims=True)
    g2 = pair_cos * g + np.sqrt(1 - pair_cos**2) * h
    return mean_level + g, mean_level + g2


def _pool_index(rng: np.random.Generator, trials: int, pool: int, depth: int) -> NDArray[np.int64]:
    """``depth`` distinct pool indices per trial (a random permutation prefix per trial)."""
    if depth > pool:
        raise ValueError(f"pool ({pool}) must be >= depth ({depth})")
    return np.argsort(rng.random((trials, pool)), axis=1)[:, :depth].astype(np.int64)


def growth_ratio(theta_half: NDArray[np.float64], theta_full: NDArray[np.float64]) -> float:
    r"""Saturation statistic :math:`g = (\tilde\theta_L - \tilde\theta_{L/2})/\tilde\theta_{L/2}` of medians.

    :math:`g\approx 1` for linear growth, :math:`\sqrt2-1\approx0.41` for
    :math:`\sqrt L` growth (a random walk), :math:`g\to 0` for a plateau.
    """
    h = float(np.median(theta_half))
    return (float(np.median(theta_full)) - h) / h if h > 0 else float("nan")


def _boot_growth(
    theta_half: NDArray[np.float64],
    theta_full: NDArray[np.float64],
    rng: np.random.Generator,
    n_boot: int = 400,
) -> tuple[float, float]:
    """Percentile bootstrap 95% interval of :func:`growth_ratio` (resampling trials)."""
    R = theta_half.shape[-1]
    ib = rng.integers(0, R, size=(n_boot, R))
    h = np.median(theta_half[ib], axis=1)
    f = np.median(theta_full[ib], axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        g = (f - h) / h
    lo, hi = np.nanpercentile(g, [2.5, 97.5])
    return float(lo), float(hi)
