"""Chapter 1, the experiments (config in, dataclass of arrays out, disk-cached), by concern."""

from __future__ import annotations

from . import noise, norms, pieces, spectra, strict
from .noise import *  # noqa: F401,F403
from .norms import *  # noqa: F401,F403
from .pieces import *  # noqa: F401,F403
from .spectra import *  # noqa: F401,F403
from .strict import *  # noqa: F401,F403

__all__ = [*noise.__all__, *norms.__all__, *pieces.__all__, *spectra.__all__, *strict.__all__]

