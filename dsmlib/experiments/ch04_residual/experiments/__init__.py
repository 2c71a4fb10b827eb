"""Chapter 4, the experiments (config in, dataclass of arrays out, disk-cached), by concern."""

from __future__ import annotations

from .common import (
    ARCHS,
    PAIRED,
    SATURATION_THRESHOLD,
    VARIANTS,
    _Q,
    _boot_growth,
    _pct,
    _pool_index,
    _tex,
    growth_ratio,
    make_inputs,
    variant_index,
)
from .deep import (
    DeepConfig,
    DeepResult,
    ESC_COLS,
    EscapeConfig,
    EscapeResult,
    HIGH_ENTROPY_SIGMA2,
    MIXINGS,
    PERP_SKIP,
    deep_experiment,
    effective_depth,
    escape_experiment,
    measured_depth,
    saturation_table,
)
from .detail import (
    ACC_RATIO,
    ACC_ROUNDING,
    DetailDecayConfig,
    DetailDecayResult,
    detail_decay_experiment,
    detail_rates,
)
from .pairs import (
    NoisyPairConfig,
    NoisyPairResult,
    RES_ARCHS,
    RES_KEYS,
    RES_COLLAPSE_MARGIN,
    RES_KEEP_LEVEL,
    cluster_ci,
    noisy_pair_experiment,
    skip_pair_law,
)
from .paths import (
    MIXTURE_FACTOR,
    PathConfig,
    PathResult,
    RESIDUAL_FLOOR,
    _C5,
    decay_rates,
    mixture_prediction,
    mixture_rates,
    mixture_table,
    path_experiment,
    skip_tests,
)
from .walk import (
    DECOR_DEG,
    FIT_WINDOW,
    GROW_BETA,
    IdentityDepthConfig,
    IdentityDepthResult,
    PRACTICAL_DEPTH,
    STOP_BETA,
    THETA_ID_DEG,
    WalkFit,
    _angles,
    _checkpoints,
    _crossing,
    identity_depth_experiment,
    identity_depth_law,
    walk_fits,
)
