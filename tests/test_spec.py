"""RunSpec: every setting of a run, checked once when it is made; the front ends
follow it. No TensorFlow here: these tests take milliseconds."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from commands import command_parameters

from neuralstyle.core import settings
from neuralstyle.core.settings import SettingError
from neuralstyle.jobs.records import read_record
from neuralstyle.jobs.spec import RunSpec, applies_to

ROOT = Path(__file__).resolve().parents[1]


def spec(**changes) -> RunSpec:
    values = dict(mode="transfer", content="c.jpg", styles=["s.jpg"], output="out.png")
    return RunSpec(**{**values, **changes})


BAD_SETTINGS = {
    "unknown pooling lists the allowed": (dict(pooling="min"), "pooling", ["'min'", "max, avg"]),
    "unknown model": (dict(model="resnet50"), "model", ["'resnet50'", "vgg16, vgg19"]),
    "negative weight echoes it": (dict(style_weight=-1), "style_weight", ["-1", "≥ 0"]),
    "not a number": (dict(content_weight="heavy"), "content_weight", ["'heavy'", "number"]),
    "NaN weight": (dict(tv_weight=float("nan")), "tv_weight", ["nan", "finite"]),
    "unknown content layer lists VGG19's": (dict(content_layer="block6_conv1"), "content_layer",
                                            ["'block6_conv1'", "block1_conv1 … block5_conv4"]),
    "VGG16 has no conv4 in block 3": (dict(model="vgg16", content_layer="block3_conv4"), "content_layer",
                                      ["block3_conv4", "block5_conv3"]),
    "style layer weights all zero": (dict(style_layers={"block1_conv1": 0}), "style_layers", ["positive"]),
    "style layer NAME:WEIGHT malformed": (dict(style_layers=["block1_conv1:x"]), "style_layers", ["block1_conv1:x"]),
    "blend weights one per style": (dict(style_blend="0.5,0.5"), "style_blend", ["2", "1 style image", "one per style"]),
    "iterations per scale": (dict(scales="256,512", size=512, iterations="10,20,30"), "iterations",
                             ["3 numbers", "2 scale"]),
    "scales must end at the size": (dict(scales="256,384", size=512), "scales", ["ending at the output"]),
    "zero size": (dict(size=0), "size", ["0", "≥ 1"]),
    "negative size": (dict(size=-5), "size", ["-5", "≥ 1"]),
    "negative iterations": (dict(iterations=-1), "iterations", ["-1", "≥ 0"]),
    "save every zero": (dict(save_every=0), "save_every", ["0", "≥ 1"]),
    "unknown optimizer": (dict(optimizer="sgd"), "optimizer", ["'sgd'", "lbfgs, adam"]),
    "unknown colour mode": (dict(preserve_color="sepia"), "preserve_color", ["'sepia'", "none, luminance, histogram"]),
    "unknown weights": (dict(weights="resnet"), "weights", ["'resnet'", "imagenet-q8"]),
    "output type": (dict(output="out.bmp2"), "output", ["out.bmp2", ".png"]),
    "gif needs frames": (dict(gif="a.gif"), "gif", ["⟨frames⟩"]),
    "gif suffix": (dict(gif="a.png", frames="f"), "gif", ["a.png", ".gif"]),
    "a transfer needs a style": (dict(styles=[]), "styles", ["one or more"]),
    "a setting of another mode": (dict(mode="content", styles=[], content_weight=3.0), "content_weight",
                                  ["3.0", "does not apply to content", "transfer"]),
    "reconstructions start from noise": (dict(mode="content", styles=[], init="content"), "init", ["noise"]),
    "wrong type for a flag": (dict(overwrite="yes"), "overwrite", ["'yes'", "true or false"]),
    "frames where the image goes": (dict(frames="out.png"), "frames", ["⟨output⟩", "'out.png'", "place of its own"]),
    "an image named as a frame": (dict(frames="f", output="f/frame_00002.png"), "output", ["progress frame goes"]),
    "a GIF where the record goes": (dict(record="a.json", gif="a.json", frames="f"), "gif", ["a.json"]),
    "an absurd style scale": (dict(style_scale=1e308), "style_scale", ["1e+308", "at most 16"]),
    "a figure's TV weight": (dict(mode="tradeoff", tv_weight=3.0), "tv_weight", ["3.0", "does not apply to tradeoff"]),
    "a style reconstruction's content layer": (dict(mode="style", content=None, content_layer="block5_conv4"),
                                               "content_layer", ["does not apply to style"]),
}


@pytest.mark.parametrize("case", list(BAD_SETTINGS))
def test_a_bad_setting_is_refused_naming_it_and_echoing_what_was_received(case):
    changes, setting, expected = BAD_SETTINGS[case]
    with pytest.raises(SettingError) as error:
        spec(**changes)
    assert error.value.setting == setting
    for text in expected:
        assert text in error.value.template
    assert "⟨" not in str(error.value)  # every setting named


def test_each_front_end_names_settings_its_own_way():
    with pytest.raises(SettingError) as error:
        spec(gif="a.gif")
    assert str(error.value) == "gif needs frames DIR (the GIF is made from the saved frames)"
    assert error.value.render(lambda name: "--" + name) == "--gif needs --frames DIR (the GIF is made from the saved frames)"


def test_a_path_that_looks_like_a_placeholder_is_echoed_as_it_is():
    with pytest.raises(SettingError) as error:
        spec(output="out{size}.txt")
    assert "out{size}.txt" in error.value.render(lambda name: "--" + name)


def test_changing_the_size_of_a_made_spec_moves_its_one_scale_and_a_record_keeps_files_absolute(tmp_path):
    assert spec(size=48).replace(size=96).scales == (96,)
    assert RunSpec(mode="content", content="c.jpg", output="o.png", size=48).replace(size=96).size == 96
    assert spec(scales="256,512").replace(size=1024, scales=2).scales == (512, 1024)
    record = spec(init="start.png", weights="my.h5").to_record()
    assert record["init"] == str(Path("start.png").resolve()) and record["weights"] == str(Path("my.h5").resolve())
    assert spec().to_record()["init"] == "recolored"
    assert hash(spec()) == hash(spec()) and len({spec(), spec(), spec(seed=1)}) == 2


def test_the_default_schedule_forms_a_large_picture_at_256_px_first_and_spends_half_as_long_on_each_larger_size():
    assert spec(size=1024).scales == (256, 512, 1024) and spec(size=1024).iterations == (200, 100, 50)
    assert spec(size=511).scales == (511,) and spec(size=700, iterations=90).iterations == (90, 45)
    assert spec(size=700).scales == (350, 700) and spec(size=2048, scales=1).scales == (2048,)
    clip = RunSpec(mode="video", content="clip.mp4", styles=["s.jpg"], output="out.mp4", size=1024)
    assert clip.scales == (1024,) and clip.iterations == (200,)  # a clip's frames start from the last one warped
    assert spec(size=1024).replace(size=512).scales == (256, 512) and spec().replace(size=256).iterations == (200,)
    assert spec(size=512, iterations="200,20").replace(size=1024, scales="256,512,1024", iterations=50).iterations \
        == (50, 25, 12)


def test_mode_defaults_are_filled_in_so_a_spec_holds_every_value_it_runs_with():
    transfer = spec()
    assert (transfer.content_layer, transfer.init, transfer.tv_weight) == ("block4_conv2", "recolored", settings.TV_WEIGHT)
    # Every mode starts from the paper's equal layer weights (a transfer's balance 'raw' then weighs them per pair).
    assert transfer.style_layers == {name: 1.0 for name in settings.STYLE_LAYERS} and transfer.balance == "raw"
    assert RunSpec(mode="style", styles=["s.jpg"], output="o.png").style_layers == {name: 1.0 for name in
                                                                                   settings.STYLE_LAYERS}
    assert transfer.size == 512 and transfer.scales == (256, 512) and transfer.iterations == (200, 100)
    content = RunSpec(mode="content", content="c.jpg", output="o.png")
    assert (content.content_layer, content.init, content.tv_weight) == ("block2_conv2", "noise", 0.0)
    # A reconstruction from noise converges slowly; a transfer's picture stops changing by 200 at its first size.
    assert content.iterations == (300,) and RunSpec(mode="style", styles=["s.jpg"], output="o.png").iterations == (300,)
    figure = RunSpec(mode="tradeoff", content="c.jpg", styles=["s.jpg"], output="o.png")
    assert figure.size == 256 and figure.iterations == (200,) and figure.save_every == 10
    assert spec(scales=3, size=1024, iterations="30,20,10").scales == (256, 512, 1024)
    assert spec(style_layers=["block1_conv1:0.5", "block2_conv1"]).style_layers == {"block1_conv1": 0.5,
                                                                                    "block2_conv1": 1.0}


def test_a_record_made_before_balance_pair_reruns_with_the_weights_as_it_took_them():
    data = json.loads(json.dumps(spec().to_record()))
    assert spec().balance == "raw" and data["balance"] == "raw"  # a new run's default, recorded
    del data["balance"]
    assert RunSpec.from_record({**data, "schema": 2}, record_version=2).balance == "fixed"
    figure = RunSpec(mode="tradeoff", content="c.jpg", styles=["s.jpg"], output="o.png").to_record()
    del figure["balance"]
    assert RunSpec.from_record({**figure, "schema": 2}, record_version=2).balance == settings.BALANCE
    with pytest.raises(SettingError, match="unknown balance 'even'; choose one of raw, pair, fixed"):
        spec(balance="even")


def test_a_spec_survives_its_record_and_a_record_with_an_edit_is_checked_again(tmp_path):
    original = spec(style_blend=None, scales="256,512", iterations="20,10", frames=tmp_path / "f", gif=tmp_path / "a.gif",
                    style_layers={"block1_conv1": 0.5, "block3_conv1": 2.0}, preserve_color="luminance")
    data = json.loads(json.dumps(original.to_record()))  # through JSON, as on disk
    assert data["schema"] == 3
    again = RunSpec.from_record(data, record_version=2)
    assert again.to_record() == original.to_record()
    for edit, setting in ((dict(size="big"), "size"), (dict(colour="red"), "arguments"),
                          (dict(style_layers={"block9_conv1": 1}), "style_layers"), (dict(iterations=[1, 2, 3]), "iterations")):
        with pytest.raises(SettingError) as error:
            RunSpec.from_record({**data, **edit}, record_version=2)
        assert error.value.setting == setting
    without_output = {key: value for key, value in data.items() if key != "output"}
    with pytest.raises(SettingError, match="no output"):
        RunSpec.from_record(without_output, record_version=2)
    with pytest.raises(SettingError, match="not a mapping"):
        RunSpec.from_record(["not", "a", "mapping"], record_version=2)


def _record_files():
    return sorted(path for path in (ROOT / "docs").glob("*.json") if "neuralstyle_record" in json.loads(path.read_text()))


@pytest.mark.parametrize("path", _record_files(), ids=lambda path: path.name)
def test_every_committed_docs_record_loads_into_a_spec_through_the_migration(path):
    data, loaded = read_record(path)
    arguments = data["arguments"]
    assert loaded.command == data["command"]
    assert loaded.size == arguments["size"]
    recorded = arguments["iterations"]  # "300" or "40,25" (first format), [40, 25] (RunSpec's)
    assert sum(loaded.iterations) == sum(int(part) for part in (recorded if isinstance(recorded, list)
                                                                 else str(recorded).split(",")))
    assert loaded.output == Path(arguments["output"])
    if loaded.mode == "transfer":
        assert [str(style) for style in loaded.styles] == arguments["styles"]
        assert loaded.preserve_color == arguments["preserve_color"]
        # What the record says, or (a first-format record that left them out) the defaults of its day.
        assert loaded.style_layers == (arguments.get("style_layers") or {name: 1.0 for name in settings.STYLE_LAYERS})
        assert loaded.init == (arguments.get("init") or "content")
    if loaded.mode == "tradeoff":
        # "1e-3,1e-2" (first format) or [0.001, 0.01] (RunSpec's)
        ratios = arguments["ratios"].split(",") if "ratios" in arguments else arguments["tradeoff_ratios"]
        assert loaded.tradeoff_ratios == tuple(float(part) for part in ratios)
    # It reruns through the same validation that made it.
    assert RunSpec.from_record(loaded.to_record(), record_version=2) == loaded


def test_every_runspec_field_is_exposed_by_the_cli_or_the_app_or_said_not_to_be():
    pytest.importorskip("gradio", exc_type=ImportError)
    from neuralstyle.cli.options import NOT_OPTIONS
    from neuralstyle.web import app as web_app

    commands = command_parameters()
    run_commands = ["transfer", "content", "style", "video", "figure reconstructions", "figure tradeoff",
                    "figure styles"]
    cli_fields = set().union(*(commands[name] for name in run_commands)) & {f.name for f in dataclasses.fields(RunSpec)}
    blocks = web_app.build(Path(web_app.tempfile.mkdtemp()))
    app_fields = set(blocks.neuralstyle_fields)
    for spec_field in dataclasses.fields(RunSpec):
        name = spec_field.name
        assert name in cli_fields or name in app_fields or name in NOT_OPTIONS, \
            f"RunSpec.{name} is exposed by neither the CLI nor the app"
    # The reasons are real: what is said not to be an option is not one.
    assert not set(NOT_OPTIONS) & cli_fields
    # Each command takes the fields its mode uses (and the CLI's own --quiet), nothing that does not apply.
    for command, mode in zip(run_commands, ["transfer", "content", "style", "video", "reconstructions", "tradeoff",
                                                "styles"]):
        for name in commands[command] & {f.name for f in dataclasses.fields(RunSpec)}:
            assert applies_to(name, mode), f"{command} takes {name}, which {mode} does not use"


def test_the_web_app_does_not_import_the_cli_and_the_cli_loads_the_app_only_to_launch_it():
    code = ("import sys, neuralstyle.cli.main; print('neuralstyle.web.app' in sys.modules); "
            "import importlib.util; print(importlib.util.find_spec('gradio') is not None)")
    cli_loads_app, has_gradio = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                               check=True).stdout.split()
    assert cli_loads_app == "False"
    if has_gradio == "True":
        code = "import sys, neuralstyle.web.app; print(any(name.startswith('neuralstyle.cli') for name in sys.modules))"
        output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        assert output.strip() == "False"


def test_no_module_imports_an_underscored_name_from_another():
    pattern = re.compile(r"from (?:neuralstyle)?\.?[\w.]* import[^\n]*\b_[a-z]\w*")
    for path in [*(ROOT / "neuralstyle").rglob("*.py"), *(ROOT / "benchmarks").glob("*.py"), *(ROOT / "tests").glob("*.py")]:
        for line in path.read_text().splitlines():
            if line.lstrip().startswith(("from neuralstyle", "from .")):
                assert not pattern.search(line), f"{path.name}: {line.strip()}"
