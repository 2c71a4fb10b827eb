"""Local Sphinx extension: keep the HTML book self-contained and quiet in the browser.

- Drops sphinx-thebe's scripts (jupyter-book 1.x always loads sphinx-thebe; its config
  script is added twice, which throws "THEBE_JS_URL has already been declared", and
  thebe itself would load from unpkg.com: live code belongs in `make lab`, not the HTML).
- Sets the theme's default colour mode, whose empty default makes pydata-sphinx-theme
  log a console error on first load.
- Fails the build if any page still references a script or stylesheet on another host.
"""

from __future__ import annotations

import re
from typing import Any

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

_REMOTE = re.compile(r"""<(?:script|link)\b[^>]*(?:src|href)=["'](?:https?:)?//""", re.I)


def _config_inited(app: Sphinx, config: Any) -> None:
    ctx = dict(config.html_context or {})
    ctx.setdefault("default_mode", "light")
    config.html_context = ctx


def _page_context(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    scripts = context.get("script_files")
    if scripts is None:
        return
    kept = []
    for js in scripts:
        body = getattr(js, "attributes", {}).get("body", "") or ""
        name = str(js)
        if "THEBE_JS_URL" in body or "sphinx-thebe.js" in name or "thebe" in name and name.startswith("http"):
            continue
        kept.append(js)
    context["script_files"] = kept


def _check_remote(app: Sphinx, exc: Exception | None) -> None:
    if exc is not None or app.builder.format != "html":
        return
    bad = []
    for path in sorted(app.builder.outdir.rglob("*.html")):
        for m in _REMOTE.finditer(path.read_text(encoding="utf8", errors="replace")):
            bad.append(f"{path.relative_to(app.builder.outdir)}: {m.group(0)[:100]}")
    if bad:
        raise ExtensionError("pages load scripts/styles from another host:\n" + "\n".join(bad[:20]))


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", _config_inited)
    app.connect("html-page-context", _page_context, priority=900)
    app.connect("build-finished", _check_remote)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
