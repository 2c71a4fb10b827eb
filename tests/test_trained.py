"""dsmlib.trained: data, the numpy forward, stored weights; the JAX trainer when JAX is installed."""

from __future__ import annotations

import numpy as np
import pytest

from dsmlib.trained import data, model as tm


def test_patchify_and_split():
    img = np.arange(2 * 4 * 4, dtype=float).reshape(2, 4, 4)
    p = data.patchify(img, 2)
    assert p.shape == (2, 4, 4)
    np.testing.assert_array_equal(p[0, 1], [2, 3, 6, 7])  # second patch of the first row
    with pytest.raises(ValueError, match="patch"):
        data.patchify(img, 3)
    y = np.repeat(np.arange(5), 10)
    tr, te = data.stratified_split(y, 0.2, 0)
    assert np.intersect1d(tr, te).size == 0 and tr.size + te.size == y.size
    assert np.all(np.bincount(y[te]) == 2)
    with pytest.raises(ValueError, match="test_fraction"):
        data.stratified_split(y, 1.5, 0)


def test_sinkhorn_conventions():
    S = np.random.default_rng(0).normal(size=(5, 7, 7)) * 2
    sm = np.exp(S) / np.exp(S).sum(-1, keepdims=True)
    np.testing.assert_allclose(tm.log_sinkhorn(S, 1), sm, atol=1e-14)
    P = tm.log_sinkhorn(S, 50)
    np.testing.assert_allclose(P.sum(-2), 1, atol=1e-12)  # the last half-step normalises columns
    np.testing.assert_allclose(tm.fast_sinkhorn(S, 50), P, atol=1e-13)
    np.testing.assert_allclose(tm.fast_sinkhorn(S, 3), tm.log_sinkhorn(S, 3), atol=1e-13)
    with pytest.raises(ValueError, match="n_half_steps"):
        tm.log_sinkhorn(S, 0)
    with pytest.raises(ValueError, match="S must"):
        tm.fast_sinkhorn(S[..., :3], 2)


def _random_params(c: tm.ViTConfig, seed: int = 0):
    rng = np.random.default_rng(seed)
    return {k: rng.normal(scale=0.3, size=s) for k, s in tm.param_shapes(c).items()}


def test_forward_settings_shapes():
    c = tm.ViTConfig(normalisation="sinkhorn", n_layers=3, d_model=8, heads=2, d_head=4, n_patches=4, patch_dim=4)
    p = _random_params(c)
    x = np.random.default_rng(1).normal(size=(5, 4, 4))
    full = tm.forward(p, c, x, record=True)
    assert full.logits.shape == (5, 10)
    assert full.attention.shape == (3, 5, 2, 5, 5) and full.outputs.shape == (3, 5, 5, 8)
    np.testing.assert_allclose(full.attention.sum(-2), 1, atol=1e-12)
    pure = tm.forward(p, c, x, skip=False, ff=False, record=True)
    assert not np.allclose(pure.outputs, full.outputs)
    # the first layer's attention does not depend on skip/ff
    np.testing.assert_allclose(pure.attention[0], full.attention[0])
    one = tm.forward(p, c, x, record=True, n_layers=1)
    assert one.logits is None and one.attention.shape[0] == 1
    slow = tm.forward(p, c, x, fast=False)
    np.testing.assert_allclose(slow.logits, full.logits, atol=1e-10)
    with pytest.raises(ValueError, match="x must"):
        tm.forward(p, c, x[:, :3])
    with pytest.raises(ValueError, match="normalisation"):
        tm.ViTConfig(normalisation="sparsemax")


def test_attention_only_switch():
    """An attention-only model has no feed-forward parameters and its forward never runs one;
    a config without the key (every manifest entry written before it existed) is a full model."""
    kw = dict(normalisation="softmax", n_layers=2, d_model=8, heads=1, d_head=8, n_patches=4, patch_dim=4)
    full, ao = tm.ViTConfig(**kw), tm.ViTConfig(**kw, attention_only=True)
    assert set(tm.param_shapes(full)) - set(tm.param_shapes(ao)) == set(tm.FF_KEYS)
    assert {k: v for k, v in tm.param_shapes(full).items() if k not in tm.FF_KEYS} == tm.param_shapes(ao)
    old = {k: v for k, v in full.to_dict().items() if k != "attention_only"}
    assert tm.ViTConfig(**old) == full and not full.attention_only
    p = _random_params(ao)
    x = np.random.default_rng(1).normal(size=(3, 4, 4))
    a, b = tm.forward(p, ao, x, record=True), tm.forward(p, ao, x, ff=False, record=True)
    np.testing.assert_array_equal(a.logits, b.logits)
    np.testing.assert_array_equal(a.outputs, b.outputs)
    # by hand: x + MHA(LN(x)) per layer, final LN and head on the CLS token
    pf = _random_params(full)
    pf.update({k: p[k] for k in p})
    np.testing.assert_array_equal(tm.forward(pf, full, x, ff=False).logits, a.logits)


def test_stored_weights_verify():
    man = tm.read_manifest()
    if not man:
        pytest.skip("no stored weights")
    name = sorted(man)[0]
    params, c, entry = tm.load_model(name)
    assert set(params) == set(tm.param_shapes(c))
    assert entry["history"]["data"]["epoch"][0] == 0
    with pytest.raises(ValueError, match="not in"):
        tm.verify_weights("no_such_model")


jax = pytest.importorskip("jax")


@pytest.fixture(scope="module")
def tiny():
    from dsmlib.trained import train

    tc = train.TrainConfig(dataset="digits", normalisation="sinkhorn", seed=3, epochs=1, n_layers=2, d_model=16,
                           heads=2, n_half_steps=4, n_probe=10, max_train=300, max_steps=2)
    return train, tc


def test_training_is_bit_reproducible(tiny):
    train, tc = tiny
    p1, c1, h1 = train.train(tc, log=lambda s: None)
    p2, c2, h2 = train.train(tc, log=lambda s: None)
    assert c1 == c2
    for k in p1:
        assert p1[k].dtype == np.float32
        np.testing.assert_array_equal(p1[k], p2[k])
    assert h1["train_loss"] == h2["train_loss"]
    assert len(h1["col_dev"]) == 2 and len(h1["col_dev"][0]) == tc.n_layers


def test_numpy_forward_matches_jax(tiny):
    train, tc = tiny
    split = data.load("digits")
    for norm in ("softmax", "sinkhorn"):
        c = train.model_config(train.TrainConfig(**{**tc.__dict__, "normalisation": norm}), split)
        params = train.init_params(c, jax.random.PRNGKey(0))
        x = split.x_test[:20].astype(np.float32)
        lj, Pj = train.jax_forward(params, c, x, record=True)
        p64 = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
        out = tm.forward(p64, c, x.astype(np.float64), record=True)
        np.testing.assert_allclose(np.asarray(Pj), out.attention, atol=2e-5)
        np.testing.assert_allclose(np.asarray(lj), out.logits, atol=2e-4, rtol=1e-4)


def test_compiled_gelu_equals_scipy_to_rounding():
    """The compiled float64 GELU of chapter 6's inference agrees with scipy's erf form to a few ulps."""
    import numpy as np
    from scipy.special import erf

    from dsmlib._kernels import AVAILABLE
    from dsmlib.trained.model import _gelu

    x = np.random.default_rng(0).standard_normal((3, 17, 256)) * 4
    ref = 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))
    got = _gelu(x)
    assert got.shape == x.shape and got.dtype == np.float64
    assert np.abs(got - ref).max() <= 8 * np.finfo(float).eps * np.abs(ref).max()
    x32 = x.astype(np.float32)
    ref32 = 0.5 * x32 * (1.0 + erf(x32 / np.sqrt(2.0)))  # float32 in, float64 out (numpy promotion)
    got32 = _gelu(x32)
    assert got32.dtype == ref32.dtype == np.float64
    assert np.abs(got32 - ref32).max() <= 8 * np.finfo(float).eps * np.abs(ref32).max()
    if AVAILABLE:
        from dsmlib._kernels.elementwise import gelu_f64
        assert gelu_f64(x.astype(np.float32)) is None


def test_forward_records_into_given_arrays_and_promotes_like_stack():
    """``out=`` writes the records into the caller's arrays (no copies); without it a float32
    pass's records are promoted as np.stack promoted them (float64 after the first GELU)."""
    c = tm.ViTConfig(normalisation="sinkhorn", n_layers=3, d_model=8, heads=2, d_head=4, n_patches=4, patch_dim=4)
    p = _random_params(c)
    x = np.random.default_rng(1).normal(size=(5, 4, 4))
    ref = tm.forward(p, c, x, record=True)
    A = np.zeros((3, 7, 2, 5, 5))
    got = tm.forward(p, c, x, record=True, out={"attention": A[:, 1:6]})
    assert np.shares_memory(got.attention, A)
    np.testing.assert_array_equal(A[:, 1:6], ref.attention)
    np.testing.assert_array_equal(got.outputs, ref.outputs)
    assert not A[:, 0].any() and not A[:, 6].any()
    r32 = tm.forward(p, c, x, dtype=np.float32, record=True)
    assert r32.attention.dtype == np.float64  # layer 1 float32, later layers float64
    np.testing.assert_array_equal(r32.attention[0], tm.forward(p, c, x, dtype=np.float32, record=True, n_layers=1).attention[0])
    with pytest.raises(ValueError, match="out"):
        tm.forward(p, c, x, record=True, out={"attention": A})


def test_shuffled_col_deviation_equals_the_materialised_shuffle():
    """The kernel (and its numpy fallback) gives col_deviation(shuffle_rows(P)) bit for bit,
    drawing the keys one leading index at a time from the same stream."""
    from dsmlib import _kernels
    from dsmlib.experiments.ch06_trained_attention import experiments as E

    rng = np.random.default_rng(3)
    P = rng.random((4, 6, 3, 9, 9)) ** 3
    P /= P.sum(-1, keepdims=True)
    ref = E.col_deviation(E.shuffle_rows(P, np.random.default_rng(0)))
    np.testing.assert_array_equal(E.shuffled_col_deviation(P, np.random.default_rng(0)), ref)
    old = _kernels.ENABLED
    try:
        _kernels.ENABLED = False
        np.testing.assert_array_equal(E.shuffled_col_deviation(P, np.random.default_rng(0)), ref)
    finally:
        _kernels.ENABLED = old
    # a different stream gives a different null (the test can fail)
    assert not np.array_equal(E.shuffled_col_deviation(P, np.random.default_rng(1)), ref)


def test_attention_only_training(tiny):
    """The attention-only ViT trains bit-reproducibly without feed-forward parameters, and the
    numpy forward gives the JAX forward's attention and logits."""
    train, tc = tiny
    ao = train.TrainConfig(**{**tc.__dict__, "normalisation": "softmax", "attention_only": True})
    p1, c1, h1 = train.train(ao, log=lambda s: None)
    p2, _, h2 = train.train(ao, log=lambda s: None)
    assert c1.attention_only and set(p1) == set(tm.param_shapes(c1)) and not set(tm.FF_KEYS) & set(p1)
    for k in p1:
        np.testing.assert_array_equal(p1[k], p2[k])
    assert h1["train_loss"] == h2["train_loss"] and len(h1["col_dev"]) == 2
    x = data.load("digits").x_test[:20].astype(np.float32)
    lj, Pj = train.jax_forward({k: jax.numpy.asarray(v) for k, v in p1.items()}, c1, x, record=True)
    out = tm.forward({k: v.astype(np.float64) for k, v in p1.items()}, c1, x.astype(np.float64), record=True)
    np.testing.assert_allclose(np.asarray(Pj), out.attention, atol=2e-5)
    np.testing.assert_allclose(np.asarray(lj), out.logits, atol=2e-4, rtol=1e-4)


def test_sinkformers_setting_cli(tmp_path, monkeypatch):
    """``--setting sinkformers`` fixes the registered recipe and names its models apart from the
    ensemble; a conflicting ``--dataset`` is refused; the regeneration command names the setting."""
    from dsmlib.trained import train

    tc = train.setting_config("sinkformers", "softmax", 3)
    assert (tc.dataset, tc.n_layers, tc.heads, tc.attention_only, tc.lr, tc.batch, tc.epochs) == (
        "mnist", 1, 1, True, 2e-3, 10, 30)
    assert train.setting_name("sinkformers", "softmax", 3) == "mnist_sfsetting_softmax_s3"
    with pytest.raises(SystemExit):
        train.main(["--setting", "sinkformers", "--dataset", "digits", "--normalisation", "softmax"])
    with pytest.raises(SystemExit):
        train.main(["--normalisation", "softmax"])  # no data set and no setting
    with pytest.raises(ValueError, match="setting"):
        train.setting_config("nope", "softmax", 0)
    got = {}

    class Stop(Exception):
        pass

    def fake_train(tc, log):  # record the recipe main() builds, train nothing
        got["tc"] = tc
        raise Stop

    monkeypatch.setattr(train, "train", fake_train)
    with pytest.raises(Stop):
        train.main(["--setting", "sinkformers", "--normalisation", "softmax", "--seed", "2",
                    "--max-steps", "1"])
    assert got["tc"] == train.setting_config("sinkformers", "softmax", 2, max_steps=1)
    entry = {"dataset": "mnist", "normalisation": "softmax", "seed": 2, "setting": "sinkformers"}
    assert tm._regenerate("mnist_sfsetting_softmax_s2", entry).endswith(
        "--dataset mnist --normalisation softmax --seed 2 --setting sinkformers")
    plain = {"dataset": "mnist", "normalisation": "softmax", "seed": 2}
    assert "--setting" not in tm._regenerate("mnist_softmax_s2", plain)

