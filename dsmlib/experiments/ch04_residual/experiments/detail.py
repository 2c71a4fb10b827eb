r"""Chapter 4, the decay of the detail component across layers of pure DSM mixing (HT-ACC).

HT's abstract: "strictly contractive DSM dynamics accelerate this decay, acting as a low-pass
filter that eliminates detail components". Lemma 2 compounded over layers gives
:math:`\|\mathcal P_\perp x_L\| \le \prod_{\ell} \sigma_2(M_\ell)\,\|\mathcal P_\perp x_0\|`,
and HT's effective depth (Theorem 2) reads the per-layer factor as :math:`\sigma_2`.
:func:`detail_decay_experiment` measures the per-layer log-decrement of the detail,
:math:`r_\ell = -\ln(\|\mathcal P_\perp x_{\ell+1}\|/\|\mathcal P_\perp x_\ell\|)`, of the linear
stack :math:`x_{\ell+1} = M_\ell x_\ell` at several temperatures, with a control whose
mixing is doubly stochastic but not strictly contractive (random permutations,
:math:`\sigma_2 = 1`). The stream is mean-free; it is re-centred and rescaled to unit norm
after every layer (the map is linear, so the decrements are those of the unnormalised
stream, without its float64 floor), and the log-decrements are summed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .... import sigma2
from ...._validate import TemperatureChecked
from ....cache import disk_cached
from ....algorithm1 import algorithm1_batch
from .common import _Q, _pool_index, make_inputs

__all__ = [
    "ACC_RATIO",
    "ACC_ROUNDING",
    "DetailDecayConfig",
    "DetailDecayResult",
    "detail_decay_experiment",
    "detail_rates",
]


@dataclass(frozen=True)
class DetailDecayConfig(TemperatureChecked):
    """HT-ACC at the paper's sizes: ``trials`` mean-free inputs through ``depth`` DSM layers."""

    n: int = 64
    trials: int = 1000
    depth: int = 32
    temperatures: tuple[float, ...] = (0.1, 0.3, 1.0, 3.0, 10.0)
    pool: int = 2000
    n_iter: int = 200
    tol: float = 1e-6
    seed: int = 6


@dataclass(frozen=True)
class DetailDecayResult:
    """Per-layer log-decrements of the detail, per trial.

    Shapes: ``nT`` temperatures, ``L = depth``, ``R = trials``.
    """

    config: DetailDecayConfig
    sigma2_q: NDArray[np.float64]  # (nT, 3) quartiles of sigma2 over the pool
    n_unconverged: NDArray[np.int64]  # (nT,)
    logdec: NDArray[np.float64]  # (nT, L, R) r_l = -ln(||x_{l+1}|| / ||x_l||)
    logbound: NDArray[np.float64]  # (nT, L, R) -ln sigma2(M_l) of the matrix used
    perm_logdec: NDArray[np.float64]  # (L, R) the same for random permutation matrices


def _decrements(apply, L: int, x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Log-decrements of ``x`` (R, n) through ``L`` layers ``y = apply(l, x)``, re-centred and rescaled."""
    out = np.empty((L, x.shape[0]))
    x = x - x.mean(axis=-1, keepdims=True)
    x /= np.linalg.norm(x, axis=-1, keepdims=True)
    for l in range(L):
        y = apply(l, x)
        y -= y.mean(axis=-1, keepdims=True)  # rounding-level mean only: M maps V_perp to V_perp
        nrm = np.linalg.norm(y, axis=-1)
        out[l] = -np.log(nrm)
        x = y / nrm[:, None]
    return out


@disk_cached
def detail_decay_experiment(config: DetailDecayConfig = DetailDecayConfig()) -> DetailDecayResult:
    """Detail decay through fresh Algorithm-1 DSMs per layer, and through permutations."""
    c = config
    rng = np.random.default_rng(c.seed)
    nT, L, R = len(c.temperatures), c.depth, c.trials
    logdec = np.empty((nT, L, R))
    logbound = np.empty((nT, L, R))
    s2q = np.empty((nT, 3))
    nunc = np.zeros(nT, dtype=np.int64)
    x, _ = make_inputs(c.n, R, 0.0, 0.0, rng)
    for t, T in enumerate(c.temperatures):
        pool, nunc[t] = algorithm1_batch(c.n, T, c.pool, rng, n_iter=c.n_iter, tol=c.tol)
        s2 = sigma2(pool)
        s2q[t] = np.percentile(s2, _Q)
        idx = _pool_index(rng, R, c.pool, L)  # (R, L) distinct matrices per trial
        logdec[t] = _decrements(lambda l, v: np.einsum("rij,rj->ri", pool[idx[:, l]], v), L, x)
        logbound[t] = -np.log(s2[idx.T])
    perm = np.argsort(rng.random((L, R, c.n)), axis=-1)  # (P x)_i = x_perm(i), sigma2(P) = 1
    return DetailDecayResult(c, s2q, nunc, logdec, logbound,
                             _decrements(lambda l, v: np.take_along_axis(v, perm[l], axis=-1), L, x))


#: HT-ACC: a trial violates the compounded Lemma 2 if its summed decrement falls below the
#: summed -ln sigma2 by more than this (rounding)
ACC_ROUNDING = 1e-9
#: the "literal acceleration" reading: late/early rate ratio above this counts as accelerating
ACC_RATIO = 1.05


def detail_rates(result: DetailDecayResult) -> list[dict]:
    """Per temperature: median per-layer rate, the bound's rate, the late/early ratio, violations.

    ``rate``: median over trials of the mean decrement per layer; ``bound_rate``: the same of
    :math:`-\\ln\\sigma_2`; ``ratio_late``: mean decrement over the second half of the layers
    divided by that over the first half (medians over trials); ``violations``: trials whose
    cumulative decrement falls below the cumulative :math:`-\\ln\\sigma_2` by more than
    :data:`ACC_ROUNDING` at some layer.
    """
    L = result.config.depth
    h = L // 2
    rows = []
    for t, T in enumerate(result.config.temperatures):
        d, b = result.logdec[t], result.logbound[t]
        slack = np.cumsum(d - b, axis=0)  # >= 0 by Lemma 2
        rows.append(dict(
            T=float(T), sigma2=float(result.sigma2_q[t, 1]),
            rate=float(np.median(d.mean(axis=0))), bound_rate=float(np.median(b.mean(axis=0))),
            ratio_late=float(np.median(d[h:].mean(axis=0)) / np.median(d[:h].mean(axis=0))),
            violations=int((slack < -ACC_ROUNDING).any(axis=0).sum()),
            worst_slack=float(slack.min()),
        ))
    return rows
