"""Chapter 2, RC Prop. 4: the expansion of a column softmax after a row softmax (RC-P4)."""

from __future__ import annotations

from dataclasses import dataclass
import numpy as np
from .... import q_project, row_softmax
from ....cache import disk_cached

from .common import column_softmax


@dataclass(frozen=True)
class P4Config:
    """F(tY) - J/n for t in logspace(-6, -2), Gaussian Y, n = 64."""

    n: int = 64
    ts: tuple[float, ...] = tuple(float(f"{t:.6g}") for t in np.logspace(-6, -2, 9))
    trials: int = 1000
    seed: int = 17
    #: pre-registered: |n^2 c - 1| <= coef_tol, and remainder slope in slope_range
    coef_tol: float = 1e-3
    slope_range: tuple[float, float] = (0.9, 1.1)


@dataclass(frozen=True)
class P4Result:
    r"""Shapes (len(ts), trials).

    Attributes
    ----------
    coef : :math:`n^2\langle F(tY)-J/n,\,Q(Y)\rangle_F / (t\|Q(Y)\|_F^2)` (1 if the paper is right)
    remainder : :math:`\|F(tY)-J/n-\tfrac{t}{n^2}Q(Y)\|_F / (\tfrac{t}{n^2}\|Q(Y)\|_F)`
        (:math:`\propto t` for an :math:`O(t^2)` remainder)
    row_err : :math:`\max_i|(F(tY)\mathbf 1)_i - 1|` (F's columns sum to 1, its rows do not)
    """

    config: P4Config
    coef: np.ndarray
    remainder: np.ndarray
    row_err: np.ndarray


@disk_cached
def p4_experiment(config: P4Config = P4Config()) -> P4Result:
    """The first-order coefficient and the remainder of (C o R)(tY), batched over Y."""
    rng = np.random.default_rng(config.seed)
    n = config.n
    Y = rng.standard_normal((config.trials, n, n))
    QY = q_project(Y)
    q2 = (QY * QY).sum(axis=(-2, -1))
    coef, rem, rerr = [], [], []
    for t in config.ts:
        D = column_softmax(row_softmax(t * Y)) - 1.0 / n
        coef.append(n**2 * (D * QY).sum(axis=(-2, -1)) / (t * q2))
        rem.append(np.linalg.norm(D - t / n**2 * QY, axis=(-2, -1)) / (t / n**2 * np.sqrt(q2)))
        rerr.append(np.abs(D.sum(axis=-1)).max(axis=-1))
    return P4Result(config, np.array(coef), np.array(rem), np.array(rerr))


def p4_summary(result: P4Result) -> dict[str, float]:
    """Fitted coefficient (intercept of median n^2 c against t), its worst draw at the smallest t,
    and the log-log slope of the median remainder."""
    ts = np.array(result.config.ts)
    med = np.median(result.coef, axis=1)
    intercept = float(np.polyfit(ts, med, 1)[1])
    worst = float(np.abs(result.coef[0] - 1).max())
    slope = float(np.polyfit(np.log(ts), np.log(np.median(result.remainder, axis=1)), 1)[0])
    rslope = float(np.polyfit(np.log(ts), np.log(np.median(result.row_err, axis=1)), 1)[0])
    return {"intercept": intercept, "worst": worst, "slope": slope, "row_slope": rslope}
