r"""Compiled kernels (numba) for the hot loops of :mod:`dsmlib`: Sinkhorn scaling and sigma_2.

Why compiled kernels
--------------------
A 64 x 64 matrix (32 KiB) fits in a core's L1 cache. The numpy implementation of
Sinkhorn processes chunks of matrices with about 15 small array calls per iteration,
streams each chunk from L2/L3 twice per iteration and compacts the active set whenever a
matrix converges; the kernels here work on *one matrix at a time*, in cache:

* :func:`sinkhorn_scaled` -- per chunk of matrices (1 MiB, on a thread), one compiled pass
  forms ``S / div - max`` and the score span (plain vs log-stabilised scaling), numpy's
  vectorised ``exp`` makes :math:`K = e^{S/\text{div} - \max}` in the output buffer (the same
  ``K``, bit for bit, as the numpy implementation); then, per matrix, the compiled kernel
  does the first row and column step in one pass, then per iteration the row dot products
  ``K v``, the row error of the current iterate (the stopping rule of
  :func:`dsmlib.sinkhorn`), ``u = 1/Kv`` and the column sums ``K^T u`` (row-wise,
  vectorised), and finally :math:`M = \operatorname{diag}(u) K \operatorname{diag}(v)` in place,
  with its column error (numpy's summation order). Each matrix stops on its own; nothing is
  compacted or copied. The log-stabilised path (Schmitzer 2019) keeps potentials ``f, g``
  and absorbs ``u, v`` into them whenever they leave :math:`[e^{-69}, e^{69}]`, as
  :func:`dsmlib.sinkhorn._scaling_chunk` does, and a plain run that ends non-finite is
  redone log-stabilised. Same steps, same first iteration, same stopping rule: the
  iteration counts are those of the numpy implementation (the sums differ only in the
  order of floating-point additions; ``tests/test_kernels.py`` checks the counts).
* :func:`gram_top2` / :func:`sigma2` -- the two largest eigenvalues of the Gram matrix
  :math:`MM^\top` per matrix, with the matrix in cache: the Gram product's lower triangle in
  4 x 4 register blocks (half the products of a general matrix product); a Householder
  tridiagonalisation (LAPACK ``dsytd2``'s maths) in which each step applies the previous
  step's rank-2 update and accumulates the next ``T v`` in one pass over the trailing
  block, four rows at a time; then only the two top eigenvalues, by Laguerre's method on
  :math:`\det(T - xI)` (cubically convergent from above; :math:`\lambda_2` with
  :math:`\lambda_1` divided out, bracketed by :math:`\sqrt{\|G\|_F^2 - \lambda_1^2}` and
  isolated by Sturm multisection), every result certified by a Sturm count and, failing
  that, recomputed by multisection and safeguarded Newton. Absolute error of order
  :math:`n\epsilon\,\lambda_1`, like LAPACK's ``syevd`` on the Gram matrix (checked against
  LAPACK for n = 2 ... 100 and on clustered spectra in ``tests/test_kernels.py``); the SVD
  fallback of :func:`dsmlib.sigma2` (:math:`\sigma_2 < 10^{-3}\sigma_1`) is kept.

The kernels are serial and release the GIL (``nogil``): :mod:`dsmlib._parallel` runs
contiguous chunks of the batch on threads. They are compiled on first use and cached on
disk (``cache=True``, in ``dsmlib/_kernels/__pycache__`` or ``$NUMBA_CACHE_DIR``);
:func:`compile_seconds` reports the first-call compile (or cache-load) time. That cache is
only a cache (:mod:`dsmlib._kernels._compile`): an unwritable or full folder, or a corrupt
``.nbi``/``.nbc`` file, gives one :class:`KernelCacheWarning` and the kernels are compiled
in memory; a computation never fails for it. Without numba, ``AVAILABLE`` is False and
dsmlib uses its numpy implementations.

Modules: :mod:`~dsmlib._kernels.sinkhorn` (scaling kernels), :mod:`~dsmlib._kernels.tridiag`
(Gram product, tridiagonalisation), :mod:`~dsmlib._kernels.eigen` (top two eigenvalues),
:mod:`~dsmlib._kernels.dispatch` (the Python wrappers), :mod:`~dsmlib._kernels._compile`
(``numba.njit`` with the guarded cache).
"""


from __future__ import annotations

import os

from ._compile import AVAILABLE, KernelCacheWarning, cache_status, numba
from .dispatch import compile_seconds, gram_top2, sigma2, sinkhorn_scaled, warm_up
from .sinkhorn import ABSORB

__all__ = [
    "ABSORB",
    "AVAILABLE",
    "ENABLED",
    "KernelCacheWarning",
    "cache_status",
    "compile_seconds",
    "gram_top2",
    "numba",
    "sigma2",
    "sinkhorn_scaled",
    "warm_up",
]

#: whether :func:`dsmlib.sinkhorn` and :func:`dsmlib.sigma2` use these kernels
#: (``DSMLIB_KERNELS=0`` in the environment, or setting this to False, selects numpy)
ENABLED = AVAILABLE and os.environ.get("DSMLIB_KERNELS", "1") != "0"
