"""Where the cells of a sweep or a folder batch run: in this process, one after
another, or as Ray tasks on a cluster (the optional ``cluster`` extra).

Both engines run the same function, `run_cell`, on the same `CellJob`: a
checked `RunSpec` with its inputs as bytes and their sha256 (no shared
filesystem is assumed; a worker checks the hashes before it decodes), and
give back a `CellReport` holding the pipeline's `Outcome` (the image and the
record as data) or why the cell failed. The driver writes the files.

On Ray each cell is a task asking for ``cpus_per_cell`` CPUs, retried
`RETRIES` times if its worker or node dies. Ray keeps a node's worker
processes between tasks, and `neuralstyle.core.synthesis` keeps the model and the
style Gram matrices per process, so a worker builds the model once and
computes a style's targets once. Tasks rather than actors: an actor holds its
CPU for its life, so an actor restarted after its node died waits for a CPU
that the other actors never give back, and the cell it was running never
finishes; a task is simply run again wherever a CPU frees.
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..core.hardware import cpu_limit
from ..core.images import decode_image, read_file
from ..core.settings import SettingError
from .inputs import InputImage
from .pipeline import Outcome, Plan, execute
from .spec import RunSpec

RETRIES = 3  # times a cell is run again after its worker or node died (Ray's max_retries)
INSTALL = "--ray needs Ray: pip install 'neuralstyle-keras[cluster]' (in a clone: pip install -e '.[cluster]')"


@dataclass(frozen=True)
class CellJob:
    """One cell as it travels to a worker: the spec (paths absolute), and for each
    input (role, path, sha256) in the order of the bytes sent with it; `roles`
    lists every role the run has, empty ones too. `memory_bytes` and
    `description` come from the driver's `pipeline.prepare`."""

    index: int
    spec: RunSpec
    inputs: tuple[tuple[str, str, str], ...]
    roles: tuple[str, ...]
    memory_bytes: float
    description: str


@dataclass
class CellReport:
    """What became of a cell: its `Outcome`, or `error` (one line) and no outcome;
    `worker` names the host and process that ran it, `seconds` its wall time."""

    index: int
    outcome: Outcome | None = field(default=None, repr=False)
    error: str | None = None
    worker: str = ""
    seconds: float = 0.0


def job_for(index: int, plan: Plan, read: Callable[[Path], bytes]) -> tuple[CellJob, list[bytes]]:
    """A prepared run as a `CellJob` and its inputs' bytes (`read(path)`, checked
    against the sha256 that `prepare` took: a file changed since is refused)."""
    inputs, blobs = [], []
    for role, items in plan.inputs.items():
        for item in items:
            data = read(item.path)
            if hashlib.sha256(data).hexdigest() != item.sha256:
                raise SettingError(role, f"{item.path} changed while the sweep was being prepared; run it again")
            inputs.append((role, str(item.path), item.sha256))
            blobs.append(data)
    return CellJob(index, plan.spec, tuple(inputs), tuple(plan.inputs), plan.memory_bytes, plan.description), blobs


def run_cell(job: CellJob, *blobs: bytes, callback=None) -> CellReport:
    """Run one cell where this process is: check and decode its inputs, find the
    weights (fetching them if this machine has none), run the pipeline
    (`callback(progress)` as `neuralstyle.jobs.pipeline.execute` takes it). Every
    failure becomes the result's `error`; a cell never raises, except
    `neuralstyle.core.interrupts.Interrupted` (a signal before its first iteration)."""
    from ..core.evaluator import NonFiniteLossError
    from ..core.images import ImageError
    from ..core.interrupts import Interrupted
    from ..core.weights import WeightsError, resolve_weights

    started = time.time()
    worker = f"{socket.gethostname()} pid {os.getpid()}"
    try:
        inputs: dict[str, list[InputImage]] = {role: [] for role in job.roles}
        for (role, path, sha256), data in zip(job.inputs, blobs, strict=True):
            if hashlib.sha256(data).hexdigest() != sha256:
                raise SettingError(role, f"{path} arrived damaged (its sha256 is not the one sent)")
            inputs[role].append(InputImage(Path(path), sha256, decode_image(data, path)))
        weights = resolve_weights(job.spec.model, job.spec.weights, download=True)
        plan = Plan(job.spec, inputs, weights, job.memory_bytes, job.description)
        outcome = execute(plan, callback, keep_checkpoints=False)
    except Interrupted:
        raise
    except SettingError as error:
        return CellReport(job.index, error=error.render(), worker=worker, seconds=time.time() - started)
    except (NonFiniteLossError, ImageError, WeightsError, MemoryError, OSError) as error:
        return CellReport(job.index, error=f"{type(error).__name__}: {error}", worker=worker,
                          seconds=time.time() - started)
    if outcome.error:  # a NaN mid-run: the cell failed (its best image is not kept)
        return CellReport(job.index, error=outcome.error, worker=worker, seconds=time.time() - started)
    return CellReport(job.index, outcome, worker=worker, seconds=time.time() - started)


def read_bytes(path: Path) -> bytes:
    """An input's bytes (ImageError if they cannot be read)."""
    return read_file(path, str(path))


# --- engines ----------------------------------------------------------------------------


class InProcess:
    """Cells one after another in this process, as `transfer FOLDER` runs them."""

    description = "in this process"

    def run(self, jobs: Iterable[tuple[CellJob, list[bytes]]], stop_requested: Callable[[], bool], *,
            on_start=None, callback=None) -> Iterator[CellReport]:
        """Run each job in turn, yielding its result; none starts once
        `stop_requested()`. `on_start(job)` is called before each, and
        `callback(job, progress)` sees every iteration and may stop the cell
        (`neuralstyle.jobs.pipeline.execute`'s convention)."""
        for job, blobs in jobs:
            if stop_requested():
                return
            if on_start is not None:
                on_start(job)
            yield run_cell(job, *blobs,
                           callback=(lambda progress, job=job: callback(job, progress)) if callback else None)

    def close(self) -> None:
        pass


def ray_cell(job: CellJob, *blobs: bytes, cpus: int = 1) -> CellReport:
    """`run_cell` inside a Ray worker: TensorFlow gets as many threads as the task has CPUs
    (unless TF_NUM_INTRAOP_THREADS says otherwise)."""
    import ray

    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", str(cpus))
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", str(cpus))
    result = run_cell(job, *blobs)
    result.worker += f", Ray node {ray.get_runtime_context().get_node_id()[:8]}"
    return result


class RayEngine:
    """Cells as Ray tasks. `address` 'local' starts Ray on this machine with
    `workers` CPUs (default: all); any other address (or 'auto', RAY_ADDRESS)
    joins that cluster. Each cell asks for `cpus_per_cell` CPUs."""

    def __init__(self, address: str, workers: int | None = None, cpus_per_cell: int = 1):
        self.ray = ray = start_ray(address, workers)
        self.cpus_per_cell = cpus_per_cell
        self.task = ray.remote(ray_cell).options(num_cpus=cpus_per_cell, max_retries=RETRIES,
                                                  retry_exceptions=False)
        nodes = [node for node in ray.nodes() if node.get("Alive")]
        cpus = sum(node.get("Resources", {}).get("CPU", 0) for node in nodes)
        self.workers = max(1, int(cpus // cpus_per_cell))
        self.description = (f"on Ray ({'local' if address == 'local' else address}): {len(nodes)} node(s), "
                            f"{cpus:g} CPUs, {self.workers} cell(s) at a time")

    def run(self, jobs: Iterable[tuple[CellJob, list[bytes]]], stop_requested: Callable[[], bool],
            **callbacks) -> Iterator[CellReport]:
        """Submit every job (each distinct input put into Ray's object store once),
        then yield results as cells finish; once `stop_requested()`, cancel the
        cells not yet finished and return. A cell on Ray reports no iterations
        (`callbacks` are the in-process engine's)."""
        ray = self.ray
        stored: dict[str, object] = {}
        pending: dict[object, CellJob] = {}
        for job, blobs in jobs:
            refs = []
            for (_, _, sha256), data in zip(job.inputs, blobs, strict=True):
                if sha256 not in stored:
                    stored[sha256] = ray.put(data)
                refs.append(stored[sha256])
            pending[self.task.remote(job, *refs, cpus=self.cpus_per_cell)] = job
        while pending:
            if stop_requested():
                for ref in pending:
                    ray.cancel(ref, force=True)
                return
            try:
                done, _ = ray.wait(list(pending), num_returns=1, timeout=0.25)
            except Exception:  # Ctrl-C at a terminal reaches a local Ray's own processes too
                if stop_requested():
                    return
                raise
            for ref in done:
                job = pending.pop(ref)
                try:
                    yield ray.get(ref)
                except ray.exceptions.RayError as error:  # retries used up, a cancelled task, a worker that crashed
                    yield CellReport(job.index, error=f"{type(error).__name__}: {' '.join(str(error).split())[:300]}")

    def close(self) -> None:
        self.ray.shutdown()


def start_ray(address: str, workers: int | None = None):
    """Ray, started on this machine with `workers` CPUs (address 'local'; default all)
    or joined to the cluster at `address` ('auto': RAY_ADDRESS), with the neuralstyle
    package shipped to its workers. SettingError in one line where it cannot be."""
    try:
        import ray
    except ImportError:
        raise SettingError("ray", INSTALL) from None
    package = Path(__file__).resolve().parents[1]  # the whole neuralstyle package
    options = dict(include_dashboard=False, log_to_driver=False, logging_level="ERROR",
                   runtime_env={"py_modules": [str(package)], "env_vars": {"PYTHONUNBUFFERED": "1"}})
    if address not in ("local", "auto"):
        reachable(address)
    sigterm = signal.getsignal(signal.SIGTERM)  # ray.init sets its own (sys.exit); the caller's guard keeps it
    try:
        if address == "local":
            ray.init(address="local", num_cpus=workers or cpu_limit(), **options)  # whatever RAY_ADDRESS says
        else:
            ray.init(address=address, **options)
    except (ConnectionError, RuntimeError, ValueError) as error:
        text = " ".join(str(error).split())
        hint = ("; a cluster with token authentication needs RAY_AUTH_MODE=token and its token here too "
                "(docs: sweeps.md)" if "uthentication" in text or "auth" in text.lower() else "")
        raise SettingError("ray", f"cannot reach a Ray cluster at ⟨name⟩ {address!r} ({text[:300]}){hint}") from None
    finally:
        signal.signal(signal.SIGTERM, sigterm)
    return ray


def reachable(address: str, seconds: float = 5) -> None:
    """Something listens at HOST:PORT (SettingError if not), so that a wrong
    ``--ray`` address fails in seconds instead of Ray's minutes of retries."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise SettingError("ray", f"⟨name⟩ {address!r} is not local, auto or HOST:PORT (the head node's GCS port)")
    try:
        socket.create_connection((host, int(port)), timeout=seconds).close()
    except OSError as error:
        raise SettingError("ray", f"nothing answers at ⟨name⟩ {address} ({error.strerror or error}); is the head "
                                  f"node started there (ray start --head --port {port})?") from None


def check_engine_options(ray_address: str | None, workers: int | None, cpus_per_cell: int) -> None:
    """``--workers`` and ``--cpus-per-cell`` make sense together with ``--ray`` (SettingError if not)."""
    if ray_address is None and workers not in (None, 1):
        raise SettingError("workers", f"⟨name⟩ {workers} needs ⟨ray⟩ local (here cells run one at a time)")
    if ray_address not in (None, "local") and workers is not None:
        raise SettingError("workers", "⟨name⟩ applies to ⟨ray⟩ local; a cluster has the CPUs its nodes give it")
    for setting, value in (("workers", workers), ("cpus_per_cell", cpus_per_cell)):
        if value is not None and value < 1:
            raise SettingError(setting, f"⟨name⟩ is {value}; it must be at least 1")


def engine(ray_address: str | None, workers: int | None = None, cpus_per_cell: int = 1):
    """The engine for ``--ray ADDRESS``: None runs cells in this process."""
    check_engine_options(ray_address, workers, cpus_per_cell)
    return InProcess() if ray_address is None else RayEngine(ray_address, workers, cpus_per_cell)
