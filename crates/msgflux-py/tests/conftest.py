"""Fixtures: the providers' emulators (started as processes, checked when they
stop), sample images made with the package's own tools, and a local HTTP
server for URL inputs. Nothing here reaches the internet or needs a key."""

from __future__ import annotations

import functools
import http.server
import os
import re
import subprocess
import threading
from pathlib import Path
from typing import Callable, Iterator, NamedTuple

import pytest

import msgflux_rs as mf

REPO = Path(__file__).resolve().parents[3]
ASSETS = REPO / "assets"
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
EMULATOR = Path(os.environ.get("MSGFLUX_EMULATOR", TARGET / "debug" / "msgflux-emulator"))
ANNOUNCE = re.compile(r"at (\S+) \(key (\S+)\)")


class Running(NamedTuple):
    base_url: str
    key: str


@pytest.fixture
def start_emulator() -> Iterator[Callable[..., Running]]:
    """Starts `msgflux-emulator PROVIDER FLAGS... --until-stdin-closes`; at the
    end of the test, closes its stdin and fails the test if the emulator saw
    a request that breaks the provider's contract."""
    started: list[subprocess.Popen[str]] = []

    def start(provider: str, *flags: str) -> Running:
        process = subprocess.Popen(
            [str(EMULATOR), provider, *flags, "--until-stdin-closes"],
            stdin=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started.append(process)
        assert process.stderr is not None
        line = process.stderr.readline()
        found = ANNOUNCE.search(line)
        assert found, f"emulator did not start: {line!r}"
        return Running(found.group(1), found.group(2))

    yield start
    for process in started:
        assert process.stdin is not None and process.stderr is not None
        process.stdin.close()
        report = process.stderr.read()
        assert process.wait(timeout=30) == 0, report


@pytest.fixture
def openai(start_emulator, monkeypatch) -> Running:
    """The OpenAI emulator, with OPENAI_BASE_URL/OPENAI_API_KEY pointing at it,
    so documented examples run unchanged."""
    running = start_emulator("openai")
    monkeypatch.setenv("OPENAI_BASE_URL", running.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", running.key)
    return running


@pytest.fixture
def replicate(start_emulator, monkeypatch) -> Running:
    running = start_emulator("replicate", "--polls", "1")
    monkeypatch.setenv("REPLICATE_BASE_URL", running.base_url)
    monkeypatch.setenv("REPLICATE_API_TOKEN", running.key)
    return running


@pytest.fixture(scope="session")
def samples(tmp_path_factory) -> Path:
    """The docs' file names: square PNGs (dall-e-2's rule), a JPEG photo, and masks."""
    folder = tmp_path_factory.mktemp("samples")
    # dall-e-2 takes square RGBA PNGs; the shipped photo is RGB.
    photo = mf.image.prepare(ASSETS / "astronaut.png", size=512).image
    for name in ["photo.png", "image.png", "room.png", "landscape.png", "garden.png", "scene.png",
                 "portrait.png", "yard.png", "driveway.png", "living_room.png", "room_with_table.png",
                 "original.png", "photo1.png", "photo2.png", "photo3.png",
                 "product1.png", "product2.png", "product3.png", "1024x1024_image.png"]:
        (folder / name).write_bytes(photo)
    (folder / "photo.jpg").write_bytes((ASSETS / "rocket.jpg").read_bytes())
    (folder / "landscape.jpg").write_bytes((ASSETS / "rocket.jpg").read_bytes())
    (folder / "scene.jpg").write_bytes((ASSETS / "rocket.jpg").read_bytes())
    sky = mf.image.rectangle((0, 0, 512, 200), size=(512, 512))
    for name in ["mask.png", "sky_mask.png", "table_mask.png", "background_mask.png", "object_mask.png",
                 "parking_spot_mask.png", "table_area_mask.png", "empty_corner_mask.png"]:
        sky.save(folder / name)
    return folder


@pytest.fixture
def in_samples(samples, monkeypatch) -> Path:
    """Runs the test inside the samples folder, so the docs' relative paths work."""
    monkeypatch.chdir(samples)
    return samples


@pytest.fixture(scope="session")
def file_server(samples) -> Iterator[str]:
    """http://127.0.0.1:PORT serving the samples folder (URL inputs)."""
    handler = functools.partial(_QuietHandler, directory=str(samples))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass
