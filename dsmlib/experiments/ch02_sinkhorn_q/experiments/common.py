"""Chapter 2, what the experiments share: Algorithm-1 costs, the temperature grid, softmaxes, row
entropies, binomial intervals, and number formatting for the evidence."""

from __future__ import annotations

import re
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats
from scipy.special import softmax
from ..._format import sig as _sig
from ....algorithm1 import HT_TEMPERATURES as TEMPERATURES  # noqa: F401 (HT Exp. 1's grid)
from ....algorithm1 import algorithm1_costs  # noqa: F401

__all__ = [
    "ALG1_TEMPERATURES",
    "TEMPERATURES",
    "_EXP",
    "algorithm1_costs",
    "clopper_pearson",
    "column_softmax",
    "row_entropy",
    "sig_range",
    "tex",
    "tex_num",
]


def sig_range(xs, digits: int = 3) -> str:
    """``"a-b"`` of rounded min and max, or one number if they round alike."""
    lo, hi = _sig(min(xs), digits), _sig(max(xs), digits)
    return lo if lo == hi else f"{lo}-{hi}"


_EXP = re.compile(r"(\d(?:\.\d+)?)e([+-])0*(\d+)")


def tex_num(s: str) -> str:
    r"""TeX for a formatted number string, digits unchanged.

    ``"9.3e-302"`` becomes ``"9.3\times 10^{-302}"``, ``"1e-06"`` becomes ``"10^{-6}"``;
    anything else (``"< "``, ranges, plain decimals) is kept as is.
    """

    def sub(m: re.Match) -> str:
        mant, sign, exp = m.groups()
        power = f"10^{{{'-' if sign == '-' else ''}{exp}}}"
        return power if mant == "1" else f"{mant}\\times {power}"

    return _EXP.sub(sub, str(s))


def tex(s: object) -> str:
    """``$...$`` maths for a formatted number (see :func:`tex_num`)."""
    return f"${tex_num(str(s))}$"


def column_softmax(scores: ArrayLike) -> NDArray[np.float64]:
    r"""Column-wise softmax :math:`C(Z)_{ij} = e^{z_{ij}}/\sum_k e^{z_{kj}}` (RC App. C).

    Parameters
    ----------
    scores : array_like, shape (..., n, m)

    Returns
    -------
    ndarray, shape (..., n, m)
    """
    Z = np.asarray(scores, dtype=np.float64)
    if Z.ndim < 2 or not np.all(np.isfinite(Z)):
        raise ValueError("scores must be a finite array with at least two dimensions")
    return softmax(Z, axis=-2)


def row_entropy(P: NDArray[np.float64]) -> NDArray[np.float64]:
    """Mean over rows of the row entropy (nats), shape (...)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(P > 0, P * np.log(np.where(P > 0, P, 1.0)), 0.0)
    return -t.sum(axis=-1).mean(axis=-1)


def clopper_pearson(k: ArrayLike, n: ArrayLike, level: float = 0.95) -> tuple[NDArray, NDArray]:
    """Two-sided exact (Clopper-Pearson) confidence interval for a binomial proportion.

    Parameters
    ----------
    k, n : array_like of int, broadcastable
        Successes and trials (``0 <= k <= n``, ``n >= 1``).
    level : float
        Confidence level.

    Returns
    -------
    lo, hi : ndarray
    """
    k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    if np.any(n < 1) or np.any(k < 0) or np.any(k > n):
        raise ValueError("need 0 <= k <= n and n >= 1")
    a = (1 - level) / 2
    with np.errstate(invalid="ignore"):
        lo = np.where(k > 0, stats.beta.ppf(a, k, n - k + 1), 0.0)
        hi = np.where(k < n, stats.beta.ppf(1 - a, k + 1, n - k), 1.0)
    return lo, hi



#: HT Exp. 1's grid plus T = 0.02, where some seed blocks converge and others do not
ALG1_TEMPERATURES: tuple[float, ...] = tuple(sorted(set(TEMPERATURES) | {0.02}))
