"""The book's own result BK-SIG2T, the experiment: the high-temperature law of sigma_2 for HT's
Algorithm-1 matrices (the law, its pre-registered criteria, the measurement and its summary)."""

from __future__ import annotations

from ..._validate import TemperatureChecked
from dataclasses import dataclass
import numpy as np
from numpy.typing import ArrayLike, NDArray
from ... import q_project, random_dsm, sigma2, singular_values, sinkhorn
from ..._validate import check_dimension, check_positive_scalar
from ...cache import disk_cached

__all__ = [
    "A_MARGIN",
    "C2",
    "C2_FACTOR",
    "FIT_TMIN",
    "LAW_TEMPERATURES",
    "LawConfig",
    "LawResult",
    "LawSummary",
    "MARGIN_FIRST",
    "MARGIN_LAW",
    "MARGIN_SE",
    "TW1_MEAN",
    "Z95",
    "interval_outcome",
    "law_experiment",
    "law_summary",
    "odd_spread_law",
    "q_norm_law",
    "q_norms",
    "sigma2_law",
    "sigma2_law_leading",
]


#: the temperature grid: 13 points log-spaced over [1, 100] (6 per decade)
LAW_TEMPERATURES: tuple[float, ...] = tuple(float(f"{t:.6g}") for t in np.logspace(0, 2, 13))
#: mean of the GOE Tracy-Widom law F_1
TW1_MEAN = -1.2065335745820
#: predicted coefficient of 1/T^2 in the mean of sigma_2 n T / ||Q(d)||_2
C2 = -1.0 / 120.0

# ---- pre-registered criteria. First edition fixed before its first run; the third edition
# (issue 22) replaced the slope window, which antithetic pairs made automatic, by the test of the
# mean 1/T coefficient, and put every comparison on a 95 % interval, before the new numbers ----
#: |law / mean sigma_2 - 1| at the largest T, every n (the closed-form constant)
MARGIN_LAW = 0.02
#: largest allowed relative standard error of the estimated mean sigma_2 in any (n, T) cell:
#: a fifth of MARGIN_LAW, so that the constant's test can decide
MARGIN_SE = MARGIN_LAW / 5
#: |mean(sigma_2 n T / ||Q(d)||_2) - 1| at the largest T, every n (the first-order term)
MARGIN_FIRST = 1e-4
#: per-DSM fits of sigma_2 n T / ||Q(d)||_2 - 1 on [1/T, 1/T^2, 1/T^3] use T >= FIT_TMIN
FIT_TMIN = 3.0
#: "no 1/T term in the mean": the mean 1/T coefficient's 95 % interval lies within +-A_MARGIN
#: (a quarter of |c_2|: at T = 1 a larger 1/T term would rival the predicted 1/T^2 term)
A_MARGIN = abs(-1.0 / 120.0) / 4
#: the fitted 1/T^2 coefficient's 95 % interval must lie within this factor of C2 (either way)
C2_FACTOR = 2.0
#: two-sided 95 % normal quantile for the intervals
Z95 = 1.959963984540054


# ----------------------------------------------------------------------------- the law
def q_norm_law(n: ArrayLike, *, edge: bool = True) -> NDArray[np.float64]:
    r"""Closed-form :math:`\mathbb E\|Q(d)\|_2` for :math:`d_{ij}\sim\mathcal U[0,1]`, :math:`n\times n`.

    Parameters
    ----------
    n : array_like of int, shape (...)
        Matrix sizes (``>= 3``).
    edge : bool, default True
        Include the finite-:math:`n` terms (:math:`n' = n - 3/2` and the Tracy-Widom mean):
        :math:`\kappa(n) = \sqrt{1/12}\,(2\sqrt{n'} + 2^{-2/3}\,\mathbb E[\mathrm{TW}_1]\,n'^{-1/6})`.
        Otherwise the leading Marchenko-Pastur edge :math:`2\sqrt{n/12}`.

    Returns
    -------
    ndarray, shape (...)
    """
    n_arr = np.asarray(n, dtype=np.float64)
    if n_arr.size == 0 or not np.all(np.isfinite(n_arr)) or np.any(n_arr < 3):
        raise ValueError(f"n must be finite and >= 3, got {n!r}")
    if not edge:
        return 2.0 * np.sqrt(n_arr / 12.0)
    m = n_arr - 1.5
    return np.sqrt(1.0 / 12.0) * (2.0 * np.sqrt(m) + 2.0 ** (-2.0 / 3.0) * TW1_MEAN * m ** (-1.0 / 6.0))


def _positive_temperatures(temperature: ArrayLike) -> NDArray[np.float64]:
    """``temperature`` as a float64 array; ValueError unless every entry is finite and positive."""
    T = np.asarray(temperature, dtype=np.float64)
    if np.any(~np.isfinite(T)) or np.any(T <= 0):
        raise ValueError("temperature must be finite and positive")
    return T


def sigma2_law_leading(n: ArrayLike, temperature: ArrayLike) -> NDArray[np.float64]:
    r"""Leading high-temperature law :math:`\sigma_2 \approx 1/(T\sqrt{3n})`, broadcast over ``n`` and ``T``.

    Parameters
    ----------
    n : array_like, shape (...)
    temperature : array_like, shape (...), positive

    Returns
    -------
    ndarray, broadcast shape of ``n`` and ``temperature``
    """
    T = _positive_temperatures(temperature)
    n_arr = np.asarray(n, dtype=np.float64)
    if np.any(~np.isfinite(n_arr)) or np.any(n_arr < 3):
        raise ValueError(f"n must be finite and >= 3, got {n!r}")
    return 1.0 / (T * np.sqrt(3.0 * n_arr))


def sigma2_law(
    n: ArrayLike, temperature: ArrayLike, *, edge: bool = True, second_order: bool = True
) -> NDArray[np.float64]:
    r"""The law :math:`\mathbb E\,\sigma_2 \approx \kappa(n)/(nT)\,(1 + c_2/T^2)`, :math:`c_2 = -1/120`.

    Parameters
    ----------
    n : array_like, shape (...)
        Matrix sizes (``>= 3``).
    temperature : array_like, shape (...)
        Temperatures :math:`T > 0`.
    edge : bool, default True
        Use :math:`\kappa(n)` with its edge terms (:func:`q_norm_law`); otherwise
        :math:`2\sqrt{n/12}`, which gives :math:`1/(T\sqrt{3n})`.
    second_order : bool, default True
        Include the factor :math:`1 + c_2/T^2`.

    Returns
    -------
    ndarray, broadcast shape of ``n`` and ``temperature``
    """
    T = _positive_temperatures(temperature)
    n_arr = np.asarray(n, dtype=np.float64)
    out = q_norm_law(n_arr, edge=edge) / (n_arr * T)
    return out * (1.0 + C2 / T**2) if second_order else out


def odd_spread_law(n: ArrayLike) -> NDArray[np.float64]:
    r"""Predicted standard deviation of the per-matrix :math:`1/T` coefficient, :math:`1/(4\sqrt{15n})`."""
    n_arr = np.asarray(n, dtype=np.float64)
    if np.any(n_arr < 3):
        raise ValueError(f"n must be >= 3, got {n!r}")
    return 1.0 / (4.0 * np.sqrt(15.0 * n_arr))


# ----------------------------------------------------------------------------- experiment
@dataclass(frozen=True)
class LawConfig(TemperatureChecked):
    """Algorithm-1 DSMs at each (n, T), each DSM an independent draw of the costs (the unit of
    replication), the same costs at every T; plus ``q_draws[i]`` further independent cost draws at
    ``ns[i]`` that pin down the mean of ||Q(d)||_2 (no Sinkhorn needed)."""

    ns: tuple[int, ...] = (16, 32, 64, 128, 256)
    dsms: tuple[int, ...] = (4000, 4000, 1000, 400, 200)
    q_draws: tuple[int, ...] = (100000, 40000, 16000, 6400, 2500)
    temperatures: tuple[float, ...] = LAW_TEMPERATURES
    seed: int = 20264
    n_iter: int = 200
    tol: float = 1e-12


@dataclass(frozen=True)
class LawResult:
    """Per size ``ns[i]`` (tuples of arrays, ragged in the number of draws).

    Attributes
    ----------
    temperatures : (nT,)
    sigma2 : tuple of (nT, R_i) arrays, sigma_2 of Sinkhorn(-d/T) for the R_i = ``dsms[i]`` DSMs
    q_norm : tuple of (R_i,) arrays, ||Q(d)||_2 of those costs
    q_big : tuple of (``q_draws[i]``,) arrays, ||Q(d)||_2 of independent further costs
    max_err : (len(ns), nT) largest marginal error of the Sinkhorn runs
    """

    config: LawConfig
    temperatures: np.ndarray
    sigma2: tuple[np.ndarray, ...]
    q_norm: tuple[np.ndarray, ...]
    q_big: tuple[np.ndarray, ...]
    max_err: np.ndarray


def _check_config(config: LawConfig) -> None:
    if not (len(config.ns) == len(config.dsms) == len(config.q_draws)) or not config.ns:
        raise ValueError(
            f"config: ns, dsms and q_draws must have the same non-zero length, got {config.ns}, {config.dsms}, "
            f"{config.q_draws}"
        )
    for n, r, q in zip(config.ns, config.dsms, config.q_draws):
        check_dimension(n)
        if n < 3 or r < 2 or q < 2:
            raise ValueError(f"config: need n >= 3, dsms >= 2 and q_draws >= 2, got n = {n}, {r}, {q}")
    for T in config.temperatures:
        check_positive_scalar(T, "temperature")


#: matrix entries per chunk of the ||Q(d)||_2 draws (32 MiB of float64)
_Q_CHUNK_ENTRIES = 1 << 22


def q_norms(n: int, count: int, rng: np.random.Generator) -> NDArray[np.float64]:
    """||Q(d)||_2 of ``count`` independent uniform cost matrices, drawn chunk by chunk from ``rng``."""
    step = max(1, _Q_CHUNK_ENTRIES // (n * n))
    out = [singular_values(q_project(rng.random((min(step, count - i), n, n))))[:, 0] for i in range(0, count, step)]
    return np.concatenate(out)


@disk_cached
def law_experiment(config: LawConfig = LawConfig()) -> LawResult:
    """sigma_2 of Algorithm-1 DSMs and ||Q(d)||_2 at every (n, T), same costs at every T."""
    _check_config(config)
    s2_all, q_all, qb_all, errs = [], [], [], []
    for n, R, Nq in zip(config.ns, config.dsms, config.q_draws):
        seed = (config.seed, n)
        d = np.random.default_rng(seed).random((R, n, n))  # the costs random_dsm draws below
        q_all.append(singular_values(q_project(d))[:, 0])
        qb_all.append(q_norms(n, Nq, np.random.default_rng((config.seed, n, 1))))
        s2_n, err_n = [], []
        for T in config.temperatures:
            M, info = random_dsm(n, T, size=R, rng=np.random.default_rng(seed), n_iter=config.n_iter,
                                 tol=config.tol, return_info=True, warn=False)
            s2_n.append(sigma2(M))
            err_n.append(float(info.err.max()))
        s2_all.append(np.array(s2_n))
        errs.append(err_n)
    return LawResult(config, np.array(config.temperatures), tuple(s2_all), tuple(q_all), tuple(qb_all),
                     np.array(errs))


# ----------------------------------------------------------------------------- summary
@dataclass(frozen=True)
class LawSummary:
    """Derived statistics, shape (len(ns), nT) unless noted.

    Attributes
    ----------
    ns : (len(ns),)
    temperatures : (nT,)
    mean : estimated mean sigma_2, (mean ||Q(d)||_2 over all draws + mean of ||Q(d)||_2 g over the DSMs)
        / (n T), with g = sigma_2 n T / ||Q(d)||_2 - 1 (a control variate: the Sinkhorn-free draws carry
        the spread of ||Q(d)||_2)
    se_rel : standard error of ``mean`` over ``mean`` (the DSM, or the cost draw, as unit)
    rho : mean over the DSMs of g (the finite-T part of the law); rho_se its standard error
    a_mean, a_se : (len(ns),) mean and SE of the per-DSM 1/T coefficient of g (fit on T >= FIT_TMIN)
    a_sd : (len(ns),) its standard deviation over DSMs (predicted 1/(4 sqrt(15 n)))
    c2, c2_se : (len(ns),) mean and SE of the per-DSM 1/T^2 coefficient (predicted -1/120)
    q_mean, q_se : (len(ns),) mean ||Q(d)||_2 over the Sinkhorn-free draws, and its SE
    err_law, err_leading, err_first : law / mean - 1 for :func:`sigma2_law`,
        :func:`sigma2_law_leading` and the first-order law with kappa(n) (no 1/T^2 factor)
    """

    ns: np.ndarray
    temperatures: np.ndarray
    mean: np.ndarray
    se_rel: np.ndarray
    rho: np.ndarray
    rho_se: np.ndarray
    a_mean: np.ndarray
    a_se: np.ndarray
    a_sd: np.ndarray
    c2: np.ndarray
    c2_se: np.ndarray
    q_mean: np.ndarray
    q_se: np.ndarray
    err_law: np.ndarray
    err_leading: np.ndarray
    err_first: np.ndarray


def _se(x: NDArray[np.float64], axis: int = -1) -> NDArray[np.float64]:
    return x.std(axis=axis, ddof=1) / np.sqrt(x.shape[axis])


def law_summary(result: LawResult) -> LawSummary:
    """Statistics of :class:`LawResult` used by the check, the tables and the figures."""
    T = np.asarray(result.temperatures, dtype=np.float64)
    ns = np.asarray(result.config.ns)
    fit = T >= FIT_TMIN
    if fit.sum() < 4:
        raise ValueError(f"need at least four temperatures >= {FIT_TMIN} for the per-DSM fit")
    X = np.stack([T[fit] ** -1.0, T[fit] ** -2.0, T[fit] ** -3.0], axis=1)
    keys = ("mean", "se", "rho", "rho_se", "a", "a_se", "a_sd", "c2", "c2_se", "q", "q_se")
    rows: dict[str, list] = {k: [] for k in keys}
    for n, s2, q, qb in zip(ns, result.sigma2, result.q_norm, result.q_big):
        g = s2 * n * T[:, None] / q - 1.0  # (nT, R)
        qg = q * g
        total = qb.mean() + qg.mean(axis=-1)  # estimated E[sigma_2] n T
        se = np.sqrt(qb.var(ddof=1) / qb.size + qg.var(axis=-1, ddof=1) / qg.shape[-1])
        rows["mean"].append(total / (n * T))
        rows["se"].append(se / total)
        rows["rho"].append(g.mean(axis=-1))
        rows["rho_se"].append(_se(g))
        coef = np.linalg.lstsq(X, g[fit], rcond=None)[0]  # (3, R): per-DSM 1/T, 1/T^2, 1/T^3
        rows["a"].append(float(coef[0].mean()))
        rows["a_se"].append(float(_se(coef[0])))
        rows["a_sd"].append(float(coef[0].std(ddof=1)))
        rows["c2"].append(float(coef[1].mean()))
        rows["c2_se"].append(float(_se(coef[1])))
        rows["q"].append(float(qb.mean()))
        rows["q_se"].append(float(_se(qb)))
    a = {k: np.array(v) for k, v in rows.items()}
    law = sigma2_law(ns[:, None], T[None, :])
    lead = sigma2_law_leading(ns[:, None], T[None, :])
    first = sigma2_law(ns[:, None], T[None, :], second_order=False)
    return LawSummary(
        ns=ns, temperatures=T, mean=a["mean"], se_rel=a["se"], rho=a["rho"], rho_se=a["rho_se"],
        a_mean=a["a"], a_se=a["a_se"], a_sd=a["a_sd"], c2=a["c2"], c2_se=a["c2_se"], q_mean=a["q"],
        q_se=a["q_se"], err_law=law / a["mean"] - 1.0, err_leading=lead / a["mean"] - 1.0,
        err_first=first / a["mean"] - 1.0,
    )


def interval_outcome(value: ArrayLike, se: ArrayLike, lo: float, hi: float, z: float = Z95) -> NDArray[np.str_]:
    """Pre-registered three-way outcome of a 95 % interval against the window ``[lo, hi]``.

    Returns
    -------
    ndarray of str
        ``"pass"`` if ``value +- z se`` lies inside ``[lo, hi]``, ``"fail"`` if it lies wholly
        outside, else ``"undecided"``.
    """
    v, s = np.asarray(value, dtype=float), np.asarray(se, dtype=float)
    if np.any(s < 0) or lo > hi:
        raise ValueError("need se >= 0 and lo <= hi")
    a, b = v - z * s, v + z * s
    out = np.full(v.shape, "undecided", dtype=object)
    out[(a >= lo) & (b <= hi)] = "pass"
    out[(b < lo) | (a > hi)] = "fail"
    return out.astype(str)
