"""Which line of a multi-track song a melody model learns: voices="melody" takes the track named
Melody (POP909's MELODY), not the top line of melody, bridge and piano together."""

import numpy as np

from studio.data.pop909 import pop909_song
from studio.ml.melody_tokens import song_melodies
from studio.music.tokens import track_to_tokens


def test_melody_voice_is_the_melody_track():
    song = pop909_song(30).song()
    (melody,) = song_melodies(song, "melody")
    np.testing.assert_array_equal(melody, track_to_tokens(song.tracks[0]))
    (top,) = song_melodies(song, "soprano")
    assert (top[:len(melody)] != melody).mean() > 0.2  # the top line of all tracks differs
    assert len(song_melodies(song, "all")) == 3
    song.tracks[0].name = "Vocals"  # no track named Melody: the top line, as "soprano"
    np.testing.assert_array_equal(song_melodies(song, "melody")[0], top)


def test_a_melody_track_named_otherwise_is_learned_when_named():
    """A musician's melody track called "Lead Vocal": the recurrent family's melody track
    setting names it, and the training melodies are that track, not the top line."""
    from studio.data import Dataset, Piece
    from studio.ml.families.recurrent import Recurrent, RecurrentConfig

    song = pop909_song(30).song()
    song.tracks[0].name = "Lead Vocal"
    data = Dataset("mine", [Piece("song", "train", loader=lambda: song)])
    lead = track_to_tokens(song.tracks[0])
    (top,) = song_melodies(song, "soprano")
    for track, expected in (("Lead Vocal", lead), ("lead", lead), ("Melody", top)):
        fam = Recurrent(RecurrentConfig(voices="melody", melody_track=track))
        (learned,), _ = fam.baseline_sequences(data, "train")
        np.testing.assert_array_equal(learned, expected)


def test_the_pop_melody_model_continues_a_pop_melody():
    from studio.ml.family import SamplingOptions
    from studio.ml.generation import GenerationRequest, generate
    from studio.ml.generation import material as mat

    song = pop909_song(40).song()
    melody = song.tracks[0]
    point = mat.bar_start(song, sorted(n.start for n in melody.notes)[40])
    c = generate(GenerationRequest("continue", "pop-lstm", song, (melody.id,), bars=2,
                                   playhead=point, options=SamplingOptions(seed=4)))[0]
    old = {n.id for n in melody.notes}
    new = [n for n in c.preview.tracks[0].notes if n.id not in old]
    assert new and point <= min(n.start for n in new) and max(n.start for n in new) < point + 3840
    assert all(40 <= n.pitch <= 96 for n in new)
