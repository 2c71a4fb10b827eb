"""dsmlib._parallel: thread and process maps give the serial loop's results."""

from __future__ import annotations

import functools

import numpy as np

from dsmlib import _parallel
from dsmlib.spectra import rank_one_residual


def test_process_map_equals_the_serial_loop(monkeypatch):
    monkeypatch.setenv("DSMLIB_THREADS", "2")
    mats = [np.random.default_rng(s).random((300, 6, 6)) for s in range(3)]
    got = _parallel.process_map(rank_one_residual, mats)
    for g, m in zip(got, mats):
        np.testing.assert_array_equal(g, rank_one_residual(m))
    # picklable partials work; one item runs here (no worker)
    f = functools.partial(np.linalg.norm, axis=-1)
    np.testing.assert_array_equal(_parallel.process_map(f, [mats[0]])[0], f(mats[0]))


def test_workers_use_one_thread(monkeypatch):
    monkeypatch.setenv("DSMLIB_THREADS", "2")
    assert _parallel.n_threads() == 2
    assert _parallel.process_map(_threads_in_worker, [0, 1]) == [1, 1]
    monkeypatch.setattr(_parallel, "_IN_WORKER", True)
    assert _parallel.n_threads() == 1


def _threads_in_worker(_: int) -> int:
    return _parallel.n_threads()
