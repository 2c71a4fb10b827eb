r"""Chapter 6's checks: the pre-registered ensemble verdicts (RC-F1, RC-F3, RC-MECH, RC-F4,
RC-CONV, RC-DS, RC-GT) and RC-F2's reason for being untested.

Each check reads an :class:`~.ensemble.EnsembleResult`, asks :func:`.prereg.claim_decision`
for the verdict of ``dsmlib/trained/PREREGISTRATION.md``'s table, and writes the evidence:
every cell with its effect, 95 % interval, p-values and the smallest effect it could have
detected; the same analysis on the seeds trained after the registration (2-7) is appended
as a sensitivity check that decides nothing. RC-DS also lists its registered second reading,
Sinkformers' own MNIST setting (:func:`rc_ds_second_reading`), beside the headline it never
changes.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ...verdicts import Reading, Verdict, verdict
from .._format import mtex as _m
from .._format import sig
from .experiments import EnsembleResult, ensemble_experiment
from .analysis import (
    CLAIM_CELLS,
    FLOAT_FLOOR,
    NEW_SEEDS,
    PAPER_DATASET,
    REGISTERED_RUNS,
    Part,
    claim_decision,
    missing_runs,
    rc_ds_sinkformers,
)

#: the units of each claim's cells (effect, interval and smallest detectable effect)
UNITS = {
    "RC-F1": "nats",
    "RC-F3": "decades per factor",
    "RC-MECH": "(change of ln relative decay rate)",
    "RC-F4": "decades",
    "RC-CONV": "(1 % minus the share of predictions that change)",
    "RC-DS": "(ln ratio, sign flipped: > 0 = more doubly stochastic)",
    "RC-GT": "(nats per factor; growth: ln k - ln 2)",
}

#: :data:`~.analysis.FLOAT_FLOOR` as maths (``10^{-12}``)
FLOAT_FLOOR_TEX = f"10^{{{int(np.log10(FLOAT_FLOOR))}}}"

#: how a cell measured against outputs at the float64 floor is marked, and the note that explains it
FLOOR_MARK = "lower bound: float64 floor"
FLOOR_NOTE = (f" Cells marked '{FLOOR_MARK}' compare with outputs whose residual is below ${FLOAT_FLOOR_TEX}$ in "
              "every run: the difference is a lower bound, and its spread across runs is rounding (it differs "
              "between CPUs), so no $d$ or detectable effect is given for them.")

#: what each headline part means when it holds, for the ``holds`` text
MEANING = {
    ("RC-F1", "across models"): "Sinkhorn-trained ViTs spread first-layer attention more than Softmax-trained ones",
    ("RC-F3", "plain"): "Sinkhorn's plain attention paths keep rank longer",
    ("RC-F3", "skip"): "with skips, (I + P)/2, Sinkhorn's paths keep rank longer",
    ("RC-MECH", "amplification"): "skips widen Sinkhorn's relative advantage",
    ("RC-F4", "skips keep rank"): "skips keep the block outputs' rank",
    ("RC-F4", "similar"): "Softmax and Sinkhorn outputs behave alike within 0.1 decades",
    ("RC-CONV", "predictions kept"): "stopping at 50 half-steps changes fewer than 1 % of predictions",
    ("RC-DS", "trend from epoch 1"): "Softmax attention becomes more doubly stochastic after epoch 1",
    ("RC-DS", "beyond sharpness"): "trained Softmax attention is more doubly stochastic than a row-shuffled matrix of the same sharpness",
    ("RC-GT", "faster than random"): "trained paths decay faster than App. G random products at the models' score scale",
    ("RC-GT", "doubly exponential (paths)"): "the decay of trained attention paths is doubly exponential",
}


def _p(p: float) -> str:
    """``= 0.16`` or ``< 0.001``, for inline maths after ``p``."""
    return "= n/a" if not np.isfinite(p) else ("< 0.001" if p < 1e-3 else f"= {sig(p, 2)}")


def _d(d: float) -> str:
    return "n/a" if not np.isfinite(d) else (f"{d:.0f}" if abs(d) >= 10 else sig(d, 2))


def fmt_part(p: Part) -> str:
    """One cell as plain text with maths: data set, reading, effect [95 % CI], d, p-values,
    smallest detectable effect, outcome. A cell measured against outputs at the float64 floor
    (:attr:`Part.at_floor`) gives its effect as a lower bound and no ``d`` or detectable
    effect: their spread is rounding, which differs between CPUs and BLAS kernels."""
    head = f"{p.dataset}, {p.part}"
    if p.cell is None:
        return f"{head}: not computable ({p.note})"
    c = p.cell
    n = " vs ".join(str(k) for k in c.n)
    ps = f"bootstrap $p {_p(c.p_claim)}$" if c.kind == "bootstrap" else (
        f"$t$-test $p {_p(c.p_claim)}$" + (f", permutation $p {_p(c.perm_claim)}$" if np.isfinite(c.perm_claim) else ""))
    if p.at_floor:
        return f"{head}: $\\ge {int(np.floor(c.ci[0]))}$ ({n} runs, {ps}; {FLOOR_MARK}) → {c.outcome}"
    return (f"{head}: {_m(sig(c.effect))} [{_m(sig(c.ci[0]))}, {_m(sig(c.ci[1]))}] ({n} runs, "
            f"$d = {_d(c.d)}$, {ps}; detectable $\\ge$ {_m(sig(c.mde))}) → {c.outcome}")


def _evidence(claim: str, parts: list[Part], sens: str) -> str:
    heads = CLAIM_CELLS[claim][1]
    main = [p for p in parts if any(p.part.startswith(h) for h in heads)]
    rest = [p for p in parts if p not in main]
    s = f"Per-model summaries, Sinkhorn minus Softmax unless stated, in {UNITS[claim]}: " + "; ".join(
        fmt_part(p) for p in main) + "."
    if rest:
        s += " Other readings (shown, not deciding): " + "; ".join(fmt_part(p) for p in rest) + "."
    if any(p.at_floor and p.cell is not None for p in parts):
        s += FLOOR_NOTE
    return s + f" {sens}"


def _holds(claim: str, parts: list[Part], v: str) -> str:
    heads = CLAIM_CELLS[claim][1]
    ok = [h for h in heads if all(p.outcome == "supports" for p in parts
                                  if p.dataset == PAPER_DATASET and p.part.startswith(h))]
    bad = [h for h in heads if h not in ok]
    if v == "refuted":
        return (f"on {PAPER_DATASET}, the pre-registered test goes against "
                + "; ".join(MEANING.get((claim, h), h) for h in bad[:1]) + ".")
    if v == "qualified":
        other = [p for p in parts if p.dataset != PAPER_DATASET and p.outcome == "opposes"]
        s = "holds on " + PAPER_DATASET + ": " + "; ".join(MEANING.get((claim, h), h) for h in ok)
        if bad:
            s += "; not: " + "; ".join(MEANING.get((claim, h), h) for h in bad)
        if other:
            s += "; reversed on " + ", ".join(sorted({f"{p.dataset} ({p.part})" for p in other}))
        return s + "."
    return ""


def _reading_number(parts: list[Part]) -> str:
    """A reading's deciding numbers: each part's effect, 95 % interval and outcome."""
    out = []
    for p in parts:
        c = p.cell
        out.append(f"{p.part}: not computable" if c is None else
                   f"{p.part} {_m(sig(c.effect))} [{_m(sig(c.ci[0]))}, {_m(sig(c.ci[1]))}], {c.outcome}")
    return "; ".join(out) or "no cell computed"


def ensemble_check(claim: str, result: EnsembleResult, *, second=None) -> Verdict:
    """The verdict on ``claim`` from the pre-registered rule (see module docstring).

    ``second``: a registered second reading shown beside the headline, ``(name, verdict,
    cells, evidence)`` (it never changes the headline verdict); the verdict then lists both
    readings, the headline as the paper's own."""
    v, sev, parts = claim_decision(result, claim)
    v_new, _, _ = claim_decision(result, claim, NEW_SEEDS)
    sens = f"Seeds 2-7 alone (trained after the registration): {v_new}."
    ev = _evidence(claim, parts, sens)
    missing = missing_runs(result)
    can_fail = CAN_FAIL
    kw: dict = {"can_fail": can_fail}
    if second is not None:
        name2, v2, cells2, ev2 = second
        heads = CLAIM_CELLS[claim][1]
        main = [p for p in parts if p.dataset == PAPER_DATASET and any(p.part.startswith(h) for h in heads)]
        ev += " " + ev2
        kw["readings"] = (
            Reading(f"the registered headline, RC's ViT (24 layers, 4 heads, {PAPER_DATASET}, 8 runs)", v,
                    _reading_number(main), papers_own=True),
            Reading(name2, v2, _reading_number(cells2)),
        )
    if missing:
        return verdict(claim, v, ev, holds=f"no verdict yet: {missing} of the {4 * REGISTERED_RUNS} registered "
                       "runs are not stored (`make train` trains them); the cells above are interim and decide "
                       "nothing.", **kw)
    if v == "inconclusive":
        return verdict(claim, v, ev, holds="undecided at this power: the smallest detectable effects are given "
                       "beside each cell; more runs per arm would decide.", **kw)
    return verdict(claim, v, ev, holds=_holds(claim, parts, v), severity=sev, **kw)


#: RC-DS's second reading, as PREREGISTRATION.md names it
SF_READING = ("Sinkformers' own MNIST setting (1 layer, 1 head, attention-only ViT, lr 2e-3, batch 10, "
              "30 epochs; Softmax runs; registered second reading, does not decide)")
#: the command that trains one run of it
SF_COMMAND = "python -m dsmlib.trained.train --setting sinkformers --normalisation softmax --seed S"


def rc_ds_second_reading(result: EnsembleResult):
    """RC-DS's second reading for :func:`ensemble_check`: ``(name, verdict, cells, evidence)``,
    or None (with the evidence sentence only) if none of its runs is stored."""
    got = rc_ds_sinkformers(result)
    if got is None:
        return None
    v2, _, cells = got
    runs = [m for m in result.sinkformers if m.seed in range(REGISTERED_RUNS)]
    acc = np.array([m.acc for m in runs])
    stored = (f"{len(runs)} of the {REGISTERED_RUNS} registered runs stored, so no verdict is drawn"
              if len(runs) < REGISTERED_RUNS else f"{len(runs)} runs")
    ev = (f"Second reading, {SF_READING} ({stored}; `{SF_COMMAND}`; test accuracy "
          f"{100 * acc.min():.1f}-{100 * acc.max():.1f} %, whole test split), one-sample tests over the "
          f"runs, in the same units: " + "; ".join(fmt_part(p) for p in cells)
          + f"; this reading alone: {v2}.")
    return SF_READING, v2, cells, ev


#: why every trained-model test can come out against its claim (PREREGISTRATION.md section 2)
CAN_FAIL = (
    "Each headline cell is a one-sided test over training runs (8 per arm) whose effect could have come out "
    "in the opposite direction (Welch and the exact permutation test both significant against the claim: "
    "refuted) or inside the equivalence margin of one pooled SD (TOST: refuted for a claimed difference); "
    "the flip tests in tests/test_ch06_trained_attention.py feed it such ensembles."
)


def _experiment() -> EnsembleResult:
    return ensemble_experiment()


def check_rc_f1(result: EnsembleResult) -> Verdict:
    """Sinkhorn-trained ViTs spread layer-1 attention more (Fig. 1)?"""
    return ensemble_check("RC-F1", result)


def check_rc_f3(result: EnsembleResult) -> Verdict:
    """Sinkhorn attention paths keep rank longer, plain and with skips (Fig. 3)?"""
    return ensemble_check("RC-F3", result)


def check_rc_mech(result: EnsembleResult) -> Verdict:
    """Skips amplify Sinkhorn's relative advantage (Sec. 4.1)?"""
    return ensemble_check("RC-MECH", result)


def check_rc_f4(result: EnsembleResult) -> Verdict:
    """Skips keep the outputs' rank; Softmax and Sinkhorn alike on images (Fig. 4)?"""
    return ensemble_check("RC-F4", result)


def check_rc_conv(result: EnsembleResult) -> Verdict:
    """50 half-steps are effectively doubly stochastic for the model's function (App. F)?"""
    return ensemble_check("RC-CONV", result)


def check_rc_ds(result: EnsembleResult) -> Verdict:
    """Trained Softmax attention tends towards double stochasticity (Sec. 1)? The headline on
    the registered ensemble; beside it, the registered second reading in Sinkformers' own
    MNIST setting (``result.sinkformers``) when its runs are stored."""
    second = rc_ds_second_reading(result)
    if second is None:
        v = ensemble_check("RC-DS", result)
        return dataclasses.replace(v, evidence=v.evidence + f" Second reading, {SF_READING}: no run stored "
                                   f"(`{SF_COMMAND}` trains one).")
    return ensemble_check("RC-DS", result, second=second)


def check_rc_gt(result: EnsembleResult) -> Verdict:
    """Trained paths decay faster than random products, doubly exponentially (App. G)?"""
    return ensemble_check("RC-GT", result)



#: the chapter's check table: claim id -> (experiment, check)
CHECKS = {
    "RC-F1": (_experiment, check_rc_f1),
    "RC-F3": (_experiment, check_rc_f3),
    "RC-MECH": (_experiment, check_rc_mech),
    "RC-F4": (_experiment, check_rc_f4),
    "RC-CONV": (_experiment, check_rc_conv),
    "RC-DS": (_experiment, check_rc_ds),
    "RC-GT": (_experiment, check_rc_gt),
}
