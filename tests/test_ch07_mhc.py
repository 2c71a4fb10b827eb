"""Chapter 7 (mHC): every BK-MHC* check flips on a result built to flip it; helpers' properties."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from dsmlib import claims, mhc
from dsmlib.experiments import ch07_mhc as ch
from dsmlib.experiments.ch07_mhc import checks as ck
from dsmlib.experiments.ch07_mhc import experiments as ex
from dsmlib.spectra import sigma2

R = len(ex.RECIPE_NAMES)


# ----------------------------------------------------------------------------- BK-MHCS2
def s2_result(product=None, bound=None):
    cfg = ex.S2Config(chains=3)
    k = np.arange(1, 123)
    s = np.linspace(0.01, 0.999, R)[:, None, None] * np.ones((R, 3, 122))
    b = s ** k if bound is None else bound
    p = b.copy() if product is None else product
    return ex.S2Result(cfg, ex.RECIPE_NAMES, s, p, b, np.zeros_like(s), np.ones(R))


def test_s2_confirmed_when_bound_holds_and_decides():
    assert ck.check_bk_mhcs2(s2_result()).verdict == "confirmed"


def test_s2_refuted_when_a_product_exceeds_the_bound():
    r = s2_result()
    p = r.product.copy()
    p[-1, 0, 50] = r.bound[-1, 0, 50] * 1.01 + 1e-12
    v = ck.check_bk_mhcs2(dataclasses.replace(r, product=p))
    assert v.verdict == "refuted" and v.severity == "conclusion"


def test_s2_qualified_when_the_bound_is_loose_enough_to_misjudge():
    r = s2_result()
    p = r.product.copy()
    p[-1] = np.minimum(p[-1], 1e-6)  # the bound says kept, the product is homogenised
    v = ck.check_bk_mhcs2(dataclasses.replace(r, product=p))
    assert v.verdict == "qualified" and v.severity == "scope"


# ----------------------------------------------------------------------------- BK-MHCLINE
def test_line_confirmed_and_flips_when_the_reported_product_keeps_half():
    r = ex.line_experiment()
    assert ck.check_bk_mhcline(r).verdict == "confirmed"
    rp = r.reported_product.copy()
    rp[r.readings.index("scaled")] = 0.6
    v = ck.check_bk_mhcline(dataclasses.replace(r, reported_product=rp))
    assert v.verdict == "refuted" and v.severity == "conclusion"
    v = ck.check_bk_mhcline(dataclasses.replace(r, at_line=r.at_line * 1.2))
    assert v.verdict == "refuted" and v.severity == "constant"


def test_line_formula_and_offdiagonal_mass():
    """s* = 0.5^(1/(2L)); H(s*) has sigma_2 = s* and per-row off-diagonal mass 3(1 - s*)/4."""
    s = ex.line_sigma2(61)
    H = ex.lazy_uniform(s)
    assert abs(float(sigma2(H)) - s) < 1e-14
    assert abs(H[0].sum() - H[0, 0] - 0.75 * (1 - s)) < 1e-15
    assert mhc.ds_error(H) < 1e-15
    for H in ex.reported_readings().values():
        assert mhc.ds_error(H) < 1e-15


# ----------------------------------------------------------------------------- BK-MHCDS
def ds_result():
    cfg = ex.DSConfig(draws=4)
    err = np.full((R, 3, len(cfg.ranges), 4), 1e-7)
    err[:, 2] = 4e-3  # bf16 level everywhere
    err[:, :, np.asarray(cfg.ranges) > ck.DS_RANGE_MAX] = 0.05
    lite = ex.RECIPE_NAMES.index("mhc_lite")
    err[lite] = [[[1e-16]], [[1e-7]], [[2e-3]]]
    return ex.DSResult(cfg, ex.RECIPE_NAMES, ex.DTYPES, err)


def test_ds_confirmed_then_qualified_then_refuted():
    r = ds_result()
    assert ck.check_bk_mhcds(r).verdict == "confirmed"
    e = r.error.copy()
    e[ex.RECIPE_NAMES.index("tokenbender"), 1, 3] = 0.01  # float32 misses the tolerance at a small range
    v = ck.check_bk_mhcds(dataclasses.replace(r, error=e))
    assert v.verdict == "qualified" and v.severity == "scope" and "tokenbender" in v.holds
    e = r.error.copy()
    e[ex.RECIPE_NAMES.index("mhc_lite"), 0] = 1e-9  # mHC-lite not exact in float64
    v = ck.check_bk_mhcds(dataclasses.replace(r, error=e))
    assert v.verdict == "refuted"


def test_ds_rule_reads_the_learned_gap_itself():
    """The grid point at the learned gap (4.277) is inside the rule's range."""
    r = ds_result()
    j = int(np.argmin(np.abs(np.asarray(r.config.ranges) - ex.LEARNED_GAP)))
    e = r.error.copy()
    e[ex.RECIPE_NAMES.index("paper"), 1, j] = 0.005
    assert ck.check_bk_mhcds(dataclasses.replace(r, error=e)).verdict == "qualified"


def test_ds_flips_when_bf16_is_accurate():
    r = ds_result()
    e = r.error.copy()
    e[ex.RECIPE_NAMES.index("paper"), 2] = 1e-7
    v = ck.check_bk_mhcds(dataclasses.replace(r, error=e))
    assert v.verdict == "qualified" and "paper" in v.holds


def test_range_logits_have_the_asked_effective_range():
    rng = np.random.default_rng(0)
    for name in ("tokenbender", "mhc_lite", "v4"):
        L = ex.range_logits(name, (0.5, 7.0), 3, rng) / mhc.RECIPES[name].tau
        ptp = np.ptp(L.reshape(2, 3, -1), axis=-1)
        np.testing.assert_allclose(ptp, [[0.5] * 3, [7.0] * 3], rtol=1e-12)


# ----------------------------------------------------------------------------- BK-MHCGAIN
def gain_result():
    cfg = ex.GainConfig(chains=2)
    shape = (R, 2, 2, 2, cfg.depth)
    tf, tb = np.zeros((R, 2)), np.zeros((R, 2))
    for i, name in enumerate(ex.RECIPE_NAMES):
        side = ex.exact_side(name)
        if side == "forward":
            tb[i] = 0.05
        elif side == "backward":
            tf[i] = 0.05
    eps = np.asarray(cfg.eps_values)
    pred = (1 + eps) ** (-cfg.depth)
    eg = np.broadcast_to(pred[:, None, None], (2, 2, 2)).copy()
    return ex.GainResult(cfg, ex.RECIPE_NAMES, ("init", "learned"), np.ones(shape), np.full(shape, 1.05),
                         tf, tb, eg, pred)


def test_gain_confirmed_and_flips():
    r = gain_result()
    assert ck.check_bk_mhcgain(r).verdict == "confirmed"
    b = r.backward.copy()
    b[0, 1, 1, 0, -1] = 1.7
    v = ck.check_bk_mhcgain(dataclasses.replace(r, backward=b))
    assert v.verdict == "refuted" and v.severity == "conclusion"
    v = ck.check_bk_mhcgain(dataclasses.replace(r, eps_gain=r.eps_gain ** 1.5))
    assert v.verdict == "qualified" and v.severity == "constant"
    v = ck.check_bk_mhcgain(dataclasses.replace(r, trunc_forward=r.trunc_backward, trunc_backward=r.trunc_forward))
    assert v.verdict == "qualified" and v.severity == "proof"


def test_exact_side_follows_last_step_and_transpose():
    """V4 (last column step, comb^T applied): forward exact; the paper's untransposed H: backward."""
    assert ex.exact_side("v4") == "forward" and ex.exact_side("paper") == "backward"
    assert ex.exact_side("lucidrains") == "backward" and ex.exact_side("mhc_lite") == "both"
    L = np.random.default_rng(1).normal(size=(20, 4, 4)) * 2
    for name in ("v4", "paper", "lucidrains", "tokenbender", "mhc_lite_sinkhorn"):
        r = dataclasses.replace(mhc.RECIPES[name], eps=0.0)
        H = mhc.h_res(L * r.tau, r)
        A = np.swapaxes(H, -1, -2) if r.transpose_on_apply else H
        exact = A.sum(-1) if ex.exact_side(name) == "forward" else A.sum(-2)
        np.testing.assert_allclose(exact, 1.0, atol=1e-14)


# ----------------------------------------------------------------------------- BK-MHCNORM
def norm_result(cos_low=0.05, ratio_change=0.0, gamma_min=0.01):
    cfg = ex.NormConfig(depths=(0, 10, 20), chains=2)
    gamma = np.array([[10.0] * 2, [1.0] * 2, [gamma_min] * 2])
    base = np.array([[0.8] * 2, [0.3] * 2, [0.05] * 2])
    ratio = np.stack([base, base * (1 + ratio_change), base, np.ones_like(base)])
    cos = np.array([[0.99] * 2, [0.7] * 2, [cos_low] * 2])
    return ex.NormResult(cfg, ex.NORMS, ratio, np.stack([cos] * 4), gamma)


def test_norm_confirmed_refuted_qualified_inconclusive():
    assert ck.check_bk_mhcnorm(norm_result()).verdict == "confirmed"
    v = ck.check_bk_mhcnorm(norm_result(ratio_change=0.5))
    assert v.verdict == "refuted" and v.severity == "conclusion"
    v = ck.check_bk_mhcnorm(norm_result(cos_low=0.6))
    assert v.verdict == "qualified" and v.severity == "scope"
    assert ck.check_bk_mhcnorm(norm_result(gamma_min=0.5)).verdict == "inconclusive"


def test_pre_norms():
    x = np.random.default_rng(2).normal(size=(3, 4, 16)) + 5.0
    y = ex.pre_norm(x, "rms")
    np.testing.assert_allclose(np.mean(y * y, -1), 1.0, rtol=1e-12)
    y = ex.pre_norm(x, "layernorm")
    np.testing.assert_allclose(y.mean(-1), 0.0, atol=1e-12)
    y = ex.pre_norm(x, "across")
    np.testing.assert_allclose(y.mean(-2), 0.0, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(y, axis=(-2, -1)), 1.0, rtol=1e-12)
    with pytest.raises(ValueError):
        ex.pre_norm(x, "batchnorm")


# ----------------------------------------------------------------------------- registry
def test_ids_are_registered_and_routed():
    for cid in ch.FINDING_IDS:
        assert cid in claims.CLAIMS and claims.CLAIMS[cid].chapter == "07_mhc"
        assert claims.checks_module(cid) == "dsmlib.experiments.ch07_mhc.checks"
    # the trained four-stream check lives in chapter 7b's module
    assert claims.checks_module("BK-MHCTRAIN") == "dsmlib.experiments.ch07_mhc.trained"
    assert claims.CLAIMS["BK-MHCTRAIN"].chapter == "07b_mhc_trained"


def test_learned_logits_give_a_096_diagonal_in_the_limit():
    """The learned-like setting's noise-free logits put 0.96 on the diagonal of the Sinkhorn limit."""
    for name in ("v4", "mhc_lite"):
        L = ex.learned_logits(name, (1,), 0.0, np.random.default_rng(0))
        r = dataclasses.replace(mhc.RECIPES[name], iterations=200, eps=0.0) if name != "mhc_lite" else name
        H = mhc.h_res(L, r)
        np.testing.assert_allclose(np.diagonal(H, axis1=-2, axis2=-1), 0.96, atol=1e-12)


def test_prose_numbers_are_formatted_strings():
    """The numbers the prose quotes exist for any result and are non-empty strings."""
    nums = ch.prose_numbers(s2_result(), ex.line_experiment(), gain_result(), ds_result())
    assert all(isinstance(v, str) and v for v in nums.values())
    assert nums["mhc-half-lite"] == "more than 122"  # synthetic mHC-lite keeps half to the end
