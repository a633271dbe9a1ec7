"""Resumable checkpoints: where a run stood, kept beside its output.

``OUT.checkpoint.npz`` (for the output ``OUT.png``) holds the run's spec, the
sha256 of its inputs, the scale and iteration it had reached, its loss
history, the current image as a PNG and the optimiser's point (a flattened
Caffe tensor, float32). It is written whole to a temporary file and renamed
over the previous one, so a crash or a reboot at any moment leaves the last
whole checkpoint. A complete run removes it; an interrupted one keeps it for
``neuralstyle resume``. Read back with ``allow_pickle=False``: a crafted file
can fail to load, not run code.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.images import caffe_bounds, deprocess, encode_image, to_uint8
from ..core.interrupts import writing
from ..core.settings import SettingError, shown

SUFFIX = ".checkpoint.npz"
FORMAT = 1


def checkpoint_path(output: Path) -> Path:
    """Where the checkpoint of the run writing `output` lives: ``OUT.checkpoint.npz``."""
    output = Path(output)
    return output.with_name(output.stem + SUFFIX)


def find(path: Path) -> Path:
    """The checkpoint a user means by `path`: the checkpoint itself, or the output
    or record of its run (they share a stem)."""
    path = Path(path)
    if path.name.endswith(SUFFIX):
        return path
    return checkpoint_path(path)


@dataclass
class State:
    """A run's state at an iteration: see the module's docstring."""

    spec: dict  # RunSpec.to_record()
    inputs: dict  # role -> [sha256, ...]
    scale: int
    scale_iterations: int
    iterations: int
    evaluations: int
    seconds: float
    history: list
    x: np.ndarray  # float32, flattened Caffe tensor of `size`
    size: tuple[int, int]  # width, height of the scale reached


def save(path: Path, state: State) -> None:
    """Write `state` to `path` atomically (a temporary file, fsync, rename)."""
    width, height = state.size
    image = to_uint8(deprocess(state.x.reshape(height, width, 3)))
    meta = {"format": FORMAT, "spec": state.spec, "inputs": state.inputs, "scale": state.scale,
            "scale_iterations": state.scale_iterations, "iterations": state.iterations,
            "evaluations": state.evaluations, "seconds": state.seconds, "history": state.history,
            "size": [width, height]}
    temporary = path.with_name(f".{path.name}.{os.getpid()}.part")
    with writing():
        try:
            with open(temporary, "wb") as file:
                np.savez(file, meta=np.array(json.dumps(meta)), x=state.x.astype(np.float32),
                         image=np.frombuffer(encode_image(image, "PNG"), np.uint8))
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)


def load(path: Path) -> State:
    """Read a checkpoint; SettingError in one line for anything missing, crafted or damaged."""
    path = Path(path)
    if not path.is_file():
        raise SettingError("checkpoint", f"no checkpoint {str(path)!r}: the run finished (a complete run removes its "
                                         f"checkpoint), or it never reached its first checkpoint, or it ran with "
                                         f"--checkpoint-every 0")
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"][()]))
            x = np.array(data["x"])
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as error:
        raise SettingError("checkpoint", f"{path} is not a readable checkpoint ({shown(str(error))})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise SettingError("checkpoint", f"{path} is not a checkpoint of format {FORMAT}")
    try:
        width, height = (int(value) for value in meta["size"])
        state = State(spec=dict(meta["spec"]), inputs=dict(meta["inputs"]), scale=int(meta["scale"]),
                      scale_iterations=int(meta["scale_iterations"]), iterations=int(meta["iterations"]),
                      evaluations=int(meta["evaluations"]), seconds=float(meta["seconds"]),
                      history=list(meta["history"]), x=x, size=(width, height))
    except (KeyError, TypeError, ValueError) as error:
        raise SettingError("checkpoint", f"{path} lacks or garbles {shown(str(error))}") from None
    bounds = caffe_bounds(height, width)
    if (x.dtype != np.float32 or x.shape != (width * height * 3,) or not np.isfinite(x).all()
            or (x < bounds[:, 0] - 1e-3).any() or (x > bounds[:, 1] + 1e-3).any()):
        raise SettingError("checkpoint", f"{path}: its image is not a {width}x{height} picture")
    if min(state.scale, state.scale_iterations, state.iterations, state.evaluations) < 0:
        raise SettingError("checkpoint", f"{path}: negative counts")
    return state


def remove(path: Path) -> None:
    Path(path).unlink(missing_ok=True)
