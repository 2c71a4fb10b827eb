"""Chapter 4, the identity depth: how deep until the features turn (HT-DEEP)."""

from __future__ import annotations

from ...._validate import TemperatureChecked
from dataclasses import dataclass
import numpy as np
from numpy.typing import NDArray
from .... import sigma2
from ....cache import disk_cached

from .common import _Q, make_inputs
from ....algorithm1 import algorithm1_batch

__all__ = [
    "DECOR_DEG",
    "FIT_WINDOW",
    "GROW_BETA",
    "IdentityDepthConfig",
    "IdentityDepthResult",
    "PRACTICAL_DEPTH",
    "STOP_BETA",
    "THETA_ID_DEG",
    "WalkFit",
    "_angles",
    "_checkpoints",
    "_crossing",
    "identity_depth_experiment",
    "identity_depth_law",
    "walk_fits",
]


# ----------------------------------------------------------------------------- HT-DEEP at depth
@dataclass(frozen=True)
class IdentityDepthConfig(TemperatureChecked):
    r"""HT-DEEP at depth: skip networks :math:`x_{\ell+1} = \mathrm N(x_\ell + M_\ell x_\ell)`.

    ``fresh``: an independent Algorithm-1 DSM at every layer, ``networks`` independent
    networks sharing the ``trials`` inputs, depth ``depths[t]`` at temperature ``t``
    (the largest depth only where the angle is still small). ``fixed``: one DSM per
    group of ``trials / fixed_matrices`` inputs, applied at every layer, up to ``fixed_depth``
    (powers of two, by repeated squaring). N: re-centring and rescaling (the identity-branch
    stream is mean-free, so this is HT's LayerNorm up to the scale, which angles ignore).
    """

    n: int = 64
    trials: int = 1000
    temperatures: tuple[float, ...] = (0.3, 1.0, 3.0, 10.0)
    depths: tuple[int, ...] = (256, 1024, 1024, 4096)
    networks: int = 2
    fixed_matrices: int = 100
    fixed_depth: int = 4096
    n_iter: int = 200
    tol: float = 1e-6
    seed: int = 5


#: HT-DEEP pre-registration: "effectively the identity" = median angle to the input below this
THETA_ID_DEG = 5.0
#: growth exponent beta of the median angle (theta ~ L^beta) in the small-angle window:
#: "stops growing" below STOP_BETA, "keeps growing" above GROW_BETA (random walk: 0.5)
STOP_BETA, GROW_BETA = 0.1, 0.25
#: small-angle window of the fits, radians
FIT_WINDOW = (0.01, 1.0)
#: HT-DEEP, practical reading: "practical depth" of a deep network, layers (a convention: about
#: the depth of the deepest common residual networks and Transformers); the reading holds at a
#: temperature if the median angle stays below THETA_ID_DEG up to this depth
PRACTICAL_DEPTH = 100
#: decorrelated from the input: median angle above this, degrees
DECOR_DEG = 80.0


def _checkpoints(L: int) -> NDArray[np.int64]:
    """Half-octave depths 1, 2, 3, 4, 6, 8, 11, 16, ... up to and including ``L``."""
    ck = np.unique(np.round(2.0 ** np.arange(0, np.log2(L) + 0.01, 0.5)).astype(np.int64))
    return ck[ck <= L]


@dataclass(frozen=True)
class IdentityDepthResult:
    """Angles :math:`\\angle(x_L, x_0)` in radians; quartiles on the last axis (25/50/75 %).

    ``fresh_q[t, k]`` at depth ``checkpoints[k]`` (NaN beyond ``depths[t]``),
    ``fresh_net_med[t, k, g]`` the median within network ``g``; ``fixed_q[t, k]`` at depth
    ``fixed_checkpoints[k]``.
    """

    config: IdentityDepthConfig
    sigma2_med: NDArray[np.float64]  # (nT,) median sigma2 of the fixed matrices
    n_unconverged: NDArray[np.int64]  # (nT,)
    checkpoints: NDArray[np.int64]  # (K,)
    fresh_q: NDArray[np.float64]  # (nT, K, 3)
    fresh_net_med: NDArray[np.float64]  # (nT, K, G)
    fixed_checkpoints: NDArray[np.int64]  # (Kf,)
    fixed_q: NDArray[np.float64]  # (nT, Kf, 3)


def _angles(X: NDArray[np.float64], X0: NDArray[np.float64]) -> NDArray[np.float64]:
    """Angle between the columns of ``X`` and ``X0`` along axis -2."""
    num = np.einsum("...nc,...nc->...c", X, X0)
    den = np.linalg.norm(X, axis=-2) * np.linalg.norm(X0, axis=-2)
    return np.arccos(np.clip(num / den, -1.0, 1.0))


@disk_cached
def identity_depth_experiment(config: IdentityDepthConfig = IdentityDepthConfig()) -> IdentityDepthResult:
    """Fresh-per-layer and fixed-matrix skip networks at depths up to thousands of layers."""
    c = config
    if len(c.depths) != len(c.temperatures):
        raise ValueError("depths must have one entry per temperature")
    if c.trials % c.networks or c.trials % c.fixed_matrices:
        raise ValueError("trials must be a multiple of networks and of fixed_matrices")
    rng = np.random.default_rng(c.seed)
    n, G, nT = c.n, c.networks, len(c.temperatures)
    ck = _checkpoints(max(c.depths))
    ckf = 2 ** np.arange(int(np.log2(c.fixed_depth)) + 1)
    fq = np.full((nT, ck.size, 3), np.nan)
    fnet = np.full((nT, ck.size, G), np.nan)
    xq = np.empty((nT, ckf.size, 3))
    s2m = np.empty(nT)
    nunc = np.zeros(nT, dtype=np.int64)
    chunk = 128
    for t, T in enumerate(c.temperatures):
        x, _ = make_inputs(n, c.trials, 0.0, 0.9, rng)
        # fresh: G networks, trials split between them; columns are inputs
        X0 = np.ascontiguousarray(x.reshape(G, -1, n).transpose(0, 2, 1))
        X = X0.copy()
        L = c.depths[t]
        marks = {int(d): k for k, d in enumerate(ck) if d <= L}
        for l0 in range(0, L, chunk):
            kk = min(chunk, L - l0)
            Ms, nf = algorithm1_batch(n, T, kk * G, rng, n_iter=c.n_iter, tol=c.tol)
            nunc[t] += nf
            Ms = Ms.reshape(kk, G, n, n)
            for j in range(kk):
                X += Ms[j] @ X
                l = l0 + j + 1
                if l % 16 == 0 or l in marks:  # cheap updates: re-centre and rescale every 16 layers
                    X -= X.mean(axis=1, keepdims=True)
                    X /= np.linalg.norm(X, axis=1, keepdims=True)
                if l in marks:
                    a = _angles(X, X0)  # (G, m)
                    fq[t, marks[l]] = np.percentile(a, _Q)
                    fnet[t, marks[l]] = np.median(a, axis=1)
        # fixed: one matrix per group of inputs, powers (I + M - J/n)^(2^k) by squaring
        F, nf = algorithm1_batch(n, T, c.fixed_matrices, rng, n_iter=c.n_iter, tol=c.tol)
        nunc[t] += nf
        s2m[t] = float(np.median(sigma2(F)))
        A = np.eye(n) + F - 1.0 / n  # = I + M on V_perp; the mean direction gets eigenvalue 1, not 2
        xs = x.reshape(c.fixed_matrices, -1, n).transpose(0, 2, 1)  # (F, n, m)
        for k in range(ckf.size):
            xq[t, k] = np.percentile(_angles(A @ xs, xs), _Q)
            A = A @ A
            A /= np.linalg.norm(A, axis=(1, 2), keepdims=True)
    return IdentityDepthResult(c, s2m, nunc, ck, fq, fnet, ckf, xq)


@dataclass(frozen=True)
class WalkFit:
    """Growth law of the median angle at one temperature (fresh matrices per layer).

    ``beta``: exponent of :math:`\\tilde\\theta_L\\propto L^\\beta` in the window;
    ``kappa``: :math:`\\tilde\\theta_L/(\\tilde\\sigma_2\\sqrt L)` (median over the window);
    ``kappa_fixed``: :math:`\\tilde\\theta_L/(\\tilde\\sigma_2 L)` for one fixed matrix;
    ``L_id``: measured depth at which the median angle reaches :data:`THETA_ID_DEG`
    (log-log interpolation; NaN if never within the depth run); ``L_id_fixed`` likewise.
    """

    T: float
    sigma2: float
    beta: float
    kappa: float
    n_window: int
    L_id: float
    kappa_fixed: float
    L_id_fixed: float
    theta_max_deg: float
    fixed_final_deg: float


def _crossing(L: NDArray, th: NDArray, level: float) -> float:
    """First depth at which ``th`` reaches ``level`` (log-log interpolation); NaN if never."""
    ok = np.isfinite(th)
    L, th = L[ok], th[ok]
    above = np.flatnonzero(th >= level)
    if above.size == 0:
        return float("nan")
    k = above[0]
    if k == 0:
        return float(L[0])
    x0, x1, y0, y1 = np.log(L[k - 1]), np.log(L[k]), np.log(th[k - 1]), np.log(th[k])
    return float(np.exp(x0 + (np.log(level) - y0) * (x1 - x0) / (y1 - y0)))


def walk_fits(result: IdentityDepthResult) -> list[WalkFit]:
    """:class:`WalkFit` for every temperature (pre-registered window :data:`FIT_WINDOW`)."""
    out = []
    th_id = np.radians(THETA_ID_DEG)
    for t, T in enumerate(result.config.temperatures):
        s2 = float(result.sigma2_med[t])
        L = result.checkpoints.astype(float)
        th = result.fresh_q[t, :, 1]
        w = np.isfinite(th) & (th >= FIT_WINDOW[0]) & (th <= FIT_WINDOW[1])
        if w.sum() >= 3:
            beta = float(np.polyfit(np.log(L[w]), np.log(th[w]), 1)[0])
            kappa = float(np.median(th[w] / (s2 * np.sqrt(L[w]))))
        else:
            beta = kappa = float("nan")
        Lf = result.fixed_checkpoints.astype(float)
        thf = result.fixed_q[t, :, 1]
        wf = thf <= 0.3
        kf = float(np.median(thf[wf] / (s2 * Lf[wf]))) if wf.any() else float("nan")
        out.append(WalkFit(float(T), s2, beta, kappa, int(w.sum()), _crossing(L, th, th_id), kf,
                           _crossing(Lf, thf, th_id), float(np.degrees(np.nanmax(th))),
                           float(np.degrees(thf[-1]))))
    return out


def identity_depth_law(sigma2_value: float | NDArray, kappa: float, theta_deg: float = THETA_ID_DEG,
                       fixed: bool = False) -> NDArray[np.float64]:
    r"""Depth up to which a skip network is effectively the identity (angle below ``theta_deg``).

    Fresh matrices per layer (random walk :math:`\theta_L=\kappa\sigma_2\sqrt L`):
    :math:`L_{\mathrm{id}} = (\theta^*/(\kappa\sigma_2))^2`; one fixed matrix
    (:math:`\theta_L=\kappa\sigma_2 L`): :math:`L_{\mathrm{id}} = \theta^*/(\kappa\sigma_2)`.
    """
    s = np.asarray(sigma2_value, dtype=np.float64)
    if np.any(s <= 0) or not kappa > 0 or not theta_deg > 0:
        raise ValueError("need sigma2 > 0, kappa > 0 and theta_deg > 0")
    r = np.radians(theta_deg) / (kappa * s)
    return r if fixed else r**2
