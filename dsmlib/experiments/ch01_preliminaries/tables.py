"""Chapter 1, the tables the notebook prints."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .experiments.spectra import SpectraBundle


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
