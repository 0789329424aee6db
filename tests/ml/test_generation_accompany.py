"""The accompany mode with the shipped pop accompanist, on real POP909 test songs: a piano track
under the melody that follows given chords, suggested chords, the song's meter; bad input refused
with a clear message and the song untouched."""

from __future__ import annotations

import numpy as np
import pytest

from studio.data.pop909 import pop909_song
from studio.ml.errors import GenerationError
from studio.ml.family import SamplingOptions
from studio.ml.generation import GenerationRequest, generate
from studio.music.chords import parse_chord
from studio.music.song import Note, Song, TempoChange, TimeSignature, Track
from tests.ml.generation_testing import snapshot

MODEL = "pop-accompanist"
BAR = 1920


def pop_song(number: int = 20) -> tuple[Song, int]:
    """A POP909 test song and the bar line where its melody starts."""
    from studio.ml.generation.material import bar_start

    song = pop909_song(number).song()
    return song, bar_start(song, min(n.start for n in song.tracks[0].notes))


def accompany(song: Song, track: Track, **kw):
    kw.setdefault("options", SamplingOptions(seed=5))
    return generate(GenerationRequest("accompany", MODEL, song, (track.id,), **kw))[0]


def refused(song: Song, track_id: int, *words: str, **kw) -> None:
    before = snapshot(song)
    with pytest.raises(GenerationError) as info:
        generate(GenerationRequest("accompany", MODEL, song, (track_id,), **kw))
    assert snapshot(song) == before
    for w in words:
        assert w in str(info.value), str(info.value)


def test_follows_the_given_chords_under_the_melody():
    song, start = pop_song()
    before = snapshot(song)
    c = accompany(song, song.tracks[0], time_range=(start, start + 8 * BAR),
                  chords="| C | G | Am | F |")
    assert snapshot(song) == before
    piano = c.preview.tracks[-1]
    assert piano.name == "Piano accompaniment" and piano.program == 0
    assert "| C | G | Am | F | C | G | Am | F |" in c.description
    assert all(start <= n.start < start + 8 * BAR for n in piano.notes)
    tones = [parse_chord(x).pitch_classes for x in ("C", "G", "Am", "F")]
    c_major = {0, 2, 4, 5, 7, 9, 11}

    def share_inside(notes, sevenths: bool) -> float:
        inside = []
        for n in notes:
            chord = tones[(n.start - start) // BAR % 4]
            extra = {(chord[0] + 2) % 12}  # the added ninth
            if sevenths:  # and the seventh in the key (POP909's pianists play them)
                extra |= {(chord[0] + 10) % 12, (chord[0] + 11) % 12} & c_major
            inside.append(n.pitch % 12 in set(chord) | extra)
        return float(np.mean(inside))

    # the bars of the training songs (the shipped default): real pianists' notes on the chords
    assert share_inside(piano.notes, sevenths=True) > 0.9
    assert min(n.pitch for n in piano.notes) < 55 < max(n.pitch for n in piano.notes)  # 2 hands
    assert 4 <= len(piano.notes) / 8 <= 40
    own = accompany(song, song.tracks[0], time_range=(start, start + 8 * BAR),
                    chords="| C | G | Am | F |", texture="model").preview.tracks[-1]
    assert share_inside(own.notes, sevenths=False) > 0.9  # the network: chord tones, ninths


def test_suggests_chords_when_none_are_given():
    song, start = pop_song(30)
    c = accompany(song, song.tracks[0], time_range=(start, start + 8 * BAR))
    assert "suggested chords: |" in c.description
    assert c.preview.tracks[-1].notes and c.originality is not None
    assert c.originality.longest_run > 0


@pytest.mark.parametrize("meter", [(3, 4), (6, 8), (2, 4), (7, 4)])
def test_other_meters_get_bars_of_their_own(meter):
    num, den = meter
    bar = 1920 * num // den
    beat = 480 if den == 4 else 720
    pitches = [67, 69, 71, 72, 74, 72, 71, 69] * 4
    notes = [Note(p, i * beat, beat) for i, p in enumerate(pitches)]
    song = Song([Track("Melody", notes=notes)], time_signatures=[TimeSignature(0, num, den)])
    c = accompany(song, song.tracks[0], chords="C G")
    piano = c.preview.tracks[-1].notes
    assert piano
    bass_starts = {n.start % bar for n in piano if n.pitch < 55}
    assert 0 in bass_starts  # the left hand marks the bar lines of this meter
    assert "| C | G | C | G |" in c.description


def test_a_pickup_bar_stays_unaccompanied_and_the_chords_start_on_bar_two():
    song, start = pop_song(20)  # two beats of pickup, then 4/4
    assert song.time_signatures[0].numerator == 2
    c = accompany(song, song.tracks[0], time_range=(0, start + 2 * BAR), chords="F C")
    assert c.description.split(": ")[1].startswith("| - | F | C | F | C |")
    assert min(n.start for n in c.preview.tracks[-1].notes) >= 960


def test_bad_input_is_refused_and_the_song_untouched():
    song, start = pop_song()
    melody, bridge, piano = song.tracks
    refused(song, piano.id, "PIANO is not a melody", "sound together")
    refused(song, melody.id, "'Hm'", "bar 3", chords="C G Hm F")
    refused(song, melody.id, "'G+x'", "bar 1, chord 2", chords="| C G+x | F |")
    refused(song, melody.id, "pickup bar", time_range=(120, 840))
    drums = Song([Track("Drums", is_drum=True, channel=9, notes=[Note(36, 0, 120)])])
    refused(drums, drums.tracks[0].id, "drum track")
    odd = Song([Track("Melody", notes=[Note(60 + i, i * 480, 480) for i in range(14)])],
               time_signatures=[TimeSignature(0, 7, 32)])
    refused(odd, odd.tracks[0].id, "7/32", "not a whole number of 16th")
    with pytest.raises(GenerationError, match="only when accompanying"):
        GenerationRequest("harmonize", MODEL, song, (melody.id,), chords="C").check()


def test_tempo_changes_and_a_song_without_tempo():
    song, start = pop_song()
    song.tempos = [TempoChange(0, 80.0), TempoChange(start + 2 * BAR, 132.0)]
    c = accompany(song, song.tracks[0], time_range=(start, start + 4 * BAR), chords="C",
                  texture="model")  # the network's notes lie on the 16ths of the beats
    assert "the tempo changes" in c.description
    assert all((n.start - start) % 120 == 0 for n in c.preview.tracks[-1].notes)
    c = accompany(song, song.tracks[0], time_range=(start, start + 4 * BAR), chords="C")
    assert all(start <= n.start < start + 4 * BAR for n in c.preview.tracks[-1].notes)
    bare = Song([Track("Melody", notes=[Note(60 + 2 * (i % 4), i * 480, 480)
                                        for i in range(16)])], tempos=[])
    c = accompany(bare, bare.tracks[0], chords="C F")
    assert c.preview.tracks[-1].notes and bare.tempos == []


def test_the_command_line(tmp_path, capsys):
    from studio.cli import main
    from studio.midi import read_song, write_song

    song, start = pop_song()
    src = tmp_path / "song.mid"
    write_song(song, src)
    from studio.ml.generation.material import bar_number

    out = tmp_path / "band.mid"
    bar = bar_number(song, start)
    assert main(["generate", "accompany", str(src), "--track", "1", "-o", str(out),
                 "--chords", "C G Am F", "--from-bar", str(bar), "--to-bar", str(bar + 7),
                 "--seed", "3"]) == 0
    assert f"Piano accompaniment under MELODY, bars {bar}-{bar + 7}" in capsys.readouterr().out
    result = read_song(out)
    assert [t.name for t in result.tracks][-1] == "Piano accompaniment"
    assert len(result.tracks) == 4
    assert main(["generate", "accompany", str(src), "-o", str(tmp_path / "x.mid"),
                 "--chords", "| C | Q7 |"]) != 0
    err = capsys.readouterr().err
    assert "'Q7'" in err and "bar 2" in err
    assert not (tmp_path / "x.mid").exists()
