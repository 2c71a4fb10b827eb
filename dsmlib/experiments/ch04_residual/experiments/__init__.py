"""Chapter 4, the experiments (config in, dataclass of arrays out, disk-cached), by concern."""

from __future__ import annotations

from . import common, deep, detail, pairs, paths, walk
from .common import *  # noqa: F401,F403
from .deep import *  # noqa: F401,F403
from .detail import *  # noqa: F401,F403
from .pairs import *  # noqa: F401,F403
from .paths import *  # noqa: F401,F403
from .walk import *  # noqa: F401,F403

__all__ = [*common.__all__, *deep.__all__, *detail.__all__, *pairs.__all__, *paths.__all__, *walk.__all__]

