"""Summaries of the claims ledger for the book's landing page and ledger chapter."""

from __future__ import annotations

from collections import Counter

from .claims import CLAIMS, VERDICTS, Verdict, ledger

__all__ = ["counts", "summary_markdown"]


def counts(verdicts: list[Verdict]) -> dict[str, int]:
    """Number of claims per verdict, in the order of :data:`dsmlib.claims.VERDICTS`."""
    c = Counter(v.verdict for v in verdicts)
    return {k: c.get(k, 0) for k in VERDICTS}


def summary_markdown(verdicts: list[Verdict] | None = None) -> str:
    """Counts by verdict, then each refuted and qualified claim with what holds instead."""
    verdicts = ledger() if verdicts is None else verdicts
    c = counts(verdicts)
    lines = [
        f"Of **{len(verdicts)}** claims: "
        + ", ".join(f"**{c[k]}** `{k}`" for k in VERDICTS)
        + ".",
        "",
    ]
    for kind in ("refuted", "qualified"):
        picked = [v for v in verdicts if v.verdict == kind]
        if not picked:
            continue
        lines.append(f"**{kind.capitalize()}:**")
        lines.append("")
        for v in picked:
            claim = CLAIMS[v.claim_id]
            what = " ".join((v.holds or v.evidence).split())
            lines.append(f"- {{prf:ref}}`{v.claim_id} <{claim.label}>`: {what}")
        lines.append("")
    return "\n".join(lines)
