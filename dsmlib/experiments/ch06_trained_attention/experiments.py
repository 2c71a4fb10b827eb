r"""Chapter 6, the experiment: Softmax vs Sinkhorn attention in ViTs trained from scratch (RC Sec. 4, App. F-G).

The models (24 layers, 4 heads, d_model 64; MNIST subset and 8x8 digits; two seeds per
normalisation) are trained once by :mod:`dsmlib.trained.train` (JAX); everything here is
numpy float64 inference on the stored, sha256-verified weights.

Experiments (config in, frozen dataclass of arrays out, disk-cached; the config carries the
weights' sha256, so retrained weights are a new cache key):

* :func:`trained_experiment` -- per model: attention and block outputs in RC's four
  inference settings on a batch of 100 test images; 100 random attention paths per depth
  t = 1..24 under every reading of "with skip" (Fig. 3) and with the cross-layer correlation
  broken; the per-layer residual of the block outputs (Fig. 4); first-layer row entropies over
  all test images (Fig. 1); Sinkhorn marginal errors on the real scores (App. F); App. G random
  products at the trained models' score scale; the training log.

Every comparison of normalisations uses the *seed-to-seed spread* as its yardstick: a
difference between Softmax and Sinkhorn counts only if it exceeds the difference between the
two seeds of the same normalisation, in every Softmax/Sinkhorn pairing of seeds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..._parallel import thread_map
from ...attention import sample_paths
from ...cache import disk_cached
from ...spectra import rank_one_residual
from ...trained import model as tm
from ..ch05_rank_decay.experiments import FLOOR, RandomProductsConfig, random_products_experiment, spec_norm  # noqa: F401 (FLOOR: re-exported)

DATASETS = ("mnist", "digits")
NORMS = ("softmax", "sinkhorn")
SEEDS = (0, 1)
#: RC Sec. 4's inference settings: name -> (skip, ff)
SETTINGS = {"pure": (False, False), "san_skip": (True, False), "san_ff": (False, True), "full": (True, True)}
#: readings of Fig. 3's "with skip": plain products of the full-forward matrices; products of
#: (I + P)/2; half the factors replaced by I; plain products of the SAN+skip-forward matrices;
#: plain products of the pure-SAN-forward matrices (for reference)
READINGS = ("plain", "half", "identity", "sanskip", "pure")
#: the reading that matches Sec. 4.1's text ("a skip connection effectively bypasses a layer,
#: reducing the number of matrices in the product") and App. G's simulation of skips
SKIP_READING = "identity"
#: correlation experiment: paths as sampled in the paper (independent image per factor),
#: one image for the whole path (the forward pass's own correlation), and the paper's
#: factors multiplied in a random order
VARIANTS = ("paper", "same_image", "shuffled")
#: pre-registered thresholds (fixed before any trained model was analysed)
ALPHA = 1e-3  #: paired Wilcoxon signed-rank, one-sided, on pooled depths 2..24
CONV_TOL = 1e-3  #: "effectively doubly stochastic": max marginal error (as in chapter 2)
CONV_SHARE = 0.99  #: ... in at least this share of the matrices
DS_FACTOR = 0.5  #: RC-DS confirmed: final column deviation <= this x untrained, in every model
DS_RHO = -0.8  #: ... and Spearman rho(epoch, deviation) <= this
F4_KEEP = 0.1  #: RC-F4 "rank preserved": last-layer residual ratio >= this with skips
F4_MARGIN = 0.1  #: RC-F4 "very similar": |difference| <= max(seed spread, this) decades


def model_names(datasets=DATASETS, norms=NORMS, seeds=SEEDS) -> tuple[str, ...]:
    """All model names, dataset-major."""
    return tuple(tm.model_name(d, n, s) for d in datasets for n in norms for s in seeds)


def available_models() -> tuple[str, ...]:
    """The models of :func:`model_names` present in the weights manifest."""
    man = tm.read_manifest()
    return tuple(m for m in model_names() if m in man)


@dataclass(frozen=True)
class TrainedConfig:
    """Models to analyse (with their weights' sha256 as part of the cache key) and the
    sampling of RC Sec. 4.1."""

    models: tuple[str, ...]
    shas: tuple[str, ...]
    n_batch: int = 100
    n_paths: int = 100
    batch_seed: int = 0
    path_seed: int = 1
    trace_half_steps: int = 200


def default_config() -> TrainedConfig:
    """Every stored model, with the sha256 of its weights from the manifest."""
    man = tm.read_manifest()
    names = available_models()
    return TrainedConfig(names, tuple(man[m]["weights"]["sha256"] for m in names))


@dataclass(frozen=True)
class TrainedResult:
    """Per model ``m`` (axis 0, order of ``config.models``).

    Attributes
    ----------
    depths : (T,) path depths 1..24
    path_residual : (M, len(READINGS), T, n_paths) normalised residual of P_t (RC Eq. 11)
    corr_residual : (M, len(VARIANTS), 2, T, n_paths) the same for the correlation variants,
        plain (index 0) and (I + P)/2 (index 1) products
    random_residual : (M, 2, T, n_paths) App. G random products (own normalisation) at the
        model's median score std (index 0) and at score scale 1 (index 1); plain products
    random_scales : (M,) the matched score scale
    output_ratio : (M, 4, L, B) ||res(SAN(X)_l)||_2 / ||SAN(X)_l||_2 in the four SETTINGS
    entropy_l1 : (M, N_test, H) mean row entropy (nats) of layer-1 attention
    maxentry_l1 : (M, N_test, H) largest entry of layer-1 attention
    example_map : (M, n, n) layer 1, head 0, first test image
    example_image : (M, side, side) that image
    conv_err : (M, 4, L * B * H) (NaN for Softmax models) max marginal error |row/col sum - 1| of the Sinkhorn
        normalisation of the full-forward scores: 50 half-steps float32 (the training code),
        50 half-steps float64, 50 full iterations (100 half-steps) float64, 100 half-steps float32
    conv_trace : (M, trace_half_steps, 3) median, 99th percentile and max of that error after
        k = 1..trace_half_steps half-steps (float64)
    score_std : (M,) median over matrices of the score standard deviation (full forward)
    acc_numpy : (M,) accuracy of the numpy float64 forward on the batch of ``n_batch`` test images
    acc_train : (M,) final test accuracy in the training log (JAX float32, whole test set)
    hist_* : (M, E + 1) training log padded with NaN: epoch, train_loss, test_acc, col_dev,
        row_dev, row_entropy (layer means), cpu_s
    col_dev_layers : (M, E + 1, L) column-sum deviation per layer on the probe batch
    cpu_s, wall_s : (M,) training cost
    """

    config: TrainedConfig
    depths: NDArray[np.int64]
    path_residual: NDArray[np.float64]
    corr_residual: NDArray[np.float64]
    random_residual: NDArray[np.float64]
    random_scales: NDArray[np.float64]
    output_ratio: NDArray[np.float64]
    entropy_l1: NDArray[np.float64]
    maxentry_l1: NDArray[np.float64]
    example_map: NDArray[np.float64]
    example_image: NDArray[np.float64]
    conv_err: NDArray[np.float64]
    conv_trace: NDArray[np.float64]
    score_std: NDArray[np.float64]
    acc_numpy: NDArray[np.float64]
    acc_train: NDArray[np.float64]
    hist_epoch: NDArray[np.float64]
    hist_train_loss: NDArray[np.float64]
    hist_test_acc: NDArray[np.float64]
    hist_col_dev: NDArray[np.float64]
    hist_row_dev: NDArray[np.float64]
    hist_row_entropy: NDArray[np.float64]
    hist_cpu_s: NDArray[np.float64]
    col_dev_layers: NDArray[np.float64]
    cpu_s: NDArray[np.float64]
    wall_s: NDArray[np.float64]

    def index(self, dataset: str, norm: str, seed: int) -> int:
        """Position of a model in ``config.models`` (``ValueError`` if absent)."""
        name = tm.model_name(dataset, norm, seed)
        if name not in self.config.models:
            raise ValueError(f"model {name!r} is not in this result")
        return self.config.models.index(name)

    def has(self, dataset: str, norm: str, seed: int) -> bool:
        return tm.model_name(dataset, norm, seed) in self.config.models


# ---------------------------------------------------------------------------------------
# pieces (pure functions, batched)
# ---------------------------------------------------------------------------------------
def marginal_error(P: NDArray) -> NDArray[np.float64]:
    """max(|P 1 - 1|_inf, |1^T P - 1^T|_inf) over the last two axes; shape (...)."""
    P = np.asarray(P, dtype=np.float64)
    return np.maximum(np.abs(P.sum(-1) - 1).max(-1), np.abs(P.sum(-2) - 1).max(-1))


def marginal_trace(S: NDArray, n_half_steps: int) -> NDArray[np.float64]:
    """(n_half_steps, 3): median, 99th percentile and max over the matrices ``S`` (m, n, n) of
    :func:`marginal_error` after k = 1..n_half_steps Sinkhorn half-steps (float64, scaling vectors)."""
    K = np.exp(S - S.max(axis=(-2, -1), keepdims=True))
    Kt = np.swapaxes(K, -1, -2)
    u = v = np.ones(S.shape[:-1] + (1,))
    out = np.empty((n_half_steps, 3))
    for k in range(n_half_steps):
        if k % 2 == 0:
            u = 1.0 / (K @ v)
        else:
            v = 1.0 / (Kt @ u)
        rows = (u * (K @ v))[..., 0]
        cols = (v * (Kt @ u))[..., 0]
        e = np.maximum(np.abs(rows - 1).max(-1), np.abs(cols - 1).max(-1))
        out[k] = np.median(e), np.percentile(e, 99), e.max()
    return out


def row_entropy(P: NDArray) -> NDArray[np.float64]:
    """Mean row entropy (nats) of (..., n, n) stochastic matrices; shape (...)."""
    P = np.asarray(P, dtype=np.float64)
    return -(P * np.log(np.maximum(P, 1e-300))).sum(-1).mean(-1)


def mean_row_residual(X: NDArray) -> NDArray[np.float64]:
    r"""RC Eq. 12: :math:`\|X - 1\bar x^\top\|_2 / \|X\|_2` for (..., n, d) token matrices."""
    X = np.asarray(X, dtype=np.float64)
    return spec_norm(X - X.mean(-2, keepdims=True)) / spec_norm(X)


def path_indices(n_layers: int, n_heads: int, batch: int, n_paths: int, seed: int):
    """Seeded paths of RC Sec. 4.1 for every depth 1..n_layers, shared by all models.

    Returns
    -------
    layers, heads, bidx : (T, n_paths, T) int, padded with -1 beyond depth t
    skipmask : (T, n_paths, T) bool, True where the identity reading replaces a factor by I
        (floor(t/2) of the t factors, at random)
    order : (T, n_paths, T) int, a random permutation of the t factors (shuffled variant)
    """
    rng = np.random.default_rng(seed)
    T = n_layers
    out = np.full((3, T, n_paths, T), -1, dtype=np.int64)
    skip = np.zeros((T, n_paths, T), dtype=bool)
    order = np.full((T, n_paths, T), -1, dtype=np.int64)
    for t in range(1, T + 1):
        ly, hd, bi = sample_paths(n_layers, n_heads, batch, t, n_paths, rng=rng)
        out[:, t - 1, :, :t] = ly, hd, bi
        skip[t - 1, :, :t] = np.argsort(rng.random((n_paths, t)), axis=-1) < t // 2
        order[t - 1, :, :t] = np.argsort(rng.random((n_paths, t)), axis=-1)
    return out[0], out[1], out[2], skip, order


def path_products(A: NDArray, layers, heads, bidx, *, skipmask=None, half: bool = False, order=None):
    """Chained products of RC Eq. 10 for every depth.

    Parameters
    ----------
    A : (L, B, H, n, n) attention of one forward pass
    layers, heads, bidx : (T, m, T) from :func:`path_indices`
    skipmask : (T, m, T) bool, factors replaced by I
    half : replace each factor P by (I + P)/2
    order : (T, m, T) int, permutation of the factors (multiplication order)

    Returns
    -------
    (T, m) normalised residual sigma_2 / sigma_1 of each product
    """
    T, m, _ = layers.shape
    n = A.shape[-1]
    eye = np.eye(n)
    res = np.empty((T, m))
    for t in range(1, T + 1):
        ly, hd, bi = layers[t - 1, :, :t], heads[t - 1, :, :t], bidx[t - 1, :, :t]
        if order is not None:
            o = order[t - 1, :, :t]
            ly, hd, bi = (np.take_along_axis(a, o, axis=-1) for a in (ly, hd, bi))
        F = A[ly, bi, hd]  # (m, t, n, n)
        if half:
            F = 0.5 * (eye + F)
        if skipmask is not None:
            sm = skipmask[t - 1, :, :t]
            if order is not None:
                sm = np.take_along_axis(sm, order[t - 1, :, :t], axis=-1)
            F = np.where(sm[..., None, None], eye, F)
        prod = F[:, 0]
        for i in range(1, t):
            prod = prod @ F[:, i]
        res[t - 1] = rank_one_residual(prod)
    return res


def _history_arrays(entries: list[dict]) -> dict[str, NDArray]:
    E = max(len(e["history"]["data"]["epoch"]) for e in entries)
    L = max(len(e["history"]["data"]["col_dev"][0]) for e in entries)
    keys = ("epoch", "train_loss", "test_acc", "col_dev", "row_dev", "row_entropy", "cpu_s")
    out = {k: np.full((len(entries), E), np.nan) for k in keys}
    out["col_dev_layers"] = np.full((len(entries), E, L), np.nan)
    for i, e in enumerate(entries):
        h = e["history"]["data"]
        k = len(h["epoch"])
        for key in keys:
            v = h[key]
            if key in ("col_dev", "row_dev", "row_entropy"):
                v = [np.mean(x) for x in v]
            out[key][i, :k] = [np.nan if x is None else x for x in v]
        out["col_dev_layers"][i, :k] = np.array(h["col_dev"])
    return out


# ---------------------------------------------------------------------------------------
# the experiment
# ---------------------------------------------------------------------------------------
def _analyse(name: str, sha: str, c: TrainedConfig, paths) -> dict:
    """Everything :func:`trained_experiment` needs from one model (numpy float64 inference)."""
    from ...trained import data as tdata

    params, mc, entry = tm.load_model(name)
    if entry["weights"]["sha256"] != sha:
        raise ValueError(f"config.shas does not match the stored weights of {name}")
    sp = tdata.load(entry["dataset"])
    sel = np.sort(np.random.default_rng(c.batch_seed).choice(len(sp.x_test), size=c.n_batch, replace=False))
    xb = sp.x_test[sel]
    ly, hd, bi, skipmask, order = paths
    runs = {k: tm.forward(params, mc, xb, skip=s, ff=f, record=True) for k, (s, f) in SETTINGS.items()}
    A = runs["full"].attention
    out = {"entry": entry, "mc": mc}
    # Fig. 3 readings
    out["path"] = np.stack([
        path_products(A, ly, hd, bi),
        path_products(A, ly, hd, bi, half=True),
        path_products(A, ly, hd, bi, skipmask=skipmask),
        path_products(runs["san_skip"].attention, ly, hd, bi),
        path_products(runs["pure"].attention, ly, hd, bi),
    ])
    # correlation variants: paper, one image per path, factors in random order
    same = np.where(ly >= 0, bi[:, :, :1], -1)
    out["corr"] = np.array([[path_products(A, ly, hd, b_, order=o_), path_products(A, ly, hd, b_, half=True, order=o_)]
                            for b_, o_ in ((bi, None), (same, None), (bi, order))])
    # Fig. 4
    out["out"] = np.stack([mean_row_residual(runs[k].outputs) for k in SETTINGS])
    S = runs["full"].scores
    out["sstd"] = float(np.median(S.std(axis=(-2, -1))))
    # Fig. 1: layer 1 over all test images
    l1 = tm.forward(params, mc, sp.x_test, record=True, n_layers=1).attention[0]  # (N, H, n, n)
    out["ent"], out["mx"], out["map"], out["img"] = row_entropy(l1), l1.max((-2, -1)), l1[0, 0], sp.images_test[0]
    # App. F: marginal errors of Sinkhorn on the real scores (Sinkhorn models only)
    Sf = S.reshape(-1, mc.n_tokens, mc.n_tokens)
    if mc.normalisation == "sinkhorn":
        out["conv"] = np.stack([
            marginal_error(tm.log_sinkhorn(Sf.astype(np.float32), 50)),
            marginal_error(tm.fast_sinkhorn(Sf, 50)),
            marginal_error(tm.fast_sinkhorn(Sf, 100)),
            marginal_error(tm.log_sinkhorn(Sf.astype(np.float32), 100)),
        ])
        out["trace"] = marginal_trace(Sf, c.trace_half_steps)
    else:
        out["conv"] = np.full((4, Sf.shape[0]), np.nan)
        out["trace"] = np.full((c.trace_half_steps, 3), np.nan)
    # accuracy of the numpy forward on the analysis batch (the full test set is checked
    # against the training log in tests/test_ch06_trained_attention.py)
    out["accn"] = float((runs["full"].logits.argmax(-1) == sp.y_test[sel]).mean())
    return out


@disk_cached
def trained_experiment(config: TrainedConfig | None = None) -> TrainedResult:
    """Inference-only analysis of every stored model (see :class:`TrainedResult`); models are
    analysed in parallel threads (numpy releases the GIL), each deterministically."""
    c = default_config() if config is None else config
    if not c.models:
        raise ValueError("config.models is empty: no trained weights are stored")
    if len(c.shas) != len(c.models):
        raise ValueError("config.shas must have one sha256 per model")
    mc0 = tm.load_model(c.models[0])[1]
    paths = path_indices(mc0.n_layers, mc0.heads, c.n_batch, c.n_paths, c.path_seed)
    outs = thread_map(lambda ms: _analyse(ms[0], ms[1], c, paths), list(zip(c.models, c.shas)))
    rand, scales = [], []
    for o in outs:  # App. G random products at the model's score scale and at scale 1 (cached)
        mc = o["mc"]
        scale = float(np.round(o["sstd"], 1))
        rp = random_products_experiment(RandomProductsConfig(
            n=mc.n_tokens, d_model=mc.d_model, d_qk=mc.d_head, depth=mc.n_layers, n_products=c.n_paths,
            scales=(scale, 1.0), seed=0))
        rand.append(np.swapaxes(rp.residual[:, 0 if mc.normalisation == "softmax" else 1, 0], -1, -2))
        scales.append(scale)
    ent_n = max(len(o["ent"]) for o in outs)

    def pad(a):  # test sets differ in size between data sets
        return np.concatenate([a, np.full((ent_n - len(a),) + a.shape[1:], np.nan)]) if len(a) < ent_n else a

    def stack2(key):
        side = max(o[key].shape[0] for o in outs)
        arr = np.full((len(outs), side, side), np.nan)
        for i, o in enumerate(outs):
            arr[i, : o[key].shape[0], : o[key].shape[1]] = o[key]
        return arr

    h = _history_arrays([o["entry"] for o in outs])
    col = lambda k: np.array([o[k] for o in outs])  # noqa: E731
    return TrainedResult(
        c, np.arange(1, paths[0].shape[0] + 1), col("path"), col("corr"), np.array(rand), np.array(scales),
        col("out"), np.array([pad(o["ent"]) for o in outs]), np.array([pad(o["mx"]) for o in outs]),
        stack2("map"), stack2("img"), col("conv"), col("trace"), col("sstd"), col("accn"),
        np.array([float(o["entry"]["final_test_acc"]) for o in outs]), h["epoch"], h["train_loss"], h["test_acc"],
        h["col_dev"], h["row_dev"], h["row_entropy"], h["cpu_s"], h["col_dev_layers"],
        np.array([float(o["entry"].get("cpu_s", np.nan)) for o in outs]),
        np.array([float(o["entry"].get("wall_s", np.nan)) for o in outs]),
    )


def _experiment() -> TrainedResult:
    return trained_experiment(default_config())
