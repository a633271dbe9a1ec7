"""The one run pipeline: RunSpec → Outcome (data) → files. Tiny runs on small
generated images (tests/fixtures), so no ../shared is needed."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from neuralstyle.core.settings import SettingError
from neuralstyle.jobs import pipeline
from neuralstyle.jobs.records import read_record
from neuralstyle.jobs.spec import RunSpec

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "records_v1"
CONTENT, STYLE = FIXTURES / "content.png", FIXTURES / "style.png"


def tiny(tmp_path: Path, **changes) -> RunSpec:
    values = dict(mode="transfer", content=CONTENT, styles=[STYLE], output=tmp_path / "out.png", size=32,
                  iterations=3)
    return RunSpec(**{**values, **changes})


def _pixels_sha256(path: Path) -> str:
    with Image.open(path) as image:
        return hashlib.sha256(image.tobytes()).hexdigest()


def test_an_outcome_is_data_until_written_and_travels_as_bytes(tmp_path):
    spec = tiny(tmp_path, frames=tmp_path / "frames", save_every=1, gif=tmp_path / "run.gif")
    outcome = pipeline.run(spec)
    assert not spec.output.exists() and not (tmp_path / "frames").exists()  # computing wrote nothing
    travelled = pickle.loads(pickle.dumps(outcome))  # as a worker on another machine would send it
    written = pipeline.write(travelled)
    assert written == [spec.output, spec.gif, spec.record_path]
    with Image.open(spec.output) as image:
        assert np.array_equal(np.asarray(image), outcome.image)
    assert sorted(path.name for path in (tmp_path / "frames").iterdir()) == [f"frame_{n:05d}.png" for n in range(4)]
    record = json.loads(spec.record_path.read_text())
    assert record["arguments"] == spec.to_record() and record["iterations"] == 3
    assert not list(tmp_path.rglob("*.part"))


def test_the_record_hashes_the_inputs_as_read_even_when_the_output_replaces_one(tmp_path):
    content = tmp_path / "photo.png"
    content.write_bytes(CONTENT.read_bytes())
    digest = hashlib.sha256(CONTENT.read_bytes()).hexdigest()
    outcome = pipeline.run(tiny(tmp_path, content=content, output=content, overwrite=True))
    pipeline.write(outcome)
    record = json.loads(content.with_suffix(".json").read_text())
    assert record["inputs"]["content"][0]["sha256"] == digest
    assert hashlib.sha256(content.read_bytes()).hexdigest() != digest  # the painting is there now


def test_a_file_that_appears_during_the_run_is_never_replaced_without_overwrite(tmp_path):
    spec = tiny(tmp_path)
    outcome = pipeline.run(spec)
    spec.output.write_bytes(b"another run's image")
    with pytest.raises(SettingError, match="appeared while the run went on"):
        pipeline.write(outcome)
    assert spec.output.read_bytes() == b"another run's image"
    assert not list(tmp_path.glob("*.part")) and not list(tmp_path.glob(".*.part"))
    # With overwrite the last writer wins, whole, and its record describes its image.
    pipeline.write(pipeline.Outcome(**{**outcome.__dict__, "spec": spec.replace(overwrite=True)}))
    with Image.open(spec.output) as image:
        assert np.array_equal(np.asarray(image), outcome.image)


def test_outputs_are_checked_before_any_work(tmp_path):
    (tmp_path / "out.json").write_text("{}")  # an unrelated record beside the output
    with pytest.raises(SettingError, match="out.json exists"):
        pipeline.prepare(tiny(tmp_path))
    (tmp_path / "frames").mkdir()
    (tmp_path / "frames" / "frame_00000.png").write_bytes(b"")
    with pytest.raises(SettingError, match="already holds frames"):
        pipeline.prepare(tiny(tmp_path, output=tmp_path / "b.png", frames=tmp_path / "frames"))


def test_the_memory_plan_counts_the_balance_measure_at_256_px_whatever_the_size(tmp_path):
    """The balance measures the pair at 256 px: a 32 px run with a large style scale plans
    those passes too, so a style image the measure reads at 256 x 4 px is not a surprise."""
    from neuralstyle.core.images import fit_size

    with Image.open(CONTENT) as photo, Image.open(STYLE) as painting:
        measured = [fit_size(*photo.size, 256), fit_size(*painting.size, 1024)]
    paired = pipeline.prepare(tiny(tmp_path, style_scale=4.0)).passes.styles
    fixed = pipeline.prepare(tiny(tmp_path, style_scale=4.0, balance="fixed")).passes.styles
    assert [tuple(item[1:]) for item in paired if tuple(item[1:]) not in {tuple(f[1:]) for f in fixed}] == measured
    assert pipeline.prepare(tiny(tmp_path, style_scale=4.0)).memory.need > \
        pipeline.prepare(tiny(tmp_path, style_scale=4.0, balance="fixed")).memory.need


def test_a_folder_batch_refuses_two_images_that_would_paint_one_output(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("a.jpg", "a.png"):
        Image.open(CONTENT).convert("RGB").save(photos / name)
    with pytest.raises(SettingError, match="a.jpg and a.png .* would both be painted to a.png"):
        pipeline.folder_specs(photos, tmp_path / "out", styles=[STYLE])


def test_the_pipeline_stops_when_asked_and_keeps_the_best_image(tmp_path):
    seen = []
    outcome = pipeline.run(tiny(tmp_path, iterations=50),
                           lambda progress: seen.append(progress.iteration) or ("interrupted" if len(seen) > 2 else None))
    assert outcome.stopped == "interrupted" and outcome.record["interrupted"] is True
    assert outcome.record["iterations"] == 2 and seen == [0, 1, 2]


def _fixture_spec(name: str, tmp_path: Path) -> RunSpec:
    """A first-format record made by the version before RunSpec, its input paths
    moved to where this checkout keeps the fixture images."""
    data = json.loads((FIXTURES / f"{name}.json").read_text())

    def moved(value):
        if isinstance(value, str) and "/records_v1/" in value:
            return str(FIXTURES / Path(value).name)
        return [moved(item) for item in value] if isinstance(value, list) else value

    data["arguments"] = {key: moved(value) for key, value in data["arguments"].items()}
    record = tmp_path / f"{name}-record.json"
    record.write_text(json.dumps(data))
    _, spec = read_record(record)
    return spec.replace(output=tmp_path / f"{name}.png", record=None, frames=None, gif=None)


@pytest.mark.parametrize("name", ["transfer", "colour", "content", "style", "tradeoff"])
def test_a_first_format_record_reruns_and_its_new_record_reruns_bit_exactly(name, tmp_path):
    from neuralstyle.core.backend import BACKEND, cpu_vector_extensions

    expected = json.loads((FIXTURES / "expected.json").read_text())
    spec = _fixture_spec(name, tmp_path)
    pipeline.write(pipeline.run(spec))
    wanted = expected["outputs"][name]
    with Image.open(spec.output) as image:
        assert list(image.size) == wanted["size"] and image.mode == wanted["mode"]
    # The record this run wrote (today's format) makes the same pixels again, on any machine.
    _, again = read_record(spec.record_path)
    again = again.replace(output=tmp_path / f"{name}-again.png", record=None)
    pipeline.write(pipeline.run(again))
    assert _pixels_sha256(again.output) == _pixels_sha256(spec.output)
    # On the machine kind that made the first-format record, the pixels are the ones it made then
    # (float round-off differs between CPU kinds, so elsewhere the first check is the one that holds).
    machine = expected["machine"]
    if (cpu_vector_extensions(), os.cpu_count(), BACKEND) == (machine["cpu"], machine["cores"], machine["backend"]):
        assert _pixels_sha256(spec.output) == wanted["pixels_sha256"]
