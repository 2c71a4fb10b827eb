"""Chapter 3, Lemma 3 (HT-L3), Eq. 4's SNR (HT-SNR), Levy's bound (HT-LEVY) and Theorem 1 as stated (HT-T1)."""

from __future__ import annotations

from dataclasses import dataclass
import numpy as np
from numpy.typing import NDArray
from scipy import optimize
from .... import center, sigma2
from ....cache import disk_cached
from ....noise import cosine, expected_projected_noise_norm, gaussian_noise, normalized_distance, snr, snr_approx, sphere_coordinate_tail

from .common import SEEDS, TEMPS, clopper_pearson, dsm_batch, unit_detail

__all__ = [
    "Lemma3Config",
    "Lemma3Result",
    "LevyConfig",
    "LevyResult",
    "SNRConfig",
    "SNRResult",
    "Theorem1Config",
    "Theorem1Result",
    "_ratio_2d",
    "lemma3_experiment",
    "lemma3_sup",
    "levy_experiment",
    "snr_experiment",
    "theorem1_cells",
    "theorem1_experiment",
]


# ----------------------------------------------------------------------------- Lemma 3
def lemma3_sup(r: NDArray | float) -> NDArray[np.float64]:
    r"""Closed-form supremum of :math:`\|a/\|a\| - b/\|b\|\| \,/\, (\|\delta\|/\|b\|)` at fixed :math:`r = \|\delta\|/\|b\|`.

    For :math:`r \le 1` the largest angle between :math:`a = b + \delta` and :math:`b` is
    :math:`\arcsin r` (``delta`` orthogonal to ``a``), giving :math:`2\sin(\tfrac12\arcsin r)/r`;
    for :math:`r > 1`, :math:`a` can point against :math:`b`, giving :math:`2/r`. The supremum
    over all :math:`r` is 2 (as :math:`r \downarrow 1`), and :math:`4\sin(\pi/12)\approx 1.035`
    under HT's side condition :math:`r \le 1/2`.
    """
    r = np.asarray(r, dtype=float)
    if np.any(r <= 0):
        raise ValueError("r must be positive")
    rc = np.minimum(r, 1.0)
    return np.where(r <= 1.0, 2.0 * np.sin(np.arcsin(rc) / 2.0) / r, 2.0 / r)


def _ratio_2d(r: float, phi: float) -> float:
    """Lemma 3 ratio for ``b = e1``, ``delta = r (cos phi, sin phi)``."""
    a = np.array([1.0 + r * np.cos(phi), r * np.sin(phi)])
    na = np.hypot(*a)
    if na == 0:
        return 2.0 / r
    return float(np.hypot(a[0] / na - 1.0, a[1] / na) / r)


@dataclass(frozen=True)
class Lemma3Config:
    n: int = 64
    trials: int = 1000
    seed: int = 0
    r_min: float = 1e-3
    r_max: float = 1e2
    n_r: int = 41
    n_starts: int = 2
    full_every: int = 8  # L-BFGS over R^n at every 5th r of the grid (and at r = 0.5, 0.999, 1.001)


@dataclass(frozen=True)
class Lemma3Result:
    config: Lemma3Config
    r: NDArray[np.float64]  # (n_r,) ||delta|| / ||b||
    ratio_random: NDArray[np.float64]  # (n_r, trials) random a, b in R^n
    ratio_opt: NDArray[np.float64]  # (n_r,) max over the angle (bounded 1-D search)
    ratio_full: NDArray[np.float64]  # (n_r,) max over delta in R^n (L-BFGS, random starts); NaN where not run
    de_inside: NDArray[np.float64]  # (3,) r, angle, ratio: global search on r <= 1/2
    de_outside: NDArray[np.float64]  # (3,) r, angle, ratio: global search on r > 1/2


@disk_cached
def lemma3_experiment(config: Lemma3Config = Lemma3Config()) -> Lemma3Result:
    r"""Sample and search the ratio :math:`\|a/\|a\|-b/\|b\|\|/(\|\delta\|/\|b\|)` of HT Lemma 3.

    Three searches: (i) random :math:`b` and random :math:`\delta` of prescribed relative size
    :math:`r` in :math:`\mathbb R^n` (all trials at once); (ii) for each :math:`r`, a bounded
    search over the angle between :math:`\delta` and :math:`b` (by rotation invariance the
    ratio depends only on :math:`r` and that angle); (iii) for each :math:`r`, L-BFGS over
    :math:`\delta\in\mathbb R^n` from random starts; and differential evolution over
    :math:`(r, \text{angle})` inside (:math:`r\le 1/2`) and outside the side condition.
    """
    c = config
    rng = np.random.default_rng(c.seed)
    r = np.logspace(np.log10(c.r_min), np.log10(c.r_max), c.n_r)
    r = np.unique(np.concatenate([r, [0.5, 0.999, 1.001, 1.01]]))
    b = rng.standard_normal((r.size, c.trials, c.n))
    z = rng.standard_normal((r.size, c.trials, c.n))
    delta = z / np.linalg.norm(z, axis=-1, keepdims=True) * (r[:, None, None] * np.linalg.norm(b, axis=-1, keepdims=True))
    ratio_random = normalized_distance(b + delta, b) / r[:, None]

    ratio_opt = np.empty(r.size)
    ratio_full = np.full(r.size, np.nan)
    full_idx = set(range(0, r.size, c.full_every)) | {int(np.argmin(np.abs(r - v))) for v in (0.5, 0.999, 1.001)}
    b0 = np.zeros(c.n)
    b0[0] = 1.0
    for i, ri in enumerate(r):  # loop over the small grid of r, not over trials
        res = optimize.minimize_scalar(lambda p: -_ratio_2d(ri, p), bounds=(0.0, np.pi), method="bounded",
                                       options={"xatol": 1e-10})
        ratio_opt[i] = max(-res.fun, _ratio_2d(ri, np.pi), _ratio_2d(ri, np.pi / 2))

        if i not in full_idx:
            continue

        def neg(zz: NDArray, ri: float = ri) -> float:
            d = ri * zz / np.linalg.norm(zz)
            return -float(normalized_distance(b0 + d, b0) / ri)

        best = 0.0
        for _ in range(c.n_starts):
            out = optimize.minimize(neg, rng.standard_normal(c.n), method="L-BFGS-B")
            best = max(best, -out.fun)
        ratio_full[i] = best

    def de(lo: float, hi: float) -> NDArray[np.float64]:
        f = lambda p: -_ratio_2d(10.0 ** p[0], p[1])  # noqa: E731
        out = optimize.differential_evolution(f, [(np.log10(lo), np.log10(hi)), (0.0, np.pi)], seed=c.seed, tol=1e-12,
                                              maxiter=100, polish=True)
        return np.array([10.0 ** out.x[0], out.x[1], -out.fun])

    return Lemma3Result(c, r, ratio_random, ratio_opt, ratio_full, de(c.r_min, 0.5), de(0.5 + 1e-9, c.r_max))


# ----------------------------------------------------------------------------- SNR, Eq. 4
@dataclass(frozen=True)
class SNRConfig:
    n: int = 64
    nu: float = 0.1
    temperatures: tuple[float, ...] = TEMPS
    seeds: tuple[int, ...] = SEEDS
    per_seed: int = 100
    x_norm: float = 1.0
    noise_samples: int = 100_000
    seed: int = 1


@dataclass(frozen=True)
class SNRResult:
    config: SNRConfig
    sigma2: NDArray[np.float64]  # (nT, R)
    gamma_exact: NDArray[np.float64]  # (nT, R) ||M x_perp|| / E||P xi||, random x_perp
    gamma_approx: NDArray[np.float64]  # (nT, R) sigma_2 ||x_perp|| / nu
    gamma_top: NDArray[np.float64]  # (nT, R) exact gamma for the top right singular vector on V_perp (first seed; NaN elsewhere)
    e_norm: float  # exact E||P xi||
    e_norm_mc: float  # sampled mean of ||P xi||
    e_norm_mc_se: float  # its standard error


@disk_cached
def snr_experiment(config: SNRConfig = SNRConfig()) -> SNRResult:
    r"""Both sides of HT Eq. 4 for Algorithm-1 DSMs and random unit-norm :math:`x_\perp` (scaled by ``x_norm``).

    Also the exact :math:`\gamma` for the worst-case input, the top right singular vector of
    :math:`M\mathcal P_\perp`, and a sampled check of :math:`\mathbb E\|\mathcal P_\perp\xi\|`.
    """
    c = config
    rng = np.random.default_rng(c.seed)
    R = len(c.seeds) * c.per_seed
    x = c.x_norm * unit_detail(rng, (R,), c.n)
    P = np.eye(c.n) - 1.0 / c.n
    s2, ge, ga, gt = (np.empty((len(c.temperatures), R)) for _ in range(4))
    for i, T in enumerate(c.temperatures):
        M = dsm_batch(c.n, T, c.seeds, c.per_seed)
        s2[i] = sigma2(M)
        ge[i] = snr(np.einsum("rij,rj->ri", M, x), c.nu)
        ga[i] = snr_approx(s2[i], c.x_norm, c.nu)
        sv = np.linalg.svd(M[: c.per_seed] @ P, compute_uv=False)  # first seed's block suffices
        gt[i] = np.nan
        gt[i, : c.per_seed] = sv[:, 0] * c.x_norm / expected_projected_noise_norm(c.n, c.nu)  # ||M v_top|| = sigma_1(M P)
    xi = gaussian_noise(c.n, c.nu, size=c.noise_samples, rng=rng)
    norms = np.linalg.norm(center(xi), axis=-1)
    return SNRResult(c, s2, ge, ga, gt, expected_projected_noise_norm(c.n, c.nu), float(norms.mean()),
                     float(norms.std(ddof=1) / np.sqrt(norms.size)))


# ----------------------------------------------------------------------------- Lévy
@dataclass(frozen=True)
class LevyConfig:
    n: int = 64
    pairs: int = 100_000
    seed: int = 2
    eps: tuple[float, ...] = tuple(float(f"{e:.4g}") for e in np.linspace(0.02, 1.0, 50))


@dataclass(frozen=True)
class LevyResult:
    config: LevyConfig
    eps: NDArray[np.float64]  # (m,)
    exact: NDArray[np.float64]  # (m,) exact P(|<u,v>| >= eps) (Beta law)
    count: NDArray[np.int64]  # (m,) sampled exceedances of |<u,v>| >= eps
    bound: NDArray[np.float64]  # (m,) 2 exp(-(n-2) eps^2 / 2)
    dots: NDArray[np.float64]  # (pairs,) sampled <u,v>


@disk_cached
def levy_experiment(config: LevyConfig = LevyConfig()) -> LevyResult:
    r"""Exact and sampled :math:`P(|\langle u, v\rangle| \ge \varepsilon)` for :math:`u, v` from Lemma 1 (projected Gaussian noise)."""
    c = config
    rng = np.random.default_rng(c.seed)
    u = center(rng.standard_normal((c.pairs, c.n)))
    v = center(rng.standard_normal((c.pairs, c.n)))
    dots = cosine(u, v)
    eps = np.asarray(c.eps, dtype=float)
    count = (np.abs(dots)[None, :] >= eps[:, None]).sum(axis=1)
    return LevyResult(c, eps, sphere_coordinate_tail(eps, c.n - 1), count, 2 * np.exp(-(c.n - 2) * eps**2 / 2), dots)


# ----------------------------------------------------------------------------- Theorem 1
@dataclass(frozen=True)
class Theorem1Config:
    n: int = 64
    nu: float = 0.1
    temperature: float = 1.0
    gammas: tuple[float, ...] = (0.0, 0.005, 0.01, 0.02, 0.04, 0.0625, 0.1, 0.125, 0.25, 0.5)
    eps: tuple[float, ...] = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.8)
    seeds: tuple[int, ...] = SEEDS
    per_seed: int = 100
    noise_reps: int = 20
    seed: int = 3


@dataclass(frozen=True)
class Theorem1Result:
    config: Theorem1Config
    cos: NDArray[np.float64]  # (n_gamma, R * reps) <u, v> for identical inputs x' = x
    xi_norm: NDArray[np.float64]  # (n_gamma, R * reps) ||P xi||
    u_shift: NDArray[np.float64]  # (n_gamma, R * reps) ||u - u_noise||
    e_norm: float


@disk_cached
def theorem1_experiment(config: Theorem1Config = Theorem1Config()) -> Theorem1Result:
    r"""Output cosines :math:`\langle u, v\rangle` for a grid of :math:`\gamma` (HT Theorem 1).

    The worst case of the theorem: identical inputs :math:`x' = x` (same signal
    :math:`s = M x_\perp`), :math:`M` from Algorithm 1 at ``temperature``, :math:`\|x_\perp\|` chosen
    so that :math:`\|s\| = \gamma\,\mathbb E\|\mathcal P_\perp\xi\|` exactly; ``noise_reps`` independent
    noise pairs :math:`\xi,\xi'` per DSM.
    """
    c = config
    rng = np.random.default_rng(c.seed)
    R = len(c.seeds) * c.per_seed
    M = dsm_batch(c.n, c.temperature, c.seeds, c.per_seed)
    x = unit_detail(rng, (R,), c.n)
    s_dir = np.einsum("rij,rj->ri", M, x)
    s_dir = np.repeat(s_dir / np.linalg.norm(s_dir, axis=-1, keepdims=True), c.noise_reps, axis=0)
    E = expected_projected_noise_norm(c.n, c.nu)
    m = R * c.noise_reps
    cos, xin, shift = (np.empty((len(c.gammas), m)) for _ in range(3))
    for i, g in enumerate(c.gammas):  # loop over the small gamma grid
        xi = center(gaussian_noise(c.n, c.nu, size=m, rng=rng))
        xi2 = center(gaussian_noise(c.n, c.nu, size=m, rng=rng))
        s = g * E * s_dir
        a, b = s + xi, s + xi2
        u = a / np.linalg.norm(a, axis=-1, keepdims=True)
        v = b / np.linalg.norm(b, axis=-1, keepdims=True)
        cos[i] = np.einsum("ri,ri->r", u, v)
        xin[i] = np.linalg.norm(xi, axis=-1)
        shift[i] = np.linalg.norm(u - xi / xin[i][:, None], axis=-1)
    return Theorem1Result(c, cos, xin, shift, E)


def theorem1_cells(result: Theorem1Result, alpha: float = 0.05) -> dict[str, NDArray]:
    r"""Per (:math:`\gamma`, :math:`\varepsilon`) cell: empirical failure probability, its CI, the bound and the status.

    The bound is :math:`2e^{-n\varepsilon^2/2}` (:math:`\delta\to 0`: the statement is for every
    :math:`\delta\in(0,1)`). Status codes: 0 informative (bound < 1 and
    :math:`\varepsilon+8\gamma<1`), 1 vacuous, 2 violated (lower CI above the bound), -1 outside
    the theorem (:math:`\gamma > 1/8`).

    Returns
    -------
    dict with ``p_fail``, ``lo``, ``hi``, ``bound``, ``status`` (shape (n_gamma, n_eps)),
    ``gamma``, ``eps``.
    """
    c = result.config
    g = np.asarray(c.gammas)[:, None]
    e = np.asarray(c.eps)[None, :]
    m = result.cos.shape[1]
    k = (np.abs(result.cos)[:, None, :] > (e + 8 * g)[:, :, None]).sum(axis=-1)
    lo, hi = clopper_pearson(k, m, alpha)
    bound = np.broadcast_to(2 * np.exp(-c.n * e**2 / 2), k.shape)
    status = np.where((bound < 1) & (e + 8 * g < 1), 0, 1)
    status = np.where(lo > bound, 2, status)
    status = np.where(g > 0.125 + 1e-12, -1, status)
    return {"p_fail": k / m, "lo": lo, "hi": hi, "bound": bound, "status": status,
            "gamma": np.asarray(c.gammas), "eps": np.asarray(c.eps)}
