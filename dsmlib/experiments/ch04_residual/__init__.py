r"""Chapter 4: residual stagnation, effective depth and skip paths (HT-P1, HT-DEEP, HT-RES, RC-SKIP).

Experiments of ``chapters/04_residual_stagnation.ipynb``:

* :func:`deep_experiment` -- deep networks :math:`x_{\ell+1}=\mathrm N(s x_\ell+\phi(M_\ell x_\ell))`
  with DSMs from HT Algorithm 1 over temperatures, four architectures (skip / no skip, with
  and without LayerNorm), :math:`\phi\in\{\mathrm{ReLU},\mathrm{id}\}`, inputs with and
  without a mean component (HT-P1, HT-DEEP);
* :func:`escape_experiment` -- the escape routes of HT's conclusion: a branch scale
  :math:`\alpha`, Gaussian or row-softmax mixing;
* :func:`path_experiment` -- RC Sec. 4.1: products of chapter 5's random Sinkhorn / Softmax
  attention-like matrices along paths with and without skipped layers, and the whole skip
  network :math:`\prod(I+P_\ell)/2` against the path-length mixture (RC-SKIP);
* :func:`noisy_pair_experiment` -- HT's noise model in every block, two similar inputs, with
  and without skips (HT-RES);
* :func:`identity_depth_experiment` -- skip networks up to thousands of layers with fresh
  matrices per layer and with one fixed matrix: the random-walk law of the angle (HT-DEEP).

**Pool of DSMs.** ``depth x trials`` independent 64 x 64 DSMs would be 64 x 1000 x 32 kB
= 2 GB per temperature. Each temperature therefore draws a pool of ``pool`` (default 2000)
DSMs with Algorithm 1 (one batched call), and every trial uses ``depth`` *distinct* pool
matrices (the first ``depth`` entries of its own random permutation of the pool). Within
a trial the layers are independent draws; across trials, matrices are shared (each is used
about ``depth * trials / pool`` = 32 times, at different layers and with different inputs).
"""

from __future__ import annotations

from .checks import (  # noqa: F401
    CHECKS,
    check_ht_deep,
    check_ht_p1,
    check_ht_res,
    check_rc_skip,
)
from .experiments import (  # noqa: F401
    ARCHS,
    DECOR_DEG,
    DeepConfig,
    DeepResult,
    ESC_COLS,
    EscapeConfig,
    EscapeResult,
    FIT_WINDOW,
    GROW_BETA,
    HIGH_ENTROPY_SIGMA2,
    IdentityDepthConfig,
    IdentityDepthResult,
    MIXINGS,
    MIXTURE_FACTOR,
    NoisyPairConfig,
    NoisyPairResult,
    PAIRED,
    PERP_SKIP,
    PathConfig,
    PathResult,
    RESIDUAL_FLOOR,
    RES_ARCHS,
    RES_COLLAPSE_MARGIN,
    RES_KEEP_LEVEL,
    SATURATION_THRESHOLD,
    STOP_BETA,
    THETA_ID_DEG,
    VARIANTS,
    WalkFit,
    _checkpoints,
    _tex,
    cluster_ci,
    decay_rates,
    deep_experiment,
    effective_depth,
    escape_experiment,
    growth_ratio,
    identity_depth_experiment,
    identity_depth_law,
    make_inputs,
    measured_depth,
    mixture_prediction,
    mixture_rates,
    mixture_table,
    noisy_pair_experiment,
    path_experiment,
    saturation_table,
    skip_pair_law,
    skip_tests,
    variant_index,
    walk_fits,
)
from .figures import (  # noqa: F401
    angle_figure,
    escape_figure,
    explore_network,
    frame_figure,
    mixture_axes,
    pair_figure,
    path_figure,
    proof_step_figure,
    walk_figure,
)
from .tables import (  # noqa: F401
    FINDING_IDS,
    MIXING_LABELS,
    _num,
    depth_table,
    escape_table,
    findings,
    mixture_markdown,
    pair_table,
    pool_table,
    saturation_markdown,
    skip_test_table,
    violation_table,
    walk_table,
)

__all__ = [
    "ARCHS",
    "CHECKS",
    "DECOR_DEG",
    "DeepConfig",
    "DeepResult",
    "ESC_COLS",
    "EscapeConfig",
    "EscapeResult",
    "FINDING_IDS",
    "FIT_WINDOW",
    "GROW_BETA",
    "HIGH_ENTROPY_SIGMA2",
    "IdentityDepthConfig",
    "IdentityDepthResult",
    "MIXINGS",
    "MIXING_LABELS",
    "MIXTURE_FACTOR",
    "NoisyPairConfig",
    "NoisyPairResult",
    "PAIRED",
    "PERP_SKIP",
    "PathConfig",
    "PathResult",
    "RESIDUAL_FLOOR",
    "RES_ARCHS",
    "RES_COLLAPSE_MARGIN",
    "RES_KEEP_LEVEL",
    "SATURATION_THRESHOLD",
    "STOP_BETA",
    "THETA_ID_DEG",
    "VARIANTS",
    "WalkFit",
    "angle_figure",
    "check_ht_deep",
    "check_ht_p1",
    "check_ht_res",
    "check_rc_skip",
    "cluster_ci",
    "decay_rates",
    "deep_experiment",
    "depth_table",
    "effective_depth",
    "escape_experiment",
    "escape_figure",
    "escape_table",
    "explore_network",
    "findings",
    "frame_figure",
    "growth_ratio",
    "identity_depth_experiment",
    "identity_depth_law",
    "make_inputs",
    "measured_depth",
    "mixture_axes",
    "mixture_markdown",
    "mixture_prediction",
    "mixture_rates",
    "mixture_table",
    "noisy_pair_experiment",
    "pair_figure",
    "pair_table",
    "path_experiment",
    "path_figure",
    "pool_table",
    "proof_step_figure",
    "saturation_markdown",
    "saturation_table",
    "skip_pair_law",
    "skip_test_table",
    "skip_tests",
    "variant_index",
    "violation_table",
    "walk_figure",
    "walk_fits",
    "walk_table",
]
