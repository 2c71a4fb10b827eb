"""Chapter 2, the experiments (config in, dataclass of arrays out, disk-cached), by concern."""

from __future__ import annotations

from .benchmark import (
    BENCH_LABELS,
    _f,
    benchmark_summary,
    load_benchmark,
)
from .common import (
    ALG1_TEMPERATURES,
    TEMPERATURES,
    _EXP,
    algorithm1_costs,
    clopper_pearson,
    column_softmax,
    row_entropy,
    sig_range,
    tex,
    tex_num,
)
from .convergence import (
    Alg1Config,
    Alg1Result,
    alg1_experiment,
)
from .entropy_order import (
    EntropyOrderConfig,
    EntropyOrderResult,
    entropy_order_experiment,
    two_token_example,
)
from .expansion import (
    P4Config,
    P4Result,
    SketchConfig,
    SketchResult,
    first_order_coefficient,
    p4_experiment,
    p4_summary,
    sketch_experiment,
)
from .filtering import (
    AGG_LEVEL,
    AGG_MARGIN,
    AGG_TEMPERATURES,
    AggConfig,
    AggResult,
    GradConfig,
    GradResult,
    _CHUNK,
    _fd_errors,
    _gauge_solver,
    _lanczos_top,
    _power_direction,
    agg_experiment,
    agg_outcome,
    grad_experiment,
    jacobian_norm_bounds,
    sinkhorn_jacobian_apply,
)
from .logdomain import (
    UNDERFLOW_SPAN,
    LogDomainConfig,
    LogDomainResult,
    log_iterates,
    logdomain_experiment,
    plain_iterates,
)
from .nonnegative import (
    SKA_KINDS,
    SkaConfig,
    SkaResult,
    _permute,
    alternating_normalisation,
    nonnegative_patterns,
    ska_experiment,
    ska_outcome,
    support_structure,
)
from .scaling import (
    AttentionConfig,
    AttentionResult,
    CONV_TOLS,
    ExpansionConfig,
    ExpansionResult,
    QConfig,
    QResult,
    ScalingConfig,
    ScalingResult,
    _EXACT,
    _q_matrix,
    attention_experiment,
    expansion_experiment,
    loglog_slope,
    q_experiment,
    q_project_vec,
    scaling_experiment,
)
from .spectra import (
    SpectralConfig,
    SpectralResult,
    SweepConfig,
    SweepResult,
    _SPEC_T,
    _depth_fixed,
    _depth_product,
    attention_scores,
    marginal_error_trace,
    spectral_experiment,
    sweep_experiment,
)
