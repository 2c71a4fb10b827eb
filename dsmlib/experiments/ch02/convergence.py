r"""Does HT's Algorithm 1 (K = 200, tol 1e-6) return DSMs? Over independent seed blocks (HT-ALG1).

Block ``b`` of :func:`alg1_experiment` draws its costs with the seeds
``10 b, ..., 10 b + 9`` (100 matrices each), so block 0 is the paper's own
configuration (seeds 0-9, R = 1000) and the other blocks are independent replicates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ... import sinkhorn
from ...cache import disk_cached
from ...verdicts import Verdict, severity, verdict
from .._format import sig as _sig
from .common import TEMPERATURES, algorithm1_costs, clopper_pearson
from .common import tex as _tex

__all__ = ["ALG1_TEMPERATURES", "Alg1Config", "Alg1Result", "alg1_experiment", "check_ht_alg1"]

#: HT Exp. 1's grid plus T = 0.02, where some seed blocks converge and others do not
ALG1_TEMPERATURES: tuple[float, ...] = tuple(sorted(set(TEMPERATURES) | {0.02}))


@dataclass(frozen=True)
class Alg1Config:
    """Algorithm 1 on ``blocks`` independent blocks of ``seeds_per_block * per_seed`` costs."""

    n: int = 64
    temperatures: tuple[float, ...] = ALG1_TEMPERATURES
    blocks: int = 5
    seeds_per_block: int = 10
    per_seed: int = 100
    n_iter: int = 200
    tol: float = 1e-6
    level: float = 0.95

    def block_seeds(self, b: int) -> tuple[int, ...]:
        """Seeds of block ``b`` (block 0: the paper's 0-9)."""
        return tuple(range(b * self.seeds_per_block, (b + 1) * self.seeds_per_block))


@dataclass(frozen=True)
class Alg1Result:
    """Per temperature (axis 0) and block (axis 1).

    Attributes
    ----------
    failed : (nT, blocks) int, runs that missed ``tol`` within ``n_iter``
    block_size : int, runs per block
    max_err : (nT,) largest final marginal error
    max_iter, median_iter : (nT,) iterations used (slowest, median)
    """

    config: Alg1Config
    temperatures: np.ndarray
    failed: np.ndarray
    block_size: int
    max_err: np.ndarray
    max_iter: np.ndarray
    median_iter: np.ndarray

    @property
    def total(self) -> int:
        """Runs per temperature."""
        return int(self.block_size * self.failed.shape[1])

    def interval(self) -> tuple[np.ndarray, np.ndarray]:
        """Clopper-Pearson interval of the non-converged fraction per T, at ``config.level``."""
        return clopper_pearson(self.failed.sum(axis=1), self.total, self.config.level)


@disk_cached
def alg1_experiment(config: Alg1Config = Alg1Config()) -> Alg1Result:
    """Convergence of Algorithm 1 per temperature and seed block (no SVD needed)."""
    nT, B = len(config.temperatures), config.blocks
    failed = np.zeros((nT, B), dtype=int)
    max_err = np.zeros(nT)
    its = [[] for _ in range(nT)]
    for b in range(B):  # one block of 1000 matrices at a time keeps memory small
        d = algorithm1_costs(config.n, config.block_seeds(b), config.per_seed)
        for k, T in enumerate(config.temperatures):
            _, info = sinkhorn(-d / T, n_iter=config.n_iter, tol=config.tol, return_info=True, warn=False)
            failed[k, b] = int((~info.converged).sum())
            max_err[k] = max(max_err[k], float(info.err.max()))
            its[k].append(info.n_iter)
    it = np.array([np.concatenate(x) for x in its])
    return Alg1Result(
        config, np.array(config.temperatures), failed, config.seeds_per_block * config.per_seed,
        max_err, it.max(axis=1), np.median(it, axis=1),
    )


def check_ht_alg1(result: Alg1Result) -> Verdict:
    """Pre-registered: Algorithm 1 'yields DSMs' at T iff none of the blocks x 1000 runs misses tol."""
    cfg, T = result.config, result.temperatures
    k = result.failed.sum(axis=1)
    N = result.total
    lo, hi = result.interval()
    ok = k == 0
    lv = f"{100 * cfg.level:g}%"
    fails = "; ".join(
        f"$T = {_sig(t)}$: {kk}/{N} = {_sig(kk / N)} ({lv} CI {_tex(_sig(a))}–{_tex(_sig(b))}; per block "
        f"{', '.join(str(int(x)) for x in row)})"
        for t, kk, a, b, row in zip(T, k, lo, hi, result.failed) if kk > 0
    )
    head = (
        f"{cfg.blocks} independent seed blocks $\\times$ {result.block_size} runs (block 0 = the paper's "
        f"seeds 0–9), $K = {cfg.n_iter}$, tol {_tex(f'{cfg.tol:g}')}, $n = {cfg.n}$, {T.size} temperatures in "
        f"$[{_sig(T.min())}, {_sig(T.max())}]$"
    )
    if ok.all():
        return verdict(
            "HT-ALG1", "confirmed",
            f"{head}: every run converged (upper {lv} bound on the failure rate {_tex(_sig(hi.max()))}); slowest run "
            f"{int(result.max_iter.max())} iterations.",
        )
    if not ok[-1]:
        return verdict(
            "HT-ALG1", "refuted", f"{head}; runs that missed tol: {fails}.",
            holds=f"Algorithm 1 with $K = {cfg.n_iter}$ does not produce DSMs to {_tex(f'{cfg.tol:g}')} on this grid.",
            severity=severity(conclusion_holds=False),
        )
    tmin = float(T[np.flatnonzero(~ok).max() + 1])
    above = T >= tmin
    return verdict(
        "HT-ALG1", "qualified",
        f"{head}; runs that missed tol: {fails}; largest marginal error {_sig(result.max_err.max())}. For "
        f"$T \\ge {_sig(tmin)}$ all {N} runs converged at each $T$ (failure rate $< {_tex(_sig(hi[above].max()))[1:-1]}$ "
        f"at {lv}), the slowest in {int(result.max_iter[above].max())} iterations.",
        holds=f"Algorithm 1 with $K = {cfg.n_iter}$ returns DSMs to tol {_tex(f'{cfg.tol:g}')} for "
        f"$T \\ge {_sig(tmin)}$ ($n = {cfg.n}$); below that a seed-dependent share of runs is not doubly "
        "stochastic after 200 iterations (the paper does not state its temperatures; it needs more iterations, "
        "or a check of the marginals, at low $T$).",
        severity=severity(conclusion_holds=True, conditional=True),
    )


#: this module's claim checks: claim id -> (experiment, check)
CHECKS = {
    "HT-ALG1": (alg1_experiment, check_ht_alg1),
}
