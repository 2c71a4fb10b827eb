"""The one Chromium launcher of the browser tests (``browser_test.py``, ``lab_test.py``).

Finds a Chromium (``$CHROMIUM`` or the usual names on ``PATH``), says loudly when there is
none (a skip, except in CI where it is a failure), and launches it headless through
Playwright with the same flags for both tests.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any, Sequence

__all__ = ["CHROMIUM_CANDIDATES", "LAUNCH_ARGS", "banner", "find_chromium", "in_ci", "launch", "no_chromium"]

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "chrome")
#: no sandbox (containers), no GPU, and nothing that talks to another host
LAUNCH_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)
INSTALL_HINT = "Install it (Debian: apt-get install chromium) or set CHROMIUM=/path/to/chrome."


def find_chromium() -> str | None:
    """``$CHROMIUM`` if it exists, else the first of :data:`CHROMIUM_CANDIDATES` on ``PATH``."""
    env = os.environ.get("CHROMIUM")
    if env and Path(env).exists():
        return env
    for name in CHROMIUM_CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def in_ci() -> bool:
    """True when running in CI (``CI=true``, as CI services set it): skipping is then a failure."""
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def banner(msg: str) -> str:
    bar = "!" * 78
    return f"\n{bar}\n" + "\n".join(f"!! {line}" for line in msg.splitlines()) + f"\n{bar}\n"


def no_chromium(what: str) -> int:
    """Report that ``what`` did not run for want of Chromium; the exit status (1 in CI, else 0)."""
    msg = f"{what} did not run: no Chromium found.\n{INSTALL_HINT}"
    if in_ci():
        print(banner("FAILED: " + msg + "\nIn CI (CI=true) a missing Chromium is a failure."), file=sys.stderr)
        return 1
    print(banner("SKIPPED: " + msg))
    return 0


def launch(pw: Any, exe: str, extra_args: Sequence[str] = ()) -> Any:
    """A headless Chromium browser from a running ``sync_playwright()`` ``pw``."""
    return pw.chromium.launch(executable_path=exe, headless=True, args=[*LAUNCH_ARGS, *extra_args])
