"""The .studio project format: exact round trips of real songs, the backup of the previous
version, refusal of newer formats, and clear errors for damaged files."""

import json

import pytest

from studio.midi import read_song
from studio.music.project import (
    FORMAT_VERSION,
    Project,
    ProjectError,
    backup_path,
    load_project,
    project_from_bytes,
    project_to_dict,
    save_project,
)
from studio.music.song import (
    ControlChange,
    KeySignature,
    Note,
    PitchBend,
    Song,
    TempoChange,
    TimeSignature,
    Track,
)


def full_state(song: Song):
    """Everything but the ids, in order."""
    return ([(t.name, t.program, t.is_drum, t.channel,
              [(n.pitch, n.start, n.duration, n.velocity) for n in t.notes],
              list(t.controls), list(t.pitch_bends)) for t in song.tracks],
            list(song.tempos), list(song.time_signatures), list(song.key_signatures), song.title)


def rich_song() -> Song:
    a = Track("Lead", program=73, channel=2, notes=[Note(72, 0, 240, 101), Note(74, 240, 0, 1)],
              controls=[ControlChange(0, 7, 100), ControlChange(480, 64, 127)],
              pitch_bends=[PitchBend(10, -8192), PitchBend(20, 8191)])
    d = Track("Drums", is_drum=True, channel=9, notes=[Note(36, 0, 60, 127)])
    return Song([a, d, Track("Empty")], [TempoChange(0, 97.5), TempoChange(1920, 140.0)],
                [TimeSignature(0, 3, 4), TimeSignature(1440, 7, 8)],
                [KeySignature(0, -3, True)], title="Rich ünïcode")


def test_round_trip_keeps_every_value_and_the_view_and_settings(tmp_path):
    views = [{"color": "#123456", "muted": True}, {"soloed": True}, {"hidden": True}]
    settings = {"editor": {"snap": "1/8T", "loop": [0, 1920]}, "generation": {"temp": 0.9}}
    path = tmp_path / "song.studio"
    save_project(path, Project(rich_song(), views, settings))
    back = load_project(path)
    assert full_state(back.song) == full_state(rich_song())
    assert back.track_views == views and back.settings == settings
    assert back.version == FORMAT_VERSION
    assert json.loads(path.read_text())["format"] == "studio-project"


def test_round_trip_of_every_shared_midi_file(tmp_path, midi_files):
    for f in midi_files:
        song = read_song(f)
        path = tmp_path / f"{f.stem}.studio"
        save_project(path, Project(song))
        assert full_state(load_project(path).song) == full_state(song), f.name


def test_saving_again_keeps_the_previous_version_as_backup(tmp_path):
    path = tmp_path / "a.studio"
    save_project(path, Project(Song([Track("v1")], title="one")))
    assert not backup_path(path).exists()
    save_project(path, Project(Song([Track("v2")], title="two")))
    save_project(path, Project(Song([Track("v3")], title="three")))
    assert load_project(path).song.title == "three"
    assert load_project(backup_path(path)).song.title == "two"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.studio", "a.studio.bak"]


def test_stale_temporary_files_of_a_killed_save_are_cleaned(tmp_path):
    path = tmp_path / "a.studio"
    (tmp_path / ".a.studio.99999.tmp").write_bytes(b"half a proj")
    save_project(path, Project(Song(title="x")))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.studio"]


def test_a_newer_format_is_refused_with_a_clear_message(tmp_path):
    doc = project_to_dict(Project(rich_song()))
    doc["version"] = FORMAT_VERSION + 1
    doc["app_version"] = "9.0"
    path = tmp_path / "future.studio"
    path.write_text(json.dumps(doc))
    with pytest.raises(ProjectError) as e:
        load_project(path)
    assert "newer version of Studio" in str(e.value) and "9.0" in str(e.value)
    assert "future.studio" in str(e.value)


@pytest.mark.parametrize("content, reason", [
    (b"", "not JSON"),
    (b"\x00\xff\x10MThd", "not JSON"),
    (b'{"format": "studio-project", "version": 1, "so', "not JSON"),
    (b"[1, 2, 3]", "not a Studio project"),
    (b'{"format": "something-else", "version": 1}', "not a Studio project"),
    (b'{"format": "studio-project", "version": "one"}', "format version"),
    (b'{"format": "studio-project", "version": 1, "song": {"tempos": [[0, -5]]}}', "tempo"),
    (b'{"format": "studio-project", "version": 1, "tracks": [{"notes": {"pitch": [60, 61], '
     b'"start": [0], "duration": [1], "velocity": [1]}}]}', "different lengths"),
    (b'{"format": "studio-project", "version": 1, "tracks": [{"notes": {"pitch": [300], '
     b'"start": [0], "duration": [1], "velocity": [1]}}]}', "outside the valid ranges"),
    (b'{"format": "studio-project", "version": 1, "tracks": [{"program": 500}]}', "out of range"),
    (b'{"format": "studio-project", "version": 1, "tracks": [{"notes": {"pitch": ["x"]}}]}',
     "damaged"),
    (b'{"format": "studio-project", "version": 1, "settings": [1]}', "settings"),
])
def test_damaged_files_raise_project_error_with_the_reason(tmp_path, content, reason):
    path = tmp_path / "bad.studio"
    path.write_bytes(content)
    with pytest.raises(ProjectError) as e:
        load_project(path)
    assert reason in str(e.value)
    assert e.value.user_facing


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ProjectError, match="does not exist"):
        load_project(tmp_path / "nope.studio")
    with pytest.raises(ProjectError, match="folder"):
        load_project(tmp_path)
    with pytest.raises(ProjectError, match="does not exist"):
        save_project(tmp_path / "no" / "such" / "x.studio", Project(Song()))


def test_other_resolutions_are_rescaled_to_480(tmp_path):
    doc = {"format": "studio-project", "version": 1,
           "song": {"ppq": 96, "tempos": [[96, 100]], "time_signatures": [[0, 4, 4]]},
           "tracks": [{"notes": {"pitch": [60], "start": [96], "duration": [48],
                                 "velocity": [90]}}]}
    song = project_from_bytes(json.dumps(doc).encode()).song
    n = song.tracks[0].notes[0]
    assert (n.start, n.duration) == (480, 240) and song.tempos[0].tick == 480
