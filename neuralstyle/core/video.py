"""Style transfer for a clip without flicker (Ruder, Dosovitskiy and Brox,
"Artistic style transfer for videos", GCPR 2016).

Frame by frame, each frame would land in a different optimum and the clip
flickers. Here each frame after the first starts from the previous output
warped into it by optical flow, and its loss holds it to the earlier outputs
warped (`neuralstyle.core.evaluator.TemporalTarget`), weighted per pixel by
where the flow can be trusted (`neuralstyle.core.flow.reliability`), each
pixel to the nearest earlier frame in which it is visible (long-term
consistency). Several passes alternate direction (the paper's multi-pass
algorithm). Frames are ``uint8`` RGB ``(H, W, 3)`` arrays; nothing here reads or
writes files.

Departures from the paper, one line each:

* flow: OpenCV's DIS, not DeepFlow (see `neuralstyle.core.flow`).
* a start pixel whose warp leaves the frame is the content frame's, not a replicated edge.
* a frame started from its warped neighbour stops where its loss stops falling (the rule of
  ``iterations='auto'``), within the iterations asked for; the paper ran a fixed number.
* a cut (a frame the flow cannot trace to the one before) starts a new shot, painted afresh.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass

import numpy as np

from . import settings
from .evaluator import TemporalTarget
from .flow import inside, long_term_weights, optical_flow, reliability, warp
from .images import RGBImage, fit_size, resize, to_rgb
from .synthesis import recolored, transfer

BLEND = 0.5  # multi-pass: a start pixel's share from the neighbour warped where the flow is trusted (the paper's δ)
# A cut: where less than this share of a frame can be traced to the frame before, a new shot starts, painted
# afresh (the run's own start, no temporal term across the cut).
CUT = 0.3


@dataclass(frozen=True)
class FrameStep:
    """One frame's place in a clip's work: the pass (0 first), its position in
    that pass's order, and the frame's index in the clip."""

    pass_index: int
    position: int
    frame: int
    frames: int  # in the clip
    passes: int

    @property
    def done_before(self) -> int:
        """Frames finished before this one, over all passes."""
        return self.pass_index * self.frames + self.position

    @property
    def total(self) -> int:
        return self.passes * self.frames


def pass_order(pass_index: int, count: int) -> list[int]:
    """The frames of pass `pass_index` in the order they run: forward, then backward, alternating."""
    return list(range(count)) if pass_index % 2 == 0 else list(range(count - 1, -1, -1))


class Flows:
    """Optical flow between frames of one clip, computed once per ordered pair;
    `store` (a mapping from ``(i, j)`` to a flow ``(H, W, 2)``) may keep them
    elsewhere, e.g. on disk."""

    def __init__(self, frames: Sequence[np.ndarray], store: MutableMapping | None = None):
        self.frames = frames
        self.store = {} if store is None else store

    def __call__(self, source: int, target: int) -> np.ndarray:
        """The flow from frame `source` to frame `target`."""
        key = (source, target)
        if key not in self.store:
            self.store[key] = optical_flow(self.frames[source], self.frames[target])
        return self.store[key]


# The transfer settings that say what colours a `recolored` start takes.
RECOLOR_SETTINGS = ("style_blend", "preserve_color", "style_masks", "style_image_masks")


def shots(flows: Flows, count: int) -> list[int]:
    """The shot of each frame (0, 1, …): a new one starts where less than `CUT` of a
    frame can be traced to the frame before (`neuralstyle.core.flow.reliability`)."""
    numbers = [0]
    for frame in range(1, count):
        traced = float(np.mean(reliability(flows(frame, frame - 1), flows(frame - 1, frame))))
        numbers.append(numbers[-1] + (traced < CUT))
    return numbers


def temporal_targets(frame: int, earlier: Sequence[int], outputs: Mapping[int, np.ndarray],
                     flows: Flows) -> tuple[list[TemporalTarget], np.ndarray | None]:
    """The temporal terms of `frame` towards the `earlier` frames (nearest first)
    whose `outputs` are known, and where the nearest one's warp can be trusted."""
    warped, reliable = [], []
    for other in earlier:
        backward = flows(frame, other)
        warped.append(warp(outputs[other], backward))
        reliable.append(reliability(backward, flows(other, frame)))
    targets = [TemporalTarget(image, weight) for image, weight in zip(warped, long_term_weights(reliable))]
    return targets, (reliable[0] if reliable else None)


def frame_start(step: FrameStep, fill: np.ndarray, nearest: TemporalTarget | None,
                nearest_reliable: np.ndarray | None, earlier_pass: np.ndarray | None, flow: np.ndarray | None):
    """Where a frame's optimisation starts (float RGB 0–255), or None for the run's own `init`:
    the first pass, the nearest output warped (`fill`, the frame as the run's own start has
    it, where the warp leaves the frame); a later pass, its own last output, blended with
    the warped neighbour where the flow is trusted."""
    if step.pass_index == 0:
        if nearest is None:
            return None
        kept = inside(flow)[..., None]
        return kept * nearest.image + (1 - kept) * fill
    if nearest is None:
        return earlier_pass.astype(np.float32)
    trusted = nearest_reliable[..., None]
    return (trusted * (BLEND * nearest.image + (1 - BLEND) * earlier_pass) + (1 - trusted) * earlier_pass).astype(
        np.float32)


def stylise_clip(
    frames: Sequence,
    style,
    *,
    size: int = settings.SIZE,
    temporal_weight: float = settings.TEMPORAL_WEIGHT,
    long_term: Sequence[int] = settings.LONG_TERM,
    passes: int = settings.PASSES,
    done: Mapping[tuple[int, int], np.ndarray] | None = None,
    flow_store: MutableMapping | None = None,
    on_frame: Callable[[FrameStep, object], None] | None = None,
    callback: Callable[[FrameStep, object], bool | str | None] | None = None,
    init=settings.TRANSFER_INIT,
    balance_content=None,
    **transfer_settings,
) -> list[np.ndarray]:
    """Paint every frame of a clip in `style`; returns the last pass's frames
    (``uint8`` RGB at the output size: longest side `size` px).

    `transfer_settings` are `neuralstyle.core.synthesis.transfer`'s settings for
    every frame (the model and the style targets are built once). `temporal_weight` (0: frame by frame, warped starts only)
    weighs the pull towards the earlier frames at the distances `long_term`; the
    temporal term holds from pass ``passes // 2`` on. `done` maps (pass,
    frame) to outputs finished before (a resumed clip): those frames are not run
    again. `on_frame(step, result)` sees each finished frame (its
    `neuralstyle.core.stages.Result`); `callback(step, progress)` each
    iteration, and may stop the run as the transfer's callback does: the clip
    then ends at that frame, whose result `on_frame` still sees. Ctrl-C raises
    `neuralstyle.core.stages.RunInterrupted` and a NaN `NonFiniteLossError`,
    as `transfer` does: the frames finished before were seen by `on_frame`. A cut (`shots`)
    starts a shot painted afresh from `init`. Every frame takes the balance of
    `balance_content` (default the first frame; a shot painted apart passes its
    clip's), measured once by the first frame painted, so the balance of content
    and style does not flicker.
    """
    sized = sized_frames(frames, size)
    balance_content = frames[0] if balance_content is None else balance_content  # measured at its own 256 px
    height, width = sized[0].shape[:2]
    distances = settings.frame_distances(long_term)
    passes = settings.whole("passes", passes, 1)
    flows = Flows(sized, flow_store)
    shot = shots(flows, len(sized))
    done = dict(done or {})
    outputs: dict[int, dict[int, np.ndarray]] = {}
    recolors = isinstance(init, str) and init == "recolored"
    # The balance's measure of `balance_content` ('pair''s distance, 'raw''s energies): taken by the first frame
    # painted, then given to every later one.
    measured = {}
    for pass_index in range(passes):
        order = pass_order(pass_index, len(sized))
        current = outputs.setdefault(pass_index, {})
        for position, frame in enumerate(order):
            step = FrameStep(pass_index, position, frame, len(sized), passes)
            if (pass_index, frame) in done:
                current[frame] = done[(pass_index, frame)]
                continue
            earlier = [order[position - distance] for distance in distances
                       if position - distance >= 0 and shot[order[position - distance]] == shot[frame]]
            targets, nearest_reliable = temporal_targets(frame, earlier, current, flows)
            # Where the warp leaves the frame, the start is the frame as the run's own start would have it
            # (recoloured only where a warped neighbour makes the start: the first pass, after a shot's first frame).
            fill = sized[frame].astype(np.float32)
            if recolors and pass_index == 0 and targets:
                fill = recolored(fill, style, **{name: transfer_settings[name] for name in RECOLOR_SETTINGS
                                                 if name in transfer_settings})
            start = frame_start(step, fill, targets[0] if targets else None,
                                nearest_reliable, outputs[pass_index - 1][frame] if pass_index else None,
                                flows(frame, earlier[0]) if earlier else None)
            holds = pass_index >= passes // 2
            asked = []  # why the caller stopped this frame, if it did

            def frame_callback(progress, step=step):
                reason = callback(step, progress)
                if reason:
                    asked.append(reason)
                return reason

            # A frame that starts from its neighbour warped starts near its optimum: it stops where its loss stops
            # falling (the rule of iterations=auto), within the iterations asked for.
            result = transfer(
                sized[frame], style, size=max(width, height), init=init if start is None else start,
                balance_content=balance_content, **measured,
                temporal=targets if holds else (), temporal_weight=temporal_weight if holds else 0.0,
                stop_when_converged=start is not None,
                callback=None if callback is None else frame_callback, **transfer_settings)
            current[frame] = result.image[..., :3]
            measured = {name: result.settings[name] for name in ("pair_distance", "raw_energies")
                        if name in result.settings}
            if on_frame is not None:
                on_frame(step, result)
            # The caller's stop ends the clip (Ctrl-C and a NaN raise from `transfer`); L-BFGS-B's own end (it
            # converged, or its line search found no lower point) ends only the frame, at its best point.
            if asked:
                return [current[index] for index in sorted(current)]
    return [outputs[passes - 1][index] for index in range(len(sized))]


def sized_frames(frames: Sequence, size: int) -> list[np.ndarray]:
    """A clip's frames (any image the API takes, one size) as ``uint8`` RGB at the
    painted size: longest side `size` px."""
    if not len(frames):
        raise ValueError("the clip has no frames")
    first = to_rgb(frames[0])
    width, height = fit_size(first.width, first.height, int(size))
    sized = []
    for index, frame in enumerate(frames):
        image = to_rgb(frame)
        if (image.width, image.height) != (first.width, first.height):
            raise ValueError(f"frame {index} is {image.width}x{image.height} px and frame 0 "
                             f"{first.width}x{first.height}; a clip's frames share one size")
        sized.append(np.rint(resize(RGBImage(image.rgb), width, height).rgb).astype(np.uint8))
    return sized


def shot_ranges(frames: Sequence, size: int, flow_store: MutableMapping | None = None) -> list[range]:
    """The frames of each shot of a clip (`shots`): independent of each other, so they
    may be painted apart, on other machines."""
    numbers = shots(Flows(sized_frames(frames, size), flow_store), len(frames))
    return [range(numbers.index(shot), len(numbers) - numbers[::-1].index(shot)) for shot in sorted(set(numbers))]


def frame_steps(count: int, passes: int) -> list[FrameStep]:
    """Every frame of every pass, in the order a clip runs them."""
    return [FrameStep(pass_index, position, frame, count, passes) for pass_index in range(passes)
            for position, frame in enumerate(pass_order(pass_index, count))]


