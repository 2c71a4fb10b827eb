"""dsmlib: the shared library of the book *Collapse in doubly-stochastic deep networks*.

Mechanisms (public, stable names):

- :func:`sinkhorn`, :func:`random_dsm`, :func:`row_softmax`
- :func:`q_project`, :func:`center`, :func:`layer_norm`, :func:`res`
- :func:`singular_values`, :func:`sigma2`, :func:`entropy`

Experiments live in :mod:`dsmlib.experiments`, claim checks in :mod:`dsmlib.claims`,
the figure style in :mod:`dsmlib.plotting`, and explorers in :mod:`dsmlib.widgets`.
"""

from .projections import center, layer_norm, q_project, res
from .sinkhorn import (
    SinkhornConvergenceWarning,
    SinkhornInfo,
    marginal_error,
    random_dsm,
    row_softmax,
    sinkhorn,
)
from .spectra import entropy, rank_one_residual, sigma2, singular_values

__all__ = [
    "SinkhornConvergenceWarning",
    "SinkhornInfo",
    "center",
    "entropy",
    "layer_norm",
    "marginal_error",
    "q_project",
    "random_dsm",
    "rank_one_residual",
    "res",
    "row_softmax",
    "sigma2",
    "singular_values",
    "sinkhorn",
]

__version__ = "0.1.0"
