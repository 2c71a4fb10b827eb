"""Chapter 3, Exp. 2's data (the collapse of the output cosines), affine LayerNorm (HT-AFF) and Wedin's bound (HT-WEDIN)."""

from __future__ import annotations

from dataclasses import dataclass
import numpy as np
from numpy.typing import NDArray
from .... import center, layer_norm, random_dsm, sigma2
from ....cache import disk_cached
from ....noise import cosine, expected_projected_noise_norm, gaussian_noise, snr

from .common import SEEDS, TEMPS, dsm_batch, unit_detail

__all__ = [
    "AffineConfig",
    "AffineResult",
    "CollapseConfig",
    "CollapseResult",
    "METHODS",
    "WedinConfig",
    "WedinResult",
    "_fit_percoord",
    "_replace_temps",
    "_sin",
    "_top_eigvec",
    "_top_right_2x2",
    "affine_experiment",
    "collapse_experiment",
    "collapse_pairs",
    "wedin_experiment",
]


# ----------------------------------------------------------------------------- Exp. 2
@dataclass(frozen=True)
class CollapseConfig:
    n: int = 64
    nu: float = 0.1
    temperatures: tuple[float, ...] = TEMPS
    t_low: float = 10.0  # gamma < 0.1
    t_high: float = 0.1  # gamma > 1
    input_cos: float = 0.95
    seeds: tuple[int, ...] = SEEDS
    per_seed: int = 100
    seed: int = 4


@dataclass(frozen=True)
class CollapseResult:
    config: CollapseConfig
    gamma: NDArray[np.float64]  # (nT, R) exact gamma of x
    cos_out: NDArray[np.float64]  # (nT, R) <u, v>
    cos_pred: NDArray[np.float64]  # (nT, R) <s, s'> / sqrt((|s|^2 + E|P xi|^2)(|s'|^2 + E|P xi|^2))
    sigma2: NDArray[np.float64]  # (nT, R)


def collapse_pairs(M: NDArray, nu: float, input_cos: float, rng: np.random.Generator):
    r"""One input pair per DSM: unit :math:`x_\perp`, :math:`x'_\perp = \rho x_\perp + \sqrt{1-\rho^2} z`, noise, LN.

    Parameters
    ----------
    M : ndarray, shape (R, n, n)
    nu : float
    input_cos : float
        :math:`\rho = \cos(x_\perp, x'_\perp) \in [-1, 1]`.
    rng : numpy.random.Generator

    Returns
    -------
    cos_out, cos_pred, gamma : ndarray, shape (R,)
    """
    if not -1.0 <= input_cos <= 1.0:
        raise ValueError(f"input_cos must be in [-1, 1], got {input_cos}")
    R, n = M.shape[0], M.shape[-1]
    x = unit_detail(rng, (R,), n)
    z = unit_detail(rng, (R,), n)
    z = z - np.einsum("ri,ri->r", z, x)[:, None] * x
    z /= np.linalg.norm(z, axis=-1, keepdims=True)
    x2 = input_cos * x + np.sqrt(1 - input_cos**2) * z
    s, s2 = np.einsum("rij,rj->ri", M, x), np.einsum("rij,rj->ri", M, x2)
    y = s + gaussian_noise(n, nu, size=R, rng=rng)
    y2 = s2 + gaussian_noise(n, nu, size=R, rng=rng)
    cos_out = np.einsum("ri,ri->r", layer_norm(y), layer_norm(y2)) / n
    e2 = nu**2 * (n - 1) / n
    cos_pred = np.einsum("ri,ri->r", s, s2) / np.sqrt((np.sum(s**2, -1) + e2) * (np.sum(s2**2, -1) + e2))
    return cos_out, cos_pred, snr(s, nu)


@disk_cached
def collapse_experiment(config: CollapseConfig = CollapseConfig()) -> CollapseResult:
    r"""HT Exp. 2: cosines of LN outputs of similar inputs over a temperature grid (``t_low``, ``t_high`` included)."""
    c = config
    Ts = tuple(sorted(set(c.temperatures) | {c.t_low, c.t_high}))
    rng = np.random.default_rng(c.seed)
    out = np.empty((4, len(Ts), len(c.seeds) * c.per_seed))
    for i, T in enumerate(Ts):
        M = dsm_batch(c.n, T, c.seeds, c.per_seed)
        out[0, i], out[1, i], out[2, i] = collapse_pairs(M, c.nu, c.input_cos, rng)
        out[3, i] = sigma2(M)
    return CollapseResult(_replace_temps(c, Ts), out[2], out[0], out[1], out[3])


def _replace_temps(c: CollapseConfig, Ts: tuple[float, ...]) -> CollapseConfig:
    from dataclasses import replace

    return replace(c, temperatures=Ts)


# ----------------------------------------------------------------------------- affine LN
@dataclass(frozen=True)
class AffineConfig:
    n: int = 64
    nu: float = 0.1
    temperatures: tuple[float, ...] = (10.0, 1.0, 0.1)
    seeds: tuple[int, ...] = SEEDS
    train: int = 1000
    test: int = 1000
    input_cos: float = 0.95
    bias_norm: float = 2.0  # demo bias beta, in units of sqrt(n)
    seed: int = 5


METHODS = ("none", "scalar gain", "per-coord gain+bias", "full linear (reference)", "large fixed bias (demo)")


@dataclass(frozen=True)
class AffineResult:
    config: AffineConfig
    gamma: NDArray[np.float64]  # (nT, n_seeds) median gamma of the test inputs
    align: NDArray[np.float64]  # (nT, n_seeds, n_methods) mean held-out cos(output, clean LN(s))
    mutual: NDArray[np.float64]  # (nT, n_seeds, n_methods) mean cos between outputs of similar test pairs
    gain_spread: NDArray[np.float64]  # (nT, n_seeds) sd / mean of fitted per-coordinate gains


def _fit_percoord(yh: NDArray, c: NDArray) -> tuple[NDArray, NDArray]:
    """Least squares ``c_i ~ g_i yh_i + b_i`` coordinate by coordinate; yh, c shape (..., m, n)."""
    ym, cm = yh.mean(axis=-2, keepdims=True), c.mean(axis=-2, keepdims=True)
    g = ((yh - ym) * (c - cm)).sum(axis=-2) / ((yh - ym) ** 2).sum(axis=-2)
    return g, cm[..., 0, :] - g * ym[..., 0, :]


@disk_cached
def affine_experiment(config: AffineConfig = AffineConfig()) -> AffineResult:
    r"""Fit affine LayerNorm maps to recover the clean output :math:`\mathrm{LN}(Mx_\perp)` from :math:`\mathrm{LN}(Mx_\perp+\xi)`.

    For each temperature and seed one DSM :math:`M` (a layer), ``train`` inputs to fit and
    ``test`` held-out input pairs (cosine ``input_cos``). Fitted by least squares against the
    clean LN output: a scalar gain, a per-coordinate gain and bias (:math:`2n` parameters),
    and, as a reference beyond LayerNorm, a full linear map with bias (:math:`n^2+n`).
    Reported on held-out data: alignment (cosine with the clean LN output) and mutual cosine
    of the outputs of the two inputs of a pair; plus a large fixed bias as a demonstration that
    mutual cosine can rise without any alignment.
    """
    c = config
    rng = np.random.default_rng(c.seed)
    nT, nS, nM = len(c.temperatures), len(c.seeds), len(METHODS)
    align, mutual = np.empty((nT, nS, nM)), np.empty((nT, nS, nM))
    gam, spread = np.empty((nT, nS)), np.empty((nT, nS))
    beta = unit_detail(rng, (), c.n) * c.bias_norm * np.sqrt(c.n)
    for i, T in enumerate(c.temperatures):
        M = np.stack([random_dsm(c.n, T, rng=s, warn=False) for s in c.seeds])  # (S, n, n)
        xtr = unit_detail(rng, (nS, c.train), c.n)
        str_ = np.einsum("sij,smj->smi", M, xtr)
        ytr = layer_norm(str_ + gaussian_noise(c.n, c.nu, size=(nS, c.train), rng=rng))
        ctr = layer_norm(str_)
        g_s = (ytr * ctr).sum(axis=(-2, -1)) / (ytr**2).sum(axis=(-2, -1))  # (S,)
        g_c, b_c = _fit_percoord(ytr, ctr)  # (S, n)
        X1 = np.concatenate([ytr, np.ones((nS, c.train, 1))], axis=-1)
        XtX = np.einsum("ski,skj->sij", X1, X1)
        XtX += 1e-8 * np.trace(XtX, axis1=-2, axis2=-1)[:, None, None] * np.eye(c.n + 1)  # LN outputs sum to 0
        W = np.linalg.solve(XtX, np.einsum("ski,skj->sij", X1, ctr))  # (S, n+1, n) least squares
        spread[i] = g_c.std(axis=-1) / np.abs(g_c.mean(axis=-1))
        x = unit_detail(rng, (nS, c.test), c.n)
        z = center(rng.standard_normal((nS, c.test, c.n)))
        z -= np.einsum("smi,smi->sm", z, x)[..., None] * x
        z /= np.linalg.norm(z, axis=-1, keepdims=True)
        x2 = c.input_cos * x + np.sqrt(1 - c.input_cos**2) * z
        s, s2 = np.einsum("sij,smj->smi", M, x), np.einsum("sij,smj->smi", M, x2)
        gam[i] = np.median(snr(s, c.nu), axis=-1)
        clean = layer_norm(s)
        outs = []
        for y in (layer_norm(s + gaussian_noise(c.n, c.nu, size=(nS, c.test), rng=rng)),
                  layer_norm(s2 + gaussian_noise(c.n, c.nu, size=(nS, c.test), rng=rng))):
            y1 = np.concatenate([y, np.ones(y.shape[:-1] + (1,))], axis=-1)
            outs.append([y, g_s[:, None, None] * y, g_c[:, None, :] * y + b_c[:, None, :],
                         np.einsum("smk,skj->smj", y1, W), y + beta])
        for k in range(nM):
            align[i, :, k] = cosine(outs[0][k], clean).mean(axis=-1)
            mutual[i, :, k] = cosine(outs[0][k], outs[1][k]).mean(axis=-1)
    return AffineResult(c, gam, align, mutual, spread)


# ----------------------------------------------------------------------------- Wedin
@dataclass(frozen=True)
class WedinConfig:
    n: int = 64
    nu: float = 0.1
    samples: int = 1000
    temperature: float = 1.0
    gammas: tuple[float, ...] = (0.05, 0.125, 0.5, 1.0, 2.0, 4.0)
    seeds: tuple[int, ...] = SEEDS
    search_trials: int = 1000
    seed: int = 6


@dataclass(frozen=True)
class WedinResult:
    config: WedinConfig
    sin_data: NDArray[np.float64]  # (n_gamma, n_seeds) sin angle of top right sing. vectors, A = noise data, B = A + 1 s^T
    rhs_data: NDArray[np.float64]  # (n_gamma, n_seeds) ||E|| / Delta
    sin_cov: NDArray[np.float64]  # same, A = noise covariance, B = covariance of signal + noise
    rhs_cov: NDArray[np.float64]
    sin_signal: NDArray[np.float64]  # (n_gamma, n_seeds) sin angle between top vector of B (data) and s
    gap_data: NDArray[np.float64]  # (n_seeds,) Delta = sigma_1(A) - sigma_2(A), data reading
    search_lhs: NDArray[np.float64]  # (search_trials,) ||sin Theta|| on adversarial (A, E) pairs
    search_rhs: NDArray[np.float64]  # ||E|| / Delta (paper's form)
    search_rhs_corr: NDArray[np.float64]  # ||E|| / (Delta - ||E||) (Wedin via Weyl), inf if ||E|| >= Delta


def _top_eigvec(C: NDArray) -> NDArray:
    """Top eigenvector of symmetric matrices, shape (..., n, n) -> (..., n)."""
    return np.linalg.eigh(C)[1][..., -1]


def _sin(v: NDArray, w: NDArray) -> NDArray:
    c = np.abs(np.einsum("...i,...i->...", v, w)) / (np.linalg.norm(v, axis=-1) * np.linalg.norm(w, axis=-1))
    return np.sqrt(np.clip(1 - c**2, 0, 1))


def _top_right_2x2(B: NDArray) -> NDArray:
    """Top right singular vector of 2 x 2 matrices (closed form, batched): shape (..., 2, 2) -> (..., 2)."""
    C = np.einsum("...ki,...kj->...ij", B, B)
    a, b, d = C[..., 0, 0], C[..., 0, 1], C[..., 1, 1]
    lam = (a + d) / 2 + np.sqrt(((a - d) / 2) ** 2 + b**2)
    v = np.stack([b, lam - a], axis=-1)
    alt = np.stack([lam - d, b], axis=-1)
    use_alt = np.linalg.norm(alt, axis=-1) > np.linalg.norm(v, axis=-1)
    v = np.where(use_alt[..., None], alt, v)
    v = np.where((np.linalg.norm(v, axis=-1) == 0)[..., None], np.array([1.0, 0.0]), v)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


@disk_cached
def wedin_experiment(config: WedinConfig = WedinConfig()) -> WedinResult:
    r"""Both sides of :math:`\|\sin\Theta\|\le\|E\|/\Delta` (HT Theorem 3, r = 1) in the paper's application, and a search for violations.

    Application (HT App. B), two readings: *data* -- :math:`A` is the ``samples`` x n matrix of
    projected noise rows :math:`\mathcal P_\perp\xi_k`, :math:`B = A + \mathbf 1 s^\top` (every row
    carries the signal :math:`s = Mx_\perp` with :math:`\|s\| = \gamma\,\mathbb E\|\mathcal P_\perp\xi\|`);
    *covariance* -- :math:`A`, :math:`B` are the sample covariances :math:`A^\top A/R`, :math:`B^\top B/R`.
    Both readings have the same top right singular direction (top eigenvector of the Gram matrix);
    they differ in :math:`\|E\|` and :math:`\Delta`.

    Search (by orthogonal invariance, :math:`A = \mathrm{diag}(\sigma)` with random
    :math:`\sigma_1 > \sigma_2 > \dots`): :math:`E` acts on the top 2 x 2 block with
    :math:`\|E\| < \Delta`, half of the trials :math:`E = \mathrm{diag}(-a, b)`, half a random
    Gaussian block; the top right singular vector of :math:`B` is then that of its 2 x 2 block
    (its top singular value exceeds :math:`\sigma_1-\|E\| > \sigma_3`), computed in closed form.
    """
    c = config
    rng = np.random.default_rng(c.seed)
    nS, nG = len(c.seeds), len(c.gammas)
    E0 = expected_projected_noise_norm(c.n, c.nu)
    M = np.stack([random_dsm(c.n, c.temperature, rng=s, warn=False) for s in c.seeds])
    sdir = np.einsum("sij,sj->si", M, unit_detail(rng, (nS,), c.n))
    sdir /= np.linalg.norm(sdir, axis=-1, keepdims=True)
    A = center(gaussian_noise(c.n, c.nu, size=(nS, c.samples), rng=rng))  # (S, R, n)
    GA = np.einsum("ski,skj->sij", A, A)  # A^T A
    lamA = np.linalg.eigvalsh(GA)[:, ::-1]
    svA = np.sqrt(np.clip(lamA, 0, None))
    gap = svA[:, 0] - svA[:, 1]
    gapC = (lamA[:, 0] - lamA[:, 1]) / c.samples
    vA = _top_eigvec(GA)
    out = np.empty((5, nG, nS))
    colsum = A.sum(axis=1)  # (S, n): 1^T A
    for i, g in enumerate(c.gammas):  # loop over the small gamma grid
        s = g * E0 * sdir  # (S, n)
        # B^T B = A^T A + (1^T A)^T s^T + s (1^T A) + R s s^T
        GB = GA + colsum[:, :, None] * s[:, None, :] + s[:, :, None] * colsum[:, None, :] + c.samples * s[:, :, None] * s[:, None, :]
        vB = _top_eigvec(GB)
        out[0, i] = _sin(vA, vB)
        out[1, i] = np.sqrt(c.samples) * np.linalg.norm(s, axis=-1) / gap  # ||1 s^T||_2 = sqrt(R) ||s||
        out[2, i] = out[0, i]
        out[3, i] = np.linalg.norm((GB - GA) / c.samples, ord=2, axis=(-2, -1)) / gapC
        out[4, i] = _sin(vB, s)
    # adversarial search, closed form on the top 2 x 2 block
    m = c.search_trials
    sig = np.sort(rng.uniform(0, 1, (m, c.n)), axis=-1)[:, ::-1]
    D = sig[:, 0] - sig[:, 1]
    a, b = rng.uniform(0, 1, (2, m)) * D
    E2 = np.zeros((m, 2, 2))
    E2[:, 0, 0], E2[:, 1, 1] = -a, b
    Gr = rng.standard_normal((m, 2, 2))
    Gr *= (rng.uniform(0, 1, m) * D / np.linalg.norm(Gr, ord=2, axis=(-2, -1)))[:, None, None]
    E2 = np.where((np.arange(m) % 2 == 0)[:, None, None], E2, Gr)
    B2 = np.zeros((m, 2, 2))
    B2[:, 0, 0], B2[:, 1, 1] = sig[:, 0], sig[:, 1]
    B2 += E2
    lhs = np.abs(_top_right_2x2(B2)[:, 1])  # sin of the angle to e1
    nE = np.linalg.norm(E2, ord=2, axis=(-2, -1))
    corr = np.where(nE < D, nE / np.where(nE < D, D - nE, 1.0), np.inf)
    return WedinResult(c, out[0], out[1], out[2], out[3], out[4], gap, lhs, nE / D, corr)
