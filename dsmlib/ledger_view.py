"""How verdicts look in the book: one verdict component, the ledger table, the findings.

Everything here returns MyST Markdown (rendered by MyST-NB from a cell's Markdown output),
so the same component serves the chapters, the landing page and the ledger:

- :func:`show` -- what a chapter's cell under a claim calls: the verdict, rendered as
  :func:`verdict_markdown` in the notebook and the book;
- :func:`verdict_markdown` -- the verdict box under a claim: a coloured admonition (one
  colour per verdict), a headline "Paper: ... We find: ...", the severity of a refuted or
  qualified verdict, and the rounded evidence folded in a dropdown;
- :func:`ledger_markdown` -- one table of every claim (id, paper and location, statement,
  coloured verdict, severity, chapter), filtered in the static HTML by
  :func:`filter_controls_html` (no kernel needed);
- :func:`findings_markdown` -- a few plain sentences per paper, computed from the verdicts;
- :func:`findings_line` -- the "Findings" list a chapter opens with, from its ids and topics;
- :func:`summary_table` -- the table every chapter ends with.

This is the top of the import graph: it imports the registry (:mod:`dsmlib.claims`) and
:mod:`dsmlib.verdicts`; nothing in :mod:`dsmlib` imports it.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any, Iterable, Mapping

from .claims import CLAIMS, evaluate, ledger
from .verdicts import SEVERITIES, VERDICTS, Verdict, claim_ref

__all__ = [
    "badge",
    "counts",
    "escape_md",
    "filter_controls_html",
    "findings_line",
    "findings_markdown",
    "ledger_markdown",
    "paper_table",
    "show",
    "summary_markdown",
    "summary_table",
    "verdict_markdown",
    "ShownVerdict",
]

#: admonition class (its colour in the book's theme) and badge role per verdict
_STYLE = {
    "confirmed": ("tip", "bdg-success"),
    "qualified": ("warning", "bdg-warning"),
    "refuted": ("danger", "bdg-danger"),
    "inconclusive": ("important", "bdg-info"),
    "not-tested": ("note", "bdg-muted"),
}

#: what each severity means, in words a reader can use
SEVERITY_WORDS = {
    "cosmetic": "a value off by a few percent; no conclusion changes",
    "proof": "the statement holds, but the paper's argument does not establish it",
    "constant": "a constant or coefficient is wrong; the shape of the result survives",
    "scope": "holds only under a condition the paper does not state",
    "conclusion": "the claimed behaviour does not hold as stated",
}

_MATH_OR_CODE = re.compile(r"(\$\$.*?\$\$|\$[^$]+\$|`[^`]*`)", re.S)
_SPECIAL = re.compile(r"([\\_*|<>\[\]#])")


def escape_md(text: str) -> str:
    """Escape Markdown syntax in ``text`` outside ``$...$`` maths and backtick code.

    Evidence strings may carry ASCII such as ``sigma_2`` or ``a|b``: escaped, they render
    as written instead of turning into italics or table cells.
    """
    parts = _MATH_OR_CODE.split(" ".join(str(text).split()))
    return "".join(p if i % 2 else _SPECIAL.sub(r"\\\1", p) for i, p in enumerate(parts))


def _cell(text: str) -> str:
    """Text for a Markdown table cell: one line, pipes escaped (also inside maths)."""
    return " ".join(str(text).split()).replace("|", r"\|")


def badge(v: str) -> str:
    """A coloured inline badge for a verdict value (sphinx-design role)."""
    return f"{{{_STYLE[v][1]}}}`{v}`"


def _we_find(v: Verdict) -> str:
    if v.verdict == "confirmed":
        return "the computation agrees with the statement as written."
    if v.verdict == "not-tested":
        return "not tested: " + escape_md(v.evidence)
    return escape_md(v.holds) if v.holds else "the computation contradicts the statement (see the evidence)."


def verdict_markdown(v: Verdict) -> str:
    """The verdict component: coloured admonition, headline, severity, evidence dropdown."""
    claim = CLAIMS[v.claim_id]
    cls = _STYLE[v.verdict][0]
    title = f"{v.claim_id} · {v.verdict}" + (f" · severity: {v.severity}" if v.severity else "")
    lines = [
        f"::::{{admonition}} {title}",
        f":class: {cls} verdict verdict-{v.verdict}",
        "",
        (
            f"**This book** ({claim.location}): {claim.statement}."
            if v.claim_id.startswith("BK-")
            else f"**Paper** ({_paper_short(v.claim_id)} {claim.location}): {claim.statement}."
        ),
        "",
        f"**We find:** {_we_find(v)}",
    ]
    if v.severity:
        lines += ["", f"*Severity {v.severity}:* {SEVERITY_WORDS[v.severity]}."]
    if v.readings:
        lines += ["", "**Readings** (the headline follows the paper's own):", ""]
        lines += [f"- {escape_md(r.text())}" for r in v.readings]
    if v.can_fail:
        lines += ["", f"*How this test could have failed:* {escape_md(v.can_fail)}"]
    if v.verdict != "not-tested":
        lines += ["", ":::{dropdown} Evidence", escape_md(v.evidence), ":::"]
    lines.append("::::")
    return "\n".join(lines)


def _paper_short(cid: str) -> str:
    return cid.split("-", 1)[0] if not cid.startswith("BK-") else "book"


def counts(verdicts: Iterable[Verdict]) -> dict[str, int]:
    """Number of claims per verdict, in the order of :data:`dsmlib.claims.VERDICTS`."""
    c = Counter(v.verdict for v in verdicts)
    return {k: c.get(k, 0) for k in VERDICTS}


def _ref(v: Verdict, link: bool) -> str:
    claim = CLAIMS[v.claim_id]
    if link and v.verdict != "not-tested":
        return f"{{prf:ref}}`{v.claim_id} <{claim.label}>`"
    return v.claim_id


def _chapter_link(cid: str) -> str:
    ch = CLAIMS[cid].chapter
    return f"{{doc}}`{ch[:2]} <{ch}>`" if ch else ""


def ledger_markdown(verdicts: list[Verdict] | None = None, *, link: bool = True) -> str:
    """Every claim in one MyST table: id, where in the paper, statement, verdict (with its
    severity), chapter.

    Ids link to the statement's box in its chapter (tested claims only); a not-tested row
    says what the test needs. Evidence lives in each chapter's verdict box.
    """
    verdicts = ledger() if verdicts is None else verdicts
    rows = ["| claim | where | statement | verdict | ch. |", "| --- | --- | --- | --- | --- |"]
    for v in verdicts:
        claim = CLAIMS[v.claim_id]
        statement = claim.statement
        if v.verdict == "not-tested":
            statement += f" *(not tested: {escape_md(v.evidence)})*"
        verdict_cell = badge(v.verdict) + (f" *{v.severity}*" if v.severity else "")
        where = f"{_paper_short(v.claim_id)} {claim.location}"
        rows.append(
            f"| {_ref(v, link)} | {where} | {_cell(statement)} | {verdict_cell} | {_chapter_link(v.claim_id)} |"
        )
    return "\n".join(rows)


def filter_controls_html() -> str:
    """Two selects (paper, verdict) that filter the ledger table below them, without a kernel."""
    opts_p = "".join(f'<option value="{p}">{p}</option>' for p in ("HT", "RC", "book"))
    opts_v = "".join(f'<option value="{v}">{v}</option>' for v in VERDICTS)
    return f"""<div class="ledger-filter" style="margin:0.5em 0 1em 0">
<label>Paper <select id="ledger-paper"><option value="">all</option>{opts_p}</select></label>
&nbsp;<label>Verdict <select id="ledger-verdict"><option value="">all</option>{opts_v}</select></label>
&nbsp;<span id="ledger-count"></span>
</div>
<script>
(function () {{
  function rows() {{
    var t = document.querySelector("section#every-claim table") || document.querySelectorAll("table")[1];
    return t ? Array.prototype.slice.call(t.querySelectorAll("tbody tr")) : [];
  }}
  function apply() {{
    var p = document.getElementById("ledger-paper").value;
    var v = document.getElementById("ledger-verdict").value;
    var shown = 0, all = rows();
    all.forEach(function (tr) {{
      var c = tr.querySelectorAll("td");
      var id = c[0].textContent.trim(), shown_v = c[3].textContent.trim().split(/\\s+/)[0];
      var paper = id.indexOf("BK-") === 0 ? "book" : id.slice(0, 2);
      var ok = (!p || paper === p) && (!v || shown_v === v);
      tr.style.display = ok ? "" : "none";
      if (ok) shown += 1;
    }});
    document.getElementById("ledger-count").textContent = shown + " of " + all.length + " claims";
  }}
  document.addEventListener("DOMContentLoaded", function () {{
    ["ledger-paper", "ledger-verdict"].forEach(function (id) {{
      document.getElementById(id).addEventListener("change", apply);
    }});
    apply();
  }});
}})();
</script>"""


def summary_markdown(verdicts: list[Verdict] | None = None) -> str:
    """Counts by verdict (coloured), and by severity for the refuted and qualified ones."""
    verdicts = ledger() if verdicts is None else verdicts
    c = counts(verdicts)
    sev = Counter(v.severity for v in verdicts if v.severity)
    line = f"Of **{len(verdicts)}** claims: " + ", ".join(f"**{c[k]}** {badge(k)}" for k in VERDICTS) + "."
    if sev:
        line += " Refuted and qualified, by severity: " + ", ".join(
            f"{sev[s]} *{s}*" for s in SEVERITIES if sev.get(s)
        ) + "."
    return line


def _paper_sentences(verdicts: list[Verdict], prefix: str, name: str) -> list[str]:
    vs = [v for v in verdicts if v.claim_id.startswith(prefix)]
    if not vs:
        return []
    c = counts(vs)
    tested = len(vs) - c["not-tested"]
    s = [
        f"**{name}.** Of its {len(vs)} claims we tested {tested}: "
        f"{c['confirmed']} confirmed, {c['qualified']} qualified, {c['refuted']} refuted"
        + (f", {c['inconclusive']} inconclusive (no verdict yet at the power stated)" if c["inconclusive"] else "")
        + "."
    ]
    broken = [v for v in vs if v.severity == "conclusion"]
    consts = [v for v in vs if v.severity in ("constant", "cosmetic")]
    scoped = [v for v in vs if v.severity == "scope"]
    if broken:
        s.append(
            "Conclusions that do not hold as stated: "
            + "; ".join(f"{_ref(v, True)} ({CLAIMS[v.claim_id].statement})" for v in broken)
            + "."
        )
    if consts:
        s.append(
            "Wrong constants or values whose conclusions survive: "
            + ", ".join(f"{_ref(v, True)} ({v.severity})" for v in consts)
            + "."
        )
    if scoped:
        s.append("Claims that hold only under unstated conditions: " + ", ".join(_ref(v, True) for v in scoped) + ".")
    return s


def findings_markdown(verdicts: list[Verdict] | None = None) -> str:
    """Findings in brief: a short paragraph per paper (and the book's own results), from the verdicts."""
    verdicts = ledger() if verdicts is None else verdicts
    paras = []
    for prefix, name in (("HT-", "The Homogeneity Trap (HT)"), ("RC-", "Sinkhorn rank collapse (RC)")):
        paras.append(" ".join(_paper_sentences(verdicts, prefix, name)))
    own = [v for v in verdicts if v.claim_id.startswith("BK-")]
    if own:
        paras.append(
            "**Beyond the papers.** "
            + " ".join(f"{_ref(v, True)}: {CLAIMS[v.claim_id].statement} ({v.verdict})." for v in own)
        )
    return "\n\n".join(paras)


def summary_table(ids: Iterable[str]) -> str:
    """The table a chapter ends with: claim (linked) and where, statement, verdict and severity.

    Three columns, wrapped in a ``book-table`` container whose cells wrap (``_static/book.css``),
    so the table fits the article column at 1400 and 900 px windows.
    """
    rows = [":::{container} book-table", "", "| claim | statement | verdict |", "| --- | --- | --- |"]
    for v in ledger(list(ids)):
        cid = v.claim_id
        claim = CLAIMS[cid]
        sev = f" {{bdg-secondary-line}}`{v.severity}`" if v.severity else ""
        rows.append(
            f"| {_ref(v, True)}<br>{_paper_short(cid)} {claim.location} | {_cell(claim.statement)} "
            f"| {badge(v.verdict)}{sev} |"
        )
    rows += ["", ":::"]
    return "\n".join(rows)


def paper_table(verdicts: list[Verdict], prefix: str) -> str:
    """A compact table of one paper's claims: id, where, statement, verdict, what holds."""
    rows = ["| claim | where | statement | verdict | what holds |", "| --- | --- | --- | --- | --- |"]
    for v in verdicts:
        if not v.claim_id.startswith(prefix):
            continue
        claim = CLAIMS[v.claim_id]
        verdict_cell = badge(v.verdict) + (f" ({v.severity})" if v.severity else "")
        holds = escape_md(v.holds) if v.verdict in ("qualified", "refuted") else ""
        rows.append(
            f"| {_ref(v, True)} | {claim.location} | {_cell(claim.statement)} | {verdict_cell} | {_cell(holds)} |"
        )
    return "\n".join(rows)


class ShownVerdict(Verdict):
    """A :class:`~dsmlib.verdicts.Verdict` that renders as the verdict component.

    The same fields and text (its ``text/plain`` is the ledger line); in a notebook its
    ``text/markdown`` is :func:`verdict_markdown`. Made by :func:`show`.
    """

    def _repr_markdown_(self) -> str:
        return verdict_markdown(self)


def show(claim_id: str, result: Any = None) -> ShownVerdict:
    """The verdict on ``claim_id`` for a chapter's cell: evaluated, rendered as Markdown.

    Parameters
    ----------
    claim_id : str
        A key of :data:`dsmlib.claims.CLAIMS`.
    result : object, optional
        The experiment's result, if the notebook already holds it (else the experiment
        runs, disk-cached).

    Returns
    -------
    ShownVerdict
        The verdict of :func:`dsmlib.claims.evaluate`, displayed as :func:`verdict_markdown`.
    """
    v = evaluate(claim_id, result)
    return ShownVerdict(v.claim_id, v.verdict, v.evidence, v.holds, v.severity, v.readings, v.can_fail)


def findings_line(topics: Mapping[str, str], *, name_confirmed: bool = True) -> str:
    """The Findings a chapter opens with, as a short list: what is confirmed, then each claim that is not.

    Parameters
    ----------
    topics : mapping of str to str
        The chapter's claim ids, in the order to list them, each with a few words (MyST)
        naming what it is about.
    name_confirmed : bool
        True: the first item names the confirmed claims by topic ("topic (ref); ...");
        False: by reference only ("refs").

    Returns
    -------
    str
        MyST: a ``**Findings:**`` line, then one list item for the confirmed claims, one per
        claim that is refuted, qualified or not tested (with its verdict and severity), and one
        for the undecided (``inconclusive``) ones.
    """
    if not topics:
        raise ValueError("topics must name at least one claim id")
    vs = ledger(list(topics))
    ok = [v for v in vs if v.verdict == "confirmed"]
    named = [(f"{topics[v.claim_id]} ({claim_ref(v.claim_id)})" if name_confirmed else claim_ref(v.claim_id)) for v in ok]
    items = [f"- **{len(ok)} of {len(vs)} confirmed**" + (": " + "; ".join(named) if named else "") + "."]
    for v in vs:
        if v.verdict in ("confirmed", "inconclusive"):
            continue
        items.append(
            f"- {topics[v.claim_id]} ({claim_ref(v.claim_id)}): {v.verdict}"
            + (f", severity *{v.severity}*" if v.severity else "") + "."
        )
    open_ = [f"{topics[v.claim_id]} ({claim_ref(v.claim_id)})" for v in vs if v.verdict == "inconclusive"]
    if open_:
        items.append("- Undecided (`inconclusive`): " + "; ".join(open_) + ".")
    return "**Findings:**\n\n" + "\n".join(items)
