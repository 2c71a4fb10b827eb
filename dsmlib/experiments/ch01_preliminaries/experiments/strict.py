r"""Chapter 1, strict contraction on :math:`\mathcal V_\perp` (HT-L2S): :math:`\sigma_2` of HT's Algorithm-1
DSMs over HT's temperatures, of primitive DSMs whose Gram matrix is reducible, and of imprimitive DSMs."""

from __future__ import annotations

from dataclasses import dataclass
import numpy as np
from numpy.typing import NDArray
from .... import sinkhorn
from ....algorithm1 import HT_TEMPERATURES, algorithm1_costs
from ....birkhoff import birkhoff_dsm, block_diagonal, random_permutations
from ....cache import disk_cached
from ....spectra import restricted_norm

from .spectra import FamilyConfig, algorithm1_outputs, family_spectra

__all__ = ["HT_TEMPERATURES", "StrictConfig", "StrictResult", "reducible_gram_dsm", "strict_experiment"]


#: a contraction counts as strict when 1 - sigma_2 > STRICT_MARGIN x Algorithm 1's tolerance (HT-L2S's rule)
STRICT_MARGIN: float = 10.0


@dataclass(frozen=True)
class StrictConfig(FamilyConfig):
    r"""HT-L2S at HT's sizes.

    Algorithm 1 (``n``, ``seeds`` x ``per_seed`` = R = 1000, ``n_iter`` = K = 200, ``tol``) at every
    temperature of HT's grid; ``trials`` primitive DSMs :math:`M = BQ` (``B`` two positive
    Algorithm-1 blocks of size ``n/2`` at ``block_temperature``, ``Q`` a random permutation); and
    ``trials_special`` permutations and block-diagonal Birkhoff DSMs (imprimitive controls).
    """

    temperatures: tuple[float, ...] = HT_TEMPERATURES
    seeds: tuple[int, ...] = tuple(range(10))
    per_seed: int = 100
    n_iter: int = 200
    tol: float = 1e-6
    block_temperature: float = 1.0
    trials_special: int = 200
    seed: int = 31


@dataclass(frozen=True)
class StrictResult:
    r"""Contraction factors on :math:`\mathcal V_\perp`.

    Attributes
    ----------
    sigma2, restricted, err : ndarray, shape (nT, R)
        Algorithm-1 outputs: :math:`\sigma_2(M)`, :math:`\|M\|_{\mathcal V_\perp}`, marginal error.
    converged : ndarray of bool, shape (nT, R)
        ``err <= tol``: the outputs that are DSMs.
    bq_primitive : ndarray of bool, shape (trials,)
    bq_sigma2, bq_restricted, bq_err : ndarray, shape (trials,)
    bq_lam2 : ndarray, shape (trials,)
        Second largest eigenvalue modulus of :math:`M = BQ`.
    bq_restricted_sq : ndarray, shape (trials,)
        :math:`\|M^2\|_{\mathcal V_\perp}` (two layers).
    bq_iso_gain : ndarray, shape (trials,)
        :math:`\|Mx\|/\|x\|` for :math:`x = Q^\top(\mathbf 1_A - \mathbf 1_B) \in \mathcal V_\perp`,
        the difference of the block indicators.
    ctl_names : tuple of str
    ctl_sigma2 : ndarray, shape (n_ctl, trials_special)
    ctl_primitive : ndarray of bool, shape (n_ctl, trials_special)
    """

    config: StrictConfig
    sigma2: NDArray[np.float64]
    restricted: NDArray[np.float64]
    err: NDArray[np.float64]
    converged: NDArray[np.bool_]
    bq_primitive: NDArray[np.bool_]
    bq_sigma2: NDArray[np.float64]
    bq_restricted: NDArray[np.float64]
    bq_err: NDArray[np.float64]
    bq_lam2: NDArray[np.float64]
    bq_restricted_sq: NDArray[np.float64]
    bq_iso_gain: NDArray[np.float64]
    ctl_names: tuple[str, ...]
    ctl_sigma2: NDArray[np.float64]
    ctl_primitive: NDArray[np.bool_]


def reducible_gram_dsm(
    n: int, size: int, temperature: float, rng: np.random.Generator
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    r"""Primitive DSMs with :math:`\sigma_2 = 1`: :math:`M = BQ`, ``B`` block-diagonal, ``Q`` a permutation.

    ``B = diag(B_1, B_2)`` with positive Algorithm-1 blocks of size ``n/2`` (tolerance
    :math:`10^{-14}`), ``Q`` uniform. :math:`M^\top M = Q^\top B^\top B Q` is block-diagonal up to the
    permutation, so the singular value 1 is double, while ``M`` itself is primitive as soon as
    ``Q`` mixes the two blocks (checked by the caller).

    Returns
    -------
    M, Q : ndarray, shape (size, n, n)
    """
    if n < 4 or n % 2:
        raise ValueError(f"n must be even and >= 4, got {n}")
    h = n // 2
    B = block_diagonal(sinkhorn(-rng.random((size, 2, h, h)) / temperature, tol=1e-14, n_iter=5000, warn=False))
    Q = random_permutations(n, size, rng)
    return B @ Q, Q


@disk_cached
def strict_experiment(config: StrictConfig = StrictConfig()) -> StrictResult:
    """Algorithm 1 over HT's grid, the primitive ``BQ`` family and the imprimitive controls."""
    c = config
    D = algorithm1_costs(c.n, c.seeds, c.per_seed)
    shp = (len(c.temperatures), D.shape[0])
    s2, rn, er = (np.empty(shp) for _ in range(3))
    conv = np.empty(shp, dtype=bool)
    for i, T in enumerate(c.temperatures):
        M, s, er[i], conv[i], _ = algorithm1_outputs(D, T, n_iter=c.n_iter, tol=c.tol)
        s2[i], rn[i] = s[:, 1], restricted_norm(M)
    g = np.random.default_rng(c.seed)
    M, Q = reducible_gram_dsm(c.n, c.trials, c.block_temperature, g)
    h = c.n // 2
    v = np.r_[np.ones(h), -np.ones(h)] / np.sqrt(c.n)  # unit, in V_perp, and B v = v
    x = np.einsum("bji,j->bi", Q, v)  # x = Q^T v, so M x = B v = v
    gain = np.linalg.norm(np.einsum("bij,bj->bi", M, x), axis=-1) / np.linalg.norm(x, axis=-1)
    lam = np.sort(np.abs(np.linalg.eigvals(M)), axis=-1)[:, ::-1]
    f = family_spectra({
        "primitive BQ": M,
        "permutation": random_permutations(c.n, c.trials_special, g),
        "block-diagonal": block_diagonal(birkhoff_dsm(h, c.n_perm, size=(c.trials_special, 2), rng=g)),
    })
    m = c.trials_special
    return StrictResult(
        c, s2, rn, er, conv, f.primitive[0], f.sigma2[0], restricted_norm(M), f.marg_err[0],
        lam[:, 1], restricted_norm(M @ M), gain, f.names[1:], f.sigma2[1:, :m], f.primitive[1:, :m],
    )
