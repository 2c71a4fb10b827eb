r"""Chapter 2: Sinkhorn, temperature, and the Q-projection (claims HT-ALG1 ... RC-SKA).

Experiments (config in, dataclass of arrays out, disk-cached) and the claim checks of
``chapters/02_sinkhorn_and_q.ipynb`` (and the benchmark of ``chapters/appendix_performance.ipynb``):
experiments in :mod:`.experiments`, checks in :mod:`.checks`, figures and tables in :mod:`.figures`
and :mod:`.tables`; ``from dsmlib.experiments import ch02_sinkhorn_q as ch`` reaches everything:

* :func:`sweep_experiment` -- HT Algorithm 1 over a temperature grid (HT-E1);
* :func:`alg1_experiment` -- does Algorithm 1 return DSMs, over five seed blocks (HT-ALG1);
* :func:`agg_experiment`, :func:`grad_experiment` -- Sinkhorn vs Softmax on
  :math:`\mathcal V_\perp`, and the Jacobian of the projection (HT-AGG, HT-GRAD);
* :func:`spectral_experiment` -- effective depth, non-normality, powers on
  :math:`\mathcal V_\perp` (HT-T2, HT-R2);
* :func:`scaling_experiment` -- uniqueness of the Sinkhorn scaling and its shift
  invariance (RC-SK, RC-SHIFT);
* :func:`q_experiment` -- the projection Q and its norm bound (RC-P2, RC-P3);
* :func:`expansion_experiment` -- the first-order expansion of Sinkhorn at 0 (RC-L1);
* :func:`p4_experiment` -- RC Prop. 4's composition of softmaxes (RC-P4);
* :func:`sketch_experiment` -- RC Lemma 1's proof sketch followed as written (RC-L1P);
* :func:`logdomain_experiment` -- RC App. A's log-domain iteration against the plain one (RC-LOG);
* :func:`ska_experiment` -- Sinkhorn-Knopp for non-negative matrices (RC-SKA);
* :func:`attention_experiment`, :func:`entropy_order_experiment` -- Softmax vs Sinkhorn on
  attention-like scores and the marginal error vs iterations: context for RC-F1 and
  RC-CONV, which chapter 6 judges on trained maps (no check registered here).

All random draws are seeded explicitly; nothing loops over trials in Python.
"""

from __future__ import annotations

from . import checks, experiments, figures, tables
from .checks import *  # noqa: F401,F403
from .experiments import *  # noqa: F401,F403
from .figures import *  # noqa: F401,F403
from .tables import *  # noqa: F401,F403
from .experiments.common import row_entropy as _row_entropy  # noqa: F401
from .._format import small as fmt_small  # noqa: F401 (the notebook's number formatting)

__all__ = sorted(
    name
    for name in {*checks.__all__, *experiments.__all__, *figures.__all__, *tables.__all__}
    if not name.startswith("_")
)
