"""Chapter 7 tables (Markdown strings for the notebook); rounding-level numbers print as bounds."""

from __future__ import annotations

import numpy as np

from ... import mhc
from .._format import sig, small
from .checks import BF16_LEVEL, FATES, ds_quantiles, fate
from .experiments import LEARNED_GAP, DSResult, GainResult, LineResult, S2Result, exact_side

__all__ = ["ds_table", "gain_table", "prose_numbers", "recipe_table", "s2_table"]


def recipe_table() -> str:
    """The recipes: source, iterations, domain, first step, tau, eps, precision, initial logits."""
    rows = ["| recipe | read in | iterations | domain | first step | $\\tau$ | eps | arithmetic at bf16 | initial logits |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, r in mhc.RECIPES.items():
        if r.method == "permutations":
            it, dom, first = "exact", "mixture of 24 permutations", "-"
        else:
            it, dom, first = str(r.iterations), r.domain, r.first
        prec = "float32" + (" (cast back)" if r.cast_back else "") if r.upcast else "bfloat16"
        init = ("$\\alpha\\,\\varphi\\tilde x/r$, $b = 0$" if r.init == "projection"
                else f"static {r.init_diag:g} / {r.init_offdiag:g}")
        rows.append(f"| `{name}` | {r.source} | {it} | {dom} | {first} | {r.tau:g} | {r.eps:g} | {prec} | {init} |")
    return "\n".join(rows)


def s2_table(result: S2Result) -> str:
    """Per recipe: median sigma_2 per factor, of the product at 2L, HT's bound, fate."""
    ks = [2 * L for L in result.config.layers]
    head = " | ".join(f"product at $2L = {k}$" for k in ks)
    rows = [f"| recipe | effective logit range | $\\sigma_2(H)$ | {head} | bound at {ks[-1]} | fate at {ks[-1]} |",
            "| --- " * (5 + len(ks)) + "|"]
    for i, name in enumerate(result.recipes):
        p = np.median(result.product[i][:, [k - 1 for k in ks]], axis=0)
        b = np.median(result.bound[i][:, ks[-1] - 1])
        rows.append(f"| `{name}` | {result.init_range[i]:.3g} | {small(np.median(result.sigma2_factor[i]), 1e-13, 3)} | "
                    + " | ".join(small(v, 1e-13, 2) for v in p)
                    + f" | {small(b, 1e-13, 2)} | {FATES[int(fate(p[-1]))]} |")
    return "\n".join(rows)


def ds_table(result: DSResult) -> str:
    """Per recipe and precision: 95th-percentile DS error at range LEARNED_GAP and at the largest range."""
    q = ds_quantiles(result)
    r = np.asarray(result.config.ranges)
    j0 = int(np.argmin(np.abs(r - LEARNED_GAP)))
    def cell(i: int, j: int, v: float) -> str:  # rounding-level values print as bounds
        d = result.dtypes[j]
        bf16_out = not mhc.RECIPES[result.recipes[i]].upcast or mhc.RECIPES[result.recipes[i]].cast_back
        floor = 1e-12 if d == "float64" else (1e-2 if d == "bfloat16" and bf16_out else 1e-5)
        return small(v, floor, 2)

    rows = ["| recipe | " + " | ".join(f"{d}, range {r[j0]:.3g}" for d in result.dtypes) + " | "
            + " | ".join(f"{d}, range {r[-1]:g}" for d in result.dtypes) + " |", "| --- " * 7 + "|"]
    for i, name in enumerate(result.recipes):
        rows.append(f"| `{name}` | " + " | ".join(cell(i, j, q[i, j, j0]) for j in range(len(result.dtypes)))
                    + " | " + " | ".join(cell(i, j, q[i, j, -1]) for j in range(len(result.dtypes))) + " |")
    return "\n".join(rows)


def gain_table(result: GainResult) -> str:
    """Per recipe: largest forward and backward composite gain over 122 factors (each setting, precision;
    two decimals: bf16 rounding can move the third),
    the side its last step makes exact, and the truncation error per side (eps = 0, float64)."""
    heads = [f"{s}, {d}" for s in result.settings for d in result.config.gain_dtypes]
    rows = ["| recipe | " + " | ".join(f"fwd / bwd, {h}" for h in heads) + " | exact side | truncation fwd / bwd |",
            "| --- " * (3 + len(heads)) + "|"]
    for i, name in enumerate(result.recipes):
        cells = []
        for s in range(len(result.settings)):
            for d in range(len(result.config.gain_dtypes)):
                f = result.forward[i, s, d, :, -1].max()
                b = result.backward[i, s, d, :, -1].max()
                cells.append(f"{f:.2f} / {b:.2f}")
        t = f"{small(result.trunc_forward[i].max(), 1e-12, 2)} / {small(result.trunc_backward[i].max(), 1e-12, 2)}"
        rows.append(f"| `{name}` | " + " | ".join(cells) + f" | {exact_side(name)} | {t} |")
    return "\n".join(rows)


def prose_numbers(s2: S2Result, line: LineResult, gain: GainResult, ds: DSResult) -> dict[str, str]:
    """The numbers the chapter's prose quotes (glued into the text), formatted as printed."""
    idx = {n: i for i, n in enumerate(s2.recipes)}
    med = lambda a: float(np.median(a))  # noqa: E731
    lite = np.median(s2.product[idx["mhc_lite"]], axis=0)
    below = np.flatnonzero(lite < 0.5)
    rs = line.reported_s2
    half = line.reported_half_depth
    q = ds_quantiles(ds)[:, list(ds.dtypes).index("bfloat16")].min(axis=-1) / BF16_LEVEL
    bf16_out = [i for i, n in enumerate(ds.recipes) if not mhc.RECIPES[n].upcast or mhc.RECIPES[n].cast_back]
    closest = min(bf16_out, key=lambda i: q[i])
    return {
        "mhc-bf16-closest": ds.recipes[closest], "mhc-bf16-margin": f"{q[closest]:.2f}",
        "mhc-s2-proj": sig(med(s2.sigma2_factor[idx["v4"]]), 1),
        "mhc-s2-luc": sig(med(s2.sigma2_factor[idx["lucidrains"]]), 2),
        "mhc-prod-lsk": sig(med(s2.product[idx["mhc_lite_sinkhorn"], :, -1]), 2),
        "mhc-s2-lite": sig(med(s2.sigma2_factor[idx["mhc_lite"]]), 3),
        "mhc-half-lite": str(int(below[0]) + 1) if below.size else f"more than {lite.size}",
        "mhc-line-lo": f"{line.line.min():.3f}", "mhc-line-hi": f"{line.line.max():.3f}",
        "mhc-mass-lo": f"{100 * line.offdiag_mass.min():.1f}%", "mhc-mass-hi": f"{100 * line.offdiag_mass.max():.1f}%",
        "mhc-rep-s2": f"{rs.min():.2f} to {rs.max():.2f}",
        "mhc-rep-half": f"{half.min():.0f} to {half.max():.0f}",
        "mhc-rep-122": sig(line.reported_product[:, -1].max(), 1),
        "mhc-gain-max": f"{max(gain.forward[..., -1].max(), gain.backward[..., -1].max()):.2f}",
        "mhc-eps-big": sig(np.median(gain.eps_gain[-1]), 2),
        "mhc-eps-small": sig(1 - np.median(gain.eps_gain[0]), 1),
    }
