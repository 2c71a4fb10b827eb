"""The result cache: no foreign code, no stale results, no shared folders (issue 13)."""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import pickle
import platform
import stat
import subprocess
import sys
import tempfile
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.stats

from dsmlib import cache

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A private cache folder, the cache enabled."""
    d = tmp_path / "cache"
    d.mkdir(mode=0o700)
    monkeypatch.setenv("DSMLIB_CACHE_DIR", str(d))
    monkeypatch.delenv("DSMLIB_NO_CACHE", raising=False)
    return d


@pytest.fixture
def demo(tmp_path, monkeypatch):
    """A throw-away module ``dsmlib._cache_demo`` with one cached function, removed afterwards."""
    src = tmp_path / "_cache_demo.py"  # outside the package: dsmlib's source hash is untouched
    body = textwrap.dedent(
        '''
        from __future__ import annotations
        from dataclasses import dataclass
        import numpy as np
        from scipy import stats
        from dsmlib.cache import disk_cached

        CALLS = []
        OFFSET = 0.0


        @dataclass(frozen=True)
        class Inner:
            label: str
            pair: tuple


        @dataclass(frozen=True)
        class DemoResult:
            values: np.ndarray
            p: float
            n: int
            inner: Inner
            scalar: np.float64


        def helper(x):
            return x + OFFSET


        @disk_cached
        def demo(n: int = 3) -> DemoResult:
            CALLS.append(n)
            v = helper(np.arange(n, dtype=float))
            return DemoResult(v, float(stats.chi.sf(1.0, 3)), n, Inner("a", (1, 2.5, "b")),
                              np.float64(v.sum()))


        @dataclass(frozen=True)
        class Cfg:
            values: object
            label: str = "c"


        @dataclass(frozen=True)
        class Echo:
            config: Cfg
            doubled: np.ndarray
            items: list
            table: dict


        @disk_cached
        def echo(config: Cfg) -> Echo:
            CALLS.append("echo")
            v = np.asarray(config.values, dtype=float)
            return Echo(config, 2 * v, [1, 2], {"v": v.copy()})


        @disk_cached(files=lambda path, extra=(): [path, *extra])
        def read_file(path, extra=()) -> DemoResult:
            CALLS.append("read")
            with open(path, "rb") as fh:
                data = fh.read()
            v = np.frombuffer(data, dtype=np.uint8).astype(float)
            return DemoResult(v, 0.0, len(data), Inner("f", ()), np.float64(v.sum()))


        CHECKED = []


        def verify(n):
            CHECKED.append(n)
            if n < 0:
                raise ValueError("input n is corrupt")
            return {"n-digest": str(n)}


        @disk_cached(key=verify)
        def checked(n) -> DemoResult:
            CALLS.append("checked")
            return DemoResult(np.arange(abs(n), dtype=float), 0.0, n, Inner("k", ()), np.float64(0))
        '''
    )
    src.write_text(body)
    import dsmlib

    monkeypatch.setattr(dsmlib, "__path__", [*dsmlib.__path__, str(tmp_path)])
    sys.modules.pop("dsmlib._cache_demo", None)
    try:
        yield importlib.import_module("dsmlib._cache_demo")  # importlib.reload works too
    finally:
        sys.modules.pop("dsmlib._cache_demo", None)
        vars(dsmlib).pop("_cache_demo", None)


def entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.npz"))


# ------------------------------------------------------------------ round trip and hits


def test_round_trip_and_hit(folder, demo):
    assert cache.code_status() is None, cache.code_status()
    r1 = demo.demo(4)
    assert len(entries(folder)) == 1 and demo.CALLS == [4]
    cache_mod_memo_free = demo.demo.__wrapped__  # the same function, for the type check below
    assert cache_mod_memo_free is demo.demo.uncached
    # a new "process": drop the in-memory memo by re-decorating
    fresh = cache.disk_cached(demo.demo.uncached)
    r2 = fresh(4)
    assert demo.CALLS == [4]  # served from disk
    assert type(r2) is demo.DemoResult and type(r2.inner) is demo.Inner
    np.testing.assert_array_equal(r2.values, r1.values)
    assert r2.p == r1.p and r2.n == 4 and r2.inner == r1.inner
    assert type(r2.scalar) is np.float64 and r2.scalar == r1.scalar


def test_a_call_is_keyed_by_what_it_passes_not_how(folder, demo):
    """Positional, keyword and default spellings of one call share one entry; another value does not."""
    demo.demo(3)
    demo.demo(n=3)
    demo.demo()  # n defaults to 3
    assert demo.CALLS == [3] and len(entries(folder)) == 1
    demo.demo(n=4)
    assert demo.CALLS == [3, 4] and len(entries(folder)) == 2
    keys = {cache.entry_key(demo.demo.uncached, a, k)[0] for a, k in (((3,), {}), ((), {"n": 3}), ((), {}))}
    assert len(keys) == 1
    with pytest.raises(TypeError):  # a call that does not fit the signature raises its own error
        demo.demo(3, 4)


def test_entry_is_npz_without_pickles(folder, demo):
    demo.demo(3)
    (path,) = entries(folder)
    with np.load(path, allow_pickle=False) as z:  # loads without pickle: no object arrays
        meta = json.loads(str(z["__meta__"][()]))
    assert meta["result"]["dataclass"] == "dsmlib._cache_demo:DemoResult"
    assert "python=" in meta["key"] and "numpy=" in meta["key"] and "scipy=" in meta["key"]


# ------------------------------------------------------------------ planted files


class _Boom:
    def __reduce__(self):
        return (os.system, ("touch " + str(Path(tempfile.gettempdir()) / "dsmlib-pwned"),))


def test_planted_pickle_never_executes(folder, demo, tmp_path):
    marker = Path(tempfile.gettempdir()) / "dsmlib-pwned"
    marker.unlink(missing_ok=True)
    demo.demo(3)
    (path,) = entries(folder)
    path.write_bytes(pickle.dumps(_Boom()))  # a pickle under the entry's own name
    (folder / (path.stem + ".pkl")).write_bytes(pickle.dumps(_Boom()))  # and the old name
    np.save(folder / "x.npy", np.array([1]))
    cache.disk_cached(demo.demo.uncached)(3)  # a pickle under the entry's name: recomputed
    assert not marker.exists() and demo.CALLS == [3, 3]
    with path.open("wb") as fh:  # a plain .npy under the entry's name
        np.save(fh, np.arange(3))
    fresh = cache.disk_cached(demo.demo.uncached)
    r = fresh(3)
    assert not marker.exists()
    assert type(r) is demo.DemoResult and demo.CALLS == [3, 3, 3]  # recomputed
    # an npz holding a pickled object array is refused too
    np.savez(path, __meta__=np.array("{}"), a0=np.array([_Boom()], dtype=object))
    cache.disk_cached(demo.demo.uncached)(3)
    assert not marker.exists() and demo.CALLS == [3, 3, 3, 3]


@pytest.mark.parametrize(
    "cls",
    ["os:system", "subprocess:Popen", "dsmlib.cache:_Refused", "dsmlib._cache_demo:helper", "builtins:eval"],
)
def test_planted_json_naming_another_class_is_refused(folder, demo, cls):
    demo.demo(3)
    (path,) = entries(folder)
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays.pop("__meta__")[()]))
    meta["result"]["dataclass"] = cls
    np.savez(path, __meta__=np.array(json.dumps(meta)), **arrays)
    with pytest.raises(ValueError):
        cache.decode(meta["result"], arrays)
    r = cache.disk_cached(demo.demo.uncached)(3)
    assert type(r) is demo.DemoResult and demo.CALLS == [3, 3]


def test_valid_entry_of_wrong_type_is_refused(folder, demo):
    demo.demo(3)
    (path,) = entries(folder)
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays.pop("__meta__")[()]))
    meta["result"] = meta["result"]["fields"]["inner"]  # a valid allow-listed Inner
    np.savez(path, __meta__=np.array(json.dumps(meta)), **arrays)
    r = cache.disk_cached(demo.demo.uncached)(3)
    assert type(r) is demo.DemoResult and demo.CALLS == [3, 3]


def test_entry_under_another_key_is_refused(folder, demo):
    demo.demo(3)
    demo.demo(4)
    k3 = cache.entry_key(demo.demo.uncached, (3,), {})[0]
    k4 = cache.entry_key(demo.demo.uncached, (4,), {})[0]
    p3, p4 = folder / f"demo-{k3}.npz", folder / f"demo-{k4}.npz"
    p3.write_bytes(p4.read_bytes())  # the n=4 entry renamed to the n=3 key
    assert cache.disk_cached(demo.demo.uncached)(3).n == 3
    assert demo.CALLS == [3, 4, 3]


# ------------------------------------------------------------------ stale or modified code


def test_monkeypatched_computation_misses(folder, demo, monkeypatch):
    good = demo.demo(3)
    monkeypatch.setattr(scipy.stats.chi, "sf", lambda *a, **k: 0.0)  # the issue's HT-AA case
    assert cache.code_status() is not None
    bad = demo.demo(3)
    assert bad.p == 0.0 and demo.CALLS == [3, 3]  # computed, not served
    monkeypatch.undo()
    assert cache.code_status() is None
    assert demo.demo(3).p == good.p and len(entries(folder)) == 1  # the patched run was not stored


def test_monkeypatched_dsmlib_function_misses(folder, demo, monkeypatch):
    demo.demo(3)
    monkeypatch.setattr(demo, "helper", lambda x: x * 0)
    assert "helper" in cache.code_status()
    assert demo.demo(3).values.sum() == 0 and demo.CALLS == [3, 3]
    monkeypatch.undo()
    monkeypatch.setattr(demo, "OFFSET", 1.0)  # a module constant
    assert "OFFSET" in cache.code_status()
    assert demo.demo(3).values[0] == 1.0
    monkeypatch.undo()
    monkeypatch.setattr(np.linalg, "svd", lambda *a, **k: None)  # a numpy function
    assert "svd" in cache.code_status()
    monkeypatch.undo()
    assert cache.code_status() is None


def test_edit_without_reload_and_reload_both_miss(folder, demo):
    r1 = demo.demo(3)
    src = Path(demo.__file__)
    text = src.read_text()
    src.write_text(text.replace("return x + OFFSET", "return x + OFFSET + 10.0"))
    st = src.stat()
    os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    # edited on disk, not reloaded: the running code is not the code on disk
    assert "differs from the source on disk" in cache.code_status()
    assert demo.demo(3).values[0] == r1.values[0] and demo.CALLS == [3, 3]
    importlib.reload(demo)  # the live-kernel workflow: the new code runs and misses
    assert cache.code_status() is None
    r2 = demo.demo(3)
    assert r2.values[0] == r1.values[0] + 10.0 and demo.CALLS == [3]  # CALLS is a new list
    assert len(entries(folder)) == 2


def test_numpy_version_is_in_the_key(folder, demo, monkeypatch):
    demo.demo(3)
    k1 = cache.entry_key(demo.demo.uncached, (3,), {})
    monkeypatch.setattr(np, "__version__", "1.0.0")
    k2 = cache.entry_key(demo.demo.uncached, (3,), {})
    assert k1 != k2 and "numpy=1.0.0" in k2[1]
    assert cache.code_status() is None, cache.code_status()
    demo.demo(3)
    assert demo.CALLS == [3, 3] and len(entries(folder)) == 2
    monkeypatch.setattr(scipy, "__version__", "0.1", raising=True)
    assert "scipy=0.1" in cache.entry_key(demo.demo.uncached, (3,), {})[1]


def test_no_cache_env(folder, demo, monkeypatch):
    monkeypatch.setenv("DSMLIB_NO_CACHE", "1")
    demo.demo(3)
    demo.demo(3)
    assert demo.CALLS == [3, 3] and not entries(folder)


def test_unencodable_result_is_returned_uncached(folder):
    @cache.disk_cached
    def f(n: int):
        return {"a": object()}

    assert isinstance(f(1)["a"], object) and not entries(folder)


# ------------------------------------------------------------------ the folder


def test_default_folder_is_in_the_checkout_or_user_cache(monkeypatch):
    monkeypatch.delenv("DSMLIB_CACHE_DIR", raising=False)
    cands = cache._candidates()
    assert cands[0] == REPO / ".cache" / "dsmlib"
    tmp = Path(tempfile.gettempdir()).resolve()
    assert all(tmp not in c.resolve().parents for c in cands[1:]) or "XDG_CACHE_HOME" in os.environ


def test_shared_tmp_folder_is_never_used(tmp_path, monkeypatch, demo):
    """Checkout and user cache unwritable: compute without caching, never fall back to /tmp."""
    shared = Path(tempfile.gettempdir()) / "dsmlib-cache"
    monkeypatch.delenv("DSMLIB_CACHE_DIR", raising=False)
    monkeypatch.delenv("DSMLIB_NO_CACHE", raising=False)
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setattr(cache.store, "_candidates", lambda: [blocker / "a", blocker / "b"])
    before = set(shared.iterdir()) if shared.is_dir() else None
    with pytest.warns(cache.CacheWarning, match="computed without caching"):
        assert cache.cache_dir() is None
        r = demo.demo(3)
    assert type(r) is demo.DemoResult
    after = set(shared.iterdir()) if shared.is_dir() else None
    assert before == after
    # and nothing in cache.py names a temporary folder
    assert all("gettempdir" not in p.read_text() for p in Path(cache.__file__).parent.glob("*.py"))


def test_group_writable_folder_is_refused(tmp_path, monkeypatch, demo):
    d = tmp_path / "shared"
    d.mkdir()
    d.chmod(0o777)
    monkeypatch.setenv("DSMLIB_CACHE_DIR", str(d))
    monkeypatch.delenv("DSMLIB_NO_CACHE", raising=False)
    with pytest.warns(cache.CacheWarning, match="writable by group or others"):
        demo.demo(3)
        demo.demo(3)
    assert demo.CALLS == [3, 3] and not list(d.iterdir())


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0, reason="needs root to chown")
def test_folder_of_another_user_is_refused(tmp_path, monkeypatch, demo):
    d = tmp_path / "theirs"
    d.mkdir(mode=0o755)
    os.chown(d, 12345, 12345)
    monkeypatch.setenv("DSMLIB_CACHE_DIR", str(d))
    monkeypatch.delenv("DSMLIB_NO_CACHE", raising=False)
    with pytest.warns(cache.CacheWarning, match="owned by uid 12345"):
        assert cache.cache_dir() is None


def test_unwritable_entry_degrades(folder, demo):
    """Writing fails (as root, chmod cannot make a folder read-only: block the temp file)."""
    key, _ = cache.entry_key(demo.demo.uncached, (3,), {})
    (folder / f".demo-{key}.npz.tmp{os.getpid()}").mkdir()
    with pytest.warns(cache.CacheWarning, match="cannot write"):
        r = demo.demo(3)
    assert type(r) is demo.DemoResult and not entries(folder)


def test_read_only_folder_degrades_really(tmp_path, monkeypatch, demo):
    if hasattr(os, "getuid") and os.getuid() == 0:
        pytest.skip("root ignores file permissions")
    d = tmp_path / "ro"
    d.mkdir(mode=0o700)
    d.chmod(stat.S_IRUSR | stat.S_IXUSR)
    monkeypatch.setenv("DSMLIB_CACHE_DIR", str(d))
    monkeypatch.delenv("DSMLIB_NO_CACHE", raising=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cache.CacheWarning)
        assert type(demo.demo(3)) is demo.DemoResult


def test_real_experiment_round_trip(folder):
    """A real result type (nested dataclasses, numpy scalars) survives the format."""
    from dsmlib.experiments import ch02_sinkhorn_q as ch

    cfg = ch.SweepConfig(n=8, temperatures=(0.1, 1.0), seeds=(0, 1), per_seed=3)
    r = ch.sweep_experiment(cfg)
    r2 = cache.disk_cached(ch.sweep_experiment.uncached)(cfg)
    assert type(r2) is type(r)
    for f in dataclasses.fields(r):
        a, b = getattr(r, f.name), getattr(r2, f.name)
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b)
        else:
            assert a == b


# ------------------------------------------------------------------ issue 19: lossless keys


def test_arrays_that_print_alike_get_different_keys(folder, demo):
    """Defect 1: a repr summarises arrays above 1,000 entries and prints 8 digits."""
    a = np.full(1001, 0.05)
    b = a.copy()
    b[3:-3] = 50.0
    assert repr(a) == repr(b)  # the old key material
    ra = demo.echo(demo.Cfg(a))
    rb = demo.echo(demo.Cfg(b))
    assert rb.config.values[500] == 50.0 and rb.doubled[500] == 100.0
    assert ra.config.values[500] == 0.05
    r1 = demo.echo(demo.Cfg(np.array([0.05])))
    r2 = demo.echo(demo.Cfg(np.array([0.0500000001])))
    assert r2.config.values[0] == 0.0500000001 and r1.config.values[0] == 0.05
    assert demo.CALLS == ["echo"] * 4
    k = lambda x: cache.entry_key(demo.echo.uncached, (demo.Cfg(x),), {})[0]  # noqa: E731
    assert k(np.array([0.0])) != k(np.array([-0.0]))  # bytes, not values
    assert k(np.array([1.0])) != k(np.array([1.0], dtype=np.float32))  # dtype
    assert k(np.zeros((2, 3))) != k(np.zeros((3, 2)))  # shape
    assert k(np.arange(6.0).reshape(2, 3).T) == k(np.ascontiguousarray(np.arange(6.0).reshape(2, 3).T))
    assert k((1, 2)) != k([1, 2]) and k(1) != k(1.0) and k(True) != k(1)
    assert k(0.1) != k(0.1 + 2**-56) and k(np.float64(0.1)) != k(0.1)
    assert k({"a": 1, "b": 2}) == k({"b": 2, "a": 1})


def test_the_issue_repro_on_a_real_experiment(folder):
    """Defect 1 as reported, on chapter 1's sigma1 experiment: 50.0 is asked, 50.0 is served."""
    from dsmlib.experiments import ch01_preliminaries as ch

    def cfg(t):
        return ch.Sigma1DrawsConfig(n=4, temperatures=t, draws=1, seeds_per_draw=1, per_seed=2)

    a = np.full(1001, 0.05)
    b = a.copy()
    b[3:-3] = 50.0
    try:
        ch.sigma1_draws_experiment(cfg(a))
        r = ch.sigma1_draws_experiment(cfg(b))
    except (TypeError, ValueError) as exc:  # a config that refuses arrays is also safe
        pytest.skip(f"config refuses arrays: {exc}")
    assert np.asarray(r.config.temperatures)[500] == 50.0


@pytest.mark.parametrize(
    "bad",
    [lambda x: x, np.ma.masked_array([1.0, 2.0], mask=[0, 1]), np.array([object()]), {1: 2}, iter([1]), object()],
    ids=["function", "masked", "object-array", "int-key", "iterator", "object"],
)
def test_arguments_without_a_lossless_encoding_are_refused(folder, demo, bad):
    with pytest.raises(TypeError, match="cannot build a cache key: .*config.values"):
        demo.echo(demo.Cfg(bad))
    assert demo.CALLS == [] and not entries(folder)
    demo.echo.uncached(demo.Cfg(np.array([1.0])))  # the uncached path is always available


def test_kernel_switch_and_thread_env_are_in_the_key(folder, demo, monkeypatch):
    """Defect 8: a cache filled under DSMLIB_KERNELS=1 must not be served under DSMLIB_KERNELS=0."""
    from dsmlib import _kernels

    k1 = cache.entry_key(demo.demo.uncached, (3,), {})
    monkeypatch.setattr(_kernels, "ENABLED", not _kernels.ENABLED)
    k2 = cache.entry_key(demo.demo.uncached, (3,), {})
    monkeypatch.undo()
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "7")
    k3 = cache.entry_key(demo.demo.uncached, (3,), {})
    monkeypatch.setenv("DSMLIB_THREADS", "5")
    k4 = cache.entry_key(demo.demo.uncached, (3,), {})
    assert len({k1[0], k2[0], k3[0], k4[0]}) == 4
    assert "kernels" in k1[1] and "numba=" in k1[1]


def test_cpu_code_paths_are_in_the_key(demo, monkeypatch):
    """Another CPU (numpy's SIMD dispatch, OpenBLAS's core type) rounds differently: its
    entries are its own."""
    from dsmlib.cache import keys

    assert "simd=" in keys.cpu_paths() and "blas=" in keys.cpu_paths()
    k1 = cache.entry_key(demo.demo.uncached, (3,), {})
    monkeypatch.setattr(keys, "cpu_paths", lambda: "simd=SSE2|blas=openblas:Haswell")
    k2 = cache.entry_key(demo.demo.uncached, (3,), {})
    assert k1[0] != k2[0] and "openblas:Haswell" in k2[1]


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="x86 core types")
def test_cpu_paths_follow_openblas_coretype():
    """Another OpenBLAS core type and numpy's dispatch targets switched off in a child process
    show in its code paths (the perturbed lane's 'other CPU')."""
    um = np._core._multiarray_umath
    on = [d for d in um.__cpu_dispatch__ if um.__cpu_features__.get(d)]
    env = dict(os.environ, OPENBLAS_CORETYPE="Sandybridge", NPY_DISABLE_CPU_FEATURES=" ".join(on))
    code = "from dsmlib.cache import keys; print(keys.cpu_paths())"
    other = subprocess.run([sys.executable, "-W", "ignore", "-c", code], env=env, capture_output=True, text=True,
                           check=True).stdout.strip()
    assert "blas=openblas:Sandybridge" in other
    simd = other.split("|")[0].removeprefix("simd=").split(",")
    assert not set(on) & set(simd), (on, simd)


# ------------------------------------------------------------------ issue 19: read-only results


def test_results_are_read_only_and_never_shared(folder, demo):
    """Defect 3: the in-memory memo handed every caller the same mutable object."""
    cfg = demo.Cfg(np.arange(4.0))
    r1 = demo.echo(cfg)
    with pytest.raises(ValueError, match="read-only"):
        r1.doubled[:] = 123
    with pytest.raises(ValueError):
        r1.doubled.flags.writeable = True  # a view of a read-only array stays read-only
    r1.items.append(99)  # containers are per call
    r1.table["v"] = None
    r2 = demo.echo(cfg)  # memo hit
    assert r2 is not r1 and r2.items == [1, 2] and r2.table["v"] is not None
    assert r2.doubled.max() == 6.0 and not r2.doubled.flags.writeable
    assert not r2.table["v"].flags.writeable and not r2.config.values.flags.writeable
    r3 = cache.disk_cached(demo.echo.uncached)(cfg)  # from disk
    assert not r3.doubled.flags.writeable and demo.CALLS == ["echo"]
    # the caller's own argument is not frozen behind its back
    assert cfg.values.flags.writeable


# ------------------------------------------------------------------ issue 19: input files


def test_input_file_content_is_in_the_key_on_every_call(folder, demo, tmp_path):
    """Defect 2: a changed, truncated or deleted input file is never served a stale result."""
    f = tmp_path / "weights.bin"
    f.write_bytes(b"abcd")
    assert demo.read_file(str(f)).n == 4
    assert demo.read_file(str(f)).n == 4 and demo.CALLS == ["read"]  # hit
    st = f.stat()
    f.write_bytes(b"abce")  # same size, then the old modification time restored
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert demo.read_file(str(f)).values[-1] == ord("e") and demo.CALLS == ["read"] * 2
    f.write_bytes(b"ab")  # truncated
    assert demo.read_file(str(f)).n == 2
    fresh = cache.disk_cached(files=lambda path, extra=(): [path, *extra])(demo.read_file.uncached)
    assert fresh(str(f)).n == 2 and demo.CALLS == ["read"] * 3  # from disk, same key
    f.unlink()
    with pytest.raises(FileNotFoundError):  # keyed as absent: computed, and the function fails
        demo.read_file(str(f))


def test_input_file_that_is_a_fifo_or_device_is_refused_without_hanging(folder, demo, tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    link = tmp_path / "dev"
    link.symlink_to("/dev/zero")
    for bad in (fifo, link):
        with pytest.raises(ValueError, match="not a regular file"):
            demo.read_file(str(tmp_path / "missing"), extra=(str(bad),))
    assert demo.CALLS == []


def test_key_hook_runs_on_every_call(folder, demo):
    demo.checked(2)
    demo.checked(2)
    assert demo.CHECKED == [2, 2] and demo.CALLS == ["checked"]
    with pytest.raises(ValueError, match="corrupt"):
        demo.checked(-1)


def test_cached_tells_without_computing_and_verifies_inputs(folder, demo, monkeypatch):
    assert demo.checked.cached(3) is False and demo.CALLS == []  # nothing computed
    demo.checked(3)
    assert demo.checked.cached(3) is True and demo.CALLS == ["checked"]
    fresh = cache.disk_cached(key=demo.verify)(demo.checked.uncached)  # a new process: disk only
    assert fresh.cached(3) is True and demo.CALLS == ["checked"]
    assert demo.checked.cached(4) is False
    with pytest.raises(ValueError, match="corrupt"):  # the key hook runs, as on a call
        demo.checked.cached(-1)
    monkeypatch.setenv("DSMLIB_NO_CACHE", "1")
    assert demo.checked.cached(3) is False


def test_plain_decorator_and_bad_use():
    with pytest.raises(TypeError, match="expected a function"):
        cache.disk_cached(3)


# ------------------------------------------------------------------ issue 19: folder hygiene


def test_orphaned_temporary_files_are_removed(folder, demo, monkeypatch):
    """Defect 8: interrupted writes left ``*.npz.tmpPID`` files that were never cleaned."""
    dead = folder / ".demo-abc.npz.tmp999999999"  # no such process
    dead.write_bytes(b"partial")
    old = folder / f".demo-def.npz.tmp{os.getpid()}"
    old.write_bytes(b"partial")
    os.utime(old, (0, 0))
    young = folder / f".demo-ghi.npz.tmp{os.getpid()}"  # a write in progress: kept
    young.write_bytes(b"partial")
    cache.store._CLEANED.clear()
    assert cache.code_status() is None, cache.code_status()
    demo.demo(3)
    assert not dead.exists() and not old.exists() and young.exists()


def test_checkout_cache_symlinked_to_a_world_writable_folder_warns(tmp_path, monkeypatch, demo):
    """Defect 8: the symlinked checkout folder was skipped silently for the user cache."""
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    link = tmp_path / "checkout" / ".cache" / "dsmlib"
    link.parent.mkdir(parents=True)
    link.symlink_to(shared)
    private = tmp_path / "user"
    monkeypatch.delenv("DSMLIB_CACHE_DIR", raising=False)
    monkeypatch.delenv("DSMLIB_NO_CACHE", raising=False)
    monkeypatch.setattr(cache.store, "_candidates", lambda: [link, private])
    cache.store._WARNED.clear()
    with pytest.warns(cache.CacheWarning, match="writable by group or others .*symlink"):
        assert cache.cache_dir() == private
    assert not list(shared.iterdir())
    monkeypatch.undo()  # the folder named explicitly: refused as well
    monkeypatch.setenv("DSMLIB_CACHE_DIR", str(link))
    cache.store._WARNED.clear()
    with pytest.warns(cache.CacheWarning) as rec:
        assert cache.cache_dir() is None
    assert any("computed without caching" in str(w.message) for w in rec)


def test_the_memo_issue_repro_on_a_real_experiment(folder):
    """Defect 3 as reported: ``f(c).err[:] = 123; f(c).err.max()`` gave 123.0 in the same process."""
    import dataclasses as dc

    from dsmlib.experiments import ch01_preliminaries as ch

    cfg = ch.Sigma1DrawsConfig(n=4, temperatures=(0.1, 1.0), draws=1, seeds_per_draw=1, per_seed=2)
    r = ch.sigma1_draws_experiment(cfg)
    name = next(f.name for f in dc.fields(r) if isinstance(getattr(r, f.name), np.ndarray)
                and getattr(r, f.name).size and getattr(r, f.name).dtype.kind == "f")
    before = getattr(r, name).copy()
    with pytest.raises(ValueError, match="read-only"):
        getattr(r, name)[...] = 123.0
    again = getattr(ch.sigma1_draws_experiment(cfg), name)
    np.testing.assert_array_equal(again, before)
