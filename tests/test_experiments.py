"""The paper's figures: reconstruction grid, trade-off and styles grids, inspect."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from sample_images import open_sample

from neuralstyle.core import experiments


@pytest.fixture(scope="module")
def reconstructions():
    return experiments.reconstructions(open_sample("photo.png"), open_sample("painting.png"),
                                       size=64, iterations=40, frames_every=20)


def test_reconstruction_grid_has_the_paper_layout(reconstructions):
    """2 rows × 5 columns: content from conv*_2 of each block, style from growing conv*_1 sets."""
    tiles = sorted(reconstructions.tiles, key=lambda tile: (tile.row, tile.column))
    assert [(tile.row, tile.column) for tile in tiles] == [(row, column) for row in (0, 1) for column in range(5)]
    assert [tile.label for tile in tiles[:5]] == [f"block{b}_conv2" for b in range(1, 6)]
    assert tiles[5].label == "block1_conv1" and tiles[9].label == "block1_conv1 …\nblock5_conv1"
    assert [len(tile.settings["style_layers"]) for tile in tiles[5:]] == [1, 2, 3, 4, 5]


def test_content_detail_falls_with_depth(reconstructions):
    """Gatys Fig. 1: PSNR against the content decreases from block1_conv2 to block5_conv2."""
    psnrs = [tile.metrics["psnr_db"] for tile in reconstructions.tiles if tile.row == 0]
    print("PSNR by layer:", psnrs)
    assert all(earlier > later for earlier, later in zip(psnrs, psnrs[1:])), psnrs


def test_style_tiles_record_their_gram_distance(reconstructions):
    distances = [tile.metrics["style_distance"] for tile in reconstructions.tiles if tile.row == 1]
    assert all(0 <= distance < 0.5 for distance in distances), distances


def test_grid_image_and_progress_frames(reconstructions):
    grid = reconstructions.grid()
    assert grid.dtype == np.uint8 and grid.shape[1] > 5 * 64 and grid.shape[0] > 2 * 64
    frames = reconstructions.frame_grids()
    assert len(frames) == 3  # iterations 0, 20, 40
    assert all(frame.shape == frames[0].shape for frame in frames)


def test_vgg16_reconstruction_rows_use_its_layer_names():
    assert experiments.CONTENT_ROW_LAYERS["vgg16"][2:] == ("block3_conv3", "block4_conv3", "block5_conv3")


def test_tradeoff_grid_rows_are_layers_columns_are_ratios():
    figure = experiments.tradeoff(open_sample("photo.png"), open_sample("painting.png"),
                                  content_layers=["block2_conv2", "block4_conv2"], ratios=[1e-3, 1.0], size=48,
                                  iterations=8)
    assert figure.row_labels == ["block2_conv2", "block4_conv2"]
    by_place = {(tile.row, tile.column): tile for tile in figure.tiles}
    assert by_place[(1, 0)].settings["content_layer"] == "block4_conv2"
    assert by_place[(0, 1)].settings["content_weight"] / by_place[(0, 1)].settings["style_weight"] == \
        pytest.approx(1.0)
    # More content weight keeps the result closer to the photo.
    content = by_place[(0, 1)].image.astype(float), by_place[(0, 0)].image.astype(float)
    photo = np.asarray(open_sample("photo.png").resize(content[0].shape[1::-1]), dtype=float)
    assert np.abs(content[0] - photo).mean() < np.abs(content[1] - photo).mean()


def test_styles_grid_has_the_content_then_one_tile_per_style():
    figure = experiments.styles(open_sample("photo.png"),
                                [open_sample("painting.png"), open_sample("portrait.png")],
                                labels=["painting", "portrait"], size=48, iterations=4)
    assert [tile.label for tile in figure.tiles] == ["content", "painting", "portrait"]


def test_the_paper_figures_start_each_tile_from_the_photo_as_gatys_code_does_not_from_the_recoloured_start():
    """A transfer starts from the photo in the painting's colours; the figures keep the paper's start, as their
    records say (init 'content'): with no iterations a tile is the photo itself."""
    photo = open_sample("photo.png")
    for figure in (experiments.tradeoff(photo, open_sample("painting.png"), content_layers=["block4_conv2"],
                                        ratios=[1e-2], size=48, iterations=0),
                   experiments.styles(photo, [open_sample("painting.png")], size=48, iterations=0, show_input=False)):
        tile = figure.tiles[0]
        assert tile.settings["init"] == "content"
        expected = np.asarray(photo.convert("RGB").resize(tile.image.shape[1::-1], Image.BICUBIC), dtype=float)
        assert np.abs(tile.image.astype(float) - expected).mean() < 2.0


def test_figures_can_leave_out_the_input_image():
    """--hide-input: the grid starts with the first result, in column 0."""
    figure = experiments.styles(open_sample("photo.png"), [open_sample("painting.png")],
                                labels=["painting"], size=48, iterations=2, show_input=False)
    assert [(tile.label, tile.column) for tile in figure.tiles] == [("painting", 0)]
    view = experiments.inspect(open_sample("painting.png"), layers=["block1_conv1"], size=48, show_input=False)
    assert [(tile.label, tile.row, tile.column) for tile in view.tiles] == \
        [("block1_conv1 (1/1)", 0, 0), ("Gram 64x64", 1, 0)]


def test_inspect_shows_activation_maps_grams_and_top_channels():
    figure = experiments.inspect(open_sample("painting.png"), layers=["block1_conv1", "block3_conv1"],
                                 channels=3, size=64)
    labels = [tile.label for tile in figure.tiles]
    assert labels[:2] == ["image", "block1_conv1 (1/1)"] and "Gram 256x256" in labels
    assert figure.row_labels[2:] == ["block1_conv1 top 3", "block3_conv1 top 3"]
    assert sum(tile.row == 3 for tile in figure.tiles) == 3
    block3 = next(tile for tile in figure.tiles if tile.label.startswith("block3_conv1"))
    assert block3.image.shape[:2] == (16, 16)  # 1/4 of 64x64
