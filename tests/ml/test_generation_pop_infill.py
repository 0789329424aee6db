"""The pop-infill mode and melodies over chords, with the shipped pop-lstm and pop accompanist on
real POP909 test songs: every note outside the bars and every track not chosen kept, new notes
inside the bars; melodies that follow given chords; bad input refused with a clear message and
the song untouched; `studio generate` end to end on a real file."""

from __future__ import annotations

import numpy as np
import pytest

from studio.cli import main
from studio.commands.generate import bar_tick
from studio.data.pop909 import pop909_song
from studio.midi import read_song, write_song
from studio.ml.errors import GenerationError
from studio.ml.family import SamplingOptions
from studio.ml.generation import GenerationRequest, generate
from studio.ml.generation import chord_melody as cm
from studio.ml.generation.pop_infill import track_roles
from studio.music.chords import parse_progression
from studio.music.song import Note, Song
from studio.music.tokens import tokens_to_pitches, track_to_tokens
from tests.ml.generation_testing import snapshot

MODEL = "pop-lstm"
SONG = 20  # a test song: 2/4 pickup bar, then 4/4; melody, bridge and piano


def song_and_bars(first: int = 20, last: int = 23) -> tuple[Song, int, int]:
    song = pop909_song(SONG).song()
    return song, bar_tick(song, first), bar_tick(song, last + 1)


def outside(track, a: int, b: int) -> list:
    return sorted((n.id, *n.key()) for n in track.notes if not a <= n.start < b)


def test_infill_keeps_every_note_outside_the_bars_and_every_track_not_chosen():
    song, a, b = song_and_bars()
    roles = track_roles(song)
    assert [roles[r].name for r in ("melody", "bridge", "piano")] == ["MELODY", "BRIDGE",
                                                                        "PIANO"]
    before = snapshot(song)
    chosen = (roles["melody"].id, roles["piano"].id)
    out = generate(GenerationRequest("pop-infill", MODEL, song, chosen, (a, b),
                                     options=SamplingOptions(seed=4, count=2)))
    assert snapshot(song) == before and len(out) == 2
    assert out[0].description.startswith("Pop infill, bars 20-23: new melody")
    for c in out:
        for old, new in zip(song.tracks, c.preview.tracks):
            if old.id in chosen:
                assert outside(new, a, b) == outside(old, a, b)
                fresh = [n for n in new.notes if a <= n.start < b]
                assert fresh and all(n.end <= b for n in fresh), "new notes stay in the bars"
                assert {n.id for n in fresh}.isdisjoint({n.id for n in old.notes})
            else:  # the bridge: not chosen, not touched
                assert sorted(n.key() for n in new.notes) == sorted(n.key() for n in old.notes)
        melody = sorted((n for n in c.preview.tracks[0].notes if a <= n.start < b),
                        key=lambda n: n.start)
        assert all(x.end <= y.start for x, y in zip(melody, melody[1:])), "one line"
        assert 2 <= len(melody) <= 64
        piano = [n for n in c.preview.tracks[2].notes if a <= n.start < b]
        assert 8 <= len(piano) <= 160
    assert [n.key() for n in out[0].preview.tracks[0].notes] != \
        [n.key() for n in out[1].preview.tracks[0].notes], "variations differ"


def test_the_bridge_alone_and_notes_ringing_in_from_before_are_kept():
    song, a, b = song_and_bars(30, 33)
    roles = track_roles(song)
    bridge = roles["bridge"]
    # a melody note struck before the bars and ringing into them stays as it is
    last = max((n for n in roles["melody"].notes if n.start < a), key=lambda n: n.start)
    last.duration = a - last.start + 240
    c = generate(GenerationRequest("pop-infill", MODEL, song, (bridge.id, roles["melody"].id),
                                   (a, b), options=SamplingOptions(seed=2)))[0]
    new_melody = c.preview.track(roles["melody"].id)
    kept = next(n for n in new_melody.notes if n.id == last.id)
    assert kept.key() == last.key()
    assert min(n.start for n in new_melody.notes if a <= n.start < b) >= last.end
    new_bridge = c.preview.track(bridge.id)
    assert outside(new_bridge, a, b) == outside(bridge, a, b)
    assert all(a <= n.start and n.end <= b for n in new_bridge.notes
               if n.id not in {x.id for x in bridge.notes})
    assert c.preview.track(roles["piano"].id).notes == roles["piano"].notes


def _beat_share(tokens_rows, chords, spb=16, offset=0) -> float:
    beats = tones = 0
    for row in tokens_rows:
        p = tokens_to_pitches(np.asarray(row))
        n, t, _ = cm.beat_stats(p, chords, (np.arange(len(p)) + offset) % spb)
        beats, tones = beats + n, tones + t
    return tones / max(1, beats)


def test_melody_and_continuation_over_chords_have_more_chord_tones():
    text = "| C | G | Am | F |"
    chords = [c for bar in parse_progression(text) for c in [bar[0]] * 16] * 2
    shares = {}
    for given in (None, text):
        out = generate(GenerationRequest("melody", MODEL, bars=8, chords=given,
                                         options=SamplingOptions(seed=11, count=6)))
        rows = [track_to_tokens(c.preview.tracks[-1], 120, steps=128) for c in out]
        shares[given] = _beat_share(rows, chords)
    assert shares[text] > shares[None] + 0.2, shares
    assert "over the chords | C | G | Am | F |" in out[0].description

    song, a, _ = song_and_bars()
    melody = track_roles(song)["melody"]
    got = {}
    for given in (None, text):
        out = generate(GenerationRequest("continue", MODEL, song, (melody.id,), (0, a), bars=4,
                                         chords=given, options=SamplingOptions(seed=5, count=4)))
        rows = []
        for c in out:
            track = c.preview.track(melody.id)
            rows.append(track_to_tokens(track, 120, start=a, steps=64))
        got[given] = _beat_share(rows, chords[:64])
    assert got[text] > got[None], got


def refused(song: Song, mode: str, ids, *words: str, **kw) -> None:
    before = snapshot(song)
    with pytest.raises(GenerationError) as info:
        generate(GenerationRequest(mode, MODEL, song, tuple(ids), **kw))
    assert snapshot(song) == before
    for w in words:
        assert w in str(info.value), str(info.value)


def test_bad_input_is_refused_with_the_reason_and_the_song_untouched():
    song, a, b = song_and_bars()
    roles = track_roles(song)
    ids = [t.id for t in roles.values()]
    refused(song, "pop-infill", ids, "pickup bar", time_range=(0, 960))
    refused(song, "pop-infill", ids, "'H7'", "bar 2", time_range=(a, b),
            chords="| C | H7 | Am |")
    refused(song, "melody", [], "'Xm'", "bar 1", chords="Xm G")
    refused(song, "continue", [roles["melody"].id], "'C#q'", chords="| C G | C#q |")
    refused(song, "pop-infill", ids, "time range")
    # a melody that holds chords is no melody
    chordal = song.copy()
    m = track_roles(chordal)["melody"]
    m.notes += [Note(n.pitch - 4, n.start, n.duration) for n in list(m.notes)]
    refused(chordal, "pop-infill", [m.id], "is not a melody", time_range=(a, b))
    # a drum track is not regenerated
    drums = song.copy()
    drums.tracks[1].is_drum = True
    refused(drums, "pop-infill", [drums.tracks[1].id], "drum track", time_range=(a, b))
    refused(song, "harmonize", [roles["melody"].id], "chords are followed only", chords="C")


def test_studio_generate_pop_infill_and_continue_over_chords(tmp_path, capsys):
    song = pop909_song(SONG).song()
    source = tmp_path / "song.mid"
    write_song(song, source)
    before = read_song(source)
    out = tmp_path / "new.mid"
    assert main(["generate", "pop-infill", str(source), "-o", str(out), "--from-bar", "20",
                 "--to-bar", "23", "--track", "1", "--track", "3", "--seed", "1"]) == 0
    assert "Pop infill, bars 20-23" in capsys.readouterr().out
    after = read_song(out)
    a, b = bar_tick(before, 20), bar_tick(before, 24)
    for old, new in zip(before.tracks, after.tracks):
        keep = (lambda n: True) if old.name == "BRIDGE" else (lambda n: not a <= n.start < b)
        assert sorted(n.key() for n in old.notes if keep(n)) == \
            sorted(n.key() for n in new.notes if keep(n))
    assert main(["generate", "continue", str(source), "-o", str(tmp_path / "more.mid"),
                 "--track", "1", "--to-bar", "19", "--bars", "2", "--chords", "| C | G |",
                 "--seed", "1"]) == 0
    assert "over the chords | C | G |" in capsys.readouterr().out
    assert main(["generate", "pop-infill", str(source), "-o", str(out), "--from-bar", "20",
                 "--to-bar", "21", "--chords", "C Q"]) != 0
    err = capsys.readouterr().err
    assert "'Q'" in err and "bar 2" in err and err.count("\n") == 1


def test_fills_ranked_by_the_bars_after_lead_into_them_better_than_one_draw():
    from studio.ml.generation import models
    from studio.ml.generation import pop_infill as pi

    loaded = models.load(MODEL)
    one, best = [], []
    for number in (20, 30, 40, 50):
        song = pop909_song(number).song()
        melody = track_roles(song)["melody"]
        first, last = min(n.start for n in melody.notes), max(n.end for n in melody.notes)
        a = bar_tick(song, 1 + (first + last) // 2 // 1920)
        b = a + 4 * 1920
        line = pi._line(loaded, melody, a - 8 * 1920, a, b, b + 4 * 1920)
        ra, rb = line.gap
        for tries, out in ((1, one), (32, best)):
            gap, _ = pi.fill_line(loaded, line, None, SamplingOptions(), number, 16, tries)
            tokens = line.tokens.copy()
            tokens[ra:rb] = gap
            out.append(cm.log_likelihood(loaded, pi._shift(tokens, line.shift)[None], rb,
                                         len(tokens))[0])
    assert np.mean(best) > np.mean(one) + 2.0, (best, one)  # nats over the 4 bars after


def test_the_chord_lane_is_followed_without_chord_text():
    """Chords typed in the piano roll's chord lane (no chord text): a continuation follows them
    (more chord tones on its beats than with the lane empty), and pop infill's piano plays
    them rather than the chords the song's own piano spells there."""
    from studio.music.chords import recognise_chord
    from studio.music.song import ChordSymbol

    text = "| C | G | Am | F |"
    bars = parse_progression(text)
    song, a, b = song_and_bars()
    bar = (b - a) // 4
    melody = track_roles(song)["melody"]
    chords16 = [c for chord in bars for c in [chord[0]] * 16]
    shares = {}
    for lane in (False, True):
        song.chords = [ChordSymbol(a + i * bar, c[0]) for i, c in enumerate(bars)] if lane else []
        out = generate(GenerationRequest("continue", MODEL, song, (melody.id,), (0, a), bars=4,
                                         options=SamplingOptions(seed=5, count=4)))
        rows = [track_to_tokens(c.preview.track(melody.id), 120, start=a, steps=64) for c in out]
        shares[lane] = _beat_share(rows, chords16)
    assert shares[True] > shares[False] + 0.1, shares
    assert "over the chord lane's chords" in out[0].description

    piano = track_roles(song)["piano"]
    [c] = generate(GenerationRequest("pop-infill", MODEL, song, (piano.id,), (a, b),
                                     options=SamplingOptions(seed=2)))
    assert "chord lane" in c.description
    new = c.preview.track(piano.id)
    agree = []
    for beat in range(16):
        t0 = a + beat * bar // 4
        sounding = [n for n in new.notes if n.start < t0 + bar // 4 and n.end > t0]
        got = None
        if sounding:
            weights = np.bincount([n.pitch % 12 for n in sounding], minlength=12)
            got = recognise_chord(weights, min(n.pitch for n in sounding) % 12)
        want = bars[beat // 4][0]
        agree.append(got is not None and got.root == want.root)
    assert np.mean(agree) > 0.6, agree


def test_a_new_pop_melody_starts_within_its_first_bars():
    """pop-lstm learned songs from their first bar, intros without melody included: a new
    melody is drawn longer and starts at the bar of its first note, so it is never all rests
    (it was for 13 of these 24 seeds) and begins at once; over chords it starts on a note."""
    starts = []
    for seed in range(1, 25):
        c = generate(GenerationRequest("melody", MODEL, bars=8,
                                       options=SamplingOptions(seed=seed)))[0]
        notes = c.preview.tracks[-1].notes
        assert notes and all(n.start < 8 * 1920 for n in notes)
        starts.append(min(n.start for n in notes))
    assert np.median(starts) < 1920 and max(starts) < 4 * 1920
    for seed in range(1, 13):  # over chords (12 of 24 were all rests): on a note at once
        c = generate(GenerationRequest("melody", MODEL, bars=8, chords="C G Am F",
                                       options=SamplingOptions(seed=seed)))[0]
        assert min(n.start for n in c.preview.tracks[-1].notes) == 0
    from studio.ml.generation.melody_tasks import from_first_bar
    from studio.music.tokens import HOLD, REST

    tokens = np.array([REST] * 40 + [60, HOLD, 62] + [REST] * 20)
    assert from_first_bar(tokens, 16, 16).tolist() == tokens[32:48].tolist()
    assert from_first_bar(np.array([REST] * 48), 16, 16).tolist() == [REST] * 16
    assert from_first_bar(tokens, 16, 48).tolist() == tokens[15:63].tolist()  # 48 must remain


def _figures(notes, song, tol: int = 10) -> set:
    """(onset within its bar, length) of notes, to `tol` ticks."""
    from studio.ml.generation.material import bar_start

    return {((n.start - bar_start(song, n.start)) // tol, n.duration // tol) for n in notes}


def test_the_infill_piano_plays_the_songs_own_pianist_or_the_network_as_asked():
    song, a, b = song_and_bars()
    piano = track_roles(song)["piano"]
    own = _figures([n for n in piano.notes if not a <= n.start < b], song)

    def fill(s, texture=None):
        c = generate(GenerationRequest("pop-infill", MODEL, s, (track_roles(s)["piano"].id,),
                                       (a, b), options=SamplingOptions(seed=5),
                                       texture=texture))[0]
        new = next(t for t in c.preview.tracks if t.id == track_roles(s)["piano"].id)
        return c.description, [n for n in new.notes if a <= n.start < b]

    said, notes = fill(song)
    assert "bars of the song's own piano part" in said and notes
    share = np.mean([f in own for f in _figures(notes, song)])
    said_model, network = fill(song, "model")
    assert "the network's own voicings" in said_model
    assert all(n.start % 120 == 0 for n in network)  # on the 16ths: not the pianist's timing
    share_model = np.mean([f in own for f in _figures(network, song)])
    assert share > 0.8 and share > share_model + 0.3  # the song's pianist's onsets and lengths
    bare = song.copy()  # a piano part only in the bars filled: the training songs' bars
    keep = track_roles(bare)["piano"]
    keep.notes = [n for n in keep.notes if a <= n.start < b]
    said, notes = fill(bare)
    assert "bars of the training songs" in said and notes
