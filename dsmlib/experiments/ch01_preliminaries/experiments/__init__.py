"""Chapter 1, the experiments (config in, dataclass of arrays out, disk-cached), by concern."""

from __future__ import annotations

from .noise import (
    ConcentrationConfig,
    ConcentrationResult,
    NoiseConfig,
    NoiseResult,
    _directions,
    concentration_experiment,
    noise_experiment,
)
from .norms import (
    NormConfig,
    NormResult,
    PathConfig,
    PathResult,
    norm_experiment,
    path_experiment,
)
from .pieces import (
    EIG_TEMPERATURES,
    TEMPERATURES,
    _decade,
    chi_mean,
    norm_1inf,
    path_sum,
)
from .spectra import (
    DRAW_TEMPERATURES,
    DSMSpectraConfig,
    DSMSpectraResult,
    FamilyConfig,
    FamilySpectra,
    PFConfig,
    PFResult,
    Sigma1DrawsConfig,
    Sigma1DrawsResult,
    SpecialConfig,
    SpecialResult,
    SpectraBundle,
    algorithm1_outputs,
    dsm_spectra_experiment,
    family_spectra,
    is_primitive,
    perron_bracket,
    pf_experiment,
    sigma1_draws_experiment,
    special_dsm_experiment,
    spectra_experiment,
)
from .strict import (
    HT_TEMPERATURES,
    StrictConfig,
    StrictResult,
    reducible_gram_dsm,
    strict_experiment,
)
