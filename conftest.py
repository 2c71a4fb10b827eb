"""Repository-wide pytest hooks: per-notebook execution times for `make test`."""

from __future__ import annotations

from collections import defaultdict

_NB_TIMES: dict[str, float] = defaultdict(float)


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::", 1)[0]
    if path.endswith(".ipynb"):
        _NB_TIMES[path] += report.duration


def pytest_terminal_summary(terminalreporter):
    if not _NB_TIMES:
        return
    tr = terminalreporter
    tr.section("notebook execution times (all cells, slowest first)")
    for path, secs in sorted(_NB_TIMES.items(), key=lambda kv: -kv[1]):
        tr.write_line(f"{secs:8.1f} s  {path}")
    tr.write_line(f"{sum(_NB_TIMES.values()):8.1f} s  total")
