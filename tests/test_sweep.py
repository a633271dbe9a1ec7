"""Sweeps and batches as a user runs them: `neuralstyle sweep` in this process and
on a real two-node Ray cluster started here (64 px, a few iterations), and
`transfer FOLDER --ray`. The Ray tests are skipped where Ray (the cluster
extra) is not installed."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from processes import default_signals
from sample_images import SAMPLES
from test_cli import neuralstyle, no_tensorflow_env  # noqa: F401  (a fixture: TensorFlow cannot be imported)

from neuralstyle.core.settings import SettingError
from neuralstyle.jobs import contact_sheet
from neuralstyle.jobs.sweep import SWEEPABLE, make_grid

PHOTO, PHOTO2 = SAMPLES / "photo.png", SAMPLES / "photo2.png"
PAINTING, PORTRAIT = SAMPLES / "painting.png", SAMPLES / "portrait.png"
SMALL = ["--size", "64", "--iterations", "8"]
needs_ray = pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                               reason="Ray is not installed (the cluster extra: pip install -e '.[cluster]')")


def error_line(result: subprocess.CompletedProcess) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        self.links += [value for name, value in attrs if name in ("href", "src")]


def links_of(page: Path) -> list[str]:
    parser = Links()
    parser.feed(page.read_text())
    return parser.links


def written_cells(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.glob("*__*.png"))}


# --- the grid, before anything runs ------------------------------------------------------------


BAD_GRIDS = {
    "a value that is not a number": (["--style-weight", "10", "--style-weight", "abc"],
                                     "Invalid value for '--style-weight'"),
    "an unknown layer lists the real ones": (["--content-layer", "block2_conv2", "--content-layer", "block9_conv1"],
                                             "block5_conv4"),
    "an empty value": (["--content-layer", "block2_conv2", "--content-layer", ""], "--content-layer has an empty value"),
    "a comma where a sweep repeats the option": (["--init", "content,noise"],
                                                 "--init 'content,noise' holds several values; a sweep takes one per "
                                                 "option: repeat --init"),
    "a list where one number goes": (["--style-weight", "10,100"], "Invalid value for '--style-weight'"),
    "columns that do not vary": (["--style-weight", "1", "--style-weight", "2", "--columns", "size"],
                                 "--columns size does not vary"),
    "workers without ray": (["--workers", "2"], "--workers 2 needs --ray local"),
    "a grid file with an unknown key": (["--grid", "{grid}"], "unknown key(s) 'style_wieght'"),
    "a grid file that is not TOML": (["--grid", "{broken}"], "is not valid TOML"),
    "a mask count that is not the style count": (["--style-mask", "{mask}", "--style-mask", "{mask}"],
                                                 "2 --style-mask for 1 style image(s); give one per style"),
    "a grid file's masks with other styles": (["--grid", "{masked}"], "style_mask list goes with its style list"),
    "a content mask swept": (["--grid", "{two_masks}"], "expected one path (a sweep uses one content mask"),
    "a mask as an axis": (["--style-masks", "{mask}"], "No such option: --style-masks"),
}


@pytest.mark.parametrize("case", BAD_GRIDS, ids=list(BAD_GRIDS))
def test_a_bad_grid_is_one_line_and_exit_2_before_tensorflow_loads(case, tmp_path, no_tensorflow_env):
    arguments, expected = BAD_GRIDS[case]
    (tmp_path / "grid.toml").write_text('style = ["painting.png"]\nstyle_wieght = [1, 2]\n')
    (tmp_path / "broken.toml").write_text("style_weight = [1, 2\n")
    Image.new("L", (64, 48), 255).save(tmp_path / "mask.png")
    (tmp_path / "masked.toml").write_text('style = ["painting.png"]\nstyle_mask = ["mask.png"]\n')
    (tmp_path / "two_masks.toml").write_text('content_mask = ["mask.png", "mask.png"]\n')
    arguments = [item.format(grid=tmp_path / "grid.toml", broken=tmp_path / "broken.toml", mask=tmp_path / "mask.png",
                             masked=tmp_path / "masked.toml", two_masks=tmp_path / "two_masks.toml")
                 for item in arguments]
    result = neuralstyle("sweep", PHOTO, "--style", PAINTING, "-o", tmp_path / "out", *arguments,
                         env=no_tensorflow_env)
    assert result.returncode == 2
    assert expected in (error_line(result) if "No such option" not in expected else result.stderr)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_masks_go_with_their_styles_and_are_never_an_axis(tmp_path):
    assert not {"style_masks", "style_image_masks", "content_mask", "style_regions", "style_region_colors"} \
        & set(SWEEPABLE)
    assert "guides" in SWEEPABLE  # a choice, which a sweep may vary
    grid = make_grid([PHOTO, PHOTO2], [PAINTING, PORTRAIT], {"guides": ["resized", "inside"]}, tmp_path,
                     fixed={"size": "64", "content_mask": "face.png"}, style_masks=["sky.png", "ground.png"])
    assert len(grid.cells) == 8 and grid.rows == ("content", "guides")  # masks add no row, no column
    for cell in grid.cells:
        mask = {"painting": "sky.png", "portrait": "ground.png"}[cell.spec.styles[0].stem]
        assert cell.spec.style_masks == (Path(mask).absolute(),)
        assert cell.spec.content_mask == Path("face.png").absolute()
        assert "sky" not in cell.name and "ground" not in cell.name
    with pytest.raises(SettingError, match=r"1 style_masks for 2 style image\(s\)"):
        make_grid([PHOTO], [PAINTING, PORTRAIT], {}, tmp_path, style_masks=["sky.png"])
    with pytest.raises(SettingError, match="cannot be swept"):
        make_grid([PHOTO], [PAINTING], {"content_mask": ["a.png", "b.png"]}, tmp_path)


def test_a_mask_per_style_paints_each_cell_in_its_region_and_a_changed_mask_reruns_only_its_cell(tmp_path):
    width, height = 64, 48  # the photo's 4:3
    left = np.zeros((height, width), np.uint8)
    left[:, : width // 2] = 255
    Image.fromarray(left).save(tmp_path / "left.png")
    Image.fromarray(255 - left).save(tmp_path / "right.png")
    (tmp_path / "grid.toml").write_text(
        f'content = ["{PHOTO}"]\nstyle = ["{PAINTING}", "{PORTRAIT}"]\nstyle_mask = ["left.png", "right.png"]\n'
        f'size = 64\niterations = 6\n')
    out = tmp_path / "out"
    result = neuralstyle("sweep", "--grid", tmp_path / "grid.toml", "-o", out)
    assert result.returncode == 0, result.stderr
    assert "2 cells: 2 written, 0 skipped" in result.stderr
    assert list(written_cells(out)) == ["photo__painting.png", "photo__portrait.png"]
    for name, mask in (("photo__painting", "left.png"), ("photo__portrait", "right.png")):
        record = json.loads((out / f"{name}.json").read_text())
        assert [Path(entry["path"]).name for entry in record["inputs"]["style_mask"]] == [mask]
        assert record["arguments"]["style_masks"] == [str((tmp_path / mask).resolve())]
        assert record["iterations"] == 6
    before = written_cells(out)

    grown = left.copy()
    grown[:, : width * 3 // 4] = 255
    Image.fromarray(grown).save(tmp_path / "left.png")  # the painting's region grows
    refused = neuralstyle("sweep", "--grid", tmp_path / "grid.toml", "-o", out)
    assert refused.returncode == 2  # another run of a cell that exists: as for any changed input
    assert "photo__painting.png exists; pass --overwrite" in error_line(refused)
    again = neuralstyle("sweep", "--grid", tmp_path / "grid.toml", "-o", out, "--overwrite")
    assert again.returncode == 0, again.stderr
    assert "2 cells: 1 written, 1 skipped (done before)" in again.stderr
    after = written_cells(out)
    assert after["photo__portrait.png"] == before["photo__portrait.png"]
    assert after["photo__painting.png"] != before["photo__painting.png"]


def test_cells_are_named_by_their_inputs_and_the_settings_that_vary_and_laid_out_by_them(tmp_path):
    grid = make_grid([PHOTO, PHOTO2], [PAINTING, PORTRAIT],
                     {"style_weight": ["10", "1e3"], "content_layer": ["block2_conv2", "conv4_2"]}, tmp_path,
                     fixed={"size": "64"})
    assert len(grid.cells) == 16 and grid.columns == "styles"
    assert grid.rows == ("content", "content_layer", "style_weight")  # in RunSpec's order, whatever the argv's
    names = [cell.name for cell in grid.cells]
    assert names[0] == "photo__painting__content_layer-block2_conv2__style_weight-10"
    assert "photo2__portrait__content_layer-block4_conv2__style_weight-1000" in names  # canonical values
    assert all(cell.spec.output == tmp_path / f"{cell.name}.png" and cell.spec.size == 64 for cell in grid.cells)

    layout = contact_sheet.arrange([cell.labels for cell in grid.cells], grid.columns, grid.rows)
    assert layout.column_title == "style" and layout.columns == ("painting", "portrait")
    assert len(layout.rows) == 8
    assert layout.rows[1] == "photo\ncontent layer block2_conv2\nstyle weight 1000"
    images = {index: np.full((48, 64, 3), index * 15, np.uint8) for index in range(16) if index != 5}
    sheet = contact_sheet.draw(layout, images, {5: "failed: NaN"})
    assert layout.place[3] == (3, 0) and layout.place[4] == (0, 1)  # photo × portrait × block2_conv2 × 10
    # Boxes of the images' own proportions (64 x 48), with room for the labels beside and above them.
    assert 8 * 48 < sheet.height < 8 * 64 and sheet.width > 2 * 64


def test_a_sweep_here_writes_every_cell_a_contact_sheet_and_an_index_and_a_rerun_skips_them(tmp_path):
    (tmp_path / "grid.toml").write_text(
        f'content = ["{PHOTO}"]\nstyle = ["{PAINTING}", "{PORTRAIT}"]\nstyle_weight = [10, 1000]\n'
        f'size = 64\niterations = 8\ncolumns = "style_weight"\n')
    out = tmp_path / "out"
    result = neuralstyle("sweep", "--grid", tmp_path / "grid.toml", "-o", out)
    assert result.returncode == 0, result.stderr
    assert "4 cells: 4 written, 0 skipped" in result.stderr
    cells = written_cells(out)
    assert list(cells) == ["photo__painting__style_weight-10.png", "photo__painting__style_weight-1000.png",
                           "photo__portrait__style_weight-10.png", "photo__portrait__style_weight-1000.png"]
    for name in cells:
        record = json.loads((out / name).with_suffix(".json").read_text())
        assert record["arguments"]["style_weight"] == float(name.split("-")[-1].removesuffix(".png"))
        assert record["iterations"] == 8 and record["final_loss"]["total"] < record["history"][0]["total"]
        assert max(Image.open(out / name).size) == 64
    links = links_of(out / "index.html")
    assert {*cells, *(Path(name).with_suffix(".json").name for name in cells), "contact_sheet.png"} <= set(links)
    summary = json.loads((out / "sweep.json").read_text())
    assert summary["columns"] == "style_weight" and summary["rows"] == ["styles"]
    assert [cell["status"] for cell in summary["cells"]] == ["written"] * 4
    with Image.open(out / "contact_sheet.png") as sheet:
        assert sheet.width > 2 * 64 and sheet.height > 2 * 64

    before = {name: (out / name).stat().st_mtime_ns for name in cells}
    again = neuralstyle("sweep", "--grid", tmp_path / "grid.toml", "-o", out)
    assert again.returncode == 0, again.stderr
    assert "4 cells: 0 written, 4 skipped (done before)" in again.stderr
    assert before == {name: (out / name).stat().st_mtime_ns for name in cells}
    # A dry run of a larger grid says what is left and how long it should take, timed by the cells done.
    dry = neuralstyle("sweep", "--grid", tmp_path / "grid.toml", "-o", out, "--dry-run", "--style-weight", "10",
                      "--style-weight", "100", "--style-weight", "1000")
    assert dry.returncode == 0, dry.stderr
    assert re.search(r"would run 2 of 6 cells \(4 done already\); in this process; about \d+ s one after another, "
                     r"timed by the 4 done", dry.stderr), dry.stderr

    changed = neuralstyle("sweep", "--grid", tmp_path / "grid.toml", "-o", out, "--iterations", "9")
    assert changed.returncode == 2  # same names, other settings: refused like any run's output
    assert "photo__painting__style_weight-10.png exists; pass --overwrite" in error_line(changed)


def test_ctrl_c_stops_a_sweep_cleanly_and_says_what_finished(tmp_path):
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "neuralstyle", "sweep", PHOTO, "--style", PAINTING,
                                "--style-weight", "10", "--style-weight", "100", "--style-weight", "1000", "--size", "64",
                                "--iterations", "40", "-o", out],
                               stderr=subprocess.PIPE, text=True,
                               # a background job starts with SIGINT ignored; Ctrl-C reaches a terminal's job
                               preexec_fn=default_signals)
    deadline = time.monotonic() + 120
    while not list(out.glob("*.json")) and time.monotonic() < deadline:
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    stderr = process.communicate(timeout=120)[1]
    assert process.returncode == 130, stderr
    finished = re.search(r"interrupted \(SIGINT\); finished: (.*); not run: (.*) \(run the same", stderr)
    assert finished, stderr
    done = finished[1].split(", ")
    assert set(done) == {path.stem for path in out.glob("*__*.png")}  # what it says finished is what is there
    assert len(done) < 3 and "Traceback" not in stderr
    summary = json.loads((out / "sweep.json").read_text())
    assert sum(cell["status"] == "written" for cell in summary["cells"]) == len(done)


def test_a_second_sweep_into_the_same_folder_is_refused_while_the_first_runs(tmp_path):
    out = tmp_path / "out"
    arguments = [sys.executable, "-m", "neuralstyle", "sweep", PHOTO, "--style", PAINTING, "--style-weight", "10",
                 "--style-weight", "100", "--size", "64", "--iterations", "40", "-o", out]
    first = subprocess.Popen(arguments, stderr=subprocess.PIPE, text=True, preexec_fn=default_signals)
    deadline = time.monotonic() + 120
    while not list(out.glob("*.json")) and time.monotonic() < deadline:
        time.sleep(0.1)
    second = subprocess.run(arguments, capture_output=True, text=True, timeout=120)
    assert second.returncode == 2
    assert second.stderr.strip().splitlines() == [
        f"neuralstyle: error: another neuralstyle sweep is running into {out}; wait for it, or choose another --output"]
    stderr = first.communicate(timeout=300)[1]
    assert first.returncode == 0, stderr
    summary = json.loads((out / "sweep.json").read_text())
    assert [cell["status"] for cell in summary["cells"]] == ["written", "written"]  # no finished cell called failed


# --- on a real two-node Ray cluster --------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Cluster:
    """A head node and a second node on this machine, one CPU each, with token
    authentication: every process (nodes, drivers) gets RAY_AUTH_MODE=token and
    the same token file."""

    def __init__(self, folder: Path):
        token = folder / "auth_token"
        token.write_text(secrets.token_hex(32))
        self.ray = str(Path(sys.executable).parent / "ray")
        self.address = f"127.0.0.1:{free_port()}"
        self.env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(token),
                    "RAY_USAGE_STATS_ENABLED": "0", "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1",
                    # a lost node is noticed in about 3 s rather than 15
                    "RAY_health_check_period_ms": "1000", "RAY_health_check_timeout_ms": "1000",
                    "RAY_health_check_failure_threshold": "3"}
        self.env.pop("RAY_ADDRESS", None)
        subprocess.run(["nice", "-n", "15", self.ray, "start", "--head", "--num-cpus", "1", "--node-ip-address",
                        "127.0.0.1", "--include-dashboard", "false", "--port", self.address.split(":")[1]],
                       env=self.env, check=True, capture_output=True, timeout=120)
        self.second = self.start_second_node()

    def start_second_node(self) -> subprocess.Popen:
        return subprocess.Popen(["nice", "-n", "15", self.ray, "start", "--address", self.address, "--num-cpus", "1",
                                 "--node-ip-address", "127.0.0.1", "--block"], env=self.env, start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def alive_nodes(self) -> int:
        code = (f"import ray; ray.init(address={self.address!r}, logging_level='ERROR'); "
                f"print(sum(node['Alive'] for node in ray.nodes()))")
        result = subprocess.run([sys.executable, "-c", code], env=self.env, capture_output=True, text=True, timeout=60)
        return int(result.stdout.strip() or 0)

    def wait_for_nodes(self, count: int, timeout: float = 60) -> int:
        deadline = time.monotonic() + timeout
        while (alive := self.alive_nodes()) != count and time.monotonic() < deadline:
            time.sleep(0.5)
        return alive

    def stop_second_node(self) -> None:
        os.killpg(self.second.pid, signal.SIGKILL)  # its raylet and workers with it, as if the machine went away
        self.second.wait(timeout=30)

    def stop(self) -> None:
        subprocess.run([self.ray, "stop", "--force"], env=self.env, capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    if importlib.util.find_spec("ray") is None:
        pytest.skip("Ray is not installed (the cluster extra: pip install -e '.[cluster]')")
    ray_cluster = Cluster(tmp_path_factory.mktemp("ray"))
    try:
        yield ray_cluster
    finally:
        with_second = ray_cluster.second
        if with_second.poll() is None:
            ray_cluster.stop_second_node()
        ray_cluster.stop()


GRID_2X2 = [PHOTO, PHOTO2, "--style", PAINTING, "--style", PORTRAIT, "--size", "64", "--iterations", "30"]


@pytest.fixture(scope="module")
def sweep_on_two_nodes(cluster, tmp_path_factory):
    """The 2×2 sweep on both nodes (its folder), after checking that both are alive."""
    assert cluster.wait_for_nodes(2) == 2
    out = tmp_path_factory.mktemp("two_nodes")
    result = neuralstyle("sweep", *GRID_2X2, "-o", out, "--ray", cluster.address, env=cluster.env)
    assert result.returncode == 0, result.stderr
    assert "on Ray (127.0.0.1" in result.stderr and "2 node(s), 2 CPUs" in result.stderr
    return out


@needs_ray
def test_a_2x2_sweep_on_two_nodes_writes_four_cells_and_a_contact_sheet_and_a_rerun_skips_all_four(
        cluster, sweep_on_two_nodes):
    out = sweep_on_two_nodes
    cells = written_cells(out)
    assert list(cells) == ["photo2__painting.png", "photo2__portrait.png", "photo__painting.png",
                           "photo__portrait.png"]
    summary = json.loads((out / "sweep.json").read_text())
    assert len({cell["worker"].rpartition("Ray node ")[2] for cell in summary["cells"]}) == 2  # both nodes painted
    for name in cells:
        record = json.loads((out / name).with_suffix(".json").read_text())
        assert record["iterations"] == 30 and record["stopped"] is None
        assert record["final_loss"]["style"] < 0.5 * record["history"][0]["style"]  # really painted
        assert record["inputs"]["content"][0]["path"].endswith(name.split("__")[0] + ".png")
    assert (out / "contact_sheet.png").exists() and (out / "index.html").exists()

    again = neuralstyle("sweep", *GRID_2X2, "-o", out, "--ray", cluster.address, env=cluster.env)
    assert again.returncode == 0, again.stderr
    assert "4 cells: 0 written, 4 skipped (done before), 0 failed" in again.stderr
    assert written_cells(out) == cells


@needs_ray
def test_a_bad_cell_on_the_cluster_is_reported_and_the_others_finish(cluster, tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(PHOTO.read_bytes()[:3000])
    out = tmp_path / "out"
    # broken.png fails as it is read; style weight 1e39 is infinite in float32 and fails on its worker.
    result = neuralstyle("sweep", PHOTO, broken, "--style", PAINTING, "--style-weight", "100", "--style-weight", "1e39", *SMALL, "-o", out,
                         "--ray", cluster.address, env=cluster.env)
    assert result.returncode == 1
    assert "4 cells: 1 written, 0 skipped (done before), 3 failed" in result.stderr
    assert re.search(r"cell photo__painting__style_weight-1e\+39 failed: .*loss became inf", result.stderr)
    assert "cell broken__painting__style_weight-100 failed: " in result.stderr and "Traceback" not in result.stderr
    assert list(written_cells(out)) == ["photo__painting__style_weight-100.png"]
    statuses = {cell["name"]: cell["status"] for cell in json.loads((out / "sweep.json").read_text())["cells"]}
    assert sorted(statuses.values()) == ["failed", "failed", "failed", "written"]
    assert "failed" in (out / "index.html").read_text()


@needs_ray
def test_transfer_folder_on_ray_paints_the_same_images_as_in_process(cluster, tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    for photo in (PHOTO, PHOTO2):
        shutil.copy(photo, photos)
    here = neuralstyle("transfer", photos, PAINTING, "-o", tmp_path / "here", *SMALL, env=cluster.env)
    assert here.returncode == 0, here.stderr
    on_ray = neuralstyle("transfer", photos, PAINTING, "-o", tmp_path / "ray", *SMALL, "--ray", cluster.address,
                         env=cluster.env)
    assert on_ray.returncode == 0, on_ray.stderr
    images = sorted(path.name for path in (tmp_path / "here").glob("*.png"))
    assert images == ["photo.png", "photo2.png"]
    for name in images:  # same backend, precision and thread count (1): bit-exact
        assert (tmp_path / "ray" / name).read_bytes() == (tmp_path / "here" / name).read_bytes()
        records = [json.loads((tmp_path / where / name).with_suffix(".json").read_text()) for where in ("here", "ray")]
        losses = [[{key: value for key, value in entry.items() if key != "elapsed"} for entry in record["history"]]
                  for record in records]
        assert losses[0] == losses[1]


@needs_ray
def test_losing_a_node_mid_sweep_still_completes_it_with_the_same_results(cluster, sweep_on_two_nodes, tmp_path):
    assert cluster.wait_for_nodes(2) == 2
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "neuralstyle", "sweep", *map(str, GRID_2X2), "-o", str(out),
                                "--ray", cluster.address], env=cluster.env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list(out.glob("*__*.json")) and time.monotonic() < deadline:  # the first cell is back: both nodes busy
        time.sleep(0.05)
    done_before = {path.stem for path in out.glob("*__*.json")}
    cluster.stop_second_node()
    stderr = process.communicate(timeout=240)[1]
    assert len(done_before) < 4
    assert process.returncode == 0, stderr
    assert "4 cells: 4 written" in stderr
    assert cluster.wait_for_nodes(1) == 1
    cells = json.loads((out / "sweep.json").read_text())["cells"]
    later = {cell["worker"].rpartition("Ray node ")[2] for cell in cells if cell["name"] not in done_before}
    assert len(later) == 1  # what was left, the cell the lost node was painting included, the head node painted
    assert written_cells(out) == written_cells(sweep_on_two_nodes)  # bit for bit, whichever node painted them


def test_a_grid_of_more_cells_than_a_sweep_starts_unasked_is_refused_in_one_line_unless_confirmed(
        tmp_path, no_tensorflow_env):
    weights = ", ".join(str(value) for value in range(1, 16))
    (tmp_path / "grid.toml").write_text(
        f'content = ["{PHOTO}"]\nstyle = ["{PAINTING}"]\nstyle_weight = [{weights}]\ncontent_weight = [{weights}]\n')
    refused = neuralstyle("sweep", "--grid", tmp_path / "grid.toml", "-o", tmp_path / "out", env=no_tensorflow_env)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    (line,) = refused.stderr.strip().splitlines()
    assert "this grid has 225 cells, more than the 200" in line and "pass --yes" in line
    assert not (tmp_path / "out").exists()
    dry = neuralstyle("sweep", "--grid", tmp_path / "grid.toml", "-o", tmp_path / "out", "--dry-run",
                      env=no_tensorflow_env)
    assert "sweep: 225 cells" in dry.stderr
