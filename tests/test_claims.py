"""The claims machinery: every id present, verdicts validated, the ledger's line format."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dsmlib import claims, ledger_view

SHARED = Path(__file__).resolve().parents[2] / "shared" / "CLAIMS.md"


def test_every_claims_md_id_is_registered():
    if not SHARED.exists():
        pytest.skip("shared/CLAIMS.md is not beside the repository")
    ids = re.findall(r"^\| ((?:HT|RC)-[A-Z0-9]+) \|", SHARED.read_text(), flags=re.M)
    assert ids, "no ids parsed from CLAIMS.md"
    assert [c for c in claims.CLAIMS if not c.startswith("BK-")] == ids


def test_book_results_are_separate_from_the_papers():
    assert claims.BOOK_RESULTS and all(c.startswith("BK-") for c in claims.BOOK_RESULTS)
    assert all(claims.CLAIMS[c].paper == "This book" for c in claims.BOOK_RESULTS)


def test_severity_classification_and_validation():
    assert claims.severity(conclusion_holds=False, factor=1.01) == "conclusion"
    assert claims.severity(conclusion_holds=True, conditional=True) == "scope"
    assert claims.severity(conclusion_holds=True, factor=1.004) == "cosmetic"
    assert claims.severity(conclusion_holds=True, factor=0.5) == "constant"
    assert claims.severity(conclusion_holds=True) == "constant"
    with pytest.raises(ValueError, match="severity"):
        claims.Verdict("HT-A1", "refuted", "x", severity="minor")
    with pytest.raises(ValueError, match="severity"):
        claims.Verdict("HT-A1", "confirmed", "x", severity="cosmetic")
    v = claims.Verdict("HT-R1", "refuted", "x", severity="cosmetic")
    assert v.line().split("\t")[2].startswith("[severity: cosmetic]")


def test_ids_and_labels_are_unique():
    labels = [c.label for c in claims.CLAIMS.values()]
    assert len(set(labels)) == len(labels)


def test_verdict_validation():
    with pytest.raises(ValueError, match="verdict"):
        claims.Verdict("HT-A1", "probably", "x")
    with pytest.raises(ValueError, match="claim_id"):
        claims.Verdict("XX-1", "confirmed", "x")
    with pytest.raises(ValueError, match="claim_id"):
        claims.register("XX-1", experiment=lambda: None)


def test_every_registered_check_belongs_to_its_chapter():
    claims._load_checks()
    for cid in claims._REGISTRY:
        assert claims.CLAIMS[cid].chapter is not None, cid


def test_ledger_line_format_and_unregistered_claims(monkeypatch, capsys):
    monkeypatch.setattr(claims, "_load_checks", lambda: None)
    fake = {
        "HT-A1": (
            lambda: 0.5,
            lambda r: claims.verdict(
                "HT-A1",
                "confirmed" if r < 1 else "refuted",
                f"r = {r}\twith tab",
                severity="" if r < 1 else "constant",
            ),
        )
    }
    monkeypatch.setattr(claims, "_REGISTRY", fake)
    assert claims.main([]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [ln.split("\t")[0] for ln in lines] == list(claims.CLAIMS)
    assert all(len(ln.split("\t")) == 3 for ln in lines)
    assert lines[0] == "HT-A1\tconfirmed\tr = 0.5 with tab"
    assert all(ln.split("\t")[1] == "not-tested" for ln in lines[1:])
    # the same check flips when fed another result
    assert claims.evaluate("HT-A1", result=2.0).verdict == "refuted"
    md = ledger_view.summary_markdown(claims.ledger())
    assert "**1** {bdg-success}`confirmed`" in md
    assert f"**{len(claims.CLAIMS) - 1}** {{bdg-muted}}`not-tested`" in md
    table = claims.ledger_markdown(claims.ledger())
    assert "{prf:ref}`HT-A1 <ht-a1>`" in table and table.count("\n") == len(claims.CLAIMS) + 1


def test_verdict_component_escapes_ascii_and_keeps_maths():
    from dsmlib.ledger_view import escape_md, verdict_markdown

    assert escape_md("sigma_2 < 1 and $\\sigma_2$") == "sigma\\_2 \\< 1 and $\\sigma_2$"
    md = verdict_markdown(claims.Verdict("HT-R1", "refuted", "E = 0.0988 vs 0.0992", "x_1", "cosmetic"))
    assert md.startswith("::::{admonition} HT-R1 · refuted · severity: cosmetic")
    assert ":class: danger" in md and ":::{dropdown} Evidence" in md and "x\\_1" in md
    ok = verdict_markdown(claims.Verdict("HT-A1", "confirmed", "fine"))
    assert ":class: tip" in ok and "severity" not in ok


def test_refuted_and_qualified_need_a_severity():
    assert claims.STRICT_SEVERITY
    with pytest.raises(ValueError, match="needs a severity"):
        claims.Verdict("HT-A1", "qualified", "x")
