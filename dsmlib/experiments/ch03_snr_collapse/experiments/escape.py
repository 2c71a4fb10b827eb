r"""Chapter 3, the escape routes of HT's conclusion (HT-ESC): a learnable scale and non-DSM mixing.

HT's conclusion: "future work should explore learnable scaling or non-DSM parameterizations to
bypass this impossibility result". We put each route into HT's own block (Sec. 3.2: signal
:math:`s = A x_\perp`, isotropic noise of fixed :math:`\nu` after mixing (Assumption 2), LN
without affine parameters) at HT's sizes and compare it with the DSM block on the quantity the
trap is about: the cosine of the LN outputs of two similar inputs (input cosine 0.95), and the
spectral SNR :math:`\gamma = \|\mathcal P_\perp s\|/\mathbb E\|\mathcal P_\perp\xi\|`.

The mixers (:data:`MIXERS`), all on the same input pairs and the same noise (a paired design):

* ``dsm``: Algorithm-1 DSM :math:`M` at temperature :math:`T` (the trap);
* ``scaled``: :math:`\alpha M` with the per-layer scale :math:`\alpha = 1/\sigma_2(M)`, the
  largest that keeps the layer non-expansive on :math:`\mathcal V_\perp` (HT's stability
  promise, :math:`\|\alpha M\|_{\mathcal V_\perp} = 1`), applied before the noise;
* ``softmax``: the row-stochastic Softmax of the same scores, :math:`\mathrm{softmax}(-d/T)`
  row by row (the non-DSM normalisation HT contrasts DSMs with);
* ``free``: an unconstrained matrix with i.i.d. :math:`\mathcal N(0, 1/n)` entries (a standard
  linear-layer initialisation), which does not depend on :math:`T`.

A scale *after* the noise (LN's affine gain) is HT-AFF's subject and is not repeated here: a
scalar gain leaves every cosine unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
import numpy as np
from numpy.typing import NDArray
from scipy import stats
from .... import center, layer_norm, row_softmax, sigma2
from ....algorithm1 import algorithm1_costs
from ....cache import disk_cached
from ....noise import gaussian_noise, snr

from .common import SEEDS, TEMPS, dsm_batch, unit_detail

__all__ = [
    "ESCAPE",
    "EscapeConfig",
    "EscapeResult",
    "MIXERS",
    "MIXER_LABELS",
    "TRAP",
    "block_cosines",
    "escape_experiment",
    "escape_status",
    "median_ci",
    "softmax_batch",
]


#: the mixers compared, in the order of the result's first axis
MIXERS: tuple[str, ...] = ("dsm", "scaled", "softmax", "free")
#: reader-facing names of :data:`MIXERS`
MIXER_LABELS: dict[str, str] = {
    "dsm": "DSM (Algorithm 1)",
    "scaled": r"DSM, scale $1/\sigma_2$ before the noise",
    "softmax": "row-stochastic Softmax, same scores",
    "free": r"unconstrained, $\mathcal{N}(0, 1/n)$ entries",
}
#: registered before the run: the DSM block is trapped where its median output pair cosine
#: is below this (the collapsed law has sd 1/sqrt(n-1) = 0.126 at n = 64)
TRAP = 0.1
#: registered before the run: a mixer escapes where the lower end of the 95 % interval of its
#: median output pair cosine is at least this (inputs at cosine 0.95 keep more than half of
#: their alignment); it does not escape where the upper end is below it
ESCAPE = 0.5


@dataclass(frozen=True)
class EscapeConfig:
    """HT's sizes: n = 64, nu = 0.1, R = 1000 DSMs per temperature (seeds 0-9 x 100)."""

    n: int = 64
    nu: float = 0.1
    temperatures: tuple[float, ...] = TEMPS
    seeds: tuple[int, ...] = SEEDS
    per_seed: int = 100
    input_cos: float = 0.95
    seed: int = 9


@dataclass(frozen=True)
class EscapeResult:
    """Output pair cosines and SNRs of each mixer.

    Attributes
    ----------
    cos : ndarray, shape (n_mixers, nT, R)
        Cosine of the LN outputs of the two inputs of a pair.
    gamma : ndarray, shape (n_mixers, nT, R)
        :math:`\\|\\mathcal P_\\perp A x_\\perp\\| / \\mathbb E\\|\\mathcal P_\\perp\\xi\\|` of the first input.
    sigma2 : ndarray, shape (nT, R)
        :math:`\\sigma_2(M)` of the DSMs (the scale of ``scaled`` is its inverse).
    """

    config: EscapeConfig
    cos: NDArray[np.float64]
    gamma: NDArray[np.float64]
    sigma2: NDArray[np.float64]


def softmax_batch(n: int, temperature: float, seeds: tuple[int, ...], per_seed: int) -> NDArray[np.float64]:
    r"""Row-softmax of the scores Algorithm 1 draws for :func:`dsm_batch` (same seeds, same :math:`d`).

    Returns
    -------
    ndarray, shape (len(seeds) * per_seed, n, n)
    """
    if temperature <= 0 or not np.isfinite(temperature):
        raise ValueError(f"temperature must be finite and > 0, got {temperature!r}")
    return row_softmax(-algorithm1_costs(n, seeds, per_seed) / temperature)


def block_cosines(A: NDArray, x: NDArray, x2: NDArray, xi: NDArray, xi2: NDArray, nu: float) -> tuple[NDArray, NDArray]:
    r"""HT's block :math:`\mathrm{LN}(A x + \xi)` for both inputs of each pair: output cosines and :math:`\gamma`.

    Parameters
    ----------
    A : ndarray, shape (R, n, n)
    x, x2, xi, xi2 : ndarray, shape (R, n)
    nu : float

    Returns
    -------
    cos, gamma : ndarray, shape (R,)
    """
    s, s2 = np.einsum("rij,rj->ri", A, x), np.einsum("rij,rj->ri", A, x2)
    y, y2 = layer_norm(s + xi), layer_norm(s2 + xi2)
    return np.einsum("ri,ri->r", y, y2) / x.shape[-1], snr(center(s), nu)


@disk_cached
def escape_experiment(config: EscapeConfig = EscapeConfig()) -> EscapeResult:
    """Every mixer of :data:`MIXERS` on the same pairs and noise, over the temperature grid."""
    c = config
    if not -1.0 <= c.input_cos <= 1.0 or c.per_seed < 1:
        raise ValueError(f"need input_cos in [-1, 1] and per_seed >= 1, got {c}")
    rng = np.random.default_rng(c.seed)
    R = len(c.seeds) * c.per_seed
    nT = len(c.temperatures)
    cos, gam = np.empty((2, len(MIXERS), nT, R))
    s2 = np.empty((nT, R))
    for i, T in enumerate(c.temperatures):  # loop over the temperature grid
        M = dsm_batch(c.n, T, c.seeds, c.per_seed)
        s2[i] = sigma2(M)
        x = unit_detail(rng, (R,), c.n)
        z = unit_detail(rng, (R,), c.n)
        z -= np.einsum("ri,ri->r", z, x)[:, None] * x
        z /= np.linalg.norm(z, axis=-1, keepdims=True)
        x2 = c.input_cos * x + np.sqrt(1 - c.input_cos**2) * z
        xi = gaussian_noise(c.n, c.nu, size=R, rng=rng)
        xi2 = gaussian_noise(c.n, c.nu, size=R, rng=rng)
        mats = {
            "dsm": M,
            "scaled": M / s2[i][:, None, None],
            "softmax": softmax_batch(c.n, T, c.seeds, c.per_seed),
            "free": rng.standard_normal((R, c.n, c.n)) / np.sqrt(c.n),
        }
        for k, name in enumerate(MIXERS):
            cos[k, i], gam[k, i] = block_cosines(mats[name], x, x2, xi, xi2, c.nu)
    return EscapeResult(c, cos, gam, s2)


def median_ci(x: NDArray, alpha: float = 0.05) -> tuple[float, float, float]:
    """Median of ``x`` (shape (R,)) and its distribution-free ``1 - alpha`` interval (order statistics)."""
    x = np.sort(np.asarray(x, dtype=float).ravel())
    m = x.size
    if m < 6:
        raise ValueError(f"need at least 6 values for a median interval, got {m}")
    lo = int(stats.binom.ppf(alpha / 2, m, 0.5))
    hi = int(stats.binom.isf(alpha / 2, m, 0.5))
    return float(np.median(x)), float(x[max(lo - 1, 0)]), float(x[min(hi, m - 1)])


def escape_status(result: EscapeResult, temperature_index: int = -1) -> dict[str, dict[str, float]]:
    """Per mixer at one temperature (default: the hottest): median cosine, its interval, median gamma, status.

    ``status`` is ``'escapes'`` (lower end >= :data:`ESCAPE`), ``'trapped'`` (upper end < :data:`ESCAPE`)
    or ``'undecided'``.
    """
    i = int(np.argsort(result.config.temperatures)[temperature_index])
    out: dict[str, dict[str, float]] = {}
    for k, name in enumerate(MIXERS):
        m, lo, hi = median_ci(result.cos[k, i])
        st = "escapes" if lo >= ESCAPE else ("trapped" if hi < ESCAPE else "undecided")
        out[name] = {"median": m, "lo": lo, "hi": hi, "gamma": float(np.median(result.gamma[k, i])),
                     "status": st, "T": float(result.config.temperatures[i])}
    return out
