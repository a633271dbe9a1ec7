"""The VGG feature model: named ``block{b}_conv{c}`` outputs of VGG16 or VGG19.

Built from ``keras.applications`` with ``weights=None``, loaded with the
resolved weights, and cut after the deepest layer a run reads, so that no time
goes into layers nobody looks at.
"""

from __future__ import annotations

from . import settings
from .backend import BACKEND, keras, resolve_precision
from .layers import check_layers, check_model, conv_layers, deepest
from .weights import Weights, resolve_weights

ops = keras.ops

_APPLICATIONS = {"vgg16": keras.applications.VGG16, "vgg19": keras.applications.VGG19}
# Keras's torch backend copies every NHWC activation into NCHW and back around
# each convolution and pooling; a channels-first model has no such copies
# (benchmarks/README.md). The model's inputs and outputs stay NHWC.
DATA_FORMAT = "channels_first" if BACKEND == "torch" else "channels_last"
_IMAGE_SHAPE = (3, None, None) if DATA_FORMAT == "channels_first" else (None, None, 3)


def keras_application(model: str) -> keras.Model:
    """keras.applications' VGG16 or VGG19 without its top, random weights, in DATA_FORMAT."""
    previous = keras.config.image_data_format()
    keras.config.set_image_data_format(DATA_FORMAT)
    try:
        return _APPLICATIONS[check_model(model)](include_top=False, weights=None, input_shape=_IMAGE_SHAPE)
    finally:
        keras.config.set_image_data_format(previous)


class FeatureModel:
    """Maps a Caffe tensor ``(1, H, W, 3)`` (BGR, mean-subtracted, 0–255) to the
    ReLU outputs of `layers`, a dict ``name -> (1, H/stride, W/stride, C)``
    (float32, or bfloat16/float16 with that `precision`).

    `weights` is a resolved `Weights` or a source for `resolve_weights`
    ('auto', 'imagenet', 'imagenet-q8', a .h5 path, or None for random weights,
    which only tests should want). `pooling` 'avg' swaps VGG's max pooling for
    average pooling, which Gatys et al. found gives smoother gradients.
    """

    def __init__(self, layers, *, model: str = "vgg19", weights="auto", pooling: str = "max",
                 precision: str = "float32"):
        self.model_name = check_model(model)
        self.layers = list(dict.fromkeys(check_layers(self.model_name, layers)))
        self.pooling = settings.choice("pooling", pooling, settings.POOLINGS)
        # 'auto' becomes what this machine runs fastest (neuralstyle.core.hardware).
        self.precision = resolve_precision(settings.choice("precision", precision, settings.PRECISIONS))[0]
        if weights is None:
            self.weights = None
        else:
            self.weights = weights if isinstance(weights, Weights) else resolve_weights(self.model_name, weights)
            if self.weights.model != self.model_name:
                raise ValueError(f"weights are for {self.weights.model.upper()}, the model is {self.model_name.upper()}")
        # Reduced precision is Keras mixed precision: variables stay float32, the
        # convolutions compute in bfloat16/float16; the losses cast back to float32.
        previous_policy, previous_format = keras.config.dtype_policy(), keras.config.image_data_format()
        keras.config.set_dtype_policy("float32" if self.precision == "float32" else f"mixed_{self.precision}")
        keras.config.set_image_data_format(DATA_FORMAT)
        try:
            if self.weights is None or self.weights.layers is not None:
                # Weights decoded here (or none): build only the layers a run reads, once, each
                # created with its weights, rather than the whole application, drawn at random.
                self.keras_model = self._truncated_vgg()
            else:  # a Keras .h5 file loads into the application's own topology
                full = keras_application(self.model_name)
                self.weights.apply(full)
                self.keras_model = self._truncate(full)
        finally:
            keras.config.set_dtype_policy(previous_policy)
            keras.config.set_image_data_format(previous_format)
        # Only the image is optimised: frozen weights keep autograd from holding
        # their gradient graph (torch) and the tape from watching them (TensorFlow).
        self.keras_model.trainable = False

    def _pooling(self, block: int):
        kind = keras.layers.AveragePooling2D if self.pooling == "avg" else keras.layers.MaxPooling2D
        return kind((2, 2), strides=(2, 2), data_format=DATA_FORMAT, name=f"block{block}_pool")

    def _truncated_vgg(self) -> keras.Model:
        """VGG's layers as keras.applications defines them (same names), up to the deepest one read."""
        last = deepest(self.model_name, self.layers)
        inputs = keras.Input(_IMAGE_SHAPE, name="caffe_image")
        x, outputs, block = inputs, {}, 1
        for layer in conv_layers(self.model_name):
            if layer.block != block:
                x, block = self._pooling(block)(x), layer.block
            given = {} if self.weights is None else self.weights.initializers(layer.name)
            # Created frozen: torch would otherwise make each weight a leaf needing a gradient, and moving
            # it onto the run's device would leave a copy whose flag can no longer be turned off.
            x = keras.layers.Conv2D(layer.channels, (3, 3), activation="relu", padding="same", name=layer.name,
                                    data_format=DATA_FORMAT, trainable=False, **given)(x)
            outputs[layer.name] = x
            if layer.name == last:
                break
        model = keras.Model(inputs, {name: outputs[name] for name in self.layers}, name=f"{self.model_name}_features")
        if self.weights is not None:
            # The weights' initializers have done their work; Keras's defaults keep the config clonable and saveable.
            for layer in model.layers:
                if "_conv" in layer.name:
                    layer.kernel_initializer = keras.initializers.get("glorot_uniform")
                    layer.bias_initializer = keras.initializers.get("zeros")
        return model

    def _truncate(self, full) -> keras.Model:
        last = deepest(self.model_name, self.layers)
        inputs = keras.Input(_IMAGE_SHAPE, name="caffe_image")
        x, outputs = inputs, {}
        for layer in full.layers[1:]:
            if self.pooling == "avg" and isinstance(layer, keras.layers.MaxPooling2D):
                layer = self._pooling(int(layer.name[len("block"):].split("_")[0]))
            x = layer(x)
            outputs[layer.name] = x
            if layer.name == last:
                break
        return keras.Model(inputs, {name: outputs[name] for name in self.layers}, name=f"{self.model_name}_features")

    def feature_shape(self, layer: str, height: int, width: int) -> tuple[int, int, int, int]:
        """The shape ``(1, h, w, C)`` of `layer`'s features for an image of ``height × width`` px
        (each 2×2 pooling before the layer's block floors a side's half)."""
        found = next((item for item in conv_layers(self.model_name) if item.name == layer), None)
        if found is None or layer not in self.layers:
            raise ValueError(f"this model does not output {layer!r}; it outputs {', '.join(self.layers)}")
        return (1, height // found.stride, width // found.stride, found.channels)

    def __call__(self, caffe_image):
        if DATA_FORMAT == "channels_last":
            return self.keras_model(caffe_image, training=False)
        outputs = self.keras_model(ops.transpose(caffe_image, (0, 3, 1, 2)), training=False)
        return {name: ops.transpose(output, (0, 2, 3, 1)) for name, output in outputs.items()}
