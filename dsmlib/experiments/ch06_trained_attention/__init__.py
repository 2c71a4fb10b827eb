r"""Chapter 6: Softmax vs Sinkhorn attention in ViTs trained from scratch (RC Sec. 4, App. F-G).

Claims RC-F1, RC-F3, RC-MECH, RC-F4, RC-CONV, RC-DS, RC-GT (and RC-F2, untested) of
``chapters/06_trained_attention.ipynb``, decided by the pre-registered ensemble rule of
``dsmlib/trained/PREREGISTRATION.md``, split by concern:

* :mod:`.experiments` -- :func:`model_summary` (one trained model in, its pre-registered
  per-model summaries out; numpy float64 inference on the whole test split, weights verified
  on every use), :func:`setting_summary` (the same for RC-DS's second reading, Sinkformers'
  MNIST setting) and :func:`ensemble_experiment` (every stored model);
* :mod:`.analysis` -- the registration's cells (Welch + permutation, sign-flip, bootstrap,
  TOST, smallest detectable effect) per claim, reading and data set, and its verdict table;
* :mod:`.checks` -- one check per claim id and :data:`CHECKS`, the chapter's table
  claim id -> (experiment, check);
* :mod:`.tables` and :mod:`.figures` -- everything the notebook shows.
"""

from __future__ import annotations

from .analysis import (
    CLAIM_CELLS,
    NEW_SEEDS,
    PAPER_DATASET,
    REGISTRATION_COMMIT,
    Part,
    claim_cells,
    claim_decision,
    decay_slope,
    growth_factor,
    rc_ds_sinkformers,
)
from .checks import (
    CHECKS,
    check_rc_conv,
    check_rc_ds,
    check_rc_f1,
    check_rc_f3,
    check_rc_f4,
    check_rc_gt,
    check_rc_mech,
)
from .experiments import (
    DATASETS,
    NORMS,
    READINGS,
    SEEDS,
    SETTINGS,
    EnsembleConfig,
    EnsembleResult,
    ModelSummary,
    SettingSummary,
    ensemble_experiment,
    model_summary,
    setting_summary,
    stored_models,
    stored_sinkformers_models,
)
from .figures import fig_attention, fig_forest, fig_paths, fig_runs
from .tables import table_departures, table_models, training_cost

__all__ = [
    "CHECKS", "CLAIM_CELLS", "DATASETS", "NEW_SEEDS", "NORMS", "PAPER_DATASET", "READINGS",
    "REGISTRATION_COMMIT", "SEEDS", "SETTINGS", "EnsembleConfig", "EnsembleResult", "ModelSummary", "Part",
    "SettingSummary", "rc_ds_sinkformers", "setting_summary", "stored_sinkformers_models",
    "check_rc_conv", "check_rc_ds", "check_rc_f1", "check_rc_f3", "check_rc_f4", "check_rc_gt", "check_rc_mech",
    "claim_cells", "claim_decision", "decay_slope", "ensemble_experiment", "fig_attention", "fig_forest",
    "fig_paths", "fig_runs", "growth_factor", "model_summary", "stored_models", "table_departures",
    "table_models", "training_cost",
]
