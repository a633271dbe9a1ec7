"""benchmarks/gpu.py: its --quick smoke runs and prints its table, and on the jax and
torch paths it runs where TensorFlow cannot be imported (the bare GPU machine)."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "gpu.py"
COLUMNS = ["row", "backend", "device", "size", "optimizer", "precision", "iterations", "s / iteration",
           "whole run s", "whole process s"]


def _weights_here() -> bool:
    from neuralstyle.core.weights import find_cached_keras_file, find_q8_file

    return find_q8_file() is not None or find_cached_keras_file("vgg19") is not None


pytestmark = pytest.mark.skipif(not _weights_here(), reason="no VGG19 weights here (neuralstyle weights fetch)")


def _run(arguments: list[str], backend: str, pythonpath: list[str] = ()) -> subprocess.CompletedProcess:
    environment = {**os.environ, "KERAS_BACKEND": backend,
                   "PYTHONPATH": os.pathsep.join([*map(str, pythonpath), str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, str(SCRIPT), *arguments], capture_output=True, text=True, env=environment,
                          cwd=ROOT, timeout=300)


def _table_rows(stdout: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.strip().strip("|").split("|")]
            for line in stdout.splitlines() if line.startswith("|") and not line.startswith("|---")]


def test_quick_prints_the_table(tmp_path):
    backend = "jax" if importlib.util.find_spec("jax") else "tensorflow"
    out = tmp_path / "gpu.md"
    result = _run(["--quick", "--out", str(out)], backend)
    assert result.returncode == 0, result.stderr[-3000:]
    header, *rows = _table_rows(result.stdout)
    assert header == COLUMNS
    quick = [row for row in rows if row[3].startswith("128 (")]
    assert quick, result.stdout
    assert {row[4] for row in quick} >= {"L-BFGS", "Adam"}
    assert any(row[3].startswith("256 (") for row in rows)  # the large row, at 2 × 128 px
    for row in rows:
        assert row[1] == backend
        assert row[6].startswith("3,")  # 3 iterations
        float(row[7]), float(row[8]), float(row[9])
        assert float(row[9]) >= float(row[8]) > 0  # the process began before the run
    text = out.read_text()
    assert "command: benchmarks/gpu.py --quick" in text and "GPU:" in text and "| row | backend |" in text


@pytest.mark.skipif(not (importlib.util.find_spec("torch") or importlib.util.find_spec("jax")),
                    reason="neither torch nor jax is installed")
def test_runs_without_tensorflow(tmp_path):
    fake = tmp_path / "fake" / "tensorflow"
    fake.mkdir(parents=True)
    attempts = tmp_path / "attempts"
    fake.joinpath("__init__.py").write_text(
        f"open({str(attempts)!r}, 'a').write('tried\\n')\n"
        "raise ImportError('TensorFlow is not installed on this machine (a fake for tests/test_gpu_benchmark.py)')\n")
    backend = "torch" if importlib.util.find_spec("torch") else "jax"
    result = _run(["--quick", "--rows", "lbfgs"], backend, pythonpath=[fake.parent])
    assert result.returncode == 0, result.stderr[-3000:]
    rows = _table_rows(result.stdout)[1:]
    assert len(rows) == 1 and rows[0][1] == backend and rows[0][3].startswith("128 (")
    assert not attempts.exists(), "the jax/torch path tried to import tensorflow"
