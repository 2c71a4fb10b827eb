r"""Chapter 6's pre-registered tests: from per-model summaries to cells and verdicts.

Implements sections 3 and 4 of ``dsmlib/trained/PREREGISTRATION.md`` (fixed before seeds
2-7 were trained) with the tests of :mod:`dsmlib.ensemble_stats`. For every claim,
:func:`claim_cells` gives one :class:`~dsmlib.ensemble_stats.Cell` per (reading or part,
data set), and :func:`claim_decision` the verdict and severity of the table in section 3.
The constants below are the registration's; none was chosen after seeing a number.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ...ensemble_stats import Cell, bootstrap_cell, decide, one_sample_cell, two_arm_cell
from .experiments import DATASETS, SEEDS, EnsembleResult, ModelSummary

#: the commit that fixed PREREGISTRATION.md (before any model of seeds 2-7 existed)
REGISTRATION_COMMIT = "e0f153e0e7df8f8becfb0f2aee27a0171fd2d5c4"
#: the paper's own data set decides the headline; the other can only narrow its scope
PAPER_DATASET = "mnist"
#: seeds trained after the registration (the sensitivity analysis uses only these)
NEW_SEEDS = tuple(range(2, 8))
#: runs per arm the registration fixes; with fewer stored, no verdict is drawn (no interim
#: analysis was registered): the cells are shown and the verdict is ``inconclusive``
REGISTERED_RUNS = 8
#: curves are used while they stay at or above this value (section 4, RC-F3)
CURVE_FLOOR = 1e-9
#: RC-F4 "very similar": equivalence margin in decades of the residual ratio (a factor 1.26)
F4_MARGIN = 0.1
#: RC-MECH: equivalence margin of the change of the relative advantage (25 %)
MECH_MARGIN = float(np.log(1.25))
#: RC-CONV: largest acceptable share of test predictions changed by stopping at 50 half-steps
CONV_MARGIN = 0.01
#: RC-GT: growth factor per step between exponential decay (ratios -> 1) and cubic (3)
GT_K = 2.0
#: a relative residual below this is rounding, not signal (about 4,500 float64 ulps): a
#: difference of logs taken against such values is a lower bound, and its spread across runs
#: is the spread of rounding errors (a printing rule, added after the registration; it
#: changes no test and no verdict)
FLOAT_FLOOR = 1e-12


# ---------------------------------------------------------------------------------------
# per-model summaries of curves
# ---------------------------------------------------------------------------------------
def resolvable(curve: NDArray, floor: float = CURVE_FLOOR) -> int:
    """Largest t such that ``curve[:t]`` stays at or above ``floor`` (0 if none)."""
    ok = np.asarray(curve) >= floor
    return int(ok.size if ok.all() else np.argmin(ok))


def decay_slope(curve: NDArray, floor: float = CURVE_FLOOR) -> float:
    """Least-squares slope of ``log10 curve[t-1]`` against t = 1..t_max (decades per factor),
    t_max from :func:`resolvable`; NaN with fewer than 3 resolvable depths."""
    tmax = resolvable(curve, floor)
    if tmax < 3:
        return float("nan")
    t = np.arange(1, tmax + 1)
    return float(np.polyfit(t, np.log10(np.asarray(curve[:tmax], dtype=np.float64)), 1)[0])


def growth_factor(curve: NDArray, start: int = 2, floor: float = CURVE_FLOOR) -> float:
    """ln of the geometric mean of ``ln r(t+1) / ln r(t)`` over t >= ``start`` with both values
    resolvable (RC-GT part 2: about 0 for exponential decay late in depth, ln 3 for cubic);
    NaN if no step is resolvable."""
    c = np.asarray(curve, dtype=np.float64)
    tmax = resolvable(c, floor)
    t = np.arange(start, tmax)  # steps t -> t + 1, both <= tmax (1-based)
    if t.size == 0:
        return float("nan")
    a, b = np.log(c[t - 1]), np.log(c[t])
    ok = a < 0
    return float(np.mean(np.log(b[ok] / a[ok]))) if ok.any() else float("nan")


def _finite(x: list[float]) -> NDArray[np.float64]:
    a = np.asarray(x, dtype=np.float64)
    return a[np.isfinite(a)]


@dataclass(frozen=True)
class Part:
    """One cell of a claim: which reading or part, on which data set, and its test."""

    claim: str
    part: str
    dataset: str
    cell: Cell | None
    note: str = ""
    #: the reference side of every run sits below :data:`FLOAT_FLOOR`: the effect is a lower
    #: bound, and ``d`` and the smallest detectable effect measure rounding, not runs
    at_floor: bool = False

    @property
    def outcome(self) -> str:
        return "undecided" if self.cell is None else self.cell.outcome


def _two(claim, part, ds, a: list[float], b: list[float], **kw) -> Part:
    a, b = _finite(a), _finite(b)
    if a.size < 2 or b.size < 2:
        return Part(claim, part, ds, None, f"{a.size} + {b.size} runs with a finite summary")
    return Part(claim, part, ds, two_arm_cell(a, b, **kw))


def _one(claim, part, ds, z: list[float], *, at_floor: bool = False, **kw) -> Part:
    z = _finite(z)
    if z.size < 2:
        return Part(claim, part, ds, None, f"{z.size} runs with a finite summary")
    return Part(claim, part, ds, one_sample_cell(z, **kw), at_floor=at_floor)


def _arms(r: EnsembleResult, ds: str, seeds) -> tuple[list[ModelSummary], list[ModelSummary]]:
    return r.arm(ds, "sinkhorn", seeds), r.arm(ds, "softmax", seeds)


def _log10(x: float) -> float:
    return float(np.log10(max(x, 1e-300)))


# ---------------------------------------------------------------------------------------
# the cells of each claim (section 4)
# ---------------------------------------------------------------------------------------
def cells_rc_f1(r: EnsembleResult, ds: str, seeds=SEEDS) -> list[Part]:
    sk, sm = _arms(r, ds, seeds)
    return [
        _two("RC-F1", "across models", ds, [m.entropy_l1 for m in sk], [m.entropy_l1 for m in sm]),
        _one("RC-F1", "same scores", ds, [m.same_scores_gap for m in r.of(ds, seeds)]),
    ]


def cells_rc_f3(r: EnsembleResult, ds: str, seeds=SEEDS) -> list[Part]:
    sk, sm = _arms(r, ds, seeds)
    return [_two("RC-F3", reading, ds, [decay_slope(m.path_median[k]) for m in sk],
                 [decay_slope(m.path_median[k]) for m in sm])
            for k, reading in enumerate(("plain", "skip", "identity"))]


def _advantage_change(A: NDArray, B: NDArray) -> NDArray:
    """ln(mean b_soft / mean b_sink) with skips minus without; A (Sinkhorn), B (Softmax):
    (..., k, 2) slopes (plain, skip)."""
    sk, sm = A.mean(-2), B.mean(-2)
    with np.errstate(invalid="ignore", divide="ignore"):
        adv = np.log(sm / sk)
    return adv[..., 1] - adv[..., 0]


def cells_rc_mech(r: EnsembleResult, ds: str, seeds=SEEDS) -> list[Part]:
    sk, sm = _arms(r, ds, seeds)
    A = np.array([[decay_slope(m.path_median[k]) for k in (0, 1)] for m in sk])
    B = np.array([[decay_slope(m.path_median[k]) for k in (0, 1)] for m in sm])
    A, B = A[np.isfinite(A).all(-1)], B[np.isfinite(B).all(-1)]
    if len(A) < 2 or len(B) < 2:
        return [Part("RC-MECH", "amplification", ds, None, "too few runs with finite slopes")]
    return [Part("RC-MECH", "amplification", ds, bootstrap_cell(A, B, _advantage_change, margin=MECH_MARGIN))]


def cells_rc_f4(r: EnsembleResult, ds: str, seeds=SEEDS) -> list[Part]:
    ms = r.of(ds, seeds)
    sk, sm = _arms(r, ds, seeds)
    i = {k: n for n, k in enumerate(("pure", "san_skip", "san_ff", "full"))}
    out = [
        _one("RC-F4", f"skips keep rank ({name})", ds,
             [_log10(m.q[i[skip], -1]) - _log10(m.q[i[ref], -1]) for m in ms],
             at_floor=bool(ms) and all(m.q[i[ref], -1] < FLOAT_FLOOR for m in ms))
        for name, skip, ref in (("SAN", "san_skip", "pure"), ("with FF", "full", "san_ff"))
    ]
    for s in ("san_skip", "full"):
        out.append(_two("RC-F4", f"similar ({'SAN + skip' if s == 'san_skip' else 'full'})", ds,
                        [float(np.mean(np.log10(np.maximum(m.q[i[s]], 1e-300)))) for m in sk],
                        [float(np.mean(np.log10(np.maximum(m.q[i[s]], 1e-300)))) for m in sm],
                        margin=F4_MARGIN, kind="similarity"))
    return out


def cells_rc_conv(r: EnsembleResult, ds: str, seeds=SEEDS) -> list[Part]:
    sk = r.arm(ds, "sinkhorn", seeds)
    # claim: mean share of changed predictions < CONV_MARGIN, i.e. mean(CONV_MARGIN - z) > 0
    return [_one("RC-CONV", "predictions kept", ds, [CONV_MARGIN - m.conv_changed for m in sk],
                 margin=CONV_MARGIN, permutation=False)]


def ds_trend(hist_col_dev: NDArray) -> float:
    """RC-DS part 1 of one model: ``ln(c(E) / c(1))`` from its logged per-epoch column deviation
    (entry 0 = untrained, not used); NaN without two trained epochs or a non-positive value."""
    h = np.asarray(hist_col_dev, dtype=np.float64)
    return float(np.log(h[-1] / h[1])) if h.size > 2 and h[1] > 0 and h[-1] > 0 else float("nan")


def ds_beyond(col_dev: float, col_dev_shuffled: float) -> float:
    """RC-DS part 2 of one model: ``ln(c_trained / c_shuffled)``."""
    return float(np.log(col_dev / col_dev_shuffled))


def _ds_parts(ds: str, runs) -> list[Part]:
    """RC-DS's two parts over Softmax runs ``runs`` (objects with ``hist_col_dev``, ``col_dev``
    and ``col_dev_shuffled``), signs flipped so that the claim predicts ``> 0``."""
    return [
        _one("RC-DS", "trend from epoch 1", ds, [-ds_trend(m.hist_col_dev) for m in runs]),
        _one("RC-DS", "beyond sharpness", ds, [-ds_beyond(m.col_dev, m.col_dev_shuffled) for m in runs]),
    ]


def cells_rc_ds(r: EnsembleResult, ds: str, seeds=SEEDS) -> list[Part]:
    return _ds_parts(ds, r.arm(ds, "softmax", seeds))


#: the label of RC-DS's second-reading cells (Sinkformers' own MNIST setting)
SF_DATASET = "mnist, Sinkformers' setting"


def rc_ds_sinkformers(r: EnsembleResult, seeds=SEEDS) -> tuple[str, str, list[Part]] | None:
    """RC-DS's second reading (PREREGISTRATION.md section 4): the same two parts on the Softmax
    runs in Sinkformers' own MNIST setting (``r.sinkformers``), one-sample tests over the runs,
    and the reading's verdict by the table of section 3 (no second data set).

    Returns
    -------
    (verdict, severity, cells), or None if no run of the reading is stored
        ``inconclusive`` while any of the registered runs (``seeds``) is missing: the
        registration names the reading "when its 8 runs are stored".
    """
    runs = [m for m in r.sinkformers if m.seed in seeds]
    if not runs:
        return None
    cells = _ds_parts(SF_DATASET, runs)
    if len({m.seed for m in runs}) < len(seeds):
        return "inconclusive", "", cells
    v, sev = decide([_part_outcome(cells, h) for h in CLAIM_CELLS["RC-DS"][1]])
    return v, sev, cells


def gt_rate(curve: NDArray) -> float:
    """Decay rate in nats per factor (``-ln 10 x`` :func:`decay_slope`)."""
    return -float(np.log(10.0)) * decay_slope(curve)


def cells_rc_gt(r: EnsembleResult, ds: str, seeds=SEEDS) -> list[Part]:
    ms = r.of(ds, seeds)
    lk2 = float(np.log(GT_K))
    return [
        _one("RC-GT", "faster than random", ds, [gt_rate(m.path_median[0]) - gt_rate(m.random_median) for m in ms]),
        _one("RC-GT", "doubly exponential (paths)", ds, [growth_factor(m.path_median[0]) for m in ms], null=lk2),
        _one("RC-GT", "doubly exponential (SAN outputs)", ds, [growth_factor(m.q[0]) for m in ms], null=lk2),
    ]


#: claim -> (cell builder, the headline parts in order, main first)
CLAIM_CELLS = {
    "RC-F1": (cells_rc_f1, ("across models",)),
    "RC-F3": (cells_rc_f3, ("plain", "skip")),
    "RC-MECH": (cells_rc_mech, ("amplification",)),
    "RC-F4": (cells_rc_f4, ("skips keep rank", "similar")),
    "RC-CONV": (cells_rc_conv, ("predictions kept",)),
    "RC-DS": (cells_rc_ds, ("trend from epoch 1", "beyond sharpness")),
    "RC-GT": (cells_rc_gt, ("faster than random", "doubly exponential (paths)")),
}


def claim_cells(r: EnsembleResult, claim: str, seeds=SEEDS) -> list[Part]:
    """Every cell of ``claim`` on every data set with stored runs."""
    if claim not in CLAIM_CELLS:
        raise ValueError(f"claim must be one of {tuple(CLAIM_CELLS)}, got {claim!r}")
    build = CLAIM_CELLS[claim][0]
    return [p for ds in DATASETS if r.of(ds, seeds) for p in build(r, ds, seeds)]


def _part_outcome(parts: list[Part], name: str) -> str:
    """A headline part's outcome; a part made of several cells (names starting with
    ``name``) supports only if all do, and fails if any opposes or is equivalent."""
    outs = [p.outcome for p in parts if p.part.startswith(name)]
    if not outs:
        return "undecided"
    for o in ("opposes", "equivalent"):
        if o in outs:
            return o
    return "supports" if all(o == "supports" for o in outs) else "undecided"


def missing_runs(r: EnsembleResult, seeds=SEEDS) -> int:
    """How many runs of the registered design (``seeds`` x both arms x both data sets) are not stored."""
    return sum(len(seeds) - len(r.arm(ds, nm, seeds)) for ds in DATASETS for nm in ("softmax", "sinkhorn"))


def claim_decision(r: EnsembleResult, claim: str, seeds=SEEDS) -> tuple[str, str, list[Part]]:
    """(verdict, severity, cells) by the table of section 3; ``inconclusive`` while any run of
    the registered design is missing (see :data:`REGISTERED_RUNS`)."""
    cells = claim_cells(r, claim, seeds)
    if missing_runs(r, seeds):
        return "inconclusive", "", cells
    heads = CLAIM_CELLS[claim][1]
    paper = [_part_outcome([p for p in cells if p.dataset == PAPER_DATASET], h) for h in heads]
    other = [_part_outcome([p for p in cells if p.dataset != PAPER_DATASET], h) for h in heads]
    if not any(p.dataset == PAPER_DATASET for p in cells):
        return "inconclusive", "", cells
    v, s = decide(paper, other if any(p.dataset != PAPER_DATASET for p in cells) else None)
    return v, s, cells
