"""Artistic control: colour preservation, style blends, coarse-to-fine, Adam, TV."""

from __future__ import annotations

import numpy as np
import pytest
from sample_images import open_sample, sample_rgb
from skimage.color import rgb2yiq

from neuralstyle.core import color, images
from neuralstyle.core.experiments import psnr
from neuralstyle.core.synthesis import transfer, upsample_with_content_detail


def test_luminance_mode_keeps_the_content_colours():
    """Only brightness is painted: the result's chrominance (I, Q) is the content's."""
    content = open_sample("photo.png")
    result = transfer(content, open_sample("painting.png"), size=64, iterations=15,
                      preserve_color="luminance")
    reference = images.to_uint8(sample_rgb("photo.png", 64).rgb)
    ours, theirs = rgb2yiq(result.image / 255.0), rgb2yiq(reference / 255.0)
    chroma_error = np.abs(ours[..., 1:] - theirs[..., 1:]).mean()
    luma_change = np.abs(ours[..., 0] - theirs[..., 0]).mean()
    assert chroma_error < 0.01, chroma_error  # I and Q span about ±0.6
    assert luma_change > 3 * chroma_error  # while the brightness did change: the style is there


def test_histogram_mode_gives_the_style_the_content_colour_statistics():
    """The style's RGB mean and covariance become the content's (within 1 %; exactly
    so where no matched colour leaves 0–255: the coffee photo's deep reds would)."""
    content, style = sample_rgb("photo2.png", 128).rgb, sample_rgb("painting.png", 128).rgb
    matched = color.match_color_statistics(style, content).reshape(-1, 3).astype(np.float64)
    target = content.reshape(-1, 3).astype(np.float64)
    mean_error = np.abs(matched.mean(0) - target.mean(0)) / target.mean(0)
    covariance_error = np.linalg.norm(np.cov(matched.T) - np.cov(target.T)) / np.linalg.norm(np.cov(target.T))
    assert mean_error.max() < 0.01, mean_error
    assert covariance_error < 0.01, covariance_error


def test_blend_one_to_zero_is_the_first_style_alone():
    content, painting, portrait = (open_sample(name) for name in
                               ("photo.png", "painting.png", "portrait.png"))
    alone = transfer(content, painting, size=48, iterations=5, seed=3)
    blended = transfer(content, [painting, portrait], style_blend=[1.0, 0.0], size=48, iterations=5, seed=3)
    np.testing.assert_array_equal(alone.image, blended.image)


def test_blend_weights_move_the_result_between_styles():
    content, painting, portrait = (open_sample(name) for name in
                               ("photo.png", "painting.png", "portrait.png"))
    half = transfer(content, [painting, portrait], style_blend=[0.5, 0.5], size=48, iterations=5, seed=3)
    alone = transfer(content, painting, size=48, iterations=5, seed=3)
    assert not np.array_equal(half.image, alone.image)
    assert half.settings["style_blend"] == [0.5, 0.5]


def test_coarse_to_fine_passes_through_the_sizes_it_announces_on_one_clock():
    sizes_seen, clock = [], []
    result = transfer(open_sample("photo.png"), open_sample("painting.png"),
                      size=128, scales=3, iterations=[4, 3, 2],
                      callback=lambda progress: sizes_seen.append(progress.image().shape[1::-1])
                      or clock.append(progress.elapsed))
    announced = [tuple(pair) for pair in result.settings["scales"]]
    assert announced == [(32, 24), (64, 48), (128, 96)]
    assert list(dict.fromkeys(sizes_seen)) == announced  # in that order
    assert result.image.shape == (96, 128, 3)
    assert result.iterations == 9 and [entry["iteration"] for entry in result.history] == list(range(10))
    assert [entry["scale"] for entry in result.history] == [0] * 5 + [1] * 3 + [2] * 2
    # The seconds a progress report and the record give run on across the sizes (an estimate of the time
    # left, a plot against time), rather than starting again at each.
    recorded = [entry["elapsed"] for entry in result.history]
    assert recorded == sorted(recorded) and clock == sorted(clock) and clock[-1] >= recorded[4] > 0


def test_coarse_to_fine_starts_each_finer_scale_with_the_content_detail():
    """The next scale starts from the coarse result upsampled plus the detail the
    coarse size could not hold: a coarse result that is the content itself hands
    on the sharp content, not a blur."""
    content = sample_rgb("photo.png", 128)
    coarse = images.resize(content, 64, 48)
    start = upsample_with_content_detail(coarse.rgb, coarse, content)
    blur = images.resize(coarse, 128, 96).rgb
    assert start.shape == (96, 128, 3) and start.min() >= 0 and start.max() <= 255
    assert psnr(start, content.rgb) > 45 > 30 > psnr(blur, content.rgb)


def test_explicit_scales_must_end_at_the_output_size():
    with pytest.raises(ValueError, match="ending at the output size"):
        transfer(np.zeros((64, 64, 3), np.uint8), np.zeros((64, 64, 3), np.uint8), size=64, scales=[32, 48])


def test_adam_lowers_the_loss():
    result = transfer(open_sample("photo.png"), open_sample("painting.png"), size=64,
                      iterations=25, optimizer="adam", learning_rate=5.0)
    assert result.settings["optimizer"] == "adam" and result.evaluations == 26
    assert result.loss["total"] < 0.6 * result.history[0]["total"]


def test_tv_weight_smooths_the_result():
    def roughness(pixels):
        pixels = pixels.astype(np.float64)
        return np.abs(np.diff(pixels, axis=0)).mean() + np.abs(np.diff(pixels, axis=1)).mean()

    args = (open_sample("photo.png"), open_sample("painting.png"))
    plain = transfer(*args, size=64, iterations=20, tv_weight=0.0, init="noise")
    smooth = transfer(*args, size=64, iterations=20, tv_weight=1e-2, init="noise")
    assert roughness(smooth.image) < 0.8 * roughness(plain.image)
