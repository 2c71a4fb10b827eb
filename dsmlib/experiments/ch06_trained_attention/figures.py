"""Chapter 6's figures: each function takes the ensemble result and returns a Figure.

The notebook cell calls one function and ``plt.show()``; captions live in the cell's
metadata. Style and colours come from :mod:`dsmlib.plotting`.
"""

from __future__ import annotations

import numpy as np

from ...plotting import COLORS, new_figure
from .experiments import DATASETS, NORMS, EnsembleResult
from .analysis import CLAIM_CELLS, PAPER_DATASET, claim_cells, decay_slope

#: marker of each data set in the forest plot
MARKERS = {"mnist": "o", "digits": "s"}
#: colour of each cell outcome
OUTCOME_COLORS = {"supports": "#2ca02c", "opposes": "#d62728", "equivalent": "#7f7f7f", "undecided": "#ff7f0e"}


def forest_rows(result: EnsembleResult) -> list[tuple[str, str, str, float, float, float, float, str]]:
    """Rows of the forest plot: (claim, part, data set, d, lo, hi, detectable, outcome), the
    effect and its 95 % interval in units of the cell's spread (pooled SD, SD of the
    within-model differences, or bootstrap SD); headline parts only."""
    rows = []
    for claim, (_, heads) in CLAIM_CELLS.items():
        for p in claim_cells(result, claim):
            if p.cell is None or not any(p.part.startswith(h) for h in heads):
                continue
            c = p.cell
            s = c.sd if c.sd > 0 else np.nan
            rows.append((claim, p.part, p.dataset, c.effect / s, c.ci[0] / s, c.ci[1] / s, c.mde / s, c.outcome))
    return rows


def fig_forest(result: EnsembleResult):
    """Every headline cell: effect and 95 % interval in SD units, the zero line, the
    equivalence margin (+-1 SD) and the smallest detectable effect; colour = outcome,
    marker = data set."""
    rows = forest_rows(result)
    fig, axs = new_figure(1, 1, width=7.2, height=0.32 * len(rows) + 1.2)
    ax = axs[0, 0]
    y = np.arange(len(rows))[::-1]
    ax.axvspan(-1, 1, color="#7f7f7f", alpha=0.12, linewidth=0, label="equivalence margin (±1 SD)")
    ax.axvline(0, color="black", linewidth=0.8)
    lim = 1.0
    for yi, (claim, part, ds, d, lo, hi, mde, out) in zip(y, rows):
        col = OUTCOME_COLORS[out]
        lo_c, hi_c = np.clip([lo, hi], -40, 40)
        ax.plot([lo_c, hi_c], [yi, yi], color=col, linewidth=2)
        ax.plot([np.clip(d, -40, 40)], [yi], MARKERS[ds], color=col, markersize=6)
        ax.plot([mde], [yi], "|", color="black", markersize=8)
        lim = max(lim, min(abs(lo_c), 40), min(abs(hi_c), 40))
    ax.set_yticks(y, [f"{c} {p} ({ds})" for c, p, ds, *_ in rows], fontsize=8)
    ax.set_xlim(-lim * 1.05, lim * 1.05)
    ax.set_xlabel("effect in the claimed direction (units of the runs' SD); | = smallest detectable")
    ax.grid(axis="y", visible=False)
    for out, col in OUTCOME_COLORS.items():
        ax.plot([], [], color=col, linewidth=3, label=out)
    for ds, mk in MARKERS.items():
        ax.plot([], [], mk, color="black", label=ds + (" (paper)" if ds == PAPER_DATASET else " (book)"))
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    return fig


def fig_runs(result: EnsembleResult):
    """The units of replication: each run's headline summary per arm (RC-F1 entropy, RC-F3
    plain and skip decay slopes), one dot per trained model, per data set."""
    specs = [
        ("layer-1 row entropy (nats)", lambda m: m.entropy_l1),
        ("plain paths: slope (decades/factor)", lambda m: decay_slope(m.path_median[0])),
        ("(I+P)/2 paths: slope (decades/factor)", lambda m: decay_slope(m.path_median[1])),
    ]
    dss = [d for d in DATASETS if result.of(d)]
    fig, axs = new_figure(len(dss), len(specs), width=3.6, height=1.7)
    for j, ds in enumerate(dss):
        for i, (label, f) in enumerate(specs):
            ax = axs[i, j]
            for k, norm in enumerate(NORMS):
                vals = np.array([f(m) for m in result.arm(ds, norm)])
                jitter = np.linspace(-0.12, 0.12, max(len(vals), 1))[: len(vals)]
                ax.plot(k + jitter, vals, "o", color=COLORS[norm], markersize=4, alpha=0.8)
                if len(vals):
                    ax.plot([k - 0.25, k + 0.25], [np.nanmean(vals)] * 2, color=COLORS[norm], linewidth=2)
            ax.set_xticks([0, 1], ["Softmax", "Sinkhorn"])
            ax.set_xlim(-0.6, 1.6)
            ax.set_ylabel(label, fontsize=8)
            if i == 0:
                ax.set_title(ds, fontsize=10)
    return fig


def fig_paths(result: EnsembleResult, reading: int = 0):
    """Median residual of attention paths against depth, one line per trained model
    (RC Fig. 3's quantity; reading 0 plain, 1 (I+P)/2), per data set, log scale."""
    dss = [d for d in DATASETS if result.of(d)]
    fig, axs = new_figure(len(dss), 1, width=3.6, height=3.0)
    for j, ds in enumerate(dss):
        ax = axs[0, j]
        for norm in NORMS:
            for i, m in enumerate(result.arm(ds, norm)):
                t = np.arange(1, m.path_median.shape[1] + 1)
                ax.semilogy(t, np.maximum(m.path_median[reading], 1e-17), color=COLORS[norm], alpha=0.5,
                            linewidth=1, label=norm.capitalize() if i == 0 else None)
        ax.set_xlabel("path depth t")
        ax.set_ylabel(r"median $\|\mathrm{res}(P_t)\|_2 / \|P_t\|_2$")
        ax.set_title(ds, fontsize=10)
    axs[0, -1].legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


def fig_attention(result: EnsembleResult, dataset: str = "mnist", seed: int = 0):
    """RC Fig. 1's view: layer-1, head-0 attention of the first test image in a Softmax- and a
    Sinkhorn-trained model, on one colour scale, with integer token ticks."""
    pair = [m for norm in NORMS for m in result.arm(dataset, norm, (seed,))]
    fig, axs = new_figure(2, 1, width=3.5, height=3.3)
    vmax = max(float(m.example_map.max()) for m in pair) if pair else 1.0
    im = None
    for ax, m in zip(axs[0], pair):
        im = ax.imshow(m.example_map, vmin=0, vmax=vmax, cmap="viridis")
        n = m.example_map.shape[0]
        ticks = list(range(0, n, 4))
        ax.set_xticks(ticks)
        ax.set_yticks(ticks)
        ax.set_xlabel("key token")
        ax.set_ylabel("query token")
        ax.set_title(f"{m.normalisation.capitalize()} (seed {m.seed})", fontsize=10)
        ax.grid(False)
    if im is not None:
        fig.colorbar(im, ax=list(axs[0]), shrink=0.8, label="attention weight")
    return fig
