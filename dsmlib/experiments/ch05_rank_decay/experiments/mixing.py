r"""Chapter 5, the third-edition statements on mixing and on :math:`\lambda`: products of doubly
stochastic matrices and their rate per factor (RC-MIX), and the dependence of Prop. 3's
:math:`\lambda` on the matrix it bounds (RC-P3L)."""

from __future__ import annotations

from dataclasses import dataclass
import numpy as np
from numpy.typing import NDArray
from ....attention import prefix_products, random_attention_scores
from ....cache import disk_cached
from ....projections import layer_norm, res
from ....sinkhorn import sinkhorn

from .collapse import init_weights
from .products import FLOOR, decay_rates, spec_norm

__all__ = [
    "LambdaDependenceConfig",
    "LambdaDependenceResult",
    "MixingConfig",
    "MixingResult",
    "frobenius_lambda",
    "lambda_dependence_experiment",
    "mixing_experiment",
]


# ---------------------------------------------------------------------------------------
# RC-MIX: products of doubly stochastic matrices converge to J/n, at what rate per factor
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MixingConfig:
    """Products of ``depth`` i.i.d. Sinkhorn factors (RC's AG News sizes) and of random
    permutation matrices (doubly stochastic, never mixing)."""

    n: int = 128
    d_model: int = 128
    d_qk: int = 32
    depth: int = 24
    n_products: int = 100
    scales: tuple[float, ...] = (1.0, 3.0)
    tol: float = 1e-12
    n_iter: int = 2000
    chunk: int = 20
    seed: int = 0


@dataclass(frozen=True)
class MixingResult:
    r"""``dist[s, i, t]`` = :math:`\|P_1\cdots P_{t+1} - J/n\|_2` and ``sigma2[s, i, t]`` =
    :math:`\sigma_2(P_{t+1}) = \|P_{t+1} - J/n\|_2` for score scale ``s`` and product ``i``;
    ``perm_dist[i, t]`` the same distance for products of random permutation matrices;
    ``unconverged[s]`` Sinkhorn factors that missed the tolerance."""

    config: MixingConfig
    dist: NDArray[np.float64]
    sigma2: NDArray[np.float64]
    perm_dist: NDArray[np.float64]
    unconverged: NDArray[np.int64]

    @property
    def bound(self) -> NDArray[np.float64]:
        r""":math:`\prod_{k \le t}\sigma_2(P_k)`: for doubly stochastic factors
        :math:`\prod P_k - J/n = \prod (P_k - J/n)`, so ``dist <= bound``."""
        return np.cumprod(self.sigma2, axis=-1)

    @property
    def rate(self) -> NDArray[np.float64]:
        """Measured mixing rate per factor (nats), least-squares slope of ``log dist`` above
        the float floor, ``(scale, product)``."""
        return decay_rates(self.dist, np.arange(1, self.config.depth + 1), floor=FLOOR)

    @property
    def factor_rate(self) -> NDArray[np.float64]:
        r"""Mean of :math:`-\log\sigma_2` over each product's factors, ``(scale, product)``:
        the rate the bound :math:`\prod\sigma_2` guarantees."""
        return -np.mean(np.log(self.sigma2), axis=-1)


@disk_cached
def mixing_experiment(config: MixingConfig = MixingConfig()) -> MixingResult:
    """Distance to :math:`J/n` of products of i.i.d. Sinkhorn factors and of permutations (RC-MIX)."""
    c = config
    rng = np.random.default_rng(c.seed)
    S_, m, T, n = len(c.scales), c.n_products, c.depth, c.n
    dist, sig = np.empty((S_, m, T)), np.empty((S_, m, T))
    unconv = np.zeros(S_, dtype=np.int64)
    for s, scale in enumerate(c.scales):
        for i0 in range(0, m, c.chunk):
            k = min(c.chunk, m - i0)
            S = random_attention_scores(n, d_model=c.d_model, d_qk=c.d_qk, scale=scale, size=(k, T), rng=rng)
            F, info = sinkhorn(S, tol=c.tol, n_iter=c.n_iter, return_info=True, warn=False)
            unconv[s] += int(info.n_failed)
            sig[s, i0 : i0 + k] = spec_norm(F - 1.0 / n)
            dist[s, i0 : i0 + k] = spec_norm(prefix_products(F) - 1.0 / n)
    perm = np.argsort(rng.random((m, T, n)), axis=-1)
    Pm = np.zeros((m, T, n, n))
    np.put_along_axis(Pm, perm[..., None], 1.0, axis=-1)
    perm_dist = spec_norm(prefix_products(Pm) - 1.0 / n)
    return MixingResult(c, dist, sig, perm_dist, unconv)


# ---------------------------------------------------------------------------------------
# RC-P3L: lambda of Prop. 3 against the matrix it bounds
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LambdaDependenceConfig:
    r"""Score matrices at RC's AG News size (one head, ``init`` weights, LayerNorm-scaled tokens
    :math:`X = \mathrm{LN}(Z + m\,\mathbf 1\mu^\top)` with a mean token :math:`\mu` of weight
    ``m`` in ``mean_weights``)."""

    n: int = 128
    d_model: int = 128
    d_qk: int = 32
    init: str = "torch-linear"
    mean_weights: tuple[float, ...] = (0.0, 1.0, 3.0)
    draws: int = 100
    seed: int = 0


@dataclass(frozen=True)
class LambdaDependenceResult:
    r"""Arrays ``(mean weight, draw)`` of :math:`\lambda(Y) = \|Q(Y)\|_F/\|Y\|_F` (Prop. 3, Eq. 15):
    ``lam_theorem`` for Theorem 1's scores :math:`A = R W_{QK} R^\top/\sqrt{d_{qk}}` (centred
    :math:`R = \mathrm{res}(X)`, RC Eq. 20), ``lam_raw`` for the scores the head computes from
    :math:`X` itself, :math:`S = X W_{QK} X^\top/\sqrt{d_{qk}}`."""

    config: LambdaDependenceConfig
    lam_theorem: NDArray[np.float64]
    lam_raw: NDArray[np.float64]


def frobenius_lambda(Y: NDArray[np.float64]) -> NDArray[np.float64]:
    r""":math:`\|Q(Y)\|_F/\|Y\|_F` with :math:`Q(Y) = UYU` (RC Prop. 2), the smallest
    :math:`\lambda` of RC Eq. 15 for this ``Y``.

    Parameters
    ----------
    Y : ndarray, shape (..., n, n)

    Returns
    -------
    ndarray, shape (...)
    """
    Y = np.asarray(Y, dtype=np.float64)
    if Y.ndim < 2 or Y.shape[-1] != Y.shape[-2]:
        raise ValueError(f"Y must have shape (..., n, n), got {Y.shape}")
    QY = Y - Y.mean(-1, keepdims=True) - Y.mean(-2, keepdims=True) + Y.mean((-2, -1), keepdims=True)
    return np.linalg.norm(QY, axis=(-2, -1)) / np.linalg.norm(Y, axis=(-2, -1))


@disk_cached
def lambda_dependence_experiment(config: LambdaDependenceConfig = LambdaDependenceConfig()) -> LambdaDependenceResult:
    r""":math:`\lambda(Y)` of Prop. 3 on Theorem 1's own scores and on raw scores (RC-P3L)."""
    c = config
    rng = np.random.default_rng(c.seed)
    W = init_weights(c.init, c.d_model, (c.draws, c.d_model, c.d_qk), rng)
    WQK = W.W_Q @ np.swapaxes(W.W_K, -1, -2) / np.sqrt(c.d_qk)
    Z = rng.normal(size=(c.draws, c.n, c.d_model))
    mu = rng.normal(size=(c.draws, 1, c.d_model))
    lt, lr = (np.empty((len(c.mean_weights), c.draws)) for _ in range(2))
    for k, m in enumerate(c.mean_weights):
        X = layer_norm(Z + m * mu)
        R = res(X)
        lt[k] = frobenius_lambda(R @ WQK @ np.swapaxes(R, -1, -2))
        lr[k] = frobenius_lambda(X @ WQK @ np.swapaxes(X, -1, -2))
    return LambdaDependenceResult(c, lt, lr)
