r"""Chapter 7's own results (BK-MHC*): each question and decision rule is fixed here, in a
docstring and module constants, before the numbers; :data:`CHECKS` maps id -> (experiment, check).
"""

from __future__ import annotations

import numpy as np

from ... import mhc
from ...verdicts import Reading, Verdict, severity, verdict
from .._format import sig, small
from .experiments import (
    LEARNED_GAP,
    DSResult,
    GainResult,
    LineResult,
    NormResult,
    S2Result,
    ds_experiment,
    exact_side,
    gain_experiment,
    line_experiment,
    norm_experiment,
    s2_experiment,
)

# ---- BK-MHCS2 ---------------------------------------------------------------------------
#: a product "homogenises" the streams below this sigma_2, "keeps" them at or above KEEP
HOMOGENISED, KEEP = 1e-3, 0.5
#: a measured sigma_2 violates HT's bound if above bound * (1 + S2_REL) + S2_ABS (float64 floor)
S2_REL, S2_ABS = 1e-6, 1e-13


def fate(s: np.ndarray) -> np.ndarray:
    """0 homogenised (< HOMOGENISED), 2 kept (>= KEEP), 1 between."""
    s = np.asarray(s)
    return np.where(s < HOMOGENISED, 0, np.where(s >= KEEP, 2, 1))


FATES = ("homogenised", "partly contracted", "kept")


def check_bk_mhcs2(result: S2Result) -> Verdict:
    """Question: at each recipe's initialisation, does HT's bound sigma_2(H_k...H_1) <= prod sigma_2(H_i)
    (Lemma 2, Remark 2) hold on the measured products, and does it decide the streams' fate at
    2L = 48, 86, 122 factors?

    Rule: (1) a violation is a product above bound (1 + S2_REL) + S2_ABS, any recipe, chain, depth;
    (2) the fate (HOMOGENISED / KEEP classes) of the median bound equals that of the median measured
    product for every recipe and L. (1) fails -> refuted (conclusion: the bound does not hold for the
    recipe's approximate DSMs); (2) fails -> qualified (scope: the bound holds but does not decide);
    both hold -> confirmed.
    """
    ks = [2 * L for L in result.config.layers]
    excess = result.product - (result.bound * (1 + S2_REL) + S2_ABS)
    n_viol = int(np.sum(excess > 0))
    med_p = np.median(result.product[..., [k - 1 for k in ks]], axis=1)
    med_b = np.median(result.bound[..., [k - 1 for k in ks]], axis=1)
    agree = fate(med_p) == fate(med_b)
    parts = []
    for i, name in enumerate(result.recipes):
        s1 = np.median(result.sigma2_factor[i])
        vals = ", ".join(small(v, 1e-13) for v in med_p[i])
        parts.append(f"{name} $\\sigma_2(H)$ = {small(s1, 1e-13, 3)}, product {vals} ({FATES[int(fate(med_p[i, -1]))]})")
    ev = (f"Median over {result.config.chains} seeded stacks at $2L$ = {', '.join(map(str, ks))}: "
          + "; ".join(parts) + f". Products above HT's bound: {n_viol}.")
    can_fail = ("truncated Sinkhorn (and eps) leave H_res only approximately doubly stochastic, so Lemma 2's "
                "premise fails and a product can exceed the bound; a loose bound can misclassify a recipe")
    if n_viol:
        return verdict("BK-MHCS2", "refuted", ev, holds="the bound fails on some measured products.",
                       severity=severity(part="conclusion"), can_fail=can_fail)
    if not np.all(agree):
        bad = sorted({result.recipes[i] for i in np.argwhere(~agree)[:, 0]})
        return verdict("BK-MHCS2", "qualified", ev,
                       holds=f"the bound holds but misjudges the fate for {', '.join(bad)}.",
                       severity=severity(part="scope"), can_fail=can_fail)
    return verdict("BK-MHCS2", "confirmed", ev, can_fail=can_fail)


# ---- BK-MHCLINE -------------------------------------------------------------------------
#: the measured sigma_2 of 2L factors H(s*) must equal 1/2 to this relative tolerance
LINE_RTOL = 1e-9


def check_bk_mhcline(result: LineResult) -> Verdict:
    """Question: which per-factor sigma_2 keeps half the non-mean energy over 2L factors, what
    off-diagonal mass does it allow, and where do the reported learned matrices (0.96 / 0.01) fall?

    Rule: (1) the product of 2L factors H(s*) measures sigma_2 = 1/2 within LINE_RTOL, every L (else
    refuted, part value); (2) per reading of the reported matrix, 'uniform side' if the measured
    sigma_2 of its 2L-product is < 1/2 at every L. The headline follows the reading 'scaled' (0.96 /
    0.01 as printed, rows scaled to sum 1): uniform side at every L -> confirmed; else refuted
    (conclusion: the reported mixers would keep the streams).
    """
    Ls = result.config.layers
    line_ok = bool(np.all(np.abs(result.at_line / 0.5 - 1) < LINE_RTOL))
    ev = ("Line $s^* = 0.5^{1/(2L)}$ = " + ", ".join(f"{s:.4f}" for s in result.line)
          + f" for $L$ = {', '.join(map(str, Ls))}: off-diagonal mass per row at most "
          + ", ".join(f"{100 * m:.2f}%" for m in result.offdiag_mass)
          + "; measured $\\sigma_2$ of $2L$ factors $H(s^*)$: "
          + ", ".join(sig(v, 6) for v in result.at_line) + ". Reported matrices: "
          + "; ".join(f"{r}: $\\sigma_2$ = {result.reported_s2[i]:.4f}, product "
                      + ", ".join(sig(v, 2) for v in result.reported_product[i])
                      + f", half the detail left after {result.reported_half_depth[i]:.1f} factors"
                      for i, r in enumerate(result.readings)) + ".")
    can_fail = ("the reported mixers would sit on the identity side if their per-factor $\\sigma_2$ exceeded "
                "$s^*$; the line's measurement fails if $\\sigma_2$ of the products is not multiplicative")
    if not line_ok:
        return verdict("BK-MHCLINE", "refuted", ev, holds="the measured line differs from 0.5^(1/(2L)).",
                       severity=severity(part="value", factor=float(np.max(result.at_line / 0.5))),
                       can_fail=can_fail)
    readings = []
    for i, r in enumerate(result.readings):
        uniform = bool(np.all(result.reported_product[i] < 0.5))
        readings.append(Reading(
            {"scaled": "0.96 / 0.01 as printed, rows scaled to sum 1",
             "diagonal": "diagonal 0.96 exact, off-diagonal (1 - 0.96)/3"}.get(r, r),
            "confirmed" if uniform else "refuted",
            f"product $\\sigma_2$ at $2L$ = {2 * Ls[0]}: {sig(result.reported_product[i, 0], 2)}",
            papers_own=(r == "scaled")))
    own = next(x for x in readings if x.papers_own)
    if own.verdict == "confirmed":
        return verdict("BK-MHCLINE", "confirmed", ev, readings=readings, can_fail=can_fail)
    return verdict("BK-MHCLINE", "refuted", ev, holds="the reported mixers keep half the detail.",
                   severity=severity(part="conclusion"), readings=readings, can_fail=can_fail)


# ---- BK-MHCDS ---------------------------------------------------------------------------
#: distance from doubly stochastic counted as "doubly stochastic" (95th percentile over draws)
DS_TOL = 1e-3
DS_QUANTILE = 0.95
#: the largest range the float32 part reads: the learned gap ln 72 as the grid holds it (4.277)
DS_RANGE_MAX = float(f"{LEARNED_GAP:.4g}")
#: bf16's rounding level near 1 (half an ulp of [1, 2))
BF16_LEVEL = 2.0**-9
#: mHC-lite's exactness: a few units of rounding of each precision
LITE_TOL = {"float64": 8 * 2.0**-52, "float32": 8 * 2.0**-23, "bfloat16": 8 * 2.0**-8}


def ds_quantiles(result: DSResult) -> np.ndarray:
    """DS_QUANTILE of the error over draws, (recipe, dtype, range)."""
    return np.quantile(result.error, DS_QUANTILE, axis=-1)


def check_bk_mhcds(result: DSResult) -> Verdict:
    """Question: how far from doubly stochastic is H_res after each recipe's fixed iteration count,
    against effective logit range, in float64, float32 and bfloat16?

    Rule (95th percentile over draws): (a) in float64 and float32 every Sinkhorn recipe is within
    DS_TOL at every range <= DS_RANGE_MAX (ln 72, the logit gap of a 0.96-diagonal mixer); (b) every recipe
    that hands over bf16 H_res has error >= BF16_LEVEL at every range; (c) mHC-lite is within
    LITE_TOL in every precision at every range. All -> confirmed; (a) or (b) failing alone ->
    qualified (scope: holds for the other recipes / ranges); (c) failing, or (a) and (b) -> refuted.
    """
    q = ds_quantiles(result)
    ranges = np.asarray(result.config.ranges)
    low = ranges <= DS_RANGE_MAX
    names = list(result.recipes)
    dts = list(result.dtypes)
    sink = [i for i, n in enumerate(names) if mhc.RECIPES[n].method == "sinkhorn"]
    fail_a = [names[i] for i in sink if np.any(q[i, :2][:, low] > DS_TOL)]
    bf = dts.index("bfloat16")
    bf16_out = [i for i, n in enumerate(names) if not mhc.RECIPES[n].upcast or mhc.RECIPES[n].cast_back]
    fail_b = [names[i] for i in bf16_out if np.any(q[i, bf] < BF16_LEVEL)]
    lite = names.index("mhc_lite")
    fail_c = [d for j, d in enumerate(dts) if np.any(q[lite, j] > LITE_TOL[d])]
    worst_a = {names[i]: float(np.max(q[i, :2][:, low])) for i in sink}
    margins = {i: float(q[i, bf].min() / BF16_LEVEL) for i in bf16_out}
    closest = min(margins, key=margins.get)
    margin = margins[closest]
    ev = (f"95th percentile over {result.config.draws} draws, effective ranges up to {DS_RANGE_MAX:g}, float32: "
          + ", ".join(f"{n} {small(v, 1e-5, 2)}" for n, v in worst_a.items())
          + f" (tolerance {sig(DS_TOL)}); at range {ranges[-1]:g}, float64: "
          + ", ".join(f"{n} {small(q[i, 0, -1], 1e-12, 2)}" for i, n in enumerate(names))
          + f"; recipes handing over bf16 at or above bf16's rounding level {sig(BF16_LEVEL, 3)} at every range: "
          + ", ".join(f"{names[i]} {'no' if names[i] in fail_b else 'yes'}" for i in bf16_out)
          + f" (closest: {names[closest]} at {margin:.2f} times the level)"
          + "; mHC-lite within a few units of rounding: "
          + ", ".join(f"{d} {'no' if d in fail_c else 'yes'}" for d in dts) + ".")
    can_fail = ("a recipe can miss the tolerance within its iteration count (slow Sinkhorn at large range), "
                "bf16 could be accurate enough, mHC-lite could lose exactness to rounding")
    if fail_c or (fail_a and fail_b):
        return verdict("BK-MHCDS", "refuted", ev, holds="see the failing parts in the evidence.",
                       severity=severity(part="conclusion"), can_fail=can_fail)
    if fail_a or fail_b:
        what = []
        if fail_a:
            what.append(f"the float32 tolerance at ranges up to {DS_RANGE_MAX:g} holds for all recipes but "
                        + ", ".join(fail_a))
        if fail_b:
            what.append("bf16 error reaches the bf16 level for all recipes but " + ", ".join(fail_b))
        return verdict("BK-MHCDS", "qualified", ev, holds="; ".join(what) + ".",
                       severity=severity(part="scope"), can_fail=can_fail)
    return verdict("BK-MHCDS", "confirmed", ev, can_fail=can_fail)


# ---- BK-MHCGAIN -------------------------------------------------------------------------
#: the reported composite Amax gain bound of mHC
GAIN_BOUND = 1.6
#: the measured per-factor contraction -ln(gain)/depth must match ln(1 + eps) within this factor
EPS_RTOL = 0.1
#: below this, |gain - 1| is float64 rounding: the side is exact
EXACT_LEVEL = 1e-12


def check_bk_mhcgain(result: GainResult) -> Verdict:
    """Question: does the composite forward (row) and backward (column) Amax gain over 122 factors
    stay <= 1.6 as reported; what contraction does eps alone cause; which side carries the truncation
    error when comb^T is applied after a last column step?

    Rule: (a) max gain over recipes, settings (init, learned-like), precisions, chains <= GAIN_BOUND,
    else refuted (conclusion); (b) per-factor contraction of V4's composite within EPS_RTOL of
    ln(1 + eps) for each eps and setting, else qualified (part value, factor); (c) for each Sinkhorn
    recipe the truncation error (eps = 0, float64) is below EXACT_LEVEL on :func:`exact_side` and above
    it on the other, mHC-lite below on both, else qualified (part reasoning). All -> confirmed.
    """
    cfg = result.config
    gmax = float(max(result.forward[..., -1].max(), result.backward[..., -1].max()))
    rate = -np.log(result.eps_gain) / cfg.depth  # (eps, setting, chain)
    ratio = np.median(rate, axis=-1) / np.log1p(np.asarray(cfg.eps_values))[:, None]
    eps_ok = bool(np.all(np.abs(ratio - 1) <= EPS_RTOL))
    side_ok, sides = True, []
    for i, name in enumerate(result.recipes):
        f, b = result.trunc_forward[i].max(), result.trunc_backward[i].max()
        pred = exact_side(name)
        ok = {"forward": f < EXACT_LEVEL <= b, "backward": b < EXACT_LEVEL <= f,
              "both": max(f, b) < EXACT_LEVEL}[pred]
        side_ok &= bool(ok)
        carried = "none" if pred == "both" else ("backward" if pred == "forward" else "forward")
        sides.append(f"{name}: {carried} ({small(max(f, b), EXACT_LEVEL, 2)})")
    ev = (f"Largest composite gain over {cfg.depth} factors: {gmax:.2f} (reported bound {GAIN_BOUND}). "
          "eps alone (V4, near-identity logits): contraction per factor $-\\ln(\\text{gain})/"
          f"{cfg.depth}$ = " + ", ".join(
              f"{sig(np.median(rate[e, 1]), 2)} at $\\epsilon$ = {sig(eps)} (predicted $\\ln(1+\\epsilon)$ = "
              f"{sig(np.log1p(eps), 2)}; composite {sig(np.median(result.eps_gain[e, 1]), 2)})"
              for e, eps in enumerate(cfg.eps_values))
          + ". Side carrying the truncation error (largest |gain - 1|, eps = 0, float64): " + "; ".join(sides) + ".")
    can_fail = ("an approximate DSM's row or column sums above 1 compound over 122 factors; eps could act "
                "otherwise than a uniform (1 + eps)^-1 per factor; the error could sit on either side")
    if gmax > GAIN_BOUND:
        return verdict("BK-MHCGAIN", "refuted", ev, holds=f"the composite gain reaches {gmax:.2f}.",
                       severity=severity(part="conclusion"), can_fail=can_fail)
    if not eps_ok or not side_ok:
        part = "value" if not eps_ok else "reasoning"
        worst = float(ratio.flat[np.argmax(np.abs(ratio - 1))])
        return verdict("BK-MHCGAIN", "qualified", ev, holds="the gain bound holds; "
                       + ("eps's contraction differs from (1 + eps)^-k" if not eps_ok else
                          "the truncation error does not sit on the predicted side") + ".",
                       severity=severity(part=part, factor=worst if part == "value" else None),
                       can_fail=can_fail)
    return verdict("BK-MHCGAIN", "confirmed", ev, can_fail=can_fail)


# ---- BK-MHCNORM -------------------------------------------------------------------------
#: a per-stream norm "restores" nothing if it changes ||Ux||/||x|| by less than this (median)
NORM_RTOL = 0.1
#: HT's regimes: direction lost below GAMMA_LOW (cosine < COS_LOW), kept above GAMMA_HIGH (> COS_HIGH)
GAMMA_LOW, GAMMA_HIGH, COS_LOW, COS_HIGH = 0.1, 5.0, 0.3, 0.9


def check_bk_mhcnorm(result: NormResult) -> Verdict:
    """Question: does a pre-norm before each branch restore stream differences once a product of
    H_res has contracted them (HT's LayerNorm argument applied to streams, noise nu as HT)?

    Rule: (a) per-stream RMSNorm and LayerNorm change the difference ratio ||Ux||/||x|| by less than
    NORM_RTOL (median over chains) at every depth, else refuted (conclusion: they would restore it);
    (b) a normalisation across streams restores the ratio to 1 but its cosine with the original
    differences is < COS_LOW (median) wherever median gamma < GAMMA_LOW and > COS_HIGH where > GAMMA_HIGH,
    else qualified (scope); no depth in one of the two regimes -> inconclusive. All -> confirmed.
    """
    k = list(result.norms)
    none = result.ratio[k.index("none")]
    change = {n: float(np.max(np.abs(np.median(result.ratio[k.index(n)] / none, axis=-1) - 1)))
              for n in ("rms", "layernorm")}
    a_ok = all(v < NORM_RTOL for v in change.values())
    g = np.median(result.gamma, axis=-1)
    cos = np.median(result.cosine[k.index("across")], axis=-1)
    lowg, highg = g < GAMMA_LOW, g > GAMMA_HIGH
    b_ok = bool(np.all(cos[lowg] < COS_LOW) and np.all(cos[highg] > COS_HIGH))
    b_tested = bool(lowg.any() and highg.any())
    depths = np.asarray(result.config.depths)
    ev = (f"Largest change of $\\|Ux\\|/\\|x\\|$ by a per-stream norm: RMSNorm {sig(change['rms'], 2)}, "
          f"LayerNorm {sig(change['layernorm'], 2)} (threshold {NORM_RTOL}); ratio without norm "
          f"{np.median(none[0]):.3f} at depth 0, {sig(np.median(none[-1]), 2)} at {depths[-1]}. Across-stream "
          f"norm: cosine with the original differences "
          + (f"at most {cos[lowg].max():.2f} where $\\gamma < {GAMMA_LOW}$" if lowg.any() else "no depth with small gamma")
          + (f", at least {cos[highg].min():.2f} where $\\gamma > {GAMMA_HIGH:g}$" if highg.any() else "") + ".")
    can_fail = ("a per-stream norm rescales each stream by its own factor, which could amplify differences "
                "when streams differ in size; the across-stream direction could survive small gamma")
    if not a_ok:
        return verdict("BK-MHCNORM", "refuted", ev, holds="a per-stream norm changes the stream-difference ratio.",
                       severity=severity(part="conclusion"), can_fail=can_fail)
    if not b_tested:
        return verdict("BK-MHCNORM", "inconclusive", ev + " The depths do not reach both gamma regimes.",
                       can_fail=can_fail)
    if not b_ok:
        return verdict("BK-MHCNORM", "qualified", ev, holds="per-stream norms restore nothing; the "
                       "across-stream norm's direction does not follow HT's gamma regimes here.",
                       severity=severity(part="scope"), can_fail=can_fail)
    return verdict("BK-MHCNORM", "confirmed", ev, can_fail=can_fail)


#: this chapter's checks: claim id -> (experiment, check)
CHECKS = {
    "BK-MHCS2": (s2_experiment, check_bk_mhcs2),
    "BK-MHCLINE": (line_experiment, check_bk_mhcline),
    "BK-MHCDS": (ds_experiment, check_bk_mhcds),
    "BK-MHCGAIN": (gain_experiment, check_bk_mhcgain),
    "BK-MHCNORM": (norm_experiment, check_bk_mhcnorm),
}

__all__ = [
    "CHECKS", "check_bk_mhcds", "check_bk_mhcgain", "check_bk_mhcline", "check_bk_mhcnorm", "check_bk_mhcs2",
    "ds_quantiles", "fate",
]
