r"""Chapter 1: Preliminaries (claims HT-A1, HT-C, HT-PF, HT-R1, HT-L1, HT-AA, HT-L2, HT-L2S, RC-E, RC-PD).

The package of ``chapters/01_preliminaries.ipynb``: :mod:`.experiments` (config in, dataclass
of arrays out, disk-cached; split by concern), :mod:`.checks` (one check per claim id and the
:data:`CHECKS` table), :mod:`.tables` (Markdown tables) and :mod:`.figures` (figures, Explore). The experiments:

* :func:`dsm_spectra_experiment` -- HT Algorithm 1 DSMs over a temperature grid, stopped
  at ``tol`` or run for exactly ``K`` iterations: :math:`\sigma_1`, :math:`\sigma_2`,
  :math:`\|M\|_{\mathcal V_\perp}`, eigenvalues, marginal errors (HT-A1, HT-C, HT-L2);
* :func:`special_dsm_experiment` -- non-primitive DSMs, exact (Birkhoff) DSMs and a
  row-stochastic control (HT-A1, HT-L2);
* :func:`sigma1_draws_experiment` -- :math:`\sigma_1` of Algorithm 1 outputs near the
  convergence boundary, in several independent draws of R = 1000 (HT-C);
* :func:`pf_experiment` -- Perron-Frobenius versus :math:`\sigma_1`: primitive non-negative
  matrices with spectral radius 1 that are not DSMs, and non-primitive DSMs (HT-PF);
* :func:`strict_experiment` -- :math:`\sigma_2` of Algorithm 1 DSMs over HT's 16 temperatures, of
  primitive DSMs :math:`BQ` with :math:`\sigma_2 = 1`, and of imprimitive DSMs (HT-L2S);
* :func:`noise_experiment` -- the projected noise :math:`\mathcal P_\perp\xi` (HT-R1, HT-L1);
* :func:`concentration_experiment` -- chi-norm tails against :math:`2e^{-t^2/2}` (HT-AA);
* :func:`norm_experiment` -- :math:`\|A\|_2 \le \|A\|_{1,\infty}` and a triangle-inequality
  counterexample search (RC-E);
* :func:`path_experiment` -- the path decomposition of a pure attention network (RC-PD).

All random draws are seeded explicitly; nothing loops over trials in Python.
"""

from __future__ import annotations

from . import checks, experiments, figures, tables
from .checks import *  # noqa: F401,F403
from .experiments import *  # noqa: F401,F403
from .figures import *  # noqa: F401,F403
from .tables import *  # noqa: F401,F403
from .._format import mtex as _m  # noqa: F401 (the notebook's number formatting)
from .._format import sig as _sig  # noqa: F401
from .._format import small as _tiny  # noqa: F401

__all__ = sorted(
    name
    for name in {*checks.__all__, *experiments.__all__, *figures.__all__, *tables.__all__}
    if not name.startswith("_")
)
