"""Chapter 2, Sinkhorn vs Softmax on V_perp (HT-AGG) and the gradients of the Sinkhorn projection (HT-GRAD)."""

from __future__ import annotations

from ...._validate import TemperatureChecked
from dataclasses import dataclass
import numpy as np
from numpy.typing import ArrayLike, NDArray
from .... import q_project, row_softmax, singular_values, sinkhorn
from ...._parallel import thread_map
from ...._validate import as_square_batch, check_positive_scalar
from ....cache import disk_cached

from .common import algorithm1_costs, clopper_pearson, row_entropy

__all__ = [
    "AGG_LEVEL",
    "AGG_MARGIN",
    "AGG_TEMPERATURES",
    "AggConfig",
    "AggResult",
    "GradConfig",
    "GradResult",
    "_CHUNK",
    "_fd_errors",
    "_gauge_solver",
    "_lanczos_top",
    "_power_direction",
    "agg_experiment",
    "agg_outcome",
    "grad_experiment",
    "jacobian_norm_bounds",
    "sinkhorn_jacobian_apply",
]


#: seven temperatures, two per decade over HT Exp. 1's range [1e-2, 1e1]
AGG_TEMPERATURES: tuple[float, ...] = tuple(float(f"{t:.6g}") for t in np.logspace(-2, 1, 7))
#: pre-registered: "more aggressive" means a gain ratio below 1 - AGG_MARGIN (5 %)
AGG_MARGIN = 0.05
#: pre-registered one-sided level of the sign tests of HT-AGG
AGG_LEVEL = 0.99


# ============================================================== HT-AGG
@dataclass(frozen=True)
class AggConfig(TemperatureChecked):
    """DSM vs row softmax on the same scores -d/T (HT Algorithm 1 costs)."""

    n: int = 64
    temperatures: tuple[float, ...] = AGG_TEMPERATURES
    seeds: tuple[int, ...] = tuple(range(10))
    per_seed: int = 100
    #: HT Algorithm 1's cap (the outputs "as returned", converged or not)
    n_iter: int = 200
    tol: float = 1e-6
    #: the same scores run to the tolerance: at T = 0.01 the slowest of the 1000 needs about
    #: 10,400 iterations, so this cap leaves every matrix doubly stochastic (checked, not assumed)
    dsm_n_iter: int = 100000


@dataclass(frozen=True)
class AggResult:
    r"""Per temperature (axis 0) and paired draw (axis 1), all shape (nT, R).

    Attributes
    ----------
    dsm_gain : :math:`\|MU\|_2 = \|UMU\|_2` (= :math:`\sigma_2(M)`; column sums are exact) of the
        DSM, Sinkhorn run to ``tol`` within ``dsm_n_iter``
    alg1_gain : the same for Algorithm 1's output after at most ``n_iter`` iterations (not a DSM
        where it missed ``tol``)
    sm_gain : :math:`\|UPU\|_2`, Softmax's gain from detail to detail
    sm_gain_all : :math:`\|PU\|_2`, Softmax's gain from detail to anything
    sm_leak : :math:`\|\tfrac1n\mathbf 1\mathbf 1^\top PU\|_2 = \|P^\top\mathbf 1 - \mathbf 1\|/\sqrt n`,
        detail turned into the mean direction (0 for a DSM)
    rowH_dsm, rowH_sm : mean row entropy (nats) of M and P
    converged : the DSM run reached ``tol`` within ``dsm_n_iter``
    alg1_converged : Algorithm 1 reached ``tol`` within ``n_iter``
    """

    config: AggConfig
    temperatures: np.ndarray
    dsm_gain: np.ndarray
    sm_gain: np.ndarray
    sm_gain_all: np.ndarray
    sm_leak: np.ndarray
    rowH_dsm: np.ndarray
    rowH_sm: np.ndarray
    converged: np.ndarray
    alg1_gain: np.ndarray
    alg1_converged: np.ndarray


@disk_cached
def agg_experiment(config: AggConfig = AggConfig()) -> AggResult:
    """Gains of Sinkhorn and Softmax on V_perp, paired on the same costs at every T."""
    d = algorithm1_costs(config.n, config.seeds, config.per_seed)
    out = {k: [] for k in ("g", "gs", "ga", "lk", "hd", "hs", "cv", "g1", "cv1")}
    for T in config.temperatures:
        S = -d / T
        A, info1 = sinkhorn(S, n_iter=config.n_iter, tol=config.tol, return_info=True, warn=False)
        out["g1"].append(singular_values(A - A.mean(axis=-1, keepdims=True))[..., 0])
        out["cv1"].append(info1.converged)
        M, info = sinkhorn(S, n_iter=config.dsm_n_iter, tol=config.tol, return_info=True, warn=False)
        P = row_softmax(S)
        MU = M - M.mean(axis=-1, keepdims=True)  # M U (= U M U: 1^T M = 1^T exactly)
        PU = P - P.mean(axis=-1, keepdims=True)
        out["g"].append(singular_values(MU)[..., 0])
        out["gs"].append(singular_values(q_project(P))[..., 0])
        out["ga"].append(singular_values(PU)[..., 0])
        out["lk"].append(np.linalg.norm(P.sum(axis=-2) - 1.0, axis=-1) / np.sqrt(config.n))
        out["hd"].append(row_entropy(M))
        out["hs"].append(row_entropy(P))
        out["cv"].append(info.converged)
    a = {k: np.array(v) for k, v in out.items()}
    return AggResult(
        config, np.array(config.temperatures), a["g"], a["gs"], a["ga"], a["lk"], a["hd"], a["hs"], a["cv"],
        a["g1"], a["cv1"],
    )


def agg_outcome(ratio: ArrayLike, margin: float = AGG_MARGIN, level: float = AGG_LEVEL) -> NDArray[np.str_]:
    """Pre-registered per-temperature outcome of the paired gain ratios.

    Parameters
    ----------
    ratio : array_like, shape (nT, R)
        DSM gain / Softmax gain, paired draws.
    margin, level : float
        Equivalence margin and one-sided confidence level.

    Returns
    -------
    ndarray of str, shape (nT,)
        ``"dsm"`` if more than half the draws have ratio ``< 1 - margin`` (lower
        Clopper-Pearson bound at ``level`` above 1/2), ``"softmax"`` if more than half have
        ratio ``> 1 + margin``, ``"equivalent"`` if more than half lie within the margin,
        else ``"undecided"``.
    """
    r = np.asarray(ratio, dtype=float)
    if r.ndim != 2:
        raise ValueError(f"ratio must have shape (nT, R), got {r.shape}")
    R = r.shape[1]
    two_sided = 2 * level - 1  # the lower bound of a (2 level - 1) two-sided interval is one-sided at level

    def majority(mask):
        lo, _ = clopper_pearson(mask.sum(axis=1), R, two_sided)
        return lo > 0.5

    out = np.full(r.shape[0], "undecided", dtype=object)
    out[majority(np.abs(r - 1) <= margin)] = "equivalent"
    out[majority(r > 1 + margin)] = "softmax"
    out[majority(r < 1 - margin)] = "dsm"
    return out.astype(str)


# ============================================================== HT-GRAD
def _gauge_solver(M: NDArray[np.float64]) -> NDArray[np.float64]:
    r"""Inverse of the regularised Schur complement of the implicit-function system, (B, n, n).

    With row/column sums :math:`r, c` of :math:`M`, the column potential's variation
    solves :math:`(D_c - M^\top D_r^{-1} M)\,\delta g = \text{rhs}`; the matrix has the
    gauge null vector :math:`\mathbf 1` and every right-hand side is orthogonal to it, so
    adding :math:`\mathbf 1\mathbf 1^\top/n` gives an invertible matrix with the same
    solutions up to the gauge.
    """
    n = M.shape[-1]
    r, c = M.sum(axis=-1), M.sum(axis=-2)
    A = -np.swapaxes(M, -1, -2) @ (M / r[..., :, None])
    A[..., np.arange(n), np.arange(n)] += c
    return np.linalg.inv(A + 1.0 / n)


def sinkhorn_jacobian_apply(
    M: ArrayLike, X: ArrayLike, T: float = 1.0, *, solver: NDArray[np.float64] | None = None
) -> NDArray[np.float64]:
    r"""Apply the Jacobian of :math:`S \mapsto \operatorname{Sinkhorn}(S/T)` at its value ``M``.

    Implicit differentiation of :math:`M = \operatorname{diag}(e^f)\,e^{S/T}\operatorname{diag}(e^g)`
    with :math:`M\mathbf 1 = \mathbf 1`, :math:`M^\top\mathbf 1 = \mathbf 1`: for a direction
    :math:`\dot S`,

    .. math::

        \dot M = M \odot \big(\dot S/T + \dot f\mathbf 1^\top + \mathbf 1\dot g^\top\big),
        \qquad \dot M\mathbf 1 = 0,\ \dot M^\top\mathbf 1 = 0,

    a linear system for :math:`(\dot f, \dot g)`. The map is symmetric positive
    semi-definite, :math:`J = T^{-1}D^{1/2}(I-\Pi)D^{1/2}` with :math:`D = \operatorname{diag}(M)`
    and :math:`\Pi` an orthogonal projection, so :math:`\|J\|_2 \le \max_{ij}M_{ij}/T`.

    Parameters
    ----------
    M : array_like, shape (..., n, n)
        Positive matrices (Sinkhorn outputs; exact for doubly stochastic ``M``).
    X : array_like, shape (..., n, n)
        Directions :math:`\dot S`, broadcastable against ``M``.
    T : float
        Temperature (> 0).
    solver : ndarray, optional
        Precomputed :func:`_gauge_solver` of ``M`` (reused across directions).

    Returns
    -------
    ndarray, shape (..., n, n)
        :math:`J\dot S`.
    """
    M = as_square_batch(M, "M")
    if np.any(M <= 0):
        raise ValueError("M must be entrywise positive")
    T = check_positive_scalar(T, "T")
    X = np.asarray(X, dtype=np.float64)
    if X.shape[-2:] != M.shape[-2:]:
        raise ValueError(f"X must have trailing shape {M.shape[-2:]}, got {X.shape}")
    W = M * (X / T)
    rho, gam = W.sum(axis=-1), W.sum(axis=-2)  # row and column sums of M o X / T
    r = M.sum(axis=-1)
    G = _gauge_solver(M) if solver is None else solver
    # row constraint: r * df + M dg = -rho ; column: M^T df + c * dg = -gam
    rhs = -gam + ((rho / r)[..., None, :] @ M)[..., 0, :]
    dg = (G @ rhs[..., None])[..., 0]
    df = (-rho - (M @ dg[..., None])[..., 0]) / r
    W += M * (df[..., :, None] + dg[..., None, :])
    return W


def jacobian_norm_bounds(
    M: ArrayLike, T: float, n_lanczos: int, rng: np.random.Generator
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    r"""Lower and upper bounds on :math:`\|J\|_2` of :math:`S\mapsto\operatorname{Sinkhorn}(S/T)`.

    :math:`J` is symmetric PSD, so its norm is its largest eigenvalue. ``n_lanczos`` steps
    of the Lanczos recurrence from a random start (batched, three-term, no
    re-orthogonalisation) give a tridiagonal matrix whose largest eigenvalue (Ritz
    value) approaches :math:`\|J\|_2` from below; :math:`\max_{ij}M_{ij}/T` is an upper bound.

    Parameters
    ----------
    M : array_like, shape (B, n, n)
    T : float
    n_lanczos : int
        Lanczos steps (>= 1), one Jacobian product each.
    rng : numpy.random.Generator

    Returns
    -------
    lower, upper : ndarray, shape (B,)
    """
    M = as_square_batch(M, "M")
    if n_lanczos < 1:
        raise ValueError(f"n_lanczos must be >= 1, got {n_lanczos}")
    T = check_positive_scalar(T, "T")
    lead = M.shape[:-2]
    Mf = M.reshape((-1,) + M.shape[-2:])
    q0 = rng.standard_normal(Mf.shape)
    chunks = np.array_split(np.arange(Mf.shape[0]), max(1, Mf.shape[0] // _CHUNK))
    lam = np.concatenate(thread_map(lambda i: _lanczos_top(Mf[i], q0[i], T, n_lanczos), chunks))
    return lam.reshape(lead), M.max(axis=(-2, -1)) / T


#: matrices per Lanczos chunk (a chunk's working set stays in cache)
_CHUNK = 100


def _lanczos_top(M, q, T, k):
    """Largest Ritz value after ``k`` Lanczos steps of J on a chunk, shape (b,)."""
    G = _gauge_solver(M)
    q = q / np.linalg.norm(q, axis=(-2, -1), keepdims=True)
    q_prev = np.zeros_like(q)
    alpha = np.zeros((M.shape[0], k))
    beta = np.zeros((M.shape[0], k))
    for j in range(k):
        w = sinkhorn_jacobian_apply(M, q, T, solver=G)
        if j:
            w -= beta[:, j - 1, None, None] * q_prev
        alpha[:, j] = (w * q).sum(axis=(-2, -1))
        w -= alpha[:, j, None, None] * q
        beta[:, j] = np.linalg.norm(w, axis=(-2, -1))
        q_prev, q = q, w / np.maximum(beta[:, j], 1e-300)[:, None, None]
    tri = np.zeros((M.shape[0], k, k))
    idx = np.arange(k)
    tri[:, idx, idx] = alpha
    tri[:, idx[:-1], idx[1:]] = beta[:, :-1]
    tri[:, idx[1:], idx[:-1]] = beta[:, :-1]
    return np.linalg.eigvalsh(tri)[:, -1]


def _power_direction(M, T, n_power, rng):
    """Unit direction after ``n_power`` power iterations of J (for the finite-difference check)."""
    G = _gauge_solver(M)
    X = rng.standard_normal(M.shape)
    for _ in range(n_power):
        X = sinkhorn_jacobian_apply(M, X, T, solver=G)
        X /= np.linalg.norm(X, axis=(-2, -1), keepdims=True)
    return X


@dataclass(frozen=True)
class GradConfig(TemperatureChecked):
    """Forward norm and score Jacobian of Sinkhorn(-d/T) over temperature."""

    n: int = 64
    temperatures: tuple[float, ...] = AGG_TEMPERATURES
    seeds: tuple[int, ...] = tuple(range(10))
    per_seed: int = 100
    n_iter: int = 1000
    tol: float = 1e-8
    n_lanczos: int = 20
    power_seed: int = 2026
    fd_temperatures: tuple[float, ...] = (0.0316228, 0.316228, 3.16228)
    fd_matrices: int = 3
    fd_step: float = 1e-5  # relative to T
    fd_tol: float = 1e-14
    fd_n_iter: int = 200000
    #: HT Algorithm 1 as written (the outputs the paper would use), for the premise "M is a DSM"
    alg1_n_iter: int = 200
    alg1_tol: float = 1e-6


@dataclass(frozen=True)
class GradResult:
    r"""Per temperature (axis 0) and draw (axis 1), shapes (nT, R) unless noted.

    Attributes
    ----------
    norm_lo, norm_hi : bounds on :math:`\|M\|_2`, :math:`\|M\mathbf 1\|/\sqrt n` and
        :math:`\sqrt{\|M\|_1\|M\|_\infty}` (both 1 for a DSM)
    jac_lower : largest Lanczos Ritz value, a lower bound on :math:`\|J\|_2`
    jac_upper : :math:`\max_{ij}M_{ij}/T`
    err : final marginal error; converged : reached ``tol``
    fd_err : (len(fd_temperatures), fd_matrices, 2) relative error of :math:`J\dot S` against
        central differences, for a random direction and for the top eigen-direction
    alg1_norm_lo : :math:`\|M\mathbf 1\|/\sqrt n \le \|M\|_2` of Algorithm 1's outputs (at most
        ``alg1_n_iter`` iterations); above 1 exactly when the row sums are not all 1
    alg1_converged : those outputs reached ``alg1_tol``
    """

    config: GradConfig
    temperatures: np.ndarray
    norm_lo: np.ndarray
    norm_hi: np.ndarray
    jac_lower: np.ndarray
    jac_upper: np.ndarray
    err: np.ndarray
    converged: np.ndarray
    fd_err: np.ndarray
    alg1_norm_lo: np.ndarray
    alg1_converged: np.ndarray


def _fd_errors(config: GradConfig, d: NDArray[np.float64], rng: np.random.Generator) -> NDArray[np.float64]:
    """Relative error of the implicit Jacobian against central differences, (nT_fd, m, 2)."""
    m = config.fd_matrices
    S = -d[:m]
    kw = dict(n_iter=config.fd_n_iter, tol=config.fd_tol, warn=False)
    out = np.empty((len(config.fd_temperatures), m, 2))
    for a, T in enumerate(config.fd_temperatures):
        M = sinkhorn(S / T, **kw)
        V = rng.standard_normal(S.shape)
        top = _power_direction(M, T, config.n_lanczos, rng)
        for b, dirn in enumerate((V / np.linalg.norm(V, axis=(-2, -1), keepdims=True), top)):
            h = config.fd_step * T
            fd = (sinkhorn((S + h * dirn) / T, **kw) - sinkhorn((S - h * dirn) / T, **kw)) / (2 * h)
            jv = sinkhorn_jacobian_apply(M, dirn, T)
            out[a, :, b] = np.linalg.norm(jv - fd, axis=(-2, -1)) / np.linalg.norm(fd, axis=(-2, -1))
    return out


@disk_cached
def grad_experiment(config: GradConfig = GradConfig()) -> GradResult:
    """||M||_2 and bounds on the Jacobian norm of S -> Sinkhorn(S/T) on Algorithm-1 costs."""
    d = algorithm1_costs(config.n, config.seeds, config.per_seed)
    rng = np.random.default_rng(config.power_seed)
    out = {k: [] for k in ("lo", "hi", "jl", "ju", "err", "cv", "a1", "c1")}
    for T in config.temperatures:
        A, info1 = sinkhorn(-d / T, n_iter=config.alg1_n_iter, tol=config.alg1_tol, return_info=True, warn=False)
        out["a1"].append(np.linalg.norm(A.sum(axis=-1), axis=-1) / np.sqrt(config.n))
        out["c1"].append(info1.converged)
        M, info = sinkhorn(-d / T, n_iter=config.n_iter, tol=config.tol, return_info=True, warn=False)
        out["lo"].append(np.linalg.norm(M.sum(axis=-1), axis=-1) / np.sqrt(config.n))
        out["hi"].append(np.sqrt(M.sum(axis=-1).max(axis=-1) * M.sum(axis=-2).max(axis=-1)))
        lower, upper = jacobian_norm_bounds(M, T, config.n_lanczos, rng)
        out["jl"].append(lower)
        out["ju"].append(upper)
        out["err"].append(info.err)
        out["cv"].append(info.converged)
    a = {k: np.array(v) for k, v in out.items()}
    fd = _fd_errors(config, d, rng)
    return GradResult(config, np.array(config.temperatures), a["lo"], a["hi"], a["jl"], a["ju"], a["err"], a["cv"], fd,
                      a["a1"], a["c1"])
