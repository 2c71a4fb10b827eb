"""Chapter 3, invertibility of M on V_perp with and without noise (HT-IRREV)."""

from __future__ import annotations

from dataclasses import dataclass
import numpy as np
from numpy.typing import NDArray
from .... import center
from ....cache import disk_cached
from ....noise import gaussian_noise

from .common import SEEDS, TEMPS, dsm_batch, unit_detail

__all__ = [
    "COND_MAX",
    "IrrevConfig",
    "IrrevResult",
    "LOST",
    "REC_TOL",
    "_matched",
    "detail_basis",
    "irrev_experiment",
    "lmmse_recovered_fraction",
]


#: a condition number above this makes float64 inversion lose every significant digit
#: beyond about 4 (1e-16 * 1e12): "not reversible in practice"
COND_MAX = 1e12
#: noiseless recovery error below this counts as exact recovery in float64
REC_TOL = 1e-6
#: recovered signal fraction below this (at the smallest sigma_2) counts as "the signal is lost"
LOST = 0.5


def detail_basis(n: int) -> NDArray[np.float64]:
    r"""Orthonormal basis of :math:`\mathcal V_\perp = \{x: \mathbf 1^\top x = 0\}` (Helmert), shape (n, n - 1)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n must be an int >= 2, got {n!r}")
    k = np.arange(1, n)
    U = np.zeros((n, n - 1))
    U[np.arange(n)[:, None] < k[None, :]] = 1.0  # column k-1: ones in its first k rows ...
    U[k, k - 1] = -k  # ... then -k
    return U / np.linalg.norm(U, axis=0, keepdims=True)


def lmmse_recovered_fraction(s: NDArray, n: int, nu: float) -> NDArray[np.float64]:
    r"""Fraction :math:`\rho^2` of :math:`\mathbb E\|x_\perp\|^2` recovered by the LMMSE estimator (module docstring).

    Parameters
    ----------
    s : ndarray, shape (..., n - 1)
        Singular values of :math:`M` on :math:`\mathcal V_\perp`.
    n : int
    nu : float
        Noise scale, ``>= 0`` (``0`` gives 1 wherever every :math:`s_i > 0`).

    Returns
    -------
    ndarray, shape (...)
    """
    s = np.asarray(s, dtype=float)
    if nu < 0:
        raise ValueError(f"nu must be >= 0, got {nu}")
    b = (n - 1) * nu**2 / n
    s2 = s**2
    with np.errstate(invalid="ignore"):
        frac = np.where(s2 + b > 0, s2 / np.where(s2 + b > 0, s2 + b, 1.0), 0.0)
    return frac.mean(axis=-1)


@dataclass(frozen=True)
class IrrevConfig:
    """Algorithm-1 DSMs over the chapter's temperature grid, one random unit :math:`x_\\perp` each."""

    n: int = 64
    nu: float = 0.1
    temperatures: tuple[float, ...] = TEMPS
    seeds: tuple[int, ...] = SEEDS
    per_seed: int = 100
    seed: int = 8


@dataclass(frozen=True)
class IrrevResult:
    """Conditioning of :math:`M` on :math:`\\mathcal V_\\perp` and recovery with and without noise.

    Attributes
    ----------
    sigma2, smin, cond : ndarray, shape (nT, R)
        :math:`\\sigma_{\\max}(B)` (= :math:`\\sigma_2(M)` for a DSM), :math:`\\sigma_{\\min}(B)`, their ratio.
    rec_err : ndarray, shape (nT, R)
        :math:`\\|\\hat x - x_\\perp\\|/\\|x_\\perp\\|` from :math:`Mx_\\perp` by ``solve`` (no noise).
    inv_err_noise : ndarray, shape (nT, R)
        The same with noise :math:`\\nu` added before solving.
    r2 : ndarray, shape (nT, R)
        LMMSE recovered fraction at noise ``nu``.
    r2_matched : ndarray, shape (nT, R)
        The same with the noise scaled per matrix, :math:`\\nu\\,\\sigma_2(M)/\\bar\\sigma_2`
        (:math:`\\bar\\sigma_2` the median at the middle temperature of the grid), so that
        :math:`\\sigma_2/\\text{noise}` is fixed: isolates the SNR from :math:`\\sigma_2` itself.
    """

    config: IrrevConfig
    sigma2: NDArray[np.float64]
    smin: NDArray[np.float64]
    cond: NDArray[np.float64]
    rec_err: NDArray[np.float64]
    inv_err_noise: NDArray[np.float64]
    r2: NDArray[np.float64]
    r2_matched: NDArray[np.float64]


@disk_cached
def irrev_experiment(config: IrrevConfig = IrrevConfig()) -> IrrevResult:
    """Singular values of M on V_perp, float64 inversion with and without noise, LMMSE recovered fraction."""
    c = config
    rng = np.random.default_rng(c.seed)
    U = detail_basis(c.n)
    R = len(c.seeds) * c.per_seed
    nT = len(c.temperatures)
    s2, smin, cond, rerr, nerr, r2 = (np.empty((nT, R)) for _ in range(6))
    svals = []
    for i, T in enumerate(c.temperatures):  # loop over the temperature grid
        M = dsm_batch(c.n, T, c.seeds, c.per_seed)
        B = U.T @ M @ U  # (R, n-1, n-1)
        s = np.linalg.svd(B, compute_uv=False)
        svals.append(s)
        s2[i], smin[i] = s[:, 0], s[:, -1]
        cond[i] = s[:, 0] / s[:, -1]
        x = unit_detail(rng, (R,), c.n)
        y = np.einsum("rij,rj->ri", M, x)
        z = np.linalg.solve(B, (y @ U)[..., None])[..., 0]
        rerr[i] = np.linalg.norm(z @ U.T - x, axis=-1)
        yn = y + center(gaussian_noise(c.n, c.nu, size=R, rng=rng))
        zn = np.linalg.solve(B, (yn @ U)[..., None])[..., 0]
        nerr[i] = np.linalg.norm(zn @ U.T - x, axis=-1)
        r2[i] = lmmse_recovered_fraction(s, c.n, c.nu)
    mid = int(np.argsort(c.temperatures)[len(c.temperatures) // 2])  # the middle temperature of the grid
    ref = float(np.median(s2[mid]))
    r2m = np.stack([_matched(s, c.n, c.nu, ref) for s in svals])
    return IrrevResult(c, s2, smin, cond, rerr, nerr, r2, r2m)


def _matched(s: NDArray, n: int, nu: float, ref: float) -> NDArray[np.float64]:
    """LMMSE fraction with the noise scaled per matrix so that sigma_2 / noise = ref / nu."""
    b = (n - 1) * (nu * s[:, :1] / ref) ** 2 / n
    return (s**2 / (s**2 + b)).mean(axis=-1)
