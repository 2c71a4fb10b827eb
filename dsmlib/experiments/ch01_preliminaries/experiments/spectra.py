"""Chapter 1, the spectral experiments: Algorithm 1 DSMs over a temperature grid, special DSMs, sigma_1 draws
near the convergence boundary (HT-A1, HT-C, HT-L2), and Perron-Frobenius versus sigma_1 (HT-PF)."""

from __future__ import annotations

from dataclasses import dataclass
import numpy as np
from numpy.typing import ArrayLike, NDArray
from .... import marginal_error, row_softmax, sinkhorn, singular_values
from ...._validate import TemperatureChecked, as_square_batch
from ....cache import disk_cached

from ....algorithm1 import algorithm1_costs
from ....birkhoff import birkhoff_dsm, block_diagonal, random_permutations
from ....spectra import restricted_norm

from .pieces import EIG_TEMPERATURES, TEMPERATURES

__all__ = [
    "DRAW_TEMPERATURES",
    "DSMSpectraConfig",
    "DSMSpectraResult",
    "FamilyConfig",
    "FamilySpectra",
    "PFConfig",
    "PFResult",
    "Sigma1DrawsConfig",
    "Sigma1DrawsResult",
    "SpecialConfig",
    "SpecialResult",
    "SpectraBundle",
    "algorithm1_outputs",
    "dsm_spectra_experiment",
    "family_spectra",
    "is_primitive",
    "perron_bracket",
    "pf_experiment",
    "sigma1_draws_experiment",
    "special_dsm_experiment",
    "spectra_experiment",
]


@dataclass(frozen=True)
class FamilyConfig(TemperatureChecked):
    """What every family of hand-built matrices shares: size, count, permutations per Birkhoff
    combination, seed; temperatures validated (the base of the chapter's matrix-family configs)."""

    n: int = 64
    trials: int = 1000
    n_perm: int = 3
    seed: int = 0


def algorithm1_outputs(D: NDArray[np.float64], T: float, *, n_iter: int, tol: float, stop: bool = True):
    """HT Algorithm 1 on the costs ``D`` at temperature ``T``: the matrices, their singular values,
    marginal errors and the ``converged`` mask (``err <= tol``).

    ``stop=True`` stops each matrix once its marginal error is at most ``tol``; ``stop=False``
    runs exactly ``n_iter`` iterations (the loop of Algorithm 1).

    Returns
    -------
    M : ndarray, shape (R, n, n)
    s : ndarray, shape (R, n)
    err : ndarray, shape (R,)
    converged : ndarray of bool, shape (R,)
    info : SinkhornInfo
    """
    M, info = sinkhorn(-D / T, n_iter=n_iter, tol=tol if stop else 0.0, return_info=True, warn=False)
    err = marginal_error(M)
    return M, singular_values(M), err, err <= tol, info


# ----------------------------------------------------------------------------- HT-C, HT-A1, HT-L2
@dataclass(frozen=True)
class DSMSpectraConfig(TemperatureChecked):
    """HT Algorithm 1 at the paper's sizes over a temperature grid."""

    n: int = 64
    temperatures: tuple[float, ...] = TEMPERATURES
    eig_temperatures: tuple[float, ...] = EIG_TEMPERATURES
    seeds: tuple[int, ...] = tuple(range(10))
    per_seed: int = 100
    n_iter: int = 200
    tol: float = 1e-6


@dataclass(frozen=True)
class DSMSpectraResult:
    """Spectra of Algorithm 1 DSMs; mode axis: 0 = stop at ``tol``, 1 = exactly ``n_iter``.

    Attributes
    ----------
    sigma1, sigma2, err, bound, rms_row : ndarray, shape (nT, 2, R)
        :math:`\\sigma_1`, :math:`\\sigma_2`, max marginal error, :math:`\\sqrt{\\|M\\|_1\\|M\\|_\\infty}`
        and the lower bound :math:`\\|M\\mathbf 1\\|/\\sqrt n`.
    converged : ndarray of bool, shape (nT, 2, R)
    iters : ndarray of int, shape (nT, 2, R)
    restricted : ndarray, shape (nT, R)
        :math:`\\|M\\mathcal P_\\perp\\|_2` (``tol`` mode).
    lam1, lam2 : ndarray, shape (nE, R)
        Largest and second largest eigenvalue modulus (``tol`` mode, ``eig_temperatures``).
    n_unit : ndarray of int, shape (nE, R)
        Eigenvalues with :math:`|\\lambda| > 1 - 10^{-9}`.
    """

    config: DSMSpectraConfig
    sigma1: NDArray[np.float64]
    sigma2: NDArray[np.float64]
    err: NDArray[np.float64]
    bound: NDArray[np.float64]
    rms_row: NDArray[np.float64]
    converged: NDArray[np.bool_]
    iters: NDArray[np.int64]
    restricted: NDArray[np.float64]
    lam1: NDArray[np.float64]
    lam2: NDArray[np.float64]
    n_unit: NDArray[np.int64]


@disk_cached
def dsm_spectra_experiment(config: DSMSpectraConfig = DSMSpectraConfig()) -> DSMSpectraResult:
    """Run Algorithm 1 (same costs at every temperature) in both stopping modes."""
    c = config
    D = algorithm1_costs(c.n, c.seeds, c.per_seed)
    R, nT = D.shape[0], len(c.temperatures)
    shp = (nT, 2, R)
    s1, s2, er, bd, rr = (np.empty(shp) for _ in range(5))
    conv = np.empty(shp, dtype=bool)
    its = np.empty(shp, dtype=np.int64)
    restricted = np.empty((nT, R))
    lam1, lam2 = np.empty((len(c.eig_temperatures), R)), np.empty((len(c.eig_temperatures), R))
    n_unit = np.empty((len(c.eig_temperatures), R), dtype=np.int64)
    for i, T in enumerate(c.temperatures):
        for mode, stop in enumerate((True, False)):
            M, s, er[i, mode], conv[i, mode], info = algorithm1_outputs(D, T, n_iter=c.n_iter, tol=c.tol, stop=stop)
            s1[i, mode], s2[i, mode] = s[:, 0], s[:, 1]
            rows, cols = M.sum(axis=-1), M.sum(axis=-2)
            bd[i, mode] = np.sqrt(rows.max(-1) * cols.max(-1))
            rr[i, mode] = np.sqrt((rows**2).mean(-1))
            its[i, mode] = info.n_iter
            if mode == 0:
                restricted[i] = restricted_norm(M)
                if T in c.eig_temperatures:
                    j = c.eig_temperatures.index(T)
                    lam = np.sort(np.abs(np.linalg.eigvals(M)), axis=-1)[:, ::-1]
                    lam1[j], lam2[j] = lam[:, 0], lam[:, 1]
                    n_unit[j] = (lam > 1 - 1e-9).sum(-1)
    return DSMSpectraResult(c, s1, s2, er, bd, rr, conv, its, restricted, lam1, lam2, n_unit)


@dataclass(frozen=True)
class SpecialConfig(FamilyConfig):
    """Hand-built DSMs and controls."""

    softmax_temperature: float = 0.1
    seed: int = 11


@dataclass(frozen=True)
class SpecialResult:
    """Spectra of special matrices.

    Attributes
    ----------
    names : tuple of str
        ``cycle`` (cyclic permutation), ``blockdiag`` (two positive DSM blocks),
        ``lazy_cycle`` ((I + cycle)/2: primitive, not positive).
    sigma1 : ndarray, shape (3,)
    n_unit : ndarray of int, shape (3,)
        Eigenvalues of modulus :math:`> 1 - 10^{-9}`.
    mult_one : ndarray of int, shape (3,)
        Eigenvalues within :math:`10^{-9}` of 1.
    bk_restricted, bk_sigma2, bk_err, bk_nonnormal : ndarray, shape (trials,)
        Birkhoff DSMs: :math:`\\|M\\mathcal P_\\perp\\|_2`, :math:`\\sigma_2`, marginal error,
        :math:`\\|MM^\\top - M^\\top M\\|_F`.
    sm_restricted, sm_sigma2 : ndarray, shape (trials,)
        Row-Softmax of Algorithm 1 scores (row-stochastic only).
    sm_gain : ndarray, shape (trials,)
        :math:`\\|S x\\|/(\\sigma_2(S)\\|x\\|)` at the maximiser :math:`x\\perp\\mathbf 1`.
    """

    config: SpecialConfig
    names: tuple[str, ...]
    sigma1: NDArray[np.float64]
    n_unit: NDArray[np.int64]
    mult_one: NDArray[np.int64]
    bk_restricted: NDArray[np.float64]
    bk_sigma2: NDArray[np.float64]
    bk_err: NDArray[np.float64]
    bk_nonnormal: NDArray[np.float64]
    sm_restricted: NDArray[np.float64]
    sm_sigma2: NDArray[np.float64]


@disk_cached
def special_dsm_experiment(config: SpecialConfig = SpecialConfig()) -> SpecialResult:
    """Non-primitive DSMs, exact Birkhoff DSMs, and the row-stochastic Softmax control."""
    c = config
    n, h = c.n, c.n // 2
    rng = np.random.default_rng(c.seed)
    cycle = np.roll(np.eye(n), 1, axis=1)
    block = block_diagonal(sinkhorn(-rng.random((2, h, h)) / 0.3, tol=1e-14, n_iter=2000))
    lazy = 0.5 * (np.eye(n) + cycle)
    mats = np.stack([cycle, block, lazy])
    lam = np.linalg.eigvals(mats)
    s1 = singular_values(mats)[:, 0]
    n_unit = (np.abs(lam) > 1 - 1e-9).sum(-1)
    mult = (np.abs(lam - 1) < 1e-9).sum(-1)
    B = birkhoff_dsm(n, c.n_perm, size=c.trials, rng=rng)
    bk_r = restricted_norm(B)
    bk_s2 = singular_values(B)[:, 1]
    bk_err = marginal_error(B)
    Bt = np.swapaxes(B, -1, -2)
    bk_nn = np.linalg.norm(B @ Bt - Bt @ B, axis=(-2, -1))
    S = row_softmax(-rng.random((c.trials, n, n)) / c.softmax_temperature)
    sm_r = restricted_norm(S)
    sm_s2 = singular_values(S)[:, 1]
    return SpecialResult(c, ("cycle", "blockdiag", "lazy_cycle"), s1, n_unit, mult, bk_r, bk_s2, bk_err, bk_nn, sm_r, sm_s2)


#: temperatures of the HT-C draws: around the boundary where Algorithm 1 stops converging
DRAW_TEMPERATURES: tuple[float, ...] = (0.015, 0.02, 0.025, 0.03)


@dataclass(frozen=True)
class Sigma1DrawsConfig(TemperatureChecked):
    """Independent repetitions ("draws") of the paper's R = 1000 run near the convergence boundary.

    Draw ``d`` uses seeds ``10 d, ..., 10 d + 9`` with ``per_seed`` matrices each, so draw 0
    is the paper's seed set ``{0, ..., 9}``. Algorithm 1 is stopped at ``tol`` (a matrix that
    misses ``tol`` runs all ``n_iter`` iterations, exactly as in the fixed-K reading).
    """

    n: int = 64
    temperatures: tuple[float, ...] = DRAW_TEMPERATURES
    draws: int = 5
    seeds_per_draw: int = 10
    per_seed: int = 100
    n_iter: int = 200
    tol: float = 1e-6


@dataclass(frozen=True)
class Sigma1DrawsResult:
    r""":math:`\sigma_1` and marginal errors of Algorithm 1 outputs.

    Attributes
    ----------
    sigma1, err : ndarray, shape (nT, draws, R)
    converged : ndarray of bool, shape (nT, draws, R)
        ``err <= tol``.
    """

    config: Sigma1DrawsConfig
    sigma1: NDArray[np.float64]
    err: NDArray[np.float64]
    converged: NDArray[np.bool_]


@disk_cached
def sigma1_draws_experiment(config: Sigma1DrawsConfig = Sigma1DrawsConfig()) -> Sigma1DrawsResult:
    """Algorithm 1 (stopped at ``tol``, at most ``n_iter`` iterations) in ``draws`` independent draws."""
    c = config
    if c.draws < 1 or c.seeds_per_draw < 1 or c.per_seed < 1:
        raise ValueError(f"draws, seeds_per_draw and per_seed must be >= 1, got {c}")
    R = c.seeds_per_draw * c.per_seed
    shp = (len(c.temperatures), c.draws, R)
    s1, er = np.empty(shp), np.empty(shp)
    for d in range(c.draws):  # one draw at a time keeps memory at R matrices
        seeds = tuple(range(d * c.seeds_per_draw, (d + 1) * c.seeds_per_draw))
        D = algorithm1_costs(c.n, seeds, c.per_seed)
        for i, T in enumerate(c.temperatures):
            _, s, er[i, d], _, _ = algorithm1_outputs(D, T, n_iter=c.n_iter, tol=c.tol)
            s1[i, d] = s[:, 0]
    return Sigma1DrawsResult(c, s1, er, er <= c.tol)


@dataclass(frozen=True)
class SpectraBundle:
    """The spectral experiments the checks of HT-A1, HT-C and HT-L2 read."""

    spectra: DSMSpectraResult
    special: SpecialResult
    draws: Sigma1DrawsResult | None = None


@disk_cached
def spectra_experiment(
    config: DSMSpectraConfig = DSMSpectraConfig(),
    special: SpecialConfig = SpecialConfig(),
    draws: Sigma1DrawsConfig = Sigma1DrawsConfig(),
) -> SpectraBundle:
    """:func:`dsm_spectra_experiment`, :func:`special_dsm_experiment` and :func:`sigma1_draws_experiment` together."""
    return SpectraBundle(dsm_spectra_experiment(config), special_dsm_experiment(special), sigma1_draws_experiment(draws))


# ----------------------------------------------------------------------------- HT-PF
def perron_bracket(A: ArrayLike, n_iter: int = 30) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    r"""Collatz-Wielandt bracket of the spectral radius of non-negative matrices.

    For :math:`A \ge 0` and any positive vector :math:`x`,

    .. math:: \min_i \frac{(Ax)_i}{x_i} \;\le\; \rho(A) \;\le\; \max_i \frac{(Ax)_i}{x_i},

    so the bracket certifies :math:`\rho(A)` without an eigenvalue solver. Starting from
    :math:`x = \mathbf 1` (exact for row-stochastic matrices) the bracket is tightened by
    ``n_iter`` power steps, keeping the tightest bounds seen.

    Parameters
    ----------
    A : array_like, shape (..., n, n)
        Non-negative.
    n_iter : int
        Power steps, ``>= 0``.

    Returns
    -------
    lo, hi : ndarray, shape (...)
    """
    A = as_square_batch(A, "A")
    if np.any(A < 0):
        raise ValueError("A must be non-negative")
    if isinstance(n_iter, bool) or not isinstance(n_iter, (int, np.integer)) or n_iter < 0:
        raise ValueError(f"n_iter must be an int >= 0, got {n_iter!r}")
    x = np.ones(A.shape[:-1])
    lo, hi = np.full(A.shape[:-2], -np.inf), np.full(A.shape[:-2], np.inf)
    for _ in range(n_iter + 1):
        y = np.einsum("...ij,...j->...i", A, x)
        r = y / x
        lo, hi = np.maximum(lo, r.min(-1)), np.minimum(hi, r.max(-1))
        nz = y.max(-1, keepdims=True)
        if np.any(nz <= 0) or np.any(y <= 0):  # A x has a zero entry: stop before dividing by it
            break
        x = y / nz
    return lo, hi


def is_primitive(A: ArrayLike) -> NDArray[np.bool_]:
    r"""Whether non-negative matrices are primitive (some power is entrywise positive).

    By Wielandt's bound a primitive :math:`n\times n` matrix has :math:`A^k > 0` for
    :math:`k = (n-1)^2 + 1`; the zero pattern of :math:`A^{2^j}` is computed by repeated
    Boolean squaring until :math:`2^j \ge (n-1)^2 + 1` (and :math:`A^k > 0` for one
    :math:`k` implies it for all larger :math:`k`).

    Parameters
    ----------
    A : array_like, shape (..., n, n)
        Non-negative.

    Returns
    -------
    ndarray of bool, shape (...)
    """
    A = as_square_batch(A, "A")
    if np.any(A < 0):
        raise ValueError("A must be non-negative")
    n = A.shape[-1]
    B = (A > 0).astype(np.float64)
    power = 1
    while power < (n - 1) ** 2 + 1:
        if np.all(B > 0):
            break
        B = (B @ B > 0).astype(np.float64)
        power *= 2
    return np.all(B > 0, axis=(-2, -1))


@dataclass(frozen=True)
class PFConfig(FamilyConfig):
    """Matrices on both sides of the Perron-Frobenius argument of HT App. C.

    ``trials`` matrices per positive family (the paper's R), ``trials_special`` per
    non-primitive family.
    """

    trials_special: int = 200
    softmax_temperatures: tuple[float, ...] = (0.1, 1.0)
    dsm_temperature: float = 1.0
    similarity_scale: float = 1.0
    seed: int = 21


@dataclass(frozen=True)
class PFResult:
    """Spectral radius, primitivity and :math:`\\sigma_1` per family.

    Attributes
    ----------
    names : tuple of str
        Family names; ``is_dsm`` says which are doubly stochastic.
    is_dsm : ndarray of bool, shape (n_fam,)
    primitive : ndarray of bool, shape (n_fam, trials)
        :func:`is_primitive` (NaN-free; families with fewer matrices are padded with their
        last matrix's values, see ``count``).
    rho_lo, rho_hi : ndarray, shape (n_fam, trials)
        Collatz-Wielandt bracket of :math:`\\rho`.
    sigma1 : ndarray, shape (n_fam, trials)
    marg_err : ndarray, shape (n_fam, trials)
        Max marginal error (row and column sums against 1).
    gram_err : ndarray, shape (n_fam, trials)
        :math:`\\|M^\\top M\\mathbf 1 - \\mathbf 1\\|_\\infty`: whether :math:`M^\\top M` is doubly stochastic.
    count : ndarray of int, shape (n_fam,)
        Number of valid matrices per family.
    """

    config: PFConfig
    names: tuple[str, ...]
    is_dsm: NDArray[np.bool_]
    primitive: NDArray[np.bool_]
    rho_lo: NDArray[np.float64]
    rho_hi: NDArray[np.float64]
    sigma1: NDArray[np.float64]
    marg_err: NDArray[np.float64]
    gram_err: NDArray[np.float64]
    count: NDArray[np.int64]


@dataclass(frozen=True)
class FamilySpectra:
    r"""Per family of matrices (padded to the largest family with NaN / False; see ``count``).

    Attributes
    ----------
    names : tuple of str
    count : ndarray of int, shape (n_fam,)
    primitive : ndarray of bool, shape (n_fam, m)
    rho_lo, rho_hi : ndarray, shape (n_fam, m)
        Collatz-Wielandt bracket of :math:`\rho` (:func:`perron_bracket`).
    sigma1, sigma2 : ndarray, shape (n_fam, m)
    marg_err : ndarray, shape (n_fam, m)
    gram_err : ndarray, shape (n_fam, m)
        :math:`\|M^\top M\mathbf 1 - \mathbf 1\|_\infty`.
    """

    names: tuple[str, ...]
    count: NDArray[np.int64]
    primitive: NDArray[np.bool_]
    rho_lo: NDArray[np.float64]
    rho_hi: NDArray[np.float64]
    sigma1: NDArray[np.float64]
    sigma2: NDArray[np.float64]
    marg_err: NDArray[np.float64]
    gram_err: NDArray[np.float64]


def family_spectra(families: dict[str, NDArray[np.float64]]) -> FamilySpectra:
    """Primitivity, spectral-radius bracket, top two singular values and marginal errors of
    named families of non-negative matrices (each of shape ``(m_i, n, n)``)."""
    if not families:
        raise ValueError("families must name at least one family of matrices")
    k, R = len(families), max(A.shape[0] for A in families.values())
    prim = np.zeros((k, R), dtype=bool)
    lo, hi, s1, s2, me, ge = (np.full((k, R), np.nan) for _ in range(6))
    count = np.zeros(k, dtype=np.int64)
    for i, A in enumerate(families.values()):
        m = count[i] = A.shape[0]
        prim[i, :m] = is_primitive(A)
        lo[i, :m], hi[i, :m] = perron_bracket(A)
        s = singular_values(A)
        s1[i, :m], s2[i, :m] = s[:, 0], s[:, 1]
        me[i, :m] = marginal_error(A)
        ge[i, :m] = np.abs((np.swapaxes(A, -1, -2) @ A).sum(-1) - 1).max(-1)
    return FamilySpectra(tuple(families), count, prim, lo, hi, s1, s2, me, ge)


@disk_cached
def pf_experiment(config: PFConfig = PFConfig()) -> PFResult:
    r"""Families of non-negative matrices with spectral radius 1, DSMs and not, primitive and not.

    * ``softmax T=...``: row Softmax of Algorithm 1 scores :math:`-d/T` (positive, so primitive;
      row-stochastic, so :math:`\rho = 1`; not column-stochastic);
    * ``similar to DSM``: :math:`D M D^{-1}` with :math:`M` a Sinkhorn DSM and
      :math:`D = \mathrm{diag}(e^{z})`, :math:`z\sim\mathcal N(0, s^2)`: positive, the same
      eigenvalues as :math:`M` (so :math:`\rho = 1`), not a DSM;
    * ``Sinkhorn DSM``: Algorithm 1 at ``dsm_temperature`` to tolerance ``1e-13`` (positive DSM);
    * ``permutation``, ``block-diagonal DSM`` (two exact Birkhoff blocks), ``Birkhoff DSM``
      (``n_perm`` permutations): exact DSMs, the first two never primitive.
    """
    c = config
    g = np.random.default_rng(c.seed)
    n, R, Rs = c.n, c.trials, c.trials_special
    fams: dict[str, tuple[NDArray[np.float64], bool]] = {}
    for T in c.softmax_temperatures:
        fams[f"softmax T={T:g}"] = (row_softmax(-g.random((R, n, n)) / T), False)
    M = sinkhorn(-g.random((R, n, n)) / c.dsm_temperature, tol=1e-13, n_iter=5000, warn=False)
    d = np.exp(c.similarity_scale * g.standard_normal((R, n)))
    fams["similar to DSM"] = (d[:, :, None] * M / d[:, None, :], False)
    fams["Sinkhorn DSM"] = (M, True)
    fams["permutation"] = (random_permutations(n, Rs, g), True)
    fams["block-diagonal DSM"] = (block_diagonal(birkhoff_dsm(n // 2, c.n_perm, size=(Rs, 2), rng=g)), True)
    fams["Birkhoff DSM"] = (birkhoff_dsm(n, c.n_perm, size=Rs, rng=g), True)
    f = family_spectra({k: v[0] for k, v in fams.items()})
    is_dsm = np.array([v[1] for v in fams.values()])
    return PFResult(c, f.names, is_dsm, f.primitive, f.rho_lo, f.rho_hi, f.sigma1, f.marg_err, f.gram_err, f.count)
