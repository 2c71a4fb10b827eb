r"""Noise, signal-to-noise ratio and output cosines of HT Section 3.2.

* :func:`gaussian_noise` draws :math:`\xi \sim \mathcal N(0, \tfrac{\nu^2}{n} I_n)` (HT Assumption 2).
* :func:`expected_projected_noise_norm` is the exact :math:`\mathbb E\|\mathcal P_\perp\xi\|_2`.
* :func:`snr` and :func:`snr_approx` are the two sides of HT Eq. 4.
* :func:`normalized_distance` is the left side of HT Lemma 3.
* :func:`cosine` and :func:`ln_cosine` are the output cosine :math:`\langle u, v\rangle` of Theorem 1.
* :func:`sphere_coordinate_tail` is the exact law of one coordinate of a uniform point of a sphere.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special, stats

from ._validate import as_float_array, check_dimension, check_positive_scalar, pow2_scale
from .projections import _layer_norm
from .sinkhorn import _generator

__all__ = [
    "cosine",
    "expected_projected_noise_norm",
    "gaussian_noise",
    "ln_cosine",
    "normalized_distance",
    "snr",
    "snr_approx",
    "sphere_coordinate_tail",
]


def _shape(size: int | tuple[int, ...]) -> tuple[int, ...]:
    if not isinstance(size, (int, np.integer, tuple, list)) or isinstance(size, bool):
        raise ValueError(f"size must be a non-negative int or tuple of ints, got {size!r}")
    shape = (size,) if isinstance(size, (int, np.integer)) else tuple(size)
    if any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0 for s in shape):
        raise ValueError(f"size must be a non-negative int or tuple of ints, got {size!r}")
    return tuple(int(s) for s in shape)


def gaussian_noise(
    n: int, nu: float, *, size: int | tuple[int, ...] = (), rng: np.random.Generator | int | None = None
) -> NDArray[np.float64]:
    r"""Isotropic noise of HT Assumption 2: :math:`\xi \sim \mathcal N(0, \tfrac{\nu^2}{n} I_n)`.

    Parameters
    ----------
    n : int
        Dimension (``>= 2``).
    nu : float
        Noise scale :math:`\nu > 0` (so that :math:`\mathbb E\|\xi\|^2 = \nu^2`).
    size : int or tuple of int
        Leading batch shape.
    rng : numpy.random.Generator, int or None

    Returns
    -------
    ndarray, shape (*size, n)
    """
    n = check_dimension(n)
    nu = check_positive_scalar(nu, "nu")
    return _generator(rng).standard_normal(_shape(size) + (n,)) * (nu / np.sqrt(n))


def expected_projected_noise_norm(n: int, nu: float) -> float:
    r"""Exact :math:`\mathbb E\|\mathcal P_\perp \xi\|_2` for :math:`\xi\sim\mathcal N(0,\tfrac{\nu^2}{n}I_n)`.

    :math:`\|\mathcal P_\perp\xi\| = \tfrac{\nu}{\sqrt n}\|g_{n-1}\|` with :math:`g_{n-1}` standard
    Gaussian in :math:`\mathbb R^{n-1}`, hence

    .. math:: \mathbb E\|\mathcal P_\perp\xi\|_2 = \nu\sqrt{\tfrac 2n}\,\frac{\Gamma(n/2)}{\Gamma((n-1)/2)},

    slightly below HT Remark 1's :math:`\nu\sqrt{(n-1)/n}` (Jensen).

    Parameters
    ----------
    n : int
        Dimension (``>= 2``).
    nu : float
        Noise scale :math:`\nu > 0`.

    Returns
    -------
    float
    """
    n = check_dimension(n)
    nu = check_positive_scalar(nu, "nu")
    return float(nu * np.sqrt(2.0 / n) * np.exp(special.gammaln(n / 2) - special.gammaln((n - 1) / 2)))


def snr(s: ArrayLike, nu: float) -> NDArray[np.float64]:
    r"""Exact spectral SNR of HT Eq. 4: :math:`\gamma = \|s\|_2 / \mathbb E\|\mathcal P_\perp\xi\|_2`.

    Parameters
    ----------
    s : array_like, shape (..., n)
        Signals :math:`s = M x_\perp`.
    nu : float
        Noise scale.

    Returns
    -------
    ndarray, shape (...)
    """
    s = as_float_array(s, "s", min_ndim=1)
    n = check_dimension(s.shape[-1], "s.shape[-1]")
    c = pow2_scale(s, axis=-1)  # exact; the norm of a tiny or huge vector neither under- nor overflows
    return np.linalg.norm(s / c, axis=-1) * c[..., 0] / expected_projected_noise_norm(n, nu)


def snr_approx(sigma2: ArrayLike, x_perp_norm: ArrayLike, nu: float) -> NDArray[np.float64]:
    r"""The approximation of HT Eq. 4: :math:`\gamma \approx \sigma_2(M)\|x_\perp\|_2/\nu`.

    Parameters
    ----------
    sigma2 : array_like, shape (...)
        :math:`\sigma_2(M) \ge 0`.
    x_perp_norm : array_like, shape (...)
        :math:`\|x_\perp\|_2 \ge 0` (broadcast against ``sigma2``).
    nu : float

    Returns
    -------
    ndarray, shape (...)
    """
    s2 = as_float_array(sigma2, "sigma2")
    xn = as_float_array(x_perp_norm, "x_perp_norm")
    if np.any(s2 < 0) or np.any(xn < 0):
        raise ValueError("sigma2 and x_perp_norm must be non-negative")
    nu = check_positive_scalar(nu, "nu")
    return s2 * xn / nu


def _unit(x: ArrayLike, name: str) -> NDArray[np.float64]:
    """``x/||x||`` along the last axis, scaled first (exactly) so tiny/huge vectors are fine."""
    x = as_float_array(x, name, min_ndim=1)
    x = x / pow2_scale(x, axis=-1)
    nx = np.linalg.norm(x, axis=-1, keepdims=True)
    if np.any(nx == 0):
        raise ValueError(f"{name} must be non-zero vectors, got a zero vector")
    return x / nx


def _unit_pair(a: ArrayLike, b: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``a/||a||`` and ``b/||b||`` along the last axis; ValueError naming a zero vector."""
    return _unit(a, "a"), _unit(b, "b")


def normalized_distance(a: ArrayLike, b: ArrayLike) -> NDArray[np.float64]:
    r"""Left side of HT Lemma 3: :math:`\| a/\|a\| - b/\|b\| \|_2`, batched over leading axes.

    Parameters
    ----------
    a, b : array_like, shape (..., n)
        Non-zero vectors (broadcast).

    Returns
    -------
    ndarray, shape (...)
        In :math:`[0, 2]`.
    """
    ua, ub = _unit_pair(a, b)
    return np.linalg.norm(ua - ub, axis=-1)


def cosine(a: ArrayLike, b: ArrayLike) -> NDArray[np.float64]:
    r"""Cosine similarity :math:`\langle a, b\rangle / (\|a\|\|b\|)` along the last axis.

    Parameters
    ----------
    a, b : array_like, shape (..., n)
        Non-zero vectors (broadcast).

    Returns
    -------
    ndarray, shape (...)
    """
    ua, ub = _unit_pair(a, b)
    return np.einsum("...i,...i->...", ua, ub)


def ln_cosine(y1: ArrayLike, y2: ArrayLike) -> NDArray[np.float64]:
    r"""Cosine :math:`\langle u, v\rangle` of two LayerNorm outputs (HT Theorem 1).

    :math:`u = \mathrm{LN}(y_1)/\sqrt n`, :math:`v = \mathrm{LN}(y_2)/\sqrt n` are unit vectors of
    :math:`\mathcal V_\perp`, so :math:`\langle u, v\rangle = \langle \mathrm{LN}(y_1), \mathrm{LN}(y_2)\rangle / n`.

    Parameters
    ----------
    y1, y2 : array_like, shape (..., n)
        Pre-normalisation outputs (not constant vectors).

    Returns
    -------
    ndarray, shape (...)
    """
    u = _layer_norm(y1, "y1")
    v = _layer_norm(y2, "y2")
    return np.einsum("...i,...i->...", u, v) / u.shape[-1]


def sphere_coordinate_tail(eps: ArrayLike, dim: int) -> NDArray[np.float64]:
    r"""Exact :math:`P(|\langle u, v\rangle| \ge \varepsilon)` for independent uniform :math:`u, v` on :math:`S^{d-1}\subset\mathbb R^d`.

    By rotation invariance :math:`\langle u, v\rangle` has the law of one coordinate
    :math:`u_1`, and :math:`(u_1+1)/2 \sim \mathrm{Beta}(\tfrac{d-1}2, \tfrac{d-1}2)`. For HT's
    sphere :math:`S^{n-2}` of :math:`\mathcal V_\perp`, ``dim = n - 1``.

    Parameters
    ----------
    eps : array_like, shape (...)
        Thresholds :math:`\varepsilon \ge 0`.
    dim : int
        Ambient dimension :math:`d \ge 2` of the sphere :math:`S^{d-1}`.

    Returns
    -------
    ndarray, shape (...)
    """
    eps = as_float_array(eps, "eps")
    if np.any(eps < 0):
        raise ValueError("eps must be non-negative")
    d = check_dimension(dim, "dim")
    a = (d - 1) / 2.0
    tail = 2.0 * stats.beta.sf((np.minimum(eps, 1.0) + 1.0) / 2.0, a, a)
    return np.where(eps > 1.0, 0.0, np.minimum(tail, 1.0))

