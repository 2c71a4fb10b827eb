"""One training epoch two ways: a jitted step per batch (the second edition's loop) and the
whole epoch under one jit (``lax.scan``, dsmlib.trained.train today). Prints CPU and wall
seconds of each and whether the parameters after the epoch are bit-identical.

Usage: python benchmarks/bench_train.py [softmax|sinkhorn] [digits|mnist] [core]
"""

from __future__ import annotations

import os
import sys
import time

norm = sys.argv[1] if len(sys.argv) > 1 else "sinkhorn"
dataset = sys.argv[2] if len(sys.argv) > 2 else "digits"
core = int(sys.argv[3]) if len(sys.argv) > 3 else 0

from dsmlib.trained.train import pin_threads  # noqa: E402  (pins before JAX is imported)

pin_threads(core)

import jax  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

from dsmlib.trained import data as D  # noqa: E402
from dsmlib.trained import train as T  # noqa: E402

tc = T.TrainConfig(dataset=dataset, normalisation=norm, seed=3, epochs=1)
split = D.load(dataset)
xtr, ytr = split.x_train.astype(np.float32), split.y_train
c = T.model_config(tc, split)
p0 = T.init_params(c, jax.random.PRNGKey(tc.seed))
opt = optax.adam(tc.lr)


def loss_fn(p, xb, yb):
    return optax.softmax_cross_entropy_with_integer_labels(T.jax_forward(p, c, xb), yb).mean()


def step(p, s, xb, yb):
    loss, g = jax.value_and_grad(loss_fn)(p, xb, yb)
    upd, s = opt.update(g, s, p)
    return optax.apply_updates(p, upd), s, loss


jstep = jax.jit(step)


epoch = T.scan_epoch(step)


nb = len(xtr) // tc.batch
idx = np.random.default_rng(tc.seed).permutation(len(xtr))[: nb * tc.batch].reshape(nb, tc.batch)
jstep(p0, opt.init(p0), xtr[idx[0]], ytr[idx[0]])[2].block_until_ready()  # compile both first
epoch(p0, opt.init(p0), xtr[idx], ytr[idx])[2].block_until_ready()

c0, w0 = time.process_time(), time.time()
p, s = p0, opt.init(p0)
for b in range(nb):
    p, s, _ = jstep(p, s, xtr[idx[b]], ytr[idx[b]])
jax.block_until_ready(p)
loop = (time.process_time() - c0, time.time() - w0)
c0, w0 = time.process_time(), time.time()
q, _, _ = epoch(p0, opt.init(p0), xtr[idx], ytr[idx])
jax.block_until_ready(q)
scan = (time.process_time() - c0, time.time() - w0)
same = all(bool(np.array_equal(np.asarray(p[k]), np.asarray(q[k]))) for k in p)
print(f"{dataset} {norm}, one epoch ({nb} steps), core {core}: step loop {loop[0]:.1f} CPU-s ({loop[1]:.1f} wall), "
      f"epoch scan {scan[0]:.1f} CPU-s ({scan[1]:.1f} wall), ratio {loop[0] / scan[0]:.2f}; "
      f"parameters bit-identical: {same}")
