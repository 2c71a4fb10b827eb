"""Chapter 1 experiments at small sizes, mechanism properties, and a verdict-flip test for every claim."""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pytest
from scipy import stats

import dsmlib as d
from dsmlib.attention import pure_san, random_san_weights
from dsmlib.experiments import ch01_preliminaries as ch

os.environ.setdefault("DSMLIB_NO_CACHE", "1")

SMALL_SPEC = ch.DSMSpectraConfig(n=16, temperatures=(0.005, 1.0), eig_temperatures=(1.0,), seeds=(0, 1), per_seed=15)
SMALL_SPECIAL = ch.SpecialConfig(n=16, trials=40)
SMALL_DRAWS = ch.Sigma1DrawsConfig(n=16, temperatures=(0.005, 0.5), draws=3, seeds_per_draw=2, per_seed=15)
SMALL_PF = ch.PFConfig(n=12, trials=60, trials_special=30)
SMALL_NOISE = ch.NoiseConfig(n=16, big_seeds=(100, 101), big_per_seed=20_000)
SMALL_CONC = ch.ConcentrationConfig(ks=(1, 15, 200), n=16)
SMALL_NORM = ch.NormConfig(n=12, trials=50, search_trials=5000, family_ns=(2, 9))
SMALL_PATH = ch.PathConfig(n=8, d_model=4, d_qk=4, n_heads=3, layers=(1, 3), batch=2)
SMALL_STRICT = ch.StrictConfig(n=16, temperatures=(0.05, 1.0), seeds=(0, 1), per_seed=15, trials=40, trials_special=10)


@pytest.fixture(scope="module")
def bundle():
    return ch.SpectraBundle(ch.dsm_spectra_experiment.uncached(SMALL_SPEC), ch.special_dsm_experiment.uncached(SMALL_SPECIAL),
                            ch.sigma1_draws_experiment.uncached(SMALL_DRAWS))


@pytest.fixture(scope="module")
def pf():
    return ch.pf_experiment.uncached(SMALL_PF)


@pytest.fixture(scope="module")
def noise():
    return ch.noise_experiment.uncached(SMALL_NOISE)


@pytest.fixture(scope="module")
def conc():
    return ch.concentration_experiment.uncached(SMALL_CONC)


@pytest.fixture(scope="module")
def norms():
    return ch.norm_experiment.uncached(SMALL_NORM)


@pytest.fixture(scope="module")
def paths():
    return ch.path_experiment.uncached(SMALL_PATH)


@pytest.fixture(scope="module")
def strict():
    return ch.strict_experiment.uncached(SMALL_STRICT)


# ----------------------------------------------------------------------------- mechanisms
def test_norm_1inf_and_bound():
    A = np.random.default_rng(2).normal(size=(30, 7, 7))
    assert np.all(np.linalg.norm(A, 2, axis=(-2, -1)) <= ch.norm_1inf(A) + 1e-12)
    e = np.zeros((4, 4)); e[0] = 1
    assert np.isclose(ch.norm_1inf(e), 2.0) and np.isclose(ch.norm_1inf(e + e.T), 5.0)


def test_chi_mean_matches_scipy():
    k = np.array([1, 2, 5, 63, 500])
    assert np.allclose(ch.chi_mean(k), stats.chi.mean(k))
    assert np.all(ch.chi_mean(k) < np.sqrt(k))


def test_path_sum_equals_network_and_order_matters():
    g = np.random.default_rng(3)
    X = g.normal(size=(6, 4))
    w = random_san_weights(3, 2, 4, 4, qk_gain=3.0, rng=g)
    tr = pure_san(X, w, method="softmax")
    terms = ch.path_sum(X, tr.attention, w.W_h)
    assert terms.shape == (8, 6, 4)
    assert np.allclose(terms.sum(0), tr.outputs[-1], rtol=1e-12, atol=1e-12)
    assert not np.allclose(ch.path_sum(X, tr.attention, w.W_h, reverse=True).sum(0), tr.outputs[-1])


@pytest.mark.parametrize(
    "call",
    [
        lambda: ch.norm_1inf(np.array([1.0, np.nan])),
        lambda: ch.chi_mean(0),
        lambda: ch.path_sum(np.ones((3, 2)), np.ones((2, 2, 3, 3)), np.ones((2, 3, 2, 2))),
        lambda: ch.perron_bracket(-np.eye(3)),
        lambda: ch.perron_bracket(np.eye(3), n_iter=-1),
        lambda: ch.is_primitive(-np.eye(3)),
        lambda: ch.sigma1_draws_experiment.uncached(ch.Sigma1DrawsConfig(draws=0)),
        lambda: ch.reducible_gram_dsm(7, 2, 1.0, np.random.default_rng(0)),
        lambda: ch.StrictConfig(temperatures=(0.1, 0.0)),
        lambda: ch.StrictConfig(block_temperature=-1.0),
        lambda: ch.family_spectra({}),
    ],
)
def test_bad_input_raises(call):
    with pytest.raises(ValueError):
        call()


def test_noise_directions_and_shapes(noise):
    assert noise.coords.shape == (SMALL_NOISE.n_dirs, 2 * 20_000)
    assert noise.ortho < 1e-12 and noise.norms.shape == (1000,)


# ----------------------------------------------------------------------------- verdict flips
def test_ht_c_flips(bundle):
    v = ch.check_ht_c(bundle)
    # decided on DSMs (converged outputs): all pass; the unconverged T = 0.005 outputs are a second reading only
    assert v.verdict == "confirmed" and not v.severity and v.can_fail
    own, raw = v.readings
    assert own.papers_own and own.verdict == "confirmed" and raw.verdict == "qualified"
    s, dr = bundle.spectra, bundle.draws
    good = dataclasses.replace(bundle, spectra=dataclasses.replace(s, sigma1=np.ones_like(s.sigma1)),
                               draws=dataclasses.replace(dr, sigma1=np.ones_like(dr.sigma1)))
    v = ch.check_ht_c(good)
    assert v.verdict == "confirmed" and v.readings[1].verdict == "confirmed"
    # a converged DSM that breaks sigma_1 = 1 +- 1e-7 refutes the claim itself
    bad = dataclasses.replace(bundle, spectra=dataclasses.replace(s, sigma1=np.ones_like(s.sigma1) + 1e-6))
    v = ch.check_ht_c(bad)
    assert v.verdict == "refuted" and v.severity == "conclusion"


def test_ht_c_table_counts_draws(bundle):
    tab = ch.ht_c_table(bundle)
    assert list(tab["T"]) == [0.005, 0.5, 1.0]
    assert list(tab["n_draws"]) == [3, 3, 1]  # main grid (draw 0) + the other draws
    assert tab["n_pass"][0] == 0 and tab["n_pass"][-1] == 1 and tab["n_bad_conv"].sum() == 0


def test_perron_bracket_and_primitivity():
    g = np.random.default_rng(5)
    S = d.row_softmax(g.normal(size=(20, 7, 7)))
    lo, hi = ch.perron_bracket(S)
    assert np.allclose(lo, 1) and np.allclose(hi, 1)  # row-stochastic: rho = 1 exactly
    A = g.random((20, 6, 6))
    lo, hi = ch.perron_bracket(A, n_iter=60)
    rho = np.abs(np.linalg.eigvals(A)).max(-1)
    assert np.all(lo <= rho + 1e-12) and np.all(rho <= hi + 1e-12) and np.allclose(lo, hi, rtol=1e-8)
    cyc = np.roll(np.eye(5), 1, axis=1)
    assert not ch.is_primitive(cyc) and ch.is_primitive(0.5 * (np.eye(5) + cyc))
    assert ch.is_primitive(A).all() and not ch.is_primitive(np.eye(4))


def test_ht_pf_flips(pf):
    v = ch.check_ht_pf(pf)
    assert v.verdict == "refuted" and v.severity == "proof"  # PF does not give sigma_1; the DSMs have sigma_1 = 1
    assert [r.verdict for r in v.readings] == ["refuted", "confirmed", "confirmed"] and v.readings[0].papers_own
    dsm = pf.is_dsm[:, None]
    no_counter = dataclasses.replace(pf, sigma1=np.where(dsm, pf.sigma1, 1.0))
    assert ch.check_ht_pf(no_counter).verdict == "confirmed"
    bad_dsm = dataclasses.replace(pf, sigma1=np.where(dsm, pf.sigma1 + 1e-3, pf.sigma1))
    v = ch.check_ht_pf(bad_dsm)
    assert v.verdict == "refuted" and v.severity == "conclusion"
    # the non-primitive DSMs are detected as such, and all DSMs have a doubly stochastic Gram matrix
    i = pf.names.index("permutation")
    assert not pf.primitive[i, : pf.count[i]].any()
    assert np.nanmax(pf.gram_err[pf.is_dsm]) < 1e-10


def test_ht_a1_flips(bundle):
    assert ch.check_ht_a1(bundle).verdict == "confirmed"
    s = bundle.spectra
    lam2 = s.lam2.copy(); lam2[0, 0] = 1.0
    n_unit = s.n_unit.copy(); n_unit[0, 0] = 2
    bad = dataclasses.replace(bundle, spectra=dataclasses.replace(s, lam2=lam2, n_unit=n_unit))
    assert ch.check_ht_a1(bad).verdict == "refuted"


def test_ht_l2_flips(bundle):
    assert ch.check_ht_l2(bundle).verdict == "confirmed"
    sp = bundle.special
    bad = dataclasses.replace(bundle, special=dataclasses.replace(sp, bk_restricted=sp.bk_restricted + 1e-6))
    assert ch.check_ht_l2(bad).verdict == "refuted"


def test_ht_r1_flips(noise):
    v = ch.check_ht_r1(noise)
    assert v.verdict == "refuted" and v.severity == "cosmetic"  # a 0.4 % slip at n = 64 (more at n = 16)
    assert v.readings[0].papers_own and v.readings[1].verdict == "confirmed"  # ~ nu, as the paper uses it
    # the paper's R = 1000 alone cannot separate the two values: inconclusive, not refuted
    assert ch.check_ht_r1(dataclasses.replace(noise, big_norms=noise.norms)).verdict == "inconclusive"
    c = noise.config
    paper = c.nu * np.sqrt((c.n - 1) / c.n)
    doctored = dataclasses.replace(noise, big_norms=noise.big_norms * paper / noise.big_norms.mean())
    assert ch.check_ht_r1(doctored).verdict == "confirmed"


def test_ht_l1_flips(noise):
    assert ch.check_ht_l1(noise).verdict == "confirmed"
    coords = noise.coords.copy(); coords[0] = noise.aniso_coords
    assert ch.check_ht_l1(dataclasses.replace(noise, coords=coords)).verdict == "refuted"
    # a control the test cannot reject: no power, inconclusive
    assert ch.check_ht_l1(dataclasses.replace(noise, aniso_coords=noise.coords[1])).verdict == "inconclusive"


def test_ht_aa_flips(conc):
    assert ch.check_ht_aa(conc).verdict == "confirmed"
    assert ch.check_ht_aa(dataclasses.replace(conc, exact=np.minimum(conc.exact * 30, 1.0))).verdict == "refuted"


def test_rc_e_flips(norms):
    assert ch.check_rc_e(norms).verdict == "confirmed"
    assert ch.check_rc_e(dataclasses.replace(norms, ratio=norms.ratio * 1.5)).verdict == "refuted"
    no_viol = dataclasses.replace(norms, search_ratio=np.minimum(norms.search_ratio, 1.0))
    assert ch.check_rc_e(no_viol).verdict == "confirmed"  # the explicit family still violates it
    no_viol = dataclasses.replace(no_viol, family_ratio=np.minimum(norms.family_ratio, 1.0))
    assert ch.check_rc_e(no_viol).verdict == "inconclusive"


def test_rc_pd_flips(paths):
    assert ch.check_rc_pd(paths).verdict == "confirmed"
    assert ch.check_rc_pd(dataclasses.replace(paths, rel_err=paths.rel_err + 1e-6)).verdict == "refuted"
    blind = dataclasses.replace(paths, rel_err_reversed=np.zeros_like(paths.rel_err_reversed))
    assert ch.check_rc_pd(blind).verdict == "inconclusive"


# ----------------------------------------------------------------------------- HT-L2S
def test_reducible_gram_dsm_is_primitive_with_sigma2_one():
    M, Q = ch.reducible_gram_dsm(12, 20, 1.0, np.random.default_rng(1))
    assert np.all(d.marginal_error(M) < 1e-12) and ch.is_primitive(M).mean() > 0.9
    assert np.allclose(d.sigma2(M), 1.0, atol=1e-12)  # yet |lambda_2| < 1 where primitive
    lam2 = np.sort(np.abs(np.linalg.eigvals(M[ch.is_primitive(M)])), axis=-1)[:, -2]
    assert np.all(lam2 < 1 - 1e-6)


def test_ht_l2s_flips(strict):
    v = ch.check_ht_l2s(strict)
    # Algorithm-1 DSMs contract strictly; a primitive BQ does not: scope
    assert v.verdict == "qualified" and v.severity == "scope" and v.readings[0].papers_own
    assert [r.verdict for r in v.readings] == ["qualified", "confirmed", "refuted"]
    ok = dataclasses.replace(strict, bq_sigma2=np.full_like(strict.bq_sigma2, 0.5))
    assert ch.check_ht_l2s(ok).verdict == "confirmed"
    low = strict.sigma2.copy(); low[0] = 1.0  # sigma_2 -> 1 at the lowest temperature only
    v = ch.check_ht_l2s(dataclasses.replace(ok, sigma2=low))
    assert v.verdict == "qualified" and v.readings[1].verdict == "qualified"
    flat = dataclasses.replace(strict, sigma2=np.ones_like(strict.sigma2))
    v = ch.check_ht_l2s(flat)
    assert v.verdict == "refuted" and v.severity == "conclusion"


def test_every_check_says_how_it_can_fail(bundle, pf, noise, conc, norms, paths, strict):
    vs = [ch.check_ht_c(bundle), ch.check_ht_a1(bundle), ch.check_ht_l2(bundle), ch.check_ht_pf(pf),
          ch.check_ht_r1(noise), ch.check_ht_l1(noise), ch.check_ht_aa(conc), ch.check_rc_e(norms),
          ch.check_rc_pd(paths), ch.check_ht_l2s(strict)]
    assert all(v.can_fail for v in vs)
    assert set(ch.CHECKS) == {"HT-C", "HT-A1", "HT-L2", "HT-PF", "HT-R1", "HT-L1", "HT-AA", "RC-E", "RC-PD", "HT-L2S"}


# ----------------------------------------------------------------------------- figures and tables
def test_figures_have_labelled_axes(bundle, pf, noise, conc, strict):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figs = [ch.eigenvalue_figure(), ch.sigma1_figure(bundle), ch.pf_figure(pf), ch.l2_figure(bundle, T=1.0),
            ch.l2s_figure(strict), ch.r1_figure(noise), ch.l1_figure(noise), ch.aa_figure(conc),
            ch.spectrum_figure(0.1, 8)]
    for f in figs:
        for ax in f.axes:
            assert ax.get_ylabel() or ax.get_title(), f
        plt.close(f)
    assert len(figs[4].axes) == 2 and figs[4].axes[0].get_xscale() == "log"


def test_markdown_tables(bundle, pf, noise, norms, paths, strict):
    tabs = {
        "eigen": (ch.eigen_markdown(bundle), 1 + 3),
        "sigma1": (ch.sigma1_markdown(bundle), len(SMALL_SPEC.temperatures)),
        "ht_c": (ch.ht_c_markdown(bundle), 3),
        "pf": (ch.pf_markdown(pf), len(pf.names)),
        "l2": (ch.l2_markdown(bundle), 2),
        "noise": (ch.noise_markdown(noise), 4),
        "norms": (ch.norms_markdown(norms), len(norms.kinds) + 1),
        "paths": (ch.paths_markdown(paths), len(SMALL_PATH.methods) * len(SMALL_PATH.layers)),
    }
    for name, (t, rows) in tabs.items():
        lines = t.splitlines()
        assert len(lines) == rows + 2 and set(lines[1]) <= set("|-: "), name
        assert all(line.count("|") == lines[0].count("|") for line in lines), name
    vs = [ch.check_ht_c(bundle), ch.check_ht_l2s(strict)]
    s = ch.summary_markdown(vs).splitlines()
    assert len(s) == 4 and "HT-L2S" in s[-1] and "scope" in s[-1]
