"""Benchmark: the HT Exp. 1 sweep (Sinkhorn + sigma_2) with dsmlib and the libraries a user would pick.

The sweep is chapter 2's: n = 64, 16 temperatures log-spaced over [1e-2, 1e1], R = 1000 cost
matrices d ~ U[0,1]^{n x n} per temperature (seeds 0..9 x 100, the same costs at every T),
K = 200 iterations, tol 1e-6, then sigma_2 of every matrix. Implementations, all in this one
process, run alternately (round-robin), each ``--reps`` times (median reported):

* ``dsmlib``: ``dsmlib.sinkhorn(-d, temperature=T)`` on the whole batch (``-d`` formed once
  per sweep), then ``dsmlib.sigma2`` (the fused compiled kernels of ``dsmlib._kernels``);
* ``dsmlib_numpy``: the same calls with the kernels switched off (``DSMLIB_KERNELS=0``
  semantics): the batched numpy implementation dsmlib had before issue 14;
* ``pot_loop``: POT's ``ot.sinkhorn(a, a, d, reg=T, method="sinkhorn")`` looped over the
  matrices (``a = 1/n``, threshold ``tol / n`` on POT's scale, the same cap), ``n * G`` is the
  DSM, then ``scipy.linalg.svd``;
* ``pot_batch_sinkhorn`` / ``pot_batch_log``: POT's ``ot.solve_batch`` (``method="sinkhorn"``
  and ``"log_sinkhorn"``), then a batched ``np.linalg.svd``;
* ``ott_lse`` / ``ott_scaling``: ott-jax's ``Sinkhorn`` (``lse_mode`` True / False, defaults
  otherwise, threshold ``tol / n``, 200 iterations) under ``jax.jit(jax.vmap(...))`` in
  float64; the first (compiling) call is timed separately; then a batched ``np.linalg.svd``;
* ``numpy_batched``: a 15-line batched numpy loop (scaling vectors, one global stop);
* ``torch_bmm``: the same loop with ``torch.bmm`` (only if torch is installed);
* ``loop``: Algorithm 1 exactly as the paper writes it, one trial at a time, K = 200 fixed
  (no tolerance), then ``scipy.linalg.svd``: run once (it takes ~20x longer than dsmlib).

Reported for each: CPU-seconds of the process (``time.process_time``, all threads: the
primary measure, since the machine is shared) and wall seconds, the sigma_2 share, the
number of converged matrices, and the agreement of the mean sigma_2 per temperature with
dsmlib over the matrices both converged on (goal: 1e-6). Also: dsmlib's iteration counts
against the numpy implementation (must be identical), numba's compile time (cold, in a
fresh cache, and the cache load), the machine's compute floor (measured dgemm rate and
memory bandwidth, the sweep's flop count), and the cost growth (n = 64 ... 512 with
R n^2 constant; R = 1000 and 10,000 at n = 64) with fitted exponents.

Writes ``benchmarks/bench_sinkhorn.json`` (read by chapter 2). Run with ``make bench``
(which installs the comparison packages into ``.venv-bench``); ``--quick`` for a short run.
Not a test: timings depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Callable

import numpy as np
import scipy
import scipy.linalg

import dsmlib
from dsmlib import _kernels
from dsmlib.algorithm1 import HT_TEMPERATURES as TEMPERATURES

OUT = Path(__file__).with_suffix(".json")
N, SEEDS, PER_SEED, K_ITER, TOL = 64, tuple(range(10)), 100, 200, 1e-6


def costs(n: int, R: int, seed0: int = 0) -> np.ndarray:
    """Costs U[0,1]^{n x n}, R of them, in blocks of 100 per seed (chapter 2's for n=64, R=1000)."""
    blocks, s = [], seed0
    while sum(b.shape[0] for b in blocks) < R:
        m = min(PER_SEED, R - sum(b.shape[0] for b in blocks))
        blocks.append(np.random.default_rng(s).random((m, n, n)))
        s += 1
    return np.concatenate(blocks)


def converged(M: np.ndarray) -> np.ndarray:
    """Maximal marginal error <= TOL, per matrix (the same rule for every implementation)."""
    with np.errstate(invalid="ignore"):
        e = np.maximum(np.abs(M.sum(-1) - 1).max(-1), np.abs(M.sum(-2) - 1).max(-1))
    return e <= TOL


class Clock:
    """CPU (process, all threads) and wall seconds of a block."""

    def __enter__(self):
        self.c0, self.w0 = time.process_time(), time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.cpu, self.wall = time.process_time() - self.c0, time.perf_counter() - self.w0


# --------------------------------------------------------------------------- implementations
# each: (d, temperatures) -> dict(s2 (nT, R), conv (nT, R), sigma_cpu, sigma_wall[, its])


def run_dsmlib(d, Ts, *, kernels: bool = True):
    old = _kernels.ENABLED
    _kernels.ENABLED = kernels and _kernels.AVAILABLE
    try:
        s2, conv, its, sc, sw = [], [], [], 0.0, 0.0
        scores = -d  # once per sweep; sinkhorn(-d, temperature=T) is sinkhorn(-d / T), bit for bit
        for T in Ts:
            M, info = dsmlib.sinkhorn(scores, temperature=T, n_iter=K_ITER, tol=TOL, return_info=True, warn=False)
            with Clock() as c:
                s2.append(dsmlib.sigma2(M))
            sc, sw = sc + c.cpu, sw + c.wall
            conv.append(info.converged)
            its.append(info.n_iter)
    finally:
        _kernels.ENABLED = old
    return {"s2": np.array(s2), "conv": np.array(conv), "its": np.array(its), "sigma_cpu": sc, "sigma_wall": sw}


def run_pot_loop(d, Ts):
    import ot

    n = d.shape[-1]
    a = np.full(n, 1.0 / n)
    s2 = np.empty((len(Ts), d.shape[0]))
    conv = np.empty_like(s2, dtype=bool)
    sc = sw = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # POT warns at numItermax; convergence is recorded below
        for i, T in enumerate(Ts):
            G = np.empty_like(d)
            for r in range(d.shape[0]):
                G[r] = n * ot.sinkhorn(a, a, d[r], reg=T, method="sinkhorn", numItermax=K_ITER, stopThr=TOL / n)
            with Clock() as c:
                for r in range(d.shape[0]):
                    s2[i, r] = scipy.linalg.svd(G[r], compute_uv=False)[1]
            sc, sw = sc + c.cpu, sw + c.wall
            conv[i] = converged(G)
    return {"s2": s2, "conv": conv, "sigma_cpu": sc, "sigma_wall": sw}


def _batched_sigma(plans_fn: Callable[[float], np.ndarray], Ts):
    s2, conv, sc, sw = [], [], 0.0, 0.0
    for T in Ts:
        M = plans_fn(T)
        with Clock() as c:
            s2.append(np.linalg.svd(M, compute_uv=False)[:, 1])
        sc, sw = sc + c.cpu, sw + c.wall
        conv.append(converged(M))
    return {"s2": np.array(s2), "conv": np.array(conv), "sigma_cpu": sc, "sigma_wall": sw}


def run_pot_batch(d, Ts, *, method: str):
    import ot

    n = d.shape[-1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _batched_sigma(
            lambda T: n * np.asarray(ot.solve_batch(d, reg=T, max_iter=K_ITER, tol=TOL / n, method=method).plan), Ts
        )


_OTT: dict[bool, Callable] = {}


def ott_solver(lse: bool):
    """jit(vmap(Sinkhorn)) over a batch of cost matrices, epsilon a traced argument (one compile)."""
    if lse not in _OTT:
        import jax

        jax.config.update("jax_enable_x64", True)
        from ott.geometry import geometry
        from ott.problems.linear import linear_problem
        from ott.solvers.linear import sinkhorn

        solver = sinkhorn.Sinkhorn(lse_mode=lse, threshold=TOL / N, max_iterations=K_ITER)

        def one(c, eps):
            out = solver(linear_problem.LinearProblem(geometry.Geometry(cost_matrix=c, epsilon=eps)))
            return out.matrix

        _OTT[lse] = jax.jit(jax.vmap(one, in_axes=(0, None)))
    return _OTT[lse]


def run_ott(d, Ts, *, lse: bool):
    f = ott_solver(lse)
    return _batched_sigma(lambda T: d.shape[-1] * np.asarray(f(d, T).block_until_ready()), Ts)


def numpy_batched_sinkhorn(d: np.ndarray, T: float) -> np.ndarray:
    """The 15-line batched numpy Sinkhorn a user would write (one stop for the whole batch)."""
    K = np.exp(-(d - d.min(axis=(-2, -1), keepdims=True)) / T)
    u = np.ones(d.shape[:-1])
    v = 1.0 / np.einsum("bij,bi->bj", K, u)
    for _ in range(K_ITER - 1):
        Kv = np.einsum("bij,bj->bi", K, v)
        if np.abs(u * Kv - 1).max() <= TOL:
            break
        u = 1.0 / Kv
        v = 1.0 / np.einsum("bij,bi->bj", K, u)
    return u[:, :, None] * K * v[:, None, :]


def run_numpy_batched(d, Ts):
    return _batched_sigma(lambda T: numpy_batched_sinkhorn(d, T), Ts)


def run_torch(d, Ts):
    import torch

    dt = torch.from_numpy(d)

    def plans(T):
        K = torch.exp(-(dt - dt.amin(dim=(-2, -1), keepdim=True)) / T)
        u = torch.ones(d.shape[:-1], dtype=torch.float64)
        v = 1.0 / torch.bmm(K.transpose(1, 2), u[..., None])[..., 0]
        for _ in range(K_ITER - 1):
            Kv = torch.bmm(K, v[..., None])[..., 0]
            if (u * Kv - 1).abs().max() <= TOL:
                break
            u = 1.0 / Kv
            v = 1.0 / torch.bmm(K.transpose(1, 2), u[..., None])[..., 0]
        return (u[:, :, None] * K * v[:, None, :]).numpy()

    return _batched_sigma(plans, Ts)


def run_loop(d, Ts):
    s2 = np.empty((len(Ts), d.shape[0]))
    conv = np.empty_like(s2, dtype=bool)
    sc = sw = 0.0
    for i, T in enumerate(Ts):
        for r in range(d.shape[0]):  # Algorithm 1, one trial at a time, as the paper writes it
            A = np.exp(-d[r] / T)
            for _ in range(K_ITER):
                A = A / A.sum(axis=1, keepdims=True)
                A = A / A.sum(axis=0, keepdims=True)
            with Clock() as c:
                s2[i, r] = scipy.linalg.svd(A, compute_uv=False)[1]
            sc, sw = sc + c.cpu, sw + c.wall
            conv[i, r] = converged(A[None])[0]
    return {"s2": s2, "conv": conv, "sigma_cpu": sc, "sigma_wall": sw}


# --------------------------------------------------------------------------- machine floor


def machine_floor() -> dict:
    """This machine's single-thread dgemm rate (1024^2 and batched 64^2) and copy bandwidth."""
    rng = np.random.default_rng(0)
    A, B = rng.random((1024, 1024)), rng.random((1024, 1024))
    t = min(_timed(lambda: A @ B) for _ in range(3))
    gemm = 2 * 1024**3 / t
    X = rng.random((1000, 64, 64))
    t = min(_timed(lambda: X @ X) for _ in range(3))
    gemm64 = 2 * 64**3 * 1000 / t
    src, dst = rng.random(1 << 25), np.empty(1 << 25)  # 256 MiB each
    t = min(_timed(lambda: np.copyto(dst, src)) for _ in range(3))
    bw = 2 * src.nbytes / t
    return {"gemm_gflops": gemm / 1e9, "gemm64_batched_gflops": gemm64 / 1e9, "copy_bandwidth_gbs": bw / 1e9}


def _timed(f) -> float:
    t0 = time.process_time()
    f()
    return time.process_time() - t0


def sweep_flops(its: np.ndarray, n: int) -> dict:
    """Flops of the sweep: Sinkhorn 4 n^2 per iteration (K v and K^T u) and 3 n^2 per matrix
    (exp, scaling); sigma_2 by the Gram route 2 n^3 (M M^T) + 4/3 n^3 (tridiagonalisation)."""
    sk = float(4 * n * n * its.sum() + 3 * n * n * its.size)
    sv = float(its.size * (2 + 4 / 3) * n**3)
    return {"sinkhorn": sk, "sigma2": sv, "total": sk + sv}


def cold_compile_seconds() -> float:
    """numba's compile time of dsmlib's kernels from an empty cache, in a fresh process."""
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, NUMBA_CACHE_DIR=tmp)
        code = "import time, dsmlib._kernels as k; t = time.perf_counter(); k.warm_up(); print(time.perf_counter() - t)"
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        return float(out.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- main


def fit_exponent(x, y) -> float:
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=3, help="runs per implementation (median; default 3)")
    ap.add_argument("--quick", action="store_true", help="4 temperatures, R = 200, no growth, 1 rep of the slow ones")
    ap.add_argument("--no-json", action="store_true", help="do not write the JSON")
    ap.add_argument("--slow-reps", type=int, default=None,
                    help="runs of the comparisons other than dsmlib, its numpy path and POT's loop (default: --reps)")
    ap.add_argument("--growth-reps", type=int, default=None, help="runs per cost-growth point (default: --reps)")
    ap.add_argument("--skip", action="append", default=[], metavar="NAME",
                    help="leave out an implementation (repeatable), e.g. pot_batch_log on a loaded machine")
    ap.add_argument("--no-cold", action="store_true", help="skip numba's cold compile (a fresh process, ~30-90 s)")
    args = ap.parse_args(argv)
    Ts = TEMPERATURES[::5] if args.quick else TEMPERATURES
    d = costs(N, 200 if args.quick else len(SEEDS) * PER_SEED)
    R = d.shape[0]
    load_start = os.getloadavg()[0]
    print(f"HT Exp. 1 sweep: n = {N}, {len(Ts)} temperatures in [{Ts[0]:g}, {Ts[-1]:g}], R = {R}, "
          f"K = {K_ITER}, tol = {TOL:g}; {os.cpu_count()} CPUs, load average {load_start:.1f} at start")
    compile_cached = _kernels.warm_up()
    cold = cold_compile_seconds() if _kernels.AVAILABLE and not args.no_cold else float("nan")
    print(f"numba {getattr(_kernels.numba, '__version__', 'absent')}: kernels compiled from an empty cache in "
          f"{cold:.1f} s (wall, a fresh process); first call in this process (cache load, or compile if the "
          f"cache was stale) {sum(compile_cached.values()):.2f} s", flush=True)

    impls: dict[str, Callable] = {
        "dsmlib": run_dsmlib,
        "dsmlib_numpy": lambda d, Ts: run_dsmlib(d, Ts, kernels=False),
        "pot_loop": run_pot_loop,
        "pot_batch_sinkhorn": lambda d, Ts: run_pot_batch(d, Ts, method="sinkhorn"),
        "pot_batch_log": lambda d, Ts: run_pot_batch(d, Ts, method="log_sinkhorn"),
        "numpy_batched": run_numpy_batched,
    }
    skipped = {}
    ott_compile = {}
    try:
        import ott  # noqa: F401

        for lse in (True, False):
            name = "ott_lse" if lse else "ott_scaling"
            with Clock() as c:  # the first call compiles (jit + vmap); timed apart
                ott_solver(lse)(d[:R], Ts[0]).block_until_ready()
            ott_compile[name] = {"cpu": c.cpu, "wall": c.wall}
            impls[name] = (lambda lse_: lambda d, Ts: run_ott(d, Ts, lse=lse_))(lse)
    except ImportError:
        skipped["ott-jax"] = "not installed"
    try:
        import torch  # noqa: F401

        impls["torch_bmm"] = run_torch
    except ImportError:
        skipped["torch"] = "not installed"
    try:
        import ot  # noqa: F401
    except ImportError:
        skipped["POT"] = "not installed"
        for k in ("pot_loop", "pot_batch_sinkhorn", "pot_batch_log"):
            impls.pop(k)

    for name in args.skip:
        if name in impls and name not in ("dsmlib", "dsmlib_numpy"):
            impls.pop(name)
            skipped[name] = "left out (--skip)"
    slow_reps = args.slow_reps if args.slow_reps is not None else (1 if args.quick else args.reps)
    core = {"dsmlib", "dsmlib_numpy", "pot_loop"}  # the goals: always --reps runs
    runs: dict[str, list] = {k: [] for k in impls}
    results: dict[str, dict] = {}
    for rep in range(args.reps):  # round-robin: every implementation sees the same load pattern
        for name, fn in impls.items():
            if name not in core and rep >= slow_reps:
                continue
            with Clock() as c:
                res = fn(d, Ts)
            runs[name].append((c.cpu, c.wall, res["sigma_cpu"], res["sigma_wall"]))
            results.setdefault(name, res)
            print(f"  rep {rep + 1}: {name:19s} {c.cpu:7.2f} CPU-s {c.wall:7.2f} s wall", flush=True)
    with Clock() as c:
        res = run_loop(d, Ts)
    runs["loop"] = [(c.cpu, c.wall, res["sigma_cpu"], res["sigma_wall"])]
    results["loop"] = res
    print(f"  once : {'loop':19s} {c.cpu:7.2f} CPU-s {c.wall:7.2f} s wall", flush=True)

    med = {k: {f: statistics.median(r[i] for r in v) for i, f in enumerate(("cpu", "wall", "sigma_cpu", "sigma_wall"))}
           for k, v in runs.items()}
    ref = results["dsmlib"]
    agreement = {}
    for k, r in results.items():
        both = ref["conv"] & r["conv"]
        diffs = [abs(float(ref["s2"][i][both[i]].mean() - r["s2"][i][both[i]].mean()))
                 for i in range(len(Ts)) if both[i].any()]
        agreement[k] = {
            "n_both_converged": int(both.sum()),
            "max_mean_diff_per_T": max(diffs) if diffs else float("nan"),
            "max_diff": float(np.abs(ref["s2"] - r["s2"])[both].max()) if both.any() else float("nan"),
            "converged": int(r["conv"].sum()),
        }
        agreement[k]["ok"] = bool(agreement[k]["max_mean_diff_per_T"] <= 1e-6)
    its_same = bool(np.array_equal(results["dsmlib"]["its"], results["dsmlib_numpy"]["its"]))

    floor = machine_floor()
    flops = sweep_flops(ref["its"], N)
    floor_cpu = flops["total"] / (floor["gemm_gflops"] * 1e9)
    bytes_min = 3 * 8 * N * N * R * len(Ts)  # read the costs, write M, read M for sigma_2
    floor_mem = bytes_min / (floor["copy_bandwidth_gbs"] * 1e9)

    print(f"\n{'implementation':20s} {'CPU-s':>8s} {'wall s':>8s} {'sigma_2 CPU-s':>14s} {'CPU vs dsmlib':>14s} "
          f"{'converged':>10s} {'mean sigma_2 diff':>18s}")
    for k in med:
        a = agreement[k]
        print(f"{k:20s} {med[k]['cpu']:8.2f} {med[k]['wall']:8.2f} {med[k]['sigma_cpu']:14.2f} "
              f"{med[k]['cpu'] / med['dsmlib']['cpu']:13.1f}x {a['converged']:10d} {a['max_mean_diff_per_T']:18.1e}")
    for k, v in ott_compile.items():
        print(f"{k}: first call (jit + vmap compile) {v['cpu']:.1f} CPU-s, {v['wall']:.1f} s wall")
    for k, v in skipped.items():
        print(f"{k}: {v}")
    vs_before = med["dsmlib_numpy"]["cpu"] / med["dsmlib"]["cpu"]
    print(f"\ndsmlib vs its numpy implementation (before issue 14): {vs_before:.2f}x less CPU (goal >= 2.5x); "
          f"iteration counts identical: {its_same}")
    if "pot_loop" in med:
        print(f"dsmlib vs POT's loop: {med['pot_loop']['cpu'] / med['dsmlib']['cpu']:.1f}x less CPU (goal >= 8x)")
    print(f"mean sigma_2 per temperature agrees with POT to 1e-6 where both converged: "
          f"{all(agreement[k]['ok'] for k in agreement if k.startswith('pot'))}")
    print(f"floor: dgemm {floor['gemm_gflops']:.1f} GFLOP/s (1 thread; batched 64x64: "
          f"{floor['gemm64_batched_gflops']:.1f}), copy bandwidth {floor['copy_bandwidth_gbs']:.1f} GB/s; the sweep is "
          f"{flops['total'] / 1e9:.2f} GFLOP ({flops['sinkhorn'] / 1e9:.2f} Sinkhorn at dsmlib's iteration counts, "
          f"{flops['sigma2'] / 1e9:.2f} sigma_2) -> compute floor {floor_cpu:.2f} CPU-s, memory floor {floor_mem:.2f} s")
    dist = med["dsmlib"]["cpu"] / max(floor_cpu, floor_mem)
    print(f"dsmlib is {dist:.1f}x above this machine's floor (goal: within 4x)")

    growth = {}
    if not args.quick:
        configs = [(64, 1000), (128, 250), (256, 62), (512, 16), (64, 10000)]
        data = {cfg: costs(cfg[0], cfg[1], seed0=100) for cfg in configs}
        gr = {cfg: [] for cfg in configs}
        for _ in range(args.growth_reps if args.growth_reps is not None else args.reps):
            for cfg in configs:
                with Clock() as c:
                    run_dsmlib(data[cfg], TEMPERATURES)
                gr[cfg].append((c.cpu, c.wall))
        for cfg in configs:
            growth[f"n={cfg[0]},R={cfg[1]}"] = {"n": cfg[0], "R": cfg[1],
                                                "cpu": statistics.median(x[0] for x in gr[cfg]),
                                                "wall": statistics.median(x[1] for x in gr[cfg])}
        ns = [c[0] for c in configs[:4]]
        ex_n = fit_exponent(ns, [growth[f"n={n},R={r}"]["cpu"] for n, r in configs[:4]])
        ex_R = fit_exponent([1000, 10000], [growth["n=64,R=1000"]["cpu"], growth["n=64,R=10000"]["cpu"]])
        growth["exponent_n_at_const_Rn2"] = ex_n
        growth["exponent_R_at_n64"] = ex_R
        print("\ncost growth (dsmlib, whole sweep, median CPU-s):")
        for k, v in growth.items():
            if isinstance(v, dict):
                print(f"  {k:16s} {v['cpu']:7.2f} CPU-s {v['wall']:7.2f} s wall")
        print(f"  fitted exponents: CPU ~ n^{ex_n:.2f} at R n^2 constant; CPU ~ R^{ex_R:.2f} at n = 64")

    if not args.no_json:
        m = med
        sk = lambda k: m[k]["cpu"] - m[k]["sigma_cpu"]  # noqa: E731
        OUT.write_text(json.dumps({
            "config": {"n": N, "temperatures": list(Ts), "trials": R, "K": K_ITER, "tol": TOL, "reps": args.reps},
            # CPU-seconds (time.process_time of this process, all threads): the primary measure
            "seconds": {"dsmlib": m["dsmlib"]["cpu"], "dsmlib_sinkhorn": sk("dsmlib"),
                        "dsmlib_svd": m["dsmlib"]["sigma_cpu"],
                        "pot": m.get("pot_loop", {}).get("cpu"), "pot_svd": m.get("pot_loop", {}).get("sigma_cpu"),
                        "loop": m["loop"]["cpu"], "loop_svd": m["loop"]["sigma_cpu"]},
            "speedup": {"vs_pot": m["pot_loop"]["cpu"] / m["dsmlib"]["cpu"] if "pot_loop" in m else None,
                        "vs_loop": m["loop"]["cpu"] / m["dsmlib"]["cpu"],
                        "sinkhorn_vs_pot": sk("pot_loop") / sk("dsmlib") if "pot_loop" in m else None,
                        "sinkhorn_vs_loop": sk("loop") / sk("dsmlib"),
                        "vs_dsmlib_numpy": vs_before},
            "agreement": {"n_all_converged": agreement.get("pot_loop", agreement["loop"])["n_both_converged"],
                          "max_diff_pot": agreement.get("pot_loop", {}).get("max_diff"),
                          "max_diff_loop": agreement["loop"]["max_diff"],
                          "ok": all(a["ok"] for k, a in agreement.items() if k.startswith("pot")),
                          "per_implementation": agreement},
            "converged": {"dsmlib": agreement["dsmlib"]["converged"],
                          "pot": agreement.get("pot_loop", {}).get("converged"),
                          "loop": agreement["loop"]["converged"]},
            "implementations": {k: {"cpu_seconds": v["cpu"], "wall_seconds": v["wall"], "sigma2_cpu_seconds": v["sigma_cpu"],
                                    "sigma2_wall_seconds": v["sigma_wall"], "runs": len(runs[k]),
                                    "cpu_vs_dsmlib": v["cpu"] / m["dsmlib"]["cpu"]} for k, v in m.items()},
            "wall_seconds": {k: v["wall"] for k, v in m.items()},
            "iterations_identical_to_numpy": its_same,
            "compile_seconds": {"numba_cold": cold, "numba_first_call_this_process": compile_cached,
                                "ott_first_call": ott_compile},
            "skipped": skipped,
            "floor": {**floor, "sweep_gflop": {k: v / 1e9 for k, v in flops.items()}, "compute_floor_cpu_seconds": floor_cpu,
                      "memory_floor_seconds": floor_mem, "dsmlib_over_floor": dist},
            "growth": growth,
            "machine": {"python": sys.version.split()[0], "numpy": np.__version__, "scipy": scipy.__version__,
                        "numba": getattr(_kernels.numba, "__version__", None),
                        "pot": _version("ot"), "ott-jax": _version("ott"), "jax": _version("jax"), "torch": _version("torch"),
                        "platform": platform.platform(), "cpus": os.cpu_count(),
                        "load_average_at_start": load_start, "load_average_at_end": os.getloadavg()[0],
                        "note": "CPU-seconds of this process (all threads) are the primary measure; wall seconds "
                                "depend on the machine's load (1-minute load averages above, this run included)"},
        }, indent=1))
        print(f"wrote {OUT}")
    ok = its_same and all(a["ok"] for k, a in agreement.items() if k.startswith("pot"))
    return 0 if ok else 1


def _version(mod: str):
    try:
        return __import__(mod).__version__
    except Exception:
        return None


if __name__ == "__main__":
    sys.exit(main())
