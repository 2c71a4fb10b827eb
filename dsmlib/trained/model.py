r"""The ViT of RC App. F in numpy float64: inference only, attention recording, four settings.

Architecture (Sinkformers' / vit-pytorch's ViT at reduced width): linear patch embedding,
a learnable CLS token, a learned positional embedding, ``n_layers`` pre-LN blocks

.. math:: x \leftarrow x + \mathrm{MHA}(\mathrm{LN}(x)), \qquad
          x \leftarrow x + \mathrm{FF}(\mathrm{LN}(x)),

with a GELU feed-forward of width ``4 d_model``, a final LN and a linear head on the CLS
token. Attention scores are :math:`S = QK^\top/\sqrt{d_{qk}}`; Softmax normalises rows;
Sinkhorn runs ``n_half_steps`` log-domain half-steps (row, column, row, ...; Sinkformers
counts these as "iterations", so their "50 iterations" are 25 row and 25 column
normalisations, the last one a column normalisation).

The four inference settings of RC Sec. 4 (without retraining): ``skip=False`` drops every
residual addition, ``ff=False`` omits the feed-forward sub-block. An ``attention_only`` model
(Sinkformers' MNIST ViT) has no feed-forward sub-block and no feed-forward parameters.

Weights are stored as float32 ``.npz`` under :data:`WEIGHTS_DIR` (or ``$DSMLIB_WEIGHTS_DIR``,
:func:`weights_dir`) with a ``manifest.json``
that records the sha256 of every file. :func:`load_model`, :func:`verify_weights` and
:func:`weights_digest` verify, on every call, the manifest entry, the sha256 of the files'
current content (regular files only) and the parameters' names, shapes, dtypes and
finiteness; a mismatch is a ``ValueError`` naming the file and the command that regenerates
it. :func:`weights_digest` is meant for cache keys (``@disk_cached(key=...)``).
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import zipfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from numpy.typing import NDArray
from scipy.special import erf

from .._kernels.elementwise import gelu_f64
from .._validate import file_sha256, read_regular_file

WEIGHTS_DIR = Path(__file__).parent / "weights"
MANIFEST = WEIGHTS_DIR / "manifest.json"
NORMALISATIONS = ("softmax", "sinkhorn")
LN_EPS = 1e-5


@dataclass(frozen=True)
class ViTConfig:
    """Architecture and attention normalisation of one model."""

    normalisation: str = "softmax"
    n_layers: int = 24
    d_model: int = 64
    heads: int = 4
    d_head: int = 16
    ff_mult: int = 4
    n_patches: int = 16
    patch_dim: int = 49
    n_classes: int = 10
    n_half_steps: int = 50
    #: no feed-forward sub-block and no FF parameters (Sinkformers' attention-only MNIST ViT);
    #: manifest entries written before this field existed lack it (False)
    attention_only: bool = False

    def __post_init__(self) -> None:
        if self.normalisation not in NORMALISATIONS:
            raise ValueError(f"normalisation must be one of {NORMALISATIONS}, got {self.normalisation!r}")
        if self.n_half_steps < 1:
            raise ValueError(f"n_half_steps must be >= 1, got {self.n_half_steps}")

    @property
    def n_tokens(self) -> int:
        """Sequence length including the CLS token."""
        return self.n_patches + 1

    def to_dict(self) -> dict:
        return asdict(self)


#: the feed-forward sub-block's parameters (absent from an ``attention_only`` model)
FF_KEYS = ("ln2_g", "ln2_b", "w1", "b1", "w2", "b2")


def param_shapes(c: ViTConfig) -> dict[str, tuple[int, ...]]:
    """Name -> shape of every parameter (layer parameters stacked on a leading ``n_layers`` axis)."""
    L, d, hd, f = c.n_layers, c.d_model, c.heads * c.d_head, c.ff_mult * c.d_model
    shapes = {
        "patch_w": (c.patch_dim, d), "patch_b": (d,), "cls": (d,), "pos": (c.n_tokens, d),
        "ln1_g": (L, d), "ln1_b": (L, d), "wq": (L, d, hd), "wk": (L, d, hd), "wv": (L, d, hd),
        "wo": (L, hd, d), "bo": (L, d), "ln2_g": (L, d), "ln2_b": (L, d),
        "w1": (L, d, f), "b1": (L, f), "w2": (L, f, d), "b2": (L, d),
        "lnf_g": (d,), "lnf_b": (d,), "head_w": (d, c.n_classes), "head_b": (c.n_classes,),
    }
    if c.attention_only:  # no feed-forward sub-block: no ln2, w1, b1, w2, b2
        for k in FF_KEYS:
            del shapes[k]
    return shapes


# ---------------------------------------------------------------------------------------
# normalisations (log domain, any float dtype, batched over leading axes)
# ---------------------------------------------------------------------------------------
def _lse(f: NDArray, axis: int) -> NDArray:
    m = f.max(axis=axis, keepdims=True)
    return m + np.log(np.exp(f - m).sum(axis=axis, keepdims=True))


def log_sinkhorn(S: NDArray, n_half_steps: int) -> NDArray:
    """Sinkformers' log-domain Sinkhorn on scores ``S`` (..., n, n): ``n_half_steps``
    alternating normalisations starting with rows; returns ``exp`` of the result in the
    dtype of ``S``. ``n_half_steps = 1`` is the row softmax."""
    if S.ndim < 2 or S.shape[-1] != S.shape[-2]:
        raise ValueError(f"S must have shape (..., n, n), got {S.shape}")
    if n_half_steps < 1:
        raise ValueError(f"n_half_steps must be >= 1, got {n_half_steps}")
    f = S.copy()
    for k in range(n_half_steps):
        f -= _lse(f, -1 if k % 2 == 0 else -2)
    return np.exp(f)


#: score ranges above these use the log domain in :func:`fast_sinkhorn` (``exp`` or the scaling
#: vectors could under- or overflow): 600 in float64, 40 in float32 (``e^40`` ~ 2e17 leaves the
#: scalings far inside float32's range, ``e^88``); any other dtype always uses the log domain
_PLAIN_RANGE = {np.dtype(np.float64): 600.0, np.dtype(np.float32): 40.0}


def fast_sinkhorn(S: NDArray, n_half_steps: int) -> NDArray:
    """Same iterates as :func:`log_sinkhorn` (to rounding), computed with scaling vectors
    ``diag(u) K diag(v)``, ``K = exp(S - max S)``: one batched mat-vec per half-step instead of
    a log-sum-exp. Falls back to :func:`log_sinkhorn` when a matrix's score range exceeds
    :data:`_PLAIN_RANGE` for its dtype (where ``exp`` could underflow)."""
    if S.ndim < 2 or S.shape[-1] != S.shape[-2]:
        raise ValueError(f"S must have shape (..., n, n), got {S.shape}")
    if n_half_steps < 1:
        raise ValueError(f"n_half_steps must be >= 1, got {n_half_steps}")
    limit = _PLAIN_RANGE.get(np.dtype(S.dtype), -1.0)
    if float((S.max((-2, -1)) - S.min((-2, -1))).max(initial=0.0)) > limit:
        return log_sinkhorn(S, n_half_steps)
    K = np.exp(S - S.max(axis=(-2, -1), keepdims=True))
    Kt = np.swapaxes(K, -1, -2)
    v = np.ones(S.shape[:-1] + (1,), dtype=S.dtype)
    u = v
    for k in range(n_half_steps):
        if k % 2 == 0:
            u = 1.0 / (K @ v)
        else:
            v = 1.0 / (Kt @ u)
    return u * K * np.swapaxes(v, -1, -2)


def normalise(S: NDArray, c: ViTConfig, *, fast: bool = True) -> NDArray:
    """The model's attention normalisation of scores ``S`` (..., n, n) (``fast``: scaling
    vectors, else the log-domain iterates of the training code)."""
    nh = 1 if c.normalisation == "softmax" else c.n_half_steps
    return (fast_sinkhorn if fast else log_sinkhorn)(S, nh)


def _ln(x: NDArray, g: NDArray, b: NDArray) -> NDArray:
    mu = x.mean(-1, keepdims=True)
    d = x - mu
    var = (d**2).mean(-1, keepdims=True)
    if np.result_type(d, g, b) != d.dtype:
        return d / np.sqrt(var + LN_EPS) * g + b
    # the same operations in the same order as the line above, in place (one array, not four)
    d /= np.sqrt(var + LN_EPS)
    d *= g
    d += b
    return d


def _gelu(x: NDArray) -> NDArray:
    """Exact GELU in float64 (a float32 ``x`` is promoted, as ``x / np.sqrt(2.0)`` always did):
    by the compiled kernel (about 4x faster than scipy's ``erf``, equal to rounding), else scipy."""
    out = gelu_f64(x.astype(np.float64, copy=False)) if x.dtype in (np.float32, np.float64) else None
    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0))) if out is None else out


def attention_sublayer(
    h: NDArray, p: dict[str, NDArray], l: int, c: ViTConfig, *, fast: bool = True,
    normaliser: Callable[[NDArray], NDArray] | None = None,
) -> tuple[NDArray, NDArray, NDArray]:
    """Layer ``l``'s attention sub-block on ``h`` (B, n, d), in ``h``'s dtype: returns ``(o, S,
    P)``, the output ``MHA(LN(h))`` (B, n, d) (without the residual), the scores and the
    attention (B, H, n, n). ``p``: parameters stacked over layers; ``normaliser`` as in
    :func:`forward`."""
    B, n, D, H, dh = *h.shape, c.heads, c.d_head
    # the dense maps act on all B * n tokens as one (B n, d) matrix: one BLAS call each instead
    # of one per image; q, k and v come from one product with the stacked projections
    wqkv = np.concatenate([p["wq"][l], p["wk"][l], p["wv"][l]], axis=-1)  # (d, 3 H dh)
    u = _ln(h, p["ln1_g"][l], p["ln1_b"][l]).reshape(B * n, D)
    q, k, v = (u @ wqkv).reshape(B, n, 3, H, dh).transpose(2, 0, 3, 1, 4)
    S = (q @ k.transpose(0, 1, 3, 2)) * h.dtype.type(1.0 / np.sqrt(dh))
    P = normalise(S, c, fast=fast) if normaliser is None else np.asarray(normaliser(S), dtype=h.dtype)
    o = ((P @ v).transpose(0, 2, 1, 3).reshape(B * n, H * dh) @ p["wo"][l]).reshape(B, n, D) + p["bo"][l]
    return o, S, P


def ff_sublayer(h: NDArray, p: dict[str, NDArray], l: int) -> NDArray:
    """Layer ``l``'s feed-forward sub-block ``FF(LN(h))`` on ``h`` (B, n, d) (without the residual)."""
    B, n, D = h.shape
    g = _gelu(_ln(h, p["ln2_g"][l], p["ln2_b"][l]).reshape(B * n, D) @ p["w1"][l] + p["b1"][l])
    return (g @ p["w2"][l]).reshape(B, n, D) + p["b2"][l]


@dataclass(frozen=True)
class ForwardResult:
    """``logits`` (B, C); with ``record``: ``scores`` and ``attention`` (L, B, H, n, n) and
    ``outputs`` (L, B, n, d), the token representations after each block."""

    logits: NDArray[np.float64] | None
    scores: NDArray[np.float64] | None = None
    attention: NDArray[np.float64] | None = None
    outputs: NDArray[np.float64] | None = None


def forward(
    params: dict[str, NDArray], c: ViTConfig, x: NDArray, *, skip: bool = True, ff: bool = True,
    record: bool | str = False, dtype: type = np.float64, n_layers: int | None = None, fast: bool = True,
    normaliser: Callable[[NDArray], NDArray] | None = None, out: dict[str, NDArray] | None = None,
) -> ForwardResult:
    """Forward pass of a batch ``x`` (B, n_patches, patch_dim) in ``dtype``.

    ``skip=False`` removes every residual addition, ``ff=False`` omits the feed-forward
    sub-block (RC Sec. 4's four settings); ``record`` keeps scores, attention matrices and
    block outputs of every layer (``record="outputs"``: the block outputs only). ``n_layers`` stops after that many blocks (logits are then
    None); ``fast=False`` uses the log-domain Sinkhorn of the training code; ``normaliser``
    replaces the model's attention normalisation (scores (B, H, n, n) -> attention), e.g. a
    converged Sinkhorn (chapter 6, RC-CONV). ``out`` maps record names (``"scores"``,
    ``"attention"``, ``"outputs"``) to arrays of shape (n_layers, B, ...) that the record is
    written into (e.g. a slice of a caller's array or a reused buffer; values are cast to
    their dtype) and returned as."""
    ff = ff and not c.attention_only  # an attention-only model has no feed-forward sub-block
    x = np.asarray(x, dtype=dtype)
    if x.ndim != 3 or x.shape[1:] != (c.n_patches, c.patch_dim):
        raise ValueError(f"x must have shape (B, {c.n_patches}, {c.patch_dim}), got {x.shape}")
    p = {k: np.asarray(v, dtype=dtype) for k, v in params.items()}
    B = x.shape[0]
    h = x @ p["patch_w"] + p["patch_b"]
    h = np.concatenate([np.broadcast_to(p["cls"], (B, 1, c.d_model)), h], axis=1) + p["pos"]
    n_run = c.n_layers if n_layers is None else n_layers
    if not 1 <= n_run <= c.n_layers:
        raise ValueError(f"n_layers must be in [1, {c.n_layers}], got {n_layers}")
    # records are written into arrays allocated once (no per-layer list and final stack); the
    # dtype is promoted as np.stack would (a float32 pass turns float64 after the first GELU)
    rec: dict[str, NDArray] = {}

    def keep(key: str, l: int, a: NDArray) -> None:
        if key not in rec:
            given = None if out is None else out.get(key)
            if given is not None and given.shape != (n_run,) + a.shape:
                raise ValueError(f"out[{key!r}] must have shape {(n_run,) + a.shape}, got {given.shape}")
            rec[key] = np.empty((n_run,) + a.shape, dtype=a.dtype) if given is None else given
        elif np.result_type(rec[key], a) != rec[key].dtype and (out is None or key not in out):
            wider = np.empty(rec[key].shape, dtype=np.result_type(rec[key], a))
            wider[:l] = rec[key][:l]
            rec[key] = wider
        rec[key][l] = a

    for l in range(n_run):
        o, S, P = attention_sublayer(h, p, l, c, fast=fast, normaliser=normaliser)
        h = h + o if skip else o
        if ff:
            z = ff_sublayer(h, p, l)
            h = h + z if skip else z
        if record:
            if record != "outputs":
                keep("scores", l, S)
                keep("attention", l, P)
            keep("outputs", l, h)
    logits = _ln(h[:, 0], p["lnf_g"], p["lnf_b"]) @ p["head_w"] + p["head_b"] if n_run == c.n_layers else None
    return ForwardResult(logits, **rec)


# ---------------------------------------------------------------------------------------
# stored weights: verified on every use
# ---------------------------------------------------------------------------------------
#: the command that (re)generates one model's weights, history and manifest entry
TRAIN_COMMAND = "python -m dsmlib.trained.train --dataset {dataset} --normalisation {normalisation} --seed {seed}"
_HEX = frozenset("0123456789abcdef")


def weights_dir() -> Path:
    """The folder of the stored models: ``$DSMLIB_WEIGHTS_DIR`` if set (weights produced
    elsewhere, e.g. by a scheduler, or a test's folder), else :data:`WEIGHTS_DIR`."""
    env = os.environ.get("DSMLIB_WEIGHTS_DIR")
    return Path(env) if env else WEIGHTS_DIR


def manifest_path() -> Path:
    """The manifest of :func:`weights_dir` (:data:`MANIFEST` by default)."""
    return Path(os.environ["DSMLIB_WEIGHTS_DIR"]) / "manifest.json" if os.environ.get("DSMLIB_WEIGHTS_DIR") else MANIFEST


def sha256(path: Path) -> str:
    """Hex sha256 of a regular file (a device, FIFO or folder raises ``ValueError``)."""
    return file_sha256(path, "file")


def _regenerate(name: str, entry: dict | None = None) -> str:
    """The training command of model ``name`` (from its manifest entry, else from its name)."""
    e = entry if isinstance(entry, dict) else {}
    parts = name.rsplit("_", 2)
    guess = {"dataset": parts[0], "normalisation": parts[1] if len(parts) > 1 else "?",
             "seed": parts[2][1:] if len(parts) > 2 and parts[2].startswith("s") else "?"}
    args = {k: e.get(k, guess[k]) for k in guess}
    setting = e.get("setting")  # a named training setting (``--setting``), e.g. Sinkformers' MNIST ViT
    return TRAIN_COMMAND.format(**args) + (f" --setting {setting}" if isinstance(setting, str) else "")


def read_manifest() -> dict:
    """The weights manifest (``{}`` if absent), read under a shared lock of the weights folder
    (the trainer writes it under an exclusive one).

    Raises
    ------
    ValueError
        If the manifest is not a regular file, not valid JSON, or not a JSON object.
    """
    try:
        fd = os.open(weights_dir(), os.O_RDONLY)
    except OSError:
        fd = -1
    try:
        if fd >= 0:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH)
            except OSError:
                pass
        try:
            raw = read_regular_file(manifest_path(), "weights manifest")
        except FileNotFoundError:
            return {}
    finally:
        if fd >= 0:
            os.close(fd)  # releases the lock
    try:
        man = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"weights manifest {manifest_path()} is not valid JSON ({exc})") from None
    if not isinstance(man, dict):
        raise ValueError(f"weights manifest {manifest_path()} must be a JSON object, got {type(man).__name__}")
    return man


def _check_entry(name: str, entry: object) -> dict:
    """Validate the manifest entry of ``name``: its fields, file names and sha256 strings."""
    where = f"manifest entry {name!r} ({manifest_path()})"
    if not isinstance(entry, dict):
        raise ValueError(f"{where} must be a JSON object, got {type(entry).__name__}")
    for key in ("config", "weights", "history"):
        if not isinstance(entry.get(key), dict):
            raise ValueError(f"{where} lacks a {key!r} object; regenerate it with `{_regenerate(name, entry)}`")
    for key, suffix in (("weights", ".npz"), ("history", ".history.json")):
        f, h = entry[key].get("file"), entry[key].get("sha256")
        if not (isinstance(f, str) and f == Path(f).name and f.endswith(suffix) and not f.startswith(".")):
            raise ValueError(f"{where}: {key}.file must be a plain file name ending in {suffix!r}, got {f!r}")
        if not (isinstance(h, str) and len(h) == 64 and set(h) <= _HEX):
            raise ValueError(f"{where}: {key}.sha256 must be 64 lowercase hex digits, got {h!r}")
    try:
        ViTConfig(**entry["config"])
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: config is not a valid ViTConfig ({exc})") from None
    return entry


def _verified_bytes(name: str) -> tuple[dict, bytes, bytes]:
    """``(entry, weights bytes, history bytes)``: the bytes whose sha256 matched the manifest."""
    if not isinstance(name, str):
        raise ValueError(f"name must be a model name (str), got {type(name).__name__}")
    man = read_manifest()
    if name not in man:
        raise ValueError(f"name {name!r} is not in {manifest_path()} (known: {sorted(man)})")
    entry = _check_entry(name, man[name])
    out = []
    for key in ("weights", "history"):
        f = weights_dir() / entry[key]["file"]
        try:
            data = read_regular_file(f, f"{key} file")
        except FileNotFoundError:
            raise ValueError(
                f"{key} file {f} of model {name!r} is missing; regenerate it with `{_regenerate(name, entry)}`"
            ) from None
        except ValueError as exc:
            raise ValueError(f"{exc}; model {name!r} can only be read from a regular file") from None
        got = hashlib.sha256(data).hexdigest()
        if got != entry[key]["sha256"]:
            raise ValueError(
                f"sha256 of {f} is {got}, but the manifest says {entry[key]['sha256']}: the file was changed or "
                f"damaged; regenerate it with `{_regenerate(name, entry)}`"
            )
        out.append(data)
    return entry, out[0], out[1]


def _parse_weights(name: str, entry: dict, data: bytes) -> dict[str, NDArray[np.float64]]:
    """The parameters in ``data`` (a verified ``.npz``), checked against :func:`param_shapes`."""
    f = weights_dir() / entry["weights"]["file"]
    c = ViTConfig(**entry["config"])
    want = param_shapes(c)
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            if not isinstance(z, np.lib.npyio.NpzFile):
                raise ValueError("not an .npz archive")
            keys = set(z.files)
            missing, extra = sorted(set(want) - keys), sorted(keys - set(want))
            if missing or extra:
                raise ValueError(f"parameters missing: {missing}, unexpected: {extra}")
            raw = {k: z[k] for k in want}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise ValueError(f"weights file {f} of model {name!r} is not a valid weights archive ({exc})") from None
    params = {}
    for k, shape in want.items():
        a = raw[k]
        if a.dtype.kind != "f":
            raise ValueError(f"weights file {f}: parameter {k!r} must be floating point, got dtype {a.dtype}")
        if a.shape != shape:
            raise ValueError(f"weights file {f}: parameter {k!r} must have shape {shape} for this config, got {a.shape}")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"weights file {f}: parameter {k!r} has NaN or infinite entries")
        params[k] = a.astype(np.float64)
    return params


def verify_weights(name: str) -> dict:
    """Verify model ``name``'s stored files and return its manifest entry.

    The manifest entry is validated (fields, file names, sha256 strings, a valid
    :class:`ViTConfig`); the weights and history files must be regular files whose sha256
    matches the manifest; the weights must hold exactly the parameters of
    :func:`param_shapes` with those shapes, floating point and finite.

    Raises
    ------
    ValueError
        On an unknown name, a malformed manifest or entry, a missing file, a file that is not
        regular (a device or FIFO is refused without reading from it), a sha256 mismatch
        (the message names the file and the ``python -m dsmlib.trained.train ...`` command
        that regenerates it) or invalid weights.
    """
    entry, wdata, _ = _verified_bytes(name)
    # the sha256 of the files' current content is checked on every call (above); the parse is a
    # pure function of those bytes and the entry's config, so content already parsed and found
    # valid in this process is not parsed again
    parsed = (entry["weights"]["sha256"], json.dumps(entry["config"], sort_keys=True))
    if parsed not in _VALID:
        _parse_weights(name, entry, wdata)
        _VALID.add(parsed)
    return entry


#: (weights sha256, config) pairs whose archive has been parsed and found valid in this process
_VALID: set[tuple[str, str]] = set()


def weights_digest(names: Iterable[str]) -> dict[str, str]:
    """Verify the given models (as :func:`verify_weights`) and return a digest of each.

    The digest of a model is the sha256 of its manifest entry in canonical JSON; the entry
    holds the sha256 of the weights and history files, which have just been checked against
    the files' current content. Put it in a cache key (``@disk_cached(key=...)``): a result
    is then never served for weights, a history or metadata other than those it was computed
    from, and damaged files raise instead of being served.

    Parameters
    ----------
    names : iterable of str
        Model names (``mnist_sinkhorn_s0``, ...).

    Returns
    -------
    dict
        ``{name: sha256 hex}``, in the order given.
    """
    out = {}
    for name in names:
        entry = verify_weights(name)
        out[name] = hashlib.sha256(json.dumps(entry, sort_keys=True, allow_nan=False).encode()).hexdigest()
    return out


def load_model(name: str) -> tuple[dict[str, NDArray[np.float64]], ViTConfig, dict]:
    """``(params, config, entry)`` of stored model ``name``, verified as by :func:`verify_weights`
    (the bytes that are parsed are the bytes that were hashed); ``entry["history"]["data"]``
    holds the training log."""
    entry, wdata, hdata = _verified_bytes(name)
    params = _parse_weights(name, entry, wdata)
    try:
        history = json.loads(hdata)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"history file of model {name!r} is not valid JSON ({exc})") from None
    entry = dict(entry)
    entry["history"] = dict(entry["history"], data=history)
    return params, ViTConfig(**entry["config"]), entry


def load_verified(folder: str | Path, name: str, config_cls: type, shapes: Callable[..., dict], trainer: str
                  ) -> tuple[dict[str, NDArray[np.float64]], object, dict]:
    """``(params, config, entry)`` of model ``name`` in ``folder`` (``folder/manifest.json``,
    written by :func:`dsmlib.trained.train.save`), verified: the manifest entry, the sha256 of
    the bytes that are parsed (weights and history), the parameters' names and shapes
    (``shapes(config)``, ``config = config_cls(**entry["config"])``) and finiteness.
    ``entry["history"]["data"]`` holds the training log; ``trainer`` is the module command
    named in error messages (e.g. ``python -m dsmlib.trained.text_train``).

    Raises
    ------
    ValueError
        Naming the file and the command that regenerates it.
    """
    folder = Path(folder)
    try:
        man = json.loads(read_regular_file(folder / "manifest.json", "weights manifest"))
    except FileNotFoundError:
        raise ValueError(f"{folder / 'manifest.json'} does not exist: train with "
                         f"`{trainer} --out {folder} ...`") from None
    entry = man.get(name) if isinstance(man, dict) else None
    if not isinstance(entry, dict):
        raise ValueError(f"{name!r} is not in {folder / 'manifest.json'}")
    redo = f"regenerate it with `{entry.get('command', trainer + ' ...')}`"
    for key in ("weights", "history", "config"):
        if not isinstance(entry.get(key), dict):
            raise ValueError(f"manifest entry {name!r} in {folder} lacks a {key!r} object; {redo}")
    blobs = {}
    for key in ("weights", "history"):
        f = folder / Path(str(entry[key].get("file"))).name
        try:
            data = read_regular_file(f, f"{key} file")
        except FileNotFoundError:
            raise ValueError(f"{key} file {f} of {name!r} is missing; {redo}") from None
        if hashlib.sha256(data).hexdigest() != entry[key].get("sha256"):
            raise ValueError(f"sha256 of {f} does not match {folder / 'manifest.json'}; {redo}")
        blobs[key] = data
    try:
        c = config_cls(**entry["config"])
    except (TypeError, ValueError) as exc:
        raise ValueError(f"manifest entry {name!r}: config is not a valid {config_cls.__name__} ({exc})") from None
    want = shapes(c)
    try:
        with np.load(io.BytesIO(blobs["weights"]), allow_pickle=False) as z:
            raw = {k: z[k] for k in z.files}
    except (ValueError, OSError, zipfile.BadZipFile) as exc:
        raise ValueError(f"weights file of {name!r} is not a valid archive ({exc}); {redo}") from None
    if set(raw) != set(want) or any(raw[k].shape != s for k, s in want.items()):
        raise ValueError(f"weights of {name!r} do not have the parameters of its config; {redo}")
    if not all(np.all(np.isfinite(a)) for a in raw.values()):
        raise ValueError(f"weights of {name!r} have NaN or infinite entries; {redo}")
    entry = dict(entry, history=dict(entry["history"], data=json.loads(blobs["history"])))
    return {k: raw[k].astype(np.float64) for k in want}, c, entry


def model_name(dataset: str, normalisation: str, seed: int) -> str:
    """Canonical model name, e.g. ``mnist_sinkhorn_s0``."""
    return f"{dataset}_{normalisation}_s{seed}"
