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
- no request leaves 127.0.0.1 (every other request is blocked and reported).
A full-page screenshot of each page is saved under ``_build/screenshots/``, and at window
widths 1400 and 900 px the landing page and the ledger whole and each chapter's first figure.

Usage: python scripts/browser_test.py [_build/html]
Exits 1 if a page fails; if no Chromium is found it prints a loud SKIPPED banner and exits 0,
except in CI (environment variable ``CI=true``), where a missing Chromium fails the run (exit 1).
"""

from __future__ import annotations

import functools
import http.server
import sys
import threading
from pathlib import Path
from urllib.parse import urlparse

from chromium import find_chromium, launch, no_chromium

SKIP_PAGES = {"genindex.html", "search.html", "index.html"}  # index.html only redirects to intro.html


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
        for path in pages:
            rel = path.relative_to(root).as_posix()
            problems: list[str] = []
            page = context.new_page()

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
            shot = shots / (rel.replace("/", "__").removesuffix(".html") + ".png")
            page.screenshot(path=str(shot), full_page=True)
            # what a reader sees at a wide and a narrow window: the landing page and the ledger
            # whole, and the first figure of every chapter
            for width in (1400, 900):
                page.set_viewport_size({"width": width, "height": 900})
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
        browser.close()
    server.shutdown()
    print(f"screenshots: {shots}")
    print(f"browser: {len(pages) - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
