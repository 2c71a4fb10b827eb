"""Chapter 6, the printed tables (Markdown; rounded, floor values print as "< 1e-13")."""

from __future__ import annotations

import numpy as np

from ...trained import model as tm
from .._format import mtex as _m
from .._format import sig, small
from ..ch05_rank_decay.experiments import fit_laws
from .analysis import (
    amplification,
    compare_paths,
    correlation_comparison,
    curve_stat,
    gt_rates,
    median_ratio,
    _datasets,
    ds_trend,
)
from .experiments import CONV_TOL, DATASETS, FLOOR, NORMS, READINGS, SEEDS, SETTINGS, VARIANTS, TrainedResult

def _models_of(r: TrainedResult, ds: str) -> list[int]:
    return [r.index(ds, n, s) for n in NORMS for s in SEEDS if r.has(ds, n, s)]


def _row(*cells: object) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _head(*cols: str, left: int = 1) -> str:
    return _row(*cols) + "\n" + _row(*([":---"] * left + ["---:"] * (len(cols) - left)))


def table_models(r: TrainedResult) -> str:
    """Markdown table per model: epochs, training CPU minutes, test accuracy (log), batch accuracy,
    sha256 prefix."""
    man = tm.read_manifest()
    lines = [_head("model", "epochs", "CPU min", "test acc", "batch acc", "sha256 (first 16)")]
    for i, m in enumerate(r.config.models):
        e = man[m]
        lines.append(_row(f"`{m}`", e['train']['epochs'], f"{e['cpu_s'] / 60:.1f}", f"{r.acc_train[i]:.3f}",
                          f"{r.acc_numpy[i]:.3f}", f"`{e['weights']['sha256'][:16]}`"))
    return "\n".join(lines)


def table_paths(r: TrainedResult, depths=(2, 6, 12, 24)) -> str:
    """Markdown table: median r(P_t) per data set, reading and depth; models softmax s0, s1,
    sinkhorn s0, s1 in each cell."""
    lines = ["Median $r(P_t)$; each cell lists Softmax seed 0, seed 1, Sinkhorn seed 0, seed 1.", "",
             _head("data", "reading", *(f"$t = {t}$" for t in depths), left=2)]
    for ds in DATASETS:
        for k, rd in enumerate(READINGS):
            cells = []
            for t in depths:
                meds = [np.median(r.path_residual[i, k, t - 1]) for i in _models_of(r, ds)]
                cells.append(", ".join(_m(small(x, FLOOR)) for x in meds))
            lines.append(_row(ds, f"`{rd}`", *cells))
    return "\n".join(lines)


def table_compare_paths(r: TrainedResult) -> str:
    """Markdown table: RC-F3's test for every data set and reading."""
    lines = [_head("data", "reading", "Sinkhorn − Softmax (decades), per pairing", "seed spread",
                   "outcome", left=2)]
    for ds in _datasets(r):
        for rd in READINGS[:4]:
            c = compare_paths(r, ds, rd)
            lines.append(_row(ds, f"`{rd}`", ", ".join(f"${x:+.2f}$" for x in c.diffs),
                              f"{c.yardstick:.2f}", c.outcome))
    return "\n".join(lines)


def table_amplification(r: TrainedResult, t: int = 12) -> str:
    """Markdown table: RC-MECH's test for every skip reading, with the median ratios at depth ``t``."""
    lines = [_head("data", "reading", "gap change with skips (decades, per pairing)", "seed spread",
                   "outcome", f"Sinkhorn/Softmax median at $t = {t}$, with vs without skip (seeds 0, 1)",
                   left=2)]
    for ds in _datasets(r):
        for rd in ("identity", "half", "sanskip"):
            c = amplification(r, ds, rd)
            rat = [f"{_m(sig(median_ratio(r, ds, s, rd, t)))} vs {_m(sig(median_ratio(r, ds, s, 'plain', t)))}"
                   for s in SEEDS if r.has(ds, "sinkhorn", s) and r.has(ds, "softmax", s)]
            lines.append(_row(ds, f"`{rd}`", ", ".join(f"${d:+.2f}$" for d in c.diffs), f"{c.yardstick:.2f}",
                              c.outcome, "; ".join(rat)))
    return "\n".join(lines)


def table_outputs(r: TrainedResult, layers=(1, 6, 12, 24)) -> str:
    """Markdown table: batch-mean Fig. 4 ratio per data set, setting and layer; models softmax s0, s1,
    sinkhorn s0, s1 in each cell."""
    lines = [r"Batch mean of $\lVert \mathrm{res}(\mathrm{SAN}(X)_\ell) \rVert_2 / "
             r"\lVert \mathrm{SAN}(X)_\ell \rVert_2$; each cell lists Softmax seed 0, seed 1, "
             "Sinkhorn seed 0, seed 1.", "",
             _head("data", "setting", *(f"$\\ell = {l}$" for l in layers), left=2)]
    for ds in DATASETS:
        for k, st in enumerate(SETTINGS):
            cells = []
            for l in layers:
                v = [r.output_ratio[i, k, l - 1].mean() for i in _models_of(r, ds)]
                cells.append(", ".join(_m(small(x, FLOOR)) for x in v))
            lines.append(_row(ds, f"`{st}`", *cells))
    return "\n".join(lines)


def table_gt(r: TrainedResult) -> str:
    """Markdown table, RC-GT: score scale, decay rates (trained, matched random, random at scale 1),
    preferred law."""
    lines = [_head("model", "score std", "rate, trained", "rate, random", "rate, random at 1",
                   "law (AIC)", "$e^g$")]
    for i, m in enumerate(r.config.models):
        a, b, c1 = gt_rates(r, i)
        f = fit_laws(np.broadcast_to(r.depths[:, None], r.path_residual[i, 0].shape), r.path_residual[i, 0])
        lines.append(_row(f"`{m}`", f"{r.score_std[i]:.2f}", f"{a:.2f}", f"{b:.2f}", f"{c1:.2f}",
                          f.preferred, f"{np.exp(f.dexp_params[1]):.2f}"))
    return "\n".join(lines)


def table_correlation(r: TrainedResult) -> str:
    """Markdown tables for the correlation experiment: summary per variant and model, and
    Sinkhorn - Softmax per variant."""
    lines = [r"Mean over $t = 2, \dots, 24$ of $\log_{10}$ median $r(P_t)$, plain products $P$ and "
             r"products of $(I+P)/2$:", "",
             _head("model", *(f"`{v}`, $P$" for v in VARIANTS), *(f"`{v}`, $(I+P)/2$" for v in VARIANTS),
                   "random")]
    for i, m in enumerate(r.config.models):
        a = [curve_stat(r.corr_residual[i, v, 0]) for v in range(len(VARIANTS))]
        b = [curve_stat(r.corr_residual[i, v, 1]) for v in range(len(VARIANTS))]
        lines.append(_row(f"`{m}`", *(f"${x:.2f}$" for x in a + b),
                          f"${curve_stat(r.random_residual[i, 0]):.2f}$"))
    lines += ["", "Sinkhorn − Softmax (decades, per seed pairing) per variant:", "",
              _head("data", "variant", "product", "differences", "seed spread", "outcome", left=3)]
    for ds in _datasets(r):
        for v, lab in enumerate(VARIANTS):
            for k, kind in enumerate(("$P$", "$(I+P)/2$")):
                cmp = correlation_comparison(r, ds, v, k)
                lines.append(_row(ds, f"`{lab}`", kind, ", ".join(f"${x:+.2f}$" for x in cmp.diffs),
                                  f"{cmp.yardstick:.2f}", cmp.outcome))
    return "\n".join(lines)


def table_entropy(res: TrainedResult) -> str:
    """Markdown table: mean layer-1 row entropy and median largest entry per data set and
    normalisation (seeds 0, 1)."""
    rows = ["| data | normalisation | mean row entropy (nats), seeds 0, 1 "
            "| median largest entry, seeds 0, 1 |", "| :--- | :--- | ---: | ---: |"]
    for ds in DATASETS:
        for norm in NORMS:
            H = [np.nanmean(res.entropy_l1[res.index(ds, norm, s)]) for s in SEEDS if res.has(ds, norm, s)]
            M = [np.nanmedian(res.maxentry_l1[res.index(ds, norm, s)]) for s in SEEDS if res.has(ds, norm, s)]
            rows.append(f"| {ds} | {norm} | {', '.join(f'{h:.3f}' for h in H)} "
                        f"| {', '.join(f'{x:.3f}' for x in M)} |")
    return "\n".join(rows)


def table_ds_trend(res: TrainedResult) -> str:
    """Markdown table, RC-DS: column-sum deviation untrained and final, Spearman rho, per Softmax model."""
    rows = ["| model | untrained | final epoch | Spearman $\\rho$ over epochs |",
            "| :--- | ---: | ---: | ---: |"]
    for i, m in enumerate(res.config.models):
        if "_softmax_" in m:
            a, b, rho = ds_trend(res, i)
            rows.append(f"| `{m}` | {a:.3f} | {b:.3f} | ${rho:+.2f}$ |")
    return "\n".join(rows)


def table_convergence(res: TrainedResult) -> str:
    """Markdown table, RC-CONV: share of matrices with marginal error <= CONV_TOL per Sinkhorn model
    and iteration budget."""
    sink = [i for i, m in enumerate(res.config.models) if "_sinkhorn_" in m]
    names = ("50 half-steps f32", "50 half-steps f64", "100 half-steps f64", "100 half-steps f32")
    rows = ["Share of matrices with error $\\le 10^{-3}$:", "",
            "| model | " + " | ".join(names) + " |", "| :--- |" + " ---: |" * len(names)]
    for i in sink:
        rows.append(f"| `{res.config.models[i]}` | "
                    + " | ".join(f"{100 * np.mean(e <= CONV_TOL):.1f}%" for e in res.conv_err[i]) + " |")
    return "\n".join(rows)
