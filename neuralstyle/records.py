"""Run records: the JSON written beside every output, one copy of the code for
the CLI and the web app, so that ``neuralstyle rerun OUT.json`` reproduces a run
made in either.

A record holds the command and its CLI arguments (``arguments`` are exactly the
keyword arguments of that CLI command, which is what `rerun` calls it with), the
inputs with their sha256, the weights, the device, the library versions and,
for a single run, the settings, the loss history and how it ended.
"""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

from . import __version__
from .images import write_atomically
from .weights import sha256_of

RECORD_VERSION = 1


def record_path(output: Path) -> Path:
    """The run record beside an output image: ``out.png`` → ``out.json``."""
    return Path(output).with_suffix(".json")


def versions() -> dict:
    import numpy
    import PIL
    import scipy

    from .backend import BACKEND, backend_version, keras

    return {"neuralstyle": __version__, "python": platform.python_version(), BACKEND: backend_version(),
            "keras": keras.__version__, "keras_backend": BACKEND, "numpy": numpy.__version__, "scipy": scipy.__version__,
            "pillow": PIL.__version__}


def jsonable(value):
    if isinstance(value, Path):
        return str(value.resolve())
    if isinstance(value, list):
        return [jsonable(item) for item in value]
    return value


def base_record(command: str, arguments: dict, inputs: dict, images: dict, weights, device: str) -> dict:
    """What every run record holds: the command and its arguments, the inputs
    with their sha256, the weights, the device and the library versions."""
    return {
        "neuralstyle_record": RECORD_VERSION,
        "command": command,
        "arguments": {key: jsonable(value) for key, value in arguments.items()},
        "inputs": {role: [{"path": str(path.resolve()), "sha256": sha256_of(path), "size": list(image.size)}
                          for path, image in zip(inputs[role], images[role])] for role in inputs},
        "weights": weights.record(),
        "device": device,
        "versions": versions(),
    }


def run_record(command: str, arguments: dict, inputs: dict[str, list[Path]], images: dict, weights, device: str,
               result, *, frames: list[Path], gif: Path | None, started: float) -> dict:
    """The record of one `transfer`, `content` or `style` run (`result` is the
    synthesis Result; `arguments["output"]` the image written; `started` a
    ``time.time()``)."""
    output = Path(arguments["output"])
    return {
        **base_record(command, arguments, inputs, images, weights, device),
        "settings": result.settings,
        "output": {"path": str(output.resolve()), "size": [result.image.shape[1], result.image.shape[0]]},
        "frames": [str(path) for path in frames],
        "gif": str(gif) if gif is not None and frames else None,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "wall_seconds": round(time.time() - started, 3),
        "optimizer_seconds": round(result.seconds, 3),
        "iterations": result.iterations,
        "evaluations": result.evaluations,
        "final_loss": result.loss,
        "stopped": result.stopped,
        "interrupted": result.interrupted,
        "error": result.error,
        "history": result.history,
    }


def write_record(output: Path, record: dict) -> Path:
    """Write `record` beside `output` (atomically); return its path."""
    path = record_path(output)
    write_atomically(path, json.dumps(record, indent=1).encode())
    return path
