r"""Chapter 6's ViT with four residual streams mixed by mHC (numpy float64 inference).

The model of the book's trained mHC check (``dsmlib/trained/MHC_PREREGISTRATION.md``):
chapter 6's ViT (:mod:`dsmlib.trained.model`: patch embedding, CLS token, learned positions,
pre-LN attention and GELU feed-forward sub-blocks, Softmax attention) whose single residual
stream is widened to ``n_streams`` streams, an ``n x C`` block per token. Every sub-block
(attention and feed-forward: two mHC *sites* per block, ``2 n_layers`` in all) updates

.. math:: x \leftarrow A(H^{res})\, x + {H^{post}}^\top F(H^{pre} x),\qquad A(H) = H^\top,

with the coefficients of :func:`dsmlib.mhc.coefficients` (mHC Eqs. 14-19): the flattened
stream RMS-normalised, times a projection :math:`\varphi`, each of pre / post / res scaled by
its own :math:`\alpha` (initialised to 0.01) plus a static bias; :math:`H^{pre} = \sigma`,
:math:`H^{post} = 2\sigma`. The recipe is FFTYYY/mhc-lite's pair (:data:`ARMS`), so that the
two doubly stochastic arms differ only in how :math:`H^{res}` is made:

* ``identity`` -- :math:`H^{res} = I` (hyper-connections without residual mixing);
* ``mhc`` -- recipe ``mhc_lite_sinkhorn``: 20 log-domain Sinkhorn-Knopp iterations (column,
  row) of :math:`e^{L}`, static logits 0 on the diagonal and -8 off;
* ``mhc_lite`` -- recipe ``mhc_lite``: softmax mixture of the 24 permutation matrices,
  static logit 0 for the identity and -8 for the others.

As in that code: the input embedding is repeated onto every stream, the streams are summed
before the final LayerNorm; :math:`\varphi` starts at zero; the static pre and post biases
are +1 for one stream (site ``j`` uses stream ``j mod n``) and -1 for the others; the stream
mixing applies :math:`H^\top` (``Recipe.transpose_on_apply``). One departure: the RMSNorm's
learnable gain (1 at initialisation) is fixed at 1, so that :func:`dsmlib.mhc.coefficients`
computes the model's coefficients exactly.

Weights live in :data:`MHC_WEIGHTS_DIR` (or ``$DSMLIB_MHC_WEIGHTS_DIR``) with a
``manifest.json`` recording the sha256 of every file; :func:`load_model` verifies them on
every call (:func:`dsmlib.trained.model.load_verified`).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ..mhc import RECIPES, coefficients, init_logits
from .model import ViTConfig, _ln, attention_sublayer, ff_sublayer, load_verified
from .model import param_shapes as vit_param_shapes

#: arm -> the :data:`dsmlib.mhc.RECIPES` key of its coefficient path (``identity``: that of
#: ``mhc`` with :math:`H^{res} = I`)
ARMS = {"identity": "mhc_lite_sinkhorn", "mhc": "mhc_lite_sinkhorn", "mhc_lite": "mhc_lite"}
MHC_WEIGHTS_DIR = Path(__file__).parent / "mhc_weights"
TRAIN_COMMAND = "python -m dsmlib.trained.mhc_train --dataset {dataset} --arm {arm} --seed {seed}"


@dataclass(frozen=True)
class MHCConfig(ViTConfig):
    """Chapter 6's :class:`~dsmlib.trained.model.ViTConfig` (Softmax attention, ``n_layers`` 8
    by default) plus the residual mixer: ``arm`` (a key of :data:`ARMS`) and ``n_streams``."""

    n_layers: int = 8
    arm: str = "mhc"
    n_streams: int = 4

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.normalisation != "softmax":
            raise ValueError(f"the mHC models use Softmax attention, got normalisation={self.normalisation!r}")
        if self.arm not in ARMS:
            raise ValueError(f"arm must be one of {tuple(ARMS)}, got {self.arm!r}")
        for f in ("n_layers", "d_model", "heads", "d_head", "ff_mult", "n_patches", "patch_dim", "n_classes"):
            v = getattr(self, f)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"MHCConfig.{f} must be a positive integer, got {v!r}")
        if isinstance(self.n_streams, bool) or not isinstance(self.n_streams, int) or not (
                2 <= self.n_streams <= (6 if self.arm == "mhc_lite" else 64)):
            raise ValueError(f"n_streams must be an integer in [2, 64] ([2, 6] for mhc_lite), got {self.n_streams!r}")

    @property
    def n_sites(self) -> int:
        """mHC sites: two per block (attention, feed-forward)."""
        return 2 * self.n_layers

    @property
    def n_res(self) -> int:
        """Logits of :math:`H^{res}` per site: 0 (identity), :math:`n^2` (mhc), :math:`n!` (mhc_lite)."""
        return {"identity": 0, "mhc": self.n_streams ** 2, "mhc_lite": math.factorial(self.n_streams)}[self.arm]

    @property
    def n_coef(self) -> int:
        """Outputs of the projection :math:`\\varphi` per site: pre (n), post (n), res."""
        return 2 * self.n_streams + self.n_res

    def vit(self) -> ViTConfig:
        """The ViT part alone (its blocks, as chapter 6 builds them)."""
        return ViTConfig(**{f.name: getattr(self, f.name) for f in fields(ViTConfig)})


def param_shapes(c: MHCConfig) -> dict[str, tuple[int, ...]]:
    """The ViT's parameters plus, per site (stacked (n_layers, 2)): ``hc_phi`` (n_coef, n C),
    ``hc_alpha`` (3,) and ``hc_bias`` (n_coef,)."""
    L, n, R = c.n_layers, c.n_streams, c.n_coef
    return {**vit_param_shapes(c.vit()), "hc_phi": (L, 2, R, n * c.d_model), "hc_alpha": (L, 2, 3), "hc_bias": (L, 2, R)}


def init_hc(c: MHCConfig) -> dict[str, NDArray[np.float64]]:
    """The mHC parameters at initialisation (deterministic): :math:`\\varphi = 0`,
    :math:`\\alpha = 0.01`, static biases pre/post +1 on stream ``j mod n`` of site ``j`` and
    -1 elsewhere, res from :func:`dsmlib.mhc.init_logits` (0 / -8)."""
    L, n = c.n_layers, c.n_streams
    r = RECIPES[ARMS[c.arm]]
    one_hot = np.where(np.arange(n) == (np.arange(2 * L)[:, None] % n), 1.0, -1.0).reshape(L, 2, n)
    res = init_logits(r, n, batch=(L, 2)).reshape(L, 2, -1)[..., : c.n_res]
    return {"hc_phi": np.zeros((L, 2, c.n_coef, n * c.d_model)), "hc_alpha": np.full((L, 2, 3), r.alpha),
            "hc_bias": np.concatenate([one_hot, one_hot, res], axis=-1)}


def site_coefficients(x: NDArray, p: dict[str, NDArray], l: int, s: int, c: MHCConfig):
    """:math:`H^{pre}` (..., n), :math:`H^{post}` (..., n), :math:`H^{res}` (..., n, n) of site
    ``(l, s)`` on streams ``x`` (..., n, C), float64, by :func:`dsmlib.mhc.coefficients`."""
    n = c.n_streams
    phi, bias = p["hc_phi"][l, s], p["hc_bias"][l, s]
    if c.arm == "identity":  # the mhc path with zero res rows; H_res replaced by I
        pad = n * n
        phi = np.concatenate([phi, np.zeros((pad, phi.shape[1]))])
        bias = np.concatenate([bias, np.zeros(pad)])
    pre, post, res = coefficients(x, phi, p["hc_alpha"][l, s], bias, ARMS[c.arm])
    if c.arm == "identity":
        res = np.broadcast_to(np.eye(n), res.shape)
    return pre, post, res


@dataclass(frozen=True)
class MHCForward:
    """``logits`` (B, classes); ``h_res`` (B, T, 2L, n, n): every site's :math:`H^{res}` per
    token; ``stream_cos`` (B, T, 2L + 1): mean pairwise cosine of the ``n`` streams per token
    before the first site and after each site."""

    logits: NDArray[np.float64]
    h_res: NDArray[np.float64]
    stream_cos: NDArray[np.float64]


def mean_pairwise_cosine(x: NDArray) -> NDArray[np.float64]:
    """Mean over the :math:`n(n-1)/2` pairs of rows of ``x`` (..., n, C) of their cosine; shape (...)."""
    u = x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-300)
    G = u @ np.swapaxes(u, -1, -2)
    n = x.shape[-2]
    return (G.sum((-2, -1)) - np.trace(G, axis1=-2, axis2=-1)) / (n * (n - 1))


def forward(params: dict[str, NDArray], c: MHCConfig, x: NDArray) -> MHCForward:
    """Float64 forward of a batch ``x`` (B, n_patches, patch_dim), recording every
    :math:`H^{res}` and the streams' mean pairwise cosine (:class:`MHCForward`)."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 3 or x.shape[1:] != (c.n_patches, c.patch_dim):
        raise ValueError(f"x must have shape (B, {c.n_patches}, {c.patch_dim}), got {x.shape}")
    p = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
    B, vc = x.shape[0], c.vit()
    h = x @ p["patch_w"] + p["patch_b"]
    h = np.concatenate([np.broadcast_to(p["cls"], (B, 1, c.d_model)), h], axis=1) + p["pos"]
    X = np.repeat(h[:, :, None, :], c.n_streams, axis=2)  # (B, T, n, C)
    Hs, cos = [], [mean_pairwise_cosine(X)]
    for l in range(c.n_layers):
        for s in range(2):
            pre, post, res = site_coefficients(X, p, l, s, c)
            u = np.einsum("...s,...sd->...d", pre, X)
            F = attention_sublayer(u, p, l, vc)[0] if s == 0 else ff_sublayer(u, p, l)
            X = np.einsum("...st,...sd->...td", res, X) + post[..., :, None] * F[..., None, :]
            Hs.append(res)
            cos.append(mean_pairwise_cosine(X))
    hf = X.sum(-2)
    logits = _ln(hf[:, 0], p["lnf_g"], p["lnf_b"]) @ p["head_w"] + p["head_b"]
    return MHCForward(logits, np.stack(Hs, axis=2), np.stack(cos, axis=-1))


def weights_dir() -> Path:
    """``$DSMLIB_MHC_WEIGHTS_DIR`` if set (a test's folder, weights made elsewhere), else
    :data:`MHC_WEIGHTS_DIR`."""
    env = os.environ.get("DSMLIB_MHC_WEIGHTS_DIR")
    return Path(env) if env else MHC_WEIGHTS_DIR


def model_name(dataset: str, arm: str, seed: int) -> str:
    """``<dataset>_<arm>_s<seed>``, e.g. ``digits_mhc_lite_s3``."""
    return f"{dataset}_{arm}_s{seed}"


def load_model(name: str, folder: str | Path | None = None) -> tuple[dict[str, NDArray[np.float64]], MHCConfig, dict]:
    """``(params, config, entry)`` of stored model ``name``, sha256-verified on every call
    (:func:`dsmlib.trained.model.load_verified`); ``entry["history"]["data"]`` is the training log."""
    return load_verified(weights_dir() if folder is None else folder, name, MHCConfig, param_shapes,
                         "python -m dsmlib.trained.mhc_train")
