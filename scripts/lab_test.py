"""The README's "run one chapter" path, checked in a real browser (``make lab-test``).

Starts ``.venv/bin/jupyter lab`` on 127.0.0.1 (a free port, a random token, no browser,
temporary runtime/config/data/settings/workspace folders), opens
``chapters/02_sinkhorn_and_q.ipynb`` in headless Chromium and checks, as a reader sees it:

- MyST renders (the ``jupyterlab-myst`` extension): no markdown cell shows raw MyST
  (``(label)=``, ``{eq}``/``{cite}``/``{prf:ref}`` roles, ``:::{...}`` fences, ``$$``);
  the display equation labelled ``eq-sinkhorn-steps`` is typeset (KaTeX) with its number,
  and the cross-reference ``{eq}`eq-sinkhorn-steps``` in the exercises is a link to it showing
  that number; every ``{prf:ref}`` to a statement of the chapter is a link; every
  ``{prf:...}`` directive is a box; every exercise solution is folded (a closed <details>).
  References Lab cannot resolve (citations: no bibliography in Lab; labels in other chapters)
  are listed, not failed;
- the kernel runs: the imports cell, the cells the live explorer needs and the live explorer
  (the ipywidgets cell in the Explore section) execute without an error;
- the explorer redraws: the scale slider is set to 4, 0.5 and 4 again; after each change the
  kernel goes idle with a new image in the output, and both visits to 4 give the same image
  (the picture follows the slider rather than lagging a step behind).

The notebook is never written: autosave is off in the temporary settings and the browser's
save requests (PUT/PATCH/DELETE, and POST except Lab's first checkpoint, a copy in the
git-ignored ``.ipynb_checkpoints/``) are blocked and fail the test. Requests to any host other
than 127.0.0.1 are blocked and fail the test. Screenshots: ``_build/screenshots/lab-*.png``.
Timeouts are generous (a busy 2-core machine); a run takes about 1.5 minutes here.

Usage: python scripts/lab_test.py            (from the repository root; ``make lab-test``)
Exit 1 on failure. Without Chromium: a loud SKIPPED banner and exit 0, except in CI
(``CI=true``), where a missing Chromium fails (exit 1).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

from chromium import find_chromium, launch, no_chromium

REPO = Path(__file__).resolve().parent.parent
CHAPTER = "chapters/02_sinkhorn_and_q.ipynb"
SHOTS = REPO / "_build" / "screenshots"
# generous: the machine may be busy; a healthy run takes well under these
T_SERVER = 120  # s until the server answers
T_OPEN = 360  # s until the notebook is rendered and its kernel idle
T_CELL = 240  # s per executed cell
T_DRAW = 120  # s for the explorer to redraw
# the code cells to run, found by their source (in this order): the imports, the experiment the
# explorer shows, the explorer's plot function, and the live explorer itself
RUN_MARKERS = (
    ("imports cell", "import dsmlib"),
    ("attention experiment", "ch.attention_experiment()"),
    ("explorer plot function", "def attention_maps"),
    ("live explorer", "explorer("),
)
# raw MyST that must not survive rendering (searched in each markdown cell's visible text)
RAW_MYST = {
    "a (label)= target": re.compile(r"^\([\w.:-]+\)=\s*$", re.M),
    "a {role}`...`": re.compile(r"\{[a-z][\w:-]*\}`"),
    "a {role} (its target rendered as code)": re.compile(
        r"\{(?:eq|ref|numref|doc|term|download|abbr|prf:ref|cite(?::\w+)?|glue(?::\w+)?)\}"
    ),
    "a :::{directive} fence": re.compile(r":::\s*\{"),
    "a ```{directive} fence": re.compile(r"```\s*\{"),
    "$$": re.compile(r"\$\$"),
    "a directive option line (:label: ...)": re.compile(r"^:(label|class|nonumber):", re.M),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def jupyter_exe() -> str:
    for cand in (REPO / ".venv" / "bin" / "jupyter", Path(sys.executable).parent / "jupyter"):
        if cand.exists():
            return str(cand)
    raise SystemExit("lab test: no jupyter next to this Python; run `make setup` first")


def write_settings(folder: Path) -> None:
    """Lab user settings for the test: no autosave, every cell in the DOM, no news pop-up."""
    settings = {
        "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
        "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
        "@jupyterlab/apputils-extension/notification": {
            "fetchNews": "false",
            "checkForUpdates": False,
        },
    }
    for name, value in settings.items():
        path = folder / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))


def start_server(tmp: Path, port: int, token: str) -> subprocess.Popen:
    settings = tmp / "settings"
    write_settings(settings)
    env = dict(
        os.environ,
        JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
        JUPYTER_CONFIG_DIR=str(tmp / "config"),
        JUPYTER_DATA_DIR=str(tmp / "data"),
        IPYTHONDIR=str(tmp / "ipython"),
        OPENBLAS_NUM_THREADS=os.environ.get("OPENBLAS_NUM_THREADS", "1"),
        OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"),
        MKL_NUM_THREADS=os.environ.get("MKL_NUM_THREADS", "1"),
    )
    cmd = [
        jupyter_exe(), "lab", "--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={port}",
        "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={REPO}", f"--LabApp.user_settings_dir={settings}",
        f"--LabApp.workspaces_dir={tmp / 'workspaces'}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]  # fmt: skip
    log = open(tmp / "server.log", "w")
    return subprocess.Popen(
        cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def stop_server(proc: subprocess.Popen) -> None:
    """SIGTERM the server's process group (the server and its kernels), SIGKILL if it hangs."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass


def wait_for_server(proc: subprocess.Popen, port: int, token: str) -> None:
    url = f"http://127.0.0.1:{port}/api/status"
    req = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    t_end = time.monotonic() + T_SERVER
    while time.monotonic() < t_end:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(req, timeout=5):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"jupyter lab did not answer within {T_SERVER} s")


STATE_JS = r"""
() => {
  const cells = Array.from(document.querySelectorAll('.jp-NotebookPanel .jp-Notebook .jp-Cell'));
  const md = cells.filter(c => c.classList.contains('jp-MarkdownCell'));
  const ind = document.querySelector('.jp-NotebookPanel-toolbar .jp-Notebook-ExecutionIndicator');
  return {cells: cells.length, markdown: md.length,
          unrendered: md.filter(c => !c.classList.contains('jp-mod-rendered')).length,
          empty: md.map((c, i) => [i, c.querySelector('.jp-InputArea > .myst, .jp-MarkdownOutput')])
                   .filter(([i, o]) => !(o && o.innerText.trim())).map(([i]) => i).slice(0, 10),
          kernel: ind ? ind.getAttribute('data-status') : null,
          dialogs: Array.from(document.querySelectorAll('.jp-Dialog')).map(d => d.innerText.slice(0, 200))};
}
"""


KERNEL_IDLE_JS = """() => { const s = document.querySelector(
  '.jp-NotebookPanel-toolbar .jp-Notebook-ExecutionIndicator');
  return s && s.getAttribute('data-status') === 'idle'; }"""

# the explorer's image is loaded, differs from ``prev``, was the same one poll ago and the
# kernel is idle: returns its src
REDRAWN_JS = """([el, prev]) => {
  const i = el.querySelector('.widget-output img');
  const src = i && i.complete && i.naturalWidth > 0 ? i.getAttribute('src') : null;
  const st = document.querySelector('.jp-NotebookPanel-toolbar .jp-Notebook-ExecutionIndicator');
  const idle = st && st.getAttribute('data-status') === 'idle';
  const ok = src && src !== prev && idle && window.__labtestLastSrc === src;
  window.__labtestLastSrc = src;
  return ok ? src : false;
}"""


EQ_LABEL = "eq-sinkhorn-steps"  # a labelled display equation of the chapter, referenced with {eq}
# the rendered equation with that label: typeset as display maths? its number "(n)"?
EQUATION_JS = r"""
label => {
  const e = document.querySelector(`.jp-MarkdownCell .myst [id="${label}"]`);
  if (!e) return null;
  const m = e.innerText.match(/\(\d+\)\s*$/);
  return {display: e.querySelectorAll('.katex-display').length, number: m ? m[0].trim() : null};
}
"""

MARKDOWN_JS = r"""
() => {
  // the visible text with each typeset formula replaced by [math] (KaTeX's own text, such as
  // "(M)=", must not look like raw MyST): laid out off-screen so that innerText keeps lines
  const textWithoutMaths = el => {
    const box = document.createElement('div');
    box.style.cssText = 'position:absolute; left:-20000px; top:0; width:900px;';
    const clone = el.cloneNode(true);
    clone.querySelectorAll('.katex').forEach(k => k.replaceWith('[math]'));
    box.appendChild(clone);
    document.body.appendChild(box);
    const t = box.innerText;
    box.remove();
    return t;
  };
  const cells = Array.from(document.querySelectorAll('.jp-NotebookPanel .jp-Notebook .jp-Cell'));
  return cells.map((c, i) => {
    if (!c.classList.contains('jp-MarkdownCell')) return null;
    const out = c.querySelector('.jp-InputArea > .myst, .jp-MarkdownOutput');
    if (!out) return {index: i, rendered: false, text: '', katex: 0, katexDisplay: 0, katexError: 0,
                      prf: 0, links: [], unresolved: [], solutions: 0, solutionsOpen: 0};
    const sol = Array.from(out.querySelectorAll('.myst-exercise')).filter(
      e => /^\s*Solution to/.test((e.querySelector('.myst-exercise-title') || {}).innerText || ''));
    return {
      index: i,
      rendered: c.classList.contains('jp-mod-rendered'),
      myst: out.classList.contains('myst'),
      text: textWithoutMaths(out),
      katex: out.querySelectorAll('.katex').length,
      katexDisplay: out.querySelectorAll('.katex-display').length,
      katexError: out.querySelectorAll('.katex-error').length,
      prf: out.querySelectorAll('.myst-proof').length,
      links: Array.from(out.querySelectorAll('a')).map(
        a => [a.innerText.trim(), a.getAttribute('href') || '']),
      // jupyterlab-myst marks a reference or citation it cannot resolve with a warning span
      unresolved: Array.from(out.querySelectorAll('span.text-yellow-600[title]')).map(
        e => [e.getAttribute('title'), e.innerText.trim()]),
      solutions: sol.length,
      // folded = a closed <details> (jupyterlab-myst renders `:class: dropdown` that way)
      solutionsOpen: sol.filter(e => !(e.tagName === 'DETAILS' && !e.open)).length,
    };
  });
}
"""


def check_markdown(page, nb: dict, problems: list[str]) -> dict:
    """The rendered markdown: no raw MyST, the equation typeset, its cross-reference resolved."""
    cells = page.evaluate(MARKDOWN_JS)
    src = sources(nb)
    md = [c for c in cells if c is not None]
    stats = {"markdown cells": len(md), "typeset maths": sum(c["katex"] for c in md),
             "display equations": sum(c["katexDisplay"] for c in md)}  # fmt: skip
    if not all(c.get("myst") for c in md):
        problems.append("markdown is not rendered by jupyterlab-myst (is the extension installed?)")
    for c in md:
        if not c["rendered"]:
            problems.append(f"markdown cell {c['index']} is not rendered")
        for what, pat in RAW_MYST.items():
            m = pat.search(c["text"])
            if m:
                problems.append(f"markdown cell {c['index']} shows raw MyST, {what}: {m.group(0)!r}")
        if c["katexError"]:
            problems.append(f"markdown cell {c['index']}: {c['katexError']} KaTeX errors")
    # the display equation (eq-sinkhorn-steps): typeset, numbered, and the {eq} reference to it
    # a link that shows the same number
    eq = page.evaluate(EQUATION_JS, EQ_LABEL)
    ref_cell = next((i for i, s in enumerate(src) if f"{{eq}}`{EQ_LABEL}`" in s), None)
    if eq is None or ref_cell is None:
        problems.append(f"the chapter no longer has a $$ ... $$ ({EQ_LABEL}) equation rendered and "
                        f"an {{eq}}`{EQ_LABEL}` reference: update EQ_LABEL in scripts/lab_test.py")
        return stats
    if not eq["display"]:
        problems.append(f"the display equation {EQ_LABEL} is not typeset")
    if not eq["number"]:
        problems.append(f"the display equation {EQ_LABEL} shows no number")
    hits = [t for t, h in cells[ref_cell]["links"] if h.endswith(f"#{EQ_LABEL}")]
    if not hits:
        problems.append(f"the {{eq}} cross-reference in markdown cell {ref_cell} is not a link to "
                        f"#{EQ_LABEL}")
    elif hits[0] != eq["number"]:
        problems.append(f"the {{eq}} cross-reference reads {hits[0]!r}, the equation {eq['number']!r}")
    stats["equation " + EQ_LABEL] = f"typeset, number {eq['number']}; {{eq}} reference reads " + (
        repr(hits[0]) if hits else "nothing")
    # every {prf:ref} to a statement of this chapter is a link to it
    labels = set(re.findall(r"^:label:\s*(\S+)", "\n".join(src), re.M))
    targets = set(re.findall(r"\{prf:ref\}`(?:[^`<]*<)?([\w.-]+)>?`", "\n".join(src)))
    hrefs = {h.rsplit("#", 1)[-1] for c in md for _, h in c["links"] if "#" in h}
    missing = sorted((targets & labels) - hrefs)
    if missing:
        problems.append(f"{{prf:ref}} to {', '.join(missing)} not rendered as a link")
    stats["{prf:ref} targets in this chapter, linked"] = f"{len((targets & labels) - set(missing))}"
    unresolved: dict[str, set[str]] = {}
    for c in md:
        for title, text in c["unresolved"]:
            unresolved.setdefault(title, set()).add(text or "(a {numref} with no text)")
    for title, keys in sorted(unresolved.items()):  # expected: see the note in the report
        stats[f"not resolved in Lab ({title})"] = ", ".join(sorted(keys))
    # every {prf:...} directive a box, every solution folded
    n_prf = sum(len(re.findall(r"^\s*(?::::+|```+)\s*\{prf:\w+\}", s, re.M)) for s in src)
    n_box = sum(c["prf"] for c in md)
    if n_box < n_prf:
        problems.append(f"{n_prf} prf directives in the source but {n_box} proof boxes rendered")
    n_sol = sum(len(re.findall(r"^\s*(?::::+|```+)\s*\{solution\}", s, re.M)) for s in src)
    rendered_sol = sum(c["solutions"] for c in md)
    if rendered_sol != n_sol:
        problems.append(f"{n_sol} solutions in the source but {rendered_sol} rendered")
    opened = sum(c["solutionsOpen"] for c in md)
    if opened:
        problems.append(f"{opened} solution(s) shown unfolded (use `:class: dropdown`)")
    stats.update({"prf boxes": n_box, "solutions": f"{rendered_sol}, folded {rendered_sol - opened}"})
    return stats


def wait(page, what: str, js: str, arg=None, timeout: float = T_OPEN):
    """``page.wait_for_function(js, arg)`` polled every 0.5 s; a timeout names what it waited for."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        return page.wait_for_function(js, arg=arg, polling=500, timeout=timeout * 1000)
    except PlaywrightTimeout:
        raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}") from None


def run_cell(page, index: int, name: str) -> float:
    """Select code cell ``index`` (command mode), run it in place, wait for its prompt ``[n]``."""
    t0 = time.monotonic()
    c = page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").nth(index)
    c.scroll_into_view_if_needed()
    c.locator(".jp-InputPrompt").first.click()
    page.keyboard.press("Control+Enter")
    prompt = c.locator(".jp-InputArea-prompt").first
    wait(page, f"{name} (cell {index}) to finish", "el => /\\[\\d+\\]/.test(el.innerText)",
         prompt.element_handle(), T_CELL)
    text = c.locator(".jp-OutputArea").first.inner_text() if c.locator(".jp-OutputArea").count() else ""
    if re.search(r"Traceback \(most recent call last\)|^\w*(Error|Exception)\b.*:", text, re.M):
        raise RuntimeError(f"{name} (cell {index}) raised: {text.strip().splitlines()[-1][:200]}")
    return time.monotonic() - t0


def set_slider(page, slider, value: str) -> None:
    """Type ``value`` into an ipywidgets slider's editable readout and press Enter."""
    readout = slider.locator(".widget-readout")
    readout.click()
    page.keyboard.press("Control+A")
    page.keyboard.type(value)
    page.keyboard.press("Enter")


def session(page, port: int, token: str, nb: dict, to_run: list[tuple[str, int]],
            problems: list[str], timings: dict[str, float], stats: dict[str, object]) -> None:
    """Open the chapter in Lab, check the rendered MyST, run the explorer and move a slider."""
    from playwright.sync_api import Error as PlaywrightError

    t0 = time.monotonic()
    page.goto(f"http://127.0.0.1:{port}/lab/tree/{CHAPTER}?token={token}",
              wait_until="domcontentloaded")  # fmt: skip
    # others may edit the chapter while this runs: take the cell indices from the version the
    # server has now (Lab has just loaded it), and insist that the page shows that version
    nb.clear()
    nb.update(fetch_notebook(port, token))
    to_run[:] = plan(nb)
    src = sources(nb)
    wait(page, f"the notebook's {len(src)} cells",
         "n => document.querySelectorAll('.jp-NotebookPanel .jp-Notebook .jp-Cell').length >= n",
         len(src))
    n_dom = page.evaluate(
        "() => document.querySelectorAll('.jp-NotebookPanel .jp-Notebook .jp-Cell').length")
    if n_dom != len(src):
        raise RuntimeError(f"the page shows {n_dom} cells, the file {len(src)}: {CHAPTER} "
                           "changed during the test; run it again")
    # every markdown cell rendered (jupyterlab-myst renders asynchronously) ...
    wait(
        page, "every markdown cell rendered",
        """n => { const md = Array.from(document.querySelectorAll('.jp-NotebookPanel .jp-MarkdownCell'));
           return md.length >= n && md.every(c => {
             if (!c.classList.contains('jp-mod-rendered')) return false;
             const o = c.querySelector('.jp-InputArea > .myst, .jp-MarkdownOutput');
             return o && o.innerText.trim().length > 0; }); }""",
        sum(c["cell_type"] == "markdown" for c in nb["cells"]),
    )
    # ... and the kernel started and idle
    wait(page, "the kernel to start (status idle)", KERNEL_IDLE_JS)
    timings["notebook open, kernel idle"] = time.monotonic() - t0
    # the typeset maths has stopped changing: the same count on two polls in a row (zero if
    # jupyterlab-myst is missing: check_markdown then reports the raw MyST)
    wait(page, "the typeset maths to settle",
         """() => { const n = document.querySelectorAll('.jp-MarkdownCell .myst .katex').length;
           const ok = window.__labtestKatex === n; window.__labtestKatex = n; return ok; }""")
    stats.update(check_markdown(page, nb, problems))
    if os.environ.get("LAB_TEST_DUMP"):  # debugging: the rendered markdown cells' HTML
        Path(os.environ["LAB_TEST_DUMP"]).write_text(page.evaluate(
            "() => Array.from(document.querySelectorAll('.jp-MarkdownCell'))"
            ".map(c => c.outerHTML).join('\\n\\n')"))
    eq_cell = next((i for i, s in enumerate(src) if f"({EQ_LABEL})" in s and "$$" in s), None)
    ref_cell = next((i for i, s in enumerate(src) if f"{{eq}}`{EQ_LABEL}`" in s), None)
    top = page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell")
    for idx, shot in ((eq_cell, "lab-equation.png"), (ref_cell, "lab-exercises.png")):
        if idx is not None:
            top.nth(idx).scroll_into_view_if_needed()
            top.nth(idx).screenshot(path=str(SHOTS / shot))
    page.screenshot(path=str(SHOTS / "lab-opened.png"))

    # run from a clean slate so each prompt's [n] is new: clear the stored outputs
    page.get_by_role("menuitem", name="Edit").click()
    page.get_by_role("menuitem", name="Clear Outputs of All Cells").click()
    wait(page, "the outputs to be cleared",
         """() => Array.from(document.querySelectorAll(
             '.jp-NotebookPanel .jp-CodeCell .jp-InputArea-prompt')).every(p => !/\\d/.test(p.innerText))""")
    for name, idx in to_run:
        timings[f"run {name}"] = run_cell(page, idx, name)

    # the live explorer: its sliders, then three slider changes (4, 0.5, back to 4); after each,
    # wait until the kernel is idle and the output image is new and stable
    explorer = top.nth(to_run[-1][1]).locator(".widget-interact").first
    explorer.wait_for(state="visible", timeout=T_CELL * 1000)
    explorer.scroll_into_view_if_needed()
    sliders = explorer.locator(".widget-slider")
    if sliders.count() < 1:
        raise RuntimeError("the live explorer shows no slider")
    wait(page, "the kernel to be idle after the explorer cell", KERNEL_IDLE_JS)
    handle = explorer.element_handle()
    prev = page.evaluate(
        "el => { const i = el.querySelector('.widget-output img');"
        " return i ? i.getAttribute('src') : null; }",
        handle,
    )
    drawn = []
    for step, value in enumerate(("4", "0.5", "4"), start=1):
        t0 = time.monotonic()
        set_slider(page, sliders.first, value)
        try:
            prev = page.wait_for_function(
                REDRAWN_JS, arg=[handle, prev], polling=500, timeout=T_DRAW * 1000
            ).json_value()
        except PlaywrightError as exc:
            raise RuntimeError(f"the live explorer did not redraw after the slider was set to "
                               f"{value} ({str(exc).splitlines()[0][:120]})") from None
        timings[f"explorer draw {step} (scale {value})"] = time.monotonic() - t0
        drawn.append(prev)
        explorer.screenshot(path=str(SHOTS / f"lab-explorer-{step}.png"))
    n_img = explorer.locator(".widget-output img").count()
    if n_img != 1:
        problems.append(f"the explorer shows {n_img} images after a redraw (expected 1)")
    # the same slider value must give the same picture (the figure follows the slider, no lag)
    if drawn[2] != drawn[0]:
        problems.append("the explorer's picture at scale 4 differs between two visits: it does "
                        "not follow the slider (a redraw lagging one step behind?)")
    stats["explorer"] = "redraws after each slider change, same value gives the same picture"


def sources(nb: dict) -> list[str]:
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in nb["cells"]]


def plan(nb: dict) -> list[tuple[str, int]]:
    """The (name, index) of each code cell to run, found by RUN_MARKERS."""
    src, to_run = sources(nb), []
    for name, marker in RUN_MARKERS:
        idx = next((i for i, c in enumerate(nb["cells"])
                    if c["cell_type"] == "code" and marker in src[i]), None)  # fmt: skip
        if idx is None:
            raise ValueError(f"no code cell containing {marker!r} ({name}) in {CHAPTER}; "
                             "update RUN_MARKERS in scripts/lab_test.py")
        to_run.append((name, idx))
    return to_run


def fetch_notebook(port: int, token: str) -> dict:
    """The notebook as the server has it now (the cell indices below refer to this version)."""
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/contents/{CHAPTER}?content=1",
                                 headers={"Authorization": f"token {token}"})  # fmt: skip
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())["content"]


def main() -> int:
    exe = find_chromium()
    if exe is None:
        return no_chromium("the JupyterLab browser test (make lab-test)")
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    try:
        nb = json.loads((REPO / CHAPTER).read_text())
        to_run = plan(nb)
    except (OSError, ValueError) as exc:
        print(f"lab test: {exc}", file=sys.stderr)
        return 1

    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob("lab-*.png"):
        old.unlink()
    problems: list[str] = []
    timings: dict[str, float] = {}
    stats: dict[str, object] = {}
    t_start = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="dsm-lab-test-"))
    port, token = free_port(), secrets.token_hex(24)
    proc = start_server(tmp, port, token)
    try:
        wait_for_server(proc, port, token)
        timings["server up"] = time.monotonic() - t_start
        with sync_playwright() as pw:
            browser = launch(pw, exe, extra_args=("--headless",))
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            page.set_default_timeout(T_OPEN * 1000)

            def route(r):
                url, method = r.request.url, r.request.method
                host = urlparse(url).hostname
                if url.startswith(("data:", "blob:", "about:")):
                    r.continue_()
                elif host != "127.0.0.1":
                    problems.append(f"request to another host blocked: {url[:100]}")
                    r.abort()
                elif ("/api/contents/" in url and method in {"PUT", "PATCH", "POST", "DELETE"}
                      and not (method == "POST" and urlparse(url).path.endswith("/checkpoints"))):
                    # the test must never write a notebook (others may be editing it); Lab may
                    # still make its first checkpoint (a copy in the git-ignored .ipynb_checkpoints/)
                    problems.append(f"blocked a {method} that would change {urlparse(url).path}")
                    r.abort()
                else:
                    r.continue_()

            page.route("**/*", route)
            page_errors: list[str] = []
            page.on("pageerror", lambda e: page_errors.append(str(e)[:200]))
            try:
                session(page, port, token, nb, to_run, problems, timings, stats)
            except (PlaywrightError, RuntimeError, ValueError, OSError) as exc:
                problems.append(f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:300]}")
                try:  # what the page looked like when it failed
                    page.screenshot(path=str(SHOTS / "lab-failure.png"))
                    problems.append("state at failure: " + json.dumps(page.evaluate(STATE_JS)))
                except PlaywrightError:
                    pass
            for e in page_errors:
                problems.append(f"page error: {e}")
            browser.close()
    except RuntimeError as exc:  # the server did not start
        problems.append(str(exc))
    finally:
        stop_server(proc)
        log = (tmp / "server.log").read_text(errors="replace")
        shutil.rmtree(tmp, ignore_errors=True)
    total = time.monotonic() - t_start
    for k, v in stats.items():
        print(f"  {k}: {v}")
    print("  timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
    print(f"screenshots: {SHOTS}/lab-*.png")
    if problems:
        print(f"lab test FAILED after {total:.0f} s ({CHAPTER}):")
        for p in problems:
            print(f"  - {p}")
        print("--- end of the server log ---\n" + log[-2000:])
        return 1
    print(f"lab test passed in {total:.0f} s: {CHAPTER} renders MyST in JupyterLab and its "
          "live explorer redraws")
    return 0


if __name__ == "__main__":
    sys.exit(main())
