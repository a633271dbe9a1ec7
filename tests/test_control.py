"""Artistic control: colour preservation, style blends, coarse-to-fine, Adam, TV."""

from __future__ import annotations

import numpy as np
import pytest
from sample_images import open_sample, sample_rgb
from skimage.color import rgb2yiq
from skimage.exposure import match_histograms

from neuralstyle.core import color, images, settings
from neuralstyle.core.experiments import psnr
from neuralstyle.core.synthesis import recolored, transfer, upsample_with_content_detail


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


def _quantiles(rgb: np.ndarray) -> np.ndarray:
    """Each channel's 1st … 99th percentile, ``(99, 3)``."""
    return np.percentile(np.asarray(rgb, np.float64).reshape(-1, 3), np.arange(1, 100), axis=0)


def test_a_transfer_starts_from_the_photo_in_the_paintings_colours():
    """The default start (init 'recolored'): each channel of the photo mapped so that its
    histogram is the painting's, every pixel keeping its rank, so every edge stays where it was."""
    photo, painting = sample_rgb("photo.png", 96), sample_rgb("painting.png", 96)
    seen = []
    transfer(photo.rgb, painting.rgb, size=96, iterations=1,
             callback=lambda progress: seen.append(progress.image()) if progress.iteration == 0 else None)
    start = seen[0][..., :3].astype(np.float64)
    assert np.abs(_quantiles(start) - _quantiles(painting.rgb)).max() < 3  # grey levels, of 255 (ties, uint8)
    assert np.abs(_quantiles(photo.rgb) - _quantiles(painting.rgb)).max() > 50  # the photo's own are far from them
    for channel in range(3):
        ranked = start[..., channel].reshape(-1)[np.argsort(photo.rgb[..., channel].reshape(-1), kind="stable")]
        assert np.all(np.diff(ranked) >= -1), channel  # monotone in the photo's value (uint8 rounding aside)
    np.testing.assert_allclose(start, recolored(photo.rgb, painting.rgb), atol=0.51)


def test_a_recolored_start_with_colour_preservation_is_the_photo_itself():
    photo, painting = sample_rgb("photo.png", 64), sample_rgb("painting.png", 64)
    for mode in ("luminance", "histogram"):
        np.testing.assert_array_equal(recolored(photo, painting, preserve_color=mode), photo.rgb)


def test_a_blend_starts_from_the_styles_pooled_colours():
    photo, painting, portrait = (images.resize(sample_rgb(name), 64, 48).rgb
                                 for name in ("photo2.png", "painting.png", "portrait.png"))
    start = recolored(photo, [painting, portrait])  # equal weights, equal sizes: each pixel counts alike
    np.testing.assert_allclose(start, match_histograms(photo, np.concatenate([painting, portrait]), channel_axis=-1),
                               atol=1e-3)
    weighted = recolored(photo, [painting, portrait], style_blend=[3, 1])  # as if the painting came three times
    np.testing.assert_allclose(weighted, match_histograms(photo, np.concatenate([painting] * 3 + [portrait]),
                                                          channel_axis=-1), atol=1e-3)
    only_first = recolored(photo, [painting, portrait], style_blend=[1.0, 0.0])
    np.testing.assert_array_equal(only_first, recolored(photo, painting))


def test_a_style_image_mask_takes_the_colours_from_its_part_of_the_painting():
    photo, painting = sample_rgb("photo.png", 64).rgb, sample_rgb("painting.png", 64).rgb
    top = np.zeros(painting.shape[:2], np.float32)
    top[: painting.shape[0] // 2] = 1
    start = recolored(photo, painting, style_image_masks=[top])
    np.testing.assert_allclose(start, match_histograms(photo, painting[: painting.shape[0] // 2], channel_axis=-1),
                               atol=1e-3)


def test_with_regions_each_region_starts_in_its_own_styles_colours_and_the_rest_as_it_was():
    photo, painting, portrait = (sample_rgb(name, 64) for name in ("photo.png", "painting.png", "portrait.png"))
    height, width = photo.rgb.shape[:2]
    left, right = np.zeros((height, width), np.float32), np.zeros((height, width), np.float32)
    left[:, : width // 3] = 1
    right[:, 2 * width // 3:] = 1
    start = recolored(photo, [painting, portrait], style_masks=[left, right])
    alone = {name: recolored(photo, style) for name, style in (("painting", painting), ("portrait", portrait))}
    np.testing.assert_allclose(start[:, : width // 3], alone["painting"][:, : width // 3], atol=1e-3)
    np.testing.assert_allclose(start[:, 2 * width // 3:], alone["portrait"][:, 2 * width // 3:], atol=1e-3)
    np.testing.assert_allclose(start[:, width // 3: 2 * width // 3], photo.rgb[:, width // 3: 2 * width // 3], atol=1e-3)


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


def test_a_finer_scale_above_512_px_starts_from_the_coarse_result_alone():
    """Above settings.CONTENT_DETAIL_MAX_SIDE the photo's detail band is its own fine texture, which the
    style loss would leave in place: the start there is the coarse result upsampled, nothing of the photo added."""
    side = settings.CONTENT_DETAIL_MAX_SIDE
    content = images.resize(sample_rgb("photo.png", 128), 2 * side, 3 * side // 2)
    coarse = images.resize(content, side, 3 * side // 4)
    painted = np.full((3 * side // 4, side, 3), 120.0, np.float32)  # a coarse result far from the photo
    start = upsample_with_content_detail(painted, coarse, content)
    assert start.shape == (3 * side // 2, 2 * side, 3) and np.allclose(start, 120.0, atol=0.5)
    grain = images.RGBImage(np.random.default_rng(0).uniform(0, 255, (3 * side // 4, side, 3)).astype(np.float32))
    at_the_side = upsample_with_content_detail(painted[: 3 * side // 8, : side // 2],
                                               images.resize(grain, side // 2, 3 * side // 8), grain)
    assert np.abs(at_the_side - 120.0).mean() > 20, "at 512 px and below the photo's detail is put back"


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
