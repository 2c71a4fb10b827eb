r"""Chapter 3: SNR collapse under LayerNorm (claims HT-L3, HT-SNR, HT-LEVY, HT-T1, HT-T1P, HT-E2,
HT-AFF, HT-WEDIN, HT-IRREV).

Experiments (frozen config in, dataclass of arrays out, disk-cached) and the claim checks of
``chapters/03_snr_collapse.ipynb``, split by concern:

* :mod:`._core` -- the model, Lemma 3, Eq. 4, Lévy, Theorem 1's statement, Exp. 2's data,
  affine LN, Wedin, and the chapter's figures;
* :mod:`.proof` -- Theorem 1's proof stepped through numerically (HT-T1P);
* :mod:`.e2` -- the pre-registered equivalence test of Exp. 2 (HT-E2);
* :mod:`.irrev` -- invertibility of :math:`M` on :math:`\mathcal V_\perp` with and without
  noise (HT-IRREV).

Every public name (and the helpers the tests and the notebook use) is re-exported here, so
``from dsmlib.experiments import ch03_snr_collapse as ch`` keeps working.
"""

from __future__ import annotations

from ._core import *  # noqa: F401,F403
from ._core import __all__ as _core_all
from ._core import METHODS, SEEDS, TEMPS, _replace_temps, _top_right_2x2  # noqa: F401
from .e2 import *  # noqa: F401,F403
from .e2 import __all__ as _e2_all
from .irrev import *  # noqa: F401,F403
from .irrev import __all__ as _irrev_all
from .proof import *  # noqa: F401,F403
from .proof import __all__ as _proof_all

__all__ = [*_core_all, *_proof_all, *_e2_all, *_irrev_all, "METHODS", "SEEDS", "TEMPS"]

from . import _core, e2, irrev, proof  # noqa: E402

#: chapter 3's claim checks: claim id -> (experiment, check)
CHECKS = {**_core.CHECKS, **proof.CHECKS, **e2.CHECKS, **irrev.CHECKS}
