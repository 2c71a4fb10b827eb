"""The compiled kernels (dsmlib._kernels) against dsmlib's numpy implementation and the SVD.

The kernels must be a drop-in replacement: the same iteration counts, stopping rule,
SinkhornInfo and fallbacks as the numpy Sinkhorn, and sigma_2 in agreement with the SVD.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager

import numpy as np
import pytest

import dsmlib
from dsmlib import _kernels
from dsmlib.sinkhorn import SinkhornConvergenceWarning

pytestmark = pytest.mark.skipif(not _kernels.AVAILABLE, reason="numba is not installed")


@contextmanager
def kernels(on: bool):
    old = _kernels.ENABLED
    _kernels.ENABLED = on
    try:
        yield
    finally:
        _kernels.ENABLED = old


def both(fn):
    """``fn()`` with the kernels, then with the numpy implementation."""
    with kernels(True):
        a = fn()
    with kernels(False):
        b = fn()
    return a, b


def assert_same_run(a, b, atol=1e-13):
    (Ma, ia), (Mb, ib) = a, b
    np.testing.assert_array_equal(ia.n_iter, ib.n_iter)
    np.testing.assert_array_equal(ia.converged, ib.converged)
    np.testing.assert_array_equal(ia.log_domain, ib.log_domain)
    np.testing.assert_allclose(ia.err, ib.err, rtol=1e-6, atol=1e-15)
    np.testing.assert_allclose(Ma, Mb, rtol=0, atol=atol)


def test_iteration_counts_unchanged_on_a_seeded_sweep():
    # HT Exp. 1 at n = 64 (7 temperatures over [1e-2, 1e1], 200 seeded trials each):
    # every matrix stops at the same iteration as with the numpy implementation
    d = np.random.default_rng(20261128).random((200, 64, 64))
    for T in np.logspace(-2, 1, 7):
        a, b = both(lambda: dsmlib.sinkhorn(-d / T, return_info=True, warn=False))
        assert_same_run(a, b)
        assert a[1].n_iter.min() >= 2 and a[1].n_iter.max() <= 200


def test_random_dsm_costs_path_matches_sinkhorn():
    # random_dsm hands the costs and -T to the kernel (no scaled copy, no span pass)
    for T in (0.01, 0.3, 5.0):
        with kernels(True):
            M, info = dsmlib.random_dsm(16, T, size=(3, 20), rng=7, return_info=True, warn=False)
        d = np.random.default_rng(7).random((3, 20, 16, 16))
        with kernels(False):
            M0, info0 = dsmlib.sinkhorn(-d / T, return_info=True, warn=False)
        assert_same_run((M, info), (M0, info0))


def test_log_stabilised_path_matches():
    S = np.random.default_rng(3).normal(size=(60, 24, 24)) * 40.0  # spans >> 100
    a, b = both(lambda: dsmlib.sinkhorn(S, return_info=True, warn=False))
    assert a[1].log_domain.all()
    assert_same_run(a, b, atol=1e-12)


def test_mixed_batch_and_leading_axes():
    rng = np.random.default_rng(4)
    S = rng.normal(size=(2, 3, 10, 10)) * np.array([0.5, 30.0, 5.0])[None, :, None, None]
    a, b = both(lambda: dsmlib.sinkhorn(S, n_iter=50, tol=1e-9, return_info=True, warn=False))
    assert a[0].shape == S.shape and a[1].n_iter.shape == (2, 3)
    assert a[1].log_domain.any() and not a[1].log_domain.all()
    assert_same_run(a, b, atol=1e-12)


def test_tol_zero_runs_exactly_n_iter_and_columns_are_exact():
    S = np.random.default_rng(5).normal(size=(30, 9, 9))
    a, b = both(lambda: dsmlib.sinkhorn(S, n_iter=7, tol=0.0, return_info=True, warn=False))
    assert (a[1].n_iter == 7).all()
    assert_same_run(a, b)
    np.testing.assert_allclose(a[0].sum(-2), 1.0, atol=1e-14)


@pytest.mark.parametrize("n", [2, 3, 5])
def test_small_and_non_contiguous(n):
    S = np.random.default_rng(n).normal(size=(4, n, n)).transpose(0, 2, 1)
    a, b = both(lambda: dsmlib.sinkhorn(S, return_info=True, warn=False))
    assert_same_run(a, b)


def test_matrices_larger_than_a_chunk():
    # n = 400: one matrix (1.25 MiB) exceeds the 1 MiB chunk; each is still computed
    S = np.random.default_rng(15).normal(size=(2, 400, 400))
    a, b = both(lambda: dsmlib.sinkhorn(S, return_info=True, warn=False))
    assert_same_run(a, b, atol=1e-12)
    s2, ref = both(lambda: dsmlib.sigma2(a[0]))
    np.testing.assert_allclose(s2, ref, rtol=1e-10)


def test_empty_batch():
    with kernels(True):
        M, info = dsmlib.sinkhorn(np.zeros((0, 4, 4)), return_info=True)
    assert M.shape == (0, 4, 4) and info.n_iter.shape == (0,)


def test_plain_overflow_is_redone_in_the_log_domain():
    # with the log-domain threshold disabled, exp(S - max) underflows whole rows to 0 in
    # some matrices: their plain run ends non-finite and the kernel redoes it log-stabilised
    S = np.random.default_rng(6).normal(size=(5, 8, 8)) * 400.0
    out, its, errs, logd, col = _kernels.sinkhorn_scaled(S, 1.0, 200, 1e-6, np.inf)
    assert logd.any() and not logd.all() and np.isfinite(out).all()
    assert (col <= 1e-12).all()
    ref, *_ = _kernels.sinkhorn_scaled(S[logd], 1.0, 200, 1e-6, 100.0)  # span > 100: log domain
    np.testing.assert_allclose(out[logd], ref, atol=1e-14)


def test_extreme_score_range_stays_finite():
    S = np.random.default_rng(8).normal(size=(4, 6, 6)) * 1e20
    with kernels(True), warnings.catch_warnings():
        warnings.simplefilter("ignore", SinkhornConvergenceWarning)
        M, info = dsmlib.sinkhorn(S, return_info=True)
    assert np.isfinite(M).all() and (M >= 0).all() and (M <= 1).all()
    np.testing.assert_allclose(M.sum(-2), 1.0, atol=1e-12)
    assert info.log_domain.all()


def test_nonconvergence_warning_and_info():
    S = np.random.default_rng(9).normal(size=(10, 16, 16)) * 20.0
    with kernels(True), pytest.warns(SinkhornConvergenceWarning, match="did not reach"):
        _, info = dsmlib.sinkhorn(S, n_iter=3, return_info=True)
    assert info.n_failed > 0 and (info.n_iter == 3).all() and info.max_iter == 3


def test_validation_is_kept():
    with kernels(True):
        with pytest.raises(ValueError, match="scores"):
            dsmlib.sinkhorn(np.full((2, 3, 3), np.nan))
        with pytest.raises(ValueError, match="n_iter"):
            dsmlib.sinkhorn(np.zeros((3, 3)), n_iter=0)
        with pytest.raises(ValueError, match="temperature"):
            dsmlib.random_dsm(4, -1.0)


# ---------------------------------------------------------------------------- sigma_2


@pytest.mark.parametrize("T", [0.01, 0.1, 1.0, 10.0, 100.0])
@pytest.mark.parametrize("n", [8, 64])
def test_sigma2_agrees_with_the_svd(T, n):
    # random DSMs (HT Algorithm 1); at T = 100 sigma_2 < 1e-3 sigma_1: the SVD fallback
    with kernels(False):
        M = dsmlib.random_dsm(n, T, size=100, rng=11, warn=False)
    sv = np.linalg.svd(M, compute_uv=False)
    with kernels(True):
        s2 = dsmlib.sigma2(M)
    np.testing.assert_allclose(s2, sv[:, 1], rtol=1e-10, atol=0)
    if T <= 0.1:  # sigma_2 > 0.1 sigma_1: accurate to rounding
        np.testing.assert_allclose(s2, sv[:, 1], rtol=1e-13, atol=0)


def test_gram_top2_both_eigenvalues():
    M = np.random.default_rng(12).normal(size=(50, 20, 20))
    l1, l2, c = _kernels.gram_top2(M)
    ev = np.linalg.eigvalsh(M @ M.transpose(0, 2, 1))
    assert (c == 1).all()
    np.testing.assert_allclose(l1, ev[:, -1], rtol=1e-12)
    np.testing.assert_allclose(l2, ev[:, -2], rtol=1e-12)


def test_sigma2_special_matrices():
    n = 6
    P = np.eye(n)[np.random.default_rng(13).permutation(n)]
    cases = [
        np.eye(n),  # sigma_1 = sigma_2 (a multiple eigenvalue)
        np.zeros((n, n)),
        np.full((n, n), 1.0 / n),  # rank one: sigma_2 = 0 (SVD fallback)
        P,
        np.diag([3.0, 2.0, 2.0, 1.0, 0.5, 0.0]),
        1e-300 * np.full((n, n), 1.0 / n) + 1e-301 * np.eye(n),  # power-of-two scaling
        1e300 * P,
    ]
    M = np.stack(cases)
    with kernels(True):
        s2 = dsmlib.sigma2(M)
    scale = np.maximum(np.abs(M).max(axis=(1, 2)), 1e-300)
    ref = np.array([np.linalg.svd(m / c, compute_uv=False)[1] for m, c in zip(M, scale)])
    np.testing.assert_allclose(s2 / scale, ref, rtol=1e-10, atol=1e-15)
    assert s2[1] == 0.0 and abs(s2[2]) < 1e-15


def test_sigma2_batch_shapes():
    M = np.random.default_rng(14).random((2, 3, 7, 7))
    a, b = both(lambda: dsmlib.sigma2(M))
    assert a.shape == (2, 3)
    np.testing.assert_allclose(a, b, rtol=1e-12)
    with kernels(True):
        assert dsmlib.sigma2(np.zeros((0, 4, 4))).shape == (0,)


def test_compile_time_is_reported():
    times = _kernels.warm_up()
    assert {"sinkhorn", "sigma2"} <= set(times)
    assert all(t >= 0 for t in times.values())


# ------------------------------------------------------ temperature and the top-two solver


@pytest.mark.parametrize("on", [True, False])
def test_temperature_is_division_of_the_scores_bit_for_bit(on):
    S = -np.random.default_rng(15).random((40, 16, 16))
    with kernels(on):
        for T in (0.013, 0.3, 7.0):
            a, ia = dsmlib.sinkhorn(S, temperature=T, return_info=True, warn=False)
            b, ib = dsmlib.sinkhorn(S / T, return_info=True, warn=False)
            np.testing.assert_array_equal(a, b)
            np.testing.assert_array_equal(ia.n_iter, ib.n_iter)
        for bad in (0.0, -1.0, np.nan, np.inf, "1"):
            with pytest.raises(ValueError, match="temperature"):
                dsmlib.sinkhorn(S, temperature=bad)


def _spectrum_gram(lams, rng):
    """M (n, n) with M M^T = Q diag(lams) Q^T exactly in exact arithmetic."""
    n = len(lams)
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    U, _ = np.linalg.qr(rng.normal(size=(n, n)))
    return Q @ np.diag(np.sqrt(lams)) @ U.T


@pytest.mark.parametrize("n", [2, 3, 4, 5, 7, 9, 13, 31, 64, 65, 100])
def test_gram_top2_any_size_against_lapack(n):
    # the register-blocked Gram product and the four-row tridiagonalisation at every
    # remainder of n modulo 4, against LAPACK on the explicit Gram matrix
    M = np.random.default_rng(16 + n).random((30, n, n))
    l1, l2, _ = _kernels.gram_top2(M)
    ev = np.linalg.eigvalsh(M @ M.transpose(0, 2, 1))
    np.testing.assert_allclose(l1, ev[:, -1], rtol=1e-13)
    np.testing.assert_allclose(l2, ev[:, -2], rtol=1e-12, atol=1e-14 * ev[:, -1].max())


@pytest.mark.parametrize("gap", [0.0, 1e-12, 1e-8, 1e-4, 1e-1])
def test_gram_top2_clustered_spectra(gap):
    # lambda_1 - lambda_2, and lambda_2 - lambda_3, from exact ties to well separated:
    # the Laguerre steps must be certified or fall back to multisection
    rng = np.random.default_rng(17)
    n = 24
    rest = np.sort(rng.random(n - 3))[::-1] * 0.5
    cases = [
        np.r_[1.0, 1.0 - gap, 0.9, rest],  # lambda_1 ~ lambda_2
        np.r_[1.0, 0.7, 0.7 - gap, rest],  # lambda_2 ~ lambda_3
        np.r_[1.0, 0.7 - gap, 0.7, 0.7, rest[:-1]][:n],  # a triple cluster below lambda_1
    ]
    M = np.stack([_spectrum_gram(np.sort(c)[::-1], rng) for c in cases])
    l1, l2, _ = _kernels.gram_top2(M)
    ev = np.linalg.eigvalsh(M @ M.transpose(0, 2, 1))
    # both are backward stable: each is within 4 n eps lambda_1 of the exact eigenvalue
    tol = 8 * n * np.finfo(float).eps * ev[:, -1]
    np.testing.assert_array_less(np.abs(l1 - ev[:, -1]), tol)
    np.testing.assert_array_less(np.abs(l2 - ev[:, -2]), tol)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("on", [True, False])
def test_nonfinite_entries_are_rejected_anywhere(bad, on):
    # the kernels check finiteness inside their first pass: one bad entry, in any matrix
    # of any chunk, must raise the same error as the numpy path's up-front check
    rng = np.random.default_rng(18)
    for b, i, j in ((0, 0, 0), (77, 5, 63), (199, 63, 31)):
        S = rng.normal(size=(200, 64, 64))
        S[b, i, j] = bad
        with kernels(on):
            with pytest.raises(ValueError, match="scores contains NaN or infinite entries"):
                dsmlib.sinkhorn(S)
            with pytest.raises(ValueError, match="scores contains NaN or infinite entries"):
                dsmlib.sinkhorn(S, temperature=0.5)
            with pytest.raises(ValueError, match="M contains NaN or infinite entries"):
                dsmlib.sigma2(S)


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")  # the numpy path's span
@pytest.mark.parametrize("on", [True, False])
def test_huge_finite_entries_are_not_mistaken_for_inf(on):
    # sums that overflow (the kernels' quick finiteness test) must fall back to the exact check
    S = np.full((3, 8, 8), 1.7e308)
    S[:, ::2] = -1.7e308
    with kernels(on):
        M = dsmlib.sinkhorn(S, warn=False)
        s2 = dsmlib.sigma2(S)
    assert np.isfinite(M).all() and np.isfinite(s2).all()


@pytest.mark.skipif(not _kernels.AVAILABLE, reason="numba not installed")
@pytest.mark.parametrize("shape", [(7, 3, 11), (5, 17, 64), (4, 2, 9)])
def test_gram_top2_of_rectangular_matrices_matches_lapack(shape):
    """gram_top2 on (B, n, m), m != n: the two largest eigenvalues of M M^T (n x n), as
    LAPACK's on the Gram matrix (chapter 6's spectral norms of 17 x 64 token matrices)."""
    rng = np.random.default_rng(sum(shape))
    M = rng.standard_normal(shape)
    M[0] *= 1e-3
    M[1] += 5.0  # near rank one
    l1, l2, c = _kernels.gram_top2(M)
    ref = np.linalg.eigvalsh(M @ np.swapaxes(M, -1, -2))
    scale = ref[:, -1]
    assert np.all(np.abs(c**2 * l1 - ref[:, -1]) <= 64 * np.finfo(float).eps * scale)
    assert np.all(np.abs(c**2 * l2 - ref[:, -2]) <= 64 * np.finfo(float).eps * scale)
