"""The book-wide views (landing page boxes, ledger table) say what the verdicts say, and
change when the verdicts change (no view is typed by hand)."""

from __future__ import annotations

import re

import pytest

from dsmlib import book_view, claims
from dsmlib.verdicts import Reading, Verdict


def _v(cid: str, verdict: str, severity: str = "", **kw) -> Verdict:
    holds = "the form that holds" if verdict in ("qualified", "refuted") else ""
    return Verdict(cid, verdict, f"evidence of {cid}", holds, severity, **kw)


FAKE = [
    _v("HT-A1", "confirmed"),
    _v("HT-C", "refuted", "cosmetic"),
    _v("HT-R1", "refuted", "conclusion"),
    _v("HT-L1", "qualified", "scope"),
    _v("HT-AA", "qualified", "proof"),
    _v("HT-L2", "inconclusive"),
    _v("HT-PF", "refuted", "proof"),
    _v("HT-T2", "not-tested"),
    _v("RC-E", "confirmed"),
    _v("RC-PD", "qualified", "constant"),
    _v("BK-SIG2T", "confirmed"),
]


def test_segments_count_every_verdict_by_kind_and_severity_in_bar_order():
    segs = book_view.verdict_segments([v for v in FAKE if v.claim_id.startswith("HT-")])
    assert segs == [
        ("confirmed", "", 1),
        ("qualified", "proof", 1),
        ("qualified", "scope", 1),
        ("refuted", "cosmetic", 1),
        ("refuted", "proof", 1),
        ("refuted", "conclusion", 1),
        ("inconclusive", "", 1),
        ("not-tested", "", 1),
    ]
    assert sum(n for *_, n in segs) == 8


def test_bar_widths_are_the_counts_and_segments_link_to_the_filtered_ledger():
    vs = [_v("HT-A1", "confirmed"), _v("HT-C", "confirmed"), _v("HT-R1", "refuted", "scope")]
    bar = book_view.verdict_bar_html(vs, "HT")
    assert re.findall(r"flex-grow:(\d+)", bar) == ["2", "1"]
    assert "chapters/claims.html?paper=HT&amp;verdict=refuted&amp;severity=scope" in bar
    flipped = book_view.verdict_bar_html([_v("HT-A1", "confirmed")] * 3, "HT")
    assert re.findall(r"flex-grow:(\d+)", flipped) == ["3"]
    with pytest.raises(ValueError, match="no verdicts"):
        book_view.verdict_bar_html([], "HT")


def test_headline_corrections_put_the_worst_first_and_stop_at_k():
    heads = book_view.headline_corrections(FAKE)
    ids = [v.claim_id for v in heads]
    assert ids[0] == "HT-R1"  # a refuted conclusion
    assert ids == ["HT-R1", "HT-L1", "RC-PD", "HT-PF", "HT-AA"]  # conclusion, scope, constant, proof (refuted first)
    assert len(book_view.headline_corrections(FAKE, k=2)) == 2
    assert all(v.verdict in ("refuted", "qualified") for v in heads)
    assert book_view.headline_corrections([_v("HT-A1", "confirmed")]) == []
    with pytest.raises(ValueError):
        book_view.headline_corrections(FAKE, k=0)


def test_paper_box_lists_its_corrections_one_line_each_with_a_link():
    md = book_view.paper_box_markdown(FAKE, "HT")
    assert md.startswith("::::{container} paper-box paper-ht")
    lines = [ln for ln in md.splitlines() if ln.startswith("- ")]
    assert 3 <= len(lines) <= 5
    assert all("{prf:ref}" in ln for ln in lines)
    assert "8 claims" in md and "RC-" not in md
    clean = book_view.paper_box_markdown([_v("HT-A1", "confirmed")], "HT")
    assert "No claim of this paper is refuted or qualified" in clean
    with pytest.raises(ValueError):
        book_view.paper_box_markdown(FAKE, "XX")
    both = book_view.paper_boxes_markdown(FAKE)
    assert both.count("{container} paper-box") == 2


def test_book_results_list_every_bk_id_of_the_registry():
    own = [i for i in claims.CLAIMS if i.startswith("BK-")]
    assert own, "the registry holds the book's own results"
    md = book_view.book_results_markdown([_v(i, "confirmed") for i in own] + FAKE[:1])
    for i in own:
        assert f"`{i} <{i.lower()}>`" in md
    assert "HT-A1" not in md
    assert "no results of its own" in book_view.book_results_markdown(FAKE[:1])


def test_claims_table_has_three_columns_and_puts_what_holds_under_the_statement():
    md = book_view.claims_table(FAKE, "HT")
    rows = [ln for ln in md.splitlines() if ln.startswith("|")]
    assert len(rows) == 2 + 8
    assert all(re.sub(r"\\\|", "", ln).count("|") == 4 for ln in rows)
    assert "**What holds:** the form that holds" in md and ":::{container} book-table" in md


def test_ledger_table_shows_what_holds_readings_can_fail_and_chapter_names():
    r = (Reading("the paper's block", "refuted", "0.3 ± 0.1", papers_own=True), Reading("another", "confirmed", "1.0"))
    vs = [
        _v("HT-A1", "confirmed", can_fail="a sigma_1 above 1 + 1e-9 would flip it"),
        _v("HT-R1", "refuted", "conclusion", readings=r),
        _v("HT-T2", "not-tested"),
    ]
    md = book_view.ledger_markdown(vs)
    assert md.startswith("::::{list-table}") and ":class: ledger-table" in md
    assert md.count("\n* - ") == len(vs) + 1  # header + one row per claim
    assert "**What holds:** the form that holds" in md
    assert "**Readings**" in md and "the paper's block \\[paper's own\\]: refuted (0.3 ± 0.1)" in md
    assert "**How this test could have failed:** a sigma\\_1 above" in md
    assert "{doc}`/chapters/01_preliminaries`" in md and "{doc}`/chapters/02_sinkhorn_and_q`" in md
    assert "{bdg-secondary-line}`conclusion`" in md
    assert "*Not tested:*" in md


def test_ledger_controls_offer_every_verdict_and_severity():
    html = book_view.ledger_controls_html()
    for v in claims.VERDICTS + claims.SEVERITIES:
        assert f'value="{v}"' in html
    assert 'id="ledger-q"' in html and 'id="ledger-severity"' in html


def test_findings_are_a_short_list_not_a_paragraph():
    md = book_view.findings_list(FAKE)
    lines = md.splitlines()
    assert all(ln.startswith(("- ", "  - ")) for ln in lines)
    assert any("*conclusion*" in ln and "HT-R1" in ln for ln in lines)
    assert lines[-1].startswith("- **Beyond the papers**")
