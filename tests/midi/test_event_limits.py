"""Every event kind has a limit, not only notes: a file of a million and one controller events,
pitch bends, lyrics, or past the tempo and signature limits is refused in the parser process,
naming the kind, before anything reaches the app. Events the reader drops (sysex, aftertouch)
cost nothing however many there are."""

from __future__ import annotations

import pytest

from studio.midi import MidiReadError, limits, read_song, read_song_bytes
from tests.midi.hostile_files import event_flood, overflowing_delta_times, riff_without_data

OVER = {
    "controllers": (limits.MAX_CONTROLS, "controller events"),
    "pitch bends": (limits.MAX_PITCH_BENDS, "pitch bends"),
    "tempo": (limits.MAX_TEMPOS, "tempo changes"),
    "time signatures": (limits.MAX_SIGNATURES, "time signatures"),
    "key signatures": (limits.MAX_SIGNATURES, "key signatures"),
    "lyrics": (limits.MAX_OTHER_EVENTS, "lyric and marker events"),
}


@pytest.mark.parametrize("kind", sorted(OVER))
def test_one_event_past_the_limit_is_refused_naming_the_kind(kind, tmp_path):
    limit, words = OVER[kind]
    path = tmp_path / f"{kind}.mid"
    path.write_bytes(event_flood(kind, limit + 1))
    with pytest.raises(MidiReadError, match=f"{kind}.mid: more than {limit} {words}"):
        read_song(path)


@pytest.mark.parametrize("kind", ["tempo", "time signatures", "key signatures"])
def test_just_under_the_limit_reads(kind):
    limit, _ = OVER[kind]
    song = read_song_bytes(event_flood(kind, limit), "ok.mid")
    count = {"tempo": len(song.tempos), "time signatures": len(song.time_signatures),
             "key signatures": len(song.key_signatures)}[kind]
    assert count == limit and song.note_count == 1


@pytest.mark.parametrize("kind", ["sysex", "aftertouch"])
def test_events_the_reader_drops_cost_nothing(kind):
    song = read_song_bytes(event_flood(kind, 500_000), "dropped.mid")
    assert song.note_count == 1 and not song.tracks[0].controls


def test_small_oddities_get_their_own_reason():
    with pytest.raises(MidiReadError, match="RIFF MIDI file without a data chunk") as e:
        read_song_bytes(riff_without_data(), "song.rmi")
    assert "unexpected" not in str(e.value)
    with pytest.raises(MidiReadError, match="corrupt MIDI data|delta times"):
        read_song_bytes(overflowing_delta_times(), "overflow.mid")
