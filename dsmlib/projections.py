r"""Projections shared by both papers.

* :func:`center` is :math:`\mathcal P_\perp = I - \tfrac1n \mathbf 1\mathbf 1^\top` (HT Eq. 1),
  the orthogonal projection onto the detail subspace
  :math:`\mathcal V_\perp = \{x : \mathbf 1^\top x = 0\}`.
* :func:`layer_norm` is HT Assumption 3: :math:`\mathrm{LN}(y) = \sqrt n\,\mathcal P_\perp y / \|\mathcal P_\perp y\|`.
* :func:`q_project` is RC's :math:`Q(Y) = Y - \tfrac1n\mathbf{11}^\top Y - \tfrac1n Y\mathbf{11}^\top + \tfrac1{n^2}\mathbf{11}^\top Y\mathbf{11}^\top = UYU`
  (RC Eq. 14, Prop. 2) with :math:`U = \mathcal P_\perp`.
* :func:`res` is RC Eq. 4: :math:`\mathrm{res}(X) = X - \mathbf 1 \bar x^\top`, :math:`\bar x = \tfrac1n X^\top \mathbf 1`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validate import BIG, as_float_array, as_square_batch, centred, pow2_scale

__all__ = ["center", "layer_norm", "layer_norm_inplace", "q_project", "res"]

#: relative size below which a vector counts as having no detail component
_DETAIL_RTOL = 1e-12


def center(x: ArrayLike) -> NDArray[np.float64]:
    r"""Project onto the detail subspace along the last axis: :math:`\mathcal P_\perp x = x - \bar x \mathbf 1`.

    Parameters
    ----------
    x : array_like, shape (..., n)
        Vectors, ``n >= 2``.

    Returns
    -------
    ndarray, shape (..., n)

    Raises
    ------
    ValueError
        For invalid input, or if the result exceeds the float64 range (entries near
        ``1.8e308`` are centred after an exact power-of-two scaling, never overflowing in
        the mean).
    """
    x = as_float_array(x, "x", min_ndim=1)
    if x.shape[-1] < 2:
        raise ValueError(f"x must have length >= 2 along its last axis, got shape {x.shape}")
    return centred(x, -1, "x")


def layer_norm(y: ArrayLike) -> NDArray[np.float64]:
    r"""LayerNorm without affine parameters, HT Assumption 3 (Eq. 1).

    .. math:: \mathrm{LN}(y) = \sqrt n \, \frac{\mathcal P_\perp y}{\|\mathcal P_\perp y\|_2}

    The output lies in :math:`\mathcal V_\perp` and has norm :math:`\sqrt n`.

    Parameters
    ----------
    y : array_like, shape (..., n)

    Returns
    -------
    ndarray, shape (..., n)

    Raises
    ------
    ValueError
        If some vector has no detail component (:math:`\mathcal P_\perp y = 0` up to
        rounding, i.e. ``y`` is a multiple of :math:`\mathbf 1`): LN is undefined there.
    """
    return _layer_norm(y, "y")


def _layer_norm(y: ArrayLike, name: str) -> NDArray[np.float64]:
    """:func:`layer_norm` with error messages naming the argument ``name``."""
    y = as_float_array(y, name, min_ndim=1)
    if y.shape[-1] < 2:
        raise ValueError(f"{name} must have length >= 2 along its last axis, got shape {y.shape}")
    y = y / pow2_scale(y, axis=-1)  # exact; LN is scale-free, so tiny/huge vectors are fine
    yc = y - y.mean(axis=-1, keepdims=True)
    n = yc.shape[-1]
    norm = np.linalg.norm(yc, axis=-1, keepdims=True)
    scale = np.linalg.norm(y, axis=-1, keepdims=True)
    if np.any(norm <= _DETAIL_RTOL * scale) or np.any(norm == 0.0):
        raise ValueError(
            f"{name} has a vector with no detail component (a multiple of the all-ones "
            "vector, up to rounding); LN is undefined there"
        )
    return np.sqrt(n) * yc / norm


def layer_norm_inplace(Y: NDArray[np.float64], axis: int = -1) -> NDArray[np.float64]:
    r"""HT's LayerNorm (Assumption 3) along ``axis``, in place, without checks: the fast path.

    Centres ``Y`` along ``axis`` and rescales every vector to norm :math:`\sqrt n`, where
    ``n = Y.shape[axis]``; for the inner loops of deep networks (no copy, no validation, no
    scaling of huge entries). Use :func:`layer_norm` for untrusted input.

    Parameters
    ----------
    Y : ndarray of float64, shape (..., n, ...)
        Overwritten with the result; every vector must have a non-zero detail component.
    axis : int, default -1
        Axis holding the vector coordinates.

    Returns
    -------
    ndarray
        ``Y`` itself.

    Raises
    ------
    ValueError
        If ``Y`` is not a float64 ndarray.
    """
    if not isinstance(Y, np.ndarray) or Y.dtype != np.float64:
        raise ValueError("Y must be a float64 ndarray (it is normalised in place)")
    n = Y.shape[axis]
    Y -= Y.mean(axis=axis, keepdims=True)
    Y *= np.sqrt(n) / np.linalg.norm(Y, axis=axis, keepdims=True)
    return Y


def q_project(Y: ArrayLike) -> NDArray[np.float64]:
    r"""RC's projection :math:`Q(Y) = UYU` onto :math:`T_{DS} = \{H: H\mathbf 1 = 0, \mathbf 1^\top H = 0\}`.

    Equivalent to RC Eq. 14: subtract row means and column means, add back the grand mean.

    Parameters
    ----------
    Y : array_like, shape (..., n, n)

    Returns
    -------
    ndarray, shape (..., n, n)

    Raises
    ------
    ValueError
        For invalid input, or if ``Q(Y)`` exceeds the float64 range (huge entries are
        handled by an exact power-of-two scaling, not by overflowing to inf).
    """
    Y = as_square_batch(Y, "Y")
    if Y.size and max(Y.max(), -Y.min()) > BIG:  # huge entries: an exact power-of-two scaling
        c = pow2_scale(Y, axis=(-2, -1))
        with np.errstate(over="ignore", invalid="ignore"):
            out = _q(Y / c) * c
        if not np.all(np.isfinite(out)):
            raise ValueError("Y: Q(Y) exceeds the float64 range (entries too large)")
        return out
    return _q(Y)


def _q(Y: NDArray[np.float64]) -> NDArray[np.float64]:
    return (
        Y
        - Y.mean(axis=-2, keepdims=True)
        - Y.mean(axis=-1, keepdims=True)
        + Y.mean(axis=(-2, -1), keepdims=True)
    )


def res(X: ArrayLike) -> NDArray[np.float64]:
    r"""RC Eq. 4 residual: :math:`\mathrm{res}(X) = X - \tfrac1n \mathbf{11}^\top X` (subtract the mean row).

    Parameters
    ----------
    X : array_like, shape (..., n, d)
        Token matrices (``n`` tokens of dimension ``d``), ``n >= 2``.

    Returns
    -------
    ndarray, shape (..., n, d)

    Raises
    ------
    ValueError
        For invalid input, or if the residual exceeds the float64 range (huge entries are
        handled by an exact power-of-two scaling, not by overflowing to inf).
    """
    X = as_float_array(X, "X", min_ndim=2)
    if X.shape[-2] < 2:
        raise ValueError(f"X must have at least 2 rows (tokens), got shape {X.shape}")
    return centred(X, -2, "X")
