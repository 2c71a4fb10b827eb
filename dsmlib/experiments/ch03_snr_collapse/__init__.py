r"""Chapter 3: SNR collapse under LayerNorm (claims HT-L3, HT-SNR, HT-LEVY, HT-T1, HT-T1P, HT-E2,
HT-AFF, HT-WEDIN, HT-IRREV, HT-ESC).

The package of ``chapters/03_snr_collapse.ipynb``, split by concern:

* :mod:`.experiments` (frozen config in, dataclass of arrays out, disk-cached): ``common``
  (seeds, DSM batches), ``snr`` (Lemma 3, Eq. 4, Levy, Theorem 1's statement), ``collapse``
  (Exp. 2's data, affine LN, Wedin), ``proof`` (Theorem 1's proof, HT-T1P), ``e2`` (the
  pre-registered equivalence test of Exp. 2, HT-E2), ``irrev`` (invertibility on
  :math:`\mathcal V_\perp` with and without noise, HT-IRREV), ``escape`` (a scale and non-DSM
  mixing in HT's block, HT-ESC);
* :mod:`.checks` -- one check per claim id and :data:`CHECKS`, the chapter's table;
* :mod:`.figures` -- the chapter's figures; :mod:`.tables` -- its tables (Markdown).
"""

from __future__ import annotations

from . import checks, experiments, figures
from .checks import *  # noqa: F401,F403
from .experiments import *  # noqa: F401,F403
from . import tables  # noqa: F401
from .figures import *  # noqa: F401,F403

__all__ = sorted(
    name
    for name in {"tables", *checks.__all__, *experiments.__all__, *figures.__all__}
    if not name.startswith("_")
)
