"""The claims machinery: every id present, verdicts validated, explicit check tables, the ledger's line format."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

from dsmlib import claims, ledger_view, verdicts

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


def test_the_registry_reexports_the_low_vocabulary():
    """Checks import Verdict from dsmlib.verdicts; the registry hands out the very same objects."""
    assert claims.Verdict is verdicts.Verdict and claims.verdict is verdicts.verdict
    assert claims.VERDICTS == verdicts.VERDICTS and claims.SEVERITIES == verdicts.SEVERITIES


def test_ids_and_labels_are_unique():
    labels = [c.label for c in claims.CLAIMS.values()]
    assert len(set(labels)) == len(labels)


def test_verdict_validation():
    with pytest.raises(ValueError, match="verdict"):
        claims.Verdict("HT-A1", "probably", "x")
    with pytest.raises(ValueError, match="claim_id"):
        claims.Verdict("XX-1", "confirmed", "x")
    with pytest.raises(ValueError, match="claim_id"):
        claims.evaluate("XX-1")
    with pytest.raises(ValueError, match="claim_id"):
        claims.checks_module("HT-NOPE")


def test_every_declared_check_belongs_to_its_chapter_and_module():
    """Each chapter's CHECKS table is explicit: its ids route back to the module that declares them."""
    table = claims.all_checks()
    assert table, "no checks declared"
    for cid, (experiment, check) in table.items():
        assert claims.CLAIMS[cid].chapter is not None, cid
        assert callable(experiment) and callable(check)
        module = claims.checks_module(cid)
        assert sys.modules[module].CHECKS[cid] == (experiment, check)
    for module in {*claims.CHECK_MODULES.values(), *claims.CHECK_MODULE_OF.values()}:
        assert set(sys.modules[module].CHECKS) <= set(table), module


def _fake_table(monkeypatch, table: dict) -> None:
    """Route every chapter to one synthetic checks module exporting ``table``."""
    mod = types.ModuleType("fake_checks")
    mod.CHECKS = table
    monkeypatch.setitem(sys.modules, "fake_checks", mod)
    monkeypatch.setattr(claims, "CHECK_MODULES", {ch: "fake_checks" for ch in claims.CHECK_MODULES})
    monkeypatch.setattr(claims, "CHECK_MODULE_OF", {cid: "fake_checks" for cid in claims.CHECK_MODULE_OF})
    monkeypatch.setattr(claims, "_TABLES", {})


def test_a_table_that_declares_a_foreign_or_unknown_id_is_refused(monkeypatch):
    _fake_table(monkeypatch, {"XX-1": (lambda: 0, lambda r: None)})
    with pytest.raises(ValueError, match="claim_id"):
        claims.evaluate("HT-A1")
    _fake_table(monkeypatch, {"HT-A1": (lambda: 0,)})
    with pytest.raises(ValueError, match="experiment, check"):
        claims.evaluate("HT-A1")


def test_a_check_answering_for_another_claim_is_refused(monkeypatch):
    _fake_table(monkeypatch, {"HT-A1": (lambda: 0, lambda r: claims.verdict("HT-C", "confirmed", "x"))})
    with pytest.raises(ValueError, match="returned a verdict on HT-C"):
        claims.evaluate("HT-A1")


def test_ledger_line_format_and_unregistered_claims(monkeypatch, capsys):
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
    _fake_table(monkeypatch, fake)
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
    table = ledger_view.ledger_markdown(claims.ledger())
    assert "{prf:ref}`HT-A1 <ht-a1>`" in table and table.count("\n") == len(claims.CLAIMS) + 1


def test_verdict_component_escapes_ascii_and_keeps_maths():
    from dsmlib.ledger_view import escape_md, verdict_markdown

    assert escape_md("sigma_2 < 1 and $\\sigma_2$") == "sigma\\_2 \\< 1 and $\\sigma_2$"
    md = verdict_markdown(claims.Verdict("HT-R1", "refuted", "E = 0.0988 vs 0.0992", "x_1", "cosmetic"))
    assert md.startswith("::::{admonition} HT-R1 · refuted · severity: cosmetic")
    assert ":class: danger" in md and ":::{dropdown} Evidence" in md and "x\\_1" in md
    ok = verdict_markdown(claims.Verdict("HT-A1", "confirmed", "fine"))
    assert ":class: tip" in ok and "severity" not in ok


def test_show_renders_the_component_and_prints_the_line(monkeypatch):
    """A chapter's verdict cell: text/plain is the ledger line, text/markdown the component."""
    _fake_table(monkeypatch, {"HT-A1": (lambda: 0, lambda r: claims.verdict("HT-A1", "confirmed", "fine"))})
    shown = ledger_view.show("HT-A1")
    plain = claims.verdict("HT-A1", "confirmed", "fine")
    assert isinstance(shown, claims.Verdict) and shown == plain or shown.line() == plain.line()
    assert shown._repr_markdown_() == ledger_view.verdict_markdown(plain)
    assert not hasattr(plain, "_repr_markdown_")  # the low Verdict knows no view
    printed = []
    shown._repr_pretty_(types.SimpleNamespace(text=printed.append), False)
    assert printed == [str(plain)]


def test_findings_line_both_forms(monkeypatch):
    fake = {
        "HT-A1": (lambda: 0, lambda r: claims.verdict("HT-A1", "confirmed", "x")),
        "HT-C": (lambda: 0, lambda r: claims.verdict("HT-C", "refuted", "x", "y", "constant")),
    }
    _fake_table(monkeypatch, fake)
    topics = {"HT-A1": "one", "HT-C": "two"}
    ref = "{prf:ref}`HT-A1 <ht-a1>`"
    bad = "- two ({prf:ref}`HT-C <ht-c>`): refuted, severity *constant*."
    assert ledger_view.findings_line(topics) == f"**Findings:**\n\n- **1 of 2 confirmed**: one ({ref}).\n{bad}"
    assert ledger_view.findings_line(topics, name_confirmed=False) == f"**Findings:**\n\n- **1 of 2 confirmed**: {ref}.\n{bad}"
    with pytest.raises(ValueError, match="topics"):
        ledger_view.findings_line({})


def test_refuted_and_qualified_need_a_severity():
    assert claims.STRICT_SEVERITY
    with pytest.raises(ValueError, match="needs a severity"):
        claims.Verdict("HT-A1", "qualified", "x")


def test_an_id_imports_only_its_own_chapter():
    """``python -m dsmlib.claims HT-L1`` needs chapter 1's checks and nothing of the other chapters or the views."""
    import subprocess

    code = (
        "import sys; from dsmlib import claims; claims.check_entry('HT-L1'); "
        "print(sorted({m.split('.')[2] for m in sys.modules if m.startswith('dsmlib.experiments.')})); "
        "print('dsmlib.ledger_view' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300).stdout
    assert out.split("\n")[:2] == ["['_format', 'ch01_preliminaries']", "False"]


def test_md_table():
    from dsmlib.experiments._format import md_table

    assert md_table(["a", "b"], [["1", "2"]]) == "| a | b |\n| ---: | ---: |\n| 1 | 2 |"
    assert md_table(["a", "b"], [], ["---", "---:"]) == "| a | b |\n| --- | ---: |"
    with pytest.raises(ValueError):
        md_table(["a", "b"], [], ["---"])
