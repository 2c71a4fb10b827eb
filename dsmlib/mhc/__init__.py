r"""Doubly stochastic residual mixers of mHC (Manifold-Constrained Hyper-Connections).

mHC widens the residual stream to :math:`n` streams (an :math:`n\times C` block
:math:`x_l`) and mixes them at every sublayer,

.. math::

    x_{l+1} = A(H^{res}_l)\, x_l + {H^{post}_l}^\top F(H^{pre}_l x_l),

where :math:`A(H) = H` (the mHC paper, Eq. 2 as transcribed in NVIDIA/Megatron-LM
issue #2919) or :math:`A(H) = H^\top` (every implementation read here: DeepSeek-V4's
``hc_post``, Megatron's ``apply_h_res``, and the einsums of the three reimplementations).
:math:`H^{res}` is pushed towards the Birkhoff polytope, by a *fixed* number of
Sinkhorn-Knopp steps (so only approximately doubly stochastic) or, in mHC-lite, exactly,
as a convex mixture of the :math:`n!` permutation matrices. This module computes
:math:`H^{res}` (and :math:`H^{pre}, H^{post}`) recipe by recipe, step for step as each
code does it, in float64, float32 or bfloat16 arithmetic, plus the depth diagnostics of
HT (:math:`\sigma_2` of products, HT Lemma 2 / HT-R2) and the mHC paper's Amax gain.

Recipes
-------
:data:`RECIPES`, each read in the public source named (commit where known):

``v4``
    DeepSeek-V4 reference inference code: ``hc_split_sinkhorn`` of ``inference/kernel.py``
    (the TileLang kernel, read in Anshler/deepseek-v4-with-attention-residuals; the torch
    port in Nicooo-Wang/DeepSeek-V4-Pro-code agrees) and ``Block.hc_pre``/``hc_post`` of
    ``inference/model.py`` (Nicooo-Wang/DeepSeek-V4-Pro-code). ``comb = softmax(comb, -1)
    + eps``, ``comb /= comb.sum(-2) + eps``, then 19 x (row, column), each ``/ (sum +
    eps)``; hc_mult 4, hc_sinkhorn_iters 20, hc_eps 1e-6; all FP32; ``pre = sigmoid +
    eps``, ``post = 2 sigmoid``; ``hc_post`` sums ``comb[j, k] x_j`` over ``j`` (applies
    ``comb^T``). Inference only: no initialisation is published; :func:`init_logits`
    assumes the paper's.
``paper``
    The mHC paper's Eqs. 14-19 as transcribed in NVIDIA/Megatron-LM issue #2919:
    :math:`\bar H = \alpha\,(\tilde x\varphi)/r + b`, :math:`r = \|\tilde x\|_2/\sqrt{nC}`,
    :math:`H^{pre} = \sigma`, :math:`H^{post} = 2\sigma`, :math:`H^{res}` = Sinkhorn-Knopp:
    :math:`M^{(0)} = e^{\bar H}`, :math:`M^{(t)} = T_c(T_r(M^{(t-1)}))` 20 times; no eps,
    no max-shift (so written in Megatron's first ``hyper_connection.py``, commit cc301be,
    with a 1e-8 clamp); :math:`H^{res}` applied untransposed (Eq. 2).
``megatron``
    NVIDIA/Megatron-LM ``megatron/core/transformer/hyper_connection.py`` (commit 023f5cf):
    ``_sinkhorn_iterations_native`` is the V4 scheme (eps 1e-6); mappings in FP32, then
    ``h_res.to(dtype)``; ``apply_h_res`` is ``H_res.T @ x``; ``b = 0``, Xavier-uniform
    ``mapping_proj``, alpha = ``mhc_init_gating_factor`` (0.01), so :math:`H^{res} \approx
    J/n` at initialisation. No ``high_precision_mhc`` switch in this version (the mapping
    is always FP32); its low-precision variant is ``dataclasses.replace(r, upcast=False)``.
``lucidrains``
    lucidrains/hyper-connections ``hyper_connections/manifold_constrained_hyper_connections.py``
    (commits 647abdf, 072bc2f): ``sinkhorn_knopps`` in fp32, minus the column max, ``exp``,
    20 x (``F.normalize(p=1, dim=-2)``, ``dim=-1``): (column, row), sums floored at 1e-12;
    static logits ``eye(n)``, ``residual_scale`` 1e-2, dynamic weights zero at init;
    mixing ``'... s t, ... s d -> ... t d'`` (transposed). Read, not run: in both versions
    ``'... (v s1 s2)'`` splits a last axis of length n, and ``width_connection`` returns
    the *unmixed* residuals; we implement the evident intent (an n x n Sinkhorn).
``tokenbender``
    tokenbender/mHC-manifold-constrained-hyper-connections
    ``hyper_connections/hyper_connections_mhc.py``: ``sinkhorn_log``, ``Z = logits / tau``
    (tau 0.05), potentials ``u, v`` from 0, 10 x (``u = -lse(Z + v, -1)``,
    ``v = -lse(Z + u, -2)``), ``exp(Z + u + v)``; a static parameter, 0 on the diagonal and
    -8 off; mixing transposed; ``H_pre``/``H_post`` are softmaxes of static logits.
``mhc_lite_sinkhorn``
    FFTYYY/mhc-lite ``hyper_conn/mhc.py``: not in the search index; read in its copies
    Dlowzz/mHC_experiments and alyubinin/tbp-mHC (same path, same ``sinkhorn_knopps``):
    20 x (``L -= lse(L, -2)``, ``L -= lse(L, -1)``), ``exp``; static logits 0 / -8,
    ``residual_scale`` 1e-2, dynamic weights zero; flattened RMSNorm; pre sigmoid, post
    2 sigmoid; mixing transposed; no dtype casts.
``mhc_lite``
    mHC-lite (arXiv 2601.05732), ``hyper_conn/mhc_lite.py`` (same copies):
    :math:`H^{res} = \sum_k \operatorname{softmax}(L)_k P_k` over the :math:`n!`
    permutation matrices (``itertools.permutations`` order, identity first,
    :math:`(P_k)_{i,\pi_k(i)} = 1`); static logits -8 except 0 for the identity; logits of
    shape ``(..., n!)``. Exactly doubly stochastic in exact arithmetic.

Precision: float64 and float32 run natively. bfloat16 (``ml_dtypes.bfloat16``) emulates
PyTorch on bf16 tensors: each elementwise op or reduction is evaluated in float32 and its
result rounded to bf16 (round to nearest even). Recipes whose code upcasts (``v4``,
``megatron``, ``lucidrains``: ``upcast=True``) run in float32 when bf16 is asked for;
``megatron`` then casts :math:`H` to bf16 (``cast_back=True``), the others hand over float32.
"""

from __future__ import annotations

from .coefficients import coefficients, init_logits
from .diagnostics import amax_gain, ds_error, product_sigma2
from .mixers import h_res, permutation_matrices
from .precision import BFLOAT16, MAX_PERMUTATION_N
from .recipes import RECIPES, Coefficients, Recipe

__all__ = [
    "BFLOAT16",
    "MAX_PERMUTATION_N",
    "RECIPES",
    "Coefficients",
    "Recipe",
    "amax_gain",
    "coefficients",
    "ds_error",
    "h_res",
    "init_logits",
    "permutation_matrices",
    "product_sigma2",
]
