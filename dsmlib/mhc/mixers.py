r""":math:`H^{res}` from its logits: truncated Sinkhorn-Knopp (exp or log domain) and mHC-lite's
exact mixture of permutation matrices, op by op in the recipe's precision."""

from __future__ import annotations

import functools
import itertools
import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validate import check_dimension
from .precision import MAX_PERMUTATION_N, _Arith, _arith, _as_float64, _dtype, _out
from .recipes import Recipe, _recipe

__all__ = ["h_res", "permutation_matrices"]


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

