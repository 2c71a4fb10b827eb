"""The book's own result BK-SIG2T, the experiment: the high-temperature law of sigma_2 for HT's
Algorithm-1 matrices (the law, its pre-registered criteria, the measurement and its summary)."""

from __future__ import annotations

from ..._validate import check_config_temperatures
from dataclasses import dataclass
import numpy as np
from numpy.typing import ArrayLike, NDArray
from ... import q_project, random_dsm, sigma2, singular_values, sinkhorn
from ..._validate import check_dimension, check_positive_scalar
from ...cache import disk_cached



#: the temperature grid: 13 points log-spaced over [1, 100] (6 per decade)
LAW_TEMPERATURES: tuple[float, ...] = tuple(float(f"{t:.6g}") for t in np.logspace(0, 2, 13))
#: mean of the GOE Tracy-Widom law F_1
TW1_MEAN = -1.2065335745820
#: predicted coefficient of 1/T^2 in the mean of sigma_2 n T / ||Q(d)||_2
C2 = -1.0 / 120.0

# ---- pre-registered criteria (fixed in the code before the experiment was first run) ----
#: largest allowed relative standard error of the mean sigma_2 in any (n, T) cell
MARGIN_SE = 0.005
#: |mean(sigma_2 n T / ||Q(d)||_2) - 1| at the largest T, every n (the first-order term)
MARGIN_FIRST = 1e-4
#: log-log slope of |mean(sigma_2 n T / ||Q(d)||_2) - 1| against T, fitted on T >= FIT_TMIN
SLOPE_RANGE = (-2.3, -1.7)
FIT_TMIN = 3.0
#: the fitted 1/T^2 coefficient must lie within this factor of C2 (either way)
C2_FACTOR = 2.0
#: |law / mean sigma_2 - 1| at the largest T, every n (the closed-form constant)
MARGIN_LAW = 0.02


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
    T = np.asarray(temperature, dtype=np.float64)
    if np.any(~np.isfinite(T)) or np.any(T <= 0):
        raise ValueError("temperature must be finite and positive")
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
    T = np.asarray(temperature, dtype=np.float64)
    if np.any(~np.isfinite(T)) or np.any(T <= 0):
        raise ValueError("temperature must be finite and positive")
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
class LawConfig:
    """Algorithm-1 DSMs at each (n, T); ``pairs[i]`` antithetic pairs (d, 1 - d) at ``ns[i]``.

    R = 2 * pairs matrices per cell; the pairs are the independent units.
    """

    ns: tuple[int, ...] = (16, 32, 64, 128, 256)
    pairs: tuple[int, ...] = (500, 500, 500, 100, 50)
    temperatures: tuple[float, ...] = LAW_TEMPERATURES
    seed: int = 20263
    n_iter: int = 200
    tol: float = 1e-12

    def __post_init__(self) -> None:
        check_config_temperatures(self)


@dataclass(frozen=True)
class LawResult:
    """Per size ``ns[i]`` (tuples of arrays, ragged in the number of pairs P_i).

    Attributes
    ----------
    temperatures : (nT,)
    sigma2 : tuple of (nT, 2, P_i) arrays, sigma_2 of Sinkhorn(-d/T) ([:, 0]) and of
        Sinkhorn(-(1 - d)/T) ([:, 1])
    q_norm : tuple of (P_i,) arrays, ||Q(d)||_2 (= ||Q(1 - d)||_2)
    max_err : (len(ns), nT) largest marginal error of the Sinkhorn runs
    """

    config: LawConfig
    temperatures: np.ndarray
    sigma2: tuple[np.ndarray, ...]
    q_norm: tuple[np.ndarray, ...]
    max_err: np.ndarray


def _check_config(config: LawConfig) -> None:
    if len(config.ns) != len(config.pairs) or not config.ns:
        raise ValueError(
            f"config: ns and pairs must have the same non-zero length, got {config.ns}, {config.pairs}"
        )
    for n, p in zip(config.ns, config.pairs):
        check_dimension(n)
        if n < 3 or p < 2:
            raise ValueError(f"config: need n >= 3 and pairs >= 2, got n = {n}, pairs = {p}")
    for T in config.temperatures:
        check_positive_scalar(T, "temperature")


@disk_cached
def law_experiment(config: LawConfig = LawConfig()) -> LawResult:
    """sigma_2 of Algorithm-1 DSMs and ||Q(d)||_2 at every (n, T), antithetic pairs, same costs at every T."""
    _check_config(config)
    s2_all, q_all, errs = [], [], []
    for n, P in zip(config.ns, config.pairs):
        seed = (config.seed, n)
        d = np.random.default_rng(seed).random((P, n, n))  # the costs random_dsm draws below
        q_all.append(singular_values(q_project(d))[:, 0])
        s2_n, err_n = [], []
        for T in config.temperatures:
            M1, i1 = random_dsm(n, T, size=P, rng=np.random.default_rng(seed), n_iter=config.n_iter,
                                tol=config.tol, return_info=True, warn=False)
            M2, i2 = sinkhorn(-(1.0 - d) / T, n_iter=config.n_iter, tol=config.tol,
                              return_info=True, warn=False)
            s2_n.append(sigma2(np.stack([M1, M2])))
            err_n.append(max(float(i1.err.max()), float(i2.err.max())))
        s2_all.append(np.array(s2_n))
        errs.append(err_n)
    return LawResult(config, np.array(config.temperatures), tuple(s2_all), tuple(q_all), np.array(errs))


# ----------------------------------------------------------------------------- summary
@dataclass(frozen=True)
class LawSummary:
    """Derived statistics, shape (len(ns), nT) unless noted.

    Attributes
    ----------
    ns : (len(ns),)
    temperatures : (nT,)
    mean : mean sigma_2 over the 2P matrices
    se_rel : standard error of ``mean`` (pairs as units) over ``mean``
    rho : mean over pairs of (pair-mean sigma_2) n T / ||Q(d)||_2, minus 1 (finite-T part)
    rho_se : its standard error
    odd_sd : standard deviation over pairs of the odd part (difference / 2) times n T^2 / ||Q(d)||_2
    q_mean : (len(ns),) mean ||Q(d)||_2
    err_law, err_leading, err_first : law / mean - 1 for :func:`sigma2_law`,
        :func:`sigma2_law_leading` and the first-order law with kappa(n) (no 1/T^2 factor)
    slope : (len(ns),) log-log slope of |rho| against T on T >= FIT_TMIN
    c2 : (len(ns),) least-squares coefficient of rho on T^-2, T >= FIT_TMIN
    """

    ns: np.ndarray
    temperatures: np.ndarray
    mean: np.ndarray
    se_rel: np.ndarray
    rho: np.ndarray
    rho_se: np.ndarray
    odd_sd: np.ndarray
    q_mean: np.ndarray
    err_law: np.ndarray
    err_leading: np.ndarray
    err_first: np.ndarray
    slope: np.ndarray
    c2: np.ndarray


def law_summary(result: LawResult) -> LawSummary:
    """Statistics of :class:`LawResult` used by the check and the notebook."""
    T = np.asarray(result.temperatures, dtype=np.float64)
    ns = np.asarray(result.config.ns)
    rows: dict[str, list] = {k: [] for k in ("mean", "se", "rho", "rho_se", "odd", "q", "slope", "c2")}
    fit = T >= FIT_TMIN
    for n, s2, q in zip(ns, result.sigma2, result.q_norm):
        P = s2.shape[-1]
        pair = s2.mean(axis=1)  # (nT, P)
        mean = pair.mean(axis=-1)
        rows["mean"].append(mean)
        rows["se"].append(pair.std(axis=-1, ddof=1) / np.sqrt(P) / mean)
        g = pair * n * T[:, None] / q  # (nT, P)
        rho = g.mean(axis=-1) - 1.0
        rows["rho"].append(rho)
        rows["rho_se"].append(g.std(axis=-1, ddof=1) / np.sqrt(P))
        h = (s2[:, 0] - s2[:, 1]) / 2 * n * T[:, None] ** 2 / q
        rows["odd"].append(h.std(axis=-1, ddof=1))
        rows["q"].append(float(q.mean()))
        with np.errstate(divide="ignore"):
            y = np.log(np.abs(rho[fit]))
        x = np.log(T[fit])
        finite = np.all(np.isfinite(y)) and x.size > 1
        rows["slope"].append(float(np.polyfit(x, y, 1)[0]) if finite else np.nan)
        xt = T[fit] ** -2.0
        rows["c2"].append(float((rho[fit] * xt).sum() / (xt * xt).sum()) if xt.size else np.nan)
    mean = np.array(rows["mean"])
    law = sigma2_law(ns[:, None], T[None, :])
    lead = sigma2_law_leading(ns[:, None], T[None, :])
    first = sigma2_law(ns[:, None], T[None, :], second_order=False)
    return LawSummary(
        ns=ns, temperatures=T, mean=mean, se_rel=np.array(rows["se"]), rho=np.array(rows["rho"]),
        rho_se=np.array(rows["rho_se"]), odd_sd=np.array(rows["odd"]), q_mean=np.array(rows["q"]),
        err_law=law / mean - 1.0, err_leading=lead / mean - 1.0, err_first=first / mean - 1.0,
        slope=np.array(rows["slope"]), c2=np.array(rows["c2"]),
    )
