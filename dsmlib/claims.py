"""The claims ledger: claim id -> experiment -> check -> computed verdict.

Every claim of ``shared/CLAIMS.md`` has an entry in :data:`CLAIMS`. A chapter module in
:mod:`dsmlib.experiments` attaches a *check* to a claim with :func:`register`::

    @register("HT-R1", experiment=noise_norm_experiment)
    def _check_r1(result) -> Verdict:
        ...
        return verdict("HT-R1", "refuted" if ... else "confirmed", evidence=..., holds=...)

A check is a pure function of the experiment's result, so ``tests/`` can feed it a
result that must flip the verdict. ``python -m dsmlib.claims`` prints the whole ledger as
``id<TAB>verdict<TAB>evidence`` lines; claims with no check print ``not-tested``.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from dataclasses import dataclass
from typing import Any, Callable

__all__ = [
    "CLAIMS",
    "SEVERITIES",
    "VERDICTS",
    "Claim",
    "Verdict",
    "evaluate",
    "ledger",
    "ledger_markdown",
    "register",
    "severity",
    "show",
    "verdict",
]

VERDICTS = ("confirmed", "qualified", "refuted", "not-tested")

#: how much a refuted or qualified verdict matters, mildest first:
#: ``cosmetic`` -- a constant or value off by less than a few percent, no conclusion changes;
#: ``constant`` -- a bound or coefficient wrong by a factor, the conclusion's shape survives;
#: ``scope`` -- holds only under conditions the paper does not state;
#: ``conclusion`` -- the claimed behaviour does not hold as stated.
SEVERITIES = ("cosmetic", "constant", "scope", "conclusion")

#: relative error below which a wrong constant or value counts as ``cosmetic``
COSMETIC_REL = 0.05


def severity(*, conclusion_holds: bool, conditional: bool = False, factor: float | None = None) -> str:
    """Classify how much a refuted or qualified verdict matters, from measured quantities.

    Parameters
    ----------
    conclusion_holds : bool
        Whether the behaviour the paper concludes (a decay, a collapse, an ordering) is
        observed in the computation.
    conditional : bool
        Whether it holds only under a condition the paper does not state (a temperature
        range, a regime, a sign).
    factor : float, optional
        Measured ratio of the correct constant or value to the paper's. ``|factor - 1| <
        COSMETIC_REL`` makes a wrong constant ``cosmetic``, anything further ``constant``.

    Returns
    -------
    str
        One of :data:`SEVERITIES`: ``conclusion`` if the conclusion fails, else ``scope``
        if ``conditional``, else ``cosmetic`` or ``constant`` from ``factor`` (``constant``
        when no factor is given).
    """
    if not conclusion_holds:
        return "conclusion"
    if conditional:
        return "scope"
    if factor is not None and abs(float(factor) - 1.0) < COSMETIC_REL:
        return "cosmetic"
    return "constant"


@dataclass(frozen=True)
class Claim:
    """A statement of one of the two papers.

    Attributes
    ----------
    id : str
        The id of ``CLAIMS.md`` (``HT-...`` or ``RC-...``); its lower-case form is the
        label of the statement's directive in the book.
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


@dataclass(frozen=True)
class Verdict:
    """A computed verdict on one claim.

    Attributes
    ----------
    claim_id : str
    verdict : {'confirmed', 'qualified', 'refuted', 'not-tested'}
    evidence : str
        One or two sentences with the measured numbers.
    holds : str
        For ``qualified``/``refuted``: the exact form that the computation supports.
    severity : str
        For ``qualified``/``refuted``: one of :data:`SEVERITIES`, computed by the check
        (see :func:`severity`); empty for ``confirmed`` and ``not-tested``.
    """

    claim_id: str
    verdict: str
    evidence: str
    holds: str = ""
    severity: str = ""

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")
        if self.claim_id not in CLAIMS:
            raise ValueError(f"claim_id {self.claim_id!r} is not in the claims list")
        if self.severity and self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, got {self.severity!r}")
        if self.verdict in ("refuted", "qualified") and not self.severity and STRICT_SEVERITY:
            raise ValueError(f"a {self.verdict} verdict on {self.claim_id} needs a severity")
        if self.verdict in ("confirmed", "not-tested") and self.severity:
            raise ValueError(f"a {self.verdict} verdict takes no severity, got {self.severity!r}")

    def line(self) -> str:
        """The ledger line ``id<TAB>verdict<TAB>evidence`` (evidence on one line)."""
        ev = " ".join(self.evidence.split())
        if self.severity:
            ev = f"[severity: {self.severity}] " + ev
        if self.holds:
            ev += " | holds: " + " ".join(self.holds.split())
        return f"{self.claim_id}\t{self.verdict}\t{ev}"

    def __str__(self) -> str:
        return self.line().replace("\t", "  ")

    def _repr_markdown_(self) -> str:
        from .ledger_view import verdict_markdown

        return verdict_markdown(self)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:  # IPython text/plain
        p.text(str(self))


def _c(id_: str, location: str, statement: str, chapter: str | None) -> tuple[str, Claim]:
    return id_, Claim(id_, statement, chapter, location)


_PRE, _SQ, _SNR, _RES, _RANK, _TRAIN = (
    "01_preliminaries",
    "02_sinkhorn_and_q",
    "03_snr_collapse",
    "04_residual_stagnation",
    "05_rank_decay",
    "06_trained_attention",
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
        _c("HT-T2", "Theorem 2", r"$D_\mathrm{eff}(\epsilon) \approx \ln(1/\epsilon) / (-\ln\sigma_2)$", _SQ),
        _c("HT-R2", "Remark 2", r"Sinkhorn DSMs are non-normal; $\lVert M^k\rVert \le \sigma_2^k$ on $\mathcal{V}_\perp$", _SQ),
        _c("RC-SK", "App. A", r"A positive matrix has a unique DSM scaling $D_1 Y D_2$, reached by alternating normalisation", _SQ),
        _c("RC-SHIFT", "Eq. 19", r"Sinkhorn is invariant to adding row- or column-constant matrices", _SQ),
        _c("RC-P2", "Prop. 2", r"$Q$ is the orthogonal projection onto $\{H : H\mathbf 1 = 0,\ \mathbf 1^\top H = 0\}$; $Q(Y) = UYU$", _SQ),
        _c("RC-P3", "Prop. 3", r"$\lVert Q(Y)\rVert_2 \le \lVert Q(Y)\rVert_F \le \lambda\sqrt{\operatorname{rank} Y}\,\lVert Y\rVert_2$, $0 < \lambda \le 1$", _SQ),
        _c("RC-L1", "Lemma 1", r"$\mathrm{Sinkhorn}(tY) = J/n + (t/n^2)\,Q(Y) + o(t)$", _SQ),
        _c("RC-F1", "Fig. 1", r"Sinkhorn attention spreads weight more uniformly than Softmax attention", _TRAIN),
        _c("RC-CONV", "App. F", r"Attention is effectively doubly stochastic after 50 Sinkhorn iterations", _TRAIN),
        _c("HT-L3", "Lemma 3", r"$\lVert a/\lVert a\rVert - b/\lVert b\rVert\rVert \le 4\lVert\delta\rVert/\lVert b\rVert$ when $\lVert\delta\rVert \le \lVert b\rVert/2$", _SNR),
        _c("HT-SNR", "Eq. 4", r"$\gamma \approx \sigma_2\lVert x_\perp\rVert/\nu$", _SNR),
        _c("HT-LEVY", "Theorem 1, step 3", r"$P(\lvert\langle u, v\rangle\rvert \ge \epsilon) \le 2e^{-(n-2)\epsilon^2/2}$ on $\mathbb{S}^{n-2}$", _SNR),
        _c("HT-T1", "Theorem 1", r"For $\gamma \le 1/8$, $\lvert\langle u, v\rangle\rvert \le \epsilon + 8\gamma$ w.p. $\ge 1 - \delta - 2e^{-n\epsilon^2/2}$", _SNR),
        _c("HT-E2", "Exp. 2, Fig. 2", r"For $\gamma < 0.1$ the output cosines collapse to a zero-mean Gaussian", _SNR),
        _c("HT-AFF", "Sec. 4.2, ablation", r"Affine LayerNorm cannot restore the lost direction", _SNR),
        _c("HT-WEDIN", "App. B", r"Wedin's $\sin\Theta$ bound, applied as the paper suggests", _SNR),
        _c("HT-P1", "Prop. 1", r"$x + \phi(Mx)$ with a high-entropy DSM $M$ and 1-Lipschitz $\phi$ stagnates at the identity", _RES),
        _c("HT-DEEP", "Intro, Sec. 4", r"High-entropy DSM networks are deep-but-shallow: the angular change of features stops growing with depth", _RES),
        _c("RC-SKIP", "Sec. 4.1", r"Skip connections shorten attention paths and slow rank decay", _RES),
        _c("RC-T1", "Theorem 1", r"$\lVert\mathrm{res}(SA_h(X))\rVert_2 \le \frac{\lambda\beta}{\sqrt{n^3 d_{qk}}}\lVert\mathrm{res}(X)\rVert_2^3$", _RANK),
        _c("RC-T2", "Theorem 2", r"The multi-head multi-layer bound decays doubly exponentially in depth", _RANK),
        _c("RC-G", "App. G, Fig. 5", r"Random Softmax and Sinkhorn products show the same rank decay, with or without skips", _RANK),
        _c("RC-EXP", "Sec. 3, App. G", r"Products of random stochastic matrices approach rank one exponentially, not doubly exponentially", _RANK),
        _c("RC-F3", "Fig. 3", r"In trained Transformers, Sinkhorn attention paths keep rank longer than Softmax, more so with skips", _TRAIN),
        _c("RC-F4", "Fig. 4", r"Rank of the attention output across layers in four settings (pure, +skip, +FF, full)", _TRAIN),
        _c("HT-RES", "Abstract, Sec. 4", r"Residual connections fail to mitigate the collapse", _RES),
        _c("HT-AGG", "Intro", r"DSM constraints filter detail more aggressively than row-stochastic Softmax mixing", _SQ),
        _c("HT-GRAD", "Intro", r"DSM constraints guarantee non-exploding gradients ($\lVert M\rVert_2 = 1$), the Sinkhorn projection included", _SQ),
        _c("HT-IRREV", "Conclusion", r"$\sigma_2$ suppression causes irreversible signal loss (an impossibility result)", _SNR),
        _c("HT-PF", "App. C", r"$\sigma_1(M) = 1$ follows from Perron–Frobenius for a primitive DSM", _PRE),
        _c("HT-T1P", "Theorem 1, proof", r"The proof as written yields the constants $C = 2$, $c = 1/2$ and the exponent $n$", _SNR),
        _c("RC-P4", "Prop. 4, App. C", r"$(C\circ R)(tY) = J/n + (t/n^2)\,Q(Y) + o(t)$ for a column softmax after a row softmax", _SQ),
        _c("RC-T2S", "Sec. 3, Theorem 2", r"Pure self-attention collapses to rank one doubly exponentially in depth (cubic per layer)", _RANK),
        _c("RC-LAM", "Sec. 3", r"$\lambda\beta H/\sqrt{n^3 d_{qk}} < 1$ without additional assumptions, so the bound always decays", _RANK),
        _c("RC-T4", "App. D, Theorem 4", r"The single-head multi-layer bound", _RANK),
        _c("RC-T5", "App. D, Theorem 5", r"The multi-head single-layer bound", _RANK),
        _c("RC-SKA", "App. A", r"Sinkhorn's theorem generalises to non-negative matrices (a scaling $D_1 Y D_2$)", _SQ),
        _c("RC-F2", "Fig. 2, Contribution 2", r"In a Transformer trained on text, Sinkhorn delays the collapse of attention paths", _TRAIN),
        _c("RC-DS", "Sec. 1", r"Trained Softmax attention tends towards a doubly stochastic matrix as training proceeds", _TRAIN),
        _c("RC-GT", "App. G", r"Trained attention paths decay faster than random products, doubly exponentially (cubic) in depth", _TRAIN),
        _c("RC-MECH", "Sec. 4.1", r"Because both maps are exponential, the rank that skips add amplifies Sinkhorn's advantage", _TRAIN),
    ]
)

#: the book's own results, beyond both papers (checked and flipped like the papers' claims)
BOOK_RESULTS: dict[str, Claim] = dict(
    [
        _c("BK-SIG2T", "ch. 2", r"High-temperature law of $\sigma_2$ for HT's Algorithm-1 matrices, from the corrected expansion", _SQ),
    ]
)
CLAIMS.update(BOOK_RESULTS)

#: a claim with no registered check says why; the default names the chapter that lacks it
_UNTESTABLE = {
    "RC-F2": (
        "needs a Transformer trained on a text data set (AG's News); no text classification set ships "
        "inside a registry package and nothing can be downloaded on the book's machines"
    ),
}

#: every refuted or qualified verdict must carry a computed severity (a check that forgets
#: one fails loudly instead of showing an unclassified error)
STRICT_SEVERITY = True

Check = Callable[[Any], Verdict]
_REGISTRY: dict[str, tuple[Callable[[], Any], Check]] = {}


def register(claim_id: str, *, experiment: Callable[[], Any]) -> Callable[[Check], Check]:
    """Attach ``check`` (decorated) and the ``experiment`` whose result it reads to ``claim_id``."""
    if claim_id not in CLAIMS:
        raise ValueError(f"claim_id {claim_id!r} is not in the claims list")

    def deco(check: Check) -> Check:
        _REGISTRY[claim_id] = (experiment, check)
        return check

    return deco


def verdict(claim_id: str, verdict: str, evidence: str, holds: str = "", severity: str = "") -> Verdict:
    """Shorthand constructor used by the checks (``severity`` for refuted/qualified only)."""
    return Verdict(claim_id, verdict, evidence, holds, severity)


def _load_checks() -> None:
    """Import every chapter module of :mod:`dsmlib.experiments` (they register checks)."""
    from . import experiments

    for mod in pkgutil.iter_modules(experiments.__path__):
        importlib.import_module(f"{experiments.__name__}.{mod.name}")


def check_for(claim_id: str) -> Check | None:
    """The registered check of ``claim_id`` (None if the claim has no check yet)."""
    _load_checks()
    entry = _REGISTRY.get(claim_id)
    return entry[1] if entry else None


def evaluate(claim_id: str, result: Any = None) -> Verdict:
    """Verdict on ``claim_id``: run its experiment (disk-cached) unless ``result`` is given."""
    if claim_id not in CLAIMS:
        raise ValueError(f"claim_id {claim_id!r} is not in the claims list")
    _load_checks()
    if claim_id not in _REGISTRY:
        claim = CLAIMS[claim_id]
        why = _UNTESTABLE.get(claim_id) or f"chapter {claim.chapter} has no check for it yet"
        return Verdict(claim_id, "not-tested", why)
    experiment, check = _REGISTRY[claim_id]
    return check(experiment() if result is None else result)


def show(claim_id: str, result: Any = None) -> Verdict:
    """Alias of :func:`evaluate` for notebooks: the returned Verdict renders as Markdown."""
    return evaluate(claim_id, result)


def ledger() -> list[Verdict]:
    """Verdicts on every claim, in the order of ``CLAIMS.md``."""
    return [evaluate(cid) for cid in CLAIMS]


def ledger_markdown(verdicts: list[Verdict] | None = None, *, link: bool = True) -> str:
    """The ledger as one MyST table (see :func:`dsmlib.ledger_view.ledger_markdown`)."""
    from .ledger_view import ledger_markdown as _table

    return _table(verdicts, link=link)


def main(argv: list[str] | None = None) -> int:
    """Print ``id<TAB>verdict<TAB>evidence`` for every claim."""
    for v in ledger():
        print(v.line())
    return 0


if __name__ == "__main__":  # run through the package module so the registry is shared
    from dsmlib.claims import main as _main

    sys.exit(_main())
