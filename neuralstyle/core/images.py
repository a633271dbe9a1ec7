"""Images in and out of neuralstyle, and VGG's Caffe-style preprocessing.

The public image contract (what every API function takes and returns):

* **In:** a ``PIL.Image.Image`` of any mode (EXIF orientation is applied;
  grayscale, palette, CMYK and 16-bit images become RGB; an alpha channel is
  kept aside), or a numpy array of shape ``(H, W)``, ``(H, W, 3)`` (RGB) or
  ``(H, W, 4)`` (RGBA) with dtype ``uint8`` (0–255), ``uint16`` (0–65535) or
  float (**0–255**, not 0–1).
* **Out:** a numpy ``uint8`` array ``(H, W, 3)`` RGB, or ``(H, W, 4)`` RGBA when
  the content image had transparency.

Inside, pixels are float32 RGB 0–255, and the network sees *Caffe* tensors:
``(1, H, W, 3)`` float32, BGR channel order, ImageNet mean subtracted, 0–255
scale (what the original VGG weights were trained on).

This module needs numpy and Pillow only: it never imports TensorFlow.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

# The project's own painting (examples/make_painting.py), a style image that ships with the package.
DEMO_PAINTING = Path(__file__).resolve().parents[1] / "data" / "painting.png"
# NASA's photo of the astronaut Eileen Collins (public domain; neuralstyle/data/SOURCES.md), the demo's content image.
DEMO_PHOTO = Path(__file__).resolve().parents[1] / "data" / "astronaut.jpg"

# ImageNet channel means in BGR order, 0–255 scale (Caffe's VGG preprocessing).
IMAGENET_MEAN_BGR = np.array([103.939, 116.779, 123.68], dtype=np.float32)

# Refuse to decode images above this many pixels (decompression bombs): Pillow's
# own hard limit, which its Image.open enforces before we see the header.
MAX_INPUT_PIXELS = 2 * Image.MAX_IMAGE_PIXELS if Image.MAX_IMAGE_PIXELS else 178_956_970


class ImageError(ValueError):
    """An input that is not a usable image (missing, corrupt, wrong shape or range)."""


@dataclass
class RGBImage:
    """An image as float32 RGB ``(H, W, 3)`` in 0–255, and its alpha ``(H, W)`` 0–255 or None."""

    rgb: np.ndarray
    alpha: np.ndarray | None = None

    @property
    def height(self) -> int:
        return self.rgb.shape[0]

    @property
    def width(self) -> int:
        return self.rgb.shape[1]


def read_image(path: str | os.PathLike, name: str | None = None) -> Image.Image:
    """Open and fully decode an image file, or raise ImageError saying why not
    (naming it `name`, default its path)."""
    name = name or str(path)
    return decode_image(read_file(path, name), name)


def read_file(path: str | os.PathLike, name: str) -> bytes:
    """An input file's bytes, or ImageError saying why they cannot be read."""
    path = Path(path)
    if not path.exists():
        raise ImageError(f"no such file: {name}")
    if path.is_dir():
        raise ImageError(f"{name} is a directory, not an image")
    try:
        return path.read_bytes()
    except OSError as error:
        raise ImageError(f"cannot read {name} ({error.strerror})") from None


def decode_image(data: bytes, name: str) -> Image.Image:
    """Decode an image file's bytes (EXIF orientation applied), refusing one of
    more than `MAX_INPUT_PIXELS` pixels from its header, before decoding."""
    if not data:
        raise ImageError(f"{name} is empty (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the limit below is ours
            with Image.open(io.BytesIO(data)) as image:  # reads the header only
                width, height = image.size
                if width * height > MAX_INPUT_PIXELS:
                    raise ImageError(f"{name} is {width}x{height} px = {width * height:,} pixels; "
                                     f"the limit is {MAX_INPUT_PIXELS:,}")
                if width < 1 or height < 1:
                    raise ImageError(f"{name} is empty ({width}x{height} px)")
                image.load()
                return ImageOps.exif_transpose(image)  # so that every size check sees the upright image
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise ImageError(f"{name} is not an image Pillow can read") from None
    except Image.DecompressionBombError as error:  # Pillow's message has the count: "Image size (N pixels) …"
        count = re.search(r"\((\d+) pixels\)", str(error))
        size = f" ({int(count[1]):,} pixels)" if count else ""
        raise ImageError(f"{name}{size} has more than {MAX_INPUT_PIXELS:,} pixels; refusing to decode it") from None
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise ImageError(f"{name} is a corrupt or truncated image ({error})") from None


def _from_pil(image: Image.Image) -> RGBImage:
    image = ImageOps.exif_transpose(image) or image
    alpha = None
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        alpha = np.asarray(rgba, dtype=np.float32)[..., 3]
        if alpha.min() >= 255:
            alpha = None  # an alpha channel that is fully opaque carries nothing
        image = rgba.convert("RGB")
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N"):
        gray = np.asarray(image, dtype=np.float32)
        scale = 257.0 if gray.max() > 255 else 1.0  # 16-bit samples
        return RGBImage(np.repeat((gray / scale)[..., None], 3, axis=2), alpha)
    if image.mode == "F":
        gray = np.clip(np.asarray(image, dtype=np.float32), 0, 255)
        return RGBImage(np.repeat(gray[..., None], 3, axis=2), alpha)
    return RGBImage(np.asarray(image.convert("RGB"), dtype=np.float32), alpha)


def _from_array(array: np.ndarray) -> RGBImage:
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[2] not in (1, 3, 4):
        raise ImageError(f"image array has shape {array.shape}; expected (H, W), (H, W, 3) or (H, W, 4)")
    if array.dtype == np.uint16:
        pixels = array.astype(np.float32) / 257.0
    elif array.dtype == np.uint8:
        pixels = array.astype(np.float32)
    elif np.issubdtype(array.dtype, np.floating):
        pixels = array.astype(np.float32)
        if not np.isfinite(pixels).all():
            raise ImageError("image array holds NaN or infinite values")
        if pixels.size and 0 < pixels.max() <= 1.0:
            raise ImageError("float image values lie in 0–1; neuralstyle takes floats in 0–255 (multiply by 255)")
        if pixels.min() < 0 or pixels.max() > 255:
            raise ImageError(f"float image values span {pixels.min():g}…{pixels.max():g}; expected 0–255")
    else:
        raise ImageError(f"image array has dtype {array.dtype}; expected uint8, uint16 or float")
    alpha = None
    if pixels.shape[2] == 4:
        alpha = pixels[..., 3]
        pixels = pixels[..., :3]
        if alpha.min() >= 255:
            alpha = None
    if pixels.shape[2] == 1:
        pixels = np.repeat(pixels, 3, axis=2)
    return RGBImage(np.ascontiguousarray(pixels), None if alpha is None else np.ascontiguousarray(alpha))


def to_rgb(image) -> RGBImage:
    """Any image of the public contract (PIL image, array, or the path of an image file) as an RGBImage."""
    if isinstance(image, RGBImage):
        return image
    if isinstance(image, (str, os.PathLike)):
        image = read_image(image)
    if isinstance(image, Image.Image):
        result = _from_pil(image)
    elif isinstance(image, np.ndarray):
        result = _from_array(image)
    else:
        raise ImageError(f"expected a PIL image, a numpy array or a path, got {type(image).__name__}")
    if min(result.rgb.shape[:2]) < 1:
        raise ImageError(f"image is empty ({result.rgb.shape[1]}x{result.rgb.shape[0]} px)")
    return result


def _resize_channel(channel: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    # Pillow resamples float ("F") images without rounding to 8 bits.
    return np.asarray(Image.fromarray(channel, mode="F").resize(size, Image.Resampling.LANCZOS))


def resize(image: RGBImage, width: int, height: int) -> RGBImage:
    """`image` resampled (Lanczos, float precision) to exactly width x height px."""
    if (image.width, image.height) == (width, height):
        return image
    size = (int(width), int(height))
    rgb = np.stack([_resize_channel(image.rgb[..., c], size) for c in range(3)], axis=2)
    return RGBImage(np.clip(rgb, 0, 255).astype(np.float32), resize_alpha(image.alpha, *size))


def resize_alpha(alpha: np.ndarray | None, width: int, height: int) -> np.ndarray | None:
    """An alpha map ``(H, W)`` 0–255 resampled to width x height px (None stays None)."""
    if alpha is None or alpha.shape == (height, width):
        return alpha
    return np.clip(_resize_channel(alpha, (int(width), int(height))), 0, 255)


def fit_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """(width, height) scaled so that the longer side is `max_side`, keeping the
    aspect ratio (rounded to whole pixels, never below 1)."""
    scale = max_side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def resize_max_side(image: RGBImage, max_side: int) -> RGBImage:
    """`image` scaled so its longer side is `max_side` px, aspect ratio kept."""
    return resize(image, *fit_size(image.width, image.height, max_side))


def preprocess(rgb: np.ndarray) -> np.ndarray:
    """float RGB ``(H, W, 3)`` 0–255 → Caffe tensor ``(1, H, W, 3)`` float32, BGR, mean-subtracted."""
    return (rgb[..., ::-1].astype(np.float32) - IMAGENET_MEAN_BGR)[None]


def deprocess(tensor: np.ndarray) -> np.ndarray:
    """The exact inverse of `preprocess`: Caffe tensor ``(1, H, W, 3)`` or ``(H, W, 3)``
    → float32 RGB ``(H, W, 3)``, clipped to 0–255."""
    bgr = np.asarray(tensor, dtype=np.float32).reshape(tensor.shape[-3:]) + IMAGENET_MEAN_BGR
    return np.clip(bgr[..., ::-1], 0, 255)


def caffe_bounds(height: int, width: int) -> np.ndarray:
    """Per-value (low, high) bounds ``(H*W*3, 2)`` float64 that keep a flattened Caffe
    tensor inside the 0–255 pixel range, for L-BFGS-B."""
    low = np.broadcast_to(-IMAGENET_MEAN_BGR.astype(np.float64), (height, width, 3)).reshape(-1)
    return np.stack([low, low + 255.0], axis=1)


def to_uint8(rgb: np.ndarray, alpha: np.ndarray | None = None) -> np.ndarray:
    """float RGB 0–255 (and optional alpha) → ``uint8`` (H, W, 3) or (H, W, 4), rounded."""
    pixels = np.clip(np.rint(rgb), 0, 255).astype(np.uint8)
    if alpha is not None:
        pixels = np.concatenate([pixels, np.clip(np.rint(alpha), 0, 255).astype(np.uint8)[..., None]], axis=2)
    return pixels


def to_uint16(rgb: np.ndarray, alpha: np.ndarray | None = None) -> np.ndarray:
    """float RGB 0–255 (and optional alpha) → ``uint16`` (H, W, 3) or (H, W, 4) 0–65535, rounded:
    the optimised image without the 8-bit rounding, for 16-bit files."""
    scale = 65535.0 / 255.0
    pixels = np.clip(np.rint(np.asarray(rgb, np.float64) * scale), 0, 65535).astype(np.uint16)
    if alpha is not None:
        channel = np.clip(np.rint(np.asarray(alpha, np.float64) * scale), 0, 65535).astype(np.uint16)
        pixels = np.concatenate([pixels, channel[..., None]], axis=2)
    return pixels


def to_pil(pixels: np.ndarray) -> Image.Image:
    """A ``uint8`` (H, W, 3|4) array as a PIL image (RGB or RGBA)."""
    return Image.fromarray(pixels, mode="RGBA" if pixels.shape[2] == 4 else "RGB")


def encode_image(pixels: np.ndarray, format: str) -> bytes:
    """A ``uint8`` (H, W, 3|4) array encoded as PNG, JPEG, WebP or TIFF bytes; a
    ``uint16`` one as a 16-bit TIFF (tifffile: Pillow writes 8-bit RGB only), or
    rounded to 8 bits for the other formats. JPEG has no transparency, so RGBA
    is flattened onto white there."""
    format = format.upper().replace("JPG", "JPEG")
    if format == "TIFF":
        import tifffile

        buffer = io.BytesIO()
        tifffile.imwrite(buffer, pixels, photometric="rgb", compression="zlib",
                         extrasamples=["unassalpha"] if pixels.shape[2] == 4 else None)
        return buffer.getvalue()
    if pixels.dtype == np.uint16:
        pixels = np.rint(pixels / 257.0).astype(np.uint8)
    image = to_pil(pixels)
    if format == "JPEG" and image.mode == "RGBA":
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.getchannel("A"))
        image = background
    buffer = io.BytesIO()
    options = {"quality": 95} if format in ("JPEG", "WEBP") else {}
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


SAVE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".tif": "TIFF", ".tiff": "TIFF"}


def output_format(path: str | os.PathLike) -> str:
    """The format an output's suffix asks for ('PNG', 'JPEG', 'WEBP', 'TIFF': 16 bits a channel), or ImageError."""
    suffix = Path(path).suffix.lower()
    if suffix not in SAVE_FORMATS:
        raise ImageError(f"cannot save {path}: unknown image type {suffix!r}; use one of {', '.join(SAVE_FORMATS)}")
    return SAVE_FORMATS[suffix]


def write_atomically(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same folder and a
    rename, so that `path` is never left half-written."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent or ".")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp's 0600 would hide the image from other users
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def save_image(path: str | os.PathLike, pixels: np.ndarray) -> None:
    """Save a ``uint8`` image array to `path` (format from the suffix: .png, .jpg, .webp), atomically."""
    write_atomically(path, encode_image(pixels, output_format(path)))
