r"""Chapter 6's per-model analysis: one trained ViT in, its pre-registered summaries out.

Everything here follows ``dsmlib/trained/PREREGISTRATION.md`` (section 4): one number (or
one curve) per model and claim, computed by float64 numpy inference on **the whole test
split**, from the stored float32 weights. :func:`model_summary` is disk-cached per model
with the weights file as a declared input (its sha256 is part of the key and is verified on
every call, cached or not); :func:`ensemble_experiment` stacks the summaries of every
stored model, so a new seed costs one model's analysis. :func:`setting_summary` gives RC-DS's
summaries (the same functions) for the runs of its registered second reading, Sinkformers' own
MNIST setting (attention-only, one layer, one head), cached and verified the same way.

The inference of one model is done once and shared by every claim: the full forward pass
(attention, scores, block outputs), the three ablated forwards of RC Sec. 4 (outputs only),
and, for Sinkhorn models, the forward passes of RC-CONV (training convention vs converged).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from ... import _kernels
from ..._kernels.shuffle import shuffled_colsums
from ...attention import sample_paths
from ...cache import disk_cached
from ...sinkhorn import row_softmax, sinkhorn
from ...spectra import rank_one_residual
from ...trained import data as tdata
from ...trained import model as tm

DATASETS = ("mnist", "digits")
NORMS = ("softmax", "sinkhorn")
#: the pre-registered ensemble: seeds 0-7 per (data set, normalisation)
SEEDS = tuple(range(8))
#: RC Sec. 4's inference settings: name -> (skip, ff)
SETTINGS = {"pure": (False, False), "san_skip": (True, False), "san_ff": (False, True), "full": (True, True)}
#: readings of a path product: plain P_t; each factor (I + P)/2; each factor replaced by I
#: with probability 1/2 (context only: a plain product at half the depth)
READINGS = ("plain", "skip", "identity")
#: RC-DS's second reading (PREREGISTRATION.md section 4): Sinkformers' own MNIST setting (1 layer,
#: 1 head, attention-only ViT, lr 2e-3, batch 10, 30 epochs), 8 Softmax runs trained by
#: ``python -m dsmlib.trained.train --setting sinkformers --normalisation softmax --seed S``; their
#: names carry this data-set tag (``dsmlib.trained.train.setting_name``), apart from the ensemble's
SF_TAG = "mnist_sfsetting"


@dataclass(frozen=True)
class EnsembleConfig:
    """Sampling of the analysis (PREREGISTRATION.md section 4).

    Attributes
    ----------
    n_paths : int
        Paths per depth (RC Sec. 4.1; the paper uses 100).
    path_seed : int
        Seed of the path sampling, shared by every model of a data set.
    random_seed : int
        Seed of the App. G random products.
    shuffle_seed : int
        Seed of RC-DS's row-shuffle null.
    floor : float
        Curves are used only while they stay at or above this value (the float64 floor of
        the products is near 1e-16).
    converged_tol, converged_iters : float, int
        RC-CONV's reference normalisation: Sinkhorn until the marginal error is below
        ``converged_tol``, at most ``converged_iters`` iterations.
    chunk : int
        Test images per forward batch (memory only; results do not depend on it).
    """

    n_paths: int = 1000
    path_seed: int = 0
    random_seed: int = 0
    shuffle_seed: int = 0
    floor: float = 1e-9
    converged_tol: float = 1e-12
    converged_iters: int = 10_000
    chunk: int = 200


@dataclass(frozen=True)
class ModelSummary:
    """The pre-registered per-model summaries of one trained ViT.

    Attributes
    ----------
    name, dataset, normalisation : str
    seed : int
    sha256 : str
        Of the weights file analysed.
    n_test : int
        Test images analysed (the whole split).
    acc : float
        Test accuracy of the float64 numpy forward.
    acc_log : float
        Final test accuracy in the training log (JAX float32).
    entropy_l1 : float
        RC-F1: mean row entropy (nats) of layer-1 attention over heads, rows, images.
    same_scores_gap : float
        RC-F1, same scores: mean over layer-1 heads, rows and images of
        ``H(Sinkhorn_50(S)) - H(softmax(S))`` on the model's own scores.
    path_median : ndarray, shape (3, L)
        RC-F3: median over paths of RC Eq. 11's normalised residual at depth t = 1..L for
        the readings :data:`READINGS`.
    random_median : ndarray, shape (L,)
        RC-GT: the same for App. G random products at score scale ``score_sd``.
    score_sd : float
        Median over layers, heads and images of the within-matrix SD of ``QK^T/sqrt(d)``.
    q : ndarray, shape (4, L)
        RC-F4: mean over images of ``||res(X_l)||_2 / ||X_l||_2`` per layer, settings
        :data:`SETTINGS`.
    col_dev, col_dev_shuffled : float
        RC-DS: mean column-sum deviation ``||1^T P - 1^T||_1 / n`` of the full forward's
        attention, and after permuting each row's entries (same row entropies).
    hist_col_dev : ndarray, shape (E + 1,)
        The training log's probe-batch column deviation per epoch (epoch 0 = untrained).
    conv_changed, conv_logit : float
        RC-CONV (NaN for Softmax models): share of test predictions that change between
        the training convention (float32, 50 half-steps) and a converged float64
        normalisation; largest absolute logit change.
    conv_changed_trunc : float
        The same between float64 with 50 half-steps and converged (truncation alone).
    conv_within : float
        Share of attention matrices with marginal error <= 1e-3 after 50 float32 half-steps.
    conv_median_err : float
        Median marginal error after 50 float32 half-steps.
    example_map : ndarray, shape (n, n)
        Layer 1, head 0 attention of test image 0 (figure).
    cpu_s, wall_s : float
        Training cost from the manifest.
    """

    name: str
    dataset: str
    normalisation: str
    seed: int
    sha256: str
    n_test: int
    acc: float
    acc_log: float
    entropy_l1: float
    same_scores_gap: float
    path_median: NDArray[np.float64]
    random_median: NDArray[np.float64]
    score_sd: float
    q: NDArray[np.float64]
    col_dev: float
    col_dev_shuffled: float
    hist_col_dev: NDArray[np.float64]
    conv_changed: float
    conv_logit: float
    conv_changed_trunc: float
    conv_within: float
    conv_median_err: float
    example_map: NDArray[np.float64]
    cpu_s: float
    wall_s: float


@dataclass(frozen=True)
class SettingSummary:
    """RC-DS's per-model summaries of one run of its second reading (Sinkformers' MNIST
    setting, :data:`SF_TAG`): the fields of :class:`ModelSummary` that RC-DS reads, computed
    the same way (:func:`ds_deviations`, :func:`history_col_dev`).

    Attributes
    ----------
    name : str
    seed : int
    sha256 : str
        Of the weights file analysed.
    n_test : int
        Test images analysed (the whole MNIST test split).
    acc, acc_log : float
        Test accuracy of the float64 numpy forward, and the training log's final one.
    col_dev, col_dev_shuffled : float
        Mean column-sum deviation of the attention on the whole test split, and after the
        row-shuffle null (``default_rng(shuffle_seed)``).
    hist_col_dev : ndarray, shape (E + 1,)
        The training log's probe-batch column deviation per epoch (epoch 0 = untrained).
    cpu_s, wall_s : float
        Training cost from the manifest.
    """

    name: str
    seed: int
    sha256: str
    n_test: int
    acc: float
    acc_log: float
    col_dev: float
    col_dev_shuffled: float
    hist_col_dev: NDArray[np.float64]
    cpu_s: float
    wall_s: float


# ---------------------------------------------------------------------------------------
# pieces (pure, batched)
# ---------------------------------------------------------------------------------------
def row_entropy(P: NDArray) -> NDArray[np.float64]:
    """Row entropies (nats) of stochastic matrices (..., n, n); shape (..., n)."""
    P = np.asarray(P, dtype=np.float64)
    return -(P * np.log(np.maximum(P, 1e-300))).sum(-1)


def col_deviation(P: NDArray) -> NDArray[np.float64]:
    r"""Column-sum deviation :math:`\|\mathbf 1^\top P - \mathbf 1^\top\|_1 / n` of (..., n, n); shape (...)."""
    P = np.asarray(P, dtype=np.float64)
    return _deviation_of_colsums(P.sum(-2))


def _deviation_of_colsums(c: NDArray[np.float64]) -> NDArray[np.float64]:
    """:func:`col_deviation` from the column sums (..., n); shape (...)."""
    return np.abs(c - 1.0).sum(-1) / c.shape[-1]


def marginal_error(P: NDArray) -> NDArray[np.float64]:
    """max(|P 1 - 1|_inf, |1^T P - 1^T|_inf) over the last two axes; shape (...)."""
    P = np.asarray(P, dtype=np.float64)
    return np.maximum(np.abs(P.sum(-1) - 1).max(-1), np.abs(P.sum(-2) - 1).max(-1))


def shuffle_rows(P: NDArray, rng: np.random.Generator) -> NDArray[np.float64]:
    """Permute the entries of every row of (..., n, n) independently (row entropies kept)."""
    keys = rng.random(P.shape)
    return np.take_along_axis(P, np.argsort(keys, axis=-1), axis=-1)


def shuffled_col_deviation(P: NDArray, rng: np.random.Generator) -> NDArray[np.float64]:
    """``col_deviation(shuffle_rows(P, rng))`` of (L, ..., n, n), shape (L, ...), without the
    shuffled copy: the keys are drawn one leading index at a time (the same stream as one
    draw of ``P.shape``) and the compiled kernel sorts and sums each row in place (numpy,
    one leading index at a time, without numba or with ``DSMLIB_KERNELS=0``); equal to
    :func:`shuffle_rows` then :func:`col_deviation` bit for bit."""
    P = np.asarray(P, dtype=np.float64)
    out = np.empty(P.shape[:-2])
    for i in range(P.shape[0]):
        keys = rng.random(P[i].shape)
        sums = shuffled_colsums(P[i], keys) if _kernels.ENABLED else None
        if sums is None:
            sums = np.take_along_axis(P[i], np.argsort(keys, axis=-1), axis=-1).sum(-2)
        out[i] = _deviation_of_colsums(sums)
    return out


def ds_deviations(A: NDArray, shuffle_seed: int) -> tuple[float, float]:
    """RC-DS part 2 of one model: ``(c_trained, c_shuffled)``, the mean :func:`col_deviation` of
    its attention ``A`` (..., n, n) and of ``A`` after :func:`shuffle_rows` with
    ``default_rng(shuffle_seed)`` (same row entropies)."""
    shuffled = shuffled_col_deviation(A, np.random.default_rng(shuffle_seed))
    return float(col_deviation(A).mean()), float(shuffled.mean())


def history_col_dev(hist: dict) -> NDArray[np.float64]:
    """RC-DS part 1 of one model: the training log's probe-batch column deviation per epoch
    (mean over layers; epoch 0 = untrained)."""
    return np.array([np.mean(v) for v in hist["col_dev"]], dtype=np.float64)


def spec_norm(M: NDArray) -> NDArray[np.float64]:
    """Spectral norm over the last two axes via the smaller Gram matrix; shape (...).

    With the compiled kernels, the largest eigenvalue of that Gram matrix comes from
    :func:`dsmlib._kernels.gram_top2` (error of order n eps lambda_1, as LAPACK's; about four
    times faster than forming the Gram matrices and calling ``eigvalsh``), else from numpy."""
    n, d = M.shape[-2:]
    if _kernels.ENABLED and min(n, d) >= 2 and M.size:
        A = M if n <= d else np.swapaxes(M, -1, -2)
        l1, _, c = _kernels.gram_top2(np.reshape(A, (-1,) + A.shape[-2:]), "M")
        return (c * np.sqrt(np.maximum(l1, 0.0))).reshape(M.shape[:-2])
    G = M @ np.swapaxes(M, -1, -2) if n <= d else np.swapaxes(M, -1, -2) @ M
    return np.sqrt(np.maximum(np.linalg.eigvalsh(G)[..., -1], 0.0))


def residual_ratio(X: NDArray) -> NDArray[np.float64]:
    r"""RC Eq. 12: :math:`\|X - \mathbf 1 \bar x^\top\|_2 / \|X\|_2` for (..., n, d); shape (...)."""
    X = np.asarray(X, dtype=np.float64)
    return spec_norm(X - X.mean(-2, keepdims=True)) / spec_norm(X)


def path_sample(n_layers: int, n_heads: int, n_images: int, n_paths: int, seed: int):
    """Paths of RC Sec. 4.1 for every depth 1..n_layers, and the identity reading's mask.

    Returns
    -------
    layers, heads, images : list of ndarray, entry t-1 of shape (n_paths, t)
    skip : list of ndarray of bool, entry t-1 of shape (n_paths, t): factors replaced by I
        (each with probability 1/2)
    """
    rng = np.random.default_rng(seed)
    out = ([], [], [], [])
    for t in range(1, n_layers + 1):
        ly, hd, im = sample_paths(n_layers, n_heads, n_images, t, n_paths, rng=rng)
        for lst, a in zip(out, (ly, hd, im, rng.random((n_paths, t)) < 0.5)):
            lst.append(a)
    return out


def path_medians(A: NDArray, paths) -> NDArray[np.float64]:
    """Median over paths of RC Eq. 11's residual, per reading and depth.

    Parameters
    ----------
    A : ndarray, shape (L, N, H, n, n)
        Attention of every layer, image and head.
    paths : tuple
        From :func:`path_sample`.

    Returns
    -------
    ndarray, shape (3, L)
        Readings :data:`READINGS` x depth.
    """
    layers, heads, images, skip = paths
    n = A.shape[-1]
    eye = np.eye(n)
    out = np.empty((len(READINGS), len(layers)))
    for t, (ly, hd, im, sk) in enumerate(zip(layers, heads, images, skip), start=1):
        F = A[ly, im, hd]  # (m, t, n, n)
        for r, G in enumerate((F, 0.5 * (eye + F), np.where(sk[..., None, None], eye, F))):
            prod = G[:, 0]
            for i in range(1, t):
                prod = prod @ G[:, i]
            out[r, t - 1] = np.median(rank_one_residual(prod))
    return out


def random_medians(n: int, depth: int, n_paths: int, scale: float, normalisation: str, seed: int,
                   n_half_steps: int = 50) -> NDArray[np.float64]:
    """RC App. G: median residual of products of ``t`` independent random attention matrices,
    scores ``N(0, scale^2)``, normalised like the model; shape (depth,)."""
    rng = np.random.default_rng(seed)
    S = scale * rng.standard_normal((depth, n_paths, n, n))
    P = row_softmax(S) if normalisation == "softmax" else tm.fast_sinkhorn(S, n_half_steps)
    out = np.empty(depth)
    prod = P[0]
    out[0] = np.median(rank_one_residual(prod))
    for t in range(1, depth):
        prod = prod @ P[t]
        out[t] = np.median(rank_one_residual(prod))
    return out


def _converged(S: NDArray, c: EnsembleConfig) -> NDArray[np.float64]:
    return sinkhorn(S, n_iter=c.converged_iters, tol=c.converged_tol, warn=False)


# ---------------------------------------------------------------------------------------
# one model
# ---------------------------------------------------------------------------------------
def _verified_digest(name: str, config: EnsembleConfig | None = None) -> dict[str, str]:
    """Cache-key material: the model's weights verified against the manifest (on every call,
    cached or not; a mismatch raises), as :func:`dsmlib.trained.model.weights_digest`."""
    return tm.weights_digest([name])


@disk_cached(key=_verified_digest)
def model_summary(name: str, config: EnsembleConfig | None = None) -> ModelSummary:
    """The pre-registered summaries of stored model ``name`` (see :class:`ModelSummary`).

    The weights' sha256 is verified against the manifest before use and is part of the
    cache key. Raises ``ValueError`` for an unknown or corrupted model."""
    c = EnsembleConfig() if config is None else config
    params, mc, entry = tm.load_model(name)
    sp = tdata.load(entry["dataset"])
    x, y = sp.x_test, sp.y_test
    N, L, H, n = len(x), mc.n_layers, mc.heads, mc.n_tokens
    A = np.empty((L, N, H, n, n))
    q = np.empty((len(SETTINGS), L, N))
    sd = np.empty((L, N, H))
    logits = np.empty((N, mc.n_classes))
    sink = mc.normalisation == "sinkhorn"
    conv = {k: np.empty((N, mc.n_classes)) for k in ("f32", "conv")} if sink else {}
    err = np.empty((L, N, H)) if sink else None
    ent1 = np.empty((N, H, n))
    gap1 = np.empty((N, H, n))
    # records go straight into A or into buffers reused by every chunk (no per-chunk copies)
    S_buf = np.empty((L, min(c.chunk, N), H, n, n))
    O_buf = np.empty((L, min(c.chunk, N), n, mc.d_model))
    P_buf = np.empty((L, min(c.chunk, N), H, n, n)) if sink else None
    for a in range(0, N, c.chunk):
        sl = slice(a, min(a + c.chunk, N))
        m = sl.stop - sl.start
        for k, (skip, ff) in SETTINGS.items():
            full = k == "full"
            out = {"outputs": O_buf[:, :m]}
            if full:
                out.update(scores=S_buf[:, :m], attention=A[:, sl])
            run = tm.forward(params, mc, x[sl], skip=skip, ff=ff, record=True if full else "outputs", out=out)
            q[list(SETTINGS).index(k), :, sl] = residual_ratio(run.outputs)
            if full:
                S = run.scores
                sd[:, sl] = S.std(axis=(-2, -1))
                logits[sl] = run.logits
                ent1[sl] = row_entropy(run.attention[0])
                gap1[sl] = row_entropy(tm.fast_sinkhorn(S[0], 50)) - row_entropy(row_softmax(S[0]))
        if sink:  # RC-CONV: the training convention (float32, 50 log-domain half-steps) vs converged
            # (a float32 pass turns float64 after the first GELU; its records are kept in float64)
            run32 = tm.forward(params, mc, x[sl], dtype=np.float32, record=True,
                               out={"scores": S_buf[:, :m], "attention": P_buf[:, :m], "outputs": O_buf[:, :m]})
            conv["f32"][sl] = run32.logits
            err[:, sl] = marginal_error(run32.attention)
            conv["conv"][sl] = tm.forward(params, mc, x[sl], normaliser=lambda S_: _converged(S_, c)).logits
    paths = path_sample(L, H, N, c.n_paths, c.path_seed)
    score_sd = float(np.median(sd))
    col_dev, col_dev_shuffled = ds_deviations(A, c.shuffle_seed)
    if sink:
        pred = logits.argmax(-1)
        p32, pconv = conv["f32"].argmax(-1), conv["conv"].argmax(-1)
        conv_vals = (float(np.mean(p32 != pconv)), float(np.abs(conv["f32"] - conv["conv"]).max()),
                     float(np.mean(pred != pconv)), float(np.mean(err <= 1e-3)), float(np.median(err)))
    else:
        conv_vals = (np.nan,) * 5
    hist = entry["history"]["data"]
    return ModelSummary(
        name=name, dataset=entry["dataset"], normalisation=mc.normalisation, seed=int(entry["seed"]),
        sha256=entry["weights"]["sha256"], n_test=N, acc=float(np.mean(logits.argmax(-1) == y)),
        acc_log=float(entry["final_test_acc"]), entropy_l1=float(ent1.mean()), same_scores_gap=float(gap1.mean()),
        path_median=path_medians(A, paths),
        random_median=random_medians(n, L, c.n_paths, score_sd, mc.normalisation, c.random_seed),
        score_sd=score_sd, q=q.mean(-1), col_dev=col_dev, col_dev_shuffled=col_dev_shuffled,
        hist_col_dev=history_col_dev(hist),
        conv_changed=conv_vals[0], conv_logit=conv_vals[1], conv_changed_trunc=conv_vals[2],
        conv_within=conv_vals[3], conv_median_err=conv_vals[4], example_map=A[0, 0, 0].copy(),
        cpu_s=float(entry.get("cpu_s", np.nan)), wall_s=float(entry.get("wall_s", np.nan)),
    )


@disk_cached(key=_verified_digest)
def setting_summary(name: str, config: EnsembleConfig | None = None) -> SettingSummary:
    """RC-DS's summaries of stored model ``name`` of its second reading (see
    :class:`SettingSummary`): the model's attention on the whole test split by the numpy
    forward (float64), the row-shuffle null and the training log, as :func:`model_summary`
    computes them. Verified and cached like :func:`model_summary` (the weights digest is part
    of the key)."""
    c = EnsembleConfig() if config is None else config
    params, mc, entry = tm.load_model(name)
    sp = tdata.load(entry["dataset"])
    x, y = sp.x_test, sp.y_test
    N, n = len(x), mc.n_tokens
    A = np.empty((mc.n_layers, N, mc.heads, n, n))
    logits = np.empty((N, mc.n_classes))
    for a in range(0, N, c.chunk):
        sl = slice(a, min(a + c.chunk, N))
        run = tm.forward(params, mc, x[sl], record=True)
        A[:, sl] = run.attention
        logits[sl] = run.logits
    col_dev, col_dev_shuffled = ds_deviations(A, c.shuffle_seed)
    return SettingSummary(
        name=name, seed=int(entry["seed"]), sha256=entry["weights"]["sha256"], n_test=N,
        acc=float(np.mean(logits.argmax(-1) == y)), acc_log=float(entry["final_test_acc"]),
        col_dev=col_dev, col_dev_shuffled=col_dev_shuffled,
        hist_col_dev=history_col_dev(entry["history"]["data"]),
        cpu_s=float(entry.get("cpu_s", np.nan)), wall_s=float(entry.get("wall_s", np.nan)),
    )


# ---------------------------------------------------------------------------------------
# the ensemble
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EnsembleResult:
    """Summaries of every stored model of the pre-registered ensemble.

    Attributes
    ----------
    models : tuple of ModelSummary
        Dataset-major, then normalisation, then seed.
    config : EnsembleConfig
    sinkformers : tuple of SettingSummary
        RC-DS's second reading: the stored Softmax runs in Sinkformers' MNIST setting, in
        seed order (empty if none is stored).
    """

    models: tuple[ModelSummary, ...]
    config: EnsembleConfig = field(default_factory=EnsembleConfig)
    sinkformers: tuple[SettingSummary, ...] = ()

    def arm(self, dataset: str, normalisation: str, seeds: tuple[int, ...] = SEEDS) -> list[ModelSummary]:
        """The stored runs of one (data set, normalisation), in seed order."""
        return [m for m in self.models if m.dataset == dataset and m.normalisation == normalisation
                and m.seed in seeds]

    def of(self, dataset: str, seeds: tuple[int, ...] = SEEDS) -> list[ModelSummary]:
        """Every stored run of a data set (both normalisations)."""
        return [m for m in self.models if m.dataset == dataset and m.seed in seeds]


def stored_models() -> tuple[str, ...]:
    """Names of the pre-registered ensemble's models present in the manifest."""
    man = tm.read_manifest()
    names = [tm.model_name(d, nm, s) for d in DATASETS for nm in NORMS for s in SEEDS]
    return tuple(m for m in names if m in man)


def sinkformers_names(seeds: tuple[int, ...] = SEEDS) -> tuple[str, ...]:
    """Names of RC-DS's second-reading runs (Softmax, Sinkformers' MNIST setting), e.g.
    ``mnist_sfsetting_softmax_s0``."""
    return tuple(tm.model_name(SF_TAG, "softmax", s) for s in seeds)


def stored_sinkformers_models() -> tuple[str, ...]:
    """Names of RC-DS's second-reading runs present in the manifest, in seed order."""
    man = tm.read_manifest()
    return tuple(m for m in sinkformers_names() if m in man)


def ensemble_experiment(config: EnsembleConfig | None = None, models: tuple[str, ...] | None = None,
                        setting_models: tuple[str, ...] | None = None) -> EnsembleResult:
    """:func:`model_summary` of every stored model of the ensemble and :func:`setting_summary` of
    every stored run of RC-DS's second reading (``setting_models``, default
    :func:`stored_sinkformers_models`); each cached on its own, verified on use."""
    from ..._parallel import process_map

    c = EnsembleConfig() if config is None else config
    names = list(stored_models() if models is None else models)
    if not names:
        raise ValueError("no trained model of the ensemble is stored")
    # the costliest first (MNIST before digits, Sinkhorn's six forward passes before Softmax's
    # four), so that no worker is left with a long model at the end
    # (every call names the config as a keyword: the cache keys calls by how they are written)
    summary = functools.partial(model_summary, config=c)
    cold = sorted((m for m in names if not model_summary.cached(m, config=c)),
                  key=lambda m: (m.startswith("mnist"), "sinkhorn" in m), reverse=True)
    done = dict(zip(cold, process_map(summary, cold)))
    sf = stored_sinkformers_models() if setting_models is None else setting_models
    return EnsembleResult(tuple(done[m] if m in done else summary(m) for m in names), c,
                          tuple(setting_summary(m, config=c) for m in sf))
