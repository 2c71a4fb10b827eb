"""Chapter 2, the experiments (config in, dataclass of arrays out, disk-cached), by concern."""

from __future__ import annotations

from . import (
    benchmark, common, convergence, entropy_order, expansion, filtering, logdomain, nonnegative, scaling, spectra,
)
from .benchmark import *  # noqa: F401,F403
from .common import *  # noqa: F401,F403
from .convergence import *  # noqa: F401,F403
from .entropy_order import *  # noqa: F401,F403
from .expansion import *  # noqa: F401,F403
from .filtering import *  # noqa: F401,F403
from .logdomain import *  # noqa: F401,F403
from .nonnegative import *  # noqa: F401,F403
from .scaling import *  # noqa: F401,F403
from .spectra import *  # noqa: F401,F403

__all__ = [
    *benchmark.__all__,
    *common.__all__,
    *convergence.__all__,
    *entropy_order.__all__,
    *expansion.__all__,
    *filtering.__all__,
    *logdomain.__all__,
    *nonnegative.__all__,
    *scaling.__all__,
    *spectra.__all__,
]

