"""read_song / write_song: exact round trips on every shared file and on generated songs."""

import mido
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.midi import read_song, read_song_bytes, song_to_midi_bytes, write_song
from studio.music import Note, Song, TempoChange, TimeSignature, Track
from studio.music.song import ControlChange, KeySignature, PitchBend
from tests.conftest import MIDI_DIR, shared_midi_files


def content(song: Song):
    return [(t.name, t.program, t.is_drum, sorted(n.key() for n in t.notes)) for t in song.tracks]


@pytest.mark.parametrize("path", shared_midi_files(), ids=lambda p: p.name)
def test_every_shared_file_reads_and_round_trips(path, tmp_path):
    song = read_song(path)
    assert song.note_count > 0
    out = tmp_path / "out.mid"
    write_song(song, out)
    again = read_song(out)
    assert content(again) == content(song)
    assert again.tempos == song.tempos
    assert again.time_signatures == song.time_signatures
    assert again.key_signatures == song.key_signatures
    # What we write is a type-1 file at 480 PPQ that an independent reader (mido) accepts,
    # with drums on channel 10.
    mf = mido.MidiFile(out)
    assert mf.type == 1 and mf.ticks_per_beat == 480
    assert len(mf.tracks) == len(song.tracks) + 1
    for t, mt in zip(song.tracks, mf.tracks[1:]):
        channels = {m.channel for m in mt if hasattr(m, "channel")}
        if t.is_drum:
            assert channels == {9}
        elif t.notes:
            assert 9 not in channels


def test_type0_file_splits_by_channel_and_keeps_notes():
    raw = mido.MidiFile(MIDI_DIR / "bach" / "bach_format0.mid")
    assert raw.type == 0
    song = read_song(MIDI_DIR / "bach" / "bach_format0.mid")
    ons = sum(1 for m in raw.tracks[0] if m.type == "note_on" and m.velocity > 0)
    assert song.note_count == ons


def test_drums_are_flagged_and_written_on_channel_10(tmp_path):
    song = read_song(MIDI_DIR / "beat.mid")
    assert song.tracks[0].is_drum and song.tracks[0].channel == 9


def test_meta_events_round_trip(tmp_path):
    song = Song(
        [Track("Lead", program=81, notes=[Note(72, 0, 480, 100)],
               controls=[ControlChange(0, 64, 127), ControlChange(480, 64, 0)],
               pitch_bends=[PitchBend(100, -8192), PitchBend(200, 8191)]),
         Track("Kit", program=0, is_drum=True, notes=[Note(36, 0, 120, 127)])],
        tempos=[TempoChange(0, 96.0), TempoChange(1920, 132.5)],
        time_signatures=[TimeSignature(0, 6, 8), TimeSignature(2880, 2, 4)],
        key_signatures=[KeySignature(0, -3, True), KeySignature(2880, 2, False)],
        title="Meta test")
    write_song(song, tmp_path / "m.mid")
    back = read_song(tmp_path / "m.mid")
    assert content(back) == content(song)
    assert back.time_signatures == song.time_signatures
    assert back.key_signatures == song.key_signatures
    assert [round(t.qpm, 3) for t in back.tempos] == [96.0, 132.5]
    assert back.tracks[0].controls == song.tracks[0].controls
    assert back.tracks[0].pitch_bends == song.tracks[0].pitch_bends
    assert back.key_signature.name == "C minor"


def test_other_ppq_is_rescaled_to_480():
    mf = mido.MidiFile(type=1, ticks_per_beat=96)
    tr = mido.MidiTrack()
    mf.tracks.append(tr)
    tr += [mido.Message("note_on", note=60, velocity=90, time=96),
           mido.Message("note_off", note=60, velocity=0, time=48)]
    import io

    buf = io.BytesIO()
    mf.save(file=buf)
    song = read_song_bytes(buf.getvalue())
    n = song.tracks[0].notes[0]
    assert (n.start, n.duration, n.velocity) == (480, 240, 90)


def test_write_to_unwritable_place_raises_clear_error(tmp_path):
    from studio.midi import MidiWriteError

    song = Song([Track(notes=[Note(60, 0, 480)])])
    with pytest.raises(MidiWriteError, match="cannot write"):
        write_song(song, tmp_path / "no" / "such" / "dir" / "x.mid")
    target = tmp_path / "keep.mid"
    target.write_bytes(b"old content")
    bad = Song([Track(notes=[Note(60, 0, 480)])], tempos=[TempoChange(0, 0.0)])
    with pytest.raises(MidiWriteError):
        write_song(bad, target)
    assert target.read_bytes() == b"old content"  # nothing written half


def _no_same_pitch_overlap(notes):
    """MIDI cannot tell apart nested notes of one pitch on one channel; keep them disjoint."""
    out, last_end = [], {}
    for p, s, d, v in sorted(notes, key=lambda x: (x[1], x[0])):
        if s < last_end.get(p, -1) or (s == last_end.get(p) and d == 0):
            continue
        out.append(Note(p, s, d, v))
        last_end[p] = s + d
    return out


notes_st = st.lists(st.tuples(st.integers(0, 127), st.integers(0, 200_000), st.integers(1, 5000),
                              st.integers(1, 127)), max_size=60)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tracks=st.lists(st.tuples(notes_st, st.integers(0, 127), st.booleans(),
                                 st.text(st.characters(min_codepoint=32, max_codepoint=0x2FFF,
                                                       blacklist_categories=("Cs",)),
                                         max_size=12)), min_size=1, max_size=5))
def test_round_trip_is_exact_for_generated_songs(tracks):
    song = Song([Track(name.strip(), program=prog, is_drum=drum, notes=_no_same_pitch_overlap(ns))
                 for ns, prog, drum, name in tracks])
    back = read_song_bytes(song_to_midi_bytes(song))
    assert content(back) == content(song)


def test_a_pedal_track_without_notes_keeps_its_controllers_and_channel(tmp_path):
    """piano-midi.de files keep the sustain pedal in a track of its own, with no notes."""
    raw = mido.MidiFile(MIDI_DIR / "debussy" / "menuet.mid")
    pedal_raw = next(t for t in raw.tracks if t.name == "Pedal")
    cc_raw = [m for m in pedal_raw if m.type == "control_change"]
    song = read_song(MIDI_DIR / "debussy" / "menuet.mid")
    pedal = next(t for t in song.tracks if t.name == "Pedal")
    assert not pedal.notes and len(pedal.controls) == len(cc_raw) > 100
    assert {c.number for c in pedal.controls} == {64}
    hands = [t for t in song.tracks if t.name.startswith("Piano")]
    assert {t.channel for t in hands} == {pedal.channel} == {cc_raw[0].channel}
    write_song(song, tmp_path / "m.mid")
    again = read_song(tmp_path / "m.mid")
    assert [t.name for t in again.tracks] == [t.name for t in song.tracks]
    assert next(t for t in again.tracks if t.name == "Pedal").controls == pedal.controls


def test_tracks_of_different_instruments_get_their_own_channels(tmp_path):
    song = Song([Track("Flute", program=73, notes=[Note(72, 0, 480)]),
                 Track("Cello", program=42, notes=[Note(48, 0, 480)]),
                 Track("Flute 2", program=73, notes=[Note(76, 0, 480)]),
                 Track("Kit", is_drum=True, notes=[Note(36, 0, 120)])])
    write_song(song, tmp_path / "x.mid")
    mf = mido.MidiFile(tmp_path / "x.mid")
    channels = [{m.channel for m in t if hasattr(m, "channel")} for t in mf.tracks[1:]]
    assert channels == [{0}, {1}, {0}, {9}]  # same instrument may share; different may not
