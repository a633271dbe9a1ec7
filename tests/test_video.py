"""Video without flicker (Ruder et al., GCPR 2016): optical flow and its trust masks
on clips whose true motion is known, a temporal loss whose gradient reaches the
optimiser, a clip that flickers less than frame-by-frame transfer without
losing its look, a resumable clip job, and bad clips refused in one line."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("cv2")
pytest.importorskip("imageio_ffmpeg")

from processes import default_signals  # noqa: E402
from sample_clips import pan, zoom  # noqa: E402
from sample_images import SAMPLES  # noqa: E402

from neuralstyle.core import flow  # noqa: E402

PHOTO = SAMPLES / "photo.png"
PAINTING = SAMPLES / "painting.png"


def neuralstyle(*args, timeout=600, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "neuralstyle", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, **kwargs)


def read_video(path) -> tuple[list[np.ndarray], dict]:
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    width, height = meta["size"]
    return [np.frombuffer(data, np.uint8).reshape(height, width, 3) for data in reader], meta


@pytest.fixture(scope="module")
def pan_clip(tmp_path_factory) -> dict:
    """A 6-frame pan over the photo, 2 px a frame, as a folder of PNGs and as an .mp4 with a sound track."""
    import imageio_ffmpeg

    from neuralstyle.jobs.clips import encode_video

    folder = tmp_path_factory.mktemp("clip")
    frames, flows = pan(PHOTO, 96, 64, 6, 2.0)
    (folder / "frames").mkdir()
    for index, frame in enumerate(frames):
        Image.fromarray(frame).save(folder / "frames" / f"shot_{index:03d}.png")
    silent = folder / "silent.mp4"
    silent.write_bytes(encode_video(frames, 12.0, ".mp4"))
    with_sound = folder / "pan.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-i", str(silent), "-f", "lavfi", "-i",
                    "sine=frequency=440:duration=0.5", "-c:v", "copy", "-c:a", "aac", "-shortest", str(with_sound)],
                   check=True)
    return {"frames": frames, "flows": flows, "folder": folder / "frames", "video": with_sound}


# --- flow ---------------------------------------------------------------------------------


def test_dis_flow_recovers_a_known_pan_and_zoom_to_a_fraction_of_a_pixel():
    frames, flows = pan(PHOTO, 160, 120, 2, 3.0)
    estimated = flow.optical_flow(frames[1], frames[0])
    interior = (slice(16, -16), slice(16, -16))
    assert np.median(np.abs(estimated[interior] - flows[0][interior])) < 0.15
    frames, flows = zoom(PHOTO, 160, 120, 2, 1.03)
    estimated = flow.optical_flow(frames[1], frames[0])
    assert np.median(np.abs(estimated[interior] - flows[0][interior])) < 0.25


def test_warping_by_the_true_flow_reproduces_the_next_frame_where_it_was_visible():
    frames, flows = pan(PHOTO, 96, 64, 2, 2.0)
    warped = flow.warp(frames[0], flows[0])
    assert np.abs(warped[:, :-2] - frames[1][:, :-2]).max() <= 1.0  # a 2 px shift is exact but for rounding
    assert flow.temporal_error(frames[1], frames[0], flows[0]) < 0.5


def test_reliability_drops_what_came_into_view_and_keeps_the_rest():
    frames, _ = pan(PHOTO, 128, 96, 2, 4.0)
    backward, forward = flow.optical_flow(frames[1], frames[0]), flow.optical_flow(frames[0], frames[1])
    reliable = flow.reliability(backward, forward)
    assert reliable[:, -2:].mean() == 0.0  # the 4 px strip that entered at the right has no past
    assert reliable[8:-8, 8:-12].mean() > 0.95


def test_long_term_weights_hold_each_pixel_to_the_nearest_frame_that_saw_it():
    nearest = np.array([[1, 0, 0]], np.float32)
    further = np.array([[1, 1, 0]], np.float32)
    furthest = np.array([[1, 1, 1]], np.float32)
    weights = flow.long_term_weights([nearest, further, furthest])
    assert [w.tolist() for w in weights] == [[[1, 0, 0]], [[0, 1, 0]], [[0, 0, 1]]]


# --- the temporal loss ----------------------------------------------------------------------


def test_the_temporal_loss_is_a_weighted_mean_square_whose_gradient_reaches_the_optimiser():
    from neuralstyle.core.evaluator import TEMPORAL_SCALE, Evaluator, TemporalTarget
    from neuralstyle.core.images import preprocess
    from neuralstyle.core.model import FeatureModel

    rng = np.random.default_rng(0)
    height, width = 32, 48
    target = rng.uniform(0, 255, (height, width, 3)).astype(np.float32)
    weight = (rng.uniform(size=(height, width)) > 0.3).astype(np.float32)
    model = FeatureModel(["block1_conv1"], weights=None)
    # The network's part weighs nothing here (style weight 0): what is left is the temporal term alone.
    evaluator = Evaluator(model, height, width, style_targets={"block1_conv1": np.eye(64, dtype=np.float32)},
                          style_weight=0.0, temporal=[TemporalTarget(target, weight)], temporal_weight=1000.0)
    image = rng.uniform(0, 255, (height, width, 3)).astype(np.float32)
    x = preprocess(image).reshape(-1).astype(np.float64)
    loss, gradient = evaluator.evaluate(x)
    expected = 1000.0 * np.mean(weight[..., None] * np.square(image.astype(np.float64) - target)) / TEMPORAL_SCALE
    assert evaluator.last.temporal == pytest.approx(expected, rel=1e-5) and loss == pytest.approx(expected, rel=1e-5)
    step = np.zeros_like(x)
    step[::97] = 1e-2
    numeric = (evaluator.evaluate(x + step)[0] - evaluator.evaluate(x - step)[0]) / 2
    assert float(gradient @ step) == pytest.approx(numeric, rel=1e-4)
    assert np.all(gradient.reshape(height, width, 3)[weight == 0] == 0)  # untrusted pixels feel no pull


# --- a clip ------------------------------------------------------------------------------


def test_a_clip_flickers_far_less_than_frame_by_frame_transfer_and_keeps_its_look(pan_clip):
    from neuralstyle.core.synthesis import transfer
    from neuralstyle.core.video import stylise_clip

    frames, flows = pan_clip["frames"], pan_clip["flows"]
    settings = dict(size=96, iterations=40, precision="float32")
    independent = [transfer(frame, Image.open(PAINTING), **settings) for frame in frames]
    losses = []
    held = stylise_clip(frames, Image.open(PAINTING), on_frame=lambda step, result: losses.append(result.loss),
                        **settings)

    def flicker(outputs):
        return np.mean([flow.temporal_error(outputs[t], outputs[t - 1], flows[t - 1]) for t in range(1, len(outputs))])

    assert flicker(held) < 0.5 * flicker([result.image for result in independent])
    # The look is kept: each frame's style loss stays near the independent frame's, and the content too.
    for result, loss in zip(independent[1:], losses[1:]):
        assert loss["style"] < 1.6 * result.loss["style"]
        assert loss["content"] < 1.6 * result.loss["content"]
        assert loss["temporal"] > 0
    assert np.std(held[-1]) > 20  # a picture, not a flat field


def test_a_clip_is_painted_to_a_video_of_the_same_frame_rate_with_its_sound(pan_clip, tmp_path):
    output = tmp_path / "out.mp4"
    result = neuralstyle("video", pan_clip["video"], PAINTING, "-o", output, "--size", 64, "--iterations", 5,
                         "--frame-range", "1:5")
    assert result.returncode == 0, result.stderr
    frames, meta = read_video(output)
    assert len(frames) == 4 and meta["fps"] == pytest.approx(12.0) and meta["size"] == (64, 44)  # 43 px, made even
    assert meta.get("audio_codec")  # the sound came along
    record = json.loads((tmp_path / "out.json").read_text())
    assert [entry["frame"] for entry in record["frames"]] == [0, 1, 2, 3]
    assert record["clip"]["frames"] == [1, 5] and record["clip"]["of"] == 6
    assert not (tmp_path / ".out.mp4.neuralstyle-work").exists()  # the work folder goes with a finished clip
    again = neuralstyle("rerun", tmp_path / "out.json", "-o", tmp_path / "again")  # a record repeats the clip
    assert again.returncode == 0, again.stderr
    assert "all 4 frames are the recorded run's, bit for bit" in again.stderr  # each frame's sha256 is recorded
    assert sorted(path.name for path in (tmp_path / "again").glob("*.png")) == [
        f"frame_{index:05d}.png" for index in range(1, 5)]
    repeated = np.asarray(Image.open(tmp_path / "again" / "frame_00004.png"), np.float32)
    assert np.abs(repeated - frames[3][:43].astype(np.float32)).mean() < 8  # the video holds a lossy copy of it


def test_a_clip_rerun_that_paints_other_frames_says_how_many_and_which_first():
    from neuralstyle.jobs.records import reproduction

    def clip_record(shas, **more):
        return {"clip": {"frames": [0, len(shas)]}, "versions": {"tensorflow": "2.21.0"}, "device": "CPU (2 cores, AVX2)",
                "frames": [{"pass": 0, "frame": index, "name": f"frame_{index:05d}.png", "sha256": sha}
                           for index, sha in enumerate(shas)], **more}

    recorded = clip_record(["a" * 64, "b" * 64, "c" * 64])
    assert reproduction(recorded, clip_record(["a" * 64, "b" * 64, "c" * 64]))[0] is True
    same, line = reproduction(recorded, clip_record(["a" * 64, "d" * 64, "e" * 64], device="CPU (2 cores, AVX-512)"))
    assert same is False
    assert line == ("2 of 3 frames differ from the recorded run's (the first: frame_00001.png): "
                    "device CPU (2 cores, AVX2) -> CPU (2 cores, AVX-512)")
    # A second pass over a frame replaces its first; a record from before frames had a sha256 is not compared.
    twice = {**recorded, "frames": [*recorded["frames"], {"pass": 1, "frame": 0, "name": "frame_00000.png",
                                                          "sha256": "f" * 64}]}
    assert reproduction(twice, clip_record(["f" * 64, "b" * 64, "c" * 64]))[0] is True
    older = {**recorded, "frames": [{key: value for key, value in entry.items() if key != "sha256"}
                                    for entry in recorded["frames"]]}
    assert reproduction(older, recorded) == (None, "the record holds no sha256 of its frames, so the new ones are "
                                                   "not compared with it")


def test_a_gif_clip_keeps_its_frame_rate_and_can_be_written_as_a_gif(pan_clip, tmp_path):
    pictures = [Image.fromarray(frame) for frame in pan_clip["frames"][:3]]
    pictures[0].save(tmp_path / "in.gif", save_all=True, append_images=pictures[1:], duration=100, loop=0)
    result = neuralstyle("video", tmp_path / "in.gif", PAINTING, "-o", tmp_path / "out.gif", "--size", 48,
                         "--iterations", 3)
    assert result.returncode == 0, result.stderr
    with Image.open(tmp_path / "out.gif") as painted:
        assert painted.n_frames == 3 and painted.size == (48, 32) and painted.info["duration"] == 100
    assert json.loads((tmp_path / "out.json").read_text())["clip"]["fps"] == 10.0


def run_until_frames_done(args, work: Path, frames: int, signal_number) -> subprocess.CompletedProcess:
    """Start `neuralstyle ARGS`, wait until `frames` frames are kept in `work`, then send `signal_number`."""
    child = subprocess.Popen([sys.executable, "-m", "neuralstyle", *map(str, args)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, preexec_fn=default_signals)
    deadline = time.time() + 300
    while time.time() < deadline and child.poll() is None:
        if len(list((work / "pass0").glob("*.png"))) >= frames if (work / "pass0").is_dir() else False:
            break
        time.sleep(0.05)
    child.send_signal(signal_number)
    stdout, stderr = child.communicate(timeout=120)
    return subprocess.CompletedProcess(args, child.returncode, stdout, stderr)


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill -9"])
def test_an_interrupted_clip_keeps_its_frames_and_resumes_to_the_same_frames(pan_clip, tmp_path, signal_number):
    common = [PAINTING, "--size", 64, "--iterations", 12, "--precision", "float32"]
    whole = tmp_path / "whole"
    assert neuralstyle("video", pan_clip["folder"], *common, "-o", whole).returncode == 0
    cut = tmp_path / "cut"
    interrupted = run_until_frames_done(["video", pan_clip["folder"], *common, "-o", cut],
                                        tmp_path / ".cut.neuralstyle-work", 2, signal_number)
    if signal_number == signal.SIGINT:
        assert interrupted.returncode == 130
        assert "frames finished" in interrupted.stderr and "neuralstyle resume" in interrupted.stderr
    else:
        assert interrupted.returncode == -signal.SIGKILL
    kept = sorted(path.name for path in (tmp_path / ".cut.neuralstyle-work" / "pass0").glob("*.png"))
    assert 2 <= len(kept) < 6
    kept_pixels = {name: np.asarray(Image.open(tmp_path / ".cut.neuralstyle-work" / "pass0" / name)) for name in kept}
    # Starting again without --overwrite would throw the finished frames away: refused, with the way on.
    again = neuralstyle("video", pan_clip["folder"], *common, "-o", cut)
    assert again.returncode == 2 and "neuralstyle resume" in again.stderr
    resumed = neuralstyle("resume", cut)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming" in resumed.stderr
    names = sorted(path.name for path in whole.glob("*.png"))
    assert names == sorted(path.name for path in cut.glob("*.png")) == [f"shot_{i:03d}.png" for i in range(6)]
    for name in names:
        a, b = (np.asarray(Image.open(folder / name), np.float32) for folder in (whole, cut))
        assert np.abs(a - b).mean() < 1.0, name
    for name, pixels in kept_pixels.items():  # the frames finished before the signal are not painted again
        assert np.array_equal(np.asarray(Image.open(cut / name)), pixels), name
    first, second = (json.loads((folder / "record.json").read_text()) for folder in (whole, cut))
    for entry_a, entry_b in zip(first["frames"], second["frames"]):
        assert entry_b["loss"]["total"] == pytest.approx(entry_a["loss"]["total"], rel=0.02)


def test_a_clip_interrupted_under_the_previous_record_format_still_resumes(pan_clip, tmp_path):
    """A work folder written before balance existed (schema 2) belongs to the same run once migrated: its
    frames are kept, not refused as another run's."""
    from neuralstyle.jobs.clips import read_clip
    from neuralstyle.jobs.spec import RunSpec
    from neuralstyle.jobs.video import STATE, load_state, work_folder

    spec = RunSpec(mode="video", content=pan_clip["folder"], styles=[PAINTING], output=tmp_path / "out", size=64,
                   balance="fixed")
    clip = read_clip(spec.content)
    work = work_folder(spec)
    (work / "pass0").mkdir(parents=True)
    Image.fromarray(clip.frames[0]).save(work / "pass0" / clip.names[0])
    old = {**spec.to_record(), "schema": 2}
    del old["balance"]
    (work / STATE).write_text(json.dumps({"arguments": old, "clip": clip.record(),
                                          "frames": [{"pass": 0, "frame": 0, "name": clip.names[0]}]}))
    assert list(load_state(spec, clip)["done"]) == [(0, 0)]
    with pytest.raises(Exception, match="other settings"):
        load_state(spec.replace(balance="pair"), clip)


BAD_CLIPS = {
    "unreadable video": ("garbage.mp4", "cannot read the video"),
    "empty folder": ("empty", "no frames"),
    "mixed frame sizes": ("mixed", "share one size"),
    "range outside the clip": ("range", "outside"),
    "not a video": ("note.txt", "is not a video"),
    "truncated video": ("truncated.mp4", "cannot read the video"),
}


@pytest.mark.parametrize("case", list(BAD_CLIPS))
def test_a_bad_clip_is_one_line_and_exit_code_2(case, pan_clip, tmp_path):
    name, expected = BAD_CLIPS[case]
    (tmp_path / "garbage.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)
    (tmp_path / "empty").mkdir()
    (tmp_path / "mixed").mkdir()
    Image.new("RGB", (64, 48)).save(tmp_path / "mixed" / "a.png")
    Image.new("RGB", (64, 50)).save(tmp_path / "mixed" / "b.png")
    (tmp_path / "note.txt").write_text("hello")
    whole = pan_clip["video"].read_bytes()
    (tmp_path / "truncated.mp4").write_bytes(whole[: len(whole) // 2])  # a download cut short
    clip, extra = (pan_clip["video"], ["--frame-range", "4:9"]) if name == "range" else (tmp_path / name, [])
    result = neuralstyle("video", clip, PAINTING, "-o", tmp_path / "out.mp4", "--size", 64, *extra)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("neuralstyle: error: ") and expected in lines[0], result.stderr


def test_a_mask_of_another_shape_than_the_clip_is_one_line_and_exit_code_2(pan_clip, tmp_path):
    Image.new("L", (50, 50), 255).save(tmp_path / "square.png")
    result = neuralstyle("video", pan_clip["folder"], PAINTING, "-o", tmp_path / "out", "--size", 64,
                         "--style-mask", tmp_path / "square.png")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "another aspect ratio" in lines[0], result.stderr


def test_an_existing_output_and_a_missing_video_extra_are_refused_in_one_line(pan_clip, tmp_path):
    existing = tmp_path / "out.mp4"
    existing.write_bytes(b"mine")
    result = neuralstyle("video", pan_clip["video"], PAINTING, "-o", existing, "--size", 64)
    assert result.returncode == 2 and "--overwrite" in result.stderr and existing.read_bytes() == b"mine"
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "cv2.py").write_text("raise ImportError('no OpenCV here')\n")
    result = neuralstyle("video", pan_clip["video"], PAINTING, "-o", tmp_path / "new.mp4",
                         env={**__import__("os").environ, "PYTHONPATH": str(shadow)})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        'neuralstyle: error: video needs OpenCV and ffmpeg: pip install "neuralstyle[video]" (in a clone: pip '
        'install -e ".[video]") (opencv-python-headless not installed)']


def test_a_second_run_of_the_same_clip_is_refused_while_the_first_paints(pan_clip, tmp_path):
    output = tmp_path / "out"
    first = subprocess.Popen([sys.executable, "-m", "neuralstyle", *map(str, [
        "video", pan_clip["folder"], PAINTING, "-o", output, "--size", 64, "--iterations", 30])],
        stderr=subprocess.PIPE, text=True, preexec_fn=default_signals)
    work = tmp_path / ".out.neuralstyle-work" / "pass0"
    deadline = time.time() + 300
    while time.time() < deadline and not (work.is_dir() and any(work.iterdir())):
        time.sleep(0.05)
    for racer in (["video", pan_clip["folder"], PAINTING, "-o", output, "--size", 64, "--overwrite"],
                  ["resume", output]):
        result = neuralstyle(*racer)
        assert result.returncode == 2 and "another neuralstyle run is painting" in result.stderr, result.stderr
    first.send_signal(signal.SIGINT)
    assert first.wait(timeout=120) == 130


def test_a_clip_under_balance_raw_is_measured_once_by_its_first_frame(monkeypatch):
    """Every frame keeps the first frame's energies (so the balance cannot flicker), measured by one pass."""
    from neuralstyle.core import synthesis
    from neuralstyle.core.video import stylise_clip

    measures = []
    measure = synthesis.measure_raw_energies
    monkeypatch.setattr(synthesis, "measure_raw_energies", lambda *args: measures.append(1) or measure(*args))
    frames, _ = pan(PHOTO, 64, 48, 3, 2.0)
    seen = []
    stylise_clip(frames, Image.open(PAINTING), size=64, iterations=2,
                 on_frame=lambda step, result: seen.append(result.settings))
    assert len(measures) == 1, "measured by the first frame only"
    assert [entry["balance"] for entry in seen] == ["raw"] * 3
    assert all(entry["raw_energies"] == seen[0]["raw_energies"] for entry in seen)
    assert all(entry["content_weights"] == seen[0]["content_weights"] for entry in seen)


def test_a_cut_starts_a_new_shot_painted_afresh_and_passes_alternate_direction(monkeypatch):
    from neuralstyle.core import synthesis
    from neuralstyle.core.video import Flows, shots, stylise_clip

    measures = []
    measure = synthesis.measure_pair_distance
    monkeypatch.setattr(synthesis, "measure_pair_distance", lambda *args: measures.append(1) or measure(*args))
    first, _ = pan(PHOTO, 64, 48, 3, 2.0)
    second, _ = pan(SAMPLES / "photo2.png", 64, 48, 3, 2.0)
    frames = first + second
    assert shots(Flows(frames), len(frames)) == [0, 0, 0, 1, 1, 1]
    seen = []
    outputs = stylise_clip(frames, Image.open(PAINTING), size=64, iterations=4, passes=2, balance="pair",
                           on_frame=lambda step, result: seen.append((step.pass_index, step.frame,
                                                                      result.loss["temporal"],
                                                                      result.settings["pair_distance"])))
    assert len(outputs) == 6 and all(output.shape == (48, 64, 3) for output in outputs)
    assert len(measures) == 1, "the clip's balance is measured once, by its first frame, not again for every frame"
    # Every frame, of either shot, keeps the first frame's balance (balance 'pair'), so the balance cannot flicker.
    from neuralstyle.core.synthesis import transfer

    first_frame = transfer(frames[0], Image.open(PAINTING), size=64, iterations=0,
                           balance="pair").settings["pair_distance"]
    assert {distance for *_, distance in seen} == {first_frame}
    assert transfer(frames[3], Image.open(PAINTING), size=64, iterations=0,
                    balance="pair").settings["pair_distance"] != first_frame
    seen = [entry[:3] for entry in seen]
    assert [(p, f) for p, f, _ in seen] == [(0, f) for f in range(6)] + [(1, f) for f in range(5, -1, -1)]
    temporal = {(p, f): value for p, f, value in seen}
    assert all(temporal[(0, f)] == 0 for f in range(6))  # of two passes, the first only warps its starts
    # The second pass runs backward and holds each frame to the later ones of its own shot, not across the cut.
    assert temporal[(1, 5)] == 0 and temporal[(1, 2)] == 0
    assert all(temporal[(1, f)] > 0 for f in (4, 3, 1, 0))


def test_every_frame_of_a_clip_takes_its_first_frames_raw_balance():
    """Balance 'raw' (the default): the second shot's frames, another photo, are weighed as the first frame
    is, not by their own energy, so the balance cannot flicker between frames or shots."""
    from neuralstyle.core.synthesis import transfer
    from neuralstyle.core.video import stylise_clip

    first, _ = pan(PHOTO, 64, 48, 2, 2.0)
    second, _ = pan(SAMPLES / "photo2.png", 64, 48, 2, 2.0)
    weights = []
    stylise_clip(first + second, Image.open(PAINTING), size=64, iterations=1,
                 on_frame=lambda step, result: weights.append(result.settings["content_weights"]))
    own = transfer(second[0], Image.open(PAINTING), size=64, iterations=0).settings["content_weights"]
    assert len(weights) == 4 and all(weight == weights[0] for weight in weights) and own != weights[0]


def test_the_shots_of_a_clip_are_painted_as_ray_tasks(tmp_path):
    pytest.importorskip("ray")
    first, _ = pan(PHOTO, 64, 48, 3, 2.0)
    second, _ = pan(SAMPLES / "photo2.png", 64, 48, 2, 2.0)
    folder = tmp_path / "frames"
    folder.mkdir()
    for index, frame in enumerate(first + second):
        Image.fromarray(frame).save(folder / f"f{index}.png")
    result = neuralstyle("video", folder, PAINTING, "-o", tmp_path / "out", "--size", 64, "--iterations", 3,
                         "--ray", "local", "--workers", 2, env={**__import__("os").environ,
                                                               "RAY_USAGE_STATS_ENABLED": "0"})
    assert result.returncode == 0, result.stderr
    assert "2 shot(s); 2 to paint as Ray tasks" in result.stderr
    assert sorted(path.name for path in (tmp_path / "out").glob("*.png")) == [f"f{index}.png" for index in range(5)]
    record = json.loads((tmp_path / "out" / "record.json").read_text())
    assert sorted(entry["frame"] for entry in record["frames"]) == list(range(5))
    # Each shot starts afresh: the first frame of the second shot feels no pull from the first shot.
    assert {entry["frame"]: entry["loss"]["temporal"] for entry in record["frames"]}[3] == 0
    # Both shots take the clip's first frame's balance, though the second shot's frames are another photo.
    assert len({tuple(entry["content_weights"]) for entry in record["frames"]}) == 1
