"""The book's own result BK-SIG2T, the tables (Markdown strings with typeset maths)."""

from __future__ import annotations

import numpy as np

from .experiments import LawResult, LawSummary, odd_spread_law, q_norm_law

__all__ = ["kappa_table", "law_table", "order_table"]


def kappa_table(ns=(16, 32, 64, 128, 256)) -> str:
    r"""The finite-n terms of :math:`\kappa(n)` relative to the edge :math:`2\sqrt{n/12}`, in percent."""
    rows = [r"| $n$ | $n \to n - 3/2$ | Tracy–Widom | $\kappa(n)/(2\sqrt{n/12}) - 1$ |",
            "| ---: | ---: | ---: | ---: |"]
    for n in ns:
        lead = 2 * np.sqrt(n / 12)
        shift = np.sqrt((n - 1.5) / n) - 1
        tot = float(q_norm_law(n)) / lead - 1
        rows.append(f"| {n} | {100 * shift:.2f}% | {100 * (tot - shift):.2f}% | {100 * tot:.2f}% |")
    return "\n".join(rows)


def law_table(result: LawResult, s: LawSummary, temperatures=(1.0, 10.0, 100.0)) -> str:
    """Relative error of the law and of its leading term at a few temperatures, with the 95 % half-width."""
    T = s.temperatures
    idx = [int(np.argmin(np.abs(T - t))) for t in temperatures]
    law_h = " | ".join(f"law, $T = {T[i]:g}$" for i in idx)
    lead_h = " | ".join(f"$1/(T\\sqrt{{3n}})$, $T = {T[i]:g}$" for i in idx)
    rows = [f"| $n$ | DSMs | {law_h} | {lead_h} | 95% half-width, $T = {T[idx[-1]]:g}$ |",
            "| ---: | ---: | " + "---: | " * (2 * len(idx)) + "---: |"]
    for k, n in enumerate(s.ns):
        law = " | ".join(f"{100 * s.err_law[k, i]:.2f}%" for i in idx)
        lead = " | ".join(f"{100 * s.err_leading[k, i]:.1f}%" for i in idx)
        hw = 196 * s.se_rel[k, idx[-1]]
        rows.append(f"| {n} | {len(result.q_norm[k])} | {law} | {lead} | {hw:.2f}% |")
    return "\n".join(rows)


def order_table(s: LawSummary) -> str:
    r"""Finite-:math:`T` part, the mean :math:`1/T` and :math:`1/T^2` coefficients (with 95 % half-widths),
    the spread of the :math:`1/T` coefficient, and :math:`\mathbb E\|Q(d)\|_2` against :math:`\kappa(n)`."""
    T = s.temperatures
    i1, i100 = int(np.argmin(np.abs(T - 1))), int(np.argmin(np.abs(T - 100)))
    rows = [r"| $n$ | $\rho(T=1)$ | $\rho(T=100)$ | mean $1/T$ coeff. | $c_2$ (pred. $-0.00833$) "
            r"| sd$(a)$ / pred. | $\mathbb E\lVert Q(d)\rVert_2$ | $\kappa(n)$ |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for k, n in enumerate(s.ns):
        rows.append(
            f"| {n} | {s.rho[k, i1]:.2e} | {s.rho[k, i100]:.1e} | {s.a_mean[k]:+.4f} ± {1.96 * s.a_se[k]:.4f} "
            f"| {s.c2[k]:.5f} ± {1.96 * s.c2_se[k]:.5f} | {s.a_sd[k] / float(odd_spread_law(n)):.2f} "
            f"| {s.q_mean[k]:.4f} ± {1.96 * s.q_se[k]:.4f} | {float(q_norm_law(n)):.4f} |"
        )
    return "\n".join(rows)
