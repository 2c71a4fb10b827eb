"""Chapter 4, two noisy inputs through deep networks with and without skips (HT-RES)."""

from __future__ import annotations

from ...._validate import TemperatureChecked
from dataclasses import dataclass
import numpy as np
from numpy.typing import NDArray
from scipy import stats
from .... import sigma2
from ....projections import layer_norm_inplace
from ....algorithm1 import algorithm1_batch
from ....cache import disk_cached

from .common import make_inputs

__all__ = [
    "NoisyPairConfig",
    "NoisyPairResult",
    "RES_ARCHS",
    "RES_COLLAPSE_MARGIN",
    "RES_KEEP_LEVEL",
    "RES_KEYS",
    "cluster_ci",
    "noisy_pair_experiment",
    "skip_pair_law",
]


# ----------------------------------------------------------------------------- HT-RES
@dataclass(frozen=True)
class NoisyPairConfig(TemperatureChecked):
    r"""HT-RES: two similar inputs through deep noisy LN networks with and without skips.

    Four blocks (:data:`RES_ARCHS`), where skip, noise and LN sit differently: the book's
    skip around the whole block :math:`x_{\ell+1} = \mathrm{LN}(x_\ell + M_\ell x_\ell + \xi_\ell)`;
    HT's Sec. 3.2 block without skip :math:`x_{\ell+1} = \mathrm{LN}(M_\ell x_\ell + \xi_\ell)`;
    a skip around HT's block, :math:`x_{\ell+1} = x_\ell + \mathrm{LN}(M_\ell x_\ell + \xi_\ell)`;
    pre-LN, :math:`x_{\ell+1} = x_\ell + M_\ell\,\mathrm{LN}(x_\ell) + \xi_\ell`. With
    :math:`\xi_\ell\sim\mathcal N(0, \nu^2/n\,I)` independent per layer and per input
    (HT Assumption 2), LN of HT Assumption 3, :math:`M_\ell` fresh Algorithm-1 DSMs.
    ``networks`` independent networks each carry ``pairs / networks`` input pairs.
    """

    n: int = 64
    nu: float = 0.1
    pairs: int = 1000
    networks: int = 10
    depth: int = 256
    temperatures: tuple[float, ...] = (0.3, 1.0, 10.0)
    pair_cos: float = 0.99
    n_iter: int = 200
    tol: float = 1e-6
    seed: int = 4


#: HT-RES pre-registration: "collapsed" = 95% CI of the mean cosine inside (-margin, margin)
RES_COLLAPSE_MARGIN = 0.05
#: ... and skips "mitigate" if the 95% CI of the mean cosine lies above this level
RES_KEEP_LEVEL = 0.9
#: the blocks, in the order of the result's architecture axis (0 and 1 as in the second edition)
RES_ARCHS = (r"skip, $\mathrm{LN}(x + Mx + \xi)$", r"no skip, $\mathrm{LN}(Mx + \xi)$ (HT's block)",
             r"skip around HT's block, $x + \mathrm{LN}(Mx + \xi)$", r"pre-LN, $x + M\,\mathrm{LN}(x) + \xi$")
#: short keys of :data:`RES_ARCHS`
RES_KEYS = ("book", "noskip", "ht", "preln")


@dataclass(frozen=True)
class NoisyPairResult:
    """Cosines between the two streams of every pair.

    Shapes: ``nT`` temperatures, ``A = 4`` architectures (:data:`RES_ARCHS`), ``L = depth``,
    ``G = networks``, ``R = pairs``. ``net_angle0`` is the mean angle (degrees) of a stream to
    its own input, :math:`\angle(x_L, x_0)`, per network.
    """

    config: NoisyPairConfig
    sigma2_med: NDArray[np.float64]  # (nT,) median sigma2 of the first layer's matrices
    n_unconverged: NDArray[np.int64]  # (nT,)
    net_mean_cos: NDArray[np.float64]  # (nT, A, L+1, G) mean cosine per network and layer
    cos_final: NDArray[np.float64]  # (nT, A, R) cosine of every pair at layer L
    net_angle0: NDArray[np.float64]  # (nT, A, L+1, G) mean angle to the own input, degrees


def _cos(u: NDArray[np.float64], v: NDArray[np.float64]) -> NDArray[np.float64]:
    """Cosine between the columns of ``u`` and ``v`` (shape (G, n, m)) along axis 1."""
    return np.einsum("gnr,gnr->gr", u, v) / (np.linalg.norm(u, axis=1) * np.linalg.norm(v, axis=1))


@disk_cached
def noisy_pair_experiment(config: NoisyPairConfig = NoisyPairConfig()) -> NoisyPairResult:
    """Run the four blocks on the same inputs, matrices and noise (common random numbers)."""
    c = config
    if c.pairs % c.networks:
        raise ValueError("pairs must be a multiple of networks")
    rng = np.random.default_rng(c.seed)
    G, m, n, L = c.networks, c.pairs // c.networks, c.n, c.depth
    nT, A = len(c.temperatures), len(RES_ARCHS)
    net = np.empty((nT, A, L + 1, G))
    ang = np.empty((nT, A, L + 1, G))
    fin = np.empty((nT, A, c.pairs))
    s2m = np.empty(nT)
    nunc = np.zeros(nT, dtype=np.int64)
    chunk = 64
    for t, T in enumerate(c.temperatures):
        x, x2 = make_inputs(n, c.pairs, 0.0, c.pair_cos, rng)
        X = np.concatenate([x.reshape(G, m, n), x2.reshape(G, m, n)], axis=1).transpose(0, 2, 1)
        X0 = np.ascontiguousarray(X)  # (G, n, 2m): x, x'
        X = np.ascontiguousarray(np.concatenate([X, X], axis=2))  # (G, n, 4m): book x, x', no skip x, x'
        H = X0.copy()  # skip around HT's block
        P = X0.copy()  # pre-LN
        sk = slice(0, 2 * m)

        def streams() -> list[NDArray[np.float64]]:
            return [X[:, :, :2 * m], X[:, :, 2 * m:], H, P]

        def record(l: int) -> None:
            for a, S in enumerate(streams()):
                u, v = S[:, :, :m], S[:, :, m:]
                net[t, a, l] = _cos(u, v).mean(axis=1)
                ang[t, a, l] = np.degrees(np.arccos(np.clip(_cos(S, X0), -1.0, 1.0))).mean(axis=1)

        record(0)
        for l0 in range(0, L, chunk):
            k = min(chunk, L - l0)
            Ms, nf = algorithm1_batch(n, T, k * G, rng, n_iter=c.n_iter, tol=c.tol)
            nunc[t] += nf
            Ms = Ms.reshape(k, G, n, n)
            if l0 == 0:
                s2m[t] = float(np.median(sigma2(Ms[0])))
            for j in range(k):
                xi = rng.standard_normal((G, n, 2 * m)) * (c.nu / np.sqrt(n))
                Y = Ms[j] @ X
                Y[:, :, sk] += X[:, :, sk]
                Y[:, :, :2 * m] += xi  # the same noise draw for every architecture
                Y[:, :, 2 * m:] += xi
                X = layer_norm_inplace(Y, axis=1)
                Z = Ms[j] @ H
                Z += xi
                H = H + layer_norm_inplace(Z, axis=1)
                Z = Ms[j] @ layer_norm_inplace(P.copy(), axis=1)
                Z += xi
                P = P + Z
                record(l0 + j + 1)
        for a, S in enumerate(streams()):
            fin[t, a] = _cos(S[:, :, :m], S[:, :, m:]).ravel()
    return NoisyPairResult(c, s2m, nunc, net, fin, ang)


def cluster_ci(net_means: NDArray[np.float64], level: float = 0.95) -> tuple[NDArray, NDArray, NDArray]:
    r"""Mean over networks and its t-interval from the ``G`` network means (last axis).

    Pairs in one network share its matrices, so the network is the independent unit.

    Returns
    -------
    mean, lo, hi : ndarray, shape ``net_means.shape[:-1]``
    """
    g = np.asarray(net_means, dtype=np.float64)
    G = g.shape[-1]
    if G < 2:
        raise ValueError("need at least two networks for an interval")
    mu = g.mean(axis=-1)
    half = stats.t.ppf(0.5 + level / 2, G - 1) * g.std(axis=-1, ddof=1) / np.sqrt(G)
    return mu, mu - half, mu + half


def skip_pair_law(config: NoisyPairConfig, depth: int | NDArray | None = None) -> NDArray[np.float64]:
    r"""Predicted pair cosine of the skip network, :math:`c_L = c_0\,e^{-L\nu^2/n}`.

    Each block adds to each stream an independent noise of relative size :math:`\nu/\sqrt n`
    per unit norm (the stream has norm :math:`\sqrt n` after LN, the noise :math:`\nu`);
    renormalising shrinks the shared component by :math:`(1+\nu^2/n)^{-1/2}` per stream,
    and the skip path keeps the two streams' common part (to first order in
    :math:`\sigma_2`, the shared :math:`M_\ell` moves both alike).
    """
    L = np.arange(config.depth + 1) if depth is None else np.asarray(depth)
    return config.pair_cos * np.exp(-L * config.nu**2 / config.n)
