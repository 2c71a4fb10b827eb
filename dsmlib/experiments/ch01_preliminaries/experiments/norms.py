"""Chapter 1, the (1, inf) norm against the spectral norm (RC-E) and the path decomposition (RC-PD)."""

from __future__ import annotations

from dataclasses import dataclass
import numpy as np
from numpy.typing import NDArray
from .... import row_softmax, sinkhorn
from ....attention import pure_san, random_san_weights
from ....cache import disk_cached

from .pieces import norm_1inf, path_sum

__all__ = ["NormConfig", "NormResult", "PathConfig", "PathResult", "norm_experiment", "path_experiment"]


# ----------------------------------------------------------------------------- RC-E
@dataclass(frozen=True)
class NormConfig:
    """Random matrices for ||A||_2 <= ||A||_{1,inf}, and the triangle-inequality search."""

    n: int = 64
    trials: int = 1000
    search_n: int = 3
    search_trials: int = 200_000
    family_ns: tuple[int, ...] = (2, 4, 16, 64, 256)
    seed: int = 5


@dataclass(frozen=True)
class NormResult:
    """Ratios :math:`\\|A\\|_2/\\|A\\|_{1,\\infty}` and the counterexample search.

    Attributes
    ----------
    kinds : tuple of str
    ratio : ndarray, shape (n_kinds, trials)
    search_ratio : ndarray, shape (search_trials,)
        :math:`\\|A+B\\|_{1,\\infty}/(\\|A\\|_{1,\\infty}+\\|B\\|_{1,\\infty})` for random 0/1 pairs.
    best_A, best_B : ndarray, shape (search_n, search_n)
    family_ratio : ndarray, shape (len(family_ns),)
        Same ratio for :math:`A = e_1\\mathbf 1^\\top`, :math:`B = \\mathbf 1 e_1^\\top`.
    """

    config: NormConfig
    kinds: tuple[str, ...]
    ratio: NDArray[np.float64]
    search_ratio: NDArray[np.float64]
    best_A: NDArray[np.float64]
    best_B: NDArray[np.float64]
    family_ratio: NDArray[np.float64]


@disk_cached
def norm_experiment(config: NormConfig = NormConfig()) -> NormResult:
    """Spectral norm vs the l_{1,inf} quantity, and a vectorised search for triangle violations."""
    c = config
    g = np.random.default_rng(c.seed)
    n, R = c.n, c.trials
    mats = {
        "gaussian": g.normal(size=(R, n, n)),
        "rank-one": g.normal(size=(R, n, 1)) * g.normal(size=(R, 1, n)),
        "sparse 0/1": (g.random((R, n, n)) < 0.05).astype(float) + np.eye(n),
        "softmax attention": row_softmax(g.normal(scale=2.0, size=(R, n, n))),
        "sinkhorn attention": sinkhorn(g.normal(scale=2.0, size=(R, n, n)), tol=1e-12, n_iter=1000, warn=False),
    }
    kinds = tuple(mats)
    ratio = np.stack([np.linalg.norm(A, ord=2, axis=(-2, -1)) / norm_1inf(A) for A in mats.values()])
    k = c.search_n
    A = (g.random((c.search_trials, k, k)) < 0.4).astype(float)
    B = (g.random((c.search_trials, k, k)) < 0.4).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        sr = norm_1inf(A + B) / (norm_1inf(A) + norm_1inf(B))
    sr = np.nan_to_num(sr, nan=0.0)
    i = int(np.argmax(sr))
    fam = []
    for m in c.family_ns:
        e = np.zeros((m, m))
        e[0, :] = 1.0
        fam.append(float(norm_1inf(e + e.T) / (2 * norm_1inf(e))))
    return NormResult(c, kinds, ratio, sr, A[i], B[i], np.array(fam))


# ----------------------------------------------------------------------------- RC-PD
@dataclass(frozen=True)
class PathConfig:
    """Random pure attention networks (H heads, L layers) and their path sums."""

    n: int = 16
    d_model: int = 8
    d_qk: int = 8
    n_heads: int = 4
    layers: tuple[int, ...] = (1, 2, 3, 4)
    batch: int = 8
    methods: tuple[str, ...] = ("sinkhorn", "softmax")
    qk_gain: float = 3.0
    seed: int = 3


@dataclass(frozen=True)
class PathResult:
    """Relative errors :math:`\\|\\mathrm{SAN}(X) - \\sum_{\\text{paths}}\\|_F / \\|\\mathrm{SAN}(X)\\|_F`.

    Attributes
    ----------
    rel_err : ndarray, shape (n_methods, n_layers, batch)
    rel_err_reversed : ndarray, shape (n_methods, n_layers, batch)
        Same with the attention factors multiplied in the wrong order (a control).
    n_paths : ndarray of int, shape (n_layers,)
    """

    config: PathConfig
    rel_err: NDArray[np.float64]
    rel_err_reversed: NDArray[np.float64]
    n_paths: NDArray[np.int64]


@disk_cached
def path_experiment(config: PathConfig = PathConfig()) -> PathResult:
    """Forward pass by :func:`dsmlib.attention.pure_san` vs :func:`path_sum` of its attention matrices."""
    c = config
    err = np.empty((len(c.methods), len(c.layers), c.batch))
    err_r = np.empty_like(err)
    for j, L in enumerate(c.layers):
        g = np.random.default_rng([c.seed, L])
        X = g.normal(size=(c.batch, c.n, c.d_model))
        w = random_san_weights(L, c.n_heads, c.d_model, c.d_qk, size=c.batch, qk_gain=c.qk_gain, rng=g)
        for i, method in enumerate(c.methods):
            tr = pure_san(X, w, method=method, tol=1e-12, n_iter=2000, warn=False)
            out = tr.outputs[-1]
            norm = np.linalg.norm(out, axis=(-2, -1))
            for rev, dest in ((False, err), (True, err_r)):
                total = path_sum(X, tr.attention, w.W_h, reverse=rev).sum(axis=-3)
                dest[i, j] = np.linalg.norm(total - out, axis=(-2, -1)) / norm
    return PathResult(c, err, err_r, np.array([c.n_heads**L for L in c.layers]))
