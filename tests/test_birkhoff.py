"""The exact-DSM constructions (dsmlib.birkhoff), the norm on V_perp (dsmlib.spectra.restricted_norm)
and HT Algorithm 1's seeded costs and grid (dsmlib.algorithm1)."""

import numpy as np
import pytest

import dsmlib as d
from dsmlib.algorithm1 import HT_TEMPERATURES, algorithm1_costs
from dsmlib.birkhoff import birkhoff_dsm, block_diagonal, permutation_matrices, random_permutations
from dsmlib.spectra import restricted_norm


def test_restricted_norm_is_sigma2_for_exact_dsm():
    B = birkhoff_dsm(10, 3, size=20, rng=0)
    assert B.shape == (20, 10, 10) and B.dtype == np.float64
    assert np.allclose(B.sum(-1), 1, atol=1e-14) and np.allclose(B.sum(-2), 1, atol=1e-14)
    assert np.allclose(restricted_norm(B), d.sigma2(B), atol=1e-12)


def test_restricted_norm_matches_brute_force():
    A = np.random.default_rng(1).normal(size=(6, 6))
    U = np.linalg.svd(np.eye(6) - 1 / 6)[0][:, :5]  # orthonormal basis of V_perp
    assert np.isclose(restricted_norm(A), np.linalg.norm(A @ U, 2))


def test_birkhoff_dsm_batch_shape_and_seeding():
    a = birkhoff_dsm(5, 2, size=(3, 4), rng=7)
    assert a.shape == (3, 4, 5, 5)
    assert np.array_equal(a, birkhoff_dsm(5, 2, size=(3, 4), rng=np.random.default_rng(7)))
    assert birkhoff_dsm(4, 1, rng=0).shape == (4, 4)  # one permutation: a permutation matrix
    assert set(np.unique(birkhoff_dsm(4, 1, rng=0))) == {0.0, 1.0}


def test_permutations_and_blocks():
    P = permutation_matrices(np.array([[2, 0, 1], [0, 1, 2]]))
    assert P.shape == (2, 3, 3) and np.array_equal(P[1], np.eye(3)) and P[0, 0, 2] == 1
    Q = random_permutations(5, (2, 3), np.random.default_rng(0))
    assert Q.shape == (2, 3, 5, 5) and np.all(Q.sum(-1) == 1) and np.all(Q.sum(-2) == 1)
    B = block_diagonal(np.arange(8.0).reshape(2, 2, 2))
    assert np.array_equal(B, [[0, 1, 0, 0], [2, 3, 0, 0], [0, 0, 4, 5], [0, 0, 6, 7]])


def test_algorithm1_costs_and_grid():
    a = algorithm1_costs(5, (3, 4), 2)
    assert a.shape == (4, 5, 5) and a.dtype == np.float64
    assert np.array_equal(a[2:], np.random.default_rng(4).random((2, 5, 5)))
    assert len(HT_TEMPERATURES) == 16 and HT_TEMPERATURES[0] == 0.01 and HT_TEMPERATURES[-1] == 10.0


@pytest.mark.parametrize(
    "call",
    [
        lambda: restricted_norm(np.ones((3, 4))),
        lambda: birkhoff_dsm(1, 2),
        lambda: birkhoff_dsm(4, 0),
        lambda: permutation_matrices(np.array([0, 0, 1])),
        lambda: permutation_matrices(np.array([0.0, 1.0])),
        lambda: random_permutations(1, 3, np.random.default_rng(0)),
        lambda: block_diagonal(np.ones((2, 3, 2))),
        lambda: algorithm1_costs(1, (0,), 2),
        lambda: algorithm1_costs(4, (), 2),
    ],
)
def test_bad_input_raises(call):
    with pytest.raises(ValueError):
        call()
