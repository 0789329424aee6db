"""Harmonize with the shipped CNN on real chorale melodies and real MIDI files: new voices as
tracks, one invertible edit, voice-leading decoding, ranges and keys, MIDI round trip."""

from __future__ import annotations

import numpy as np
import pytest

from studio.midi import read_song, write_song
from studio.ml.family import SamplingOptions
from studio.ml.generation import GenerationRequest, default_model, generate
from studio.ml.generation.chord_gibbs import GibbsSettings
from studio.ml.generation.harmony import write_voices
from studio.ml.generation.material import voice_view
from studio.ml.generation.models import load
from studio.music.chord_stats import corpus_chord_rates
from studio.music.grids import VOICE_RANGES
from studio.music.voice_leading import corpus_rates
from tests.ml.generation_testing import BAR, chorale, melody_song, read_shared, snapshot


def song_to_satb(song):
    """The four voices of a harmonized song, the tracks in order melody, alto, tenor, bass."""
    return voice_view(song, 0, -(-song.end // 1920) * 1920, song.tracks[:4]).satb


def harmonize(song, track_id, **kw):
    options = kw.pop("options", SamplingOptions(seed=5))
    return generate(GenerationRequest("harmonize", default_model("harmonize"), song,
                                      (track_id,), options=options, **kw))


def test_harmonize_adds_three_voice_tracks_as_one_undoable_edit(tmp_path):
    song = melody_song(0)
    before = snapshot(song)
    events = []
    candidates = generate(
        GenerationRequest("harmonize", "cnn-harmonizer", song, (song.tracks[0].id,),
                          options=SamplingOptions(seed=1, count=2)),
        on_candidate=lambda c: events.append(("candidate", c.index)),
        progress=lambda f, text: events.append(("progress", text)))
    assert snapshot(song) == before  # the user's song is never touched
    # the first candidate is handed over before the second one is written
    assert events.index(("candidate", 0)) < events.index(("progress", "writing variation 2 of 2"))
    assert [c.index for c in candidates] == [0, 1] and events[-2] == ("candidate", 1)
    c = candidates[0]
    names = [t.name for t in c.preview.tracks]
    assert names == ["Melody", "Alto", "Tenor", "Bass"]
    assert set(c.new_track_ids) == {t.id for t in c.preview.tracks[1:]}
    satb = song_to_satb(c.preview)
    melody = chorale(0)[:, 0]
    np.testing.assert_array_equal(satb[:, 0], melody)
    sounding = melody >= 0
    for v in range(1, 4):  # every voice sings where the melody does, in its range
        assert (satb[sounding, v] >= 0).mean() > 0.95
        lo, hi = VOICE_RANGES[v]
        assert satb[satb[:, v] >= 0, v].min() >= lo and satb[:, v].max() <= hi
    assert (satb[:, 1][sounding] >= satb[:, 3][sounding]).all()  # no alto below the bass
    # one edit: applied to the user's song it gives the preview; its inverse restores the song
    inverse = c.edit.apply(song)
    assert song.same_content(c.preview)
    inverse.apply(song)
    assert snapshot(song) == before
    # the preview survives a MIDI file round trip
    write_song(c.preview, tmp_path / "h.mid")
    back = read_song(tmp_path / "h.mid")
    assert [t.name for t in back.tracks] == names
    assert [sorted(n.key()[:3] for n in t.notes) for t in back.tracks] == \
        [sorted(n.key()[:3] for n in t.notes) for t in c.preview.tracks]
    assert c.originality is not None and c.originality.notes > 0 and c.originality.verdict
    assert c.style is not None and 0.0 <= c.style.style_score <= 1.0
    assert c.style.nearest_piece.startswith("jsb-train")
    assert candidates[0].preview.same_content(candidates[1].preview) is False


def test_decoding_leads_voices_better_than_plain_gibbs():
    """The studio's chord-aware decoding (costs for parallels, no crossing) against the CNN
    family's plain Gibbs sampler on the same melodies."""
    loaded = load("cnn-harmonizer")
    decoded, gibbs = [], []
    for i in range(3):
        a = chorale(i, 6, "valid")
        free = np.zeros(a.shape, bool)
        free[:, 1:] = True
        decoded.append(write_voices(loaded, a, free, SamplingOptions(), seed=i))
        plain = loaded.family.harmonize(loaded.model, a[:, 0], SamplingOptions(seed=i))[0]
        gibbs.append(plain.astype(np.int64))
    d, g = corpus_rates(decoded), corpus_rates(gibbs)
    faults = ("parallel_fifths_per_1000", "parallel_octaves_per_1000", "crossing_frames_pct")
    assert sum(d[k] for k in faults) < sum(g[k] for k in faults)
    assert d["out_of_range_pct"] == 0.0 and d["crossing_frames_pct"] == 0.0
    # and it hears chords: fewer beats with a semitone between voices
    assert corpus_chord_rates(decoded)["clash_beats_pct"] <= \
        corpus_chord_rates(gibbs)["clash_beats_pct"]


def test_same_seed_same_harmony_other_seed_other_harmony():
    song = melody_song(1, 4)
    tid = song.tracks[0].id
    a = harmonize(song, tid, options=SamplingOptions(seed=11))[0].preview
    b = harmonize(song, tid, options=SamplingOptions(seed=11))[0].preview
    c = harmonize(song, tid, options=SamplingOptions(seed=12))[0].preview
    assert a.same_content(b) and not a.same_content(c)


def test_melody_out_of_range_is_moved_by_octaves_and_said():
    song = melody_song(2, 4, transpose=24)  # two octaves above a soprano
    c = harmonize(song, song.tracks[0].id)[0]
    assert "2 octaves lower" in c.description
    melody = song_to_satb(c.preview)[:, 0]
    lowest_melody = melody[melody >= 0].min()
    alto = [n.pitch for n in c.preview.tracks[1].notes]
    assert min(alto) >= 52 + 24 - 1 and max(alto) <= lowest_melody + 24
    bass = [n.pitch for n in c.preview.tracks[3].notes]
    assert min(bass) >= 36 + 24


def test_pitch_range_and_key_constrain_the_voices():
    song = melody_song(3, 4)
    c = harmonize(song, song.tracks[0].id, pitch_range=(50, 70), key=(7, False))[0]
    assert "G major" in c.description
    pitches = [n.pitch for t in c.preview.tracks[1:] for n in t.notes]
    assert min(pitches) >= 50 and max(pitches) <= 70


def test_reharmonize_a_range_keeps_the_other_bars():
    from tests.ml.generation_testing import chorale_song

    song = chorale_song(4, 8)
    soprano = song.tracks[0]
    c = harmonize(song, soprano.id, time_range=(2 * BAR, 4 * BAR))[0]
    assert c.new_track_ids == () and c.description.startswith("Re-harmonize")
    for old, new in zip(song.tracks, c.preview.tracks):
        outside = [n.key() for n in old.notes if not 2 * BAR <= n.start < 4 * BAR]
        assert [n.key() for n in new.notes if not 2 * BAR <= n.start < 4 * BAR] == outside
    assert c.preview.tracks[0].same_content(soprano)
    assert any(n.start >= 2 * BAR for n in c.preview.tracks[2].notes)


@pytest.mark.parametrize("name, track, program", [
    ("beethoven/symphony_7_2_singletrack.mid", 0, 73),  # a flute melody, 2/4
])
def test_harmonize_a_real_midi_melody(name, track, program):
    song = read_shared(name)
    melody = song.tracks[track]
    assert melody.program == program
    start = min(n.start for n in melody.notes)
    c = harmonize(song, melody.id, time_range=(start, start + 8 * 960))[0]
    new = [c.preview.track(i) for i in c.new_track_ids]
    assert [t.program for t in new] == [71, 71, 70]  # woodwinds under a flute
    assert all(t.notes for t in new)
    assert all(start <= n.start < start + 8 * 960 for t in new for n in t.notes)
    assert len(c.preview.tracks) == len(song.tracks) + 3


def test_harmonizing_with_only_the_voice_by_voice_pass_still_decodes():
    loaded = load("cnn-harmonizer")
    a = chorale(5, 2)
    free = np.zeros(a.shape, bool)
    free[:, 1:] = True
    out = write_voices(loaded, a, free, SamplingOptions(), seed=0,
                       settings=GibbsSettings(steps=0))
    np.testing.assert_array_equal(out[:, 0], a[:, 0])
    assert (out[a[:, 0] >= 0, 1:] >= 0).all()

