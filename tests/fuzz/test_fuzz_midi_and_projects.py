"""Fuzz: hostile MIDI files and projects, derived deterministically from real files (see
`tests.fuzz.cases`). Every case reads, or is refused with the reader's own error: one line that
names the file. What reads can be written and read again."""

from __future__ import annotations

import pytest

from studio.midi import MidiReadError, MidiWriteError, read_song, write_song
from studio.music.project import Project, ProjectError, load_project, save_project
from studio.music.song import MAX_TICK
from tests.fuzz.cases import json_cases, midi_cases, project_seeds

MIDI_CASES = midi_cases(200, seed=19)
PROJECT_CASES = json_cases(project_seeds(), 100, seed=19)
BATCH = 20


def _one_line_naming(error: Exception, name: str) -> None:
    text = str(error)
    assert "\n" not in text and name in text, text


@pytest.mark.parametrize("batch", range(len(MIDI_CASES) // BATCH))
def test_hostile_midi_files(batch, tmp_path):
    for name, data in MIDI_CASES[batch * BATCH:(batch + 1) * BATCH]:
        path = tmp_path / "case.mid"
        path.write_bytes(data)
        try:
            song = read_song(path)
        except MidiReadError as e:
            _one_line_naming(e, str(path))
            continue
        assert song.end <= MAX_TICK, name
        try:
            write_song(song, tmp_path / "again.mid")
        except MidiWriteError as e:
            _one_line_naming(e, "again.mid")
            continue
        again = read_song(tmp_path / "again.mid")
        assert again.note_count == song.note_count, name


@pytest.mark.parametrize("batch", range(len(PROJECT_CASES) // BATCH))
def test_hostile_projects(batch, tmp_path):
    for name, data in PROJECT_CASES[batch * BATCH:(batch + 1) * BATCH]:
        path = tmp_path / "case.studio"
        path.write_bytes(data)
        try:
            project = load_project(path)
        except ProjectError as e:
            _one_line_naming(e, "case.studio")
            continue
        # What loads saves and loads again the same, and exports to MIDI or says why not.
        save_project(tmp_path / "again.studio", Project(project.song, project.track_views,
                                                        project.settings))
        again = load_project(tmp_path / "again.studio")
        assert again.song.note_count == project.song.note_count, name
        try:
            write_song(project.song, tmp_path / "export.mid")
        except MidiWriteError as e:
            _one_line_naming(e, "export.mid")
            continue
        assert read_song(tmp_path / "export.mid").note_count == project.song.note_count, name
