"""numba's on-disk kernel cache is only a cache (issue 19, defect 4).

An unwritable or full cache folder, or a corrupt ``.nbi``/``.nbc`` file, must give ONE
:class:`dsmlib._kernels.KernelCacheWarning` and the right result, never an error. The tests
run as root (chmod cannot make a folder read-only), so the failures are simulated: numba's
file writes monkeypatched to raise ``ENOSPC``, a file where the cache folder should be, or
garbage written into the index and data files.
"""

from __future__ import annotations

import errno
import importlib
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

from dsmlib import _kernels

pytestmark = pytest.mark.skipif(not _kernels.AVAILABLE, reason="numba is not installed")

REPO = Path(__file__).resolve().parents[1]

KERNEL_SRC = textwrap.dedent(
    """
    import numpy as np
    from dsmlib._kernels._compile import _jit


    @_jit()
    def add_one(a):  # pragma: no cover - compiled
        out = np.empty_like(a)
        for i in range(a.shape[0]):
            out[i] = a[i] + 1.0
        return out
    """
)


@pytest.fixture
def fresh_state(monkeypatch):
    """The module's 'cache broken' state reset for this test (and restored afterwards)."""
    from dsmlib._kernels import _compile

    monkeypatch.setitem(_compile._STATE, "broken", None)
    return _compile


@pytest.fixture
def kernel_module(tmp_path, monkeypatch):
    """Import a throw-away module with one cached kernel, cache in ``tmp_path/nbcache``."""
    import numba.core.config

    cdir = tmp_path / "nbcache"
    monkeypatch.setattr(numba.core.config, "CACHE_DIR", str(cdir))
    (tmp_path / "kmod").mkdir()
    n = [0]

    def load(name: str | None = None):
        n[0] += 1
        name = name or f"_dsm_kcache_{n[0]}"
        (tmp_path / "kmod" / f"{name}.py").write_text(KERNEL_SRC)
        monkeypatch.syspath_prepend(str(tmp_path / "kmod"))
        sys.modules.pop(name, None)
        importlib.invalidate_caches()
        return importlib.import_module(name)

    yield load, cdir


def _check(mod):  # noqa: D103
    np.testing.assert_array_equal(mod.add_one(np.arange(3.0)), [1.0, 2.0, 3.0])


def test_working_cache_no_warning(fresh_state, kernel_module):
    load, cdir = kernel_module
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _check(load())
    assert list(cdir.rglob("*.nbi")) and fresh_state.cache_status() is None


def test_full_disk_falls_back_with_one_warning(fresh_state, kernel_module, monkeypatch):
    import numba.core.caching as caching

    def full(self, name, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(caching.IndexDataCacheFile, "_save_data", full)
    load, _ = kernel_module
    with pytest.warns(_kernels.KernelCacheWarning, match="No space left") as rec:
        _check(load())
        _check(load())  # a second kernel: caching is off, no second warning
    assert len([w for w in rec if issubclass(w.category, _kernels.KernelCacheWarning)]) == 1
    assert "ENOSPC" in fresh_state.cache_status() or "No space" in fresh_state.cache_status()


def test_no_writable_folder_falls_back(fresh_state, kernel_module, monkeypatch):
    import numba.core.caching as caching

    def read_only(self):
        raise PermissionError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(caching._CacheLocator, "ensure_cache_path", read_only)
    load, _ = kernel_module
    with pytest.warns(_kernels.KernelCacheWarning) as rec:
        _check(load())
    assert len(rec) == 1


@pytest.mark.parametrize("which", ["nbi", "nbc"])
def test_corrupt_cache_file_falls_back_and_heals(fresh_state, kernel_module, which):
    load, cdir = kernel_module
    _check(load("_dsm_kcache_corrupt"))
    files = list(cdir.rglob(f"*.{which}"))
    assert files
    for f in files:
        f.write_bytes(b"\x80\x04garbage, not a pickle")
    with pytest.warns(_kernels.KernelCacheWarning) as rec:
        _check(load("_dsm_kcache_corrupt"))  # a new dispatcher loads from the corrupt cache
    assert len(rec) == 1
    # the unreadable index was removed: a later process compiles and caches afresh
    fresh_state._STATE["broken"] = None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _check(load("_dsm_kcache_corrupt"))


def test_real_kernels_with_a_corrupt_cache(tmp_path):
    """End to end in a fresh process: dsmlib's own kernels with every cache file corrupt give
    the right numbers and one warning."""
    cdir = tmp_path / "nb"
    code = textwrap.dedent(
        """
        import warnings, numpy as np, dsmlib
        from dsmlib import _kernels
        assert _kernels.ENABLED
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            S = np.random.default_rng(0).random((3, 6, 6))
            M = dsmlib.sinkhorn(S)
            s2 = dsmlib.sigma2(M)
        np.testing.assert_allclose(M.sum(-1), 1, atol=1e-5)
        ref = np.linalg.svd(M, compute_uv=False)[:, 1]
        np.testing.assert_allclose(s2, ref, rtol=1e-9, atol=1e-12)
        print(sum(issubclass(w.category, _kernels.KernelCacheWarning) for w in rec))
        """
    )
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cdir), DSMLIB_KERNELS="1")

    def run():
        p = subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO, capture_output=True, text=True,
                           timeout=600)
        assert p.returncode == 0, p.stderr[-3000:]
        return int(p.stdout.split()[-1])

    assert run() == 0  # fills the cache
    nb = list(cdir.rglob("*.nbi")) + list(cdir.rglob("*.nbc"))
    assert nb
    for f in nb:
        f.write_bytes(b"junk")
    assert run() == 1  # corrupt: one warning, right numbers


def test_nonfinite_input_error_is_not_swallowed(fresh_state):
    """A genuine error of a kernel (NaN scores) is still raised, not mistaken for a cache problem."""
    import dsmlib

    old = _kernels.ENABLED
    _kernels.ENABLED = True
    try:
        with pytest.raises(ValueError, match="scores"):
            dsmlib.sinkhorn(np.array([[0.0, np.nan], [0.0, 0.0]]))
    finally:
        _kernels.ENABLED = old
    assert fresh_state.cache_status() is None
