"""Hostile `.studio` files: every one is refused with a `ProjectError` naming the file and the
problem (never a raw OverflowError, AttributeError or RecursionError), and a song read from a
real MIDI file with an extreme tempo saves as a project that opens again."""

from __future__ import annotations

import json

import pytest

from studio.midi import read_song_bytes
from studio.music.project import Project, ProjectError, load_project, save_project
from tests.data.folders import generated_song


def _valid(tmp_path) -> dict:
    save_project(tmp_path / "ok.studio", Project(generated_song(1, tracks=2, notes=5)))
    return json.loads((tmp_path / "ok.studio").read_text())


def _set(doc: dict, change) -> dict:
    doc = json.loads(json.dumps(doc))
    change(doc)
    return doc


ATTACKS = {
    "start 10**30": lambda d: d["tracks"][0]["notes"].update(start=[10**30] * 5),
    "start and duration 2**62": lambda d: d["tracks"][0]["notes"].update(
        start=[2**62] * 5, duration=[2**62] * 5),
    "a track that is a list": lambda d: d["tracks"].__setitem__(0, [1, 2, 3]),
    "a float start": lambda d: d["tracks"][0]["notes"].update(start=[0.5] * 5),
    "a string pitch": lambda d: d["tracks"][0]["notes"].update(pitch=["60"] * 5),
    "a tempo tick of 1e300": lambda d: d["song"].update(tempos=[[1e300, 120.0]]),
    "an infinite tempo": lambda d: d["song"].update(tempos=[[0, 1e400]]),
    "a 5000-digit tick": lambda d: d["song"].update(tempos=[[0, 120.0]]) or
    d["tracks"][0].update(controls=[[int("9" * 4000), 7, 100]]),
    "a controller 300": lambda d: d["tracks"][0].update(controls=[[0, 300, 1]]),
    "a meter of 0/4": lambda d: d["song"].update(time_signatures=[[0, 0, 4]]),
    "a key of 40 sharps": lambda d: d["song"].update(key_signatures=[[0, 40, False]]),
    "ppq 10**9": lambda d: d["song"].update(ppq=10**9),
    "tracks that are a table": lambda d: d.update(tracks={"a": 1}),
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_hostile_values_are_refused_with_the_file_and_the_reason(attack, tmp_path):
    doc = _set(_valid(tmp_path), ATTACKS[attack])
    path = tmp_path / "hostile.studio"
    text = json.dumps(doc)
    path.write_text(text.replace("Infinity", "1e400") if "1e400" in attack else text)
    with pytest.raises(ProjectError) as e:
        load_project(path)
    message = str(e.value)
    assert message.startswith("hostile.studio: ") and "\n" not in message and len(message) < 300


def test_a_deeply_nested_project_is_refused(tmp_path):
    path = tmp_path / "deep.studio"
    path.write_bytes(b'{"format":"studio-project","version":1,"settings":' + b"[" * 10_000
                     + b"]" * 10_000 + b"}")
    with pytest.raises(ProjectError, match="deep.studio: .*nested too deeply"):
        load_project(path)


def _midi_with_tempo(mspq: int) -> bytes:
    """A real type-0 MIDI file: one tempo event, one note."""
    track = (b"\x00\xff\x51\x03" + mspq.to_bytes(3, "big") + b"\x00\x90\x3c\x64"
             + b"\x83\x60\x80\x3c\x00" + b"\x00\xff\x2f\x00")
    return (b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x01\xe0" + b"MTrk"
            + len(track).to_bytes(4, "big") + track)


@pytest.mark.parametrize("mspq", [1, 6000, 5999, 0xFFFFFF])
def test_a_song_with_an_extreme_tempo_saves_and_opens_again(mspq, tmp_path):
    song = read_song_bytes(_midi_with_tempo(mspq), "fast.mid")
    assert song.tempos[0].qpm == pytest.approx(60_000_000 / mspq)
    save_project(tmp_path / "fast.studio", Project(song))
    back = load_project(tmp_path / "fast.studio").song
    assert back.tempos[0].qpm == pytest.approx(song.tempos[0].qpm)
    assert back.note_count == 1
