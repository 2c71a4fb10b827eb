"""Number formatting for evidence strings and printed tables.

Stored notebook outputs are compared exactly by nbval, so every number a check or a cell
prints is rounded to what is meaningful, and rounding-level values (which differ across
BLAS builds) print as ``< floor``.
"""

from __future__ import annotations

import re

import numpy as np

__all__ = ["by_id", "md_table", "mtex", "sig", "small", "tex"]


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


_EXP = re.compile(r"^([+-]?[0-9.]*)e([+-]?)0*([0-9]+)$")


def tex(s: str) -> str:
    """A number formatted by :func:`sig`/:func:`small` as LaTeX with the same digits.

    ``"1.3e-09"`` becomes ``1.3\\times 10^{-9}``, ``"1e-12"`` becomes ``10^{-12}``,
    ``"< 1e-12"`` becomes ``< 10^{-12}``; plain decimals are returned unchanged.
    """
    s = str(s).strip()
    if s.startswith("< "):
        return "< " + tex(s[2:])
    m = _EXP.match(s)
    if not m:
        return s
    mant, sign, exp = m.groups()
    e = f"10^{{{'-' if sign == '-' else ''}{exp}}}"
    return e if mant in ("1", "") else rf"{mant}\times {e}"


def mtex(s: str) -> str:
    """A formatted number as inline MyST maths: ``$...$`` around :func:`tex`."""
    return f"${tex(s)}$"


def by_id(verdicts, ids) -> dict:
    """``{claim id: Verdict}`` for ``verdicts``, checking that every id in ``ids`` is there.

    Raises
    ------
    ValueError
        If a verdict on one of ``ids`` is missing.
    """
    vs = {v.claim_id: v for v in verdicts}
    missing = [cid for cid in ids if cid not in vs]
    if missing:
        raise ValueError(f"verdicts must include {', '.join(missing)}")
    return vs


def md_table(header: list[str], rows: list[list[str]], rule: str | list[str] = "---:") -> str:
    """A Markdown pipe table: a ``| a | b |`` line for the header, the rule and each row.

    Parameters
    ----------
    header : list of str
    rows : list of list of str
        The cells as written (nothing is escaped).
    rule : str or list of str, default ``"---:"``
        The rule cell of every column (``"---"``, ``"---:"``, ...), or one per column.

    Returns
    -------
    str
    """
    rule = [rule] * len(header) if isinstance(rule, str) else list(rule)
    if len(rule) != len(header):
        raise ValueError(f"rule must have one cell per column ({len(header)}), got {len(rule)}")
    return "\n".join("| " + " | ".join(r) + " |" for r in [header, rule, *rows])
