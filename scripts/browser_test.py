"""Load every page of the built book in headless Chromium and check it as a reader sees it.

For each HTML page served from 127.0.0.1:
- math is typeset: no raw ``$$`` / ``\\[`` left in the text, and MathJax output present on
  every page that has math;
- every image has loaded (``complete`` and a non-zero natural width);
- no console error and no uncaught page error;
- every kernel-free frame player (``dsmlib.widgets.frame_player``) follows its slider;
- every figure (PNG with a resolution in its header) is at most 8 in wide at >= 140 dpi and
  is displayed at >= 90 CSS px per inch, so its text is not shrunk below readability;
- no verdict box (and no text on the landing page or the ledger) shows ASCII maths such as
  ``||``, ``sqrt(``, ``<=`` or ``sigma_2`` outside code;
- no request leaves 127.0.0.1 (every other request is blocked and reported);
- at window widths 1400 and 900 px: no table, figure or code line wider than the article
  column (a table that scrolls or is clipped counts), and exactly one search box;
- every page links the source archive in its header (``dsm-book-source.tar.gz``);
- the landing page's first screen at 1400 x 900 holds one box per paper, each with its verdict
  bar and three to five headline corrections linked to their checks;
- the ledger's severity and text filters work, sorting works, and the state is written to and
  restored from the URL (query and hash);
- the "expand all evidence" control opens and closes every evidence dropdown of a page;
- search result snippets show no raw TeX;
- the source archive contains README.md, Makefile, dsmlib/ and every chapter notebook, and every
  downloadable notebook opens with the cell that says how to get dsmlib.
A full-page screenshot of each page is saved under ``_build/screenshots/``, and at window
widths 1400 and 900 px the landing page and the ledger whole and each chapter's first figure.

Usage: python scripts/browser_test.py [_build/html]
Exits 1 if a page fails; if no Chromium is found it prints a loud SKIPPED banner and exits 0,
except in CI (environment variable ``CI=true``), where a missing Chromium fails the run (exit 1).
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import sys
import tarfile
import threading
from pathlib import Path
from urllib.parse import urlparse

from chromium import find_chromium, launch, no_chromium

SKIP_PAGES = {"genindex.html", "search.html", "index.html"}  # index.html only redirects to intro.html
#: the source archive the build ships (_ext/reader_book.py)
ARCHIVE = "dsm-book-source.tar.gz"
#: the window widths a reader uses: a laptop with the sidebar, a narrow window without it
WIDTHS = (1400, 900)


def serve(root: Path) -> tuple[http.server.ThreadingHTTPServer, int]:
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # keep the test output readable
        pass


CHECK_JS = r"""
async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    try { await MathJax.startup.promise; } catch (e) {}
  }
  const imgs = Array.from(document.images);
  await Promise.all(imgs.map(i => i.complete ? null : new Promise(r => { i.onload = i.onerror = r; })));
  const main = document.querySelector('main') || document.body;
  const text = main.innerText;
  return {
    mathNodes: document.querySelectorAll('.math, div.math, span.math').length,
    mjx: document.querySelectorAll('mjx-container').length,
    rawDisplay: (text.match(/\$\$/g) || []).length,
    rawBracket: (text.match(/\\\[|\\\(/g) || []).length,
    images: imgs.length,
    broken: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => (i.getAttribute('src') || '').slice(0, 80)),
    mathjaxError: document.querySelectorAll('mjx-merror').length,
    players: Array.from(document.querySelectorAll('.dsmlib-player')).map(p => {
      // the kernel-free explorer: move its slider to another end, check the shown frame follows
      const s = p.querySelector('input[type=range]'), imgs = p.querySelectorAll('img');
      const before = Array.from(imgs).findIndex(i => i.style.display !== 'none');
      const target = before === Number(s.max) ? 0 : Number(s.max);
      s.value = target; s.dispatchEvent(new Event('input'));
      const after = Array.from(imgs).findIndex(i => i.style.display !== 'none');
      return {frames: imgs.length, before: before, after: after, target: target};
    }),
  };
}
"""


FIG_JS = r"""
() => Array.from(document.querySelectorAll('main img')).filter(i => i.clientWidth > 0).map(i => ({
  src: i.currentSrc || i.src, nw: i.naturalWidth, cw: i.clientWidth,
  inPlayer: !!i.closest('.dsmlib-player'),
}))
"""

#: figure limits of the book (issue: at most 8 in wide at >= 140 dpi, shown at >= 90 CSS px per inch)
MAX_FIG_IN, MIN_FIG_DPI, MIN_CSS_PX_PER_IN = 8.0, 140.0, 90.0


def png_dpi(path: Path) -> float | None:
    """Horizontal resolution of a PNG from its pHYs chunk (None if absent or not a PNG)."""
    import struct

    data = path.read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    pos = 8
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"pHYs":
            ppx, _ppy, unit = struct.unpack(">IIB", data[pos + 8:pos + 17])
            return ppx * 0.0254 if unit == 1 else None
        if kind == b"IDAT":
            return None
        pos += 12 + length
    return None


def figure_problems(figs: list[dict], root: Path, base: str) -> tuple[list[str], int]:
    """Size and resolution problems of the figures a page shows (see the limits above)."""
    problems, checked = [], 0
    for f in figs:
        src = f["src"]
        if not src.startswith(base) or not src.lower().endswith(".png"):
            continue
        path = root / src[len(base):].split("#")[0].split("?")[0]
        dpi = png_dpi(path) if path.exists() else None
        if dpi is None:
            continue
        checked += 1
        inches = f["nw"] / dpi
        css_per_in = f["cw"] / inches
        name = path.name[:40]
        if inches > MAX_FIG_IN + 1e-6:
            problems.append(f"figure {name} is {inches:.1f} in wide (> {MAX_FIG_IN:g} in)")
        if dpi < MIN_FIG_DPI:
            problems.append(f"figure {name} is at {dpi:.0f} dpi (< {MIN_FIG_DPI:g})")
        if css_per_in < MIN_CSS_PX_PER_IN:
            problems.append(f"figure {name} is shown at {css_per_in:.0f} CSS px per inch (< {MIN_CSS_PX_PER_IN:g})")
    return problems, checked

ASCII_JS = r"""
() => {
  const pat = /\|\||sqrt\(|<=|>=|sigma_\d|\bnu\^2/;
  const clean = el => {
    const c = el.cloneNode(true);
    c.querySelectorAll('mjx-container, code, pre, .dropdown, details, script').forEach(x => x.remove());
    return c.innerText;
  };
  const hits = [];
  document.querySelectorAll('div.verdict').forEach(v => {
    const t = clean(v); if (pat.test(t)) hits.push('verdict: ' + t.slice(0, 120));
  });
  if (/(^|\/)(intro|claims)\.html$/.test(location.pathname)) {
    document.querySelectorAll('main td, main p, main li').forEach(e => {
      if (e.closest('div.verdict')) return;
      const t = clean(e); if (pat.test(t)) hits.push('text: ' + t.slice(0, 120));
    });
  }
  return hits;
}
"""


WIDTH_JS = r"""
() => {
  const art = document.querySelector('article.bd-article') || document.querySelector('main');
  // the column is the article's content box (its padding is not room for a table)
  const box = art.getBoundingClientRect(), cs = getComputedStyle(art), out = [];
  const a = {left: box.left + parseFloat(cs.paddingLeft), right: box.right - parseFloat(cs.paddingRight)};
  a.width = a.right - a.left;
  const near = el => { const s = el.closest('section[id]'); return s ? '#' + s.id : ''; };
  const wide = r => r.width > 0 && (r.right > a.right + 1 || r.left < a.left - 1);
  art.querySelectorAll('table').forEach(t => {
    const r = t.getBoundingClientRect();
    if (r.width === 0) return;  // not shown (a closed dropdown)
    const box = t.closest('.pst-scrollable-table-container');
    if (wide(r)) out.push(`table ${Math.round(r.width)} px wide in a ${Math.round(a.width)} px column (${near(t)})`);
    else if (box && box.scrollWidth > box.clientWidth + 1)
      out.push(`table scrolls: ${box.scrollWidth} px in ${box.clientWidth} px (${near(t)})`);
  });
  art.querySelectorAll('img, figure').forEach(f => {
    const r = f.getBoundingClientRect();
    if (wide(r)) out.push(`${f.tagName.toLowerCase()} ${Math.round(r.width)} px wide in a ${Math.round(a.width)} px column (${near(f)})`);
  });
  art.querySelectorAll('pre').forEach(p => {
    if (p.getBoundingClientRect().width === 0) return;
    if (p.scrollWidth > p.clientWidth + 1 || wide(p.getBoundingClientRect())) {
      const line = p.textContent.split('\n').reduce((x, y) => (y.length > x.length ? y : x), '');
      out.push(`code line ${p.scrollWidth} px in a ${p.clientWidth} px block (${near(p)}): ${line.slice(0, 60)}`);
    }
  });
  const search = Array.from(document.querySelectorAll('.search-button, .search-button-field, input[type=search][name=q]'))
    .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden'; });
  if (search.length !== 1) out.push(`${search.length} search boxes visible (want 1)`);
  return out;
}
"""

LANDING_JS = r"""
() => {
  window.scrollTo(0, 0);
  const boxes = Array.from(document.querySelectorAll('.paper-box'));
  return boxes.map(b => {
    const r = b.getBoundingClientRect();
    const segs = Array.from(b.querySelectorAll('.vbar .vseg'));
    const fixes = Array.from(b.querySelectorAll('.paper-fixes li'));
    return {
      cls: b.className, bottom: r.bottom, height: window.innerHeight,
      segments: segs.length, counted: segs.reduce((n, s) => n + Number(s.textContent || 0), 0),
      fixes: fixes.length, linked: fixes.filter(li => li.querySelector('a[href*="#"]')).length,
      none: /No claim of this paper/.test(b.textContent),
    };
  });
}
"""

ROWS_JS = r"""
() => Array.from(document.querySelectorAll('table.ledger-table tbody tr')).filter(tr => !tr.hidden).map(tr => {
  const b = tr.cells[2].querySelectorAll('.sd-badge');
  return {id: tr.cells[0].textContent.trim().split(/\s+/)[0], verdict: b.length ? b[0].textContent.trim() : '',
          severity: b.length > 1 ? b[1].textContent.trim() : '', text: tr.textContent.toLowerCase()};
})
"""

VERDICT_ORDER = ("confirmed", "qualified", "refuted", "inconclusive", "not-tested")


def check_ledger(context, base: str) -> list[str]:
    """The ledger's severity and text filters, sorting, and the URL state they write and restore."""
    problems: list[str] = []
    page = context.new_page()
    url = base + "chapters/claims.html"
    page.goto(url, wait_until="load")
    page.wait_for_selector("table.ledger-table.ledger-ready", timeout=15000)
    every = page.evaluate(ROWS_JS)
    if len(every) < 10:
        problems.append(f"ledger shows {len(every)} rows unfiltered")
    sev = next((r["severity"] for r in every if r["severity"]), "")
    # severity filter, from the URL
    if sev:
        page.goto(f"{url}?severity={sev}", wait_until="load")
        page.wait_for_selector("table.ledger-table.ledger-ready")
        rows = page.evaluate(ROWS_JS)
        want = sum(r["severity"] == sev for r in every)
        if len(rows) != want or any(r["severity"] != sev for r in rows):
            problems.append(f"severity filter '{sev}' from the URL shows {len(rows)} rows, want {want}")
        if page.input_value("#ledger-severity") != sev:
            problems.append("severity select not restored from the URL")
    else:
        problems.append("no row of the ledger carries a severity")
    # text filter, typed; written to the URL; restored from it
    page.goto(url, wait_until="load")
    page.wait_for_selector("table.ledger-table.ledger-ready")
    word = "wedin"
    page.fill("#ledger-q", word)
    rows = page.evaluate(ROWS_JS)
    if not rows or any(word not in r["text"] for r in rows) or len(rows) == len(every):
        problems.append(f"text filter '{word}' shows {len(rows)} of {len(every)} rows")
    if f"q={word}" not in page.url:
        problems.append(f"text filter not written to the URL ({page.url})")
    page.reload(wait_until="load")
    page.wait_for_selector("table.ledger-table.ledger-ready")
    again = page.evaluate(ROWS_JS)
    if page.input_value("#ledger-q") != word or [r["id"] for r in again] != [r["id"] for r in rows]:
        problems.append("text filter not restored from the URL after a reload")
    # hash form and sorting by verdict
    page.goto(f"{url}#paper=RC", wait_until="load")
    page.wait_for_selector("table.ledger-table.ledger-ready")
    rows = page.evaluate(ROWS_JS)
    if not rows or any(not r["id"].startswith("RC-") for r in rows):
        problems.append("paper filter from the URL hash does not show RC claims only")
    page.click("table.ledger-table thead th:nth-child(3)")
    order = [VERDICT_ORDER.index(r["verdict"]) for r in page.evaluate(ROWS_JS) if r["verdict"] in VERDICT_ORDER]
    if order != sorted(order) or "sort=verdict" not in page.url:
        problems.append("sorting by verdict does not order the rows (or is not kept in the URL)")
    page.close()
    return problems


def check_expand(page) -> list[str]:
    """The "expand all evidence" control opens, then closes, every evidence dropdown."""
    n = page.evaluate("() => document.querySelectorAll('main details.sd-dropdown').length")
    if not n:
        return []
    btn = page.locator(".btn-expand-evidence")
    if not btn.count():
        return [f"{n} evidence dropdowns but no 'expand all evidence' control"]
    btn.first.click()
    opened = page.evaluate("() => Array.from(document.querySelectorAll('main details.sd-dropdown')).every(d => d.open)")
    btn.first.click()
    closed = page.evaluate("() => Array.from(document.querySelectorAll('main details.sd-dropdown')).every(d => !d.open)")
    return [] if opened and closed else [f"'expand all evidence' does not open and close the {n} dropdowns"]


def check_search(context, base: str) -> list[str]:
    """Search result snippets show no raw TeX."""
    page = context.new_page()
    page.goto(base + "search.html?q=sigma", wait_until="load")
    try:
        page.wait_for_selector("#search-results .context", timeout=30000)
        page.wait_for_timeout(1500)
    except Exception:  # noqa: BLE001 - reported as a problem below
        page.close()
        return ["search for 'sigma' shows no result snippets"]
    snippets = page.eval_on_selector_all("#search-results .context", "els => els.map(e => e.textContent)")
    page.close()
    raw = [t for t in snippets if re.search(r"\\[A-Za-z]+|\\[()\[\]]|\$", t)]
    return [f"search snippet with raw TeX: {t[:100]}" for t in raw[:5]]


def check_archive(root: Path) -> list[str]:
    """The source archive holds the README, the Makefile, dsmlib/ and every chapter notebook;
    every downloadable notebook starts with the cell that says how to get dsmlib."""
    problems = []
    path = root / ARCHIVE
    if not path.exists():
        return [f"{ARCHIVE} not in the build"]
    with tarfile.open(path) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    want = {"README.md", "Makefile", "intro.ipynb"}
    want |= {p.relative_to(root / "_sources").as_posix() for p in (root / "_sources" / "chapters").glob("*.ipynb")}
    problems += [f"{ARCHIVE} lacks {w}" for w in sorted(want - names)]
    if not any(n.startswith("dsmlib/") and n.endswith(".py") for n in names):
        problems.append(f"{ARCHIVE} lacks dsmlib/")
    if len(want) < 4:
        problems.append("fewer than two chapter notebooks in _sources/chapters")
    for nb in sorted((root / "_sources").rglob("*.ipynb")):
        cells = json.loads(nb.read_text(encoding="utf8")).get("cells", [])
        first = "".join(cells[0].get("source", "")) if cells else ""
        if not (cells and cells[0].get("cell_type") == "markdown" and "make setup" in first and ARCHIVE in first):
            problems.append(f"downloadable {nb.relative_to(root)} does not open with how to get dsmlib")
    return problems


def main(argv: list[str]) -> int:
    root = Path(argv[0] if argv else "_build/html").resolve()
    if not (root / "index.html").exists():
        print(f"browser test: {root}/index.html not found; build the book first", file=sys.stderr)
        return 1
    exe = find_chromium()
    if exe is None:
        return no_chromium("the browser test of the HTML book")
    from playwright.sync_api import sync_playwright

    pages = sorted(p for p in root.rglob("*.html") if p.name not in SKIP_PAGES and "_static" not in p.parts)
    shots = root.parent / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    server, port = serve(root)
    base = f"http://127.0.0.1:{port}/"
    failures: dict[str, list[str]] = {}
    with sync_playwright() as pw:
        browser = launch(pw, exe)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        expand_checked = False
        for path in pages:
            rel = path.relative_to(root).as_posix()
            problems: list[str] = []
            page = context.new_page()
            page.set_default_timeout(120000)  # long chapters on a busy machine

            def route(r, problems=problems):
                host = urlparse(r.request.url).hostname
                if r.request.url.startswith(("data:", "blob:", "about:")) or host == "127.0.0.1":
                    r.continue_()
                else:
                    problems.append(f"request to another host blocked: {r.request.url[:100]}")
                    r.abort()

            page.route("**/*", route)
            page.on("console", lambda m, problems=problems: m.type == "error" and problems.append(f"console error: {m.text[:160]}"))
            page.on("pageerror", lambda e, problems=problems: problems.append(f"page error: {str(e)[:160]}"))
            page.goto(base + rel, wait_until="load")
            info = page.evaluate(CHECK_JS)
            if info["mathNodes"] and not info["mjx"]:
                problems.append(f"{info['mathNodes']} math nodes but no MathJax output")
            if info["rawDisplay"] or info["rawBracket"]:
                problems.append(f"raw TeX delimiters left in the text ($$: {info['rawDisplay']}, \\[ or \\(: {info['rawBracket']})")
            if info["mathjaxError"]:
                problems.append(f"{info['mathjaxError']} MathJax errors")
            for pl in info["players"]:
                if pl["frames"] < 2 or pl["after"] != pl["target"] or pl["after"] == pl["before"]:
                    problems.append(f"frame player does not respond to its slider: {pl}")
            for src in info["broken"]:
                problems.append(f"image not loaded: {src}")
            fig_problems, n_figs = figure_problems(page.evaluate(FIG_JS), root, base)
            problems += fig_problems
            problems += [f"ASCII maths outside code: {h}" for h in page.evaluate(ASCII_JS)]
            if not page.evaluate(f"() => !!document.querySelector('.article-header-buttons a[href$=\"{ARCHIVE}\"]')"):
                problems.append(f"no link to the source archive {ARCHIVE} in the page header")
            if rel == "run_it_yourself.html" and not page.evaluate(f"() => !!document.querySelector('main a[href$=\"{ARCHIVE}\"]')"):
                problems.append(f"'Run it yourself' does not link the source archive {ARCHIVE}")
            if not expand_checked and page.evaluate("() => document.querySelectorAll('main details.sd-dropdown').length"):
                problems += check_expand(page)
                expand_checked = True
            shot = shots / (rel.replace("/", "__").removesuffix(".html") + ".png")
            page.screenshot(path=str(shot), full_page=True)
            # what a reader sees at a wide and a narrow window: the landing page and the ledger
            # whole, and the first figure of every chapter
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                page.wait_for_timeout(150)
                problems += [f"at {width} px: {p}" for p in page.evaluate(WIDTH_JS)]
                if rel == "intro.html" and width == 1400:
                    boxes = page.evaluate(LANDING_JS)
                    if len(boxes) != 2:
                        problems.append(f"landing page: {len(boxes)} paper boxes, want 2 (HT, RC)")
                    for b in boxes:
                        if b["bottom"] > b["height"] + 0.5:
                            problems.append(f"landing page: box '{b['cls']}' ends at {b['bottom']:.0f} px, below the first screen ({b['height']} px)")
                        if not b["segments"] or b["counted"] < 1:
                            problems.append(f"landing page: box '{b['cls']}' has no verdict bar")
                        if not b["none"] and not (3 <= b["fixes"] <= 5 and b["linked"] == b["fixes"]):
                            problems.append(f"landing page: box '{b['cls']}' lists {b['fixes']} corrections ({b['linked']} linked), want 3-5, each linked")
                    page.screenshot(path=str(shots / f"intro-first-screen-{width}.png"))
                stem = shot.with_suffix("").name + f"-{width}"
                if rel in ("intro.html", "chapters/claims.html"):
                    page.screenshot(path=str(shots / f"{stem}.png"), full_page=True)
                else:
                    fig = page.locator("main .cell_output img").first
                    if fig.count():
                        fig.scroll_into_view_if_needed()
                        fig.screenshot(path=str(shots / f"{stem}-figure.png"))
            page.set_viewport_size({"width": 1280, "height": 900})
            page.close()
            status = "FAIL" if problems else "ok"
            print(f"{status:4} {rel}: math nodes {info['mathNodes']}, typeset {info['mjx']}, images {info['images']}, "
                  f"figures checked {n_figs}, frame players {len(info['players'])}")
            for p in problems:
                print(f"       - {p}")
            if problems:
                failures[rel] = problems
        for name, extra in (("chapters/claims.html (filters)", check_ledger(context, base)),
                            ("search.html (snippets)", check_search(context, base)),
                            (ARCHIVE, check_archive(root))):
            print(f"{'FAIL' if extra else 'ok':4} {name}")
            for p in extra:
                print(f"       - {p}")
            if extra:
                failures[name] = extra
        browser.close()
    server.shutdown()
    print(f"screenshots: {shots}")
    print(f"browser: {len(pages) + 3 - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
