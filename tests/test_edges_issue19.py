"""Edge cases of issue 19 (defects 7 and 8): a clear ValueError or a finite, documented result.

Each case ran silently before: all-NaN matrices, a tolerance nobody could reach running
"forever", masks and dates taken as numbers, scipy's internal message, silent overflow to
inf. Both code paths (compiled kernels and numpy) are checked where they differ.
"""

from __future__ import annotations

import signal
import warnings
from contextlib import contextmanager

import numpy as np
import pytest

import dsmlib as d
from dsmlib import _kernels, noise, projections, spectra


@contextmanager
def kernels(on: bool):
    old = _kernels.ENABLED
    _kernels.ENABLED = on and _kernels.AVAILABLE
    try:
        yield
    finally:
        _kernels.ENABLED = old


@contextmanager
def time_limit(seconds: int):
    def boom(*_):
        raise TimeoutError(f"took more than {seconds} s")

    old = signal.signal(signal.SIGALRM, boom)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


PATHS = [pytest.param(True, id="kernels"), pytest.param(False, id="numpy")]


# ------------------------------------------------------------------ defect 7


@pytest.mark.parametrize("on", PATHS)
def test_scores_over_temperature_that_overflow_raise(on):
    with kernels(on), warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning on the way, no all-NaN result
        with pytest.raises(ValueError, match="scores / temperature overflows float64"):
            d.sinkhorn(np.array([[1e300, 0], [0, 0.0]]), temperature=1e-10, warn=False)


@pytest.mark.parametrize("on", PATHS)
def test_subnormal_temperature_raises_and_tiny_normal_one_is_finite(on):
    with kernels(on), warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="temperature=5e-324 is too small"):
            d.random_dsm(3, 5e-324, rng=0, warn=False)
        M = d.random_dsm(3, 1e-300, rng=0, warn=False)  # a huge but finite range: finite
    assert np.all(np.isfinite(M)) and np.all((M >= 0) & (M <= 1))
    np.testing.assert_allclose(M.sum(-2), 1.0, atol=1e-12)


@pytest.mark.parametrize("tol", [1e-300, 1e-17, 5e-324])
def test_tolerance_below_float_resolution_is_rejected_at_once(tol):
    with time_limit(20):
        with pytest.raises(ValueError, match="below float64 resolution"):
            d.sinkhorn(np.eye(3), tol=tol, n_iter=10**12)
        with pytest.raises(ValueError, match="below float64 resolution"):
            d.random_dsm(4, 0.5, rng=0, tol=tol, n_iter=10**12)
    # the documented alternatives still work: tol = 0 (exactly n_iter) and tol at resolution
    M, info = d.sinkhorn(np.eye(3), tol=0.0, n_iter=3, return_info=True)
    assert int(info.n_iter.max()) == 3
    d.sinkhorn(np.eye(3), tol=2.0**-53, n_iter=50, warn=False)


# ------------------------------------------------------------------ defect 8


@pytest.mark.parametrize(
    "fn, name",
    [(d.sinkhorn, "scores"), (d.sigma2, "M"), (d.center, "x"), (d.res, "X"), (d.row_softmax, "scores"),
     (d.q_project, "Y")],
)
def test_masked_arrays_are_refused(fn, name):
    m = np.ma.masked_array(np.eye(3), mask=np.eye(3, dtype=bool))
    with pytest.raises(ValueError, match=rf"{name} is a masked array"):
        fn(m)


@pytest.mark.parametrize("dtype", ["datetime64[s]", "timedelta64[ms]"])
def test_dates_and_time_spans_are_refused(dtype):
    x = np.arange(9).reshape(3, 3).astype(dtype)
    for fn, name in ((d.sinkhorn, "scores"), (d.sigma2, "M"), (d.center, "x")):
        with pytest.raises(ValueError, match=rf"{name} must be a real numeric array, got dates"):
            fn(x)
    obj = np.array([[np.datetime64("2020-01-01"), 1], [2, 3]], dtype=object)
    with pytest.raises(ValueError, match="scores must be a real numeric array"):
        d.sinkhorn(obj)


def test_object_and_complex_arrays():
    with pytest.raises(ValueError, match="real numeric array, got an object array holding a Decimal"):
        from decimal import Decimal

        d.sigma2(np.array([[Decimal(1), 0], [0, 1]], dtype=object))
    with pytest.raises(ValueError, match="must be real"):
        d.sinkhorn(np.eye(2, dtype=complex))
    assert d.sigma2(np.array([[1, 0], [0, 1]], dtype=object)).shape == ()  # plain numbers: accepted


def test_row_softmax_of_an_empty_matrix_gives_dsmlibs_message():
    with pytest.raises(ValueError, match="scores must have at least one column"):
        d.row_softmax(np.zeros((0, 0)))
    with pytest.raises(ValueError, match="scores must have at least one column"):
        d.row_softmax(np.zeros((3, 0)))
    assert d.row_softmax(np.zeros((0, 3))).shape == (0, 3)


def test_centring_near_the_float_limit_does_not_overflow_silently():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = np.array([1.5e308, -1.5e308, 1e300])
        c = d.center(x)
        assert np.all(np.isfinite(c))
        np.testing.assert_allclose(c, x - (1e300 / 3), rtol=1e-15)
        with pytest.raises(ValueError, match="x: the centred values exceed the float64 range"):
            d.center(np.array([-1.7e308, 1.7e308, 1.7e308]))
        X = np.array([[1.5e308, 1.0], [1.6e308, 2.0]])
        R = d.res(X)
        np.testing.assert_allclose(R, [[-0.05e308, -0.5], [0.05e308, 0.5]], rtol=1e-12)
        Y = np.array([[1.5e308, -1.5e308], [1e308, 1.2e308]])
        Q = d.q_project(Y)
        assert np.all(np.isfinite(Q))
        np.testing.assert_allclose(Q.sum(-1), 0, atol=1e294)
        np.testing.assert_allclose(Q, 2.0**1023 * d.q_project(Y / 2.0**1023), rtol=0, atol=0)
        with pytest.raises(ValueError, match="Q\\(Y\\) exceeds the float64 range"):
            d.q_project(np.array([[1.7e308, -1.7e308, -1.7e308], [-1.7e308, 1.7e308, 1.7e308]] + [[-1.7e308, 1.7e308, 1.7e308]]))


def test_ordinary_centring_is_bit_for_bit_unchanged():
    rng = np.random.default_rng(0)
    for scale in (1e-300, 1e-5, 1.0, 1e200):
        x = rng.normal(size=(5, 7, 7)) * scale
        np.testing.assert_array_equal(projections.center(x), x - x.mean(-1, keepdims=True))
        np.testing.assert_array_equal(projections.res(x), x - x.mean(-2, keepdims=True))
        q = x - x.mean(-2, keepdims=True) - x.mean(-1, keepdims=True) + x.mean((-2, -1), keepdims=True)
        np.testing.assert_array_equal(projections.q_project(x), q)


@pytest.mark.parametrize("T", [0.0, -1.0, np.nan, np.inf, -np.inf])
def test_non_positive_or_non_finite_temperatures_raise(T):
    with pytest.raises(ValueError, match="temperature must be a positive finite number"):
        d.sinkhorn(np.eye(3), temperature=T)
    with pytest.raises(ValueError, match="temperature must be a positive finite number"):
        d.random_dsm(3, T)
    from dsmlib._validate import check_temperatures

    with pytest.raises(ValueError, match=r"temperatures\[1\] must be a positive finite number"):
        check_temperatures((0.5, T))


def test_other_mechanisms_refuse_masks():
    m = np.ma.masked_array(np.ones((2, 3)), mask=[[0, 1, 0], [0, 0, 0]])
    with pytest.raises(ValueError, match="masked array"):
        spectra.singular_values(m)
    with pytest.raises(ValueError, match="masked array"):
        noise.snr(m, 0.1)
