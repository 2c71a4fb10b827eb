"""The claims registry: claim id -> (experiment, check) -> computed verdict.

Data only, no views: every claim of ``shared/CLAIMS.md`` (and the book's own ``BK-``
results) in :data:`CLAIMS`, the verdict and severity vocabularies (from
:mod:`dsmlib.verdicts`), and where each chapter declares its checks. The import graph is
one-way::

    mechanisms <- experiments <- checks <- dsmlib.claims <- dsmlib.ledger_view, notebooks

A chapter's ``checks.py`` exports one explicit table, ``CHECKS = {claim id: (experiment,
check)}``; :data:`CHECK_MODULES` names that module per chapter (:data:`CHECK_MODULE_OF` for a
claim checked outside its chapter's package), and :func:`evaluate` imports only the module
that the id it is asked about needs -- nothing registers itself by being imported.

A check is a pure function of the experiment's result, so ``tests/`` can feed it a result
that must flip the verdict. ``python -m dsmlib.claims [ID ...] [--format tsv|json|markdown]``
prints the ledger (default: every claim, as ``id<TAB>verdict<TAB>evidence`` lines; claims
with no check print ``not-tested``).
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import json
import os
import sys
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Mapping

from .verdicts import COSMETIC_REL, SEVERITIES, STRICT_SEVERITY, VERDICTS, Verdict, severity, verdict

__all__ = [
    "BOOK_RESULTS",
    "CHECK_MODULES",
    "CHECK_MODULE_OF",
    "CLAIMS",
    "COSMETIC_REL",
    "SEVERITIES",
    "STRICT_SEVERITY",
    "VERDICTS",
    "Check",
    "CheckTable",
    "Claim",
    "Experiment",
    "Verdict",
    "all_checks",
    "check_entry",
    "check_for",
    "checks_module",
    "evaluate",
    "ledger",
    "main",
    "severity",
    "verdict",
]


@dataclass(frozen=True)
class Claim:
    """A statement of one of the two papers (or one of the book's own results).

    Attributes
    ----------
    id : str
        The id of ``CLAIMS.md`` (``HT-...`` or ``RC-...``, or ``BK-...``); its lower-case
        form is the label of the statement's directive in the book.
    statement : str
        The claim, paraphrased, in MyST with typeset maths.
    chapter : str or None
        Notebook (docname under ``chapters/``) that checks it; None if no chapter can.
    location : str
        Where the paper states it (``"Lemma 3"``, ``"App. C"``).
    """

    id: str
    statement: str
    chapter: str | None
    location: str = ""

    @property
    def paper(self) -> str:
        if self.id.startswith("BK-"):
            return "This book"
        return "The Homogeneity Trap" if self.id.startswith("HT-") else "Sinkhorn rank collapse"

    @property
    def label(self) -> str:
        return self.id.lower()


def _c(id_: str, location: str, statement: str, chapter: str | None) -> tuple[str, Claim]:
    return id_, Claim(id_, statement, chapter, location)


_PRE, _SQ, _SNR, _RES, _RANK, _TRAIN, _MHC = (
    "01_preliminaries",
    "02_sinkhorn_and_q",
    "03_snr_collapse",
    "04_residual_stagnation",
    "05_rank_decay",
    "06_trained_attention",
    "07_mhc",
)

#: every claim the book checks, in the order of ``CLAIMS.md``: (id, where in the paper,
#: the statement paraphrased in MyST with typeset maths, the chapter that checks it)
CLAIMS: dict[str, Claim] = dict(
    [
        _c("HT-A1", "Assumption 1", r"A primitive DSM has a unique eigenvalue 1, and $\sigma_1(M) = 1$", _PRE),
        _c("HT-C", "App. C", r"Over 1,000 Sinkhorn DSMs ($n = 64$), $\sigma_1 = 1.0000 \pm 10^{-7}$ in every trial", _PRE),
        _c("HT-R1", "Remark 1", r"$\mathbb{E}\lVert P_\perp\xi\rVert_2 = \nu\sqrt{(n-1)/n}$ for $\xi \sim \mathcal{N}(0, \nu^2 I/n)$", _PRE),
        _c("HT-L1", "Lemma 1", r"The normalised projected noise is uniform on the unit sphere of $\mathcal{V}_\perp$", _PRE),
        _c("HT-AA", "App. A", r"$P(\lvert\lVert g_k\rVert - \sqrt{k}\rvert \ge t) \le 2e^{-t^2/2}$, and its projected form", _PRE),
        _c("HT-L2", "Lemma 2", r"The operator norm of $M$ on $\mathcal{V}_\perp$ is exactly $\sigma_2(M)$", _PRE),
        _c("RC-E", "App. E", r"$\lVert A\rVert_2 \le \lVert A\rVert_{1,\infty}$, and $\lVert\cdot\rVert_{1,\infty}$ is not a norm", _PRE),
        _c("RC-PD", "Eq. 3", r"A multi-head multi-layer pure attention network equals its sum over paths", _PRE),
        _c("HT-ALG1", "Algorithm 1", r"Algorithm 1 ($K = 200$, tol $10^{-6}$) yields DSMs at every temperature studied", _SQ),
        _c("HT-E1", "Exp. 1, Fig. 1", r"$\sigma_2$ decreases monotonically with $T$ and with $H(M)$", _SQ),
        _c("HT-T2", "Theorem 2", r"The effective depth, the number of layers after which a detail signal has shrunk to a fraction $\epsilon$, is $D_\mathrm{eff}(\epsilon) \approx \ln(1/\epsilon) / (-\ln\sigma_2(M))$", _SQ),
        _c("HT-R2", "Remark 2", r"Sinkhorn DSMs are non-normal, yet $\lVert M^k\rVert \le \sigma_2^k$ on $\mathcal{V}_\perp$ holds for every power $k$ (no transient growth beyond it)", _SQ),
        _c("RC-SK", "App. A", r"A positive matrix has a unique DSM scaling $D_1 Y D_2$, reached by alternating normalisation", _SQ),
        _c("RC-SHIFT", "Eq. 19", r"Sinkhorn is invariant to adding row- or column-constant matrices", _SQ),
        _c("RC-P2", "Prop. 2", r"$Q$ is the orthogonal projection onto $\{H : H\mathbf 1 = 0,\ \mathbf 1^\top H = 0\}$; $Q(Y) = UYU$", _SQ),
        _c("RC-P3", "Prop. 3", r"$\lVert Q(Y)\rVert_2 \le \lVert Q(Y)\rVert_F \le \lambda\sqrt{\operatorname{rank} Y}\,\lVert Y\rVert_2$, $0 < \lambda \le 1$", _SQ),
        _c("RC-L1", "Lemma 1", r"Near the uniform matrix, $\mathrm{Sinkhorn}(tY) = J/n + (t/n^2)\,Q(Y) + o(t)$ as $t \to 0$", _SQ),
        _c("RC-F1", "Fig. 1", r"Sinkhorn attention spreads weight more uniformly than Softmax attention", _TRAIN),
        _c("RC-CONV", "App. F", r"Attention matrices are doubly stochastic to working precision after 50 Sinkhorn iterations", _TRAIN),
        _c("HT-L3", "Lemma 3", r"$\lVert a/\lVert a\rVert - b/\lVert b\rVert\rVert \le 4\lVert\delta\rVert/\lVert b\rVert$ when $\lVert\delta\rVert \le \lVert b\rVert/2$", _SNR),
        _c("HT-SNR", "Eq. 4", r"The spectral signal-to-noise ratio after one layer, $\gamma = \lVert s\rVert/\mathbb{E}\lVert P_\perp\xi\rVert$, is $\gamma \approx \sigma_2(M)\lVert x_\perp\rVert/\nu$", _SNR),
        _c("HT-LEVY", "Theorem 1, step 3", r"$P(\lvert\langle u, v\rangle\rvert \ge \epsilon) \le 2e^{-(n-2)\epsilon^2/2}$ on $\mathbb{S}^{n-2}$", _SNR),
        _c("HT-T1", "Theorem 1", r"For $\gamma \le 1/8$, the normalised outputs $u, v$ of two inputs satisfy $\lvert\langle u, v\rangle\rvert \le \epsilon + 8\gamma$ with probability $\ge 1 - \delta - 2e^{-n\epsilon^2/2}$", _SNR),
        _c("HT-E2", "Exp. 2, Fig. 2", r"For $\gamma < 0.1$ the output cosines collapse to a zero-mean Gaussian", _SNR),
        _c("HT-AFF", "Sec. 4.2, ablation", r"Affine LayerNorm ($\gamma_{LN}\hat y + \beta_{LN}$) cannot restore the signal direction lost when $\gamma \ll 1$: it scales signal and noise alike", _SNR),
        _c("HT-WEDIN", "App. B", r"Wedin's bound $\lVert\sin\Theta\rVert_2 \le \lVert E\rVert_2/\Delta$, with $\Delta$ the singular-value gap of the unperturbed noise matrix, bounds the signal's rotation and can replace Theorem 1's $8\gamma$", _SNR),
        _c("HT-P1", "Prop. 1", r"$x + \phi(Mx)$ with a high-entropy DSM $M$ and 1-Lipschitz $\phi$ stagnates at the identity", _RES),
        _c("HT-DEEP", "Intro, Sec. 4", r"High-entropy DSM networks are deep-but-shallow: the angular change of features stops growing with depth", _RES),
        _c("RC-SKIP", "Sec. 4.1", r"Skip connections shorten attention paths and slow rank decay", _RES),
        _c("RC-T1", "Theorem 1", r"$\lVert\mathrm{res}(SA_h(X))\rVert_2 \le \frac{\lambda\beta}{\sqrt{n^3 d_{qk}}}\lVert\mathrm{res}(X)\rVert_2^3$", _RANK),
        _c("RC-T2", "Theorem 2", r"For $H$ heads and $L$ layers, $\lVert\mathrm{res}(SAN(X))\rVert_2 \le \bigl(\frac{\lambda\beta H}{\sqrt{n^3 d_{qk}}}\bigr)^{(3^L-1)/2}\lVert\mathrm{res}(X)\rVert_2^{3^L}$: doubly exponential decay in depth", _RANK),
        _c("RC-G", "App. G, Fig. 5", r"Random Softmax and Sinkhorn products show the same rank decay, with or without skips", _RANK),
        _c("RC-EXP", "Sec. 3, App. G", r"Products of random stochastic matrices approach rank one exponentially, not doubly exponentially", _RANK),
        _c("RC-F3", "Fig. 3", r"In trained Transformers, Sinkhorn attention paths keep rank longer than Softmax, more so with skips", _TRAIN),
        _c("RC-F4", "Fig. 4", r"In trained Transformers (pure, +skip, +FF, full), skip connections keep the rank of the attention output across layers; on images Softmax and Sinkhorn behave alike (Sinkhorn is ahead only on text)", _TRAIN),
        _c("HT-RES", "Abstract, Sec. 4", r"Residual connections fail to mitigate the collapse", _RES),
        _c("HT-AGG", "Intro", r"DSM constraints filter detail more aggressively than row-stochastic Softmax mixing", _SQ),
        _c("HT-GRAD", "Intro", r"DSM constraints guarantee non-exploding gradients ($\lVert M\rVert_2 = 1$), the Sinkhorn projection included", _SQ),
        _c("HT-IRREV", "Conclusion", r"$\sigma_2$ suppression causes irreversible signal loss (an impossibility result)", _SNR),
        _c("HT-PF", "App. C", r"$\sigma_1(M) = 1$ follows from Perron–Frobenius for a primitive DSM", _PRE),
        _c("HT-T1P", "Theorem 1, proof", r"Theorem 1's proof as written yields its failure term $Ce^{-cn\epsilon^2}$ with $C = 2$, $c = 1/2$ and the exponent $n$", _SNR),
        _c("RC-P4", "Prop. 4, App. C", r"$(C\circ R)(tY) = J/n + (t/n^2)\,Q(Y) + o(t)$ for a column softmax after a row softmax", _SQ),
        _c("RC-T2S", "Sec. 3, Theorem 2", r"Pure self-attention collapses to rank one doubly exponentially in depth (cubic per layer)", _RANK),
        _c("RC-LAM", "Sec. 3", r"$\lambda\beta H/\sqrt{n^3 d_{qk}} < 1$ without additional assumptions, so the bound always decays", _RANK),
        _c("RC-T4", "App. D, Theorem 4", r"For one head and $L$ layers, $\lVert\mathrm{res}(SAN_h(X))\rVert_2 \le \bigl(\frac{\lambda\beta}{\sqrt{n^3 d_{qk}}}\bigr)^{(3^L-1)/2}\lVert\mathrm{res}(X)\rVert_2^{3^L}$", _RANK),
        _c("RC-T5", "App. D, Theorem 5", r"For $H$ heads and one layer, $\lVert\mathrm{res}(SA(X))\rVert_2 \le \frac{\lambda\beta H}{\sqrt{n^3 d_{qk}}}\lVert\mathrm{res}(X)\rVert_2^3$", _RANK),
        _c("RC-SKA", "App. A", r"Sinkhorn's theorem generalises to non-negative matrices (a scaling $D_1 Y D_2$)", _SQ),
        _c("RC-F2", "Fig. 2, Contribution 2", r"In a Transformer trained on text, Sinkhorn delays the collapse of attention paths", _TRAIN),
        _c("RC-DS", "Sec. 1", r"Trained Softmax attention tends towards a doubly stochastic matrix as training proceeds", _TRAIN),
        _c("RC-GT", "App. G", r"Trained attention paths decay faster than random products, doubly exponentially (cubic) in depth", _TRAIN),
        _c("RC-MECH", "Sec. 4.1", r"Because both maps are exponential, the rank that skips add amplifies Sinkhorn's advantage", _TRAIN),
        _c("HT-L2S", "Lemma 2, Assumption 1", r"For a primitive DSM the contraction on $\mathcal{V}_\perp$ is strict, $\sigma_2(M) < 1$, so every DSM layer filters detail", _PRE),
        _c("HT-VPERP", "Sec. 3.1", r"Since $M$ preserves the mean, the feature dynamics are confined to $\mathcal{V}_\perp$ (in blocks with a nonlinearity, skips and LayerNorm)", _RES),
        _c("HT-ACC", "Abstract", r"Strictly contractive DSM dynamics accelerate the decay of the detail component across layers", _RES),
        _c("HT-ESC", "Conclusion", r"Learnable scaling or non-DSM parameterisations escape the homogeneity trap", _SNR),
        _c("RC-MIX", "Sec. 2", r"Products of doubly stochastic matrices converge to $J/n$ (mixing): under which conditions, and at what rate per factor", _RANK),
        _c("RC-L1P", "Lemma 1, proof sketch", r"The sketch (Sinkhorn as a composition of column and row softmax operators, $Q^2 = Q$) yields Lemma 1's expansion", _SQ),
        _c("RC-T1P", "Theorem 1, proof", r"The proof (first-order approximations, Eqs. 7-8, turned into an inequality) yields a bound valid without a small-score hypothesis", _RANK),
        _c("RC-P3L", "Prop. 3, Theorems 1-2", r"$\lambda$ is a constant, $0 < \lambda \le 1$, independent of the matrix it bounds", _RANK),
        _c("RC-LOG", "App. A", r"Log-domain Sinkhorn converges to the same scaling as the plain iteration, because $\log$ and $\exp$ are bijective", _SQ),
        _c("RC-BETA", "Sec. 3", r"$\beta = \lVert W_Q W_K^\top\rVert_2 \lVert W_h\rVert_2$ is typically $O(1)$ at common initialisations", _RANK),
    ]
)

#: the book's own results, beyond both papers (checked and flipped like the papers' claims)
BOOK_RESULTS: dict[str, Claim] = dict(
    [
        _c("BK-SIG2T", "beyond the papers", r"For HT's Algorithm-1 matrices at high temperature, $\mathbb{E}\,\sigma_2 = \mathbb{E}\lVert Q(d)\rVert_2/(nT)\,(1 - 1/(120T^2) + \dots)$, with no $1/T$ correction, so $\sigma_2 \approx 1/(T\sqrt{3n})$ for large $n$", "08_sigma2_law"),
        _c("BK-MHCS2", "ch. 7", r"At each mHC recipe's initialisation, HT's bound $\sigma_2(H_k\cdots H_1) \le \prod_i \sigma_2(H_i)$ holds on the measured products of $H^{res}$ and decides whether the four streams are homogenised ($\sigma_2 < 10^{-3}$) or kept ($\ge 1/2$) after $2L = 48, 86, 122$ factors", _MHC),
        _c("BK-MHCLINE", "ch. 7", r"Keeping half the non-mean energy over $2L$ mixing factors needs a per-factor $\sigma_2 \ge 0.5^{1/(2L)}$ (about 1% off-diagonal mass per row or less); the reported learned $H^{res}$ (0.96 diagonal, 0.01 off) lie on the uniform side for $L = 24, 43, 61$", _MHC),
        _c("BK-MHCDS", "ch. 7", r"With its fixed iteration count, every Sinkhorn recipe of $H^{res}$ is doubly stochastic to $10^{-3}$ in float32 up to the logit range of a learned near-identity mixer, bfloat16 arithmetic leaves an error at bf16's rounding level, and mHC-lite is exact to rounding", _MHC),
        _c("BK-MHCGAIN", "ch. 7", r"The composite forward and backward Amax gain of 122 $H^{res}$ factors stays $\le 1.6$ in every recipe; $\epsilon$ alone contracts the composite by $(1+\epsilon)^{-122}$; with $\mathrm{comb}^\top$ applied after a last column step the truncation error sits on the backward side", _MHC),
        _c("BK-MHCNORM", "ch. 7", r"A per-stream RMSNorm or LayerNorm before each branch does not restore stream differences contracted by a product of $H^{res}$; a norm across streams rescales them but, under HT's noise, keeps their direction only while $\gamma$ is large", _MHC),
        _c("BK-MHCTRAIN", "ch. 7", r"The homogeneity trap bites trained mHC mixers: over 16 learned $H^{res}$ of a four-stream ViT, $\sigma_2$ of the product falls below $1/2$", "07b_mhc_trained"),
    ]
)
CLAIMS.update(BOOK_RESULTS)

#: a claim with no registered check says why; the default names the chapter that lacks it
_UNTESTABLE = {
    "RC-F2": (
        "needs a Transformer trained on a text data set (AG's News); no text classification set ships "
        "inside a registry package and nothing can be downloaded on the book's machines. A reader with AG "
        "News's standard CSV files runs `make train-agnews AGNEWS_DIR=/path/to/ag_news` (the paper's encoder: "
        "24 layers, d_model 128, 4 heads, max pooling), which trains both attentions and prints the same path "
        "analysis and pre-registered test"
    ),
}


Experiment = Callable[[], Any]
Check = Callable[[Any], Verdict]
#: what a chapter's ``checks.py`` exports as ``CHECKS``: claim id -> (experiment, check)
CheckTable = Mapping[str, tuple[Experiment, Check]]

#: the module whose ``CHECKS`` table answers each chapter's claims
CHECK_MODULES: dict[str, str] = {
    _PRE: "dsmlib.experiments.ch01_preliminaries.checks",
    _SQ: "dsmlib.experiments.ch02_sinkhorn_q.checks",
    _SNR: "dsmlib.experiments.ch03_snr_collapse.checks",
    _RES: "dsmlib.experiments.ch04_residual.checks",
    _RANK: "dsmlib.experiments.ch05_rank_decay.checks",
    _TRAIN: "dsmlib.experiments.ch06_trained_attention.checks",
    _MHC: "dsmlib.experiments.ch07_mhc.checks",
}

#: claims checked outside their chapter's package (the book's own results)
CHECK_MODULE_OF: dict[str, str] = {
    "BK-SIG2T": "dsmlib.experiments.bk_sigma2_law.checks",
    "BK-MHCTRAIN": "dsmlib.experiments.ch07_mhc.trained",
}

_TABLES: dict[str, dict[str, tuple[Experiment, Check]]] = {}


def _known(claim_id: str) -> None:
    if claim_id not in CLAIMS:
        raise ValueError(f"claim_id {claim_id!r} is not in the claims list")


def checks_module(claim_id: str) -> str | None:
    """Dotted path of the module whose ``CHECKS`` table may hold ``claim_id``'s check (no import)."""
    _known(claim_id)
    if claim_id in CHECK_MODULE_OF:
        return CHECK_MODULE_OF[claim_id]
    chapter = CLAIMS[claim_id].chapter
    return CHECK_MODULES.get(chapter) if chapter else None


def _table(module: str) -> dict[str, tuple[Experiment, Check]]:
    """Import ``module`` and validate its ``CHECKS``: known ids routed to this module, callables."""
    if module not in _TABLES:
        table = getattr(importlib.import_module(module), "CHECKS", None)
        if not isinstance(table, Mapping):
            raise ValueError(f"{module} exports no CHECKS table (claim id -> (experiment, check))")
        for cid, entry in table.items():
            _known(cid)
            if checks_module(cid) != module:
                raise ValueError(f"{module} declares a check for {cid}, which the registry routes to {checks_module(cid)}")
            if not (isinstance(entry, tuple) and len(entry) == 2 and all(map(callable, entry))):
                raise ValueError(f"{module}: CHECKS[{cid!r}] must be an (experiment, check) pair of callables")
        _TABLES[module] = dict(table)
    return _TABLES[module]


def check_entry(claim_id: str) -> tuple[Experiment, Check] | None:
    """The (experiment, check) pair of ``claim_id``, importing only its checks module; None if none."""
    module = checks_module(claim_id)
    return _table(module).get(claim_id) if module else None


def check_for(claim_id: str) -> Check | None:
    """The check of ``claim_id`` (None if the claim has no check yet)."""
    entry = check_entry(claim_id)
    return entry[1] if entry else None


def all_checks() -> dict[str, tuple[Experiment, Check]]:
    """Every declared check, in the order of :data:`CLAIMS` (imports every checks module)."""
    out = {}
    for cid in CLAIMS:
        entry = check_entry(cid)
        if entry:
            out[cid] = entry
    return out


def evaluate(claim_id: str, result: Any = None) -> Verdict:
    """Verdict on ``claim_id``: run its experiment (disk-cached) unless ``result`` is given.

    Parameters
    ----------
    claim_id : str
        A key of :data:`CLAIMS`.
    result : object, optional
        The experiment's result to check instead of running the experiment (flip tests).

    Returns
    -------
    Verdict
        ``not-tested`` (with the reason) if no chapter declares a check for the claim.

    Raises
    ------
    ValueError
        If ``claim_id`` is unknown, or its check answers for another claim.
    """
    entry = check_entry(claim_id)
    if entry is None:
        claim = CLAIMS[claim_id]
        why = _UNTESTABLE.get(claim_id) or f"chapter {claim.chapter} has no check for it yet"
        return Verdict(claim_id, "not-tested", why)
    experiment, check = entry
    v = check(experiment() if result is None else result)
    if v.claim_id != claim_id:
        raise ValueError(f"the check declared for {claim_id} returned a verdict on {v.claim_id}")
    return v


def ledger(ids: Iterable[str] | None = None) -> list[Verdict]:
    """Verdicts on ``ids`` (default: every claim, in the order of ``CLAIMS.md``).

    Claims answered by the same experiment share one run of it within the call (e.g. chapter
    6's eight trained-model claims: one ensemble, its weights verified once, not eight times);
    each verdict is the one :func:`evaluate` gives."""
    return list(_verdicts(ids))


def _verdicts(ids: Iterable[str] | None) -> Iterator[Verdict]:
    results: dict[Experiment, Any] = {}  # this call's experiment results, by experiment
    for cid in CLAIMS if ids is None else ids:
        entry = check_entry(cid)
        if entry is None:
            yield evaluate(cid)
            continue
        experiment = entry[0]
        if experiment not in results:
            results[experiment] = experiment()
        yield evaluate(cid, results[experiment])


# ---- the command line ---------------------------------------------------------------------

_FORMATS = ("tsv", "json", "markdown")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m dsmlib.claims",
        description=(
            "Compute the book's verdicts on the claims of HT and RC (and the book's own BK- results). "
            "Experiments are disk-cached in .cache/dsmlib/."
        ),
        epilog="tsv prints one line per claim: id<TAB>verdict<TAB>evidence (severity and 'holds' inside the evidence).",
    )
    p.add_argument("ids", nargs="*", metavar="ID", help="claim ids to evaluate (default: all), e.g. HT-L1 RC-T1")
    p.add_argument("--format", choices=_FORMATS, default="tsv", help="output format (default: tsv)")
    return p


def _as_dict(v: Verdict) -> dict[str, Any]:
    c = CLAIMS[v.claim_id]
    return {
        "id": v.claim_id,
        "verdict": v.verdict,
        "severity": v.severity,
        "evidence": v.evidence,
        "holds": v.holds,
        "readings": [r.text() for r in v.readings],
        "can_fail": v.can_fail,
        "paper": c.paper,
        "location": c.location,
        "statement": c.statement,
        "chapter": c.chapter or "",
    }


def _md_cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", r"\|")


def _write_lines(ids: list[str] | None, fmt: str, out: Any) -> None:
    if fmt == "tsv":  # streamed: a line as soon as its verdict is known
        for v in _verdicts(ids):
            out.write(v.line() + "\n")
            out.flush()
    elif fmt == "json":
        json.dump([_as_dict(v) for v in _verdicts(ids)], out, ensure_ascii=False, indent=1)
        out.write("\n")
    else:
        out.write("| id | verdict | severity | statement | evidence |\n| --- | --- | --- | --- | --- |\n")
        for v in _verdicts(ids):
            row = (v.claim_id, v.verdict, v.severity, CLAIMS[v.claim_id].statement, v.evidence)
            out.write("| " + " | ".join(_md_cell(x) for x in row) + " |\n")
            out.flush()


def main(argv: list[str] | None = None) -> int:
    """``python -m dsmlib.claims [ID ...] [--format tsv|json|markdown]``.

    Unknown ids or options exit with status 2 before anything is computed; a reader that
    closes the pipe early (``| head``) ends the command quietly (status 141, as a shell tool
    killed by SIGPIPE).
    """
    parser = _parser()
    args = parser.parse_args(argv)
    unknown = [i for i in args.ids if i not in CLAIMS]
    if unknown:
        hints = []
        for u in unknown:
            close = difflib.get_close_matches(u.upper(), list(CLAIMS), n=3)
            hints.append(f"{u!r}" + (f" (did you mean {', '.join(close)}?)" if close else ""))
        parser.error("unknown claim id: " + ", ".join(hints) + "; the ids are listed in shared/CLAIMS.md")
    ids = list(args.ids) or None
    try:
        _write_lines(ids, args.format, sys.stdout)
        sys.stdout.flush()
    except BrokenPipeError:
        # the reader went away: silence the interpreter's final flush of stdout and stop
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    return 0


if __name__ == "__main__":  # run through the package module so the registry is shared
    from dsmlib.claims import main as _main

    sys.exit(_main())
