r"""AG's News (RC Sec. 4, App. F, Table 1) from the reader's own copy: loader, tokenizer, vocabulary.

No text classification data set ships inside a registry package and the book downloads
nothing, so RC-F2 (Fig. 2 / 3a) is trained only by readers who have the data. This module
reads AG's News in its standard CSV form (Zhang, Zhao & LeCun 2015; the ``ag_news_csv``
archive) from a folder the reader names:

* ``train.csv`` (120,000 rows) and ``test.csv`` (7,600 rows), no header, three quoted fields
  ``"class index","title","description"``, class index 1-4 (World, Sports, Business,
  Sci/Tech); an optional header row ``Class Index,Title,Description`` (as in some re-packagings)
  is accepted;
* quotes inside a field are doubled (``""``), commas are inside quotes, and line breaks inside
  the text are escaped as a backslash followed by ``n`` (``\n``, two characters), which this
  loader turns into a space (and ``\\`` into one backslash) before tokenizing.

Text = title + ``" "`` + description. Tokenizer: lower-case, then the regular-expression
words ``[a-z0-9]+`` (punctuation, ``#39;``-style entities and backslashes separate words).
Vocabulary, from the **training split only**: the ``vocab_size - 2`` most frequent words,
ties broken alphabetically; id 0 is padding, id 1 an unknown word. Sequences are truncated
to ``max_len`` (128, Table 1) and padded with 0; a text without any word becomes one unknown
token, so every sequence has at least one real position.

The numpy side of RC's text model lives here too (numpy only; nothing here imports JAX, so the
analysis runs without it): :class:`TextConfig`, :func:`param_shapes`, the padding pattern
:func:`pad_bias`, the float64 inference :func:`numpy_forward` / :func:`record_attention` and
:func:`load_model` (sha256-verified weights written by :mod:`dsmlib.trained.text_train`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from numpy.typing import NDArray

from .._validate import read_regular_file
from .model import _gelu, fast_sinkhorn, load_verified
from .model import _ln as _np_ln

#: AG's News classes, in class-index order (index 1 = World)
CLASSES = ("World", "Sports", "Business", "Sci/Tech")
#: maximum sequence length of RC Table 1
MAX_LEN = 128
#: default vocabulary size, special ids included (not stated by the paper)
VOCAB_SIZE = 20_000
PAD, UNK = 0, 1
SPECIALS = ("<pad>", "<unk>")
_WORD = re.compile(r"[a-z0-9]+")
_HEADER = ("class index", "title", "description")


def tokenize(text: str) -> list[str]:
    r"""Words of ``text``: AG News escapes (``\n`` -> space, ``\\`` -> ``\``) undone, then
    lower-cased, then the matches of ``[a-z0-9]+`` in order.

    Parameters
    ----------
    text : str

    Returns
    -------
    list of str
    """
    text = text.replace("\\\\", "\x00").replace("\\n", " ").replace("\x00", "\\")
    return _WORD.findall(text.lower())


def read_split(path: str | Path) -> tuple[list[str], NDArray[np.int64]]:
    """Texts and labels of one AG News CSV file (see :func:`_read_split`)."""
    return _read_split(path)[:2]


def _read_split(path: str | Path) -> tuple[list[str], NDArray[np.int64], str]:
    """Texts, labels and the sha256 of the bytes parsed, of one AG News CSV file.

    Parameters
    ----------
    path : str or Path
        ``train.csv`` or ``test.csv``: rows ``"class index","title","description"``, an
        optional header row ``Class Index,Title,Description`` first.

    Returns
    -------
    texts : list of str, length N
        Title + ``" "`` + description (escapes still in place; :func:`tokenize` undoes them).
    labels : ndarray of int64, shape (N,)
        Class index - 1, in 0..3.
    sha256 : str
        Hex sha256 of the file's bytes that were parsed.

    Raises
    ------
    ValueError
        A missing or non-regular file, text that is not UTF-8, a row without exactly three
        fields, a class index that is not an integer in 1..4, or a file without rows; the
        message names the file and, for a bad row, its line.
    """
    path = Path(path)
    try:
        raw = read_regular_file(path, "AG News file")
    except FileNotFoundError:
        raise ValueError(f"AG News file {path} does not exist (expected train.csv and test.csv in "
                         f"{path.parent})") from None
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path} is not UTF-8 text ({exc})") from None
    reader = csv.reader(io.StringIO(content, newline=""), strict=True)
    texts, labels = [], []
    line = 1
    try:
        for row in reader:
            start, line = line, reader.line_num + 1  # a quoted field may span several lines
            if not row or row == [""]:
                continue
            if start == 1 and tuple(f.strip().lower() for f in row) == _HEADER:
                continue
            if len(row) != 3:
                raise ValueError(f"{path}, line {start}: expected 3 fields (class index, title, description), "
                                 f"got {len(row)}")
            cls = row[0].strip()
            if not (cls.isdigit() and 1 <= int(cls) <= len(CLASSES)):
                raise ValueError(f"{path}, line {start}: class index must be an integer in 1..{len(CLASSES)}, "
                                 f"got {row[0]!r}")
            labels.append(int(cls) - 1)
            texts.append(row[1] + " " + row[2])
    except csv.Error as exc:
        raise ValueError(f"{path}, line {reader.line_num}: malformed CSV ({exc})") from None
    if not texts:
        raise ValueError(f"{path} holds no rows: the split is empty")
    return texts, np.asarray(labels, dtype=np.int64), hashlib.sha256(raw).hexdigest()


def build_vocab(token_lists: Sequence[Sequence[str]], vocab_size: int = VOCAB_SIZE) -> tuple[str, ...]:
    """Vocabulary of the training split: ``("<pad>", "<unk>", w_2, w_3, ...)``.

    Parameters
    ----------
    token_lists : sequence of sequence of str
        Tokenized training texts.
    vocab_size : int
        Total size, the two special ids included (>= 2).

    Returns
    -------
    tuple of str
        Word ``vocab[i]`` has id ``i``; words by decreasing count, ties alphabetically, at
        most ``vocab_size`` entries.
    """
    if int(vocab_size) != vocab_size or vocab_size < 2:
        raise ValueError(f"vocab_size must be an integer >= 2, got {vocab_size!r}")
    counts = Counter(w for toks in token_lists for w in toks)
    words = sorted(counts, key=lambda w: (-counts[w], w))[: int(vocab_size) - len(SPECIALS)]
    return SPECIALS + tuple(words)


def encode(token_lists: Sequence[Sequence[str]], vocab: Sequence[str], max_len: int = MAX_LEN
           ) -> tuple[NDArray[np.int32], NDArray[np.bool_]]:
    """Ids and mask of tokenized texts.

    Parameters
    ----------
    token_lists : sequence of sequence of str, length N
    vocab : sequence of str
        From :func:`build_vocab`.
    max_len : int
        Sequences are truncated to ``max_len`` ids and padded with 0.

    Returns
    -------
    ids : ndarray of int32, shape (N, max_len)
        Unknown words are 1; a text without words is one unknown token.
    mask : ndarray of bool, shape (N, max_len)
        True at real positions: a prefix of each row, at least one.
    """
    if int(max_len) != max_len or max_len < 1:
        raise ValueError(f"max_len must be an integer >= 1, got {max_len!r}")
    index = {w: i for i, w in enumerate(vocab)}
    ids = np.zeros((len(token_lists), int(max_len)), dtype=np.int32)
    for r, toks in enumerate(token_lists):
        seq = [index.get(w, UNK) for w in toks[:max_len]] or [UNK]
        ids[r, : len(seq)] = seq
    lengths = np.array([max(1, min(len(t), max_len)) for t in token_lists], dtype=np.int64)
    mask = np.arange(max_len)[None, :] < lengths[:, None]
    return ids, mask


@dataclass(frozen=True)
class AGNews:
    """One tokenized copy of AG's News (arrays are read-only).

    Attributes
    ----------
    x_train, x_test : ndarray of int32, shape (N, max_len)
        Token ids, 0 = padding, 1 = unknown.
    mask_train, mask_test : ndarray of bool, shape (N, max_len)
        True at real (unpadded) positions.
    y_train, y_test : ndarray of int64, shape (N,)
        Labels 0..3 (:data:`CLASSES`).
    vocab : tuple of str
        ``vocab[i]`` is the word of id ``i``.
    sha256 : dict
        ``{"train.csv": hex, "test.csv": hex}`` of the files read.
    """

    x_train: NDArray[np.int32]
    mask_train: NDArray[np.bool_]
    y_train: NDArray[np.int64]
    x_test: NDArray[np.int32]
    mask_test: NDArray[np.bool_]
    y_test: NDArray[np.int64]
    vocab: tuple[str, ...]
    sha256: dict

    @property
    def max_len(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def vocab_sha256(self) -> str:
        """sha256 of the vocabulary (words joined by newlines, UTF-8): identifies the id mapping."""
        return hashlib.sha256("\n".join(self.vocab).encode()).hexdigest()


def load(folder: str | Path, *, vocab_size: int = VOCAB_SIZE, max_len: int = MAX_LEN) -> AGNews:
    """Read ``folder/train.csv`` and ``folder/test.csv`` and tokenize them.

    Parameters
    ----------
    folder : str or Path
        The reader's AG News folder.
    vocab_size : int
        Vocabulary size, the two special ids included.
    max_len : int
        Sequence length (Table 1: 128).

    Returns
    -------
    AGNews

    Raises
    ------
    ValueError
        As :func:`read_split` (a missing file, a bad row, an empty split), naming the file.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"AG News folder {folder} does not exist or is not a folder "
                         "(it must hold train.csv and test.csv)")
    splits, sha = {}, {}
    for name in ("train.csv", "test.csv"):
        texts, y, sha[name] = _read_split(folder / name)
        splits[name] = ([tokenize(t) for t in texts], y)
    vocab = build_vocab(splits["train.csv"][0], vocab_size)
    arrays = []
    for name in ("train.csv", "test.csv"):
        ids, mask = encode(splits[name][0], vocab, max_len)
        arrays += [ids, mask, splits[name][1]]
    for a in arrays:
        a.setflags(write=False)
    return AGNews(*arrays, vocab=vocab, sha256=sha)


# ---------------------------------------------------------------------------------------
# the text model, numpy side: config, parameters, padding pattern, float64 inference and
# verified loading (training: dsmlib.trained.text_train, with JAX)
# ---------------------------------------------------------------------------------------
#: score given to the attention pairs the padding pattern excludes
NEG = -1e9


@dataclass(frozen=True)
class TextConfig:
    """Architecture and attention normalisation of one text model (RC Table 1 by default)."""

    normalisation: str = "softmax"
    n_layers: int = 24
    d_model: int = 128
    heads: int = 4
    d_head: int = 32
    d_ff: int = 512
    max_len: int = MAX_LEN
    vocab_size: int = VOCAB_SIZE
    n_classes: int = 4
    n_half_steps: int = 50
    dropout: float = 0.3

    def __post_init__(self) -> None:
        if self.normalisation not in ("softmax", "sinkhorn"):
            raise ValueError(f"normalisation must be 'softmax' or 'sinkhorn', got {self.normalisation!r}")
        for k in ("n_layers", "d_model", "heads", "d_head", "d_ff", "max_len", "n_half_steps"):
            if getattr(self, k) < 1:
                raise ValueError(f"{k} must be >= 1, got {getattr(self, k)}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")

    @property
    def half_steps(self) -> int:
        """Half-steps of the normalisation (1 = Softmax)."""
        return 1 if self.normalisation == "softmax" else self.n_half_steps

    def to_dict(self) -> dict:
        return asdict(self)


def param_shapes(c: TextConfig) -> dict[str, tuple[int, ...]]:
    """Name -> shape of every parameter (layer parameters stacked on a leading ``n_layers`` axis)."""
    L, d, hd, f = c.n_layers, c.d_model, c.heads * c.d_head, c.d_ff
    return {
        "embed": (c.vocab_size, d), "pos": (c.max_len, d),
        "ln1_g": (L, d), "ln1_b": (L, d), "wq": (L, d, hd), "wk": (L, d, hd), "wv": (L, d, hd),
        "wo": (L, hd, d), "bo": (L, d), "ln2_g": (L, d), "ln2_b": (L, d),
        "w1": (L, d, f), "b1": (L, f), "w2": (L, f, d), "b2": (L, d),
        "lnf_g": (d,), "lnf_b": (d,), "head_w": (d, c.n_classes), "head_b": (c.n_classes,),
    }


def pad_bias(mask, xp=np, dtype=np.float32):
    """Additive score pattern of a padded batch.

    Parameters
    ----------
    mask : bool array, shape (B, n)
        True at real positions.
    xp : module
        ``numpy`` or ``jax.numpy``.

    Returns
    -------
    array of ``dtype``, shape (B, 1, n, n)
        0 where query and key are both real and on the diagonal of a padded position,
        :data:`NEG` elsewhere: the normalisation sees ``blockdiag(real block, I)``.
    """
    n = mask.shape[-1]
    real = mask[:, :, None] & mask[:, None, :]
    pad_diag = xp.eye(n, dtype=bool)[None] & ~mask[:, :, None]
    return xp.where(real | pad_diag, 0.0, NEG).astype(dtype)[:, None]


# ---------------------------------------------------------------------------------------
def numpy_forward(params: dict[str, NDArray], c: TextConfig, tokens: NDArray, mask: NDArray, *,
                  chunk: int = 256, on_layer: Callable[[int, NDArray], None] | None = None) -> NDArray[np.float64]:
    """numpy float64 forward (no dropout) of ``tokens`` (N, n) int with ``mask`` (N, n) bool.

    Layer by layer over all N sequences (in chunks of ``chunk``), so that ``on_layer(l, A)``
    receives layer ``l``'s attention ``A`` (N, H, n, n) while only one layer is held. Sinkhorn
    uses scaling vectors (:func:`dsmlib.trained.model.fast_sinkhorn`, log domain when padding
    is present). Returns the logits (N, n_classes)."""
    tokens, mask = np.asarray(tokens), np.asarray(mask, dtype=bool)
    if tokens.ndim != 2 or mask.shape != tokens.shape or tokens.shape[1] > c.max_len:
        raise ValueError(f"tokens and mask must have the same shape (N, n <= {c.max_len}), got "
                         f"{tokens.shape} and {mask.shape}")
    if not mask[:, 0].all():
        raise ValueError("every sequence needs a real first position (mask[:, 0] all True)")
    p = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
    N, n = tokens.shape
    H, dh = c.heads, c.d_head
    h = p["embed"][tokens] + p["pos"][:n]
    for l in range(c.n_layers):
        A = np.empty((N, H, n, n)) if on_layer is not None else None
        for s in range(0, N, chunk):
            hc, mc = h[s:s + chunk], mask[s:s + chunk]
            B = hc.shape[0]
            u = _np_ln(hc, p["ln1_g"][l], p["ln1_b"][l])
            q, k, v = ((u @ p[w][l]).reshape(B, n, H, dh).transpose(0, 2, 1, 3) for w in ("wq", "wk", "wv"))
            S = (q @ k.transpose(0, 1, 3, 2)) / np.sqrt(dh)
            if not mc.all():
                S = S + pad_bias(mc, np, np.float64)
            P = fast_sinkhorn(S, c.half_steps)
            hc = hc + (P @ v).transpose(0, 2, 1, 3).reshape(B, n, H * dh) @ p["wo"][l] + p["bo"][l]
            z = _gelu(_np_ln(hc, p["ln2_g"][l], p["ln2_b"][l]) @ p["w1"][l] + p["b1"][l])
            h[s:s + chunk] = hc + z @ p["w2"][l] + p["b2"][l]
            if A is not None:
                A[s:s + chunk] = P
        if on_layer is not None:
            on_layer(l, A)
    hf = _np_ln(h, p["lnf_g"], p["lnf_b"])
    pooled = np.where(mask[..., None], hf, -np.inf).max(axis=1)
    return pooled @ p["head_w"] + p["head_b"]


def record_attention(params: dict[str, NDArray], config: TextConfig, tokens: NDArray, mask: NDArray
                     ) -> NDArray[np.float64]:
    """Attention of every layer, head and sequence: (L, N, H, n, n) float64.

    numpy float64 forward (:func:`numpy_forward`) of the given (float32 or float64) weights;
    it matches the JAX float32 training forward to float32 rounding. Padded sequences give
    ``blockdiag(real block, I)`` (:func:`pad_bias`)."""
    out: list[NDArray] = []
    numpy_forward(params, config, tokens, mask, on_layer=lambda l, A: out.append(A))
    return np.stack(out)


def model_name(normalisation: str, seed: int) -> str:
    """``agnews_<normalisation>_s<seed>``."""
    return f"agnews_{normalisation}_s{seed}"


def load_model(folder: str | Path, name: str) -> tuple[dict[str, NDArray[np.float64]], TextConfig, dict]:
    """``(params, config, entry)`` of model ``name`` in ``folder``, verified: the manifest entry,
    the sha256 of the bytes that are parsed (weights and history), the parameters' names, shapes
    and finiteness. ``entry["history"]["data"]`` holds the training log.

    Raises
    ------
    ValueError
        Naming the file and the command that regenerates it.
    """
    return load_verified(folder, name, TextConfig, param_shapes, "python -m dsmlib.trained.text_train")


