r"""Chapter 4: residual stagnation, effective depth and skip paths (HT-P1, HT-DEEP, HT-RES, RC-SKIP, HT-VPERP, HT-ACC).

Experiments of ``chapters/04_residual_stagnation.ipynb``:

* :func:`deep_experiment` -- deep networks :math:`x_{\ell+1}=\mathrm N(s x_\ell+\phi(M_\ell x_\ell))`
  with DSMs from HT Algorithm 1 over temperatures, four architectures (skip / no skip, with
  and without LayerNorm), :math:`\phi\in\{\mathrm{ReLU},\mathrm{id}\}`, inputs with and
  without a mean component (HT-P1, HT-DEEP);
* :func:`escape_experiment` -- the escape routes of HT's conclusion: a branch scale
  :math:`\alpha`, Gaussian or row-softmax mixing;
* :func:`path_experiment` -- RC Sec. 4.1: products of chapter 5's random Sinkhorn / Softmax
  attention-like matrices along paths with and without skipped layers, and the whole skip
  network :math:`\prod(I+P_\ell)/2` against the path-length mixture (RC-SKIP);
* :func:`noisy_pair_experiment` -- HT's noise model in every block, two similar inputs, with
  and without skips (HT-RES);
* :func:`detail_decay_experiment` -- the detail component through pure DSM layers and through
  permutations (HT-ACC); :func:`deep_experiment` also answers HT-VPERP (mean fractions);
* :func:`identity_depth_experiment` -- skip networks up to thousands of layers with fresh
  matrices per layer and with one fixed matrix: the random-walk law of the angle (HT-DEEP).

**Pool of DSMs.** ``depth x trials`` independent 64 x 64 DSMs would be 64 x 1000 x 32 kB
= 2 GB per temperature. Each temperature therefore draws a pool of ``pool`` (default 2000)
DSMs with Algorithm 1 (one batched call), and every trial uses ``depth`` *distinct* pool
matrices (the first ``depth`` entries of its own random permutation of the pool). Within
a trial the layers are independent draws; across trials, matrices are shared (each is used
about ``depth * trials / pool`` = 32 times, at different layers and with different inputs).
"""

from __future__ import annotations

from . import checks, experiments, figures, tables
from .checks import *  # noqa: F401,F403
from .experiments import *  # noqa: F401,F403
from .figures import *  # noqa: F401,F403
from .tables import *  # noqa: F401,F403

__all__ = sorted(
    name
    for name in {*checks.__all__, *experiments.__all__, *figures.__all__, *tables.__all__}
    if not name.startswith("_")
)
