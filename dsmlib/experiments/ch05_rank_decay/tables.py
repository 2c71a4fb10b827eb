"""Chapter 5, the tables and the findings line the notebook prints (MyST Markdown)."""

from __future__ import annotations

from typing import Iterable
import numpy as np
from ...verdicts import Verdict, claim_ref
from .._format import by_id, md_table

from .experiments.collapse import (
    CollapseResult,
    LambdaResult,
    decrement_ratios,
)
from .experiments.mixing import LambdaDependenceResult, MixingResult
from .experiments.products import FLOOR, METHODS, LawFit, PathResult, RateComparison, _t
from .experiments.theorems import VIOL_RTOL, LINEAR_AMAX, Theorem1Result, Theorem2Result, bound_summary

__all__ = [
    "FINDING_IDS",
    "bound_table",
    "collapse_table",
    "findings",
    "gap_table",
    "lambda_table",
    "law_table",
    "mixing_table",
    "p3l_table",
    "path_table",
    "rate_table",
    "rigorous_table",
    "summary",
    "t1_table",
]


# ---------------------------------------------------------------------------------------
# Tables and the findings line for the chapter (MyST Markdown)
# ---------------------------------------------------------------------------------------
def rate_table(comps: list[RateComparison]) -> str:
    """:func:`compare_rates` as a Markdown table (median rates in nats per factor)."""
    rows = [
        "| score scale $c$ | skips | rate Softmax | rate Sinkhorn | ratio | 95% CI | Wilcoxon $p$ | same? |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for c in comps:
        rows.append(
            f"| {c.scale:g} | {'half = $I$' if c.skip else 'none'} | {c.median_softmax:.3f} | "
            f"{c.median_sinkhorn:.3f} | {c.ratio:.2f} | [{c.ci[0]:.2f}, {c.ci[1]:.2f}] | "
            f"${_t(c.p_wilcoxon, '.1e')}$ | {'yes' if c.equivalent else 'no'} |"
        )
    return "\n".join(rows)


def law_table(fits: dict[tuple[str, str], LawFit]) -> str:
    """Exponential vs doubly exponential fits ``{(what, method): LawFit}`` as a Markdown table."""
    rows = [
        "| what | normalisation | $R^2$ exponential | $R^2$ doubly exp. | preferred | $e^g$ |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for (what, method), f in fits.items():
        rows.append(f"| {what} | {method} | {f.r2_exp:.3f} | {f.r2_dexp:.3f} | {f.preferred} | "
                    f"{np.exp(f.dexp_params[1]):.1f} |")
    return "\n".join(rows)


def lambda_table(result: LambdaResult) -> str:
    r"""RC-LAM medians per size and initialisation as a Markdown table."""
    med = lambda a: np.median(a, axis=-1)  # noqa: E731
    C, dec = med(result.coefficient), med(result.decay_factor)
    corr = med(result.corrected_coefficient[..., 0, None] * result.res_norm**2)
    rows = [
        r"| size | initialisation | $\beta$ | $C$ | $C\lVert R\rVert_2^2$ | corrected | $\lVert A\rVert_2$ "
        r"| $\max\lvert A_{ij}\rvert$ | Prop. 3 ratio $\frac{\lVert Q(A)\rVert_F}{\sqrt{\mathrm{rank}A}\,\lVert A\rVert_2}$ | out/in |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for s, size in enumerate(result.config.sizes):
        for k, init in enumerate(result.config.inits):
            vals = (med(result.beta[s, k]), C[s, k], dec[s, k], corr[s, k], med(result.score_norm[s, k]),
                    med(result.score_max[s, k]), med(result.lam[s, k]),
                    med(result.out_norm[s, k] / result.res_norm[s, k]))
            rows.append(f"| {size[0]} | {init} | " + " | ".join(f"${_t(v)}$" for v in vals) + " |")
    return "\n".join(rows)


def _md(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table from a header and rows of cells (a ``|`` inside a cell is written ``\\vert``)."""
    def cell(x: str) -> str:
        return x.replace(r"\|", r"\Vert ").replace("|", r"\vert ")

    return md_table([cell(h) for h in header], [[cell(x) for x in r] for r in rows], "---")


def t1_table(t1: Theorem1Result) -> str:
    r"""RC Theorem 1 by $n$: share of instances violating it and the first-order ratio on aligned inputs."""
    rp = t1.lhs / t1.paper_rhs
    lin = t1.amax < LINEAR_AMAX
    rows = []
    for i, n in enumerate(t1.config.ns):
        rows.append([f"{n}", f"{np.mean(rp[0, i] > 1 + VIOL_RTOL):.2f}", f"{np.mean(rp[1, i] > 1 + VIOL_RTOL):.2f}",
                     f"{np.median(rp[1, i][lin[1, i]]):.2f}" if lin[1, i].any() else "n/a", f"{np.sqrt(n):.2f}"])
    return _md(["$n$", "violated, random", "violated, aligned",
                r"aligned LHS/RHS, $\max|A_{ij}| < 10^{-2}$ (median)", r"$\sqrt n$"], rows)


def rigorous_table(t1: Theorem1Result) -> str:
    r"""The always-valid bounds of RC-T1 on every instance: largest LHS/bound, the median ratio in the
    first-order regime, and how often $\delta \ge \ln 2$ (then the entrywise bound is no better than
    the trivial one)."""
    lin = t1.amax < LINEAR_AMAX
    rows = []
    for name, rhs in ((r"trivial $\|W_V\|_2\|R\|_2$", t1.trivial_rhs),
                      (r"entrywise $(e^\delta - 1)\|W_V\|_2\|R\|_2$", t1.rigorous_rhs),
                      (r"cubic form $4e^{\bar\delta}\beta\|R\|_{2,\infty}^2\|R\|_2/\sqrt{d_{qk}}$", t1.rigorous_cubic_rhs)):
        r = t1.lhs / rhs
        rows.append([name, f"{r.max():.2f}"] + [f"${_t(np.median(r[k][lin[k]]))}$" for k in (1, 0)])
    tab = _md(["bound", "max LHS/bound", "median, aligned, first order", "median, random, first order"], rows)
    return tab + f"\n\nInstances with $\\delta \\ge \\ln 2$: {np.mean(t1.delta >= np.log(2)):.0%}."


def gap_table(t2: Theorem2Result) -> str:
    r"""Median $\log_{10}$(LHS / RC's bound) by kind, input scale and depth (n/a: unresolvable)."""
    rel = t2.reliable
    gap = t2.log_lhs - t2.log_bound("paper")
    L = t2.config.n_layers
    rows = []
    for kind, name in ((1, "aligned"), (0, "random")):
        for r, rho in enumerate(t2.config.rhos):
            rows.append([name, f"{rho:g}"] + [f"{np.median(gap[kind, r, :, ell]):.2f}" if rel[kind, r, :, ell].all()
                                              else "n/a" for ell in range(1, L + 1)])
    return _md(["networks", r"$\|\mathrm{res}(X)\|_2$"] + [f"$L = {ell}$" for ell in range(1, L + 1)], rows)


def bound_table(results: dict[str, Theorem2Result]) -> str:
    r"""One row per (theorem, depth): worst aligned $\log_{10}$(LHS/bound) against $\sqrt n^{(3^L-1)/2}$,
    violations, the corrected constant on first-order inputs and the per-layer exponent."""
    rows = []
    for name, r in results.items():
        b = bound_summary(r)
        for ell, w in enumerate(b.worst_by_layer, start=1):
            first = ell == 1
            rows.append([
                name if first else "", f"{ell}", f"{w:.2f}", f"{(3**ell - 1) / 2 * np.log10(np.sqrt(r.config.n)):.2f}",
                f"{b.n_viol[1]}/{b.n_resolvable[1]}" if first else "", f"{b.n_viol[0]}/{b.n_resolvable[0]}" if first else "",
                f"{max(b.corrected_first_order, 0.0):.3f}" if first else "", f"{b.exponent[0]:.2f}" if first else "",
            ])
    return _md(["theorem", "$L$", r"worst aligned $\log_{10}\frac{\text{LHS}}{\text{bound}}$",
                r"$\log_{10}\sqrt n^{(3^L-1)/2}$", "violated, aligned", "violated, random",
                r"corrected, first order: max $\log_{10}$", "exponent (aligned)"], rows)


def collapse_table(col: CollapseResult) -> str:
    r"""RC-T2S by size and layer: median $\log_{10} r_\ell$, the layer's input score spread, its local
    exponent and the decrement ratio that ends at it (standard tokens)."""
    c = col.config
    rows = []
    for s, (n, *_) in enumerate(c.sizes):
        q = np.nanmedian(decrement_ratios(col, s, 0), axis=0)
        lr = np.median(col.log_res[s, 0], axis=0)
        for ell in range(c.n_layers):
            rows.append([
                f"{n}" if ell == 0 else "", f"{ell + 1}", f"{lr[ell]:.1f}", f"{lr[ell + 1]:.1f}",
                f"${_t(np.median(col.amax_in[s, 0, :, ell]))}$",
                f"{np.median(col.local_k[s, :, ell]):.2f}" if col.local_k is not None else "n/a",
                f"{q[ell - 1]:.2f}" if ell >= 1 else "",
            ])
    return _md(["$n$", r"layer $\ell$", r"$\log_{10} r_{\ell-1}$", r"$\log_{10} r_\ell$",
                r"input $\max|A_{ij}|$", r"local exponent $k_\ell$", r"decrement ratio $d_\ell/d_{\ell-1}$"], rows)


def mixing_table(mix: MixingResult) -> str:
    r"""RC-MIX per score scale: measured rate per factor, the rate $\prod\sigma_2$ guarantees, the
    largest $\sigma_2$ and the unconverged factors; and products of permutations."""
    rows = []
    for s, sc in enumerate(mix.config.scales):
        rows.append([f"Sinkhorn, $c = {sc:g}$", f"{np.nanmedian(mix.rate[s]):.2f}", f"{np.median(mix.factor_rate[s]):.2f}",
                     f"{mix.sigma2[s].max():.3f}", f"{int(mix.unconverged[s])}", f"{np.nanmax(mix.dist[s] / mix.bound[s]):.3f}"])
    rows.append(["permutations", "0", "0", "1", "0", f"min distance {mix.perm_dist.min():.3f}"])
    return _md(["factors", "rate per factor (nats)", r"$-\overline{\log\sigma_2}$", r"max $\sigma_2$",
                "unconverged", r"max $\|\prod P - J/n\|_2/\prod\sigma_2$"], rows)


def p3l_table(r: LambdaDependenceResult) -> str:
    r"""RC-P3L: $\lambda(Y) = \|Q(Y)\|_F/\|Y\|_F$ on Theorem 1's scores and on raw scores, by token-mean weight."""
    rows = []
    for k, m in enumerate(r.config.mean_weights):
        dev = float(np.abs(r.lam_theorem[k] - 1).max())
        rows.append([f"{m:g}", "$< 10^{-12}$" if dev < 1e-12 else f"${_t(dev)}$",
                     f"{r.lam_raw[k].min():.3f}", f"{np.median(r.lam_raw[k]):.3f}", f"{r.lam_raw[k].max():.3f}"])
    return _md([r"token mean weight $m$", r"Theorem 1's $A$: $|\lambda - 1|$", r"raw $S$: min $\lambda$",
                "median", "max"], rows)


def path_table(paths: PathResult, depths: tuple[int, ...] = (1, 4, 12)) -> str:
    """Median path residual at a few depths, by network and normalisation (below the float floor: bound)."""
    med = np.median(paths.residual, axis=-1)
    rows = []
    for k, net in enumerate(("pure SAN", "SAN + skip")):
        for i, m in enumerate(METHODS):
            rows.append([net if i == 0 else "", m] + [f"${_t(med[i, k, t - 1], '.1e')}$" if med[i, k, t - 1] > FLOOR
                                                       else r"$< 10^{-13}$" for t in depths])
    return _md(["network", "normalisation"] + [f"$t = {t}$" for t in depths], rows)


def summary(verdicts: Iterable[Verdict]) -> str:
    """The chapter's closing table: one row per id, verdict, severity and the deciding number
    (the paper's own reading's number)."""
    rows = []
    for v in verdicts:
        rows.append([claim_ref(v.claim_id), f"**{v.verdict}**", v.severity or "", v.own_number or ""])
    return _md(["claim", "verdict", "severity", "deciding number (the paper's own reading)"], rows)


#: the claims the chapter checks, in the order of its summary table
FINDING_IDS = ("RC-G", "RC-EXP", "RC-T1", "RC-T2", "RC-T4", "RC-T5", "RC-T2S", "RC-LAM",
               "RC-MIX", "RC-T1P", "RC-P3L", "RC-BETA")


def findings(verdicts: Iterable[Verdict]) -> str:
    """The chapter's Findings list (MyST bullets), from its verdicts and their deciding numbers.

    Parameters
    ----------
    verdicts : iterable of Verdict
        The verdicts on :data:`FINDING_IDS` (``dsmlib.claims.ledger(FINDING_IDS)``).
    """
    vs = by_id(verdicts, FINDING_IDS)

    def ref(cid: str) -> str:
        v = vs[cid]
        sev = f", {v.severity}" if v.severity else ""
        return f"{claim_ref(cid)} **{v.verdict}**{sev}" + (f" ({v.own_number})" if v.own_number else "")

    items = [
        (["RC-EXP", "RC-MIX"], "random products lose rank at a fixed exponential rate, and products of "
         "doubly stochastic factors mix when every factor contracts ($\\sigma_2 < 1$), at least at the rate "
         "$\\prod\\sigma_2$; products of permutations, also doubly stochastic, never mix (both confirm "
         "classical theorems)"),
        (["RC-T2S"], "a pure Sinkhorn SAN collapses doubly exponentially: each layer cubes its residual at its "
         "actual input, the first (scores of order one) included"),
        (["RC-T1", "RC-T2", "RC-T4", "RC-T5"], "the bounds' constant is too small by $\\sqrt n$ per layer; to "
         "first order the right one is $\\beta H/(n\\sqrt{d_{qk}})$"),
        (["RC-T1P", "RC-P3L"], "the proof turns a first-order expansion into an inequality (the corrected form "
         "fails at scores of order one), and its $\\lambda$ is a per-matrix ratio: on Theorem 1's own scores "
         "it equals 1"),
        (["RC-G", "RC-LAM", "RC-BETA"], "Softmax and Sinkhorn products decay alike only at unit score scale; "
         "$\\beta$ is of order one at PyTorch's and Xavier's initialisations, but a coefficient below one "
         "does not make the bound decay or apply at LayerNorm-scale inputs"),
    ]
    return "**Findings.**\n\n" + "\n".join(
        f"* {'; '.join(ref(c) for c in ids)}: {text}." for ids, text in items)
