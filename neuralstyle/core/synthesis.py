"""Style transfer, the main entry point (Gatys et al., CVPR 2016), with its start and its
coarse-to-fine step; the reconstructions are in `neuralstyle.core.reconstruction`.

`transfer` takes images as described in `neuralstyle.core.images` (PIL images or
arrays) and returns a `neuralstyle.core.stages.Result` whose `image` is a ``uint8``
RGB(A) array. Nothing here reads or writes files or prints: progress goes to the `callback`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

import numpy as np

from . import settings
from .balance import balance_passes, pair_balance, raw_balance, raw_size_balance, size_balance
from .color import gray, luminance, matched_histograms, with_chrominance
from .evaluator import START, Convergence, Evaluator, Progress, TemporalTarget
from .guides import area, checked_masks, resize_mask
from .images import RGBImage, fit_size, resize, resize_alpha, resize_max_side, to_rgb
from .interrupts import phase_reached
from .memory import MemoryPlan
from .stages import (
    Result,
    Resume,
    Stage,
    cached_feature_model,
    check_run,
    check_size,
    initial_rgb,
    iteration_plan,
    memory_plan,
    on_device,
    run_stages,
    tiling,
)
from .targets import (
    blended_style_grams,
    coloured_styles,
    content_guides,
    image_features,
    measure_pair_distance,
    measure_raw_energies,
    style_regions,
)


def recolored(content, style, *, style_blend: Sequence[float] | None = None, preserve_color: str = "none",
              style_masks: Sequence | None = None, style_image_masks: Sequence | None = None) -> np.ndarray:
    """A transfer's ``recolored`` start: `content` (any image the API takes) as float RGB 0–255 at
    its own size, each channel's histogram matched to the style's
    (`neuralstyle.core.color.matched_histograms`): the structure of the photo in the painting's
    palette. Several styles pool their pixels by `style_blend`; with `style_masks` each region
    takes its own style's colours, and what no mask covers keeps its own; `style_image_masks`
    take a style's colours from that part of it. With `preserve_color` other than 'none' the
    style has the content's colours: the content as it is."""
    image = to_rgb(content)
    if settings.choice("preserve_color", preserve_color, settings.COLOR_MODES) != "none":
        return image.rgb  # the very array given in an RGBImage
    styles = [to_rgb(one) for one in (style if isinstance(style, (list, tuple)) else [style])]
    blend = list(settings.style_blend(style_blend, len(styles)) or [1.0] * len(styles))
    own_masks = [None if mask is None else resize_mask(np.asarray(mask, np.float32), one.width, one.height)
                 for one, mask in zip(styles, style_image_masks or [None] * len(styles))]
    if style_masks is None:
        used = [index for index, weight in enumerate(blend) if weight > 0]
        return matched_histograms(image.rgb, [styles[index].rgb for index in used], [blend[index] for index in used],
                                  [own_masks[index] for index in used])
    shares = [resize_mask(np.asarray(mask, np.float32), image.width, image.height) for mask in style_masks]
    covered = np.sum(shares, axis=0)
    scale = np.maximum(covered, 1.0)[..., None]  # overlapping masks split a pixel, as the losses blend
    start = image.rgb.astype(np.float32) * (1.0 - np.clip(covered, 0.0, 1.0))[..., None]
    for share, one, own in zip(shares, styles, own_masks):
        start += share[..., None] / scale * matched_histograms(image.rgb, [one.rgb], [1.0], [own])
    return start.astype(np.float32)


def upsample_with_content_detail(coarse_rgb: np.ndarray, coarse_content: RGBImage, fine_content: RGBImage) -> np.ndarray:
    """The next scale's start (RGB 0–255 at the fine size): the coarse result
    upsampled, plus the content's detail that the coarse size could not hold
    (the fine content minus the coarse content upsampled).

    A plain upsample starts the fine scale from a blur, and the few iterations
    a fine scale can afford go into re-drawing the content's edges; with the
    detail band put back they go into brush texture instead. Above
    ``settings.CONTENT_DETAIL_MAX_SIDE`` px the band is the photo's own fine
    texture, and the start is the coarse result upsampled alone."""
    width, height = fine_content.width, fine_content.height
    upsampled = resize(RGBImage(coarse_rgb), width, height).rgb
    if max(width, height) > settings.CONTENT_DETAIL_MAX_SIDE:
        return np.clip(upsampled, 0, 255).astype(np.float32)
    detail = fine_content.rgb - resize(coarse_content, width, height).rgb
    return np.clip(upsampled + detail, 0, 255).astype(np.float32)


@on_device
def transfer(
    content,
    style,
    *,
    content_layer: str | Sequence[str] = settings.CONTENT_LAYER,
    style_layers: Sequence[str] | Mapping[str, float] = settings.TRANSFER_STYLE_LAYERS,
    content_weight: float = settings.CONTENT_WEIGHT,
    style_weight: float = settings.STYLE_WEIGHT,
    balance: str = settings.BALANCE,
    balance_content=None,
    pair_distance: float | None = None,
    raw_energies: Sequence[Mapping] | None = None,
    tv_weight: float = settings.TV_WEIGHT,
    style_blend: Sequence[float] | None = None,
    size: int = settings.SIZE,
    style_scale: float | Sequence[float] = settings.STYLE_SCALE,
    scales: int | str | Sequence[int] = settings.SCALES,
    preserve_color: str = settings.PRESERVE_COLOR,
    init=settings.TRANSFER_INIT,
    seed: int = settings.SEED,
    iterations: int | Sequence[int] | str = settings.TRANSFER_ITERATIONS,
    optimizer: str = settings.OPTIMIZER,
    learning_rate: float = settings.LEARNING_RATE,
    history_size: int = settings.HISTORY_SIZE,
    model: str = settings.MODEL,
    weights=settings.WEIGHTS,
    pooling: str = settings.POOLING,
    precision: str = settings.PRECISION,
    device: str = settings.DEVICE,
    style_masks: Sequence | None = None,
    style_image_masks: Sequence | None = None,
    content_mask=None,
    guides: str = settings.GUIDE,
    normalise_regions: bool = True,
    temporal: Sequence[TemporalTarget] = (),
    temporal_weight: float = settings.TEMPORAL_WEIGHT,
    stop_when_converged: bool = False,
    max_memory: float | None = None,
    memory: MemoryPlan | None = None,
    callback: Callable[[Progress], bool | None] | None = None,
    frames_every: int | None = None,
    resume: Resume | None = None,
) -> Result:
    """Paint `content` in the style of `style` (one image, or a list blended by
    `style_blend`, default equal).

    Video (Ruder et al., GCPR 2016; `neuralstyle.core.flow`): `temporal` holds
    earlier outputs of the clip warped into this frame, each with a weight per
    pixel (`TemporalTarget`, at the content's size); `temporal_weight` weighs
    their mean square difference to the result, in units of the 0–255 range.
    A frame usually also starts from the previous output warped (`init`).

    Regions (Gatys et al., CVPR 2017; `neuralstyle.core.guides`): `style_masks`,
    one mask per style in the content's coordinates (PIL images or arrays,
    white = that style, grey = partial), paint each style in its own region;
    overlapping masks blend, and pixels no mask covers keep the content. With
    masks, `style_blend` weighs the regions. `style_image_masks` (one per
    style, or None for a whole style image) take each style's statistics from
    that part of its image only. `content_mask` (white = the content holds)
    weighs the content loss per pixel. `guides` is 'resized' or 'inside' (eroded
    by each layer's receptive field); `normalise_regions` divides each guide by
    its root mean square, so a region's Gram is an average over its own area.

    The output's longest side is `size` px (content aspect ratio kept); each
    style image is scaled so its longest side is ``size * style_scale`` (one
    value, or one per style image).
    `content_layer` is a layer name, or several (a list, or names separated by
    commas) whose content losses are averaged.
    `style_layers` is a list of layer names (equal weights) or a mapping
    ``name -> weight``. `balance` 'raw' (`neuralstyle.core.balance.raw_balance`)
    weighs the layers and the content as neural-style's raw losses do, by the
    photo's feature energy and the painting's Gram energy per layer at
    ``settings.BALANCE_SIDE`` px; each size above that side is measured again and takes
    the content weight neural-style's raw losses give it there
    (`neuralstyle.core.balance.raw_size_balance`; the record's ``raw_energies``, one
    per side measured, and the weights they gave: ``balanced_style_layers``,
    ``content_weights`` per size). 'pair' multiplies `content_weight` by
    `neuralstyle.core.balance.pair_balance` of the photo's style loss (at style
    weight 1, at ``settings.BALANCE_SIDE`` px whatever `size`; the record's
    ``pair_distance``), so a photo far
    from its painting keeps as much of itself as one near it, and each size above
    that side by `neuralstyle.core.balance.size_balance`, so a larger picture keeps
    nearer the look of a smaller one (the record's ``content_weights``, per size); 'fixed'
    takes the weights as given. `balance_content` (default `content`) is the image measured:
    a clip's frames all take its first frame's, so their balance does not flicker.
    `pair_distance` and `raw_energies`, measures taken already (a record's, or a clip's first
    frame's), are used instead of measuring again: the run is the one that measured them.
    `init` is 'recolored' (the content in the style's colours,
    `recolored`), 'content', 'noise', 'style' or an image.
    `scales` runs coarse-to-fine, each result upsampled, with the content's
    finer detail added up to ``settings.CONTENT_DETAIL_MAX_SIDE`` px, to start
    the next size: 'auto' halves `size` down to
    ``settings.COARSEST_SIDE`` (256, 512 at 512; one size below 512), a count
    halves it that many times less one, or give the sizes as a list; 1 is one size.
    `iterations` is the first size's count (each later size runs
    ``settings.FINER_SHARE`` of the one before it), or one per size, or 'auto': each
    scale stops when the loss stops falling (`neuralstyle.core.evaluator.Convergence`),
    after at most ``settings.ITERATIONS``; `stop_when_converged` applies that rule
    within the iterations given.
    `preserve_color` is 'none', 'luminance' or 'histogram' (see
    `neuralstyle.core.color`). `callback(progress)` runs at the start and after
    every iteration; return True from it to stop, and the best image so far is
    returned. Ctrl-C raises `RunInterrupted` (a KeyboardInterrupt, so a loop over
    images stops) and a loss that turns NaN after a good start raises
    `NonFiniteLossError`; both carry the best image so far as `result`. `max_memory` (bytes; default what the
    machine has free, less a margin) may make a size run in exact tiles
    (`neuralstyle.core.tiles`); `memory`, a plan made already for these inputs
    (`neuralstyle.core.memory.plan_memory`: the pipeline makes one per run), is
    used instead of planning again. `resume` continues a run from a `Resume` state.
    """
    model = settings.model(model)
    layer_weights = settings.style_layers(style_layers, model)
    content_layers = settings.layers("content_layer", model, settings.as_list("content_layer", content_layer))
    network_layers = list(dict.fromkeys([*content_layers, *layer_weights]))
    settings.choice("preserve_color", preserve_color, settings.COLOR_MODES)
    styles = list(style) if isinstance(style, (list, tuple)) else [style]
    if not styles:
        raise settings.SettingError("style", "no ⟨name⟩ image given")
    blend = list(settings.style_blend(style_blend, len(styles)) or [1.0] * len(styles))
    content_weight = settings.non_negative("content_weight", content_weight)
    style_weight = settings.non_negative("style_weight", style_weight)
    balance = settings.choice("balance", balance, settings.BALANCES)
    pair_distance = None if pair_distance is None else settings.non_negative("pair_distance", pair_distance)
    raw_energies = None if raw_energies is None else settings.raw_energies(raw_energies, layer_weights)
    for measure, value, owner in (("pair_distance", pair_distance, "pair"), ("raw_energies", raw_energies, "raw")):
        if value is not None and balance != owner:
            raise settings.SettingError(measure, f"⟨name⟩ is balance '{owner}''s measure; this run's ⟨balance⟩ is "
                                                 f"{balance!r}")
    measured_already = pair_distance is not None if balance == "pair" else raw_energies is not None
    tv_weight = check_run(model, iterations, optimizer, learning_rate, pooling, precision, tv_weight, history_size)
    style_scales = settings.style_scales(style_scale, len(styles))
    temporal_weight = settings.non_negative("temporal_weight", temporal_weight)
    sides = list(settings.scale_sizes(settings.whole("size", size, 1), scales))
    iterations_per_scale, convergence = iteration_plan(iterations, len(sides))
    auto = convergence is not None
    if stop_when_converged and convergence is None:  # the rule of 'auto' within the iterations given
        convergence = Convergence()

    content_image = to_rgb(content)
    balance_source = None if balance_content is None else to_rgb(balance_content)
    style_images = [to_rgb(image) for image in styles]
    settings.choice("guides", guides, settings.GUIDES)
    region_masks = checked_masks("style_masks", style_masks, [(content_image.width, content_image.height)] * len(styles), required=True)
    image_masks = checked_masks("style_image_masks", style_image_masks, [(image.width, image.height) for image in style_images])
    (content_mask_array,) = checked_masks("content_mask", None if content_mask is None else [content_mask],
                                          [(content_image.width, content_image.height)]) or (None,)
    sizes = [fit_size(content_image.width, content_image.height, side) for side in sides]
    for width, height in sizes:
        check_size(width, height, model, network_layers, "the output")
    output_width, output_height = sizes[-1]
    finish = lambda rgb: rgb  # noqa: E731
    # A clip's balance is measured against the styles as they meet its first frame, so that it is one for all.
    measured_styles = None if balance_source is None or measured_already else coloured_styles(
        style_images, balance_source, preserve_color)
    style_images = coloured_styles(style_images, content_image, preserve_color)
    if preserve_color == "luminance":
        colour_source, colour_by_size = content_image, {}

        def finish(rgb):  # the content's chrominance at the size of `rgb` (sizes change across scales)
            height, width = rgb.shape[:2]
            if (width, height) not in colour_by_size:
                colour_by_size[(width, height)] = resize(colour_source, width, height).rgb
            return with_chrominance(rgb, colour_by_size[(width, height)])

        content_image = RGBImage(gray(luminance(content_image.rgb)), content_image.alpha)
        if balance_source is not None:
            balance_source = RGBImage(gray(luminance(balance_source.rgb)))
        # The run optimises luminance alone: a start image and earlier frames are taken as theirs.
        if not isinstance(init, str):
            init = gray(luminance(to_rgb(init).rgb))
        temporal = [replace(target, image=gray(luminance(np.asarray(target.image, np.float32)))) for target in temporal]
    style_sides = [[max(1, round(side * scale)) for scale in style_scales] for side in sides]  # per size, per style
    style_sizes = [[fit_size(image.width, image.height, side) for image, side in zip(style_images, sides_here)]
                   for sides_here in style_sides]
    for width, height in (pair for pairs in style_sizes for pair in pairs):
        check_size(width, height, model, layer_weights, "a style image")

    measured_side, measuring_passes = (None, []) if balance == "fixed" else balance_passes(
        (content_image.width, content_image.height), [(image.width, image.height) for image in style_images],
        style_scales, model, network_layers, layer_weights, sides[0])
    if measured_already:  # no passes of its own
        measuring_passes = []
    memory = memory or memory_plan(model, network_layers, sizes,
                                    [(list(layer_weights), *pair) for pairs in style_sizes for pair in pairs]
                                    + measuring_passes,
                                    [content_image, *style_images], precision, optimizer, max_memory, history_size)
    phase_reached("model")
    feature_model = cached_feature_model(network_layers, model, weights, pooling, precision, device)

    recolors = isinstance(init, str) and init == "recolored"
    content_factors = [1.0] * len(sides)  # balance 'fixed': one weight at every size
    first_regions = first_features = None  # the first size's, where the balance's measure made them already
    run_layer_weights, energies = layer_weights, None
    if balance == "raw":
        # Measured at the balance's side and again at each larger size of the run; sides given already are not.
        measures = {entry["side"]: entry for entry in raw_energies or []}
        for side in [measured_side, *(side for side in sides if side > measured_side)]:
            if side in measures:
                continue
            content_energy, style_energies, features, measured_size = measure_raw_energies(
                feature_model, content_image if balance_source is None else balance_source,
                style_images if balance_source is None else measured_styles, style_scales, blend, layer_weights,
                content_layers, side, memory.tile_for)
            measures[side] = {"side": side, "content": content_energy, "style": style_energies}
            if balance_source is None and side == sides[0] and measured_size == sizes[0]:
                first_features = features  # the first size's own content targets: no pass of their own
        at_balance_side = measures[measured_side]["content"], measures[measured_side]["style"]
        content_factor, run_layer_weights = raw_balance(*at_balance_side, layer_weights)
        energies = [measures[side] for side in sorted(measures, key=lambda side: (side != measured_side, side))]
        distance, balanced_weight = None, content_weight * content_factor
        content_factors = [raw_size_balance(at_balance_side, (measures[side]["content"], measures[side]["style"]),
                                            layer_weights) if side > measured_side else 1.0 for side in sides]
    elif measured_side is not None:
        if pair_distance is not None:
            distance = pair_distance
        elif balance_source is None:
            distance, regions, features, measured_size = measure_pair_distance(
                feature_model, content_image, style_images, style_scales, blend, layer_weights, region_masks,
                image_masks, guides, normalise_regions, measured_side, memory.tile_for)
            if measured_side == sides[0] and measured_size == sizes[0]:  # the first size's own targets: no passes of their own
                first_regions, first_features = regions, features
        else:
            distance, *_ = measure_pair_distance(
                feature_model, balance_source, measured_styles, style_scales, blend, layer_weights, region_masks,
                image_masks, guides, normalise_regions, measured_side, memory.tile_for)
        balanced_weight = content_weight * pair_balance(distance)
        # Each size above the measured one is held to its look; those at or below it keep the pair's weight.
        content_factors = [size_balance(stage_side, measured_side) for stage_side in sides]
    else:
        distance, balanced_weight = None, content_weight

    def stages():
        previous = previous_content = None
        first = resume.scale if resume else 0
        for scale, ((width, height), style_side, count) in enumerate(zip(sizes, style_sides, iterations_per_scale)):
            if scale < first:
                continue
            sized_content = resize(content_image, width, height)
            sized_styles = [resize_max_side(image, side) for image, side in zip(style_images, style_side)]
            if resume and scale == first:
                init_rgb, count = resume.start_rgb(height, width), count - resume.scale_iterations
            elif previous is None and recolors:
                # With preserve_color this is the content's own array, so its target comes from the start.
                init_rgb = recolored(sized_content, sized_styles, style_blend=blend, preserve_color=preserve_color,
                                     style_masks=region_masks, style_image_masks=image_masks)
            elif previous is None:
                init_rgb = initial_rgb(init, seed, height, width, sized_content, sized_styles[0])
            else:
                init_rgb = upsample_with_content_detail(previous, previous_content, sized_content)
            previous_content = sized_content
            phase_reached("targets")
            tile = memory.tile_for(width, height)
            # A run that starts at its content image gets the content target from its first evaluation.
            starts_at_content = init_rgb is sized_content.rgb and tile is None
            temporal_here = [TemporalTarget(resize(RGBImage(np.asarray(target.image, np.float32)), width, height).rgb,
                                            resize_mask(np.asarray(target.weight, np.float32), width, height))
                             for target in temporal]
            regions = first_regions if scale == 0 and first_regions is not None else None if region_masks is None \
                else style_regions(feature_model, region_masks, image_masks, sized_styles, blend, layer_weights, width,
                                    height, guides, normalise_regions, memory.tile_for)
            features = first_features if scale == 0 and first_features is not None else None
            previous = yield Stage(
                init_rgb=init_rgb,
                content_targets=dict.fromkeys(content_layers, START) if starts_at_content else {
                    layer: value for layer, value in (features or image_features(feature_model, sized_content.rgb,
                                                                                  tile)).items()
                    if layer in content_layers},
                style_targets={} if regions is not None else
                blended_style_grams(feature_model, sized_styles, blend, layer_weights, memory.tile_for),
                style_regions=regions or [], iterations=count, tile=tile, convergence=convergence,
                content_guides=None if content_mask_array is None else
                {layer: guide for content_layer in content_layers
                 for layer, guide in content_guides(content_mask_array, model, content_layer, width, height).items()},
                temporal=temporal_here, content_factor=content_factors[scale],
            )

    run_settings = {
        "mode": "transfer", "content_layer": ",".join(content_layers), "style_layers": layer_weights,
        "content_weight": content_weight, "style_weight": style_weight, "balance": balance,
        # Unrounded, so that a run given it (`pair_distance`) is the run that measured it.
        **({} if distance is None else {"pair_distance": float(distance)}),
        **({} if energies is None else {"raw_energies": energies, "balanced_style_layers": {
            layer: round(weight, 6) for layer, weight in run_layer_weights.items()}}),
        **({} if measured_side is None else {"balanced_content_weight": round(balanced_weight, 6),
                                             "content_weights": [round(balanced_weight * factor, 6)
                                                                 for factor in content_factors]}),
        "tv_weight": tv_weight, "style_blend": blend, "size": int(size), "style_scale": style_scales[0] if len(set(style_scales)) == 1 else list(style_scales), "preserve_color": preserve_color,
        "init": init if isinstance(init, str) else "image", "seed": int(seed),
        "iterations": "auto" if auto else iterations_per_scale,
        "stops_when_converged": convergence is not None,
        "total_iterations": sum(iterations_per_scale), "model": model, "pooling": pooling, "device": device,
        "scales": [list(pair) for pair in sizes], "output_size": [output_width, output_height],
        "style_sizes": [[list(pair) for pair in pairs] for pairs in style_sizes], "tiling": tiling(memory),
        **({} if region_masks is None else {
            "regions": {"count": len(region_masks), "guides": guides, "normalised": bool(normalise_regions),
                        "areas": [round(area(mask), 4) for mask in region_masks],
                        "uncovered": round(1.0 - area(np.clip(np.sum(region_masks, axis=0), 0, 1)), 4),
                        "style_image_masks": [mask is not None for mask in image_masks or [None] * len(styles)]}}),
        **({} if content_mask_array is None else {"content_mask_area": round(area(content_mask_array), 4)}),
        **({"temporal_weight": temporal_weight, "temporal_terms": len(temporal)} if temporal else {}),
    }
    return run_stages(
        feature_model=feature_model, stages=stages(), alpha=resize_alpha(content_image.alpha, output_width, output_height),
        style_layer_weights=run_layer_weights, content_weight=balanced_weight, style_weight=style_weight,
        tv_weight=tv_weight, optimizer=optimizer, learning_rate=learning_rate, history_size=history_size, callback=callback,
        frames_every=frames_every, run_settings=run_settings, finish=finish, resume=resume,
        temporal_weight=temporal_weight,
    )


@on_device
def transfer_evaluator(
    content,
    style,
    *,
    size: int,
    content_layer: str = settings.CONTENT_LAYER,
    style_layers: Sequence[str] | Mapping[str, float] = settings.TRANSFER_STYLE_LAYERS,
    content_weight: float = settings.CONTENT_WEIGHT,
    style_weight: float = settings.STYLE_WEIGHT,
    tv_weight: float = 0.0,
    model: str = settings.MODEL,
    weights=settings.WEIGHTS,
    pooling: str = settings.POOLING,
    tile: int | None = None,
    precision: str = "float32",
    device: str = settings.DEVICE,
) -> Evaluator:
    """The loss of a transfer of `content` in `style` at `size` px (both scaled
    to that longest side), as an Evaluator: for measuring results by the loss a
    full-size run optimises (benchmarks, tests). ``evaluator.loss_parts(rgb)``
    gives the parts for a result image; `tile` evaluates it tile by tile;
    `precision` is float32 unless asked (a measure should not move with the machine)."""
    model = settings.model(model)
    layer_weights = settings.style_layers(style_layers, model)
    content_layer = settings.layers("content_layer", model, [content_layer])[0]
    feature_model = cached_feature_model([content_layer, *layer_weights], model, weights, pooling, precision, device)
    sized_content = resize_max_side(to_rgb(content), size)
    sized_style = resize_max_side(to_rgb(style), size)
    return Evaluator(
        feature_model, sized_content.height, sized_content.width,
        content_targets={content_layer: image_features(feature_model, sized_content.rgb)[content_layer]},
        style_targets=blended_style_grams(feature_model, [sized_style], [1.0], layer_weights),
        content_weight=settings.non_negative("content_weight", content_weight),
        style_weight=settings.non_negative("style_weight", style_weight), style_layer_weights=layer_weights,
        tv_weight=settings.non_negative("tv_weight", tv_weight), tile=tile,
    )
