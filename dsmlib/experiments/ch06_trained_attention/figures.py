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


#: effects beyond this many SDs are drawn at the edge of the forest plot (symlog axis)
FOREST_CLIP = 1000.0


def forest_rows(result: EnsembleResult) -> list[tuple[str, str, str, float, float, float, float, str]]:
    """Rows of the forest plot: (claim, part, data set, d, lo, hi, detectable, outcome), the
    effect and its 95 % interval in units of the cell's spread (pooled SD, SD of the
    within-model differences, or bootstrap SD), headline parts only. A cell whose runs agree
    exactly (spread 0), or whose spread is rounding (:attr:`~.analysis.Part.at_floor`), is
    drawn at the edge, on the side of its effect, without a detectable effect."""
    rows = []
    for claim, (_, heads) in CLAIM_CELLS.items():
        for p in claim_cells(result, claim):
            if p.cell is None or not any(p.part.startswith(h) for h in heads):
                continue
            c = p.cell
            if c.sd > 0 and not p.at_floor:
                vals = np.array([c.effect, c.ci[0], c.ci[1], c.mde]) / c.sd
            else:
                vals = np.array([np.sign(c.effect) * FOREST_CLIP] * 3 + [0.0])
            vals = np.clip(vals, -FOREST_CLIP, FOREST_CLIP)
            rows.append((claim, p.part, p.dataset, *map(float, vals), c.outcome))
    return rows


def fig_forest(result: EnsembleResult):
    """Every headline cell: effect and 95 % interval in SD units on a symmetric-log axis
    (linear within +-1), the zero line, the equivalence margin (+-1 SD) and the smallest
    detectable effect; colour = outcome, marker = data set."""
    rows = forest_rows(result)
    fig, axs = new_figure(1, 1, width=7.2, height=0.27 * len(rows) + 1.6)
    ax = axs[0, 0]
    y = np.arange(len(rows))[::-1]
    ax.axvspan(-1, 1, color="#7f7f7f", alpha=0.25, linewidth=0)
    ax.axvline(0, color="black", linewidth=0.8)
    for yi, (claim, part, ds, d, lo, hi, mde, out) in zip(y, rows):
        col = OUTCOME_COLORS[out]
        ax.plot([lo, hi], [yi, yi], color=col, linewidth=2)
        ax.plot([d], [yi], MARKERS[ds], color=col, markersize=6)
        if mde > 0:
            ax.plot([mde], [yi], "|", color="black", markersize=9)
    ax.set_xscale("symlog", linthresh=1.0)
    ax.set_xlim(-FOREST_CLIP * 1.5, FOREST_CLIP * 1.5)
    ax.set_yticks(y, [f"{c} {p} ({ds})" for c, p, ds, *_ in rows], fontsize=8)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_xlabel("effect in the claimed direction (SDs of the runs, symmetric log scale)")
    ax.grid(axis="y", visible=False)
    handles = [ax.fill_between([], [], color="#7f7f7f", alpha=0.25, label="equivalence margin (±1 SD)"),
               ax.plot([], [], "|", color="black", markersize=9, label="smallest detectable")[0]]
    handles += [ax.plot([], [], color=col, linewidth=3, label=out)[0] for out, col in OUTCOME_COLORS.items()]
    handles += [ax.plot([], [], mk, color="black", label=ds + (" (paper)" if ds == PAPER_DATASET else " (book)"))[0]
                for ds, mk in MARKERS.items()]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.35, -0.06), ncol=4, fontsize=8)
    return fig


def fig_runs(result: EnsembleResult):
    """The units of replication: each run's headline summary per arm (RC-F1 entropy, RC-F3
    plain and skip decay slopes), one dot per trained model, per data set."""
    specs = [
        ("layer-1 row entropy", "nats", lambda m: m.entropy_l1),
        ("decay slope, plain paths", "decades / factor", lambda m: decay_slope(m.path_median[0])),
        ("decay slope, (I+P)/2 paths", "decades / factor", lambda m: decay_slope(m.path_median[1])),
    ]
    dss = [d for d in DATASETS if result.of(d)]
    fig, axs = new_figure(len(dss), len(specs), width=3.6, height=1.9)
    for j, ds in enumerate(dss):
        for i, (title, unit, f) in enumerate(specs):
            ax = axs[i, j]
            for k, norm in enumerate(NORMS):
                vals = np.array([f(m) for m in result.arm(ds, norm)])
                jitter = np.linspace(-0.12, 0.12, max(len(vals), 1))[: len(vals)]
                ax.plot(k + jitter, vals, "o", color=COLORS[norm], markersize=4, alpha=0.8)
                if len(vals):
                    ax.plot([k - 0.25, k + 0.25], [np.nanmean(vals)] * 2, color=COLORS[norm], linewidth=2)
            ax.set_xticks([0, 1], ["Softmax", "Sinkhorn"])
            ax.set_xlim(-0.6, 1.6)
            ax.set_ylabel(unit, fontsize=8)
            ax.set_title(f"{ds}: {title}", fontsize=9)
    return fig


def fig_paths(result: EnsembleResult):
    """Median residual of attention paths against depth, one line per trained model (RC
    Fig. 3's quantity): plain products solid, (I+P)/2 products dashed; per data set, log scale."""
    dss = [d for d in DATASETS if result.of(d)]
    fig, axs = new_figure(len(dss), 1, width=3.6, height=3.0)
    for j, ds in enumerate(dss):
        ax = axs[0, j]
        for norm in NORMS:
            for m in result.arm(ds, norm):
                t = np.arange(1, m.path_median.shape[1] + 1)
                for k, ls in ((0, "-"), (1, "--")):
                    ax.semilogy(t, np.maximum(m.path_median[k], 1e-17), ls, color=COLORS[norm], alpha=0.5, linewidth=1)
        ax.set_xlabel("path depth t")
        ax.set_ylabel(r"median $\|\mathrm{res}(P_t)\|_2 / \|P_t\|_2$")
        ax.set_title(ds, fontsize=10)
    for norm in NORMS:
        axs[0, -1].plot([], [], color=COLORS[norm], label=norm.capitalize())
    axs[0, -1].plot([], [], "-", color="gray", label="plain")
    axs[0, -1].plot([], [], "--", color="gray", label="(I+P)/2")
    axs[0, -1].legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


def fig_attention(result: EnsembleResult, dataset: str = "mnist", seed: int = 0):
    """RC Fig. 1's view: layer-1, head-0 attention of the first test image in a Softmax- and a
    Sinkhorn-trained model, on one colour scale, with integer token ticks."""
    pair = [m for norm in NORMS for m in result.arm(dataset, norm, (seed,))]
    fig, axs = new_figure(2, 1, width=3.5, height=3.3, layout="constrained")
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
        fig.colorbar(im, ax=list(axs[0]), shrink=0.85, label="attention weight")
    return fig
