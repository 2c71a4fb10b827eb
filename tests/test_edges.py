"""Edge cases of issue 13: extreme score ranges, tiny/huge inputs, clear errors, tooling."""

from __future__ import annotations

import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import dsmlib as d
from dsmlib import attention, noise, projections, residual, spectra, widgets
from dsmlib.sinkhorn import SinkhornConvergenceWarning

REPO = Path(__file__).resolve().parents[1]

# a 3x3 case whose column sums were far from 1 (up to ~1e50) before the fully-log-domain path
S3 = np.array(
    [
        [1.03999889e18, 2.51011387e18, -1.24296212e18],
        [-9.85416515e17, 1.66236031e18, 1.85286215e18],
        [-4.13720737e16, 2.71415439e17, 2.51168978e18],
    ]
)


def _finite_column_exact(M: np.ndarray) -> None:
    assert np.all(np.isfinite(M))
    assert np.all((M >= 0) & (M <= 1))
    np.testing.assert_allclose(M.sum(axis=-2), 1.0, atol=1e-12)


# ------------------------------------------------------------------ Sinkhorn at any range


def test_random_dsm_at_tiny_temperature_is_finite_and_reports():
    with pytest.warns(SinkhornConvergenceWarning):
        M, info = d.random_dsm(16, 1e-20, size=20, rng=0, return_info=True)
    _finite_column_exact(M)
    assert info.log_domain.all() and not info.all_converged  # non-convergence still reported


def test_huge_costs_at_low_temperature():
    U = np.random.default_rng(0).random((64, 64))
    with pytest.warns(SinkhornConvergenceWarning):
        M, info = d.sinkhorn(-U * 1e16 / 1e-4, return_info=True)
    _finite_column_exact(M)
    assert M.max() <= 1.0  # was ~1e29..1e51


def test_three_by_three_columns_exact():
    with pytest.warns(SinkhornConvergenceWarning):
        M, info = d.sinkhorn(S3, return_info=True)
    _finite_column_exact(M)
    assert info.err > info.tol and not info.converged


@pytest.mark.parametrize("scale", [1e3, 1e6, 1e10, 1e15, 1e20, 1e100, 1e300])
def test_any_finite_range_is_finite_and_column_exact(scale):
    S = np.random.default_rng(1).normal(size=(8, 5, 5)) * scale
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SinkhornConvergenceWarning)
        M, info = d.sinkhorn(S, return_info=True)
    _finite_column_exact(M)
    row_err = np.abs(M.sum(-1) - 1).max(-1)
    np.testing.assert_allclose(info.err, row_err, atol=1e-12)  # the reported error is true
    assert np.array_equal(info.converged, info.err <= info.tol)


def test_ordinary_regime_unchanged():
    """HT's regime (n = 64, T in [1e-2, 1e1]) takes the plain path: pinned counts and values."""
    U = np.random.default_rng(0).random((5, 64, 64))
    its = []
    for T in (1e-2, 1e-1, 1.0, 1e1):
        M, info = d.sinkhorn(-U / T, return_info=True, warn=False)
        assert not info.log_domain.any()
        its.append(info.n_iter.tolist())
        np.testing.assert_allclose(M.sum(-2), 1, atol=1e-14)
    assert its == [[115, 200, 200, 178, 200], [9, 9, 10, 9, 9], [3] * 5, [2] * 5]


def test_fully_log_domain_path_is_sinkhorn():
    """Where float64 can resolve the answer, the fully-log-domain path converges to it."""
    from dsmlib.sinkhorn import _log_chunk

    S = np.random.default_rng(2).normal(size=(4, 6, 6)) * 3.0
    out, its, errs = np.empty_like(S), np.zeros(4, dtype=np.int64), np.zeros(4)
    _log_chunk(S, 5000, 1e-13, out, its, errs)
    ref = d.sinkhorn(S, tol=1e-13, n_iter=5000)
    assert np.all(errs <= 1e-13) and np.all(its < 5000)
    np.testing.assert_allclose(out, ref, atol=1e-12)
    _finite_column_exact(out)


# ------------------------------------------------------------------ input types


@pytest.mark.parametrize(
    "bad, word",
    [
        (np.eye(3) * (1 + 1j), "real"),
        ([[1, 2j], [3, 4]], "real"),
        (np.array([[1, 2], [3, 4j]], dtype=object), "real"),
        ([["1.5", "2"], ["3", "4"]], "strings"),
        (np.array([["1", 2.0], [3.0, 4.0]], dtype=object), "strings"),
        (np.array([[b"1", b"2"], [b"3", b"4"]]), "strings"),
    ],
)
def test_complex_and_string_input_rejected(bad, word):
    for f, name in ((d.sinkhorn, "scores"), (d.sigma2, "M"), (d.marginal_error, "M")):
        with pytest.raises(ValueError, match=rf"{name} must .*{word}"):
            f(bad)


def test_numeric_arrays_still_accepted():
    assert d.sigma2(np.array([[1, 0], [0, 1]], dtype=object)).shape == ()
    assert d.sigma2([[True, False], [False, True]]) == 1.0


# ------------------------------------------------------------------ scale before factorising


@pytest.mark.parametrize("c", [1e-300, 1e-200, 1e-160, 1e-156, 1.0, 1e154, 1e200, 1e300])
def test_sigma2_scales(c):
    A = np.array([[3.0, 1.0, 0.0], [1.0, 2.0, 0.5], [0.0, 0.5, 1.0]])
    ref = np.linalg.svd(A, compute_uv=False)
    np.testing.assert_allclose(d.sigma2(c * A), c * ref[1], rtol=1e-12)
    np.testing.assert_allclose(d.singular_values(c * A), c * ref, rtol=1e-12)
    np.testing.assert_allclose(d.rank_one_residual(c * A), ref[1] / ref[0], rtol=1e-12)


def test_rank_one_residual_at_float_max():
    A = np.random.default_rng(0).random((4, 5))
    s = np.linalg.svd(A, compute_uv=False)
    np.testing.assert_allclose(d.rank_one_residual(1e308 * A), s[1] / s[0], rtol=1e-12)
    assert d.rank_one_residual(np.ones((3, 3)) * 1e308) < 1e-12


def test_scaling_leaves_ordinary_values_bit_identical():
    from dsmlib._validate import pow2_scale

    M = d.random_dsm(16, 0.1, size=7, rng=3)
    assert np.all(pow2_scale(M, axis=(-2, -1)) == 1.0)  # no scaling in the ordinary range
    np.testing.assert_array_equal(spectra.singular_values(M), np.linalg.svd(M, compute_uv=False))
    y = np.random.default_rng(0).normal(size=(5, 8))
    assert np.all(pow2_scale(y, axis=-1) == 1.0)
    yc = y - y.mean(-1, keepdims=True)
    np.testing.assert_array_equal(projections.layer_norm(y), np.sqrt(8) * yc / np.linalg.norm(yc, axis=-1, keepdims=True))


@pytest.mark.parametrize("c", [1e-300, 1e-170, 1.0, 1e170, 1e300])
def test_layer_norm_and_cosines_accept_tiny_and_huge(c):
    y = np.array([1.0, -2.0, 0.5, 3.0])
    z = np.array([0.3, 1.0, -1.0, 2.0])
    ref = projections.layer_norm(y)
    np.testing.assert_allclose(projections.layer_norm(c * y), ref, rtol=1e-12)
    np.testing.assert_allclose(noise.cosine(c * y, z / c), noise.cosine(y, z), rtol=1e-12)
    dist = noise.normalized_distance
    np.testing.assert_allclose(dist(c * y, z), dist(y, z), rtol=1e-12)
    np.testing.assert_allclose(noise.ln_cosine(c * y, c * z), noise.ln_cosine(y, z), rtol=1e-12)
    np.testing.assert_allclose(noise.snr(c * y, 0.1), c * noise.snr(y, 0.1), rtol=1e-12)


def test_layer_norm_names_y():
    with pytest.raises(ValueError, match=r"^y has a vector with no detail component"):
        projections.layer_norm(np.ones((2, 4)) * 1e-300)
    with pytest.raises(ValueError, match=r"^y must have length >= 2"):
        projections.layer_norm([1.0])
    with pytest.raises(ValueError, match=r"^y contains NaN"):
        projections.layer_norm([1.0, np.nan])
    with pytest.raises(ValueError, match=r"^y2 has a vector"):
        noise.ln_cosine([1.0, 2.0], [3.0, 3.0])
    with pytest.raises(ValueError, match=r"^b must be non-zero"):
        noise.cosine([1.0, 2.0], [0.0, 0.0])


# ------------------------------------------------------------------ our own clear errors


def test_size_none_and_negative_seed():
    with pytest.raises(ValueError, match=r"^size must be"):
        d.random_dsm(4, 1.0, size=None)
    with pytest.raises(ValueError, match=r"^size must be"):
        noise.gaussian_noise(4, 0.1, size=None)
    with pytest.raises(ValueError, match=r"^rng must be .*non-negative"):
        d.random_dsm(4, 1.0, rng=-1)
    with pytest.raises(ValueError, match=r"^rng must be .*non-negative"):
        noise.gaussian_noise(4, 0.1, rng=-5)


def test_empty_paths_products_columns_frames():
    P = np.broadcast_to(np.eye(3), (2, 2, 2, 3, 3))
    z = np.zeros((4, 0), dtype=int)
    with pytest.raises(ValueError, match=r"length t >= 1"):
        attention.chained_product(P, z, z, z)
    with pytest.raises(ValueError, match=r"^factors must hold T >= 1"):
        attention.prefix_products(np.zeros((2, 0, 3, 3)))
    pool = d.random_dsm(4, 1.0, size=3, rng=0)
    with pytest.raises(ValueError, match=r"^x0 must have C >= 1"):
        residual.forward(pool, np.zeros((2, 5), dtype=int), np.zeros((2, 4, 0)))
    with pytest.raises(ValueError, match=r"^values must hold at least one"):
        widgets.frame_player(lambda v: None, [], label="T")


# ------------------------------------------------------------------ tooling


def test_makefile_quotes_notebooks_and_checks_python(tmp_path):
    text = (REPO / "Makefile").read_text()
    assert "$(NOTEBOOKS_Q)" in text and re.search(r"execute_notebooks\.py \$\(NOTEBOOKS_Q\)", text)
    nb = tmp_path / "chapters"
    nb.mkdir()
    (nb / "x;touch_PWNED.ipynb").write_text("{}")  # make cannot hold spaces in names anyway
    (nb / "it's.ipynb").write_text("{}")
    (tmp_path / "requirements.txt").write_text("")
    (tmp_path / "pyproject.toml").write_text("")
    out = subprocess.run(
        ["make", "-s", "-f", str(REPO / "Makefile"), "-n", "execute"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    ).stdout
    assert "'chapters/x;touch_PWNED.ipynb'" in out and "'chapters/it'\\''s.ipynb'" in out
    line = next(ln for ln in out.splitlines() if "execute_notebooks.py" in ln)
    argv = subprocess.run(["sh", "-c", "printf '%s\\n' " + line.split("execute_notebooks.py", 1)[1]],
                          capture_output=True, text=True, check=True).stdout.splitlines()
    assert argv == ["chapters/it's.ipynb", "chapters/x;touch_PWNED.ipynb", "intro.ipynb"]
    assert not (tmp_path / "touch_PWNED.ipynb").exists()
    fake = tmp_path / "python3.9"
    fake.write_text('#!/bin/sh\ncase "$1" in -V) echo "Python 3.9.2";; *) exit 1;; esac\n')
    fake.chmod(0o755)
    r = subprocess.run(
        ["make", "-f", str(REPO / "Makefile"), f"PYTHON={fake}", "setup"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )
    assert r.returncode != 0 and "PYTHON=python3.12" in r.stderr and "3.9.2" in r.stderr
    assert not (tmp_path / ".venv").exists()
    # a .venv left by an old Python is re-created
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "python").symlink_to(fake)
    (tmp_path / ".venv" / ".installed").write_text("")
    r = subprocess.run(
        ["make", "-n", "-f", str(REPO / "Makefile"), f"PYTHON={sys.executable}", "setup"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )
    assert "rm -rf .venv" in r.stdout and '[ -n "stale" ]' in r.stdout


def test_browser_test_fails_in_ci_without_chromium(tmp_path):
    (tmp_path / "index.html").write_text("")
    env = {"PATH": str(tmp_path), "HOME": str(tmp_path), "CI": "true"}
    r = subprocess.run([sys.executable, str(REPO / "scripts" / "browser_test.py"), str(tmp_path)],
                       env=env, capture_output=True, text=True, check=False)
    assert r.returncode == 1 and "FAILED" in r.stderr
    env["CI"] = ""
    r = subprocess.run([sys.executable, str(REPO / "scripts" / "browser_test.py"), str(tmp_path)],
                       env=env, capture_output=True, text=True, check=False)
    assert r.returncode == 0 and "SKIPPED" in r.stdout


def test_execute_writes_atomically(tmp_path, monkeypatch):
    import nbformat

    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import execute_notebooks as ex
    finally:
        sys.path.pop(0)
    path = tmp_path / "x.ipynb"
    old = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")])
    nbformat.write(old, path)
    before = path.read_text()

    def interrupted(nb, fh, *a, **k):
        fh.write('{"cells": [')
        raise KeyboardInterrupt

    monkeypatch.setattr(ex.nbformat, "write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        ex.write_atomic(nbformat.v4.new_notebook(), path)
    assert path.read_text() == before  # the reader's notebook is intact
    assert [p.name for p in tmp_path.iterdir()] == ["x.ipynb"]  # no temp file left
    monkeypatch.undo()
    new = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("2")])
    ex.write_atomic(new, path)
    assert nbformat.read(path, as_version=4).cells[0].source == "2"


def test_no_kstest_with_a_distribution_name():
    """scipy 1.18 rejects kstest(x, "norm", args=...): every call passes a cdf."""
    for path in (REPO / "dsmlib").rglob("*.py"):
        text = path.read_text()
        assert not re.search(r"kstest\([^)]*,\s*[\"']", text), path
