"""--device: every computing command and the Python API choose where to compute;
a GPU's memory shapes the plan; a GPU that is not there, or one that runs out of
memory, ends in one line."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest
from commands import command_parameters
from sample_images import SAMPLES, sample_rgb

from neuralstyle.cli.main import run_command
from neuralstyle.core import settings
from neuralstyle.core.settings import SettingError
from neuralstyle.jobs import pipeline
from neuralstyle.jobs.spec import RunSpec

PHOTO = SAMPLES / "photo.png"
PAINTING = SAMPLES / "painting.png"
COMPUTING = ["transfer", "content", "style", "inspect", "figure reconstructions", "figure tradeoff",
             "figure styles"]


def test_every_command_that_computes_takes_a_device():
    commands = command_parameters()
    assert [name for name in COMPUTING if "device" not in commands[name]] == []


@pytest.mark.parametrize("given, canonical", [("auto", "auto"), ("CPU", "cpu"), ("gpu", "gpu:0"), ("gpu:3", "gpu:3")])
def test_a_device_is_auto_cpu_or_a_numbered_gpu(given, canonical):
    assert settings.device(given) == canonical
    assert RunSpec(content="a.png", styles=["b.png"], output="c.png", device=given).device == canonical


@pytest.mark.parametrize("given", ["tpu", "cpu:1", "gpu:-1", "gpu:x", 0, None])
def test_an_unknown_device_is_refused_naming_what_is_allowed(given):
    with pytest.raises(SettingError, match="auto, cpu, gpu, gpu:N"):
        settings.device(given)


def test_a_bad_device_on_the_command_line_is_one_line_before_tensorflow_loads(tmp_path):
    code = ("import sys; from neuralstyle.cli.main import run_command; "
            f"code = run_command(['transfer', {str(PHOTO)!r}, {str(PAINTING)!r}, '-o', {str(tmp_path / 'o.png')!r}, "
            "'--device', 'tpu']); print(code, 'tensorflow' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.split() == ["2", "False"]
    assert result.stderr.strip().splitlines() == [
        "neuralstyle: error: unknown --device 'tpu'; choose auto, cpu, gpu, gpu:N (N: the GPU's number, from 0)"]


def test_a_gpu_that_is_not_there_is_one_line_and_exit_2(tmp_path):
    from neuralstyle.core import backend

    if backend.gpu_count():
        pytest.skip("this machine has a GPU")
    result = subprocess.run([sys.executable, "-m", "neuralstyle", "transfer", str(PHOTO), str(PAINTING), "-o",
                             str(tmp_path / "o.png"), "--size", "48", "--iterations", "1", "--device", "gpu:1"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and "device 'gpu:1'" in errors[0] and "sees no GPU" in errors[0]
    assert not (tmp_path / "o.png").exists()


def test_the_python_api_runs_on_the_device_it_is_given_and_says_so():
    from neuralstyle import transfer
    from neuralstyle.core.backend import DeviceError

    result = transfer(sample_rgb("photo.png", 48), sample_rgb("painting.png", 48), size=48, iterations=2,
                      device="cpu")
    assert result.settings["device"] == "cpu" and max(result.image.shape[:2]) == 48
    auto = transfer(sample_rgb("photo.png", 48), sample_rgb("painting.png", 48), size=48, iterations=2)
    assert auto.settings["device"] in ("cpu", "gpu:0")
    with pytest.raises(DeviceError, match="gpu:7"):
        transfer(sample_rgb("photo.png", 48), sample_rgb("painting.png", 48), size=48, iterations=2, device="gpu:7")


def test_auto_takes_the_first_gpu_the_backend_sees_and_reports_its_memory(monkeypatch):
    from neuralstyle.core import backend

    monkeypatch.setattr(backend, "gpu_count", lambda: 2)
    monkeypatch.setattr(backend, "gpu_memory", lambda index: (30 * 10**9, 80 * 10**9))
    monkeypatch.setattr(backend, "_gpu_name", lambda index=0: f"Test GPU {index}")
    assert backend.resolve_device("auto").setting == "gpu:0"
    second = backend.resolve_device("gpu:1")
    assert (second.kind, second.index, second.free) == ("gpu", 1, 30 * 10**9)
    assert "GPU 1 (Test GPU 1, 80.0 GB, 30.0 GB free)" in second.describe()
    with pytest.raises(backend.DeviceError, match="gpu:0 … gpu:1"):
        backend.resolve_device("gpu:2")
    assert backend.resolve_device("cpu").kind == "cpu"


def _gpu(free_bytes: float):
    return types.SimpleNamespace(kind="gpu", free=free_bytes, describe=lambda: "GPU 0 (test)")


def test_a_gpus_free_memory_plans_the_run_whole_in_tiles_or_not_at_all(tmp_path):
    plan = pipeline.prepare(RunSpec(content=PHOTO, styles=[PAINTING], output=tmp_path / "o.png", size=1024),
                            fetch_weights=False)
    assert plan.memory.tile_for(*plan.sizes[-1]) is None  # the host has room for the whole image
    roomy = pipeline.plan_for_device(plan, _gpu(80e9))
    assert roomy.memory.tile_for(*plan.sizes[-1]) is None
    small = pipeline.plan_for_device(plan, _gpu(1e9))
    assert small.memory.tile_for(*plan.sizes[-1]) is not None  # the same print runs in exact tiles
    with pytest.raises(SettingError, match="on GPU 0"):
        pipeline.plan_for_device(plan, _gpu(1e6))
    # A budget the user gave is theirs; the CPU is planned as before.
    given = pipeline.prepare(RunSpec(content=PHOTO, styles=[PAINTING], output=tmp_path / "p.png", size=1024,
                                     max_memory="20GB"), fetch_weights=False)
    assert pipeline.plan_for_device(given, _gpu(1e9)) is given
    assert pipeline.plan_for_device(plan, types.SimpleNamespace(kind="cpu", free=None)) is plan


def test_a_device_out_of_memory_mid_run_ends_in_one_line_and_writes_nothing(tmp_path, monkeypatch, capsys):
    from neuralstyle.core import evaluator, steps

    real = steps.gradient_step

    def exhausted(*args, **kwargs):
        step = real(*args, **kwargs)

        def run(*arguments):
            if run.calls >= 2:
                raise MemoryError("OOM when allocating tensor with shape[1,64,48,48] (simulated)")
            run.calls += 1
            return step(*arguments)

        run.calls = 0
        return run

    monkeypatch.setattr(evaluator, "gradient_step", exhausted)
    code = run_command(["transfer", str(PHOTO), str(PAINTING), "-o", str(tmp_path / "o.png"), "--size", "48",
                        "--iterations", "5", "--quiet"])
    errors = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == 1
    assert len(errors) == 1 and errors[0].startswith("neuralstyle: error: the device ran out of memory")
    assert "--max-memory" in errors[0] and not (tmp_path / "o.png").exists()


def test_an_out_of_memory_error_of_each_backend_is_recognised():
    from neuralstyle.core import steps

    assert steps.is_out_of_memory(MemoryError())
    assert steps.is_out_of_memory(RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB"))
    assert steps.is_out_of_memory(RuntimeError("RESOURCE_EXHAUSTED: Out of memory while trying to allocate"))
    assert not steps.is_out_of_memory(ValueError("shapes do not match"))
    if steps.BACKEND == "tensorflow":
        assert steps.is_out_of_memory(steps.tf.errors.ResourceExhaustedError(None, None, "OOM"))
