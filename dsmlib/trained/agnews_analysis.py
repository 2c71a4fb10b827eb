r"""RC-F2 / Fig. 3a for readers who have AG's News: rank decay along attention paths of the
trained text models, and the pre-registered Softmax-vs-Sinkhorn test.

``python -m dsmlib.trained.agnews_analysis --weights agnews_weights [--data DIR]``

The same analysis as chapter 6 runs on the image models (``PREREGISTRATION.md``, RC-F3):

* **paths** (RC Sec. 4.1): for every depth t = 1..L, :data:`N_PATHS` = 1,000 paths drawn by
  :func:`dsmlib.attention.sample_paths` (t distinct layers, sorted; one head and one test
  sequence per layer, uniformly), seed :data:`PATH_SEED`, the same paths for every model;
  products multiplied in increasing layer order, *plain* and with each factor ``(I + P)/2``
  (*skip*); per model and depth ``r(t)`` = median over paths of
  :func:`dsmlib.spectra.rank_one_residual` (RC Eq. 11, sigma_2 / sigma_1);
* **summary** per model and reading: the decay slope, least-squares slope of ``log10 r(t)``
  over t = 1..t_max, t_max the last depth with ``r(t') >= 1e-9`` for every t' <= t
  (:func:`decay_slope`);
* **test** (>= 2 runs per arm): :func:`dsmlib.ensemble_stats.two_arm_cell` of the Sinkhorn
  slopes against the Softmax slopes (claim: Sinkhorn decays more slowly, Delta b > 0).

**Sequence length.** A path multiplies attention matrices of different test sequences, so they
must have one size. Texts have different lengths, and a padded sequence's matrix is
``blockdiag(real block, I)`` (:func:`dsmlib.trained.agnews.pad_bias`), whose identity block
would stop any decay. The analysis therefore runs the model on the first ``n_a`` tokens of every
test sequence with at least ``n_a`` tokens (no padding), ``n_a`` by default the largest length
that keeps :data:`POOL_SHARE` = 90 % of the test split (:func:`analysis_length`; ``--length``
overrides it); the report states ``n_a`` and the share used. Inference: numpy float64 from the
stored float32 weights (:func:`dsmlib.trained.agnews.numpy_forward`), layer by layer, so
memory holds one layer's attention and the running path products, never (L, N, H, n, n).
numpy only: the analysis does not need JAX.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from .. import ensemble_stats
from ..attention import sample_paths
from ..spectra import rank_one_residual
from . import agnews as _ag

N_PATHS = 1000
PATH_SEED = 0
#: residuals below this are at the float64 floor (PREREGISTRATION.md, RC-F3)
FLOOR = 1e-9
POOL_SHARE = 0.9
READINGS = ("plain", "skip")


def analysis_length(mask: NDArray[np.bool_], share: float = POOL_SHARE) -> int:
    """Largest ``n_a`` such that at least ``share`` of the sequences have ``>= n_a`` real tokens
    (at least 2: RC Eq. 11 needs 2 x 2 matrices). ``mask`` (N, max_len)."""
    lengths = np.sort(np.asarray(mask, dtype=bool).sum(1))[::-1]
    if not 0.0 < share <= 1.0:
        raise ValueError(f"share must be in (0, 1], got {share}")
    return max(2, int(lengths[math.ceil(share * lengths.size) - 1]))


def analysis_pool(x: NDArray, mask: NDArray, length: int) -> tuple[NDArray[np.int32], NDArray[np.int64]]:
    """The sequences with ``>= length`` real tokens, truncated to ``length``.

    Returns
    -------
    tokens : ndarray of int32, shape (M, length)
    index : ndarray of int64, shape (M,)
        Their rows in ``x``.
    """
    idx = np.flatnonzero(np.asarray(mask).sum(1) >= length)
    if idx.size == 0:
        raise ValueError(f"no test sequence has {length} or more tokens")
    return np.ascontiguousarray(np.asarray(x)[idx, :length], dtype=np.int32), idx.astype(np.int64)


def path_indices(n_layers: int, n_heads: int, batch: int, n_paths: int = N_PATHS, seed: int = PATH_SEED):
    """Paths of every depth 1..n_layers from one ``default_rng(seed)``: ``layers, heads, seqs``,
    each (T, n_paths, T) int, padded with -1 beyond depth t."""
    rng = np.random.default_rng(seed)
    T = n_layers
    out = np.full((3, T, n_paths, T), -1, dtype=np.int64)
    for t in range(1, T + 1):
        out[:, t - 1, :, :t] = sample_paths(n_layers, n_heads, batch, t, n_paths, rng=rng)
    return out[0], out[1], out[2]


def path_residuals(params: dict, c: _ag.TextConfig, tokens: NDArray, paths, *, chunk: int = 256,
                   max_bytes: float = 2**29) -> NDArray[np.float64]:
    """RC Eq. 11 of every path product, plain and skip: (2, T, m).

    The forward runs layer by layer over ``tokens`` (M, n) (all real); each path's running
    product ``I F_1 F_2 ...`` is multiplied by its factor when the forward reaches that layer.
    Depths are processed in groups whose products fit in ``max_bytes`` (one forward per group)."""
    layers, heads, seqs = paths
    T, m, _ = layers.shape
    n = tokens.shape[1]
    eye = np.eye(n)
    per_depth = 2 * m * n * n * 8
    g = max(1, int(max_bytes // per_depth))
    out = np.empty((2, T, m))
    mask = np.ones(tokens.shape, dtype=bool)
    for t0 in range(0, T, g):
        G = slice(t0, min(T, t0 + g))
        ly, hd, sq = layers[G], heads[G], seqs[G]
        R = np.broadcast_to(eye, (2,) + ly.shape[:2] + (n, n)).copy()

        def on_layer(l: int, A: NDArray) -> None:
            hit = ly == l
            gi, pi = np.nonzero(hit.any(-1))
            ii = hit[gi, pi].argmax(-1)
            F = A[sq[gi, pi, ii], hd[gi, pi, ii]]  # (k, n, n)
            R[0, gi, pi] = R[0, gi, pi] @ F
            R[1, gi, pi] = R[1, gi, pi] @ (0.5 * (eye + F))

        _ag.numpy_forward(params, c, tokens, mask, chunk=chunk, on_layer=on_layer)
        out[:, G] = rank_one_residual(R)
    return out


def decay_slope(r: NDArray) -> tuple[float, int]:
    """``(slope, t_max)``: least-squares slope of ``log10 r(t)`` over t = 1..t_max, t_max the
    last depth with ``r(t') >= FLOOR`` for all t' <= t; NaN when t_max < 2. ``r`` (T,)."""
    r = np.asarray(r, dtype=np.float64)
    ok = np.cumprod(np.nan_to_num(r, nan=0.0) >= FLOOR).astype(bool)
    t_max = int(ok.sum())
    if t_max < 2:
        return float("nan"), t_max
    t = np.arange(1, t_max + 1)
    return float(np.polyfit(t, np.log10(r[:t_max]), 1)[0]), t_max


def models_in(folder: str | Path) -> list[str]:
    """Names of the AG News models listed in ``folder/manifest.json``."""
    f = Path(folder) / "manifest.json"
    if not f.is_file():
        raise ValueError(f"{f} does not exist: train models with `python -m dsmlib.trained.text_train --out {folder} ...`")
    return sorted(k for k, e in json.loads(f.read_text()).items() if e.get("dataset") == "agnews")


def analyse(weights: str | Path, data: str | Path | None = None, *, n_paths: int = N_PATHS,
            seed: int = PATH_SEED, length: int | None = None, max_test: int | None = None) -> dict:
    """Path curves, slopes and the two-arm cells of every AG News model in ``weights``.

    ``data``: the AG News folder (default: the one each model was trained on); its CSV files
    and the vocabulary must have the sha256 the manifest recorded. ``max_test``: use only the
    first test sequences (for tests). Returns a JSON-able dict (see :func:`format_report`)."""
    names = models_in(weights)
    if not names:
        raise ValueError(f"{Path(weights) / 'manifest.json'} lists no AG News model")
    loaded, datasets, models = {}, {}, []
    for name in names:
        params, c, entry = _ag.load_model(weights, name)
        tr = entry["train"]
        key = (str(data or tr["data"]), tr["vocab_size"], tr["max_len"])
        if key not in datasets:
            datasets[key] = _ag.load(key[0], vocab_size=key[1], max_len=key[2])
        ds = datasets[key]
        if dict(ds.sha256) != entry.get("data_sha256") or ds.vocab_sha256 != entry.get("vocab_sha256"):
            raise ValueError(f"the AG News files in {key[0]} (or their vocabulary) differ from those model "
                             f"{name!r} was trained on (sha256 in {Path(weights) / 'manifest.json'})")
        loaded[name] = (params, c, entry, ds)
    shapes = {(c.n_layers, c.heads) for _, c, _, _ in loaded.values()}
    if len(shapes) != 1 or len(datasets) != 1:
        raise ValueError("all models must share layers, heads and data to share their paths; "
                         f"got (layers, heads) {sorted(shapes)} and {len(datasets)} data set(s)")
    ds = next(iter(datasets.values()))
    x, mask = ds.x_test[:max_test], ds.mask_test[:max_test]
    n_a = analysis_length(mask) if length is None else int(length)
    tokens, idx = analysis_pool(x, mask, n_a)
    L, H = shapes.pop()
    paths = path_indices(L, H, len(tokens), n_paths, seed)
    for name in names:
        params, c, entry, _ = loaded[name]
        res = path_residuals(params, c, tokens, paths)
        med = np.median(res, axis=-1)  # (2, T)
        fits = [decay_slope(med[i]) for i in range(2)]
        models.append({"name": name, "normalisation": c.normalisation, "seed": entry["seed"],
                       "test_acc": entry["final_test_acc"], "median": med.tolist(),
                       "slope": [f[0] for f in fits], "t_max": [f[1] for f in fits]})
    out = {"n_a": n_a, "pool": int(len(tokens)), "n_test": int(len(x)), "n_paths": n_paths, "seed": seed,
           "layers": L, "models": models, "cells": {}}
    for i, reading in enumerate(READINGS):
        arm = {nm: [m["slope"][i] for m in models if m["normalisation"] == nm and np.isfinite(m["slope"][i])]
               for nm in ("sinkhorn", "softmax")}
        if min(len(v) for v in arm.values()) < 2:
            out["cells"][reading] = {"note": f"needs >= 2 runs per arm with a finite slope, got "
                                             f"{len(arm['sinkhorn'])} Sinkhorn, {len(arm['softmax'])} Softmax"}
            continue
        cell = ensemble_stats.two_arm_cell(arm["sinkhorn"], arm["softmax"])
        out["cells"][reading] = {"effect": cell.effect, "ci": list(cell.ci), "p_welch": cell.p_claim,
                                 "p_perm": cell.perm_claim, "p_against": cell.p_against, "mde": cell.mde,
                                 "sd": cell.sd, "n": list(cell.n), "outcome": cell.outcome}
    return out


def format_report(r: dict) -> str:
    """A plain-text report of :func:`analyse`'s result."""
    L = r["layers"]
    depths = sorted({t for t in (1, 2, L // 4, L // 2, L) if t >= 1})
    lines = [f"RC-F2 (AG News), attention-path rank decay: {r['n_paths']} paths per depth t = 1..{L}, "
             f"path seed {r['seed']}",
             f"analysis length n_a = {r['n_a']}: {r['pool']} of {r['n_test']} test sequences "
             f"({100 * r['pool'] / r['n_test']:.1f} %) have >= n_a tokens, truncated to n_a",
             "", "model                     acc     reading  t_max  slope(log10/t)  " +
             "  ".join(f"r({t})" for t in depths)]
    for m in r["models"]:
        for i, reading in enumerate(READINGS):
            med = m["median"][i]
            acc = f"{m['test_acc']:.4f}" if i == 0 else ""
            lines.append(f"{m['name'] if i == 0 else '':24s}  {acc:6s}  "
                         f"{reading:7s}  {m['t_max'][i]:5d}  {m['slope'][i]:14.4g}  " +
                         "  ".join(f"{med[t - 1]:.2e}" for t in depths))
    lines += ["", "Sinkhorn vs Softmax on the decay slope (claim: Sinkhorn decays more slowly, "
              "Delta b = mean b_sinkhorn - mean b_softmax > 0; Welch + exact permutation, alpha 0.05):"]
    for reading, cell in r["cells"].items():
        if "note" in cell:
            lines.append(f"  {reading:6s} not tested: {cell['note']}")
            continue
        lines.append(f"  {reading:6s} Delta b = {cell['effect']:.4g} (95 % CI {cell['ci'][0]:.3g} .. {cell['ci'][1]:.3g}), "
                     f"p Welch {cell['p_welch']:.3g}, p perm {cell['p_perm']:.3g}, smallest detectable "
                     f"{cell['mde']:.3g}, runs {cell['n'][0]} + {cell['n'][1]}: {cell['outcome']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--weights", required=True, help="folder written by dsmlib.trained.text_train --out")
    ap.add_argument("--data", default=None, help="AG News folder (default: the one recorded at training)")
    ap.add_argument("--paths", type=int, default=N_PATHS, help="paths per depth")
    ap.add_argument("--seed", type=int, default=PATH_SEED, help="path seed")
    ap.add_argument("--length", type=int, default=None, help="analysis length n_a (default: keeps 90 %%)")
    ap.add_argument("--max-test", type=int, default=None, help="use only the first test sequences")
    ap.add_argument("--json", default=None, help="also write the result as JSON to this file")
    a = ap.parse_args(argv)
    r = analyse(a.weights, a.data, n_paths=a.paths, seed=a.seed, length=a.length, max_test=a.max_test)
    print(format_report(r), flush=True)
    if a.json:
        Path(a.json).write_text(json.dumps(r, indent=1) + "\n")


if __name__ == "__main__":
    main()
