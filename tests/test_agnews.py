"""RC-F2 for readers who have AG's News: the loader, the padding pattern, the text trainer and
the path analysis, end to end on a small synthetic CSV in AG News's exact format."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dsmlib.trained import agnews as ag
from dsmlib.trained import agnews_analysis as aa
from dsmlib.trained import model as tm

ROOT = Path(__file__).resolve().parents[1]
WORDS = {1: ["election", "minister", "war"], 2: ["match", "goal", "season"], 3: ["stocks", "profit", "market"],
         4: ["software", "internet", "chip"]}
FILLER = ["the", "a", "of", "reuters", "said", "on", "new", "year", "report", "week"]


def write_agnews(folder: Path, n_train: int = 200, n_test: int = 80, seed: int = 0) -> Path:
    """AG News's format: every field quoted, doubled quotes, commas, escaped ``\\n``; test.csv
    with the optional header. Class-dependent words (40 % of the words of a row)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for name, n in (("train.csv", n_train), ("test.csv", n_test)):
        with open(folder / name, "w", newline="") as f:
            w = csv.writer(f, quoting=csv.QUOTE_ALL, lineterminator="\n")
            if name == "test.csv":
                w.writerow(["Class Index", "Title", "Description"])
            for _ in range(n):
                c = int(rng.integers(1, 5))
                words = [str(rng.choice(WORDS[c] if rng.random() < 0.4 else FILLER))
                         for _ in range(int(rng.integers(3, 30)))]
                w.writerow([str(c), " ".join(words[:3]).title() + ', "quoted"',
                            " ".join(words[3:6]) + "\\n" + ", ".join(words[6:])])
    return folder


# ---------------------------------------------------------------------------------------
# loader
# ---------------------------------------------------------------------------------------
def test_loader_reads_the_agnews_format(tmp_path):
    (tmp_path / "train.csv").write_text(
        'Class Index,Title,Description\n'
        '"3","Wall St. Bears Claw Back Into the Black (Reuters)","Reuters - Short-sellers, Wall Street\'s '
        'dwindling\\band of ""ultra-cynics"", are seeing green."\n'
        '"1","Two\nlines","first\\nsecond, third \\\\n"\n'
        '"4","Zebra","zebra apple apple"\n')
    (tmp_path / "test.csv").write_text('"2","Goal!","zebra unseenword"\n')
    texts, y = ag.read_split(tmp_path / "train.csv")
    assert y.tolist() == [2, 0, 3]
    assert texts[0].startswith("Wall St. Bears") and '"ultra-cynics"' in texts[0]
    assert ag.tokenize(texts[1]) == ["two", "lines", "first", "second", "third", "n"]  # \\n -> \ + n
    assert ag.tokenize("Short-sellers, it #39;s") == ["short", "sellers", "it", "39", "s"]
    d = ag.load(tmp_path, max_len=8)
    assert d.x_train.dtype == np.int32 and d.mask_train.dtype == bool and d.y_test.tolist() == [1]
    assert d.vocab[:2] == ("<pad>", "<unk>")
    assert d.vocab[2:5] == ("apple", "reuters", "wall")  # by count, ties alphabetically
    assert "unseenword" not in d.vocab and "goal" not in d.vocab  # train split only
    i = {w: k for k, w in enumerate(d.vocab)}
    assert d.x_test[0].tolist() == [ag.UNK, i["zebra"], ag.UNK, 0, 0, 0, 0, 0]
    assert d.mask_test[0].tolist() == [True] * 3 + [False] * 5
    assert d.mask_train[0].all() and d.x_train[0].size == 8  # truncated to max_len
    with pytest.raises(ValueError, match="read-only"):
        d.x_train[0, 0] = 5
    assert d.sha256["test.csv"] == tm.sha256(tmp_path / "test.csv")


def test_vocabulary_and_padding():
    toks = [["b", "a", "c"], ["c", "b"], [], ["x"] * 10]
    assert ag.build_vocab(toks, vocab_size=4) == ("<pad>", "<unk>", "x", "b")  # x 10, b 2 = c 2 (tie), a 1
    v = ag.build_vocab(toks, vocab_size=5)
    assert v == ("<pad>", "<unk>", "x", "b", "c")
    assert ag.build_vocab(list(reversed(toks)), 5) == v  # order of the texts does not matter
    ids, mask = ag.encode(toks, v, max_len=4)
    assert ids.tolist() == [[3, 1, 4, 0], [4, 3, 0, 0], [1, 0, 0, 0], [2, 2, 2, 2]]
    assert mask.sum(1).tolist() == [3, 2, 1, 4]  # an empty text is one unknown token
    with pytest.raises(ValueError, match="vocab_size"):
        ag.build_vocab(toks, 1)


def test_loader_errors_name_the_file_and_line(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        ag.load(tmp_path / "nowhere")
    (tmp_path / "train.csv").write_text('"1","a","b"\n')
    with pytest.raises(ValueError, match=r"test\.csv does not exist"):
        ag.load(tmp_path)
    (tmp_path / "test.csv").write_text('"1","multi\nline","x"\n"5","t","d"\n')
    with pytest.raises(ValueError, match=r"test\.csv, line 3: class index must be an integer in 1\.\.4, got '5'"):
        ag.load(tmp_path)
    (tmp_path / "test.csv").write_text('"1","t"\n')
    with pytest.raises(ValueError, match=r"test\.csv, line 1: expected 3 fields"):
        ag.load(tmp_path)
    (tmp_path / "test.csv").write_text("Class Index,Title,Description\n\n")
    with pytest.raises(ValueError, match=r"test\.csv holds no rows"):
        ag.load(tmp_path)
    (tmp_path / "test.csv").write_text('"Class Index","Title","Description"\n"x","t","d"\n')
    with pytest.raises(ValueError, match=r"line 2: class index"):
        ag.load(tmp_path)


# ---------------------------------------------------------------------------------------
# the padding pattern
# ---------------------------------------------------------------------------------------
def test_block_normalisation_real_block_is_the_normalisation_of_the_real_scores():
    rng = np.random.default_rng(0)
    n, lengths = 7, [7, 4, 1, 2]
    mask = np.arange(n)[None] < np.array(lengths)[:, None]
    S = rng.normal(scale=2.0, size=(len(lengths), 3, n, n))
    bias = ag.pad_bias(mask, np, np.float64)
    for nh in (1, 50):  # Softmax, Sinkhorn
        P = tm.log_sinkhorn(S + bias, nh)
        for b, m in enumerate(lengths):
            np.testing.assert_allclose(P[b, :, :m, :m], tm.log_sinkhorn(S[b, :, :m, :m], nh), rtol=0, atol=1e-13)
            assert np.all(P[b, :, :m, m:] == 0) and np.all(P[b, :, m:, :m] == 0)
            pad = P[b, :, m:, m:]
            np.testing.assert_array_equal(pad, np.broadcast_to(np.eye(n - m), pad.shape))
        np.testing.assert_allclose(P.sum(-1 if nh == 1 else -2), 1, atol=1e-12)
    jax = pytest.importorskip("jax")
    from dsmlib.trained import train

    for nh in (1, 50):
        Pj = np.asarray(train.normalise(jax.numpy.asarray((S + bias).astype(np.float32)), nh))
        for b, m in enumerate(lengths):
            np.testing.assert_allclose(Pj[b, :, :m, :m], tm.log_sinkhorn(S[b, :, :m, :m], nh), atol=2e-5)
            assert np.all(Pj[b, :, :m, m:] == 0) and np.all(Pj[b, :, m:, m:] == np.eye(n - m))


def test_analysis_pieces():
    mask = np.arange(10)[None] < np.array([10, 3, 5, 7, 8, 9, 2, 6, 6, 4])[:, None]
    assert aa.analysis_length(mask, 0.9) == 3 and aa.analysis_length(mask, 0.5) == 6
    tok, idx = aa.analysis_pool(np.arange(100).reshape(10, 10), mask, 6)
    assert idx.tolist() == [0, 3, 4, 5, 7, 8] and tok.shape == (6, 6) and tok[1, 0] == 30
    r = 1.5 * 10.0 ** (-0.5 * np.arange(1, 25))
    s, t = aa.decay_slope(r)
    assert t == 18 and abs(s + 0.5) < 1e-12  # 1.5e-9 >= 1e-9 > 1.5 * 10^-9.5
    assert np.isnan(aa.decay_slope(np.array([1e-10, 0.5]))[0])
    ly, hd, sq = aa.path_indices(4, 2, 5, 30, seed=0)
    assert ly.shape == (4, 30, 4) and np.all(np.diff(ly[3], axis=-1) > 0) and np.all(ly[0, :, 1:] == -1)


# ---------------------------------------------------------------------------------------
# JAX: the text model, the ViT's bit-identity, the command line end to end
# ---------------------------------------------------------------------------------------
def _tiny_params(c, seed=0):
    rng = np.random.default_rng(seed)
    return {k: rng.normal(scale=0.3, size=s).astype(np.float32) for k, s in ag.param_shapes(c).items()}


def test_numpy_forward_matches_jax_and_ignores_padding():
    pytest.importorskip("jax")
    from dsmlib.trained import text_train as tt

    rng = np.random.default_rng(1)
    lengths = np.array([8, 3, 1, 5])
    mask = np.arange(8)[None] < lengths[:, None]
    x = np.where(mask, rng.integers(2, 50, size=mask.shape), 0).astype(np.int32)
    x2 = np.where(mask, x, rng.integers(0, 50, size=mask.shape)).astype(np.int32)  # other tokens at pads
    for norm in ("softmax", "sinkhorn"):
        c = ag.TextConfig(normalisation=norm, n_layers=2, d_model=16, heads=2, d_head=8, d_ff=32, max_len=8,
                          vocab_size=50, n_half_steps=10)
        p = _tiny_params(c)
        lj = np.asarray(tt.jax_forward(p, c, x, mask))
        ln = ag.numpy_forward(p, c, x, mask)
        np.testing.assert_allclose(lj, ln, atol=2e-4, rtol=1e-4)
        np.testing.assert_array_equal(ag.numpy_forward(p, c, x2, mask), ln)  # pads never reach a real token
        A = tt.record_attention(p, c, x, mask)
        assert A.shape == (2, 4, 2, 8, 8) and A.dtype == np.float64
        np.testing.assert_allclose(A[:, 1, :, :3, :3].sum(-1 if norm == "softmax" else -2), 1, atol=1e-12)
        assert np.all(A[:, 1, :, 3:, 3:] == np.eye(5))
        # shortened sequences give the real block's attention of the padded run
        A3 = ag.record_attention(p, c, x[1:2, :3], mask[1:2, :3])
        np.testing.assert_allclose(A3[:, 0], A[:, 1, :, :3, :3], atol=1e-12)


def _original_vit_forward(params, c, x, *, record=False):
    """dsmlib.trained.train.jax_forward as it was before the block was shared (commit 97deb44)."""
    import jax
    import jax.numpy as jnp
    from dsmlib.trained.train import _LAYER_KEYS, _ln, normalise

    B, n, H, dh = x.shape[0], c.n_tokens, c.heads, c.d_head
    nh = 1 if c.normalisation == "softmax" else c.n_half_steps
    h = x @ params["patch_w"] + params["patch_b"]
    h = jnp.concatenate([jnp.broadcast_to(params["cls"], (B, 1, c.d_model)), h], axis=1) + params["pos"]

    def block(h, lp):
        u = _ln(h, lp["ln1_g"], lp["ln1_b"])
        q, k, v = ((u @ lp[w]).reshape(B, n, H, dh).transpose(0, 2, 1, 3) for w in ("wq", "wk", "wv"))
        P = normalise((q @ k.transpose(0, 1, 3, 2)) / np.float32(np.sqrt(dh)), nh)
        h = h + (P @ v).transpose(0, 2, 1, 3).reshape(B, n, H * dh) @ lp["wo"] + lp["bo"]
        z = jax.nn.gelu(_ln(h, lp["ln2_g"], lp["ln2_b"]) @ lp["w1"] + lp["b1"], approximate=False)
        h = h + z @ lp["w2"] + lp["b2"]
        return h, (P if record else None)

    h, Ps = jax.lax.scan(block, h, {k: params[k] for k in _LAYER_KEYS})
    logits = _ln(h[:, 0], params["lnf_g"], params["lnf_b"]) @ params["head_w"] + params["head_b"]
    return (logits, Ps) if record else logits


def test_vit_training_is_bit_identical_to_the_unshared_block(monkeypatch):
    pytest.importorskip("jax")
    from dsmlib.trained import train

    tc = train.TrainConfig(dataset="digits", normalisation="sinkhorn", seed=3, epochs=1, n_layers=2, d_model=16,
                           heads=2, n_half_steps=3, n_probe=10, max_train=300, max_steps=2)
    new, _, hn = train.train(tc, log=lambda s: None)
    monkeypatch.setattr(train, "jax_forward", _original_vit_forward)
    old, _, ho = train.train(tc, log=lambda s: None)
    for k in old:
        np.testing.assert_array_equal(new[k], old[k], err_msg=k)
    assert hn["train_loss"] == ho["train_loss"] and hn["col_dev"] == ho["col_dev"]


def _run(args, **kw):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", *args], cwd=kw.get("cwd", ROOT), env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def test_end_to_end_synthetic_csv_train_and_analyse(tmp_path):
    pytest.importorskip("jax")
    from dsmlib.trained import text_train as tt

    data = write_agnews(tmp_path / "ag")
    out = tmp_path / "w"
    tiny = ["--data", str(data), "--out", str(out), "--layers", "2", "--d-model", "16", "--max-len", "16",
            "--batch", "16", "--half-steps", "4"]
    with pytest.raises(SystemExit):  # never into chapter 6's verified weights
        tt.main(["--data", str(data), "--normalisation", "softmax", "--out", str(tm.WEIGHTS_DIR / "x")])
    # seed 0: two training steps through the command line, one process per core; meanwhile
    # seed 1 in this process: the untrained models (epochs 0), a second run per arm
    cores = sorted(os.sched_getaffinity(0))
    procs = [_run(["dsmlib.trained.text_train", *tiny, "--normalisation", norm, "--seed", "0",
                   "--core", str(cores[i % len(cores)]), "--max-steps", "2"])
             for i, norm in enumerate(("softmax", "sinkhorn"))]
    for norm in ("softmax", "sinkhorn"):
        tt.main([*tiny, "--normalisation", norm, "--seed", "1", "--epochs", "0"])
    logs = [p.communicate(timeout=900)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), logs
    man = json.loads((out / "manifest.json").read_text())
    assert sorted(man) == ["agnews_sinkhorn_s0", "agnews_sinkhorn_s1", "agnews_softmax_s0", "agnews_softmax_s1"]
    e = man["agnews_sinkhorn_s0"]
    assert e["weights"]["sha256"] == tm.sha256(out / e["weights"]["file"]) and len(e["cpu_affinity"]) == 1
    assert e["config"]["n_half_steps"] == 4 and e["data_sha256"]["train.csv"] == tm.sha256(data / "train.csv")
    h = json.loads((out / e["history"]["file"]).read_text())
    assert h["epoch"] == [0, 1] and len(h["col_dev"][1]) == 2
    assert h["col_dev"][1][0] < 1e-5 < json.loads((out / "agnews_softmax_s0.history.json").read_text())["col_dev"][1][0]
    params, c, entry = ag.load_model(out, "agnews_sinkhorn_s0")
    assert c.n_layers == 2 and entry["history"]["data"]["epoch"] == [0, 1]
    p = _run(["dsmlib.trained.agnews_analysis", "--weights", str(out), "--paths", "40", "--json", str(tmp_path / "r.json")])
    rep = p.communicate(timeout=600)[0]
    assert p.returncode == 0, rep
    assert "analysis length n_a" in rep and "agnews_sinkhorn_s1" in rep and "Delta b =" in rep, rep
    r = json.loads((tmp_path / "r.json").read_text())
    assert set(r["cells"]) == {"plain", "skip"} and r["cells"]["plain"]["n"] == [2, 2]
    assert r["cells"]["plain"]["outcome"] in ("supports", "opposes", "equivalent", "undecided")
    # a changed data file is refused
    with open(data / "test.csv", "a") as f:
        f.write('"1","extra","row"\n')
    with pytest.raises(ValueError, match="differ from those model"):
        aa.analyse(out, n_paths=5)
