"""The loss-and-gradient step of each Keras backend, compiled once per shape.

TensorFlow takes the gradient with ``tf.GradientTape`` inside a ``tf.function``;
PyTorch with ``torch.autograd.grad``; JAX with ``jax.value_and_grad`` under
``jax.jit``, the weights passed as arguments. The `Evaluator` and the exact
tiled evaluation (`neuralstyle.core.tiles`) both run their passes through
`gradient_step` and `forward_step`.
"""

from __future__ import annotations

import numpy as np

from .backend import BACKEND, keras, tf

ops = keras.ops


def _tensorflow_step(feature_model, losses, shape, argument_shapes, outputs):
    def step(image, *arguments):
        with tf.GradientTape() as tape:
            tape.watch(image)
            features = feature_model(image)
            parts = losses(features, image, *arguments)
        return (tf.stack(parts), tape.gradient(parts[0], image), *(features[name] for name in outputs))

    # A fixed shape gets one trace; without one (tiles), each new shape gets its own.
    signature = None if shape is None else [tf.TensorSpec(item, tf.float32) for item in (shape, *argument_shapes)]
    compiled = tf.function(step, input_signature=signature, autograph=False)

    def run(image, *arguments):
        parts, gradient, *features = compiled(image, *arguments)
        return (parts.numpy(), gradient.numpy(), *features)

    return run


def _torch_step(feature_model, losses, shape, argument_shapes, outputs):
    import torch

    def step(image, *arguments):
        image = ops.convert_to_tensor(image).requires_grad_(True)  # on Keras's device (the GPU when there is one)
        features = feature_model(image)
        parts = losses(features, image, *(ops.convert_to_tensor(value) for value in arguments))
        (gradient,) = torch.autograd.grad(parts[0], image)  # the image's gradient only, not the weights'
        return (torch.stack(parts).detach().cpu().numpy(), gradient.cpu().numpy(),
                *(features[name].detach() for name in outputs))

    return step


def _jax_weights(feature_model):
    model = feature_model.keras_model
    return model, [variable.value for variable in model.trainable_variables], \
        [variable.value for variable in model.non_trainable_variables]


def _jax_step(feature_model, losses, shape, argument_shapes, outputs):
    import jax

    model, trainable, non_trainable = _jax_weights(feature_model)

    def total(image, trainable, non_trainable, *arguments):
        features, _ = model.stateless_call(trainable, non_trainable, image, training=False)
        parts = losses(features, image, *arguments)
        return parts[0], (ops.stack(parts), [features[name] for name in outputs])

    # The weights are arguments, not constants folded into the compiled program.
    value_and_grad = jax.jit(jax.value_and_grad(total, has_aux=True))

    def step(image, *arguments):
        (_, (parts, features)), gradient = value_and_grad(image, trainable, non_trainable, *arguments)
        return (np.asarray(parts), np.asarray(gradient), *features)

    return step


_GRADIENT_STEPS = {"tensorflow": _tensorflow_step, "torch": _torch_step, "jax": _jax_step}


def gradient_step(feature_model, losses, shape=None, argument_shapes=(), outputs=()):
    """This backend's compiled step: ``step(image, *arguments)`` takes a float32
    NHWC Caffe array (of `shape`, when given) and float32 arrays (of
    `argument_shapes`, when `shape` is given), and returns
    (``losses(features, image, *arguments)`` as a numpy array, the gradient of
    its first entry with respect to the image), followed by the features of
    the layers named in `outputs` as backend tensors."""
    return _GRADIENT_STEPS[BACKEND](feature_model, losses, shape, argument_shapes, outputs)


def forward_step(feature_model, outputs):
    """This backend's compiled forward pass, no gradient: ``step(image, *arguments)``
    returns ``outputs(features, *arguments)`` (a list of tensors) as numpy arrays."""
    if BACKEND == "tensorflow":
        compiled = tf.function(lambda image, *arguments: outputs(feature_model(image), *arguments), autograph=False)
        return lambda image, *arguments: [value.numpy() for value in compiled(image, *arguments)]
    if BACKEND == "torch":
        import torch

        def step(image, *arguments):
            with torch.no_grad():
                values = outputs(feature_model(ops.convert_to_tensor(image)),
                                 *(ops.convert_to_tensor(value) for value in arguments))
            return [value.cpu().numpy() for value in values]

        return step
    import jax

    model, trainable, non_trainable = _jax_weights(feature_model)
    compiled = jax.jit(lambda image, trainable, non_trainable, *arguments: outputs(
        model.stateless_call(trainable, non_trainable, image, training=False)[0], *arguments))
    return lambda image, *arguments: [np.asarray(value) for value in compiled(image, trainable, non_trainable,
                                                                                 *arguments)]


def is_out_of_memory(error: BaseException) -> bool:
    """Whether `error` is the backend's report that a device ran out of memory
    (TensorFlow's ResourceExhaustedError, torch's OutOfMemoryError, XLA's
    RESOURCE_EXHAUSTED, or a MemoryError)."""
    if isinstance(error, MemoryError):
        return True
    if BACKEND == "tensorflow" and isinstance(error, tf.errors.ResourceExhaustedError):
        return True
    if BACKEND == "torch":
        import torch

        if isinstance(error, torch.cuda.OutOfMemoryError):
            return True
    text = str(error)
    return "RESOURCE_EXHAUSTED" in text or "out of memory" in text.lower()
