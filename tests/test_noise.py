"""Properties of dsmlib.noise (HT Section 3.2 mechanisms)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from dsmlib import center, layer_norm, noise


def test_gaussian_noise_scale_and_seed():
    xi = noise.gaussian_noise(16, 0.5, size=20000, rng=0)
    assert xi.shape == (20000, 16)
    assert np.mean(np.sum(xi**2, -1)) == pytest.approx(0.25, rel=0.02)
    np.testing.assert_array_equal(xi[:3], noise.gaussian_noise(16, 0.5, size=20000, rng=0)[:3])
    with pytest.raises(ValueError):
        noise.gaussian_noise(1, 0.5)
    with pytest.raises(ValueError):
        noise.gaussian_noise(4, -1.0)


def test_expected_projected_norm_exact():
    n, nu = 64, 0.1
    e = noise.expected_projected_noise_norm(n, nu)
    # chi_{n-1} mean times nu / sqrt(n)
    assert e == pytest.approx(stats.chi(n - 1).mean() * nu / np.sqrt(n), rel=1e-12)
    assert e < nu * np.sqrt((n - 1) / n)  # Jensen: below Remark 1's value
    xi = noise.gaussian_noise(n, nu, size=50000, rng=1)
    assert np.linalg.norm(center(xi), axis=-1).mean() == pytest.approx(e, rel=2e-3)


def test_snr_forms():
    s = np.array([[0.3, -0.3, 0.0, 0.0]])
    e = noise.expected_projected_noise_norm(4, 0.1)
    assert noise.snr(s, 0.1)[0] == pytest.approx(np.linalg.norm(s) / e)
    assert noise.snr_approx(0.5, 2.0, 0.1) == pytest.approx(10.0)
    with pytest.raises(ValueError):
        noise.snr_approx(-0.1, 1.0, 0.1)


def test_normalized_distance_and_cosine():
    a = np.array([1.0, 0.0])
    b = np.array([0.0, 2.0])
    assert noise.normalized_distance(a, b) == pytest.approx(np.sqrt(2))
    assert noise.cosine(a, b) == pytest.approx(0.0)
    assert noise.cosine(a, 3 * a) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        noise.normalized_distance(a, np.zeros(2))
    with pytest.raises(ValueError):
        noise.cosine(np.zeros(2), a)


def test_ln_cosine_is_cosine_of_centred():
    rng = np.random.default_rng(2)
    y1, y2 = rng.standard_normal((2, 10, 8))
    np.testing.assert_allclose(noise.ln_cosine(y1, y2), noise.cosine(center(y1), center(y2)), atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(layer_norm(y1), axis=-1), np.sqrt(8))


def test_sphere_coordinate_tail_matches_sampling():
    d = 10
    u = rng_unit = np.random.default_rng(3).standard_normal((100000, d))
    u /= np.linalg.norm(rng_unit, axis=-1, keepdims=True)
    for eps in (0.1, 0.3, 0.6):
        assert noise.sphere_coordinate_tail(eps, d) == pytest.approx(np.mean(np.abs(u[:, 0]) >= eps), abs=5e-3)
    assert noise.sphere_coordinate_tail(0.0, d) == pytest.approx(1.0)
    assert noise.sphere_coordinate_tail(1.5, d) == 0.0
    with pytest.raises(ValueError):
        noise.sphere_coordinate_tail(-0.1, d)
