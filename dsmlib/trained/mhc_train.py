r"""Train the four-stream mHC ViT of :mod:`dsmlib.trained.mhc_model` with JAX + optax.

``python -m dsmlib.trained.mhc_train --dataset digits --arm mhc --seed 0 --core 0``

The recipe of ``dsmlib/trained/MHC_PREREGISTRATION.md``: chapter 6's trainer
(:func:`dsmlib.trained.train.fit`: Adam lr 1e-3, batch 100, one epoch under one jit, batch order
``np.random.default_rng(seed)``), chapter 6's initialisation of the ViT part
(:func:`dsmlib.trained.train.init_params` with ``jax.random.PRNGKey(seed)``) and
:func:`dsmlib.trained.mhc_model.init_hc` for the mHC part. Everything in float32, the
Sinkhorn-Knopp iterations included. Run as a script, the process is pinned to ``--core``
before JAX is imported (:mod:`dsmlib.trained.train`).

Per epoch the history records, on the probe batch (first 100 test images), the mean
:math:`\sigma_2` of every site's :math:`H^{res}` (``sigma2``) and its distance from doubly
stochastic (``ds_err``). Outputs in ``--out`` (default
:data:`~dsmlib.trained.mhc_model.MHC_WEIGHTS_DIR`): ``<name>.npz``, ``<name>.history.json``
and ``manifest.json`` (sha256 of both), by :func:`dsmlib.trained.train.save`.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from . import train as _tr  # run as a script: pins the process to --core before JAX is imported
from . import data as _data
from .mhc_model import ARMS, MHC_WEIGHTS_DIR, MHCConfig, init_hc, model_name
from .train import attention_sublayer, ff_hidden, fit, init_params

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

#: epochs per data set (digits as chapter 6)
EPOCHS = {"digits": 12, "mnist": 8}
SINKHORN_ITERS = 20
_SITE_KEYS = ("hc_phi", "hc_alpha", "hc_bias")


def init_model(c: MHCConfig, seed: int) -> dict:
    """Float32 parameters: chapter 6's ViT initialisation and :func:`init_hc`."""
    params = init_params(c.vit(), jax.random.PRNGKey(seed))
    params.update({k: jnp.asarray(v, jnp.float32) for k, v in init_hc(c).items()})
    return params


def _perms(n: int) -> np.ndarray:
    return np.eye(n, dtype=np.float32)[np.array(list(itertools.permutations(range(n))))]


def site(x, sp, c: MHCConfig):
    """Coefficients of one site on streams ``x`` (..., n, C): ``(pre, post, H_res)`` in float32,
    the arithmetic of :func:`dsmlib.mhc.coefficients` for the arm's recipe."""
    n, C = c.n_streams, x.shape[-1]
    xf = x.reshape(x.shape[:-2] + (n * C,))
    rho = np.float32(np.sqrt(n * C)) / jnp.maximum(jnp.sqrt(jnp.sum(xf * xf, -1, keepdims=True)), 1e-12)
    a = sp["hc_alpha"]
    scale = jnp.concatenate([jnp.full(n, a[0]), jnp.full(n, a[1]), jnp.full(c.n_res, a[2])])
    h = (xf @ sp["hc_phi"].T) * rho * scale + sp["hc_bias"]
    pre, post = jax.nn.sigmoid(h[..., :n]), 2.0 * jax.nn.sigmoid(h[..., n:2 * n])
    if c.arm == "identity":
        return pre, post, None
    if c.arm == "mhc_lite":
        return pre, post, jnp.einsum("...k,kij->...ij", jax.nn.softmax(h[..., 2 * n:], -1), _perms(n))
    L = h[..., 2 * n:].reshape(h.shape[:-1] + (n, n))
    for _ in range(SINKHORN_ITERS):  # FFTYYY's sinkhorn_knopps: column, then row, in the log domain
        L = L - jax.scipy.special.logsumexp(L, axis=-2, keepdims=True)
        L = L - jax.scipy.special.logsumexp(L, axis=-1, keepdims=True)
    return pre, post, jnp.exp(L)


def jax_forward(params, c: MHCConfig, x, *, record: bool = False):
    """Float32 forward; logits, or ``(logits, H)`` with every site's :math:`H^{res}`
    (L, 2, B, T, n, n) when ``record`` (None for the identity arm)."""
    B, n, d = x.shape[0], c.n_streams, c.d_model
    h = x @ params["patch_w"] + params["patch_b"]
    h = jnp.concatenate([jnp.broadcast_to(params["cls"], (B, 1, d)), h], axis=1) + params["pos"]
    X = jnp.broadcast_to(h[:, :, None, :], h.shape[:2] + (n, d))
    layer = {k: params[k] for k in _tr._LAYER_KEYS + _SITE_KEYS}

    def mix(X, sp, F_of):
        pre, post, H = site(X, sp, c)
        F = F_of(jnp.einsum("...s,...sd->...d", pre, X))
        R = X if H is None else jnp.einsum("...st,...sd->...td", H, X)
        return R + post[..., :, None] * F[..., None, :], H

    def step(X, lp):
        sp = [{k: lp[k][s] for k in _SITE_KEYS} for s in (0, 1)]
        X, H0 = mix(X, sp[0], lambda u: attention_sublayer(u, lp, c.heads, c.d_head, 1)[0] @ lp["wo"] + lp["bo"])
        X, H1 = mix(X, sp[1], lambda u: ff_hidden(u, lp) @ lp["w2"] + lp["b2"])
        return X, ((H0, H1) if record and H0 is not None else None)

    X, Hs = jax.lax.scan(step, X, layer)
    hf = X.sum(-2)
    logits = _tr._ln(hf[:, 0], params["lnf_g"], params["lnf_b"]) @ params["head_w"] + params["head_b"]
    if not record:
        return logits
    return logits, (None if Hs is None else jnp.stack(Hs, axis=1))


def res_stats(H, n_sites: int) -> dict[str, list[float]]:
    """Per site (layer-major), over the probe tokens: mean :math:`\\sigma_2` of :math:`H^{res}`
    and mean distance from doubly stochastic; ``H`` (L, 2, B, T, n, n) or None (identity: 1, 0)."""
    if H is None:
        return {"sigma2": [1.0] * n_sites, "ds_err": [0.0] * n_sites}
    from ..mhc import ds_error
    from ..spectra import sigma2

    A = np.asarray(H, dtype=np.float64)
    A = A.reshape((-1,) + A.shape[2:])
    return {"sigma2": sigma2(A).mean((1, 2)).tolist(), "ds_err": ds_error(A).mean((1, 2)).tolist()}


def train(tc: _tr.TrainConfig, arm: str, *, n_streams: int = 4, log=print):
    """Train one model; ``tc`` as chapter 6's (``normalisation`` unused: Softmax attention).
    Returns ``(float32 params, MHCConfig, history)``."""
    split = _data.load(tc.dataset)
    c = MHCConfig(arm=arm, n_streams=n_streams, n_layers=tc.n_layers, d_model=tc.d_model, heads=tc.heads,
                  d_head=tc.d_model // tc.heads, n_patches=split.x_train.shape[1], patch_dim=split.x_train.shape[2])
    probe_h = jax.jit(lambda p, xb: jax_forward(p, c, xb, record=True)[1])
    params, hist = fit(init_model(c, tc.seed), lambda p, xb: jax_forward(p, c, xb), split, tc,
                       probe=lambda p, xb: res_stats(probe_h(p, xb), c.n_sites), log=log)
    return params, c, hist


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dataset", choices=_data.DATASETS, required=True)
    ap.add_argument("--arm", choices=tuple(ARMS), required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=None, help="default: EPOCHS[dataset]")
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--core", type=int, default=0)
    ap.add_argument("--max-train", type=int, default=None, help="smoke tests: first N training images")
    ap.add_argument("--out", type=Path, default=None, help=f"default {MHC_WEIGHTS_DIR}")
    ap.add_argument("--dry-run", action="store_true", help="train but do not write weights")
    ap.add_argument("--skip-existing", action="store_true",
                    help="do nothing if the manifest already lists this model with matching sha256")
    a = ap.parse_args(argv)
    out = MHC_WEIGHTS_DIR if a.out is None else a.out
    tc = _tr.TrainConfig(dataset=a.dataset, normalisation="softmax", seed=a.seed, n_layers=a.layers,
                         epochs=EPOCHS[a.dataset] if a.epochs is None else a.epochs, max_train=a.max_train)
    name = model_name(a.dataset, a.arm, a.seed)
    if a.skip_existing and _tr._stored(name, out):
        print(f"[{name}] already stored (sha256 verified): skipped", flush=True)
        return
    t0, c0 = time.time(), time.process_time()
    params, c, hist = train(tc, a.arm, log=lambda s: print(f"[{name}] {s}", flush=True))
    extra = {"arm": a.arm, "command": "python -m dsmlib.trained.mhc_train " + " ".join(sys.argv[1:] if argv is None else argv),
             "cpu_affinity": sorted(os.sched_getaffinity(0)), "XLA_FLAGS": os.environ.get("XLA_FLAGS", ""),
             "wall_s": round(time.time() - t0, 1), "cpu_s": round(time.process_time() - c0, 1)}
    if not a.dry_run:
        e = _tr.save(name, params, c, hist, replace(tc), extra, folder=out)
        print(f"[{name}] saved {e['weights']['file']} sha256 {e['weights']['sha256']}", flush=True)


if __name__ == "__main__":
    main()
