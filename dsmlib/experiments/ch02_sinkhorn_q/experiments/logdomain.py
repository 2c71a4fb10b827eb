r"""Chapter 2, RC App. A's log-domain Sinkhorn against the plain iteration (RC-LOG).

RC App. A: "the normalization is performed in the log domain. Convergence of the procedure is
preserved because the log and exp functions are bijective." The two iterations below are RC
Eq. 13 as written, on :math:`Y = e^{S}`:

* *plain*: :math:`K = e^{S - \max S}`, :math:`u \leftarrow 1/(Kv)`, :math:`v \leftarrow 1/(K^\top u)`,
  iterate :math:`\operatorname{diag}(u)K\operatorname{diag}(v)` (float64, no stabilisation, so
  entries of :math:`K` below the smallest normal float lose digits and those below
  :math:`e^{-745}` are exactly 0);
* *log domain*: potentials :math:`f \leftarrow -\operatorname{lse}_j(S_{ij} + g_j)`,
  :math:`g \leftarrow -\operatorname{lse}_i(S_{ij} + f_i)`, iterate :math:`e^{S + f\mathbf 1^\top + \mathbf 1g^\top}`.

In exact arithmetic :math:`f = \log u + \text{const}` at every step, so the iterates coincide.
Both are the objects under test here (written out as RC describes them); the converged
reference is :func:`dsmlib.sinkhorn`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from .... import sinkhorn
from ....cache import disk_cached
from .spectra import attention_scores

__all__ = [
    "LogDomainConfig",
    "LogDomainResult",
    "UNDERFLOW_SPAN",
    "log_iterates",
    "logdomain_experiment",
    "plain_iterates",
]


#: score span (max - min) above which some entry of e^{S - max S} is below the smallest normal
#: float64 (2.2e-308): the plain iteration then computes with fewer digits, and from 745.1 on
#: with exact zeros
UNDERFLOW_SPAN = float(-np.log(np.finfo(np.float64).tiny))


def plain_iterates(S: np.ndarray, n_iter: int, record: tuple[int, ...]) -> dict[int, np.ndarray]:
    """The plain iteration of RC Eq. 13 on ``exp(S - max S)``, batched; iterates at ``record``.

    Parameters
    ----------
    S : ndarray, shape (B, n, n)
    n_iter : int
    record : tuple of int, iteration counts in ``[1, n_iter]``

    Returns
    -------
    dict of int to ndarray, shape (B, n, n)
        Non-finite where the iteration divided by an underflowed sum.
    """
    K = np.exp(S - S.max(axis=(-2, -1), keepdims=True))
    v = np.ones(S.shape[:-1])
    out = {}
    with np.errstate(divide="ignore", over="ignore", invalid="ignore", under="ignore"):
        for k in range(1, n_iter + 1):
            u = 1.0 / np.einsum("bij,bj->bi", K, v)
            v = 1.0 / np.einsum("bij,bi->bj", K, u)
            if k in record:
                out[k] = u[:, :, None] * K * v[:, None, :]
    return out


def log_iterates(S: np.ndarray, n_iter: int, record: tuple[int, ...]) -> dict[int, np.ndarray]:
    """The log-domain iteration (potentials updated with log-sum-exp), batched; iterates at ``record``.

    Parameters and returns as :func:`plain_iterates`; every iterate is finite for finite ``S``.
    """
    g = np.zeros(S.shape[:-1])
    out = {}
    for k in range(1, n_iter + 1):
        f = -logsumexp(S + g[:, None, :], axis=-1)
        g = -logsumexp(S + f[:, :, None], axis=-2)
        if k in record:
            out[k] = np.exp(S + f[:, :, None] + g[:, None, :])
    return out


@dataclass(frozen=True)
class LogDomainConfig:
    """Attention-like scores at RC's token counts (MNIST 50, AG News 128, Cats & Dogs 197; d_qk = 32)."""

    ns: tuple[int, ...] = (50, 128, 197)
    scales: tuple[float, ...] = (1.0, 4.0, 16.0, 64.0, 256.0)
    trials: int = 100
    d_model: int = 128
    d_qk: int = 32
    n_iter: int = 50  # RC App. F: 50 Sinkhorn iterations
    record: tuple[int, ...] = (1, 10, 50)
    ref_n_iter: int = 1000
    ref_tol: float = 1e-12
    seed: int = 23


@dataclass(frozen=True)
class LogDomainResult:
    """Shapes (len(ns), len(scales), trials) unless noted.

    Attributes
    ----------
    span : score range max - min of each matrix
    diff : (len(ns), len(scales), len(record), trials) max |plain - log-domain| after k iterations
        (inf where the plain iterate is not finite)
    plain_finite : the plain iterate after ``n_iter`` iterations is finite
    plain_err, log_err : largest marginal error of each after ``n_iter`` iterations (inf if not finite)
    log_vs_ref : max |log-domain after n_iter - converged Sinkhorn|
    ref_converged : the reference reached ``ref_tol``
    """

    config: LogDomainConfig
    span: np.ndarray
    diff: np.ndarray
    plain_finite: np.ndarray
    plain_err: np.ndarray
    log_err: np.ndarray
    log_vs_ref: np.ndarray
    ref_converged: np.ndarray

    @property
    def underflow(self) -> np.ndarray:
        """Matrices whose plain kernel ``e^{S - max S}`` leaves the normal float64 range."""
        return self.span > UNDERFLOW_SPAN


def _marginal_err(M: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        e = np.maximum(np.abs(M.sum(axis=-1) - 1).max(axis=-1), np.abs(M.sum(axis=-2) - 1).max(axis=-1))
    return np.where(np.isfinite(e), e, np.inf)


@disk_cached
def logdomain_experiment(config: LogDomainConfig = LogDomainConfig()) -> LogDomainResult:
    """Plain and log-domain iterates on the same scores, and the log domain against converged Sinkhorn."""
    if config.n_iter not in config.record:
        raise ValueError("record must include n_iter")
    rng = np.random.default_rng(config.seed)
    keys = ("span", "diff", "pf", "pe", "le", "ref", "rc")
    out = {k: [] for k in keys}
    for n in config.ns:
        A, _ = attention_scores(n, config.d_model, config.d_qk, config.trials, rng)
        row = {k: [] for k in keys}
        for sc in config.scales:
            S = sc * A
            P = plain_iterates(S, config.n_iter, config.record)
            L = log_iterates(S, config.n_iter, config.record)
            with np.errstate(invalid="ignore"):
                d = [np.where(np.isfinite(P[k]).all(axis=(-2, -1)), np.abs(P[k] - L[k]).max(axis=(-2, -1)), np.inf)
                     for k in config.record]
            ref, info = sinkhorn(S, n_iter=config.ref_n_iter, tol=config.ref_tol, return_info=True, warn=False)
            last_p, last_l = P[config.n_iter], L[config.n_iter]
            row["span"].append(S.max(axis=(-2, -1)) - S.min(axis=(-2, -1)))
            row["diff"].append(np.array(d))
            row["pf"].append(np.isfinite(last_p).all(axis=(-2, -1)))
            row["pe"].append(_marginal_err(last_p))
            row["le"].append(_marginal_err(last_l))
            row["ref"].append(np.abs(last_l - ref).max(axis=(-2, -1)))
            row["rc"].append(info.converged)
        for k in keys:
            out[k].append(np.array(row[k]))
    a = {k: np.array(v) for k, v in out.items()}
    return LogDomainResult(config, a["span"], a["diff"], a["pf"], a["pe"], a["le"], a["ref"], a["rc"])
