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

import re
from dataclasses import dataclass
from typing import Any

__all__ = [
    "COSMETIC_REL",
    "SEVERITIES",
    "STRICT_SEVERITY",
    "VERDICTS",
    "Verdict",
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

    def __post_init__(self) -> None:
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

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:  # IPython text/plain
        p.text(str(self))


def verdict(claim_id: str, verdict: str, evidence: str, holds: str = "", severity: str = "") -> Verdict:
    """Shorthand constructor used by the checks (``severity`` for refuted/qualified only)."""
    return Verdict(claim_id, verdict, evidence, holds, severity)
