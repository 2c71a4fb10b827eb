"""Chapter 6, the figures (each returns a :class:`matplotlib.figure.Figure`; the notebook shows it).

matplotlib is imported inside the functions, so importing the chapter draws nothing and
needs no display.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...plotting import COLORS, new_figure
from .experiments import CONV_TOL, DATASETS, FLOOR, NORMS, READINGS, SEEDS, SETTINGS, TrainedResult

__all__ = [
    "fig_attention_maps",
    "fig_convergence",
    "fig_correlation",
    "fig_ds_trend",
    "fig_entropy",
    "fig_gt",
    "fig_outputs",
    "fig_paths",
    "fig_training",
]


def fig_training(res: TrainedResult) -> Any:
    """Training loss and test accuracy per epoch of every model (solid MNIST, dashed digits)."""
    fig, axes = new_figure(2, 1, width=3.7, height=3.0)
    for i, m in enumerate(res.config.models):
        ds, norm, seed = m.split("_")
        kw = dict(color=COLORS[norm], ls="-" if ds == "mnist" else "--", alpha=1 if seed == "s0" else 0.5)
        ep = res.hist_epoch[i]
        axes[0, 0].plot(ep, res.hist_train_loss[i], marker=".", **kw)
        axes[0, 1].plot(ep, res.hist_test_acc[i], marker=".", label=m, **kw)
    axes[0, 0].set(xlabel="epoch", ylabel="training loss (epoch mean)", yscale="log")
    axes[0, 1].set(xlabel="epoch", ylabel="test accuracy", ylim=(0, 1))
    fig.legend(*axes[0, 1].get_legend_handles_labels(), loc="upper center", ncol=4,
               bbox_to_anchor=(0.5, 0.0))
    fig.suptitle("Training: solid MNIST, dashed digits; faint = seed 1")
    return fig


def fig_attention_maps(res: TrainedResult) -> Any:
    """Layer-1, head-1 attention of one image, Softmax beside Sinkhorn (first data set with both)."""
    ds1 = next(d for d in DATASETS if res.has(d, "softmax", 0) and res.has(d, "sinkhorn", 0))
    i_sm, i_sk = res.index(ds1, "softmax", 0), res.index(ds1, "sinkhorn", 0)
    maps = res.example_map[[i_sm, i_sk]]
    vmax = float(np.nanmax(maps))
    fig, axes = new_figure(2, 1, width=3.1, height=2.9, layout="constrained")
    for ax, mp, name in zip(axes[0], maps, ("Softmax", "Sinkhorn")):
        im = ax.imshow(mp, cmap="viridis", vmin=0, vmax=vmax)
        ax.set(title=f"{ds1}, {name}: layer 1, head 1", xlabel="key token (0 = CLS)",
               ylabel="query token")
        ax.grid(False)
    fig.colorbar(im, ax=axes[0].tolist(), shrink=0.8, label="attention weight")
    return fig


def fig_entropy(res: TrainedResult) -> Any:
    """Histograms of layer-1 row entropies per data set, normalisation and seed (RC Fig. 1)."""
    fig, axes = new_figure(2, 1, width=3.7, height=2.8)
    bins = np.linspace(0, np.log(17), 41)
    for ax, ds in zip(axes[0], DATASETS):
        for norm in NORMS:
            for s in SEEDS:
                if res.has(ds, norm, s):
                    h = res.entropy_l1[res.index(ds, norm, s)].ravel()
                    ax.hist(h[np.isfinite(h)], bins=bins, histtype="step", color=COLORS[norm],
                            ls="-" if s == 0 else "--", label=f"{norm} seed {s}", density=True)
        ax.axvline(np.log(17), color="0.5", lw=0.8)
        ax.set(title=ds, xlabel="layer-1 row entropy (nats)", ylabel="density")
    axes[0, 0].legend(loc="upper left")
    return fig


def fig_ds_trend(res: TrainedResult) -> Any:
    """Column-sum deviation per epoch (all models), and per layer untrained vs final (Softmax)."""
    fig, axes = new_figure(2, 1, width=3.7, height=3.0)
    for i, m in enumerate(res.config.models):
        ds, norm, seed = m.split("_")
        kw = dict(color=COLORS[norm], ls="-" if ds == "mnist" else "--", alpha=1 if seed == "s0" else 0.5)
        axes[0, 0].plot(res.hist_epoch[i], res.hist_col_dev[i], marker=".", label=m, **kw)
        if norm == "softmax":
            k = np.flatnonzero(np.isfinite(res.hist_epoch[i]))[-1]
            L = np.arange(1, res.col_dev_layers.shape[-1] + 1)
            axes[0, 1].plot(L, res.col_dev_layers[i, 0], ls=":", color=kw["color"], alpha=kw["alpha"])
            axes[0, 1].plot(L, res.col_dev_layers[i, k], ls=kw["ls"], color=kw["color"], alpha=kw["alpha"])
    axes[0, 0].set(xlabel="epoch", yscale="log",
                   ylabel=r"$\|\mathbf{1}^\top P - \mathbf{1}^\top\|_1/n$")
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="upper center", ncol=4,
               bbox_to_anchor=(0.5, 0.0))
    axes[0, 1].set(xlabel="layer", ylabel="column-sum deviation (Softmax)",
                   title="dotted: untrained; lines: final")
    return fig


def fig_convergence(res: TrainedResult) -> Any:
    """Max marginal error of Sinkhorn on the trained models' scores per half-step (App. F)."""
    sink = [i for i, m in enumerate(res.config.models) if "_sinkhorn_" in m]
    fig, axes = new_figure(1, 1, width=6.4, height=3.4)
    ax = axes[0, 0]
    k = np.arange(1, res.conv_trace.shape[1] + 1)
    for i in sink:
        m = res.config.models[i]
        ls = "-" if m.startswith("mnist") else "--"
        for j, (q, col) in enumerate(zip(("median", "99th percentile", "max"), ("C0", "C1", "C3"))):
            ax.plot(k, np.maximum(res.conv_trace[i, :, j], 1e-16), ls=ls, color=col, lw=1,
                    label=q if i == sink[0] else None)
    ax.axvline(50, color="0.4", lw=0.8); ax.axhline(CONV_TOL, color="0.4", lw=0.8, ls=":")
    ax.set(yscale="log", xlabel="Sinkhorn half-steps (float64)", ylabel="max marginal error",
           title="trained Sinkhorn models' scores (solid MNIST, dashed digits)")
    ax.legend(loc="upper right")
    return fig


def fig_paths(res: TrainedResult, readings: tuple[str, ...] = ("plain", "identity", "half", "sanskip")) -> Any:
    """RC Fig. 3: quartiles of r(P_t) per depth, data set and reading of "with skip"."""
    fig, axes = new_figure(2, len(readings), width=3.7, height=2.3, sharex=True)
    t = res.depths
    for r_, rd in enumerate(readings):
        k = READINGS.index(rd)
        for c_, ds in enumerate(DATASETS):
            ax = axes[r_, c_]
            for norm in NORMS:
                for s in SEEDS:
                    if not res.has(ds, norm, s):
                        continue
                    R = np.maximum(res.path_residual[res.index(ds, norm, s), k], 1e-16)
                    lo, mid, hi = np.percentile(R, [25, 50, 75], axis=-1)
                    if s == 0:
                        ax.fill_between(t, lo, hi, color=COLORS[norm], alpha=0.2, lw=0)
                    ax.plot(t, mid, color=COLORS[norm], ls="-" if s == 0 else "--", lw=1.2,
                            label=f"{norm} s{s}")
            ax.axhspan(1e-16, FLOOR, color="0.85", zorder=0)
            ax.set_yscale("log"); ax.set_ylim(1e-16, 2)
            ax.set_title(f"{ds}, {rd}")
            if c_ == 0: ax.set_ylabel(r"$\sigma_2(P_t)/\sigma_1(P_t)$")  # noqa: E701
            if r_ == len(readings) - 1: ax.set_xlabel("path depth $t$")  # noqa: E701
    axes[0, 0].legend(loc="lower left")
    return fig


def fig_outputs(res: TrainedResult) -> Any:
    """RC Fig. 4: residual ratio of the block outputs per layer in the four settings (seed 0)."""
    fig, axes = new_figure(2, 1, width=3.7, height=3.4)
    L = np.arange(1, res.output_ratio.shape[2] + 1)
    styles = {"pure": ":", "san_skip": "-", "san_ff": "-.", "full": "--"}
    for ax, ds in zip(axes[0], DATASETS):
        for k, st in enumerate(SETTINGS):
            for norm in NORMS:
                if not res.has(ds, norm, 0):
                    continue
                R = np.maximum(res.output_ratio[res.index(ds, norm, 0), k], 1e-16)
                mu, sd = R.mean(-1), R.std(-1)
                ax.fill_between(L, np.maximum(mu - sd, 1e-16), mu + sd, color=COLORS[norm], alpha=0.12, lw=0)
                ax.plot(L, mu, ls=styles[st], color=COLORS[norm], label=f"{norm}, {st}")
        ax.axhspan(1e-16, FLOOR, color="0.85", zorder=0)
        ax.set(yscale="log", ylim=(1e-16, 2), xlabel="layer", title=f"{ds} (seed 0)")
    axes[0, 0].set_ylabel(r"$\|\mathrm{res}(\mathrm{SAN}(X)_\ell)\|_2/\|\mathrm{SAN}(X)_\ell\|_2$")
    fig.legend(*axes[0, 1].get_legend_handles_labels(), loc="upper center", ncol=4,
               bbox_to_anchor=(0.5, 0.0))
    return fig


def fig_gt(res: TrainedResult) -> Any:
    """RC-GT: median r(P_t) of trained paths vs App. G random products (seed 0)."""
    t = res.depths
    fig, axes = new_figure(2, 1, width=3.7, height=3.0)
    for ax, ds in zip(axes[0], DATASETS):
        for norm in NORMS:
            if not res.has(ds, norm, 0):
                continue
            i = res.index(ds, norm, 0)
            ax.plot(t, np.maximum(np.median(res.path_residual[i, 0], -1), 1e-16), "-", color=COLORS[norm],
                    label=f"{norm} trained")
            ax.plot(t, np.maximum(np.median(res.random_residual[i, 0], -1), 1e-16), "--", color=COLORS[norm],
                    label=f"{norm} random, scale {res.random_scales[i]:.1f}")
            ax.plot(t, np.maximum(np.median(res.random_residual[i, 1], -1), 1e-16), ":", color=COLORS[norm],
                    label=f"{norm} random, scale 1")
        ax.axhspan(1e-16, FLOOR, color="0.85", zorder=0)
        ax.set(yscale="log", ylim=(1e-16, 2), xlabel="path depth $t$", title=f"{ds} (seed 0), median")
    axes[0, 0].set_ylabel(r"median $\sigma_2(P_t)/\sigma_1(P_t)$")
    axes[0, 0].legend(loc="lower left")
    return fig


def fig_correlation(res: TrainedResult) -> Any:
    """Median r(P_t) with the cross-layer correlation kept, fixed to one image, or shuffled (seed 0)."""
    t = res.depths
    labels = ("paper", "same_image", "shuffled")
    fig, axes = new_figure(2, 2, width=3.7, height=2.6, sharex=True)
    for r_, ds in enumerate(DATASETS):
        for c_, norm in enumerate(NORMS):
            ax = axes[r_, c_]
            if not res.has(ds, norm, 0):
                continue
            i = res.index(ds, norm, 0)
            for v, (lab, col) in enumerate(zip(labels, ("C0", "C2", "C1"))):
                for k, ls in ((0, "-"), (1, "--")):
                    ax.plot(t, np.maximum(np.median(res.corr_residual[i, v, k], -1), 1e-16), ls=ls, color=col,
                            label=f"{lab}" if k == 0 else None)
            ax.plot(t, np.maximum(np.median(res.random_residual[i, 0], -1), 1e-16), ":", color="0.3", label="random")
            ax.axhspan(1e-16, FLOOR, color="0.85", zorder=0)
            ax.set(yscale="log", ylim=(1e-16, 2), title=f"{ds}, {norm} (seed 0)")
            if r_ == 1: ax.set_xlabel("path depth $t$")  # noqa: E701
            if c_ == 0: ax.set_ylabel("median $r(P_t)$")  # noqa: E701
    axes[0, 0].legend(loc="lower left", title=r"solid: $P$, dashed: $(I+P)/2$")
    return fig
