"""The book-wide views: the landing page's paper boxes and the interactive ledger.

Everything is computed from the registry (:mod:`dsmlib.claims`) and returned as MyST
Markdown (with raw HTML where no role exists, e.g. the verdict bar), so the landing page
(``intro.ipynb``) and the ledger (``chapters/claims.ipynb``) are one call each:

- :func:`verdict_segments` -- a paper's verdicts counted by kind and severity, in the order
  the bar draws them (confirmed; qualified and refuted by severity, mildest first;
  inconclusive; not-tested);
- :func:`headline_corrections` -- the three to five refuted or qualified verdicts that matter
  most (by severity, then refuted before qualified, then the order of ``CLAIMS.md``);
- :func:`paper_boxes_markdown` -- one box per paper: its verdict bar (each segment a link to
  the ledger filtered to it) and its headline corrections, one line each, linked to the check;
- :func:`book_results_markdown` -- the book's own results, every ``BK-`` id of the registry;
- :func:`claims_table` -- a paper's claims in three columns that fit the article column;
- :func:`ledger_markdown` -- the ledger: every claim with its "what holds", readings, "how
  this test could have failed", evidence and chapter (by name), filtered, sorted and kept in
  the URL by ``_static/ledger.js`` (static HTML, no kernel), above :func:`ledger_controls_html`.

A view like :mod:`dsmlib.ledger_view` (whose verdict vocabulary of badges it shares): it
imports the registry; nothing in :mod:`dsmlib` imports it.
"""

from __future__ import annotations

import html
from collections import Counter
from typing import Iterable, Sequence

from .claims import CLAIMS
from .ledger_view import SEVERITY_WORDS, badge, escape_md
from .verdicts import SEVERITIES, VERDICTS, Verdict

__all__ = [
    "PAPERS",
    "book_results_markdown",
    "claims_table",
    "findings_list",
    "headline_corrections",
    "ledger_controls_html",
    "ledger_markdown",
    "paper_box_markdown",
    "paper_boxes_markdown",
    "verdict_bar_html",
    "verdict_segments",
]

#: the two papers: id prefix -> (short name, title)
PAPERS = {
    "HT": ("HT", "The Homogeneity Trap"),
    "RC": ("RC", "Sinkhorn doubly stochastic attention rank decay analysis"),
}

#: the ledger page, relative to the book's root (the landing page's links into it)
LEDGER_PAGE = "chapters/claims.html"

#: how many headline corrections a paper box lists
MIN_HEADLINES, MAX_HEADLINES = 3, 5


def _prefix(cid: str) -> str:
    return cid.split("-", 1)[0]


def _of(verdicts: Iterable[Verdict], prefix: str) -> list[Verdict]:
    return [v for v in verdicts if _prefix(v.claim_id) == prefix]


def verdict_segments(verdicts: Sequence[Verdict]) -> list[tuple[str, str, int]]:
    """Verdicts counted by (verdict, severity), in the order the verdict bar draws them.

    Parameters
    ----------
    verdicts : sequence of Verdict
        Any set of verdicts (usually one paper's).

    Returns
    -------
    list of (verdict, severity, count)
        ``confirmed``; ``qualified`` then ``refuted``, each split by severity from mildest
        (``cosmetic``) to worst (``conclusion``); ``inconclusive``; ``not-tested``. Only
        non-empty segments; severity is ``""`` for verdicts that take none.
    """
    c = Counter((v.verdict, v.severity) for v in verdicts)
    out = []
    for kind in VERDICTS:
        sevs = SEVERITIES if kind in ("qualified", "refuted") else ("",)
        for s in sevs:
            if c.get((kind, s)):
                out.append((kind, s, c[(kind, s)]))
    missing = sum(c.values()) - sum(n for _, _, n in out)
    if missing:  # a verdict outside the vocabulary cannot exist (Verdict validates it)
        raise ValueError(f"{missing} verdicts fall outside {VERDICTS} x {SEVERITIES}")
    return out


def _segment_label(kind: str, sev: str) -> str:
    return f"{kind} · {sev}" if sev else kind


def _ledger_query(paper: str, kind: str, sev: str) -> str:
    parts = [f"paper={paper}", f"verdict={kind}"]
    if sev:
        parts.append(f"severity={sev}")
    return "?" + "&".join(parts)


def verdict_bar_html(verdicts: Sequence[Verdict], paper: str, *, ledger_url: str = LEDGER_PAGE) -> str:
    """A paper's verdicts as one stacked bar with a legend, each segment linking to the ledger.

    Segment widths are proportional to the counts of :func:`verdict_segments`; colours are the
    verdict component's (``_static/book.css``: one per verdict, refuted and qualified shaded
    by severity). Raw HTML (no role draws a bar), for a ``{raw} html`` block.
    """
    segs = verdict_segments(verdicts)
    total = sum(n for _, _, n in segs)
    if not total:
        raise ValueError(f"no verdicts for {paper}")
    bar, legend = [], []
    for kind, sev, n in segs:
        label = _segment_label(kind, sev)
        href = html.escape(ledger_url + _ledger_query(paper, kind, sev))
        cls = f"vseg v-{kind}" + (f" s-{sev}" if sev else "")
        title = html.escape(f"{n} {label}" + (f": {SEVERITY_WORDS[sev]}" if sev else ""))
        bar.append(
            f'<a class="{cls}" style="flex-grow:{n}" href="{href}" title="{title}" '
            f'aria-label="{title}">{n}</a>'
        )
        legend.append(f'<a class="vleg" href="{href}"><span class="{cls} vkey"></span>{n} {html.escape(label)}</a>')
    return (
        f'<div class="vbar" role="img" aria-label="{html.escape(paper)}: {total} claims by verdict and severity">'
        + "".join(bar)
        + '</div>\n<div class="vlegend">'
        + " ".join(legend)
        + "</div>"
    )


def _sev_rank(v: Verdict) -> tuple[int, int]:
    return (SEVERITIES.index(v.severity) if v.severity else -1, 1 if v.verdict == "refuted" else 0)


def headline_corrections(verdicts: Sequence[Verdict], *, k: int = MAX_HEADLINES) -> list[Verdict]:
    """The refuted and qualified verdicts that matter most, at most ``k`` of them.

    Ordered by severity (``conclusion`` first, ``cosmetic`` last), then refuted before
    qualified, then the order of ``verdicts`` (that of ``CLAIMS.md``).
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    bad = [(i, v) for i, v in enumerate(verdicts) if v.verdict in ("refuted", "qualified")]
    bad.sort(key=lambda iv: (tuple(-x for x in _sev_rank(iv[1])), iv[0]))
    return [v for _, v in bad[:k]]


def _ref(cid: str) -> str:
    return f"{{prf:ref}}`{cid} <{CLAIMS[cid].label}>`"


def _link(v: Verdict) -> str:
    return _ref(v.claim_id) if v.verdict != "not-tested" else v.claim_id


def _verdict_cell(v: Verdict) -> str:
    return badge(v.verdict) + (f" {{bdg-secondary-line}}`{v.severity}`" if v.severity else "")


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _count_line(vs: Sequence[Verdict]) -> str:
    c = Counter(v.verdict for v in vs)
    return ", ".join(f"{c[k]} {k}" for k in VERDICTS if c.get(k))


def paper_box_markdown(verdicts: Sequence[Verdict], prefix: str, *, ledger_url: str = LEDGER_PAGE) -> str:
    """One paper's box: name, verdict bar and legend, and its headline corrections (one line each)."""
    if prefix not in PAPERS:
        raise ValueError(f"prefix must be one of {tuple(PAPERS)}, got {prefix!r}")
    vs = _of(verdicts, prefix)
    short, title = PAPERS[prefix]
    heads = headline_corrections(vs)
    lines = [
        f"::::{{container}} paper-box paper-{prefix.lower()}",
        f'<p class="paper-box-title"><strong>{html.escape(title)}</strong> ({short}) · {len(vs)} claims: '
        f"{html.escape(_count_line(vs))}</p>",
        "",
        ":::{raw} html",
        verdict_bar_html(vs, prefix, ledger_url=ledger_url),
        ":::",
        "",
    ]
    if heads:
        lines += [":::{container} paper-fixes", ""]
        for v in heads:
            lines.append(
                f"- {_link(v)} {badge(v.verdict)} *{v.severity}*: {_one_line(CLAIMS[v.claim_id].statement)}"
            )
        lines += ["", ":::"]
    else:
        lines.append("No claim of this paper is refuted or qualified.")
    lines.append("::::")
    return "\n".join(lines)


def paper_boxes_markdown(verdicts: Sequence[Verdict], *, ledger_url: str = LEDGER_PAGE) -> str:
    """The landing page's first screen: one :func:`paper_box_markdown` per paper."""
    return "\n\n".join(paper_box_markdown(verdicts, p, ledger_url=ledger_url) for p in PAPERS)


def book_results_markdown(verdicts: Sequence[Verdict]) -> str:
    """The book's own results (every ``BK-`` id of the registry): id, statement, verdict, what holds."""
    vs = _of(verdicts, "BK")
    if not vs:
        return "The book states no results of its own yet."
    return claims_table(vs, "BK")


def claims_table(verdicts: Sequence[Verdict], prefix: str) -> str:
    """A paper's claims in three columns (claim and where; statement and what holds; verdict).

    Three columns wrap inside the article column at 784 px and at a 900 px window; the
    "what holds" of a refuted or qualified claim is a line under its statement, not a column.
    """
    rows = [":::{container} book-table", "", "| claim | statement | verdict |", "| --- | --- | --- |"]
    for v in _of(verdicts, prefix):
        claim = CLAIMS[v.claim_id]
        text = _one_line(claim.statement)
        if v.verdict in ("qualified", "refuted") and v.holds:
            text += f"<br>**What holds:** {escape_md(v.holds)}"
        elif v.verdict == "not-tested":
            text += f"<br>*Not tested:* {escape_md(v.evidence)}"
        cell = f"{_link(v)}<br>{claim.location}"
        rows.append(f"| {_cell(cell)} | {_cell(text)} | {_verdict_cell(v)} |")
    rows += ["", ":::"]
    return "\n".join(rows)


def _cell(text: str) -> str:
    return _one_line(text).replace("|", r"\|")


def findings_list(verdicts: Sequence[Verdict]) -> str:
    """Findings in brief as a short Markdown list: per paper, counts and what fails, by severity."""
    items = []
    for prefix, (short, title) in PAPERS.items():
        vs = _of(verdicts, prefix)
        if not vs:
            continue
        c = Counter(v.verdict for v in vs)
        tested = len(vs) - c.get("not-tested", 0)
        items.append(f"- **{title} ({short})**: {tested} of {len(vs)} claims tested; {_count_line(vs)}.")
        for sev in reversed(SEVERITIES):
            hit = [v for v in vs if v.severity == sev]
            if hit:
                items.append(f"  - *{sev}* ({SEVERITY_WORDS[sev]}): " + ", ".join(_link(v) for v in hit) + ".")
        open_ = [v for v in vs if v.verdict == "inconclusive"]
        if open_:
            items.append("  - *inconclusive* (no decision at the power stated): " + ", ".join(_link(v) for v in open_) + ".")
    own = _of(verdicts, "BK")
    if own:
        items.append(
            "- **Beyond the papers**: "
            + "; ".join(f"{_link(v)} is {v.verdict}" + (f" ({v.severity})" if v.severity else "") for v in own)
            + "."
        )
    return "\n".join(items)


def _chapter(cid: str) -> str:
    ch = CLAIMS[cid].chapter
    return f"{{doc}}`/chapters/{ch}`" if ch else ""


def _indent(text: str, n: int = 4) -> str:
    pad = " " * n
    return "\n".join(pad + ln if ln else "" for ln in text.split("\n"))


def _details(v: Verdict) -> str:
    """The dropdown under a ledger statement: readings, how the test could fail, evidence."""
    parts = []
    if v.readings:
        parts.append("**Readings** (the headline follows the paper's own):\n")
        parts += [f"- {escape_md(r.text())}" for r in v.readings]
        parts.append("")
    if v.can_fail:
        parts += [f"**How this test could have failed:** {escape_md(v.can_fail)}", ""]
    parts.append(f"**Evidence:** {escape_md(v.evidence)}")
    title = "Readings, how it could fail, evidence" if v.readings else (
        "How it could fail, evidence" if v.can_fail else "Evidence")
    return "\n".join([f":::{{dropdown}} {title}", ":class-container: ledger-details", *parts, ":::"])


def ledger_markdown(verdicts: Sequence[Verdict]) -> str:
    """Every claim in one table for the ledger page (a ``list-table`` with class ``ledger-table``).

    Columns: claim (linked to its statement in the chapter, with where the paper states it),
    statement with "what holds" (refuted, qualified), the reason a not-tested claim is not
    tested, and a dropdown of readings, "how this test could have failed" and evidence;
    verdict and severity badges; chapter, by its title. ``_static/ledger.js`` reads the
    badges (first: verdict, second: severity) and the id's prefix to filter and sort.
    """
    out = [
        "::::{list-table}",
        ":header-rows: 1",
        ":class: ledger-table",
        ":widths: 15 55 14 16",
        "",
        "* - claim",
        "  - statement, and what holds",
        "  - verdict",
        "  - chapter",
    ]
    for v in verdicts:
        claim = CLAIMS[v.claim_id]
        where = f"{_prefix(v.claim_id) if not v.claim_id.startswith('BK-') else 'book'} {claim.location}"
        body = [_one_line(claim.statement)]
        if v.verdict in ("qualified", "refuted") and v.holds:
            body.append(f"**What holds:** {escape_md(v.holds)}")
        if v.verdict == "not-tested":
            body.append(f"*Not tested:* {escape_md(v.evidence)}")
        else:
            body.append(_details(v))
        out += [
            f"* - {_link(v)}",
            "",
            f"    {where}",
            "  - " + _indent("\n\n".join(body)).lstrip(),
            f"  - {_verdict_cell(v)}",
            f"  - {_chapter(v.claim_id)}",
        ]
    out.append("::::")
    return "\n".join(out)


def ledger_controls_html() -> str:
    """The ledger's filters (paper, verdict, severity, free text), wired by ``_static/ledger.js``."""
    def select(name: str, label: str, values: Iterable[tuple[str, str]]) -> str:
        opts = "".join(f'<option value="{html.escape(v)}">{html.escape(t)}</option>' for v, t in values)
        return (f'<label>{label} <select id="ledger-{name}" data-key="{name}">'
                f'<option value="">all</option>{opts}</select></label>')

    papers = [(p, p) for p in PAPERS] + [("BK", "book")]
    return (
        '<form class="ledger-filter" role="search" onsubmit="return false">'
        + select("paper", "Paper", papers)
        + select("verdict", "Verdict", [(v, v) for v in VERDICTS])
        + select("severity", "Severity", [(s, s) for s in SEVERITIES])
        + '<label>Text <input id="ledger-q" data-key="q" type="search" placeholder="id, words, e.g. Wedin" size="18"></label>'
        + '<button type="button" id="ledger-reset">Reset</button>'
        + '<span id="ledger-count" aria-live="polite"></span>'
        + "</form>"
    )
