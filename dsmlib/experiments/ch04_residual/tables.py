"""Chapter 4, the tables and the findings line the notebook prints (MyST Markdown)."""

from __future__ import annotations

from typing import Iterable
import numpy as np
from ...verdicts import Verdict, claim_ref

from .experiments.common import _tex
from .experiments.deep import (
    DeepResult,
    EscapeResult,
    PERP_SKIP,
    effective_depth,
    measured_depth,
    saturation_table,
)
from .experiments.detail import DetailDecayResult, detail_rates
from .experiments.pairs import RES_ARCHS, NoisyPairResult, cluster_ci, skip_pair_law
from .experiments.paths import PathResult, mixture_table, skip_tests
from .experiments.walk import (
    IdentityDepthResult,
    identity_depth_law,
    walk_fits,
)

__all__ = [
    "FINDING_IDS",
    "MIXING_LABELS",
    "_num",
    "_num_floor",
    "depth_table",
    "detail_table",
    "escape_table",
    "findings",
    "mixture_markdown",
    "pair_table",
    "pool_table",
    "saturation_markdown",
    "skip_test_table",
    "summary_markdown",
    "violation_table",
    "vperp_table",
    "walk_table",
]


# ----------------------------------------------------------------------------- tables
def _num(x: float, fmt: str) -> str:
    r"""``x`` formatted with ``fmt`` (same digits), as ``$...$`` maths (``e`` -> ``\times10^{}``)."""
    s = format(float(x), fmt)
    if "e" in s:
        mant, exp = s.split("e")
        s = rf"{mant}\times10^{{{int(exp)}}}"
    return f"${s}$"


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table from a header and rows of cell strings."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def pool_table(result: DeepResult) -> str:
    """Markdown: quartiles of sigma_2 of the DSM pool and unconverged draws, per temperature."""
    rows = [[f"{T:g}", ", ".join(f"{q:.3f}" for q in result.sigma2_q[t]), str(result.n_unconverged[t])]
            for t, T in enumerate(result.config.temperatures)]
    return _md_table([r"$T$", r"$\sigma_2$ quartiles (25%, 50%, 75%)", "unconverged"], rows)


def violation_table(result: DeepResult) -> str:
    """Markdown: fraction of (trial, layer) pairs violating the proof step, per variant and T."""
    Ts = result.config.temperatures
    rows = [[_LABELS[v]] + [f"{100 * result.violation[t, k].mean():.0f}%" for t in range(len(Ts))]
            for k, v in enumerate(result.variants)]
    return _md_table(["variant"] + [f"$T = {T:g}$" for T in Ts], rows)


def saturation_markdown(result: DeepResult, variants=PERP_SKIP) -> str:
    """Markdown version of :func:`saturation_table`: median angles, growth ratio, CI, state."""
    rows = [[_LABELS[(r["arch"], r["phi"], r["input"])], f"{r['T']:g}", f"{r['sigma2']:.2f}",
             f"{np.degrees(r['theta_half']):.0f}°", f"{np.degrees(r['theta_L']):.0f}°",
             f"{r['growth']:.2f}", f"[{r['lo']:.2f}, {r['hi']:.2f}]", r["state"]]
            for r in saturation_table(result, variants=variants)]
    header = ["variant", "$T$", r"$\tilde\sigma_2$", r"$\tilde\theta_{L/2}$", r"$\tilde\theta_L$",
              "$g$", "95% CI of $g$", "state"]
    return _md_table(header, rows)


def depth_table(result: DeepResult, theta_deg: float = 30.0) -> str:
    """Markdown: effective depth without skips and the random-walk depth with skips, per T."""
    V = result.variants
    kN = V.index(("noskip", "identity", "mean"))
    kC = V.index(("skip+C", "identity", "perp"))
    L = result.config.depth
    rows = []
    for t, T in enumerate(result.config.temperatures):
        s2 = result.sigma2_q[t, 1]
        u = result.rel_update_q[t, kC, :, 1].mean()
        meas = np.flatnonzero(np.degrees(result.angle0_q[t, kC, :, 1]) >= theta_deg)
        rows.append([f"{T:g}", f"{s2:.2f}", f"{effective_depth(s2):.1f}",
                     f"{measured_depth(result.detail_q[t, kN, :, 1]):.0f}",
                     f"{(np.radians(theta_deg) / u) ** 2:.0f}",
                     str(meas[0]) if meas.size else f"$> {L}$"])
    header = ["$T$", r"$\tilde\sigma_2$", r"no skip: $D_{\mathrm{eff}}(0.01)$",
              r"no skip: first layer with median detail $< 1\%$",
              rf"skip: $(\theta/u)^2$, $\theta = {theta_deg:g}^\circ$",
              rf"skip: first layer with $\tilde\theta_L \ge {theta_deg:g}^\circ$"]
    return _md_table(header, rows)


def walk_table(result: IdentityDepthResult) -> str:
    """Markdown: growth exponent, constant and identity depth per T (fresh and fixed matrices)."""
    fits = walk_fits(result)
    kap = float(np.exp(np.mean(np.log([f.kappa for f in fits]))))
    rows = [[f"{f.T:g}", f"{f.sigma2:.4f}", f"{f.beta:.2f}", f"{f.kappa:.3f}", _num(f.L_id, ".3g"),
             _num(identity_depth_law(f.sigma2, kap), ".3g"), f"{f.kappa_fixed:.3f}",
             _num(f.L_id_fixed, ".3g"), f"{f.theta_max_deg:.0f}°"] for f in fits]
    header = ["$T$", r"$\tilde\sigma_2$", r"$\beta$", r"$\kappa$", r"$L_{\mathrm{id}}$",
              r"law $(\theta^*/(\bar\kappa\sigma_2))^2$", r"$\kappa_f$", r"$L_{\mathrm{id}}$, fixed $M$",
              "max angle"]
    spread = np.degrees(result.fresh_net_med[:, -1].max(-1) - result.fresh_net_med[:, -1].min(-1))
    T_last = result.config.temperatures[-1]
    return (_md_table(header, rows) + f"\n\n$\\bar\\kappa = {kap:.2f}$ (geometric mean). Between-network "
            f"spread of the median angle at $L = {max(result.config.depths)}$, $T = {T_last:g}$: "
            f"${spread[-1]:.2f}^\\circ$.")


def pair_table(result: NoisyPairResult) -> str:
    """Markdown: mean pair cosine at the last depth [95% CI over networks] per block (rows) and T."""
    c = result.config
    mu, lo, hi = cluster_ci(result.net_mean_cos[:, :, -1])
    ang = result.net_angle0[:, :, -1].mean(axis=-1)
    rows = [[RES_ARCHS[a]] + [f"${mu[t, a]:+.3f}$ [${lo[t, a]:+.3f}$, ${hi[t, a]:+.3f}$], "
                              f"{ang[t, a]:.0f}°" for t in range(len(c.temperatures))]
            for a in (1, 2, 0, 3)]
    law = float(skip_pair_law(c, c.depth))
    header = ["block"] + [rf"$T = {T:g}$ ($\tilde\sigma_2 = {result.sigma2_med[t]:.3f}$)"
                          for t, T in enumerate(c.temperatures)]
    return (_md_table(header, rows)
            + f"\n\nMean pair cosine $\\cos\\angle(x_L, x_L')$ [95% CI over {c.networks} networks] and mean "
            f"angle of a stream to its own input, at $L = {c.depth}$. Noise-only law "
            f"$c_0e^{{-L\\nu^2/n}} = {law:.3f}$.")


def vperp_table(result: DeepResult) -> str:
    """Markdown (HT-VPERP): median mean fraction after 1 layer and at L, per mean-free block and T."""
    Ts = result.config.temperatures
    L = result.config.depth
    rows = []
    for k, v in enumerate(result.variants):
        if v[2] != "perp":
            continue
        cells = []
        for t in range(len(Ts)):
            m1, mL = result.meanfrac_q[t, k, 1, 1], result.meanfrac_q[t, k, -1, 1]
            cells.append(" / ".join(r"$< 10^{-15}$" if m < 1e-15 else f"{m:.2g}" for m in (m1, mL)))
        rows.append([_LABELS[v]] + cells)
    return (_md_table(["block (mean-free input)"] + [f"$T = {T:g}$" for T in Ts], rows)
            + f"\n\nMedian mean fraction $\\lvert\\bar x\\rvert\\sqrt n/\\lVert x_\\ell\\rVert$ after one "
            f"layer / at $L = {L}$.")


def detail_table(result: DetailDecayResult) -> str:
    """Markdown (HT-ACC): per temperature, the detail decay rate per layer against -ln sigma2."""
    rows = [[f"{r['T']:g}", f"{r['sigma2']:.3g}", f"{r['rate']:.3g}", f"{r['bound_rate']:.3g}",
             f"{r['ratio_late']:.3f}", str(r["violations"])] for r in detail_rates(result)]
    return _md_table([r"$T$", r"$\tilde\sigma_2$", "decay per layer", r"$-\ln\sigma_2$ per layer",
                      "late / early rate", "trajectories above the bound"], rows)


def summary_markdown(verdicts: Iterable[Verdict]) -> str:
    """The chapter's summary table: id, verdict, severity and the deciding number (the paper's own reading)."""
    rows = []
    for v in verdicts:
        rows.append([claim_ref(v.claim_id), f"**{v.verdict}**", v.severity or "–",
                     (v.own_number or "").replace("|", "/")])
    return _md_table(["claim", "verdict", "severity", "deciding number (the paper's own reading)"], rows)


def escape_table(result: EscapeResult, depths: tuple[int, ...] = (16,)) -> str:
    """Markdown: angle to the input (ReLU + LN) and the norm factor per layer, per mixing."""
    L = result.config.depth
    ds = [*depths, L]
    rows = []
    for k, name in enumerate(result.mixings):
        lab = MIXING_LABELS.get(name, name)
        a = np.degrees(result.angle0_q[k, 1, ds, 1])
        rows.append([lab] + [f"{x:.0f}°" for x in a] + [f"{np.exp(result.lognorm_q[k, 0, -1, 1] / L):.3f}"])
    header = (["mixing"] + [rf"$\angle(x_L, x_0)$, ReLU + LN, $L = {d}$" for d in ds]
              + ["norm factor per layer (identity, centred)"])
    return _md_table(header, rows)


#: values below this (residuals at the float64 floor, p-values beyond what the normal
#: approximation resolves) are printed as a bound, not as digits (issue 19)
PRINT_FLOOR = 1e-12


def _num_floor(x: float, fmt: str) -> str:
    """:func:`_num`, or ``$< 10^{-12}$`` below :data:`PRINT_FLOOR`."""
    return r"$< 10^{-12}$" if float(x) < PRINT_FLOOR else _num(x, fmt)


def skip_test_table(result: PathResult, method: str = "sinkhorn") -> str:
    """Markdown: median residual with and without skips per depth and the Bonferroni p-value."""
    rows = [[str(r["t"]), f"{r['mean_len']:.1f}", _num_floor(r["med_skip"], ".1e"),
             _num_floor(r["med_noskip"], ".1e"), _num_floor(r["p_bonf"], ".1e") if r["testable"] else "n/a"]
            for r in skip_tests(result, method)]
    return _md_table(["$t$", "mean path length", "median, skip", "median, no skip", "$p$ (Bonferroni)"],
                     rows)


def mixture_markdown(result: PathResult, method: str = "sinkhorn") -> str:
    """Markdown version of :func:`mixture_table`: measured mean residual of W_t vs the mixture."""
    rows = [[str(r["t"]), _num_floor(r["measured"], ".1e"), _num_floor(r["predicted"], ".1e"),
             _num(r["ratio"], ".2g")] for r in mixture_table(result, method)]
    return _md_table(["$t$", r"$W_t$, measured", r"mixture $\hat r(t)$", "ratio"], rows)


#: the claims the chapter checks, in the order of its summary table
FINDING_IDS = ("HT-P1", "HT-VPERP", "HT-ACC", "HT-DEEP", "HT-RES", "RC-SKIP")


def findings(verdicts: Iterable[Verdict]) -> str:
    """The chapter's Findings (a MyST bulleted list), one bullet per claim of :data:`FINDING_IDS`.

    Each bullet: the claim, its verdict (and severity) and the deciding number of the paper's
    own reading.

    Parameters
    ----------
    verdicts : iterable of Verdict
        The verdicts on :data:`FINDING_IDS` (``dsmlib.claims.ledger(FINDING_IDS)``).
    """
    vs = {v.claim_id: v for v in verdicts}
    missing = [cid for cid in FINDING_IDS if cid not in vs]
    if missing:
        raise ValueError(f"verdicts must include {', '.join(missing)}")
    what = {
        "HT-P1": "Prop. 1 (identity stagnation)",
        "HT-VPERP": r"dynamics confined to $\mathcal V_\perp$",
        "HT-ACC": "strict contraction speeds the decay of detail",
        "HT-DEEP": "deep-but-shallow",
        "HT-RES": "residual connections fail to mitigate the collapse",
        "RC-SKIP": "skips slow rank decay",
    }
    lines = ["**Findings:**", ""]
    for cid in FINDING_IDS:
        v = vs[cid]
        sev = f" ({v.severity})" if v.severity else ""
        num = f": {v.own_number}" if v.own_number else ""
        lines.append(f"- {claim_ref(cid)}, {what[cid]}: **{v.verdict}**{sev}{num}.")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- figures
_LABELS = {
    ("skip", "identity", "perp"): "skip, id, mean-free",
    ("skip", "identity", "mean"): "skip, id, with mean",
    ("skip", "relu", "perp"): "skip, ReLU, mean-free",
    ("skip", "relu", "mean"): "skip, ReLU, with mean",
    ("skip+C", "identity", "perp"): "skip+centring, id",
    ("skip+LN", "identity", "perp"): "skip+LN, id",
    ("skip+LN", "relu", "perp"): "skip+LN, ReLU",
    ("noskip", "identity", "mean"): "no skip, id, with mean",
    ("noskip", "relu", "perp"): "no skip, ReLU, mean-free",
    ("noskip+LN", "identity", "perp"): "no skip+LN, id",
}

#: display names of the escape-route mixings (keys of :data:`MIXINGS`)
MIXING_LABELS = {
    "DSM": "DSM",
    "DSM, alpha=1/sigma2": r"DSM, $\alpha = 1/\tilde\sigma_2$",
    "Gaussian": "Gaussian",
    "row-softmax": "row-softmax",
}
