r"""The :class:`Recipe` of each mHC implementation and :data:`RECIPES` (sources in :mod:`dsmlib.mhc`)."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np

__all__ = ["RECIPES", "Coefficients", "Recipe"]


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


def _recipe(recipe: Recipe | str) -> Recipe:
    if isinstance(recipe, Recipe):
        return recipe
    if isinstance(recipe, str) and recipe in RECIPES:
        return RECIPES[recipe]
    raise ValueError(f"recipe must be a Recipe or one of {sorted(RECIPES)}, got {recipe!r}")

