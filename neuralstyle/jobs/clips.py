"""A clip's files: reading a video (ffmpeg, bundled by imageio-ffmpeg; a GIF by
Pillow) or a folder of frames, checked before TensorFlow loads, and writing the
painted frames as a video with the clip's sound. The `video` extra brings
OpenCV and imageio-ffmpeg. Nothing here prints.
"""

from __future__ import annotations

import hashlib
import importlib
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from ..core import settings
from ..core.images import ImageError, decode_image
from ..core.settings import SettingError
from . import inputs

INSTALL = 'video needs OpenCV and ffmpeg: pip install "neuralstyle[video]" (in a clone: pip install -e ".[video]")'


def check_video_extra() -> None:
    """The `video` extra is installed (OpenCV for flow, imageio-ffmpeg for video files); else one line saying how."""
    missing = []
    for package, module in (("opencv-python-headless", "cv2"), ("imageio-ffmpeg", "imageio_ffmpeg")):
        try:
            importlib.import_module(module)
        except ImportError:  # also a broken install (a missing system library)
            missing.append(package)
    if missing:
        raise SettingError("content", f"{INSTALL} ({', '.join(missing)} not installed)")


@dataclass
class Clip:
    """The frames of a clip that a run paints: ``uint8`` RGB ``(H, W, 3)``, the
    range asked for; `names` are the output frames' file names."""

    path: Path
    frames: list[np.ndarray] = field(repr=False)
    names: list[str]
    start: int  # the first frame's index in the whole clip
    total: int  # frames in the whole clip
    fps: float
    sha256: str  # of the bytes of the frames read
    has_audio: bool = False

    @property
    def size(self) -> tuple[int, int]:
        return self.frames[0].shape[1], self.frames[0].shape[0]

    def record(self) -> dict:
        return {"path": str(self.path.resolve()), "sha256": self.sha256, "size": list(self.size),
                "frames": [self.start, self.start + len(self.frames)], "of": self.total, "fps": self.fps,
                "audio": self.has_audio}

    def first_image(self) -> inputs.InputImage:
        """The first frame as a run's content image (it sets the output's size; masks take its shape)."""
        return inputs.InputImage(self.path, self.sha256, Image.fromarray(self.frames[0]))


def _selected(setting_range: str | None, total: int, path: Path) -> range:
    start, end = settings.frame_range(setting_range) or (0, None)
    end = total if end is None else end
    if start >= total or end > total:
        raise SettingError("frame_range", f"⟨name⟩ {setting_range} is outside {path.name}, which has {total} "
                                          f"frames (0:{total})")
    return range(start, end)


def _folder_clip(path: Path, frame_range: str | None) -> Clip:
    files = sorted(entry for entry in path.iterdir() if entry.suffix.lower() in settings.IMAGE_SUFFIXES
                   and entry.is_file())
    if not files:
        raise SettingError("content", f"no frames ({', '.join(settings.IMAGE_SUFFIXES)}) in the folder {path}")
    selected = _selected(frame_range, len(files), path)
    digest, frames, size = hashlib.sha256(), [], None
    for index in selected:
        data = files[index].read_bytes()
        image = decode_image(data, files[index].name).convert("RGB")
        if size is None:
            size = image.size
        elif image.size != size:
            raise SettingError("content", f"{files[index].name} is {image.width}x{image.height} px and "
                                          f"{files[selected[0]].name} {size[0]}x{size[1]}: a clip's frames share one "
                                          f"size")
        digest.update(data)
        frames.append(np.asarray(image))
    names = [files[index].with_suffix(".png").name for index in selected]
    if len(set(names)) != len(names):
        raise SettingError("content", f"two frames in {path} share a name but for the suffix; rename one")
    return Clip(path, frames, names, selected[0], len(files), settings.VIDEO_FPS, digest.hexdigest())


def _gif_clip(path: Path, frame_range: str | None) -> Clip:
    data = path.read_bytes()
    decode_image(data, path.name)  # the checks of any input image (size, decompression bombs), on the first frame
    with Image.open(io.BytesIO(data)) as image:
        total = getattr(image, "n_frames", 1)
        selected = _selected(frame_range, total, path)
        pictures, durations = [], []
        for index in selected:
            image.seek(index)
            pictures.append(np.asarray(image.convert("RGB")))
            durations.append(image.info.get("duration", 0))
    fps = 1000.0 / np.mean(durations) if durations and np.mean(durations) > 0 else settings.VIDEO_FPS
    return Clip(path, pictures, [f"frame_{index:05d}.png" for index in selected], selected[0], total,
                round(float(fps), 3), hashlib.sha256(data).hexdigest())


def _video_clip(path: Path, frame_range: str | None) -> Clip:
    import imageio_ffmpeg

    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    try:
        reader = imageio_ffmpeg.read_frames(str(path))
        meta = next(reader)
        width, height = meta["size"]
        frames = []
        start, end = settings.frame_range(frame_range) or (0, None)
        total = 0
        for data in reader:
            if start <= total and (end is None or total < end):
                frames.append(np.frombuffer(data, np.uint8).reshape(height, width, 3).copy())
            total += 1
    except (OSError, RuntimeError, StopIteration, KeyError, ValueError) as error:
        raise SettingError("content", f"cannot read the video {path.name} "
                                      f"({str(error).strip().splitlines()[-1][:200] if str(error).strip() else type(error).__name__})") from None
    if total == 0:
        raise SettingError("content", f"the video {path.name} holds no frames")
    selected = _selected(frame_range, total, path)
    return Clip(path, frames, [f"frame_{index:05d}.png" for index in selected], selected[0], total,
                float(meta.get("fps") or settings.VIDEO_FPS), digest.hexdigest(),
                has_audio=bool(meta.get("audio_codec")))


def read_clip(path: Path, frame_range: str | None = None) -> Clip:
    """The frames of `path` (a video file or a folder of images sorted by name) in
    `frame_range` ('START:END'), checked: readable, not empty, one frame size, the
    range inside the clip. SettingError in one line otherwise."""
    path = Path(path)
    if not path.exists():
        raise SettingError("content", f"no video or folder {str(path)!r}")
    try:
        if path.is_dir():
            return _folder_clip(path, frame_range)
        suffix = path.suffix.lower()
        if suffix not in settings.VIDEO_SUFFIXES:
            raise SettingError("content", f"{path.name} is not a video ({', '.join(settings.VIDEO_SUFFIXES)}) or a "
                                          f"folder of frames")
        return _gif_clip(path, frame_range) if suffix == ".gif" else _video_clip(path, frame_range)
    except ImageError as error:
        raise SettingError("content", str(error)) from None
    except (OSError, EOFError, ValueError) as error:  # a GIF cut short ends early: Pillow's EOFError
        raise SettingError("content", f"cannot read {path} ({getattr(error, 'strerror', None) or error or 'truncated'})") from None


def encode_video(frames: list[np.ndarray], fps: float, suffix: str, audio_from: Path | None = None,
                 audio_start: float = 0.0) -> bytes:
    """The frames (``uint8`` RGB, one size) as a video file's bytes: a GIF by
    Pillow, else H.264 (VP9 for .webm) by imageio-ffmpeg's ffmpeg, with the audio
    of `audio_from` from `audio_start` seconds copied in where given. Their
    4:2:0 colour needs even sides: an odd side gets its last row or column
    repeated. OSError where ffmpeg writes nothing."""
    import tempfile

    if suffix == ".gif":
        from .frames import make_gif

        return make_gif(frames, duration_ms=round(1000 / fps), hold_last_ms=round(1000 / fps),
                        max_side=max(frames[0].shape[:2]))
    import subprocess

    import imageio_ffmpeg

    height, width = frames[0].shape[:2]
    even = ((0, height % 2), (0, width % 2), (0, 0))
    height, width = height + height % 2, width + width % 2
    with tempfile.TemporaryDirectory(prefix="neuralstyle-video-") as folder:
        silent, path = Path(folder) / f"silent{suffix}", Path(folder) / f"clip{suffix}"
        writer = imageio_ffmpeg.write_frames(str(silent), (width, height), fps=fps, quality=8, macro_block_size=1,
                                             codec="libvpx-vp9" if suffix == ".webm" else None,
                                             ffmpeg_log_level="error")
        writer.send(None)
        for frame in frames:
            writer.send(np.ascontiguousarray(np.pad(frame[..., :3], even, mode="edge")))
        writer.close()
        if not silent.is_file() or silent.stat().st_size == 0:
            raise OSError(f"ffmpeg wrote no {suffix} video of {width}x{height} px")
        if audio_from is None:
            return silent.read_bytes()
        # The input's sound from the clip's first frame on, cut where the frames end.
        command = [imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-y", "-i", str(silent),
                   "-ss", f"{audio_start:.6f}", "-i", str(audio_from), "-map", "0:v", "-map", "1:a?", "-c:v", "copy",
                   "-c:a", "libopus" if suffix == ".webm" else "aac", "-shortest", str(path)]
        done = subprocess.run(command, capture_output=True)
        return path.read_bytes() if done.returncode == 0 and path.exists() else silent.read_bytes()
