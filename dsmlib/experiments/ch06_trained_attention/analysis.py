"""Chapter 6, the pre-registered comparisons of Softmax and Sinkhorn models (pure functions of a
:class:`~.experiments.TrainedResult`), used by the checks and the tables.

Every comparison uses the *seed-to-seed spread* as its yardstick: a difference between
Softmax and Sinkhorn counts only if it exceeds the difference between the two seeds of the
same normalisation, in every Softmax/Sinkhorn pairing of seeds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from .experiments import ALPHA, FLOOR, NORMS, READINGS, SEEDS, SETTINGS, SKIP_READING, DATASETS, TrainedResult

def _log10(r: NDArray) -> NDArray[np.float64]:
    """log10 with values at or below the float floor clipped to the floor."""
    return np.log10(np.maximum(np.nan_to_num(r, nan=FLOOR), FLOOR))


def curve_stat(r: NDArray, tmin: int = 2) -> float:
    """Mean over depths t >= tmin of log10 of the median residual; ``r`` (T, m)."""
    return float(np.mean(_log10(np.median(r[tmin - 1:], axis=-1))))


@dataclass(frozen=True)
class Comparison:
    """Sinkhorn vs Softmax on one summary, with the seed-to-seed yardstick.

    ``diffs``: Sinkhorn minus Softmax for every stored seed pairing (s_sink, s_soft), in the
    order (0,0), (0,1), (1,0), (1,1); ``yardstick``: largest |seed 0 - seed 1| within a
    normalisation (0 when no normalisation has both seeds); ``p_greater`` / ``p_less``: one-sided
    paired Wilcoxon p-values of the same-seed pairings (the largest), NaN when not applicable."""

    diffs: tuple[float, ...]
    yardstick: float
    p_greater: float = np.nan
    p_less: float = np.nan

    @property
    def outcome(self) -> str:
        """'sinkhorn', 'softmax' or 'none': a side wins if every pairing exceeds the yardstick
        in its direction and (when paired tests apply) both same-seed tests have p < ALPHA."""
        d = np.array(self.diffs)
        ok_g = np.isnan(self.p_greater) or self.p_greater < ALPHA
        ok_l = np.isnan(self.p_less) or self.p_less < ALPHA
        if d.size and np.all(d > self.yardstick) and ok_g:
            return "sinkhorn"
        if d.size and np.all(d < -self.yardstick) and ok_l:
            return "softmax"
        return "none"


def _pairings(r: TrainedResult, dataset: str) -> list[tuple[int, int]]:
    return [(r.index(dataset, "sinkhorn", a), r.index(dataset, "softmax", b))
            for a in SEEDS for b in SEEDS if r.has(dataset, "sinkhorn", a) and r.has(dataset, "softmax", b)]


def _yard(r: TrainedResult, dataset: str, stat) -> float:
    y = 0.0
    for norm in NORMS:
        if all(r.has(dataset, norm, s) for s in SEEDS):
            y = max(y, abs(stat(r.index(dataset, norm, 0)) - stat(r.index(dataset, norm, 1))))
    return y


def compare_paths(r: TrainedResult, dataset: str, reading: str) -> Comparison:
    """RC-F3's pre-registered test on Fig. 3 residuals of one reading (see :class:`Comparison`):
    summary = :func:`curve_stat` (positive difference = Sinkhorn keeps more rank); paired test
    on the log residuals of the same sampled (layers, heads, images) pooled over t = 2..24."""
    k = READINGS.index(reading)

    def stat(i):
        return curve_stat(r.path_residual[i, k])

    pairs = _pairings(r, dataset)
    pg, pl = [], []
    for s in SEEDS:
        if r.has(dataset, "sinkhorn", s) and r.has(dataset, "softmax", s):
            a = _log10(r.path_residual[r.index(dataset, "sinkhorn", s), k, 1:]).ravel()
            b = _log10(r.path_residual[r.index(dataset, "softmax", s), k, 1:]).ravel()
            if np.any(a != b):
                pg.append(stats.wilcoxon(a, b, alternative="greater").pvalue)
                pl.append(stats.wilcoxon(a, b, alternative="less").pvalue)
            else:
                pg.append(1.0)
                pl.append(1.0)
    return Comparison(tuple(stat(i) - stat(j) for i, j in pairs), _yard(r, dataset, stat),
                      float(max(pg)) if pg else np.nan, float(max(pl)) if pl else np.nan)


def amplification(r: TrainedResult, dataset: str, reading: str = SKIP_READING) -> Comparison:
    """RC-MECH: (Sinkhorn - Softmax advantage with skips) - (advantage without), per pairing,
    in decades of the median residual; yardstick = the seed spread of (skip - plain)."""
    k, k0 = READINGS.index(reading), READINGS.index("plain")

    def gap(i):
        return curve_stat(r.path_residual[i, k]) - curve_stat(r.path_residual[i, k0])

    pairs = _pairings(r, dataset)
    return Comparison(tuple(gap(i) - gap(j) for i, j in pairs), _yard(r, dataset, gap))


def compare_outputs(r: TrainedResult, dataset: str, setting: str) -> Comparison:
    """RC-F4: mean over layers of log10 (batch-mean residual ratio of the block outputs)."""
    k = list(SETTINGS).index(setting)

    def stat(i):
        return float(np.mean(_log10(r.output_ratio[i, k].mean(-1))))

    return Comparison(tuple(stat(i) - stat(j) for i, j in _pairings(r, dataset)), _yard(r, dataset, stat))


def compare_entropy(r: TrainedResult, dataset: str) -> Comparison:
    """RC-F1: mean layer-1 row entropy (nats) over heads and test images."""

    def stat(i):
        return float(np.nanmean(r.entropy_l1[i]))

    return Comparison(tuple(stat(i) - stat(j) for i, j in _pairings(r, dataset)), _yard(r, dataset, stat))


def median_ratio(r: TrainedResult, dataset: str, seed: int, reading: str, t: int) -> float:
    """Median Sinkhorn residual / median Softmax residual at depth ``t`` (same seed)."""
    k = READINGS.index(reading)
    a = np.median(r.path_residual[r.index(dataset, "sinkhorn", seed), k, t - 1])
    b = np.median(r.path_residual[r.index(dataset, "softmax", seed), k, t - 1])
    return float(a / b) if b > FLOOR else np.nan


def _datasets(r: TrainedResult) -> list[str]:
    return [d for d in DATASETS if _pairings(r, d)]


def ds_trend(result: TrainedResult, i: int) -> tuple[float, float, float]:
    """(untrained, final, Spearman rho over epochs) of the probe column-sum deviation of model i."""
    y = result.hist_col_dev[i]
    ok = np.isfinite(y)
    y = y[ok]
    rho = float(stats.spearmanr(np.arange(y.size), y).statistic) if y.size > 2 and np.ptp(y) > 0 else 0.0
    return float(y[0]), float(y[-1]), rho


def gt_rates(result: TrainedResult, i: int) -> tuple[float, float, float]:
    """Decay rate (nats per factor; least squares of ln median residual vs t over points above the
    floor) of model i's plain Fig. 3 paths, of its matched-scale random products, and of the
    random products at scale 1."""

    def rate(curve):
        t = np.arange(1, curve.size + 1)
        ok = curve > FLOOR
        if ok.sum() < 3:
            return np.nan
        return float(-np.polyfit(t[ok], np.log(curve[ok]), 1)[0])

    return (rate(np.median(result.path_residual[i, 0], -1)), rate(np.median(result.random_residual[i, 0], -1)),
            rate(np.median(result.random_residual[i, 1], -1)))


def correlation_comparison(r: TrainedResult, dataset: str, variant: int, kind: int) -> Comparison:
    """Sinkhorn minus Softmax summary for one correlation variant (``kind`` 0: P, 1: (I+P)/2)."""

    def stat(i):
        return curve_stat(r.corr_residual[i, variant, kind])

    return Comparison(tuple(stat(i) - stat(j) for i, j in _pairings(r, dataset)), _yard(r, dataset, stat))
