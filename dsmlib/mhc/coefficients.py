r"""Initial logits of each recipe and the full coefficient path of mHC Eqs. 14-19."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validate import check_dimension
from ..sinkhorn import _generator
from .mixers import _res_from_logits
from .precision import MAX_PERMUTATION_N, _arith, _as_float64, _dtype, _out
from .recipes import Coefficients, Recipe, _recipe

__all__ = ["coefficients", "init_logits"]


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
        out[start:start + b] = r.alpha * (phi @ x_tilde[..., None])[..., 0] + bias  # batched BLAS matvec
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

