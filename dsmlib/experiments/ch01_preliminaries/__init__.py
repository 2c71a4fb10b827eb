r"""Chapter 1: Preliminaries (claims HT-A1, HT-C, HT-PF, HT-R1, HT-L1, HT-AA, HT-L2, HT-L2S, RC-E, RC-PD).

The package of ``chapters/01_preliminaries.ipynb``: :mod:`.experiments` (config in, dataclass
of arrays out, disk-cached; split by concern), :mod:`.checks` (one check per claim id and the
:data:`CHECKS` table), :mod:`.tables` (Markdown tables) and :mod:`.figures` (figures, Explore). The experiments:

* :func:`dsm_spectra_experiment` -- HT Algorithm 1 DSMs over a temperature grid, stopped
  at ``tol`` or run for exactly ``K`` iterations: :math:`\sigma_1`, :math:`\sigma_2`,
  :math:`\|M\|_{\mathcal V_\perp}`, eigenvalues, marginal errors (HT-A1, HT-C, HT-L2);
* :func:`special_dsm_experiment` -- non-primitive DSMs, exact (Birkhoff) DSMs and a
  row-stochastic control (HT-A1, HT-L2);
* :func:`sigma1_draws_experiment` -- :math:`\sigma_1` of Algorithm 1 outputs near the
  convergence boundary, in several independent draws of R = 1000 (HT-C);
* :func:`pf_experiment` -- Perron-Frobenius versus :math:`\sigma_1`: primitive non-negative
  matrices with spectral radius 1 that are not DSMs, and non-primitive DSMs (HT-PF);
* :func:`strict_experiment` -- :math:`\sigma_2` of Algorithm 1 DSMs over HT's 16 temperatures, of
  primitive DSMs :math:`BQ` with :math:`\sigma_2 = 1`, and of imprimitive DSMs (HT-L2S);
* :func:`noise_experiment` -- the projected noise :math:`\mathcal P_\perp\xi` (HT-R1, HT-L1);
* :func:`concentration_experiment` -- chi-norm tails against :math:`2e^{-t^2/2}` (HT-AA);
* :func:`norm_experiment` -- :math:`\|A\|_2 \le \|A\|_{1,\infty}` and a triangle-inequality
  counterexample search (RC-E);
* :func:`path_experiment` -- the path decomposition of a pure attention network (RC-PD).

All random draws are seeded explicitly; nothing loops over trials in Python.
"""

from __future__ import annotations

from .checks import (  # noqa: F401
    CHECKS,
    check_ht_a1,
    check_ht_aa,
    check_ht_c,
    check_ht_l1,
    check_ht_l2,
    check_ht_l2s,
    check_ht_pf,
    check_ht_r1,
    check_rc_e,
    check_rc_pd,
)
from .experiments import (  # noqa: F401
    ConcentrationConfig,
    ConcentrationResult,
    DRAW_TEMPERATURES,
    DSMSpectraConfig,
    DSMSpectraResult,
    EIG_TEMPERATURES,
    FamilyConfig,
    FamilySpectra,
    HT_TEMPERATURES,
    NoiseConfig,
    NoiseResult,
    NormConfig,
    NormResult,
    PFConfig,
    PFResult,
    PathConfig,
    PathResult,
    Sigma1DrawsConfig,
    Sigma1DrawsResult,
    SpecialConfig,
    SpecialResult,
    SpectraBundle,
    StrictConfig,
    StrictResult,
    TEMPERATURES,
    _decade,
    algorithm1_outputs,
    chi_mean,
    concentration_experiment,
    dsm_spectra_experiment,
    family_spectra,
    is_primitive,
    noise_experiment,
    norm_1inf,
    norm_experiment,
    path_experiment,
    path_sum,
    perron_bracket,
    pf_experiment,
    reducible_gram_dsm,
    sigma1_draws_experiment,
    special_dsm_experiment,
    spectra_experiment,
    strict_experiment,
)
from .figures import (  # noqa: F401
    aa_figure,
    eigenvalue_figure,
    l1_figure,
    l2_figure,
    l2s_figure,
    pf_figure,
    r1_figure,
    sigma1_figure,
    spectrum_explorer,
    spectrum_figure,
    spectrum_player,
)
from .tables import (  # noqa: F401
    one_dsm_line,
    eigen_markdown,
    ht_c_markdown,
    ht_c_table,
    l2_markdown,
    noise_markdown,
    norms_markdown,
    paths_markdown,
    pf_markdown,
    sigma1_markdown,
    summary_markdown,
)
from .._format import mtex as _m  # noqa: F401 (the notebook's number formatting)
from .._format import sig as _sig  # noqa: F401
from .._format import small as _tiny  # noqa: F401

__all__ = [
    "CHECKS",
    "ConcentrationConfig",
    "ConcentrationResult",
    "DRAW_TEMPERATURES",
    "DSMSpectraConfig",
    "DSMSpectraResult",
    "EIG_TEMPERATURES",
    "FamilyConfig",
    "FamilySpectra",
    "HT_TEMPERATURES",
    "NoiseConfig",
    "NoiseResult",
    "NormConfig",
    "NormResult",
    "PFConfig",
    "PFResult",
    "PathConfig",
    "PathResult",
    "Sigma1DrawsConfig",
    "Sigma1DrawsResult",
    "SpecialConfig",
    "SpecialResult",
    "SpectraBundle",
    "StrictConfig",
    "StrictResult",
    "TEMPERATURES",
    "algorithm1_outputs",
    "check_ht_a1",
    "check_ht_aa",
    "check_ht_c",
    "check_ht_l1",
    "check_ht_l2",
    "check_ht_l2s",
    "check_ht_pf",
    "check_ht_r1",
    "check_rc_e",
    "check_rc_pd",
    "chi_mean",
    "concentration_experiment",
    "dsm_spectra_experiment",
    "family_spectra",
    "aa_figure",
    "eigen_markdown",
    "eigenvalue_figure",
    "ht_c_markdown",
    "ht_c_table",
    "l1_figure",
    "l2_figure",
    "l2_markdown",
    "l2s_figure",
    "noise_markdown",
    "norms_markdown",
    "paths_markdown",
    "pf_figure",
    "pf_markdown",
    "r1_figure",
    "sigma1_figure",
    "sigma1_markdown",
    "spectrum_explorer",
    "spectrum_figure",
    "spectrum_player",
    "summary_markdown",
    "is_primitive",
    "noise_experiment",
    "norm_1inf",
    "norm_experiment",
    "path_experiment",
    "path_sum",
    "perron_bracket",
    "pf_experiment",
    "reducible_gram_dsm",
    "sigma1_draws_experiment",
    "special_dsm_experiment",
    "spectra_experiment",
    "strict_experiment",
]
