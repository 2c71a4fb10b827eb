"""Chapter 5, the experiments (config in, dataclass of arrays out, disk-cached), by concern."""

from __future__ import annotations

from . import collapse, products, theorems, mixing
from .collapse import *  # noqa: F401,F403
from .products import *  # noqa: F401,F403
from .theorems import *  # noqa: F401,F403
from .collapse import *  # noqa: F401,F403
from .mixing import *  # noqa: F401,F403
from .products import *  # noqa: F401,F403
from .theorems import *  # noqa: F401,F403

__all__ = [*collapse.__all__, *products.__all__, *theorems.__all__, *mixing.__all__]

