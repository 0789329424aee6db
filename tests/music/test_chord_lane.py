"""The song's chord lane: symbols read as musicians write them, the edits and their inverses,
and the lane kept through copies, project files and MIDI files (markers), on a real POP909 song."""

from __future__ import annotations

import pytest

from studio.data.pop909 import pop909_song
from studio.midi import read_song, write_song
from studio.music.chord_lane import (
    ChordSymbolError,
    SetChords,
    add_chord,
    change_chord,
    chord_spans,
    move_chord,
    read_symbol,
    remove_chords,
    replace_range,
    symbol,
)
from studio.music.chords import Chord
from studio.music.edits import EditError
from studio.music.project import Project, ProjectError, load_project, save_project
from studio.music.song import ChordSymbol, Song

BAR = 1920


def lane(song: Song) -> list[tuple[int, str]]:
    return [(c.tick, c.label) for c in song.chords]


def test_symbols_are_read_as_written_and_bad_ones_are_named():
    assert read_symbol("Am7") == Chord(9, "min7")
    assert read_symbol(" G7/B ") == Chord(7, "7", 11)
    assert read_symbol("A:min7") == Chord(9, "min7")  # a corpus label reads too
    assert symbol(0, "Bb").label == "Bb" and symbol(0, "A#").label == "A#"
    assert symbol(0, "Ebm7").label == "Ebm7" and symbol(0, "C/Bb").label == "C/Bb"
    for bad, words in (("H7", "'H7'"), ("Cxyz", "'xyz'"), ("", "type a chord"),
                       ("N", "'N'"), ("C/Q", "bass")):
        with pytest.raises(ChordSymbolError) as info:
            read_symbol(bad)
        assert words in str(info.value), str(info.value)


def test_edits_and_their_inverses():
    song = Song()
    steps = [lambda s: add_chord(s, symbol(0, "C")), lambda s: add_chord(s, symbol(BAR, "G")),
             lambda s: add_chord(s, symbol(2 * BAR, "Am")),
             lambda s: change_chord(s, symbol(BAR, "G7")),
             lambda s: move_chord(s, 2 * BAR, 2 * BAR + 960),
             lambda s: remove_chords(s, [0])]
    history, inverses = [lane(song)], []
    for make in steps:
        inverses.append(make(song).apply(song))
        history.append(lane(song))
    assert history[-1] == [(BAR, "G7"), (2 * BAR + 960, "Am")]
    assert history[4] == [(0, "C"), (BAR, "G7"), (2 * BAR, "Am")]
    for inverse, before in zip(reversed(inverses), reversed(history[:-1])):
        inverse.apply(song)
        assert lane(song) == before
    # a move onto another symbol replaces it; a symbol at a tick replaces the one there
    add_chord(song, symbol(0, "C")).apply(song)
    add_chord(song, symbol(BAR, "F")).apply(song)
    move_chord(song, 0, BAR).apply(song)
    assert lane(song) == [(BAR, "C")]
    with pytest.raises(EditError):
        change_chord(song, symbol(0, "D"))
    with pytest.raises(EditError):
        move_chord(song, BAR, -480)
    with pytest.raises(EditError):
        SetChords((ChordSymbol(-5, Chord(0)),)).apply(song)
    assert lane(song) == [(BAR, "C")]


def test_replacing_a_range_keeps_the_chord_in_force_after_it():
    song = Song()
    for t, text in ((0, "C"), (4 * BAR, "F")):
        add_chord(song, symbol(t, text)).apply(song)
    new = [symbol(BAR, "Am"), symbol(BAR + 960, "Am"), symbol(2 * BAR, "G")]
    inverse = replace_range(song, BAR, 3 * BAR, new).apply(song)
    # the repeated Am says nothing new; C (in force at bar 4 before) comes back there
    assert lane(song) == [(0, "C"), (BAR, "Am"), (2 * BAR, "G"), (3 * BAR, "C"), (4 * BAR, "F")]
    assert chord_spans(song, BAR, 3 * BAR) == [(BAR, 2 * BAR, Chord(9, "min")),
                                                (2 * BAR, 3 * BAR, Chord(7, "maj"))]
    inverse.apply(song)
    assert lane(song) == [(0, "C"), (4 * BAR, "F")]


def real_song_with_chords() -> Song:
    """POP909 song 20 with its annotated chords (the first 16) in the lane."""
    ps = pop909_song(20)
    song = ps.song()
    from studio.music.chords import parse_label

    symbols = [ChordSymbol(a, parse_label(x), False) for a, _, x in ps.chords
               if parse_label(x) is not None][:16]
    symbols[3] = symbols[3]._replace(chord=Chord(10, "maj"), flats=True)  # a Bb, spelled so
    SetChords(tuple(symbols)).apply(song)
    return song


def test_copies_projects_and_midi_files_keep_the_chords(tmp_path):
    song = real_song_with_chords()
    expected = lane(song)
    assert len(expected) == 16 and expected[3][1] == "Bb"
    copy = song.copy()
    assert lane(copy) == expected
    remove_chords(copy, [expected[0][0]]).apply(copy)
    assert lane(song) == expected  # the copy has a lane of its own

    save_project(tmp_path / "song.studio", Project(song))
    assert lane(load_project(tmp_path / "song.studio").song) == expected

    write_song(song, tmp_path / "song.mid")
    back = read_song(tmp_path / "song.mid")   # through the isolated parser process
    assert lane(back) == expected
    assert [len(t.notes) for t in back.tracks] == [len(t.notes) for t in song.tracks]


def test_markers_that_are_not_chords_are_left_out_and_damage_is_refused(tmp_path):
    from studio.midi.files import song_to_midi_bytes
    from studio.midi.parse import parse_midi_bytes, song_from_parsed

    song = real_song_with_chords()
    parsed = parse_midi_bytes(song_to_midi_bytes(song))
    parsed.markers += [(0, "Verse"), (BAR, "Chorus"), (3 * BAR, "x" * 20)]
    assert lane(song_from_parsed(parsed)) == lane(song)

    import json

    save_project(tmp_path / "p.studio", Project(song))
    doc = json.loads((tmp_path / "p.studio").read_text())
    doc["song"]["chords"][2][1] = "Hm7"
    (tmp_path / "bad.studio").write_text(json.dumps(doc))
    with pytest.raises(ProjectError) as info:
        load_project(tmp_path / "bad.studio")
    assert "'Hm7' is not a chord symbol" in str(info.value)
    doc["song"]["chords"] = {"not": "a list"}
    (tmp_path / "bad.studio").write_text(json.dumps(doc))
    with pytest.raises(ProjectError, match="chord symbols are damaged"):
        load_project(tmp_path / "bad.studio")


def test_section_letters_in_a_file_are_sections_not_chords():
    """Many files letter their sections with markers (`A`, `B`, `A`): they read as chord symbols
    (A and B major) but are not a chord lane; chords beside them still are."""
    from studio.midi.files import song_to_midi_bytes
    from studio.midi.parse import parse_midi_bytes, song_from_parsed

    song = real_song_with_chords()
    song.chords = []
    parsed = parse_midi_bytes(song_to_midi_bytes(song))
    assert parsed.markers == []
    parsed.markers = [(0, "A"), (8 * BAR, "B"), (16 * BAR, "A"), (24 * BAR, "Coda")]
    assert song_from_parsed(parsed).chords == []
    parsed.markers = [(0, "A"), (8 * BAR, "B"), (16 * BAR, "C")]
    assert song_from_parsed(parsed).chords == []
    parsed.markers = [(0, "C"), (BAR, "A"), (2 * BAR, "F"), (3 * BAR, "G")]  # a progression
    assert lane(song_from_parsed(parsed)) == [(0, "C"), (BAR, "A"), (2 * BAR, "F"), (3 * BAR, "G")]
    parsed.markers = [(0, "A"), (BAR, "Bm"), (2 * BAR, "Intro")]  # Bm is a chord, not a section
    assert lane(song_from_parsed(parsed)) == [(0, "A"), (BAR, "Bm")]
