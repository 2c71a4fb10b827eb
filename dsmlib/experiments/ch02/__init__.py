"""Chapter 2, split by concern; :mod:`dsmlib.experiments.ch02_sinkhorn_q` re-exports all of it.

* :mod:`.common` -- Algorithm-1 costs, the temperature grid, softmaxes, binomial intervals;
* :mod:`.convergence` -- does Algorithm 1 return DSMs, over seeds (HT-ALG1);
* :mod:`.filtering` -- Sinkhorn vs Softmax on V_perp (HT-AGG), gradients (HT-GRAD);
* :mod:`.expansion` -- RC Prop. 4's composition of softmaxes (RC-P4);
* :mod:`.nonnegative` -- Sinkhorn-Knopp for non-negative matrices (RC-SKA);
* :mod:`.entropy_order` -- when Sinkhorn's rows are *less* spread than Softmax's;
* :mod:`.benchmark` -- the table and figure of the stored ``make bench`` run.
"""

# importing the modules registers their checks
from . import benchmark, common, convergence, entropy_order, expansion, filtering, nonnegative  # noqa: F401
