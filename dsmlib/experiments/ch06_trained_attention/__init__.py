r"""Chapter 6: Softmax vs Sinkhorn attention in ViTs trained from scratch (RC Sec. 4, App. F-G).

Claims RC-F1, RC-F3, RC-F4, RC-DS, RC-GT, RC-MECH, RC-CONV of
``chapters/06_trained_attention.ipynb``, split by concern:

* :mod:`.experiments` -- configs, the result dataclass, the pieces of the analysis and
  :func:`trained_experiment` (numpy inference on the stored, sha256-verified weights);
* :mod:`.analysis` -- the pre-registered Softmax-vs-Sinkhorn comparisons with the seed-to-seed
  yardstick;
* :mod:`.checks` -- one check per claim id and :data:`CHECKS`, the chapter's table
  claim id -> (experiment, check);
* :mod:`.tables` and :mod:`.figures` -- everything the notebook shows.
"""

from __future__ import annotations

from .analysis import (
    Comparison,
    amplification,
    compare_entropy,
    compare_outputs,
    compare_paths,
    correlation_comparison,
    curve_stat,
    ds_trend,
    gt_rates,
    median_ratio,
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
    ALPHA,
    CONV_SHARE,
    CONV_TOL,
    DATASETS,
    DS_FACTOR,
    DS_RHO,
    F4_KEEP,
    F4_MARGIN,
    FLOOR,
    NORMS,
    READINGS,
    SEEDS,
    SETTINGS,
    SKIP_READING,
    VARIANTS,
    TrainedConfig,
    TrainedResult,
    available_models,
    default_config,
    marginal_error,
    marginal_trace,
    mean_row_residual,
    model_names,
    path_indices,
    path_products,
    row_entropy,
    trained_experiment,
)
from .figures import (
    fig_attention_maps,
    fig_convergence,
    fig_correlation,
    fig_ds_trend,
    fig_entropy,
    fig_gt,
    fig_outputs,
    fig_paths,
    fig_training,
)
from .tables import (
    table_amplification,
    table_compare_paths,
    table_convergence,
    table_correlation,
    table_ds_trend,
    table_entropy,
    table_gt,
    table_models,
    table_outputs,
    table_paths,
)

__all__ = [
    "ALPHA", "CHECKS", "CONV_SHARE", "CONV_TOL", "DATASETS", "DS_FACTOR", "DS_RHO", "F4_KEEP",
    "F4_MARGIN", "FLOOR", "NORMS", "READINGS", "SEEDS", "SETTINGS", "SKIP_READING", "VARIANTS",
    "Comparison", "TrainedConfig", "TrainedResult",
    "amplification", "available_models", "check_rc_conv", "check_rc_ds", "check_rc_f1",
    "check_rc_f3", "check_rc_f4", "check_rc_gt", "check_rc_mech", "compare_entropy",
    "compare_outputs", "compare_paths", "correlation_comparison", "curve_stat", "default_config",
    "ds_trend", "fig_attention_maps", "fig_convergence", "fig_correlation", "fig_ds_trend",
    "fig_entropy", "fig_gt", "fig_outputs", "fig_paths", "fig_training", "gt_rates",
    "marginal_error", "marginal_trace", "mean_row_residual", "median_ratio", "model_names",
    "path_indices", "path_products", "row_entropy", "table_amplification", "table_compare_paths",
    "table_convergence", "table_correlation", "table_ds_trend", "table_entropy", "table_gt",
    "table_models", "table_outputs", "table_paths", "trained_experiment",
]
