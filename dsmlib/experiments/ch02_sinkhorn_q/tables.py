"""Chapter 2, the tables the notebook prints."""

from __future__ import annotations

import math
from typing import Any

from .._format import md_table
from .experiments.benchmark import BENCH_LABELS, _f

__all__ = [
    "agg_table",
    "attention_table",
    "benchmark_table",
    "depth_table",
    "expansion_table",
    "p2_table",
    "p3_table",
    "p4_table",
    "r2_table",
    "scaling_table",
    "ska_table",
]


def benchmark_table(b: dict[str, Any]) -> str:
    """A Markdown table: CPU-s, wall s, sigma_2 share, CPU relative to dsmlib, agreement.

    Rows in increasing CPU time; ``n/a`` where the run lacks a value.
    """
    impl = b.get("implementations", {})
    agr = b.get("agreement", {}).get("per_implementation", {})
    if not impl:
        return "*(no stored benchmark run: run `make bench`)*"
    rows = sorted(impl, key=lambda k: impl[k].get("cpu_seconds", math.inf))
    lines = [
        "| implementation | CPU-s | wall s | of which $\\sigma_2$ (CPU-s) | CPU vs dsmlib | runs "
        "| converged | max. difference of mean $\\sigma_2$ per $T$ |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for k in rows:
        r, a = impl[k], agr.get(k, {})
        lines.append(
            f"| {BENCH_LABELS.get(k, k)} | {_f(r.get('cpu_seconds'))} | {_f(r.get('wall_seconds'))} "
            f"| {_f(r.get('sigma2_cpu_seconds'))} | {_f(r.get('cpu_vs_dsmlib'), '{:.1f}x')} "
            f"| {r.get('runs', 'n/a')} | {a.get('converged', 'n/a')} "
            f"| {_f(a.get('max_mean_diff_per_T'), '{:.1e}')} |"
        )
    return "\n".join(lines)


# ============================================================== the chapter's result tables
def _med(a):
    import numpy as np

    return np.median(a, axis=-1)


def depth_table(spec) -> str:
    """HT-T2: median measured depth (fixed M, independent M) against the two formulas, per T."""
    import numpy as np

    cols = (spec.depth_fixed, spec.depth_product, np.ceil(spec.depth_sigma - 1e-9), np.ceil(spec.depth_lambda - 1e-9))
    rows = [[f"{t:.3g}"] + [f"{_med(c)[i]:.0f}" for c in cols] for i, t in enumerate(spec.temperatures)]
    return md_table([r"$T$", "fixed $M$", "independent $M_\\ell$", r"HT: $\lceil\ln(1/\epsilon)/(-\ln\sigma_2)\rceil$",
                r"$\lceil\ln(1/\epsilon)/(-\ln|\lambda_2|)\rceil$"], rows)


def r2_table(spec) -> str:
    """HT-R2: Henrici's departure from normality and |lambda_2|/sigma_2 (medians), per T."""
    rows = [[f"{t:.3g}", f"{_med(spec.henrici)[i]:.2f}", f"{_med(spec.lambda2 / spec.sigma2)[i]:.2f}"]
            for i, t in enumerate(spec.temperatures)]
    return md_table([r"$T$", r"Henrici departure / $\lVert M\rVert_F$", r"$|\lambda_2|/\sigma_2$"], rows)


def agg_table(agg) -> str:
    """HT-AGG: median gains on V_perp of the DSM and of Softmax, the leak to the mean, the paired ratio
    and its pre-registered outcome, per T."""
    from .experiments.filtering import agg_outcome

    ratio = agg.dsm_gain / agg.sm_gain
    out = agg_outcome(ratio)
    rows = [[f"{t:.3f}", f"{_med(agg.dsm_gain)[i]:.4f}", f"{_med(agg.sm_gain)[i]:.4f}", f"{_med(agg.sm_gain_all)[i]:.4f}",
             f"{_med(agg.sm_leak)[i]:.4f}", f"{_med(ratio)[i]:.3f}", out[i]] for i, t in enumerate(agg.temperatures)]
    return md_table([r"$T$", r"$\sigma_2(M)$", r"$\lVert UPU\rVert_2$", r"$\lVert PU\rVert_2$", "leak to mean", "median ratio",
                "outcome"], rows)


def scaling_table(scal) -> str:
    """RC-SK / RC-SHIFT: largest entrywise difference between limits that must coincide (bounds below 1e-12)."""
    from .._format import mtex, small

    rows = [["from $D_aYD_b$", mtex(small(scal.diff_scaled.max()))],
            ["column-first alternation", mtex(small(scal.diff_transpose.max()))],
            ["POT's log-domain solver", mtex(small(scal.diff_pot.max()))],
            ["biased queries and keys (Eq. 19)", mtex(small(scal.diff_eq19.max()))]]
    return md_table(["Sinkhorn limit compared with the one from $Y$", r"max $\lvert$difference$\rvert$"], rows)


def ska_table(ska) -> str:
    """RC-SKA: per kind of non-negative matrix, ground truth and the iteration's outcome."""
    import numpy as np

    from .._format import mtex, sig, small
    from .experiments.nonnegative import ska_outcome

    conv, scaled = ska_outcome(ska)
    rows = [[k, str(int(t.sum())), str(int(s.sum())), str(int(c.sum())), str(int(d.sum())),
             mtex(small(float(np.median(e)), 1e-12)), mtex(sig(float(np.median(m))))]
            for k, t, s, c, d, e, m in zip(ska.kinds, ska.total_support, ska.has_support, conv, scaled,
                                           ska.err[:, -1], ska.min_support[:, -1])]
    return md_table(["kind", "total support", "support", "converged", "limit $D_1YD_2$", "row error (median)",
                "smallest kept entry"], rows)


def p2_table(qres) -> str:
    """RC-P2: each identity of an orthogonal projection and its largest error (bounds below 1e-12)."""
    from .._format import mtex, small

    names = {
        "tangent": r"$Q(Y)\mathbf 1 = 0$, $\mathbf 1^\top Q(Y) = 0$",
        "idempotent": r"$Q(Q(Y)) = Q(Y)$",
        "self-adjoint": r"$\langle Q(Y), Z\rangle = \langle Y, Q(Z)\rangle$",
        "orthogonal": r"$\langle Q(Y), Y - Q(Y)\rangle = 0$",
        "UYU": r"$UYU$ = Eq. 14",
        "q_project": r"`q_project` = Eq. 14",
        "Pythagoras": r"$\lVert Y-H\rVert^2 = \lVert Y-Q(Y)\rVert^2 + \lVert Q(Y)-H\rVert^2$",
        "closest": r"$\min_H \lVert Y-H\rVert^2 - \lVert Y-Q(Y)\rVert^2 \ge 0$",
        "explicit Q symmetric": r"matrix of $Q$ symmetric",
        "explicit Q idempotent": r"matrix of $Q$ idempotent",
        "explicit rank": r"rank of $Q$ minus $(n-1)^2$",
    }
    rows = []
    for key, err in qres.p2.items():
        label = next((v for k, v in names.items() if key.startswith(k)), key)
        shown = ("holds" if err >= 0 else "fails") if key.startswith("closest") else mtex(small(err))
        rows.append([label, shown])
    return md_table(["identity", "largest error"], rows, rule=":---")


def p3_table(qres) -> str:
    r"""RC-P3: the largest :math:`\lVert Q(Y)\rVert_F/(\sqrt{\operatorname{rank}Y}\,\lVert Y\rVert_2)` per kind."""
    rows = [[k, f"{r:.3f}"] for k, r in zip(qres.config.kinds, qres.ratio.max(axis=(1, 2)))]
    return md_table(["kind of $Y$", r"largest $\lVert Q(Y)\rVert_F/(\sqrt{\operatorname{rank}Y}\,\lVert Y\rVert_2)$"], rows)


def expansion_table(ex) -> str:
    """RC-L1: fitted n c at the smallest t and the log-log slopes of the residuals with c = 1/n and 1/n^2."""
    import numpy as np

    from .experiments.scaling import loglog_slope

    ts = np.array(ex.config.ts)
    rows = [[str(n), f"{np.median(ex.coef[i]):.6f}", f"{loglog_slope(ts, ex.res_n[i]):.2f}",
             f"{loglog_slope(ts, ex.res_n2[i]):.2f}"] for i, n in enumerate(ex.config.ns)]
    return md_table(["$n$", f"fitted $nc$ at $t = {ts[0]:g}$", "slope, $c = 1/n$", "slope, $c = 1/n^2$ (RC)"], rows)


def p4_table(p4) -> str:
    """RC-P4: median n^2 c, median relative remainder and the largest row-sum error of F, per t."""
    from .._format import mtex, sig, small

    rows = [[mtex(sig(t, 1)),
             f"{c:.6f}", f"{r:.1e}", mtex(small(e, 1e-13))]
            for t, c, r, e in zip(p4.config.ts, _med(p4.coef), _med(p4.remainder), p4.row_err.max(1))]
    return md_table(["$t$", "median $n^2c$", "median rel. remainder", "max row-sum error of $F$"], rows)


def attention_table(att) -> str:
    """Context for RC-F1: medians of row entropy, largest entry and sigma_2, Softmax and Sinkhorn, per scale."""
    cols = (att.rowH_softmax, att.rowH_sinkhorn, att.max_softmax, att.max_sinkhorn, att.s2_softmax, att.s2_sinkhorn)
    rows = [[f"{s:g}"] + [f"{_med(c)[i]:.2f}" for c in cols] for i, s in enumerate(att.config.scales)]
    return md_table(["score scale", "row entropy, Softmax", "row entropy, Sinkhorn", "largest entry, Softmax",
                "largest entry, Sinkhorn", r"$\sigma_2$, Softmax", r"$\sigma_2$, Sinkhorn"], rows)
