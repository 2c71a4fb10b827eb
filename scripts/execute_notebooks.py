"""Execute notebooks in place and store their outputs (``make execute``).

Uses nbclient directly and strips the widget state from the notebook's metadata
afterwards: that state would make the HTML book load the widget manager from a CDN, and
the live widgets are for the kernel anyway. (Executing with ``store_widget_state=False``
breaks nbclient on an ``interact`` whose Output widget captures output.)

Usage: python scripts/execute_notebooks.py NOTEBOOK [NOTEBOOK ...]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


# the kernel inherits these (see the Makefile): one BLAS thread per process
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


def execute(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    nb.metadata.pop("widgets", None)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    t0 = time.perf_counter()
    NotebookClient(
        nb,
        timeout=1800,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        store_widget_state=True,  # needed while executing interact(); stripped below
        record_timing=False,  # no per-cell timestamps: re-running leaves git diffs clean
    ).execute()
    nb.metadata.pop("widgets", None)
    write_atomic(nb, path)
    return time.perf_counter() - t0


def write_atomic(nb: nbformat.NotebookNode, path: Path) -> None:
    """Write ``nb`` to a temporary file beside ``path``, then rename it over ``path``.

    A reader (or an interrupt) never sees a half-written notebook: ``os.replace`` is atomic
    on POSIX and Windows when both names are on the same file system. The file mode of the
    existing notebook is kept.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            nbformat.write(nb, fh)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.chmod(tmp, path.stat().st_mode & 0o777)
        except FileNotFoundError:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    total = 0.0
    for arg in argv:
        dt = execute(Path(arg))
        total += dt
        print(f"{arg}: executed in {dt:.1f} s", flush=True)
    print(f"total: {total:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
