"""Trained weights are verified on every use (issue 19, defects 2 and 8).

A throw-away weights folder with one tiny model stands in for ``dsmlib/trained/weights``:
every damage (truncated, deleted, junk, changed together with its manifest entry, a symlink
to a device, a FIFO) gives a clear ``ValueError`` naming the file and the command that
regenerates it, never a stale result, a ``BadZipFile``/``KeyError`` or a hang.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading

import numpy as np
import pytest

from dsmlib import cache
from dsmlib.trained import model as tm

CFG = tm.ViTConfig(normalisation="sinkhorn", n_layers=1, d_model=8, heads=2, d_head=4, n_patches=4, patch_dim=4,
                   n_classes=3, n_half_steps=4)
NAME = "digits_sinkhorn_s0"
REGEN = "python -m dsmlib.trained.train --dataset digits --normalisation sinkhorn --seed 0"


def _params(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {k: rng.normal(size=s).astype(np.float32) for k, s in tm.param_shapes(CFG).items()}


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def store(tmp_path, monkeypatch):
    """A weights folder with model NAME, and helpers to damage it."""
    wdir = tmp_path / "weights"
    wdir.mkdir()
    monkeypatch.setenv("DSMLIB_WEIGHTS_DIR", str(wdir))  # (rebinding tm.WEIGHTS_DIR would bypass the cache)

    def write(params=None, history=None, entry_patch=None, manifest_sha=True):
        w, h = wdir / f"{NAME}.npz", wdir / f"{NAME}.history.json"
        np.savez_compressed(w, **(_params() if params is None else params))
        h.write_text(history if isinstance(history, str) else json.dumps({"epoch": [0, 1]} if history is None else history))
        entry = {"dataset": "digits", "normalisation": "sinkhorn", "seed": 0, "config": CFG.to_dict(),
                 "weights": {"file": w.name, "sha256": _sha(w)}, "history": {"file": h.name, "sha256": _sha(h)},
                 "final_test_acc": 0.5}
        entry.update(entry_patch or {})
        (wdir / "manifest.json").write_text(json.dumps({NAME: entry}))
        return w, h

    write()
    return wdir, write


def test_intact_model_loads(store):
    params, c, entry = tm.load_model(NAME)
    assert c == CFG and set(params) == set(tm.param_shapes(CFG)) and params["wq"].dtype == np.float64
    assert entry["history"]["data"]["epoch"] == [0, 1]
    d = tm.weights_digest([NAME])
    assert list(d) == [NAME] and len(d[NAME]) == 64


@pytest.mark.parametrize("damage", ["truncate", "junk", "flip"])
def test_damaged_weights_name_the_file_and_the_command(store, damage):
    wdir, _ = store
    w = wdir / f"{NAME}.npz"
    data = w.read_bytes()
    w.write_bytes({"truncate": data[: len(data) // 2], "junk": b"junk" * 10,
                   "flip": data[:-5] + bytes([data[-5] ^ 1]) + data[-4:]}[damage])
    for fn in (tm.verify_weights, tm.load_model, lambda n: tm.weights_digest([n])):
        with pytest.raises(ValueError, match="sha256 of .*digits_sinkhorn_s0.npz.*regenerate it with") as exc:
            fn(NAME)
        assert REGEN in str(exc.value)


def test_missing_files(store):
    wdir, _ = store
    (wdir / f"{NAME}.history.json").unlink()
    with pytest.raises(ValueError, match=r"history file .* is missing; regenerate it with `python -m"):
        tm.load_model(NAME)
    (wdir / f"{NAME}.npz").unlink()
    with pytest.raises(ValueError, match="weights file .* is missing"):
        tm.verify_weights(NAME)


def test_changed_together_with_the_manifest_gives_clear_messages(store):
    """Defect 8: junk or wrong parameters with a matching manifest gave BadZipFile, KeyError 'wq', reshape errors."""
    wdir, write = store
    w = wdir / f"{NAME}.npz"
    w.write_bytes(b"not a zip file at all")
    entry = json.loads((wdir / "manifest.json").read_text())
    entry[NAME]["weights"]["sha256"] = _sha(w)
    (wdir / "manifest.json").write_text(json.dumps(entry))
    with pytest.raises(ValueError, match="not a valid weights archive"):
        tm.load_model(NAME)
    p = _params()
    del p["wq"]
    write(params=p)
    with pytest.raises(ValueError, match=r"parameters missing: \['wq'\]"):
        tm.load_model(NAME)
    p = _params()
    p["w1"] = p["w1"][..., :-1]
    write(params=p)
    with pytest.raises(ValueError, match="parameter 'w1' must have shape"):
        tm.load_model(NAME)
    p = _params()
    p["bo"][0, 0] = np.nan
    write(params=p)
    with pytest.raises(ValueError, match="'bo' has NaN or infinite"):
        tm.verify_weights(NAME)
    p = _params()
    p["b1"] = p["b1"].astype(np.int32)
    write(params=p)
    with pytest.raises(ValueError, match="'b1' must be floating point"):
        tm.load_model(NAME)
    write(history="{not json")
    with pytest.raises(ValueError):
        tm.load_model(NAME)


@pytest.mark.parametrize(
    "patch, msg",
    [({"weights": {"file": "../x.npz", "sha256": "0" * 64}}, "plain file name"),
     ({"weights": {"file": f"{NAME}.npz", "sha256": "xyz"}}, "64 lowercase hex"),
     ({"config": {"normalisation": "sparsemax"}}, "not a valid ViTConfig"),
     ({"history": None}, "lacks a 'history' object")],
)
def test_malformed_manifest_entries(store, patch, msg):
    _, write = store
    write(entry_patch=patch)
    with pytest.raises(ValueError, match=msg):
        tm.verify_weights(NAME)


def test_malformed_manifest(store):
    wdir, _ = store
    (wdir / "manifest.json").write_text("[1, 2")
    with pytest.raises(ValueError, match="not valid JSON"):
        tm.read_manifest()
    (wdir / "manifest.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="must be a JSON object"):
        tm.read_manifest()


@pytest.mark.parametrize("kind", ["device", "fifo"])
def test_weights_path_that_is_not_a_regular_file_is_refused_without_hanging(store, kind):
    """Defect 8: a weights path that is a symlink to a device hung."""
    wdir, _ = store
    w = wdir / f"{NAME}.npz"
    w.unlink()
    if kind == "device":
        w.symlink_to("/dev/zero")
    else:
        os.mkfifo(w)
    out: list = []

    def run():
        try:
            tm.load_model(NAME)
        except Exception as exc:  # noqa: BLE001
            out.append(exc)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(20)
    assert not t.is_alive(), "load_model hangs on a non-regular file"
    assert isinstance(out[0], ValueError) and "not a regular file" in str(out[0])


def test_cache_hit_never_serves_damaged_weights(store, tmp_path, monkeypatch):
    """Defect 2: with a warm cache, damaged weights still gave a verdict. With the weights'
    digest in the key (``key=``, computed on every call), they raise instead."""
    d = tmp_path / "cache"
    d.mkdir(mode=0o700)
    monkeypatch.setenv("DSMLIB_CACHE_DIR", str(d))
    monkeypatch.delenv("DSMLIB_NO_CACHE", raising=False)
    calls = []

    @cache.disk_cached(key=lambda names: tm.weights_digest(names))
    def analyse(names: tuple) -> dict:
        calls.append(names)
        return {n: tm.load_model(n)[0]["wq"].sum() for n in names}

    wdir, write = store
    assert cache.code_status() is None, cache.code_status()
    analyse((NAME,))
    analyse((NAME,))
    assert len(calls) == 1  # a hit
    w = wdir / f"{NAME}.npz"
    w.write_bytes(w.read_bytes()[:100])  # truncated
    with pytest.raises(ValueError, match="sha256 of"):
        analyse((NAME,))
    write(params=_params(seed=1))  # retrained, manifest updated: a new key, recomputed
    r = analyse((NAME,))
    assert len(calls) == 2 and np.isclose(r[NAME], _params(seed=1)["wq"].astype(np.float64).sum())
    # the file-input API does the same for any data file
    @cache.disk_cached(files=lambda names: [wdir / f"{n}.npz" for n in names])
    def analyse_files(names: tuple) -> dict:
        calls.append(names)
        return {"n": len(names)}

    analyse_files((NAME,))
    analyse_files((NAME,))
    n = len(calls)
    write(params=_params(seed=2))
    analyse_files((NAME,))
    assert len(calls) == n + 1
