r"""Beyond the papers: the high-temperature law of :math:`\sigma_2` (book result BK-SIG2T).

HT's Algorithm 1 returns :math:`M = \operatorname{Sinkhorn}(-d/T)` with costs
:math:`d_{ij}\sim\mathcal U[0,1]`. This module derives and checks the law of
:math:`\sigma_2(M)` as :math:`T\to\infty`, for the "beyond the papers" chapter
``chapters/08_sigma2_law.ipynb``.

Derivation
----------
*Expansion of Sinkhorn to third order.* Sinkhorn is invariant to adding row- and
column-constant matrices (RC Eq. 19), so for scores :math:`tY` only the doubly centred
:math:`Z = Q(Y) = UYU` matters. Write :math:`n M_{ij} = \exp(t z_{ij} + \alpha_i + \beta_j)`
with :math:`\alpha, \beta = O(t^2)` (the first-order row and column sums of :math:`Z`
vanish). Expanding the row and column conditions to second order gives
:math:`\alpha_i + \beta_j = -\tfrac{t^2}{2}(r_i + c_j - \bar s) + O(t^3)` with
:math:`r_i, c_j` the row and column means of :math:`z_{ij}^2` and :math:`\bar s` their
grand mean, hence

.. math::

    n\operatorname{Sinkhorn}(tY) = J + tZ + \tfrac{t^2}{2}\,Q(Z\circ Z)
    + t^3\Big[Z\circ\big(-\tfrac12(r\mathbf 1^\top + \mathbf 1c^\top - \bar s J)\big)
    + \tfrac16 Z^{\circ 3}\Big] + a\mathbf 1^\top + \mathbf 1 b^\top + O(t^4),

so the first-order coefficient is :math:`1/n` (not RC Lemma 1's :math:`1/n^2`). For a DSM,
:math:`M - J/n = UMU` and :math:`\sigma_2(M) = \|M - J/n\|_2` (HT Lemma 2).

*First order.* With :math:`t = 1/T`, :math:`Y = -d`: :math:`Z = -Q(d)` and

.. math::

    \sigma_2(M) = \frac{\|Q(d)\|_2}{nT}\,\big(1 + a(d)/T + O(T^{-2})\big),\qquad
    a(d) = -\tfrac12\,u^\top (W\circ W) v/\|W\|_2,

with :math:`W = Q(d)` and :math:`u, v` its top singular vectors.

*No* :math:`1/T` *term in the mean.* The costs :math:`1 - d` have the law of :math:`d`, and
:math:`\operatorname{Sinkhorn}(-(1-d)/T) = \operatorname{Sinkhorn}(d/T)` (shift
invariance), so :math:`\mathbb E\,\sigma_2` at :math:`t` equals that at :math:`-t`: the mean
of :math:`\sigma_2 nT/\|Q(d)\|_2` is even in :math:`t`, and :math:`\mathbb E\,a(d) = 0`.
Single matrices carry a :math:`1/T` correction of spread
:math:`\operatorname{sd}(a) \approx \tfrac12\sqrt{\operatorname{Var}(w^2)}/\mathbb E\|W\|_2
= 1/(4\sqrt{15n})`; the mean does not.

*Second order (mean).* Three terms at :math:`t^2`, to leading order in :math:`n`, with
:math:`s = \mathbb E w^2 = 1/12`, :math:`m_4 = \mathbb E w^4 = 1/80`,
:math:`\operatorname{Var}(w^2) = 1/180`: the :math:`\alpha+\beta` term gives
:math:`-s/2 = -1/24`; the cube :math:`Z^{\circ3}`, whose projection on :math:`Z` is
:math:`(m_4/s)Z`, gives :math:`m_4/(6s) = +1/40`; second-order perturbation of
:math:`\sigma_1` by :math:`\tfrac12 Q(Z\circ Z)` (entries of variance :math:`v_B=1/720`,
:math:`\sum_k \sigma_1/(\sigma_1^2-\sigma_k^2) \approx \sqrt{n/s}` for the quarter-circle
law) gives :math:`v_B/(2s) = +1/120`. Total :math:`c_2 = -1/24 + 1/40 + 1/120 = -1/120`:

.. math::

    \mathbb E\,\sigma_2(M) = \frac{\mathbb E\|Q(d)\|_2}{nT}\Big(1 - \frac{1}{120\,T^2}
    + O(T^{-4})\Big).

*The constant.* In an orthonormal basis of :math:`\mathcal V_\perp`, :math:`Q(d)` is an
:math:`m\times m` matrix, :math:`m = n - 1`, of uncorrelated entries of variance
:math:`1/12`. Its largest singular value is at the Marchenko-Pastur edge with a
Tracy-Widom (GOE, :math:`\beta=1`) correction (Johnstone 2001, centring
:math:`m' = m - 1/2`):

.. math::

    \mathbb E\|Q(d)\|_2 \approx \kappa(n) = \sqrt{\tfrac1{12}}\,\Big(2\sqrt{n'}
    + 2^{-2/3}\,\mathbb E[\mathrm{TW}_1]\,n'^{-1/6}\Big),\qquad n' = n - \tfrac32,\quad
    \mathbb E[\mathrm{TW}_1] = -1.2065.

So the law is :math:`\sigma_2 \approx \kappa(n)/(nT)\,(1 - 1/(120T^2))`, and to leading
order :math:`\sigma_2 \approx 1/(T\sqrt{3n})`. Relative to :math:`2\sqrt n`, the shift
:math:`n\to n'` is :math:`\approx -3/(4n)` and the edge term :math:`\approx -0.38\,n^{-2/3}`
(-4.8 % and -6.0 % at n = 16, -0.29 % and -0.95 % at n = 256). Not included: the
non-Gaussian (fourth-cumulant) shift of the edge, :math:`O(1/n)` relative.

Experiment and check
--------------------
:func:`law_experiment` draws, for each ``n``, independent cost matrices :math:`d` (each DSM is
one unit of replication) with :func:`dsmlib.random_dsm`, reuses them at every temperature
(common random numbers) and records :math:`\sigma_2` with :func:`dsmlib.sigma2` and
:math:`\|Q(d)\|_2`; further Sinkhorn-free draws pin down :math:`\mathbb E\|Q(d)\|_2` (a control
variate for the mean of :math:`\sigma_2`). Per DSM, :math:`\sigma_2 nT/\|Q(d)\|_2 - 1` is fitted on
:math:`1/T, 1/T^2, 1/T^3`: the mean :math:`1/T` coefficient tests the symmetry argument (zero),
the mean :math:`1/T^2` coefficient tests :math:`c_2 = -1/120`. :func:`check_bk_sig2t` applies the
pre-registered criteria (95 % intervals against fixed windows).
"""

from __future__ import annotations

from . import checks, experiments, figures, tables
from .checks import *  # noqa: F401,F403
from .experiments import *  # noqa: F401,F403
from .figures import *  # noqa: F401,F403
from .tables import *  # noqa: F401,F403

__all__ = sorted(
    name
    for name in {*checks.__all__, *experiments.__all__, *figures.__all__, *tables.__all__}
    if not name.startswith("_")
)
