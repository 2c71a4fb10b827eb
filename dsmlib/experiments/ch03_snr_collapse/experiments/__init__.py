"""Chapter 3, the experiments (config in, dataclass of arrays out, disk-cached), by concern."""

from __future__ import annotations

from .collapse import (
    AffineConfig,
    AffineResult,
    CollapseConfig,
    CollapseResult,
    METHODS,
    WedinConfig,
    WedinResult,
    _fit_percoord,
    _replace_temps,
    _sin,
    _top_eigvec,
    _top_right_2x2,
    affine_experiment,
    collapse_experiment,
    collapse_pairs,
    wedin_experiment,
)
from .common import (
    SEEDS,
    TEMPS,
    _dsm_batch,
    clopper_pearson,
    dsm_batch,
    unit_detail,
)
from .e2 import (
    E2Config,
    E2Result,
    _cluster_mean,
    _pairs,
    e2_prereg_experiment,
    e2_stats,
)
from .irrev import (
    COND_MAX,
    IrrevConfig,
    IrrevResult,
    LOST,
    REC_TOL,
    _matched,
    detail_basis,
    irrev_experiment,
    lmmse_recovered_fraction,
)
from .proof import (
    E2_ALPHA,
    E2_DIST_MARGIN,
    E2_DSMS,
    E2_MEAN_MARGIN,
    E2_PAIRS,
    E2_SD_MARGIN,
    E2_T_HIGH,
    E2_T_LOW,
    ProofConfig,
    ProofResult,
    proof_steps,
    theorem1_proof_experiment,
)
from .snr import (
    Lemma3Config,
    Lemma3Result,
    LevyConfig,
    LevyResult,
    SNRConfig,
    SNRResult,
    Theorem1Config,
    Theorem1Result,
    _ratio_2d,
    lemma3_experiment,
    lemma3_sup,
    levy_experiment,
    snr_experiment,
    theorem1_cells,
    theorem1_experiment,
)
