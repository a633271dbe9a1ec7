"""The image contract: what goes in, what comes out, and VGG's Caffe preprocessing."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from sample_images import sample_rgb

from neuralstyle.core import images


def test_preprocess_is_bgr_mean_subtracted_0_255():
    """A pure red pixel becomes (B, G, R) = (0, 0, 255) minus the ImageNet means."""
    red = np.zeros((1, 1, 3), np.float32)
    red[..., 0] = 255
    tensor = images.preprocess(red)
    assert tensor.shape == (1, 1, 1, 3)
    np.testing.assert_allclose(tensor[0, 0, 0], [-103.939, -116.779, 255 - 123.68], atol=1e-4)


def test_deprocess_is_the_exact_inverse_of_preprocess():
    rgb = np.random.default_rng(0).uniform(0, 255, (7, 5, 3)).astype(np.float32)
    np.testing.assert_allclose(images.deprocess(images.preprocess(rgb)), rgb, atol=1e-4)


def test_caffe_bounds_are_the_0_255_pixel_range():
    bounds = images.caffe_bounds(2, 3).reshape(2, 3, 3, 2)
    np.testing.assert_allclose(images.deprocess(bounds[..., 0])[0, 0], [0, 0, 0], atol=1e-4)
    np.testing.assert_allclose(images.deprocess(bounds[..., 1])[0, 0], [255, 255, 255], atol=1e-4)


@pytest.mark.parametrize(
    ("mode", "value", "expected"),
    [("L", 200, 200), ("I;16", 65535, 255), ("P", 0, 10)],
)
def test_grayscale_16_bit_and_palette_images_become_rgb_0_255(mode, value, expected):
    image = Image.new(mode, (4, 3), value)
    if mode == "P":
        image.putpalette([10, 10, 10] * 256)
    rgb = images.to_rgb(image)
    assert rgb.rgb.shape == (3, 4, 3) and rgb.rgb.dtype == np.float32
    np.testing.assert_allclose(rgb.rgb, expected, atol=0.5)
    assert rgb.alpha is None


def test_transparency_is_kept_aside_and_opaque_alpha_dropped():
    rgba = np.zeros((3, 4, 4), np.uint8)
    rgba[..., 3] = 128
    assert images.to_rgb(rgba).alpha.max() == 128
    rgba[..., 3] = 255
    assert images.to_rgb(rgba).alpha is None


def test_exif_orientation_is_applied(tmp_path):
    """A portrait photo stored sideways with EXIF orientation 6 comes out upright (taller than wide)."""
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    path = tmp_path / "sideways.jpg"
    Image.new("RGB", (40, 20), (200, 10, 10)).save(path, exif=exif)
    assert images.to_rgb(images.read_image(path)).rgb.shape == (40, 20, 3)


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros((4, 4, 2), np.uint8), "shape"),
        (np.full((4, 4, 3), 0.5, np.float32), "0–1"),
        (np.full((4, 4, 3), 300.0), "0–255"),
        (np.zeros((4, 4, 3), np.int64), "dtype"),
        (np.full((4, 4, 3), np.nan), "NaN"),
    ],
)
def test_bad_arrays_are_refused_with_the_reason(array, message):
    with pytest.raises(images.ImageError, match=message):
        images.to_rgb(array)


def test_unreadable_files_are_refused_with_the_reason(tmp_path):
    with pytest.raises(images.ImageError, match="no such file"):
        images.read_image(tmp_path / "missing.png")
    (tmp_path / "text.png").write_text("not an image")
    with pytest.raises(images.ImageError, match="not an image"):
        images.read_image(tmp_path / "text.png")
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(buffer, "PNG")
    (tmp_path / "cut.png").write_bytes(buffer.getvalue()[:60])
    with pytest.raises(images.ImageError, match="corrupt or truncated|not an image"):
        images.read_image(tmp_path / "cut.png")


def test_resizing_keeps_the_aspect_ratio():
    """The photo (1024×768) at longest side 128 is 128×96, never stretched square."""
    image = sample_rgb("photo.png", 128)
    assert (image.width, image.height) == (128, 96)
    assert images.fit_size(768, 1024, 100) == (75, 100)


def test_saved_png_round_trips_exactly_with_alpha(tmp_path):
    pixels = np.random.default_rng(1).integers(0, 256, (6, 5, 4), dtype=np.uint8)
    images.save_image(tmp_path / "out.png", pixels)
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "out.png")), pixels)
    assert [path.name for path in tmp_path.iterdir()] == ["out.png"]  # no temporary file left behind


def test_jpeg_flattens_transparency_onto_white(tmp_path):
    pixels = np.zeros((8, 8, 4), np.uint8)  # fully transparent black
    images.save_image(tmp_path / "out.jpg", pixels)
    assert np.asarray(Image.open(tmp_path / "out.jpg")).min() > 245


def test_unknown_output_type_is_refused(tmp_path):
    with pytest.raises(images.ImageError, match=r"unknown image type '\.bmpx'.*\.png"):
        images.save_image(tmp_path / "out.bmpx", np.zeros((2, 2, 3), np.uint8))
