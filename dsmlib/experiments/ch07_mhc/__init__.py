r"""Chapter 7, beyond the papers: doubly stochastic residual mixers (mHC).

mHC widens the residual stream to four streams mixed at every sublayer by a Sinkhorn-projected
:math:`4\times4` matrix :math:`H^{res}` (:mod:`dsmlib.mhc`). HT's :math:`\sigma_2^k` argument
(Lemma 2, Remark 2) says a product of such matrices contracts the streams' differences unless
each factor stays near a permutation. The book's own results, each a ``BK-`` id:

* ``BK-MHCS2``: :math:`\sigma_2` at each recipe's initialisation and of the products over 2L factors;
* ``BK-MHCLINE``: the per-factor :math:`\sigma_2` keeping half the detail, and the reported matrices;
* ``BK-MHCDS``: distance from doubly stochastic against logit range and precision;
* ``BK-MHCGAIN``: composite Amax gain over 122 factors, eps's contraction, the side of the error;
* ``BK-MHCNORM``: whether a pre-norm restores contracted stream differences.

Modules: :mod:`.experiments` (configs, disk-cached experiments), :mod:`.checks` (rules and
:data:`CHECKS`), :mod:`.figures`, :mod:`.tables`.
"""

from __future__ import annotations

from .checks import (  # noqa: F401
    CHECKS,
    check_bk_mhcds,
    check_bk_mhcgain,
    check_bk_mhcline,
    check_bk_mhcnorm,
    check_bk_mhcs2,
)
from .experiments import (  # noqa: F401
    LAYERS,
    LEARNED_GAP,
    DSConfig,
    GainConfig,
    LineConfig,
    NormConfig,
    S2Config,
    ds_experiment,
    gain_experiment,
    line_experiment,
    norm_experiment,
    s2_experiment,
)
from .figures import explore_figure, fig_ds, fig_gain, fig_line, fig_norm, fig_s2  # noqa: F401
from .tables import ds_table, gain_table, prose_numbers, recipe_table, s2_table  # noqa: F401

#: the chapter's ids with a few words each, for the Findings line
FINDING_TOPICS = {
    "BK-MHCS2": r"HT's $\sigma_2^k$ bound at each recipe's initialisation",
    "BK-MHCLINE": "the line between identity per layer and uniform in the product",
    "BK-MHCDS": "distance from doubly stochastic per precision",
    "BK-MHCGAIN": "composite Amax gain, eps and the side of the error",
    "BK-MHCNORM": "pre-norms and contracted stream differences",
}
FINDING_IDS = tuple(FINDING_TOPICS)

__all__ = [
    "CHECKS", "DSConfig", "FINDING_IDS", "FINDING_TOPICS", "GainConfig", "LAYERS", "LEARNED_GAP", "LineConfig",
    "NormConfig", "S2Config", "check_bk_mhcds", "check_bk_mhcgain", "check_bk_mhcline", "check_bk_mhcnorm",
    "check_bk_mhcs2", "ds_experiment", "ds_table", "explore_figure", "fig_ds", "fig_gain", "fig_line", "fig_norm",
    "fig_s2", "gain_experiment", "gain_table", "line_experiment", "norm_experiment", "prose_numbers", "recipe_table",
    "s2_experiment",
    "s2_table",
]
