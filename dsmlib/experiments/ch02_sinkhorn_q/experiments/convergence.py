"""Chapter 2, does Algorithm 1 return DSMs, over seeds (HT-ALG1)."""

from __future__ import annotations

from ...._validate import TemperatureChecked
from dataclasses import dataclass
import numpy as np
from .... import sinkhorn
from ....cache import disk_cached

from .common import ALG1_TEMPERATURES, algorithm1_costs, clopper_pearson

__all__ = ["Alg1Config", "Alg1Result", "alg1_experiment"]


@dataclass(frozen=True)
class Alg1Config(TemperatureChecked):
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
