"""The web app (`neuralstyle app`), driven in a real headless Chromium through Selenium.

Needs the `app` extra (Gradio), Selenium and the system's chromium and
chromedriver (`.ci/run` installs them); without them these tests are skipped.
The runs are tiny (64 px, a few iterations) so that they take seconds on a CPU.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from processes import default_signals
from sample_images import SAMPLES

gradio = pytest.importorskip("gradio", exc_type=ImportError)

from neuralstyle.core import images as image_io  # noqa: E402
from neuralstyle.core.settings import mode_default  # noqa: E402
from neuralstyle.core.images import ImageError  # noqa: E402
from neuralstyle.jobs import roles  # noqa: E402
from neuralstyle.web import runs as web_runs  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
PHOTO = SAMPLES / "photo.png"
PAINTING = SAMPLES / "painting.png"
# The README's screenshot; refreshed only on request, so that a test run leaves the checkout clean.
SCREENSHOT = ROOT / "docs" / "app.png"
UPDATE_SCREENSHOT = os.environ.get("NEURALSTYLE_UPDATE_SCREENSHOT") == "1"
RUN_TIMEOUT = 300  # seconds for a 64 px run, TensorFlow's start included, on a busy 2-core machine


# --- uploads: checked before use (no browser needed) ---------------------------


@pytest.fixture
def bad_uploads(tmp_path) -> dict:
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "notes.png").write_text("not an image at all")
    Image.new("RGB", (64, 48), (200, 30, 30)).save(tmp_path / "good.png")
    (tmp_path / "truncated.png").write_bytes((tmp_path / "good.png").read_bytes()[:60])
    return {path.stem: path for path in tmp_path.iterdir()}


@pytest.mark.parametrize("name, message", [("empty", "is empty"), ("notes", "not an image"),
                                           ("truncated", "corrupt or truncated")])
def test_bad_uploads_are_refused_with_a_message_naming_the_file(bad_uploads, name, message):
    with pytest.raises(ImageError) as error:
        web_runs.check_upload(bad_uploads[name], f"visitor-{name}.png")
    assert message in str(error.value)
    assert f"visitor-{name}.png" in str(error.value)
    assert str(bad_uploads[name].parent) not in str(error.value)  # the server's path stays hidden


def test_uploads_above_the_pixel_limit_are_refused_before_decoding(bad_uploads, monkeypatch):
    monkeypatch.setattr(image_io, "MAX_INPUT_PIXELS", 1000)
    with pytest.raises(ImageError, match="64x48 px = 3,072 pixels; the limit is 1,000"):
        web_runs.check_upload(bad_uploads["good"], "big.png")


def test_a_good_upload_is_decoded(bad_uploads):
    assert web_runs.check_upload(bad_uploads["good"]).size == (64, 48)


def test_only_files_in_gradios_upload_folder_are_read(bad_uploads):
    with pytest.raises(gradio.Error):
        web_runs.uploaded_path(bad_uploads["good"])  # a real file, but not one uploaded through the page
    with pytest.raises(gradio.Error):
        web_runs.uploaded_path(Path(gradio.utils.get_upload_folder()) / ".." / "etc" / "passwd")


def test_a_second_run_is_told_it_waits(tmp_path):
    state = web_runs.App(tmp_path)
    token, message = state.announce(None)
    assert message == "Starting…"
    state.active = 1  # a run in progress
    _, message = state.announce(token)
    assert "Waiting" in message and "one run at a time" in message


def test_demo_images_are_the_astronaut_and_the_projects_painting():
    demos = web_runs.demo_images()
    assert {path.name for path in demos.values()} == {"astronaut.jpg", "painting.png"}
    assert not any("shared" in path.parts for path in demos.values())


# --- a style mask: the Run event in this process (no browser) ---------------------------


@pytest.fixture
def masked_app(tmp_path):
    """The app with its style-mask upload, its Run event, its components by elem_id, and an upload folder for files the
    test puts where Gradio puts uploads."""
    assert roles.STYLE_MASK.in_app  # the role table offers the style mask in the app
    from neuralstyle.web import app as web_app

    blocks = web_app.build(tmp_path / "runs")
    components = {block.elem_id: block for block in blocks.blocks.values() if getattr(block, "elem_id", None)}
    uploads = Path(gradio.utils.get_upload_folder()) / f"test-{uuid.uuid4().hex}"
    uploads.mkdir(parents=True)
    try:
        yield blocks, components, uploads
    finally:
        shutil.rmtree(uploads, ignore_errors=True)


def _mask(uploads: Path, name: str, white_columns: slice, size=(64, 48)) -> Path:
    array = np.zeros(size[::-1], np.uint8)
    array[:, white_columns] = 255
    Image.fromarray(array).save(uploads / name)
    return uploads / name


def _run_values(blocks, components, uploads: Path, mask: Path, iterations: int) -> dict:
    """The Run event's inputs: the page's defaults, the photo and `mask` uploaded, 64 px."""
    shutil.copy(PHOTO, uploads / "photo.png")
    values = {component: component.value for component in blocks.neuralstyle_inputs}
    values.update({components["content-file"]: str(uploads / "photo.png"), components["style_mask-file"]: str(mask),
                   components["size"]: 64, components["iterations"]: iterations, components["every"]: 5})
    return values


def test_a_style_mask_paints_its_region_only_and_is_copied_into_the_run(masked_app):
    from neuralstyle.core.experiments import psnr
    from neuralstyle.core.images import resize_max_side, to_rgb, to_uint8

    blocks, components, uploads = masked_app
    assert blocks.neuralstyle_fields["style_masks"].startswith("an optional upload")
    mask = _mask(uploads, "left half.png", slice(0, 32))
    state = blocks.neuralstyle_state
    kept, preview, line = state.on_mask(str(mask), str(uploads / "photo.png"), None, roles.STYLE_MASK)
    assert kept == str(mask) and "covering 50% of the picture" in line  # no photo uploaded yet: the mask alone

    values = _run_values(blocks, components, uploads, mask, iterations=20)
    kept, preview, line = state.on_mask(str(mask), str(uploads / "photo.png"), None, roles.STYLE_MASK)
    assert "left half.png: 64x48 px, covering 50% of the photo" in line and preview.size == (512, 384)
    tint = np.asarray(preview, np.float32)
    assert tint[:, :250, 2].mean() > tint[:, 262:, 2].mean() + 40  # the region shows blue over the photo

    *_, last = blocks.neuralstyle_run(values)
    record = json.loads(Path(last[components["record-file"]]).read_text())
    folder = Path(record["output"]["path"]).parent
    copied = folder / "style_mask-left_half.png"
    assert record["arguments"]["style_masks"] == [str(copied)]  # the RunSpec held the copy in the run's folder
    assert copied.read_bytes() == mask.read_bytes()
    assert record["inputs"]["style_mask"][0]["sha256"] == hashlib.sha256(mask.read_bytes()).hexdigest()
    assert record["iterations"] == 20 and "Done" in last[components["status"]]
    photo = to_uint8(resize_max_side(to_rgb(Image.open(PHOTO)), 64).rgb)
    with Image.open(record["output"]["path"]) as result:
        image = np.asarray(result.convert("RGB"))
    painted, kept_photo = image[:, :28], image[:, 36:]
    assert psnr(kept_photo, photo[:, 36:]) > psnr(painted, photo[:, :28]) + 5  # outside the mask: the photo


@pytest.mark.parametrize("name, white, size, words", [
    ("black.png", slice(0, 0), (64, 48), "style mask 1 is all black: it covers nothing"),
    ("square.png", slice(0, 20), (48, 48), "style mask 1 is 48x48 px and its image 1024x768: another aspect ratio"),
])
def test_an_unusable_style_mask_is_refused_in_the_page_in_one_line(masked_app, name, white, size, words):
    blocks, components, uploads = masked_app
    mask = _mask(uploads, name, white, size)
    values = _run_values(blocks, components, uploads, mask, iterations=2)
    _, _, line = blocks.neuralstyle_state.on_mask(str(mask), str(uploads / "photo.png"), None, roles.STYLE_MASK)
    assert f"A run would refuse it:** {words}" in line  # said as soon as it is uploaded
    with pytest.raises(gradio.Error) as refused:
        list(blocks.neuralstyle_run(values))
    assert words in refused.value.message and "\n" not in refused.value.message
    assert not any((blocks.neuralstyle_state.output_dir).iterdir()), "a refused run leaves no folder"


# --- in the browser -----------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`neuralstyle app` as a user starts it, on a free port, writing into a temporary folder."""
    folder = tmp_path_factory.mktemp("app-output")
    log = folder.parent / "app.log"
    port = _free_port()
    with open(log, "w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "neuralstyle", "app", "--port", str(port), "--output-dir", str(folder)],
            stdout=sink, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
        )
    deadline = time.time() + 120
    while time.time() < deadline and process.poll() is None and "neuralstyle app: http" not in log.read_text():
        time.sleep(0.2)
    lines = [line for line in log.read_text().splitlines() if line.startswith("neuralstyle app: http://127.0.0.1:")]
    if not lines:
        process.kill()
        pytest.fail(f"the app did not start:\n{log.read_text()}")
    global SERVER_LOG
    SERVER_LOG = log
    yield {"url": lines[0].split()[2], "folder": folder, "process": process, "log": log}
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


SERVER_LOG: Path | None = None


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    webdriver = pytest.importorskip("selenium.webdriver", exc_type=ImportError)
    if not (Path(CHROMEDRIVER).exists() and Path(CHROMIUM).exists()):
        pytest.skip("needs chromium and chromedriver (apt-get install chromium chromium-driver)")
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path_factory.mktemp("downloads")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900",
                     "--hide-scrollbars", "--force-device-scale-factor=1"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    # Selenium Manager cannot download a driver offline: use the system's.
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False})
    driver.downloads = downloads
    yield driver
    driver.quit()


class Page:
    """The app's page, by the elem_ids the app gives its components."""

    def __init__(self, driver, url: str):
        from selenium.webdriver.common.by import By

        self.driver, self.by = driver, By
        driver.get(url)
        self.wait_for(lambda: self.find("button#run"), 60, "the page to load")

    def find(self, css: str):
        found = self.driver.find_elements(self.by.CSS_SELECTOR, css)
        return found[0] if found else None

    def on_element(self, css: str, action, absent=None):
        """`action(element)` on the first element matching `css`, or `absent` if there is none.
        Gradio re-renders components while a run streams, so an element found a moment
        ago may be gone when it is used: then find it again."""
        from selenium.common.exceptions import StaleElementReferenceException

        for _ in range(20):
            element = self.find(css)
            if element is None:
                return absent
            try:
                return action(element)
            except StaleElementReferenceException:
                time.sleep(0.05)
        raise AssertionError(f"{css} kept being replaced while it was used")

    def read(self, css: str, attribute: str | None = None, absent=None):
        """The text (or an attribute) of the first element matching `css`, or `absent`."""
        return self.on_element(css, lambda element: element.text if attribute is None
                               else element.get_attribute(attribute), absent)

    def click(self, css: str) -> None:
        if self.on_element(css, lambda element: element.click() or True) is None:
            raise AssertionError(f"nothing matches {css} to click")

    def text(self, element_id: str) -> str:
        return self.read(f"#{element_id}", absent="")

    def wait_for(self, condition, timeout: float, what: str, every: float = 0.1):
        deadline = time.time() + timeout
        while time.time() < deadline:
            value = condition()
            if value:
                return value
            time.sleep(every)
        raise AssertionError(f"timed out after {timeout} s waiting for {what}; status: {self.text('status')!r}"
                             f"{self.errors()}")

    def errors(self) -> str:
        """Error messages shown in the page, and the end of the server's log."""
        toasts = [toast.text for toast in self.driver.find_elements(self.by.CSS_SELECTOR, ".toast-body")]
        log = SERVER_LOG.read_text()[-3000:] if SERVER_LOG is not None else ""
        return f"\ntoasts: {toasts}\nserver log:\n{log}"

    def upload(self, element_id: str, path: Path) -> None:
        self.driver.find_element(self.by.CSS_SELECTOR, f"#{element_id} input[type=file]").send_keys(str(path))

    def set_number(self, element_id: str, value) -> None:
        from selenium.webdriver.common.keys import Keys

        field = self.driver.find_element(self.by.CSS_SELECTOR, f"#{element_id} input[type=number]")
        field.send_keys(Keys.CONTROL, "a")
        field.send_keys(str(value), Keys.TAB)

    def tick(self, element_id: str, on: bool = True) -> None:
        box = self.driver.find_element(self.by.CSS_SELECTOR, f"#{element_id} input[type=checkbox]")
        if box.is_selected() != on:
            box.click()

    def choose(self, element_id: str, value: str) -> None:
        self.driver.find_element(self.by.CSS_SELECTOR, f"#{element_id} input[type=radio][value='{value}']").click()

    def image_source(self, element_id: str) -> str | None:
        return self.read(f"#{element_id} img", "src")

    def link(self, element_id: str) -> str | None:
        return self.read(f"#{element_id} a[href]", "href")

    def run(self, stop_after: int | None = None) -> tuple[set[str], str]:
        """Press Run (and Stop once `stop_after` progress images were seen); return
        the distinct progress images seen and the new record's link."""
        previous = self.link("record-file")
        # The page itself notes every picture the live view shows: polling from here, a fast run's
        # pictures (at most one per the app's page interval) can come and go between two looks.
        self.driver.execute_script(
            "window.progressSeen = [];"
            "const note = () => { const img = document.querySelector('#live img');"
            "  if (img && img.src && window.progressSeen.at(-1) !== img.src) window.progressSeen.push(img.src); };"
            "if (window.progressWatch) window.progressWatch.disconnect();"
            "window.progressWatch = new MutationObserver(note);"
            "window.progressWatch.observe(document.body, {subtree: true, childList: true, attributes: true,"
            "                                             attributeFilter: ['src']});")
        self.click("#run")
        seen: list[str] = []

        def finished():
            source = self.image_source("live")
            if source and (not seen or seen[-1] != source):
                seen.append(source)
            if self.text("status").startswith("Error"):
                raise AssertionError(f"the run failed{self.errors()}")
            # Stop once this run's own progress shows: the page may still show (and re-render) the last run's
            # image before the new run has started, and a Stop pressed then has nothing to stop.
            if stop_after is not None and len(seen) >= stop_after and "Iteration" in self.text("status"):
                self.click("#stop")
                stop_pressed.append(self.text("status"))
                return None
            link = self.link("record-file")
            if link and link != previous and stop_after is not None:
                raise AssertionError(f"the run ended before Stop was pressed; the page showed {len(seen)} "
                                     f"progress images: {self.text('status')!r}")
            return link if link != previous else None

        stop_pressed: list[str] = []  # the status when Stop was pressed
        if stop_after is not None:
            self.wait_for(lambda: finished() or stop_pressed, RUN_TIMEOUT, "progress to stop", every=0.05)
            stop_after = None

        record = self.wait_for(finished, RUN_TIMEOUT, "the run to finish", every=0.05)
        self.stop_pressed_at = stop_pressed[0] if stop_pressed else None  # the status when Stop was pressed
        noted = self.driver.execute_script("window.progressWatch.disconnect(); return window.progressSeen;")
        return set(seen) | set(noted), record


def _download(page: Page, element_id: str, suffix: str) -> Path:
    """Click a download link like a visitor; the file lands in the browser's download folder."""
    before = set(page.driver.downloads.iterdir())
    page.click(f"#{element_id} a[href]")
    return page.wait_for(lambda: next((path for path in page.driver.downloads.iterdir()
                                       if path not in before and path.suffix == suffix), None), 30, "the download")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_transfer_run_in_the_browser_streams_progress_and_offers_image_gif_and_record(browser, server):
    page = Page(browser, server["url"])
    page.upload("content-file", PHOTO)
    page.upload("style-file", PAINTING)
    page.wait_for(lambda: "photo.png: 1024x768 px" in page.text("content-info"), 30, "the content preview")
    page.wait_for(lambda: "painting.png" in page.text("style-info"), 30, "the style preview")
    page.set_number("size", 64)
    page.set_number("iterations", 20)  # long enough for several of the page's progress updates on a fast machine
    page.set_number("every", 1)
    page.choose("content-layer", "block3_conv2")
    page.tick("style-block4_conv1", False)
    page.tick("style-block5_conv1", False)
    page.tick("style-block2_conv2", True)
    page.set_number("weight-block2_conv2", 0.5)

    progress_images, record_link = page.run()

    assert len(progress_images) >= 2, "the progress image should change while the run goes on"
    assert "Done" in page.text("status") and "20 iterations" in page.text("status")
    assert page.image_source("result")
    assert page.link("image-file").endswith(".png") and page.link("gif-file").endswith(".gif")
    assert len(browser.find_elements(page.by.CSS_SELECTOR, "#gallery img")) == 1
    assert "block3_conv2" in page.text("runs") and "b2c2:0.5" in page.text("runs")

    downloaded = _download(page, "record-file", ".json")
    record = json.loads(downloaded.read_text())
    assert record["neuralstyle_record"] == 2 and record["command"] == "transfer"
    arguments, settings = record["arguments"], record["settings"]
    assert arguments["schema"] == 3 and arguments["mode"] == "transfer"
    assert arguments["size"] == 64 and arguments["iterations"] == [20] and arguments["save_every"] == 1
    assert arguments["content_layer"] == "block3_conv2"
    assert arguments["style_layers"] == {"block1_conv1": 1.0, "block2_conv1": 1.0, "block2_conv2": 0.5,
                                         "block3_conv1": 1.0}
    assert settings["style_layers"] == {"block1_conv1": 1.0, "block2_conv1": 1.0, "block2_conv2": 0.5,
                                        "block3_conv1": 1.0}
    assert settings["content_layer"] == "block3_conv2" and settings["output_size"] == [64, 48]
    assert record["iterations"] == 20 and [entry["iteration"] for entry in record["history"]] == list(range(21))
    assert record["stopped"] is None and record["interrupted"] is False
    assert record["inputs"]["content"][0]["sha256"] == _sha256(PHOTO)
    assert record["inputs"]["style"][0]["sha256"] == _sha256(PAINTING)
    assert record["weights"]["source"] == "imagenet-q8" and "tensorflow" in record["versions"]
    output = Path(record["output"]["path"])
    assert output.is_relative_to(server["folder"].resolve()), "the app writes only under its output folder"
    assert len(record["frames"]) == 21 and Path(record["gif"]).is_file()
    with Image.open(record["gif"]) as gif:
        assert gif.n_frames == 21

    screenshot = server["folder"] / "app.png"
    _save_screenshot(browser, screenshot)
    assert screenshot.stat().st_size > 10_000

    # The CLI repeats the app's run from its record, pixel for pixel.
    again = server["folder"] / "again.png"
    rerun = subprocess.run([sys.executable, "-m", "neuralstyle", "rerun", str(downloaded), "-o", str(again), "-q"],
                           capture_output=True, text=True, timeout=RUN_TIMEOUT)
    assert rerun.returncode == 0, rerun.stderr
    with Image.open(output) as first, Image.open(again) as second:
        assert first.tobytes() == second.tobytes()


def test_the_page_opens_on_the_demo_images_and_runs_them(browser, server):
    """A visitor with no images of their own presses Run. This page is the README's
    screenshot (docs/app.png, refreshed with NEURALSTYLE_UPDATE_SCREENSHOT=1): it shows
    only the bundled demo images, never the ../shared/images inputs."""
    page = Page(browser, server["url"])
    page.wait_for(lambda: "astronaut.jpg: 512x512 px" in page.text("content-info"), 30, "the content demo")
    page.wait_for(lambda: "painting.png" in page.text("style-info"), 30, "the style demo")
    page.set_number("size", 96)
    page.set_number("iterations", 30)
    page.set_number("every", 2)
    progress_images, _ = page.run()
    assert len(progress_images) >= 2 and "Done" in page.text("status")
    screenshot = SCREENSHOT if UPDATE_SCREENSHOT else server["folder"] / "demo.png"
    _save_screenshot(browser, screenshot)
    assert screenshot.stat().st_size > 10_000


def test_a_style_mask_shows_its_region_over_the_photo_paints_there_and_a_black_one_is_refused(
        browser, server, tmp_path):
    page = Page(browser, server["url"])
    page.upload("content-file", PHOTO)
    page.wait_for(lambda: "photo.png: 1024x768 px" in page.text("content-info"), 30, "the content preview")
    left = _mask(tmp_path, "left.png", slice(0, 32))
    page.upload("style_mask-file", left)
    page.wait_for(lambda: "left.png: 64x48 px, covering 50% of the photo" in page.text("style_mask-info"), 30,
                  "the mask's line")
    assert page.image_source("style_mask-preview"), "the region is shown over the photo"
    page.set_number("size", 64)
    page.set_number("iterations", 5)
    page.set_number("every", 5)
    _, record_link = page.run()
    with urllib.request.urlopen(record_link, timeout=30) as response:
        record = json.loads(response.read())
    assert Path(record["arguments"]["style_masks"][0]).name == "style_mask-left.png"
    assert record["inputs"]["style_mask"][0]["sha256"] == _sha256(left)

    page.click("#style_mask-file button[aria-label='Clear']")
    page.upload("style_mask-file", _mask(tmp_path, "black.png", slice(0, 0)))
    page.wait_for(lambda: "A run would refuse it: style mask 1 is all black" in page.text("style_mask-info"), 30,
                  "the warning under the mask")
    page.click("#run")
    toast = lambda: next((text for text in (element.text for element in browser.find_elements(  # noqa: E731
        page.by.CSS_SELECTOR, ".toast-body")) if "all black" in text), None)
    assert "style mask 1 is all black: it covers nothing" in page.wait_for(toast, 60, "the refusal")


def _save_screenshot(driver, target: Path) -> None:
    """The page after a run, 1280x900, as a small palette PNG."""
    driver.execute_script("window.scrollTo(0, 0)")
    time.sleep(0.5)
    shot = target.with_suffix(".tmp.png")
    driver.save_screenshot(str(shot))
    with Image.open(shot) as image:
        image = image.convert("RGB")
        image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
            target, optimize=True)
    shot.unlink()


def test_a_non_image_upload_gets_a_message_and_the_app_keeps_working(browser, server, tmp_path):
    page = Page(browser, server["url"])
    fake = tmp_path / "holiday.png"
    fake.write_text("this is a text file, not a photo")
    page.upload("content-file", fake)
    page.wait_for(lambda: "holiday.png is not an image" in page.text("content-info"), 30, "the refusal")
    assert "refused" in page.text("content-info")
    assert page.find("#content-file a[href]") is None, "the refused file is not kept"

    page.upload("content-file", PHOTO)
    page.wait_for(lambda: "photo.png: 1024x768 px" in page.text("content-info"), 30, "the content preview")
    # In one script, so an element Gradio re-renders meanwhile is never held stale.
    balance_shown = "const e = document.querySelector('#balance'); return !!e && e.offsetParent !== null;"
    assert browser.execute_script(balance_shown), "a transfer shows the balance setting"
    page.choose("mode", "Content reconstruction")
    page.wait_for(lambda: not browser.execute_script(balance_shown), 30,
                  "the balance setting hidden: it means nothing to a reconstruction")
    # A reconstruction's iterations are its own default, not the transfer's the page opened with.
    iterations_shown = lambda: page.read("#iterations input[type=number]", "value")  # noqa: E731
    page.wait_for(lambda: iterations_shown() == str(mode_default("content", "iterations")), 30,
                  "the content reconstruction's default iterations")
    assert mode_default("content", "iterations") != mode_default("transfer", "iterations")
    page.set_number("size", 64)
    page.set_number("iterations", 3)
    page.set_number("every", 1)
    progress_images, record_link = page.run()
    assert progress_images and "Done" in page.text("status")
    with urllib.request.urlopen(record_link, timeout=30) as response:  # the link serves the record
        record = json.loads(response.read())
    assert record["command"] == "content" and record["arguments"]["content"].endswith("photo.png")
    assert record["settings"]["content_layer"] == "block2_conv2" and record["iterations"] == 3
    assert len(browser.find_elements(page.by.CSS_SELECTOR, "#gallery img")) == 1  # this session's one run

    # Stop ends a long run early and keeps the best image so far.
    page.set_number("iterations", 400)
    _, record_link = page.run(stop_after=3)
    assert "Stopped" in page.text("status"), f"Stop was pressed at {page.stop_pressed_at!r}"
    with urllib.request.urlopen(record_link, timeout=30) as response:
        record = json.loads(response.read())
    assert record["stopped"] == "callback" and 2 <= record["iterations"] < 400
    assert Path(record["output"]["path"]).is_file()
    assert len(browser.find_elements(page.by.CSS_SELECTOR, "#gallery img")) == 2

    # Resume continues it from its checkpoint to the iterations it asked for, in its own folder.
    stopped_at = record["iterations"]
    page.click("#resume")
    page.wait_for(lambda: page.text("status").startswith("Done"), RUN_TIMEOUT, "the resumed run")
    record = json.loads(Path(record["output"]["path"]).with_suffix(".json").read_text())  # Gradio serves copies
    assert record["iterations"] == 400 and record["resumed_at"] == stopped_at and record["stopped"] is None
    assert [entry["iteration"] for entry in record["history"]] == list(range(401))
    assert len(browser.find_elements(page.by.CSS_SELECTOR, "#gallery img")) == 2  # the same run, finished


@pytest.mark.parametrize("signal_number, code", [(2, 130), (15, 143)])
def test_the_app_stops_serving_on_ctrl_c_and_sigterm(tmp_path, signal_number, code):
    import signal

    port = _free_port()
    log = tmp_path / "app.log"
    with open(log, "w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "neuralstyle", "app", "--port", str(port), "--output-dir", str(tmp_path / "out")],
            stdout=sink, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
            preexec_fn=default_signals)  # as a terminal starts it
    try:
        deadline = time.time() + 120
        while time.time() < deadline and process.poll() is None and "neuralstyle app: http" not in log.read_text():
            time.sleep(0.2)
        assert urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).status == 200
        # A request for a file the page never uploaded is refused, and the terminal says so in one line.
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/gradio_api/call/lambda", method="POST", headers={"Content-Type": "application/json"},
            data=json.dumps({"data": [{"path": "/etc/passwd", "meta": {"_type": "gradio.FileData"}}]}).encode())
        event = json.loads(urllib.request.urlopen(request, timeout=10).read())["event_id"]
        answer = urllib.request.urlopen(f"http://127.0.0.1:{port}/gradio_api/call/lambda/{event}", timeout=30).read()
        assert b"event: error" in answer and b"root:" not in answer
        deadline = time.time() + 10
        while time.time() < deadline and "refused a request" not in log.read_text():
            time.sleep(0.2)
        refusals = [line for line in log.read_text().splitlines() if "refused a request" in line]
        assert len(refusals) == 1 and "/etc/passwd" in refusals[0] and "not uploaded" in refusals[0]
        process.send_signal(signal_number)
        assert process.wait(timeout=30) == code
        with pytest.raises(OSError):  # nothing serves there any more
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5)
        assert f"neuralstyle: app stopped ({signal.Signals(signal_number).name})" in log.read_text()
        assert "Traceback" not in log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
