"""Chapter 4, the tables and the findings line the notebook prints (MyST Markdown)."""

from __future__ import annotations

from typing import Iterable
import numpy as np
from ...verdicts import Verdict

from .experiments.common import _tex
from .experiments.deep import (
    DeepResult,
    EscapeResult,
    PERP_SKIP,
    effective_depth,
    measured_depth,
    saturation_table,
)
from .experiments.pairs import NoisyPairResult, cluster_ci, noisy_pair_experiment, skip_pair_law
from .experiments.paths import PathResult, mixture_rates, mixture_table, path_experiment, skip_tests
from .experiments.walk import (
    IdentityDepthResult,
    identity_depth_experiment,
    identity_depth_law,
    walk_fits,
)


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
    """Markdown: mean pair cosine at the last depth with its 95% CI over networks, per T."""
    c = result.config
    mu, lo, hi = cluster_ci(result.net_mean_cos[:, :, -1])
    rows = [[f"{T:g}", f"{result.sigma2_med[t]:.3f}",
             f"{mu[t, 0]:.3f} [{lo[t, 0]:.3f}, {hi[t, 0]:.3f}]",
             f"${mu[t, 1]:+.3f}$ [${lo[t, 1]:+.3f}$, ${hi[t, 1]:+.3f}$]"]
            for t, T in enumerate(c.temperatures)]
    law = float(skip_pair_law(c, c.depth))
    return (_md_table(["$T$", r"$\tilde\sigma_2$", "skip: mean cosine [95% CI]",
                       "no skip: mean cosine [95% CI]"], rows)
            + f"\n\nAt $L = {c.depth}$. Noise-only law $c_0e^{{-L\\nu^2/n}} = {law:.3f}$.")


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


def skip_test_table(result: PathResult, method: str = "sinkhorn") -> str:
    """Markdown: median residual with and without skips per depth and the Bonferroni p-value."""
    rows = [[str(r["t"]), f"{r['mean_len']:.1f}", _num(r["med_skip"], ".1e"), _num(r["med_noskip"], ".1e"),
             _num(r["p_bonf"], ".1e") if r["testable"] else "n/a"]
            for r in skip_tests(result, method)]
    return _md_table(["$t$", "mean path length", "median, skip", "median, no skip", "$p$ (Bonferroni)"],
                     rows)


def mixture_markdown(result: PathResult, method: str = "sinkhorn") -> str:
    """Markdown version of :func:`mixture_table`: measured mean residual of W_t vs the mixture."""
    rows = [[str(r["t"]), _num(r["measured"], ".1e"), _num(r["predicted"], ".1e"),
             _num(r["ratio"], ".2g")] for r in mixture_table(result, method)]
    return _md_table(["$t$", r"$W_t$, measured", r"mixture $\hat r(t)$", "ratio"], rows)


#: the claims the chapter checks, in the order of its summary table
FINDING_IDS = ("HT-P1", "HT-DEEP", "HT-RES", "RC-SKIP")


def findings(verdicts: Iterable[Verdict]) -> str:
    """The chapter's one-line findings (MyST), from its four verdicts and their numbers.

    Parameters
    ----------
    verdicts : iterable of Verdict
        The verdicts on :data:`FINDING_IDS` (``dsmlib.claims.ledger(FINDING_IDS)``).
    """
    vs = {v.claim_id: v for v in verdicts}
    missing = [cid for cid in FINDING_IDS if cid not in vs]
    if missing:
        raise ValueError(f"verdicts must include {', '.join(missing)}")
    fits = [f for f in walk_fits(identity_depth_experiment()) if f.n_window >= 3]
    kappa = float(np.exp(np.mean(np.log([f.kappa for f in fits])))) if fits else float("nan")
    pr = noisy_pair_experiment()
    cos_skip = float(cluster_ci(pr.net_mean_cos[:, :, -1])[0][:, 0].min())
    a_meas, a_pred = mixture_rates(path_experiment(), "sinkhorn")

    def refs(group: list[str]) -> str:
        r = [f"{{prf:ref}}`{cid} <{cid.lower()}>`" for cid in group]
        return r[0] if len(r) == 1 else ", ".join(r[:-1]) + " and " + r[-1]

    def verdict_clause(group: list[str]) -> str:
        by: dict[str, list[str]] = {}
        for cid in group:
            by.setdefault(vs[cid].verdict, []).append(cid)
        return "; ".join(f"{refs(g)} {'is' if len(g) == 1 else 'are'} {v}" for v, g in by.items())

    return (
        f"**Findings:** {verdict_clause(['HT-P1', 'HT-DEEP', 'HT-RES'])}: with skip connections a "
        "high-entropy DSM network is not frozen at the identity, its features turn like a random walk, "
        rf"$\theta_L\approx{_tex(kappa)}\,\sigma_2\sqrt L$, and two noisy inputs stay aligned "
        f"(mean cosine {_tex(cos_skip)} at $L = {pr.config.depth}$). {verdict_clause(['RC-SKIP'])}: "
        f"skips do slow rank decay, but the skip network decays {a_meas / a_pred:.1f} times faster "
        "than path shortening predicts."
    )


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
