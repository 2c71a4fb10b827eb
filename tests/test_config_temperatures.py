"""Issue 19, defect 8: an experiment config with a temperature <= 0 (or not finite) is
refused at construction, instead of computing exp(+d/|T|) silently."""

from __future__ import annotations

import dataclasses

import pytest

from dsmlib.experiments.bk_sigma2_law.experiments import LawConfig
from dsmlib.experiments.ch01_preliminaries.experiments.spectra import (
    DSMSpectraConfig, PFConfig, SpecialConfig, Sigma1DrawsConfig)
from dsmlib.experiments.ch02_sinkhorn_q.experiments.convergence import Alg1Config
from dsmlib.experiments.ch02_sinkhorn_q.experiments.filtering import AggConfig, GradConfig
from dsmlib.experiments.ch02_sinkhorn_q.experiments.spectra import SpectralConfig, SweepConfig
from dsmlib.experiments.ch04_residual.experiments.deep import DeepConfig, EscapeConfig
from dsmlib.experiments.ch04_residual.experiments.pairs import NoisyPairConfig
from dsmlib.experiments.ch04_residual.experiments.walk import IdentityDepthConfig

CONFIGS = [LawConfig, DSMSpectraConfig, PFConfig, SpecialConfig, Sigma1DrawsConfig, Alg1Config, AggConfig,
           GradConfig, SpectralConfig, SweepConfig, DeepConfig, EscapeConfig, NoisyPairConfig, IdentityDepthConfig]


@pytest.mark.parametrize("cls", CONFIGS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("bad", [-1.0, 0.0, float("nan"), float("inf")])
def test_bad_temperatures_are_refused(cls, bad):
    cls()  # the defaults are valid
    for f in dataclasses.fields(cls):
        if "temperature" in f.name:
            value = getattr(cls(), f.name)
            bad_value = (bad,) if isinstance(value, tuple) else bad
            with pytest.raises(ValueError, match="positive finite"):
                cls(**{f.name: bad_value})


def test_temperature_checked_base_adds_no_field():
    from dsmlib._validate import TemperatureChecked

    @dataclasses.dataclass(frozen=True)
    class Cfg(TemperatureChecked):
        n: int = 4
        temperatures: tuple[float, ...] = (0.1, 1.0)

    assert [f.name for f in dataclasses.fields(Cfg)] == ["n", "temperatures"]
    assert repr(Cfg()).endswith("Cfg(n=4, temperatures=(0.1, 1.0))")
    with pytest.raises(ValueError, match="positive finite"):
        Cfg(temperatures=(0.1, 0.0))
    assert all(issubclass(c, TemperatureChecked) for c in CONFIGS)
