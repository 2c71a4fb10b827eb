r"""Train RC's AG News Transformer (App. F, Table 1) with JAX + optax; record its attention.

``python -m dsmlib.trained.text_train --data DIR --normalisation sinkhorn --seed 0 --core 0``

For readers who have AG's News (:mod:`dsmlib.trained.agnews` reads ``DIR/train.csv`` and
``DIR/test.csv``); the book itself cannot run it. Imported only for training (it imports
JAX); the analysis, :mod:`dsmlib.trained.agnews_analysis`, needs only numpy.

Model (Table 1; :class:`~dsmlib.trained.agnews.TextConfig`): token embedding + learned positional embedding, ``n_layers = 24`` pre-LN
blocks exactly as the book's ViT (:func:`dsmlib.trained.train.block`: d_model 128, 4 heads,
d_qk = d_v = 32, GELU feed-forward 512), a final LayerNorm, **max pooling over the real
(unpadded) positions** and a linear head to the 4 classes. Dropout 0.3 during training, on the
embeddings and on each sub-block's output before its residual addition (never on the attention
matrix, which stays row- or doubly stochastic). Adam lr 5e-5, batch 32, 20 epochs, cross-entropy.
Softmax, or Sinkhorn with 50 log-domain half-steps in float32 (:func:`~dsmlib.trained.train.normalise`).

**Padding.** The normalisation sees a block matrix (:func:`~dsmlib.trained.agnews.pad_bias`):
real tokens attend among themselves; each padded position only to itself (scores -1e9 off that pattern, 0 on
the padded diagonal). Both Softmax and Sinkhorn are then well defined (no empty row or column)
and the real block is exactly the normalisation of the real scores (to rounding: the excluded
entries are exact zeros); padded positions never reach a real token, and the pooling ignores
them. Cost: every sequence is computed at ``max_len`` (as the paper's padded batches).

Determinism as :mod:`dsmlib.trained.train`: run as a script, importing that module pins the
process to ``--core`` before JAX is imported; initialisation ``jax.random.PRNGKey(seed)``
(split into an init and a dropout key), batch order ``np.random.default_rng(seed)``, one
``lax.scan`` per epoch. Outputs in ``--out`` (default ``./agnews_weights``):
``agnews_<norm>_s<seed>.npz``, ``.history.json`` and ``manifest.json`` (sha256 of both files,
of the two CSV files and of the vocabulary), written by :func:`dsmlib.trained.train.save`.

:func:`record_attention` (defined in :mod:`dsmlib.trained.agnews`, re-exported here) is the
analysis' inference: a **numpy float64** forward of the stored float32 weights (as chapter 6),
equal to the JAX float32 forward to float32 rounding; it needs no JAX.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from . import agnews as _ag
from . import train as _tr  # run as a script: pins the process to --core before JAX is imported
from .agnews import TextConfig, load_model, model_name, numpy_forward, pad_bias, param_shapes, record_attention  # noqa: F401
from .model import WEIGHTS_DIR

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import optax  # noqa: E402

DEFAULT_OUT = "agnews_weights"


def init_params(c: TextConfig, key: jax.Array) -> dict[str, jax.Array]:
    """PyTorch-default initialisation (as :func:`dsmlib.trained.train.init_params`): embeddings
    N(0, 1), linear layers U(-1/sqrt(fan_in), +), LayerNorm gain 1 and bias 0."""
    shapes = param_shapes(c)
    fan_in = {"wq": c.d_model, "wk": c.d_model, "wv": c.d_model, "wo": c.heads * c.d_head,
              "bo": c.heads * c.d_head, "w1": c.d_model, "b1": c.d_model, "w2": c.d_ff, "b2": c.d_ff,
              "head": c.d_model}
    params = {}
    for k_, (name, shp) in zip(jax.random.split(key, len(shapes)), sorted(shapes.items())):
        if name in ("embed", "pos"):
            params[name] = jax.random.normal(k_, shp, jnp.float32)
        elif name.startswith("ln"):
            params[name] = (jnp.ones if name.endswith("_g") else jnp.zeros)(shp, jnp.float32)
        else:
            bound = 1.0 / np.sqrt(fan_in[name.split("_")[0]])
            params[name] = jax.random.uniform(k_, shp, jnp.float32, -bound, bound)
    return params


def jax_forward(params, c: TextConfig, x, mask, *, key=None, stats: bool = False):
    """JAX float32 forward of token ids ``x`` (B, n) with ``mask`` (B, n).

    ``key``: dropout on (training); ``stats``: also return per-layer attention statistics
    over real positions (:func:`_attention_stats`), each (L,). Returns logits (B, n_classes)
    or ``(logits, stats)``."""
    n = x.shape[1]
    keep = 1.0 - c.dropout

    def dropout(z, k):
        return jnp.where(jax.random.bernoulli(k, keep, z.shape), z / keep, 0.0)

    h = params["embed"][x] + params["pos"][:n]
    lkeys = None
    if key is not None and c.dropout > 0:
        k_emb, k_layers = jax.random.split(key)
        h = dropout(h, k_emb)
        lkeys = jax.random.split(k_layers, c.n_layers)
    bias = pad_bias(mask, jnp)

    def step(h, xs):
        lp, k = xs
        drop = None if k is None else (lambda z, i: dropout(z, jax.random.fold_in(k, i)))
        h, P = _tr.block(h, lp, c.heads, c.d_head, c.half_steps, bias=bias, drop=drop)
        return h, (_attention_stats(P, mask) if stats else None)

    h, st = jax.lax.scan(step, h, ({k: params[k] for k in _tr._LAYER_KEYS}, lkeys))
    h = _tr._ln(h, params["lnf_g"], params["lnf_b"])
    pooled = jnp.max(jnp.where(mask[..., None], h, -jnp.inf), axis=1)
    logits = pooled @ params["head_w"] + params["head_b"]
    return (logits, st) if stats else logits


def _attention_stats(P, mask):
    """Mean over sequences and heads of the real block's column-sum deviation
    ``sum_j |col_j - 1| / n_real``, row-sum deviation and mean row entropy (nats); ``P`` (B, H, n, n)."""
    m = mask[:, None, :].astype(P.dtype)  # (B, 1, n)
    nr = m.sum(-1)
    col = (jnp.abs(P.sum(-2) - 1.0) * m).sum(-1) / nr
    row = (jnp.abs(P.sum(-1) - 1.0) * m).sum(-1) / nr
    ent = (-(P * jnp.log(jnp.maximum(P, 1e-30))).sum(-1) * m).sum(-1) / nr
    return jnp.stack([col.mean(), row.mean(), ent.mean()])


# ---------------------------------------------------------------------------------------
# training
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TextTrainConfig:
    """Optimisation settings (RC Table 1 by default)."""

    data: str = ""
    dataset: str = "agnews"
    normalisation: str = "softmax"
    seed: int = 0
    epochs: int = 20
    lr: float = 5e-5
    batch: int = 32
    n_layers: int = 24
    d_model: int = 128
    heads: int = 4
    dropout: float = 0.3
    n_half_steps: int = 50
    max_len: int = _ag.MAX_LEN
    vocab_size: int = _ag.VOCAB_SIZE
    eval_batch: int = 256  # test batches; the first one is the probe of the attention statistics
    max_steps: int | None = None  # for tests: stop after this many steps

    def model_config(self) -> TextConfig:
        if self.d_model % self.heads:
            raise ValueError(f"d_model ({self.d_model}) must be divisible by heads ({self.heads})")
        return TextConfig(normalisation=self.normalisation, n_layers=self.n_layers, d_model=self.d_model,
                          heads=self.heads, d_head=self.d_model // self.heads, d_ff=4 * self.d_model,
                          max_len=self.max_len, vocab_size=self.vocab_size, n_half_steps=self.n_half_steps,
                          dropout=self.dropout)


def train(tc: TextTrainConfig, ds: _ag.AGNews | None = None, *, log=print) -> tuple[dict[str, np.ndarray], TextConfig, dict]:
    """Train one model; return ``(params as float32 numpy, model config, history)``.

    The history holds, per epoch (0 = before training): mean training loss, test accuracy,
    CPU seconds and, on the first ``eval_batch`` test sequences (the probe), per layer the real
    blocks' column- and row-sum deviations and mean row entropy (the keys of the ViT's history)."""
    ds = _ag.load(tc.data, vocab_size=tc.vocab_size, max_len=tc.max_len) if ds is None else ds
    c = tc.model_config()
    if len(ds.vocab) > c.vocab_size or ds.max_len != c.max_len:
        raise ValueError(f"data (vocabulary {len(ds.vocab)}, max_len {ds.max_len}) do not fit the model config {c}")
    xtr, mtr, ytr = ds.x_train, ds.mask_train, ds.y_train
    xte, mte, yte = ds.x_test, ds.mask_test, ds.y_test
    k_init, k_drop = jax.random.split(jax.random.PRNGKey(tc.seed))
    params = init_params(c, k_init)
    opt = optax.adam(tc.lr)
    state = opt.init(params)

    def loss_fn(p, xb, mb, yb, kb):
        return optax.softmax_cross_entropy_with_integer_labels(jax_forward(p, c, xb, mb, key=kb), yb).mean()

    def step(p, s, xb, mb, yb, kb):
        loss, g = jax.value_and_grad(loss_fn)(p, xb, mb, yb, kb)
        upd, s = opt.update(g, s, p)
        return optax.apply_updates(p, upd), s, loss

    @jax.jit
    def run_epoch(p, s, xs, ms, ys, ks):
        """Every step of one epoch under one jit (``lax.scan`` over the batches), as the ViT."""

        def body(carry, b):
            p, s = carry
            p, s, loss = step(p, s, *b)
            return (p, s), loss

        (p, s), losses = jax.lax.scan(body, (p, s), (xs, ms, ys, ks))
        return p, s, losses

    def _eval(p, xb, mb):
        logits, st = jax_forward(p, c, xb, mb, stats=True)
        return jnp.argmax(logits, -1), st

    eval_batch = jax.jit(_eval)  # one compiled function: predictions and the probe's statistics

    def evaluate(p) -> tuple[float, dict[str, list[float]]]:
        """Test accuracy and, on the first batch (the probe), per-layer attention statistics."""
        eb, N = tc.eval_batch, len(xte)
        idx = np.arange(-(-N // eb) * eb) % N  # a fixed batch shape: wrap the last batch
        preds, st = [], None
        for i in range(0, idx.size, eb):
            pr, s_ = eval_batch(p, xte[idx[i:i + eb]], mte[idx[i:i + eb]])
            preds.append(np.asarray(pr))
            st = np.asarray(s_, dtype=np.float64) if st is None else st  # (L, 3)
        acc = float((np.concatenate(preds)[:N] == yte).mean())
        return acc, {"col_dev": st[:, 0].tolist(), "row_dev": st[:, 1].tolist(), "row_entropy": st[:, 2].tolist()}

    rng = np.random.default_rng(tc.seed)
    nb = len(xtr) // tc.batch
    if nb == 0:
        raise ValueError(f"the training split ({len(xtr)} rows) is smaller than one batch ({tc.batch})")
    acc, st = evaluate(params)
    hist = {"epoch": [0], "train_loss": [None], "test_acc": [acc], "cpu_s": [0.0], **{k: [v] for k, v in st.items()}}
    log(f"epoch 0 acc {hist['test_acc'][0]:.4f} col_dev {np.mean(hist['col_dev'][0]):.4f}")
    t0 = time.process_time()
    steps = 0
    for ep in range(1, tc.epochs + 1):
        perm = rng.permutation(len(xtr))
        k = nb if tc.max_steps is None else min(nb, tc.max_steps - steps)
        idx = perm[: k * tc.batch].reshape(k, tc.batch)
        keys = jax.random.split(jax.random.fold_in(k_drop, ep), k)
        params, state, losses = run_epoch(params, state, xtr[idx], mtr[idx], ytr[idx], keys)
        steps += k
        hist["epoch"].append(ep)
        hist["train_loss"].append(float(np.mean(np.asarray(losses))))
        acc, st = evaluate(params)
        hist["test_acc"].append(acc)
        hist["cpu_s"].append(time.process_time() - t0)
        for key_, v in st.items():
            hist[key_].append(v)
        log(f"epoch {ep} loss {hist['train_loss'][-1]:.4f} acc {hist['test_acc'][-1]:.4f} "
            f"col_dev {np.mean(hist['col_dev'][-1]):.4f} cpu {hist['cpu_s'][-1]:.0f}s")
        if tc.max_steps is not None and steps >= tc.max_steps:
            break
    return {k: np.asarray(v, dtype=np.float32) for k, v in params.items()}, c, hist


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True, help="folder with AG News train.csv and test.csv")
    ap.add_argument("--normalisation", choices=("softmax", "sinkhorn"), required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--core", type=int, default=0, help="CPU to pin this process to (as a script)")
    ap.add_argument("--out", default=DEFAULT_OUT, help=f"output folder (default ./{DEFAULT_OUT})")
    ap.add_argument("--max-steps", type=int, default=None)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--layers", type=int, default=24)
    ap.add_argument("--d-model", type=int, default=128)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--vocab", type=int, default=_ag.VOCAB_SIZE, help="vocabulary size incl. <pad>, <unk>")
    ap.add_argument("--max-len", type=int, default=_ag.MAX_LEN)
    ap.add_argument("--half-steps", type=int, default=50, help="Sinkhorn half-steps (compile time grows with it)")
    ap.add_argument("--dry-run", action="store_true", help="train but do not write weights")
    ap.add_argument("--skip-existing", action="store_true",
                    help="do nothing if --out's manifest lists this model with matching sha256")
    a = ap.parse_args(argv)
    out = Path(a.out).resolve()
    if out == WEIGHTS_DIR.resolve() or WEIGHTS_DIR.resolve() in out.parents:
        ap.error(f"--out must not be inside {WEIGHTS_DIR} (chapter 6's verified weights)")
    tc = TextTrainConfig(data=str(Path(a.data).resolve()), normalisation=a.normalisation, seed=a.seed,
                         epochs=a.epochs, lr=a.lr, batch=a.batch, n_layers=a.layers, d_model=a.d_model,
                         heads=a.heads, vocab_size=a.vocab, max_len=a.max_len, n_half_steps=a.half_steps,
                         max_steps=a.max_steps)
    name = model_name(a.normalisation, a.seed)
    if a.skip_existing and _tr._stored(name, out):
        print(f"[{name}] already stored in {out} (sha256 verified): skipped", flush=True)
        return
    ds = _ag.load(tc.data, vocab_size=tc.vocab_size, max_len=tc.max_len)
    t0, c0 = time.time(), time.process_time()
    params, c, hist = train(tc, ds, log=lambda s: print(f"[{name}] {s}", flush=True))
    extra = {"command": "python -m dsmlib.trained.text_train " + " ".join(sys.argv[1:] if argv is None else argv),
             "cpu_affinity": sorted(os.sched_getaffinity(0)), "XLA_FLAGS": os.environ.get("XLA_FLAGS", ""),
             "wall_s": round(time.time() - t0, 1), "cpu_s": round(time.process_time() - c0, 1),
             "data_sha256": dict(ds.sha256), "vocab_sha256": ds.vocab_sha256, "vocab_len": len(ds.vocab)}
    if not a.dry_run:
        e = _tr.save(name, params, c, hist, tc, extra, folder=out)
        print(f"[{name}] saved {out / e['weights']['file']} sha256 {e['weights']['sha256']}", flush=True)


if __name__ == "__main__":
    main()
