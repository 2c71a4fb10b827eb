"""Properties of dsmlib's core mechanisms (small sizes, fast)."""

from __future__ import annotations

import warnings

import numpy as np
import ot
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import dsmlib as d

sizes = st.integers(min_value=2, max_value=9)
finite = st.floats(min_value=-5, max_value=5, allow_nan=False, allow_infinity=False)


def square(n_max: int = 9, batch: bool = True):
    shape = st.tuples(*( [st.integers(1, 3)] if batch else []), sizes).map(
        lambda t: (t[0], t[1], t[1]) if len(t) == 2 else (t[0], t[0])
    )
    return shape.flatmap(lambda s: arrays(np.float64, s, elements=finite))


# ---------------------------------------------------------------- Sinkhorn
@settings(max_examples=40, deadline=None)
@given(square())
def test_sinkhorn_marginals_and_positivity(S):
    M, info = d.sinkhorn(S, tol=1e-10, n_iter=20000, return_info=True)
    assert M.shape == S.shape and M.dtype == np.float64
    assert info.all_converged
    assert np.all(M > 0)
    np.testing.assert_allclose(M.sum(-1), 1, atol=1e-9)
    np.testing.assert_allclose(M.sum(-2), 1, atol=1e-9)
    np.testing.assert_array_less(d.marginal_error(M), 1e-9 + 1e-15)


@settings(max_examples=40, deadline=None)
@given(square(), st.floats(0.05, 20))
def test_sigma1_is_one_up_to_marginal_error(S, scale):
    # 1 - err <= 1^T M 1 / n <= sigma_1 <= sqrt(||M||_1 ||M||_inf) <= 1 + err
    M, info = d.sinkhorn(scale * S, tol=1e-12, n_iter=2000, return_info=True, warn=False)
    s1 = d.singular_values(M)[..., 0]
    assert np.all(np.abs(s1 - 1) <= info.err + 1e-12)


@settings(max_examples=30, deadline=None)
@given(square(batch=False), arrays(np.float64, 9, elements=finite), arrays(np.float64, 9, elements=finite))
def test_sinkhorn_shift_invariance(S, a, b):
    n = S.shape[-1]
    M1 = d.sinkhorn(S, tol=1e-12, n_iter=20000)
    M2 = d.sinkhorn(S + a[:n, None] + b[None, :n], tol=1e-12, n_iter=20000)
    np.testing.assert_allclose(M1, M2, atol=1e-9)


@pytest.mark.parametrize("T", [1e-3, 1e-2, 0.1, 1.0, 10.0, 1e3])
def test_sinkhorn_finite_across_temperatures(T):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", d.SinkhornConvergenceWarning)
        M, info = d.random_dsm(16, T, size=(8,), rng=0, return_info=True)
    assert np.all(np.isfinite(M)) and np.all(M >= 0)
    np.testing.assert_allclose(M.sum(-2), 1, atol=1e-12)  # last step is a column step
    assert info.n_iter.shape == (8,) and info.err.shape == (8,) and info.converged.shape == (8,)
    np.testing.assert_allclose(info.err, d.marginal_error(M), rtol=1e-6, atol=1e-14)


@pytest.mark.parametrize("T", [0.05, 0.3, 2.0])
def test_sinkhorn_matches_pot(T):
    rng = np.random.default_rng(7)
    cost = rng.random((6, 12, 12))
    M = d.sinkhorn(-cost / T, tol=1e-13, n_iter=100000)
    a = np.ones(12)
    for k in range(cost.shape[0]):
        P = ot.sinkhorn(a, a, cost[k], reg=T, method="sinkhorn_log", stopThr=1e-14, numItermax=200000)
        np.testing.assert_allclose(M[k], P, atol=1e-9)


def test_log_stabilised_path_matches_pot_at_low_temperature():
    rng = np.random.default_rng(3)
    cost = 0.1 * rng.random((8, 8)) + 1.0 - np.eye(8)[rng.permutation(8)]
    T = 0.004  # score range ~270 > LOG_DOMAIN_RANGE: log-stabilised path
    M, info = d.sinkhorn(-cost / T, tol=1e-12, n_iter=200000, return_info=True)
    assert bool(info.log_domain) and bool(info.converged)
    P = ot.sinkhorn(np.ones(8), np.ones(8), cost, reg=T, method="sinkhorn_log", stopThr=1e-13, numItermax=10**6)
    np.testing.assert_allclose(M, P, atol=1e-9)


def test_nonconvergence_warns_and_reports():
    with pytest.warns(d.SinkhornConvergenceWarning, match="did not reach"):
        M, info = d.random_dsm(32, 0.01, size=(4,), rng=0, n_iter=3, return_info=True)
    assert not info.all_converged and info.n_failed == 4
    assert np.all(info.n_iter == 3) and np.all(info.err > info.tol)


def test_tol_zero_runs_exactly_n_iter():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", d.SinkhornConvergenceWarning)
        _, info = d.random_dsm(8, 1.0, size=(3,), rng=1, n_iter=17, tol=0.0, return_info=True)
    assert np.all(info.n_iter == 17)


def test_sinkhorn_equals_algorithm1_iterates():
    """Same iterates as HT Algorithm 1 (normalise rows, then columns, K times)."""
    rng = np.random.default_rng(2)
    dmat = rng.random((10, 10))
    A = np.exp(-dmat / 0.2)
    for _ in range(7):
        A = A / A.sum(1, keepdims=True)
        A = A / A.sum(0, keepdims=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", d.SinkhornConvergenceWarning)
        M = d.sinkhorn(-dmat / 0.2, n_iter=7, tol=0.0)
    np.testing.assert_allclose(M, A, atol=1e-14)


def test_random_dsm_batch_shape_and_seed():
    M1 = d.random_dsm(5, 0.5, size=(2, 3), rng=4)
    M2 = d.random_dsm(5, 0.5, size=(2, 3), rng=np.random.default_rng(4))
    assert M1.shape == (2, 3, 5, 5)
    np.testing.assert_array_equal(M1, M2)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: d.sinkhorn(np.full((3, 3), np.nan)), "scores"),
        (lambda: d.sinkhorn(np.array([[0.0, np.inf], [0, 0]])), "scores"),
        (lambda: d.sinkhorn(np.zeros(3)), "scores"),
        (lambda: d.sinkhorn(np.zeros((3, 4))), "square"),
        (lambda: d.sinkhorn(np.zeros((1, 1))), "2 x 2"),
        (lambda: d.sinkhorn(np.zeros((3, 3)), n_iter=0), "n_iter"),
        (lambda: d.sinkhorn(np.zeros((3, 3)), tol=-1.0), "tol"),
        (lambda: d.random_dsm(1, 1.0), "n"),
        (lambda: d.random_dsm(4.5, 1.0), "n"),
        (lambda: d.random_dsm(True, 1.0), "n"),
        (lambda: d.random_dsm(4, 0.0), "temperature"),
        (lambda: d.random_dsm(4, -1.0), "temperature"),
        (lambda: d.random_dsm(4, float("nan")), "temperature"),
        (lambda: d.random_dsm(4, 1.0, rng="seed"), "rng"),
        (lambda: d.entropy(np.array([[0.5, -0.1], [0.5, 0.6]])), "negative"),
        (lambda: d.layer_norm(np.ones(5)), "detail"),
        (lambda: d.layer_norm(np.ones((2, 5)) * [[1.0], [2.0]]), "detail"),
        (lambda: d.center(np.zeros(1)), "length"),
        (lambda: d.q_project(np.zeros((2, 3))), "square"),
        (lambda: d.res(np.zeros((1, 3))), "rows"),
        (lambda: d.singular_values(np.zeros((3, 2))), "square"),
        (lambda: d.sigma2(np.array([[np.nan, 0], [0, 1]])), "NaN"),
    ],
)
def test_bad_input_raises_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ---------------------------------------------------------------- projections
@settings(max_examples=60, deadline=None)
@given(square())
def test_q_is_orthogonal_projection(Y):
    n = Y.shape[-1]
    Q = d.q_project(Y)
    U = np.eye(n) - np.ones((n, n)) / n
    np.testing.assert_allclose(Q, U @ Y @ U, atol=1e-12)  # Q(Y) = UYU
    np.testing.assert_allclose(d.q_project(Q), Q, atol=1e-12)  # idempotent
    np.testing.assert_allclose(Q.sum(-1), 0, atol=1e-12)
    np.testing.assert_allclose(Q.sum(-2), 0, atol=1e-12)
    Z = np.roll(Y, 1, axis=-1) + 0.5
    # self-adjoint in the Frobenius inner product: <Q Y, Z> = <Y, Q Z>
    np.testing.assert_allclose((Q * Z).sum((-2, -1)), (Y * d.q_project(Z)).sum((-2, -1)), atol=1e-10)


@settings(max_examples=60, deadline=None)
@given(sizes.flatmap(lambda n: arrays(np.float64, (3, n), elements=finite)))
def test_layer_norm_in_detail_subspace_with_norm_sqrt_n(y):
    assume(np.all(np.ptp(y, axis=-1) > 1e-3))  # LN needs a detail component
    z = d.layer_norm(y)
    n = y.shape[-1]
    np.testing.assert_allclose(z.sum(-1), 0, atol=1e-10)
    np.testing.assert_allclose(np.linalg.norm(z, axis=-1), np.sqrt(n), rtol=1e-12)
    np.testing.assert_allclose(d.layer_norm(3.0 * y + 7.0), z, atol=1e-10)  # scale and shift invariant


@settings(max_examples=40, deadline=None)
@given(sizes.flatmap(lambda n: arrays(np.float64, (2, n, 3), elements=finite)))
def test_res_and_center(X):
    R = d.res(X)
    np.testing.assert_allclose(R.sum(-2), 0, atol=1e-12)
    np.testing.assert_allclose(d.res(R), R, atol=1e-12)
    np.testing.assert_allclose(d.center(np.swapaxes(X, -1, -2)), np.swapaxes(R, -1, -2), atol=1e-12)


# ---------------------------------------------------------------- spectra
def test_spectra_known_values():
    n = 5
    J = np.full((n, n), 1 / n)
    np.testing.assert_allclose(d.singular_values(J), [1, 0, 0, 0, 0], atol=1e-12)
    assert abs(d.sigma2(J)) < 1e-12
    np.testing.assert_allclose(d.entropy(J), n * np.log(n))
    P = np.eye(n)[[1, 2, 3, 4, 0]]
    assert abs(d.sigma2(P) - 1) < 1e-12 and d.entropy(P) == 0
    assert abs(d.rank_one_residual(J)) < 1e-12
    np.testing.assert_allclose(d.rank_one_residual(np.diag([4.0, 2.0, 1.0])), 0.5)


@settings(max_examples=30, deadline=None)
@given(square())
def test_sigma2_is_norm_on_detail_subspace_for_dsm(S):
    M = d.sinkhorn(S, tol=1e-12, n_iter=20000)
    n = M.shape[-1]
    U = np.eye(n) - np.ones((n, n)) / n
    np.testing.assert_allclose(np.linalg.norm(M @ U, ord=2, axis=(-2, -1)), d.sigma2(M), atol=1e-9)


def test_row_softmax_rows_sum_to_one():
    S = np.random.default_rng(0).normal(size=(4, 6, 7))
    P = d.row_softmax(S)
    np.testing.assert_allclose(P.sum(-1), 1, atol=1e-14)
    assert np.all(P > 0)
