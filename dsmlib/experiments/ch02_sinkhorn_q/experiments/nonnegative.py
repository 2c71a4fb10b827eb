"""Chapter 2, Sinkhorn-Knopp for non-negative matrices (RC-SKA)."""

from __future__ import annotations

from dataclasses import dataclass
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse
from scipy.sparse.csgraph import connected_components, maximum_bipartite_matching
from ...._validate import as_square_batch, check_n_iter
from ....cache import disk_cached

__all__ = [
    "SKA_KINDS",
    "SkaConfig",
    "SkaResult",
    "_permute",
    "alternating_normalisation",
    "nonnegative_patterns",
    "ska_experiment",
    "ska_outcome",
    "support_structure",
]


#: the four kinds of non-negative matrix tested
SKA_KINDS = ("total support", "triangular", "zero block", "no support")


def alternating_normalisation(
    Y: ArrayLike, n_iter: int, record: tuple[int, ...] = ()
) -> tuple[NDArray[np.float64], dict[str, NDArray[np.float64]]]:
    r"""Alternate row and column normalisation of non-negative matrices (RC Eq. 13), batched.

    One iteration is a row step then a column step, so the column sums are exact and the
    marginal error is that of the rows. The iterate is :math:`\operatorname{diag}(u_k)\,Y
    \operatorname{diag}(v_k)`, computed with two batched mat-vecs per iteration on the
    scaling vectors (a scaling that leaves the float64 range raises ``FloatingPointError``;
    in the experiments below they stay far inside it).

    Parameters
    ----------
    Y : array_like, shape (..., n, n)
        Finite, non-negative, no zero row or column.
    n_iter : int
        Iterations (>= 1).
    record : tuple of int
        Iteration counts (``1 <= k <= n_iter``) at which to record diagnostics.

    Returns
    -------
    M : ndarray, shape (..., n, n)
        The iterate after ``n_iter`` iterations.
    trace : dict of ndarray, each shape (len(record), ...)
        ``err`` (max row-sum error), ``min_support`` (smallest entry of the iterate where
        ``Y > 0``), ``spread`` (:math:`\max\log u - \min\log u + \max\log v - \min\log v`
        of the scalings, finite in the limit iff a :math:`D_1YD_2` limit exists).
    """
    A = as_square_batch(Y, "Y")
    n_iter = check_n_iter(n_iter)
    if np.any(A < 0):
        raise ValueError("Y must be non-negative")
    if np.any(A.sum(axis=-1) == 0) or np.any(A.sum(axis=-2) == 0):
        raise ValueError("Y has a zero row or column: no doubly stochastic scaling can exist")
    rec = tuple(int(k) for k in record)
    if any(k < 1 or k > n_iter for k in rec):
        raise ValueError(f"record entries must lie in [1, n_iter], got {rec}")
    support = A > 0
    Yt = np.swapaxes(A, -1, -2)
    v = np.ones(A.shape[:-1])
    trace = {k: [] for k in ("err", "min_support", "spread")}
    with np.errstate(over="raise", divide="raise"):
        for k in range(1, n_iter + 1):
            u = 1.0 / (A @ v[..., None])[..., 0]  # row step
            v = 1.0 / (Yt @ u[..., None])[..., 0]  # column step
            if k in rec:
                M = u[..., :, None] * A * v[..., None, :]
                trace["err"].append(np.abs(M.sum(axis=-1) - 1.0).max(axis=-1))
                trace["min_support"].append(np.where(support, M, np.inf).min(axis=(-2, -1)))
                lu, lv = np.log(u), np.log(v)
                trace["spread"].append(np.ptp(lu, axis=-1) + np.ptp(lv, axis=-1))
    M = u[..., :, None] * A * v[..., None, :]
    return M, {k: np.array(v) for k, v in trace.items()}


def support_structure(Y: ArrayLike) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Whether each matrix has support and total support, decided combinatorially.

    Support: the bipartite graph of the positive entries has a perfect matching
    (Hopcroft-Karp on the block-diagonal union of the batch, one call). Total support:
    moreover every positive entry lies in some perfect matching, i.e. it is a matching
    edge or its row and column fall in one strongly connected component of the graph
    with arcs row -> column for every entry and column -> row for the matching edges
    (Dulmage-Mendelsohn).

    Parameters
    ----------
    Y : array_like, shape (B, n, n)

    Returns
    -------
    has_support, total_support : ndarray of bool, shape (B,)
    """
    A = as_square_batch(Y, "Y")
    if A.ndim != 3:
        raise ValueError(f"Y must have shape (B, n, n), got {A.shape}")
    B, n, _ = A.shape
    b, i, j = np.nonzero(A > 0)
    N = B * n
    rows, cols = b * n + i, b * n + j
    G = sparse.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(N, N))
    match = maximum_bipartite_matching(G, perm_type="column")  # column matched to each row
    matched = match >= 0
    has_support = matched.reshape(B, n).all(axis=1)
    r_m = np.flatnonzero(matched)
    src = np.concatenate([rows, N + match[r_m]])
    dst = np.concatenate([N + cols, r_m])
    D = sparse.csr_matrix((np.ones(src.size), (src, dst)), shape=(2 * N, 2 * N))
    _, label = connected_components(D, directed=True, connection="strong")
    allowed = (match[rows] == cols) | (label[rows] == label[N + cols])
    every = np.bincount(b, weights=~allowed, minlength=B) == 0
    return has_support, has_support & every


def _permute(Y: NDArray[np.float64], rng: np.random.Generator) -> NDArray[np.float64]:
    """Independent random row and column permutations of each matrix (support is invariant)."""
    B, n, _ = Y.shape
    pr = np.argsort(rng.random((B, n)), axis=1)
    pc = np.argsort(rng.random((B, n)), axis=1)
    Y = np.take_along_axis(Y, pr[:, :, None], axis=1)
    return np.take_along_axis(Y, pc[:, None, :], axis=2)


def nonnegative_patterns(kind: str, n: int, trials: int, rng: np.random.Generator, density: float = 0.5):
    r"""Random non-negative matrices of one of :data:`SKA_KINDS`, entries in (0, 1] where positive.

    * ``"total support"``: each off-diagonal entry kept with probability ``density``, the
      diagonal positive (total support is verified, not assumed, by :func:`support_structure`);
    * ``"triangular"``: positive on and above the diagonal (RC's ``[[1,1],[0,1]]`` in size n):
      support, no total support;
    * ``"zero block"``: :math:`\begin{pmatrix}A&B\\0&C\end{pmatrix}` with square diagonal
      blocks of random size :math:`k\in[8, n-8]`: support, no total support (B is on no
      positive diagonal);
    * ``"no support"``: rows :math:`k..n-1` vanish on columns :math:`0..k`, so
      :math:`n-k` rows share :math:`n-k-1` columns: no positive diagonal at all.

    Rows and columns are then permuted at random.

    Returns
    -------
    ndarray, shape (trials, n, n)
    """
    if n < 17 or trials < 1 or not 0 < density <= 1:
        raise ValueError(f"need n >= 17, trials >= 1, 0 < density <= 1; got {n}, {trials}, {density}")
    vals = 1.0 - rng.random((trials, n, n))  # in (0, 1]
    r = np.arange(n)
    if kind == "total support":
        mask = rng.random((trials, n, n)) < density
        mask[:, r, r] = True
    elif kind == "triangular":
        mask = np.broadcast_to(r[:, None] <= r[None, :], (trials, n, n))
    elif kind in ("zero block", "no support"):
        k = rng.integers(8, n - 8, size=trials)[:, None, None]
        width = k + (kind == "no support")
        mask = ~((r[None, :, None] >= k) & (r[None, None, :] < width))
    else:
        raise ValueError(f"kind must be one of {SKA_KINDS}, got {kind!r}")
    return _permute(np.where(mask, vals, 0.0), rng)


@dataclass(frozen=True)
class SkaConfig:
    """Alternating normalisation of the four kinds of non-negative matrix (n = 64)."""

    n: int = 64
    trials: int = 100  # per kind
    density: float = 0.5
    n_iter: int = 1000
    record: tuple[int, ...] = (10, 30, 100, 300, 1000)
    seed: int = 31
    #: pre-registered: converged if the row error is <= conv_tol, or still falls by
    #: half over the last decade of iterations (sub-linear convergence)
    conv_tol: float = 1e-9
    #: pre-registered: the limit keeps every positive entry (is D1 Y D2) if the smallest
    #: such entry changes by less than 1 % over the last decade
    keep_ratio: float = 0.99


@dataclass(frozen=True)
class SkaResult:
    """Per kind (axis 0) and matrix (axis 1); traces add a leading axis for ``record``.

    Attributes
    ----------
    has_support, total_support : (nkinds, trials) bool, combinatorial ground truth
    err, min_support, spread : (nkinds, len(record), trials), see :func:`alternating_normalisation`
    example_corner : (len(record),) the upper-right entry of the iterate of [[1, 1], [0, 1]]
    """

    config: SkaConfig
    kinds: tuple[str, ...]
    has_support: np.ndarray
    total_support: np.ndarray
    err: np.ndarray
    min_support: np.ndarray
    spread: np.ndarray
    example_corner: np.ndarray


@disk_cached
def ska_experiment(config: SkaConfig = SkaConfig()) -> SkaResult:
    """All four kinds in one batch; combinatorial support structure as ground truth."""
    rng = np.random.default_rng(config.seed)
    Y = np.concatenate([nonnegative_patterns(k, config.n, config.trials, rng, config.density) for k in SKA_KINDS])
    sup, tot = support_structure(Y)
    _, tr = alternating_normalisation(Y, config.n_iter, config.record)
    K, R = len(SKA_KINDS), config.trials
    shape = lambda a: np.moveaxis(a.reshape(len(config.record), K, R), 1, 0)  # noqa: E731
    corner = []
    for k in config.record:
        Mk, _ = alternating_normalisation(np.array([[1.0, 1.0], [0.0, 1.0]]), k, ())
        corner.append(Mk[0, 1])
    return SkaResult(
        config, SKA_KINDS, sup.reshape(K, R), tot.reshape(K, R), shape(tr["err"]), shape(tr["min_support"]),
        shape(tr["spread"]), np.array(corner),
    )


def ska_outcome(result: SkaResult) -> tuple[np.ndarray, np.ndarray]:
    """Pre-registered per-matrix outcomes: (converged to a DSM, limit of the form D1 Y D2).

    Returns
    -------
    converged, scaled : ndarray of bool, shape (nkinds, trials)
    """
    cfg = result.config
    rec = np.array(cfg.record)
    last = rec.size - 1
    prev = int(np.flatnonzero(rec <= rec[-1] / 10 + 1e-9).max())
    e_last, e_prev = result.err[:, last], result.err[:, prev]
    converged = (e_last <= cfg.conv_tol) | (e_last <= 0.5 * e_prev)
    keeps = result.min_support[:, last] >= cfg.keep_ratio * result.min_support[:, prev]
    return converged, converged & keeps
