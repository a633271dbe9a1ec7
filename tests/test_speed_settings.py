"""The settings that trade time for nothing visible: precision 'auto' and iterations 'auto'."""

from __future__ import annotations

import numpy as np
import pytest

from neuralstyle.core import hardware, settings
from neuralstyle.core.settings import SettingError
from neuralstyle.jobs.spec import RunSpec


@pytest.mark.parametrize("flags, expected", [
    ({"avx2", "avx512f", "avx512_bf16"}, "bfloat16"),
    ({"avx2", "amx_bf16", "avx512f"}, "bfloat16"),
    ({"avx2", "avx512f"}, "float32"),  # AVX-512 without BF16 emulates bfloat16: slower than float32
    ({"avx2"}, "float32"),
    (set(), "float32"),
])
def test_auto_precision_is_bfloat16_only_where_the_cpu_has_it_natively(monkeypatch, flags, expected):
    monkeypatch.setattr(hardware, "cpu_flags", lambda: frozenset(flags))
    precision, why = hardware.auto_precision(gpu_bfloat16=None)
    assert precision == expected
    assert ("native bfloat16, flag" in why) == (expected == "bfloat16")


@pytest.mark.parametrize("backend, expected", [("tensorflow", "bfloat16"), ("torch", "bfloat16"), ("jax", "float32")])
def test_auto_precision_on_a_bfloat16_cpu_is_bfloat16_only_on_backends_whose_kernels_use_it(monkeypatch, backend,
                                                                                             expected):
    """Measured on an avx512_bf16 CPU at 384 px: bfloat16 ran TensorFlow and torch 1.6-1.7× faster, JAX no faster."""
    monkeypatch.setattr(hardware, "cpu_flags", lambda: frozenset({"avx2", "avx512f", "avx512_bf16"}))
    precision, why = hardware.auto_precision(gpu_bfloat16=None, backend=backend)
    assert precision == expected
    assert ("the jax backend runs it no faster" in why) == (backend == "jax")


@pytest.mark.parametrize("gpu_bfloat16, expected", [(True, "bfloat16"), (False, "float32")])
def test_auto_precision_on_a_gpu_follows_the_gpu_not_the_cpu(monkeypatch, gpu_bfloat16, expected):
    monkeypatch.setattr(hardware, "cpu_flags", lambda: frozenset({"avx512_bf16"}))
    assert hardware.auto_precision(gpu_bfloat16=gpu_bfloat16)[0] == expected


def test_auto_is_the_default_precision_and_explicit_precisions_stay_as_given(monkeypatch):
    from neuralstyle.core import backend

    assert settings.PRECISION == "auto"
    for precision in ("float32", "bfloat16", "float16"):
        assert backend.resolve_precision(precision) == (precision, None)
    monkeypatch.setattr(backend, "gpu_count", lambda: 0)
    monkeypatch.setattr(hardware, "cpu_flags", lambda: frozenset({"avx2", "avx512f"}))
    assert backend.resolve_precision("auto")[0] == "float32"
    monkeypatch.setattr(hardware, "cpu_flags", lambda: frozenset({"avx2", "avx512f", "avx512_bf16"}))
    assert backend.resolve_precision("auto")[0] == "bfloat16"
    assert backend.resolve_precision("auto", "content")[0] == "float32"  # reconstructions: always float32
    assert backend.resolve_precision("auto", "tradeoff")[0] == settings.FIGURE_PRECISION == "float32"


def test_every_benchmark_names_the_cpu_flags_that_decide_its_speed(monkeypatch):
    monkeypatch.setattr(hardware, "cpu_flags", lambda: frozenset({"fpu", "avx2", "avx512f", "avx512_bf16"}))
    assert hardware.flags_line() == "avx2 avx512f avx512_bf16 (no amx_bf16)"
    monkeypatch.setattr(hardware, "cpu_flags", lambda: frozenset())
    assert hardware.flags_line() == "unknown"


def _spec(**values) -> RunSpec:
    return RunSpec(mode="transfer", content="c.png", styles=("s.png",), output="o.png", **values)


def test_iterations_take_auto_per_run_and_a_number_per_scale():
    assert _spec(iterations="auto").iterations == "auto"
    assert _spec(iterations="AUTO", scales=3).iteration_caps == (settings.ITERATIONS,) * 3
    assert _spec(iterations="300,100", scales=2).iterations == (300, 100)


def test_a_bad_iteration_count_says_auto_is_allowed_too():
    with pytest.raises(SettingError, match=r"'soon'.*whole number.*or auto"):
        _spec(iterations="soon")


def test_a_figure_refuses_iterations_auto():
    with pytest.raises(SettingError, match="auto is for single runs"):
        RunSpec(mode="tradeoff", content="c.png", styles=("s.png",), output="o.png", iterations="auto")


def test_a_run_that_auto_stopped_counts_as_whole_and_one_stopped_early_does_not():
    assert settings.ended_whole(None)
    assert settings.ended_whole("converged: the loss fell 0.040% per iteration over the last 10, below …")
    for early in ("callback", "interrupted", "error", "ABNORMAL: "):
        assert not settings.ended_whole(early)


def test_convergence_waits_for_the_window_then_stops_on_a_flat_loss():
    from neuralstyle.core.evaluator import Convergence

    rule = Convergence(tolerance=1e-3, window=10, minimum=20)
    falling = list(100 * 0.95 ** np.arange(60))  # 5 % per iteration: never converged
    assert not any(rule.converged(falling[:end]) for end in range(1, 61))
    flat = [100.0] * 15  # flat, but before the minimum
    assert not rule.converged(flat)
    slowing = [1 + 100 * np.exp(-i / 20) for i in range(300)]  # levels off at 1
    stop = next(end for end in range(1, 301) if rule.converged(slowing[:end]))
    assert 20 < stop < 300
    assert rule.rate(slowing[:stop]) < 1e-3 <= rule.rate(slowing[:stop - 1])
