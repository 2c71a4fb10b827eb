"""Verdicts: the vocabulary a check answers in, and the value it returns.

The lowest layer of the ledger. A chapter's ``checks.py`` imports :class:`Verdict`,
:func:`verdict` and :func:`severity` from here; the registry (:mod:`dsmlib.claims`) and the
views (:mod:`dsmlib.ledger_view`) import it too, never the reverse::

    mechanisms <- experiments <- checks <- dsmlib.claims (registry) <- dsmlib.ledger_view, notebooks
                                  \\______ dsmlib.verdicts (this module) ______/

Which ids exist is the registry's business: a :class:`Verdict` checks the *form* of its
``claim_id`` (``HT-``, ``RC-`` or ``BK-`` and an upper-case tag), and
:func:`dsmlib.claims.evaluate` checks that the verdict a check returns is about the id it
was asked for.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

__all__ = [
    "COSMETIC_REL",
    "PARTS",
    "Reading",
    "SEVERITIES",
    "STRICT_SEVERITY",
    "VERDICTS",
    "Verdict",
    "claim_ref",
    "severity",
    "verdict",
]

#: ``inconclusive``: a test was run at a stated power and decides neither way (never "refuted"
#: for want of evidence)
VERDICTS = ("confirmed", "qualified", "refuted", "inconclusive", "not-tested")

#: how much a refuted or qualified verdict matters, mildest first:
#: ``cosmetic`` -- a constant or value off by less than a few percent, no conclusion changes;
#: ``proof`` -- the statement holds (or holds as corrected) but the paper's argument does not
#: establish it;
#: ``constant`` -- a bound or coefficient wrong by a factor, the conclusion's shape survives;
#: ``scope`` -- holds only under conditions the paper does not state;
#: ``conclusion`` -- the claimed behaviour does not hold as stated.
SEVERITIES = ("cosmetic", "proof", "constant", "scope", "conclusion")

#: relative error below which a wrong constant or value counts as ``cosmetic``
COSMETIC_REL = 0.05

#: every refuted or qualified verdict must carry a computed severity (a check that forgets
#: one fails loudly instead of showing an unclassified error)
STRICT_SEVERITY = True

#: the form of a claim id: the paper (HT, RC) or the book (BK), a dash, an upper-case tag
CLAIM_ID = re.compile(r"(?:HT|RC|BK)-[A-Z0-9]+")


#: which part of a statement a refuted/qualified verdict finds wrong (CLAIMS.md's rule):
#: ``value``/``constant`` -- a number or coefficient (``cosmetic`` below :data:`COSMETIC_REL`,
#: else ``constant``); ``scope`` -- holds only under an unstated condition; ``reasoning`` -- the
#: paper's argument does not establish it (``proof``); ``conclusion`` -- the behaviour fails.
PARTS = ("value", "constant", "scope", "reasoning", "conclusion")


def severity(
    *,
    part: str | None = None,
    conclusion_holds: bool = True,
    conditional: bool = False,
    factor: float | None = None,
) -> str:
    """Classify a refuted or qualified verdict by *which part* of the statement fails.

    Parameters
    ----------
    part : {'value', 'constant', 'scope', 'reasoning', 'conclusion'}, optional
        The failing part, named by the check (preferred). ``value``/``constant`` use
        ``factor``: ``cosmetic`` if ``|factor - 1| < COSMETIC_REL``, else ``constant``;
        ``reasoning`` gives ``proof``; ``scope`` and ``conclusion`` map to themselves.
    conclusion_holds : bool
        (Without ``part``.) Whether the behaviour the paper concludes is observed.
    conditional : bool
        (Without ``part``.) Whether it holds only under a condition the paper does not state.
    factor : float, optional
        Measured ratio of the correct constant or value to the paper's.

    Returns
    -------
    str
        One of :data:`SEVERITIES`.

    Raises
    ------
    ValueError
        If ``part`` is not one of :data:`PARTS`, or ``factor`` is not finite.

    Examples
    --------
    >>> severity(part="reasoning")
    'proof'
    >>> severity(part="constant", factor=1.02)
    'cosmetic'
    >>> severity(conclusion_holds=True, conditional=True)
    'scope'
    """
    if factor is not None and not math.isfinite(float(factor)):
        raise ValueError(f"factor must be finite, got {factor!r}")
    if part is not None:
        if part not in PARTS:
            raise ValueError(f"part must be one of {PARTS}, got {part!r}")
        if part in ("value", "constant"):
            if factor is not None and abs(float(factor) - 1.0) < COSMETIC_REL:
                return "cosmetic"
            return "constant"
        return {"scope": "scope", "reasoning": "proof", "conclusion": "conclusion"}[part]
    if not conclusion_holds:
        return "conclusion"
    if conditional:
        return "scope"
    if factor is not None and abs(float(factor) - 1.0) < COSMETIC_REL:
        return "cosmetic"
    return "constant"


@dataclass(frozen=True)
class Reading:
    """One reading of a statement and what the computation says under it.

    Attributes
    ----------
    name : str
        The reading, self-contained (e.g. "skip around HT's Sec. 3.2 block, x + LN(Mx + xi)").
    verdict : str
        One of :data:`VERDICTS` except ``not-tested``: the verdict under this reading alone.
    number : str
        The one number that decides it, with its uncertainty where there is one.
    papers_own : bool
        Whether this is the reading the paper's own setup supports (the headline follows it).
    """

    name: str
    verdict: str
    number: str
    papers_own: bool = False

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS or self.verdict == "not-tested":
            raise ValueError(f"a reading's verdict must be one of {VERDICTS[:-1]}, got {self.verdict!r}")
        if not self.name.strip() or not self.number.strip():
            raise ValueError("a reading needs a name and its deciding number")

    def text(self) -> str:
        """``name: verdict (number)``, marking the paper's own reading."""
        own = " [paper's own]" if self.papers_own else ""
        return f"{self.name}{own}: {self.verdict} ({self.number})"


@dataclass(frozen=True)
class Verdict:
    """A computed verdict on one claim.

    Attributes
    ----------
    claim_id : str
        A claim id of the form ``HT-...``, ``RC-...`` or ``BK-...`` (the registry checks
        that it exists).
    verdict : {'confirmed', 'qualified', 'refuted', 'inconclusive', 'not-tested'}
    evidence : str
        One or two sentences with the measured numbers.
    holds : str
        For ``qualified``/``refuted``: the exact form that the computation supports.
    severity : str
        For ``qualified``/``refuted``: one of :data:`SEVERITIES`, computed by the check
        (see :func:`severity`); empty for ``confirmed``, ``inconclusive`` and ``not-tested``.
    readings : tuple of Reading
        Where the text allows several readings: each with its own verdict and number; exactly
        one is the paper's own, and the headline ``verdict`` must equal its verdict.
    can_fail : str
        Why the check's test could have come out against the claim (what result would have
        flipped it). A test that cannot fail is not evidence (CLAIMS.md).

    Notes
    -----
    A Verdict prints as its ledger line; the coloured component of the book is a view,
    :func:`dsmlib.ledger_view.show` (this low module imports no view).
    """

    claim_id: str
    verdict: str
    evidence: str
    holds: str = ""
    severity: str = ""
    readings: tuple[Reading, ...] = ()
    can_fail: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "readings", tuple(self.readings))
        for r in self.readings:
            if not isinstance(r, Reading):
                raise ValueError(f"readings must be Reading objects, got {type(r).__name__}")
        if self.readings:
            own = [r for r in self.readings if r.papers_own]
            if len(own) != 1:
                raise ValueError(f"{self.claim_id}: exactly one reading must be the paper's own, got {len(own)}")
            if self.verdict != own[0].verdict:
                raise ValueError(
                    f"{self.claim_id}: the headline verdict {self.verdict!r} must follow the paper's own "
                    f"reading ({own[0].name!r}: {own[0].verdict!r})")
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")
        if not isinstance(self.claim_id, str) or not CLAIM_ID.fullmatch(self.claim_id):
            raise ValueError(f"claim_id {self.claim_id!r} is not in the claims list (not of the form HT-/RC-/BK-...)")
        if self.severity and self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, got {self.severity!r}")
        if self.verdict in ("refuted", "qualified") and not self.severity and STRICT_SEVERITY:
            raise ValueError(f"a {self.verdict} verdict on {self.claim_id} needs a severity")
        if self.verdict in ("confirmed", "inconclusive", "not-tested") and self.severity:
            raise ValueError(f"a {self.verdict} verdict takes no severity, got {self.severity!r}")

    @property
    def own_number(self) -> str | None:
        """The deciding number of the paper's own reading (None for a verdict without readings)."""
        own = [r for r in self.readings if r.papers_own]
        return own[0].number if own else None

    def line(self) -> str:
        """The ledger line ``id<TAB>verdict<TAB>evidence`` (evidence on one line)."""
        ev = " ".join(self.evidence.split())
        if self.severity:
            ev = f"[severity: {self.severity}] " + ev
        if self.holds:
            ev += " | holds: " + " ".join(self.holds.split())
        if self.readings:
            ev += " | readings: " + "; ".join(" ".join(r.text().split()) for r in self.readings)
        return f"{self.claim_id}\t{self.verdict}\t{ev}"

    def __str__(self) -> str:
        return self.line().replace("\t", "  ")

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:  # IPython text/plain
        p.text(str(self))


def claim_ref(claim_id: str) -> str:
    """MyST reference to a claim's statement box in its chapter, ``{prf:ref}`ID <id>```.

    Parameters
    ----------
    claim_id : str
        A claim id (``HT-...``, ``RC-...``, ``BK-...``); the box label is its lower case.

    Returns
    -------
    str
    """
    return f"{{prf:ref}}`{claim_id} <{claim_id.lower()}>`"


def verdict(
    claim_id: str,
    verdict: str,
    evidence: str,
    holds: str = "",
    severity: str = "",
    *,
    readings: tuple[Reading, ...] | list[Reading] = (),
    can_fail: str = "",
) -> Verdict:
    """Shorthand constructor used by the checks (``severity`` for refuted/qualified only)."""
    return Verdict(claim_id, verdict, evidence, holds, severity, tuple(readings), can_fail)
