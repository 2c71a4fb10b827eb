/* The claims ledger (chapters/claims.html): filter by paper, verdict, severity and free text,
   sort by any column, and keep the state in the URL (?paper=HT&verdict=refuted&severity=scope
   &q=wedin&sort=-verdict; a #hash with the same keys is read too), restored on load.
   Static: it reads the table dsmlib.book_view.ledger_markdown renders (first badge of the
   verdict cell: the verdict; second: the severity). No kernel, no network. */
(function () {
  "use strict";
  var VERDICTS = ["confirmed", "qualified", "refuted", "inconclusive", "not-tested"];
  var SEVERITIES = ["cosmetic", "proof", "constant", "scope", "conclusion"];
  var KEYS = ["paper", "verdict", "severity", "q"];
  var COLS = ["id", "statement", "verdict", "chapter"];

  function norm(s) { return (s || "").toLowerCase().replace(/\s+/g, " ").trim(); }

  function readState() {
    var st = {};
    var q = new URLSearchParams(window.location.search);
    var h = new URLSearchParams(window.location.hash.replace(/^#/, ""));
    KEYS.concat(["sort"]).forEach(function (k) { st[k] = q.get(k) || h.get(k) || ""; });
    return st;
  }

  function writeState(st) {
    var q = new URLSearchParams(window.location.search);
    KEYS.concat(["sort"]).forEach(function (k) { if (st[k]) { q.set(k, st[k]); } else { q.delete(k); } });
    var s = q.toString();
    var url = window.location.pathname + (s ? "?" + s : "");
    if (url !== window.location.pathname + window.location.search) {
      window.history.replaceState(null, "", url);
    }
  }

  function init() {
    var table = document.querySelector("table.ledger-table");
    var form = document.querySelector("form.ledger-filter");
    if (!table || !form || !table.tBodies.length) { return; }
    var tbody = table.tBodies[0];
    var rows = Array.prototype.map.call(tbody.rows, function (tr, i) {
      var c = tr.cells;
      var badges = c[2] ? c[2].querySelectorAll(".sd-badge") : [];
      var id = norm(c[0].textContent).split(" ")[0].toUpperCase();
      var link = c[3] ? c[3].querySelector("a") : null;
      return {
        tr: tr, i: i, id: id, paper: id.split("-")[0],
        verdict: badges.length ? norm(badges[0].textContent) : "",
        severity: badges.length > 1 ? norm(badges[1].textContent) : "",
        chapter: link ? link.getAttribute("href") : "~",
        statement: norm(c[1] ? c[1].textContent : ""),
      };
    });
    var controls = {};
    KEYS.forEach(function (k) { controls[k] = document.getElementById("ledger-" + k); });
    var count = document.getElementById("ledger-count");
    var heads = table.tHead ? Array.prototype.slice.call(table.tHead.rows[0].cells) : [];
    var state = readState();

    function text(r) { return norm(r.tr.textContent); }  // read when filtering: maths is typeset by then

    function apply() {
      var q = norm(state.q), shown = 0;
      rows.forEach(function (r) {
        var ok = (!state.paper || r.paper === state.paper.toUpperCase()) &&
          (!state.verdict || r.verdict === state.verdict) &&
          (!state.severity || r.severity === state.severity) &&
          (!q || q.split(" ").every(function (w) { return text(r).indexOf(w) >= 0; }));
        r.tr.hidden = !ok;
        r.tr.classList.toggle("ledger-hidden", !ok);
        if (ok) { shown += 1; }
      });
      var col = state.sort.replace(/^-/, ""), desc = state.sort.charAt(0) === "-";
      var idx = COLS.indexOf(col);
      var sorted = rows.slice().sort(function (a, b) {
        var ka, kb;
        if (col === "verdict") {
          ka = [VERDICTS.indexOf(a.verdict), SEVERITIES.indexOf(a.severity)];
          kb = [VERDICTS.indexOf(b.verdict), SEVERITIES.indexOf(b.severity)];
        } else if (col === "id") { ka = [a.id]; kb = [b.id]; }
        else if (col === "statement") { ka = [a.statement]; kb = [b.statement]; }
        else if (col === "chapter") { ka = [a.chapter]; kb = [b.chapter]; }
        else { ka = [a.i]; kb = [b.i]; }
        for (var j = 0; j < ka.length; j++) {
          if (ka[j] < kb[j]) { return desc ? 1 : -1; }
          if (ka[j] > kb[j]) { return desc ? -1 : 1; }
        }
        return a.i - b.i;
      });
      sorted.forEach(function (r) { tbody.appendChild(r.tr); });
      heads.forEach(function (th, j) {
        th.setAttribute("aria-sort", j === idx ? (desc ? "descending" : "ascending") : "none");
      });
      KEYS.forEach(function (k) { if (controls[k] && controls[k].value !== state[k]) { controls[k].value = state[k]; } });
      if (count) { count.textContent = shown + " of " + rows.length + " claims"; }
      writeState(state);
    }

    KEYS.forEach(function (k) {
      var el = controls[k];
      if (!el) { return; }
      el.addEventListener(el.tagName === "SELECT" ? "change" : "input", function () { state[k] = el.value.trim(); apply(); });
    });
    var reset = document.getElementById("ledger-reset");
    if (reset) {
      reset.addEventListener("click", function () { KEYS.concat(["sort"]).forEach(function (k) { state[k] = ""; }); apply(); });
    }
    heads.forEach(function (th, j) {
      th.classList.add("ledger-sortable");
      th.setAttribute("tabindex", "0");
      th.setAttribute("title", "Sort by " + COLS[j] + " (again: reverse)");
      function sort() { state.sort = state.sort === COLS[j] ? "-" + COLS[j] : COLS[j]; apply(); }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); } });
    });
    window.addEventListener("popstate", function () { state = readState(); apply(); });
    table.classList.add("ledger-ready");
    apply();
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
