"""Number formatting for evidence strings and printed tables.

Stored notebook outputs are compared exactly by nbval, so every number a check or a cell
prints is rounded to what is meaningful, and rounding-level values (which differ across
BLAS builds) print as ``< floor``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["sig", "small"]


def sig(x: float, digits: int = 2) -> str:
    """``x`` rounded to ``digits`` significant digits (``"0"``, ``"nan"``, ``"inf"`` as such)."""
    x = float(x)
    if not np.isfinite(x):
        return str(x)
    if x == 0:
        return "0"
    return f"{x:.{digits}g}"


def small(x: float, floor: float = 1e-12, digits: int = 2) -> str:
    """Like :func:`sig`, but values below ``floor`` in magnitude print as ``"< floor"``."""
    return f"< {floor:g}" if abs(float(x)) < floor else sig(x, digits)
