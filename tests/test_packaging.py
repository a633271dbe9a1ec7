"""Packaging that tells the truth: the version is the installed metadata's, the
memory and CPU a container allows are what a run plans with, colour control
needs no scikit-image, the demo photo ships in the package, and pyproject.toml
says so (package data, dependencies)."""

from __future__ import annotations

import fnmatch
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import pytest

import neuralstyle
from neuralstyle.core import color, hardware, memory, settings
from neuralstyle.core.images import DEMO_PAINTING, DEMO_PHOTO

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
GB = 1e9

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib


# --- the version ----------------------------------------------------------------------------


def test_the_version_is_the_installed_metadatas():
    try:
        installed = version("neuralstyle-keras")
    except PackageNotFoundError:
        installed = "0+unknown"
    assert neuralstyle.__version__ == installed


def test_a_checkout_that_is_not_installed_says_its_version_is_unknown(monkeypatch):
    monkeypatch.setattr(neuralstyle, "DISTRIBUTION", "neuralstyle-keras-not-installed-anywhere")
    assert neuralstyle._installed_version() == "0+unknown"


def test_import_neuralstyle_reads_no_metadata_and_imports_no_tensorflow():
    code = ("import sys, neuralstyle; assert 'importlib.metadata' not in sys.modules; "
            "neuralstyle.__version__; print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('tensorflow', 'keras', 'scipy', 'skimage')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --- grid files on Python 3.10 -----------------------------------------------------------------


def test_grid_files_read_with_tomli_where_there_is_no_tomllib(tmp_path, monkeypatch):
    pytest.importorskip("tomli")
    from neuralstyle.jobs.sweep import read_grid_file

    monkeypatch.setitem(sys.modules, "tomllib", None)  # as on Python 3.10: `import tomllib` fails
    grid = tmp_path / "grid.toml"
    grid.write_text('style_weight = [1e3, 1e4]\n')
    assert read_grid_file(grid)["style_weight"] == [1e3, 1e4]


# --- memory and CPUs in a container (fake cgroup trees) -----------------------------------------


def fake_tree(tmp_path: Path, cgroup_lines: str, files: dict[str, str], available: float = 64 * GB):
    """A fake /proc (self/cgroup, meminfo) and /sys/fs/cgroup under `tmp_path`; returns their roots."""
    proc, cgroup = tmp_path / "proc", tmp_path / "cgroup"
    (proc / "self").mkdir(parents=True)
    (proc / "self" / "cgroup").write_text(cgroup_lines)
    (proc / "meminfo").write_text(f"MemTotal: {int(2 * available / 1024)} kB\n"
                                  f"MemAvailable: {int(available / 1024)} kB\n")
    cgroup.mkdir()
    for name, text in files.items():
        (cgroup / name).parent.mkdir(parents=True, exist_ok=True)
        (cgroup / name).write_text(text)
    return proc, cgroup


V2 = "0::/system.slice/job.scope\n"
V1 = "12:cpu,cpuacct:/docker/abc\n4:memory:/docker/abc\n1:name=systemd:/docker/abc\n"


def v2_tree(tmp_path, limit="4000000000", current="1000000000", more=None):
    """A cgroup v2 tree: the process in system.slice/job.scope, `limit` and `current` its memory.max and .current."""
    files = {"cgroup.controllers": "cpu memory\n", "system.slice/job.scope/memory.max": f"{limit}\n",
             "system.slice/job.scope/memory.current": f"{current}\n", "system.slice/memory.max": "max\n"}
    return fake_tree(tmp_path, V2, {**files, **(more or {})})


def test_a_cgroup_v2_limit_bounds_what_is_available(tmp_path):
    proc, cgroup = v2_tree(tmp_path)
    assert memory.host_available_bytes(proc) == 64 * GB
    assert memory.available_bytes(proc, cgroup) == 4 * GB - 1 * GB


def test_a_cgroup_v2_limit_changes_the_memory_plan(tmp_path, monkeypatch):
    """1024x768 fits whole in the fake host's 64 GB; in a container with 4 GB, 1 GB
    of it used, the same run is tiled; with 1.5 GB, 1 GB used, it is refused."""
    layers = [settings.CONTENT_LAYER, *settings.STYLE_LAYERS]

    def plan(tree):
        monkeypatch.setattr(hardware, "PROC_ROOT", tree[0])
        monkeypatch.setattr(hardware, "CGROUP_ROOT", tree[1])
        return memory.plan_memory("vgg19", layers, [(1024, 768)], budget=memory.default_budget())

    host = plan(v2_tree(tmp_path / "host", limit="max"))
    assert host.outputs[0].tile is None and host.budget == pytest.approx(64 * GB * (1 - memory.MEMORY_MARGIN))
    container = plan(v2_tree(tmp_path / "container"))
    assert container.outputs[0].tile is not None and container.need <= 3 * GB
    with pytest.raises(MemoryError):
        plan(v2_tree(tmp_path / "small", limit="1500000000"))


def test_max_means_no_cgroup_limit(tmp_path):
    proc, cgroup = v2_tree(tmp_path, limit="max")
    assert memory.cgroup_memory_room(proc, cgroup) is None
    assert memory.available_bytes(proc, cgroup) == 64 * GB


def test_a_parents_limit_and_the_inactive_page_cache_count(tmp_path):
    proc, cgroup = v2_tree(tmp_path, more={"system.slice/memory.max": "2500000000\n",
                                           "system.slice/memory.current": "1000000000\n",
                                           "system.slice/job.scope/memory.stat": "anon 1\ninactive_file 200000000\n"})
    # the job: 4 GB - (1 GB - 0.2 GB of cache) = 3.2 GB; its parent slice: 2.5 GB - 1 GB
    assert memory.available_bytes(proc, cgroup) == 1.5 * GB


def test_a_cgroup_v1_limit_bounds_what_is_available(tmp_path):
    proc, cgroup = fake_tree(tmp_path, V1, {
        "memory/memory.limit_in_bytes": "9223372036854771712\n",  # the root: no limit
        "memory/memory.usage_in_bytes": "30000000000\n",
        "memory/docker/abc/memory.limit_in_bytes": "4000000000\n",
        "memory/docker/abc/memory.usage_in_bytes": "1000000000\n",
        "memory/docker/abc/memory.stat": "inactive_file 1\ntotal_inactive_file 0\n"})
    assert memory.available_bytes(proc, cgroup) == 3 * GB


def test_a_cgroup_v1_container_sees_its_own_cgroup_at_the_root(tmp_path):
    """Without a cgroup namespace a container is shown the host's path, and its own cgroup is mounted at the root."""
    proc, cgroup = fake_tree(tmp_path, V1, {"memory/memory.limit_in_bytes": "4000000000\n",
                                            "memory/memory.usage_in_bytes": "1000000000\n"})
    assert memory.available_bytes(proc, cgroup) == 3 * GB


def test_a_huge_cgroup_v1_limit_is_none_and_no_cgroups_leave_meminfo(tmp_path):
    proc, cgroup = fake_tree(tmp_path, V1, {"memory/memory.limit_in_bytes": "9223372036854771712\n",
                                            "memory/memory.usage_in_bytes": "1000000000\n"})
    assert memory.cgroup_memory_room(proc, cgroup) is None
    assert memory.available_bytes(proc, cgroup) == 64 * GB
    bare = fake_tree(tmp_path / "bare", "", {}, available=8 * GB)
    assert memory.available_bytes(*bare) == 8 * GB


def test_the_cpu_quota_of_cgroup_v2_rounds_up(tmp_path):
    proc, cgroup = v2_tree(tmp_path, more={"system.slice/job.scope/cpu.max": "150000 100000\n"})
    assert hardware.cgroup_cpu_quota(proc, cgroup) == 2
    assert hardware.cpu_limit(proc, cgroup) <= 2
    proc, cgroup = v2_tree(tmp_path / "max", more={"system.slice/job.scope/cpu.max": "max 100000\n"})
    assert hardware.cgroup_cpu_quota(proc, cgroup) is None
    assert hardware.cpu_limit(proc, cgroup) == hardware.cpu_limit(*fake_tree(tmp_path / "none", "", {}))


def test_the_cpu_quota_of_cgroup_v1_and_the_limit(tmp_path, monkeypatch):
    proc, cgroup = fake_tree(tmp_path, V1, {"cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "50000\n",
                                            "cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000\n",
                                            "cpu,cpuacct/cpu.cfs_quota_us": "-1\n",
                                            "cpu,cpuacct/cpu.cfs_period_us": "100000\n"})
    assert hardware.cgroup_cpu_quota(proc, cgroup) == 1
    assert hardware.cpu_limit(proc, cgroup) == 1
    monkeypatch.setattr(hardware.os, "cpu_count", lambda: 8)
    monkeypatch.setattr(hardware.os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    assert hardware.cpu_limit(*fake_tree(tmp_path / "none", "", {})) == 3  # the affinity: 3 of 8 cores


# --- colour without scikit-image ------------------------------------------------------------


def test_the_yiq_conversions_are_scikit_images():
    skimage_color = pytest.importorskip("skimage.color")
    rgb = np.random.default_rng(0).random((17, 23, 3))
    assert np.abs(color.rgb2yiq(rgb) - skimage_color.rgb2yiq(rgb)).max() < 1e-6
    yiq = color.rgb2yiq(rgb)
    assert np.abs(color.yiq2rgb(yiq) - skimage_color.yiq2rgb(yiq)).max() < 1e-6
    rgb32 = rgb.astype(np.float32)
    assert color.rgb2yiq(rgb32).dtype == skimage_color.rgb2yiq(rgb32).dtype == np.float32


def test_colour_control_runs_without_scikit_image(monkeypatch):
    monkeypatch.setitem(sys.modules, "skimage", None)
    monkeypatch.setitem(sys.modules, "skimage.color", None)
    rng = np.random.default_rng(1)
    content, painted = rng.uniform(100, 155, (8, 8, 3)), rng.uniform(80, 175, (8, 8, 3))  # no clipping
    assert np.allclose(color.yiq2rgb(color.rgb2yiq(content / 255)), content / 255)
    kept = color.with_chrominance(painted, content)
    assert kept.shape == (8, 8, 3) and kept.dtype == np.float32
    assert np.allclose(color.luminance(kept), color.luminance(painted), atol=1e-3)  # the painted luminance
    assert np.allclose(color.rgb2yiq(kept / 255)[..., 1:], color.rgb2yiq(content / 255)[..., 1:], atol=1e-5)
    gray = color.luminance(np.full((2, 2, 3), 200.0))
    assert np.allclose(gray, 200.0)


# --- the demo photo and pyproject.toml ------------------------------------------------------


def test_the_demo_photo_ships_small_with_its_source():
    from PIL import Image

    with Image.open(DEMO_PHOTO) as image:
        assert image.format == "JPEG" and max(image.size) == 512
    assert DEMO_PHOTO.stat().st_size < 80_000
    sources = (DEMO_PHOTO.parent / "SOURCES.md").read_text()
    assert DEMO_PHOTO.name in sources and DEMO_PAINTING.name in sources and "public domain" in sources.lower()


def pyproject() -> dict:
    return tomllib.loads(PYPROJECT.read_text())


def requirement_names(requirements) -> set[str]:
    return {requirement.split(";")[0].split("[")[0].strip().split(">")[0].split("=")[0].split("<")[0].strip().lower()
            for requirement in requirements}


def test_every_data_file_is_package_data():
    patterns = pyproject()["tool"]["setuptools"]["package-data"]["neuralstyle"]
    files = [path.relative_to(ROOT / "neuralstyle").as_posix() for path in (ROOT / "neuralstyle" / "data").iterdir()
             if path.is_file()]
    missing = [name for name in files if not any(fnmatch.fnmatch(name, pattern) for pattern in patterns)]
    assert not missing, f"not in the wheel: {missing} (tool.setuptools.package-data in pyproject.toml)"


def test_scikit_image_is_a_test_tool_not_a_dependency():
    project = pyproject()["project"]
    assert "scikit-image" not in requirement_names(project["dependencies"])
    assert "scikit-image" in requirement_names(project["optional-dependencies"]["test"])
    assert "tomli" in requirement_names(project["dependencies"])  # tomllib's stand-in on Python 3.10


def test_each_install_holds_one_tensorflow_distribution_and_the_gpu_extra_adds_its_cuda_libraries():
    project = pyproject()["project"]
    dependencies = [requirement.split(";")[0].replace(" ", "") for requirement in project["dependencies"]]
    assert not [item for item in dependencies if item.startswith("tensorflow-cpu")]
    assert [item for item in dependencies if item.startswith("tensorflow")] == ["tensorflow>=2.16"]
    gpu = [requirement.split(";")[0] for requirement in project["optional-dependencies"]["gpu"]]
    assert gpu == ["tensorflow[and-cuda]>=2.16"]  # the same distribution, with CUDA's libraries
    everything = [requirement for extra in project["optional-dependencies"].values() for requirement in extra]
    assert not [item for item in everything if item.startswith("tensorflow-cpu")]
