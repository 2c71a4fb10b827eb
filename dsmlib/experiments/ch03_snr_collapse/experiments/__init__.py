"""Chapter 3, the experiments (config in, dataclass of arrays out, disk-cached), by concern."""

from __future__ import annotations

from . import collapse, common, e2, escape, irrev, proof, snr
from .collapse import *  # noqa: F401,F403
from .common import *  # noqa: F401,F403
from .e2 import *  # noqa: F401,F403
from .escape import *  # noqa: F401,F403
from .irrev import *  # noqa: F401,F403
from .proof import *  # noqa: F401,F403
from .snr import *  # noqa: F401,F403

__all__ = [
    *collapse.__all__,
    *common.__all__,
    *e2.__all__,
    *escape.__all__,
    *irrev.__all__,
    *proof.__all__,
    *snr.__all__,
]

