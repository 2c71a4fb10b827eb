"""Chapter 4 experiments at small sizes, and a verdict-flip test for every claim."""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pytest

from dsmlib import claims
from dsmlib.experiments import ch04_residual as ch

os.environ.setdefault("DSMLIB_NO_CACHE", "1")

SMALL_DEEP = ch.DeepConfig(n=16, trials=60, depth=16, temperatures=(0.05, 0.3, 1.0), pool=64)
SMALL_ESC = ch.EscapeConfig(n=16, trials=40, depth=8, pool=32)
SMALL_PATH = ch.PathConfig(n=12, depths=(1, 2, 4, 6), paths=40, scale=2.0)


@pytest.fixture(scope="module")
def deep():
    return ch.deep_experiment.uncached(SMALL_DEEP)


@pytest.fixture(scope="module")
def paths():
    return ch.path_experiment.uncached(SMALL_PATH)


def test_deep_shapes_and_proof_step(deep):
    V, L = len(ch.VARIANTS), SMALL_DEEP.depth
    assert deep.angle0_q.shape == (3, V, L + 1, 3)
    assert deep.violation.shape == (3, V, L)
    assert deep.angle0_at.shape == (3, V, 3, SMALL_DEEP.trials)
    # the bound holds on every mean-free input at layer 1 (Lemma 2 + ReLU contraction)
    perp = [k for k, v in enumerate(ch.VARIANTS) if v[2] == "perp"]
    assert deep.violation[:, perp, 0].max() == 0
    # a skip block doubles the mean: identity + skip with a mean grows ~ x2 per layer
    m = ch.variant_index("skip", "identity", "mean")
    assert np.all(np.abs(deep.lognorm_q[:, m, -1, 1] / L - np.log(2)) < 0.05)
    # LN streams are mean-free
    k = ch.variant_index("skip+LN", "relu", "perp")
    assert deep.meanfrac_q[:, k, 1:, 2].max() < 1e-10


def test_effective_depth():
    assert ch.effective_depth(np.exp(-1.0), eps=np.exp(-3.0)) == pytest.approx(3.0)
    with pytest.raises(ValueError):
        ch.effective_depth(1.2)
    assert ch.measured_depth(np.array([1.0, 0.1, 0.001]), 0.01) == 2.0
    assert ch.measured_depth(np.array([1.0, 0.5]), 0.01) == np.inf


def test_growth_ratio():
    assert ch.growth_ratio(np.full(5, 1.0), np.full(5, 2.0)) == pytest.approx(1.0)
    assert ch.growth_ratio(np.full(5, 1.0), np.full(5, np.sqrt(2))) == pytest.approx(np.sqrt(2) - 1)


def test_inputs():
    x, x2 = ch.make_inputs(16, 5, 0.0, 0.9, np.random.default_rng(0))
    assert np.allclose(x.sum(-1), 0) and np.allclose(x2.sum(-1), 0)
    cos = (x * x2).sum(-1) / np.linalg.norm(x, axis=-1) / np.linalg.norm(x2, axis=-1)
    assert np.allclose(cos, 0.9)


def test_escape_runs():
    e = ch.escape_experiment.uncached(SMALL_ESC)
    assert e.angle0_q.shape == (len(ch.MIXINGS), len(ch.ESC_COLS), SMALL_ESC.depth + 1, 3)
    g = ch.MIXINGS.index("Gaussian")
    d = ch.MIXINGS.index("DSM")
    assert e.lognorm_q[g, 0, -1, 1] > e.lognorm_q[d, 0, -1, 1]


def test_paths(paths):
    assert paths.noskip.shape == (2, 4, 40)
    assert np.all(paths.lengths <= np.array(SMALL_PATH.depths)[None, :, None])
    # the lazy product of (I + P)/2 decays slower than the product of the P
    assert np.all(np.median(paths.lazy[:, -1], axis=-1) > np.median(paths.noskip[:, -1], axis=-1))


# ----------------------------------------------------------------------------- flips
def _doctor_plateau(r: ch.DeepResult) -> ch.DeepResult:
    """Angles that stop growing: theta at L equals theta at L/2, small."""
    a = r.angle0_at.copy()
    a[:] = 0.1 + 0.001 * np.random.default_rng(0).random(a.shape)
    q = r.angle0_q.copy()
    q[:] = 0.1
    return dataclasses.replace(r, angle0_at=a, angle0_q=q)


def _doctor_growing(r: ch.DeepResult) -> ch.DeepResult:
    a = r.angle0_at.copy()
    ck = r.checkpoints
    for i, d in enumerate(ck):
        a[:, :, i] = 0.02 * d * (1 + 0.01 * np.random.default_rng(i).random(a.shape[-1]))
    return dataclasses.replace(r, angle0_at=a)


def test_flip_ht_deep(deep):
    grow = claims.evaluate("HT-DEEP", _doctor_growing(deep))
    flat = claims.evaluate("HT-DEEP", _doctor_plateau(deep))
    assert grow.verdict == "refuted"
    assert flat.verdict == "confirmed"


def test_flip_ht_p1(deep):
    grow = claims.evaluate("HT-P1", _doctor_growing(deep))
    assert grow.verdict == "refuted"
    flat = claims.evaluate("HT-P1", _doctor_plateau(deep))
    assert flat.verdict == "qualified"  # step only on V_perp, and the angle stops
    viol = flat_viol = deep.violation.copy()
    flat_viol[:] = 0.0
    ok = dataclasses.replace(_doctor_plateau(deep), violation=flat_viol,
                             meanfrac_q=np.zeros_like(deep.meanfrac_q))
    assert claims.evaluate("HT-P1", ok).verdict == "confirmed"
    bad = viol.copy()
    bad[:, ch.variant_index("skip+LN", "relu", "perp"), 3] = 0.5
    assert claims.evaluate("HT-P1", dataclasses.replace(_doctor_plateau(deep), violation=bad)).verdict == "refuted"


def test_flip_rc_skip(paths):
    v = claims.evaluate("RC-SKIP", paths)
    assert v.verdict == "confirmed"
    swapped = dataclasses.replace(paths, skip=paths.noskip, noskip=paths.skip)
    assert claims.evaluate("RC-SKIP", swapped).verdict == "refuted"
    same = dataclasses.replace(paths, skip=paths.noskip)
    assert claims.evaluate("RC-SKIP", same).verdict == "qualified"
