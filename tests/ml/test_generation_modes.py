"""New melody, continue and infill on real material with the shipped models: constraints,
notes kept outside the edited stretch, one invertible edit, MIDI round trip."""

from __future__ import annotations

from studio.midi import read_song, write_song
from studio.ml.family import SamplingOptions
from studio.ml.generation import GenerationRequest, generate
from studio.music.keys import scale_pitch_classes
from studio.music.song import Song, TimeSignature
from tests.ml.generation_testing import BAR, chorale_song, melody_song, read_shared, snapshot


def only(request: GenerationRequest):
    out = generate(request)
    assert len(out) == request.options.count
    return out[0]


def test_new_melody_in_a_key_and_range_as_a_new_track(tmp_path):
    song = chorale_song(0, 4)
    before = snapshot(song)
    c = only(GenerationRequest("melody", "lstm-melody", song, bars=8, key=(2, True),
                               pitch_range=(62, 79), playhead=2 * BAR + 300,
                               options=SamplingOptions(seed=3, count=2)))
    assert snapshot(song) == before
    (track,) = [c.preview.track(i) for i in c.new_track_ids]
    assert track.name == "Melody" and track.notes
    scale = scale_pitch_classes(2, True)
    assert all(n.pitch % 12 in scale and 62 <= n.pitch <= 79 for n in track.notes)
    assert min(n.start for n in track.notes) >= 2 * BAR  # from the playhead's bar
    assert max(n.end for n in track.notes) <= 10 * BAR
    assert "D minor" in c.description
    inverse = c.edit.apply(song)
    assert song.same_content(c.preview)
    inverse.apply(song)
    assert snapshot(song) == before
    write_song(c.preview, tmp_path / "m.mid")
    back = read_song(tmp_path / "m.mid")
    assert sorted(n.key()[:3] for n in back.tracks[-1].notes) == \
        sorted(n.key()[:3] for n in track.notes)


def test_melody_in_three_four_uses_its_bars():
    song = Song(time_signatures=[TimeSignature(0, 3, 4)])
    c = only(GenerationRequest("melody", "lstm-melody", song, bars=4,
                               options=SamplingOptions(seed=2)))
    assert max(n.end for n in c.preview.tracks[0].notes) <= 4 * 1440


def test_continue_from_the_playhead_keeps_what_comes_before():
    song = melody_song(1, 8)
    track = song.tracks[0]
    point = 4 * BAR
    c = only(GenerationRequest("continue", "lstm-melody", song, (track.id,), bars=4,
                               playhead=point, options=SamplingOptions(seed=4)))
    new = c.preview.track(track.id)
    assert [n.key() for n in new.notes if n.start < point] == \
        [n.key() for n in track.notes if n.start < point]
    after = [n for n in new.notes if n.start >= point]
    assert after and all(n.start < 8 * BAR for n in after)
    replaced = [n for n in track.notes if n.start >= point]
    assert c.notes == {"added": len(after), "removed": len(replaced)}
    assert "replacing" in c.description and c.originality.notes == len(after)


def test_continue_a_real_piano_melody_in_two_four():
    song = read_shared("joplin/TheEntertainer.mid")
    right = song.tracks[0]
    end = 8 * 960
    c = only(GenerationRequest("continue", "lstm-melody", song, (right.id,), (0, end), bars=4,
                               options=SamplingOptions(seed=1)))
    new = [n for n in c.preview.track(right.id).notes if n.id not in {x.id for x in right.notes}]
    assert new and all(end <= n.start < end + 4 * 960 for n in new)
    assert c.description.startswith("Continues the track from bar 9 for 4 bars")


def test_continue_a_low_melody_is_heard_in_range_and_moved_back():
    song = melody_song(3, 4, transpose=-24)  # a bass-register tune
    c = only(GenerationRequest("continue", "lstm-melody", song, (song.tracks[0].id,), bars=4,
                               options=SamplingOptions(seed=5)))
    assert "2 octaves higher" in c.description
    new = [n.pitch for n in c.preview.tracks[0].notes if n.start >= 4 * BAR]
    assert new and max(new) < 64


def test_infill_regenerates_chosen_voices_and_keeps_everything_else():
    song = chorale_song(2, 8)
    alto, tenor = song.tracks[1], song.tracks[2]
    a, b = 3 * BAR, 5 * BAR
    c = only(GenerationRequest("infill", "cnn-harmonizer", song, (alto.id, tenor.id), (a, b),
                               options=SamplingOptions(seed=6)))
    for old, new in zip(song.tracks, c.preview.tracks):
        keep = sorted(n.key() for n in old.notes if not (a <= n.start < b))
        assert sorted(n.key() for n in new.notes if not (a <= n.start < b)) == keep
        if old.id not in (alto.id, tenor.id):
            assert old.same_content(new)
    for t in (alto, tenor):
        inside = [n for n in c.preview.track(t.id).notes if a <= n.start < b]
        assert inside and all(n.end <= b for n in inside)
    assert c.notes["removed"] == sum(1 for t in (alto, tenor) for n in t.notes if a <= n.start < b)


def test_infill_on_a_two_hand_piano_piece():
    song = read_shared("joplin/TheEntertainer.mid")
    left = song.tracks[1]
    a, b = 8 * 960, 12 * 960
    c = only(GenerationRequest("infill", "cnn-harmonizer", song, (left.id,), (a, b),
                               options=SamplingOptions(seed=2)))
    new_left = c.preview.track(left.id)
    assert [n.key() for n in new_left.notes if not a <= n.start < b] == \
        [n.key() for n in left.notes if not a <= n.start < b]
    assert any(a <= n.start < b for n in new_left.notes)
    assert c.preview.track(song.tracks[0].id).same_content(song.tracks[0])


def test_melody_variations_first_alone_then_the_rest_in_one_batch():
    events = []
    request = GenerationRequest("melody", "lstm-melody", Song(), bars=4,
                                options=SamplingOptions(seed=9, count=4))
    out = generate(request, on_candidate=lambda c: events.append(("candidate", c.index)),
                   progress=lambda f, text: events.append(("progress", text)))
    assert [c.index for c in out] == [0, 1, 2, 3]
    assert events.index(("candidate", 0)) < events.index(("progress", "writing variations 2-4"))
    tunes = {tuple(n.key() for n in c.preview.tracks[0].notes) for c in out}
    assert len(tunes) == 4
    again = generate(request)  # the same seed and count give the same four melodies
    assert [c.preview.same_content(d.preview) for c, d in zip(out, again)] == [True] * 4


def test_interpolate_between_two_melodies_with_the_shipped_vae(tmp_path):
    a, b = melody_song(5, 4), melody_song(6, 4, transpose=-2)
    song = a.copy()
    second = b.tracks[0].copy(keep_ids=False)
    second.name = "Second"
    song.tracks.append(second)
    song.tracks[0].name = "First"
    before = snapshot(song)
    out = generate(GenerationRequest("interpolate", "vae-melody", song,
                                     tuple(t.id for t in song.tracks), interpolation_steps=3,
                                     options=SamplingOptions(seed=1, count=3)))
    assert len(out) == 1 and snapshot(song) == before  # the morph is deterministic: one
    c = out[0]
    (track,) = [c.preview.track(i) for i in c.new_track_ids]
    start = 4 * BAR  # the next bar line after the song's end
    segment = 4 * BAR
    parts = [[(n.pitch, n.start - start - k * segment, n.duration) for n in track.notes
              if start + k * segment <= n.start < start + (k + 1) * segment] for k in range(5)]
    assert parts[0] == [(n.pitch, n.start, n.duration) for n in song.tracks[0].notes]
    assert parts[4] == [(n.pitch, n.start, n.duration) for n in second.notes]
    middle = [p for p in parts[1:4]]
    assert all(middle) and middle[0] != middle[2]
    assert "3 melodies between First and Second" in c.description
    assert c.originality.notes == sum(len(p) for p in middle)
    write_song(c.preview, tmp_path / "morph.mid")
    assert len(read_song(tmp_path / "morph.mid").tracks) == 3
