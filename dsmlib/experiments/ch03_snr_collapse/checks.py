"""Chapter 3, the checks: HT-L3, HT-SNR, HT-LEVY, HT-T1, HT-T1P, HT-E2, HT-AFF, HT-WEDIN, HT-IRREV
(result -> Verdict), and :data:`CHECKS`, the chapter's table claim id -> (experiment, check)."""

from __future__ import annotations

import numpy as np
from scipy import stats
from .._format import sig as _sig
from .._format import mtex as _m
from .._format import tex as _tex
from ...verdicts import Reading, Verdict, severity, verdict

from .experiments.collapse import AffineResult, WedinResult, affine_experiment, wedin_experiment
from .experiments.common import clopper_pearson
from .experiments.e2 import E2Result, e2_prereg_experiment, e2_stats
from .experiments.escape import ESCAPE, MIXER_LABELS, TRAP, EscapeResult, escape_experiment, escape_status
from .experiments.irrev import COND_MAX, IrrevResult, LOST, REC_TOL, irrev_experiment
from .experiments.proof import (
    E2_DIST_MARGIN,
    E2_DIST_MARGIN_COHERENT,
    E2_SD_MARGIN,
    ProofResult,
    lemma3_step2_failure,
    proof_steps,
    theorem1_proof_experiment,
)
from .tables import prob_text
from .experiments.snr import (
    Lemma3Result,
    LevyResult,
    SNRResult,
    Theorem1Result,
    lemma3_experiment,
    levy_experiment,
    snr_experiment,
    theorem1_cells,
    theorem1_experiment,
)


def check_ht_l3(result: Lemma3Result) -> Verdict:
    """Confirmed if no sampled or searched pair inside ``r <= 1/2`` has ratio > 4."""
    r = result.r
    inside = r <= 0.5
    all_ratios = np.concatenate([result.ratio_random.max(axis=1), result.ratio_opt, np.nan_to_num(result.ratio_full)])
    all_r = np.concatenate([r, r, r])
    max_in = max(float(all_ratios[np.concatenate([inside] * 3)].max()), float(result.de_inside[2]))
    max_out = max(float(all_ratios[~np.concatenate([inside] * 3)].max()), float(result.de_outside[2]))
    max_all = max(max_in, max_out)
    r_at = float(result.de_outside[0]) if result.de_outside[2] >= all_ratios[all_r > 0.5].max() else float(
        all_r[all_r > 0.5][np.argmax(all_ratios[all_r > 0.5])])
    ev = (
        r"max ratio $\lVert a/\lVert a\rVert - b/\lVert b\rVert\rVert \,/\, (\lVert\delta\rVert/\lVert b\rVert)$ "
        r"under the side condition $\lVert\delta\rVert \le \lVert b\rVert/2$: "
        + f"{_sig(max_in, 3)} "
        + r"(paper's constant 4; closed form $4\sin(\pi/12) = 1.04$); without the side condition: "
        + f"{_sig(max_out, 3)} at "
        + r"$\lVert\delta\rVert/\lVert b\rVert$"
        + f" = {_sig(r_at, 3)} "
        + r"(sup 2 as $\lVert\delta\rVert \to \lVert b\rVert$, $\delta$ in the direction of $-b$); "
        + f"{result.ratio_random.size} random pairs in $\\mathbb R^{{{result.config.n}}}$ + adversarial searches."
    )
    cf = ("a proved inequality, confirmed: a sampled or searched pair with "
          r"$\lVert\delta\rVert \le \lVert b\rVert/2$ and ratio $> 4$ would have refuted it; the closed-form "
          r"supremum $4\sin(\pi/12)$ says there is none, and the searches meet it")
    if max_in > 4.0 * (1 + 1e-9):
        return verdict("HT-L3", "refuted", ev,
                       holds=f"the ratio reaches {_sig(max_in, 3)} $> 4$ inside the side condition",
                       severity=severity(part="constant", factor=max_in / 4.0), can_fail=cf)
    if max_all > 2.0 * (1 + 1e-9):
        return verdict("HT-L3", "confirmed", ev + " (the constant 2 fails outside the side condition here)",
                       can_fail=cf)
    return verdict("HT-L3", "confirmed", can_fail=cf, evidence=ev + r" The side condition is unnecessary: "
                   r"$\lVert a/\lVert a\rVert - b/\lVert b\rVert\rVert \le 2\lVert a-b\rVert/\lVert b\rVert$ "
                   r"for all non-zero $a, b$ (sharp), and $\le 1.04\,\lVert a-b\rVert/\lVert b\rVert$ when "
                   r"$\lVert a-b\rVert \le \lVert b\rVert/2$.")


def check_ht_snr(result: SNRResult) -> Verdict:
    """Readings: worst case (Lemma 2, the paper's own; confirmed unless some ratio exceeds nu/E||P xi||) and typical input.

    The typical-input reading is confirmed if the median ratio is within 10 % of 1 at every T,
    qualified if Eq. 4 is only the upper bound.
    """
    c = result.config
    kappa = c.nu / result.e_norm  # approx * kappa bounds exact (Lemma 2)
    ratio = result.gamma_exact / result.gamma_approx
    med = np.median(ratio, axis=1)
    top = result.gamma_top / result.gamma_approx
    bound_ok = bool(np.all(ratio <= kappa * (1 + 1e-9)))
    en = r"\mathbb E\lVert\mathcal P_\perp\xi\rVert"
    approx = r"\sigma_2\lVert x_\perp\rVert/\nu"
    ev = (
        f"exact $\\gamma / ({approx})$ for random $x_\\perp$: median {_sig(med.min())}–{_sig(med.max())} "
        f"over $T \\in [{_sig(min(c.temperatures))}, {_sig(max(c.temperatures))}]$, range "
        f"[{_sig(ratio.min())}, {_sig(ratio.max())}] over {ratio.size} (DSM, $x_\\perp$) draws; "
        f"= {_sig(np.nanmedian(top), 4)} ($\\nu/{en}$) for the top right singular vector; "
        f"${en}$ = {_sig(result.e_norm, 4)} exact (sampled {_sig(result.e_norm_mc, 4)} "
        f"$\\pm {_tex(_sig(result.e_norm_mc_se, 1))}$), against $\\nu = {_sig(c.nu)}$."
    )
    holds = (
        f"$\\gamma \\le (\\nu/{en})\\,{approx} = {_sig(kappa, 4)}\\,{approx}$ (Lemma 2), "
        r"with equality only when $x_\perp$ is the top right singular vector of $M$ on $\mathcal V_\perp$; "
        r"for a random $x_\perp$, $\gamma$ is "
        f"about {_sig(np.median(ratio), 2)} times the approximation, i.e. "
        r"$\gamma \approx \sqrt{\textstyle\sum_{i\ge2}\sigma_i^2/(n-1)}\,\lVert x_\perp\rVert/\nu$."
    )
    top_max = float(np.nanmax(top))
    cf = (r"a ratio exact/approximation above $\nu/\mathbb E\lVert\mathcal P_\perp\xi\rVert$ for some draw "
          "(Lemma 2 broken) would refute the bound reading; a median ratio outside $1 \\pm 0.1$ at some $T$ "
          "qualifies the typical-input reading")
    typical = ("confirmed" if np.all(np.abs(med - 1.0) <= 0.1) and bound_ok else "qualified" if bound_ok else "refuted")
    readings = [
        Reading(r"$\sigma_2\lVert x_\perp\rVert/\nu$ as the worst-case value of $\gamma$ (Lemma 2's operator norm, "
                r"$\mathbb E\lVert\mathcal P_\perp\xi\rVert \approx \nu$ by Remark 1)",
                "confirmed" if bound_ok else "refuted",
                f"max exact/approximation {_sig(float(ratio.max()), 3)} $\\le$ {_sig(kappa, 4)}; "
                f"= {_sig(top_max, 4)} at the top singular vector", papers_own=True),
        Reading(r"$\approx$ as the value for a typical (random) input", typical,
                f"median exact/approximation {_sig(med.min())}–{_sig(med.max())}"),
    ]
    if not bound_ok:
        return verdict("HT-SNR", "refuted", ev + r" The ratio exceeds $\nu/\mathbb E\lVert\mathcal P_\perp\xi\rVert$: "
                       "Lemma 2's bound fails.", holds=holds, severity=severity(part="conclusion"),
                       readings=readings, can_fail=cf)
    return verdict("HT-SNR", "confirmed", ev + r" As the worst case over inputs, Eq. 4 is exact up to "
                   r"$\nu/\mathbb E\lVert\mathcal P_\perp\xi\rVert$ "
                   f"({_sig(100 * (kappa - 1), 2)} %); for a typical input it over-states $\\gamma$ by a factor "
                   f"{_sig(1 / float(np.median(ratio)), 2)}: " + holds, readings=readings, can_fail=cf)


def check_ht_levy(result: LevyResult) -> Verdict:
    """Refuted if the exact tail, or the sampled tail's lower 95% CI, exceeds the bound at some eps."""
    c = result.config
    lo, hi = clopper_pearson(result.count, c.pairs)
    p_hat = result.count / c.pairs
    viol_exact = result.exact > result.bound * (1 + 1e-12)
    viol_mc = lo > result.bound
    a = (c.n - 2) / 2.0  # (<u,v> + 1)/2 ~ Beta(a, a) on S^{n-2}
    p_ks = float(stats.kstest((result.dots + 1) / 2, stats.beta(a, a).cdf).pvalue)
    tight = result.exact / np.minimum(result.bound, 1.0)
    inf = result.bound < 1
    ev = (
        f"exact tail (Beta law of a coordinate on $\\mathbb S^{{{c.n - 2}}}$) "
        + r"$\le 2e^{-(n-2)\varepsilon^2/2}$ at "
        + f"{int((~viol_exact).sum())}/{result.eps.size} values of $\\varepsilon$ in "
        f"$[{_sig(result.eps.min())}, {_sig(result.eps.max())}]$; "
        f"{c.pairs} sampled pairs (Lemma 1 construction) against the exact Beta law: KS $p$ = {_m(_sig(p_ks, 1))}; "
        f"where the bound is $< 1$ the exact tail is at most {_sig(tight[inf].max())} of it (bound informative for "
        f"$\\varepsilon \\ge {_sig(result.eps[inf].min())}$)."
    )
    cf = ("confirms a classical inequality (the exact Beta law of a coordinate on the sphere lies below it): "
          "an exact tail above the bound, or a sampled tail whose lower 95 % limit is above it, at any "
          r"$\varepsilon$ would have refuted it; the sampled pairs test Lemma 1's construction (KS against the Beta law)")
    if viol_exact.any() or viol_mc.any():
        e = result.eps[viol_exact | viol_mc]
        return verdict("HT-LEVY", "refuted", ev,
                       holds=f"the bound fails at $\\varepsilon$ = {', '.join(_sig(x) for x in e[:5])}",
                       severity=severity(part="constant", factor=float(np.max(result.exact / result.bound))),
                       can_fail=cf)
    return verdict("HT-LEVY", "confirmed", ev, can_fail=cf)


def check_ht_t1(result: Theorem1Result) -> Verdict:
    """Refuted if some (gamma <= 1/8, eps) cell's failure rate is significantly above 2exp(-n eps^2/2)."""
    c = result.config
    cells = theorem1_cells(result)
    st = cells["status"]
    inside = np.asarray(c.gammas) <= 0.125 + 1e-12
    n_inf, n_vac, n_viol = (int((st[inside] == k).sum()) for k in (0, 1, 2))
    g_inf = np.asarray(c.gammas)[(st == 0).any(axis=1)]
    e_inf = np.asarray(c.eps)[(st == 0).any(axis=0)]
    half = float(np.mean(result.xi_norm[inside] < result.e_norm))
    step2 = float(np.mean(result.u_shift[inside][np.asarray(c.gammas)[inside] > 0] >
                          4 * np.asarray(c.gammas)[inside][np.asarray(c.gammas)[inside] > 0][:, None]))
    g_max = _sig(g_inf.max()) if g_inf.size else "-"
    e_lo = _sig(e_inf.min()) if e_inf.size else "-"
    e_hi = _sig(e_inf.max()) if e_inf.size else "-"
    pxi = r"\lVert\mathcal P_\perp\xi\rVert"
    shift = r"\lVert u - u_{noise}\rVert"
    ev = (
        f"{result.cos.shape[1]} noise pairs per $\\gamma$ (identical inputs, {len(c.seeds) * c.per_seed} DSMs at "
        f"$T = {_sig(c.temperature)}$): of {int(inside.sum()) * len(c.eps)} cells with $\\gamma \\le 1/8$, "
        f"{n_viol} violated, {n_inf} informative (bound $< 1$ and $\\varepsilon + 8\\gamma < 1$: "
        f"$\\gamma \\le {g_max}$, $\\varepsilon \\in [{e_lo}, {e_hi}]$), {n_vac} vacuous "
        f"(at $\\gamma = 1/8$, $\\varepsilon + 8\\gamma \\ge 1$). Proof step 2 (Lemma 3 gives "
        f"${shift} \\le 4\\lVert s\\rVert/{pxi}$) yields $\\le 4\\gamma$ only when "
        f"${pxi} \\ge \\mathbb E{pxi}$: fails in {_sig(100 * half)} % of draws, although "
        f"${shift} \\le 4\\gamma$ itself held in {_sig(100 * (1 - step2), 3)} %."
    )
    m = result.cos.shape[1]
    inf_cells = (st == 0) & inside[:, None]
    # power: the smallest failure rate (relative to the bound) that the one-sided test flags in each informative cell
    b_inf = cells["bound"][inf_cells & (cells["bound"] >= 30.0 / m)]  # cells where a rate near the bound is resolvable
    rel = max((_detectable(float(b), m) / float(b) for b in b_inf), default=float("nan"))
    ev += (f" Power: in the {b_inf.size} informative cells with bound $\\ge 30/m$, a failure rate of "
           f"{_sig(rel, 2)}$\\times$ the bound would have been flagged.")
    cf = (r"a $(\gamma \le 1/8, \varepsilon)$ cell whose failure rate has its lower 95 % limit above "
          r"$2e^{-n\varepsilon^2/2}$ would have refuted it (worst case: identical inputs)")
    if n_viol:
        bad = [(cells["gamma"][i], cells["eps"][j]) for i, j in zip(*np.nonzero((st == 2) & inside[:, None]))]
        where = ", ".join(f"({_sig(a)}, {_sig(b)})" for a, b in bad[:4])
        return verdict("HT-T1", "refuted", ev, holds=f"violated at $(\\gamma, \\varepsilon)$ = {where}",
                       severity=severity(part="conclusion"), can_fail=cf)
    return verdict("HT-T1", "confirmed", ev, can_fail=cf)


def _detectable(bound: float, m: int, alpha: float = 0.05) -> float:
    """Smallest observed failure rate k/m whose lower Clopper-Pearson limit exceeds ``bound``."""
    k = np.arange(0, m + 1)
    lo, _ = clopper_pearson(k, m, alpha)
    hit = np.nonzero(lo > bound)[0]
    return float(k[hit[0]] / m) if hit.size else float("inf")


def check_ht_aff(result: AffineResult) -> Verdict:
    """Confirmed if at the lowest-SNR temperature neither fitted affine map raises held-out alignment by >= 0.05."""
    c = result.config
    i = int(np.argmin(np.median(result.gamma, axis=1)))
    a = result.align[i]  # (S, methods)
    gain = a[:, 1:3] - a[:, :1]  # improvement of scalar / per-coordinate over plain LN
    mean_gain, se = gain.mean(axis=0), gain.std(axis=0, ddof=1) / np.sqrt(gain.shape[0])
    hi = mean_gain + 2.26 * se  # t_{0.975, 9}
    ev = (
        f"$T = {_sig(c.temperatures[i])}$ (median $\\gamma$ {_sig(np.median(result.gamma[i]))}), {c.train} training / "
        f"{c.test} held-out inputs $\\times$ {len(c.seeds)} DSMs: alignment with the clean LN output "
        f"{a[:, 0].mean():.3f} (plain LN), "
        f"{a[:, 1].mean():.3f} (fitted scalar gain), {a[:, 2].mean():.3f} (fitted per-coordinate gain+bias), "
        f"{a[:, 3].mean():.3f} (full linear map, reference); a fixed bias of norm "
        f"${_sig(c.bias_norm)}\\sqrt n$ lifts the "
        f"mutual cosine of similar pairs from {result.mutual[i, :, 0].mean():.2f} to {result.mutual[i, :, 4].mean():.2f} "
        f"while alignment stays {a[:, 4].mean():.3f}."
    )
    cf = ("a fitted scalar or per-coordinate affine map raising held-out alignment with the clean direction by "
          r"$\ge 0.05$ (lower 95 % limit, 10 DSMs) at the lowest-SNR temperature would have refuted it")
    if np.any(mean_gain - 2.26 * se >= 0.05):
        return verdict("HT-AFF", "refuted", ev, holds="a fitted affine LayerNorm raises alignment with the clean direction",
                       severity=severity(part="conclusion"), can_fail=cf)
    if np.all(hi < 0.05) and a[:, 1:3].mean() < 0.5:
        return verdict("HT-AFF", "confirmed", ev, can_fail=cf)
    return verdict("HT-AFF", "inconclusive", ev + f" The upper 95 % limit of the gain, {_sig(float(hi.max()), 2)}, "
                   "does not exclude a gain of 0.05; more DSMs would decide.", can_fail=cf)


def check_ht_wedin(result: WedinResult) -> Verdict:
    """Paper's own reading: the App. B application in HT's noise model; refuted (conclusion) if vacuous there.

    The theorem as stated (any A, E) is a second reading: refuted by one violating pair. If the
    application were informative and only the stated form wrong, qualified (scope: it needs
    ``||E||`` small against the gap).
    """
    c = result.config
    viol = result.search_lhs > result.search_rhs * (1 + 1e-9)
    viol_app = (result.sin_data > result.rhs_data * (1 + 1e-9)) | (result.sin_cov > result.rhs_cov * (1 + 1e-9))
    corr_ok = bool(np.all(result.search_lhs <= result.search_rhs_corr * (1 + 1e-9)))
    inform = float(np.mean(np.concatenate([result.rhs_data.ravel(), result.rhs_cov.ravel()]) < 1))
    sin = r"\lVert\sin\Theta\rVert"
    ev = (
        f"stated bound ${sin} \\le \\lVert E\\rVert/\\Delta$ violated in {int(viol.sum())}/{viol.size} "
        r"adversarial pairs (e.g. $A = \mathrm{diag}(1, 0)$, $E = \mathrm{diag}(-0.6, 0.6)$: "
        r"$\sin\Theta = 1 > 0.6$); corrected $\lVert E\rVert/(\Delta - \lVert E\rVert)$ "
        f"{'held' if corr_ok else 'FAILED'} on all. Paper's setting ($R = {c.samples}$ noise samples, rank-1 signal, "
        f"$\\gamma \\in [{_sig(min(c.gammas))}, {_sig(max(c.gammas))}]$): noise gap "
        f"$\\Delta = {_tex(_sig(np.median(result.gap_data)))}$ (data), right-hand side "
        r"$\lVert E\rVert/\Delta$ from "
        f"{_m(_sig(min(result.rhs_data.min(), result.rhs_cov.min())))} to "
        f"{_m(_sig(max(result.rhs_data.max(), result.rhs_cov.max())))}, $< 1$ in {_sig(100 * inform)} % of cases; "
        f"the bound {'was' if viol_app.any() else 'was not'} violated there."
    )
    holds = (r"Wedin's theorem needs the gap of the perturbed matrix: $\lVert\sin\Theta\rVert \le "
             r"\lVert E\rVert / (\sigma_r(B) - \sigma_{r+1}(A)) \le \lVert E\rVert / (\Delta - \lVert E\rVert)$ "
             r"when $\lVert E\rVert < \Delta$. With isotropic noise the noise matrix has no spectral gap "
             r"($\Delta$ is of the size of its sampling fluctuation), so the bound is vacuous ($> 1$) in the "
             "paper's setting.")
    r_viol = result.search_rhs[viol]  # ||E|| / Delta where the stated form fails
    r_min = float(r_viol.min()) if r_viol.size else float("nan")
    stated = "refuted" if viol.any() else "confirmed"
    app = "refuted" if (viol_app.any() or inform < 0.5) else "confirmed"
    readings = [
        Reading("the application HT App. B suggests (A = the projected isotropic noise, B = A + signal), as an "
                "alternative to Lemma 3", app,
                f"right-hand side $< 1$ in {_sig(100 * inform)} % of cases (no spectral gap)", papers_own=True),
        Reading("Theorem 3 as stated, for any A and E with gap $\\Delta$", stated,
                f"{int(viol.sum())}/{viol.size} adversarial pairs violate it, from "
                f"$\\lVert E\\rVert/\\Delta$ = {_sig(r_min, 2)}"),
    ]
    cf = ("the application is confirmed if the (corrected) right-hand side is below 1, i.e. informative, in at least "
          "half the cases of HT's own noise model; Theorem 3 as stated by one adversarial pair violating it")
    if app == "refuted":
        return verdict("HT-WEDIN", "refuted", ev, holds=holds, severity=severity(part="conclusion"),
                       readings=readings, can_fail=cf)
    if viol.any():  # the application works, only the stated form of the theorem is wrong (needs small ||E||/Delta)
        readings[0] = Reading(readings[0].name, "qualified", readings[0].number, papers_own=True)
        return verdict("HT-WEDIN", "qualified", ev, holds=holds, severity=severity(part="scope"),
                       readings=readings, can_fail=cf)
    return verdict("HT-WEDIN", "confirmed", ev, readings=readings, can_fail=cf)


def check_ht_t1p(result: ProofResult) -> Verdict:
    """Refuted if the proof's own events are not covered by the stated failure term 2 exp(-n eps^2 / 2).

    Two ways: step 3's bound exceeds the stated term at some eps (exponent n - 2 vs n), or
    the failure probability of the proof's chain of events (step 2 as written + step 3) is
    significantly above the stated term in an informative cell. Severity from the
    measured statement (``conclusion`` if the theorem's inequality itself fails) and the
    constant C the repaired proof supports over the grid.
    """
    c = result.config
    st = proof_steps(result)
    e, g = st["eps"], st["gamma"]
    inf = st["informative"]
    levy_gap = st["levy"] > st["stated"] * (1 + 1e-12)
    uncovered = inf & (st["p_chain_lo"] > st["stated"][None, :])
    stmt_fail = inf & (st["p_stmt_lo"] > st["stated"][None, :])
    ratio = st["levy"] / st["stated"]
    pxi = r"\lVert\mathcal P_\perp\xi\rVert"
    shift = r"\lVert u - u_{noise}\rVert"
    t_n = r"2e^{-n\varepsilon^2/2}"
    t_n2 = r"2e^{-(n-2)\varepsilon^2/2}"
    chain_max = _sig(st["p_chain"][inf].max() if inf.any() else 0)
    stated_min = _sig(st["stated"][inf.any(0)].min() if inf.any() else 0, 1)
    ev = (
        f"{result.cos.shape[1]} noise pairs per $\\gamma$ ($n = {c.n}$, $\\nu = {_sig(c.nu)}$, identical inputs, "
        f"$\\gamma \\in [{_sig(g.min(), 3)}, {_sig(g.max(), 3)}]$, "
        f"$\\varepsilon \\in [{_sig(e.min())}, {_sig(e.max())}]$). Step 1 (App. A, $t = \\sqrt n\\,\\varepsilon$): "
        f"either noise leaves its window with probability {_sig(st['p1_exact'].max())} at "
        f"$\\varepsilon = {_sig(e[0])}$ down to "
        f"{prob_text(st['p1_exact'][-1])} at $\\varepsilon = {_sig(e[-1])}$ (exact), within App. A's "
        f"$4e^{{-n\\varepsilon^2/2}}$; but the proof never uses this event. Step 2 needs "
        f"${pxi}, \\lVert\\mathcal P_\\perp\\xi'\\rVert \\ge \\mathbb E{pxi}$ ($\\gamma$ is defined with the mean): "
        f"fails in {_sig(100 * st['p2'].mean())} % of pairs at every $\\gamma$ (exact $1 - 1/4$ to first order), "
        f"while ${shift} \\le 4\\gamma$ itself failed in {_sig(100 * st['p2_claim'].max())} %. Step 3's bound "
        f"${t_n2}$ exceeds the stated ${t_n}$ by $e^{{\\varepsilon^2}}$ = "
        f"{_sig(ratio.min(), 3)}–{_sig(ratio.max(), 3)}; exact Lévy tail "
        f"{_sig(st['p3_exact'][0])} to {prob_text(st['p3_exact'][-1])}. Step 4: {st['step4_viol']} violations. "
        f"The proof's events fail with probability above the stated term in {int(uncovered.sum())} of "
        f"{int(inf.sum())} informative cells (up to {_m(chain_max)} against {_m(stated_min)}); "
        f"the statement itself failed in {int(stmt_fail.sum())}."
    )
    thr, p_sharp = lemma3_step2_failure(c.n, c.nu, gamma=float(min(g.max(), 0.125)))
    _, p_as_written = lemma3_step2_failure(c.n, c.nu, gamma=float(min(g.max(), 0.125)), constant=4.0)
    below = int(((result.xi_norm < thr * result.e_norm) | (result.xi2_norm < thr * result.e_norm)).sum())
    p_sharp_txt = prob_text(p_sharp)
    C_sharp = float(np.max(st["levy"] / np.exp(-c.n * e**2 / 2)))
    ev += (
        f" With Lemma 3's sharp constant $4\\sin(\\pi/12) = {_sig(4 * np.sin(np.pi / 12), 4)}$ (proved in this chapter), "
        f"step 2 fails only if a noise norm is below {_sig(thr, 3)} "
        f"$\\mathbb E{pxi}$: probability {p_sharp_txt} (exact chi law, either noise; as written: "
        f"{_sig(p_as_written, 2)}), observed in {below} of {result.xi_norm.size} draws."
    )
    holds = (
        f"the stated inequality $\\lvert\\langle u, v\\rangle\\rvert \\le \\varepsilon + 8\\gamma$ holds "
        "(HT-T1) and a proof gives it: with Lemma 3's sharp constant $4\\sin(\\pi/12)$ in step 2, "
        f"$\\lVert u - u_{{noise}}\\rVert \\le 4\\gamma$ unless ${pxi} < {_sig(thr, 3)}\\,\\mathbb E{pxi}$ "
        f"(probability {p_sharp_txt}, charged to $\\delta$), and step 3's Lévy bound ${t_n2}$ gives "
        f"$C = 2e^{{\\varepsilon^2}}$ ($\\le 2e$ for $\\varepsilon \\le 1$; {_sig(C_sharp, 3)} at most on the grid), "
        "$c = 1/2$: the constants change only in the proof"
    )
    readings = [
        Reading("the proof as written (Lemma 3 with its constant 4: step 2 needs every noise norm at or above its "
                "mean; step 3 with exponent n - 2)", "refuted",
                f"step 2's event fails in {_sig(100 * st['p2'].mean())} % of pairs (with the sharp constant: "
                f"{p_sharp_txt}); step 3 needs $C = 2e^{{\\varepsilon^2}}$", papers_own=True),
        Reading("the same proof with Lemma 3's sharp constant 1.035", "refuted",
                f"step 2 fails with probability {p_sharp_txt}; step 3 needs $C = 2e^{{\\varepsilon^2}}$, "
                f"up to {_sig(ratio.max(), 3)}$\\times$ the stated 2"),
    ]
    cf = ("refuted if the proof's own events are not covered by the stated failure term (step 3's bound above "
          r"$2e^{-n\varepsilon^2/2}$, or the chain's failure rate significantly above it in an informative cell); "
          "the severity is 'conclusion' if the statement itself fails (it did not: HT-T1), else 'proof'")
    if levy_gap.any() or uncovered.any():
        sev = severity(part="conclusion" if stmt_fail.any() else "reasoning")
        return verdict("HT-T1P", "refuted", ev, holds=holds, severity=sev, readings=readings, can_fail=cf)
    readings = [Reading(r.name, "confirmed", r.number, r.papers_own) for r in readings]
    return verdict("HT-T1P", "confirmed", ev, readings=readings, can_fail=cf)


def _p(x: float) -> str:
    """A p-value as inline maths, one significant digit, ``< 10^{-6}`` below that."""
    return "$< 10^{-6}$" if x < 1e-6 else _m(_sig(x, 1))


def _e2_reading(gam: list[float], st: list[dict], Ts: tuple[float, ...], contrast: bool) -> tuple[str, str]:
    """Verdict of one reading of HT-E2 from the settings inside gamma < 0.1 and their statistics."""
    ok = [bool(s["eq_mean"] and s["eq_sd"] and s["eq_beta"] and s["eq_gauss"]) for s in st]
    inside = [k for k, gm in enumerate(gam) if gm < 0.1]
    if not inside or not contrast:
        return "inconclusive", "no setting inside $\\gamma < 0.1$" if not inside else "no high-SNR contrast"
    good = [k for k in inside if ok[k]]
    dist = "; ".join(f"$T = {_sig(Ts[k])}$ ($\\gamma$ {_sig(gam[k])}): distance + band "
                     f"{max(st[k]['d_beta'], st[k]['d_gauss']) + st[k]['band']:.4f} vs margin {st[k]['dist_margin']:.3f}"
                     for k in inside)
    if len(good) == len(inside):
        return "confirmed", f"all four equivalences hold; {dist}"
    return ("qualified" if good else "refuted"), f"equivalent at {len(good)} of {len(inside)} settings; {dist}"


def check_ht_e2(result: E2Result) -> Verdict:
    """Equivalence tests of the collapsed law at the settings inside gamma < 0.1, under three readings.

    Readings: gamma as Eq. 4's sigma_2 ||x_perp|| / nu (the paper's own: what Algorithm 1
    measures), gamma exact (Eq. 4's definition), and the first edition's margins. A reading is
    confirmed if every setting inside gamma < 0.1 passes all four equivalences (mean, sd, Kolmogorov
    distance to the Beta law and to the Gaussian) and the high-SNR contrast is clear; qualified
    (scope) if some pass, refuted (conclusion) if none.
    """
    c = result.config
    second = [e2_stats(x, c.n, dist_margin=E2_DIST_MARGIN_COHERENT, band_at="dsms") for x in result.cos_low]
    first = [e2_stats(x, c.n) for x in result.cos_low]
    hi = e2_stats(result.cos_high, c.n)
    g_low = [float(np.median(g)) for g in result.gamma_low]
    g_app = [float(np.median(s2)) / c.nu for s2 in result.sigma2_low]  # unit x_perp
    g_hi = float(np.median(result.gamma_high))
    contrast = hi["mean_lo"] > hi["mean_margin"]
    parts = []
    for T, g, ga, s, s1 in zip(c.t_low, g_low, g_app, second, first):
        parts.append(
            f"$T = {_sig(T)}$ (median $\\gamma$ {_sig(g)} exact, {_sig(ga)} as $\\sigma_2\\lVert x_\\perp\\rVert/\\nu$; "
            f"$R = {int(s['R'])}$ pairs, {result.cos_low.shape[1]} DSMs): mean {s['mean']:.4f} "
            f"(90 % CI [{s['mean_lo']:.4f}, {s['mean_hi']:.4f}], margin $\\pm {s['mean_margin']:.4f}$), "
            f"$\\mathrm{{sd}}/s_0$ {s['sd_ratio']:.3f} ([{s['sd_lo']:.3f}, {s['sd_hi']:.3f}], margin "
            f"$1 \\pm {E2_SD_MARGIN:g}$), Kolmogorov distance to the Beta law {s['d_beta']:.4f} (a pure mean shift "
            f"would give {s['d_mean']:.4f}), + band {s['band']:.4f} at the number of DSMs = "
            f"{s['d_beta'] + s['band']:.3f}, to the Gaussian {s['d_gauss'] + s['band']:.3f} (margin "
            f"{E2_DIST_MARGIN_COHERENT:.3f}); first edition (band at $R$, margin {E2_DIST_MARGIN:g}): "
            f"{s1['d_beta'] + s1['band']:.4f}; point tests: KS $p$ against Beta {_p(s['p_ks_beta'])}, "
            f"D'Agostino $p$ {_p(s['p_normal'])}, excess kurtosis ${s['kurt']:.3f} \\pm {s['kurt_se']:.3f}$ "
            f"(Beta {s['kurt_beta']:.3f}, Gaussian 0)"
        )
    ev = (
        "equivalence tests ($\\alpha = 0.05$, intersection-union; mean margin $0.1\\,s_0$ as registered, distance "
        f"margin {E2_DIST_MARGIN_COHERENT:.3f}, the distance that mean margin itself allows, in place of the first "
        "edition's 0.02): " + "; ".join(parts)
        + f". Contrast $T = {_sig(c.t_high)}$ (median $\\gamma$ {_sig(g_hi)}): mean {hi['mean']:.3f}, "
        f"{'far outside' if contrast else 'NOT outside'} the margin."
    )
    v_app, n_app = _e2_reading(g_app, second, c.t_low, contrast)
    v_ex, n_ex = _e2_reading(g_low, second, c.t_low, contrast)
    v_1, n_1 = _e2_reading(g_low, first, c.t_low, contrast)
    readings = [
        Reading(r"$\gamma$ as Eq. 4's $\sigma_2\lVert x_\perp\rVert/\nu$, the value Algorithm 1 measures "
                "(second-edition margins)", v_app, n_app, papers_own=True),
        Reading(r"$\gamma$ as the exact $\lVert s\rVert/\mathbb E\lVert\mathcal P_\perp\xi\rVert$ "
                "(second-edition margins)", v_ex, n_ex),
        Reading(r"exact $\gamma$, first-edition margins (distance 0.02, band at $R$/design effect)", v_1, n_1),
    ]
    cf = ("a setting inside $\\gamma < 0.1$ whose mean, sd or Kolmogorov-distance interval leaves its margin "
          "(mean $\\pm 0.1 s_0$, sd $\\pm 5$ %, distance + band above the margin) qualifies or refutes it; the "
          "first edition's $T = 5$ miss is such a result")
    if v_app == "inconclusive":
        return verdict("HT-E2", "inconclusive", ev + " No setting is in the stated regime.", readings=readings,
                       can_fail=cf)
    if v_app == "confirmed":
        return verdict("HT-E2", "confirmed", ev, readings=readings, can_fail=cf)
    if v_app == "qualified":
        return verdict("HT-E2", "qualified", ev, severity=severity(part="scope"), readings=readings, can_fail=cf,
                       holds="the collapsed law holds within the margins only at the smaller $\\gamma$")
    return verdict("HT-E2", "refuted", ev, severity=severity(part="conclusion"), readings=readings, can_fail=cf,
                   holds=r"at $\gamma < 0.1$ the output cosines are not equivalent to the collapsed law within the margins")


def check_ht_irrev(result: IrrevResult) -> Verdict:
    """HT's own model (fixed-nu noise after mixing): confirmed if the signal is lost at the smallest sigma_2.

    Refuted (conclusion) if the best linear estimator still recovers a median fraction >= LOST
    there. The noiseless reading (sigma_2 suppression alone) is shown beside it: refuted when M
    is invertible on V_perp to float64 accuracy (kappa < COND_MAX, recovery error < REC_TOL).
    """
    c = result.config
    T = np.asarray(c.temperatures)
    hot = int(np.argmax(T))
    cold = int(np.argmin(T))
    kmax = float(result.cond.max())
    emax = float(result.rec_err.max())
    reversible = kmax < COND_MAX and emax < REC_TOL
    r2_hot = float(np.median(result.r2[hot]))
    const = np.ptp(result.r2) == 0 or np.ptp(result.sigma2) == 0
    rho = np.nan if const else float(stats.spearmanr(result.sigma2.ravel(), result.r2.ravel())[0])
    lost = r2_hot < LOST
    med_k = np.median(result.cond, axis=1)
    vp = r"$\mathcal V_\perp$"
    rel = "<" if emax < REC_TOL else r"\ge"
    rm = np.median(result.r2_matched, axis=1)
    ev = (
        f"{result.cond.shape[1]} Algorithm-1 DSMs per $T$ ($n = {c.n}$), $T \\in [{_sig(T.min())}, {_sig(T.max())}]$: "
        f"smallest singular value of $M$ on {vp} $\\ge {_tex(_sig(result.smin.min()))}$, condition number on {vp} "
        f"median {_m(_sig(med_k[cold]))} ($T = {_sig(T[cold])}$) to {_m(_sig(med_k[hot]))} "
        f"($T = {_sig(T[hot])}$), "
        f"max {_m(_sig(kmax))} "
        f"($< {_tex(f'{COND_MAX:g}')}$: {'yes' if kmax < COND_MAX else 'no'}); noiseless recovery by solving in "
        f"float64: max relative error ${rel} {_tex(f'{REC_TOL:g}')}$. "
        f"With noise $\\nu = {_sig(c.nu)}$: inverting gives median error "
        f"{_m(_sig(np.median(result.inv_err_noise[hot])))} at $T = {_sig(T[hot])}$; the best linear estimator "
        f"recovers {_sig(100 * np.median(result.r2[cold]))} % of the signal energy at $T = {_sig(T[cold])}$ "
        f"(median $\\sigma_2$ {_sig(np.median(result.sigma2[cold]))}) and {_sig(100 * r2_hot)} % at "
        f"$T = {_sig(T[hot])}$ ($\\sigma_2$ {_sig(np.median(result.sigma2[hot]))}); "
        f"Spearman($\\sigma_2$, recovered) = {_sig(rho, 2)}; with the noise scaled "
        f"to keep $\\sigma_2/\\nu$ fixed the recovered fraction stays within "
        f"[{_sig(100 * rm.min())}, {_sig(100 * rm.max())}] %."
    )
    holds = (
        r"in HT's model, noise of fixed size $\nu$ added after mixing (Assumption 2, $y = s + \xi$), the "
        r"recoverable fraction is a function of $\sigma_i/\nu$ (the spectral SNR) and vanishes as $\sigma_2$ falls; "
        r"without noise $M$ is invertible on $\mathcal V_\perp$ at every temperature tested and $x_\perp$ is "
        r"recovered to float64 accuracy (error $\approx \kappa\cdot 10^{-16}$): the loss is the SNR's, as HT says"
    )
    readings = [
        Reading(r"HT's own model: noise of fixed $\nu$ after mixing (Assumption 2, $y = s + \xi$); the cause "
                "named is the loss of SNR", "refuted" if not lost else "confirmed",
                f"best linear (= MMSE for Gaussian data) estimator recovers {_sig(100 * r2_hot)} % at "
                f"$T = {_sig(T[hot])}$ (lost below {100 * LOST:g} %)", papers_own=True),
        Reading(r"$\sigma_2$ suppression alone, without noise", "confirmed" if not reversible else "refuted",
                f"condition number on $\\mathcal V_\\perp$ at most {_m(_sig(kmax))}, noiseless recovery error "
                f"${rel} {_tex(f'{REC_TOL:g}')}$"),
    ]
    cf = (f"refuted if the best linear estimator still recovered at least {100 * LOST:g} % of the signal energy "
          r"at the smallest $\sigma_2$ tested under HT's noise model")
    if not lost:
        return verdict("HT-IRREV", "refuted", ev, holds=r"the signal survives noise at the smallest $\sigma_2$ tested",
                       severity=severity(part="conclusion"), readings=readings, can_fail=cf)
    return verdict("HT-IRREV", "confirmed", ev + " " + holds[0].upper() + holds[1:] + ".", readings=readings,
                   can_fail=cf)


def _routes(status: dict[str, dict[str, float]], names: tuple[str, str]) -> str:
    """Verdict of a pair of escape routes: both escape / one / none, inconclusive if one is undecided."""
    st = [status[k]["status"] for k in names]
    if "undecided" in st:
        return "inconclusive"
    return {2: "confirmed", 1: "qualified", 0: "refuted"}[st.count("escapes")]


def check_ht_esc(result: EscapeResult) -> Verdict:
    """Rule fixed before the run: at the hottest temperature, where the DSM block is trapped (median pair cosine
    below TRAP), a route escapes if the lower 95 % limit of its median pair cosine is at least ESCAPE.

    The paper's own reading pairs its two routes as it names them in its own block: a learnable scale inside
    the block (before the noise) and the row-stochastic Softmax it contrasts DSMs with. Both escape ->
    confirmed; one -> qualified (scope); none -> refuted (conclusion); an undecided route -> inconclusive.
    """
    st = escape_status(result)
    T = st["dsm"]["T"]
    row = lambda k: (f"{MIXER_LABELS[k]}: median cosine {st[k]['median']:.3f} "  # noqa: E731
                     f"[{st[k]['lo']:.3f}, {st[k]['hi']:.3f}], median $\\gamma$ {_sig(st[k]['gamma'], 2)}")
    R = result.cos.shape[-1]
    ev = (f"HT's block $\\mathrm{{LN}}(Ax_\\perp + \\xi)$, $n = {result.config.n}$, $\\nu = {_sig(result.config.nu)}$, "
          f"{R} input pairs at cosine {result.config.input_cos:g} per temperature, the same pairs and noise for "
          f"every mixer; at $T = {_sig(T)}$ (95 % order-statistic intervals): " + "; ".join(row(k) for k in st)
          + f". Rule, fixed before the run: trapped below {TRAP:g}, escapes from {ESCAPE:g}.")
    cf = (f"refuted if neither route's lower limit reaches {ESCAPE:g} where the DSM block is trapped; each route "
          "that stays below it qualifies the statement")
    if not st["dsm"]["hi"] < TRAP:
        return verdict("HT-ESC", "inconclusive", ev + " The DSM block is not trapped at this temperature.",
                       can_fail=cf)
    own = _routes(st, ("scaled", "softmax"))
    readings = [
        Reading("learnable scale inside the block (before the noise) and row-stochastic Softmax (the non-DSM "
                "mixing HT contrasts DSMs with)", own,
                f"median pair cosine {st['scaled']['median']:.2f} (scale) and {st['softmax']['median']:.3f} "
                "(Softmax)", papers_own=True),
        Reading(r"learnable scale inside the block and an unconstrained mixing ($\mathcal N(0, 1/n)$ entries)",
                _routes(st, ("scaled", "free")),
                f"median pair cosine {st['scaled']['median']:.2f} and {st['free']['median']:.2f}"),
    ]
    holds = ("a scale inside the block escapes (it restores the SNR the DSM removed); a non-DSM normalisation "
             "does not by itself: row-stochastic Softmax of the same scores is trapped exactly like the DSM "
             "(the trap is the entropy of the mixing, not its double stochasticity); only mixings that do not "
             "average (e.g. unconstrained) keep the pair aligned")
    if own == "qualified":
        return verdict("HT-ESC", "qualified", ev, holds=holds, severity=severity(part="scope"), readings=readings,
                       can_fail=cf)
    if own == "refuted":
        return verdict("HT-ESC", "refuted", ev, holds="neither route escapes in HT's block",
                       severity=severity(part="conclusion"), readings=readings, can_fail=cf)
    return verdict("HT-ESC", own, ev, readings=readings, can_fail=cf)


#: chapter 3's claim checks: claim id -> (experiment, check)
CHECKS = {
    "HT-L3": (lemma3_experiment, check_ht_l3),
    "HT-SNR": (snr_experiment, check_ht_snr),
    "HT-LEVY": (levy_experiment, check_ht_levy),
    "HT-T1": (theorem1_experiment, check_ht_t1),
    "HT-AFF": (affine_experiment, check_ht_aff),
    "HT-WEDIN": (wedin_experiment, check_ht_wedin),
    "HT-T1P": (theorem1_proof_experiment, check_ht_t1p),
    "HT-E2": (e2_prereg_experiment, check_ht_e2),
    "HT-IRREV": (irrev_experiment, check_ht_irrev),
    "HT-ESC": (escape_experiment, check_ht_esc),
}

#: the module's names: the table and the checks it names
__all__ = ["CHECKS", *sorted({check.__name__ for _, check in CHECKS.values()})]
