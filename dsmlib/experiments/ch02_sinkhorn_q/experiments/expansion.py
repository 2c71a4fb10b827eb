"""Chapter 2, RC Prop. 4: the expansion of a column softmax after a row softmax (RC-P4), and RC Lemma 1's
proof sketch followed as written (RC-L1P)."""

from __future__ import annotations

from dataclasses import dataclass
import numpy as np
from .... import q_project, row_softmax, sinkhorn
from ....cache import disk_cached

from .common import column_softmax

__all__ = [
    "P4Config",
    "P4Result",
    "SketchConfig",
    "SketchResult",
    "first_order_coefficient",
    "p4_experiment",
    "p4_summary",
    "sketch_experiment",
]


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


# ============================================================== RC-L1P: Lemma 1's proof sketch, followed
@dataclass(frozen=True)
class SketchConfig:
    """First-order coefficients of k-fold compositions, at RC's token counts (MNIST, AG News, Cats & Dogs)."""

    ns: tuple[int, ...] = (50, 128, 197)
    trials: int = 100
    compositions: tuple[int, ...] = (1, 2, 3)
    t: float = 1e-2  # central difference in t: the second-order terms cancel
    sinkhorn_tol: float = 1e-14
    sinkhorn_n_iter: int = 10000
    seed: int = 19


@dataclass(frozen=True)
class SketchResult:
    r"""First-order coefficients :math:`c` of :math:`F(tY) = J/n + c\,t\,Q(Y) + O(t^2)`, per size.

    Attributes
    ----------
    softmax : (len(ns), len(compositions), trials) :math:`n^2 c` of :math:`(C_s\circ R_s)^k`, the
        column softmax of the row softmax composed ``k`` times (App. C's operators)
    normalise : (len(ns), len(compositions), trials) :math:`n c` of :math:`(C\circ R)^k(e^{tY})`, the
        row and column *normalisations* of RC Eq. 13 (the first row step is a row softmax)
    sinkhorn : (len(ns), trials) :math:`n c` of Sinkhorn, converged
    """

    config: SketchConfig
    softmax: np.ndarray
    normalise: np.ndarray
    sinkhorn: np.ndarray


def first_order_coefficient(F, Y: np.ndarray, t: float) -> np.ndarray:
    r""":math:`\langle F(tY) - F(-tY), Q(Y)\rangle_F / (2t\|Q(Y)\|_F^2)`, batched, shape (B,).

    The central difference removes the even terms of the expansion of ``F`` at 0; the
    projection on :math:`Q(Y)` reads off the coefficient of :math:`t\,Q(Y)`.
    """
    QY = q_project(Y)
    D = F(t * Y) - F(-t * Y)
    return (D * QY).sum(axis=(-2, -1)) / (2 * t * (QY * QY).sum(axis=(-2, -1)))


def _softmax_composed(k: int):
    def F(Z):
        for _ in range(k):
            Z = column_softmax(row_softmax(Z))
        return Z
    return F


def _normalise_composed(k: int):
    def F(Z):
        A = np.exp(Z)
        for _ in range(k):
            A = A / A.sum(axis=-1, keepdims=True)
            A = A / A.sum(axis=-2, keepdims=True)
        return A
    return F


@disk_cached
def sketch_experiment(config: SketchConfig = SketchConfig()) -> SketchResult:
    """Follow RC Lemma 1's sketch: the coefficient of each composition, against converged Sinkhorn."""
    rng = np.random.default_rng(config.seed)
    sm, nm, sk = [], [], []
    for n in config.ns:
        Y = rng.standard_normal((config.trials, n, n))
        sm.append([n ** (2 * k) * first_order_coefficient(_softmax_composed(k), Y, config.t)
                   for k in config.compositions])
        nm.append([n * first_order_coefficient(_normalise_composed(k), Y, config.t) for k in config.compositions])

        def S(Z):
            return sinkhorn(Z, n_iter=config.sinkhorn_n_iter, tol=config.sinkhorn_tol, warn=False)

        sk.append(n * first_order_coefficient(S, Y, config.t))
    return SketchResult(config, np.array(sm), np.array(nm), np.array(sk))
