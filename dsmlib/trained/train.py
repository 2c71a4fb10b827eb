r"""Train the ViT of :mod:`dsmlib.trained.model` with JAX + optax (optional extra ``train``).

``python -m dsmlib.trained.train --dataset mnist --normalisation sinkhorn --seed 0 --core 0``

``--setting sinkformers`` trains in Sinkformers' own MNIST setting instead (:data:`SETTINGS`:
1 layer, 1 head, attention-only, lr 2e-3, batch 10, 30 epochs; RC-DS's registered second
reading), as ``mnist_sfsetting_<normalisation>_s<seed>``.

Deterministic and single-threaded: when run as a script, the process is pinned to one CPU
(``os.sched_setaffinity``) and ``XLA_FLAGS`` is set *before* JAX is imported (XLA_FLAGS alone
does not make XLA single-threaded; the affinity does). Initialisation uses
``jax.random.PRNGKey(seed)``, batch order ``np.random.default_rng(seed)``. Training runs in
float32 (Sinkhorn included: 50 log-domain half-steps, as in the Sinkformers code).

Per epoch (and before training, epoch 0) the log records the mean training loss, the test
accuracy and, on a fixed probe batch (the first 100 test images), how doubly stochastic the
attention is: the column-sum deviation ``||1^T P - 1^T||_1 / n`` and the row-sum deviation,
averaged over heads and images, per layer, and the mean row entropy per layer.

Outputs: ``weights/<name>.npz`` (float32, compressed), ``weights/<name>.history.json`` and an
entry in ``weights/manifest.json`` (command, seed, thread set-up, package versions, timings,
sha256 of both files), written under a file lock so that two trainings can run in parallel.
"""

from __future__ import annotations

import os
import sys

XLA_FLAGS = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
#: epochs per data set, chosen from a measured first epoch (about 12 CPU-minutes per MNIST model,
#: 6 per digits model on one core)
EPOCHS = {"mnist": 8, "digits": 12}
#: named training settings (``--setting``): the recipe fields they fix. ``sinkformers`` is
#: Sinkformers' own MNIST setting, RC-DS's second reading in ``PREREGISTRATION.md`` (1 layer,
#: 1 head, attention-only ViT, Adam lr 2e-3, batch 10, 30 epochs); width, patches and the data
#: split stay the book's. Its models are named ``<dataset>_sfsetting_<normalisation>_s<seed>``,
#: apart from the registered ensemble's.
SETTINGS = {
    "sinkformers": {"dataset": "mnist", "n_layers": 1, "heads": 1, "attention_only": True, "lr": 2e-3,
                    "batch": 10, "epochs": 30},
}
#: the name tag of each setting's models
SETTING_TAGS = {"sinkformers": "sfsetting"}


def pin_threads(core: int) -> None:
    """Pin this process to CPU ``core`` and set single-threaded XLA flags (before importing JAX)."""
    if "jax" in sys.modules:
        raise RuntimeError("pin_threads must run before jax is imported")
    os.sched_setaffinity(0, {core})
    os.environ["XLA_FLAGS"] = XLA_FLAGS
    for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[k] = "1"


#: trainers that, run as ``python -m <module> ... [--core C]``, pin the process here, before the
#: jax import below (:mod:`dsmlib.trained.text_train` imports this module before JAX)
SCRIPTS = ("dsmlib.trained.train", "dsmlib.trained.text_train", "dsmlib.trained.mhc_train")
_main_spec = getattr(sys.modules.get("__main__"), "__spec__", None)
if __name__ == "__main__" or (getattr(_main_spec, "name", None) in SCRIPTS and "jax" not in sys.modules):
    _core = int(sys.argv[sys.argv.index("--core") + 1]) if "--core" in sys.argv else 0
    pin_threads(_core)

import argparse  # noqa: E402
import fcntl  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from importlib import metadata  # noqa: E402
from pathlib import Path  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

from . import data as _data  # noqa: E402
from .model import MANIFEST, WEIGHTS_DIR, ViTConfig, model_name, param_shapes, sha256  # noqa: E402

jax.config.update("jax_enable_x64", False)


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings (Adam, cross-entropy)."""

    dataset: str = "mnist"
    normalisation: str = "softmax"
    seed: int = 0
    epochs: int = 10
    lr: float = 1e-3
    batch: int = 100
    n_layers: int = 24
    d_model: int = 64
    heads: int = 4
    n_half_steps: int = 50
    n_probe: int = 100
    max_train: int | None = None  # for tests: use only the first max_train training images
    max_steps: int | None = None  # for tests: stop after this many steps
    attention_only: bool = False  # no feed-forward sub-block (ViTConfig.attention_only)


def init_params(c: ViTConfig, key: jax.Array) -> dict[str, jax.Array]:
    """PyTorch-default initialisation: linear weights and biases U(-1/sqrt(fan_in), +), CLS
    token and positional embedding N(0, 1), LayerNorm gain 1 and bias 0."""
    shapes = param_shapes(c)
    fan_in = {"patch": c.patch_dim, "wq": c.d_model, "wk": c.d_model, "wv": c.d_model,
              "wo": c.heads * c.d_head, "bo": c.heads * c.d_head, "w1": c.d_model, "b1": c.d_model,
              "w2": c.ff_mult * c.d_model, "b2": c.ff_mult * c.d_model, "head": c.d_model}
    params = {}
    keys = jax.random.split(key, len(shapes))
    for k_, (name, shp) in zip(keys, sorted(shapes.items())):
        if name in ("cls", "pos"):
            params[name] = jax.random.normal(k_, shp, jnp.float32)
        elif name.endswith("_g") and name.startswith("ln"):
            params[name] = jnp.ones(shp, jnp.float32)
        elif name.endswith("_b") and name.startswith("ln"):
            params[name] = jnp.zeros(shp, jnp.float32)
        else:
            bound = 1.0 / np.sqrt(fan_in[name.split("_")[0]])
            params[name] = jax.random.uniform(k_, shp, jnp.float32, -bound, bound)
    return params


def _ln(x, g, b):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / jnp.sqrt(var + 1e-5) * g + b


def normalise(S, n_half_steps: int):
    """Log-domain Sinkhorn with ``n_half_steps`` half-steps starting with rows (1 = softmax)."""
    f = S
    for k in range(n_half_steps):
        f = f - jax.scipy.special.logsumexp(f, axis=-1 if k % 2 == 0 else -2, keepdims=True)
    return jnp.exp(f)


_LAYER_KEYS = ("ln1_g", "ln1_b", "wq", "wk", "wv", "wo", "bo", "ln2_g", "ln2_b", "w1", "b1", "w2", "b2")


def attention_sublayer(h, lp, heads: int, d_head: int, n_half_steps: int, *, bias=None):
    """Multi-head attention of ``LN(h)`` for ``h`` (B, n, d), *before* the output projection:
    returns ``(o, P)``, ``o`` (B, n, heads * d_head) and the attention ``P`` (B, H, n, n). The
    sub-block's output is ``o @ lp["wo"] + lp["bo"]`` (callers keep their own order of additions)."""
    B, n = h.shape[0], h.shape[1]
    u = _ln(h, lp["ln1_g"], lp["ln1_b"])
    q, k, v = ((u @ lp[w]).reshape(B, n, heads, d_head).transpose(0, 2, 1, 3) for w in ("wq", "wk", "wv"))
    S = (q @ k.transpose(0, 1, 3, 2)) / np.float32(np.sqrt(d_head))
    P = normalise(S if bias is None else S + bias, n_half_steps)
    return (P @ v).transpose(0, 2, 1, 3).reshape(B, n, heads * d_head), P


def ff_hidden(h, lp):
    """The feed-forward sub-block's hidden layer ``GELU(LN(h) W1 + b1)``; its output is
    ``z @ lp["w2"] + lp["b2"]``."""
    return jax.nn.gelu(_ln(h, lp["ln2_g"], lp["ln2_b"]) @ lp["w1"] + lp["b1"], approximate=False)


def block(h, lp, heads: int, d_head: int, n_half_steps: int, *, bias=None, drop=None, ff: bool = True):
    """One pre-LN block on ``h`` (B, n, d) with the layer's parameters ``lp``; returns ``(h, P)``.

    ``bias`` (broadcastable to (B, H, n, n)) is added to the scores before the normalisation
    (a padding pattern, :mod:`dsmlib.trained.text_train`); ``drop(x, i)`` is applied to the
    output of sub-block ``i`` (0 attention, 1 feed-forward) before its residual addition
    (dropout). With neither, the operations are exactly those of the ViT's original block.
    ``ff=False``: no feed-forward sub-block (an attention-only model; ``lp`` needs no FF keys)."""
    o, P = attention_sublayer(h, lp, heads, d_head, n_half_steps, bias=bias)
    # h + o @ wo + bo is (h + o @ wo) + bo: kept in this order (bit-identical ViT training)
    h = h + o @ lp["wo"] + lp["bo"] if drop is None else h + drop(o @ lp["wo"] + lp["bo"], 0)
    if not ff:
        return h, P
    z = ff_hidden(h, lp)
    h = h + z @ lp["w2"] + lp["b2"] if drop is None else h + drop(z @ lp["w2"] + lp["b2"], 1)
    return h, P


def jax_forward(params, c: ViTConfig, x, *, record: bool = False):
    """JAX float32 forward (full Transformer). Returns logits, or ``(logits, P)`` with the
    attention ``P`` (L, B, H, n, n) when ``record``."""
    B, H, dh = x.shape[0], c.heads, c.d_head
    nh = 1 if c.normalisation == "softmax" else c.n_half_steps
    h = x @ params["patch_w"] + params["patch_b"]
    h = jnp.concatenate([jnp.broadcast_to(params["cls"], (B, 1, c.d_model)), h], axis=1) + params["pos"]

    def step(h, lp):
        h, P = block(h, lp, H, dh, nh, ff=not c.attention_only)
        return h, (P if record else None)

    h, Ps = jax.lax.scan(step, h, {k: params[k] for k in _LAYER_KEYS if k in params})
    logits = _ln(h[:, 0], params["lnf_g"], params["lnf_b"]) @ params["head_w"] + params["head_b"]
    return (logits, Ps) if record else logits


def model_config(tc: TrainConfig, split: _data.Split) -> ViTConfig:
    return ViTConfig(normalisation=tc.normalisation, n_layers=tc.n_layers, d_model=tc.d_model,
                     heads=tc.heads, d_head=tc.d_model // tc.heads, n_patches=split.x_train.shape[1],
                     patch_dim=split.x_train.shape[2], n_classes=10, n_half_steps=tc.n_half_steps,
                     attention_only=tc.attention_only)


def attention_stats(P: np.ndarray) -> dict[str, list[float]]:
    """Per layer, mean over (B, H): column-sum deviation ``||1^T P - 1^T||_1 / n``, row-sum
    deviation ``||P 1 - 1||_1 / n`` and row entropy (nats), for ``P`` (L, B, H, n, n)."""
    P = np.asarray(P, dtype=np.float64)
    n = P.shape[-1]
    col = np.abs(P.sum(-2) - 1.0).sum(-1) / n
    row = np.abs(P.sum(-1) - 1.0).sum(-1) / n
    ent = -(P * np.log(np.maximum(P, 1e-300))).sum(-1).mean(-1)
    return {"col_dev": col.mean((1, 2)).tolist(), "row_dev": row.mean((1, 2)).tolist(),
            "row_entropy": ent.mean((1, 2)).tolist()}


def train(tc: TrainConfig, *, log=print) -> tuple[dict[str, np.ndarray], ViTConfig, dict]:
    """Train one model; return ``(params as float32 numpy, model config, history)``."""
    split = _data.load(tc.dataset)
    c = model_config(tc, split)
    probe_attn = jax.jit(lambda p, xb: jax_forward(p, c, xb, record=True)[1])
    params, hist = fit(init_params(c, jax.random.PRNGKey(tc.seed)), lambda p, xb: jax_forward(p, c, xb), split, tc,
                       probe=lambda p, xb: attention_stats(probe_attn(p, xb)), log=log)
    return params, c, hist


def scan_epoch(step):
    """``run_epoch(p, s, xs, ys) -> (p, s, losses)``: every ``step(p, s, xb, yb) -> (p, s,
    loss)`` of one epoch under one jit (``lax.scan`` over the batches ``xs``, ``ys``): no host
    round trip per step. Bit-identical to calling a jitted ``step`` per batch (measured:
    ``benchmarks/bench_train.py``), about 1.25x (Softmax) to 1.6x (Sinkhorn) less CPU."""

    @jax.jit
    def run_epoch(p, s, xs, ys):
        def body(carry, xy):
            p, s = carry
            p, s, loss = step(p, s, *xy)
            return (p, s), loss

        (p, s), losses = jax.lax.scan(body, (p, s), (xs, ys))
        return p, s, losses

    return run_epoch


def fit(params, apply, split: _data.Split, tc: TrainConfig, *, probe, log=print) -> tuple[dict[str, np.ndarray], dict]:
    """Adam + cross-entropy on ``split`` with the settings of ``tc`` (epochs, lr, batch, seed,
    ``max_train``, ``max_steps``, ``n_probe``); the model is ``apply(params, x) -> logits``.

    Per epoch (0 = before training) the history records the mean training loss, the test
    accuracy, the CPU time and ``probe(params, x_probe)``, a dict of per-layer lists on the
    first ``n_probe`` test images (``col_dev`` is logged). Returns ``(params as float32 numpy,
    history)``."""
    xtr, ytr = split.x_train.astype(np.float32), split.y_train
    if tc.max_train is not None:
        xtr, ytr = xtr[: tc.max_train], ytr[: tc.max_train]
    xte, yte = split.x_test.astype(np.float32), split.y_test
    probe_x = xte[: tc.n_probe]
    opt = optax.adam(tc.lr)
    state = opt.init(params)

    def loss_fn(p, xb, yb):
        return optax.softmax_cross_entropy_with_integer_labels(apply(p, xb), yb).mean()

    def step(p, s, xb, yb):
        loss, g = jax.value_and_grad(loss_fn)(p, xb, yb)
        upd, s = opt.update(g, s, p)
        return optax.apply_updates(p, upd), s, loss

    run_epoch = scan_epoch(step)

    predict = jax.jit(lambda p, xb: jnp.argmax(apply(p, xb), -1))

    def evaluate(p):
        pred = np.concatenate([np.asarray(predict(p, xte[i:i + 500])) for i in range(0, len(xte), 500)])
        return float((pred == yte).mean())

    rng = np.random.default_rng(tc.seed)
    nb = len(xtr) // tc.batch
    hist = {"epoch": [0], "train_loss": [None], "test_acc": [evaluate(params)], "cpu_s": [0.0],
            **{k: [v] for k, v in probe(params, probe_x).items()}}
    key = next((k for k in hist if k not in ("epoch", "train_loss", "test_acc", "cpu_s")), None)  # logged
    show = (lambda: f" {key} {np.mean(hist[key][-1]):.4f}") if key else (lambda: "")
    log(f"epoch 0 acc {hist['test_acc'][0]:.4f}{show()}")
    t0 = time.process_time()
    steps = 0
    for ep in range(1, tc.epochs + 1):
        perm = rng.permutation(len(xtr))
        k = nb if tc.max_steps is None else min(nb, tc.max_steps - steps)
        idx = perm[: k * tc.batch].reshape(k, tc.batch)
        params, state, losses = run_epoch(params, state, xtr[idx], ytr[idx])
        steps += k
        hist["epoch"].append(ep)
        hist["train_loss"].append(float(np.mean(np.asarray(losses))))
        hist["test_acc"].append(evaluate(params))
        hist["cpu_s"].append(time.process_time() - t0)
        for k, v in probe(params, probe_x).items():
            hist[k].append(v)
        log(f"epoch {ep} loss {hist['train_loss'][-1]:.4f} acc {hist['test_acc'][-1]:.4f}{show()} "
            f"cpu {hist['cpu_s'][-1]:.0f}s")
        if tc.max_steps is not None and steps >= tc.max_steps:
            break
    return {k: np.asarray(v, dtype=np.float32) for k, v in params.items()}, hist


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("jax", "jaxlib", "optax", "numpy", "mlxtend", "scikit-learn"):
        out[pkg] = metadata.version(pkg)
    return out


def save(name: str, params, c: ViTConfig, hist: dict, tc: TrainConfig, extra: dict, folder: Path | None = None) -> dict:
    """Write weights and history, add the manifest entry under a file lock; return the entry.
    ``folder``: where (weights, history and ``manifest.json``); default :data:`WEIGHTS_DIR`."""
    wdir = WEIGHTS_DIR if folder is None else Path(folder)
    manifest = MANIFEST if folder is None else wdir / "manifest.json"
    wdir.mkdir(parents=True, exist_ok=True)
    wfile, hfile = wdir / f"{name}.npz", wdir / f"{name}.history.json"
    np.savez_compressed(wfile, **params)
    hfile.write_text(json.dumps(hist, indent=1) + "\n")
    entry = {
        "dataset": tc.dataset, "normalisation": tc.normalisation, "seed": tc.seed,
        "train": {k: v for k, v in tc.__dict__.items()}, "config": c.to_dict(),
        "weights": {"file": wfile.name, "sha256": sha256(wfile)},
        "history": {"file": hfile.name, "sha256": sha256(hfile)},
        "final_test_acc": hist["test_acc"][-1], "versions": _versions(), **extra,
    }
    fd = os.open(wdir, os.O_RDONLY)  # lock the folder: no stray lock file
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        man = json.loads(manifest.read_text()) if manifest.exists() else {}
        man[name] = entry
        manifest.write_text(json.dumps(dict(sorted(man.items())), indent=1) + "\n")
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    return entry


def _stored(name: str, folder: Path | None = None) -> bool:
    """True if the manifest (of ``folder``, default :data:`WEIGHTS_DIR`) lists ``name`` and both
    its files match their sha256."""
    wdir = WEIGHTS_DIR if folder is None else Path(folder)
    manifest = MANIFEST if folder is None else wdir / "manifest.json"
    entry = json.loads(manifest.read_text()).get(name) if manifest.exists() else None
    if not entry:
        return False
    files = [wdir / entry[k]["file"] for k in ("weights", "history")]
    return all(f.is_file() and sha256(f) == entry[k]["sha256"] for f, k in zip(files, ("weights", "history")))


def setting_name(setting: str, normalisation: str, seed: int) -> str:
    """Name of a model trained with a named setting, e.g. ``mnist_sfsetting_softmax_s0``."""
    if setting not in SETTINGS:
        raise ValueError(f"setting must be one of {tuple(SETTINGS)}, got {setting!r}")
    return model_name(f"{SETTINGS[setting]['dataset']}_{SETTING_TAGS[setting]}", normalisation, seed)


def setting_config(setting: str, normalisation: str, seed: int, **overrides) -> TrainConfig:
    """The :class:`TrainConfig` of a named setting (:data:`SETTINGS`); ``overrides`` (e.g.
    ``max_steps`` for a dry run) replace fields."""
    if setting not in SETTINGS:
        raise ValueError(f"setting must be one of {tuple(SETTINGS)}, got {setting!r}")
    return TrainConfig(**{**SETTINGS[setting], "normalisation": normalisation, "seed": seed, **overrides})


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dataset", choices=_data.DATASETS, default=None,
                    help="required unless --setting fixes it")
    ap.add_argument("--normalisation", choices=("softmax", "sinkhorn"), required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--setting", choices=tuple(SETTINGS), default=None,
                    help="a named recipe (SETTINGS): sinkformers = Sinkformers' MNIST ViT (1 layer, 1 head, "
                         "attention only, lr 2e-3, batch 10, 30 epochs), models named <dataset>_sfsetting_...")
    ap.add_argument("--epochs", type=int, default=None, help="default: EPOCHS[dataset] (or the setting's)")
    ap.add_argument("--lr", type=float, default=None, help="default: 1e-3 (or the setting's)")
    ap.add_argument("--core", type=int, default=0)
    ap.add_argument("--max-steps", type=int, default=None)
    ap.add_argument("--dry-run", action="store_true", help="train but do not write weights")
    ap.add_argument("--skip-existing", action="store_true",
                    help="do nothing if the manifest already lists this model with matching sha256")
    a = ap.parse_args(argv)
    if a.setting is None:
        if a.dataset is None:
            ap.error("--dataset is required (unless --setting gives it)")
        tc = TrainConfig(dataset=a.dataset, normalisation=a.normalisation, seed=a.seed,
                         epochs=EPOCHS[a.dataset] if a.epochs is None else a.epochs,
                         lr=1e-3 if a.lr is None else a.lr, max_steps=a.max_steps)
        name = model_name(a.dataset, a.normalisation, a.seed)
    else:
        fixed = SETTINGS[a.setting]
        if a.dataset is not None and a.dataset != fixed["dataset"]:
            ap.error(f"--setting {a.setting} trains on {fixed['dataset']}, got --dataset {a.dataset}")
        over = {k: v for k, v in (("epochs", a.epochs), ("lr", a.lr)) if v is not None}
        tc = setting_config(a.setting, a.normalisation, a.seed, max_steps=a.max_steps, **over)
        name = setting_name(a.setting, a.normalisation, a.seed)
    if a.skip_existing and _stored(name):
        print(f"[{name}] already stored (sha256 verified): skipped", flush=True)
        return
    t0, c0 = time.time(), time.process_time()
    params, c, hist = train(tc, log=lambda s: print(f"[{name}] {s}", flush=True))
    extra = {"command": "python -m dsmlib.trained.train " + " ".join(sys.argv[1:] if argv is None else argv),
             "cpu_affinity": sorted(os.sched_getaffinity(0)), "XLA_FLAGS": os.environ.get("XLA_FLAGS", ""),
             "wall_s": round(time.time() - t0, 1), "cpu_s": round(time.process_time() - c0, 1),
             **({"setting": a.setting} if a.setting else {})}
    if not a.dry_run:
        e = save(name, params, c, hist, tc, extra)
        print(f"[{name}] saved {e['weights']['file']} sha256 {e['weights']['sha256']}", flush=True)


if __name__ == "__main__":
    main()
