"""Property-based fuzzing (Hypothesis) of the image loader and the record loader,
through the CLI's own validate-only path (``--dry-run``: every check, no
TensorFlow), in-process so that each example takes milliseconds. Whatever the
bytes or the edit: never a traceback, never a file left behind; either exit 2
with one line, or, where the edit leaves a usable image or record, exit 0."""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path

import pytest
from PIL import Image

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st

from neuralstyle.cli.main import run_command  # noqa: E402
from neuralstyle.jobs.spec import RunSpec  # noqa: E402

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "records_v1"
CONTENT, STYLE = FIXTURES / "content.png", FIXTURES / "style.png"
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                       HealthCheck.function_scoped_fixture])


def cli_outcome(capsys, args: list) -> tuple[int, list[str]]:
    """Exit code and stderr lines of an in-process command line (a traceback fails the test)."""
    code = run_command([str(arg) for arg in args])
    return code, capsys.readouterr().err.strip().splitlines()


def assert_clean(code: int, lines: list[str], folder: Path, allowed: set[str]) -> None:
    assert code in (0, 2), (code, lines)
    if code == 2:
        assert len(lines) == 1 and lines[0].startswith("neuralstyle: error: "), lines
    assert {path.name for path in folder.iterdir()} <= allowed  # nothing written, nothing left behind


def _encoded(format: str) -> bytes:
    buffer = io.BytesIO()
    Image.open(CONTENT).convert("RGB").save(buffer, format=format)
    return buffer.getvalue()


BASES = {"PNG": CONTENT.read_bytes(), "JPEG": _encoded("JPEG"), "GIF": _encoded("GIF"), "WEBP": _encoded("WEBP")}


@st.composite
def mutated_images(draw) -> bytes:
    data = bytearray(BASES[draw(st.sampled_from(sorted(BASES)))])
    for _ in range(draw(st.integers(0, 8))):  # bytes changed where the header and the first chunks are
        position = draw(st.integers(0, min(len(data) - 1, 400)))
        data[position] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


@FUZZ
@given(image=mutated_images(), role=st.sampled_from(["content", "style", "init"]))
def test_any_mutation_of_an_input_image_is_either_used_or_refused_in_one_line(capsys, image, role):
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        (folder / "input.img").write_bytes(image)
        bad = folder / "input.img"
        args = {"content": [bad, STYLE], "style": [CONTENT, bad], "init": [CONTENT, STYLE, "--init", bad]}[role]
        code, lines = cli_outcome(capsys, ["transfer", *args[:2], "-o", folder / "out.png", "--size", 32,
                                           "--dry-run", "-q", *args[2:]])
        assert_clean(code, lines, folder, {"input.img"})


def _real_record(folder: Path) -> dict:
    spec = RunSpec(mode="transfer", content=CONTENT, styles=[STYLE], output=folder / "made.png", size=32,
                   iterations=3, style_layers={"block1_conv1": 0.5, "block3_conv1": 1.0})
    return {"neuralstyle_record": 2, "command": "transfer", "arguments": spec.to_record(),
            "inputs": {"content": [{"path": str(CONTENT), "sha256": "0" * 64, "size": [64, 48]}]}}


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=True) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=6,
)
ARGUMENT_KEYS = sorted(RunSpec.__dataclass_fields__) + ["schema", "colour"]


@st.composite
def record_edits(draw):
    """A list of edits: (place, key, value or None to delete)."""
    edits = []
    for _ in range(draw(st.integers(1, 3))):
        place = draw(st.sampled_from(["arguments", "arguments", "arguments", "top"]))
        key = draw(st.sampled_from(ARGUMENT_KEYS if place == "arguments"
                                   else ["arguments", "inputs", "command", "neuralstyle_record"]))
        edits.append((place, key, draw(st.one_of(st.just(None), JSON_VALUES))))
    return edits


@FUZZ
@given(edits=record_edits(), first_format=st.booleans())
def test_any_edit_of_a_run_record_is_either_rerun_or_refused_in_one_line(capsys, edits, first_format):
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        record = json.loads((FIXTURES / "transfer.json").read_text()) if first_format else _real_record(folder)
        for place, key, value in edits:
            target = record if place == "top" else record.get("arguments")
            if not isinstance(target, dict):
                continue
            if value is None:
                target.pop(key, None)
            else:
                target[key] = value
        path = folder / "edited.json"
        path.write_text(json.dumps(record))
        code, lines = cli_outcome(capsys, ["rerun", path, "-o", folder / "again.png", "--dry-run", "-q"])
        assert_clean(code, [line for line in lines if "changed since the recorded run" not in line], folder,
                     {"edited.json"})


def test_an_unedited_record_passes_the_dry_run(capsys, tmp_path):
    (tmp_path / "record.json").write_text(json.dumps(_real_record(tmp_path)))
    code, lines = cli_outcome(capsys, ["rerun", tmp_path / "record.json", "-o", tmp_path / "again.png", "--dry-run"])
    assert code == 0 and any(line.startswith("would run transfer: content.png in the style of style.png")
                             for line in lines), lines


def test_a_record_whose_content_is_a_folder_is_refused_and_never_makes_the_output_a_folder(capsys, tmp_path):
    record = _real_record(tmp_path)
    record["arguments"]["content"] = str(tmp_path)
    (tmp_path / "record.json").write_text(json.dumps(record))
    code, lines = cli_outcome(capsys, ["rerun", tmp_path / "record.json", "-o", tmp_path / "o.png"])
    assert code == 2 and "is a directory, not an image" in lines[-1]
    assert not (tmp_path / "o.png").exists()


def test_a_record_nested_past_pythons_recursion_limit_is_one_line(capsys, tmp_path):
    (tmp_path / "deep.json").write_text("[" * 200_000)
    for args in (["rerun", tmp_path / "deep.json", "-o", tmp_path / "o.png"],
                 ["plot", tmp_path / "deep.json", "-o", tmp_path / "p.png"]):
        code, lines = cli_outcome(capsys, args)
        assert code == 2 and len(lines) == 1 and lines[0].startswith("neuralstyle: error: "), lines
