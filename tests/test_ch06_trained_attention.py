"""Chapter 6: the per-model summaries, the pre-registered cells, and checks that flip."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from dsmlib.attention import chained_product
from dsmlib.experiments.ch06_trained_attention import analysis as prereg, checks, experiments as en
from dsmlib.trained import model as tm

L = 24


def _summary(ds: str, norm: str, seed: int, rng: np.random.Generator, **over) -> en.ModelSummary:
    """A model summary with realistic shapes; Softmax and Sinkhorn alike up to run noise."""
    t = np.arange(1, L + 1)
    rate = 0.8 + 0.05 * rng.standard_normal()
    paths = np.stack([10 ** (-rate * t), 10 ** (-0.1 * rate * t), 10 ** (-0.5 * rate * t)])
    hist = 0.3 + 0.01 * rng.standard_normal(9)
    base = dict(
        name=tm.model_name(ds, norm, seed), dataset=ds, normalisation=norm, seed=seed, sha256="0" * 64, n_test=10,
        acc=0.95, acc_log=0.95, entropy_l1=2.5 + 0.05 * rng.standard_normal(),
        same_scores_gap=0.1 + 0.02 * rng.standard_normal(), path_median=paths,
        random_median=10 ** (-0.5 * rate * t), score_sd=1.0,
        q=np.stack([np.exp(-(3.0 ** np.minimum(t, 6))), 0.5 + 0 * t, np.exp(-(3.0 ** np.minimum(t, 6))),
                    0.5 * 10 ** (0.01 * rng.standard_normal()) + 0 * t]),
        col_dev=0.2 + 0.01 * rng.standard_normal(), col_dev_shuffled=0.2 + 0.01 * rng.standard_normal(),
        hist_col_dev=hist, conv_changed=0.0, conv_logit=0.01, conv_changed_trunc=0.0, conv_within=1.0,
        conv_median_err=1e-8, example_map=np.eye(17), cpu_s=60.0, wall_s=60.0,
    )
    base.update(over)
    return en.ModelSummary(**base)


def _result(seed: int = 0, **by_norm) -> en.EnsembleResult:
    """8 runs per arm on both data sets; ``by_norm = {"sinkhorn": f}`` maps a summary to a changed one."""
    rng = np.random.default_rng(seed)
    ms = []
    for ds in en.DATASETS:
        for norm in en.NORMS:
            for s in en.SEEDS:
                m = _summary(ds, norm, s, rng)
                if norm in by_norm:
                    m = by_norm[norm](m)
                ms.append(m)
    return en.EnsembleResult(tuple(ms))


def _shift(field: str, delta: float):
    return lambda m: dataclasses.replace(m, **{field: getattr(m, field) + delta})


# ---------------------------------------------------------------------------------------
# pieces
# ---------------------------------------------------------------------------------------
def test_path_medians_match_chained_product():
    """The path products are RC Eq. 10's chained products (identity reading: factors -> I)."""
    rng = np.random.default_rng(0)
    A = rng.random((5, 3, 2, 4, 4))  # (L, N, H, n, n)
    A /= A.sum(-1, keepdims=True)
    paths = en.path_sample(5, 2, 3, 7, seed=1)
    med = en.path_medians(A, paths)
    for t in (1, 3, 5):
        ly, hd, im = paths[0][t - 1], paths[1][t - 1], paths[2][t - 1]
        P = chained_product(np.swapaxes(A, 1, 2), ly, hd, im)
        s = np.linalg.svd(P, compute_uv=False)
        assert med[0, t - 1] == pytest.approx(np.median(s[:, 1] / s[:, 0]), rel=1e-10)
    assert np.all(med[1] >= med[0] - 1e-12)  # (I + P)/2 keeps at least as much rank here


def test_slope_and_growth_on_exact_laws():
    """decay_slope recovers an exponential's rate; growth_factor tells exponential from cubic."""
    t = np.arange(1, 25)
    assert prereg.decay_slope(10 ** (-0.7 * t)) == pytest.approx(-0.7)
    assert prereg.resolvable(10 ** (-0.7 * t)) == 12  # 10^-8.4 >= 1e-9 > 10^-9.1
    cubic = np.exp(-0.1 * 3.0 ** (t - 1))
    assert prereg.growth_factor(cubic) == pytest.approx(np.log(3.0), rel=1e-6)
    assert prereg.growth_factor(np.exp(-1.0 * t)) < np.log(1.5)
    assert np.isnan(prereg.decay_slope(np.full(24, 1e-12)))


def test_col_deviation_and_shuffle_keep_rows():
    rng = np.random.default_rng(2)
    P = rng.random((3, 5, 5))
    P /= P.sum(-1, keepdims=True)
    S = en.shuffle_rows(P, np.random.default_rng(0))
    np.testing.assert_allclose(np.sort(S, -1), np.sort(P, -1))
    assert en.col_deviation(np.full((5, 5), 0.2)) == pytest.approx(0.0, abs=1e-15)


# ---------------------------------------------------------------------------------------
# verdicts flip with the data
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("delta, expected", [(0.5, "confirmed"), (0.0, "inconclusive"), (-0.5, "refuted")])
def test_rc_f1_flips(delta, expected):
    v = checks.check_rc_f1(_result(sinkhorn=_shift("entropy_l1", delta)))
    assert v.verdict == expected, v.evidence
    if expected == "refuted":
        assert v.severity == "conclusion"


def test_rc_f1_digits_reversal_qualifies():
    def f(m):
        return dataclasses.replace(m, entropy_l1=m.entropy_l1 + (0.5 if m.dataset == "mnist" else -0.5))

    v = checks.check_rc_f1(_result(sinkhorn=f))
    assert (v.verdict, v.severity) == ("qualified", "scope")


def _scale_paths(factor: float, readings=(0, 1)):
    def f(m):
        p = m.path_median.copy()
        for k in readings:
            p[k] = p[k] ** factor
        return dataclasses.replace(m, path_median=p)

    return f


def test_rc_f3_flips():
    assert checks.check_rc_f3(_result(sinkhorn=_scale_paths(0.7))).verdict == "confirmed"
    assert checks.check_rc_f3(_result(sinkhorn=_scale_paths(1.4))).verdict == "refuted"
    v = checks.check_rc_f3(_result(sinkhorn=_scale_paths(0.7, readings=(0,))))
    assert v.verdict in ("qualified", "inconclusive")


def test_rc_mech_flips():
    assert checks.check_rc_mech(_result(sinkhorn=_scale_paths(0.6, readings=(1,)))).verdict == "confirmed"
    assert checks.check_rc_mech(_result(sinkhorn=_scale_paths(0.6, readings=(0,)))).verdict == "refuted"


def test_rc_conv_flips():
    assert checks.check_rc_conv(_result()).verdict == "confirmed"
    bad = _result(sinkhorn=lambda m: dataclasses.replace(m, conv_changed=0.05 + 0.001 * m.seed))
    assert checks.check_rc_conv(bad).verdict == "refuted"


def test_rc_ds_flips():
    def towards(m):
        h = m.hist_col_dev * np.linspace(1.0, 0.5, m.hist_col_dev.size)
        return dataclasses.replace(m, hist_col_dev=h, col_dev=0.5 * m.col_dev_shuffled)

    assert checks.check_rc_ds(_result(softmax=towards)).verdict == "confirmed"

    def away(m):
        h = m.hist_col_dev * np.linspace(1.0, 2.0, m.hist_col_dev.size)
        return dataclasses.replace(m, hist_col_dev=h, col_dev=2.0 * m.col_dev_shuffled)

    v = checks.check_rc_ds(_result(softmax=away))
    assert (v.verdict, v.severity) == ("refuted", "conclusion")


def _sf_runs(k: int = 8, *, trend: float = 0.0, beyond: float = 0.0, spread: float = 0.05) -> tuple:
    """``k`` synthetic runs of RC-DS's second reading: per run, ln c(30)/c(1) with mean ``trend``
    and ln(c_trained / c_shuffled) with mean ``beyond``, both with run-to-run SD ``spread``."""
    base = np.linspace(-1.0, 1.0, k)[np.argsort(np.arange(k) * 5 % k)]
    base = base / base.std(ddof=1)
    out = []
    for s in range(k):
        t, b = trend + spread * base[s], beyond + spread * base[::-1][s]
        hist = np.concatenate([[0.05], 0.3 * np.exp(t * np.linspace(0.0, 1.0, 30))])  # epoch 0 untrained
        out.append(en.SettingSummary(
            name=en.sinkformers_names()[s], seed=s, sha256="0" * 64, n_test=10, acc=0.9, acc_log=0.9,
            col_dev=0.2 * np.exp(b), col_dev_shuffled=0.2, hist_col_dev=hist, cpu_s=12.0, wall_s=12.0))
    return tuple(out)


def _with_sf(r: en.EnsembleResult, runs: tuple) -> en.EnsembleResult:
    return dataclasses.replace(r, sinkformers=runs)


@pytest.mark.parametrize("trend, beyond, expected, spread", [
    (-0.5, -0.5, "confirmed", 0.05),   # more doubly stochastic after epoch 1 and than the same-sharpness null
    (0.5, 0.5, "refuted", 0.05),       # less doubly stochastic: the main part (trend) opposes
    (-0.5, 0.5, "qualified", 0.05),    # trend holds, but no more doubly stochastic than the null
    (0.0, -0.5, "refuted", 0.05),      # no trend: equivalent to none within 1 SD (TOST)
    (-0.5, -0.5, "inconclusive", 1.0),  # a trend half an SD of the runs: undecided at 8 runs
])
def test_rc_ds_second_reading_flips(trend, beyond, expected, spread):
    """RC-DS's second reading (Sinkformers' setting) is computed from its runs and can come out
    either way; it is shown beside the headline and never changes it."""
    base = _result()
    head = checks.check_rc_ds(base)
    v = checks.check_rc_ds(_with_sf(base, _sf_runs(trend=trend, beyond=beyond, spread=spread)))
    assert (v.verdict, v.severity) == (head.verdict, head.severity)
    own = [r for r in v.readings if r.papers_own]
    second = [r for r in v.readings if not r.papers_own]
    assert len(own) == 1 and own[0].verdict == v.verdict and "RC's ViT" in own[0].name
    assert len(second) == 1 and second[0].verdict == expected and "Sinkformers" in second[0].name
    assert "Second reading" in v.evidence and f"this reading alone: {expected}." in v.evidence
    got = prereg.rc_ds_sinkformers(_with_sf(base, _sf_runs(trend=trend, beyond=beyond, spread=spread)))
    assert got[0] == expected


def test_rc_ds_second_reading_against_a_refuted_headline():
    """A confirmed second reading beside a refuted headline: the headline follows the registered
    (paper's own) reading."""
    def away(m):
        h = m.hist_col_dev * np.linspace(1.0, 2.0, m.hist_col_dev.size)
        return dataclasses.replace(m, hist_col_dev=h, col_dev=2.0 * m.col_dev_shuffled)

    v = checks.check_rc_ds(_with_sf(_result(softmax=away), _sf_runs(trend=-0.5, beyond=-0.5)))
    assert v.verdict == "refuted"
    assert [r.verdict for r in v.readings] == ["refuted", "confirmed"]


def test_rc_ds_second_reading_needs_its_eight_runs():
    """With fewer than the 8 registered runs the reading is shown but decides nothing; with none
    it is absent and the evidence says so."""
    v = checks.check_rc_ds(_with_sf(_result(), _sf_runs(3, trend=-0.5, beyond=-0.5)))
    assert [r.verdict for r in v.readings if not r.papers_own] == ["inconclusive"]
    assert "3 of the 8 registered runs stored" in v.evidence
    v0 = checks.check_rc_ds(_result())
    assert v0.readings == () and "no run stored" in v0.evidence
    assert prereg.rc_ds_sinkformers(_result()) is None


def test_rc_ds_pieces_are_shared():
    """The reading's per-model numbers are the headline's functions: the trend from epoch 1 (epoch 0
    ignored) and the row-shuffle null of :func:`col_deviation` with ``default_rng(seed)``."""
    assert prereg.ds_trend(np.array([9.0, 0.4, 0.3, 0.2])) == pytest.approx(np.log(0.5))
    assert np.isnan(prereg.ds_trend(np.array([0.1, 0.2])))
    A = tm.log_sinkhorn(np.random.default_rng(3).normal(size=(1, 5, 1, 6, 6)) * 3, 1)
    c, cs = en.ds_deviations(A, 0)
    assert c == pytest.approx(float(en.col_deviation(A).mean()))
    assert cs == pytest.approx(float(en.col_deviation(en.shuffle_rows(A, np.random.default_rng(0))).mean()))
    assert en.ds_deviations(A, 0) == (c, cs)
    np.testing.assert_array_equal(en.history_col_dev({"col_dev": [[1.0, 3.0], [2.0, 2.0]]}), [2.0, 2.0])


def test_rc_gt_flips():
    assert checks.check_rc_gt(_result()).verdict == "qualified"  # faster than random; paths exponential

    def cubic(m):
        t = np.arange(1, L + 1)
        p = m.path_median.copy()
        p[0] = np.exp(-0.2 * 3.0 ** (t - 1))
        return dataclasses.replace(m, path_median=p)

    assert checks.check_rc_gt(_result(softmax=cubic, sinkhorn=cubic)).verdict == "confirmed"


def test_rc_f4_similarity():
    assert checks.check_rc_f4(_result()).verdict in ("confirmed", "inconclusive")

    def differ(m):
        q = m.q.copy()
        q[[1, 3]] *= 3.0
        return dataclasses.replace(m, q=q)

    v = checks.check_rc_f4(_result(sinkhorn=differ))
    assert (v.verdict, v.severity) == ("qualified", "scope")


def _floor_noise(seed: int):
    """Pure-SAN and SAN + FF outputs at the float64 floor, with run-to-run rounding noise as
    another CPU or BLAS kernel would draw it (``seed``)."""
    g = np.random.default_rng(seed)

    def at_floor(m):
        q = m.q.copy()
        q[[0, 2], -1] = 10 ** (-15.7 + 0.1 * g.standard_normal(2))
        return dataclasses.replace(m, q=q)
    return at_floor


def test_rc_f4_cells_at_the_float_floor_print_a_bound():
    r = _result(softmax=_floor_noise(1), sinkhorn=_floor_noise(2))
    skips = [p for p in prereg.claim_cells(r, "RC-F4") if p.part.startswith("skips keep rank")]
    assert len(skips) == 4 and all(p.at_floor for p in skips)
    text = checks.fmt_part(skips[0])
    assert "$\\ge 15$" in text and "$d =" not in text and "detectable $" not in text and checks.FLOOR_MARK in text
    assert checks.check_rc_f4(r).evidence.count(checks.FLOOR_NOTE) == 1
    # other rounding noise at the floor: the same printed evidence (the d and detectable effect it
    # would change are not printed)
    r2 = _result(softmax=_floor_noise(3), sinkhorn=_floor_noise(4))
    assert checks.check_rc_f4(r2).evidence == checks.check_rc_f4(r).evidence
    assert checks.check_rc_f4(r2).verdict == checks.check_rc_f4(r).verdict

    def lifted(m):  # references well above the floor: ordinary cells
        q = m.q.copy()
        q[[0, 2], -1] = 1e-6 * 10 ** (0.1 * np.random.default_rng(m.seed).standard_normal())
        return dataclasses.replace(m, q=q)
    plain = [p for p in prereg.claim_cells(_result(softmax=lifted, sinkhorn=lifted), "RC-F4")
             if p.part.startswith("skips keep rank")]
    assert not any(p.at_floor for p in plain)
    assert "$d =" in checks.fmt_part(plain[0]) and "detectable" in checks.fmt_part(plain[0])


def test_evidence_is_plain_text():
    """Evidence is escaped when rendered: Markdown emphasis would show as literal asterisks."""
    for check in (checks.check_rc_f1, checks.check_rc_f4, checks.check_rc_ds):
        v = check(_result())
        assert "*" not in v.evidence, v.evidence


def test_evidence_states_power():
    v = checks.check_rc_f1(_result())
    assert v.can_fail == checks.CAN_FAIL and "opposite direction" in v.can_fail
    assert "detectable" in v.evidence and "Seeds 2-7" in v.evidence


# ---------------------------------------------------------------------------------------
# the real models
# ---------------------------------------------------------------------------------------
def test_numpy_forward_reproduces_the_training_log():
    """The float64 numpy forward gives the training log's test accuracy (JAX float32) on a
    stored model of each normalisation, to within one test image."""
    from dsmlib.trained import data as tdata

    for name in ("digits_softmax_s0", "digits_sinkhorn_s0"):
        params, mc, entry = tm.load_model(name)
        sp = tdata.load(entry["dataset"])
        acc = float(np.mean(tm.forward(params, mc, sp.x_test).logits.argmax(-1) == sp.y_test))
        assert abs(acc - entry["final_test_acc"]) <= 1.0 / len(sp.y_test) + 1e-12


def test_ensemble_and_sinkformers_runs_are_apart():
    """Chapter 6's ensemble sees exactly the 32 registered models; the 8 runs of RC-DS's second
    reading are stored beside them under their own names, attention-only, 1 layer, 1 head."""
    man = tm.read_manifest()
    reg = en.stored_models()
    sf = en.stored_sinkformers_models()
    if len(reg) < 32 or len(sf) < 8:
        pytest.skip("the registered ensemble or the Sinkformers-setting runs are not all stored")
    assert len(reg) == 32 and not set(reg) & set(sf)
    assert all("sfsetting" not in n for n in reg)
    for name in sf:
        e = man[name]
        c = tm.ViTConfig(**e["config"])
        assert (c.attention_only, c.n_layers, c.heads, c.normalisation) == (True, 1, 1, "softmax")
        tr = e["train"]
        assert (tr["lr"], tr["batch"], tr["epochs"], e["setting"]) == (2e-3, 10, 30, "sinkformers")
        assert len(json_hist(name)["col_dev"]) == 31  # epoch 0 (untrained) and 30 epochs
    assert all("attention_only" not in man[n]["config"] for n in reg)  # written before the switch
    m = en.setting_summary(sf[0])
    assert m.n_test == 1000 and abs(m.acc - m.acc_log) <= 1e-3 + 1e-12  # numpy forward = training log
    assert m.hist_col_dev.shape == (31,)


def json_hist(name: str) -> dict:
    return tm.load_model(name)[2]["history"]["data"]


def test_setting_names_agree_with_the_trainer():
    train = pytest.importorskip("dsmlib.trained.train")
    assert en.sinkformers_names() == tuple(train.setting_name("sinkformers", "softmax", s) for s in en.SEEDS)


def test_registration_precedes_new_weights():
    """PREREGISTRATION.md was committed before the first weights file of seeds 2-7."""
    import shutil
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    if shutil.which("git") is None or not (root / ".git").exists():
        pytest.skip("no git history here")

    def first_commit(path: str) -> int | None:
        out = subprocess.run(["git", "log", "--diff-filter=A", "--format=%ct", "--", path], cwd=root,
                             capture_output=True, text=True, check=True).stdout.split()
        return int(out[-1]) if out else None

    reg = first_commit("dsmlib/trained/PREREGISTRATION.md")
    assert reg is not None
    assert prereg.REGISTRATION_COMMIT
    new = [first_commit(f"dsmlib/trained/weights/{tm.model_name(d, n, s)}.npz")
           for d in en.DATASETS for n in en.NORMS for s in prereg.NEW_SEEDS]
    new = [c for c in new if c is not None]
    assert all(c >= reg for c in new)


def test_incomplete_ensemble_decides_nothing():
    """With a registered run missing, even a huge effect gives 'inconclusive' (no interim look
    was registered), and the verdict says how many runs are missing."""
    r = _result(sinkhorn=_shift("entropy_l1", 0.5))
    part = en.EnsembleResult(tuple(m for m in r.models if m.seed != 7 or m.normalisation == "softmax"))
    v = checks.check_rc_f1(part)
    assert v.verdict == "inconclusive"
    assert "2 of the 32 registered runs" in v.holds
