"""One package per chapter, all of the same shape (config in, result dataclass out).

``chNN_name/`` (and ``bk_sigma2_law/``, the book's own result) holds ``experiments``
(configs and pure, disk-cached functions; a package of modules by concern where the chapter
is large), ``checks`` (result -> :class:`~dsmlib.verdicts.Verdict`, one function per claim
id, and ``CHECKS``, the chapter's table claim id -> (experiment, check)), ``tables`` and
``figures`` (everything the notebook shows), and an ``__init__`` naming the public
functions. :mod:`dsmlib.claims` imports a chapter's ``checks`` only when one of its ids is
evaluated; nothing here imports the registry or the views.
"""
