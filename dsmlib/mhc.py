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

import functools
import itertools
import math
import numbers
from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validate import as_float_array, check_dimension
from .sinkhorn import _generator
from .spectra import sigma2

__all__ = [
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

try:  # ml_dtypes comes with jax (requirements.txt); without it only float64 and float32 exist
    import ml_dtypes

    BFLOAT16: np.dtype | None = np.dtype(ml_dtypes.bfloat16)
except ImportError:  # pragma: no cover
    BFLOAT16 = None
_DTYPES = {"float64": np.dtype(np.float64), "float32": np.dtype(np.float32)}
if BFLOAT16 is not None:
    _DTYPES["bfloat16"] = BFLOAT16
#: largest n for which the n! permutation matrices are formed (8! x 8 x 8 floats = 21 MB)
MAX_PERMUTATION_N = 8


@dataclass(frozen=True)
class Recipe:
    r"""How one implementation computes :math:`H^{res}` (sources in the module notes).

    Attributes
    ----------
    name, source : str
        Recipe name; where it was read (repository and path).
    method : {'sinkhorn', 'permutations'}
        Truncated Sinkhorn-Knopp, or mHC-lite's softmax mixture of permutation matrices.
    iterations : int
        Sinkhorn iterations; one iteration is a ``first`` step, then the other one.
    domain : {'exp', 'log'}
        Divide :math:`e^{L}` by its sums, or subtract ``logsumexp`` from the log-matrix.
    first : {'row', 'col'}
        The step each iteration starts with.
    start : {'exp', 'softmax'}
        ``'softmax'``: a row softmax plus ``eps`` replaces the first row step (V4, Megatron).
    shift : {'none', 'row', 'col'}
        The maximum subtracted from the logits before ``exp`` (lucidrains: column).
    log_form : {'iterates', 'potentials'}
        Log domain: normalise ``L`` itself, or keep potentials ``u, v`` (tokenbender).
    tau, eps, floor : float
        Logits divided by ``tau``; ``eps`` added to every sum (and after the softmax
        start); every sum clamped below at ``floor`` (``F.normalize``'s 1e-12).
    upcast, cast_back : bool
        Arithmetic in at least float32 whatever the activation dtype; :math:`H` cast back
        to the activation dtype afterwards.
    transpose_on_apply : bool
        The code mixes the streams with :math:`H^\top` rather than :math:`H`.
    init, init_diag, init_offdiag, alpha
        Initial logits (:func:`init_logits`): ``'static'`` (``init_diag`` on the diagonal
        or for the identity permutation, ``init_offdiag`` elsewhere; dynamic part zero) or
        ``'projection'`` (:math:`\alpha\varphi\tilde x/r + b`, Xavier :math:`\varphi`,
        :math:`b` from ``init_diag``/``init_offdiag``); :math:`\alpha` the gating factor.
    rms, rms_eps, pre_eps
        Coefficient path (:func:`coefficients`): the RMS factor ``'inside'``
        :math:`(\overline{x^2}+\epsilon)^{-1/2}`, ``'outside'``
        :math:`(\overline{x^2}^{1/2}+\epsilon)^{-1}`, ``'clamp'``
        :math:`\sqrt{nC}/\max(\|x\|,\epsilon)`, or None (code not of Eqs. 14-19); the
        ``eps`` added to :math:`H^{pre} = \sigma(\cdot)`.
    """

    name: str
    source: str
    method: Literal["sinkhorn", "permutations"] = "sinkhorn"
    iterations: int = 20
    domain: Literal["exp", "log"] = "exp"
    first: Literal["row", "col"] = "row"
    start: Literal["exp", "softmax"] = "exp"
    shift: Literal["none", "row", "col"] = "none"
    log_form: Literal["iterates", "potentials"] = "iterates"
    tau: float = 1.0
    eps: float = 0.0
    floor: float = 0.0
    upcast: bool = False
    cast_back: bool = False
    transpose_on_apply: bool = True
    init: Literal["static", "projection"] = "static"
    init_diag: float = 0.0
    init_offdiag: float = 0.0
    alpha: float = 0.01
    rms: Literal["inside", "outside", "clamp"] | None = None
    rms_eps: float = 0.0
    pre_eps: float = 0.0

    def __post_init__(self) -> None:
        choices = {
            "method": ("sinkhorn", "permutations"), "domain": ("exp", "log"), "first": ("row", "col"),
            "start": ("exp", "softmax"), "shift": ("none", "row", "col"),
            "log_form": ("iterates", "potentials"), "init": ("static", "projection"),
            "rms": ("inside", "outside", "clamp", None),
        }
        for field, allowed in choices.items():
            if getattr(self, field) not in allowed:
                raise ValueError(f"Recipe.{field} must be one of {allowed}, got {getattr(self, field)!r}")
        if isinstance(self.iterations, bool) or not isinstance(self.iterations, int) or self.iterations < 1:
            raise ValueError(f"Recipe.iterations must be an integer >= 1, got {self.iterations!r}")
        for field in ("tau", "eps", "floor", "init_diag", "init_offdiag", "alpha", "rms_eps", "pre_eps"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
                raise ValueError(f"Recipe.{field} must be finite, got {getattr(self, field)!r}")
        if self.tau <= 0 or min(self.eps, self.floor, self.rms_eps, self.pre_eps) < 0:
            raise ValueError("Recipe.tau must be > 0 and eps, floor, rms_eps, pre_eps >= 0")
        if (self.start == "softmax" or self.log_form == "potentials") and self.first != "row":
            raise ValueError("Recipe: a softmax start or log potentials begin with a row step (first='row')")


RECIPES: dict[str, Recipe] = {
    r.name: r
    for r in (
        Recipe("v4", "DeepSeek-V4 inference/kernel.py hc_split_sinkhorn + inference/model.py hc_pre/hc_post",
               start="softmax", eps=1e-6, upcast=True, init="projection",
               rms="inside", rms_eps=1e-6, pre_eps=1e-6),
        Recipe("paper", "mHC paper Eqs. 14-19, as transcribed in NVIDIA/Megatron-LM issue #2919",
               transpose_on_apply=False, init="projection", rms="outside"),
        Recipe("megatron", "NVIDIA/Megatron-LM megatron/core/transformer/hyper_connection.py",
               start="softmax", eps=1e-6, upcast=True, cast_back=True, init="projection",
               rms="outside", rms_eps=1e-6, pre_eps=1e-6),
        Recipe("lucidrains", "lucidrains/hyper-connections "
               "hyper_connections/manifold_constrained_hyper_connections.py",
               first="col", shift="col", floor=1e-12, upcast=True, init_diag=1.0, init_offdiag=0.0),
        Recipe("tokenbender", "tokenbender/mHC-manifold-constrained-hyper-connections "
               "hyper_connections/hyper_connections_mhc.py",
               iterations=10, domain="log", log_form="potentials", tau=0.05,
               init_diag=0.0, init_offdiag=-8.0),
        Recipe("mhc_lite_sinkhorn", "FFTYYY/mhc-lite hyper_conn/mhc.py (read in copies: "
               "Dlowzz/mHC_experiments, alyubinin/tbp-mHC)", domain="log", first="col",
               init_diag=0.0, init_offdiag=-8.0, rms="clamp", rms_eps=1e-12),
        Recipe("mhc_lite", "FFTYYY/mhc-lite hyper_conn/mhc_lite.py, arXiv 2601.05732 (read in copies: "
               "Dlowzz/mHC_experiments, alyubinin/tbp-mHC)", method="permutations",
               init_diag=0.0, init_offdiag=-8.0, rms="clamp", rms_eps=1e-12),
    )
}


class Coefficients(NamedTuple):
    """:math:`H^{pre}` (..., n), :math:`H^{post}` (..., n) and :math:`H^{res}` (..., n, n)."""

    pre: np.ndarray
    post: np.ndarray
    res: np.ndarray


# ----------------------------------------------------------------------------- helpers


def _recipe(recipe: Recipe | str) -> Recipe:
    if isinstance(recipe, Recipe):
        return recipe
    if isinstance(recipe, str) and recipe in RECIPES:
        return RECIPES[recipe]
    raise ValueError(f"recipe must be a Recipe or one of {sorted(RECIPES)}, got {recipe!r}")


def _dtype(dtype: object) -> np.dtype:
    if dtype is None:
        raise ValueError("dtype must be float64, float32 or bfloat16, got None")
    try:
        key = dtype if isinstance(dtype, str) else np.dtype(dtype).name
    except TypeError as exc:
        raise ValueError(f"dtype must be float64, float32 or bfloat16, got {dtype!r}") from exc
    if key == "bfloat16" and BFLOAT16 is None:
        raise ValueError("dtype bfloat16 needs the ml_dtypes package (pip install ml_dtypes)")
    if key not in _DTYPES:
        raise ValueError(f"dtype must be float64, float32 or bfloat16, got {dtype!r}")
    return _DTYPES[key]


def _as_float64(
    x: ArrayLike, name: str, *, min_ndim: int = 0, check_finite: bool = True
) -> NDArray[np.float64]:
    """``x`` as float64; ml_dtypes arrays (bfloat16, ...: numpy kind 'V') are converted exactly first."""
    if isinstance(x, np.ndarray) and x.dtype.kind == "V" and x.dtype.fields is None:
        try:
            x = x.astype(np.float64)
        except (TypeError, ValueError):
            pass  # a raw void array: as_float_array rejects it with a message
    return as_float_array(x, name, min_ndim=min_ndim, check_finite=check_finite)


class _Arith:
    """Arithmetic of one precision: ``q`` rounds a float32/float64 result to the storage dtype."""

    def __init__(self, store: np.dtype):
        self.store = store
        self.work = np.dtype(np.float64) if store == np.float64 else np.dtype(np.float32)
        self.bf16 = BFLOAT16 is not None and store == BFLOAT16

    def q(self, x: np.ndarray) -> np.ndarray:
        return x.astype(BFLOAT16).astype(np.float32) if self.bf16 else x

    def load(self, x: NDArray[np.float64]) -> np.ndarray:
        return self.q(x.astype(self.work))


def _arith(recipe: Recipe, dtype: np.dtype) -> _Arith:
    return _Arith(np.dtype(np.float32) if (recipe.upcast and dtype.name == "bfloat16") else dtype)


def _out(x: np.ndarray, recipe: Recipe, dtype: np.dtype, ar: _Arith) -> np.ndarray:
    """Hand over ``x`` in the dtype the implementation hands it over in."""
    return x.astype(dtype if (recipe.cast_back or ar.bf16) else ar.work)


def _lse(x: np.ndarray, axis: int) -> np.ndarray:
    """``logsumexp`` along ``axis`` (keepdims), -inf where the whole slice is -inf."""
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0).astype(x.dtype)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        return m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


_AXIS = {"row": -1, "col": -2}
_OTHER = {"row": "col", "col": "row"}


def _sinkhorn_steps(L: np.ndarray, r: Recipe, ar: _Arith) -> np.ndarray:
    """The recipe's truncated Sinkhorn of ``exp(L / tau)``, op by op in ``ar``'s precision."""
    q = ar.q
    steps = [r.first, _OTHER[r.first]] * r.iterations
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        Z = q(L / r.tau) if r.tau != 1.0 else L
        if r.domain == "log" and r.log_form == "potentials":  # tokenbender: u, v from 0
            u = np.zeros(Z.shape[:-1], ar.work)
            v = np.zeros(Z.shape[:-1], ar.work)
            for _ in range(r.iterations):
                u = -q(_lse(q(Z + v[..., None, :]), -1))[..., 0]
                v = -q(_lse(q(Z + u[..., :, None]), -2))[..., 0, :]
            return q(np.exp(q(q(Z + u[..., :, None]) + v[..., None, :])))
        if r.domain == "log":
            for step in steps:
                Z = q(Z - q(_lse(Z, _AXIS[step])))
            return q(np.exp(Z))
        if r.shift != "none":
            Z = q(Z - np.max(Z, axis=_AXIS[r.shift], keepdims=True))
        if r.start == "softmax":  # V4 / Megatron: softmax(-1) + eps replaces the first row step
            M = q(q(_softmax(Z, -1)) + r.eps) if r.eps else q(_softmax(Z, -1))
            steps = steps[1:]
        else:
            M = q(np.exp(Z))
        for step in steps:
            s = q(np.sum(M, axis=_AXIS[step], keepdims=True))
            if r.eps:
                s = q(s + r.eps)
            if r.floor:
                s = q(np.maximum(s, r.floor))
            M = q(M / s)
    return M


def _permutation_mixture(L: np.ndarray, n: int, ar: _Arith) -> np.ndarray:
    a = ar.q(_softmax(L, -1))
    return ar.q(np.einsum("...k,kij->...ij", a, _permutations(n).astype(ar.work)))


def _n_from_factorial(m: int) -> int | None:
    for k in range(2, MAX_PERMUTATION_N + 1):
        if math.factorial(k) == m:
            return k
    return None


def _res_from_logits(L: np.ndarray, r: Recipe, ar: _Arith, name: str) -> np.ndarray:
    if r.method == "permutations":
        n = _n_from_factorial(L.shape[-1])
        if n is None:
            raise ValueError(f"{name} for recipe {r.name!r} must have shape (..., n!) with 2 <= n <= "
                             f"{MAX_PERMUTATION_N}, got shape {L.shape}")
        return _permutation_mixture(L, n, ar)
    if L.ndim < 2 or L.shape[-1] != L.shape[-2] or L.shape[-1] < 2:
        raise ValueError(
            f"{name} for recipe {r.name!r} must have shape (..., n, n) with n >= 2, got {L.shape}"
        )
    return _sinkhorn_steps(L, r, ar)


# ----------------------------------------------------------------------------- public API


@functools.lru_cache(maxsize=None)
def _permutations(n: int) -> NDArray[np.float64]:
    P = np.eye(n)[np.array(list(itertools.permutations(range(n))))]
    P.flags.writeable = False
    return P


def permutation_matrices(n: int) -> NDArray[np.float64]:
    r"""All :math:`n!` permutation matrices, :math:`(P_k)_{i,\pi_k(i)} = 1`, identity first.

    In ``itertools.permutations(range(n))`` order, as mHC-lite's ``get_all_permutations``.

    Parameters
    ----------
    n : int
        ``2 <= n <=`` :data:`MAX_PERMUTATION_N`.

    Returns
    -------
    ndarray, shape (n!, n, n)
    """
    n = check_dimension(n)
    if n > MAX_PERMUTATION_N:
        raise ValueError(f"n must be <= {MAX_PERMUTATION_N} ({MAX_PERMUTATION_N}! matrices), got {n}")
    return _permutations(n).copy()


def h_res(logits: ArrayLike, recipe: Recipe | str, *, dtype: object = np.float64) -> np.ndarray:
    r"""The residual mixer :math:`H^{res}` from its logits, by ``recipe``, batched.

    For ``method='sinkhorn'``, :math:`\mathrm{iterations}` alternating normalisations of
    :math:`e^{L/\tau}` (module notes, :class:`Recipe`); converges to the Sinkhorn limit
    (:func:`dsmlib.sinkhorn.sinkhorn`) as the iterations grow, up to :math:`O(\epsilon)` for
    the recipes with ``eps > 0``. For ``method='permutations'`` (mHC-lite),

    .. math:: H = \sum_{k=1}^{n!} \operatorname{softmax}(L)_k\, P_k,

    exactly doubly stochastic up to rounding.

    Parameters
    ----------
    logits : array_like, shape (..., n, n) or, for ``mhc_lite``, (..., n!)
        Finite real logits :math:`L` (:math:`\bar H^{res}` of Eq. 16), rounded first to the
        arithmetic's dtype.
    recipe : Recipe or str
        A :class:`Recipe` or a key of :data:`RECIPES`.
    dtype : {float64, float32, bfloat16}
        The activation dtype (``ml_dtypes.bfloat16`` or ``'bfloat16'`` for bf16).

    Returns
    -------
    ndarray, shape (..., n, n)
        In the dtype the implementation mixes with: ``dtype``, except float32 for the
        upcasting recipes without ``cast_back`` (``v4``, ``lucidrains``) at bfloat16.
        Overflow (e.g. ``paper``'s un-shifted ``exp`` beyond ~88) gives NaN/inf, as the
        code would: it is returned, not raised.

    Raises
    ------
    ValueError
        Unknown recipe or dtype, non-finite or wrongly shaped logits.

    Examples
    --------
    >>> H = h_res(init_logits("lucidrains"), "lucidrains")  # eye logits: ((e-1)I + J)/(e+3)
    >>> round(float(H[0, 0]), 4), round(float(H[0, 1]), 4)
    (0.4754, 0.1749)
    >>> bool(ds_error(h_res(init_logits("mhc_lite"), "mhc_lite")) < 1e-15)
    True
    """
    r = _recipe(recipe)
    dt = _dtype(dtype)
    ar = _arith(r, dt)
    L = _as_float64(logits, "logits", min_ndim=1)
    return _out(_res_from_logits(ar.load(L), r, ar, "logits"), r, dt, ar)


def init_logits(
    recipe: Recipe | str,
    n: int = 4,
    *,
    batch: int | tuple[int, ...] = (),
    rng: np.random.Generator | int | None = None,
    hidden: int = 256,
) -> NDArray[np.float64]:
    r"""The :math:`H^{res}` logits at each recipe's initialisation.

    ``init='static'``: ``init_diag`` on the diagonal, ``init_offdiag`` off it (the dynamic
    part is zero at initialisation in lucidrains, tokenbender and mhc-lite); for
    ``mhc_lite`` ``init_diag`` for the identity and ``init_offdiag`` for the other
    permutations. ``init='projection'`` (paper, Megatron; V4 assumed), per matrix,

    .. math:: L = \alpha\, \varphi^{res} \tilde x / r + b,\qquad
              \varphi_{kj} \sim \mathcal U[-a, a],\ a = \sqrt{6/(nC + m)},

    Xavier-uniform over the whole projection (:math:`m = n^2 + 2n` outputs), a fresh
    :math:`x \sim \mathcal N(0, I_{nC})`, :math:`r = \|x\|/\sqrt{nC}`, :math:`b = 0`:
    logit standard deviation :math:`\approx \alpha\sqrt{2}`, so :math:`H^{res} \approx J/n`.

    Parameters
    ----------
    recipe : Recipe or str
    n : int, default 4
        Number of streams (``>= 2``).
    batch : int or tuple of int, default ()
        Leading shape, e.g. ``(2 * n_layers,)``: one independent :math:`\varphi, x` each.
    rng : numpy.random.Generator, int or None
        Source of :math:`\varphi, x` (``projection`` only; static logits draw nothing).
    hidden : int, default 256
        :math:`C`, the per-stream width (``projection`` only).

    Returns
    -------
    ndarray, shape (*batch, n, n) or (*batch, n!) for ``mhc_lite``
    """
    r = _recipe(recipe)
    n = check_dimension(n)
    hidden = check_dimension(hidden, "hidden")
    if isinstance(batch, bool) or not isinstance(batch, (int, np.integer, tuple, list)):
        raise ValueError(f"batch must be a non-negative int or tuple of ints, got {batch!r}")
    shape = (int(batch),) if isinstance(batch, (int, np.integer)) else tuple(batch)
    if any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0 for s in shape):
        raise ValueError(f"batch must be a non-negative int or tuple of ints, got {batch!r}")
    if r.method == "permutations":
        if n > MAX_PERMUTATION_N:
            raise ValueError(f"n must be <= {MAX_PERMUTATION_N} for {r.name!r}, got {n}")
        bias = np.full(math.factorial(n), r.init_offdiag)
        bias[0] = r.init_diag  # the identity permutation comes first
    else:
        bias = np.where(np.eye(n, dtype=bool), r.init_diag, r.init_offdiag)
    gen = _generator(rng)  # validated even where nothing is drawn
    if r.init == "static":
        return np.broadcast_to(bias, shape + bias.shape).copy()
    bias = bias.reshape(-1)
    m_res, width = bias.size, n * hidden
    a = math.sqrt(6.0 / (width + m_res + 2 * n))
    count = math.prod(shape)
    out = np.empty((count, m_res))
    for start in range(0, count, 64):  # chunks keep phi at <= 64 x m x nC floats
        b = min(64, count - start)
        phi = gen.uniform(-a, a, size=(b, m_res, width))
        x = gen.standard_normal((b, width))
        x_tilde = x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True))
        out[start:start + b] = r.alpha * np.einsum("bkj,bj->bk", phi, x_tilde) + bias
    return out.reshape(shape + ((n, n) if r.method == "sinkhorn" else (m_res,)))


def coefficients(
    x_streams: ArrayLike,
    phi: ArrayLike,
    alpha: ArrayLike,
    bias: ArrayLike,
    recipe: Recipe | str,
    *,
    dtype: object = np.float64,
) -> Coefficients:
    r"""The full coefficient path (mHC Eqs. 14-19): :math:`H^{pre}, H^{post}, H^{res}` of streams.

    .. math::

        h = \rho(x)\,(\varphi\, \mathrm{vec}(x)) \odot (\alpha_{pre} 1_n, \alpha_{post} 1_n,
        \alpha_{res} 1_m) + b,\quad H^{pre} = \sigma(h_{pre}) + \epsilon_{pre},\quad
        H^{post} = 2\sigma(h_{post}),\quad H^{res} = \text{recipe}(h_{res}),

    with :math:`\rho` the recipe's RMS factor (:attr:`Recipe.rms`) over the flattened
    :math:`nC` entries. Covers ``v4`` (``hc_pre``: ``mixes * hc_scale + hc_base``),
    ``paper``, ``megatron``, ``mhc_lite_sinkhorn`` and ``mhc_lite`` (whose ``RMSNorm``
    gain is 1 at initialisation and is taken as 1); ``lucidrains`` (per-stream norm and
    projection, sigmoid before scaling) and ``tokenbender`` (static :math:`H^{res}`,
    softmax :math:`H^{pre}, H^{post}`) do not follow these equations.

    Parameters
    ----------
    x_streams : array_like, shape (..., n, C)
    phi : array_like, shape (2n + m, nC)
        Rows: pre (n), post (n), res (:math:`m = n^2`, or :math:`n!` for ``mhc_lite``),
        as V4's ``hc_fn`` and Megatron's ``mapping_proj.weight``.
    alpha : array_like, shape (3,)
        :math:`\alpha_{pre}, \alpha_{post}, \alpha_{res}` (V4's ``hc_scale``).
    bias : array_like, shape (2n + m,)
    recipe : Recipe or str
    dtype : {float64, float32, bfloat16}
        Activation dtype (arithmetic as in :func:`h_res`).

    Returns
    -------
    Coefficients
        ``pre`` (..., n), ``post`` (..., n), ``res`` (..., n, n).
    """
    r = _recipe(recipe)
    if r.rms is None:
        raise ValueError(f"recipe {r.name!r} does not compute its coefficients by mHC Eqs. 14-19")
    dt = _dtype(dtype)
    ar = _arith(r, dt)
    x = _as_float64(x_streams, "x_streams", min_ndim=2)
    n, C = x.shape[-2:]
    check_dimension(n, "x_streams.shape[-2]")
    if r.method == "permutations" and n > MAX_PERMUTATION_N:
        raise ValueError(f"recipe {r.name!r} supports n <= {MAX_PERMUTATION_N} streams, got {n}")
    m = math.factorial(n) if r.method == "permutations" else n * n
    P = _as_float64(phi, "phi", min_ndim=2)
    a = _as_float64(alpha, "alpha", min_ndim=1)
    b = _as_float64(bias, "bias", min_ndim=1)
    if C < 1:
        raise ValueError(f"x_streams must have C >= 1 features per stream, got shape {x.shape}")
    if P.shape != (2 * n + m, n * C) or a.shape != (3,) or b.shape != (2 * n + m,):
        raise ValueError(f"phi, alpha, bias must have shapes {(2 * n + m, n * C)}, (3,), {(2 * n + m,)}; "
                         f"got {P.shape}, {a.shape}, {b.shape}")
    q = ar.q
    xf = ar.load(x.reshape(x.shape[:-2] + (n * C,)))
    ms = q(np.mean(xf * xf, axis=-1, keepdims=True))
    with np.errstate(divide="ignore", invalid="ignore"):
        if r.rms == "inside":
            rho = q(1.0 / np.sqrt(q(ms + r.rms_eps)))
        elif r.rms == "outside":
            rho = q(1.0 / q(np.sqrt(ms) + r.rms_eps))
        else:
            rho = q(math.sqrt(n * C) / np.maximum(q(np.sqrt(q(ms * (n * C)))), r.rms_eps))
    scale = np.concatenate([np.full(n, a[0]), np.full(n, a[1]), np.full(m, a[2])])
    h = q(q(q(q(xf @ ar.load(P).T) * rho) * ar.load(scale)) + ar.load(b))
    with np.errstate(over="ignore"):
        sig = q(1.0 / (1.0 + np.exp(-h[..., : 2 * n])))
    pre = q(sig[..., :n] + r.pre_eps) if r.pre_eps else sig[..., :n]
    post = q(2.0 * sig[..., n:])
    res_logits = h[..., 2 * n:]
    if r.method == "sinkhorn":
        res_logits = res_logits.reshape(h.shape[:-1] + (n, n))
    res = _res_from_logits(res_logits, r, ar, "h_res logits")
    return Coefficients(*(_out(t, r, dt, ar) for t in (pre, post, res)))


def ds_error(H: ArrayLike) -> NDArray[np.float64]:
    r"""Distance from doubly stochastic, :math:`\max(\|H1 - 1\|_\infty, \|H^\top 1 - 1\|_\infty)`.

    Computed in float64 from the given entries (bfloat16 converted exactly). A matrix with
    NaN or infinite entries (an overflowed recipe) has error ``inf``, deliberately: it is
    doubly stochastic at no tolerance.

    Parameters
    ----------
    H : array_like, shape (..., n, n)

    Returns
    -------
    ndarray, shape (...)
    """
    M = _as_float64(H, "H", min_ndim=2, check_finite=False)
    if M.shape[-1] != M.shape[-2] or M.shape[-1] < 2:
        raise ValueError(f"H must have shape (..., n, n) with n >= 2, got {M.shape}")
    with np.errstate(invalid="ignore"):
        err = np.maximum(np.abs(M.sum(-1) - 1).max(-1), np.abs(M.sum(-2) - 1).max(-1))
    return np.where(np.all(np.isfinite(M), axis=(-2, -1)), err, np.inf)


def _running_products(Hs: ArrayLike, transpose: bool) -> NDArray[np.float64]:
    """Products :math:`A_k\\cdots A_1` over the depth axis -3, :math:`A = H` or :math:`H^\\top`."""
    A = _as_float64(Hs, "Hs", min_ndim=3)
    if A.shape[-1] != A.shape[-2] or A.shape[-1] < 2 or A.shape[-3] < 1:
        raise ValueError(f"Hs must have shape (..., L, n, n) with L >= 1 and n >= 2, got {A.shape}")
    if transpose:
        A = np.swapaxes(A, -1, -2)
    out = np.empty_like(A)
    P = np.broadcast_to(np.eye(A.shape[-1]), A.shape[:-3] + A.shape[-2:])
    for k in range(A.shape[-3]):
        P = A[..., k, :, :] @ P
        out[..., k, :, :] = P
    return out


def amax_gain(
    Hs: ArrayLike, side: Literal["forward", "backward"] = "forward", *, transpose: bool = False
) -> NDArray[np.float64]:
    r"""The mHC paper's Amax gain magnitude of the composite maps :math:`P_k = A_k \cdots A_1`.

    Forward: :math:`\max_i \sum_j |(P_k)_{ij}|` (largest absolute row sum); backward:
    :math:`\max_j \sum_i |(P_k)_{ij}|` (column sum). :math:`A_i = H_i`, or :math:`H_i^\top`
    with ``transpose=True`` (pass :attr:`Recipe.transpose_on_apply` to measure the map the
    code applies). Products taken in float64 from the given factors. A product of
    permutation matrices has gain exactly 1; a product of doubly stochastic ones, 1 up to
    rounding; an approximate DSM's error can grow with depth.

    Parameters
    ----------
    Hs : array_like, shape (..., L, n, n)
        Factors in order of application (layer 1 first).
    side : {'forward', 'backward'}
    transpose : bool, default False

    Returns
    -------
    ndarray, shape (..., L)
        Entry ``k`` is the gain of the product of the first ``k + 1`` factors
        (``[..., -1]``: the whole composite map).
    """
    if side not in ("forward", "backward"):
        raise ValueError(f"side must be 'forward' or 'backward', got {side!r}")
    P = np.abs(_running_products(Hs, transpose))
    return P.sum(-1 if side == "forward" else -2).max(-1)


def product_sigma2(Hs: ArrayLike, *, transpose: bool = False) -> NDArray[np.float64]:
    r""":math:`\sigma_2` of the running products :math:`P_k = A_k \cdots A_1` over depth.

    For doubly stochastic factors :math:`\sigma_2(P_k) \le \prod_{i\le k} \sigma_2(A_i)`
    (HT Lemma 2, HT-R2): the non-mean part of the streams contracts, and the product
    tends to :math:`J/n` (:math:`\sigma_2 = 0`) unless the factors stay near permutations.
    Computed by :func:`dsmlib.spectra.sigma2` on the float64 products.

    Parameters
    ----------
    Hs : array_like, shape (..., L, n, n)
        Factors in order of application (layer 1 first).
    transpose : bool, default False
        Multiply :math:`H_i^\top` (:attr:`Recipe.transpose_on_apply`).

    Returns
    -------
    ndarray, shape (..., L)
    """
    return sigma2(_running_products(Hs, transpose))
