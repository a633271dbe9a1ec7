"""The three modes on real images with the offline ImageNet weights, and the Evaluator's contract.

Sizes are 64–128 px and iteration counts small, but every claim is one the
paper makes or a user relies on, checked on real numbers.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from sample_images import open_sample, sample_rgb

from neuralstyle.core import images, settings
from neuralstyle.core.evaluator import START, Evaluator, NonFiniteLossError, minimize_lbfgs
from neuralstyle.core.experiments import psnr, style_distance
from neuralstyle.core.losses import gram_matrix
from neuralstyle.core.model import FeatureModel
from neuralstyle.core.reconstruction import reconstruct_content, reconstruct_style
from neuralstyle.core.stages import cached_feature_model
from neuralstyle.core.synthesis import recolored, transfer
from neuralstyle.core.targets import image_features


@pytest.fixture(scope="module")
def photo():
    return open_sample("photo.png")


@pytest.fixture(scope="module")
def painting():
    return open_sample("painting.png")


def test_content_from_block1_conv2_rebuilds_the_photo(photo):
    """Gatys Fig. 1: from noise, block1_conv2 alone gives back the photo (PSNR ≥ 20 dB in 150 iterations)."""
    result = reconstruct_content(photo, content_layer="block1_conv2", size=128, iterations=150)
    reference = images.to_uint8(sample_rgb("photo.png", 128).rgb)
    assert result.image.shape == reference.shape == (96, 128, 3)
    quality = psnr(result.image, reference)
    print(f"block1_conv2 PSNR {quality:.1f} dB")
    assert quality >= 20.0
    assert result.iterations == 150 and result.stopped is None


def test_content_from_block1_conv1_converges_within_150_iterations(photo):
    """From noise, block1_conv1 gives the photo back at 25 dB or better in 150 iterations at 96 px: the
    reconstruction does not stall once its loss is small (the default precision for it is float32)."""
    result = reconstruct_content(photo, content_layer="block1_conv1", size=96, iterations=150)
    quality = psnr(result.image, images.to_uint8(sample_rgb("photo.png", 96).rgb))
    print(f"block1_conv1 PSNR {quality:.1f} dB")
    assert quality >= 25.0


def _coarse(image: np.ndarray) -> np.ndarray:
    """The image averaged over 8×8 blocks: its layout, without the detail."""
    height, width = image.shape[0] // 8, image.shape[1] // 8
    return image[: height * 8, : width * 8].reshape(height, 8, width, 8, -1).mean(axis=(1, 3)).round().astype(np.uint8)


def test_deeper_content_layers_keep_the_layout_but_lose_detail(photo):
    """Gatys Fig. 1: block4_conv2 matches its features as well, but the picture it gives is
    coarser than block1_conv2's (lower PSNR), while its layout (8×8 block means) is the photo's."""
    reference = images.to_uint8(sample_rgb("photo.png", 128).rgb)
    shallow = reconstruct_content(photo, content_layer="block1_conv2", size=128, iterations=100)
    deep = reconstruct_content(photo, content_layer="block4_conv2", size=128, iterations=100, frames_every=100)
    noise = deep.frames[0]  # the seeded noise both runs began from
    print(f"PSNR block1 {psnr(shallow.image, reference):.1f}, block4 {psnr(deep.image, reference):.1f}; "
          f"layout PSNR block4 {psnr(_coarse(deep.image), _coarse(reference)):.1f}, "
          f"noise {psnr(_coarse(noise), _coarse(reference)):.1f}")
    assert deep.loss["content"] <= 0.05 * deep.history[0]["content"]
    assert psnr(deep.image, reference) < psnr(shallow.image, reference) - 3.0
    assert psnr(_coarse(deep.image), _coarse(reference)) > psnr(_coarse(noise), _coarse(reference)) + 2.5


@pytest.mark.parametrize("name, shape", [("painting.png", (96, 96)), ("portrait.png", (96, 75))])
def test_style_reconstruction_lowers_the_style_loss_by_90_percent(name, shape):
    result = reconstruct_style(open_sample(name), size=96, iterations=100)
    start, end = result.history[0]["style"], result.loss["style"]
    print(f"style loss {start:.4g} → {end:.4g}")
    assert end <= 0.1 * start
    assert result.image.shape[:2] == shape  # the style image's aspect ratio (the portrait is 402×512)


def test_a_run_at_512_px_repeats_bit_for_bit(photo, painting):
    """The same run again makes the same bytes and the same loss at every iteration, at a size
    where the CPU's threads split the network's sums (`rerun` relies on it): ops run one at a
    time, and sums add in the order the code writes them (`neuralstyle.core.backend`)."""
    runs = [transfer(photo, painting, size=512, scales=1, iterations=3) for _ in range(5)]
    for run in runs[1:]:
        assert [step["total"] for step in run.history] == [step["total"] for step in runs[0].history]
        assert np.array_equal(run.image, runs[0].image)


@pytest.mark.parametrize(("environment", "host_code", "expected"), [
    ({}, "", "inter-op 1, arithmetic False"),
    # 0: left to TensorFlow, which then reads the variable
    ({"TF_NUM_INTEROP_THREADS": "2"}, "", "inter-op 0, arithmetic False"),
    ({}, "tf.config.optimizer.set_experimental_options({'arithmetic_optimization': True})", "inter-op 1, arithmetic True"),
])
def test_the_backend_makes_runs_repeat_unless_the_host_program_chose_otherwise(environment, host_code, expected):
    """Importing neuralstyle sets TensorFlow to one op at a time and sums in the code's order, unless the
    program that imports it chose otherwise first (TF_NUM_INTEROP_THREADS, Grappler's options)."""
    script = (f"import tensorflow as tf\n{host_code}\nimport neuralstyle.core.backend\n"
              "print(f'inter-op {tf.config.threading.get_inter_op_parallelism_threads()}, arithmetic '"
              "f\"{tf.config.optimizer.get_experimental_options()['arithmetic_optimization']}\")")
    environ = {key: value for key, value in os.environ.items() if key != "TF_NUM_INTEROP_THREADS"} | environment
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, env=environ).stdout
    assert out.strip() == expected


def test_transfer_takes_the_style_and_keeps_the_content(photo, painting):
    """The photo × the painting: Gram distance to the painting falls ≥ 70 %, while the block4_conv2
    features stay far closer to the photo's than noise's are (cosine similarity)."""
    result = transfer(photo, painting, size=128, iterations=100)
    content, style = sample_rgb("photo.png", 128), sample_rgb("painting.png", 128)
    before, after = style_distance(content.rgb, style.rgb), style_distance(result.image, style.rgb)
    print(f"style distance {before:.3f} → {after:.3f}")
    assert after <= 0.3 * before

    features = cached_feature_model(["block4_conv2"], "vgg19", "auto", "max")
    target = image_features(features, content.rgb)["block4_conv2"].ravel()

    def cosine(rgb):
        ours = image_features(features, np.asarray(rgb, np.float32))["block4_conv2"].ravel()
        return float(ours @ target / np.linalg.norm(ours) / np.linalg.norm(target))

    noise = np.random.default_rng(0).uniform(0, 255, content.rgb.shape)
    print(f"cosine: result {cosine(result.image):.3f}, noise {cosine(noise):.3f}, style {cosine(images.resize(style, 128, 96).rgb):.3f}")
    assert cosine(result.image) > cosine(noise) + 0.1
    assert cosine(result.image) > cosine(images.resize(style, 128, 96).rgb) + 0.1


def _small_evaluator():
    features = FeatureModel(["block1_conv1"], weights=None)
    target = np.asarray(features(np.zeros((1, 16, 16, 3), np.float32))["block1_conv1"])
    return Evaluator(features, 16, 16, content_targets={"block1_conv1": target})


def test_a_run_that_starts_at_its_content_image_needs_no_pass_for_the_content_target():
    """The content target taken from the first evaluation (at the content image) gives the
    losses, gradients and iterates of the target computed by a pass of its own."""
    features = FeatureModel(["block1_conv1", "block2_conv1"], weights=None)
    rng = np.random.default_rng(3)
    content = images.preprocess(rng.uniform(0, 255, (24, 32, 3)).astype(np.float32))
    style = images.preprocess(rng.uniform(0, 255, (20, 28, 3)).astype(np.float32))
    grams = {"block1_conv1": np.asarray(gram_matrix(features(style)["block1_conv1"]))}
    common = dict(style_targets=grams, content_weight=5.0, style_weight=100.0, tv_weight=1e-3)
    given = Evaluator(features, 24, 32, content_targets={"block2_conv1": np.asarray(features(content)["block2_conv1"])},
                      **common)
    started = Evaluator(features, 24, 32, content_targets={"block2_conv1": START}, **common)
    x0 = content.reshape(-1).astype(np.float64)
    runs = [minimize_lbfgs(evaluator, x0, iterations=8) for evaluator in (given, started)]
    assert runs[1].history[0]["content"] == 0.0 and runs[0].history[0]["content"] < 1e-6
    for ours, theirs in zip(runs[1].history, runs[0].history):
        for name in ("total", "content", "style"):
            assert ours[name] == pytest.approx(theirs[name], rel=1e-4, abs=1e-9), (ours["iteration"], name)
    assert runs[1].loss.content > 0 and runs[1].iterations == 8
    np.testing.assert_allclose(runs[1].x, runs[0].x, rtol=0, atol=0.05)  # Caffe units, 0–255
    with pytest.raises(ValueError, match="a tiled Evaluator needs its content targets given"):
        Evaluator(features, 64, 64, content_targets={"block2_conv1": START}, tile=32)
    with pytest.raises(ValueError, match="an array or 'start', not 'begin'"):
        Evaluator(features, 24, 32, content_targets={"block2_conv1": "begin"})
    # A given target may leave out the batch axis; one of another size is refused in one line.
    unbatched = Evaluator(features, 24, 32, content_targets={"block2_conv1": np.asarray(features(content)["block2_conv1"])[0]},
                          **common)
    assert unbatched.evaluate(x0)[0] == pytest.approx(given.evaluate(x0)[0], rel=1e-6)
    with pytest.raises(ValueError, match=r"block2_conv1 has shape \(1, 6, 8, 128\); block2_conv1 gives \(1, 12, 16, 128\)"):
        Evaluator(features, 24, 32, content_targets={"block2_conv1": np.zeros((1, 6, 8, 128), np.float32)})
    with pytest.raises(ValueError, match="does not output 'block3_conv1'; it outputs block1_conv1, block2_conv1"):
        Evaluator(features, 24, 32, content_targets={"block3_conv1": START})


def test_a_transfer_from_the_content_image_makes_no_vgg_pass_for_its_content_target(photo, painting, monkeypatch):
    """init 'content': the first evaluation gives the target, its content loss exactly 0;
    any other start (the default, recolored, too) needs a pass of the content image of its own.
    The balance measures the photo once at 256 px, with the content target's own pass at that size."""
    from neuralstyle.core import synthesis, targets

    passes = []
    original = targets.image_features

    def counted(feature_model, rgb, tile=None):
        passes.append(rgb.shape[:2])
        return original(feature_model, rgb, tile)

    for module in (synthesis, targets):  # the content target's pass, and the measure's and the styles'
        monkeypatch.setattr(module, "image_features", counted)

    def photo_passes(run) -> dict:
        passes.clear()
        result = run()
        return result, {side: passes.count(shape) for side, shape in ((64, (48, 64)), (256, (192, 256)))}

    from_content, count = photo_passes(lambda: transfer(photo, painting, size=64, iterations=2, init="content",
                                                        balance="fixed"))
    assert count == {64: 0, 256: 0} and from_content.history[0]["content"] == 0.0
    assert from_content.history[-1]["content"] > 0, "after the start the content target is in force"
    from_noise, count = photo_passes(lambda: transfer(photo, painting, size=64, iterations=2, init="noise",
                                                      balance="fixed"))
    assert count == {64: 1, 256: 0} and from_noise.history[0]["content"] > 0
    recoloured, count = photo_passes(lambda: transfer(photo, painting, size=64, iterations=2))
    assert count == {64: 1, 256: 1} and recoloured.history[0]["content"] > 0
    measured, count = photo_passes(lambda: transfer(photo, painting, size=64, iterations=2, init="content"))
    assert count == {64: 0, 256: 1} and measured.history[0]["content"] == 0.0
    _, count = photo_passes(lambda: transfer(photo, painting, size=256, iterations=1))
    assert count == {64: 0, 256: 1}, "at 256 px the measure is the content target"


@pytest.mark.parametrize("masked", [False, True], ids=["whole", "regions"])
def test_balance_pair_weighs_the_content_by_how_far_the_photo_starts_from_the_painting(photo, painting, masked):
    """The record's pair_distance is the style loss at the photo itself, per unit style weight, as the
    run's own loss counts it (with regions too), and the content weight used is the one given times
    sqrt(distance / 0.6), within 0.5-3; balance 'fixed' takes the weight as given."""
    from neuralstyle.core.balance import pair_balance

    masks = {}
    if masked:
        left = np.zeros((photo.height, photo.width), np.float32)
        left[:, : photo.width // 3] = 1.0
        masks = {"style_masks": [left, 1.0 - left]}
    styles = [painting, np.asarray(painting)[::-1]] if masked else painting
    common = dict(size=64, iterations=0, precision="float32", **masks)
    at_photo = transfer(photo, styles, init="content", balance="fixed", style_weight=1.0,
                        **{**common, "size": settings.BALANCE_SIDE})  # measured there, whatever the run's size
    paired = transfer(photo, styles, init="noise", balance="pair", **common)
    fixed = transfer(photo, styles, init="noise", balance="fixed", **common)
    distance = paired.settings["pair_distance"]
    assert distance == pytest.approx(at_photo.history[0]["style"], rel=1e-3)
    factor = pair_balance(distance)
    assert paired.settings["balanced_content_weight"] == pytest.approx(settings.CONTENT_WEIGHT * factor, rel=1e-5)
    assert paired.history[0]["content"] == pytest.approx(factor * fixed.history[0]["content"], rel=1e-4)
    assert "pair_distance" not in fixed.settings and fixed.settings["balance"] == "fixed"
    assert pair_balance(0.6) == 1.0 and pair_balance(2.4) == 2.0 and pair_balance(0.0) == 0.5 \
        and pair_balance(1e6) == 3.0 and pair_balance(float("nan")) == 1.0


def test_balance_pair_gives_a_larger_size_more_content_weight_to_keep_the_look_of_the_measured_one(photo, painting):
    """Above the side the pair is measured at (256 px) each size's content weight is PAIR_SIZE_FACTOR
    times the pair's, so a larger picture keeps nearer the look of a smaller one; sizes at or below it
    keep the pair's weight, and balance 'fixed' the weight as given."""
    from neuralstyle.core.balance import PAIR_SIZE_FACTOR, size_balance

    common = dict(size=320, scales=[128, 320], iterations=[1, 0], precision="float32")
    paired = transfer(photo, painting, balance="pair", **common)
    weight, grown = paired.settings["balanced_content_weight"], size_balance(320, settings.BALANCE_SIDE)
    assert paired.settings["content_weights"] == pytest.approx([weight, weight * grown]) and grown > 1
    fixed = transfer(photo, painting, balance="fixed", content_weight=weight, **common)
    assert "content_weights" not in fixed.settings
    assert paired.loss["content"] == pytest.approx(grown * fixed.loss["content"], rel=1e-3), "the 320 px size's weight"
    assert size_balance(257, 256) == size_balance(2048, 256) == PAIR_SIZE_FACTOR
    assert size_balance(256, 256) == size_balance(96, 256) == 1.0


def test_balance_raw_weighs_a_larger_size_as_neural_styles_raw_losses_weigh_it_there(photo, painting):
    """Above 256 px the pair is measured again at each size of the run, and the content weight there
    is the one its raw losses give that size: a painting whose texture is fine for its size keeps its
    Gram energy at a larger size, a smooth one (enlarged from a small image) loses it, and the photo
    weighs more against the smooth one there. Sizes at or below 256 px keep the pair's weight."""
    from neuralstyle.core.balance import raw_size_balance

    rgb = np.asarray(painting)
    smooth = np.asarray(Image.fromarray(rgb).resize((rgb.shape[1] // 8, rgb.shape[0] // 8), Image.BILINEAR)
                        .resize((rgb.shape[1], rgb.shape[0]), Image.BICUBIC))
    common = dict(size=320, scales=[128, 320], iterations=[1, 0], precision="float32")
    factors = {}
    for name, style in (("fine", rgb), ("smooth", smooth)):
        run = transfer(photo, style, **common).settings
        measures = {entry["side"]: entry for entry in run["raw_energies"]}
        assert sorted(measures) == [settings.BALANCE_SIDE, 320], "measured at 256 px and at the larger size"
        weights = run["content_weights"]
        assert weights[0] == pytest.approx(run["balanced_content_weight"]), "the 128 px size keeps the pair's weight"
        expected = raw_size_balance(*[(measures[side]["content"], measures[side]["style"])
                                      for side in (settings.BALANCE_SIDE, 320)], run["style_layers"])
        assert weights[1] == pytest.approx(weights[0] * expected, rel=1e-5)
        factors[name] = expected
    assert factors["smooth"] > 1.2 * factors["fine"], factors
    assert raw_size_balance((1.0, {"a": 2.0}), (1.0, {"a": 1.0}), {"a": 1.0}) == pytest.approx(2.0)
    assert raw_size_balance((1.0, {"a": 0.0}), (1.0, {"a": 1.0}), {"a": 1.0}) == 1.0, "a blank painting: no scale"


@pytest.mark.parametrize("preserve_color", ["none", "histogram", "luminance"])
def test_a_run_measured_on_another_image_takes_that_images_balance(photo, painting, preserve_color):
    """balance_content (a clip's first frame) sets the balance of every frame, colours preserved or not."""
    other = np.asarray(photo)[::-1, ::-1] // 2  # another frame: darker, upside down
    common = dict(size=64, iterations=0, preserve_color=preserve_color, balance="pair")
    first = transfer(photo, painting, **common).settings
    later = transfer(other, painting, balance_content=photo, **common).settings
    alone = transfer(other, painting, **common).settings
    assert later["pair_distance"] == pytest.approx(first["pair_distance"], rel=1e-6)
    assert alone["pair_distance"] != pytest.approx(first["pair_distance"], rel=1e-3)


@pytest.mark.parametrize("balance, measure, taker", [("pair", "pair_distance", "measure_pair_distance"),
                                                      ("raw", "raw_energies", "measure_raw_energies")])
def test_a_run_given_its_records_measure_is_the_run_that_measured_it(photo, painting, monkeypatch, balance, measure,
                                                                      taker):
    """A clip's later frames (and a user holding a record) pass the balance's measure instead of taking it again."""
    from neuralstyle.core import synthesis

    measured = transfer(photo, painting, size=64, iterations=4, balance=balance)
    monkeypatch.setattr(synthesis, taker, lambda *args: pytest.fail("measured again"))
    given = transfer(photo, painting, size=64, iterations=4, balance=balance, **{measure: measured.settings[measure]})
    assert np.array_equal(given.image, measured.image) and given.settings == measured.settings


@pytest.mark.parametrize("measure, value, message", [
    ("pair_distance", -1, "is -1"),
    ("raw_energies", {"content": 1.0, "style": {}}, "it must be [{'side': px, 'content': number"),
    ("raw_energies", [{"side": 256, "content": 1.0}], "it must be [{'side': px"),
    ("raw_energies", [{"side": 256, "content": 1.0, "style": {"block1_conv1": 1.0}}], "this run's are"),
    ("raw_energies", [{"side": 256, "content": float("nan"), "style": dict.fromkeys(settings.STYLE_LAYERS, 1.0)}],
     "is nan"),
    ("raw_energies", [{"side": 256, "content": 1.0, "style": dict.fromkeys(settings.STYLE_LAYERS, 1.0)}] * 2,
     "measures the sides [256, 256]; each side once"),
    ("raw_energies", [{"side": 0, "content": 1.0, "style": dict.fromkeys(settings.STYLE_LAYERS, 1.0)}], "is 0"),
    ("pair_distance", 0.5, "balance 'pair''s measure; this run's balance is 'raw'"),
])
def test_a_measure_that_cannot_be_a_records_is_refused_naming_it(photo, painting, measure, value, message):
    with pytest.raises(settings.SettingError, match=re.escape(message)) as raised:
        transfer(photo, painting, size=64, iterations=0, **{measure: value})
    assert raised.value.setting == measure


def test_a_photo_far_from_its_painting_is_balanced_towards_itself(photo, painting):
    """A busy photo against a flat painting starts farther from it than the painting's own detail does,
    and is given more content weight: how far a pair starts, not the weights alone, sets the balance."""
    flat = np.full((48, 64, 3), (90, 120, 160), np.uint8) + np.random.default_rng(0).integers(0, 3, (48, 64, 3),
                                                                                               dtype=np.uint8)
    near = transfer(photo, photo, size=64, iterations=0, precision="float32", balance="pair")
    far = transfer(photo, flat, size=64, iterations=0, precision="float32", balance="pair")
    assert transfer(photo, flat, size=128, iterations=0, precision="float32",
                    balance="pair").settings["pair_distance"] == \
        far.settings["pair_distance"], "one balance at every size"
    assert near.settings["pair_distance"] < 0.01 and near.settings["balanced_content_weight"] == \
        pytest.approx(settings.CONTENT_WEIGHT * 0.5)
    assert far.settings["pair_distance"] > 1.0 and far.settings["balanced_content_weight"] > settings.CONTENT_WEIGHT


def test_balance_raw_makes_the_loss_neural_styles_raw_loss_over_the_paintings_energy(photo, painting):
    """Balance 'raw' (the default): at the side it is measured at (256 px), the run's content and style
    losses are neural-style's raw ones, mean((F − P)²) and Σ_l mean((G_l − A_l)²) / C_l² (Grams over H·W),
    times the content and style weights, divided by the painting's energy Σ_l mean(A_l²) / C_l²."""
    layers = list(settings.STYLE_LAYERS)
    model = cached_feature_model([settings.CONTENT_LAYER, *layers], "vgg19", "auto", "max", "float32")
    result = transfer(photo, painting, size=256, iterations=0, init="noise", precision="float32")
    assert result.settings["balance"] == "raw"

    def features(rgb):
        return {name: np.asarray(value, np.float64)[0] for name, value in image_features(model, rgb).items()}

    def gram(feature):
        flat = feature.reshape(-1, feature.shape[-1])
        return flat.T @ flat / flat.shape[0]

    start = features(result.image.astype(np.float32))
    target = features(images.resize_max_side(images.to_rgb(photo), 256).rgb)
    painted = features(images.resize_max_side(images.to_rgb(painting), 256).rgb)
    channels = {layer: painted[layer].shape[-1] for layer in layers}
    energy = {layer: np.mean(gram(painted[layer]) ** 2) / channels[layer] ** 2 for layer in layers}
    (recorded,) = result.settings["raw_energies"]
    assert recorded["side"] == settings.BALANCE_SIDE and recorded["content"] == pytest.approx(np.mean(target[settings.CONTENT_LAYER] ** 2), rel=1e-4)
    assert recorded["style"] == pytest.approx(energy, rel=1e-3)
    total = sum(energy.values())
    raw_content = np.mean((start[settings.CONTENT_LAYER] - target[settings.CONTENT_LAYER]) ** 2)
    raw_style = sum(np.mean((gram(start[layer]) - gram(painted[layer])) ** 2) / channels[layer] ** 2
                    for layer in layers)
    assert result.history[0]["content"] == pytest.approx(settings.CONTENT_WEIGHT * raw_content / total, rel=2e-3)
    assert result.history[0]["style"] == pytest.approx(settings.STYLE_WEIGHT * raw_style / total, rel=2e-3)


def test_balance_raw_lets_a_bold_painting_take_more_of_the_picture_at_every_size(photo, painting):
    """The same painting with twice the contrast has more Gram energy, so the photo's content weighs less
    against it; a photo of half the contrast weighs less too; the measure is one at every size."""
    rgb = np.asarray(painting, np.float32)
    bold = np.clip((rgb - rgb.mean()) * 2 + rgb.mean(), 0, 255).astype(np.uint8)
    pale_photo = (np.asarray(photo, np.float32) * 0.5 + 64).astype(np.uint8)
    common = dict(iterations=0, precision="float32")
    weight = {name: transfer(content, style, size=64, **common).settings["balanced_content_weight"]
              for name, content, style in (("as is", photo, painting), ("bold", photo, bold),
                                           ("pale photo", pale_photo, painting))}
    assert weight["bold"] < 0.5 * weight["as is"] and weight["pale photo"] < 0.5 * weight["as is"]
    at_128 = transfer(photo, painting, size=128, **common).settings
    at_64 = transfer(photo, painting, size=64, **common).settings
    assert at_128["raw_energies"] == at_64["raw_energies"], "one balance at every size up to 256 px"
    assert at_64["balanced_style_layers"]["block4_conv1"] > 0.5, "neural-style's raw losses weigh block4 most"


def test_the_evaluator_runs_one_pass_per_distinct_point():
    """scipy asks for loss and gradient; VGG runs once per point, never twice."""
    evaluator = _small_evaluator()
    points = []
    step = evaluator.step
    evaluator.step = lambda image: (points.append(np.asarray(image).tobytes()), step(image))[1]
    x = np.random.default_rng(0).normal(0, 20, 16 * 16 * 3)
    evaluator.loss(x)
    evaluator.grads(x)
    assert evaluator.passes == 1
    outcome = minimize_lbfgs(evaluator, x, iterations=15)
    assert evaluator.passes == len(points) == len(set(points)) == outcome.evaluations
    assert outcome.iterations == 15 and outcome.loss.total < 0.2 * outcome.history[0]["total"]


def test_a_nan_loss_stops_with_a_clear_message_and_keeps_the_best_point():
    evaluator = _small_evaluator()
    step, calls = evaluator.step, []

    def failing(image):
        calls.append(1)
        parts, gradient = step(image)
        return (parts * np.nan, gradient) if len(calls) > 4 else (parts, gradient)

    evaluator.step = failing
    outcome = minimize_lbfgs(evaluator, np.full(16 * 16 * 3, 5.0), iterations=20)
    assert outcome.stopped == "error" and "the loss became nan at evaluation 5" in outcome.error
    assert np.isfinite(outcome.x).all() and outcome.loss.total == min(entry["total"] for entry in outcome.history)
    with pytest.raises(NonFiniteLossError, match="loss became nan"):
        fresh = _small_evaluator()
        fresh.step = lambda image: (np.full(4, np.nan, np.float32), np.zeros((1, 16, 16, 3), np.float32))
        minimize_lbfgs(fresh, np.zeros(16 * 16 * 3), iterations=3)


def test_runs_are_reproducible_from_their_seed(photo):
    first, again, other = (reconstruct_content(photo, content_layer="block2_conv2", size=64, iterations=8, seed=seed)
                           for seed in (7, 7, 8))
    np.testing.assert_array_equal(first.image, again.image)
    assert not np.array_equal(first.image, other.image)


def test_a_callback_sees_every_iteration_and_can_stop_the_run(photo, painting):
    seen = []

    def callback(progress):
        seen.append((progress.iteration, progress.iterations, progress.loss.total > 0))
        return progress.iteration == 3

    result = transfer(photo, painting, size=64, iterations=10, callback=callback)
    assert seen == [(i, 10, True) for i in range(4)]
    assert result.stopped == "callback" and result.iterations == 3 and len(result.history) == 4


def test_frames_are_kept_every_n_iterations_starting_with_the_start(photo, painting):
    result = transfer(photo, painting, size=64, iterations=6, frames_every=2)
    assert len(result.frames) == 4  # iterations 0, 2, 4, 6
    start = recolored(sample_rgb("photo.png", 64), sample_rgb("painting.png", 64))  # the default start
    np.testing.assert_array_equal(result.frames[0], images.to_uint8(start))
    np.testing.assert_array_equal(result.frames[-1], result.image)


def test_transparency_of_the_content_is_put_back(painting):
    rgba = np.asarray(open_sample("photo.png").convert("RGBA").resize((96, 72))).copy()
    rgba[:, :48, 3] = 0  # left half transparent
    result = transfer(rgba, painting, size=96, iterations=3)
    assert result.image.shape == (72, 96, 4)
    assert (result.image[:, :46, 3] == 0).all() and (result.image[:, 50:, 3] == 255).all()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"size": 8}, "the output would be 8x6 px; the layers used need at least 16 px"),
        ({"style_weight": -1}, "style_weight is -1; it must be a finite number ≥ 0"),
        ({"init": "photo"}, "unknown init 'photo'; choose one of recolored, content, noise, style"),
        ({"content_layer": "block6_conv2"}, "unknown layer 'block6_conv2'; VGG19 has"),
        ({"scales": 2, "iterations": [5, 5, 5]}, r"iterations gives 3 numbers \[5, 5, 5\] for 2 scale"),
        ({"optimizer": "sgd"}, "unknown optimizer 'sgd'; choose one of lbfgs, adam"),
        ({"preserve_color": "yes"}, "none.*luminance.*histogram"),
    ],
)
def test_bad_arguments_are_refused_before_any_work(photo, painting, arguments, message):
    with pytest.raises(ValueError, match=message):
        transfer(photo, painting, **{"size": 64, "iterations": 1, **arguments})
