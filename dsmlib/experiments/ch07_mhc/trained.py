r"""Chapter 7's trained check (BK-MHCTRAIN): does the homogeneity trap bite a trained mHC model?

Everything follows ``dsmlib/trained/MHC_PREREGISTRATION.md`` (committed before any weights):
a four-stream ViT (:mod:`dsmlib.trained.mhc_model`, 8 blocks = 16 H_res factors) trained on
digits with three residual mixers (identity, mHC's 20-iteration Sinkhorn, mHC-lite's
permutation mixture), seeds 0-3 per arm; the unit of replication is the training run.

* :func:`model_summary` -- one stored model in, its pre-registered summaries out (float64
  numpy inference on the whole test split), disk-cached with the model's verified manifest
  entry (sha256 of weights and history, checked on every call, cached or not) in the key;
* :func:`trained_experiment` -- the summaries of every registered run that is stored;
* :func:`analyse` / :func:`check` -- the registered cells (:mod:`dsmlib.ensemble_stats`) and
  the verdict (``inconclusive`` while a registered run is missing);
* :func:`fig_depth`, :func:`fig_streams`, :func:`runs_table` -- the chapter's figures and table.

``TRAINED_CHECKS`` (= ``CHECKS``) maps ``BK-MHCTRAIN`` to ``(trained_experiment, check)``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ...cache import disk_cached
from ...ensemble_stats import Cell, decide, one_sample_cell, two_arm_cell
from ...mhc import product_sigma2
from ...plotting import COLORS, new_figure
from ...spectra import sigma2
from ...trained import data as tdata
from ...trained import mhc_model as mm
from ...verdicts import Verdict, verdict
from .._format import mtex as _m
from .._format import sig

CLAIM_ID = "BK-MHCTRAIN"
REGISTRATION = "dsmlib/trained/MHC_PREREGISTRATION.md"
#: the commit that fixed the registration (amended, still before any weights existed)
REGISTRATION_COMMIT = "763012b04482f80b58389ed526f58df16239a516"
DATASET = "digits"
ARMS = ("identity", "mhc", "mhc_lite")
#: the arms whose H_res is doubly stochastic, in the order of the verdict's parts (main first)
DS_ARMS = ("mhc", "mhc_lite")
#: registered seeds per arm
SEEDS = (0, 1, 2, 3, 4)
#: the product keeps less than this share of the non-mean part: the trap bites
THRESHOLD = 0.5
ARM_LABELS = {"identity": "identity $H^{res}=I$", "mhc": "mHC (Sinkhorn, 20 it.)", "mhc_lite": "mHC-lite (24 permutations)"}
ARM_COLORS = {"identity": COLORS["paper"], "mhc": COLORS["sinkhorn"], "mhc_lite": COLORS["skip"]}


@dataclass(frozen=True)
class MHCSummary:
    r"""The pre-registered summaries of one trained model (registration, section 3); ``K``
    sites, the map applied at site k is :math:`A_k = {H^{res}_k}^\top`, :math:`P_k = A_k\cdots A_1`."""

    #: model name, arm, seed, sha256 of the weights file analysed
    name: str
    arm: str
    seed: int
    sha256: str

    @property
    def z(self) -> float:
        """The main summary :math:`-\\ln g_K` (registration, section 3)."""
        return float(-np.log(self.g[-1]))

    #: test images analysed (the whole split); accuracy of the float64 forward, and the training
    #: log's final (JAX float32) one
    n_test: int
    acc: float
    acc_log: float
    #: (K,) mean over images and tokens of sigma_2(H_res,k)
    s: NDArray[np.float64]
    #: (K,) mean of sigma_2(P_k)
    g: NDArray[np.float64]

    @property
    def d_half(self) -> float:
        """:func:`half_depth` of ``g``."""
        return half_depth(self.g)

    #: (K,) mean pairwise cosine of the rows of P_k (0: a permutation, 1: J/n)
    c: NDArray[np.float64]
    #: (K + 1,) mean pairwise cosine of the hidden streams before the first site and after each
    h: NDArray[np.float64]
    #: largest distance from doubly stochastic of any H_res (float64 forward)
    ds_err: float
    #: training cost from the manifest (CPU and wall seconds)
    cpu_s: float
    wall_s: float


# ---------------------------------------------------------------------------------------
# pieces (pure, batched)
# ---------------------------------------------------------------------------------------
def product_summaries(H: NDArray) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """``(s, g, c)`` of :class:`MHCSummary` from the mixers of many tokens.

    Parameters
    ----------
    H : ndarray, shape (M, K, n, n)
        :math:`H^{res}` of K sites (in order) for M tokens; the map applied is :math:`H^\\top`.

    Returns
    -------
    s, g, c : ndarray, shape (K,)
        Means over the M tokens of :math:`\\sigma_2(H_k)`, :math:`\\sigma_2(P_k)` and of the
        mean pairwise row cosine of :math:`P_k`.
    """
    H = np.asarray(H, dtype=np.float64)
    if H.ndim != 4 or H.shape[-1] != H.shape[-2]:
        raise ValueError(f"H must have shape (M, K, n, n), got {H.shape}")
    P = np.swapaxes(H, -1, -2)
    prods = np.empty_like(P)
    acc = np.broadcast_to(np.eye(H.shape[-1]), P[:, 0].shape)
    for k in range(P.shape[1]):
        acc = P[:, k] @ acc
        prods[:, k] = acc
    g = product_sigma2(H, transpose=True).mean(0)
    return sigma2(H).mean(0), g, mm.mean_pairwise_cosine(prods).mean(0)


def half_depth(g: NDArray) -> float:
    r"""Depth at which the product keeps half of the non-mean part: :math:`\ln 0.5 / b`, ``b``
    the least-squares slope through the origin of :math:`\ln g_k` against ``k = 1..K``
    (``inf`` if ``b >= 0``)."""
    g = np.asarray(g, dtype=np.float64)
    if g.ndim != 1 or g.size < 1 or np.any(g <= 0) or not np.all(np.isfinite(g)):
        raise ValueError(f"g must be a 1-d array of positive finite values, got {g!r}")
    k = np.arange(1, g.size + 1)
    b = float(np.sum(k * np.log(g)) / np.sum(k * k))
    return float(np.log(0.5) / b) if b < 0 else float("inf")


# ---------------------------------------------------------------------------------------
# one model (disk-cached, verified on every call)
# ---------------------------------------------------------------------------------------
def _verified_digest(name: str) -> str:
    """Cache-key material: sha256 of the model's manifest entry after its weights and history
    were verified against it (raises on a mismatch; on every call, cached or not)."""
    _, _, entry = mm.load_model(name)
    entry = {k: v for k, v in entry.items() if k != "history"} | {"history": {k: v for k, v in entry["history"].items() if k != "data"}}
    return hashlib.sha256(json.dumps(entry, sort_keys=True, allow_nan=False).encode()).hexdigest()


@disk_cached(key=_verified_digest)
def model_summary(name: str) -> MHCSummary:
    """The pre-registered summaries of stored model ``name`` (:class:`MHCSummary`)."""
    params, c, entry = mm.load_model(name)
    sp = tdata.load(entry["dataset"])
    out = [mm.forward(params, c, sp.x_test[a:a + 60]) for a in range(0, len(sp.x_test), 60)]
    logits = np.concatenate([o.logits for o in out])
    H = np.concatenate([o.h_res for o in out])  # (B, T, K, n, n)
    s, g, cc = product_summaries(H.reshape((-1,) + H.shape[2:]))
    err = np.maximum(np.abs(H.sum(-1) - 1).max(-1), np.abs(H.sum(-2) - 1).max(-1))
    return MHCSummary(
        name=name, arm=c.arm, seed=int(entry["seed"]), sha256=entry["weights"]["sha256"], n_test=len(sp.y_test),
        acc=float(np.mean(logits.argmax(-1) == sp.y_test)), acc_log=float(entry["final_test_acc"]),
        s=s, g=g, c=cc, h=np.concatenate([o.stream_cos for o in out]).mean((0, 1)), ds_err=float(err.max()),
        cpu_s=float(entry.get("cpu_s", np.nan)), wall_s=float(entry.get("wall_s", np.nan)),
    )


# ---------------------------------------------------------------------------------------
# the registered runs
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrainedResult:
    """Summaries of the registered runs that are stored; ``missing``: registered names not stored."""

    models: tuple[MHCSummary, ...]
    missing: tuple[str, ...]

    def arm(self, arm: str) -> list[MHCSummary]:
        return [m for m in self.models if m.arm == arm]


def registered_names() -> tuple[str, ...]:
    """Every registered run, seed-major (the training order of ``make train-mhc``)."""
    return tuple(mm.model_name(DATASET, a, s) for s in SEEDS for a in ARMS)


def trained_experiment() -> TrainedResult:
    """:func:`model_summary` of every registered run in the manifest (each verified on use)."""
    man = mm.weights_dir() / "manifest.json"
    listed = set(json.loads(man.read_text())) if man.is_file() else set()
    names = registered_names()
    return TrainedResult(tuple(model_summary(n) for n in names if n in listed),
                         tuple(n for n in names if n not in listed))


@dataclass(frozen=True)
class Analysis:
    """The registered cells: ``bites[arm]`` (one-sample, z vs ln 2) for the DS arms, context
    cells ``acc[arm]`` (arm - identity) and ``streams`` (final hidden-stream cosine, mhc -
    identity), and per arm the half-depths of its runs. A cell is None with fewer than 2 runs."""

    bites: dict[str, Cell | None]
    acc: dict[str, Cell | None]
    streams: Cell | None
    d_half: dict[str, NDArray[np.float64]]
    verdict: str
    severity: str


def _runs(result: TrainedResult, arm: str, f) -> NDArray[np.float64]:
    return np.array([f(m) for m in result.arm(arm)], dtype=np.float64)


def analyse(result: TrainedResult) -> Analysis:
    """The registration's section 4 and 5 on ``result``."""
    bites = {}
    for a in DS_ARMS:
        z = _runs(result, a, lambda m: m.z)
        bites[a] = one_sample_cell(z, null=float(np.log(2.0)), margin=0.0) if z.size >= 2 else None
    ident = _runs(result, "identity", lambda m: m.acc)
    acc = {}
    for a in DS_ARMS:
        x = _runs(result, a, lambda m: m.acc)
        acc[a] = two_arm_cell(x, ident) if x.size >= 2 and ident.size >= 2 else None
    hm, hi = _runs(result, "mhc", lambda m: m.h[-1]), _runs(result, "identity", lambda m: m.h[-1])
    streams = two_arm_cell(hm, hi) if hm.size >= 2 and hi.size >= 2 else None
    outs = [bites[a].outcome if bites[a] is not None else "undecided" for a in DS_ARMS]
    v, sev = decide(outs)
    if result.missing:
        v, sev = "inconclusive", ""
    return Analysis(bites, acc, streams, {a: _runs(result, a, lambda m: m.d_half) for a in DS_ARMS}, v, sev)


def _cell_text(c: Cell | None, units: str) -> str:
    if c is None:
        return "fewer than 2 runs"
    n = " vs ".join(str(k) for k in c.n)
    p = "< 0.001" if c.p_claim < 1e-3 else f"= {sig(c.p_claim, 2)}"
    pp = "" if not np.isfinite(c.perm_claim) else (
        f", sign-flip/permutation $p {'< 0.001' if c.perm_claim < 1e-3 else '= ' + sig(c.perm_claim, 2)}$")
    return (f"{_m(sig(c.effect))} [{_m(sig(c.ci[0]))}, {_m(sig(c.ci[1]))}]{units} ({n} runs, $t$-test $p {p}${pp}; "
            f"detectable $\\ge$ {_m(sig(c.mde))}) → {c.outcome}")


def _geo(d: NDArray) -> str:
    d = d[np.isfinite(d)]
    return "n/a" if d.size == 0 else sig(float(np.exp(np.mean(np.log(d)))), 2)


def check(result: TrainedResult) -> Verdict:
    """BK-MHCTRAIN from the registered rule (``dsmlib/trained/MHC_PREREGISTRATION.md``)."""
    a = analyse(result)
    g = {arm: _runs(result, arm, lambda m: m.g[-1]) for arm in DS_ARMS}
    parts = []
    for arm in DS_ARMS:
        gm = f"mean $\\sigma_2(P_{{16}})$ = {_m(sig(float(g[arm].mean()), 3))}" if g[arm].size else "no run"
        parts.append(f"{ARM_LABELS[arm]}: $-\\ln\\sigma_2(P_{{16}}) - \\ln 2$ = {_cell_text(a.bites[arm], '')} "
                     f"({gm}; half-depth {_geo(a.d_half[arm])} factors)")
    ev = ("Trained four-stream ViTs on digits, 16 $H^{res}$ factors, whole test split. " + "; ".join(parts)
          + ". Context (decides nothing; outcome of the test 'arm > identity'): test accuracy minus identity, mHC "
          + _cell_text(a.acc["mhc"], "") + "; mHC-lite " + _cell_text(a.acc["mhc_lite"], "")
          + "; final hidden-stream cosine, mHC minus identity " + _cell_text(a.streams, "") + ".")
    can_fail = ("the test opposes if the learned $H^{res}$ stay so close to permutations that the 16-factor "
                "product keeps more than half of the non-mean part ($\\sigma_2(P_{16}) > 0.5$) in every run.")
    if result.missing:
        return verdict(CLAIM_ID, "inconclusive", ev, holds=f"no verdict yet: {len(result.missing)} of the "
                       f"{len(registered_names())} registered runs are not stored (`make train-mhc` trains them); "
                       "the cells above are interim and decide nothing.", can_fail=can_fail)
    if a.verdict == "inconclusive":
        return verdict(CLAIM_ID, "inconclusive", ev, holds="undecided at this power: the smallest detectable "
                       "effects are given beside each cell.", can_fail=can_fail)
    holds = {"refuted": "at 16 factors the learned mixers stay near permutations: the product keeps more than "
                        "half of the streams' non-mean part (the trap does not bite at this depth).",
             "qualified": "the trap bites the Sinkhorn mixer but not mHC-lite's exact permutation mixture.",
             "confirmed": ""}[a.verdict]
    return verdict(CLAIM_ID, a.verdict, ev, holds=holds, severity=a.severity, can_fail=can_fail)


TRAINED_CHECKS = {CLAIM_ID: (trained_experiment, check)}
CHECKS = TRAINED_CHECKS


# ---------------------------------------------------------------------------------------
# views (figures and table of the chapter)
# ---------------------------------------------------------------------------------------
def fig_depth(result: TrainedResult):
    """Left: learned :math:`\\sigma_2(H^{res}_k)` per site; right: :math:`\\sigma_2(P_k)` of the
    product over depth (log scale), every run, with the registered threshold 1/2."""
    fig, axs = new_figure(2, 1, width=3.7, height=3.4)
    k = None
    for arm in DS_ARMS:
        for i, m in enumerate(result.arm(arm)):
            k = np.arange(1, m.g.size + 1)
            lab = ARM_LABELS[arm] if i == 0 else None
            axs[0, 0].plot(k, m.s, "o-", ms=3, color=ARM_COLORS[arm], alpha=0.8, label=lab)
            axs[0, 1].plot(k, m.g, "o-", ms=3, color=ARM_COLORS[arm], alpha=0.8, label=lab)
    axs[0, 1].axhline(THRESHOLD, color="black", linestyle="--", linewidth=0.9, label="registered threshold 1/2")
    axs[0, 0].set(xlabel="site $k$ (2 per block)", ylabel=r"mean $\sigma_2(H^{res}_k)$")
    axs[0, 1].set(xlabel="factors in the product $k$", ylabel=r"mean $\sigma_2(P_k)$", yscale="log")
    for ax in axs[0]:
        if k is not None:
            ax.legend(loc="lower left")
        else:
            _no_runs(ax)
    return fig


def _no_runs(ax) -> None:
    ax.text(0.5, 0.5, "no registered run stored yet\n(make train-mhc)", transform=ax.transAxes, ha="center",
            va="center", color=COLORS["paper"])


def fig_streams(result: TrainedResult):
    """Mean pairwise cosine of the four hidden streams after each site, every run of every arm."""
    fig, axs = new_figure(1, 1, width=6.0, height=3.4)
    ax = axs[0, 0]
    for arm in ARMS:
        for i, m in enumerate(result.arm(arm)):
            ax.plot(np.arange(m.h.size), m.h, "o-", ms=3, color=ARM_COLORS[arm], alpha=0.8,
                    label=ARM_LABELS[arm] if i == 0 else None)
    ax.set(xlabel="site $k$ (0: the repeated embedding)", ylabel="mean pairwise cosine of the streams")
    if result.models:
        ax.legend(loc="lower left")
    else:
        _no_runs(ax)
    return fig


def runs_table(result: TrainedResult) -> str:
    """One Markdown row per stored run: accuracy, mean per-site and whole-product :math:`\\sigma_2`,
    half-depth, largest DS error, training CPU time."""
    rows = ["| run | test acc. | mean $\\sigma_2(H^{res})$ | $\\sigma_2(P_{16})$ | half-depth | max DS error | CPU-min |",
            "| --- | --- | --- | --- | --- | --- | --- |"]
    for m in result.models:
        err = "< 1e-9" if m.ds_err < 1e-9 else sig(m.ds_err, 2)  # below 1e-9: rounding, printed as a bound
        rows.append(f"| {m.name} | {m.acc:.3f} | {sig(float(m.s.mean()), 4)} | {sig(float(m.g[-1]), 3)} | "
                    f"{sig(m.d_half, 2) if np.isfinite(m.d_half) else 'inf'} | {err} | {m.cpu_s / 60:.1f} |")
    return "\n".join(rows)
