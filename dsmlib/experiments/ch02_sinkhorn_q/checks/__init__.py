"""Chapter 2, the checks (result -> Verdict) and :data:`CHECKS`, the chapter's table claim id -> (experiment, check).

HT's statements in :mod:`.ht`, RC's in :mod:`.rc`.
"""

from __future__ import annotations

from ..experiments.convergence import alg1_experiment
from ..experiments.expansion import p4_experiment, sketch_experiment
from ..experiments.filtering import agg_experiment, grad_experiment
from ..experiments.logdomain import logdomain_experiment
from ..experiments.nonnegative import ska_experiment
from ..experiments.scaling import expansion_experiment, q_experiment, scaling_experiment
from ..experiments.spectra import spectral_experiment, sweep_experiment
from . import ht, rc
from .ht import *  # noqa: F401,F403
from .rc import *  # noqa: F401,F403

__all__ = ["CHECKS", *ht.__all__, *rc.__all__]

#: chapter 2's claim checks: claim id -> (experiment, check)
CHECKS = {
    "HT-ALG1": (alg1_experiment, check_ht_alg1),
    "HT-AGG": (agg_experiment, check_ht_agg),
    "HT-GRAD": (grad_experiment, check_ht_grad),
    "RC-P4": (p4_experiment, check_rc_p4),
    "RC-SKA": (ska_experiment, check_rc_ska),
    "HT-E1": (sweep_experiment, check_ht_e1),
    "HT-T2": (spectral_experiment, check_ht_t2),
    "HT-R2": (spectral_experiment, check_ht_r2),
    "RC-SK": (scaling_experiment, check_rc_sk),
    "RC-SHIFT": (scaling_experiment, check_rc_shift),
    "RC-P2": (q_experiment, check_rc_p2),
    "RC-P3": (q_experiment, check_rc_p3),
    "RC-L1": (expansion_experiment, check_rc_l1),
    "RC-L1P": (sketch_experiment, check_rc_l1p),
    "RC-LOG": (logdomain_experiment, check_rc_log),
}
