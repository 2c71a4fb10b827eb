"""Properties of dsmlib.mhc, the mHC residual mixers (small sizes, fast).

Every recipe is checked against an independent reference written here with plain loops
from the recipe's own formula (as read in its source), in float64, float32 and bfloat16.
The references evaluate each operation in Python floats (float64) and round its result to
the dtype under test; the library evaluates it in numpy float32 (bf16: then rounds to
bf16). For + - * / the two agree exactly (float64 holds every product and quotient of two
float32 numbers well enough to round correctly); exp, log and summation order may differ
by one unit in the last place (ulp) of the intermediate, which can flip one rounding.
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pytest

from dsmlib import mhc
from dsmlib.sinkhorn import sinkhorn
from dsmlib.spectra import sigma2

try:  # ml_dtypes comes with jax (requirements.txt); the latest lane has only pyproject's deps
    import ml_dtypes

    BF16 = ml_dtypes.bfloat16
except ImportError:  # pragma: no cover
    BF16 = None
needs_bf16 = pytest.mark.skipif(BF16 is None, reason="ml_dtypes (bfloat16) is not installed")
DTYPES = [np.float64, np.float32, pytest.param(BF16, marks=needs_bf16, id="bfloat16")]
SINKHORN_RECIPES = [k for k, r in mhc.RECIPES.items() if r.method == "sinkhorn"]

#: float64: the references and the library round differently only in exp/log/summation
#: order (~1e-16 each, ~100 steps); Sinkhorn steps do not amplify such perturbations
TOL64 = 1e-13
#: float32: such a one-ulp difference can flip a rounding; allow four float32 ulps at 1
TOL32 = 4 * 2.0**-23
#: bfloat16: a one-ulp float32 difference of an intermediate can flip one bf16 rounding
#: (the ulp of entries in [0.5, 1) is 2**-8) and the normalisations carry it without
#: amplifying it: at most one bf16 ulp, and on few entries (FLIP_FRACTION), else every
#: entry is bit-identical, which shows the step-by-step rounding is the code's
TOL_BF16 = 2.0**-8
FLIP_FRACTION = 0.05
#: mHC-lite is doubly stochastic by construction: float64 rounding only (issue 24)
EXACT_DS_TOL = 1e-15
#: distance to the Sinkhorn limit allowed to recipes with eps > 0 after many iterations:
#: the eps fixed point moves each entry by O(n * eps) = 4e-6 for eps = 1e-6
EPS_FIXED_POINT_TOL = 1e-5


# ----------------------------------------------------------------------------- references


def rounder(dtype):
    """Round a Python float to ``dtype`` (identity for float64)."""
    if dtype == np.float64:
        return float
    return lambda v: float(np.array(v, dtype=np.float64).astype(dtype))


def arith_dtype(recipe, dtype):
    """The dtype the recipe's code computes in when the activations are ``dtype``."""
    return np.float32 if (recipe.upcast and dtype == BF16) else dtype


def ref_v4(L, q, iters=20, eps=1e-6):
    """DeepSeek-V4 hc_split_sinkhorn / Megatron: softmax + eps, column, (row, column) x 19."""
    n = len(L)
    M = [[0.0] * n for _ in range(n)]
    for i in range(n):
        e = [math.exp(L[i][j] - max(L[i])) for j in range(n)]
        M[i] = [q(q(e[j] / sum(e)) + eps) for j in range(n)]
    for step in ["col"] + ["row", "col"] * (iters - 1):
        for a in range(n):
            idx = [(a, b) if step == "row" else (b, a) for b in range(n)]
            s = q(q(sum(M[i][j] for i, j in idx)) + eps)
            for i, j in idx:
                M[i][j] = q(M[i][j] / s)
    return M


def ref_paper(L, q, iters=20):
    """mHC Eq. 19: M0 = exp(L), M <- T_c(T_r(M)) 20 times."""
    n = len(L)
    M = [[q(math.exp(L[i][j])) for j in range(n)] for i in range(n)]
    for _ in range(iters):
        for i in range(n):
            s = q(sum(M[i]))
            M[i] = [q(v / s) for v in M[i]]
        for j in range(n):
            s = q(sum(M[i][j] for i in range(n)))
            for i in range(n):
                M[i][j] = q(M[i][j] / s)
    return M


def ref_lucidrains(L, q, iters=20):
    """lucidrains sinkhorn_knopps: minus column max, exp, (column L1, row L1) x 20, floor 1e-12."""
    n = len(L)
    cmax = [max(L[i][j] for i in range(n)) for j in range(n)]
    M = [[q(math.exp(q(L[i][j] - cmax[j]))) for j in range(n)] for i in range(n)]
    for _ in range(iters):
        for j in range(n):
            s = max(q(sum(M[i][j] for i in range(n))), 1e-12)
            for i in range(n):
                M[i][j] = q(M[i][j] / s)
        for i in range(n):
            s = max(q(sum(M[i])), 1e-12)
            M[i] = [q(v / s) for v in M[i]]
    return M


def lse(values):
    m = max(values)
    return m + math.log(sum(math.exp(v - m) for v in values))


def ref_tokenbender(L, q, iters=10, tau=0.05):
    """tokenbender sinkhorn_log: Z = L / tau, potentials u, v from 0, 10 x (u, v), exp(Z + u + v)."""
    n = len(L)
    Z = [[q(L[i][j] / tau) for j in range(n)] for i in range(n)]
    u, v = [0.0] * n, [0.0] * n
    for _ in range(iters):
        u = [-q(lse([q(Z[i][j] + v[j]) for j in range(n)])) for i in range(n)]
        v = [-q(lse([q(Z[i][j] + u[i]) for i in range(n)])) for j in range(n)]
    return [[q(math.exp(q(q(Z[i][j] + u[i]) + v[j]))) for j in range(n)] for i in range(n)]


def ref_mhc_lite_sinkhorn(L, q, iters=20):
    """mhc-lite sinkhorn_knopps: (L -= lse over columns, L -= lse over rows) x 20, exp."""
    n = len(L)
    L = [[q(v) for v in row] for row in L]
    for _ in range(iters):
        for j in range(n):
            s = q(lse([L[i][j] for i in range(n)]))
            for i in range(n):
                L[i][j] = q(L[i][j] - s)
        for i in range(n):
            s = q(lse(L[i]))
            L[i] = [q(v - s) for v in L[i]]
    return [[q(math.exp(v)) for v in row] for row in L]


def ref_mhc_lite(logits, q):
    """mHC-lite: softmax over the n! permutations, H[i, perm[i]] += a_perm."""
    n = next(k for k in range(2, 9) if math.factorial(k) == len(logits))
    e = [math.exp(v - max(logits)) for v in logits]
    a = [q(v / sum(e)) for v in e]
    H = [[0.0] * n for _ in range(n)]
    for k, perm in enumerate(itertools.permutations(range(n))):
        for i in range(n):
            H[i][perm[i]] += a[k]
    return [[q(v) for v in row] for row in H]


REFERENCES = {
    "v4": ref_v4, "megatron": ref_v4, "paper": ref_paper, "lucidrains": ref_lucidrains,
    "tokenbender": ref_tokenbender, "mhc_lite_sinkhorn": ref_mhc_lite_sinkhorn, "mhc_lite": ref_mhc_lite,
}


def test_every_recipe_has_a_reference():
    """Each named recipe is covered by an independent reference here."""
    assert set(REFERENCES) == set(mhc.RECIPES)


def sample_logits(recipe, rng, count=5, n=4):
    """Initial logits, perturbed initial logits and random ones of moderate range, scaled
    by the recipe's tau so that exp(L / tau) is not saturated (a saturated H = I would hide
    every step of the recipe)."""
    init = mhc.init_logits(recipe, n, batch=(1,), rng=rng)
    noise = rng.normal(scale=2.0 * mhc.RECIPES[recipe].tau, size=(count - 1,) + init.shape[1:])
    return np.concatenate([init, init + noise[:1], noise[1:]])


# ----------------------------------------------------------------------------- agreement


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(mhc.RECIPES))
def test_recipe_matches_independent_reference(name, dtype):
    """h_res follows the recipe's own formula step by step, in each precision (upcasting
    recipes in float32 arithmetic at bf16, as their code does)."""
    recipe = mhc.RECIPES[name]
    L = sample_logits(name, np.random.default_rng(7))
    H = mhc.h_res(L, name, dtype=dtype)
    work = arith_dtype(recipe, dtype)
    tol = {np.float64: TOL64, np.float32: TOL32, BF16: TOL_BF16}[work]
    if recipe.cast_back and dtype == BF16:
        tol = TOL_BF16  # float32 arithmetic, then one rounding to bf16
    q = rounder(work)
    load = np.asarray(L, dtype=np.float64).astype(work).astype(np.float64)
    ref = np.array([REFERENCES[name](m.tolist(), q) for m in load])
    if recipe.cast_back and dtype == BF16:
        ref = ref.astype(BF16).astype(np.float64)
    H = np.asarray(H, dtype=np.float64)
    np.testing.assert_allclose(H, ref, rtol=0, atol=tol)
    if dtype == BF16:
        assert np.mean(H != ref) <= FLIP_FRACTION or work == np.float32


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(mhc.RECIPES))
def test_output_dtype_is_the_one_the_code_mixes_with(name, dtype):
    """Upcasting recipes hand over float32 at bf16 unless they cast back (Megatron)."""
    recipe = mhc.RECIPES[name]
    H = mhc.h_res(mhc.init_logits(name, rng=0), name, dtype=dtype)
    expected = np.float32 if (dtype == BF16 and recipe.upcast and not recipe.cast_back) else dtype
    assert H.dtype == np.dtype(expected)


@needs_bf16
def test_bf16_rounds_every_step_not_only_the_result():
    """The bf16 paper recipe differs from its float64 result rounded once to bf16, and its
    marginals are off by far more than float64's: rounding happens inside the iterations."""
    L = np.random.default_rng(12).normal(size=(20, 4, 4))
    H = mhc.h_res(L, "paper", dtype=BF16)
    once = mhc.h_res(L, "paper").astype(BF16)
    assert np.any(H != once)
    assert mhc.ds_error(H).max() > 1e3 * mhc.ds_error(mhc.h_res(L, "paper")).max()


def test_max_shift_keeps_large_logits_finite():
    """lucidrains subtracts the column max before exp (finite at logits 200); the paper's
    exp(L) as written overflows float32 there."""
    L = np.diag([200.0, 0.0, 0.0, 0.0]) + np.random.default_rng(0).normal(size=(4, 4))
    assert np.all(np.isfinite(mhc.h_res(L, "lucidrains", dtype=np.float32)))
    assert mhc.ds_error(mhc.h_res(L, "paper", dtype=np.float32)) == np.inf


@needs_bf16
def test_upcasting_recipes_compute_bf16_requests_in_float32():
    """V4 computes in FP32 whatever the activations: a bf16 request equals the float32 one."""
    L = sample_logits("v4", np.random.default_rng(1))
    np.testing.assert_array_equal(mhc.h_res(L, "v4", dtype=BF16), mhc.h_res(L, "v4", dtype=np.float32))
    meg = mhc.h_res(L, "megatron", dtype="bfloat16")
    np.testing.assert_array_equal(meg, mhc.h_res(L, "megatron", dtype=np.float32).astype(BF16))


# ----------------------------------------------------------------------------- exactness, limits


def test_mhc_lite_is_doubly_stochastic_to_rounding():
    """mHC-lite's mixture of permutation matrices has unit row and column sums (float64)."""
    rng = np.random.default_rng(3)
    for scale in (0.01, 1.0, 10.0):
        L = rng.normal(scale=scale, size=(200, 24))
        H = mhc.h_res(L, "mhc_lite")
        assert mhc.ds_error(H).max() <= EXACT_DS_TOL
        assert H.min() >= 0.0
    # and for n = 3 (3! = 6 logits)
    assert mhc.ds_error(mhc.h_res(rng.normal(size=(50, 6)), "mhc_lite")).max() <= EXACT_DS_TOL


@pytest.mark.parametrize("name", SINKHORN_RECIPES)
def test_iterated_recipes_converge_to_sinkhorn_fixed_point(name):
    """With many iterations each recipe reaches dsmlib.sinkhorn's limit of exp(L / tau)."""
    recipe = mhc.RECIPES[name]
    rng = np.random.default_rng(11)
    L = rng.normal(size=(6, 4, 4)) * recipe.tau  # scores L / tau ~ N(0, 1): fast mixing
    limit = sinkhorn(L / recipe.tau, n_iter=10_000, tol=1e-14)
    few = mhc.h_res(L, dataclasses.replace(recipe, iterations=2))
    many = mhc.h_res(L, dataclasses.replace(recipe, iterations=500))
    tol = EPS_FIXED_POINT_TOL if recipe.eps > 0 else 1e-12
    assert np.abs(many - limit).max() <= tol
    assert np.abs(many - limit).max() < np.abs(few - limit).max()


def test_static_initialisations_have_their_closed_forms():
    """lucidrains' eye logits give ((e-1)I + J)/(e+3); tokenbender's 0/-8 at tau 0.05 is I;
    mHC-lite's 0/-8 gives a_id + 5 a on the diagonal (5 other permutations fix each point)."""
    e = math.e
    H = mhc.h_res(mhc.init_logits("lucidrains"), "lucidrains")
    np.testing.assert_allclose(H, ((e - 1) * np.eye(4) + 1) / (e + 3), atol=1e-15)
    H = mhc.h_res(mhc.init_logits("tokenbender"), "tokenbender")
    np.testing.assert_allclose(H, np.eye(4), atol=1e-60)
    a = math.exp(-8) / (1 + 23 * math.exp(-8))
    H = mhc.h_res(mhc.init_logits("mhc_lite"), "mhc_lite")
    np.testing.assert_allclose(np.diag(H), (1 - 23 * a) + 5 * a, atol=1e-15)
    np.testing.assert_allclose(H[0, 1], 6 * a, atol=1e-15)


def test_projection_initialisation_is_near_uniform_and_seeded():
    """Xavier phi, b = 0, alpha = 0.01: logits have std ~ alpha sqrt(2), H_res ~ J/4."""
    L = mhc.init_logits("megatron", batch=(500,), rng=0)
    assert L.shape == (500, 4, 4)
    assert abs(L.std() / (0.01 * math.sqrt(2)) - 1) < 0.05  # 8000 logits: sd of the ratio ~ 1%
    np.testing.assert_allclose(mhc.h_res(L, "paper"), 0.25, atol=0.02)
    np.testing.assert_array_equal(L, mhc.init_logits("megatron", batch=500, rng=np.random.default_rng(0)))


# ----------------------------------------------------------------------------- batching, input


@pytest.mark.parametrize("dtype", [np.float64, pytest.param(BF16, marks=needs_bf16, id="bfloat16")])
@pytest.mark.parametrize("name", sorted(mhc.RECIPES))
def test_batching_over_leading_axes_equals_a_loop(name, dtype):
    """h_res on a (2, 3, ...) batch equals one call per matrix, bit for bit."""
    rng = np.random.default_rng(5)
    L = np.stack([sample_logits(name, rng, count=3) for _ in range(2)])
    H = mhc.h_res(L, name, dtype=dtype)
    loop = np.array([[mhc.h_res(L[i, j], name, dtype=dtype) for j in range(3)] for i in range(2)])
    assert H.shape == L.shape[:2] + (4, 4)
    np.testing.assert_array_equal(H, loop)


@pytest.mark.parametrize("n", [2, 3, 5])
def test_any_number_of_streams(n):
    """n >= 2 streams are accepted; the result is n x n and (for mHC-lite) exactly DS."""
    for name in mhc.RECIPES:
        L = mhc.init_logits(name, n, rng=0)
        H = mhc.h_res(L + 0.1 * np.random.default_rng(n).normal(size=L.shape), name)
        assert H.shape == (n, n) and np.all(np.isfinite(H))


@pytest.mark.parametrize(
    "call",
    [
        lambda: mhc.h_res(np.zeros((4, 4)), "nope"),
        lambda: mhc.h_res(np.zeros((4, 4)), "v4", dtype=np.float16),
        lambda: mhc.h_res(np.zeros((4, 4)), "v4", dtype=int),
        lambda: mhc.h_res(np.zeros((4, 4)), "v4", dtype="float8"),
        lambda: mhc.h_res(np.full((4, 4), np.nan), "paper"),
        lambda: mhc.h_res(np.full((4, 4), np.inf), "paper"),
        lambda: mhc.h_res(np.zeros((4, 3)), "paper"),
        lambda: mhc.h_res(np.zeros((1, 1)), "paper"),
        lambda: mhc.h_res(np.zeros(4), "paper"),
        lambda: mhc.h_res(np.zeros(5), "mhc_lite"),
        lambda: mhc.h_res(np.zeros((4, 4)), "mhc_lite"),
        lambda: mhc.h_res("abc", "paper"),
        lambda: mhc.Recipe("x", "y", iterations=0),
        lambda: mhc.Recipe("x", "y", domain="linear"),
        lambda: mhc.Recipe("x", "y", tau=0.0),
        lambda: mhc.Recipe("x", "y", eps=float("nan")),
        lambda: mhc.Recipe("x", "y", start="softmax", first="col"),
        lambda: mhc.init_logits("v4", 1),
        lambda: mhc.init_logits("v4", batch=(-1,)),
        lambda: mhc.init_logits("v4", rng=-3),
        lambda: mhc.init_logits("paper", hidden=0),
        lambda: mhc.permutation_matrices(1),
        lambda: mhc.permutation_matrices(9),
        lambda: mhc.ds_error(np.zeros((3, 4))),
        lambda: mhc.amax_gain(np.eye(4)[None], side="sideways"),
        lambda: mhc.amax_gain(np.eye(4)),
        lambda: mhc.amax_gain(np.full((2, 4, 4), np.nan)),
        lambda: mhc.product_sigma2(np.zeros((0, 4, 4))),
        lambda: mhc.coefficients(np.ones((4, 8)), np.ones((24, 32)), np.ones(3), np.ones(24), "lucidrains"),
        lambda: mhc.coefficients(np.ones((4, 8)), np.ones((24, 31)), np.ones(3), np.ones(24), "paper"),
        lambda: mhc.coefficients(np.ones((4, 8)), np.ones((24, 32)), np.ones(2), np.ones(24), "paper"),
    ],
)
def test_bad_input_raises_value_error(call):
    """Unknown recipes and dtypes, bad shapes and non-finite values are ValueErrors."""
    with pytest.raises(ValueError):
        call()


@needs_bf16
def test_bfloat16_without_ml_dtypes_is_a_clear_value_error(monkeypatch):
    """Without ml_dtypes a bfloat16 request names the missing package."""
    monkeypatch.setattr(mhc.precision, "BFLOAT16", None)
    with pytest.raises(ValueError, match="ml_dtypes"):
        mhc.h_res(np.zeros((4, 4)), "paper", dtype="bfloat16")


@needs_bf16
def test_recipe_names_and_bfloat16_inputs():
    """Recipes are accepted by name or object; bf16 logits are read exactly."""
    L = mhc.init_logits("paper", rng=2).astype(BF16)
    by_object = mhc.h_res(L.astype(np.float64), mhc.RECIPES["paper"])
    np.testing.assert_array_equal(mhc.h_res(L, "paper"), by_object)


# ----------------------------------------------------------------------------- diagnostics


def test_ds_error_measures_marginals_and_flags_overflow():
    """ds_error is the largest row/column-sum deviation; a non-finite matrix has error inf."""
    P = mhc.permutation_matrices(4)
    assert mhc.ds_error(P).max() == 0.0
    M = np.eye(3) * 1.5
    assert mhc.ds_error(M) == pytest.approx(0.5)
    bad = np.stack([np.eye(4), np.full((4, 4), np.nan)])
    np.testing.assert_array_equal(mhc.ds_error(bad), [0.0, np.inf])
    if BF16 is not None:
        assert mhc.ds_error(np.eye(4).astype(BF16)) == 0.0
    # the paper's un-shifted exp overflows in float32 beyond ~88: returned, not raised
    assert mhc.ds_error(mhc.h_res(np.diag([100.0, 0, 0, 0]), "paper", dtype=np.float32)) == np.inf


def test_permutation_matrices_are_the_n_factorial_permutations():
    """n! distinct 0/1 matrices with one 1 per row and column, identity first."""
    P = mhc.permutation_matrices(4)
    assert P.shape == (24, 4, 4)
    np.testing.assert_array_equal(P[0], np.eye(4))
    assert len({p.tobytes() for p in P}) == 24
    np.testing.assert_array_equal(P.sum(-1), 1.0)
    np.testing.assert_array_equal(P.sum(-2), 1.0)


@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("side", ["forward", "backward"])
def test_amax_gain_of_permutation_products_is_exactly_one(side, transpose):
    """Any product of permutation matrices is a permutation: gain exactly 1 at every depth."""
    rng = np.random.default_rng(0)
    Hs = mhc.permutation_matrices(4)[rng.integers(0, 24, size=(3, 122))]
    np.testing.assert_array_equal(mhc.amax_gain(Hs, side, transpose=transpose), 1.0)


def test_amax_gain_reads_rows_forward_and_columns_backward():
    """Forward = largest absolute row sum of the product, backward = column sum; transpose swaps."""
    A = np.array([[[2.0, -1.0], [0.0, 0.5]]])
    assert mhc.amax_gain(A, "forward")[-1] == 3.0
    assert mhc.amax_gain(A, "backward")[-1] == 2.0
    assert mhc.amax_gain(A, "forward", transpose=True)[-1] == 2.0
    B = np.array([[1.0, 1.0], [0.0, 1.0]])
    gains = mhc.amax_gain(np.stack([A[0], B]), "forward")  # B @ A = [[2, -0.5], [0, 0.5]]
    np.testing.assert_array_equal(gains, [3.0, 2.5])


def test_amax_gain_of_sinkhorn_products_stays_near_one():
    """Products of (converged) doubly stochastic factors keep unit gain to rounding."""
    Hs = sinkhorn(np.random.default_rng(4).normal(size=(2, 122, 4, 4)), tol=1e-14, n_iter=2000)
    np.testing.assert_allclose(mhc.amax_gain(Hs, "forward"), 1.0, atol=1e-12)
    np.testing.assert_allclose(mhc.amax_gain(Hs, "backward"), 1.0, atol=1e-12)


def test_product_sigma2_of_uniform_mixing_is_zero():
    """J/n is rank one: sigma_2 of it and of every product with it is 0."""
    Hs = np.full((5, 4, 4), 0.25)
    np.testing.assert_allclose(mhc.product_sigma2(Hs), 0.0, atol=1e-15)
    Ps = mhc.permutation_matrices(4)[[3, 7]]
    np.testing.assert_allclose(mhc.product_sigma2(np.concatenate([Ps, Hs[:1]]))[-1], 0.0, atol=1e-15)


@pytest.mark.parametrize("transpose", [False, True])
def test_product_sigma2_obeys_the_submultiplicative_bound(transpose):
    """HT Lemma 2: sigma_2 of a product of DSMs <= product of their sigma_2 (HT-R2)."""
    Hs = sinkhorn(np.random.default_rng(9).normal(size=(3, 30, 4, 4)), tol=1e-14, n_iter=2000)
    s = mhc.product_sigma2(Hs, transpose=transpose)
    bound = np.cumprod(sigma2(Hs), axis=-1)
    assert np.all(s <= bound * (1 + 1e-9) + 1e-15)
    np.testing.assert_allclose(s[..., 0], sigma2(Hs[..., 0, :, :]), rtol=1e-12)


def test_product_sigma2_multiplies_later_layers_on_the_left():
    """The running product is A_k ... A_1 (with A = H^T when transposed)."""
    rng = np.random.default_rng(2)
    Hs = sinkhorn(rng.normal(size=(3, 4, 4)) * 3)
    np.testing.assert_allclose(mhc.product_sigma2(Hs)[-1], sigma2(Hs[2] @ Hs[1] @ Hs[0]), rtol=1e-12)
    np.testing.assert_allclose(
        mhc.product_sigma2(Hs, transpose=True)[-1], sigma2(Hs[2].T @ Hs[1].T @ Hs[0].T), rtol=1e-12
    )


# ----------------------------------------------------------------------------- coefficient path


def test_coefficients_follow_equations_14_to_19():
    """paper: H_pre = sigmoid, H_post = 2 sigmoid, H_res = h_res of the res logits, with
    h = alpha * (phi vec(x)) / r + b and r = ||x|| / sqrt(nC) (a direct float64 check)."""
    rng = np.random.default_rng(8)
    n, C = 4, 8
    x = rng.normal(size=(3, n, C))
    phi = rng.normal(size=(2 * n + n * n, n * C))
    alpha, bias = np.array([0.3, 0.2, 0.1]), rng.normal(size=2 * n + n * n)
    pre, post, res = mhc.coefficients(x, phi, alpha, bias, "paper")
    v = x.reshape(3, n * C)
    h = (v @ phi.T) / (np.linalg.norm(v, axis=-1, keepdims=True) / math.sqrt(n * C))
    h = h * np.r_[np.full(n, 0.3), np.full(n, 0.2), np.full(n * n, 0.1)] + bias
    np.testing.assert_allclose(pre, 1 / (1 + np.exp(-h[:, :n])), rtol=1e-13)
    np.testing.assert_allclose(post, 2 / (1 + np.exp(-h[:, n:2 * n])), rtol=1e-13)
    np.testing.assert_allclose(res, mhc.h_res(h[:, 2 * n:].reshape(3, n, n), "paper"), atol=1e-13)
    # the RMS factor makes the coefficients scale invariant in x
    for a, b in zip(mhc.coefficients(7.0 * x, phi, alpha, bias, "paper"), (pre, post, res)):
        np.testing.assert_allclose(a, b, atol=1e-13)


def test_coefficients_of_v4_and_mhc_lite():
    """V4 adds hc_eps to H_pre; mHC-lite's res block has n! logits and stays exactly DS."""
    rng = np.random.default_rng(6)
    x = rng.normal(size=(2, 4, 8))
    phi = rng.normal(size=(24, 32))
    pre_v4 = mhc.coefficients(x, phi, np.ones(3), np.zeros(24), "v4").pre
    no_eps = dataclasses.replace(mhc.RECIPES["v4"], pre_eps=0.0)
    pre_plain = mhc.coefficients(x, phi, np.ones(3), np.zeros(24), no_eps).pre
    np.testing.assert_allclose(pre_v4 - pre_plain, 1e-6, rtol=1e-6)
    lite = mhc.coefficients(x, rng.normal(size=(32, 32)), np.full(3, 0.5), np.zeros(32), "mhc_lite")
    assert lite.res.shape == (2, 4, 4) and mhc.ds_error(lite.res).max() <= EXACT_DS_TOL
    if BF16 is not None:  # Megatron hands all three over in the activation dtype
        bf = mhc.coefficients(x, phi, np.ones(3), np.zeros(24), "megatron", dtype=BF16)
        assert {t.dtype for t in bf} == {np.dtype(BF16)}


@pytest.mark.parametrize("name", SINKHORN_RECIPES)
def test_last_step_makes_its_side_exactly_stochastic(name):
    """Whatever the truncation, the side normalised last has unit sums up to rounding (float64),
    or s / (s + eps) for the eps recipes (V4, Megatron): within 2 eps of 1; the other side carries
    the truncation error, and with many iterations both sides reach double stochasticity."""
    recipe = mhc.RECIPES[name]
    L = np.random.default_rng(13).normal(size=(50, 4, 4)) * 3 * recipe.tau
    H = mhc.h_res(L, name)
    last = -2 if (recipe.log_form == "potentials" or recipe.first == "row") else -1
    tol = 2 * recipe.eps + 1e-14
    np.testing.assert_allclose(H.sum(last), 1.0, atol=tol)
    many = mhc.h_res(L, dataclasses.replace(recipe, iterations=2000))
    assert mhc.ds_error(many).max() <= 4 * recipe.eps + 1e-9


@pytest.mark.parametrize("dtype", DTYPES)
def test_mhc_lite_is_doubly_stochastic_in_every_precision(dtype):
    """mHC-lite needs no iterations: its marginals are off only by the rounding of its dtype."""
    L = np.random.default_rng(14).normal(scale=3.0, size=(100, 24))
    H = mhc.h_res(L, "mhc_lite", dtype=dtype)
    ulp = {np.dtype(np.float64): 2.0**-52, np.dtype(np.float32): 2.0**-23}.get(np.dtype(dtype), 2.0**-8)
    assert mhc.ds_error(H).max() <= 8 * ulp
