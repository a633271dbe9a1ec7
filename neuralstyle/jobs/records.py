"""Run records: the JSON written beside every output, one copy of the code for
the CLI and the web app, so that ``neuralstyle rerun OUT.json`` reproduces a run
made in either.

A record holds the command, the run's `RunSpec` (``arguments``, with its schema
version; `read_record` turns it back into a spec, migrating first-format
records), the inputs with their sha256, the weights, the device, the library
versions, the output (its path, size and sha256) and, for a single run, the
settings, the loss history and how it ended.
"""

from __future__ import annotations

import functools
import hashlib
import json
import platform
import re
import time
from pathlib import Path

from .. import __version__
from ..core.images import SAVE_FORMATS
from ..core.settings import SettingError, cut, shown

RECORD_VERSION = 2  # 1: arguments were the CLI command's; 2: the serialised RunSpec
# A record holds settings, hashes and one history entry per iteration: a few MB even for long runs.
MAX_RECORD_BYTES = 64 * 2**20
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def duration(seconds: float) -> str:
    """A record's time as a person reads it: '42 s', or '3.5 min' from 90 s on."""
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


@functools.cache
def code_fingerprint() -> str:
    """The first 16 hex digits of the sha256 of this package's Python source (each file's path and
    bytes): two runs with the same fingerprint ran the same neuralstyle code, whatever its version says."""
    package = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def versions() -> dict:
    import numpy
    import PIL
    import scipy

    from ..core.backend import BACKEND, backend_version, keras

    return {"neuralstyle": __version__, "neuralstyle_code": code_fingerprint(), "python": platform.python_version(),
            BACKEND: backend_version(), "keras": keras.__version__, "keras_backend": BACKEND,
            "numpy": numpy.__version__, "scipy": scipy.__version__, "pillow": PIL.__version__}


def base_record(spec, inputs: dict, weights, device: str) -> dict:
    """What every run record holds: the command, the serialised `RunSpec`
    (``arguments``), the inputs with the sha256 of the bytes read, the weights,
    the device and the library versions. `inputs` maps a role to
    `neuralstyle.jobs.inputs.InputImage`s."""
    return {
        "neuralstyle_record": RECORD_VERSION,
        "command": spec.command,
        "arguments": spec.to_record(),
        "inputs": {role: [item.record() for item in items] for role, items in inputs.items()},
        "weights": weights.record(),
        "device": device,
        "versions": versions(),
    }


def run_record(spec, inputs: dict, weights, device: str, result, *, frames: list[Path], gif: Path | None,
               started: float) -> dict:
    """The record of one `transfer`, `content` or `style` run (`result` is the
    synthesis Result; `started` a ``time.time()``)."""
    return {
        **base_record(spec, inputs, weights, device),
        "settings": result.settings,
        "output": {"path": str(Path(spec.output).resolve()), "size": [result.image.shape[1], result.image.shape[0]]},
        "frames": [str(path) for path in frames],
        "gif": str(gif) if gif is not None else None,
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


def inspect_record(arguments: dict, inputs: dict, weights, device: str, figure, output: Path, encoded: bytes) -> dict:
    """The record of ``neuralstyle inspect`` (not a run: `rerun` refuses it): its
    arguments, input, weights, device, versions, output and each tile's numbers."""
    return {
        "neuralstyle_record": RECORD_VERSION,
        "command": "inspect",
        "arguments": {key: str(Path(value).resolve()) if isinstance(value, Path) else value
                      for key, value in arguments.items()},
        "inputs": {role: [item.record() for item in items] for role, items in inputs.items()},
        "weights": weights.record(),
        "device": device,
        "versions": versions(),
        "output": {"path": str(Path(output).resolve()), "sha256": hashlib.sha256(encoded).hexdigest()},
        **figure.record(),
    }


def painted(data: dict) -> dict[str, str]:
    """The sha256 of what a record's run painted: {"image": …} for a single run (its output file),
    {frame name: …} for a clip (each frame's PNG, its last pass); empty where the record holds none."""
    if isinstance(data.get("clip"), dict):
        found = {}
        for entry in data.get("frames") if isinstance(data.get("frames"), list) else []:
            if isinstance(entry, dict):  # a later pass over a frame replaces the earlier one
                found[str(entry.get("name"))] = entry.get("sha256")
    else:
        output = data.get("output")
        found = {"image": output.get("sha256") if isinstance(output, dict) else None}
    valid = all(isinstance(value, str) and _SHA256.match(value) for value in found.values())
    return found if found and valid else {}


def reproduction(recorded: dict, record: dict) -> tuple[bool | None, str]:
    """Whether a rerun (its `record`) painted what the run `recorded` describes did, bit for bit:
    True, False, or None where the two cannot be compared; and the line that says so, naming what
    the records say differs between the two runs (code, libraries, device, settings)."""
    before, now = painted(recorded), painted(record)
    clip = isinstance(recorded.get("clip"), dict)
    if not before or not now:
        return None, (f"the record holds no sha256 of its {'frames' if clip else 'image'}, so the new "
                      f"{'ones are' if clip else 'one is'} not compared with it")
    stopped = recorded.get("stopped")
    if recorded.get("interrupted") or recorded.get("error") or stopped in ("interrupted", "callback", "error"):
        return None, (f"the recorded run stopped early ({cut(str(stopped or 'on an error'))}"
                      + ("" if clip else f", iteration {cut(str(recorded.get('iterations', '?')))}")
                      + "); this one ran to its end, so the two are not compared")
    if not clip:
        formats = [SAVE_FORMATS.get(Path(str(data["output"].get("path", ""))).suffix.lower())
                   for data in (recorded, record)]
        if formats[0] != formats[1]:
            return None, (f"the new image is a {formats[1]} file and the recorded one a "
                          f"{formats[0] or 'file of no known type'}: their bytes differ whatever the pixels, so the "
                          "two are not compared")
    differing = [name for name in now if before.get(name) != now[name]] + [name for name in before if name not in now]
    if not differing:
        return True, (f"all {len(now)} frames are the recorded run's, bit for bit" if clip else
                      f"the image is the recorded run's, bit for bit (sha256 {now['image'][:12]}…)")

    def differences(old, new, most: int, kind: str) -> list[str]:
        old, new = ({name: item for name, item in value.items() if item is not None} if isinstance(value, dict)
                    else {} for value in (old, new))
        names = [name for name in dict.fromkeys([*old, *new]) if old.get(name) != new.get(name)]
        shown_names = names if len(names) <= most else names[:most - 1]
        return [f"{cut(str(name))} {cut(str(old.get(name, 'not recorded')))} -> "
                f"{cut(str(new.get(name, 'not recorded')))}" for name in shown_names] + \
            ([f"{len(names) - len(shown_names)} more {kind}"] if len(shown_names) < len(names) else [])

    # What decides the bits: the code and libraries, the device, then the settings as the run resolved them
    # (an edited record's, or the precision 'auto' chose on another machine).
    changed = (differences({**(recorded.get("versions") if isinstance(recorded.get("versions"), dict) else {}),
                            "device": recorded.get("device")},
                           {**record.get("versions", {}), "device": record.get("device")}, 8, "versions")
               + differences(recorded.get("settings"), record.get("settings"), 4, "settings"))
    resumed = recorded.get("resumed_at")
    why = "; ".join(changed) if changed else "the records name no difference in code, libraries, device or settings"
    what = (f"{len(differing)} of {len(before)} frames differ from the recorded run's (the first: "
            f"{cut(differing[0])})" if clip else f"the image differs from the recorded run's (sha256 "
                                                 f"{now['image'][:12]}… against {before['image'][:12]}…)")
    return False, (f"{what}: {why}" + (f"; the recorded run was interrupted and resumed at iteration {resumed}"
                                       if isinstance(resumed, int) else ""))


def read_record(path: Path) -> tuple[dict, object]:
    """A run record and the `neuralstyle.jobs.spec.RunSpec` it describes (checked, first-format records
    migrated). Raises SettingError for anything that is not a usable record."""
    from .spec import RunSpec

    try:
        size = Path(path).stat().st_size
        if size > MAX_RECORD_BYTES:  # refused before it is read: a record is a few MB at most
            raise SettingError("record", f"{path} is {size / 2**20:.0f} MiB; a neuralstyle run record is at most "
                                         f"{MAX_RECORD_BYTES // 2**20} MiB")
        data = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as error:
        if isinstance(error, SettingError):
            raise
        raise SettingError("record", f"{path} is not a neuralstyle run record ({type(error).__name__})") from None
    if not isinstance(data, dict) or "arguments" not in data:
        raise SettingError("record", f"{path} is not a neuralstyle run record (no arguments)")
    inputs = data.get("inputs", {})
    if not isinstance(inputs, dict) or not all(
            isinstance(entries, list) and all(isinstance(entry, dict) and isinstance(entry.get("sha256"), str)
                                              and _SHA256.match(entry["sha256"]) for entry in entries)
            for entries in inputs.values()):
        raise SettingError("record", f"{path}: its inputs are {shown(inputs)}, not each role's files with their "
                                     f"sha256; the inputs it ran on cannot be verified")
    version = data.get("neuralstyle_record")
    if type(version) is not int or version not in (1, RECORD_VERSION):
        raise SettingError("record", f"{path} has record version {shown(version)}; this version reads 1 and "
                                     f"{RECORD_VERSION}")
    try:
        spec = RunSpec.from_record(data["arguments"], data.get("command"), version)
    except (TypeError, OverflowError, RecursionError) as error:
        raise SettingError("record", f"{path} does not describe a run ({type(error).__name__}: {error})") from None
    except SettingError as error:
        raise SettingError("record", f"{path}: {error}") from None
    return data, spec
