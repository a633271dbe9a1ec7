"""Checkpoints and `neuralstyle resume`: an interrupted run (a signal, a kill, a
crash) continues from its last checkpoint to the iterations it asked for, and
ends where an uninterrupted run ends."""

from __future__ import annotations

import json
import signal
import time

import numpy as np
import pytest
from sample_images import SAMPLES
from test_faults import Watcher, assert_one_clean_line, neuralstyle, start

from neuralstyle.jobs import checkpoints, pipeline
from neuralstyle.jobs.spec import RunSpec

PAIR = [SAMPLES / "photo.png", SAMPLES / "painting.png"]


def stop_at(iteration: int):
    """A callback that interrupts the run after `iteration` iterations, as a signal would."""
    seen = []
    return lambda progress: "interrupted" if len(seen.append(None) or seen) > iteration else None


def interrupted_run(spec: RunSpec, at: int) -> pipeline.Outcome:
    outcome = pipeline.execute(pipeline.prepare(spec), stop_at(at))
    pipeline.write(outcome)
    return outcome


def test_a_run_interrupted_at_40_of_100_and_resumed_ends_within_2_percent_of_the_uninterrupted_run(tmp_path):
    common = dict(mode="transfer", content=PAIR[0], styles=[PAIR[1]], size=96, iterations=100, checkpoint_every=10)
    whole = pipeline.run(RunSpec(**common, output=tmp_path / "whole.png"))
    pipeline.write(whole)  # a complete run's files: its checkpoint goes
    assert whole.record["iterations"] == 100
    interrupted_run(RunSpec(**common, output=tmp_path / "cut.png"), at=40)
    record = json.loads((tmp_path / "cut.json").read_text())
    assert record["interrupted"] and record["iterations"] == 40
    state = checkpoints.load(tmp_path / "cut.checkpoint.npz")
    assert state.iterations == 40 and [entry["iteration"] for entry in state.history] == list(range(41))

    result = neuralstyle("resume", tmp_path / "cut.json")
    assert result.returncode == 0, result.stderr
    assert "resuming at iteration 40 of 100" in result.stdout + result.stderr
    record = json.loads((tmp_path / "cut.json").read_text())
    assert record["iterations"] == 100 and record["stopped"] is None and record["resumed_at"] == 40
    assert [entry["iteration"] for entry in record["history"]] == list(range(101))
    final, reference = record["final_loss"]["total"], whole.record["final_loss"]["total"]
    assert abs(final - reference) <= 0.02 * reference, (final, reference)
    assert not (tmp_path / "cut.checkpoint.npz").exists()  # complete: nothing left to resume
    assert sorted(path.name for path in tmp_path.iterdir()) == ["cut.json", "cut.png", "whole.json", "whole.png"]


def test_a_coarse_to_fine_run_interrupted_in_its_second_scale_resumes_there(tmp_path):
    spec = RunSpec(mode="transfer", content=PAIR[0], styles=[PAIR[1]], size=128, scales=2, iterations=(8, 10),
                   output=tmp_path / "out.png", frames=tmp_path / "frames", gif=tmp_path / "out.gif",
                   checkpoint_every=4)
    interrupted_run(spec, at=12)
    state = checkpoints.load(tmp_path / "out.checkpoint.npz")
    assert (state.scale, state.scale_iterations, state.iterations, state.size) == (1, 4, 12, (128, 96))
    result = neuralstyle("resume", tmp_path / "out.png", "-q")
    assert result.returncode == 0, result.stderr
    record = json.loads((tmp_path / "out.json").read_text())
    assert record["iterations"] == 18 and record["resumed_at"] == 12
    assert [entry["scale"] for entry in record["history"]] == [0] * 9 + [1] * 10
    # Every frame is there once, the interrupted part's and the resumed part's, and the GIF shows them all.
    assert sorted(path.name for path in (tmp_path / "frames").iterdir()) == [f"frame_{i:05d}.png" for i in range(19)]
    from PIL import Image

    with Image.open(tmp_path / "out.gif") as gif:
        assert gif.n_frames == 19


def test_a_killed_run_resumes_from_its_last_checkpoint(tmp_path):
    out = tmp_path / "out.png"
    process = start(["transfer", *PAIR, "-o", out, "--size", "96", "--iterations", "400", "--checkpoint-every", "5",
                     "-q"])
    deadline = time.monotonic() + 240
    while not (tmp_path / "out.checkpoint.npz").exists():
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.2)
    time.sleep(1.0)
    process.send_signal(signal.SIGKILL)  # no handler runs: only the checkpoint is left
    process.wait()
    assert not out.exists()
    state = checkpoints.load(tmp_path / "out.checkpoint.npz")  # whole, whatever moment the kill came
    assert state.iterations % 5 == 0 and state.iterations >= 5
    assert not [path for path in tmp_path.iterdir() if path.name.endswith(".part")]
    # Finish it sooner: resume runs to the recorded 400, so stop it again with a signal at its first checkpoint.
    watcher = Watcher(start(["resume", tmp_path / "out.checkpoint.npz"], env={"NEURALSTYLE_PAUSE_AT": "mid-run"}))
    watcher.wait_for("paused at mid-run")
    watcher.process.send_signal(signal.SIGINT)
    code, stderr = watcher.finish()
    assert code == 130, stderr
    assert f"continue with: neuralstyle resume {tmp_path / 'out.json'}" in stderr
    record = json.loads((tmp_path / "out.json").read_text())
    assert record["resumed_at"] == state.iterations and record["iterations"] > state.iterations
    assert checkpoints.load(tmp_path / "out.checkpoint.npz").iterations == record["iterations"]


def test_resume_refuses_changed_inputs_and_crafted_checkpoints_in_one_line(tmp_path):
    import shutil

    content = tmp_path / "content.png"
    shutil.copy(PAIR[0], content)
    spec = RunSpec(mode="transfer", content=content, styles=[PAIR[1]], size=64, iterations=20, checkpoint_every=2,
                   output=tmp_path / "out.png")
    interrupted_run(spec, at=4)
    saved = (tmp_path / "out.checkpoint.npz").read_bytes()

    shutil.copy(PAIR[1], content)  # another picture under the same name
    result = neuralstyle("resume", tmp_path / "out.json")
    assert result.returncode == 2 and "changed since the interrupted run" in assert_one_clean_line(result.stderr)

    for crafted in (b"not a checkpoint", saved[: len(saved) // 2]):
        (tmp_path / "out.checkpoint.npz").write_bytes(crafted)
        result = neuralstyle("resume", tmp_path / "out.json")
        assert result.returncode == 2 and "not a readable checkpoint" in assert_one_clean_line(result.stderr)

    (tmp_path / "out.checkpoint.npz").write_bytes(saved)
    state = checkpoints.load(tmp_path / "out.checkpoint.npz")
    state.x = np.full_like(state.x, 1e6)  # not a picture
    checkpoints.save(tmp_path / "out.checkpoint.npz", state)
    result = neuralstyle("resume", tmp_path / "out.json")
    assert result.returncode == 2 and "is not a 64x48 picture" in assert_one_clean_line(result.stderr)

    (tmp_path / "out.checkpoint.npz").unlink()
    result = neuralstyle("resume", tmp_path / "out.json")
    assert result.returncode == 2 and "no checkpoint" in assert_one_clean_line(result.stderr)


def test_a_complete_run_leaves_no_checkpoint_and_checkpoint_every_0_writes_none(tmp_path):
    result = neuralstyle("transfer", *PAIR, "-o", tmp_path / "every3.png", "--size", "64", "--iterations", "7",
                         "--checkpoint-every", "3", "-q")
    assert result.returncode == 0, result.stderr
    interrupted_run(RunSpec(mode="transfer", content=PAIR[0], styles=[PAIR[1]], size=64, iterations=9,
                            checkpoint_every=0, output=tmp_path / "none.png"), at=3)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["every3.json", "every3.png", "none.json", "none.png"]


def test_a_run_that_l_bfgs_b_ends_by_its_own_convergence_is_complete_and_leaves_nothing_to_resume(tmp_path):
    from neuralstyle.core import settings

    message = "CONVERGENCE: REL_REDUCTION_OF_F_<=_FACTR*EPSMCH"  # SciPy's own words when it converges
    assert settings.ended_whole(message) and not settings.ended_whole("interrupted")
    spec = RunSpec(content=SAMPLES / "photo.png", styles=[SAMPLES / "painting.png"], output=tmp_path / "out.png",
                   size=32, iterations=20, checkpoint_every=1)
    seen = []
    outcome = pipeline.run(spec, lambda progress: seen.append(progress.iteration) or (message if len(seen) > 2 else None))
    assert outcome.stopped == message and checkpoints.checkpoint_path(spec.output).exists()
    pipeline.write(outcome)
    assert not checkpoints.checkpoint_path(spec.output).exists()  # complete: nothing kept to resume
    with pytest.raises(settings.SettingError, match="the run finished"):
        checkpoints.load(checkpoints.find(spec.record_path))


@pytest.mark.parametrize("inputs, words", [([1, 2], "its inputs are [1, 2]"),
                                           ({"content": [{"path": "a.png", "sha256": None}]}, "cannot be verified"),
                                           ({"content": "a.png"}, "cannot be verified")])
def test_a_record_with_malformed_inputs_is_refused_in_one_line(tmp_path, inputs, words):
    from neuralstyle.core.settings import SettingError
    from neuralstyle.jobs.records import read_record

    spec = RunSpec(content=PAIR[0], styles=[PAIR[1]], output=tmp_path / "out.png", size=32, iterations=1)
    pipeline.write(pipeline.run(spec))
    record = json.loads(spec.record_path.read_text())
    read_record(spec.record_path)  # as written: good
    record["inputs"] = inputs
    spec.record_path.write_text(json.dumps(record))
    with pytest.raises(SettingError, match=words.replace("[", r"\[").replace("]", r"\]")):
        read_record(spec.record_path)


def test_an_oversized_record_is_refused_before_it_is_read(tmp_path, monkeypatch):
    from neuralstyle.core.settings import SettingError
    from neuralstyle.jobs import records

    huge = tmp_path / "huge.json"
    with open(huge, "wb") as file:
        file.truncate(records.MAX_RECORD_BYTES + 1)  # sparse: nothing is written, nothing should be read
    monkeypatch.setattr(type(huge), "read_text", lambda self, *a, **k: pytest.fail("the record was read"))
    with pytest.raises(SettingError, match="a neuralstyle run record is at most 64 MiB"):
        records.read_record(huge)


def sha256(path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_resume_writes_beside_the_checkpoint_and_never_over_another_runs_finished_work(tmp_path):
    import shutil

    common = dict(mode="transfer", content=PAIR[0], styles=[PAIR[1]], size=48, iterations=12, checkpoint_every=2)
    first, moved = tmp_path / "first", tmp_path / "moved"
    first.mkdir()
    interrupted_run(RunSpec(**common, output=first / "cut.png"), at=4)
    shutil.move(first, moved)  # the interrupted run's folder goes elsewhere ...
    first.mkdir()
    pipeline.write(pipeline.run(RunSpec(**common, output=first / "cut.png")))  # ... and a new run finishes there
    theirs = {name: sha256(first / name) for name in ("cut.png", "cut.json")}

    result = neuralstyle("resume", moved / "cut.json")
    assert result.returncode == 0, result.stderr
    assert {name: sha256(first / name) for name in theirs} == theirs  # the finished run is untouched
    record = json.loads((moved / "cut.json").read_text())
    assert record["iterations"] == 12 and record["output"]["path"] == str((moved / "cut.png").resolve())

    # A checkpoint whose output another run finished since: refused in one line, unless --overwrite.
    spare = tmp_path / "spare"
    spare.mkdir()
    interrupted_run(RunSpec(**common, output=spare / "cut.png"), at=4)
    kept = (spare / "cut.checkpoint.npz").read_bytes()
    pipeline.write(pipeline.run(RunSpec(**common, output=spare / "cut.png", overwrite=True)))
    (spare / "cut.checkpoint.npz").write_bytes(kept)
    finished = sha256(spare / "cut.png")
    refused = neuralstyle("resume", spare / "cut.checkpoint.npz")
    assert refused.returncode == 2 and sha256(spare / "cut.png") == finished
    assert "not the interrupted run's record" in assert_one_clean_line(refused.stderr)
    forced = neuralstyle("resume", spare / "cut.checkpoint.npz", "--overwrite")
    assert forced.returncode == 0, forced.stderr


def test_two_resumes_of_one_checkpoint_do_not_both_run(tmp_path):
    spec = RunSpec(mode="transfer", content=PAIR[0], styles=[PAIR[1]], size=64, iterations=400, checkpoint_every=2,
                   output=tmp_path / "cut.png")
    interrupted_run(spec, at=4)
    first = start(["resume", tmp_path / "cut.json"])
    watcher = Watcher(first)
    watcher.wait_for("resuming at iteration 4", timeout=120)
    second = neuralstyle("resume", tmp_path / "cut.json")
    assert second.returncode == 2
    assert "another neuralstyle run is making" in assert_one_clean_line(second.stderr)
    first.send_signal(signal.SIGINT)
    assert watcher.finish()[0] == 130
