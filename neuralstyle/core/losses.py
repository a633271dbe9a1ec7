"""The losses of Gatys et al., written with ``keras.ops`` (backend-neutral).

Every loss here is a *mean*, and the content and style losses are divided by
the mean square of their target, so that they neither grow with the image nor
depend on the activation scale of a layer: one set of weights means the same
thing at 128 px and at 2048 px, for every layer and every image pair. Against
the paper (Gatys, Ecker, Bethge, CVPR 2016, eqs. 1–5):

* content: paper ``½ Σ (F − P)²`` over positions and channels; here
  ``mean((F − P)²) / mean(P²)`` (the paper's sum grows with the image).
* Gram matrix: paper ``G = Fᵀ F`` (a sum over the H·W positions); here, as in
  Gatys's own released code, ``G = Fᵀ F / (H·W)``, a mean over positions.
* style, per layer: paper ``1/(4 N² M²) Σ (G − A)²`` with N = C channels and
  M = H·W positions, i.e. ``mean((G − A)²) / 4`` with the normalised Gram;
  here ``mean((G − A)²) / mean(A²)``. Gatys's code weighs layer l by 1e3/C²
  to balance layers of its *normalised* VGG (every filter rescaled to mean
  activation 1); the Caffe VGG weights used here are not normalised (mean
  activations run from ~20 in block1 to ~400 in block4, so raw Gram errors
  differ by 10⁵ between layers), and dividing by the target's own scale
  balances them for any weights file.
* balance 'raw' (not in the paper; the default): the layers and the content are
  weighed per pair as neural-style's raw losses weigh them, and 'pair': the content
  weight is scaled per pair and size (`neuralstyle.core.balance`); `host_style_loss`
  is the latter's measure.
* total variation (not in the paper; jcjohnson's and the Keras example's
  smoothness term): the mean over pixels of the squared differences between
  horizontal and vertical neighbours, in Caffe units (0–255 scale).
"""

from __future__ import annotations

import numpy as np

from .backend import keras

ops = keras.ops


@ops.custom_gradient
def _symmetric_gram(flat):
    positions = ops.cast(ops.shape(flat)[0], flat.dtype)

    # The automatic gradient of FᵀF takes two (H·W × C × C) matmuls, one per
    # operand; since G is symmetric, one does: dF = F (dG + dGᵀ) / (H·W).
    def gradient(*args, upstream=None):
        upstream = args[0] if upstream is None else upstream
        return ops.matmul(flat, upstream + ops.transpose(upstream)) / positions

    return ops.matmul(ops.transpose(flat), flat) / positions, gradient


def gram_matrix(features):
    """``(1, H, W, C)`` features → ``(C, C)`` Gram matrix ``Fᵀ F / (H·W)``."""
    return _symmetric_gram(ops.reshape(features, (-1, ops.shape(features)[-1])))


def gram_array(features):
    """`gram_matrix` of ``(1, H, W, C)`` features as a numpy float32 ``(C, C)``
    array on the host (targets, figures), whatever the backend and device."""
    return ops.convert_to_numpy(gram_matrix(features))


def mean_square(tensor):
    """``mean(T²)``."""
    return ops.mean(ops.square(tensor))


def target_scale(target) -> float:
    """``mean(P²)`` of a content target or a target Gram matrix, as a float64 on
    the host: what the content and style losses are divided by (at least 1e-12,
    so that an all-zero target, a black image's deep features, divides by no zero)."""
    return max(float(np.mean(np.square(np.asarray(target, dtype=np.float64)))), 1e-12)


def content_loss(features, target, coefficient):
    """``coefficient · mean((F − P)²)`` for features and target of one shape, where
    ``coefficient = weight / target_scale(target)``, folded once per run so a step
    does one multiply per layer and no division."""
    return coefficient * mean_square(features - target)


def style_loss(features, target_gram, coefficient):
    """``coefficient · mean((G − A)²)`` between the Gram matrix of `features` and
    `target_gram`, where ``coefficient = weight / target_scale(target_gram)``."""
    return coefficient * mean_square(gram_matrix(features) - target_gram)


def total_variation_loss(image):
    """Mean squared difference between neighbouring pixels of ``(1, H, W, 3)``."""
    down = ops.square(image[:, 1:, :-1, :] - image[:, :-1, :-1, :])
    right = ops.square(image[:, :-1, 1:, :] - image[:, :-1, :-1, :])
    return ops.mean(down + right)


def host_style_loss(features: dict, terms) -> float:
    """`style_loss` summed over `terms` on the host, in float64: each term is
    ``(layer, target_gram, coefficient, guide)`` (guide ``(h, w)`` or None) and
    `features` maps each layer to ``(1, h, w, C)`` float features of one image."""
    total = 0.0
    for layer, target, coefficient, guide in terms:
        flat = np.asarray(features[layer], np.float64)[0]
        if guide is not None:
            flat = flat * np.asarray(guide, np.float64)[:, :, None]
        flat = flat.reshape(-1, flat.shape[-1])
        gram = flat.T @ flat / flat.shape[0]
        total += coefficient * float(np.mean(np.square(gram - np.asarray(target, np.float64))))
    return total
