"""The book's own result BK-SIG2T, the check (result -> Verdict) and :data:`CHECKS`."""

from __future__ import annotations

import numpy as np
from ...verdicts import Verdict, severity, verdict
from .._format import sig as _sig
from ..ch02_sinkhorn_q.experiments.common import tex as _tex

from .experiments import (
    C2,
    C2_FACTOR,
    LawResult,
    MARGIN_FIRST,
    MARGIN_LAW,
    MARGIN_SE,
    SLOPE_RANGE,
    law_experiment,
    law_summary,
)


# ----------------------------------------------------------------------------- the check
def check_bk_sig2t(result: LawResult) -> Verdict:
    r"""Pre-registered check of the law (criteria fixed in the module constants).

    1. precision: relative SE of the mean sigma_2 < MARGIN_SE in every cell, and every Sinkhorn
       run converged to ``config.tol`` (else not-tested);
    2. first order: |rho| < MARGIN_FIRST at the largest T, every n;
    3. order in 1/T: slope of log|rho| against log T on T >= FIT_TMIN in SLOPE_RANGE, every n;
    4. coefficient: fitted c2 within C2_FACTOR of -1/120, every n;
    5. constant: |law / mean - 1| < MARGIN_LAW at the largest T, every n.

    2 or 3 failing -> refuted (severity conclusion); 4 or 5 failing -> qualified (severity
    from the worst factor); all pass -> confirmed.
    """
    s = law_summary(result)
    ns, T = s.ns, s.temperatures
    se_max = float(np.max(s.se_rel))
    rho_end = s.rho[:, -1]
    first_ok = bool(np.all(np.abs(rho_end) < MARGIN_FIRST))
    slope_ok = bool(np.all((s.slope >= SLOPE_RANGE[0]) & (s.slope <= SLOPE_RANGE[1])))
    ratio_c2 = s.c2 / C2
    c2_ok = bool(np.all((ratio_c2 >= 1 / C2_FACTOR) & (ratio_c2 <= C2_FACTOR)))
    law_end = s.err_law[:, -1]
    law_ok = bool(np.all(np.abs(law_end) < MARGIN_LAW))
    iw = int(np.argmax(np.abs(law_end)))
    t_end = f"{T[-1]:g}"
    pct = lambda x: _sig(100 * x, 2) + "%"  # noqa: E731
    ev = (
        r"law: $\sigma_2 = \kappa(n)/(nT)\,(1 - 1/(120 T^2))$, $\kappa(n) = \sqrt{1/12}\,"
        r"(2\sqrt{n - 3/2} - 0.760\,(n - 3/2)^{-1/6}) \to 1/(T\sqrt{3n})$. "
        f"Over $n = {', '.join(str(int(n)) for n in ns)}$ "
        f"and $T \\in [{T.min():g}, {T.max():g}]$ (relative SE of the mean $\\le$ {pct(se_max)}): at "
        f"$T = {t_end}$ the law is off by {pct(np.min(law_end))} to {pct(np.max(law_end))} (margin "
        f"{pct(MARGIN_LAW)}), the leading $1/(T\\sqrt{{3n}})$ by {pct(s.err_leading[0, -1])} "
        f"($n = {int(ns[0])}$) to {pct(s.err_leading[-1, -1])} ($n = {int(ns[-1])}$); "
        f"$\\operatorname{{mean}}(\\sigma_2\\, nT/\\|Q(d)\\|_2) - 1$ is at most "
        f"{_tex(_sig(np.max(np.abs(rho_end)), 2))} in size at $T = {t_end}$ and falls like "
        f"$T^{{\\text{{slope}}}}$, slope {s.slope.min():.2f} to {s.slope.max():.2f} (pre-registered "
        f"$[{SLOPE_RANGE[0]}, {SLOPE_RANGE[1]}]$), with coefficient $c_2$ = {_sig(s.c2.min(), 2)} to "
        f"{_sig(s.c2.max(), 2)} (predicted $-1/120 = {_sig(C2, 2)}$)."
    )
    tol = result.config.tol
    converged = bool(np.all(result.max_err <= tol))
    if converged:
        ev += f" Every Sinkhorn run reached marginal error $\\le$ {_tex(f'{tol:g}')}."
    if se_max >= MARGIN_SE or not converged:
        if se_max >= MARGIN_SE:
            why = f" Under-powered: a cell has relative SE {pct(se_max)} $\\ge$ {pct(MARGIN_SE)}."
        else:
            why = (f" Not converged: some Sinkhorn runs missed tol {_tex(f'{tol:g}')}; $\\sigma_2$ is not "
                   "that of a DSM.")
        return verdict("BK-SIG2T", "not-tested", ev + why)
    if not (first_ok and slope_ok):
        return verdict(
            "BK-SIG2T", "refuted", ev,
            holds=r"mean $\sigma_2$ does not approach $\|Q(d)\|_2/(nT)$ with a $1/T^2$ correction on this "
            "grid.",
            severity=severity(conclusion_holds=False),
        )
    if c2_ok and law_ok:
        return verdict("BK-SIG2T", "confirmed", ev)
    factors = []
    if not law_ok:
        factors.append(1.0 + float(law_end[iw]))
    if not c2_ok:
        factors.append(float(ratio_c2[np.argmax(np.abs(np.log(np.abs(ratio_c2))))]))
    worst = max(factors, key=lambda f: abs(np.log(abs(f))) if f != 0 else np.inf)
    what = []
    if not law_ok:
        what.append(rf"the closed-form constant $\kappa(n)$ is off by {pct(law_end[iw])} at $n = {int(ns[iw])}$")
    if not c2_ok:
        what.append(
            f"the $1/T^2$ coefficient is {_sig(s.c2.min(), 2)} to {_sig(s.c2.max(), 2)}, "
            f"not within a factor {_sig(C2_FACTOR)} of $-1/120$"
        )
    return verdict(
        "BK-SIG2T", "qualified", ev,
        holds=r"$\mathbb E\,\sigma_2 = \mathbb E\|Q(d)\|_2/(nT)\,(1 + O(T^{-2}))$, with no $1/T$ term; but "
        + "; ".join(what) + ".",
        severity=severity(conclusion_holds=True, factor=worst),
    )


#: this module's claim checks: claim id -> (experiment, check)
CHECKS = {
    "BK-SIG2T": (law_experiment, check_bk_sig2t),
}
