r"""Chapter 3, the tables the notebook shows (each returns Markdown text with typeset maths).

Numbers are rounded to what is meaningful; probabilities below :math:`10^{-12}` print as a
bound (:func:`prob_text`), so stored outputs reproduce on any CPU.
"""

from __future__ import annotations

import numpy as np

from ...verdicts import claim_ref
from .._format import md_table
from .._format import mtex as _m
from .._format import sig as _sig
from .experiments.collapse import METHODS, AffineResult, WedinResult
from .experiments.e2 import E2Result, e2_stats
from .experiments.escape import MIXER_LABELS, EscapeResult, escape_status
from .experiments.irrev import REC_TOL, IrrevResult
from .experiments.proof import E2_DIST_MARGIN_COHERENT, ProofResult, proof_steps
from .experiments.snr import SNRResult

__all__ = [
    "affine_table",
    "e2_table",
    "escape_table",
    "findings_list",
    "lemma3_table",
    "levy_table",
    "theorem1_table",
    "irrev_table",
    "prob_text",
    "proof_table",
    "snr_table",
    "summary_table",
    "wedin_table",
]


def prob_text(p: float, floor: float = 1e-12) -> str:
    """A probability as inline maths: two significant digits, or ``< 10^k`` (k = ceil(log10 p)) below ``floor``.

    Tail probabilities far below ``floor`` come from special-function evaluations whose last
    digits may differ across builds; the bound is what reproduces.

    Raises
    ------
    ValueError
        If ``p`` is negative or not finite.
    """
    p = float(p)
    if not np.isfinite(p) or p < 0:
        raise ValueError(f"p must be a finite probability, got {p!r}")
    if p == 0:
        return "0"
    if p < floor:
        return f"$< 10^{{{int(np.ceil(np.log10(p)))}}}$"
    return _m(_sig(p, 2))


def snr_table(result: SNRResult) -> str:
    r"""Percentiles of exact / approximate :math:`\gamma` per temperature, and :math:`\mathbb E\|\mathcal P_\perp\xi\|`."""
    ratio = result.gamma_exact / result.gamma_approx
    q = np.percentile(ratio, [5, 50, 95], axis=1).T
    n, nu = result.config.n, result.config.nu
    lead = (r"$\mathbb E\lVert\mathcal P_\perp\xi\rVert$ = " f"{result.e_norm:.5f} exact, {result.e_norm_mc:.5f} "
            r"sampled; $\nu\sqrt{(n-1)/n}$ = " f"{nu * np.sqrt((n - 1) / n):.5f}.\n\n")
    rows = [[f"{T:g}", f"{a:.2f}", f"{b:.2f}", f"{c:.2f}"] for T, (a, b, c) in zip(result.config.temperatures, q)]
    return lead + md_table(["$T$", r"exact $\gamma$ / $\sigma_2\lVert x_\perp\rVert/\nu$: 5 %", "50 %", "95 %"], rows)


def proof_table(result: ProofResult) -> str:
    """Failure probability of each step of Theorem 1's proof per epsilon (exact where exact, bounds below 1e-12)."""
    st = proof_steps(result)
    lead = (f"Step 2 as written fails (a noise norm below its mean) in {100 * st['p2'].min():.1f}–"
            f"{100 * st['p2'].max():.1f} % of pairs; " r"$\lVert u - u_{noise}\rVert \le 4\gamma$ fails in "
            f"{100 * st['p2_claim'].max():.2f} %; step 4 violations: {st['step4_viol']}.\n\n")
    rows = [[f"{e:.2f}", prob_text(st["stated"][k]), prob_text(st["levy"][k]), prob_text(st["p1_exact"][k]),
             prob_text(st["p3_exact"][k]), f"{st['p_chain'][-1, k]:.3f}"] for k, e in enumerate(st["eps"])]
    return lead + md_table([r"$\varepsilon$", r"stated $2e^{-n\varepsilon^2/2}$", "step-3 bound", "step 1 fails",
                          "step 3 fails", r"proof fails ($\gamma = 1/8$)"], rows)


def e2_table(result: E2Result) -> str:
    """The second-edition equivalence statistics per low-SNR setting (both readings of gamma)."""
    rows = []
    for T, x, g, s2 in zip(result.config.t_low, result.cos_low, result.gamma_low, result.sigma2_low):
        s = e2_stats(x, result.config.n, dist_margin=E2_DIST_MARGIN_COHERENT, band_at="dsms")
        ok = all(s[k] for k in ("eq_mean", "eq_sd", "eq_beta", "eq_gauss"))
        rows.append([f"{T:g}", f"{np.median(g):.3f}", f"{np.median(s2) / result.config.nu:.3f}",
                     f"{s['mean']:.4f} [{s['mean_lo']:.4f}, {s['mean_hi']:.4f}]", f"{s['sd_ratio']:.3f}",
                     f"{s['d_beta']:.4f}", f"{s['d_mean']:.4f}",
                     f"{max(s['d_beta'], s['d_gauss']) + s['band']:.3f}", "yes" if ok else "**no**"])
    return md_table(["$T$", r"$\gamma$ exact", r"$\gamma$ as $\sigma_2\lVert x_\perp\rVert/\nu$", "mean [90 % CI]",
                   r"$\mathrm{sd}/s_0$", "distance to Beta", "from the mean alone",
                   f"distance + band (margin {E2_DIST_MARGIN_COHERENT:.3f})", "all four equivalent"], rows)


def affine_table(result: AffineResult) -> str:
    """Held-out alignment with the clean LN output per fitted affine map and temperature."""
    Ts = result.config.temperatures
    rows = [[r"median $\gamma$"] + [f"{np.median(g):.3f}" for g in result.gamma]]
    rows += [[name] + [f"{a:.3f}" for a in result.align[:, :, k].mean(axis=1)] for k, name in enumerate(METHODS)]
    mutual = ", ".join(f"{m.split(' (')[0]} {v:.2f}" for m, v in zip(METHODS, result.mutual[0].mean(axis=0)))
    return (md_table(["held-out alignment with the clean LN output (mean over 10 DSMs)"]
                   + [f"$T = {T:g}$" for T in Ts], rows)
            + f"\n\nMutual cosine of similar pairs at $T = {Ts[0]:g}$: {mutual}.")


def wedin_table(result: WedinResult) -> str:
    """Both sides of Wedin's bound per gamma in HT's application, and the adversarial search's count."""
    n_stated = int((result.search_lhs > result.search_rhs * (1 + 1e-9)).sum())
    n_corr = int((result.search_lhs > result.search_rhs_corr * (1 + 1e-9)).sum())
    lead = (f"Search: the stated bound is violated in {n_stated} of {result.search_lhs.size} pairs, "
            f"the corrected bound in {n_corr}.\n\n")
    med = [np.median(a, 1) for a in (result.sin_data, result.rhs_data, result.rhs_cov)]
    rows = [[f"{g:g}", f"{lhs:.2f}", _m(f"{rd:.3g}"), _m(f"{rc:.3g}")]
            for g, lhs, rd, rc in zip(result.config.gammas, *med)]
    return lead + md_table([r"$\gamma$", r"$\lVert\sin\Theta\rVert$", r"$\lVert E\rVert/\Delta$ (data)",
                          r"$\lVert E\rVert/\Delta$ (covariance)"], rows)


def irrev_table(result: IrrevResult) -> str:
    r"""Conditioning of :math:`M` on :math:`\mathcal V_\perp`, noiseless recovery and recovered fraction per T."""
    rows = []
    for k, T in enumerate(result.config.temperatures):
        err = _m(f"< {REC_TOL:g}") if result.rec_err[k].max() < REC_TOL else "LARGE"
        rows.append([f"{T:g}", f"{np.median(result.sigma2[k]):.4f}", _m(f"{result.smin[k].min():.1e}"),
                     _m(f"{np.median(result.cond[k]):.3g}"), _m(f"{result.cond[k].max():.2g}"), err,
                     f"{100 * np.median(result.r2[k]):.2f} %"])
    return md_table(["$T$", r"median $\sigma_2$", r"min $s_i$", r"median $\kappa$", r"max $\kappa$",
                   "max error (no noise)", "recovered"], rows)


def escape_table(result: EscapeResult) -> str:
    """Per mixer at the hottest temperature: median pair cosine with its interval, median gamma, status."""
    st = escape_status(result)
    rows = [[MIXER_LABELS[k], f"{v['median']:.3f} [{v['lo']:.3f}, {v['hi']:.3f}]", _sig(v["gamma"], 2), v["status"]]
            for k, v in st.items()]
    T = st["dsm"]["T"]
    return md_table([f"mixer ($T = {T:g}$)", "median pair cosine [95 %]", r"median $\gamma$", "status"], rows)


def findings_list(topics: dict[str, str], verdicts: list) -> str:
    """The chapter's Findings as a short Markdown list: what is confirmed, then one line per other verdict.

    Parameters
    ----------
    topics : dict of str to str
        Claim id -> a few words naming what it is about, in the order to list them.
    verdicts : list of Verdict
        The computed verdicts of those ids (the notebook evaluates them; this view does not).

    Raises
    ------
    ValueError
        If the verdicts do not answer exactly the ids of ``topics``.
    """
    by_id = {v.claim_id: v for v in verdicts}
    if set(by_id) != set(topics):
        raise ValueError(f"verdicts must answer exactly {sorted(topics)}, got {sorted(by_id)}")
    ok = [cid for cid in topics if by_id[cid].verdict == "confirmed"]
    lines = [f"**Findings** ({len(ok)} of {len(topics)} confirmed):", ""]
    if ok:
        lines.append("* Confirmed: " + "; ".join(f"{topics[c]} ({claim_ref(c)})" for c in ok) + ".")
    for cid in topics:
        v = by_id[cid]
        if v.verdict != "confirmed":
            sev = f", severity *{v.severity}*" if v.severity else ""
            lines.append(f"* {topics[cid][0].upper() + topics[cid][1:]} ({claim_ref(cid)}): **{v.verdict}**{sev}.")
    return "\n".join(lines)


def lemma3_table(result) -> str:
    """The worst Lemma-3 ratio inside and outside the side condition (searches and closed form)."""
    from .experiments.snr import lemma3_sup

    inside = result.r <= 0.5
    w_in = max(float(result.ratio_opt[inside].max()), float(result.de_inside[2]))
    w_out = max(float(result.ratio_opt[~inside].max()), float(result.de_outside[2]))
    gap = float(np.max(np.abs(result.ratio_opt - lemma3_sup(result.r))))
    rows = [[r"inside, $r \le 1/2$", f"{w_in:.4f}", f"{4 * np.sin(np.pi / 12):.4f}"],
            [f"outside (at $r$ = {result.de_outside[0]:.3f})", f"{w_out:.4f}", "2"]]
    return (md_table(["side condition", "worst ratio found", "closed-form supremum"], rows)
            + f"\n\nThe angle search meets the closed form to {'$< 10^{-6}$' if gap < 1e-6 else _m(_sig(gap, 2))}.")


def levy_table(result, eps: tuple[float, ...] = (0.2, 0.3, 0.5)) -> str:
    r"""Exact tail :math:`P(|\langle u, v\rangle| \ge \varepsilon)` against Lévy's bound at a few :math:`\varepsilon`."""
    i = np.searchsorted(result.eps, eps)
    rows = [[f"{result.eps[k]:.2f}", prob_text(result.exact[k]), prob_text(result.bound[k])] for k in i]
    return md_table([r"$\varepsilon$", "exact tail", r"bound $2e^{-(n-2)\varepsilon^2/2}$"], rows)


def theorem1_table(result) -> str:
    r"""Counts of informative, vacuous and violated :math:`(\gamma \le 1/8, \varepsilon)` cells of Theorem 1."""
    from .experiments.snr import theorem1_cells

    cells = theorem1_cells(result)
    st = cells["status"][np.asarray(result.config.gammas) <= 0.125]
    worst = float(cells["p_fail"][cells["status"] == 0].max()) if (cells["status"] == 0).any() else float("nan")
    rows = [[str(int((st == 0).sum())), str(int((st == 1).sum())), str(int((st == 2).sum())), f"{worst:.4f}"]]
    return md_table([r"informative cells ($\gamma \le 1/8$)", "vacuous", "violated",
                   "largest failure rate, informative"], rows)


def _n_l3(r) -> str:
    inside = r.r <= 0.5
    w = max(float(r.ratio_opt[inside].max()), float(r.de_inside[2]))
    return f"worst ratio {w:.3f} under the side condition (stated 4)"


def _n_levy(r) -> str:
    inf = r.bound < 1
    return f"exact tail at most {_sig(float(np.max(r.exact[inf] / r.bound[inf])), 2)} of the bound where it is $< 1$"


def _n_t1(r) -> str:
    from .experiments.snr import theorem1_cells

    st = theorem1_cells(r)["status"][np.asarray(r.config.gammas) <= 0.125]
    return f"{int((st == 2).sum())} of {int((st == 0).sum())} informative cells violated"


def _n_aff(r) -> str:
    i = int(np.argmin(np.median(r.gamma, axis=1)))
    gain = r.align[i][:, 1:3] - r.align[i][:, :1]
    hi = gain.mean(axis=0) + 2.26 * gain.std(axis=0, ddof=1) / np.sqrt(gain.shape[0])
    txt = [_sig(h, 2) if abs(h) >= 1e-9 else "0 (to rounding)" for h in hi]
    return (f"upper 95 % limit of the alignment gain: scalar {txt[0]}, per-coordinate {txt[1]} "
            "(refutes from 0.05)")


#: the deciding number of the checks that have a single reading, from their results
_NUMBERS = {"HT-L3": _n_l3, "HT-LEVY": _n_levy, "HT-T1": _n_t1, "HT-AFF": _n_aff}


def summary_table(verdicts: list, results: dict) -> str:
    """One row per claim: verdict, severity and the one number that decides it.

    The number is the paper's own reading's where the verdict has readings, else computed from
    the claim's result (``results[claim_id]``) for the single-reading checks of this chapter.

    Raises
    ------
    ValueError
        If a single-reading claim has no result or no number rule.
    """
    rows = []
    for v in verdicts:
        if v.own_number is not None:
            num = v.own_number
        elif v.claim_id in _NUMBERS and v.claim_id in results:
            num = _NUMBERS[v.claim_id](results[v.claim_id])
        else:
            raise ValueError(f"no deciding number for {v.claim_id}: pass its result")
        rows.append([claim_ref(v.claim_id), v.verdict, v.severity or "", num])
    return md_table(["claim", "verdict", "severity", "deciding number"], rows, rule="---")
