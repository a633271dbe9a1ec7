"""Hostile inputs and faults, as real processes: signals at every phase of a run,
racing runs, a full disk, decompression bombs, crafted frames and records.
Whatever happens: no traceback, the promised exit code, and exactly the files
promised (nothing partial, nothing clobbered). Tiny runs on tests/fixtures."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import struct
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import pytest
from PIL import Image
from processes import default_signals

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "records_v1"
CONTENT, STYLE = FIXTURES / "content.png", FIXTURES / "style.png"
TINY = ["--size", "32", "--iterations", "6"]


def start(args: list, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "neuralstyle", *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env={**os.environ, **(env or {})},
        # A background job of a script starts with SIGINT ignored; a user's run has the default.
        preexec_fn=default_signals,
    )


def neuralstyle(*args, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    process = start(list(args), env)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:  # a run that hangs must not outlive its test (and hold its memory)
        process.kill()
        process.communicate()
        raise
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


class Watcher:
    """Reads a process's stderr as it comes, so a test can wait for a line."""

    def __init__(self, process: subprocess.Popen):
        self.process, self.lines, self.changed = process, [], threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stderr:
            with self.changed:
                self.lines.append(line)
                self.changed.notify_all()
        with self.changed:
            self.lines.append(None)
            self.changed.notify_all()

    def wait_for(self, text: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        with self.changed:
            while not any(line is not None and text in line for line in self.lines):
                assert None not in self.lines, f"ended before {text!r}:\n{self.text()}"
                assert time.monotonic() < deadline, f"no {text!r} in:\n{self.text()}"
                self.changed.wait(0.5)

    def finish(self, timeout: float = 120) -> tuple[int, str]:
        code = self.process.wait(timeout=timeout)
        deadline = time.monotonic() + 10
        while None not in self.lines and time.monotonic() < deadline:
            time.sleep(0.05)
        return code, self.text()

    def text(self) -> str:
        return "".join(line for line in self.lines if line is not None)


def assert_one_clean_line(result_stderr: str, starts: str = "neuralstyle: error: ") -> str:
    lines = result_stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(starts), result_stderr
    return lines[0]


def leftovers(folder: Path) -> list[str]:
    """Temporary or lock files a run left behind."""
    return [path.name for path in folder.rglob("*") if path.name.endswith((".part", "-lock"))]


# --- signals at every phase -------------------------------------------------------------

PHASES_BEFORE_ITERATIONS = ["weights", "imports", "model", "targets", "first-evaluation"]
SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]


@pytest.mark.parametrize("phase", PHASES_BEFORE_ITERATIONS + ["mid-run", "writing"])
def test_a_signal_at_any_phase_ends_cleanly_with_exactly_the_promised_files(phase, tmp_path):
    number = SIGNALS[(PHASES_BEFORE_ITERATIONS + ["mid-run", "writing"]).index(phase) % 3]
    out = tmp_path / "out.png"
    watcher = Watcher(start(["transfer", CONTENT, STYLE, "-o", out, *TINY, "--frames", tmp_path / "frames"],
                            env={"NEURALSTYLE_PAUSE_AT": phase}))
    watcher.wait_for(f"paused at {phase}")
    watcher.process.send_signal(number)
    code, stderr = watcher.finish()
    assert code == 128 + number, stderr
    assert "Traceback" not in stderr and "Error" not in stderr.replace("neuralstyle: error", ""), stderr
    name = signal.Signals(number).name
    if phase in PHASES_BEFORE_ITERATIONS:
        assert f"interrupted ({name}) before the first iteration; nothing written" in stderr
        assert sorted(path.name for path in tmp_path.iterdir()) == []
        return
    record = json.loads((tmp_path / "out.json").read_text())
    assert hashlib.sha256(out.read_bytes()).hexdigest() == record["output"]["sha256"]
    assert len(list((tmp_path / "frames").iterdir())) == record["iterations"] + 1
    assert not leftovers(tmp_path)
    if phase == "mid-run":
        assert record["interrupted"] is True and record["iterations"] == 2
        assert f"interrupted ({name}) at iteration 2; best image so far written" in stderr
    else:  # the run had finished: its files are written whole, then it stops
        assert record["interrupted"] is False and record["iterations"] == 6


def test_a_second_signal_stops_at_once(tmp_path):
    watcher = Watcher(start(["transfer", CONTENT, STYLE, "-o", tmp_path / "out.png", *TINY],
                            env={"NEURALSTYLE_PAUSE_AT": "mid-run"}))
    watcher.wait_for("paused at mid-run")
    watcher.process.send_signal(signal.SIGINT)
    watcher.process.send_signal(signal.SIGINT)
    code, stderr = watcher.finish()
    assert code == 130 and "Traceback" not in stderr, stderr
    assert not leftovers(tmp_path)


# --- numbers that break the optimisation ----------------------------------------------------


def test_a_loss_that_is_not_finite_from_the_start_is_one_line_and_nothing_written(tmp_path):
    result = neuralstyle("transfer", CONTENT, STYLE, "-o", tmp_path / "out.png", *TINY, "--style-weight", "1e300",
                         "-q")
    assert result.returncode == 1
    line = assert_one_clean_line(result.stderr)
    assert "the loss became" in line and "nothing written" in line
    assert list(tmp_path.iterdir()) == []


def test_zero_iterations_give_the_start_image(tmp_path):
    from neuralstyle.core import images
    from neuralstyle.core.synthesis import recolored, transfer

    result = transfer(Image.open(CONTENT), Image.open(STYLE), size=32, iterations=0)
    photo = images.resize_max_side(images.to_rgb(images.read_image(CONTENT)), 32)
    style = images.resize_max_side(images.to_rgb(images.read_image(STYLE)), 32)
    assert result.iterations == 0 and (result.image == images.to_uint8(recolored(photo, style))).all()
    from_photo = transfer(Image.open(CONTENT), Image.open(STYLE), size=32, iterations=0, init="content")
    assert (from_photo.image == images.to_uint8(photo.rgb)).all()


# --- files: claimed, never clobbered, whole ---------------------------------------------------


def test_an_unrelated_record_or_a_folder_where_the_record_goes_is_refused_before_any_work(tmp_path):
    (tmp_path / "a.json").write_text('{"mine": true}')
    (tmp_path / "b.json").mkdir()
    for stem, message in (("a", "a.json exists; pass --overwrite"), ("b", "b.json is a directory")):
        result = neuralstyle("transfer", CONTENT, STYLE, "-o", tmp_path / f"{stem}.png", *TINY)
        assert result.returncode == 2 and message in assert_one_clean_line(result.stderr)
    assert (tmp_path / "a.json").read_text() == '{"mine": true}'
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a.json", "b.json"]


def test_two_runs_racing_for_one_output_one_wins_and_the_other_is_refused_before_working(tmp_path):
    out = tmp_path / "out.png"
    first = Watcher(start(["transfer", CONTENT, STYLE, "-o", out, *TINY], env={"NEURALSTYLE_PAUSE_AT": "mid-run"}))
    first.wait_for("paused at mid-run")
    second = neuralstyle("transfer", CONTENT, STYLE, "-o", out, *TINY)
    assert second.returncode == 2
    assert "another neuralstyle run is making" in assert_one_clean_line(second.stderr)
    first.process.send_signal(signal.SIGINT)  # the first goes on to write its best image
    code, stderr = first.finish()
    assert code == 130, stderr
    assert json.loads((tmp_path / "out.json").read_text())["output"]["sha256"] == \
        hashlib.sha256(out.read_bytes()).hexdigest()
    assert not leftovers(tmp_path)


def test_with_overwrite_racing_runs_both_finish_and_the_last_image_on_disk_has_its_own_record(tmp_path):
    out = tmp_path / "out.png"
    runs = [start(["transfer", CONTENT, STYLE, "-o", out, "--size", "32", "--iterations", "4", "--init", "noise",
                   "--seed", str(seed), "--overwrite", "-q"]) for seed in (1, 2)]
    for run in runs:
        _, stderr = run.communicate(timeout=300)
        assert run.returncode == 0, stderr
    record = json.loads((tmp_path / "out.json").read_text())
    assert record["output"]["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert not leftovers(tmp_path)


@pytest.fixture
def small_disk(tmp_path):
    """A 200 KB tmpfs: a full disk on demand (skipped where mounting is not allowed)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(mount)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield mount
    subprocess.run(["umount", str(mount)], capture_output=True)


def test_a_full_disk_is_one_line_leaves_no_partial_file_and_keeps_the_earlier_results(small_disk):
    (small_disk / "out.png").write_bytes(b"earlier image")
    (small_disk / "out.json").write_text('{"earlier": "record"}')
    (small_disk / "filler").write_bytes(b"x" * 188_000)  # 8 KB left: less than the first frame, whatever it shows
    result = neuralstyle("transfer", CONTENT, STYLE, "-o", small_disk / "out.png", "--size", "96", "--iterations",
                         "3", "--frames", small_disk / "frames", "--overwrite", "-q")
    assert result.returncode == 1
    assert "No space left on device" in assert_one_clean_line(result.stderr)
    assert (small_disk / "out.png").read_bytes() == b"earlier image"
    assert (small_disk / "out.json").read_text() == '{"earlier": "record"}'
    assert not leftovers(small_disk) and not list((small_disk / "frames").glob("frame_*"))


# --- crafted images: bombs, text, truncation ---------------------------------------------------


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG whose header claims width x height 1-bit pixels, with a tiny (truncated) body."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)))
    return path


@pytest.mark.parametrize("role", ["content", "style", "init"])
def test_a_decompression_bomb_is_refused_from_its_header_in_any_role(role, tmp_path):
    bomb = png_header_only(tmp_path / "bomb.png", 20_000, 15_000)  # 300 million pixels in a few bytes
    args = {"content": [bomb, STYLE], "style": [CONTENT, bomb], "init": [CONTENT, STYLE, "--init", bomb]}[role]
    result = neuralstyle("transfer", *args[:2], "-o", tmp_path / "out.png", *TINY, *args[2:])
    assert result.returncode == 2
    line = assert_one_clean_line(result.stderr)
    assert "bomb.png (300,000,000 pixels) has more than 178,956,970 pixels; refusing to decode it" in line
    assert sorted(path.name for path in tmp_path.iterdir()) == ["bomb.png"]


def test_reading_images_leaves_pillows_own_limit_alone():
    from neuralstyle.core.images import read_image

    before = Image.MAX_IMAGE_PIXELS
    read_image(CONTENT)
    assert Image.MAX_IMAGE_PIXELS == before


@pytest.mark.parametrize("kind", ["text", "truncated", "bomb"])
def test_gif_refuses_bad_frames_in_one_line(kind, tmp_path):
    frames = tmp_path / "frames"
    frames.mkdir()
    Image.open(CONTENT).save(frames / "frame_00000.png")
    bad = frames / "frame_00001.png"
    if kind == "text":
        bad.write_text("not a frame")
    elif kind == "truncated":
        bad.write_bytes((frames / "frame_00000.png").read_bytes()[:40])
    else:
        png_header_only(bad, 20_000, 15_000)
    result = neuralstyle("gif", frames, "-o", tmp_path / "out.gif")
    assert result.returncode == 2
    assert "frame_00001.png" in assert_one_clean_line(result.stderr)
    assert not (tmp_path / "out.gif").exists()


def test_a_style_scale_that_would_not_fit_in_memory_is_refused_up_front(tmp_path):
    result = neuralstyle("transfer", CONTENT, STYLE, "-o", tmp_path / "out.png", "--size", "1024",
                         "--style-scale", "16", "--max-memory", "4GB")
    assert result.returncode == 2
    line = assert_one_clean_line(result.stderr)
    assert "a style image scaled to 12288x16384 px alone takes about 4.8 GB of memory" in line, line
    assert "--style-scale" in line and "--max-memory" in line and "4.0 GB allowed" in line


def test_a_signal_to_a_command_that_is_not_a_run_is_one_line_and_its_exit_code(tmp_path):
    pytest.importorskip("matplotlib")
    record = tmp_path / "run.json"
    record.write_text((FIXTURES / "transfer.json").read_text())
    watcher = Watcher(start(["plot", record, "-o", tmp_path / "curves.png"], env={"NEURALSTYLE_PAUSE_AT": "writing"}))
    watcher.wait_for("paused at writing")
    watcher.process.send_signal(signal.SIGHUP)
    code, stderr = watcher.finish()
    assert code == 128 + signal.SIGHUP, stderr
    assert stderr.strip().splitlines()[-1] == "neuralstyle: interrupted (SIGHUP) before the first iteration; " \
                                              "nothing written"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["run.json"]


def test_an_output_that_is_a_link_to_nothing_is_refused_before_any_work(tmp_path):
    (tmp_path / "out.png").symlink_to(tmp_path / "nowhere" / "x.png")
    result = neuralstyle("transfer", CONTENT, STYLE, "-o", tmp_path / "out.png", *TINY)
    assert result.returncode == 2 and "is a link to nothing" in assert_one_clean_line(result.stderr)


def test_a_batch_checks_every_input_before_the_first_image_runs(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "a.png").write_bytes(CONTENT.read_bytes())
    (photos / "b.png").write_text("not an image")
    result = neuralstyle("transfer", photos, STYLE, "-o", tmp_path / "out", *TINY)
    assert result.returncode == 2 and "b.png is not an image" in assert_one_clean_line(result.stderr)
    assert not list((tmp_path / "out").glob("*.png"))
