"""How the weights meet each pair and size: balance 'raw' (the default) and 'pair' (neither in the paper).

Balance 'raw' (`raw_balance`) gives the normalised losses the balance of the
raw ones in jcjohnson's neural-style: each style layer weighs in proportion to
the painting's Gram energy there over its channels squared, and the content in
proportion to the photo's feature energy, measured at ``settings.BALANCE_SIDE`` px.
So a painting of bright, busy strokes takes more of the picture than a pale one at
the same weights, as it does in neural-style. A size above that side takes the content
weight neural-style's raw losses give that size (`raw_size_balance`, the pair measured
again there), as neural-style run at that size would.

Balance 'pair': a photo that starts far from its painting (a large style loss at the photo
itself) is given more content weight (`pair_balance`), so that it keeps as much
of itself as one that starts near; a size above the one the pair is measured at
is given more again (`size_balance`), so that a larger picture keeps nearer the
look of a smaller one. The measure itself (`neuralstyle.core.losses.host_style_loss`) is
taken at ``settings.BALANCE_SIDE`` px whatever the run's size (`balance_passes`).

Pure Python and NumPy (no TensorFlow import), so a run's memory plan can count
the measure's passes before TensorFlow loads.
"""

from __future__ import annotations

import numpy as np

from . import settings
from .images import fit_size
from .layers import minimum_size

# The photo's style distance (the style loss at the photo, style weight 1) at which the content weight is taken as
# given, and the range of the factor. The square-root law and the reference were fitted on photo x painting pairs
# (benchmarks/levers.py --per-pair-weight); the range only guards pairs far outside them.
PAIR_DISTANCE_REFERENCE = 0.6
PAIR_FACTOR_RANGE = (0.5, 3.0)
# The factor at sizes above the side the pair is measured at: with the same weights the finer sizes of a run paint
# more of the picture than its measured size, on most pairs (benchmarks/sizes.py). One factor for every finer size:
# growing it with the side overshot at 1024 px.
PAIR_SIZE_FACTOR = 1.3


def pair_balance(distance: float) -> float:
    """The factor balance 'pair' multiplies the content weight by, for a photo whose style
    loss at style weight 1 is `distance` (0 at the painting's own statistics; about 1 for
    a flat image): ``sqrt(distance / 0.6)``, within 0.5–3; 1 (the weight as given) for a
    distance that is not a number."""
    if np.isnan(distance):
        return 1.0
    low, high = PAIR_FACTOR_RANGE
    return float(np.clip(np.sqrt(max(float(distance), 0.0) / PAIR_DISTANCE_REFERENCE), low, high))


def raw_balance(content_energy: float, layer_energies: dict[str, float],
                layer_weights: dict[str, float]) -> tuple[float, dict[str, float]]:
    """Balance 'raw': the factor the content weight is multiplied by and the style layers'
    weights (summing to 1) that make the run's normalised losses weigh as neural-style's raw
    ones, ``content_weight · mean((F − P)²) + style_weight · Σ_l w_l · mean((G_l − A_l)²) / C_l²``
    (Gram matrices over H·W), divided by one constant so that the loss stays near 1.

    `content_energy` is the photo's ``mean(P²)`` at the content layer(s), `layer_energies`
    the painting's ``mean(A_l²) / C_l²`` per style layer, `layer_weights` the w_l. Pure: no
    measure is taken here (`neuralstyle.core.targets.measure_raw_energies` takes them)."""
    raw = {layer: weight * max(float(layer_energies[layer]), 0.0) for layer, weight in layer_weights.items()}
    total = sum(raw.values())
    if not total > 0 or not np.isfinite(total) or not np.isfinite(content_energy):
        return 1.0, dict(layer_weights)  # a blank painting has no scale to follow: the weights as given
    return float(content_energy) / total, {layer: value / total for layer, value in raw.items()}


def raw_size_balance(measured: tuple[float, dict[str, float]], here: tuple[float, dict[str, float]],
                     layer_weights: dict[str, float]) -> float:
    """The factor balance 'raw' also multiplies the content weight by at a larger size: the content
    factor of `raw_balance` for the pair's energies measured at that size, `here` (content energy,
    layer energies), over the one for those `measured` at ``settings.BALANCE_SIDE`` px. A painting
    whose texture is fine for its size keeps its Gram energy at a larger size and a smooth one loses
    it, so the photo weighs more against the smooth one there, as in neural-style run at that size."""
    base, at_size = raw_balance(*measured, layer_weights)[0], raw_balance(*here, layer_weights)[0]
    return at_size / base if base > 0 and np.isfinite(at_size / base) else 1.0


def size_balance(side: int, measured_side: int) -> float:
    """The factor balance 'pair' also multiplies the content weight by at a size whose
    longest side is `side` px: ``PAIR_SIZE_FACTOR`` above `measured_side` px, 1 at or below it."""
    return PAIR_SIZE_FACTOR if side > measured_side else 1.0


def balance_passes(content_size: tuple[int, int], style_sizes, style_scales, model: str, layers, style_layers,
                   first_side: int) -> tuple[int, list[tuple]]:
    """Where balance 'pair' measures a pair: the longest side (px), and the network passes
    ``(layers, width, height)`` of the photo and of each style there, for a photo and styles of
    sizes (width, height). The side is ``settings.BALANCE_SIDE`` at every run size, so the
    balance is one at every size; the run's first side where the layers cannot see that size."""
    def passes_at(side: int) -> list[tuple]:
        return [(list(layers), *fit_size(*content_size, side)),
                *[(list(style_layers), *fit_size(*size, max(1, round(side * scale))))
                  for size, scale in zip(style_sizes, style_scales)]]

    measured = passes_at(settings.BALANCE_SIDE)
    if all(min(width, height) >= minimum_size(model, used) for used, width, height in measured):
        return settings.BALANCE_SIDE, measured
    return first_side, passes_at(first_side)
