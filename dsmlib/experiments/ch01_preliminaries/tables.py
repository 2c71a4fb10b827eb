"""Chapter 1, the tables the notebook shows (counts as arrays, and rendered Markdown tables with typeset maths)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ...verdicts import Verdict, claim_ref
from .._format import md_table, mtex, sig, small
from .experiments.noise import NoiseResult
from .experiments.norms import NormResult, PathResult
from .experiments.pieces import chi_mean
from .experiments.spectra import PFResult, SpectraBundle

__all__ = [
    "eigen_markdown",
    "ht_c_markdown",
    "ht_c_table",
    "l2_markdown",
    "noise_markdown",
    "norms_markdown",
    "one_dsm_line",
    "paths_markdown",
    "pf_markdown",
    "sigma1_markdown",
    "summary_markdown",
]


def ht_c_table(bundle: SpectraBundle, claimed: float = 1e-7) -> dict[str, NDArray]:
    """Per temperature: draws in which all R outputs meet ``|sigma_1 - 1| <= claimed``, and the converged/unconverged split.

    Pools the main grid (draw 0, both stopping modes) and the extra draws of
    :func:`sigma1_draws_experiment`.

    Returns
    -------
    dict with ``T`` (sorted temperatures), ``n_draws``, ``n_pass`` (draws passing),
    ``n_unconv`` (unconverged outputs over all draws), ``n_bad`` (outputs breaking the
    claim), ``n_bad_conv`` (converged outputs breaking it), ``conv_dev`` (max
    ``|sigma_1 - 1|`` over converged outputs), ``n_conv`` (converged outputs, i.e. DSMs, counted once
    per draw in the stop-at-tolerance mode), each of shape (nT,).
    """
    spec = bundle.spectra
    rows: dict[float, list] = {}
    for i, T in enumerate(spec.config.temperatures):  # draw 0, both modes (a draw passes if both do)
        dev = np.abs(spec.sigma1[i] - 1)
        conv = spec.converged[i]
        rows[float(T)] = [[bool(np.all(dev <= claimed))], int((~conv[0]).sum()), int((dev > claimed).any(0).sum()),
                          int(((dev > claimed) & conv).any(0).sum()), float(dev[conv].max()) if conv.any() else 0.0,
                          int(conv[0].sum())]
    if bundle.draws is not None:
        dr = bundle.draws
        for i, T in enumerate(dr.config.temperatures):
            dev = np.abs(dr.sigma1[i] - 1)  # (draws, R)
            conv = dr.converged[i]
            passes = list(np.all(dev <= claimed, axis=-1))
            cd = float(dev[conv].max()) if conv.any() else 0.0
            if float(T) in rows:  # draw 0 is already in the main grid: keep its verdict, add the others
                r = rows[float(T)]
                r[0] = r[0] + [bool(p) for p in passes[1:]]
                r[1] += int((~conv[1:]).sum())
                r[2] += int((dev[1:] > claimed).sum())
                r[3] += int(((dev[1:] > claimed) & conv[1:]).sum())
                r[4] = max(r[4], cd)
                r[5] += int(conv[1:].sum())
            else:
                rows[float(T)] = [[bool(p) for p in passes], int((~conv).sum()), int((dev > claimed).sum()),
                                  int(((dev > claimed) & conv).sum()), cd, int(conv.sum())]
    Ts = sorted(rows)
    return {
        "T": np.array(Ts),
        "n_draws": np.array([len(rows[t][0]) for t in Ts]),
        "n_pass": np.array([sum(rows[t][0]) for t in Ts]),
        "n_unconv": np.array([rows[t][1] for t in Ts]),
        "n_bad": np.array([rows[t][2] for t in Ts]),
        "n_bad_conv": np.array([rows[t][3] for t in Ts]),
        "conv_dev": np.array([rows[t][4] for t in Ts]),
        "n_conv": np.array([rows[t][5] for t in Ts]),
    }


# ----------------------------------------------------------------------------- Markdown tables
def _table(header: list[str], rows: list[list[str]], align: str | None = None) -> str:
    """A Markdown table (``align``: one of ``l``/``r`` per column, default right but the first)."""
    align = align or "l" + "r" * (len(header) - 1)
    return md_table(header, rows, ["---" if a == "l" else "---:" for a in align])


def eigen_markdown(bundle: SpectraBundle) -> str:
    """Eigenvalues of modulus ~1 and :math:`\\max|\\lambda_2|` per temperature, then the controls."""
    spec, special = bundle.spectra, bundle.special
    rows = [[f"Sinkhorn DSMs, $T = {T:g}$", ", ".join(str(k) for k in sorted(set(nu.tolist()))), "1", f"{l2.max():.4f}"]
            for T, nu, l2 in zip(spec.config.eig_temperatures, spec.n_unit, spec.lam2)]
    rows += [[name.replace("_", " "), str(int(nu)), str(int(m1)), ""]
             for name, nu, m1 in zip(special.names, special.n_unit, special.mult_one)]
    return _table(["matrices", r"eigenvalues with $\lvert\lambda\rvert > 1 - 10^{-9}$", "multiplicity of 1",
                   r"max $\lvert\lambda_2\rvert$"], rows)


def sigma1_markdown(bundle: SpectraBundle) -> str:
    """Max :math:`|\\sigma_1 - 1|` per temperature in both stopping modes, and the unconverged count."""
    spec = bundle.spectra
    dev = np.abs(spec.sigma1 - 1).max(axis=-1)
    nconv = (~spec.converged[:, 0]).sum(-1)
    dv = r"max $\lvert\sigma_1 - 1\rvert$"
    rows = [[f"{T:g}", mtex(small(d[0])), str(f), mtex(small(d[1]))]
            for T, d, f in zip(spec.config.temperatures, dev, nconv)]
    return _table(["$T$", f"{dv}, stopped at tolerance", "not converged", f"{dv}, exactly $K = {spec.config.n_iter}$"],
                  rows, "rrrr")


def ht_c_markdown(bundle: SpectraBundle, claimed: float = 1e-7) -> str:
    """:func:`ht_c_table` as Markdown: draws passing, outputs breaking the bound, converged or not."""
    tab = ht_c_table(bundle, claimed)
    keys = ("T", "n_pass", "n_draws", "n_bad", "n_unconv", "n_conv", "n_bad_conv")
    rows = [[f"{T:g}", f"{p} of {dd}", str(b), str(u), str(c), str(bc)] for T, p, dd, b, u, c, bc in zip(*(tab[k] for k in keys))]
    return _table(["$T$", "draws passing", "outputs breaking $10^{-7}$", "unconverged", "converged (DSMs)",
                   "DSMs breaking $10^{-7}$"], rows, "rrrrrr")


def pf_markdown(pf: PFResult) -> str:
    """Per family: DSM or not, share primitive, the bracket of :math:`\\rho`, median and max :math:`\\sigma_1`."""
    valid = np.arange(pf.primitive.shape[1]) < pf.count[:, None]
    rows = []
    for k, name in enumerate(pf.names):
        v = valid[k]
        rows.append([name.replace("T=", "$T = ") + ("$" if "T=" in name else ""), "yes" if pf.is_dsm[k] else "no",
                     f"{pf.primitive[k, v].mean():.0%}".replace("%", " %"),
                     mtex(small(max(1 - pf.rho_lo[k, v].min(), pf.rho_hi[k, v].max() - 1), 1e-9)),
                     f"{np.median(pf.sigma1[k, v]):.4f}", f"{pf.sigma1[k, v].max():.4f}"])
    return _table(["family", "DSM", "primitive", r"$\rho$ bracket: max distance from 1", r"$\sigma_1$ median",
                   r"$\sigma_1$ max"], rows, "llrrrr")


def l2_markdown(bundle: SpectraBundle) -> str:
    """Exact DSMs against the row-stochastic control: the gap between the norm on V_perp and sigma_2."""
    sp = bundle.special
    ratio = sp.sm_restricted / sp.sm_sigma2
    rows = [[f"exact Birkhoff DSMs ({sp.bk_sigma2.size})",
             mtex(small(np.abs(sp.bk_restricted - sp.bk_sigma2).max())), "1"],
            [f"row Softmax ({sp.sm_sigma2.size})", mtex(sig(np.abs(sp.sm_restricted - sp.sm_sigma2).max())),
             f"{ratio.min():.3f} to {ratio.max():.3f}"]]
    return _table(["matrices", r"max $\bigl\lvert\lVert M\rVert_{\mathcal V_\perp} - \sigma_2\bigr\rvert$",
                   r"$\lVert M\rVert_{\mathcal V_\perp}/\sigma_2$"], rows)


def noise_markdown(noise: NoiseResult) -> str:
    """Remark 1: the paper's value, the exact chi mean and the Monte-Carlo mean."""
    c = noise.config
    paper, exact = c.nu * np.sqrt((c.n - 1) / c.n), float(c.nu / np.sqrt(c.n) * chi_mean(c.n - 1))
    rows = [[r"paper, $\nu\sqrt{(n-1)/n}$", f"{paper:.5f}"], [r"exact chi mean", f"{exact:.5f}"],
            [f"Monte-Carlo mean, $R = {noise.big_norms.size}$", f"{noise.big_norms.mean():.5f}"],
            ["paper / exact", f"{paper / exact:.4f}"]]
    return _table(["quantity", r"$\mathbb E\lVert\mathcal P_\perp\xi\rVert$"], rows)


def norms_markdown(norms: NormResult) -> str:
    """RC-E: the largest ratio per kind and the worst 3 x 3 pair of the search."""
    rows = [[k, f"{r.max():.3f}"] for k, r in zip(norms.kinds, norms.ratio)]
    A, B = (str(X.astype(int).tolist()) for X in (norms.best_A, norms.best_B))
    rows.append([f"worst pair of the search: $A$ = {A}, $B$ = {B}",
                 f"{norms.search_ratio.max():.3f} (triangle ratio)"])
    return _table(["matrices", r"max $\lVert A\rVert_2/\lVert A\rVert_{1,\infty}$"], rows)


def paths_markdown(paths: PathResult) -> str:
    """RC-PD: max relative error of the path sum per method and depth, and the wrong-order control."""
    c = paths.config
    rows = [[name, str(L), mtex(small(e.max(), 1e-13)), f"{er.min():.2f}" if L > 1 else "(one factor)"]
            for name, E, ER in zip(c.methods, paths.rel_err, paths.rel_err_reversed)
            for L, e, er in zip(c.layers, E, ER)]
    return _table(["attention", "$L$", "max relative error of the path sum", "wrong order: min error"], rows, "lrrr")


def summary_markdown(verdicts: list[Verdict]) -> str:
    """The chapter's Summary: one row per id with verdict, severity and the number that decides it
    (the paper's own reading's number)."""
    rows = []
    for v in verdicts:
        num = v.own_number or "see the evidence"
        rows.append([claim_ref(v.claim_id), f"**{v.verdict}**", v.severity or "", " ".join(num.replace("|", "\\|").split())])
    return _table(["claim", "verdict", "severity", "deciding number (the paper's own reading)"], rows, "llll")


def one_dsm_line(M: NDArray[np.float64], n: int = 64, T: float = 0.1) -> str:
    """The chapter's first example as one Markdown line: an Algorithm-1 DSM's row error within
    tolerance and :math:`|\\sigma_1 - 1|` (as a bound below the noise floor).

    Parameters
    ----------
    M : ndarray, shape (n, n)
        One DSM from :func:`dsmlib.random_dsm`.
    """
    from ...sinkhorn import marginal_error
    from ...spectra import singular_values

    e, s1 = marginal_error(M), singular_values(M)[0]
    return (f"One Algorithm-1 DSM ($n = {n}$, $T = {T:g}$): "
            f"$e(M) \\le 10^{{-6}}$: {bool(e <= 1e-6)}; "
            f"$\\lvert\\sigma_1 - 1\\rvert$ {mtex(small(abs(s1 - 1)))}")
