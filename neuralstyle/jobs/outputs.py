"""Where a run's files go, and how they get there: checks that every path a run
writes can be written before it works, the locks that keep two runs off one
output, and `write_files`, which puts files in place whole or not at all.

Nothing here runs a model; `neuralstyle.jobs.pipeline` calls these before and
after its work, and the faces call them for files of their own (figures, GIFs,
a sweep's sheet).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import time
from pathlib import Path

from ..core import settings
from ..core.interrupts import current_guard, phase_reached, writing
from ..core.settings import SettingError
from .frames import FRAME_PATTERN
from .preload import check_backend
from .spec import RunSpec


def tile_folder(spec: RunSpec) -> Path:
    """Where a figure's tiles go: ``OUT_tiles/`` beside ``OUT.png``."""
    return spec.output.with_name(f"{spec.output.stem}_tiles")


def check_writable(path: Path, overwrite: bool, setting: str = "output") -> None:
    """`path` can be written: its folder exists and takes files, and it does not
    exist unless `overwrite`."""
    if path.is_dir():
        raise SettingError(setting, f"{path} is a directory")
    if os.path.lexists(path) and not path.exists():
        raise SettingError(setting, f"{path} is a link to nothing; remove it or choose another path")
    if path.exists() and not overwrite:
        raise SettingError(setting, f"{path} exists; pass ⟨overwrite⟩ to replace it")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise SettingError(setting, f"cannot write {path}: folder {folder} does not exist")
    try:  # a real write test: permission bits lie under root and on read-only mounts
        probe = folder / f".neuralstyle-probe-{os.getpid()}-{time.time_ns()}"
        probe.touch()
        probe.unlink()
    except OSError as error:
        raise SettingError(setting, f"cannot write to {folder} ({error.strerror})") from None


def check_folder(folder: Path, overwrite: bool, setting: str, holds: str) -> None:
    """A folder a run fills with files: not a file, and not already holding such files unless `overwrite`."""
    if folder.exists() and not folder.is_dir():
        raise SettingError(setting, f"⟨name⟩ {folder} exists and is not a folder")
    def taken(entry: Path) -> bool:  # a file a run of this kind would write
        if holds == "frames":
            return bool(FRAME_PATTERN.match(entry.name))
        return holds == "tiles" or entry.suffix.lower() in (".png", ".json")

    if folder.is_dir() and not overwrite and any(taken(entry) for entry in folder.iterdir()):
        raise SettingError(setting, f"{folder} already holds {holds}; pass ⟨overwrite⟩ or choose another folder")
    existing = next(parent for parent in [folder, *folder.parents] if os.path.lexists(parent) or parent == Path("."))
    if not existing.is_dir():
        raise SettingError(setting, f"cannot make ⟨name⟩ {folder}: {existing} is not a folder")
    check_writable(existing / f".neuralstyle-probe-{os.getpid()}", True, setting)


def check_outputs(spec: RunSpec) -> None:
    """The backend is usable, and every file and folder `spec` writes can be written."""
    check_backend()
    if spec.writes_folder:
        check_folder(spec.output, spec.overwrite, "output", "frames and a record")
        return
    for setting, path in (("output", spec.output), ("record", spec.record_path), ("gif", spec.gif)):
        if path is not None:
            check_writable(path, spec.overwrite, setting)
    if spec.frames is not None:
        check_folder(spec.frames, spec.overwrite, "frames", "frames")
    if spec.is_figure:
        check_folder(tile_folder(spec), spec.overwrite, "output", "tiles")


def check_own_outputs(spec: RunSpec) -> None:
    """The files a resumed run would replace are its own: the image and record its
    interruption wrote (the record unfinished, the image the one it names by sha256).
    SettingError naming the first that is not."""
    record = None
    if spec.record_path.is_file():
        try:
            record = json.loads(spec.record_path.read_text())
        except (OSError, ValueError, UnicodeDecodeError):
            record = None
    unfinished = isinstance(record, dict) and (not settings.ended_whole(record.get("stopped")) or record.get("error"))
    if spec.record_path.exists() and not unfinished:
        raise SettingError("overwrite", f"{spec.record_path} is not the interrupted run's record (another run "
                                        f"finished there since); resuming would replace it: move it away, or pass "
                                        f"⟨name⟩")
    if spec.output.exists():
        written = record.get("output", {}).get("sha256") if unfinished and isinstance(record.get("output"), dict) \
            else None
        if written is None or hashlib.sha256(spec.output.read_bytes()).hexdigest() != written:
            raise SettingError("overwrite", f"{spec.output} is not the interrupted run's image (another run wrote "
                                            f"it since); resuming would replace it: move it away, or pass ⟨name⟩")


@contextlib.contextmanager
def hold_lock(lock: Path, busy: SettingError):
    """Hold the lock file `lock` for the length of a job, or raise `busy` at once when
    another live process holds it (the system lets go when a process dies); the
    file goes at the end, and a signal guard knows to remove it if the process is cut short."""
    guard = current_guard()
    try:
        handle = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as error:
        raise SettingError(busy.setting, f"cannot write beside {lock.parent} ({error.strerror})") from None
    if guard is not None:
        guard.leftovers.add(str(lock))
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise busy from None
        try:
            yield
        finally:
            lock.unlink(missing_ok=True)
            if guard is not None:
                guard.leftovers.discard(str(lock))
    finally:
        os.close(handle)


def _lock_path(spec: RunSpec) -> Path:
    return spec.output.with_name(f".{spec.output.name}.neuralstyle-lock")


@contextlib.contextmanager
def claim(spec: RunSpec, exclusive: bool = False):
    """Hold `spec`'s output for the length of a run. Without `overwrite` (or when
    `exclusive`, as a resume is) a second run for the same output is refused at
    once (SettingError), before it works; with `overwrite` runs go on side by side
    and the last to write wins, whole."""
    if spec.overwrite and not exclusive:
        yield
        return
    with hold_lock(_lock_path(spec), SettingError("output", f"another neuralstyle run is making {spec.output}; "
                                                            f"wait for it, or choose another ⟨output⟩")):
        check_outputs(spec)  # the run that held it may have finished meanwhile
        yield


def write_files(files: list[tuple[Path, bytes]], overwrite: bool) -> None:
    """Write (path, bytes) pairs as one unit: each whole to a temporary file beside
    its target first; only when all are written are they moved into place, in
    order (a record last). Without `overwrite` a file that appeared meanwhile is
    never replaced (SettingError); a failure (a full disk, say: OSError) leaves no
    partial file and the earlier versions in place. A second signal waits."""
    folder = files[-1][0].parent
    # Runs with overwrite may finish together: one at a time moves its files in, so each image keeps its record.
    with writing(), (_folder_lock(folder) if overwrite and folder.is_dir() else contextlib.nullcontext()):
        for parent in sorted({path.parent for path, _ in files}):
            parent.mkdir(parents=True, exist_ok=True)
        temporaries: list[tuple[Path, Path]] = []
        try:
            for path, data in files:
                temporary = path.with_name(f".{path.name}.{os.getpid()}.part")
                temporaries.append((temporary, path))
                with open(temporary, "wb") as file:
                    file.write(data)
                    file.flush()
                    os.fsync(file.fileno())
                os.chmod(temporary, 0o666 & ~_umask())
            phase_reached("writing")
            if not overwrite:
                for _, path in temporaries:
                    if os.path.lexists(path):
                        raise SettingError("output", f"{path} appeared while the run went on; pass ⟨overwrite⟩ "
                                                     f"to replace it")
            for temporary, path in temporaries:
                if overwrite:
                    os.replace(temporary, path)
                else:
                    os.link(temporary, path)  # fails if `path` exists: never clobber
                    os.unlink(temporary)
        finally:
            for temporary, _ in temporaries:
                temporary.unlink(missing_ok=True)


@contextlib.contextmanager
def _folder_lock(folder: Path):
    """An exclusive lock on a folder among processes, held briefly (the system
    releases it when a process dies)."""
    handle = os.open(folder if str(folder) else ".", os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
