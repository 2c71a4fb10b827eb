r"""Chapter 5: rank decay in random products and in pure self-attention (RC Thm. 1-2, App. G).

Experiments (config in, frozen dataclass of arrays out, disk-cached):

* :func:`random_products_experiment` -- RC App. G / Fig. 5: products of independent random
  attention-like matrices normalised by Softmax and by Sinkhorn, with and without skips;
* :func:`san_decay_experiment` -- the normalised residual of a random pure SAN, layer by layer;
* :func:`theorem1_experiment` -- both sides of RC Theorem 1 on random and aligned instances;
* :func:`theorem2_experiment` -- both sides of RC Theorem 2 (multi-head, multi-layer);
  :func:`theorem4_experiment` and :func:`theorem5_experiment` run it for RC Theorems 4
  (one head, many layers) and 5 (many heads, one layer);
* :func:`collapse_experiment` -- the shape of the collapse of random pure Sinkhorn SANs
  (per-layer exponent, exponential vs doubly exponential law; RC-T2S);
* :func:`lambda_experiment` -- RC's coefficient at standard initialisations (RC-LAM);
* :func:`path_sampling_experiment` -- RC Sec. 4.1 path sampling on a random multi-layer SAN.

* :func:`mixing_experiment` -- products of i.i.d. Sinkhorn factors and of permutations (RC-MIX);
* :func:`lambda_dependence_experiment` -- Prop. 3's :math:`\lambda` against the matrix it bounds (RC-P3L).

Checks registered: RC-T1, RC-T2, RC-T2S, RC-T4, RC-T5, RC-LAM, RC-G, RC-EXP, RC-MIX, RC-T1P, RC-P3L, RC-BETA.
"""

from __future__ import annotations

from . import checks, experiments, tables
from .checks import *  # noqa: F401,F403
from .experiments import *  # noqa: F401,F403
from .tables import *  # noqa: F401,F403

__all__ = sorted(
    name
    for name in {*checks.__all__, *experiments.__all__, *tables.__all__}
    if not name.startswith("_")
)
