"""A pipe or a device where a file is expected is refused at once, never waited on: `studio
info` on a FIFO named `.mid` used to hang forever."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from studio.midi import MidiReadError, read_song
from studio.ml.checkpoint import load_checkpoint, read_card
from studio.ml.errors import CheckpointError
from studio.music.project import ProjectError, load_project
from studio.storage import JsonInputError, read_json

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def fifo(tmp_path):
    def make(name: str):
        path = tmp_path / name
        os.mkfifo(path)
        return path
    return make


def test_studio_info_on_a_fifo_answers_at_once(fifo):
    pipe = fifo("song.mid")
    run = subprocess.run([sys.executable, "-m", "studio", "info", str(pipe)], timeout=60,
                         capture_output=True, text=True, env={**os.environ, "PYTHONPATH": REPO})
    assert run.returncode == 2
    assert run.stderr == f"studio: error: {pipe}: this is a pipe (FIFO), not a file\n"


def test_every_reader_refuses_pipes_and_devices(fifo, tmp_path):
    with pytest.raises(MidiReadError, match="a pipe"):
        read_song(fifo("b.mid"))
    with pytest.raises(MidiReadError, match="this is a device, not a file"):
        read_song("/dev/zero")
    with pytest.raises(MidiReadError, match="this is a folder, not a MIDI file"):
        read_song(tmp_path)
    with pytest.raises(ProjectError, match="c.studio: this is a pipe"):
        load_project(fifo("c.studio"))
    with pytest.raises(JsonInputError, match="this is a pipe"):
        read_json(fifo("d.json"))
    fifo("m.json")
    fifo("m.safetensors")
    with pytest.raises(CheckpointError, match="m.json: unreadable model card .*a pipe"):
        read_card(tmp_path / "m")
    with pytest.raises(CheckpointError, match="a pipe"):
        load_checkpoint(tmp_path / "m")
