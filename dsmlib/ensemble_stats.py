r"""Pre-registered statistics for verdicts decided by an ensemble of training runs.

The unit of replication is the training run: every function here takes **one number per
model** (a per-model summary), never per image or per path. The rules are those of
``dsmlib/trained/PREREGISTRATION.md`` (section 2 and 3), fixed before the ensemble was
trained; the constants below are its constants.

* :func:`two_arm_cell` -- Sinkhorn vs Softmax runs: Welch's t-test (one-sided each way) and
  the exact permutation test of the difference in means (all relabellings), TOST
  equivalence, the 95 % Welch interval and the smallest effect detectable with 80 % power.
* :func:`one_sample_cell` -- within-model differences: one-sample t-test and the exact
  sign-flip permutation test, the same outputs.
* :func:`bootstrap_cell` -- a statistic of both arms that is not a mean (a ratio of means):
  percentile bootstrap over the models of each arm.
* :func:`decide` -- the verdict table: from the outcomes of a claim's parts on the paper's
  data set (and on the book's second data set) to a verdict and severity.

Every cell ends in one of :data:`OUTCOMES`: ``supports`` / ``opposes`` (both tests reject in
that direction at :data:`ALPHA`), ``equivalent`` (the 90 % interval inside the margin) or
``undecided``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

__all__ = [
    "ALPHA",
    "BOOTSTRAP_RESAMPLES",
    "BOOTSTRAP_SEED",
    "OUTCOMES",
    "POWER",
    "Cell",
    "bootstrap_cell",
    "decide",
    "exact_permutation_p",
    "exact_sign_flip_p",
    "one_sample_cell",
    "two_arm_cell",
]

#: one-sided level of every test (PREREGISTRATION.md section 2)
ALPHA = 0.05
#: power at which the smallest detectable effect is stated
POWER = 0.80
#: bootstrap resamples and seed for ratio statistics (RC-MECH)
BOOTSTRAP_RESAMPLES = 10_000
BOOTSTRAP_SEED = 20261204
OUTCOMES = ("supports", "opposes", "equivalent", "undecided")


@dataclass(frozen=True)
class Cell:
    """The pre-registered test of one claim x reading x data set.

    Attributes
    ----------
    effect : float
        The effect, oriented so that the claim predicts ``effect > 0`` (for a similarity
        claim: the signed difference).
    ci : tuple of float
        Its 95 % two-sided interval.
    p_claim, p_against : float
        One-sided p-values (parametric test) in the claimed and the opposite direction.
    perm_claim, perm_against : float
        The same from the exact permutation (or sign-flip) test; NaN for bootstrap cells.
    margin : float
        The equivalence margin used (TOST: the 90 % interval inside ``(-margin, margin)``).
    mde : float
        Smallest effect the test detects with 80 % power at this sample size and spread.
    sd : float
        The spread the margin and ``mde`` are measured against (pooled within-arm SD, or SD
        of the within-model differences).
    n : tuple of int
        Runs per arm (two-arm) or number of models (one-sample).
    outcome : str
        One of :data:`OUTCOMES`.
    kind : str
        ``'directional'`` or ``'similarity'``.
    """

    effect: float
    ci: tuple[float, float]
    p_claim: float
    p_against: float
    perm_claim: float
    perm_against: float
    margin: float
    mde: float
    sd: float
    n: tuple[int, ...]
    outcome: str
    kind: str = "directional"

    @property
    def d(self) -> float:
        """Standardised effect ``effect / sd`` (NaN if ``sd`` is 0)."""
        return float(self.effect / self.sd) if self.sd > 0 else float("nan")


def _tol(observed: float) -> float:
    # scipy.stats.permutation_test's tie tolerance: statistics within this of the observed one count as ties
    return 1e3 * np.finfo(np.float64).eps * max(abs(observed), 1.0)


def exact_permutation_p(a: NDArray[np.float64], b: NDArray[np.float64]) -> tuple[float, float]:
    """Exact one-sided p-values ``(greater, less)`` of ``mean(a) - mean(b)`` over every
    relabelling of the pooled runs (C(k1 + k2, k1) of them; the observed one included), as
    ``scipy.stats.permutation_test(..., permutation_type='independent', n_resamples=inf)``
    computes them, by direct enumeration (a few ms for 8 + 8 runs)."""
    from itertools import combinations

    x = np.concatenate([a, b])
    k1, n = a.size, a.size + b.size
    idx = np.array(list(combinations(range(n), k1)), dtype=np.intp)
    mask = np.zeros((idx.shape[0], n), dtype=bool)
    np.put_along_axis(mask, idx, True, axis=1)
    sa = (mask @ x) / k1
    stat = sa - (x.sum() - sa * k1) / (n - k1)
    obs = float(a.mean() - b.mean())
    t = _tol(obs)
    return float(np.mean(stat >= obs - t)), float(np.mean(stat <= obs + t))


def exact_sign_flip_p(z: NDArray[np.float64]) -> tuple[float, float]:
    """Exact one-sided p-values ``(greater, less)`` of ``mean(z)`` under the 2^k sign flips
    (the observed signs included), as ``scipy.stats.permutation_test((z,), ...,
    permutation_type='samples', n_resamples=inf)``, by direct enumeration."""
    k = z.size
    if k > 20:
        raise ValueError(f"the exact sign-flip test enumerates 2^k sign vectors; k = {k} > 20")
    signs = 1.0 - 2.0 * ((np.arange(2**k)[:, None] >> np.arange(k)) & 1)
    stat = (signs @ z) / k
    obs = float(z.mean())
    t = _tol(obs)
    return float(np.mean(stat >= obs - t)), float(np.mean(stat <= obs + t))


def _as_runs(x: ArrayLike, name: str) -> NDArray[np.float64]:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 1:
        raise ValueError(f"{name} must be one number per run, shape (k,), got shape {a.shape}")
    if a.size < 2:
        raise ValueError(f"{name} needs at least 2 runs, got {a.size}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains non-finite values")
    return a


def _outcome(kind: str, p_claim: float, p_against: float, perm_claim: float, perm_against: float,
             ci90: tuple[float, float], margin: float, alpha: float) -> str:
    equivalent = bool(-margin < ci90[0] and ci90[1] < margin)
    if kind == "similarity":
        if equivalent:
            return "supports"
        # a difference in either direction opposes a claim of similarity (two-sided at alpha)
        two = min(p_claim, p_against) < alpha / 2 and min(perm_claim, perm_against) < alpha / 2
        return "opposes" if two else "undecided"
    if kind != "directional":
        raise ValueError(f"kind must be 'directional' or 'similarity', got {kind!r}")
    if p_claim < alpha and perm_claim < alpha:
        return "supports"
    if p_against < alpha and perm_against < alpha:
        return "opposes"
    return "equivalent" if equivalent else "undecided"


def two_arm_cell(
    claim_arm: ArrayLike,
    other_arm: ArrayLike,
    *,
    margin: float | None = None,
    kind: str = "directional",
    alpha: float = ALPHA,
) -> Cell:
    r"""Welch + exact permutation test of ``mean(claim_arm) - mean(other_arm) > 0``.

    Parameters
    ----------
    claim_arm, other_arm : array_like, shape (k1,), (k2,)
        One summary per training run of each arm, oriented so that the claim predicts the
        first arm's mean to be larger.
    margin : float, optional
        Equivalence margin in the summary's units; default: one pooled within-arm SD
        (PREREGISTRATION.md section 2).
    kind : {'directional', 'similarity'}
        ``'similarity'``: the claim is that the arms do not differ; it is supported only by
        equivalence within ``margin`` and opposed by a two-sided difference.
    alpha : float
        One-sided level.

    Returns
    -------
    Cell
        With the smallest detectable effect
        :math:`(t_{1-\alpha,\nu} + t_{0.8,\nu})\, s_p \sqrt{1/k_1 + 1/k_2}`, :math:`\nu = k_1 + k_2 - 2`.
    """
    a, b = _as_runs(claim_arm, "claim_arm"), _as_runs(other_arm, "other_arm")
    k1, k2 = a.size, b.size
    nu = k1 + k2 - 2
    sp = float(np.sqrt(((k1 - 1) * a.var(ddof=1) + (k2 - 1) * b.var(ddof=1)) / nu))
    m = sp if margin is None else float(margin)
    if not m >= 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    effect = float(a.mean() - b.mean())
    if sp == 0.0:  # identical runs within each arm: the tests are degenerate
        p_c, p_a = (0.0, 1.0) if effect > 0 else (1.0, 0.0) if effect < 0 else (1.0, 1.0)
        ci = ci90 = (effect, effect)
        perm_c, perm_a = p_c, p_a
    else:
        res = stats.ttest_ind(a, b, equal_var=False)
        ci = tuple(float(x) for x in res.confidence_interval(0.95))
        ci90 = tuple(float(x) for x in res.confidence_interval(0.90))
        p_c = float(stats.ttest_ind(a, b, equal_var=False, alternative="greater").pvalue)
        p_a = float(stats.ttest_ind(a, b, equal_var=False, alternative="less").pvalue)

        perm_c, perm_a = exact_permutation_p(a, b)
    mde = float((stats.t.ppf(1 - alpha, nu) + stats.t.ppf(POWER, nu)) * sp * np.sqrt(1 / k1 + 1 / k2))
    out = _outcome(kind, p_c, p_a, perm_c, perm_a, ci90, m, alpha)
    return Cell(effect, ci, p_c, p_a, perm_c, perm_a, m, mde, sp, (k1, k2), out, kind)


def one_sample_cell(z: ArrayLike, *, null: float = 0.0, margin: float | None = None,
                    alpha: float = ALPHA, permutation: bool = True) -> Cell:
    r"""One-sample t-test + exact sign-flip test of ``mean(z) > null`` (within-model differences).

    Parameters
    ----------
    z : array_like, shape (k,)
        One within-model difference per training run, oriented so that the claim predicts
        ``mean(z) > null``.
    null : float
        The value the claim must exceed (0, or e.g. ``ln 2`` for RC-GT's growth factor).
    margin : float, optional
        Equivalence margin around ``null``; default one SD of ``z``.
    permutation : bool
        Require the exact sign-flip test to agree (default). ``False``: the t-test alone
        decides (a registration that names only the t bound, e.g. RC-CONV); the
        permutation p-values are then NaN.

    Returns
    -------
    Cell
        ``effect = mean(z) - null``; smallest detectable effect
        :math:`(t_{1-\alpha,k-1} + t_{0.8,k-1})\, s_z / \sqrt{k}`.
    """
    z = _as_runs(z, "z") - float(null)
    k = z.size
    sd = float(z.std(ddof=1))
    m = sd if margin is None else float(margin)
    effect = float(z.mean())
    if sd == 0.0:
        p_c, p_a = (0.0, 1.0) if effect > 0 else (1.0, 0.0) if effect < 0 else (1.0, 1.0)
        perm_c, perm_a = p_c, p_a
        ci = ci90 = (effect, effect)
    else:
        res = stats.ttest_1samp(z, 0.0)
        ci = tuple(float(x) for x in res.confidence_interval(0.95))
        ci90 = tuple(float(x) for x in res.confidence_interval(0.90))
        p_c = float(stats.ttest_1samp(z, 0.0, alternative="greater").pvalue)
        p_a = float(stats.ttest_1samp(z, 0.0, alternative="less").pvalue)

        if permutation:
            perm_c, perm_a = exact_sign_flip_p(z)
        else:
            perm_c = perm_a = float("nan")
    mde = float((stats.t.ppf(1 - alpha, k - 1) + stats.t.ppf(POWER, k - 1)) * sd / np.sqrt(k))
    gate_c, gate_a = (perm_c, perm_a) if permutation else (0.0, 0.0)
    out = _outcome("directional", p_c, p_a, gate_c, gate_a, ci90, m, alpha)
    return Cell(effect, ci, p_c, p_a, perm_c, perm_a, m, mde, sd, (k,), out)


def bootstrap_cell(
    claim_arm: ArrayLike,
    other_arm: ArrayLike,
    statistic: Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[np.float64]],
    *,
    margin: float,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> Cell:
    r"""Percentile bootstrap over the runs of each arm for a statistic that is not a mean.

    Parameters
    ----------
    claim_arm, other_arm : array_like, shape (k1, m), (k2, m)
        Per run, the ``m`` summaries the statistic needs (e.g. slopes in two readings).
    statistic : callable
        ``statistic(A, B) -> (R,)`` for resampled stacks ``A`` (R, k1, m), ``B`` (R, k2, m);
        oriented so that the claim predicts a positive value.
    margin : float
        Equivalence margin (the 90 % interval inside ``(-margin, margin)``).

    Returns
    -------
    Cell
        ``supports`` if the 5th percentile is above 0, ``opposes`` if the 95th is below 0;
        the bootstrap SD as ``sd``; ``mde = (z_0.95 + z_0.8) sd``; p-values are the
        bootstrap shares on the wrong side of 0.
    """
    a = np.asarray(claim_arm, dtype=np.float64)
    b = np.asarray(other_arm, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"arms must have shapes (k1, m) and (k2, m), got {a.shape} and {b.shape}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError("arms contain non-finite values")
    rng = np.random.default_rng(seed)
    ia = rng.integers(0, a.shape[0], size=(resamples, a.shape[0]))
    ib = rng.integers(0, b.shape[0], size=(resamples, b.shape[0]))
    boot = np.asarray(statistic(a[ia], b[ib]), dtype=np.float64)
    effect = float(np.asarray(statistic(a[None], b[None]), dtype=np.float64)[0])
    boot = boot[np.isfinite(boot)]
    if boot.size == 0:
        raise ValueError("the statistic is not finite on any bootstrap resample")
    q = np.quantile(boot, [0.025, 0.05, 0.95, 0.975])
    p_c, p_a = float(np.mean(boot <= 0)), float(np.mean(boot >= 0))
    sd = float(boot.std(ddof=1))
    if q[1] > 0:
        out = "supports"
    elif q[2] < 0:
        out = "opposes"
    elif -margin < q[1] and q[2] < margin:
        out = "equivalent"
    else:
        out = "undecided"
    mde = float((stats.norm.ppf(1 - ALPHA) + stats.norm.ppf(POWER)) * sd)
    return Cell(effect, (float(q[0]), float(q[3])), p_c, p_a, float("nan"), float("nan"), float(margin),
                mde, sd, (a.shape[0], b.shape[0]), out, "bootstrap")


def decide(paper: list[str], other: list[str] | None = None) -> tuple[str, str]:
    """The verdict table of PREREGISTRATION.md section 3.

    Parameters
    ----------
    paper : list of str
        Outcomes (:data:`OUTCOMES`) of the headline reading's parts on the paper's own data
        set, main part first.
    other : list of str, optional
        The same parts on the book's second data set (not in the paper): it can only
        narrow a confirmed verdict's scope.

    Returns
    -------
    (verdict, severity)
        ``('confirmed', '')``, ``('qualified', 'scope')``, ``('refuted', 'conclusion')`` or
        ``('inconclusive', '')``.
    """
    for name, outs in (("paper", paper), ("other", other or [])):
        bad = [o for o in outs if o not in OUTCOMES]
        if bad:
            raise ValueError(f"{name}: outcomes must be in {OUTCOMES}, got {bad}")
    if not paper:
        raise ValueError("paper needs at least one part")
    main, rest = paper[0], paper[1:]
    if main in ("opposes", "equivalent"):
        return "refuted", "conclusion"
    if main == "supports" and any(o in ("opposes", "equivalent") for o in rest):
        return "qualified", "scope"
    if all(o == "supports" for o in paper):
        if other and any(o == "opposes" for o in other):
            return "qualified", "scope"
        return "confirmed", ""
    return "inconclusive", ""
