"""The VGG feature model and the losses: named layers, truncation, pooling, Gram maths."""

from __future__ import annotations

import numpy as np
import pytest

from neuralstyle.core.backend import keras, tf
from neuralstyle.core.losses import content_loss, gram_matrix, style_loss, target_scale, total_variation_loss
from neuralstyle.core.model import FeatureModel


def _conv_names(feature_model):
    return [layer.name for layer in feature_model.keras_model.layers if "conv" in layer.name]


def test_the_model_stops_at_the_deepest_layer_a_run_reads():
    """Asking for block2_conv1 builds 3 conv layers, not 16: no work on unread layers."""
    features = FeatureModel(["block2_conv1", "block1_conv1"], weights=None)
    assert _conv_names(features) == ["block1_conv1", "block1_conv2", "block2_conv1"]
    outputs = features(np.zeros((1, 32, 48, 3), np.float32))
    assert set(outputs) == {"block1_conv1", "block2_conv1"}
    assert outputs["block1_conv1"].shape == (1, 32, 48, 64)
    assert outputs["block2_conv1"].shape == (1, 16, 24, 128)


@pytest.mark.parametrize("model, layers", [("vgg19", ["block4_conv2", "block1_conv1", "block5_conv1"]),
                                           ("vgg16", ["block3_conv3"])])
def test_the_model_built_for_a_run_computes_what_keras_applications_vgg_computes(model, layers):
    """The run's model is built layer by layer, only as deep as it reads (it starts faster);
    with the same weights it gives keras.applications' features exactly, and so does a .h5 file's."""
    from neuralstyle.core.model import keras_application

    ours = FeatureModel(layers, model=model, weights=None)
    full = keras_application(model)
    for layer in ours.keras_model.layers[1:]:
        full.get_layer(layer.name).set_weights(layer.get_weights())
    reference = keras.Model(full.input, {name: full.get_layer(name).output for name in layers})
    image = np.random.default_rng(1).normal(0, 50, (1, 40, 56, 3)).astype(np.float32)
    expected = reference(image)
    for name, value in ours(image).items():
        np.testing.assert_array_equal(np.asarray(value), np.asarray(expected[name]))


def test_the_vgg_weights_are_frozen_so_only_the_image_is_optimised():
    """No backend keeps a gradient graph for 20 M weights that never change."""
    features = FeatureModel(["block2_conv1"], weights=None)
    assert features.keras_model.trainable_variables == []
    assert len(features.keras_model.weights) == 6  # 3 convolutions, kernel and bias


def test_vgg16_has_its_own_layers():
    """VGG16 wiring, with random weights (no VGG16 ImageNet file exists offline)."""
    features = FeatureModel(["block5_conv3"], model="vgg16", weights=None)
    assert len(_conv_names(features)) == 13
    assert features(np.zeros((1, 32, 32, 3), np.float32))["block5_conv3"].shape == (1, 2, 2, 512)
    with pytest.raises(ValueError, match="unknown layer 'block5_conv4'; VGG16 has block1_conv1 … block5_conv3"):
        FeatureModel(["block5_conv4"], model="vgg16", weights=None)


def test_unknown_layers_and_models_are_named_with_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown layer 'block6_conv1'; VGG19 has block1_conv1 … block5_conv4 \(block1_conv1, "):
        FeatureModel(["block6_conv1"], weights=None)
    with pytest.raises(ValueError, match="unknown model 'vgg21'.*vgg16.*vgg19"):
        FeatureModel(["block1_conv1"], model="vgg21", weights=None)
    with pytest.raises(ValueError, match="unknown pooling 'min'; choose one of max, avg"):
        FeatureModel(["block1_conv1"], pooling="min", weights=None)


def test_average_pooling_replaces_every_max_pooling():
    features = FeatureModel(["block4_conv1"], pooling="avg", weights=None)
    kinds = [type(layer).__name__ for layer in features.keras_model.layers]
    assert kinds.count("AveragePooling2D") == 3 and "MaxPooling2D" not in kinds
    image = np.random.default_rng(0).normal(0, 50, (1, 32, 32, 3)).astype(np.float32)
    with_max = FeatureModel(["block4_conv1"], weights=None)
    with_max.keras_model.set_weights(features.keras_model.get_weights())
    assert not np.allclose(features(image)["block4_conv1"], with_max(image)["block4_conv1"])


def test_gram_matrix_is_features_transposed_times_features_over_positions():
    features = np.random.default_rng(0).normal(size=(1, 4, 5, 3)).astype(np.float32)
    flat = features.reshape(20, 3)
    np.testing.assert_allclose(np.asarray(gram_matrix(features)), flat.T @ flat / 20, rtol=1e-5)


def test_the_symmetric_gram_gradient_equals_plain_autodiff():
    """The one-matmul custom gradient is exactly the gradient of FᵀF/(H·W)."""
    rng = np.random.default_rng(1)
    features = tf.constant(rng.normal(size=(1, 6, 7, 5)), tf.float32)
    target = tf.constant(rng.normal(size=(5, 5)), tf.float32)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(features)
        ours = tf.reduce_mean(tf.square(gram_matrix(features) - target))
        flat = tf.reshape(features, (-1, 5))
        plain = tf.reduce_mean(tf.square(tf.matmul(flat, flat, transpose_a=True) / 42.0 - target))
    np.testing.assert_allclose(float(ours), float(plain), rtol=1e-5)
    np.testing.assert_allclose(tape.gradient(ours, features).numpy(), tape.gradient(plain, features).numpy(),
                               rtol=1e-4, atol=1e-6)


def test_losses_do_not_change_meaning_with_image_size():
    """The normalised content and style losses of a 2× upsampled pair equal those of the pair."""
    rng = np.random.default_rng(2)
    small, target = rng.uniform(0, 5, (2, 1, 8, 8, 16)).astype(np.float32)
    big, big_target = (np.repeat(np.repeat(array, 2, axis=1), 2, axis=2) for array in (small, target))
    for loss, reference_of in ((content_loss, lambda t: t), (style_loss, lambda t: np.asarray(gram_matrix(t)))):
        reference, big_reference = reference_of(target), reference_of(big_target)
        np.testing.assert_allclose(float(loss(small, reference, 1 / target_scale(reference))),
                                   float(loss(big, big_reference, 1 / target_scale(big_reference))), rtol=1e-4)
    assert float(content_loss(target, target, 1 / target_scale(target))) == 0.0
    assert float(content_loss(np.zeros_like(target), target, 1 / target_scale(target))) == pytest.approx(1.0)


def test_total_variation_is_zero_for_flat_images_and_grows_with_noise():
    flat = np.full((1, 8, 8, 3), 40.0, np.float32)
    noisy = flat + np.random.default_rng(3).normal(0, 10, flat.shape).astype(np.float32)
    assert float(total_variation_loss(flat)) == 0.0
    assert float(total_variation_loss(noisy)) == pytest.approx(2 * 2 * 10**2, rel=0.25)  # two neighbours, var 2σ²


def test_reduced_precision_keeps_variables_in_float32():
    features = FeatureModel(["block1_conv2"], weights=None, precision="bfloat16")
    assert all(variable.dtype == "float32" for variable in features.keras_model.weights)
    assert features(np.zeros((1, 8, 8, 3), np.float32))["block1_conv2"].dtype == "bfloat16"
    assert keras.config.dtype_policy().name == "float32"  # the global policy is restored
